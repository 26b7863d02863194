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
