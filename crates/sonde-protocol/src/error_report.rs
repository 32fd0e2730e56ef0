//! Error reports: what a tool sends, with its user's consent, after a crash
//! or an unexpected error (`POST /api/v1/error-reports`), and how the
//! collector groups them. The wire format is documented in
//! `docs/error-reports.md`; [`ErrorReport`] serializes to exactly it.
//!
//! ```json
//! {"schema": 1, "report_id": "0190f5e2-7c4a-7d3e-9a1b-0123456789ab", "product": "demo",
//!  "version": "1.2.3", "signature": "<installation id>", "os": "linux", "arch": "x86_64",
//!  "runtime": "1.89.0", "ci": "GitHub Actions", "command": "demo migrate apply", "flags": ["--force"],
//!  "kind": "std::io::Error", "message": "...", "chain": [{"kind": "...", "message": "..."}],
//!  "panic": true, "frames": [{"function": "demo::run", "file": "src/main.rs", "line": 12, "in_app": true}],
//!  "project": {"models": 3, "uses_enums": true}, "occurred_at": "2026-12-07T10:00:00Z"}
//! ```
//!
//! [`decode`] refuses a report whole ([`ReportError`]) only when it cannot
//! be stored at all: not a JSON object, no or an unknown `schema`, no valid
//! `report_id`, `product` or `kind`. Every other field is checked on its own
//! and dropped and counted when it fails, like the fields of events: the
//! context fields (`version` ... `project`) against [`CONTEXT_FIELDS`] with
//! the event allowlist's shapes, the free text (`kind`, `message`, chain
//! links, frame `function` and `file`) scrubbed with [`Scrubber`] and cut to
//! its limit. Unknown fields are dropped and counted under `*`.
//!
//! Grouping: [`ErrorReport::fingerprint`].

use std::borrow::Cow;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::allowlist;
use crate::dropped::{DropReason, Dropped};
use crate::field_spec::{f, FieldSpec, FieldType};
use crate::json::Json;
use crate::limits::{MAX_COMMAND_LEN, MAX_FLAGS, MAX_METRICS_LEAVES};
use crate::product::{ProductName, ProductNameError};
use crate::routes::RouteTemplates;
use crate::scrub::Scrubber;
use crate::shapes;
use crate::timefmt::format_rfc3339;
use crate::vocabulary::Vocabulary;

/// The endpoint reports are posted to.
pub const ENDPOINT: &str = "/api/v1/error-reports";
/// The `schema` this module writes.
pub const SCHEMA_VERSION: u64 = 1;
/// Every `schema` the collector reads.
pub const SUPPORTED_SCHEMAS: &[u64] = &[1];
/// Largest report body, after gzip decoding, in bytes.
pub const MAX_REPORT_BYTES: usize = 256 * 1024;
/// Longest error kind (a type name), in bytes.
pub const MAX_KIND_LEN: usize = 256;
/// Longest message, in bytes (longer ones are cut, counted as `too_long`).
pub const MAX_MESSAGE_LEN: usize = 4096;
/// Most links in `chain` (further links are dropped, counted as `too_long`).
pub const MAX_CHAIN: usize = 16;
/// Most entries in `frames` (further frames are dropped, counted as `too_long`).
pub const MAX_FRAMES: usize = 64;
/// Longest frame `function`, in bytes.
pub const MAX_FUNCTION_LEN: usize = 512;
/// Longest frame `file`, in bytes.
pub const MAX_FILE_LEN: usize = 512;
/// Largest frame `line`.
pub const MAX_LINE: u64 = u32::MAX as u64;
/// How many in-app frames the fingerprint reads.
pub const FINGERPRINT_FRAMES: usize = 3;
/// The prefix of every fingerprint this module computes; another way of
/// grouping gets another prefix, so groups of different versions never mix.
pub const FINGERPRINT_VERSION: &str = "v1";

