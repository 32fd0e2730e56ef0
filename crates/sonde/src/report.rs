//! Building an error report: the failure (a panic or an error and its
//! sources), the stack as frames parsed from `std::backtrace`, and the
//! context a report carries — never arguments, environment variables,
//! paths outside the project, or the machine's names.
//!
//! Every piece of free text (the message, each cause, each frame's function
//! and file) is scrubbed with [`sonde_protocol::scrub::Scrubber`], loaded
//! with this machine's home directory, user and host names
//! ([`machine_scrubber`]), before the report is shown, saved or sent.
//!
//! Frames come from [`Backtrace::force_capture`]'s text (its `Display`), in
//! the form
//!
//! ```text
//!    3: mytool::migrate::apply
//!              at ./crates/mytool/src/migrate.rs:41:9
//! ```
//!
//! Files are made relative: to the crate (`src/migrate.rs`), to the Rust
//! sources (`library/core/src/panicking.rs`), to the registry
//! (`serde_json-1.0.1/src/de.rs`), or cut to the file's name. A frame is
//! the tool's own (`in_app`) when its function path starts with the host's
//! crate name. The frames of the capture itself, of this library, of the
//! panic machinery (up to std's `__rust_end_short_backtrace`) and of the
//! runtime before `main` (from `__rust_begin_short_backtrace`) are left
//! out. A build without line tables (Cargo's release profile) names
//! functions only: a panic's location then gives the innermost frame of
//! the tool's own code its file and line; a build without symbols
//! (stripped) still has that one frame.

use std::backtrace::Backtrace;

use serde_json::{Map, Value};
use sonde_protocol::error_report::{
    ChainLink, ErrorReport, Frame, MAX_CHAIN, MAX_FILE_LEN, MAX_FRAMES, MAX_FUNCTION_LEN, MAX_KIND_LEN,
    MAX_MESSAGE_LEN, SCHEMA_VERSION,
};
use sonde_protocol::scrub::Scrubber;

use crate::command::CommandEvent;

/// A value of project metadata: a number or a flag, never text (a schema,
/// a name or a path cannot be sent this way).
///
/// ```
/// let t = sonde::Telemetry::builder("mytool", "1.0.0")
///     .project_metadata("models", 12_u32)
///     .project_metadata("uses_enums", true);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct ProjectValue(pub(crate) Value);

macro_rules! project_value_from {
    ($($t:ty),*) => {$(
        impl From<$t> for ProjectValue {
            fn from(v: $t) -> Self {
                ProjectValue(Value::from(v))
            }
        }
    )*};
}
project_value_from!(bool, u8, u16, u32, u64, usize, i8, i16, i32, i64, isize);

impl From<f64> for ProjectValue {
    /// A finite number; NaN and infinities become 0.
    fn from(v: f64) -> Self {
        ProjectValue(serde_json::Number::from_f64(v).map_or(Value::from(0), Value::Number))
    }
}

/// What the host told the library about the run, for its error reports.
#[derive(Debug, Clone, Default)]
pub(crate) struct RunContext {
    /// The command running (path and flag names).
    pub(crate) command: Option<CommandEvent>,
    /// Project metadata: counts and flags.
    pub(crate) project: Map<String, Value>,
}

/// What failed.
#[derive(Debug, Clone)]
pub(crate) struct Failure {
    /// The error's type name, or `panic`.
    pub(crate) kind: String,
    /// Its message.
    pub(crate) message: String,
    /// The messages of its sources, outermost first.
    pub(crate) chain: Vec<String>,
    /// Whether it is a panic.
    pub(crate) panic: bool,
    /// The backtrace's text.
    pub(crate) backtrace: String,
    /// Where a panic happened: file and line, as the compiler wrote them.
    pub(crate) location: Option<(String, u32)>,
}

impl Failure {
    /// An error and its sources, with a backtrace captured here.
    pub(crate) fn from_error<E: std::error::Error + ?Sized>(err: &E) -> Self {
        let mut chain = Vec::new();
        let mut source = err.source();
        while let Some(s) = source {
            chain.push(s.to_string());
            source = s.source();
        }
        Failure {
            kind: std::any::type_name::<E>().to_owned(),
            message: err.to_string(),
            chain,
            panic: false,
            backtrace: Backtrace::force_capture().to_string(),
            location: None,
        }
    }

