//! The HTTP client: where ClickHouse is ([`Endpoint`]), queries answered as
//! `JSONEachRow`, inserts sent as `JSONEachRow` bodies, and [`lit`], the one
//! way a value enters SQL text.
//!
//! ClickHouse 18.16 has no query parameters, so values that must appear in
//! a query (a product name in a `WHERE`) are quoted with [`lit`], which
//! escapes every character that could end the literal; rows to insert are
//! never SQL at all: they are JSON lines in the request body.

use std::time::Duration;

use serde::de::DeserializeOwned;

use crate::ClickHouseError;

/// Where the store lives: `clickhouse://host:port/database`, or on a
/// cluster `clickhouse://host:port/database?cluster=NAME&shards=h1:p1,h2:p2`
/// (the cluster as named in the servers' `remote_servers`, and the HTTP
/// address of one server of each shard, where the schema is created).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// `http://host:port/`: where queries and inserts go.
    pub base: String,
    /// The database the store's tables are in.
    pub database: String,
    /// The cluster, if the tables are sharded.
    pub cluster: Option<String>,
    /// `http://host:port/` of one server per shard (just `base` without a cluster).
    pub shards: Vec<String>,
}

/// Whether `s` is a plain SQL identifier.
fn identifier(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') && !s.as_bytes()[0].is_ascii_digit()
}

/// `http://host:port/` of `hostport` (port 8123 if none), if it is a plain host.
fn base_of(hostport: &str) -> Option<String> {
    if hostport.is_empty()
        || !hostport
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-.:[]".contains(&b))
    {
        return None;
    }
    Some(if hostport.contains(':') && !hostport.ends_with(']') {
        format!("http://{hostport}/")
    } else {
        format!("http://{hostport}:8123/")
    })
}

impl Endpoint {
    /// Parses `clickhouse://host:port/database` (port 8123 by default,
    /// database `sonde` by default).
    ///
    /// ```
    /// let e = sonde_clickhouse::Endpoint::parse("clickhouse://127.0.0.1:8123/tele").unwrap();
    /// assert_eq!((e.base.as_str(), e.database.as_str()), ("http://127.0.0.1:8123/", "tele"));
    /// assert!(sonde_clickhouse::Endpoint::parse("clickhouse://h/bad-name").is_err());
    /// ```
    pub fn parse(url: &str) -> Result<Self, ClickHouseError> {
        let err = |reason| ClickHouseError::Url {
            url: url.to_owned(),
            reason,
        };
        let rest = url
            .strip_prefix("clickhouse://")
            .ok_or_else(|| err("it must start with clickhouse://"))?;
        let (rest, query) = rest.split_once('?').unwrap_or((rest, ""));
        let (hostport, database) = rest.split_once('/').unwrap_or((rest, ""));
        let database = if database.is_empty() { "sonde" } else { database };
        if hostport.is_empty() {
            return Err(err("it names no host"));
        }
        let base = base_of(hostport)
            .ok_or_else(|| err("the host may hold letters, digits, '-', '.', ':' and brackets only"))?;
        if !identifier(database) {
            return Err(err("the database name may hold letters, digits and '_' only"));
        }
        let mut cluster = None;
        let mut shards = Vec::new();
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            match pair.split_once('=') {
                Some(("cluster", name)) if identifier(name) => cluster = Some(name.to_owned()),
                Some(("cluster", _)) => return Err(err("the cluster name may hold letters, digits and '_' only")),
                Some(("shards", list)) => {
                    for hp in list.split(',') {
                        shards.push(base_of(hp).ok_or_else(|| err("a shard is not host:port"))?);
                    }
                }
                _ => return Err(err("the only parameters are cluster=NAME and shards=host:port,...")),
            }
        }
        if cluster.is_none() && !shards.is_empty() {
            return Err(err("shards= needs cluster="));
        }
        if shards.is_empty() {
            shards.push(base.clone());
        }
        Ok(Endpoint {
            base,
            database: database.to_owned(),
            cluster,
            shards,
        })
    }
}

