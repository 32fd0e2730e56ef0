//! What a collector opens before it serves: the data directory's lock, the
//! store, the admin token and the catalog, made into the [`AppState`] that
//! [`crate::app`] serves.

use std::path::Path;
use std::sync::Arc;

use sonde_store::{SqliteStore, Store, StoreOptions};

use crate::catalog::{Catalog, CatalogHandle};
use crate::{token, AppState, CollectorError, Config, StoreChoice};

/// Everything [`open`] made; the lock is held for the collector's life.
pub(crate) struct Opened {
    pub(crate) state: AppState,
    pub(crate) store: Arc<dyn Store>,
    pub(crate) catalog: Arc<CatalogHandle>,
    pub(crate) admin_token: String,
    pub(crate) lock: std::fs::File,
}

/// Locks the data directory, opens the store in it, loads or creates the
/// admin token, and reads the catalog.
pub(crate) async fn open(config: &Config) -> Result<Opened, CollectorError> {
    let data_dir = config.data_dir.clone();
    let lock = lock_data_dir(&data_dir)?;
    let options = StoreOptions {
        queue_capacity: config.queue_capacity,
        durability: config.durability,
        ..StoreOptions::default()
    };
    let store: Arc<dyn Store> = {
        let dir = data_dir.clone();
        let choice = config.store.clone();
        let (queue_capacity, spill_max_bytes) = (config.queue_capacity, config.spill_max_bytes);
        tokio::task::spawn_blocking(move || -> Result<Arc<dyn Store>, sonde_store::StoreError> {
            Ok(match choice {
                StoreChoice::Sqlite => Arc::new(SqliteStore::open_with(&dir, options)?),
                StoreChoice::ClickHouse(url) => {
                    let options = sonde_clickhouse::ClickHouseOptions {
                        queue_capacity,
                        spill_max_bytes,
                        ..Default::default()
                    };
                    Arc::new(sonde_clickhouse::ClickHouseStore::open(&url, &dir, options)?)
                }
            })
        })
        .await
        .map_err(CollectorError::Task)??
    };
    let admin_token = token::load_or_create(&data_dir)?;
    let catalog = {
        let s = store.clone();
        tokio::task::spawn_blocking(move || s.load_catalog())
            .await
            .map_err(CollectorError::Task)??
    };
    let catalog = Arc::new(CatalogHandle::new(Catalog::build(catalog)));
    let state = AppState::new(store.clone(), catalog.clone(), admin_token.clone());
    Ok(Opened {
        state,
        store,
        catalog,
        admin_token,
        lock,
    })
}

/// Takes the data directory's collector lock (`collector.lock`, an advisory
/// file lock released when the process ends, however it ends). The store keeps
/// the current month's first-seen signatures in memory, so a second collector
/// on the same file would count uniques twice: it is refused instead. The CLI's
/// admin verbs do not take this lock and may write beside a running collector.
/// The directory is made private to its owner (mode 0700 on Unix, see
/// [`sonde_store::sqlite::private`]).
fn lock_data_dir(dir: &Path) -> Result<std::fs::File, CollectorError> {
    sonde_store::sqlite::private::create_dir(dir)?;
    let mut options = std::fs::OpenOptions::new();
    options.create(true).truncate(false).write(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let file = options.open(dir.join("collector.lock"))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => Err(CollectorError::DataDirInUse(dir.to_owned())),
        Err(std::fs::TryLockError::Error(e)) => Err(CollectorError::Io(e)),
    }
}
