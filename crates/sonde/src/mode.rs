//! Deciding whether telemetry runs: the opt-out sources in their order of
//! precedence, checked before any file is created or any process started.
//!
//! 1. the machine's policy file (`/etc/sonde/policy.json`, or the file named
//!    by `SONDE_POLICY_FILE`), which can force `off` or `local`;
//! 2. the host tool's flag, passed in by the host (`--no-telemetry`);
//! 3. `DO_NOT_TRACK=1`;
//! 4. `CHECKPOINT_DISABLE`, any non-empty value (as both checkpoint clients do);
//! 5. the host's own variable (`MYTOOL_TELEMETRY=0|false|off|local|on`);
//! 6. the user's saved setting in the host's JSON config (`"enable_telemetry": false`);
//! 7. the default (`on` unless the host chose otherwise).
//!
//! Resolving only reads: environment variables and at most two small files.

use std::fmt;
use std::path::{Path, PathBuf};

/// Environment variable naming the policy file (tests and unusual installs).
pub const POLICY_FILE_ENV: &str = "SONDE_POLICY_FILE";
/// Where the machine-wide policy file lives unless [`POLICY_FILE_ENV`] says otherwise.
pub const DEFAULT_POLICY_FILE: &str = "/etc/sonde/policy.json";

/// What telemetry does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Pings are sent (through the spool and the detached uploader).
    On,
    /// Pings are recorded in the local ledger and never sent.
    Local,
    /// Nothing runs: no file, no process, no network.
    Off,
}

impl Mode {
    /// `on`, `local` or `off`.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::On => "on",
            Mode::Local => "local",
            Mode::Off => "off",
        }
    }

    /// Parses the values users write in variables and config files:
    /// `0|false|off|no|disable|disabled`, `1|true|on|yes|enable|enabled`, `local`.
    pub fn parse_loose(value: &str) -> Option<Mode> {
        match value.trim().to_ascii_lowercase().as_str() {
            "0" | "false" | "off" | "no" | "disable" | "disabled" => Some(Mode::Off),
            "1" | "true" | "on" | "yes" | "enable" | "enabled" => Some(Mode::On),
            "local" => Some(Mode::Local),
            _ => None,
        }
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which setting decided the [`Mode`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// The machine's policy file.
    Policy(PathBuf),
    /// A policy file that exists but could not be read or parsed: telemetry is
    /// off, since the administrator's intent cannot be known.
    UnreadablePolicy(PathBuf),
    /// The host tool's command-line flag.
    HostFlag,
    /// `DO_NOT_TRACK=1`.
    DoNotTrack,
    /// `CHECKPOINT_DISABLE` set to a non-empty value.
    CheckpointDisable,
    /// The host's own environment variable, with its value.
    HostEnv {
        /// The variable's name.
        name: String,
        /// Its value.
        value: String,
    },
    /// The user's saved setting in the host's JSON config.
    UserConfig(PathBuf),
    /// The host's JSON config exists but is not valid JSON: telemetry is off
    /// for the run and the file is left untouched.
    UnreadableUserConfig(PathBuf),
    /// Nothing was set; the host's default applies.
    Default,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Policy(p) => write!(f, "the machine's policy file {}", p.display()),
            Source::UnreadablePolicy(p) => {
                write!(
                    f,
                    "the machine's policy file {}, which exists but cannot be read or parsed",
                    p.display()
                )
            }
            Source::HostFlag => f.write_str("the command-line flag"),
            Source::DoNotTrack => f.write_str("DO_NOT_TRACK=1 in the environment"),
            Source::CheckpointDisable => f.write_str("CHECKPOINT_DISABLE in the environment"),
            Source::HostEnv { name, value } => write!(f, "{name}={value} in the environment"),
            Source::UserConfig(p) => write!(f, "the saved setting in {}", p.display()),
            Source::UnreadableUserConfig(p) => {
                write!(f, "the config file {}, which is not valid JSON", p.display())
            }
            Source::Default => f.write_str("the default (nothing else was set)"),
        }
    }
}