    /// A panic, from inside the panic hook.
    pub(crate) fn from_panic(info: &std::panic::PanicHookInfo<'_>) -> Self {
        let payload = info.payload();
        let message = payload
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "Box<dyn Any>".to_owned());
        Failure {
            kind: "panic".to_owned(),
            message,
            chain: Vec::new(),
            panic: true,
            backtrace: Backtrace::force_capture().to_string(),
            location: info.location().map(|l| (l.file().to_owned(), l.line())),
        }
    }
}

/// The tool's description, as the report needs it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Tool<'a> {
    pub(crate) product: &'a str,
    pub(crate) version: &'a str,
    pub(crate) runtime: &'a str,
    /// The host's crate name (`mytool`), for `in_app`.
    pub(crate) app_crate: &'a str,
}

/// The report for `failure`, every free text scrubbed with `scrubber`.
pub(crate) fn build(
    tool: Tool<'_>,
    context: &RunContext,
    failure: &Failure,
    scrubber: &Scrubber,
    report_id: String,
    now_secs: u64,
) -> ErrorReport {
    let text = |s: &str, max: usize| cut(scrubber.scrub(s).into_owned(), max);
    let mut frames: Vec<Frame> = parse_backtrace(&failure.backtrace, tool.app_crate)
        .into_iter()
        .take(MAX_FRAMES)
        .map(|f| Frame {
            function: text(&f.function, MAX_FUNCTION_LEN),
            file: f.file.map(|p| text(&p, MAX_FILE_LEN)),
            line: f.line,
            in_app: f.in_app,
        })
        .collect();
    if let Some((file, line)) = &failure.location {
        let file = Some(text(&relative_file(file), MAX_FILE_LEN));
        if frames.is_empty() {
            frames.push(Frame {
                function: String::new(),
                file,
                line: Some(*line),
                in_app: true,
            });
        } else if let Some(first) = frames.iter_mut().find(|f| f.in_app).filter(|f| f.file.is_none()) {
            // A build without line tables names functions only: the panic's
            // location is the innermost frame of the tool's own code.
            first.file = file;
            first.line = Some(*line);
        }
    }
    let (command, flags) = match &context.command {
        Some(c) => (c.path.join(" "), c.flags.clone()),
        None => (tool.product.to_owned(), Vec::new()),
    };
    ErrorReport {
        schema: SCHEMA_VERSION,
        report_id,
        product: tool.product.to_owned(),
        version: Some(tool.version.to_owned()),
        signature: None,
        os: Some(std::env::consts::OS.to_owned()),
        arch: Some(std::env::consts::ARCH.to_owned()),
        runtime: Some(tool.runtime.to_owned()),
        ci: crate::ci::detect().name.map(str::to_owned),
        command: Some(command),
        flags,
        kind: text(&failure.kind, MAX_KIND_LEN),
        message: text(&failure.message, MAX_MESSAGE_LEN),
        chain: failure
            .chain
            .iter()
            .take(MAX_CHAIN)
            .map(|m| ChainLink {
                kind: String::new(),
                message: text(m, MAX_MESSAGE_LEN),
            })
            .collect(),
        panic: failure.panic,
        frames,
        project: context.project.clone(),
        occurred_at: Some(crate::state::rfc3339(now_secs)),
    }
}

/// `s` cut to at most `max` bytes, at a character boundary.
fn cut(mut s: String, max: usize) -> String {
    if s.len() > max {
        let mut end = max;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s.truncate(end);
    }
    s
}

/// The scrubber for this machine: [`Scrubber::with_machine`] with the home
/// directory (`HOME`, else the platform's), the user name (`USER`,
/// `USERNAME`, `LOGNAME`, else the home directory's last component) and
/// the host name (`HOSTNAME`, `COMPUTERNAME`, else the kernel's, which
/// shells seldom export).
pub(crate) fn machine_scrubber() -> Scrubber {
    let var = |names: &[&str]| {
        names
            .iter()
            .find_map(|n| std::env::var(n).ok().filter(|v| !v.trim().is_empty()))
    };
    let home = var(&["HOME", "USERPROFILE"]).or_else(|| {
        use etcetera::BaseStrategy;
        etcetera::choose_base_strategy()
            .ok()
            .map(|b| b.home_dir().to_string_lossy().into_owned())
    });
    let user = var(&["USER", "USERNAME", "LOGNAME"]).or_else(|| {
        let home = home.as_deref()?.trim_end_matches(['/', '\\']);
        let last = home.rsplit(['/', '\\']).next()?;
        (!last.is_empty()).then(|| last.to_owned())
    });
    let host = var(&["HOSTNAME", "COMPUTERNAME"]).or_else(|| {
        ["/proc/sys/kernel/hostname", "/etc/hostname"]
            .iter()
            .find_map(|p| std::fs::read_to_string(p).ok())
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
    });
    Scrubber::with_machine(home.as_deref(), user.as_deref(), host.as_deref())
}