/// The fields of a report that this module reads itself (envelope and free
/// text), as published by `GET /api/v1/schema`.
pub const REPORT_FIELDS: &[FieldSpec] = &[
    f(
        "schema",
        FieldType::Integer,
        Some(SCHEMA_VERSION),
        "version of this format; required, an unknown one is refused whole (400 unsupported_schema)",
    ),
    f(
        "report_id",
        FieldType::Uuid,
        None,
        "random id of this report (UUID v7); required; the same id is stored once",
    ),
    f(
        "product",
        FieldType::Product,
        None,
        "the product; required, must be registered",
    ),
    f(
        "kind",
        FieldType::ScrubbedText,
        Some(MAX_KIND_LEN as u64),
        "the error's type (std::io::Error); required",
    ),
    f(
        "message",
        FieldType::ScrubbedText,
        Some(MAX_MESSAGE_LEN as u64),
        "the error's message",
    ),
    FieldSpec {
        name: "chain",
        ty: FieldType::ObjectList,
        max: Some(MAX_CHAIN as u64),
        description: "the error's causes, outermost first",
        fields: CHAIN_FIELDS,
    },
    f("panic", FieldType::Boolean, None, "whether this was a panic"),
    FieldSpec {
        name: "frames",
        ty: FieldType::ObjectList,
        max: Some(MAX_FRAMES as u64),
        description: "the stack, innermost first",
        fields: FRAME_FIELDS,
    },
    f(
        "occurred_at",
        FieldType::Timestamp,
        None,
        "when it happened (RFC 3339 or Unix milliseconds)",
    ),
];

/// The fields of a `chain` link.
pub const CHAIN_FIELDS: &[FieldSpec] = &[
    f(
        "kind",
        FieldType::ScrubbedText,
        Some(MAX_KIND_LEN as u64),
        "the cause's type",
    ),
    f(
        "message",
        FieldType::ScrubbedText,
        Some(MAX_MESSAGE_LEN as u64),
        "the cause's message",
    ),
];

/// The fields of a stack frame.
pub const FRAME_FIELDS: &[FieldSpec] = &[
    f(
        "function",
        FieldType::ScrubbedText,
        Some(MAX_FUNCTION_LEN as u64),
        "function name (demo::run, demo::main::{{closure}})",
    ),
    f(
        "file",
        FieldType::ScrubbedText,
        Some(MAX_FILE_LEN as u64),
        "source file, relative to the project where the client can",
    ),
    f("line", FieldType::Integer, Some(MAX_LINE), "line number"),
    f(
        "in_app",
        FieldType::Boolean,
        None,
        "whether the frame is the tool's own code (not std or a dependency)",
    ),
];

/// The context fields of a report, validated like event fields.
pub const CONTEXT_FIELDS: &[FieldSpec] = &[
    f("version", FieldType::Version, Some(64), "the tool's version"),
    f(
        "signature",
        FieldType::Uuid,
        None,
        "the installation's random id, as its pings send it",
    ),
    f("os", FieldType::Os, Some(32), "operating system"),
    f("arch", FieldType::Arch, Some(32), "CPU architecture"),
    f(
        "runtime",
        FieldType::Runtime,
        Some(64),
        "language runtime version (rustc 1.89.0, node v20.20.2)",
    ),
    f("ci", FieldType::CiName, Some(64), "CI vendor name, if running in CI"),
    f(
        "command",
        FieldType::Command,
        Some(MAX_COMMAND_LEN as u64),
        "command path; flag names found in it move to `flags`",
    ),
    f(
        "flags",
        FieldType::FlagNames,
        Some(MAX_FLAGS as u64),
        "names of the flags used, never their values",
    ),
    f(
        "project",
        FieldType::Metrics,
        Some(MAX_METRICS_LEAVES as u64),
        "project metadata: counts and flags only, like `metrics`",
    ),
];

/// A validated error report, as stored and as sent (its JSON is the wire
/// format).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorReport {
    /// The format's version ([`SCHEMA_VERSION`]).
    pub schema: u64,
    /// The report's random id, lower-case UUID.
    pub report_id: String,
    /// The product.
    pub product: String,
    /// The tool's version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// The installation's random id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<String>,
    /// Operating system.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub os: Option<String>,
    /// CPU architecture.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arch: Option<String>,
    /// Language runtime version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runtime: Option<String>,
    /// CI vendor name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ci: Option<String>,
    /// Command path.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
    /// Flag names.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub flags: Vec<String>,
    /// The error's type.
    pub kind: String,
    /// The error's message.
    #[serde(default)]
    pub message: String,
    /// Its causes, outermost first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub chain: Vec<ChainLink>,
    /// Whether it was a panic.
    #[serde(default)]
    pub panic: bool,
    /// The stack, innermost first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub frames: Vec<Frame>,
    /// Project metadata: counts and flags.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub project: Map<String, Value>,
    /// When it happened, RFC 3339 (seconds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub occurred_at: Option<String>,
}

