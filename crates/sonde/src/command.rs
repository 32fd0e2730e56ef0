//! Command events for CLIs: which command ran, with which flag *names*,
//! whether it failed, and how long it took — never flag values or positional
//! arguments.
//!
//! ```no_run
//! # fn main() -> Result<(), sonde::Error> {
//! let telemetry = sonde::Telemetry::builder("mytool", "1.2.3").build()?;
//! telemetry.run();
//! let started = std::time::Instant::now();
//! // ... `mytool deploy --force --region eu-west-1 ./app` ran ...
//! let args = ["--force", "--region", "eu-west-1", "./app"];
//! telemetry.record_command(
//!     sonde::CommandEvent::new(["mytool", "deploy"])
//!         .flags_from_args(args) // keeps "--force", "--region"; drops the values
//!         .is_error(false)
//!         .duration(started.elapsed()),
//! );
//! # Ok(()) }
//! ```
//!
//! Events go to the collector's native batch API (`POST /api/v1/events`)
//! through the same spool, uploader, opt-outs, debug output and ledger as the
//! checkpoint ping. They are staged in `events.jsonl` in the state directory
//! and moved into the spool as one batch (up to [`MAX_EVENTS_PER_BATCH`]
//! events) when no uploader is running (then one is started) or the stage is
//! full; a running uploader sweeps the stage when its pass ends and sends
//! again. So commands run while an upload is under way (a monorepo running
//! fifty commands) go out together. Every event carries a random id, so a
//! retried batch is stored once.

use std::io::Write;
use std::time::Duration;

use serde_json::{json, Map, Value};
use sonde_protocol::{allowlist, native, EventKind};

use crate::layout;
use crate::spool::{self, QueuedRequest};
use crate::state::{now_millis, now_secs, StateDir};

/// Most events in one request to `/api/v1/events` (the collector takes up to
/// [`native::MAX_BATCH_EVENTS`]).
pub const MAX_EVENTS_PER_BATCH: usize = 100;

/// One CLI command execution. Build it with [`CommandEvent::new`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandEvent {
    pub(crate) path: Vec<String>,
    pub(crate) flags: Vec<String>,
    is_error: Option<bool>,
    duration: Option<Duration>,
    server_id: Option<String>,
    server_version: Option<String>,
}

impl CommandEvent {
    /// The command path: the program name and its subcommands
    /// (`["hasura", "migrate", "apply"]`). Never put arguments here.
    pub fn new<I, S>(path: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Self {
            path: path.into_iter().map(Into::into).collect(),
            flags: Vec::new(),
            is_error: None,
            duration: None,
            server_id: None,
            server_version: None,
        }
    }

    /// Flag names the user gave (`--force`, `-v`), e.g. from clap's ids.
    pub fn flags<I, S>(mut self, names: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.flags.extend(names.into_iter().map(Into::into));
        self
    }

    /// Takes the flag names out of raw arguments and nothing else: a
    /// `--name=value` keeps `--name`; words not starting with `-` (values,
    /// positional arguments) and everything after `--` are ignored.
    ///
    /// ```
    /// let e = sonde::CommandEvent::new(["tool", "run"]).flags_from_args(["-v", "--out=/home/me/x", "file.txt", "--", "--not-a-flag"]);
    /// assert_eq!(e.flag_names(), ["-v", "--out"]);
    /// ```
    pub fn flags_from_args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        for arg in args {
            let arg = arg.as_ref();
            if arg == "--" {
                break;
            }
            let name = arg.split('=').next().unwrap_or("");
            let bare = name.trim_start_matches('-');
            let dashes = name.len() - bare.len();
            if (1..=2).contains(&dashes) && bare.as_bytes().first().is_some_and(u8::is_ascii_alphabetic) {
                self.flags.push(name.to_owned());
            }
        }
        self
    }

    /// The flag names recorded so far.
    pub fn flag_names(&self) -> &[String] {
        &self.flags
    }

    /// Whether the command failed.
    pub fn is_error(mut self, failed: bool) -> Self {
        self.is_error = Some(failed);
        self
    }

    /// How long the command ran.
    pub fn duration(mut self, d: Duration) -> Self {
        self.duration = Some(d);
        self
    }

    /// The random id and version of the server the CLI talked to, if any.
    pub fn server(mut self, id: Option<&str>, version: Option<&str>) -> Self {
        self.server_id = id.map(str::to_owned);
        self.server_version = version.map(str::to_owned);
        self
    }

    /// The event's fields as sent, after the same allowlist check the
    /// collector runs (anything it would drop is not sent at all).
    pub(crate) fn fields(&self, version: &str, install_id: &str) -> Map<String, Value> {
        let mut raw = json!({
            "uuid": install_id,
            "execution_id": crate::random::unique_id(),
            "version": version,
            "command": self.path.join(" "),
            "flags": self.flags,
            "os_platform": std::env::consts::OS,
            "os_arch": std::env::consts::ARCH,
        });
        let obj = raw.as_object_mut().expect("an object");
        if let Some(e) = self.is_error {
            obj.insert("is_error".into(), e.into());
        }
        if let Some(d) = self.duration {
            obj.insert("duration_ms".into(), (d.as_millis() as u64).into());
        }
        if let Some(ci) = crate::ci::detect().name {
            obj.insert("ci".into(), ci.into());
        }
        if let Some(id) = &self.server_id {
            obj.insert("server_uuid".into(), id.clone().into());
        }
        if let Some(v) = &self.server_version {
            obj.insert("server_version".into(), v.clone().into());
        }
        let mut dropped = Vec::new();
        allowlist::validate(
            EventKind::Command,
            obj,
            &Default::default(),
            &Default::default(),
            &mut dropped,
        )
        .into_map()
    }
}

