mod examples;
mod fuzz;

use serde_json::{Value, json};

use super::*;

/// The errors and warnings of `resource`, as `(expression, issue code)`.
fn found(resource: &Value, expected_type: Option<&str>) -> Vec<(String, &'static str)> {
    let issues = match expected_type {
        Some(t) => validate_as(resource, t),
        None => validate(resource),
    };
    issues.into_iter().map(|i| (i.expression, i.code.as_str())).collect()
}

fn check(resource: Value, expect: &[(&str, &str)]) {
    let found = found(&resource, None);
    let expect: Vec<(String, &str)> = expect.iter().map(|&(e, c)| (e.to_owned(), c)).collect();
    assert_eq!(found, expect, "resource: {resource}\nissues: {:#?}", validate(&resource));
}

fn valid(resource: Value) {
    check(resource, &[]);
}

/// A valid Observation with `extra` added to it.
fn observation(extra: Value) -> Value {
    let mut o = json!({
        "resourceType": "Observation",
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "8867-4"}], "text": "Heart rate"}
    });
    if let (Some(o), Value::Object(extra)) = (o.as_object_mut(), extra) {
        o.extend(extra);
    }
    o
}

fn patient(extra: Value) -> Value {
    let mut p = json!({"resourceType": "Patient", "id": "p1"});
    if let (Some(p), Value::Object(extra)) = (p.as_object_mut(), extra) {
        p.extend(extra);
    }
    p
}

#[test]
fn minimal_resources_are_valid() {
    valid(patient(json!({})));
    valid(observation(json!({})));
    valid(json!({"resourceType": "Bundle", "type": "collection"}));
}

#[test]
fn root_must_be_a_known_resource() {
    check(json!([1]), &[("Resource", "structure")]);
    check(json!({"id": "x"}), &[("Resource", "required")]);
    check(json!({"resourceType": 3}), &[("Resource.resourceType", "structure")]);
    check(json!({"resourceType": "Nope"}), &[("Resource.resourceType", "not-supported")]);
    check(json!({"resourceType": "DomainResource"}), &[("Resource.resourceType", "invalid")]);
    check(json!({"resourceType": "HumanName"}), &[("Resource.resourceType", "not-supported")]);
}

#[test]
fn expected_type() {
    assert_eq!(found(&patient(json!({})), Some("Patient")), []);
    assert_eq!(
        found(&observation(json!({})), Some("Patient")),
        [("Observation.resourceType".to_owned(), "invalid")]
    );
    assert_eq!(found(&patient(json!({})), Some("Nope")), [("Nope".to_owned(), "not-supported")]);
    let issues = validate_as(&observation(json!({})), "Patient");
    assert_eq!(issues[0].message, "expected a Patient resource, found resourceType 'Observation'");
}

#[test]
fn unknown_elements() {
    check(patient(json!({"foo": 1})), &[("Patient.foo", "structure")]);
    check(
        patient(json!({"name": [{"family": "Li", "middle": "X"}]})),
        &[("Patient.name[0].middle", "structure")],
    );
    check(patient(json!({"contact": [{"nickname": "X"}]})), &[("Patient.contact[0].nickname", "structure")]);
    // A choice needs its type suffix, spelt as the type.
    check(observation(json!({"value": 1})), &[("Observation.value", "structure")]);
    check(observation(json!({"valuequantity": {"value": 1}})), &[("Observation.valuequantity", "structure")]);
    check(observation(json!({"valueAddress": {"city": "X"}})), &[("Observation.valueAddress", "structure")]);
    let issues = validate(&patient(json!({"foo": 1})));
    assert_eq!(issues[0].message, "unknown element 'foo' in Patient");
}

#[test]
fn resource_type_only_at_the_root() {
    check(
        patient(json!({"name": [{"resourceType": "HumanName", "family": "Li"}]})),
        &[("Patient.name[0].resourceType", "structure")],
    );
}

