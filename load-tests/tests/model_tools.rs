//! Smoke runs of the tools at a tiny size: `demo-data` writes messages, truths and ad spend;
//! `bulk-load` fills an embedded warehouse directory in a process of its own.

use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

#[test]
fn demo_data_writes_messages_truths_and_ad_spend() {
    let dir = tempfile::tempdir().unwrap();
    let (out, truths, spend) =
        (dir.path().join("m.ndjson"), dir.path().join("t.json"), dir.path().join("s.csv"));
    let status = Command::new(env!("CARGO_BIN_EXE_demo-data"))
        .args(["--days", "2", "--visitors-per-day", "30", "--seed", "3", "--out"])
        .arg(&out)
        .arg("--truths")
        .arg(&truths)
        .arg("--ad-spend")
        .arg(&spend)
        .status()
        .unwrap();
    assert!(status.success());
    let lines = std::fs::read_to_string(&out).unwrap();
    let truths: Value = serde_json::from_slice(&std::fs::read(&truths).unwrap()).unwrap();
    assert_eq!(lines.lines().count() as u64, truths["messages"].as_u64().unwrap());
    let first: Value = serde_json::from_str(lines.lines().next().unwrap()).unwrap();
    assert!(first["messageId"].is_string() && first["context"]["page"]["url"].is_string());
    let spend = std::fs::read_to_string(&spend).unwrap();
    assert!(spend.starts_with("date,campaign,source,medium,spend,clicks,impressions\n"));
    assert!(spend.lines().count() > 2, "{spend}");
}

#[test]
fn bulk_load_fills_a_data_directory() {
    let dir = tempfile::tempdir().unwrap();
    let truths = dir.path().join("t.json");
    let output = Command::new(env!("CARGO_BIN_EXE_bulk-load"))
        .args(["--events", "3000", "--days", "3", "--now", "2026-01-15T12:00:00Z", "--data-dir"])
        .arg(dir.path().join("data"))
        .arg("--truths")
        .arg(&truths)
        .env("NUMU_WAREHOUSE__EMBEDDED__PYTHON", repo_root().join(".venv/bin/python3"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&output.stderr));
    let truths: Value = serde_json::from_slice(&std::fs::read(&truths).unwrap()).unwrap();
    let loaded = format!("loaded {} events into project 1", truths["messages"]);
    assert!(stdout.contains(&loaded), "{stdout}");
    assert!(stdout.contains("0 dead letters"), "{stdout}");
    assert!(dir.path().join("data/warehouse").is_dir() && dir.path().join("data/numu.sqlite").is_file());
}
