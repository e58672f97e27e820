//! `/api/v1/exams` and the reading centres: exam orders placed at grassroots sites (with the
//! mutual-recognition prompt), the centres' worklists, every transition of an item (claim,
//! release, assign, reports with signatures, amendments…), the specimen chain, critical values,
//! the catalogue of orderable items with producers' QC, report templates and the metrics.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;
use yigong_app::reading::{self, Answer, Change, CriticalAction, OrderDraft, OrderView, WorkItem};
use yigong_app::reading::{Critical, ExamOrder, Item, Report, WorklistFilter};
use yigong_domain::Invalid;
use yigong_domain::ids::{InstitutionId, PatientRecordId};
use yigong_domain::page::PageRequest;
use yigong_domain::reading::report::{FieldKind, ReportDraft, template};
use yigong_domain::reading::{
    Centre, Disposition, ExamKind, ItemState, ItemTransition, QualityReason, RecognitionKind,
    RecognitionScope, RetestGround, SpecimenStep, Urgency,
};

use super::referrals::RatioView;
use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, AppJson, AppPath, AppQuery, ErrorBody};

/// The routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_exams, place_exam))
        .routes(routes!(recognition_prompt))
        .routes(routes!(get_exam))
        .routes(routes!(transition_exam))
        .routes(routes!(complete_exam))
        .routes(routes!(specimen_step))
        .routes(routes!(worklist))
        .routes(routes!(list_criticals))
        .routes(routes!(critical_step))
        .routes(routes!(list_items))
        .routes(routes!(put_item))
        .routes(routes!(put_qc))
        .routes(routes!(get_template))
        .routes(routes!(signing_key))
        .routes(routes!(get_metrics))
}

fn parse<T>(
    field: &'static str,
    value: &str,
    f: impl Fn(&str) -> Option<T>,
    allowed: &str,
) -> Result<T, ApiError> {
    f(value).ok_or_else(|| Invalid::one(field, "unknown_code", format!("expected one of: {allowed}")).into())
}

fn codes<T: Copy>(all: &[T], name: impl Fn(T) -> &'static str) -> String {
    all.iter().map(|t| name(*t)).collect::<Vec<_>>().join(", ")
}

fn page(size: Option<u32>, cursor: Option<String>) -> Result<PageRequest, ApiError> {
    let size = size.unwrap_or(50);
    if !(1..=200).contains(&size) {
        return Err(Invalid::one("page_size", "out_of_range", "page_size must be 1 to 200").into());
    }
    Ok(PageRequest { size, after: cursor })
}

/// An exam item as stored (no demographics: those are on the patient's record).
#[derive(Debug, Serialize, ToSchema)]
pub struct ExamSummary {
    id: Uuid,
    /// Accession number (images 0008,0050 and the specimen barcode).
    accession_no: String,
    patient_record_id: Uuid,
    ordering_institution_id: Uuid,
    /// `imaging`, `ecg`, `lab`, `pathology`.
    centre: String,
    /// `ecg`, `dr`, `ct`, `mr`, `ultrasound`, `lab`, `pathology`.
    kind: String,
    modality: Option<String>,
    body_part: Option<String>,
    item_code: Option<String>,
    item_name: String,
    /// `green`, `emergency`, `inpatient`, `outpatient`, `physical_exam`.
    urgency: String,
    question: String,
    state: String,
    /// Optimistic-concurrency version: send it back with every transition.
    version: i32,
    reader_user_id: Option<Uuid>,
    lease_until: Option<DateTime<Utc>>,
    reading_institution_id: Option<Uuid>,
    received_at: Option<DateTime<Utc>>,
    /// When the counted report is due (preliminary for emergency and green, else final).
    due_at: Option<DateTime<Utc>>,
    preliminary_at: Option<DateTime<Utc>>,
    final_at: Option<DateTime<Utc>>,
    delivered_at: Option<DateTime<Utc>>,
    /// The current report carries the mutual-recognition mark "HR".
    hr: bool,
    report_version: i32,
    specimen_step: Option<String>,
    cancel_reason: Option<String>,
    created_at: DateTime<Utc>,
}

impl From<&ExamOrder> for ExamSummary {
    fn from(o: &ExamOrder) -> Self {
        Self {
            id: o.id,
            accession_no: o.accession_no.clone(),
            patient_record_id: o.patient_record_id.as_uuid(),
            ordering_institution_id: o.ordering_institution_id.as_uuid(),
            centre: o.centre.as_str().into(),
            kind: o.kind.as_str().into(),
            modality: o.modality.clone(),
            body_part: o.body_part.clone(),
            item_code: o.item_code.clone(),
            item_name: o.item_name.clone(),
            urgency: o.urgency.as_str().into(),
            question: o.question.clone(),
            state: o.state.as_str().into(),
            version: o.version,
            reader_user_id: o.reader_user_id,
            lease_until: o.lease_until,
            reading_institution_id: o.reading_institution_id.map(|i| i.as_uuid()),
            received_at: o.received_at,
            due_at: o.due_at,
            preliminary_at: o.preliminary_at,
            final_at: o.final_at,
            delivered_at: o.delivered_at,
            hr: o.hr,
            report_version: o.report_version,
            specimen_step: o.specimen_step.map(|s| s.as_str().into()),
            cancel_reason: o.cancel_reason.clone(),
            created_at: o.created_at,
        }
    }
}

