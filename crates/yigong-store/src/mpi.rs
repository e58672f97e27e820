//! Master patient index: sources, source patients (records), golden persons, links, steward
//! operations, the review queue, matching models and the blocking-key index.
//!
//! Bulk writers use multi-row statements (a county's patient list is loaded at once); every
//! reader is scoped by `consortium_id`.

use chrono::{DateTime, Utc};
use uuid::Uuid;
use yigong_domain::ids::{ConsortiumId, InstitutionId, MpiOperationId, PatientRecordId, PersonId, SourceId};

use crate::population::values_clause;
use crate::{StoreError, Tx, classify, on_tx};

/// Rows per multi-row INSERT of the widest table (27 columns): far below both parameter limits.
const CHUNK: usize = 400;

/// A source system.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct SourceRow {
    /// Id.
    pub source_id: Uuid,
    /// Code, unique in the consortium (an institution's code for its own system).
    pub code: String,
    /// Display name.
    pub name: String,
    /// The institution whose system it is.
    pub institution_id: Option<Uuid>,
}

/// The source with `code`, if any.
pub async fn source_by_code(
    tx: &mut Tx,
    consortium: ConsortiumId,
    code: &str,
) -> Result<Option<SourceRow>, StoreError> {
    const SQL: &str = "SELECT source_id, code, name, institution_id FROM mpi_source \
                       WHERE consortium_id = $1 AND code = $2";
    Ok(
        on_tx!(tx, conn => sqlx::query_as(SQL).bind(consortium.as_uuid()).bind(code).fetch_optional(conn).await)?,
    )
}

/// Every source of the consortium, by code.
pub async fn sources(tx: &mut Tx, consortium: ConsortiumId) -> Result<Vec<SourceRow>, StoreError> {
    const SQL: &str = "SELECT source_id, code, name, institution_id FROM mpi_source \
                       WHERE consortium_id = $1 ORDER BY code";
    Ok(on_tx!(tx, conn => sqlx::query_as(SQL).bind(consortium.as_uuid()).fetch_all(conn).await)?)
}

/// Inserts a source.
pub async fn insert_source(
    tx: &mut Tx,
    consortium: ConsortiumId,
    id: SourceId,
    code: &str,
    name: &str,
    institution: Option<InstitutionId>,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    const SQL: &str = "INSERT INTO mpi_source (consortium_id, source_id, code, name, institution_id, created_at) \
                       VALUES ($1, $2, $3, $4, $5, $6)";
    on_tx!(tx, conn => sqlx::query(SQL).bind(consortium.as_uuid()).bind(id.as_uuid()).bind(code).bind(name)
        .bind(institution.map(|i| i.as_uuid())).bind(now).execute(conn).await.map(drop))
    .map_err(|e| classify(e, "mpi_source_exists"))
}