/// The outcome of resolving the opt-outs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// What telemetry does this run.
    pub mode: Mode,
    /// Which setting decided it.
    pub source: Source,
}

/// The inputs of a decision that come from the host.
#[derive(Debug, Clone, Default)]
pub(crate) struct HostSettings {
    pub(crate) flag: Option<Mode>,
    pub(crate) env_var: Option<String>,
    pub(crate) config_file: Option<PathBuf>,
    pub(crate) config_key: String,
    pub(crate) default_mode: Option<Mode>,
}

/// Resolves the mode, reading the environment through `env`.
pub(crate) fn resolve(host: &HostSettings, env: &dyn Fn(&str) -> Option<String>) -> Decision {
    let decided = |mode, source| Decision { mode, source };

    // 1. Policy file: forces off or local; "on" (or no key) leaves the choice to the user.
    let policy_path = env(POLICY_FILE_ENV)
        .filter(|p| !p.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(DEFAULT_POLICY_FILE));
    match read_policy(&policy_path) {
        PolicyRead::Missing => {}
        PolicyRead::Unreadable => return decided(Mode::Off, Source::UnreadablePolicy(policy_path)),
        PolicyRead::Mode(Mode::On) => {}
        PolicyRead::Mode(mode) => return decided(mode, Source::Policy(policy_path)),
    }

    // 2. The host's flag.
    if let Some(mode) = host.flag {
        return decided(mode, Source::HostFlag);
    }

    // 3. DO_NOT_TRACK=1 (also "true"/"yes").
    if env("DO_NOT_TRACK").is_some_and(|v| matches!(Mode::parse_loose(&v), Some(Mode::On))) {
        return decided(Mode::Off, Source::DoNotTrack);
    }

    // 4. CHECKPOINT_DISABLE: any non-empty value, even "0".
    if env("CHECKPOINT_DISABLE").is_some_and(|v| !v.is_empty()) {
        return decided(Mode::Off, Source::CheckpointDisable);
    }

    // 5. The host's variable. An unrecognised non-empty value means off: the
    //    user clearly meant something, and off is the safe reading.
    if let Some(name) = &host.env_var {
        if let Some(value) = env(name).filter(|v| !v.trim().is_empty()) {
            let mode = Mode::parse_loose(&value).unwrap_or(Mode::Off);
            return decided(
                mode,
                Source::HostEnv {
                    name: name.clone(),
                    value,
                },
            );
        }
    }

    // 6. The user's saved setting.
    if let Some(path) = &host.config_file {
        match read_user_setting(path, &host.config_key) {
            UserSetting::Missing => {}
            UserSetting::Unreadable => return decided(Mode::Off, Source::UnreadableUserConfig(path.clone())),
            UserSetting::Mode(mode) => return decided(mode, Source::UserConfig(path.clone())),
        }
    }

    // 7. The default.
    decided(host.default_mode.unwrap_or(Mode::On), Source::Default)
}

enum PolicyRead {
    Missing,
    Unreadable,
    Mode(Mode),
}

fn read_policy(path: &Path) -> PolicyRead {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return PolicyRead::Missing,
        Err(_) => return PolicyRead::Unreadable,
    };
    // The shape: `{"telemetry": "off"}` or `{"telemetry": "local"}`. Anything
    // else that is not that object with a string (or null) is unreadable.
    let Ok(serde_json::Value::Object(policy)) = serde_json::from_slice::<serde_json::Value>(&bytes) else {
        return PolicyRead::Unreadable;
    };
    let value = match policy.get("telemetry") {
        None | Some(serde_json::Value::Null) => return PolicyRead::Missing,
        Some(serde_json::Value::String(s)) => s.trim(),
        Some(_) => return PolicyRead::Unreadable,
    };
    match value {
        "" => PolicyRead::Missing,
        v => PolicyRead::Mode(Mode::parse_loose(v).unwrap_or(Mode::Off)),
    }
}

