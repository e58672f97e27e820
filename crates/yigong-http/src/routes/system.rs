//! Health check.

use axum::Json;
use axum::extract::State;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::error::{ApiError, ErrorBody};

/// The routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(healthz))
}

/// Liveness and database reachability.
#[derive(Debug, Serialize, ToSchema)]
struct Health {
    /// `ok`.
    status: &'static str,
    /// `sqlite` or `postgres`.
    database: &'static str,
}

/// Whether the server and its database answer.
#[utoipa::path(get, path = "/healthz", tag = "system",
    responses((status = 200, body = Health), (status = 500, body = ErrorBody)))]
async fn healthz(State(ctx): State<AppState>) -> Result<Json<Health>, ApiError> {
    let database = ctx.health().await?;
    Ok(Json(Health { status: "ok", database }))
}
