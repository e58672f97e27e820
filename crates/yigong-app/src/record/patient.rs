//! Patient is the master patient index seen through FHIR: a Patient sent over FHIR becomes a
//! record of the index (matched and linked like any registration) and keeps its body; every
//! other record is served as a Patient projected from the values the index holds. Patient
//! search reads the index's own indexed columns.

use std::collections::{BTreeSet, HashMap};

use chrono::NaiveDate;
use serde_json::{Map, Value, json};
use uuid::Uuid;
use yigong_domain::access::Actor;
use yigong_domain::ids::{ConsortiumId, PatientRecordId};
use yigong_fhir::resource::{self as res, OutcomeIssue};
use yigong_fhir::search::{self as fs, QueryValue, TokenSystem};
use yigong_store::Tx;
use yigong_store::fhir::{self as store, PatientQuery, ResourceRow};
use yigong_store::mpi::{self as mpi_store, RecordRow, Values};

use super::query::Parsed;
use super::{FhirError, Owner, Stored};
use crate::mpi::{self, MatchQuery};
use crate::{AppError, Ctx};

/// The identifier system of the resident ID number (WS/T 500 OID `2.16.156.10011.1.3`).
pub const RESIDENT_ID_SYSTEM: &str = "urn:oid:2.16.156.10011.1.3";
/// Prefix of the identifier system of a source's own patient numbers: `urn:yigong:source:CODE`.
pub const SOURCE_SYSTEM_PREFIX: &str = "urn:yigong:source:";

/// The FHIR gender of a sex value as a source wrote it.
fn gender(raw: &str) -> Option<&'static str> {
    match raw.trim() {
        "male" | "1" | "男" | "M" | "m" => Some("male"),
        "female" | "2" | "女" | "F" | "f" => Some("female"),
        "0" | "unknown" | "9" | "unspecified" => Some("unknown"),
        _ => None,
    }
}

/// The raw values that mean `gender`.
fn sex_values(gender: &str) -> Vec<String> {
    let v: &[&str] = match gender {
        "male" => &["male", "1", "男", "M", "m"],
        "female" => &["female", "2", "女", "F", "f"],
        "unknown" => &["0", "unknown", "9", "unspecified"],
        _ => &[],
    };
    v.iter().map(|s| (*s).to_owned()).collect()
}

fn birth_date(raw: &str) -> Option<String> {
    ["%Y-%m-%d", "%Y/%m/%d", "%Y%m%d", "%Y.%m.%d"]
        .iter()
        .find_map(|f| NaiveDate::parse_from_str(raw.trim(), f).ok())
        .map(|d| d.format("%Y-%m-%d").to_string())
}

