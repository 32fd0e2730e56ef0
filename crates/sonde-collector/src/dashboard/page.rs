//! The dashboard's HTML, rendered on the server with `maud` (every value
//! escaped by construction): the sign-in page, the dashboard of one
//! product, and the page of a request that cannot be shown.
//!
//! Each chart is an empty `div.chart` plus its data in a
//! `<script type="application/json">` block (JSON with `<`, `>` and `&`
//! escaped, so no string can close the block); `dashboard.js` draws it with
//! uPlot. Every chart's numbers are also in a table beside it.

use maud::{html, Markup, PreEscaped, DOCTYPE};
use serde::Serialize;

use super::assets::url;
use crate::analytics::kanon::{Figure, Group};
use crate::analytics::upgrades::UpgradeRow;
use crate::analytics::views::{
    ActivePanel, AlertsPanel, CommandsPanel, Dashboard, ErrorsPanel, PlatformsPanel, RetentionPanel, UpgradesPanel,
    VersionsPanel, ROLLING_DAYS,
};

/// The document around `body`.
fn document(title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="referrer" content="no-referrer";
                title { (title) }
                link rel="stylesheet" href=(url("uPlot.min.css"));
                link rel="stylesheet" href=(url("dashboard.css"));
            }
            body { (body) }
        }
    }
}

/// The sign-in page, with `message` when the last attempt failed.
pub fn sign_in(message: Option<&str>) -> Markup {
    document(
        "Sign in · Sonde",
        html! {
            main class="signin" {
                h1 { "Sonde" }
                p { "Sign in with the collector's admin token." }
                @if let Some(m) = message {
                    p class="error" role="alert" { (m) }
                }
                form method="post" action="/session" {
                    label for="token" { "Admin token" }
                    input id="token" type="password" name="token" autocomplete="off" required autofocus;
                    button type="submit" { "Sign in" }
                }
                p class="hint" { "The token is in " code { "<data-dir>/admin-token" } "." }
            }
        },
    )
}

/// The header of a signed-in page: the product and range picker, sign out.
fn top(products: &[String], current: Option<&str>, from: &str, to: &str) -> Markup {
    html! {
        header class="top" {
            div class="brand" {
                h1 { "Sonde" }
                @if let Some(p) = current { span class="product" { (p) } }
            }
            form class="controls" method="get" action="/" {
                label { "Product "
                    select name="product" {
                        @for p in products {
                            option value=(p) selected[Some(p.as_str()) == current] { (p) }
                        }
                    }
                }
                label { "From " input type="date" name="from" value=(from); }
                label { "To " input type="date" name="to" value=(to); }
                button type="submit" { "Show" }
                @if let Some(p) = current {
                    span class="presets" {
                        a href=(format!("/?product={p}&days=30")) { "30 days" }
                        a href=(format!("/?product={p}&days=90")) { "90 days" }
                    }
                }
            }
            form class="signout" method="post" action="/session/logout" {
                button type="submit" { "Sign out" }
            }
        }
    }
}

/// A signed-in page that shows only `message` (no product, a bad parameter).
pub fn message(products: &[String], current: Option<&str>, from: &str, to: &str, message: &str) -> Markup {
    document(
        "Sonde",
        html! {
            (top(products, current, from, to))
            main { p class="message" role="alert" { (message) } }
        },
    )
}

/// The dashboard of `d`.
pub fn dashboard(products: &[String], d: &Dashboard) -> Markup {
    let k = d.k;
    document(
        &format!("{} · Sonde", d.product),
        html! {
            (top(products, Some(&d.product), &d.from, &d.to))
            main {
                p class="summary" {
                    (d.from) " to " (d.to) ", UTC days. Minimum group size " strong { (k) } ": smaller groups are folded into "
                    em { "other" } ", and a figure from 1 to " (k - 1) " shows as " em { "fewer than " (k) } "."
                }
                div class="grid" {
                    (active(&d.active))
                    (versions(&d.versions))
                    (platforms(&d.platforms))
                    (commands(&d.commands))
                    (alerts(&d.alerts))
                    (errors(&d.errors))
                    (retention(&d.retention))
                    (upgrades(&d.upgrades))
                }
            }
            footer {
                "Charts drawn with uPlot ("
                a href=(url("uPlot.LICENSE.txt")) { "MIT licence" } ")."
            }
            script src=(url("uPlot.iife.min.js")) {}
            script src=(url("dashboard.js")) {}
        },
    )
}

