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
use sonde_protocol::{allowlist, fields, EventKind};

use crate::command::{batch_request, event_object};
use crate::mode::Mode;
use crate::state::{object, str_field, Json, StateDir};
use crate::Telemetry;

const IDS_FILE: &str = "heartbeat.json";

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
struct Ids {
    instance_uid: String,
    db_uid: String,
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
    fn load_or_create(state: &StateDir) -> std::io::Result<Self> {
        if let Some(ids) = state.read_json::<Ids>(IDS_FILE) {
            if fields::signature(&ids.instance_uid).is_ok() && fields::signature(&ids.db_uid).is_ok() {
                return Ok(ids);
            }
        }
        let ids = Ids {
            instance_uid: crate::random::uuid_v4().ok_or_else(no_randomness)?,
            db_uid: crate::random::uuid_v4().ok_or_else(no_randomness)?,
        };
        state.write_json(IDS_FILE, &ids)?;
        Ok(ids)
    }
}

impl Telemetry {
    /// Starts the heartbeat thread: one heartbeat now, then one per
    /// `options.interval`, each with the metrics `metrics` returns. Returns
    /// `None` (and starts nothing) when telemetry is off or no state
    /// directory can be used.
    pub fn start_heartbeat<F>(&self, options: HeartbeatOptions, metrics: F) -> Option<Heartbeat>
    where
        F: Fn() -> Value + Send + 'static,
    {
        if self.decision().mode == Mode::Off {
            return None;
        }
        let state = StateDir::new(self.state_dir()?);
        state.create().ok()?;
        let mut ids = Ids::load_or_create(&state).ok()?;
        if let Some(db) = options.db_id.as_deref().and_then(|d| fields::signature(d).ok()) {
            ids.db_uid = db;
        }
        let telemetry = self.clone();
        let (tx, rx) = mpsc::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("sonde-heartbeat".into())
            .spawn(move || loop {
                telemetry.send_heartbeat(&ids, &metrics());
                match rx.recv_timeout(options.interval) {
                    Err(RecvTimeoutError::Timeout) => continue,
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

    /// Queues one heartbeat now (the thread's work, also usable on its own).
    fn send_heartbeat(&self, ids: &Ids, metrics: &Value) -> bool {
        if self.decision().mode == Mode::Off {
            return false;
        }
        let mut raw = json!({
            "instance_uid": ids.instance_uid,
            "db_uid": ids.db_uid,
            "version": self.b.version,
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
            &mut dropped,
        )
        .into_map();
        // One pending heartbeat at most: a newer one replaces an unsent one.
        let item =
            batch_request(self.product(), vec![event_object(EventKind::Heartbeat, fields)]).with_key("heartbeat");
        self.enqueue(&item)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_kept_and_replaced_when_corrupt() {
        let dir = tempfile::tempdir().unwrap();
        let state = StateDir::new(dir.path().to_owned());
        let a = Ids::load_or_create(&state).unwrap();
        let b = Ids::load_or_create(&state).unwrap();
        assert_eq!(a.instance_uid, b.instance_uid);
        assert_ne!(a.instance_uid, a.db_uid);
        std::fs::write(dir.path().join(IDS_FILE), "{not json").unwrap();
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
