//! Web analytics at the edges of sessions, figures spelled out by hand: sessions across the
//! period boundary and the read window's start, a client session id over hours and past the
//! range's end, events in one millisecond; the reports selection; session filters on
//! sessions made of filtered events; derived sessions at half-hour edges and before 1970; a
//! busy day without session ids within a small memory limit.

mod common;

use common::*;
use numu_query::web::{Counts, ReportRow, WebAnswer, WebQuery};
use numu_schemas::EventRow;
use serde_json::json;

fn view(at: &str, id: &str, message: &str, path: &str, channel: &str) -> EventRow {
    let mut row = event(at, "$pageview", id, message);
    row.path = path.into();
    row.channel = channel.into();
    row
}

/// Around the boundary of 2024-05-07 (current) and 2024-05-06 (previous), UTC.
fn dataset() -> Vec<EventRow> {
    let mut rows = vec![
        // One session from 23:50 to 00:20: it started in the previous period.
        view("2024-05-06T23:50:00Z", "x", "x1", "/a", "search"),
        view("2024-05-07T00:05:00Z", "x", "x2", "/b", "direct"),
        view("2024-05-07T00:20:00Z", "x", "x3", "/b", "direct"),
        // Its first event is before the read window (the previous period): not read, so the
        // session starts at 00:10, on /c, from email.
        view("2024-05-05T23:55:00Z", "y", "y1", "/old", "paid"),
        view("2024-05-06T00:10:00Z", "y", "y2", "/c", "email"),
        event("2024-05-06T00:20:00Z", "click", "y", "y3"),
        // A client session id two hours long, and past the range's end (not read).
        view("2024-05-07T10:00:00Z", "z", "z1", "/a", "direct"),
        view("2024-05-07T12:00:00Z", "z", "z2", "/d", "direct"),
        view("2024-05-08T00:30:00Z", "z", "z3", "/late", "direct"),
        // Two pageviews in one millisecond: message id m-1 comes first.
        view("2024-05-07T15:00:00Z", "w", "m-2", "/p2", "referral"),
        view("2024-05-07T15:00:00Z", "w", "m-1", "/p1", "social"),
    ];
    for row in rows.iter_mut().filter(|r| r.distinct_id == "z") {
        row.session_id = "s1".into();
    }
    rows
}

fn row(value: &str, now: (u64, u64, u64), before: (u64, u64, u64)) -> ReportRow {
    let previous = Counts { visitors: before.0, visits: before.1, pageviews: before.2 };
    ReportRow {
        value: value.into(),
        visitors: now.0,
        visits: now.1,
        pageviews: now.2,
        previous: Some(previous),
    }
}