/// A chart's data as `dashboard.js` reads it.
#[derive(Debug, Serialize)]
struct Chart {
    /// `line`, `stacked` (shares, stacked areas) or `bars`.
    kind: &'static str,
    /// Days (`YYYY-MM-DD`) for `line` and `stacked`; category labels for `bars`.
    x: Vec<String>,
    series: Vec<Series>,
    /// A unit the values are in (`%` or empty).
    unit: &'static str,
}

#[derive(Debug, Serialize)]
struct Series {
    label: String,
    /// `null` where the figure is hidden or absent.
    values: Vec<Option<f64>>,
}

/// The value a figure is charted as: hidden figures leave a gap.
fn charted(f: Figure) -> Option<f64> {
    match f {
        Figure::Exact(n) => Some(n as f64),
        Figure::FewerThan { .. } => None,
    }
}

/// The chart container and its JSON data block.
fn chart(id: &str, label: &str, data: &Chart) -> Markup {
    let json = serde_json::to_string(data)
        .unwrap_or_else(|_| "null".to_owned())
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026");
    html! {
        div class="chart" data-chart=(id) role="img" aria-label=(label) {}
        script type="application/json" id=(format!("data-{id}")) { (PreEscaped(json)) }
    }
}

/// A table cell: text, right-aligned when it is a number.
enum Cell {
    Text(String),
    Num(String),
}

fn table(caption: &str, head: &[&str], rows: &[Vec<Cell>]) -> Markup {
    // A column of numbers is right-aligned, its heading too.
    let numeric: Vec<bool> = (0..head.len())
        .map(|i| match rows.first().and_then(|r| r.get(i)) {
            Some(Cell::Num(_)) => true,
            Some(Cell::Text(_)) => false,
            None => i > 0,
        })
        .collect();
    html! {
        div class="table-wrap" {
            table {
                caption { (caption) }
                thead { tr {
                    @for (i, h) in head.iter().enumerate() {
                        th scope="col" class=[numeric[i].then_some("num")] { (h) }
                    }
                } }
                tbody {
                    @for row in rows { tr {
                        @for cell in row {
                            @match cell {
                                Cell::Text(t) => td { (t) },
                                Cell::Num(n) => td class="num" { (n) },
                            }
                        }
                    } }
                }
            }
        }
    }
}

fn other(value: &Option<String>) -> String {
    value.clone().unwrap_or_else(|| "other".to_owned())
}

fn percent(share: Option<f64>) -> String {
    share.map_or_else(|| "–".to_owned(), |s| format!("{:.1}%", s * 100.0))
}

fn panel(id: &str, wide: bool, title: &str, note: Markup, body: Markup) -> Markup {
    html! {
        section class=(if wide { "panel wide" } else { "panel" }) id=(id) {
            h2 { (title) }
            p class="note" { (note) }
            (body)
        }
    }
}

fn active(a: &ActivePanel) -> Markup {
    let data = Chart {
        kind: "line",
        x: a.days.clone(),
        series: vec![
            Series {
                label: "Humans".into(),
                values: a.humans.iter().copied().map(charted).collect(),
            },
            Series {
                label: "CI".into(),
                values: a.ci.iter().map(|f| f.and_then(charted)).collect(),
            },
            Series {
                label: format!("Humans, {ROLLING_DAYS} days"),
                values: a.rolling.iter().copied().map(charted).collect(),
            },
        ],
        unit: "",
    };
    let rows: Vec<Vec<Cell>> = a
        .days
        .iter()
        .zip(&a.humans)
        .zip(&a.ci)
        .zip(&a.rolling)
        .rev()
        .map(|(((d, h), ci), r)| {
            vec![
                Cell::Text(d.clone()),
                Cell::Num(h.to_string()),
                Cell::Num(ci.map_or_else(|| "–".to_owned(), |f| f.to_string())),
                Cell::Num(r.to_string()),
            ]
        })
        .collect();
    let rolling_head = format!("Humans, {ROLLING_DAYS} days");
    panel(
        "active",
        true,
        "Active signatures per day",
        html! { "Distinct signatures seen each day: humans, and apart from them the signatures whose first ping of the day came from CI; and the humans seen in the " (ROLLING_DAYS) " days ending on each day." },
        html! {
            (chart("active", "Active signatures per day", &data))
            details { summary { "Numbers" } (table("Active signatures per day, latest first", &["Day", "Humans", "CI", &rolling_head], &rows)) }
        },
    )
}

