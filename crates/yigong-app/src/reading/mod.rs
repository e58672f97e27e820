//! Examination at the grassroots, diagnosis at the county (DESIGN.md §6.2–6.3): exam orders
//! placed at township and village sites, the county centres' worklists with the atomic claim,
//! signed structured reports returned to the ordering site, the specimen chain, critical values,
//! the mutual-recognition prompt, timers and metrics.
//!
//! Who acts is decided twice, as for referrals: `access` (the role may write patient data at
//! the ordering site, or is a reader of the consortium's centres) and the domain's
//! `reading::decide` (the [`Party`] that actor is may perform the transition from the current
//! state). A reader who does not hold an item and asks to report on it is refused with 403
//! (`not_assigned`) and the refusal is audited.

use chrono::{DateTime, Utc};
use serde_json::json;
use uuid::Uuid;
use yigong_domain::access::{self, Actor, Basis, Permission, Role, Scope, Target};
use yigong_domain::ids::{ConsortiumId, InstitutionId, PatientRecordId, PersonId};
use yigong_domain::page::{Page, PageRequest};
use yigong_domain::reading::{
    self as domain, Centre, ExamKind, Given, ItemState, ItemTransition, LEASE, Party, Refusal, Urgency,
};
use yigong_domain::{Invalid, staffing::TitleLevel};
use yigong_store::reading::{self as store, Event as StoredEvent};
pub use yigong_store::reading::{Critical, ExamOrder, Item, Report, SpecimenEvent, WorklistFilter};
use yigong_store::referral::Notification;
use yigong_store::{Tx, institution, mpi};

use crate::audit::{self, Event};
use crate::{AppError, Ctx};

mod critical;
pub mod fhir;
mod metrics;
mod recognition;
pub mod sign;

pub use critical::CriticalRow;
pub use critical::{CriticalAction, act_on_critical, open_criticals};
pub use metrics::{
    CentreTurnaround, ReadingMetrics, RecognitionRow, metrics, turnaround_of_counts, turnaround_of_rows,
};
pub use recognition::{Answer, Offer, catalogue, prompt, put_item, put_qc};

/// What an order asks for.
#[derive(Debug, Clone, Default)]
pub struct OrderDraft {
    /// The patient's record.
    pub patient_record_id: Option<PatientRecordId>,
    /// Catalogue code.
    pub item_code: String,
    /// Clinical setting.
    pub urgency: Option<Urgency>,
    /// The clinical question.
    pub question: String,
    /// Head CT/MR.
    pub head: bool,
    /// Complex class.
    pub complex: bool,
    /// The answer to the recognition prompt, when a prior result was offered.
    pub recognition: Option<recognition::Answer>,
}

/// What placing an order did: an order, or a recognised prior result and no new test.
#[derive(Debug, Clone)]
pub struct Placed {
    /// The new order (none when a prior result was recognised).
    pub order: Option<ExamOrder>,
    /// The recognition decision recorded, if the prompt was answered.
    pub decision: Option<yigong_store::reading::Decision>,
}

/// What a transition carries besides the transition itself.
#[derive(Debug, Clone, Default)]
pub struct Change {
    /// The version the caller saw (optimistic concurrency; 0 = do not check).
    pub version: i32,
    /// Reason (cancel, reject, amend, assign).
    pub reason: Option<String>,
    /// The reader to assign.
    pub reader_user_id: Option<Uuid>,
    /// The report (preliminary, final, amendment).
    pub report: Option<domain::report::ReportDraft>,
}

/// An item with everything its page shows.
#[derive(Debug, Clone)]
pub struct OrderView {
    /// The item.
    pub order: ExamOrder,
    /// Its trail.
    pub events: Vec<StoredEvent>,
    /// Report versions, oldest first.
    pub reports: Vec<Report>,
    /// Critical values.
    pub criticals: Vec<Critical>,
    /// The specimen chain.
    pub specimen: Vec<SpecimenEvent>,
    /// Studies received (study instance UIDs).
    pub studies: Vec<String>,
    /// Images indexed.
    pub images: i64,
    /// The patient's record values.
    pub patient: Option<mpi::RecordRow>,
    /// The person behind the record.
    pub person_id: Option<PersonId>,
    /// Ordering institution name.
    pub origin_name: String,
    /// Earlier items of the same kind for this person (the reader's prior results).
    pub priors: Vec<ExamOrder>,
    /// What the viewer may do now.
    pub allowed: Vec<ItemTransition>,
    /// The viewer's sides.
    pub parties: Vec<Party>,
    /// The viewer's basis.
    pub basis: Basis,
    /// Whether every report signature verifies with this deployment's key.
    pub signatures_valid: bool,
}

/// A worklist row.
#[derive(Debug, Clone)]
pub struct WorkItem {
    /// The item.
    pub order: ExamOrder,
    /// Patient name as registered.
    pub patient_name: Option<String>,
    /// Patient sex as registered.
    pub patient_sex: Option<String>,
    /// Patient birth date as registered.
    pub patient_birth: Option<String>,
    /// Ordering institution name.
    pub origin_name: String,
    /// Past its deadline now.
    pub overdue: bool,
}

