//! Unit tests of the search module that need no FHIR package; those that read the official
//! package are in `tests/package.rs`.

mod package;

use chrono::{DateTime, Utc};
use proptest::prelude::*;
use serde_json::{Value, json};

use super::*;

fn utc(text: &str) -> DateTime<Utc> {
    text.parse().unwrap_or_else(|e| panic!("{text}: {e}"))
}

fn span(start: &str, end: &str) -> DatePeriod {
    DatePeriod { start: utc(start), end: utc(end) }
}

fn values<'a>(entries: &'a [IndexEntry], param: &str) -> Vec<&'a IndexValue> {
    entries.iter().filter(|entry| entry.param == param).map(|entry| &entry.value).collect()
}

fn token(system: Option<&str>, code: &str) -> IndexValue {
    IndexValue::Token { system: system.map(str::to_owned), code: code.to_owned() }
}

fn reference(target_type: &str, id: &str) -> IndexValue {
    IndexValue::Reference { target_type: target_type.to_owned(), id: id.to_owned() }
}

// The table.

#[test]
fn table_has_every_served_type_with_common_and_curated_codes() {
    assert_eq!(served_types(), SERVED_TYPES);
    for (resource_type, curated) in CURATED {
        let codes: Vec<&str> = params(resource_type).iter().map(|param| param.code.as_str()).collect();
        let expected: Vec<&str> = COMMON.iter().chain(curated).copied().collect();
        assert_eq!(codes, expected, "{resource_type}");
    }
    assert!(params("Claim").is_empty());
    assert!(param("Patient", "nickname").is_none());
}

#[test]
fn every_parameter_in_the_table_parses_and_starts_from_its_type() {
    for resource_type in served_types() {
        for param in params(resource_type) {
            let parsed = fhirpath::parse(&param.expression)
                .unwrap_or_else(|e| panic!("{resource_type}.{}: {e}", param.code));
            assert!(parsed.roots().iter().all(|root| root == resource_type), "{}", param.expression);
            assert_eq!(param.resource_type, *resource_type);
            assert_eq!(param.kind == ParamType::Reference, !param.targets.is_empty(), "{}", param.code);
        }
    }
}

#[test]
fn table_entries_come_from_the_package_definitions() {
    let patient = param("Observation", "patient").unwrap();
    assert_eq!(patient.kind, ParamType::Reference);
    assert_eq!(patient.expression, "Observation.subject.where(resolve() is Patient)");
    assert_eq!(patient.targets, ["Patient", "Group"]);
    assert_eq!(patient.single_target(), Some("Patient"));
    assert_eq!(patient.definition, "http://hl7.org/fhir/SearchParameter/clinical-patient");
    assert_eq!(param("Observation", "subject").unwrap().single_target(), None);
    assert_eq!(param("Patient", "organization").unwrap().single_target(), Some("Organization"));
    assert_eq!(param("Patient", "_lastUpdated").unwrap().expression, "Patient.meta.lastUpdated");
    assert_eq!(param("Patient", "birthdate").unwrap().kind, ParamType::Date);
}

// The FHIRPath subset.

#[test]
fn expressions_outside_the_subset_do_not_parse() {
    for source in [
        "Patient.deceased.exists() and Patient.deceased != false",
        "Patient.extension('http://example.org/x')",
        "Patient.name[0]",
        "name.given",
        "Patient.telecom.where(system = phone)",
        "(Patient.name",
        "Patient.name is HumanName",
        "",
    ] {
        assert!(fhirpath::parse(source).is_err(), "{source}");
    }
}

