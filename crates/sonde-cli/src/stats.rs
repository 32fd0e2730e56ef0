//! `sonde stats mau|rejected|active|versions|platforms|retention|alerts|errors|commands|console|heartbeats|upgrades`:
//! exact monthly active signatures, what validation dropped, and the
//! analytics answers (under the minimum group size, as the admin API gives
//! them).

use sonde_collector::analytics::query::QueryParams;
use sonde_store::{Day, Month};

use crate::output::{self, Format, UsageError};
use crate::target::{GlobalArgs, Target};

/// Stats verbs.
#[derive(Debug, clap::Subcommand)]
pub(crate) enum StatsCmd {
    /// Distinct signatures seen in a calendar month (UTC), exact.
    Mau {
        /// The product.
        #[arg(long)]
        product: String,
        /// The month, YYYY-MM (default: this month).
        #[arg(long)]
        month: Option<String>,
        /// Output format.
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// Active signatures per day, week or month, exact (CI left out unless
    /// --include-ci); with --rolling N, per day the distinct signatures of
    /// the N days ending on it.
    Active {
        /// Days of a rolling window: 7, 28 or 30.
        #[arg(long)]
        rolling: Option<u32>,
        #[command(flatten)]
        range: RangeArgs,
    },
    /// Version adoption: active signatures per period and version (with
    /// --latest: the newest release of each period and how many run it).
    Versions {
        /// Show the share on the newest release instead of every version.
        #[arg(long)]
        latest: bool,
        #[command(flatten)]
        range: RangeArgs,
    },
    /// Active signatures per period and OS (or --by arch|runtime|ci_name).
    Platforms {
        /// What to group by: os, arch, runtime or ci_name.
        #[arg(long, default_value = "os")]
        by: String,
        #[command(flatten)]
        range: RangeArgs,
    },
    /// Retention: signatures of each first-seen month active in later months.
    Retention(RangeArgs),
    /// Each alert's reach: active signatures on a version it affects, per period.
    Alerts(RangeArgs),
    /// Error-report groups seen in the range, groups of fewer than k
    /// signatures folded into (other).
    Errors(RangeArgs),
    /// Command usage per period and command path: runs, errors, error rate
    /// and distinct installations (the minimum group size counts installations).
    Commands(RangeArgs),
    /// Console usage per period and action (or --by route).
    Console {
        /// What to group by: action or route.
        #[arg(long, default_value = "action")]
        by: String,
        #[command(flatten)]
        range: RangeArgs,
    },
    /// Server heartbeats: instances per period, and p50/p90/max of each metric
    /// over the instances' latest values.
    Heartbeats(RangeArgs),
    /// Upgrades after a notice: per period of the notices, the signatures
    /// told `outdated`, how many were later seen on a newer version, the
    /// share and the median days it took; then the total.
    Upgrades(RangeArgs),
    /// Values dropped by validation, per product, front door, field and reason.
    Rejected {
        /// Only this product's.
        #[arg(long)]
        product: Option<String>,
        /// Output format.
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
}

/// The product, range and output of an analytics verb.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct RangeArgs {
    /// The product.
    #[arg(long)]
    product: String,
    /// First day, YYYY-MM-DD (default: 29 days before --to).
    #[arg(long)]
    from: Option<String>,
    /// Last day, included, YYYY-MM-DD (default: today, UTC).
    #[arg(long)]
    to: Option<String>,
    /// day, week (ISO, named by its Monday) or month.
    #[arg(long, default_value = "day")]
    interval: String,
    /// Count signatures whose first ping in the period was from CI too.
    #[arg(long)]
    include_ci: bool,
    /// Only signatures with this value, `dimension:value` (e.g.
    /// version:1.2.0; `active` only). Refused below the minimum group size.
    #[arg(long)]
    filter: Option<String>,
    /// Minimum group size when reading a data directory directly (a
    /// collector applies its own).
    #[arg(long, default_value_t = sonde_collector::analytics::kanon::DEFAULT_K)]
    min_group_size: u64,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    format: StatsFormat,
}

/// How analytics answers are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub(crate) enum StatsFormat {
    /// Aligned columns, and a sparkline under a series.
    #[default]
    Table,
    /// The admin API's JSON.
    Json,
    /// The admin API's CSV.
    Csv,
}

