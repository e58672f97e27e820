//! FHIR R4 search: the parameters yigong indexes and the values a resource gives them.
//!
//! The server stores resources as JSON and indexes only the parameters of this table. Which codes
//! each type offers is our choice (`CURATED`: what users need first); everything else about a
//! parameter (its type, its FHIRPath expression restricted to the resource type, its target types)
//! comes from the official package's `SearchParameter` resources through [`generate`], whose output
//! is committed as `search/r4.json` and checked by a test against a fresh run.
//!
//! - [`params`], [`param`], [`served_types`]: the table.
//! - [`extract`]: the index entries of a resource, by evaluating each parameter's expression with
//!   the small FHIRPath subset of `fhirpath` (the generator refuses any expression outside it).
//! - [`parse_query_value`], [`normalise_string`], [`date_matches`], [`date_sql_bounds`]: the query
//!   side, so that the server and the tests agree on what a search value means.
//!
//! Times: a date or dateTime written without a zone is read as China time (UTC+08:00), the zone
//! of every consortium we serve; see [`DatePeriod`].

mod date;
mod extract;
mod fhirpath;
mod generate;
mod query;
#[cfg(test)]
mod tests;

use std::sync::LazyLock;

use serde_json::Value;

pub use date::{
    Comparison, DateBound, DateColumn, DateCondition, DatePeriod, Prefix, china_time, date_matches,
    date_sql_bounds, parse_date_period,
};
pub use extract::{IndexEntry, IndexValue, extract};
pub use generate::{GenerateError, generate};
pub use query::{QueryError, QueryValue, TokenSystem, normalise_string, parse_query_value, split_values};

/// The type of a search parameter (FHIR R4 `search-param-type`, without `composite` and
/// `special`, which no served parameter uses).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ParamType {
    Token,
    String,
    Date,
    Reference,
    Quantity,
    Number,
    Uri,
}

impl ParamType {
    /// The FHIR code: `token`, `string`, ….
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Token => "token",
            Self::String => "string",
            Self::Date => "date",
            Self::Reference => "reference",
            Self::Quantity => "quantity",
            Self::Number => "number",
            Self::Uri => "uri",
        }
    }

    /// The type with this FHIR code, if we support it.
    pub fn from_code(code: &str) -> Option<Self> {
        [Self::Token, Self::String, Self::Date, Self::Reference, Self::Quantity, Self::Number, Self::Uri]
            .into_iter()
            .find(|kind| kind.as_str() == code)
    }
}

/// One search parameter of one resource type.
#[derive(Debug, Clone)]
pub struct SearchParam {
    /// The code used in URLs: `birthdate`, `_id`.
    pub code: String,
    /// The resource type searched: `Patient`.
    pub resource_type: String,
    pub kind: ParamType,
    /// The package's FHIRPath expression, keeping only the parts for `resource_type`.
    pub expression: String,
    /// For a reference parameter, the resource types it may point to (package order).
    pub targets: Vec<String>,
    /// The canonical URL of the `SearchParameter` (for a CapabilityStatement's `definition`).
    pub definition: String,
    compiled: fhirpath::Expr,
}

impl SearchParam {
    /// The one resource type a bare id given for this parameter names: the only target, or the
    /// type every branch of the expression keeps with `where(resolve() is X)` (so `patient=123`
    /// means `Patient/123` although `clinical-patient` lists `Patient` and `Group`).
    pub fn single_target(&self) -> Option<&str> {
        if let [only] = self.targets.as_slice() {
            return Some(only);
        }
        self.compiled.resolved_type()
    }
}

/// The resource types the server offers, in the order of the table.
const SERVED_TYPES: [&str; 15] = [
    "Patient",
    "Practitioner",
    "PractitionerRole",
    "Organization",
    "Location",
    "Encounter",
    "Condition",
    "Observation",
    "DiagnosticReport",
    "ServiceRequest",
    "Task",
    "Medication",
    "MedicationRequest",
    "AllergyIntolerance",
    "DocumentReference",
];

/// Parameters of every type, filled by the server from its columns (listed for completeness;
/// [`extract`] yields them too).
const COMMON: [&str; 2] = ["_id", "_lastUpdated"];

