//! Serving requests: authentication, the database, settings, then one of three shapes —
//! a query answered as `ArrowStream`, a statement, or `INSERT … FORMAT ArrowStream` with
//! its data — each run on the embedded engine.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use arrow_array::RecordBatch;
use arrow_ipc::writer::StreamWriter;
use arrow_schema::Schema;
use bytes::Bytes;
use futures::StreamExt;
use http_body_util::BodyExt;
use hyper::body::{Frame, Incoming};
use hyper::{Method, Request, Response};
use numu_warehouse::{first_cell, EmbeddedConfig, Sql, Warehouse, WarehouseConfig};
use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::exception::{codes, Exception};
use crate::request::{self, Parsed};
use crate::wire::Encoder;
use crate::{Body, StandinError};

/// What the stand-in has seen of the wire, for tests that check how the remote engine
/// talks (compression, parameters) rather than what it gets back.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Requests whose body came in compressed blocks.
    pub compressed_bodies: u64,
    /// Responses sent as an LZ4 frame.
    pub lz4_responses: u64,
    /// Requests with server-side parameters (`param_*`).
    pub parameterized: u64,
    /// `INSERT … FORMAT ArrowStream` requests.
    pub arrow_inserts: u64,
}

#[derive(Debug, Default)]
struct Counters {
    compressed_bodies: AtomicU64,
    lz4_responses: AtomicU64,
    parameterized: AtomicU64,
    arrow_inserts: AtomicU64,
}

fn bump(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}

/// What every request needs: the engine, one warehouse per database, the users.
pub struct State {
    counters: Counters,
    embedded: EmbeddedConfig,
    users: Vec<(String, String)>,
    /// The `default` database, for existence checks.
    system: Warehouse,
    warehouses: Mutex<HashMap<String, Warehouse>>,
    settings: HashSet<String>,
    defaults: HashMap<String, String>,
    pub(crate) version: String,
}

impl State {
    /// Loads the embedded engine and reads its settings (names and defaults are those of the
    /// ClickHouse version chDB embeds).
    pub async fn new(embedded: EmbeddedConfig, users: Vec<(String, String)>) -> Result<State, StandinError> {
        let system = open(&embedded, "default").await?;
        let batches = system.query_all(&Sql::new("SELECT name, value FROM system.settings")).await?;
        let mut defaults = HashMap::new();
        for batch in &batches {
            let (names, values) = (string_column(batch, 0), string_column(batch, 1));
            for (name, value) in names.into_iter().zip(values) {
                defaults.insert(name, value);
            }
        }
        let version = first_cell(&system.query_all(&Sql::new("SELECT version()")).await?).unwrap_or_default();
        let settings = defaults.keys().cloned().collect();
        let users = if users.is_empty() { vec![("default".into(), String::new())] } else { users };
        let warehouses = Mutex::new(HashMap::new());
        Ok(State {
            counters: Counters::default(),
            embedded,
            users,
            system,
            warehouses,
            settings,
            defaults,
            version,
        })
    }

    pub fn stats(&self) -> Stats {
        let c = &self.counters;
        Stats {
            compressed_bodies: c.compressed_bodies.load(Ordering::Relaxed),
            lz4_responses: c.lz4_responses.load(Ordering::Relaxed),
            parameterized: c.parameterized.load(Ordering::Relaxed),
            arrow_inserts: c.arrow_inserts.load(Ordering::Relaxed),
        }
    }

    fn setting_flag(&self, request: &Parsed, name: &str) -> bool {
        let value = request.setting(name).or_else(|| self.defaults.get(name).map(String::as_str));
        matches!(value, Some("1" | "true"))
    }

    /// The warehouse of `database`, which must exist (ClickHouse's code 81 otherwise).
    async fn warehouse(&self, database: &str) -> Result<Warehouse, Exception> {
        if let Some(found) = self.warehouses.lock().ok().and_then(|w| w.get(database).cloned()) {
            return Ok(found);
        }
        let exists = Sql::new("SELECT count() FROM system.databases WHERE name = ").bind(database);
        let count = first_cell(&self.system.query_all(&exists).await?).unwrap_or_default();
        if count != "1" {
            return Err(Exception::new(
                codes::UNKNOWN_DATABASE,
                format!("Database {database} does not exist"),
            ));
        }
        let warehouse = open(&self.embedded, database)
            .await
            .map_err(|e| Exception::new(codes::STD_EXCEPTION, e.to_string()))?;
        if let Ok(mut all) = self.warehouses.lock() {
            all.insert(database.to_string(), warehouse.clone());
        }
        Ok(warehouse)
    }

    fn forget(&self, database: &str) {
        if let Ok(mut all) = self.warehouses.lock() {
            all.remove(database);
        }
    }
}

async fn open(
    embedded: &EmbeddedConfig,
    database: &str,
) -> Result<Warehouse, numu_warehouse::WarehouseError> {
    let config = WarehouseConfig {
        database: database.into(),
        embedded: embedded.clone(),
        ..WarehouseConfig::default()
    };
    Warehouse::open(&config).await
}

