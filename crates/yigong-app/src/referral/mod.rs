//! Two-way referral use cases (DESIGN.md §6.1): create and submit, every transition of the
//! state machine with optimistic concurrency, the referral centre's worklist, down-referral
//! follow-up tasks that close the loop, green-channel time stamps, notifications, timers and
//! metrics.
//!
//! Who acts is decided twice: `access::decide` (the role may write patient data at the
//! referral's sending or receiving institution) and the domain's `referral::decide` (the
//! [`Party`] that actor is may perform the transition from the current state).

use chrono::{DateTime, Utc};
use serde_json::json;
use uuid::Uuid;
use yigong_domain::access::{Actor, Basis, Permission, Role, Scope, Target};
use yigong_domain::facility::Institution;
use yigong_domain::ids::{ConsortiumId, DepartmentId, InstitutionId, PersonId};
use yigong_domain::referral::{
    self as domain, Direction, Given, NoDownReason, Outcome, Party, Priority, ReferralDraft, Refusal,
    Settings, State, Transition,
};
use yigong_domain::{Invalid, access};
use yigong_store::referral::{self as store, Event as StoredEvent, Stamp};
pub use yigong_store::referral::{FollowUp, Referral};
use yigong_store::{Tx, institution, mpi};

use crate::audit::{self, Event};
use crate::{AppError, Ctx};

pub mod fhir;
mod follow_up;
mod green;
mod metrics;
mod notify;
mod worklist;

pub use follow_up::{complete_follow_up, follow_ups};
pub use green::{GreenCase, green_month, record_stamp};
pub use metrics::{Group, MetricsQuery, MetricsReport, drill_down, metrics};
pub use notify::{
    LogNotifier, Notifier, REMINDER_KINDS, announce, deliver_pending, mark_read, notifications,
};
pub use worklist::{Tab, Worklist, WorklistItem, worklist};
pub use yigong_store::referral::{Event as ReferralEvent, Notification};

/// What a transition carries besides the transition itself.
#[derive(Debug, Clone, Default)]
pub struct Change {
    /// The version the caller saw (optimistic concurrency).
    pub version: i32,
    /// Department assigned (accept) or new department (redirect).
    pub department_id: Option<DepartmentId>,
    /// Slot (schedule, reschedule).
    pub slot_at: Option<DateTime<Utc>>,
    /// Slot or bed as written.
    pub slot_text: Option<String>,
    /// Reason code (reject, cancel, close).
    pub reason: Option<String>,
    /// Free text.
    pub note: Option<String>,
    /// New target institution (redirect).
    pub institution_id: Option<InstitutionId>,
    /// Outcome (complete).
    pub outcome: Option<String>,
    /// External institution and reference (send out).
    pub external_institution: Option<String>,
    /// External reference.
    pub external_reference: Option<String>,
}

/// A referral with what the viewer may do with it.
#[derive(Debug, Clone)]
pub struct ReferralView {
    /// The referral.
    pub referral: Referral,
    /// Its events, oldest first.
    pub events: Vec<StoredEvent>,
    /// Its follow-up task (down-referrals).
    pub follow_up: Option<FollowUp>,
    /// Down-referrals answering it.
    pub children: Vec<Referral>,
    /// What the viewer may do now, by party.
    pub allowed: Vec<Transition>,
    /// The viewer's sides.
    pub parties: Vec<Party>,
    /// The patient's record values (name, sex, birth date, ID…) for the slip.
    pub patient: Option<mpi::RecordRow>,
    /// The person behind the record.
    pub person_id: Option<PersonId>,
    /// Escalation now.
    pub escalation: domain::Escalation,
    /// The viewer's basis.
    pub basis: Basis,
    /// Green-channel case (stamps and metrics) for green referrals.
    pub green: Option<GreenCase>,
}

/// Refuses (and audits) a role that never has `permission`, before anything is looked up.
pub(crate) async fn gate(
    ctx: &Ctx,
    actor: &Actor,
    permission: Permission,
    event: Event<'_>,
) -> Result<(), AppError> {
    if access::role_permits(actor.role, permission) {
        return Ok(());
    }
    crate::access::authorize(ctx, actor, permission, &Target::consortium(actor.consortium_id), event).await?;
    Err(AppError::Forbidden { code: "forbidden" })
}