impl RangeArgs {
    /// The query for `metric` (and `dimension`), with the default range.
    fn params(&self, metric: &str, dimension: Option<&str>, window: Option<u32>) -> anyhow::Result<QueryParams> {
        let to = match &self.to {
            Some(d) => d.parse::<Day>().map_err(|e| UsageError(e.to_string()))?,
            None => Day::from_unix_ms(sonde_collector::clock::now_ms()),
        };
        let from = match &self.from {
            Some(d) => d.parse::<Day>().map_err(|e| UsageError(e.to_string()))?,
            None => to.add_days(-29),
        };
        Ok(QueryParams {
            product: Some(self.product.clone()),
            metric: Some(metric.to_owned()),
            from: Some(from.to_string()),
            to: Some(to.to_string()),
            interval: Some(self.interval.clone()),
            dimension: dimension.map(str::to_owned),
            include_ci: Some(self.include_ci.to_string()),
            format: None,
            filter: self.filter.clone(),
            window: window.map(|w| w.to_string()),
        })
    }
}

/// Runs an analytics verb: the query, then the answer printed.
fn analytics(global: &GlobalArgs, range: &RangeArgs, metric: &str, dimension: Option<&str>) -> anyhow::Result<()> {
    analytics_in(global, range, metric, dimension, None)
}

/// [`analytics`] with a rolling window.
fn analytics_in(
    global: &GlobalArgs,
    range: &RangeArgs,
    metric: &str,
    dimension: Option<&str>,
    window: Option<u32>,
) -> anyhow::Result<()> {
    let params = range.params(metric, dimension, window)?;
    let target = Target::open(global, false)?;
    match range.format {
        StatsFormat::Csv => {
            let csv = target.query_csv(&params, range.min_group_size)?;
            output::line(csv.trim_end())
        }
        StatsFormat::Json => output::json(&target.query(&params, range.min_group_size)?),
        StatsFormat::Table => {
            let answer = target.query(&params, range.min_group_size)?;
            print_table(&answer)
        }
    }
}

/// A figure of an answer: the number, or `<k`.
fn figure(v: &serde_json::Value) -> String {
    match v.get("fewer_than") {
        Some(k) => format!("<{k}"),
        None => v.to_string(),
    }
}

/// Eight levels of a sparkline.
const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/// A sparkline of the exact figures (a hidden one is drawn as the lowest bar).
fn sparkline(values: &[Option<u64>]) -> String {
    let max = values.iter().flatten().copied().max().unwrap_or(0);
    values
        .iter()
        .map(|v| match (v, max) {
            (Some(n), m) if m > 0 => BARS[(n * 7).div_ceil(m).min(7) as usize],
            _ => BARS[0],
        })
        .collect()
}

/// The header and cells of the `versions`, `alerts` and `errors` answers.
fn catalog_cells(metric: &str, rows: &[serde_json::Value]) -> (&'static [&'static str], Vec<Vec<String>>) {
    let text = |v: &serde_json::Value| v.as_str().unwrap_or("").to_owned();
    match metric {
        "versions" => (
            &["PERIOD", "LATEST", "ON_LATEST", "ACTIVE"],
            rows.iter()
                .map(|r| {
                    vec![
                        text(&r["period"]),
                        text(&r["latest"]),
                        figure(&r["on_latest"]),
                        figure(&r["active"]),
                    ]
                })
                .collect(),
        ),
        "alerts" => (
            &["ALERT", "LEVEL", "AFFECTS", "PERIOD", "REACH", "ACTIVE"],
            rows.iter()
                .map(|r| {
                    vec![
                        r["alert"].to_string(),
                        text(&r["level"]),
                        text(&r["affects"]),
                        text(&r["period"]),
                        figure(&r["reach"]),
                        figure(&r["active"]),
                    ]
                })
                .collect(),
        ),
        "errors" => (
            &["GROUP", "KIND", "REPORTS", "SIGNATURES", "VERSIONS"],
            rows.iter()
                .map(|r| {
                    let group = match &r["group"] {
                        serde_json::Value::Null => "(other)".to_owned(),
                        v => text(v),
                    };
                    let versions: Vec<String> = r["versions"]
                        .as_array()
                        .map(|vs| vs.iter().map(text).collect())
                        .unwrap_or_default();
                    vec![
                        group,
                        text(&r["kind"]),
                        r["reports"].to_string(),
                        figure(&r["signatures"]),
                        versions.join(" "),
                    ]
                })
                .collect(),
        ),
        _ => (&[], Vec::new()),
    }
}