fn string_column(batch: &RecordBatch, column: usize) -> Vec<String> {
    let array = batch.column(column);
    (0..batch.num_rows())
        .map(|i| arrow_cast::display::array_value_to_string(array, i).unwrap_or_default())
        .collect()
}

/// Answers one HTTP request.
pub async fn handle(state: Arc<State>, request: Request<Incoming>) -> Response<Body> {
    match serve(&state, request).await {
        Ok(response) => response,
        Err(exception) => {
            tracing::debug!(code = exception.code, message = %exception.message, "stand-in request failed");
            exception.response(&state.version)
        }
    }
}

fn text_response(text: &'static str) -> Response<Body> {
    Response::new(
        http_body_util::Full::new(Bytes::from_static(text.as_bytes())).map_err(|e| match e {}).boxed_unsync(),
    )
}

async fn serve(state: &State, request: Request<Incoming>) -> Result<Response<Body>, Exception> {
    if request.uri().path() == "/ping" || (request.method() == Method::GET && request.uri().query().is_none())
    {
        return Ok(text_response("Ok.\n"));
    }
    let (parts, body) = request.into_parts();
    let body = body
        .collect()
        .await
        .map_err(|e| {
            Exception::new(codes::CANNOT_READ_ALL_DATA, format!("Cannot read the request body: {e}"))
        })?
        .to_bytes();
    let parsed = request::parse(parts.uri.query(), &parts.headers, body)?;
    authenticate(state, &parsed)?;
    if parsed.compressed {
        bump(&state.counters.compressed_bodies);
    }
    if !parsed.params.is_empty() {
        bump(&state.counters.parameterized);
    }
    for (name, _) in parsed.settings() {
        if !state.settings.contains(name) {
            return Err(Exception::new(
                codes::UNKNOWN_SETTING,
                format!("Setting {name} is neither a builtin setting nor started with the prefix 'custom_'"),
            ));
        }
    }
    let database = parsed.setting("database").unwrap_or("default").to_string();
    let warehouse = state.warehouse(&database).await?;
    let deadline = deadline(&parsed)?;
    let result = dispatch(state, &warehouse, &parsed, deadline).await;
    if matches!(&result, Err(e) if e.code == codes::UNKNOWN_DATABASE) || is_drop_database(&parsed.query) {
        state.forget(&database);
    }
    result
}

fn authenticate(state: &State, request: &Parsed) -> Result<(), Exception> {
    let known =
        state.users.iter().any(|(user, password)| *user == request.user && *password == request.password);
    if known {
        return Ok(());
    }
    Err(Exception::new(
        codes::AUTHENTICATION_FAILED,
        format!(
            "{}: Authentication failed: password is incorrect, or there is no user with such name.",
            request.user
        ),
    ))
}

/// `max_execution_time` as a deadline (none when 0 or absent).
fn deadline(request: &Parsed) -> Result<Option<(Instant, f64)>, Exception> {
    let Some(raw) = request.setting("max_execution_time") else { return Ok(None) };
    let seconds: f64 = raw.parse().map_err(|_| {
        Exception::new(
            codes::CANNOT_PARSE_INPUT_ASSERTION_FAILED,
            format!("Cannot parse max_execution_time {raw:?}"),
        )
    })?;
    Ok((seconds > 0.0).then(|| (Instant::now() + Duration::from_secs_f64(seconds), seconds)))
}

/// Runs `future` until the deadline, failing as ClickHouse does when it passes.
async fn until<T>(
    deadline: Option<(Instant, f64)>,
    future: impl std::future::Future<Output = T>,
) -> Result<T, Exception> {
    match deadline {
        None => Ok(future.await),
        Some((at, seconds)) => tokio::time::timeout_at(at, future).await.map_err(|_| {
            Exception::new(codes::TIMEOUT_EXCEEDED, format!("Timeout exceeded: maximum: {seconds} seconds"))
        }),
    }
}

fn is_drop_database(query: &str) -> bool {
    let words: Vec<String> = query.split_whitespace().take(2).map(str::to_ascii_uppercase).collect();
    words == ["DROP", "DATABASE"]
}

async fn dispatch(
    state: &State,
    warehouse: &Warehouse,
    request: &Parsed,
    deadline: Option<(Instant, f64)>,
) -> Result<Response<Body>, Exception> {
    if let Some(insert) = crate::insert::parse_insert(&request.query)? {
        let target = match &insert.database {
            Some(database) => state.warehouse(database).await?,
            None => warehouse.clone(),
        };
        bump(&state.counters.arrow_inserts);
        let dedup = state.setting_flag(request, "insert_deduplicate");
        let token = request.setting("insert_deduplication_token").filter(|t| dedup && !t.is_empty());
        let written =
            until(deadline, crate::insert::insert(&target, &insert, &request.data, token)).await??;
        let mut response = text_response("");
        let summary = format!("{{\"written_rows\":\"{written}\",\"result_rows\":\"{written}\"}}");
        if let Ok(value) = hyper::header::HeaderValue::from_str(&summary) {
            response.headers_mut().insert("X-ClickHouse-Summary", value);
        }
        return Ok(response);
    }
    let sql = crate::params::bind(&request.query, &request.params)?;
    match request.setting("default_format") {
        Some("ArrowStream") => select(state, warehouse, request, &sql, deadline).await,
        Some(other) => Err(Exception::new(
            codes::UNKNOWN_FORMAT,
            format!("the stand-in serves results only as ArrowStream, not {other}"),
        )),
        None => {
            until(deadline, warehouse.execute(&sql)).await??;
            Ok(text_response(""))
        }
    }
}

