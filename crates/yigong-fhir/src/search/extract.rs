//! The index values of a resource: each parameter's expression evaluated, and each value reached
//! turned into what the index stores for that parameter's type.

use std::collections::HashSet;

use serde_json::Value;

use super::date::{DatePeriod, parse_date_period};
use super::query::normalise_string;
use super::{ParamType, fhirpath, params};

/// One row of the search index: a parameter of the resource's type and one value of it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct IndexEntry {
    /// The parameter code, as in the table (`birthdate`).
    pub param: &'static str,
    pub value: IndexValue,
}

/// A value as the index stores it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum IndexValue {
    /// From a Coding (each coding of a CodeableConcept; its `text` is not a token), an Identifier
    /// (`system|value`), a ContactPoint (`value`, no system) or a code, id, string or boolean
    /// (no system).
    Token {
        system: Option<String>,
        code: String,
    },
    /// Normalised with [`normalise_string`]: each part of a HumanName (family, each given, text,
    /// prefixes, suffixes) or Address (lines, city, district, state, postal code, country, text),
    /// or a plain string.
    String(String),
    /// The period a date, dateTime, instant or Period covers.
    Date(DatePeriod),
    /// A reference `Type/id`, relative or absolute (the base URL is dropped, `/_history/n` too).
    /// A bare id is used only with the Reference's `type`; contained (`#x`) and logical
    /// (identifier-only) references are not indexed.
    Reference {
        target_type: String,
        id: String,
    },
    /// A `urn:uuid:`/`urn:oid:` reference, left for the caller: inside a transaction Bundle it
    /// names another entry, which the caller resolves (and should have rewritten to `Type/id`
    /// before indexing). A `where(resolve() is X)` filter keeps it only if its `type` is X.
    Urn(String),
    /// A Quantity (Age, Duration, … too) with its decimal written as in the resource: `1.0`
    /// stays `"1.0"`. A Range or SampledData gives none.
    Quantity {
        value: String,
        system: Option<String>,
        code: Option<String>,
        unit: Option<String>,
    },
    /// An integer or decimal as written.
    Number(String),
    Uri(String),
}

/// The index entries of a resource of a served type, every parameter of [`params`] (including
/// `_id` and `_lastUpdated`), without duplicates, in table order. A resource of another type, or
/// not a resource at all, gives none; no input makes it panic.
pub fn extract(resource: &Value) -> Vec<IndexEntry> {
    let Some(resource_type) = resource.get("resourceType").and_then(Value::as_str) else {
        return Vec::new();
    };
    let mut seen = HashSet::new();
    let mut entries = Vec::new();
    for param in params(resource_type) {
        for node in fhirpath::evaluate(&param.compiled, resource) {
            for value in index_values(param.kind, node) {
                let entry = IndexEntry { param: &param.code, value };
                if seen.insert(entry.clone()) {
                    entries.push(entry);
                }
            }
        }
    }
    entries
}

/// The values one node gives a parameter of this type.
fn index_values(kind: ParamType, node: fhirpath::Node<'_>) -> Vec<IndexValue> {
    let value = node.value;
    match kind {
        ParamType::Token => tokens(value, node.type_hint),
        ParamType::String => strings(value),
        ParamType::Date => date(value).map(IndexValue::Date).into_iter().collect(),
        ParamType::Reference => reference(value).into_iter().collect(),
        ParamType::Quantity => quantity(value).into_iter().collect(),
        ParamType::Number => match value {
            Value::Number(number) => vec![IndexValue::Number(number.to_string())],
            _ => Vec::new(),
        },
        ParamType::Uri => match value.as_str() {
            Some(uri) if !uri.is_empty() => vec![IndexValue::Uri(uri.to_owned())],
            _ => Vec::new(),
        },
    }
}

/// The codes of ContactPoint.system (R4 `contact-point-system`): an Identifier's system is a URI,
/// never one of these, which tells the two apart.
const CONTACT_POINT_SYSTEMS: [&str; 7] = ["phone", "fax", "email", "pager", "url", "sms", "other"];

fn text(value: &Value, key: &str) -> Option<String> {
    value.get(key).and_then(Value::as_str).filter(|s| !s.is_empty()).map(str::to_owned)
}

fn tokens(value: &Value, type_hint: Option<&str>) -> Vec<IndexValue> {
    let token = |system: Option<String>, code: String| IndexValue::Token { system, code };
    match value {
        Value::String(code) if !code.is_empty() => vec![token(None, code.clone())],
        Value::Bool(flag) => vec![token(None, flag.to_string())],
        Value::Number(number) => vec![token(None, number.to_string())],
        Value::Object(_) => {
            if let Some(codings) = value.get("coding").and_then(Value::as_array) {
                // CodeableConcept.
                return codings
                    .iter()
                    .filter_map(|coding| Some(token(text(coding, "system"), text(coding, "code")?)))
                    .collect();
            }
            if let Some(code) = text(value, "code") {
                // Coding.
                return vec![token(text(value, "system"), code)];
            }
            let Some(content) = text(value, "value") else { return Vec::new() };
            let system = text(value, "system");
            let contact_point = type_hint == Some("ContactPoint")
                || system.as_deref().is_some_and(|system| CONTACT_POINT_SYSTEMS.contains(&system));
            if contact_point { vec![token(None, content)] } else { vec![token(system, content)] }
        }
        _ => Vec::new(),
    }
}

