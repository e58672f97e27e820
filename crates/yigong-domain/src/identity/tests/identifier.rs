//! Identifier kinds: accepted values with their normal form, rejected ones with their code.

use super::today;
use crate::identity::*;

/// `Ok` carries "system|value" as stored.
fn check(kind: &str, system: &str, value: &str, expect: Result<&str, &str>) {
    let kind = IdentifierKind::parse(kind).expect("known kind");
    let got = Identifier::new(kind, system, value, false, today())
        .map(|id| format!("{}|{}", id.system(), id.value()));
    assert_eq!(got.as_deref().map_err(|e| e.code()), expect, "{kind:?} {system:?} {value:?}");
}

const OID: &str = "urn:oid:2.16.156.10011.1.3";

#[test]
fn resident_id() {
    check("resident_id", "", "11010519491231002x", Ok(&format!("{OID}|11010519491231002X")));
    check("resident_id", OID, " 110105 19491231 002X ", Ok(&format!("{OID}|11010519491231002X")));
    check("resident_id", "", "110105491231002", Ok(&format!("{OID}|11010519491231002X")));
    check("resident_id", "", "110105194912310021", Err("resident_id_check_digit"));
    check("resident_id", "", "110105194902310026", Err("resident_id_birth_date"));
    check("resident_id", "", "110105203001010015", Err("resident_id_future_birth_date"));
    check("resident_id", "", "1101051949", Err("resident_id_length"));
    check("resident_id", "", "  ", Err("identifier_empty"));
    check("resident_id", "urn:oid:1.2.3", "11010519491231002X", Err("identifier_system_not_allowed"));
}

#[test]
fn resident_id_15() {
    check("resident_id_15", "", "110105491231002", Ok(&format!("{OID}|110105491231002")));
    check("resident_id_15", "", "11010519491231002X", Err("identifier_invalid_characters"));
    check("resident_id_15", "", "110105194912310021", Err("identifier_resident_id_15_length"));
    check("resident_id_15", "", "110105491331002", Err("resident_id_birth_date"));
}

#[test]
fn e_health_card_and_insurance() {
    for kind in ["e_health_card", "insurance"] {
        check(kind, "", "ab12-cd34 ef", Ok("|AB12CD34EF"));
        check(kind, "350100", "ＡＢ１２３４", Ok("350100|AB1234"));
        check(kind, "", "A1234", Err("identifier_length"));
        check(kind, "", &"9".repeat(65), Err("identifier_length"));
        check(kind, "", "12345678_9", Err("identifier_invalid_characters"));
        check(kind, "", "卡号123456", Err("identifier_invalid_characters"));
        check(kind, "bad\u{0007}system", "123456", Err("identifier_system_invalid"));
        check(kind, &"s".repeat(129), "123456", Err("identifier_system_invalid"));
    }
}

#[test]
fn mrn() {
    check("mrn", "H01/outpatient", " MZ-2024.0001 ", Ok("H01/outpatient|MZ-2024.0001"));
    check("mrn", "Ｈ01/inpatient", "12345", Ok("H01/inpatient|12345"));
    check("mrn", "12350100MB0000000X/medical_record", "A_1", Ok("12350100MB0000000X/medical_record|A_1"));
    check("mrn", "", "12345", Err("identifier_system_required"));
    check("mrn", "H01", "12345", Err("identifier_mrn_system"));
    check("mrn", "H01/emergency", "12345", Err("identifier_mrn_system"));
    check("mrn", "/outpatient", "12345", Err("identifier_mrn_system"));
    check("mrn", "H 01/outpatient", "12345", Err("identifier_mrn_system"));
    check("mrn", "H01/outpatient", "123 45", Err("identifier_invalid_characters"));
    check("mrn", "H01/outpatient", &"1".repeat(65), Err("identifier_length"));
    check("mrn", "H01/outpatient", "", Err("identifier_empty"));
}

#[test]
fn mrn_system_helper() {
    let system = Identifier::mrn_system(" H01 ", MrnType::Inpatient);
    assert_eq!(system, "H01/inpatient");
    let id = Identifier::new(IdentifierKind::Mrn, &system, "778", true, today()).unwrap();
    assert_eq!(id.mrn_type(), Some(MrnType::Inpatient));
    assert!(id.verified());
}

