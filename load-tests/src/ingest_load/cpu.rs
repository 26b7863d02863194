//! CPU time of a server process, read from `/proc/<pid>/stat` (utime + stime), so a run can
//! report CPU per event of the server alone, not of the load generator — and, for the
//! collector with the embedded warehouse, how much of it the engine's threads spent.

use std::collections::HashMap;
use std::time::Duration;

/// Clock ticks per second of /proc's counters (`getconf CLK_TCK`, 100 on Linux in practice).
pub fn clock_ticks() -> u64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100)
}

/// User + system CPU time consumed so far by process `pid` (all its threads).
pub fn process_cpu(pid: u32, ticks_per_sec: u64) -> std::io::Result<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    parse_stat(&stat, ticks_per_sec)
        .ok_or_else(|| std::io::Error::other(format!("unexpected /proc/{pid}/stat format")))
}

/// Fields 14 and 15 (utime, stime) come after the command name, which is in parentheses
/// and may itself contain spaces and parentheses: split after the last `)`.
fn parse_stat(stat: &str, ticks_per_sec: u64) -> Option<Duration> {
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // `rest` starts at field 3 (state), so utime (14) is index 11 and stime (15) index 12.
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    let ticks = utime + stime;
    Some(Duration::from_micros(ticks * 1_000_000 / ticks_per_sec.max(1)))
}

/// Whether a thread (by its name, `/proc/<pid>/task/<tid>/comm`) belongs to the warehouse
/// engine rather than to the collector. The collector's own threads are Rust's: the async
/// runtimes' workers (`tokio-*`, `actix-*`), the app store's (`sqlx-*`), and the ones it
/// names `numu-*` — except
/// `numu-insert`, the thread the embedded engine's inserts run on. Everything else in the
/// process (ClickHouse's pools: `QueryPipelineEx`, `BgSchPool`, `MergeMutate`, …) is the engine.
pub fn is_engine_thread(name: &str) -> bool {
    let name = name.trim();
    let ours = ["tokio-", "actix", "sqlx-", "numu"].iter().any(|prefix| name.starts_with(prefix));
    name == "numu-insert" || !ours
}

/// CPU time (ns, from `schedstat`) of every live thread of `pid`, by thread id, with its name.
pub fn thread_cpu(pid: u32) -> std::io::Result<HashMap<u32, (String, Duration)>> {
    let mut threads = HashMap::new();
    for entry in std::fs::read_dir(format!("/proc/{pid}/task"))? {
        let entry = entry?;
        let Some(tid) = entry.file_name().to_str().and_then(|t| t.parse::<u32>().ok()) else { continue };
        // A thread may exit between listing and reading: skip it.
        let (Ok(name), Ok(sched)) = (
            std::fs::read_to_string(entry.path().join("comm")),
            std::fs::read_to_string(entry.path().join("schedstat")),
        ) else {
            continue;
        };
        let Some(ns) = sched.split_whitespace().next().and_then(|n| n.parse::<u64>().ok()) else { continue };
        threads.insert(tid, (name.trim().to_string(), Duration::from_nanos(ns)));
    }
    Ok(threads)
}

/// CPU the engine's threads spent between two [`thread_cpu`] samples. Threads that exited
/// in between are not counted (their time is lost to the per-thread view), so this can only
/// undercount the engine — the collector's share is then overstated, never flattered.
pub fn engine_cpu_between(
    before: &HashMap<u32, (String, Duration)>,
    after: &HashMap<u32, (String, Duration)>,
) -> Duration {
    after
        .iter()
        .filter(|(_, (name, _))| is_engine_thread(name))
        .map(|(tid, (_, spent))| spent.saturating_sub(before.get(tid).map_or(Duration::ZERO, |(_, d)| *d)))
        .sum()
}

/// CPU spent between two [`thread_cpu`] samples by thread name — the collector's threads by
/// their own names (`actix-server wo`rker, `numu-wal`, `tokio-rt-worker`, …), every engine
/// thread under `engine` — so a run shows which part of the collector its CPU went to.
pub fn cpu_by_thread_between(
    before: &HashMap<u32, (String, Duration)>,
    after: &HashMap<u32, (String, Duration)>,
) -> std::collections::BTreeMap<String, Duration> {
    let mut by_name = std::collections::BTreeMap::new();
    for (tid, (name, spent)) in after {
        let delta = spent.saturating_sub(before.get(tid).map_or(Duration::ZERO, |(_, d)| *d));
        let group = if is_engine_thread(name) { "engine" } else { name.as_str() };
        *by_name.entry(group.to_string()).or_insert(Duration::ZERO) += delta;
    }
    by_name
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_utime_and_stime_past_odd_command_names() {
        let stat = "1234 (my (odd) server) S 1 1234 1234 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 9 0 100 0 0";
        assert_eq!(parse_stat(stat, 100), Some(Duration::from_secs(3)));
        assert!(process_cpu(std::process::id(), clock_ticks()).is_ok());
    }

    #[test]
    fn engine_threads_are_the_ones_rust_did_not_name() {
        for ours in
            ["tokio-runtime-w", "actix-rt|system", "actix-server wo", "sqlx-sqlite-wor", "numu-wal", "numu"]
        {
            assert!(!is_engine_thread(ours), "{ours}");
        }
        for engine in ["numu-insert", "QueryPipelineEx", "BgSchPool", "MergeMutate"] {
            assert!(is_engine_thread(engine), "{engine}");
        }
    }

    #[test]
    fn engine_time_is_the_delta_of_live_engine_threads() {
        let ms = Duration::from_millis;
        let before = HashMap::from([(1, ("numu-wal".into(), ms(5))), (2, ("BgSchPool".into(), ms(10)))]);
        let after = HashMap::from([
            (1, ("numu-wal".into(), ms(50))),
            (2, ("BgSchPool".into(), ms(30))),
            (3, ("numu-insert".into(), ms(7))),
        ]);
        assert_eq!(engine_cpu_between(&before, &after), ms(27));
        let mine = thread_cpu(std::process::id()).unwrap();
        assert!(mine.contains_key(&std::process::id()));
    }

    #[test]
    fn cpu_by_thread_groups_the_engine_and_keeps_collector_threads_apart() {
        let ms = Duration::from_millis;
        let t = |name: &str, spent| (name.to_string(), spent);
        let before = HashMap::from([
            (1, t("numu-wal", ms(10))),
            (2, t("MergeMutate", ms(5))),
            (3, t("actix-server wo", ms(1))),
        ]);
        let after = HashMap::from([
            (1, t("numu-wal", ms(14))),
            (2, t("MergeMutate", ms(9))),
            (3, t("actix-server wo", ms(3))),
            (4, t("actix-server wo", ms(2))),
            (5, t("numu-insert", ms(7))),
        ]);
        let got = cpu_by_thread_between(&before, &after);
        let want = [("actix-server wo", ms(4)), ("engine", ms(11)), ("numu-wal", ms(4))];
        assert_eq!(got.into_iter().collect::<Vec<_>>(), want.map(|(n, d)| (n.to_string(), d)).to_vec());
    }
}