#[test]
fn arrays_and_single_values() {
    check(patient(json!({"gender": ["male"]})), &[("Patient.gender", "structure")]);
    check(patient(json!({"name": {"family": "Li"}})), &[("Patient.name", "structure")]);
    check(patient(json!({"name": [{"given": "Wei"}]})), &[("Patient.name[0].given", "structure")]);
    check(patient(json!({"name": [[{"family": "Li"}]]})), &[("Patient.name[0]", "structure")]);
    valid(patient(json!({"name": [{"given": ["Wei", "Ming"]}]})));
}

#[test]
fn required_elements() {
    check(
        json!({"resourceType": "Observation"}),
        &[("Observation.status", "required"), ("Observation.code", "required")],
    );
    check(
        observation(json!({"component": [{"valueString": "x"}]})),
        &[("Observation.component[0].code", "required")],
    );
    check(patient(json!({"link": [{"type": "seealso"}]})), &[("Patient.link[0].other", "required")]);
}

#[test]
fn json_kinds() {
    check(patient(json!({"active": "true"})), &[("Patient.active", "structure")]);
    check(patient(json!({"active": 1})), &[("Patient.active", "structure")]);
    check(patient(json!({"birthDate": 19700101})), &[("Patient.birthDate", "structure")]);
    check(patient(json!({"multipleBirthInteger": "2"})), &[("Patient.multipleBirthInteger", "structure")]);
    check(patient(json!({"name": ["Li"]})), &[("Patient.name[0]", "structure")]);
    let issues = validate(&patient(json!({"active": "true"})));
    assert_eq!(
        issues[0].message,
        "a boolean must be a JSON boolean (true or false), found the string \"true\""
    );
}

#[test]
fn integers() {
    valid(patient(json!({"multipleBirthInteger": 2})));
    valid(patient(json!({"multipleBirthInteger": -1})));
    let number = |text: &str| -> Value { serde_json::from_str(text).expect("JSON number") };
    for bad in ["1.5", "2.0", "1e2", "2147483648", "99999999999999999999"] {
        check(
            patient(json!({"multipleBirthInteger": number(bad)})),
            &[("Patient.multipleBirthInteger", "value")],
        );
    }
    // positiveInt and unsignedInt
    let timing = |repeat: Value| observation(json!({"effectiveTiming": {"repeat": repeat}}));
    valid(timing(json!({"count": 1, "offset": 0})));
    check(timing(json!({"count": 0})), &[("Observation.effectiveTiming.repeat.count", "value")]);
    check(timing(json!({"offset": -1})), &[("Observation.effectiveTiming.repeat.offset", "value")]);
}

#[test]
fn dates() {
    for ok in ["2023", "2023-02", "2023-02-28", "2024-02-29", "0001-01-01"] {
        valid(patient(json!({"birthDate": ok})));
    }
    for bad in
        ["2023-02-30", "2023-13-01", "20230101", "2023-1-01", "0000", "2023-02-28T10:00:00Z", "", " 2023"]
    {
        check(patient(json!({"birthDate": bad})), &[("Patient.birthDate", "value")]);
    }
    let issues = validate(&patient(json!({"birthDate": "2023-02-30"})));
    assert_eq!(issues[0].message, "invalid date \"2023-02-30\": 2023-02-30 is not a day of the calendar");
}