/// Inserts a source unless one with its code exists (a concurrent first registration at the
/// same institution made it); returns whether this call inserted it.
pub async fn insert_source_if_absent(
    tx: &mut Tx,
    consortium: ConsortiumId,
    id: SourceId,
    code: &str,
    name: &str,
    institution: Option<InstitutionId>,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    const SQL: &str = "INSERT INTO mpi_source (consortium_id, source_id, code, name, institution_id, created_at) \
                       VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (consortium_id, code) DO NOTHING";
    let n = on_tx!(tx, conn => sqlx::query(SQL).bind(consortium.as_uuid()).bind(id.as_uuid()).bind(code).bind(name)
        .bind(institution.map(|i| i.as_uuid())).bind(now).execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

/// The demographic values of a record, as received (trimmed, blank = `None`).
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct Values {
    /// Name.
    pub name: Option<String>,
    /// Sex as written.
    pub sex: Option<String>,
    /// Birth date as written.
    pub birth_date: Option<String>,
    /// Resident ID number as written.
    pub resident_id: Option<String>,
    /// `valid`, `derived_from_15` or the warning code of an unverified number.
    pub resident_id_status: Option<String>,
    /// Why there is no ID number.
    pub no_id_reason: Option<String>,
    /// Phone.
    pub phone: Option<String>,
    /// Twelve-digit village code.
    pub village_code: Option<String>,
    /// Household number.
    pub household_id: Option<String>,
    /// E-health card number.
    pub e_health_card: Option<String>,
    /// Insurance number.
    pub insurance_number: Option<String>,
    /// Given name (non-Chinese data).
    pub given_name: Option<String>,
    /// Family name (non-Chinese data).
    pub family_name: Option<String>,
    /// Street address.
    pub address: Option<String>,
    /// Locality.
    pub locality: Option<String>,
    /// Postcode.
    pub postcode: Option<String>,
    /// Region or state.
    pub region: Option<String>,
}

/// A source patient.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordRow {
    /// Id.
    pub record_id: PatientRecordId,
    /// Source.
    pub source_id: SourceId,
    /// Local id at the source.
    pub local_id: String,
    /// Values as received.
    pub values: Values,
    /// Identity read from a chip or QR code.
    pub verified: bool,
    /// SM3 of the values.
    pub content_hash: String,
    /// When registered (or first imported).
    pub registered_at: DateTime<Utc>,
    /// The account that registered it (`None` for imports).
    pub registered_by: Option<Uuid>,
}

#[derive(sqlx::FromRow)]
struct RecordSql {
    record_id: Uuid,
    source_id: Uuid,
    local_id: String,
    name: Option<String>,
    sex: Option<String>,
    birth_date: Option<String>,
    resident_id: Option<String>,
    resident_id_status: Option<String>,
    no_id_reason: Option<String>,
    phone: Option<String>,
    village_code: Option<String>,
    household_id: Option<String>,
    e_health_card: Option<String>,
    insurance_number: Option<String>,
    given_name: Option<String>,
    family_name: Option<String>,
    address: Option<String>,
    locality: Option<String>,
    postcode: Option<String>,
    region: Option<String>,
    verified: bool,
    content_hash: String,
    registered_at: DateTime<Utc>,
    registered_by: Option<Uuid>,
}

impl From<RecordSql> for RecordRow {
    fn from(r: RecordSql) -> Self {
        Self {
            record_id: PatientRecordId::from_uuid(r.record_id),
            source_id: SourceId::from_uuid(r.source_id),
            local_id: r.local_id,
            values: Values {
                name: r.name,
                sex: r.sex,
                birth_date: r.birth_date,
                resident_id: r.resident_id,
                resident_id_status: r.resident_id_status,
                no_id_reason: r.no_id_reason,
                phone: r.phone,
                village_code: r.village_code,
                household_id: r.household_id,
                e_health_card: r.e_health_card,
                insurance_number: r.insurance_number,
                given_name: r.given_name,
                family_name: r.family_name,
                address: r.address,
                locality: r.locality,
                postcode: r.postcode,
                region: r.region,
            },
            verified: r.verified,
            content_hash: r.content_hash,
            registered_at: r.registered_at,
            registered_by: r.registered_by,
        }
    }
}

const RECORD_COLUMNS: &str = "record_id, source_id, local_id, name, sex, birth_date, resident_id, \
    resident_id_status, no_id_reason, phone, village_code, household_id, e_health_card, insurance_number, \
    given_name, family_name, address, locality, postcode, region, verified, content_hash, registered_at, \
    registered_by";

/// Inserts records in multi-row statements.
pub async fn insert_records(
    tx: &mut Tx,
    consortium: ConsortiumId,
    records: &[RecordRow],
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    for chunk in records.chunks(CHUNK) {
        let sql = format!(
            "INSERT INTO mpi_record (consortium_id, {RECORD_COLUMNS}, updated_at) VALUES {}",
            values_clause(tx.backend(), chunk.len(), 26)
        );
        on_tx!(tx, conn => {
            let mut q = sqlx::query(&sql);
            for r in chunk {
                let v = &r.values;
                q = q.bind(consortium.as_uuid()).bind(r.record_id.as_uuid()).bind(r.source_id.as_uuid())
                    .bind(&r.local_id).bind(&v.name).bind(&v.sex).bind(&v.birth_date).bind(&v.resident_id)
                    .bind(&v.resident_id_status).bind(&v.no_id_reason).bind(&v.phone).bind(&v.village_code)
                    .bind(&v.household_id).bind(&v.e_health_card).bind(&v.insurance_number)
                    .bind(&v.given_name).bind(&v.family_name).bind(&v.address).bind(&v.locality)
                    .bind(&v.postcode).bind(&v.region).bind(r.verified).bind(&r.content_hash)
                    .bind(r.registered_at).bind(r.registered_by).bind(now);
            }
            q.execute(conn).await.map(drop)
        })
        .map_err(|e| classify(e, "mpi_record_exists"))?;
    }
    Ok(())
}

/// Replaces a record's values (a re-import of a changed row); its links stay.
pub async fn update_record_values(
    tx: &mut Tx,
    consortium: ConsortiumId,
    record: &RecordRow,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    const SQL: &str = "UPDATE mpi_record SET name = $3, sex = $4, birth_date = $5, resident_id = $6, \
        resident_id_status = $7, no_id_reason = $8, phone = $9, village_code = $10, household_id = $11, \
        e_health_card = $12, insurance_number = $13, given_name = $14, family_name = $15, address = $16, \
        locality = $17, postcode = $18, region = $19, verified = $20, content_hash = $21, updated_at = $22 \
        WHERE consortium_id = $1 AND record_id = $2";
    let v = &record.values;
    on_tx!(tx, conn => sqlx::query(SQL).bind(consortium.as_uuid()).bind(record.record_id.as_uuid())
        .bind(&v.name).bind(&v.sex).bind(&v.birth_date).bind(&v.resident_id).bind(&v.resident_id_status)
        .bind(&v.no_id_reason).bind(&v.phone).bind(&v.village_code).bind(&v.household_id)
        .bind(&v.e_health_card).bind(&v.insurance_number).bind(&v.given_name).bind(&v.family_name)
        .bind(&v.address).bind(&v.locality).bind(&v.postcode).bind(&v.region).bind(record.verified)
        .bind(&record.content_hash).bind(now).execute(conn).await.map(drop))?;
    Ok(())
}

/// (local id, record id, content hash) of every record of a source.
pub async fn source_hashes(
    tx: &mut Tx,
    consortium: ConsortiumId,
    source: SourceId,
) -> Result<Vec<(String, PatientRecordId, String)>, StoreError> {
    const SQL: &str = "SELECT local_id, record_id, content_hash FROM mpi_record \
                       WHERE consortium_id = $1 AND source_id = $2";
    let rows: Vec<(String, Uuid, String)> = on_tx!(tx, conn => sqlx::query_as(SQL)
        .bind(consortium.as_uuid()).bind(source.as_uuid()).fetch_all(conn).await)?;
    Ok(rows.into_iter().map(|(l, r, h)| (l, PatientRecordId::from_uuid(r), h)).collect())
}

/// Every record of the consortium, in id order (the bulk matcher's input).
pub async fn all_records(tx: &mut Tx, consortium: ConsortiumId) -> Result<Vec<RecordRow>, StoreError> {
    let sql = format!("SELECT {RECORD_COLUMNS} FROM mpi_record WHERE consortium_id = $1 ORDER BY record_id");
    let rows: Vec<RecordSql> =
        on_tx!(tx, conn => sqlx::query_as(&sql).bind(consortium.as_uuid()).fetch_all(conn).await)?;
    Ok(rows.into_iter().map(RecordRow::from).collect())
}

/// The records with these ids (any order; missing ids are skipped).
pub async fn records_by_ids(
    tx: &mut Tx,
    consortium: ConsortiumId,
    ids: &[PatientRecordId],
) -> Result<Vec<RecordRow>, StoreError> {
    let mut out = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(CHUNK) {
        let placeholders = placeholders(2, chunk.len());
        let sql = format!(
            "SELECT {RECORD_COLUMNS} FROM mpi_record WHERE consortium_id = $1 AND record_id IN ({placeholders})"
        );
        let rows: Vec<RecordSql> = on_tx!(tx, conn => {
            let mut q = sqlx::query_as(&sql).bind(consortium.as_uuid());
            for id in chunk {
                q = q.bind(id.as_uuid());
            }
            q.fetch_all(conn).await
        })?;
        out.extend(rows.into_iter().map(RecordRow::from));
    }
    Ok(out)
}

/// `$first, $first+1, …`: numbered parameters on both backends (short lists only; see
/// [`values_clause`] for why long ones use `?` on SQLite).
fn placeholders(first: usize, count: usize) -> String {
    (first..first + count).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ")
}

/// Number of records in the consortium.
pub async fn count_records(tx: &mut Tx, consortium: ConsortiumId) -> Result<i64, StoreError> {
    const SQL: &str = "SELECT COUNT(*) FROM mpi_record WHERE consortium_id = $1";
    let (n,): (i64,) =
        on_tx!(tx, conn => sqlx::query_as(SQL).bind(consortium.as_uuid()).fetch_one(conn).await)?;
    Ok(n)
}

yigong_domain::vocabulary! {
    /// How a link was made.
    LinkMethod {
        /// The record founded a new person.
        New = "new",
        /// The matcher linked it (auto-link band).
        Auto = "auto",
        /// The registering clerk chose the person among the matches shown.
        Registrar = "registrar",
        /// An MPI steward linked it.
        Steward = "steward",
        /// A merge moved it to the surviving person.
        Merge = "merge",
        /// An unmerge moved it back.
        Unmerge = "unmerge",
    }
}

/// A new link.
#[derive(Debug, Clone, PartialEq)]
pub struct NewLink {
    /// The record.
    pub record_id: PatientRecordId,
    /// The person.
    pub person_id: PersonId,
    /// How.
    pub method: LinkMethod,
    /// Match score, when a pair score decided it.
    pub score: Option<f64>,
    /// Parameter-set version that scored it.
    pub rule_version: Option<String>,
    /// Steward or registrar.
    pub actor_id: Option<Uuid>,
    /// Steward's reason.
    pub reason: Option<String>,
    /// Steward operation.
    pub operation_id: Option<MpiOperationId>,
}

/// Inserts persons (active) in multi-row statements.
pub async fn insert_persons(
    tx: &mut Tx,
    consortium: ConsortiumId,
    persons: &[PersonId],
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    for chunk in persons.chunks(CHUNK * 2) {
        let sql = format!(
            "INSERT INTO mpi_person (consortium_id, person_id, status, created_at, updated_at) VALUES {}",
            values_clause(tx.backend(), chunk.len(), 5)
        );
        on_tx!(tx, conn => {
            let mut q = sqlx::query(&sql);
            for p in chunk {
                q = q.bind(consortium.as_uuid()).bind(p.as_uuid()).bind("active").bind(now).bind(now);
            }
            q.execute(conn).await.map(drop)
        })
        .map_err(|e| classify(e, "mpi_person_exists"))?;
    }
    Ok(())
}

/// Opens links in multi-row statements (each record must have no open link).
pub async fn insert_links(
    tx: &mut Tx,
    consortium: ConsortiumId,
    links: &[NewLink],
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    for chunk in links.chunks(CHUNK) {
        let sql = format!(
            "INSERT INTO mpi_link (consortium_id, link_id, record_id, person_id, valid_from, method, score, \
             rule_version, actor_id, reason, operation_id) VALUES {}",
            values_clause(tx.backend(), chunk.len(), 11)
        );
        on_tx!(tx, conn => {
            let mut q = sqlx::query(&sql);
            for l in chunk {
                q = q.bind(consortium.as_uuid()).bind(Uuid::now_v7()).bind(l.record_id.as_uuid())
                    .bind(l.person_id.as_uuid()).bind(now).bind(l.method.as_str()).bind(l.score)
                    .bind(&l.rule_version).bind(l.actor_id).bind(&l.reason)
                    .bind(l.operation_id.map(|o| o.as_uuid()));
            }
            q.execute(conn).await.map(drop)
        })
        .map_err(|e| classify(e, "mpi_record_already_linked"))?;
    }
    Ok(())
}

/// Closes the open link of `record`; returns the person it pointed to.
pub async fn close_link(
    tx: &mut Tx,
    consortium: ConsortiumId,
    record: PatientRecordId,
    now: DateTime<Utc>,
) -> Result<Option<PersonId>, StoreError> {
    const SQL: &str = "UPDATE mpi_link SET valid_to = $3 WHERE consortium_id = $1 AND record_id = $2 \
                       AND valid_to IS NULL RETURNING person_id";
    let row: Option<(Uuid,)> = on_tx!(tx, conn => sqlx::query_as(SQL).bind(consortium.as_uuid())
        .bind(record.as_uuid()).bind(now).fetch_optional(conn).await)?;
    Ok(row.map(|(p,)| PersonId::from_uuid(p)))
}

/// (record, person, method) of every open link of the consortium.
pub async fn open_links(
    tx: &mut Tx,
    consortium: ConsortiumId,
) -> Result<Vec<(PatientRecordId, PersonId, String)>, StoreError> {
    const SQL: &str = "SELECT record_id, person_id, method FROM mpi_link \
                       WHERE consortium_id = $1 AND valid_to IS NULL";
    let rows: Vec<(Uuid, Uuid, String)> =
        on_tx!(tx, conn => sqlx::query_as(SQL).bind(consortium.as_uuid()).fetch_all(conn).await)?;
    Ok(rows.into_iter().map(|(r, p, m)| (PatientRecordId::from_uuid(r), PersonId::from_uuid(p), m)).collect())
}

/// The person a record is linked to now.
pub async fn person_of(
    tx: &mut Tx,
    consortium: ConsortiumId,
    record: PatientRecordId,
) -> Result<Option<PersonId>, StoreError> {
    const SQL: &str =
        "SELECT person_id FROM mpi_link WHERE consortium_id = $1 AND record_id = $2 AND valid_to IS NULL";
    let row: Option<(Uuid,)> = on_tx!(tx, conn => sqlx::query_as(SQL).bind(consortium.as_uuid())
        .bind(record.as_uuid()).fetch_optional(conn).await)?;
    Ok(row.map(|(p,)| PersonId::from_uuid(p)))
}

/// A person's status row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonRow {
    /// Id.
    pub person_id: PersonId,
    /// `active` or `merged`.
    pub status: String,
    /// Surviving person of a merge.
    pub merged_into: Option<PersonId>,
    /// Created.
    pub created_at: DateTime<Utc>,
}

