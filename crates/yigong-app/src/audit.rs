//! The audit trail: one row per read or write of personal data and per administrative
//! change, written with the change it describes; sealed into a per-consortium SM3 hash chain
//! (GB/T 32905) that `verify` walks to find the first edited or missing row.

use chrono::{DateTime, SubsecRound, Utc};
use sm3::{Digest, Sm3};
use uuid::Uuid;
use yigong_domain::access::{Actor, Basis, Permission, Target};
use yigong_domain::ids::ConsortiumId;
use yigong_domain::page::{Page, PageRequest};
use yigong_store::Tx;
use yigong_store::audit as store;

pub use yigong_store::audit::{AuditRow, Filter as AuditFilter};

use crate::{AppError, Ctx, access};

/// What happened, for one audit row.
#[derive(Debug, Clone)]
pub struct Event<'a> {
    /// `read`, `search`, `create`, `update`, `login`, `logout`, `export`, …
    pub action: &'a str,
    /// `institution`, `staff`, `user`, `audit_event`, …
    pub resource_type: &'a str,
    /// Which one (an id, never a name).
    pub resource_id: Option<String>,
    /// Whose personal data, if any.
    pub patient_id: Option<Uuid>,
    /// Codes and ids only.
    pub detail: Option<String>,
}

impl<'a> Event<'a> {
    /// An event on one resource.
    pub fn on(action: &'a str, resource_type: &'a str, resource_id: impl ToString) -> Self {
        Self {
            action,
            resource_type,
            resource_id: Some(resource_id.to_string()),
            patient_id: None,
            detail: None,
        }
    }

    /// An event on a kind of resource (lists, searches).
    pub fn of(action: &'a str, resource_type: &'a str) -> Self {
        Self { action, resource_type, resource_id: None, patient_id: None, detail: None }
    }

