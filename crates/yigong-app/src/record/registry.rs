//! The registry as FHIR (DESIGN §8.2): an institution or agency is an Organization (its
//! parent by `partOf`), a department an Organization of type `dept` under it, a staff member a
//! Practitioner, a posting a PractitionerRole with its `period` (dispatch postings included).
//! They are written in the same transaction as the registry row they mirror, and refused to
//! FHIR writers (`registry_kind` is set).

use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use yigong_domain::facility::{Department, Institution, InstitutionKind};
use yigong_domain::ids::ConsortiumId;
use yigong_domain::staffing::{Posting, Staff};
use yigong_fhir::resource as res;
use yigong_store::Tx;
use yigong_store::fhir::{self as store, ResourceRow};

use crate::AppError;

/// Identifier system of institution codes.
pub const INSTITUTION_CODE_SYSTEM: &str = "urn:yigong:institution-code";
/// Identifier system of unified social credit codes (GB 32100).
pub const CREDIT_CODE_SYSTEM: &str = "urn:yigong:gb32100";
/// Identifier system of staff codes.
pub const STAFF_CODE_SYSTEM: &str = "urn:yigong:staff-code";
/// Code system of the consortium's tiers, agency kinds and posting sources.
pub const YIGONG_CODES: &str = "urn:yigong:code";