/// A person.
pub async fn person(
    tx: &mut Tx,
    consortium: ConsortiumId,
    person: PersonId,
) -> Result<Option<PersonRow>, StoreError> {
    const SQL: &str = "SELECT person_id, status, merged_into, created_at FROM mpi_person \
                       WHERE consortium_id = $1 AND person_id = $2";
    let row: Option<(Uuid, String, Option<Uuid>, DateTime<Utc>)> = on_tx!(tx, conn => sqlx::query_as(SQL)
        .bind(consortium.as_uuid()).bind(person.as_uuid()).fetch_optional(conn).await)?;
    Ok(row.map(|(p, status, m, created_at)| PersonRow {
        person_id: PersonId::from_uuid(p),
        status,
        merged_into: m.map(PersonId::from_uuid),
        created_at,
    }))
}

/// Marks a person merged into `into` (or active again when `into` is `None`).
pub async fn set_merged(
    tx: &mut Tx,
    consortium: ConsortiumId,
    person: PersonId,
    into: Option<PersonId>,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    const SQL: &str = "UPDATE mpi_person SET status = $3, merged_into = $4, updated_at = $5 \
                       WHERE consortium_id = $1 AND person_id = $2";
    let status = if into.is_some() { "merged" } else { "active" };
    on_tx!(tx, conn => sqlx::query(SQL).bind(consortium.as_uuid()).bind(person.as_uuid()).bind(status)
        .bind(into.map(|p| p.as_uuid())).bind(now).execute(conn).await.map(drop))?;
    Ok(())
}

