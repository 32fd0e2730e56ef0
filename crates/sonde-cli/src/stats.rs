//! `sonde stats mau|rejected`: exact monthly active signatures, and what
//! validation dropped.

use sonde_store::Month;

use crate::output::{self, Format, UsageError};
use crate::target::{GlobalArgs, Target};

/// Stats verbs.
#[derive(Debug, clap::Subcommand)]
pub(crate) enum StatsCmd {
    /// Distinct signatures seen in a calendar month (UTC), exact.
    Mau {
        /// The product.
        #[arg(long)]
        product: String,
        /// The month, YYYY-MM (default: this month).
        #[arg(long)]
        month: Option<String>,
        /// Output format.
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// Values dropped by validation, per product, front door, field and reason.
    Rejected {
        /// Only this product's.
        #[arg(long)]
        product: Option<String>,
        /// Output format.
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
}

/// Runs a stats verb.
pub(crate) fn run(global: &GlobalArgs, cmd: StatsCmd) -> anyhow::Result<()> {
    match cmd {
        StatsCmd::Mau { product, month, format } => {
            let month = match month {
                None => sonde_collector::clock::this_month(),
                Some(m) => m.parse::<Month>().map_err(|e| UsageError(e.to_string()))?,
            };
            let target = Target::open(global, false)?;
            let answer = target.mau(&product, month)?;
            match format {
                Format::Json => output::json(&answer),
                Format::Table => output::table(
                    &["PRODUCT", "MONTH", "ACTIVE_SIGNATURES"],
                    &[vec![answer.product, answer.month, answer.active_signatures.to_string()]],
                ),
            }
        }
        StatsCmd::Rejected { product, format } => {
            let target = Target::open(global, false)?;
            let rows = target.rejections(product.as_deref())?;
            match format {
                Format::Json => output::json(&rows),
                Format::Table => output::table(
                    &["PRODUCT", "SOURCE", "FIELD", "REASON", "COUNT"],
                    &rows
                        .iter()
                        .map(|r| {
                            vec![
                                r.product.clone(),
                                r.source.clone(),
                                r.field.clone(),
                                r.reason.clone(),
                                r.count.to_string(),
                            ]
                        })
                        .collect::<Vec<_>>(),
                ),
            }
        }
    }
}