/// The sides `actor` acts on for `referral`, most specific first.
fn parties(actor: &Actor, r: &Referral) -> Vec<Party> {
    let reaches = |i: InstitutionId| match &actor.scope {
        Scope::Institutions(set) => set.contains(&i),
        Scope::Consortium => actor.consortium_id == r.consortium_id && actor.institution_id == Some(i),
        Scope::County(_) => false,
    };
    if !access::role_permits(actor.role, Permission::PatientWrite) || actor.consortium_id != r.consortium_id {
        return vec![];
    }
    let centre = actor.role == Role::ReferralCoordinator;
    let mut out = Vec::new();
    if r.to_institution_id.is_some_and(reaches) {
        out.push(if centre { Party::ReceivingCentre } else { Party::ReceivingClinician });
    }
    if reaches(r.from_institution_id) {
        out.push(if centre { Party::SendingCentre } else { Party::SendingClinician });
    }
    out
}

fn transition_error(r: Refusal) -> AppError {
    match r {
        Refusal::Missing { missing, transition } => {
            Invalid::one(field_of(missing), "required", format!("{transition} needs {missing}")).into()
        }
        other => AppError::Transition {
            code: other.code(),
            message: other.to_string(),
            state: match &other {
                Refusal::InvalidTransition { state, .. } | Refusal::WrongParty { state, .. } => {
                    Some(state.as_str())
                }
                _ => None,
            },
            allowed: match &other {
                Refusal::InvalidTransition { allowed, .. } => allowed.iter().map(|t| t.as_str()).collect(),
                _ => vec![],
            },
        },
    }
}

fn field_of(missing: &'static str) -> &'static str {
    match missing {
        "department" => "department_id",
        "slot" => "slot_at",
        "new_target" => "institution_id",
        "external" => "external_institution",
        other => other,
    }
}

async fn institution_in(
    tx: &mut Tx,
    consortium: ConsortiumId,
    id: InstitutionId,
) -> Result<Institution, AppError> {
    institution::find(tx, consortium, id).await?.ok_or(AppError::not_found("institution"))
}

/// The clinical content of a slip, as it is stored and printed.
pub struct Slip<'a> {
    /// 主诉
    pub chief_complaint: &'a Option<String>,
    /// 病情描述
    pub condition: &'a str,
    /// Diagnoses (ICD-10 code, name), primary first.
    pub diagnoses: &'a [(String, String)],
    /// Tests done with results.
    pub tests: &'a [domain::SlipTest],
    /// Treatment so far.
    pub treatment: &'a Option<String>,
    /// 注意事项
    pub precautions: &'a Option<String>,
    /// Downward details.
    pub downward: &'a Option<domain::DownwardDetails>,
}

/// The slip's JSON (the `slip` column): one shape for the use case and for loaders.
pub fn slip(s: &Slip<'_>) -> serde_json::Value {
    json!({
        "chief_complaint": s.chief_complaint,
        "condition": s.condition,
        "diagnoses": s.diagnoses.iter().map(|(c, n)| json!({"code": c, "name": n})).collect::<Vec<_>>(),
        "tests": s.tests,
        "treatment": s.treatment,
        "precautions": s.precautions,
        "downward": s.downward,
    })
}

/// Recomputes what the worklist and timers read from the state.
fn derive(r: &mut Referral, settings: &Settings, now: DateTime<Utc>) {
    let facts = r.facts();
    r.sla_due = domain::sla_due(&facts, settings);
    r.work_rank = match r.priority {
        Priority::Green => 0,
        Priority::Urgent => 1,
        Priority::Routine => 2,
    };
    r.work_at = match r.state {
        State::Submitted | State::Accepted => r.sla_due.unwrap_or(now),
        State::Scheduled => r.slot_at.unwrap_or(now),
        State::Arrived | State::InCare => r.arrived_at.unwrap_or(now),
        _ => r.updated_at,
    };
    r.timer_due = match r.state {
        State::Accepted => domain::expiry_due(&facts, settings),
        State::Scheduled => domain::no_show_due(&facts, settings),
        _ => None,
    };
}

fn slip_number(now: DateTime<Utc>, id: Uuid) -> String {
    let china = now.with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).expect("valid offset"));
    let tail = id.simple().to_string();
    format!("ZZ{}{}", china.format("%Y%m%d"), tail[tail.len() - 6..].to_uppercase())
}

