//! The remote engine: a ClickHouse server or cluster over HTTP(S) with the `clickhouse`
//! crate. Arrow both ways (`INSERT … FORMAT ArrowStream`, results as `ArrowStream`), user
//! values as server-side `{pN:Type}` parameters (never spliced client-side), LZ4 compression
//! by default, retries with backoff for reads, and ClickHouse's own error codes kept.

mod arrow;
mod config;
mod errors;
mod http;

use std::time::Duration;

use arrow_array::RecordBatch;
use futures::StreamExt;

pub use arrow::{binary_to_utf8, utf8_to_binary};
pub use config::{Compression, RemoteConfig, Retries, Timeouts};
pub use errors::parse_exception;

use crate::cluster::ClusterLayout;
use crate::engine::{BatchStream, Engine, EngineKind};
use crate::error::{Result, WarehouseError};
use crate::sql::{Ident, PlaceholderStyle, Sql, Value};
use errors::ErrorContext;

/// Inserts are sent in compressed blocks of at most this many uncompressed bytes.
const INSERT_CHUNK: usize = 1 << 20;

/// The remote engine bound to one database of a ClickHouse server or cluster.
pub struct RemoteEngine {
    /// Requests in Numu's database.
    client: clickhouse::Client,
    /// Requests outside any database (version, `CREATE DATABASE`).
    server: clickhouse::Client,
    config: RemoteConfig,
    database: Ident,
    layout: Option<ClusterLayout>,
    ctx: ErrorContext,
}

impl RemoteEngine {
    /// Checks the configuration and prepares the client. The server is not contacted: a
    /// collector must start while ClickHouse is down and buffer in its log meanwhile; the
    /// first request (or `health`) reports an unreachable server or bad credentials.
    pub async fn open(config: &RemoteConfig, database: &str) -> Result<RemoteEngine> {
        let database =
            Ident::new(database).ok_or_else(|| WarehouseError::InvalidIdentifier(database.into()))?;
        let endpoint = http::endpoint(config)?;
        let layout =
            config.cluster.as_deref().map(|c| ClusterLayout::new(c, database.as_str())).transpose()?;
        let mut server = http::base_client(config)?
            .with_url(&endpoint.url)
            .with_user(&endpoint.user)
            .with_password(&endpoint.password)
            .with_product_info("numu", env!("CARGO_PKG_VERSION"));
        server = match config.compression {
            // Compressed inserts, and compressed responses even from servers older than
            // 25.10 where `enable_http_compression` defaults to off.
            Compression::Lz4 => server
                .with_compression(clickhouse::Compression::Lz4)
                .with_setting("enable_http_compression", "1"),
            Compression::None => server.with_compression(clickhouse::Compression::None),
        };
        let client = server.clone().with_database(database.as_str());
        let ctx = ErrorContext {
            origin: http::origin(&config.url),
            user: endpoint.user,
            database: database.as_str().into(),
        };
        Ok(RemoteEngine { client, server, config: config.clone(), database, layout, ctx })
    }

    fn query_limit(&self) -> Duration {
        self.config.timeouts.query()
    }

    fn map(&self, error: clickhouse::error::Error, limit: Duration) -> WarehouseError {
        errors::map(error, &self.ctx, limit)
    }

    /// A request with the statement's values as server-side parameters `p0`, `p1`, ….
    fn request(&self, client: &clickhouse::Client, text: &str, params: &[Value]) -> clickhouse::query::Query {
        // Whole seconds: older servers take no fractions here.
        let seconds = self.query_limit().as_secs_f64().ceil().max(1.0) as u64;
        let mut query = client.query_raw(text).with_setting("max_execution_time", seconds.to_string());
        for (i, value) in params.iter().enumerate() {
            let name = format!("p{i}");
            query = match value {
                Value::String(s) => query.param(&name, s.as_str()),
                Value::Int64(v) | Value::TimestampMs(v) => query.param(&name, v),
                Value::UInt64(v) => query.param(&name, v),
                Value::Float64(v) => query.param(&name, float_text(*v)),
                Value::Bool(v) => query.param(&name, v),
            };
        }
        query
    }

