//! `sonde serve` whose data directory is a small tmpfs, mounted in a private
//! mount namespace (`unshare --user --map-root-user --mount`), so a test can
//! fill the disk under it without touching the machine's mounts.
//!
//! The mount is seen only from inside the namespace; the test reaches it
//! through `/proc/<pid>/root` of the collector (the namespace's owner may),
//! where it fills the disk and frees it. SQLite cannot open a database there
//! (it resolves the `/proc/<pid>/root` link to `/`, the test's own root), so
//! [`snapshot`] copies the database and its write-ahead log out while the
//! collector is idle, and the test opens the copy.
//!
//! Needs unprivileged user namespaces (or root), as the client's full-disk
//! test does; [`serve`] panics with that hint when `unshare` fails.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::serve::Serve;

/// The file [`fill`] writes.
const FILLER: &str = "filler";

/// Starts `<sonde> serve` on a free loopback port with `data_dir` (which
/// must exist, and is left empty) mounted as a tmpfs of `size` (`4m`, ...).
pub fn serve(sonde: &str, data_dir: &Path, size: &str, extra: &[&str]) -> Serve {
    std::fs::create_dir_all(data_dir).expect("create the mount point");
    let mut cmd = crate::command::clean("unshare");
    cmd.args(["--user", "--map-root-user", "--mount", "sh", "-c"])
        .arg(
            "set -e; mount -t tmpfs -o size=\"$SIZE\" sonde-disk-full-test \"$DATA\"; \
             exec \"$SONDE\" serve --listen 127.0.0.1:0 --data-dir \"$DATA\" \"$@\"",
        )
        .arg("sh")
        .args(extra)
        .env("SIZE", size)
        .env("DATA", data_dir)
        .env("SONDE", sonde)
        .env("RUST_LOG", "info");
    Serve::spawn(cmd)
}

/// `path` as the process `pid` sees it (inside its mount namespace).
pub fn seen_by(pid: u32, path: &Path) -> PathBuf {
    let relative = path.strip_prefix("/").unwrap_or(path);
    PathBuf::from(format!("/proc/{pid}/root")).join(relative)
}

/// Fills the file system holding `dir` with one file until a write fails
/// for lack of space; returns the bytes written.
pub fn fill(dir: &Path) -> u64 {
    let mut f = File::create(dir.join(FILLER)).expect("create the filler");
    let block = vec![0u8; 4096];
    let mut written = 0u64;
    loop {
        match f.write(&block) {
            Ok(0) => break,
            Ok(n) => written += n as u64,
            Err(e) if e.raw_os_error() == Some(28) => break,
            Err(e) => panic!("filling {}: {e}", dir.display()),
        }
    }
    // What the page cache held back fails here, or not at all.
    let _ = f.sync_all();
    written
}

/// Removes what [`fill`] wrote.
pub fn free(dir: &Path) {
    std::fs::remove_file(dir.join(FILLER)).expect("remove the filler");
}

/// Copies `sonde.db` and `sonde.db-wal` from `inside` (a data directory as
/// [`seen_by`] names it) into `into`: the database as a reader would find it
/// once the write-ahead log is replayed. Take it while nothing writes.
pub fn snapshot(inside: &Path, into: &Path) {
    std::fs::create_dir_all(into).expect("create the snapshot directory");
    let _ = std::fs::remove_file(into.join("sonde.db-shm"));
    for name in ["sonde.db", "sonde.db-wal"] {
        let _ = std::fs::remove_file(into.join(name));
        if inside.join(name).exists() {
            std::fs::copy(inside.join(name), into.join(name))
                .unwrap_or_else(|e| panic!("copy {name} out of the tmpfs: {e}"));
        }
    }
}
