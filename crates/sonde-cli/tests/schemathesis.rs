//! schemathesis against the real `sonde serve` and its own `/openapi.json`
//! (`scripts/schemathesis`, docs/testing.md): no 5xx, no status, body,
//! content type or header outside the document, invalid requests refused,
//! and a clean exit on SIGTERM afterwards.

use std::path::Path;

use sonde_testkit::command::{clean, describe};

#[test]
fn schemathesis_finds_no_server_error_and_nothing_outside_the_document() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut cmd = clean("bash");
    cmd.arg(root.join("scripts/schemathesis"))
        .env("SONDE_BIN", env!("CARGO_BIN_EXE_sonde"))
        // pip and pyenv's python3 (for a first install) look under HOME.
        .env("HOME", std::env::var_os("HOME").unwrap_or_default());
    let out = cmd.output().expect("run scripts/schemathesis");
    let tail = |s: &[u8]| {
        let text = String::from_utf8_lossy(s);
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(150)..].join("\n")
    };
    assert!(
        out.status.success(),
        "scripts/schemathesis failed: {}\n--- stdout (tail)\n{}\n--- stderr (tail)\n{}",
        out.status,
        tail(&out.stdout),
        tail(&out.stderr)
    );
    // Every operation of the document was tested ("Selected: 29/29", "Tested: 29").
    let stdout = String::from_utf8_lossy(&out.stdout);
    let field = |name: &str| -> String {
        stdout
            .lines()
            .find_map(|l| l.trim().strip_prefix(name))
            .unwrap_or_else(|| panic!("no {name} in the summary:\n{}", describe(&out)))
            .trim()
            .to_owned()
    };
    let selected = field("Selected:");
    let total = selected.rsplit('/').next().expect("n/total");
    assert_eq!(
        field("Tested:"),
        total,
        "every operation was tested:\n{}",
        describe(&out)
    );
}
