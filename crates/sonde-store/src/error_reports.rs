//! Error reports in the store: the write ([`NewErrorReport`]), what it
//! answers ([`ReportStored`]) and the groups read back ([`ErrorGroup`],
//! [`ErrorGroupDetail`]).
//!
//! A report is stored once per `(product, report_id)`, under its group (the
//! fingerprint of [`sonde_protocol::error_report::ErrorReport::fingerprint`],
//! computed when the write is built). Group figures — count, distinct
//! signatures, first and last seen, versions and OS — cover the reports
//! still kept. The memory and ClickHouse backends sum them from the rows
//! when read, with [`Aggregate`]; SQLite keeps them in roll-ups written with
//! each report and rebuilt for the groups retention touches
//! (`sqlite/error_groups.rs`). Either way the sums become answers through
//! [`GroupTotals::assemble`], so every backend names, ranks and orders them
//! the same way.

use std::collections::{BTreeMap, HashSet};

use serde::{Deserialize, Serialize};
use sonde_protocol::error_report::ErrorReport;
use sonde_protocol::ping::Dropped;
use sonde_protocol::ProductName;

/// An error report to store; its dropped fields are counted under the
/// front door [`NewErrorReport::SOURCE`].
#[derive(Debug, Clone)]
pub struct NewErrorReport {
    /// The product.
    pub product: ProductName,
    /// The validated, scrubbed report.
    pub report: ErrorReport,
    /// Its group (fingerprint).
    pub group: String,
    /// When the collector received it, Unix milliseconds.
    pub received_at_ms: i64,
    /// What was dropped from it.
    pub dropped: Vec<Dropped>,
}

impl NewErrorReport {
    /// The front door name its rejections are counted under.
    pub const SOURCE: &'static str = "error_report";

    /// The write of `report`, grouped by its fingerprint.
    pub fn new(product: ProductName, report: ErrorReport, received_at_ms: i64, dropped: Vec<Dropped>) -> Self {
        let group = report.fingerprint();
        NewErrorReport {
            product,
            report,
            group,
            received_at_ms,
            dropped,
        }
    }
}

/// What storing a report did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportStored {
    /// The report's id.
    pub report_id: String,
    /// The group it is stored under (for a duplicate: the stored copy's).
    pub group: String,
    /// Whether a report with this id was already stored (nothing was written).
    pub duplicate: bool,
}

/// How many reports had one value (a version, an OS).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ValueCount {
    /// The value.
    pub value: String,
    /// How many reports.
    pub count: u64,
}

/// One group of reports and its figures, over the reports still kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorGroup {
    /// The group's id (fingerprint, `v1:…`).
    pub group: String,
    /// The error kind of its latest report.
    pub kind: String,
    /// The message of its latest report.
    pub message: String,
    /// Reports in the group.
    pub count: u64,
    /// Distinct installation signatures among them (exact).
    pub signatures: u64,
    /// When the first was received, Unix milliseconds.
    pub first_seen_ms: i64,
    /// When the last was received, Unix milliseconds.
    pub last_seen_ms: i64,
    /// Reports per tool version, most first (reports without one are left out).
    pub versions: Vec<ValueCount>,
    /// Reports per OS, most first (reports without one are left out).
    pub os: Vec<ValueCount>,
}

/// A group with its sample: the latest report received.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorGroupDetail {
    /// The group.
    #[serde(flatten)]
    pub group: ErrorGroup,
    /// Its latest report.
    pub sample: StoredErrorReport,
}

/// A stored report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredErrorReport {
    /// When the collector received it, Unix milliseconds.
    pub received_at_ms: i64,
    /// The report as stored.
    pub report: ErrorReport,
}

/// One stored report as the group figures need it (every backend feeds
/// its rows to [`Aggregate`], so their figures agree).
#[derive(Debug, Clone, Copy)]
pub struct ReportRow<'a> {
    /// Its group.
    pub group: &'a str,
    /// The tool version it reported.
    pub version: Option<&'a str>,
    /// The OS it reported.
    pub os: Option<&'a str>,
    /// Its installation signature.
    pub signature: Option<&'a str>,
    /// When it was received, Unix milliseconds.
    pub received_at_ms: i64,
    /// Storage order: the latest report has the highest.
    pub seq: i64,
}

