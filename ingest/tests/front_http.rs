//! The collector's HTTP contract: every endpoint's happy path, and precise answers to
//! bad input, with the records handed to the sink (a recording sink: this checks what the
//! HTTP layer hands over, not durability).

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::http::{header, StatusCode};
use actix_web::{test, App};
use base64::Engine;
use numu_appstate::AppState;
use numu_ingest::front::{configure, Config, FrontState, PropertySchemas};
use numu_ingest::{DeadLetter, Record, Sink, SinkError};
use numu_schemas::EventRow;
use serde_json::{json, Value};

#[derive(Default)]
struct RecordingSink {
    records: Mutex<Vec<Record>>,
    full: AtomicBool,
}

#[async_trait::async_trait]
impl Sink for RecordingSink {
    async fn append(&self, records: Vec<Record>) -> Result<(), SinkError> {
        if self.full.load(Ordering::SeqCst) {
            return Err(SinkError::Full { retry_after_secs: 7 });
        }
        self.records.lock().unwrap().extend(records);
        Ok(())
    }
}

impl RecordingSink {
    fn take(&self) -> Vec<Record> {
        std::mem::take(&mut *self.records.lock().unwrap())
    }
}

fn events(records: &[Record]) -> Vec<&EventRow> {
    records.iter().filter_map(|r| if let Record::Event(e) = r { Some(&**e) } else { None }).collect()
}

fn dead_letters(records: &[Record]) -> Vec<&DeadLetter> {
    records.iter().filter_map(|r| if let Record::DeadLetter(d) = r { Some(d) } else { None }).collect()
}

struct Env {
    sink: Arc<RecordingSink>,
    key: String,
    app: AppState,
    project_id: i64,
}

async fn env_with(
    config: Config,
) -> (
    Env,
    impl Service<actix_http::Request, Response = ServiceResponse<impl MessageBody>, Error = actix_web::Error>,
) {
    env_with_schemas(config, |_| PropertySchemas::new()).await
}

async fn env_with_schemas(
    config: Config,
    schemas: impl FnOnce(u64) -> PropertySchemas,
) -> (
    Env,
    impl Service<actix_http::Request, Response = ServiceResponse<impl MessageBody>, Error = actix_web::Error>,
) {
    let app = AppState::in_memory().await.unwrap();
    let created = app.create_project("Shop").await.unwrap();
    let sink = Arc::new(RecordingSink::default());
    let schemas = schemas(created.project.id as u64);
    let state = FrontState::new(app.clone(), sink.clone(), config, schemas).unwrap();
    let service = test::init_service(App::new().configure(|cfg| configure(cfg, state))).await;
    (Env { sink, key: created.write_key, app, project_id: created.project.id }, service)
}

fn basic(key: &str) -> (header::HeaderName, String) {
    (
        header::AUTHORIZATION,
        format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{key}:"))),
    )
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(data).unwrap();
    encoder.finish().unwrap()
}

async fn send<S, B>(
    service: &S,
    req: test::TestRequest,
) -> (StatusCode, actix_web::http::header::HeaderMap, Value)
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let response = test::call_service(service, req.to_request()).await;
    let (status, headers) = (response.status(), response.headers().clone());
    let body = test::read_body(response).await;
    let json =
        serde_json::from_slice(&body).unwrap_or_else(|_| Value::String(format!("{} bytes", body.len())));
    (status, headers, json)
}

fn post(path: &str, body: impl Into<actix_web::web::Bytes>) -> test::TestRequest {
    test::TestRequest::post()
        .uri(path)
        .insert_header((header::CONTENT_TYPE, "application/json"))
        .set_payload(body.into())
}

