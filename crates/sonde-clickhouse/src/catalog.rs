//! The catalog in ClickHouse: products, releases, alerts, version
//! constraints, route templates and vocabulary words, so that every
//! collector in front of one ClickHouse serves the same catalog.
//!
//! Rows are never updated: a change is a new row with a higher `seq`, and
//! reads take each key's latest row (`argMax(…, seq)`), so a read is right
//! whether or not ClickHouse has merged the parts yet. Every change to
//! products, releases, alerts or constraints also adds one row to
//! `catalog_changes`, last, so the generation (their count) moves only
//! once the change is readable; collectors poll it and reload.

use serde::{Deserialize, Serialize};
use sonde_store::{AlertRecord, CatalogData, NewAlert, NewRelease, Release, StoreError, VersionConstraint};

use crate::client::{json_lines, lit, lit_list, Client};
use crate::{seq, ClickHouseError};

fn db(c: &Client) -> &str {
    &c.endpoint().database
}

fn product_filter(product: Option<&str>) -> String {
    product.map_or_else(|| "1".to_owned(), |p| format!("product = {}", lit(p)))
}

/// Records one catalog change.
fn changed(c: &Client) -> Result<(), ClickHouseError> {
    let row = serde_json::json!({"id": seq::random_id(), "at_ms": seq::now_ms()});
    c.insert("catalog_changes", &json_lines(&[row]))
}

/// Whether `product` is registered.
fn registered(c: &Client, product: &str) -> Result<bool, ClickHouseError> {
    let n = c.count(&format!(
        "SELECT count() AS n FROM {}.products WHERE name = {}",
        db(c),
        lit(product)
    ))?;
    Ok(n > 0)
}

#[derive(Serialize, Deserialize)]
struct ReleaseRow {
    product: String,
    version: String,
    #[serde(alias = "a_date")]
    date: i64,
    #[serde(alias = "a_download_url")]
    download_url: Option<String>,
    #[serde(alias = "a_changelog_url")]
    changelog_url: Option<String>,
    #[serde(alias = "a_website")]
    website: Option<String>,
    #[serde(alias = "a_package")]
    package: Option<String>,
    #[serde(alias = "a_release_tag")]
    release_tag: Option<String>,
    #[serde(alias = "a_install_command")]
    install_command: Option<String>,
    #[serde(default)]
    seq: u64,
}

/// Publishes a release, registering its product as created at `now_ms`.
pub(crate) fn publish_release(c: &Client, r: NewRelease, now_ms: i64) -> Result<Release, StoreError> {
    let run = || -> Result<(), ClickHouseError> {
        let product = serde_json::json!({"name": r.product, "created_ms": now_ms});
        c.insert("products", &json_lines(&[product]))?;
        let row = ReleaseRow {
            product: r.product.clone(),
            version: r.version.clone(),
            date: r.date,
            download_url: r.download_url.clone(),
            changelog_url: r.changelog_url.clone(),
            website: r.website.clone(),
            package: r.package.clone(),
            release_tag: r.release_tag.clone(),
            install_command: r.install_command.clone(),
            seq: seq::next(),
        };
        c.insert("releases", &json_lines(&[row]))?;
        changed(c)
    };
    run().map_err(StoreError::write)?;
    Ok(r)
}

#[derive(Serialize, Deserialize)]
struct AlertRow {
    id: i64,
    #[serde(alias = "a_product")]
    product: String,
    #[serde(alias = "a_level")]
    level: String,
    #[serde(alias = "a_message")]
    message: String,
    #[serde(alias = "a_url")]
    url: Option<String>,
    #[serde(alias = "a_affects")]
    affects: Option<String>,
    #[serde(alias = "a_date")]
    date: i64,
    #[serde(alias = "a_removed")]
    removed: u8,
    #[serde(default)]
    seq: u64,
}

impl AlertRow {
    fn record(self) -> AlertRecord {
        AlertRecord {
            id: self.id,
            product: self.product,
            level: self.level,
            message: self.message,
            url: self.url,
            affects: self.affects,
            date: self.date,
        }
    }
}

