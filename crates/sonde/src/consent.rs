//! The user's standing answer to "send an error report?": ask each time
//! (the default), `always` or `never`, saved per tool.
//!
//! It is saved where the user's telemetry setting is: in the host's JSON
//! config file, under `"error_reports": "always"` or `"never"` (other keys
//! kept; `ask` removes the key), as `<tool> telemetry enable` saves
//! `"enable_telemetry"`. A host without a config file keeps it in the state
//! directory, in `error-reports-setting`. The machine's policy and every
//! opt-out still win: `always` sends only while telemetry is `on`.

use std::fmt;
use std::path::PathBuf;

use serde_json::Value;

use crate::config_file;
use crate::error::Error;
use crate::layout;
use crate::mode::HostSettings;
use crate::state::{self, StateDir};

/// The key in the host's config file.
pub const ERROR_REPORTS_KEY: &str = "error_reports";

/// What happens to an error report without asking, per tool.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ErrorReports {
    /// Ask on an interactive terminal; elsewhere keep the report on this
    /// machine only.
    #[default]
    Ask,
    /// Send every report without asking (while telemetry is `on`).
    Always,
    /// Never send or ask; keep the report on this machine only.
    Never,
}

impl ErrorReports {
    /// `ask`, `always` or `never`.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorReports::Ask => "ask",
            ErrorReports::Always => "always",
            ErrorReports::Never => "never",
        }
    }

    /// Parses `ask`, `always` or `never` (any case, surrounding spaces ignored).
    ///
    /// ```
    /// use sonde::ErrorReports;
    /// assert_eq!(ErrorReports::parse(" Always"), Some(ErrorReports::Always));
    /// assert_eq!(ErrorReports::parse("sometimes"), None);
    /// ```
    pub fn parse(value: &str) -> Option<Self> {
        match value.trim().to_ascii_lowercase().as_str() {
            "ask" => Some(ErrorReports::Ask),
            "always" => Some(ErrorReports::Always),
            "never" => Some(ErrorReports::Never),
            _ => None,
        }
    }
}

impl fmt::Display for ErrorReports {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The saved setting; `Ask` when none is saved or it cannot be read.
pub(crate) fn load(host: &HostSettings, state: Option<&StateDir>) -> ErrorReports {
    let saved = match &host.config_file {
        Some(path) => state::read_json_file::<Value>(path)
            .and_then(|v| v.get(ERROR_REPORTS_KEY)?.as_str().and_then(ErrorReports::parse)),
        None => state
            .and_then(|s| s.read_text(layout::ERROR_REPORTS_SETTING))
            .and_then(|t| ErrorReports::parse(&t)),
    };
    saved.unwrap_or_default()
}

/// Saves `setting`; returns the file it is saved in.
pub(crate) fn save(host: &HostSettings, state: Option<&StateDir>, setting: ErrorReports) -> Result<PathBuf, Error> {
    let value = match setting {
        ErrorReports::Ask => None,
        other => Some(Value::from(other.as_str())),
    };
    if let Some(path) = &host.config_file {
        config_file::set_value(path, ERROR_REPORTS_KEY, value)?;
        return Ok(path.clone());
    }
    let state = state.ok_or(Error::NoStateDir)?;
    let path = state.path(layout::ERROR_REPORTS_SETTING);
    let io = |source| Error::Io {
        path: path.clone(),
        source,
    };
    std::fs::create_dir_all(state.root()).map_err(io)?;
    match value {
        Some(_) => state::atomic_write(&path, setting.as_str().as_bytes()).map_err(io)?,
        None => match std::fs::remove_file(&path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(io(e)),
            _ => {}
        },
    }
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saved_in_the_config_file_beside_other_keys_or_in_the_state_dir() {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("config.json");
        std::fs::write(&config, r#"{"enable_telemetry": true}"#).unwrap();
        let host = HostSettings {
            config_file: Some(config.clone()),
            ..HostSettings::default()
        };
        assert_eq!(load(&host, None), ErrorReports::Ask);
        assert_eq!(save(&host, None, ErrorReports::Always).unwrap(), config);
        assert_eq!(load(&host, None), ErrorReports::Always);
        let v: Value = serde_json::from_slice(&std::fs::read(&config).unwrap()).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"enable_telemetry": true, "error_reports": "always"})
        );
        save(&host, None, ErrorReports::Ask).unwrap();
        let v: Value = serde_json::from_slice(&std::fs::read(&config).unwrap()).unwrap();
        assert_eq!(v, serde_json::json!({"enable_telemetry": true}));

        let state = StateDir::new(dir.path().join("state"));
        let bare = HostSettings::default();
        assert!(matches!(save(&bare, None, ErrorReports::Never), Err(Error::NoStateDir)));
        save(&bare, Some(&state), ErrorReports::Never).unwrap();
        assert_eq!(load(&bare, Some(&state)), ErrorReports::Never);
        save(&bare, Some(&state), ErrorReports::Ask).unwrap();
        assert_eq!(load(&bare, Some(&state)), ErrorReports::Ask);
    }
}
