//! Writes a [`Plan`] into a store through [`Store`], day by day.
//!
//! The catalog first (every release of the line, then an alert on the
//! releases before [`Plan::alert_release`]; Hasura's releases), then each day in order: its
//! pings sorted by their received time (set here, `received_at_ms`), a
//! command event for [`crate::plan::Params::command_share`] of them
//! (validated by `sonde_protocol::allowlist`, as the native front door
//! does), the day's error reports (decoded and scrubbed by
//! `sonde_protocol::error_report::decode`) and Hasura heartbeats (decoded
//! by `sonde_protocol::hasura::decode`).
//!
//! Writes are issued with up to [`Options::window`] of them outstanding,
//! answered oldest first: a backend that group-commits (SQLite's writer)
//! then always has a full batch queued, which one write awaited at a time
//! would never give it. A [`StoreError::QueueFull`] is answered by waiting
//! for the oldest outstanding write and trying again.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use sonde_protocol::routes::RouteTemplates;
use sonde_protocol::scrub::Scrubber;
use sonde_protocol::vocabulary::{self, Vocabulary};
use sonde_protocol::{allowlist, error_report, hasura, ClientFamily, Event, EventKind, ProductName, UsagePing};
use sonde_store::{
    EventsStored, NewAlert, NewErrorReport, NewEvents, NewPing, NewRelease, Pending, ReportStored, Store, StoreError,
};

use crate::content::{self, CommandRun, ReportContext};
use crate::plan::{Plan, DAY_MS};

/// Most events per `store_events` call (a native batch holds up to 1000).
const EVENTS_PER_WRITE: usize = 100;

/// The product Hasura's heartbeats are stored under.
pub const HASURA: &str = "hasura";

/// How the plan is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    /// Writes outstanding at once.
    pub window: usize,
}

impl Default for Options {
    /// 4096 outstanding writes: four of the SQLite writer's largest batches.
    fn default() -> Self {
        Options { window: 4096 }
    }
}

/// What was written, as the store acknowledged it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Totals {
    /// Pings.
    pub pings: u64,
    /// Command events.
    pub commands: u64,
    /// Heartbeats.
    pub heartbeats: u64,
    /// Error reports.
    pub error_reports: u64,
    /// Releases published.
    pub releases: u64,
    /// Alerts added.
    pub alerts: u64,
    /// Time spent writing.
    pub elapsed: Duration,
}

impl Totals {
    /// Every stored row (pings, events, reports; the catalog left out).
    pub fn rows(&self) -> u64 {
        self.pings + self.commands + self.heartbeats + self.error_reports
    }
}

