//! The plan: a seeded, deterministic population of one product over a
//! range of days, and the answers the store must give once it is written.
//!
//! Each signature gets, from its own ChaCha8 stream (the seed's stream
//! number `index + 1`, so a signature does not depend on how many others
//! there are before it): a UUID, a first-seen day (a quarter of them in the
//! first week — the existing users showing up — the rest on a rising
//! curve), an activity pattern, a CI vendor for [`Params::ci_share`] of
//! them, an OS, arch and runtime, the release it installed (15% install a
//! release 30 to 180 days old) and how many days it lags behind new
//! releases (15% never upgrade). Its visits are the days it is active:
//! its first day always, then each later day with its pattern's
//! probability (weekends are quieter), until it churns.
//!
//! [`Params::pings`] pings are then spread over the visits: one each, and
//! the rest in proportion to a weight (daily users and CI send more), so
//! the total is exact. A signature's attributes are the same on every ping
//! of a day, so what the store counts for a day or a month follows from the
//! visits alone ([`Plan::active_per_day`], [`Plan::active_per_month`],
//! [`Plan::versions_per_month`], [`Plan::cohorts`]). A check is answered
//! `outdated` when its release is older than the newest one released by
//! its day ([`Plan::outdated_on`]), which gives the upgrades after a notice
//! ([`Plan::upgrades_per_month`]).

use std::collections::{BTreeMap, HashMap, HashSet};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sonde_store::{Day, Month};

use crate::content::{self, pick, weights, Release, ServerShape};

/// Milliseconds in a day.
pub const DAY_MS: i64 = 86_400_000;

/// What to generate.
#[derive(Debug, Clone, PartialEq)]
pub struct Params {
    /// Seed of every random choice.
    pub seed: u64,
    /// The product the pings, command events and error reports belong to
    /// (heartbeats belong to `hasura`).
    pub product: String,
    /// Distinct signatures.
    pub signatures: u32,
    /// Pings in all (at least one per visit).
    pub pings: u64,
    /// Days covered.
    pub days: u32,
    /// The last day covered.
    pub end: Day,
    /// Share of signatures that run in CI.
    pub ci_share: f64,
    /// Share of pings that also send a command event.
    pub command_share: f64,
    /// Hasura server instances sending daily heartbeats.
    pub instances: u32,
    /// Error reports.
    pub error_reports: u32,
}

impl Default for Params {
    /// The full size: 1M signatures, 10M pings over the 90 days ending
    /// 2026-11-30, 5% CI, a command event for one ping in five, 5,000
    /// server instances, 20,000 error reports.
    fn default() -> Self {
        Params {
            seed: 1,
            product: "acme".to_owned(),
            signatures: 1_000_000,
            pings: 10_000_000,
            days: 90,
            end: "2026-11-30".parse().expect("a valid day"),
            ci_share: 0.05,
            command_share: 0.2,
            instances: 5_000,
            error_reports: 20_000,
        }
    }
}

/// Why a plan cannot be made.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PlanError {
    /// No signatures or no days.
    #[error("a plan needs at least one signature and one day (and at most 65,535 days)")]
    Empty,
    /// A share outside 0..=1.
    #[error("{name} must be between 0 and 1, not {value}")]
    Share {
        /// Which parameter.
        name: &'static str,
        /// Its value.
        value: f64,
    },
    /// Fewer pings than visits: every visit sends at least one.
    #[error(
        "{pings} pings are too few: these signatures make {needed} active (signature, day) pairs, each needing a ping"
    )]
    TooFewPings {
        /// Pings asked for.
        pings: u64,
        /// Visits the plan made.
        needed: u64,
    },
}

/// How often a signature comes back after its first day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pattern {
    /// Most working days (8%); 15% of them churn after 1 to 9 weeks.
    Daily,
    /// About once a week (17%).
    Weekly,
    /// Now and then (35%).
    Occasional,
    /// A few days around the first, then never again (40%).
    OneOff,
}

const PATTERNS: [(Pattern, u32); 4] = [
    (Pattern::Daily, 8),
    (Pattern::Weekly, 17),
    (Pattern::Occasional, 35),
    (Pattern::OneOff, 40),
];