#[test]
fn date_times_instants_and_times() {
    for ok in [
        "2023",
        "2023-05",
        "2023-05-06",
        "2023-05-06T10:11:12Z",
        "2023-05-06T10:11:12.345+08:00",
        "2016-12-31T23:59:60Z",
    ] {
        valid(observation(json!({"effectiveDateTime": ok})));
    }
    for bad in [
        "2023-05-06T10:11:12",
        "2023-05-06T10:11Z",
        "2023-05T10:11:12Z",
        "2023-05-06T24:00:00Z",
        "2023-05-06T10:11:12+15:00",
        "2023-02-29",
    ] {
        check(observation(json!({"effectiveDateTime": bad})), &[("Observation.effectiveDateTime", "value")]);
    }
    valid(observation(json!({"issued": "2023-05-06T10:11:12.5Z"})));
    for bad in ["2023-05-06T10:11:12", "2023-05-06", "2023-05-06T10:11Z"] {
        check(observation(json!({"issued": bad})), &[("Observation.issued", "value")]);
    }
    let issues = validate(&observation(json!({"issued": "2023-05-06T10:11:12"})));
    assert!(issues[0].message.contains("needs a time zone"), "{}", issues[0].message);
    valid(observation(json!({"valueTime": "10:11:12"})));
    check(observation(json!({"valueTime": "10:11"})), &[("Observation.valueTime", "value")]);
}

#[test]
fn strings_and_other_primitives() {
    check(patient(json!({"name": [{"family": ""}]})), &[("Patient.name[0].family", "value")]);
    check(patient(json!({"name": [{"family": "  "}]})), &[("Patient.name[0].family", "value")]);
    check(patient(json!({"id": "a b"})), &[("Patient.id", "value")]);
    check(patient(json!({"id": "x".repeat(65)})), &[("Patient.id", "value")]);
    check(patient(json!({"language": " zh"})), &[("Patient.language", "value")]);
    check(patient(json!({"implicitRules": "http://a b"})), &[("Patient.implicitRules", "value")]);
    valid(patient(json!({"identifier": [{"system": "urn:oid:2.16.840.1", "value": "1"}]})));
    let attachment = |a: Value| patient(json!({"photo": [a]}));
    valid(attachment(json!({"data": "aGVsbG8=", "contentType": "text/plain"})));
    check(attachment(json!({"data": "aGVsbG8"})), &[("Patient.photo[0].data", "value")]);
    check(attachment(json!({"data": "a=GVsbG8"})), &[("Patient.photo[0].data", "value")]);
    let warnings = validate(&patient(json!({"name": [{"text": "a\u{1}b"}]})));
    assert_eq!(warnings.len(), 1);
    assert_eq!((warnings[0].severity, warnings[0].code), (Severity::Warning, IssueCode::Value));
    // The narrative is a <div>, not parsed further.
    let narrative = |div: &str| patient(json!({"text": {"status": "generated", "div": div}}));
    valid(narrative("<div xmlns=\"http://www.w3.org/1999/xhtml\">Li Wei</div>"));
    check(narrative("Li Wei"), &[("Patient.text.div", "value")]);
}

#[test]
fn required_bindings() {
    valid(patient(json!({"gender": "female"})));
    check(patient(json!({"gender": "m"})), &[("Patient.gender", "code-invalid")]);
    let issues = validate(&patient(json!({"gender": "m"})));
    assert_eq!(
        issues[0].message,
        "\"m\" is not a code of the required value set http://hl7.org/fhir/ValueSet/administrative-gender; \
         expected one of: male, female, other, unknown"
    );
    check(observation(json!({"status": "done"})), &[("Observation.status", "code-invalid")]);
    check(patient(json!({"contact": [{"gender": "f"}]})), &[("Patient.contact[0].gender", "code-invalid")]);
    // A CodeableConcept under a required binding: one coding must be in the value set.
    let condition = |clinical: Value| json!({"resourceType": "Condition", "subject": {"reference": "Patient/p1"}, "clinicalStatus": clinical});
    let system = "http://terminology.hl7.org/CodeSystem/condition-clinical";
    valid(condition(json!({"coding": [{"system": system, "code": "active"}]})));
    valid(condition(
        json!({"coding": [{"system": "http://example.org", "code": "x"}, {"system": system, "code": "active"}]}),
    ));
    check(
        condition(json!({"coding": [{"system": system, "code": "cured"}]})),
        &[("Condition.clinicalStatus.coding", "code-invalid")],
    );
    check(
        condition(json!({"coding": [{"system": "http://example.org", "code": "active"}]})),
        &[("Condition.clinicalStatus.coding", "code-invalid")],
    );
    // Codes of value sets the package cannot expand (mime types) are not checked.
    valid(patient(json!({"photo": [{"contentType": "anything/at-all"}]})));
}

