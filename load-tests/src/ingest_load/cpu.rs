//! CPU time of a server process, read from `/proc/<pid>/stat` (utime + stime), so a run can
//! report CPU per event of the server alone, not of the load generator.

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_utime_and_stime_past_odd_command_names() {
        let stat = "1234 (my (odd) server) S 1 1234 1234 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 9 0 100 0 0";
        assert_eq!(parse_stat(stat, 100), Some(Duration::from_secs(3)));
        assert!(process_cpu(std::process::id(), clock_ticks()).is_ok());
    }
}
