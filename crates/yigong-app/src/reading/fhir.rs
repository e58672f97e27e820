//! A reading report in the shared record: each signed version is written as the FHIR R4
//! `DiagnosticReport` of its exam item (id = the item's), in the signing transaction, so the
//! patient's record and every FHIR client see the result as soon as it is back at the ordering
//! site. Kept by the workflow: FHIR writers get 405; amendments are new versions.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use uuid::Uuid;
use yigong_domain::reading::Centre;
use yigong_fhir::resource as res;
use yigong_store::Tx;
use yigong_store::fhir::{self as store, ResourceRow};
use yigong_store::reading::{ExamOrder, Report};

use crate::AppError;

/// The registry kind that marks these resources as kept by the reading workflow.
pub const KIND: &str = "reading";
const ACCESSION_SYSTEM: &str = "urn:yigong:accession";
const ITEM_SYSTEM: &str = "urn:yigong:catalogue:exam";
/// Extension carrying the mutual-recognition mark (结果互认 "HR").
pub const HR_EXTENSION: &str = "urn:yigong:fhir:mutual-recognition";
/// Extension carrying the SM3 content hash and the SM2 signature of the version.
pub const SIGNATURE_EXTENSION: &str = "urn:yigong:fhir:report-signature";

fn instant(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.3f+00:00").to_string()
}

/// HL7 v2 table 0074, diagnostic service section.
fn section(centre: Centre) -> (&'static str, &'static str) {
    match centre {
        Centre::Imaging => ("RAD", "Radiology"),
        Centre::Ecg => ("EC", "Electrocardiac"),
        Centre::Lab => ("LAB", "Laboratory"),
        Centre::Pathology => ("SP", "Surgical Pathology"),
    }
}

/// The DiagnosticReport of item `o` as signed in `r`.
pub fn diagnostic_report(o: &ExamOrder, r: &Report) -> Value {
    let field =
        |k: &str| r.content.get("fields").and_then(|f| f.get(k)).and_then(Value::as_str).map(str::to_owned);
    let (code, display) = section(o.centre);
    let mut body = json!({
        "resourceType": "DiagnosticReport",
        "extension": [
            {"url": HR_EXTENSION, "valueBoolean": r.hr},
            {"url": SIGNATURE_EXTENSION, "extension": [
                {"url": "sm3", "valueString": r.content_hash},
                {"url": "sm2", "valueString": r.signature},
            ]},
        ],
        "identifier": [{"system": ACCESSION_SYSTEM, "value": o.accession_no}],
        "status": match r.status.as_str() {
            "preliminary" => "preliminary",
            "amended" => "amended",
            _ => "final",
        },
        "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0074", "code": code, "display": display}]}],
        "code": {
            "coding": [{"system": ITEM_SYSTEM, "code": o.item_code.clone().unwrap_or_else(|| o.kind.as_str().to_owned()), "display": o.item_name}],
            "text": o.item_name,
        },
        "subject": {"reference": format!("Patient/{}", o.patient_record_id.as_uuid())},
        "effectiveDateTime": instant(o.received_at.unwrap_or(o.created_at)),
        "issued": instant(r.signed_at),
        "resultsInterpreter": [{"display": r.author_name}],
    });
    if let Some(i) = r.institution_id.or(o.reading_institution_id) {
        body["performer"] = json!([{"reference": format!("Organization/{}", i.as_uuid())}]);
    }
    let findings = field("findings");
    let impression = field("impression");
    if let Some(c) = &impression {
        body["conclusion"] = json!(c);
    }
    if let Some(f) = findings {
        body["presentedForm"] = json!([{
            "contentType": "text/plain; charset=utf-8",
            "language": "zh-CN",
            "data": base64_text(&format!("{f}\n\n{}", impression.unwrap_or_default())),
            "title": o.item_name,
        }]);
    }
    body
}

fn base64_text(s: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(s.as_bytes())
}

/// Writes the DiagnosticReport of a signed version in the caller's transaction.
pub(super) async fn mirror(
    tx: &mut Tx,
    o: &ExamOrder,
    r: &Report,
    author: Option<Uuid>,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let consortium = o.consortium_id;
    let id = o.id.to_string();
    let mut body = diagnostic_report(o, r);
    let existing = store::get(tx, consortium, "DiagnosticReport", &id).await?;
    let version = existing.as_ref().map_or(1, |e| e.version_id + 1);
    res::set_id_and_meta(&mut body, &id, version, now);
    let index = crate::record::index_rows(&body);
    let row = ResourceRow {
        resource_type: "DiagnosticReport".to_owned(),
        resource_id: id,
        version_id: version,
        last_updated_ms: now.timestamp_millis(),
        deleted: false,
        // The ordering site's: the report is part of the care given there.
        institution_id: Some(o.ordering_institution_id.as_uuid()),
        record_id: Some(o.patient_record_id.as_uuid()),
        occurred_ms: Some(r.signed_at.timestamp_millis()),
        registry_kind: Some(KIND.to_owned()),
        body: Some(serde_json::to_string(&body).expect("a JSON value serialises")),
    };
    let method = if existing.is_some() { "PUT" } else { "POST" };
    let previous = crate::record::previous_index(existing.as_ref());
    store::put(
        tx,
        consortium,
        store::Write { row: &row, method, author, index: &index, previous_index: &previous },
    )
    .await?;
    Ok(())
}
