//! Sending messages to a running Numu as a Segment library would: `POST /v1/batch`, Basic
//! auth with the write key as user name, batches of at most ~500 KB / 100 messages, a few
//! requests in flight, retries on 429 / 5xx (honouring `Retry-After`) and on network errors,
//! and a 413 answered by splitting the batch.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use futures::{FutureExt, StreamExt};
use numu_schemas::Message;
use serde::Serialize;
use serde_json::Value;

use crate::model::clock::rfc3339;

/// Where and how to send.
#[derive(Clone, Debug)]
pub struct SendOptions {
    /// The server's base URL, e.g. `http://127.0.0.1:8000`.
    pub url: String,
    pub write_key: String,
    /// Requests in flight at once.
    pub concurrency: usize,
    /// Largest body (bytes); Segment's own limit is 500 KB.
    pub max_batch_bytes: usize,
    pub max_batch_messages: usize,
    /// Attempts per batch before giving up.
    pub max_attempts: u32,
    pub timeout: Duration,
}

impl SendOptions {
    pub fn new(url: &str, write_key: &str) -> SendOptions {
        SendOptions {
            url: url.trim_end_matches('/').to_string(),
            write_key: write_key.to_string(),
            concurrency: 4,
            max_batch_bytes: 500_000,
            max_batch_messages: 100,
            max_attempts: 10,
            timeout: Duration::from_secs(30),
        }
    }
}

/// What happened to the messages sent so far.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct SendReport {
    pub sent: u64,
    pub accepted: u64,
    pub refused: u64,
    /// Refusals by the reason the server gave.
    pub refusal_reasons: BTreeMap<String, u64>,
    pub requests: u64,
    pub retries: u64,
    pub elapsed_ms: u64,
}

/// Why sending stopped.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    #[error("{url} refused the write key (HTTP {status}): {body}")]
    Unauthorized { url: String, status: u16, body: String },
    #[error("{url} answered HTTP {status}: {body}")]
    Status { url: String, status: u16, body: String },
    #[error("gave up on {url} after {attempts} attempts: {last}")]
    GaveUp { url: String, attempts: u32, last: String },
    #[error("building the HTTP client: {0}")]
    Client(#[from] reqwest::Error),
    #[error("encoding a message: {0}")]
    Encode(#[from] serde_json::Error),
}

/// Messages already serialised, to be wrapped in one `/v1/batch` body.
#[derive(Clone, Debug, Default)]
pub struct Batch {
    pub items: Vec<Vec<u8>>,
    pub bytes: usize,
}

impl Batch {
    /// `{"batch":[…],"sentAt":"…"}`.
    pub fn body(&self, sent_at_ms: i64) -> Vec<u8> {
        let mut body = Vec::with_capacity(self.bytes + self.items.len() + 64);
        body.extend_from_slice(b"{\"batch\":[");
        for (i, item) in self.items.iter().enumerate() {
            if i > 0 {
                body.push(b',');
            }
            body.extend_from_slice(item);
        }
        body.extend_from_slice(format!("],\"sentAt\":\"{}\"}}", rfc3339(sent_at_ms)).as_bytes());
        body
    }

    fn halves(mut self) -> (Batch, Batch) {
        let second: Vec<Vec<u8>> = self.items.split_off(self.items.len() / 2);
        let size = |items: &[Vec<u8>]| items.iter().map(Vec::len).sum();
        let first_bytes = size(&self.items);
        let second_bytes = size(&second);
        (Batch { items: self.items, bytes: first_bytes }, Batch { items: second, bytes: second_bytes })
    }
}

/// Groups messages into batches under both limits (a single oversized message goes alone).
pub fn batches(
    messages: impl Iterator<Item = Message>,
    max_bytes: usize,
    max_messages: usize,
) -> impl Iterator<Item = Result<Batch, serde_json::Error>> {
    let mut messages = messages.peekable();
    let mut carry: Option<Vec<u8>> = None;
    std::iter::from_fn(move || {
        let mut batch = Batch::default();
        loop {
            let item = match carry.take() {
                Some(item) => item,
                None => match messages.next() {
                    Some(message) => match serde_json::to_vec(&message) {
                        Ok(item) => item,
                        Err(e) => return Some(Err(e)),
                    },
                    None => break,
                },
            };
            if !batch.items.is_empty()
                && (batch.bytes + item.len() + 64 > max_bytes || batch.items.len() >= max_messages)
            {
                carry = Some(item);
                break;
            }
            batch.bytes += item.len() + 1;
            batch.items.push(item);
        }
        (!batch.items.is_empty()).then_some(Ok(batch))
    })
}

/// The outcome of one batch.
#[derive(Debug, Default)]
struct Outcome {
    messages: u64,
    refused: u64,
    reasons: BTreeMap<String, u64>,
    requests: u64,
    retries: u64,
}

impl Outcome {
    fn merge(&mut self, other: Outcome) {
        self.messages += other.messages;
        self.refused += other.refused;
        self.requests += other.requests;
        self.retries += other.retries;
        for (reason, n) in other.reasons {
            *self.reasons.entry(reason).or_default() += n;
        }
    }
}

/// Refusals listed in a 2xx answer (`{"refused":[{"index":…,"code":"…","reason":"…"}]}`),
/// by code (or reason when there is no code).
fn refusals(body: &[u8]) -> BTreeMap<String, u64> {
    let mut reasons = BTreeMap::new();
    let parsed: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    for refusal in parsed.get("refused").and_then(Value::as_array).into_iter().flatten() {
        let code = refusal.get("code").or_else(|| refusal.get("reason"));
        let reason = code.and_then(Value::as_str).unwrap_or("unspecified");
        *reasons.entry(reason.to_string()).or_default() += 1;
    }
    reasons
}

fn retry_after(response: &reqwest::Response) -> Option<Duration> {
    let value = response.headers().get(reqwest::header::RETRY_AFTER)?.to_str().ok()?;
    value.trim().parse::<u64>().ok().map(Duration::from_secs)
}

fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}

