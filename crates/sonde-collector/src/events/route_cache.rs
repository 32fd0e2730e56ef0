//! Route templates per product, cached: the built-in ones
//! ([`sonde_protocol::routes::builtin`]) plus those registered through the
//! admin API. An entry is reloaded after [`TTL`] (so templates registered on
//! another collector sharing the store are picked up) and at once after a
//! registration on this one; while the store cannot be read, the last entry
//! read stays in use.
//!
//! Only registered products are looked up in the store and cached; any other
//! gets the built-in templates alone, made for the request and not kept (the
//! pipeline refuses its events afterwards, so a door's own errors keep their
//! precedence). The cache holds at most [`MAX_ENTRIES`] products: a request
//! cannot make it grow by naming products nobody registered.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use sonde_protocol::routes::{self, RouteTemplate, RouteTemplates};
use sonde_store::{Store, StoreError};

use crate::catalog::CatalogHandle;
use crate::ApiError;

/// How long a product's templates are served from memory.
pub(super) const TTL: Duration = Duration::from_secs(5);

/// Most products cached at once; past it, stale entries are dropped, and if
/// none is stale the product is served without being cached.
pub(super) const MAX_ENTRIES: usize = 4096;

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
    catalog: Arc<CatalogHandle>,
    entries: RwLock<HashMap<String, (Instant, Arc<RouteTemplates>)>>,
}

impl RouteCache {
    /// An empty cache over `store`'s route templates, for the products
    /// registered in `catalog`.
    pub fn new(store: Arc<dyn Store>, catalog: Arc<CatalogHandle>) -> Self {
        RouteCache {
            store,
            catalog,
            entries: RwLock::new(HashMap::new()),
        }
    }

    /// The templates of `product` (read off the async workers on a miss);
    /// the built-in ones alone, uncached, if it is not registered.
    pub async fn get(&self, product: &str) -> Result<Arc<RouteTemplates>, RouteCacheError> {
        if !self.catalog.current().has_product(product) {
            return Ok(builtin(product));
        }
        let stale = match self.entries.read().unwrap_or_else(|e| e.into_inner()).get(product) {
            Some((at, t)) if at.elapsed() < TTL => return Ok(t.clone()),
            Some((_, t)) => Some(t.clone()),
            None => None,
        };
        let store = self.store.clone();
        let name = product.to_owned();
        let read = tokio::task::spawn_blocking(move || store.routes(&name))
            .await
            .map_err(RouteCacheError::Task)?;
        // A store that cannot be read now (a remote database down) keeps
        // the templates it last gave in use, so ingestion goes on.
        let registered = match (read, stale) {
            (Ok(r), _) => r,
            (Err(e), Some(t)) => {
                tracing::debug!(error = %e, "route templates unreadable; serving the last ones read");
                return Ok(t);
            }
            (Err(e), None) => return Err(RouteCacheError::Store(e)),
        };
        let mut templates = routes::builtin(product);
        for text in registered {
            // Stored templates were validated on the way in; skip any that no
            // longer parse rather than fail ingestion.
            if let Ok(t) = RouteTemplate::parse(&text) {
                templates.push(t);
            }
        }
        let templates = Arc::new(templates);
        let mut entries = self.entries.write().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= MAX_ENTRIES && !entries.contains_key(product) {
            entries.retain(|_, (at, _)| at.elapsed() < TTL);
        }
        if entries.len() < MAX_ENTRIES || entries.contains_key(product) {
            entries.insert(product.to_owned(), (Instant::now(), templates.clone()));
        }
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

/// The built-in templates of `product`, parsed once per process: asked for
/// on every request naming a product that is not registered, whose name is
/// whatever the request says (so never a key of a cache that grows).
fn builtin(product: &str) -> Arc<RouteTemplates> {
    static HASURA: std::sync::OnceLock<Arc<RouteTemplates>> = std::sync::OnceLock::new();
    static NONE: std::sync::OnceLock<Arc<RouteTemplates>> = std::sync::OnceLock::new();
    let cell = if routes::builtin_product(product) {
        &HASURA
    } else {
        &NONE
    };
    cell.get_or_init(|| Arc::new(routes::builtin(product))).clone()
}
