//! What an event is counted under once its raw row is gone.
//!
//! Retention deletes raw events older than a cutoff; before an event is
//! deleted it is added to a roll-up: one counter per (product, kind, test,
//! month, key), where the key is what analytics groups by — the command path
//! of a command event, the action name of a console event, the instance id of
//! a heartbeat. So the counts per month (and the number of distinct instances
//! per month) survive the deletion of the rows they were counted from. Every
//! backend counts with [`rollup_key`], so their answers agree.
//!
//! SQLite keeps these counters for every event at ingest instead (in the
//! transaction that stores it, keyed by [`rollup_key_of`] of the fields as
//! received), so its counts are a lookup whether or not the rows are still
//! there, and retention only deletes.

/// The key an event of `kind` with the JSON object `fields` is counted
/// under, and whether it was an error.
pub fn rollup_key(kind: &str, fields: &str) -> (String, bool) {
    let v: serde_json::Value = serde_json::from_str(fields).unwrap_or_default();
    rollup_key_of(kind, |name| v.get(name))
}

/// [`rollup_key`] of an event whose fields are read by `get` (a field's
/// value by name), without serialising them first.
///
/// ```
/// let fields = serde_json::json!({"command": "tool build", "is_error": true});
/// let key = sonde_store::rollup::rollup_key_of("command", |n| fields.get(n));
/// assert_eq!(key, ("tool build".to_owned(), true));
/// ```
pub fn rollup_key_of<'a>(kind: &str, get: impl Fn(&str) -> Option<&'a serde_json::Value>) -> (String, bool) {
    let s = |name: &str| get(name).and_then(|x| x.as_str()).unwrap_or("").to_owned();
    let key = match kind {
        "command" => s("command"),
        "console" => s("event_type"),
        "heartbeat" => s("instance_uid"),
        _ => String::new(),
    };
    (
        key,
        get("is_error").and_then(serde_json::Value::as_bool).unwrap_or(false),
    )
}

/// Event counts being summed per (month, key), in that order (every
/// backend sums with it, so their answers agree).
#[derive(Debug, Default)]
pub struct Totals(std::collections::BTreeMap<(String, String), (u64, u64)>);

impl Totals {
    /// Adds `count` events, `errors` of them errors, to `(month, key)`.
    pub fn add(&mut self, month: String, key: String, count: u64, errors: u64) {
        let t = self.0.entry((month, key)).or_default();
        t.0 += count;
        t.1 += errors;
    }

    /// Adds one raw event of `kind` received at `received_at_ms`.
    pub fn add_event(&mut self, kind: &str, received_at_ms: i64, fields: &str) {
        let (key, error) = rollup_key(kind, fields);
        let month = crate::Month::from_unix_ms(received_at_ms).to_string();
        self.add(month, key, 1, u64::from(error));
    }

    /// The counters, by month then key.
    pub fn into_counts(self) -> Vec<crate::EventCount> {
        self.0
            .into_iter()
            .map(|((month, key), (count, errors))| crate::EventCount {
                month,
                key,
                count,
                errors,
            })
            .collect()
    }
}