impl Pattern {
    /// Probability of a visit on a later day (weekday, weekend).
    fn rate(self) -> (f64, f64) {
        match self {
            Pattern::Daily => (0.85, 0.3),
            Pattern::Weekly => (0.2, 0.08),
            Pattern::Occasional => (0.05, 0.03),
            Pattern::OneOff => (0.3, 0.2),
        }
    }

    /// Relative number of pings per visit beyond the first.
    fn weight(self) -> u32 {
        match self {
            Pattern::Daily => 3,
            Pattern::Weekly => 2,
            Pattern::Occasional | Pattern::OneOff => 1,
        }
    }
}

/// One signature's fixed traits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Profile {
    /// The signature, UUID v4.
    pub uuid: [u8; 16],
    /// First-seen day (index from the plan's first day).
    pub first: u16,
    /// Activity pattern.
    pub pattern: Pattern,
    /// CI vendor (index in [`content::CI_VENDORS`]), if it runs in CI.
    pub ci: Option<u8>,
    /// Index in [`content::OS`].
    pub os: u8,
    /// Index in [`content::ARCH`]`[os]`.
    pub arch: u8,
    /// Index in [`content::RUNTIMES`].
    pub runtime: u8,
    /// The release it installed (index in [`Plan::releases`]).
    pub install: u16,
    /// Days it lags behind a new release; `None`: it never upgrades.
    pub lag: Option<u16>,
    /// Salted project hash the client sends (8 hex digits).
    pub project_hash: u32,
}

/// Pings of one signature on one day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Visit {
    /// Day index.
    pub day: u16,
    /// Signature index.
    pub sig: u32,
    /// Pings sent (at least one).
    pub pings: u32,
}

/// One Hasura server instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Instance {
    /// `instance_uid`.
    pub uid: [u8; 16],
    /// `metadata_db_uid`.
    pub db_uid: [u8; 16],
    /// What its heartbeat says.
    pub shape: ServerShape,
}

/// One error report: which visit sent it, of which group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Report {
    /// Index in [`Plan::visits`].
    pub visit: u32,
    /// Group (below [`content::ERROR_GROUPS`]).
    pub group: u16,
}

/// The whole generated population; see the module docs.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// What it was made from.
    pub params: Params,
    /// The first day.
    pub start: Day,
    /// The release line, oldest first.
    pub releases: Vec<Release>,
    /// The release an alert is published on (index in `releases`): it
    /// affects every older version.
    pub alert_release: usize,
    /// Signatures by index.
    pub profiles: Vec<Profile>,
    /// Visits, by day then signature.
    pub visits: Vec<Visit>,
    /// Server instances.
    pub instances: Vec<Instance>,
    /// Heartbeats as (day, instance index), by day.
    pub heartbeats: Vec<(u16, u32)>,
    /// Error reports, by visit.
    pub reports: Vec<Report>,
}

/// The generator of stream `stream` of `seed`.
fn stream(seed: u64, stream: u64) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(stream);
    rng
}

/// Stream numbers of the plan's parts besides signatures (which use
/// `1 + index`).
const RELEASES_STREAM: u64 = 1 << 40;
const INSTANCES_STREAM: u64 = 2 << 40;
const REPORTS_STREAM: u64 = 3 << 40;
/// Streams of the generator's per-day choices (`+ day`), see
/// [`Plan::day_rng`].
const DAY_STREAM: u64 = 4 << 40;

