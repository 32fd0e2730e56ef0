//! Events: everything the collector stores besides usage pings — server
//! heartbeats, CLI command events, console events — in one shape.
//!
//! Every front door (Hasura's `/v1/http`, Sonde's native batch API) turns what
//! it received into [`Event`]s after validating it against the allowlist for
//! its [`EventKind`]; the storage pipeline only ever sees this type. `fields`
//! holds only allowlisted, validated values, so storing it as JSON is safe.

use std::borrow::Cow;

use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::{Map, Value};

use crate::product::ProductName;

/// What an event describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventKind {
    /// A server's periodic metrics heartbeat (Hasura `server_metrics_v2`).
    Heartbeat,
    /// One CLI command execution (Hasura `cli`).
    Command,
    /// One console action (Hasura console events).
    Console,
}

impl EventKind {
    /// Every kind, in a stable order.
    pub const ALL: [EventKind; 3] = [EventKind::Heartbeat, EventKind::Command, EventKind::Console];

    /// A short stable name, as stored: `heartbeat`, `command`, `console`.
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Heartbeat => "heartbeat",
            EventKind::Command => "command",
            EventKind::Console => "console",
        }
    }

    /// The kind named `s`, the inverse of [`EventKind::as_str`].
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// A validated event, ready to store.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// Client-generated id (a UUID); a retried batch carries the same ids and
    /// is stored once. Front doors without ids derive one from the content.
    pub id: String,
    /// What the event describes.
    pub kind: EventKind,
    /// The product that sent it.
    pub product: ProductName,
    /// A test or development build (`*_test` topics): stored, but kept out of
    /// analytics by default.
    pub test: bool,
    /// When the client says it happened, Unix milliseconds, if it said.
    pub occurred_at_ms: Option<i64>,
    /// When the collector received it, Unix milliseconds (server clock).
    pub received_at_ms: i64,
    /// The allowlisted, validated fields of this kind.
    pub fields: Fields,
}

/// The validated fields of one event: a small map kept as a vector sorted by
/// key.
///
/// Events have a handful of top-level fields, all named by the allowlist, so
/// a sorted vector is cheaper to build, read and serialize than a
/// `serde_json::Map` (a B-tree with an owned `String` per key), which the
/// native batch API used to build and drop a thousand times per request. It
/// serializes as a JSON object in key order, the same bytes a
/// `serde_json::Map` gives. Indexing a missing key gives `Value::Null`, as
/// indexing a `serde_json::Value` does.
///
/// ```
/// use serde_json::json;
/// use sonde_protocol::event::Fields;
/// let mut f = Fields::new();
/// f.insert("version", json!("1.2.0"));
/// f.insert("command", json!("tool build"));
/// f.insert("version", json!("1.3.0"));
/// assert_eq!(f["version"], "1.3.0");
/// assert!(f["absent"].is_null());
/// assert_eq!(serde_json::to_string(&f).unwrap(), r#"{"command":"tool build","version":"1.3.0"}"#);
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Fields(Vec<(Cow<'static, str>, Value)>);

impl Fields {
    /// No fields.
    pub fn new() -> Self {
        Fields(Vec::new())
    }

    fn position(&self, key: &str) -> Result<usize, usize> {
        self.0.binary_search_by(|(k, _)| k.as_ref().cmp(key))
    }

    /// No fields, with room for `n`.
    pub fn with_capacity(n: usize) -> Self {
        Fields(Vec::with_capacity(n))
    }

    /// Sets `key` to `value`, replacing an earlier value of the same key.
    pub fn insert(&mut self, key: impl Into<Cow<'static, str>>, value: Value) {
        let key = key.into();
        match self.position(&key) {
            Ok(i) => self.0[i].1 = value,
            Err(i) => self.0.insert(i, (key, value)),
        }
    }

    /// The value of `key`, if set.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.position(key).ok().map(|i| &self.0[i].1)
    }

    /// The value of `key`, set to what `default` gives first if it is not set yet.
    pub fn get_or_insert_with(&mut self, key: &'static str, default: impl FnOnce() -> Value) -> &mut Value {
        let i = match self.position(key) {
            Ok(i) => i,
            Err(i) => {
                self.0.insert(i, (Cow::Borrowed(key), default()));
                i
            }
        };
        &mut self.0[i].1
    }

    /// Whether `key` is set.
    pub fn contains_key(&self, key: &str) -> bool {
        self.position(key).is_ok()
    }

    /// The fields, in key order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.0.iter().map(|(k, v)| (k.as_ref(), v))
    }

    /// How many fields are set.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether no field is set.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The same fields as a `serde_json::Map`.
    pub fn into_map(self) -> Map<String, Value> {
        self.0.into_iter().map(|(k, v)| (k.into_owned(), v)).collect()
    }
}

impl From<Map<String, Value>> for Fields {
    fn from(map: Map<String, Value>) -> Self {
        // A `Map` iterates in key order already (no `preserve_order`), but
        // inserting one by one keeps the order right whatever its features.
        let mut f = Fields::with_capacity(map.len());
        for (k, v) in map {
            f.insert(k, v);
        }
        f
    }
}

impl From<Fields> for Value {
    fn from(f: Fields) -> Self {
        Value::Object(f.into_map())
    }
}

impl std::ops::Index<&str> for Fields {
    type Output = Value;

    fn index(&self, key: &str) -> &Value {
        static NULL: Value = Value::Null;
        self.get(key).unwrap_or(&NULL)
    }
}

impl Serialize for Fields {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            map.serialize_entry(k.as_ref(), v)?;
        }
        map.end()
    }
}
