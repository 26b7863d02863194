//! The dashboard's sign-in, sessions, CSRF, roles and admin APIs against a real
//! `numu serve`, and the query and realtime APIs accepting the session cookie.

mod common;

use common::{create_project, numu, TestServer};
use reqwest::{Client, Method};
use serde_json::{json, Value};

struct Browser {
    client: Client,
    base: String,
    cookie: Option<String>,
    csrf: Option<String>,
}

impl Browser {
    fn new(server: &TestServer) -> Browser {
        Browser { client: Client::new(), base: server.base.clone(), cookie: None, csrf: None }
    }

    async fn call(&self, method: Method, path: &str, body: Option<Value>, csrf: bool) -> (u16, Value) {
        let mut request = self.client.request(method, format!("{}{path}", self.base));
        if let Some(cookie) = &self.cookie {
            request = request.header("cookie", format!("numu_session={cookie}"));
        }
        if let (true, Some(token)) = (csrf, &self.csrf) {
            request = request.header("x-csrf-token", token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    async fn login(&mut self, email: &str, password: &str) -> (u16, Option<String>) {
        let response = self
            .client
            .post(format!("{}/api/auth/login", self.base))
            .json(&json!({ "email": email, "password": password }))
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        let set_cookie = response.headers().get("set-cookie").map(|v| v.to_str().unwrap().to_string());
        let body: Value = response.json().await.unwrap_or(Value::Null);
        if status == 200 {
            let cookie = set_cookie.as_deref().unwrap();
            let value = cookie.strip_prefix("numu_session=").unwrap().split(';').next().unwrap();
            self.cookie = Some(value.to_string());
            self.csrf = body["csrf_token"].as_str().map(str::to_string);
        }
        (status, set_cookie)
    }
}

fn add_user(data: &std::path::Path, email: &str, project: i64, role: &str) {
    let project = project.to_string();
    let output = numu(
        data,
        &[
            "user",
            "create",
            "--email",
            email,
            "--password",
            "a-long-password",
            "--project",
            &project,
            "--role",
            role,
        ],
    );
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
}

#[tokio::test]
async fn sessions_roles_csrf_and_admin_apis() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let shop = create_project(&data, "Shop");
    let other = create_project(&data, "Other");
    add_user(&data, "admin@example.com", shop.project_id, "admin");
    add_user(&data, "viewer@example.com", shop.project_id, "viewer");
    let server = TestServer::start_with(&data, &[("NUMU_DASHBOARD__LOGIN_ATTEMPTS", "3")]);
    let p = shop.project_id;

    // Signing in: wrong passwords are refused, then rate limited; the cookie is HttpOnly, Lax.
    let mut admin = Browser::new(&server);
    assert_eq!(admin.login("admin@example.com", "wrong-password").await.0, 401);
    let (status, cookie) = admin.login("admin@example.com", "a-long-password").await;
    assert_eq!(status, 200);
    let cookie = cookie.unwrap();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax") && cookie.contains("Path=/"),
        "{cookie}"
    );
    assert!(!cookie.contains("Secure"), "plain HTTP: {cookie}");
    let (status, me) = admin.call(Method::GET, "/api/auth/me", None, false).await;
    assert_eq!(status, 200);
    assert_eq!(me["user"]["email"], "admin@example.com");
    assert_eq!(me["projects"][0]["role"], "admin");
    assert_eq!(me["projects"][0]["write_key"], shop.write_key);
    let mut attacker = Browser::new(&server);
    for _ in 0..3 {
        assert_eq!(attacker.login("viewer@example.com", "guess-guess").await.0, 401);
    }
    assert_eq!(attacker.login("viewer@example.com", "a-long-password").await.0, 429);

    // The query and realtime APIs accept the session with the same scoping; changes need CSRF.
    let question = json!({ "kind": "web_analytics", "date_range": { "from": "-7d" } });
    let query = format!("/api/projects/{p}/query");
    assert_eq!(admin.call(Method::POST, &query, Some(question.clone()), true).await.0, 200);
    let (status, body) = admin.call(Method::POST, &query, Some(question.clone()), false).await;
    assert_eq!((status, body["code"].as_str()), (403, Some("forbidden")), "{body}");
    let other_query = format!("/api/projects/{}/query", other.project_id);
    assert_eq!(admin.call(Method::POST, &other_query, Some(question.clone()), true).await.0, 403);
    assert_eq!(admin.call(Method::GET, &format!("/api/projects/{p}/realtime"), None, false).await.0, 200);
    assert_eq!(
        admin.call(Method::GET, &format!("/api/projects/{}/realtime", other.project_id), None, false).await.0,
        403
    );
    assert_eq!(
        admin.call(Method::GET, &format!("/api/projects/{p}/events?count_only=true"), None, false).await.0,
        200
    );
    // Keys behave as before: a secret key works without any cookie, none gives 401.
    assert_eq!(
        server.get(&format!("/api/projects/{p}/events?count_only=true"), Some(&shop.secret_key)).await.0,
        200
    );
    assert_eq!(server.get(&format!("/api/projects/{p}/events?count_only=true"), None).await.0, 401);
    let stale = Browser { cookie: Some("nope".into()), ..Browser::new(&server) };
    assert_eq!(stale.call(Method::GET, &format!("/api/projects/{p}/events"), None, false).await.0, 401);

    // A viewer reads but gets 403 JSON from every admin API.
    let mut viewer = Browser::new(&server);
    // The limit is per email and per IP address: the failures above blocked this address.
    let (status, _) = viewer.login("viewer@example.com", "a-long-password").await;
    assert_eq!(status, 429, "blocked by the failures from the same address");
    drop(server);
    let server = TestServer::start(&data);
    let mut viewer = Browser::new(&server);
    assert_eq!(viewer.login("viewer@example.com", "a-long-password").await.0, 200);
    admin.base = server.base.clone();
    assert_eq!(viewer.call(Method::POST, &query, Some(question), true).await.0, 200);
    for (method, path, body) in [
        (Method::GET, format!("/api/projects/{p}/admin/users"), None),
        (
            Method::POST,
            format!("/api/projects/{p}/admin/users"),
            Some(json!({"email": "x@example.com", "password": "long-enough", "role": "admin"})),
        ),
        (Method::GET, format!("/api/projects/{p}/admin/keys"), None),
        (
            Method::POST,
            format!("/api/projects/{p}/admin/keys"),
            Some(json!({"name": "x", "scopes": ["admin"]})),
        ),
        (Method::DELETE, format!("/api/projects/{p}/admin/keys/1"), None),
        (Method::GET, format!("/api/projects/{p}/admin/settings"), None),
        (Method::PUT, format!("/api/projects/{p}/admin/settings"), Some(json!({"name": "x"}))),
    ] {
        let (status, body) = viewer.call(method, &path, body, true).await;
        assert_eq!((status, body["code"].as_str()), (403, Some("forbidden")), "{path}");
    }

    // The admin manages users, keys and settings (CSRF required).
    let users = format!("/api/projects/{p}/admin/users");
    let new_user = json!({"email": "analyst@example.com", "password": "a-long-password", "role": "analyst"});
    assert_eq!(admin.call(Method::POST, &users, Some(new_user.clone()), false).await.0, 403);
    assert_eq!(admin.call(Method::POST, &users, Some(new_user), true).await.0, 201);
    let (_, listed) = admin.call(Method::GET, &users, None, false).await;
    assert_eq!(listed["users"].as_array().unwrap().len(), 3);
    let keys = format!("/api/projects/{p}/admin/keys");
    let (status, made) =
        admin.call(Method::POST, &keys, Some(json!({"name": "reports", "scopes": ["read"]})), true).await;
    assert_eq!(status, 201);
    let secret = made["secret_key"].as_str().unwrap().to_string();
    assert_eq!(server.get(&format!("/api/projects/{p}/events?count_only=true"), Some(&secret)).await.0, 200);
    let (_, listed) = admin.call(Method::GET, &keys, None, false).await;
    assert!(!listed.to_string().contains(&secret), "a key is shown once");
    let key_id = made["key"]["id"].as_i64().unwrap();
    assert_eq!(admin.call(Method::DELETE, &format!("{keys}/{key_id}"), None, true).await.0, 200);
    assert_eq!(server.get(&format!("/api/projects/{p}/events?count_only=true"), Some(&secret)).await.0, 401);
    let settings = format!("/api/projects/{p}/admin/settings");
    let (status, project) = admin
        .call(Method::PUT, &settings, Some(json!({"name": "Shop 2", "allowed_origins": ["https://shop.example"], "write_key_disabled": true})), true)
        .await;
    assert_eq!(status, 200, "{project}");
    assert_eq!(project["name"], "Shop 2");
    assert_eq!(project["allowed_origins"], json!(["https://shop.example"]));
    assert_eq!(project["write_key_disabled"], true);
    // An admin-scoped key works on the admin APIs too.
    assert_eq!(server.get(&settings, Some(&shop.secret_key)).await.0, 200);

    // Signing out needs the CSRF token, then the session is gone.
    assert_eq!(admin.call(Method::POST, "/api/auth/logout", None, false).await.0, 403);
    assert_eq!(admin.call(Method::POST, "/api/auth/logout", None, true).await.0, 200);
    assert_eq!(admin.call(Method::GET, "/api/auth/me", None, false).await.0, 401);
}

#[tokio::test]
async fn the_app_is_served_or_503_names_the_build_command() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let missing = dir.path().join("no-dist");
    let server = TestServer::start_with(&data, &[("NUMU_DASHBOARD__DIR", missing.to_str().unwrap())]);
    let response = reqwest::get(server.url("/")).await.unwrap();
    assert_eq!(response.status().as_u16(), 503);
    assert!(response.text().await.unwrap().contains("make dashboard"));
    drop(server);
    let dist = dir.path().join("dist");
    std::fs::create_dir_all(&dist).unwrap();
    std::fs::write(dist.join("index.html"), "<!doctype html><title>Numu</title>").unwrap();
    std::fs::write(dist.join("app.js"), "console.log(1)").unwrap();
    let server = TestServer::start_with(&data, &[("NUMU_DASHBOARD__DIR", dist.to_str().unwrap())]);
    let response = reqwest::get(server.url("/")).await.unwrap();
    assert_eq!(response.status().as_u16(), 200);
    assert!(response.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    let response = reqwest::get(server.url("/ui/app.js")).await.unwrap();
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(reqwest::get(server.url("/ui/.hidden")).await.unwrap().status().as_u16(), 404);
    assert_eq!(reqwest::get(server.url("/ui/nope.js")).await.unwrap().status().as_u16(), 404);
}

#[tokio::test]
async fn the_first_admin_can_come_from_the_configuration() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let shop = create_project(&data, "Shop");
    let server = TestServer::start_with(
        &data,
        &[
            ("NUMU_DASHBOARD__INITIAL_ADMIN_EMAIL", "first@example.com"),
            ("NUMU_DASHBOARD__INITIAL_ADMIN_PASSWORD", "first-password"),
        ],
    );
    let mut browser = Browser::new(&server);
    assert_eq!(browser.login("first@example.com", "first-password").await.0, 200);
    let (_, me) = browser.call(Method::GET, "/api/auth/me", None, false).await;
    assert_eq!(me["projects"][0]["id"], shop.project_id);
    assert_eq!(me["projects"][0]["role"], "admin");
}
