//! Two-way referrals: the referral with its slip, its event trail, follow-up tasks, green-channel
//! stamps and notifications (migration `0006_referral`).

use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;
use yigong_domain::ids::{ConsortiumId, DepartmentId, InstitutionId, PatientRecordId, StaffId};
use yigong_domain::page::{Page, PageRequest};
use yigong_domain::referral::green::{Centre, Milestone, StampSource};
use yigong_domain::referral::{
    CertificateClass, Direction, Facts, NoDownReason, Outcome, Party, Priority, State, Transition,
};

use crate::bind::{Bind, fetch_all, versioned_update};
use crate::{StoreError, Tx, classify, on_tx};

pub mod metrics;

/// A stored referral.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Referral {
    /// Tenant.
    pub consortium_id: ConsortiumId,
    /// Key.
    pub id: Uuid,
    /// 转诊单号.
    pub slip_no: String,
    /// Direction.
    pub direction: Direction,
    /// Priority.
    pub priority: Priority,
    /// State.
    pub state: State,
    /// Optimistic-concurrency version.
    pub version: i32,
    /// The patient's record.
    pub patient_record_id: PatientRecordId,
    /// Sender.
    pub from_institution_id: InstitutionId,
    /// Sending department.
    pub from_department_id: Option<DepartmentId>,
    /// Sending clinician.
    pub from_staff_id: Option<StaffId>,
    /// The account that created it.
    pub from_user_id: Option<Uuid>,
    /// Receiver (`None`: out of network).
    pub to_institution_id: Option<InstitutionId>,
    /// Receiving department.
    pub to_department_id: Option<DepartmentId>,
    /// External institution (out of network).
    pub external_institution: Option<String>,
    /// External reference (out of network).
    pub external_reference: Option<String>,
    /// County to county.
    pub lateral: bool,
    /// Reason code.
    pub reason: String,
    /// Reason text.
    pub reason_text: Option<String>,
    /// Green-channel centre.
    pub green_centre: Option<Centre>,
    /// Slip content as JSON.
    pub slip: serde_json::Value,
    /// Insurance certificate class.
    pub certificate_class: Option<CertificateClass>,
    /// Certificate issue day.
    pub certificate_issued: Option<NaiveDate>,
    /// Certificate number.
    pub certificate_no: Option<String>,
    /// Consent recorded.
    pub consent: bool,
    /// The up-referral a down-referral answers.
    pub parent_id: Option<Uuid>,
    /// High-risk (down-referral follow-up sooner).
    pub high_risk: bool,
    /// Discharge day (down-referrals).
    pub discharged_on: Option<NaiveDate>,
    /// Created (draft).
    pub created_at: DateTime<Utc>,
    /// First submitted.
    pub submitted_at: Option<DateTime<Utc>>,
    /// SLA clock start (submission or last redirection).
    pub sla_started_at: Option<DateTime<Utc>>,
    /// Redirections.
    pub redirects: i32,
    /// Accepted.
    pub accepted_at: Option<DateTime<Utc>>,
    /// Rejected.
    pub rejected_at: Option<DateTime<Utc>>,
    /// Booked slot.
    pub slot_at: Option<DateTime<Utc>>,
    /// Slot or bed as written (门诊 3 诊室, 心内科 12 床).
    pub slot_text: Option<String>,
    /// Arrived.
    pub arrived_at: Option<DateTime<Utc>>,
    /// Completed.
    pub completed_at: Option<DateTime<Utc>>,
    /// Closed.
    pub closed_at: Option<DateTime<Utc>>,
    /// Outcome.
    pub outcome: Option<Outcome>,
    /// Why nothing came back down.
    pub no_down_reason: Option<NoDownReason>,
    /// Whether closing closed the loop.
    pub closed_loop: Option<bool>,
    /// When the receiver's answer or booking is due.
    pub sla_due: Option<DateTime<Utc>>,
    /// Worklist order: priority rank.
    pub work_rank: i32,
    /// Worklist order: when the next step is due.
    pub work_at: DateTime<Utc>,
    /// When the next timer fires.
    pub timer_due: Option<DateTime<Utc>>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

impl Referral {
    /// What the domain's rules need.
    pub fn facts(&self) -> Facts {
        Facts {
            state: self.state,
            direction: self.direction,
            priority: self.priority,
            sla_started_at: self.sla_started_at,
            redirects: u32::try_from(self.redirects).unwrap_or(0),
            accepted_at: self.accepted_at,
            slot_at: self.slot_at,
        }
    }
}

#[derive(sqlx::FromRow)]
struct Row {
    consortium_id: Uuid,
    referral_id: Uuid,
    slip_no: String,
    direction: String,
    priority: String,
    state: String,
    version: i32,
    patient_record_id: Uuid,
    from_institution_id: Uuid,
    from_department_id: Option<Uuid>,
    from_staff_id: Option<Uuid>,
    from_user_id: Option<Uuid>,
    to_institution_id: Option<Uuid>,
    to_department_id: Option<Uuid>,
    external_institution: Option<String>,
    external_reference: Option<String>,
    is_lateral: bool,
    reason: String,
    reason_text: Option<String>,
    green_centre: Option<String>,
    slip: String,
    certificate_class: Option<String>,
    certificate_issued: Option<NaiveDate>,
    certificate_no: Option<String>,
    consent: bool,
    parent_id: Option<Uuid>,
    high_risk: bool,
    discharged_on: Option<NaiveDate>,
    created_at: DateTime<Utc>,
    submitted_at: Option<DateTime<Utc>>,
    sla_started_at: Option<DateTime<Utc>>,
    redirects: i32,
    accepted_at: Option<DateTime<Utc>>,
    rejected_at: Option<DateTime<Utc>>,
    slot_at: Option<DateTime<Utc>>,
    slot_text: Option<String>,
    arrived_at: Option<DateTime<Utc>>,
    completed_at: Option<DateTime<Utc>>,
    closed_at: Option<DateTime<Utc>>,
    outcome: Option<String>,
    no_down_reason: Option<String>,
    closed_loop: Option<bool>,
    sla_due: Option<DateTime<Utc>>,
    work_rank: i32,
    work_at: DateTime<Utc>,
    timer_due: Option<DateTime<Utc>>,
    updated_at: DateTime<Utc>,
}

