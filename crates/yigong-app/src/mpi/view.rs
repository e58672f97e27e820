//! Reading the index: a person with their golden record, records, link history and steward
//! operations; the review queue with each pair side by side.

use std::collections::HashMap;

use yigong_domain::Invalid;
use yigong_domain::access::{self, Actor, Basis, Permission, Target};
use yigong_domain::ids::{ConsortiumId, InstitutionId, PatientRecordId, PersonId};
use yigong_domain::page::{MAX_PAGE_SIZE, Page, PageRequest};
use yigong_domain::patient::{Golden, SourceDemographics, golden};
use yigong_mpi::Record;
use yigong_store::Tx;
use yigong_store::mpi::{
    self as store, CandidateRow, LinkRow, OperationRow, PersonRow, RecordRow, SourceRow,
};

use super::{authorize_steward, raw_record};
use crate::access::authorize;
use crate::audit::{self, Event};
use crate::{AppError, Ctx};

/// A record with its source and current link.
#[derive(Debug, Clone)]
pub struct RecordView {
    /// The record, values as received.
    pub record: RecordRow,
    /// Source code.
    pub source_code: String,
    /// Source name.
    pub source_name: String,
    /// Institution whose system the source is.
    pub institution_id: Option<InstitutionId>,
    /// Current person.
    pub person_id: Option<PersonId>,
}

/// A person as the steward or a clinician sees them.
#[derive(Debug, Clone)]
pub struct PersonView {
    /// Status and forward pointer.
    pub person: PersonRow,
    /// Golden record with provenance.
    pub golden: Golden,
    /// Records linked now.
    pub records: Vec<RecordView>,
    /// Every link ever made to the person, oldest first.
    pub links: Vec<LinkRow>,
    /// Steward operations concerning the person, newest first.
    pub operations: Vec<OperationRow>,
    /// Why the viewer may see it.
    pub basis: Basis,
}

async fn record_views(
    tx: &mut Tx,
    consortium: ConsortiumId,
    rows: Vec<RecordRow>,
) -> Result<Vec<RecordView>, AppError> {
    let sources: HashMap<uuid::Uuid, SourceRow> =
        store::sources(tx, consortium).await?.into_iter().map(|s| (s.source_id, s)).collect();
    let mut out = Vec::with_capacity(rows.len());
    for record in rows {
        let source = sources.get(&record.source_id.as_uuid());
        let person_id = store::person_of(tx, consortium, record.record_id).await?;
        out.push(RecordView {
            source_code: source.map(|s| s.code.clone()).unwrap_or_default(),
            source_name: source.map(|s| s.name.clone()).unwrap_or_default(),
            institution_id: source.and_then(|s| s.institution_id).map(InstitutionId::from_uuid),
            person_id,
            record,
        });
    }
    Ok(out)
}

/// The basis on which `actor` may read a person with records at `institutions`: stewards by
/// jurisdiction, clinicians when one of the records is within their reach (scope or grant).
async fn person_basis(
    ctx: &Ctx,
    actor: &Actor,
    person: PersonId,
    institutions: &[InstitutionId],
) -> Result<Basis, AppError> {
    let consortium = actor.consortium_id;
    let now = ctx.clock.now();
    if let Ok(basis) = access::decide(actor, Permission::MpiSteward, &Target::consortium(consortium), now) {
        return Ok(basis);
    }
    for institution in institutions {
        let target = Target {
            consortium_id: consortium,
            institution_id: Some(*institution),
            patient: Some(person.as_uuid()),
        };
        if let Ok(basis) = access::decide(actor, Permission::PatientRead, &target, now) {
            return Ok(basis);
        }
    }
    // Refused: let `authorize` audit the refusal against the first institution.
    let target = Target {
        consortium_id: consortium,
        institution_id: institutions.first().copied(),
        patient: Some(person.as_uuid()),
    };
    let basis = authorize(ctx, actor, Permission::PatientRead, &target, person_event(person)).await?;
    Ok(basis)
}

/// A read of a person, naming them as the patient (refusals too, so that the trail of one
/// patient shows every attempt).
fn person_event(person: PersonId) -> Event<'static> {
    let mut event = Event::on("read", "mpi_person", person);
    event.patient_id = Some(person.as_uuid());
    event
}

