//! Critical values (危急值): flagged with a report, the ordering site told at once (an urgent
//! notification to the ordering doctor and the site's clinicians), acknowledged there by a named
//! clinician with read-back, disposed, closed; escalated to the site head and the consortium's
//! medical affairs once unacknowledged past the limit.

use chrono::{DateTime, Utc};
use serde_json::json;
use uuid::Uuid;
use yigong_domain::access::{Actor, Basis, Permission, Role, Scope, Target};
use yigong_domain::ids::{ConsortiumId, InstitutionId};
use yigong_domain::reading::critical::{self as rules, CriticalRefusal, CriticalStep};
use yigong_domain::reading::{CriticalState, Disposition};
use yigong_domain::{Invalid, access};
use yigong_store::reading::{self as store, Critical, ExamOrder};
use yigong_store::referral::Notification;
use yigong_store::{Tx, institution};

use crate::audit::{self, Event};
use crate::{AppError, Ctx};

/// What the ordering site does with a critical value.
#[derive(Debug, Clone)]
pub enum CriticalAction {
    /// Acknowledge, with the read-back (复述) as recorded.
    Acknowledge {
        /// The read-back.
        read_back: String,
    },
    /// Record what was done.
    Dispose {
        /// What.
        disposition: Disposition,
        /// Notes.
        note: Option<String>,
    },
    /// Close after disposition.
    Close,
}

/// A critical value with what its list shows.
#[derive(Debug, Clone)]
pub struct CriticalRow {
    /// The value.
    pub critical: Critical,
    /// Its item's accession number.
    pub accession_no: String,
    /// Its item's name.
    pub item_name: String,
    /// Ordering institution.
    pub origin_name: String,
    /// When acknowledgement is due.
    pub acknowledge_due: DateTime<Utc>,
    /// Past that and unacknowledged.
    pub late: bool,
}

/// Flags a critical value on `o` and tells the ordering site at once.
pub(super) async fn identify(
    tx: &mut Tx,
    actor: &Actor,
    o: &ExamOrder,
    finding: String,
    now: DateTime<Utc>,
) -> Result<Critical, AppError> {
    let c = Critical {
        consortium_id: o.consortium_id,
        id: Uuid::now_v7(),
        order_id: o.id,
        ordering_institution_id: o.ordering_institution_id,
        // The platform tells the site in the same transaction: identified and notified at once.
        state: CriticalState::Notified,
        version: 1,
        finding,
        identified_by: actor.user_id,
        identified_at: now,
        notified_at: Some(now),
        acknowledged_at: None,
        acknowledged_by: None,
        acknowledged_name: None,
        read_back: None,
        disposition: None,
        disposition_note: None,
        disposed_at: None,
        closed_at: None,
        escalated_at: None,
    };
    store::insert_critical(tx, &c).await?;
    super::notify_site(tx, o, "critical_value", true, now).await?;
    Ok(c)
}

fn refusal(e: CriticalRefusal) -> AppError {
    match e {
        CriticalRefusal::ReadBackRequired => {
            Invalid::one("read_back", "required", "acknowledgement needs the read-back (复述)").into()
        }
        CriticalRefusal::WrongInstitution => AppError::Forbidden { code: "wrong_institution" },
        CriticalRefusal::InvalidTransition(state) => AppError::Transition {
            code: e.code(),
            message: e.to_string(),
            state: Some(state.as_str()),
            allowed: vec![],
        },
    }
}

fn at_site(actor: &Actor, site: InstitutionId) -> bool {
    access::role_permits(actor.role, Permission::PatientWrite)
        && match &actor.scope {
            Scope::Institutions(set) => set.contains(&site),
            _ => actor.institution_id == Some(site),
        }
}

/// Acknowledges, disposes or closes a critical value. Only clinicians of the ordering institution
/// may: anyone else is refused with 403 (`wrong_institution`) and the refusal is audited.
pub async fn act_on_critical(
    ctx: &Ctx,
    actor: &Actor,
    id: Uuid,
    action: CriticalAction,
) -> Result<Critical, AppError> {
    let consortium = actor.consortium_id;
    crate::referral::gate(ctx, actor, Permission::PatientWrite, Event::on("update", "critical_value", id))
        .await?;
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin_write().await?;
    let mut c =
        store::find_critical(&mut tx, consortium, id).await?.ok_or(AppError::not_found("critical_value"))?;
    let step = match &action {
        CriticalAction::Acknowledge { read_back } => {
            CriticalStep::Acknowledge { read_back: !read_back.trim().is_empty() }
        }
        CriticalAction::Dispose { disposition, .. } => CriticalStep::Dispose(*disposition),
        CriticalAction::Close => CriticalStep::Close,
    };
    let site = at_site(actor, c.ordering_institution_id);
    let to = match rules::decide(&c.facts(), step, site) {
        Ok(to) => to,
        Err(CriticalRefusal::WrongInstitution) => {
            drop(tx);
            let event = Event::on("acknowledge", "critical_value", id);
            return Err(super::refuse(ctx, actor, "wrong_institution", event).await);
        }
        Err(e) => return Err(refusal(e)),
    };
    let expected = c.version;
    match action {
        CriticalAction::Acknowledge { read_back } => {
            c.acknowledged_at = Some(now);
            c.acknowledged_by = Some(actor.user_id);
            c.acknowledged_name =
                yigong_store::account::find(&mut tx, actor.user_id).await?.map(|a| a.display_name);
            c.read_back = Some(read_back.trim().to_owned());
        }
        CriticalAction::Dispose { disposition, note } => {
            c.disposition = Some(disposition);
            c.disposition_note = note.map(|n| n.trim().to_owned()).filter(|n| !n.is_empty());
            c.disposed_at = Some(now);
        }
        CriticalAction::Close => c.closed_at = Some(now),
    }
    c.state = to;
    c.version += 1;
    store::update_critical(&mut tx, &c, expected).await?;
    let order = store::find_order(&mut tx, consortium, c.order_id).await?;
    let person = match &order {
        Some(o) => yigong_store::mpi::person_of(&mut tx, consortium, o.patient_record_id).await?,
        None => None,
    };
    audit::record(
        ctx,
        &mut tx,
        actor,
        consortium,
        Basis::OwnInstitution,
        Event {
            patient_id: person.map(|p| p.as_uuid()),
            detail: Some(format!("state={}", to.as_str())),
            ..Event::on("update", "critical_value", id)
        },
    )
    .await?;
    tx.commit().await?;
    Ok(c)
}

