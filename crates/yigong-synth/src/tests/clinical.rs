//! The clinical year: determinism, volumes of DESIGN.md §10 scaled to the county, patient keys
//! that are registrations of the right resident, references that resolve within a village, the
//! chronic patients' measurements and the shape of each resource.

use std::collections::{HashMap, HashSet};

use serde_json::Value;
use yigong_domain::facility::Tier;

use super::small;
use crate::{
    ClinicalResource, PATIENT_PLACEHOLDER, SynthConfig, VillageClinical, clinical, organisation,
    registrations,
};

/// Counts of one county's year.
#[derive(Debug, Default)]
struct Volumes {
    residents: usize,
    visits: usize,
    by_tier: [usize; 3],
    home: usize,
    emergency: usize,
    admissions: usize,
    admissions_in_county: usize,
    with_observations: usize,
    with_prescription: usize,
    prescriptions: usize,
    by_type: HashMap<&'static str, usize>,
    allergic: usize,
    adults_35: usize,
    hypertensive_35: usize,
    diabetic_35: usize,
}

fn class(r: &ClinicalResource) -> &str {
    r.body["class"]["code"].as_str().expect("an encounter has a class")
}

fn volumes(cfg: &SynthConfig) -> Volumes {
    let org = organisation(cfg);
    let tiers: HashMap<_, _> = org.institutions.iter().filter_map(|i| Some((i.id, i.kind.tier()?))).collect();
    // Resident of each registration, and each resident's age.
    let mut person_of = HashMap::new();
    for v in registrations(cfg, &org) {
        for (r, t) in v.registrations.into_iter().zip(v.truth) {
            person_of.insert((r.source, r.local_id), t.person);
        }
    }
    let ages: HashMap<String, u32> = crate::residents(cfg, &org)
        .flat_map(|v| v.records)
        .map(|r| (r.record_no, cfg.today.years_since(r.birth_date).unwrap_or(0)))
        .collect();
    let mut out = Volumes { residents: ages.len(), ..Volumes::default() };
    let mut hypertensive = HashSet::new();
    let mut diabetic = HashSet::new();
    for v in clinical(cfg, &org) {
        let mut observed = HashSet::new();
        let mut prescribed = HashSet::new();
        for r in &v.resources {
            *out.by_type.entry(r.resource_type).or_default() += 1;
            let person = &person_of[&(r.patient_source.clone(), r.patient_local_id.clone())];
            let encounter = r.body["encounter"]["reference"].as_str();
            match r.resource_type {
                "Encounter" if class(r) == "IMP" => {
                    out.admissions += 1;
                    out.admissions_in_county += usize::from(tiers[&r.institution_id].is_county_level());
                }
                "Encounter" => {
                    out.visits += 1;
                    out.home += usize::from(class(r) == "HH");
                    out.emergency += usize::from(class(r) == "EMER");
                    out.by_tier[match tiers[&r.institution_id] {
                        t if t.is_county_level() => 2,
                        Tier::TownshipCentre | Tier::CommunityCentre => 1,
                        _ => 0,
                    }] += 1;
                }
                "Condition" => match r.body["code"]["coding"][0]["code"].as_str() {
                    Some("I10.x00x002") => _ = hypertensive.insert(person.clone()),
                    Some("E11.900") => _ = diabetic.insert(person.clone()),
                    _ => {}
                },
                "Observation" => _ = observed.insert(encounter.expect("in an encounter").to_owned()),
                "MedicationRequest" if r.body["category"][0]["coding"][0]["code"] == "outpatient" => {
                    _ = prescribed.insert(encounter.expect("in an encounter").to_owned())
                }
                "AllergyIntolerance" => out.allergic += 1,
                _ => {}
            }
        }
        let outpatient: HashSet<String> = v
            .resources
            .iter()
            .filter(|r| r.resource_type == "Encounter" && class(r) != "IMP")
            .map(|r| format!("Encounter/{}", r.id))
            .collect();
        out.with_observations += observed.intersection(&outpatient).count();
        out.with_prescription += prescribed.intersection(&outpatient).count();
        out.prescriptions += prescribed.len();
    }
    for (person, &age) in &ages {
        if age >= 35 {
            out.adults_35 += 1;
            out.hypertensive_35 += usize::from(hypertensive.contains(person));
            out.diabetic_35 += usize::from(diabetic.contains(person));
        }
    }
    out
}