#[test]
fn lexical_forms() {
    let ok = |t: &str, s: &str| assert_eq!(primitive::check_string(t, s), Ok(()), "{t} {s:?}");
    let bad = |t: &str, s: &str| assert!(primitive::check_string(t, s).is_err(), "{t} {s:?} should fail");
    ok("uuid", "urn:uuid:0b2f8c4e-1c1e-4f7e-9d8b-2b8f6a9d0e11");
    bad("uuid", "urn:uuid:0B2F8C4E-1C1E-4F7E-9D8B-2B8F6A9D0E11");
    bad("uuid", "0b2f8c4e-1c1e-4f7e-9d8b-2b8f6a9d0e11");
    ok("oid", "urn:oid:2.16.840.1.113883");
    bad("oid", "urn:oid:3.1");
    bad("oid", "urn:oid:1.02");
    bad("oid", "urn:oid:1");
    ok("code", "a b");
    bad("code", "a  b");
    bad("code", "a ");
    ok("id", "a-B.9");
    bad("id", "a_b");
    ok("canonical", "http://hl7.org/fhir/ValueSet/x|4.0.1");
    bad("url", "http://a b");
    ok("base64Binary", "aGVs bG8=");
    bad("base64Binary", "aGVsbG8==a=");
    ok("markdown", "  *x*  ");
    bad("string", "\n\t ");
    ok("time", "23:59:59.999");
    bad("time", "23:60:00");
    ok("instant", "2015-02-07T13:28:17.239+14:00");
    bad("instant", "2015-02-07T13:28:17.239+14:30");
    bad("instant", "2015-02-07T13:28:17-05");
}

#[test]
fn empty_values_and_nulls() {
    check(patient(json!({"name": []})), &[("Patient.name", "structure")]);
    check(patient(json!({"name": [{}]})), &[("Patient.name[0]", "structure")]);
    check(patient(json!({"maritalStatus": {}})), &[("Patient.maritalStatus", "structure")]);
    check(patient(json!({"active": null})), &[("Patient.active", "structure")]);
    check(patient(json!({"name": [null]})), &[("Patient.name[0]", "structure")]);
}

#[test]
fn one_choice_per_element() {
    valid(observation(json!({"valueQuantity": {"value": 72, "unit": "/min"}})));
    check(
        observation(json!({"valueString": "x", "valueQuantity": {"value": 1}})),
        &[("Observation.value", "structure")],
    );
    let issues = validate(&observation(json!({"valueString": "x", "valueBoolean": true})));
    assert_eq!(
        issues[0].message,
        "only one type of value[x] may be present, found valueBoolean, valueString"
    );
    // A required choice.
    check(json!({"resourceType": "Parameters", "parameter": [{"name": "a", "valueString": "x"}]}), &[]);
    let issues = validate(&json!({"resourceType": "Age"}));
    assert_eq!(issues.len(), 1, "a datatype is not a resource");
}

