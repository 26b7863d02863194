//! Golden test of every filter operator on event, person and session properties: the count
//! each filter keeps equals a plain-Rust fold's over the same rows.

mod common;

use std::collections::{BTreeMap, HashMap};

use common::reference::{self as r, person_of};
use common::shop::*;
use common::*;
use numu_schemas::EventRow;
use serde_json::{json, Value};

/// A filter and the rows it should keep.
type Check<'a> = (Value, Box<dyn Fn(&EventRow) -> bool + 'a>);

fn prop(e: &EventRow, key: &str) -> Option<String> {
    e.properties.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone())
}

fn number(e: &EventRow, key: &str) -> Option<f64> {
    prop(e, key).and_then(|v| v.parse::<f64>().ok())
}

fn case<'a>(filter: Value, keep: impl Fn(&EventRow) -> bool + 'a) -> Check<'a> {
    (filter, Box::new(keep))
}

/// Typed columns (with aliases) and custom keys, Arabic names and values included.
fn event_cases() -> Vec<Check<'static>> {
    vec![
        case(json!({"property": "browser", "operator": "equals", "value": "سفاري"}), |e| {
            e.browser == "سفاري"
        }),
        case(json!({"property": "browser", "operator": "not_equals", "value": "Chrome"}), |e| {
            e.browser != "Chrome"
        }),
        case(json!({"property": "$browser", "operator": "contains", "value": "FIRE"}), |e| {
            e.browser.to_lowercase().contains("fire")
        }),
        case(json!({"property": "browser", "operator": "not_contains", "value": "a"}), |e| {
            !e.browser.contains('a')
        }),
        case(json!({"property": "path", "operator": "regex", "value": "^/p/[12]$"}), |e| {
            e.path == "/p/1" || e.path == "/p/2"
        }),
        case(json!({"property": "$pathname", "operator": "not_regex", "value": "3"}), |e| {
            !e.path.contains('3')
        }),
        case(json!({"property": "amount", "operator": "gt", "value": 20}), |e| {
            number(e, "amount").is_some_and(|n| n > 20.0)
        }),
        case(json!({"property": "amount", "operator": "lt", "value": "10"}), |e| {
            number(e, "amount").is_some_and(|n| n < 10.0)
        }),
        case(json!({"property": "الخطة", "operator": "equals", "value": "مجاني"}), |e| {
            prop(e, "الخطة").as_deref() == Some("مجاني")
        }),
        case(json!({"property": "الخطة", "operator": "in", "value": ["free", "مجاني"]}), |e| {
            prop(e, "الخطة").is_some_and(|p| p == "free" || p == "مجاني")
        }),
        case(json!({"property": "الخطة", "operator": "not_in", "value": ["pro"]}), |e| {
            prop(e, "الخطة").as_deref() != Some("pro")
        }),
        case(json!({"property": "amount", "operator": "is_set"}), |e| prop(e, "amount").is_some()),
        case(json!({"property": "never-sent", "operator": "is_not_set"}), |_| true),
        case(json!({"property": "revenue", "operator": "gt", "value": 10}), |e| e.revenue > 10.0),
        case(json!({"property": "revenue", "operator": "in", "value": [4.5, "10.5"]}), |e| {
            e.revenue == 4.5 || e.revenue == 10.5
        }),
    ]
}

/// Person properties, folded from `$set` / `$set_once` of every id of the person.
fn person_cases<'a>(
    props: &'a HashMap<String, BTreeMap<String, String>>,
    persons: &'a HashMap<String, String>,
) -> Vec<Check<'a>> {
    let of = move |e: &EventRow, key: &str| {
        props.get(&person_of(persons, &e.distinct_id)).and_then(|p| p.get(key).cloned())
    };
    vec![
        case(
            json!({"property": "tier", "type": "person", "operator": "equals", "value": "gold"}),
            move |e| of(e, "tier").as_deref() == Some("gold"),
        ),
        case(
            json!({"property": "tier", "type": "person", "operator": "equals", "value": "silver"}),
            move |e| of(e, "tier").as_deref() == Some("silver"),
        ),
        case(json!({"property": "email", "type": "person", "operator": "is_not_set"}), move |e| {
            of(e, "email").is_none()
        }),
        case(
            json!({"property": "tier", "type": "person", "operator": "contains", "value": "ذهب"}),
            move |e| of(e, "tier").is_some_and(|t| t.contains("ذهب")),
        ),
    ]
}

/// Session attributes over all events of the range: (first time, last time, pageviews).
fn session_cases(session: &HashMap<String, (i64, i64, usize)>) -> Vec<Check<'_>> {
    vec![
        case(
            json!({"property": "$session_duration", "type": "session", "operator": "gt", "value": 600}),
            |e| {
                let (first, last, _) = session[&e.message_id];
                (last - first) as f64 / 1000.0 > 600.0
            },
        ),
        case(json!({"property": "$pageviews", "type": "session", "operator": "lt", "value": 2}), |e| {
            session[&e.message_id].2 < 2
        }),
        case(
            json!({"property": "$is_bounce", "type": "session", "operator": "equals", "value": true}),
            |e| session[&e.message_id].2 == 1,
        ),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_filter_operator_matches_a_fold() {
    let (warehouse, runner, rows) = seeded("trends_filters").await;
    let updates = vec![
        update("anon-2", "2024-05-06T10:00:00Z", &[("tier", "bronze")], &[], "u1"),
        update("user-1", "2024-05-07T10:00:00Z", &[("tier", "gold")], &[], "u2"),
        update(
            "anon-3",
            "2024-05-06T10:00:00Z",
            &[],
            &[("tier", "silver"), ("email", "x@example.com")],
            "u3",
        ),
        update("anon-3", "2024-05-07T10:00:00Z", &[], &[("tier", "gold")], "u4"),
        update("مستخدم-٤", "2024-05-06T10:00:00Z", &[("tier", "ذهبي")], &[], "u5"),
    ];
    insert_updates(&warehouse, &updates).await;
    let persons = r::persons(&links());
    let props = r::person_properties(&updates, &persons);
    let events = in_range(&rows, ms("2024-05-06T00:00:00Z"), ms("2024-05-09T00:00:00Z"));
    let keys = r::sessions(&events, &persons);
    let stats = r::session_stats(&events, &keys);
    let session: HashMap<String, (i64, i64, usize)> =
        events.iter().map(|e| e.message_id.clone()).zip(keys.iter().map(|k| stats[k])).collect();
    let cases =
        event_cases().into_iter().chain(person_cases(&props, &persons)).chain(session_cases(&session));
    for (filter, keep) in cases {
        let answer = trends(
            &runner,
            json!({
                "date_range": {"from": "2024-05-06", "to": "2024-05-08"}, "series": [{}], "filters": [filter]
            }),
        )
        .await;
        let expected = events.iter().filter(|e| keep(e)).count() as f64;
        assert_eq!(answer.series[0].total, Some(expected), "{filter}");
        assert!(expected > 0.0, "{filter} selects something");
    }
}
