//! Update notices and alerts, from the last answer saved on disk — never the
//! network — and the bookkeeping that rate-limits them (`notices.json`).
//!
//! - An available update is shown when the saved answer was for the running
//!   version and says it is outdated; the same available version is shown again
//!   only after the reminder interval (48 h by default).
//! - Each alert for the running version is shown once per alert id.
//! - The first-run notice is shown once per consent version.

use std::fmt;

use serde_json::Value;

use crate::layout;
use crate::state::{object, str_field, u64_field, Json, StateDir};

/// Alert ids remembered as shown (oldest forgotten first).
const MAX_SHOWN_ALERTS: usize = 512;

/// Something to tell the user, from the cached check answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    /// A newer version is available.
    Update {
        /// The product.
        product: String,
        /// The version running.
        running: String,
        /// The newest version.
        latest: String,
        /// How to install it, if the maintainers said (`install_command`, or
        /// `package@release_tag`).
        install: Option<String>,
        /// Where to read about it (changelog or download page), if given.
        url: Option<String>,
    },
    /// An alert published for the running version.
    Alert {
        /// The alert's id.
        id: i64,
        /// `info`, `warn` or `critical`.
        level: String,
        /// The message.
        message: String,
        /// Where to read more, if given.
        url: Option<String>,
    },
}

impl fmt::Display for Notice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Notice::Update {
                product,
                running,
                latest,
                install,
                url,
            } => {
                write!(f, "A new version of {product} is available: {running} -> {latest}")?;
                if let Some(cmd) = install {
                    write!(f, "\n  install: {cmd}")?;
                }
                if let Some(url) = url {
                    write!(f, "\n  details: {url}")?;
                }
                Ok(())
            }
            Notice::Alert {
                level, message, url, ..
            } => {
                let label = match level.as_str() {
                    "critical" => "SECURITY",
                    "warn" => "warning",
                    _ => "notice",
                };
                write!(f, "{label}: {message}")?;
                if let Some(url) = url {
                    write!(f, "\n  details: {url}")?;
                }
                Ok(())
            }
        }
    }
}

/// The saved answer (`check.json`), read leniently: missing fields are empty.
#[derive(Debug)]
struct Saved {
    path: String,
    answer: Answer,
}

#[derive(Debug, Default)]
struct Answer {
    current_version: String,
    current_download_url: String,
    current_changelog_url: String,
    outdated: bool,
    alerts: Vec<AnswerAlert>,
    package: String,
    release_tag: String,
    install_command: String,
}

#[derive(Debug, Default)]
struct AnswerAlert {
    id: i64,
    message: String,
    url: String,
    level: String,
}

/// A string field, empty when missing or not a string.
fn text(v: &Value, key: &str) -> String {
    str_field(v, key).unwrap_or_default()
}

impl Json for Saved {
    fn from_json(v: &Value) -> Option<Self> {
        let a = v.get("answer")?;
        let alerts = a.get("alerts").and_then(Value::as_array).map_or(&[][..], Vec::as_slice);
        Some(Saved {
            path: str_field(v, "path")?,
            answer: Answer {
                current_version: text(a, "current_version"),
                current_download_url: text(a, "current_download_url"),
                current_changelog_url: text(a, "current_changelog_url"),
                outdated: a.get("outdated").and_then(Value::as_bool).unwrap_or(false),
                alerts: alerts
                    .iter()
                    .map(|x| AnswerAlert {
                        id: x.get("id").and_then(Value::as_i64).unwrap_or(0),
                        message: text(x, "message"),
                        url: text(x, "url"),
                        level: text(x, "level"),
                    })
                    .collect(),
                package: text(a, "package"),
                release_tag: text(a, "release_tag"),
                install_command: text(a, "install_command"),
            },
        })
    }
    fn to_json(&self) -> Value {
        // Written by the uploader as it came from the collector; never by this type.
        Value::Null
    }
}

/// `notices.json`.
#[derive(Debug, Default)]
pub(crate) struct Book {
    reminded_version: String,
    reminded_at: u64,
    shown_alerts: Vec<i64>,
    /// The consent version whose first-run notice was shown.
    pub(crate) consent_version: u32,
}

