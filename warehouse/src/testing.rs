//! Test support: one embedded engine per test process (chDB holds one storage path per
//! process), with each test isolated in a database of its own; the warehouse suite's bodies
//! ([`suite`]) and the remote engine's error checks ([`remote`]), shared by every engine.

pub mod remote;
pub mod suite;

use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::OnceLock;

use crate::{EmbeddedConfig, Result, Warehouse, WarehouseConfig};

static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
static NEXT: AtomicU32 = AtomicU32::new(0);

/// The repository root (tests run with the crate directory as working directory).
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).parent().map(PathBuf::from).unwrap_or_default()
}

/// The embedded configuration shared by every test in this process.
pub fn embedded_config() -> EmbeddedConfig {
    let dir = DIR.get_or_init(|| tempfile::Builder::new().prefix("numu-test-").tempdir().expect("temp dir"));
    EmbeddedConfig {
        path: dir.path().join("warehouse"),
        python: std::env::var_os("NUMU_TEST_PYTHON")
            .map(PathBuf::from)
            .unwrap_or_else(|| repo_root().join(".venv/bin/python3")),
        pool_size: 4,
        ..EmbeddedConfig::default()
    }
}

/// A fresh, unique database name for one test.
pub fn unique_database(prefix: &str) -> String {
    format!("{prefix}_{}_{}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed))
}

/// A warehouse configuration for one test: shared engine, own database.
pub fn test_config(prefix: &str) -> WarehouseConfig {
    WarehouseConfig {
        database: unique_database(prefix),
        embedded: embedded_config(),
        ..WarehouseConfig::default()
    }
}

/// An embedded warehouse in a new database of its own, migrated.
pub async fn migrated_warehouse(prefix: &str) -> Result<Warehouse> {
    let warehouse = Warehouse::open(&test_config(prefix)).await?;
    warehouse.migrate().await?;
    Ok(warehouse)
}

/// A short database-name prefix from a test's name.
pub fn prefix_of(test: &str) -> String {
    let prefix: String = test.chars().take(20).collect();
    prefix.trim_end_matches('_').to_string()
}

/// A warehouse for one test, with whatever must live as long as it (e.g. the server it
/// talks to), dropped after it.
pub struct TestWarehouse {
    pub warehouse: Warehouse,
    _guard: Option<Box<dyn std::any::Any + Send>>,
}

impl TestWarehouse {
    pub fn new(warehouse: Warehouse) -> TestWarehouse {
        TestWarehouse { warehouse, _guard: None }
    }

    pub fn with_guard(warehouse: Warehouse, guard: impl std::any::Any + Send) -> TestWarehouse {
        TestWarehouse { warehouse, _guard: Some(Box::new(guard)) }
    }
}

/// Suite factory: an embedded warehouse in a new, migrated database.
pub async fn embedded_warehouse(test: &'static str) -> Option<TestWarehouse> {
    let warehouse =
        migrated_warehouse(&prefix_of(test)).await.expect("embedded warehouse (run `make setup` first)");
    Some(TestWarehouse::new(warehouse))
}