/// Why generation stopped.
#[derive(Debug, thiserror::Error)]
pub enum GenerateError {
    /// The store refused or failed a write.
    #[error("store: {0}")]
    Store(#[from] StoreError),
    /// The plan's product is not a valid product name.
    #[error("invalid product name {0:?}")]
    Product(String),
    /// A generated error report did not decode (a bug in the generator).
    #[error("a generated error report was refused: {0}")]
    Report(#[from] error_report::ReportError),
    /// A generated heartbeat did not decode (a bug in the generator).
    #[error("a generated heartbeat was refused: {0}")]
    Heartbeat(#[from] hasura::HasuraError),
    /// The store stored fewer events than were sent, or reported a
    /// duplicate: ids are fresh, so something was lost.
    #[error("{sent} events sent, {stored} stored")]
    EventsLost {
        /// Sent in one write.
        sent: u64,
        /// Stored by it.
        stored: u64,
    },
}

/// Progress after each day.
#[derive(Debug, Clone, Copy)]
pub struct Progress {
    /// Days written.
    pub days_done: u32,
    /// Days in all.
    pub days: u32,
    /// Pings issued so far.
    pub pings: u64,
    /// Since the writing started.
    pub elapsed: Duration,
}

/// Writes `plan` into `store`; `progress` is called after each day.
pub fn generate(
    store: &dyn Store,
    plan: &Plan,
    options: Options,
    mut progress: impl FnMut(Progress),
) -> Result<Totals, GenerateError> {
    let started = Instant::now();
    let product =
        ProductName::parse(&plan.params.product).map_err(|_| GenerateError::Product(plan.params.product.clone()))?;
    let hasura_product = ProductName::parse(HASURA).expect("a valid product name");
    let mut w = Window {
        store,
        queue: VecDeque::new(),
        limit: options.window.max(1),
        totals: Totals::default(),
    };
    publish_catalog(&mut w, plan)?;
    let days = plan.params.days as u16;
    let signatures: Vec<String> = (0..plan.profiles.len() as u32).map(|s| plan.signature(s)).collect();
    let ctx = DayContext {
        plan,
        product: &product,
        hasura_product: &hasura_product,
        signatures: &signatures,
        scrubber: Scrubber::new(),
        routes: RouteTemplates::new(),
        vocab: Vocabulary::new(),
    };
    let mut issued = 0;
    for d in 0..days {
        issued += write_day(&mut w, &ctx, d)?;
        progress(Progress {
            days_done: u32::from(d) + 1,
            days: plan.params.days,
            pings: issued,
            elapsed: started.elapsed(),
        });
    }
    while !w.queue.is_empty() {
        w.settle_oldest()?;
    }
    w.totals.elapsed = started.elapsed();
    Ok(w.totals)
}

/// Publishes the release line, Hasura's releases and the alert.
fn publish_catalog(w: &mut Window<'_>, plan: &Plan) -> Result<(), GenerateError> {
    let product = &plan.params.product;
    let day_s = |d: i32| plan.start.add_days(i64::from(d)).start_ms() / 1000;
    for r in &plan.releases {
        let release = NewRelease {
            product: product.clone(),
            version: r.version.clone(),
            date: day_s(r.day),
            changelog_url: Some(format!("https://example.com/{product}/changelog#{}", r.version)),
            package: Some(product.clone()),
            release_tag: Some("latest".to_owned()),
            ..Default::default()
        };
        let now_ms = day_s(r.day) * 1000;
        w.submit(|s| s.publish_release(release.clone(), now_ms).map(Waiting::Release))?;
    }
    // Hasura's own releases, so its heartbeats belong to a registered product.
    for (i, (version, _)) in content::HASURA_VERSIONS.iter().enumerate() {
        let release = NewRelease {
            product: HASURA.to_owned(),
            version: version.trim_start_matches('v').to_owned(),
            date: day_s(-200 + 20 * i as i32),
            ..Default::default()
        };
        let now_ms = release.date * 1000;
        w.submit(|s| s.publish_release(release.clone(), now_ms).map(Waiting::Release))?;
    }
    while !w.queue.is_empty() {
        w.settle_oldest()?;
    }
    let fixed = &plan.releases[plan.alert_release.min(plan.releases.len() - 1)];
    let alert = NewAlert {
        product: product.clone(),
        level: "critical".to_owned(),
        message: format!("upgrade to {}: a security fix", fixed.version),
        url: Some(format!("https://example.com/{product}/security")),
        affects: Some(format!("<{}", fixed.version)),
        date: day_s(fixed.day),
    };
    w.submit(|s| s.add_alert(alert.clone()).map(Waiting::Alert))?;
    Ok(())
}

/// What every day's writing reads.
struct DayContext<'a> {
    plan: &'a Plan,
    product: &'a ProductName,
    hasura_product: &'a ProductName,
    signatures: &'a [String],
    scrubber: Scrubber,
    routes: RouteTemplates,
    vocab: Vocabulary,
}

/// Writes day `d`; returns how many pings it issued.
fn write_day(w: &mut Window<'_>, c: &DayContext<'_>, d: u16) -> Result<u64, GenerateError> {
    let plan = c.plan;
    let mut rng = plan.day_rng(d);
    let day_start = plan.day(d).start_ms();
    let visits = plan.visits_on(d);
    let first_visit = plan.visits.partition_point(|v| v.day < d);
    let mut times: Vec<(i64, u32)> = Vec::new();
    for (i, v) in visits.iter().enumerate() {
        for _ in 0..v.pings {
            times.push((day_start + rng.random_range(0..DAY_MS), i as u32));
        }
    }
    times.sort_unstable();
    let mut commands: Vec<Event> = Vec::new();
    for &(at, i) in &times {
        let v = visits[i as usize];
        w.submit(|s| {
            let ping = NewPing {
                ping: ping_of(c, v.sig, v.day, at),
                source: "check",
                dropped: Vec::new(),
                told_outdated: c.plan.outdated_on(v.sig, v.day),
            };
            s.record_ping(ping).map(Waiting::Ping)
        })?;
        if rng.random_bool(plan.params.command_share) {
            commands.push(command_event(c, &mut rng, v.sig, v.day, at));
            if commands.len() == EVENTS_PER_WRITE {
                w.events(c.product, std::mem::take(&mut commands), Kind::Command)?;
            }
        }
    }
    if !commands.is_empty() {
        w.events(c.product, commands, Kind::Command)?;
    }
    let reports_from = plan.reports.partition_point(|r| (r.visit as usize) < first_visit);
    let reports_to = plan
        .reports
        .partition_point(|r| (r.visit as usize) < first_visit + visits.len());
    for r in &plan.reports[reports_from..reports_to] {
        let v = plan.visits[r.visit as usize];
        let at = day_start + rng.random_range(0..DAY_MS);
        let report = error_report(c, &mut rng, v.sig, v.day, usize::from(r.group), at)?;
        w.submit(|s| s.store_error_report(report.clone()).map(Waiting::Report))?;
    }
    let beats_from = plan.heartbeats.partition_point(|&(day, _)| day < d);
    let beats_to = plan.heartbeats.partition_point(|&(day, _)| day <= d);
    let mut beats: Vec<Event> = Vec::new();
    for &(_, i) in &plan.heartbeats[beats_from..beats_to] {
        let inst = &plan.instances[i as usize];
        let at = day_start + i64::from(i) * 7_919 % DAY_MS;
        let body = content::heartbeat_body(
            &sonde_protocol::uuid::format(&inst.uid),
            &sonde_protocol::uuid::format(&inst.db_uid),
            inst.shape,
        );
        let (event, _) = hasura::decode(
            &body,
            c.hasura_product.clone(),
            &c.routes,
            vocabulary::builtin(HASURA),
            at,
        )?;
        beats.extend(event);
        if beats.len() == EVENTS_PER_WRITE {
            w.events(c.hasura_product, std::mem::take(&mut beats), Kind::Heartbeat)?;
        }
    }
    if !beats.is_empty() {
        w.events(c.hasura_product, beats, Kind::Heartbeat)?;
    }
    Ok(times.len() as u64)
}

/// The ping `sig` sends on day `d` at `at`.
fn ping_of(c: &DayContext<'_>, sig: u32, d: u16, at: i64) -> UsagePing {
    let p = &c.plan.profiles[sig as usize];
    let os = usize::from(p.os);
    UsagePing {
        product: c.product.clone(),
        version: Some(c.plan.version_on(sig, d).to_owned()),
        os: Some(content::OS[os].0.to_owned()),
        arch: Some(content::ARCH[os][usize::from(p.arch)].0.to_owned()),
        runtime_version: Some(content::RUNTIMES[usize::from(p.runtime)].0.to_owned()),
        signature: Some(c.signatures[sig as usize].clone()),
        ci: Some(p.ci.is_some()),
        ci_name: p.ci.map(|i| content::CI_VENDORS[usize::from(i)].0.to_owned()),
        client_family: ClientFamily::Sonde,
        project_hash: Some(format!("{:08x}", p.project_hash)),
        cli_path_hash: None,
        received_at_ms: at,
    }
}

/// A command event of `sig` on day `d`, validated as the native front door
/// validates one.
fn command_event(c: &DayContext<'_>, rng: &mut ChaCha8Rng, sig: u32, d: u16, at: i64) -> Event {
    let p = &c.plan.profiles[sig as usize];
    let os = usize::from(p.os);
    let id = sonde_protocol::uuid::format(&content::uuid_v4(rng));
    let execution_id = sonde_protocol::uuid::format(&content::uuid_v4(rng));
    let command_weights: Vec<u32> = content::COMMANDS.iter().map(|c| c.1).collect();
    let run = CommandRun {
        product: c.product.as_str(),
        command: content::pick(rng, &command_weights),
        install_id: &c.signatures[sig as usize],
        execution_id: &execution_id,
        version: c.plan.version_on(sig, d),
        os: content::OS[os].0,
        arch: content::ARCH[os][usize::from(p.arch)].0,
        ci: p.ci.map(|i| content::CI_VENDORS[usize::from(i)].0),
    };
    let raw = content::command_fields(rng, &run);
    let mut dropped = Vec::new();
    let fields = allowlist::validate(EventKind::Command, &raw, &c.routes, &c.vocab, &mut dropped);
    Event {
        id,
        kind: EventKind::Command,
        product: c.product.clone(),
        test: false,
        occurred_at_ms: Some(at - 1_000),
        received_at_ms: at,
        fields,
    }
}

/// An error report of `group` from `sig` on day `d`, decoded and scrubbed
/// as the collector's front door does.
fn error_report(
    c: &DayContext<'_>,
    rng: &mut ChaCha8Rng,
    sig: u32,
    d: u16,
    group: usize,
    at: i64,
) -> Result<NewErrorReport, GenerateError> {
    let p = &c.plan.profiles[sig as usize];
    let os = usize::from(p.os);
    let report_id = sonde_protocol::uuid::format(&content::uuid_v4(rng));
    let command_weights: Vec<u32> = content::COMMANDS.iter().map(|c| c.1).collect();
    let ctx = ReportContext {
        report_id: &report_id,
        product: c.product.as_str(),
        version: c.plan.version_on(sig, d),
        signature: &c.signatures[sig as usize],
        os: content::OS[os].0,
        arch: content::ARCH[os][usize::from(p.arch)].0,
        runtime: content::RUNTIMES[usize::from(p.runtime)].0,
        command: content::pick(rng, &command_weights),
    };
    let body = content::error_report_body(rng, group, &ctx);
    let decoded = error_report::decode(&body, &c.scrubber, &c.vocab, at)?;
    Ok(NewErrorReport::new(
        decoded.product,
        decoded.report,
        at,
        decoded.dropped,
    ))
}

/// Which events a write holds.
#[derive(Debug, Clone, Copy)]
enum Kind {
    Command,
    Heartbeat,
}

/// An outstanding write.
enum Waiting {
    Ping(Pending<()>),
    Events(Pending<EventsStored>, u64, Kind),
    Report(Pending<ReportStored>),
    Release(Pending<sonde_store::Release>),
    Alert(Pending<sonde_store::AlertRecord>),
}

/// The outstanding writes, oldest first.
struct Window<'a> {
    store: &'a dyn Store,
    queue: VecDeque<Waiting>,
    limit: usize,
    totals: Totals,
}

impl Window<'_> {
    /// Issues the write `op` makes (again, if the queue was full), then
    /// settles the oldest writes beyond the window.
    fn submit(&mut self, op: impl Fn(&dyn Store) -> Result<Waiting, StoreError>) -> Result<(), GenerateError> {
        loop {
            match op(self.store) {
                Ok(waiting) => {
                    self.queue.push_back(waiting);
                    break;
                }
                Err(StoreError::QueueFull) if !self.queue.is_empty() => self.settle_oldest()?,
                Err(StoreError::QueueFull) => std::thread::sleep(Duration::from_millis(1)),
                Err(e) => return Err(e.into()),
            }
        }
        while self.queue.len() > self.limit {
            self.settle_oldest()?;
        }
        Ok(())
    }

