//! Divisions, households and residents' health records; bulk loading for the synthetic county.

use chrono::NaiveDate;
use yigong_domain::identity::IdOrigin;
use yigong_domain::ids::ConsortiumId;
use yigong_domain::population::{Division, HealthRecord, Household};

use crate::{StoreError, Tx, classify, on_tx};

/// Inserts a division and, for villages, its population in `year`.
pub async fn insert_division(tx: &mut Tx, d: &Division, year: i32) -> Result<(), StoreError> {
    const SQL: &str = "INSERT INTO division (code, valid_from, level, name, parent_code, urban_rural_class) \
                       VALUES ($1, $2, $3, $4, $5, $6)";
    on_tx!(tx, conn => sqlx::query(SQL)
        .bind(&d.code).bind(d.valid_from).bind(d.level).bind(&d.name).bind(&d.parent_code)
        .bind(&d.urban_rural_class).execute(conn).await.map(|r| r.rows_affected()))
    .map_err(|e| classify(e, "division_exists"))?;
    if let Some(population) = d.population {
        const POP: &str = "INSERT INTO division_population (code, year, population) VALUES ($1, $2, $3)";
        on_tx!(tx, conn => sqlx::query(POP).bind(&d.code).bind(year).bind(population).execute(conn).await.map(|r| r.rows_affected()))
            .map_err(|e| classify(e, "division_population_exists"))?;
    }
    Ok(())
}

/// A division as listed: code, level, name, parent.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct DivisionRow {
    /// Code.
    pub code: String,
    /// Level.
    pub level: String,
    /// Name.
    pub name: String,
    /// Parent code.
    pub parent_code: Option<String>,
}

/// Divisions valid on `on` under `parent` (or the roots when `None`), by code.
pub async fn divisions(
    tx: &mut Tx,
    parent: Option<&str>,
    on: NaiveDate,
) -> Result<Vec<DivisionRow>, StoreError> {
    const SQL: &str = "SELECT code, level, name, parent_code FROM division \
                       WHERE (($1 IS NULL AND parent_code IS NULL) OR parent_code = $1) \
                       AND valid_from <= $2 AND (valid_to IS NULL OR valid_to >= $2) ORDER BY code";
    Ok(on_tx!(tx, conn => sqlx::query_as(SQL).bind(parent).bind(on).fetch_all(conn).await)?)
}

/// The name of a division valid on `on`, if known.
pub async fn division_name(tx: &mut Tx, code: &str, on: NaiveDate) -> Result<Option<String>, StoreError> {
    const SQL: &str = "SELECT name FROM division WHERE code = $1 AND valid_from <= $2 \
                       AND (valid_to IS NULL OR valid_to >= $2) ORDER BY valid_from DESC LIMIT 1";
    let row: Option<(String,)> =
        on_tx!(tx, conn => sqlx::query_as(SQL).bind(code).bind(on).fetch_optional(conn).await)?;
    Ok(row.map(|(n,)| n))
}

/// Whether any village-level code of `county` is loaded: then institution codes must exist.
pub async fn county_has_villages(tx: &mut Tx, county: &str) -> Result<bool, StoreError> {
    const SQL: &str = "SELECT COUNT(*) FROM division WHERE level = 'village' AND code LIKE $1";
    let (n,): (i64,) =
        on_tx!(tx, conn => sqlx::query_as(SQL).bind(format!("{county}%")).fetch_one(conn).await)?;
    Ok(n > 0)
}

/// Whether the twelve-digit code is a known division valid on `on`.
pub async fn division_exists(tx: &mut Tx, code: &str, on: NaiveDate) -> Result<bool, StoreError> {
    Ok(division_name(tx, code, on).await?.is_some())
}

/// Rows per multi-row INSERT: 14 columns × 500 stays far below both backends' parameter limits.
const CHUNK: usize = 500;