/// A query answered as an Arrow IPC stream, streamed batch by batch, LZ4-framed when the
/// client accepts it and `enable_http_compression` is on.
async fn select(
    state: &State,
    warehouse: &Warehouse,
    request: &Parsed,
    sql: &Sql,
    deadline: Option<(Instant, f64)>,
) -> Result<Response<Body>, Exception> {
    let mut stream = until(deadline, warehouse.query(sql)).await??;
    let first = until(deadline, stream.next()).await?.transpose()?;
    let as_binary = !state.setting_flag(request, "output_format_arrow_string_as_string");
    let shape = move |batch: RecordBatch| -> Result<RecordBatch, Exception> {
        if as_binary {
            Ok(numu_warehouse::remote::utf8_to_binary(batch)?)
        } else {
            Ok(batch)
        }
    };
    let first = first.map(shape).transpose()?;
    let schema = first.as_ref().map(|b| b.schema()).unwrap_or_else(|| Arc::new(Schema::empty()));
    let lz4 = request.accepts_lz4 && state.setting_flag(request, "enable_http_compression");
    let (sender, receiver) = mpsc::channel::<Bytes>(4);
    let version = state.version.clone();
    tokio::spawn(async move {
        let mut writer =
            Writer { ipc: StreamWriter::try_new(Vec::new(), &schema)?, encoder: Encoder::new(lz4), sender };
        if let Some(batch) = first {
            writer.write(&batch).await?;
        }
        while let Some(item) = until(deadline, stream.next()).await.transpose() {
            match item.and_then(|r| r.map_err(Exception::from)).and_then(&shape) {
                Ok(batch) => writer.write(&batch).await?,
                Err(exception) => return writer.fail(&exception, &version).await,
            }
        }
        writer.finish().await
    });
    let body = futures::stream::unfold(receiver, |mut r| async move {
        r.recv().await.map(|bytes| (Ok::<_, std::convert::Infallible>(Frame::data(bytes)), r))
    });
    let mut response = Response::new(http_body_util::StreamBody::new(body).boxed_unsync());
    let headers = response.headers_mut();
    headers.insert("Content-Type", hyper::header::HeaderValue::from_static("application/octet-stream"));
    headers.insert("X-ClickHouse-Format", hyper::header::HeaderValue::from_static("ArrowStream"));
    if lz4 {
        bump(&state.counters.lz4_responses);
        headers.insert("Content-Encoding", hyper::header::HeaderValue::from_static("lz4"));
    }
    Ok(response)
}

/// Writes IPC messages through the encoder into the response channel.
struct Writer {
    ipc: StreamWriter<Vec<u8>>,
    encoder: Encoder,
    sender: mpsc::Sender<Bytes>,
}

/// Why the body producer stopped early (the client left, or encoding failed).
#[derive(Debug)]
struct Stopped;

impl From<arrow_schema::ArrowError> for Stopped {
    fn from(_: arrow_schema::ArrowError) -> Stopped {
        Stopped
    }
}

impl From<std::io::Error> for Stopped {
    fn from(_: std::io::Error) -> Stopped {
        Stopped
    }
}

impl Writer {
    async fn send(&mut self, bytes: Bytes) -> Result<(), Stopped> {
        if bytes.is_empty() {
            return Ok(());
        }
        self.sender.send(bytes).await.map_err(|_| Stopped)
    }

    async fn write(&mut self, batch: &RecordBatch) -> Result<(), Stopped> {
        self.ipc.write(batch)?;
        let raw = std::mem::take(self.ipc.get_mut());
        let bytes = self.encoder.push(&raw)?;
        self.send(bytes).await
    }

    /// An error after the response began: ClickHouse appends the exception text.
    async fn fail(mut self, exception: &Exception, version: &str) -> Result<(), Stopped> {
        let bytes = self.encoder.push(format!("{}\n", exception.text(version)).as_bytes())?;
        self.send(bytes).await?;
        self.close().await
    }

    async fn finish(mut self) -> Result<(), Stopped> {
        self.ipc.finish()?;
        let raw = std::mem::take(self.ipc.get_mut());
        let bytes = self.encoder.push(&raw)?;
        self.send(bytes).await?;
        self.close().await
    }

    /// Ends the encoding (an LZ4 frame's end mark) and sends what remains.
    async fn close(self) -> Result<(), Stopped> {
        let Writer { encoder, sender, .. } = self;
        let rest = encoder.finish()?;
        if !rest.is_empty() {
            sender.send(rest).await.map_err(|_| Stopped)?;
        }
        Ok(())
    }
}
