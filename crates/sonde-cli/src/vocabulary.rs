//! `sonde vocabulary add|list`: the words a product's clients send (command
//! paths, flag names, metrics keys, console event types, experimental
//! features, database kinds).
//!
//! Once a product registers words of a kind, the collector stores values of
//! that kind only if they are registered words; a command word, metrics key
//! or event type that is a name (a host, a table) is dropped. `hasura` has
//! its vocabulary built in.

use std::collections::BTreeMap;

use serde::Deserialize;
use sonde_collector::clock::now_ms;
use sonde_protocol::vocabulary::{self, Vocabulary, WordKind};
use sonde_store::Store;

use crate::output::{self, Format, UsageError};
use crate::target::{GlobalArgs, Target};

/// Vocabulary verbs.
#[derive(Debug, clap::Subcommand)]
pub(crate) enum VocabularyCmd {
    /// Register words of one kind.
    Add {
        /// The product (must have a release).
        #[arg(long)]
        product: String,
        /// The kind: commands, flags, metric_keys, event_types, experimental_features or db_kinds.
        #[arg(long)]
        kind: String,
        /// One or more words, e.g. "tool deploy" (commands); flag names after `--` (`-- --force`).
        #[arg(required = true)]
        words: Vec<String>,
    },
    /// List a product's built-in and registered words.
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
    builtin: BTreeMap<String, Vec<String>>,
    registered: BTreeMap<String, Vec<String>>,
}

/// Stored `(kind, word)` pairs as lists by kind.
fn by_kind(words: Vec<(String, String)>) -> BTreeMap<String, Vec<String>> {
    let mut out = BTreeMap::new();
    for (kind, word) in words {
        out.entry(kind).or_insert_with(Vec::new).push(word);
    }
    out
}

/// Runs a vocabulary verb.
pub(crate) fn run(global: &GlobalArgs, cmd: VocabularyCmd) -> anyhow::Result<()> {
    match cmd {
        VocabularyCmd::Add { product, kind, words } => {
            let product = sonde_collector::admin::validate_product(&product)?;
            let k = WordKind::parse(&kind).ok_or_else(|| {
                UsageError(format!(
                    "unknown kind {kind:?}: one of commands, flags, metric_keys, event_types, experimental_features, db_kinds"
                ))
            })?;
            for w in &words {
                Vocabulary::check(k, w).map_err(|e| UsageError(e.to_string()))?;
            }
            let target = Target::open(global, false)?;
            let listing: Listing = match &target {
                Target::Remote(r) => r.call(
                    "POST",
                    "/api/v1/vocabulary",
                    Some(serde_json::json!({"product": product.as_str(), k.as_str(): words})),
                )?,
                Target::Direct(store) => {
                    if store.releases(product.as_str())?.is_empty() {
                        return Err(
                            UsageError(format!("unknown product {product:?}: publish a release for it first")).into(),
                        );
                    }
                    let pairs = words.iter().map(|w| (k.as_str().to_owned(), w.clone())).collect();
                    store.add_words(product.as_str(), pairs, now_ms())?.wait_blocking()?;
                    Listing {
                        product: product.to_string(),
                        builtin: BTreeMap::new(),
                        registered: by_kind(store.words(product.as_str())?),
                    }
                }
            };
            let n: usize = listing.registered.values().map(Vec::len).sum();
            eprintln!("{n} vocabulary word(s) registered for {}.", listing.product);
            Ok(())
        }
        VocabularyCmd::List { product, format } => {
            let product = sonde_collector::admin::validate_product(&product)?;
            let target = Target::open(global, false)?;
            let listing: Listing = match &target {
                Target::Remote(r) => r.call("GET", &format!("/api/v1/vocabulary?product={product}"), None)?,
                Target::Direct(store) => {
                    if store.releases(product.as_str())?.is_empty() {
                        return Err(
                            UsageError(format!("unknown product {product:?}: publish a release for it first")).into(),
                        );
                    }
                    let builtin = vocabulary::builtin(product.as_str());
                    Listing {
                        product: product.to_string(),
                        builtin: WordKind::ALL
                            .iter()
                            .map(|k| (k.as_str().to_owned(), builtin.words(*k)))
                            .collect(),
                        registered: by_kind(store.words(product.as_str())?),
                    }
                }
            };
            match format {
                Format::Json => output::json(&listing),
                Format::Table => {
                    let rows_of = |map: &BTreeMap<String, Vec<String>>, source: &str| -> Vec<Vec<String>> {
                        map.iter()
                            .flat_map(|(k, ws)| ws.iter().map(move |w| (k.clone(), w.clone())))
                            .map(|(k, w)| vec![k, w, source.to_owned()])
                            .collect()
                    };
                    let mut rows = rows_of(&listing.registered, "registered");
                    rows.extend(rows_of(&listing.builtin, "built-in"));
                    output::table(&["KIND", "WORD", "SOURCE"], &rows)
                }
            }
        }
    }
}
