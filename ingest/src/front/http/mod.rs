//! The collector's HTTP endpoints (actix-web): the Segment Tracking API (`/v1/*`), the
//! snippet's compact endpoint (`/e`) and the pixel (`/p.gif`). Errors map to statuses in
//! [`respond`]; the work is in `handlers`.

mod handlers;
pub mod respond;

use std::sync::Arc;
use std::time::Duration;

use actix_web::web;
use numu_appstate::AppState;
use numu_schemas::EventType;

use super::keys::{KeyResolver, MinuteBudget};
use super::pipeline::Pipeline;
use super::{Config, FrontError, PropertySchemas};
use crate::Sink;

/// Everything the endpoints share. Cheap to clone.
#[derive(Clone)]
pub struct FrontState {
    shared: Arc<Shared>,
}

struct Shared {
    sink: Arc<dyn Sink>,
    config: Config,
    pipeline: Pipeline,
    keys: KeyResolver,
    anonymous_dead_letters: MinuteBudget,
}

impl std::fmt::Debug for FrontState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FrontState").field("config", &self.shared.config).finish()
    }
}

/// Epoch milliseconds now.
pub fn now_ms() -> i64 {
    let since = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    i64::try_from(since.as_millis()).unwrap_or(i64::MAX)
}

impl FrontState {
    /// Builds the state: compiles the user-agent regexes, loads the referrer list and the
    /// geo database when configured. Fails on a bad geo file.
    pub fn new(
        app: AppState,
        sink: Arc<dyn Sink>,
        config: Config,
        schemas: PropertySchemas,
    ) -> Result<FrontState, FrontError> {
        let pipeline = Pipeline::new(&config, schemas, now_ms())?;
        let keys = KeyResolver::new(app, Duration::from_secs(config.key_cache_ttl_secs));
        let anonymous_dead_letters = MinuteBudget::new(config.anonymous_dead_letters_per_minute);
        Ok(FrontState { shared: Arc::new(Shared { sink, config, pipeline, keys, anonymous_dead_letters }) })
    }

    pub fn config(&self) -> &Config {
        &self.shared.config
    }

    pub fn pipeline(&self) -> &Pipeline {
        &self.shared.pipeline
    }
}

const SEGMENT_ROUTES: [(&str, EventType); 6] = [
    ("/v1/track", EventType::Track),
    ("/v1/page", EventType::Page),
    ("/v1/screen", EventType::Screen),
    ("/v1/identify", EventType::Identify),
    ("/v1/alias", EventType::Alias),
    ("/v1/group", EventType::Group),
];

fn method_not_allowed(path: &'static str, allowed: &'static str) -> actix_web::Route {
    web::route().to(move |req: actix_web::HttpRequest| async move {
        let error = FrontError::MethodNotAllowed { method: req.method().to_string(), allowed };
        let response = respond::error_json(&error);
        handlers::count_request(path, &response);
        response
    })
}

/// Mounts the collector's endpoints (at the root of whatever scope the server uses).
pub fn configure(cfg: &mut web::ServiceConfig, state: FrontState) {
    cfg.app_data(web::Data::new(state));
    for (path, kind) in SEGMENT_ROUTES {
        cfg.service(
            web::resource(path)
                .route(
                    web::post()
                        .to(move |req, body, state| handlers::segment_single(req, body, state, path, kind)),
                )
                .default_service(method_not_allowed(path, "POST")),
        );
    }
    for path in ["/v1/batch", "/v1/import"] {
        cfg.service(
            web::resource(path)
                .route(
                    web::post().to(move |req, body, state| handlers::segment_batch(req, body, state, path)),
                )
                .default_service(method_not_allowed(path, "POST")),
        );
    }
    cfg.service(
        web::resource("/e")
            .route(web::post().to(handlers::compact))
            .route(web::method(actix_web::http::Method::OPTIONS).to(handlers::preflight))
            .default_service(method_not_allowed("/e", "POST, OPTIONS")),
    );
    cfg.service(
        web::resource("/p.gif")
            .route(web::get().to(handlers::pixel))
            .route(web::head().to(handlers::pixel))
            .default_service(method_not_allowed("/p.gif", "GET, HEAD")),
    );
}