/// One signed report version.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReportView {
    version: i32,
    /// `preliminary`, `final`, `amended`.
    status: String,
    /// The canonical content that was hashed and signed (template fields under `fields`).
    #[schema(value_type = Object)]
    content: serde_json::Value,
    critical: bool,
    hr: bool,
    author_user_id: Uuid,
    author_name: String,
    reason: Option<String>,
    /// SM3 of the canonical content, hex.
    content_hash: String,
    /// SM2 signature over the hash, hex (r ‖ s); check with `GET /api/v1/reading/signing-key`.
    signature: String,
    signed_at: DateTime<Utc>,
}

impl From<&Report> for ReportView {
    fn from(r: &Report) -> Self {
        Self {
            version: r.version,
            status: r.status.clone(),
            content: r.content.clone(),
            critical: r.critical,
            hr: r.hr,
            author_user_id: r.author_user_id,
            author_name: r.author_name.clone(),
            reason: r.reason.clone(),
            content_hash: r.content_hash.clone(),
            signature: r.signature.clone(),
            signed_at: r.signed_at,
        }
    }
}

/// A critical value.
#[derive(Debug, Serialize, ToSchema)]
pub struct CriticalView {
    id: Uuid,
    order_id: Uuid,
    ordering_institution_id: Uuid,
    /// `identified`, `notified`, `acknowledged`, `disposed`, `closed`.
    state: String,
    finding: String,
    identified_at: DateTime<Utc>,
    notified_at: Option<DateTime<Utc>>,
    acknowledged_at: Option<DateTime<Utc>>,
    acknowledged_name: Option<String>,
    read_back: Option<String>,
    disposition: Option<String>,
    disposition_note: Option<String>,
    disposed_at: Option<DateTime<Utc>>,
    closed_at: Option<DateTime<Utc>>,
    escalated_at: Option<DateTime<Utc>>,
}

impl From<&Critical> for CriticalView {
    fn from(c: &Critical) -> Self {
        Self {
            id: c.id,
            order_id: c.order_id,
            ordering_institution_id: c.ordering_institution_id.as_uuid(),
            state: c.state.as_str().into(),
            finding: c.finding.clone(),
            identified_at: c.identified_at,
            notified_at: c.notified_at,
            acknowledged_at: c.acknowledged_at,
            acknowledged_name: c.acknowledged_name.clone(),
            read_back: c.read_back.clone(),
            disposition: c.disposition.map(|d| d.as_str().into()),
            disposition_note: c.disposition_note.clone(),
            disposed_at: c.disposed_at,
            closed_at: c.closed_at,
            escalated_at: c.escalated_at,
        }
    }
}

/// One step of the item's trail.
#[derive(Debug, Serialize, ToSchema)]
pub struct ExamEventView {
    seq: i32,
    transition: String,
    from_state: String,
    to_state: String,
    party: String,
    role: Option<String>,
    at: DateTime<Utc>,
    reason: Option<String>,
}

/// One step of the specimen chain.
#[derive(Debug, Serialize, ToSchema)]
pub struct SpecimenView {
    seq: i32,
    step: String,
    place: String,
    reason: Option<String>,
    temperature: Option<String>,
    at: DateTime<Utc>,
}

/// An item with its trail, reports, critical values, images and what the caller may do.
#[derive(Debug, Serialize, ToSchema)]
pub struct ExamDetail {
    #[serde(flatten)]
    exam: ExamSummary,
    events: Vec<ExamEventView>,
    reports: Vec<ReportView>,
    criticals: Vec<CriticalView>,
    specimen: Vec<SpecimenView>,
    /// Study Instance UIDs received for it (`/dicomweb/studies/{uid}`).
    studies: Vec<String>,
    images: i64,
    /// Earlier items of the same kind for the same person.
    priors: Vec<ExamSummary>,
    /// Transitions the caller may perform now.
    allowed_transitions: Vec<String>,
    /// Why the caller may see it: `own_institution` or `reading_centre`.
    basis: String,
    /// Every report signature verifies with this deployment's key.
    signatures_valid: bool,
}

impl From<OrderView> for ExamDetail {
    fn from(v: OrderView) -> Self {
        Self {
            exam: (&v.order).into(),
            events: v
                .events
                .iter()
                .map(|e| ExamEventView {
                    seq: e.seq,
                    transition: e.transition.map_or("create", |t| t.as_str()).into(),
                    from_state: e.from_state.as_str().into(),
                    to_state: e.to_state.as_str().into(),
                    party: e.party.as_str().into(),
                    role: e.role.clone(),
                    at: e.at,
                    reason: e.reason.clone(),
                })
                .collect(),
            reports: v.reports.iter().map(ReportView::from).collect(),
            criticals: v.criticals.iter().map(CriticalView::from).collect(),
            specimen: v
                .specimen
                .iter()
                .map(|s| SpecimenView {
                    seq: s.seq,
                    step: s.step.as_str().into(),
                    place: s.place.clone(),
                    reason: s.reason.clone(),
                    temperature: s.temperature.clone(),
                    at: s.at,
                })
                .collect(),
            studies: v.studies,
            images: v.images,
            priors: v.priors.iter().map(ExamSummary::from).collect(),
            allowed_transitions: v.allowed.iter().map(|t| t.as_str().into()).collect(),
            basis: v.basis.as_str().into(),
            signatures_valid: v.signatures_valid,
        }
    }
}

