//! `numu serve`: open the stores, migrate, compose the services' routes, serve until
//! SIGINT/SIGTERM, then shut down cleanly.

use std::net::TcpListener;
use std::time::Instant;

use actix_web::dev::Service;
use actix_web::{web, App, HttpResponse, HttpServer};
use anyhow::Context;
use numu_query::http::QueryState;
use serde_json::json;

pub use crate::compose::{open_services, Services};
use crate::config::Config;

/// All routes of the server.
pub fn routes(cfg: &mut web::ServiceConfig, services: &Services) {
    // The collector first: actix tries routes in registration order, and each dynamic route
    // before a match costs a regex run — the query and dashboard routes cost a single-event
    // request a few µs of CPU when they came first.
    numu_ingest::front::configure(cfg, services.front.clone());
    cfg.app_data(web::Data::new(services.clone()))
        .route("/healthz", web::get().to(healthz))
        .route("/readyz", web::get().to(readyz))
        .route("/metrics", web::get().to(metrics_page));
    crate::assets::configure(cfg, &services.config.snippet);
    crate::assets::configure_site(cfg, &services.config.site);
    numu_query::http::configure_with_limits(
        cfg,
        QueryState { warehouse: services.warehouse.clone(), app_state: services.app_state.clone() },
        services.config.query.clone(),
    );
    numu_ingest::realtime::http::configure(cfg, services.realtime.clone());
    crate::dashboard::configure(cfg, services.app_state.clone(), &services.config.dashboard);
}

pub async fn serve(config: Config) -> anyhow::Result<()> {
    let services = open_services(&config).await?;
    if services.app_state.projects().await?.is_empty() {
        tracing::info!(
            "no projects yet: load demo data with `numu demo` (from another terminal), \
             or create one with `numu project create --name \"My site\"`"
        );
    }
    crate::dashboard::ensure_initial_admin(&services.app_state, &config.dashboard).await?;
    let runner = numu_query::Runner::new(services.warehouse.clone(), config.query.clone());
    if let Some(refresher) =
        numu_query::cohorts::Refresher::from_config(runner, services.app_state.clone(), &config.cohorts)
    {
        tokio::spawn(refresher.run());
    }
    let listener = TcpListener::bind(&config.listen).with_context(|| format!("binding {}", config.listen))?;
    let address = listener.local_addr()?;
    let workers = if config.workers == 0 {
        std::thread::available_parallelism().map_or(2, |n| n.get())
    } else {
        config.workers
    };
    let app_services = services.clone();
    let server = HttpServer::new(move || {
        let services = app_services.clone();
        App::new()
            .wrap_fn(|request, next| {
                let started = Instant::now();
                let socket = crate::abandon::watched(&request);
                let response = crate::abandon::unless_closed(next.call(request), socket);
                async move {
                    let response = response.await?;
                    let status = response.status().as_u16().to_string();
                    metrics::counter!("numu_http_requests_total", "status" => status).increment(1);
                    metrics::histogram!("numu_http_request_seconds").record(started.elapsed().as_secs_f64());
                    Ok(response)
                }
            })
            .configure(|cfg| routes(cfg, &services))
    })
    .workers(workers)
    .on_connect(crate::abandon::remember_socket)
    .shutdown_timeout(10)
    .listen(listener)?
    .run();
    tracing::info!(address = %address, url = %format!("http://{address}"), "listening");
    server.await?;
    tracing::info!("stopped; flushing the collector's log");
    services.collector.shutdown().await;
    drop(services);
    numu_warehouse::embedded::close();
    Ok(())
}

async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "ok" }))
}

/// Ready when the warehouse answers with no pending migrations and the app state answers.
/// The collector's log state (lag, last insert error) is reported either way: while the
/// warehouse is down the collector still accepts into its log, so it stays useful to route
/// events to, and operators see the lag grow.
async fn readyz(services: web::Data<Services>) -> HttpResponse {
    let app_state = services.app_state.ping().await;
    let collector = services.collector.stats();
    let (ready, body) = match (services.warehouse.health().await, app_state) {
        (Ok(health), Ok(())) if health.pending_migrations == 0 => {
            (true, json!({ "status": "ready", "warehouse": health }))
        }
        (Ok(health), Ok(())) => (false, json!({ "status": "migrations pending", "warehouse": health })),
        (Err(e), _) => (false, json!({ "status": "warehouse unavailable", "error": e.to_string() })),
        (_, Err(e)) => (false, json!({ "status": "app state unavailable", "error": e.to_string() })),
    };
    let mut body = body;
    body["collector"] = json!(collector);
    if ready {
        HttpResponse::Ok().json(body)
    } else {
        HttpResponse::ServiceUnavailable().json(body)
    }
}

async fn metrics_page(services: web::Data<Services>) -> HttpResponse {
    crate::telemetry::record_memory(&services.warehouse).await;
    HttpResponse::Ok().content_type("text/plain; version=0.0.4").body(crate::telemetry::prometheus().render())
}
