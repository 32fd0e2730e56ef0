//! The generator end to end on a small seeded plan: written into a real
//! SQLite store and into the in-memory reference through the `Store` trait,
//! every answer the analytics read is compared with what the plan says it
//! made (distinct signatures per day and month, CI apart or not, versions,
//! cohorts), and every row count with what was sent.

use std::collections::{BTreeMap, BTreeSet};

use sonde_bench::generate::{generate, Options, Totals, HASURA};
use sonde_bench::plan::{Params, Plan, PlanError};
use sonde_store::{DayRange, Dimension, Interval, MemoryStore, SqliteStore, Store};

/// 2,000 signatures and 20,000 pings over the 90 days ending 2026-11-15
/// (three month boundaries inside the range, partial first and last months).
fn small() -> Params {
    Params {
        signatures: 2_000,
        pings: 20_000,
        end: "2026-11-15".parse().unwrap(),
        instances: 12,
        error_reports: 300,
        ..Params::default()
    }
}

fn write(store: &dyn Store, plan: &Plan) -> Totals {
    let mut days = 0;
    let totals = generate(store, plan, Options { window: 512 }, |p| days = p.days_done).unwrap();
    assert_eq!(days, plan.params.days);
    totals
}

/// Active signatures per day and month, versions per month, cohorts and
/// upgrades after a notice,
/// CI left out or not, equal the plan's.
fn check_periods(store: &dyn Store, plan: &Plan, include_ci: bool) {
    let product = plan.params.product.as_str();
    let range = DayRange::new(plan.start, plan.params.end);
    let per_day: Vec<(String, u64)> = store
        .active(product, range, Interval::Day, include_ci)
        .unwrap()
        .into_iter()
        .map(|c| (c.period, c.count))
        .collect();
    let expected: Vec<(String, u64)> = plan
        .active_per_day(include_ci)
        .into_iter()
        .map(|(d, n)| (d.to_string(), n))
        .collect();
    assert_eq!(per_day, expected, "active per day, include_ci={include_ci}");

    let per_month: BTreeMap<String, u64> = store
        .active(product, range, Interval::Month, include_ci)
        .unwrap()
        .into_iter()
        .map(|c| (c.period, c.count))
        .collect();
    let expected: BTreeMap<String, u64> = plan
        .active_per_month(include_ci)
        .into_iter()
        .map(|(m, n)| (m.to_string(), n))
        .collect();
    assert_eq!(expected.len(), 4, "August to November");
    assert_eq!(per_month, expected, "active per month, include_ci={include_ci}");
    if include_ci {
        for (month, n) in &expected {
            assert_eq!(store.monthly_active(product, month.parse().unwrap()).unwrap(), *n);
        }
    }

    let versions: BTreeMap<(String, String), u64> = store
        .breakdown(product, Dimension::Version, range, Interval::Month, include_ci)
        .unwrap()
        .into_iter()
        .map(|r| ((r.period, r.value), r.count))
        .collect();
    let expected: BTreeMap<(String, String), u64> = plan
        .versions_per_month(include_ci)
        .into_iter()
        .map(|((m, v), n)| ((m.to_string(), v), n))
        .collect();
    assert!(expected.len() > 20, "a long tail of versions: {}", expected.len());
    assert_eq!(versions, expected, "versions per month, include_ci={include_ci}");

    let first = plan.start.month();
    let last = plan.params.end.month();
    let cohorts: BTreeMap<(String, String), u64> = store
        .cohorts(product, first, last, include_ci)
        .unwrap()
        .into_iter()
        .map(|c| ((c.cohort, c.month), c.active))
        .collect();
    let expected: BTreeMap<(String, String), u64> = plan
        .cohorts(include_ci)
        .into_iter()
        .map(|((c, m), n)| ((c.to_string(), m.to_string()), n))
        .collect();
    assert_eq!(cohorts, expected, "cohorts, include_ci={include_ci}");

    let upgrades: BTreeMap<String, (u64, u64)> = store
        .upgrades(product, range, Interval::Month, include_ci)
        .unwrap()
        .into_iter()
        .filter(|p| p.told > 0)
        .map(|p| (p.period.clone(), (p.told, p.upgraded())))
        .collect();
    let expected: BTreeMap<String, (u64, u64)> = plan
        .upgrades_per_month(include_ci)
        .into_iter()
        .map(|(m, n)| (m.to_string(), n))
        .collect();
    let (told, upgraded) = expected.values().fold((0, 0), |(t, u), (a, b)| (t + a, u + b));
    assert!(
        upgraded > 0 && upgraded < told,
        "some told upgrade, not all: {expected:?}"
    );
    assert_eq!(upgrades, expected, "upgrades after a notice, include_ci={include_ci}");
}