fn versions(v: &VersionsPanel) -> Markup {
    let shares: Vec<Vec<Option<f64>>> = (0..v.days.len()).map(|d| v.shares(d)).collect();
    let data = Chart {
        kind: "stacked",
        x: v.days.clone(),
        series: v
            .series
            .iter()
            .enumerate()
            .map(|(i, s)| Series {
                label: other(&s.version),
                values: shares.iter().map(|day| day[i].map(|x| x * 100.0)).collect(),
            })
            .collect(),
        unit: "%",
    };
    let mut head = vec!["Day".to_owned()];
    head.extend(v.series.iter().map(|s| other(&s.version)));
    let head: Vec<&str> = head.iter().map(String::as_str).collect();
    let rows: Vec<Vec<Cell>> = (0..v.days.len())
        .rev()
        .filter(|&d| v.series.iter().any(|s| s.counts[d] != Figure::Exact(0)))
        .map(|d| {
            let mut row = vec![Cell::Text(v.days[d].clone())];
            row.extend(
                v.series
                    .iter()
                    .zip(&shares[d])
                    .map(|(s, share)| Cell::Num(format!("{} ({})", s.counts[d], percent(*share)))),
            );
            row
        })
        .collect();
    panel(
        "versions",
        true,
        "Version adoption",
        html! { "Share of each day's humans per version (the version of their first ping that day)." },
        html! {
            @if v.series.is_empty() {
                p class="empty" { "No signatures in this range." }
            } @else {
                (chart("versions", "Version adoption per day", &data))
                details { summary { "Numbers" } (table("Humans per version per day, latest first", &head, &rows)) }
            }
        },
    )
}

fn bars(id: &str, title: &str, label: &str, groups: &[Group]) -> Markup {
    let data = Chart {
        kind: "bars",
        x: groups.iter().map(|g| other(&g.value)).collect(),
        series: vec![Series {
            label: label.to_owned(),
            values: groups.iter().map(|g| charted(g.count)).collect(),
        }],
        unit: "",
    };
    let rows: Vec<Vec<Cell>> = groups
        .iter()
        .map(|g| vec![Cell::Text(other(&g.value)), Cell::Num(g.count.to_string())])
        .collect();
    html! {
        div class="sub" {
            h3 { (title) }
            @if groups.is_empty() {
                p class="empty" { "No signatures this month." }
            } @else {
                (chart(id, title, &data))
                (table(title, &[title, label], &rows))
            }
        }
    }
}

fn platforms(p: &PlatformsPanel) -> Markup {
    panel(
        "platforms",
        true,
        "Platforms",
        html! { "Humans active in " (p.month) ", by their first ping's platform." },
        html! {
            div class="pair" {
                (bars("os", "OS", "Signatures", &p.os))
                (bars("arch", "Architecture", "Signatures", &p.arch))
            }
        },
    )
}

fn commands(c: &CommandsPanel) -> Markup {
    let data = Chart {
        kind: "bars",
        x: c.rows.iter().map(|r| other(&r.command)).collect(),
        series: vec![
            Series {
                label: "Runs".into(),
                values: c.rows.iter().map(|r| charted(r.uses)).collect(),
            },
            Series {
                label: "Errors".into(),
                values: c.rows.iter().map(|r| r.errors.map(|e| e as f64)).collect(),
            },
        ],
        unit: "",
    };
    let rows: Vec<Vec<Cell>> = c
        .rows
        .iter()
        .map(|r| {
            vec![
                Cell::Text(other(&r.command)),
                Cell::Num(r.uses.to_string()),
                Cell::Num(r.errors.map_or_else(|| "–".to_owned(), |e| e.to_string())),
                Cell::Num(percent(r.error_rate())),
            ]
        })
        .collect();
    let months = if c.from_month == c.to_month {
        c.from_month.clone()
    } else {
        format!("{} to {}", c.from_month, c.to_month)
    };
    panel(
        "commands",
        true,
        "Commands",
        html! { "Command runs in " (months) " and how many ended in an error. A command run fewer than k times is in “other”." },
        html! {
            @if c.rows.is_empty() {
                p class="empty" { "No command events in these months." }
            } @else {
                (chart("commands", "Command runs and errors", &data))
                (table("Command runs and errors", &["Command", "Runs", "Errors", "Error rate"], &rows))
            }
        },
    )
}