#[test]
fn choice_elements_are_found_and_filtered_by_type() {
    let observation = json!({
        "resourceType": "Observation",
        "effectivePeriod": {"start": "2023-05-10"},
        "valueCodeableConcept": {"coding": [{"code": "x"}]},
    });
    let parse = |source| {
        let mut expr = fhirpath::parse(source).unwrap();
        expr.mark_choices(&["effective".to_owned(), "value".to_owned()]);
        expr
    };
    assert_eq!(fhirpath::evaluate(&parse("Observation.effective"), &observation).len(), 1);
    let unmarked = fhirpath::parse("Observation.effective").unwrap();
    assert!(fhirpath::evaluate(&unmarked, &observation).is_empty(), "not a choice: its own key only");
    assert_eq!(fhirpath::evaluate(&parse("Observation.value as Quantity"), &observation).len(), 0);
    assert_eq!(fhirpath::evaluate(&parse("(Observation.value as CodeableConcept)"), &observation).len(), 1);
    assert_eq!(
        fhirpath::evaluate(&parse("Observation.value.ofType(CodeableConcept)"), &observation).len(),
        1
    );
    assert_eq!(fhirpath::evaluate(&parse("Patient.effective"), &observation).len(), 0);
}

#[test]
fn union_parts_are_kept_for_the_type() {
    let shared = "AllergyIntolerance.patient | CarePlan.subject.where(resolve() is Patient) | \
                  (MedicationRequest.medication as Reference) | Condition.subject.where(resolve() is Patient)";
    let restrict = |base, resource_type| generate::restrict(shared, base, resource_type);
    assert_eq!(
        restrict("AllergyIntolerance", "AllergyIntolerance").as_deref(),
        Some("AllergyIntolerance.patient")
    );
    assert_eq!(
        restrict("MedicationRequest", "MedicationRequest").as_deref(),
        Some("(MedicationRequest.medication as Reference)")
    );
    assert_eq!(restrict("Patient", "Patient"), None);
    assert_eq!(
        generate::restrict("Resource.meta.lastUpdated", "Resource", "Task").as_deref(),
        Some("Task.meta.lastUpdated")
    );
    assert_eq!(
        generate::restrict("Patient.telecom.where(system='a|b') | Person.telecom", "Patient", "Patient")
            .as_deref(),
        Some("Patient.telecom.where(system='a|b')")
    );
}

// Dates.

fn check_period(text: &str, expect: Option<(&str, &str)>) {
    let expect = expect.map(|(start, end)| span(start, end));
    assert_eq!(parse_date_period(text), expect, "{text:?}");
}

#[test]
fn year_is_the_whole_year_in_china_time() {
    check_period("2023", Some(("2022-12-31T16:00:00Z", "2023-12-31T16:00:00Z")))
}
#[test]
fn month_is_the_whole_month() {
    check_period("2024-02", Some(("2024-01-31T16:00:00Z", "2024-02-29T16:00:00Z")))
}
#[test]
fn december_ends_next_year() {
    check_period("2023-12", Some(("2023-11-30T16:00:00Z", "2023-12-31T16:00:00Z")))
}
#[test]
fn day_is_the_china_day() {
    check_period("2023-05-10", Some(("2023-05-09T16:00:00Z", "2023-05-10T16:00:00Z")))
}
#[test]
fn date_time_without_zone_is_china_time() {
    check_period("2023-05-10T10:00:00", Some(("2023-05-10T02:00:00Z", "2023-05-10T02:00:01Z")))
}
#[test]
fn date_time_with_zone_covers_its_second() {
    check_period("2023-05-10T10:00:00Z", Some(("2023-05-10T10:00:00Z", "2023-05-10T10:00:01Z")))
}
#[test]
fn fraction_covers_its_last_digit() {
    check_period("2023-05-10T10:00:00.25-03:00", Some(("2023-05-10T13:00:00.25Z", "2023-05-10T13:00:00.26Z")))
}
#[test]
fn minutes_cover_a_minute() {
    check_period("2023-05-10T10:00+08:00", Some(("2023-05-10T02:00:00Z", "2023-05-10T02:01:00Z")))
}
#[test]
fn leap_second_is_the_last_second() {
    check_period("2016-12-31T23:59:60Z", Some(("2016-12-31T23:59:59Z", "2017-01-01T00:00:00Z")))
}
#[test]
fn not_dates() {
    for text in [
        "",
        "23",
        "2023-5",
        "2023-13",
        "2023-02-30",
        "0000",
        "2023-05-10T",
        "2023-05-10T25:00:00Z",
        "2023-05-10T10:00:00+15:00",
        "2023-05-10T10:00:00.Z",
        "2023-05-10 10:00:00",
        "2023T10:00:00Z",
        "２０２３",
    ] {
        check_period(text, None);
    }
}

