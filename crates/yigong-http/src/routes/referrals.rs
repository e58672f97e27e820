//! `/api/v1/referrals`: two-way referral (create, submit, every transition with optimistic
//! concurrency, the referral centre's worklist), green-channel time stamps, down-referral
//! follow-up tasks, notifications, and the referral metrics with their drill-down.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;
use yigong_app::referral::{self, Change, Group, MetricsQuery, ReferralView, Tab};
use yigong_app::referral::{FollowUp, Notification, Referral};
use yigong_domain::Invalid;
use yigong_domain::ids::{DepartmentId, InstitutionId, PatientRecordId};
use yigong_domain::page::PageRequest;
use yigong_domain::referral::green::{Milestone, StampSource};
use yigong_domain::referral::metrics::{Measure, Ratio, Tally};
use yigong_domain::referral::{Direction, DownwardDetails, Priority, ReferralDraft, SlipTest, Transition};

use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, AppJson, AppPath, AppQuery, ErrorBody};

/// The routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_referrals, create_referral))
        .routes(routes!(get_referral))
        .routes(routes!(transition_referral))
        .routes(routes!(record_stamp))
        .routes(routes!(list_follow_ups))
        .routes(routes!(complete_follow_up))
        .routes(routes!(list_notifications))
        .routes(routes!(read_notifications))
        .routes(routes!(get_metrics))
        .routes(routes!(drill_down))
}

/// A test done before referral.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TestInput {
    /// What was tested.
    name: String,
    /// Result as reported.
    result: String,
    /// When.
    date: Option<NaiveDate>,
    /// Shared-record resource (`Observation/…`).
    reference: Option<String>,
}

/// A diagnosis on the slip.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DiagnosisInput {
    /// ICD-10 (national clinical edition 2.0) code.
    code: String,
    /// Name.
    name: String,
}

/// What a downward referral carries back.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DownwardInput {
    /// 治疗结果
    treatment_result: String,
    /// 出院小结
    discharge_summary: String,
    /// 康复建议
    rehabilitation_advice: Option<String>,
    /// 用药方案
    medication_plan: Option<String>,
    /// Discharge day.
    discharged_on: NaiveDate,
    /// High-risk patient (follow-up sooner).
    #[serde(default)]
    high_risk: bool,
}

/// A new referral.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReferralInput {
    /// `upward` or `downward`.
    direction: String,
    /// `routine`, `urgent` or `green`.
    priority: String,
    /// The patient's record (master patient index).
    patient_record_id: Uuid,
    /// Sending department.
    from_department_id: Option<Uuid>,
    /// Target institution, a member of the consortium.
    to_institution_id: Option<Uuid>,
    /// Target department.
    to_department_id: Option<Uuid>,
    /// The target is outside the network (a terminal hand-off); name it in `external_institution`.
    #[serde(default)]
    out_of_network: bool,
    /// External institution's name.
    external_institution: Option<String>,
    /// Reason code of the direction's list.
    reason: String,
    /// Free text beside the reason.
    reason_text: Option<String>,
    /// 主诉
    chief_complaint: Option<String>,
    /// 病情描述
    condition: String,
    /// Diagnoses, primary first.
    #[serde(default)]
    diagnoses: Vec<DiagnosisInput>,
    /// Tests done with results.
    #[serde(default)]
    tests: Vec<TestInput>,
    /// Treatment so far.
    treatment: Option<String>,
    /// 注意事项
    precautions: Option<String>,
    /// Green-channel centre (`chest_pain`, `stroke`, `trauma`, `maternal`, `neonatal`).
    green_centre: Option<String>,
    /// County-to-county transfer.
    #[serde(default)]
    lateral: bool,
    /// Downward referrals only.
    downward: Option<DownwardInput>,
    /// Insurance referral certificate class (`single_admission`, `long_term`).
    certificate_class: Option<String>,
    /// Certificate issue day.
    certificate_issued: Option<NaiveDate>,
    /// Certificate number.
    certificate_no: Option<String>,
    /// The patient consented.
    #[serde(default)]
    consent: bool,
    /// The up-referral a down-referral answers.
    parent_id: Option<Uuid>,
    /// Submit at once (default) or keep as a draft.
    #[serde(default = "yes")]
    submit: bool,
}

