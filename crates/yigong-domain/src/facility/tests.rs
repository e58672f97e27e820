use chrono::{NaiveDate, TimeZone, Utc};

use super::*;
use crate::identity::{CountyCode, DivisionCode};
use crate::ids::{ConsortiumId, InstitutionId};

fn consortium() -> Consortium {
    Consortium {
        id: ConsortiumId::new_v7(),
        name: "青岚县医共体".into(),
        county_code: CountyCode::parse("990121").unwrap(),
        founded_on: NaiveDate::from_ymd_opt(2020, 1, 1).unwrap(),
        lead_institution_id: None,
        created_at: Utc.with_ymd_and_hms(2020, 1, 1, 0, 0, 0).unwrap(),
    }
}

fn township(division: &str) -> Institution {
    let now = Utc.with_ymd_and_hms(2020, 1, 1, 0, 0, 0).unwrap();
    Institution {
        id: InstitutionId::new_v7(),
        consortium_id: ConsortiumId::new_v7(),
        code: "T01".into(),
        name: "东关镇卫生院".into(),
        kind: InstitutionKind::Member(Tier::TownshipCentre),
        is_central: true,
        division_code: DivisionCode::parse(division).unwrap(),
        parent_id: None,
        credit_code: None,
        licence_no: None,
        ownership: Ownership::Public,
        services: vec![],
        beds: 40,
        address: None,
        created_at: now,
        updated_at: now,
    }
}

fn draft(tier: &str, division: &str, parent: Option<&Institution>) -> InstitutionDraft {
    InstitutionDraft {
        code: "V001".into(),
        name: "上河村卫生室".into(),
        tier: Some(tier.into()),
        division_code: division.into(),
        parent_id: parent.map(|p| p.id),
        ..Default::default()
    }
}

/// Validates and returns the error codes by field, `field:code` joined with spaces.
fn check(d: &InstitutionDraft, parent: Option<&Institution>, expect: &str) {
    let got = match validate_institution(d, &consortium(), parent) {
        Ok(_) => "ok".to_owned(),
        Err(e) => e.fields.iter().map(|f| format!("{}:{}", f.field, f.code)).collect::<Vec<_>>().join(" "),
    };
    assert_eq!(got, expect, "draft: {d:?}");
}

#[test]
fn service_point_with_its_township_parent() {
    let t = township("990121101000");
    check(&draft("village_service_point", "990121101201", Some(&t)), Some(&t), "ok");
}

#[test]
fn service_point_without_parent() {
    check(&draft("village_service_point", "990121101201", None), None, "parent_id:parent_required");
}

#[test]
fn service_point_in_another_township() {
    let t = township("990121102000");
    check(
        &draft("village_service_point", "990121101201", Some(&t)),
        Some(&t),
        "parent_id:parent_township_mismatch",
    );
}

#[test]
fn service_point_under_a_village_clinic() {
    let mut p = township("990121101000");
    p.kind = InstitutionKind::Member(Tier::VillageClinic);
    check(
        &draft("village_service_point", "990121101201", Some(&p)),
        Some(&p),
        "parent_id:parent_tier_invalid",
    );
}

#[test]
fn parent_named_but_missing() {
    let t = township("990121101000");
    check(&draft("village_clinic", "990121101201", Some(&t)), None, "parent_id:parent_not_found");
}

#[test]
fn county_hospital_takes_no_parent() {
    let t = township("990121101000");
    check(&draft("county_general", "990121000000", Some(&t)), Some(&t), "parent_id:parent_not_allowed");
}

#[test]
fn unknown_tier() {
    check(&draft("hospital", "990121000000", None), None, "tier:tier_unknown");
}

#[test]
fn division_outside_county() {
    check(&draft("county_general", "990122000000", None), None, "division_code:division_code_outside_county");
}

#[test]
fn division_malformed() {
    check(&draft("county_general", "99012100000", None), None, "division_code:division_code_invalid");
}

#[test]
fn village_clinic_needs_village_code() {
    check(&draft("village_clinic", "990121101000", None), None, "division_code:division_level_village");
}

#[test]
fn many_errors_at_once() {
    let mut d = draft("nope", "x", None);
    d.name = "  ".into();
    d.code = "!".into();
    check(
        &d,
        None,
        "code:institution_code_invalid name:required tier:tier_unknown division_code:division_code_invalid",
    );
}

#[test]
fn agency_is_not_a_member() {
    let d = InstitutionDraft {
        code: "A01".into(),
        name: "青岚县疾病预防控制中心".into(),
        agency_kind: Some("cdc".into()),
        division_code: "990121000000".into(),
        ..Default::default()
    };
    let new = validate_institution(&d, &consortium(), None).unwrap();
    assert_eq!(new.kind, InstitutionKind::Agency(AgencyKind::Cdc));
}

#[test]
fn credit_code_check() {
    // Built with our own check function, then one character changed.
    let body = "12990121MB1234567";
    let good = format!("{body}{}", credit_code_check_char(body).unwrap());
    assert!(valid_credit_code(&good));
    let bad = format!("{}{}", &good[..16], if &good[16..17] == "7" { "8" } else { "7" });
    assert!(!valid_credit_code(&format!("{bad}{}", &good[17..])));
    assert!(!valid_credit_code("12990121MB123456I0"), "I is not in the alphabet");
    // A published example: 91350100M000100Y43.
    assert!(valid_credit_code("91350100M000100Y43"));
}

#[test]
fn departments() {
    let ok = DepartmentDraft {
        subject_code: Some("03.01".into()),
        name: "呼吸内科".into(),
        kind: "clinical".into(),
    };
    assert!(validate_department(&ok).is_ok());
    let bad = DepartmentDraft { subject_code: Some("3.1".into()), name: "".into(), kind: "ward".into() };
    let codes: Vec<_> = validate_department(&bad).unwrap_err().fields.iter().map(|f| f.code).collect();
    assert_eq!(codes, ["required", "subject_code_invalid", "department_kind_unknown"]);
}

#[test]
fn grassroots_flag() {
    assert!(Tier::VillageClinic.is_grassroots());
    assert!(Tier::PrivateClinic.is_grassroots());
    assert!(!Tier::CountyTcm.is_grassroots());
}