/// One cause of an error.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainLink {
    /// Its type.
    #[serde(default)]
    pub kind: String,
    /// Its message.
    #[serde(default)]
    pub message: String,
}

/// One stack frame.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Frame {
    /// Function name.
    #[serde(default)]
    pub function: String,
    /// Source file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// Line number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    /// Whether it is the tool's own code.
    #[serde(default)]
    pub in_app: bool,
}

/// Why a report was refused whole (nothing is stored).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReportError {
    /// Not JSON.
    #[error("body is not JSON: {0}")]
    NotJson(String),
    /// Not a JSON object.
    #[error("an error report is a JSON object")]
    NotAnObject,
    /// No `schema`, or not an integer.
    #[error("an error report needs \"schema\": {SCHEMA_VERSION}")]
    MissingSchema,
    /// A `schema` this collector does not read.
    #[error("error report schema {0} is not supported; this collector reads schema {SCHEMA_VERSION}")]
    UnsupportedSchema(u64),
    /// No `report_id` in UUID layout.
    #[error("report_id must be a UUID")]
    BadReportId,
    /// No `product` string.
    #[error("an error report needs a \"product\"")]
    MissingProduct,
    /// A malformed product name.
    #[error("invalid product: {0}")]
    BadProduct(#[from] ProductNameError),
    /// No `kind` string.
    #[error("an error report needs a non-empty \"kind\" (the error's type)")]
    MissingKind,
}

/// A decoded report and what was dropped from it.
#[derive(Debug, Clone, PartialEq)]
pub struct Decoded {
    /// The report to store.
    pub report: ErrorReport,
    /// Its product, parsed.
    pub product: ProductName,
    /// Values dropped from it.
    pub dropped: Vec<Dropped>,
}

/// The product a report body names, if it names a valid one: the collector
/// reads it first to pick the product's vocabulary for [`decode`].
///
/// ```
/// let body = br#"{"schema": 1, "product": "demo", "kind": "x"}"#;
/// assert_eq!(sonde_protocol::error_report::product_of(body).unwrap().as_str(), "demo");
/// ```
pub fn product_of(body: &[u8]) -> Option<ProductName> {
    // The same parser and the same rule as `decode` (the first `product` of
    // the object), so a body with a repeated key names the product `decode`
    // stores it under.
    let Json::Object(pairs) = Json::parse(body).ok()? else {
        return None;
    };
    let name = pairs
        .iter()
        .find(|(k, _)| k == "product")
        .and_then(|(_, v)| v.as_str())?;
    ProductName::parse(name).ok()
}

