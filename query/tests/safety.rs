//! Hostile input and limits at the SQL level: injection attempts through property names,
//! values, regular expressions, breakdowns, formulas and time zones are inert (they match
//! nothing or are refused as bad requests), and queries beyond the configured limits are
//! refused with a message instead of running.

mod common;

use common::*;
use numu_query::trends::TrendsQuery;
use numu_query::{Limits, QueryError};
use numu_warehouse::Sql;
use serde_json::json;

const HOSTILE: [&str; 10] = [
    "' OR 1=1 --",
    "x'] OR 1=1 OR properties['",
    "\\' OR 1=1 --",
    "a`; DROP TABLE events; --",
    "'); DROP TABLE events; --",
    "?",
    "{p0:String}",
    "}}{{project}}",
    "1) OR (1=1",
    "مرحبا' OR '1'='1",
];

fn rows() -> Vec<numu_schemas::EventRow> {
    let mut rows: Vec<numu_schemas::EventRow> = (0..6)
        .map(|i| {
            with_props(event("2024-05-06T10:00:00Z", "$pageview", "d", &format!("m{i}")), &[("plan", "pro")])
        })
        .collect();
    rows.push(numu_schemas::EventRow { project_id: OTHER_PROJECT, ..rows[0].clone() });
    rows
}

async fn total(runner: &numu_query::Runner, query: serde_json::Value) -> Result<Option<f64>, QueryError> {
    let query: TrendsQuery = parse(query);
    Ok(runner.trends(PROJECT, &query).await?.series.first().and_then(|s| s.total))
}

async fn events_left(warehouse: &numu_warehouse::Warehouse) -> String {
    numu_warehouse::first_cell(&warehouse.query_all(&Sql::new("SELECT count() FROM events")).await.unwrap())
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn injection_attempts_are_inert() {
    let (warehouse, runner) = setup("safety_inject").await;
    insert_events(&warehouse, &rows()).await;
    let range = json!({"from": "2024-05-06", "to": "2024-05-06"});
    for hostile in HOSTILE {
        for filter in [
            json!({"property": "plan", "operator": "equals", "value": hostile}),
            json!({"property": hostile, "operator": "equals", "value": "pro"}),
            json!({"property": hostile, "operator": "is_set"}),
            json!({"property": "plan", "operator": "contains", "value": hostile}),
            json!({"property": "plan", "operator": "in", "value": [hostile, hostile]}),
            json!({"property": hostile, "type": "person", "operator": "equals", "value": hostile}),
        ] {
            let got = total(&runner, json!({"date_range": range, "series": [{}], "filters": [filter]})).await;
            assert_eq!(got.unwrap(), Some(0.0), "{filter}");
        }
        // Event names and breakdowns by hostile keys: nothing matches / one empty value.
        let got = total(&runner, json!({"date_range": range, "series": [{"event": hostile}]})).await;
        assert_eq!(got.unwrap(), Some(0.0));
        let query: TrendsQuery =
            parse(json!({"date_range": range, "series": [{}], "breakdown": {"property": hostile}}));
        let answer = runner.trends(PROJECT, &query).await.unwrap();
        assert_eq!(answer.series.len(), 1);
        assert_eq!(
            (answer.series[0].breakdown_value.as_deref(), answer.series[0].total),
            (Some(""), Some(6.0))
        );
        // As a regular expression it is either a valid pattern matching nothing or a 400.
        let regex = json!({"property": "plan", "operator": "regex", "value": hostile});
        match total(&runner, json!({"date_range": range, "series": [{}], "filters": [regex]})).await {
            Ok(n) => assert_eq!(n, Some(0.0)),
            Err(QueryError::BadRequest { field, .. }) => assert_eq!(field, "filters[0].value"),
            Err(other) => panic!("{hostile}: {other}"),
        }
        // Time zones and formulas are checked, never spliced.
        for (key, value) in [("timezone", hostile), ("formula", hostile)] {
            let mut query = json!({"date_range": range, "series": [{}]});
            query[key] = json!(value);
            let err = total(&runner, query).await.unwrap_err();
            assert!(
                matches!(err, QueryError::BadRequest { ref field, .. } if field == key),
                "{key} {hostile}: {err}"
            );
        }
    }
    assert_eq!(events_left(&warehouse).await, "7");
    assert_eq!(
        total(&runner, json!({"date_range": range, "series": [{}]})).await.unwrap(),
        Some(6.0),
        "other projects stay out"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queries_beyond_the_limits_are_refused() {
    let limits = Limits {
        max_range_days: 31,
        max_result_rows: 5,
        max_breakdown_values: 3,
        max_series: 2,
        ..Limits::default()
    };
    let (warehouse, runner) = setup_with("safety_limits", limits).await;
    insert_events(&warehouse, &rows()).await;
    let refused = |query: serde_json::Value| {
        let runner = runner.clone();
        async move { total(&runner, query).await.unwrap_err() }
    };
    let field = |e: QueryError| match e {
        QueryError::BadRequest { field, .. } => field,
        other => panic!("{other}"),
    };
    let long = json!({"from": "2024-01-01", "to": "2024-03-01"});
    assert_eq!(field(refused(json!({"date_range": long, "series": [{}]})).await), "date_range");
    let range = json!({"from": "2024-05-01", "to": "2024-05-06"});
    assert_eq!(field(refused(json!({"date_range": range, "series": [{}, {}, {}]})).await), "series");
    let breakdown = json!({"property": "plan", "limit": 4});
    assert_eq!(
        field(refused(json!({"date_range": range, "series": [{}], "breakdown": breakdown})).await),
        "breakdown.limit"
    );
    let hours = json!({"from": "2024-01-01", "to": "2024-01-31"});
    let limits = Limits { max_buckets: 100, ..Limits::default() };
    let (_, narrow) = setup_with("safety_buckets", limits).await;
    let query: TrendsQuery = parse(json!({"date_range": hours, "interval": "hour", "series": [{}]}));
    assert_eq!(field(narrow.trends(PROJECT, &query).await.unwrap_err()), "interval");
    // The engine enforces result rows (10 hours with events + the total > 5 rows) and memory.
    let spread: Vec<numu_schemas::EventRow> =
        (0..10).map(|h| event(&format!("2024-05-03T{h:02}:30:00Z"), "tick", "d", &format!("h{h}"))).collect();
    insert_events(&warehouse, &spread).await;
    let err = refused(
        json!({"date_range": {"from": "2024-05-03", "to": "2024-05-03"}, "interval": "hour", "series": [{}]}),
    )
    .await;
    assert!(matches!(err, QueryError::LimitExceeded { limit: "result rows", .. }), "{err}");
    assert!(err.to_string().contains("result rows"), "{err}");
    let limits = Limits { max_memory_bytes: 1_000, ..Limits::default() };
    let (_, tiny) = setup_with("safety_memory", limits).await;
    let query: TrendsQuery = parse(json!({"date_range": range, "series": [{"math": "unique_people"}]}));
    let err = tiny.trends(PROJECT, &query).await.unwrap_err();
    assert!(matches!(err, QueryError::LimitExceeded { limit: "memory", .. }), "{err}");
}
