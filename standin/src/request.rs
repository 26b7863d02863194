//! Reading a ClickHouse HTTP request: URL parameters (settings, `database`, `query`,
//! `param_*`), credentials (`X-ClickHouse-User`/`-Key`, basic auth, or URL), and the body —
//! the query, `multipart/form-data` with the query and its parameters, or insert data.

use std::collections::HashMap;

use base64::Engine as _;
use bytes::Bytes;
use hyper::HeaderMap;

use crate::exception::{codes, Exception};

/// URL parameters that are part of the HTTP protocol rather than settings.
const PROTOCOL: &[&str] = &[
    "database",
    "query",
    "default_format",
    "decompress",
    "compress",
    "user",
    "password",
    "query_id",
    "session_id",
    "session_timeout",
    "session_check",
    "quota_key",
    "buffer_size",
    "wait_end_of_query",
    "role",
    "client_protocol_version",
];

/// One request, parsed.
#[derive(Debug, Default)]
pub struct Parsed {
    /// URL parameters other than `param_*` (settings and protocol parameters).
    pub url: HashMap<String, String>,
    /// Query parameters by name (without the `param_` prefix).
    pub params: HashMap<String, String>,
    pub user: String,
    pub password: String,
    pub query: String,
    /// Data following the query (the rows of an `INSERT … FORMAT`), decompressed.
    pub data: Bytes,
    /// Whether the client accepts an LZ4-encoded response.
    pub accepts_lz4: bool,
    /// Whether the body came in ClickHouse's compressed blocks (`decompress=1`).
    pub compressed: bool,
}

impl Parsed {
    /// The settings sent with the request (URL parameters that are not protocol ones).
    pub fn settings(&self) -> impl Iterator<Item = (&str, &str)> {
        self.url
            .iter()
            .filter(|(k, _)| !PROTOCOL.contains(&k.as_str()))
            .map(|(k, v)| (k.as_str(), v.as_str()))
    }

    pub fn setting(&self, name: &str) -> Option<&str> {
        self.url.get(name).map(String::as_str)
    }
}

/// Parses the URL query, headers and body of a request.
pub fn parse(query_string: Option<&str>, headers: &HeaderMap, body: Bytes) -> Result<Parsed, Exception> {
    let mut parsed = Parsed::default();
    for (key, value) in url::form_urlencoded::parse(query_string.unwrap_or_default().as_bytes()) {
        match key.strip_prefix("param_") {
            Some(name) => parsed.params.insert(name.to_string(), value.into_owned()),
            None => parsed.url.insert(key.into_owned(), value.into_owned()),
        };
    }
    (parsed.user, parsed.password) = credentials(headers, &parsed.url);
    parsed.accepts_lz4 = header(headers, "accept-encoding")
        .is_some_and(|v| v.split(',').any(|e| e.trim().eq_ignore_ascii_case("lz4")));
    parsed.compressed = parsed.setting("decompress") == Some("1") && !body.is_empty();
    let body = if parsed.compressed { Bytes::from(crate::wire::decompress_blocks(&body)?) } else { body };
    let boundary = header(headers, "content-type").and_then(multipart_boundary);
    if let Some(boundary) = boundary {
        for (name, value) in multipart_fields(&body, &boundary)? {
            match name.strip_prefix("param_") {
                Some(param) => parsed.params.insert(param.to_string(), value),
                None if name == "query" => Some(std::mem::replace(&mut parsed.query, value)),
                None => parsed.url.insert(name, value),
            };
        }
    } else if let Some(query) = parsed.url.get("query") {
        // The query in the URL; the body is its data.
        parsed.query = query.clone();
        parsed.data = body;
    } else {
        parsed.query = String::from_utf8(body.to_vec())
            .map_err(|_| Exception::new(codes::SYNTAX_ERROR, "the query is not valid UTF-8"))?;
    }
    Ok(parsed)
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// User and password from ClickHouse's headers, basic auth or the URL; `default` and an
/// empty password when none are given, as ClickHouse does.
fn credentials(headers: &HeaderMap, url: &HashMap<String, String>) -> (String, String) {
    if let Some(user) = header(headers, "x-clickhouse-user") {
        return (user.to_string(), header(headers, "x-clickhouse-key").unwrap_or_default().to_string());
    }
    let basic = header(headers, "authorization")
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b64| base64::engine::general_purpose::STANDARD.decode(b64.trim()).ok())
        .and_then(|raw| String::from_utf8(raw).ok());
    if let Some(pair) = basic {
        let (user, password) = pair.split_once(':').unwrap_or((&pair, ""));
        return (user.to_string(), password.to_string());
    }
    let user = url.get("user").cloned().unwrap_or_else(|| "default".into());
    (user, url.get("password").cloned().unwrap_or_default())
}

