//! One error type for the whole API, one JSON shape for every failure:
//! `{"error": "<stable_code>", "message": "...", "fields": {"<field>": {"code": ..., "message": ...}}}`.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;
use utoipa::ToSchema;
use yigong_app::AppError;
use yigong_domain::Invalid;

/// The body of every error response.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// Stable snake_case code; clients and the UI branch on it. Never renamed.
    #[schema(example = "invalid_input")]
    pub error: &'static str,
    /// English explanation; may change.
    pub message: String,
    /// Per-field errors, for `invalid_input`.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub fields: BTreeMap<String, FieldErrorBody>,
    /// For a refused workflow transition: the current state.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<&'static str>,
    /// For a refused workflow transition: the transitions the caller may perform from it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allowed_transitions: Option<Vec<&'static str>>,
}

/// One wrong field.
#[derive(Debug, Serialize, ToSchema)]
pub struct FieldErrorBody {
    /// Stable code, e.g. `division_code_invalid`.
    pub code: &'static str,
    /// English explanation.
    pub message: String,
}

/// Why a request failed.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// Request fields broke a rule (422).
    #[error("invalid input")]
    Invalid(Invalid),
    /// The body is not JSON of the expected shape (400).
    #[error("malformed body: {0}")]
    MalformedBody(String),
    /// The query string or a path segment is malformed (400).
    #[error("malformed request: {0}")]
    MalformedRequest(String),
    /// The resource does not exist (404).
    #[error("{0} not found")]
    NotFound(&'static str),
    /// The body's media type is not one this endpoint takes (415).
    #[error("unsupported media type: {0}")]
    UnsupportedMediaType(String),
    /// The resource exists but cannot be given in the form asked for (406).
    #[error("not acceptable: {0}")]
    NotAcceptable(String),
    /// No route for this path (404).
    #[error("no such route")]
    NoRoute,
    /// The path exists, not with this method (405).
    #[error("this method is not allowed here")]
    MethodNotAllowed,
    /// Conflicts with current state (409).
    #[error("conflict: {0}")]
    Conflict(&'static str),
    /// A workflow transition not allowed from the current state (409).
    #[error("{message}")]
    Transition {
        /// `invalid_transition`, `wrong_party`, `not_due`, `referral_live_exists`…
        code: &'static str,
        /// Explanation.
        message: String,
        /// The current state.
        state: Option<&'static str>,
        /// What the caller may do from it.
        allowed: Vec<&'static str>,
    },
    /// No valid credentials (401).
    #[error("authentication required: log in or present a valid bearer token")]
    Unauthenticated,
    /// Not allowed (403): `forbidden` (role), `out_of_scope`, or `csrf_failed`.
    #[error("not allowed: {0}")]
    Forbidden(&'static str),
    /// Too many attempts (429).
    #[error("too many attempts; wait a minute and try again")]
    TooManyAttempts,
    /// Anything the client cannot fix (500; the cause is logged, not returned).
    #[error("internal error")]
    Internal(String),
}

impl ApiError {
    fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            // Codes are API: never rename one, add a new one.
            Self::Invalid(_) => (StatusCode::UNPROCESSABLE_ENTITY, "invalid_input"),
            Self::MalformedBody(_) => (StatusCode::BAD_REQUEST, "malformed_json"),
            Self::MalformedRequest(_) => (StatusCode::BAD_REQUEST, "malformed_request"),
            Self::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            Self::UnsupportedMediaType(_) => (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type"),
            Self::NotAcceptable(_) => (StatusCode::NOT_ACCEPTABLE, "not_acceptable"),
            Self::NoRoute => (StatusCode::NOT_FOUND, "no_route"),
            Self::MethodNotAllowed => (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed"),
            Self::Conflict(rule) => (StatusCode::CONFLICT, rule),
            Self::Transition { code, .. } => (StatusCode::CONFLICT, code),
            Self::Unauthenticated => (StatusCode::UNAUTHORIZED, "unauthenticated"),
            Self::Forbidden(code) => (StatusCode::FORBIDDEN, code),
            Self::TooManyAttempts => (StatusCode::TOO_MANY_REQUESTS, "too_many_attempts"),
            Self::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        }
    }

    /// The JSON body of this error.
    pub fn body(&self) -> ErrorBody {
        let (_, code) = self.status_and_code();
        let mut fields = BTreeMap::new();
        let message = match self {
            Self::Invalid(invalid) => {
                for (name, f) in invalid.by_field() {
                    fields
                        .insert(name.to_owned(), FieldErrorBody { code: f.code, message: f.message.clone() });
                }
                "some fields are not valid; see fields".to_owned()
            }
            Self::Internal(_) => {
                "internal error; the operator can find the cause by the request id".to_owned()
            }
            other => other.to_string(),
        };
        let (state, allowed_transitions) = match self {
            Self::Transition { state, allowed, .. } => (*state, Some(allowed.clone())),
            _ => (None, None),
        };
        ErrorBody { error: code, message, fields, state, allowed_transitions }
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.status_and_code().0
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let Self::Internal(cause) = &self {
            // The cause may name tables or constraints, never personal data: store errors
            // carry no bound values.
            tracing::error!(%cause, "request failed");
        }
        let mut response = (self.status(), Json(self.body())).into_response();
        if matches!(self, Self::Unauthenticated) {
            response.headers_mut().insert(
                axum::http::header::WWW_AUTHENTICATE,
                axum::http::HeaderValue::from_static("Bearer realm=\"yigong\""),
            );
        }
        response
    }
}

impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        match e {
            AppError::Invalid(i) => Self::Invalid(i),
            AppError::NotFound { what } => Self::NotFound(what),
            AppError::Conflict { rule } => Self::Conflict(rule),
            AppError::Transition { code, message, state, allowed } => {
                Self::Transition { code, message, state, allowed }
            }
            AppError::Unauthenticated => Self::Unauthenticated,
            AppError::Forbidden { code } => Self::Forbidden(code),
            AppError::TooManyAttempts => Self::TooManyAttempts,
            AppError::Store(s) => Self::Internal(s.to_string()),
        }
    }
}

impl From<Invalid> for ApiError {
    fn from(e: Invalid) -> Self {
        Self::Invalid(e)
    }
}

/// `Json` whose rejections answer in the API's error shape.
#[derive(Debug, Clone, Copy, Default)]
pub struct AppJson<T>(pub T);

impl<S, T> FromRequest<S> for AppJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(v)) => Ok(Self(v)),
            Err(JsonRejection::MissingJsonContentType(_)) => {
                Err(ApiError::MalformedBody("expected Content-Type: application/json".into()))
            }
            Err(e) => Err(ApiError::MalformedBody(e.body_text())),
        }
    }
}

/// `Query` whose rejections answer in the API's error shape.
#[derive(Debug, Clone, Copy, Default)]
pub struct AppQuery<T>(pub T);

impl<S, T> FromRequestParts<S> for AppQuery<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|q| Self(q.0))
            .map_err(|e: QueryRejection| ApiError::MalformedRequest(e.body_text()))
    }
}

/// `Path` whose rejections answer in the API's error shape (a malformed id is a 400
/// `malformed_request`).
#[derive(Debug, Clone, Copy, Default)]
pub struct AppPath<T>(pub T);

impl<S, T> FromRequestParts<S> for AppPath<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|p| Self(p.0))
            .map_err(|e: PathRejection| ApiError::MalformedRequest(e.body_text()))
    }
}
