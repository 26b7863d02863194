//! The HTTP(S) transport under the `clickhouse` client: connect timeout, keep-alive, and
//! TLS through rustls with the public web roots plus an optional private CA.

use std::sync::Arc;
use std::time::Duration;

use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;

use super::config::RemoteConfig;
use crate::error::{Result, WarehouseError};

/// The server's URL without credentials, path or query: safe to print.
pub(crate) fn origin(url: &str) -> String {
    url::Url::parse(url).map(|u| u.origin().ascii_serialization()).unwrap_or_else(|_| "<invalid url>".into())
}

/// The endpoint URL and the credentials, taking `user:password@` out of the URL if present.
pub(crate) struct Endpoint {
    pub(crate) url: String,
    pub(crate) user: String,
    pub(crate) password: String,
}

pub(crate) fn endpoint(config: &RemoteConfig) -> Result<Endpoint> {
    let invalid = |why: String| {
        WarehouseError::Config(format!("warehouse.remote.url {:?}: {why}", origin(&config.url)))
    };
    let mut url = url::Url::parse(&config.url).map_err(|e| invalid(e.to_string()))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(invalid(format!("scheme {:?} is not http or https", url.scheme())));
    }
    let decode = |s: &str| {
        url::form_urlencoded::parse(format!("x={s}").as_bytes()).next().map(|(_, v)| v.into_owned())
    };
    let (mut user, mut password) = (config.user.clone(), config.password.clone());
    if !url.username().is_empty() {
        user = decode(url.username()).unwrap_or_default();
        password = url.password().and_then(decode).unwrap_or_default();
        let _ = url.set_username("");
        let _ = url.set_password(None);
    }
    // The database and settings come from the configuration, not from the URL's query.
    url.set_query(None);
    Ok(Endpoint { url: url.to_string(), user, password })
}

/// A `clickhouse` client over a pooled HTTP/1.1 transport that speaks HTTP and HTTPS.
pub(crate) fn base_client(config: &RemoteConfig) -> Result<clickhouse::Client> {
    let mut http = HttpConnector::new();
    http.set_connect_timeout(Some(config.timeouts.connect()));
    http.set_keepalive(Some(Duration::from_secs(60)));
    http.set_nodelay(true);
    http.enforce_http(false);
    let https = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(tls_config(config)?)
        .https_or_http()
        .enable_http1()
        .wrap_connector(http);
    let transport = hyper_util::client::legacy::Client::builder(TokioExecutor::new())
        // Below the server's keep-alive timeout (3 s before 23.11, 10 s since), so an idle
        // connection is never reused just as the server closes it.
        .pool_idle_timeout(Duration::from_millis(2_500))
        .build(https);
    Ok(clickhouse::Client::with_http_client(transport))
}

fn tls_config(config: &RemoteConfig) -> Result<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    if let Some(path) = &config.ca_file {
        let bad = |why: String| {
            WarehouseError::Config(format!("warehouse.remote.ca_file {}: {why}", path.display()))
        };
        let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(path)
            .map_err(|e| bad(e.to_string()))?
            .collect::<std::result::Result<_, _>>()
            .map_err(|e| bad(e.to_string()))?;
        if certs.is_empty() {
            return Err(bad("no PEM certificate in the file".into()));
        }
        for cert in certs {
            roots.add(cert).map_err(|e| bad(e.to_string()))?;
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| WarehouseError::Internal(format!("TLS setup: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_in_the_url_win_and_are_removed_from_it() {
        let config = RemoteConfig {
            url: "https://numu:p%40ss@ch.example.com:8443/".into(),
            ..RemoteConfig::default()
        };
        let e = endpoint(&config).unwrap();
        assert_eq!((e.user.as_str(), e.password.as_str()), ("numu", "p@ss"));
        assert_eq!(e.url, "https://ch.example.com:8443/");
        assert_eq!(origin(&config.url), "https://ch.example.com:8443");
    }

    #[test]
    fn bad_urls_and_ca_files_are_configuration_errors() {
        for url in ["localhost:8123", "ftp://x", "http://"] {
            let err = endpoint(&RemoteConfig { url: url.into(), ..RemoteConfig::default() });
            assert!(err.is_err(), "{url}");
        }
        let config = RemoteConfig { ca_file: Some("/nonexistent/ca.pem".into()), ..RemoteConfig::default() };
        let err = tls_config(&config).unwrap_err().to_string();
        assert!(err.contains("warehouse.remote.ca_file /nonexistent/ca.pem"), "{err}");
    }
}