    /// Stores `events` of `product`.
    fn events(&mut self, product: &ProductName, events: Vec<Event>, kind: Kind) -> Result<(), GenerateError> {
        let sent = events.len() as u64;
        let write = NewEvents {
            product: product.clone(),
            source: "native",
            events,
            dropped: Vec::new(),
        };
        self.submit(|s| s.store_events(write.clone()).map(|p| Waiting::Events(p, sent, kind)))
    }

    /// Waits for the oldest write and counts it.
    fn settle_oldest(&mut self) -> Result<(), GenerateError> {
        let Some(oldest) = self.queue.pop_front() else {
            return Ok(());
        };
        let t = &mut self.totals;
        match oldest {
            Waiting::Ping(p) => {
                p.wait_blocking()?;
                t.pings += 1;
            }
            Waiting::Events(p, sent, kind) => {
                let stored = p.wait_blocking()?;
                if stored.stored != sent || stored.duplicates != 0 {
                    return Err(GenerateError::EventsLost {
                        sent,
                        stored: stored.stored,
                    });
                }
                match kind {
                    Kind::Command => t.commands += sent,
                    Kind::Heartbeat => t.heartbeats += sent,
                }
            }
            Waiting::Report(p) => {
                p.wait_blocking()?;
                t.error_reports += 1;
            }
            Waiting::Release(p) => {
                p.wait_blocking()?;
                t.releases += 1;
            }
            Waiting::Alert(p) => {
                p.wait_blocking()?;
                t.alerts += 1;
            }
        }
        Ok(())
    }
}
