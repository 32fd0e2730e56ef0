//! Route templates per product, cached: the built-in ones
//! ([`sonde_protocol::routes::builtin`]) plus those registered through the
//! admin API. An entry is reloaded after [`TTL`] (so templates registered on
//! another collector sharing the store are picked up) and at once after a
//! registration on this one.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use sonde_protocol::routes::{self, RouteTemplate, RouteTemplates};
use sonde_store::{Store, StoreError};

use crate::ApiError;

/// How long a product's templates are served from memory.
pub(super) const TTL: Duration = Duration::from_secs(5);

/// Why a product's templates could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum RouteCacheError {
    /// The store could not read them.
    #[error("reading route templates: {0}")]
    Store(#[source] StoreError),
    /// The blocking read panicked or was cancelled.
    #[error("the route template read did not finish: {0}")]
    Task(#[source] tokio::task::JoinError),
}

impl From<RouteCacheError> for ApiError {
    fn from(e: RouteCacheError) -> Self {
        match e {
            RouteCacheError::Store(e) => ApiError::from(e),
            RouteCacheError::Task(e) => ApiError::Task(e),
        }
    }
}

/// The cache.
pub struct RouteCache {
    store: Arc<dyn Store>,
    entries: RwLock<HashMap<String, (Instant, Arc<RouteTemplates>)>>,
}

impl RouteCache {
    /// An empty cache over `store`'s route templates.
    pub fn new(store: Arc<dyn Store>) -> Self {
        RouteCache {
            store,
            entries: RwLock::new(HashMap::new()),
        }
    }

    /// The templates of `product` (read off the async workers on a miss).
    pub async fn get(&self, product: &str) -> Result<Arc<RouteTemplates>, RouteCacheError> {
        if let Some((at, t)) = self.entries.read().unwrap_or_else(|e| e.into_inner()).get(product) {
            if at.elapsed() < TTL {
                return Ok(t.clone());
            }
        }
        let store = self.store.clone();
        let name = product.to_owned();
        let registered = tokio::task::spawn_blocking(move || store.routes(&name))
            .await
            .map_err(RouteCacheError::Task)?
            .map_err(RouteCacheError::Store)?;
        let mut templates = routes::builtin(product);
        for text in registered {
            // Stored templates were validated on the way in; skip any that no
            // longer parse rather than fail ingestion.
            if let Ok(t) = RouteTemplate::parse(&text) {
                templates.push(t);
            }
        }
        let templates = Arc::new(templates);
        self.entries
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(product.to_owned(), (Instant::now(), templates.clone()));
        Ok(templates)
    }

    /// Forgets `product`'s entry (after a registration).
    pub fn invalidate(&self, product: &str) {
        self.entries.write().unwrap_or_else(|e| e.into_inner()).remove(product);
    }
}

impl std::fmt::Debug for RouteCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RouteCache").finish_non_exhaustive()
    }
}
