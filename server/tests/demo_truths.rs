//! `numu demo` against the real binary: one command loads a moderate amount of modelled
//! traffic through the collector, and the model's known truths come back through the
//! query API — funnel step counts (and rates within sampling error of the parameters), the
//! channel mix, visitors / visits / page views, the retention grid and a trend's total.

mod common;

use std::collections::BTreeMap;

use common::{numu_command, TestServer};
use numu_load_tests::model::Truths;
use serde_json::{json, Value};

async fn query(server: &TestServer, project: i64, key: &str, body: Value) -> Value {
    let response = reqwest::Client::new()
        .post(server.url(&format!("/api/projects/{project}/query")))
        .bearer_auth(key)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let answer: Value = response.json().await.unwrap_or(Value::Null);
    assert_eq!(status, 200, "{body} → {answer}");
    answer
}

/// `|realised - expected| <= 4 standard errors` of a proportion over `n` trials.
fn within_sampling_error(what: &str, realised: f64, expected: f64, n: u64) {
    let se = (expected * (1.0 - expected) / n as f64).sqrt();
    assert!((realised - expected).abs() <= 4.0 * se, "{what}: {realised:.4} vs {expected:.4} (n {n})");
}

/// A count at `pointer` (given as an integer or a float such as `4106.0`).
fn u64_at(value: &Value, pointer: &str) -> u64 {
    let number =
        value.pointer(pointer).and_then(Value::as_f64).unwrap_or_else(|| panic!("{pointer} in {value}"));
    number.round() as u64
}

async fn check_funnel(server: &TestServer, project: i64, key: &str, truths: &Truths) {
    let f = &truths.config.funnel;
    let steps: Vec<Value> = ["$pageview", &f.signup_event, &f.activation_event, &f.purchase_event]
        .iter()
        .map(|e| json!({ "event": e }))
        .collect();
    let body = json!({"kind": "funnel", "date_range": {"from": "-30d"}, "steps": steps,
        "conversion_window": {"value": 30, "unit": "day"}});
    let answer = query(server, project, key, body).await;
    let counts: Vec<u64> =
        answer["steps"][0]["steps"].as_array().unwrap().iter().map(|s| u64_at(s, "/count")).collect();
    let expected: Vec<u64> = truths.funnel.iter().map(|s| s.persons).collect();
    assert_eq!(counts, expected, "persons reaching each step");
    for k in 1..counts.len() {
        let rate = counts[k] as f64 / counts[k - 1] as f64;
        within_sampling_error(&format!("step {k}"), rate, truths.expected.step_rates[k - 1], counts[k - 1]);
    }
}

async fn check_web(server: &TestServer, project: i64, key: &str, truths: &Truths) {
    let body =
        json!({"kind": "web_analytics", "date_range": {"from": "-30d"}, "compare": false, "limit": 20});
    let answer = query(server, project, key, body).await;
    assert_eq!(u64_at(&answer, "/metrics/visitors/value"), truths.visitors);
    assert_eq!(u64_at(&answer, "/metrics/visits/value"), truths.sessions);
    assert_eq!(u64_at(&answer, "/metrics/pageviews/value"), truths.pageviews);
    let report: BTreeMap<String, (u64, u64)> = answer["reports"]["channels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["value"].as_str().unwrap().to_string(), (u64_at(r, "/visitors"), u64_at(r, "/visits"))))
        .collect();
    let mut visits: BTreeMap<String, u64> = BTreeMap::new();
    for (name, n) in &truths.sessions_by_channel {
        let channel = truths.config.channels.iter().find(|c| &c.name == name);
        *visits.entry(channel.map_or("direct".into(), |c| c.stored_as.clone())).or_default() += n;
    }
    let first_touch = truths.stored_channel_visitors();
    for (channel, (visitors, channel_visits)) in &report {
        assert_eq!(*channel_visits, visits[channel], "visits of {channel}");
        if channel != "direct" {
            // Returning visits are mostly direct, so only other channels count first touches alone.
            assert_eq!(*visitors, first_touch[channel], "visitors of {channel}");
        }
    }
    for (channel, share) in &truths.expected.stored_channel_share {
        let realised = first_touch[channel] as f64 / truths.visitors as f64;
        within_sampling_error(&format!("share of {channel}"), realised, *share, truths.visitors);
    }
}

async fn check_retention_and_trend(server: &TestServer, project: i64, key: &str, truths: &Truths) {
    let body = json!({"kind": "retention", "date_range": {"from": truths.daily[0].date}, "period": "day",
        "periods": 8, "start_event": {"event": "$pageview"}, "return_event": {"event": "$pageview"}});
    let answer = query(server, project, key, body).await;
    let cohorts = answer["results"][0]["cohorts"].as_array().unwrap();
    for (c, day) in truths.daily.iter().enumerate() {
        let cohort = cohorts
            .iter()
            .find(|x| x["cohort"] == day.date.as_str())
            .unwrap_or_else(|| panic!("{}", day.date));
        // Periods that have not begun yet are `null`.
        let counts: Vec<u64> = cohort["counts"].as_array().unwrap().iter().map_while(Value::as_u64).collect();
        let n = counts.len().min(truths.retention[c].len());
        assert!(n >= 1, "cohort {} has counts", day.date);
        assert_eq!(counts[..n], truths.retention[c][..n], "cohort {}", day.date);
    }
    let body = json!({"kind": "trends", "date_range": {"from": "-30d"}, "series": [{"event": "$pageview"}]});
    let answer = query(server, project, key, body).await;
    assert_eq!(u64_at(&answer, "/series/0/total"), truths.pageviews);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_truths_come_back_through_the_query_api() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let server = TestServer::start(&data);
    let truths_path = dir.path().join("truths.json");
    let output = numu_command(&data)
        .args([
            "demo",
            "--url",
            &server.base,
            "--days",
            "14",
            "--visitors-per-day",
            "330",
            "--seed",
            "7",
            "--json",
        ])
        .arg("--truths")
        .arg(&truths_path)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let summary: Value = serde_json::from_slice(&output.stdout).unwrap();
    let truths: Truths = serde_json::from_slice(&std::fs::read(&truths_path).unwrap()).unwrap();
    assert!(truths.visitors > 3500, "a moderate size: {} visitors", truths.visitors);
    assert_eq!(summary["sent"].as_u64(), Some(truths.messages));
    assert_eq!(summary["accepted"], summary["sent"], "{summary}");
    assert_eq!(summary["stored"], summary["sent"], "every event is visible through the query API");
    let (project, key) = (summary["project_id"].as_i64().unwrap(), summary["secret_key"].as_str().unwrap());
    check_funnel(&server, project, key, &truths).await;
    check_web(&server, project, key, &truths).await;
    check_retention_and_trend(&server, project, key, &truths).await;
}