#[test]
fn dicom_patient_id() {
    check("dicom_patient_id", "PACS01", " PID 0001 ", Ok("PACS01|PID 0001"));
    check("dicom_patient_id", " 县医院PACS ", "张三^0001", Ok("县医院PACS|张三^0001"));
    check("dicom_patient_id", "", "PID0001", Err("identifier_system_required"));
    check("dicom_patient_id", "PACS01", "PID\\0001", Err("identifier_invalid_characters"));
    check("dicom_patient_id", "PACS01", "PID\u{1b}0001", Err("identifier_invalid_characters"));
    check("dicom_patient_id", "PACS01", &"P".repeat(65), Err("identifier_length"));
    check("dicom_patient_id", "PACS01", &"P".repeat(64), Ok(&format!("PACS01|{}", "P".repeat(64))));
    check("dicom_patient_id", "PACS\\01", "PID0001", Err("identifier_system_invalid"));
    check("dicom_patient_id", &"I".repeat(65), "PID0001", Err("identifier_system_invalid"));
}

#[test]
fn health_record_no() {
    check("health_record_no", "", "990121101201 00042", Ok("|99012110120100042"));
    check("health_record_no", "", "9901211012010004", Err("identifier_length"));
    check("health_record_no", "", "99012110120100042A", Err("identifier_invalid_characters"));
    check("health_record_no", "", "99012110100000042", Err("identifier_health_record_village"));
    check("health_record_no", "", "99012100000000042", Err("identifier_health_record_village"));
    check("health_record_no", "", "05012110120100042", Err("identifier_health_record_village"));
}

#[test]
fn birth_certificate() {
    check("birth_certificate", "", "x320101001", Ok("|X320101001"));
    check("birth_certificate", "", "320101001", Ok("|320101001"));
    check("birth_certificate", "", "XY20101001", Err("identifier_birth_certificate_format"));
    check("birth_certificate", "", "X32010100", Err("identifier_birth_certificate_format"));
    check("birth_certificate", "", "X3201010012", Err("identifier_birth_certificate_format"));
    check("birth_certificate", "", "X32010100#", Err("identifier_invalid_characters"));
}

#[test]
fn passport() {
    check("passport", "CHN", "e1234 5678", Ok("CHN|E12345678"));
    check("passport", "", "AB123", Ok("|AB123"));
    check("passport", "", "AB12", Err("identifier_length"));
    check("passport", "", &"A".repeat(21), Err("identifier_length"));
    check("passport", "", "E1234567.", Err("identifier_invalid_characters"));
}

#[test]
fn other() {
    check("other", "军官证", " 字第 001 号 ", Ok("军官证|字第 001 号"));
    check("other", "", "001", Err("identifier_system_required"));
    check("other", "军官证", "a\nb", Err("identifier_invalid_characters"));
    check("other", "军官证", &"字".repeat(65), Err("identifier_length"));
}

#[test]
fn every_kind_has_a_test_above() {
    let codes: Vec<&str> = IdentifierKind::ALL.iter().map(|k| k.as_str()).collect();
    assert_eq!(codes.len(), 10);
    assert_eq!(IdentifierKind::parse("dicom_patient_id"), Some(IdentifierKind::DicomPatientId));
    assert!(IdentifierKind::Mrn.requires_system());
    assert!(!IdentifierKind::Insurance.requires_system());
    assert_eq!(IdentifierKind::ResidentId15.fixed_system(), Some(OID));
}

#[test]
fn resident_id_from_15_keeps_both() {
    let id = ResidentId::parse("110105491231002", today()).unwrap();
    let ids = Identifier::for_resident_id(&id, true);
    let got: Vec<(&str, &str)> = ids.iter().map(|i| (i.kind().as_str(), i.value())).collect();
    assert_eq!(got, [("resident_id", "11010519491231002X"), ("resident_id_15", "110105491231002")]);
    let id = ResidentId::parse("11010519491231002X", today()).unwrap();
    assert_eq!(Identifier::for_resident_id(&id, false).len(), 1);
}

#[test]
fn messages_and_debug_never_show_the_value() {
    let value = "E98765432";
    let id = Identifier::new(IdentifierKind::Passport, "", value, false, today()).unwrap();
    let shown = format!("{id:?}");
    assert!(!shown.contains(value), "{shown}");
    assert_eq!(id.masked_value(), "E98****32");
    let cases = [
        (IdentifierKind::Passport, "E9876543210987654321X"),
        (IdentifierKind::Insurance, "E98765_432"),
        (IdentifierKind::HealthRecordNo, "99012110100098765"),
        (IdentifierKind::BirthCertificate, "XY98765432"),
        (IdentifierKind::ResidentId, "110105194912310021"),
    ];
    for (kind, value) in cases {
        let err = Identifier::new(kind, "", value, false, today()).unwrap_err();
        let message = err.to_string();
        assert!(!message.contains(&value[2..value.len() - 2]), "{message}");
    }
    let err = Identifier::new(IdentifierKind::Passport, "", "A1", false, today()).unwrap_err();
    assert_eq!(err.to_string(), "the identifier has 2 characters where 5 to 20 are allowed");
}