/// Frames the capture, this library and the panic machinery add before the
/// failing code (matched as prefixes of the function path).
const NOT_THE_FAILURE: &[&str] = &[
    "std::backtrace",
    "std::panicking",
    "std::sys::backtrace",
    "core::panicking",
    "rust_begin_unwind",
    "__rustc::",
    "sonde::report::Failure",
    "sonde::reporting::",
];

/// The frames of a backtrace's text, innermost first (unscrubbed).
pub(crate) fn parse_backtrace(text: &str, app_crate: &str) -> Vec<Frame> {
    let mut frames: Vec<Frame> = Vec::new();
    for line in text.lines() {
        let trimmed = line.trim();
        if let Some(at) = trimmed.strip_prefix("at ") {
            if let Some(frame) = frames.last_mut().filter(|f| f.file.is_none()) {
                let (file, number) = split_location(at);
                frame.file = Some(relative_file(file));
                frame.line = number;
            }
            continue;
        }
        let Some((index, function)) = trimmed.split_once(": ") else {
            continue;
        };
        if index.is_empty() || !index.bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        let function = function.trim();
        if function.starts_with("0x") || function == "<unknown>" {
            // No symbol: a frame without a name tells nothing; its "at" line
            // (there is none) must not attach to the previous frame.
            frames.push(Frame {
                function: String::new(),
                file: Some(String::new()),
                line: None,
                in_app: false,
            });
            continue;
        }
        let path = function.trim_start_matches('<');
        frames.push(Frame {
            function: function.to_owned(),
            file: None,
            line: None,
            in_app: !app_crate.is_empty() && path.starts_with(app_crate) && path[app_crate.len()..].starts_with("::"),
        });
    }
    frames.retain(|f| !f.function.is_empty());
    // What runs before `main` and what runs between the panic and its hook
    // sit outside std's short-backtrace markers.
    if let Some(end) = frames
        .iter()
        .position(|f| f.function.contains("__rust_begin_short_backtrace"))
    {
        frames.truncate(end);
    }
    if let Some(hook) = frames
        .iter()
        .rposition(|f| f.function.contains("__rust_end_short_backtrace"))
    {
        frames.drain(..=hook);
    }
    let start = frames
        .iter()
        .position(|f| !NOT_THE_FAILURE.iter().any(|p| f.function.starts_with(p)))
        .unwrap_or(frames.len());
    frames.drain(..start);
    frames
}

/// `path:line:column` (or `path:line`) split into the path and the line.
fn split_location(at: &str) -> (&str, Option<u32>) {
    let mut rest = at;
    let mut numbers = Vec::new();
    while numbers.len() < 2 {
        match rest.rsplit_once(':') {
            Some((head, tail)) if !tail.is_empty() && tail.bytes().all(|b| b.is_ascii_digit()) => {
                numbers.push(tail.parse::<u32>().ok());
                rest = head;
            }
            _ => break,
        }
    }
    // The last number is the column when there are two.
    let line = match numbers.as_slice() {
        [_, line] | [line] => *line,
        _ => None,
    };
    (rest, line)
}

