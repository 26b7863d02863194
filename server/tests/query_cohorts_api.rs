//! Cohort routes and retention through the real binary: keys without the needed scope, of
//! another project or none at all are refused on every cohort route; bad definitions, bad
//! CSV, unknown periods, inverted ranges and foreign cohort ids are 400s naming the field;
//! a static upload, its member export, sizes and a cohort filter work end to end.

mod common;

use common::{create_project, Keys, TestServer};
use numu_appstate::{AppState, Scope};
use numu_schemas::EventRow;
use serde_json::{json, Value};

const DAY: i64 = 1_714_953_600_000; // 2024-05-06T00:00:00Z

fn event(project: &Keys, i: i64, name: &str, distinct: &str) -> EventRow {
    EventRow {
        project_id: project.project_id as u64,
        timestamp: DAY + i * 3_600_000,
        event: name.into(),
        message_id: format!("c-{}-{i}", project.project_id),
        distinct_id: distinct.into(),
        ..EventRow::default()
    }
}

async fn send(
    server: &TestServer,
    method: reqwest::Method,
    path: &str,
    key: Option<&str>,
    body: Option<Vec<u8>>,
) -> (u16, String) {
    let mut request = reqwest::Client::new().request(method, server.url(path));
    if let Some(key) = key {
        request = request.bearer_auth(key);
    }
    if let Some(body) = body {
        request = request.body(body);
    }
    let response = request.send().await.expect("request");
    (response.status().as_u16(), response.text().await.unwrap_or_default())
}

