//! Body-level decoding shared by every endpoint: gzip (by header or magic bytes) with a
//! decompressed-size cap, UTF-8 checking, and turning serde errors into precise
//! [`DecodeError`]s that name the offending field.

use std::borrow::Cow;
use std::io::Read;

use flate2::read::MultiGzDecoder;

use crate::DecodeError;

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// How the client says the body is encoded (`Content-Encoding`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    Identity,
    Gzip,
}

impl Encoding {
    /// Parses a `Content-Encoding` header value.
    pub fn from_header(value: Option<&str>) -> Result<Encoding, DecodeError> {
        match value.map(str::trim) {
            None | Some("") => Ok(Encoding::Identity),
            Some(v) if v.eq_ignore_ascii_case("identity") => Ok(Encoding::Identity),
            Some(v) if v.eq_ignore_ascii_case("gzip") || v.eq_ignore_ascii_case("x-gzip") => {
                Ok(Encoding::Gzip)
            }
            Some(other) => Err(DecodeError::UnsupportedEncoding(other.chars().take(40).collect())),
        }
    }
}

/// The body with gzip removed. Gzip is applied when the header says so or when the body
/// starts with the gzip magic bytes (some clients compress without saying). Decompression
/// stops one byte past `limit`, so a bomb costs at most `limit` bytes of memory.
pub fn gunzip(body: &[u8], encoding: Encoding, limit: usize) -> Result<Cow<'_, [u8]>, DecodeError> {
    if encoding == Encoding::Identity && !body.starts_with(&GZIP_MAGIC) {
        return Ok(Cow::Borrowed(body));
    }
    let mut out = Vec::with_capacity(body.len().saturating_mul(4).min(limit));
    let mut reader = MultiGzDecoder::new(body).take(limit as u64 + 1);
    reader.read_to_end(&mut out).map_err(|e| DecodeError::InvalidGzip(e.to_string()))?;
    if out.len() > limit {
        return Err(DecodeError::DecompressedTooLarge { limit });
    }
    Ok(Cow::Owned(out))
}

/// The body as text, or where its first invalid byte is.
pub fn utf8(body: &[u8]) -> Result<&str, DecodeError> {
    std::str::from_utf8(body).map_err(|e| DecodeError::InvalidUtf8 { offset: e.valid_up_to() })
}

/// Deserializes `text`, reporting the path of the field that failed (`context.page.url`).
/// Path tracking slows every field down, so it only runs again after a plain parse failed.
pub fn from_json<'a, T: serde::Deserialize<'a>>(text: &'a str) -> Result<T, DecodeError> {
    if let Ok(value) = serde_json::from_str(text) {
        return Ok(value);
    }
    let mut de = serde_json::Deserializer::from_str(text);
    let value = serde_path_to_error::deserialize(&mut de).map_err(path_error)?;
    de.end().map_err(|e| DecodeError::InvalidJson(e.to_string()))?;
    Ok(value)
}

fn path_error(error: serde_path_to_error::Error<serde_json::Error>) -> DecodeError {
    let path = error.path().to_string();
    let inner = error.into_inner();
    match inner.classify() {
        serde_json::error::Category::Data => data_error(path, &inner),
        _ => DecodeError::InvalidJson(inner.to_string()),
    }
}

fn data_error(path: String, inner: &serde_json::Error) -> DecodeError {
    // serde_json appends " at line L column C"; the path says more, so drop it.
    let text = inner.to_string();
    let message = text.rsplit_once(" at line ").map_or(text.as_str(), |(m, _)| m);
    if let Some(rest) = message.strip_prefix("missing field `") {
        let field = rest.trim_end_matches('`');
        let full = if path == "." { field.to_string() } else { format!("{path}.{field}") };
        return DecodeError::MissingField(full);
    }
    let field = if path == "." { "(root)".to_string() } else { path };
    DecodeError::WrongType { field, message: message.to_string() }
}

/// One event of a request, decoded or refused, with its raw text for dead-lettering.
#[derive(Debug)]
pub struct Incoming<'a> {
    /// Position inside the request (0 for single-event endpoints).
    pub index: usize,
    pub raw: &'a str,
    pub parsed: Result<Parsed, DecodeError>,
}

/// A decoded event: the Segment message plus what compact formats carry outside it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Parsed {
    pub message: numu_schemas::Message,
    pub hints: Hints,
}

/// Values some wire formats give in already-parsed form (epoch milliseconds), so they are
/// not rendered to ISO text only to be parsed again.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Hints {
    pub timestamp_ms: Option<i64>,
    pub sent_at_ms: Option<i64>,
    pub viewport: Option<(u32, u32)>,
    /// The library name when the format implies it (the snippet, the pixel).
    pub library: Option<&'static str>,
}

/// Skips JSON whitespace and returns the first significant byte.
pub fn first_significant(text: &str) -> Option<u8> {
    text.bytes().find(|b| !matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        encoder.write_all(data).unwrap();
        encoder.finish().unwrap()
    }

    #[test]
    fn gzip_is_detected_by_header_or_magic_and_capped() {
        let packed = gzip(b"{\"a\":1}");
        assert_eq!(&*gunzip(&packed, Encoding::Identity, 100).unwrap(), b"{\"a\":1}");
        assert_eq!(&*gunzip(&packed, Encoding::Gzip, 100).unwrap(), b"{\"a\":1}");
        assert_eq!(&*gunzip(b"plain", Encoding::Identity, 100).unwrap(), b"plain");
        let bomb = gzip(&vec![b' '; 10_000_000]);
        assert!(bomb.len() < 20_000);
        assert_eq!(
            gunzip(&bomb, Encoding::Identity, 1000),
            Err(DecodeError::DecompressedTooLarge { limit: 1000 })
        );
        assert!(matches!(gunzip(b"not gzip", Encoding::Gzip, 100), Err(DecodeError::InvalidGzip(_))));
        assert!(matches!(Encoding::from_header(Some("br")), Err(DecodeError::UnsupportedEncoding(_))));
    }

    #[test]
    fn serde_errors_name_the_field() {
        #[derive(serde::Deserialize, Debug)]
        #[allow(dead_code)]
        struct Outer {
            inner: Inner,
        }
        #[derive(serde::Deserialize, Debug)]
        #[allow(dead_code)]
        struct Inner {
            n: u32,
        }
        let err = from_json::<Outer>(r#"{"inner":{"n":"x"}}"#).unwrap_err();
        assert_eq!(
            err,
            DecodeError::WrongType {
                field: "inner.n".into(),
                message: "invalid type: string \"x\", expected u32".into()
            }
        );
        assert_eq!(
            from_json::<Outer>(r#"{"inner":{}}"#).unwrap_err(),
            DecodeError::MissingField("inner.n".into())
        );
        assert!(matches!(from_json::<Outer>(r#"{"inner":"#), Err(DecodeError::InvalidJson(_))));
        assert!(matches!(from_json::<Outer>(r#"{"inner":{"n":1}} x"#), Err(DecodeError::InvalidJson(_))));
        assert_eq!(utf8(b"ab\xffc"), Err(DecodeError::InvalidUtf8 { offset: 2 }));
    }
}
