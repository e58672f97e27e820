//! Tests against the official package `hl7.fhir.r4.examples` 4.0.1, found through
//! `YIGONG_FHIR_PACKAGE` (`scripts/fhir-package` unpacks it). Without it they skip with a note,
//! except under `CI=true`, where they fail.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde_json::Value;

use super::{reference, span, token, utc, values};
use crate::search::*;

/// The package directory, or `None` (after a note) when the tests may skip.
fn package_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("YIGONG_FHIR_PACKAGE") {
        return Some(PathBuf::from(dir));
    }
    let ci = std::env::var("CI").is_ok_and(|v| v.eq_ignore_ascii_case("true") || v == "1");
    assert!(!ci, "YIGONG_FHIR_PACKAGE is not set, and CI=true forbids skipping; run scripts/fhir-package");
    eprintln!("note: YIGONG_FHIR_PACKAGE is not set: skipping a test of the FHIR package");
    None
}

fn example(dir: &std::path::Path, file: &str) -> Value {
    let path = dir.join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn search_table_is_generated_from_the_package() {
    let Some(dir) = package_dir() else { return };
    let generated = generate(&dir).unwrap_or_else(|e| panic!("generate: {e}"));
    assert!(
        generated == TABLE_JSON,
        "crates/yigong-fhir/src/search/r4.json is stale; regenerate it with \
         `cargo run -p yigong-fhir --example gen-search -- {} crates/yigong-fhir/src/search/r4.json`",
        dir.display()
    );
}

/// Parameters that no example of the package fills in (checked, so that the list stays true),
/// besides `_lastUpdated`, which few examples carry.
const EMPTY_IN_EXAMPLES: [(&str, &str); 5] = [
    ("DiagnosticReport", "encounter"),
    ("Medication", "identifier"),
    // Only logical references (an identifier) or a display: nothing to index.
    ("Observation", "based-on"),
    ("Task", "based-on"),
    // CodeableConcepts with text only: a token is a code.
    ("Task", "business-status"),
];

#[test]
fn every_example_of_every_served_type_extracts() {
    let Some(dir) = package_dir() else { return };
    let mut empty_params = Vec::new();
    let mut files: Vec<PathBuf> =
        std::fs::read_dir(&dir).unwrap().map(|entry| entry.unwrap().path()).collect();
    files.sort();
    for resource_type in served_types() {
        let prefix = format!("{resource_type}-");
        let mut filled: BTreeMap<&str, usize> =
            params(resource_type).iter().map(|p| (p.code.as_str(), 0)).collect();
        let mut examples = 0;
        for path in &files {
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
            if !name.starts_with(&prefix) || !name.ends_with(".json") {
                continue;
            }
            let resource = example(&dir, name);
            if resource.get("resourceType").and_then(Value::as_str) != Some(resource_type) {
                continue;
            }
            examples += 1;
            let entries = extract(&resource);
            assert!(values(&entries, "_id").len() == 1, "{name}: no _id");
            for entry in &entries {
                *filled.get_mut(entry.param).unwrap() += 1;
            }
        }
        assert!(examples > 0, "no example of {resource_type}");
        eprintln!("{resource_type}: {examples} examples, values per parameter {filled:?}");
        let empty = filled.into_iter().filter(|(code, n)| *n == 0 && *code != "_lastUpdated");
        empty_params.extend(empty.map(|(code, _)| (*resource_type, code)));
    }
    empty_params.sort();
    let mut expected = EMPTY_IN_EXAMPLES.to_vec();
    expected.sort();
    assert_eq!(empty_params, expected, "parameters without a value in any example");
}

#[test]
fn observation_example() {
    let Some(dir) = package_dir() else { return };
    let entries = extract(&example(&dir, "Observation-example.json"));
    assert_eq!(values(&entries, "subject"), [&reference("Patient", "example")]);
    assert_eq!(values(&entries, "patient"), [&reference("Patient", "example")]);
    assert_eq!(values(&entries, "encounter"), [&reference("Encounter", "example")]);
    assert!(values(&entries, "code").contains(&&token(Some("http://loinc.org"), "29463-7")));
    assert_eq!(values(&entries, "code").len(), 4);
    assert_eq!(
        values(&entries, "category"),
        [&token(Some("http://terminology.hl7.org/CodeSystem/observation-category"), "vital-signs")]
    );
    assert_eq!(values(&entries, "status"), [&token(None, "final")]);
    assert_eq!(
        values(&entries, "date"),
        [&IndexValue::Date(span("2016-03-27T16:00:00Z", "2016-03-28T16:00:00Z"))]
    );
    assert_eq!(
        values(&entries, "value-quantity"),
        [&IndexValue::Quantity {
            value: "185".into(),
            system: Some("http://unitsofmeasure.org".into()),
            code: Some("[lb_av]".into()),
            unit: Some("lbs".into()),
        }]
    );
}

#[test]
fn patient_example() {
    let Some(dir) = package_dir() else { return };
    let entries = extract(&example(&dir, "Patient-example.json"));
    assert_eq!(values(&entries, "identifier"), [&token(Some("urn:oid:1.2.36.146.595.217.0.1"), "12345")]);
    let strings = |param| -> Vec<&str> {
        values(&entries, param)
            .into_iter()
            .filter_map(|v| if let IndexValue::String(s) = v { Some(s.as_str()) } else { None })
            .collect()
    };
    assert_eq!(strings("name"), ["chalmers", "peter", "james", "jim", "windsor"]);
    assert_eq!(strings("family"), ["chalmers", "windsor"]);
    assert_eq!(strings("given"), ["peter", "james", "jim"]);
    assert!(strings("address").contains(&"pleasantville"));
    assert_eq!(
        values(&entries, "birthdate"),
        [&IndexValue::Date(span("1974-12-24T16:00:00Z", "1974-12-25T16:00:00Z"))]
    );
    assert_eq!(values(&entries, "gender"), [&token(None, "male")]);
    assert_eq!(values(&entries, "active"), [&token(None, "true")]);
    assert_eq!(values(&entries, "phone").len(), 3);
    assert!(values(&entries, "phone").contains(&&token(None, "(03) 5555 6473")));
    assert_eq!(values(&entries, "organization"), [&reference("Organization", "1")]);
}

#[test]
fn examples_of_other_types() {
    let Some(dir) = package_dir() else { return };
    let entries = extract(&example(&dir, "DiagnosticReport-example-pgx.json"));
    // An instant covers its second.
    assert_eq!(
        values(&entries, "issued"),
        [&IndexValue::Date(span("2016-10-20T03:00:05Z", "2016-10-20T03:00:06Z"))]
    );
    assert_eq!(values(&entries, "result"), [&reference("Observation", "example-phenotype")]);

    let entries = extract(&example(&dir, "DocumentReference-example.json"));
    assert_eq!(values(&entries, "author"), [&reference("Practitioner", "xcda1")], "#a2 is contained");
    assert_eq!(values(&entries, "identifier").len(), 2, "masterIdentifier and identifier");
    assert_eq!(values(&entries, "encounter"), [&reference("Encounter", "xcda")]);

    let entries = extract(&example(&dir, "Task-example1.json"));
    assert_eq!(values(&entries, "patient"), [&reference("Patient", "example")]);
    assert!(values(&entries, "based-on").is_empty(), "a display-only reference");
    assert!(values(&entries, "business-status").is_empty(), "text only");

    let entries = extract(&example(&dir, "AllergyIntolerance-example.json"));
    assert!(
        values(&entries, "code")
            .contains(&&token(Some("http://www.nlm.nih.gov/research/umls/rxnorm"), "1160593"))
    );
    assert_eq!(values(&entries, "category"), [&token(None, "food")]);
    assert_eq!(
        values(&entries, "date"),
        [&IndexValue::Date(span("2014-10-09T03:58:00Z", "2014-10-09T03:58:01Z"))]
    );

    let entries = extract(&example(&dir, "Condition-example.json"));
    let onset = DatePeriod { start: utc("2012-05-23T16:00:00Z"), end: utc("2012-05-24T16:00:00Z") };
    assert_eq!(values(&entries, "onset-date"), [&IndexValue::Date(onset)]);

    let entries = extract(&example(&dir, "Encounter-example.json"));
    assert_eq!(
        values(&entries, "class"),
        [&token(Some("http://terminology.hl7.org/CodeSystem/v3-ActCode"), "IMP")]
    );

    let entries = extract(&example(&dir, "MedicationRequest-medrx002.json"));
    assert_eq!(values(&entries, "medication"), [&reference("Medication", "med0316")]);
    assert!(values(&entries, "code").is_empty());

    let entries = extract(&example(&dir, "Medication-med0301.json"));
    assert_eq!(
        values(&entries, "ingredient-code"),
        [&token(Some("http://www.nlm.nih.gov/research/umls/rxnorm"), "66955")]
    );
}
