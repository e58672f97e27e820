//! The referral as FHIR R4: a `ServiceRequest` (the order: who refers whom where, why, with the
//! patient's consent) and a `Task` (its fulfilment: the workflow state), written in the step's
//! transaction so that `/fhir` always shows the referral as it stands. They are kept by the
//! workflow: FHIR clients read and search them; writes go through `/api/v1/referrals`.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use uuid::Uuid;
use yigong_domain::referral::{Direction, Priority, State};
use yigong_fhir::resource as res;
use yigong_store::Tx;
use yigong_store::fhir::{self as store, ResourceRow};
use yigong_store::referral::Referral;

use crate::AppError;

/// The registry kind that marks these resources as kept by the workflow.
pub const KIND: &str = "referral";
const SLIP_SYSTEM: &str = "urn:yigong:referral-slip";
const STATE_SYSTEM: &str = "urn:yigong:referral-state";
const REASON_SYSTEM: &str = "urn:yigong:referral-reason";
const ICD10_SYSTEM: &str = "urn:oid:2.16.156.10011.2.3.3.11";

/// The Task's id: the referral's with a suffix, stable and a valid FHIR id (≤ 64 characters).
pub fn task_id(referral: Uuid) -> String {
    format!("{referral}-task")
}

fn priority(p: Priority) -> &'static str {
    match p {
        Priority::Routine => "routine",
        Priority::Urgent => "urgent",
        Priority::Green => "stat",
    }
}

fn request_status(s: State) -> &'static str {
    match s {
        State::Draft => "draft",
        State::Closed | State::SentOut => "completed",
        State::Rejected | State::Cancelled | State::Expired | State::NoShow => "revoked",
        _ => "active",
    }
}

fn task_status(s: State) -> &'static str {
    match s {
        State::Draft => "draft",
        State::Submitted => "requested",
        State::Accepted => "accepted",
        State::Scheduled => "ready",
        State::Arrived | State::InCare => "in-progress",
        State::Completed | State::Closed | State::SentOut => "completed",
        State::Rejected => "rejected",
        State::Cancelled => "cancelled",
        State::Expired | State::NoShow => "failed",
    }
}

fn instant(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.3f+00:00").to_string()
}

/// The ServiceRequest and the Task of a referral.
pub fn resources(r: &Referral) -> [(&'static str, String, Value); 2] {
    let patient = json!({"reference": format!("Patient/{}", r.patient_record_id.as_uuid())});
    let from = json!({"reference": format!("Organization/{}", r.from_institution_id.as_uuid())});
    let to = match (r.to_institution_id, &r.external_institution) {
        (Some(i), _) => json!({"reference": format!("Organization/{}", i.as_uuid())}),
        (None, Some(name)) => json!({"display": name}),
        (None, None) => json!({"display": "—"}),
    };
    let identifier = json!([{"system": SLIP_SYSTEM, "value": r.slip_no}]);
    let authored = instant(r.submitted_at.unwrap_or(r.created_at));
    let mut reason = vec![
        json!({"coding": [{"system": REASON_SYSTEM, "code": r.reason}], "text": r.reason_text.clone().unwrap_or_else(|| r.reason.clone())}),
    ];
    if let Some(diagnoses) = r.slip.get("diagnoses").and_then(Value::as_array) {
        for d in diagnoses {
            if let (Some(code), Some(name)) = (d["code"].as_str(), d["name"].as_str()) {
                reason.push(json!({"coding": [{"system": ICD10_SYSTEM, "code": code, "display": name}], "text": name}));
            }
        }
    }
    let direction = match r.direction {
        Direction::Upward => "上转",
        Direction::Downward => "下转",
    };
    let mut request = json!({
        "resourceType": "ServiceRequest",
        "extension": [{"url": "urn:yigong:fhir:referral-consent", "valueBoolean": r.consent}],
        "identifier": identifier,
        "status": request_status(r.state),
        "intent": "order",
        "category": [{"coding": [{"system": "http://snomed.info/sct", "code": "3457005", "display": "Patient referral"}]}],
        "priority": priority(r.priority),
        "code": {"coding": [{"system": "urn:yigong:referral-direction", "code": r.direction.as_str()}], "text": direction},
        "subject": patient,
        "authoredOn": authored,
        "requester": from,
        "performer": [to],
        "reasonCode": reason,
    });
    if let Some(condition) = r.slip.get("condition").and_then(Value::as_str) {
        request["note"] = json!([{"text": condition}]);
    }
    if let Some(p) = r.parent_id {
        request["basedOn"] = json!([{"reference": format!("ServiceRequest/{p}")}]);
    }
    let mut task = json!({
        "resourceType": "Task",
        "identifier": identifier,
        "basedOn": [{"reference": format!("ServiceRequest/{}", r.id)}],
        "status": task_status(r.state),
        "businessStatus": {"coding": [{"system": STATE_SYSTEM, "code": r.state.as_str()}], "text": r.state.as_str()},
        "intent": "order",
        "priority": priority(r.priority),
        "focus": {"reference": format!("ServiceRequest/{}", r.id)},
        "for": patient,
        "authoredOn": authored,
        "lastModified": instant(r.updated_at),
        "requester": from,
        "owner": to,
    });
    if let Some(slot) = r.slot_at {
        task["restriction"] = json!({"period": {"start": instant(slot)}});
    }
    if matches!(r.state, State::Rejected | State::Cancelled) {
        task["statusReason"] = json!({"text": r.state.as_str()});
    }
    [("ServiceRequest", r.id.to_string(), request), ("Task", task_id(r.id), task)]
}

/// Writes the current ServiceRequest and Task of `r` in the caller's transaction.
pub(super) async fn mirror(
    tx: &mut Tx,
    r: &Referral,
    author: Option<Uuid>,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let consortium = r.consortium_id;
    for (ty, id, mut body) in resources(r) {
        let existing = store::get(tx, consortium, ty, &id).await?;
        let version = existing.as_ref().map_or(1, |e| e.version_id + 1);
        res::set_id_and_meta(&mut body, &id, version, now);
        let index = crate::record::index_rows(&body);
        let row = ResourceRow {
            resource_type: ty.to_owned(),
            resource_id: id,
            version_id: version,
            last_updated_ms: now.timestamp_millis(),
            deleted: false,
            institution_id: Some(r.from_institution_id.as_uuid()),
            record_id: Some(r.patient_record_id.as_uuid()),
            occurred_ms: Some(r.submitted_at.unwrap_or(r.created_at).timestamp_millis()),
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
    }
    Ok(())
}