/// A record of the index as a FHIR Patient.
pub fn projected_patient(
    record: &RecordRow,
    source_code: &str,
    institution: Option<Uuid>,
    version: i64,
    last_updated: chrono::DateTime<chrono::Utc>,
) -> Value {
    let v = &record.values;
    let mut p = Map::new();
    p.insert("resourceType".into(), "Patient".into());
    let mut identifiers = Vec::new();
    if let Some(id) = &v.resident_id {
        identifiers.push(json!({
            "use": "official",
            "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "NI"}], "text": "居民身份证号码"},
            "system": RESIDENT_ID_SYSTEM,
            "value": id,
        }));
    }
    identifiers.push(json!({
        "use": "usual",
        "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "MR"}]},
        "system": format!("{SOURCE_SYSTEM_PREFIX}{source_code}"),
        "value": record.local_id,
    }));
    p.insert("identifier".into(), Value::Array(identifiers));
    let name = match (&v.name, &v.family_name, &v.given_name) {
        (Some(n), _, _) => Some(json!([{"text": n}])),
        (None, Some(f), Some(g)) => Some(json!([{"family": f, "given": [g]}])),
        (None, Some(f), None) => Some(json!([{"family": f}])),
        _ => None,
    };
    if let Some(n) = name {
        p.insert("name".into(), n);
    }
    if let Some(phone) = &v.phone {
        p.insert("telecom".into(), json!([{"system": "phone", "value": phone}]));
    }
    if let Some(g) = v.sex.as_deref().and_then(gender) {
        p.insert("gender".into(), g.into());
    }
    if let Some(b) = v.birth_date.as_deref().and_then(birth_date) {
        p.insert("birthDate".into(), b.into());
    }
    let mut address = Map::new();
    if let Some(a) = &v.address {
        address.insert("text".into(), a.clone().into());
    }
    if let Some(l) = &v.locality {
        address.insert("city".into(), l.clone().into());
    }
    if let Some(code) = &v.village_code {
        address.insert("district".into(), code.clone().into());
    }
    if let Some(pc) = &v.postcode {
        address.insert("postalCode".into(), pc.clone().into());
    }
    if !address.is_empty() {
        p.insert("address".into(), Value::Array(vec![Value::Object(address)]));
    }
    if let Some(i) = institution {
        p.insert("managingOrganization".into(), json!({"reference": format!("Organization/{i}")}));
    }
    let mut value = Value::Object(p);
    res::set_id_and_meta(&mut value, &record.record_id.as_uuid().to_string(), version, last_updated);
    value
}

/// Projection rows for records (with no FHIR body), in the order given.
async fn projections(
    tx: &mut Tx,
    consortium: ConsortiumId,
    records: &[RecordRow],
) -> Result<Vec<ResourceRow>, AppError> {
    let sources: HashMap<Uuid, (String, Option<Uuid>)> = mpi_store::sources(tx, consortium)
        .await?
        .into_iter()
        .map(|s| (s.source_id, (s.code, s.institution_id)))
        .collect();
    Ok(records
        .iter()
        .map(|r| {
            let (code, institution) = sources.get(&r.source_id.as_uuid()).cloned().unwrap_or_default();
            // Version 1 as registered; the index keeps no versions of its own.
            let body = projected_patient(r, &code, institution, 1, r.registered_at);
            ResourceRow {
                resource_type: "Patient".into(),
                resource_id: r.record_id.as_uuid().to_string(),
                version_id: 1,
                last_updated_ms: r.registered_at.timestamp_millis(),
                deleted: false,
                institution_id: institution,
                record_id: Some(r.record_id.as_uuid()),
                occurred_ms: None,
                registry_kind: None,
                body: Some(serde_json::to_string(&body).expect("a JSON value serialises")),
            }
        })
        .collect())
}

/// The Patient rows of these records: the stored body where one was sent, else the projection.
async fn rows_for_records(
    tx: &mut Tx,
    consortium: ConsortiumId,
    records: &[Uuid],
) -> Result<Vec<ResourceRow>, AppError> {
    let stored = store::patient_bodies(tx, consortium, records).await?;
    let with_body: HashMap<Uuid, ResourceRow> =
        stored.into_iter().filter_map(|r| r.record_id.map(|id| (id, r))).collect();
    let missing: Vec<PatientRecordId> = records
        .iter()
        .filter(|r| !with_body.contains_key(r))
        .map(|r| PatientRecordId::from_uuid(*r))
        .collect();
    let rows = mpi_store::records_by_ids(tx, consortium, &missing).await?;
    let mut projected: HashMap<Uuid, ResourceRow> = projections(tx, consortium, &rows)
        .await?
        .into_iter()
        .map(|r| (r.record_id.expect("set"), r))
        .collect();
    let mut with_body = with_body;
    Ok(records.iter().filter_map(|r| with_body.remove(r).or_else(|| projected.remove(r))).collect())
}