/// The R4 wording, with the ranges above and below the search value as intervals.
fn spec_date_matches(prefix: Prefix, q: DatePeriod, t: DatePeriod) -> bool {
    let above = DatePeriod { start: q.end, end: DatePeriod::OPEN_END };
    let below = DatePeriod { start: DatePeriod::OPEN_START, end: q.start };
    match prefix {
        Prefix::Eq => q.contains(&t),
        Prefix::Ne => !q.contains(&t),
        Prefix::Gt => above.overlaps(&t),
        Prefix::Lt => below.overlaps(&t),
        Prefix::Ge => above.overlaps(&t) || q.contains(&t),
        Prefix::Le => below.overlaps(&t) || q.contains(&t),
        Prefix::Sa => !q.overlaps(&t) && above.contains(&t),
        Prefix::Eb => !q.overlaps(&t) && below.contains(&t),
        Prefix::Ap => q.overlaps(&t),
    }
}

#[test]
fn date_prefixes_follow_r4() {
    let may = parse_date_period("2023-05").unwrap();
    let day = |text| parse_date_period(text).unwrap();
    let cases = [
        // (indexed, prefixes that match)
        (day("2023-05-10"), "eq ge le ap"),
        (day("2023-04-30"), "ne lt le eb"),
        (day("2023-06-01"), "ne gt ge sa"),
        (span("2023-04-20T00:00:00Z", "2023-05-05T00:00:00Z"), "ne lt le ap"),
        (span("2023-05-20T00:00:00Z", "2023-06-05T00:00:00Z"), "ne gt ge ap"),
        (day("2023"), "ne gt lt ge le ap"),
        (DatePeriod { start: utc("2023-05-15T00:00:00Z"), end: DatePeriod::OPEN_END }, "ne gt ge ap"),
        (may, "eq ge le ap"),
    ];
    for (indexed, expected) in cases {
        let matching: Vec<&str> = Prefix::ALL
            .into_iter()
            .filter(|prefix| date_matches(*prefix, may, indexed))
            .map(Prefix::as_str)
            .collect();
        assert_eq!(matching.join(" "), expected, "{indexed:?}");
    }
}

fn grid_period() -> impl Strategy<Value = DatePeriod> {
    // Small integers make equal bounds, where the prefixes differ, frequent.
    (0i64..12, 1i64..6).prop_map(|(start, length)| DatePeriod {
        start: DateTime::from_timestamp(start * 3600, 0).unwrap(),
        end: DateTime::from_timestamp((start + length) * 3600, 0).unwrap(),
    })
}

proptest! {
    #[test]
    fn sql_bounds_agree_with_the_r4_wording(query in grid_period(), indexed in grid_period(), open in 0u8..3) {
        let indexed = match open {
            1 => DatePeriod { start: DatePeriod::OPEN_START, ..indexed },
            2 => DatePeriod { end: DatePeriod::OPEN_END, ..indexed },
            _ => indexed,
        };
        for prefix in Prefix::ALL {
            let expected = spec_date_matches(prefix, query, indexed);
            prop_assert_eq!(date_matches(prefix, query, indexed), expected, "{:?}", prefix);
            prop_assert_eq!(date_sql_bounds(prefix, query).matches(indexed), expected, "{:?}", prefix);
        }
    }

    #[test]
    fn date_parsing_never_panics(text in "[0-9T:+\\-Z.]{0,40}") {
        let _ = parse_date_period(&text);
    }
}

