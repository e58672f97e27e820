//! `/api/v1/consortia/{consortium_id}/staff`: the staff registry and postings.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::NaiveDate;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;
use yigong_app::registry::{self, StaffFilter};
use yigong_domain::Invalid;
use yigong_domain::ids::{ConsortiumId, InstitutionId, PostingId, StaffId};
use yigong_domain::staffing::StaffCategory;

use crate::AppState;
use crate::auth::Caller;
use crate::dto::{PostingInput, PostingView, StaffInput, StaffView, TitleView};
use crate::error::{ApiError, AppJson, AppPath, AppQuery, ErrorBody};
use crate::page::{PageQuery, PageView};

/// The routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(get, update))
        .routes(routes!(list_postings, create_posting))
        .routes(routes!(update_posting))
}

/// Filters of the staff list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct ListQuery {
    /// Part of the name, or the start of the staff number.
    q: Option<String>,
    /// Only staff posted at this institution on `on`.
    institution_id: Option<Uuid>,
    /// Day the postings are evaluated on (default today, China time).
    on: Option<NaiveDate>,
    /// Only this category.
    category: Option<String>,
    /// Rows per page, 1 to 500 (default 50).
    page_size: Option<u32>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
}

/// Lists and searches staff, ordered by staff number.
#[utoipa::path(get, path = "/api/v1/consortia/{consortium_id}/staff", tag = "registry", security(("bearer" = [])),
    params(("consortium_id" = Uuid, Path, description = "Consortium id"), ListQuery),
    responses((status = 200, body = PageView<StaffView>), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn list(
    State(ctx): State<AppState>,
    caller: Caller,
    AppPath(consortium_id): AppPath<Uuid>,
    AppQuery(query): AppQuery<ListQuery>,
) -> Result<Json<PageView<StaffView>>, ApiError> {
    let page = PageQuery { page_size: query.page_size, cursor: query.cursor.clone() }.to_request()?;
    let category = match query.category.as_deref().filter(|c| !c.is_empty()) {
        None => None,
        Some(c) => Some(StaffCategory::parse(c).ok_or_else(|| {
            Invalid::one("category", "staff_category_unknown", format!("unknown staff category {c:?}"))
        })?),
    };
    let filter = StaffFilter {
        query: query.q.clone().map(|q| q.trim().to_owned()).filter(|q| !q.is_empty()),
        institution: query.institution_id.map(InstitutionId::from_uuid),
        on: query.on,
        category,
    };
    let found =
        registry::list_staff(&ctx, caller.actor(), ConsortiumId::from_uuid(consortium_id), &filter, &page)
            .await?;
    Ok(Json(PageView::from_page(found, |s| StaffView::from(&s))))
}

/// Registers a staff member.
#[utoipa::path(post, path = "/api/v1/consortia/{consortium_id}/staff", tag = "registry", security(("bearer" = [])),
    params(("consortium_id" = Uuid, Path, description = "Consortium id")), request_body = StaffInput,
    responses((status = 201, body = StaffView), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
async fn create(
    State(ctx): State<AppState>,
    caller: Caller,
    AppPath(consortium_id): AppPath<Uuid>,
    AppJson(body): AppJson<StaffInput>,
) -> Result<(StatusCode, Json<StaffView>), ApiError> {
    let s = registry::create_staff(&ctx, caller.actor(), ConsortiumId::from_uuid(consortium_id), body.into())
        .await?;
    Ok((StatusCode::CREATED, Json(StaffView::from(&s))))
}

/// One staff member with the title history.
#[utoipa::path(get, path = "/api/v1/consortia/{consortium_id}/staff/{staff_id}", tag = "registry", security(("bearer" = [])),
    params(("consortium_id" = Uuid, Path, description = "Consortium id"), ("staff_id" = Uuid, Path, description = "Staff id")),
    responses((status = 200, body = StaffView), (status = 404, body = ErrorBody)))]
async fn get(
    State(ctx): State<AppState>,
    caller: Caller,
    AppPath((consortium_id, id)): AppPath<(Uuid, Uuid)>,
) -> Result<Json<StaffView>, ApiError> {
    let (s, titles) = registry::get_staff(
        &ctx,
        caller.actor(),
        ConsortiumId::from_uuid(consortium_id),
        StaffId::from_uuid(id),
    )
    .await?;
    let mut view = StaffView::from(&s);
    view.titles = Some(titles.iter().map(TitleView::from).collect());
    Ok(Json(view))
}