/// Decodes and validates a report body (its size is the caller's to check
/// first). `vocab` is the product's vocabulary (the command path, flags and
/// `project` keys are checked against it); `received_at_ms` bounds
/// `occurred_at` as for events.
///
/// ```
/// use sonde_protocol::{error_report, scrub::Scrubber};
/// let body = br#"{"schema": 1, "report_id": "0190f5e2-7c4a-7d3e-9a1b-0123456789ab", "product": "demo",
///   "kind": "std::io::Error", "message": "cannot open /home/alice/x", "password": "hunter2"}"#;
/// let vocab = sonde_protocol::vocabulary::Vocabulary::new();
/// let d = error_report::decode(body, &Scrubber::new(), &vocab, 1_800_000_000_000).unwrap();
/// assert!(!d.report.message.contains("alice"));
/// assert_eq!(d.dropped.len(), 1); // the unknown field, counted under "*"
/// assert!(d.report.fingerprint().starts_with("v1:"));
/// ```
pub fn decode(
    body: &[u8],
    scrubber: &Scrubber,
    vocab: &Vocabulary,
    received_at_ms: i64,
) -> Result<Decoded, ReportError> {
    let value = Json::parse(body).map_err(|e| ReportError::NotJson(e.to_string()))?;
    let Json::Object(pairs) = value else {
        return Err(ReportError::NotAnObject);
    };
    let field = |name: &str| pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v);
    let schema = field("schema")
        .and_then(Json::as_u64)
        .ok_or(ReportError::MissingSchema)?;
    if !SUPPORTED_SCHEMAS.contains(&schema) {
        return Err(ReportError::UnsupportedSchema(schema));
    }
    let report_id = field("report_id")
        .and_then(Json::as_str)
        .and_then(|s| shapes::signature(s).ok())
        .ok_or(ReportError::BadReportId)?;
    let product = ProductName::parse(
        field("product")
            .and_then(Json::as_str)
            .ok_or(ReportError::MissingProduct)?,
    )?;
    let mut dropped = Vec::new();
    let kind = match field("kind").and_then(Json::as_str) {
        Some(k) if !k.trim().is_empty() => text(scrubber, "kind", k, MAX_KIND_LEN, &mut dropped),
        _ => return Err(ReportError::MissingKind),
    };
    let mut report = ErrorReport {
        schema,
        report_id,
        product: product.as_str().to_owned(),
        version: None,
        signature: None,
        os: None,
        arch: None,
        runtime: None,
        ci: None,
        command: None,
        flags: Vec::new(),
        kind,
        message: String::new(),
        chain: Vec::new(),
        panic: false,
        frames: Vec::new(),
        project: Map::new(),
        occurred_at: None,
    };
    let mut context = Vec::new();
    let mut occurred = None;
    for (key, v) in &pairs {
        match key.as_ref() {
            "schema" | "report_id" | "product" | "kind" => {}
            "message" => match v {
                Json::Null => {}
                Json::Str(s) => report.message = text(scrubber, "message", s, MAX_MESSAGE_LEN, &mut dropped),
                _ => invalid(&mut dropped, "message"),
            },
            "panic" => match v {
                Json::Null => {}
                Json::Bool(b) => report.panic = *b,
                _ => invalid(&mut dropped, "panic"),
            },
            "chain" => report.chain = chain(v, scrubber, &mut dropped),
            "frames" => report.frames = frames(v, scrubber, &mut dropped),
            "occurred_at" => occurred = Some(v.clone()),
            _ => context.push((key.clone(), v.clone())),
        }
    }
    report.occurred_at = crate::native::occurred_at(occurred, received_at_ms, &mut dropped)
        .and_then(|ms| format_rfc3339(ms.div_euclid(1000)));
    let fields = allowlist::validate_with(CONTEXT_FIELDS, &context, &RouteTemplates::new(), vocab, &mut dropped);
    let string = |name: &str| fields.get(name).and_then(Value::as_str).map(str::to_owned);
    report.version = string("version");
    report.signature = string("signature");
    report.os = string("os");
    report.arch = string("arch");
    report.runtime = string("runtime");
    report.ci = string("ci");
    report.command = string("command");
    report.flags = fields
        .get("flags")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).map(str::to_owned).collect())
        .unwrap_or_default();
    if let Some(Value::Object(project)) = fields.get("project") {
        report.project = project.clone();
    }
    Ok(Decoded {
        report,
        product,
        dropped,
    })
}

fn invalid(dropped: &mut Vec<Dropped>, field: &'static str) {
    dropped.push(Dropped {
        field,
        reason: DropReason::InvalidFormat,
    });
}

/// Free text, scrubbed, then cut to `max` bytes (at a character boundary;
/// a cut is counted as `too_long`).
fn text(scrubber: &Scrubber, field: &'static str, s: &str, max: usize, dropped: &mut Vec<Dropped>) -> String {
    let scrubbed = scrubber.scrub(s);
    if scrubbed.len() <= max {
        return scrubbed.into_owned();
    }
    dropped.push(Dropped {
        field,
        reason: DropReason::TooLong,
    });
    let mut end = max;
    while !scrubbed.is_char_boundary(end) {
        end -= 1;
    }
    scrubbed[..end].to_owned()
}

