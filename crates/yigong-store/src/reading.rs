//! The reading centres' work (migrations `0008_imaging`, `0009_reading`): exam orders with their
//! event trail, the atomic claim, report versions, the specimen chain, critical values, the
//! catalogue of orderable items with the producers' quality control, and recognition decisions.

use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;
use yigong_domain::ids::{ConsortiumId, InstitutionId, PatientRecordId};
use yigong_domain::page::{Page, PageRequest};
use yigong_domain::reading::{
    Centre, CriticalState, Disposition, ExamKind, ItemState, ItemTransition, Party, RecognitionKind,
    RecognitionScope, RetestGround, SpecimenStep, Urgency,
};

use crate::bind::{Bind, fetch_all, next, versioned_update};
use crate::{StoreError, Tx, classify, on_tx};

/// One exam item ordered at a grassroots site and read at a county centre.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExamOrder {
    /// Tenant.
    pub consortium_id: ConsortiumId,
    /// Key.
    pub id: Uuid,
    /// Accession number (images and specimen barcode).
    pub accession_no: String,
    /// The patient's record.
    pub patient_record_id: PatientRecordId,
    /// Where it was ordered.
    pub ordering_institution_id: InstitutionId,
    /// Who ordered it.
    pub ordering_user_id: Option<Uuid>,
    /// The centre that reads it.
    pub centre: Centre,
    /// What is examined.
    pub kind: ExamKind,
    /// DICOM modality code.
    pub modality: Option<String>,
    /// Body part.
    pub body_part: Option<String>,
    /// Catalogue code.
    pub item_code: Option<String>,
    /// Item name as ordered.
    pub item_name: String,
    /// Clinical setting.
    pub urgency: Urgency,
    /// The clinical question.
    pub question: String,
    /// Head CT/MR (shorter emergency limit).
    pub head: bool,
    /// The complex class (24 h CT/MR, 10-day pathology).
    pub complex: bool,
    /// State.
    pub state: ItemState,
    /// Optimistic-concurrency version.
    pub version: i32,
    /// The reader holding the claim.
    pub reader_user_id: Option<Uuid>,
    /// Until when the claim holds.
    pub lease_until: Option<DateTime<Utc>>,
    /// The institution whose centre read it (the producer).
    pub reading_institution_id: Option<InstitutionId>,
    /// Complete at the centre.
    pub received_at: Option<DateTime<Utc>>,
    /// When the counted report is due.
    pub due_at: Option<DateTime<Utc>>,
    /// Preliminary report signed.
    pub preliminary_at: Option<DateTime<Utc>>,
    /// Final report signed.
    pub final_at: Option<DateTime<Utc>>,
    /// Back at the ordering site.
    pub delivered_at: Option<DateTime<Utc>>,
    /// Worklist rank (urgency).
    pub work_rank: i32,
    /// The current report carries the HR mark.
    pub hr: bool,
    /// Latest report version (0: none).
    pub report_version: i32,
    /// Latest specimen step.
    pub specimen_step: Option<SpecimenStep>,
    /// Why it was cancelled or rejected.
    pub cancel_reason: Option<String>,
    /// Ordered.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

impl ExamOrder {
    /// What the domain's rules need.
    pub fn facts(&self) -> yigong_domain::reading::Facts {
        yigong_domain::reading::Facts {
            state: self.state,
            kind: self.kind,
            urgency: self.urgency,
            lease_until: self.lease_until,
        }
    }
}

