//! The thread embedded inserts run on, named `numu-insert` so that the CPU of the warehouse
//! insert can be told apart from the collector's own (the load tool reads threads' CPU by
//! name from /proc). One long-lived thread: a thread that exits takes its CPU time out of
//! the per-thread view.

use std::sync::mpsc;
use std::sync::{Mutex, OnceLock};

use crate::error::{Result, WarehouseError};

type Job = Box<dyn FnOnce() + Send>;

static JOBS: OnceLock<Mutex<mpsc::Sender<Job>>> = OnceLock::new();

fn jobs() -> Result<mpsc::Sender<Job>> {
    if let Some(sender) = JOBS.get() {
        return sender.lock().map(|s| s.clone()).map_err(|_| internal("insert queue poisoned"));
    }
    let (sender, receiver) = mpsc::channel::<Job>();
    std::thread::Builder::new()
        .name("numu-insert".into())
        .spawn(move || {
            while let Ok(job) = receiver.recv() {
                job();
            }
        })
        .map_err(|e| internal(&format!("cannot start the insert thread: {e}")))?;
    // Another caller may have won the race: its thread serves; ours ends with its channel.
    let sender = JOBS.get_or_init(|| Mutex::new(sender));
    sender.lock().map(|s| s.clone()).map_err(|_| internal("insert queue poisoned"))
}

fn internal(message: &str) -> WarehouseError {
    WarehouseError::Internal(message.to_string())
}

/// Runs `f` on the insert thread and waits for its result without blocking the runtime.
/// Inserts queue behind each other; the collector's batcher sends one at a time anyway.
pub(crate) async fn run<T: Send + 'static>(f: impl FnOnce() -> Result<T> + Send + 'static) -> Result<T> {
    let (reply, answer) = tokio::sync::oneshot::channel();
    let job: Job = Box::new(move || {
        let _ = reply.send(f());
    });
    jobs()?.send(job).map_err(|_| internal("the insert thread is gone"))?;
    answer.await.map_err(|_| internal("the insert thread dropped the insert"))?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn runs_jobs_on_one_named_thread_and_returns_their_results() {
        let name = || Ok(std::thread::current().name().map(str::to_string));
        assert_eq!(run(name).await.unwrap().as_deref(), Some("numu-insert"));
        let first = run(|| Ok(std::thread::current().id())).await.unwrap();
        assert_eq!(run(|| Ok(std::thread::current().id())).await.unwrap(), first);
        let failed: Result<()> = run(|| Err(internal("boom"))).await;
        assert!(matches!(failed, Err(WarehouseError::Internal(m)) if m == "boom"));
    }
}
