//! Read queries, run on read-only connections.

use rusqlite::{params, Connection, Row};

use crate::{AlertRecord, CatalogData, Month, RejectionCount, Release, StoreError, VersionConstraint};

pub(crate) fn catalog_generation(c: &mut Connection) -> Result<u64, StoreError> {
    generation(c)
}

fn generation(c: &Connection) -> Result<u64, StoreError> {
    let g: i64 = c
        .prepare_cached("SELECT value FROM meta WHERE key = 'catalog_generation'")?
        .query_row([], |r| r.get(0))?;
    Ok(g as u64)
}

/// Reads the catalog inside one read transaction, so it is consistent with
/// the generation it reports.
pub(crate) fn load_catalog(c: &mut Connection) -> Result<CatalogData, StoreError> {
    let tx = c.transaction()?;
    let generation = generation(&tx)?;
    let products = tx
        .prepare("SELECT name FROM products ORDER BY name")?
        .query_map([], |r| r.get(0))?
        .collect::<Result<Vec<String>, _>>()?;
    let releases = releases(&tx, None)?;
    let alerts = alerts(&tx, None)?;
    let versions = tx
        .prepare("SELECT product, service, minimum, maximum, excluding FROM version_constraints")?
        .query_map([], |r| {
            Ok((
                VersionConstraint {
                    product: r.get(0)?,
                    service: r.get(1)?,
                    minimum: r.get(2)?,
                    maximum: r.get(3)?,
                    excluding: Vec::new(),
                },
                r.get::<_, String>(4)?,
            ))
        })?
        .map(|row| {
            let (mut v, excluding) = row?;
            v.excluding = serde_json::from_str(&excluding).map_err(|e| StoreError::Corrupt(e.to_string()))?;
            Ok(v)
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    tx.finish()?;
    Ok(CatalogData {
        generation,
        products,
        releases,
        alerts,
        versions,
    })
}

fn release_row(r: &Row<'_>) -> rusqlite::Result<Release> {
    Ok(Release {
        product: r.get(0)?,
        version: r.get(1)?,
        date: r.get(2)?,
        download_url: r.get(3)?,
        changelog_url: r.get(4)?,
        website: r.get(5)?,
        package: r.get(6)?,
        release_tag: r.get(7)?,
        install_command: r.get(8)?,
    })
}

pub(crate) fn releases(c: &Connection, product: Option<&str>) -> Result<Vec<Release>, StoreError> {
    let mut stmt = c.prepare_cached(
        "SELECT product, version, date, download_url, changelog_url, website, package, release_tag, install_command
         FROM releases WHERE ?1 IS NULL OR product = ?1 ORDER BY product, date, version",
    )?;
    let rows = stmt
        .query_map(params![product], release_row)?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

pub(crate) fn alerts(c: &Connection, product: Option<&str>) -> Result<Vec<AlertRecord>, StoreError> {
    let mut stmt = c.prepare_cached(
        "SELECT id, product, level, message, url, affects, date FROM alerts
         WHERE ?1 IS NULL OR product = ?1 ORDER BY id",
    )?;
    let rows = stmt
        .query_map(params![product], |r| {
            Ok(AlertRecord {
                id: r.get(0)?,
                product: r.get(1)?,
                level: r.get(2)?,
                message: r.get(3)?,
                url: r.get(4)?,
                affects: r.get(5)?,
                date: r.get(6)?,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

pub(crate) fn monthly_active(c: &Connection, product: &str, month: Month) -> Result<u64, StoreError> {
    let n: Option<i64> = c
        .prepare_cached("SELECT n FROM monthly_counts WHERE product = ?1 AND month = ?2")?
        .query_map(params![product, month.to_string()], |r| r.get(0))?
        .next()
        .transpose()?;
    Ok(n.unwrap_or(0) as u64)
}

pub(crate) fn rejections(c: &Connection, product: Option<&str>) -> Result<Vec<RejectionCount>, StoreError> {
    let mut stmt = c.prepare_cached(
        "SELECT product, source, field, reason, count FROM rejections
         WHERE ?1 IS NULL OR product = ?1 ORDER BY product, source, field, reason",
    )?;
    let rows = stmt
        .query_map(params![product], |r| {
            Ok(RejectionCount {
                product: r.get(0)?,
                source: r.get(1)?,
                field: r.get(2)?,
                reason: r.get(3)?,
                count: r.get::<_, i64>(4)? as u64,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

pub(crate) fn count(c: &Connection, sql: &str, product: &str) -> Result<u64, StoreError> {
    let n: i64 = c.prepare_cached(sql)?.query_row(params![product], |r| r.get(0))?;
    Ok(n as u64)
}