#[derive(sqlx::FromRow)]
struct Row {
    consortium_id: Uuid,
    order_id: Uuid,
    accession_no: String,
    patient_record_id: Uuid,
    ordering_institution_id: Uuid,
    ordering_user_id: Option<Uuid>,
    centre: String,
    kind: String,
    modality: Option<String>,
    body_part: Option<String>,
    item_code: Option<String>,
    item_name: String,
    urgency: String,
    question: String,
    is_head: bool,
    is_complex: bool,
    state: String,
    version: i32,
    reader_user_id: Option<Uuid>,
    lease_until: Option<DateTime<Utc>>,
    reading_institution_id: Option<Uuid>,
    received_at: Option<DateTime<Utc>>,
    due_at: Option<DateTime<Utc>>,
    preliminary_at: Option<DateTime<Utc>>,
    final_at: Option<DateTime<Utc>>,
    delivered_at: Option<DateTime<Utc>>,
    work_rank: i32,
    hr: bool,
    report_version: i32,
    specimen_step: Option<String>,
    cancel_reason: Option<String>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

fn corrupt(what: &str, value: &str) -> StoreError {
    StoreError::Corrupt(format!("exam {what} {value:?}"))
}

fn parse<T>(what: &str, value: &str, f: impl Fn(&str) -> Option<T>) -> Result<T, StoreError> {
    f(value).ok_or_else(|| corrupt(what, value))
}

impl TryFrom<Row> for ExamOrder {
    type Error = StoreError;
    fn try_from(r: Row) -> Result<Self, StoreError> {
        Ok(Self {
            consortium_id: ConsortiumId::from_uuid(r.consortium_id),
            id: r.order_id,
            accession_no: r.accession_no,
            patient_record_id: PatientRecordId::from_uuid(r.patient_record_id),
            ordering_institution_id: InstitutionId::from_uuid(r.ordering_institution_id),
            ordering_user_id: r.ordering_user_id,
            centre: parse("centre", &r.centre, Centre::parse)?,
            kind: parse("kind", &r.kind, ExamKind::parse)?,
            modality: r.modality,
            body_part: r.body_part,
            item_code: r.item_code,
            item_name: r.item_name,
            urgency: parse("urgency", &r.urgency, Urgency::parse)?,
            question: r.question,
            head: r.is_head,
            complex: r.is_complex,
            state: parse("state", &r.state, ItemState::parse)?,
            version: r.version,
            reader_user_id: r.reader_user_id,
            lease_until: r.lease_until,
            reading_institution_id: r.reading_institution_id.map(InstitutionId::from_uuid),
            received_at: r.received_at,
            due_at: r.due_at,
            preliminary_at: r.preliminary_at,
            final_at: r.final_at,
            delivered_at: r.delivered_at,
            work_rank: r.work_rank,
            hr: r.hr,
            report_version: r.report_version,
            specimen_step: r
                .specimen_step
                .as_deref()
                .map(|s| parse("specimen", s, SpecimenStep::parse))
                .transpose()?,
            cancel_reason: r.cancel_reason,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

const COLUMNS: &str = "consortium_id, order_id, accession_no, patient_record_id, ordering_institution_id, \
    ordering_user_id, centre, kind, modality, body_part, item_code, item_name, urgency, question, is_head, \
    is_complex, state, version, reader_user_id, lease_until, reading_institution_id, received_at, due_at, \
    preliminary_at, final_at, delivered_at, work_rank, hr, report_version, specimen_step, cancel_reason, \
    created_at, updated_at";
const NCOLS: usize = 33;

macro_rules! bind_order {
    ($q:expr, $o:expr) => {
        $q.bind($o.consortium_id.as_uuid())
            .bind($o.id)
            .bind(&$o.accession_no)
            .bind($o.patient_record_id.as_uuid())
            .bind($o.ordering_institution_id.as_uuid())
            .bind($o.ordering_user_id)
            .bind($o.centre.as_str())
            .bind($o.kind.as_str())
            .bind(&$o.modality)
            .bind(&$o.body_part)
            .bind(&$o.item_code)
            .bind(&$o.item_name)
            .bind($o.urgency.as_str())
            .bind(&$o.question)
            .bind($o.head)
            .bind($o.complex)
            .bind($o.state.as_str())
            .bind($o.version)
            .bind($o.reader_user_id)
            .bind($o.lease_until)
            .bind($o.reading_institution_id.map(|i| i.as_uuid()))
            .bind($o.received_at)
            .bind($o.due_at)
            .bind($o.preliminary_at)
            .bind($o.final_at)
            .bind($o.delivered_at)
            .bind($o.work_rank)
            .bind($o.hr)
            .bind($o.report_version)
            .bind($o.specimen_step.map(SpecimenStep::as_str))
            .bind(&$o.cancel_reason)
            .bind($o.created_at)
            .bind($o.updated_at)
    };
}

fn placeholders(from: usize, n: usize) -> String {
    (from..from + n).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ")
}

/// Inserts an order; a taken accession number is the conflict `accession_taken`.
pub async fn insert_order(tx: &mut Tx, o: &ExamOrder) -> Result<(), StoreError> {
    let sql = format!("INSERT INTO exam_order ({COLUMNS}) VALUES ({})", placeholders(1, NCOLS));
    on_tx!(tx, conn => bind_order!(sqlx::query(&sql), o).execute(conn).await.map(|_| ()))
        .map_err(|e| classify(e, "accession_taken"))
}

/// Writes every field of `o` if the stored version is still `expected`; otherwise the conflict
/// `exam_stale` and nothing is written.
pub async fn update_order(tx: &mut Tx, o: &ExamOrder, expected: i32) -> Result<(), StoreError> {
    let sql = versioned_update("exam_order", COLUMNS);
    let done = on_tx!(tx, conn => bind_order!(sqlx::query(&sql), o).bind(expected)
        .execute(conn).await.map(|r| r.rows_affected()))
    .map_err(|e| classify(e, "accession_taken"))?;
    if done == 0 { Err(StoreError::Conflict { rule: "exam_stale" }) } else { Ok(()) }
}

/// The order, if it exists.
pub async fn find_order(
    tx: &mut Tx,
    consortium: ConsortiumId,
    id: Uuid,
) -> Result<Option<ExamOrder>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM exam_order WHERE consortium_id = $1 AND order_id = $2");
    let row: Option<Row> = on_tx!(tx, conn => sqlx::query_as(&sql)
        .bind(consortium.as_uuid()).bind(id).fetch_optional(conn).await)?;
    row.map(ExamOrder::try_from).transpose()
}

/// The order of an accession number (or specimen barcode), if any.
pub async fn find_by_accession(
    tx: &mut Tx,
    consortium: ConsortiumId,
    accession_no: &str,
) -> Result<Option<ExamOrder>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM exam_order WHERE consortium_id = $1 AND accession_no = $2");
    let row: Option<Row> = on_tx!(tx, conn => sqlx::query_as(&sql)
        .bind(consortium.as_uuid()).bind(accession_no).fetch_optional(conn).await)?;
    row.map(ExamOrder::try_from).transpose()
}

/// Takes a queued item for `reader` in one conditional update: of any number of concurrent
/// claims exactly one changes the row. `false`: someone else was first (or it is not queued).
#[allow(clippy::too_many_arguments)]
pub async fn claim(
    tx: &mut Tx,
    consortium: ConsortiumId,
    id: Uuid,
    reader: Uuid,
    reading_institution: Option<InstitutionId>,
    lease_until: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    const SQL: &str = "UPDATE exam_order SET state = 'claimed', reader_user_id = $3, reading_institution_id = $4, \
        lease_until = $5, version = version + 1, updated_at = $6 \
        WHERE consortium_id = $1 AND order_id = $2 AND state = 'queued'";
    let done = on_tx!(tx, conn => sqlx::query(SQL).bind(consortium.as_uuid()).bind(id).bind(reader)
        .bind(reading_institution.map(|i| i.as_uuid())).bind(lease_until).bind(now)
        .execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(done == 1)
}

async fn fetch(tx: &mut Tx, sql: &str, binds: Vec<Bind>) -> Result<Vec<ExamOrder>, StoreError> {
    let rows: Vec<Row> = fetch_all(tx, sql, &binds).await?;
    rows.into_iter().map(ExamOrder::try_from).collect()
}

/// What a worklist shows.
#[derive(Debug, Clone, Default)]
pub struct WorklistFilter {
    /// States (empty: queued and claimed).
    pub states: Vec<ItemState>,
    /// Only this kind.
    pub kind: Option<ExamKind>,
    /// Only items from this institution.
    pub origin: Option<InstitutionId>,
    /// Only items held by this reader.
    pub reader: Option<Uuid>,
    /// Only items due by then (overdue now).
    pub due_before: Option<DateTime<Utc>>,
}

/// One page of a centre's worklist, by urgency then deadline. The cursor is `rank|due|id`.
pub async fn worklist(
    tx: &mut Tx,
    consortium: ConsortiumId,
    centre: Centre,
    filter: &WorklistFilter,
    page: &PageRequest,
) -> Result<Page<ExamOrder>, StoreError> {
    let mut binds = vec![Bind::Uuid(consortium.as_uuid()), Bind::Text(centre.as_str().into())];
    let states: Vec<ItemState> = if filter.states.is_empty() {
        vec![ItemState::Queued, ItemState::Claimed]
    } else {
        filter.states.clone()
    };
    let list = states.iter().map(|s| next(&mut binds, Bind::Text(s.as_str().into()))).collect::<Vec<_>>();
    let mut sql = format!(
        "SELECT {COLUMNS} FROM exam_order WHERE consortium_id = $1 AND centre = $2 AND state IN ({})",
        list.join(", ")
    );
    if let Some(k) = filter.kind {
        sql += &format!(" AND kind = {}", next(&mut binds, Bind::Text(k.as_str().into())));
    }
    if let Some(o) = filter.origin {
        sql += &format!(" AND ordering_institution_id = {}", next(&mut binds, Bind::Uuid(o.as_uuid())));
    }
    if let Some(r) = filter.reader {
        sql += &format!(" AND reader_user_id = {}", next(&mut binds, Bind::Uuid(r)));
    }
    if let Some(d) = filter.due_before {
        sql += &format!(" AND due_at <= {}", next(&mut binds, Bind::At(d)));
    }
    if let Some(after) = page.after.as_deref() {
        let (rank, due, id) = parse_cursor(after).ok_or(StoreError::Corrupt("worklist cursor".into()))?;
        let r = next(&mut binds, Bind::Int(rank));
        let d = next(&mut binds, Bind::At(due));
        let i = next(&mut binds, Bind::Uuid(id));
        sql += &format!(
            " AND (work_rank > {r} OR (work_rank = {r} AND due_at > {d}) OR (work_rank = {r} AND due_at = {d} AND order_id > {i}))"
        );
    }
    sql += &format!(
        " ORDER BY work_rank, due_at, order_id LIMIT {}",
        next(&mut binds, Bind::Int(i64::from(page.size) + 1))
    );
    let items = fetch(tx, &sql, binds).await?;
    Ok(Page::from_overfetch(items, page.size, |o| {
        format!("{}|{}|{}", o.work_rank, o.due_at.unwrap_or(o.created_at).to_rfc3339(), o.id)
    }))
}

fn parse_cursor(s: &str) -> Option<(i64, DateTime<Utc>, Uuid)> {
    let mut parts = s.splitn(3, '|');
    let rank = parts.next()?.parse().ok()?;
    let at = DateTime::parse_from_rfc3339(parts.next()?).ok()?.to_utc();
    let id = Uuid::parse_str(parts.next()?).ok()?;
    Some((rank, at, id))
}

/// A centre's open counts: (state, overdue?) → count, for queued, claimed and preliminary items.
pub async fn worklist_counts(
    tx: &mut Tx,
    consortium: ConsortiumId,
    centre: Centre,
    now: DateTime<Utc>,
) -> Result<Vec<(ItemState, bool, i64)>, StoreError> {
    const SQL: &str = "SELECT state, CASE WHEN due_at <= $3 THEN 1 ELSE 0 END, COUNT(*) FROM exam_order \
        WHERE consortium_id = $1 AND centre = $2 AND state IN ('queued', 'claimed', 'preliminary') \
        GROUP BY state, CASE WHEN due_at <= $3 THEN 1 ELSE 0 END";
    let rows: Vec<(String, i32, i64)> = on_tx!(tx, conn => sqlx::query_as(SQL)
        .bind(consortium.as_uuid()).bind(centre.as_str()).bind(now).fetch_all(conn).await)?;
    rows.into_iter().map(|(s, o, n)| Ok((parse("state", &s, ItemState::parse)?, o == 1, n))).collect()
}

/// One page of the orders placed by `institutions`, newest first (cursor `created_at|id`).
pub async fn orders_of(
    tx: &mut Tx,
    consortium: ConsortiumId,
    institutions: &[InstitutionId],
    states: &[ItemState],
    page: &PageRequest,
) -> Result<Page<ExamOrder>, StoreError> {
    if institutions.is_empty() {
        return Ok(Page { items: vec![], next_after: None });
    }
    let mut binds = vec![Bind::Uuid(consortium.as_uuid())];
    let inst = institutions.iter().map(|i| next(&mut binds, Bind::Uuid(i.as_uuid()))).collect::<Vec<_>>();
    let mut sql = format!(
        "SELECT {COLUMNS} FROM exam_order WHERE consortium_id = $1 AND ordering_institution_id IN ({})",
        inst.join(", ")
    );
    if !states.is_empty() {
        let s = states.iter().map(|s| next(&mut binds, Bind::Text(s.as_str().into()))).collect::<Vec<_>>();
        sql += &format!(" AND state IN ({})", s.join(", "));
    }
    if let Some(after) = page.after.as_deref() {
        let (at, id) = after
            .split_once('|')
            .and_then(|(a, i)| {
                Some((DateTime::parse_from_rfc3339(a).ok()?.to_utc(), Uuid::parse_str(i).ok()?))
            })
            .ok_or(StoreError::Corrupt("orders cursor".into()))?;
        let a = next(&mut binds, Bind::At(at));
        let i = next(&mut binds, Bind::Uuid(id));
        sql += &format!(" AND (created_at < {a} OR (created_at = {a} AND order_id < {i}))");
    }
    sql += &format!(
        " ORDER BY created_at DESC, order_id DESC LIMIT {}",
        next(&mut binds, Bind::Int(i64::from(page.size) + 1))
    );
    let items = fetch(tx, &sql, binds).await?;
    Ok(Page::from_overfetch(items, page.size, |o| format!("{}|{}", o.created_at.to_rfc3339(), o.id)))
}

/// Every order of these patient records, newest first (at most `limit`).
pub async fn orders_of_records(
    tx: &mut Tx,
    consortium: ConsortiumId,
    records: &[PatientRecordId],
    limit: i64,
) -> Result<Vec<ExamOrder>, StoreError> {
    if records.is_empty() {
        return Ok(vec![]);
    }
    let mut binds = vec![Bind::Uuid(consortium.as_uuid())];
    let list = records.iter().map(|r| next(&mut binds, Bind::Uuid(r.as_uuid()))).collect::<Vec<_>>();
    let sql = format!(
        "SELECT {COLUMNS} FROM exam_order WHERE consortium_id = $1 AND patient_record_id IN ({}) \
         ORDER BY created_at DESC, order_id DESC LIMIT {}",
        list.join(", "),
        next(&mut binds, Bind::Int(limit))
    );
    fetch(tx, &sql, binds).await
}

/// Claimed items whose lease ran out by `now`.
pub async fn expired_leases(
    tx: &mut Tx,
    consortium: ConsortiumId,
    now: DateTime<Utc>,
) -> Result<Vec<ExamOrder>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM exam_order WHERE consortium_id = $1 AND state = 'claimed' AND lease_until <= $2"
    );
    fetch(tx, &sql, vec![Bind::Uuid(consortium.as_uuid()), Bind::At(now)]).await
}

/// Ordered or acquired imaging items whose images have stopped arriving since `quiet_since`.
pub async fn settled_acquisitions(
    tx: &mut Tx,
    consortium: ConsortiumId,
    quiet_since: DateTime<Utc>,
) -> Result<Vec<ExamOrder>, StoreError> {
    let cols = COLUMNS.split(", ").map(|c| format!("o.{c}")).collect::<Vec<_>>().join(", ");
    let sql = format!(
        "SELECT {cols} FROM exam_order o WHERE o.consortium_id = $1 AND o.state IN ('ordered', 'acquired') \
         AND EXISTS (SELECT 1 FROM dicom_study s WHERE s.consortium_id = o.consortium_id AND s.order_id = o.order_id) \
         AND NOT EXISTS (SELECT 1 FROM dicom_study s WHERE s.consortium_id = o.consortium_id \
         AND s.order_id = o.order_id AND s.updated_at > $2)"
    );
    fetch(tx, &sql, vec![Bind::Uuid(consortium.as_uuid()), Bind::At(quiet_since)]).await
}

/// How many images are indexed for an order.
pub async fn image_count(tx: &mut Tx, consortium: ConsortiumId, order: Uuid) -> Result<i64, StoreError> {
    const SQL: &str =
        "SELECT COALESCE(SUM(instance_count), 0) FROM dicom_study WHERE consortium_id = $1 AND order_id = $2";
    let (n,): (i64,) = on_tx!(tx, conn => sqlx::query_as(SQL)
        .bind(consortium.as_uuid()).bind(order).fetch_one(conn).await)?;
    Ok(n)
}

/// The studies of an order (study instance UIDs).
pub async fn studies_of(
    tx: &mut Tx,
    consortium: ConsortiumId,
    order: Uuid,
) -> Result<Vec<String>, StoreError> {
    const SQL: &str =
        "SELECT study_uid FROM dicom_study WHERE consortium_id = $1 AND order_id = $2 ORDER BY study_uid";
    let rows: Vec<(String,)> = on_tx!(tx, conn => sqlx::query_as(SQL)
        .bind(consortium.as_uuid()).bind(order).fetch_all(conn).await)?;
    Ok(rows.into_iter().map(|r| r.0).collect())
}

/// Links studies already received under an accession number to its (new) order.
pub async fn attach_studies(
    tx: &mut Tx,
    consortium: ConsortiumId,
    order: Uuid,
    accession_no: &str,
) -> Result<u64, StoreError> {
    const SQL: &str = "UPDATE dicom_study SET order_id = $2 WHERE consortium_id = $1 AND accession_no = $3 \
        AND order_id IS NULL";
    on_tx!(tx, conn => sqlx::query(SQL).bind(consortium.as_uuid()).bind(order).bind(accession_no)
        .execute(conn).await.map(|r| r.rows_affected()))
    .map_err(StoreError::from)
}

/// One step of an item's trail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// Position in the trail (assigned on insert).
    pub seq: i32,
    /// What happened (`None`: created).
    pub transition: Option<ItemTransition>,
    /// Before.
    pub from_state: ItemState,
    /// After.
    pub to_state: ItemState,
    /// Who, seen from the item.
    pub party: Party,
    /// The account.
    pub user_id: Option<Uuid>,
    /// Its role.
    pub role: Option<String>,
    /// Its institution.
    pub institution_id: Option<InstitutionId>,
    /// When.
    pub at: DateTime<Utc>,
    /// Reason (cancel, reject, amend, assign).
    pub reason: Option<String>,
    /// What else it recorded.
    pub payload: serde_json::Value,
}

/// Appends an event (its `seq` is the next one).
pub async fn insert_event(
    tx: &mut Tx,
    consortium: ConsortiumId,
    order: Uuid,
    e: &Event,
) -> Result<(), StoreError> {
    const SQL: &str = "INSERT INTO exam_event (consortium_id, order_id, seq, transition, from_state, to_state, \
        party, user_id, role, institution_id, occurred_at, reason, payload) \
        VALUES ($1, $2, (SELECT COALESCE(MAX(seq), 0) + 1 FROM exam_event WHERE consortium_id = $1 AND order_id = $2), \
        $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)";
    on_tx!(tx, conn => sqlx::query(SQL).bind(consortium.as_uuid()).bind(order)
        .bind(e.transition.map(ItemTransition::as_str).unwrap_or("create")).bind(e.from_state.as_str())
        .bind(e.to_state.as_str()).bind(e.party.as_str()).bind(e.user_id).bind(&e.role)
        .bind(e.institution_id.map(|i| i.as_uuid())).bind(e.at).bind(&e.reason).bind(e.payload.to_string())
        .execute(conn).await.map(|_| ()))
    .map_err(|e| classify(e, "exam_event_exists"))
}

type EventRow = (
    i32,
    String,
    String,
    String,
    String,
    Option<Uuid>,
    Option<String>,
    Option<Uuid>,
    DateTime<Utc>,
    Option<String>,
    String,
);

/// An item's trail, oldest first.
pub async fn events(tx: &mut Tx, consortium: ConsortiumId, order: Uuid) -> Result<Vec<Event>, StoreError> {
    const SQL: &str = "SELECT seq, transition, from_state, to_state, party, user_id, role, institution_id, \
        occurred_at, reason, payload FROM exam_event WHERE consortium_id = $1 AND order_id = $2 ORDER BY seq";
    let rows: Vec<EventRow> = on_tx!(tx, conn => sqlx::query_as(SQL)
        .bind(consortium.as_uuid()).bind(order).fetch_all(conn).await)?;
    rows.into_iter()
        .map(|r| {
            Ok(Event {
                seq: r.0,
                transition: if r.1 == "create" {
                    None
                } else {
                    Some(parse("transition", &r.1, ItemTransition::parse)?)
                },
                from_state: parse("state", &r.2, ItemState::parse)?,
                to_state: parse("state", &r.3, ItemState::parse)?,
                party: parse("party", &r.4, Party::parse)?,
                user_id: r.5,
                role: r.6,
                institution_id: r.7.map(InstitutionId::from_uuid),
                at: r.8,
                reason: r.9,
                payload: serde_json::from_str(&r.10).map_err(|_| corrupt("event payload", "not JSON"))?,
            })
        })
        .collect()
}

/// One signed version of a report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// 1, 2, …
    pub version: i32,
    /// `preliminary`, `final` or `amended`.
    pub status: String,
    /// The structured content (template field → value) as JSON.
    pub content: serde_json::Value,
    /// A critical finding was flagged.
    pub critical: bool,
    /// Carries the HR mark.
    pub hr: bool,
    /// Signer's account.
    pub author_user_id: Uuid,
    /// Signer's staff record.
    pub author_staff_id: Option<Uuid>,
    /// Signer's name as signed.
    pub author_name: String,
    /// Signer's institution.
    pub institution_id: Option<InstitutionId>,
    /// Why it was amended.
    pub reason: Option<String>,
    /// SM3 of the canonical content, hex.
    pub content_hash: String,
    /// SM2 signature over the hash, hex.
    pub signature: String,
    /// When.
    pub signed_at: DateTime<Utc>,
}

