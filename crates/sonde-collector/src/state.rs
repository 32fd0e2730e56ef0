//! [`AppState`]: what every handler shares.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use sonde_store::{Store, StoreError};
use tokio::sync::watch;

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
    /// `true` once the collector is stopping; every open WebSocket holds a
    /// receiver, so "no receiver left" means every socket has closed.
    sockets: watch::Sender<bool>,
    /// Most WebSockets open at once (see [`AppState::set_socket_cap`]).
    socket_cap: AtomicUsize,
    /// The minimum group size of analytics answers (see
    /// [`AppState::set_min_group_size`]).
    min_group_size: AtomicU64,
    /// The dashboard's sessions and sign-in attempts.
    sessions: crate::dashboard::session::Sessions,
    /// Whether the collector serves TLS (the session cookie is then `Secure`).
    tls: AtomicBool,
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
        let metrics = Arc::new(crate::metrics::Metrics::new());
        metrics.watch_spill(&store);
        let pipeline = Pipeline::with_metrics(store.clone(), catalog.clone(), metrics);
        let routes = RouteCache::new(store.clone(), catalog.clone());
        let vocabulary = VocabularyCache::new(store.clone());
        AppState {
            inner: Arc::new(Inner {
                pipeline,
                catalog,
                store,
                routes,
                vocabulary,
                admin_token,
                sockets: watch::Sender::new(false),
                socket_cap: AtomicUsize::new(usize::MAX),
                min_group_size: AtomicU64::new(crate::analytics::kanon::DEFAULT_K),
                sessions: crate::dashboard::session::Sessions::default(),
                tls: AtomicBool::new(false),
            }),
        }
    }

    /// The collector's metrics ([`crate::metrics`]).
    pub fn metrics(&self) -> Arc<crate::metrics::Metrics> {
        self.inner.pipeline.metrics().clone()
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

    /// A receiver that turns `true` when the collector stops; an open
    /// WebSocket holds one for its lifetime. `None` when
    /// [`AppState::set_socket_cap`] WebSockets are already open.
    pub fn socket_guard(&self) -> Option<watch::Receiver<bool>> {
        let guard = self.inner.sockets.subscribe();
        // The new receiver is counted: more than the cap means it is one too many.
        (self.inner.sockets.receiver_count() <= self.inner.socket_cap.load(Ordering::Relaxed)).then_some(guard)
    }

    /// Sets how many WebSockets may be open at once. An upgraded connection
    /// leaves the listener's connection cap but keeps its descriptor, so the
    /// collector splits its descriptor budget between the two
    /// ([`crate::Config::max_connections`]). Unlimited until set.
    pub fn set_socket_cap(&self, cap: usize) {
        self.inner.socket_cap.store(cap, Ordering::Relaxed);
    }

    /// Sets the minimum group size of analytics answers
    /// ([`crate::analytics::kanon::DEFAULT_K`] until set).
    pub fn set_min_group_size(&self, kanon: crate::analytics::kanon::KAnon) {
        self.inner.min_group_size.store(kanon.k(), Ordering::Relaxed);
    }

    /// The rules of the minimum group size analytics answers are under.
    pub fn kanon(&self) -> crate::analytics::kanon::KAnon {
        let k = self.inner.min_group_size.load(Ordering::Relaxed);
        crate::analytics::kanon::KAnon::new(k).unwrap_or_default()
    }

    /// Asks every open WebSocket to close (each finishes committing the frame
    /// it holds first) and waits up to `grace` for all of them; returns how
    /// many were still open then.
    pub async fn close_sockets(&self, grace: Duration) -> usize {
        let sockets = &self.inner.sockets;
        sockets.send_replace(true);
        let _ = tokio::time::timeout(grace, sockets.closed()).await;
        sockets.receiver_count()
    }

    /// The vocabulary of every registered product, cached.
    pub fn vocabulary(&self) -> &VocabularyCache {
        &self.inner.vocabulary
    }

    /// The dashboard's sessions.
    pub fn sessions(&self) -> &crate::dashboard::session::Sessions {
        &self.inner.sessions
    }

    /// Records whether the collector serves TLS (cookies are then `Secure`).
    pub fn set_tls(&self, tls: bool) {
        self.inner.tls.store(tls, Ordering::Relaxed);
    }

    /// Whether the collector serves TLS.
    pub fn tls(&self) -> bool {
        self.inner.tls.load(Ordering::Relaxed)
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