/// A list line.
#[derive(Debug, Serialize, ToSchema)]
pub struct ExamLine {
    #[serde(flatten)]
    exam: ExamSummary,
    patient_name: Option<String>,
    patient_sex: Option<String>,
    patient_birth_date: Option<String>,
    origin_name: String,
    /// Open and past its deadline now.
    overdue: bool,
}

impl From<&WorkItem> for ExamLine {
    fn from(w: &WorkItem) -> Self {
        Self {
            exam: (&w.order).into(),
            patient_name: w.patient_name.clone(),
            patient_sex: w.patient_sex.clone(),
            patient_birth_date: w.patient_birth.clone(),
            origin_name: w.origin_name.clone(),
            overdue: w.overdue,
        }
    }
}

/// A page of items.
#[derive(Debug, Serialize, ToSchema)]
pub struct ExamPage {
    items: Vec<ExamLine>,
    next_cursor: Option<String>,
}

/// Paging and a state filter.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// Comma-separated states.
    state: Option<String>,
    page_size: Option<u32>,
    cursor: Option<String>,
}

fn states(list: Option<&str>) -> Result<Vec<ItemState>, ApiError> {
    list.unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| parse("state", s, ItemState::parse, &codes(ItemState::ALL, ItemState::as_str)))
        .collect()
}

/// The items ordered by the caller's institutions, newest first.
#[utoipa::path(get, path = "/api/v1/exams", tag = "reading", security(("bearer" = [])), params(ListQuery),
    responses((status = 200, body = ExamPage), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn list_exams(
    State(ctx): State<AppState>,
    caller: Caller,
    AppQuery(q): AppQuery<ListQuery>,
) -> Result<Json<ExamPage>, ApiError> {
    let states = states(q.state.as_deref())?;
    let found = reading::orders(&ctx, caller.actor(), &states, &page(q.page_size, q.cursor)?).await?;
    Ok(Json(ExamPage {
        items: found.items.iter().map(ExamLine::from).collect(),
        next_cursor: found.next_after,
    }))
}

/// The answer to the recognition prompt.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecognitionInput {
    /// The prior item the answer is about (default: the newest offered).
    prior_order_id: Option<Uuid>,
    /// `true`: recognised, no new test; `false`: repeated with a ground.
    recognised: bool,
    /// `condition_changed`, `fast_changing`, `pre_major_intervention`, `emergency`, `appraisal`,
    /// `other`, and the provincial `patient_request`, `producer_failed_eqa`, `too_old`.
    ground: Option<String>,
    /// Text for `other`.
    ground_text: Option<String>,
}

/// A new exam order.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExamInput {
    /// The patient's record (master patient index).
    patient_record_id: Uuid,
    /// Catalogue code (`GET /api/v1/exam-items`).
    item_code: String,
    /// `green`, `emergency`, `inpatient`, `outpatient`, `physical_exam`.
    urgency: String,
    /// The clinical question.
    question: String,
    /// Head CT/MR (shorter emergency limit).
    #[serde(default)]
    head: bool,
    /// Complex class (24 h CT/MR, 10-day pathology).
    #[serde(default)]
    complex: bool,
    /// Required when the prompt offers a prior result (else 409 `recognition_decision_required`).
    recognition: Option<RecognitionInput>,
}

/// What placing an order did.
#[derive(Debug, Serialize, ToSchema)]
pub struct Placed {
    /// The new item; absent when a prior result was recognised.
    exam: Option<ExamSummary>,
    /// The recognition decision recorded.
    decision: Option<DecisionView>,
}

/// A recorded recognition decision.
#[derive(Debug, Serialize, ToSchema)]
pub struct DecisionView {
    id: Uuid,
    code: String,
    prior_order_id: Uuid,
    recognised: bool,
    ground: Option<String>,
    /// Price of the item, fen (the avoided cost when recognised).
    price_fen: i64,
    new_order_id: Option<Uuid>,
}

