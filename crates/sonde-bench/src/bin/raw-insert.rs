//! `raw-insert`: the physical limit of durable ingestion, the rows a
//! collector stored inserted again with nothing in between
//! ([`sonde_bench::raw`]). Prints one `RAW_RESULT key=value …` line.
//!
//! ```text
//! raw-insert sqlite --from DATA/sonde.db --to DATA/raw.db --batch 3200
//! raw-insert clickhouse --http http://127.0.0.1:8123 --source sonde.events --target raw.events --batch 3200
//! ```

use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// Inserts a collector's stored rows again, straight into the database.
#[derive(Debug, Parser)]
#[command(name = "raw-insert")]
struct Args {
    #[command(subcommand)]
    target: Target,
}

#[derive(Debug, Subcommand)]
enum Target {
    /// A collector's SQLite `events` rows into a new file of the same shape.
    Sqlite {
        /// The collector's database file.
        #[arg(long)]
        from: PathBuf,
        /// The new file (put it on the same filesystem).
        #[arg(long)]
        to: PathBuf,
        /// Rows per transaction.
        #[arg(long)]
        batch: usize,
    },
    /// A ClickHouse table's rows, as JSONEachRow, into a new table of the same shape.
    Clickhouse {
        /// The server's HTTP interface, `http://host:port`.
        #[arg(long)]
        http: String,
        /// The table to copy, `database.table`.
        #[arg(long)]
        source: String,
        /// The table to create and fill, `database.table`.
        #[arg(long)]
        target: String,
        /// Rows per insert.
        #[arg(long)]
        batch: usize,
    },
}

fn main() -> anyhow::Result<()> {
    let result = match Args::parse().target {
        Target::Sqlite { from, to, batch } => sonde_bench::raw::sqlite(&from, &to, batch)?,
        Target::Clickhouse {
            http,
            source,
            target,
            batch,
        } => sonde_bench::raw::clickhouse(&http, &source, &target, batch)?,
    };
    println!("{}", result.line());
    Ok(())
}
