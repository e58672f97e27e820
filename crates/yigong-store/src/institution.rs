//! Member institutions and agencies, with their membership history.

use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;
use yigong_domain::facility::{
    AgencyKind, Institution, InstitutionKind, Membership, NewInstitution, Ownership, Service, Tier,
};
use yigong_domain::identity::DivisionCode;
use yigong_domain::ids::{ConsortiumId, InstitutionId};
use yigong_domain::page::{Page, PageRequest};

use crate::{StoreError, Tx, classify, on_tx};

#[derive(sqlx::FromRow)]
struct Row {
    consortium_id: Uuid,
    institution_id: Uuid,
    code: String,
    name: String,
    tier: Option<String>,
    agency_kind: Option<String>,
    is_central: bool,
    division_code: String,
    parent_institution_id: Option<Uuid>,
    credit_code: Option<String>,
    licence_no: Option<String>,
    ownership: String,
    services: String,
    beds: i64,
    address: Option<String>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

fn corrupt(what: &str, value: &str) -> StoreError {
    StoreError::Corrupt(format!("institution {what} {value:?}"))
}

impl TryFrom<Row> for Institution {
    type Error = StoreError;
    fn try_from(r: Row) -> Result<Self, StoreError> {
        let kind = match (&r.tier, &r.agency_kind) {
            (Some(t), None) => InstitutionKind::Member(Tier::parse(t).ok_or_else(|| corrupt("tier", t))?),
            (None, Some(a)) => {
                InstitutionKind::Agency(AgencyKind::parse(a).ok_or_else(|| corrupt("agency_kind", a))?)
            }
            _ => return Err(corrupt("kind", "tier/agency_kind")),
        };
        let services: Vec<String> =
            serde_json::from_str(&r.services).map_err(|_| corrupt("services", &r.services))?;
        Ok(Institution {
            id: InstitutionId::from_uuid(r.institution_id),
            consortium_id: ConsortiumId::from_uuid(r.consortium_id),
            code: r.code,
            name: r.name,
            kind,
            is_central: r.is_central,
            division_code: DivisionCode::parse(&r.division_code)
                .map_err(|_| corrupt("division_code", &r.division_code))?,
            parent_id: r.parent_institution_id.map(InstitutionId::from_uuid),
            credit_code: r.credit_code,
            licence_no: r.licence_no,
            ownership: Ownership::parse(&r.ownership).ok_or_else(|| corrupt("ownership", &r.ownership))?,
            services: services
                .iter()
                .map(|s| Service::parse(s).ok_or_else(|| corrupt("service", s)))
                .collect::<Result<_, _>>()?,
            beds: r.beds,
            address: r.address,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

const COLUMNS: &str = "consortium_id, institution_id, code, name, tier, agency_kind, is_central, division_code, \
                       parent_institution_id, credit_code, licence_no, ownership, services, beds, address, \
                       created_at, updated_at";

fn services_json(services: &[Service]) -> String {
    serde_json::to_string(&services.iter().map(|s| s.as_str()).collect::<Vec<_>>())
        .expect("strings serialise")
}

/// Builds the stored record of a validated institution.
pub fn record(
    consortium_id: ConsortiumId,
    id: InstitutionId,
    new: NewInstitution,
    now: DateTime<Utc>,
) -> Institution {
    Institution {
        id,
        consortium_id,
        code: new.code,
        name: new.name,
        kind: new.kind,
        is_central: new.is_central,
        division_code: new.division_code,
        parent_id: new.parent_id,
        credit_code: new.credit_code,
        licence_no: new.licence_no,
        ownership: new.ownership,
        services: new.services,
        beds: new.beds,
        address: new.address,
        created_at: now,
        updated_at: now,
    }
}

/// Inserts an institution.
pub async fn insert(tx: &mut Tx, i: &Institution) -> Result<(), StoreError> {
    const SQL: &str = "INSERT INTO institution (consortium_id, institution_id, code, name, tier, agency_kind, \
                       is_central, division_code, township_code, parent_institution_id, credit_code, licence_no, \
                       ownership, services, beds, address, created_at, updated_at) \
                       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)";
    let (tier, agency) = kind_columns(i.kind);
    on_tx!(tx, conn => sqlx::query(SQL)
        .bind(i.consortium_id.as_uuid()).bind(i.id.as_uuid()).bind(&i.code).bind(&i.name)
        .bind(tier).bind(agency).bind(i.is_central).bind(i.division_code.as_str())
        .bind(i.division_code.township()).bind(i.parent_id.map(|p| p.as_uuid()))
        .bind(&i.credit_code).bind(&i.licence_no).bind(i.ownership.as_str()).bind(services_json(&i.services))
        .bind(i.beds).bind(&i.address).bind(i.created_at).bind(i.updated_at)
        .execute(conn).await.map(|r| r.rows_affected()))
    .map_err(|e| classify(e, "institution_code_taken"))?;
    Ok(())
}

/// Replaces every mutable field of an institution.
pub async fn update(tx: &mut Tx, i: &Institution) -> Result<(), StoreError> {
    const SQL: &str = "UPDATE institution SET code = $3, name = $4, tier = $5, agency_kind = $6, is_central = $7, \
                       division_code = $8, township_code = $9, parent_institution_id = $10, credit_code = $11, \
                       licence_no = $12, ownership = $13, services = $14, beds = $15, address = $16, updated_at = $17 \
                       WHERE consortium_id = $1 AND institution_id = $2";
    let (tier, agency) = kind_columns(i.kind);
    let done = on_tx!(tx, conn => sqlx::query(SQL)
        .bind(i.consortium_id.as_uuid()).bind(i.id.as_uuid()).bind(&i.code).bind(&i.name)
        .bind(tier).bind(agency).bind(i.is_central).bind(i.division_code.as_str())
        .bind(i.division_code.township()).bind(i.parent_id.map(|p| p.as_uuid()))
        .bind(&i.credit_code).bind(&i.licence_no).bind(i.ownership.as_str()).bind(services_json(&i.services))
        .bind(i.beds).bind(&i.address).bind(i.updated_at)
        .execute(conn).await.map(|r| r.rows_affected()))
    .map_err(|e| classify(e, "institution_code_taken"))?;
    if done == 0 { Err(StoreError::NotFound) } else { Ok(()) }
}

fn kind_columns(kind: InstitutionKind) -> (Option<&'static str>, Option<&'static str>) {
    match kind {
        InstitutionKind::Member(t) => (Some(t.as_str()), None),
        InstitutionKind::Agency(a) => (None, Some(a.as_str())),
    }
}

/// The institution, if it exists in the consortium.
pub async fn find(
    tx: &mut Tx,
    consortium: ConsortiumId,
    id: InstitutionId,
) -> Result<Option<Institution>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM institution WHERE consortium_id = $1 AND institution_id = $2");
    let row: Option<Row> = on_tx!(tx, conn => sqlx::query_as(&sql)
        .bind(consortium.as_uuid()).bind(id.as_uuid()).fetch_optional(conn).await)?;
    row.map(Institution::try_from).transpose()
}

/// The institution, or [`StoreError::NotFound`].
pub async fn get(
    tx: &mut Tx,
    consortium: ConsortiumId,
    id: InstitutionId,
) -> Result<Institution, StoreError> {
    find(tx, consortium, id).await?.ok_or(StoreError::NotFound)
}

/// The institution with this code, if any.
pub async fn find_by_code(
    tx: &mut Tx,
    consortium: ConsortiumId,
    code: &str,
) -> Result<Option<Institution>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM institution WHERE consortium_id = $1 AND code = $2");
    let row: Option<Row> = on_tx!(tx, conn => sqlx::query_as(&sql).bind(consortium.as_uuid()).bind(code).fetch_optional(conn).await)?;
    row.map(Institution::try_from).transpose()
}

/// Filters of the institution list; all optional and combined with AND.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Substring of the name or prefix of the code.
    pub query: Option<String>,
    /// Only this tier.
    pub tier: Option<Tier>,
    /// Only agencies (`Some(true)`) or only members (`Some(false)`).
    pub agency: Option<bool>,
    /// Only children of this institution.
    pub parent: Option<InstitutionId>,
    /// Only sites in this township (twelve-digit township code).
    pub township_code: Option<String>,
    /// Only institutions without a parent (the top of the county tree).
    pub top_level: bool,
}

/// Escapes `%`, `_` and `\` for a LIKE pattern with `ESCAPE '\'`.
pub(crate) fn like_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// One page of institutions ordered by code, after the cursor `page.after` (a code).
pub async fn list(
    tx: &mut Tx,
    consortium: ConsortiumId,
    filter: &Filter,
    page: &PageRequest,
) -> Result<Page<Institution>, StoreError> {
    // The filter is a fixed text with NULL-able parameters so both planners see one
    // statement; the (consortium_id, code) unique index serves order and cursor.
    let sql = format!(
        "SELECT {COLUMNS} FROM institution WHERE consortium_id = $1 \
         AND ($2 IS NULL OR code > $2) \
         AND ($3 IS NULL OR lower(name) LIKE lower($3) ESCAPE '\\' OR lower(code) LIKE lower($4) ESCAPE '\\') \
         AND ($5 IS NULL OR tier = $5) \
         AND ($6 IS NULL OR parent_institution_id = $6) \
         AND ($7 IS NULL OR township_code = $7) \
         AND ($8 IS NULL OR (agency_kind IS NOT NULL) = $8) \
         AND ($10 = FALSE OR parent_institution_id IS NULL) \
         ORDER BY code LIMIT $9"
    );
    let q = filter.query.as_deref().map(like_escape);
    let contains = q.as_ref().map(|q| format!("%{q}%"));
    let prefix = q.as_ref().map(|q| format!("{q}%"));
    let limit = i64::from(page.size) + 1;
    let rows: Vec<Row> = on_tx!(tx, conn => sqlx::query_as(&sql)
        .bind(consortium.as_uuid()).bind(page.after.as_deref()).bind(contains.as_deref()).bind(prefix.as_deref())
        .bind(filter.tier.map(Tier::as_str)).bind(filter.parent.map(|p| p.as_uuid()))
        .bind(filter.township_code.as_deref()).bind(filter.agency).bind(limit).bind(filter.top_level)
        .fetch_all(conn).await)?;
    let items = rows.into_iter().map(Institution::try_from).collect::<Result<Vec<_>, _>>()?;
    Ok(Page::from_overfetch(items, page.size, |i| i.code.clone()))
}

/// Counts of children per parent, for the tree view: (parent id, children).
pub async fn child_counts(
    tx: &mut Tx,
    consortium: ConsortiumId,
) -> Result<Vec<(InstitutionId, i64)>, StoreError> {
    const SQL: &str = "SELECT parent_institution_id, COUNT(*) FROM institution \
                       WHERE consortium_id = $1 AND parent_institution_id IS NOT NULL GROUP BY parent_institution_id";
    let rows: Vec<(Uuid, i64)> =
        on_tx!(tx, conn => sqlx::query_as(SQL).bind(consortium.as_uuid()).fetch_all(conn).await)?;
    Ok(rows.into_iter().map(|(id, n)| (InstitutionId::from_uuid(id), n)).collect())
}

/// Opens a membership period.
pub async fn insert_membership(
    tx: &mut Tx,
    consortium: ConsortiumId,
    institution: InstitutionId,
    m: &Membership,
) -> Result<(), StoreError> {
    const SQL: &str = "INSERT INTO institution_membership (consortium_id, institution_id, valid_from, valid_to, reason) \
                       VALUES ($1, $2, $3, $4, $5)";
    on_tx!(tx, conn => sqlx::query(SQL)
        .bind(consortium.as_uuid()).bind(institution.as_uuid()).bind(m.valid_from).bind(m.valid_to).bind(&m.reason)
        .execute(conn).await.map(|r| r.rows_affected()))
    .map_err(|e| classify(e, "membership_exists"))?;
    Ok(())
}

/// The membership history of an institution, oldest first.
pub async fn memberships(
    tx: &mut Tx,
    consortium: ConsortiumId,
    institution: InstitutionId,
) -> Result<Vec<Membership>, StoreError> {
    const SQL: &str = "SELECT valid_from, valid_to, reason FROM institution_membership \
                       WHERE consortium_id = $1 AND institution_id = $2 ORDER BY valid_from";
    let rows: Vec<(NaiveDate, Option<NaiveDate>, String)> = on_tx!(tx, conn => sqlx::query_as(SQL)
        .bind(consortium.as_uuid()).bind(institution.as_uuid()).fetch_all(conn).await)?;
    Ok(rows
        .into_iter()
        .map(|(valid_from, valid_to, reason)| Membership { valid_from, valid_to, reason })
        .collect())
}

/// Number of institutions in the consortium.
pub async fn count(tx: &mut Tx, consortium: ConsortiumId) -> Result<i64, StoreError> {
    const SQL: &str = "SELECT COUNT(*) FROM institution WHERE consortium_id = $1";
    let (n,): (i64,) =
        on_tx!(tx, conn => sqlx::query_as(SQL).bind(consortium.as_uuid()).fetch_one(conn).await)?;
    Ok(n)
}
