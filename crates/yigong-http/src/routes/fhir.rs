//! `/fhir`: the shared health record as an HL7 FHIR R4 (4.0.1) REST API, JSON only
//! (`application/fhir+json`). Bearer tokens as for `/api/v1`; every error is an
//! OperationOutcome. The CapabilityStatement at `/fhir/metadata` lists exactly what is served.

use axum::body::Bytes;
use axum::extract::{FromRequestParts, Path, Query, RawQuery, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use yigong_app::record::{self, FhirError, SearchParams, SearchResult, Stored, WriteRequest};
use yigong_fhir::resource::{self as res, OutcomeIssue};

use crate::AppState;
use crate::auth::Caller;
use crate::error::ApiError;

/// The media type of every body.
pub const FHIR_JSON: &str = "application/fhir+json; charset=utf-8";

/// The routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(metadata))
        .routes(routes!(bundle))
        .routes(routes!(patient_match))
        .routes(routes!(search_type, create))
        .routes(routes!(search_post))
        .routes(routes!(read, update, delete))
        .routes(routes!(history))
        .routes(routes!(vread))
}

/// A FHIR response: status, headers and a JSON body given as text (stored bodies are sent as
/// they were stored, never re-encoded).
pub struct Fhir {
    status: StatusCode,
    headers: HeaderMap,
    body: String,
}

impl Fhir {
    fn new(status: StatusCode, body: String) -> Self {
        Self { status, headers: HeaderMap::new(), body }
    }

    fn header(mut self, name: header::HeaderName, value: &str) -> Self {
        if let Ok(v) = HeaderValue::from_str(value) {
            self.headers.insert(name, v);
        }
        self
    }

    fn stored(status: StatusCode, stored: &Stored, base: &str) -> Self {
        let body = stored.body.clone().unwrap_or_default();
        let resp = Self::new(status, body).header(header::ETAG, &res::etag(stored.version)).header(
            header::LAST_MODIFIED,
            &stored.last_updated.format("%a, %d %b %Y %H:%M:%S GMT").to_string(),
        );
        if status == StatusCode::CREATED || status == StatusCode::OK {
            let location =
                format!("{base}/{}/{}/_history/{}", stored.resource_type, stored.id, stored.version);
            return resp.header(header::LOCATION, &location).header(header::CONTENT_LOCATION, &location);
        }
        resp
    }
}

impl IntoResponse for Fhir {
    fn into_response(self) -> Response {
        let mut response = (self.status, self.body).into_response();
        response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(FHIR_JSON));
        response.headers_mut().extend(self.headers);
        response
    }
}

/// An error as an OperationOutcome.
pub struct Outcome(pub FhirError);

impl From<FhirError> for Outcome {
    fn from(e: FhirError) -> Self {
        Self(e)
    }
}

impl From<yigong_app::AppError> for Outcome {
    fn from(e: yigong_app::AppError) -> Self {
        Self(FhirError::App(e))
    }
}

impl IntoResponse for Outcome {
    fn into_response(self) -> Response {
        if let FhirError::App(yigong_app::AppError::Store(e)) = &self.0 {
            tracing::error!(error = %e, "fhir request failed");
        }
        let status = StatusCode::from_u16(self.0.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = serde_json::to_string(&res::operation_outcome(&self.0.issues())).expect("serialises");
        Fhir::new(status, body).into_response()
    }
}

fn outcome(status: u16, code: &'static str, message: impl Into<String>) -> Outcome {
    let issues = vec![OutcomeIssue::error(code, None, message)];
    Outcome(match status {
        400 => FhirError::Invalid(issues),
        _ => FhirError::Unprocessable(issues),
    })
}

/// The caller, with refusals answered as OperationOutcomes.
pub struct FhirCaller(pub Caller);

impl FromRequestParts<AppState> for FhirCaller {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, ctx: &AppState) -> Result<Self, Self::Rejection> {
        match Caller::from_request_parts(parts, ctx).await {
            Ok(c) => Ok(Self(c)),
            Err(e) => {
                let (status, code, message) = match e {
                    ApiError::Unauthenticated => (
                        StatusCode::UNAUTHORIZED,
                        "login",
                        "a valid bearer token is required (POST /api/v1/auth/token)",
                    ),
                    ApiError::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden", "not allowed"),
                    ApiError::TooManyAttempts => {
                        (StatusCode::TOO_MANY_REQUESTS, "throttled", "too many attempts")
                    }
                    _ => (
                        StatusCode::INTERNAL_SERVER_ERROR,
                        "exception",
                        "the server could not authenticate the request",
                    ),
                };
                let body = serde_json::to_string(&res::operation_outcome(&[OutcomeIssue::error(
                    code, None, message,
                )]))
                .expect("serialises");
                let mut resp = Fhir::new(status, body).into_response();
                if status == StatusCode::UNAUTHORIZED {
                    resp.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
                }
                Err(resp)
            }
        }
    }
}

