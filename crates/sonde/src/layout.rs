//! The state directory's layout: the name of every file the library keeps
//! in `<cache>/sonde/<product>/`, and what each holds.
//!
//! | file | what |
//! | --- | --- |
//! | `id.json` | `{signature, salt}`: random per-user UUID v4, and the salt of the project hash (never sent) |
//! | `last-ping` | empty; its modification time is when the last ping was claimed (the throttle) |
//! | `ping.lock` | held while one process claims a ping |
//! | `uploader.lock` | held by the one running uploader; holds its pid |
//! | `retry-at` | Unix seconds before which no uploader is started for old items (backoff) |
//! | `check.json` | the last answer of the collector, with when and for which request |
//! | `notices.json` | which notices were shown and when, and the consent version shown |
//! | `spool/` | queued requests, one JSON file each |
//! | `ledger.jsonl` | bounded log of every payload sent (or recorded, in `local` mode) |
//! | `events.jsonl` | command events staged for the next batch, one JSON object per line |
//! | `events.lock` | held while one process stages events or moves them into the spool |
//! | `error-reports/` | error reports kept on this machine (not sent), the newest few |
//! | `error-reports-setting` | `always` or `never`, for a host without a config file |
//! | `heartbeat.json` | `{instance_uid, db_uid}`: a server's random ids, kept across restarts |

/// The per-user identity ([`crate::identity`]).
pub(crate) const ID: &str = "id.json";
/// The throttle stamp: its modification time is when the last ping was claimed.
pub(crate) const LAST_PING: &str = "last-ping";
/// Held while one process claims a ping.
pub(crate) const PING_LOCK: &str = "ping.lock";
/// Held by the one running uploader, which writes its pid there.
pub(crate) const UPLOADER_LOCK: &str = "uploader.lock";
/// Backoff: no uploader is started for old items before this Unix time.
pub(crate) const RETRY_AT: &str = "retry-at";
/// The collector's last answer to a check.
pub(crate) const CHECK_ANSWER: &str = "check.json";
/// The notice book ([`crate::notice`]).
pub(crate) const NOTICES: &str = "notices.json";
/// The directory of queued requests ([`crate::spool`]).
pub(crate) const SPOOL: &str = "spool";
/// The ledger of payloads sent or recorded ([`crate::ledger`]).
pub(crate) const LEDGER: &str = "ledger.jsonl";
/// Command events staged for the next batch ([`crate::command`]).
pub(crate) const EVENTS_STAGE: &str = "events.jsonl";
/// Held while events are staged or moved into the spool.
pub(crate) const EVENTS_LOCK: &str = "events.lock";
/// A server's heartbeat ids ([`crate::heartbeat`]).
pub(crate) const HEARTBEAT_IDS: &str = "heartbeat.json";
/// Error reports kept on this machine ([`crate::saved`]).
pub(crate) const ERROR_REPORTS_DIR: &str = "error-reports";
/// The error-report setting of a host without a config file ([`crate::consent`]).
pub(crate) const ERROR_REPORTS_SETTING: &str = "error-reports-setting";