/// Creates a referral as a draft, and submits it when `submit` is set (the first doctor
/// decides; green referrals are accepted at once and page the receiving centre).
pub async fn create(
    ctx: &Ctx,
    actor: &Actor,
    draft: ReferralDraft,
    submit: bool,
) -> Result<ReferralView, AppError> {
    let consortium = actor.consortium_id;
    gate(ctx, actor, Permission::PatientWrite, Event::of("create", "referral")).await?;
    let Some(from) = actor.institution_id else {
        return Err(Invalid::one(
            "institution",
            "no_acting_institution",
            "referrals are sent by an institution",
        )
        .into());
    };
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin_write().await?;
    let from_inst = institution_in(&mut tx, consortium, from).await?;
    // A target that is not a member of this consortium is out of network: only as a hand-off.
    let to_inst = match draft.to_institution_id {
        Some(to) if !draft.out_of_network => match institution::find(&mut tx, consortium, to).await? {
            Some(i) => Some(i),
            None => {
                return Err(Invalid::one(
                    "to_institution_id",
                    "out_of_network",
                    "the target is not a member of this consortium; an out-of-network hand-off sets out_of_network \
                     and names external_institution",
                )
                .into());
            }
        },
        _ => None,
    };
    let not_member =
        |field| Invalid::one(field, "not_a_member", "agencies neither send nor receive referrals");
    let from_tier = from_inst.kind.tier().ok_or_else(|| not_member("institution"))?;
    let to_tier = match &to_inst {
        Some(i) => Some(i.kind.tier().ok_or_else(|| not_member("to_institution_id"))?),
        None => None,
    };
    let valid = domain::validate_referral(&draft, from_tier, to_tier)?;
    let record = mpi::records_by_ids(&mut tx, consortium, &[valid.patient_record_id]).await?;
    if record.is_empty() {
        return Err(Invalid::one("patient_record_id", "not_found", "no such patient record").into());
    }
    let person = mpi::person_of(&mut tx, consortium, valid.patient_record_id).await?;
    for (dept, field, inst) in [
        (valid.from_department_id, "from_department_id", Some(from)),
        (valid.to_department_id, "to_department_id", valid.to_institution_id),
    ] {
        if let Some(d) = dept {
            let found = yigong_store::department::find(&mut tx, consortium, d).await?;
            if found.is_none_or(|d| Some(d.institution_id) != inst) {
                return Err(Invalid::one(
                    field,
                    "department_not_of_institution",
                    "the department is not of that institution",
                )
                .into());
            }
        }
    }
    let target = Target {
        consortium_id: consortium,
        institution_id: Some(from),
        patient: person.map(|p| p.as_uuid()),
    };
    let basis = match access::decide(actor, Permission::PatientWrite, &target, now) {
        Ok(b) => b,
        Err(denial) => {
            drop(tx);
            crate::access::authorize(
                ctx,
                actor,
                Permission::PatientWrite,
                &target,
                Event::of("create", "referral"),
            )
            .await?;
            return Err(AppError::Forbidden { code: denial.code() });
        }
    };
    let parent = draft.parent_id;
    let id = Uuid::now_v7();
    let slip = slip(&Slip {
        chief_complaint: &valid.chief_complaint,
        condition: &valid.condition,
        diagnoses: &valid.diagnoses,
        tests: &valid.tests,
        treatment: &valid.treatment,
        precautions: &valid.precautions,
        downward: &valid.downward,
    });
    let mut r = Referral {
        consortium_id: consortium,
        id,
        slip_no: slip_number(now, id),
        direction: valid.direction,
        priority: valid.priority,
        state: State::Draft,
        version: 1,
        patient_record_id: valid.patient_record_id,
        from_institution_id: from,
        from_department_id: valid.from_department_id,
        from_staff_id: actor.staff_id,
        from_user_id: Some(actor.user_id),
        to_institution_id: valid.to_institution_id,
        to_department_id: valid.to_department_id,
        external_institution: valid.external_institution.clone(),
        external_reference: None,
        lateral: valid.lateral,
        reason: valid.reason.as_str().to_owned(),
        reason_text: valid.reason_text.clone(),
        green_centre: valid.green_centre,
        slip,
        certificate_class: valid.certificate.as_ref().map(|c| c.0),
        certificate_issued: valid.certificate.as_ref().map(|c| c.1),
        certificate_no: valid.certificate.as_ref().and_then(|c| c.2.clone()),
        consent: valid.consent,
        parent_id: parent,
        high_risk: valid.downward.as_ref().is_some_and(|d| d.high_risk),
        discharged_on: valid.downward.as_ref().map(|d| d.discharged_on),
        created_at: now,
        submitted_at: None,
        sla_started_at: None,
        redirects: 0,
        accepted_at: None,
        rejected_at: None,
        slot_at: None,
        slot_text: None,
        arrived_at: None,
        completed_at: None,
        closed_at: None,
        outcome: None,
        no_down_reason: None,
        closed_loop: None,
        sla_due: None,
        work_rank: 2,
        work_at: now,
        timer_due: None,
        updated_at: now,
    };
    if let Some(p) = parent {
        let up = store::find(&mut tx, consortium, p).await?.ok_or(AppError::not_found("referral"))?;
        if up.direction != Direction::Upward
            || up.to_institution_id != Some(from)
            || up.patient_record_id != r.patient_record_id
        {
            return Err(Invalid::one(
                "parent_id",
                "parent_mismatch",
                "a down-referral answers an up-referral of the same patient received by this institution",
            )
            .into());
        }
    }
    derive(&mut r, &ctx.referral, now);
    store::insert(&mut tx, &r).await?;
    fhir::mirror(&mut tx, &r, Some(actor.user_id), now).await?;
    store::insert_event(
        &mut tx,
        consortium,
        id,
        &event(actor, None, State::Draft, State::Draft, party_of_creator(actor), now, None, None, json!({})),
    )
    .await?;
    audit::record(
        ctx,
        &mut tx,
        actor,
        consortium,
        basis,
        Event { patient_id: person.map(|p| p.as_uuid()), ..Event::on("create", "referral", id) },
    )
    .await?;
    if submit {
        let party = party_of_creator(actor);
        let change = Change { version: r.version, ..Change::default() };
        apply(ctx, &mut tx, actor, &mut r, Transition::Submit, party, &change, person).await?;
    }
    // A down-referral created at discharge completes the up-referral it answers.
    if let Some(p) = parent {
        let mut up = store::find(&mut tx, consortium, p).await?.ok_or(AppError::not_found("referral"))?;
        if up.state == State::InCare {
            let change = Change {
                version: up.version,
                outcome: Some(Outcome::AdmittedDischarged.as_str().into()),
                ..Change::default()
            };
            apply(ctx, &mut tx, actor, &mut up, Transition::Complete, Party::System, &change, person).await?;
        }
    }
    tx.commit().await?;
    get(ctx, actor, id).await
}