// Query values.

fn observation(code: &str) -> &'static SearchParam {
    param("Observation", code).unwrap()
}

fn check_query(code: &str, raw: &str, expect: Result<QueryValue, &str>) {
    let parsed = parse_query_value(observation(code), raw);
    assert_eq!(parsed.map_err(|e| e.to_string()), expect.map_err(str::to_owned), "{code}={raw}");
}

fn token_query(system: TokenSystem, code: Option<&str>) -> Result<QueryValue, &'static str> {
    Ok(QueryValue::Token { system, code: code.map(str::to_owned) })
}

#[test]
fn token_code() {
    check_query("code", "29463-7", token_query(TokenSystem::Any, Some("29463-7")))
}
#[test]
fn token_system_and_code() {
    let system = TokenSystem::Is("http://loinc.org".into());
    check_query("code", "http://loinc.org|29463-7", token_query(system, Some("29463-7")))
}
#[test]
fn token_without_system() {
    check_query("code", "|29463-7", token_query(TokenSystem::Absent, Some("29463-7")))
}
#[test]
fn token_any_code_of_system() {
    check_query("code", "http://loinc.org|", token_query(TokenSystem::Is("http://loinc.org".into()), None))
}
#[test]
fn token_escaped_bar() {
    check_query("code", r"a\|b", token_query(TokenSystem::Any, Some("a|b")))
}
#[test]
fn token_nothing() {
    check_query("code", "|", Err("token '|' has neither a system nor a code"))
}
#[test]
fn empty_value() {
    check_query("code", "", Err("search value is empty"))
}

#[test]
fn date_query_with_prefix_and_precision() {
    let may = parse_date_period("2023-05").unwrap();
    check_query("date", "ge2023-05", Ok(QueryValue::Date { prefix: Prefix::Ge, period: may }));
    check_query("date", "2023-05", Ok(QueryValue::Date { prefix: Prefix::Eq, period: may }));
    let instant = parse_date_period("2023-05-10T10:00:00+08:00").unwrap();
    check_query(
        "date",
        "lt2023-05-10T10:00:00 08:00",
        Ok(QueryValue::Date { prefix: Prefix::Lt, period: instant }),
    );
}
#[test]
fn bad_date_query() {
    check_query("date", "2023-13", Err("date '2023-13' is not a FHIR date"));
    check_query("date", "xx2023", Err("date 'xx2023' is not a FHIR date"));
    assert_eq!(parse_query_value(observation("date"), "2023-13").unwrap_err().code(), "search_date_invalid");
}

fn reference_query(target_type: Option<&str>, id: &str) -> Result<QueryValue, &'static str> {
    Ok(QueryValue::Reference { target_type: target_type.map(str::to_owned), id: id.to_owned() })
}

#[test]
fn reference_query_forms() {
    check_query("patient", "Patient/123", reference_query(Some("Patient"), "123"));
    check_query("patient", "123", reference_query(Some("Patient"), "123"));
    check_query("subject", "123", reference_query(None, "123"));
    check_query(
        "encounter",
        "http://example.org/fhir/Encounter/e1/_history/2",
        reference_query(Some("Encounter"), "e1"),
    );
    check_query("patient", "Organization/1", Err("'patient' refers to Patient, Group, not to Organization"));
    check_query("patient", "Patient/", Err("reference 'Patient/' is neither Type/id nor an id"));
    check_query("patient", "a b", Err("reference 'a b' is neither Type/id nor an id"));
}

fn quantity_query(
    prefix: Prefix,
    value: &str,
    system: Option<&str>,
    code: Option<&str>,
) -> Result<QueryValue, &'static str> {
    Ok(QueryValue::Quantity {
        prefix,
        value: value.to_owned(),
        system: system.map(str::to_owned),
        code: code.map(str::to_owned),
    })
}

