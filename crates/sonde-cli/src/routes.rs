//! `sonde routes add|list`: the route templates of a product's web console.
//!
//! Console events carry a route; the collector stores only the registered
//! template it matches (`/projects/:id/settings`, `/data/schema/SCHEMA_NAME`)
//! and drops a route that matches none, so a real name never reaches storage.
//! `hasura` has its console's templates built in.

use serde::Deserialize;
use sonde_collector::clock::now_ms;
use sonde_protocol::routes::{self, RouteTemplate};
use sonde_store::Store;

use crate::output::{self, Format, UsageError};
use crate::target::{GlobalArgs, Target};

/// Route verbs.
#[derive(Debug, clap::Subcommand)]
pub(crate) enum RoutesCmd {
    /// Register route templates (segments in CAPITALS or starting with ':' are placeholders).
    Add {
        /// The product (must have a release).
        #[arg(long)]
        product: String,
        /// One or more templates, e.g. /projects/:id/settings.
        #[arg(required = true)]
        templates: Vec<String>,
    },
    /// List a product's built-in and registered templates.
    List {
        /// The product.
        #[arg(long)]
        product: String,
        /// Output format.
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
}

#[derive(Debug, Deserialize, serde::Serialize)]
struct Listing {
    product: String,
    #[serde(default)]
    builtin: Vec<String>,
    registered: Vec<String>,
}

/// Runs a routes verb.
pub(crate) fn run(global: &GlobalArgs, cmd: RoutesCmd) -> anyhow::Result<()> {
    match cmd {
        RoutesCmd::Add { product, templates } => {
            let product = sonde_collector::admin::validate_product(&product)?;
            let mut texts = Vec::new();
            for t in &templates {
                let parsed = RouteTemplate::parse(t).map_err(|e| UsageError(format!("route template {t:?}: {e}")))?;
                texts.push(parsed.as_str().to_owned());
            }
            let target = Target::open(global, false)?;
            let listing: Listing = match &target {
                Target::Remote(r) => r.call(
                    "POST",
                    "/api/v1/routes",
                    Some(serde_json::json!({"product": product.as_str(), "templates": texts})),
                )?,
                Target::Direct(store) => {
                    registered(store, product.as_str())?;
                    store.add_routes(product.as_str(), texts, now_ms())?.wait_blocking()?;
                    Listing {
                        product: product.to_string(),
                        builtin: Vec::new(),
                        registered: store.routes(product.as_str())?,
                    }
                }
            };
            eprintln!(
                "{} route template(s) registered for {}.",
                listing.registered.len(),
                listing.product
            );
            Ok(())
        }
        RoutesCmd::List { product, format } => {
            let product = sonde_collector::admin::validate_product(&product)?;
            let target = Target::open(global, false)?;
            let listing: Listing = match &target {
                Target::Remote(r) => r.call("GET", &format!("/api/v1/routes?product={product}"), None)?,
                Target::Direct(store) => {
                    registered(store, product.as_str())?;
                    Listing {
                        product: product.to_string(),
                        builtin: routes::builtin(product.as_str()).iter().map(str::to_owned).collect(),
                        registered: store.routes(product.as_str())?,
                    }
                }
            };
            match format {
                Format::Json => output::json(&listing),
                Format::Table => {
                    let rows: Vec<Vec<String>> = listing
                        .registered
                        .iter()
                        .map(|t| vec![t.clone(), "registered".into()])
                        .chain(listing.builtin.iter().map(|t| vec![t.clone(), "built-in".into()]))
                        .collect();
                    output::table(&["TEMPLATE", "SOURCE"], &rows)
                }
            }
        }
    }
}

fn registered(store: &sonde_store::SqliteStore, product: &str) -> anyhow::Result<()> {
    if store.releases(product)?.is_empty() {
        return Err(UsageError(format!("unknown product {product:?}: publish a release for it first")).into());
    }
    Ok(())
}