/// Adds an alert under a new id: above every id stored, and made of the
/// current time in microseconds and ten random bits, so two collectors
/// adding alerts at once do not pick the same one.
pub(crate) fn add_alert(c: &Client, alert: NewAlert) -> Result<AlertRecord, StoreError> {
    if !registered(c, &alert.product).map_err(StoreError::write)? {
        return Err(StoreError::UnknownProduct(alert.product));
    }
    let run = || -> Result<AlertRecord, ClickHouseError> {
        let max = c.count(&format!("SELECT toUInt64(max(id)) AS n FROM {}.alerts", db(c)))?;
        let now_us = seq::now_ms().saturating_mul(1000);
        let id = (now_us.saturating_mul(1024) | seq::random_low()).max(i64::try_from(max).unwrap_or(0) + 1);
        let record = AlertRecord::new(id, alert);
        let row = AlertRow {
            id,
            product: record.product.clone(),
            level: record.level.clone(),
            message: record.message.clone(),
            url: record.url.clone(),
            affects: record.affects.clone(),
            date: record.date,
            removed: 0,
            seq: seq::next(),
        };
        c.insert("alerts", &json_lines(&[row]))?;
        changed(c)?;
        Ok(record)
    };
    run().map_err(StoreError::write)
}

/// The latest row of each alert (of one product, or all; one id, or all).
fn alert_rows(c: &Client, product: Option<&str>, id: Option<i64>) -> Result<Vec<AlertRow>, ClickHouseError> {
    let id_filter = id.map_or_else(|| "1".to_owned(), |id| format!("id = {id}"));
    c.rows(&format!(
        "SELECT id, argMax(product, seq) AS a_product, argMax(level, seq) AS a_level,
                argMax(message, seq) AS a_message, argMax(url, seq) AS a_url,
                argMax(affects, seq) AS a_affects, argMax(date, seq) AS a_date,
                argMax(removed, seq) AS a_removed
         FROM {}.alerts WHERE {} AND {id_filter} GROUP BY id HAVING a_removed = 0 ORDER BY id",
        db(c),
        product_filter(product)
    ))
}

/// Removes an alert; whether there was one.
pub(crate) fn remove_alert(c: &Client, id: i64) -> Result<bool, StoreError> {
    let run = || -> Result<bool, ClickHouseError> {
        let Some(mut row) = alert_rows(c, None, Some(id))?.pop() else {
            return Ok(false);
        };
        row.removed = 1;
        row.seq = seq::next();
        c.insert("alerts", &json_lines(&[row]))?;
        changed(c)?;
        Ok(true)
    };
    run().map_err(StoreError::write)
}

#[derive(Serialize, Deserialize)]
struct VersionsRow {
    product: String,
    service: String,
    #[serde(alias = "a_minimum")]
    minimum: String,
    #[serde(alias = "a_maximum")]
    maximum: String,
    #[serde(alias = "a_excluding")]
    excluding: Vec<String>,
    #[serde(default)]
    seq: u64,
}

/// Sets a version constraint of a registered product.
pub(crate) fn set_versions(c: &Client, v: VersionConstraint) -> Result<(), StoreError> {
    if !registered(c, &v.product).map_err(StoreError::write)? {
        return Err(StoreError::UnknownProduct(v.product));
    }
    let row = VersionsRow {
        product: v.product,
        service: v.service,
        minimum: v.minimum,
        maximum: v.maximum,
        excluding: v.excluding,
        seq: seq::next(),
    };
    c.insert("versions", &json_lines(&[row]))
        .and_then(|()| changed(c))
        .map_err(StoreError::write)
}

/// Adds the `keys` of `product` not yet in `table` (keyed by `columns`);
/// how many were new.
fn add_keys(
    c: &Client,
    table: &str,
    product: &str,
    keys: Vec<Vec<String>>,
    columns: &[&str],
    now_ms: i64,
) -> Result<usize, StoreError> {
    let run = || -> Result<usize, ClickHouseError> {
        let wanted: Vec<String> = keys.iter().map(|k| k.join("\u{1f}")).collect();
        #[derive(Deserialize)]
        struct Key {
            k: String,
        }
        let concat = if columns.len() == 1 {
            columns[0].to_owned()
        } else {
            format!("concat({})", columns.join(", '\u{1f}', "))
        };
        let known: std::collections::HashSet<String> = c
            .rows::<Key>(&format!(
                "SELECT DISTINCT {concat} AS k FROM {}.{table} WHERE product = {} AND k IN {}",
                db(c),
                lit(product),
                lit_list(wanted.iter().map(String::as_str))
            ))?
            .into_iter()
            .map(|k| k.k)
            .collect();
        let mut seen = std::collections::HashSet::new();
        let mut rows = Vec::new();
        for (key, joined) in keys.iter().zip(&wanted) {
            if known.contains(joined) || !seen.insert(joined) {
                continue;
            }
            let mut row = serde_json::Map::new();
            row.insert("product".into(), product.into());
            for (col, value) in columns.iter().zip(key) {
                row.insert((*col).into(), value.clone().into());
            }
            row.insert("at_ms".into(), now_ms.into());
            rows.push(serde_json::Value::Object(row));
        }
        c.insert(table, &json_lines(&rows))?;
        Ok(rows.len())
    };
    run().map_err(StoreError::write)
}