/// The objects of a list field, up to `max`; entries past it, and entries
/// that are not objects, are counted under `field`.
fn objects<'v, 'a>(
    v: &'v Json<'a>,
    field: &'static str,
    max: usize,
    dropped: &mut Vec<Dropped>,
) -> Vec<&'v [(Cow<'a, str>, Json<'a>)]> {
    let items = match v {
        Json::Null => return Vec::new(),
        Json::Array(items) => items,
        _ => {
            invalid(dropped, field);
            return Vec::new();
        }
    };
    let mut out = Vec::new();
    for item in items {
        match item {
            Json::Object(pairs) if out.len() < max => out.push(pairs.as_slice()),
            Json::Object(_) => dropped.push(Dropped {
                field,
                reason: DropReason::TooLong,
            }),
            _ => invalid(dropped, field),
        }
    }
    out
}

fn unknown(dropped: &mut Vec<Dropped>) {
    dropped.push(Dropped {
        field: "*",
        reason: DropReason::UnknownField,
    });
}

fn chain(v: &Json<'_>, scrubber: &Scrubber, dropped: &mut Vec<Dropped>) -> Vec<ChainLink> {
    objects(v, "chain", MAX_CHAIN, dropped)
        .into_iter()
        .map(|pairs| {
            let mut link = ChainLink::default();
            for (k, v) in pairs {
                match (k.as_ref(), v) {
                    (_, Json::Null) => {}
                    ("kind", Json::Str(s)) => link.kind = text(scrubber, "chain", s, MAX_KIND_LEN, dropped),
                    ("message", Json::Str(s)) => link.message = text(scrubber, "chain", s, MAX_MESSAGE_LEN, dropped),
                    ("kind" | "message", _) => invalid(dropped, "chain"),
                    _ => unknown(dropped),
                }
            }
            link
        })
        .collect()
}

fn frames(v: &Json<'_>, scrubber: &Scrubber, dropped: &mut Vec<Dropped>) -> Vec<Frame> {
    objects(v, "frames", MAX_FRAMES, dropped)
        .into_iter()
        .map(|pairs| {
            let mut frame = Frame::default();
            for (k, v) in pairs {
                match (k.as_ref(), v) {
                    (_, Json::Null) => {}
                    ("function", Json::Str(s)) => {
                        frame.function = text(scrubber, "frames", s, MAX_FUNCTION_LEN, dropped);
                    }
                    ("file", Json::Str(s)) => frame.file = Some(text(scrubber, "frames", s, MAX_FILE_LEN, dropped)),
                    ("line", n) => match n.as_u64().and_then(|n| u32::try_from(n).ok()) {
                        Some(line) => frame.line = Some(line),
                        None => invalid(dropped, "frames"),
                    },
                    ("in_app", Json::Bool(b)) => frame.in_app = *b,
                    ("function" | "file" | "in_app", _) => invalid(dropped, "frames"),
                    _ => unknown(dropped),
                }
            }
            frame
        })
        .collect()
}

impl ErrorReport {
    /// The report's group: [`FINGERPRINT_VERSION`], `:`, and 16 hex digits
    /// of a 64-bit FNV-1a hash over the error's `kind` and
    ///
    /// - its first [`FINGERPRINT_FRAMES`] in-app frames, innermost first:
    ///   each frame's function with Rust's hash suffixes (`::h` + 16 hex
    ///   digits) removed ([`normalize_function`]) and its file with `\`
    ///   read as `/`; never line numbers or addresses;
    /// - or, without in-app frames, its message with every number and hex
    ///   run replaced by `#` ([`normalize_message`]).
    ///
    /// ```
    /// use sonde_protocol::error_report::{ErrorReport, Frame};
    /// let frame = |line| Frame { function: "demo::run::h0123456789abcdef".into(), file: Some("src/main.rs".into()), line: Some(line), in_app: true };
    /// let mut a: ErrorReport = serde_json::from_str(r#"{"schema":1,"report_id":"x","product":"demo","kind":"E"}"#).unwrap();
    /// let mut b = a.clone();
    /// a.frames = vec![frame(12)];
    /// b.frames = vec![frame(40)];
    /// assert_eq!(a.fingerprint(), b.fingerprint());
    /// ```
    pub fn fingerprint(&self) -> String {
        let mut h = Fnv::new();
        h.field(self.kind.as_bytes());
        let in_app: Vec<&Frame> = self
            .frames
            .iter()
            .filter(|f| f.in_app)
            .take(FINGERPRINT_FRAMES)
            .collect();
        if in_app.is_empty() {
            h.field(b"message");
            h.field(normalize_message(&self.message).as_bytes());
        } else {
            for frame in in_app {
                h.field(b"frame");
                h.field(normalize_function(&frame.function).as_bytes());
                h.field(frame.file.as_deref().unwrap_or("").replace('\\', "/").as_bytes());
            }
        }
        format!("{FINGERPRINT_VERSION}:{:016x}", h.0)
    }
}

