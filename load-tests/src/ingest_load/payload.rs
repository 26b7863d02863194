//! Request bodies the ingest load tool sends: Segment `track` messages, alone (`/v1/track`)
//! or in `/v1/batch` bodies, optionally gzipped. Every message has a unique `messageId`, so
//! the warehouse count after a run can be compared with what was acknowledged.

use std::io::Write;

use serde_json::{json, Value};

/// One request ready to send.
#[derive(Clone, Debug)]
pub struct Body {
    pub path: &'static str,
    pub bytes: Vec<u8>,
    pub gzip: bool,
    pub events: u64,
}

/// Builds request bodies of `batch` events each.
#[derive(Clone, Debug)]
pub struct Payloads {
    pub run_id: String,
    pub write_key: String,
    pub batch: u64,
    pub gzip: bool,
}

const PAGES: [&str; 6] = ["/", "/pricing", "/docs/start", "/blog/launch", "/signup", "/ar/الأسعار"];
const AGENTS: [&str; 3] = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_1) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Safari/605.1.15",
];

impl Payloads {
    /// A realistic `track` message (≈ 700 bytes of JSON, like a browser SDK's).
    pub fn message(&self, seq: u64) -> Value {
        let page = PAGES[(seq % PAGES.len() as u64) as usize];
        json!({
            "type": "track",
            "event": if seq.is_multiple_of(3) { "Signed Up" } else { "Button Clicked" },
            "messageId": format!("{}-{seq}", self.run_id),
            "anonymousId": format!("anon-{}", seq % 5_000),
            "userId": if seq.is_multiple_of(4) { Value::from(format!("user-{}", seq % 1_000)) } else { Value::Null },
            "timestamp": "2026-11-25T12:00:00.000Z",
            "sentAt": "2026-11-25T12:00:00.050Z",
            "properties": {"plan": "pro", "seats": seq % 20, "button": "cta-primary", "price": 19.5},
            "context": {
                "ip": format!("203.0.113.{}", seq % 250),
                "locale": "en-US",
                "userAgent": AGENTS[(seq % AGENTS.len() as u64) as usize],
                "page": {"url": format!("https://example.com{page}?utm_source=newsletter"), "path": page,
                         "referrer": "https://www.google.com/", "title": "Example"},
                "campaign": {"name": "spring", "source": "newsletter", "medium": "email"},
                "screen": {"width": 1440, "height": 900},
                "library": {"name": "analytics.js", "version": "5.2.0"}
            }
        })
    }

    /// The body carrying events `first .. first + batch`.
    pub fn body(&self, first: u64) -> Body {
        let (path, json) = if self.batch <= 1 {
            let mut message = self.message(first);
            message["writeKey"] = Value::from(self.write_key.clone());
            ("/v1/track", message)
        } else {
            let batch: Vec<Value> = (first..first + self.batch).map(|s| self.message(s)).collect();
            (
                "/v1/batch",
                json!({"batch": batch, "writeKey": self.write_key, "sentAt": "2026-11-25T12:00:00.050Z"}),
            )
        };
        let plain = serde_json::to_vec(&json).unwrap_or_default();
        let bytes = if self.gzip { gzip(&plain) } else { plain };
        Body { path, bytes, gzip: self.gzip, events: self.batch.max(1) }
    }
}

pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let _ = encoder.write_all(bytes);
    encoder.finish().unwrap_or_default()
}

/// `Authorization: Basic base64(key:)`, as Segment's libraries send the write key.
pub fn basic_auth(write_key: &str) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let input = format!("{write_key}:");
    let mut out = String::from("Basic ");
    for chunk in input.as_bytes().chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_decode_as_segment_messages() {
        let payloads = Payloads { run_id: "r".into(), write_key: "k".into(), batch: 3, gzip: false };
        let body = payloads.body(10);
        assert_eq!((body.path, body.events), ("/v1/batch", 3));
        let batch: numu_schemas::event::Batch = serde_json::from_slice(&body.bytes).unwrap();
        assert_eq!(batch.batch[2].message_id.as_deref(), Some("r-12"));
        let single = Payloads { batch: 1, ..payloads }.body(5);
        let message: numu_schemas::Message = serde_json::from_slice(&single.bytes).unwrap();
        assert_eq!(message.message_id.as_deref(), Some("r-5"));
        assert_eq!(basic_auth("abc"), "Basic YWJjOg==");
        assert_eq!(basic_auth("ab"), "Basic YWI6");
    }
}