/// A Patient that is a record of the index but was never sent over FHIR.
pub(crate) async fn projected_row(
    _ctx: &Ctx,
    tx: &mut Tx,
    consortium: ConsortiumId,
    id: &str,
) -> Result<Option<ResourceRow>, AppError> {
    let Ok(uuid) = Uuid::parse_str(id) else { return Ok(None) };
    let rows = mpi_store::records_by_ids(tx, consortium, &[PatientRecordId::from_uuid(uuid)]).await?;
    Ok(projections(tx, consortium, &rows).await?.into_iter().next())
}

/// Patient rows by FHIR id (for `_include`).
pub(crate) async fn rows_by_ids(
    _ctx: &Ctx,
    tx: &mut Tx,
    consortium: ConsortiumId,
    ids: &[String],
) -> Result<Vec<ResourceRow>, AppError> {
    let mut out = store::get_many(tx, consortium, "Patient", ids).await?;
    let found: BTreeSet<String> = out.iter().map(|r| r.resource_id.clone()).collect();
    let records: Vec<PatientRecordId> = ids
        .iter()
        .filter(|i| !found.contains(*i))
        .filter_map(|i| Uuid::parse_str(i).ok())
        .map(PatientRecordId::from_uuid)
        .collect();
    let rows = mpi_store::records_by_ids(tx, consortium, &records).await?;
    out.extend(projections(tx, consortium, &rows).await?);
    Ok(out)
}

fn unsupported(code: &str) -> FhirError {
    FhirError::Invalid(vec![OutcomeIssue::error(
        "not-supported",
        Some(code.to_owned()),
        format!(
            "Patient search by {code} is not supported yet; use identifier, name, family, given, birthdate, gender or _id"
        ),
    )])
}

/// Patient search over the index's columns.
pub(crate) async fn search_rows(
    _ctx: &Ctx,
    tx: &mut Tx,
    consortium: ConsortiumId,
    parsed: &Parsed,
    limit: i64,
    offset: i64,
) -> Result<Vec<ResourceRow>, FhirError> {
    let mut q = PatientQuery { limit, offset, ..PatientQuery::default() };
    // Identifier and _id narrow to a set of records first (each is an exact lookup).
    let mut narrowed: Option<BTreeSet<Uuid>> = None;
    let mut narrow = |set: BTreeSet<Uuid>| {
        narrowed = Some(match narrowed.take() {
            Some(n) => n.intersection(&set).copied().collect(),
            None => set,
        });
    };
    for (code, raw, modifier) in &parsed.patient {
        if let Some(m) = modifier.as_deref().filter(|m| !matches!(*m, "exact")) {
            return Err(FhirError::Invalid(vec![OutcomeIssue::error(
                "not-supported",
                Some(code.clone()),
                format!("the modifier :{m} is not supported on Patient.{code}"),
            )]));
        }
        let param = fs::param("Patient", code).ok_or_else(|| unsupported(code))?;
        let values = fs::split_values(raw);
        if values.len() != 1 {
            return Err(FhirError::Invalid(vec![OutcomeIssue::error(
                "not-supported",
                Some(code.clone()),
                "several values (a,b) are not supported on Patient search yet",
            )]));
        }
        let value = fs::parse_query_value(param, values[0]).map_err(|e| {
            FhirError::Invalid(vec![OutcomeIssue::error("invalid", Some(code.clone()), e.to_string())])
        })?;
        match (code.as_str(), value) {
            ("_id", QueryValue::Token { code: Some(id), .. }) => {
                narrow(
                    Uuid::parse_str(&id)
                        .ok()
                        .into_iter()
                        .chain(stored_record(tx, consortium, &id).await?)
                        .collect(),
                );
            }
            ("identifier", QueryValue::Token { system, code: Some(value) }) => {
                narrow(identifier_records(tx, consortium, &system, &value).await?);
            }
            ("name" | "family" | "given", QueryValue::String(_)) => {
                // The index keeps names as written (Chinese characters are not case-folded).
                q.name = Some(values[0].trim().to_owned());
            }
            ("birthdate", QueryValue::Date { prefix: fs::Prefix::Eq, period }) => {
                let from = period.start.with_timezone(&fs::china_time()).date_naive();
                let to = (period.end - chrono::Duration::milliseconds(1))
                    .with_timezone(&fs::china_time())
                    .date_naive();
                q.birth_between =
                    Some((from.format("%Y-%m-%d").to_string(), to.format("%Y-%m-%d").to_string()));
            }
            ("gender", QueryValue::Token { code: Some(g), .. }) => {
                q.sex_in = Some(sex_values(&g));
            }
            _ => return Err(unsupported(code)),
        }
    }
    if let Some(set) = narrowed {
        if set.is_empty() {
            return Ok(Vec::new());
        }
        q.records = Some(set.into_iter().collect());
    }
    let records = store::search_patients(tx, consortium, &q).await?;
    Ok(rows_for_records(tx, consortium, &records).await?)
}

