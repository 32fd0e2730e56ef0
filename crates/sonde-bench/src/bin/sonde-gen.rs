//! `sonde-gen --data-dir DIR [--store URL] [options]`: writes a realistic,
//! seeded data set into a fresh store through the store's own writer (so
//! the analytics roll-ups are maintained as at ingest), then prints the
//! totals and the rate. `--store` takes what `sonde serve --store` takes:
//! `sqlite` (the default, `sonde.db` in the data directory) or
//! `clickhouse://host:8123/database` (the data directory then holds only
//! the spill). See `bench/README.md`.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context};
use clap::Parser;
use sonde_bench::generate::{generate, Options};
use sonde_bench::plan::{Params, Plan};
use sonde_collector::StoreChoice;
use sonde_store::{Day, Durability, SqliteStore, Store, StoreOptions};

/// Generates an analytics data set into a new data directory.
#[derive(Debug, Parser)]
#[command(name = "sonde-gen")]
struct Args {
    /// The data directory to create (must not hold a store yet).
    #[arg(long)]
    data_dir: PathBuf,
    /// Where to store, as `sonde serve --store` takes it: `sqlite` or
    /// `clickhouse://host:8123/database` (a database without sonde's tables
    /// yet: the data set is added to whatever it holds).
    #[arg(long, default_value = "sqlite")]
    store: String,
    /// Seed of every random choice: the same seed gives the same data.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// The product of the pings, command events and error reports.
    #[arg(long, default_value = "acme")]
    product: String,
    /// Distinct signatures.
    #[arg(long, default_value_t = 1_000_000)]
    signatures: u32,
    /// Pings in all.
    #[arg(long, default_value_t = 10_000_000)]
    pings: u64,
    /// Days covered.
    #[arg(long, default_value_t = 90)]
    days: u32,
    /// The last day covered, YYYY-MM-DD.
    #[arg(long, default_value = "2026-11-30")]
    end: Day,
    /// Share of signatures running in CI.
    #[arg(long, default_value_t = 0.05)]
    ci_share: f64,
    /// Share of pings that also send a command event.
    #[arg(long, default_value_t = 0.2)]
    command_share: f64,
    /// Hasura server instances sending daily heartbeats (default:
    /// signatures / 200).
    #[arg(long)]
    instances: Option<u32>,
    /// Error reports (default: signatures / 50).
    #[arg(long)]
    error_reports: Option<u32>,
    /// Writes outstanding at once (default 4096 for SQLite, four of its
    /// writer's largest commits; 40,000 for ClickHouse, two of its writer's
    /// largest inserts).
    #[arg(long)]
    window: Option<usize>,
    /// `machine` (fsync every commit, the collector's default) or `process`.
    #[arg(long, default_value = "machine")]
    durability: String,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let choice = StoreChoice::parse(&args.store)?;
    if args.data_dir.join(sonde_store::sqlite::DB_FILE).exists() {
        bail!(
            "{} already holds a store: generate into a new directory",
            args.data_dir.display()
        );
    }
    let durability = match args.durability.as_str() {
        "machine" => Durability::Machine,
        "process" => Durability::Process,
        other => bail!("--durability must be machine or process, not {other:?}"),
    };
    let params = Params {
        seed: args.seed,
        product: args.product,
        signatures: args.signatures,
        pings: args.pings,
        days: args.days,
        end: args.end,
        ci_share: args.ci_share,
        command_share: args.command_share,
        instances: args.instances.unwrap_or(args.signatures / 200),
        error_reports: args.error_reports.unwrap_or(args.signatures / 50),
    };
    let t = Instant::now();
    let plan = Plan::new(params)?;
    let plan_s = t.elapsed().as_secs_f64();
    eprintln!(
        "plan: {} signatures, {} visits, {} pings, {} releases, {} heartbeats, {} error reports ({plan_s:.1} s)",
        plan.profiles.len(),
        plan.visits.len(),
        plan.ping_total(),
        plan.releases.len(),
        plan.heartbeats.len(),
        plan.reports.len()
    );
    let (store, window) = open(&choice, &args.data_dir, durability)?;
    let window = args.window.unwrap_or(window);
    let totals = generate(store.as_ref(), &plan, Options { window }, |p| {
        if p.days_done % 10 == 0 || p.days_done == p.days {
            eprintln!(
                "day {}/{}: {} pings issued, {:.0} pings/s",
                p.days_done,
                p.days,
                p.pings,
                p.pings as f64 / p.elapsed.as_secs_f64().max(1e-9)
            );
        }
    })?;
    store.close()?;
    let secs = totals.elapsed.as_secs_f64().max(1e-9);
    let size: u64 = std::fs::read_dir(&args.data_dir)?
        .filter_map(|e| e.ok()?.metadata().ok())
        .map(|m| m.len())
        .sum();
    println!("data directory: {}", args.data_dir.display());
    println!("store: {}", args.store);
    println!(
        "written: {} pings, {} command events, {} heartbeats, {} error reports, {} releases, {} alert(s)",
        totals.pings, totals.commands, totals.heartbeats, totals.error_reports, totals.releases, totals.alerts
    );
    println!(
        "population: {} signatures, {} active (signature, day) pairs over {} days ending {}",
        plan.profiles.len(),
        plan.visits.len(),
        plan.params.days,
        plan.params.end
    );
    println!(
        "rate: {:.0} pings/s, {:.0} rows/s ({} rows in {secs:.1} s; plan {plan_s:.1} s)",
        totals.pings as f64 / secs,
        totals.rows() as f64 / secs,
        totals.rows()
    );
    println!("size: {:.1} MiB", size as f64 / (1024.0 * 1024.0));
    Ok(())
}

/// Opens the store `choice` names, and the number of writes to keep
/// outstanding in it unless `--window` says otherwise.
fn open(choice: &StoreChoice, data_dir: &Path, durability: Durability) -> anyhow::Result<(Box<dyn Store>, usize)> {
    Ok(match choice {
        StoreChoice::Sqlite => (
            Box::new(
                SqliteStore::open_with(
                    data_dir,
                    StoreOptions {
                        durability,
                        ..StoreOptions::default()
                    },
                )
                .with_context(|| format!("opening {}", data_dir.display()))?,
            ),
            4096,
        ),
        StoreChoice::ClickHouse(url) => (
            Box::new(
                sonde_clickhouse::ClickHouseStore::open(url, data_dir, sonde_clickhouse::ClickHouseOptions::default())
                    .with_context(|| format!("opening {url}"))?,
            ),
            40_000,
        ),
    })
}
