//! Staff, their title history and their postings.

use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;
use yigong_domain::identity::{ResidentId, Sex};
use yigong_domain::ids::{ConsortiumId, DepartmentId, InstitutionId, PostingId, StaffId};
use yigong_domain::page::{Page, PageRequest};
use yigong_domain::staffing::{PostingSource, PracticeCategory, StaffCategory, TitleLevel};
use yigong_domain::{Posting, Staff, TitleRecord};

use crate::{StoreError, Tx, classify, on_tx};

#[derive(sqlx::FromRow)]
struct Row {
    consortium_id: Uuid,
    staff_id: Uuid,
    code: String,
    name: String,
    sex: String,
    resident_id: Option<String>,
    category: String,
    title_level: Option<String>,
    title_name: Option<String>,
    practice_certificate_no: Option<String>,
    practice_category: Option<String>,
    practice_scope: Option<String>,
    registered_institution_id: Option<Uuid>,
    multi_site: bool,
    employer_institution_id: Uuid,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

fn corrupt(what: &str, value: &str) -> StoreError {
    StoreError::Corrupt(format!("staff {what} {value:?}"))
}

/// Parses a stored resident ID. Stored numbers were valid when written; the far-future day
/// only disables the future-birth check, which is about input, not storage.
pub(crate) fn stored_resident_id(raw: &str) -> Result<ResidentId, StoreError> {
    let far = NaiveDate::from_ymd_opt(9999, 12, 31).expect("valid date");
    ResidentId::parse(raw, far).map_err(|_| StoreError::Corrupt("stored resident ID does not parse".into()))
}

impl TryFrom<Row> for Staff {
    type Error = StoreError;
    fn try_from(r: Row) -> Result<Self, StoreError> {
        Ok(Staff {
            id: StaffId::from_uuid(r.staff_id),
            consortium_id: ConsortiumId::from_uuid(r.consortium_id),
            code: r.code,
            name: r.name,
            sex: Sex::parse(&r.sex).ok_or_else(|| corrupt("sex", &r.sex))?,
            resident_id: r.resident_id.as_deref().map(stored_resident_id).transpose()?,
            category: StaffCategory::parse(&r.category).ok_or_else(|| corrupt("category", &r.category))?,
            title_level: r
                .title_level
                .as_deref()
                .map(|t| TitleLevel::parse(t).ok_or_else(|| corrupt("title", t)))
                .transpose()?,
            title_name: r.title_name,
            practice_certificate_no: r.practice_certificate_no,
            practice_category: r
                .practice_category
                .as_deref()
                .map(|c| PracticeCategory::parse(c).ok_or_else(|| corrupt("practice_category", c)))
                .transpose()?,
            practice_scope: r.practice_scope,
            registered_institution_id: r.registered_institution_id.map(InstitutionId::from_uuid),
            multi_site: r.multi_site,
            employer_institution_id: InstitutionId::from_uuid(r.employer_institution_id),
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

const COLUMNS: &str = "consortium_id, staff_id, code, name, sex, resident_id, category, title_level, title_name, \
                       practice_certificate_no, practice_category, practice_scope, registered_institution_id, \
                       multi_site, employer_institution_id, created_at, updated_at";

/// Inserts a staff member (not the title history: see [`insert_title`]).
pub async fn insert(tx: &mut Tx, s: &Staff) -> Result<(), StoreError> {
    let sql = format!(
        "INSERT INTO staff ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)"
    );
    on_tx!(tx, conn => sqlx::query(&sql)
        .bind(s.consortium_id.as_uuid()).bind(s.id.as_uuid()).bind(&s.code).bind(&s.name).bind(s.sex.as_str())
        .bind(s.resident_id.as_ref().map(ResidentId::as_str)).bind(s.category.as_str())
        .bind(s.title_level.map(TitleLevel::as_str)).bind(&s.title_name).bind(&s.practice_certificate_no)
        .bind(s.practice_category.map(PracticeCategory::as_str)).bind(&s.practice_scope)
        .bind(s.registered_institution_id.map(|i| i.as_uuid())).bind(s.multi_site)
        .bind(s.employer_institution_id.as_uuid()).bind(s.created_at).bind(s.updated_at)
        .execute(conn).await.map(|r| r.rows_affected()))
    .map_err(|e| classify(e, "staff_code_taken"))?;
    Ok(())
}

/// Replaces every mutable field of a staff member.
pub async fn update(tx: &mut Tx, s: &Staff) -> Result<(), StoreError> {
    const SQL: &str = "UPDATE staff SET code = $3, name = $4, sex = $5, resident_id = $6, category = $7, \
                       title_level = $8, title_name = $9, practice_certificate_no = $10, practice_category = $11, \
                       practice_scope = $12, registered_institution_id = $13, multi_site = $14, \
                       employer_institution_id = $15, updated_at = $16 WHERE consortium_id = $1 AND staff_id = $2";
    let done = on_tx!(tx, conn => sqlx::query(SQL)
        .bind(s.consortium_id.as_uuid()).bind(s.id.as_uuid()).bind(&s.code).bind(&s.name).bind(s.sex.as_str())
        .bind(s.resident_id.as_ref().map(ResidentId::as_str)).bind(s.category.as_str())
        .bind(s.title_level.map(TitleLevel::as_str)).bind(&s.title_name).bind(&s.practice_certificate_no)
        .bind(s.practice_category.map(PracticeCategory::as_str)).bind(&s.practice_scope)
        .bind(s.registered_institution_id.map(|i| i.as_uuid())).bind(s.multi_site)
        .bind(s.employer_institution_id.as_uuid()).bind(s.updated_at)
        .execute(conn).await.map(|r| r.rows_affected()))
    .map_err(|e| classify(e, "staff_code_taken"))?;
    if done == 0 { Err(StoreError::NotFound) } else { Ok(()) }
}

/// The staff member, if it exists.
pub async fn find(tx: &mut Tx, consortium: ConsortiumId, id: StaffId) -> Result<Option<Staff>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM staff WHERE consortium_id = $1 AND staff_id = $2");
    let row: Option<Row> = on_tx!(tx, conn => sqlx::query_as(&sql)
        .bind(consortium.as_uuid()).bind(id.as_uuid()).fetch_optional(conn).await)?;
    row.map(Staff::try_from).transpose()
}

/// Filters of the staff list.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Substring of the name or prefix of the staff number.
    pub query: Option<String>,
    /// Only staff with a posting at this institution active on `on`.
    pub institution: Option<InstitutionId>,
    /// The day postings are evaluated on (with `institution`).
    pub on: Option<NaiveDate>,
    /// Only this category.
    pub category: Option<StaffCategory>,
}

/// One page of staff ordered by staff number (cursor: the last number).
pub async fn list(
    tx: &mut Tx,
    consortium: ConsortiumId,
    filter: &Filter,
    page: &PageRequest,
) -> Result<Page<Staff>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM staff s WHERE consortium_id = $1 \
         AND ($2 IS NULL OR code > $2) \
         AND ($3 IS NULL OR lower(name) LIKE lower($3) ESCAPE '\\' OR lower(code) LIKE lower($4) ESCAPE '\\') \
         AND ($5 IS NULL OR category = $5) \
         AND ($6 IS NULL OR EXISTS (SELECT 1 FROM posting p WHERE p.consortium_id = s.consortium_id \
              AND p.staff_id = s.staff_id AND p.institution_id = $6 \
              AND p.valid_from <= $7 AND (p.valid_to IS NULL OR p.valid_to >= $7))) \
         ORDER BY code LIMIT $8"
    );
    let q = filter.query.as_deref().map(crate::institution::like_escape);
    let contains = q.as_ref().map(|q| format!("%{q}%"));
    let prefix = q.as_ref().map(|q| format!("{q}%"));
    let on = filter.on.unwrap_or(NaiveDate::from_ymd_opt(9999, 12, 31).expect("valid date"));
    let rows: Vec<Row> = on_tx!(tx, conn => sqlx::query_as(&sql)
        .bind(consortium.as_uuid()).bind(page.after.as_deref()).bind(contains.as_deref()).bind(prefix.as_deref())
        .bind(filter.category.map(StaffCategory::as_str)).bind(filter.institution.map(|i| i.as_uuid())).bind(on)
        .bind(i64::from(page.size) + 1)
        .fetch_all(conn).await)?;
    let items = rows.into_iter().map(Staff::try_from).collect::<Result<Vec<_>, _>>()?;
    Ok(Page::from_overfetch(items, page.size, |s| s.code.clone()))
}

/// Adds an entry to the title history.
pub async fn insert_title(
    tx: &mut Tx,
    consortium: ConsortiumId,
    staff: StaffId,
    t: &TitleRecord,
) -> Result<(), StoreError> {
    const SQL: &str =
        "INSERT INTO staff_title (consortium_id, staff_id, since, level, name) VALUES ($1, $2, $3, $4, $5)";
    on_tx!(tx, conn => sqlx::query(SQL)
        .bind(consortium.as_uuid()).bind(staff.as_uuid()).bind(t.since).bind(t.level.map(TitleLevel::as_str))
        .bind(&t.name).execute(conn).await.map(|r| r.rows_affected()))
    .map_err(|e| classify(e, "title_same_day"))?;
    Ok(())
}

/// The title history, oldest first.
pub async fn titles(
    tx: &mut Tx,
    consortium: ConsortiumId,
    staff: StaffId,
) -> Result<Vec<TitleRecord>, StoreError> {
    const SQL: &str = "SELECT since, level, name FROM staff_title WHERE consortium_id = $1 AND staff_id = $2 ORDER BY since";
    let rows: Vec<(NaiveDate, Option<String>, Option<String>)> = on_tx!(tx, conn => sqlx::query_as(SQL)
        .bind(consortium.as_uuid()).bind(staff.as_uuid()).fetch_all(conn).await)?;
    rows.into_iter()
        .map(|(since, level, name)| {
            let level = level
                .as_deref()
                .map(|l| TitleLevel::parse(l).ok_or_else(|| corrupt("title", l)))
                .transpose()?;
            Ok(TitleRecord { level, name, since })
        })
        .collect()
}

#[derive(sqlx::FromRow)]
struct PostingRow {
    consortium_id: Uuid,
    posting_id: Uuid,
    staff_id: Uuid,
    institution_id: Uuid,
    department_id: Option<Uuid>,
    position: Option<String>,
    source: String,
    valid_from: NaiveDate,
    valid_to: Option<NaiveDate>,
    created_at: DateTime<Utc>,
}

impl TryFrom<PostingRow> for Posting {
    type Error = StoreError;
    fn try_from(r: PostingRow) -> Result<Self, StoreError> {
        Ok(Posting {
            id: PostingId::from_uuid(r.posting_id),
            consortium_id: ConsortiumId::from_uuid(r.consortium_id),
            staff_id: StaffId::from_uuid(r.staff_id),
            institution_id: InstitutionId::from_uuid(r.institution_id),
            department_id: r.department_id.map(DepartmentId::from_uuid),
            position: r.position,
            source: PostingSource::parse(&r.source).ok_or_else(|| corrupt("posting source", &r.source))?,
            valid_from: r.valid_from,
            valid_to: r.valid_to,
            created_at: r.created_at,
        })
    }
}

const POSTING_COLUMNS: &str = "consortium_id, posting_id, staff_id, institution_id, department_id, position, source, \
                               valid_from, valid_to, created_at";

/// Inserts a posting.
pub async fn insert_posting(tx: &mut Tx, p: &Posting) -> Result<(), StoreError> {
    let sql =
        format!("INSERT INTO posting ({POSTING_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)");
    on_tx!(tx, conn => sqlx::query(&sql)
        .bind(p.consortium_id.as_uuid()).bind(p.id.as_uuid()).bind(p.staff_id.as_uuid())
        .bind(p.institution_id.as_uuid()).bind(p.department_id.map(|d| d.as_uuid())).bind(&p.position)
        .bind(p.source.as_str()).bind(p.valid_from).bind(p.valid_to).bind(p.created_at)
        .execute(conn).await.map(|r| r.rows_affected()))
    .map_err(|e| classify(e, "posting_exists"))?;
    Ok(())
}

/// Replaces the mutable fields of a posting (department, position, source, period).
pub async fn update_posting(tx: &mut Tx, p: &Posting) -> Result<(), StoreError> {
    const SQL: &str = "UPDATE posting SET institution_id = $3, department_id = $4, position = $5, source = $6, \
                       valid_from = $7, valid_to = $8 WHERE consortium_id = $1 AND posting_id = $2";
    let done = on_tx!(tx, conn => sqlx::query(SQL)
        .bind(p.consortium_id.as_uuid()).bind(p.id.as_uuid()).bind(p.institution_id.as_uuid())
        .bind(p.department_id.map(|d| d.as_uuid())).bind(&p.position).bind(p.source.as_str())
        .bind(p.valid_from).bind(p.valid_to).execute(conn).await.map(|r| r.rows_affected()))
    .map_err(|e| classify(e, "posting_exists"))?;
    if done == 0 { Err(StoreError::NotFound) } else { Ok(()) }
}

/// The posting, if it exists.
pub async fn find_posting(
    tx: &mut Tx,
    consortium: ConsortiumId,
    id: PostingId,
) -> Result<Option<Posting>, StoreError> {
    let sql = format!("SELECT {POSTING_COLUMNS} FROM posting WHERE consortium_id = $1 AND posting_id = $2");
    let row: Option<PostingRow> = on_tx!(tx, conn => sqlx::query_as(&sql)
        .bind(consortium.as_uuid()).bind(id.as_uuid()).fetch_optional(conn).await)?;
    row.map(Posting::try_from).transpose()
}

/// One page of a staff member's postings, newest first (cursor: the last posting id).
pub async fn list_postings(
    tx: &mut Tx,
    consortium: ConsortiumId,
    staff: StaffId,
    page: &PageRequest,
) -> Result<Page<Posting>, StoreError> {
    // Posting ids are UUIDv7, so id order is creation order; a cursor that does not parse
    // as a UUID is refused by the caller before it gets here.
    let after = page.after.as_deref().and_then(|a| Uuid::parse_str(a).ok());
    let sql = format!(
        "SELECT {POSTING_COLUMNS} FROM posting WHERE consortium_id = $1 AND staff_id = $2 \
         AND ($3 IS NULL OR posting_id < $3) ORDER BY posting_id DESC LIMIT $4"
    );
    let rows: Vec<PostingRow> = on_tx!(tx, conn => sqlx::query_as(&sql)
        .bind(consortium.as_uuid()).bind(staff.as_uuid()).bind(after).bind(i64::from(page.size) + 1)
        .fetch_all(conn).await)?;
    let items = rows.into_iter().map(Posting::try_from).collect::<Result<Vec<_>, _>>()?;
    Ok(Page::from_overfetch(items, page.size, |p| p.id.to_string()))
}

/// Number of staff with a posting at `institution` active on `on`.
pub async fn count_at(
    tx: &mut Tx,
    consortium: ConsortiumId,
    institution: InstitutionId,
    on: NaiveDate,
) -> Result<i64, StoreError> {
    const SQL: &str = "SELECT COUNT(DISTINCT staff_id) FROM posting WHERE consortium_id = $1 AND institution_id = $2 \
                       AND valid_from <= $3 AND (valid_to IS NULL OR valid_to >= $3)";
    let (n,): (i64,) = on_tx!(tx, conn => sqlx::query_as(SQL)
        .bind(consortium.as_uuid()).bind(institution.as_uuid()).bind(on).fetch_one(conn).await)?;
    Ok(n)
}