/// One link as the history shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct LinkRow {
    /// The record.
    pub record_id: PatientRecordId,
    /// The person.
    pub person_id: PersonId,
    /// Opened.
    pub valid_from: DateTime<Utc>,
    /// Closed.
    pub valid_to: Option<DateTime<Utc>>,
    /// How.
    pub method: String,
    /// Score.
    pub score: Option<f64>,
    /// Parameter-set version.
    pub rule_version: Option<String>,
    /// Who.
    pub actor_id: Option<Uuid>,
    /// Why.
    pub reason: Option<String>,
    /// Steward operation.
    pub operation_id: Option<MpiOperationId>,
}

type LinkSql = (
    Uuid,
    Uuid,
    DateTime<Utc>,
    Option<DateTime<Utc>>,
    String,
    Option<f64>,
    Option<String>,
    Option<Uuid>,
    Option<String>,
    Option<Uuid>,
);

fn link_row(r: LinkSql) -> LinkRow {
    LinkRow {
        record_id: PatientRecordId::from_uuid(r.0),
        person_id: PersonId::from_uuid(r.1),
        valid_from: r.2,
        valid_to: r.3,
        method: r.4,
        score: r.5,
        rule_version: r.6,
        actor_id: r.7,
        reason: r.8,
        operation_id: r.9.map(MpiOperationId::from_uuid),
    }
}

const LINK_COLUMNS: &str =
    "record_id, person_id, valid_from, valid_to, method, score, rule_version, actor_id, reason, operation_id";