async fn stored_record(tx: &mut Tx, consortium: ConsortiumId, id: &str) -> Result<Option<Uuid>, AppError> {
    Ok(store::get(tx, consortium, "Patient", id).await?.filter(|r| !r.deleted).and_then(|r| r.record_id))
}

/// The records an identifier names: the resident ID, a source's own number, or any other
/// identifier a Patient sent over FHIR carries.
async fn identifier_records(
    tx: &mut Tx,
    consortium: ConsortiumId,
    system: &TokenSystem,
    value: &str,
) -> Result<BTreeSet<Uuid>, AppError> {
    let mut out = BTreeSet::new();
    let by_resident = |q: &mut PatientQuery| q.resident_id = Some(value.to_uppercase());
    let mut lookups: Vec<PatientQuery> = Vec::new();
    match system {
        TokenSystem::Is(s) if s == RESIDENT_ID_SYSTEM => {
            let mut q = PatientQuery { limit: 1000, ..PatientQuery::default() };
            by_resident(&mut q);
            lookups.push(q);
        }
        TokenSystem::Is(s) if s.starts_with(SOURCE_SYSTEM_PREFIX) => {
            let code = &s[SOURCE_SYSTEM_PREFIX.len()..];
            if let Some(source) = mpi_store::source_by_code(tx, consortium, code).await? {
                lookups.push(PatientQuery {
                    local_id: Some((Some(source.source_id), value.to_owned())),
                    limit: 1000,
                    ..PatientQuery::default()
                });
            }
        }
        TokenSystem::Any => {
            let mut q = PatientQuery { limit: 1000, ..PatientQuery::default() };
            by_resident(&mut q);
            lookups.push(q);
            lookups.push(PatientQuery {
                local_id: Some((None, value.to_owned())),
                limit: 1000,
                ..PatientQuery::default()
            });
        }
        _ => {}
    }
    for q in &lookups {
        out.extend(store::search_patients(tx, consortium, q).await?);
    }
    // Identifiers of Patients sent over FHIR, any system.
    let (token_system, code) = match system {
        TokenSystem::Any => (None, value.to_owned()),
        TokenSystem::Absent => (Some(String::new()), value.to_owned()),
        TokenSystem::Is(s) => (Some(s.clone()), value.to_owned()),
    };
    let query = store::Query {
        resource_type: "Patient".into(),
        conditions: vec![store::Condition::Token {
            param: "identifier".into(),
            system: token_system,
            code: Some(code),
        }],
        sort: vec![(store::SortKey::Id, false)],
        limit: 1000,
        offset: 0,
    };
    out.extend(store::search(tx, consortium, &query).await?.into_iter().filter_map(|r| r.record_id));
    Ok(out)
}