/// Appends a report version.
pub async fn insert_report(
    tx: &mut Tx,
    consortium: ConsortiumId,
    order: Uuid,
    r: &Report,
) -> Result<(), StoreError> {
    const SQL: &str = "INSERT INTO exam_report (consortium_id, order_id, version, status, content, critical, hr, \
        author_user_id, author_staff_id, author_name, institution_id, reason, content_hash, signature, signed_at) \
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)";
    on_tx!(tx, conn => sqlx::query(SQL).bind(consortium.as_uuid()).bind(order).bind(r.version).bind(&r.status)
        .bind(r.content.to_string()).bind(r.critical).bind(r.hr).bind(r.author_user_id).bind(r.author_staff_id)
        .bind(&r.author_name).bind(r.institution_id.map(|i| i.as_uuid())).bind(&r.reason).bind(&r.content_hash)
        .bind(&r.signature).bind(r.signed_at).execute(conn).await.map(|_| ()))
    .map_err(|e| classify(e, "report_version_exists"))
}

type ReportRow = (
    i32,
    String,
    String,
    bool,
    bool,
    Uuid,
    Option<Uuid>,
    String,
    Option<Uuid>,
    Option<String>,
    String,
    String,
    DateTime<Utc>,
);

/// Every version of an item's report, oldest first.
pub async fn reports(tx: &mut Tx, consortium: ConsortiumId, order: Uuid) -> Result<Vec<Report>, StoreError> {
    const SQL: &str = "SELECT version, status, content, critical, hr, author_user_id, author_staff_id, author_name, \
        institution_id, reason, content_hash, signature, signed_at FROM exam_report \
        WHERE consortium_id = $1 AND order_id = $2 ORDER BY version";
    let rows: Vec<ReportRow> = on_tx!(tx, conn => sqlx::query_as(SQL)
        .bind(consortium.as_uuid()).bind(order).fetch_all(conn).await)?;
    rows.into_iter()
        .map(|r| {
            Ok(Report {
                version: r.0,
                status: r.1,
                content: serde_json::from_str(&r.2).map_err(|_| corrupt("report content", "not JSON"))?,
                critical: r.3,
                hr: r.4,
                author_user_id: r.5,
                author_staff_id: r.6,
                author_name: r.7,
                institution_id: r.8.map(InstitutionId::from_uuid),
                reason: r.9,
                content_hash: r.10,
                signature: r.11,
                signed_at: r.12,
            })
        })
        .collect()
}