/// Every link, open or closed, of a person: its history.
pub async fn person_links(
    tx: &mut Tx,
    consortium: ConsortiumId,
    person: PersonId,
) -> Result<Vec<LinkRow>, StoreError> {
    let sql = format!(
        "SELECT {LINK_COLUMNS} FROM mpi_link WHERE consortium_id = $1 AND person_id = $2 ORDER BY valid_from, link_id"
    );
    let rows: Vec<LinkSql> = on_tx!(tx, conn => sqlx::query_as(&sql).bind(consortium.as_uuid())
        .bind(person.as_uuid()).fetch_all(conn).await)?;
    Ok(rows.into_iter().map(link_row).collect())
}

/// Links opened by a steward operation.
pub async fn links_of_operation(
    tx: &mut Tx,
    consortium: ConsortiumId,
    operation: MpiOperationId,
) -> Result<Vec<LinkRow>, StoreError> {
    let sql = format!("SELECT {LINK_COLUMNS} FROM mpi_link WHERE consortium_id = $1 AND operation_id = $2");
    let rows: Vec<LinkSql> = on_tx!(tx, conn => sqlx::query_as(&sql).bind(consortium.as_uuid())
        .bind(operation.as_uuid()).fetch_all(conn).await)?;
    Ok(rows.into_iter().map(link_row).collect())
}

/// The records a person has now (open links).
pub async fn person_record_ids(
    tx: &mut Tx,
    consortium: ConsortiumId,
    person: PersonId,
) -> Result<Vec<PatientRecordId>, StoreError> {
    // `+` on SQLite: without it the planner walks the open-link index in record order (to
    // avoid a sort) instead of looking the person up (PostgreSQL has no `+` on UUIDs).
    let sql = format!(
        "SELECT record_id FROM mpi_link WHERE consortium_id = $1 AND person_id = $2 \
         AND valid_to IS NULL ORDER BY {}record_id",
        if tx.backend() == crate::Backend::Sqlite { "+" } else { "" }
    );
    let rows: Vec<(Uuid,)> = on_tx!(tx, conn => sqlx::query_as(&sql).bind(consortium.as_uuid())
        .bind(person.as_uuid()).fetch_all(conn).await)?;
    Ok(rows.into_iter().map(|(r,)| PatientRecordId::from_uuid(r)).collect())
}

/// A steward operation.
#[derive(Debug, Clone, PartialEq)]
pub struct OperationRow {
    /// Id.
    pub operation_id: MpiOperationId,
    /// `link`, `unlink`, `merge`, `unmerge`, `decide_different`.
    pub kind: String,
    /// Target or surviving person.
    pub person_id: Option<PersonId>,
    /// Previous, new or absorbed person.
    pub other_person_id: Option<PersonId>,
    /// Record concerned.
    pub record_id: Option<PatientRecordId>,
    /// Steward.
    pub actor_id: Uuid,
    /// Reason.
    pub reason: String,
    /// The operation this one reverses.
    pub undoes: Option<MpiOperationId>,
    /// The operation that reversed this one.
    pub undone_by: Option<MpiOperationId>,
    /// When.
    pub at: DateTime<Utc>,
}

type OperationSql = (
    Uuid,
    String,
    Option<Uuid>,
    Option<Uuid>,
    Option<Uuid>,
    Uuid,
    String,
    Option<Uuid>,
    Option<Uuid>,
    DateTime<Utc>,
);

fn operation_row(r: OperationSql) -> OperationRow {
    OperationRow {
        operation_id: MpiOperationId::from_uuid(r.0),
        kind: r.1,
        person_id: r.2.map(PersonId::from_uuid),
        other_person_id: r.3.map(PersonId::from_uuid),
        record_id: r.4.map(PatientRecordId::from_uuid),
        actor_id: r.5,
        reason: r.6,
        undoes: r.7.map(MpiOperationId::from_uuid),
        undone_by: r.8.map(MpiOperationId::from_uuid),
        at: r.9,
    }
}

const OPERATION_COLUMNS: &str =
    "operation_id, kind, person_id, other_person_id, record_id, actor_id, reason, undoes, undone_by, at";

/// Records a steward operation; marks the one it undoes.
pub async fn insert_operation(
    tx: &mut Tx,
    consortium: ConsortiumId,
    op: &OperationRow,
) -> Result<(), StoreError> {
    let sql = format!(
        "INSERT INTO mpi_operation (consortium_id, {OPERATION_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
    );
    on_tx!(tx, conn => sqlx::query(&sql).bind(consortium.as_uuid()).bind(op.operation_id.as_uuid())
        .bind(&op.kind).bind(op.person_id.map(|p| p.as_uuid())).bind(op.other_person_id.map(|p| p.as_uuid()))
        .bind(op.record_id.map(|r| r.as_uuid())).bind(op.actor_id).bind(&op.reason)
        .bind(op.undoes.map(|o| o.as_uuid())).bind(op.undone_by.map(|o| o.as_uuid())).bind(op.at)
        .execute(conn).await.map(drop))?;
    if let Some(undone) = op.undoes {
        const MARK: &str = "UPDATE mpi_operation SET undone_by = $3 WHERE consortium_id = $1 AND operation_id = $2 \
                            AND undone_by IS NULL";
        let n = on_tx!(tx, conn => sqlx::query(MARK).bind(consortium.as_uuid()).bind(undone.as_uuid())
            .bind(op.operation_id.as_uuid()).execute(conn).await.map(|r| r.rows_affected()))?;
        if n != 1 {
            return Err(StoreError::Conflict { rule: "mpi_operation_already_undone" });
        }
    }
    Ok(())
}