/// A string as a ClickHouse SQL literal: quoted, with backslash, quote and
/// control characters escaped.
///
/// ```
/// assert_eq!(sonde_clickhouse::lit("it's \\ x"), r"'it\'s \\ x'");
/// ```
pub fn lit(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('\'');
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\0' => out.push_str("\\0"),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

/// A list of string literals for `IN (...)`.
pub(crate) fn lit_list<'a>(values: impl IntoIterator<Item = &'a str>) -> String {
    let items: Vec<String> = values.into_iter().map(lit).collect();
    if items.is_empty() {
        // `IN ()` is a syntax error; no stored value is NULL-like this.
        "(NULL)".to_owned()
    } else {
        format!("({})", items.join(","))
    }
}

/// One ClickHouse server over HTTP.
#[derive(Debug, Clone)]
pub struct Client {
    agent: ureq::Agent,
    endpoint: Endpoint,
    /// `max_bytes_before_external_group_by` for reads, if set: see
    /// [`Client::spill_group_by_past`].
    group_by_spill: Option<String>,
}

impl Client {
    /// A client of `endpoint`; each request gives up after `timeout`.
    pub fn new(endpoint: Endpoint, timeout: Duration) -> Self {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(timeout))
            .build()
            .into();
        Client {
            agent,
            endpoint,
            group_by_spill: None,
        }
    }

    /// Lets every read's `GROUP BY` move to disk once it holds `bytes`
    /// (`max_bytes_before_external_group_by`), so a read that would pass
    /// the server's memory limit per query answers, more slowly, instead
    /// of failing. The store sets half the server's `max_memory_usage`,
    /// as ClickHouse's documentation advises.
    pub fn spill_group_by_past(&mut self, bytes: u64) {
        self.group_by_spill = Some(bytes.to_string());
    }

    /// Where it points.
    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    /// A client of each shard's server (this one's alone without a cluster).
    pub fn shards(&self) -> Vec<Client> {
        self.endpoint
            .shards
            .iter()
            .map(|base| Client {
                agent: self.agent.clone(),
                group_by_spill: self.group_by_spill.clone(),
                endpoint: Endpoint {
                    base: base.clone(),
                    ..self.endpoint.clone()
                },
            })
            .collect()
    }

    /// The name of `table`'s rows on one server: `t_local` on a cluster.
    pub fn local_table(&self, table: &str) -> String {
        match self.endpoint.cluster {
            Some(_) => format!("{}.{table}_local", self.endpoint.database),
            None => format!("{}.{table}", self.endpoint.database),
        }
    }

    /// Sends `body` with the URL parameters `params`; the answer's body.
    fn post(&self, params: &[(&str, &str)], body: &[u8], with_db: bool) -> Result<String, ClickHouseError> {
        let mut resp = self.send(params, body, with_db)?;
        Ok(resp.body_mut().with_config().limit(u64::MAX).read_to_string()?)
    }

    /// Sends `body` with the URL parameters `params`; the answer, once its
    /// status says ClickHouse accepted the request (its body not read).
    fn send(
        &self,
        params: &[(&str, &str)],
        body: &[u8],
        with_db: bool,
    ) -> Result<ureq::http::Response<ureq::Body>, ClickHouseError> {
        let mut req = self.agent.post(&self.endpoint.base);
        if with_db {
            req = req.query("database", &self.endpoint.database);
        }
        for (k, v) in params {
            req = req.query(*k, *v);
        }
        let mut resp = req.send(body)?;
        let status = resp.status().as_u16();
        if status != 200 {
            let text = resp.body_mut().with_config().limit(u64::MAX).read_to_string()?;
            let message = text.lines().next().unwrap_or("").to_owned();
            return Err(ClickHouseError::Server { status, message });
        }
        Ok(resp)
    }

    /// Runs a statement that answers nothing (DDL, `ALTER`).
    pub fn execute(&self, sql: &str) -> Result<(), ClickHouseError> {
        self.post(&[], sql.as_bytes(), true).map(drop)
    }

    /// Runs a statement outside the store's database (`CREATE DATABASE`).
    pub fn execute_global(&self, sql: &str) -> Result<(), ClickHouseError> {
        self.post(&[], sql.as_bytes(), false).map(drop)
    }

    /// Runs a query and decodes each row (columns by name).
    pub fn rows<T: DeserializeOwned>(&self, sql: &str) -> Result<Vec<T>, ClickHouseError> {
        let sql = format!("{sql} FORMAT JSONEachRow");
        let mut params = vec![("output_format_json_quote_64bit_integers", "0")];
        if let Some(bytes) = &self.group_by_spill {
            params.push(("max_bytes_before_external_group_by", bytes));
        }
        let text = self.post(&params, sql.as_bytes(), true)?;
        text.lines()
            .filter(|l| !l.is_empty())
            .map(|l| serde_json::from_str(l).map_err(ClickHouseError::Decode))
            .collect()
    }

    /// Runs a query and hands each line of its `TSV` answer to `f` as it
    /// arrives, without holding the whole answer: for answers of millions
    /// of rows. Stops at the first error `f` returns.
    pub fn each_line(
        &self,
        sql: &str,
        mut f: impl FnMut(&str) -> Result<(), ClickHouseError>,
    ) -> Result<(), ClickHouseError> {
        use std::io::BufRead;
        let sql = format!("{sql} FORMAT TSV");
        let mut resp = self.send(&[], sql.as_bytes(), true)?;
        let mut reader = std::io::BufReader::new(resp.body_mut().with_config().limit(u64::MAX).reader());
        let mut line = String::new();
        loop {
            line.clear();
            if reader.read_line(&mut line).map_err(ClickHouseError::Read)? == 0 {
                return Ok(());
            }
            let text = line.trim_end_matches('\n');
            if !text.is_empty() {
                f(text)?;
            }
        }
    }

    /// Runs a query answering one number.
    pub fn count(&self, sql: &str) -> Result<u64, ClickHouseError> {
        #[derive(serde::Deserialize)]
        struct N {
            n: u64,
        }
        Ok(self.rows::<N>(sql)?.first().map_or(0, |r| r.n))
    }

    /// Inserts `body`, JSON lines of `table`'s columns, in one insert; on a
    /// cluster, answered once every shard has its rows
    /// (`insert_distributed_sync`).
    pub fn insert(&self, table: &str, body: &[u8]) -> Result<(), ClickHouseError> {
        if body.is_empty() {
            return Ok(());
        }
        let query = format!("INSERT INTO {}.{table} FORMAT JSONEachRow", self.endpoint.database);
        if self.endpoint.cluster.is_some() {
            self.post(&[("query", &query), ("insert_distributed_sync", "1")], body, false)
                .map(drop)
        } else {
            self.post(&[("query", &query)], body, false).map(drop)
        }
    }

    /// Inserts into a table of this server alone (never distributed).
    pub fn insert_local(&self, table: &str, body: &[u8]) -> Result<(), ClickHouseError> {
        let query = format!("INSERT INTO {}.{table} FORMAT JSONEachRow", self.endpoint.database);
        self.post(&[("query", &query)], body, false).map(drop)
    }

    /// The server's version, `(major, minor)`.
    pub fn version(&self) -> Result<(u32, u32), ClickHouseError> {
        let text = self.post(&[], b"SELECT version()", false)?;
        let mut parts = text.trim().split('.').map(|p| p.parse::<u32>().unwrap_or(0));
        Ok((parts.next().unwrap_or(0), parts.next().unwrap_or(0)))
    }
}

/// Serialises rows as JSON lines, the body of an insert.
pub(crate) fn json_lines<T: serde::Serialize>(rows: &[T]) -> Vec<u8> {
    let mut out = Vec::new();
    for r in rows {
        // Rows are plain structs of strings and numbers: serialising cannot fail.
        if serde_json::to_writer(&mut out, r).is_ok() {
            out.push(b'\n');
        }
    }
    out
}