fn yes() -> bool {
    true
}

impl From<ReferralInput> for ReferralDraft {
    fn from(i: ReferralInput) -> Self {
        ReferralDraft {
            direction: i.direction,
            priority: i.priority,
            patient_record_id: Some(PatientRecordId::from_uuid(i.patient_record_id)),
            from_department_id: i.from_department_id.map(DepartmentId::from_uuid),
            to_institution_id: i.to_institution_id.map(InstitutionId::from_uuid),
            to_department_id: i.to_department_id.map(DepartmentId::from_uuid),
            out_of_network: i.out_of_network,
            external_institution: i.external_institution,
            reason: i.reason,
            reason_text: i.reason_text,
            chief_complaint: i.chief_complaint,
            condition: i.condition,
            diagnoses: i.diagnoses.into_iter().map(|d| (d.code, d.name)).collect(),
            tests: i
                .tests
                .into_iter()
                .map(|t| SlipTest { name: t.name, result: t.result, date: t.date, reference: t.reference })
                .collect(),
            treatment: i.treatment,
            precautions: i.precautions,
            green_centre: i.green_centre,
            lateral: i.lateral,
            downward: i.downward.map(|d| DownwardDetails {
                treatment_result: d.treatment_result,
                discharge_summary: d.discharge_summary,
                rehabilitation_advice: d.rehabilitation_advice,
                medication_plan: d.medication_plan,
                discharged_on: d.discharged_on,
                high_risk: d.high_risk,
            }),
            certificate_class: i.certificate_class,
            certificate_issued: i.certificate_issued,
            certificate_no: i.certificate_no,
            consent: i.consent,
            parent_id: i.parent_id,
        }
    }
}

/// A referral as stored (no patient demographics: those are on the patient's record).
#[derive(Debug, Serialize, ToSchema)]
pub struct ReferralSummary {
    id: Uuid,
    /// 转诊单号.
    slip_no: String,
    direction: String,
    priority: String,
    state: String,
    /// Optimistic-concurrency version: send it back with every transition.
    version: i32,
    patient_record_id: Uuid,
    from_institution_id: Uuid,
    to_institution_id: Option<Uuid>,
    to_department_id: Option<Uuid>,
    external_institution: Option<String>,
    reason: String,
    green_centre: Option<String>,
    parent_id: Option<Uuid>,
    created_at: DateTime<Utc>,
    submitted_at: Option<DateTime<Utc>>,
    accepted_at: Option<DateTime<Utc>>,
    slot_at: Option<DateTime<Utc>>,
    arrived_at: Option<DateTime<Utc>>,
    completed_at: Option<DateTime<Utc>>,
    closed_at: Option<DateTime<Utc>>,
    outcome: Option<String>,
    closed_loop: Option<bool>,
    /// When the receiver's answer or booking is due.
    sla_due: Option<DateTime<Utc>>,
}

impl From<&Referral> for ReferralSummary {
    fn from(r: &Referral) -> Self {
        Self {
            id: r.id,
            slip_no: r.slip_no.clone(),
            direction: r.direction.as_str().into(),
            priority: r.priority.as_str().into(),
            state: r.state.as_str().into(),
            version: r.version,
            patient_record_id: r.patient_record_id.as_uuid(),
            from_institution_id: r.from_institution_id.as_uuid(),
            to_institution_id: r.to_institution_id.map(|i| i.as_uuid()),
            to_department_id: r.to_department_id.map(|d| d.as_uuid()),
            external_institution: r.external_institution.clone(),
            reason: r.reason.clone(),
            green_centre: r.green_centre.map(|c| c.as_str().into()),
            parent_id: r.parent_id,
            created_at: r.created_at,
            submitted_at: r.submitted_at,
            accepted_at: r.accepted_at,
            slot_at: r.slot_at,
            arrived_at: r.arrived_at,
            completed_at: r.completed_at,
            closed_at: r.closed_at,
            outcome: r.outcome.map(|o| o.as_str().into()),
            closed_loop: r.closed_loop,
            sla_due: r.sla_due,
        }
    }
}

