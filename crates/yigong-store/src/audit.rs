//! The audit trail: append, seal into a per-consortium chain, read back.

use chrono::{DateTime, Utc};
use uuid::Uuid;
use yigong_domain::ids::{ConsortiumId, InstitutionId};
use yigong_domain::page::{Page, PageRequest};

use crate::{StoreError, Tx, classify, on_tx};

/// One audit row.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct AuditRow {
    /// Tenant (nil for deployment-level events such as a login with an unknown name).
    pub consortium_id: Uuid,
    /// Key (UUIDv7: time-ordered).
    pub audit_id: Uuid,
    /// When.
    pub recorded_at: DateTime<Utc>,
    /// Who (absent when unauthenticated).
    pub actor_user_id: Option<Uuid>,
    /// In which role.
    pub actor_role: Option<String>,
    /// Acting institution.
    pub institution_id: Option<Uuid>,
    /// What was done: `read`, `search`, `create`, `update`, `login`, …
    pub action: String,
    /// On what kind of resource.
    pub resource_type: String,
    /// Which one.
    pub resource_id: Option<String>,
    /// Whose data, if personal.
    pub patient_id: Option<Uuid>,
    /// The basis of the access.
    pub basis: String,
    /// `allowed` or `denied`.
    pub outcome: String,
    /// Request id.
    pub request_id: Option<String>,
    /// Codes and ids only.
    pub detail: Option<String>,
    /// Hash of this row's content.
    pub row_hash: String,
    /// Position in the consortium's chain, once sealed.
    pub seq: Option<i64>,
    /// Chain hash, once sealed.
    pub chain_hash: Option<String>,
}

const COLUMNS: &str = "consortium_id, audit_id, recorded_at, actor_user_id, actor_role, institution_id, action, \
                       resource_type, resource_id, patient_id, basis, outcome, request_id, detail, row_hash, seq, chain_hash";

/// Appends a row (unsealed).
pub async fn insert(tx: &mut Tx, r: &AuditRow) -> Result<(), StoreError> {
    let sql = format!(
        "INSERT INTO audit_event ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, NULL, NULL)"
    );
    on_tx!(tx, conn => sqlx::query(&sql)
        .bind(r.consortium_id).bind(r.audit_id).bind(r.recorded_at).bind(r.actor_user_id).bind(&r.actor_role)
        .bind(r.institution_id).bind(&r.action).bind(&r.resource_type).bind(&r.resource_id).bind(r.patient_id)
        .bind(&r.basis).bind(&r.outcome).bind(&r.request_id).bind(&r.detail).bind(&r.row_hash)
        .execute(conn).await.map(|r| r.rows_affected()))
    .map_err(|e| classify(e, "audit_exists"))?;
    Ok(())
}

/// Consortia that have unsealed rows.
pub async fn consortia_with_unsealed(tx: &mut Tx) -> Result<Vec<Uuid>, StoreError> {
    const SQL: &str = "SELECT DISTINCT consortium_id FROM audit_event WHERE seq IS NULL";
    let rows: Vec<(Uuid,)> = on_tx!(tx, conn => sqlx::query_as(SQL).fetch_all(conn).await)?;
    Ok(rows.into_iter().map(|(c,)| c).collect())
}

/// Up to `limit` unsealed rows of a consortium, oldest first.
pub async fn unsealed(tx: &mut Tx, consortium: Uuid, limit: i64) -> Result<Vec<AuditRow>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM audit_event WHERE consortium_id = $1 AND seq IS NULL ORDER BY recorded_at, audit_id LIMIT $2"
    );
    Ok(on_tx!(tx, conn => sqlx::query_as(&sql).bind(consortium).bind(limit).fetch_all(conn).await)?)
}

/// Numbers and chains one row.
pub async fn seal_row(
    tx: &mut Tx,
    consortium: Uuid,
    audit_id: Uuid,
    seq: i64,
    chain_hash: &str,
) -> Result<(), StoreError> {
    const SQL: &str = "UPDATE audit_event SET seq = $3, chain_hash = $4 WHERE consortium_id = $1 AND audit_id = $2 AND seq IS NULL";
    let n = on_tx!(tx, conn => sqlx::query(SQL).bind(consortium).bind(audit_id).bind(seq).bind(chain_hash)
        .execute(conn).await.map(|r| r.rows_affected()))?;
    if n == 1 { Ok(()) } else { Err(StoreError::Conflict { rule: "audit_already_sealed" }) }
}