/// Places an order at the caller's institution. When the patient has a recognisable result of
/// the item within its window the doctor must answer the prompt (`recognition`); a recognised
/// result places no order.
#[utoipa::path(post, path = "/api/v1/exams", tag = "reading", security(("bearer" = [])), request_body = ExamInput,
    responses((status = 201, body = Placed), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
async fn place_exam(
    State(ctx): State<AppState>,
    caller: Caller,
    AppJson(body): AppJson<ExamInput>,
) -> Result<(StatusCode, Json<Placed>), ApiError> {
    let urgency = parse("urgency", &body.urgency, Urgency::parse, &codes(Urgency::ALL, Urgency::as_str))?;
    let recognition = match body.recognition {
        None => None,
        Some(r) => Some(Answer {
            prior_order_id: r.prior_order_id,
            recognised: r.recognised,
            ground: r
                .ground
                .as_deref()
                .filter(|g| !g.is_empty())
                .map(|g| {
                    parse(
                        "recognition.ground",
                        g,
                        RetestGround::parse,
                        &codes(RetestGround::ALL, RetestGround::as_str),
                    )
                })
                .transpose()?,
            ground_text: r.ground_text,
        }),
    };
    let draft = OrderDraft {
        patient_record_id: Some(PatientRecordId::from_uuid(body.patient_record_id)),
        item_code: body.item_code,
        urgency: Some(urgency),
        question: body.question,
        head: body.head,
        complex: body.complex,
        recognition,
    };
    let placed = reading::place(&ctx, caller.actor(), draft).await?;
    Ok((
        StatusCode::CREATED,
        Json(Placed {
            exam: placed.order.as_ref().map(ExamSummary::from),
            decision: placed.decision.map(|d| DecisionView {
                id: d.id,
                code: d.code,
                prior_order_id: d.prior_order_id,
                recognised: d.recognised,
                ground: d.ground.map(|g| g.as_str().into()),
                price_fen: d.price_fen,
                new_order_id: d.new_order_id,
            }),
        }),
    ))
}

/// The prompt's question.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct PromptQuery {
    /// The patient's record.
    patient_record_id: Option<Uuid>,
    /// The item about to be ordered.
    item_code: Option<String>,
}

/// A prior result offered for recognition.
#[derive(Debug, Serialize, ToSchema)]
pub struct OfferView {
    exam: ExamSummary,
    producer_name: String,
    qc_valid_until: NaiveDate,
    /// The impression of its latest report.
    impression: Option<String>,
}

/// The recognisable results of an item for a patient (empty: order without a prompt).
#[utoipa::path(get, path = "/api/v1/exams/recognition-prompt", tag = "reading", security(("bearer" = [])), params(PromptQuery),
    responses((status = 200, body = Vec<OfferView>), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn recognition_prompt(
    State(ctx): State<AppState>,
    caller: Caller,
    AppQuery(q): AppQuery<PromptQuery>,
) -> Result<Json<Vec<OfferView>>, ApiError> {
    let offers = reading::prompt(
        &ctx,
        caller.actor(),
        q.patient_record_id.map(PatientRecordId::from_uuid),
        q.item_code.as_deref(),
    )
    .await?;
    Ok(Json(
        offers
            .iter()
            .map(|o| OfferView {
                exam: (&o.order).into(),
                producer_name: o.producer_name.clone(),
                qc_valid_until: o.qc_valid_until,
                impression: o.impression.clone(),
            })
            .collect(),
    ))
}

/// One item with its trail, reports, critical values and images.
#[utoipa::path(get, path = "/api/v1/exams/{id}", tag = "reading", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Exam item")),
    responses((status = 200, body = ExamDetail), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn get_exam(
    State(ctx): State<AppState>,
    caller: Caller,
    AppPath(id): AppPath<Uuid>,
) -> Result<Json<ExamDetail>, ApiError> {
    Ok(Json(reading::get(&ctx, caller.actor(), id).await?.into()))
}

/// A report's content.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReportInput {
    /// Template field → value (`GET /api/v1/reading/templates/{kind}`); `findings` and
    /// `impression` always.
    fields: BTreeMap<String, String>,
    /// A critical finding (危急值): the ordering site is told at once.
    #[serde(default)]
    critical: bool,
    /// What is critical (required with `critical`).
    critical_text: Option<String>,
}

/// A transition of an exam item.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExamTransitionInput {
    /// `claim`, `renew`, `release`, `assign`, `report_preliminary`, `finalise`, `amend`,
    /// `cancel`, `reject_quality`, `acquire`.
    transition: String,
    /// The version the caller saw; a stale one is refused with 409 `exam_stale`.
    version: i32,
    /// Reason (cancel, reject_quality, amend).
    reason: Option<String>,
    /// The reader to assign.
    reader_user_id: Option<Uuid>,
    /// The report (report_preliminary, finalise, amend).
    report: Option<ReportInput>,
}

