//! The query API through the real binary: every route refuses a missing, malformed, unknown,
//! write or other project's key; bad questions are 400s naming the field; injection attempts
//! through names, values, regexes and breakdowns are inert; the OpenAPI document is public.

mod common;

use common::{create_project, post, Keys, TestServer};
use numu_appstate::{AppState, Scope};
use numu_schemas::EventRow;
use serde_json::{json, Value};

const DAY: i64 = 1_714_953_600_000; // 2024-05-06T00:00:00Z

fn event(project: &Keys, i: i64, name: &str, distinct: &str) -> EventRow {
    EventRow {
        project_id: project.project_id as u64,
        timestamp: DAY + i * 3_600_000,
        event: name.into(),
        message_id: format!("q-{}-{i}", project.project_id),
        distinct_id: distinct.into(),
        browser: if i % 2 == 0 { "Chrome".into() } else { "سفاري".into() },
        path: format!("/p/{}", i % 3),
        properties: vec![("الخطة".into(), if i < 3 { "مجاني".into() } else { "pro".into() })],
        ..EventRow::default()
    }
}

fn trends(filters: Value) -> Value {
    json!({"kind": "trends", "date_range": {"from": "2024-05-06", "to": "2024-05-06"}, "series": [{}], "filters": filters})
}

/// One question of each kind, about 2024-05-06.
fn bodies() -> [Value; 4] {
    let range = json!({"from": "2024-05-06", "to": "2024-05-06"});
    [
        json!({"kind": "trends", "date_range": range, "series": [{}, {"math": "unique_people"}]}),
        json!({"kind": "web_analytics", "date_range": range}),
        json!({"kind": "persons"}),
        json!({"kind": "person", "id": "user"}),
    ]
}

#[tokio::test]
async fn query_api_security_bad_questions_and_injection() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let shop = create_project(&data, "Shop");
    let blog = create_project(&data, "Blog");
    let reader = {
        let app_state = AppState::open(&data.join("numu.sqlite")).await.unwrap();
        app_state.create_api_key(shop.project_id, "dashboard", &[Scope::Read]).await.unwrap().1
    };
    // Shop: 6 events of two devices of one person (linked), in hours 0..5 of 2024-05-06.
    let mut rows: Vec<EventRow> = (0..6)
        .map(|i| {
            event(
                &shop,
                i,
                if i % 2 == 0 { "$pageview" } else { "signup" },
                if i < 3 { "phone" } else { "laptop" },
            )
        })
        .collect();
    rows.push(event(&blog, 0, "$pageview", "phone"));
    common::seed(
        &data,
        rows,
        &[(shop.project_id as u64, "phone", "user"), (shop.project_id as u64, "laptop", "user")],
    )
    .await;
    let server = TestServer::start(&data);
    let key = Some(shop.secret_key.as_str());
    let base = format!("/api/projects/{}", shop.project_id);

    // The document is public and lists the routes.
    let (status, doc) = server.get("/api/openapi.json", None).await;
    assert_eq!(status, 200);
    assert!(doc["paths"].get("/api/projects/{project_id}/query").is_some(), "{doc}");

    answers_each_kind(&server, &base, &shop, &reader).await;
    refuses_strangers(&server, &base, &shop, &blog).await;
    bad_questions_name_the_field(&server, &base, key).await;
    injection_is_inert(&server, &base, key).await;
    let (_, listing) = server.get(&format!("{base}/events?count_only=true"), key).await;
    assert_eq!(listing["count"], 6, "the table is intact");
}

/// Each kind answers for the project's keys (admin and read-only alike).
async fn answers_each_kind(server: &TestServer, base: &str, shop: &Keys, reader: &str) {
    let key = Some(shop.secret_key.as_str());
    // Each kind answers for the right key (admin and read-only alike).
    let bodies = bodies();
    for secret in [shop.secret_key.as_str(), reader] {
        let (status, body) = post(server, &format!("{base}/query"), Some(secret), &bodies[0]).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["kind"], "trends");
        assert_eq!(body["series"][0]["total"], 6.0, "the other project's event stays out");
        assert_eq!(body["series"][1]["total"], 1.0, "two devices, one person");
    }
    let (_, web) = post(server, &format!("{base}/query"), key, &bodies[1]).await;
    assert_eq!(
        (web["kind"].as_str(), web["metrics"]["pageviews"]["value"].as_f64()),
        (Some("web_analytics"), Some(3.0))
    );
    let (_, people) = post(server, &format!("{base}/query"), key, &bodies[2]).await;
    assert_eq!(people["total"], 1);
    let (_, person) = post(server, &format!("{base}/query"), key, &bodies[3]).await;
    assert_eq!(person["distinct_ids"], json!(["laptop", "phone", "user"]));
    assert_eq!(person["events"].as_array().unwrap().len(), 6);
}