fn party_of_creator(actor: &Actor) -> Party {
    if actor.role == Role::ReferralCoordinator { Party::SendingCentre } else { Party::SendingClinician }
}

#[allow(clippy::too_many_arguments)]
fn event(
    actor: &Actor,
    transition: Option<Transition>,
    from: State,
    to: State,
    party: Party,
    at: DateTime<Utc>,
    reason: Option<String>,
    note: Option<String>,
    payload: serde_json::Value,
) -> StoredEvent {
    let system = party == Party::System;
    StoredEvent {
        seq: 0,
        transition,
        from_state: from,
        to_state: to,
        party,
        user_id: (!system || actor.user_id != Uuid::nil()).then_some(actor.user_id),
        staff_id: actor.staff_id,
        role: Some(actor.role.as_str().to_owned()),
        institution_id: actor.institution_id,
        at,
        reason,
        note,
        payload,
    }
}

/// Performs one transition on a loaded referral inside `tx`: decides, records the event,
/// updates the row if its version is still the one loaded, notifies, and runs what follows
/// (follow-up task, loop closing).
#[allow(clippy::too_many_arguments)]
async fn apply(
    ctx: &Ctx,
    tx: &mut Tx,
    actor: &Actor,
    r: &mut Referral,
    transition: Transition,
    party: Party,
    change: &Change,
    person: Option<PersonId>,
) -> Result<(), AppError> {
    Box::pin(apply_inner(ctx, tx, actor, r, transition, party, change, person)).await
}

