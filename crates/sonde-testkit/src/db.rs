//! The collector's SQLite file, opened as a separate reader would (WAL lets
//! it read beside the running writer): what tests check was really stored.

use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

/// The database file's name in a data directory.
pub const DB_FILE: &str = "sonde.db";

/// Opens `<data_dir>/sonde.db` read-only, waiting up to 10 s for a lock.
pub fn open(data_dir: &Path) -> Connection {
    let path = data_dir.join(DB_FILE);
    let c = Connection::open_with_flags(&path, OpenFlags::SQLITE_OPEN_READ_ONLY)
        .unwrap_or_else(|e| panic!("open {}: {e}", path.display()));
    c.busy_timeout(Duration::from_secs(10)).expect("busy timeout");
    c
}

/// Opens `<data_dir>/sonde.db` for reading and writing (a test that holds a
/// lock to make the collector wait, or edits a row behind its back).
pub fn open_rw(data_dir: &Path) -> Connection {
    let path = data_dir.join(DB_FILE);
    Connection::open(&path).unwrap_or_else(|e| panic!("open {}: {e}", path.display()))
}

/// The one number `sql` selects.
pub fn count(data_dir: &Path, sql: &str) -> i64 {
    open(data_dir)
        .query_row(sql, [], |r| r.get(0))
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// Every byte of the database file and its write-ahead log (`-wal`), for
/// checking that a value is stored nowhere.
pub fn file_bytes(data_dir: &Path) -> Vec<u8> {
    let mut all = Vec::new();
    for name in [DB_FILE.to_owned(), format!("{DB_FILE}-wal")] {
        if let Ok(b) = std::fs::read(data_dir.join(name)) {
            all.extend(b);
        }
    }
    all
}

/// Whether `bytes` hold `needle` anywhere.
pub fn holds(bytes: &[u8], needle: &str) -> bool {
    bytes.windows(needle.len()).any(|w| w == needle.as_bytes())
}

/// Number of stored pings of `product`.
pub fn ping_count(data_dir: &Path, product: &str) -> u64 {
    open(data_dir)
        .query_row("SELECT count(*) FROM pings WHERE product = ?1", [product], |r| {
            r.get::<_, i64>(0)
        })
        .expect("count pings") as u64
}

/// One stored ping's columns that tests check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredPing {
    /// Client version as sent.
    pub version: Option<String>,
    /// Operating system as sent.
    pub os: Option<String>,
    /// Architecture as sent.
    pub arch: Option<String>,
    /// Runtime version (Prisma's `node_version`).
    pub runtime_version: Option<String>,
    /// The client's random signature.
    pub signature: Option<String>,
    /// Client family from the user agent (`prisma`, `go-checkpoint`, ...).
    pub client_family: String,
}

/// Every ping stored for `product`, oldest first.
pub fn pings(data_dir: &Path, product: &str) -> Vec<StoredPing> {
    let conn = open(data_dir);
    let mut stmt = conn
        .prepare(
            "SELECT version, os, arch, runtime_version, signature, client_family \
             FROM pings WHERE product = ?1 ORDER BY id",
        )
        .expect("prepare");
    stmt.query_map([product], |row| {
        Ok(StoredPing {
            version: row.get(0)?,
            os: row.get(1)?,
            arch: row.get(2)?,
            runtime_version: row.get(3)?,
            signature: row.get(4)?,
            client_family: row.get(5)?,
        })
    })
    .expect("query pings")
    .collect::<Result<_, _>>()
    .expect("read pings")
}

/// The bytes of `<data_dir>/sonde.db` and of its write-ahead log, one after
/// the other: what a test searches to show a value never reached the disk.
pub fn raw_bytes(data_dir: &Path) -> Vec<u8> {
    let mut bytes = Vec::new();
    for name in [DB_FILE, "sonde.db-wal"] {
        if let Ok(b) = std::fs::read(data_dir.join(name)) {
            bytes.extend(b);
        }
    }
    bytes
}

/// Whether `needle` occurs in `hay`.
pub fn contains(hay: &[u8], needle: &str) -> bool {
    hay.windows(needle.len()).any(|w| w == needle.as_bytes())
}
