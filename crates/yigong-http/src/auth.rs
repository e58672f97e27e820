//! Authentication as an extractor: a handler that takes [`Caller`] cannot run for an
//! unauthenticated request. Bearer tokens (API) and the session cookie (web UI) are accepted;
//! a cookie-authenticated request that changes state must echo the session's CSRF token.
//! Refusals are audited here, before any handler runs.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method};
use uuid::Uuid;
use yigong_app::audit::{self, Event};
use yigong_app::auth::{self, Session};
use yigong_domain::access::Actor;
use yigong_domain::ids::ConsortiumId;

use crate::AppState;
use crate::error::ApiError;

/// Name of the web session cookie.
pub const SESSION_COOKIE: &str = "yigong_session";
/// Header carrying the CSRF token on cookie-authenticated state changes from scripts.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// The authenticated caller of a request.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The session behind the request.
    pub session: Session,
    /// Whether the credential came from the session cookie (then CSRF applies).
    pub via_cookie: bool,
}

impl Caller {
    /// The actor of every use case.
    pub fn actor(&self) -> &Actor {
        &self.session.actor
    }
}

/// The request id set by the request-id layer.
pub fn request_id(headers: &HeaderMap) -> Option<String> {
    headers.get("x-request-id").and_then(|v| v.to_str().ok()).map(str::to_owned)
}

/// The client address, when the server runs with connection info.
pub fn client_ip(parts: &Parts) -> Option<IpAddr> {
    parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip())
}

/// A cookie's value from the `Cookie` header.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers.get_all(axum::http::header::COOKIE).iter().filter_map(|v| v.to_str().ok()).find_map(|line| {
        line.split(';')
            .map(str::trim)
            .find_map(|kv| kv.split_once('=').filter(|(k, _)| *k == name).map(|(_, v)| v.to_owned()))
    })
}

/// The consortium named in an API path, for auditing requests refused before a use case.
fn consortium_in_path(path: &str) -> Option<ConsortiumId> {
    let mut segments = path.split('/');
    segments.find(|s| *s == "consortia")?;
    segments.next().and_then(|s| Uuid::parse_str(s).ok()).map(ConsortiumId::from_uuid)
}

/// The credential presented: bearer token first, then the session cookie.
fn credential(headers: &HeaderMap) -> Option<(String, bool)> {
    if let Some(value) = headers.get(axum::http::header::AUTHORIZATION).and_then(|v| v.to_str().ok()) {
        let (scheme, token) = value.split_once(' ').unwrap_or((value, ""));
        return Some((
            if scheme.eq_ignore_ascii_case("bearer") { token.trim().to_owned() } else { String::new() },
            false,
        ));
    }
    cookie(headers, SESSION_COOKIE).map(|c| (c, true))
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, ctx: &AppState) -> Result<Self, Self::Rejection> {
        let rid = request_id(&parts.headers);
        let refuse = |reason: &'static str| {
            let path = parts.uri.path().to_owned();
            let event = Event {
                detail: Some(format!("reason={reason}")),
                ..Event::of(method_action(&parts.method), "api")
            };
            let resource = Event { resource_id: Some(path.clone()), ..event };
            (resource, consortium_in_path(&path))
        };
        let Some((secret, via_cookie)) = credential(&parts.headers).filter(|(s, _)| !s.is_empty()) else {
            let (event, consortium) = refuse("no_credentials");
            audit::record_denied(ctx, None, consortium, event, rid).await?;
            return Err(ApiError::Unauthenticated);
        };
        let session = match auth::authenticate(ctx, &secret, rid.clone()).await {
            Ok(s) => s,
            Err(yigong_app::AppError::Unauthenticated) => {
                let (event, consortium) = refuse("invalid_credentials");
                audit::record_denied(ctx, None, consortium, event, rid).await?;
                return Err(ApiError::Unauthenticated);
            }
            Err(other) => return Err(other.into()),
        };
        let safe = matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS);
        if via_cookie && !safe {
            let sent = parts.headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok());
            if sent.is_none() || sent != session.csrf_token.as_deref() {
                let (event, consortium) = refuse("csrf_failed");
                audit::record_denied(ctx, Some(&session.actor), consortium, event, rid).await?;
                return Err(ApiError::Forbidden("csrf_failed"));
            }
        }
        Ok(Self { session, via_cookie })
    }
}

fn method_action(m: &Method) -> &'static str {
    match *m {
        Method::GET | Method::HEAD => "read",
        Method::POST => "create",
        Method::PUT | Method::PATCH => "update",
        Method::DELETE => "delete",
        _ => "other",
    }
}
