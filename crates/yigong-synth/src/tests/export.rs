//! CSV quoting, the per-source files and the truth file, read back with a small RFC 4180
//! reader; the import mapping names only existing columns.

use std::collections::HashSet;

use super::small;
use crate::{
    REGISTRATION_COLUMNS, Registration, TRUTH_COLUMNS, csv_by_source, mapping_toml, organisation,
    push_csv_field, registrations, truth_csv,
};

fn check(value: &str, expect: &str) {
    let mut out = String::new();
    push_csv_field(&mut out, value);
    assert_eq!(out, expect, "value: {value:?}");
}

#[test]
fn plain_field() {
    check("张伟", "张伟")
}
#[test]
fn empty_field() {
    check("", "")
}
#[test]
fn comma_is_quoted() {
    check("急诊,未带证件", "\"急诊,未带证件\"")
}
#[test]
fn quotes_are_doubled() {
    check("自述\"证件丢失\"", "\"自述\"\"证件丢失\"\"\"")
}
#[test]
fn line_breaks_are_quoted() {
    check("a\r\nb", "\"a\r\nb\"")
}

/// Records of RFC 4180 text: fields split on commas outside quotes, `""` inside quotes a quote.
fn parse(text: &str) -> Vec<Vec<String>> {
    let (mut rows, mut row, mut field) = (Vec::new(), Vec::new(), String::new());
    let (mut quoted, mut chars) = (false, text.chars().peekable());
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut field)),
            (false, '\r') => assert_eq!(chars.next(), Some('\n'), "CRLF"),
            (false, '\n') => panic!("bare LF"),
            (false, c) => field.push(c),
        }
        if !quoted && c == '\r' {
            row.push(std::mem::take(&mut field));
            rows.push(std::mem::take(&mut row));
        }
    }
    assert!(row.is_empty() && field.is_empty(), "text ends with CRLF");
    rows
}

fn as_row(r: &Registration) -> Vec<String> {
    let o = |v: &Option<String>| v.clone().unwrap_or_default();
    vec![
        r.local_id.clone(),
        r.name.clone(),
        r.sex.clone(),
        r.birth_date.clone(),
        o(&r.resident_id),
        o(&r.no_id_reason),
        o(&r.phone),
        o(&r.village_code),
        o(&r.household_id),
        o(&r.e_health_card),
        o(&r.insurance_number),
        r.registered_at.clone(),
    ]
}

#[test]
fn csv_by_source_round_trips() {
    let cfg = small();
    let org = organisation(&cfg);
    let villages: Vec<_> = registrations(&cfg, &org).collect();
    let mut regs: Vec<Registration> = villages.iter().flat_map(|v| v.registrations.clone()).collect();
    // Values that need quoting, whether or not this county happens to have them.
    regs[0].name = "Zhang, Wei \"Junior\"".into();
    regs[1].no_id_reason = Some("急诊,\r\n未带证件".into());
    let files = csv_by_source(&regs);
    let codes: HashSet<&str> = org.institutions.iter().map(|i| i.code.as_str()).collect();
    let mut rows = 0;
    for (source, text) in &files {
        assert!(codes.contains(source.as_str()), "{source}");
        let parsed = parse(text);
        assert_eq!(parsed[0], REGISTRATION_COLUMNS);
        let expected: Vec<Vec<String>> = regs.iter().filter(|r| r.source == *source).map(as_row).collect();
        assert_eq!(parsed[1..], expected[..], "{source}");
        rows += parsed.len() - 1;
    }
    assert_eq!(rows, regs.len());

    let truth = truth_csv(villages.iter().flat_map(|v| v.registrations.iter().zip(&v.truth)));
    let parsed = parse(&truth);
    assert_eq!(parsed[0], TRUTH_COLUMNS);
    assert_eq!(parsed.len() - 1, regs.len());
    let keys: HashSet<(&str, &str)> = parsed[1..].iter().map(|r| (r[0].as_str(), r[1].as_str())).collect();
    assert_eq!(keys.len(), regs.len(), "source and local id identify a registration");
    assert!(parsed[1..].iter().all(|r| r[2].len() == 17 && ["0", "1"].contains(&r[3].as_str())));
}

#[test]
fn mapping_names_existing_columns() {
    let text = mapping_toml();
    assert!(text.contains("encoding = \"utf-8\"\n") && text.contains("id_column = \"local_id\"\n"));
    let fields = text.split("[fields]").nth(1).expect("a [fields] table");
    let mapped: Vec<&str> = fields.lines().skip(1).filter_map(|l| l.split(" = ").next()).collect();
    assert_eq!(mapped.len(), 9, "{text}");
    for line in fields.lines().skip(1) {
        let (field, column) = line.split_once(" = ").expect("field = column");
        assert_eq!(column, format!("\"{field}\""));
        assert!(REGISTRATION_COLUMNS.contains(&field));
    }
}
