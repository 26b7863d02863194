//! The endpoint handlers. Each runs the same steps — key, body (size cap, gzip, UTF-8),
//! decode, pipeline, sink — and turns a failure into one answer in `finish`, which
//! dead-letters refused data when its project is known (or, within a small budget, when
//! it cannot be known) and only counts unauthenticated requests.

use std::borrow::Cow;
use std::net::IpAddr;
use std::sync::Arc;

use actix_web::http::header;
use actix_web::web::{self, BytesMut};
use actix_web::{HttpRequest, HttpResponse};
use base64::Engine;
use futures::StreamExt;
use numu_appstate::Project;
use numu_schemas::EventType;
use serde_json::json;

use super::respond::{add_cors, add_preflight, error_json, gif, origin_allowed};
use super::{now_ms, FrontState};
use crate::front::compact::{decode_compact, decode_pixel};
use crate::front::decode::{gunzip, utf8, Encoding, Incoming, Parsed};
use crate::front::pipeline::{dead_letter, Outcome, RequestMeta};
use crate::front::segment::{decode_batch, decode_message};
use crate::front::{metrics, DecodeError, FrontError};

/// A refused request: the error, the project when known, the data to dead-letter.
struct Refused {
    error: FrontError,
    project: Option<Arc<Project>>,
    raw: Vec<u8>,
}

impl Refused {
    fn new(error: impl Into<FrontError>, project: &Option<Arc<Project>>, raw: &[u8]) -> Refused {
        Refused { error: error.into(), project: project.clone(), raw: raw.to_vec() }
    }

    fn auth(error: FrontError) -> Refused {
        Refused { error, project: None, raw: Vec::new() }
    }
}

pub(super) fn count_request(endpoint: &'static str, response: &HttpResponse) {
    ::metrics::counter!(metrics::REQUESTS, "endpoint" => endpoint, "status" => response.status().as_u16().to_string())
        .increment(1);
}

fn header_text(req: &HttpRequest, name: header::HeaderName) -> Option<&str> {
    req.headers().get(name).and_then(|v| v.to_str().ok())
}

fn client_ip(req: &HttpRequest, trust_forwarded_for: bool) -> Option<IpAddr> {
    if trust_forwarded_for {
        let forwarded = header_text(req, header::X_FORWARDED_FOR).and_then(|v| v.split(',').next());
        if let Some(ip) = forwarded.and_then(|v| v.trim().parse().ok()) {
            return Some(ip);
        }
    }
    req.peer_addr().map(|a| a.ip())
}

fn request_meta<'a>(
    req: &'a HttpRequest,
    state: &FrontState,
    endpoint: &'static str,
    browser: bool,
) -> RequestMeta<'a> {
    RequestMeta {
        endpoint,
        received_at: now_ms(),
        ip: client_ip(req, state.config().trust_forwarded_for),
        // Segment clients put the browser's agent in `context.userAgent`; the request's
        // own agent there is a server library's, so only the snippet and pixel use it.
        user_agent: if browser { header_text(req, header::USER_AGENT) } else { None },
        accept_language: if browser { header_text(req, header::ACCEPT_LANGUAGE) } else { None },
        require_identity: !browser,
    }
}

/// Room for `Authorization: Basic` credentials decoded on the stack; write keys are far
/// shorter, and longer ones take the allocating path.
const BASIC_CREDENTIALS_ON_STACK: usize = 256;

/// The write key of `Authorization: Basic base64(key:)`, as Segment clients send it. Every
/// request of a server library carries it, so it is decoded into `buf`, not the heap.
fn basic_auth_key<'b>(
    req: &HttpRequest,
    buf: &'b mut [u8; BASIC_CREDENTIALS_ON_STACK],
) -> Option<Cow<'b, str>> {
    let value = header_text(req, header::AUTHORIZATION)?.trim();
    let encoded = value.strip_prefix("Basic ").or_else(|| value.strip_prefix("basic "))?.trim();
    let engine = &base64::engine::general_purpose::STANDARD;
    let text = match engine.decode_slice(encoded, buf) {
        Ok(len) => Cow::Borrowed(std::str::from_utf8(&buf[..len]).ok()?),
        Err(base64::DecodeSliceError::OutputSliceTooSmall) => {
            Cow::Owned(String::from_utf8(engine.decode(encoded).ok()?).ok()?)
        }
        Err(base64::DecodeSliceError::DecodeError(_)) => return None,
    };
    let user_len = |text: &str| text.find(':').unwrap_or(text.len());
    let user = match text {
        Cow::Borrowed(text) => Cow::Borrowed(&text[..user_len(text)]),
        Cow::Owned(mut text) => {
            text.truncate(user_len(&text));
            Cow::Owned(text)
        }
    };
    (!user.is_empty()).then_some(user)
}