/// One step of a specimen's chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpecimenEvent {
    /// Position (assigned on insert).
    pub seq: i32,
    /// The step.
    pub step: SpecimenStep,
    /// Where (institution name, box, vehicle).
    pub place: String,
    /// Who.
    pub user_id: Option<Uuid>,
    /// At which institution.
    pub institution_id: Option<InstitutionId>,
    /// Why (rejected).
    pub reason: Option<String>,
    /// Temperature logged in transport.
    pub temperature: Option<String>,
    /// When.
    pub at: DateTime<Utc>,
}

/// Appends a specimen step.
pub async fn insert_specimen(
    tx: &mut Tx,
    consortium: ConsortiumId,
    order: Uuid,
    e: &SpecimenEvent,
) -> Result<(), StoreError> {
    const SQL: &str = "INSERT INTO specimen_event (consortium_id, order_id, seq, step, place, user_id, \
        institution_id, reason, temperature, occurred_at) VALUES ($1, $2, \
        (SELECT COALESCE(MAX(seq), 0) + 1 FROM specimen_event WHERE consortium_id = $1 AND order_id = $2), \
        $3, $4, $5, $6, $7, $8, $9)";
    on_tx!(tx, conn => sqlx::query(SQL).bind(consortium.as_uuid()).bind(order).bind(e.step.as_str())
        .bind(&e.place).bind(e.user_id).bind(e.institution_id.map(|i| i.as_uuid())).bind(&e.reason)
        .bind(&e.temperature).bind(e.at).execute(conn).await.map(|_| ()))
    .map_err(|e| classify(e, "specimen_event_exists"))
}