/// One operation.
pub async fn operation(
    tx: &mut Tx,
    consortium: ConsortiumId,
    id: MpiOperationId,
) -> Result<Option<OperationRow>, StoreError> {
    let sql = format!(
        "SELECT {OPERATION_COLUMNS} FROM mpi_operation WHERE consortium_id = $1 AND operation_id = $2"
    );
    let row: Option<OperationSql> = on_tx!(tx, conn => sqlx::query_as(&sql).bind(consortium.as_uuid())
        .bind(id.as_uuid()).fetch_optional(conn).await)?;
    Ok(row.map(operation_row))
}

/// Operations that concern a person (as target, source or absorbed), newest first.
pub async fn person_operations(
    tx: &mut Tx,
    consortium: ConsortiumId,
    person: PersonId,
) -> Result<Vec<OperationRow>, StoreError> {
    let sql = format!(
        "SELECT {OPERATION_COLUMNS} FROM mpi_operation WHERE consortium_id = $1 \
         AND (person_id = $2 OR other_person_id = $2) ORDER BY at DESC, operation_id DESC"
    );
    let rows: Vec<OperationSql> = on_tx!(tx, conn => sqlx::query_as(&sql).bind(consortium.as_uuid())
        .bind(person.as_uuid()).fetch_all(conn).await)?;
    Ok(rows.into_iter().map(operation_row).collect())
}

/// A candidate pair in the review queue.
#[derive(Debug, Clone, PartialEq)]
pub struct CandidateRow {
    /// First record (smaller id).
    pub record_a: PatientRecordId,
    /// Second record.
    pub record_b: PatientRecordId,
    /// Score in bits.
    pub score: f64,
    /// `auto_link` (held back) or `review`.
    pub band: String,
    /// JSON explanation.
    pub detail: String,
    /// Parameter-set version.
    pub rule_version: String,
    /// `open`, `same`, `different`.
    pub status: String,
    /// Queued.
    pub created_at: DateTime<Utc>,
    /// Decided.
    pub decided_at: Option<DateTime<Utc>>,
    /// Steward.
    pub decided_by: Option<Uuid>,
    /// Reason.
    pub reason: Option<String>,
}

type CandidateSql = (
    Uuid,
    Uuid,
    f64,
    String,
    String,
    String,
    String,
    DateTime<Utc>,
    Option<DateTime<Utc>>,
    Option<Uuid>,
    Option<String>,
);

fn candidate_row(r: CandidateSql) -> CandidateRow {
    CandidateRow {
        record_a: PatientRecordId::from_uuid(r.0),
        record_b: PatientRecordId::from_uuid(r.1),
        score: r.2,
        band: r.3,
        detail: r.4,
        rule_version: r.5,
        status: r.6,
        created_at: r.7,
        decided_at: r.8,
        decided_by: r.9,
        reason: r.10,
    }
}

const CANDIDATE_COLUMNS: &str = "record_a, record_b, score, band, detail, rule_version, status, created_at, decided_at, decided_by, reason";

/// Queues candidate pairs; a pair already queued (open or decided) is left as it is.
pub async fn insert_candidates(
    tx: &mut Tx,
    consortium: ConsortiumId,
    candidates: &[CandidateRow],
) -> Result<u64, StoreError> {
    let mut inserted = 0;
    for chunk in candidates.chunks(CHUNK) {
        let sql = format!(
            "INSERT INTO mpi_candidate (consortium_id, record_a, record_b, score, band, detail, rule_version, status, \
             created_at) VALUES {} ON CONFLICT (consortium_id, record_a, record_b) DO NOTHING",
            values_clause(tx.backend(), chunk.len(), 9)
        );
        inserted += on_tx!(tx, conn => {
            let mut q = sqlx::query(&sql);
            for c in chunk {
                q = q.bind(consortium.as_uuid()).bind(c.record_a.as_uuid()).bind(c.record_b.as_uuid())
                    .bind(c.score).bind(&c.band).bind(&c.detail).bind(&c.rule_version).bind(&c.status)
                    .bind(c.created_at);
            }
            q.execute(conn).await.map(|r| r.rows_affected())
        })?;
    }
    Ok(inserted)
}

/// Candidates with `status`, highest score first, after the keyset cursor `(score, a, b)`.
pub async fn list_candidates(
    tx: &mut Tx,
    consortium: ConsortiumId,
    status: &str,
    after: Option<(f64, PatientRecordId, PatientRecordId)>,
    limit: u32,
) -> Result<Vec<CandidateRow>, StoreError> {
    let sql = format!(
        "SELECT {CANDIDATE_COLUMNS} FROM mpi_candidate WHERE consortium_id = $1 AND status = $2 \
         AND ($3 IS NULL OR score < $3 OR (score = $3 AND (record_a > $4 OR (record_a = $4 AND record_b > $5)))) \
         ORDER BY score DESC, record_a, record_b LIMIT $6"
    );
    let (score, a, b) = match after {
        Some((s, a, b)) => (Some(s), Some(a.as_uuid()), Some(b.as_uuid())),
        None => (None, None, None),
    };
    let rows: Vec<CandidateSql> = on_tx!(tx, conn => sqlx::query_as(&sql).bind(consortium.as_uuid()).bind(status)
        .bind(score).bind(a).bind(b).bind(i64::from(limit)).fetch_all(conn).await)?;
    Ok(rows.into_iter().map(candidate_row).collect())
}