impl Json for Book {
    fn from_json(v: &Value) -> Option<Self> {
        Some(Book {
            reminded_version: text(v, "reminded_version"),
            reminded_at: u64_field(v, "reminded_at").unwrap_or(0),
            shown_alerts: v
                .get("shown_alerts")
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(Value::as_i64).collect())
                .unwrap_or_default(),
            consent_version: u64_field(v, "consent_version")
                .and_then(|c| u32::try_from(c).ok())
                .unwrap_or(0),
        })
    }
    fn to_json(&self) -> Value {
        object([
            ("reminded_version", Some(self.reminded_version.clone().into())),
            ("reminded_at", Some(self.reminded_at.into())),
            ("shown_alerts", Some(self.shown_alerts.clone().into())),
            ("consent_version", Some(self.consent_version.into())),
        ])
    }
}

impl Book {
    pub(crate) fn load(state: &StateDir) -> Book {
        state.read_json(layout::NOTICES).unwrap_or_default()
    }
}

/// The notices due now, and whether the book changed.
pub(crate) fn due(
    state: &StateDir,
    product: &str,
    running: &str,
    reminder_secs: u64,
    now: u64,
    book: &mut Book,
) -> Vec<Notice> {
    let Some(saved) = state.read_json::<Saved>(layout::CHECK_ANSWER) else {
        return Vec::new();
    };
    // An answer given for another version (the user upgraded since) says nothing
    // about this one.
    let query = saved.path.split_once('?').map_or("", |(_, q)| q);
    if sonde_protocol::CheckQuery::parse(query).version.as_deref() != Some(running) {
        return Vec::new();
    }
    let a = saved.answer;
    let non_empty = |s: &str| (!s.trim().is_empty()).then(|| s.to_owned());
    let mut out = Vec::new();
    for alert in &a.alerts {
        if book.shown_alerts.contains(&alert.id) {
            continue;
        }
        book.shown_alerts.push(alert.id);
        out.push(Notice::Alert {
            id: alert.id,
            level: alert.level.clone(),
            message: alert.message.clone(),
            url: non_empty(&alert.url),
        });
    }
    if book.shown_alerts.len() > MAX_SHOWN_ALERTS {
        let extra = book.shown_alerts.len() - MAX_SHOWN_ALERTS;
        book.shown_alerts.drain(..extra);
    }
    let latest = a.current_version.trim();
    if a.outdated && !latest.is_empty() && latest != running {
        let reminded_recently = book.reminded_version == latest && now.saturating_sub(book.reminded_at) < reminder_secs;
        if !reminded_recently {
            book.reminded_version = latest.to_owned();
            book.reminded_at = now;
            let install = non_empty(&a.install_command).or_else(|| {
                non_empty(&a.package).map(|p| match non_empty(&a.release_tag) {
                    Some(tag) => format!("{p}@{tag}"),
                    None => p,
                })
            });
            out.push(Notice::Update {
                product: product.to_owned(),
                running: running.to_owned(),
                latest: latest.to_owned(),
                install,
                url: non_empty(&a.current_changelog_url).or_else(|| non_empty(&a.current_download_url)),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn saved(state: &StateDir, version: &str) {
        let v = serde_json::json!({
            "saved_at": 1,
            "path": format!("/v1/check/p?version={version}&os=linux"),
            "answer": {"current_version": "2.0.0", "outdated": true, "install_command": "cargo install p",
                       "alerts": [{"id": 7, "date": 1, "message": "upgrade now", "url": "", "level": "critical"}]}
        });
        state.write_json(layout::CHECK_ANSWER, &v).unwrap();
    }

    #[test]
    fn update_is_rate_limited_and_alerts_shown_once() {
        let dir = tempfile::tempdir().unwrap();
        let state = StateDir::new(dir.path().to_path_buf());
        saved(&state, "1.0.0");
        let mut book = Book::default();
        let first = due(&state, "p", "1.0.0", 48 * 3600, 1000, &mut book);
        assert_eq!(first.len(), 2);
        assert!(first[1].to_string().contains("1.0.0 -> 2.0.0"));
        assert!(first[0].to_string().starts_with("SECURITY: upgrade now"));
        assert!(due(&state, "p", "1.0.0", 48 * 3600, 2000, &mut book).is_empty());
        let later = due(&state, "p", "1.0.0", 48 * 3600, 1000 + 48 * 3600, &mut book);
        assert_eq!(later.len(), 1, "{later:?}");
        // An answer for another version says nothing about this one.
        assert!(due(&state, "p", "1.5.0", 48 * 3600, 1000, &mut Book::default()).is_empty());
    }
}