#[test]
fn quantity_query_forms() {
    let ucum = Some("http://unitsofmeasure.org");
    check_query(
        "value-quantity",
        "ge5.40|http://unitsofmeasure.org|mg",
        quantity_query(Prefix::Ge, "5.40", ucum, Some("mg")),
    );
    check_query("value-quantity", "5.4||mg", quantity_query(Prefix::Eq, "5.4", None, Some("mg")));
    check_query("value-quantity", "1e-3", quantity_query(Prefix::Eq, "1e-3", None, None));
    check_query("value-quantity", "ap-0.5", quantity_query(Prefix::Ap, "-0.5", None, None));
    check_query("value-quantity", "05", Err("'05' is not a FHIR number"));
    check_query("value-quantity", "lt.5|x|y", Err("'lt.5|x|y' is not a FHIR number"));
}

#[test]
fn values_split_on_unescaped_commas() {
    assert_eq!(split_values(r"a,b\,c,,d"), ["a", r"b\,c", "", "d"]);
}

fn check_normalised(raw: &str, expect: &str) {
    assert_eq!(normalise_string(raw), expect, "{raw:?}");
}

#[test]
fn normalisation_strips_latin_accents() {
    check_normalised("Zhāng", "zhang");
    check_normalised("  MÜLLER\t Hans ", "muller hans");
    check_normalised("Ångström", "angstrom");
}
#[test]
fn normalisation_keeps_chinese() {
    check_normalised("张三", "张三");
    check_normalised("Ｚｈａｎｇ 三", "zhang 三");
    check_normalised("한국", "한국");
}

// Extraction.

