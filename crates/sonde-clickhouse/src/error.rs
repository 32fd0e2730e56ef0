//! [`ClickHouseError`]: one variant per way talking to ClickHouse or the
//! spill can fail. The store wraps it in [`sonde_store::StoreError`].

/// Everything that can go wrong below the store.
#[derive(Debug, thiserror::Error)]
pub enum ClickHouseError {
    /// The store URL is not `clickhouse://host:port/database`.
    #[error("invalid ClickHouse URL {url:?}: {reason}")]
    Url {
        /// The URL as given.
        url: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The HTTP request failed before an answer (connection refused, timeout).
    #[error("cannot reach ClickHouse")]
    Http(#[source] Box<ureq::Error>),
    /// ClickHouse answered with an error.
    #[error("ClickHouse answered {status}: {message}")]
    Server {
        /// The HTTP status.
        status: u16,
        /// ClickHouse's message (the first line of it).
        message: String,
    },
    /// A row ClickHouse sent does not decode.
    #[error("cannot decode ClickHouse's answer")]
    Decode(#[source] serde_json::Error),
    /// A day ClickHouse sent is not `YYYY-MM-DD`.
    #[error("ClickHouse sent a day that does not parse")]
    Day(#[source] sonde_store::DayParseError),
    /// A line of a streamed answer is not what the query asks for.
    #[error("unexpected line in ClickHouse's answer: {line:?}")]
    Line {
        /// The line, as sent.
        line: String,
    },
    /// A streamed answer broke off.
    #[error("cannot read ClickHouse's answer")]
    Read(#[source] std::io::Error),
    /// The on-disk spill failed.
    #[error("the spill file failed")]
    Spill(#[source] rusqlite::Error),
}

impl From<ureq::Error> for ClickHouseError {
    fn from(e: ureq::Error) -> Self {
        ClickHouseError::Http(Box::new(e))
    }
}

impl From<rusqlite::Error> for ClickHouseError {
    fn from(e: rusqlite::Error) -> Self {
        ClickHouseError::Spill(e)
    }
}