#[allow(clippy::too_many_arguments)]
async fn apply_inner(
    ctx: &Ctx,
    tx: &mut Tx,
    actor: &Actor,
    r: &mut Referral,
    transition: Transition,
    party: Party,
    change: &Change,
    person: Option<PersonId>,
) -> Result<(), AppError> {
    let now = ctx.clock.now();
    let consortium = r.consortium_id;
    let settings = &ctx.referral;
    let reason = change.reason.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned);
    let loop_rule = transition == Transition::Close && party == Party::System && loop_closed(tx, r).await?;
    let given = Given {
        department: change.department_id.is_some() || r.to_department_id.is_some(),
        slot: change.slot_at.is_some(),
        reason: reason.is_some(),
        new_target: change.institution_id.is_some(),
        outcome: change.outcome.is_some(),
        external: change.external_institution.as_deref().is_some_and(|e| !e.trim().is_empty()),
        loop_rule,
    };
    let step =
        domain::decide(&r.facts(), transition, party, given, settings, now).map_err(transition_error)?;
    let expected = r.version;
    let from_state = r.state;
    let mut payload = serde_json::Map::new();
    // Codes are checked against their lists; what each transition records is written.
    match transition {
        Transition::Submit => {
            if r.submitted_at.is_none() {
                r.submitted_at = Some(now);
            }
            r.sla_started_at = Some(now);
            supersede_or_refuse(ctx, tx, actor, r, person).await?;
            if step.auto_accepted {
                r.accepted_at = Some(now);
                payload.insert("auto_accepted".into(), json!(true));
            }
        }
        Transition::Accept => {
            if let Some(d) = change.department_id {
                check_department(tx, consortium, d, r.to_institution_id).await?;
                r.to_department_id = Some(d);
            }
            r.accepted_at = Some(now);
            payload.insert("department_id".into(), json!(r.to_department_id));
        }
        Transition::Reject => {
            let code = reason.as_deref().unwrap_or_default();
            if domain::RejectReason::parse(code).is_none() {
                return Err(Invalid::one("reason", "reason_invalid", "not a rejection reason code").into());
            }
            r.rejected_at = Some(now);
        }
        Transition::Redirect => {
            let to = change.institution_id.expect("checked by decide");
            let inst = institution::find(tx, consortium, to).await?;
            let Some(inst) = inst else {
                return Err(Invalid::one(
                    "institution_id",
                    "out_of_network",
                    "the new target is not a member of this consortium",
                )
                .into());
            };
            let from_inst = institution_in(tx, consortium, r.from_institution_id).await?;
            let (Some(to_tier), Some(from_tier)) = (inst.kind.tier(), from_inst.kind.tier()) else {
                return Err(Invalid::one(
                    "institution_id",
                    "not_a_member",
                    "agencies do not receive referrals",
                )
                .into());
            };
            let upward_ok = to_tier.is_county_level() || !from_tier.is_county_level();
            if inst.id == r.from_institution_id || (r.direction == Direction::Upward && !upward_ok) {
                return Err(Invalid::one(
                    "institution_id",
                    "direction_mismatch",
                    "the new target does not fit the referral's direction",
                )
                .into());
            }
            if let Some(d) = change.department_id {
                check_department(tx, consortium, d, Some(to)).await?;
            }
            payload.insert("from_institution_id".into(), json!(r.to_institution_id));
            payload.insert("institution_id".into(), json!(to));
            r.to_institution_id = Some(to);
            r.to_department_id = change.department_id;
            r.redirects += 1;
            r.sla_started_at = Some(now);
        }
        Transition::Schedule | Transition::Reschedule => {
            r.slot_at = change.slot_at;
            r.slot_text = change.slot_text.clone().filter(|s| !s.trim().is_empty());
            payload.insert("slot_at".into(), json!(r.slot_at));
            payload.insert("slot_text".into(), json!(r.slot_text));
        }
        Transition::Arrive => {
            r.arrived_at = Some(now);
            if let Some((_, until)) = certificate_expiry(r)
                && now.date_naive() > until
            {
                payload.insert("certificate_expired".into(), json!(until));
            }
        }
        Transition::StartCare => {}
        Transition::Complete => {
            let code = change.outcome.as_deref().unwrap_or_default();
            let Some(outcome) = Outcome::parse(code) else {
                return Err(Invalid::one("outcome", "outcome_invalid", "not an outcome code").into());
            };
            r.outcome = Some(outcome);
            r.completed_at = Some(now);
        }
        Transition::Close => {
            if party != Party::System {
                let code = reason.as_deref().unwrap_or_default();
                let Some(no_down) = NoDownReason::parse(code) else {
                    return Err(Invalid::one(
                        "reason",
                        "reason_invalid",
                        "not a no-down-referral reason code",
                    )
                    .into());
                };
                r.no_down_reason = Some(no_down);
            }
            r.closed_loop = Some(domain::closes_loop(loop_rule, r.no_down_reason));
            r.closed_at = Some(now);
        }
        Transition::Cancel => {
            if domain::CancelReason::parse(reason.as_deref().unwrap_or_default()).is_none() {
                return Err(Invalid::one("reason", "reason_invalid", "not a cancellation reason code").into());
            }
        }
        Transition::SendOut => {
            r.external_institution = change.external_institution.clone();
            r.external_reference = change.external_reference.clone();
            r.to_institution_id = None;
            payload.insert("external_institution".into(), json!(r.external_institution));
        }
        Transition::Expire | Transition::MarkNoShow => {}
    }
    r.state = step.to;
    r.version += 1;
    r.updated_at = now;
    derive(r, settings, now);
    store::update(tx, r, expected).await?;
    fhir::mirror(tx, r, Some(actor.user_id), now).await?;
    let seq = store::events(tx, consortium, r.id).await?.len() as i32 + 1;
    let mut e = event(
        actor,
        Some(transition),
        from_state,
        r.state,
        party,
        now,
        reason,
        change.note.clone(),
        payload.into(),
    );
    e.seq = seq;
    store::insert_event(tx, consortium, r.id, &e).await?;
    audit::record(
        ctx,
        tx,
        actor,
        consortium,
        if party == Party::System { Basis::Administration } else { Basis::OwnInstitution },
        Event {
            patient_id: person.map(|p| p.as_uuid()),
            ..Event::on("update", "referral", r.id)
                .with_detail(format!("transition={transition} to={}", r.state))
        },
    )
    .await?;
    notify::on_transition(tx, r, transition, now).await?;
    // What follows a transition.
    if transition == Transition::Accept || (transition == Transition::Submit && step.auto_accepted) {
        follow_up::on_accept(ctx, tx, r, now).await?;
    }
    if r.state == State::Completed && r.direction == Direction::Upward && loop_closed(tx, r).await? {
        let change = Change { version: r.version, ..Change::default() };
        Box::pin(apply(ctx, tx, actor, r, Transition::Close, Party::System, &change, person)).await?;
    }
    Ok(())
}

