//! The HTTP sender against a tiny recording receiver on 127.0.0.1:0 (this tests the sender,
//! not the pipeline): Segment batches with Basic auth, size limits, retries on 503 with
//! `Retry-After`, splitting on 413, and refusals counted.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use numu_load_tests::demo::{load_over_http, preflight, send_all, DemoError, SendError, SendOptions};
use numu_load_tests::model::{Generator, ModelConfig};
use serde_json::Value;

#[derive(Default)]
struct Received {
    requests: u64,
    auth: BTreeSet<String>,
    /// Message ids of every accepted batch, with repeats.
    ids: Vec<String>,
    batch_sizes: Vec<usize>,
}

type Shared = Arc<Mutex<Received>>;

/// Answers 400 to bodies that are not JSON, 503 to every third request, 413 to batches over 40 messages, and refuses the
/// first message of every accepted batch whose first id starts with `0`.
async fn batch(request: HttpRequest, body: web::Bytes, state: web::Data<Shared>) -> HttpResponse {
    let mut state = state.lock().unwrap();
    state.requests += 1;
    if let Some(auth) = request.headers().get("authorization") {
        state.auth.insert(auth.to_str().unwrap().to_string());
    }
    if state.requests.is_multiple_of(3) {
        return HttpResponse::ServiceUnavailable().insert_header(("Retry-After", "0")).finish();
    }
    let Ok(parsed) = serde_json::from_slice::<Value>(&body) else {
        return HttpResponse::BadRequest().finish();
    };
    let messages = parsed["batch"].as_array().unwrap();
    if messages.len() > 40 {
        return HttpResponse::PayloadTooLarge().finish();
    }
    assert!(parsed["sentAt"].is_string());
    state.batch_sizes.push(messages.len());
    state.ids.extend(messages.iter().map(|m| m["messageId"].as_str().unwrap().to_string()));
    let first = messages[0]["messageId"].as_str().unwrap();
    if first.starts_with('0') {
        HttpResponse::Ok().json(serde_json::json!({"refused": [{"index": 0, "reason": "test_refusal"}]}))
    } else {
        HttpResponse::Ok().json(serde_json::json!({"success": true}))
    }
}

async fn receiver(answer_batch: bool) -> (String, Shared) {
    let state: Shared = Arc::default();
    let data = web::Data::new(state.clone());
    let server = HttpServer::new(move || {
        let app = App::new().app_data(data.clone()).route("/healthz", web::get().to(HttpResponse::Ok));
        if answer_batch {
            app.route("/v1/batch", web::post().to(batch))
        } else {
            app
        }
    })
    .workers(1)
    .bind(("127.0.0.1", 0))
    .unwrap();
    let address = server.addrs()[0];
    tokio::spawn(server.run());
    (format!("http://{address}"), state)
}

fn model() -> ModelConfig {
    ModelConfig { seed: 5, days: 2, visitors_per_day: 40.0, ..ModelConfig::default() }
}

#[tokio::test]
async fn every_message_arrives_despite_retries_and_splits() {
    let (url, state) = receiver(true).await;
    preflight(&url).await.unwrap();
    let probes = state.lock().unwrap().requests;
    let mut options = SendOptions::new(&url, "nwk_test");
    options.max_batch_messages = 60;
    options.concurrency = 3;
    let expected: Vec<String> = Generator::new(model()).unwrap().map(|m| m.message_id.unwrap()).collect();
    let mut seen = Vec::new();
    let report = send_all(Generator::new(model()).unwrap(), &options, |r| seen.push(r.sent)).await.unwrap();
    let state = state.lock().unwrap();
    assert_eq!(report.sent, expected.len() as u64);
    let received: BTreeSet<&String> = state.ids.iter().collect();
    assert_eq!(received.len(), expected.len(), "every message arrived");
    assert_eq!(state.ids.len(), expected.len(), "nothing was accepted twice");
    assert!(state.batch_sizes.iter().all(|n| *n <= 40), "413 made the sender split");
    assert!(report.retries > 0 && report.requests == state.requests - probes, "{report:?}");
    assert!(report.refused > 0 && report.refused <= state.batch_sizes.len() as u64, "{report:?}");
    assert_eq!(report.refusal_reasons["test_refusal"], report.refused);
    assert_eq!(report.accepted + report.refused, report.sent);
    let auth: Vec<&String> = state.auth.iter().collect();
    assert_eq!(auth, vec!["Basic bndrX3Rlc3Q6"], "Basic base64(\"nwk_test:\")");
    assert!(seen.windows(2).all(|w| w[0] <= w[1]) && seen.last() == Some(&report.sent));
}

#[tokio::test]
async fn the_demo_load_reports_truths_and_counts() {
    let (url, state) = receiver(true).await;
    let options = SendOptions::new(&url, "nwk_demo");
    let outcome = load_over_http(model(), &options, false).await.unwrap();
    assert_eq!(outcome.report.sent, outcome.truths.messages);
    assert_eq!(state.lock().unwrap().ids.len() as u64, outcome.truths.messages);
}

#[tokio::test]
async fn missing_servers_and_collectors_are_named() {
    let (url, _) = receiver(false).await;
    assert!(matches!(preflight(&url).await, Err(DemoError::NoCollector { status: 404, .. })));
    let closed = "http://127.0.0.1:9";
    let error = preflight(closed).await.unwrap_err();
    assert!(error.to_string().contains("numu serve"), "{error}");
    let mut options = SendOptions::new(closed, "k");
    options.max_attempts = 2;
    let messages = Generator::new(model()).unwrap().take(3);
    assert!(matches!(send_all(messages, &options, |_| {}).await, Err(SendError::GaveUp { attempts: 2, .. })));
}
