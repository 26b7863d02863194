//! Authentication of query requests: a secret API key of the project in the path, with the
//! scope the route needs. Write keys are refused: they are public and can only ingest.
//!
//! Browsers signed in to the dashboard send no key but a session cookie: when a request has
//! no `Authorization` header and a [`SessionAuth`] was mounted ([`configure_sessions`]), the
//! session decides, with the same project and scope rules. The query service does not know
//! how sessions work; the server passes the checker in.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use actix_web::{web, HttpRequest};
use numu_appstate::{authorize, AppState, Credential, Denied, Principal, Scope};

use crate::error::QueryError;

/// What a session check found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SessionOutcome {
    /// No session in the request: the key rules apply (401 without a key).
    NoSession,
    /// The session's user may act on the project with the scope asked for; `user_id` is
    /// reported as the principal's `key_id` negated (sessions are not keys).
    Allowed { user_id: i64 },
    /// A session was presented and refused.
    Refused(Denied),
    /// A state-changing request authenticated by cookie without the session's CSRF token.
    CsrfMismatch,
}

/// The future a [`SessionAuth`] check returns.
pub type SessionCheck<'a> = Pin<Box<dyn Future<Output = SessionOutcome> + 'a>>;

/// The seam for the dashboard's cookie sessions.
pub trait SessionAuth: Send + Sync {
    fn check<'a>(&'a self, req: &'a HttpRequest, project_id: i64, needed: Scope) -> SessionCheck<'a>;
}

/// The mounted session checker (app data).
#[derive(Clone)]
struct Sessions(Arc<dyn SessionAuth>);

/// Makes the query routes accept sessions checked by `sessions` as well as keys.
pub fn configure_sessions(cfg: &mut web::ServiceConfig, sessions: Arc<dyn SessionAuth>) {
    cfg.app_data(web::Data::new(Sessions(sessions)));
}

/// The caller, if its key (or, without a key, its session) may act on `project_id` with
/// `needed`.
pub async fn authenticate(
    req: &HttpRequest,
    app_state: &AppState,
    project_id: i64,
    needed: Scope,
) -> Result<Principal, QueryError> {
    let header = req.headers().get("authorization").map(|v| v.to_str().unwrap_or("\u{0}"));
    if header.is_none() {
        if let Some(sessions) = req.app_data::<web::Data<Sessions>>() {
            match sessions.0.check(req, project_id, needed).await {
                SessionOutcome::Allowed { user_id } => {
                    return Ok(Principal { project_id, key_id: -user_id, scopes: vec![needed] });
                }
                SessionOutcome::Refused(denied) => return Err(denied.into()),
                SessionOutcome::CsrfMismatch => return Err(QueryError::Csrf),
                SessionOutcome::NoSession => {}
            }
        }
    }
    let principal = match Credential::from_authorization(header) {
        Credential::None => return Err(Denied::Missing.into()),
        Credential::Malformed => return Err(Denied::Malformed.into()),
        Credential::Write(_) => return Err(Denied::WriteKeyCannotRead.into()),
        Credential::Secret(key) => app_state.principal_for_secret(&key).await?.ok_or(Denied::Unknown)?,
    };
    authorize(&principal, project_id, needed)?;
    Ok(principal)
}
