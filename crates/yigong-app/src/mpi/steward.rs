//! Steward operations (DESIGN.md §3.4): link a record to a person, unlink it to a person of its
//! own, merge two persons (the absorbed one retired with a forward pointer), undo any of them,
//! and decide review-queue pairs. Each is one transaction with its audit row; links are closed
//! and opened, never rewritten or deleted, and clinical rows are never touched.

use chrono::{DateTime, Utc};
use yigong_domain::Invalid;
use yigong_domain::access::{Actor, Basis};
use yigong_domain::ids::{ConsortiumId, MpiOperationId, PatientRecordId, PersonId};
use yigong_store::Tx;
use yigong_store::mpi::{self as store, LinkMethod, OperationRow};

use super::authorize_steward;
use crate::audit::{self, Event};
use crate::{AppError, Ctx};

/// A steward's decision on a candidate pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// One person: the two persons are merged (the first record's person survives).
    Same,
    /// Two people: the pair is never proposed again.
    Different,
}

fn reason_required(reason: Option<&str>) -> Result<String, AppError> {
    match reason.map(str::trim).filter(|r| !r.is_empty()) {
        Some(r) if r.chars().count() <= 500 => Ok(r.to_owned()),
        Some(_) => Err(Invalid::one("reason", "too_long", "the reason has at most 500 characters").into()),
        None => Err(Invalid::one("reason", "required", "give the reason for this change").into()),
    }
}

async fn active_person(tx: &mut Tx, consortium: ConsortiumId, person: PersonId) -> Result<(), AppError> {
    match store::person(tx, consortium, person).await? {
        Some(p) if p.status == "active" => Ok(()),
        Some(_) => Err(AppError::Conflict { rule: "mpi_person_merged" }),
        None => Err(AppError::NotFound { what: "person" }),
    }
}

fn operation(kind: &str, actor: &Actor, reason: String, now: DateTime<Utc>) -> OperationRow {
    OperationRow {
        operation_id: MpiOperationId::new_v7(),
        kind: kind.into(),
        person_id: None,
        other_person_id: None,
        record_id: None,
        actor_id: actor.user_id,
        reason,
        undoes: None,
        undone_by: None,
        at: now,
    }
}

fn steward_link(
    record: PatientRecordId,
    person: PersonId,
    method: LinkMethod,
    op: &OperationRow,
) -> store::NewLink {
    store::NewLink {
        record_id: record,
        person_id: person,
        method,
        score: None,
        rule_version: None,
        actor_id: Some(op.actor_id),
        reason: Some(op.reason.clone()),
        operation_id: Some(op.operation_id),
    }
}

async fn finish(
    ctx: &Ctx,
    mut tx: Tx,
    actor: &Actor,
    basis: Basis,
    op: &OperationRow,
    person: PersonId,
) -> Result<MpiOperationId, AppError> {
    let consortium = actor.consortium_id;
    store::insert_operation(&mut tx, consortium, op).await?;
    let mut event = Event::on(&op.kind, "mpi_person", person);
    event.patient_id = Some(person.as_uuid());
    event.detail = Some(format!("operation={}", op.operation_id));
    audit::record(ctx, &mut tx, actor, consortium, basis, event).await?;
    tx.commit().await?;
    Ok(op.operation_id)
}

/// Moves `record` to `person` (a steward's link). The person it leaves keeps its other
/// records; if it has none left it is retired into `person`.
pub async fn link_record(
    ctx: &Ctx,
    actor: &Actor,
    record: PatientRecordId,
    person: PersonId,
    reason: Option<&str>,
) -> Result<MpiOperationId, AppError> {
    let basis = authorize_steward(ctx, actor, Event::on("link", "mpi_record", record)).await?;
    let reason = reason_required(reason)?;
    let consortium = actor.consortium_id;
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin_write().await?;
    active_person(&mut tx, consortium, person).await?;
    let previous = store::close_link(&mut tx, consortium, record, now)
        .await?
        .ok_or(AppError::NotFound { what: "record" })?;
    if previous == person {
        return Err(AppError::Conflict { rule: "mpi_record_already_linked_there" });
    }
    let mut op = operation("link", actor, reason, now);
    op.person_id = Some(person);
    op.other_person_id = Some(previous);
    op.record_id = Some(record);
    store::insert_links(&mut tx, consortium, &[steward_link(record, person, LinkMethod::Steward, &op)], now)
        .await?;
    if store::person_record_ids(&mut tx, consortium, previous).await?.is_empty() {
        store::set_merged(&mut tx, consortium, previous, Some(person), now).await?;
    }
    finish(ctx, tx, actor, basis, &op, person).await
}