#[test]
fn quantity_keeps_the_decimal_text() {
    let json = r#"{"resourceType":"Observation","valueQuantity":{"value":1.0,"unit":"mg","system":"http://unitsofmeasure.org","code":"mg"}}"#;
    let resource: Value = serde_json::from_str(json).unwrap();
    let entries = extract(&resource);
    assert_eq!(
        values(&entries, "value-quantity"),
        [&IndexValue::Quantity {
            value: "1.0".into(),
            system: Some("http://unitsofmeasure.org".into()),
            code: Some("mg".into()),
            unit: Some("mg".into()),
        }]
    );
    // Trailing zeros stay; serde_json does rewrite an exponent (`1E-22` becomes `1e-22`).
    let small: Value =
        serde_json::from_str(r#"{"resourceType":"Observation","valueQuantity":{"value":0.0010}}"#).unwrap();
    let entries = extract(&small);
    assert!(
        matches!(values(&entries, "value-quantity")[..], [IndexValue::Quantity { value, .. }] if value == "0.0010")
    );
}

#[test]
fn date_time_without_zone_is_indexed_in_china_time() {
    let resource = json!({"resourceType": "Observation", "effectiveDateTime": "2023-05-10T10:00:00"});
    let entries = extract(&resource);
    assert_eq!(
        values(&entries, "date"),
        [&IndexValue::Date(span("2023-05-10T02:00:00Z", "2023-05-10T02:00:01Z"))]
    );
}

#[test]
fn periods_with_open_ends() {
    let resource = json!({
        "resourceType": "Encounter",
        "period": {"start": "2023-05-10"},
    });
    let entries = extract(&resource);
    let expected = DatePeriod { start: utc("2023-05-09T16:00:00Z"), end: DatePeriod::OPEN_END };
    assert_eq!(values(&entries, "date"), [&IndexValue::Date(expected)]);
    let backwards = json!({"resourceType": "Encounter", "period": {"start": "2023", "end": "2022"}});
    assert!(values(&extract(&backwards), "date").is_empty());
    let spoilt = json!({"resourceType": "Encounter", "period": {"start": "2023", "end": "soon"}});
    assert!(values(&extract(&spoilt), "date").is_empty());
}

#[test]
fn references_relative_absolute_urn_and_contained() {
    let resource = json!({
        "resourceType": "Observation",
        "subject": {"reference": "urn:uuid:8c2f9b1e-8a0b-4c1e-9a4e-2f1d8c7b6a5e"},
        "performer": [
            {"reference": "Practitioner/p1"},
            {"reference": "http://example.org/fhir/Organization/o1/_history/3"},
            {"reference": "#contained"},
            {"reference": "p2", "type": "PractitionerRole"},
            {"reference": "p3"},
            {"identifier": {"value": "only-logical"}},
        ],
    });
    let entries = extract(&resource);
    assert_eq!(
        values(&entries, "subject"),
        [&IndexValue::Urn("urn:uuid:8c2f9b1e-8a0b-4c1e-9a4e-2f1d8c7b6a5e".into())]
    );
    assert!(values(&entries, "patient").is_empty(), "a urn without type is not known to be a Patient");
    assert_eq!(
        values(&entries, "performer"),
        [
            &reference("Practitioner", "p1"),
            &reference("Organization", "o1"),
            &reference("PractitionerRole", "p2")
        ]
    );
    let typed =
        json!({"resourceType": "Observation", "subject": {"reference": "urn:uuid:1", "type": "Patient"}});
    assert_eq!(values(&extract(&typed), "patient"), [&IndexValue::Urn("urn:uuid:1".into())]);
}

#[test]
fn patient_filter_keeps_only_patients() {
    let group = json!({"resourceType": "Condition", "subject": {"reference": "Group/g1"}});
    let entries = extract(&group);
    assert_eq!(values(&entries, "subject"), [&reference("Group", "g1")]);
    assert!(values(&entries, "patient").is_empty());
}

#[test]
fn tokens_of_identifiers_contact_points_and_primitives() {
    let resource = json!({
        "resourceType": "Patient",
        "id": "p1",
        "identifier": [
            {"system": "urn:oid:2.16.156.10011.1.5", "value": "110105194912310029"},
            {"value": "no-system"},
            {"system": "urn:x"},
        ],
        "telecom": [{"system": "phone", "value": "13800138000"}, {"system": "email", "value": "a@b.cn"}, {"use": "home"}],
        "active": true,
        "gender": "female",
    });
    let entries = extract(&resource);
    assert_eq!(values(&entries, "_id"), [&token(None, "p1")]);
    assert_eq!(
        values(&entries, "identifier"),
        [&token(Some("urn:oid:2.16.156.10011.1.5"), "110105194912310029"), &token(None, "no-system")]
    );
    assert_eq!(values(&entries, "phone"), [&token(None, "13800138000")]);
    assert_eq!(values(&entries, "telecom"), [&token(None, "13800138000"), &token(None, "a@b.cn")]);
    assert_eq!(values(&entries, "active"), [&token(None, "true")]);
    assert_eq!(values(&entries, "gender"), [&token(None, "female")]);
}

#[test]
fn codeable_concepts_give_their_codings_not_their_text() {
    let resource = json!({
        "resourceType": "Condition",
        "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10", "code": "I10"}, {"display": "no code"}], "text": "高血压"},
        "category": [{"text": "only text"}],
    });
    let entries = extract(&resource);
    assert_eq!(values(&entries, "code"), [&token(Some("http://hl7.org/fhir/sid/icd-10"), "I10")]);
    assert!(values(&entries, "category").is_empty());
}