type SpecimenRow =
    (i32, String, String, Option<Uuid>, Option<Uuid>, Option<String>, Option<String>, DateTime<Utc>);

/// A specimen's chain, oldest first.
pub async fn specimen_events(
    tx: &mut Tx,
    consortium: ConsortiumId,
    order: Uuid,
) -> Result<Vec<SpecimenEvent>, StoreError> {
    const SQL: &str = "SELECT seq, step, place, user_id, institution_id, reason, temperature, occurred_at \
        FROM specimen_event WHERE consortium_id = $1 AND order_id = $2 ORDER BY seq";
    let rows: Vec<SpecimenRow> = on_tx!(tx, conn => sqlx::query_as(SQL)
        .bind(consortium.as_uuid()).bind(order).fetch_all(conn).await)?;
    rows.into_iter()
        .map(|r| {
            Ok(SpecimenEvent {
                seq: r.0,
                step: parse("specimen", &r.1, SpecimenStep::parse)?,
                place: r.2,
                user_id: r.3,
                institution_id: r.4.map(InstitutionId::from_uuid),
                reason: r.5,
                temperature: r.6,
                at: r.7,
            })
        })
        .collect()
}

/// A critical value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Critical {
    /// Tenant.
    pub consortium_id: ConsortiumId,
    /// Key.
    pub id: Uuid,
    /// The exam item.
    pub order_id: Uuid,
    /// Where it must be acknowledged.
    pub ordering_institution_id: InstitutionId,
    /// State.
    pub state: CriticalState,
    /// Optimistic-concurrency version.
    pub version: i32,
    /// What was found (the reader's words).
    pub finding: String,
    /// Who flagged it.
    pub identified_by: Uuid,
    /// When.
    pub identified_at: DateTime<Utc>,
    /// The site was told.
    pub notified_at: Option<DateTime<Utc>>,
    /// Acknowledged.
    pub acknowledged_at: Option<DateTime<Utc>>,
    /// By whom (account).
    pub acknowledged_by: Option<Uuid>,
    /// By whom (name as recorded).
    pub acknowledged_name: Option<String>,
    /// The read-back (复述) as recorded.
    pub read_back: Option<String>,
    /// What was done.
    pub disposition: Option<Disposition>,
    /// Notes on it.
    pub disposition_note: Option<String>,
    /// When.
    pub disposed_at: Option<DateTime<Utc>>,
    /// Closed.
    pub closed_at: Option<DateTime<Utc>>,
    /// The site head was called.
    pub escalated_at: Option<DateTime<Utc>>,
}

impl Critical {
    /// What the domain's rules need.
    pub fn facts(&self) -> yigong_domain::reading::critical::CriticalFacts {
        yigong_domain::reading::critical::CriticalFacts {
            state: self.state,
            identified_at: self.identified_at,
            notified_at: self.notified_at,
            acknowledged_at: self.acknowledged_at,
            escalated: self.escalated_at.is_some(),
        }
    }
}

const CRITICAL_COLUMNS: &str = "consortium_id, critical_id, order_id, ordering_institution_id, state, version, \
    finding, identified_by, identified_at, notified_at, acknowledged_at, acknowledged_by, acknowledged_name, \
    read_back, disposition, disposition_note, disposed_at, closed_at, escalated_at";

#[derive(sqlx::FromRow)]
struct CriticalRow {
    consortium_id: Uuid,
    critical_id: Uuid,
    order_id: Uuid,
    ordering_institution_id: Uuid,
    state: String,
    version: i32,
    finding: String,
    identified_by: Uuid,
    identified_at: DateTime<Utc>,
    notified_at: Option<DateTime<Utc>>,
    acknowledged_at: Option<DateTime<Utc>>,
    acknowledged_by: Option<Uuid>,
    acknowledged_name: Option<String>,
    read_back: Option<String>,
    disposition: Option<String>,
    disposition_note: Option<String>,
    disposed_at: Option<DateTime<Utc>>,
    closed_at: Option<DateTime<Utc>>,
    escalated_at: Option<DateTime<Utc>>,
}

impl TryFrom<CriticalRow> for Critical {
    type Error = StoreError;
    fn try_from(r: CriticalRow) -> Result<Self, StoreError> {
        Ok(Self {
            consortium_id: ConsortiumId::from_uuid(r.consortium_id),
            id: r.critical_id,
            order_id: r.order_id,
            ordering_institution_id: InstitutionId::from_uuid(r.ordering_institution_id),
            state: parse("critical state", &r.state, CriticalState::parse)?,
            version: r.version,
            finding: r.finding,
            identified_by: r.identified_by,
            identified_at: r.identified_at,
            notified_at: r.notified_at,
            acknowledged_at: r.acknowledged_at,
            acknowledged_by: r.acknowledged_by,
            acknowledged_name: r.acknowledged_name,
            read_back: r.read_back,
            disposition: r
                .disposition
                .as_deref()
                .map(|d| parse("disposition", d, Disposition::parse))
                .transpose()?,
            disposition_note: r.disposition_note,
            disposed_at: r.disposed_at,
            closed_at: r.closed_at,
            escalated_at: r.escalated_at,
        })
    }
}

macro_rules! bind_critical {
    ($q:expr, $c:expr) => {
        $q.bind($c.consortium_id.as_uuid())
            .bind($c.id)
            .bind($c.order_id)
            .bind($c.ordering_institution_id.as_uuid())
            .bind($c.state.as_str())
            .bind($c.version)
            .bind(&$c.finding)
            .bind($c.identified_by)
            .bind($c.identified_at)
            .bind($c.notified_at)
            .bind($c.acknowledged_at)
            .bind($c.acknowledged_by)
            .bind(&$c.acknowledged_name)
            .bind(&$c.read_back)
            .bind($c.disposition.map(Disposition::as_str))
            .bind(&$c.disposition_note)
            .bind($c.disposed_at)
            .bind($c.closed_at)
            .bind($c.escalated_at)
    };
}

