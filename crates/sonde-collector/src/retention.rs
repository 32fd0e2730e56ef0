//! Raw-event retention: a background task deletes events received more than
//! [`crate::Config::event_retention`] ago (400 days by default), once at
//! start and then every [`crate::Config::retention_interval`] (1 h). Each
//! deleted event is first counted in the monthly roll-ups
//! ([`sonde_store::Store::apply_retention`]), so the counts analytics
//! reads survive. Error reports received before the same cutoff are deleted
//! too; their groups' figures are read from the reports kept.

use std::sync::Arc;
use std::time::Duration;

use sonde_store::{RetentionOutcome, Store, StoreError};
use tokio::sync::watch;

/// One retention pass now: deletes events and error reports received
/// before `now - max_age`.
pub async fn run_once(store: &Arc<dyn Store>, max_age: Duration) -> Result<RetentionOutcome, StoreError> {
    let cutoff = crate::clock::now_ms().saturating_sub(max_age.as_millis().min(i64::MAX as u128) as i64);
    let store = store.clone();
    let out = tokio::task::spawn_blocking(move || store.apply_retention(cutoff))
        .await
        .map_err(StoreError::write)??;
    Ok(out)
}

/// The periodic task; returns when `stop` turns true.
pub async fn task(store: Arc<dyn Store>, max_age: Duration, every: Duration, mut stop: watch::Receiver<bool>) {
    loop {
        match run_once(&store, max_age).await {
            Ok(out) if out == RetentionOutcome::default() => {}
            Ok(out) => tracing::info!(
                deleted = out.deleted,
                error_reports_deleted = out.error_reports_deleted,
                "retention: expired raw events rolled up and deleted, expired error reports deleted"
            ),
            Err(e) => tracing::warn!(error = %e, "retention pass failed; retrying next interval"),
        }
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = stop.wait_for(|s| *s) => return,
        }
    }
}
