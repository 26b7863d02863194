//! The baseline the collector is measured against: a bare actix-web server that decodes the
//! same bodies (gzip, JSON) into `numu_schemas::Message` / `Batch` and answers 204 — the
//! least any Segment-compatible endpoint must do. Run as its own process (`ingest-load
//! baseline-server`) so its CPU is read from /proc exactly like the collector's.

use actix_web::{web, App, HttpResponse, HttpServer};
use numu_schemas::event::Batch;
use numu_schemas::Message;

async fn track(body: web::Bytes) -> HttpResponse {
    match serde_json::from_slice::<Message>(&body) {
        Ok(message) => {
            std::hint::black_box(message);
            HttpResponse::NoContent().finish()
        }
        Err(e) => HttpResponse::BadRequest().body(e.to_string()),
    }
}

async fn batch(body: web::Bytes) -> HttpResponse {
    match serde_json::from_slice::<Batch>(&body) {
        Ok(batch) => {
            std::hint::black_box(batch);
            HttpResponse::NoContent().finish()
        }
        Err(e) => HttpResponse::BadRequest().body(e.to_string()),
    }
}

/// Serves on 127.0.0.1:`port` (0 = any) with `workers` threads (0 = actix's default, one
/// per core), printing `listening PORT` once bound. Blocks until killed.
pub fn serve(port: u16, workers: usize) -> std::io::Result<()> {
    actix_web::rt::System::new().block_on(async move {
        let mut server = HttpServer::new(|| {
            App::new()
                // Request bodies are gunzipped by actix-web itself (Content-Encoding).
                .app_data(web::PayloadConfig::new(8 << 20))
                .route("/v1/track", web::post().to(track))
                .route("/v1/batch", web::post().to(batch))
        });
        if workers > 0 {
            server = server.workers(workers);
        }
        let server = server.bind(("127.0.0.1", port))?;
        let port = server.addrs().first().map(|a| a.port()).unwrap_or_default();
        println!("listening {port}");
        server.run().await
    })
}
