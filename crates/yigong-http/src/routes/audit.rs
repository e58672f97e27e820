//! `/api/v1/consortia/{consortium_id}/audit`: the audit viewer and its CSV export.

use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;
use yigong_app::audit::AuditRow;
use yigong_app::audit::{self, AuditFilter};
use yigong_domain::Invalid;
use yigong_domain::ids::{ConsortiumId, InstitutionId};
use yigong_domain::page::PageRequest;

use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, AppPath, AppQuery, ErrorBody};
use crate::page::{PageQuery, PageView};

/// The routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list)).routes(routes!(export))
}

/// Filters of the audit viewer.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// Only rows about this patient.
    pub patient_id: Option<Uuid>,
    /// Only rows by this account.
    pub actor_user_id: Option<Uuid>,
    /// Only rows at this acting institution.
    pub institution_id: Option<Uuid>,
    /// Only this basis (`own_institution`, `dispatch`, `break_glass`, …).
    pub basis: Option<String>,
    /// `allowed` or `denied`.
    pub outcome: Option<String>,
    /// From (RFC 3339, inclusive).
    pub from: Option<DateTime<Utc>>,
    /// Until (RFC 3339, exclusive).
    pub until: Option<DateTime<Utc>>,
    /// Rows per page, 1 to 500 (default 50).
    pub page_size: Option<u32>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

impl AuditQuery {
    /// The filter, checked.
    pub fn filter(&self) -> Result<AuditFilter, ApiError> {
        if let Some(o) = self.outcome.as_deref().filter(|o| !o.is_empty())
            && !matches!(o, "allowed" | "denied")
        {
            return Err(Invalid::one("outcome", "outcome_unknown", "outcome is allowed or denied").into());
        }
        Ok(AuditFilter {
            patient_id: self.patient_id,
            actor_user_id: self.actor_user_id,
            institution_id: self.institution_id.map(InstitutionId::from_uuid),
            basis: self.basis.clone().filter(|b| !b.is_empty()),
            outcome: self.outcome.clone().filter(|o| !o.is_empty()),
            from: self.from,
            until: self.until,
        })
    }

    /// The page request; audit cursors must carry a time and an id.
    pub fn page(&self) -> Result<PageRequest, ApiError> {
        let page = PageQuery { page_size: self.page_size, cursor: self.cursor.clone() }.to_request()?;
        if let Some(after) = &page.after {
            let ok = after.split_once('|').is_some_and(|(t, id)| {
                DateTime::parse_from_rfc3339(t).is_ok() && Uuid::parse_str(id).is_ok()
            });
            if !ok {
                return Err(ApiError::MalformedRequest("cursor is not one this server issued".into()));
            }
        }
        Ok(page)
    }
}

/// One audit row.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditView {
    /// Row id.
    pub audit_id: Uuid,
    /// When.
    pub recorded_at: DateTime<Utc>,
    /// Who.
    pub actor_user_id: Option<Uuid>,
    /// Role.
    pub actor_role: Option<String>,
    /// Acting institution.
    pub institution_id: Option<Uuid>,
    /// Action.
    pub action: String,
    /// Resource type.
    pub resource_type: String,
    /// Resource id.
    pub resource_id: Option<String>,
    /// Patient.
    pub patient_id: Option<Uuid>,
    /// Basis.
    pub basis: String,
    /// `allowed` or `denied`.
    pub outcome: String,
    /// Request id.
    pub request_id: Option<String>,
    /// Codes and ids.
    pub detail: Option<String>,
    /// Position in the chain, once sealed.
    pub seq: Option<i64>,
}

impl From<&AuditRow> for AuditView {
    fn from(r: &AuditRow) -> Self {
        Self {
            audit_id: r.audit_id,
            recorded_at: r.recorded_at,
            actor_user_id: r.actor_user_id,
            actor_role: r.actor_role.clone(),
            institution_id: r.institution_id,
            action: r.action.clone(),
            resource_type: r.resource_type.clone(),
            resource_id: r.resource_id.clone(),
            patient_id: r.patient_id,
            basis: r.basis.clone(),
            outcome: r.outcome.clone(),
            request_id: r.request_id.clone(),
            detail: r.detail.clone(),
            seq: r.seq,
        }
    }
}

/// Searches the audit trail, newest first.
#[utoipa::path(get, path = "/api/v1/consortia/{consortium_id}/audit", tag = "access", security(("bearer" = [])),
    params(("consortium_id" = Uuid, Path, description = "Consortium id"), AuditQuery),
    responses((status = 200, body = PageView<AuditView>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
async fn list(
    State(ctx): State<AppState>,
    caller: Caller,
    AppPath(consortium_id): AppPath<Uuid>,
    AppQuery(query): AppQuery<AuditQuery>,
) -> Result<Json<PageView<AuditView>>, ApiError> {
    let found = audit::list(
        &ctx,
        caller.actor(),
        ConsortiumId::from_uuid(consortium_id),
        &query.filter()?,
        &query.page()?,
    )
    .await?;
    Ok(Json(PageView::from_page(found, |r| AuditView::from(&r))))
}

/// Exports the filtered audit trail as CSV (up to 100,000 rows, newest first); the export is
/// itself audited.
#[utoipa::path(get, path = "/api/v1/consortia/{consortium_id}/audit/export.csv", tag = "access", security(("bearer" = [])),
    params(("consortium_id" = Uuid, Path, description = "Consortium id"), AuditQuery),
    responses((status = 200, description = "CSV", content_type = "text/csv"), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody)))]
async fn export(
    State(ctx): State<AppState>,
    caller: Caller,
    AppPath(consortium_id): AppPath<Uuid>,
    AppQuery(query): AppQuery<AuditQuery>,
) -> Result<Response, ApiError> {
    let rows = audit::export(
        &ctx,
        caller.actor(),
        ConsortiumId::from_uuid(consortium_id),
        &query.filter()?,
        100_000,
    )
    .await?;
    let mut out = format!("{}\n", audit::CSV_HEADER);
    for r in &rows {
        out.push_str(&audit::csv_line(r));
        out.push('\n');
    }
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (header::CONTENT_DISPOSITION, "attachment; filename=\"audit.csv\""),
        ],
        out,
    )
        .into_response())
}