/// Takes `record` away from its person into a new person of its own.
pub async fn unlink_record(
    ctx: &Ctx,
    actor: &Actor,
    record: PatientRecordId,
    reason: Option<&str>,
) -> Result<(MpiOperationId, PersonId), AppError> {
    let basis = authorize_steward(ctx, actor, Event::on("unlink", "mpi_record", record)).await?;
    let reason = reason_required(reason)?;
    let consortium = actor.consortium_id;
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin_write().await?;
    let previous =
        store::person_of(&mut tx, consortium, record).await?.ok_or(AppError::NotFound { what: "record" })?;
    if store::person_record_ids(&mut tx, consortium, previous).await?.len() < 2 {
        return Err(AppError::Conflict { rule: "mpi_record_is_the_only_one" });
    }
    store::close_link(&mut tx, consortium, record, now).await?;
    let person = PersonId::new_v7();
    store::insert_persons(&mut tx, consortium, &[person], now).await?;
    let mut op = operation("unlink", actor, reason, now);
    op.person_id = Some(person);
    op.other_person_id = Some(previous);
    op.record_id = Some(record);
    store::insert_links(&mut tx, consortium, &[steward_link(record, person, LinkMethod::Steward, &op)], now)
        .await?;
    let id = finish(ctx, tx, actor, basis, &op, previous).await?;
    Ok((id, person))
}

/// The valid resident ID numbers on a person's records.
async fn valid_ids(tx: &mut Tx, consortium: ConsortiumId, person: PersonId) -> Result<Vec<String>, AppError> {
    let ids = store::person_record_ids(tx, consortium, person).await?;
    let mut out: Vec<String> = store::records_by_ids(tx, consortium, &ids)
        .await?
        .into_iter()
        .filter(|r| matches!(r.values.resident_id_status.as_deref(), Some("valid" | "derived_from_15")))
        .filter_map(|r| r.values.resident_id)
        .collect();
    out.sort();
    out.dedup();
    Ok(out)
}

async fn merge_in(
    ctx: &Ctx,
    tx: &mut Tx,
    actor: &Actor,
    survivor: PersonId,
    absorbed: PersonId,
    reason: Option<&str>,
    now: DateTime<Utc>,
) -> Result<OperationRow, AppError> {
    let consortium = actor.consortium_id;
    if survivor == absorbed {
        return Err(AppError::Conflict { rule: "mpi_merge_same_person" });
    }
    active_person(tx, consortium, survivor).await?;
    active_person(tx, consortium, absorbed).await?;
    let (a, b) = (valid_ids(tx, consortium, survivor).await?, valid_ids(tx, consortium, absorbed).await?);
    let different_ids = !a.is_empty() && !b.is_empty() && !a.iter().any(|id| b.contains(id));
    let reason = match reason.map(str::trim).filter(|r| !r.is_empty()) {
        Some(r) => reason_required(Some(r))?,
        None if different_ids => {
            return Err(Invalid::one(
                "reason",
                "different_valid_ids_need_reason",
                "the two persons carry different valid ID numbers: give the reason to merge them",
            )
            .into());
        }
        None => "merge".to_owned(),
    };
    let _ = ctx;
    let mut op = operation("merge", actor, reason, now);
    op.person_id = Some(survivor);
    op.other_person_id = Some(absorbed);
    let records = store::person_record_ids(tx, consortium, absorbed).await?;
    let mut links = Vec::with_capacity(records.len());
    for record in records {
        store::close_link(tx, consortium, record, now).await?;
        links.push(steward_link(record, survivor, LinkMethod::Merge, &op));
    }
    store::insert_links(tx, consortium, &links, now).await?;
    store::set_merged(tx, consortium, absorbed, Some(survivor), now).await?;
    Ok(op)
}

/// Merges `absorbed` into `survivor`: every record of `absorbed` moves, `absorbed` is retired
/// with a forward pointer. Two persons with different valid ID numbers merge only with a reason.
pub async fn merge(
    ctx: &Ctx,
    actor: &Actor,
    survivor: PersonId,
    absorbed: PersonId,
    reason: Option<&str>,
) -> Result<MpiOperationId, AppError> {
    let basis = authorize_steward(ctx, actor, Event::on("merge", "mpi_person", survivor)).await?;
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin_write().await?;
    let op = merge_in(ctx, &mut tx, actor, survivor, absorbed, reason, now).await?;
    finish(ctx, tx, actor, basis, &op, survivor).await
}