#[test]
fn primitive_extensions() {
    let ext = json!({"extension": [{"url": "http://example.org/precision", "valueCode": "day"}]});
    valid(patient(json!({"birthDate": "1970-01-01", "_birthDate": ext.clone()})));
    valid(patient(json!({"_birthDate": ext.clone()})));
    valid(patient(json!({"_birthDate": {"id": "b1"}})));
    check(patient(json!({"_birthDate": "x"})), &[("Patient.birthDate", "structure")]);
    check(patient(json!({"_birthDate": {}})), &[("Patient.birthDate", "structure")]);
    check(patient(json!({"_birthDate": {"value": "x"}})), &[("Patient.birthDate.value", "structure")]);
    check(patient(json!({"_birthDate": [ext.clone()]})), &[("Patient.birthDate", "structure")]);
    check(
        patient(json!({"_birthDate": {"extension": [{"valueCode": "day"}]}})),
        &[("Patient.birthDate.extension[0].url", "required")],
    );
    check(patient(json!({"_name": ext.clone()})), &[("Patient._name", "structure")]);
    check(patient(json!({"_nope": ext.clone()})), &[("Patient._nope", "structure")]);
    // Arrays: aligned, with null where the other side has something.
    let given = |given: Value, ext: Value| patient(json!({"name": [{"given": given, "_given": ext}]}));
    valid(given(json!(["Wei", null]), json!([null, ext.clone()])));
    valid(given(json!(["Wei", "Ming"]), json!([ext.clone(), null])));
    check(given(json!(["Wei", null]), json!([null, null])), &[("Patient.name[0].given[1]", "structure")]);
    check(given(json!(["Wei"]), json!([null, ext.clone()])), &[("Patient.name[0].given", "structure")]);
    check(given(json!(["Wei"]), ext.clone()), &[("Patient.name[0].given", "structure")]);
    check(patient(json!({"name": [{"given": ["Wei", null]}]})), &[("Patient.name[0].given[1]", "structure")]);
    // `id` of an element and `Extension.url` are attributes: no extensions of their own.
    check(
        patient(json!({"name": [{"id": "n1", "_id": ext.clone()}]})),
        &[("Patient.name[0]._id", "structure")],
    );
}

#[test]
fn extensions() {
    let with = |ext: Value| patient(json!({"extension": [ext]}));
    valid(with(json!({"url": "http://example.org/a", "valueString": "x"})));
    valid(with(json!({"url": "http://example.org/a", "extension": [{"url": "b", "valueInteger": 1}]})));
    check(with(json!({"valueString": "x"})), &[("Patient.extension[0].url", "required")]);
    check(
        with(json!({"url": "http://example.org/a", "valueString": "x", "valueCode": "y"})),
        &[("Patient.extension[0].value", "structure")],
    );
    check(
        with(json!({"url": "http://example.org/a", "valueFoo": "x"})),
        &[("Patient.extension[0].valueFoo", "structure")],
    );
}

#[test]
fn decimals() {
    for text in ["1.0", "1.00", "1E-22", "-0.5", "0", "100", "1e+5", "-0.0"] {
        let value: Value = serde_json::from_str(&format!("{{\"value\": {text}}}")).expect("JSON");
        valid(observation(json!({"valueQuantity": value})));
        assert!(primitive::is_decimal(text), "{text}");
    }
    for text in ["01.0", ".5", "1.", "+1", "1e", "1E+", "--1", "1.5.2", "", "0x1", "1,5", " 1"] {
        assert!(!primitive::is_decimal(text), "{text}");
    }
    // serde_json does not parse `01.0` or `.5`; a string holding a number is the wrong JSON kind.
    check(
        observation(json!({"valueQuantity": {"value": "1.0"}})),
        &[("Observation.valueQuantity.value", "structure")],
    );
}

