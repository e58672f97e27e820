//! The CapabilityStatement: generated from the same tables the server runs on, so that it
//! says exactly what is served (types, interactions, search parameters, operations).

use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use yigong_fhir::search::{self as fs, ParamType};

/// Parameter types the index answers.
pub(crate) fn searchable(kind: ParamType) -> bool {
    matches!(
        kind,
        ParamType::Token | ParamType::String | ParamType::Date | ParamType::Reference | ParamType::Uri
    )
}

/// Patient parameters answered from the index's columns.
const PATIENT_PARAMS: &[&str] = &["_id", "identifier", "name", "family", "given", "birthdate", "gender"];

/// The statement for a server at `base`.
pub fn capability_statement(base: &str, now: DateTime<Utc>) -> Value {
    let resources: Vec<Value> = fs::served_types()
        .iter()
        .map(|ty| {
            let params: Vec<Value> = fs::params(ty)
                .iter()
                .filter(|p| searchable(p.kind))
                .filter(|p| *ty != "Patient" || PATIENT_PARAMS.contains(&p.code.as_str()) || p.code == "_lastUpdated")
                .filter(|p| !(*ty == "Patient" && p.code == "_lastUpdated"))
                .map(|p| json!({"name": p.code, "definition": p.definition, "type": p.kind.as_str()}))
                .collect();
            let includes: Vec<String> = fs::params(ty)
                .iter()
                .filter(|p| p.kind == ParamType::Reference && *ty != "Patient")
                .map(|p| format!("{ty}:{}", p.code))
                .collect();
            let mut interactions = vec!["read", "vread", "search-type", "history-instance", "create", "update"];
            if *ty != "Patient" {
                interactions.push("delete");
            }
            let mut r = json!({
                "type": ty,
                "interaction": interactions.iter().map(|i| json!({"code": i})).collect::<Vec<_>>(),
                "versioning": "versioned-update",
                "readHistory": true,
                "updateCreate": true,
                "conditionalCreate": true,
                "conditionalRead": "not-supported",
                "conditionalUpdate": false,
                "conditionalDelete": "not-supported",
                "searchParam": params,
            });
            if !includes.is_empty() {
                r["searchInclude"] = json!(includes);
            }
            if *ty == "Patient" {
                r["operation"] = json!([{"name": "match", "definition": "http://hl7.org/fhir/OperationDefinition/Patient-match"}]);
                r["documentation"] = json!("Patients are the master patient index: a Patient sent here is registered and matched; others are projected from the index. Not deleted over FHIR.");
            }
            if matches!(*ty, "Organization" | "Practitioner" | "PractitionerRole") {
                r["documentation"] = json!("Members, departments, staff and postings mirror the consortium's registry and change only there (405 here); others may be written.");
            }
            r
        })
        .collect();
    json!({
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": now.format("%Y-%m-%d").to_string(),
        "publisher": "yigong",
        "kind": "instance",
        "software": {"name": "yigong", "version": env!("CARGO_PKG_VERSION")},
        "implementation": {"description": "yigong county medical consortium: shared health record", "url": base},
        "fhirVersion": "4.0.1",
        "format": ["application/fhir+json", "json"],
        "rest": [{
            "mode": "server",
            "security": {
                "service": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/restful-security-service", "code": "OAuth"}], "text": "Bearer token from POST /api/v1/auth/token"}],
                "description": "Every read and write is authorised by role and scope and audited with its basis."
            },
            "resource": resources,
            "interaction": [{"code": "transaction"}, {"code": "batch"}],
            "searchParam": [
                {"name": "_count", "type": "number"},
                {"name": "_sort", "type": "string", "documentation": "_id, _lastUpdated or the resource's date, - for descending"},
                {"name": "_include", "type": "string"}
            ]
        }]
    })
}
