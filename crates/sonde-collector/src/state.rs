//! [`AppState`]: what every handler shares.

use std::sync::Arc;

use sonde_store::{Store, StoreError};

use crate::catalog::{Catalog, CatalogHandle};
use crate::events::{RouteCache, VocabularyCache};
use crate::pipeline::Pipeline;
use crate::ApiError;

/// Shared state of the HTTP service. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

struct Inner {
    pipeline: Pipeline,
    catalog: Arc<CatalogHandle>,
    store: Arc<dyn Store>,
    routes: RouteCache,
    vocabulary: VocabularyCache,
    admin_token: String,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState").finish_non_exhaustive()
    }
}

impl AppState {
    /// State over `store`, serving `catalog`, guarding the admin API with
    /// `admin_token`.
    pub fn new(store: Arc<dyn Store>, catalog: Arc<CatalogHandle>, admin_token: String) -> Self {
        let pipeline = Pipeline::new(store.clone(), catalog.clone());
        let routes = RouteCache::new(store.clone());
        let vocabulary = VocabularyCache::new(store.clone());
        AppState {
            inner: Arc::new(Inner {
                pipeline,
                catalog,
                store,
                routes,
                vocabulary,
                admin_token,
            }),
        }
    }

    /// The ingestion pipeline every front door uses.
    pub fn pipeline(&self) -> &Pipeline {
        &self.inner.pipeline
    }

    /// The current catalog snapshot.
    pub fn catalog(&self) -> Arc<Catalog> {
        self.inner.catalog.current()
    }

    /// The catalog handle (to refresh after an admin change).
    pub fn catalog_handle(&self) -> &Arc<CatalogHandle> {
        &self.inner.catalog
    }

    /// The store.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.inner.store
    }

    /// The route templates of every product, cached.
    pub fn routes(&self) -> &RouteCache {
        &self.inner.routes
    }

    /// The vocabulary of every registered product, cached.
    pub fn vocabulary(&self) -> &VocabularyCache {
        &self.inner.vocabulary
    }

    /// The admin token.
    pub fn admin_token(&self) -> &str {
        &self.inner.admin_token
    }

    /// Runs a blocking store read off the async workers.
    pub async fn read<T: Send + 'static>(
        &self,
        f: impl FnOnce(&dyn Store) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, ApiError> {
        let store = self.inner.store.clone();
        tokio::task::spawn_blocking(move || f(store.as_ref()))
            .await
            .map_err(ApiError::Task)?
            .map_err(ApiError::from)
    }
}
