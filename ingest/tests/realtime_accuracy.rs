//! Accuracy of the visitor figures: within the sketch's stated error on a million
//! synthetic visitors, exact for small counts; and the window's expiry.

mod realtime_support;

use std::collections::HashSet;

use numu_ingest::realtime::visitors::relative_standard_error;
use numu_ingest::realtime::{Config, Realtime};
use realtime_support::pageview;

/// The start of a minute.
const T0: i64 = 28_333_333 * MINUTE;
const MINUTE: i64 = 60_000;

/// A deterministic pseudo-random sequence (PCG-style LCG).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, below: u64) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (self.0 >> 33) % below
    }
}

#[test]
fn a_million_visitors_are_counted_within_the_stated_error() {
    let precision = 14;
    let realtime = Realtime::new(Config { precision, ..Config::default() }).unwrap();
    // 1 000 000 distinct visitors over 30 minutes, each seen 1–3 times, in arrival order;
    // 5 % of the events are bots (not visitors).
    let mut random = Lcg(42);
    let mut recent = HashSet::new();
    let total = 1_000_000u64;
    let mut events = 0u64;
    for v in 0..total {
        let at = T0 + (v as i64 * 30 * MINUTE) / total as i64;
        let visitor = format!("anon-{v:08x}-{}", v.wrapping_mul(2654435761));
        for _ in 0..=random.next(3) {
            realtime.observe(&pageview(1, &visitor, "/launch"), at);
            events += 1;
        }
        if random.next(20) == 0 {
            let bot = numu_schemas::EventRow { is_bot: true, ..pageview(1, &format!("bot-{v}"), "/") };
            realtime.observe(&bot, at);
        }
        if at >= T0 + 25 * MINUTE {
            recent.insert(v);
        }
    }
    let last_5 = recent.len() as u64;
    let snapshot = realtime.snapshot(1, T0 + 30 * MINUTE - 1);
    let sigma = relative_standard_error(precision);
    assert!((sigma - 0.0081).abs() < 0.0001);
    for (figure, truth) in [(&snapshot.visitors[0], last_5), (&snapshot.visitors[1], total)] {
        let count = figure.count;
        let error = count.estimate.abs_diff(truth) as f64 / truth as f64;
        println!(
            "last {} min: {} visitors, estimated {} ± {} ({:.3} % off)",
            figure.minutes,
            truth,
            count.estimate,
            count.error_bound,
            error * 100.0
        );
        assert!(!count.exact);
        assert!(error <= 3.0 * sigma, "{figure:?} vs {truth}: {error}");
        assert!(count.estimate.abs_diff(truth) <= count.error_bound, "{figure:?} vs {truth}");
    }
    let counted: u64 = snapshot.events_per_minute.iter().map(|m| m.events).sum();
    assert_eq!(counted, events, "event counts are exact");
}

#[test]
fn small_counts_are_exact() {
    let realtime = Realtime::new(Config::default()).unwrap();
    let mut random = Lcg(7);
    let mut seen: Vec<HashSet<u64>> = Vec::new();
    for n in 1..=100u64 {
        let project = n; // one project per count
        let mut ids = HashSet::new();
        for i in 0..n * 4 {
            let visitor = random.next(n);
            ids.insert(visitor);
            let at = T0 + (i as i64 * 20 * MINUTE) / (n as i64 * 4); // over 20 minutes
            realtime.observe(&pageview(project, &format!("user-{visitor}"), "/"), at);
        }
        seen.push(ids);
    }
    for (i, ids) in seen.iter().enumerate() {
        let snapshot = realtime.snapshot(i as u64 + 1, T0 + 20 * MINUTE);
        let figure = snapshot.visitors[1].count;
        assert_eq!((figure.estimate, figure.error_bound, figure.exact), (ids.len() as u64, 0, true));
    }
    // Beyond the exact threshold a minute is a sketch; small sketches are still exact here.
    let project = 1_000;
    for v in 0..1_000u64 {
        realtime.observe(&pageview(project, &format!("u{v}"), "/"), T0);
    }
    let figure = realtime.snapshot(project, T0).visitors[0].count;
    assert!(!figure.exact);
    assert_eq!(figure.estimate, 1_000, "{figure:?}");
    assert!(figure.error_bound <= 2, "{figure:?}");
}

#[test]
fn minutes_leave_the_window() {
    let realtime = Realtime::new(Config { window_minutes: 60, ..Config::default() }).unwrap();
    realtime.observe(&pageview(1, "early", "/"), T0);
    realtime.observe(&pageview(1, "later", "/"), T0 + 3 * MINUTE);
    let at = |minutes: i64| realtime.snapshot(1, T0 + minutes * MINUTE);
    let counts = |minutes: i64| at(minutes).visitors.iter().map(|f| f.count.estimate).collect::<Vec<_>>();
    assert_eq!(counts(3), [2, 2, 2]);
    assert_eq!(counts(5), [1, 2, 2], "`early` is out of the last 5 minutes");
    assert_eq!(counts(30), [0, 1, 2], "and out of the last 30");
    assert_eq!(counts(60), [0, 0, 1]);
    assert_eq!(at(30).events_per_minute.iter().map(|m| m.events).sum::<u64>(), 1);
    assert_eq!(realtime.sweep(T0 + 62 * MINUTE), 0);
    assert_eq!(realtime.project_count(), 1);
    assert_eq!(realtime.sweep(T0 + 63 * MINUTE), 1, "idle longer than the window: evicted");
    assert_eq!(realtime.project_count(), 0);
    assert_eq!(counts(63), [0, 0, 0]);
}