/// `(…), (…)` placeholders for a multi-row INSERT. SQLite gets anonymous `?`: its lookup of a
/// named parameter (`$N`) scans the statement's parameter list, which makes binding thousands
/// of them quadratic; PostgreSQL gets `$N`.
pub(crate) fn values_clause(backend: crate::Backend, rows: usize, columns: usize) -> String {
    let mut sql = String::with_capacity(rows * columns * 6);
    for r in 0..rows {
        sql.push_str(if r == 0 { "(" } else { ", (" });
        for c in 0..columns {
            if c > 0 {
                sql.push_str(", ");
            }
            match backend {
                crate::Backend::Sqlite => sql.push('?'),
                crate::Backend::Postgres => {
                    sql.push('$');
                    sql.push_str(&(r * columns + c + 1).to_string());
                }
            }
        }
        sql.push(')');
    }
    sql
}

/// Inserts households in multi-row statements.
pub async fn insert_households(tx: &mut Tx, households: &[Household]) -> Result<(), StoreError> {
    for chunk in households.chunks(CHUNK) {
        let sql = format!(
            "INSERT INTO household (consortium_id, household_id, village_code, address) VALUES {}",
            values_clause(tx.backend(), chunk.len(), 4)
        );
        on_tx!(tx, conn => {
            let mut q = sqlx::query(&sql);
            for h in chunk {
                q = q.bind(h.consortium_id.as_uuid()).bind(h.id.as_uuid()).bind(h.village_code.as_str()).bind(&h.address);
            }
            q.execute(conn).await.map(|r| r.rows_affected())
        })
        .map_err(|e| classify(e, "household_exists"))?;
    }
    Ok(())
}

/// Inserts health records in multi-row statements.
pub async fn insert_health_records(tx: &mut Tx, records: &[HealthRecord]) -> Result<(), StoreError> {
    for chunk in records.chunks(CHUNK) {
        let sql = format!(
            "INSERT INTO health_record (consortium_id, health_record_id, record_no, household_id, household_relation, \
             name, sex, birth_date, resident_id, resident_id_from_15, phone, village_code, address, \
             managing_institution_id, created_at) VALUES {}",
            values_clause(tx.backend(), chunk.len(), 15)
        );
        on_tx!(tx, conn => {
            let mut q = sqlx::query(&sql);
            for r in chunk {
                q = q.bind(r.consortium_id.as_uuid()).bind(r.id.as_uuid()).bind(&r.record_no)
                    .bind(r.household_id.map(|h| h.as_uuid())).bind(&r.household_relation).bind(&r.name)
                    .bind(r.sex.as_str()).bind(r.birth_date).bind(r.resident_id.as_ref().map(|i| i.as_str()))
                    .bind(r.resident_id.as_ref().is_some_and(|i| i.origin() == IdOrigin::DerivedFrom15))
                    .bind(&r.phone).bind(r.village_code.as_str()).bind(&r.address)
                    .bind(r.managing_institution_id.as_uuid()).bind(r.created_at);
            }
            q.execute(conn).await.map(|r| r.rows_affected())
        })
        .map_err(|e| classify(e, "health_record_exists"))?;
    }
    Ok(())
}

/// Number of health records in the consortium.
pub async fn count_health_records(tx: &mut Tx, consortium: ConsortiumId) -> Result<i64, StoreError> {
    const SQL: &str = "SELECT COUNT(*) FROM health_record WHERE consortium_id = $1";
    let (n,): (i64,) =
        on_tx!(tx, conn => sqlx::query_as(SQL).bind(consortium.as_uuid()).fetch_one(conn).await)?;
    Ok(n)
}

/// Health-record counts per managing institution: (institution, records).
pub async fn health_records_by_institution(
    tx: &mut Tx,
    consortium: ConsortiumId,
) -> Result<Vec<(yigong_domain::ids::InstitutionId, i64)>, StoreError> {
    const SQL: &str = "SELECT managing_institution_id, COUNT(*) FROM health_record WHERE consortium_id = $1 \
                       GROUP BY managing_institution_id";
    let rows: Vec<(uuid::Uuid, i64)> =
        on_tx!(tx, conn => sqlx::query_as(SQL).bind(consortium.as_uuid()).fetch_all(conn).await)?;
    Ok(rows.into_iter().map(|(id, n)| (yigong_domain::ids::InstitutionId::from_uuid(id), n)).collect())
}
