//! The collector's metrics and `GET /metrics`, in the Prometheus text format
//! (OpenMetrics 1.0, which Prometheus scrapes natively), built with
//! `prometheus-client`.
//!
//! Every name starts with `sonde_`; docs/collector.md ("Metrics") lists them
//! with their meaning. The counters count what the collector did, never who
//! did it: labels are route templates, methods, statuses, front-door names,
//! drop reasons and scrubber rules, all from fixed sets, never values taken
//! from a request.
//!
//! `GET /metrics` is an admin route (behind the admin token); with
//! [`crate::Config::metrics_listen`] it is also served without a token on a
//! separate address, for a scraper on a private network.

use std::sync::{Arc, OnceLock, Weak};
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;
use sonde_protocol::ping::Dropped;

use crate::openapi::{Unauthorized, TAG_OPS};
use crate::AppState;

/// The content type of the answer.
const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// The route label of a request that matched no route.
pub const UNMATCHED: &str = "unmatched";

/// Labels of `sonde_http_requests_total`.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    route: String,
    method: String,
    status: u16,
}

/// Labels of the per-door event counters.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct SourceLabels {
    source: &'static str,
}

/// Labels of `sonde_dropped_total`.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct DropLabels {
    source: &'static str,
    reason: &'static str,
}

/// Labels of `sonde_scrubber_redactions_total`.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RuleLabels {
    rule: &'static str,
}

/// Every metric of the collector, in one registry. Shared by the state, the
/// pipeline and the `/metrics` route; cheap to share behind an `Arc`.
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    events_accepted: Family<SourceLabels, Counter>,
    events_deduplicated: Family<SourceLabels, Counter>,
    pings_accepted: Family<SourceLabels, Counter>,
    error_reports_accepted: Counter,
    dropped: Family<DropLabels, Counter>,
    redactions: Family<RuleLabels, Counter>,
    queue_depth: Gauge,
    batch_events: Histogram,
    commit_seconds: Histogram,
    spill_depth: Gauge,
    spill_source: OnceLock<Weak<dyn sonde_store::Store>>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// A registry with every metric at zero.
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("sonde");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests answered, by route template, method and status",
            requests.clone(),
        );
        let events_accepted = Family::<SourceLabels, Counter>::default();
        registry.register(
            "events_accepted",
            "Events newly stored, by front door",
            events_accepted.clone(),
        );
        let events_deduplicated = Family::<SourceLabels, Counter>::default();
        registry.register(
            "events_deduplicated",
            "Events ignored because their id was already stored (client retries), by front door",
            events_deduplicated.clone(),
        );
        let pings_accepted = Family::<SourceLabels, Counter>::default();
        registry.register(
            "pings_accepted",
            "Usage pings stored, by front door",
            pings_accepted.clone(),
        );
        let error_reports_accepted = Counter::default();
        registry.register(
            "error_reports_accepted",
            "Error reports committed (duplicates included)",
            error_reports_accepted.clone(),
        );
        let dropped = Family::<DropLabels, Counter>::default();
        registry.register(
            "dropped",
            "Values or events dropped by validation, by front door and reason",
            dropped.clone(),
        );
        let redactions = Family::<RuleLabels, Counter>::default();
        registry.register(
            "scrubber_redactions",
            "Redactions in stored error reports' free text, by scrubber rule",
            redactions.clone(),
        );
        let queue_depth = Gauge::default();
        registry.register(
            "write_queue_depth",
            "Writes handed to the store and not yet committed",
            queue_depth.clone(),
        );
        let batch_events = Histogram::new(exponential_buckets(1.0, 4.0, 7));
        registry.register(
            "ingest_batch_events",
            "Events per submitted batch (native, Hasura, WebSocket frame)",
            batch_events.clone(),
        );
        let commit_seconds = Histogram::new(exponential_buckets(0.0005, 2.0, 14));
        registry.register(
            "commit_seconds",
            "Time from handing a write to the store to its batch's commit",
            commit_seconds.clone(),
        );
        let spill_depth = Gauge::default();
        registry.register(
            "spill_depth",
            "Writes a store backend holds in its local spill while its database is unreachable (0 for SQLite)",
            spill_depth.clone(),
        );
        Metrics {
            registry,
            requests,
            events_accepted,
            events_deduplicated,
            pings_accepted,
            error_reports_accepted,
            dropped,
            redactions,
            queue_depth,
            batch_events,
            commit_seconds,
            spill_depth,
            spill_source: OnceLock::new(),
        }
    }

    /// Reads the spill depth from `store` at every scrape, if the store has
    /// a spill ([`sonde_store::Store::spill_depth`]); a store without one
    /// leaves the gauge as set (0 unless a caller sets it).
    pub(crate) fn watch_spill(&self, store: &Arc<dyn sonde_store::Store>) {
        let _ = self.spill_source.set(Arc::downgrade(store));
    }

    /// Counts an answered request.
    pub fn request(&self, route: &str, method: &str, status: StatusCode) {
        self.requests
            .get_or_create(&RequestLabels {
                route: route.to_owned(),
                method: method.to_owned(),
                status: status.as_u16(),
            })
            .inc();
    }

    /// Counts what a committed batch of events became.
    pub(crate) fn events(&self, source: &'static str, submitted: usize, stored: u64, duplicates: u64) {
        self.batch_events.observe(submitted as f64);
        self.events_accepted
            .get_or_create(&SourceLabels { source })
            .inc_by(stored);
        self.events_deduplicated
            .get_or_create(&SourceLabels { source })
            .inc_by(duplicates);
    }

    /// Counts a committed ping.
    pub(crate) fn ping(&self, source: &'static str) {
        self.pings_accepted.get_or_create(&SourceLabels { source }).inc();
    }

    /// Counts a committed error report and the redactions in its text
    /// ([`redaction_rules`]).
    pub(crate) fn error_report(&self, redactions: &[&'static str]) {
        self.error_reports_accepted.inc();
        for rule in redactions {
            self.redactions.get_or_create(&RuleLabels { rule }).inc();
        }
    }

    /// Counts dropped values, once their batch is committed.
    pub(crate) fn dropped(&self, source: &'static str, dropped: &[Dropped]) {
        for d in dropped {
            self.dropped
                .get_or_create(&DropLabels {
                    source,
                    reason: d.reason.as_str(),
                })
                .inc();
        }
    }

    /// Marks a write as handed to the store until the returned guard drops.
    pub(crate) fn in_flight(&self) -> InFlight<'_> {
        self.queue_depth.inc();
        InFlight {
            metrics: self,
            since: Instant::now(),
        }
    }

    /// The spill-depth gauge, for a store backend that spills writes locally
    /// while its database is unreachable: it sets the number of writes held.
    /// The gauge is shared: setting a clone sets the exported value.
    pub fn spill_depth(&self) -> Gauge {
        self.spill_depth.clone()
    }

    /// The registry in the text format.
    pub fn encode(&self) -> String {
        let depth = self
            .spill_source
            .get()
            .and_then(Weak::upgrade)
            .and_then(|store| store.spill_depth());
        if let Some(depth) = depth {
            self.spill_depth.set(i64::try_from(depth).unwrap_or(i64::MAX));
        }
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry).expect("writing to a String cannot fail");
        out
    }
}