/// A function name without Rust's hash suffixes (`::h` and 16 hex digits,
/// which change with every build); closures (`{{closure}}`) and generic
/// arguments are kept.
///
/// ```
/// use sonde_protocol::error_report::normalize_function;
/// assert_eq!(normalize_function("demo::run::{{closure}}::h0123456789abcdef"), "demo::run::{{closure}}");
/// ```
pub fn normalize_function(function: &str) -> String {
    function
        .split("::")
        .filter(|seg| !(seg.len() == 17 && seg.starts_with('h') && seg[1..].bytes().all(|b| b.is_ascii_hexdigit())))
        .collect::<Vec<_>>()
        .join("::")
}

/// A message with every run of digits, and every word of hex digits that
/// holds a digit (`0x7ffd…`, `3f2a9c`), replaced by `#`, so that counts,
/// ids and addresses do not split a group.
///
/// ```
/// use sonde_protocol::error_report::normalize_message;
/// assert_eq!(normalize_message("row 42 of 0x7ffd3f2a failed after 30s"), "row # of # failed after #s");
/// ```
pub fn normalize_message(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut word = String::new();
    let flush = |word: &mut String, out: &mut String| {
        let hex = word.strip_prefix("0x").unwrap_or(word);
        if !hex.is_empty() && hex.bytes().all(|b| b.is_ascii_hexdigit()) && word.bytes().any(|b| b.is_ascii_digit()) {
            out.push('#');
        } else {
            let mut in_digits = false;
            for c in word.chars() {
                if c.is_ascii_digit() {
                    if !in_digits {
                        out.push('#');
                    }
                    in_digits = true;
                } else {
                    in_digits = false;
                    out.push(c);
                }
            }
        }
        word.clear();
    };
    for c in message.chars() {
        if c.is_alphanumeric() {
            word.push(c);
        } else {
            flush(&mut word, &mut out);
            out.push(c);
        }
    }
    flush(&mut word, &mut out);
    out
}

/// 64-bit FNV-1a: tiny, stable across builds and platforms (a fingerprint
/// is persisted, so std's randomly keyed hasher would not do).
struct Fnv(u64);

impl Fnv {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;

    fn new() -> Self {
        Fnv(Self::OFFSET)
    }

