//! `/api/v1/consortia/{consortium_id}/institutions`: member institutions, agencies and their
//! departments.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;
use yigong_app::registry::{self, InstitutionFilter};
use yigong_domain::Invalid;
use yigong_domain::facility::Tier;
use yigong_domain::ids::{ConsortiumId, DepartmentId, InstitutionId};

use crate::AppState;
use crate::auth::Caller;
use crate::dto::{DepartmentInput, DepartmentView, InstitutionInput, InstitutionView, MembershipView};
use crate::error::{ApiError, AppJson, AppPath, AppQuery, ErrorBody};
use crate::page::{PageQuery, PageView};

/// The routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(get, update))
        .routes(routes!(list_departments, create_department))
        .routes(routes!(update_department))
}

/// Filters of the institution list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct ListQuery {
    /// Part of the name, or the start of the code.
    q: Option<String>,
    /// Only this tier.
    tier: Option<String>,
    /// `member` or `agency`.
    kind: Option<String>,
    /// Only children of this institution.
    parent_id: Option<Uuid>,
    /// Only sites in this township (twelve-digit code).
    township_code: Option<String>,
    /// Only institutions without a parent (the top of the county tree).
    top_level: Option<bool>,
    /// Rows per page, 1 to 500 (default 50).
    page_size: Option<u32>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
}

impl ListQuery {
    fn filter(&self) -> Result<InstitutionFilter, ApiError> {
        let mut errors = Invalid::default();
        let tier = self.tier.as_deref().filter(|t| !t.is_empty()).and_then(|t| {
            let parsed = Tier::parse(t);
            if parsed.is_none() {
                errors.push("tier", "tier_unknown", format!("unknown tier {t:?}"));
            }
            parsed
        });
        let agency = match self.kind.as_deref() {
            None | Some("") => None,
            Some("member") => Some(false),
            Some("agency") => Some(true),
            Some(other) => {
                errors.push("kind", "kind_unknown", format!("kind is member or agency, not {other:?}"));
                None
            }
        };
        errors.into_result(())?;
        Ok(InstitutionFilter {
            query: self.q.clone().filter(|q| !q.trim().is_empty()).map(|q| q.trim().to_owned()),
            tier,
            agency,
            parent: self.parent_id.map(InstitutionId::from_uuid),
            township_code: self.township_code.clone().filter(|t| !t.is_empty()),
            top_level: self.top_level.unwrap_or(false),
        })
    }
}

/// Lists and searches institutions, ordered by code.
#[utoipa::path(get, path = "/api/v1/consortia/{consortium_id}/institutions", tag = "registry", security(("bearer" = [])),
    params(("consortium_id" = Uuid, Path, description = "Consortium id"), ListQuery),
    responses((status = 200, body = PageView<InstitutionView>), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn list(
    State(ctx): State<AppState>,
    caller: Caller,
    AppPath(consortium_id): AppPath<Uuid>,
    AppQuery(query): AppQuery<ListQuery>,
) -> Result<Json<PageView<InstitutionView>>, ApiError> {
    let page = PageQuery { page_size: query.page_size, cursor: query.cursor.clone() }.to_request()?;
    let filter = query.filter()?;
    let found = registry::list_institutions(
        &ctx,
        caller.actor(),
        ConsortiumId::from_uuid(consortium_id),
        &filter,
        &page,
    )
    .await?;
    Ok(Json(PageView::from_page(found, |i| InstitutionView::from(&i))))
}

/// Registers an institution (or an agency).
#[utoipa::path(post, path = "/api/v1/consortia/{consortium_id}/institutions", tag = "registry", security(("bearer" = [])),
    params(("consortium_id" = Uuid, Path, description = "Consortium id")), request_body = InstitutionInput,
    responses((status = 201, body = InstitutionView), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
async fn create(
    State(ctx): State<AppState>,
    caller: Caller,
    AppPath(consortium_id): AppPath<Uuid>,
    AppJson(body): AppJson<InstitutionInput>,
) -> Result<(StatusCode, Json<InstitutionView>), ApiError> {
    let i = registry::create_institution(
        &ctx,
        caller.actor(),
        ConsortiumId::from_uuid(consortium_id),
        body.into(),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(InstitutionView::from(&i))))
}

/// One institution with its membership history.
#[utoipa::path(get, path = "/api/v1/consortia/{consortium_id}/institutions/{institution_id}", tag = "registry", security(("bearer" = [])),
    params(("consortium_id" = Uuid, Path, description = "Consortium id"), ("institution_id" = Uuid, Path, description = "Institution id")),
    responses((status = 200, body = InstitutionView), (status = 404, body = ErrorBody)))]
