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

use sonde_versions::{compare, parse_lenient, AffectsRange};

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
    /// Each alert of `alerts` as JSON, serialized once per snapshot.
    alerts_json: Vec<Vec<u8>>,
    /// The fixed parts of an answer against `newest_stable`, `newest_any`
    /// and no release at all, serialized once per snapshot.
    rendered_stable: Rendered,
    rendered_any: Rendered,
    rendered_none: Rendered,
    versions: HashMap<String, VersionsResponse>,
}

/// The parts of a check answer that depend only on the catalog, as JSON
/// bytes: everything before the value of `outdated`, and everything after
/// the last echoed field. The answer is `head`, the per-request middle,
/// `tail`; it is byte for byte what serializing [`CheckResponse`] gives.
#[derive(Debug, Default)]
struct Rendered {
    head: Vec<u8>,
    tail: Vec<u8>,
}

/// Appends `s` as a JSON string.
fn push_json_str(out: &mut Vec<u8>, s: &str) {
    serde_json::to_writer(&mut *out, s).expect("writing a string to a Vec cannot fail");
}

impl Rendered {
    fn new(product: &str, release: Option<&Release>) -> Self {
        let text = |f: fn(&Release) -> &Option<String>| release.and_then(|r| f(r).as_deref()).unwrap_or("");
        let date = release.map(|r| r.date).unwrap_or(0);
        let mut head = Vec::with_capacity(256);
        head.extend_from_slice(b"{\"product\":");
        push_json_str(&mut head, product);
        head.extend_from_slice(b",\"current_version\":");
        push_json_str(&mut head, release.map(|r| r.version.as_str()).unwrap_or(""));
        head.extend_from_slice(format!(",\"current_release\":{date},\"current_release_date\":{date}").as_bytes());
        head.extend_from_slice(b",\"current_download_url\":");
        push_json_str(&mut head, text(|r| &r.download_url));
        head.extend_from_slice(b",\"current_changelog_url\":");
        push_json_str(&mut head, text(|r| &r.changelog_url));
        head.extend_from_slice(b",\"project_website\":");
        push_json_str(&mut head, text(|r| &r.website));
        head.extend_from_slice(b",\"outdated\":");
        let mut tail = Vec::with_capacity(128);
        tail.extend_from_slice(b",\"package\":");
        push_json_str(&mut tail, text(|r| &r.package));
        tail.extend_from_slice(b",\"release_tag\":");
        push_json_str(&mut tail, text(|r| &r.release_tag));
        tail.extend_from_slice(b",\"install_command\":");
        push_json_str(&mut tail, text(|r| &r.install_command));
        tail.push(b'}');
        Rendered { head, tail }
    }
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
            p.render();
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

    /// The registered products' names, sorted.
    pub fn product_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.products.keys().cloned().collect();
        names.sort();
        names
    }
}

/// Whether a client on `client` is behind the `target` release (unknown
/// versions never are).
fn is_outdated(client: Option<&Version>, target: Option<&(Version, Release)>) -> bool {
    match (client, target) {
        (Some(c), Some((t, _))) => compare(c, t).is_lt(),
        _ => false,
    }
}

/// Whether an alert with `range` goes to a client on `client`: an alert
/// without a range goes to everyone, one with a range only to clients whose
/// version is known and in it.
fn applies(range: Option<&AffectsRange>, client: Option<&Version>) -> bool {
    match (range, client) {
        (None, _) => true,
        (Some(r), Some(c)) => r.matches(c),
        (Some(_), None) => false,
    }
}

/// A client-supplied value as echoed back: empty when absent or too long.
fn echoed<S: AsRef<str>>(v: &Option<S>) -> &str {
    match v {
        Some(s) if s.as_ref().len() <= MAX_ECHO_LEN => s.as_ref(),
        _ => "",
    }
}

fn echo<S: AsRef<str>>(v: &Option<S>) -> String {
    echoed(v).to_owned()
}