/// Every route × {no key, malformed, unknown, the write key, another project's key}.
async fn refuses_strangers(server: &TestServer, base: &str, shop: &Keys, blog: &Keys) {
    let key = Some(shop.secret_key.as_str());
    let bodies = bodies();
    // Every route × {no key, malformed, unknown, the write key, another project's key}.
    let strangers: [(Option<&str>, u16); 6] = [
        (None, 401),
        (Some("garbage"), 401),
        (Some("nsk_"), 401),
        (Some("nsk_unknownunknownunknown"), 401),
        (Some(shop.write_key.as_str()), 403),
        (Some(blog.secret_key.as_str()), 403),
    ];
    for (stranger, expected) in strangers {
        for body in &bodies {
            let (status, answer) = post(server, &format!("{base}/query"), stranger, body).await;
            assert_eq!(status, expected, "{stranger:?} {body}: {answer}");
            assert!(answer["error"].as_str().is_some_and(|e| !e.is_empty()));
            assert!(answer.get("series").is_none() && answer.get("persons").is_none());
        }
        let (status, _) = server.get(&format!("{base}/events"), stranger).await;
        assert_eq!(status, expected, "events {stranger:?}");
        // Refused before the body is read: a bad body does not reveal anything either.
        let (status, _) = post(server, &format!("{base}/query"), stranger, &json!({"kind": "nope"})).await;
        assert_eq!(status, expected);
    }
    // Shop's key on Blog's path.
    let (status, _) =
        post(server, &format!("/api/projects/{}/query", blog.project_id), key, &bodies[0]).await;
    assert_eq!(status, 403);
}

/// Bad questions: 400 naming the field.
async fn bad_questions_name_the_field(server: &TestServer, base: &str, key: Option<&str>) {
    let range = json!({"from": "2024-05-06", "to": "2024-05-06"});
    // Bad questions: 400 naming the field.
    let bad = [
        (trends(json!([{"property": "$nope", "operator": "equals", "value": "x"}])), "filters[0].property"),
        (
            trends(json!([{"property": "path", "operator": "regex", "value": "(unclosed"}])),
            "filters[0].value",
        ),
        (
            trends(json!([{"property": "path", "operator": "sounds_like", "value": "x"}])),
            "filters[0].operator",
        ),
        (
            json!({"kind": "trends", "date_range": {"from": "2024-05-07", "to": "2024-05-01"}, "series": [{}]}),
            "date_range",
        ),
        (json!({"kind": "trends", "date_range": range, "series": [{"math": "median"}]}), "series[0].math"),
        (json!({"kind": "trends", "date_range": range, "series": [{"math": "sum"}]}), "series[0].property"),
        (json!({"kind": "trends", "date_range": range, "series": [{}], "timezone": "Moon/Base"}), "timezone"),
        (
            json!({"kind": "trends", "date_range": range, "series": [{}], "breakdown": {"property": "$nope"}}),
            "breakdown.property",
        ),
        (json!({"kind": "web_analytics", "date_range": {"from": "tomorrow"}}), "date_range.from"),
        (json!({"kind": "persons", "limit": 100000}), "limit"),
        (json!({"kind": "forecast"}), "kind"),
    ];
    for (body, field) in bad {
        let (status, answer) = post(server, &format!("{base}/query"), key, &body).await;
        assert_eq!((status, answer["field"].as_str()), (400, Some(field)), "{body}: {answer}");
        assert_eq!(answer["code"], "bad_request");
    }
    let (status, person) =
        post(server, &format!("{base}/query"), key, &json!({"kind": "person", "id": "ghost"})).await;
    assert_eq!(status, 404, "{person}");
}

/// Injection attempts through names, values, regexes and breakdowns match nothing or are refused.
async fn injection_is_inert(server: &TestServer, base: &str, key: Option<&str>) {
    let range = json!({"from": "2024-05-06", "to": "2024-05-06"});
    // Injection attempts are inert: they match nothing (or are refused), and nothing changes.
    for hostile in ["' OR 1=1 --", "x'] OR 1=1 OR properties['", "'); DROP TABLE events; --", ".*' OR '1'='1"]
    {
        for filter in [
            json!({"property": hostile, "operator": "equals", "value": "pro"}),
            json!({"property": "الخطة", "operator": "equals", "value": hostile}),
            json!({"property": "الخطة", "operator": "regex", "value": hostile}),
            json!({"property": hostile, "type": "person", "operator": "is_set"}),
        ] {
            let (status, answer) =
                post(server, &format!("{base}/query"), key, &trends(json!([filter]))).await;
            match status {
                200 => assert_eq!(answer["series"][0]["total"], 0.0, "{filter}"),
                400 => assert_eq!(answer["field"], "filters[0].value", "{filter}"),
                other => panic!("{other} for {filter}: {answer}"),
            }
        }
        let body = json!({"kind": "trends", "date_range": range, "series": [{}], "breakdown": {"property": hostile}});
        let (status, answer) = post(server, &format!("{base}/query"), key, &body).await;
        assert_eq!((status, answer["series"][0]["breakdown_value"].as_str()), (200, Some("")), "{answer}");
    }
    let (_, arabic) = post(
        server,
        &format!("{base}/query"),
        key,
        &trends(json!([{"property": "الخطة", "operator": "equals", "value": "مجاني"}])),
    )
    .await;
    assert_eq!(arabic["series"][0]["total"], 3.0);
}
