//! The images received by the reading centres: DICOM nodes allowed to send, and the study /
//! series / instance index (the objects are files; `path` says where, relative to the object
//! store's root). Studies are matched to their exam order and to a patient record.

use chrono::{DateTime, Utc};
use uuid::Uuid;
use yigong_domain::ids::{ConsortiumId, InstitutionId, PatientRecordId};
use yigong_domain::reading::{DicomInstance, StudyQuery, has_wildcard, like_pattern};

use crate::{StoreError, Tx, classify, on_tx};

/// The institution a DICOM node (by AE title) sends for, if the node is known.
pub async fn node_institution(
    tx: &mut Tx,
    consortium: ConsortiumId,
    ae_title: &str,
) -> Result<Option<InstitutionId>, StoreError> {
    const SQL: &str = "SELECT institution_id FROM dicom_node WHERE consortium_id = $1 AND ae_title = $2";
    let row: Option<(Uuid,)> = on_tx!(tx, conn => sqlx::query_as(SQL)
        .bind(consortium.as_uuid()).bind(ae_title).fetch_optional(conn).await)?;
    Ok(row.map(|r| InstitutionId::from_uuid(r.0)))
}

/// Registers (or re-points) a DICOM node.
pub async fn put_node(
    tx: &mut Tx,
    consortium: ConsortiumId,
    ae_title: &str,
    institution: InstitutionId,
    description: &str,
    at: DateTime<Utc>,
) -> Result<(), StoreError> {
    const SQL: &str = "INSERT INTO dicom_node (consortium_id, ae_title, institution_id, description, created_at) \
        VALUES ($1, $2, $3, $4, $5) ON CONFLICT (consortium_id, ae_title) \
        DO UPDATE SET institution_id = excluded.institution_id, description = excluded.description";
    on_tx!(tx, conn => sqlx::query(SQL).bind(consortium.as_uuid()).bind(ae_title).bind(institution.as_uuid())
        .bind(description).bind(at).execute(conn).await.map(|_| ()))
    .map_err(|e| classify(e, "dicom_node_exists"))
}

/// The exam order of an accession number, with its patient record.
pub async fn order_by_accession(
    tx: &mut Tx,
    consortium: ConsortiumId,
    accession_no: &str,
) -> Result<Option<(Uuid, PatientRecordId)>, StoreError> {
    const SQL: &str =
        "SELECT order_id, patient_record_id FROM exam_order WHERE consortium_id = $1 AND accession_no = $2";
    let row: Option<(Uuid, Uuid)> = on_tx!(tx, conn => sqlx::query_as(SQL)
        .bind(consortium.as_uuid()).bind(accession_no).fetch_optional(conn).await)?;
    Ok(row.map(|(o, r)| (o, PatientRecordId::from_uuid(r))))
}

/// What the index already holds of an arriving instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Known {
    /// The instance itself is stored.
    pub instance: bool,
    /// Its study is indexed, with the order and patient record it was matched to.
    pub study: Option<(Option<Uuid>, Option<PatientRecordId>)>,
}

/// Whether an instance and its study are already indexed, in one query.
pub async fn known(
    tx: &mut Tx,
    consortium: ConsortiumId,
    study_uid: &str,
    sop_uid: &str,
) -> Result<Known, StoreError> {
    const SQL: &str = "SELECT CASE WHEN EXISTS (SELECT 1 FROM dicom_instance WHERE consortium_id = $1 \
        AND sop_instance_uid = $3) THEN 1 ELSE 0 END, s.order_id, s.patient_record_id, \
        CASE WHEN s.study_uid IS NULL THEN 0 ELSE 1 END \
        FROM (SELECT 1 AS one) AS probe LEFT JOIN dicom_study s ON s.consortium_id = $1 AND s.study_uid = $2";
    let (instance, order, record, study): (i32, Option<Uuid>, Option<Uuid>, i32) = on_tx!(tx, conn => sqlx::query_as(SQL)
        .bind(consortium.as_uuid()).bind(study_uid).bind(sop_uid).fetch_one(conn).await)?;
    Ok(Known {
        instance: instance == 1,
        study: (study == 1).then(|| (order, record.map(PatientRecordId::from_uuid))),
    })
}

