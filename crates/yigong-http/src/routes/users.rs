//! `/api/v1/consortia/{consortium_id}/users`: user administration.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;
use yigong_app::auth::{self, UserDraft, UserSummary};
use yigong_domain::ids::{ConsortiumId, InstitutionId, StaffId};

use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, AppJson, AppPath, AppQuery, ErrorBody};
use crate::page::{PageQuery, PageView};
use crate::routes::auth::RoleView;

/// The routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list, create)).routes(routes!(disable)).routes(routes!(enable))
}

/// A new account.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUser {
    /// Login name: 3 to 32 of a-z, 0-9, `.`, `_`, `-`.
    pub username: String,
    /// Name shown in the UI.
    pub display_name: String,
    /// Initial password (10 to 128 characters, letters and digits).
    pub password: String,
    /// Role identifier, e.g. `township_doctor`.
    pub role: String,
    /// Acting institution.
    pub institution_id: Option<Uuid>,
    /// Staff record behind the account.
    pub staff_id: Option<Uuid>,
}

/// An account (never its password hash).
#[derive(Debug, Serialize, ToSchema)]
pub struct UserView {
    /// Id.
    pub user_id: Uuid,
    /// Login name.
    pub username: String,
    /// Name shown.
    pub display_name: String,
    /// Staff record.
    pub staff_id: Option<Uuid>,
    /// Disabled.
    pub disabled: bool,
    /// Locked after failed logins, until this instant.
    pub locked_until: Option<chrono::DateTime<chrono::Utc>>,
    /// Role grants.
    pub roles: Vec<RoleView>,
    /// Created.
    pub created_at: chrono::DateTime<chrono::Utc>,
}

impl From<&UserSummary> for UserView {
    fn from(u: &UserSummary) -> Self {
        Self {
            user_id: u.account.user_id,
            username: u.account.username.clone(),
            display_name: u.account.display_name.clone(),
            staff_id: u.account.staff_id.map(|s| s.as_uuid()),
            disabled: u.account.disabled,
            locked_until: u.account.locked_until,
            roles: u.roles.iter().map(RoleView::from).collect(),
            created_at: u.account.created_at,
        }
    }
}

/// Search within accounts.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct ListQuery {
    /// Part of the login or display name.
    q: Option<String>,
    /// Rows per page, 1 to 500 (default 50).
    page_size: Option<u32>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
}

/// Lists accounts (administrators).
#[utoipa::path(get, path = "/api/v1/consortia/{consortium_id}/users", tag = "access", security(("bearer" = [])),
    params(("consortium_id" = Uuid, Path, description = "Consortium id"), ListQuery),
    responses((status = 200, body = PageView<UserView>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn list(
    State(ctx): State<AppState>,
    caller: Caller,
    AppPath(consortium_id): AppPath<Uuid>,
    AppQuery(query): AppQuery<ListQuery>,
) -> Result<Json<PageView<UserView>>, ApiError> {
    let page = PageQuery { page_size: query.page_size, cursor: query.cursor.clone() }.to_request()?;
    let q = query.q.as_deref().map(str::trim).filter(|q| !q.is_empty());
    let found =
        auth::list_users(&ctx, caller.actor(), ConsortiumId::from_uuid(consortium_id), q, &page).await?;
    Ok(Json(PageView::from_page(found, |u| UserView::from(&u))))
}

/// Creates an account with one role.
#[utoipa::path(post, path = "/api/v1/consortia/{consortium_id}/users", tag = "access", security(("bearer" = [])),
    params(("consortium_id" = Uuid, Path, description = "Consortium id")), request_body = CreateUser,
    responses((status = 201, body = UserView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
async fn create(
    State(ctx): State<AppState>,
    caller: Caller,
    AppPath(consortium_id): AppPath<Uuid>,
    AppJson(body): AppJson<CreateUser>,
) -> Result<(StatusCode, Json<UserView>), ApiError> {
    let draft = UserDraft {
        username: body.username,
        display_name: body.display_name,
        password: body.password,
        role: body.role,
        institution_id: body.institution_id.map(InstitutionId::from_uuid),
        staff_id: body.staff_id.map(StaffId::from_uuid),
    };
    let user = auth::create_user(&ctx, caller.actor(), ConsortiumId::from_uuid(consortium_id), draft).await?;
    Ok((StatusCode::CREATED, Json(UserView::from(&user))))
}

/// Disables an account; its sessions and tokens stop working at once.
#[utoipa::path(post, path = "/api/v1/consortia/{consortium_id}/users/{user_id}/disable", tag = "access", security(("bearer" = [])),
    params(("consortium_id" = Uuid, Path, description = "Consortium id"), ("user_id" = Uuid, Path, description = "Account id")),
    responses((status = 200, body = UserView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
async fn disable(
    State(ctx): State<AppState>,
    caller: Caller,
    AppPath((consortium_id, user_id)): AppPath<(Uuid, Uuid)>,
) -> Result<Json<UserView>, ApiError> {
    let user =
        auth::set_disabled(&ctx, caller.actor(), ConsortiumId::from_uuid(consortium_id), user_id, true)
            .await?;
    Ok(Json(UserView::from(&user)))
}

/// Enables an account again (and clears a lockout).
#[utoipa::path(post, path = "/api/v1/consortia/{consortium_id}/users/{user_id}/enable", tag = "access", security(("bearer" = [])),
    params(("consortium_id" = Uuid, Path, description = "Consortium id"), ("user_id" = Uuid, Path, description = "Account id")),
    responses((status = 200, body = UserView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
async fn enable(
    State(ctx): State<AppState>,
    caller: Caller,
    AppPath((consortium_id, user_id)): AppPath<(Uuid, Uuid)>,
) -> Result<Json<UserView>, ApiError> {
    let user =
        auth::set_disabled(&ctx, caller.actor(), ConsortiumId::from_uuid(consortium_id), user_id, false)
            .await?;
    Ok(Json(UserView::from(&user)))
}