/// Inserts a critical value.
pub async fn insert_critical(tx: &mut Tx, c: &Critical) -> Result<(), StoreError> {
    let sql = format!("INSERT INTO critical_value ({CRITICAL_COLUMNS}) VALUES ({})", placeholders(1, 19));
    on_tx!(tx, conn => bind_critical!(sqlx::query(&sql), c).execute(conn).await.map(|_| ()))
        .map_err(|e| classify(e, "critical_exists"))
}

/// Writes a critical value if its version is still `expected` (else `critical_stale`).
pub async fn update_critical(tx: &mut Tx, c: &Critical, expected: i32) -> Result<(), StoreError> {
    let sql = versioned_update("critical_value", CRITICAL_COLUMNS);
    let done = on_tx!(tx, conn => bind_critical!(sqlx::query(&sql), c).bind(expected)
        .execute(conn).await.map(|r| r.rows_affected()))?;
    if done == 0 { Err(StoreError::Conflict { rule: "critical_stale" }) } else { Ok(()) }
}

async fn fetch_critical(tx: &mut Tx, sql: &str, binds: Vec<Bind>) -> Result<Vec<Critical>, StoreError> {
    let rows: Vec<CriticalRow> = fetch_all(tx, sql, &binds).await?;
    rows.into_iter().map(Critical::try_from).collect()
}

/// A critical value by id.
pub async fn find_critical(
    tx: &mut Tx,
    consortium: ConsortiumId,
    id: Uuid,
) -> Result<Option<Critical>, StoreError> {
    let sql = format!(
        "SELECT {CRITICAL_COLUMNS} FROM critical_value WHERE consortium_id = $1 AND critical_id = $2"
    );
    Ok(fetch_critical(tx, &sql, vec![Bind::Uuid(consortium.as_uuid()), Bind::Uuid(id)]).await?.pop())
}

/// The critical values of an item, oldest first.
pub async fn criticals_of(
    tx: &mut Tx,
    consortium: ConsortiumId,
    order: Uuid,
) -> Result<Vec<Critical>, StoreError> {
    let sql = format!(
        "SELECT {CRITICAL_COLUMNS} FROM critical_value WHERE consortium_id = $1 AND order_id = $2 ORDER BY identified_at"
    );
    fetch_critical(tx, &sql, vec![Bind::Uuid(consortium.as_uuid()), Bind::Uuid(order)]).await
}

/// Open critical values (not closed), of `institutions` if given, oldest first.
pub async fn open_criticals(
    tx: &mut Tx,
    consortium: ConsortiumId,
    institutions: Option<&[InstitutionId]>,
    limit: i64,
) -> Result<Vec<Critical>, StoreError> {
    let mut binds = vec![Bind::Uuid(consortium.as_uuid())];
    let mut sql = format!(
        "SELECT {CRITICAL_COLUMNS} FROM critical_value WHERE consortium_id = $1 AND state <> 'closed'"
    );
    if let Some(set) = institutions {
        if set.is_empty() {
            return Ok(vec![]);
        }
        let list = set.iter().map(|i| next(&mut binds, Bind::Uuid(i.as_uuid()))).collect::<Vec<_>>();
        sql += &format!(" AND ordering_institution_id IN ({})", list.join(", "));
    }
    sql += &format!(" ORDER BY identified_at LIMIT {}", next(&mut binds, Bind::Int(limit)));
    fetch_critical(tx, &sql, binds).await
}

/// Unacknowledged and not yet escalated critical values identified before `before`.
pub async fn escalation_candidates(
    tx: &mut Tx,
    consortium: ConsortiumId,
    before: DateTime<Utc>,
) -> Result<Vec<Critical>, StoreError> {
    let sql = format!(
        "SELECT {CRITICAL_COLUMNS} FROM critical_value WHERE consortium_id = $1 \
         AND state IN ('identified', 'notified') AND escalated_at IS NULL AND identified_at <= $2"
    );
    fetch_critical(tx, &sql, vec![Bind::Uuid(consortium.as_uuid()), Bind::At(before)]).await
}

/// Critical values identified in `[from, to)`, for the metrics.
pub async fn criticals_between(
    tx: &mut Tx,
    consortium: ConsortiumId,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<Critical>, StoreError> {
    let sql = format!(
        "SELECT {CRITICAL_COLUMNS} FROM critical_value WHERE consortium_id = $1 AND identified_at >= $2 AND identified_at < $3"
    );
    fetch_critical(tx, &sql, vec![Bind::Uuid(consortium.as_uuid()), Bind::At(from), Bind::At(to)]).await
}

/// An orderable item of the catalogue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    /// Code.
    pub code: String,
    /// Name.
    pub name: String,
    /// Kind.
    pub kind: ExamKind,
    /// DICOM modality.
    pub modality: Option<String>,
    /// Body part.
    pub body_part: Option<String>,
    /// Uniform price, fen.
    pub price_fen: i64,
    /// Recognisable as exam or lab (`None`: not in the recognition catalogue).
    pub recognition: Option<(RecognitionKind, i64, RecognitionScope)>,
    /// Orderable.
    pub active: bool,
}

/// Creates or replaces a catalogue item.
pub async fn put_item(tx: &mut Tx, consortium: ConsortiumId, i: &Item) -> Result<(), StoreError> {
    const SQL: &str = "INSERT INTO exam_item (consortium_id, code, name, kind, modality, body_part, price_fen, \
        recognition_kind, validity_days, scope, active) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) \
        ON CONFLICT (consortium_id, code) DO UPDATE SET name = excluded.name, kind = excluded.kind, \
        modality = excluded.modality, body_part = excluded.body_part, price_fen = excluded.price_fen, \
        recognition_kind = excluded.recognition_kind, validity_days = excluded.validity_days, \
        scope = excluded.scope, active = excluded.active";
    let (rk, days, scope) = match i.recognition {
        Some((k, d, s)) => (Some(k.as_str()), Some(d), Some(s.as_str())),
        None => (None, None, None),
    };
    on_tx!(tx, conn => sqlx::query(SQL).bind(consortium.as_uuid()).bind(&i.code).bind(&i.name)
        .bind(i.kind.as_str()).bind(&i.modality).bind(&i.body_part).bind(i.price_fen).bind(rk).bind(days)
        .bind(scope).bind(i.active).execute(conn).await.map(|_| ()))
    .map_err(|e| classify(e, "exam_item_exists"))
}

type ItemRow = (
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    i64,
    Option<String>,
    Option<i64>,
    Option<String>,
    bool,
);

fn item(r: ItemRow) -> Result<Item, StoreError> {
    let recognition = match (r.6, r.7, r.8) {
        (Some(k), Some(d), Some(s)) => Some((
            parse("recognition kind", &k, RecognitionKind::parse)?,
            d,
            parse("scope", &s, RecognitionScope::parse)?,
        )),
        _ => None,
    };
    Ok(Item {
        code: r.0,
        name: r.1,
        kind: parse("kind", &r.2, ExamKind::parse)?,
        modality: r.3,
        body_part: r.4,
        price_fen: r.5,
        recognition,
        active: r.9,
    })
}

const ITEM_COLUMNS: &str =
    "code, name, kind, modality, body_part, price_fen, recognition_kind, validity_days, scope, active";

/// The catalogue, by code.
pub async fn items(tx: &mut Tx, consortium: ConsortiumId) -> Result<Vec<Item>, StoreError> {
    let sql = format!("SELECT {ITEM_COLUMNS} FROM exam_item WHERE consortium_id = $1 ORDER BY code");
    let rows: Vec<ItemRow> = on_tx!(tx, conn => sqlx::query_as(&sql)
        .bind(consortium.as_uuid()).fetch_all(conn).await)?;
    rows.into_iter().map(item).collect()
}

