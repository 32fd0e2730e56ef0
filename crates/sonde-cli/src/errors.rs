//! `sonde errors list|show`: error reports grouped by fingerprint, and one
//! group with its latest report.

use sonde_store::{ErrorGroup, ErrorGroupDetail, ValueCount};

use crate::output::{self, Format, UsageError};
use crate::target::{GlobalArgs, Target};

/// Error report verbs.
#[derive(Debug, clap::Subcommand)]
pub(crate) enum ErrorsCmd {
    /// The error groups of a product, latest seen first.
    List {
        /// The product.
        #[arg(long)]
        product: String,
        /// Output format.
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// One error group with its latest report.
    Show {
        /// The group id, as `errors list` prints it (`v1:…`).
        group: String,
        /// The product.
        #[arg(long)]
        product: String,
        /// Output format.
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
}

/// Runs an errors verb.
pub(crate) fn run(global: &GlobalArgs, cmd: ErrorsCmd) -> anyhow::Result<()> {
    match cmd {
        ErrorsCmd::List { product, format } => {
            let target = Target::open(global, false)?;
            let groups = target.error_groups(&product)?;
            match format {
                Format::Json => output::json(&groups),
                Format::Table => output::table(
                    &[
                        "GROUP",
                        "KIND",
                        "COUNT",
                        "INSTALLS",
                        "FIRST_SEEN",
                        "LAST_SEEN",
                        "VERSIONS",
                        "MESSAGE",
                    ],
                    &groups.iter().map(row).collect::<Vec<_>>(),
                ),
            }
        }
        ErrorsCmd::Show { group, product, format } => {
            if group.is_empty() || group.len() > 64 || !group.bytes().all(|b| b.is_ascii_alphanumeric() || b == b':') {
                return Err(
                    UsageError(format!("{group:?} is not a group id (`sonde errors list` prints them)")).into(),
                );
            }
            let target = Target::open(global, false)?;
            let detail = target.error_group(&product, &group)?;
            match format {
                Format::Json => output::json(&detail),
                Format::Table => show(&detail),
            }
        }
    }
}

fn date(ms: i64) -> String {
    output::date(ms.div_euclid(1000))
}

fn counts(values: &[ValueCount]) -> String {
    values
        .iter()
        .map(|v| format!("{} ({})", v.value, v.count))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The first line of `text`, at most `max` characters.
fn short(text: &str, max: usize) -> String {
    let line = text.lines().next().unwrap_or("");
    if line.chars().count() <= max && !text.contains('\n') {
        return line.to_owned();
    }
    let cut: String = line.chars().take(max.saturating_sub(1)).collect();
    format!("{cut}…")
}

fn row(g: &ErrorGroup) -> Vec<String> {
    vec![
        g.group.clone(),
        g.kind.clone(),
        g.count.to_string(),
        g.signatures.to_string(),
        date(g.first_seen_ms),
        date(g.last_seen_ms),
        counts(&g.versions),
        short(&g.message, 60),
    ]
}

/// A group's figures, then its latest report: its context, causes and frames.
fn show(d: &ErrorGroupDetail) -> anyhow::Result<()> {
    let g = &d.group;
    let r = &d.sample.report;
    let opt = |v: &Option<String>| v.clone().unwrap_or_default();
    let fields: Vec<(&str, String)> = vec![
        ("group", g.group.clone()),
        ("kind", g.kind.clone()),
        ("count", g.count.to_string()),
        ("installs", g.signatures.to_string()),
        ("first_seen", date(g.first_seen_ms)),
        ("last_seen", date(g.last_seen_ms)),
        ("versions", counts(&g.versions)),
        ("os", counts(&g.os)),
        ("sample", r.report_id.clone()),
        ("received", date(d.sample.received_at_ms)),
        ("message", short(&r.message, 200)),
        ("panic", r.panic.to_string()),
        ("version", opt(&r.version)),
        ("platform", format!("{} {}", opt(&r.os), opt(&r.arch)).trim().to_owned()),
        ("runtime", opt(&r.runtime)),
        ("ci", opt(&r.ci)),
        (
            "command",
            format!("{} {}", opt(&r.command), r.flags.join(" ")).trim().to_owned(),
        ),
        ("project", serde_json::Value::Object(r.project.clone()).to_string()),
    ];
    output::table(
        &["FIELD", "VALUE"],
        &fields
            .into_iter()
            .map(|(k, v)| vec![k.to_owned(), v])
            .collect::<Vec<_>>(),
    )?;
    if !r.chain.is_empty() {
        output::line("")?;
        output::table(
            &["CAUSE", "KIND", "MESSAGE"],
            &r.chain
                .iter()
                .enumerate()
                .map(|(i, c)| vec![i.to_string(), c.kind.clone(), short(&c.message, 100)])
                .collect::<Vec<_>>(),
        )?;
    }
    if !r.frames.is_empty() {
        output::line("")?;
        output::table(
            &["FRAME", "IN_APP", "FUNCTION", "FILE", "LINE"],
            &r.frames
                .iter()
                .enumerate()
                .map(|(i, f)| {
                    vec![
                        i.to_string(),
                        if f.in_app { "yes" } else { "no" }.to_owned(),
                        f.function.clone(),
                        f.file.clone().unwrap_or_default(),
                        f.line.map(|l| l.to_string()).unwrap_or_default(),
                    ]
                })
                .collect::<Vec<_>>(),
        )?;
    }
    Ok(())
}