/// The chain head of a consortium: (last seq, last chain hash).
pub async fn head(tx: &mut Tx, consortium: Uuid) -> Result<Option<(i64, String)>, StoreError> {
    const SQL: &str = "SELECT last_seq, last_hash FROM audit_seal WHERE consortium_id = $1";
    Ok(on_tx!(tx, conn => sqlx::query_as(SQL).bind(consortium).fetch_optional(conn).await)?)
}

/// Moves the chain head. `expected` is the head read at the start of sealing: if another
/// sealer moved it meanwhile, nothing changes and a conflict is returned.
pub async fn set_head(
    tx: &mut Tx,
    consortium: Uuid,
    expected: Option<i64>,
    seq: i64,
    hash: &str,
    at: DateTime<Utc>,
) -> Result<(), StoreError> {
    let n = match expected {
        None => {
            const SQL: &str = "INSERT INTO audit_seal (consortium_id, last_seq, last_hash, sealed_at) VALUES ($1, $2, $3, $4) \
                               ON CONFLICT (consortium_id) DO NOTHING";
            on_tx!(tx, conn => sqlx::query(SQL).bind(consortium).bind(seq).bind(hash).bind(at).execute(conn).await
                .map(|r| r.rows_affected()))?
        }
        Some(old) => {
            const SQL: &str = "UPDATE audit_seal SET last_seq = $2, last_hash = $3, sealed_at = $4 \
                               WHERE consortium_id = $1 AND last_seq = $5";
            on_tx!(tx, conn => sqlx::query(SQL).bind(consortium).bind(seq).bind(hash).bind(at).bind(old)
                .execute(conn).await.map(|r| r.rows_affected()))?
        }
    };
    if n == 1 { Ok(()) } else { Err(StoreError::Conflict { rule: "audit_head_moved" }) }
}

/// Sealed rows of a consortium after `after_seq`, in chain order.
pub async fn chain(
    tx: &mut Tx,
    consortium: Uuid,
    after_seq: i64,
    limit: i64,
) -> Result<Vec<AuditRow>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM audit_event WHERE consortium_id = $1 AND seq > $2 ORDER BY seq LIMIT $3"
    );
    Ok(
        on_tx!(tx, conn => sqlx::query_as(&sql).bind(consortium).bind(after_seq).bind(limit).fetch_all(conn).await)?,
    )
}

/// Every consortium id present in the trail (including nil for deployment-level rows).
pub async fn consortia(tx: &mut Tx) -> Result<Vec<Uuid>, StoreError> {
    const SQL: &str = "SELECT DISTINCT consortium_id FROM audit_event";
    let rows: Vec<(Uuid,)> = on_tx!(tx, conn => sqlx::query_as(SQL).fetch_all(conn).await)?;
    Ok(rows.into_iter().map(|(c,)| c).collect())
}

/// Filters of the audit viewer.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Only rows about this patient.
    pub patient_id: Option<Uuid>,
    /// Only rows by this account.
    pub actor_user_id: Option<Uuid>,
    /// Only rows at this acting institution.
    pub institution_id: Option<InstitutionId>,
    /// Only this basis.
    pub basis: Option<String>,
    /// Only this outcome.
    pub outcome: Option<String>,
    /// From this instant (inclusive).
    pub from: Option<DateTime<Utc>>,
    /// Until this instant (exclusive).
    pub until: Option<DateTime<Utc>>,
}

