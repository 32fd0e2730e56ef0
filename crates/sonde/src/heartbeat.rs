//! Server heartbeats: a long-running host (a server) sends a metrics heartbeat
//! once per interval (default 24 h) from a background thread.
//!
//! ```no_run
//! # fn main() -> Result<(), sonde::Error> {
//! let enable_flag = std::env::args().any(|a| a == "--enable-telemetry=false").then_some(false);
//! let telemetry = sonde::Telemetry::builder("myserver", "2.0.0")
//!     .env_var("MYSERVER_ENABLE_TELEMETRY") // MYSERVER_ENABLE_TELEMETRY=false
//!     .flag(enable_flag)                    // --enable-telemetry=false
//!     .build()?;
//! telemetry.run(); // first thing in main: the uploader process stops here
//! let heartbeat = telemetry.start_heartbeat(sonde::HeartbeatOptions::default(), || {
//!     serde_json::json!({"tables": 12, "views": 1, "permissions": {"select": 4}})
//! });
//! // ... serve ...
//! drop(heartbeat); // stops the thread
//! # Ok(()) }
//! ```
//!
//! Each heartbeat carries a random instance id and database id, kept in
//! `heartbeat.json` in the state directory (the host may supply its own
//! database id, e.g. one stored in its database), the host's version, OS,
//! architecture, CI vendor, and the metrics the host's closure returns. The
//! metrics pass the same allowlist check as on the collector before they are
//! queued: only numbers and booleans in nested objects leave the machine.
//! The opt-outs are the client's (policy, the host's flag such as
//! `--enable-telemetry=false`, `DO_NOT_TRACK`, the host's variable, the saved
//! setting); when telemetry is off no thread is started at all.

use std::sync::mpsc::{self, RecvTimeoutError};
use std::thread::JoinHandle;
use std::time::Duration;

use serde_json::{json, Map, Value};
use sonde_protocol::{allowlist, shapes, EventKind};

use crate::command::{batch_request, event_object};
use crate::layout;
use crate::spool::QueuedRequest;
use crate::state::{object, str_field, Json, StateDir};

/// How a heartbeat runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeartbeatOptions {
    /// Time between heartbeats; default 24 h. The first is sent at start.
    pub interval: Duration,
    /// The host's own database id (UUID layout), if it keeps one; otherwise
    /// a random one is kept in the state directory.
    pub db_id: Option<String>,
}

impl Default for HeartbeatOptions {
    fn default() -> Self {
        Self {
            interval: Duration::from_secs(24 * 3600),
            db_id: None,
        }
    }
}

/// The running heartbeat thread; dropping it (or [`Heartbeat::stop`]) stops it.
#[derive(Debug)]
pub struct Heartbeat {
    stop: Option<mpsc::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Heartbeat {
    /// Stops the thread and waits for it (at most the time one heartbeat
    /// takes to queue: no network I/O happens in it).
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        self.stop.take();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Heartbeat {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// The ids a server keeps across restarts.
#[derive(Debug, Clone)]
pub(crate) struct Ids {
    instance_uid: String,
    pub(crate) db_uid: String,
}

impl Json for Ids {
    fn from_json(v: &Value) -> Option<Self> {
        Some(Ids {
            instance_uid: str_field(v, "instance_uid")?,
            db_uid: str_field(v, "db_uid")?,
        })
    }
    fn to_json(&self) -> Value {
        object([
            ("instance_uid", Some(self.instance_uid.clone().into())),
            ("db_uid", Some(self.db_uid.clone().into())),
        ])
    }
}

/// The error when the operating system gives no randomness.
fn no_randomness() -> std::io::Error {
    std::io::Error::other("no randomness from the operating system")
}

impl Ids {
    /// Loads `heartbeat.json`, or creates (and saves) fresh ids when it is
    /// missing or corrupt.
    pub(crate) fn load_or_create(state: &StateDir) -> std::io::Result<Self> {
        if let Some(ids) = state.read_json::<Ids>(layout::HEARTBEAT_IDS) {
            if shapes::signature(&ids.instance_uid).is_ok() && shapes::signature(&ids.db_uid).is_ok() {
                return Ok(ids);
            }
        }
        let ids = Ids {
            instance_uid: crate::random::uuid_v4().ok_or_else(no_randomness)?,
            db_uid: crate::random::uuid_v4().ok_or_else(no_randomness)?,
        };
        state.write_json(layout::HEARTBEAT_IDS, &ids)?;
        Ok(ids)
    }
}

impl Heartbeat {
    /// Starts the thread: `beat` now, then once per `interval`, until the
    /// returned value is stopped or dropped.
    pub(crate) fn start<F>(interval: Duration, beat: F) -> Option<Heartbeat>
    where
        F: Fn() + Send + 'static,
    {
        let (tx, rx) = mpsc::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("sonde-heartbeat".into())
            .spawn(move || loop {
                beat();
                match rx.recv_timeout(interval) {
                    Err(RecvTimeoutError::Timeout) => {}
                    // Stopped (sender dropped) or asked to stop.
                    _ => return,
                }
            })
            .ok()?;
        Some(Heartbeat {
            stop: Some(tx),
            thread: Some(thread),
        })
    }
}

/// One heartbeat request: the ids, the host's version, platform and CI
/// vendor, and `metrics`, after the allowlist check the collector runs. At
/// most one is pending: a newer one replaces an unsent one.
pub(crate) fn request(product: &str, version: &str, ids: &Ids, metrics: &Value) -> QueuedRequest {
    let mut raw = json!({
        "instance_uid": ids.instance_uid,
        "db_uid": ids.db_uid,
        "version": version,
        "os": std::env::consts::OS,
        "arch": std::env::consts::ARCH,
        "metrics": metrics,
    });
    if let Some(ci) = crate::ci::detect().name {
        raw["ci"] = Value::String(ci.to_owned());
    }
    let mut dropped = Vec::new();
    let fields: Map<String, Value> = allowlist::validate(
        EventKind::Heartbeat,
        raw.as_object().expect("an object"),
        &Default::default(),
        &Default::default(),
        &mut dropped,
    )
    .into_map();
    batch_request(product, vec![event_object(EventKind::Heartbeat, fields)]).with_key("heartbeat")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Telemetry;

    #[test]
    fn ids_are_kept_and_replaced_when_corrupt() {
        let dir = tempfile::tempdir().unwrap();
        let state = StateDir::new(dir.path().to_owned());
        let a = Ids::load_or_create(&state).unwrap();
        let b = Ids::load_or_create(&state).unwrap();
        assert_eq!(a.instance_uid, b.instance_uid);
        assert_ne!(a.instance_uid, a.db_uid);
        std::fs::write(dir.path().join(layout::HEARTBEAT_IDS), "{not json").unwrap();
        let c = Ids::load_or_create(&state).unwrap();
        assert_ne!(c.instance_uid, a.instance_uid);
    }

    #[test]
    fn off_means_no_thread() {
        let dir = tempfile::tempdir().unwrap();
        let t = Telemetry::builder("hb-test", "1.0.0")
            .state_dir(dir.path())
            .flag(Some(false))
            .build()
            .unwrap();
        assert!(t.start_heartbeat(HeartbeatOptions::default(), || json!({})).is_none());
        assert!(
            std::fs::read_dir(dir.path()).unwrap().next().is_none(),
            "nothing written"
        );
    }
}
