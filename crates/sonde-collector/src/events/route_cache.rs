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

/// How long a product's templates are served from memory.
pub const TTL: Duration = Duration::from_secs(5);

/// The cache. Cheap to share behind an `Arc`.
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

    /// The templates of `product` (blocking on a miss: call it off the async
    /// workers, or accept one small read).
    pub async fn get(&self, product: &str) -> Result<Arc<RouteTemplates>, StoreError> {
        if let Some((at, t)) = self.entries.read().unwrap_or_else(|e| e.into_inner()).get(product) {
            if at.elapsed() < TTL {
                return Ok(t.clone());
            }
        }
        let store = self.store.clone();
        let name = product.to_owned();
        let registered = tokio::task::spawn_blocking(move || store.routes(&name))
            .await
            .map_err(StoreError::read)??;
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
