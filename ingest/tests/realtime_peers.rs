//! Several collectors: each keeps its own sketches, serves them on `/realtime/sketches`,
//! and answers with its peers' merged in — as if one collector had seen every event.

mod realtime_support;

use std::time::Duration;

use numu_appstate::AppState;
use numu_ingest::realtime::{codec, minute_of, Config, Realtime};
use realtime_support::*;
use serde_json::Value;

fn peer_config(peers: Vec<String>) -> Config {
    Config { peers, peer_token: Some(PEER_TOKEN.into()), peer_cache_ms: 200, ..config() }
}

/// Feeds visitors `range` (one page view each, plus a repeat) to `realtime`.
fn feed(realtime: &Realtime, project_id: u64, range: std::ops::Range<u32>, path: &str) {
    for i in range {
        let row = pageview(project_id, &format!("visitor-{i}"), path);
        realtime.observe(&row, now_ms());
        realtime.observe(&row, now_ms());
    }
}

async fn figures(url: &str, keys: &Keys) -> Value {
    let response = client()
        .get(format!("{url}/api/projects/{}/realtime", keys.project_id))
        .bearer_auth(&keys.read)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_collectors_answer_for_both() {
    // One app-state database shared by both collectors (PostgreSQL in a real cluster).
    let app_state = AppState::in_memory().await.unwrap();
    let keys = project(&app_state, "Shop").await;
    let ((listener_a, url_a), (listener_b, url_b)) = (bind(), bind());
    let a = Realtime::new(peer_config(vec![url_b.clone()])).unwrap();
    let b = Realtime::new(peer_config(vec![url_a.clone()])).unwrap();
    let handles =
        [serve(listener_a, state(&a, &app_state).await), serve(listener_b, state(&b, &app_state).await)];

    // Small counts: 50 + 50 visitors, 30 of them on both → 70, exactly.
    feed(&a, keys.project_id, 0..50, "/a");
    feed(&b, keys.project_id, 20..70, "/b");
    for url in [&url_a, &url_b] {
        let body = figures(url, &keys).await;
        assert_eq!(body["collectors"], 2, "{body}");
        assert_eq!(body["unreachable_peers"], serde_json::json!([]));
        assert_eq!(body["visitors"][0]["estimate"], 70);
        assert_eq!(body["visitors"][0]["exact"], true);
        assert_eq!(
            body["events_per_minute"][29]["events"].as_u64().unwrap()
                + body["events_per_minute"][28]["events"].as_u64().unwrap(),
            200
        );
        assert_eq!(body["top_pages"]["total"], 200);
        let pages: Vec<&str> = body["top_pages"]["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["key"].as_str().unwrap())
            .collect();
        assert_eq!(pages, ["/a", "/b"]);
    }

    // Large counts: 30 000 visitors each, 10 000 shared → 50 070 in all, within the bound.
    feed(&a, keys.project_id, 1_000..31_000, "/a");
    feed(&b, keys.project_id, 21_000..51_000, "/b");
    tokio::time::sleep(Duration::from_millis(300)).await; // past peer_cache_ms
    let body = figures(&url_a, &keys).await;
    let visitors = &body["visitors"][0];
    let (estimate, bound) =
        (visitors["estimate"].as_u64().unwrap(), visitors["error_bound"].as_u64().unwrap());
    assert!(estimate.abs_diff(50_070) <= bound, "{visitors}");
    assert!(bound <= 50_070 * 3 / 100, "{visitors}");
    for handle in handles {
        handle.stop(false).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_peer_is_named_and_the_rest_is_served() {
    let app_state = AppState::in_memory().await.unwrap();
    let keys = project(&app_state, "Shop").await;
    let (dead_listener, dead_url) = bind();
    drop(dead_listener);
    let (listener, url) = bind();
    let a = Realtime::new(peer_config(vec![dead_url.clone()])).unwrap();
    let handle = serve(listener, state(&a, &app_state).await);
    feed(&a, keys.project_id, 0..3, "/");
    let body = figures(&url, &keys).await;
    assert_eq!(body["collectors"], 1);
    assert_eq!(body["visitors"][0]["estimate"], 3);
    let unreachable = body["unreachable_peers"].as_array().unwrap();
    assert_eq!(unreachable.len(), 1);
    assert!(unreachable[0].as_str().unwrap().starts_with(&dead_url), "{unreachable:?}");
    handle.stop(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sketches_need_the_peer_token_or_a_read_key() {
    let app_state = AppState::in_memory().await.unwrap();
    let keys = project(&app_state, "Shop").await;
    let (listener, url) = bind();
    let a = Realtime::new(peer_config(Vec::new())).unwrap();
    let handle = serve(listener, state(&a, &app_state).await);
    feed(&a, keys.project_id, 0..10, "/");
    let at = format!("{url}/api/projects/{}/realtime/sketches", keys.project_id);
    assert_eq!(
        client()
            .get(&at)
            .bearer_auth("not-the-peer-token-but-long-enough-0000")
            .send()
            .await
            .unwrap()
            .status(),
        401
    );
    for credential in [PEER_TOKEN, keys.read.as_str()] {
        let response = client().get(&at).bearer_auth(credential).send().await.unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["content-type"], codec::CONTENT_TYPE);
        let summary = codec::decode(&response.bytes().await.unwrap(), 14).unwrap();
        assert_eq!(summary.clone().snapshot(0).visitors[0].count.estimate, 10);
        assert_eq!(summary.project_id, keys.project_id);
    }
    let far = minute_of(now_ms()) + 60;
    let response = client().get(format!("{at}?minute={far}")).bearer_auth(PEER_TOKEN).send().await.unwrap();
    assert_eq!(response.status(), 400);
    handle.stop(false).await;
}

#[test]
fn merged_collectors_equal_one_collector_that_saw_everything() {
    let config = Config::default();
    let (a, b, all) = (
        Realtime::new(config.clone()).unwrap(),
        Realtime::new(config.clone()).unwrap(),
        Realtime::new(config).unwrap(),
    );
    let t0 = 1_700_000_000_000i64;
    let mut state = 1u64;
    for i in 0..200_000u64 {
        state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        let visitor = format!("v{}", (state >> 33) % 120_000);
        let row = pageview(9, &visitor, if i % 3 == 0 { "/a" } else { "/b" });
        let at = t0 + (i as i64) * 9; // 30 minutes
        all.observe(&row, at);
        if i % 2 == 0 {
            a.observe(&row, at)
        } else {
            b.observe(&row, at)
        }
    }
    let now = t0 + 200_000 * 9;
    let minute = minute_of(now);
    let mut merged = codec::decode(&codec::encode(&a.summary_at(9, minute)), 14).unwrap();
    merged.merge(&codec::decode(&codec::encode(&b.summary_at(9, minute)), 14).unwrap(), 32).unwrap();
    let (merged, single) = (merged.snapshot(now), all.snapshot(9, now));
    assert_eq!(merged.visitors, single.visitors, "HLL unions are exact");
    assert_eq!(merged.events_per_minute, single.events_per_minute);
    assert_eq!(merged.top_pages.total, single.top_pages.total);
    assert_eq!(merged.top_pages.items, single.top_pages.items);
    assert_eq!(merged.collectors, 2);
}
