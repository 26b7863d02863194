//! Helpers of the real-time tests: a collector's routes on a real socket (127.0.0.1:0),
//! projects and keys, synthetic events, and a small Server-Sent Events reader over reqwest.

#![allow(dead_code)]

use std::net::TcpListener;
use std::time::Duration;

use actix_web::dev::ServerHandle;
use actix_web::{App, HttpServer};
use futures::StreamExt;
use numu_appstate::{AppState, Scope};
use numu_ingest::realtime::{configure, Config, Realtime, RealtimeState, Snapshot};
use numu_schemas::EventRow;

pub const PEER_TOKEN: &str = "peer-token-0123456789abcdef0123456789abcdef";

/// A bound socket and its base URL (bind first, so peers can list each other).
pub fn bind() -> (TcpListener, String) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    (listener, url)
}

/// Serves the real-time routes of `state` on `listener` until the handle stops it.
pub fn serve(listener: TcpListener, state: RealtimeState) -> ServerHandle {
    let server = HttpServer::new(move || {
        let state = state.clone();
        App::new().configure(move |cfg| configure(cfg, state))
    })
    .workers(1)
    .disable_signals()
    .shutdown_timeout(1)
    .listen(listener)
    .unwrap()
    .run();
    let handle = server.handle();
    tokio::spawn(server);
    handle
}

/// A project with a read-scoped key, its write key and an admin key of another project.
pub struct Keys {
    pub project_id: u64,
    pub read: String,
    pub write: String,
    pub other_project: String,
}

pub async fn project(app_state: &AppState, name: &str) -> Keys {
    let created = app_state.create_project(name).await.unwrap();
    let (_, read) = app_state.create_api_key(created.project.id, "reader", &[Scope::Read]).await.unwrap();
    let other = app_state.create_project(&format!("{name} (other)")).await.unwrap();
    Keys {
        project_id: created.project.id as u64,
        read,
        write: created.write_key,
        other_project: other.secret_key,
    }
}

pub fn config() -> Config {
    Config { heartbeat_secs: 1, ..Config::default() }
}

pub fn pageview(project_id: u64, visitor: &str, path: &str) -> EventRow {
    EventRow {
        project_id,
        event: "$pageview".into(),
        distinct_id: visitor.into(),
        host: "shop.example".into(),
        path: path.into(),
        ..EventRow::default()
    }
}

pub fn now_ms() -> i64 {
    numu_ingest::realtime::now_ms()
}

pub async fn state(realtime: &Realtime, app_state: &AppState) -> RealtimeState {
    RealtimeState::new(realtime.clone(), app_state.clone()).unwrap()
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder().timeout(Duration::from_secs(30)).build().unwrap()
}

/// One parsed SSE message.
#[derive(Debug, Default, Clone)]
pub struct Message {
    pub id: Option<u64>,
    pub retry: Option<u64>,
    pub data: String,
    pub comments: Vec<String>,
}

impl Message {
    pub fn snapshot(&self) -> Snapshot {
        serde_json::from_str(&self.data).unwrap()
    }
}

/// Reads an SSE body message by message.
pub struct SseReader {
    body: futures::stream::BoxStream<'static, reqwest::Result<actix_web::web::Bytes>>,
    buffer: String,
}

impl SseReader {
    pub fn new(response: reqwest::Response) -> SseReader {
        SseReader { body: response.bytes_stream().boxed(), buffer: String::new() }
    }

    /// The next message (comment-only blocks included), or `None` at the end of the body.
    pub async fn next(&mut self) -> Option<Message> {
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                return Some(parse(&block));
            }
            let chunk = self.body.next().await?.ok()?;
            self.buffer.push_str(std::str::from_utf8(&chunk).unwrap());
        }
    }

    /// The next message carrying data, within `timeout`.
    pub async fn next_data(&mut self, timeout: Duration) -> Option<Message> {
        tokio::time::timeout(timeout, async {
            loop {
                let message = self.next().await?;
                if !message.data.is_empty() {
                    return Some(message);
                }
            }
        })
        .await
        .ok()
        .flatten()
    }
}

fn parse(block: &str) -> Message {
    let mut message = Message::default();
    for line in block.lines() {
        if let Some(comment) = line.strip_prefix(':') {
            message.comments.push(comment.trim().to_string());
        } else if let Some((field, value)) = line.split_once(':') {
            let value = value.strip_prefix(' ').unwrap_or(value);
            match field {
                "id" => message.id = value.parse().ok(),
                "retry" => message.retry = value.parse().ok(),
                "data" => message.data.push_str(value),
                _ => {}
            }
        }
    }
    message
}