fn corrupt(what: &str, value: &str) -> StoreError {
    StoreError::Corrupt(format!("referral {what} {value:?}"))
}

fn parse<T>(what: &str, value: &str, f: impl Fn(&str) -> Option<T>) -> Result<T, StoreError> {
    f(value).ok_or_else(|| corrupt(what, value))
}

fn parse_opt<T>(
    what: &str,
    value: Option<&str>,
    f: impl Fn(&str) -> Option<T>,
) -> Result<Option<T>, StoreError> {
    value.map(|v| parse(what, v, &f)).transpose()
}

impl TryFrom<Row> for Referral {
    type Error = StoreError;
    fn try_from(r: Row) -> Result<Self, StoreError> {
        Ok(Referral {
            consortium_id: ConsortiumId::from_uuid(r.consortium_id),
            id: r.referral_id,
            slip_no: r.slip_no,
            direction: parse("direction", &r.direction, Direction::parse)?,
            priority: parse("priority", &r.priority, Priority::parse)?,
            state: parse("state", &r.state, State::parse)?,
            version: r.version,
            patient_record_id: PatientRecordId::from_uuid(r.patient_record_id),
            from_institution_id: InstitutionId::from_uuid(r.from_institution_id),
            from_department_id: r.from_department_id.map(DepartmentId::from_uuid),
            from_staff_id: r.from_staff_id.map(StaffId::from_uuid),
            from_user_id: r.from_user_id,
            to_institution_id: r.to_institution_id.map(InstitutionId::from_uuid),
            to_department_id: r.to_department_id.map(DepartmentId::from_uuid),
            external_institution: r.external_institution,
            external_reference: r.external_reference,
            lateral: r.is_lateral,
            reason: r.reason,
            reason_text: r.reason_text,
            green_centre: parse_opt("green_centre", r.green_centre.as_deref(), Centre::parse)?,
            slip: serde_json::from_str(&r.slip).map_err(|_| corrupt("slip", "not JSON"))?,
            certificate_class: parse_opt(
                "certificate_class",
                r.certificate_class.as_deref(),
                CertificateClass::parse,
            )?,
            certificate_issued: r.certificate_issued,
            certificate_no: r.certificate_no,
            consent: r.consent,
            parent_id: r.parent_id,
            high_risk: r.high_risk,
            discharged_on: r.discharged_on,
            created_at: r.created_at,
            submitted_at: r.submitted_at,
            sla_started_at: r.sla_started_at,
            redirects: r.redirects,
            accepted_at: r.accepted_at,
            rejected_at: r.rejected_at,
            slot_at: r.slot_at,
            slot_text: r.slot_text,
            arrived_at: r.arrived_at,
            completed_at: r.completed_at,
            closed_at: r.closed_at,
            outcome: parse_opt("outcome", r.outcome.as_deref(), Outcome::parse)?,
            no_down_reason: parse_opt("no_down_reason", r.no_down_reason.as_deref(), NoDownReason::parse)?,
            closed_loop: r.closed_loop,
            sla_due: r.sla_due,
            work_rank: r.work_rank,
            work_at: r.work_at,
            timer_due: r.timer_due,
            updated_at: r.updated_at,
        })
    }
}

const COLUMNS: &str = "consortium_id, referral_id, slip_no, direction, priority, state, version, patient_record_id, \
    from_institution_id, from_department_id, from_staff_id, from_user_id, to_institution_id, to_department_id, \
    external_institution, external_reference, is_lateral, reason, reason_text, green_centre, slip, \
    certificate_class, certificate_issued, certificate_no, consent, parent_id, high_risk, discharged_on, \
    created_at, submitted_at, sla_started_at, redirects, accepted_at, rejected_at, slot_at, slot_text, \
    arrived_at, completed_at, closed_at, outcome, no_down_reason, closed_loop, sla_due, work_rank, work_at, \
    timer_due, updated_at";

macro_rules! bind_referral {
    ($q:expr, $r:expr) => {
        $q.bind($r.consortium_id.as_uuid())
            .bind($r.id)
            .bind(&$r.slip_no)
            .bind($r.direction.as_str())
            .bind($r.priority.as_str())
            .bind($r.state.as_str())
            .bind($r.version)
            .bind($r.patient_record_id.as_uuid())
            .bind($r.from_institution_id.as_uuid())
            .bind($r.from_department_id.map(|d| d.as_uuid()))
            .bind($r.from_staff_id.map(|s| s.as_uuid()))
            .bind($r.from_user_id)
            .bind($r.to_institution_id.map(|i| i.as_uuid()))
            .bind($r.to_department_id.map(|d| d.as_uuid()))
            .bind(&$r.external_institution)
            .bind(&$r.external_reference)
            .bind($r.lateral)
            .bind(&$r.reason)
            .bind(&$r.reason_text)
            .bind($r.green_centre.map(Centre::as_str))
            .bind($r.slip.to_string())
            .bind($r.certificate_class.map(CertificateClass::as_str))
            .bind($r.certificate_issued)
            .bind(&$r.certificate_no)
            .bind($r.consent)
            .bind($r.parent_id)
            .bind($r.high_risk)
            .bind($r.discharged_on)
            .bind($r.created_at)
            .bind($r.submitted_at)
            .bind($r.sla_started_at)
            .bind($r.redirects)
            .bind($r.accepted_at)
            .bind($r.rejected_at)
            .bind($r.slot_at)
            .bind(&$r.slot_text)
            .bind($r.arrived_at)
            .bind($r.completed_at)
            .bind($r.closed_at)
            .bind($r.outcome.map(Outcome::as_str))
            .bind($r.no_down_reason.map(NoDownReason::as_str))
            .bind($r.closed_loop)
            .bind($r.sla_due)
            .bind($r.work_rank)
            .bind($r.work_at)
            .bind($r.timer_due)
            .bind($r.updated_at)
    };
}

