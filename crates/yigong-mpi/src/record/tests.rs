use chrono::NaiveDate;

use super::*;

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 25).unwrap()
}

fn raw(name: &str, sex: &str, birth: &str, id: &str) -> RawRecord {
    let some = |s: &str| (!s.is_empty()).then(|| s.to_owned());
    RawRecord {
        name: some(name),
        sex: some(sex),
        birth_date: some(birth),
        resident_id: some(id),
        ..RawRecord::default()
    }
}

/// Expectation: `name|sex|birth date|id` of the prepared record, `-` for missing.
fn check(input: RawRecord, expect: &str) {
    let prepared = Prepared::new(&Record::from_raw(&input, today()));
    let text = |f| prepared.text(f).unwrap_or("-").to_owned();
    let got = [Field::Name, Field::Sex, Field::BirthDate, Field::ResidentId].map(text).join("|");
    assert_eq!(got, expect, "input: {input:?}");
}

#[test]
fn all_entered() {
    check(raw("张 伟", "男", "1949/12/31", ""), "张伟|male|1949-12-31|-")
}
#[test]
fn sex_and_birth_from_id() {
    check(raw("王芳", "", "", "11010519491231002x"), "王芳|female|1949-12-31|11010519491231002X")
}
#[test]
fn entered_values_win_over_id() {
    check(raw("王芳", "男", "1950-01-01", "11010519491231002X"), "王芳|male|1950-01-01|11010519491231002X")
}
#[test]
fn invalid_id_gives_nothing_derived() {
    check(raw("王芳", "", "", "110105194912310021"), "王芳|-|-|110105194912310021")
}
#[test]
fn old_number_widened() {
    check(raw("", "", "", "110105491231002"), "-|female|1949-12-31|11010519491231002X")
}
#[test]
fn blank_strings_are_missing() {
    check(raw(" ", "9", "unknown", "—"), "-|-|-|-")
}

#[test]
fn both_birth_dates_kept_for_blocking() {
    let record = Record::from_raw(&raw("王芳", "", "1949-12-13", "11010519491231002X"), today());
    let prepared = Prepared::new(&record);
    assert_eq!(prepared.birth_dates().len(), 2);
    assert_eq!(prepared.birth_years(), [1949]);
    assert_eq!(prepared.sexes(), [Sex::Female]);
}
#[test]
fn other_identifiers() {
    let input = RawRecord {
        phone: Some("+86 138-1234-5678".into()),
        village_code: Some("990121101201".into()),
        household_id: Some("h-01".into()),
        e_health_card: Some("ehc 9".into()),
        insurance_number: Some(" ins1 ".into()),
        ..RawRecord::default()
    };
    let prepared = Prepared::new(&Record::from_raw(&input, today()));
    let got =
        [Field::Phone, Field::VillageCode, Field::HouseholdId, Field::EHealthCard, Field::InsuranceNumber]
            .map(|f| prepared.text(f).unwrap_or("-"));
    assert_eq!(got, ["13812345678", "990121101201", "H01", "EHC9", "INS1"]);
}

#[test]
fn latin_fields() {
    let mut input = RawRecord::default();
    for (field, value) in [
        (Field::GivenName, " Lachlan "),
        (Field::FamilyName, "O'BRIEN"),
        (Field::Address, "69  Giblin Street\tKillarney"),
        (Field::Locality, "ST JAMES"),
        (Field::Postcode, "４８１４"),
        (Field::Region, "Qld"),
    ] {
        *input.field_mut(field) = Some(value.to_owned());
    }
    let prepared = Prepared::new(&Record::from_raw(&input, today()));
    let got = [
        Field::GivenName,
        Field::FamilyName,
        Field::Address,
        Field::Locality,
        Field::Postcode,
        Field::Region,
    ]
    .map(|f| prepared.text(f).unwrap_or("-"));
    assert_eq!(got, ["lachlan", "o'brien", "69 giblin street killarney", "st james", "4814", "qld"]);
}
#[test]
fn every_field_has_a_raw_slot() {
    let mut input = RawRecord::default();
    for (n, field) in Field::ALL.iter().enumerate() {
        *input.field_mut(*field) = Some(n.to_string());
    }
    let filled = Field::ALL.iter().filter(|f| input.field_mut(**f).is_some()).count();
    assert_eq!(filled, Field::ALL.len());
}
