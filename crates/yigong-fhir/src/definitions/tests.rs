use super::*;

#[test]
fn definitions_are_generated_from_the_package() {
    let Some(dir) = test_package_dir() else { return };
    let generated = generate(&dir).unwrap_or_else(|e| panic!("generate from {}: {e}", dir.display()));
    // A mismatch prints no 1 MB diff: the first differing line is enough to see what changed.
    if generated != R4_JSON {
        let first = generated.lines().zip(R4_JSON.lines()).position(|(a, b)| a != b);
        panic!(
            "definitions/r4.json is stale (first difference at line {}); run scripts/fhir-definitions",
            first.map_or_else(|| "end".to_owned(), |i| (i + 1).to_string())
        );
    }
}

#[test]
fn counts() {
    let defs = r4();
    let count = |kind| defs.types().filter(|t| t.kind() == kind).count();
    let elements: usize = defs.types().map(|t| t.elements().len()).sum();
    let bound = defs.types().flat_map(|t| t.elements()).filter(|e| e.binding.is_some()).count();
    let skipped: usize = defs.unexpanded_bindings().iter().map(|b| b.elements.len()).sum();
    eprintln!(
        "{} resources ({} concrete), {} complex types, {} primitive types, {elements} elements; \
         required bindings: {bound} elements checked against {} value sets, {skipped} elements \
         on {} value sets not expandable",
        count(Kind::Resource),
        defs.resource_types().count(),
        count(Kind::ComplexType),
        count(Kind::PrimitiveType),
        defs.value_sets().count(),
        defs.unexpanded_bindings().len(),
    );
    for b in defs.unexpanded_bindings() {
        eprintln!("  unexpanded {}: {} ({})", b.value_set, b.reason, b.elements.join(", "));
    }
    assert_eq!(defs.fhir_version(), "4.0.1");
    assert_eq!(defs.resource_types().count(), 146);
    assert_eq!(count(Kind::PrimitiveType), 20);
    assert!(count(Kind::ComplexType) >= 40);
}

#[test]
fn resource_types() {
    let defs = r4();
    assert!(defs.is_resource("Patient"));
    assert!(defs.is_resource("Bundle"));
    assert!(!defs.is_resource("DomainResource"), "abstract");
    assert!(!defs.is_resource("HumanName"), "a datatype");
    assert!(!defs.is_resource("patient"));
    assert!(defs.resource_types().any(|t| t == "Observation"));
    assert_eq!(defs.type_def("Patient").and_then(TypeDef::base), Some("DomainResource"));
}

#[test]
fn elements() {
    let defs = r4();
    let gender = defs.element("Patient", "gender").expect("Patient.gender");
    assert_eq!(
        (gender.min, gender.max, gender.types.as_slice()),
        (0, Max::Count(1), &["code".to_owned()][..])
    );
    assert_eq!(gender.binding.as_deref(), Some("http://hl7.org/fhir/ValueSet/administrative-gender"));
    let name = defs.element("Patient", "name").expect("Patient.name");
    assert_eq!((name.max, name.is_array()), (Max::Unbounded, true));
    let status = defs.element("Observation", "status").expect("Observation.status");
    assert_eq!(status.min, 1);
    let value = defs.element("Observation", "value[x]").expect("Observation.value[x]");
    assert!(value.is_choice());
    assert!(value.types.iter().any(|t| t == "Quantity") && value.types.iter().any(|t| t == "dateTime"));
    let item = defs.element("Questionnaire", "item.item").expect("Questionnaire.item.item");
    assert_eq!(item.content_reference.as_deref(), Some("#Questionnaire.item"));
    assert!(item.types.is_empty());
    assert!(defs.element("Patient", "contact").expect("Patient.contact").backbone);
    assert!(!defs.element("Patient", "name").expect("Patient.name").backbone);
    assert_eq!(defs.element("Patient", "id").expect("Patient.id").types, ["id"]);
    let url = defs.element("Extension", "url").expect("Extension.url");
    assert!(url.xml_attr && url.min == 1 && url.types == ["uri"]);
    assert!(defs.element("Patient", "nope").is_none());
}

#[test]
fn children() {
    let defs = r4();
    let names: Vec<&str> = defs.children("Patient", "contact").map(Element::name).collect();
    assert_eq!(
        names,
        [
            "id",
            "extension",
            "modifierExtension",
            "relationship",
            "name",
            "telecom",
            "address",
            "gender",
            "organization",
            "period"
        ]
    );
    let top: Vec<&str> = defs.children("Patient", "").map(Element::name).collect();
    assert!(top.contains(&"birthDate") && !top.contains(&"resourceType"));
    assert_eq!(defs.children("Nope", "").count(), 0);
}

#[test]
fn primitives() {
    let defs = r4();
    let json = |t: &str| defs.type_def(t).and_then(TypeDef::json_kind);
    assert_eq!(json("boolean"), Some(JsonKind::Boolean));
    assert_eq!(json("positiveInt"), Some(JsonKind::Integer));
    assert_eq!(json("unsignedInt"), Some(JsonKind::Integer));
    assert_eq!(json("decimal"), Some(JsonKind::Decimal));
    assert_eq!(json("date"), Some(JsonKind::String));
    assert_eq!(json("HumanName"), None);
    let children: Vec<&str> = defs.children("date", "").map(Element::name).collect();
    assert_eq!(children, ["id", "extension"], "the value is not an element");
}

#[test]
fn value_sets() {
    let defs = r4();
    let gender = defs.value_set("http://hl7.org/fhir/ValueSet/administrative-gender|4.0.1").expect("gender");
    assert_eq!(gender.codes().collect::<Vec<_>>(), ["male", "female", "other", "unknown"]);
    assert!(gender.contains(Some("http://hl7.org/fhir/administrative-gender"), "male"));
    assert!(!gender.contains(Some("http://example.org"), "male"));
    assert!(!gender.contains(None, "m"));
    // Mime types (BCP 13) are not in the package.
    assert!(defs.element("Attachment", "contentType").is_some_and(|e| e.binding.is_none()));
    assert!(
        defs.unexpanded_bindings().iter().any(|b| b.value_set == "http://hl7.org/fhir/ValueSet/mimetypes")
    );
}

#[test]
fn every_type_and_reference_resolves() {
    let defs = r4();
    for t in defs.types() {
        for e in t.elements() {
            let here = format!("{}.{}", t.name(), e.path);
            assert!(e.types.iter().all(|code| defs.type_def(code).is_some()), "{here}: {:?}", e.types);
            assert_eq!(e.types.is_empty(), e.content_reference.is_some(), "{here}");
            if let Some(reference) = &e.content_reference {
                let (type_name, path) = reference.trim_start_matches('#').split_once('.').expect("Type.path");
                assert!(defs.element(type_name, path).is_some_and(|e| e.backbone), "{here}: {reference}");
            }
            if let Some(url) = &e.binding {
                assert!(defs.value_set(url).is_some_and(|vs| !vs.is_empty()), "{here}: {url}");
            }
            assert!(e.types.len() == 1 || e.is_choice() || e.types.is_empty(), "{here}");
        }
    }
}
