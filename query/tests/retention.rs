//! Golden tests of retention: every expected grid comes from the plain-Rust fold in
//! `common/retention_reference.rs` (and a few cells are also spelled out by hand). Cases:
//! days across the spring DST change in Berlin vs UTC, week boundaries Sunday/Monday in New
//! York, months, a return before the start event in period 0, persons merged across devices,
//! first-time vs recurring, bracket vs unbounded on the same data, a breakdown.

mod common;
#[path = "common/retention_reference.rs"]
mod retention_reference;

use common::reference::{self as r, person_of};
use common::*;
use numu_query::retention::{RetentionAnswer, RetentionQuery};
use numu_schemas::EventRow;
use retention_reference::{self as rr, Period, Spec};
use serde_json::json;

fn ev(at: &str, name: &str, id: &str, n: &mut usize) -> EventRow {
    *n += 1;
    event(at, name, id, &format!("r-{n:04}"))
}

/// Persons a–e around the Berlin spring change (2024-03-31 02:00 → 03:00).
fn dst_rows() -> Vec<EventRow> {
    let n = &mut 0;
    vec![
        // a: starts late on the 29th (Berlin), returns just after midnight Berlin on the 31st.
        ev("2024-03-29T22:30:00Z", "signup", "a", n),
        ev("2024-03-30T23:30:00Z", "$pageview", "a", n),
        // b: a return before the start on the same day (period 0 does not count it), then 23:30
        // Berlin on 2 April.
        ev("2024-03-30T09:00:00Z", "$pageview", "b", n),
        ev("2024-03-30T10:00:00Z", "signup", "b", n),
        ev("2024-04-02T21:30:00Z", "$pageview", "b", n),
        // c: starts on one device at 01:30 Berlin on the 31st, returns on another next day.
        ev("2024-03-31T00:30:00Z", "signup", "anon-c", n),
        ev("2024-03-31T22:30:00Z", "$pageview", "user-c", n),
        ev("2024-04-01T08:00:00Z", "signup", "user-c", n),
        // d: returns the same day after the start, and 4 days later.
        ev("2024-03-30T12:00:00Z", "signup", "d", n),
        ev("2024-03-30T12:30:00Z", "$pageview", "d", n),
        ev("2024-04-03T12:00:00Z", "$pageview", "d", n),
        // e: first signed up long before the range.
        ev("2024-03-20T12:00:00Z", "signup", "e", n),
        ev("2024-03-30T12:00:00Z", "signup", "e", n),
        ev("2024-03-31T12:00:00Z", "$pageview", "e", n),
    ]
}

async fn retention(runner: &numu_query::Runner, query: serde_json::Value) -> RetentionAnswer {
    let query: RetentionQuery = parse(query);
    runner.retention(PROJECT, &query).await.unwrap_or_else(|e| panic!("{e}"))
}

/// The answer's first line as the reference's grid (cohorts with persons only).
fn as_grid(answer: &RetentionAnswer, line: usize) -> rr::Grid {
    let mut grid = rr::Grid::new();
    for c in answer.results[line].cohorts.iter().filter(|c| c.size > 0) {
        let counts: Vec<u64> = c.counts.iter().map(|x| x.expect("every period has begun")).collect();
        grid.insert(c.cohort.clone(), (c.size, counts.clone(), counts));
    }
    grid
}

/// Keeps the reference's bracket or unbounded counts for comparison.
fn pick(grid: &rr::Grid, unbounded: bool) -> rr::Grid {
    grid.iter()
        .map(|(k, (s, b, u))| {
            let c = if unbounded { u.clone() } else { b.clone() };
            (k.clone(), (*s, c.clone(), c))
        })
        .collect()
}