/// Prints an answer (the admin API's JSON) as aligned columns.
fn print_table(answer: &serde_json::Value) -> anyhow::Result<()> {
    let rows = answer["rows"].as_array().cloned().unwrap_or_default();
    let text = |v: &serde_json::Value| v.as_str().unwrap_or("").to_owned();
    let (header, cells): (&[&str], Vec<Vec<String>>) = match answer["metric"].as_str() {
        Some("breakdown") => (
            &["PERIOD", "VALUE", "ACTIVE"],
            rows.iter()
                .map(|r| {
                    let value = match &r["value"] {
                        serde_json::Value::Null => "(other)".to_owned(),
                        v => text(v),
                    };
                    vec![text(&r["period"]), value, figure(&r["count"])]
                })
                .collect(),
        ),
        Some("cohorts") => (
            &["COHORT", "MONTH", "ACTIVE"],
            rows.iter()
                .map(|r| vec![text(&r["cohort"]), text(&r["month"]), figure(&r["count"])])
                .collect(),
        ),
        Some("unique") => (&["ACTIVE"], rows.iter().map(|r| vec![figure(&r["count"])]).collect()),
        Some("rolling") => (
            &["DAY", "ACTIVE_IN_WINDOW"],
            rows.iter()
                .map(|r| vec![text(&r["period"]), figure(&r["count"])])
                .collect(),
        ),
        Some("commands" | "console") => (
            &["PERIOD", "VALUE", "INSTALLATIONS", "EVENTS", "ERRORS", "ERROR_RATE"],
            rows.iter()
                .map(|r| {
                    let value = match &r["value"] {
                        serde_json::Value::Null => "(other)".to_owned(),
                        v => text(v),
                    };
                    let hidden = |v: &serde_json::Value| if v.is_null() { "-".to_owned() } else { v.to_string() };
                    let rate = r["error_rate"]
                        .as_f64()
                        .map_or_else(|| "-".to_owned(), |x| format!("{:.1}%", x * 100.0));
                    vec![
                        text(&r["period"]),
                        value,
                        figure(&r["installations"]),
                        hidden(&r["events"]),
                        hidden(&r["errors"]),
                        rate,
                    ]
                })
                .collect(),
        ),
        Some("heartbeats") => (
            &["PERIOD", "INSTANCES", "METRIC", "REPORTED_BY", "P50", "P90", "MAX"],
            heartbeat_cells(&rows),
        ),
        Some("upgrades") => (
            &["NOTICED", "TOLD", "UPGRADED", "SHARE", "MEDIAN_DAYS"],
            upgrade_cells(&rows),
        ),
        Some(metric @ ("versions" | "alerts" | "errors")) => catalog_cells(metric, &rows),
        _ => (
            &["PERIOD", "ACTIVE", "NEW", "RETURNING"],
            rows.iter()
                .map(|r| {
                    let split = |v: &serde_json::Value| if v.is_null() { "-".to_owned() } else { figure(v) };
                    vec![
                        text(&r["period"]),
                        figure(&r["count"]),
                        split(&r["new"]),
                        split(&r["returning"]),
                    ]
                })
                .collect(),
        ),
    };
    output::table(header, &cells)?;
    if (answer["metric"] == "active" || answer["metric"] == "rolling") && rows.len() > 1 {
        let values: Vec<Option<u64>> = rows.iter().map(|r| r["count"].as_u64()).collect();
        output::line(sparkline(&values))?;
    }
    let k = &answer["min_group_size"];
    let unit = match answer["metric"].as_str() {
        Some("commands" | "console") => "distinct installations",
        Some("heartbeats") => "instances",
        _ => "distinct signatures",
    };
    if answer["metric"] == "upgrades" {
        return output::line(format!(
            "(periods with fewer than {k} signatures told are withheld and left out of the total; - is withheld)"
        ));
    }
    output::line(format!(
        "(groups under {k} {unit} are folded into (other); <{k} is a hidden figure)"
    ))
}

