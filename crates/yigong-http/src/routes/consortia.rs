//! `/api/v1/consortia`: the tenants.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;
use yigong_app::registry;
use yigong_domain::ids::ConsortiumId;

use crate::AppState;
use crate::auth::Caller;
use crate::dto::{ConsortiumView, CreateConsortium};
use crate::error::{ApiError, AppJson, AppPath, ErrorBody};

/// The routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list, create)).routes(routes!(get))
}

/// Every consortium of the deployment.
#[utoipa::path(get, path = "/api/v1/consortia", tag = "registry", security(("bearer" = [])),
    responses((status = 200, body = Vec<ConsortiumView>)))]
async fn list(State(ctx): State<AppState>, caller: Caller) -> Result<Json<Vec<ConsortiumView>>, ApiError> {
    let all = registry::list_consortia(&ctx, caller.actor()).await?;
    Ok(Json(all.iter().map(ConsortiumView::from).collect()))
}

/// Registers a consortium.
#[utoipa::path(post, path = "/api/v1/consortia", tag = "registry", security(("bearer" = [])), request_body = CreateConsortium,
    responses((status = 201, body = ConsortiumView), (status = 400, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create(
    State(ctx): State<AppState>,
    caller: Caller,
    AppJson(body): AppJson<CreateConsortium>,
) -> Result<(StatusCode, Json<ConsortiumView>), ApiError> {
    let c = registry::create_consortium(&ctx, caller.actor(), body.into()).await?;
    Ok((StatusCode::CREATED, Json(ConsortiumView::from(&c))))
}

/// One consortium.
#[utoipa::path(get, path = "/api/v1/consortia/{consortium_id}", tag = "registry", security(("bearer" = [])),
    params(("consortium_id" = Uuid, Path, description = "Consortium id")),
    responses((status = 200, body = ConsortiumView), (status = 404, body = ErrorBody)))]
async fn get(
    State(ctx): State<AppState>,
    caller: Caller,
    AppPath(id): AppPath<Uuid>,
) -> Result<Json<ConsortiumView>, ApiError> {
    let c = registry::get_consortium(&ctx, caller.actor(), ConsortiumId::from_uuid(id)).await?;
    Ok(Json(ConsortiumView::from(&c)))
}