    /// Adds detail (codes and ids only).
    pub fn with_detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// SM3 of the row's content in a fixed field order, unit-separated; absent fields are empty.
pub fn row_hash(r: &AuditRow) -> String {
    let fields = [
        r.consortium_id.to_string(),
        r.audit_id.to_string(),
        r.recorded_at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        r.actor_user_id.map(|u| u.to_string()).unwrap_or_default(),
        r.actor_role.clone().unwrap_or_default(),
        r.institution_id.map(|u| u.to_string()).unwrap_or_default(),
        r.action.clone(),
        r.resource_type.clone(),
        r.resource_id.clone().unwrap_or_default(),
        r.patient_id.map(|u| u.to_string()).unwrap_or_default(),
        r.basis.clone(),
        r.outcome.clone(),
        r.request_id.clone().unwrap_or_default(),
        r.detail.clone().unwrap_or_default(),
    ];
    let mut h = Sm3::new();
    for f in fields {
        h.update(f.as_bytes());
        h.update([0x1f]);
    }
    hex(&h.finalize())
}

/// The chain hash after `prev` (empty for the first row).
pub fn chain_hash(prev: &str, row_hash: &str) -> String {
    let mut h = Sm3::new();
    h.update(prev.as_bytes());
    h.update([0x1e]);
    h.update(row_hash.as_bytes());
    hex(&h.finalize())
}

/// Builds an audit row. Times are cut to microseconds, which both databases keep exactly.
#[allow(clippy::too_many_arguments, reason = "one row, every column named at the call")]
fn build(
    consortium_id: Uuid,
    actor: Option<&Actor>,
    event: &Event<'_>,
    basis: Basis,
    allowed: bool,
    request_id: Option<String>,
    now: DateTime<Utc>,
) -> AuditRow {
    let mut row = AuditRow {
        consortium_id,
        audit_id: Uuid::now_v7(),
        recorded_at: now.trunc_subsecs(6),
        actor_user_id: actor.map(|a| a.user_id),
        actor_role: actor.map(|a| a.role.as_str().to_owned()),
        institution_id: actor.and_then(|a| a.institution_id).map(|i| i.as_uuid()),
        action: event.action.to_owned(),
        resource_type: event.resource_type.to_owned(),
        resource_id: event.resource_id.clone(),
        patient_id: event.patient_id,
        basis: basis.as_str().to_owned(),
        outcome: if allowed { "allowed" } else { "denied" }.to_owned(),
        request_id,
        detail: event.detail.clone(),
        row_hash: String::new(),
        seq: None,
        chain_hash: None,
    };
    row.row_hash = row_hash(&row);
    row
}

/// Records an allowed action inside the caller's transaction, so it commits with the change.
pub async fn record(
    ctx: &Ctx,
    tx: &mut Tx,
    actor: &Actor,
    consortium: ConsortiumId,
    basis: Basis,
    event: Event<'_>,
) -> Result<(), AppError> {
    let row = build(
        consortium.as_uuid(),
        Some(actor),
        &event,
        basis,
        true,
        actor.request_id.clone(),
        ctx.clock.now(),
    );
    store::insert(tx, &row).await?;
    Ok(())
}

/// Records an allowed read after it happened. Fail-closed: the call returns once the row is
/// committed, and if it cannot be written the caller returns the error instead of the data.
/// Concurrent reads share one commit ([`ReadAudit`]): on SQLite, with one writer, a transaction
/// per read would make the audit trail the ceiling of every read.
pub async fn record_read(
    ctx: &Ctx,
    actor: &Actor,
    consortium: ConsortiumId,
    basis: Basis,
    event: Event<'_>,
) -> Result<(), AppError> {
    let row = build(
        consortium.as_uuid(),
        Some(actor),
        &event,
        basis,
        true,
        actor.request_id.clone(),
        ctx.clock.now(),
    );
    ctx.read_audit.append(&ctx.db, row).await
}

/// Group commit of read audit rows: rows waiting while a commit runs go into the next one
/// together (at most [`ReadAudit::BATCH`]); each caller is answered when its row is durable.
#[derive(Default)]
pub struct ReadAudit {
    queue: std::sync::Mutex<Option<tokio::sync::mpsc::UnboundedSender<Pending>>>,
}

type Pending = (AuditRow, tokio::sync::oneshot::Sender<Result<(), String>>);

impl std::fmt::Debug for ReadAudit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ReadAudit")
    }
}

impl ReadAudit {
    /// Rows per commit at most.
    pub const BATCH: usize = 256;

    async fn append(&self, db: &yigong_store::Db, row: AuditRow) -> Result<(), AppError> {
        let (done, wait) = tokio::sync::oneshot::channel();
        let mut pending = Some((row, done));
        for _ in 0..2 {
            let sender = {
                let mut queue = self.queue.lock().unwrap_or_else(|e| e.into_inner());
                match queue.as_ref().filter(|s| !s.is_closed()) {
                    Some(s) => s.clone(),
                    None => {
                        let (send, receive) = tokio::sync::mpsc::unbounded_channel();
                        tokio::spawn(Self::writer(db.clone(), receive));
                        *queue = Some(send.clone());
                        send
                    }
                }
            };
            match sender.send(pending.take().expect("not yet sent")) {
                Ok(()) => break,
                // The writer's runtime is gone (a new one serves this call): start another.
                Err(tokio::sync::mpsc::error::SendError(back)) => pending = Some(back),
            }
        }
        if pending.is_some() {
            return Err(AppError::Store(yigong_store::StoreError::Config(
                "the audit writer is not running".into(),
            )));
        }
        match wait.await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => {
                Err(AppError::Store(yigong_store::StoreError::Config(format!("audit write failed: {e}"))))
            }
            Err(_) => {
                Err(AppError::Store(yigong_store::StoreError::Config("the audit writer stopped".into())))
            }
        }
    }

    async fn writer(db: yigong_store::Db, mut receive: tokio::sync::mpsc::UnboundedReceiver<Pending>) {
        while let Some(first) = receive.recv().await {
            let mut batch = vec![first];
            while batch.len() < Self::BATCH {
                match receive.try_recv() {
                    Ok(p) => batch.push(p),
                    Err(_) => break,
                }
            }
            let result = async {
                let mut tx = db.begin_write().await?;
                for (row, _) in &batch {
                    store::insert(&mut tx, row).await?;
                }
                tx.commit().await
            }
            .await
            .map_err(|e: yigong_store::StoreError| e.to_string());
            for (_, done) in batch {
                let _ = done.send(result.clone());
            }
        }
    }
}

