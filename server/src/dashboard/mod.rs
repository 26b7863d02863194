//! The dashboard's server side: sign-in, sign-out and the session (`/api/auth/*`), the
//! admin APIs of a project (`/api/projects/{id}/admin/*`: users and roles, keys, settings),
//! the session checker the query and realtime services accept as well as keys, and the
//! built single-page app (`dashboards/dist`) at `/`.
//!
//! Sessions: a random token in the `numu_session` cookie (HttpOnly, SameSite=Lax, Path=/,
//! Secure on HTTPS or as configured), stored hashed with an expiry and a CSRF token. Every
//! state-changing request authenticated by cookie must carry that token in `X-CSRF-Token`;
//! requests authenticated by key are exempt. Failed sign-ins are limited per email and per
//! IP address in memory.

// Helpers return the refusal as the ready response (`Err(HttpResponse)`), built on cold paths.
#![allow(clippy::result_large_err)]

mod admin;

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::http::{header, Method, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use numu_appstate::{authorize, AppState, Credential, Denied, Role, Scope, Session};
use serde::{Deserialize, Serialize};
use serde_json::json;

/// The session cookie's name.
pub const COOKIE: &str = "numu_session";
/// The header carrying the session's CSRF token.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// When the session cookie is marked `Secure`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SecureCookie {
    /// When the request came over HTTPS (directly or per `X-Forwarded-Proto`/`Forwarded`).
    #[default]
    Auto,
    Always,
    Never,
}

/// The `[dashboard]` configuration section.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DashboardConfig {
    /// Directory of the built app (`make dashboard`).
    pub dir: PathBuf,
    /// Hours a session lasts.
    pub session_hours: u32,
    pub secure_cookie: SecureCookie,
    /// Failed sign-ins allowed per email and per IP address in `login_window_secs`.
    pub login_attempts: u32,
    pub login_window_secs: u64,
    /// On first start (no users yet), create this admin (admin of every project).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub initial_admin_email: Option<String>,
    /// Never printed by `numu config`.
    #[serde(skip_serializing)]
    pub initial_admin_password: Option<String>,
}

impl Default for DashboardConfig {
    fn default() -> Self {
        DashboardConfig {
            dir: PathBuf::from("dashboards/dist"),
            session_hours: 24 * 7,
            secure_cookie: SecureCookie::Auto,
            login_attempts: 10,
            login_window_secs: 900,
            initial_admin_email: None,
            initial_admin_password: None,
        }
    }
}

/// Creates the configured first admin when there are no users yet.
pub async fn ensure_initial_admin(app_state: &AppState, config: &DashboardConfig) -> anyhow::Result<()> {
    if app_state.user_count().await? > 0 {
        return Ok(());
    }
    match (&config.initial_admin_email, &config.initial_admin_password) {
        (Some(email), Some(password)) => {
            let user = app_state.create_user(email, password).await?;
            for project in app_state.projects().await? {
                app_state.set_role(user.id, project.id, Role::Admin).await?;
            }
            tracing::info!(email = %user.email, "created the first dashboard admin");
        }
        _ => tracing::info!(
            "no dashboard users yet: create one with `numu user create --email you@example.com \
             --password … --project 1 --role admin`"
        ),
    }
    Ok(())
}

/// Refusals as JSON: `{ "error": …, "code": … }`.
fn refuse(status: StatusCode, code: &str, message: &str) -> HttpResponse {
    HttpResponse::build(status).json(json!({ "error": message, "code": code }))
}

fn unauthenticated() -> HttpResponse {
    refuse(StatusCode::UNAUTHORIZED, "unauthenticated", "sign in first")
}

fn forbidden(message: &str) -> HttpResponse {
    refuse(StatusCode::FORBIDDEN, "forbidden", message)
}

fn internal(error: impl std::fmt::Display) -> HttpResponse {
    tracing::error!(%error, "dashboard API");
    refuse(StatusCode::INTERNAL_SERVER_ERROR, "internal", "internal error")
}

fn bad_request(message: impl std::fmt::Display) -> HttpResponse {
    refuse(StatusCode::BAD_REQUEST, "bad_request", &message.to_string())
}

fn app_error(error: numu_appstate::AppStateError) -> HttpResponse {
    use numu_appstate::AppStateError;
    match error {
        AppStateError::Invalid(message) => bad_request(message),
        AppStateError::ProjectNotFound(id) => {
            refuse(StatusCode::NOT_FOUND, "not_found", &format!("project {id} not found"))
        }
        other => internal(other),
    }
}

