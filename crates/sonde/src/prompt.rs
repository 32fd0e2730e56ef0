//! The one question on an interactive terminal, on stderr:
//!
//! ```text
//! Send an error report to telemetry.mytool.dev? [y]es / [n]o / [a]lways / n[e]ver / [v]iew
//! ```
//!
//! The answer is read in line mode (the terminal is never put in raw mode)
//! on a helper thread, and waited for on a channel with a timeout, so a
//! user who walked away never holds the process. Enter alone, end of input
//! (Ctrl-D) and the timeout mean no; Ctrl-C interrupts the process as usual
//! (the report was saved on this machine before the question). `view`
//! prints the exact report that would be sent, then asks again.
//!
//! After a timeout the helper thread stays blocked on stdin until a line
//! comes or the process exits; a host that reads stdin after a
//! [`crate::Telemetry::report_error`] that timed out gets its input after
//! that line.

use std::io::{BufRead, Write};
use std::sync::mpsc;
use std::time::Duration;

/// The user's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Answer {
    /// Send this one.
    Yes,
    /// Do not send this one (also Enter alone, end of input, the timeout).
    No,
    /// Send this one and every later one without asking.
    Always,
    /// Do not send this one, and never ask again.
    Never,
}

/// What one line means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reply {
    Answer(Answer),
    View,
    Unknown,
}

fn parse(line: &str) -> Reply {
    match line.trim().to_ascii_lowercase().as_str() {
        "" | "n" | "no" => Reply::Answer(Answer::No),
        "y" | "yes" => Reply::Answer(Answer::Yes),
        "a" | "always" => Reply::Answer(Answer::Always),
        "e" | "never" => Reply::Answer(Answer::Never),
        "v" | "view" => Reply::View,
        _ => Reply::Unknown,
    }
}

/// How many lines are read at most (views and unknown answers included)
/// before the answer is taken as no.
const MAX_ROUNDS: usize = 8;

/// Asks on stderr whether to send the report to `host`; `report` is its
/// exact text, shown on `view`. Waits at most `timeout` for each line.
pub(crate) fn ask(host: &str, report: &str, timeout: Duration) -> Answer {
    let mut err = std::io::stderr();
    for _ in 0..MAX_ROUNDS {
        let _ = write!(
            err,
            "Send an error report to {host}? [y]es / [n]o / [a]lways / n[e]ver / [v]iew "
        );
        let _ = err.flush();
        let Some(line) = read_line(timeout) else {
            // End of input or no answer in time: the cursor is still on the
            // question's line.
            let _ = writeln!(err);
            return Answer::No;
        };
        match parse(&line) {
            Reply::Answer(a) => return a,
            Reply::View => {
                let _ = writeln!(err, "{report}");
            }
            Reply::Unknown => {
                let _ = writeln!(err, "Please answer y, n, a, e or v.");
            }
        }
    }
    Answer::No
}

/// One line from stdin, read on a helper thread; `None` at end of input,
/// on a read error, or when nothing came within `timeout`.
fn read_line(timeout: Duration) -> Option<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::Builder::new()
        .name("sonde-prompt".into())
        .stack_size(64 * 1024)
        .spawn(move || {
            let mut line = String::new();
            let read = std::io::stdin().lock().read_line(&mut line);
            let _ = tx.send(match read {
                Ok(0) | Err(_) => None,
                Ok(_) => Some(line),
            });
        })
        .ok()?;
    rx.recv_timeout(timeout).ok().flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_in_short_and_long_form() {
        for (line, want) in [
            ("y\n", Reply::Answer(Answer::Yes)),
            ("YES\n", Reply::Answer(Answer::Yes)),
            ("\n", Reply::Answer(Answer::No)),
            ("no", Reply::Answer(Answer::No)),
            ("a", Reply::Answer(Answer::Always)),
            (" never \n", Reply::Answer(Answer::Never)),
            ("e", Reply::Answer(Answer::Never)),
            ("v", Reply::View),
            ("maybe", Reply::Unknown),
        ] {
            assert_eq!(parse(line), want, "{line:?}");
        }
    }
}