fn all(villages: &[VillageClinical]) -> impl Iterator<Item = &ClinicalResource> {
    villages.iter().flat_map(|v| &v.resources)
}

#[test]
fn same_config_same_year() {
    let cfg = small();
    let org = organisation(&cfg);
    let a: Vec<VillageClinical> = clinical(&cfg, &org).collect();
    let b: Vec<VillageClinical> = clinical(&cfg, &org).collect();
    assert_eq!(a, b);
    let text = |v: &[VillageClinical]| all(v).map(|r| r.body.to_string()).collect::<Vec<_>>();
    assert_eq!(text(&a), text(&b), "byte for byte");
    let other = SynthConfig { seed: 7, ..cfg.clone() };
    let c: Vec<VillageClinical> = clinical(&other, &organisation(&other)).collect();
    assert_ne!(text(&a)[..100], text(&c)[..100]);
    // One village at a time, in the residents' order, lazily: the first village alone is the
    // same as the first of the whole run.
    let first = clinical(&cfg, &org).next().expect("a village");
    assert_eq!(first, a[0]);
    let villages: Vec<String> = crate::residents(&cfg, &org).map(|v| v.village_code).collect();
    assert_eq!(villages, a.iter().map(|v| v.village_code.clone()).collect::<Vec<_>>());
    let ids: HashSet<_> = all(&a).map(|r| r.id).collect();
    assert_eq!(ids.len(), all(&a).count(), "ids are unique");
    assert!(all(&a).all(|r| r.body["id"] == r.id.to_string() && r.body["resourceType"] == r.resource_type));
}

/// Within ± 15% of `target`.
fn near(value: f64, target: f64) -> bool {
    (value - target).abs() <= 0.15 * target
}

/// DESIGN.md §10 for 400 000 residents, scaled to 2 000: 2.4 M visits (village 0.75 M, township
/// 0.7 M, county 0.95 M), 76–85 k admissions (~90% at the county hospitals), 1.7 M
/// prescriptions; a quarter of adults 35 and over hypertensive, 8–10% diabetic.
#[test]
fn volumes_match_the_design_scaled_to_the_county() {
    let v = volumes(&small());
    let per = |n: usize| n as f64 / v.residents as f64;
    assert!(near(per(v.visits), 6.0), "{v:#?}");
    assert!(near(per(v.admissions), 0.2), "{v:#?}");
    assert!(near(per(v.prescriptions), 1.7 / 0.4), "{v:#?}");
    let share = |n: usize| n as f64 / v.visits as f64;
    assert!(near(share(v.by_tier[0]), 0.75 / 2.4), "{v:#?}");
    assert!(near(share(v.by_tier[1]), 0.7 / 2.4), "{v:#?}");
    assert!(near(share(v.by_tier[2]), 0.95 / 2.4), "{v:#?}");
    assert!(v.admissions_in_county as f64 >= 0.85 * v.admissions as f64, "{v:#?}");
    assert!((0.02..0.08).contains(&share(v.home)) && (0.01..0.03).contains(&share(v.emergency)), "{v:#?}");
    assert!((0.4..0.65).contains(&share(v.with_observations)), "{v:#?}");
    assert!((0.6..0.8).contains(&share(v.with_prescription)), "{v:#?}");
    let adults = v.adults_35 as f64;
    assert!(near(v.hypertensive_35 as f64 / adults, 0.25), "{v:#?}");
    assert!((0.08..=0.10).contains(&(v.diabetic_35 as f64 / adults)), "{v:#?}");
    assert!((0.03..0.05).contains(&per(v.allergic)), "{v:#?}");
    assert_eq!(v.by_type["DocumentReference"], v.admissions, "a discharge summary per admission");
    let resources: usize = v.by_type.values().sum();
    assert!((22.0..32.0).contains(&per(resources)), "{v:#?}");
}

/// The person of every registration, and the sources where each person is registered.
struct Registry {
    person_of: HashMap<(String, String), String>,
    sources_of: HashMap<String, HashSet<String>>,
}

