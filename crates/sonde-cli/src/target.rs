//! Where admin verbs act: the SQLite store in a data directory, opened
//! directly, or a running collector's admin API (`--server URL --token-file F`).
//! Both paths validate input with the collector library's validators first,
//! so a bad value gets the same message either way.

use std::path::PathBuf;

use anyhow::{anyhow, Context};
use serde::de::DeserializeOwned;
use sonde_collector::admin::{AlertInput, MauAnswer, ReleaseInput, VersionsInput};
use sonde_collector::analytics::kanon::KAnon;
use sonde_collector::analytics::query::{Answer, QueryFailure, QueryParams};
use sonde_collector::clock::now_ms;
use sonde_store::{
    AlertRecord, ErrorGroup, ErrorGroupDetail, Month, Pending, RejectionCount, Release, SqliteStore, Store, StoreError,
    VersionConstraint,
};

use crate::output::UsageError;

/// Options every verb accepts.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct GlobalArgs {
    /// The collector's data directory (default ./sonde-data).
    #[arg(long, global = true, env = "SONDE_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Act on a running collector's admin API instead of the data directory.
    #[arg(long, global = true, env = "SONDE_SERVER", value_name = "URL")]
    pub server: Option<String>,
    /// File holding the admin token, for --server (the collector's <data-dir>/admin-token).
    #[arg(long, global = true, env = "SONDE_TOKEN_FILE", value_name = "FILE")]
    pub token_file: Option<PathBuf>,
}

/// The default data directory.
pub(crate) const DEFAULT_DATA_DIR: &str = "./sonde-data";

impl GlobalArgs {
    /// The data directory given, or the default.
    pub(crate) fn data_dir_or_default(&self) -> PathBuf {
        self.data_dir.clone().unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR))
    }
}

/// A data directory or a collector.
pub(crate) enum Target {
    /// The store, opened in this process.
    Direct(SqliteStore),
    /// A collector's admin API.
    Remote(Remote),
}

/// A running collector reached over HTTP.
pub(crate) struct Remote {
    base: String,
    token: String,
    token_file: PathBuf,
    agent: ureq::Agent,
}

fn now_secs() -> i64 {
    now_ms() / 1000
}

impl Target {
    /// Opens the target the global options name. `create` allows creating a
    /// new data directory (writes); reads need an existing one.
    pub(crate) fn open(global: &GlobalArgs, create: bool) -> anyhow::Result<Target> {
        if let Some(server) = &global.server {
            let Some(token_file) = &global.token_file else {
                return Err(UsageError(
                    "--server needs --token-file FILE (the collector's <data-dir>/admin-token)".into(),
                )
                .into());
            };
            let token = std::fs::read_to_string(token_file)
                .with_context(|| format!("cannot read the admin token file {}", token_file.display()))?
                .trim()
                .to_owned();
            let agent = ureq::Agent::config_builder()
                .http_status_as_error(false)
                .timeout_global(Some(std::time::Duration::from_secs(30)))
                .build()
                .into();
            return Ok(Target::Remote(Remote {
                base: server.trim_end_matches('/').to_owned(),
                token,
                token_file: token_file.clone(),
                agent,
            }));
        }
        let dir = global.data_dir_or_default();
        if !create && !dir.join(sonde_store::sqlite::DB_FILE).exists() {
            return Err(UsageError(format!(
                "no Sonde data in {}: pass --data-dir DIR (or --server URL --token-file F)",
                dir.display()
            ))
            .into());
        }
        let store = SqliteStore::open(&dir).with_context(|| format!("cannot open the store in {}", dir.display()))?;
        Ok(Target::Direct(store))
    }

    /// Waits for a queued write, turning an unknown product into a usage error.
    fn write<T>(pending: Result<Pending<T>, StoreError>) -> anyhow::Result<T> {
        pending.and_then(Pending::wait_blocking).map_err(|e| match e {
            StoreError::UnknownProduct(p) => {
                UsageError(format!("unknown product {p:?}: publish a release for it first")).into()
            }
            e => anyhow::Error::from(e),
        })
    }

    /// Publishes a release.
    pub(crate) fn publish_release(&self, input: ReleaseInput) -> anyhow::Result<Release> {
        let release = input.clone().validate(now_secs())?;
        match self {
            Target::Direct(s) => Self::write(s.publish_release(release, now_ms())),
            Target::Remote(r) => r.call("POST", "/api/v1/releases", Some(serde_json::to_value(&input)?)),
        }
    }

    /// The releases of a product.
    pub(crate) fn releases(&self, product: &str) -> anyhow::Result<Vec<Release>> {
        let product = sonde_collector::admin::validate_product(product)?;
        match self {
            Target::Direct(s) => {
                let releases = s.releases(product.as_str())?;
                if releases.is_empty() {
                    return Err(
                        UsageError(format!("unknown product {:?}: it has no release", product.as_str())).into(),
                    );
                }
                Ok(releases)
            }
            Target::Remote(r) => r.call("GET", &format!("/api/v1/releases?product={product}"), None),
        }
    }

