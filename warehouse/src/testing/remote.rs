//! Remote-engine test support: a real ClickHouse server from `NUMU_TEST_CLICKHOUSE_URL`
//! (with `NUMU_TEST_CLICKHOUSE_USER`, `…_PASSWORD`, `…_CLUSTER`), and the checks that each
//! operator-fixable failure (wrong password, unknown database, server down, timeout) gives
//! a one-line message naming the problem. The same checks run against the stand-in.

use std::time::{Duration, Instant};

use crate::remote::{RemoteConfig, Retries, Timeouts};
use crate::{EngineChoice, Sql, Warehouse, WarehouseConfig, WarehouseError};

/// The real server to test against, if one is configured.
pub fn real_server_config() -> Option<RemoteConfig> {
    let url = std::env::var("NUMU_TEST_CLICKHOUSE_URL").ok().filter(|u| !u.is_empty())?;
    let defaults = RemoteConfig::default();
    Some(RemoteConfig {
        url,
        user: std::env::var("NUMU_TEST_CLICKHOUSE_USER").unwrap_or(defaults.user),
        password: std::env::var("NUMU_TEST_CLICKHOUSE_PASSWORD").unwrap_or_default(),
        cluster: std::env::var("NUMU_TEST_CLICKHOUSE_CLUSTER").ok().filter(|c| !c.is_empty()),
        ..defaults
    })
}

fn skipped(test: &str) {
    eprintln!(
        "{test}: skipped, NUMU_TEST_CLICKHOUSE_URL is not set (no real ClickHouse server to test against)"
    );
}

/// A remote warehouse configuration in a new database of its own.
pub fn remote_test_config(remote: RemoteConfig, test: &str) -> WarehouseConfig {
    WarehouseConfig {
        engine: EngineChoice::Remote,
        database: super::unique_database(&format!("wt_{}", super::prefix_of(test))),
        remote,
        ..WarehouseConfig::default()
    }
}

/// Opens and migrates a remote warehouse in a new database.
pub async fn migrated_remote(remote: RemoteConfig, test: &str) -> Warehouse {
    let warehouse = Warehouse::open(&remote_test_config(remote, test)).await.expect("remote warehouse");
    warehouse.migrate().await.expect("migrating the remote warehouse");
    warehouse
}

/// Suite factory: the remote engine on a real ClickHouse server, or a skip note.
pub async fn real_server_warehouse(test: &'static str) -> Option<super::TestWarehouse> {
    let Some(remote) = real_server_config() else {
        skipped(test);
        return None;
    };
    Some(super::TestWarehouse::new(migrated_remote(remote, test).await))
}

fn assert_one_line(err: &WarehouseError, needles: &[&str]) {
    let text = err.to_string();
    eprintln!("message: {text}");
    assert!(!text.contains('\n'), "not one line: {text}");
    for needle in needles {
        assert!(text.contains(needle), "{needle:?} missing from: {text}");
    }
}

/// A wrong password is reported as such, naming the user and the settings to fix.
pub async fn wrong_password_is_named(mut remote: RemoteConfig) {
    remote.password = format!("{}-wrong", remote.password);
    let user = remote.user.clone();
    let warehouse = Warehouse::open(&remote_test_config(remote, "wrong_password")).await.unwrap();
    let err = warehouse.version().await.unwrap_err();
    assert!(matches!(err, WarehouseError::Authentication { .. }), "{err:?}");
    assert_one_line(&err, &[&format!("refused user {user:?}"), "warehouse.remote.password"]);
    assert!(!err.is_transient());
}

/// A database that does not exist is named, with the command that creates it.
pub async fn unknown_database_is_named(remote: RemoteConfig) {
    let config = remote_test_config(remote, "no_such_database");
    let warehouse = Warehouse::open(&config).await.unwrap();
    let err = warehouse.query_all(&Sql::new("SELECT 1")).await.unwrap_err();
    assert!(matches!(err, WarehouseError::UnknownDatabase { .. }), "{err:?}");
    assert_one_line(&err, &[&format!("database {:?} does not exist", config.database), "numu migrate"]);
    // Health names it too (the server itself is fine).
    assert!(warehouse.version().await.is_ok());
    let err = warehouse.health().await.unwrap_err();
    assert!(matches!(err, WarehouseError::UnknownDatabase { .. }), "{err:?}");
}

/// A closed port: a connection error naming the server, after the configured retries.
pub async fn server_down_is_named() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let remote = RemoteConfig {
        url: format!("http://127.0.0.1:{port}"),
        retries: Retries { attempts: 2, initial_backoff_ms: 50, max_backoff_ms: 100 },
        ..RemoteConfig::default()
    };
    let warehouse = Warehouse::open(&remote_test_config(remote, "server_down")).await.unwrap();
    let started = Instant::now();
    let err = warehouse.query_all(&Sql::new("SELECT 1")).await.unwrap_err();
    assert!(started.elapsed() >= Duration::from_millis(150), "retried with backoff: {:?}", started.elapsed());
    assert!(matches!(err, WarehouseError::Connection(_)) && err.is_transient(), "{err:?}");
    assert_one_line(&err, &[&format!("cannot reach ClickHouse at http://127.0.0.1:{port}"), "refused"]);
}

/// A query over its time limit stops at the limit with a timeout error.
pub async fn timeout_is_named(mut remote: RemoteConfig) {
    remote.timeouts = Timeouts { query_secs: 1.0, ..Timeouts::default() };
    let warehouse = migrated_remote(remote, "timeout").await;
    let started = Instant::now();
    let err = warehouse.query_all(&Sql::new("SELECT sleep(3)")).await.unwrap_err();
    let elapsed = started.elapsed();
    assert!(matches!(err, WarehouseError::Timeout(_)), "{err:?}");
    assert!(elapsed < Duration::from_millis(2_900), "took {elapsed:?}");
    assert_one_line(&err, &["time limit of 1s"]);
    // The engine is usable afterwards.
    let batches = warehouse.query_all(&Sql::new("SELECT 1")).await.unwrap();
    assert_eq!(crate::first_cell(&batches).unwrap(), "1");
    super::suite::finish(&warehouse).await;
}