enum UserSetting {
    Missing,
    Unreadable,
    Mode(Mode),
}

fn read_user_setting(path: &Path, key: &str) -> UserSetting {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return UserSetting::Missing,
        Err(_) => return UserSetting::Unreadable,
    };
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(&bytes) else {
        return UserSetting::Unreadable;
    };
    match value.get(key) {
        None | Some(serde_json::Value::Null) => UserSetting::Missing,
        Some(serde_json::Value::Bool(true)) => UserSetting::Mode(Mode::On),
        Some(serde_json::Value::Bool(false)) => UserSetting::Mode(Mode::Off),
        Some(serde_json::Value::String(s)) => UserSetting::Mode(Mode::parse_loose(s).unwrap_or(Mode::Off)),
        Some(_) => UserSetting::Mode(Mode::Off),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn run(host: &HostSettings, vars: &[(&str, &str)]) -> Decision {
        let map: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        resolve(host, &|k| map.get(k).cloned())
    }

    #[test]
    fn precedence_follows_the_documented_order() {
        let dir = tempfile::tempdir().unwrap();
        let policy = dir.path().join("policy.json");
        let config = dir.path().join("config.json");
        let pol = policy.to_str().unwrap();
        std::fs::write(&config, r#"{"enable_telemetry": true, "other": 1}"#).unwrap();
        let mut host = HostSettings {
            env_var: Some("MYTOOL_TELEMETRY".into()),
            config_file: Some(config.clone()),
            config_key: "enable_telemetry".into(),
            ..HostSettings::default()
        };
        let none = [("SONDE_POLICY_FILE", pol)];
        assert_eq!(run(&host, &none).source, Source::UserConfig(config.clone()));
        assert_eq!(run(&host, &[none[0], ("MYTOOL_TELEMETRY", "false")]).mode, Mode::Off);
        assert_eq!(run(&host, &[none[0], ("MYTOOL_TELEMETRY", "local")]).mode, Mode::Local);
        assert_eq!(run(&host, &[none[0], ("MYTOOL_TELEMETRY", "bogus")]).mode, Mode::Off);
        assert_eq!(
            run(&host, &[none[0], ("CHECKPOINT_DISABLE", "0")]).source,
            Source::CheckpointDisable
        );
        assert_eq!(run(&host, &[none[0], ("CHECKPOINT_DISABLE", "")]).mode, Mode::On);
        assert_eq!(run(&host, &[none[0], ("DO_NOT_TRACK", "1")]).source, Source::DoNotTrack);
        assert_eq!(run(&host, &[none[0], ("DO_NOT_TRACK", "0")]).mode, Mode::On);
        host.flag = Some(Mode::Off);
        assert_eq!(run(&host, &none).source, Source::HostFlag);
        std::fs::write(&policy, r#"{"telemetry": "local"}"#).unwrap();
        host.flag = Some(Mode::On);
        assert_eq!(
            run(&host, &none),
            Decision {
                mode: Mode::Local,
                source: Source::Policy(policy.clone())
            }
        );
        std::fs::write(&policy, "not json").unwrap();
        assert_eq!(run(&host, &none).source, Source::UnreadablePolicy(policy.clone()));
        std::fs::write(&policy, r#"{"telemetry": "on"}"#).unwrap();
        assert_eq!(run(&host, &none).source, Source::HostFlag);
    }

    #[test]
    fn a_corrupt_user_config_turns_telemetry_off() {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("config.json");
        std::fs::write(&config, "{").unwrap();
        let host = HostSettings {
            config_file: Some(config.clone()),
            config_key: "enable_telemetry".into(),
            ..HostSettings::default()
        };
        let pol = dir.path().join("none.json");
        let d = run(&host, &[("SONDE_POLICY_FILE", pol.to_str().unwrap())]);
        assert_eq!(
            d,
            Decision {
                mode: Mode::Off,
                source: Source::UnreadableUserConfig(config)
            }
        );
    }
}