fn query_param(query: &str, name: &str) -> Option<String> {
    form_urlencoded::parse(query.as_bytes()).find(|(k, _)| k == name).map(|(_, v)| v.into_owned())
}

/// A body after decompression.
enum Body {
    Plain(BytesMut),
    Unzipped(Vec<u8>),
}

impl AsRef<[u8]> for Body {
    fn as_ref(&self) -> &[u8] {
        match self {
            Body::Plain(bytes) => bytes,
            Body::Unzipped(bytes) => bytes,
        }
    }
}

/// Reads the body up to `limit` bytes (a longer one is refused with the prefix read up
/// to the limit), then removes gzip with the same cap on the decompressed size.
async fn receive(
    req: &HttpRequest,
    payload: &mut web::Payload,
    limit: usize,
    project: &Option<Arc<Project>>,
) -> Result<Body, Refused> {
    let encoding = Encoding::from_header(header_text(req, header::CONTENT_ENCODING))
        .map_err(|e| Refused::new(e, project, b""))?;
    let declared = header_text(req, header::CONTENT_LENGTH).and_then(|v| v.trim().parse::<usize>().ok());
    // An oversize body is still read up to the limit: the prefix is what gets
    // dead-lettered, and reading stops there.
    let mut body = BytesMut::with_capacity(declared.unwrap_or(1024).min(limit));
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| {
            Refused::new(
                DecodeError::InvalidValue { field: "(body)".into(), message: e.to_string() },
                project,
                &body,
            )
        })?;
        if body.len() + chunk.len() > limit {
            body.extend_from_slice(&chunk[..limit - body.len()]);
            return Err(Refused::new(FrontError::PayloadTooLarge { limit }, project, &body));
        }
        body.extend_from_slice(&chunk);
    }
    match gunzip(&body, encoding, limit) {
        Ok(std::borrow::Cow::Borrowed(_)) => Ok(Body::Plain(body)),
        Ok(std::borrow::Cow::Owned(unzipped)) => Ok(Body::Unzipped(unzipped)),
        Err(error) => Err(Refused::new(error, project, &body)),
    }
}

/// Appends an outcome's records; counts what was accepted and dead-lettered.
async fn append(
    state: &FrontState,
    meta: &RequestMeta<'_>,
    outcome: Outcome,
) -> Result<(usize, Vec<crate::front::Refusal>), FrontError> {
    let Outcome { records, accepted, refused } = outcome;
    if !records.is_empty() {
        state.shared.sink.append(records).await?;
    }
    metrics::accepted(meta.endpoint, accepted);
    for refusal in &refused {
        metrics::dead_lettered(refusal.error.code());
    }
    Ok((accepted, refused))
}

/// Answers a refused request, dead-lettering its data when that is allowed.
async fn finish(state: &FrontState, meta: &RequestMeta<'_>, refused: Refused) -> HttpResponse {
    let Refused { error, project, raw } = refused;
    let code = error.code();
    metrics::refused(meta.endpoint, code);
    if !error.is_data() {
        metrics::not_dead_lettered(code);
        return error_json(&error);
    }
    // Without a project (no key, or the key was inside the unreadable body) the payload
    // is kept under project 0, within a per-minute budget so a flood of garbage cannot
    // fill the log; beyond it, it is only counted.
    let project_id = match &project {
        Some(project) => u64::try_from(project.id).unwrap_or(0),
        None if state.shared.anonymous_dead_letters.take(meta.received_at) => 0,
        None => {
            metrics::not_dead_lettered(code);
            return error_json(&error);
        }
    };
    let record = dead_letter(project_id, meta, -1, &raw, &error);
    if let Err(sink_error) = state.shared.sink.append(vec![record]).await {
        // The data could not be kept: ask the client to retry rather than lose it.
        return error_json(&FrontError::from(sink_error));
    }
    metrics::dead_lettered(code);
    error_json(&error)
}

async fn header_project(req: &HttpRequest, state: &FrontState) -> Result<Option<Arc<Project>>, Refused> {
    let mut buf = [0u8; BASIC_CREDENTIALS_ON_STACK];
    match basic_auth_key(req, &mut buf) {
        Some(key) => state.shared.keys.resolve(Some(&key)).await.map(Some).map_err(Refused::auth),
        None => Ok(None),
    }
}

async fn resolve_late(
    state: &FrontState,
    known: Option<Arc<Project>>,
    key: Option<&str>,
) -> Result<Arc<Project>, Refused> {
    match known {
        Some(project) => Ok(project),
        None => state.shared.keys.resolve(key).await.map_err(Refused::auth),
    }
}

fn project_id(project: &Project) -> u64 {
    u64::try_from(project.id).unwrap_or(0)
}