impl Plan {
    /// Makes the plan of `params`.
    pub fn new(params: Params) -> Result<Plan, PlanError> {
        if params.signatures == 0 || params.days == 0 || params.days > u32::from(u16::MAX) {
            return Err(PlanError::Empty);
        }
        for (name, value) in [("ci_share", params.ci_share), ("command_share", params.command_share)] {
            if !(0.0..=1.0).contains(&value) {
                return Err(PlanError::Share { name, value });
            }
        }
        let days = params.days as u16;
        let start = params.end.add_days(-(i64::from(days) - 1));
        let weekend: Vec<bool> = (0..days)
            .map(|d| {
                let day = start.add_days(i64::from(d));
                (day.start_ms() - day.week_start().start_ms()) / DAY_MS >= 5
            })
            .collect();
        let releases = content::release_line(&mut stream(params.seed, RELEASES_STREAM), 180, i32::from(days));
        let alert_release = releases.partition_point(|r| r.day <= i32::from(days) / 2);
        let mut profiles = Vec::with_capacity(params.signatures as usize);
        let mut weighted: Vec<(Visit, u32)> = Vec::new();
        for sig in 0..params.signatures {
            let mut rng = stream(params.seed, 1 + u64::from(sig));
            let p = profile(&mut rng, &params, days, &releases);
            visits_of(&mut rng, sig, &p, days, &weekend, &mut weighted);
            profiles.push(p);
        }
        weighted.sort_unstable_by_key(|(v, _)| (v.day, v.sig));
        let visits = spread(params.pings, weighted)?;
        let (instances, heartbeats) = servers(&params, days);
        let reports = reports(&params, visits.len());
        Ok(Plan {
            params,
            start,
            releases,
            alert_release,
            profiles,
            visits,
            instances,
            heartbeats,
            reports,
        })
    }

    /// The day of index `d`.
    pub fn day(&self, d: u16) -> Day {
        self.start.add_days(i64::from(d))
    }

    /// The visits of day `d`, by signature.
    pub fn visits_on(&self, d: u16) -> &[Visit] {
        let from = self.visits.partition_point(|v| v.day < d);
        let to = self.visits.partition_point(|v| v.day <= d);
        &self.visits[from..to]
    }

    /// The signature of `sig`, lower-case UUID.
    pub fn signature(&self, sig: u32) -> String {
        sonde_protocol::uuid::format(&self.profiles[sig as usize].uuid)
    }

    /// The release `sig` runs on day `d` (index in `releases`): the newest
    /// released `lag` days before, but never older than the one it installed.
    pub fn release_on(&self, sig: u32, d: u16) -> usize {
        let p = &self.profiles[sig as usize];
        match p.lag {
            None => usize::from(p.install),
            Some(lag) => {
                let seen = i32::from(d) - i32::from(lag);
                let newest = self.releases.partition_point(|r| r.day <= seen).saturating_sub(1);
                newest.max(usize::from(p.install))
            }
        }
    }

    /// The version `sig` runs on day `d`.
    pub fn version_on(&self, sig: u32, d: u16) -> &str {
        &self.releases[self.release_on(sig, d)].version
    }

    /// A generator for the choices made while writing day `d` (ping times,
    /// command events, ids), the same for every run of the same seed.
    pub fn day_rng(&self, d: u16) -> ChaCha8Rng {
        stream(self.params.seed, DAY_STREAM + u64::from(d))
    }

    /// Whether `sig` counts as a person (`include_ci`) or is left out.
    fn counted(&self, sig: u32, include_ci: bool) -> bool {
        include_ci || self.profiles[sig as usize].ci.is_none()
    }

    /// Distinct active signatures per day, every day of the plan.
    pub fn active_per_day(&self, include_ci: bool) -> Vec<(Day, u64)> {
        (0..self.params.days as u16)
            .map(|d| {
                let n = self
                    .visits_on(d)
                    .iter()
                    .filter(|v| self.counted(v.sig, include_ci))
                    .count();
                (self.day(d), n as u64)
            })
            .collect()
    }

    /// Distinct active signatures per calendar month the plan touches.
    pub fn active_per_month(&self, include_ci: bool) -> BTreeMap<Month, u64> {
        let mut seen: BTreeMap<Month, HashSet<u32>> = BTreeMap::new();
        for v in &self.visits {
            let set = seen.entry(self.day(v.day).month()).or_default();
            if self.counted(v.sig, include_ci) {
                set.insert(v.sig);
            }
        }
        seen.into_iter().map(|(m, s)| (m, s.len() as u64)).collect()
    }