fn multipart_boundary(content_type: &str) -> Option<String> {
    let (kind, rest) = content_type.split_once(';')?;
    if !kind.trim().eq_ignore_ascii_case("multipart/form-data") {
        return None;
    }
    rest.split(';')
        .filter_map(|p| p.trim().strip_prefix("boundary="))
        .map(|b| b.trim_matches('"').to_string())
        .next()
}

/// The `name → value` fields of a `multipart/form-data` body.
fn multipart_fields(body: &[u8], boundary: &str) -> Result<Vec<(String, String)>, Exception> {
    let malformed = |why: &str| {
        Exception::new(codes::CANNOT_PARSE_INPUT_ASSERTION_FAILED, format!("malformed multipart body: {why}"))
    };
    let text = std::str::from_utf8(body).map_err(|_| malformed("not UTF-8"))?;
    let delimiter = format!("--{boundary}");
    let mut fields = Vec::new();
    for part in text.split(&delimiter).skip(1) {
        if part.starts_with("--") {
            break;
        }
        let part = part.strip_prefix("\r\n").ok_or_else(|| malformed("no line break after a boundary"))?;
        let (head, value) = part.split_once("\r\n\r\n").ok_or_else(|| malformed("a part without headers"))?;
        let value = value.strip_suffix("\r\n").unwrap_or(value);
        let name = head
            .lines()
            .find(|l| l.to_ascii_lowercase().starts_with("content-disposition:"))
            .and_then(|l| l.split(';').find_map(|p| p.trim().strip_prefix("name=")))
            .map(|n| n.trim_matches('"').to_string())
            .ok_or_else(|| malformed("a part without a name"))?;
        fields.push((name, value.to_string()));
    }
    Ok(fields)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multipart_queries_carry_their_parameters() {
        let body = "--b1\r\nContent-Disposition: form-data; name=\"query\"\r\n\r\nSELECT {p0:String}\r\n\
                    --b1\r\nContent-Disposition: form-data; name=\"param_p0\"\r\n\r\nline\\\nbreak\r\n--b1--\r\n";
        let mut headers = HeaderMap::new();
        headers.insert("content-type", "multipart/form-data; boundary=b1".parse().unwrap());
        headers.insert("x-clickhouse-user", "numu".parse().unwrap());
        headers.insert("x-clickhouse-key", "secret".parse().unwrap());
        headers.insert("accept-encoding", "gzip, lz4".parse().unwrap());
        let parsed = parse(
            Some("database=d&default_format=ArrowStream&max_execution_time=5"),
            &headers,
            Bytes::from(body),
        )
        .unwrap();
        assert_eq!(parsed.query, "SELECT {p0:String}");
        assert_eq!(parsed.params["p0"], "line\\\nbreak");
        assert_eq!((parsed.user.as_str(), parsed.password.as_str()), ("numu", "secret"));
        assert!(parsed.accepts_lz4);
        assert_eq!(parsed.settings().collect::<Vec<_>>(), vec![("max_execution_time", "5")]);
    }

    #[test]
    fn credentials_fall_back_to_basic_auth_then_the_url_then_default() {
        let mut headers = HeaderMap::new();
        headers.insert("authorization", "Basic bnVtdTpzM2NyZXQ=".parse().unwrap());
        let parsed = parse(None, &headers, Bytes::from("SELECT 1")).unwrap();
        assert_eq!(
            (parsed.user.as_str(), parsed.password.as_str(), parsed.query.as_str()),
            ("numu", "s3cret", "SELECT 1")
        );
        let parsed = parse(Some("user=u&password=p"), &HeaderMap::new(), Bytes::new()).unwrap();
        assert_eq!((parsed.user.as_str(), parsed.password.as_str()), ("u", "p"));
        let parsed = parse(None, &HeaderMap::new(), Bytes::new()).unwrap();
        assert_eq!((parsed.user.as_str(), parsed.password.as_str()), ("default", ""));
    }

    #[test]
    fn insert_data_follows_a_query_in_the_url_and_is_decompressed() {
        let data = crate::wire::compress_block(b"arrow bytes");
        let parsed = parse(
            Some("query=INSERT+INTO+t+FORMAT+ArrowStream&decompress=1"),
            &HeaderMap::new(),
            Bytes::from(data),
        )
        .unwrap();
        assert_eq!(parsed.query, "INSERT INTO t FORMAT ArrowStream");
        assert_eq!(&parsed.data[..], b"arrow bytes");
    }
}
