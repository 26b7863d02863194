//! The dashboard's admin API: users and roles, API keys, project settings — for a signed-in
//! admin (with the CSRF token on changes) or an admin-scoped key.

use super::*;

pub(super) fn path_id(req: &HttpRequest, name: &str) -> Result<i64, HttpResponse> {
    req.match_info()
        .get(name)
        .and_then(|v| v.parse::<i64>().ok())
        .filter(|v| *v > 0)
        .ok_or_else(|| bad_request(format!("`{name}` must be a positive integer")))
}

/// The project in the path, if the caller is its admin: an admin-scoped key, or a session
/// whose user has the admin role (and, for changes, the CSRF token).
pub(super) async fn require_admin(req: &HttpRequest, app_state: &AppState) -> Result<i64, HttpResponse> {
    let project_id = path_id(req, "project_id")?;
    let header = req.headers().get(header::AUTHORIZATION).map(|v| v.to_str().unwrap_or("\u{0}"));
    if header.is_some() {
        let principal = match Credential::from_authorization(header) {
            Credential::Secret(key) => app_state.principal_for_secret(&key).await.map_err(app_error)?,
            Credential::Write(_) => return Err(forbidden(&Denied::WriteKeyCannotRead.to_string())),
            _ => None,
        };
        let Some(principal) = principal else {
            return Err(unauthenticated_with("unknown or revoked API key"));
        };
        authorize(&principal, project_id, Scope::Admin).map_err(|d| forbidden(&d.to_string()))?;
        return Ok(project_id);
    }
    let (_, session) = current_session(req, app_state).await?;
    if !csrf_ok(req, &session) {
        return Err(forbidden("missing or wrong CSRF token: send it in the X-CSRF-Token header"));
    }
    match app_state.role(session.user.id, project_id).await.map_err(app_error)? {
        Some(Role::Admin) => Ok(project_id),
        _ => Err(forbidden("the admin role in this project is needed")),
    }
}

macro_rules! admin {
    ($req:expr, $dashboard:expr) => {
        match require_admin(&$req, &$dashboard.app_state).await {
            Ok(id) => id,
            Err(response) => return response,
        }
    };
}

pub(super) fn parse_body<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, HttpResponse> {
    serde_json::from_slice(body).map_err(|e| bad_request(format!("invalid JSON body: {e}")))
}

pub(super) async fn list_users(req: HttpRequest, dashboard: web::Data<Dashboard>) -> HttpResponse {
    let project_id = admin!(req, dashboard);
    match dashboard.app_state.members(project_id).await {
        Ok(members) => HttpResponse::Ok().json(json!({ "users": members })),
        Err(e) => app_error(e),
    }
}

#[derive(Deserialize)]
pub(super) struct AddUser {
    email: String,
    #[serde(default)]
    password: Option<String>,
    role: Role,
}

pub(super) async fn add_user(
    req: HttpRequest,
    body: web::Bytes,
    dashboard: web::Data<Dashboard>,
) -> HttpResponse {
    let project_id = admin!(req, dashboard);
    let input: AddUser = match parse_body(&body) {
        Ok(input) => input,
        Err(response) => return response,
    };
    let app_state = &dashboard.app_state;
    let user = match app_state.user_by_email(&input.email).await {
        Ok(Some(user)) => user,
        Ok(None) => match input.password.as_deref() {
            Some(password) => match app_state.create_user(&input.email, password).await {
                Ok(user) => user,
                Err(e) => return app_error(e),
            },
            None => return bad_request("a new user needs a password"),
        },
        Err(e) => return app_error(e),
    };
    match app_state.set_role(user.id, project_id, input.role).await {
        Ok(()) => HttpResponse::Created()
            .json(json!({ "user_id": user.id, "email": user.email, "role": input.role })),
        Err(e) => app_error(e),
    }
}

#[derive(Deserialize)]
pub(super) struct ChangeRole {
    role: Role,
}

pub(super) async fn change_role(
    req: HttpRequest,
    body: web::Bytes,
    dashboard: web::Data<Dashboard>,
) -> HttpResponse {
    let project_id = admin!(req, dashboard);
    let user_id = match path_id(&req, "user_id") {
        Ok(id) => id,
        Err(response) => return response,
    };
    let input: ChangeRole = match parse_body(&body) {
        Ok(input) => input,
        Err(response) => return response,
    };
    match dashboard.app_state.role(user_id, project_id).await {
        Ok(Some(_)) => {}
        Ok(None) => return refuse(StatusCode::NOT_FOUND, "not_found", "no such member"),
        Err(e) => return app_error(e),
    }
    match dashboard.app_state.set_role(user_id, project_id, input.role).await {
        Ok(()) => HttpResponse::Ok().json(json!({ "user_id": user_id, "role": input.role })),
        Err(e) => app_error(e),
    }
}

