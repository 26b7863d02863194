//! Questions whose client went away are dropped, so their statements stop in the engine.
//!
//! actix-web keeps running a handler after its client disconnects (actix-web issue 3462), so
//! a dashboard page closed or re-filtered mid-way left its questions computing to the end,
//! slowing the questions asked after them. Each connection keeps a duplicate of its socket
//! (`HttpServer::on_connect`), and the query routes race the handler against that socket
//! reporting end-of-stream. A client that half-closes its side while still waiting for the
//! answer would lose it; browsers and common HTTP clients do not do that.

use std::any::Any;
use std::future::Future;
use std::os::fd::{AsFd, OwnedFd};
use std::sync::Arc;

use actix_web::dev::{Extensions, ServiceRequest};
use actix_web::error::InternalError;
use actix_web::http::{Method, StatusCode};

/// A duplicate of a connection's socket, closed with the connection's data.
#[derive(Clone)]
pub struct ClientSocket(Arc<OwnedFd>);

/// The `HttpServer::on_connect` hook: keeps the socket of each plain TCP connection.
pub fn remember_socket(connection: &dyn Any, data: &mut Extensions) {
    if let Some(tcp) = connection.downcast_ref::<actix_web::rt::net::TcpStream>() {
        if let Ok(socket) = tcp.as_fd().try_clone_to_owned() {
            data.insert(ClientSocket(Arc::new(socket)));
        }
    }
}

impl ClientSocket {
    /// Resolves once the client has closed the connection (or it failed); pending for as
    /// long as the client is connected, or when it has sent more bytes (a next request).
    async fn closed(&self) {
        if !matches!(self.watch().await, Ok(false)) {
            return;
        }
        std::future::pending::<()>().await;
    }

    /// `Ok(true)` at end-of-stream, `Ok(false)` when bytes are waiting to be read.
    async fn watch(&self) -> std::io::Result<bool> {
        // A second duplicate, owned by the watcher: registered with this worker's reactor
        // and closed when the watch ends, while actix keeps its own. Closing a duplicate
        // does not close the connection.
        let stream = tokio::net::TcpStream::from_std(std::net::TcpStream::from(self.0.try_clone()?))?;
        Ok(stream.peek(&mut [0u8; 1]).await? == 0)
    }
}

/// The socket to watch while `request` is answered: analysis questions only (`POST
/// …/query`), the requests that can run for seconds and have no effects to leave half done.
pub fn watched(request: &ServiceRequest) -> Option<ClientSocket> {
    let question = request.method() == Method::POST && request.path().ends_with("/query");
    question.then(|| request.conn_data::<ClientSocket>().cloned()).flatten()
}

/// `response`, unless the client closes the connection first: then the handler is dropped
/// (the warehouse stops its statements) and the answer is a 499 nobody reads.
pub async fn unless_closed<T>(
    response: impl Future<Output = Result<T, actix_web::Error>>,
    socket: Option<ClientSocket>,
) -> Result<T, actix_web::Error> {
    let Some(socket) = socket else { return response.await };
    tokio::select! {
        answer = response => answer,
        () = socket.closed() => {
            metrics::counter!("numu_http_abandoned_total").increment(1);
            tracing::debug!("the client closed the connection; its question was dropped");
            let status = StatusCode::from_u16(499).unwrap_or(StatusCode::BAD_REQUEST);
            Err(InternalError::new("the client closed the request", status).into())
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::time::{Duration, Instant};

    use actix_web::dev::Service;
    use actix_web::{web, App, HttpResponse, HttpServer};

    use super::*;

    /// Sets its flag when dropped: the handler holding it was dropped.
    struct Dropped(Arc<AtomicBool>);

    impl Drop for Dropped {
        fn drop(&mut self) {
            self.0.store(true, Ordering::SeqCst);
        }
    }

    fn start(dropped: Arc<AtomicBool>) -> std::net::SocketAddr {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let address = listener.local_addr().unwrap();
        let server = HttpServer::new(move || {
            let dropped = dropped.clone();
            App::new()
                .wrap_fn(|request, next| {
                    let socket = watched(&request);
                    unless_closed(next.call(request), socket)
                })
                .route(
                    "/slow/query",
                    web::post().to(move || {
                        let guard = Dropped(dropped.clone());
                        async move {
                            std::future::pending::<()>().await;
                            drop(guard);
                            HttpResponse::Ok().finish()
                        }
                    }),
                )
                .route("/fast/query", web::post().to(|| async { HttpResponse::Ok().body("answered") }))
        })
        .workers(1)
        .on_connect(remember_socket)
        .listen(listener)
        .unwrap()
        .run();
        actix_web::rt::spawn(server);
        address
    }

    fn ask(address: std::net::SocketAddr, path: &str) -> std::net::TcpStream {
        let mut client = std::net::TcpStream::connect(address).unwrap();
        let request = format!("POST {path} HTTP/1.1\r\nHost: numu\r\nContent-Length: 0\r\n\r\n");
        client.write_all(request.as_bytes()).unwrap();
        client
    }

    async fn within(flag: &AtomicBool, wait: Duration) -> bool {
        let started = Instant::now();
        while started.elapsed() < wait && !flag.load(Ordering::SeqCst) {
            actix_web::rt::time::sleep(Duration::from_millis(20)).await;
        }
        flag.load(Ordering::SeqCst)
    }

    #[actix_web::test]
    async fn a_question_is_dropped_when_its_client_closes_and_only_then() {
        let dropped = Arc::new(AtomicBool::new(false));
        let address = start(dropped.clone());

        let client = ask(address, "/slow/query");
        assert!(!within(&dropped, Duration::from_millis(800)).await, "dropped while the client waits");
        drop(client);
        assert!(within(&dropped, Duration::from_secs(5)).await, "still running after the client left");

        // An answered question reaches its client unchanged.
        let mut client = ask(address, "/fast/query");
        client.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let mut answer = vec![0u8; 512];
        let n = client.read(&mut answer).unwrap();
        let answer = String::from_utf8_lossy(&answer[..n]);
        assert!(answer.starts_with("HTTP/1.1 200 OK") && answer.ends_with("answered"), "{answer}");
    }
}
