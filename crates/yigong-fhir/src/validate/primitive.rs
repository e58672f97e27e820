//! The lexical rules of the primitive types (FHIR R4 §2.24.0.1 "Primitive Types"), written by
//! hand after the regular expressions of the specification, plus the calendar checks the
//! expressions cannot make (`2023-02-30`). Each check returns why a value is wrong.

use chrono::NaiveDate;

/// Checks the text of a string-valued primitive of type `type_name`. Emptiness is checked by
/// the caller, for every type alike.
pub(super) fn check_string(type_name: &str, s: &str) -> Result<(), String> {
    match type_name {
        "string" | "markdown" => non_blank(s),
        "code" => code(s),
        "id" => id(s),
        "uri" | "url" | "canonical" => uri(s),
        "oid" => oid(s),
        "uuid" => uuid(s),
        "base64Binary" => base64(s),
        "date" => date(s),
        "dateTime" => date_time(s),
        "instant" => instant(s),
        "time" => time(s).and_then(|rest| end(rest, "after the time")),
        "xhtml" => xhtml(s),
        _ => Ok(()),
    }
}

/// Checks the text of a JSON number given for an integer type (`integer`, `positiveInt`,
/// `unsignedInt`): no fraction, no exponent, within the type's range.
pub(super) fn check_integer(type_name: &str, text: &str) -> Result<(), String> {
    let digits = text.strip_prefix('-').unwrap_or(text);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err("expected a whole number without fraction or exponent".into());
    }
    if digits.len() > 1 && digits.starts_with('0') {
        return Err("leading zeros are not allowed".into());
    }
    let value: i64 = if digits.len() > 11 { i64::MAX } else { text.parse().unwrap_or(i64::MAX) };
    let (low, high) = match type_name {
        "positiveInt" => (1, i64::from(i32::MAX)),
        "unsignedInt" => (0, i64::from(i32::MAX)),
        _ => (i64::from(i32::MIN), i64::from(i32::MAX)),
    };
    if text.starts_with('-') && type_name != "integer" {
        return Err(format!("a {type_name} cannot be negative"));
    }
    if value < low || value > high {
        return Err(format!("out of range {low}..={high}"));
    }
    Ok(())
}

/// Whether `text` is a FHIR decimal: `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`.
pub(super) fn is_decimal(text: &str) -> bool {
    let s = text.strip_prefix('-').unwrap_or(text);
    let int_len = s.bytes().take_while(u8::is_ascii_digit).count();
    let (int, rest) = s.split_at(int_len);
    if int.is_empty() || (int.len() > 1 && int.starts_with('0')) {
        return false;
    }
    let rest = match rest.strip_prefix('.') {
        Some(fraction) => {
            let len = fraction.bytes().take_while(u8::is_ascii_digit).count();
            if len == 0 {
                return false;
            }
            &fraction[len..]
        }
        None => rest,
    };
    match rest.strip_prefix(['e', 'E']) {
        Some(exponent) => {
            let digits = exponent.strip_prefix(['+', '-']).unwrap_or(exponent);
            !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
        }
        None => rest.is_empty(),
    }
}

/// Whitespace as the specification's regular expressions (Java's `\s`) mean it.
fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\x0B' | '\x0C' | '\r')
}

fn non_blank(s: &str) -> Result<(), String> {
    if s.chars().all(char::is_whitespace) {
        return Err("must contain more than whitespace".into());
    }
    Ok(())
}

/// `[^\s]+(\s[^\s]+)*`: no leading, trailing or doubled whitespace.
fn code(s: &str) -> Result<(), String> {
    if s.starts_with(is_space) || s.ends_with(is_space) {
        return Err("a code cannot start or end with whitespace".into());
    }
    let mut previous_space = false;
    for c in s.chars() {
        let space = is_space(c);
        if space && previous_space {
            return Err("a code cannot contain two whitespace characters in a row".into());
        }
        previous_space = space;
    }
    Ok(())
}

