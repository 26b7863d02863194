//! Funnels and paths through the real binary: both kinds answer for the project's keys and
//! are refused to strangers (no, malformed, unknown, write or another project's key); bad
//! questions are 400s naming the field; the OpenAPI document describes both kinds.

mod common;

use common::{create_project, post, Keys, TestServer};
use numu_schemas::EventRow;
use serde_json::{json, Value};

const DAY: i64 = 1_714_953_600_000; // 2024-05-06T00:00:00Z

fn event(project: &Keys, minute: i64, name: &str, distinct: &str) -> EventRow {
    EventRow {
        project_id: project.project_id as u64,
        timestamp: DAY + minute * 60_000,
        event: name.into(),
        message_id: format!("f-{}-{minute}-{name}", project.project_id),
        distinct_id: distinct.into(),
        path: format!("/product/{minute}"),
        session_id: format!("s-{distinct}"),
        ..EventRow::default()
    }
}

fn funnel(extra: Value) -> Value {
    let mut body = json!({
        "kind": "funnel",
        "date_range": {"from": "2024-05-06", "to": "2024-05-06"},
        "steps": [{"event": "signup"}, {"event": "purchase"}],
        "conversion_window": {"value": 1, "unit": "hour"}
    });
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    body
}

fn paths(extra: Value) -> Value {
    let mut body = json!({"kind": "paths", "date_range": {"from": "2024-05-06", "to": "2024-05-06"}});
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    body
}

#[tokio::test]
async fn funnels_and_paths_over_http() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let shop = create_project(&data, "Shop");
    let blog = create_project(&data, "Blog");
    // Shop: signup on the phone, purchase on the laptop 10 minutes later (one person); a
    // second person signs up only. Blog: a converting person that must stay out.
    let rows = vec![
        event(&shop, 0, "signup", "phone"),
        event(&shop, 10, "purchase", "laptop"),
        event(&shop, 20, "signup", "other"),
        event(&blog, 0, "signup", "b"),
        event(&blog, 1, "purchase", "b"),
    ];
    common::seed(
        &data,
        rows,
        &[(shop.project_id as u64, "phone", "user"), (shop.project_id as u64, "laptop", "user")],
    )
    .await;
    let server = TestServer::start(&data);
    let key = Some(shop.secret_key.as_str());
    let url = format!("/api/projects/{}/query", shop.project_id);

    let (status, answer) = post(&server, &url, key, &funnel(json!({}))).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["kind"], "funnel");
    assert_eq!(answer["steps"][0]["steps"][0]["count"], 2);
    assert_eq!(answer["steps"][0]["steps"][1]["count"], 1, "two devices, one converting person");
    let persons = funnel(json!({"view": "persons", "persons": {"step": 1, "status": "converted"}}));
    let (_, answer) = post(&server, &url, key, &persons).await;
    assert_eq!(answer["persons"]["persons"][0]["person_id"], "laptop");
    let (status, answer) = post(&server, &url, key, &paths(json!({"steps": 3}))).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(
        (answer["kind"].as_str(), answer["total"].as_u64()),
        (Some("paths"), Some(3)),
        "three sessions"
    );

    let strangers: [(Option<&str>, u16); 6] = [
        (None, 401),
        (Some("garbage"), 401),
        (Some("nsk_"), 401),
        (Some("nsk_unknownunknownunknown"), 401),
        (Some(shop.write_key.as_str()), 403),
        (Some(blog.secret_key.as_str()), 403),
    ];
    for (stranger, expected) in strangers {
        for body in [funnel(json!({})), paths(json!({})), funnel(json!({"steps": []}))] {
            let (status, answer) = post(&server, &url, stranger, &body).await;
            assert_eq!(status, expected, "{stranger:?} {body}: {answer}");
            assert!(answer.get("steps").is_none() && answer.get("nodes").is_none());
        }
    }

    let bad = [
        (funnel(json!({"steps": []})), "steps"),
        (funnel(json!({"steps": (0..21).map(|_| json!({"event": "e"})).collect::<Vec<_>>()})), "steps"),
        (funnel(json!({"conversion_window": {"value": 0, "unit": "day"}})), "conversion_window.value"),
        (funnel(json!({"conversion_window": {"value": -1, "unit": "minute"}})), "conversion_window.value"),
        (funnel(json!({"mode": "sideways"})), "mode"),
        (funnel(json!({"view": "chart"})), "view"),
        (funnel(json!({"steps": [{"event": "a", "typo": 1}, {"event": "b"}]})), "steps[0].typo"),
        (paths(json!({"steps": 0})), "steps"),
        (
            paths(json!({"path_type": "pages", "grouping": [{"pattern": "(", "replacement": ""}]})),
            "grouping[0].pattern",
        ),
    ];
    for (body, field) in bad {
        let (status, answer) = post(&server, &url, key, &body).await;
        assert_eq!((status, answer["field"].as_str()), (400, Some(field)), "{body}: {answer}");
        assert_eq!(answer["code"], "bad_request");
    }

    let (_, doc) = server.get("/api/openapi.json", None).await;
    let schemas = &doc["components"]["schemas"];
    for name in ["FunnelQuery", "FunnelAnswer", "FunnelMode", "PathsQuery", "PathsAnswer"] {
        assert!(schemas.get(name).is_some(), "schema {name}");
    }
}