/// Group figures being summed over report rows, in any order.
#[derive(Debug, Default)]
pub struct Aggregate {
    groups: BTreeMap<String, Sums>,
}

#[derive(Debug, Default)]
struct Sums {
    count: u64,
    signatures: HashSet<String>,
    first: i64,
    last: i64,
    latest_seq: i64,
    versions: BTreeMap<String, u64>,
    os: BTreeMap<String, u64>,
}

impl Aggregate {
    /// Adds one report.
    pub fn add(&mut self, row: ReportRow<'_>) {
        let s = self.groups.entry(row.group.to_owned()).or_default();
        if s.count == 0 {
            (s.first, s.last, s.latest_seq) = (row.received_at_ms, row.received_at_ms, row.seq);
        }
        s.count += 1;
        s.first = s.first.min(row.received_at_ms);
        s.last = s.last.max(row.received_at_ms);
        s.latest_seq = s.latest_seq.max(row.seq);
        if let Some(sig) = row.signature {
            s.signatures.insert(sig.to_owned());
        }
        if let Some(v) = row.version {
            *s.versions.entry(v.to_owned()).or_default() += 1;
        }
        if let Some(os) = row.os {
            *s.os.entry(os.to_owned()).or_default() += 1;
        }
    }

    /// The groups, latest seen first, each with its latest report, which
    /// `sample` reads by its storage order.
    pub fn finish<E>(
        self,
        sample: impl FnMut(i64) -> Result<StoredErrorReport, E>,
    ) -> Result<Vec<ErrorGroupDetail>, E> {
        let totals = self
            .groups
            .into_iter()
            .map(|(group, s)| GroupTotals {
                group,
                count: s.count,
                signatures: s.signatures.len() as u64,
                first_seen_ms: s.first,
                last_seen_ms: s.last,
                latest_seq: s.latest_seq,
                versions: s.versions,
                os: s.os,
            })
            .collect();
        GroupTotals::assemble(totals, sample)
    }
}

/// One group's figures before they become an answer: what [`Aggregate`]
/// sums from rows, or what a backend keeps rolled up.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GroupTotals {
    /// The group's id.
    pub group: String,
    /// Reports in the group.
    pub count: u64,
    /// Distinct installation signatures among them.
    pub signatures: u64,
    /// When the first was received, Unix milliseconds.
    pub first_seen_ms: i64,
    /// When the last was received, Unix milliseconds.
    pub last_seen_ms: i64,
    /// The storage order of its latest report (the sample).
    pub latest_seq: i64,
    /// Reports per tool version.
    pub versions: BTreeMap<String, u64>,
    /// Reports per OS.
    pub os: BTreeMap<String, u64>,
}

impl GroupTotals {
    /// The groups as answers, latest seen first (then by id), each with its
    /// latest report, which `sample` reads by its storage order; kind and
    /// message are the sample's.
    pub fn assemble<E>(
        totals: Vec<GroupTotals>,
        mut sample: impl FnMut(i64) -> Result<StoredErrorReport, E>,
    ) -> Result<Vec<ErrorGroupDetail>, E> {
        let mut out = Vec::with_capacity(totals.len());
        for t in totals {
            let latest = sample(t.latest_seq)?;
            out.push(ErrorGroupDetail {
                group: ErrorGroup {
                    group: t.group,
                    kind: latest.report.kind.clone(),
                    message: latest.report.message.clone(),
                    count: t.count,
                    signatures: t.signatures,
                    first_seen_ms: t.first_seen_ms,
                    last_seen_ms: t.last_seen_ms,
                    versions: ranked(t.versions),
                    os: ranked(t.os),
                },
                sample: latest,
            });
        }
        out.sort_by(|x, y| {
            let (a, b) = (&x.group, &y.group);
            b.last_seen_ms.cmp(&a.last_seen_ms).then_with(|| a.group.cmp(&b.group))
        });
        Ok(out)
    }
}

/// Counts, most first, then by value.
fn ranked(counts: BTreeMap<String, u64>) -> Vec<ValueCount> {
    let mut v: Vec<ValueCount> = counts
        .into_iter()
        .map(|(value, count)| ValueCount { value, count })
        .collect();
    v.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.value.cmp(&b.value)));
    v
}