async fn check_department(
    tx: &mut Tx,
    consortium: ConsortiumId,
    d: DepartmentId,
    inst: Option<InstitutionId>,
) -> Result<(), AppError> {
    let found = yigong_store::department::find(tx, consortium, d).await?;
    if found.is_none_or(|d| Some(d.institution_id) != inst) {
        return Err(Invalid::one(
            "department_id",
            "department_not_of_institution",
            "the department is not of the receiving institution",
        )
        .into());
    }
    Ok(())
}

/// The insurance certificate's class and last valid day.
pub fn certificate_expiry(r: &Referral) -> Option<(domain::CertificateClass, chrono::NaiveDate)> {
    let class = r.certificate_class?;
    Some((class, domain::certificate_valid_until(r.certificate_issued?, class)))
}

/// Whether an up-referral's loop closed by rule: a down-referral answering it was accepted and
/// its follow-up is done.
async fn loop_closed(tx: &mut Tx, r: &Referral) -> Result<bool, AppError> {
    if r.direction != Direction::Upward {
        // A down-referral closes when its follow-up is done.
        let task = store::follow_up_of(tx, r.consortium_id, r.id).await?;
        return Ok(task.is_some_and(|t| t.state == "done"));
    }
    for child in store::children(tx, r.consortium_id, r.id).await? {
        if child.accepted_at.is_some()
            && store::follow_up_of(tx, r.consortium_id, child.id).await?.is_some_and(|t| t.state == "done")
        {
            return Ok(true);
        }
    }
    Ok(false)
}

/// One live referral per patient and direction: a green submission supersedes a live routine or
/// urgent one (cancelled as `superseded_by_green`); anything else is refused.
async fn supersede_or_refuse(
    ctx: &Ctx,
    tx: &mut Tx,
    actor: &Actor,
    r: &Referral,
    person: Option<PersonId>,
) -> Result<(), AppError> {
    let records = match person {
        Some(p) => mpi::person_record_ids(tx, r.consortium_id, p).await?,
        None => vec![r.patient_record_id],
    };
    for mut live in store::live_for_records(tx, r.consortium_id, &records, r.direction).await? {
        if live.id == r.id {
            continue;
        }
        if r.priority == Priority::Green && live.priority != Priority::Green && live.state.before_arrival() {
            let change = Change {
                version: live.version,
                reason: Some(domain::CancelReason::SupersededByGreen.as_str().into()),
                note: Some(r.slip_no.clone()),
                ..Change::default()
            };
            Box::pin(apply(ctx, tx, actor, &mut live, Transition::Cancel, Party::System, &change, person))
                .await?;
        } else {
            return Err(AppError::Transition {
                code: "referral_live_exists",
                message: format!(
                    "the patient already has a live {} referral ({})",
                    r.direction, live.slip_no
                ),
                state: Some(live.state.as_str()),
                allowed: vec![],
            });
        }
    }
    Ok(())
}