/// The base URL clients used (`http://host/fhir`), for links and locations.
fn base(headers: &HeaderMap) -> String {
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("localhost");
    let proto = headers.get("x-forwarded-proto").and_then(|h| h.to_str().ok()).unwrap_or("http");
    format!("{proto}://{host}/fhir")
}

/// Checks the request's media type and size, and parses the JSON body.
fn body_json(ctx: &AppState, headers: &HeaderMap, bytes: &Bytes) -> Result<serde_json::Value, Outcome> {
    if let Some(ct) = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()) {
        let mime = ct.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
        if !matches!(mime.as_str(), "application/fhir+json" | "application/json" | "application/json+fhir") {
            return Err(outcome(
                400,
                "not-supported",
                format!("content type {mime:?} is not supported: send application/fhir+json"),
            ));
        }
    }
    if bytes.len() > ctx.fhir_max_body {
        return Err(outcome(
            400,
            "too-costly",
            format!(
                "the body is {} bytes; the limit is {} (server.fhir_max_body_bytes)",
                bytes.len(),
                ctx.fhir_max_body
            ),
        ));
    }
    Ok(record::parse_body(bytes)?)
}

fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~:|,".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn link(base: &str, ty: &str, pairs: &[(String, String)]) -> String {
    let q: Vec<String> = pairs.iter().map(|(k, v)| format!("{}={}", encode(k), encode(v))).collect();
    if q.is_empty() { format!("{base}/{ty}") } else { format!("{base}/{ty}?{}", q.join("&")) }
}

fn searchset(base: &str, ty: &str, result: &SearchResult) -> String {
    let mut links = vec![format!(
        r#"{{"relation":"self","url":{}}}"#,
        serde_json::to_string(&link(base, ty, &result.this)).expect("text")
    )];
    if let Some(next) = &result.next {
        links.push(format!(
            r#"{{"relation":"next","url":{}}}"#,
            serde_json::to_string(&link(base, ty, next)).expect("text")
        ));
    }
    let mut entries = Vec::with_capacity(result.matches.len() + result.included.len());
    for (mode, list) in [("match", &result.matches), ("include", &result.included)] {
        for s in list.iter() {
            let Some(body) = &s.body else { continue };
            let full = serde_json::to_string(&format!("{base}/{}/{}", s.resource_type, s.id)).expect("text");
            entries.push(format!(r#"{{"fullUrl":{full},"resource":{body},"search":{{"mode":"{mode}"}}}}"#));
        }
    }
    format!(
        r#"{{"resourceType":"Bundle","type":"searchset","link":[{}],"entry":[{}]}}"#,
        links.join(","),
        entries.join(",")
    )
}

/// The CapabilityStatement: what this server does, exactly.
#[utoipa::path(get, path = "/fhir/metadata", tag = "fhir",
    responses((status = 200, description = "CapabilityStatement (application/fhir+json)", body = Object)))]
async fn metadata(State(ctx): State<AppState>, headers: HeaderMap) -> Fhir {
    let statement = record::capability_statement(&base(&headers), ctx.clock.now());
    Fhir::new(StatusCode::OK, serde_json::to_string(&statement).expect("serialises"))
}