/// Where an instance came from and where its file is.
#[derive(Debug, Clone)]
pub struct Stored<'a> {
    /// The attributes read from the object.
    pub instance: &'a DicomInstance,
    /// File path relative to the object store's root.
    pub path: &'a str,
    /// File size.
    pub size: i64,
    /// `dimse` or `stow`.
    pub via: &'a str,
    /// AE title or account.
    pub sender: &'a str,
    /// The institution the images come from (a registered node, the uploading account's).
    pub source_institution: Option<InstitutionId>,
    /// The exam order of its accession number.
    pub order: Option<Uuid>,
    /// The patient record it was matched to.
    pub patient_record: Option<PatientRecordId>,
    /// When.
    pub at: DateTime<Utc>,
}

/// Indexes one instance: its study and series are created or counted, then the instance row.
/// `false` when the instance was already there: the caller drops the transaction, which undoes
/// the counts.
pub async fn insert_instance(
    tx: &mut Tx,
    consortium: ConsortiumId,
    s: &Stored<'_>,
) -> Result<bool, StoreError> {
    let c = consortium.as_uuid();
    let i = s.instance;
    const STUDY: &str = "INSERT INTO dicom_study (consortium_id, study_uid, order_id, patient_record_id, \
        source_institution_id, patient_id, patient_name, birth_date, sex, accession_no, study_date, study_time, \
        description, study_id, referring_physician, modalities, series_count, instance_count, created_at, updated_at) \
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, '', 0, 1, $16, $16) \
        ON CONFLICT (consortium_id, study_uid) \
        DO UPDATE SET instance_count = dicom_study.instance_count + 1, updated_at = excluded.updated_at";
    on_tx!(tx, conn => sqlx::query(STUDY)
        .bind(c).bind(&i.study_uid).bind(s.order).bind(s.patient_record.map(|p| p.as_uuid()))
        .bind(s.source_institution.map(|p| p.as_uuid())).bind(&i.patient_id).bind(&i.patient_name)
        .bind(&i.birth_date).bind(&i.sex).bind(&i.accession_number).bind(&i.study_date).bind(&i.study_time)
        .bind(&i.study_description).bind(&i.study_id).bind(&i.referring_physician).bind(s.at)
        .execute(conn).await.map(|_| ()))?;
    const SERIES: &str = "INSERT INTO dicom_series (consortium_id, series_uid, study_uid, modality, series_number, \
        description, body_part, instance_count) VALUES ($1, $2, $3, $4, $5, $6, $7, 1) \
        ON CONFLICT (consortium_id, series_uid) DO UPDATE SET instance_count = dicom_series.instance_count + 1 \
        RETURNING CAST(instance_count AS BIGINT)";
    let (count,): (i64,) = on_tx!(tx, conn => sqlx::query_as(SERIES)
        .bind(c).bind(&i.series_uid).bind(&i.study_uid).bind(&i.modality).bind(i.series_number)
        .bind(&i.series_description).bind(&i.body_part).fetch_one(conn).await)?;
    const INSTANCE: &str = "INSERT INTO dicom_instance (consortium_id, sop_instance_uid, series_uid, study_uid, \
        sop_class_uid, instance_number, transfer_syntax, frames, rows_count, columns_count, character_set, path, \
        size_bytes, received_via, sender, received_at) \
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) \
        ON CONFLICT (consortium_id, sop_instance_uid) DO NOTHING";
    let inserted = on_tx!(tx, conn => sqlx::query(INSTANCE)
        .bind(c).bind(&i.sop_instance_uid).bind(&i.series_uid).bind(&i.study_uid).bind(&i.sop_class_uid)
        .bind(i.instance_number).bind(&i.transfer_syntax).bind(i.frames.map(i64::from))
        .bind(i.rows.map(i32::from)).bind(i.columns.map(i32::from)).bind(&i.character_set).bind(s.path)
        .bind(s.size).bind(s.via).bind(s.sender).bind(s.at)
        .execute(conn).await.map(|r| r.rows_affected()))?;
    if inserted == 0 {
        return Ok(false);
    }
    // A new series adds one to the study's series and its modality to the study's list.
    if count == 1 {
        const READ: &str = "SELECT modalities FROM dicom_study WHERE consortium_id = $1 AND study_uid = $2";
        let (list,): (String,) =
            on_tx!(tx, conn => sqlx::query_as(READ).bind(c).bind(&i.study_uid).fetch_one(conn).await)?;
        let mut all: Vec<&str> = list.split('\\').filter(|m| !m.is_empty()).collect();
        if !i.modality.is_empty() && !all.contains(&i.modality.as_str()) {
            all.push(&i.modality);
        }
        const NEW_SERIES: &str = "UPDATE dicom_study SET series_count = series_count + 1, modalities = $3 \
            WHERE consortium_id = $1 AND study_uid = $2";
        on_tx!(tx, conn => sqlx::query(NEW_SERIES).bind(c).bind(&i.study_uid).bind(all.join("\\"))
            .execute(conn).await.map(|_| ()))?;
    }
    Ok(true)
}