/// `[A-Za-z0-9\-\.]{1,64}`.
fn id(s: &str) -> Result<(), String> {
    if s.len() > 64 {
        return Err(format!("an id has at most 64 characters, this one has {}", s.chars().count()));
    }
    if let Some(c) = s.chars().find(|c| !(c.is_ascii_alphanumeric() || *c == '-' || *c == '.')) {
        return Err(format!("an id may hold only A-Z, a-z, 0-9, '-' and '.', not {c:?}"));
    }
    Ok(())
}

/// `\S*`.
fn uri(s: &str) -> Result<(), String> {
    if s.contains(is_space) {
        return Err("a URI cannot contain whitespace".into());
    }
    Ok(())
}

/// `urn:oid:[0-2](\.(0|[1-9][0-9]*))+`.
fn oid(s: &str) -> Result<(), String> {
    let expected = || "expected urn:oid: followed by dotted numbers such as urn:oid:1.2.3".to_owned();
    let body = s.strip_prefix("urn:oid:").ok_or_else(expected)?;
    let mut arcs = body.split('.');
    let first_ok = arcs.next().is_some_and(|a| matches!(a, "0" | "1" | "2"));
    let mut count = 0;
    let rest_ok = arcs.all(|a| {
        count += 1;
        !a.is_empty() && a.bytes().all(|b| b.is_ascii_digit()) && (a == "0" || !a.starts_with('0'))
    });
    if first_ok && rest_ok && count > 0 { Ok(()) } else { Err(expected()) }
}

/// `urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`.
fn uuid(s: &str) -> Result<(), String> {
    let expected = || "expected urn:uuid: followed by a lowercase UUID".to_owned();
    let body = s.strip_prefix("urn:uuid:").ok_or_else(expected)?;
    let groups: Vec<&str> = body.split('-').collect();
    let lengths_ok = groups.iter().map(|g| g.len()).eq([8, 4, 4, 4, 12]);
    let hex_ok = groups.iter().all(|g| g.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)));
    if lengths_ok && hex_ok { Ok(()) } else { Err(expected()) }
}