/// One transition as recorded.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventView {
    seq: i32,
    /// `create` or the transition.
    transition: String,
    from_state: String,
    to_state: String,
    /// `sending_clinician`, `receiving_centre`, `system`…
    party: String,
    role: Option<String>,
    institution_id: Option<Uuid>,
    at: DateTime<Utc>,
    reason: Option<String>,
    note: Option<String>,
    #[schema(value_type = Object)]
    payload: serde_json::Value,
}

/// A referral with its trail and what the caller may do.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReferralDetail {
    #[serde(flatten)]
    referral: ReferralSummary,
    /// The slip's clinical content.
    #[schema(value_type = Object)]
    slip: serde_json::Value,
    events: Vec<EventView>,
    /// Transitions the caller may perform now.
    allowed_transitions: Vec<String>,
    /// Who must look at it now (`none`, `on_duty`, `medical_affairs`).
    escalation: String,
    /// Why the caller may see it.
    basis: String,
    follow_up: Option<FollowUpView>,
    /// Down-referrals answering it.
    children: Vec<Uuid>,
    green: Option<GreenView>,
}

impl From<ReferralView> for ReferralDetail {
    fn from(v: ReferralView) -> Self {
        Self {
            referral: (&v.referral).into(),
            slip: v.referral.slip.clone(),
            events: v
                .events
                .into_iter()
                .map(|e| EventView {
                    seq: e.seq,
                    transition: e.transition.map_or("create".into(), |t| t.as_str().into()),
                    from_state: e.from_state.as_str().into(),
                    to_state: e.to_state.as_str().into(),
                    party: e.party.as_str().into(),
                    role: e.role,
                    institution_id: e.institution_id.map(|i| i.as_uuid()),
                    at: e.at,
                    reason: e.reason,
                    note: e.note,
                    payload: e.payload,
                })
                .collect(),
            allowed_transitions: v.allowed.iter().map(|t| t.as_str().into()).collect(),
            escalation: v.escalation.as_str().into(),
            basis: v.basis.as_str().into(),
            follow_up: v.follow_up.as_ref().map(FollowUpView::from),
            children: v.children.iter().map(|c| c.id).collect(),
            green: v.green.map(GreenView::from),
        }
    }
}

/// One interval of a green case.
#[derive(Debug, Serialize, ToSchema)]
pub struct MetricValue {
    /// `fmc_to_ecg`, `door_to_balloon`, `door_to_needle`…
    metric: String,
    /// Minutes, when both stamps exist.
    minutes: Option<i64>,
    /// Target in minutes, when one is loaded.
    target_minutes: Option<i64>,
    /// Whether the target is met.
    compliant: Option<bool>,
}

/// A green case.
#[derive(Debug, Serialize, ToSchema)]
pub struct GreenView {
    centre: String,
    /// (milestone, time, source).
    stamps: Vec<(String, DateTime<Utc>, String)>,
    /// The centre's interval metrics.
    metrics: Vec<MetricValue>,
    /// Milestones stamped out of order: (should be first, stamped before it).
    out_of_order: Vec<(String, String)>,
}

impl From<referral::GreenCase> for GreenView {
    fn from(g: referral::GreenCase) -> Self {
        Self {
            centre: g.centre.as_str().into(),
            stamps: g
                .stamps
                .iter()
                .map(|s| (s.milestone.as_str().into(), s.at, s.source.as_str().into()))
                .collect(),
            metrics: g
                .metrics
                .iter()
                .map(|m| MetricValue {
                    metric: m.metric.code.into(),
                    minutes: m.minutes,
                    target_minutes: m.metric.target.map(|t| t.0),
                    compliant: m.compliant,
                })
                .collect(),
            out_of_order: g
                .out_of_order
                .iter()
                .map(|o| (o.earlier.as_str().into(), o.later.as_str().into()))
                .collect(),
        }
    }
}

/// Creates a referral and (unless `submit` is false) submits it.
#[utoipa::path(post, path = "/api/v1/referrals", tag = "referral", security(("bearer" = [])),
    request_body = ReferralInput,
    responses((status = 201, body = ReferralDetail), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody, description = "Invalid fields; an institution outside the network without out_of_network")))]
async fn create_referral(
    State(ctx): State<AppState>,
    caller: Caller,
    AppJson(body): AppJson<ReferralInput>,
) -> Result<(StatusCode, Json<ReferralDetail>), ApiError> {
    let submit = body.submit;
    let view = referral::create(&ctx, caller.actor(), body.into(), submit).await?;
    Ok((StatusCode::CREATED, Json(view.into())))
}