/// A centre's worklist page with its counts.
#[derive(Debug, Clone)]
pub struct Worklist {
    /// Rows.
    pub items: Page<WorkItem>,
    /// Queued now.
    pub queued: i64,
    /// Claimed now.
    pub claimed: i64,
    /// Open and past the deadline.
    pub overdue: i64,
}

fn reaches(actor: &Actor, i: InstitutionId) -> bool {
    match &actor.scope {
        Scope::Institutions(set) => set.contains(&i),
        Scope::Consortium => actor.institution_id == Some(i),
        Scope::County(_) => false,
    }
}

/// Whether the reader supervises (副高及以上): supervisors assign, release and reject.
async fn supervises(tx: &mut Tx, actor: &Actor) -> Result<bool, AppError> {
    let Some(staff) = actor.staff_id.filter(|_| actor.role == Role::Reader) else { return Ok(false) };
    let titles = yigong_store::staff::titles(tx, actor.consortium_id, staff).await?;
    Ok(titles.last().and_then(|t| t.level).is_some_and(|l| l >= TitleLevel::AssociateSenior))
}

/// The sides `actor` acts on for `o`, most specific first.
fn parties(actor: &Actor, o: &ExamOrder, supervisor: bool) -> Vec<Party> {
    if actor.consortium_id != o.consortium_id || !access::role_permits(actor.role, Permission::PatientWrite) {
        return vec![];
    }
    let mut out = Vec::new();
    if actor.role == Role::Reader {
        if o.reader_user_id == Some(actor.user_id) {
            out.push(Party::Holder);
        }
        if supervisor {
            out.push(Party::Supervisor);
        }
        out.push(Party::Reader);
    }
    if reaches(actor, o.ordering_institution_id) {
        out.push(Party::OrderingSite);
    }
    out
}

