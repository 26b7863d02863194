//! Test harness: runs the real `numu` binary on a temporary data directory, bound to
//! 127.0.0.1:0, and talks to it over HTTP.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::Value;

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

/// The `numu` binary with the test environment: the project's chDB, JSON logs.
pub fn numu_command(data_dir: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_numu"));
    command
        .arg("--data-dir")
        .arg(data_dir)
        .env("NUMU_WAREHOUSE__EMBEDDED__PYTHON", repo_root().join(".venv/bin/python3"))
        .env("NUMU_LOG_FORMAT", "json")
        .env_remove("NUMU_CONFIG")
        .current_dir(data_dir.parent().unwrap_or(data_dir));
    command
}

/// Runs `numu <args>` to completion.
pub fn numu(data_dir: &Path, args: &[&str]) -> Output {
    numu_command(data_dir).args(args).output().expect("run numu")
}

/// A project's keys as `numu project create --json` prints them.
#[derive(Clone, Debug)]
pub struct Keys {
    pub project_id: i64,
    pub write_key: String,
    pub secret_key: String,
}

pub fn create_project(data_dir: &Path, name: &str) -> Keys {
    let output = numu(data_dir, &["project", "create", "--name", name, "--json"]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let created: Value = serde_json::from_slice(&output.stdout).unwrap();
    Keys {
        project_id: created["project"]["id"].as_i64().unwrap(),
        write_key: created["write_key"].as_str().unwrap().to_string(),
        secret_key: created["secret_key"].as_str().unwrap().to_string(),
    }
}

/// A running `numu serve`; killed on drop.
pub struct TestServer {
    pub child: Child,
    pub base: String,
    pub logs: mpsc::Receiver<String>,
}

impl TestServer {
    pub fn start(data_dir: &Path) -> TestServer {
        Self::start_with(data_dir, &[])
    }

    pub fn start_with(data_dir: &Path, env: &[(&str, &str)]) -> TestServer {
        let mut command = numu_command(data_dir);
        command.args(["serve", "--listen", "127.0.0.1:0"]).stderr(Stdio::piped()).stdout(Stdio::null());
        for (k, v) in env {
            command.env(k, v);
        }
        #[allow(clippy::zombie_processes)] // waited for in Drop
        let mut child = command.spawn().expect("spawn numu serve");
        let stderr = child.stderr.take().unwrap();
        let (sender, logs) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let _ = sender.send(line);
            }
        });
        let mut seen = Vec::new();
        loop {
            match logs.recv_timeout(Duration::from_secs(60)) {
                Ok(line) => {
                    if let Ok(event) = serde_json::from_str::<Value>(&line) {
                        if event["message"] == "listening" {
                            let base = format!("http://{}", event["address"].as_str().unwrap());
                            return TestServer { child, base, logs };
                        }
                    }
                    seen.push(line);
                }
                Err(_) => panic!("numu serve did not start: {}", seen.join("\n")),
            }
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// GET with an optional bearer key; returns status and JSON body (Null if not JSON).
    pub async fn get(&self, path: &str, key: Option<&str>) -> (u16, Value) {
        let mut request = reqwest::Client::new().get(self.url(path));
        if let Some(key) = key {
            request = request.bearer_auth(key);
        }
        let response = request.send().await.expect("request");
        let status = response.status().as_u16();
        let body = response.json::<Value>().await.unwrap_or(Value::Null);
        (status, body)
    }

    /// Sends SIGTERM and waits for the exit status.
    pub fn terminate(mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        for _ in 0..300 {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("numu serve did not stop within 30 s of SIGTERM");
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Sends `total` Segment `track` events in `/v1/batch` requests of `per_request`, from
/// `concurrency` tasks, until done or the server stops answering. Returns the message ids
/// the server acknowledged (2xx) and the statuses of refused requests.
pub async fn send_segment_load(
    base: &str,
    write_key: &str,
    tag: &str,
    total: usize,
    per_request: usize,
    concurrency: usize,
) -> (Vec<String>, Vec<u16>) {
    use std::sync::{Arc, Mutex};
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let acked = Arc::new(Mutex::new(Vec::new()));
    let refused = Arc::new(Mutex::new(Vec::new()));
    let client = reqwest::Client::builder().timeout(Duration::from_secs(30)).build().unwrap();
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let (next, acked, refused, client) = (next.clone(), acked.clone(), refused.clone(), client.clone());
        let (base, key, tag) = (base.to_string(), write_key.to_string(), tag.to_string());
        tasks.push(tokio::spawn(async move {
            loop {
                let start = next.fetch_add(per_request, std::sync::atomic::Ordering::SeqCst);
                if start >= total {
                    return;
                }
                let ids: Vec<String> =
                    (start..(start + per_request).min(total)).map(|i| format!("{tag}-{i}")).collect();
                let batch: Vec<Value> = ids
                    .iter()
                    .map(|id| {
                        serde_json::json!({"type": "track", "event": "load", "messageId": id,
                            "anonymousId": format!("{tag}-visitor-{}", id.len() % 97),
                            "properties": {"tag": tag}, "timestamp": "2026-11-25T10:00:00.000Z"})
                    })
                    .collect();
                let response = client
                    .post(format!("{base}/v1/batch"))
                    .basic_auth(&key, Some(""))
                    .json(&serde_json::json!({ "batch": batch }))
                    .send()
                    .await;
                match response {
                    Ok(r) if r.status().is_success() => acked.lock().unwrap().extend(ids),
                    Ok(r) => refused.lock().unwrap().push(r.status().as_u16()),
                    Err(_) => return, // the server is gone
                }
            }
        }));
    }
    for task in tasks {
        let _ = task.await;
    }
    let acked = acked.lock().unwrap().clone();
    let refused = refused.lock().unwrap().clone();
    (acked, refused)
}

/// Counts of the project's events carrying `tag` as seen by the read endpoint:
/// `(count, unique_message_ids)`, polled until `until` holds or `secs` pass.
pub async fn wait_for_counts(
    server: &TestServer,
    keys: &Keys,
    event: &str,
    secs: u64,
    until: impl Fn(u64, u64) -> bool,
) -> (u64, u64) {
    let path = format!("/api/projects/{}/events?event={event}&count_only=true", keys.project_id);
    let deadline = std::time::Instant::now() + Duration::from_secs(secs);
    loop {
        let (status, body) = server.get(&path, Some(&keys.secret_key)).await;
        let counts = if status == 200 {
            (body["count"].as_u64().unwrap_or(0), body["unique_message_ids"].as_u64().unwrap_or(0))
        } else {
            (0, 0)
        };
        if until(counts.0, counts.1) || std::time::Instant::now() > deadline {
            return counts;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// Writes events and `identify` links `(project, distinct_id, linked_id)` into the data
/// directory's warehouse from this process, then releases it so a server can open it (one
/// process per storage path).
pub async fn seed(data: &Path, rows: Vec<numu_schemas::EventRow>, links: &[(u64, &str, &str)]) {
    use std::sync::Arc;

    use arrow_array::{ArrayRef, RecordBatch, StringArray, TimestampMillisecondArray, UInt64Array};
    use numu_warehouse::{EmbeddedConfig, Warehouse, WarehouseConfig};

    let config = WarehouseConfig {
        embedded: EmbeddedConfig {
            path: data.join("warehouse"),
            python: repo_root().join(".venv/bin/python3"),
            ..EmbeddedConfig::default()
        },
        ..WarehouseConfig::default()
    };
    let warehouse = Warehouse::open(&config).await.unwrap();
    warehouse.migrate().await.unwrap();
    let link_time = rows.first().map_or(0, |r| r.timestamp);
    warehouse.insert("events", numu_schemas::events_to_batch(&rows).unwrap()).await.unwrap();
    if !links.is_empty() {
        let text = |f: fn(&(u64, &str, &str)) -> String| -> ArrayRef {
            Arc::new(links.iter().map(|l| Some(f(l))).collect::<StringArray>())
        };
        let times = TimestampMillisecondArray::from(vec![link_time; links.len()]).with_timezone("UTC");
        let batch = RecordBatch::try_from_iter([
            ("project_id", Arc::new(UInt64Array::from_iter_values(links.iter().map(|l| l.0))) as ArrayRef),
            ("distinct_id", text(|l| l.1.to_string())),
            ("linked_id", text(|l| l.2.to_string())),
            ("kind", text(|_| "identify".to_string())),
            ("timestamp", Arc::new(times)),
            ("message_id", text(|l| format!("link-{}-{}", l.1, l.2))),
        ])
        .unwrap();
        warehouse.insert("identity_links", batch).await.unwrap();
    }
    drop(warehouse);
    numu_warehouse::embedded::close();
}

/// POSTs JSON with an optional bearer key; returns status and JSON body (Null if not JSON).
pub async fn post(server: &TestServer, path: &str, key: Option<&str>, body: &Value) -> (u16, Value) {
    let mut request = reqwest::Client::new().post(server.url(path)).json(body);
    if let Some(key) = key {
        request = request.bearer_auth(key);
    }
    let response = request.send().await.expect("request");
    let status = response.status().as_u16();
    (status, response.json::<Value>().await.unwrap_or(Value::Null))
}
