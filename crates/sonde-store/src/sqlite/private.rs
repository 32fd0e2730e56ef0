//! The data directory and the database files are private to their owner:
//! the directory mode 0700, `sonde.db` and its `-wal` and `-shm` files mode
//! 0600, whatever the umask. The database file is created with that mode
//! before SQLite opens it (SQLite gives the `-wal` and `-shm` files the
//! database file's mode), and files that already exist are tightened.
//!
//! Elsewhere than Unix, files keep the permissions the directory they are
//! created in gives them (on Windows, the ACLs inherited from the parent).

use std::path::Path;

/// Creates `dir` (and its parents) and makes it mode 0700 on Unix.
pub fn create_dir(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        std::fs::DirBuilder::new().recursive(true).mode(0o700).create(dir)?;
        restrict(dir, 0o700)?;
    }
    #[cfg(not(unix))]
    std::fs::create_dir_all(dir)?;
    Ok(())
}

/// Creates the database file `db` with mode 0600 if it does not exist, and
/// makes it and its `-wal` and `-shm` files (those that exist) mode 0600.
pub(crate) fn prepare_db_file(db: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .mode(0o600)
            .open(db)?;
        for suffix in ["", "-wal", "-shm"] {
            let mut name = db.as_os_str().to_owned();
            name.push(suffix);
            match restrict(Path::new(&name), 0o600) {
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                other => other?,
            }
        }
    }
    #[cfg(not(unix))]
    let _ = db;
    Ok(())
}

/// Sets `path`'s mode to `mode` unless it already is.
#[cfg(unix)]
fn restrict(path: &Path, mode: u32) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let meta = std::fs::metadata(path)?;
    if meta.permissions().mode() & 0o777 != mode {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))?;
    }
    Ok(())
}