/// One page of a consortium's audit rows, newest first. The cursor is `<rfc3339>|<audit_id>`.
pub async fn list(
    tx: &mut Tx,
    consortium: ConsortiumId,
    f: &Filter,
    page: &PageRequest,
) -> Result<Page<AuditRow>, StoreError> {
    let (after_time, after_id) = match page.after.as_deref().and_then(|a| a.split_once('|')) {
        Some((t, id)) => (
            Some(DateTime::parse_from_rfc3339(t).map_err(|_| StoreError::Corrupt("cursor".into()))?.to_utc()),
            Some(Uuid::parse_str(id).map_err(|_| StoreError::Corrupt("cursor".into()))?),
        ),
        None => (None, None),
    };
    let sql = format!(
        "SELECT {COLUMNS} FROM audit_event WHERE consortium_id = $1 \
         AND ($2 IS NULL OR recorded_at < $2 OR (recorded_at = $2 AND audit_id < $3)) \
         AND ($4 IS NULL OR patient_id = $4) AND ($5 IS NULL OR actor_user_id = $5) \
         AND ($6 IS NULL OR institution_id = $6) AND ($7 IS NULL OR basis = $7) AND ($8 IS NULL OR outcome = $8) \
         AND ($9 IS NULL OR recorded_at >= $9) AND ($10 IS NULL OR recorded_at < $10) \
         ORDER BY recorded_at DESC, audit_id DESC LIMIT $11"
    );
    let rows: Vec<AuditRow> = on_tx!(tx, conn => sqlx::query_as(&sql)
        .bind(consortium.as_uuid()).bind(after_time).bind(after_id).bind(f.patient_id).bind(f.actor_user_id)
        .bind(f.institution_id.map(|i| i.as_uuid())).bind(f.basis.as_deref()).bind(f.outcome.as_deref())
        .bind(f.from).bind(f.until).bind(i64::from(page.size) + 1)
        .fetch_all(conn).await)?;
    Ok(Page::from_overfetch(rows, page.size, |r| {
        format!("{}|{}", r.recorded_at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true), r.audit_id)
    }))
}

/// Where a consortium's chain starts after pruning: (first remaining seq, hash before it).
pub async fn chain_start(tx: &mut Tx, consortium: Uuid) -> Result<(i64, String), StoreError> {
    const SQL: &str = "SELECT first_seq, base_hash FROM audit_seal WHERE consortium_id = $1";
    let row: Option<(i64, String)> =
        on_tx!(tx, conn => sqlx::query_as(SQL).bind(consortium).fetch_optional(conn).await)?;
    Ok(row.unwrap_or((1, String::new())))
}

/// The highest sealed seq of a consortium recorded before `before`, if any.
pub async fn last_seq_before(
    tx: &mut Tx,
    consortium: Uuid,
    before: DateTime<Utc>,
) -> Result<Option<i64>, StoreError> {
    const SQL: &str =
        "SELECT MAX(seq) FROM audit_event WHERE consortium_id = $1 AND seq IS NOT NULL AND recorded_at < $2";
    let (n,): (Option<i64>,) =
        on_tx!(tx, conn => sqlx::query_as(SQL).bind(consortium).bind(before).fetch_one(conn).await)?;
    Ok(n)
}

/// Sealed rows of a consortium with `from <= seq <= to`, in chain order.
pub async fn range(tx: &mut Tx, consortium: Uuid, from: i64, to: i64) -> Result<Vec<AuditRow>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM audit_event WHERE consortium_id = $1 AND seq >= $2 AND seq <= $3 ORDER BY seq"
    );
    Ok(on_tx!(tx, conn => sqlx::query_as(&sql).bind(consortium).bind(from).bind(to).fetch_all(conn).await)?)
}

/// Deletes the sealed rows up to `to` and moves the chain start after them. Only the prune use
/// case calls this, after archiving the rows and in the transaction that audits the pruning.
pub async fn prune_through(
    tx: &mut Tx,
    consortium: Uuid,
    to: i64,
    base_hash: &str,
) -> Result<u64, StoreError> {
    const DEL: &str = "DELETE FROM audit_event WHERE consortium_id = $1 AND seq IS NOT NULL AND seq <= $2";
    let n = on_tx!(tx, conn => sqlx::query(DEL).bind(consortium).bind(to).execute(conn).await.map(|r| r.rows_affected()))?;
    const SEAL: &str = "UPDATE audit_seal SET first_seq = $2, base_hash = $3 WHERE consortium_id = $1";
    on_tx!(tx, conn => sqlx::query(SEAL).bind(consortium).bind(to + 1).bind(base_hash).execute(conn).await
        .map(|r| r.rows_affected()))?;
    Ok(n)
}