/// The index values of a Patient sent over FHIR.
fn values_of(patient: &Value, today: NaiveDate) -> Values {
    let s = |v: Option<&Value>| {
        v.and_then(Value::as_str).map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned)
    };
    let names = patient.get("name").and_then(Value::as_array).cloned().unwrap_or_default();
    let name = names
        .iter()
        .find(|n| n.get("use").and_then(Value::as_str) == Some("official"))
        .or_else(|| names.first())
        .cloned()
        .unwrap_or(Value::Null);
    let family = s(name.get("family"));
    let given: Vec<String> = name
        .get("given")
        .and_then(Value::as_array)
        .map(|g| g.iter().filter_map(|x| x.as_str().map(str::to_owned)).collect())
        .unwrap_or_default();
    let given = (!given.is_empty()).then(|| given.join(" "));
    let cjk = |t: &str| t.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c));
    let full = s(name.get("text")).or_else(|| match (&family, &given) {
        (Some(f), Some(g)) if cjk(f) => Some(format!("{f}{}", g.replace(' ', ""))),
        (Some(f), Some(g)) => Some(format!("{g} {f}")),
        (Some(f), None) => Some(f.clone()),
        (None, Some(g)) => Some(g.clone()),
        (None, None) => None,
    });
    let identifiers = patient.get("identifier").and_then(Value::as_array).cloned().unwrap_or_default();
    let resident_id = identifiers
        .iter()
        .find(|i| i.get("system").and_then(Value::as_str) == Some(RESIDENT_ID_SYSTEM))
        .and_then(|i| s(i.get("value")))
        .map(|v| v.to_uppercase());
    let phone = patient
        .get("telecom")
        .and_then(Value::as_array)
        .and_then(|t| t.iter().find(|c| c.get("system").and_then(Value::as_str) == Some("phone")))
        .and_then(|c| s(c.get("value")));
    let address = patient.get("address").and_then(|a| a.get(0)).cloned().unwrap_or(Value::Null);
    let lines: Vec<String> = address
        .get("line")
        .and_then(Value::as_array)
        .map(|l| l.iter().filter_map(|x| x.as_str().map(str::to_owned)).collect())
        .unwrap_or_default();
    Values {
        name: full,
        sex: s(patient.get("gender")),
        birth_date: s(patient.get("birthDate")),
        resident_id_status: mpi::resident_id_status(resident_id.as_deref(), today),
        resident_id,
        phone,
        family_name: family,
        given_name: given,
        address: s(address.get("text")).or_else(|| (!lines.is_empty()).then(|| lines.join(" "))),
        locality: s(address.get("city")),
        postcode: s(address.get("postalCode")),
        region: s(address.get("state")),
        ..Values::default()
    }
}

/// Registers (or re-registers) a Patient sent over FHIR in the index, inside the write's
/// transaction: a new record at the acting institution's source, matched and linked.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn register_in(
    ctx: &Ctx,
    tx: &mut Tx,
    actor: &Actor,
    id: &str,
    patient: &Value,
    existing: Option<&ResourceRow>,
    owner: Owner,
    model: Option<&yigong_mpi::Model>,
) -> Result<Owner, FhirError> {
    let consortium = actor.consortium_id;
    let now = ctx.clock.now();
    let values = values_of(patient, now.date_naive());
    if let Some(record) = existing.and_then(|r| r.record_id) {
        let rows = mpi_store::records_by_ids(tx, consortium, &[PatientRecordId::from_uuid(record)]).await?;
        if let Some(row) = rows.into_iter().next() {
            let row = RecordRow { content_hash: mpi::content_hash(&values, row.verified), values, ..row };
            mpi_store::update_record_values(tx, consortium, &row, now).await?;
        }
        return Ok(owner);
    }
    let Some(institution) = owner.institution else {
        return Err(AppError::Forbidden { code: "no_acting_institution" }.into());
    };
    let source = mpi::institution_source(tx, consortium, institution, now).await?;
    let record_id = match Uuid::parse_str(id) {
        Ok(u)
            if mpi_store::records_by_ids(tx, consortium, &[PatientRecordId::from_uuid(u)])
                .await?
                .is_empty() =>
        {
            PatientRecordId::from_uuid(u)
        }
        _ => PatientRecordId::new_v7(),
    };
    let row = RecordRow {
        record_id,
        source_id: source,
        local_id: id.to_owned(),
        content_hash: mpi::content_hash(&values, false),
        values,
        verified: false,
        registered_at: now,
        registered_by: Some(actor.user_id),
    };
    let Some(model) = model else {
        return Err(AppError::Store(yigong_store::StoreError::Config(
            "no matching model was loaded for a Patient write".into(),
        ))
        .into());
    };
    let linked = mpi::link_new_record(
        ctx,
        tx,
        consortium,
        model,
        &row,
        mpi::RegistrarChoice::Automatic,
        Some(actor.user_id),
        now,
    )
    .await?;
    Ok(Owner {
        institution: Some(institution),
        record: Some(record_id.as_uuid()),
        person: Some(linked.person_id),
    })
}