#[test]
fn names_and_addresses_are_normalised_parts() {
    let resource = json!({
        "resourceType": "Patient",
        "name": [{"text": "张三", "family": "张", "given": ["三"]}, {"family": "Zhāng", "given": ["San"], "prefix": ["Dr."]}],
        "address": [{"line": ["人民路 1 号"], "city": "Xiāngtán", "district": "雨湖区", "postalCode": "411100", "country": "CN"}],
    });
    let entries = extract(&resource);
    let strings = |param| -> Vec<String> {
        values(&entries, param)
            .into_iter()
            .map(|value| match value {
                IndexValue::String(text) => text.clone(),
                other => panic!("{other:?}"),
            })
            .collect()
    };
    assert_eq!(strings("name"), ["张", "三", "张三", "zhang", "san", "dr."]);
    assert_eq!(strings("family"), ["张", "zhang"]);
    assert_eq!(strings("given"), ["三", "san"]);
    assert_eq!(strings("address"), ["人民路 1 号", "xiangtan", "雨湖区", "411100", "cn"]);
}

#[test]
fn unserved_or_malformed_resources_give_nothing() {
    assert!(extract(&json!({"resourceType": "Claim", "id": "x"})).is_empty());
    assert!(extract(&json!([1, 2])).is_empty());
    assert!(extract(&json!({"resourceType": 7})).is_empty());
    let odd =
        json!({"resourceType": "Observation", "subject": "Patient/1", "code": 5, "effectiveDateTime": false});
    let entries = extract(&odd);
    assert_eq!(values(&entries, "code"), [&token(None, "5")]);
    assert_eq!(values(&entries, "subject"), [&reference("Patient", "1")]);
}

/// JSON shaped loosely like a served resource, with the keys and strings extraction looks at.
fn resource_like() -> impl Strategy<Value = Value> {
    let text = prop_oneof![
        Just("Patient/1".to_owned()),
        Just("urn:uuid:1".to_owned()),
        Just("#c".to_owned()),
        Just("http://x/Patient/1/_history/2".to_owned()),
        Just("2023-05-10T10:00:00.123456789123+08:00".to_owned()),
        Just("phone".to_owned()),
        "[0-9T:\\-+Z./|#a-zA-Z ]{0,24}",
        any::<String>(),
    ];
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        text.prop_map(Value::String),
    ];
    let keys = prop_oneof![
        Just("subject"),
        Just("reference"),
        Just("type"),
        Just("value"),
        Just("valueQuantity"),
        Just("effectiveDateTime"),
        Just("effectivePeriod"),
        Just("start"),
        Just("end"),
        Just("coding"),
        Just("code"),
        Just("system"),
        Just("identifier"),
        Just("name"),
        Just("given"),
        Just("telecom"),
        Just("period"),
        Just("meta"),
        Just("lastUpdated"),
        Just("medicationCodeableConcept"),
        Just("for"),
        Just("context"),
        Just("encounter"),
    ];
    let inner = leaf.prop_recursive(4, 64, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((keys.clone(), inner), 0..6).prop_map(|fields| {
                Value::Object(fields.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
            }),
        ]
    });
    (
        prop::sample::select(SERVED_TYPES.to_vec()),
        prop::collection::vec(("[a-zA-Z]{1,12}", inner.clone()), 0..4),
        inner,
    )
        .prop_map(|(resource_type, extra, body)| {
            let mut object = match body {
                Value::Object(object) => object,
                other => [("code".to_owned(), other)].into_iter().collect(),
            };
            object.extend(extra);
            object.insert("resourceType".into(), Value::from(resource_type));
            Value::Object(object)
        })
}

proptest! {
    #[test]
    fn extraction_never_panics(resource in resource_like()) {
        let entries = extract(&resource);
        let mut seen = std::collections::HashSet::new();
        for entry in &entries {
            prop_assert!(seen.insert(entry), "duplicate {:?}", entry);
        }
    }

    #[test]
    fn query_parsing_never_panics(raw in any::<String>(), index in 0usize..64) {
        let all: Vec<&SearchParam> = served_types().iter().flat_map(|t| params(t)).collect();
        let _ = parse_query_value(all[index % all.len()], &raw);
        let _ = normalise_string(&raw);
        let _ = split_values(&raw);
    }
}