async fn get(
    State(ctx): State<AppState>,
    caller: Caller,
    AppPath((consortium_id, id)): AppPath<(Uuid, Uuid)>,
) -> Result<Json<InstitutionView>, ApiError> {
    let (i, history) = registry::get_institution(
        &ctx,
        caller.actor(),
        ConsortiumId::from_uuid(consortium_id),
        InstitutionId::from_uuid(id),
    )
    .await?;
    let mut view = InstitutionView::from(&i);
    view.memberships = Some(history.iter().map(MembershipView::from).collect());
    Ok(Json(view))
}

/// Replaces an institution's fields.
#[utoipa::path(put, path = "/api/v1/consortia/{consortium_id}/institutions/{institution_id}", tag = "registry", security(("bearer" = [])),
    params(("consortium_id" = Uuid, Path, description = "Consortium id"), ("institution_id" = Uuid, Path, description = "Institution id")),
    request_body = InstitutionInput,
    responses((status = 200, body = InstitutionView), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
async fn update(
    State(ctx): State<AppState>,
    caller: Caller,
    AppPath((consortium_id, id)): AppPath<(Uuid, Uuid)>,
    AppJson(body): AppJson<InstitutionInput>,
) -> Result<Json<InstitutionView>, ApiError> {
    let i = registry::update_institution(
        &ctx,
        caller.actor(),
        ConsortiumId::from_uuid(consortium_id),
        InstitutionId::from_uuid(id),
        body.into(),
    )
    .await?;
    Ok(Json(InstitutionView::from(&i)))
}

/// Search within departments.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct DepartmentQuery {
    /// Part of the name, or the start of the subject code.
    q: Option<String>,
    /// Rows per page, 1 to 500 (default 50).
    page_size: Option<u32>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
}

/// Lists an institution's departments, ordered by name.
#[utoipa::path(get, path = "/api/v1/consortia/{consortium_id}/institutions/{institution_id}/departments", tag = "registry", security(("bearer" = [])),
    params(("consortium_id" = Uuid, Path, description = "Consortium id"), ("institution_id" = Uuid, Path, description = "Institution id"), DepartmentQuery),
    responses((status = 200, body = PageView<DepartmentView>), (status = 404, body = ErrorBody)))]
async fn list_departments(
    State(ctx): State<AppState>,
    caller: Caller,
    AppPath((consortium_id, id)): AppPath<(Uuid, Uuid)>,
    AppQuery(query): AppQuery<DepartmentQuery>,
) -> Result<Json<PageView<DepartmentView>>, ApiError> {
    let page = PageQuery { page_size: query.page_size, cursor: query.cursor.clone() }.to_request()?;
    let q = query.q.as_deref().map(str::trim).filter(|q| !q.is_empty());
    let found = registry::list_departments(
        &ctx,
        caller.actor(),
        ConsortiumId::from_uuid(consortium_id),
        InstitutionId::from_uuid(id),
        q,
        &page,
    )
    .await?;
    Ok(Json(PageView::from_page(found, |d| DepartmentView::from(&d))))
}

/// Adds a department.
#[utoipa::path(post, path = "/api/v1/consortia/{consortium_id}/institutions/{institution_id}/departments", tag = "registry", security(("bearer" = [])),
    params(("consortium_id" = Uuid, Path, description = "Consortium id"), ("institution_id" = Uuid, Path, description = "Institution id")),
    request_body = DepartmentInput,
    responses((status = 201, body = DepartmentView), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
async fn create_department(
    State(ctx): State<AppState>,
    caller: Caller,
    AppPath((consortium_id, id)): AppPath<(Uuid, Uuid)>,
    AppJson(body): AppJson<DepartmentInput>,
) -> Result<(StatusCode, Json<DepartmentView>), ApiError> {
    let d = registry::create_department(
        &ctx,
        caller.actor(),
        ConsortiumId::from_uuid(consortium_id),
        InstitutionId::from_uuid(id),
        body.into(),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(DepartmentView::from(&d))))
}

/// Replaces a department's fields.
#[utoipa::path(put, path = "/api/v1/consortia/{consortium_id}/institutions/{institution_id}/departments/{department_id}", tag = "registry", security(("bearer" = [])),
    params(("consortium_id" = Uuid, Path, description = "Consortium id"), ("institution_id" = Uuid, Path, description = "Institution id"),
        ("department_id" = Uuid, Path, description = "Department id")),
    request_body = DepartmentInput,
    responses((status = 200, body = DepartmentView), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
async fn update_department(
    State(ctx): State<AppState>,
    caller: Caller,
    AppPath((consortium_id, id, department_id)): AppPath<(Uuid, Uuid, Uuid)>,
    AppJson(body): AppJson<DepartmentInput>,
) -> Result<Json<DepartmentView>, ApiError> {
    let d = registry::update_department(
        &ctx,
        caller.actor(),
        ConsortiumId::from_uuid(consortium_id),
        InstitutionId::from_uuid(id),
        DepartmentId::from_uuid(department_id),
        body.into(),
    )
    .await?;
    Ok(Json(DepartmentView::from(&d)))
}