/// Whether the spool holds a request that was never tried and is due.
pub(crate) fn has_untried_items(state: &StateDir) -> bool {
    let now = now_secs();
    spool::list(&state.spool_dir()).iter().any(|p| {
        crate::state::read_json_file::<QueuedRequest>(p).is_some_and(|i| i.attempts == 0 && i.next_attempt_at <= now)
    })
}

/// A native batch request of `events` for `product`.
pub(crate) fn batch_request(product: &str, events: Vec<Value>) -> QueuedRequest {
    QueuedRequest::post_json("/api/v1/events", json!({ "product": product, "events": events }))
}

/// One outgoing event object: a fresh random id, its kind and time.
pub(crate) fn event_object(kind: EventKind, fields: Map<String, Value>) -> Value {
    let id = crate::random::unique_id();
    native::event_json(&id, kind, now_millis() as i64, fields)
}

/// Appends `object` to the stage; returns how many events it now holds.
/// The caller holds [`layout::EVENTS_LOCK`].
pub(crate) fn append_to_stage(state: &StateDir, object: &Value) -> Option<usize> {
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(state.path(layout::EVENTS_STAGE))
        .and_then(|mut f| writeln!(f, "{object}"))
        .ok()?;
    let staged = std::fs::read_to_string(state.path(layout::EVENTS_STAGE))
        .map(|s| s.lines().count())
        .unwrap_or(0);
    Some(staged)
}

/// Moves the stage into the spool if its lock is free; how many events.
pub(crate) fn sweep_stage(state: &StateDir, product: &str) -> usize {
    if !state.path(layout::EVENTS_STAGE).exists() {
        return 0;
    }
    match state.try_lock(layout::EVENTS_LOCK) {
        Some(_lock) => move_stage_to_spool(state, product),
        // A host is staging right now; it will flush or leave it to the uploader.
        None => 0,
    }
}

/// Writes the staged events into the spool as batches and empties the
/// stage; returns how many were moved. The caller holds
/// [`layout::EVENTS_LOCK`].
pub(crate) fn move_stage_to_spool(state: &StateDir, product: &str) -> usize {
    let Ok(text) = std::fs::read_to_string(state.path(layout::EVENTS_STAGE)) else {
        return 0;
    };
    let events: Vec<Value> = text.lines().filter_map(|l| serde_json::from_str(l).ok()).collect();
    for chunk in events.chunks(MAX_EVENTS_PER_BATCH) {
        if spool::enqueue(&state.spool_dir(), &batch_request(product, chunk.to_vec())).is_err() {
            // Leave the stage as it is: nothing is lost, the next sweep retries.
            return 0;
        }
    }
    // Removed only once every batch is in the spool; a crash in between
    // re-sends a batch, which the collector stores once (event ids).
    let _ = std::fs::remove_file(state.path(layout::EVENTS_STAGE));
    let _ = std::fs::remove_file(state.path(layout::RETRY_AT));
    events.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_keep_names_and_never_values() {
        let e = CommandEvent::new(["tool", "deploy"])
            .flags_from_args(["--region", "eu-west-1", "--token=s3cr3t", "./app", "-9"])
            .is_error(true)
            .duration(Duration::from_millis(1500))
            .server(Some("79485a57-fca5-40f3-a31b-78c0d211314b"), Some("v2.0.0"));
        let f = Value::Object(e.fields("1.2.3", "e462ce20-42dd-40fd-9549-edfb92f80455"));
        assert_eq!(f["command"], "tool deploy");
        assert_eq!(f["flags"], json!(["--region", "--token"]));
        assert_eq!(f["is_error"], true);
        assert_eq!(f["duration_ms"], 1500);
        assert_eq!(f["server_uuid"], "79485a57-fca5-40f3-a31b-78c0d211314b");
        let text = f.to_string();
        for secret in ["eu-west-1", "s3cr3t", "./app"] {
            assert!(!text.contains(secret), "{secret} leaked: {text}");
        }
    }

    #[test]
    fn arguments_in_the_path_are_not_sent() {
        let e = CommandEvent::new(["tool", "open", "/home/alice/notes.txt"]);
        let f = Value::Object(e.fields("1.2.3", "e462ce20-42dd-40fd-9549-edfb92f80455"));
        assert_eq!(f["command"], "tool open");
    }
}
