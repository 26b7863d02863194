//! `/numu.js`: served with caching headers and ETag, under configured first-party aliases,
//! and a 503 naming the build command when the snippet is not built.

mod common;

use common::TestServer;

#[tokio::test]
async fn snippet_is_served_cached_and_aliased_or_503_when_missing() {
    let dir = tempfile::tempdir().unwrap();
    let dist = dir.path().join("dist");
    std::fs::create_dir_all(&dist).unwrap();
    std::fs::write(dist.join("numu.js"), "/*full*/window.numu=1;").unwrap();
    std::fs::write(dist.join("numu.core.js"), "/*core*/").unwrap();
    let server = TestServer::start_with(
        &dir.path().join("data"),
        &[("NUMU_SNIPPET__DIR", dist.to_str().unwrap()), ("NUMU_SNIPPET__ALIASES", "[\"/js/site.js\"]")],
    );
    let client = reqwest::Client::new();
    let full = client.get(server.url("/numu.js")).send().await.unwrap();
    assert_eq!(full.status(), 200);
    let headers = full.headers().clone();
    assert!(headers["content-type"].to_str().unwrap().starts_with("application/javascript"));
    assert_eq!(headers["cache-control"], "public, max-age=3600");
    let etag = headers["etag"].to_str().unwrap().to_string();
    assert_eq!(full.text().await.unwrap(), "/*full*/window.numu=1;");
    let again = client.get(server.url("/numu.js")).header("If-None-Match", &etag).send().await.unwrap();
    assert_eq!(again.status(), 304);
    let alias = client.get(server.url("/js/site.js")).send().await.unwrap();
    assert_eq!(alias.text().await.unwrap(), "/*full*/window.numu=1;");
    let core = client.get(server.url("/numu.core.js")).send().await.unwrap();
    assert_eq!(core.text().await.unwrap(), "/*core*/");
    // A rebuild is picked up without a restart, with a new ETag.
    std::fs::write(dist.join("numu.js"), "/*rebuilt*/").unwrap();
    let rebuilt = client.get(server.url("/numu.js")).header("If-None-Match", &etag).send().await.unwrap();
    assert_eq!(rebuilt.status(), 200);
    assert_eq!(rebuilt.text().await.unwrap(), "/*rebuilt*/");
    // Missing build: 503 naming the command.
    std::fs::remove_file(dist.join("numu.js")).unwrap();
    let missing = client.get(server.url("/numu.js")).send().await.unwrap();
    assert_eq!(missing.status(), 503);
    assert!(missing.text().await.unwrap().contains("make sdk"));
}

#[tokio::test]
async fn site_pages_are_served_without_escaping_the_directory() {
    let dir = tempfile::tempdir().unwrap();
    let site = dir.path().join("site");
    std::fs::create_dir_all(site.join("docs")).unwrap();
    std::fs::write(site.join("index.html"), "<h1>home</h1>").unwrap();
    std::fs::write(site.join("docs/a.html"), "<h1>a</h1>").unwrap();
    std::fs::write(dir.path().join("secret.txt"), "secret").unwrap();
    let server =
        TestServer::start_with(&dir.path().join("data"), &[("NUMU_SITE__DIR", site.to_str().unwrap())]);
    let client = reqwest::Client::new();
    let home = client.get(server.url("/site/")).send().await.unwrap();
    assert!(home.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    assert_eq!(home.text().await.unwrap(), "<h1>home</h1>");
    let page = client.get(server.url("/site/docs/a.html")).send().await.unwrap();
    assert_eq!(page.text().await.unwrap(), "<h1>a</h1>");
    for escape in
        ["/site/../secret.txt", "/site/%2e%2e/secret.txt", "/site/docs/..%2f..%2fsecret.txt", "/site/.hidden"]
    {
        let response = client.get(server.url(escape)).send().await.unwrap();
        let status = response.status().as_u16();
        let body = response.text().await.unwrap();
        assert!(!body.contains("secret"), "{escape} leaked: {status} {body}");
    }
}
