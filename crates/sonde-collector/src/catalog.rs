//! The catalog served from memory: products, releases, alerts and service
//! version constraints, as one immutable snapshot.
//!
//! Checks never read the database. A background task polls the store's
//! catalog generation (one indexed row) every [`crate::Config::catalog_poll`]
//! and swaps in a fresh snapshot when it moved, so a change made by the CLI
//! directly in the data directory is live within a second, without a restart.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use semver::Version;
use sonde_protocol::checkpoint::VersionsResponse;
use sonde_protocol::{Alert, CheckQuery, CheckResponse};
use sonde_store::{CatalogData, Release, Store, StoreError};
use tokio::sync::watch;

use crate::semver_rules::{compare, parse_lenient, AffectsRange};

/// Longest client-supplied value echoed back in a check answer.
const MAX_ECHO_LEN: usize = 128;

/// An immutable catalog snapshot.
#[derive(Debug, Default)]
pub struct Catalog {
    generation: u64,
    products: HashMap<String, ProductCatalog>,
}

/// What one product's checks are answered from.
#[derive(Debug, Default)]
pub struct ProductCatalog {
    name: String,
    /// Releases by ascending version.
    releases: Vec<(Version, Release)>,
    newest_stable: Option<usize>,
    newest_any: Option<usize>,
    alerts: Vec<(Alert, Option<AffectsRange>)>,
    versions: HashMap<String, VersionsResponse>,
}

impl Catalog {
    /// Builds a snapshot from what the store returned. Releases or ranges that
    /// do not parse (they are validated on the way in) are skipped with a warning.
    pub fn build(data: CatalogData) -> Self {
        let mut products: HashMap<String, ProductCatalog> = data
            .products
            .into_iter()
            .map(|name| {
                (
                    name.clone(),
                    ProductCatalog {
                        name,
                        ..Default::default()
                    },
                )
            })
            .collect();
        for r in data.releases {
            let Some(p) = products.get_mut(&r.product) else {
                continue;
            };
            match parse_lenient(&r.version) {
                Some(v) => p.releases.push((v, r)),
                None => {
                    tracing::warn!(product = %r.product, version = %r.version, "skipping a release whose version is not semver")
                }
            }
        }
        for a in data.alerts {
            let Some(p) = products.get_mut(&a.product) else {
                continue;
            };
            let range = match a.affects.as_deref().map(AffectsRange::parse).transpose() {
                Ok(r) => r,
                Err(e) => {
                    tracing::warn!(id = a.id, error = %e, "skipping an alert whose range does not parse");
                    continue;
                }
            };
            let alert = Alert {
                id: a.id,
                date: a.date,
                message: a.message,
                url: a.url.unwrap_or_default(),
                level: a.level,
            };
            p.alerts.push((alert, range));
        }
        for v in data.versions {
            let Some(p) = products.get_mut(&v.product) else {
                continue;
            };
            let answer = VersionsResponse {
                service: v.service.clone(),
                product: v.product,
                minimum: v.minimum,
                maximum: v.maximum,
                excluding: v.excluding,
            };
            p.versions.insert(v.service, answer);
        }
        for p in products.values_mut() {
            p.releases.sort_by(|a, b| compare(&a.0, &b.0));
            p.newest_any = p.releases.len().checked_sub(1);
            p.newest_stable = p.releases.iter().rposition(|(v, _)| v.pre.is_empty());
        }
        Catalog {
            generation: data.generation,
            products,
        }
    }

    /// The store generation this snapshot reflects.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// The product, if registered.
    pub fn product(&self, name: &str) -> Option<&ProductCatalog> {
        self.products.get(name)
    }

    /// Whether `name` is a registered product.
    pub fn has_product(&self, name: &str) -> bool {
        self.products.contains_key(name)
    }
}

fn echo(v: &Option<String>) -> String {
    match v {
        Some(s) if s.len() <= MAX_ECHO_LEN => s.clone(),
        _ => String::new(),
    }
}

impl ProductCatalog {
    /// The release a client on `client` is compared against: the newest stable
    /// one for stable (or unknown) versions, the newest of any kind for
    /// pre-releases.
    pub fn target_for(&self, client: Option<&Version>) -> Option<&(Version, Release)> {
        let idx = match client {
            Some(v) if !v.pre.is_empty() => self.newest_any,
            _ => self.newest_stable.or(self.newest_any),
        };
        idx.map(|i| &self.releases[i])
    }