#[actix_web::test]
async fn segment_single_endpoints_accept_their_messages() {
    let (env, service) = env_with(Config::default()).await;
    let cases = [
        ("/v1/track", json!({"event":"Signed Up","userId":"u1","properties":{"plan":"pro"}}), "Signed Up"),
        (
            "/v1/page",
            json!({"anonymousId":"a1","name":"Home","properties":{"url":"https://shop.example/?utm_source=x"}}),
            "$pageview",
        ),
        ("/v1/screen", json!({"userId":"u1","name":"Settings"}), "$screen"),
        ("/v1/identify", json!({"userId":"u1","anonymousId":"a1","traits":{"email":"a@b.c"}}), "$identify"),
        ("/v1/alias", json!({"userId":"u1","previousId":"old"}), "$create_alias"),
        ("/v1/group", json!({"userId":"u1","groupId":"acme","traits":{"seats":3}}), "$groupidentify"),
    ];
    for (path, body, stored) in cases {
        let (status, _, answer) =
            send(&service, post(path, body.to_string()).insert_header(basic(&env.key))).await;
        assert_eq!((status, answer), (StatusCode::OK, json!({"success": true})), "{path}");
        let records = env.sink.take();
        let rows = events(&records);
        assert_eq!(rows.len(), 1, "{path}");
        assert_eq!((rows[0].event.as_str(), rows[0].project_id), (stored, env.project_id as u64), "{path}");
        match path {
            "/v1/identify" => {
                assert!(records
                    .iter()
                    .any(|r| matches!(r, Record::Link(l) if l.linked_id == "a1" && l.kind == "identify")));
                assert!(records.iter().any(|r| matches!(r, Record::PersonUpdate(p) if p.set_properties == vec![("email".to_string(), "a@b.c".to_string())])));
            }
            "/v1/alias" => assert!(records
                .iter()
                .any(|r| matches!(r, Record::Link(l) if l.linked_id == "old" && l.kind == "alias"))),
            "/v1/page" => assert_eq!(rows[0].utm_source, "x"),
            _ => {}
        }
    }
}

#[actix_web::test]
async fn analytics_node_batches_are_accepted() {
    let (env, service) = env_with(Config::default()).await;
    // The shape @segment/analytics-node 3.1.0 sends: Basic auth, writeKey and sentAt in
    // the body, `_metadata` on each event, no compression.
    let body = json!({
        "batch": [
            {"type":"track","event":"Order Completed","userId":"u1","messageId":"node-1","timestamp":"2026-01-01T00:00:00.000Z",
             "properties":{"revenue":30},"context":{"library":{"name":"@segment/analytics-node","version":"3.1.0"}},
             "integrations":{},"_metadata":{"nodeVersion":"22.0.0","jsRuntime":"node"}},
            {"type":"identify","userId":"u1","traits":{"name":"Ada"},"messageId":"node-2","timestamp":"2026-01-01T00:00:01.000Z"}
        ],
        "writeKey": env.key,
        "sentAt": "2026-01-01T00:00:02.000Z"
    });
    let req = post("/v1/batch", body.to_string())
        .insert_header(basic(&env.key))
        .insert_header((header::USER_AGENT, "analytics-node-next/latest"));
    let (status, _, answer) = send(&service, req).await;
    assert_eq!((status, answer), (StatusCode::OK, json!({"success": true, "accepted": 2, "refused": []})));
    let records = env.sink.take();
    let rows = events(&records);
    assert_eq!(
        (rows[0].message_id.as_str(), rows[0].library.as_str(), rows[0].revenue),
        ("node-1", "@segment/analytics-node", 30.0)
    );
    assert_eq!(rows[0].browser, "", "the server library's own agent is not the user's");
    // The key may also come in the body alone.
    let (status, _, _) = send(&service, post("/v1/batch", body.to_string())).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _, _) =
        send(&service, post("/v1/track", json!({"event":"e","userId":"u","writeKey":env.key}).to_string()))
            .await;
    assert_eq!(status, StatusCode::OK);
}

#[actix_web::test]
async fn a_batch_with_bad_events_refuses_only_those() {
    let (env, service) = env_with(Config::default()).await;
    let body = json!({"batch":[
        {"type":"track","event":"ok","userId":"u"},
        {"type":"track","userId":"u"},
        {"type":"track","event":"e","userId":{"id":1}},
        {"type":"launch","event":"e","userId":"u"},
        {"event":"e","userId":"u"}
    ]});
    let (status, _, answer) =
        send(&service, post("/v1/batch", body.to_string()).insert_header(basic(&env.key))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(answer["accepted"], 1);
    let refused: Vec<(u64, &str)> = answer["refused"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["index"].as_u64().unwrap(), r["code"].as_str().unwrap()))
        .collect();
    assert_eq!(
        refused,
        vec![(1, "missing_field"), (2, "wrong_type"), (3, "wrong_type"), (4, "missing_field")]
    );
    assert_eq!(answer["refused"][0]["reason"], "missing field `event`");
    assert_eq!(
        answer["refused"][1]["reason"],
        "`userId` has the wrong type: expected a string or number, got an object"
    );
    assert!(answer["refused"][2]["reason"].as_str().unwrap().contains("unknown variant `launch`"));
    let records = env.sink.take();
    let letters = dead_letters(&records);
    assert_eq!(letters.iter().map(|d| d.event_index).collect::<Vec<_>>(), vec![1, 2, 3, 4]);
    assert_eq!(letters[0].raw, serde_json::to_vec(&body["batch"][1]).unwrap());
    assert_eq!((letters[0].endpoint.as_str(), letters[0].project_id), ("/v1/batch", env.project_id as u64));
}

