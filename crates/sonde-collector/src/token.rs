//! The admin token: 32 random bytes, hex, created on first start in
//! `<data-dir>/admin-token` with mode 0600, and compared in constant time.

use std::io::Write;
use std::path::{Path, PathBuf};

use subtle::ConstantTimeEq;

use crate::CollectorError;

/// The token file's name inside the data directory.
pub const TOKEN_FILE: &str = "admin-token";

/// The token file of `data_dir`.
pub fn token_path(data_dir: &Path) -> PathBuf {
    data_dir.join(TOKEN_FILE)
}

/// Reads the admin token, creating it (mode 0600) if the file does not exist.
pub fn load_or_create(data_dir: &Path) -> Result<String, CollectorError> {
    let path = token_path(data_dir);
    let err = |source: std::io::Error| CollectorError::Token {
        path: path.clone(),
        source,
    };
    match std::fs::read_to_string(&path) {
        Ok(s) => {
            let token = s.trim().to_owned();
            if token.len() < 32 {
                return Err(CollectorError::TokenTooShort(path));
            }
            restrict_mode(&path);
            return Ok(token);
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(err(e)),
    }
    std::fs::create_dir_all(data_dir).map_err(err)?;
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|source| CollectorError::TokenRandomness {
        path: path.clone(),
        source,
    })?;
    let token: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    match options.open(&path) {
        Ok(mut f) => {
            f.write_all(format!("{token}\n").as_bytes()).map_err(err)?;
            f.sync_all().map_err(err)?;
            Ok(token)
        }
        // Another process created it first: use theirs.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => load_or_create(data_dir),
        Err(e) => Err(err(e)),
    }
}

/// A token file readable by others is made private again (mode 0600).
fn restrict_mode(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(meta) = std::fs::metadata(path) {
            if meta.permissions().mode() & 0o077 != 0 {
                tracing::warn!(path = %path.display(), "the admin token file was readable by others; setting mode 0600");
                let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600));
            }
        }
    }
    #[cfg(not(unix))]
    let _ = path;
}

/// Compares a presented token with the real one in constant time.
pub fn token_matches(presented: &str, actual: &str) -> bool {
    presented.as_bytes().ct_eq(actual.as_bytes()).into()
}