/// Open critical values: a clinician sees those of their institutions; managers and the bureau
/// see the consortium's (no patient data in the rows).
pub async fn open_criticals(ctx: &Ctx, actor: &Actor) -> Result<Vec<CriticalRow>, AppError> {
    let consortium = actor.consortium_id;
    let manager = access::role_permits(actor.role, Permission::IndicatorRead);
    let institutions: Option<Vec<InstitutionId>> = if manager || actor.role == Role::Reader {
        None
    } else {
        crate::referral::gate(ctx, actor, Permission::PatientRead, Event::of("search", "critical_value"))
            .await?;
        Some(match &actor.scope {
            Scope::Institutions(set) => set.iter().copied().collect(),
            _ => actor.institution_id.into_iter().collect(),
        })
    };
    if manager {
        crate::access::authorize(
            ctx,
            actor,
            Permission::IndicatorRead,
            &Target::consortium(consortium),
            Event::of("search", "critical_value"),
        )
        .await?;
    }
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    let found = store::open_criticals(&mut tx, consortium, institutions.as_deref(), 500).await?;
    let mut out = Vec::with_capacity(found.len());
    for c in found {
        let o = store::find_order(&mut tx, consortium, c.order_id).await?;
        let origin = institution::find(&mut tx, consortium, c.ordering_institution_id).await?.map(|i| i.name);
        let due = rules::acknowledge_due(&c.facts(), &ctx.critical);
        out.push(CriticalRow {
            late: matches!(c.state, CriticalState::Identified | CriticalState::Notified) && now >= due,
            acknowledge_due: due,
            accession_no: o.as_ref().map(|o| o.accession_no.clone()).unwrap_or_default(),
            item_name: o.map(|o| o.item_name).unwrap_or_default(),
            origin_name: origin.unwrap_or_default(),
            critical: c,
        });
    }
    drop(tx);
    let basis = if manager {
        Basis::Jurisdiction
    } else if actor.role == Role::Reader {
        Basis::ReadingCentre
    } else {
        Basis::OwnInstitution
    };
    audit::record_read(
        ctx,
        actor,
        consortium,
        basis,
        Event { detail: Some(format!("open={}", out.len())), ..Event::of("search", "critical_value") },
    )
    .await?;
    Ok(out)
}

/// Escalates, once each, the critical values unacknowledged past the limit: the ordering site's
/// head (institution admin) and medical affairs (consortium managers) are told.
pub(super) async fn escalate(
    ctx: &Ctx,
    tx: &mut Tx,
    consortium: ConsortiumId,
    now: DateTime<Utc>,
) -> Result<usize, AppError> {
    let settings = ctx.critical;
    let mut done = 0;
    for mut c in store::escalation_candidates(tx, consortium, now - settings.acknowledge_within).await? {
        if !rules::escalation_due(&c.facts(), &settings, now) {
            continue;
        }
        let expected = c.version;
        c.escalated_at = Some(now);
        c.version += 1;
        store::update_critical(tx, &c, expected).await?;
        let order = store::find_order(tx, consortium, c.order_id).await?;
        let params = json!({
            "accession_no": order.as_ref().map(|o| o.accession_no.clone()),
            "item": order.as_ref().map(|o| o.item_name.clone()),
            "minutes": (now - c.identified_at).num_minutes(),
        });
        for (institution, role) in
            [(Some(c.ordering_institution_id), Role::InstitutionAdmin), (None, Role::ConsortiumManager)]
        {
            let n = Notification {
                id: Uuid::now_v7(),
                user_id: None,
                institution_id: institution,
                role: Some(role.as_str().into()),
                kind: "critical_escalated".into(),
                referral_id: None,
                order_id: Some(c.order_id),
                params: params.clone(),
                urgent: true,
                created_at: now,
                read_at: None,
                delivered_at: None,
            };
            yigong_store::referral::insert_notification(tx, consortium, &n).await?;
        }
        done += 1;
    }
    Ok(done)
}