/// Replaces a staff member's fields; a new title extends the history.
#[utoipa::path(put, path = "/api/v1/consortia/{consortium_id}/staff/{staff_id}", tag = "registry", security(("bearer" = [])),
    params(("consortium_id" = Uuid, Path, description = "Consortium id"), ("staff_id" = Uuid, Path, description = "Staff id")),
    request_body = StaffInput,
    responses((status = 200, body = StaffView), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
async fn update(
    State(ctx): State<AppState>,
    caller: Caller,
    AppPath((consortium_id, id)): AppPath<(Uuid, Uuid)>,
    AppJson(body): AppJson<StaffInput>,
) -> Result<Json<StaffView>, ApiError> {
    let s = registry::update_staff(
        &ctx,
        caller.actor(),
        ConsortiumId::from_uuid(consortium_id),
        StaffId::from_uuid(id),
        body.into(),
    )
    .await?;
    Ok(Json(StaffView::from(&s)))
}

/// Lists a staff member's postings, newest first.
#[utoipa::path(get, path = "/api/v1/consortia/{consortium_id}/staff/{staff_id}/postings", tag = "registry", security(("bearer" = [])),
    params(("consortium_id" = Uuid, Path, description = "Consortium id"), ("staff_id" = Uuid, Path, description = "Staff id"), PageQuery),
    responses((status = 200, body = PageView<PostingView>), (status = 404, body = ErrorBody)))]
async fn list_postings(
    State(ctx): State<AppState>,
    caller: Caller,
    AppPath((consortium_id, id)): AppPath<(Uuid, Uuid)>,
    AppQuery(query): AppQuery<PageQuery>,
) -> Result<Json<PageView<PostingView>>, ApiError> {
    let page = query.to_request()?;
    if let Some(after) = &page.after
        && Uuid::parse_str(after).is_err()
    {
        return Err(ApiError::MalformedRequest("cursor is not one this server issued".into()));
    }
    let found = registry::list_postings(
        &ctx,
        caller.actor(),
        ConsortiumId::from_uuid(consortium_id),
        StaffId::from_uuid(id),
        &page,
    )
    .await?;
    Ok(Json(PageView::from_page(found, |p| PostingView::from(&p))))
}

/// Posts a staff member at an institution for a period.
#[utoipa::path(post, path = "/api/v1/consortia/{consortium_id}/staff/{staff_id}/postings", tag = "registry", security(("bearer" = [])),
    params(("consortium_id" = Uuid, Path, description = "Consortium id"), ("staff_id" = Uuid, Path, description = "Staff id")),
    request_body = PostingInput,
    responses((status = 201, body = PostingView), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
async fn create_posting(
    State(ctx): State<AppState>,
    caller: Caller,
    AppPath((consortium_id, id)): AppPath<(Uuid, Uuid)>,
    AppJson(body): AppJson<PostingInput>,
) -> Result<(StatusCode, Json<PostingView>), ApiError> {
    let p = registry::create_posting(
        &ctx,
        caller.actor(),
        ConsortiumId::from_uuid(consortium_id),
        StaffId::from_uuid(id),
        body.into(),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(PostingView::from(&p))))
}

/// Replaces a posting's fields (for example, ends it early).
#[utoipa::path(put, path = "/api/v1/consortia/{consortium_id}/staff/{staff_id}/postings/{posting_id}", tag = "registry", security(("bearer" = [])),
    params(("consortium_id" = Uuid, Path, description = "Consortium id"), ("staff_id" = Uuid, Path, description = "Staff id"),
        ("posting_id" = Uuid, Path, description = "Posting id")),
    request_body = PostingInput,
    responses((status = 200, body = PostingView), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
async fn update_posting(
    State(ctx): State<AppState>,
    caller: Caller,
    AppPath((consortium_id, id, posting_id)): AppPath<(Uuid, Uuid, Uuid)>,
    AppJson(body): AppJson<PostingInput>,
) -> Result<Json<PostingView>, ApiError> {
    let p = registry::update_posting(
        &ctx,
        caller.actor(),
        ConsortiumId::from_uuid(consortium_id),
        StaffId::from_uuid(id),
        PostingId::from_uuid(posting_id),
        body.into(),
    )
    .await?;
    Ok(Json(PostingView::from(&p)))
}