    /// Answers a check. `client_version` is the validated version the client
    /// sent (absent if it sent none or it was dropped).
    pub fn answer(&self, q: &CheckQuery, client_version: Option<&str>) -> CheckResponse {
        let client = client_version.and_then(parse_lenient);
        let target = self.target_for(client.as_ref());
        let outdated = match (&client, target) {
            (Some(c), Some((t, _))) => compare(c, t).is_lt(),
            _ => false,
        };
        let alerts = self
            .alerts
            .iter()
            .filter(|(_, range)| match (range, &client) {
                (None, _) => true,
                (Some(r), Some(c)) => r.matches(c),
                (Some(_), None) => false,
            })
            .map(|(a, _)| a.clone())
            .collect();
        let release = target.map(|(_, r)| r);
        let field = |f: fn(&Release) -> &Option<String>| release.and_then(|r| f(r).clone()).unwrap_or_default();
        let date = release.map(|r| r.date).unwrap_or(0);
        CheckResponse {
            product: self.name.clone(),
            current_version: release.map(|r| r.version.clone()).unwrap_or_default(),
            current_release: date,
            current_release_date: date,
            current_download_url: field(|r| &r.download_url),
            current_changelog_url: field(|r| &r.changelog_url),
            project_website: field(|r| &r.website),
            outdated,
            alerts,
            client_event_id: echo(&q.client_event_id),
            previous_client_event_id: echo(&q.previous_client_event_id),
            previous_version: client_version.unwrap_or_default().to_owned(),
            cli_path_hash: echo(&q.cli_path_hash),
            local_timestamp: echo(&q.local_timestamp),
            package: field(|r| &r.package),
            release_tag: field(|r| &r.release_tag),
            install_command: field(|r| &r.install_command),
        }
    }

    /// The answer to `/v1/versions/{service}`; empty bounds when none were set.
    pub fn versions(&self, service: &str) -> VersionsResponse {
        self.versions.get(service).cloned().unwrap_or_else(|| VersionsResponse {
            service: service.to_owned(),
            product: self.name.clone(),
            ..Default::default()
        })
    }
}

/// The shared, swappable current snapshot.
#[derive(Debug, Default)]
pub struct CatalogHandle {
    current: RwLock<Arc<Catalog>>,
}

impl CatalogHandle {
    /// A handle holding `catalog`.
    pub fn new(catalog: Catalog) -> Self {
        CatalogHandle {
            current: RwLock::new(Arc::new(catalog)),
        }
    }

    /// The current snapshot (cheap: one reference count).
    pub fn current(&self) -> Arc<Catalog> {
        self.current.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn replace(&self, catalog: Catalog) {
        *self.current.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(catalog);
    }

    /// Reloads from `store` if its generation moved. Blocking (database reads).
    pub fn refresh_blocking(&self, store: &dyn Store) -> Result<bool, StoreError> {
        let generation = store.catalog_generation()?;
        if generation == self.current().generation() {
            return Ok(false);
        }
        let data = store.load_catalog()?;
        let g = data.generation;
        self.replace(Catalog::build(data));
        tracing::info!(generation = g, "catalog reloaded");
        Ok(true)
    }

    /// Reloads now, from an async context.
    pub async fn refresh(self: &Arc<Self>, store: &Arc<dyn Store>) -> Result<bool, StoreError> {
        let (handle, store) = (self.clone(), store.clone());
        tokio::task::spawn_blocking(move || handle.refresh_blocking(store.as_ref()))
            .await
            .unwrap_or(Err(StoreError::Closed))
    }
}

/// Polls the store's generation every `every` until `stop` turns true.
pub(crate) async fn poll(
    handle: Arc<CatalogHandle>,
    store: Arc<dyn Store>,
    every: Duration,
    mut stop: watch::Receiver<bool>,
) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stop.changed() => return,
        }
        if *stop.borrow() {
            return;
        }
        if let Err(e) = handle.refresh(&store).await {
            tracing::warn!(error = %e, "catalog refresh failed; serving the previous snapshot");
        }
    }
}
