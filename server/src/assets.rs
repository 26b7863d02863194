//! Static assets the server hands to browsers: the tracking snippet (`/numu.js`, its core
//! build, and configurable first-party aliases that ad-blocker lists do not know). Files
//! are read per request (they are small and the OS caches them), so a rebuild needs no
//! restart; a missing build answers 503 naming the command that makes it.

use std::path::PathBuf;

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Where the snippet's built files are and under which extra paths to serve them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SnippetConfig {
    /// Directory holding `numu.js` and `numu.core.js` (built by `make sdk`).
    pub dir: PathBuf,
    /// Extra first-party paths serving the full snippet, e.g. `["/js/app.js"]`.
    pub aliases: Vec<String>,
    /// `Cache-Control: max-age` in seconds.
    pub max_age_secs: u32,
}

impl Default for SnippetConfig {
    fn default() -> Self {
        SnippetConfig { dir: PathBuf::from("sdk-js/dist"), aliases: Vec::new(), max_age_secs: 3600 }
    }
}

#[derive(Clone)]
struct SnippetFile {
    path: PathBuf,
    max_age_secs: u32,
}

/// Mounts `/numu.js`, `/numu.core.js` and the configured aliases.
pub fn configure(cfg: &mut web::ServiceConfig, config: &SnippetConfig) {
    let full = SnippetFile { path: config.dir.join("numu.js"), max_age_secs: config.max_age_secs };
    let core = SnippetFile { path: config.dir.join("numu.core.js"), max_age_secs: config.max_age_secs };
    let mut routes = vec![("/numu.js".to_string(), full.clone()), ("/numu.core.js".to_string(), core)];
    routes.extend(config.aliases.iter().filter(|a| a.starts_with('/')).map(|a| (a.clone(), full.clone())));
    for (path, file) in routes {
        cfg.route(&path, web::get().to(move |req: HttpRequest| serve_file(req, file.clone())));
    }
}

async fn serve_file(req: HttpRequest, file: SnippetFile) -> HttpResponse {
    let Ok(body) = tokio::fs::read(&file.path).await else {
        return HttpResponse::ServiceUnavailable().content_type("text/plain; charset=utf-8").body(format!(
            "the tracking snippet is not built ({} is missing): run `make sdk` \
             (cd sdk-js && npm ci && npm run build)\n",
            file.path.display()
        ));
    };
    let etag = format!("\"{}\"", hex_prefix(&Sha256::digest(&body)));
    let not_modified = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|tag| tag.trim() == etag));
    let mut response = if not_modified { HttpResponse::NotModified() } else { HttpResponse::Ok() };
    response
        .insert_header((header::CACHE_CONTROL, format!("public, max-age={}", file.max_age_secs)))
        .insert_header((header::ETAG, etag))
        .insert_header(("Access-Control-Allow-Origin", "*"))
        .insert_header(("X-Content-Type-Options", "nosniff"));
    if not_modified {
        return response.finish();
    }
    response.content_type("application/javascript; charset=utf-8").body(body)
}

fn hex_prefix(digest: &[u8]) -> String {
    digest.iter().take(12).map(|b| format!("{b:02x}")).collect()
}

/// An optional directory of static pages served at `/site/` — a place for a landing page
/// that carries the snippet, and for the browser tests' pages.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SiteConfig {
    /// Directory to serve; empty = disabled.
    pub dir: Option<PathBuf>,
}

/// Mounts `/site/{path}` when a site directory is configured.
pub fn configure_site(cfg: &mut web::ServiceConfig, config: &SiteConfig) {
    if let Some(dir) = config.dir.clone() {
        cfg.route("/site/{path:.*}", web::get().to(move |req: HttpRequest| serve_site(req, dir.clone())));
    }
}

async fn serve_site(req: HttpRequest, dir: PathBuf) -> HttpResponse {
    let requested = req.match_info().get("path").unwrap_or_default();
    let relative = if requested.is_empty() || requested.ends_with('/') {
        format!("{requested}index.html")
    } else {
        requested.to_string()
    };
    // Only plain components: no `..`, no absolute paths, no hidden files.
    let safe = relative.split('/').all(|c| !c.is_empty() && !c.starts_with('.'));
    if !safe {
        return HttpResponse::NotFound().body("not found");
    }
    match tokio::fs::read(dir.join(&relative)).await {
        Ok(body) => HttpResponse::Ok()
            .content_type(content_type(&relative))
            .insert_header((header::CACHE_CONTROL, "no-cache"))
            .body(body),
        Err(_) => HttpResponse::NotFound().body("not found"),
    }
}

pub(crate) fn content_type(path: &str) -> &'static str {
    match path.rsplit('.').next().unwrap_or_default() {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "application/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "pdf" => "application/pdf",
        "zip" => "application/zip",
        _ => "application/octet-stream",
    }
}