/// One result of `Patient/$match`.
#[derive(Debug, Clone)]
pub struct PatientMatch {
    /// The best record of the matched person, as a Patient.
    pub patient: Stored,
    /// Score in [0, 1] (the match weight mapped onto the bands).
    pub score: f64,
    /// `certain` (auto-link band) or `possible` (review band).
    pub grade: &'static str,
}

/// `Patient/$match`: scores the Patient in `parameters` against the index (nothing stored).
pub async fn match_patients(
    ctx: &Ctx,
    actor: &Actor,
    parameters: &Value,
) -> Result<Vec<PatientMatch>, FhirError> {
    super::gate(ctx, actor, "Patient", yigong_domain::access::Permission::PatientRead, "match").await?;
    let patient = match parameters.get("resourceType").and_then(Value::as_str) {
        Some("Parameters") => parameters
            .get("parameter")
            .and_then(Value::as_array)
            .and_then(|ps| ps.iter().find(|p| p.get("name").and_then(Value::as_str) == Some("resource")))
            .and_then(|p| p.get("resource"))
            .cloned(),
        Some("Patient") => Some(parameters.clone()),
        _ => None,
    };
    let Some(patient) = patient else {
        return Err(FhirError::Invalid(vec![OutcomeIssue::error(
            "required",
            Some("Parameters.parameter".into()),
            "$match needs a Parameters resource with a `resource` parameter holding a Patient",
        )]));
    };
    super::validate(&patient, "Patient")?;
    let values = values_of(&patient, ctx.clock.now().date_naive());
    let query = MatchQuery {
        name: values.name,
        sex: values.sex,
        birth_date: values.birth_date,
        resident_id: values.resident_id,
        phone: values.phone,
        ..MatchQuery::default()
    };
    let matches = mpi::match_only(ctx, actor, &query).await?;
    let mut tx = ctx.db.begin().await?;
    let records: Vec<RecordRow> = matches.iter().map(|m| m.record.clone()).collect();
    let ids: Vec<Uuid> = records.iter().map(|r| r.record_id.as_uuid()).collect();
    let rows = rows_for_records(&mut tx, actor.consortium_id, &ids).await?;
    tx.commit().await?;
    let by_record: HashMap<Uuid, ResourceRow> =
        rows.into_iter().filter_map(|r| r.record_id.map(|id| (id, r))).collect();
    Ok(matches
        .iter()
        .filter_map(|m| {
            let row = by_record.get(&m.record.record_id.as_uuid())?;
            let certain = m.result.band == yigong_mpi::Band::AutoLink;
            // A logistic map of the log2 weight: 0.5 at 0 bits, ≈ 0.999 at 10.
            let score = 1.0 / (1.0 + (-m.result.score * std::f64::consts::LN_2).exp());
            Some(PatientMatch {
                patient: Stored::from_row(row),
                score: (score * 1000.0).round() / 1000.0,
                grade: if certain { "certain" } else { "possible" },
            })
        })
        .collect())
}