fn transition_error(r: Refusal) -> AppError {
    match r {
        Refusal::Missing { missing, transition } => {
            Invalid::one(missing, "required", format!("{transition} needs {missing}")).into()
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

/// Refuses (and audits) an actor who is no party to the item.
async fn refuse(ctx: &Ctx, actor: &Actor, code: &'static str, event: Event<'_>) -> AppError {
    let event = Event { detail: Some(format!("denial={code}")), ..event };
    match audit::record_denied(ctx, Some(actor), Some(actor.consortium_id), event, actor.request_id.clone())
        .await
    {
        Ok(()) => AppError::Forbidden { code },
        Err(e) => e,
    }
}

fn accession(now: DateTime<Utc>, id: Uuid) -> String {
    let china = now.with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).expect("valid offset"));
    let tail = id.simple().to_string();
    format!("JC{}{}", china.format("%Y%m%d"), tail[tail.len() - 8..].to_uppercase())
}

fn event(
    actor: &Actor,
    transition: Option<ItemTransition>,
    from: ItemState,
    to: ItemState,
    party: Party,
    at: DateTime<Utc>,
) -> StoredEvent {
    StoredEvent {
        seq: 0,
        transition,
        from_state: from,
        to_state: to,
        party,
        user_id: (party != Party::System || actor.user_id != Uuid::nil()).then_some(actor.user_id),
        role: Some(actor.role.as_str().to_owned()),
        institution_id: actor.institution_id,
        at,
        reason: None,
        payload: json!({}),
    }
}

/// Places an order at the actor's institution. A recognisable item for which the patient has a
/// result within its window needs the doctor's answer first (`recognition_decision_required`,
/// with the offers); a recognised result places no order.
pub async fn place(ctx: &Ctx, actor: &Actor, draft: OrderDraft) -> Result<Placed, AppError> {
    let consortium = actor.consortium_id;
    crate::referral::gate(ctx, actor, Permission::PatientWrite, Event::of("create", "exam_order")).await?;
    let Some(site) = actor.institution_id else {
        return Err(Invalid::one(
            "institution",
            "no_acting_institution",
            "orders are placed by an institution",
        )
        .into());
    };
    let mut invalid = Invalid::default();
    if draft.patient_record_id.is_none() {
        invalid.push("patient_record_id", "required", "the patient is required");
    }
    if draft.urgency.is_none() {
        invalid.push("urgency", "required", "the urgency is required");
    }
    let question = draft.question.trim().to_owned();
    if question.is_empty() {
        invalid.push("question", "required", "the clinical question is required");
    } else if question.chars().count() > 1000 {
        invalid.push("question", "too_long", "at most 1000 characters");
    }
    if draft.item_code.trim().is_empty() {
        invalid.push("item_code", "required", "the item is required");
    }
    invalid.into_result(())?;
    let (record, urgency) = (draft.patient_record_id.expect("checked"), draft.urgency.expect("checked"));
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin_write().await?;
    let item = store::find_item(&mut tx, consortium, draft.item_code.trim())
        .await?
        .filter(|i| i.active)
        .ok_or_else(|| {
            Invalid::one("item_code", "unknown_item", "no such orderable item in the catalogue")
        })?;
    if mpi::records_by_ids(&mut tx, consortium, &[record]).await?.is_empty() {
        return Err(Invalid::one("patient_record_id", "not_found", "no such patient record").into());
    }
    let person = mpi::person_of(&mut tx, consortium, record).await?;
    let target = Target {
        consortium_id: consortium,
        institution_id: Some(site),
        patient: person.map(|p| p.as_uuid()),
    };
    let basis = match access::decide(actor, Permission::PatientWrite, &target, now) {
        Ok(b) => b,
        Err(_) => {
            drop(tx);
            crate::access::authorize(
                ctx,
                actor,
                Permission::PatientWrite,
                &target,
                Event::of("create", "exam_order"),
            )
            .await?;
            return Err(AppError::Forbidden { code: "out_of_scope" });
        }
    };
    let offers = recognition::offers(&mut tx, consortium, &item, record, person, now).await?;
    let mut decision = None;
    if let Some(first) = offers.first() {
        let Some(answer) = draft.recognition.clone() else {
            return Err(AppError::Conflict { rule: "recognition_decision_required" });
        };
        let prior = offers.iter().find(|o| Some(o.order.id) == answer.prior_order_id).unwrap_or(first);
        decision = Some(recognition::decide(&item, prior, &answer, site, actor.user_id, record, now)?);
    }
    let recognised = decision.as_ref().is_some_and(|d| d.recognised);
    let mut order = None;
    if !recognised {
        let id = Uuid::now_v7();
        let o = ExamOrder {
            consortium_id: consortium,
            id,
            accession_no: accession(now, id),
            patient_record_id: record,
            ordering_institution_id: site,
            ordering_user_id: Some(actor.user_id),
            centre: item.kind.centre(),
            kind: item.kind,
            modality: item.modality.clone(),
            body_part: item.body_part.clone(),
            item_code: Some(item.code.clone()),
            item_name: item.name.clone(),
            urgency,
            question,
            head: draft.head,
            complex: draft.complex,
            state: ItemState::Ordered,
            version: 1,
            reader_user_id: None,
            lease_until: None,
            reading_institution_id: None,
            received_at: None,
            due_at: None,
            preliminary_at: None,
            final_at: None,
            delivered_at: None,
            work_rank: urgency.rank(),
            hr: false,
            report_version: 0,
            specimen_step: None,
            cancel_reason: None,
            created_at: now,
            updated_at: now,
        };
        store::insert_order(&mut tx, &o).await?;
        store::insert_event(
            &mut tx,
            consortium,
            id,
            &event(actor, None, ItemState::Ordered, ItemState::Ordered, Party::OrderingSite, now),
        )
        .await?;
        audit::record(
            ctx,
            &mut tx,
            actor,
            consortium,
            basis,
            Event { patient_id: person.map(|p| p.as_uuid()), ..Event::on("create", "exam_order", id) },
        )
        .await?;
        order = Some(o);
    }
    if let Some(d) = decision.as_mut() {
        d.new_order_id = order.as_ref().map(|o| o.id);
        store::insert_decision(&mut tx, consortium, d).await?;
        audit::record(
            ctx,
            &mut tx,
            actor,
            consortium,
            basis,
            Event {
                patient_id: person.map(|p| p.as_uuid()),
                detail: Some(format!("recognised={} code={}", d.recognised, d.code)),
                ..Event::on("create", "recognition_decision", d.id)
            },
        )
        .await?;
    }
    tx.commit().await?;
    Ok(Placed { order, decision })
}

/// One item with its trail, reports, critical values, images and what the viewer may do.
pub async fn get(ctx: &Ctx, actor: &Actor, id: Uuid) -> Result<OrderView, AppError> {
    let consortium = actor.consortium_id;
    crate::referral::gate(ctx, actor, Permission::PatientRead, Event::on("read", "exam_order", id)).await?;
    let mut tx = ctx.db.begin().await?;
    let order = store::find_order(&mut tx, consortium, id).await?.ok_or(AppError::not_found("exam_order"))?;
    let supervisor = supervises(&mut tx, actor).await?;
    let parties = parties(actor, &order, supervisor);
    if parties.is_empty() {
        drop(tx);
        return Err(refuse(ctx, actor, "out_of_scope", Event::on("read", "exam_order", order.id)).await);
    }
    let basis =
        if parties.contains(&Party::OrderingSite) { Basis::OwnInstitution } else { Basis::ReadingCentre };
    let events = store::events(&mut tx, consortium, id).await?;
    let reports = store::reports(&mut tx, consortium, id).await?;
    let criticals = store::criticals_of(&mut tx, consortium, id).await?;
    let specimen = store::specimen_events(&mut tx, consortium, id).await?;
    let studies = store::studies_of(&mut tx, consortium, id).await?;
    let images = store::image_count(&mut tx, consortium, id).await?;
    let patient = mpi::records_by_ids(&mut tx, consortium, &[order.patient_record_id]).await?.pop();
    let person_id = mpi::person_of(&mut tx, consortium, order.patient_record_id).await?;
    let records = match person_id {
        Some(p) => mpi::person_record_ids(&mut tx, consortium, p).await?,
        None => vec![order.patient_record_id],
    };
    let priors = store::orders_of_records(&mut tx, consortium, &records, 50)
        .await?
        .into_iter()
        .filter(|p| p.id != id && p.kind == order.kind && p.state.has_report())
        .take(10)
        .collect();
    let origin_name = institution::find(&mut tx, consortium, order.ordering_institution_id)
        .await?
        .map(|i| i.name)
        .unwrap_or_default();
    drop(tx);
    let now = ctx.clock.now();
    let mut allowed: Vec<ItemTransition> = Vec::new();
    for p in &parties {
        for t in domain::allowed(order.state, *p) {
            if !allowed.contains(&t)
                && domain::decide(
                    &order.facts(),
                    t,
                    *p,
                    Given { reason: true, reader: true, report: true },
                    now,
                )
                .is_ok()
            {
                allowed.push(t);
            }
        }
    }
    let signatures_valid = reports.iter().all(|r| ctx.signer.verify(&r.content_hash, &r.signature));
    audit::record_read(
        ctx,
        actor,
        consortium,
        basis,
        Event { patient_id: person_id.map(|p| p.as_uuid()), ..Event::on("read", "exam_order", id) },
    )
    .await?;
    Ok(OrderView {
        order,
        events,
        reports,
        criticals,
        specimen,
        studies,
        images,
        patient,
        person_id,
        origin_name,
        priors,
        allowed,
        parties,
        basis,
        signatures_valid,
    })
}

/// The orders placed by the actor's institutions, newest first.
pub async fn orders(
    ctx: &Ctx,
    actor: &Actor,
    states: &[ItemState],
    page: &PageRequest,
) -> Result<Page<WorkItem>, AppError> {
    crate::referral::gate(ctx, actor, Permission::PatientRead, Event::of("search", "exam_order")).await?;
    let institutions: Vec<InstitutionId> = match &actor.scope {
        Scope::Institutions(set) => set.iter().copied().collect(),
        _ => actor.institution_id.into_iter().collect(),
    };
    let mut tx = ctx.db.begin().await?;
    let found = store::orders_of(&mut tx, actor.consortium_id, &institutions, states, page).await?;
    let rows = decorate(&mut tx, actor.consortium_id, found, ctx.clock.now()).await?;
    drop(tx);
    audit::record_read(
        ctx,
        actor,
        actor.consortium_id,
        Basis::OwnInstitution,
        Event { detail: Some(format!("orders={}", rows.items.len())), ..Event::of("search", "exam_order") },
    )
    .await?;
    Ok(rows)
}

async fn decorate(
    tx: &mut Tx,
    consortium: ConsortiumId,
    page: Page<ExamOrder>,
    now: DateTime<Utc>,
) -> Result<Page<WorkItem>, AppError> {
    let ids: Vec<PatientRecordId> = page.items.iter().map(|o| o.patient_record_id).collect();
    let records = mpi::records_by_ids(tx, consortium, &ids).await?;
    let mut names = std::collections::HashMap::new();
    let mut out = Vec::with_capacity(page.items.len());
    for o in page.items {
        if let std::collections::hash_map::Entry::Vacant(slot) = names.entry(o.ordering_institution_id) {
            let name = institution::find(tx, consortium, o.ordering_institution_id)
                .await?
                .map(|i| i.name)
                .unwrap_or_default();
            slot.insert(name);
        }
        let r = records.iter().find(|r| r.record_id == o.patient_record_id);
        let due_counts = if o.state == ItemState::Preliminary {
            !o.urgency.due_at_preliminary()
        } else {
            o.state.is_open()
        };
        out.push(WorkItem {
            overdue: due_counts && o.due_at.is_some_and(|d| d <= now),
            patient_name: r.and_then(|r| r.values.name.clone()),
            patient_sex: r.and_then(|r| r.values.sex.clone()),
            patient_birth: r.and_then(|r| r.values.birth_date.clone()),
            origin_name: names[&o.ordering_institution_id].clone(),
            order: o,
        });
    }
    Ok(Page { items: out, next_after: page.next_after })
}

/// A centre's worklist, by urgency then deadline (readers of the consortium).
pub async fn worklist(
    ctx: &Ctx,
    actor: &Actor,
    centre: Centre,
    filter: &WorklistFilter,
    page: &PageRequest,
) -> Result<Worklist, AppError> {
    if actor.role != Role::Reader {
        crate::referral::gate(ctx, actor, Permission::PatientRead, Event::of("search", "worklist")).await?;
        return Err(refuse(ctx, actor, "not_a_reader", Event::of("search", "worklist")).await);
    }
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    let found = store::worklist(&mut tx, actor.consortium_id, centre, filter, page).await?;
    let counts = store::worklist_counts(&mut tx, actor.consortium_id, centre, now).await?;
    let items = decorate(&mut tx, actor.consortium_id, found, now).await?;
    drop(tx);
    let sum =
        |f: &dyn Fn(ItemState, bool) -> bool| counts.iter().filter(|(s, o, _)| f(*s, *o)).map(|c| c.2).sum();
    let list = Worklist {
        queued: sum(&|s, _| s == ItemState::Queued),
        claimed: sum(&|s, _| s == ItemState::Claimed),
        overdue: sum(&|s, o| o && s != ItemState::Preliminary),
        items,
    };
    audit::record_read(
        ctx,
        actor,
        actor.consortium_id,
        Basis::ReadingCentre,
        Event {
            detail: Some(format!("centre={} rows={}", centre.as_str(), list.items.items.len())),
            ..Event::of("search", "worklist")
        },
    )
    .await?;
    Ok(list)
}

/// Performs one transition on an item as `actor`.
pub async fn act(
    ctx: &Ctx,
    actor: &Actor,
    id: Uuid,
    transition: ItemTransition,
    change: Change,
) -> Result<OrderView, AppError> {
    let consortium = actor.consortium_id;
    crate::referral::gate(
        ctx,
        actor,
        Permission::PatientWrite,
        Event::on(transition.as_str(), "exam_order", id),
    )
    .await?;
    let mut tx = ctx.db.begin_write().await?;
    let mut o = store::find_order(&mut tx, consortium, id).await?.ok_or(AppError::not_found("exam_order"))?;
    if change.version != 0 && change.version != o.version {
        return Err(AppError::Conflict { rule: "exam_stale" });
    }
    let supervisor = supervises(&mut tx, actor).await?;
    let sides = parties(actor, &o, supervisor);
    if sides.is_empty() {
        drop(tx);
        return Err(
            refuse(ctx, actor, "out_of_scope", Event::on(transition.as_str(), "exam_order", o.id)).await
        );
    }
    let holder_only = matches!(
        transition,
        ItemTransition::ReportPreliminary | ItemTransition::Finalise | ItemTransition::Renew
    );
    if holder_only
        && !sides.contains(&Party::Holder)
        && sides.contains(&Party::Reader)
        && o.state == ItemState::Claimed
        || holder_only && !sides.contains(&Party::Holder) && o.state == ItemState::Preliminary
    {
        drop(tx);
        return Err(
            refuse(ctx, actor, "not_assigned", Event::on(transition.as_str(), "exam_order", o.id)).await
        );
    }
    let reason = change.reason.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned);
    let given = Given {
        reason: reason.is_some(),
        reader: change.reader_user_id.is_some(),
        report: change.report.is_some(),
    };
    let now = ctx.clock.now();
    let mut chosen = None;
    let mut first_err = None;
    for p in &sides {
        match domain::decide(&o.facts(), transition, *p, given, now) {
            Ok(_) => {
                chosen = Some(*p);
                break;
            }
            Err(e) => {
                first_err.get_or_insert(e);
            }
        }
    }
    let Some(party) = chosen else {
        return Err(transition_error(first_err.expect("at least one side was tried")));
    };
    let person = mpi::person_of(&mut tx, consortium, o.patient_record_id).await?;
    apply(ctx, &mut tx, actor, &mut o, transition, party, &change, reason, person).await?;
    let basis = if party == Party::OrderingSite { Basis::OwnInstitution } else { Basis::ReadingCentre };
    audit::record(
        ctx,
        &mut tx,
        actor,
        consortium,
        basis,
        Event {
            patient_id: person.map(|p| p.as_uuid()),
            detail: Some(format!("transition={} to={}", transition.as_str(), o.state.as_str())),
            ..Event::on("update", "exam_order", id)
        },
    )
    .await?;
    tx.commit().await?;
    get(ctx, actor, id).await
}

