//! `/api/v1/persons/{person_id}/record`: the patient's 360° view as JSON — one timeline across
//! every facility of the consortium, filtered by what the caller may see and audited.

use axum::Json;
use axum::extract::State;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;
use yigong_app::record::{self, TimelineQuery};
use yigong_domain::Invalid;
use yigong_domain::ids::{InstitutionId, PersonId};

use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, AppPath, AppQuery, ErrorBody};

/// The routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(get_record))
}

/// Filters of the timeline.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct RecordQuery {
    /// Only these kinds, comma-separated FHIR types (`Encounter,Observation`); all when absent.
    kind: Option<String>,
    /// Only this institution.
    institution_id: Option<Uuid>,
    /// From this day (China time), `YYYY-MM-DD`.
    from: Option<NaiveDate>,
    /// Up to and including this day.
    to: Option<NaiveDate>,
    /// Entries per page, 1 to 500 (default 100).
    page_size: Option<i64>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
}

/// One entry of the timeline.
#[derive(Debug, Serialize, ToSchema)]
pub struct EntryView {
    /// FHIR type (`Encounter`, `Observation`, …); the resource is at `/fhir/{type}/{id}`.
    resource_type: String,
    /// FHIR id.
    id: String,
    /// When it happened.
    occurred_at: DateTime<Utc>,
    /// Where.
    institution_id: Option<Uuid>,
    /// The institution's name.
    institution_name: Option<String>,
    /// What: the code's text or display.
    title: Option<String>,
    /// Value or detail (`142/91 mmHg`, the dosage, the class of a visit).
    detail: Option<String>,
    /// Status.
    status: Option<String>,
    /// Interpretation flag of a result (`H`, `L`, …).
    flag: Option<String>,
}

/// A page of the timeline.
#[derive(Debug, Serialize, ToSchema)]
pub struct RecordView {
    /// Whose.
    person_id: Uuid,
    /// Why the caller may see it (`own_institution`, `referral`, `dispatch`, `break_glass`, …).
    basis: String,
    /// Kinds the basis shows.
    kinds: Vec<String>,
    /// Entries, newest first.
    items: Vec<EntryView>,
    /// Cursor of the next (older) page.
    next_cursor: Option<String>,
    /// Institutions where the person has been seen: (id, name).
    institutions: Vec<(Uuid, String)>,
    /// How many entries of each kind the record holds.
    counts: Vec<(String, i64)>,
}

/// One person's record across every facility, newest first.
#[utoipa::path(get, path = "/api/v1/persons/{person_id}/record", tag = "record", security(("bearer" = [])),
    params(("person_id" = Uuid, Path, description = "Person (master patient index)"), RecordQuery),
    responses((status = 200, body = RecordView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
async fn get_record(
    State(ctx): State<AppState>,
    caller: Caller,
    AppPath(id): AppPath<Uuid>,
    AppQuery(q): AppQuery<RecordQuery>,
) -> Result<Json<RecordView>, ApiError> {
    let limit = q.page_size.unwrap_or(100);
    if !(1..=record::TIMELINE_MAX_ENTRIES).contains(&limit) {
        return Err(Invalid::one("page_size", "out_of_range", "page_size must be 1 to 500").into());
    }
    let types: Vec<String> = q
        .kind
        .as_deref()
        .unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    if let Some(bad) = types.iter().find(|t| !record::TIMELINE_KINDS.contains(&t.as_str())) {
        return Err(Invalid::one("kind", "unknown_kind", format!("{bad} is not a kind of the record")).into());
    }
    let query = TimelineQuery {
        types,
        institutions: q.institution_id.map(InstitutionId::from_uuid).into_iter().collect(),
        from: q.from,
        to: q.to,
        cursor: q.cursor,
        limit,
    };
    let t = record::timeline(&ctx, caller.actor(), PersonId::from_uuid(id), &query).await?;
    Ok(Json(RecordView {
        person_id: id,
        basis: t.basis.as_str().to_owned(),
        kinds: t.visible_kinds.iter().map(|k| (*k).to_owned()).collect(),
        items: t
            .entries
            .into_iter()
            .map(|e| EntryView {
                resource_type: e.resource_type,
                id: e.id,
                occurred_at: e.occurred,
                institution_id: e.institution_id.map(|i| i.as_uuid()),
                institution_name: e.institution_name,
                title: e.summary.title,
                detail: e.summary.detail,
                status: e.summary.status,
                flag: e.summary.flag,
            })
            .collect(),
        next_cursor: t.next_cursor,
        institutions: t.institutions.into_iter().map(|(i, n)| (i.as_uuid(), n)).collect(),
        counts: t.counts,
    }))
}
