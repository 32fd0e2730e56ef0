//! UTC calendar days, inclusive day ranges and the intervals analytics
//! answers are grouped by.
//!
//! A day is written `YYYY-MM-DD`, which is also how the roll-up tables key
//! it, so text order is date order. A week is an ISO week (Monday to
//! Sunday), named by its Monday; a month is a calendar month.

use std::fmt;
use std::str::FromStr;

use crate::Month;

const DAY_MS: i64 = 86_400_000;

/// A calendar day in UTC, written `YYYY-MM-DD`.
///
/// ```
/// use sonde_store::Day;
/// let d: Day = "2026-11-30".parse().unwrap();
/// assert_eq!(d.next().to_string(), "2026-12-01");
/// assert_eq!(Day::from_unix_ms(0).to_string(), "1970-01-01");
/// assert!("2026-02-30".parse::<Day>().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Day(i64);

/// A day that is not a valid `YYYY-MM-DD`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid day {0:?}: expected YYYY-MM-DD, e.g. 2026-11-30")]
pub struct DayParseError(pub String);

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
/// algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

impl Day {
    /// The day holding the instant `ms` (Unix milliseconds, UTC).
    pub fn from_unix_ms(ms: i64) -> Self {
        Day(ms.div_euclid(DAY_MS))
    }

    /// The first instant of the day, Unix milliseconds.
    pub fn start_ms(self) -> i64 {
        self.0 * DAY_MS
    }

    /// The day after.
    pub fn next(self) -> Self {
        Day(self.0 + 1)
    }

    /// The day `n` days later (earlier if `n` is negative).
    pub fn add_days(self, n: i64) -> Self {
        Day(self.0.saturating_add(n))
    }

    /// Whole days from `earlier` to this day (negative if `earlier` is later).
    pub fn days_since(self, earlier: Day) -> i64 {
        self.0 - earlier.0
    }

    /// The month holding the day.
    pub fn month(self) -> Month {
        Month::from_unix_ms(self.start_ms())
    }

    /// The Monday of the day's ISO week.
    pub fn week_start(self) -> Self {
        // 1970-01-01 was a Thursday: day 0 is weekday 3 counting from Monday.
        Day(self.0 - (self.0 + 3).rem_euclid(7))
    }

    /// The first day of `month`.
    pub fn first_of(month: Month) -> Self {
        Day(days_from_civil(i64::from(month.year()), i64::from(month.month()), 1))
    }
}

impl fmt::Display for Day {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (y, m, d) = sonde_protocol::timefmt::civil_date(self.0 * 86_400);
        write!(f, "{y:04}-{m:02}-{d:02}")
    }
}

impl FromStr for Day {
    type Err = DayParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || DayParseError(s.to_owned());
        let b = s.as_bytes();
        let digits = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
        if b.len() != 10 || b[4] != b'-' || b[7] != b'-' || !digits(0..4) || !digits(5..7) || !digits(8..10) {
            return Err(err());
        }
        let n = |r: std::ops::Range<usize>| s[r].parse::<i64>().map_err(|_| err());
        let (y, m, d) = (n(0..4)?, n(5..7)?, n(8..10)?);
        let day = Day(days_from_civil(y, m, d));
        // A date that does not exist (2026-02-30) comes back as another one.
        if day.to_string() != s {
            return Err(err());
        }
        Ok(day)
    }
}

/// Days from `from` to `to`, both included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DayRange {
    /// The first day.
    pub from: Day,
    /// The last day (included).
    pub to: Day,
}

impl DayRange {
    /// The range from `from` to `to`, both included.
    pub fn new(from: Day, to: Day) -> Self {
        DayRange { from, to }
    }

    /// The whole of `month`.
    pub fn month(month: Month) -> Self {
        let from = Day::first_of(month);
        let next = Month::from_unix_ms(Day(from.0 + 31).start_ms());
        DayRange {
            from,
            to: Day(Day::first_of(next).0 - 1),
        }
    }

    /// Every day of the range, in order (none if `to` is before `from`).
    pub fn days(self) -> impl Iterator<Item = Day> {
        (self.from.0..=self.to.0).map(Day)
    }

    /// Whether `day` is in the range.
    pub fn contains(self, day: Day) -> bool {
        self.from <= day && day <= self.to
    }
}

/// How answers over a range are grouped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Interval {
    /// Per UTC day, named `YYYY-MM-DD`.
    Day,
    /// Per ISO week (Monday to Sunday), named by its Monday `YYYY-MM-DD`.
    Week,
    /// Per calendar month, named `YYYY-MM`.
    Month,
}

/// One period of an interval: its name and the days it covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Period {
    /// `YYYY-MM-DD` for a day or a week (its Monday), `YYYY-MM` for a month.
    pub name: String,
    /// Every day of the period, even those outside the range asked about:
    /// a period is always counted whole.
    pub days: DayRange,
}

impl Interval {
    /// The periods of this interval that overlap `range`, in order. Periods
    /// are whole: a month is counted from its first to its last day even if
    /// the range starts or ends inside it.
    pub fn periods(self, range: DayRange) -> Vec<Period> {
        let mut out: Vec<Period> = Vec::new();
        for day in range.days() {
            let (name, days) = match self {
                Interval::Day => (day.to_string(), DayRange::new(day, day)),
                Interval::Week => {
                    let monday = day.week_start();
                    (monday.to_string(), DayRange::new(monday, Day(monday.0 + 6)))
                }
                Interval::Month => (day.month().to_string(), DayRange::month(day.month())),
            };
            if out.last().is_none_or(|p| p.name != name) {
                out.push(Period { name, days });
            }
        }
        out
    }
}

impl FromStr for Interval {
    type Err = DayParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "day" => Ok(Interval::Day),
            "week" => Ok(Interval::Week),
            "month" => Ok(Interval::Month),
            _ => Err(DayParseError(s.to_owned())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_round_trip_and_weeks_start_on_monday() {
        let d: Day = "2026-12-07".parse().unwrap();
        assert_eq!(d.start_ms(), 1_796_601_600_000);
        assert_eq!(Day::from_unix_ms(d.start_ms() + 86_399_999), d);
        // 2026-12-07 is a Monday; 2026-12-13 a Sunday.
        assert_eq!(d.week_start(), d);
        assert_eq!("2026-12-13".parse::<Day>().unwrap().week_start(), d);
        assert_eq!("2024-02-29".parse::<Day>().unwrap().next().to_string(), "2024-03-01");
        assert_eq!(d.add_days(-7).to_string(), "2026-11-30");
        assert!("2026-1-07".parse::<Day>().is_err());
    }

    #[test]
    fn periods_are_whole_and_in_order() {
        let range = DayRange::new("2026-11-29".parse().unwrap(), "2026-12-02".parse().unwrap());
        let names = |i: Interval| i.periods(range).into_iter().map(|p| p.name).collect::<Vec<_>>();
        assert_eq!(
            names(Interval::Day),
            ["2026-11-29", "2026-11-30", "2026-12-01", "2026-12-02"]
        );
        assert_eq!(names(Interval::Week), ["2026-11-23", "2026-11-30"]);
        assert_eq!(names(Interval::Month), ["2026-11", "2026-12"]);
        let nov = &Interval::Month.periods(range)[0];
        assert_eq!(
            (nov.days.from.to_string(), nov.days.to.to_string()),
            ("2026-11-01".into(), "2026-11-30".into())
        );
    }
}