/// A write handed to the store: counted in the queue depth until dropped;
/// [`InFlight::committed`] records its commit latency.
pub(crate) struct InFlight<'a> {
    metrics: &'a Metrics,
    since: Instant,
}

impl InFlight<'_> {
    /// The write committed now.
    pub(crate) fn committed(self) {
        self.metrics.commit_seconds.observe(self.since.elapsed().as_secs_f64());
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.metrics.queue_depth.dec();
    }
}

/// The rule of every `[redacted:<rule>]` marker in a report's message and
/// chain: what the scrubber replaced (the collector's pass or the client's,
/// which is the same scrubber).
pub(crate) fn redaction_rules(report: &sonde_protocol::error_report::ErrorReport) -> Vec<&'static str> {
    let mut rules: Vec<&'static str> = redactions(&report.message).collect();
    for link in &report.chain {
        rules.extend(redactions(&link.message));
    }
    rules
}

/// The rules of the `[redacted:<rule>]` markers in `text`, for the
/// scrubber's rules only (a marker naming anything else is not counted: a
/// label value never comes from a request).
fn redactions(text: &str) -> impl Iterator<Item = &'static str> + '_ {
    text.split("[redacted:").skip(1).filter_map(|rest| {
        let (rule, _) = rest.split_once(']')?;
        sonde_protocol::privacy::PrivacyHit::ALL
            .iter()
            .map(|hit| hit.as_str())
            .find(|known| *known == rule)
    })
}

/// Route-layer middleware: counts every answered request under its route
/// template (`/v1/check/{product}`), never the path as sent.
pub(crate) async fn track(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| UNMATCHED.to_owned(), |m| m.as_str().to_owned());
    let method = req.method().clone();
    let response = next.run(req).await;
    state
        .metrics()
        .request(&route, known_method(&method), response.status());
    response
}

/// The method's name if it is a standard one, else `other` (a label must not
/// take values from the request).
pub(crate) fn known_method(method: &axum::http::Method) -> &'static str {
    use axum::http::Method;
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        Method::PATCH => "PATCH",
        _ => "other",
    }
}

/// `GET /metrics`.
#[utoipa::path(
    get,
    path = "/metrics",
    tag = TAG_OPS,
    security(("admin_token" = [])),
    responses(
        (status = 200, description = "Every metric, Prometheus text format (OpenMetrics 1.0)",
            content_type = "application/openmetrics-text", body = String),
        Unauthorized
    )
)]
pub(crate) async fn metrics(State(state): State<AppState>) -> Response {
    answer(&state.metrics())
}

/// The metrics as an HTTP answer.
pub(crate) fn answer(metrics: &Metrics) -> Response {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE))],
        metrics.encode(),
    )
        .into_response()
}

/// Binds `addr` and serves `GET /metrics` there without a token until `stop`
/// turns true: the optional separate metrics address. Returns the address bound.
pub(crate) fn listen(
    addr: std::net::SocketAddr,
    metrics: Arc<Metrics>,
    stop: tokio::sync::watch::Receiver<bool>,
) -> Result<std::net::SocketAddr, crate::CollectorError> {
    let bind = |source| crate::CollectorError::Bind { addr, source };
    let listener = std::net::TcpListener::bind(addr).map_err(bind)?;
    listener.set_nonblocking(true)?;
    let bound = listener.local_addr()?;
    tokio::spawn(serve_open(tokio::net::TcpListener::from_std(listener)?, metrics, stop));
    Ok(bound)
}

/// Serves `GET /metrics` without a token on `listener` until `stop` turns true.
async fn serve_open(
    listener: tokio::net::TcpListener,
    metrics: Arc<Metrics>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let router = axum::Router::new()
        .route(
            "/metrics",
            axum::routing::get(move || {
                let metrics = metrics.clone();
                async move { answer(&metrics) }
            }),
        )
        .fallback(crate::routes::fallback);
    let shutdown = async move {
        let _ = stop.wait_for(|s| *s).await;
    };
    if let Err(e) = axum::serve(listener, router).with_graceful_shutdown(shutdown).await {
        tracing::error!(error = %e, "the metrics listener failed");
    }
}