fn registry(cfg: &SynthConfig, org: &crate::Organisation) -> Registry {
    let mut r = Registry { person_of: HashMap::new(), sources_of: HashMap::new() };
    for v in registrations(cfg, org) {
        for (reg, t) in v.registrations.into_iter().zip(v.truth) {
            r.sources_of.entry(t.person.clone()).or_default().insert(reg.source.clone());
            r.person_of.insert((reg.source, reg.local_id), t.person);
        }
    }
    r
}

/// The encounter a resource belongs to (itself for an encounter).
fn encounter_of(r: &ClinicalResource) -> String {
    if r.resource_type == "Encounter" {
        return format!("Encounter/{}", r.id);
    }
    let reference = match r.resource_type {
        "DocumentReference" => &r.body["context"]["encounter"][0]["reference"],
        _ => &r.body["encounter"]["reference"],
    };
    reference.as_str().unwrap_or_else(|| panic!("{} without encounter", r.resource_type)).to_owned()
}

#[test]
fn patient_keys_are_registrations_of_the_resident_at_that_institution() {
    let cfg = small();
    let org = organisation(&cfg);
    let registry = registry(&cfg, &org);
    let codes: HashMap<_, _> = org.institutions.iter().map(|i| (i.id, i.code.as_str())).collect();
    let mut at_other_source = 0;
    for v in clinical(&cfg, &org) {
        let mut person_of_encounter: HashMap<String, &String> = HashMap::new();
        for r in &v.resources {
            let key = (r.patient_source.clone(), r.patient_local_id.clone());
            let person =
                registry.person_of.get(&key).unwrap_or_else(|| panic!("{key:?} is not a registration"));
            assert_eq!(&person[..12], v.village_code, "a resident of the village");
            let first = person_of_encounter.entry(encounter_of(r)).or_insert(person);
            assert_eq!(*first, person, "one patient per encounter");
            let code = codes[&r.institution_id];
            if registry.sources_of[person].contains(code) {
                assert_eq!(r.patient_source, code, "the registration where it happened");
            } else {
                at_other_source += 1;
            }
        }
    }
    // Registrations are mostly at the village site or the township centre, so many county
    // visits are keyed by the registration elsewhere.
    assert!(at_other_source > 0);
}

/// Every `reference` string in `value`.
fn references<'v>(value: &'v Value, out: &mut Vec<&'v str>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                match (k.as_str(), v) {
                    ("reference", Value::String(s)) => out.push(s),
                    _ => references(v, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| references(v, out)),
        _ => {}
    }
}

#[test]
fn references_resolve_within_the_village_batch() {
    let cfg = small();
    let org = organisation(&cfg);
    let institutions: HashSet<String> = org.institutions.iter().map(|i| i.id.to_string()).collect();
    let staff: HashSet<String> = org.staff.iter().map(|(s, _)| s.id.to_string()).collect();
    let posted: HashSet<(String, String)> =
        org.postings.iter().map(|p| (p.staff_id.to_string(), p.institution_id.to_string())).collect();
    let mut counted = HashMap::<String, usize>::new();
    for v in clinical(&cfg, &org) {
        let ids: HashMap<String, &ClinicalResource> =
            v.resources.iter().map(|r| (format!("{}/{}", r.resource_type, r.id), r)).collect();
        for r in &v.resources {
            let mut refs = Vec::new();
            references(&r.body, &mut refs);
            for reference in refs {
                let (kind, id) = reference.split_once('/').expect("type/id");
                *counted.entry(kind.to_owned()).or_default() += 1;
                match kind {
                    "Patient" => assert_eq!(reference, PATIENT_PLACEHOLDER),
                    "Organization" => {
                        assert!(institutions.contains(id));
                        assert_eq!(id, r.institution_id.to_string(), "owned where it happened");
                    }
                    "Practitioner" => {
                        assert!(staff.contains(id));
                        assert!(
                            posted.contains(&(id.to_owned(), r.institution_id.to_string())),
                            "posted there"
                        );
                    }
                    "Encounter" | "Condition" | "Observation" => {
                        let target =
                            ids.get(reference).unwrap_or_else(|| panic!("{reference} not in the batch"));
                        assert_eq!(target.institution_id, r.institution_id);
                        assert_eq!(target.patient_local_id, r.patient_local_id);
                    }
                    other => panic!("unexpected reference to {other}"),
                }
            }
            if r.resource_type == "Condition" {
                // The encounter lists its diagnoses.
                let encounter = ids[r.body["encounter"]["reference"].as_str().expect("encounter")];
                let own = format!("Condition/{}", r.id);
                let listed = encounter.body["diagnosis"].as_array().expect("diagnoses");
                assert!(listed.iter().any(|d| d["condition"]["reference"] == own.as_str()));
            }
            if r.resource_type == "DiagnosticReport" {
                let results = r.body["result"].as_array().expect("results");
                assert!(!results.is_empty());
                for result in results {
                    let target = ids[result["reference"].as_str().expect("reference")];
                    assert_eq!(target.body["category"][0]["coding"][0]["code"], "laboratory");
                }
            }
        }
    }
    for kind in ["Patient", "Organization", "Practitioner", "Encounter", "Condition", "Observation"] {
        assert!(counted.get(kind).copied().unwrap_or(0) > 100, "{kind}: {counted:?}");
    }
}