/// Records a refusal in its own transaction (the refused change has none).
pub async fn record_denied(
    ctx: &Ctx,
    actor: Option<&Actor>,
    consortium: Option<ConsortiumId>,
    event: Event<'_>,
    request_id: Option<String>,
) -> Result<(), AppError> {
    let consortium = consortium.map_or(Uuid::nil(), |c| c.as_uuid());
    let row = build(consortium, actor, &event, Basis::None, false, request_id, ctx.clock.now());
    let mut tx = ctx.db.begin_write().await?;
    store::insert(&mut tx, &row).await?;
    tx.commit().await?;
    Ok(())
}

/// Seals every unsealed row of every consortium into its chain; returns how many rows.
pub async fn seal(ctx: &Ctx) -> Result<u64, AppError> {
    let mut sealed = 0;
    let consortia = {
        let mut tx = ctx.db.begin().await?;
        store::consortia_with_unsealed(&mut tx).await?
    };
    for consortium in consortia {
        loop {
            let mut tx = ctx.db.begin_write().await?;
            let head = store::head(&mut tx, consortium).await?;
            let rows = store::unsealed(&mut tx, consortium, 1000).await?;
            if rows.is_empty() {
                break;
            }
            let (mut seq, mut hash) = head.clone().unwrap_or((0, String::new()));
            for r in &rows {
                seq += 1;
                hash = chain_hash(&hash, &r.row_hash);
                store::seal_row(&mut tx, consortium, r.audit_id, seq, &hash).await?;
            }
            // A concurrent sealer makes this a conflict; the transaction rolls back and the
            // rows stay unsealed for the next round.
            store::set_head(&mut tx, consortium, head.map(|(s, _)| s), seq, &hash, ctx.clock.now()).await?;
            tx.commit().await?;
            sealed += rows.len() as u64;
        }
    }
    Ok(sealed)
}

/// What `verify` found in one consortium's chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainReport {
    /// Consortium (nil for deployment-level rows).
    pub consortium_id: Uuid,
    /// Sealed rows checked.
    pub rows: u64,
    /// The first problem, if any.
    pub broken: Option<Broken>,
}

/// The first break in a chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Broken {
    /// Sequence number where the chain breaks (the expected one, for a gap).
    pub seq: i64,
    /// The row there, if it exists.
    pub audit_id: Option<Uuid>,
    /// `row_edited`, `chain_mismatch`, `row_missing` or `head_mismatch`.
    pub problem: &'static str,
}