fn placeholders(n: usize) -> String {
    (1..=n).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ")
}

const NCOLS: usize = 47;

/// Inserts a referral. A second live referral of the record in the same direction is the
/// conflict `referral_live_exists`; a taken slip number `referral_slip_taken`.
pub async fn insert(tx: &mut Tx, r: &Referral) -> Result<(), StoreError> {
    let sql = format!("INSERT INTO referral ({COLUMNS}) VALUES ({})", placeholders(NCOLS));
    on_tx!(tx, conn => bind_referral!(sqlx::query(&sql), r).execute(conn).await.map(|_| ()))
        .map_err(classify_insert)
}

fn classify_insert(e: sqlx::Error) -> StoreError {
    let slip = matches!(&e, sqlx::Error::Database(db) if db.message().contains("slip_no"));
    classify(e, if slip { "referral_slip_taken" } else { "referral_live_exists" })
}

/// Writes every field of `r` if the stored version is still `expected`; otherwise the
/// conflict `referral_stale` and nothing is written.
pub async fn update(tx: &mut Tx, r: &Referral, expected: i32) -> Result<(), StoreError> {
    let sql = versioned_update("referral", COLUMNS);
    let done = on_tx!(tx, conn => bind_referral!(sqlx::query(&sql), r).bind(expected)
        .execute(conn).await.map(|r| r.rows_affected()))
    .map_err(classify_insert)?;
    if done == 0 { Err(StoreError::Conflict { rule: "referral_stale" }) } else { Ok(()) }
}

/// The referral, if it exists.
pub async fn find(tx: &mut Tx, consortium: ConsortiumId, id: Uuid) -> Result<Option<Referral>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM referral WHERE consortium_id = $1 AND referral_id = $2");
    let row: Option<Row> = on_tx!(tx, conn => sqlx::query_as(&sql)
        .bind(consortium.as_uuid()).bind(id).fetch_optional(conn).await)?;
    row.map(Referral::try_from).transpose()
}

/// The referral with this slip number.
pub async fn find_by_slip(
    tx: &mut Tx,
    consortium: ConsortiumId,
    slip_no: &str,
) -> Result<Option<Referral>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM referral WHERE consortium_id = $1 AND slip_no = $2");
    let row: Option<Row> = on_tx!(tx, conn => sqlx::query_as(&sql)
        .bind(consortium.as_uuid()).bind(slip_no).fetch_optional(conn).await)?;
    row.map(Referral::try_from).transpose()
}

async fn fetch(tx: &mut Tx, sql: &str, binds: Vec<Bind>) -> Result<Vec<Referral>, StoreError> {
    let rows: Vec<Row> = fetch_all(tx, sql, &binds).await?;
    rows.into_iter().map(Referral::try_from).collect()
}

/// Live referrals of these patient records in `direction` (at most one each).
pub async fn live_for_records(
    tx: &mut Tx,
    consortium: ConsortiumId,
    records: &[PatientRecordId],
    direction: Direction,
) -> Result<Vec<Referral>, StoreError> {
    if records.is_empty() {
        return Ok(vec![]);
    }
    let list = (0..records.len()).map(|i| format!("${}", i + 3)).collect::<Vec<_>>().join(", ");
    let sql = format!(
        "SELECT {COLUMNS} FROM referral WHERE consortium_id = $1 AND direction = $2 \
         AND state IN ('submitted', 'accepted', 'scheduled', 'arrived', 'in_care') AND patient_record_id IN ({list})"
    );
    let mut binds = vec![Bind::Uuid(consortium.as_uuid()), Bind::Text(direction.as_str().into())];
    binds.extend(records.iter().map(|r| Bind::Uuid(r.as_uuid())));
    fetch(tx, &sql, binds).await
}

/// Every referral of these patient records, newest first (a patient's referral history).
pub async fn for_records(
    tx: &mut Tx,
    consortium: ConsortiumId,
    records: &[PatientRecordId],
) -> Result<Vec<Referral>, StoreError> {
    if records.is_empty() {
        return Ok(vec![]);
    }
    let list = (0..records.len()).map(|i| format!("${}", i + 2)).collect::<Vec<_>>().join(", ");
    let sql = format!(
        "SELECT {COLUMNS} FROM referral WHERE consortium_id = $1 AND patient_record_id IN ({list}) \
         ORDER BY created_at DESC LIMIT 200"
    );
    let mut binds = vec![Bind::Uuid(consortium.as_uuid())];
    binds.extend(records.iter().map(|r| Bind::Uuid(r.as_uuid())));
    fetch(tx, &sql, binds).await
}

/// Down-referrals answering `parent`.
pub async fn children(
    tx: &mut Tx,
    consortium: ConsortiumId,
    parent: Uuid,
) -> Result<Vec<Referral>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM referral WHERE consortium_id = $1 AND parent_id = $2 ORDER BY created_at"
    );
    fetch(tx, &sql, vec![Bind::Uuid(consortium.as_uuid()), Bind::Uuid(parent)]).await
}

/// Which side of the referral a list looks from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// Referrals these institutions receive (the referral centre's worklist).
    Receiving,
    /// Referrals these institutions sent.
    Sending,
}

/// Filters of a referral list.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Only these states (empty: all but drafts of other institutions… callers pass what they want).
    pub states: Vec<State>,
    /// Only this priority.
    pub priority: Option<Priority>,
    /// Only this direction.
    pub direction: Option<Direction>,
    /// Only those whose SLA is due at or before this instant (the overdue list).
    pub due_before: Option<DateTime<Utc>>,
}