async fn json_call(
    server: &TestServer,
    method: reqwest::Method,
    path: &str,
    key: Option<&str>,
    body: Option<Value>,
) -> (u16, Value) {
    let body = body.map(|b| serde_json::to_vec(&b).unwrap());
    let (status, text) = send(server, method, path, key, body).await;
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

fn field(answer: &Value) -> &str {
    answer["field"].as_str().unwrap_or("")
}

#[tokio::test]
async fn cohort_routes_security_bad_input_and_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let shop = create_project(&data, "Shop");
    let blog = create_project(&data, "Blog");
    let (reader, writer) = {
        let app_state = AppState::open(&data.join("numu.sqlite")).await.unwrap();
        let reader = app_state.create_api_key(shop.project_id, "dash", &[Scope::Read]).await.unwrap().1;
        let writer = app_state.create_api_key(shop.project_id, "editor", &[Scope::Write]).await.unwrap().1;
        (reader, writer)
    };
    let rows = vec![
        event(&shop, 0, "purchase", "u-1"),
        event(&shop, 1, "purchase", "u-1"),
        event(&shop, 2, "$pageview", "u-2"),
        event(&blog, 0, "purchase", "u-1"),
    ];
    common::seed(&data, rows, &[]).await;
    let server = TestServer::start(&data);
    let base = format!("/api/projects/{}/cohorts", shop.project_id);
    let (w, r) = (Some(writer.as_str()), Some(reader.as_str()));
    use reqwest::Method;

    // Create: a static cohort and a dynamic one (the writer).
    let (status, stat) =
        json_call(&server, Method::POST, &base, w, Some(json!({"name": "List", "is_static": true}))).await;
    assert_eq!(status, 201, "{stat}");
    let definition = json!({"type": "behavioral", "event": "purchase", "min_count": 2, "days": 3000});
    let (status, dynamic) =
        json_call(&server, Method::POST, &base, w, Some(json!({"name": "Buyers", "definition": definition})))
            .await;
    assert_eq!(status, 201, "{dynamic}");
    let (sid, did) = (stat["id"].as_i64().unwrap(), dynamic["id"].as_i64().unwrap());

    // Every route refuses strangers; changes refuse a read key.
    let one = format!("{base}/{sid}");
    let routes: Vec<(Method, String, bool)> = vec![
        (Method::GET, base.clone(), false),
        (Method::POST, base.clone(), true),
        (Method::GET, one.clone(), false),
        (Method::PUT, one.clone(), true),
        (Method::DELETE, one.clone(), true),
        (Method::POST, format!("{one}/upload"), true),
        (Method::POST, format!("{one}/refresh"), true),
        (Method::GET, format!("{one}/members.csv"), false),
        (Method::GET, format!("{one}/sizes"), false),
    ];
    let strangers: [(Option<&str>, u16); 4] = [
        (None, 401),
        (Some("nsk_unknownunknownunknown"), 401),
        (Some(shop.write_key.as_str()), 403),
        (Some(blog.secret_key.as_str()), 403),
    ];
    for (method, path, changes) in &routes {
        for (stranger, expected) in strangers {
            let (status, _) = send(&server, method.clone(), path, stranger, Some(b"{}".to_vec())).await;
            assert_eq!(status, expected, "{method} {path} {stranger:?}");
        }
        if *changes {
            let (status, _) = send(&server, method.clone(), path, r, Some(b"{}".to_vec())).await;
            assert_eq!(status, 403, "{method} {path} with a read key");
        }
    }

    // Bad definitions: 400 naming the field.
    let bad = [
        (json!({"name": "x"}), "definition"),
        (json!({"name": "x", "definition": {"type": "sometimes"}}), "definition.type"),
        (
            json!({"name": "x", "definition": {"type": "behavioral", "event": "a", "days": 0}}),
            "definition.days",
        ),
        (
            json!({"name": "x", "definition": {"type": "property", "filters": [{"property": "$nope", "operator": "is_set"}]}}),
            "definition.filters[0].property",
        ),
        (json!({"name": "", "is_static": true}), "name"),
        (json!({"name": "x", "is_static": true, "definition": definition}), "definition"),
    ];
    for (body, expected) in bad {
        let (status, answer) = json_call(&server, Method::POST, &base, w, Some(body.clone())).await;
        assert_eq!((status, field(&answer)), (400, expected), "{body}: {answer}");
    }

    // Bad CSV: clear 400s on `csv`; a dynamic cohort takes no upload.
    for csv in ["id\nu-1,u-2\n", "\"open\n", "id\n", "\u{1}\n"] {
        let (status, text) = send(&server, Method::POST, &format!("{one}/upload"), w, Some(csv.into())).await;
        assert_eq!(status, 400, "{csv:?}: {text}");
        assert!(text.contains("\"field\":\"csv\""), "{text}");
    }
    let (status, _) =
        send(&server, Method::POST, &format!("{base}/{did}/upload"), w, Some(b"u-1\n".to_vec())).await;
    assert_eq!(status, 400);
    let (status, text) =
        send(&server, Method::POST, &format!("{one}/upload"), w, Some(b"distinct_id\nu-2\nu-9\n".to_vec()))
            .await;
    assert_eq!(status, 200, "{text}");
    let (status, csv) = send(&server, Method::GET, &format!("{one}/members.csv"), r, None).await;
    assert_eq!((status, csv.as_str()), (200, "person_id\nu-2\nu-9\n"));
    let (status, csv) = send(&server, Method::GET, &format!("{base}/{did}/members.csv"), r, None).await;
    assert_eq!((status, csv.as_str()), (200, "person_id\nu-1\n"), "computed on read");
    let (status, sizes) = json_call(&server, Method::GET, &format!("{base}/{did}/sizes"), r, None).await;
    assert_eq!((status, sizes["sizes"][0]["size"].as_i64()), (200, Some(1)), "{sizes}");
    let (status, list) = json_call(&server, Method::GET, &base, r, None).await;
    assert_eq!((status, list.as_array().map(Vec::len)), (200, Some(2)));

    // Questions: retention's bad input, a foreign cohort id, and a cohort filter.
    let query = format!("/api/projects/{}/query", shop.project_id);
    let retention = |extra: Value| {
        let mut q = json!({"kind": "retention", "date_range": {"from": "2024-05-06", "to": "2024-05-07"},
                           "start_event": {"event": "purchase"}, "return_event": {}});
        q.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        q
    };
    let (status, answer) =
        json_call(&server, Method::POST, &query, r, Some(retention(json!({"period": "hour"})))).await;
    assert_eq!((status, field(&answer)), (400, "period"), "{answer}");
    let inverted = json!({"date_range": {"from": "2024-05-07", "to": "2024-05-01"}});
    let (status, answer) = json_call(&server, Method::POST, &query, r, Some(retention(inverted))).await;
    assert_eq!((status, field(&answer)), (400, "date_range"), "{answer}");
    let (status, foreign) = json_call(
        &server,
        Method::POST,
        &format!("/api/projects/{}/cohorts", blog.project_id),
        Some(blog.secret_key.as_str()),
        Some(json!({"name": "Theirs", "is_static": true})),
    )
    .await;
    assert_eq!(status, 201);
    let filter = json!({"filters": [{"cohort": foreign["id"]}]});
    let (status, answer) = json_call(&server, Method::POST, &query, r, Some(retention(filter))).await;
    assert_eq!((status, field(&answer)), (400, "filters[0].cohort"), "{answer}");
    let filter = json!({"filters": [{"cohort": did}]});
    let (status, answer) = json_call(&server, Method::POST, &query, r, Some(retention(filter))).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["kind"], "retention");
    assert_eq!(answer["results"][0]["cohorts"][0]["size"], 1, "{answer}");

    // Update and delete.
    let (status, updated) =
        json_call(&server, Method::PUT, &one, w, Some(json!({"name": "Renamed", "is_static": true}))).await;
    assert_eq!((status, updated["name"].as_str()), (200, Some("Renamed")));
    let (status, _) =
        json_call(&server, Method::PUT, &one, w, Some(json!({"name": "x", "definition": definition}))).await;
    assert_eq!(status, 400, "the kind cannot change");
    let (status, _) = send(&server, Method::DELETE, &one, w, None).await;
    assert_eq!(status, 204);
    let (status, _) = json_call(&server, Method::GET, &one, r, None).await;
    assert_eq!(status, 404);
}