/// A study as the index keeps it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Study {
    /// Study Instance UID.
    pub study_uid: String,
    /// Its exam order.
    pub order_id: Option<Uuid>,
    /// The patient record it was matched to.
    pub patient_record_id: Option<Uuid>,
    /// The institution it came from.
    pub source_institution_id: Option<Uuid>,
    /// Patient ID.
    pub patient_id: String,
    /// Patient's name (decoded).
    pub patient_name: String,
    /// Birth date.
    pub birth_date: String,
    /// Sex.
    pub sex: String,
    /// Accession number.
    pub accession_no: String,
    /// Study date.
    pub study_date: String,
    /// Study time.
    pub study_time: String,
    /// Description.
    pub description: String,
    /// Study ID.
    pub study_id: String,
    /// Referring physician.
    pub referring_physician: String,
    /// Modalities, `\`-separated.
    pub modalities: String,
    /// Series.
    pub series_count: i64,
    /// Instances.
    pub instance_count: i64,
}

const STUDY_COLUMNS: &str = "study_uid, order_id, patient_record_id, source_institution_id, patient_id, \
    patient_name, birth_date, sex, accession_no, study_date, study_time, description, study_id, \
    referring_physician, modalities, CAST(series_count AS BIGINT) AS series_count, \
    CAST(instance_count AS BIGINT) AS instance_count";

enum Bind {
    Uuid(Uuid),
    Text(String),
    Int(i64),
}

/// Adds `column` matching `value` (exact, or LIKE with wildcards) to `sql`.
fn matching(sql: &mut String, binds: &mut Vec<Bind>, column: &str, value: &str, fold_case: bool) {
    let n = binds.len() + 1;
    if has_wildcard(value) {
        if fold_case {
            sql.push_str(&format!(" AND LOWER({column}) LIKE LOWER(${n}) ESCAPE '\\'"));
        } else {
            sql.push_str(&format!(" AND {column} LIKE ${n} ESCAPE '\\'"));
        }
        binds.push(Bind::Text(like_pattern(value)));
    } else {
        sql.push_str(&format!(" AND {column} = ${n}"));
        binds.push(Bind::Text(value.to_owned()));
    }
}

/// The studies matching `q` in study date order (newest first), within `q.limit`/`q.offset`.
pub async fn search_studies(
    tx: &mut Tx,
    consortium: ConsortiumId,
    q: &StudyQuery,
) -> Result<Vec<Study>, StoreError> {
    let mut binds = vec![Bind::Uuid(consortium.as_uuid())];
    let mut sql = format!("SELECT {STUDY_COLUMNS} FROM dicom_study WHERE consortium_id = $1");
    if !q.study_uids.is_empty() {
        let first = binds.len() + 1;
        let list = (0..q.study_uids.len()).map(|k| format!("${}", first + k)).collect::<Vec<_>>().join(", ");
        sql.push_str(&format!(" AND study_uid IN ({list})"));
        binds.extend(q.study_uids.iter().map(|u| Bind::Text(u.clone())));
    }
    if let Some(v) = &q.patient_id {
        matching(&mut sql, &mut binds, "patient_id", v, false);
    }
    if let Some(v) = &q.accession_no {
        matching(&mut sql, &mut binds, "accession_no", v, false);
    }
    if let Some(v) = &q.patient_name {
        // A name matches in any component group: `*` on both sides of the pattern unless given.
        let pattern = if has_wildcard(v) { v.clone() } else { format!("{v}*") };
        let n = binds.len() + 1;
        sql.push_str(&format!(
            " AND (LOWER(patient_name) LIKE LOWER(${n}) ESCAPE '\\' OR LOWER(patient_name) LIKE LOWER(${}) ESCAPE '\\')",
            n + 1
        ));
        binds.push(Bind::Text(like_pattern(&pattern)));
        binds.push(Bind::Text(format!("%={}", like_pattern(&pattern))));
    }
    if let Some((from, to)) = &q.study_date {
        if let Some(f) = from {
            sql.push_str(&format!(" AND study_date >= ${}", binds.len() + 1));
            binds.push(Bind::Text(f.clone()));
        }
        if let Some(t) = to {
            sql.push_str(&format!(" AND study_date <= ${}", binds.len() + 1));
            binds.push(Bind::Text(t.clone()));
        }
    }
    if let Some(m) = &q.modality {
        sql.push_str(&format!(
            " AND EXISTS (SELECT 1 FROM dicom_series s WHERE s.consortium_id = dicom_study.consortium_id \
             AND s.study_uid = dicom_study.study_uid AND s.modality = ${})",
            binds.len() + 1
        ));
        binds.push(Bind::Text(m.clone()));
    }
    sql.push_str(&format!(
        " ORDER BY study_date DESC, study_time DESC, study_uid LIMIT ${} OFFSET ${}",
        binds.len() + 1,
        binds.len() + 2
    ));
    binds.push(Bind::Int(i64::from(q.limit)));
    binds.push(Bind::Int(i64::from(q.offset)));
    let rows: Vec<Study> = on_tx!(tx, conn => {
        let mut query = sqlx::query_as(&sql);
        for b in &binds {
            query = match b {
                Bind::Uuid(u) => query.bind(*u),
                Bind::Text(t) => query.bind(t.clone()),
                Bind::Int(i) => query.bind(*i),
            };
        }
        query.fetch_all(conn).await
    })?;
    Ok(rows)
}