/// Seals pending rows, then walks every chain from its start.
pub async fn verify(ctx: &Ctx) -> Result<Vec<ChainReport>, AppError> {
    seal(ctx).await?;
    let mut tx = ctx.db.begin().await?;
    let mut reports = Vec::new();
    for consortium in store::consortia(&mut tx).await? {
        let head = store::head(&mut tx, consortium).await?;
        let mut report = ChainReport { consortium_id: consortium, rows: 0, broken: None };
        // After pruning the chain starts later, from the hash of the last pruned row.
        let (first_seq, base_hash) = store::chain_start(&mut tx, consortium).await?;
        let (mut seq, mut hash) = (first_seq - 1, base_hash);
        'walk: loop {
            let rows = store::chain(&mut tx, consortium, seq, 1000).await?;
            if rows.is_empty() {
                break;
            }
            for r in rows {
                let expected = seq + 1;
                let here = r.seq.unwrap_or_default();
                let problem = if here != expected {
                    Some((expected, None, "row_missing"))
                } else if row_hash(&r) != r.row_hash {
                    Some((here, Some(r.audit_id), "row_edited"))
                } else if r.chain_hash.as_deref() != Some(chain_hash(&hash, &r.row_hash).as_str()) {
                    Some((here, Some(r.audit_id), "chain_mismatch"))
                } else {
                    None
                };
                if let Some((seq, audit_id, problem)) = problem {
                    report.broken = Some(Broken { seq, audit_id, problem });
                    break 'walk;
                }
                seq = here;
                hash = r.chain_hash.unwrap_or_default();
                report.rows += 1;
            }
        }
        // Rows deleted from the end show as a head beyond the last row.
        if report.broken.is_none()
            && let Some((head_seq, head_hash)) = head
            && (head_seq != seq || head_hash != hash)
        {
            let problem = if head_seq > seq { "row_missing" } else { "head_mismatch" };
            report.broken = Some(Broken { seq: seq + 1, audit_id: None, problem });
        }
        reports.push(report);
    }
    Ok(reports)
}

/// A page of a consortium's audit trail, for those allowed to read it (the reading is
/// audited too).
pub async fn list(
    ctx: &Ctx,
    actor: &Actor,
    consortium: ConsortiumId,
    filter: &AuditFilter,
    page: &PageRequest,
) -> Result<Page<AuditRow>, AppError> {
    let target = Target::consortium(consortium);
    let basis =
        access::authorize(ctx, actor, Permission::AuditRead, &target, Event::of("search", "audit_event"))
            .await?;
    let mut tx = ctx.db.begin().await?;
    let found = store::list(&mut tx, consortium, filter, page).await?;
    drop(tx);
    record_read(
        ctx,
        actor,
        consortium,
        basis,
        Event::of("search", "audit_event").with_detail(format!("rows={}", found.items.len())),
    )
    .await?;
    Ok(found)
}

/// Up to `limit` rows of a consortium's trail for export, newest first; the export is audited.
pub async fn export(
    ctx: &Ctx,
    actor: &Actor,
    consortium: ConsortiumId,
    filter: &AuditFilter,
    limit: u32,
) -> Result<Vec<AuditRow>, AppError> {
    let target = Target::consortium(consortium);
    let basis =
        access::authorize(ctx, actor, Permission::AuditRead, &target, Event::of("export", "audit_event"))
            .await?;
    let mut rows = Vec::new();
    let mut page = PageRequest { size: 500, after: None };
    let mut tx = ctx.db.begin().await?;
    while rows.len() < limit as usize {
        let found = store::list(&mut tx, consortium, filter, &page).await?;
        rows.extend(found.items);
        match found.next_after {
            Some(after) => page.after = Some(after),
            None => break,
        }
    }
    rows.truncate(limit as usize);
    drop(tx);
    record_read(
        ctx,
        actor,
        consortium,
        basis,
        Event::of("export", "audit_event").with_detail(format!("rows={}", rows.len())),
    )
    .await?;
    Ok(rows)
}

/// Columns of the CSV export and the prune archive.
pub const CSV_HEADER: &str = "consortium_id,seq,audit_id,recorded_at,actor_user_id,actor_role,institution_id,action,\
resource_type,resource_id,patient_id,basis,outcome,request_id,detail,row_hash,chain_hash";