/// Worklist query.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct WorklistQuery {
    /// `new` (default), `overdue`, `to_schedule`, `expected`, `in_care`, `completed`, `sent`, `drafts`.
    tab: Option<String>,
    /// Only this priority.
    priority: Option<String>,
    /// 1 to 200 (default 50).
    page_size: Option<u32>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
}

/// One worklist line.
#[derive(Debug, Serialize, ToSchema)]
pub struct WorklistLine {
    #[serde(flatten)]
    referral: ReferralSummary,
    patient_name: Option<String>,
    patient_sex: Option<String>,
    patient_birth_date: Option<String>,
    from_name: String,
    to_name: String,
    escalation: String,
}

/// A worklist page.
#[derive(Debug, Serialize, ToSchema)]
pub struct WorklistView {
    items: Vec<WorklistLine>,
    next_cursor: Option<String>,
    /// Open referrals per tab.
    counts: std::collections::BTreeMap<String, i64>,
}

/// The referral-centre worklist of the caller's institutions, by priority and deadline.
#[utoipa::path(get, path = "/api/v1/referrals", tag = "referral", security(("bearer" = [])), params(WorklistQuery),
    responses((status = 200, body = WorklistView), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn list_referrals(
    State(ctx): State<AppState>,
    caller: Caller,
    AppQuery(q): AppQuery<WorklistQuery>,
) -> Result<Json<WorklistView>, ApiError> {
    let tab = match q.tab.as_deref() {
        None => Tab::New,
        Some(t) => Tab::parse(t).ok_or_else(|| Invalid::one("tab", "unknown_tab", "unknown worklist tab"))?,
    };
    let priority = match q.priority.as_deref() {
        None | Some("") => None,
        Some(p) => Some(
            Priority::parse(p)
                .ok_or_else(|| Invalid::one("priority", "priority_invalid", "routine, urgent or green"))?,
        ),
    };
    let size = q.page_size.unwrap_or(50);
    if !(1..=200).contains(&size) {
        return Err(Invalid::one("page_size", "out_of_range", "page_size must be 1 to 200").into());
    }
    let page = PageRequest { size, after: q.cursor };
    let w = referral::worklist(&ctx, caller.actor(), tab, priority, &page).await?;
    Ok(Json(WorklistView {
        items: w
            .page
            .items
            .iter()
            .map(|i| WorklistLine {
                referral: (&i.referral).into(),
                patient_name: i.patient_name.clone(),
                patient_sex: i.patient_sex.clone(),
                patient_birth_date: i.patient_birth_date.clone(),
                from_name: i.from_name.clone(),
                to_name: i.to_name.clone(),
                escalation: i.escalation.as_str().into(),
            })
            .collect(),
        next_cursor: w.page.next_after,
        counts: w.counts.into_iter().map(|(k, v)| (k.to_owned(), v)).collect(),
    }))
}

/// One referral with its trail.
#[utoipa::path(get, path = "/api/v1/referrals/{id}", tag = "referral", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Referral")),
    responses((status = 200, body = ReferralDetail), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn get_referral(
    State(ctx): State<AppState>,
    caller: Caller,
    AppPath(id): AppPath<Uuid>,
) -> Result<Json<ReferralDetail>, ApiError> {
    Ok(Json(referral::get(&ctx, caller.actor(), id).await?.into()))
}

/// A transition of the referral state machine.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransitionInput {
    /// `submit`, `accept`, `reject`, `redirect`, `schedule`, `reschedule`, `arrive`, `start_care`,
    /// `complete`, `close`, `cancel`, `send_out`.
    transition: String,
    /// The version the caller saw; a stale one is refused with 409 `referral_stale`.
    version: i32,
    /// Department assigned (accept) or new department (redirect).
    department_id: Option<Uuid>,
    /// Slot (schedule).
    slot_at: Option<DateTime<Utc>>,
    /// Slot or bed as written.
    slot_text: Option<String>,
    /// Reason code (reject, cancel, close).
    reason: Option<String>,
    /// Free text.
    note: Option<String>,
    /// New target (redirect).
    institution_id: Option<Uuid>,
    /// Outcome (complete): `outpatient`, `admitted_discharged`, `died`, `transferred_on`.
    outcome: Option<String>,
    /// External institution (send out).
    external_institution: Option<String>,
    /// External reference (send out).
    external_reference: Option<String>,
}

/// Performs a transition. A transition not allowed from the current state answers 409 with the
/// state and the allowed transitions; a stale version 409 `referral_stale`.
#[utoipa::path(post, path = "/api/v1/referrals/{id}/transitions", tag = "referral", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Referral")), request_body = TransitionInput,
    responses((status = 200, body = ReferralDetail), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn transition_referral(
    State(ctx): State<AppState>,
    caller: Caller,
    AppPath(id): AppPath<Uuid>,
    AppJson(body): AppJson<TransitionInput>,
) -> Result<Json<ReferralDetail>, ApiError> {
    let transition = Transition::parse(&body.transition)
        .filter(|t| !matches!(t, Transition::Expire | Transition::MarkNoShow))
        .ok_or_else(|| {
            Invalid::one("transition", "transition_invalid", "not a transition a user performs")
        })?;
    let change = Change {
        version: body.version,
        department_id: body.department_id.map(DepartmentId::from_uuid),
        slot_at: body.slot_at,
        slot_text: body.slot_text,
        reason: body.reason,
        note: body.note,
        institution_id: body.institution_id.map(InstitutionId::from_uuid),
        outcome: body.outcome,
        external_institution: body.external_institution,
        external_reference: body.external_reference,
    };
    let actor = caller.actor();
    let view = referral::transition(&ctx, actor, actor.consortium_id, id, transition, change).await?;
    Ok(Json(view.into()))
}

/// A green-channel time stamp.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StampInput {
    /// A milestone of the centre's chain (`first_medical_contact`, `ecg`, `door`, `balloon`…).
    milestone: String,
    /// When it happened.
    at: DateTime<Utc>,
    /// `device`, `manual` (default) or `derived`.
    source: Option<String>,
}

/// Records or corrects one time stamp of a green referral.
#[utoipa::path(post, path = "/api/v1/referrals/{id}/stamps", tag = "referral", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Referral")), request_body = StampInput,
    responses((status = 200, body = GreenView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
async fn record_stamp(
    State(ctx): State<AppState>,
    caller: Caller,
    AppPath(id): AppPath<Uuid>,
    AppJson(body): AppJson<StampInput>,
) -> Result<Json<GreenView>, ApiError> {
    let milestone = Milestone::parse(&body.milestone)
        .ok_or_else(|| Invalid::one("milestone", "milestone_invalid", "unknown milestone"))?;
    let source = match body.source.as_deref() {
        None => StampSource::Manual,
        Some(s) => StampSource::parse(s)
            .ok_or_else(|| Invalid::one("source", "source_invalid", "device, manual or derived"))?,
    };
    let case = referral::record_stamp(&ctx, caller.actor(), id, milestone, body.at, source).await?;
    Ok(Json(case.into()))
}

/// A follow-up task.
#[derive(Debug, Serialize, ToSchema)]
pub struct FollowUpView {
    id: Uuid,
    referral_id: Uuid,
    institution_id: Uuid,
    patient_record_id: Uuid,
    due_on: NaiveDate,
    high_risk: bool,
    /// `open`, `done`.
    state: String,
    done_at: Option<DateTime<Utc>>,
    note: Option<String>,
}

impl From<&FollowUp> for FollowUpView {
    fn from(t: &FollowUp) -> Self {
        Self {
            id: t.id,
            referral_id: t.referral_id,
            institution_id: t.institution_id.as_uuid(),
            patient_record_id: t.patient_record_id.as_uuid(),
            due_on: t.due_on,
            high_risk: t.high_risk,
            state: t.state.clone(),
            done_at: t.done_at,
            note: t.note.clone(),
        }
    }
}

/// Open follow-up tasks at the caller's institutions, soonest due first.
#[utoipa::path(get, path = "/api/v1/follow-ups", tag = "referral", security(("bearer" = [])),
    responses((status = 200, body = Vec<FollowUpView>), (status = 403, body = ErrorBody)))]
async fn list_follow_ups(
    State(ctx): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<FollowUpView>>, ApiError> {
    let tasks = referral::follow_ups(&ctx, caller.actor(), 200).await?;
    Ok(Json(tasks.iter().map(FollowUpView::from).collect()))
}

/// Completing a follow-up.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CompleteInput {
    /// What the follow-up found and did.
    note: String,
}

/// Completes a follow-up: the down-referral and (by the loop rule) its up-referral close.
#[utoipa::path(post, path = "/api/v1/follow-ups/{id}/complete", tag = "referral", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Follow-up task")), request_body = CompleteInput,
    responses((status = 200, body = FollowUpView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn complete_follow_up(
    State(ctx): State<AppState>,
    caller: Caller,
    AppPath(id): AppPath<Uuid>,
    AppJson(body): AppJson<CompleteInput>,
) -> Result<Json<FollowUpView>, ApiError> {
    let task = referral::complete_follow_up(&ctx, caller.actor(), id, &body.note).await?;
    Ok(Json((&task).into()))
}

/// A notification.
#[derive(Debug, Serialize, ToSchema)]
pub struct NotificationView {
    id: Uuid,
    /// `referral_received`, `green_page`, `referral_accepted`, `referral_{transition}` (to the
    /// sender); reminders: `referral_escalated_on_duty`, `referral_escalated_medical_affairs`,
    /// `green_page_unacknowledged`, `follow_up_overdue`; exam items: `report_ready`,
    /// `report_preliminary`, `report_amended`, `exam_rejected`, `critical_value`,
    /// `critical_escalated`.
    kind: String,
    referral_id: Option<Uuid>,
    /// The exam item it is about.
    order_id: Option<Uuid>,
    #[schema(value_type = Object)]
    params: serde_json::Value,
    urgent: bool,
    created_at: DateTime<Utc>,
    read_at: Option<DateTime<Utc>>,
}

impl From<&Notification> for NotificationView {
    fn from(n: &Notification) -> Self {
        Self {
            id: n.id,
            kind: n.kind.clone(),
            referral_id: n.referral_id,
            order_id: n.order_id,
            params: n.params.clone(),
            urgent: n.urgent,
            created_at: n.created_at,
            read_at: n.read_at,
        }
    }
}

/// The caller's newest notifications (their own and their role's at their institution).
#[utoipa::path(get, path = "/api/v1/notifications", tag = "referral", security(("bearer" = [])),
    responses((status = 200, body = Vec<NotificationView>)))]
async fn list_notifications(
    State(ctx): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<NotificationView>>, ApiError> {
    let list = referral::notifications(&ctx, caller.actor(), 100).await?;
    Ok(Json(list.iter().map(NotificationView::from).collect()))
}

/// Notifications to mark read.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReadInput {
    /// Ids (others' are ignored).
    ids: Vec<Uuid>,
}

/// Marks notifications read.
#[utoipa::path(post, path = "/api/v1/notifications/read", tag = "referral", security(("bearer" = [])),
    request_body = ReadInput, responses((status = 204)))]