/// Performs a transition asked by `actor`.
pub async fn transition(
    ctx: &Ctx,
    actor: &Actor,
    consortium: ConsortiumId,
    id: Uuid,
    transition: Transition,
    change: Change,
) -> Result<ReferralView, AppError> {
    gate(ctx, actor, Permission::PatientWrite, Event::on("update", "referral", id)).await?;
    let mut tx = ctx.db.begin_write().await?;
    let mut r = store::find(&mut tx, consortium, id).await?.ok_or(AppError::not_found("referral"))?;
    let sides = parties(actor, &r);
    if sides.is_empty() {
        drop(tx);
        return Err(refuse(ctx, actor, &r, "update").await);
    }
    if change.version != r.version {
        return Err(AppError::Conflict { rule: "referral_stale" });
    }
    // The first side that may perform it; otherwise the first side's refusal.
    let party = sides
        .iter()
        .copied()
        .find(|p| domain::allowed(r.state, *p).contains(&transition))
        .unwrap_or(sides[0]);
    let person = mpi::person_of(&mut tx, consortium, r.patient_record_id).await?;
    apply(ctx, &mut tx, actor, &mut r, transition, party, &change, person).await?;
    tx.commit().await?;
    get(ctx, actor, id).await
}

async fn refuse(ctx: &Ctx, actor: &Actor, r: &Referral, action: &str) -> AppError {
    let target = Target::institution(r.consortium_id, r.to_institution_id.unwrap_or(r.from_institution_id));
    match crate::access::authorize(
        ctx,
        actor,
        Permission::PatientWrite,
        &target,
        Event::on(action, "referral", r.id),
    )
    .await
    {
        Err(e) => e,
        // In scope of neither side: audited as a refusal all the same.
        Ok(_) => {
            let event = Event::on(action, "referral", r.id).with_detail("denial=out_of_scope");
            match audit::record_denied(
                ctx,
                Some(actor),
                Some(r.consortium_id),
                event,
                actor.request_id.clone(),
            )
            .await
            {
                Ok(()) => AppError::Forbidden { code: "out_of_scope" },
                Err(e) => e,
            }
        }
    }
}

/// One referral with its trail, as `actor` may see it (sending or receiving side; drafts only
/// to the sender). The read is audited.
pub async fn get(ctx: &Ctx, actor: &Actor, id: Uuid) -> Result<ReferralView, AppError> {
    let consortium = actor.consortium_id;
    gate(ctx, actor, Permission::PatientRead, Event::on("read", "referral", id)).await?;
    let mut tx = ctx.db.begin().await?;
    let r = store::find(&mut tx, consortium, id).await?.ok_or(AppError::not_found("referral"))?;
    let sides = parties_for_read(actor, &r);
    if sides.is_empty() {
        drop(tx);
        return Err(refuse(ctx, actor, &r, "read").await);
    }
    let events = store::events(&mut tx, consortium, id).await?;
    let follow_up = store::follow_up_of(&mut tx, consortium, id).await?;
    let children = store::children(&mut tx, consortium, id).await?;
    let patient = mpi::records_by_ids(&mut tx, consortium, &[r.patient_record_id]).await?.into_iter().next();
    let person_id = mpi::person_of(&mut tx, consortium, r.patient_record_id).await?;
    let green = match r.green_centre {
        Some(_) => Some(green::case_of(&mut tx, &r).await?),
        None => None,
    };
    drop(tx);
    let mut allowed: Vec<Transition> = Vec::new();
    for p in &sides {
        for t in domain::allowed(r.state, *p) {
            if !allowed.contains(&t) {
                allowed.push(t);
            }
        }
    }
    let basis = if sides.iter().any(|p| matches!(p, Party::SendingCentre | Party::SendingClinician)) {
        Basis::OwnInstitution
    } else {
        Basis::Referral
    };
    audit::record_read(
        ctx,
        actor,
        consortium,
        basis,
        Event { patient_id: person_id.map(|p| p.as_uuid()), ..Event::on("read", "referral", id) },
    )
    .await?;
    let escalation = domain::escalation(&r.facts(), &ctx.referral, ctx.clock.now());
    Ok(ReferralView {
        referral: r,
        events,
        follow_up,
        children,
        allowed,
        parties: sides,
        patient,
        person_id,
        escalation,
        basis,
        green,
    })
}

/// Sides for reading: a draft is the sender's alone.
fn parties_for_read(actor: &Actor, r: &Referral) -> Vec<Party> {
    let mut sides = parties(actor, r);
    if r.state == State::Draft {
        sides.retain(|p| matches!(p, Party::SendingCentre | Party::SendingClinician));
    }
    sides
}