/// One person: golden record, records, link history, operations. Audited as a read of the
/// person's data with its basis.
pub async fn get_person(ctx: &Ctx, actor: &Actor, person_id: PersonId) -> Result<PersonView, AppError> {
    let consortium = actor.consortium_id;
    if !access::role_permits(actor.role, Permission::PatientRead)
        && !access::role_permits(actor.role, Permission::MpiSteward)
    {
        // A role that may never see a person is refused before anything is looked up.
        let target =
            Target { consortium_id: consortium, institution_id: None, patient: Some(person_id.as_uuid()) };
        authorize(ctx, actor, Permission::PatientRead, &target, person_event(person_id)).await?;
    }
    let mut tx = ctx.db.begin().await?;
    let person =
        store::person(&mut tx, consortium, person_id).await?.ok_or(AppError::NotFound { what: "person" })?;
    let ids = store::person_record_ids(&mut tx, consortium, person_id).await?;
    let rows = store::records_by_ids(&mut tx, consortium, &ids).await?;
    let mut records = record_views(&mut tx, consortium, rows).await?;
    records.sort_by(|a, b| {
        a.record.registered_at.cmp(&b.record.registered_at).then(a.record.record_id.cmp(&b.record.record_id))
    });
    let links = store::person_links(&mut tx, consortium, person_id).await?;
    let operations = store::person_operations(&mut tx, consortium, person_id).await?;
    tx.commit().await?;
    let mut institutions: Vec<InstitutionId> = records.iter().filter_map(|r| r.institution_id).collect();
    institutions.sort();
    institutions.dedup();
    let basis = person_basis(ctx, actor, person_id, &institutions).await?;
    let today = ctx.clock.now().date_naive();
    let golden = golden(&records.iter().map(|r| demographics(&r.record, today)).collect::<Vec<_>>());
    let mut event = Event::on("read", "mpi_person", person_id);
    event.patient_id = Some(person_id.as_uuid());
    audit::record_read(ctx, actor, consortium, basis, event).await?;
    Ok(PersonView { person, golden, records, links, operations, basis })
}

/// The person a record is linked to now.
/// Stewards only: it reveals which person a record belongs to.
pub async fn record_person(ctx: &Ctx, actor: &Actor, record: PatientRecordId) -> Result<PersonId, AppError> {
    authorize_steward(ctx, actor, Event::on("read", "mpi_record", record)).await?;
    let mut tx = ctx.db.begin().await?;
    let person = store::person_of(&mut tx, actor.consortium_id, record).await?;
    tx.commit().await?;
    person.ok_or(AppError::NotFound { what: "record" })
}

/// Normalised demographics of a record for survivorship.
pub(crate) fn demographics(row: &RecordRow, today: chrono::NaiveDate) -> SourceDemographics {
    let record = Record::from_raw(&raw_record(row), today);
    let valid = record.resident_id.as_ref().and_then(|id| id.valid());
    SourceDemographics {
        record: row.record_id,
        name: record.name.clone().or_else(|| {
            let parts: Vec<&str> =
                [&record.given_name, &record.family_name].into_iter().flatten().map(String::as_str).collect();
            (!parts.is_empty()).then(|| parts.join(" "))
        }),
        sex: record.sex,
        birth_date: record.birth_date,
        resident_id: valid.map(|id| (id.as_str().to_owned(), id.birth_date(), id.sex())),
        phone: record.phone.clone(),
        village_code: record.village_code.as_ref().map(|v| v.as_str().to_owned()),
        address: record.address.clone(),
        verified: row.verified,
        registered_at: row.registered_at,
    }
}

/// One field of a pair, side by side.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct FieldDetail {
    /// Field name.
    pub field: String,
    /// Comparator.
    pub comparator: String,
    /// Level reached (`missing` when a value is missing).
    pub level: String,
    /// Weight in bits.
    pub weight: f64,
    /// Term-frequency part of the weight.
    pub term_frequency_adjustment: f64,
}

#[derive(serde::Deserialize)]
struct Detail {
    fields: Vec<FieldDetail>,
    hard_rules: Vec<String>,
}

/// A candidate pair with both records.
#[derive(Debug, Clone)]
pub struct CandidateView {
    /// The queue row.
    pub candidate: CandidateRow,
    /// First record.
    pub a: RecordView,
    /// Second record.
    pub b: RecordView,
    /// Field by field.
    pub fields: Vec<FieldDetail>,
    /// Hard rules that held it back.
    pub hard_rules: Vec<String>,
}

