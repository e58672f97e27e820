//! Mainland phone numbers.

use proptest::prelude::*;

use crate::identity::*;

/// `Ok` carries "kind canonical masked".
fn check(input: &str, expect: Result<&str, &str>) {
    let got = Phone::parse(input).map(|p| format!("{} {} {}", p.kind().as_str(), p.as_str(), p.masked()));
    assert_eq!(got.as_deref().map_err(|e| e.code()), expect, "input: {input:?}");
}

#[test]
fn mobiles() {
    let ok = Ok("mobile 13812345678 138****5678");
    for raw in [
        "13812345678",
        "138 1234 5678",
        "138-1234-5678",
        "+86 138 1234 5678",
        "+8613812345678",
        "0086 13812345678",
        "8613812345678",
        "１３８１２３４５６７８",
        "(+86) 138-1234-5678",
        "013812345678",
    ] {
        check(raw, ok);
    }
    check("19912345678", Ok("mobile 19912345678 199****5678"));
}

#[test]
fn landlines() {
    check("0591-8765432", Ok("landline 0591-8765432 0591-***5432"));
    check("010-62345678", Ok("landline 010-62345678 010-****5678"));
    check("(0591) 876 5432", Ok("landline 0591-8765432 0591-***5432"));
    check("（０５９１）８７６５４３２", Ok("landline 0591-8765432 0591-***5432"));
    check("05918765432", Ok("landline 0591-8765432 0591-***5432"));
    check("021 6123 4567", Ok("landline 021-61234567 021-****4567"));
    check("+86 591 8765432", Ok("landline 0591-8765432 0591-***5432"));
    check("0086-10-62345678", Ok("landline 010-62345678 010-****5678"));
}

#[test]
fn extensions() {
    check("010-62345678-123", Ok("landline 010-62345678-123 010-****5678"));
    check("0591-8765432转123", Ok("landline 0591-8765432-123 0591-***5432"));
    check("0591-8765432 转 8", Ok("landline 0591-8765432-8 0591-***5432"));
    // A last dash group after a complete landline is an extension, not an eighth digit, so the
    // canonical form parses back to itself.
    check("010-2000000-0", Ok("landline 010-2000000-0 010-***0000"));
    check("010-20000000", Ok("landline 010-20000000 010-****0000"));
    let phone = Phone::parse("0591-8765432转123").unwrap();
    assert_eq!(phone.area_code(), Some("0591"));
    assert_eq!(phone.extension(), Some("123"));
    let phone = Phone::parse("0591-8765432").unwrap();
    assert_eq!(phone.extension(), None);
    assert_eq!(Phone::parse("13812345678").unwrap().area_code(), None);
    check("13812345678转123", Err("phone_invalid_extension"));
    check("0591-8765432转", Err("phone_invalid_extension"));
    check("0591-8765432转1234567", Err("phone_invalid_extension"));
    check("0591-8765432转12a", Err("phone_invalid_extension"));
    check("138-1234-5678-12", Err("phone_invalid_length"));
}

#[test]
fn rejected() {
    check("", Err("phone_empty"));
    check(" - ", Err("phone_empty"));
    check("138abcd5678", Err("phone_invalid_characters"));
    check("电话13812345678", Err("phone_invalid_characters"));
    check("+1 415 555 0100", Err("phone_invalid_characters"));
    check("12012345678", Err("phone_invalid_mobile"));
    check("1381234567", Err("phone_invalid_length"));
    check("138123456789", Err("phone_invalid_length"));
    check("8765432", Err("phone_missing_area_code"));
    check("87654321", Err("phone_missing_area_code"));
    check("4008123123", Err("phone_invalid_length"));
    check("0011234567", Err("phone_invalid_area_code"));
    check("0591-0765432", Err("phone_invalid_landline"));
    check("010-12345678", Err("phone_invalid_landline"));
    check("0591-876543", Err("phone_invalid_length"));
    check("0591-876543210", Err("phone_invalid_length"));
}

#[test]
fn debug_masks() {
    let phone = Phone::parse("13812345678").unwrap();
    assert_eq!(format!("{phone:?}"), "Phone(138****5678)");
    let message = PhoneError::InvalidMobile.to_string();
    assert!(!message.contains("1201"), "{message}");
}

fn full_width(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_ascii_digit() { char::from_u32(c as u32 + 0xFEE0).unwrap() } else { c })
        .collect()
}

proptest! {
    #[test]
    fn decorated_mobiles_parse_alike(
        second in 3u8..10, rest in "[0-9]{9}", prefix in 0usize..6, separators in 0usize..4, wide: bool,
    ) {
        let number = format!("1{second}{rest}");
        let grouped = match separators {
            0 => number.clone(),
            1 => format!("{} {} {}", &number[..3], &number[3..7], &number[7..]),
            2 => format!("{}-{}-{}", &number[..3], &number[3..7], &number[7..]),
            _ => format!("{}\u{3000}{}", &number[..3], &number[3..]),
        };
        let prefix = ["", "+86 ", "+86-", "0086", "86", "(+86)"][prefix];
        let raw = format!("{prefix}{grouped}");
        let raw = if wide { full_width(&raw) } else { raw };
        let phone = Phone::parse(&raw).unwrap();
        prop_assert_eq!(phone.kind(), PhoneKind::Mobile);
        prop_assert_eq!(phone.as_str(), number.as_str());
        prop_assert_eq!(Phone::parse(phone.as_str()).unwrap(), phone);
    }

    #[test]
    fn landlines_round_trip(
        area in "(10|2[0-9]|[3-9][0-9]{2})", local in "[2-9][0-9]{6,7}", ext in "([0-9]{1,6})?", plus: bool,
    ) {
        let national = if plus { format!("+86 {area} {local}") } else { format!("0{area}{local}") };
        let raw = if ext.is_empty() { national } else { format!("{national}转{ext}") };
        let phone = Phone::parse(&raw).unwrap();
        prop_assert_eq!(phone.kind(), PhoneKind::Landline);
        let area_code = format!("0{area}");
        prop_assert_eq!(phone.area_code(), Some(area_code.as_str()));
        prop_assert_eq!(Phone::parse(phone.as_str()).unwrap(), phone.clone());
        prop_assert_eq!(phone.extension(), (!ext.is_empty()).then_some(ext.as_str()));
    }

    #[test]
    fn parse_never_panics(s in any::<String>()) {
        let _ = Phone::parse(&s);
    }

    #[test]
    fn phone_like_strings_never_panic(s in "[0-9０-９+()（） 转\\-]{0,20}") {
        if let Ok(phone) = Phone::parse(&s) {
            let _ = (phone.masked(), phone.area_code(), phone.extension());
        }
    }
}
