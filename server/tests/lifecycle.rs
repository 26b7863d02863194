//! The `numu` binary as an operator meets it: start, readiness, migrations, restarts,
//! locks, missing engine, configuration errors, graceful shutdown.

mod common;

use common::{create_project, numu, TestServer};

#[tokio::test]
async fn serve_answers_health_readiness_and_metrics() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let server = TestServer::start(&data);
    let (status, body) = server.get("/healthz", None).await;
    assert_eq!((status, body["status"].as_str()), (200, Some("ok")));
    let (status, body) = server.get("/readyz", None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["warehouse"]["pending_migrations"], 0);
    assert_eq!(body["warehouse"]["engine"], "embedded");
    assert_eq!(body["collector"]["lag_records"], 0, "{body}");
    assert!(body["collector"]["last_error"].is_null(), "{body}");
    let metrics = reqwest::get(server.url("/metrics")).await.unwrap().text().await.unwrap();
    assert!(metrics.contains("numu_http_requests_total"), "{metrics}");
    // Memory: the process's and, within it, the embedded engine's own account.
    let gauge = |name: &str| -> f64 {
        let line = metrics
            .lines()
            .find(|l| l.starts_with(&format!("{name} ")))
            .unwrap_or_else(|| panic!("{name}: {metrics}"));
        line.rsplit(' ').next().unwrap().parse().unwrap()
    };
    let (resident, engine) = (gauge("numu_process_resident_bytes"), gauge("numu_warehouse_memory_bytes"));
    assert!(engine > 1e6 && resident > engine, "resident {resident}, engine {engine}");
    // Data lives where configured.
    assert!(data.join("warehouse").is_dir());
    assert!(data.join("numu.sqlite").is_file());
    let status = server.terminate();
    assert!(status.success(), "graceful shutdown exit: {status:?}");
}

#[test]
fn migrate_twice_is_a_no_op_the_second_time() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let first = numu(&data, &["migrate"]);
    assert!(first.status.success(), "{}", String::from_utf8_lossy(&first.stderr));
    let first = String::from_utf8_lossy(&first.stdout).to_string();
    let total = numu_schemas::MIGRATIONS.len();
    assert!(first.starts_with(&format!("{total} applied, 0 already applied")), "{first}");
    let second = numu(&data, &["migrate"]);
    let second = String::from_utf8_lossy(&second.stdout).to_string();
    assert_eq!(second.trim(), format!("0 applied, {total} already applied"));
}

#[test]
fn a_second_server_on_the_same_data_exits_naming_the_lock() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let _server = TestServer::start(&data);
    let second = numu(&data, &["serve", "--listen", "127.0.0.1:0"]);
    assert!(!second.status.success());
    let stderr = String::from_utf8_lossy(&second.stderr);
    let last = stderr.lines().last().unwrap_or_default();
    assert!(last.starts_with("numu: data directory"), "{stderr}");
    assert!(last.contains("locked by another Numu process") && last.contains(".numu.lock"), "{last}");
    // And `numu migrate` while the server runs says the same.
    let migrate = numu(&data, &["migrate"]);
    assert!(String::from_utf8_lossy(&migrate.stderr).contains("locked by another Numu process"));
}

#[test]
fn a_missing_engine_names_the_fix() {
    let dir = tempfile::tempdir().unwrap();
    let output = common::numu_command(&dir.path().join("data"))
        .env("NUMU_WAREHOUSE__EMBEDDED__PYTHON", "/nonexistent/venv/bin/python3")
        .args(["serve", "--listen", "127.0.0.1:0"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    let last = stderr.lines().last().unwrap_or_default();
    assert!(last.contains("chDB") && last.contains("make setup"), "{stderr}");
}

#[test]
fn an_unwritable_data_directory_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a-file");
    std::fs::write(&file, b"x").unwrap();
    let output = common::numu_command(dir.path())
        .env("NUMU_WAREHOUSE__EMBEDDED__PATH", file.join("warehouse"))
        .env("NUMU_APP_STATE__PATH", dir.path().join("app.sqlite"))
        .args(["migrate"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("is not writable") && stderr.contains("a-file/warehouse"), "{stderr}");
}

#[test]
fn bad_configuration_is_a_one_line_error() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("numu.toml");
    std::fs::write(&config, "listen = 5\n").unwrap();
    let output = numu(&dir.path().join("data"), &["--config", config.to_str().unwrap(), "config"]);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("listen"), "{stderr}");
    let help = numu(dir.path(), &["--help"]);
    let help = String::from_utf8_lossy(&help.stdout);
    for command in ["serve", "migrate", "version", "project"] {
        assert!(help.contains(command), "{help}");
    }
}

#[tokio::test]
async fn project_create_works_while_the_server_runs() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let server = TestServer::start(&data);
    let keys = create_project(&data, "Live shop");
    let path = format!("/api/projects/{}/events?count_only=true", keys.project_id);
    let (status, body) = server.get(&path, Some(&keys.secret_key)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["count"], 0);
}
