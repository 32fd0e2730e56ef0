//! The ingestion pipeline: the one path from every front door (checkpoint,
//! go-checkpoint telemetry, Hasura, native, error reports) to the store.
//!
//! Front doors decode and validate; the pipeline checks the product is
//! registered, hands the write to the store's group-commit writer, and
//! resolves only after the batch holding it has committed. Dropped values are
//! counted per `(product, source, field, reason)` in the same transaction.
//! What was committed is also counted in [`crate::metrics::Metrics`].

use std::sync::Arc;

use serde::Serialize;
use sonde_protocol::ping::Dropped;
use sonde_protocol::{Event, ProductName, UsagePing};
use sonde_store::{NewErrorReport, NewEvents, NewPing, ReportStored, Store, StoreError};

use crate::catalog::CatalogHandle;
use crate::metrics::Metrics;

/// What a batch of events became.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct IngestSummary {
    /// Newly stored events.
    pub stored: u64,
    /// Events already stored (a retry), ignored.
    pub duplicates: u64,
    /// Values dropped by validation (counted in the rejection counters).
    pub dropped: u64,
}

/// Why a submission was not stored.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    /// Nobody registered the product: nothing is stored.
    #[error("unknown product {0:?}")]
    UnknownProduct(String),
    /// An event names another product than the batch.
    #[error("event for product {found:?} in a batch for {expected:?}")]
    ProductMismatch {
        /// The batch's product.
        expected: String,
        /// The event's product.
        found: String,
    },
    /// The store is busy or closing: retry later (503).
    #[error("the store cannot take writes now, retry later: {0}")]
    Unavailable(#[source] StoreError),
    /// The store failed.
    #[error("store: {0}")]
    Store(#[source] StoreError),
}

impl From<StoreError> for PipelineError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::UnknownProduct(p) => PipelineError::UnknownProduct(p),
            e if e.is_unavailable() => PipelineError::Unavailable(e),
            e => PipelineError::Store(e),
        }
    }
}

/// The single ingestion path. Cheap to clone.
#[derive(Clone)]
pub struct Pipeline {
    store: Arc<dyn Store>,
    catalog: Arc<CatalogHandle>,
    metrics: Arc<Metrics>,
}

impl std::fmt::Debug for Pipeline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pipeline").finish_non_exhaustive()
    }
}

impl Pipeline {
    /// A pipeline writing to `store`, checking products against `catalog`,
    /// with metrics of its own.
    pub fn new(store: Arc<dyn Store>, catalog: Arc<CatalogHandle>) -> Self {
        Self::with_metrics(store, catalog, Arc::new(Metrics::new()))
    }

    /// A pipeline that counts what it commits in `metrics`.
    pub fn with_metrics(store: Arc<dyn Store>, catalog: Arc<CatalogHandle>, metrics: Arc<Metrics>) -> Self {
        Pipeline {
            store,
            catalog,
            metrics,
        }
    }

