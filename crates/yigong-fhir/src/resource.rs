//! What the server needs to know about a resource beyond its structure: the patient it is
//! about, its id and `meta`, references and their rewriting, and a one-line summary for the
//! patient timeline.

use std::collections::HashMap;

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Map, Value};

/// The element naming the patient a resource of `resource_type` is about, if the type has one.
pub fn patient_element(resource_type: &str) -> Option<&'static str> {
    match resource_type {
        "Encounter" | "Condition" | "Observation" | "DiagnosticReport" | "ServiceRequest"
        | "MedicationRequest" | "DocumentReference" => Some("subject"),
        "Task" => Some("for"),
        "AllergyIntolerance" => Some("patient"),
        _ => None,
    }
}

/// The reference text of the patient element (`Patient/123`), if present.
pub fn patient_reference(resource: &Value) -> Option<&str> {
    let ty = resource.get("resourceType")?.as_str()?;
    resource.get(patient_element(ty)?)?.get("reference")?.as_str()
}

/// A literal reference split into type and id: `Patient/123`, `Patient/123/_history/2`, or an
/// absolute URL ending in one of those. `None` for `urn:` and contained (`#x`) references.
pub fn parse_reference(reference: &str) -> Option<(&str, &str)> {
    if reference.starts_with('#') || reference.starts_with("urn:") {
        return None;
    }
    let path = reference.split(['?', '#']).next()?;
    let mut parts: Vec<&str> = path.split('/').collect();
    if parts.len() >= 4 && parts[parts.len() - 2] == "_history" {
        parts.truncate(parts.len() - 2);
    }
    let n = parts.len();
    if n < 2 {
        return None;
    }
    let (ty, id) = (parts[n - 2], parts[n - 1]);
    let is_type = ty.chars().next().is_some_and(|c| c.is_ascii_uppercase())
        && ty.chars().all(|c| c.is_ascii_alphanumeric());
    (is_type && is_valid_id(id)).then_some((ty, id))
}

/// Whether `id` is a FHIR id: 1–64 of `A-Z a-z 0-9 - .`.
pub fn is_valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
}