/// One study.
pub async fn study(
    tx: &mut Tx,
    consortium: ConsortiumId,
    study_uid: &str,
) -> Result<Option<Study>, StoreError> {
    let q = StudyQuery { study_uids: vec![study_uid.to_owned()], limit: 1, ..Default::default() };
    Ok(search_studies(tx, consortium, &q).await?.into_iter().next())
}

/// A series as the index keeps it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Series {
    /// Series Instance UID.
    pub series_uid: String,
    /// Its study.
    pub study_uid: String,
    /// Modality.
    pub modality: String,
    /// Series number.
    pub series_number: Option<i32>,
    /// Description.
    pub description: String,
    /// Body part.
    pub body_part: String,
    /// Instances.
    pub instance_count: i64,
}

/// The series of a study, by series number.
pub async fn series_of(
    tx: &mut Tx,
    consortium: ConsortiumId,
    study_uid: &str,
) -> Result<Vec<Series>, StoreError> {
    const SQL: &str = "SELECT series_uid, study_uid, modality, series_number, description, body_part, \
        CAST(instance_count AS BIGINT) AS instance_count FROM dicom_series \
        WHERE consortium_id = $1 AND study_uid = $2 ORDER BY series_number, series_uid";
    let rows: Vec<Series> = on_tx!(tx, conn => sqlx::query_as(SQL)
        .bind(consortium.as_uuid()).bind(study_uid).fetch_all(conn).await)?;
    Ok(rows)
}

/// An instance as the index keeps it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct InstanceRow {
    /// SOP Instance UID.
    pub sop_instance_uid: String,
    /// Series.
    pub series_uid: String,
    /// Study.
    pub study_uid: String,
    /// SOP Class UID.
    pub sop_class_uid: String,
    /// Instance number.
    pub instance_number: Option<i32>,
    /// Transfer syntax as stored.
    pub transfer_syntax: String,
    /// Frames.
    pub frames: Option<i64>,
    /// Rows.
    pub rows_count: Option<i32>,
    /// Columns.
    pub columns_count: Option<i32>,
    /// File path relative to the object store.
    pub path: String,
    /// File size.
    pub size_bytes: i64,
}

/// The instances of a study (or of one of its series), by series then instance number.
pub async fn instances_of(
    tx: &mut Tx,
    consortium: ConsortiumId,
    study_uid: &str,
    series_uid: Option<&str>,
) -> Result<Vec<InstanceRow>, StoreError> {
    const SQL: &str = "SELECT sop_instance_uid, series_uid, study_uid, sop_class_uid, instance_number, \
        transfer_syntax, CAST(frames AS BIGINT) AS frames, rows_count, columns_count, path, \
        CAST(size_bytes AS BIGINT) AS size_bytes FROM dicom_instance \
        WHERE consortium_id = $1 AND study_uid = $2 AND ($3 IS NULL OR series_uid = $3) \
        ORDER BY series_uid, instance_number, sop_instance_uid";
    let rows: Vec<InstanceRow> = on_tx!(tx, conn => sqlx::query_as(SQL)
        .bind(consortium.as_uuid()).bind(study_uid).bind(series_uid).fetch_all(conn).await)?;
    Ok(rows)
}
