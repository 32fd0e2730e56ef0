//! `sonde versions set`: which versions of a service a product supports, as
//! go-checkpoint's `GET /v1/versions/{service}?product=P` answers.

use sonde_collector::admin::VersionsInput;

use crate::output;
use crate::target::{GlobalArgs, Target};

/// Version-constraint verbs.
#[derive(Debug, clap::Subcommand)]
pub(crate) enum VersionsCmd {
    /// Set (replace) the constraint of a product on a service.
    Set {
        /// The product asking.
        #[arg(long)]
        product: String,
        /// The service asked about.
        #[arg(long)]
        service: String,
        /// Oldest supported version.
        #[arg(long)]
        minimum: Option<String>,
        /// Newest supported version.
        #[arg(long)]
        maximum: Option<String>,
        /// A version known not to work (repeatable).
        #[arg(long = "exclude")]
        excluding: Vec<String>,
    },
}

/// Runs a versions verb.
pub(crate) fn run(global: &GlobalArgs, cmd: VersionsCmd) -> anyhow::Result<()> {
    match cmd {
        VersionsCmd::Set {
            product,
            service,
            minimum,
            maximum,
            excluding,
        } => {
            let input = VersionsInput {
                product,
                service,
                minimum,
                maximum,
                excluding,
            };
            input.clone().validate()?;
            let target = Target::open(global, false)?;
            let c = target.set_versions(input)?;
            output::line(format_args!(
                "{} on {}: minimum {:?}, maximum {:?}, excluding {:?}",
                c.product, c.service, c.minimum, c.maximum, c.excluding
            ))
        }
    }
}