/// An instant as FHIR writes it, in UTC with milliseconds: `2026-11-25T02:03:04.567Z`.
pub fn instant(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Sets `id`, `meta.versionId` and `meta.lastUpdated`, keeping every other element of `meta`
/// (profiles, tags, security labels) and the order of the resource's elements.
pub fn set_id_and_meta(resource: &mut Value, id: &str, version: i64, last_updated: DateTime<Utc>) {
    let Some(obj) = resource.as_object_mut() else { return };
    let meta = match obj.remove("meta") {
        Some(Value::Object(mut m)) => {
            m.insert("versionId".into(), Value::String(version.to_string()));
            m.insert("lastUpdated".into(), Value::String(instant(last_updated)));
            m
        }
        _ => {
            let mut m = Map::new();
            m.insert("versionId".into(), Value::String(version.to_string()));
            m.insert("lastUpdated".into(), Value::String(instant(last_updated)));
            m
        }
    };
    // `resourceType`, `id`, `meta` first, as the specification's examples write them.
    let rest: Vec<(String, Value)> = std::mem::take(obj).into_iter().filter(|(k, _)| k != "id").collect();
    let mut out = Map::new();
    for (k, v) in rest.iter().filter(|(k, _)| k == "resourceType") {
        out.insert(k.clone(), v.clone());
    }
    out.insert("id".into(), Value::String(id.to_owned()));
    out.insert("meta".into(), Value::Object(meta));
    for (k, v) in rest.into_iter().filter(|(k, _)| k != "resourceType") {
        out.insert(k, v);
    }
    *obj = out;
}

/// Replaces every `reference` found in `map` (e.g. `urn:uuid:…` → `Patient/…`) anywhere in
/// `value`, contained resources included; returns how many were replaced.
pub fn rewrite_references(value: &mut Value, map: &HashMap<String, String>) -> usize {
    match value {
        Value::Object(obj) => {
            let mut n = 0;
            for (k, v) in obj.iter_mut() {
                if k == "reference"
                    && let Value::String(s) = v
                    && let Some(new) = map.get(s.as_str())
                {
                    *s = new.clone();
                    n += 1;
                } else {
                    n += rewrite_references(v, map);
                }
            }
            n
        }
        Value::Array(items) => items.iter_mut().map(|v| rewrite_references(v, map)).sum(),
        _ => 0,
    }
}

/// Every `reference` text in `value` (contained resources included).
pub fn references(value: &Value) -> Vec<&str> {
    let mut out = Vec::new();
    collect_references(value, &mut out);
    out
}

fn collect_references<'a>(value: &'a Value, out: &mut Vec<&'a str>) {
    match value {
        Value::Object(obj) => {
            for (k, v) in obj {
                match v {
                    Value::String(s) if k == "reference" => out.push(s),
                    _ => collect_references(v, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| collect_references(v, out)),
        _ => {}
    }
}

/// One issue of an OperationOutcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutcomeIssue {
    /// `fatal`, `error`, `warning` or `information`.
    pub severity: &'static str,
    /// FHIR issue type (`invalid`, `structure`, `required`, `value`, `not-found`, …).
    pub code: &'static str,
    /// Where: a FHIRPath expression such as `Patient.birthDate`.
    pub expression: Option<String>,
    /// What is wrong, for a person.
    pub diagnostics: String,
}

impl OutcomeIssue {
    /// An error of type `code`.
    pub fn error(code: &'static str, expression: Option<String>, diagnostics: impl Into<String>) -> Self {
        Self { severity: "error", code, expression, diagnostics: diagnostics.into() }
    }
}

/// An OperationOutcome with these issues.
pub fn operation_outcome(issues: &[OutcomeIssue]) -> Value {
    let issues: Vec<Value> = issues
        .iter()
        .map(|i| {
            let mut m = Map::new();
            m.insert("severity".into(), i.severity.into());
            m.insert("code".into(), i.code.into());
            m.insert("diagnostics".into(), i.diagnostics.clone().into());
            if let Some(e) = &i.expression {
                m.insert("expression".into(), Value::Array(vec![e.clone().into()]));
            }
            Value::Object(m)
        })
        .collect();
    let mut m = Map::new();
    m.insert("resourceType".into(), "OperationOutcome".into());
    m.insert("issue".into(), Value::Array(issues));
    Value::Object(m)
}

/// A one-line description of a resource for a timeline tile.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    /// What it is: the code's text or display (`高血压`, `Blood pressure`).
    pub title: Option<String>,
    /// Its value or detail (`142/91 mmHg`, `硝苯地平缓释片 10mg`, the class of an encounter).
    pub detail: Option<String>,
    /// Status (`finished`, `final`, `active`).
    pub status: Option<String>,
    /// Interpretation flag of an observation (`H`, `L`, `N`, …).
    pub flag: Option<String>,
    /// Attachment of a document: content type and title.
    pub attachment: Option<(String, Option<String>)>,
}

/// The text of a CodeableConcept: its `text`, else the first coding's display, else its code.
pub fn concept_text(concept: &Value) -> Option<String> {
    if let Some(t) = concept.get("text").and_then(Value::as_str) {
        return Some(t.to_owned());
    }
    let codings = concept.get("coding")?.as_array()?;
    codings
        .iter()
        .find_map(|c| c.get("display").and_then(Value::as_str))
        .or_else(|| codings.iter().find_map(|c| c.get("code").and_then(Value::as_str)))
        .map(str::to_owned)
}

fn first_concept_text(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::Array(items) => items.iter().find_map(concept_text),
        other => concept_text(other),
    }
}

/// A Quantity as text: value as written, then the unit.
pub fn quantity_text(q: &Value) -> Option<String> {
    let value = match q.get("value")? {
        Value::Number(n) => n.to_string(),
        _ => return None,
    };
    let unit = q.get("unit").or_else(|| q.get("code")).and_then(Value::as_str).unwrap_or_default();
    Some(if unit.is_empty() { value } else { format!("{value} {unit}") })
}

fn observation_value(obs: &Value) -> Option<String> {
    if let Some(q) = obs.get("valueQuantity") {
        return quantity_text(q);
    }
    if let Some(c) = obs.get("valueCodeableConcept") {
        return concept_text(c);
    }
    if let Some(s) = obs.get("valueString").and_then(Value::as_str) {
        return Some(s.to_owned());
    }
    // Blood pressure and other panels: the components' values, joined.
    let parts: Vec<String> = obs
        .get("component")?
        .as_array()?
        .iter()
        .filter_map(|c| c.get("valueQuantity").and_then(|q| q.get("value")).map(|v| v.to_string()))
        .collect();
    if parts.is_empty() {
        return None;
    }
    let unit = obs
        .get("component")
        .and_then(|c| c.get(0))
        .and_then(|c| c.get("valueQuantity"))
        .and_then(|q| q.get("unit").or_else(|| q.get("code")))
        .and_then(Value::as_str)
        .unwrap_or_default();
    Some(format!("{} {unit}", parts.join("/")).trim_end().to_owned())
}

