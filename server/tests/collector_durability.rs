//! Nothing acknowledged is lost, nothing is stored twice: `kill -9` under load, and a
//! warehouse outage (the remote engine against a ClickHouse-HTTP-compatible stand-in over
//! the embedded engine, stopped and restarted under load), through the real binaries.

mod common;

use std::collections::HashSet;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::{create_project, send_segment_load, wait_for_counts, TestServer};

/// Present-exactly-once: every acknowledged id is stored, no id twice.
async fn assert_exactly_once(server: &TestServer, keys: &common::Keys, acked: &[String]) {
    let acked_count = acked.len() as u64;
    let (count, unique) = wait_for_counts(server, keys, "load", 60, |c, u| c >= acked_count && c == u).await;
    assert_eq!(count, unique, "duplicates stored: count {count}, unique message ids {unique}");
    assert!(count >= acked_count, "lost acknowledged events: stored {count} < acknowledged {acked_count}");
    // Every acknowledged id individually (a sample keeps the test quick; the counts above
    // already bound the whole set).
    let sample: Vec<&String> = acked.iter().step_by((acked.len() / 50).max(1)).collect();
    for id in sample {
        let path = format!("/api/projects/{}/events?message_id={id}&count_only=true", keys.project_id);
        let (_, body) = server.get(&path, Some(&keys.secret_key)).await;
        assert_eq!(body["count"], 1, "acknowledged {id} stored {} times", body["count"]);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn kill_9_under_load_loses_and_duplicates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let keys = create_project(&data, "Crash");
    let mut server = TestServer::start(&data);
    let base = server.base.clone();
    let load = tokio::spawn({
        let key = keys.write_key.clone();
        async move { send_segment_load(&base, &key, "crash", 150_000, 250, 4).await }
    });
    // Kill once a good part of the load is acknowledged but well before the end.
    let _ = wait_for_counts(&server, &keys, "load", 120, |c, _| c >= 30_000).await;
    server.child.kill().unwrap(); // SIGKILL
    server.child.wait().unwrap();
    let (acked, _) = load.await.unwrap();
    assert!(acked.len() >= 30_000 && acked.len() < 150_000, "acknowledged {} before the kill", acked.len());
    let unique: HashSet<&String> = acked.iter().collect();
    assert_eq!(unique.len(), acked.len());
    let server = TestServer::start(&data);
    assert_exactly_once(&server, &keys, &acked).await;
}

fn standin_binary() -> PathBuf {
    let deps = std::env::current_exe().unwrap();
    let target = deps.parent().unwrap().parent().unwrap().to_path_buf();
    let binary = target.join("numu-standin");
    if !binary.exists() {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let status = Command::new(cargo)
            .args(["build", "-p", "numu-standin", "--bin", "numu-standin"])
            .status()
            .unwrap();
        assert!(status.success());
    }
    binary
}

/// Starts the stand-in on `listen` (port 0 = any) and returns it with its address.
fn start_standin(data: &Path, listen: &str) -> (Child, String) {
    let mut child = Command::new(standin_binary())
        .args(["--listen", listen, "--data"])
        .arg(data)
        .env("NUMU_STANDIN_PYTHON", common::repo_root().join(".venv/bin/python3"))
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let address = line.trim().strip_prefix("listening on ").expect("stand-in address").to_string();
    (child, address)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn warehouse_outage_is_ridden_out_in_the_log_then_503_then_drained_once() {
    let dir = tempfile::tempdir().unwrap();
    let warehouse_data = dir.path().join("standin");
    let (mut standin, address) = start_standin(&warehouse_data, "127.0.0.1:0");
    let data = dir.path().join("numu");
    let keys = create_project(&data, "Outage");
    let url = format!("http://{address}");
    let env = [
        ("NUMU_WAREHOUSE__ENGINE", "remote"),
        ("NUMU_WAREHOUSE__REMOTE__URL", url.as_str()),
        ("NUMU_WAL__MAX_LOG_BYTES", "3000000"),
        ("NUMU_WAL__RETRY_MAX_MS", "500"),
    ];
    let server = TestServer::start_with(&data, &env);
    // Phase 1: warehouse up.
    let (first, _) = send_segment_load(&server.base, &keys.write_key, "before", 5_000, 100, 2).await;
    assert_eq!(first.len(), 5_000);
    let _ = wait_for_counts(&server, &keys, "load", 30, |c, _| c >= 5_000).await;
    // Phase 2: warehouse down; the log takes events until its cap, then 503 + Retry-After.
    Command::new("kill").args(["-TERM", &standin.id().to_string()]).status().unwrap();
    standin.wait().unwrap();
    let (during, refused) = send_segment_load(&server.base, &keys.write_key, "during", 60_000, 200, 2).await;
    assert!(!during.is_empty(), "nothing accepted into the log during the outage");
    assert!(refused.contains(&503), "the log cap never answered 503: {refused:?}");
    // Readiness says the warehouse is gone and shows the log holding the events.
    let (status, ready) = server.get("/readyz", None).await;
    assert_eq!(status, 503, "{ready}");
    assert!(ready["collector"]["lag_records"].as_u64().unwrap_or(0) >= during.len() as u64, "{ready}");
    // A request larger than what is left under the cap is refused, saying when to retry.
    let padding = "x".repeat(1000);
    let batch: Vec<serde_json::Value> = (0..200)
        .map(|i| {
            serde_json::json!({"type": "track", "event": "probe", "anonymousId": "p",
            "messageId": format!("probe-{i}"), "properties": {"padding": padding}})
        })
        .collect();
    let probe = reqwest::Client::new()
        .post(server.url("/v1/batch"))
        .basic_auth(&keys.write_key, Some(""))
        .json(&serde_json::json!({ "batch": batch }))
        .send()
        .await
        .unwrap();
    assert_eq!(probe.status(), 503);
    assert!(probe.headers().get("retry-after").is_some(), "503 without Retry-After");
    // Phase 3: warehouse back on the same address; the log drains exactly once.
    let (mut standin, _) = start_standin(&warehouse_data, &address);
    let mut acked = first;
    acked.extend(during);
    assert_exactly_once(&server, &keys, &acked).await;
    drop(server);
    let _ = standin.kill();
    let _ = standin.wait();
    std::thread::sleep(Duration::from_millis(100));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn serve_starts_while_the_warehouse_is_down_and_migrates_once_it_answers() {
    let dir = tempfile::tempdir().unwrap();
    // An address nothing listens on yet: the stand-in takes it later.
    let address = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().to_string();
    let data = dir.path().join("numu");
    let keys = create_project(&data, "Down at start");
    let url = format!("http://{address}");
    let env = [
        ("NUMU_WAREHOUSE__ENGINE", "remote"),
        ("NUMU_WAREHOUSE__REMOTE__URL", url.as_str()),
        ("NUMU_WAL__RETRY_MAX_MS", "500"),
    ];
    let server = TestServer::start_with(&data, &env);
    // The collector takes events into its log although no table exists yet.
    let (acked, refused) = send_segment_load(&server.base, &keys.write_key, "early", 2_000, 100, 2).await;
    assert_eq!(acked.len(), 2_000, "refused while the warehouse was down: {refused:?}");
    let (status, ready) = server.get("/readyz", None).await;
    assert_eq!(status, 503, "ready without a warehouse: {ready}");
    // The warehouse comes up: migrations are applied, then the log drains exactly once.
    let warehouse_data = dir.path().join("standin");
    let (mut standin, _) = start_standin(&warehouse_data, &address);
    assert_exactly_once(&server, &keys, &acked).await;
    let (status, ready) = server.get("/readyz", None).await;
    assert_eq!(status, 200, "{ready}");
    drop(server);
    let _ = standin.kill();
    let _ = standin.wait();
}
