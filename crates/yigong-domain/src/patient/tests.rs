use chrono::{NaiveDate, TimeZone, Utc};

use super::*;
use crate::identity::check_char;

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 1).unwrap()
}

fn id(body17: &str) -> String {
    format!("{body17}{}", check_char(body17))
}

fn draft() -> RegistrationDraft {
    RegistrationDraft {
        name: "王小明".into(),
        sex: "male".into(),
        birth_date: "1980-03-05".into(),
        resident_id: Some(id("99012119800305001")),
        phone: Some("138 0013 8000".into()),
        village_code: Some("990121101201".into()),
        ..RegistrationDraft::default()
    }
}

#[test]
fn a_complete_registration_is_accepted_without_warnings() {
    let r = validate_registration(&draft(), today()).unwrap();
    assert_eq!(r.sex, Sex::Male);
    assert!(matches!(r.resident_id, Some(ResidentIdStatus::Valid(_))));
    assert_eq!(r.phone.unwrap().as_str(), "13800138000");
    assert!(r.warnings.is_empty(), "{:?}", r.warnings);
}

#[test]
fn a_malformed_id_is_kept_unverified_with_a_warning() {
    let mut d = draft();
    let mut bad = id("99012119800305001");
    bad.replace_range(17..18, if bad.ends_with('1') { "2" } else { "1" });
    d.resident_id = Some(bad);
    let r = validate_registration(&d, today()).unwrap();
    assert!(matches!(r.resident_id, Some(ResidentIdStatus::Unverified { .. })));
    assert_eq!(r.warnings, vec![RegistrationWarning::ResidentIdUnverified]);
}

#[test]
fn conflicts_between_entered_values_and_the_id_are_flagged_not_overwritten() {
    let mut d = draft();
    d.birth_date = "1980-05-03".into();
    d.sex = "female".into();
    let r = validate_registration(&d, today()).unwrap();
    assert_eq!(r.birth_date, NaiveDate::from_ymd_opt(1980, 5, 3).unwrap());
    assert_eq!(r.sex, Sex::Female);
    assert_eq!(
        r.warnings,
        vec![RegistrationWarning::BirthDateConflictsWithId, RegistrationWarning::SexConflictsWithId]
    );
}

#[test]
fn without_an_id_a_reason_is_required() {
    let mut d = draft();
    d.resident_id = None;
    let e = validate_registration(&d, today()).unwrap_err();
    assert_eq!(e.fields[0].code, "resident_id_or_reason_required");
    d.no_id_reason = Some("newborn".into());
    assert_eq!(validate_registration(&d, today()).unwrap().no_id_reason, Some(NoIdReason::Newborn));
    d.no_id_reason = Some("because".into());
    assert_eq!(validate_registration(&d, today()).unwrap_err().fields[0].code, "no_id_reason_invalid");
}

#[test]
fn every_wrong_field_is_reported_at_once() {
    let d = RegistrationDraft {
        local_id: Some("MZ 001".into()),
        name: " ".into(),
        sex: "x".into(),
        birth_date: "2027-01-01".into(),
        phone: Some("12345".into()),
        village_code: Some("990121".into()),
        ..RegistrationDraft::default()
    };
    let e = validate_registration(&d, today()).unwrap_err();
    let fields: Vec<&str> = e.fields.iter().map(|f| f.field).collect();
    assert_eq!(fields, ["local_id", "name", "sex", "birth_date", "resident_id", "phone", "village_code"]);
}

fn source(n: u8, day: u32) -> SourceDemographics {
    SourceDemographics {
        record: PatientRecordId::from_uuid(uuid::Uuid::from_u128(u128::from(n))),
        name: None,
        sex: None,
        birth_date: None,
        resident_id: None,
        phone: None,
        village_code: None,
        address: None,
        verified: false,
        registered_at: Utc.with_ymd_and_hms(2026, 1, day, 8, 0, 0).unwrap(),
    }
}

#[test]
fn golden_prefers_a_verified_id_and_takes_sex_and_birth_from_it() {
    let born = NaiveDate::from_ymd_opt(1980, 3, 5).unwrap();
    let mut a = source(1, 1);
    a.resident_id = Some(("A".into(), born, Sex::Male));
    let mut b = source(2, 2);
    b.resident_id = Some(("A".into(), born, Sex::Male));
    let mut c = source(3, 3);
    c.resident_id = Some(("B".into(), born, Sex::Female));
    c.verified = true;
    c.sex = Some(Sex::Male);
    let g = golden(&[a.clone(), b.clone(), c.clone()]);
    assert_eq!(g.resident_id.as_ref().unwrap().value, "B", "the chip-read number wins over the majority");
    assert_eq!(g.sex.unwrap().value, Sex::Female, "sex follows the surviving number, not the entered value");
    c.verified = false;
    let g = golden(&[a, b, c]);
    assert_eq!(g.resident_id.unwrap().value, "A", "without a verified record the majority wins");
}

#[test]
fn golden_name_is_the_most_frequent_and_ties_go_to_the_newest() {
    let mut a = source(1, 1);
    a.name = Some("李明".into());
    let mut b = source(2, 2);
    b.name = Some("李铭".into());
    let g = golden(&[a.clone(), b.clone()]);
    assert_eq!(g.name.unwrap().value, "李铭");
    let mut c = source(3, 3);
    c.name = Some("李明".into());
    c.phone = None;
    a.phone = Some("13800000001".into());
    b.phone = Some("13800000002".into());
    let g = golden(&[a, b, c]);
    assert_eq!(g.name.unwrap().value, "李明");
    let phone = g.phone.unwrap();
    assert_eq!(phone.value, "13800000002", "latest record that has a phone");
    assert_eq!(phone.from, PatientRecordId::from_uuid(uuid::Uuid::from_u128(2)));
}

#[test]
fn golden_of_nothing_is_empty() {
    assert_eq!(golden(&[]), Golden::default());
}
