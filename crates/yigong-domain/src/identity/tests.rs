use chrono::NaiveDate;
use proptest::prelude::*;

use super::*;

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 25).unwrap()
}

/// `Ok` carries "birth date, sex, 18-char number".
fn check(input: &str, expect: Result<&str, &str>) {
    let parsed = ResidentId::parse(input, today())
        .map(|id| format!("{} {} {}", id.birth_date(), id.sex().as_str(), id.as_str()));
    assert_eq!(parsed.as_deref().map_err(|e| e.code()), expect, "input: {input:?}");
}

#[test]
fn standard_example_with_x() {
    check("11010519491231002X", Ok("1949-12-31 female 11010519491231002X"))
}
#[test]
fn lowercase_x() {
    check("11010519491231002x", Ok("1949-12-31 female 11010519491231002X"))
}
#[test]
fn full_width_digits_and_spaces() {
    check("１１０１０５ 1949 1231 002Ｘ", Ok("1949-12-31 female 11010519491231002X"))
}
#[test]
fn wrong_check_digit() {
    check("110105194912310021", Err("resident_id_check_digit"))
}
#[test]
fn february_31st() {
    check("110105194902310026", Err("resident_id_birth_date"))
}
#[test]
fn future_birth() {
    check("110105203001010015", Err("resident_id_future_birth_date"))
}
#[test]
fn too_short() {
    check("1101051949123100", Err("resident_id_length"))
}
#[test]
fn letter_inside() {
    check("1101051949A231002X", Err("resident_id_character"))
}
#[test]
fn chinese_characters() {
    check("身份证号码身份证号码身份证号码身份证", Err("resident_id_character"))
}
#[test]
fn x_not_last() {
    check("X10105194912310021", Err("resident_id_character"))
}
#[test]
fn fifteen_digits_convert() {
    // 15-digit 110105491231002 → 110105 19 491231002 + check X.
    check("110105491231002", Ok("1949-12-31 female 11010519491231002X"))
}
#[test]
fn fifteen_digits_bad_date() {
    check("110105491331002", Err("resident_id_birth_date"))
}
#[test]
fn fifteen_digits_marked_derived() {
    let id = ResidentId::parse("110105491231001", today()).unwrap();
    assert_eq!(id.origin(), IdOrigin::DerivedFrom15);
    assert_eq!(id.sex(), Sex::Male);
}
#[test]
fn debug_masks_the_number() {
    let id = ResidentId::parse("11010519491231002X", today()).unwrap();
    let shown = format!("{id:?}");
    assert!(!shown.contains("19491231"), "{shown}");
    assert_eq!(id.masked(), "110105********002X");
}

proptest! {
    #[test]
    fn any_built_number_parses_back(area in 110000u32..999999, days in 0i64..40000, seq in 0u32..1000) {
        let birth = NaiveDate::from_ymd_opt(1920, 1, 1).unwrap() + chrono::Days::new(days as u64);
        prop_assume!(birth <= today());
        let body = format!("{area:06}{}{seq:03}", birth.format("%Y%m%d"));
        let number = format!("{body}{}", check_char(&body));
        let id = ResidentId::parse(&number, today()).unwrap();
        prop_assert_eq!(id.birth_date(), birth);
        prop_assert_eq!(id.sex() == Sex::Male, seq % 2 == 1);
        prop_assert_eq!(id.as_str(), number.as_str());
    }

    #[test]
    fn one_changed_digit_is_caught(days in 0i64..30000, seq in 0u32..1000, pos in 0usize..17, delta in 1u8..10) {
        let birth = NaiveDate::from_ymd_opt(1930, 1, 1).unwrap() + chrono::Days::new(days as u64);
        let body = format!("990121{}{seq:03}", birth.format("%Y%m%d"));
        let mut bytes = format!("{body}{}", check_char(&body)).into_bytes();
        bytes[pos] = b'0' + (bytes[pos] - b'0' + delta) % 10;
        let typo = String::from_utf8(bytes).unwrap();
        // MOD 11-2 detects every single-digit substitution; a changed date may fail earlier.
        prop_assert!(ResidentId::parse(&typo, today()).is_err());
    }

    #[test]
    fn parse_never_panics(s in "\\PC{0,24}") {
        let _ = ResidentId::parse(&s, today());
    }
}

fn division(input: &str, expect: Result<&str, &str>) {
    let parsed = DivisionCode::parse(input).map(|d| d.level().as_str());
    assert_eq!(parsed.map_err(|e| e.code()), expect, "input: {input:?}");
}

#[test]
fn division_levels() {
    division("990121000000", Ok("county"));
    division("990121101000", Ok("township"));
    division("990121101201", Ok("village"));
    division("99012110120", Err("division_code_invalid"));
    division("990121000201", Err("division_code_invalid"));
    division("990100101201", Err("division_code_invalid"));
    division("09012110120a", Err("division_code_invalid"));
}

#[test]
fn division_inside_county() {
    let county = CountyCode::parse("990121").unwrap();
    assert!(DivisionCode::parse_in("990121101201", &county).is_ok());
    let err = DivisionCode::parse_in("990122101201", &county).unwrap_err();
    assert_eq!(err.code(), "division_code_outside_county");
    let village = DivisionCode::parse("990121101201").unwrap();
    assert_eq!(village.township().as_deref(), Some("990121101000"));
}

#[test]
fn county_codes() {
    for (raw, ok) in
        [("990121", true), ("110105", true), ("990100", false), ("99012", false), ("050121", false)]
    {
        assert_eq!(CountyCode::parse(raw).is_ok(), ok, "{raw}");
    }
}

mod assessment;
mod identifier;
mod phone;