/// Every answer of `store` equals the plan's.
fn check_answers(store: &dyn Store, plan: &Plan, totals: &Totals) {
    let product = plan.params.product.as_str();
    let range = DayRange::new(plan.start, plan.params.end);

    assert_eq!(plan.ping_total(), 20_000);
    assert_eq!(totals.pings, 20_000);
    assert_eq!(store.ping_count(product).unwrap(), 20_000);
    // Every signature is active on its first day at least.
    assert_eq!(store.active_in(product, range, true).unwrap(), 2_000);
    let humans = plan.profiles.iter().filter(|p| p.ci.is_none()).count() as u64;
    assert_eq!(store.active_in(product, range, false).unwrap(), humans);
    assert!(humans < 2_000, "some signatures run in CI");

    for include_ci in [false, true] {
        check_periods(store, plan, include_ci);
    }

    // CI vendors: only CI signatures have one.
    let vendors = store
        .breakdown(product, Dimension::CiName, range, Interval::Month, true)
        .unwrap();
    assert!(vendors.iter().any(|r| r.value == "GitHub Actions"));

    // Events, heartbeats, error reports, catalog.
    assert_eq!(store.event_count(product).unwrap(), totals.commands);
    assert!(
        totals.commands > 3_000,
        "about a fifth of the pings: {}",
        totals.commands
    );
    let command_counts: u64 = store
        .event_counts(product, "command", false)
        .unwrap()
        .iter()
        .map(|c| c.count)
        .sum();
    assert_eq!(command_counts, totals.commands);
    assert_eq!(totals.heartbeats, plan.heartbeats.len() as u64);
    assert_eq!(store.event_count(HASURA).unwrap(), totals.heartbeats);
    let instances: BTreeSet<String> = store
        .event_counts(HASURA, "heartbeat", false)
        .unwrap()
        .into_iter()
        .map(|c| c.key)
        .collect();
    assert_eq!(instances.len(), 12);
    assert_eq!(totals.error_reports, 300);
    assert_eq!(store.error_report_count(product).unwrap(), 300);
    let groups = store.error_groups(product).unwrap();
    let planned: BTreeSet<u16> = plan.reports.iter().map(|r| r.group).collect();
    assert_eq!(groups.len(), planned.len());
    assert_eq!(groups.iter().map(|g| g.count).sum::<u64>(), 300);
    assert_eq!(store.releases(product).unwrap().len(), plan.releases.len());
    assert_eq!(store.releases(HASURA).unwrap().len(), 8);
    assert_eq!(totals.releases, plan.releases.len() as u64 + 8);
    let alerts = store.alerts(Some(product)).unwrap();
    assert_eq!(alerts.len(), 1);
    let fixed = &plan.releases[plan.alert_release].version;
    assert_eq!(alerts[0].affects.as_deref(), Some(format!("<{fixed}").as_str()));
}

#[test]
fn sqlite_store_answers_what_the_plan_made() {
    let plan = Plan::new(small()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path()).unwrap();
    let totals = write(&store, &plan);
    check_answers(&store, &plan, &totals);
    store.close().unwrap();
    // The roll-ups are on disk: a reopened store gives the same answers.
    let reopened = SqliteStore::open(dir.path()).unwrap();
    check_answers(&reopened, &plan, &totals);
    reopened.close().unwrap();
}

#[test]
fn memory_store_answers_the_same() {
    let plan = Plan::new(small()).unwrap();
    let store = MemoryStore::new();
    let totals = write(&store, &plan);
    check_answers(&store, &plan, &totals);
}

#[test]
fn the_same_seed_makes_the_same_plan() {
    let a = Plan::new(small()).unwrap();
    assert_eq!(a, Plan::new(small()).unwrap());
    let other = Plan::new(Params { seed: 2, ..small() }).unwrap();
    assert_ne!(a.profiles, other.profiles);
    // A signature's traits do not depend on how many signatures follow it.
    let fewer = Plan::new(Params {
        signatures: 500,
        pings: 5_000,
        ..small()
    })
    .unwrap();
    assert_eq!(&a.profiles[..500], &fewer.profiles[..]);
}

#[test]
fn too_few_pings_for_the_visits_is_refused() {
    let err = Plan::new(Params {
        pings: 2_000,
        ..small()
    })
    .unwrap_err();
    assert!(matches!(err, PlanError::TooFewPings { pings: 2_000, needed } if needed > 2_000));
    let err = Plan::new(Params {
        ci_share: 1.5,
        ..small()
    })
    .unwrap_err();
    assert!(matches!(err, PlanError::Share { name: "ci_share", .. }));
}
