//! `sonde-demo`: an example CLI that embeds the sonde client library the way a
//! real tool would, and that the client's tests drive as a real process.
//!
//! ```text
//! sonde-demo [--no-telemetry]              do the "work" (prints a line on stdout)
//! sonde-demo telemetry status|enable|disable|log
//! sonde-demo linger                       a long-lived host: runs, prints "ready", waits for stdin to close
//! sonde-demo build|deploy [flags and arguments]   records a command event (flag names only; --fail exits 1)
//! sonde-demo crash [--later|--other]       panics (reported by the library's panic hook)
//! sonde-demo fail                          a handled error with a source chain, reported; exits 1
//! sonde-demo telemetry errors [always|never|ask|send <file>]   the error-report setting and saved reports
//! ```
//!
//! `crash` panics in `crash_here` (by default, or with `--later` on another
//! line of the same function: the same group on the collector) or in
//! `crash_elsewhere` (`--other`: another group). Its message names a file
//! under `$HOME`, which the report must show as `~`.
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
//! | `SONDE_DEMO_PROMPT_TIMEOUT_MS` | 30000: how long the error-report question waits |
//! | `SONDE_DEMO_NO_PANIC_HOOK` | unset; when set, `crash` panics without the library's hook |
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
        .retry_backoff(Duration::from_secs(env_u64("SONDE_DEMO_RETRY_SECS").unwrap_or(60)))
        .prompt_timeout(Duration::from_millis(
            env_u64("SONDE_DEMO_PROMPT_TIMEOUT_MS").unwrap_or(30_000),
        ))
        .project_metadata("models", 3_u32)
        .project_metadata("uses_enums", true);
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
        ["crash", args @ ..] => crash(&telemetry, args),
        ["fail"] => return fail(&telemetry),
        ["telemetry", "errors", rest @ ..] => return errors(&telemetry, rest),
        _ => {
            eprintln!("usage: sonde-demo [--no-telemetry] | sonde-demo telemetry status|enable|disable|log");
            return ExitCode::from(2);
        }
    }
    ExitCode::SUCCESS
}

/// The panic of `sonde-demo crash`; `later` panics on another line of the
/// same function (a later version's crash at the same place).
fn crash_here(schema: &str, later: bool) -> ! {
    if later {
        panic!("could not parse {schema}: unexpected token at line 7 (a later version)");
    }
    panic!("could not parse {schema}: unexpected token at line 3");
}

/// The panic of `sonde-demo crash --other`: another place, another group.
fn crash_elsewhere(schema: &str) -> ! {
    let models: Vec<&str> = schema.split('/').filter(|s| s.is_empty()).collect();
    panic!("index out of bounds: the len is {} but the index is 99", models.len());
}

/// The handled error of `sonde-demo fail`, with its source.
#[derive(Debug)]
struct PlanError {
    source: std::io::Error,
}

impl std::fmt::Display for PlanError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("could not load the migration plan")
    }
}

impl std::error::Error for PlanError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}

fn load_plan() -> PlanError {
    let path = std::env::var("HOME").unwrap_or_default() + "/projects/acme/plan.json";
    let source = std::fs::read(&path)
        .err()
        .map(|e| std::io::Error::new(e.kind(), format!("{path}: {e}")))
        .unwrap_or_else(|| std::io::Error::other(format!("{path}: unexpected content")));
    PlanError { source }
}

/// `sonde-demo crash`: the library's panic hook, then a panic.
fn crash(telemetry: &sonde::Telemetry, args: &[&str]) -> ! {
    // A real tool calls `run` first; the demo leaves it out so that its
    // tests see the error report alone in the spool. The error-report cost
    // benchmark compares with a plain panic.
    if std::env::var_os("SONDE_DEMO_NO_PANIC_HOOK").is_none() {
        telemetry.install_panic_hook();
    }
    telemetry.set_command(&sonde::CommandEvent::new(["sonde-demo", "crash"]).flags_from_args(args.iter().copied()));
    let schema = std::env::var("HOME").unwrap_or_default() + "/projects/acme/schema.prisma";
    if args.contains(&"--other") {
        crash_elsewhere(&schema);
    }
    crash_here(&schema, args.contains(&"--later"))
}

/// `sonde-demo fail`: a handled error, reported; exits 1.
fn fail(telemetry: &sonde::Telemetry) -> ExitCode {
    telemetry.set_command(&sonde::CommandEvent::new(["sonde-demo", "fail"]));
    let err = load_plan();
    eprintln!("sonde-demo: {err}");
    telemetry.report_error(&err);
    ExitCode::FAILURE
}

/// `sonde-demo telemetry errors [always|never|ask|send <file>]`.
fn errors(telemetry: &sonde::Telemetry, args: &[&str]) -> ExitCode {
    match args {
        [] => {
            println!("Error reports: {}.", telemetry.error_reports());
            for path in telemetry.saved_reports() {
                println!("{}", path.display());
            }
        }
        ["send", file] => match telemetry.send_saved_report(std::path::Path::new(file)) {
            Ok(id) => println!("Error report {id} queued; it is sent in the background."),
            Err(e) => {
                eprintln!("sonde-demo: cannot send {file}: {e}");
                return ExitCode::FAILURE;
            }
        },
        [setting] => {
            let Some(setting) = sonde::ErrorReports::parse(setting) else {
                eprintln!("usage: sonde-demo telemetry errors always|never|ask|send <file>");
                return ExitCode::from(2);
            };
            match telemetry.set_error_reports(setting) {
                Ok(path) => println!("Error reports: {setting}; saved in {}.", path.display()),
                Err(e) => {
                    eprintln!("sonde-demo: cannot save the setting: {e}");
                    return ExitCode::FAILURE;
                }
            }
        }
        _ => {
            eprintln!("usage: sonde-demo telemetry errors always|never|ask|send <file>");
            return ExitCode::from(2);
        }
    }
    ExitCode::SUCCESS
}
