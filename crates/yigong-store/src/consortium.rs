//! Consortia, the tenants.

use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;
use yigong_domain::facility::{Consortium, NewConsortium};
use yigong_domain::identity::CountyCode;
use yigong_domain::ids::{ConsortiumId, InstitutionId};

use crate::{StoreError, Tx, classify, on_tx};

#[derive(sqlx::FromRow)]
struct Row {
    consortium_id: Uuid,
    name: String,
    county_code: String,
    founded_on: NaiveDate,
    lead_institution_id: Option<Uuid>,
    created_at: DateTime<Utc>,
}

impl TryFrom<Row> for Consortium {
    type Error = StoreError;
    fn try_from(r: Row) -> Result<Self, StoreError> {
        Ok(Consortium {
            id: ConsortiumId::from_uuid(r.consortium_id),
            name: r.name,
            county_code: CountyCode::parse(&r.county_code)
                .map_err(|_| StoreError::Corrupt(format!("consortium county_code {:?}", r.county_code)))?,
            founded_on: r.founded_on,
            lead_institution_id: r.lead_institution_id.map(InstitutionId::from_uuid),
            created_at: r.created_at,
        })
    }
}

const COLUMNS: &str = "consortium_id, name, county_code, founded_on, lead_institution_id, created_at";

/// Inserts a consortium with the given id.
pub async fn insert(
    tx: &mut Tx,
    id: ConsortiumId,
    new: &NewConsortium,
    created_at: DateTime<Utc>,
) -> Result<Consortium, StoreError> {
    const SQL: &str = "INSERT INTO consortium (consortium_id, name, county_code, founded_on, created_at) \
                       VALUES ($1, $2, $3, $4, $5)";
    on_tx!(tx, conn => sqlx::query(SQL)
        .bind(id.as_uuid()).bind(&new.name).bind(new.county_code.as_str()).bind(new.founded_on).bind(created_at)
        .execute(conn).await.map(|r| r.rows_affected()))
    .map_err(|e| classify(e, "consortium_exists"))?;
    Ok(Consortium {
        id,
        name: new.name.clone(),
        county_code: new.county_code.clone(),
        founded_on: new.founded_on,
        lead_institution_id: None,
        created_at,
    })
}

/// Sets the lead hospital.
pub async fn set_lead(tx: &mut Tx, id: ConsortiumId, lead: InstitutionId) -> Result<(), StoreError> {
    const SQL: &str = "UPDATE consortium SET lead_institution_id = $2 WHERE consortium_id = $1";
    let done = on_tx!(tx, conn => sqlx::query(SQL).bind(id.as_uuid()).bind(lead.as_uuid()).execute(conn).await
        .map(|r| r.rows_affected()))?;
    if done == 0 { Err(StoreError::NotFound) } else { Ok(()) }
}

/// The consortium, if it exists.
pub async fn find(tx: &mut Tx, id: ConsortiumId) -> Result<Option<Consortium>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM consortium WHERE consortium_id = $1");
    let row: Option<Row> =
        on_tx!(tx, conn => sqlx::query_as(&sql).bind(id.as_uuid()).fetch_optional(conn).await)?;
    row.map(Consortium::try_from).transpose()
}

/// The consortium, or [`StoreError::NotFound`].
pub async fn get(tx: &mut Tx, id: ConsortiumId) -> Result<Consortium, StoreError> {
    find(tx, id).await?.ok_or(StoreError::NotFound)
}

/// Every consortium, by name. Deployments hold a handful, so this list is not paged.
pub async fn list(tx: &mut Tx) -> Result<Vec<Consortium>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM consortium ORDER BY name, consortium_id");
    let rows: Vec<Row> = on_tx!(tx, conn => sqlx::query_as(&sql).fetch_all(conn).await)?;
    rows.into_iter().map(Consortium::try_from).collect()
}