pub(super) async fn remove_user(req: HttpRequest, dashboard: web::Data<Dashboard>) -> HttpResponse {
    let project_id = admin!(req, dashboard);
    let user_id = match path_id(&req, "user_id") {
        Ok(id) => id,
        Err(response) => return response,
    };
    match dashboard.app_state.remove_member(user_id, project_id).await {
        Ok(true) => HttpResponse::Ok().json(json!({ "removed": true })),
        Ok(false) => refuse(StatusCode::NOT_FOUND, "not_found", "no such member"),
        Err(e) => app_error(e),
    }
}

pub(super) async fn list_keys(req: HttpRequest, dashboard: web::Data<Dashboard>) -> HttpResponse {
    let project_id = admin!(req, dashboard);
    match dashboard.app_state.api_keys(project_id).await {
        Ok(keys) => HttpResponse::Ok().json(json!({ "keys": keys })),
        Err(e) => app_error(e),
    }
}

#[derive(Deserialize)]
pub(super) struct CreateKey {
    name: String,
    scopes: Vec<Scope>,
}

pub(super) async fn create_key(
    req: HttpRequest,
    body: web::Bytes,
    dashboard: web::Data<Dashboard>,
) -> HttpResponse {
    let project_id = admin!(req, dashboard);
    let input: CreateKey = match parse_body(&body) {
        Ok(input) => input,
        Err(response) => return response,
    };
    let name = input.name.trim();
    if name.is_empty() || name.len() > 200 {
        return bad_request("a key name needs 1 to 200 characters");
    }
    match dashboard.app_state.create_api_key(project_id, name, &input.scopes).await {
        Ok((listing, secret)) => HttpResponse::Created()
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .json(json!({ "key": listing, "secret_key": secret })),
        Err(e) => app_error(e),
    }
}

pub(super) async fn revoke_key(req: HttpRequest, dashboard: web::Data<Dashboard>) -> HttpResponse {
    let project_id = admin!(req, dashboard);
    let key_id = match path_id(&req, "key_id") {
        Ok(id) => id,
        Err(response) => return response,
    };
    match dashboard.app_state.revoke_api_key(project_id, key_id).await {
        Ok(true) => HttpResponse::Ok().json(json!({ "revoked": true })),
        Ok(false) => refuse(StatusCode::NOT_FOUND, "not_found", "no such live key"),
        Err(e) => app_error(e),
    }
}

pub(super) async fn get_settings(req: HttpRequest, dashboard: web::Data<Dashboard>) -> HttpResponse {
    let project_id = admin!(req, dashboard);
    match dashboard.app_state.project(project_id).await {
        Ok(Some(project)) => HttpResponse::Ok().json(project),
        Ok(None) => refuse(StatusCode::NOT_FOUND, "not_found", "no such project"),
        Err(e) => app_error(e),
    }
}

#[derive(Deserialize)]
pub(super) struct Settings {
    name: String,
    #[serde(default)]
    allowed_origins: Vec<String>,
    #[serde(default)]
    write_key_disabled: bool,
}

pub(super) async fn put_settings(
    req: HttpRequest,
    body: web::Bytes,
    dashboard: web::Data<Dashboard>,
) -> HttpResponse {
    let project_id = admin!(req, dashboard);
    let input: Settings = match parse_body(&body) {
        Ok(input) => input,
        Err(response) => return response,
    };
    let app_state = &dashboard.app_state;
    if let Err(e) = app_state.update_project(project_id, &input.name, &input.allowed_origins).await {
        return app_error(e);
    }
    if let Err(e) = app_state.set_write_key_disabled(project_id, input.write_key_disabled).await {
        return app_error(e);
    }
    match app_state.project(project_id).await {
        Ok(Some(project)) => HttpResponse::Ok().json(project),
        Ok(None) => refuse(StatusCode::NOT_FOUND, "not_found", "no such project"),
        Err(e) => app_error(e),
    }
}
