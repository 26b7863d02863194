//! `GET /api/projects/{id}/events`: filters and counts over what landed, restarts keep the
//! data, and only a secret key of the same project may read.

mod common;

use common::{create_project, Keys, TestServer};
use numu_schemas::EventRow;

fn event(project: &Keys, i: i64, name: &str, distinct: &str) -> EventRow {
    EventRow {
        project_id: project.project_id as u64,
        timestamp: 1_764_000_000_000 + i * 1000,
        event: name.into(),
        message_id: format!("msg-{}-{i}", project.project_id),
        distinct_id: distinct.into(),
        properties: vec![("الحالة".into(), "جديد".into())],
        ..EventRow::default()
    }
}

#[tokio::test]
async fn filters_counts_restarts_and_access_control() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let shop = create_project(&data, "Shop");
    let blog = create_project(&data, "Blog");
    let mut rows: Vec<EventRow> = (0..6)
        .map(|i| {
            event(&shop, i, if i % 2 == 0 { "$pageview" } else { "signup" }, if i < 3 { "a" } else { "b" })
        })
        .collect();
    rows.push(event(&blog, 0, "$pageview", "a"));
    common::seed(&data, rows, &[]).await;

    let server = TestServer::start(&data);
    let base = format!("/api/projects/{}/events", shop.project_id);
    let key = Some(shop.secret_key.as_str());
    let (status, body) = server.get(&base, key).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["count"], 6, "another project's event leaked in: {body}");
    assert_eq!(body["unique_message_ids"], 6);
    let events = body["events"].as_array().unwrap();
    assert_eq!(events[0]["message_id"], format!("msg-{}-5", shop.project_id), "newest first");
    assert_eq!(events[0]["properties"]["الحالة"], "جديد");

    let (_, body) = server.get(&format!("{base}?event=signup&count_only=true"), key).await;
    assert_eq!((body["count"].as_u64(), body.get("events")), (Some(3), None));
    let (_, body) = server.get(&format!("{base}?distinct_id=a&event=%24pageview"), key).await;
    assert_eq!(body["count"], 2);
    let (_, body) = server.get(&format!("{base}?from_ms=1764000001000&to_ms=1764000003000"), key).await;
    assert_eq!(body["count"], 2, "range is [from, to)");
    let (_, body) = server.get(&format!("{base}?message_id=msg-{}-4", shop.project_id), key).await;
    assert_eq!(body["count"], 1);
    let (_, body) = server.get(&format!("{base}?limit=2&offset=1"), key).await;
    assert_eq!(body["events"].as_array().unwrap().len(), 2);
    assert_eq!(body["count"], 6);
    let (_, body) = server.get(&format!("{base}?distinct_id=%27%20OR%201%3D1%20--"), key).await;
    assert_eq!(body["count"], 0, "injection through a filter must match nothing");

    // Bad queries name the field.
    let (status, body) = server.get(&format!("{base}?from_ms=5&to_ms=1"), key).await;
    assert_eq!((status, body["field"].as_str()), (400, Some("from_ms")));
    let (status, body) = server.get(&format!("{base}?limit=abc"), key).await;
    assert_eq!(status, 400, "{body}");

    // Access control: no key, malformed, the public write key, another project's key, revoked.
    for (key, expected) in [
        (None, 401),
        (Some("nsk_"), 401),
        (Some("garbage"), 401),
        (Some("nsk_unknownunknownunknown"), 401),
        (Some(shop.write_key.as_str()), 403),
        (Some(blog.secret_key.as_str()), 403),
    ] {
        let (status, body) = server.get(&base, key).await;
        assert_eq!(status, expected, "{key:?}: {body}");
        assert!(body["error"].as_str().is_some_and(|e| !e.is_empty()));
    }

    // Restart: the data is still there.
    assert!(server.terminate().success());
    let server = TestServer::start(&data);
    let (_, body) = server.get(&format!("{base}?count_only=true"), key).await;
    assert_eq!(body["count"], 6);
}