/// A check's answer as JSON bytes, and whether it said `outdated: true`
/// (the store counts upgrades after such a notice).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonAnswer {
    /// The JSON body.
    pub body: Vec<u8>,
    /// The value of its `outdated` field.
    pub outdated: bool,
}

impl ProductCatalog {
    fn render(&mut self) {
        let release = |i: Option<usize>| i.map(|i| &self.releases[i].1);
        self.rendered_stable = Rendered::new(&self.name, release(self.newest_stable));
        self.rendered_any = Rendered::new(&self.name, release(self.newest_any));
        self.rendered_none = Rendered::new(&self.name, None);
        self.alerts_json = self
            .alerts
            .iter()
            .map(|(a, _)| serde_json::to_vec(a).expect("an alert serializes"))
            .collect();
    }

    /// The pre-rendered parts for the release [`Self::target_for`] picks.
    fn rendered_for(&self, client: Option<&Version>) -> &Rendered {
        match self.target_index(client) {
            None => &self.rendered_none,
            Some(i) if Some(i) == self.newest_stable => &self.rendered_stable,
            Some(_) => &self.rendered_any,
        }
    }

    /// Answers a check as the JSON bytes of [`Self::answer`], from parts
    /// serialized once per catalog snapshot: per request only `outdated`, the
    /// matching alerts and the echoed values are written.
    pub fn answer_json(&self, q: &CheckQuery<'_>, client_version: Option<&str>) -> JsonAnswer {
        let client = client_version.and_then(parse_lenient);
        let outdated = is_outdated(client.as_ref(), self.target_for(client.as_ref()));
        let rendered = self.rendered_for(client.as_ref());
        let mut out = Vec::with_capacity(rendered.head.len() + rendered.tail.len() + 512);
        out.extend_from_slice(&rendered.head);
        out.extend_from_slice(if outdated { b"true" } else { b"false" });
        out.extend_from_slice(b",\"alerts\":[");
        let mut first = true;
        for ((_, range), json) in self.alerts.iter().zip(&self.alerts_json) {
            if applies(range.as_ref(), client.as_ref()) {
                if !first {
                    out.push(b',');
                }
                first = false;
                out.extend_from_slice(json);
            }
        }
        out.extend_from_slice(b"],\"client_event_id\":");
        push_json_str(&mut out, echoed(&q.client_event_id));
        out.extend_from_slice(b",\"previous_client_event_id\":");
        push_json_str(&mut out, echoed(&q.previous_client_event_id));
        out.extend_from_slice(b",\"previous_version\":");
        push_json_str(&mut out, client_version.unwrap_or_default());
        out.extend_from_slice(b",\"cli_path_hash\":");
        push_json_str(&mut out, echoed(&q.cli_path_hash));
        out.extend_from_slice(b",\"local_timestamp\":");
        push_json_str(&mut out, echoed(&q.local_timestamp));
        out.extend_from_slice(&rendered.tail);
        JsonAnswer { body: out, outdated }
    }

    /// The release a client on `client` is compared against: the newest stable
    /// one for stable (or unknown) versions, the newest of any kind for
    /// pre-releases.
    pub fn target_for(&self, client: Option<&Version>) -> Option<&(Version, Release)> {
        self.target_index(client).map(|i| &self.releases[i])
    }

    fn target_index(&self, client: Option<&Version>) -> Option<usize> {
        match client {
            Some(v) if !v.pre.is_empty() => self.newest_any,
            _ => self.newest_stable.or(self.newest_any),
        }
    }

