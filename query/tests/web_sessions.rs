//! Web analytics at the edges of sessions, figures spelled out by hand: sessions across the
//! period boundary and the read window's start, a client session id over hours and past the
//! range's end, events in one millisecond; the reports selection; session filters on
//! sessions made of filtered events.

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