#[test]
fn contained_and_nested_resources() {
    let contained = json!({"resourceType": "Organization", "id": "o1", "name": "Clinic", "foo": 1});
    check(
        patient(json!({"contained": [contained]})),
        &[("Patient.contained[0].ofType(Organization).foo", "structure")],
    );
    check(patient(json!({"contained": [{"id": "o1"}]})), &[("Patient.contained[0]", "required")]);
    check(
        patient(json!({"contained": [{"resourceType": "Nope"}]})),
        &[("Patient.contained[0].resourceType", "not-supported")],
    );
    let bundle = json!({
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [
            {"fullUrl": "urn:uuid:0b2f8c4e-1c1e-4f7e-9d8b-2b8f6a9d0e11", "resource": patient(json!({}))},
            {"resource": patient(json!({"name": [{"family": ""}]}))},
            {"resource": {"resourceType": "Observation", "status": "final"}}
        ]
    });
    check(
        bundle,
        &[
            ("Bundle.entry[1].resource.ofType(Patient).name[0].family", "value"),
            ("Bundle.entry[2].resource.ofType(Observation).code", "required"),
        ],
    );
    let parameters = json!({"resourceType": "Parameters", "parameter": [
        {"name": "p", "resource": {"resourceType": "Patient", "gender": "x"}},
        {"name": "q", "part": [{"name": "r", "valueBoolean": "yes"}]}
    ]});
    check(
        parameters,
        &[
            ("Parameters.parameter[0].resource.ofType(Patient).gender", "code-invalid"),
            ("Parameters.parameter[1].part[0].valueBoolean", "structure"),
        ],
    );
}

#[test]
fn content_references() {
    let questionnaire = json!({"resourceType": "Questionnaire", "status": "draft", "item": [
        {"linkId": "1", "type": "group", "item": [{"linkId": "1.1", "type": "string", "bogus": 1}]}
    ]});
    check(questionnaire, &[("Questionnaire.item[0].item[0].bogus", "structure")]);
}

#[test]
fn reports_all_issues_up_to_a_cap() {
    let mut p = patient(json!({}));
    if let Some(o) = p.as_object_mut() {
        for i in 0..150 {
            o.insert(format!("bad{i}"), json!(1));
        }
    }
    let issues = validate(&p);
    assert_eq!(issues.len(), MAX_ISSUES + 1);
    assert_eq!(issues[MAX_ISSUES].code, IssueCode::TooCostly);
    assert_eq!(issues[MAX_ISSUES].severity, Severity::Warning);
    let several = validate(&json!({"resourceType": "Patient", "gender": "m", "birthDate": "x", "foo": 1}));
    assert_eq!(several.len(), 3);
}

#[test]
fn deep_nesting_does_not_overflow() {
    // Deeper than MAX_DEPTH, but not so deep that dropping the `Value` overflows the stack.
    let mut extension = json!({"url": "u", "valueString": "x"});
    for _ in 0..300 {
        extension = json!({"url": "u", "extension": [extension]});
    }
    let issues = validate(&patient(json!({"extension": [extension]})));
    assert_eq!(issues.len(), 1, "{issues:?}");
    assert_eq!(issues[0].code, IssueCode::TooCostly);
}

#[test]
fn issue_display() {
    let issue = validate(&patient(json!({"gender": ["male"]}))).remove(0);
    assert_eq!(
        issue.to_string(),
        "error [structure] Patient.gender: 'gender' must be a single value, not an array (at most one is allowed)"
    );
}

/// Why `arbitrary_precision` and `preserve_order` are on: a resource goes out as it came in.
/// The significand is kept digit for digit (`1.0` is not `1.00`); serde_json writes the exponent
/// marker in its own way (`1E-22` becomes `1e-22`, `1E22` becomes `1e+22`), which changes neither
/// the value nor the precision of a FHIR decimal.
#[test]
fn numbers_and_key_order_round_trip() {
    let round_trip = |text: &str| -> String {
        let value: Value = serde_json::from_str(text).expect("JSON");
        serde_json::to_string(&value).expect("serialise")
    };
    let text = r#"{"resourceType":"Observation","valueQuantity":{"value":1.0},"b":[1.00,-0.5,12345678901234567890.5,0.10],"a":0}"#;
    assert_eq!(round_trip(text), text);
    assert_eq!(round_trip("[1E-22,1e-22,1E22,2.50E+3]"), "[1e-22,1e-22,1e+22,2.50e+3]");
    let value: Value = serde_json::from_str("1E-22").expect("JSON");
    assert!(primitive::is_decimal(&value.to_string()));
}