/// `POST /v1/{track,page,screen,identify,alias,group}`.
pub(super) async fn segment_single(
    req: HttpRequest,
    mut payload: web::Payload,
    state: web::Data<FrontState>,
    endpoint: &'static str,
    kind: EventType,
) -> HttpResponse {
    let meta = request_meta(&req, &state, endpoint, false);
    let response = match single_inner(&req, &mut payload, &state, &meta, kind).await {
        Ok(response) => response,
        Err(refused) => finish(&state, &meta, refused).await,
    };
    count_request(endpoint, &response);
    response
}

async fn single_inner(
    req: &HttpRequest,
    payload: &mut web::Payload,
    state: &FrontState,
    meta: &RequestMeta<'_>,
    kind: EventType,
) -> Result<HttpResponse, Refused> {
    let project = header_project(req, state).await?;
    let body = receive(req, payload, state.config().max_event_bytes, &project).await?;
    let text = utf8(body.as_ref()).map_err(|e| Refused::new(e, &project, body.as_ref()))?;
    let message = decode_message(text, kind).map_err(|e| Refused::new(e, &project, text.as_bytes()))?;
    let project = resolve_late(state, project, message.write_key.as_deref()).await?;
    let events =
        vec![Incoming { index: 0, raw: text, parsed: Ok(Parsed { message, hints: Default::default() }) }];
    let outcome = state.pipeline().process(project_id(&project), meta, events);
    let (_, refused) = append(state, meta, outcome).await.map_err(Refused::auth)?;
    // The refused event is already dead-lettered by the pipeline: just answer.
    Ok(match refused.first() {
        Some(refusal) => error_json(&refusal.error),
        // Segment's answer, every accepted single event: a constant, not a JSON value built.
        None => HttpResponse::Ok().content_type("application/json").body(r#"{"success":true}"#),
    })
}

/// `POST /v1/batch` (and `/v1/import`, its Segment alias).
pub(super) async fn segment_batch(
    req: HttpRequest,
    mut payload: web::Payload,
    state: web::Data<FrontState>,
    endpoint: &'static str,
) -> HttpResponse {
    let meta = request_meta(&req, &state, endpoint, false);
    let response = match batch_inner(&req, &mut payload, &state, &meta).await {
        Ok(response) => response,
        Err(refused) => finish(&state, &meta, refused).await,
    };
    count_request(endpoint, &response);
    response
}

async fn batch_inner(
    req: &HttpRequest,
    payload: &mut web::Payload,
    state: &FrontState,
    meta: &RequestMeta<'_>,
) -> Result<HttpResponse, Refused> {
    let project = header_project(req, state).await?;
    let body = receive(req, payload, state.config().max_batch_bytes, &project).await?;
    let text = utf8(body.as_ref()).map_err(|e| Refused::new(e, &project, body.as_ref()))?;
    let batch = decode_batch(text, state.config().max_event_bytes)
        .map_err(|e| Refused::new(e, &project, text.as_bytes()))?;
    let key = batch.write_key.clone().or_else(|| {
        batch.events.iter().find_map(|e| e.parsed.as_ref().ok().and_then(|p| p.message.write_key.clone()))
    });
    let project = resolve_late(state, project, key.as_deref()).await?;
    let outcome = state.pipeline().process(project_id(&project), meta, batch.events);
    let (accepted, refused) = append(state, meta, outcome).await.map_err(Refused::auth)?;
    Ok(HttpResponse::Ok().json(json!({ "success": true, "accepted": accepted, "refused": refused })))
}

/// `POST /e?k=KEY`: the snippet's compact events.
pub(super) async fn compact(
    req: HttpRequest,
    mut payload: web::Payload,
    state: web::Data<FrontState>,
) -> HttpResponse {
    let meta = request_meta(&req, &state, "/e", true);
    let origin = header_text(&req, header::ORIGIN);
    let mut response = match compact_inner(&req, &mut payload, &state, &meta, origin).await {
        Ok(response) => response,
        Err(refused) => finish(&state, &meta, refused).await,
    };
    add_cors(&mut response);
    count_request("/e", &response);
    response
}

async fn snippet_project(
    req: &HttpRequest,
    state: &FrontState,
    origin: Option<&str>,
) -> Result<Arc<Project>, Refused> {
    let key = query_param(req.query_string(), "k");
    let project = state.shared.keys.resolve(key.as_deref()).await.map_err(Refused::auth)?;
    if let Some(origin) = origin.filter(|o| !origin_allowed(&project, o)) {
        let error = FrontError::OriginNotAllowed(origin.chars().take(200).collect());
        return Err(Refused { error, project: Some(project), raw: Vec::new() });
    }
    Ok(project)
}

async fn compact_inner(
    req: &HttpRequest,
    payload: &mut web::Payload,
    state: &FrontState,
    meta: &RequestMeta<'_>,
    origin: Option<&str>,
) -> Result<HttpResponse, Refused> {
    let project = snippet_project(req, state, origin).await?;
    let known = Some(Arc::clone(&project));
    let body = receive(req, payload, state.config().max_snippet_body_bytes, &known).await?;
    let text = utf8(body.as_ref()).map_err(|e| Refused::new(e, &known, body.as_ref()))?;
    let events = decode_compact(text, state.config().max_event_bytes)
        .map_err(|e| Refused::new(e, &known, text.as_bytes()))?;
    let outcome = state.pipeline().process(project_id(&project), meta, events);
    let (accepted, refused) = append(state, meta, outcome).await.map_err(Refused::auth)?;
    let body = if refused.is_empty() {
        json!({ "accepted": accepted })
    } else {
        json!({ "accepted": accepted, "refused": refused })
    };
    Ok(HttpResponse::Ok().json(body))
}

/// `OPTIONS /e`: the CORS preflight, answered per the project's allowed origins.
pub(super) async fn preflight(req: HttpRequest, state: web::Data<FrontState>) -> HttpResponse {
    let origin = header_text(&req, header::ORIGIN);
    let response = match snippet_project(&req, &state, origin).await {
        Ok(_) => {
            let mut response = HttpResponse::NoContent().finish();
            add_preflight(&mut response, origin);
            response
        }
        // A foreign origin's preflight fails (no CORS headers): the browser then never
        // sends the events. Other refusals are readable, as on `POST /e`.
        Err(Refused { error: error @ FrontError::OriginNotAllowed(_), .. }) => error_json(&error),
        Err(refused) => {
            let mut response = error_json(&refused.error);
            add_cors(&mut response);
            response
        }
    };
    count_request("/e", &response);
    response
}

/// A pixel without `url` was on the page that sent the `Referer` (sdk-js/PROTOCOL.md).
fn use_referer_as_url(req: &HttpRequest, parsed: &mut Parsed) {
    let Some(referer) = header_text(req, header::REFERER).filter(|r| !r.is_empty()) else { return };
    let context = parsed.message.context.get_or_insert_with(Default::default);
    let page = context.page.get_or_insert_with(Default::default);
    if page.url.is_none() {
        page.url = Some(referer.to_string());
    }
}

/// `GET /p.gif?k=KEY&…`: always the GIF, so the image renders; failures are counted and,
/// with a known project, dead-lettered.
pub(super) async fn pixel(req: HttpRequest, state: web::Data<FrontState>) -> HttpResponse {
    let meta = request_meta(&req, &state, "/p.gif", true);
    let query = req.query_string();
    let (key, mut parsed) = decode_pixel(query);
    if let Ok(parsed) = &mut parsed {
        use_referer_as_url(&req, parsed);
    }
    match state.shared.keys.resolve(key.as_deref()).await {
        Ok(project) => {
            let events = vec![Incoming { index: 0, raw: query, parsed }];
            let outcome = state.pipeline().process(project_id(&project), &meta, events);
            if let Err(error) = append(&state, &meta, outcome).await {
                metrics::refused("/p.gif", error.code());
                metrics::not_dead_lettered(error.code());
            }
        }
        Err(error) => {
            metrics::refused("/p.gif", error.code());
            metrics::not_dead_lettered(error.code());
        }
    }
    let response = gif();
    count_request("/p.gif", &response);
    response
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;
    use base64::Engine;

    use super::*;

    fn key_of(authorization: &str) -> Option<String> {
        let req =
            TestRequest::default().insert_header((header::AUTHORIZATION, authorization)).to_http_request();
        let mut buf = [0u8; BASIC_CREDENTIALS_ON_STACK];
        basic_auth_key(&req, &mut buf).map(Cow::into_owned)
    }

    fn basic(credentials: &str) -> String {
        format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(credentials))
    }

    #[test]
    fn the_write_key_is_the_basic_user_on_the_stack_or_not() {
        assert_eq!(key_of(&basic("nw_abc:")).as_deref(), Some("nw_abc"));
        assert_eq!(key_of(&basic("nw_abc")).as_deref(), Some("nw_abc"));
        assert_eq!(key_of(&basic("nw_abc:").replace("Basic", "basic")).as_deref(), Some("nw_abc"));
        let long = "k".repeat(400);
        assert_eq!(key_of(&basic(&format!("{long}:x"))), Some(long));
        assert_eq!(key_of(&basic(":secret")), None);
        assert_eq!(key_of("Basic not*base64"), None);
        assert_eq!(key_of("Bearer abc"), None);
    }
}