/// The summary of a resource for the timeline.
pub fn summary(resource: &Value) -> Summary {
    let ty = resource.get("resourceType").and_then(Value::as_str).unwrap_or_default();
    let status = resource.get("status").and_then(Value::as_str).map(str::to_owned);
    let mut s = Summary { status, ..Summary::default() };
    match ty {
        "Encounter" => {
            s.title = first_concept_text(resource.get("type"))
                .or_else(|| first_concept_text(resource.get("reasonCode")));
            s.detail = resource
                .get("class")
                .and_then(|c| c.get("display").or_else(|| c.get("code")))
                .and_then(Value::as_str)
                .map(str::to_owned);
        }
        "Condition" | "AllergyIntolerance" => {
            s.title = first_concept_text(resource.get("code"));
            s.detail = first_concept_text(resource.get("category"));
            if ty == "Condition" {
                s.status = first_concept_text(resource.get("clinicalStatus")).or(s.status);
            } else {
                s.detail = resource.get("criticality").and_then(Value::as_str).map(str::to_owned);
            }
        }
        "Observation" => {
            s.title = first_concept_text(resource.get("code"));
            s.detail = observation_value(resource);
            s.flag = resource
                .get("interpretation")
                .and_then(|i| i.get(0))
                .and_then(|c| c.get("coding"))
                .and_then(|c| c.get(0))
                .and_then(|c| c.get("code"))
                .and_then(Value::as_str)
                .map(str::to_owned);
        }
        "DiagnosticReport" => {
            s.title = first_concept_text(resource.get("code"));
            s.detail = resource.get("conclusion").and_then(Value::as_str).map(str::to_owned);
        }
        "MedicationRequest" => {
            s.title = first_concept_text(resource.get("medicationCodeableConcept"));
            s.detail = resource
                .get("dosageInstruction")
                .and_then(|d| d.get(0))
                .and_then(|d| d.get("text"))
                .and_then(Value::as_str)
                .map(str::to_owned);
        }
        "ServiceRequest" | "Task" => {
            s.title = first_concept_text(resource.get("code"));
            s.detail = resource.get("priority").and_then(Value::as_str).map(str::to_owned);
        }
        "DocumentReference" => {
            s.title = first_concept_text(resource.get("type"));
            s.detail = resource.get("description").and_then(Value::as_str).map(str::to_owned);
            if let Some(att) =
                resource.get("content").and_then(|c| c.get(0)).and_then(|c| c.get("attachment"))
            {
                let ct = att.get("contentType").and_then(Value::as_str).unwrap_or("application/octet-stream");
                let title = att.get("title").and_then(Value::as_str).map(str::to_owned);
                s.attachment = Some((ct.to_owned(), title));
            }
        }
        _ => {}
    }
    s
}

/// How a Bundle is to be processed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BundleKind {
    /// All or nothing.
    Transaction,
    /// Each entry on its own.
    Batch,
}

/// The HTTP verb of a Bundle entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Method {
    /// Processed first (R4 §3.1.0.11.2).
    Delete,
    /// Then creates.
    Post,
    /// Then updates.
    Put,
    /// Reads last.
    Get,
}

/// One request of a Bundle.
#[derive(Debug, Clone, PartialEq)]
pub struct BundleEntry {
    /// Position in the Bundle.
    pub index: usize,
    /// `fullUrl` (for `urn:uuid:` identities).
    pub full_url: Option<String>,
    /// The resource to create or update.
    pub resource: Option<Value>,
    /// Verb.
    pub method: Method,
    /// Relative URL (`Patient`, `Patient/123`, `Patient?identifier=…`).
    pub url: String,
    /// `request.ifNoneExist` (conditional create).
    pub if_none_exist: Option<String>,
    /// `request.ifMatch` (version-aware update).
    pub if_match: Option<String>,
}

