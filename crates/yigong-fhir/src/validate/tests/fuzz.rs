//! The validator never panics, whatever JSON it is given.

use proptest::prelude::*;
use serde_json::{Map, Value};

use crate::validate::{MAX_ISSUES, validate, validate_as};

/// Property names that exist somewhere in FHIR, so that random resources reach deep.
const NAMES: &[&str] = &[
    "resourceType",
    "id",
    "_id",
    "meta",
    "text",
    "div",
    "status",
    "contained",
    "extension",
    "url",
    "valueString",
    "valueQuantity",
    "value",
    "_value",
    "valueDecimal",
    "valueInteger",
    "valueBoolean",
    "name",
    "given",
    "_given",
    "family",
    "birthDate",
    "_birthDate",
    "gender",
    "identifier",
    "system",
    "code",
    "coding",
    "display",
    "entry",
    "resource",
    "fullUrl",
    "parameter",
    "part",
    "item",
    "linkId",
    "component",
    "effectiveDateTime",
    "issued",
    "subject",
    "reference",
    "type",
    "repeat",
    "count",
    "clinicalStatus",
    "telecom",
    "photo",
    "data",
    "contact",
];

const TYPES: &[&str] =
    &["Patient", "Observation", "Bundle", "Parameters", "Questionnaire", "Condition", "Nope", "HumanName"];

const STRINGS: &[&str] = &[
    "",
    " ",
    "male",
    "m",
    "2023-02-30",
    "2023-01-01T10:00:00Z",
    "<div>x</div>",
    "Patient",
    "urn:uuid:x",
    "final",
    "a\u{0}b",
];

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        prop::sample::select(STRINGS).prop_map(Value::from),
        prop::sample::select(TYPES).prop_map(Value::from),
        ".{0,8}".prop_map(Value::from),
        prop::sample::select(&["1.0", "1E-22", "-0", "1e400", "2147483648"][..])
            .prop_map(|n| serde_json::from_str(n).unwrap_or(Value::Null)),
    ]
}

fn json() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(6, 64, 6, |inner| {
        let key = prop_oneof![prop::sample::select(NAMES).prop_map(str::to_owned), "_?[a-z]{0,6}"];
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((key, inner), 0..6)
                .prop_map(|pairs| Value::Object(pairs.into_iter().collect())),
        ]
    })
}

/// An object with a resourceType, so that validation gets past the root.
fn resource() -> impl Strategy<Value = Value> {
    (prop::sample::select(TYPES), json()).prop_map(|(t, body)| {
        let mut object = match body {
            Value::Object(o) => o,
            other => Map::from_iter([("value".to_owned(), other)]),
        };
        object.insert("resourceType".into(), t.into());
        Value::Object(object)
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn never_panics_on_random_json(value in json()) {
        prop_assert!(validate(&value).len() <= MAX_ISSUES + 1);
    }

    #[test]
    fn never_panics_on_random_resources(value in resource(), expected in prop::sample::select(TYPES)) {
        prop_assert!(validate(&value).len() <= MAX_ISSUES + 1);
        prop_assert!(validate_as(&value, expected).len() <= MAX_ISSUES + 1);
    }
}