/// A transaction or batch Bundle.
#[utoipa::path(post, path = "/fhir", tag = "fhir", request_body(content = Object, content_type = "application/fhir+json"),
    responses((status = 200, description = "transaction-response or batch-response Bundle", body = Object),
              (status = 400, description = "OperationOutcome"), (status = 422, description = "OperationOutcome")),
    security(("bearer" = [])))]
async fn bundle(
    State(ctx): State<AppState>,
    FhirCaller(caller): FhirCaller,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Fhir, Outcome> {
    let value = body_json(&ctx, &headers, &body)?;
    if value.get("resourceType").and_then(|v| v.as_str()) != Some("Bundle") {
        return Err(outcome(
            400,
            "invalid",
            "only a transaction or batch Bundle can be posted to the base URL",
        ));
    }
    let response = record::process_bundle(&ctx, caller.actor(), value).await?;
    Ok(Fhir::new(StatusCode::OK, serde_json::to_string(&response).expect("serialises")))
}

/// `Patient/$match`, backed by the master patient index.
#[utoipa::path(post, path = "/fhir/Patient/$match", tag = "fhir", request_body(content = Object, content_type = "application/fhir+json"),
    responses((status = 200, description = "searchset Bundle with search.score and match-grade", body = Object)),
    security(("bearer" = [])))]
async fn patient_match(
    State(ctx): State<AppState>,
    FhirCaller(caller): FhirCaller,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Fhir, Outcome> {
    let value = body_json(&ctx, &headers, &body)?;
    let matches = record::match_patients(&ctx, caller.actor(), &value).await?;
    let base = base(&headers);
    let entries: Vec<String> = matches
        .iter()
        .filter_map(|m| {
            let body = m.patient.body.as_ref()?;
            let full = serde_json::to_string(&format!("{base}/Patient/{}", m.patient.id)).expect("text");
            Some(format!(
                r#"{{"fullUrl":{full},"resource":{body},"search":{{"mode":"match","score":{},"extension":[{{"url":"http://hl7.org/fhir/StructureDefinition/match-grade","valueCode":"{}"}}]}}}}"#,
                m.score, m.grade
            ))
        })
        .collect();
    let total = entries.len();
    Ok(Fhir::new(
        StatusCode::OK,
        format!(
            r#"{{"resourceType":"Bundle","type":"searchset","total":{total},"entry":[{}]}}"#,
            entries.join(",")
        ),
    ))
}

/// Search by the documented parameters (`_count`, `_sort`, `_include`, `_lastUpdated`, `_id` too).
#[utoipa::path(get, path = "/fhir/{type}", tag = "fhir",
    params(("type" = String, Path, description = "Resource type")),
    responses((status = 200, description = "searchset Bundle", body = Object), (status = 400, description = "OperationOutcome")),
    security(("bearer" = [])))]
async fn search_type(
    State(ctx): State<AppState>,
    FhirCaller(caller): FhirCaller,
    Path(ty): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Fhir, Outcome> {
    let params = SearchParams::new(record::query_pairs(query.as_deref().unwrap_or("")));
    let result = record::search(&ctx, caller.actor(), &ty, &params).await?;
    Ok(Fhir::new(StatusCode::OK, searchset(&base(&headers), &ty, &result)))
}

/// Search with the parameters in a form body.
#[utoipa::path(post, path = "/fhir/{type}/_search", tag = "fhir",
    params(("type" = String, Path, description = "Resource type")),
    request_body(content = String, content_type = "application/x-www-form-urlencoded"),
    responses((status = 200, description = "searchset Bundle", body = Object)),
    security(("bearer" = [])))]
async fn search_post(
    State(ctx): State<AppState>,
    FhirCaller(caller): FhirCaller,
    Path(ty): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Fhir, Outcome> {
    let mut pairs = record::query_pairs(query.as_deref().unwrap_or(""));
    pairs.extend(record::query_pairs(std::str::from_utf8(&body).unwrap_or("")));
    let result = record::search(&ctx, caller.actor(), &ty, &SearchParams::new(pairs)).await?;
    Ok(Fhir::new(StatusCode::OK, searchset(&base(&headers), &ty, &result)))
}

/// Create (conditional with `If-None-Exist`).
#[utoipa::path(post, path = "/fhir/{type}", tag = "fhir",
    params(("type" = String, Path, description = "Resource type"),
           ("If-None-Exist" = Option<String>, Header, description = "Conditional create: search parameters")),
    request_body(content = Object, content_type = "application/fhir+json"),
    responses((status = 201, description = "Created", body = Object), (status = 200, description = "A conditional create matched"),
              (status = 400, description = "OperationOutcome"), (status = 412, description = "Several matched")),
    security(("bearer" = [])))]
