//! Finds the chDB engine library and the libpython it needs, by asking the Python
//! interpreter that installed the `chdb-core` wheel (see notes/chdb-embedding.md).

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::error::{Result, WarehouseError};

/// The `chdb-core` version the project pins (Makefile and CI install this one).
pub const CHDB_VERSION: &str = "26.9.0";

/// The two files the embedded engine is loaded from.
#[derive(Clone, Debug)]
pub struct EngineFiles {
    pub libpython: PathBuf,
    pub chdb_library: PathBuf,
}

const PROBE: &str = "import sysconfig, os, importlib.util\n\
print(os.path.join(sysconfig.get_config_var('LIBDIR') or '', sysconfig.get_config_var('INSTSONAME') or ''))\n\
spec = importlib.util.find_spec('chdb')\n\
print(spec.origin if spec and spec.origin else '')";

fn missing(detail: String) -> WarehouseError {
    WarehouseError::EngineMissing { detail, version: CHDB_VERSION }
}

/// Uses explicit paths when both are configured, otherwise asks `python`.
pub fn locate(python: &Path, chdb_library: Option<&Path>, libpython: Option<&Path>) -> Result<EngineFiles> {
    if let (Some(chdb), Some(lib)) = (chdb_library, libpython) {
        return checked(lib.to_path_buf(), chdb.to_path_buf());
    }
    if !python.exists() {
        return Err(missing(format!("no Python interpreter at {}", python.display())));
    }
    let output = Command::new(python)
        .args(["-c", PROBE])
        .output()
        .map_err(|e| missing(format!("cannot run {}: {e}", python.display())))?;
    if !output.status.success() {
        return Err(missing(format!(
            "{} failed: {}",
            python.display(),
            String::from_utf8_lossy(&output.stderr).trim()
        )));
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    let mut lines = stdout.lines();
    let found_libpython = PathBuf::from(lines.next().unwrap_or_default().trim());
    let chdb_init = lines.next().unwrap_or_default().trim().to_string();
    if chdb_init.is_empty() {
        return Err(missing(format!("the chdb package is not installed for {}", python.display())));
    }
    let found_chdb = Path::new(&chdb_init).with_file_name("_chdb.abi3.so");
    checked(
        libpython.map(Path::to_path_buf).unwrap_or(found_libpython),
        chdb_library.map(Path::to_path_buf).unwrap_or(found_chdb),
    )
}

fn checked(libpython: PathBuf, chdb_library: PathBuf) -> Result<EngineFiles> {
    if !chdb_library.is_file() {
        return Err(missing(format!("{} does not exist", chdb_library.display())));
    }
    if !libpython.is_file() {
        return Err(missing(format!(
            "shared libpython {} does not exist (a statically linked Python cannot host chDB; \
             use a Python with libpython, e.g. Debian's libpython3 package)",
            libpython.display()
        )));
    }
    Ok(EngineFiles { libpython, chdb_library })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absent_interpreter_names_the_fix() {
        let err = locate(Path::new("/nonexistent/python3"), None, None).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("make setup"), "{text}");
        assert!(text.contains("/nonexistent/python3"), "{text}");
        assert!(!text.contains('\n'));
    }

    #[test]
    fn explicit_paths_are_checked() {
        let dir = tempfile::tempdir().unwrap();
        let lib = dir.path().join("libpython.so");
        std::fs::write(&lib, b"").unwrap();
        let err = locate(Path::new("/x"), Some(&dir.path().join("nope.so")), Some(&lib)).unwrap_err();
        assert!(err.to_string().contains("nope.so does not exist"), "{err}");
    }
}