/// Sends `body` to `/v1/track` with a valid key; returns status, answer and dead letters.
async fn refused_track<S, B>(
    env: &Env,
    service: &S,
    req: test::TestRequest,
) -> (StatusCode, Value, Vec<DeadLetter>)
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let (status, _, answer) = send(service, req.insert_header(basic(&env.key))).await;
    let records = env.sink.take();
    assert!(events(&records).is_empty());
    (status, answer, dead_letters(&records).into_iter().cloned().collect())
}

#[actix_web::test]
async fn malformed_bodies_get_precise_errors_and_are_dead_lettered() {
    let (env, service) = env_with(Config::default()).await;
    let cases: Vec<(&str, Vec<u8>, StatusCode, &str, &str)> = vec![
        (
            "/v1/track",
            b"{\"event\":".to_vec(),
            StatusCode::BAD_REQUEST,
            "invalid_json",
            "invalid JSON: EOF while parsing a value at line 1 column 9",
        ),
        (
            "/v1/track",
            b"{\"event\":\"a\xff\"}".to_vec(),
            StatusCode::BAD_REQUEST,
            "invalid_utf8",
            "body is not valid UTF-8 (first invalid byte at offset 11)",
        ),
        (
            "/v1/track",
            br#"{"event":"e","userId":"u","properties":"x"}"#.to_vec(),
            StatusCode::BAD_REQUEST,
            "wrong_type",
            "`properties` has the wrong type: invalid type: string \"x\", expected a map",
        ),
        (
            "/v1/track",
            br#"{"event":"e","userId":"u","context":{"page":{"url":5}}}"#.to_vec(),
            StatusCode::BAD_REQUEST,
            "wrong_type",
            "`context.page.url` has the wrong type: invalid type: integer `5`, expected a string",
        ),
        (
            "/v1/track",
            br#"{"userId":"u"}"#.to_vec(),
            StatusCode::BAD_REQUEST,
            "missing_field",
            "missing field `event`",
        ),
        (
            "/v1/alias",
            br#"{"userId":"u"}"#.to_vec(),
            StatusCode::BAD_REQUEST,
            "missing_field",
            "missing field `previousId`",
        ),
        (
            "/v1/track",
            br#"{"event":"e"}"#.to_vec(),
            StatusCode::BAD_REQUEST,
            "missing_field",
            "missing field `userId or anonymousId`",
        ),
        (
            "/v1/track",
            br#"[1,2]"#.to_vec(),
            StatusCode::BAD_REQUEST,
            "wrong_type",
            "`(root)` has the wrong type: expected a JSON object",
        ),
        (
            "/v1/batch",
            br#"{"batch":{}}"#.to_vec(),
            StatusCode::BAD_REQUEST,
            "wrong_type",
            "`batch` has the wrong type: invalid type: map, expected a sequence",
        ),
        ("/v1/batch", br#"{}"#.to_vec(), StatusCode::BAD_REQUEST, "missing_field", "missing field `batch`"),
    ];
    for (path, body, want_status, want_code, want_message) in cases {
        let (status, answer, letters) = refused_track(&env, &service, post(path, body.clone())).await;
        assert_eq!(status, want_status, "{path} {answer}");
        assert_eq!(answer, json!({"error": want_message, "code": want_code}), "{path}");
        assert_eq!(letters.len(), 1, "{path} {answer}");
        assert_eq!((letters[0].reason.as_str(), letters[0].detail.as_str()), (want_code, want_message));
        assert_eq!(
            (letters[0].raw.as_slice(), letters[0].project_id),
            (body.as_slice(), env.project_id as u64)
        );
    }
}

#[actix_web::test]
async fn size_limits_answer_413() {
    let config = Config { max_event_bytes: 1000, max_batch_bytes: 5000, ..Config::default() };
    let (env, service) = env_with(config).await;
    let big = json!({"event":"e","userId":"u","properties":{"x":"y".repeat(1200)}}).to_string();
    let (status, answer, letters) = refused_track(&env, &service, post("/v1/track", big.clone())).await;
    assert_eq!((status, answer["code"].as_str()), (StatusCode::PAYLOAD_TOO_LARGE, Some("payload_too_large")));
    assert_eq!(letters[0].raw.len(), 1000, "the prefix read is kept");
    // Oversize batch, and oversize event inside an acceptable batch.
    let batch = json!({"batch": vec![json!({"type":"track","event":"e","userId":"u","properties":{"x":"y".repeat(900)}}); 6]}).to_string();
    let (status, answer, _) = refused_track(&env, &service, post("/v1/batch", batch)).await;
    assert_eq!((status, answer["code"].as_str()), (StatusCode::PAYLOAD_TOO_LARGE, Some("payload_too_large")));
    let batch =
        json!({"batch": [{"type":"track","event":"e","userId":"u","properties":{"x":"y".repeat(1200)}}]})
            .to_string();
    let (status, _, answer) = send(&service, post("/v1/batch", batch).insert_header(basic(&env.key))).await;
    assert_eq!((status, answer["refused"][0]["code"].as_str()), (StatusCode::OK, Some("event_too_large")));
    env.sink.take();
    // A gzip bomb: 2 KB on the wire, far past the cap unpacked.
    let bomb = gzip(&vec![b' '; 2_000_000]);
    let req = post("/v1/batch", bomb.clone()).insert_header((header::CONTENT_ENCODING, "gzip"));
    let (status, answer, letters) = refused_track(&env, &service, req).await;
    assert_eq!(
        (status, answer["code"].as_str()),
        (StatusCode::PAYLOAD_TOO_LARGE, Some("decompressed_too_large"))
    );
    assert_eq!(letters[0].raw, bomb);
    let req = post("/v1/track", b"not gzip".to_vec()).insert_header((header::CONTENT_ENCODING, "gzip"));
    let (status, answer, _) = refused_track(&env, &service, req).await;
    assert_eq!((status, answer["code"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_gzip")));
    let req = post("/v1/track", b"{}".to_vec()).insert_header((header::CONTENT_ENCODING, "br"));
    let (status, _, _) = refused_track(&env, &service, req).await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
}

#[actix_web::test]
async fn gzip_bodies_are_accepted_by_header_or_magic() {
    let (env, service) = env_with(Config::default()).await;
    let body = gzip(json!({"batch":[{"type":"track","event":"e","userId":"u"}]}).to_string().as_bytes());
    for with_header in [true, false] {
        let mut req = post("/v1/batch", body.clone()).insert_header(basic(&env.key));
        if with_header {
            req = req.insert_header((header::CONTENT_ENCODING, "gzip"));
        }
        let (status, _, answer) = send(&service, req).await;
        assert_eq!((status, answer["accepted"].as_u64()), (StatusCode::OK, Some(1)));
    }
    assert_eq!(events(&env.sink.take()).len(), 2);
}

#[actix_web::test]
async fn keys_are_checked() {
    let (env, service) = env_with(Config { key_cache_ttl_secs: 0, ..Config::default() }).await;
    let track = || json!({"event":"e","userId":"u"}).to_string();
    let cases = [
        (Some(basic("nw_unknownkey")), StatusCode::UNAUTHORIZED, "unknown_write_key"),
        (Some(basic("garbage'key")), StatusCode::UNAUTHORIZED, "unknown_write_key"),
        (None, StatusCode::UNAUTHORIZED, "missing_write_key"),
    ];
    for (auth, want_status, want_code) in cases {
        let mut req = post("/v1/track", track());
        if let Some(auth) = auth {
            req = req.insert_header(auth);
        }
        let (status, _, answer) = send(&service, req).await;
        assert_eq!((status, answer["code"].as_str()), (want_status, Some(want_code)));
    }
    env.app.set_write_key_disabled(env.project_id, true).await.unwrap();
    let (status, _, answer) = send(&service, post("/v1/track", track()).insert_header(basic(&env.key))).await;
    assert_eq!((status, answer["code"].as_str()), (StatusCode::FORBIDDEN, Some("disabled_write_key")));
    let (status, _, _) = send(&service, post(&format!("/e?k={}", env.key), r#"{"t":"page"}"#)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(env.sink.take().is_empty(), "credential failures are never stored");
}

#[actix_web::test]
async fn unreadable_payloads_without_a_key_are_kept_within_a_budget() {
    let (env, service) = env_with(Config { anonymous_dead_letters_per_minute: 1, ..Config::default() }).await;
    for _ in 0..3 {
        let (status, _, answer) = send(&service, post("/v1/batch", "{oops")).await;
        assert_eq!((status, answer["code"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_json")));
    }
    let records = env.sink.take();
    let letters = dead_letters(&records);
    assert_eq!(letters.len(), 1, "one per minute");
    assert_eq!((letters[0].project_id, letters[0].raw.as_slice()), (0, b"{oops".as_slice()));
}

#[actix_web::test]
async fn wrong_methods_answer_405() {
    let (_env, service) = env_with(Config::default()).await;
    for (req, allow) in [
        (test::TestRequest::get().uri("/v1/track"), "POST"),
        (test::TestRequest::put().uri("/v1/batch"), "POST"),
        (test::TestRequest::delete().uri("/e"), "POST, OPTIONS"),
        (test::TestRequest::post().uri("/p.gif"), "GET, HEAD"),
    ] {
        let (status, headers, answer) = send(&service, req).await;
        assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(headers.get(header::ALLOW).unwrap(), allow);
        assert_eq!(answer["code"], "method_not_allowed");
    }
}

#[actix_web::test]
async fn a_full_log_answers_503_with_retry_after() {
    let (env, service) = env_with(Config::default()).await;
    env.sink.full.store(true, Ordering::SeqCst);
    let (status, headers, answer) = send(
        &service,
        post("/v1/track", json!({"event":"e","userId":"u"}).to_string()).insert_header(basic(&env.key)),
    )
    .await;
    assert_eq!((status, answer["code"].as_str()), (StatusCode::SERVICE_UNAVAILABLE, Some("log_full")));
    assert_eq!(headers.get(header::RETRY_AFTER).unwrap(), "7");
    // The pixel still renders.
    let response = test::call_service(
        &service,
        test::TestRequest::get().uri(&format!("/p.gif?k={}", env.key)).to_request(),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
}

#[actix_web::test]
async fn the_snippet_endpoint_takes_text_plain_arrays_with_cors() {
    let (env, service) = env_with(Config::default()).await;
    let body = r#"[{"t":"page","id":"m1","ts":1767225600000,"url":"https://shop.example/","a":"anon"},
                   {"t":"track","e":"Clicked","id":"m2","ts":1767225600001,"a":"anon","p":{"button":"buy"}},
                   {"t":"bogus","id":"m3","ts":1}]"#;
    let req = test::TestRequest::post()
        .uri(&format!("/e?k={}", env.key))
        .insert_header((header::CONTENT_TYPE, "text/plain;charset=UTF-8"))
        .insert_header((header::ORIGIN, "https://shop.example"))
        .insert_header((
            header::USER_AGENT,
            "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0",
        ))
        .set_payload(body);
    let (status, headers, answer) = send(&service, req).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(answer["accepted"], 2);
    assert_eq!(
        (answer["refused"][0]["index"].as_u64(), answer["refused"][0]["code"].as_str()),
        (Some(2), Some("invalid_value"))
    );
    assert_eq!(headers.get(header::ACCESS_CONTROL_ALLOW_ORIGIN).unwrap(), "*");
    assert_eq!(headers.get(header::ACCESS_CONTROL_EXPOSE_HEADERS).unwrap(), "Retry-After");
    let records = env.sink.take();
    let rows = events(&records);
    assert_eq!((rows[0].browser.as_str(), rows[0].library.as_str()), ("Firefox", "numu-js"));
    assert_eq!(rows[1].properties, vec![("button".to_string(), "buy".to_string())]);
    // One object alone; a bad one alone is a 400.
    let (status, _, answer) = send(
        &service,
        post(&format!("/e?k={}", env.key), r#"{"t":"track","e":"x","id":"m4","ts":1767225600000}"#),
    )
    .await;
    assert_eq!((status, answer), (StatusCode::OK, json!({"accepted": 1})));
    let (status, _, answer) =
        send(&service, post(&format!("/e?k={}", env.key), r#"{"t":"track","id":"m5","ts":1,"sw":"wide"}"#))
            .await;
    assert_eq!(
        (status, answer["error"].as_str()),
        (
            StatusCode::BAD_REQUEST,
            Some("`sw` has the wrong type: invalid type: string \"wide\", expected u32")
        )
    );
    let (status, headers, answer) = send(&service, post("/e?k=nw_nope", "{}")).await;
    assert_eq!((status, answer["code"].as_str()), (StatusCode::UNAUTHORIZED, Some("unknown_write_key")));
    assert_eq!(headers.get(header::ACCESS_CONTROL_ALLOW_ORIGIN).unwrap(), "*", "errors are readable too");
}

#[actix_web::test]
async fn preflight_answers_for_the_project() {
    let (env, service) = env_with(Config::default()).await;
    let req = test::TestRequest::default()
        .method(actix_web::http::Method::OPTIONS)
        .uri(&format!("/e?k={}", env.key))
        .insert_header((header::ORIGIN, "https://shop.example"))
        .insert_header((header::ACCESS_CONTROL_REQUEST_METHOD, "POST"));
    let (status, headers, _) = send(&service, req).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(headers.get(header::ACCESS_CONTROL_ALLOW_ORIGIN).unwrap(), "https://shop.example");
    assert_eq!(headers.get(header::ACCESS_CONTROL_ALLOW_METHODS).unwrap(), "POST, OPTIONS");
    let req = test::TestRequest::default().method(actix_web::http::Method::OPTIONS).uri("/e?k=nw_nope");
    let (status, _, _) = send(&service, req).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[actix_web::test]
async fn the_pixel_always_renders() {
    let (env, service) = env_with(Config::default()).await;
    let uris = [
        format!("/p.gif?k={}&e=Newsletter%20Open&u=u1&id=p1&url=https%3A%2F%2Fmail.example%2F%3Futm_medium%3Demail", env.key),
        format!("/p.gif?k={}&p=%5Bnot-an-object", env.key),
        "/p.gif?k=nw_unknown".to_string(),
        format!("/p.gif?k={}&t=track&e=No%20JS", env.key),
        "/p.gif".to_string(),
    ];
    for uri in &uris {
        let req =
            test::TestRequest::get().uri(uri).insert_header((header::REFERER, "https://blog.example/post"));
        let response = test::call_service(&service, req.to_request()).await;
        assert_eq!(response.status(), StatusCode::OK, "{uri}");
        assert_eq!(response.headers().get(header::CONTENT_TYPE).unwrap(), "image/gif");
        assert!(response
            .headers()
            .get(header::CACHE_CONTROL)
            .unwrap()
            .to_str()
            .unwrap()
            .contains("no-store"));
        let body = test::read_body(response).await;
        assert!(body.starts_with(b"GIF89a") && body.len() == 43);
    }
    let records = env.sink.take();
    let rows = events(&records);
    assert_eq!(rows.len(), 2);
    assert_eq!(
        (rows[0].event.as_str(), rows[0].user_id.as_str(), rows[0].channel.as_str()),
        ("$pageview", "u1", "email")
    );
    // Without `url`, the page is the one that sent the Referer.
    let pixel_row = (rows[1].event.as_str(), rows[1].host.as_str(), rows[1].library.as_str());
    assert_eq!(pixel_row, ("No JS", "blog.example", "numu-pixel"));
    assert_eq!(rows[0].properties, vec![("$name".to_string(), "Newsletter Open".to_string())]);
    let letters = dead_letters(&records);
    assert_eq!((letters.len(), letters[0].reason.as_str()), (1, "wrong_type"));
}

#[actix_web::test]
async fn property_schemas_refuse_events_that_do_not_match() {
    let (env, service) = env_with_schemas(Config::default(), |project_id| {
        let mut schemas = PropertySchemas::new();
        let schema =
            json!({"type":"object","required":["order_id"],"properties":{"order_id":{"type":"string"}}});
        schemas.insert(project_id, "Order Completed", &schema).unwrap();
        schemas
    })
    .await;
    let body = json!({"batch":[
        {"type":"track","event":"Order Completed","userId":"u","properties":{"order_id":"o1"}},
        {"type":"track","event":"Order Completed","userId":"u","properties":{"order_id":7}},
        {"type":"track","event":"Other","userId":"u","properties":{"order_id":7}}
    ]});
    let (status, _, answer) =
        send(&service, post("/v1/batch", body.to_string()).insert_header(basic(&env.key))).await;
    assert_eq!((status, answer["accepted"].as_u64()), (StatusCode::OK, Some(2)));
    assert_eq!(answer["refused"][0]["code"], "schema_violation");
    assert_eq!(
        answer["refused"][0]["reason"],
        "properties of `Order Completed` do not match the project's schema: `properties.order_id` must be string, got a number"
    );
    assert_eq!(dead_letters(&env.sink.take())[0].event_index, 1);
}