/// Reads a transaction or batch Bundle (already structurally valid) into its requests, or the
/// issues that make it unprocessable.
pub fn bundle_requests(bundle: &Value) -> Result<(BundleKind, Vec<BundleEntry>), Vec<OutcomeIssue>> {
    let kind = match bundle.get("type").and_then(Value::as_str) {
        Some("transaction") => BundleKind::Transaction,
        Some("batch") => BundleKind::Batch,
        other => {
            return Err(vec![OutcomeIssue::error(
                "invalid",
                Some("Bundle.type".into()),
                format!("only transaction and batch Bundles can be posted to the base URL (got {other:?})"),
            )]);
        }
    };
    let mut issues = Vec::new();
    let mut out = Vec::new();
    let empty = Vec::new();
    let entries = bundle.get("entry").and_then(Value::as_array).unwrap_or(&empty);
    for (index, e) in entries.iter().enumerate() {
        let path = format!("Bundle.entry[{index}]");
        let Some(request) = e.get("request") else {
            issues.push(OutcomeIssue::error(
                "required",
                Some(format!("{path}.request")),
                "each entry needs a request",
            ));
            continue;
        };
        let method = match request.get("method").and_then(Value::as_str) {
            Some("GET") => Method::Get,
            Some("POST") => Method::Post,
            Some("PUT") => Method::Put,
            Some("DELETE") => Method::Delete,
            other => {
                issues.push(OutcomeIssue::error(
                    "not-supported",
                    Some(format!("{path}.request.method")),
                    format!("method {other:?} is not supported here (GET, POST, PUT, DELETE)"),
                ));
                continue;
            }
        };
        let url =
            request.get("url").and_then(Value::as_str).unwrap_or_default().trim_start_matches('/').to_owned();
        let resource = e.get("resource").cloned();
        if matches!(method, Method::Post | Method::Put) && resource.is_none() {
            issues.push(OutcomeIssue::error(
                "required",
                Some(format!("{path}.resource")),
                "a POST or PUT entry needs a resource",
            ));
            continue;
        }
        if let (Some(r), Method::Post | Method::Put) = (&resource, method) {
            let ty = r.get("resourceType").and_then(Value::as_str).unwrap_or_default();
            let url_type = url.split(['/', '?']).next().unwrap_or_default();
            if ty != url_type {
                issues.push(OutcomeIssue::error(
                    "invalid",
                    Some(format!("{path}.request.url")),
                    format!("the URL names {url_type:?} but the resource is a {ty:?}"),
                ));
                continue;
            }
        }
        out.push(BundleEntry {
            index,
            full_url: e.get("fullUrl").and_then(Value::as_str).map(str::to_owned),
            resource,
            method,
            url,
            if_none_exist: request.get("ifNoneExist").and_then(Value::as_str).map(str::to_owned),
            if_match: request.get("ifMatch").and_then(Value::as_str).map(str::to_owned),
        });
    }
    if issues.is_empty() { Ok((kind, out)) } else { Err(issues) }
}

/// The order in which a transaction processes its entries: deletes, creates, updates, reads,
/// each in Bundle order.
pub fn processing_order(entries: &[BundleEntry]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..entries.len()).collect();
    order.sort_by_key(|&i| (entries[i].method, entries[i].index));
    order
}

/// A weak ETag for a version: `W/"3"`.
pub fn etag(version: i64) -> String {
    format!("W/\"{version}\"")
}

/// The version named by an `If-Match` header or `ifMatch` (`W/"3"` or `3`).
pub fn parse_etag(value: &str) -> Option<i64> {
    value.trim().trim_start_matches("W/").trim_matches('"').parse().ok()
}

