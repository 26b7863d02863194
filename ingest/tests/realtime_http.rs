//! The real-time endpoints over real sockets: JSON figures, the SSE stream (latency,
//! reconnection, the per-project cap) and who may read them.

mod realtime_support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use actix_web::HttpRequest;
use numu_appstate::{AppState, Denied};
use numu_ingest::realtime::{Config, Realtime, SessionAuth, SessionOutcome};
use numu_schemas::EventRow;
use realtime_support::*;
use serde_json::Value;

async fn setup(config: Config) -> (Realtime, AppState, Keys, String, actix_web::dev::ServerHandle) {
    let realtime = Realtime::new(config).unwrap();
    let app_state = AppState::in_memory().await.unwrap();
    let keys = project(&app_state, "Shop").await;
    let (listener, url) = bind();
    let handle = serve(listener, state(&realtime, &app_state).await);
    (realtime, app_state, keys, url, handle)
}

async fn open_stream(url: &str, keys: &Keys, last_event_id: Option<u64>) -> reqwest::Response {
    let mut request = client()
        .get(format!("{url}/api/projects/{}/realtime/stream", keys.project_id))
        .bearer_auth(&keys.read);
    if let Some(id) = last_event_id {
        request = request.header("last-event-id", id.to_string());
    }
    request.send().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn figures_are_served_as_json() {
    let (realtime, _app, keys, url, handle) = setup(config()).await;
    for (visitor, path) in [("a", "/"), ("b", "/pricing"), ("a", "/pricing"), ("c", "/pricing")] {
        realtime.observe(&pageview(keys.project_id, visitor, path), now_ms());
    }
    realtime.observe(&EventRow { is_bot: true, ..pageview(keys.project_id, "bot", "/") }, now_ms());
    let response = client()
        .get(format!("{url}/api/projects/{}/realtime", keys.project_id))
        .bearer_auth(&keys.read)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["visitors"][0]["minutes"], 5);
    assert_eq!(body["visitors"][0]["estimate"], 3);
    assert_eq!(body["visitors"][0]["error_bound"], 0);
    assert_eq!(body["visitors"][0]["exact"], true);
    assert_eq!(body["visitors"][1]["minutes"], 30);
    assert_eq!(body["events_per_minute"].as_array().unwrap().len(), 30);
    assert_eq!(body["events_per_minute"][29]["events"], 4);
    assert_eq!(body["events_per_minute"][29]["bot_events"], 1);
    assert_eq!(
        body["top_pages"]["items"][0],
        serde_json::json!({"key": "/pricing", "count": 3, "error_bound": 0})
    );
    assert_eq!(body["top_sources"]["items"][0]["key"], "direct");
    assert_eq!(body["collectors"], 1);
    handle.stop(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_stream_delivers_an_event_within_one_second() {
    let (realtime, _app, keys, url, handle) = setup(config()).await;
    let response = open_stream(&url, &keys, None).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    let mut reader = SseReader::new(response);
    let first = reader.next_data(Duration::from_secs(2)).await.expect("an immediate snapshot");
    assert_eq!(first.id, Some(1));
    assert_eq!(first.retry, Some(2000));
    assert_eq!(first.snapshot().visitors[0].count.estimate, 0);
    let mut worst = Duration::ZERO;
    for i in 1..=5u64 {
        // Land at different phases of the stream's tick.
        tokio::time::sleep(Duration::from_millis(130 * i)).await;
        let sent = Instant::now();
        realtime.observe(&pageview(keys.project_id, &format!("v{i}"), "/launch"), now_ms());
        loop {
            let message = reader.next_data(Duration::from_secs(2)).await.expect("an update");
            if message.snapshot().visitors[0].count.estimate == i {
                worst = worst.max(sent.elapsed());
                break;
            }
        }
    }
    eprintln!("slowest update: {worst:?}");
    assert!(worst < Duration::from_secs(1), "slowest update took {worst:?}");
    handle.stop(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reconnecting_client_resumes_with_a_full_snapshot() {
    let (realtime, _app, keys, url, handle) = setup(config()).await;
    realtime.observe(&pageview(keys.project_id, "early", "/"), now_ms());
    let mut reader = SseReader::new(open_stream(&url, &keys, None).await);
    assert_eq!(reader.next_data(Duration::from_secs(2)).await.unwrap().id, Some(1));
    realtime.observe(&pageview(keys.project_id, "second", "/"), now_ms());
    let second = reader.next_data(Duration::from_secs(2)).await.unwrap();
    assert_eq!(second.id, Some(2));
    drop(reader);
    let started = Instant::now();
    let mut reader = SseReader::new(open_stream(&url, &keys, Some(2)).await);
    let resumed = reader.next_data(Duration::from_secs(2)).await.unwrap();
    assert!(started.elapsed() < Duration::from_millis(500), "immediately: {:?}", started.elapsed());
    assert_eq!(resumed.id, Some(3));
    let snapshot = resumed.snapshot();
    assert_eq!(snapshot.visitors[0].count.estimate, 2, "a complete snapshot, not a delta");
    assert_eq!(snapshot.events_per_minute.len(), 30);
    // Nothing changes: heartbeat comments keep the connection alive.
    let quiet = tokio::time::timeout(Duration::from_secs(3), reader.next()).await.unwrap().unwrap();
    assert_eq!(quiet.comments, vec!["heartbeat".to_string()]);
    handle.stop(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streams_are_capped_per_project() {
    let (_realtime, app_state, keys, url, handle) =
        setup(Config { max_streams_per_project: 2, ..config() }).await;
    let mut first = SseReader::new(open_stream(&url, &keys, None).await);
    let mut second = SseReader::new(open_stream(&url, &keys, None).await);
    assert!(first.next_data(Duration::from_secs(2)).await.is_some());
    assert!(second.next_data(Duration::from_secs(2)).await.is_some());
    let refused = open_stream(&url, &keys, None).await;
    assert_eq!(refused.status(), 429);
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["code"], "too_many_streams");
    assert!(body["error"].as_str().unwrap().contains("max_streams_per_project"), "{body}");
    // Another project has its own allowance.
    let other = project(&app_state, "Blog").await;
    assert_eq!(open_stream(&url, &other, None).await.status(), 200);
    // A closed stream gives its slot back (noticed at the latest on the next heartbeat).
    drop(first);
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let response = open_stream(&url, &keys, None).await;
        if response.status() == 200 {
            break;
        }
        assert!(Instant::now() < deadline, "the slot never came back");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    handle.stop(false).await;
}

async fn status_and_code(request: reqwest::RequestBuilder) -> (u16, String) {
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    (status, body["code"].as_str().unwrap_or("").to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_secret_read_keys_of_the_project_are_accepted() {
    let (_realtime, app_state, keys, url, handle) = setup(config()).await;
    let unknown = format!("{}x", keys.read);
    let revoked = {
        let (key, secret) = app_state
            .create_api_key(keys.project_id as i64, "gone", &[numu_appstate::Scope::Read])
            .await
            .unwrap();
        app_state.revoke_api_key(keys.project_id as i64, key.id).await.unwrap();
        secret
    };
    for route in ["realtime", "realtime/stream", "realtime/sketches"] {
        let at = format!("{url}/api/projects/{}/{route}", keys.project_id);
        let cases: Vec<(reqwest::RequestBuilder, u16, &str)> = vec![
            (client().get(&at), 401, "unauthenticated"),
            (client().get(&at).header("authorization", "Bearer nsk_bad'key"), 401, "unauthenticated"),
            (client().get(&at).bearer_auth(&unknown), 401, "unauthenticated"),
            (client().get(&at).bearer_auth(&revoked), 401, "unauthenticated"),
            (client().get(&at).bearer_auth(&keys.write), 403, "forbidden"),
            (client().get(&at).bearer_auth(&keys.other_project), 403, "forbidden"),
            (client().get(format!("{at}?key={}", keys.read)), 401, "unauthenticated"),
            (
                client().get(format!("{url}/api/projects/0/{route}")).bearer_auth(&keys.read),
                400,
                "bad_request",
            ),
        ];
        for (i, (request, status, code)) in cases.into_iter().enumerate() {
            assert_eq!(status_and_code(request).await, (status, code.to_string()), "{route} case {i}");
        }
        let ok = client().get(&at).bearer_auth(&keys.read).send().await.unwrap();
        assert_eq!(ok.status(), 200, "{route}");
    }
    handle.stop(false).await;
}

/// A stand-in for the dashboard's sessions: cookie `session=<project id>`.
struct CookieSessions;

#[async_trait::async_trait(?Send)]
impl SessionAuth for CookieSessions {
    async fn check(&self, req: &HttpRequest, project_id: i64) -> SessionOutcome {
        let cookie = req.headers().get("cookie").and_then(|v| v.to_str().ok());
        match cookie.and_then(|c| c.strip_prefix("session=")) {
            None => SessionOutcome::NoSession,
            Some(value) if value == project_id.to_string() => SessionOutcome::Allowed,
            Some(_) => SessionOutcome::Refused(Denied::WrongProject),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browsers_stream_with_the_dashboard_session() {
    let realtime = Realtime::new(config()).unwrap();
    let app_state = AppState::in_memory().await.unwrap();
    let keys = project(&app_state, "Shop").await;
    let (listener, url) = bind();
    let state = state(&realtime, &app_state).await.with_session_auth(Arc::new(CookieSessions));
    let handle = serve(listener, state);
    let at = format!("{url}/api/projects/{}/realtime/stream", keys.project_id);
    let mine =
        client().get(&at).header("cookie", format!("session={}", keys.project_id)).send().await.unwrap();
    assert_eq!(mine.status(), 200);
    assert!(SseReader::new(mine).next_data(Duration::from_secs(2)).await.is_some());
    assert_eq!(
        status_and_code(client().get(&at).header("cookie", "session=999")).await,
        (403, "forbidden".into())
    );
    assert_eq!(status_and_code(client().get(&at)).await, (401, "unauthenticated".into()));
    // Peers' sketches are not for browsers.
    let sketches = format!("{url}/api/projects/{}/realtime/sketches", keys.project_id);
    let cookie = format!("session={}", keys.project_id);
    assert_eq!(status_and_code(client().get(&sketches).header("cookie", cookie)).await.0, 401);
    handle.stop(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streams_of_a_project_share_one_computation() {
    let (realtime, _app, keys, url, handle) = setup(config()).await;
    let mut readers = Vec::new();
    for _ in 0..3 {
        let mut reader = SseReader::new(open_stream(&url, &keys, None).await);
        reader.next_data(Duration::from_secs(2)).await.unwrap();
        readers.push(reader);
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    realtime.observe(&pageview(keys.project_id, "v", "/"), now_ms());
    // The first snapshot showing the visitor: a tick computed just before `observe` may
    // still be on its way (a loaded machine delays delivery, not the computation).
    let mut computed_at = Vec::new();
    for reader in &mut readers {
        let deadline = Instant::now() + Duration::from_secs(3);
        let snapshot = loop {
            let snapshot = reader.next_data(Duration::from_secs(2)).await.unwrap().snapshot();
            if snapshot.visitors[0].count.estimate == 1 || Instant::now() > deadline {
                break snapshot;
            }
        };
        assert_eq!(snapshot.visitors[0].count.estimate, 1);
        computed_at.push(snapshot.generated_at_ms);
    }
    computed_at.dedup();
    assert_eq!(computed_at.len(), 1, "one computation served every stream");
    handle.stop(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streams_end_after_their_maximum_age() {
    let (_realtime, _app, keys, url, handle) = setup(Config { stream_max_secs: 1, ..config() }).await;
    let started = Instant::now();
    let mut reader = SseReader::new(open_stream(&url, &keys, None).await);
    assert!(reader.next_data(Duration::from_secs(2)).await.is_some());
    let ended =
        tokio::time::timeout(Duration::from_secs(5), async { while reader.next().await.is_some() {} }).await;
    assert!(ended.is_ok(), "the stream should end so the client reconnects and re-authenticates");
    assert!(started.elapsed() >= Duration::from_secs(1));
    handle.stop(false).await;
}