/// Registers route templates; how many were new.
pub(crate) fn add_routes(c: &Client, product: &str, templates: Vec<String>, now_ms: i64) -> Result<usize, StoreError> {
    let keys = templates.into_iter().map(|t| vec![t]).collect();
    add_keys(c, "routes", product, keys, &["template"], now_ms)
}

/// Registers vocabulary words; how many were new.
pub(crate) fn add_words(
    c: &Client,
    product: &str,
    words: Vec<(String, String)>,
    now_ms: i64,
) -> Result<usize, StoreError> {
    let keys = words.into_iter().map(|(k, w)| vec![k, w]).collect();
    add_keys(c, "words", product, keys, &["kind", "word"], now_ms)
}

/// The catalog generation.
pub(crate) fn generation(c: &Client) -> Result<u64, ClickHouseError> {
    c.count(&format!("SELECT count() AS n FROM {}.catalog_changes", db(c)))
}

/// Releases (of one product, or all), by product, date, version.
pub(crate) fn releases(c: &Client, product: Option<&str>) -> Result<Vec<Release>, ClickHouseError> {
    let rows: Vec<ReleaseRow> = c.rows(&format!(
        "SELECT product, version, argMax(date, seq) AS a_date, argMax(download_url, seq) AS a_download_url,
                argMax(changelog_url, seq) AS a_changelog_url, argMax(website, seq) AS a_website,
                argMax(package, seq) AS a_package, argMax(release_tag, seq) AS a_release_tag,
                argMax(install_command, seq) AS a_install_command
         FROM {}.releases WHERE {} GROUP BY product, version ORDER BY product, a_date, version",
        db(c),
        product_filter(product)
    ))?;
    Ok(rows
        .into_iter()
        .map(|r| Release {
            product: r.product,
            version: r.version,
            date: r.date,
            download_url: r.download_url,
            changelog_url: r.changelog_url,
            website: r.website,
            package: r.package,
            release_tag: r.release_tag,
            install_command: r.install_command,
        })
        .collect())
}

/// Alerts (of one product, or all), by id.
pub(crate) fn alerts(c: &Client, product: Option<&str>) -> Result<Vec<AlertRecord>, ClickHouseError> {
    Ok(alert_rows(c, product, None)?
        .into_iter()
        .map(AlertRow::record)
        .collect())
}

/// The whole catalog, read after its generation.
pub(crate) fn load(c: &Client) -> Result<CatalogData, ClickHouseError> {
    #[derive(Deserialize)]
    struct Name {
        name: String,
    }
    let generation = generation(c)?;
    let products = c
        .rows::<Name>(&format!(
            "SELECT name FROM {}.products GROUP BY name ORDER BY name",
            db(c)
        ))?
        .into_iter()
        .map(|n| n.name)
        .collect();
    let versions: Vec<VersionsRow> = c.rows(&format!(
        "SELECT product, service, argMax(minimum, seq) AS a_minimum, argMax(maximum, seq) AS a_maximum,
                argMax(excluding, seq) AS a_excluding
         FROM {}.versions GROUP BY product, service ORDER BY product, service",
        db(c)
    ))?;
    Ok(CatalogData {
        generation,
        products,
        releases: releases(c, None)?,
        alerts: alerts(c, None)?,
        versions: versions
            .into_iter()
            .map(|v| VersionConstraint {
                product: v.product,
                service: v.service,
                minimum: v.minimum,
                maximum: v.maximum,
                excluding: v.excluding,
            })
            .collect(),
    })
}

/// The registered keys of `product` in `table` (`routes` or `words`), sorted.
pub(crate) fn keys(
    c: &Client,
    table: &str,
    product: &str,
    columns: &[&str],
) -> Result<Vec<Vec<String>>, ClickHouseError> {
    let cols = columns.join(", ");
    let rows: Vec<serde_json::Map<String, serde_json::Value>> = c.rows(&format!(
        "SELECT {cols} FROM {}.{table} WHERE product = {} GROUP BY {cols} ORDER BY {cols}",
        db(c),
        lit(product)
    ))?;
    Ok(rows
        .into_iter()
        .map(|r| {
            columns
                .iter()
                .map(|col| r.get(*col).and_then(|v| v.as_str()).unwrap_or("").to_owned())
                .collect()
        })
        .collect())
}