    /// Answers a check. `client_version` is the validated version the client
    /// sent (absent if it sent none or it was dropped).
    pub fn answer(&self, q: &CheckQuery<'_>, client_version: Option<&str>) -> CheckResponse {
        let client = client_version.and_then(parse_lenient);
        let target = self.target_for(client.as_ref());
        let outdated = is_outdated(client.as_ref(), target);
        let alerts = self
            .alerts
            .iter()
            .filter(|(_, range)| applies(range.as_ref(), client.as_ref()))
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

#[cfg(test)]
mod tests {
    use sonde_store::{AlertRecord, CatalogData, Release};

    use super::*;

    fn release(product: &str, version: &str, extra: bool) -> Release {
        let text = |s: &str| extra.then(|| s.to_owned());
        Release {
            product: product.into(),
            version: version.into(),
            date: 1_730_764_800,
            download_url: text("https://example.com/dl?a=1&b=\"2\""),
            changelog_url: text("https://example.com/CHANGELOG.md"),
            website: text("https://example.com/ünïcode"),
            package: text("prisma"),
            release_tag: text("latest"),
            install_command: text("npm i --save-dev prisma@latest\t# tab"),
        }
    }

    fn alert(id: i64, product: &str, affects: Option<&str>) -> AlertRecord {
        AlertRecord {
            id,
            product: product.into(),
            level: "critical".into(),
            message: format!("alert {id} with \"quotes\" and a \\ backslash"),
            url: (id % 2 == 0).then(|| "https://example.com/advisory".into()),
            affects: affects.map(str::to_owned),
            date: 1_700_000_000 + id,
        }
    }

    /// The pre-rendered answer is byte for byte the serialized typed answer,
    /// for stable, pre-release, missing and unparsable client versions, with
    /// and without releases, alerts in and out of range, and echoed values
    /// that need escaping or are too long to echo.
    #[test]
    fn the_rendered_answer_is_the_serialized_typed_answer() {
        let catalog = Catalog::build(CatalogData {
            generation: 1,
            products: vec!["full".into(), "bare".into(), "pre".into()],
            releases: vec![
                release("full", "1.6.0", true),
                release("full", "1.7.0-rc.1", false),
                release("full", "1.5.0", true),
                release("pre", "2.0.0-beta.2", true),
            ],
            alerts: vec![
                alert(1, "full", Some("<1.5.7")),
                alert(2, "full", None),
                alert(3, "full", Some(">=1.7.0-rc.0")),
                alert(4, "bare", None),
            ],
            versions: vec![],
        });
        let long = "x".repeat(MAX_ECHO_LEN + 1);
        let queries = [
            String::new(),
            "version=1.5.0".into(),
            "version=1.6.0&client_event_id=abc&previous_client_event_id=def&cli_path_hash=12ab&local_timestamp=2024-11-05T00%3A00%3A00Z".into(),
            "version=1.7.0-rc.1&client_event_id=%22quoted%22%5Cslash%0Anewline".into(),
            format!("version=1.0.0&client_event_id={long}&local_timestamp={long}"),
            "version=not-semver&client_event_id=%F0%9F%A6%80".into(),
            "version=2.0.0-alpha.1".into(),
        ];
        let mut compared = 0;
        for product in ["full", "bare", "pre"] {
            let entry = catalog.product(product).unwrap();
            for raw in &queries {
                let q = CheckQuery::parse(raw);
                let version = q.version.as_deref();
                let typed = serde_json::to_vec(&entry.answer(&q, version)).unwrap();
                let rendered = entry.answer_json(&q, version);
                assert_eq!(
                    rendered.outdated,
                    entry.answer(&q, version).outdated,
                    "{product} ?{raw}"
                );
                assert_eq!(
                    String::from_utf8(rendered.body).unwrap(),
                    String::from_utf8(typed).unwrap(),
                    "{product} ?{raw}"
                );
                compared += 1;
            }
        }
        assert_eq!(compared, 21);
        // The cases above do exercise what they claim to.
        let full = catalog.product("full").unwrap();
        let answer = full.answer(&CheckQuery::parse("version=1.5.0"), Some("1.5.0"));
        assert!(answer.outdated);
        assert_eq!(answer.alerts.iter().map(|a| a.id).collect::<Vec<_>>(), [1, 2]);
        let answer = full.answer(&CheckQuery::parse(""), Some("1.7.0-rc.1"));
        assert_eq!(answer.current_version, "1.7.0-rc.1");
        assert_eq!(answer.alerts.iter().map(|a| a.id).collect::<Vec<_>>(), [2, 3]);
    }
}