/// The referral grants of `actor` on one person: for clinicians of the receiving institutions,
/// every accepted referral of the person's records, from acceptance until the referral ends plus
/// [`Settings::grant_after_end`] (DESIGN.md §5.1, basis `referral`). Looked up when a read needs
/// them, so that a hospital's years of referrals never weigh on every request.
pub(crate) async fn grants_on(
    ctx: &Ctx,
    tx: &mut Tx,
    actor: &Actor,
    person: PersonId,
) -> Result<Vec<access::Grant>, AppError> {
    let Scope::Institutions(set) = &actor.scope else { return Ok(vec![]) };
    if !access::role_permits(actor.role, Permission::PatientRead) {
        return Ok(vec![]);
    }
    let after_end = ctx.referral.grant_after_end;
    let since = ctx.clock.now() - after_end;
    let institutions: Vec<InstitutionId> = set.iter().copied().collect();
    let records = mpi::person_record_ids(tx, actor.consortium_id, person).await?;
    let rows = store::grants_on(tx, actor.consortium_id, &institutions, &records, since).await?;
    Ok(rows
        .into_iter()
        .map(|(id, from, until)| access::Grant {
            basis: Basis::Referral,
            subject: access::GrantSubject::Patient(person.as_uuid()),
            valid_from: from,
            valid_until: until.map_or(DateTime::<Utc>::MAX_UTC, |u| u + after_end),
            source_id: id,
        })
        .collect())
}

/// Runs the timers due at `now` (expiry, no-show) as the system; returns how many fired.
pub async fn run_timers(ctx: &Ctx, consortium: ConsortiumId) -> Result<usize, AppError> {
    let system = crate::access::system(consortium);
    let mut fired = 0;
    loop {
        let mut tx = ctx.db.begin_write().await?;
        let due = store::due_timers(&mut tx, consortium, ctx.clock.now(), 100).await?;
        if due.is_empty() {
            tx.commit().await?;
            return Ok(fired);
        }
        for mut r in due {
            let Some(t) = domain::due_timer(&r.facts(), &ctx.referral, ctx.clock.now()) else { continue };
            let person = mpi::person_of(&mut tx, consortium, r.patient_record_id).await?;
            let change = Change { version: r.version, ..Change::default() };
            apply(ctx, &mut tx, &system, &mut r, t, Party::System, &change, person).await?;
            fired += 1;
        }
        tx.commit().await?;
    }
}

/// One referral of a bulk load (the synthetic county, a migration from another system): the
/// row with its state and times as they happened, its events, follow-up and stamps.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// The referral (derived columns are recomputed).
    pub referral: Referral,
    /// Its events, `seq` from 1.
    pub events: Vec<StoredEvent>,
    /// Its follow-up task.
    pub follow_up: Option<FollowUp>,
    /// Its green-channel stamps.
    pub stamps: Vec<Stamp>,
}

/// Loads referrals as they happened, in one transaction (parents before their children), with
/// their FHIR projection. For loaders only: no use-case checks, no notifications.
pub async fn load(ctx: &Ctx, consortium: ConsortiumId, items: Vec<Loaded>) -> Result<usize, AppError> {
    load_with(ctx, consortium, items, true).await
}

/// [`load`] without the FHIR projection: for benchmark top-ups of history only.
pub async fn load_without_fhir(
    ctx: &Ctx,
    consortium: ConsortiumId,
    items: Vec<Loaded>,
) -> Result<usize, AppError> {
    load_with(ctx, consortium, items, false).await
}

async fn load_with(
    ctx: &Ctx,
    consortium: ConsortiumId,
    items: Vec<Loaded>,
    with_fhir: bool,
) -> Result<usize, AppError> {
    let mut tx = ctx.db.begin_write().await?;
    let n = items.len();
    for mut item in items {
        let r = &mut item.referral;
        r.consortium_id = consortium;
        let at = r.updated_at;
        derive(r, &ctx.referral, at);
        store::insert(&mut tx, r).await?;
        for e in &item.events {
            store::insert_event(&mut tx, consortium, r.id, e).await?;
        }
        if let Some(t) = &item.follow_up {
            store::insert_follow_up(&mut tx, consortium, t).await?;
        }
        for s in &item.stamps {
            store::put_stamp(&mut tx, consortium, r.id, s).await?;
        }
        if with_fhir {
            fhir::mirror(&mut tx, r, None, at).await?;
        }
    }
    tx.commit().await?;
    Ok(n)
}
