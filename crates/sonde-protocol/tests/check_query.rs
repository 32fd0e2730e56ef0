//! `CheckQuery::parse` against the reference form-urlencoded parser
//! (`form_urlencoded`), on queries with every encoding corner: `+`, `%XX`,
//! malformed escapes, invalid UTF-8, empty pairs and values, keys without
//! `=`, encoded keys and repeated keys.

use std::borrow::Cow;

use sonde_protocol::CheckQuery;

/// The fields of `q` that hold one value, by key, in a fixed order.
fn scalars<'q>(q: &'q CheckQuery<'_>) -> Vec<(&'static str, Option<&'q str>)> {
    let f = |v: &'q Option<Cow<'_, str>>| v.as_deref();
    vec![
        ("arch", f(&q.arch)),
        ("os", f(&q.os)),
        ("signature", f(&q.signature)),
        ("version", f(&q.version)),
        ("checkpoint_version", f(&q.checkpoint_version)),
        ("local_timestamp", f(&q.local_timestamp)),
        ("information", f(&q.information)),
        ("command", f(&q.command)),
        ("client_event_id", f(&q.client_event_id)),
        ("previous_client_event_id", f(&q.previous_client_event_id)),
        ("project_hash", f(&q.project_hash)),
        ("cli_path_hash", f(&q.cli_path_hash)),
        ("runtime_version", f(&q.runtime_version)),
        ("ci", f(&q.ci)),
        ("ci_name", f(&q.ci_name)),
        ("cli_install_type", f(&q.cli_install_type)),
        ("check_if_update_available", f(&q.check_if_update_available)),
    ]
}

/// What the reference parser gives for the same fields: the first value of
/// each key (`node_version` and `runtime_version` share one field).
/// Each scalar field's name and first value.
type Scalars = Vec<(&'static str, Option<String>)>;

fn reference(raw: &str) -> (Scalars, Vec<String>, usize) {
    let pairs: Vec<(String, String)> = form_urlencoded::parse(raw.as_bytes()).into_owned().collect();
    let first = |keys: &[&str]| {
        pairs
            .iter()
            .find(|(k, _)| keys.contains(&k.as_str()))
            .map(|(_, v)| v.clone())
    };
    let names = [
        "arch",
        "os",
        "signature",
        "version",
        "checkpoint_version",
        "local_timestamp",
        "information",
        "command",
        "client_event_id",
        "previous_client_event_id",
        "project_hash",
        "cli_path_hash",
        "runtime_version",
        "ci",
        "ci_name",
        "cli_install_type",
        "check_if_update_available",
    ];
    let scalars = names
        .iter()
        .map(|&n| {
            let keys: &[&str] = if n == "runtime_version" {
                &["node_version", "runtime_version"]
            } else {
                &[n]
            };
            (n, first(keys))
        })
        .collect();
    let providers = pairs
        .iter()
        .filter(|(k, _)| k == "schema_providers")
        .map(|(_, v)| v.clone())
        .collect();
    let others = [
        "node_version",
        "product",
        "schema_providers",
        "schema_preview_features",
        "schema_generators_providers",
    ];
    let known = |k: &str| names.contains(&k) || others.contains(&k);
    let unknown = pairs.iter().filter(|(k, _)| !known(k)).count();
    (scalars, providers, unknown)
}

#[test]
fn parses_like_the_reference_form_decoder() {
    let queries = [
        "",
        "&&&",
        "os=linux&arch=amd64&version=1.5.6&signature=7f0f5d2e-8c4b-4b9e-9b7e-0d1c2b3a4f5e",
        "arch=x64&os=darwin&version=5.1.0&node_version=v20.20.2&ci=&ci_name=&schema_providers=sqlite&schema_providers=postgresql&schema_preview_features=&information=&local_timestamp=2024-11-05T12%3A00%3A00Z&project_hash=a1b2c3d4&cli_path_hash=deadbeef&command=generate&client_event_id=c9f1&previous_client_event_id=&check_if_update_available=true",
        "ci_name=GitHub+Actions&information=a%20b+c%2Bd",
        "version=%31.%32.3&os=li%6Eux",
        "client_event_id=%&local_timestamp=%4&command=%zz&information=100%25",
        "information=%FF%FE&command=%E2%82%AC&ci_name=%F0%9F%A6%80",
        "os&arch=&version==1.0.0&signature=a=b",
        "%6Fs=encoded-key&o%73=second&os=third",
        "ver+sion=space-key&version=1.0.0&version=2.0.0",
        "runtime_version=first&node_version=second",
        "mystery=1&password=hunter2&product=other&schema_generators_providers=x&schema_other=y",
        "=&=value&&key_only",
    ];
    for raw in queries {
        let q = CheckQuery::parse(raw);
        let (want, providers, unknown) = reference(raw);
        let got: Scalars = scalars(&q)
            .into_iter()
            .map(|(k, v)| (k, v.map(str::to_owned)))
            .collect();
        assert_eq!(got, want, "query {raw:?}");
        assert_eq!(q.schema_providers, providers, "query {raw:?}");
        assert_eq!(q.unknown_keys, unknown, "query {raw:?}");
    }
}

#[test]
fn common_values_borrow_from_the_query() {
    let raw = "os=linux&version=1.5.6&ci_name=GitHub+Actions";
    let q = CheckQuery::parse(raw);
    assert!(matches!(q.os, Some(Cow::Borrowed("linux"))));
    assert!(matches!(q.version, Some(Cow::Borrowed("1.5.6"))));
    assert!(matches!(q.ci_name.as_deref(), Some("GitHub Actions")));
    assert!(matches!(q.ci_name, Some(Cow::Owned(_))));
}