/// Performs a transition. A claim of an item someone else took first answers 409
/// `already_claimed`; a report by a reader who does not hold the item 403 `not_assigned`.
#[utoipa::path(post, path = "/api/v1/exams/{id}/transitions", tag = "reading", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Exam item")), request_body = ExamTransitionInput,
    responses((status = 200, body = ExamDetail), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn transition_exam(
    State(ctx): State<AppState>,
    caller: Caller,
    AppPath(id): AppPath<Uuid>,
    AppJson(body): AppJson<ExamTransitionInput>,
) -> Result<Json<ExamDetail>, ApiError> {
    let transition = ItemTransition::parse(&body.transition)
        .filter(|t| {
            !matches!(
                t,
                ItemTransition::Receive
                    | ItemTransition::Queue
                    | ItemTransition::ExpireLease
                    | ItemTransition::Deliver
            )
        })
        .ok_or_else(|| {
            Invalid::one("transition", "transition_invalid", "not a transition a user performs")
        })?;
    let change = Change {
        version: body.version,
        reason: body.reason,
        reader_user_id: body.reader_user_id,
        report: body.report.map(|r| ReportDraft {
            fields: r.fields,
            critical: r.critical,
            critical_text: r.critical_text,
        }),
    };
    Ok(Json(reading::act(&ctx, caller.actor(), id, transition, change).await?.into()))
}

/// The ordering site sends the item for reading: images taken and sent (at least one received).
#[utoipa::path(post, path = "/api/v1/exams/{id}/complete", tag = "reading", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Exam item")),
    responses((status = 200, body = ExamDetail), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn complete_exam(
    State(ctx): State<AppState>,
    caller: Caller,
    AppPath(id): AppPath<Uuid>,
) -> Result<Json<ExamDetail>, ApiError> {
    Ok(Json(reading::complete(&ctx, caller.actor(), id).await?.into()))
}

/// One step of a specimen chain.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SpecimenInput {
    /// `labelled`, `collected`, `packed`, `in_transit`, `received`, `rejected`, `testing`,
    /// `released`, `retained`, `discarded`.
    step: String,
    /// Where (institution, box, vehicle).
    place: String,
    /// Rejection reason: `haemolysis`, `volume`, `tube`, `label`, `overtime`, `other`.
    reason: Option<String>,
    /// Temperature logged in transport (`4℃`).
    temperature: Option<String>,
}

/// Records a specimen step; `collected`, `received` and `rejected` move the item.
#[utoipa::path(post, path = "/api/v1/exams/{id}/specimen", tag = "reading", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Exam item")), request_body = SpecimenInput,
    responses((status = 200, body = ExamDetail), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn specimen_step(
    State(ctx): State<AppState>,
    caller: Caller,
    AppPath(id): AppPath<Uuid>,
    AppJson(body): AppJson<SpecimenInput>,
) -> Result<Json<ExamDetail>, ApiError> {
    let step =
        parse("step", &body.step, SpecimenStep::parse, &codes(SpecimenStep::ALL, SpecimenStep::as_str))?;
    let reason = body
        .reason
        .as_deref()
        .filter(|r| !r.is_empty())
        .map(|r| parse("reason", r, QualityReason::parse, &codes(QualityReason::ALL, QualityReason::as_str)))
        .transpose()?;
    let view =
        reading::specimen_step(&ctx, caller.actor(), id, step, &body.place, reason, body.temperature).await?;
    Ok(Json(view.into()))
}

/// A worklist query.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct WorklistQuery {
    /// `imaging` (default), `ecg`, `lab`, `pathology`.
    centre: Option<String>,
    /// Comma-separated states (default: queued and claimed).
    state: Option<String>,
    /// Only this kind.
    kind: Option<String>,
    /// Only items from this institution.
    origin: Option<Uuid>,
    /// Only the caller's claimed items.
    #[serde(default)]
    mine: bool,
    /// Only items past their deadline.
    #[serde(default)]
    overdue: bool,
    page_size: Option<u32>,
    cursor: Option<String>,
}

/// A worklist page with the centre's counts.
#[derive(Debug, Serialize, ToSchema)]
pub struct WorklistView {
    items: Vec<ExamLine>,
    next_cursor: Option<String>,
    queued: i64,
    claimed: i64,
    overdue: i64,
}

/// A reading centre's worklist, by urgency (green, emergency, inpatient, outpatient, physical
/// exam) then deadline. Readers only.
#[utoipa::path(get, path = "/api/v1/reading/worklist", tag = "reading", security(("bearer" = [])), params(WorklistQuery),
    responses((status = 200, body = WorklistView), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn worklist(
    State(ctx): State<AppState>,
    caller: Caller,
    AppQuery(q): AppQuery<WorklistQuery>,
) -> Result<Json<WorklistView>, ApiError> {
    let centre = parse(
        "centre",
        q.centre.as_deref().unwrap_or("imaging"),
        Centre::parse,
        &codes(Centre::ALL, Centre::as_str),
    )?;
    let now = yigong_app::Clock::now(ctx.clock.as_ref());
    let filter = WorklistFilter {
        states: states(q.state.as_deref())?,
        kind: q
            .kind
            .as_deref()
            .filter(|k| !k.is_empty())
            .map(|k| parse("kind", k, ExamKind::parse, &codes(ExamKind::ALL, ExamKind::as_str)))
            .transpose()?,
        origin: q.origin.map(InstitutionId::from_uuid),
        reader: q.mine.then_some(caller.actor().user_id),
        due_before: q.overdue.then_some(now),
    };
    let w = reading::worklist(&ctx, caller.actor(), centre, &filter, &page(q.page_size, q.cursor)?).await?;
    Ok(Json(WorklistView {
        items: w.items.items.iter().map(ExamLine::from).collect(),
        next_cursor: w.items.next_after,
        queued: w.queued,
        claimed: w.claimed,
        overdue: w.overdue,
    }))
}

/// An open critical value in a list.
#[derive(Debug, Serialize, ToSchema)]
pub struct CriticalLine {
    #[serde(flatten)]
    critical: CriticalView,
    accession_no: String,
    item_name: String,
    origin_name: String,
    acknowledge_due: DateTime<Utc>,
    /// Unacknowledged past its limit.
    late: bool,
}

/// Open critical values (危急值未闭环): a clinician's institutions, or the consortium's for
/// managers and readers.
#[utoipa::path(get, path = "/api/v1/critical-values", tag = "reading", security(("bearer" = [])),
    responses((status = 200, body = Vec<CriticalLine>), (status = 403, body = ErrorBody)))]
