//! The end-of-run check that exactly the acknowledged events landed. Pluggable: anything that
//! can count the project's stored events implements [`EventCounter`]; the tool ships the
//! HTTP one (`GET /api/projects/{id}/events?count_only=true` with a secret key).

use std::time::{Duration, Instant};

use anyhow::{bail, Context};

/// Counts stored events of the project under test.
#[async_trait::async_trait]
pub trait EventCounter: Send + Sync {
    async fn count(&self) -> anyhow::Result<u64>;
    fn describe(&self) -> String;
}

/// Reads a count endpoint answering `{"count": N}` (or a bare number).
#[derive(Debug)]
pub struct HttpCount {
    pub url: String,
    pub secret_key: Option<String>,
    pub client: reqwest::Client,
}

#[async_trait::async_trait]
impl EventCounter for HttpCount {
    async fn count(&self) -> anyhow::Result<u64> {
        let mut request = self.client.get(&self.url);
        if let Some(key) = &self.secret_key {
            request = request.bearer_auth(key);
        }
        let response = request.send().await.with_context(|| format!("GET {}", self.url))?;
        let status = response.status();
        let text = response.text().await?;
        if !status.is_success() {
            bail!("GET {} answered {status}: {text}", self.url);
        }
        parse_count(&text).with_context(|| format!("no count in {text:?}"))
    }

    fn describe(&self) -> String {
        format!("GET {}", self.url)
    }
}

fn parse_count(text: &str) -> Option<u64> {
    let value: serde_json::Value = serde_json::from_str(text.trim()).ok()?;
    value
        .as_u64()
        .or_else(|| value.get("count")?.as_u64().or_else(|| value.get("count")?.as_str()?.parse().ok()))
}

/// What the check found.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Verdict {
    pub before: u64,
    pub after: u64,
    pub acknowledged: u64,
    /// Events whose request failed in transport (timeout, reset): stored or not, unknown.
    pub uncertain: u64,
    pub passed: bool,
    pub waited_ms: u64,
}

/// Waits until the stored delta reaches `acknowledged` (the collector inserts within about
/// a second) or stops moving, then judges: every acknowledged event stored once, nothing
/// beyond the uncertain ones.
pub async fn verify(
    counter: &dyn EventCounter,
    before: u64,
    acknowledged: u64,
    uncertain: u64,
    timeout: Duration,
) -> anyhow::Result<Verdict> {
    let started = Instant::now();
    let (mut after, mut last_change) = (counter.count().await?, Instant::now());
    while after - before.min(after) < acknowledged && started.elapsed() < timeout {
        tokio::time::sleep(Duration::from_millis(250)).await;
        let now = counter.count().await?;
        if now != after {
            (after, last_change) = (now, Instant::now());
        } else if last_change.elapsed() > Duration::from_secs(10) {
            break;
        }
    }
    // Late duplicates would show as a delta above the acknowledged count: look once more.
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    after = counter.count().await?;
    let delta = after.saturating_sub(before);
    Ok(Verdict {
        before,
        after,
        acknowledged,
        uncertain,
        passed: delta >= acknowledged && delta <= acknowledged + uncertain,
        waited_ms: started.elapsed().as_millis() as u64,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn count_shapes() {
        assert_eq!(parse_count("42"), Some(42));
        assert_eq!(parse_count(r#"{"count": 7, "x": 1}"#), Some(7));
        assert_eq!(parse_count(r#"{"count": "9"}"#), Some(9));
        assert_eq!(parse_count("nope"), None);
    }
}
