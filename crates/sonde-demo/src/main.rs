//! `sonde-demo`: an example CLI that embeds the sonde client library the way a
//! real tool would, and that the client's tests drive as a real process.
//!
//! ```text
//! sonde-demo [--no-telemetry]              do the "work" (prints a line on stdout)
//! sonde-demo telemetry status|enable|disable|log
//! sonde-demo linger                       a long-lived host: runs, prints "ready", waits for stdin to close
//! sonde-demo build|deploy [flags and arguments]   records a command event (flag names only; --fail exits 1)
//! ```
//!
//! Settings a tool would hard-code come from the environment here, so tests and
//! the benchmark can point it anywhere:
//!
//! | variable | default |
//! | --- | --- |
//! | `SONDE_DEMO_ENDPOINT` | `http://127.0.0.1:7070` |
//! | `SONDE_DEMO_INTERVAL_SECS` | 43200 (12 h) |
//! | `SONDE_DEMO_TIMEOUT_MS` | 3000 to connect, 3× that in total |
//! | `SONDE_DEMO_RETRY_SECS` | 60: first backoff after a failed upload |
//! | `SONDE_DEMO_CONSENT_VERSION` | 1 |
//! | `SONDE_DEMO_CONFIG` | `$XDG_CONFIG_HOME/sonde-demo/config.json` |
//! | `SONDE_DEMO_VERSION` | the crate's version |
//!
//! The tool's own opt-out variable is `SONDE_DEMO_TELEMETRY`.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

fn env_u64(name: &str) -> Option<u64> {
    std::env::var(name).ok()?.trim().parse().ok()
}

fn config_file() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("SONDE_DEMO_CONFIG") {
        return Some(PathBuf::from(p));
    }
    use etcetera::BaseStrategy;
    Some(
        etcetera::choose_base_strategy()
            .ok()?
            .config_dir()
            .join("sonde-demo")
            .join("config.json"),
    )
}

fn telemetry(no_telemetry: bool) -> Result<sonde::Telemetry, sonde::Error> {
    let version = std::env::var("SONDE_DEMO_VERSION").unwrap_or_else(|_| env!("CARGO_PKG_VERSION").to_owned());
    let timeout = Duration::from_millis(env_u64("SONDE_DEMO_TIMEOUT_MS").unwrap_or(3000));
    let mut builder = sonde::Telemetry::builder("sonde-demo", version)
        .endpoint(std::env::var("SONDE_DEMO_ENDPOINT").unwrap_or_else(|_| "http://127.0.0.1:7070".into()))
        .env_var("SONDE_DEMO_TELEMETRY")
        .flag(no_telemetry.then_some(false))
        .consent_version(env_u64("SONDE_DEMO_CONSENT_VERSION").unwrap_or(1) as u32)
        .interval(Duration::from_secs(
            env_u64("SONDE_DEMO_INTERVAL_SECS").unwrap_or(12 * 3600),
        ))
        .timeouts(timeout, timeout * 3)
        .retry_backoff(Duration::from_secs(env_u64("SONDE_DEMO_RETRY_SECS").unwrap_or(60)));
    if let Some(path) = config_file() {
        builder = builder.config_file(path);
    }
    builder.build()
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let no_telemetry = args.iter().any(|a| a == "--no-telemetry");
    let rest: Vec<&str> = args
        .iter()
        .map(String::as_str)
        .filter(|a| *a != "--no-telemetry")
        .collect();
    let telemetry = match telemetry(no_telemetry) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("sonde-demo: {e}");
            return ExitCode::from(2);
        }
    };
    match rest.as_slice() {
        [] => {
            // The one call at the top of main; in the uploader process it does
            // the upload and exits here.
            telemetry.run();
            telemetry.print_notices();
            println!("sonde-demo did its work");
        }
        ["telemetry", "status"] => println!("{}", telemetry.status()),
        ["telemetry", cmd @ ("enable" | "disable")] => {
            let saved = if *cmd == "enable" {
                telemetry.enable()
            } else {
                telemetry.disable()
            };
            match saved {
                Ok(path) => println!("Telemetry {cmd}d; saved in {}.", path.display()),
                Err(e) => {
                    eprintln!("sonde-demo: cannot save the setting: {e}");
                    return ExitCode::FAILURE;
                }
            }
            println!("{}", telemetry.status());
        }
        ["linger"] => {
            // A long-lived host (a server, a watch mode): the library must
            // reap the uploader it started, or a zombie would stay until exit.
            telemetry.run();
            println!("ready");
            let _ = std::io::Read::read_to_end(&mut std::io::stdin(), &mut Vec::new());
        }
        ["telemetry", "log"] => {
            let entries = telemetry.log();
            if entries.is_empty() {
                println!("Nothing has been sent.");
            }
            for e in entries {
                let status = e.status.map(|s| format!(" ({s})")).unwrap_or_default();
                println!("{} {}{status} {} {}", e.at, e.outcome, e.method, e.url);
                if let Some(body) = e.body {
                    println!("    {body}");
                }
            }
        }
        [cmd @ ("build" | "deploy"), args @ ..] => {
            // Subcommands that record a command event: the command path and
            // the names of the flags used, never their values or arguments.
            telemetry.run();
            let started = std::time::Instant::now();
            let failed = args.contains(&"--fail");
            println!("sonde-demo {cmd} did its work");
            let server_id = std::env::var("SONDE_DEMO_SERVER_ID").ok();
            let server_version = std::env::var("SONDE_DEMO_SERVER_VERSION").ok();
            telemetry.record_command(
                sonde::CommandEvent::new(["sonde-demo", cmd])
                    .flags_from_args(args.iter().copied())
                    .is_error(failed)
                    .duration(started.elapsed())
                    .server(server_id.as_deref(), server_version.as_deref()),
            );
            if failed {
                return ExitCode::FAILURE;
            }
        }
        _ => {
            eprintln!("usage: sonde-demo [--no-telemetry] | sonde-demo telemetry status|enable|disable|log");
            return ExitCode::from(2);
        }
    }
    ExitCode::SUCCESS
}