/// Rewrites `urn:uuid:` and other `fullUrl` identities of a Bundle's entries to the ids the
/// server gave them.
pub fn rewrite_bundle(entries: &mut [BundleEntry], ids: &HashMap<String, String>) {
    for e in entries {
        if let Some(r) = e.resource.as_mut() {
            rewrite_references(r, ids);
        }
        // Conditional URLs may name a placeholder too (`Observation?subject=urn:uuid:…`).
        for (from, to) in ids {
            if e.url.contains(from.as_str()) {
                e.url = e.url.replace(from.as_str(), to);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_parse_relative_absolute_and_versioned() {
        assert_eq!(parse_reference("Patient/123"), Some(("Patient", "123")));
        assert_eq!(parse_reference("Patient/123/_history/2"), Some(("Patient", "123")));
        assert_eq!(parse_reference("http://x.org/fhir/Observation/a.b-1"), Some(("Observation", "a.b-1")));
        assert_eq!(parse_reference("urn:uuid:0b9c…"), None);
        assert_eq!(parse_reference("#p1"), None);
        assert_eq!(parse_reference("patient/1"), None);
        assert_eq!(parse_reference("Patient/"), None);
    }

    #[test]
    fn meta_is_set_and_other_meta_kept_in_order() {
        let mut r: Value = serde_json::from_str(
            r#"{"resourceType":"Observation","status":"final","meta":{"profile":["p"],"versionId":"9"},"id":"old","valueDecimal":1.0}"#,
        )
        .unwrap();
        let at = DateTime::parse_from_rfc3339("2026-11-25T10:00:00.5+08:00").unwrap().to_utc();
        set_id_and_meta(&mut r, "new", 2, at);
        assert_eq!(
            serde_json::to_string(&r).unwrap(),
            r#"{"resourceType":"Observation","id":"new","meta":{"profile":["p"],"versionId":"2","lastUpdated":"2026-11-25T02:00:00.500Z"},"status":"final","valueDecimal":1.0}"#
        );
    }

    #[test]
    fn bundle_references_are_rewritten_everywhere() {
        let mut v: Value = serde_json::from_str(
            r#"{"subject":{"reference":"urn:uuid:a"},"contained":[{"x":{"reference":"urn:uuid:a"}}],"other":{"reference":"urn:uuid:b"}}"#,
        )
        .unwrap();
        let map = HashMap::from([("urn:uuid:a".to_owned(), "Patient/1".to_owned())]);
        assert_eq!(rewrite_references(&mut v, &map), 2);
        assert_eq!(references(&v), vec!["Patient/1", "Patient/1", "urn:uuid:b"]);
    }

    #[test]
    fn transaction_order_is_delete_post_put_get() {
        let bundle: Value = serde_json::from_str(
            r#"{"resourceType":"Bundle","type":"transaction","entry":[
              {"request":{"method":"GET","url":"Patient/1"}},
              {"resource":{"resourceType":"Patient"},"request":{"method":"PUT","url":"Patient/2"}},
              {"resource":{"resourceType":"Patient"},"request":{"method":"POST","url":"Patient"}},
              {"request":{"method":"DELETE","url":"Patient/3"}}]}"#,
        )
        .unwrap();
        let (kind, entries) = bundle_requests(&bundle).unwrap();
        assert_eq!(kind, BundleKind::Transaction);
        assert_eq!(processing_order(&entries), vec![3, 2, 1, 0]);
    }

    #[test]
    fn bundle_entry_type_must_match_its_url() {
        let bundle: Value = serde_json::from_str(
            r#"{"resourceType":"Bundle","type":"batch","entry":[
              {"resource":{"resourceType":"Observation"},"request":{"method":"POST","url":"Patient"}}]}"#,
        )
        .unwrap();
        let issues = bundle_requests(&bundle).unwrap_err();
        assert_eq!(issues[0].expression.as_deref(), Some("Bundle.entry[0].request.url"));
        let history: Value = serde_json::from_str(r#"{"resourceType":"Bundle","type":"history"}"#).unwrap();
        assert!(bundle_requests(&history).is_err());
    }

    #[test]
    fn summaries_read_codes_values_and_components() {
        let bp: Value = serde_json::from_str(
            r#"{"resourceType":"Observation","status":"final","code":{"text":"血压"},
                "component":[{"valueQuantity":{"value":142,"unit":"mmHg"}},{"valueQuantity":{"value":91,"unit":"mmHg"}}],
                "interpretation":[{"coding":[{"code":"H"}]}]}"#,
        )
        .unwrap();
        let s = summary(&bp);
        assert_eq!(s.title.as_deref(), Some("血压"));
        assert_eq!(s.detail.as_deref(), Some("142/91 mmHg"));
        assert_eq!(s.flag.as_deref(), Some("H"));
        let glucose: Value = serde_json::from_str(
            r#"{"resourceType":"Observation","code":{"coding":[{"code":"1558-6","display":"空腹血糖"}]},"valueQuantity":{"value":6.10,"unit":"mmol/L"}}"#,
        )
        .unwrap();
        assert_eq!(summary(&glucose).detail.as_deref(), Some("6.10 mmol/L"));
    }

    #[test]
    fn etags_round_trip() {
        assert_eq!(parse_etag(&etag(7)), Some(7));
        assert_eq!(parse_etag("3"), Some(3));
        assert_eq!(parse_etag("W/\"x\""), None);
    }
}
