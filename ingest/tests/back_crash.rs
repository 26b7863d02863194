//! Crash test with a real process: a collector on the embedded warehouse is killed with
//! SIGKILL in the middle of a 120k-event load, restarted, and must hold every acknowledged
//! event exactly once (`count() == uniqExact(message_id)`, no FINAL) and no partial append.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const CHUNKS: u64 = 2_400; // × 50 events = 120,000

/// The example binary. `cargo test` builds examples alongside the tests, so it is fresh;
/// only when missing (e.g. `cargo test --test back_crash` in a new tree) is it built here —
/// building it from inside the test otherwise re-resolves features and recompiles half the
/// dependency tree.
fn example() -> PathBuf {
    static BUILT: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    BUILT
        .get_or_init(|| {
            let exe = std::env::current_exe().unwrap();
            let profile_dir = exe.parent().and_then(Path::parent).unwrap().to_path_buf();
            let binary = profile_dir.join("examples/wal_crash");
            if binary.exists() {
                return binary;
            }
            let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
            let mut build = Command::new(cargo);
            build.args(["build", "-p", "numu-ingest", "--example", "wal_crash"]);
            if profile_dir.ends_with("release") {
                build.arg("--release");
            }
            assert!(build.status().unwrap().success(), "building the wal_crash example failed");
            profile_dir.join("examples/wal_crash")
        })
        .clone()
}

fn spawn(args: &[&str]) -> std::process::Child {
    Command::new(example()).args(args).stdout(Stdio::piped()).stderr(Stdio::inherit()).spawn().unwrap()
}

#[test]
fn sigkill_mid_load_then_restart_stores_every_acknowledged_event_once() {
    let tmp = tempfile::tempdir().unwrap();
    let wal = tmp.path().join("wal");
    let store = tmp.path().join("warehouse");
    let (wal, store) = (wal.to_str().unwrap(), store.to_str().unwrap());
    let chunks = CHUNKS.to_string();
    let mut child = spawn(&["run", wal, store, "crash", &chunks]);
    let stdout = BufReader::new(child.stdout.take().unwrap());
    let (mut acked, started) = (BTreeSet::new(), Instant::now());
    let mut killed = false;
    // After the kill, keep reading: acknowledgements printed before it may still sit in the
    // pipe, and they count.
    for line in stdout.lines() {
        let Ok(line) = line else { break };
        if let Some(chunk) = line.strip_prefix("ack ") {
            acked.insert(chunk.parse::<u64>().unwrap());
        }
        assert_ne!(line, "done", "the load finished before the kill; raise CHUNKS");
        if !killed && acked.len() >= (CHUNKS / 2) as usize {
            child.kill().unwrap(); // SIGKILL
            killed = true;
        }
        assert!(started.elapsed() < Duration::from_secs(300), "load too slow");
    }
    assert!(killed, "the child exited before the kill");
    child.wait().unwrap();
    assert!(acked.len() * 50 >= 60_000);

    let output = spawn(&["check", wal, store, "crash"]).wait_with_output().unwrap();
    assert!(output.status.success());
    let text = String::from_utf8(output.stdout).unwrap();
    let report: serde_json::Value = serde_json::from_str(text.lines().last().unwrap()).unwrap();
    let count = report["count"].as_u64().unwrap();
    let stored: BTreeSet<u64> =
        report["chunks"].as_array().unwrap().iter().map(|c| c.as_u64().unwrap()).collect();
    assert_eq!(count, report["unique"].as_u64().unwrap(), "duplicates stored: {report}");
    assert_eq!(report["partial"], serde_json::json!([]), "an append was stored in part");
    assert_eq!(count, 50 * stored.len() as u64);
    let lost: Vec<_> = acked.difference(&stored).collect();
    assert!(lost.is_empty(), "acknowledged but lost: {lost:?}");
    assert!(stored.iter().all(|&c| c < CHUNKS));
    // In-flight appends at the kill may have been durable without their acknowledgement
    // being printed; at most the 8 generator tasks' last chunks.
    assert!(stored.len() <= acked.len() + 8, "{} stored, {} acked", stored.len(), acked.len());
    eprintln!("acked {} chunks, stored {}, replayed {}", acked.len(), stored.len(), report["replayed"]);
}
