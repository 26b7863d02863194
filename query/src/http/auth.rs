//! Authentication of query requests: a secret API key of the project in the path, with the
//! scope the route needs. Write keys are refused: they are public and can only ingest.

use actix_web::HttpRequest;
use numu_appstate::{authorize, AppState, Credential, Denied, Principal, Scope};

use crate::error::QueryError;

/// The caller, if its key may act on `project_id` with `needed`.
pub async fn authenticate(
    req: &HttpRequest,
    app_state: &AppState,
    project_id: i64,
    needed: Scope,
) -> Result<Principal, QueryError> {
    let header = req.headers().get("authorization").map(|v| v.to_str().unwrap_or("\u{0}"));
    let principal = match Credential::from_authorization(header) {
        Credential::None => return Err(Denied::Missing.into()),
        Credential::Malformed => return Err(Denied::Malformed.into()),
        Credential::Write(_) => return Err(Denied::WriteKeyCannotRead.into()),
        Credential::Secret(key) => app_state.principal_for_secret(&key).await?.ok_or(Denied::Unknown)?,
    };
    authorize(&principal, project_id, needed)?;
    Ok(principal)
}