/// Applies a decided transition (and what follows it) inside `tx`.
#[allow(clippy::too_many_arguments)]
async fn apply(
    ctx: &Ctx,
    tx: &mut Tx,
    actor: &Actor,
    o: &mut ExamOrder,
    transition: ItemTransition,
    party: Party,
    change: &Change,
    reason: Option<String>,
    person: Option<PersonId>,
) -> Result<(), AppError> {
    let now = ctx.clock.now();
    let consortium = o.consortium_id;
    let from = o.state;
    let expected = o.version;
    let mut payload = serde_json::Map::new();
    match transition {
        ItemTransition::Claim => {
            if !store::claim(tx, consortium, o.id, actor.user_id, actor.institution_id, now + LEASE, now)
                .await?
            {
                return Err(AppError::Conflict { rule: "already_claimed" });
            }
            *o = store::find_order(tx, consortium, o.id).await?.ok_or(AppError::not_found("exam_order"))?;
            let mut e = event(actor, Some(transition), from, o.state, party, now);
            e.payload = json!({"lease_until": o.lease_until});
            store::insert_event(tx, consortium, o.id, &e).await?;
            return Ok(());
        }
        ItemTransition::Renew => o.lease_until = Some(now + LEASE),
        ItemTransition::Release | ItemTransition::ExpireLease => {
            o.reader_user_id = None;
            o.lease_until = None;
        }
        ItemTransition::Assign => {
            let reader = change.reader_user_id.expect("decide checked the reader");
            let roles = yigong_store::account::roles_of(tx, reader).await?;
            if !roles.iter().any(|g| g.role == Role::Reader && g.consortium_id == consortium) {
                return Err(Invalid::one(
                    "reader_user_id",
                    "not_a_reader",
                    "the account is not a reader of this consortium",
                )
                .into());
            }
            o.reader_user_id = Some(reader);
            o.lease_until = Some(now + LEASE);
            o.reading_institution_id = o.reading_institution_id.or(actor.institution_id);
            payload.insert("reader_user_id".into(), json!(reader));
        }
        ItemTransition::Acquire => {}
        ItemTransition::Receive => {
            o.received_at = Some(now);
            o.due_at = Some(domain::due_at(o.kind, o.urgency, o.head, o.complex, now));
        }
        ItemTransition::Queue => {}
        ItemTransition::ReportPreliminary | ItemTransition::Finalise | ItemTransition::Amend => {
            let draft = change.report.as_ref().expect("decide checked the report");
            let signed = sign_report(ctx, tx, actor, o, transition, draft, reason.clone(), now).await?;
            payload.insert("report_version".into(), json!(signed.version));
            // A finding flagged again in the final report of an emergency item is the same
            // critical value while that one is still open.
            let open = store::criticals_of(tx, o.consortium_id, o.id)
                .await?
                .iter()
                .any(|c| c.state != yigong_domain::reading::CriticalState::Closed);
            if signed.critical && !open {
                critical::identify(tx, actor, o, draft.critical_text.clone().unwrap_or_default(), now)
                    .await?;
            }
            match transition {
                ItemTransition::ReportPreliminary => o.preliminary_at = Some(now),
                ItemTransition::Finalise => o.final_at = Some(now),
                _ => {}
            }
        }
        ItemTransition::Deliver => o.delivered_at = Some(now),
        ItemTransition::Cancel | ItemTransition::RejectQuality => o.cancel_reason = reason.clone(),
    }
    let to = domain::decide(
        &o.facts(),
        transition,
        party,
        Given { reason: true, reader: true, report: true },
        now,
    )
    .map_err(transition_error)?;
    o.state = to;
    o.version += 1;
    o.updated_at = now;
    store::update_order(tx, o, expected).await?;
    let mut e = event(actor, Some(transition), from, to, party, now);
    e.reason = reason;
    e.payload = serde_json::Value::Object(payload);
    store::insert_event(tx, consortium, o.id, &e).await?;
    // What follows on its own.
    match transition {
        ItemTransition::Receive => {
            Box::pin(apply(ctx, tx, actor, o, ItemTransition::Queue, Party::System, change, None, person))
                .await?;
        }
        ItemTransition::Finalise | ItemTransition::Amend => {
            Box::pin(apply(ctx, tx, actor, o, ItemTransition::Deliver, Party::System, change, None, person))
                .await?;
        }
        ItemTransition::Deliver => {
            let kind = if from == ItemState::Amended { "report_amended" } else { "report_ready" };
            notify_site(tx, o, kind, false, now).await?;
        }
        ItemTransition::ReportPreliminary if o.urgency.due_at_preliminary() => {
            notify_site(tx, o, "report_preliminary", true, now).await?;
        }
        ItemTransition::RejectQuality => notify_site(tx, o, "exam_rejected", true, now).await?,
        _ => {}
    }
    Ok(())
}