    /// Adds an alert.
    pub(crate) fn add_alert(&self, input: AlertInput) -> anyhow::Result<AlertRecord> {
        let alert = input.clone().validate(now_secs())?;
        match self {
            Target::Direct(s) => Self::write(s.add_alert(alert)),
            Target::Remote(r) => r.call("POST", "/api/v1/alerts", Some(serde_json::to_value(&input)?)),
        }
    }

    /// Alerts, of one product or all.
    pub(crate) fn alerts(&self, product: Option<&str>) -> anyhow::Result<Vec<AlertRecord>> {
        let product = product.map(sonde_collector::admin::validate_product).transpose()?;
        match self {
            Target::Direct(s) => Ok(s.alerts(product.as_ref().map(|p| p.as_str()))?),
            Target::Remote(r) => match product {
                Some(p) => r.call("GET", &format!("/api/v1/alerts?product={p}"), None),
                None => r.call("GET", "/api/v1/alerts", None),
            },
        }
    }

    /// Removes an alert; `false` if there was none with that id.
    pub(crate) fn remove_alert(&self, id: i64) -> anyhow::Result<bool> {
        match self {
            Target::Direct(s) => Self::write(s.remove_alert(id)),
            Target::Remote(r) => {
                let (status, body) = r.raw("DELETE", &format!("/api/v1/alerts/{id}"), None)?;
                match status {
                    204 | 200 => Ok(true),
                    404 => Ok(false),
                    _ => Err(r.error(status, &body)),
                }
            }
        }
    }

    /// Sets a service version constraint.
    pub(crate) fn set_versions(&self, input: VersionsInput) -> anyhow::Result<VersionConstraint> {
        let constraint = input.clone().validate()?;
        match self {
            Target::Direct(s) => {
                Self::write(s.set_versions(constraint.clone()))?;
                Ok(constraint)
            }
            Target::Remote(r) => r.call("PUT", "/api/v1/versions", Some(serde_json::to_value(&input)?)),
        }
    }

    /// Monthly active signatures.
    pub(crate) fn mau(&self, product: &str, month: Month) -> anyhow::Result<MauAnswer> {
        let product = sonde_collector::admin::validate_product(product)?;
        match self {
            Target::Direct(s) => Ok(MauAnswer {
                product: product.to_string(),
                month: month.to_string(),
                active_signatures: s.monthly_active(product.as_str(), month)?,
            }),
            Target::Remote(r) => r.call(
                "GET",
                &format!("/api/v1/stats/mau?product={product}&month={month}"),
                None,
            ),
        }
    }

    /// An analytics query (see [`sonde_collector::analytics::query`]) as
    /// the admin API's JSON; read directly, figures are under
    /// `min_group_size`, from a collector under the collector's own.
    pub(crate) fn query(&self, params: &QueryParams, min_group_size: u64) -> anyhow::Result<serde_json::Value> {
        match self {
            Target::Direct(s) => Ok(serde_json::to_value(Self::answer(s, params, min_group_size)?)?),
            Target::Remote(r) => r.call("GET", &format!("/api/v1/query?{}", query_string(params)), None),
        }
    }

    /// An analytics query as the admin API's CSV.
    pub(crate) fn query_csv(&self, params: &QueryParams, min_group_size: u64) -> anyhow::Result<String> {
        match self {
            Target::Direct(s) => Ok(Self::answer(s, params, min_group_size)?.csv()),
            Target::Remote(r) => {
                let path = format!("/api/v1/query?{}&format=csv", query_string(params));
                let (status, text) = r.raw("GET", &path, None)?;
                if !(200..300).contains(&status) {
                    return Err(r.error(status, &text));
                }
                Ok(text)
            }
        }
    }

    /// Answers `params` from the store opened here.
    fn answer(store: &SqliteStore, params: &QueryParams, min_group_size: u64) -> anyhow::Result<Answer> {
        let product = sonde_collector::admin::validate_product(params.product.as_deref().unwrap_or_default())?;
        let query = params.parse().map_err(|e| UsageError(e.to_string()))?;
        let kanon = KAnon::new(min_group_size).map_err(|e| UsageError(e.to_string()))?;
        sonde_collector::analytics::query::run(store, product.as_str(), &query, kanon).map_err(|e| match e {
            QueryFailure::Narrowed(n) => UsageError(n.to_string()).into(),
            QueryFailure::Store(e) => anyhow::Error::from(e),
        })
    }

    /// Rejection counters.
    pub(crate) fn rejections(&self, product: Option<&str>) -> anyhow::Result<Vec<RejectionCount>> {
        let product = product.map(sonde_collector::admin::validate_product).transpose()?;
        match self {
            Target::Direct(s) => Ok(s.rejections(product.as_ref().map(|p| p.as_str()))?),
            Target::Remote(r) => match product {
                Some(p) => r.call("GET", &format!("/api/v1/stats/rejected?product={p}"), None),
                None => r.call("GET", "/api/v1/stats/rejected", None),
            },
        }
    }
}

