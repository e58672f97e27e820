//! Departments of institutions.

use chrono::{DateTime, Utc};
use uuid::Uuid;
use yigong_domain::facility::{Department, DepartmentKind};
use yigong_domain::ids::{ConsortiumId, DepartmentId, InstitutionId};
use yigong_domain::page::{Page, PageRequest};

use crate::{StoreError, Tx, classify, on_tx};

#[derive(sqlx::FromRow)]
struct Row {
    consortium_id: Uuid,
    department_id: Uuid,
    institution_id: Uuid,
    subject_code: Option<String>,
    name: String,
    kind: String,
    created_at: DateTime<Utc>,
}

impl TryFrom<Row> for Department {
    type Error = StoreError;
    fn try_from(r: Row) -> Result<Self, StoreError> {
        Ok(Department {
            id: DepartmentId::from_uuid(r.department_id),
            consortium_id: ConsortiumId::from_uuid(r.consortium_id),
            institution_id: InstitutionId::from_uuid(r.institution_id),
            subject_code: r.subject_code,
            name: r.name,
            kind: DepartmentKind::parse(&r.kind)
                .ok_or_else(|| StoreError::Corrupt(format!("department kind {:?}", r.kind)))?,
            created_at: r.created_at,
        })
    }
}

const COLUMNS: &str = "consortium_id, department_id, institution_id, subject_code, name, kind, created_at";

/// Inserts a department.
pub async fn insert(tx: &mut Tx, d: &Department) -> Result<(), StoreError> {
    const SQL: &str = "INSERT INTO department (consortium_id, department_id, institution_id, subject_code, name, kind, \
                       created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)";
    on_tx!(tx, conn => sqlx::query(SQL)
        .bind(d.consortium_id.as_uuid()).bind(d.id.as_uuid()).bind(d.institution_id.as_uuid())
        .bind(&d.subject_code).bind(&d.name).bind(d.kind.as_str()).bind(d.created_at)
        .execute(conn).await.map(|r| r.rows_affected()))
    .map_err(|e| classify(e, "department_name_taken"))?;
    Ok(())
}

/// Replaces the subject code, name and kind.
pub async fn update(tx: &mut Tx, d: &Department) -> Result<(), StoreError> {
    const SQL: &str = "UPDATE department SET subject_code = $3, name = $4, kind = $5 \
                       WHERE consortium_id = $1 AND department_id = $2";
    let done = on_tx!(tx, conn => sqlx::query(SQL)
        .bind(d.consortium_id.as_uuid()).bind(d.id.as_uuid()).bind(&d.subject_code).bind(&d.name)
        .bind(d.kind.as_str()).execute(conn).await.map(|r| r.rows_affected()))
    .map_err(|e| classify(e, "department_name_taken"))?;
    if done == 0 { Err(StoreError::NotFound) } else { Ok(()) }
}

/// The department, if it exists.
pub async fn find(
    tx: &mut Tx,
    consortium: ConsortiumId,
    id: DepartmentId,
) -> Result<Option<Department>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM department WHERE consortium_id = $1 AND department_id = $2");
    let row: Option<Row> = on_tx!(tx, conn => sqlx::query_as(&sql)
        .bind(consortium.as_uuid()).bind(id.as_uuid()).fetch_optional(conn).await)?;
    row.map(Department::try_from).transpose()
}

/// One page of an institution's departments ordered by name (cursor: the last name).
pub async fn list(
    tx: &mut Tx,
    consortium: ConsortiumId,
    institution: InstitutionId,
    query: Option<&str>,
    page: &PageRequest,
) -> Result<Page<Department>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM department WHERE consortium_id = $1 AND institution_id = $2 \
         AND ($3 IS NULL OR name > $3) AND ($4 IS NULL OR lower(name) LIKE lower($4) ESCAPE '\\' OR lower(subject_code) LIKE lower($5) ESCAPE '\\') \
         ORDER BY name LIMIT $6"
    );
    let q = query.map(crate::institution::like_escape);
    let contains = q.as_ref().map(|q| format!("%{q}%"));
    let prefix = q.as_ref().map(|q| format!("{q}%"));
    let rows: Vec<Row> = on_tx!(tx, conn => sqlx::query_as(&sql)
        .bind(consortium.as_uuid()).bind(institution.as_uuid()).bind(page.after.as_deref())
        .bind(contains.as_deref()).bind(prefix.as_deref()).bind(i64::from(page.size) + 1)
        .fetch_all(conn).await)?;
    let items = rows.into_iter().map(Department::try_from).collect::<Result<Vec<_>, _>>()?;
    Ok(Page::from_overfetch(items, page.size, |d| d.name.clone()))
}