#[test]
fn chronic_patients_have_their_measurements() {
    let cfg = small();
    let org = organisation(&cfg);
    let registry = registry(&cfg, &org);
    let mut diagnosed: HashMap<&str, HashSet<&String>> = HashMap::new();
    let mut measured: HashMap<&str, HashMap<&String, usize>> = HashMap::new();
    let villages: Vec<VillageClinical> = clinical(&cfg, &org).collect();
    for r in all(&villages) {
        let person = &registry.person_of[&(r.patient_source.clone(), r.patient_local_id.clone())];
        let code = r.body["code"]["coding"][0]["code"].as_str().unwrap_or("");
        match (r.resource_type, code) {
            ("Condition", "I10.x00x002" | "E11.900") => _ = diagnosed.entry(code).or_default().insert(person),
            ("Observation", "85354-9" | "14771-0" | "14770-2") => {
                let disease = if code == "85354-9" { "I10.x00x002" } else { "E11.900" };
                *measured.entry(disease).or_default().entry(person).or_default() += 1;
            }
            _ => {}
        }
    }
    for disease in ["I10.x00x002", "E11.900"] {
        let patients = &diagnosed[disease];
        let counts = &measured[disease];
        let missing: Vec<_> = patients.iter().filter(|p| !counts.contains_key(**p)).collect();
        assert!(missing.is_empty(), "{disease}: {} of {} never measured", missing.len(), patients.len());
        let mean = patients.iter().map(|p| counts[*p]).sum::<usize>() as f64 / patients.len() as f64;
        assert!(mean >= 3.0, "{disease}: {mean} measurements a year");
    }
}

/// `2026-03-14T09:20:00+08:00`.
fn is_datetime(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 25
        && s.ends_with("+08:00")
        && b.iter().enumerate().all(|(k, c)| match k {
            4 | 7 => *c == b'-',
            10 => *c == b'T',
            13 | 16 => *c == b':',
            19..=24 => true,
            _ => c.is_ascii_digit(),
        })
}

/// The digits after the point of a number as written.
fn places(value: &Value) -> usize {
    let text = value.to_string();
    text.split_once('.').map_or(0, |(_, f)| f.len())
}