/// Counts candidates by status.
pub async fn count_candidates(
    tx: &mut Tx,
    consortium: ConsortiumId,
    status: &str,
) -> Result<i64, StoreError> {
    const SQL: &str = "SELECT COUNT(*) FROM mpi_candidate WHERE consortium_id = $1 AND status = $2";
    let (n,): (i64,) = on_tx!(tx, conn => sqlx::query_as(SQL).bind(consortium.as_uuid()).bind(status).fetch_one(conn).await)?;
    Ok(n)
}

/// One candidate pair.
pub async fn candidate(
    tx: &mut Tx,
    consortium: ConsortiumId,
    a: PatientRecordId,
    b: PatientRecordId,
) -> Result<Option<CandidateRow>, StoreError> {
    let sql = format!(
        "SELECT {CANDIDATE_COLUMNS} FROM mpi_candidate WHERE consortium_id = $1 AND record_a = $2 AND record_b = $3"
    );
    let row: Option<CandidateSql> = on_tx!(tx, conn => sqlx::query_as(&sql).bind(consortium.as_uuid())
        .bind(a.as_uuid()).bind(b.as_uuid()).fetch_optional(conn).await)?;
    Ok(row.map(candidate_row))
}

/// Every decided (`same` or `different`) pair: the matcher respects stewards' decisions.
pub async fn decided_pairs(
    tx: &mut Tx,
    consortium: ConsortiumId,
) -> Result<Vec<(PatientRecordId, PatientRecordId, String)>, StoreError> {
    const SQL: &str =
        "SELECT record_a, record_b, status FROM mpi_candidate WHERE consortium_id = $1 AND status <> 'open'";
    let rows: Vec<(Uuid, Uuid, String)> =
        on_tx!(tx, conn => sqlx::query_as(SQL).bind(consortium.as_uuid()).fetch_all(conn).await)?;
    Ok(rows
        .into_iter()
        .map(|(a, b, s)| (PatientRecordId::from_uuid(a), PatientRecordId::from_uuid(b), s))
        .collect())
}