/// One page of referrals of `institutions` from `side`, in worklist order (priority, then when
/// the next step is due). The cursor is `rank|work_at|id`.
pub async fn list(
    tx: &mut Tx,
    consortium: ConsortiumId,
    side: Side,
    institutions: &[InstitutionId],
    filter: &Filter,
    page: &PageRequest,
) -> Result<Page<Referral>, StoreError> {
    if institutions.is_empty() {
        return Ok(Page { items: vec![], next_after: None });
    }
    let mut binds = vec![Bind::Uuid(consortium.as_uuid())];
    let next = |binds: &mut Vec<Bind>, b: Bind| {
        binds.push(b);
        format!("${}", binds.len())
    };
    let column = match side {
        Side::Receiving => "to_institution_id",
        Side::Sending => "from_institution_id",
    };
    let inst =
        institutions.iter().map(|i| next(&mut binds, Bind::Uuid(i.as_uuid()))).collect::<Vec<_>>().join(", ");
    let mut sql = format!("SELECT {COLUMNS} FROM referral WHERE consortium_id = $1 AND {column} IN ({inst})");
    if !filter.states.is_empty() {
        let states = filter
            .states
            .iter()
            .map(|s| next(&mut binds, Bind::Text(s.as_str().into())))
            .collect::<Vec<_>>()
            .join(", ");
        sql += &format!(" AND state IN ({states})");
    }
    if let Some(p) = filter.priority {
        sql += &format!(" AND priority = {}", next(&mut binds, Bind::Text(p.as_str().into())));
    }
    if let Some(d) = filter.direction {
        sql += &format!(" AND direction = {}", next(&mut binds, Bind::Text(d.as_str().into())));
    }
    if let Some(due) = filter.due_before {
        sql += &format!(" AND sla_due IS NOT NULL AND sla_due <= {}", next(&mut binds, Bind::At(due)));
    }
    if let Some(after) = page.after.as_deref() {
        let (rank, at, id) = parse_cursor(after).ok_or(StoreError::Corrupt("referral cursor".into()))?;
        let (r, a, i) = (
            next(&mut binds, Bind::Int(rank)),
            next(&mut binds, Bind::At(at)),
            next(&mut binds, Bind::Uuid(id)),
        );
        let (r2, a2) = (next(&mut binds, Bind::Int(rank)), next(&mut binds, Bind::At(at)));
        let r3 = next(&mut binds, Bind::Int(rank));
        sql += &format!(
            " AND (work_rank > {r3} OR (work_rank = {r2} AND work_at > {a2}) OR (work_rank = {r} AND work_at = {a} AND referral_id > {i}))"
        );
    }
    sql += &format!(
        " ORDER BY work_rank, work_at, referral_id LIMIT {}",
        next(&mut binds, Bind::Int(i64::from(page.size) + 1))
    );
    let items = fetch(tx, &sql, binds).await?;
    Ok(Page::from_overfetch(items, page.size, |r| {
        format!("{}|{}|{}", r.work_rank, r.work_at.to_rfc3339(), r.id)
    }))
}

fn parse_cursor(s: &str) -> Option<(i64, DateTime<Utc>, Uuid)> {
    let mut parts = s.splitn(3, '|');
    let rank = parts.next()?.parse().ok()?;
    let at = DateTime::parse_from_rfc3339(parts.next()?).ok()?.to_utc();
    let id = Uuid::parse_str(parts.next()?).ok()?;
    Some((rank, at, id))
}

/// Counts of live referrals received by `institutions`: (state, overdue?) → count.
pub async fn inbox_counts(
    tx: &mut Tx,
    consortium: ConsortiumId,
    institutions: &[InstitutionId],
    now: DateTime<Utc>,
) -> Result<Vec<(State, Priority, bool, i64)>, StoreError> {
    if institutions.is_empty() {
        return Ok(vec![]);
    }
    let list = (0..institutions.len()).map(|i| format!("${}", i + 3)).collect::<Vec<_>>().join(", ");
    let sql = format!(
        "SELECT state, priority, CASE WHEN sla_due IS NOT NULL AND sla_due <= $2 THEN 1 ELSE 0 END AS overdue, \
         COUNT(*) FROM referral WHERE consortium_id = $1 AND to_institution_id IN ({list}) \
         AND state IN ('submitted', 'accepted', 'scheduled', 'arrived', 'in_care') \
         GROUP BY state, priority, CASE WHEN sla_due IS NOT NULL AND sla_due <= $2 THEN 1 ELSE 0 END"
    );
    let rows: Vec<(String, String, i32, i64)> = on_tx!(tx, conn => {
        let mut q = sqlx::query_as(&sql).bind(consortium.as_uuid()).bind(now);
        for i in institutions {
            q = q.bind(i.as_uuid());
        }
        q.fetch_all(conn).await
    })?;
    rows.into_iter()
        .map(|(s, p, o, n)| {
            Ok((parse("state", &s, State::parse)?, parse("priority", &p, Priority::parse)?, o != 0, n))
        })
        .collect()
}

/// Referrals whose timer is due at `now`, oldest first, at most `limit`.
pub async fn due_timers(
    tx: &mut Tx,
    consortium: ConsortiumId,
    now: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<Referral>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM referral WHERE consortium_id = $1 AND timer_due IS NOT NULL AND timer_due <= $2 \
         ORDER BY timer_due LIMIT $3"
    );
    fetch(tx, &sql, vec![Bind::Uuid(consortium.as_uuid()), Bind::At(now), Bind::Int(limit)]).await
}

/// Referrals waiting on their receiver (an answer or a booking is due) whose SLA has passed at
/// `now`, or that were redirected more than `max_redirects` times: the ones that may need
/// escalating. Only live referrals carry an SLA, so the set stays small.
pub async fn escalation_candidates(
    tx: &mut Tx,
    consortium: ConsortiumId,
    now: DateTime<Utc>,
    max_redirects: i32,
) -> Result<Vec<Referral>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM referral WHERE consortium_id = $1 AND sla_due IS NOT NULL \
         AND (sla_due <= $2 OR redirects > $3) ORDER BY sla_due, referral_id"
    );
    fetch(
        tx,
        &sql,
        vec![Bind::Uuid(consortium.as_uuid()), Bind::At(now), Bind::Int(i64::from(max_redirects))],
    )
    .await
}

