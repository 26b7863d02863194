//! Memory of the real-time figures with 10 000 projects active for a whole window.
//! Run: `cargo bench -p numu-ingest --bench realtime_memory` (each scenario in its own
//! process; name one to run only it). Resident memory is read from `/proc/self/status`
//! before and after filling every project's 60 minutes.
//!
//! - `small`: 10 000 projects, every minute 20 visitors (exact sets), 60 events, 10 pages.
//! - `busy`: 10 000 projects, every minute 150 new visitors (sparse sketches), 150 events
//!   over 48 pages and 24 sources (top-K tables full).
//! - `dense`: 200 projects, every minute 6 000 new visitors (dense sketches, the worst
//!   case per minute), extrapolated to 10 000.

use std::time::Instant;

use numu_ingest::realtime::{Config, Realtime};
use numu_schemas::EventRow;

const T0: i64 = 28_333_333 * 60_000;
const MINUTES: i64 = 60;

struct Scenario {
    name: &'static str,
    projects: u64,
    visitors_per_minute: u64,
    /// Visitors are new each minute (else the same ones come back).
    fresh_visitors: bool,
    events_per_minute: u64,
    pages: u64,
    sources: u64,
}

const SCENARIOS: [Scenario; 3] = [
    Scenario {
        name: "small",
        projects: 10_000,
        visitors_per_minute: 20,
        fresh_visitors: false,
        events_per_minute: 60,
        pages: 10,
        sources: 3,
    },
    Scenario {
        name: "busy",
        projects: 10_000,
        visitors_per_minute: 150,
        fresh_visitors: true,
        events_per_minute: 150,
        pages: 48,
        sources: 24,
    },
    Scenario {
        name: "dense",
        projects: 200,
        visitors_per_minute: 6_000,
        fresh_visitors: true,
        events_per_minute: 6_000,
        pages: 48,
        sources: 24,
    },
];

fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn fill(realtime: &Realtime, s: &Scenario) -> u64 {
    let mut row = EventRow { event: "$pageview".into(), host: "shop.example".into(), ..EventRow::default() };
    let mut events = 0;
    for minute in 0..MINUTES {
        let now = T0 + minute * 60_000 + 30_000;
        for project in 1..=s.projects {
            row.project_id = project;
            for e in 0..s.events_per_minute {
                let visitor = e % s.visitors_per_minute;
                let visitor =
                    if s.fresh_visitors { minute as u64 * s.visitors_per_minute + visitor } else { visitor };
                row.distinct_id = format!("anon-{project}-{visitor}");
                row.path = format!("/section/{}/page", (e * 7) % s.pages);
                row.referrer_source = format!("source-{}", (e * 3) % s.sources);
                row.timestamp = now;
                realtime.observe(&row, now);
                events += 1;
            }
        }
    }
    events
}

fn run(s: &Scenario) {
    let realtime = Realtime::new(Config::default()).unwrap();
    let before = rss_kib();
    let started = Instant::now();
    let events = fill(&realtime, s);
    let elapsed = started.elapsed();
    let after = rss_kib();
    assert_eq!(realtime.project_count() as u64, s.projects);
    let per_project = (after - before) as f64 / s.projects as f64;
    println!(
        "| {} | {} | {} | {} | {:.1} MiB | {:.1} MiB | {:.1} KiB | {:.0} MiB | {:.0} ns |",
        s.name,
        s.projects,
        s.visitors_per_minute,
        events,
        before as f64 / 1024.0,
        after as f64 / 1024.0,
        per_project,
        per_project * 10_000.0 / 1024.0,
        elapsed.as_nanos() as f64 / events as f64,
    );
    let snapshot = realtime.snapshot(1, T0 + (MINUTES - 1) * 60_000);
    eprintln!("{}: project 1, last 30 min: {:?}", s.name, snapshot.visitors[1].count);
    let evicted = realtime.sweep(T0 + (MINUTES + 60) * 60_000);
    eprintln!("{}: {evicted} idle projects evicted, RSS now {:.1} MiB", s.name, rss_kib() as f64 / 1024.0);
}

fn main() {
    let chosen: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with('-')).collect();
    if let Some(s) = SCENARIOS.iter().find(|s| chosen.iter().any(|c| c == s.name)) {
        run(s);
        return;
    }
    println!("| scenario | projects | visitors/min/project | events | RSS before | RSS after | per project | for 10k projects | observe |");
    println!("|---|---|---|---|---|---|---|---|---|");
    for s in &SCENARIOS {
        let status =
            std::process::Command::new(std::env::current_exe().unwrap()).arg(s.name).status().unwrap();
        assert!(status.success(), "{} failed", s.name);
    }
}
