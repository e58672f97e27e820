//! Mutual recognition of results (结果互认, DESIGN.md §6.3): the catalogue of orderable items
//! with its recognisable ones, producers' quality control, the prompt shown when a doctor orders
//! an item for which the patient has a recognisable result, and the decision recorded.

use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;
use yigong_domain::Invalid;
use yigong_domain::access::{Actor, Permission, Target};
use yigong_domain::ids::{InstitutionId, PatientRecordId, PersonId};
use yigong_domain::reading::recognition::{self as rules, Decision as Choice, DecisionRefusal, Prior};
use yigong_domain::reading::{ExamKind, RetestGround};
use yigong_store::reading::{self as store, Decision, ExamOrder, Item};
use yigong_store::{Tx, institution, mpi};

use crate::audit::{self, Event};
use crate::{AppError, Ctx};

/// The doctor's answer to the prompt.
#[derive(Debug, Clone, Default)]
pub struct Answer {
    /// The result offered that the answer is about (default: the newest offered).
    pub prior_order_id: Option<Uuid>,
    /// Recognised: no new test.
    pub recognised: bool,
    /// Why the test is repeated.
    pub ground: Option<RetestGround>,
    /// Text for `other`.
    pub ground_text: Option<String>,
}

/// A prior result offered for recognition.
#[derive(Debug, Clone)]
pub struct Offer {
    /// The item that produced it.
    pub order: ExamOrder,
    /// Where it was read.
    pub producer_name: String,
    /// Its producer's QC valid until.
    pub qc_valid_until: NaiveDate,
    /// The impression of its latest report.
    pub impression: Option<String>,
}

fn catalogue_item(i: &Item) -> Option<rules::Item> {
    let (kind, days, scope) = i.recognition?;
    Some(rules::Item {
        code: i.code.clone(),
        name: i.name.clone(),
        kind,
        validity_days: days,
        scope,
        price_fen: i.price_fen,
    })
}

/// The recognisable results of `item` for the person behind `record`, newest first.
pub(super) async fn offers(
    tx: &mut Tx,
    consortium: yigong_domain::ids::ConsortiumId,
    item: &Item,
    record: PatientRecordId,
    person: Option<PersonId>,
    now: DateTime<Utc>,
) -> Result<Vec<Offer>, AppError> {
    let Some(rule) = catalogue_item(item) else { return Ok(vec![]) };
    let records = match person {
        Some(p) => mpi::person_record_ids(tx, consortium, p).await?,
        None => vec![record],
    };
    let since = now - chrono::Duration::days(rule.validity_days);
    let mut out = Vec::new();
    for prior in store::priors(tx, consortium, &item.code, &records, since).await? {
        let (Some(producer), Some(reported_at)) = (prior.reading_institution_id, prior.final_at) else {
            continue;
        };
        let qc = store::qc_valid_until(tx, consortium, &item.code, producer).await?;
        if rules::offer(&rule, &Prior { reported_at, hr: prior.hr, qc_valid_until: qc }, now).is_err() {
            continue;
        }
        let producer_name =
            institution::find(tx, consortium, producer).await?.map(|i| i.name).unwrap_or_default();
        let impression = store::reports(tx, consortium, prior.id)
            .await?
            .last()
            .and_then(|r| r.content.get("fields")?.get("impression")?.as_str().map(str::to_owned));
        out.push(Offer {
            order: prior,
            producer_name,
            qc_valid_until: qc.expect("offered results have QC"),
            impression,
        });
    }
    Ok(out)
}

/// Checks the answer and builds the decision to record.
pub(super) fn decide(
    item: &Item,
    prior: &Offer,
    answer: &Answer,
    site: InstitutionId,
    user: Uuid,
    record: PatientRecordId,
    now: DateTime<Utc>,
) -> Result<Decision, AppError> {
    let choice = if answer.recognised {
        Choice::Recognised
    } else {
        let Some(ground) = answer.ground else {
            return Err(Invalid::one(
                "recognition.ground",
                "required",
                "a repeated test needs one of the coded grounds",
            )
            .into());
        };
        Choice::Repeated(ground, answer.ground_text.clone())
    };
    rules::validate(&choice, true).map_err(|e| match e {
        DecisionRefusal::TextRequired => Invalid::one("recognition.ground_text", "required", e.to_string()),
        DecisionRefusal::GroundNotEnabled => Invalid::one("recognition.ground", "not_enabled", e.to_string()),
    })?;
    Ok(Decision {
        id: Uuid::now_v7(),
        code: item.code.clone(),
        patient_record_id: record,
        prior_order_id: prior.order.id,
        institution_id: site,
        user_id: user,
        recognised: answer.recognised,
        ground: answer.ground.filter(|_| !answer.recognised),
        ground_text: answer.ground_text.clone().filter(|t| !answer.recognised && !t.trim().is_empty()),
        price_fen: item.price_fen,
        new_order_id: None,
        decided_at: now,
    })
}

/// Whether a report on `o` signed now carries the HR mark: a recognisable item read by a
/// producer whose QC of it has passed and is valid today.
pub(super) async fn qualifies(tx: &mut Tx, o: &ExamOrder, now: DateTime<Utc>) -> Result<bool, AppError> {
    let (Some(code), Some(producer)) = (o.item_code.as_deref(), o.reading_institution_id) else {
        return Ok(false);
    };
    let Some(item) = store::find_item(tx, o.consortium_id, code).await? else { return Ok(false) };
    if item.recognition.is_none() {
        return Ok(false);
    }
    let qc = store::qc_valid_until(tx, o.consortium_id, code, producer).await?;
    Ok(qc.is_some_and(|until| now.date_naive() <= until))
}