/// `GET /api/v1/errors` answers this.
#[derive(Debug, serde::Deserialize)]
struct GroupsAnswer {
    groups: Vec<ErrorGroup>,
}

impl Target {
    /// A registered product, checked in the data directory (the collector
    /// checks it itself).
    fn registered(store: &SqliteStore, product: &str) -> anyhow::Result<()> {
        if store.releases(product)?.is_empty() {
            return Err(UsageError(format!("unknown product {product:?}: it has no release")).into());
        }
        Ok(())
    }

    /// The error groups of a product, latest seen first.
    pub(crate) fn error_groups(&self, product: &str) -> anyhow::Result<Vec<ErrorGroup>> {
        let product = sonde_collector::admin::validate_product(product)?;
        match self {
            Target::Direct(s) => {
                Self::registered(s, product.as_str())?;
                Ok(s.error_groups(product.as_str())?)
            }
            Target::Remote(r) => {
                let answer: GroupsAnswer = r.call("GET", &format!("/api/v1/errors?product={product}"), None)?;
                Ok(answer.groups)
            }
        }
    }

    /// One error group of a product with its latest report.
    pub(crate) fn error_group(&self, product: &str, group: &str) -> anyhow::Result<ErrorGroupDetail> {
        let product = sonde_collector::admin::validate_product(product)?;
        match self {
            Target::Direct(s) => {
                Self::registered(s, product.as_str())?;
                s.error_group(product.as_str(), group)?.ok_or_else(|| {
                    UsageError(format!("no error group {group:?} for product {:?}", product.as_str())).into()
                })
            }
            Target::Remote(r) => r.call("GET", &format!("/api/v1/errors/{group}?product={product}"), None),
        }
    }
}

impl Drop for Target {
    fn drop(&mut self) {
        if let Target::Direct(s) = self {
            let _ = s.close();
        }
    }
}

/// `params` as a query string (every value is a validated word or day, or
/// is refused by the collector).
fn query_string(params: &QueryParams) -> String {
    let pairs = [
        ("product", &params.product),
        ("metric", &params.metric),
        ("from", &params.from),
        ("to", &params.to),
        ("interval", &params.interval),
        ("dimension", &params.dimension),
        ("include_ci", &params.include_ci),
        ("filter", &params.filter),
        ("window", &params.window),
    ];
    pairs
        .iter()
        .filter_map(|(k, v)| v.as_ref().map(|v| format!("{k}={}", percent(v))))
        .collect::<Vec<_>>()
        .join("&")
}

/// Percent-encodes everything but unreserved characters.
fn percent(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

impl Remote {
    fn raw(&self, method: &str, path: &str, body: Option<serde_json::Value>) -> anyhow::Result<(u16, String)> {
        let url = format!("{}{}", self.base, path);
        let auth = format!("Bearer {}", self.token);
        let result = match (method, body) {
            ("GET", _) => self.agent.get(&url).header("Authorization", &auth).call(),
            ("DELETE", _) => self.agent.delete(&url).header("Authorization", &auth).call(),
            ("POST", Some(b)) => self.agent.post(&url).header("Authorization", &auth).send_json(b),
            ("PUT", Some(b)) => self.agent.put(&url).header("Authorization", &auth).send_json(b),
            _ => return Err(anyhow!("unsupported request {method} {path}")),
        };
        let mut response = result.with_context(|| format!("cannot reach the collector at {}", self.base))?;
        let status = response.status().as_u16();
        let text = response.body_mut().read_to_string().unwrap_or_default();
        Ok((status, text))
    }

    fn error(&self, status: u16, body: &str) -> anyhow::Error {
        let message = serde_json::from_str::<serde_json::Value>(body)
            .ok()
            .and_then(|v| v["error"]["message"].as_str().map(str::to_owned))
            .unwrap_or_else(|| body.chars().take(200).collect());
        match status {
            401 => anyhow!(
                "the collector at {} refused the admin token in {} (HTTP 401): use the admin-token file of that collector's data directory",
                self.base,
                self.token_file.display()
            ),
            400 | 403 | 404 => UsageError(format!("the collector refused: {message} (HTTP {status})")).into(),
            _ => anyhow!("the collector at {} answered HTTP {status}: {message}", self.base),
        }
    }

    pub(crate) fn call<T: DeserializeOwned>(
        &self,
        method: &str,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> anyhow::Result<T> {
        let (status, text) = self.raw(method, path, body)?;
        if !(200..300).contains(&status) {
            return Err(self.error(status, &text));
        }
        serde_json::from_str(&text).with_context(|| format!("unexpected answer from the collector: {text}"))
    }
}
