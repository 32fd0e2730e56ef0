//! Writing the user's choice into the host tool's own JSON config file
//! (`"enable_telemetry": false`, the Hasura shape), keeping every other key.

use std::path::Path;

use crate::error::Error;
use crate::mode::Mode;
use crate::state;

/// Sets `key` in the JSON object at `path` (created with its directory when
/// missing). A file that is not a JSON object is left untouched and reported.
pub(crate) fn set(path: &Path, key: &str, mode: Mode) -> Result<(), Error> {
    let value = match mode {
        Mode::On => serde_json::Value::Bool(true),
        Mode::Off => serde_json::Value::Bool(false),
        Mode::Local => serde_json::Value::String("local".into()),
    };
    set_value(path, key, Some(value))
}

/// Sets `key` to `value` in the JSON object at `path`, or removes it when
/// `value` is `None`; like [`set`] otherwise.
pub(crate) fn set_value(path: &Path, key: &str, value: Option<serde_json::Value>) -> Result<(), Error> {
    let io = |source| Error::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut object = match std::fs::read(path) {
        Ok(bytes) if bytes.iter().all(u8::is_ascii_whitespace) => serde_json::Map::new(),
        Ok(bytes) => match serde_json::from_slice::<serde_json::Value>(&bytes) {
            Ok(serde_json::Value::Object(map)) => map,
            Ok(_) => {
                return Err(Error::ConfigCorrupt {
                    path: path.to_path_buf(),
                    reason: "not an object".into(),
                });
            }
            Err(e) => {
                return Err(Error::ConfigCorrupt {
                    path: path.to_path_buf(),
                    reason: e.to_string(),
                })
            }
        },
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => serde_json::Map::new(),
        Err(e) => return Err(io(e)),
    };
    match value {
        Some(value) => {
            object.insert(key.to_owned(), value);
        }
        None => {
            object.remove(key);
        }
    }
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(io)?;
    }
    state::write_json_file(path, &serde_json::Value::Object(object)).map_err(io)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn other_keys_are_kept_and_corrupt_files_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/config.json");
        set(&path, "enable_telemetry", Mode::Off).unwrap();
        std::fs::write(&path, r#"{"uuid": "abc", "enable_telemetry": true}"#).unwrap();
        set(&path, "enable_telemetry", Mode::Off).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        assert_eq!(v, serde_json::json!({"uuid": "abc", "enable_telemetry": false}));
        std::fs::write(&path, "{oops").unwrap();
        assert!(matches!(
            set(&path, "enable_telemetry", Mode::On),
            Err(Error::ConfigCorrupt { .. })
        ));
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "{oops");
    }
}