/// The session token in the request's cookies.
pub fn session_token(req: &HttpRequest) -> Option<String> {
    req.headers().get_all(header::COOKIE).filter_map(|v| v.to_str().ok()).find_map(|cookies| {
        cookies.split(';').find_map(|pair| {
            let (name, value) = pair.trim().split_once('=')?;
            (name == COOKIE && !value.is_empty()).then(|| value.to_string())
        })
    })
}

fn is_safe_method(req: &HttpRequest) -> bool {
    matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS)
}

fn csrf_ok(req: &HttpRequest, session: &Session) -> bool {
    if is_safe_method(req) {
        return true;
    }
    let presented = req.headers().get(CSRF_HEADER).and_then(|v| v.to_str().ok()).unwrap_or_default();
    let expected = session.csrf_token.as_bytes();
    presented.len() == expected.len()
        && presented.bytes().zip(expected.iter()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0
}

/// Checks sessions for the query and realtime services.
#[derive(Clone, Debug)]
pub struct DashboardSessions {
    app_state: AppState,
}

impl DashboardSessions {
    pub fn new(app_state: AppState) -> DashboardSessions {
        DashboardSessions { app_state }
    }

    async fn check_scope(
        &self,
        req: &HttpRequest,
        project_id: i64,
        needed: Scope,
    ) -> numu_query::http::SessionOutcome {
        use numu_query::http::SessionOutcome as Out;
        let Some(token) = session_token(req) else { return Out::NoSession };
        let session = match self.app_state.session(&token).await {
            Ok(Some(session)) => session,
            Ok(None) => return Out::Refused(Denied::Unknown),
            Err(error) => {
                tracing::error!(%error, "session lookup");
                return Out::Refused(Denied::Unknown);
            }
        };
        if !csrf_ok(req, &session) {
            return Out::CsrfMismatch;
        }
        match self.app_state.role(session.user.id, project_id).await {
            Ok(Some(role)) if role.scope() >= needed => Out::Allowed { user_id: session.user.id },
            Ok(Some(_)) => Out::Refused(Denied::MissingScope(needed.as_str())),
            _ => Out::Refused(Denied::WrongProject),
        }
    }
}

impl numu_query::http::SessionAuth for DashboardSessions {
    fn check<'a>(
        &'a self,
        req: &'a HttpRequest,
        project_id: i64,
        needed: Scope,
    ) -> numu_query::http::SessionCheck<'a> {
        Box::pin(self.check_scope(req, project_id, needed))
    }
}

#[async_trait::async_trait(?Send)]
impl numu_ingest::realtime::http::SessionAuth for DashboardSessions {
    async fn check(&self, req: &HttpRequest, project_id: i64) -> numu_ingest::realtime::http::SessionOutcome {
        use numu_ingest::realtime::http::SessionOutcome as Out;
        match self.check_scope(req, project_id, Scope::Read).await {
            numu_query::http::SessionOutcome::NoSession => Out::NoSession,
            numu_query::http::SessionOutcome::Allowed { .. } => Out::Allowed,
            numu_query::http::SessionOutcome::Refused(denied) => Out::Refused(denied),
            numu_query::http::SessionOutcome::CsrfMismatch => Out::Refused(Denied::Unknown),
        }
    }
}

/// Failed sign-ins per email and per IP address within a window.
#[derive(Debug)]
struct LoginLimiter {
    attempts: u32,
    window: Duration,
    failures: Mutex<HashMap<String, (u32, Instant)>>,
}

impl LoginLimiter {
    fn blocked(&self, keys: &[String]) -> bool {
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        failures.retain(|_, (_, since)| now.duration_since(*since) < self.window);
        keys.iter().any(|k| failures.get(k).is_some_and(|(n, _)| *n >= self.attempts))
    }

    fn failed(&self, keys: &[String]) {
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        for key in keys {
            failures.entry(key.clone()).or_insert((0, Instant::now())).0 += 1;
        }
    }

    fn succeeded(&self, email_key: &str) {
        self.failures.lock().unwrap_or_else(|e| e.into_inner()).remove(email_key);
    }
}

#[derive(Clone)]
struct Dashboard {
    app_state: AppState,
    config: DashboardConfig,
    limiter: Arc<LoginLimiter>,
}

