//! The privacy detectors and the scrubber against a table of planted values
//! (each must be found, and gone after scrubbing) and of ordinary values
//! (each must pass unchanged).

use sonde_protocol::privacy::{find_identifying, find_spans, PrivacyHit};
use sonde_protocol::scrub::Scrubber;

use PrivacyHit::*;

/// Values that identify someone or leak a secret, with what they are.
const PLANTED: &[(&str, PrivacyHit)] = &[
    // E-mail and logins.
    ("alice@example.com", Email),
    ("ci by Bob.Smith+ci@corp.example.co.uk today", Email),
    ("user=ops@sonde.dev;", Email),
    ("root@prodbox", UserAtHost),
    ("deploy as admin@build-server", UserAtHost),
    // IPv4 in every notation.
    ("192.168.1.20", IpAddress),
    ("010.213.047.198", IpAddress),
    ("0322.0325.057.0306", IpAddress),
    ("0xd2.0xd5.0x2f.0xc6", IpAddress),
    ("3520061382", IpAddress),
    ("0xD1D52FC6", IpAddress),
    ("10.0.0.12:8080", IpAddress),
    ("1.0.0+10.1.2.3", IpAddress),
    // IPv6.
    ("fe80::1ff:fe23:4567:890a", IpAddress),
    ("2001:db8::8a2e:370:7334", IpAddress),
    ("::1", IpAddress),
    ("[2001:db8::1]:443", IpAddress),
    ("fe80::1%eth0", IpAddress),
    ("::ffff:10.0.0.1", IpAddress),
    ("2001:0db8:0000:0000:0000:ff00:0042:8329", IpAddress),
    // URLs and connection strings.
    ("https://user:pw@host/x", Url),
    ("see http://internal-wiki/page?id=3", Url),
    ("ftp://files.example.org/pub", Url),
    ("postgres://u:p@db:5432/app", ConnectionString),
    ("postgresql://app@10.1.1.1/prod", ConnectionString),
    ("mysql://root:toor@localhost/shop", ConnectionString),
    ("mongodb+srv://admin:pw@cluster0.mongodb.net/db", ConnectionString),
    ("redis://:secret@cache:6379/0", ConnectionString),
    ("sqlserver://sa:Passw0rd@mssql:1433", ConnectionString),
    ("jdbc:postgresql://db.prod:5432/orders", ConnectionString),
    // Host names.
    ("build-7.corp.example.com", Hostname),
    ("alices-macbook.local", Hostname),
    ("db.internal", Hostname),
    ("nas.lan", Hostname),
    ("DESKTOP-7QK2M9A", Hostname),
    ("LAPTOP-AB12CD3", Hostname),
    ("DESKTOP-7QK2M", Hostname),
    ("v1+www.example.org", Hostname),
    // Home paths.
    ("/home/alice/project", HomePath),
    ("/Users/bob/Library", HomePath),
    ("C:\\Users\\bob\\app", HomePath),
    ("~alice/projects/app", HomePath),
    ("/root/.ssh", HomePath),
    // Database files.
    ("./prisma/dev.db", DatabasePath),
    ("data/app.sqlite", DatabasePath),
    ("/var/lib/app/store.sqlite3", DatabasePath),
    ("C:\\data\\orders.mdb", DatabasePath),
    // Secrets by shape.
    ("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.abc", Secret),
    ("-----BEGIN PRIVATE KEY-----\nMIIEv\n-----END PRIVATE KEY-----", Secret),
    ("AKIAIOSFODNN7EXAMPLE", Secret),
    ("1.0.0+AKIAIOSFODNN7EXAMPLE", Secret),
    ("ASIAY34FZKBOKMUTVV7A", Secret),
    ("ghp_abcdefghijklmnopqrstuvwxyz012345", Secret),
    ("gho_16C7e42F292c6912E7710c838347Ae178B4a", Secret),
    ("github_pat_11ABCDEFG0123456789_abcdefghijklmnop", Secret),
    ("Open/glpat-xxxxxxxxxxxxxxxxxxxx", Secret),
    ("xoxb-123456789012-abcdefghij", Secret),
    ("sk_live_4eC39HqLyjWDarjtT1zdp7dc", Secret),
    ("AIzaSyDaGmWKa4JsXZ-HjGw7ISLn_3namBGewQe", Secret),
    ("npm_abcdefghijklmnopqrstuvwxyz0123456789", Secret),
    ("Bearer abc123def456ghi789", Secret),
    ("da39a3ee5e6b4b0d3255bfef95601890afd80709", Secret),
    (
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        Secret,
    ),
    ("dGhpcyBpcyBhIHNlY3JldCB0b2tlbiAxMjM0NTY3OA==", Secret),
    // Personal numbers.
    ("4111 1111 1111 1111", CardNumber),
    ("5500-0000-0000-0004", CardNumber),
    ("378282246310005", CardNumber),
    ("GB82WEST12345698765432", Iban),
    ("DE89 3704 0044 0532 0130 00", Iban),
    ("00:1a:2b:3c:4d:5e", MacAddress),
    ("00-1A-2B-3C-4D-5E", MacAddress),
    ("001a.2b3c.4d5e", MacAddress),
    ("+1 415 555 2671", PhoneNumber),
    ("+442079460958", PhoneNumber),
    ("call (415) 555-2671", PhoneNumber),
    ("415-555-2671", PhoneNumber),
    ("078-05-1120", Ssn),
];