/// The codes users need first, per served type. Hand-picked; every one must be defined by R4 for
/// that type, or [`generate`] fails.
const CURATED: [(&str, &[&str]); 15] = [
    (
        "Patient",
        &[
            "identifier",
            "name",
            "family",
            "given",
            "birthdate",
            "gender",
            "phone",
            "telecom",
            "address",
            "organization",
            "active",
            "general-practitioner",
        ],
    ),
    ("Practitioner", &["identifier", "name", "family", "given", "active"]),
    ("PractitionerRole", &["practitioner", "organization", "role", "specialty", "active", "date"]),
    ("Organization", &["identifier", "name", "partof", "type", "active"]),
    ("Location", &["identifier", "name", "organization", "partof", "type", "status"]),
    (
        "Encounter",
        &[
            "subject",
            "patient",
            "date",
            "service-provider",
            "class",
            "status",
            "type",
            "identifier",
            "participant",
            "practitioner",
            "reason-code",
        ],
    ),
    (
        "Condition",
        &[
            "subject",
            "patient",
            "code",
            "clinical-status",
            "verification-status",
            "category",
            "onset-date",
            "recorded-date",
            "encounter",
            "asserter",
        ],
    ),
    (
        "Observation",
        &[
            "subject",
            "patient",
            "code",
            "date",
            "category",
            "status",
            "encounter",
            "performer",
            "value-quantity",
            "based-on",
            "identifier",
        ],
    ),
    (
        "DiagnosticReport",
        &[
            "subject",
            "patient",
            "code",
            "date",
            "category",
            "status",
            "encounter",
            "result",
            "performer",
            "based-on",
            "identifier",
            "issued",
        ],
    ),
    (
        "ServiceRequest",
        &[
            "subject",
            "patient",
            "code",
            "status",
            "intent",
            "category",
            "priority",
            "authored",
            "requester",
            "performer",
            "encounter",
            "identifier",
            "requisition",
            "based-on",
        ],
    ),
    // R4 has no `for` parameter: `subject` is `Task.for`, `patient` its Patient part.
    (
        "Task",
        &[
            "subject",
            "patient",
            "owner",
            "requester",
            "status",
            "intent",
            "priority",
            "code",
            "focus",
            "authored-on",
            "modified",
            "identifier",
            "business-status",
            "based-on",
        ],
    ),
    ("Medication", &["code", "identifier", "status", "form", "ingredient-code"]),
    (
        "MedicationRequest",
        &[
            "subject",
            "patient",
            "code",
            "medication",
            "status",
            "intent",
            "authoredon",
            "requester",
            "encounter",
            "identifier",
            "intended-performer",
            "category",
        ],
    ),
    (
        "AllergyIntolerance",
        &[
            "patient",
            "code",
            "clinical-status",
            "verification-status",
            "category",
            "criticality",
            "type",
            "date",
            "recorder",
            "asserter",
        ],
    ),
    (
        "DocumentReference",
        &[
            "subject",
            "patient",
            "type",
            "category",
            "date",
            "status",
            "author",
            "custodian",
            "encounter",
            "identifier",
            "related",
        ],
    ),
];

/// The committed output of [`generate`].
const TABLE_JSON: &str = include_str!("search/r4.json");

/// The parsed table, per served type in `SERVED_TYPES` order.
static TABLE: LazyLock<Vec<(String, Vec<SearchParam>)>> =
    LazyLock::new(|| load_table(TABLE_JSON).expect("search/r4.json is the output of search::generate"));

/// Reads the generated table; an error names what is malformed.
fn load_table(json: &str) -> Result<Vec<(String, Vec<SearchParam>)>, String> {
    let root: Value = serde_json::from_str(json).map_err(|e| e.to_string())?;
    let types = root.get("types").and_then(Value::as_object).ok_or("no `types` object")?;
    let text = |v: &Value, key: &str| -> Result<String, String> {
        v.get(key).and_then(Value::as_str).map(str::to_owned).ok_or_else(|| format!("no `{key}` in {v}"))
    };
    let mut table = Vec::with_capacity(types.len());
    for (resource_type, list) in types {
        let list = list.as_array().ok_or_else(|| format!("{resource_type}: not an array"))?;
        let mut params = Vec::with_capacity(list.len());
        for entry in list {
            let code = text(entry, "code")?;
            let kind = ParamType::from_code(&text(entry, "type")?).ok_or_else(|| format!("{code}: type"))?;
            let expression = text(entry, "expression")?;
            let strings = |key: &str| -> Vec<String> {
                let items = entry.get(key).and_then(Value::as_array);
                items
                    .map(|items| items.iter().filter_map(Value::as_str).map(str::to_owned).collect())
                    .unwrap_or_default()
            };
            let mut compiled = fhirpath::parse(&expression).map_err(|e| format!("{code}: {e}"))?;
            compiled.mark_choices(&strings("choices"));
            let targets = strings("targets");
            let definition = text(entry, "definition")?;
            params.push(SearchParam {
                code,
                resource_type: resource_type.clone(),
                kind,
                expression,
                targets,
                definition,
                compiled,
            });
        }
        table.push((resource_type.clone(), params));
    }
    Ok(table)
}

/// The resource types the server offers.
pub fn served_types() -> &'static [&'static str] {
    &SERVED_TYPES
}

/// The parameters of a resource type (`_id` and `_lastUpdated` first); empty for a type we do
/// not serve.
pub fn params(resource_type: &str) -> &'static [SearchParam] {
    TABLE.iter().find(|(name, _)| name == resource_type).map(|(_, params)| params.as_slice()).unwrap_or(&[])
}

/// One parameter of a resource type, by code.
pub fn param(resource_type: &str, code: &str) -> Option<&'static SearchParam> {
    params(resource_type).iter().find(|param| param.code == code)
}