    fn bytes(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 ^= u64::from(b);
            self.0 = self.0.wrapping_mul(Self::PRIME);
        }
    }

    /// One field, followed by a separator that no text holds.
    fn field(&mut self, bytes: &[u8]) {
        self.bytes(bytes);
        self.bytes(&[0xff]);
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const NOW: i64 = 1_797_000_000_000;

    fn dec(v: Value) -> Result<Decoded, ReportError> {
        decode(v.to_string().as_bytes(), &Scrubber::new(), &Vocabulary::new(), NOW)
    }

    fn full() -> Value {
        json!({"schema": 1, "report_id": "0190F5E2-7C4A-7D3E-9A1B-0123456789AB", "product": "demo",
               "version": "1.2.3", "signature": "6799360d-a431-40c5-9f68-24592a9f07df",
               "os": "Linux", "arch": "x86_64", "runtime": "1.89.0", "ci": "GitHub Actions",
               "command": "demo migrate apply ./secret-dir --force", "flags": ["--verbose"],
               "kind": "std::io::Error", "message": "No such file (os error 2)",
               "chain": [{"kind": "demo::Error", "message": "migration failed"}], "panic": true,
               "frames": [{"function": "demo::run::h0123456789abcdef", "file": "src/main.rs", "line": 12, "in_app": true},
                          {"function": "std::rt::lang_start", "in_app": false}],
               "project": {"models": 3, "uses_enums": true, "name": "acme"},
               "occurred_at": "2026-12-07T10:00:00Z"})
    }

    #[test]
    fn a_full_report_is_kept_field_by_field_and_round_trips() {
        let d = dec(full()).unwrap();
        let r = &d.report;
        assert_eq!(r.report_id, "0190f5e2-7c4a-7d3e-9a1b-0123456789ab");
        assert_eq!(r.os.as_deref(), Some("linux"));
        assert_eq!(r.command.as_deref(), Some("demo migrate apply"));
        assert_eq!(r.flags, ["--force", "--verbose"]);
        assert_eq!(r.frames[0].line, Some(12));
        assert_eq!(r.occurred_at.as_deref(), Some("2026-12-07T10:00:00Z"));
        assert_eq!(
            Value::Object(r.project.clone()),
            json!({"models": 3, "uses_enums": true})
        );
        let reasons: Vec<_> = d.dropped.iter().map(|d| (d.field, d.reason)).collect();
        assert_eq!(
            reasons,
            [
                ("command", DropReason::ArgumentValue),
                ("project", DropReason::NotANumber)
            ]
        );
        let again = decode(
            &serde_json::to_vec(r).unwrap(),
            &Scrubber::new(),
            &Vocabulary::new(),
            NOW,
        )
        .unwrap();
        assert_eq!(&again.report, r);
        assert!(again.dropped.is_empty());
    }

    #[test]
    fn refusals_and_limits() {
        let with = |k: &str, v: Value| {
            let mut b = full();
            b[k] = v;
            dec(b)
        };
        assert_eq!(with("schema", json!(2)).unwrap_err(), ReportError::UnsupportedSchema(2));
        assert_eq!(with("schema", json!("1")).unwrap_err(), ReportError::MissingSchema);
        assert_eq!(with("report_id", json!("nope")).unwrap_err(), ReportError::BadReportId);
        assert_eq!(with("kind", json!("")).unwrap_err(), ReportError::MissingKind);
        assert!(matches!(
            with("product", json!("Bad/Name")),
            Err(ReportError::BadProduct(_))
        ));
        let frames: Vec<Value> = (0..70).map(|i| json!({"function": format!("f{i}")})).collect();
        let d = with("frames", json!(frames)).unwrap();
        assert_eq!(d.report.frames.len(), MAX_FRAMES);
        let d = with("message", json!("é".repeat(MAX_MESSAGE_LEN))).unwrap();
        assert!(d.report.message.len() <= MAX_MESSAGE_LEN);
        assert!(d.dropped.contains(&Dropped {
            field: "message",
            reason: DropReason::TooLong
        }));
    }

    #[test]
    fn fingerprint_ignores_lines_hashes_and_numbers_only() {
        let base = dec(full()).unwrap().report;
        let mut moved = base.clone();
        moved.frames[0].line = Some(99);
        moved.frames[0].function = "demo::run::hfedcba9876543210".into();
        moved.frames[1].function = "other".into();
        moved.message = "something else".into();
        assert_eq!(base.fingerprint(), moved.fingerprint());
        let mut elsewhere = base.clone();
        elsewhere.frames[0].function = "demo::apply".into();
        assert_ne!(base.fingerprint(), elsewhere.fingerprint());
        let mut no_frames = base.clone();
        no_frames.frames.clear();
        let mut other_number = no_frames.clone();
        other_number.message = "No such file (os error 17)".into();
        assert_eq!(no_frames.fingerprint(), other_number.fingerprint());
        other_number.message = "Permission denied".into();
        assert_ne!(no_frames.fingerprint(), other_number.fingerprint());
        // Stable across builds and platforms: a persisted value.
        assert_eq!(Fnv::new().0, 0xcbf2_9ce4_8422_2325);
        let mut h = Fnv::new();
        h.bytes(b"a");
        assert_eq!(h.0, 0xaf63_dc4c_8601_ec8c);
    }
}