/// Referrals submitted in `[from, to)` or still open then, for metrics (every institution; the
/// caller filters by scope).
pub async fn for_metrics(
    tx: &mut Tx,
    consortium: ConsortiumId,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<Referral>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM referral WHERE consortium_id = $1 AND submitted_at IS NOT NULL AND submitted_at < $3 \
         AND (submitted_at >= $2 OR updated_at >= $2)"
    );
    fetch(tx, &sql, vec![Bind::Uuid(consortium.as_uuid()), Bind::At(from), Bind::At(to)]).await
}

/// The referral grants of clinicians of `institutions` on one patient's `records`: referrals
/// of those records they receive, accepted and live, completed, or ended at `since` or later.
/// Returns (referral, accepted at, ended at or `None`).
pub async fn grants_on(
    tx: &mut Tx,
    consortium: ConsortiumId,
    institutions: &[InstitutionId],
    records: &[PatientRecordId],
    since: DateTime<Utc>,
) -> Result<Vec<(Uuid, DateTime<Utc>, Option<DateTime<Utc>>)>, StoreError> {
    if institutions.is_empty() || records.is_empty() {
        return Ok(vec![]);
    }
    let n = records.len();
    let recs = (0..n).map(|i| format!("${}", i + 3)).collect::<Vec<_>>().join(", ");
    let insts = (0..institutions.len()).map(|i| format!("${}", i + 3 + n)).collect::<Vec<_>>().join(", ");
    let sql = format!(
        "SELECT referral_id, accepted_at, state, updated_at FROM referral WHERE consortium_id = $1 \
         AND patient_record_id IN ({recs}) AND to_institution_id IN ({insts}) AND accepted_at IS NOT NULL \
         AND (state IN ('accepted', 'scheduled', 'arrived', 'in_care', 'completed') OR updated_at >= $2)"
    );
    type Raw = (Uuid, DateTime<Utc>, String, DateTime<Utc>);
    let rows: Vec<Raw> = on_tx!(tx, conn => {
        let mut q = sqlx::query_as(&sql).bind(consortium.as_uuid()).bind(since);
        for r in records {
            q = q.bind(r.as_uuid());
        }
        for i in institutions {
            q = q.bind(i.as_uuid());
        }
        q.fetch_all(conn).await
    })?;
    rows.into_iter()
        .map(|(id, from, state, updated)| {
            let state = parse("state", &state, State::parse)?;
            Ok((id, from, state.is_terminal().then_some(updated)))
        })
        .collect()
}

/// One transition as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// Order within the referral, from 1.
    pub seq: i32,
    /// Transition (`create` is recorded as the draft's creation with transition `None`).
    pub transition: Option<Transition>,
    /// State before.
    pub from_state: State,
    /// State after.
    pub to_state: State,
    /// Who, relative to the referral.
    pub party: Party,
    /// Account.
    pub user_id: Option<Uuid>,
    /// Staff.
    pub staff_id: Option<StaffId>,
    /// Role in effect.
    pub role: Option<String>,
    /// Acting institution.
    pub institution_id: Option<InstitutionId>,
    /// When.
    pub at: DateTime<Utc>,
    /// Reason code.
    pub reason: Option<String>,
    /// Free text.
    pub note: Option<String>,
    /// What the transition recorded.
    pub payload: serde_json::Value,
}

/// Appends an event (its `seq` must be the next one; a duplicate is a conflict).
pub async fn insert_event(
    tx: &mut Tx,
    consortium: ConsortiumId,
    referral: Uuid,
    e: &Event,
) -> Result<(), StoreError> {
    const SQL: &str = "INSERT INTO referral_event (consortium_id, referral_id, seq, transition, from_state, to_state, \
        party, user_id, staff_id, role, institution_id, occurred_at, reason, note, payload) \
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)";
    on_tx!(tx, conn => sqlx::query(SQL)
        .bind(consortium.as_uuid()).bind(referral).bind(e.seq)
        .bind(e.transition.map_or("create", Transition::as_str)).bind(e.from_state.as_str()).bind(e.to_state.as_str())
        .bind(e.party.as_str()).bind(e.user_id).bind(e.staff_id.map(|s| s.as_uuid())).bind(&e.role)
        .bind(e.institution_id.map(|i| i.as_uuid())).bind(e.at).bind(&e.reason).bind(&e.note)
        .bind(e.payload.to_string())
        .execute(conn).await.map(|_| ()))
    .map_err(|e| classify(e, "referral_event_seq"))
}

/// The events of a referral, in order.
pub async fn events(tx: &mut Tx, consortium: ConsortiumId, referral: Uuid) -> Result<Vec<Event>, StoreError> {
    const SQL: &str = "SELECT seq, transition, from_state, to_state, party, user_id, staff_id, role, institution_id, \
        occurred_at, reason, note, payload FROM referral_event WHERE consortium_id = $1 AND referral_id = $2 ORDER BY seq";
    #[allow(clippy::type_complexity)]
    let rows: Vec<(
        i32,
        String,
        String,
        String,
        String,
        Option<Uuid>,
        Option<Uuid>,
        Option<String>,
        Option<Uuid>,
        DateTime<Utc>,
        Option<String>,
        Option<String>,
        String,
    )> = on_tx!(tx, conn => sqlx::query_as(SQL).bind(consortium.as_uuid()).bind(referral).fetch_all(conn).await)?;
    rows.into_iter()
        .map(|(seq, t, from, to, party, user, staff, role, inst, at, reason, note, payload)| {
            Ok(Event {
                seq,
                transition: if t == "create" {
                    None
                } else {
                    Some(parse("transition", &t, Transition::parse)?)
                },
                from_state: parse("state", &from, State::parse)?,
                to_state: parse("state", &to, State::parse)?,
                party: parse("party", &party, Party::parse)?,
                user_id: user,
                staff_id: staff.map(StaffId::from_uuid),
                role,
                institution_id: inst.map(InstitutionId::from_uuid),
                at,
                reason,
                note,
                payload: serde_json::from_str(&payload).map_err(|_| corrupt("event payload", "not JSON"))?,
            })
        })
        .collect()
}

