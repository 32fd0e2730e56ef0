//! The collector's clock: the one place it reads the time. Everything the
//! store records with a time (a ping's receipt, a product's registration, the
//! retention cutoff) gets it from here.

/// Milliseconds since the Unix epoch, by the system clock (0 if the clock is
/// before 1970).
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// The current month (UTC).
pub fn this_month() -> sonde_store::Month {
    sonde_store::Month::from_unix_ms(now_ms())
}