/// One catalogue item.
pub async fn find_item(
    tx: &mut Tx,
    consortium: ConsortiumId,
    code: &str,
) -> Result<Option<Item>, StoreError> {
    let sql = format!("SELECT {ITEM_COLUMNS} FROM exam_item WHERE consortium_id = $1 AND code = $2");
    let row: Option<ItemRow> = on_tx!(tx, conn => sqlx::query_as(&sql)
        .bind(consortium.as_uuid()).bind(code).fetch_optional(conn).await)?;
    row.map(item).transpose()
}

/// Records a producer's quality control of an item.
pub async fn put_qc(
    tx: &mut Tx,
    consortium: ConsortiumId,
    code: &str,
    producer: InstitutionId,
    passed: bool,
    valid_until: NaiveDate,
    at: DateTime<Utc>,
) -> Result<(), StoreError> {
    const SQL: &str = "INSERT INTO recognition_qc (consortium_id, code, producer_institution_id, status, \
        valid_until, updated_at) VALUES ($1, $2, $3, $4, $5, $6) \
        ON CONFLICT (consortium_id, code, producer_institution_id) DO UPDATE SET status = excluded.status, \
        valid_until = excluded.valid_until, updated_at = excluded.updated_at";
    on_tx!(tx, conn => sqlx::query(SQL).bind(consortium.as_uuid()).bind(code).bind(producer.as_uuid())
        .bind(if passed { "passed" } else { "failed" }).bind(valid_until).bind(at).execute(conn).await.map(|_| ()))
    .map_err(|e| classify(e, "qc_exists"))
}

/// Every producer's QC: (code, producer, passed, valid until).
pub async fn qc_all(
    tx: &mut Tx,
    consortium: ConsortiumId,
) -> Result<Vec<(String, InstitutionId, bool, NaiveDate)>, StoreError> {
    const SQL: &str = "SELECT code, producer_institution_id, status, valid_until FROM recognition_qc \
        WHERE consortium_id = $1 ORDER BY code, producer_institution_id";
    let rows: Vec<(String, Uuid, String, NaiveDate)> = on_tx!(tx, conn => sqlx::query_as(SQL)
        .bind(consortium.as_uuid()).fetch_all(conn).await)?;
    Ok(rows.into_iter().map(|r| (r.0, InstitutionId::from_uuid(r.1), r.2 == "passed", r.3)).collect())
}

/// A producer's passed QC of an item: valid until.
pub async fn qc_valid_until(
    tx: &mut Tx,
    consortium: ConsortiumId,
    code: &str,
    producer: InstitutionId,
) -> Result<Option<NaiveDate>, StoreError> {
    const SQL: &str = "SELECT valid_until FROM recognition_qc WHERE consortium_id = $1 AND code = $2 \
        AND producer_institution_id = $3 AND status = 'passed'";
    let row: Option<(NaiveDate,)> = on_tx!(tx, conn => sqlx::query_as(SQL).bind(consortium.as_uuid())
        .bind(code).bind(producer.as_uuid()).fetch_optional(conn).await)?;
    Ok(row.map(|r| r.0))
}

/// Reported results of `code` for these records with a final report since `since`, newest first.
pub async fn priors(
    tx: &mut Tx,
    consortium: ConsortiumId,
    code: &str,
    records: &[PatientRecordId],
    since: DateTime<Utc>,
) -> Result<Vec<ExamOrder>, StoreError> {
    if records.is_empty() {
        return Ok(vec![]);
    }
    let mut binds = vec![Bind::Uuid(consortium.as_uuid()), Bind::Text(code.into()), Bind::At(since)];
    let list = records.iter().map(|r| next(&mut binds, Bind::Uuid(r.as_uuid()))).collect::<Vec<_>>();
    let sql = format!(
        "SELECT {COLUMNS} FROM exam_order WHERE consortium_id = $1 AND item_code = $2 AND final_at >= $3 \
         AND patient_record_id IN ({}) AND state IN ('final', 'delivered', 'amended') ORDER BY final_at DESC",
        list.join(", ")
    );
    fetch(tx, &sql, binds).await
}

/// A doctor's decision at the recognition prompt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// Key.
    pub id: Uuid,
    /// The item.
    pub code: String,
    /// The patient.
    pub patient_record_id: PatientRecordId,
    /// The result offered.
    pub prior_order_id: Uuid,
    /// Where it was decided.
    pub institution_id: InstitutionId,
    /// By whom.
    pub user_id: Uuid,
    /// Recognised (no new test).
    pub recognised: bool,
    /// Why repeated.
    pub ground: Option<RetestGround>,
    /// Text for `other`.
    pub ground_text: Option<String>,
    /// The item's price when decided.
    pub price_fen: i64,
    /// The new order (repeated).
    pub new_order_id: Option<Uuid>,
    /// When.
    pub decided_at: DateTime<Utc>,
}

/// Records a decision.
pub async fn insert_decision(tx: &mut Tx, consortium: ConsortiumId, d: &Decision) -> Result<(), StoreError> {
    const SQL: &str = "INSERT INTO recognition_decision (consortium_id, decision_id, code, patient_record_id, \
        prior_order_id, institution_id, user_id, recognised, ground, ground_text, price_fen, new_order_id, decided_at) \
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)";
    on_tx!(tx, conn => sqlx::query(SQL).bind(consortium.as_uuid()).bind(d.id).bind(&d.code)
        .bind(d.patient_record_id.as_uuid()).bind(d.prior_order_id).bind(d.institution_id.as_uuid())
        .bind(d.user_id).bind(d.recognised).bind(d.ground.map(RetestGround::as_str)).bind(&d.ground_text)
        .bind(d.price_fen).bind(d.new_order_id).bind(d.decided_at).execute(conn).await.map(|_| ()))
    .map_err(|e| classify(e, "decision_exists"))
}

/// Decisions in `[from, to)`: (institution, decided at, recognised, price).
pub async fn decisions_between(
    tx: &mut Tx,
    consortium: ConsortiumId,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<(InstitutionId, DateTime<Utc>, bool, i64)>, StoreError> {
    const SQL: &str = "SELECT institution_id, decided_at, recognised, price_fen FROM recognition_decision \
        WHERE consortium_id = $1 AND decided_at >= $2 AND decided_at < $3";
    let rows: Vec<(Uuid, DateTime<Utc>, bool, i64)> = on_tx!(tx, conn => sqlx::query_as(SQL)
        .bind(consortium.as_uuid()).bind(from).bind(to).fetch_all(conn).await)?;
    Ok(rows.into_iter().map(|r| (InstitutionId::from_uuid(r.0), r.1, r.2, r.3)).collect())
}

/// What the turnaround metrics read of an item received in a period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TurnaroundRow {
    /// Centre.
    pub centre: Centre,
    /// Kind.
    pub kind: ExamKind,
    /// Urgency.
    pub urgency: Urgency,
    /// Origin.
    pub ordering_institution_id: InstitutionId,
    /// State.
    pub state: ItemState,
    /// Received.
    pub received_at: DateTime<Utc>,
    /// Due.
    pub due_at: Option<DateTime<Utc>>,
    /// Preliminary.
    pub preliminary_at: Option<DateTime<Utc>>,
    /// Final.
    pub final_at: Option<DateTime<Utc>>,
}