/// Referrals by id (at most 1,000 at once), in no particular order.
pub async fn by_ids(
    tx: &mut Tx,
    consortium: ConsortiumId,
    ids: &[Uuid],
) -> Result<Vec<Referral>, StoreError> {
    let mut out = Vec::new();
    for chunk in ids.chunks(500) {
        let list = (0..chunk.len()).map(|i| format!("${}", i + 2)).collect::<Vec<_>>().join(", ");
        let sql =
            format!("SELECT {COLUMNS} FROM referral WHERE consortium_id = $1 AND referral_id IN ({list})");
        let mut binds = vec![Bind::Uuid(consortium.as_uuid())];
        binds.extend(chunk.iter().map(|i| Bind::Uuid(*i)));
        out.extend(fetch(tx, &sql, binds).await?);
    }
    Ok(out)
}

/// A follow-up task after a down-referral.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FollowUp {
    /// Key.
    pub id: Uuid,
    /// The down-referral.
    pub referral_id: Uuid,
    /// Where it is done (township centre or village clinic).
    pub institution_id: InstitutionId,
    /// Patient record.
    pub patient_record_id: PatientRecordId,
    /// Due day.
    pub due_on: NaiveDate,
    /// High-risk.
    pub high_risk: bool,
    /// `open`, `done` or `cancelled`.
    pub state: String,
    /// Done when.
    pub done_at: Option<DateTime<Utc>>,
    /// Done by.
    pub done_by: Option<StaffId>,
    /// What was found and done.
    pub note: Option<String>,
    /// Created.
    pub created_at: DateTime<Utc>,
}

const TASK_COLUMNS: &str = "task_id, referral_id, institution_id, patient_record_id, due_on, high_risk, state, done_at, done_by, note, created_at";

type TaskRow = (
    Uuid,
    Uuid,
    Uuid,
    Uuid,
    NaiveDate,
    bool,
    String,
    Option<DateTime<Utc>>,
    Option<Uuid>,
    Option<String>,
    DateTime<Utc>,
);

fn task(r: TaskRow) -> FollowUp {
    FollowUp {
        id: r.0,
        referral_id: r.1,
        institution_id: InstitutionId::from_uuid(r.2),
        patient_record_id: PatientRecordId::from_uuid(r.3),
        due_on: r.4,
        high_risk: r.5,
        state: r.6,
        done_at: r.7,
        done_by: r.8.map(StaffId::from_uuid),
        note: r.9,
        created_at: r.10,
    }
}

/// Inserts a follow-up task (one per down-referral).
pub async fn insert_follow_up(tx: &mut Tx, consortium: ConsortiumId, t: &FollowUp) -> Result<(), StoreError> {
    let sql =
        format!("INSERT INTO follow_up_task (consortium_id, {TASK_COLUMNS}) VALUES ({})", placeholders(12));
    on_tx!(tx, conn => sqlx::query(&sql)
        .bind(consortium.as_uuid()).bind(t.id).bind(t.referral_id).bind(t.institution_id.as_uuid())
        .bind(t.patient_record_id.as_uuid()).bind(t.due_on).bind(t.high_risk).bind(&t.state).bind(t.done_at)
        .bind(t.done_by.map(|s| s.as_uuid())).bind(&t.note).bind(t.created_at)
        .execute(conn).await.map(|_| ()))
    .map_err(|e| classify(e, "follow_up_exists"))
}

/// The follow-up task of a down-referral.
pub async fn follow_up_of(
    tx: &mut Tx,
    consortium: ConsortiumId,
    referral: Uuid,
) -> Result<Option<FollowUp>, StoreError> {
    let sql =
        format!("SELECT {TASK_COLUMNS} FROM follow_up_task WHERE consortium_id = $1 AND referral_id = $2");
    let row: Option<TaskRow> = on_tx!(tx, conn => sqlx::query_as(&sql)
        .bind(consortium.as_uuid()).bind(referral).fetch_optional(conn).await)?;
    Ok(row.map(task))
}

/// A follow-up task by id.
pub async fn find_follow_up(
    tx: &mut Tx,
    consortium: ConsortiumId,
    id: Uuid,
) -> Result<Option<FollowUp>, StoreError> {
    let sql = format!("SELECT {TASK_COLUMNS} FROM follow_up_task WHERE consortium_id = $1 AND task_id = $2");
    let row: Option<TaskRow> = on_tx!(tx, conn => sqlx::query_as(&sql)
        .bind(consortium.as_uuid()).bind(id).fetch_optional(conn).await)?;
    Ok(row.map(task))
}

/// Open follow-up tasks at `institutions`, soonest due first (at most `limit`).
pub async fn open_follow_ups(
    tx: &mut Tx,
    consortium: ConsortiumId,
    institutions: &[InstitutionId],
    limit: i64,
) -> Result<Vec<FollowUp>, StoreError> {
    if institutions.is_empty() {
        return Ok(vec![]);
    }
    let list = (0..institutions.len()).map(|i| format!("${}", i + 3)).collect::<Vec<_>>().join(", ");
    let sql = format!(
        "SELECT {TASK_COLUMNS} FROM follow_up_task WHERE consortium_id = $1 AND state = 'open' \
         AND institution_id IN ({list}) ORDER BY due_on, task_id LIMIT $2"
    );
    let rows: Vec<TaskRow> = on_tx!(tx, conn => {
        let mut q = sqlx::query_as(&sql).bind(consortium.as_uuid()).bind(limit);
        for i in institutions {
            q = q.bind(i.as_uuid());
        }
        q.fetch_all(conn).await
    })?;
    Ok(rows.into_iter().map(task).collect())
}

