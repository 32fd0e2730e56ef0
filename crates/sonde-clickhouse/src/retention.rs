//! Retention in ClickHouse: raw events older than the cutoff are added to
//! `event_rollups` (under this pass's id, each event once), then deleted
//! with `ALTER TABLE … DELETE`, whose mutation the pass waits for, and so
//! are old error reports.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use sonde_store::rollup::rollup_key;
use sonde_store::{Month, RetentionOutcome};

use crate::client::{json_lines, lit, Client};
use crate::{seq, ClickHouseError};

/// How long a pass waits for ClickHouse to finish its deletions.
const MUTATION_WAIT: Duration = Duration::from_secs(120);

/// What a roll-up counts under: (product, kind, test, month, key).
type RollupKey = (String, String, u8, String, String);

/// Applies retention at `cutoff_ms`.
pub(crate) fn apply(c: &Client, cutoff_ms: i64) -> Result<RetentionOutcome, ClickHouseError> {
    #[derive(Deserialize)]
    struct Expired {
        product: String,
        #[serde(rename = "a_kind")]
        kind: String,
        #[serde(rename = "a_test")]
        test: u8,
        #[serde(rename = "a_at_ms")]
        at_ms: i64,
        #[serde(rename = "a_fields")]
        fields: String,
    }
    #[derive(Serialize)]
    struct Rollup<'a> {
        product: &'a str,
        kind: &'a str,
        test: u8,
        month: &'a str,
        key: &'a str,
        count: u64,
        errors: u64,
        pass: &'a str,
    }
    let db = &c.endpoint().database;
    let expired: Vec<Expired> = c.rows(&format!(
        "SELECT product, any(kind) AS a_kind, any(test) AS a_test, any(at_ms) AS a_at_ms, any(fields) AS a_fields
         FROM {db}.events WHERE at_ms < {cutoff_ms} GROUP BY product, id"
    ))?;
    let mut sums: BTreeMap<RollupKey, (u64, u64)> = BTreeMap::new();
    for e in &expired {
        let (key, error) = rollup_key(&e.kind, &e.fields);
        let month = Month::from_unix_ms(e.at_ms).to_string();
        let s = sums
            .entry((e.product.clone(), e.kind.clone(), e.test, month, key))
            .or_default();
        s.0 += 1;
        s.1 += u64::from(error);
    }
    let pass = seq::random_id();
    let rows: Vec<Rollup<'_>> = sums
        .iter()
        .map(|((product, kind, test, month, key), (count, errors))| Rollup {
            product,
            kind,
            test: *test,
            month,
            key,
            count: *count,
            errors: *errors,
            pass: &pass,
        })
        .collect();
    let reports = c.count(&format!(
        "SELECT uniqExact(product, report_id) AS n FROM {db}.error_reports WHERE at_ms < {cutoff_ms}"
    ))?;
    c.insert("event_rollups", &json_lines(&rows))?;
    // Mutations run on each shard's own rows (a Distributed table takes none).
    for shard in c.shards() {
        if !expired.is_empty() {
            shard.execute(&format!(
                "ALTER TABLE {} DELETE WHERE at_ms < {cutoff_ms}",
                shard.local_table("events")
            ))?;
        }
        if reports > 0 {
            shard.execute(&format!(
                "ALTER TABLE {} DELETE WHERE at_ms < {cutoff_ms}",
                shard.local_table("error_reports")
            ))?;
        }
    }
    for shard in c.shards() {
        wait_for_mutations(&shard)?;
    }
    Ok(RetentionOutcome {
        deleted: expired.len() as u64,
        error_reports_deleted: reports,
    })
}

/// Waits until no mutation of the store's tables is running.
fn wait_for_mutations(c: &Client) -> Result<(), ClickHouseError> {
    let start = Instant::now();
    let db = &c.endpoint().database;
    loop {
        let running = c.count(&format!(
            "SELECT count() AS n FROM system.mutations WHERE database = {} AND is_done = 0",
            lit(db)
        ))?;
        if running == 0 || start.elapsed() > MUTATION_WAIT {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}
