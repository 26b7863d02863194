//! Who may read a project's real-time figures: a secret API key with the `read` scope
//! (`Authorization: Bearer <key>`, checked as the query service does), or — for browsers,
//! whose `EventSource` cannot send headers — the dashboard's session through the
//! [`SessionAuth`] seam. Peers present the shared `peer_token` on the sketches route.
//!
//! Keys in the URL (`?key=`) are refused with a message: URLs end up in access logs,
//! proxies and browser history, and a read key there would outlive the page.

use actix_web::HttpRequest;
use async_trait::async_trait;
use numu_appstate::{authorize, AppState, Credential, Denied, Scope};
use sha2::{Digest, Sha256};

use super::error::RealtimeError;

/// What a session check found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SessionOutcome {
    /// The request carries no session: fall back to the API key (and 401 without one).
    NoSession,
    /// The session's user may read the project.
    Allowed,
    /// A session was presented and refused (expired: `Denied::Unknown`; no access to this
    /// project: `Denied::WrongProject`).
    Refused(Denied),
}

/// The seam for the dashboard's cookie sessions: consulted when a request has no
/// `Authorization` header. Implementations should rely on `SameSite` cookies (the routes
/// are GETs without side effects, and cross-origin reads are blocked by CORS).
#[async_trait(?Send)]
pub trait SessionAuth: Send + Sync {
    async fn check(&self, req: &HttpRequest, project_id: i64) -> SessionOutcome;
}

fn key_in_url(req: &HttpRequest) -> bool {
    form_urlencoded::parse(req.query_string().as_bytes())
        .any(|(name, _)| matches!(name.as_ref(), "key" | "api_key" | "token" | "access_token"))
}

fn authorization(req: &HttpRequest) -> Option<&str> {
    req.headers().get("authorization").map(|v| v.to_str().unwrap_or("\u{0}"))
}

/// Allows the request to read `project_id`, or says why not.
pub async fn authenticate(
    req: &HttpRequest,
    app_state: &AppState,
    session: Option<&dyn SessionAuth>,
    project_id: i64,
) -> Result<(), RealtimeError> {
    if key_in_url(req) {
        return Err(RealtimeError::KeyInUrl);
    }
    let header = authorization(req);
    if header.is_none() {
        if let Some(session) = session {
            return match session.check(req, project_id).await {
                SessionOutcome::Allowed => Ok(()),
                SessionOutcome::Refused(denied) => Err(denied.into()),
                SessionOutcome::NoSession => Err(Denied::Missing.into()),
            };
        }
    }
    let principal = match Credential::from_authorization(header) {
        Credential::None => return Err(Denied::Missing.into()),
        Credential::Malformed => return Err(Denied::Malformed.into()),
        Credential::Write(_) => return Err(Denied::WriteKeyCannotRead.into()),
        Credential::Secret(key) => app_state.principal_for_secret(&key).await?.ok_or(Denied::Unknown)?,
    };
    authorize(&principal, project_id, Scope::Read)?;
    Ok(())
}

/// True when the request presents the collectors' shared `token` (compared by digest, in
/// constant time).
pub fn is_peer(req: &HttpRequest, token: Option<&str>) -> bool {
    let (Some(token), Some(header)) = (token, authorization(req)) else { return false };
    let presented = header.strip_prefix("Bearer ").unwrap_or(header).trim();
    let (a, b) = (Sha256::digest(presented.as_bytes()), Sha256::digest(token.as_bytes()));
    a.iter().zip(b.iter()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
