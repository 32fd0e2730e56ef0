//! k-anonymity: no number given out describes fewer than `k` distinct
//! signatures (default [`DEFAULT_K`]).
//!
//! Three rules, applied to every output:
//!
//! - **Folding** ([`KAnon::fold`]): in a breakdown, each group with fewer
//!   than `k` signatures is folded into one "other" group. The groups of a
//!   breakdown are disjoint (a signature counts once per period, under its
//!   first ping's attributes), so "other" is the exact sum of what it holds.
//!   Since the period's total is given too (metric `active`), an "other"
//!   below `k` could be had by subtraction; so while "other" is below `k`
//!   the smallest group left is folded in as well. "Other" is therefore at
//!   least `k` unless every group was folded, and then the period's total
//!   is below `k` and hidden too.
//! - **Small figures** ([`KAnon::figure`]): a figure from 1 to `k - 1` —
//!   an "other" that is itself small, a tiny product's day — is shown as
//!   "fewer than k", never as its number. Zero describes no one and is
//!   shown.
//! - **Narrowing** ([`KAnon::narrow`]): a query whose filter (a version, an
//!   OS...) selects fewer than `k` signatures gets no numbers at all, not
//!   even zero, so a filter cannot single anyone out.

use serde::Serialize;
use sonde_store::BreakdownRow;

/// The minimum group size unless configured otherwise.
pub const DEFAULT_K: u64 = 5;

/// A minimum group size that is not one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KAnonError {
    /// `k` was 0; the smallest is 1, which shows every number.
    #[error("the minimum group size must be at least 1")]
    Zero,
}

/// A filter that narrowed a query below the minimum group size.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("this filter selects fewer than {k} signatures; no numbers are given for it")]
pub struct Narrowed {
    /// The minimum group size.
    pub k: u64,
}

/// A number as given out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Figure {
    /// The exact number: zero, or at least `k`.
    Exact(u64),
    /// From 1 to `k - 1`; serialised as `{"fewer_than": k}`.
    FewerThan {
        /// The minimum group size.
        fewer_than: u64,
    },
}

impl std::fmt::Display for Figure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Figure::Exact(n) => write!(f, "{n}"),
            Figure::FewerThan { fewer_than } => write!(f, "fewer than {fewer_than}"),
        }
    }
}

/// One group of a folded breakdown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Group {
    /// The group's value; `None` for "other", the groups folded together.
    pub value: Option<String>,
    /// Its signatures.
    pub count: Figure,
}

/// One group of a folded breakdown series.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PeriodGroup {
    /// The period (see [`sonde_store::Period`]).
    pub period: String,
    /// The group's value; `None` for "other".
    pub value: Option<String>,
    /// Its signatures.
    pub count: Figure,
}

/// The minimum group size and its rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KAnon {
    k: u64,
}

impl Default for KAnon {
    fn default() -> Self {
        KAnon { k: DEFAULT_K }
    }
}

impl KAnon {
    /// Rules for a minimum group size of `k` (at least 1).
    pub fn new(k: u64) -> Result<Self, KAnonError> {
        if k == 0 {
            return Err(KAnonError::Zero);
        }
        Ok(KAnon { k })
    }

    /// The minimum group size.
    pub fn k(self) -> u64 {
        self.k
    }

    /// `n` as given out: exact if zero or at least `k`, otherwise "fewer than k".
    pub fn figure(self, n: u64) -> Figure {
        if n == 0 || n >= self.k {
            Figure::Exact(n)
        } else {
            Figure::FewerThan { fewer_than: self.k }
        }
    }

    /// Refuses numbers for a filter that selects fewer than `k` of the
    /// signatures (`selected`, zero included).
    pub fn narrow(self, selected: u64) -> Result<(), Narrowed> {
        if selected < self.k {
            Err(Narrowed { k: self.k })
        } else {
            Ok(())
        }
    }

    /// Folds the groups with fewer than `k` signatures into one "other",
    /// last, then the smallest of the rest while "other" is still below `k`
    /// (the last of equal ones first); the groups kept keep their order. No
    /// "other" if nothing was folded.
    pub fn fold(self, groups: impl IntoIterator<Item = (String, u64)>) -> Vec<Group> {
        let (mut kept, small): (Vec<_>, Vec<_>) = groups
            .into_iter()
            .filter(|(_, n)| *n > 0)
            .partition(|(_, n)| *n >= self.k);
        let mut other: u64 = small.iter().map(|(_, n)| n).sum();
        while other > 0 && other < self.k {
            let Some(i) = (0..kept.len()).rev().min_by_key(|&i| kept[i].1) else {
                break;
            };
            other += kept.remove(i).1;
        }
        let mut out: Vec<Group> = kept
            .into_iter()
            .map(|(value, n)| Group {
                value: Some(value),
                count: Figure::Exact(n),
            })
            .collect();
        if other > 0 {
            out.push(Group {
                value: None,
                count: self.figure(other),
            });
        }
        out
    }

