//! Engine settings from configuration reach the engine. A test binary of its own: the
//! embedded engine is opened once per process, with these settings.

use numu_warehouse::testing::test_config;
use numu_warehouse::{first_cell, Sql, Warehouse};

#[tokio::test]
async fn memory_and_thread_settings_apply() {
    let mut config = test_config("settings");
    config.embedded.max_threads = Some(3);
    config.embedded.max_memory_bytes = Some(3_000_000_000);
    let warehouse = Warehouse::open(&config).await.unwrap();
    let threads = warehouse.query_all(&Sql::new("SELECT getSetting('max_threads')")).await.unwrap();
    assert_eq!(first_cell(&threads).unwrap(), "3");
    let memory = warehouse
        .query_all(&Sql::new(
            "SELECT value FROM system.server_settings WHERE name = 'max_server_memory_usage'",
        ))
        .await
        .unwrap();
    assert_eq!(first_cell(&memory).unwrap(), "3000000000");
}