    /// Runs a query with retries on connection failures, up to its first batch.
    async fn start_query(&self, client: &clickhouse::Client, sql: &Sql) -> Result<BatchStream> {
        let (text, params) = sql.render(PlaceholderStyle::Named);
        let mut retry = 0;
        loop {
            match self.try_query(client, &text, &params).await {
                Err(e @ WarehouseError::Connection(_)) if retry < self.config.retries.attempts => {
                    let wait = self.config.retries.backoff(retry);
                    tracing::warn!(error = %e, retry = retry + 1, ?wait, "ClickHouse read failed; retrying");
                    tokio::time::sleep(wait).await;
                    retry += 1;
                }
                other => return other,
            }
        }
    }

    async fn try_query(
        &self,
        client: &clickhouse::Client,
        text: &str,
        params: &[Value],
    ) -> Result<BatchStream> {
        let limit = self.query_limit();
        let cursor = self
            .request(client, text, params)
            .with_setting("output_format_arrow_string_as_string", "0")
            // A read nobody waits for any more (its HTTP client went away) is stopped.
            .with_setting("cancel_http_readonly_queries_on_client_close", "1")
            .fetch_bytes("ArrowStream")
            .map_err(|e| self.map(e, limit))?;
        let mut reader = ResultReader {
            cursor,
            decoder: arrow::Decoder::new(),
            done: false,
            sent_any: false,
            limit,
            ctx: self.ctx.clone(),
        };
        // Await the first batch here so that errors surface from the call itself.
        let Some(first) = reader.next().await? else {
            return Ok(futures::stream::empty().boxed());
        };
        let rest = futures::stream::unfold(Some(reader), |state| async move {
            let mut reader = state?;
            match reader.next().await {
                Ok(Some(batch)) => Some((Ok(batch), Some(reader))),
                Ok(None) => None,
                Err(e) => Some((Err(e), None)),
            }
        });
        Ok(futures::stream::once(async { Ok(first) }).chain(rest).boxed())
    }

    async fn insert_with(&self, table: &str, batch: RecordBatch, token: Option<&str>) -> Result<u64> {
        let table = Ident::new(table).ok_or_else(|| WarehouseError::InvalidIdentifier(table.into()))?;
        if batch.num_rows() == 0 {
            return Ok(0);
        }
        let mut columns = Vec::new();
        for field in batch.schema().fields() {
            let ident = Ident::new(field.name())
                .ok_or_else(|| WarehouseError::InvalidIdentifier(field.name().clone()))?;
            columns.push(ident.to_string());
        }
        let statement = format!("INSERT INTO {table} ({}) FORMAT ArrowStream", columns.join(", "));
        let limit = self.config.timeouts.insert();
        let mut insert = self.client.insert_formatted_with(statement).with_timeouts(Some(limit), Some(limit));
        if let Some(token) = token {
            insert = insert
                .with_setting("insert_deduplicate", "1")
                .with_setting("insert_deduplication_token", checked_token(token)?);
        }
        if self.layout.is_some() {
            // Acknowledge only once the shards have the rows, as the collector's log expects.
            insert = insert.with_setting("insert_distributed_sync", "1");
        }
        let bytes = bytes::Bytes::from(arrow::encode(&batch)?);
        let mut offset = 0;
        while offset < bytes.len() {
            let end = (offset + INSERT_CHUNK).min(bytes.len());
            insert.send(bytes.slice(offset..end)).await.map_err(|e| self.map(e, limit))?;
            offset = end;
        }
        insert.end().await.map_err(|e| self.map(e, limit))?;
        Ok(batch.num_rows() as u64)
    }
}

/// A float as ClickHouse reads it (`nan`, `inf`, `-inf`, or the shortest exact decimal).
fn float_text(v: f64) -> String {
    match v {
        _ if v.is_nan() => "nan".into(),
        f64::INFINITY => "inf".into(),
        f64::NEG_INFINITY => "-inf".into(),
        _ => format!("{v:?}"),
    }
}

/// An idempotency token: the same characters the embedded engine accepts, so a token that
/// works on one engine works on the other.
fn checked_token(token: &str) -> Result<&str> {
    let ok = !token.is_empty()
        && token.len() <= 128
        && token.chars().all(|c| c.is_ascii_alphanumeric() || "-_.:".contains(c));
    ok.then_some(token).ok_or_else(|| WarehouseError::InvalidIdentifier(token.to_string()))
}