async fn create(
    State(ctx): State<AppState>,
    FhirCaller(caller): FhirCaller,
    Path(ty): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Fhir, Outcome> {
    let resource = body_json(&ctx, &headers, &body)?;
    let if_none_exist = headers.get("if-none-exist").and_then(|v| v.to_str().ok()).map(str::to_owned);
    if resource.get("id").is_some() && if_none_exist.is_none() {
        // R4 §3.1.0.7: a create ignores a client id; say so rather than silently drop it.
        tracing::debug!("create ignores the id in the body");
    }
    let written = record::create(
        &ctx,
        caller.actor(),
        WriteRequest {
            resource_type: ty,
            id: None,
            resource,
            if_match: None,
            if_none_exist,
            server_assigned: false,
        },
    )
    .await?;
    let status = if written.created { StatusCode::CREATED } else { StatusCode::OK };
    Ok(Fhir::stored(status, &written.stored, &base(&headers)))
}

/// Read.
#[utoipa::path(get, path = "/fhir/{type}/{id}", tag = "fhir",
    params(("type" = String, Path, description = "Resource type"), ("id" = String, Path, description = "Logical id")),
    responses((status = 200, description = "The resource", body = Object), (status = 404, description = "OperationOutcome"),
              (status = 410, description = "Deleted")),
    security(("bearer" = [])))]
async fn read(
    State(ctx): State<AppState>,
    FhirCaller(caller): FhirCaller,
    Path((ty, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Fhir, Outcome> {
    let stored = record::read(&ctx, caller.actor(), &ty, &id).await?;
    Ok(Fhir::stored(StatusCode::OK, &stored, &base(&headers)).without_location())
}

/// Update, or create with the client's id.
#[utoipa::path(put, path = "/fhir/{type}/{id}", tag = "fhir",
    params(("type" = String, Path, description = "Resource type"), ("id" = String, Path, description = "Logical id"),
           ("If-Match" = Option<String>, Header, description = "Version-aware update: W/\"version\"")),
    request_body(content = Object, content_type = "application/fhir+json"),
    responses((status = 200, description = "Updated", body = Object), (status = 201, description = "Created with the client's id"),
              (status = 412, description = "If-Match names another version")),
    security(("bearer" = [])))]
async fn update(
    State(ctx): State<AppState>,
    FhirCaller(caller): FhirCaller,
    Path((ty, id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Fhir, Outcome> {
    let resource = body_json(&ctx, &headers, &body)?;
    let if_match = match headers.get(header::IF_MATCH).and_then(|v| v.to_str().ok()) {
        Some(v) => Some(
            res::parse_etag(v)
                .ok_or_else(|| outcome(400, "invalid", format!("If-Match {v:?} is not W/\"version\"")))?,
        ),
        None => None,
    };
    let written = record::update(
        &ctx,
        caller.actor(),
        WriteRequest {
            resource_type: ty,
            id: Some(id),
            resource,
            if_match,
            if_none_exist: None,
            server_assigned: false,
        },
    )
    .await?;
    let status = if written.created { StatusCode::CREATED } else { StatusCode::OK };
    Ok(Fhir::stored(status, &written.stored, &base(&headers)))
}

/// Delete (history kept; Patients are never deleted).
#[utoipa::path(delete, path = "/fhir/{type}/{id}", tag = "fhir",
    params(("type" = String, Path, description = "Resource type"), ("id" = String, Path, description = "Logical id")),
    responses((status = 204, description = "Deleted (or was not there)"), (status = 405, description = "Not deletable")),
    security(("bearer" = [])))]
async fn delete(
    State(ctx): State<AppState>,
    FhirCaller(caller): FhirCaller,
    Path((ty, id)): Path<(String, String)>,
) -> Result<Response, Outcome> {
    let deleted = record::delete(&ctx, caller.actor(), &ty, &id).await?;
    let mut resp = StatusCode::NO_CONTENT.into_response();
    if let Some(d) = deleted
        && let Ok(v) = HeaderValue::from_str(&res::etag(d.version))
    {
        resp.headers_mut().insert(header::ETAG, v);
    }
    Ok(resp)
}

/// Paging of a history.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
struct HistoryQuery {
    /// Page size (default 20, at most 500).
    #[serde(rename = "_count")]
    count: Option<i64>,
    /// Versions to skip.
    #[serde(rename = "_offset")]
    offset: Option<i64>,
}

/// The versions of one resource, newest first.
#[utoipa::path(get, path = "/fhir/{type}/{id}/_history", tag = "fhir",
    params(("type" = String, Path, description = "Resource type"), ("id" = String, Path, description = "Logical id"), HistoryQuery),
    responses((status = 200, description = "history Bundle", body = Object)),
    security(("bearer" = [])))]