fn alerts(a: &AlertsPanel) -> Markup {
    let rows: Vec<Vec<Cell>> = a
        .alerts
        .iter()
        .map(|x| {
            vec![
                Cell::Text(x.level.clone()),
                Cell::Text(x.message.clone()),
                Cell::Text(x.affects.clone().unwrap_or_else(|| "every version".to_owned())),
                Cell::Num(x.reach.to_string()),
            ]
        })
        .collect();
    panel(
        "alerts",
        false,
        "Alerts in force",
        html! { "Reach: humans active in " (a.month) " on an affected version." },
        html! {
            @if a.alerts.is_empty() {
                p class="empty" { "No alerts." }
            } @else {
                (table("Alerts in force", &["Level", "Message", "Affects", "Reach"], &rows))
            }
        },
    )
}

fn errors(e: &ErrorsPanel) -> Markup {
    let rows: Vec<Vec<Cell>> = e
        .groups
        .iter()
        .map(|g| {
            vec![
                Cell::Text(if g.group.is_some() {
                    g.title.clone()
                } else {
                    "other".to_owned()
                }),
                Cell::Num(g.reports.map_or_else(|| "–".to_owned(), |n| n.to_string())),
                Cell::Num(g.signatures.to_string()),
                Cell::Num(
                    g.last_seen_ms
                        .map_or_else(|| "–".to_owned(), |ms| sonde_store::Day::from_unix_ms(ms).to_string()),
                ),
            ]
        })
        .collect();
    panel(
        "errors",
        false,
        "Error reports",
        html! { "Groups of the reports kept, latest first. A group from fewer than k installations is in “other”." },
        html! {
            @if e.groups.is_empty() {
                p class="empty" { "No error reports." }
            } @else {
                (table("Error-report groups", &["Error", "Reports", "Signatures", "Last seen"], &rows))
            }
        },
    )
}

fn retention(r: &RetentionPanel) -> Markup {
    let mut head = vec!["First seen".to_owned()];
    head.extend(r.months.iter().cloned());
    let head: Vec<&str> = head.iter().map(String::as_str).collect();
    let rows: Vec<Vec<Cell>> = r
        .months
        .iter()
        .zip(&r.cells)
        .map(|(cohort, cells)| {
            let mut row = vec![Cell::Text(cohort.clone())];
            row.extend(
                cells
                    .iter()
                    .map(|c| Cell::Num(c.map_or_else(String::new, |f| f.to_string()))),
            );
            row
        })
        .collect();
    panel(
        "retention",
        true,
        "Retention",
        html! { "Humans by the month they were first seen (rows), active in each month since (columns)." },
        html! { (table("Retention by first-seen month", &head, &rows)) },
    )
}

fn upgrades(u: &UpgradesPanel) -> Markup {
    let share = |r: &UpgradeRow| r.share.as_ref().and_then(|s| s.as_f64());
    let data = Chart {
        kind: "bars",
        x: u.weeks.iter().map(|r| r.period.clone().unwrap_or_default()).collect(),
        series: vec![Series {
            label: "Upgraded (%)".into(),
            values: u.weeks.iter().map(|r| share(r).map(|s| s * 100.0)).collect(),
        }],
        unit: "%",
    };
    let dash = || "–".to_owned();
    let row = |label: String, r: &UpgradeRow| {
        vec![
            Cell::Text(label),
            Cell::Num(r.told.to_string()),
            Cell::Num(r.upgraded.map_or_else(dash, |f| f.to_string())),
            Cell::Num(share(r).map_or_else(dash, |s| percent(Some(s)))),
            Cell::Num(r.median_days.map_or_else(dash, |d| d.to_string())),
        ]
    };
    let mut rows: Vec<Vec<Cell>> = u
        .weeks
        .iter()
        .map(|r| row(format!("week of {}", r.period.as_deref().unwrap_or("")), r))
        .collect();
    rows.push(row("all weeks shown".to_owned(), &u.total));
    let title = "Upgrades after an outdated notice";
    panel(
        "upgrades",
        true,
        "Upgrades after a notice",
        html! {
            "Humans first told their version is outdated, by the week they were told, and how many ran a newer "
            "version since (median days to do so). A week with fewer than k told is withheld; “–” is withheld."
        },
        html! {
            @if u.total.told == Figure::Exact(0) && u.weeks.iter().all(|r| r.told == Figure::Exact(0)) {
                p class="empty" { "Nobody was told their version is outdated in this range." }
            } @else {
                (chart("upgrades", title, &data))
                (table(title, &["Told in", "Told", "Upgraded", "Share", "Median days"], &rows))
            }
        },
    )
}