async fn list_criticals(
    State(ctx): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<CriticalLine>>, ApiError> {
    let rows = reading::open_criticals(&ctx, caller.actor()).await?;
    Ok(Json(
        rows.iter()
            .map(|r| CriticalLine {
                critical: (&r.critical).into(),
                accession_no: r.accession_no.clone(),
                item_name: r.item_name.clone(),
                origin_name: r.origin_name.clone(),
                acknowledge_due: r.acknowledge_due,
                late: r.late,
            })
            .collect(),
    ))
}

/// A step on a critical value.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CriticalInput {
    /// `acknowledge`, `dispose`, `close`.
    step: String,
    /// The read-back (复述), required to acknowledge.
    read_back: Option<String>,
    /// `treated_locally`, `green_channel`, `urgent_referral`, `unreachable` (dispose).
    disposition: Option<String>,
    /// Notes (dispose).
    note: Option<String>,
}

/// Acknowledges, disposes or closes a critical value. Only clinicians of the ordering
/// institution may: anyone else gets 403 `wrong_institution` (audited).
#[utoipa::path(post, path = "/api/v1/critical-values/{id}/steps", tag = "reading", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Critical value")), request_body = CriticalInput,
    responses((status = 200, body = CriticalView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn critical_step(
    State(ctx): State<AppState>,
    caller: Caller,
    AppPath(id): AppPath<Uuid>,
    AppJson(body): AppJson<CriticalInput>,
) -> Result<Json<CriticalView>, ApiError> {
    let action = match body.step.as_str() {
        "acknowledge" => CriticalAction::Acknowledge { read_back: body.read_back.unwrap_or_default() },
        "dispose" => {
            let d = body
                .disposition
                .as_deref()
                .ok_or_else(|| Invalid::one("disposition", "required", "what was done is required"))?;
            CriticalAction::Dispose {
                disposition: parse(
                    "disposition",
                    d,
                    Disposition::parse,
                    &codes(Disposition::ALL, Disposition::as_str),
                )?,
                note: body.note,
            }
        }
        "close" => CriticalAction::Close,
        _ => {
            return Err(
                Invalid::one("step", "unknown_code", "expected one of: acknowledge, dispose, close").into()
            );
        }
    };
    Ok(Json((&reading::act_on_critical(&ctx, caller.actor(), id, action).await?).into()))
}

/// A catalogue item.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ItemView {
    /// Code (path parameter on write; ignored in the body).
    #[serde(default)]
    code: String,
    name: String,
    /// `ecg`, `dr`, `ct`, `mr`, `ultrasound`, `lab`, `pathology`.
    kind: String,
    modality: Option<String>,
    body_part: Option<String>,
    /// County uniform price, fen.
    price_fen: i64,
    /// Recognisable as `exam` or `lab` (结果互认); absent: not recognisable.
    recognition_kind: Option<String>,
    /// Days a result stays recognisable.
    validity_days: Option<i64>,
    /// `consortium`, `prefecture`, `province`.
    scope: Option<String>,
    #[serde(default = "yes")]
    active: bool,
}

fn yes() -> bool {
    true
}

impl From<&Item> for ItemView {
    fn from(i: &Item) -> Self {
        Self {
            code: i.code.clone(),
            name: i.name.clone(),
            kind: i.kind.as_str().into(),
            modality: i.modality.clone(),
            body_part: i.body_part.clone(),
            price_fen: i.price_fen,
            recognition_kind: i.recognition.map(|r| r.0.as_str().into()),
            validity_days: i.recognition.map(|r| r.1),
            scope: i.recognition.map(|r| r.2.as_str().into()),
            active: i.active,
        }
    }
}

/// A producer's QC of a recognisable item.
#[derive(Debug, Serialize, ToSchema)]
pub struct QcView {
    code: String,
    producer_institution_id: Uuid,
    passed: bool,
    valid_until: NaiveDate,
}

/// The catalogue with the producers' QC.
#[derive(Debug, Serialize, ToSchema)]
pub struct Catalogue {
    items: Vec<ItemView>,
    qc: Vec<QcView>,
}

/// The catalogue of orderable items, the recognisable ones and every producer's QC.
#[utoipa::path(get, path = "/api/v1/exam-items", tag = "reading", security(("bearer" = [])),
    responses((status = 200, body = Catalogue), (status = 403, body = ErrorBody)))]
async fn list_items(State(ctx): State<AppState>, caller: Caller) -> Result<Json<Catalogue>, ApiError> {
    let (items, qc) = reading::catalogue(&ctx, caller.actor()).await?;
    Ok(Json(Catalogue {
        items: items.iter().map(ItemView::from).collect(),
        qc: qc
            .into_iter()
            .map(|(code, producer, passed, valid_until)| QcView {
                code,
                producer_institution_id: producer.as_uuid(),
                passed,
                valid_until,
            })
            .collect(),
    }))
}

