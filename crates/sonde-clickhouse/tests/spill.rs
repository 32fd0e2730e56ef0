//! The spill file on its own: it counts the rows its bodies hold (what
//! `sonde_spill_depth` exports), counts them again from the file when
//! reopened (a collector restarted mid-outage), refuses a batch past its
//! bound, and hands its bodies out oldest first. Draining into a real
//! ClickHouse, and what stays when it fails, is tested end to end in
//! `collectors.rs` and `outage.rs`.

use sonde_clickhouse::spill::{Spill, SpillError};

/// A `JSONEachRow` body of `n` rows.
fn body(n: usize) -> Vec<u8> {
    (0..n)
        .map(|i| format!("{{\"id\":\"r{i}\"}}\n"))
        .collect::<String>()
        .into_bytes()
}

#[test]
fn rows_are_counted_kept_across_a_reopen_and_drained_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let mut spill = Spill::open(dir.path(), 1 << 20).unwrap();
    assert_eq!((spill.len(), spill.rows()), (0, 0));
    spill
        .push(&[("events", body(3)), ("pings", body(2)), ("rejections", Vec::new())])
        .unwrap();
    spill.push(&[("events", body(4))]).unwrap();
    // Empty bodies are not kept.
    assert_eq!((spill.len(), spill.rows()), (3, 9));
    drop(spill);

    let mut spill = Spill::open(dir.path(), 1 << 20).unwrap();
    assert_eq!((spill.len(), spill.rows()), (3, 9));
    let mut tables = Vec::new();
    spill
        .drain(|table, _| {
            tables.push(table.to_owned());
            Ok(())
        })
        .unwrap();
    assert_eq!(tables, ["events", "pings", "events"]);
    assert_eq!((spill.len(), spill.rows()), (0, 0));
}

#[test]
fn a_batch_past_the_bound_is_refused_whole() {
    let dir = tempfile::tempdir().unwrap();
    let mut spill = Spill::open(dir.path(), 100).unwrap();
    spill.push(&[("events", body(2))]).unwrap();
    let rows = spill.rows();
    let err = spill.push(&[("events", body(2)), ("pings", body(5))]).unwrap_err();
    assert!(matches!(err, SpillError::Full { .. }), "{err}");
    assert_eq!(spill.rows(), rows);
    assert_eq!(spill.len(), 1);
}
