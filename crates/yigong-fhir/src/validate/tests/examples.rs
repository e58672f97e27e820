//! The official examples of the package must validate.

use std::path::Path;

use serde_json::Value;

use crate::definitions::{r4, test_package_dir};
use crate::validate::{Severity, validate};

/// The resource types whose examples (`<Type>-*.json` in the package root) must have no error.
const TYPES: &[&str] = &[
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
    "Bundle",
];

/// Official examples that are invalid per the specification itself: the file, its number of
/// errors, and why. None is of a type in `TYPES`.
const EXCEPTIONS: &[(&str, usize, &str)] = &[
    ("ImplementationGuide-fhir.json", 2, "no name and no status, both 1..1 in ImplementationGuide"),
    ("Questionnaire-qs1.json", 32, "32 nested items without linkId, which is 1..1 in Questionnaire.item"),
    ("SearchParameter-codesystem-extensions-CodeSystem-author.json", 1, NO_BASE),
    ("SearchParameter-codesystem-extensions-CodeSystem-effective.json", 1, NO_BASE),
    ("SearchParameter-codesystem-extensions-CodeSystem-end.json", 1, NO_BASE),
    ("SearchParameter-codesystem-extensions-CodeSystem-keyword.json", 1, NO_BASE),
    ("SearchParameter-codesystem-extensions-CodeSystem-workflow.json", 1, NO_BASE),
    ("SearchParameter-valueset-extensions-ValueSet-author.json", 1, NO_BASE),
    ("SearchParameter-valueset-extensions-ValueSet-effective.json", 1, NO_BASE),
    ("SearchParameter-valueset-extensions-ValueSet-end.json", 1, NO_BASE),
    ("SearchParameter-valueset-extensions-ValueSet-keyword.json", 1, NO_BASE),
    ("SearchParameter-valueset-extensions-ValueSet-workflow.json", 1, NO_BASE),
    (
        "SearchParameter-questionnaireresponse-extensions-QuestionnaireResponse-item-subject.json",
        1,
        "its id has 68 characters; an id has at most 64",
    ),
];

const NO_BASE: &str = "no base, which is 1..* in SearchParameter";

/// The errors of every example of `types` not on the exception list, one line each.
fn errors_of_examples(dir: &Path, types: &[&str]) -> (usize, Vec<String>) {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .collect();
    files.sort();
    let mut checked = 0;
    let mut errors = Vec::new();
    for path in files {
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else { continue };
        let Some((prefix, _)) = name.split_once('-') else { continue };
        if !name.ends_with(".json") || !types.contains(&prefix) {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {name}: {e}"));
        let resource: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("parse {name}: {e}"));
        if resource.get("resourceType").and_then(Value::as_str) != Some(prefix) {
            continue;
        }
        checked += 1;
        let issues: Vec<_> =
            validate(&resource).into_iter().filter(|i| i.severity == Severity::Error).collect();
        match EXCEPTIONS.iter().find(|(file, _, _)| *file == name) {
            None => errors.extend(issues.iter().map(|i| format!("{name}: {i}"))),
            Some((_, count, _)) if issues.len() != *count => {
                errors.push(format!("{name}: {} errors, EXCEPTIONS expects {count}", issues.len()));
                errors.extend(issues.iter().map(|i| format!("{name}: {i}")));
            }
            Some(_) => {}
        }
    }
    (checked, errors)
}

#[test]
fn official_examples_are_valid() {
    let Some(dir) = test_package_dir() else { return };
    let (checked, errors) = errors_of_examples(&dir, TYPES);
    eprintln!("{checked} examples checked");
    assert!(checked > 100, "only {checked} examples found in {}", dir.display());
    assert!(errors.is_empty(), "{} errors:\n{}", errors.len(), errors.join("\n"));
}

/// Every example of every resource type, conformance resources included: a check of the
/// validator against 5,000 resources written by the authors of the specification.
#[test]
fn all_official_examples_are_valid() {
    let Some(dir) = test_package_dir() else { return };
    let types: Vec<&str> = r4().resource_types().collect();
    let (checked, mut errors) = errors_of_examples(&dir, &types);
    eprintln!("{checked} examples checked, {} on the exception list", EXCEPTIONS.len());
    for (file, _, _) in EXCEPTIONS {
        if !dir.join(file).is_file() {
            errors.push(format!("{file}: on the exception list but not in the package"));
        }
    }
    assert!(checked > 5000, "only {checked} examples found in {}", dir.display());
    assert!(errors.is_empty(), "{} errors:\n{}", errors.len(), errors.join("\n"));
}