/// Creates or changes a catalogue item (consortium administration).
#[utoipa::path(put, path = "/api/v1/exam-items/{code}", tag = "reading", security(("bearer" = [])),
    params(("code" = String, Path, description = "Item code")), request_body = ItemView,
    responses((status = 200, body = ItemView), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn put_item(
    State(ctx): State<AppState>,
    caller: Caller,
    AppPath(code): AppPath<String>,
    AppJson(body): AppJson<ItemView>,
) -> Result<Json<ItemView>, ApiError> {
    let kind = parse("kind", &body.kind, ExamKind::parse, &codes(ExamKind::ALL, ExamKind::as_str))?;
    let recognition = match (body.recognition_kind.as_deref(), body.validity_days, body.scope.as_deref()) {
        (None, None, None) => None,
        (Some(k), Some(d), s) => Some((
            parse("recognition_kind", k, RecognitionKind::parse, "exam, lab")?,
            d,
            parse(
                "scope",
                s.unwrap_or("consortium"),
                RecognitionScope::parse,
                "consortium, prefecture, province",
            )?,
        )),
        _ => {
            return Err(Invalid::one(
                "recognition_kind",
                "incomplete",
                "a recognisable item needs recognition_kind and validity_days",
            )
            .into());
        }
    };
    let item = Item {
        code,
        name: body.name.trim().to_owned(),
        kind,
        modality: body.modality.filter(|m| !m.trim().is_empty()),
        body_part: body.body_part.filter(|b| !b.trim().is_empty()),
        price_fen: body.price_fen,
        recognition,
        active: body.active,
    };
    Ok(Json((&reading::put_item(&ctx, caller.actor(), item).await?).into()))
}

/// A QC result.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QcInput {
    /// Passed (external quality assessment, 室间质评).
    passed: bool,
    /// Valid until.
    valid_until: NaiveDate,
}

/// Records a producer's QC of a recognisable item.
#[utoipa::path(put, path = "/api/v1/exam-items/{code}/qc/{institution_id}", tag = "reading", security(("bearer" = [])),
    params(("code" = String, Path, description = "Item code"), ("institution_id" = Uuid, Path, description = "Producer")),
    request_body = QcInput,
    responses((status = 204), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn put_qc(
    State(ctx): State<AppState>,
    caller: Caller,
    AppPath((code, institution)): AppPath<(String, Uuid)>,
    AppJson(body): AppJson<QcInput>,
) -> Result<StatusCode, ApiError> {
    reading::put_qc(
        &ctx,
        caller.actor(),
        &code,
        InstitutionId::from_uuid(institution),
        body.passed,
        body.valid_until,
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A template field.
#[derive(Debug, Serialize, ToSchema)]
pub struct FieldView {
    key: String,
    zh: String,
    en: String,
    /// `text`, `line`, `number`, `choice`.
    kind: String,
    required: bool,
    unit: Option<String>,
    min: Option<i64>,
    max: Option<i64>,
    /// Choices: code, zh, en.
    choices: Vec<[String; 3]>,
}

/// The structured report template of an exam kind.
#[utoipa::path(get, path = "/api/v1/reading/templates/{kind}", tag = "reading", security(("bearer" = [])),
    params(("kind" = String, Path, description = "ecg, dr, ct, mr, ultrasound, lab, pathology")),
    responses((status = 200, body = Vec<FieldView>), (status = 422, body = ErrorBody)))]
async fn get_template(
    _caller: Caller,
    AppPath(kind): AppPath<String>,
) -> Result<Json<Vec<FieldView>>, ApiError> {
    let kind = parse("kind", &kind, ExamKind::parse, &codes(ExamKind::ALL, ExamKind::as_str))?;
    Ok(Json(
        template(kind)
            .iter()
            .map(|f| {
                let (k, unit, min, max, choices) = match &f.kind {
                    FieldKind::Text => ("text", None, None, None, vec![]),
                    FieldKind::Line => ("line", None, None, None, vec![]),
                    FieldKind::Number { unit, min, max } => {
                        ("number", Some(unit.to_string()), Some(*min), Some(*max), vec![])
                    }
                    FieldKind::Choice(c) => (
                        "choice",
                        None,
                        None,
                        None,
                        c.iter().map(|c| [c.code.to_string(), c.zh.to_string(), c.en.to_string()]).collect(),
                    ),
                };
                FieldView {
                    key: f.key.into(),
                    zh: f.zh.into(),
                    en: f.en.into(),
                    kind: k.into(),
                    required: f.required,
                    unit,
                    min,
                    max,
                    choices,
                }
            })
            .collect(),
    ))
}

/// The deployment's report-signing key.
#[derive(Debug, Serialize, ToSchema)]
pub struct SigningKey {
    /// `SM2` (GM/T 0003-2012) over the SM3 hash; distinguishing identifier `yigong-report`.
    algorithm: String,
    /// Public key, SEC1 uncompressed, hex.
    public_key: String,
}

/// The public key that report signatures verify with.
#[utoipa::path(get, path = "/api/v1/reading/signing-key", tag = "reading", security(("bearer" = [])),
    responses((status = 200, body = SigningKey)))]