async fn candidate_view(
    tx: &mut Tx,
    consortium: ConsortiumId,
    c: CandidateRow,
) -> Result<CandidateView, AppError> {
    let rows = store::records_by_ids(tx, consortium, &[c.record_a, c.record_b]).await?;
    let mut views = record_views(tx, consortium, rows).await?;
    views.sort_by_key(|v| v.record.record_id);
    let (Some(b), Some(a)) = (views.pop(), views.pop()) else {
        return Err(AppError::NotFound { what: "record" });
    };
    let detail: Detail =
        serde_json::from_str(&c.detail).unwrap_or(Detail { fields: Vec::new(), hard_rules: Vec::new() });
    Ok(CandidateView { candidate: c, a, b, fields: detail.fields, hard_rules: detail.hard_rules })
}

fn parse_cursor(after: &str) -> Result<(f64, PatientRecordId, PatientRecordId), AppError> {
    let bad = || {
        AppError::from(Invalid::one("after", "cursor_invalid", "the page cursor is not one this list gave"))
    };
    let mut parts = after.split('_');
    let score: f64 =
        parts.next().and_then(|s| s.parse().ok()).filter(|s: &f64| s.is_finite()).ok_or_else(bad)?;
    let a = parts.next().and_then(|s| uuid::Uuid::parse_str(s).ok()).ok_or_else(bad)?;
    let b = parts.next().and_then(|s| uuid::Uuid::parse_str(s).ok()).ok_or_else(bad)?;
    if parts.next().is_some() {
        return Err(bad());
    }
    Ok((score, PatientRecordId::from_uuid(a), PatientRecordId::from_uuid(b)))
}

/// The review queue: pairs with `status` (`open` by default), highest score first.
pub async fn list_candidates(
    ctx: &Ctx,
    actor: &Actor,
    status: &str,
    page: &PageRequest,
) -> Result<(Page<CandidateView>, i64), AppError> {
    let basis = authorize_steward(ctx, actor, Event::of("search", "mpi_candidate")).await?;
    if !matches!(status, "open" | "same" | "different") {
        return Err(Invalid::one("status", "status_invalid", "status is open, same or different").into());
    }
    if page.size == 0 || page.size > MAX_PAGE_SIZE {
        return Err(Invalid::one("limit", "limit_invalid", format!("limit is 1 to {MAX_PAGE_SIZE}")).into());
    }
    let after = page.after.as_deref().map(parse_cursor).transpose()?;
    let consortium = actor.consortium_id;
    let mut tx = ctx.db.begin().await?;
    let rows = store::list_candidates(&mut tx, consortium, status, after, page.size + 1).await?;
    let total = store::count_candidates(&mut tx, consortium, status).await?;
    let page =
        Page::from_overfetch(rows, page.size, |c| format!("{}_{}_{}", c.score, c.record_a, c.record_b));
    let mut items = Vec::with_capacity(page.items.len());
    for c in page.items {
        items.push(candidate_view(&mut tx, consortium, c).await?);
    }
    tx.commit().await?;
    let mut event = Event::of("search", "mpi_candidate");
    event.detail = Some(format!("status={status} rows={}", items.len()));
    audit::record_read(ctx, actor, consortium, basis, event).await?;
    Ok((Page { items, next_after: page.next_after }, total))
}

/// How many pairs wait in the review queue (stewards; a count, no personal data, not audited
/// as a read).
pub async fn open_review_count(ctx: &Ctx, actor: &Actor) -> Result<i64, AppError> {
    authorize_steward(ctx, actor, Event::of("count", "mpi_candidate")).await?;
    let mut tx = ctx.db.begin().await?;
    let n = store::count_candidates(&mut tx, actor.consortium_id, "open").await?;
    tx.commit().await?;
    Ok(n)
}

/// One pair of the queue.
pub async fn get_candidate(
    ctx: &Ctx,
    actor: &Actor,
    a: PatientRecordId,
    b: PatientRecordId,
) -> Result<CandidateView, AppError> {
    let (a, b) = if a < b { (a, b) } else { (b, a) };
    let basis = authorize_steward(ctx, actor, Event::on("read", "mpi_candidate", a)).await?;
    let consortium = actor.consortium_id;
    let mut tx = ctx.db.begin().await?;
    let c =
        store::candidate(&mut tx, consortium, a, b).await?.ok_or(AppError::NotFound { what: "candidate" })?;
    let view = candidate_view(&mut tx, consortium, c).await?;
    tx.commit().await?;
    let mut event = Event::on("read", "mpi_candidate", a);
    event.patient_id = view.a.person_id.map(|p| p.as_uuid());
    event.detail = Some(format!("other={b}"));
    audit::record_read(ctx, actor, consortium, basis, event).await?;
    Ok(view)
}
