//! `sonde-load`: a tool's user population against a running collector, and
//! the check that everything it acknowledged is stored exactly once.
//!
//! ```text
//! sonde-load run --target 127.0.0.1:7070 --token-file sonde-data/admin-token \
//!     --duration-secs 30 --concurrency 32 --ledger acked.json
//! sonde-load verify --ledger acked.json --data-dir sonde-data
//! sonde-load verify --ledger acked.json --store clickhouse://127.0.0.1:8123/sonde
//! ```
//!
//! See bench/load/README.md.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use anyhow::Context;
use clap::{Parser, Subcommand};
use sonde_bench::load::{self, Mix, Options};

#[derive(Debug, Parser)]
#[command(
    name = "sonde-load",
    about = "Load generator and acknowledged-item checker for the Sonde collector"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Send the population's traffic and write what was acknowledged.
    Run(RunArgs),
    /// Compare a ledger with what the collector stored: a data directory's
    /// SQLite database, or a ClickHouse database (`--store`).
    Verify {
        /// The ledger `run` wrote.
        #[arg(long)]
        ledger: PathBuf,
        /// The collector's data directory (SQLite).
        #[arg(long, required_unless_present = "store", conflicts_with = "store")]
        data_dir: Option<PathBuf>,
        /// The collector's ClickHouse store, `clickhouse://host:port/database`.
        #[arg(long)]
        store: Option<String>,
    },
}

#[derive(Debug, clap::Args)]
struct RunArgs {
    /// The collector's address.
    #[arg(long, default_value = "127.0.0.1:7070")]
    target: SocketAddr,
    /// The admin token file: publish the releases the population runs first.
    #[arg(long)]
    token_file: Option<PathBuf>,
    /// Product of checks, native events and error reports.
    #[arg(long, default_value = "loadtool")]
    product: String,
    /// Seconds to run.
    #[arg(long, default_value_t = 10)]
    duration_secs: u64,
    /// Requests a second over all workers (0: as fast as answers come).
    #[arg(long, default_value_t = 0.0)]
    rate: f64,
    /// Worker threads, one connection each.
    #[arg(long, default_value_t = 16)]
    concurrency: usize,
    /// Developers in the population.
    #[arg(long, default_value_t = 1000)]
    developers: usize,
    /// Share of Prisma checks that come from CI runs.
    #[arg(long, default_value_t = 0.2)]
    ci_share: f64,
    /// Share of workers that keep their connection alive.
    #[arg(long, default_value_t = 0.5)]
    keep_alive_share: f64,
    /// Weights by kind: check-go, check-prisma, native, hasura-heartbeat,
    /// hasura-cli, console, error-report (e.g. `check-go=1,native=1`).
    #[arg(long)]
    mix: Option<Mix>,
    /// Events per native batch.
    #[arg(long, default_value_t = 50)]
    batch: usize,
    /// Frames per console session.
    #[arg(long, default_value_t = 5)]
    console_frames: usize,
    /// Seconds after which the population has moved one release ahead.
    #[arg(long, default_value_t = 10.0)]
    version_shift_secs: f64,
    /// Seed of every random choice.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Where to write the acknowledged ids (JSON).
    #[arg(long, default_value = "acked.json")]
    ledger: PathBuf,
}

fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Run(args) => run(args),
        Command::Verify {
            ledger,
            data_dir,
            store,
        } => {
            let ledger = load::Ledger::load(&ledger).with_context(|| format!("reading {}", ledger.display()))?;
            let verdict = match (store, data_dir) {
                (Some(url), _) => load::verify_clickhouse(&ledger, &url)?,
                (None, Some(dir)) => load::verify(&ledger, &dir)?,
                (None, None) => unreachable!("clap requires --data-dir or --store"),
            };
            print!("{}", verdict.table());
            if verdict.clean() {
                Ok(())
            } else {
                std::process::exit(1)
            }
        }
    }
}

fn run(args: RunArgs) -> anyhow::Result<()> {
    if let Some(file) = &args.token_file {
        let token = std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
        load::setup(args.target, token.trim(), &args.product).map_err(anyhow::Error::msg)?;
    }
    let mut opts = Options::new(args.target);
    opts.product = args.product;
    opts.duration = Some(Duration::from_secs(args.duration_secs));
    opts.rate = (args.rate > 0.0).then_some(args.rate);
    opts.concurrency = args.concurrency;
    opts.developers = args.developers;
    opts.ci_share = args.ci_share;
    opts.keep_alive_share = args.keep_alive_share;
    if let Some(mix) = args.mix {
        opts.mix = mix;
    }
    opts.batch = args.batch;
    opts.console_frames = args.console_frames;
    opts.version_shift_secs = args.version_shift_secs;
    opts.seed = args.seed;
    let outcome = load::run(&opts, &AtomicBool::new(false));
    print!("{}", outcome.stats.table());
    outcome
        .ledger
        .save(&args.ledger)
        .with_context(|| format!("writing {}", args.ledger.display()))?;
    println!(
        "{} acknowledged items written to {}",
        outcome.ledger.acked(),
        args.ledger.display()
    );
    Ok(())
}
