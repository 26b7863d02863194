//! A small connection pool. Each lease owns its connection exclusively until the result
//! stream is read to the end, as the engine requires; a lease whose stream was abandoned
//! mid-way is discarded rather than reused.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use adbc_core::{Connection, Database, Statement};
use adbc_driver_manager::ManagedConnection;
use arrow_array::RecordBatch;
use futures::StreamExt;
use tokio::sync::{mpsc, OwnedSemaphorePermit, Semaphore};

use super::process::EngineProcess;
use super::{blocking, run_query, run_update, sql_error};
use crate::engine::BatchStream;
use crate::error::{Result, WarehouseError};
use crate::sql::{Ident, Value};

pub(crate) struct Pool {
    process: Arc<EngineProcess>,
    database: Ident,
    idle: Mutex<Vec<ManagedConnection>>,
    permits: Arc<Semaphore>,
}

/// One connection, held exclusively; returned to the pool on drop when still clean.
pub(crate) struct Lease {
    connection: Option<ManagedConnection>,
    pool: Arc<Pool>,
    clean: bool,
    _permit: OwnedSemaphorePermit,
}

impl Lease {
    pub(crate) fn connection(&mut self) -> &mut ManagedConnection {
        // Present from checkout until drop.
        self.connection.as_mut().expect("lease holds a connection until dropped")
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        if let (Some(connection), true) = (self.connection.take(), self.clean) {
            if let Ok(mut idle) = self.pool.idle.lock() {
                idle.push(connection);
            }
        }
    }
}

impl Pool {
    pub(crate) fn new(process: Arc<EngineProcess>, database: Ident, size: usize) -> Pool {
        Pool { process, database, idle: Mutex::new(Vec::new()), permits: Arc::new(Semaphore::new(size)) }
    }

    pub(crate) async fn checkout(self: &Arc<Self>) -> Result<Lease> {
        let permit = self
            .permits
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| WarehouseError::Internal("pool closed".into()))?;
        let reused = self.idle.lock().ok().and_then(|mut idle| idle.pop());
        let connection = match reused {
            Some(connection) => connection,
            None => {
                let pool = self.clone();
                blocking(move || pool.connect()).await?
            }
        };
        Ok(Lease { connection: Some(connection), pool: self.clone(), clean: true, _permit: permit })
    }

    /// Asks the engine to stop the query tagged `tag` (a no-op when it has ended). The tag is
    /// made here, never from a request.
    fn stop(&self, tag: &str) -> Result<()> {
        let mut connection = self.connect()?;
        let mut statement = connection.new_statement().map_err(sql_error)?;
        // Reads only: the connection keeps the tag after its query, so a statement run there
        // later without a tag of its own (an insert) must never match.
        let text =
            format!("KILL QUERY WHERE Settings['log_comment'] = '{tag}' AND query_kind = 'Select' ASYNC");
        statement.set_sql_query(&text).map_err(sql_error)?;
        for batch in statement.execute().map_err(sql_error)? {
            batch?;
        }
        Ok(())
    }

    /// A new connection whose current database is this pool's (created if missing).
    fn connect(&self) -> Result<ManagedConnection> {
        let mut connection = self.process.database.new_connection().map_err(sql_error)?;
        for text in
            [format!("CREATE DATABASE IF NOT EXISTS {}", self.database), format!("USE {}", self.database)]
        {
            let mut statement = connection.new_statement().map_err(sql_error)?;
            statement.set_sql_query(&text).map_err(sql_error)?;
            statement.execute_update().map_err(sql_error)?;
        }
        Ok(connection)
    }
}

/// Runs the query on a blocking thread and streams its batches through a small channel.
/// The first message is awaited here so that SQL errors surface from the call itself.
///
/// The statement runs under a tag (`log_comment`), so that when the call or its stream is
/// dropped before the end (the HTTP client went away) the engine is told to stop it. Left
/// running, an abandoned dashboard question keeps the cores busy to its end and slows the
/// questions asked after it.
pub(crate) async fn stream_query(lease: Lease, text: String, params: Vec<Value>) -> Result<BatchStream> {
    let stop = StopOnDrop::new(lease.pool.clone());
    let tag = stop.tag.clone();
    let (sender, mut receiver) = mpsc::channel::<Result<RecordBatch>>(2);
    tokio::task::spawn_blocking(move || read_all(lease, &tag, &text, &params, &sender));
    let first = receiver.recv().await;
    let batch = match first {
        None => {
            stop.finish();
            return Ok(futures::stream::empty().boxed());
        }
        Some(Err(e)) => {
            stop.finish();
            return Err(e);
        }
        Some(Ok(batch)) => batch,
    };
    let rest = futures::stream::unfold((receiver, stop), |(mut receiver, stop)| async move {
        match receiver.recv().await {
            Some(item) => Some((item, (receiver, stop))),
            None => {
                stop.finish();
                None
            }
        }
    });
    Ok(futures::stream::once(async { Ok(batch) }).chain(rest).boxed())
}

/// Stops its query in the engine when dropped before the query's end.
struct StopOnDrop {
    pool: Arc<Pool>,
    /// `numu-query-<n>`, unique in the process: the statement's `log_comment`.
    tag: String,
    ended: bool,
}

impl StopOnDrop {
    fn new(pool: Arc<Pool>) -> StopOnDrop {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        StopOnDrop { pool, tag: format!("numu-query-{}", NEXT.fetch_add(1, Ordering::Relaxed)), ended: false }
    }

    /// The query has ended: nothing to stop.
    fn finish(mut self) {
        self.ended = true;
    }
}

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        if self.ended {
            return;
        }
        let (pool, tag) = (self.pool.clone(), std::mem::take(&mut self.tag));
        // A thread and a connection of its own: this may run outside the runtime, and the
        // pool's connections may all be busy (one of them with this very query).
        std::thread::spawn(move || {
            if let Err(error) = pool.stop(&tag) {
                tracing::warn!(%error, tag, "could not stop an abandoned query");
            }
        });
    }
}

fn read_all(
    mut lease: Lease,
    tag: &str,
    text: &str,
    params: &[Value],
    sender: &mpsc::Sender<Result<RecordBatch>>,
) {
    // The tag as the connection's `log_comment`: the engine lists it with the running query
    // (a comment in the text would not survive the engine rewriting a statement with bound
    // values).
    let tagged = run_update(&mut lease, &format!("SET log_comment = '{tag}'"), None);
    let (_statement, reader) = match tagged.and_then(|_| run_query(&mut lease, text, params)) {
        Ok(pair) => pair,
        Err(e) => {
            let _ = sender.blocking_send(Err(e));
            return;
        }
    };
    let schema = reader.schema();
    let mut sent_any = false;
    for item in reader {
        let item = item.map_err(WarehouseError::from).and_then(crate::utf8::repair_batch);
        let failed = item.is_err();
        if sender.blocking_send(item).is_err() {
            // The reader was abandoned: this connection may be mid-result, do not reuse it.
            lease.clean = false;
            return;
        }
        sent_any = true;
        if failed {
            lease.clean = false;
            return;
        }
    }
    if !sent_any {
        // An empty result still tells the caller its schema.
        let _ = sender.blocking_send(Ok(RecordBatch::new_empty(schema)));
    }
}
