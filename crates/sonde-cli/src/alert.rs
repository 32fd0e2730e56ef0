//! `sonde alert add|list|remove`: notices shown to clients whose version is in
//! a range.

use anyhow::anyhow;
use sonde_collector::admin::AlertInput;

use crate::output::{self, Format};
use crate::target::{GlobalArgs, Target};

/// Alert verbs.
#[derive(Debug, clap::Subcommand)]
pub(crate) enum AlertCmd {
    /// Add an alert to a product that has a release.
    Add {
        /// The product.
        #[arg(long)]
        product: String,
        /// `info`, `warn` or `critical`.
        #[arg(long)]
        level: String,
        /// One line for the user.
        #[arg(long)]
        message: String,
        /// Where to read more.
        #[arg(long)]
        url: Option<String>,
        /// Affected client versions, a semver range (`<2.3.1`, `>=1.0, <1.4`); all if absent.
        #[arg(long)]
        affects: Option<String>,
    },
    /// List alerts.
    List {
        /// Only this product's.
        #[arg(long)]
        product: Option<String>,
        /// Output format.
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// Remove an alert by id.
    Remove {
        /// The alert's id (see `sonde alert list`).
        id: i64,
    },
}

/// Runs an alert verb.
pub(crate) fn run(global: &GlobalArgs, cmd: AlertCmd) -> anyhow::Result<()> {
    match cmd {
        AlertCmd::Add {
            product,
            level,
            message,
            url,
            affects,
        } => {
            let input = AlertInput {
                product,
                level,
                message,
                url,
                affects,
            };
            input.clone().validate(0)?;
            let target = Target::open(global, false)?;
            let a = target.add_alert(input)?;
            output::line(format_args!(
                "added alert {} to {} ({}, affects {})",
                a.id,
                a.product,
                a.level,
                a.affects.as_deref().unwrap_or("every version")
            ))?;
            Ok(())
        }
        AlertCmd::List { product, format } => {
            let target = Target::open(global, false)?;
            let alerts = target.alerts(product.as_deref())?;
            match format {
                Format::Json => output::json(&alerts),
                Format::Table => output::table(
                    &["ID", "PRODUCT", "LEVEL", "AFFECTS", "DATE", "MESSAGE"],
                    &alerts
                        .iter()
                        .map(|a| {
                            vec![
                                a.id.to_string(),
                                a.product.clone(),
                                a.level.clone(),
                                a.affects.clone().unwrap_or_else(|| "*".into()),
                                output::date(a.date),
                                a.message.clone(),
                            ]
                        })
                        .collect::<Vec<_>>(),
                ),
            }
        }
        AlertCmd::Remove { id } => {
            let target = Target::open(global, false)?;
            if target.remove_alert(id)? {
                output::line(format_args!("removed alert {id}"))
            } else {
                Err(anyhow!("no alert with id {id} (see `sonde alert list`)"))
            }
        }
    }
}
