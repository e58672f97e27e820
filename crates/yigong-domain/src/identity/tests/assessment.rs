//! Resident ID assessment at registration, and the property tests of the GB 11643 parser that
//! go beyond the ones in `identity/tests.rs`.

use chrono::{Datelike, NaiveDate};
use proptest::prelude::*;

use super::today;
use crate::identity::*;

/// `Ok` carries "status code, stored number, masked number"; `None` is blank.
fn check(input: &str, expect: Option<&str>) {
    let got = assess_resident_id(input, today())
        .map(|s| format!("{} {} {}", s.status_code(), s.as_str(), s.masked()));
    assert_eq!(got.as_deref(), expect, "input: {input:?}");
}

#[test]
fn valid() {
    check("11010519491231002X", Some("valid 11010519491231002X 110105********002X"))
}
#[test]
fn decorated_valid() {
    check(" １１０１０５－1949 1231-002ｘ　", Some("valid 11010519491231002X 110105********002X"))
}
#[test]
fn derived_from_15() {
    check("110105491231002", Some("derived_from_15 11010519491231002X 110105********002X"))
}
#[test]
fn checksum() {
    check("110105194912310021", Some("invalid_checksum 110105194912310021 110105********0021"))
}
#[test]
fn date() {
    check("110105194902310026", Some("invalid_date 110105194902310026 110105********0026"))
}
#[test]
fn future() {
    check("110105203001010015", Some("future_birth_date 110105203001010015 110105********0015"))
}
#[test]
fn length() {
    check("1101051949123100", Some("invalid_length 1101051949123100 11010*******3100"))
}
#[test]
fn fifteen_with_bad_date_is_kept_as_typed() {
    check("110105491331002", Some("invalid_date 110105491331002 11010*******002"))
}
#[test]
fn characters() {
    check("1101051949A231002X", Some("invalid_characters 1101051949A231002X 110105********002X"))
}
#[test]
fn short_garbage_fully_masked() {
    check("无", Some("invalid_characters 无 *"))
}
#[test]
fn blank() {
    check("", None);
    check(" 　 - ", None);
}

#[test]
fn unverified_is_never_valid() {
    let status = assess_resident_id("110105194912310021", today()).unwrap();
    assert!(!status.is_valid());
    assert!(status.valid().is_none());
    assert_eq!(status.warning(), Some(ResidentIdError::CheckDigit));
    let shown = format!("{status:?}");
    assert!(!shown.contains("19491231"), "{shown}");
    assert_eq!(shown, "Unverified(110105********0021, invalid_checksum)");
}

#[test]
fn unknown_area_is_a_warning_only() {
    let status = assess_resident_id("99012119800101001X", today());
    let status = match status {
        Some(s @ ResidentIdStatus::Valid(_)) => s,
        other => panic!("expected valid, got {other:?}"),
    };
    assert!(status.unknown_area(|area| area == "110105"));
    assert!(!status.unknown_area(|area| area == "990121"));
    assert_eq!(status.status_code(), "valid");
    let unverified = assess_resident_id("990121198001010010", today()).unwrap();
    assert!(!unverified.unknown_area(|_| false));
    assert_eq!(UNKNOWN_AREA, "unknown_area");
}

#[test]
fn parser_accepts_dashes_like_the_assessment() {
    let id = ResidentId::parse("110105-19491231-002X", today()).unwrap();
    assert_eq!(id.as_str(), "11010519491231002X");
}

#[test]
fn original_15_is_kept() {
    let id = ResidentId::parse("110105491231002", today()).unwrap();
    assert_eq!(id.original_15().as_deref(), Some("110105491231002"));
    let id = ResidentId::parse("11010519491231002X", today()).unwrap();
    assert_eq!(id.original_15(), None);
}

/// A valid 18-character number from its parts.
fn build(area: u32, birth: NaiveDate, seq: u32) -> String {
    let body = format!("{area:06}{}{seq:03}", birth.format("%Y%m%d"));
    format!("{body}{}", check_char(&body))
}

/// Birth dates from 1920 to 2024, all before [`today`].
fn birth_strategy() -> impl Strategy<Value = NaiveDate> {
    (0u64..38_000).prop_map(|days| NaiveDate::from_ymd_opt(1920, 1, 1).unwrap() + chrono::Days::new(days))
}

/// The error the parser must give for an 18-character string whose first 17 are digits.
fn expected_error(number: &str) -> ResidentIdError {
    match NaiveDate::parse_from_str(&number[6..14], "%Y%m%d") {
        Err(_) => ResidentIdError::BirthDate,
        Ok(birth) if birth > today() => ResidentIdError::FutureBirthDate,
        Ok(_) => ResidentIdError::CheckDigit,
    }
}