    /// Distinct active signatures per month and version, each under the
    /// version of its first visit in the month.
    pub fn versions_per_month(&self, include_ci: bool) -> BTreeMap<(Month, String), u64> {
        let mut seen: HashSet<(Month, u32)> = HashSet::new();
        let mut out: BTreeMap<(Month, String), u64> = BTreeMap::new();
        for v in &self.visits {
            let month = self.day(v.day).month();
            if self.counted(v.sig, include_ci) && seen.insert((month, v.sig)) {
                *out.entry((month, self.version_on(v.sig, v.day).to_owned()))
                    .or_default() += 1;
            }
        }
        out
    }

    /// Retention: distinct signatures per (first-seen month, active month).
    pub fn cohorts(&self, include_ci: bool) -> BTreeMap<(Month, Month), u64> {
        let mut seen: HashSet<(Month, u32)> = HashSet::new();
        let mut out: BTreeMap<(Month, Month), u64> = BTreeMap::new();
        for v in &self.visits {
            let month = self.day(v.day).month();
            let cohort = self.day(self.profiles[v.sig as usize].first).month();
            if self.counted(v.sig, include_ci) && seen.insert((month, v.sig)) {
                *out.entry((cohort, month)).or_default() += 1;
            }
        }
        out
    }

    /// Whether a check from `sig` on day `d` is answered `outdated`: it
    /// runs an older release than the newest one released by that day.
    pub fn outdated_on(&self, sig: u32, d: u16) -> bool {
        let newest = self
            .releases
            .partition_point(|r| r.day <= i32::from(d))
            .saturating_sub(1);
        self.release_on(sig, d) < newest
    }

    /// Upgrades after a notice per month of the notice: the signatures
    /// first told `outdated` that month, and how many of them were seen on
    /// a newer release on a later day of the plan.
    pub fn upgrades_per_month(&self, include_ci: bool) -> BTreeMap<Month, (u64, u64)> {
        let mut notices: HashMap<u32, (u16, usize, bool)> = HashMap::new();
        for v in &self.visits {
            match notices.get_mut(&v.sig) {
                None if self.outdated_on(v.sig, v.day) => {
                    notices.insert(v.sig, (v.day, self.release_on(v.sig, v.day), false));
                }
                Some((_, told, upgraded @ false)) if self.release_on(v.sig, v.day) > *told => *upgraded = true,
                _ => {}
            }
        }
        let mut out: BTreeMap<Month, (u64, u64)> = BTreeMap::new();
        for (sig, (day, _, upgraded)) in notices {
            if self.counted(sig, include_ci) {
                let e = out.entry(self.day(day).month()).or_default();
                e.0 += 1;
                e.1 += u64::from(upgraded);
            }
        }
        out
    }

    /// Pings in all (equals [`Params::pings`]).
    pub fn ping_total(&self) -> u64 {
        self.visits.iter().map(|v| u64::from(v.pings)).sum()
    }
}

/// Draws one signature's traits.
fn profile(rng: &mut ChaCha8Rng, params: &Params, days: u16, releases: &[Release]) -> Profile {
    let uuid = content::uuid_v4(rng);
    let first = if rng.random_bool(0.25) {
        rng.random_range(0..days.min(7))
    } else {
        ((f64::from(days) * rng.random::<f64>().sqrt()) as u16).min(days - 1)
    };
    let pattern = PATTERNS[pick(rng, &weights(&PATTERNS))].0;
    let ci = rng
        .random_bool(params.ci_share)
        .then(|| pick(rng, &weights(&content::CI_VENDORS)) as u8);
    let os_weights: Vec<u32> = content::OS
        .iter()
        .map(|&(_, people, ci_runs)| if ci.is_some() { ci_runs } else { people })
        .collect();
    let os = pick(rng, &os_weights);
    let arch = pick(rng, &weights(content::ARCH[os])) as u8;
    let runtime = pick(rng, &weights(&content::RUNTIMES)) as u8;
    let pinned_back = if rng.random_bool(0.15) {
        rng.random_range(30..=180)
    } else {
        0
    };
    let installed_day = i32::from(first) - pinned_back;
    let install = releases.partition_point(|r| r.day <= installed_day).saturating_sub(1) as u16;
    let lag = match rng.random_range(0..100) {
        0..15 => None,
        15..40 => Some(rng.random_range(0..=2)),
        40..75 => Some(rng.random_range(3..=14)),
        75..92 => Some(rng.random_range(15..=45)),
        _ => Some(rng.random_range(46..=120)),
    };
    Profile {
        uuid,
        first,
        pattern,
        ci,
        os: os as u8,
        arch,
        runtime,
        install,
        lag,
        project_hash: rng.random(),
    }
}