/// Reverses a link, unlink or merge, if nothing has moved its records since.
pub async fn undo(
    ctx: &Ctx,
    actor: &Actor,
    operation_id: MpiOperationId,
    reason: Option<&str>,
) -> Result<MpiOperationId, AppError> {
    let basis = authorize_steward(ctx, actor, Event::on("undo", "mpi_operation", operation_id)).await?;
    let reason = reason_required(reason)?;
    let consortium = actor.consortium_id;
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin_write().await?;
    let original = store::operation(&mut tx, consortium, operation_id)
        .await?
        .ok_or(AppError::NotFound { what: "operation" })?;
    if original.undone_by.is_some() {
        return Err(AppError::Conflict { rule: "mpi_operation_already_undone" });
    }
    let kind = match original.kind.as_str() {
        "merge" => "unmerge",
        "link" => "unlink",
        "unlink" => "link",
        _ => return Err(AppError::Conflict { rule: "mpi_operation_not_reversible" }),
    };
    // Back to where the records were: the absorbed person, or the person the record left.
    let back_to =
        original.other_person_id.ok_or(AppError::Conflict { rule: "mpi_operation_not_reversible" })?;
    let moved_to = original.person_id.ok_or(AppError::Conflict { rule: "mpi_operation_not_reversible" })?;
    let opened = store::links_of_operation(&mut tx, consortium, operation_id).await?;
    if opened.is_empty() || opened.iter().any(|l| l.valid_to.is_some()) {
        return Err(AppError::Conflict { rule: "mpi_records_moved_since" });
    }
    match store::person(&mut tx, consortium, back_to).await? {
        // The person the records go back to is active, or was retired by this very operation.
        Some(p) if p.status == "active" || p.merged_into == Some(moved_to) => {}
        Some(_) => return Err(AppError::Conflict { rule: "mpi_person_merged" }),
        None => return Err(AppError::NotFound { what: "person" }),
    }
    let mut op = operation(kind, actor, reason, now);
    op.person_id = Some(back_to);
    op.other_person_id = Some(moved_to);
    op.record_id = original.record_id;
    op.undoes = Some(operation_id);
    let mut links = Vec::with_capacity(opened.len());
    for link in &opened {
        store::close_link(&mut tx, consortium, link.record_id, now).await?;
        links.push(steward_link(link.record_id, back_to, LinkMethod::Unmerge, &op));
    }
    store::set_merged(&mut tx, consortium, back_to, None, now).await?;
    store::insert_links(&mut tx, consortium, &links, now).await?;
    // A person left without records by the undo (an unlink's new person) is retired into the
    // one that took its record back.
    if store::person_record_ids(&mut tx, consortium, moved_to).await?.is_empty() {
        store::set_merged(&mut tx, consortium, moved_to, Some(back_to), now).await?;
    }
    finish(ctx, tx, actor, basis, &op, back_to).await
}

/// Decides a pair of the review queue.
pub async fn decide(
    ctx: &Ctx,
    actor: &Actor,
    a: PatientRecordId,
    b: PatientRecordId,
    decision: Decision,
    reason: Option<&str>,
) -> Result<Option<MpiOperationId>, AppError> {
    let (a, b) = if a < b { (a, b) } else { (b, a) };
    let basis = authorize_steward(ctx, actor, Event::on("decide", "mpi_candidate", a)).await?;
    let consortium = actor.consortium_id;
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin_write().await?;
    let candidate =
        store::candidate(&mut tx, consortium, a, b).await?.ok_or(AppError::NotFound { what: "candidate" })?;
    if candidate.status != "open" {
        return Err(AppError::Conflict { rule: "mpi_candidate_decided" });
    }
    let reason_text = reason.map(str::trim).filter(|r| !r.is_empty());
    let status = match decision {
        Decision::Same => "same",
        Decision::Different => "different",
    };
    store::decide_candidate(&mut tx, consortium, (a, b), status, actor.user_id, reason_text, now).await?;
    let (pa, pb) = (
        store::person_of(&mut tx, consortium, a).await?.ok_or(AppError::NotFound { what: "record" })?,
        store::person_of(&mut tx, consortium, b).await?.ok_or(AppError::NotFound { what: "record" })?,
    );
    match decision {
        Decision::Same if pa != pb => {
            let op = merge_in(ctx, &mut tx, actor, pa, pb, reason_text, now).await?;
            finish(ctx, tx, actor, basis, &op, pa).await.map(Some)
        }
        _ => {
            let mut event = Event::on("decide", "mpi_candidate", a);
            event.patient_id = Some(pa.as_uuid());
            event.detail = Some(format!("decision={status} other={b}"));
            audit::record(ctx, &mut tx, actor, consortium, basis, event).await?;
            tx.commit().await?;
            Ok(None)
        }
    }
}