/// A registry row to mirror.
#[derive(Debug, Clone, Copy)]
pub enum Mirror<'a> {
    /// Institution or agency.
    Institution(&'a Institution),
    /// Department.
    Department(&'a Department),
    /// Staff member.
    Staff(&'a Staff),
    /// Posting.
    Posting(&'a Posting),
}

impl Mirror<'_> {
    fn kind(&self) -> &'static str {
        match self {
            Self::Institution(_) => "institution",
            Self::Department(_) => "department",
            Self::Staff(_) => "staff",
            Self::Posting(_) => "posting",
        }
    }

    /// Type, id and body (without `id`/`meta`).
    pub fn resource(&self) -> (&'static str, String, Value) {
        match self {
            Self::Institution(i) => ("Organization", i.id.as_uuid().to_string(), organization(i)),
            Self::Department(d) => ("Organization", d.id.as_uuid().to_string(), department(d)),
            Self::Staff(s) => ("Practitioner", s.id.as_uuid().to_string(), practitioner(s)),
            Self::Posting(p) => ("PractitionerRole", p.id.as_uuid().to_string(), practitioner_role(p)),
        }
    }
}

fn organization(i: &Institution) -> Value {
    let (kind_code, kind_text) = match i.kind {
        InstitutionKind::Member(tier) => (tier.as_str(), "member"),
        InstitutionKind::Agency(agency) => (agency.as_str(), "agency"),
    };
    let mut identifier = vec![json!({"use": "official", "system": INSTITUTION_CODE_SYSTEM, "value": i.code})];
    if let Some(c) = &i.credit_code {
        identifier.push(json!({"system": CREDIT_CODE_SYSTEM, "value": c}));
    }
    let mut org = json!({
        "resourceType": "Organization",
        "identifier": identifier,
        "active": true,
        "type": [{"coding": [{"system": YIGONG_CODES, "code": kind_code}], "text": kind_text}],
        "name": i.name,
    });
    if let Some(a) = &i.address {
        org["address"] = json!([{"text": a, "district": i.division_code.as_str()}]);
    }
    if let Some(parent) = i.parent_id {
        org["partOf"] = json!({"reference": format!("Organization/{}", parent.as_uuid())});
    }
    org
}

fn department(d: &Department) -> Value {
    let mut org = json!({
        "resourceType": "Organization",
        "active": true,
        "type": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/organization-type", "code": "dept", "display": "Hospital Department"}]}],
        "name": d.name,
        "partOf": {"reference": format!("Organization/{}", d.institution_id.as_uuid())},
    });
    if let Some(code) = &d.subject_code {
        org["identifier"] = json!([{"system": "urn:yigong:subject-code", "value": code}]);
    }
    org
}

fn practitioner(s: &Staff) -> Value {
    let mut p = json!({
        "resourceType": "Practitioner",
        "identifier": [{"use": "official", "system": STAFF_CODE_SYSTEM, "value": s.code}],
        "active": true,
        "name": [{"text": s.name}],
    });
    let gender = match s.sex.as_str() {
        "male" => Some("male"),
        "female" => Some("female"),
        "unknown" | "unspecified" => Some("unknown"),
        _ => None,
    };
    if let Some(g) = gender {
        p["gender"] = g.into();
    }
    let mut qualification = Vec::new();
    if let Some(title) = &s.title_name {
        qualification.push(json!({"code": {"text": title}}));
    }
    if let Some(cert) = &s.practice_certificate_no {
        qualification.push(json!({
            "identifier": [{"system": "urn:yigong:practice-certificate", "value": cert}],
            "code": {"text": "医师执业证书"},
        }));
    }
    if !qualification.is_empty() {
        p["qualification"] = Value::Array(qualification);
    }
    p
}

fn practitioner_role(p: &Posting) -> Value {
    let mut period = json!({"start": p.valid_from.format("%Y-%m-%d").to_string()});
    if let Some(to) = p.valid_to {
        period["end"] = to.format("%Y-%m-%d").to_string().into();
    }
    let mut role = json!({
        "resourceType": "PractitionerRole",
        "period": period,
        "practitioner": {"reference": format!("Practitioner/{}", p.staff_id.as_uuid())},
        "organization": {"reference": format!("Organization/{}", p.institution_id.as_uuid())},
        "code": [{"coding": [{"system": YIGONG_CODES, "code": p.source.as_str()}], "text": p.position.clone().unwrap_or_else(|| p.source.as_str().to_owned())}],
    });
    if let Some(d) = p.department_id {
        // The department is an Organization of the registry, named by its id.
        role["specialty"] =
            json!([{"coding": [{"system": "urn:yigong:department", "code": d.as_uuid().to_string()}]}]);
    }
    role
}

fn same_content(a: &Value, b: &Value) -> bool {
    let strip = |v: &Value| {
        let mut v = v.clone();
        if let Some(o) = v.as_object_mut() {
            o.remove("id");
            o.remove("meta");
        }
        v
    };
    strip(a) == strip(b)
}

fn row_for(mirror: &Mirror<'_>, version: i64, now: DateTime<Utc>) -> (ResourceRow, Vec<store::IndexRow>) {
    let (ty, id, mut body) = mirror.resource();
    res::set_id_and_meta(&mut body, &id, version, now);
    let index = super::index_rows(&body);
    let institution = match mirror {
        Mirror::Institution(i) => matches!(i.kind, InstitutionKind::Member(_)).then(|| i.id.as_uuid()),
        Mirror::Department(d) => Some(d.institution_id.as_uuid()),
        Mirror::Staff(s) => Some(s.employer_institution_id.as_uuid()),
        Mirror::Posting(p) => Some(p.institution_id.as_uuid()),
    };
    let row = ResourceRow {
        resource_type: ty.to_owned(),
        resource_id: id,
        version_id: version,
        last_updated_ms: now.timestamp_millis(),
        deleted: false,
        institution_id: institution,
        record_id: None,
        occurred_ms: None,
        registry_kind: Some(mirror.kind().to_owned()),
        body: Some(serde_json::to_string(&body).expect("a JSON value serialises")),
    };
    (row, index)
}

/// Writes the FHIR mirror of one registry row in the caller's transaction: a new version when
/// its content changed, nothing when it did not.
pub(crate) async fn mirror(
    tx: &mut Tx,
    consortium: ConsortiumId,
    mirror: Mirror<'_>,
    author: Option<uuid::Uuid>,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let (ty, id, body) = mirror.resource();
    let existing = store::get(tx, consortium, ty, &id).await?;
    let version = match &existing {
        Some(row) => {
            let old: Value =
                row.body.as_deref().and_then(|b| serde_json::from_str(b).ok()).unwrap_or(Value::Null);
            if same_content(&old, &body) {
                return Ok(());
            }
            row.version_id + 1
        }
        None => 1,
    };
    let (row, index) = row_for(&mirror, version, now);
    let method = if existing.is_some() { "PUT" } else { "POST" };
    let previous = super::previous_index(existing.as_ref());
    store::put(
        tx,
        consortium,
        store::Write { row: &row, method, author, index: &index, previous_index: &previous },
    )
    .await?;
    Ok(())
}

/// Writes the mirrors of a whole organisation loaded at once (all new).
pub(crate) async fn mirror_all(
    tx: &mut Tx,
    consortium: ConsortiumId,
    mirrors: &[Mirror<'_>],
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let rows: Vec<(ResourceRow, Vec<store::IndexRow>)> = mirrors.iter().map(|m| row_for(m, 1, now)).collect();
    store::insert_many(tx, consortium, &rows, None).await?;
    Ok(())
}