    /// The metrics this pipeline counts in.
    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.metrics
    }

    fn check_product(&self, product: &str) -> Result<(), PipelineError> {
        if self.catalog.current().has_product(product) {
            Ok(())
        } else {
            Err(PipelineError::UnknownProduct(product.to_owned()))
        }
    }

    /// Stores a usage ping from a version check; resolves after its batch commits.
    pub async fn submit_ping(&self, ping: UsagePing, dropped: Vec<Dropped>) -> Result<(), PipelineError> {
        self.submit_ping_from("check", ping, dropped).await
    }

    /// Stores a usage ping that came through the front door `source`
    /// (`check`, `telemetry`, ...), the name its rejections are counted under.
    pub async fn submit_ping_from(
        &self,
        source: &'static str,
        ping: UsagePing,
        dropped: Vec<Dropped>,
    ) -> Result<(), PipelineError> {
        self.submit(source, ping, dropped, false).await
    }

    /// Stores the usage ping of a version check (`/v1/check`) whose answer
    /// said `outdated: told_outdated` (counted in the upgrades after a
    /// notice); resolves after its batch commits.
    pub async fn submit_check(
        &self,
        ping: UsagePing,
        dropped: Vec<Dropped>,
        told_outdated: bool,
    ) -> Result<(), PipelineError> {
        self.submit("check", ping, dropped, told_outdated).await
    }

    async fn submit(
        &self,
        source: &'static str,
        ping: UsagePing,
        dropped: Vec<Dropped>,
        told_outdated: bool,
    ) -> Result<(), PipelineError> {
        self.check_product(ping.product.as_str())?;
        let dropped_copy = dropped.clone();
        let in_flight = self.metrics.in_flight();
        self.store
            .record_ping(NewPing {
                ping,
                source,
                dropped,
                told_outdated,
            })?
            .wait()
            .await?;
        in_flight.committed();
        self.metrics.ping(source);
        self.metrics.dropped(source, &dropped_copy);
        Ok(())
    }

    /// Stores events of `product` (ids already stored are ignored and counted
    /// as duplicates); resolves after their batch commits.
    pub async fn submit_events(
        &self,
        product: &ProductName,
        events: Vec<Event>,
        dropped: Vec<Dropped>,
    ) -> Result<IngestSummary, PipelineError> {
        self.submit_events_from("events", product, events, dropped).await
    }

    /// [`Pipeline::submit_events`] with the front door's name for the rejection counters.
    pub async fn submit_events_from(
        &self,
        source: &'static str,
        product: &ProductName,
        events: Vec<Event>,
        dropped: Vec<Dropped>,
    ) -> Result<IngestSummary, PipelineError> {
        self.check_product(product.as_str())?;
        if let Some(e) = events.iter().find(|e| e.product != *product) {
            return Err(PipelineError::ProductMismatch {
                expected: product.to_string(),
                found: e.product.to_string(),
            });
        }
        let dropped_count = dropped.len() as u64;
        if events.is_empty() && dropped.is_empty() {
            return Ok(IngestSummary::default());
        }
        let submitted = events.len();
        let dropped_copy = dropped.clone();
        let batch = NewEvents {
            product: product.clone(),
            source,
            events,
            dropped,
        };
        let in_flight = self.metrics.in_flight();
        let stored = self.store.store_events(batch)?.wait().await?;
        in_flight.committed();
        self.metrics.events(source, submitted, stored.stored, stored.duplicates);
        self.metrics.dropped(source, &dropped_copy);
        Ok(IngestSummary {
            stored: stored.stored,
            duplicates: stored.duplicates,
            dropped: dropped_count,
        })
    }

    /// Stores an error report (a report id already stored is answered with
    /// the stored copy's group and `duplicate: true`); resolves after its
    /// batch commits.
    pub async fn submit_error_report(&self, report: NewErrorReport) -> Result<ReportStored, PipelineError> {
        self.check_product(report.product.as_str())?;
        let dropped = report.dropped.clone();
        let redactions = crate::metrics::redaction_rules(&report.report);
        let in_flight = self.metrics.in_flight();
        let stored = self.store.store_error_report(report)?.wait().await?;
        in_flight.committed();
        self.metrics.error_report(&redactions);
        self.metrics.dropped("error-report", &dropped);
        Ok(stored)
    }

    /// The store behind the pipeline.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }
}

#[cfg(test)]
mod tests {
    use sonde_protocol::{ClientFamily, EventKind};
    use sonde_store::{MemoryStore, NewRelease};

    use super::*;
    use crate::catalog::Catalog;

    /// A pipeline over an in-memory store where `demo` is registered.
    async fn pipeline() -> Pipeline {
        let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
        let release = NewRelease {
            product: "demo".into(),
            version: "1.0.0".into(),
            ..Default::default()
        };
        store.publish_release(release, 1).unwrap().wait().await.unwrap();
        let catalog = Arc::new(CatalogHandle::new(Catalog::build(store.load_catalog().unwrap())));
        Pipeline::new(store, catalog)
    }

    fn ping(product: &str) -> UsagePing {
        UsagePing {
            product: ProductName::parse(product).unwrap(),
            version: None,
            os: None,
            arch: None,
            runtime_version: None,
            signature: None,
            ci: None,
            ci_name: None,
            client_family: ClientFamily::GoCheckpoint,
            project_hash: None,
            cli_path_hash: None,
            received_at_ms: 1,
        }
    }

    #[tokio::test]
    async fn pings_of_registered_products_only_are_stored() {
        let pipeline = pipeline().await;
        pipeline.submit_ping(ping("demo"), Vec::new()).await.unwrap();
        let err = pipeline.submit_ping(ping("ghost"), Vec::new()).await.unwrap_err();
        assert!(
            matches!(err, PipelineError::UnknownProduct(ref p) if p == "ghost"),
            "{err}"
        );
        assert_eq!(pipeline.store().ping_count("demo").unwrap(), 1);
        assert_eq!(pipeline.store().ping_count("ghost").unwrap(), 0);
    }

    #[tokio::test]
    async fn an_empty_batch_stores_nothing_and_a_retry_is_counted_as_duplicates() {
        let pipeline = pipeline().await;
        let product = ProductName::parse("demo").unwrap();
        let empty = pipeline.submit_events(&product, Vec::new(), Vec::new()).await.unwrap();
        assert_eq!(empty, IngestSummary::default());
        let event = Event {
            id: "00000000-0000-4000-8000-000000000001".into(),
            kind: EventKind::Heartbeat,
            product: product.clone(),
            test: false,
            occurred_at_ms: None,
            received_at_ms: 1,
            fields: Default::default(),
        };
        let first = pipeline
            .submit_events(&product, vec![event.clone()], Vec::new())
            .await
            .unwrap();
        let retry = pipeline.submit_events(&product, vec![event], Vec::new()).await.unwrap();
        assert_eq!((first.stored, first.duplicates), (1, 0));
        assert_eq!((retry.stored, retry.duplicates), (0, 1));
    }
}