/// Open follow-up tasks due before `day` (overdue on `day`), oldest due first.
pub async fn overdue_follow_ups(
    tx: &mut Tx,
    consortium: ConsortiumId,
    day: NaiveDate,
) -> Result<Vec<FollowUp>, StoreError> {
    let sql = format!(
        "SELECT {TASK_COLUMNS} FROM follow_up_task WHERE consortium_id = $1 AND state = 'open' AND due_on < $2 \
         ORDER BY due_on, task_id"
    );
    let rows: Vec<TaskRow> =
        on_tx!(tx, conn => sqlx::query_as(&sql).bind(consortium.as_uuid()).bind(day).fetch_all(conn).await)?;
    Ok(rows.into_iter().map(task).collect())
}

/// Marks an open task done; `false` when it was no longer open.
pub async fn complete_follow_up(
    tx: &mut Tx,
    consortium: ConsortiumId,
    id: Uuid,
    at: DateTime<Utc>,
    by: Option<StaffId>,
    note: &str,
) -> Result<bool, StoreError> {
    const SQL: &str = "UPDATE follow_up_task SET state = 'done', done_at = $3, done_by = $4, note = $5 \
                       WHERE consortium_id = $1 AND task_id = $2 AND state = 'open'";
    let n = on_tx!(tx, conn => sqlx::query(SQL).bind(consortium.as_uuid()).bind(id).bind(at)
        .bind(by.map(|s| s.as_uuid())).bind(note).execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

/// A green-channel time stamp.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stamp {
    /// Milestone.
    pub milestone: Milestone,
    /// When it happened.
    pub at: DateTime<Utc>,
    /// Where the time came from.
    pub source: StampSource,
    /// Where it happened.
    pub institution_id: Option<InstitutionId>,
    /// Who recorded it.
    pub recorded_by: Option<Uuid>,
    /// When it was recorded.
    pub recorded_at: DateTime<Utc>,
}

/// Records (or corrects) one milestone of a green referral.
pub async fn put_stamp(
    tx: &mut Tx,
    consortium: ConsortiumId,
    referral: Uuid,
    s: &Stamp,
) -> Result<(), StoreError> {
    const SQL: &str = "INSERT INTO green_stamp (consortium_id, referral_id, milestone, stamped_at, source, institution_id, \
        recorded_by, recorded_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
        ON CONFLICT (consortium_id, referral_id, milestone) DO UPDATE SET stamped_at = excluded.stamped_at, source = excluded.source, \
        institution_id = excluded.institution_id, recorded_by = excluded.recorded_by, recorded_at = excluded.recorded_at";
    on_tx!(tx, conn => sqlx::query(SQL)
        .bind(consortium.as_uuid()).bind(referral).bind(s.milestone.as_str()).bind(s.at).bind(s.source.as_str())
        .bind(s.institution_id.map(|i| i.as_uuid())).bind(s.recorded_by).bind(s.recorded_at)
        .execute(conn).await.map(|_| ()))
    .map_err(|e| classify(e, "green_stamp"))
}

type StampRow = (Uuid, String, DateTime<Utc>, String, Option<Uuid>, Option<Uuid>, DateTime<Utc>);

fn stamp(r: StampRow) -> Result<(Uuid, Stamp), StoreError> {
    Ok((
        r.0,
        Stamp {
            milestone: parse("milestone", &r.1, Milestone::parse)?,
            at: r.2,
            source: parse("stamp source", &r.3, StampSource::parse)?,
            institution_id: r.4.map(InstitutionId::from_uuid),
            recorded_by: r.5,
            recorded_at: r.6,
        },
    ))
}

/// The stamps of referrals (keyed by referral id).
pub async fn stamps(
    tx: &mut Tx,
    consortium: ConsortiumId,
    referrals: &[Uuid],
) -> Result<Vec<(Uuid, Stamp)>, StoreError> {
    if referrals.is_empty() {
        return Ok(vec![]);
    }
    let mut out = Vec::new();
    for chunk in referrals.chunks(500) {
        let list = (0..chunk.len()).map(|i| format!("${}", i + 2)).collect::<Vec<_>>().join(", ");
        let sql = format!(
            "SELECT referral_id, milestone, stamped_at, source, institution_id, recorded_by, recorded_at FROM green_stamp \
             WHERE consortium_id = $1 AND referral_id IN ({list}) ORDER BY referral_id, stamped_at"
        );
        let rows: Vec<StampRow> = on_tx!(tx, conn => {
            let mut q = sqlx::query_as(&sql).bind(consortium.as_uuid());
            for r in chunk {
                q = q.bind(*r);
            }
            q.fetch_all(conn).await
        })?;
        for r in rows {
            out.push(stamp(r)?);
        }
    }
    Ok(out)
}

/// An in-app notification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    /// Key.
    pub id: Uuid,
    /// To one account…
    pub user_id: Option<Uuid>,
    /// …or to an institution's role (the referral centre).
    pub institution_id: Option<InstitutionId>,
    /// The role at that institution.
    pub role: Option<String>,
    /// What happened (`referral_accepted`, `green_page`…).
    pub kind: String,
    /// The referral…
    pub referral_id: Option<Uuid>,
    /// …or the exam order it is about.
    pub order_id: Option<Uuid>,
    /// Message parameters (slip number, state), never clinical content.
    pub params: serde_json::Value,
    /// Pages at once.
    pub urgent: bool,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Read.
    pub read_at: Option<DateTime<Utc>>,
    /// Handed to the outbound channel.
    pub delivered_at: Option<DateTime<Utc>>,
}

const NOTE_COLUMNS: &str = "notification_id, user_id, institution_id, role, kind, referral_id, params, urgent, created_at, read_at, delivered_at, order_id";

type NoteRow = (
    Uuid,
    Option<Uuid>,
    Option<Uuid>,
    Option<String>,
    String,
    Option<Uuid>,
    String,
    bool,
    DateTime<Utc>,
    Option<DateTime<Utc>>,
    Option<DateTime<Utc>>,
    Option<Uuid>,
);

