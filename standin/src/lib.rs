//! A ClickHouse-HTTP-compatible stand-in served over Numu's embedded engine (chDB) — for
//! tests, not ClickHouse. No modern ClickHouse server installs on the project's machines, so
//! CI runs the remote engine, configured exactly as for production, against this: the
//! `clickhouse` crate's requests (credentials, `database`, the query in the URL, body or a
//! multipart form, `param_*` server-side parameters, settings, `ArrowStream` both ways, LZ4
//! compressed blocks with CityHash checksums in, LZ4 frames out) are answered the way a
//! ClickHouse server answers them, errors included (`Code: N. DB::Exception: …` with
//! ClickHouse's codes and HTTP statuses).
//!
//! What it does not do: settings other than `max_execution_time`,
//! `insert_deduplicate`/`insert_deduplication_token`, `enable_http_compression` and
//! `output_format_arrow_string_as_string` are checked to exist and otherwise ignored;
//! sessions, `ON CLUSTER` and formats other than `ArrowStream` are not served.

pub mod exception;
pub mod insert;
pub mod params;
pub mod request;
pub mod server;
pub mod wire;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use bytes::Bytes;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use numu_warehouse::EmbeddedConfig;
use tokio::net::TcpListener;

/// Response bodies: a whole text or a stream of Arrow bytes.
pub type Body = http_body_util::combinators::UnsyncBoxBody<Bytes, Infallible>;

/// The stand-in's one error type.
#[derive(Debug, thiserror::Error)]
pub enum StandinError {
    #[error("the stand-in's embedded engine: {0}")]
    Warehouse(#[from] numu_warehouse::WarehouseError),

    #[error("cannot listen on {addr}: {source}")]
    Listen { addr: SocketAddr, source: std::io::Error },

    #[error("TLS certificate or key {path}: {message}")]
    Tls { path: PathBuf, message: String },

    #[error("the stand-in thread: {0}")]
    Thread(String),
}

/// Serve HTTPS with this certificate chain and private key (PEM files).
#[derive(Clone, Debug)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// How to run the stand-in.
#[derive(Clone, Debug)]
pub struct StandinConfig {
    pub listen: SocketAddr,
    /// The embedded engine it serves (one storage path per process).
    pub embedded: EmbeddedConfig,
    /// Accepted `(user, password)` pairs; none means ClickHouse's `default` user, no password.
    pub users: Vec<(String, String)>,
    pub tls: Option<TlsFiles>,
}

/// Binds the listening socket and loads the engine; returns what [`serve`] needs.
pub async fn bind(config: &StandinConfig) -> Result<(TcpListener, Arc<server::State>), StandinError> {
    let state = server::State::new(config.embedded.clone(), config.users.clone()).await?;
    let listener = TcpListener::bind(config.listen)
        .await
        .map_err(|source| StandinError::Listen { addr: config.listen, source })?;
    Ok((listener, Arc::new(state)))
}

/// A TLS acceptor for `files`.
pub fn tls_acceptor(files: &TlsFiles) -> Result<tokio_rustls::TlsAcceptor, StandinError> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let bad = |path: &PathBuf, e: &dyn std::fmt::Display| StandinError::Tls {
        path: path.clone(),
        message: e.to_string(),
    };
    let certs = CertificateDer::pem_file_iter(&files.cert)
        .map_err(|e| bad(&files.cert, &e))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| bad(&files.cert, &e))?;
    let key = PrivateKeyDer::from_pem_file(&files.key).map_err(|e| bad(&files.key, &e))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .and_then(|b| b.with_no_client_auth().with_single_cert(certs, key))
        .map_err(|e| bad(&files.cert, &e))?;
    Ok(tokio_rustls::TlsAcceptor::from(Arc::new(config)))
}

/// Accepts connections until `shutdown` completes.
pub async fn serve(
    listener: TcpListener,
    state: Arc<server::State>,
    tls: Option<tokio_rustls::TlsAcceptor>,
    shutdown: impl std::future::Future<Output = ()>,
) {
    tokio::pin!(shutdown);
    loop {
        let (stream, _) = tokio::select! {
            _ = &mut shutdown => return,
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    tracing::warn!(error = %e, "stand-in accept failed");
                    continue;
                }
            },
        };
        let _ = stream.set_nodelay(true);
        let (state, tls) = (state.clone(), tls.clone());
        tokio::spawn(async move {
            let service = service_fn(move |request| {
                let state = state.clone();
                async move { Ok::<_, Infallible>(server::handle(state, request).await) }
            });
            let http = hyper::server::conn::http1::Builder::new();
            let result = match tls {
                None => http.serve_connection(TokioIo::new(stream), service).await,
                Some(acceptor) => match acceptor.accept(stream).await {
                    Ok(stream) => http.serve_connection(TokioIo::new(stream), service).await,
                    Err(e) => {
                        tracing::debug!(error = %e, "stand-in TLS handshake failed");
                        return;
                    }
                },
            };
            if let Err(e) = result {
                tracing::debug!(error = %e, "stand-in connection ended with an error");
            }
        });
    }
}

/// A stand-in running on its own thread and runtime (so it outlives any one test's
/// runtime); stopped when dropped, which also closes its engine connections.
///
/// Drop it before the process exits: the embedded engine's exit handlers crash while
/// connections are open (a `static` stand-in is never dropped), and joining its threads from
/// an exit handler hangs. Tests therefore start one per test (it shares the process's
/// engine, so this is cheap).
pub struct Standin {
    addr: SocketAddr,
    state: Arc<server::State>,
    https: bool,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Standin {
    /// Starts serving and returns once the socket is bound and the engine loaded.
    pub fn start(config: StandinConfig) -> Result<Standin, StandinError> {
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let https = config.tls.is_some();
        let thread = std::thread::Builder::new()
            .name("numu-standin".into())
            .spawn(move || {
                let runtime = match tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .enable_all()
                    .build()
                {
                    Ok(runtime) => runtime,
                    Err(e) => {
                        let _ = ready_tx.send(Err(StandinError::Thread(e.to_string())));
                        return;
                    }
                };
                runtime.block_on(async move {
                    let started = async {
                        let tls = config.tls.as_ref().map(tls_acceptor).transpose()?;
                        let (listener, state) = bind(&config).await?;
                        let addr = listener
                            .local_addr()
                            .map_err(|source| StandinError::Listen { addr: config.listen, source })?;
                        Ok::<_, StandinError>((listener, state, tls, addr))
                    };
                    match started.await {
                        Ok((listener, state, tls, addr)) => {
                            let _ = ready_tx.send(Ok((addr, state.clone())));
                            serve(listener, state, tls, async {
                                let _ = stopped.await;
                            })
                            .await;
                        }
                        Err(e) => {
                            let _ = ready_tx.send(Err(e));
                        }
                    }
                });
            })
            .map_err(|e| StandinError::Thread(e.to_string()))?;
        let (addr, state) = ready_rx.recv().map_err(|e| StandinError::Thread(e.to_string()))??;
        Ok(Standin { addr, state, https, stop: Some(stop), thread: Some(thread) })
    }

    /// What the stand-in has seen of the wire so far.
    pub fn stats(&self) -> server::Stats {
        self.state.stats()
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The URL to configure as `warehouse.remote.url`.
    pub fn url(&self) -> String {
        let scheme = if self.https { "https" } else { "http" };
        match self.addr {
            SocketAddr::V4(a) if self.https && a.ip().is_loopback() => {
                format!("https://localhost:{}", a.port())
            }
            addr => format!("{scheme}://{addr}"),
        }
    }
}

impl Drop for Standin {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
