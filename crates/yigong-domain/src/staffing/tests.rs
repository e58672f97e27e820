use chrono::NaiveDate;

use super::*;
use crate::ids::InstitutionId;

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 25).unwrap()
}

fn draft() -> StaffDraft {
    StaffDraft {
        code: "S0001".into(),
        name: "林晓".into(),
        sex: "female".into(),
        resident_id: Some("11010519491231002X".into()),
        category: "physician".into(),
        title_level: Some("intermediate".into()),
        employer_institution_id: Some(InstitutionId::new_v7()),
        ..Default::default()
    }
}

fn codes(d: &StaffDraft, employer_exists: bool) -> String {
    match validate_staff(d, employer_exists, false, today()) {
        Ok(_) => "ok".into(),
        Err(e) => e.fields.iter().map(|f| format!("{}:{}", f.field, f.code)).collect::<Vec<_>>().join(" "),
    }
}

#[test]
fn valid_staff() {
    assert_eq!(codes(&draft(), true), "ok");
}

#[test]
fn unknown_title_is_allowed_and_kept_unknown() {
    let mut d = draft();
    d.title_level = Some("unknown".into());
    let s = validate_staff(&d, true, false, today()).unwrap();
    assert_eq!(s.title.level, None);
}

#[test]
fn sex_conflicting_with_id() {
    let mut d = draft();
    d.sex = "male".into();
    assert_eq!(codes(&d, true), "sex:sex_conflicts_with_resident_id");
}

#[test]
fn bad_fields() {
    let mut d = draft();
    d.resident_id = Some("110105194912310021".into());
    d.category = "doctor".into();
    d.title_level = Some("professor".into());
    assert_eq!(
        codes(&d, false),
        "resident_id:resident_id_check_digit category:staff_category_unknown title_level:title_level_unknown \
         employer_institution_id:institution_not_found"
    );
}

#[test]
fn title_order() {
    assert!(TitleLevel::Intermediate.at_least_intermediate());
    assert!(TitleLevel::Senior.at_least_intermediate());
    assert!(!TitleLevel::Junior.at_least_intermediate());
}

#[test]
fn posting_period() {
    let inst = InstitutionId::new_v7();
    let d = PostingDraft {
        institution_id: Some(inst),
        valid_from: Some(NaiveDate::from_ymd_opt(2026, 3, 1).unwrap()),
        valid_to: Some(NaiveDate::from_ymd_opt(2026, 2, 1).unwrap()),
        source: Some("dispatch".into()),
        ..Default::default()
    };
    let err = validate_posting(&d, None, None).unwrap_err();
    let codes: Vec<_> = err.fields.iter().map(|f| f.code).collect();
    assert_eq!(codes, ["institution_not_found", "period_reversed"]);
}

#[test]
fn posting_department_of_other_institution() {
    let inst = InstitutionId::new_v7();
    let d = PostingDraft {
        institution_id: Some(inst),
        department_id: Some(crate::ids::DepartmentId::new_v7()),
        valid_from: Some(NaiveDate::from_ymd_opt(2026, 3, 1).unwrap()),
        ..Default::default()
    };
    let err = validate_posting(&d, None, Some(InstitutionId::new_v7())).unwrap_err();
    assert!(err.fields.iter().any(|f| f.code == "department_other_institution"));
}
