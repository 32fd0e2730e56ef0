//! The checkpoint usage ping: `GET {endpoint}/v1/check/{product}?…` with the
//! seed fields, as Sonde's own client sends it.

use crate::identity::Identity;
use crate::layout;
use crate::spool::QueuedRequest;
use crate::state;

/// The compiler that built the library (`rustc 1.95.0`), the default runtime version.
pub const RUSTC_VERSION: &str = env!("SONDE_RUSTC_VERSION");

/// The coalescing key of the ping in the spool: at most one ping is queued.
pub(crate) const PING_KEY: &str = "check";

/// What goes into a ping besides the identity.
#[derive(Debug, Clone)]
pub(crate) struct PingFields<'a> {
    pub(crate) product: &'a str,
    pub(crate) version: &'a str,
    pub(crate) runtime_version: &'a str,
    pub(crate) project: Option<&'a std::path::Path>,
}

/// Builds the queued request of a ping. CI is detected only here, when a
/// ping is actually due.
pub(crate) fn build(fields: &PingFields<'_>, id: &Identity, now: u64) -> QueuedRequest {
    let ci = crate::ci::detect();
    let mut q = form_urlencoded::Serializer::new(String::new());
    q.append_pair("version", fields.version);
    q.append_pair("arch", std::env::consts::ARCH);
    q.append_pair("os", std::env::consts::OS);
    q.append_pair("runtime_version", fields.runtime_version);
    q.append_pair("signature", &id.signature);
    q.append_pair("ci", if ci.ci { "true" } else { "false" });
    if let Some(name) = ci.name {
        q.append_pair("ci_name", name);
    }
    if let Some(project) = fields.project {
        let canonical = project.canonicalize().unwrap_or_else(|_| project.to_path_buf());
        q.append_pair("project_hash", &id.keyed_hash(canonical.as_os_str().as_encoded_bytes()));
    }
    q.append_pair("local_timestamp", &state::rfc3339(now));
    let mut item = QueuedRequest::get(format!("/v1/check/{}?{}", fields.product, q.finish())).with_key(PING_KEY);
    item.save_answer_as = Some(layout::CHECK_ANSWER.to_owned());
    item
}

#[cfg(test)]
mod tests {
    use super::*;
    use sonde_protocol::{CheckQuery, ProductName, UsagePing};

    #[test]
    fn the_ping_passes_the_collectors_validation_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let state = crate::state::StateDir::new(dir.path().to_path_buf());
        let id = Identity::load_or_create(&state).unwrap();
        let fields = PingFields {
            product: "mytool",
            version: "1.2.3",
            runtime_version: RUSTC_VERSION,
            project: Some(dir.path()),
        };
        let item = build(&fields, &id, 1_700_000_000);
        assert_eq!(item.method, "GET");
        let (path, query) = item.path.split_once('?').unwrap();
        assert_eq!(path, "/v1/check/mytool");
        let q = CheckQuery::parse(query);
        assert_eq!(q.unknown_keys, 0);
        let (ping, dropped) = UsagePing::from_check(ProductName::parse("mytool").unwrap(), &q, Some("sonde/0.1.0"), 0);
        assert_eq!(dropped, []);
        assert_eq!(ping.signature.as_deref(), Some(id.signature.as_str()));
        assert_eq!(ping.version.as_deref(), Some("1.2.3"));
        assert!(ping.project_hash.is_some());
        assert!(ping.runtime_version.unwrap().starts_with("rustc "));
        assert!(
            !item.path.contains(dir.path().to_str().unwrap()),
            "the path itself is never sent"
        );
    }
}
