//! `/api/v1/auth`: bearer tokens, the caller's own account, and break-glass.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::http::request::Parts;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;
use yigong_app::auth::{self, SessionKind};

use crate::AppState;
use crate::auth::{Caller, client_ip, request_id};
use crate::error::{ApiError, AppJson, ErrorBody};

/// The routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(issue_token, revoke_token))
        .routes(routes!(me))
        .routes(routes!(change_password))
        .routes(routes!(break_glass))
}

/// Credentials for a token.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenRequest {
    /// Login name.
    pub username: String,
    /// Password.
    pub password: String,
}

/// A bearer token.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenResponse {
    /// Present as `Authorization: Bearer <access_token>`.
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// Seconds until it expires.
    pub expires_in: i64,
}

/// Request parts a login needs besides the body: client address (for throttling) and
/// request id.
pub(crate) struct ClientInfo {
    pub(crate) ip: Option<std::net::IpAddr>,
    pub(crate) request_id: Option<String>,
}

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for ClientInfo {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Self { ip: client_ip(parts), request_id: request_id(&parts.headers) })
    }
}

/// Issues a bearer token for the API and FHIR. Wrong password and unknown user get the same
/// answer; repeated failures lock the account for 15 minutes.
#[utoipa::path(post, path = "/api/v1/auth/token", tag = "auth", request_body = TokenRequest,
    responses((status = 200, body = TokenResponse), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 422, body = ErrorBody), (status = 429, body = ErrorBody)))]
async fn issue_token(
    State(ctx): State<AppState>,
    client: ClientInfo,
    AppJson(body): AppJson<TokenRequest>,
) -> Result<Json<TokenResponse>, ApiError> {
    let max = auth::MAX_CREDENTIAL_LEN;
    if body.username.is_empty()
        || body.password.is_empty()
        || body.username.len() > max
        || body.password.len() > max
    {
        return Err(ApiError::MalformedRequest(format!("username and password are 1 to {max} bytes")));
    }
    let issued =
        auth::login(&ctx, &body.username, &body.password, SessionKind::Api, client.ip, client.request_id)
            .await?;
    let expires_in = (issued.expires_at - ctx.clock.now()).num_seconds();
    Ok(Json(TokenResponse { access_token: issued.secret, token_type: "Bearer", expires_in }))
}

/// Revokes the presented token (or ends the session); it stops working at once.
#[utoipa::path(delete, path = "/api/v1/auth/token", tag = "auth", security(("bearer" = [])),
    responses((status = 204), (status = 401, body = ErrorBody)))]
async fn revoke_token(State(ctx): State<AppState>, caller: Caller) -> Result<StatusCode, ApiError> {
    auth::logout(&ctx, &caller.session).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// One role grant of the caller.
#[derive(Debug, Serialize, ToSchema)]
pub struct RoleView {
    /// Grant id (to switch to it).
    pub user_role_id: Uuid,
    /// Role.
    pub role: &'static str,
    /// Acting institution.
    pub institution_id: Option<Uuid>,
    /// Scope kind.
    pub scope: &'static str,
}

impl From<&auth::RoleGrant> for RoleView {
    fn from(g: &auth::RoleGrant) -> Self {
        Self {
            user_role_id: g.user_role_id,
            role: g.role.as_str(),
            institution_id: g.institution_id.map(|i| i.as_uuid()),
            scope: g.scope_kind.as_str(),
        }
    }
}

/// The caller's account and the role in effect.
#[derive(Debug, Serialize, ToSchema)]
pub struct MeView {
    /// Account id.
    pub user_id: Uuid,
    /// Login name.
    pub username: String,
    /// Name shown.
    pub display_name: String,
    /// Consortium.
    pub consortium_id: Uuid,
    /// Role in effect.
    pub role: &'static str,
    /// Acting institution.
    pub institution_id: Option<Uuid>,
    /// Scope kind in effect.
    pub scope: &'static str,
    /// UI language.
    pub language: String,
    /// Every active grant.
    pub roles: Vec<RoleView>,
}

/// Who the caller is.
#[utoipa::path(get, path = "/api/v1/auth/me", tag = "auth", security(("bearer" = [])),
    responses((status = 200, body = MeView), (status = 401, body = ErrorBody)))]
async fn me(caller: Caller) -> Json<MeView> {
    let s = &caller.session;
    Json(MeView {
        user_id: s.actor.user_id,
        username: s.username.clone(),
        display_name: s.display_name.clone(),
        consortium_id: s.actor.consortium_id.as_uuid(),
        role: s.actor.role.as_str(),
        institution_id: s.actor.institution_id.map(|i| i.as_uuid()),
        scope: s.actor.scope_kind.as_str(),
        language: s.language.clone(),
        roles: s.grants.iter().map(RoleView::from).collect(),
    })
}

/// A password change.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordChange {
    /// The current password.
    pub current_password: String,
    /// The new password: 10 to 128 characters with letters and digits.
    pub new_password: String,
}

/// Changes the caller's password; every other session of the account ends.
#[utoipa::path(put, path = "/api/v1/auth/password", tag = "auth", security(("bearer" = [])), request_body = PasswordChange,
    responses((status = 204), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn change_password(
    State(ctx): State<AppState>,
    caller: Caller,
    AppJson(body): AppJson<PasswordChange>,
) -> Result<StatusCode, ApiError> {
    auth::change_password(&ctx, &caller.session, &body.current_password, &body.new_password).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// An emergency access request.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BreakGlassRequest {
    /// The patient.
    pub patient_id: Uuid,
    /// Reason code, e.g. `emergency_treatment`.
    pub reason_code: String,
    /// Reason in words (mandatory).
    pub reason_text: String,
}

/// The emergency grant.
#[derive(Debug, Serialize, ToSchema)]
pub struct BreakGlassView {
    /// Id of the break-glass record.
    pub break_glass_id: Uuid,
    /// Patient.
    pub patient_id: Uuid,
    /// Until when the record is open.
    pub valid_until: chrono::DateTime<chrono::Utc>,
}

/// Opens one patient's record for four hours in an emergency, with a mandatory reason; the use
/// is audited and reviewed.
#[utoipa::path(post, path = "/api/v1/break-glass", tag = "auth", security(("bearer" = [])), request_body = BreakGlassRequest,
    responses((status = 201, body = BreakGlassView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
async fn break_glass(
    State(ctx): State<AppState>,
    caller: Caller,
    AppJson(body): AppJson<BreakGlassRequest>,
) -> Result<(StatusCode, Json<BreakGlassView>), ApiError> {
    let grant =
        auth::open_break_glass(&ctx, caller.actor(), body.patient_id, &body.reason_code, &body.reason_text)
            .await?;
    Ok((
        StatusCode::CREATED,
        Json(BreakGlassView {
            break_glass_id: grant.source_id,
            patient_id: body.patient_id,
            valid_until: grant.valid_until,
        }),
    ))
}