#[test]
fn resources_have_the_shape_of_fhir_r4() {
    use base64::Engine;
    let cfg = SynthConfig { residents: 600, ..small() };
    let org = organisation(&cfg);
    let year = (cfg.today - chrono::Days::new(365), cfg.today);
    assert_eq!(PATIENT_PLACEHOLDER, "Patient/{PATIENT}");
    let mut seen = HashSet::new();
    for r in clinical(&cfg, &org).flat_map(|v| v.resources) {
        let b = &r.body;
        seen.insert(r.resource_type);
        assert!(r.occurred.date_naive() >= year.0 - chrono::Days::new(1) && r.occurred.date_naive() < year.1);
        match r.resource_type {
            "Encounter" => {
                assert_eq!(b["status"], "finished");
                assert_eq!(b["class"]["system"], "http://terminology.hl7.org/CodeSystem/v3-ActCode");
                assert!(["AMB", "IMP", "EMER", "HH"].contains(&class(&r)));
                assert!(is_datetime(b["period"]["start"].as_str().expect("start")));
                assert!(b["period"]["start"].as_str() < b["period"]["end"].as_str());
                assert_eq!(b["subject"]["reference"], PATIENT_PLACEHOLDER);
                assert!(b["type"].is_array() && b["diagnosis"].is_array());
            }
            "Condition" => {
                assert_eq!(b["code"]["coding"][0]["system"], "urn:oid:2.16.156.10011.2.3.3.11");
                assert_eq!(b["category"][0]["coding"][0]["code"], "encounter-diagnosis");
                assert!(is_datetime(b["recordedDate"].as_str().expect("recorded")));
            }
            "Observation" => {
                assert!(
                    b["category"].is_array()
                        && is_datetime(b["effectiveDateTime"].as_str().expect("effective"))
                );
                let value = &b["valueQuantity"]["value"];
                match b["code"]["coding"][0]["code"].as_str().expect("LOINC") {
                    "85354-9" => assert_eq!(b["component"][0]["valueQuantity"]["code"], "mm[Hg]"),
                    "8310-5" => assert_eq!(places(value), 1, "{value}"),
                    "14771-0" => {
                        assert_eq!(places(value), 2, "{value}");
                        assert_eq!(b["referenceRange"][0]["high"]["value"].to_string(), "6.10");
                        assert!(b["interpretation"][0]["coding"][0]["code"].is_string());
                    }
                    "4548-4" | "14770-2" => assert_eq!(places(value), 1, "{value}"),
                    "8867-4" | "14682-9" => assert_eq!(places(value), 0, "{value}"),
                    other => panic!("unexpected observation {other}"),
                }
            }
            "MedicationRequest" => {
                let coding = &b["medicationCodeableConcept"]["coding"][0];
                assert_eq!(coding["system"], "urn:yigong:catalogue:drug");
                let code = coding["code"].as_str().expect("code");
                assert!(code.len() == 5 && code.starts_with('D'), "{code}");
                assert_eq!(b["intent"], "order");
                assert!(b["dosageInstruction"][0]["text"].is_string());
                assert!(b["dispenseRequest"]["quantity"]["value"].as_u64().is_some_and(|q| q > 0));
            }
            "DocumentReference" => {
                assert_eq!(b["type"]["coding"][0]["code"], "18842-5");
                let attachment = &b["content"][0]["attachment"];
                assert_eq!(attachment["contentType"], "text/plain; charset=utf-8");
                let data = base64::engine::general_purpose::STANDARD
                    .decode(attachment["data"].as_str().expect("data"))
                    .expect("base64");
                let text = String::from_utf8(data).expect("UTF-8");
                assert!(text.starts_with("出院小结\n入院日期："), "{text}");
            }
            "AllergyIntolerance" => assert_eq!(b["patient"]["reference"], PATIENT_PLACEHOLDER),
            "DiagnosticReport" => assert_eq!(b["status"], "final"),
            other => panic!("unexpected {other}"),
        }
    }
    assert_eq!(seen.len(), 7, "{seen:?}");
}

/// Every resource of a small county passes the structural validation of FHIR R4 without an
/// issue, warnings included (and the validator does see a broken one).
#[test]
fn every_resource_validates_as_fhir_r4() {
    let cfg = SynthConfig { residents: 600, ..small() };
    let org = organisation(&cfg);
    let mut checked = 0;
    let mut broken = None;
    for r in clinical(&cfg, &org).flat_map(|v| v.resources) {
        let issues = yigong_fhir::validate::validate_as(&r.body, r.resource_type);
        let issues: Vec<String> = issues.iter().map(ToString::to_string).collect();
        assert!(issues.is_empty(), "{}: {issues:#?}\n{:#}", r.resource_type, r.body);
        if broken.is_none() && r.resource_type == "Encounter" {
            let mut b = r.body.clone();
            b["class"] = Value::Array(vec![b["class"].clone()]); // 0..1 in R4
            broken = Some(b);
        }
        checked += 1;
    }
    assert!(checked > 10_000, "{checked}");
    assert!(!yigong_fhir::validate::validate(&broken.expect("an encounter")).is_empty());
}
