//! The process-wide embedded engine: chDB can hold one storage path per process, so the
//! loaded driver and its database live here once, guarded by an advisory lock file that
//! turns a second process on the same directory into a clear error.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use adbc_core::options::{AdbcVersion, OptionDatabase, OptionValue};
use adbc_core::Driver;
use adbc_driver_manager::{ManagedDatabase, ManagedDriver};

use super::locate::EngineFiles;
use crate::error::{Result, WarehouseError};

/// The loaded engine and the storage path it owns. Field order is drop order: the database
/// goes before the driver, the driver before libpython, the lock last.
pub(crate) struct EngineProcess {
    pub(crate) database: ManagedDatabase,
    _driver: ManagedDriver,
    _libpython: libloading::Library,
    pub(crate) path: PathBuf,
    _lock: File,
}

static PROCESS: Mutex<Option<Arc<EngineProcess>>> = Mutex::new(None);

/// Settings passed to the engine at open (`chdb.<name>` becomes `--<name>=value`).
#[derive(Clone, Debug, Default)]
pub(crate) struct OpenSettings {
    pub(crate) settings: Vec<(String, String)>,
}

/// Opens (once per process) the engine on `path`, or returns the one already open there.
pub(crate) fn open(path: &Path, files: &EngineFiles, open: &OpenSettings) -> Result<Arc<EngineProcess>> {
    let mut slot = PROCESS.lock().map_err(|_| WarehouseError::Internal("engine lock poisoned".into()))?;
    let path = prepare_directory(path)?;
    if let Some(existing) = slot.as_ref() {
        if existing.path == path {
            return Ok(existing.clone());
        }
        return Err(WarehouseError::OtherPathOpen { held: existing.path.clone(), asked: path });
    }
    let lock = take_lock(&path)?;
    let libpython = load_libpython(&files.libpython)?;
    let mut driver = ManagedDriver::load_dynamic_from_filename(
        &files.chdb_library,
        Some(b"AdbcDriverInit"),
        AdbcVersion::V110,
    )
    .map_err(|e| WarehouseError::EngineLoad { path: files.chdb_library.clone(), message: e.message })?;
    let mut options = vec![(OptionDatabase::Uri, OptionValue::String(path.display().to_string()))];
    for (name, value) in &open.settings {
        options.push((OptionDatabase::Other(format!("chdb.{name}")), OptionValue::String(value.clone())));
    }
    let database = driver.new_database_with_opts(options).map_err(|e| {
        if e.message.contains("lock") || e.message.contains("share one storage path") {
            WarehouseError::Locked { path: path.clone(), lock: path.join(".numu.lock") }
        } else {
            WarehouseError::EngineLoad { path: path.clone(), message: e.message }
        }
    })?;
    let process =
        Arc::new(EngineProcess { database, _driver: driver, _libpython: libpython, path, _lock: lock });
    *slot = Some(process.clone());
    Ok(process)
}

/// Releases the engine if nothing else holds it (graceful shutdown).
pub fn close() {
    if let Ok(mut slot) = PROCESS.lock() {
        if slot.as_ref().is_some_and(|p| Arc::strong_count(p) == 1) {
            *slot = None;
        }
    }
}

fn prepare_directory(path: &Path) -> Result<PathBuf> {
    let unwritable = |reason: String| WarehouseError::Unwritable { path: path.to_path_buf(), reason };
    std::fs::create_dir_all(path).map_err(|e| unwritable(e.to_string()))?;
    let probe = path.join(".numu-write-probe");
    std::fs::write(&probe, b"ok").map_err(|e| unwritable(e.to_string()))?;
    let _ = std::fs::remove_file(&probe);
    path.canonicalize().map_err(|e| unwritable(e.to_string()))
}

fn take_lock(path: &Path) -> Result<File> {
    let lock_path = path.join(".numu.lock");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(|e| WarehouseError::Unwritable { path: path.to_path_buf(), reason: e.to_string() })?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => {
            Err(WarehouseError::Locked { path: path.to_path_buf(), lock: lock_path })
        }
        Err(std::fs::TryLockError::Error(e)) => Err(WarehouseError::Io(e)),
    }
}

/// chDB imports Python C-API symbols (some are data), so libpython must be loaded with
/// global visibility before the engine library is opened.
fn load_libpython(path: &Path) -> Result<libloading::Library> {
    use libloading::os::unix::{Library, RTLD_GLOBAL, RTLD_NOW};
    #[allow(unsafe_code)]
    // SAFETY: libpython's initialisers have no preconditions; we never call into it, we only
    // make its symbols visible to chDB, and the handle is kept for the engine's lifetime.
    let library = unsafe { Library::open(Some(path), RTLD_NOW | RTLD_GLOBAL) };
    library
        .map(libloading::Library::from)
        .map_err(|e| WarehouseError::EngineLoad { path: path.to_path_buf(), message: e.to_string() })
}