/// Records a steward's decision on an open pair; `false` when it was not open.
pub async fn decide_candidate(
    tx: &mut Tx,
    consortium: ConsortiumId,
    (a, b): (PatientRecordId, PatientRecordId),
    status: &str,
    actor: Uuid,
    reason: Option<&str>,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    const SQL: &str = "UPDATE mpi_candidate SET status = $4, decided_at = $5, decided_by = $6, reason = $7 \
                       WHERE consortium_id = $1 AND record_a = $2 AND record_b = $3 AND status = 'open'";
    let n = on_tx!(tx, conn => sqlx::query(SQL).bind(consortium.as_uuid()).bind(a.as_uuid()).bind(b.as_uuid())
        .bind(status).bind(now).bind(actor).bind(reason).execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

/// Stores a matching model.
pub async fn insert_model(
    tx: &mut Tx,
    consortium: ConsortiumId,
    version: &str,
    model_json: &str,
    records: i64,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    const SQL: &str = "INSERT INTO mpi_model (consortium_id, model_id, version, model, records, created_at) \
                       VALUES ($1, $2, $3, $4, $5, $6)";
    on_tx!(tx, conn => sqlx::query(SQL).bind(consortium.as_uuid()).bind(Uuid::now_v7()).bind(version)
        .bind(model_json).bind(records).bind(now).execute(conn).await.map(drop))?;
    Ok(())
}

/// The newest model: (version, JSON).
pub async fn latest_model(
    tx: &mut Tx,
    consortium: ConsortiumId,
) -> Result<Option<(String, String)>, StoreError> {
    const SQL: &str = "SELECT version, model FROM mpi_model WHERE consortium_id = $1 \
                       ORDER BY created_at DESC, model_id DESC LIMIT 1";
    Ok(on_tx!(tx, conn => sqlx::query_as(SQL).bind(consortium.as_uuid()).fetch_optional(conn).await)?)
}

/// The newest model's version and the number of records it was estimated over.
pub async fn latest_model_info(
    tx: &mut Tx,
    consortium: ConsortiumId,
) -> Result<Option<(String, i64)>, StoreError> {
    const SQL: &str = "SELECT version, records FROM mpi_model WHERE consortium_id = $1 \
                       ORDER BY created_at DESC, model_id DESC LIMIT 1";
    Ok(on_tx!(tx, conn => sqlx::query_as(SQL).bind(consortium.as_uuid()).fetch_optional(conn).await)?)
}

/// Removes the blocking keys of some records (their values changed).
pub async fn delete_block_keys_of(
    tx: &mut Tx,
    consortium: ConsortiumId,
    records: &[PatientRecordId],
) -> Result<(), StoreError> {
    for chunk in records.chunks(CHUNK) {
        let sql = format!(
            "DELETE FROM mpi_block_key WHERE consortium_id = $1 AND record_id IN ({})",
            placeholders(2, chunk.len())
        );
        on_tx!(tx, conn => {
            let mut q = sqlx::query(&sql).bind(consortium.as_uuid());
            for r in chunk {
                q = q.bind(r.as_uuid());
            }
            q.execute(conn).await.map(drop)
        })?;
    }
    Ok(())
}

/// The source that is an institution's own system, if any.
pub async fn source_of_institution(
    tx: &mut Tx,
    consortium: ConsortiumId,
    institution: InstitutionId,
) -> Result<Option<SourceRow>, StoreError> {
    const SQL: &str = "SELECT source_id, code, name, institution_id FROM mpi_source \
                       WHERE consortium_id = $1 AND institution_id = $2 ORDER BY created_at LIMIT 1";
    Ok(
        on_tx!(tx, conn => sqlx::query_as(SQL).bind(consortium.as_uuid()).bind(institution.as_uuid()).fetch_optional(conn).await)?,
    )
}

/// Removes every blocking key of the consortium (before re-keying under a new model).
pub async fn clear_block_keys(tx: &mut Tx, consortium: ConsortiumId) -> Result<(), StoreError> {
    const SQL: &str = "DELETE FROM mpi_block_key WHERE consortium_id = $1";
    on_tx!(tx, conn => sqlx::query(SQL).bind(consortium.as_uuid()).execute(conn).await.map(drop))?;
    Ok(())
}

/// Inserts blocking keys (duplicates ignored).
pub async fn insert_block_keys(
    tx: &mut Tx,
    consortium: ConsortiumId,
    keys: &[(i64, PatientRecordId)],
) -> Result<(), StoreError> {
    for chunk in keys.chunks(CHUNK * 4) {
        let sql = format!(
            "INSERT INTO mpi_block_key (consortium_id, block_key, record_id) VALUES {} ON CONFLICT DO NOTHING",
            values_clause(tx.backend(), chunk.len(), 3)
        );
        on_tx!(tx, conn => {
            let mut q = sqlx::query(&sql);
            for (k, r) in chunk {
                q = q.bind(consortium.as_uuid()).bind(*k).bind(r.as_uuid());
            }
            q.execute(conn).await.map(drop)
        })?;
    }
    Ok(())
}

/// Records sharing any of `keys`, at most `per_key` per key (a huge block is not a candidate
/// list), without repeats.
pub async fn records_with_keys(
    tx: &mut Tx,
    consortium: ConsortiumId,
    keys: &[i64],
    per_key: u32,
) -> Result<Vec<PatientRecordId>, StoreError> {
    const SQL: &str =
        "SELECT record_id FROM mpi_block_key WHERE consortium_id = $1 AND block_key = $2 LIMIT $3";
    let mut out: Vec<PatientRecordId> = Vec::new();
    for key in keys {
        let rows: Vec<(Uuid,)> = on_tx!(tx, conn => sqlx::query_as(SQL).bind(consortium.as_uuid()).bind(*key)
            .bind(i64::from(per_key)).fetch_all(conn).await)?;
        out.extend(rows.into_iter().map(|(r,)| PatientRecordId::from_uuid(r)));
    }
    out.sort();
    out.dedup();
    Ok(out)
}

/// (person, source code, local id, link method) of every open link, by person: the pairs
/// the MPI links are the pairs within a person.
pub async fn linked_local_ids(
    tx: &mut Tx,
    consortium: ConsortiumId,
) -> Result<Vec<(PersonId, String, String, String)>, StoreError> {
    const SQL: &str = "SELECT l.person_id, s.code, r.local_id, l.method FROM mpi_link l \
        JOIN mpi_record r ON r.consortium_id = l.consortium_id AND r.record_id = l.record_id \
        JOIN mpi_source s ON s.consortium_id = r.consortium_id AND s.source_id = r.source_id \
        WHERE l.consortium_id = $1 AND l.valid_to IS NULL ORDER BY l.person_id, r.local_id";
    let rows: Vec<(Uuid, String, String, String)> =
        on_tx!(tx, conn => sqlx::query_as(SQL).bind(consortium.as_uuid()).fetch_all(conn).await)?;
    Ok(rows.into_iter().map(|(p, s, l, m)| (PersonId::from_uuid(p), s, l, m)).collect())
}

/// `(source code, local id, record id)` of every record: how a loader finds the record a
/// source's own patient number names.
pub async fn record_keys(
    tx: &mut Tx,
    consortium: ConsortiumId,
) -> Result<Vec<(String, String, Uuid)>, StoreError> {
    const SQL: &str = "SELECT s.code, r.local_id, r.record_id FROM mpi_record r \
                       JOIN mpi_source s ON s.consortium_id = r.consortium_id AND s.source_id = r.source_id \
                       WHERE r.consortium_id = $1";
    Ok(on_tx!(tx, conn => sqlx::query_as(SQL).bind(consortium.as_uuid()).fetch_all(conn).await)?)
}

/// The institutions whose sources registered these records.
pub async fn institutions_of_records(
    tx: &mut Tx,
    consortium: ConsortiumId,
    records: &[PatientRecordId],
) -> Result<Vec<Uuid>, StoreError> {
    let mut out = Vec::new();
    for record in records {
        const SQL: &str = "SELECT s.institution_id FROM mpi_record r JOIN mpi_source s \
                           ON s.consortium_id = r.consortium_id AND s.source_id = r.source_id \
                           WHERE r.consortium_id = $1 AND r.record_id = $2 AND s.institution_id IS NOT NULL";
        let rows: Vec<(Uuid,)> = on_tx!(tx, conn => sqlx::query_as(SQL).bind(consortium.as_uuid())
            .bind(record.as_uuid()).fetch_all(conn).await)?;
        out.extend(rows.into_iter().map(|(i,)| i));
    }
    out.sort();
    out.dedup();
    Ok(out)
}
