//! Vocabularies per product, cached: the built-in one
//! ([`sonde_protocol::vocabulary::builtin`]) plus the words registered
//! through the admin API. Only registered products (in the catalog) are
//! read from the store and cached: an event naming any other product gets
//! the built-in vocabulary of that name (empty for all but `hasura`) without
//! a store read, so unknown names cannot grow the cache. An entry is reloaded
//! after [`TTL`] and at once after a registration on this collector; while
//! the store cannot be read, the last entry read stays in use.

use std::collections::HashMap;
use std::ops::Deref;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use sonde_protocol::vocabulary::{self, Vocabulary, WordKind};
use sonde_store::Store;

use super::RouteCacheError;

/// How long a product's vocabulary is served from memory.
pub(super) const TTL: Duration = Duration::from_secs(5);

/// A vocabulary as the cache hands it out: a built-in one, or a product's
/// built-in words plus its registered ones.
#[derive(Debug, Clone)]
pub enum VocabularyRef {
    /// A built-in vocabulary (a product with nothing registered).
    Builtin(&'static Vocabulary),
    /// Built-in plus registered words.
    Loaded(Arc<Vocabulary>),
}

impl Deref for VocabularyRef {
    type Target = Vocabulary;

    fn deref(&self) -> &Vocabulary {
        match self {
            VocabularyRef::Builtin(v) => v,
            VocabularyRef::Loaded(v) => v,
        }
    }
}

/// The cache.
pub struct VocabularyCache {
    store: Arc<dyn Store>,
    entries: RwLock<HashMap<String, (Instant, VocabularyRef)>>,
}

impl VocabularyCache {
    /// An empty cache over `store`'s vocabulary words.
    pub fn new(store: Arc<dyn Store>) -> Self {
        VocabularyCache {
            store,
            entries: RwLock::new(HashMap::new()),
        }
    }

    /// The vocabulary of `product`; `registered` says whether the catalog
    /// knows it (only then is the store read and the result cached).
    pub async fn get(&self, product: &str, registered: bool) -> Result<VocabularyRef, RouteCacheError> {
        if !registered {
            return Ok(VocabularyRef::Builtin(vocabulary::builtin(product)));
        }
        let stale = match self.entries.read().unwrap_or_else(|e| e.into_inner()).get(product) {
            Some((at, v)) if at.elapsed() < TTL => return Ok(v.clone()),
            Some((_, v)) => Some(v.clone()),
            None => None,
        };
        let store = self.store.clone();
        let name = product.to_owned();
        let read = tokio::task::spawn_blocking(move || store.words(&name))
            .await
            .map_err(RouteCacheError::Task)?;
        // A store that cannot be read now (a remote database down) keeps
        // the vocabulary it last gave in use, so ingestion goes on.
        let words = match (read, stale) {
            (Ok(w), _) => w,
            (Err(e), Some(v)) => {
                tracing::debug!(error = %e, "vocabulary words unreadable; serving the last ones read");
                return Ok(v);
            }
            (Err(e), None) => return Err(RouteCacheError::Store(e)),
        };
        let builtin = vocabulary::builtin(product);
        let v = if words.is_empty() {
            VocabularyRef::Builtin(builtin)
        } else {
            let mut v = builtin.clone();
            for (kind, word) in words {
                // Stored words were checked on the way in; skip any that no
                // longer pass rather than fail ingestion.
                if let Some(kind) = WordKind::parse(&kind) {
                    let _ = v.add(kind, &word);
                }
            }
            VocabularyRef::Loaded(Arc::new(v))
        };
        self.entries
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(product.to_owned(), (Instant::now(), v.clone()));
        Ok(v)
    }

    /// Forgets `product`'s entry (after a registration).
    pub fn invalidate(&self, product: &str) {
        self.entries.write().unwrap_or_else(|e| e.into_inner()).remove(product);
    }
}

impl std::fmt::Debug for VocabularyCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VocabularyCache").finish_non_exhaustive()
    }
}
