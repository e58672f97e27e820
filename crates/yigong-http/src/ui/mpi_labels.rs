//! How the patient index pages show its values: vocabulary labels from the catalogues, masked
//! identifiers, short ids, weights. Values as received stay as received; only the codes of the
//! engine (fields, levels, bands, rules, link methods) are translated.

use chrono::NaiveDate;
use yigong_domain::identity::{Phone, assess_resident_id};

use super::Tr;

/// Every record field the index compares, in the order pages list them.
pub const FIELDS: &[&str] = &[
    "name",
    "sex",
    "birth_date",
    "resident_id",
    "phone",
    "village_code",
    "household_id",
    "e_health_card",
    "insurance_number",
    "given_name",
    "family_name",
    "address",
    "locality",
    "postcode",
    "region",
];

/// The value of `field` in a record's values (any struct with the index's value fields).
macro_rules! field_value {
    ($values:expr, $field:expr) => {{
        let v = &$values;
        match $field {
            "name" => v.name.clone(),
            "sex" => v.sex.clone(),
            "birth_date" => v.birth_date.clone(),
            "resident_id" => v.resident_id.clone(),
            "phone" => v.phone.clone(),
            "village_code" => v.village_code.clone(),
            "household_id" => v.household_id.clone(),
            "e_health_card" => v.e_health_card.clone(),
            "insurance_number" => v.insurance_number.clone(),
            "given_name" => v.given_name.clone(),
            "family_name" => v.family_name.clone(),
            "address" => v.address.clone(),
            "locality" => v.locality.clone(),
            "postcode" => v.postcode.clone(),
            "region" => v.region.clone(),
            _ => None,
        }
    }};
}
pub(crate) use field_value;

/// The end of an id, enough to tell persons apart on a page (UUIDv7s begin with the time).
pub fn short_id(id: impl std::fmt::Display) -> String {
    let s = id.to_string();
    format!("…{}", &s[s.len().saturating_sub(8)..])
}

/// Sex as a source sent it (`male`, `1`, `男`…), in words.
pub fn sex_label(t: Tr, raw: Option<&str>) -> String {
    let Some(raw) = raw.map(str::trim).filter(|r| !r.is_empty()) else { return String::new() };
    let key = match raw.to_ascii_lowercase().as_str() {
        "male" | "m" | "1" | "男" => "sex.male",
        "female" | "f" | "2" | "女" => "sex.female",
        "unknown" | "0" | "未知" => "sex.unknown",
        "unspecified" | "9" => "sex.unspecified",
        _ => return raw.to_owned(),
    };
    t.get(key).to_owned()
}

/// A resident ID number masked (area code and last four shown), valid or not.
pub fn masked_id(raw: Option<&str>, today: NaiveDate) -> String {
    raw.and_then(|r| assess_resident_id(r, today)).map(|s| s.masked()).unwrap_or_default()
}

/// A phone number masked; an unreadable one shows its last four characters only.
pub fn masked_phone(raw: Option<&str>) -> String {
    let Some(raw) = raw.map(str::trim).filter(|r| !r.is_empty()) else { return String::new() };
    Phone::parse(raw).map(|p| p.masked()).unwrap_or_else(|_| {
        let chars: Vec<char> = raw.chars().collect();
        let tail: String = chars[chars.len().saturating_sub(4)..].iter().collect();
        format!("****{tail}")
    })
}

/// A field's weight in bits, signed: `+21.1`, `-3.0`, `0`.
pub fn weight(w: f64) -> String {
    if w.abs() < 0.05 { "0".to_owned() } else { format!("{w:+.1}") }
}

/// The label of a comparison level (`same_pinyin` → 同音).
pub fn level_label(t: Tr, level: &str) -> String {
    let key = format!("mpi.level.{level}");
    if t.has(&key) { t.get(&key).to_owned() } else { level.to_owned() }
}

/// The label of a band (`auto_link` → 自动关联).
pub fn band_label(t: Tr, band: &str) -> String {
    let key = format!("mpi.band.{band}");
    if t.has(&key) { t.get(&key).to_owned() } else { band.to_owned() }
}

/// The label of a field (`birth_date` → 出生日期).
pub fn field_label(t: Tr, field: &str) -> String {
    let key = format!("mpi.field.{field}");
    if t.has(&key) { t.get(&key).to_owned() } else { field.to_owned() }
}

/// The label of how a link was made (`registrar` → 登记时确认).
pub fn method_label(t: Tr, method: &str) -> String {
    let key = format!("mpi.method.{method}");
    if t.has(&key) { t.get(&key).to_owned() } else { method.to_owned() }
}

/// The label of a hard rule.
pub fn rule_label(t: Tr, rule: &str) -> String {
    let key = format!("mpi.rule.{rule}");
    if t.has(&key) { t.get(&key).to_owned() } else { rule.to_owned() }
}

/// How agreement looks: `agree` (closest level), `near` (a lesser level with positive weight),
/// `differ` (negative weight) or `missing`.
pub fn agreement_class(level: &str, weight: f64) -> &'static str {
    if level == "missing" {
        "missing"
    } else if weight < 0.0 {
        "differ"
    } else if matches!(level, "agree" | "exact" | "same_characters" | "distance_0" | "at_least_0_94") {
        "agree"
    } else {
        "near"
    }
}