/// One audit row as a CSV line (every field quoted; a leading `= + - @` is prefixed with `'`
/// so that a spreadsheet does not run it as a formula). The hashes let an archive be verified.
pub fn csv_line(r: &AuditRow) -> String {
    let opt = |u: Option<Uuid>| u.map(|u| u.to_string()).unwrap_or_default();
    let fields = [
        r.consortium_id.to_string(),
        r.seq.map(|s| s.to_string()).unwrap_or_default(),
        r.audit_id.to_string(),
        r.recorded_at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        opt(r.actor_user_id),
        r.actor_role.clone().unwrap_or_default(),
        opt(r.institution_id),
        r.action.clone(),
        r.resource_type.clone(),
        r.resource_id.clone().unwrap_or_default(),
        opt(r.patient_id),
        r.basis.clone(),
        r.outcome.clone(),
        r.request_id.clone().unwrap_or_default(),
        r.detail.clone().unwrap_or_default(),
        r.row_hash.clone(),
        r.chain_hash.clone().unwrap_or_default(),
    ];
    let quoted: Vec<String> = fields
        .iter()
        .map(|f| {
            let guarded = if f.starts_with(['=', '+', '-', '@']) { format!("'{f}") } else { f.clone() };
            format!("\"{}\"", guarded.replace('"', "\"\""))
        })
        .collect();
    quoted.join(",")
}

/// The legal floor of audit retention (Cybersecurity Law art. 21: at least six months).
pub const MIN_RETENTION_MONTHS: u32 = 6;

/// What one consortium's pruning did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pruned {
    /// Consortium (nil for deployment-level rows).
    pub consortium_id: Uuid,
    /// Rows archived and deleted.
    pub rows: u64,
    /// The last pruned seq; the chain now starts after it.
    pub through_seq: i64,
}

/// Moves sealed audit rows older than `retention_months` to `archive` (CSV, with their hashes,
/// so the archive itself can be verified), then deletes them and records a `prune` row. Never
/// runs by itself: an operator calls it, and the retention cannot go below the legal floor.
pub async fn prune(
    ctx: &Ctx,
    actor: &Actor,
    retention_months: u32,
    archive: &mut dyn std::io::Write,
) -> Result<Vec<Pruned>, AppError> {
    if retention_months < MIN_RETENTION_MONTHS {
        return Err(yigong_domain::Invalid::one(
            "retention_months",
            "retention_too_short",
            format!("audit rows are kept at least {MIN_RETENTION_MONTHS} months"),
        )
        .into());
    }
    seal(ctx).await?;
    let now = ctx.clock.now();
    let cutoff = now.checked_sub_months(chrono::Months::new(retention_months)).unwrap_or(now);
    let consortia = {
        let mut tx = ctx.db.begin().await?;
        store::consortia(&mut tx).await?
    };
    let io = |e: std::io::Error| {
        AppError::Store(yigong_store::StoreError::Config(format!("write the audit archive: {e}")))
    };
    writeln!(archive, "{CSV_HEADER}").map_err(io)?;
    let mut done = Vec::new();
    for consortium in consortia {
        let mut tx = ctx.db.begin_write().await?;
        let (first_seq, _) = store::chain_start(&mut tx, consortium).await?;
        let Some(through) =
            store::last_seq_before(&mut tx, consortium, cutoff).await?.filter(|t| *t >= first_seq)
        else {
            continue;
        };
        let mut base_hash = String::new();
        let mut rows = 0u64;
        let mut from = first_seq;
        while from <= through {
            let to = (from + 9_999).min(through);
            for r in store::range(&mut tx, consortium, from, to).await? {
                writeln!(archive, "{}", csv_line(&r)).map_err(io)?;
                base_hash = r.chain_hash.unwrap_or_default();
                rows += 1;
            }
            from = to + 1;
        }
        // The archive is on disk before a row is deleted.
        archive.flush().map_err(io)?;
        store::prune_through(&mut tx, consortium, through, &base_hash).await?;
        let event = Event::of("prune", "audit_event")
            .with_detail(format!("through_seq={through} rows={rows} base_hash={base_hash}"));
        let row = build(
            consortium,
            Some(actor),
            &event,
            Basis::Administration,
            true,
            actor.request_id.clone(),
            now,
        );
        store::insert(&mut tx, &row).await?;
        tx.commit().await?;
        done.push(Pruned { consortium_id: consortium, rows, through_seq: through });
    }
    Ok(done)
}