async fn signing_key(State(ctx): State<AppState>, _caller: Caller) -> Json<SigningKey> {
    Json(SigningKey { algorithm: "SM2-SM3".into(), public_key: ctx.signer.public_key() })
}

/// The metrics period.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct MetricsQuery {
    /// First day (China time; default: a year before `to`).
    from: Option<NaiveDate>,
    /// Day after the last (default: tomorrow).
    to: Option<NaiveDate>,
}

/// Turnaround of one centre for one origin level.
#[derive(Debug, Serialize, ToSchema)]
pub struct TurnaroundView {
    centre: String,
    /// Ordered at grassroots sites (remote reports) or at county level.
    grassroots: bool,
    received: u64,
    reported: u64,
    median_minutes: Option<f64>,
    on_time: RatioView,
}

/// Recognition at one institution in one month.
#[derive(Debug, Serialize, ToSchema)]
pub struct RecognitionView {
    institution_id: Uuid,
    institution_name: String,
    month: String,
    recognised: u64,
    repeated: u64,
    rate: RatioView,
    /// Avoided cost, fen.
    avoided_fen: i64,
}

/// The reading metrics of a period.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReadingMetricsView {
    from: NaiveDate,
    to: NaiveDate,
    turnaround: Vec<TurnaroundView>,
    /// Centre → open items past their deadline now.
    overdue_now: BTreeMap<String, i64>,
    /// `YYYY-MM` → centre → items received.
    monthly: BTreeMap<String, BTreeMap<String, u64>>,
    critical_count: u64,
    critical_open: u64,
    critical_median_ack_minutes: Option<f64>,
    critical_ack_on_time: RatioView,
    recognition: Vec<RecognitionView>,
    recognition_total: RecognitionView,
}

pub(crate) fn period(
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    now: DateTime<Utc>,
) -> Result<(NaiveDate, NaiveDate, DateTime<Utc>, DateTime<Utc>), ApiError> {
    let china = chrono::FixedOffset::east_opt(8 * 3600).expect("valid offset");
    let today = now.with_timezone(&china).date_naive();
    let to = to.unwrap_or(today + chrono::Duration::days(1));
    let from = from.unwrap_or(to - chrono::Duration::days(365));
    if from >= to || (to - from).num_days() > 3 * 366 {
        return Err(Invalid::one("from", "bad_period", "from must be before to, at most three years").into());
    }
    let start = |d: NaiveDate| {
        d.and_hms_opt(0, 0, 0)
            .expect("midnight")
            .and_local_timezone(china)
            .single()
            .expect("fixed offset")
            .to_utc()
    };
    Ok((from, to, start(from), start(to)))
}

/// Remote reports by centre and origin, turnaround against the limits, overdue now, critical
/// values and recognition by institution and month (aggregates only).
#[utoipa::path(get, path = "/api/v1/reading/metrics", tag = "reading", security(("bearer" = [])), params(MetricsQuery),
    responses((status = 200, body = ReadingMetricsView), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn get_metrics(
    State(ctx): State<AppState>,
    caller: Caller,
    AppQuery(q): AppQuery<MetricsQuery>,
) -> Result<Json<ReadingMetricsView>, ApiError> {
    let (from, to, start, end) = period(q.from, q.to, yigong_app::Clock::now(ctx.clock.as_ref()))?;
    let m = reading::metrics(&ctx, caller.actor(), start, end).await?;
    Ok(Json(metrics_view(&m, from, to)))
}

pub(crate) fn metrics_view(
    m: &reading::ReadingMetrics,
    from: NaiveDate,
    to: NaiveDate,
) -> ReadingMetricsView {
    let mut monthly: BTreeMap<String, BTreeMap<String, u64>> = BTreeMap::new();
    for ((month, centre), n) in &m.monthly {
        monthly.entry(month.clone()).or_default().insert(centre.as_str().into(), *n);
    }
    let recognition =
        |id: Uuid, name: String, month: String, t: &yigong_domain::reading::recognition::RecognitionTally| {
            RecognitionView {
                institution_id: id,
                institution_name: name,
                month,
                recognised: t.recognised,
                repeated: t.repeated,
                rate: t.rate().into(),
                avoided_fen: t.avoided_fen,
            }
        };
    ReadingMetricsView {
        from,
        to,
        turnaround: m
            .turnaround
            .iter()
            .map(|((centre, grassroots), t)| TurnaroundView {
                centre: centre.as_str().into(),
                grassroots: *grassroots,
                received: t.received,
                reported: t.reported,
                median_minutes: t.median_minutes,
                on_time: t.on_time.into(),
            })
            .collect(),
        overdue_now: m.overdue_now.iter().map(|(c, n)| (c.as_str().into(), *n)).collect(),
        monthly,
        critical_count: m.critical_count,
        critical_open: m.critical_open,
        critical_median_ack_minutes: m.critical_median_ack,
        critical_ack_on_time: m.critical_ack_on_time.into(),
        recognition: m
            .recognition
            .iter()
            .map(|r| {
                recognition(r.institution_id.as_uuid(), r.institution_name.clone(), r.month.clone(), &r.tally)
            })
            .collect(),
        recognition_total: recognition(Uuid::nil(), String::new(), String::new(), &m.recognition_total),
    }
}