const CHARS: &[u8] = b"0123456789X";

/// Spaces, dashes and full-width forms a clerk or a card reader may add.
fn decorate(number: &str, choices: &[u8]) -> String {
    let mut out = String::new();
    for (c, choice) in number.chars().zip(choices.iter().cycle()) {
        let c = match (choice % 4, c) {
            (1, '0'..='9') => char::from_u32(c as u32 - '0' as u32 + '０' as u32).unwrap(),
            (1, 'X') => 'ｘ',
            (2, 'X') => 'x',
            _ => c,
        };
        out.push(c);
        match choice / 4 % 5 {
            1 => out.push(' '),
            2 => out.push('-'),
            3 => out.push('\u{3000}'),
            _ => {}
        }
    }
    out
}

proptest! {
    #[test]
    fn any_single_substitution_fails(
        area in 110000u32..999999, birth in birth_strategy(), seq in 0u32..1000,
        pos in 0usize..18, delta in 1usize..11,
    ) {
        let number = build(area, birth, seq);
        let mut typo = number.into_bytes();
        let old = CHARS.iter().position(|&c| c == typo[pos]).unwrap();
        // Any other digit in the body; any other digit or X as the check character.
        typo[pos] = if pos < 17 { CHARS[(old + delta % 9 + 1) % 10] } else { CHARS[(old + delta) % 11] };
        let typo = String::from_utf8(typo).unwrap();
        prop_assert_eq!(ResidentId::parse(&typo, today()).unwrap_err(), expected_error(&typo));
    }

    #[test]
    fn any_adjacent_transposition_fails(
        area in 110000u32..999999, birth in birth_strategy(), seq in 0u32..1000, pos in 0usize..17,
    ) {
        let number = build(area, birth, seq);
        let mut swapped = number.into_bytes();
        if swapped[pos] == swapped[pos + 1] {
            return Ok(()); // nothing changes; not a transposition
        }
        swapped.swap(pos, pos + 1);
        let swapped = String::from_utf8(swapped).unwrap();
        let expected =
            if swapped[..17].contains('X') { ResidentIdError::Character } else { expected_error(&swapped) };
        prop_assert_eq!(ResidentId::parse(&swapped, today()).unwrap_err(), expected);
    }

    #[test]
    fn fifteen_digits_widen_to_the_1900s(
        area in 110000u32..999999, yymmdd in (0u32..100, 1u32..13, 1u32..29), seq in 0u32..1000,
    ) {
        let (yy, mm, dd) = yymmdd;
        let old = format!("{area:06}{yy:02}{mm:02}{dd:02}{seq:03}");
        let id = ResidentId::parse(&old, today()).unwrap();
        prop_assert_eq!(id.birth_date().year(), 1900 + yy as i32);
        prop_assert_eq!(id.sex() == Sex::Male, seq % 2 == 1);
        prop_assert_eq!(id.origin(), IdOrigin::DerivedFrom15);
        prop_assert_eq!(id.original_15(), Some(old.clone()));
        prop_assert_eq!(id.as_str().chars().last(), Some(check_char(&id.as_str()[..17])));
        prop_assert_eq!(assess_resident_id(&old, today()).unwrap().status_code(), "derived_from_15");
    }

    #[test]
    fn decorated_numbers_assess_valid(
        area in 110000u32..999999, birth in birth_strategy(), seq in 0u32..1000,
        choices in proptest::collection::vec(any::<u8>(), 1..40),
    ) {
        let number = build(area, birth, seq);
        let status = assess_resident_id(&decorate(&number, &choices), today()).unwrap();
        prop_assert!(status.is_valid());
        prop_assert_eq!(status.as_str(), number.as_str());
    }

    #[test]
    fn assessment_is_valid_iff_parse_succeeds(s in any::<String>()) {
        check_assessment(&s);
    }

    #[test]
    fn assessment_of_id_like_strings(s in "[0-9xX０-９ｘ \\-]{0,22}") {
        check_assessment(&s);
    }
}

fn check_assessment(s: &str) {
    let parsed = ResidentId::parse(s, today());
    match assess_resident_id(s, today()) {
        None => assert!(s.chars().all(|c| c.is_whitespace() || "-－‐‑‒–—―−".contains(c)), "{s:?}"),
        Some(ResidentIdStatus::Valid(id)) => assert_eq!(Ok(id), parsed),
        Some(ResidentIdStatus::Unverified { warning, .. }) => assert_eq!(Err(warning), parsed),
    }
}