type TurnaroundSql = (
    String,
    String,
    String,
    Uuid,
    String,
    DateTime<Utc>,
    Option<DateTime<Utc>>,
    Option<DateTime<Utc>>,
    Option<DateTime<Utc>>,
);

/// Items received in `[from, to)`.
pub async fn received_between(
    tx: &mut Tx,
    consortium: ConsortiumId,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<TurnaroundRow>, StoreError> {
    const SQL: &str = "SELECT centre, kind, urgency, ordering_institution_id, state, received_at, due_at, \
        preliminary_at, final_at FROM exam_order WHERE consortium_id = $1 AND received_at >= $2 AND received_at < $3";
    let rows: Vec<TurnaroundSql> = on_tx!(tx, conn => sqlx::query_as(SQL)
        .bind(consortium.as_uuid()).bind(from).bind(to).fetch_all(conn).await)?;
    rows.into_iter()
        .map(|r| {
            Ok(TurnaroundRow {
                centre: parse("centre", &r.0, Centre::parse)?,
                kind: parse("kind", &r.1, ExamKind::parse)?,
                urgency: parse("urgency", &r.2, Urgency::parse)?,
                ordering_institution_id: InstitutionId::from_uuid(r.3),
                state: parse("state", &r.4, ItemState::parse)?,
                received_at: r.5,
                due_at: r.6,
                preliminary_at: r.7,
                final_at: r.8,
            })
        })
        .collect()
}

/// Open items past their deadline now, per centre.
pub async fn overdue_now(
    tx: &mut Tx,
    consortium: ConsortiumId,
    now: DateTime<Utc>,
) -> Result<Vec<(Centre, i64)>, StoreError> {
    const SQL: &str = "SELECT centre, COUNT(*) FROM exam_order WHERE consortium_id = $1 \
        AND state IN ('received', 'queued', 'claimed', 'preliminary') AND due_at <= $2 \
        AND NOT (state = 'preliminary' AND urgency IN ('green', 'emergency')) GROUP BY centre";
    let rows: Vec<(String, i64)> = on_tx!(tx, conn => sqlx::query_as(SQL)
        .bind(consortium.as_uuid()).bind(now).fetch_all(conn).await)?;
    rows.into_iter().map(|(c, n)| Ok((parse("centre", &c, Centre::parse)?, n))).collect()
}

/// How many exam items the consortium holds.
pub async fn count(tx: &mut Tx, consortium: ConsortiumId) -> Result<i64, StoreError> {
    const SQL: &str = "SELECT COUNT(*) FROM exam_order WHERE consortium_id = $1";
    let (n,): (i64,) =
        on_tx!(tx, conn => sqlx::query_as(SQL).bind(consortium.as_uuid()).fetch_one(conn).await)?;
    Ok(n)
}

/// One cell of the turnaround counts: items of a centre from county-level or grassroots sites
/// with the same whole minutes from receipt to the counted report (`None`: not reported, or
/// cancelled or returned) and the same on-time verdict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TurnaroundCount {
    /// Centre.
    pub centre: Centre,
    /// Ordered at a grassroots site.
    pub grassroots: bool,
    /// Whole minutes from receipt to the counted report (truncated).
    pub minutes: Option<i64>,
    /// Reported by its deadline.
    pub on_time: bool,
    /// How many items.
    pub count: i64,
}

/// The report the limit counts: the preliminary one for emergency and green items (else the
/// final), none for cancelled or returned items.
const COUNTED_SQL: &str = "CASE WHEN e.state IN ('cancelled', 'rejected_quality') THEN NULL \
    WHEN e.urgency IN ('green', 'emergency') THEN COALESCE(e.preliminary_at, e.final_at) ELSE e.final_at END";

/// The turnaround of items received in `[from, to)`, counted by the database: one grouped scan.
/// `county_tiers` are the institution tiers that are not grassroots.
pub async fn turnaround_counts(
    tx: &mut Tx,
    consortium: ConsortiumId,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    county_tiers: &[&str],
) -> Result<Vec<TurnaroundCount>, StoreError> {
    let minutes = match tx.backend() {
        crate::Backend::Sqlite => {
            "CAST(ROUND((julianday(counted) - julianday(received_at)) * 86400000.0) AS INTEGER) / 60000"
        }
        crate::Backend::Postgres => "CAST(TRUNC(EXTRACT(EPOCH FROM (counted - received_at)) / 60) AS BIGINT)",
    };
    let mut binds = vec![Bind::Uuid(consortium.as_uuid()), Bind::At(from), Bind::At(to)];
    let tiers =
        county_tiers.iter().map(|t| next(&mut binds, Bind::Text((*t).to_owned()))).collect::<Vec<_>>();
    let tiers = if tiers.is_empty() { "NULL".to_owned() } else { tiers.join(", ") };
    let sql = format!(
        "WITH o AS (SELECT e.centre, CASE WHEN i.tier IN ({tiers}) THEN 0 ELSE 1 END AS grassroots, \
         {COUNTED_SQL} AS counted, e.received_at, e.due_at FROM exam_order e \
         JOIN institution i ON i.consortium_id = e.consortium_id AND i.institution_id = e.ordering_institution_id \
         WHERE e.consortium_id = $1 AND e.received_at >= $2 AND e.received_at < $3) \
         SELECT centre, grassroots, CASE WHEN counted IS NULL THEN -1 ELSE {minutes} END AS minutes, \
         CASE WHEN counted IS NOT NULL AND counted <= due_at THEN 1 ELSE 0 END AS on_time, COUNT(*) \
         FROM o GROUP BY centre, grassroots, CASE WHEN counted IS NULL THEN -1 ELSE {minutes} END, \
         CASE WHEN counted IS NOT NULL AND counted <= due_at THEN 1 ELSE 0 END"
    );
    let rows: Vec<(String, i32, i64, i32, i64)> = fetch_all(tx, &sql, &binds).await?;
    rows.into_iter()
        .map(|(c, g, m, on, n)| {
            Ok(TurnaroundCount {
                centre: parse("centre", &c, Centre::parse)?,
                grassroots: g == 1,
                minutes: (m >= 0).then_some(m),
                on_time: on == 1,
                count: n,
            })
        })
        .collect()
}

/// Items received in `[from, to)` per China-time month (`YYYY-MM`) and centre.
pub async fn monthly_counts(
    tx: &mut Tx,
    consortium: ConsortiumId,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<(String, Centre, i64)>, StoreError> {
    let month = match tx.backend() {
        crate::Backend::Sqlite => "strftime('%Y-%m', received_at, '+8 hours')",
        crate::Backend::Postgres => {
            "to_char((received_at AT TIME ZONE 'UTC') + INTERVAL '8 hours', 'YYYY-MM')"
        }
    };
    let sql = format!(
        "SELECT {month}, centre, COUNT(*) FROM exam_order WHERE consortium_id = $1 AND received_at >= $2 \
         AND received_at < $3 GROUP BY {month}, centre"
    );
    let rows: Vec<(String, String, i64)> = on_tx!(tx, conn => sqlx::query_as(&sql)
        .bind(consortium.as_uuid()).bind(from).bind(to).fetch_all(conn).await)?;
    rows.into_iter().map(|(m, c, n)| Ok((m, parse("centre", &c, Centre::parse)?, n))).collect()
}
