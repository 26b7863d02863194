//! Web analytics read from `session_hours` and `page_hours` (pre-aggregated at ingest) answers exactly
//! what grouping the events answers: on a generated two-day dataset with sessions over hour,
//! day and period edges, sessions written in several inserts (parts not merged yet), events
//! without a client session id, bots, linked identities and events in one millisecond — for
//! aligned and unaligned ranges, hour and day buckets, three time zones, session filters and
//! the reports selection, the pages report included. The hand-computed answers of `web_sessions.rs` and `web.rs` check
//! the same path (it is the default), so both ways are also checked against a fold.

mod common;

use common::*;
use numu_query::web::{plan_reading, Read, WebQuery};
use numu_query::Limits;
use numu_schemas::EventRow;
use serde_json::json;

const PATHS: [&str; 4] = ["/", "/pricing", "/blog/a", "/signup"];
const CHANNELS: [&str; 4] = ["direct", "search", "social", "email"];

/// A small linear congruential generator: the dataset is the same on every run.
struct Dice(u64);

impl Dice {
    fn roll(&mut self, sides: u64) -> u64 {
        self.0 = self.0.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % sides
    }
}

/// Sessions of 40 visitors over 2024-05-06 and 2024-05-07 (UTC): each visitor has 1–3
/// sessions of 1–6 events, a few minutes to 40 minutes apart, so sessions cross hours and
/// midnight; every fifth visitor sends no session id (sessions derived), every seventh is a
/// bot; two events share a millisecond. Returns the rows in two insert batches: the second
/// holds the later half of some sessions, so their parts are written twice.
fn dataset() -> (Vec<EventRow>, Vec<EventRow>) {
    let mut dice = Dice(7);
    let (mut first, mut second) = (Vec::new(), Vec::new());
    let start = ms("2024-05-06T00:00:00Z");
    for visitor in 0..40u64 {
        let id = format!("v{visitor}");
        let mut at = start + (dice.roll(46 * 60) as i64) * 60_000;
        for session in 0..1 + dice.roll(3) {
            let events = 1 + dice.roll(6);
            for n in 0..events {
                let name = if dice.roll(4) == 0 { "click" } else { "$pageview" };
                let message = format!("{id}-{session}-{n}");
                let mut row = event("2024-05-06T00:00:00Z", name, &id, &message);
                row.timestamp = at;
                row.received_at = at;
                row.path = PATHS[dice.roll(4) as usize].into();
                row.channel = CHANNELS[dice.roll(4) as usize].into();
                row.utm_campaign = if dice.roll(3) == 0 { "spring".into() } else { String::new() };
                row.browser = if visitor % 2 == 0 { "Chrome".into() } else { "Firefox".into() };
                row.country = if visitor % 3 == 0 { "EG".into() } else { "DE".into() };
                row.is_bot = visitor % 7 == 3;
                if visitor % 5 != 0 {
                    row.session_id = format!("s-{id}-{session}");
                }
                if n > 0 && n * 2 >= events && visitor % 3 == 1 {
                    second.push(row)
                } else {
                    first.push(row)
                }
                if !(visitor == 11 && n == 0) {
                    at += (1 + dice.roll(25) as i64) * 60_000 + dice.roll(60_000) as i64;
                }
            }
            at += (40 + dice.roll(8 * 60) as i64) * 60_000;
        }
    }
    (first, second)
}

