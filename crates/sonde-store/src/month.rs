//! Calendar months (UTC), the period of monthly active signatures.

use std::fmt;
use std::str::FromStr;

/// A calendar month in UTC, written `YYYY-MM`.
///
/// ```
/// use sonde_store::Month;
/// let m: Month = "2026-11".parse().unwrap();
/// assert_eq!(m.to_string(), "2026-11");
/// assert_eq!(Month::from_unix_ms(0).to_string(), "1970-01");
/// assert!("2026-13".parse::<Month>().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Month {
    year: i32,
    month: u8,
}

/// A month that is not `YYYY-MM`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid month {0:?}: expected YYYY-MM, e.g. 2026-11")]
pub struct MonthParseError(pub String);

impl Month {
    /// The month holding the instant `ms` (Unix milliseconds, UTC).
    pub fn from_unix_ms(ms: i64) -> Self {
        let (year, month, _) = sonde_protocol::timefmt::civil_date(ms.div_euclid(1000));
        Month {
            year: i32::try_from(year).unwrap_or(if year < 0 { i32::MIN } else { i32::MAX }),
            month: u8::try_from(month).unwrap_or(1),
        }
    }

    /// The year.
    pub fn year(self) -> i32 {
        self.year
    }

    /// The month, 1 to 12.
    pub fn month(self) -> u8 {
        self.month
    }
}

impl fmt::Display for Month {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

impl FromStr for Month {
    type Err = MonthParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || MonthParseError(s.to_owned());
        let (y, m) = s.split_once('-').ok_or_else(err)?;
        if y.len() != 4 || m.len() != 2 || !y.bytes().chain(m.bytes()).all(|b| b.is_ascii_digit()) {
            return Err(err());
        }
        let year: i32 = y.parse().map_err(|_| err())?;
        let month: u8 = m.parse().map_err(|_| err())?;
        if !(1..=12).contains(&month) {
            return Err(err());
        }
        Ok(Month { year, month })
    }
}