/// The lines of an `upgrades` table: one per period of the notices, then
/// the total; a withheld figure is `-`.
fn upgrade_cells(rows: &[serde_json::Value]) -> Vec<Vec<String>> {
    let hidden = |v: &serde_json::Value| if v.is_null() { "-".to_owned() } else { figure(v) };
    rows.iter()
        .map(|r| {
            let period = match &r["period"] {
                serde_json::Value::Null => "(total)".to_owned(),
                v => v.as_str().unwrap_or("").to_owned(),
            };
            let share = r["share"]
                .as_f64()
                .map_or_else(|| "-".to_owned(), |x| format!("{:.1}%", x * 100.0));
            vec![
                period,
                figure(&r["told"]),
                hidden(&r["upgraded"]),
                share,
                hidden(&r["median_days"]),
            ]
        })
        .collect()
}

/// The lines of a `heartbeats` table: one per period and metric, a period
/// without metrics on one line of its own.
fn heartbeat_cells(rows: &[serde_json::Value]) -> Vec<Vec<String>> {
    let num = |v: &serde_json::Value| if v.is_null() { "-".to_owned() } else { v.to_string() };
    let mut out = Vec::new();
    for r in rows {
        let period = r["period"].as_str().unwrap_or("").to_owned();
        let instances = figure(&r["instances"]);
        let metrics = r["metrics"].as_array().cloned().unwrap_or_default();
        if metrics.is_empty() {
            out.push(vec![
                period,
                instances,
                "-".into(),
                "-".into(),
                "-".into(),
                "-".into(),
                "-".into(),
            ]);
            continue;
        }
        for m in metrics {
            out.push(vec![
                period.clone(),
                instances.clone(),
                m["path"].as_str().unwrap_or("").to_owned(),
                figure(&m["instances"]),
                num(&m["p50"]),
                num(&m["p90"]),
                num(&m["max"]),
            ]);
        }
    }
    out
}

/// Runs a stats verb.
pub(crate) fn run(global: &GlobalArgs, cmd: StatsCmd) -> anyhow::Result<()> {
    match cmd {
        StatsCmd::Active { rolling: None, range } => analytics(global, &range, "active", None),
        StatsCmd::Active {
            rolling: Some(window),
            range,
        } => analytics_in(global, &range, "rolling", None, Some(window)),
        StatsCmd::Versions { latest: false, range } => analytics(global, &range, "breakdown", Some("version")),
        StatsCmd::Versions { latest: true, range } => analytics(global, &range, "versions", None),
        StatsCmd::Alerts(range) => analytics(global, &range, "alerts", None),
        StatsCmd::Errors(range) => analytics(global, &range, "errors", None),
        StatsCmd::Platforms { by, range } => analytics(global, &range, "breakdown", Some(&by)),
        StatsCmd::Retention(range) => analytics(global, &range, "cohorts", None),
        StatsCmd::Commands(range) => analytics(global, &range, "commands", None),
        StatsCmd::Console { by, range } => analytics(global, &range, "console", Some(&by)),
        StatsCmd::Heartbeats(range) => analytics(global, &range, "heartbeats", None),
        StatsCmd::Upgrades(range) => analytics(global, &range, "upgrades", None),
        StatsCmd::Mau { product, month, format } => {
            let month = match month {
                None => sonde_collector::clock::this_month(),
                Some(m) => m.parse::<Month>().map_err(|e| UsageError(e.to_string()))?,
            };
            let target = Target::open(global, false)?;
            let answer = target.mau(&product, month)?;
            match format {
                Format::Json => output::json(&answer),
                Format::Table => output::table(
                    &["PRODUCT", "MONTH", "ACTIVE_SIGNATURES"],
                    &[vec![answer.product, answer.month, answer.active_signatures.to_string()]],
                ),
            }
        }
        StatsCmd::Rejected { product, format } => {
            let target = Target::open(global, false)?;
            let rows = target.rejections(product.as_deref())?;
            match format {
                Format::Json => output::json(&rows),
                Format::Table => output::table(
                    &["PRODUCT", "SOURCE", "FIELD", "REASON", "COUNT"],
                    &rows
                        .iter()
                        .map(|r| {
                            vec![
                                r.product.clone(),
                                r.source.clone(),
                                r.field.clone(),
                                r.reason.clone(),
                                r.count.to_string(),
                            ]
                        })
                        .collect::<Vec<_>>(),
                ),
            }
        }
    }
}