/// Mounts the auth and admin APIs and the app.
pub fn configure(cfg: &mut web::ServiceConfig, app_state: AppState, config: &DashboardConfig) {
    let limiter = Arc::new(LoginLimiter {
        attempts: config.login_attempts.max(1),
        window: Duration::from_secs(config.login_window_secs.max(1)),
        failures: Mutex::new(HashMap::new()),
    });
    let sessions = Arc::new(DashboardSessions::new(app_state.clone()));
    numu_query::http::configure_sessions(cfg, sessions);
    let dir = config.dir.clone();
    let index_dir = dir.clone();
    cfg.app_data(web::Data::new(Dashboard { app_state, config: config.clone(), limiter }))
        .route("/api/auth/login", web::post().to(login))
        .route("/api/auth/logout", web::post().to(logout))
        .route("/api/auth/me", web::get().to(me))
        .route("/api/projects/{project_id}/admin/users", web::get().to(admin::list_users))
        .route("/api/projects/{project_id}/admin/users", web::post().to(admin::add_user))
        .route("/api/projects/{project_id}/admin/users/{user_id}", web::put().to(admin::change_role))
        .route("/api/projects/{project_id}/admin/users/{user_id}", web::delete().to(admin::remove_user))
        .route("/api/projects/{project_id}/admin/keys", web::get().to(admin::list_keys))
        .route("/api/projects/{project_id}/admin/keys", web::post().to(admin::create_key))
        .route("/api/projects/{project_id}/admin/keys/{key_id}", web::delete().to(admin::revoke_key))
        .route("/api/projects/{project_id}/admin/settings", web::get().to(admin::get_settings))
        .route("/api/projects/{project_id}/admin/settings", web::put().to(admin::put_settings))
        .route("/", web::get().to(move || serve_app_file(index_dir.clone(), "index.html".to_string())))
        .route(
            "/ui/{path}",
            web::get().to(move |req: HttpRequest| {
                let name = req.match_info().get("path").unwrap_or_default().to_string();
                serve_app_file(dir.clone(), name)
            }),
        );
}

async fn serve_app_file(dir: PathBuf, name: String) -> HttpResponse {
    let safe = !name.is_empty() && !name.starts_with('.') && !name.contains(['/', '\\']);
    if !safe {
        return HttpResponse::NotFound().body("not found");
    }
    match tokio::fs::read(dir.join(&name)).await {
        Ok(body) => HttpResponse::Ok()
            .content_type(crate::assets::content_type(&name))
            .insert_header((header::CACHE_CONTROL, "no-cache"))
            .insert_header(("X-Content-Type-Options", "nosniff"))
            .insert_header(("X-Frame-Options", "DENY"))
            .body(body),
        Err(_) if !dir.join("index.html").exists() => {
            HttpResponse::ServiceUnavailable().content_type("text/plain; charset=utf-8").body(format!(
                "the dashboard is not built ({} is missing): run `make dashboard` \
                 (cd dashboards && npm ci && npm run build)\n",
                dir.join("index.html").display()
            ))
        }
        Err(_) => HttpResponse::NotFound().body("not found"),
    }
}

fn cookie_is_secure(req: &HttpRequest, config: &DashboardConfig) -> bool {
    match config.secure_cookie {
        SecureCookie::Always => true,
        SecureCookie::Never => false,
        SecureCookie::Auto => req.connection_info().scheme() == "https",
    }
}

fn session_cookie(req: &HttpRequest, config: &DashboardConfig, value: &str, max_age_secs: i64) -> String {
    let secure = if cookie_is_secure(req, config) { "; Secure" } else { "" };
    format!("{COOKIE}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age_secs}{secure}")
}

#[derive(Deserialize)]
struct Login {
    email: String,
    password: String,
}

#[derive(Serialize)]
struct ProjectAccess {
    id: i64,
    name: String,
    role: Role,
    write_key: String,
}

async fn session_json(app_state: &AppState, session: &Session) -> Result<serde_json::Value, HttpResponse> {
    let memberships = app_state.memberships(session.user.id).await.map_err(app_error)?;
    let mut projects = Vec::new();
    for m in memberships {
        if let Some(project) = app_state.project(m.project_id).await.map_err(app_error)? {
            projects.push(ProjectAccess {
                id: project.id,
                name: project.name,
                role: m.role,
                write_key: project.write_key,
            });
        }
    }
    Ok(json!({ "user": session.user, "csrf_token": session.csrf_token, "projects": projects }))
}

