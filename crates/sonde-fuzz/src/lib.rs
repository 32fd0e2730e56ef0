//! The bodies of the fuzz targets: each takes arbitrary bytes, runs one
//! decoder of untrusted input exactly as the collector calls it, and checks
//! its invariants (beyond "does not panic"). `fuzz/` (cargo-fuzz, outside the
//! workspace) calls them from libFuzzer; `tests/corpus.rs` replays every
//! committed corpus file through them, so a regression fails `cargo test`
//! without cargo-fuzz.
//!
//! [`seeds`] generates the seed corpus committed under `fuzz/corpus/`.

pub mod seeds;

use std::io::{Cursor, Read, Write};
use std::sync::LazyLock;

use sonde_protocol::routes::{self, RouteTemplates};
use sonde_protocol::scrub::Scrubber;
use sonde_protocol::vocabulary::Vocabulary;
use sonde_protocol::{error_report, hasura, native, CheckQuery, ProductName};
use sonde_versions::{parse_lenient, AffectsRange};

/// The time every decoder is given (2026-01-01T00:00:00Z), so runs repeat.
const NOW_MS: i64 = 1_767_225_600_000;

/// Every target, by the name of its `fuzz/fuzz_targets/<name>.rs` and
/// `fuzz/corpus/<name>/`.
pub const TARGETS: &[&str] = &[
    "checkpoint_query",
    "hasura_envelope",
    "ws_frames",
    "native_batch",
    "error_report",
    "scrubber",
    "semver_range",
];

/// Runs the target called `name` on `data`; `false` for an unknown name.
pub fn run(name: &str, data: &[u8]) -> bool {
    match name {
        "checkpoint_query" => checkpoint_query(data),
        "hasura_envelope" => hasura_envelope(data),
        "ws_frames" => ws_frames(data),
        "native_batch" => native_batch(data),
        "error_report" => error_report(data),
        "scrubber" => scrubber(data),
        "semver_range" => semver_range(data),
        _ => return false,
    }
    true
}

/// The query string of `GET /v1/check/{product}`: parsing and building the
/// usage ping from it. Every known key is at most one `&`-separated pair.
pub fn checkpoint_query(data: &[u8]) {
    let raw = String::from_utf8_lossy(data);
    let q = CheckQuery::parse(&raw);
    let pairs = raw.split('&').filter(|p| !p.is_empty()).count();
    assert!(
        q.unknown_keys <= pairs,
        "{} unknown keys in {pairs} pairs",
        q.unknown_keys
    );
    let product = ProductName::parse("demo").expect("a valid product name");
    let _ = sonde_protocol::UsagePing::from_check(product, &q, Some("fuzz/1.0"), NOW_MS);
}

/// Hasura's built-in route templates, parsed once (as the collector holds
/// them) rather than for every input.
static HASURA_ROUTES: LazyLock<RouteTemplates> = LazyLock::new(|| routes::builtin("hasura"));

/// The Hasura envelope of `POST /v1/http` (and of each WebSocket frame). An
/// event it accepts belongs to the product it was decoded for.
pub fn hasura_envelope(data: &[u8]) {
    let product = ProductName::parse("hasura").expect("a valid product name");
    if let Ok((Some(event), _)) = hasura::decode(data, product.clone(), &HASURA_ROUTES, &Vocabulary::new(), NOW_MS) {
        assert_eq!(event.product, product);
    }
}

/// A byte stream read by the WebSocket frame reader of `/v1/ws`, with the
/// collector's size limits, as the server side; each text message is then
/// decoded as a Hasura envelope, as the collector does.
pub fn ws_frames(data: &[u8]) {
    let config = tungstenite::protocol::WebSocketConfig::default()
        .max_message_size(Some(hasura::MAX_HASURA_BODY))
        .max_frame_size(Some(hasura::MAX_HASURA_BODY));
    let stream = Replay {
        input: Cursor::new(data),
    };
    let mut socket =
        tungstenite::protocol::WebSocket::from_raw_socket(stream, tungstenite::protocol::Role::Server, Some(config));
    // Every message consumes at least one byte of a finite input.
    for _ in 0..=data.len() {
        match socket.read() {
            Ok(tungstenite::Message::Text(text)) => {
                assert!(text.len() <= hasura::MAX_HASURA_BODY);
                hasura_envelope(text.as_bytes());
            }
            Ok(_) => {}
            Err(_) => return,
        }
    }
}

/// The input side of a WebSocket: `data`, then end of stream; what is
/// written back (pongs, closes) is discarded.
struct Replay<'a> {
    input: Cursor<&'a [u8]>,
}

impl Read for Replay<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.input.read(buf)
    }
}

impl Write for Replay<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The native batch of `POST /api/v1/events`: parse, peek the product,
/// decode. Every event and rejection is accounted for, each event is of the
/// batch's product.
pub fn native_batch(data: &[u8]) {
    let Ok(value) = native::parse(data) else {
        return;
    };
    let Ok(product) = native::peek_product(&value) else {
        return;
    };
    let templates = RouteTemplates::new();
    if let Ok(batch) = native::decode(value, &templates, &Vocabulary::new(), NOW_MS) {
        assert_eq!(batch.product, product);
        assert!(batch.events.iter().all(|e| e.product == product));
        assert!(batch.events.len() + batch.rejected.len() <= native::MAX_BATCH_EVENTS);
    }
}

/// The error report of `POST /api/v1/error-reports`. An accepted report is of
/// the product [`error_report::product_of`] peeked, and has a fingerprint.
pub fn error_report(data: &[u8]) {
    let peeked = error_report::product_of(data);
    if let Ok(decoded) = error_report::decode(data, &Scrubber::new(), &Vocabulary::new(), NOW_MS) {
        assert_eq!(Some(&decoded.product), peeked.as_ref());
        assert!(decoded.report.fingerprint().starts_with("v1:"));
    }
}

/// The scrubber, with and without a machine's names: scrubbing is
/// idempotent (what it leaves, a second pass leaves as is).
pub fn scrubber(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    for s in [
        Scrubber::new(),
        Scrubber::with_machine(Some("/home/alice"), Some("alice"), Some("alices-box")),
    ] {
        let once = s.scrub(&text).into_owned();
        let twice = s.scrub(&once);
        assert_eq!(twice, once, "scrubbing {text:?} twice changed it");
    }
}

/// The version range of an alert's `affects` and the lenient version parser.
/// A range parses again from its own text, to the same range.
pub fn semver_range(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let version = parse_lenient(&text);
    if let Ok(range) = AffectsRange::parse(&text) {
        let again = AffectsRange::parse(range.as_str()).expect("a range parses from its own text");
        for v in ["0.0.0", "1.2.3", "2.0.0-rc.1", "10.20.30"] {
            let v = parse_lenient(v).expect("a valid version");
            assert_eq!(range.matches(&v), again.matches(&v));
        }
        if let Some(v) = &version {
            let _ = range.matches(v);
        }
    }
}