/// A source path made relative: to the crate (`src/…`), to the Rust
/// sources (`library/…`), to the registry (`<crate>-<version>/…`); anything
/// else is cut to its file name.
pub(crate) fn relative_file(path: &str) -> String {
    let p = path.replace('\\', "/");
    if let Some(rest) = p.strip_prefix("/rustc/") {
        if let Some((_hash, inside)) = rest.split_once('/') {
            return inside.to_owned();
        }
    }
    if let Some(i) = p.find("/registry/src/") {
        let after = &p[i + "/registry/src/".len()..];
        if let Some((_index, inside)) = after.split_once('/') {
            return inside.to_owned();
        }
    }
    if let Some(inside) = p.strip_prefix("src/") {
        return format!("src/{inside}");
    }
    if let Some(i) = p.rfind("/src/") {
        return p[i + 1..].to_owned();
    }
    p.rsplit('/').next().unwrap_or_default().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "   0: std::backtrace_rs::backtrace::libunwind::trace
             at /rustc/abc123/library/std/src/../../backtrace/src/backtrace/libunwind.rs:117:9
   1: <alloc::boxed::Box<dyn for<'a, 'b> core::ops::function::Fn<(&'a std::panic::PanicHookInfo<'b>,), Output = ()>> as core::ops::function::Fn<(&std::panic::PanicHookInfo,)>>::call
             at /rustc/abc123/library/alloc/src/boxed.rs:2254:9
   1: std::panicking::panic_with_hook
             at /rustc/abc123/library/std/src/panicking.rs:841:13
   2: std::sys::backtrace::__rust_end_short_backtrace::<std::panicking::panic_handler::{closure#0}, !>
   2: __rustc::rust_begin_unwind
   3: core::panicking::panic_fmt
             at /rustc/abc123/library/core/src/panicking.rs:75:14
   4: mytool::migrate::apply::{{closure}}
             at ./crates/mytool/src/migrate.rs:41:9
   5: 0x55d0c0ffee
   6: <mytool::Plan as core::fmt::Display>::fmt
             at /home/alice/work/mytool/src/plan.rs:7
   7: serde_json::de::from_str
             at /home/alice/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/serde_json-1.0.1/src/de.rs:2:3
   8: mytoolkit::run
             at /opt/build/out/generated.rs:3:1
   9: std::sys::backtrace::__rust_begin_short_backtrace::<fn(), ()>
  10: std::rt::lang_start_internal
note: Some details are omitted, run with `RUST_BACKTRACE=full` for a verbose backtrace.
";

    #[test]
    fn frames_are_parsed_made_relative_and_marked() {
        let frames = parse_backtrace(SAMPLE, "mytool");
        let got: Vec<(&str, Option<&str>, Option<u32>, bool)> = frames
            .iter()
            .map(|f| (f.function.as_str(), f.file.as_deref(), f.line, f.in_app))
            .collect();
        assert_eq!(
            got,
            [
                (
                    "mytool::migrate::apply::{{closure}}",
                    Some("src/migrate.rs"),
                    Some(41),
                    true
                ),
                (
                    "<mytool::Plan as core::fmt::Display>::fmt",
                    Some("src/plan.rs"),
                    Some(7),
                    true
                ),
                (
                    "serde_json::de::from_str",
                    Some("serde_json-1.0.1/src/de.rs"),
                    Some(2),
                    false
                ),
                ("mytoolkit::run", Some("generated.rs"), Some(3), false),
            ]
        );
        assert_eq!(
            relative_file("/rustc/abc/library/core/src/panicking.rs"),
            "library/core/src/panicking.rs"
        );
        assert_eq!(relative_file(r"C:\Users\bob\tool\src\main.rs"), "src/main.rs");
    }

    #[test]
    fn without_line_tables_the_panic_location_gives_the_first_in_app_frame_its_place() {
        let failure = |backtrace: &str| Failure {
            kind: "panic".into(),
            message: "boom".into(),
            chain: Vec::new(),
            panic: true,
            backtrace: backtrace.into(),
            location: Some(("crates/mytool/src/plan.rs".into(), 12)),
        };
        let tool = Tool {
            product: "mytool",
            version: "1.0.0",
            runtime: "rustc 1.95.0",
            app_crate: "mytool",
        };
        let report = |bt: &str| {
            build(
                tool,
                &RunContext::default(),
                &failure(bt),
                &Scrubber::new(),
                "x".into(),
                0,
            )
        };
        let names_only = "   0: core::panicking::panic_fmt\n   1: mytool::plan\n   2: mytool::main\n";
        let frames = report(names_only).frames;
        assert_eq!(frames[0].function, "mytool::plan");
        assert_eq!(
            (frames[0].file.as_deref(), frames[0].line),
            (Some("src/plan.rs"), Some(12))
        );
        assert_eq!(frames[1].file, None);
        let stripped = report("   0: 0x55d0c0ffee\n").frames;
        assert_eq!(stripped.len(), 1);
        assert_eq!(
            (stripped[0].file.as_deref(), stripped[0].in_app),
            (Some("src/plan.rs"), true)
        );
    }

    /// A failure with this machine's real home directory, user and host
    /// names planted in its message, a cause, and a frame's function and
    /// file, over a backtrace really captured here.
    fn planted_failure() -> (Failure, [String; 3]) {
        let home = std::env::var("HOME").unwrap();
        let scrubber_user = std::env::var("USER")
            .ok()
            .filter(|u| !u.is_empty())
            .unwrap_or_else(|| home.rsplit('/').next().unwrap().to_owned());
        let host = std::env::var("HOSTNAME")
            .ok()
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| {
                std::fs::read_to_string("/proc/sys/kernel/hostname")
                    .unwrap()
                    .trim()
                    .to_owned()
            });
        let user = scrubber_user;
        let planted = format!(
            "   0: sonde::report::tests::{user}::{host}::run\n             at {home}/generated/{user}.{host}.rs:3:1\n"
        );
        let failure = Failure {
            kind: "panic".into(),
            message: format!(
                "cannot open {home}/projects/acme/schema.prisma for {user} on {host}: \
                 mail ops@example.com, from 203.0.113.9, via https://admin:hunter2@db.example.com/app"
            ),
            chain: vec![format!("reading {home}/.env failed")],
            panic: true,
            backtrace: planted + &captured_here(),
            location: None,
        };
        (failure, [home, user, host])
    }

    #[inline(never)]
    fn captured_here() -> String {
        Backtrace::force_capture().to_string()
    }

    #[test]
    fn a_real_backtrace_becomes_frames_and_the_machine_names_are_scrubbed() {
        let (failure, [home, user, host]) = planted_failure();
        let tool = Tool {
            product: "mytool",
            version: "1.2.3",
            runtime: crate::RUSTC_VERSION,
            app_crate: "sonde",
        };
        let context = RunContext {
            command: Some(CommandEvent::new(["mytool", "migrate"]).flags_from_args(["--force", "./secret"])),
            project: serde_json::json!({"models": 3}).as_object().unwrap().clone(),
        };
        let id = crate::random::unique_id();
        let report = build(tool, &context, &failure, &machine_scrubber(), id.clone(), 1_795_309_323);
        let text = serde_json::to_string(&report).unwrap();
        for secret in [
            home.as_str(),
            &format!("for {user} on"),
            &format!("::{user}::{host}::"),
            "ops@example.com",
            "203.0.113.9",
            "hunter2",
        ] {
            assert!(!text.contains(secret), "{secret:?} in {text}");
        }
        // Plain words are kept; the contract's marks stand for the names. A
        // host name under 3 bytes (`vm`) is kept: the scrubber documents that
        // it would match ordinary words.
        let host_mark = if host.len() >= 3 { "<host>" } else { host.as_str() };
        assert!(report.message.starts_with("cannot open "), "{}", report.message);
        assert!(
            report.message.contains(&format!("for <user> on {host_mark}")),
            "{}",
            report.message
        );
        let cause = &report.chain[0].message;
        assert!(cause.starts_with("reading ") && cause.ends_with(" failed"), "{cause}");
        // The planted frame: its function and file scrubbed, the file cut to its name.
        assert_eq!(
            report.frames[0].function,
            format!("sonde::report::tests::<user>::{host_mark}::run")
        );
        assert_eq!(
            report.frames[0].file.as_deref(),
            Some(format!("<user>.{host_mark}.rs").as_str())
        );
        // The real frames: this test's function, in the crate, with a line.
        let here = report
            .frames
            .iter()
            .find(|f| f.function.ends_with("report::tests::captured_here"))
            .unwrap_or_else(|| panic!("no frame of captured_here in {text}"));
        assert_eq!(here.file.as_deref(), Some("src/report.rs"));
        assert!(here.line.is_some_and(|l| l > 0) && here.in_app);
        assert!(
            report.frames.iter().any(|f| !f.in_app),
            "std's frames are not the tool's"
        );
        assert_eq!(report.command.as_deref(), Some("mytool migrate"));
        assert_eq!(report.flags, ["--force"]);
        assert_eq!(
            (report.report_id.as_str(), report.kind.as_str(), report.panic),
            (id.as_str(), "panic", true)
        );
        assert_eq!(report.occurred_at.as_deref(), Some("2026-11-22T01:02:03Z"));
        // What the collector does with it: accepted whole, nothing dropped.
        let decoded = sonde_protocol::error_report::decode(
            text.as_bytes(),
            &Scrubber::new(),
            &sonde_protocol::vocabulary::Vocabulary::new(),
            1_795_309_323_000,
        )
        .unwrap();
        assert!(decoded.dropped.is_empty(), "{:?}", decoded.dropped);
    }
}