fn query(value: serde_json::Value) -> WebQuery {
    serde_json::from_value(value).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn session_hours_answer_what_the_events_answer() {
    let (warehouse, runner) = setup("web_hourly").await;
    let (first, second) = dataset();
    insert_events(&warehouse, &first).await;
    insert_events(&warehouse, &second).await;
    insert_links(&warehouse, &[link("v2", "v4", "2024-05-06T12:00:00Z")]).await;
    let now = ms("2024-05-08T06:00:00Z");
    let no_pages =
        json!(["entry_pages", "exit_pages", "sources", "channels", "utm_campaigns", "browsers", "countries"]);
    let questions = [
        json!({"date_range": {"from": "2024-05-07", "to": "2024-05-07"}, "reports": no_pages}),
        json!({"date_range": {"from": "2024-05-07", "to": "2024-05-07"}, "interval": "hour", "reports": no_pages}),
        json!({"date_range": {"from": "2024-05-06T10:30:00Z", "to": "2024-05-07T17:15:00Z"}, "interval": "hour", "reports": no_pages}),
        json!({"date_range": {"from": "-30h"}, "reports": no_pages, "compare": false}),
        json!({"date_range": {"from": "2024-05-07", "to": "2024-05-07"}, "timezone": "Europe/Berlin", "interval": "hour", "reports": no_pages}),
        json!({"date_range": {"from": "2024-05-07", "to": "2024-05-07"}, "timezone": "America/New_York", "reports": no_pages, "include_bots": true}),
        json!({"date_range": {"from": "2024-05-07", "to": "2024-05-07"}, "reports": no_pages,
               "filters": [{"property": "$entry_path", "type": "session", "operator": "equals", "value": "/pricing"}]}),
        json!({"date_range": {"from": "2024-05-07", "to": "2024-05-07"}, "reports": no_pages,
               "filters": [{"property": "$session_duration", "type": "session", "operator": "gt", "value": 600}]}),
        json!({"date_range": {"from": "2024-05-06T06:00:00Z", "to": "2024-05-08T00:00:00Z"}, "interval": "day",
               "reports": ["channels"], "limit": 2}),
        // Every report, the pages too (from page_hours).
        json!({"date_range": {"from": "2024-05-07", "to": "2024-05-07"}}),
        json!({"date_range": {"from": "2024-05-06T10:30:00Z", "to": "2024-05-07T17:15:00Z"}, "interval": "hour"}),
        json!({"date_range": {"from": "2024-05-07", "to": "2024-05-07"}, "timezone": "Europe/Berlin", "include_bots": true,
               "filters": [{"property": "$pageviews", "type": "session", "operator": "gt", "value": 1}]}),
    ];
    for question in questions {
        let q = query(question.clone());
        let plan = plan_reading(&q, PROJECT, now, &Limits::default(), Read::Fastest).unwrap();
        let text = plan.statements()[0].to_string();
        assert!(text.contains("FROM session_hours"), "{question}: should read session_hours");
        let pages = question.get("reports").is_none();
        assert_eq!(
            text.contains("FROM page_hours"),
            pages,
            "{question}: page_hours for the pages report only"
        );
        let fast = runner.web_reading(PROJECT, &q, now, Read::Fastest).await.unwrap();
        let slow = runner.web_reading(PROJECT, &q, now, Read::Events).await.unwrap();
        assert_eq!(fast, slow, "{question}");
        assert!(fast.metrics.visits.value > 0.0, "{question}: the dataset reaches every question");
        assert_eq!(fast.reports.pages.is_empty(), !pages, "{question}: pages answered when asked");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_events_are_read_where_session_hours_cannot_answer() {
    let now = ms("2024-05-08T06:00:00Z");
    let reads_table = |question: serde_json::Value| {
        let plan = plan_reading(&query(question), PROJECT, now, &Limits::default(), Read::Fastest).unwrap();
        plan.statements()[0].to_string().contains("FROM session_hours")
    };
    let day = json!({"from": "2024-05-07", "to": "2024-05-07"});
    assert!(reads_table(json!({"date_range": day, "reports": ["channels"]})));
    assert!(reads_table(json!({"date_range": day})), "every report, the pages too");
    // Event filters choose events; a zone half an hour off UTC has bucket edges inside UTC
    // hours.
    assert!(!reads_table(json!({"date_range": day, "reports": ["channels"],
        "filters": [{"property": "path", "operator": "equals", "value": "/"}]})));
    assert!(!reads_table(json!({"date_range": day, "reports": ["channels"], "timezone": "Asia/Kolkata"})));

    // And those answers are still right: the same dataset, both ways.
    let (warehouse, runner) = setup("web_hourly_fallback").await;
    let (first, second) = dataset();
    insert_events(&warehouse, &[first, second].concat()).await;
    let q = query(json!({"date_range": day, "reports": ["channels"], "timezone": "Asia/Kolkata"}));
    let fast = runner.web_reading(PROJECT, &q, now, Read::Fastest).await.unwrap();
    let slow = runner.web_reading(PROJECT, &q, now, Read::Events).await.unwrap();
    assert_eq!(fast, slow);
}
