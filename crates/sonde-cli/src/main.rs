//! The `sonde` binary: runs the collector (`serve`) and manages it (`release`,
//! `alert`, `stats`, `versions`, `routes`, `errors`), against a data directory directly or a
//! running collector's admin API (`--server URL --token-file F`).
//!
//! Errors are printed as one or two lines; usage errors exit 2, everything
//! else that fails exits 1.

mod alert;
mod errors;
mod output;
mod ping;
mod release;
mod routes;
mod serve;
mod stats;
mod target;
mod versions;
mod vocabulary;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

// mimalloc: check data is allocated on the async workers and freed on the
// store's writer thread; measured 46 against 53 µs of server CPU per check.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Privacy-first telemetry for developer tools.
#[derive(Debug, Parser)]
#[command(name = "sonde", version, about)]
struct Cli {
    #[command(flatten)]
    global: target::GlobalArgs,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the collector.
    Serve(serve::ServeArgs),
    /// Publish and list releases (what version checks answer).
    #[command(subcommand)]
    Release(release::ReleaseCmd),
    /// Add, list and remove alerts shown to clients in a version range.
    #[command(subcommand)]
    Alert(alert::AlertCmd),
    /// Print statistics.
    #[command(subcommand)]
    Stats(stats::StatsCmd),
    /// Set which versions of a service a product supports (`/v1/versions`).
    #[command(subcommand)]
    Versions(versions::VersionsCmd),
    /// Register and list the route templates of a product's web console.
    #[command(subcommand)]
    Routes(routes::RoutesCmd),
    /// List error groups and show one with its latest report.
    #[command(subcommand)]
    Errors(errors::ErrorsCmd),
    /// Register and list the words a product's clients send (commands, flags, metrics keys, event types).
    #[command(subcommand)]
    Vocabulary(vocabulary::VocabularyCmd),
    /// Send the usage ping for a tool in another language (detached, throttled, every opt-out).
    Ping(ping::PingArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve(args) => serve::run(&cli.global, args),
        Command::Release(cmd) => release::run(&cli.global, cmd),
        Command::Alert(cmd) => alert::run(&cli.global, cmd),
        Command::Stats(cmd) => stats::run(&cli.global, cmd),
        Command::Versions(cmd) => versions::run(&cli.global, cmd),
        Command::Routes(cmd) => routes::run(&cli.global, cmd),
        Command::Errors(cmd) => errors::run(&cli.global, cmd),
        Command::Vocabulary(cmd) => vocabulary::run(&cli.global, cmd),
        Command::Ping(args) => ping::run(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => output::report(&e),
    }
}
