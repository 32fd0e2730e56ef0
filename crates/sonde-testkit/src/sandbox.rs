//! A home of its own for a program that embeds the client library: a
//! temporary `HOME`, XDG cache and config directories and a machine policy
//! path, and the client's state directory in it (spool, uploader lock,
//! ledger) as tests inspect it.

use std::path::PathBuf;
use std::process::Command;

/// A temporary home; removed when dropped.
#[derive(Debug)]
pub struct Sandbox {
    dir: tempfile::TempDir,
}

impl Default for Sandbox {
    fn default() -> Self {
        Self::new()
    }
}

impl Sandbox {
    /// A new sandbox with an empty `home/`; the cache and config
    /// directories are left for the program to make, as on a new machine.
    pub fn new() -> Self {
        let dir = tempfile::tempdir().expect("temporary sandbox");
        std::fs::create_dir_all(dir.path().join("home")).expect("sandbox home");
        Sandbox { dir }
    }

    /// The sandbox's root (the working directory of its commands).
    pub fn root(&self) -> PathBuf {
        self.dir.path().to_owned()
    }

    /// `HOME`.
    pub fn home(&self) -> PathBuf {
        self.dir.path().join("home")
    }

    /// `XDG_CACHE_HOME`.
    pub fn cache(&self) -> PathBuf {
        self.dir.path().join("cache")
    }

    /// `XDG_CONFIG_HOME`.
    pub fn config(&self) -> PathBuf {
        self.dir.path().join("config")
    }

    /// `$XDG_CACHE_HOME/sonde`: must not exist while telemetry is off.
    pub fn sonde_cache(&self) -> PathBuf {
        self.cache().join("sonde")
    }

    /// The client's state directory for `product`.
    pub fn state(&self, product: &str) -> PathBuf {
        self.sonde_cache().join(product)
    }

    /// `SONDE_POLICY_FILE`: where the machine policy is looked for.
    pub fn policy_file(&self) -> PathBuf {
        self.dir.path().join("policy.json")
    }

    /// `program` with a clean environment (see [`crate::command::clean`]) and
    /// this sandbox's `HOME`, XDG directories and policy path, run in its root.
    pub fn command(&self, program: &str) -> Command {
        let mut c = crate::command::clean(program);
        c.env("HOME", self.home())
            .env("XDG_CACHE_HOME", self.cache())
            .env("XDG_CONFIG_HOME", self.config())
            .env("SONDE_POLICY_FILE", self.policy_file())
            .current_dir(self.dir.path());
        c
    }

    /// The queued items in `product`'s spool (hidden temporary files aside).
    pub fn spool_items(&self, product: &str) -> Vec<PathBuf> {
        let Ok(rd) = std::fs::read_dir(self.state(product).join("spool")) else {
            return Vec::new();
        };
        rd.flatten()
            .map(|e| e.path())
            .filter(|p| {
                p.extension().is_some_and(|e| e == "json")
                    && !p.file_name().is_some_and(|n| n.to_string_lossy().starts_with('.'))
            })
            .collect()
    }

    /// Whether an uploader of `product` holds its lock right now.
    pub fn uploader_running(&self, product: &str) -> bool {
        let Ok(f) = std::fs::OpenOptions::new()
            .write(true)
            .open(self.state(product).join("uploader.lock"))
        else {
            return false;
        };
        f.try_lock().is_err()
    }

    /// Whether `product`'s spool is empty and no uploader runs.
    pub fn drained(&self, product: &str) -> bool {
        self.spool_items(product).is_empty() && !self.uploader_running(product)
    }

    /// Waits (bounded) until `product`'s spool is drained.
    pub fn wait_drained(&self, product: &str) {
        crate::wait::until("the spool to drain", || self.drained(product));
    }
}