fn name_is(name: &'static str) -> impl Fn(&EventRow) -> bool {
    move |e: &EventRow| e.event == name
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn days_across_dst_first_time_and_recurring_bracket_and_unbounded() {
    let (warehouse, runner) = setup("retention_dst").await;
    let rows = dst_rows();
    insert_events(&warehouse, &rows).await;
    let links = vec![link("anon-c", "user-c", "2024-04-01T09:00:00Z")];
    insert_links(&warehouse, &links).await;
    let persons = r::persons(&links);
    let person = |id: &str| person_of(&persons, id);
    let (start, ret) = (name_is("signup"), name_is("$pageview"));
    for zone in ["Europe/Berlin", "UTC"] {
        for recurring in [false, true] {
            let spec = Spec {
                zone,
                period: Period::Day,
                from_ms: r::midnight(zone, 2024, 3, 29),
                to_ms: r::midnight(zone, 2024, 4, 2),
                periods: 6,
                recurring,
                start: &start,
                returns: &ret,
            };
            let expected = rr::grid(&rows, &person, &spec);
            for unbounded in [false, true] {
                let answer = retention(
                    &runner,
                    json!({
                        "date_range": {"from": "2024-03-29", "to": "2024-04-01"},
                        "timezone": zone, "period": "day", "periods": 6,
                        "start_event": {"event": "signup"}, "return_event": {"event": "$pageview"},
                        "retention_type": if recurring { "recurring" } else { "first_time" },
                        "counting": if unbounded { "unbounded" } else { "bracket" }
                    }),
                )
                .await;
                let labels: Vec<&str> = answer.results[0].cohorts.iter().map(|c| c.cohort.as_str()).collect();
                assert_eq!(labels, ["2024-03-29", "2024-03-30", "2024-03-31", "2024-04-01"], "{zone}");
                assert_eq!(
                    as_grid(&answer, 0),
                    pick(&expected, unbounded),
                    "{zone} recurring={recurring} unbounded={unbounded}"
                );
            }
        }
    }
    // Hand-checked cells, Berlin, first time, bracket: the 29th's cohort is {a}, back on day 2
    // (local 31st, a day of 23 hours); the 30th's is {b, d}: b's earlier pageview does not
    // count for period 0, d's later one does; c (two devices) is back on day 1.
    let answer = retention(
        &runner,
        json!({"date_range": {"from": "2024-03-29", "to": "2024-04-01"}, "timezone": "Europe/Berlin",
               "periods": 5, "start_event": {"event": "signup"}, "return_event": {"event": "$pageview"}}),
    )
    .await;
    let cohorts = &answer.results[0].cohorts;
    assert_eq!(
        (cohorts[0].size, &cohorts[0].counts),
        (1, &vec![Some(0), Some(0), Some(1), Some(0), Some(0)])
    );
    assert_eq!(
        (cohorts[1].size, &cohorts[1].counts),
        (2, &vec![Some(1), Some(0), Some(0), Some(1), Some(1)])
    );
    assert_eq!(cohorts[1].percentages[0], Some(50.0));
    assert_eq!(
        (cohorts[2].size, &cohorts[2].counts),
        (1, &vec![Some(0), Some(1), Some(0), Some(0), Some(0)])
    );
    assert_eq!(cohorts[3].size, 0, "c's second signup is not a first time");
    assert_eq!(cohorts[3].percentages[0], None);
}

/// Persons f–h around week and month boundaries in New York.
fn week_rows() -> Vec<EventRow> {
    let n = &mut 0;
    vec![
        // f: Sunday 23:30 local, back Monday 00:30 local: the next week.
        ev("2024-05-06T03:30:00Z", "signup", "f", n),
        ev("2024-05-06T04:30:00Z", "$pageview", "f", n),
        // g: Monday 00:10 local, back Sunday 23:50 local: the same week.
        ev("2024-05-06T04:10:00Z", "signup", "g", n),
        ev("2024-05-13T03:50:00Z", "$pageview", "g", n),
        // h: Wednesday 1 May, back three weeks later and in June.
        ev("2024-05-01T16:00:00Z", "signup", "h", n),
        ev("2024-05-22T16:00:00Z", "$pageview", "h", n),
        ev("2024-06-03T16:00:00Z", "$pageview", "h", n),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn weeks_start_monday_and_months_on_the_first() {
    let (warehouse, runner) = setup("retention_weeks").await;
    let rows = week_rows();
    insert_events(&warehouse, &rows).await;
    let person = |id: &str| id.to_string();
    let (start, ret) = (name_is("signup"), name_is("$pageview"));
    let zone = "America/New_York";
    for (period, name, periods) in [(Period::Week, "week", 6), (Period::Month, "month", 3)] {
        for unbounded in [false, true] {
            let spec = Spec {
                zone,
                period,
                from_ms: r::midnight(zone, 2024, 5, 1),
                to_ms: r::midnight(zone, 2024, 6, 1),
                periods,
                recurring: false,
                start: &start,
                returns: &ret,
            };
            let expected = rr::grid(&rows, &person, &spec);
            let answer = retention(
                &runner,
                json!({"date_range": {"from": "2024-05-01", "to": "2024-05-31"}, "timezone": zone,
                       "period": name, "periods": periods, "counting": if unbounded { "unbounded" } else { "bracket" },
                       "start_event": {"event": "signup"}, "return_event": {"event": "$pageview"}}),
            )
            .await;
            assert_eq!(as_grid(&answer, 0), pick(&expected, unbounded), "{name} unbounded={unbounded}");
        }
    }
    let weekly = retention(
        &runner,
        json!({"date_range": {"from": "2024-05-01", "to": "2024-05-31"}, "timezone": zone, "period": "week",
               "periods": 4, "start_event": {"event": "signup"}, "return_event": {"event": "$pageview"}}),
    )
    .await;
    let labels: Vec<&str> = weekly.results[0].cohorts.iter().map(|c| c.cohort.as_str()).collect();
    assert_eq!(labels, ["2024-04-29", "2024-05-06", "2024-05-13", "2024-05-20", "2024-05-27"]);
    // Week of 29 April: f (Sunday 5 May) and h; f back in week 1, h in week 3.
    let first = &weekly.results[0].cohorts[0];
    assert_eq!((first.size, &first.counts), (2, &vec![Some(0), Some(1), Some(0), Some(1)]));
    // Week of 6 May: g, back the same week (Sunday 23:50).
    let second = &weekly.results[0].cohorts[1];
    assert_eq!((second.size, &second.counts), (1, &vec![Some(1), Some(0), Some(0), Some(0)]));
    // Unbounded on the same data: returned in week k or later.
    let rolling = retention(
        &runner,
        json!({"date_range": {"from": "2024-05-01", "to": "2024-05-31"}, "timezone": zone, "period": "week",
               "periods": 4, "counting": "unbounded",
               "start_event": {"event": "signup"}, "return_event": {"event": "$pageview"}}),
    )
    .await;
    assert_eq!(rolling.results[0].cohorts[0].counts, vec![Some(2), Some(2), Some(1), Some(1)]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn breakdown_by_the_start_events_property_and_periods_not_begun() {
    let (warehouse, runner) = setup("retention_breakdown").await;
    let mut rows = dst_rows();
    for (i, row) in rows.iter_mut().enumerate() {
        row.browser = ["Chrome", "Firefox", "Safari"][i % 3].into();
    }
    insert_events(&warehouse, &rows).await;
    let person = |id: &str| id.to_string();
    let ret = name_is("$pageview");
    let mut lines = Vec::new();
    for browser in ["Chrome", "Firefox", "Safari"] {
        // The value of a person's first start event decides its line.
        let firsts: std::collections::HashMap<String, &EventRow> = {
            let mut m: std::collections::HashMap<String, &EventRow> = Default::default();
            for e in rows.iter().filter(|e| e.event == "signup") {
                let slot = m.entry(e.distinct_id.clone()).or_insert(e);
                if e.timestamp < slot.timestamp {
                    *slot = e;
                }
            }
            m
        };
        let start = |e: &EventRow| e.event == "signup" && firsts[&e.distinct_id].browser == browser;
        let spec = Spec {
            zone: "UTC",
            period: Period::Day,
            from_ms: r::midnight("UTC", 2024, 3, 29),
            to_ms: r::midnight("UTC", 2024, 4, 2),
            periods: 4,
            recurring: false,
            start: &start,
            returns: &ret,
        };
        lines.push((browser, rr::grid(&rows, &person, &spec)));
    }
    let answer = retention(
        &runner,
        json!({"date_range": {"from": "2024-03-29", "to": "2024-04-01"}, "periods": 4,
               "start_event": {"event": "signup"}, "return_event": {"event": "$pageview"},
               "breakdown": {"property": "browser", "limit": 2}}),
    )
    .await;
    lines.sort_by_key(|(b, g)| (std::cmp::Reverse(g.values().map(|c| c.0).sum::<u64>()), *b));
    assert_eq!(answer.results.len(), 3, "two values and other");
    for (i, (browser, grid)) in lines.iter().take(2).enumerate() {
        assert_eq!(answer.results[i].breakdown_value, *browser);
        assert_eq!(as_grid(&answer, i), pick(grid, false), "{browser}");
    }
    assert!(answer.results[2].breakdown_other);
    assert_eq!(as_grid(&answer, 2), pick(&lines[2].1, false), "other = the third value");
    // Periods that have not begun at `now` are null.
    let query: RetentionQuery = parse(json!({"date_range": {"from": "2024-03-29", "to": "2024-04-01"},
        "periods": 4, "start_event": {"event": "signup"}, "return_event": {"event": "$pageview"}}));
    let early = runner.retention_at(PROJECT, &query, ms("2024-04-01T12:00:00Z")).await.unwrap();
    let last = &early.results[0].cohorts[3];
    assert_eq!(last.counts, vec![Some(0), None, None, None]);
}
