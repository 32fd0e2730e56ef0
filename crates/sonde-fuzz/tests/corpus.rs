//! Replays every committed corpus file under `fuzz/corpus/<target>/` (the
//! generated seeds, crashes fixed since, inputs a longer run kept) through
//! the fuzz targets' bodies, so a regression fails `cargo test` without
//! cargo-fuzz; checks the seeds are committed as [`seeds`] generates them, and
//! that `scripts/fuzz` (CI's bounded fuzzing) has a number of inputs for every
//! target.
//!
//! `SONDE_FUZZ_WRITE_SEEDS=1 cargo test -p sonde-fuzz` (re)writes the seeds.

use std::path::{Path, PathBuf};

use sonde_fuzz::seeds::seeds;
use sonde_fuzz::{run, TARGETS};

fn corpus_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus")
}

#[test]
fn the_seed_corpus_is_committed_as_generated() {
    let write = std::env::var_os("SONDE_FUZZ_WRITE_SEEDS").is_some_and(|v| v == "1");
    let all = seeds();
    for target in TARGETS {
        assert!(all.iter().any(|s| s.target == *target), "no seed for {target}");
    }
    for s in all {
        assert!(TARGETS.contains(&s.target), "seed for unknown target {}", s.target);
        let path = corpus_root().join(s.target).join(&s.name);
        if write {
            std::fs::create_dir_all(path.parent().expect("a directory")).expect("create the corpus directory");
            std::fs::write(&path, &s.bytes).expect("write the seed");
        }
        let committed = std::fs::read(&path)
            .unwrap_or_else(|e| panic!("{}: {e} (run with SONDE_FUZZ_WRITE_SEEDS=1)", path.display()));
        assert_eq!(committed, s.bytes, "{} differs from its generator", path.display());
    }
}

#[test]
fn every_committed_corpus_file_passes_its_target() {
    let mut replayed = 0;
    for target in TARGETS {
        let dir = corpus_root().join(target);
        let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|e| e.expect("a directory entry").path())
            .filter(|p| p.is_file())
            .collect();
        files.sort();
        assert!(!files.is_empty(), "{} is empty", dir.display());
        for file in files {
            let data = std::fs::read(&file).expect("a corpus file");
            let outcome = std::panic::catch_unwind(|| run(target, &data));
            match outcome {
                Ok(known) => assert!(known, "{target} is not a target"),
                Err(_) => panic!("{target} fails on {}", file.display()),
            }
            replayed += 1;
        }
    }
    assert!(replayed >= TARGETS.len());
}

#[test]
fn the_fuzz_directory_has_one_target_per_body() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/fuzz_targets");
    let mut found: Vec<String> = std::fs::read_dir(&dir)
        .expect("fuzz/fuzz_targets")
        .map(|e| e.expect("entry").path())
        .filter_map(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .collect();
    found.sort();
    let mut expected: Vec<String> = TARGETS.iter().map(|t| (*t).to_owned()).collect();
    expected.sort();
    assert_eq!(found, expected);
    for target in TARGETS {
        let text = std::fs::read_to_string(dir.join(format!("{target}.rs"))).expect("target source");
        assert!(
            text.contains(&format!("sonde_fuzz::{target}(data)")),
            "fuzz/fuzz_targets/{target}.rs calls sonde_fuzz::{target}"
        );
    }
}

#[test]
fn scripts_fuzz_gives_every_target_a_bounded_run() {
    let script = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/fuzz"))
        .expect("scripts/fuzz");
    for target in TARGETS {
        let entry = format!("[{target}]=");
        let line = script
            .lines()
            .find(|l| l.trim_start().starts_with(&entry))
            .unwrap_or_else(|| panic!("scripts/fuzz has no RUNS entry for {target}"));
        let runs: u64 = line.trim_start()[entry.len()..]
            .trim()
            .parse()
            .unwrap_or_else(|e| panic!("scripts/fuzz: RUNS of {target}: {e}"));
        assert!(runs > 0, "scripts/fuzz runs {target} on no input");
    }
}