async fn ask(runner: &numu_query::Runner, extra: serde_json::Value) -> WebAnswer {
    let mut question = json!({"date_range": {"from": "2024-05-07", "to": "2024-05-07"}, "interval": "hour"});
    question.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
    let query: WebQuery = parse(question);
    runner.web(PROJECT, &query).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_belong_to_the_period_they_start_in_and_events_to_their_own_time() {
    let (warehouse, runner) = setup("web_sessions_edges").await;
    insert_events(&warehouse, &dataset()).await;
    let answer = ask(&runner, json!({})).await;
    let m = &answer.metrics;
    let both = |metric: &numu_query::web::Metric| (metric.value, metric.previous.unwrap());
    assert_eq!(both(&m.visitors), (2.0, 2.0));
    assert_eq!(both(&m.visits), (2.0, 2.0));
    assert_eq!(both(&m.pageviews), (4.0, 4.0));
    assert_eq!(both(&m.bounce_rate), (0.0, 0.5), "y's session has one pageview");
    assert_eq!(both(&m.visit_duration), (3600.0, 1200.0), "(7200 + 0) / 2 and (1800 + 600) / 2");
    let at = |hour: usize| {
        let t = &answer.timeseries;
        (t.visitors[hour], t.visits[hour], t.pageviews[hour])
    };
    assert_eq!(at(0), (1, 1, 2), "x's events after midnight count in the current period");
    assert_eq!((at(10), at(12), at(15)), ((1, 1, 1), (1, 1, 1), (1, 1, 2)));
    assert_eq!((0..24).map(|h| at(h).2).sum::<u64>(), 6);
    let previous = answer.previous_timeseries.as_ref().unwrap();
    assert_eq!(previous.buckets[0], "2024-05-06T00:00+0000");
    assert_eq!((previous.visitors[0], previous.visits[0], previous.pageviews[0]), (1, 1, 1));
    assert_eq!((previous.visitors[23], previous.visits[23], previous.pageviews[23]), (1, 1, 1));
    let r = &answer.reports;
    assert_eq!(
        r.pages,
        vec![
            row("/b", (1, 1, 2), (0, 0, 0)),
            row("/a", (1, 1, 1), (1, 1, 1)),
            row("/d", (1, 1, 1), (0, 0, 0)),
            row("/p1", (1, 1, 1), (0, 0, 0)),
            row("/p2", (1, 1, 1), (0, 0, 0)),
        ]
    );
    assert_eq!(r.entry_pages, vec![row("/a", (1, 1, 2), (1, 1, 3)), row("/p1", (1, 1, 2), (0, 0, 0))]);
    assert_eq!(r.exit_pages, vec![row("/d", (1, 1, 2), (0, 0, 0)), row("/p2", (1, 1, 2), (0, 0, 0))]);
    assert_eq!(r.channels, vec![row("direct", (1, 1, 2), (0, 0, 0)), row("social", (1, 1, 2), (0, 0, 0))]);
    // Over two days (read from the 4th), y's first event is read: its session starts at
    // 23:55 on the 5th, from a paid campaign, in that question's previous period; x's
    // session is now current and counted whole.
    let wide = ask(&runner, json!({"date_range": {"from": "2024-05-06", "to": "2024-05-07"}})).await;
    let channels: Vec<(&str, u64)> =
        wide.reports.channels.iter().map(|c| (c.value.as_str(), c.visits)).collect();
    assert_eq!(channels, [("direct", 1), ("search", 1), ("social", 1)]);
    assert_eq!((wide.metrics.visits.previous, wide.metrics.pageviews.previous), (Some(1.0), Some(2.0)));
    assert_eq!(wide.metrics.pageviews.value, 7.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_reports_asked_for_are_computed() {
    let (warehouse, runner) = setup("web_sessions_reports").await;
    insert_events(&warehouse, &dataset()).await;
    let full = ask(&runner, json!({})).await;
    let some = ask(&runner, json!({"reports": ["channels", "pages"]})).await;
    assert_eq!((&some.metrics, &some.timeseries), (&full.metrics, &full.timeseries));
    assert_eq!((&some.reports.channels, &some.reports.pages), (&full.reports.channels, &full.reports.pages));
    assert!(!full.reports.entry_pages.is_empty() && some.reports.entry_pages.is_empty());
    assert!(some.reports.countries.is_empty() && some.reports.utm_campaigns.is_empty());
    // Page reports alone need no attribute of a session's first event but its distinct id.
    let pages = ask(&runner, json!({"reports": ["pages", "entry_pages", "exit_pages"]})).await;
    assert_eq!((&pages.metrics, &pages.reports.pages), (&full.metrics, &full.reports.pages));
    assert_eq!(
        (&pages.reports.entry_pages, &pages.reports.exit_pages),
        (&full.reports.entry_pages, &full.reports.exit_pages)
    );
    assert!(pages.reports.channels.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn session_filters_judge_sessions_of_the_filtered_events_everywhere() {
    let (warehouse, runner) = setup("web_sessions_filters").await;
    let mut rows = vec![
        view("2024-05-07T09:00:00Z", "v", "v1", "/a", "direct"),
        view("2024-05-07T09:05:00Z", "v", "v2", "/b", "direct"),
        view("2024-05-07T09:10:00Z", "v", "v3", "/c", "direct"),
    ];
    for (row, os) in rows.iter_mut().zip(["iOS", "Android", "Android"]) {
        row.os = os.into();
    }
    insert_events(&warehouse, &rows).await;
    // Without iOS the session has two pageviews (fewer than 3): kept, in the figures and in
    // the time series alike (all three of its events would make it 3).
    let filters = json!({"filters": [
        {"property": "os", "operator": "not_equals", "value": "iOS"},
        {"property": "$pageviews", "type": "session", "operator": "lt", "value": 3}
    ]});
    let answer = ask(&runner, filters).await;
    assert_eq!((answer.metrics.visits.value, answer.metrics.pageviews.value), (1.0, 2.0));
    assert_eq!((answer.timeseries.visits[9], answer.timeseries.pageviews[9]), (1, 2));
    assert_eq!(answer.reports.entry_pages.iter().map(|r| r.value.as_str()).collect::<Vec<_>>(), ["/b"]);
    assert_eq!(answer.reports.pages.len(), 2);
    let none = ask(
        &runner,
        json!({"filters": [{"property": "$pageviews", "type": "session", "operator": "lt", "value": 3}]}),
    )
    .await;
    assert_eq!((none.metrics.visits.value, none.timeseries.visits[9]), (0.0, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_is_the_visit_of_the_person_of_its_first_event() {
    let (warehouse, runner) = setup("web_sessions_persons").await;
    let mut rows = vec![
        // A client session id shared by "anon" (first, linked to "user") and "other" (never
        // linked): the visit is user's.
        view("2024-05-07T09:00:00Z", "anon", "p1", "/a", "direct"),
        view("2024-05-07T09:05:00Z", "other", "p2", "/b", "direct"),
        // user's own session, and one of anon's derived by inactivity (no session id).
        view("2024-05-07T11:00:00Z", "user", "p3", "/c", "direct"),
        view("2024-05-07T13:00:00Z", "anon", "p4", "/d", "direct"),
    ];
    for (row, session) in rows.iter_mut().zip(["s9", "s9", "s10", ""]) {
        row.session_id = session.into();
    }
    insert_events(&warehouse, &rows).await;
    insert_links(&warehouse, &[link("anon", "user", "2024-05-07T00:00:00Z")]).await;
    let answer = ask(&runner, json!({})).await;
    let m = &answer.metrics;
    assert_eq!((m.visitors.value, m.visits.value, m.pageviews.value), (1.0, 3.0, 4.0));
    assert_eq!(answer.reports.entry_pages.iter().map(|r| r.visitors).collect::<Vec<_>>(), [1, 1, 1]);
    // Had "other" come first, the shared session would be its own visit.
    rows[1].timestamp = ms("2024-05-07T08:55:00Z");
    let (warehouse, runner) = setup("web_sessions_persons_other").await;
    insert_events(&warehouse, &rows).await;
    insert_links(&warehouse, &[link("anon", "user", "2024-05-07T00:00:00Z")]).await;
    let answer = ask(&runner, json!({})).await;
    assert_eq!((answer.metrics.visitors.value, answer.metrics.visits.value), (2.0, 3.0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn derived_sessions_break_only_after_more_than_30_minutes_across_half_hour_edges() {
    let (warehouse, runner) = setup("web_sessions_gaps").await;
    let at = |time: &str, message: &str| view(&format!("2024-05-07T{time}Z"), "b", message, "/a", "direct");
    let rows = vec![
        // 30 minutes exactly, across the 00:30 edge: one session.
        at("00:10:00.000", "b1"),
        at("00:40:00.000", "b2"),
        // 30 minutes and 1 ms: a second session, which then crosses 01:30 and 02:00.
        at("01:10:00.001", "b3"),
        at("01:30:00.000", "b4"),
        at("02:00:00.000", "b5"),
        at("02:29:59.999", "b6"),
    ];
    insert_events(&warehouse, &rows).await;
    let m = ask(&runner, json!({})).await.metrics;
    assert_eq!((m.visitors.value, m.visits.value, m.pageviews.value), (1.0, 2.0, 6.0));
    assert_eq!(m.bounce_rate.value, 0.0);
    // (30 min + (02:29:59.999 − 01:10:00.001)) / 2 visits.
    assert!((m.visit_duration.value - (1800.0 + 4799.998) / 2.0).abs() < 0.01, "{:?}", m.visit_duration);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn derived_sessions_before_1970_use_whole_half_hours() {
    let (warehouse, runner) = setup("web_sessions_epoch").await;
    // 58 minutes apart around the epoch: a division rounding toward zero would put both in
    // one slot an hour wide and miss the gap.
    let rows = vec![
        view("1969-12-31T23:31:00Z", "c", "c1", "/a", "direct"),
        view("1970-01-01T00:29:00Z", "c", "c2", "/b", "direct"),
    ];
    insert_events(&warehouse, &rows).await;
    let question = json!({"date_range": {"from": "1969-12-31", "to": "1970-01-01"}, "interval": "day"});
    let answer = runner.web(PROJECT, &parse::<WebQuery>(question)).await.unwrap();
    assert_eq!((answer.metrics.visits.value, answer.metrics.bounce_rate.value), (2.0, 1.0));
}

/// A busy day without client session ids (backends, and Segment's analytics.js, send none):
/// 40 visitors, each a pageview every 2 s from 01:00 to 05:00 and from 07:00 to 11:00 UTC
/// (576 000 events, 80 visits). Sessions are derived from half-hour parts and summed per
/// bucket and page, so web analytics answers within 128 MiB (it needs 65–96); sorting every
/// event with the columns it reads and keeping an element per event, as before, needed
/// 257–512 MiB.
const BUSY_SESSIONLESS_DAY: &str = "
INSERT INTO events (project_id, timestamp, event, event_type, message_id, distinct_id, url, host, path,
    title, referrer, channel, browser, os, device_type, country, received_at)
SELECT
    1,
    toDateTime64('2024-05-07 01:00:00', 3, 'UTC') + toIntervalSecond(intDiv(k, 7200) * 21600 + (k % 7200) * 2) AS at,
    '$pageview', 'page', concat('busy-', toString(number)), concat('visitor-', toString(number % 40)),
    concat('https://example.com', path), 'example.com', concat('/docs/', toString(k % 97), '/a-page-with-a-long-name') AS path,
    concat('Documentation page ', toString(k % 97)), 'https://www.google.com/', 'search', 'Chrome', 'Windows',
    'desktop', 'DE', at
FROM (SELECT number, intDiv(number, 40) AS k FROM numbers(576000))";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_busy_sessionless_day_is_answered_in_128_mib() {
    let limits = numu_query::Limits { max_memory_bytes: 128 << 20, ..numu_query::Limits::default() };
    let (warehouse, runner) = setup_with("web_sessions_busy", limits).await;
    warehouse.execute(&numu_warehouse::Sql::new(BUSY_SESSIONLESS_DAY)).await.unwrap();
    let answer = ask(&runner, json!({"interval": "day"})).await;
    let m = &answer.metrics;
    assert_eq!((m.visitors.value, m.visits.value, m.pageviews.value), (40.0, 80.0, 576_000.0));
    assert_eq!((m.bounce_rate.value, m.visit_duration.value), (0.0, 14_398.0));
    // The second stretch starts at the 7 200th view of each visitor: page 7200 % 97 = 22.
    let mut entries: Vec<(&str, u64)> =
        answer.reports.entry_pages.iter().map(|r| (r.value.as_str(), r.visits)).collect();
    entries.sort();
    assert_eq!(entries, [("/docs/0/a-page-with-a-long-name", 40), ("/docs/22/a-page-with-a-long-name", 40)]);
    // Each visitor views page k % 97 for k below 14 400: pages 0–43 149 times, the rest 148.
    let top = &answer.reports.pages[0];
    assert_eq!(
        (top.value.as_str(), top.visitors, top.visits, top.pageviews),
        ("/docs/0/a-page-with-a-long-name", 40, 80, 40 * 149)
    );
}