async fn history(
    State(ctx): State<AppState>,
    FhirCaller(caller): FhirCaller,
    Path((ty, id)): Path<(String, String)>,
    Query(q): Query<HistoryQuery>,
    headers: HeaderMap,
) -> Result<Fhir, Outcome> {
    let count = q.count.unwrap_or(20).clamp(1, 500);
    let offset = q.offset.unwrap_or(0).clamp(0, 100_000);
    let versions = record::history(&ctx, caller.actor(), &ty, &id, count + 1, offset).await?;
    let base = base(&headers);
    let more = versions.len() as i64 > count;
    let entries: Vec<String> = versions
        .iter()
        .take(count as usize)
        .map(|v| {
            let full = serde_json::to_string(&format!("{base}/{}/{}", v.resource_type, v.id)).expect("text");
            let method = if v.body.is_none() { "DELETE" } else if v.version == 1 { "POST" } else { "PUT" };
            let url = if method == "POST" { v.resource_type.clone() } else { format!("{}/{}", v.resource_type, v.id) };
            let resource = v.body.as_ref().map(|b| format!(r#""resource":{b},"#)).unwrap_or_default();
            format!(
                r#"{{"fullUrl":{full},{resource}"request":{{"method":"{method}","url":"{url}"}},"response":{{"status":"200","etag":"{}","lastModified":"{}"}}}}"#,
                res::etag(v.version).replace('"', "\\\""),
                res::instant(v.last_updated)
            )
        })
        .collect();
    let mut links = vec![format!(
        r#"{{"relation":"self","url":"{base}/{ty}/{id}/_history?_count={count}&_offset={offset}"}}"#
    )];
    if more {
        links.push(format!(
            r#"{{"relation":"next","url":"{base}/{ty}/{id}/_history?_count={count}&_offset={}"}}"#,
            offset + count
        ));
    }
    Ok(Fhir::new(
        StatusCode::OK,
        format!(
            r#"{{"resourceType":"Bundle","type":"history","link":[{}],"entry":[{}]}}"#,
            links.join(","),
            entries.join(",")
        ),
    ))
}

/// One version.
#[utoipa::path(get, path = "/fhir/{type}/{id}/_history/{vid}", tag = "fhir",
    params(("type" = String, Path, description = "Resource type"), ("id" = String, Path, description = "Logical id"),
           ("vid" = i64, Path, description = "Version")),
    responses((status = 200, description = "That version", body = Object), (status = 404, description = "OperationOutcome")),
    security(("bearer" = [])))]
async fn vread(
    State(ctx): State<AppState>,
    FhirCaller(caller): FhirCaller,
    Path((ty, id, vid)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Result<Fhir, Outcome> {
    let version: i64 =
        vid.parse().map_err(|_| outcome(400, "invalid", format!("version {vid:?} is not a number")))?;
    let stored = record::vread(&ctx, caller.actor(), &ty, &id, version).await?;
    Ok(Fhir::stored(StatusCode::OK, &stored, &base(&headers)).without_location())
}

impl Fhir {
    fn without_location(mut self) -> Self {
        self.headers.remove(header::LOCATION);
        self
    }
}