/// Draws the days `p` is active on, each with its weight for the pings
/// beyond the first.
fn visits_of(rng: &mut ChaCha8Rng, sig: u32, p: &Profile, days: u16, weekend: &[bool], out: &mut Vec<(Visit, u32)>) {
    let weight = p.pattern.weight() * if p.ci.is_some() { 3 } else { 1 };
    let last = match p.pattern {
        Pattern::OneOff => p.first.saturating_add(7).min(days - 1),
        Pattern::Daily if rng.random_bool(0.15) => p.first.saturating_add(rng.random_range(7..=63)).min(days - 1),
        _ => days - 1,
    };
    let (weekday_rate, weekend_rate) = p.pattern.rate();
    let visit = |day| Visit { day, sig, pings: 0 };
    out.push((visit(p.first), weight));
    for d in p.first + 1..=last {
        let rate = if weekend[usize::from(d)] {
            weekend_rate
        } else {
            weekday_rate
        };
        if rng.random_bool(rate) {
            out.push((visit(d), weight));
        }
    }
}

/// Spreads `pings` over the visits: one each, the rest in proportion to
/// their weights (cumulative rounding, so the total is exact).
fn spread(pings: u64, weighted: Vec<(Visit, u32)>) -> Result<Vec<Visit>, PlanError> {
    let needed = weighted.len() as u64;
    if pings < needed {
        return Err(PlanError::TooFewPings { pings, needed });
    }
    let extra = u128::from(pings - needed);
    let total: u128 = weighted.iter().map(|(_, w)| u128::from(*w)).sum();
    let mut cumulative: u128 = 0;
    let mut given: u128 = 0;
    Ok(weighted
        .into_iter()
        .map(|(mut v, w)| {
            cumulative += u128::from(w);
            let upto = cumulative * extra / total.max(1);
            v.pings = 1 + (upto - given) as u32;
            given = upto;
            v
        })
        .collect())
}

/// Server instances (each alive from a first to a last day, sending a
/// heartbeat on 95% of those days) and their heartbeats, by day.
fn servers(params: &Params, days: u16) -> (Vec<Instance>, Vec<(u16, u32)>) {
    let mut rng = stream(params.seed, INSTANCES_STREAM);
    let mut instances = Vec::with_capacity(params.instances as usize);
    let mut beats = Vec::new();
    for i in 0..params.instances {
        let uid = content::uuid_v4(&mut rng);
        let db_uid = content::uuid_v4(&mut rng);
        let tables = (2.0f64.powf(rng.random_range(1.0..9.0))) as u32;
        let shape = ServerShape {
            tables,
            roles: rng.random_range(1..8),
            version: pick(&mut rng, &weights(&content::HASURA_VERSIONS)) as u8,
        };
        let first = rng.random_range(0..days);
        let last = if rng.random_bool(0.3) {
            rng.random_range(first..days)
        } else {
            days - 1
        };
        for d in first..=last {
            if rng.random_bool(0.95) {
                beats.push((d, i));
            }
        }
        instances.push(Instance { uid, db_uid, shape });
    }
    beats.sort_unstable();
    (instances, beats)
}

/// Error reports: each from a random visit, its group drawn with weights
/// 1/rank (a few groups hold most reports, then a long tail).
fn reports(params: &Params, visits: usize) -> Vec<Report> {
    let mut rng = stream(params.seed, REPORTS_STREAM);
    let group_weights: Vec<u32> = (1..=content::ERROR_GROUPS as u32).map(|rank| 10_000 / rank).collect();
    let mut out: Vec<Report> = (0..params.error_reports)
        .map(|_| Report {
            visit: rng.random_range(0..visits as u32),
            group: pick(&mut rng, &group_weights) as u16,
        })
        .collect();
    out.sort_unstable_by_key(|r| r.visit);
    out
}