async fn read_notifications(
    State(ctx): State<AppState>,
    caller: Caller,
    AppJson(body): AppJson<ReadInput>,
) -> Result<StatusCode, ApiError> {
    if body.ids.len() > 500 {
        return Err(Invalid::one("ids", "too_many", "at most 500 at once").into());
    }
    referral::mark_read(&ctx, caller.actor(), &body.ids).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Metrics query.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct MetricsParams {
    /// First day (China time); default a year before `to`.
    from: Option<NaiveDate>,
    /// Last day, inclusive; default today.
    to: Option<NaiveDate>,
    /// `month` (default), `receiving`, `sending`.
    group: Option<String>,
    /// Drill-down: the measure (default `arrived`; `submitted`, `accepted`, `rejected`, `accepted_arrived`,
    /// `completed_up`, `closed_loop`, `overdue`).
    measure: Option<String>,
    /// Drill-down: one group key (month or institution id).
    key: Option<String>,
}

fn metrics_query(q: &MetricsParams, now: DateTime<Utc>) -> Result<MetricsQuery, ApiError> {
    let group = match q.group.as_deref() {
        None => Group::Month,
        Some(g) => Group::parse(g)
            .ok_or_else(|| Invalid::one("group", "group_invalid", "month, receiving or sending"))?,
    };
    let to = q.to.unwrap_or_else(|| (now + chrono::Duration::hours(8)).date_naive());
    let from = q.from.unwrap_or_else(|| to - chrono::Duration::days(364));
    Ok(MetricsQuery { from, to, group })
}

/// A ratio with its parts.
#[derive(Debug, Serialize, ToSchema)]
pub struct RatioView {
    num: u64,
    den: u64,
    /// Percent; null without a denominator.
    percent: Option<f64>,
}

impl From<Ratio> for RatioView {
    fn from(r: Ratio) -> Self {
        Self { num: r.num, den: r.den, percent: r.percent() }
    }
}

/// The metrics of one group.
#[derive(Debug, Serialize, ToSchema)]
pub struct TallyView {
    key: String,
    label: String,
    submitted_up: u64,
    submitted_down: u64,
    /// Up-referrals that arrived (the up count).
    arrived_up: u64,
    /// Down-referrals that arrived (the down count).
    arrived_down: u64,
    acceptance: RatioView,
    acceptance_green: RatioView,
    arrival: RatioView,
    closed_loop: RatioView,
    median_accept_minutes_routine: Option<f64>,
    median_accept_minutes_urgent: Option<f64>,
    overdue: u64,
}

fn tally_view(key: String, label: String, t: &Tally) -> TallyView {
    TallyView {
        key,
        label,
        submitted_up: t.count(Measure::Submitted, Some(Direction::Upward)),
        submitted_down: t.count(Measure::Submitted, Some(Direction::Downward)),
        arrived_up: t.count(Measure::Arrived, Some(Direction::Upward)),
        arrived_down: t.count(Measure::Arrived, Some(Direction::Downward)),
        acceptance: t.acceptance(false).into(),
        acceptance_green: t.acceptance(true).into(),
        arrival: t.arrival().into(),
        closed_loop: t.closed_loop().into(),
        median_accept_minutes_routine: t.median_accept_minutes(Priority::Routine),
        median_accept_minutes_urgent: t.median_accept_minutes(Priority::Urgent),
        overdue: t.count(Measure::Overdue, None),
    }
}

/// The metrics of a period.
#[derive(Debug, Serialize, ToSchema)]
pub struct MetricsView {
    groups: Vec<TallyView>,
    total: TallyView,
    computed_at: DateTime<Utc>,
}

/// Referral metrics (DESIGN.md §7.3) for the caller's scope, by month or institution.
#[utoipa::path(get, path = "/api/v1/referral-metrics", tag = "referral", security(("bearer" = [])), params(MetricsParams),
    responses((status = 200, body = MetricsView), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn get_metrics(
    State(ctx): State<AppState>,
    caller: Caller,
    AppQuery(q): AppQuery<MetricsParams>,
) -> Result<Json<MetricsView>, ApiError> {
    let query = metrics_query(&q, yigong_app::Clock::now(ctx.clock.as_ref()))?;
    let r = referral::metrics(&ctx, caller.actor(), &query).await?;
    Ok(Json(MetricsView {
        groups: r.groups.iter().map(|(k, l, t)| tally_view(k.clone(), l.clone(), t)).collect(),
        total: tally_view("total".into(), "total".into(), &r.total),
        computed_at: r.computed_at,
    }))
}

/// The referrals behind one number, de-identified.
#[utoipa::path(get, path = "/api/v1/referral-metrics/drill-down", tag = "referral", security(("bearer" = [])),
    params(MetricsParams),
    responses((status = 200, body = Vec<ReferralSummary>), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn drill_down(
    State(ctx): State<AppState>,
    caller: Caller,
    AppQuery(q): AppQuery<MetricsParams>,
) -> Result<Json<Vec<ReferralSummary>>, ApiError> {
    let query = metrics_query(&q, yigong_app::Clock::now(ctx.clock.as_ref()))?;
    let measure = Measure::parse(q.measure.as_deref().unwrap_or("arrived"))
        .ok_or_else(|| Invalid::one("measure", "measure_invalid", "unknown measure"))?;
    let list = referral::drill_down(&ctx, caller.actor(), &query, measure, q.key.as_deref()).await?;
    // De-identified: the patient's record id is withheld.
    Ok(Json(
        list.iter()
            .map(|r| ReferralSummary { patient_record_id: Uuid::nil(), ..ReferralSummary::from(r) })
            .collect(),
    ))
}
