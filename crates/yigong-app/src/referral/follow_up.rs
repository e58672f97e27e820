//! Follow-up after a down-referral: accepting a down-referral at a township centre or village
//! clinic creates the task, due some days after discharge; completing it closes the
//! down-referral and, through the loop rule, the up-referral it answers.

use chrono::{DateTime, Utc};
use uuid::Uuid;
use yigong_domain::access::{Actor, Permission, Target};
use yigong_domain::referral::{Direction, Outcome, Party, State, Transition};
use yigong_store::Tx;
use yigong_store::referral::{self as store, FollowUp, Referral};

use super::{Change, apply};
use crate::audit::{self, Event};
use crate::{AppError, Ctx};

/// Creates the follow-up task of a downward referral accepted at a grassroots institution.
pub(super) async fn on_accept(
    ctx: &Ctx,
    tx: &mut Tx,
    r: &Referral,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let (Direction::Downward, Some(to)) = (r.direction, r.to_institution_id) else { return Ok(()) };
    let discharged = r.discharged_on.unwrap_or_else(|| now.date_naive());
    let task = FollowUp {
        id: Uuid::now_v7(),
        referral_id: r.id,
        institution_id: to,
        patient_record_id: r.patient_record_id,
        due_on: ctx.referral.follow_up_due(discharged, r.high_risk),
        high_risk: r.high_risk,
        state: "open".into(),
        done_at: None,
        done_by: None,
        note: None,
        created_at: now,
    };
    Ok(store::insert_follow_up(tx, r.consortium_id, &task).await?)
}

/// Open follow-up tasks at the actor's institutions, soonest due first.
pub async fn follow_ups(ctx: &Ctx, actor: &Actor, limit: i64) -> Result<Vec<FollowUp>, AppError> {
    super::gate(ctx, actor, Permission::PatientRead, Event::of("search", "follow_up")).await?;
    let institutions = super::worklist::institutions(actor);
    let mut tx = ctx.db.begin().await?;
    Ok(store::open_follow_ups(&mut tx, actor.consortium_id, &institutions, limit.clamp(1, 500)).await?)
}

/// Completes a follow-up: the task is done with what was found, the down-referral runs to
/// `closed` as the system, and the up-referral it answers closes as a loop.
pub async fn complete_follow_up(
    ctx: &Ctx,
    actor: &Actor,
    task_id: Uuid,
    note: &str,
) -> Result<FollowUp, AppError> {
    let consortium = actor.consortium_id;
    super::gate(ctx, actor, Permission::PatientWrite, Event::on("update", "follow_up", task_id)).await?;
    let note = note.trim();
    if note.is_empty() {
        return Err(yigong_domain::Invalid::one("note", "required", "record what the follow-up found").into());
    }
    let mut tx = ctx.db.begin_write().await?;
    let task =
        store::find_follow_up(&mut tx, consortium, task_id).await?.ok_or(AppError::not_found("follow_up"))?;
    let person = yigong_store::mpi::person_of(&mut tx, consortium, task.patient_record_id).await?;
    let target = Target {
        consortium_id: consortium,
        institution_id: Some(task.institution_id),
        patient: person.map(|p| p.as_uuid()),
    };
    let basis = match yigong_domain::access::decide(actor, Permission::PatientWrite, &target, ctx.clock.now())
    {
        Ok(b) => b,
        Err(_) => {
            drop(tx);
            let e = crate::access::authorize(
                ctx,
                actor,
                Permission::PatientWrite,
                &target,
                Event::on("update", "follow_up", task_id),
            )
            .await
            .err();
            return Err(e.unwrap_or(AppError::Forbidden { code: "out_of_scope" }));
        }
    };
    let now = ctx.clock.now();
    if !store::complete_follow_up(&mut tx, consortium, task_id, now, actor.staff_id, note).await? {
        return Err(AppError::Transition {
            code: "follow_up_not_open",
            message: "the follow-up is already done".into(),
            state: Some("done"),
            allowed: vec![],
        });
    }
    audit::record(
        ctx,
        &mut tx,
        actor,
        consortium,
        basis,
        Event { patient_id: person.map(|p| p.as_uuid()), ..Event::on("update", "follow_up", task_id) },
    )
    .await?;
    // The down-referral: arrived and cared for at the township, completed, closed.
    let mut down =
        store::find(&mut tx, consortium, task.referral_id).await?.ok_or(AppError::not_found("referral"))?;
    let steps: &[Transition] = match down.state {
        State::Accepted | State::Scheduled => {
            &[Transition::Arrive, Transition::StartCare, Transition::Complete]
        }
        State::Arrived => &[Transition::StartCare, Transition::Complete],
        State::InCare => &[Transition::Complete],
        _ => &[],
    };
    for &t in steps {
        let change = Change {
            version: down.version,
            outcome: (t == Transition::Complete).then(|| Outcome::Outpatient.as_str().to_owned()),
            ..Change::default()
        };
        apply(ctx, &mut tx, actor, &mut down, t, Party::System, &change, person).await?;
    }
    if down.state == State::Completed {
        let change = Change { version: down.version, ..Change::default() };
        apply(ctx, &mut tx, actor, &mut down, Transition::Close, Party::System, &change, person).await?;
    }
    if let Some(parent) = down.parent_id {
        let mut up =
            store::find(&mut tx, consortium, parent).await?.ok_or(AppError::not_found("referral"))?;
        if up.state == State::Completed {
            let change = Change { version: up.version, ..Change::default() };
            apply(ctx, &mut tx, actor, &mut up, Transition::Close, Party::System, &change, person).await?;
        }
    }
    let done =
        store::find_follow_up(&mut tx, consortium, task_id).await?.ok_or(AppError::not_found("follow_up"))?;
    tx.commit().await?;
    Ok(done)
}