/// What the order page shows before an order is placed: the recognisable results of `code` for
/// the patient (empty when there are none or the item is not recognisable).
pub async fn prompt(
    ctx: &Ctx,
    actor: &Actor,
    record: Option<PatientRecordId>,
    code: Option<&str>,
) -> Result<Vec<Offer>, AppError> {
    let consortium = actor.consortium_id;
    crate::referral::gate(ctx, actor, Permission::PatientWrite, Event::of("read", "recognition_prompt"))
        .await?;
    let mut invalid = Invalid::default();
    if record.is_none() {
        invalid.push("patient_record_id", "required", "the patient is required");
    }
    if code.is_none_or(|c| c.trim().is_empty()) {
        invalid.push("item_code", "required", "the item is required");
    }
    invalid.into_result(())?;
    let (record, code) = (record.expect("checked"), code.expect("checked").trim());
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    let item = store::find_item(&mut tx, consortium, code).await?.ok_or_else(|| {
        Invalid::one("item_code", "unknown_item", "no such orderable item in the catalogue")
    })?;
    let person = mpi::person_of(&mut tx, consortium, record).await?;
    let target = Target {
        consortium_id: consortium,
        institution_id: actor.institution_id,
        patient: person.map(|p| p.as_uuid()),
    };
    drop(tx);
    let basis = crate::access::authorize(
        ctx,
        actor,
        Permission::PatientWrite,
        &target,
        Event::of("read", "recognition_prompt"),
    )
    .await?;
    let mut tx = ctx.db.begin().await?;
    let found = offers(&mut tx, consortium, &item, record, person, now).await?;
    drop(tx);
    audit::record_read(
        ctx,
        actor,
        consortium,
        basis,
        Event {
            patient_id: person.map(|p| p.as_uuid()),
            detail: Some(format!("code={code} offers={}", found.len())),
            ..Event::of("read", "recognition_prompt")
        },
    )
    .await?;
    Ok(found)
}

/// The catalogue with every producer's QC (anyone of the consortium may read it).
pub async fn catalogue(
    ctx: &Ctx,
    actor: &Actor,
) -> Result<(Vec<Item>, Vec<(String, InstitutionId, bool, NaiveDate)>), AppError> {
    crate::access::authorize(
        ctx,
        actor,
        Permission::RegistryRead,
        &Target::consortium(actor.consortium_id),
        Event::of("read", "exam_item"),
    )
    .await?;
    let mut tx = ctx.db.begin().await?;
    let items = store::items(&mut tx, actor.consortium_id).await?;
    let qc = store::qc_all(&mut tx, actor.consortium_id).await?;
    Ok((items, qc))
}

/// Creates or changes a catalogue item (consortium administration).
pub async fn put_item(ctx: &Ctx, actor: &Actor, item: Item) -> Result<Item, AppError> {
    let consortium = actor.consortium_id;
    let basis = crate::access::authorize(
        ctx,
        actor,
        Permission::RegistryWrite,
        &Target::consortium(consortium),
        Event::on("update", "exam_item", &item.code),
    )
    .await?;
    let mut invalid = Invalid::default();
    if item.code.trim().is_empty()
        || item.code.len() > 40
        || !item.code.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.')
    {
        invalid.push("code", "invalid", "1–40 letters, digits, '-', '_' or '.'");
    }
    if item.name.trim().is_empty() {
        invalid.push("name", "required", "the name is required");
    }
    if item.price_fen < 0 {
        invalid.push("price_fen", "out_of_range", "the price cannot be negative");
    }
    if let Some((_, days, _)) = item.recognition
        && !(1..=3650).contains(&days)
    {
        invalid.push("validity_days", "out_of_range", "between 1 and 3650 days");
    }
    if item.kind == ExamKind::Lab && item.modality.is_some() {
        invalid.push("modality", "not_applicable", "a lab item has no DICOM modality");
    }
    invalid.into_result(())?;
    let mut tx = ctx.db.begin_write().await?;
    store::put_item(&mut tx, consortium, &item).await?;
    audit::record(ctx, &mut tx, actor, consortium, basis, Event::on("update", "exam_item", &item.code))
        .await?;
    tx.commit().await?;
    Ok(item)
}

/// Records a producer's QC of a recognisable item (medical affairs / quality control).
pub async fn put_qc(
    ctx: &Ctx,
    actor: &Actor,
    code: &str,
    producer: InstitutionId,
    passed: bool,
    valid_until: NaiveDate,
) -> Result<(), AppError> {
    let consortium = actor.consortium_id;
    let basis = crate::access::authorize(
        ctx,
        actor,
        Permission::RegistryWrite,
        &Target::consortium(consortium),
        Event::on("update", "recognition_qc", code),
    )
    .await?;
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin_write().await?;
    let item = store::find_item(&mut tx, consortium, code)
        .await?
        .ok_or_else(|| Invalid::one("code", "unknown_item", "no such item in the catalogue"))?;
    if item.recognition.is_none() {
        return Err(
            Invalid::one("code", "not_recognisable", "the item is not in the recognition catalogue").into()
        );
    }
    if institution::find(&mut tx, consortium, producer).await?.is_none() {
        return Err(Invalid::one("producer_institution_id", "not_found", "no such institution").into());
    }
    store::put_qc(&mut tx, consortium, code, producer, passed, valid_until, now).await?;
    audit::record(
        ctx,
        &mut tx,
        actor,
        consortium,
        basis,
        Event {
            detail: Some(format!("producer={} passed={passed}", producer.as_uuid())),
            ..Event::on("update", "recognition_qc", code)
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