fn note(r: NoteRow) -> Result<Notification, StoreError> {
    Ok(Notification {
        id: r.0,
        user_id: r.1,
        institution_id: r.2.map(InstitutionId::from_uuid),
        role: r.3,
        kind: r.4,
        referral_id: r.5,
        params: serde_json::from_str(&r.6).map_err(|_| corrupt("notification params", "not JSON"))?,
        urgent: r.7,
        created_at: r.8,
        read_at: r.9,
        delivered_at: r.10,
        order_id: r.11,
    })
}

/// Inserts a notification.
pub async fn insert_notification(
    tx: &mut Tx,
    consortium: ConsortiumId,
    n: &Notification,
) -> Result<(), StoreError> {
    let sql =
        format!("INSERT INTO notification (consortium_id, {NOTE_COLUMNS}) VALUES ({})", placeholders(13));
    on_tx!(tx, conn => sqlx::query(&sql)
        .bind(consortium.as_uuid()).bind(n.id).bind(n.user_id)
        .bind(n.institution_id.map(|i| i.as_uuid())).bind(&n.role).bind(&n.kind).bind(n.referral_id)
        .bind(n.params.to_string()).bind(n.urgent).bind(n.created_at).bind(n.read_at).bind(n.delivered_at).bind(n.order_id)
        .execute(conn).await.map(|_| ()))
    .map_err(|e| classify(e, "notification_exists"))
}

/// The newest notifications addressed to `user`, to `role` at `institution`, or to `role`
/// across the consortium (no institution).
pub async fn notifications_for(
    tx: &mut Tx,
    consortium: ConsortiumId,
    user: Uuid,
    institution: Option<InstitutionId>,
    role: &str,
    limit: i64,
) -> Result<Vec<Notification>, StoreError> {
    let sql = format!(
        "SELECT {NOTE_COLUMNS} FROM notification WHERE consortium_id = $1 \
         AND ((user_id IS NOT NULL AND user_id = $2) OR (institution_id IS NOT NULL AND institution_id = $3 AND role = $4) \
              OR (user_id IS NULL AND institution_id IS NULL AND role = $4)) \
         ORDER BY created_at DESC, notification_id DESC LIMIT $5"
    );
    let rows: Vec<NoteRow> = on_tx!(tx, conn => sqlx::query_as(&sql)
        .bind(consortium.as_uuid()).bind(user).bind(institution.map(|i| i.as_uuid()))
        .bind(role).bind(limit).fetch_all(conn).await)?;
    rows.into_iter().map(note).collect()
}

/// Whether a notification of `kind` about `referral` was made at `since` or later.
pub async fn notified_since(
    tx: &mut Tx,
    consortium: ConsortiumId,
    referral: Uuid,
    kind: &str,
    since: DateTime<Utc>,
) -> Result<bool, StoreError> {
    const SQL: &str = "SELECT 1 FROM notification WHERE consortium_id = $1 AND referral_id = $2 AND kind = $3 \
        AND created_at >= $4 LIMIT 1";
    let row: Option<(i32,)> = on_tx!(tx, conn => sqlx::query_as(SQL)
        .bind(consortium.as_uuid()).bind(referral).bind(kind).bind(since).fetch_optional(conn).await)?;
    Ok(row.is_some())
}

/// Notifications of `kind` made in `[from, to]` and still unread, oldest first.
pub async fn unread_of_kind(
    tx: &mut Tx,
    consortium: ConsortiumId,
    kind: &str,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<Notification>, StoreError> {
    let sql = format!(
        "SELECT {NOTE_COLUMNS} FROM notification WHERE consortium_id = $1 AND kind = $2 AND read_at IS NULL \
         AND created_at >= $3 AND created_at <= $4 ORDER BY created_at, notification_id"
    );
    let rows: Vec<NoteRow> = on_tx!(tx, conn => sqlx::query_as(&sql)
        .bind(consortium.as_uuid()).bind(kind).bind(from).bind(to).fetch_all(conn).await)?;
    rows.into_iter().map(note).collect()
}

/// Marks notifications read.
pub async fn mark_read(
    tx: &mut Tx,
    consortium: ConsortiumId,
    ids: &[Uuid],
    at: DateTime<Utc>,
) -> Result<(), StoreError> {
    for id in ids {
        const SQL: &str = "UPDATE notification SET read_at = $3 WHERE consortium_id = $1 AND notification_id = $2 AND read_at IS NULL";
        on_tx!(tx, conn => sqlx::query(SQL).bind(consortium.as_uuid()).bind(*id).bind(at)
            .execute(conn).await.map(|_| ()))?;
    }
    Ok(())
}

/// Notifications not yet handed to the outbound channel, oldest first.
pub async fn undelivered(
    tx: &mut Tx,
    consortium: ConsortiumId,
    limit: i64,
) -> Result<Vec<Notification>, StoreError> {
    let sql = format!(
        "SELECT {NOTE_COLUMNS} FROM notification WHERE consortium_id = $1 AND delivered_at IS NULL \
         ORDER BY created_at LIMIT $2"
    );
    let rows: Vec<NoteRow> = on_tx!(tx, conn => sqlx::query_as(&sql)
        .bind(consortium.as_uuid()).bind(limit).fetch_all(conn).await)?;
    rows.into_iter().map(note).collect()
}

/// Records that a notification was handed to the outbound channel.
pub async fn mark_delivered(
    tx: &mut Tx,
    consortium: ConsortiumId,
    id: Uuid,
    at: DateTime<Utc>,
) -> Result<(), StoreError> {
    const SQL: &str =
        "UPDATE notification SET delivered_at = $3 WHERE consortium_id = $1 AND notification_id = $2";
    on_tx!(tx, conn => sqlx::query(SQL).bind(consortium.as_uuid()).bind(id).bind(at).execute(conn).await.map(|_| ()))?;
    Ok(())
}