/// Exponential backoff from 250 ms, capped at 10 s.
fn backoff(attempt: u32) -> Duration {
    Duration::from_millis((250u64 << attempt.min(6)).min(10_000))
}

/// Posts one batch until it is answered for good.
fn post(
    client: reqwest::Client,
    options: SendOptions,
    batch: Batch,
) -> futures::future::BoxFuture<'static, Result<Outcome, SendError>> {
    async move {
        let endpoint = format!("{}/v1/batch", options.url);
        let mut outcome = Outcome { messages: batch.items.len() as u64, ..Outcome::default() };
        let mut last = String::new();
        for attempt in 0..options.max_attempts {
            if attempt > 0 {
                outcome.retries += 1;
            }
            outcome.requests += 1;
            let request = client
                .post(&endpoint)
                .basic_auth(&options.write_key, None::<&str>)
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(batch.body(now_ms()));
            let response = match request.send().await {
                Ok(response) => response,
                Err(e) => {
                    last = e.to_string();
                    tokio::time::sleep(backoff(attempt)).await;
                    continue;
                }
            };
            let status = response.status().as_u16();
            let wait = retry_after(&response);
            let body = response.bytes().await.unwrap_or_default();
            let text = || String::from_utf8_lossy(&body[..body.len().min(300)]).into_owned();
            match status {
                200..=299 => {
                    outcome.reasons = refusals(&body);
                    outcome.refused = outcome.reasons.values().sum();
                    return Ok(outcome);
                }
                413 if batch.items.len() > 1 => {
                    let (first, second) = batch.halves();
                    let mut split = post(client.clone(), options.clone(), first).await?;
                    split.merge(post(client, options, second).await?);
                    split.requests += outcome.requests;
                    split.retries += outcome.retries;
                    return Ok(split);
                }
                401 | 403 => return Err(SendError::Unauthorized { url: endpoint, status, body: text() }),
                429 | 500..=599 => {
                    last = format!("HTTP {status}: {}", text());
                    tokio::time::sleep(wait.unwrap_or_else(|| backoff(attempt)).min(Duration::from_secs(60)))
                        .await;
                }
                _ => return Err(SendError::Status { url: endpoint, status, body: text() }),
            }
        }
        Err(SendError::GaveUp { url: endpoint, attempts: options.max_attempts, last })
    }
    .boxed()
}

/// Sends every message, `options.concurrency` requests at a time, calling `progress` after
/// each answered batch.
pub async fn send_all(
    messages: impl Iterator<Item = Message>,
    options: &SendOptions,
    mut progress: impl FnMut(&SendReport),
) -> Result<SendReport, SendError> {
    let started = Instant::now();
    let client = reqwest::Client::builder().timeout(options.timeout).build()?;
    let mut report = SendReport::default();
    let requests = batches(messages, options.max_batch_bytes, options.max_batch_messages).map(|batch| {
        let (client, options) = (client.clone(), options.clone());
        async move { post(client, options, batch?).await }
    });
    let mut answers = futures::stream::iter(requests).buffer_unordered(options.concurrency.max(1));
    while let Some(answer) = answers.next().await {
        let outcome = answer?;
        report.sent += outcome.messages;
        report.refused += outcome.refused;
        report.accepted += outcome.messages - outcome.refused;
        report.requests += outcome.requests;
        report.retries += outcome.retries;
        for (reason, n) in outcome.reasons {
            *report.refusal_reasons.entry(reason).or_default() += n;
        }
        report.elapsed_ms = started.elapsed().as_millis() as u64;
        progress(&report);
    }
    report.elapsed_ms = started.elapsed().as_millis() as u64;
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_respect_both_limits() {
        let message = |i: usize| Message { message_id: Some(format!("m{i:04}")), ..Message::default() };
        let all: Vec<Batch> = batches((0..250).map(message), 1_000_000, 100).map(Result::unwrap).collect();
        assert_eq!(all.iter().map(|b| b.items.len()).collect::<Vec<_>>(), vec![100, 100, 50]);
        let small: Vec<Batch> = batches((0..10).map(message), 200, 100).map(Result::unwrap).collect();
        assert!(small.iter().all(|b| b.body(0).len() <= 200 || b.items.len() == 1));
        assert_eq!(small.iter().map(|b| b.items.len()).sum::<usize>(), 10);
        let body: Value = serde_json::from_slice(&all[2].body(0)).unwrap();
        assert_eq!(body["batch"].as_array().unwrap().len(), 50);
        assert_eq!(body["sentAt"], "1970-01-01T00:00:00.000Z");
        let (a, b) = all[2].clone().halves();
        assert_eq!((a.items.len(), b.items.len()), (25, 25));
    }

    #[test]
    fn refusals_are_counted_by_reason() {
        let body =
            br#"{"refused":[{"index":1,"reason":"missing_field"},{"index":4,"reason":"missing_field"}]}"#;
        assert_eq!(refusals(body)["missing_field"], 2);
        assert!(refusals(b"{\"success\":true}").is_empty());
        let coded = br#"{"refused":[{"index":0,"code":"too_large","reason":"event of 40000 bytes"}]}"#;
        assert_eq!(refusals(coded)["too_large"], 1);
    }
}