async fn login(req: HttpRequest, body: web::Bytes, dashboard: web::Data<Dashboard>) -> HttpResponse {
    let Ok(login) = serde_json::from_slice::<Login>(&body) else {
        return bad_request("send JSON {\"email\": …, \"password\": …}");
    };
    let email_key = format!("email:{}", login.email.trim().to_lowercase());
    let ip: Option<IpAddr> = req.peer_addr().map(|a| a.ip());
    let keys: Vec<String> =
        [Some(email_key.clone()), ip.map(|ip| format!("ip:{ip}"))].into_iter().flatten().collect();
    if dashboard.limiter.blocked(&keys) {
        return refuse(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            "too many failed sign-ins; try again later",
        );
    }
    let user = match dashboard.app_state.verify_login(&login.email, &login.password).await {
        Ok(Some(user)) => user,
        Ok(None) => {
            dashboard.limiter.failed(&keys);
            return unauthenticated_with("wrong email or password");
        }
        Err(e) => return app_error(e),
    };
    dashboard.limiter.succeeded(&email_key);
    let ttl = i64::from(dashboard.config.session_hours.max(1)) * 3600;
    let new = match dashboard.app_state.create_session(user.id, ttl).await {
        Ok(new) => new,
        Err(e) => return app_error(e),
    };
    let session = Session { user, csrf_token: new.csrf_token, expires_at_ms: new.expires_at_ms };
    match session_json(&dashboard.app_state, &session).await {
        Ok(body) => HttpResponse::Ok()
            .insert_header((header::SET_COOKIE, session_cookie(&req, &dashboard.config, &new.token, ttl)))
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .json(body),
        Err(response) => response,
    }
}

fn unauthenticated_with(message: &str) -> HttpResponse {
    refuse(StatusCode::UNAUTHORIZED, "unauthenticated", message)
}

async fn current_session(req: &HttpRequest, app_state: &AppState) -> Result<(String, Session), HttpResponse> {
    let Some(token) = session_token(req) else { return Err(unauthenticated()) };
    match app_state.session(&token).await {
        Ok(Some(session)) => Ok((token, session)),
        Ok(None) => Err(unauthenticated()),
        Err(e) => Err(app_error(e)),
    }
}

async fn logout(req: HttpRequest, dashboard: web::Data<Dashboard>) -> HttpResponse {
    let (token, session) = match current_session(&req, &dashboard.app_state).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    if !csrf_ok(&req, &session) {
        return forbidden("missing or wrong CSRF token: send it in the X-CSRF-Token header");
    }
    if let Err(e) = dashboard.app_state.delete_session(&token).await {
        return app_error(e);
    }
    HttpResponse::Ok()
        .insert_header((header::SET_COOKIE, session_cookie(&req, &dashboard.config, "", 0)))
        .json(json!({ "signed_out": true }))
}

async fn me(req: HttpRequest, dashboard: web::Data<Dashboard>) -> HttpResponse {
    let (_, session) = match current_session(&req, &dashboard.app_state).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    match session_json(&dashboard.app_state, &session).await {
        Ok(body) => HttpResponse::Ok().insert_header((header::CACHE_CONTROL, "no-store")).json(body),
        Err(response) => response,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    #[test]
    fn the_session_cookie_is_found_among_others() {
        let req = TestRequest::default()
            .insert_header((header::COOKIE, "a=1; numu_session=abc; b=2"))
            .to_http_request();
        assert_eq!(session_token(&req).as_deref(), Some("abc"));
        let req =
            TestRequest::default().insert_header((header::COOKIE, "numu_sessionx=abc")).to_http_request();
        assert_eq!(session_token(&req), None);
    }

    #[test]
    fn cookies_are_http_only_lax_and_secure_on_https() {
        let config = DashboardConfig::default();
        let plain = TestRequest::default().to_http_request();
        let cookie = session_cookie(&plain, &config, "t", 60);
        assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax") && cookie.contains("Path=/"));
        assert!(!cookie.contains("Secure"));
        let https = TestRequest::default().insert_header(("x-forwarded-proto", "https")).to_http_request();
        assert!(session_cookie(&https, &config, "t", 60).ends_with("; Secure"));
        let never = DashboardConfig { secure_cookie: SecureCookie::Never, ..DashboardConfig::default() };
        assert!(!session_cookie(&https, &never, "t", 60).contains("Secure"));
    }

    #[test]
    fn failed_sign_ins_are_limited() {
        let limiter = LoginLimiter {
            attempts: 2,
            window: Duration::from_secs(60),
            failures: Mutex::new(HashMap::new()),
        };
        let keys = vec!["email:a".to_string()];
        assert!(!limiter.blocked(&keys));
        limiter.failed(&keys);
        limiter.failed(&keys);
        assert!(limiter.blocked(&keys));
        limiter.succeeded("email:a");
        assert!(!limiter.blocked(&keys));
    }
}