/// Values that must pass the detectors and the scrubber unchanged.
const ORDINARY: &[&str] = &[
    "1.2.3",
    "v2.0.0-rc.1",
    "2.38.0-beta.1+build.5",
    "v1.0.0-alpha36",
    "1.2.3.4.5",
    "10.0.19045",
    "linux",
    "darwin",
    "windows",
    "amd64",
    "x86_64",
    "aarch64",
    "arm64",
    "GitHub Actions",
    "GitLab CI",
    "Azure Pipelines",
    "relationships.manual.object",
    "permissions.roles",
    "event_triggers",
    "/data/schema/SCHEMA_NAME/tables/TABLE_NAME/modify",
    "/users/:id",
    "core::option::Option",
    "std::io::Error",
    "src/main.rs:12",
    "No such file or directory (os error 2)",
    "--force",
    "--admin-secret",
    "hasura migrate apply",
    "ModifyTable/RESET",
    "PostgreSQL 15.2 on x86_64-pc-linux-gnu, compiled by gcc (Debian 10.2.1-6) 10.2.1 20210110, 64-bit",
    "rustc 1.95.0",
    "called `Option::unwrap()` on a `None` value",
    "thread 'main' panicked at crates/sonde/src/lib.rs:42:5",
    "0b3f4c4e-1d2a-4c3b-8f00-0123456789ab",
    "took 1534 ms",
];

#[test]
fn planted_values_are_found_and_scrubbed() {
    assert!(PLANTED.len() >= 60);
    let scrubber = Scrubber::new();
    for &(value, kind) in PLANTED {
        assert_eq!(find_identifying(value), Some(kind), "{value:?}");
        let spans = find_spans(value);
        assert!(!spans.is_empty(), "{value:?}");
        let scrubbed = scrubber.scrub(value);
        assert!(
            scrubbed.contains(&format!("[redacted:{}]", kind.as_str())),
            "{value:?} -> {scrubbed:?}"
        );
        assert_eq!(find_identifying(&scrubbed), None, "{value:?} -> {scrubbed:?}");
        assert_eq!(scrubber.scrub(&scrubbed), scrubbed, "idempotent: {value:?}");
    }
}

#[test]
fn every_kind_is_planted() {
    for kind in PrivacyHit::ALL {
        assert!(PLANTED.iter().any(|&(_, k)| k == kind), "{kind:?}");
    }
}

#[test]
fn ordinary_values_are_kept() {
    assert!(ORDINARY.len() >= 25);
    let scrubber = Scrubber::new();
    for &value in ORDINARY {
        assert_eq!(find_spans(value), [], "{value:?}");
        assert_eq!(scrubber.scrub(value), value, "{value:?}");
    }
}

#[test]
fn planted_values_are_found_inside_longer_text() {
    for &(value, kind) in PLANTED {
        let text = format!("error: {value} (retry)");
        let spans = find_spans(&text);
        assert!(spans.iter().any(|s| s.hit == kind), "{text:?}: {spans:?}");
    }
}

#[test]
fn tilde_paths_are_dropped_from_fields_but_kept_by_the_scrubber() {
    // In a field, `~/x` says where a user keeps things: dropped. In free
    // text it is what the scrubber writes for this machine's home, so it
    // stays (it names no one).
    assert_eq!(find_identifying("~/projects/app"), Some(HomePath));
    assert_eq!(Scrubber::new().scrub("at ~/projects/app"), "at ~/projects/app");
}

#[test]
fn keyed_secrets_lose_their_values() {
    let s = Scrubber::new();
    for (text, want) in [
        ("password=hunter2 next", "password=[redacted:secret] next"),
        (r#"{"api_key": "abc def"}"#, r#"{"api_key": "[redacted:secret]"}"#),
        ("token: tiny", "token: [redacted:secret]"),
        ("Authorization: Bearer xyz", "Authorization: Bearer [redacted:secret]"),
        ("DB_PASSWORD='p w'", "DB_PASSWORD='[redacted:secret]'"),
        ("x-api-key=k1&y=2", "x-api-key=[redacted:secret]&y=2"),
        ("cookie: sid=abc", "cookie: [redacted:secret]"),
    ] {
        assert_eq!(s.scrub(text), want, "{text}");
        assert_eq!(s.scrub(want), want, "idempotent: {want}");
    }
    // A Rust path through a module named like a key is not a key and value.
    for path in ["acme::auth::load", "app::session::Store::open", "crate::token::check()"] {
        assert_eq!(s.scrub(path), path);
    }
}

#[test]
fn this_machine_is_replaced() {
    let s = Scrubber::with_machine(Some("/home/alice"), Some("alice"), Some("alices-box.example.com"));
    let text = "opened /home/alice/app/config.toml as alice on alices-box.example.com (alices-box)";
    assert_eq!(s.scrub(text), "opened ~/app/config.toml as <user> on <host> (<host>)");
    let win = Scrubber::with_machine(Some("C:\\Users\\Bob"), Some("Bob"), Some("DESKTOP-7QK2M9A"));
    assert_eq!(
        win.scrub("C:\\Users\\Bob\\src\\main.rs on DESKTOP-7QK2M9A by bob"),
        "~\\src\\main.rs on <host> by <user>"
    );
    // The machine this test runs on: whatever it is, its names go.
    let here = Scrubber::for_this_machine();
    if let Ok(home) = std::env::var("HOME") {
        if home.len() > 1 {
            let text = format!("{home}/x");
            assert_eq!(here.scrub(&text), "~/x");
        }
    }
}