    /// [`KAnon::fold`] applied to each period of a breakdown (rows ordered
    /// by period, as the store gives them).
    pub fn fold_breakdown(self, rows: &[BreakdownRow]) -> Vec<PeriodGroup> {
        let mut out = Vec::new();
        for period in rows.chunk_by(|a, b| a.period == b.period) {
            let name = &period[0].period;
            let groups = self.fold(period.iter().map(|r| (r.value.clone(), r.count)));
            out.extend(groups.into_iter().map(|g| PeriodGroup {
                period: name.clone(),
                value: g.value,
                count: g.count,
            }));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn groups(pairs: &[(&str, u64)]) -> Vec<(String, u64)> {
        pairs.iter().map(|(v, n)| ((*v).to_owned(), *n)).collect()
    }

    fn shown(gs: &[Group]) -> Vec<(Option<&str>, Figure)> {
        gs.iter().map(|g| (g.value.as_deref(), g.count)).collect()
    }

    #[test]
    fn groups_below_k_are_folded_into_other() {
        let k = KAnon::default();
        let folded = k.fold(groups(&[("1.0.0", 120), ("0.9.0", 3), ("1.1.0", 5), ("0.8.0", 4)]));
        assert_eq!(
            shown(&folded),
            [
                (Some("1.0.0"), Figure::Exact(120)),
                (Some("1.1.0"), Figure::Exact(5)),
                (None, Figure::Exact(7)),
            ]
        );
        // Nothing below k: no "other".
        assert_eq!(
            shown(&k.fold(groups(&[("linux", 9)]))),
            [(Some("linux"), Figure::Exact(9))]
        );
    }

    #[test]
    fn an_other_below_k_takes_the_smallest_groups_until_it_is_not() {
        let k = KAnon::new(10).unwrap();
        // "other" would be 3, and 67 - 40 - 12 - 12 would tell it: the
        // smallest group left (darwin, the later of the two 12s) is folded
        // in too.
        let folded = k.fold(groups(&[
            ("linux", 40),
            ("windows", 12),
            ("darwin", 12),
            ("freebsd", 2),
            ("openbsd", 1),
        ]));
        assert_eq!(
            shown(&folded),
            [
                (Some("linux"), Figure::Exact(40)),
                (Some("windows"), Figure::Exact(12)),
                (None, Figure::Exact(15)),
            ]
        );
        assert_eq!(
            serde_json::to_value(&folded[2]).unwrap(),
            serde_json::json!({"value": null, "count": 15})
        );
    }

    #[test]
    fn an_other_below_k_is_fewer_than_k() {
        // Only when every group is folded can "other" stay below k: the
        // period's total is then below k and hidden as well.
        let k = KAnon::new(10).unwrap();
        let folded = k.fold(groups(&[("linux", 6), ("freebsd", 2), ("openbsd", 1)]));
        assert_eq!(shown(&folded), [(None, Figure::FewerThan { fewer_than: 10 })]);
        assert_eq!(folded[0].count.to_string(), "fewer than 10");
        assert_eq!(
            serde_json::to_value(&folded[0]).unwrap(),
            serde_json::json!({"value": null, "count": {"fewer_than": 10}})
        );
        assert_eq!(serde_json::to_value(k.figure(40)).unwrap(), 40);
    }

    #[test]
    fn small_figures_are_hidden_but_zero_is_shown() {
        let k = KAnon::default();
        assert_eq!(k.figure(0), Figure::Exact(0));
        assert_eq!(k.figure(1), Figure::FewerThan { fewer_than: 5 });
        assert_eq!(k.figure(4), Figure::FewerThan { fewer_than: 5 });
        assert_eq!(k.figure(5), Figure::Exact(5));
        // k = 1 shows everything.
        assert_eq!(KAnon::new(1).unwrap().figure(1), Figure::Exact(1));
    }

    #[test]
    fn a_filter_narrowing_below_k_gets_no_numbers() {
        let k = KAnon::default();
        assert_eq!(k.narrow(4), Err(Narrowed { k: 5 }));
        assert_eq!(k.narrow(0), Err(Narrowed { k: 5 }));
        assert_eq!(k.narrow(5), Ok(()));
        assert_eq!(KAnon::new(0), Err(KAnonError::Zero));
    }

    #[test]
    fn breakdowns_are_folded_per_period() {
        let row = |period: &str, value: &str, count| BreakdownRow {
            period: period.into(),
            value: value.into(),
            count,
        };
        // November's "other" (2) takes 1.0.0, its only other group.
        let rows = [
            row("2026-11", "1.0.0", 50),
            row("2026-11", "1.1.0", 2),
            row("2026-12", "1.0.0", 3),
            row("2026-12", "1.1.0", 60),
            row("2026-12", "1.2.0", 4),
        ];
        let folded = KAnon::default().fold_breakdown(&rows);
        let got: Vec<_> = folded
            .iter()
            .map(|g| (g.period.as_str(), g.value.as_deref(), g.count))
            .collect();
        assert_eq!(
            got,
            [
                ("2026-11", None, Figure::Exact(52)),
                ("2026-12", Some("1.1.0"), Figure::Exact(60)),
                ("2026-12", None, Figure::Exact(7)),
            ]
        );
    }
}
