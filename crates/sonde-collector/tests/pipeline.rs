//! The ingestion pipeline every front door uses: commits before resolving,
//! ignores and counts duplicate events, refuses unknown products.

use std::sync::Arc;

use sonde_collector::catalog::{Catalog, CatalogHandle};
use sonde_collector::clock::now_ms;
use sonde_collector::{AppState, PipelineError};
use sonde_protocol::ping::Dropped;
use sonde_protocol::{DropReason, Event, EventKind, ProductName};
use sonde_store::{NewRelease, SqliteStore, Store};

fn state(dir: &std::path::Path) -> AppState {
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(dir).unwrap());
    store
        .publish_release(
            NewRelease {
                product: "demo".into(),
                version: "1.0.0".into(),
                ..Default::default()
            },
            now_ms(),
        )
        .unwrap()
        .wait_blocking()
        .unwrap();
    let catalog = Arc::new(CatalogHandle::new(Catalog::build(store.load_catalog().unwrap())));
    AppState::new(store, catalog, "t".repeat(64))
}

fn event(id: &str) -> Event {
    Event {
        id: id.into(),
        kind: EventKind::Heartbeat,
        product: ProductName::parse("demo").unwrap(),
        test: false,
        occurred_at_ms: None,
        received_at_ms: now_ms(),
        fields: serde_json::json!({"tables": 3}).as_object().unwrap().clone().into(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn submit_events_commits_and_counts_duplicates() {
    let dir = tempfile::tempdir().unwrap();
    let state = {
        let d = dir.path().to_owned();
        tokio::task::spawn_blocking(move || state(&d)).await.unwrap()
    };
    let product = ProductName::parse("demo").unwrap();
    let dropped = vec![Dropped {
        field: "metrics.name",
        reason: DropReason::NotANumber,
    }];
    let first = state
        .pipeline()
        .submit_events(&product, vec![event("e1"), event("e2")], dropped.clone())
        .await
        .unwrap();
    assert_eq!((first.stored, first.duplicates, first.dropped), (2, 0, 1));
    // Resolved means committed: a fresh connection sees both rows.
    let conn = rusqlite::Connection::open(dir.path().join("sonde.db")).unwrap();
    let n: i64 = conn
        .query_row("SELECT count(*) FROM events WHERE product = 'demo'", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 2);
    let retry = state
        .pipeline()
        .submit_events(&product, vec![event("e1"), event("e3")], Vec::new())
        .await
        .unwrap();
    assert_eq!((retry.stored, retry.duplicates), (1, 1));
    let count: i64 = conn
        .query_row(
            "SELECT count FROM rejections WHERE field = 'metrics.name' AND reason = 'not_a_number'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(count, 1);

    let ghost = ProductName::parse("ghost").unwrap();
    let mut e = event("g1");
    e.product = ghost.clone();
    let err = state
        .pipeline()
        .submit_events(&ghost, vec![e], Vec::new())
        .await
        .unwrap_err();
    assert!(matches!(err, PipelineError::UnknownProduct(_)), "{err}");
    let err = state
        .pipeline()
        .submit_events(
            &product,
            vec![event("x"), {
                let mut e = event("y");
                e.product = ghost;
                e
            }],
            Vec::new(),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, PipelineError::ProductMismatch { .. }), "{err}");
    let n: i64 = conn.query_row("SELECT count(*) FROM events", [], |r| r.get(0)).unwrap();
    assert_eq!(n, 3, "refused batches must store nothing");
}