/// Reads an `ArrowStream` response chunk by chunk into batches.
struct ResultReader {
    cursor: clickhouse::query::BytesCursor,
    decoder: arrow::Decoder,
    done: bool,
    sent_any: bool,
    /// The longest wait for the next chunk.
    limit: Duration,
    ctx: ErrorContext,
}

impl ResultReader {
    async fn next(&mut self) -> Result<Option<RecordBatch>> {
        loop {
            if let Some(batch) = self.decoder.next_batch()? {
                self.sent_any = true;
                return Ok(Some(batch));
            }
            if self.done {
                return Ok(None);
            }
            let chunk = tokio::time::timeout(self.limit, self.cursor.next())
                .await
                .map_err(|_| WarehouseError::Timeout(self.limit))?
                .map_err(|e| errors::map(e, &self.ctx, self.limit))?;
            match chunk {
                Some(bytes) => self.decoder.push(bytes),
                None => {
                    self.done = true;
                    let schema = self.decoder.finish()?;
                    // An empty result still tells the caller its schema.
                    if let (false, Some(schema)) = (self.sent_any, schema) {
                        self.sent_any = true;
                        return Ok(Some(RecordBatch::new_empty(schema)));
                    }
                }
            }
        }
    }
}

#[async_trait::async_trait]
impl Engine for RemoteEngine {
    fn kind(&self) -> EngineKind {
        EngineKind::Remote
    }

    fn placeholder_style(&self) -> PlaceholderStyle {
        PlaceholderStyle::Named
    }

    fn cluster(&self) -> Option<&ClusterLayout> {
        self.layout.as_ref()
    }

    async fn create_database(&self) -> Result<()> {
        let statement = match &self.layout {
            Some(layout) => crate::cluster::create_database(layout),
            None => format!("CREATE DATABASE IF NOT EXISTS {}", self.database),
        };
        let limit = self.query_limit();
        let run = self.request(&self.server, &statement, &[]).execute();
        tokio::time::timeout(limit, run)
            .await
            .map_err(|_| WarehouseError::Timeout(limit))?
            .map_err(|e| self.map(e, limit))
    }

    async fn query(&self, sql: &Sql) -> Result<BatchStream> {
        self.start_query(&self.client, sql).await
    }

    async fn execute(&self, sql: &Sql) -> Result<()> {
        let (text, params) = sql.render(PlaceholderStyle::Named);
        let limit = self.query_limit();
        let run = self.request(&self.client, &text, &params).execute();
        tokio::time::timeout(limit, run)
            .await
            .map_err(|_| WarehouseError::Timeout(limit))?
            .map_err(|e| self.map(e, limit))
    }

    async fn insert(&self, table: &str, batch: RecordBatch) -> Result<u64> {
        self.insert_with(table, batch, None).await
    }

    async fn insert_deduplicated(&self, table: &str, batch: RecordBatch, token: &str) -> Result<u64> {
        self.insert_with(table, batch, Some(token)).await
    }

    /// Asked outside Numu's database: checks reachability and credentials on their own.
    async fn version(&self) -> Result<String> {
        let batches: Vec<RecordBatch> = futures::TryStreamExt::try_collect(
            self.start_query(&self.server, &Sql::new("SELECT version()")).await?,
        )
        .await?;
        crate::first_cell(&batches)
            .ok_or_else(|| WarehouseError::Internal("no rows from `SELECT version()`".into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_are_sent_in_a_form_clickhouse_parses() {
        let texts: Vec<String> = [2.5, -0.0, 1e300, f64::NAN, f64::INFINITY, f64::NEG_INFINITY]
            .into_iter()
            .map(float_text)
            .collect();
        assert_eq!(texts, vec!["2.5", "-0.0", "1e300", "nan", "inf", "-inf"]);
    }

    #[tokio::test]
    async fn open_checks_the_configuration_without_contacting_the_server() {
        let config = RemoteConfig {
            url: "http://127.0.0.1:9".into(),
            cluster: Some("c1".into()),
            ..RemoteConfig::default()
        };
        let engine = RemoteEngine::open(&config, "numu").await.unwrap();
        assert_eq!(engine.cluster().unwrap().cluster.as_str(), "c1");
        assert!(RemoteEngine::open(&config, "bad-name").await.is_err());
        let config = RemoteConfig { cluster: Some("x;y".into()), ..RemoteConfig::default() };
        assert!(RemoteEngine::open(&config, "numu").await.is_err());
    }
}