/// Tells the ordering site about an item.
pub(crate) async fn notify_site(
    tx: &mut Tx,
    o: &ExamOrder,
    kind: &str,
    urgent: bool,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let params = json!({"accession_no": o.accession_no, "item": o.item_name, "state": o.state});
    let mut base = Notification {
        id: Uuid::now_v7(),
        user_id: o.ordering_user_id,
        institution_id: None,
        role: None,
        kind: kind.to_owned(),
        referral_id: None,
        order_id: Some(o.id),
        params: params.clone(),
        urgent,
        created_at: now,
        read_at: None,
        delivered_at: None,
    };
    // Routine news goes to the ordering doctor; what someone must act on now (critical values,
    // rejections, emergency reports), or news without a known doctor, to the site's clinicians.
    if !urgent && o.ordering_user_id.is_some() {
        yigong_store::referral::insert_notification(tx, o.consortium_id, &base).await?;
        return Ok(());
    }
    base.user_id = None;
    base.institution_id = Some(o.ordering_institution_id);
    for role in [Role::TownshipDoctor, Role::VillageDoctor, Role::CountySpecialist] {
        base.id = Uuid::now_v7();
        base.role = Some(role.as_str().into());
        yigong_store::referral::insert_notification(tx, o.consortium_id, &base).await?;
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
async fn sign_report(
    ctx: &Ctx,
    tx: &mut Tx,
    actor: &Actor,
    o: &mut ExamOrder,
    transition: ItemTransition,
    draft: &domain::report::ReportDraft,
    reason: Option<String>,
    now: DateTime<Utc>,
) -> Result<Report, AppError> {
    let valid = domain::report::validate(o.kind, draft)?;
    let version = o.report_version + 1;
    let canonical = domain::report::canonical(&valid, version, &o.accession_no);
    let hash = sign::content_hash(&canonical);
    let signature = ctx.signer.sign(&hash);
    let hr = recognition::qualifies(tx, o, now).await?;
    let author_name = match yigong_store::account::find(tx, actor.user_id).await? {
        Some(a) => a.display_name,
        None => String::new(),
    };
    let report = Report {
        version,
        status: match transition {
            ItemTransition::ReportPreliminary => "preliminary",
            ItemTransition::Finalise => "final",
            _ => "amended",
        }
        .into(),
        content: serde_json::from_str(&canonical).unwrap_or_else(|_| json!({})),
        critical: draft.critical,
        hr,
        author_user_id: actor.user_id,
        author_staff_id: actor.staff_id.map(|s| s.as_uuid()),
        author_name,
        institution_id: actor.institution_id,
        reason,
        content_hash: hash,
        signature,
        signed_at: now,
    };
    store::insert_report(tx, o.consortium_id, o.id, &report).await?;
    o.report_version = version;
    o.hr = hr;
    fhir::mirror(tx, o, &report, Some(actor.user_id), now).await?;
    Ok(report)
}

/// The ordering site says the images are taken (or sent): the item is received at the county and
/// queued. Imaging kinds need at least one image indexed for the order.
pub async fn complete(ctx: &Ctx, actor: &Actor, id: Uuid) -> Result<OrderView, AppError> {
    let consortium = actor.consortium_id;
    crate::referral::gate(ctx, actor, Permission::PatientWrite, Event::on("complete", "exam_order", id))
        .await?;
    let mut tx = ctx.db.begin_write().await?;
    let mut o = store::find_order(&mut tx, consortium, id).await?.ok_or(AppError::not_found("exam_order"))?;
    let sides = parties(actor, &o, false);
    if !sides.contains(&Party::OrderingSite) {
        drop(tx);
        return Err(refuse(ctx, actor, "out_of_scope", Event::on("complete", "exam_order", o.id)).await);
    }
    if o.kind.has_images() && store::image_count(&mut tx, consortium, id).await? == 0 {
        return Err(Invalid::one(
            "images",
            "no_images",
            "no images have been received for this accession number yet",
        )
        .into());
    }
    if o.kind == ExamKind::Lab {
        return Err(
            Invalid::one("specimen", "use_specimen_chain", "a lab item is received by its specimen").into()
        );
    }
    let person = mpi::person_of(&mut tx, consortium, o.patient_record_id).await?;
    if o.state == ItemState::Ordered {
        apply(
            ctx,
            &mut tx,
            actor,
            &mut o,
            ItemTransition::Acquire,
            Party::OrderingSite,
            &Change::default(),
            None,
            person,
        )
        .await?;
    }
    apply(
        ctx,
        &mut tx,
        actor,
        &mut o,
        ItemTransition::Receive,
        Party::System,
        &Change::default(),
        None,
        person,
    )
    .await?;
    audit::record(
        ctx,
        &mut tx,
        actor,
        consortium,
        Basis::OwnInstitution,
        Event { patient_id: person.map(|p| p.as_uuid()), ..Event::on("complete", "exam_order", id) },
    )
    .await?;
    tx.commit().await?;
    get(ctx, actor, id).await
}

/// Records one step of a lab item's specimen chain; `collected` acquires the item and
/// `received` receives and queues it at the centre, `rejected` returns it.
pub async fn specimen_step(
    ctx: &Ctx,
    actor: &Actor,
    id: Uuid,
    step: domain::SpecimenStep,
    place: &str,
    reason: Option<domain::QualityReason>,
    temperature: Option<String>,
) -> Result<OrderView, AppError> {
    let consortium = actor.consortium_id;
    crate::referral::gate(ctx, actor, Permission::PatientWrite, Event::on("specimen", "exam_order", id))
        .await?;
    let mut tx = ctx.db.begin_write().await?;
    let mut o = store::find_order(&mut tx, consortium, id).await?.ok_or(AppError::not_found("exam_order"))?;
    if o.kind != ExamKind::Lab {
        return Err(Invalid::one("step", "not_a_lab_item", "only lab items have a specimen chain").into());
    }
    let supervisor = supervises(&mut tx, actor).await?;
    let sides = parties(actor, &o, supervisor);
    if sides.is_empty() {
        drop(tx);
        return Err(refuse(ctx, actor, "out_of_scope", Event::on("specimen", "exam_order", o.id)).await);
    }
    domain::specimen::check(o.specimen_step, step, reason).map_err(|e| AppError::Transition {
        code: "invalid_step",
        message: e.to_string(),
        state: o.specimen_step.map(|s| s.as_str()),
        allowed: domain::specimen::next_steps(o.specimen_step).iter().map(|s| s.as_str()).collect(),
    })?;
    let now = ctx.clock.now();
    let person = mpi::person_of(&mut tx, consortium, o.patient_record_id).await?;
    store::insert_specimen(
        &mut tx,
        consortium,
        id,
        &SpecimenEvent {
            seq: 0,
            step,
            place: place.trim().to_owned(),
            user_id: Some(actor.user_id),
            institution_id: actor.institution_id,
            reason: reason.map(|r| r.as_str().to_owned()),
            temperature,
            at: now,
        },
    )
    .await?;
    let previous = o.specimen_step;
    o.specimen_step = Some(step);
    o.version += 1;
    store::update_order(&mut tx, &o, o.version - 1).await?;
    for &t in domain::specimen::item_transitions(previous, step) {
        let party = match t {
            ItemTransition::Acquire => Party::OrderingSite,
            ItemTransition::Receive => Party::System,
            _ => Party::Reader,
        };
        let change = Change { reason: reason.map(|r| r.as_str().to_owned()), ..Change::default() };
        if domain::decide(&o.facts(), t, party, Given { reason: true, reader: true, report: true }, now)
            .is_ok()
        {
            apply(ctx, &mut tx, actor, &mut o, t, party, &change, change.reason.clone(), person).await?;
        }
    }
    let basis =
        if sides.contains(&Party::OrderingSite) { Basis::OwnInstitution } else { Basis::ReadingCentre };
    audit::record(
        ctx,
        &mut tx,
        actor,
        consortium,
        basis,
        Event {
            patient_id: person.map(|p| p.as_uuid()),
            detail: Some(format!("step={}", step.as_str())),
            ..Event::on("specimen", "exam_order", id)
        },
    )
    .await?;
    tx.commit().await?;
    get(ctx, actor, id).await
}

/// The platform's timers, run every minute by `serve` (and by tests with a moved clock): lapsed
/// leases go back on the worklist, imaging items whose images stopped arriving two minutes ago
/// are received and queued, and unacknowledged critical values are escalated once.
pub async fn run_timers(ctx: &Ctx, consortium: ConsortiumId) -> Result<usize, AppError> {
    let now = ctx.clock.now();
    let system = system_actor(consortium);
    let mut done = 0;
    let mut tx = ctx.db.begin_write().await?;
    for mut o in store::expired_leases(&mut tx, consortium, now).await? {
        apply(
            ctx,
            &mut tx,
            &system,
            &mut o,
            ItemTransition::ExpireLease,
            Party::System,
            &Change::default(),
            None,
            None,
        )
        .await?;
        done += 1;
    }
    for mut o in store::settled_acquisitions(&mut tx, consortium, now - chrono::Duration::minutes(2)).await? {
        if o.state == ItemState::Ordered {
            apply(
                ctx,
                &mut tx,
                &system,
                &mut o,
                ItemTransition::Acquire,
                Party::System,
                &Change::default(),
                None,
                None,
            )
            .await?;
        }
        apply(
            ctx,
            &mut tx,
            &system,
            &mut o,
            ItemTransition::Receive,
            Party::System,
            &Change::default(),
            None,
            None,
        )
        .await?;
        done += 1;
    }
    done += critical::escalate(ctx, &mut tx, consortium, now).await?;
    tx.commit().await?;
    Ok(done)
}

/// The platform acting on its own (timers), for event trails.
pub(crate) fn system_actor(consortium: ConsortiumId) -> Actor {
    Actor {
        user_id: Uuid::nil(),
        staff_id: None,
        consortium_id: consortium,
        role: Role::SystemAdmin,
        institution_id: None,
        scope_kind: yigong_domain::access::ScopeKind::Consortium,
        scope: Scope::Consortium,
        grants: vec![],
        request_id: None,
    }
}

/// One exam item of a bulk load (the synthetic county, a migration): the order with its state
/// and times as they happened, its trail, report versions, critical values, specimen chain and
/// the recognition decision that led to it (or that replaced it).
#[derive(Debug, Clone)]
pub struct Loaded {
    /// The item (`None`: a recognised prior result, no new order; then `decision` is set).
    pub order: Option<ExamOrder>,
    /// Its trail, in order.
    pub events: Vec<StoredEvent>,
    /// Its report versions, in order (signed with this deployment's key on load).
    pub reports: Vec<Report>,
    /// Its critical values.
    pub criticals: Vec<Critical>,
    /// Its specimen chain, in order.
    pub specimen: Vec<SpecimenEvent>,
    /// The recognition decision.
    pub decision: Option<yigong_store::reading::Decision>,
}

/// Loads the catalogue of orderable items and the producers' QC (loaders only).
pub async fn load_catalogue(
    ctx: &Ctx,
    consortium: ConsortiumId,
    items: &[Item],
    qc: &[(String, InstitutionId, bool, chrono::NaiveDate)],
) -> Result<(), AppError> {
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin_write().await?;
    for i in items {
        store::put_item(&mut tx, consortium, i).await?;
    }
    for (code, producer, passed, until) in qc {
        store::put_qc(&mut tx, consortium, code, *producer, *passed, *until, now).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Loads exam items as they happened, in one transaction. For loaders only: no use-case
/// checks, no notifications; report signatures are made here with the deployment's key over
/// the content hash given.
pub async fn load(ctx: &Ctx, consortium: ConsortiumId, items: Vec<Loaded>) -> Result<usize, AppError> {
    let mut tx = ctx.db.begin_write().await?;
    let n = items.len();
    for mut item in items {
        if let Some(o) = item.order.as_mut() {
            o.consortium_id = consortium;
            store::insert_order(&mut tx, o).await?;
            for e in &item.events {
                store::insert_event(&mut tx, consortium, o.id, e).await?;
            }
            for r in &mut item.reports {
                r.signature = ctx.signer.sign(&r.content_hash);
                store::insert_report(&mut tx, consortium, o.id, r).await?;
                fhir::mirror(&mut tx, o, r, None, r.signed_at).await?;
            }
            for s in &item.specimen {
                store::insert_specimen(&mut tx, consortium, o.id, s).await?;
            }
            for c in &mut item.criticals {
                c.consortium_id = consortium;
                store::insert_critical(&mut tx, c).await?;
            }
        }
        if let Some(d) = &item.decision {
            store::insert_decision(&mut tx, consortium, d).await?;
        }
    }
    tx.commit().await?;
    Ok(n)
}
