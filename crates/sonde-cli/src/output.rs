//! Printing: tables for people, JSON for programs, and errors as one or two
//! lines with the right exit code. A reader that stops reading early
//! (`sonde stats ... | head`) ends the program quietly with success, as in
//! any Unix pipeline.

use std::io::Write;
use std::process::ExitCode;

/// An error in what the user asked for (exit code 2).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub(crate) struct UsageError(pub String);

/// How lists and stats are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub(crate) enum Format {
    /// Aligned columns for people.
    #[default]
    Table,
    /// JSON for programs.
    Json,
}

/// Prints an error and chooses the exit code: 0, printing nothing, when
/// stdout's reader has gone (a broken pipe is how a pipeline says "enough"),
/// 2 for usage and validation errors, 1 for everything else.
pub(crate) fn report(e: &anyhow::Error) -> ExitCode {
    let broken_pipe = e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
    });
    if broken_pipe {
        return ExitCode::SUCCESS;
    }
    let usage = e.chain().any(|c| {
        c.downcast_ref::<UsageError>().is_some()
            || c.downcast_ref::<sonde_collector::admin::ValidationError>().is_some()
    });
    let _ = writeln!(std::io::stderr(), "error: {e:#}");
    if usage {
        let _ = writeln!(std::io::stderr(), "(see `sonde --help` or `sonde <command> --help`)");
        ExitCode::from(2)
    } else {
        ExitCode::from(1)
    }
}

/// Prints one line on stdout.
pub(crate) fn line(text: impl std::fmt::Display) -> anyhow::Result<()> {
    writeln!(std::io::stdout().lock(), "{text}")?;
    Ok(())
}

/// Prints `value` as pretty JSON on stdout.
pub(crate) fn json<T: serde::Serialize>(value: &T) -> anyhow::Result<()> {
    // Serialized first, so that a failed write is an `io::Error` (which
    // `report` recognizes), not one wrapped in a `serde_json::Error`.
    let text = serde_json::to_string_pretty(value)?;
    line(text)
}

/// Prints rows as aligned columns with a header on stdout.
pub(crate) fn table(header: &[&str], rows: &[Vec<String>]) -> anyhow::Result<()> {
    let mut widths: Vec<usize> = header.iter().map(|h| h.len()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = std::io::stdout().lock();
    let line = |cells: Vec<&str>| {
        let mut s = String::new();
        for (i, (cell, w)) in cells.iter().zip(&widths).enumerate() {
            if i + 1 == cells.len() {
                s.push_str(cell);
            } else {
                s.push_str(&format!("{cell:<w$}  "));
            }
        }
        s.trim_end().to_owned()
    };
    writeln!(out, "{}", line(header.to_vec()))?;
    for row in rows {
        writeln!(out, "{}", line(row.iter().map(String::as_str).collect()))?;
    }
    Ok(())
}

/// A Unix time as an RFC 3339 date-time (UTC).
pub(crate) fn date(secs: i64) -> String {
    sonde_protocol::timefmt::format_rfc3339(secs).unwrap_or_else(|| secs.to_string())
}
