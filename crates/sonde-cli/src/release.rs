//! `sonde release publish|list`: the releases version checks answer from.

use sonde_collector::admin::{DateInput, ReleaseInput};

use crate::output::{self, Format};
use crate::target::{GlobalArgs, Target};

/// Release verbs.
#[derive(Debug, clap::Subcommand)]
pub(crate) enum ReleaseCmd {
    /// Publish a release (the first one registers the product; publishing a
    /// version again replaces its fields).
    Publish(PublishArgs),
    /// List a product's releases.
    List {
        /// The product.
        #[arg(long)]
        product: String,
        /// Output format.
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
}

/// Arguments of `release publish`.
#[derive(Debug, clap::Args)]
pub(crate) struct PublishArgs {
    /// The product (`[a-z0-9._-]`).
    #[arg(long)]
    product: String,
    /// A semantic version (`1.4.0`, `2.0.0-rc.1`).
    #[arg(long)]
    version: String,
    /// Release date: Unix seconds, RFC 3339 or YYYY-MM-DD (default: now).
    #[arg(long)]
    date: Option<String>,
    /// Download URL.
    #[arg(long)]
    download_url: Option<String>,
    /// Changelog URL.
    #[arg(long)]
    changelog_url: Option<String>,
    /// Project website.
    #[arg(long)]
    website: Option<String>,
    /// Package name for update commands (`npm i {package}@{release_tag}`).
    #[arg(long)]
    package: Option<String>,
    /// Release tag for update commands (`latest`).
    #[arg(long)]
    release_tag: Option<String>,
    /// A full install command.
    #[arg(long)]
    install_command: Option<String>,
}

/// Runs a release verb.
pub(crate) fn run(global: &GlobalArgs, cmd: ReleaseCmd) -> anyhow::Result<()> {
    match cmd {
        ReleaseCmd::Publish(a) => {
            let input = ReleaseInput {
                product: a.product,
                version: a.version,
                date: a.date.map(DateInput::Text),
                download_url: a.download_url,
                changelog_url: a.changelog_url,
                website: a.website,
                package: a.package,
                release_tag: a.release_tag,
                install_command: a.install_command,
            };
            // Validate before touching anything, so a typo creates no data directory.
            input.clone().validate(0)?;
            let target = Target::open(global, true)?;
            let r = target.publish_release(input)?;
            output::line(format_args!(
                "published {} {} (released {})",
                r.product,
                r.version,
                output::date(r.date)
            ))
        }
        ReleaseCmd::List { product, format } => {
            let target = Target::open(global, false)?;
            let releases = target.releases(&product)?;
            match format {
                Format::Json => output::json(&releases),
                Format::Table => output::table(
                    &["VERSION", "DATE", "DOWNLOAD_URL", "PACKAGE", "TAG"],
                    &releases
                        .iter()
                        .map(|r| {
                            vec![
                                r.version.clone(),
                                output::date(r.date),
                                r.download_url.clone().unwrap_or_default(),
                                r.package.clone().unwrap_or_default(),
                                r.release_tag.clone().unwrap_or_default(),
                            ]
                        })
                        .collect::<Vec<_>>(),
                ),
            }
        }
    }
}
