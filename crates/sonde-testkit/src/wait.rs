//! Bounded polling: tests wait for a state, never for a time.

use std::time::{Duration, Instant};

/// How long [`until`] polls before it gives up: generous, since CI machines
/// are shared.
pub const PATIENCE: Duration = Duration::from_secs(60);

/// Polls `f` every 25 ms until it returns `Some`, for up to `timeout`;
/// panics naming `what` if it never does.
pub fn for_value<T>(what: &str, timeout: Duration, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {timeout:?} waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(25));
    }
}

/// Polls `cond` until it holds, for up to [`PATIENCE`]; panics naming `what`.
pub fn until(what: &str, mut cond: impl FnMut() -> bool) {
    for_value(what, PATIENCE, || cond().then_some(()));
}