/// The parts of a HumanName or an Address that string search looks at.
const STRING_PARTS: [&str; 11] = [
    "family",
    "given",
    "prefix",
    "suffix",
    "text",
    "line",
    "city",
    "district",
    "state",
    "postalCode",
    "country",
];

fn strings(value: &Value) -> Vec<IndexValue> {
    let mut out = Vec::new();
    let mut push = |raw: &str| {
        let normalised = normalise_string(raw);
        if !normalised.is_empty() {
            out.push(IndexValue::String(normalised));
        }
    };
    match value {
        Value::String(raw) => push(raw),
        Value::Object(object) => {
            for key in STRING_PARTS {
                match object.get(key) {
                    Some(Value::String(raw)) => push(raw),
                    Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).for_each(&mut push),
                    _ => {}
                }
            }
        }
        _ => {}
    }
    out
}

fn date(value: &Value) -> Option<DatePeriod> {
    match value {
        Value::String(raw) => parse_date_period(raw),
        Value::Object(period) => {
            let bound = |key: &str| period.get(key).map(|v| v.as_str().and_then(parse_date_period));
            let (start, end) = (bound("start"), bound("end"));
            if start.is_none() && end.is_none() {
                return None;
            }
            // A bound that is present but not a date spoils the whole Period.
            let start = match start {
                Some(parsed) => parsed?.start,
                None => DatePeriod::OPEN_START,
            };
            let end = match end {
                Some(parsed) => parsed?.end,
                None => DatePeriod::OPEN_END,
            };
            (start < end).then_some(DatePeriod { start, end })
        }
        _ => None,
    }
}

fn quantity(value: &Value) -> Option<IndexValue> {
    let Some(Value::Number(number)) = value.get("value") else { return None };
    Some(IndexValue::Quantity {
        value: number.to_string(),
        system: text(value, "system"),
        code: text(value, "code"),
        unit: text(value, "unit"),
    })
}

/// What a reference points to.
enum Target {
    Resource { target_type: String, id: String },
    Urn(String),
}

/// A Reference (or a canonical string) as an index value.
fn reference(value: &Value) -> Option<IndexValue> {
    Some(match target(value)? {
        Target::Resource { target_type, id } => IndexValue::Reference { target_type, id },
        Target::Urn(urn) => IndexValue::Urn(urn),
    })
}

fn target(value: &Value) -> Option<Target> {
    let (raw, declared) = match value {
        Value::String(raw) => (raw.split('|').next().unwrap_or_default(), None),
        Value::Object(_) => (value.get("reference").and_then(Value::as_str)?, text(value, "type")),
        _ => return None,
    };
    if raw.starts_with("urn:") {
        return Some(Target::Urn(raw.to_owned()));
    }
    if raw.starts_with('#') {
        return None;
    }
    let raw = raw.split(['?', '#']).next().unwrap_or_default();
    let mut segments: Vec<&str> = raw.split('/').collect();
    if segments.len() >= 4 && segments[segments.len() - 2] == "_history" {
        segments.truncate(segments.len() - 2);
    }
    match segments.as_slice() {
        [.., target_type, id] if is_resource_type(target_type) && is_id(id) => {
            Some(Target::Resource { target_type: (*target_type).to_owned(), id: (*id).to_owned() })
        }
        [id] if is_id(id) => {
            let target_type = declared.filter(|t| is_resource_type(t))?;
            Some(Target::Resource { target_type, id: (*id).to_owned() })
        }
        _ => None,
    }
}

/// The resource type a Reference points to, for `where(resolve() is X)`: from its URL, or from
/// its `type` element when the URL does not say (a `urn:` reference).
pub(crate) fn reference_type(value: &Value) -> Option<String> {
    match target(value) {
        Some(Target::Resource { target_type, .. }) => Some(target_type),
        Some(Target::Urn(_)) | None => text(value, "type"),
    }
}

/// The shape of a resource type name: `Patient`, `DiagnosticReport`.
pub(crate) fn is_resource_type(text: &str) -> bool {
    text.starts_with(|c: char| c.is_ascii_uppercase()) && text.bytes().all(|b| b.is_ascii_alphabetic())
}

/// A FHIR id: 1 to 64 of `A-Z a-z 0-9 - .`.
pub(crate) fn is_id(text: &str) -> bool {
    (1..=64).contains(&text.len())
        && text.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
}