/// `(\s*([0-9a-zA-Z\+/=]){4}\s*)+`, with `=` only as the final padding.
fn base64(s: &str) -> Result<(), String> {
    let chars: Vec<u8> = s.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    if let Some(&bad) = chars.iter().find(|b| !(b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=')))
    {
        return Err(format!("{:?} is not a base64 character", char::from(bad)));
    }
    if !chars.len().is_multiple_of(4) {
        return Err("base64 text comes in groups of four characters".into());
    }
    let padding = chars.iter().rev().take_while(|&&b| b == b'=').count();
    if padding > 2 || chars[..chars.len() - padding].contains(&b'=') {
        return Err("'=' may only pad the end of base64 text".into());
    }
    Ok(())
}

/// Narrative.div: XHTML is not parsed, but it must be a `div` element.
fn xhtml(s: &str) -> Result<(), String> {
    if s.starts_with("<div") { Ok(()) } else { Err("the narrative must be a <div> element".into()) }
}

fn date(s: &str) -> Result<(), String> {
    const SHAPE: &str = "YYYY, YYYY-MM or YYYY-MM-DD";
    let rest = date_part(s, SHAPE)?.1;
    if rest.is_empty() { Ok(()) } else { Err(format!("expected {SHAPE}")) }
}

fn date_time(s: &str) -> Result<(), String> {
    const SHAPE: &str = "YYYY, YYYY-MM, YYYY-MM-DD or YYYY-MM-DDThh:mm:ss(.sss)+zz:zz";
    let (full_date, rest) = date_part(s, SHAPE)?;
    if rest.is_empty() {
        return Ok(());
    }
    let Some(rest) = rest.strip_prefix('T').filter(|_| full_date) else {
        return Err(format!("expected {SHAPE}"));
    };
    let rest = time(rest)?;
    if rest.is_empty() {
        return Err("a dateTime with a time needs a time zone (Z or +hh:mm/-hh:mm)".into());
    }
    zone(rest)
}

fn instant(s: &str) -> Result<(), String> {
    const SHAPE: &str = "YYYY-MM-DDThh:mm:ss(.sss)+zz:zz";
    let (full_date, rest) = date_part(s, SHAPE)?;
    let Some(rest) = rest.strip_prefix('T').filter(|_| full_date) else {
        return Err(format!("an instant needs a date, time and time zone: {SHAPE}"));
    };
    let rest = time(rest)?;
    if rest.is_empty() {
        return Err("an instant needs a time zone (Z or +hh:mm/-hh:mm)".into());
    }
    zone(rest)
}

/// `YYYY(-MM(-DD)?)?` at the start of `s`, checked against the calendar. Returns whether the
/// day was given, and the rest.
fn date_part<'a>(s: &'a str, shape: &str) -> Result<(bool, &'a str), String> {
    let expected = || format!("expected {shape}");
    let (year, rest) = digits(s, 4).ok_or_else(expected)?;
    if year == 0 {
        return Err("year 0000 does not exist".into());
    }
    let Some(rest) = rest.strip_prefix('-') else { return Ok((false, rest)) };
    let (month, rest) = digits(rest, 2).ok_or_else(expected)?;
    if !(1..=12).contains(&month) {
        return Err(format!("month {month:02} does not exist"));
    }
    let Some(rest) = rest.strip_prefix('-') else { return Ok((false, rest)) };
    let (day, rest) = digits(rest, 2).ok_or_else(expected)?;
    if NaiveDate::from_ymd_opt(i32::try_from(year).unwrap_or(0), month, day).is_none() {
        return Err(format!("{year:04}-{month:02}-{day:02} is not a day of the calendar"));
    }
    Ok((true, rest))
}

/// `hh:mm:ss(.s+)?` at the start of `s` (a leap second `60` is allowed); returns the rest.
fn time(s: &str) -> Result<&str, String> {
    let expected = || "expected a time hh:mm:ss or hh:mm:ss.sss".to_owned();
    let (hour, rest) = digits(s, 2).ok_or_else(expected)?;
    let (minute, rest) = rest.strip_prefix(':').and_then(|r| digits(r, 2)).ok_or_else(expected)?;
    let (second, rest) = rest.strip_prefix(':').and_then(|r| digits(r, 2)).ok_or_else(expected)?;
    if hour > 23 || minute > 59 || second > 60 {
        return Err(format!("{hour:02}:{minute:02}:{second:02} is not a time of day"));
    }
    match rest.strip_prefix('.') {
        Some(fraction) => {
            let len = fraction.bytes().take_while(u8::is_ascii_digit).count();
            if len == 0 {
                return Err("expected digits after the decimal point of the seconds".into());
            }
            Ok(&fraction[len..])
        }
        None => Ok(rest),
    }
}

/// `Z|(\+|-)((0[0-9]|1[0-3]):[0-5][0-9]|14:00)`, the whole of `s`.
fn zone(s: &str) -> Result<(), String> {
    if s == "Z" {
        return Ok(());
    }
    let expected = || format!("expected a time zone Z or +hh:mm/-hh:mm, found {s:?}");
    let rest = s.strip_prefix(['+', '-']).ok_or_else(expected)?;
    let (hours, rest) = digits(rest, 2).ok_or_else(expected)?;
    let (minutes, rest) = rest.strip_prefix(':').and_then(|r| digits(r, 2)).ok_or_else(expected)?;
    if !rest.is_empty() || minutes > 59 || hours > 14 || (hours == 14 && minutes != 0) {
        return Err(expected());
    }
    Ok(())
}

fn end(rest: &str, place: &str) -> Result<(), String> {
    if rest.is_empty() { Ok(()) } else { Err(format!("unexpected {rest:?} {place}")) }
}

/// Exactly `n` ASCII digits at the start of `s`, as a number, and the rest.
fn digits(s: &str, n: usize) -> Option<(u32, &str)> {
    let head = s.get(..n)?;
    if !head.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((head.parse().ok()?, &s[n..]))
}
