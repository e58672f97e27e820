//! Normalisation of raw demographic strings before matching: NFKC (which also turns full-width
//! letters, digits and the ideographic space into their ASCII forms), names without spaces but
//! with the middle dot of minority names, 11-digit mobiles, resident IDs in their 18-character
//! form, birth dates, sex codes and other identifiers; Latin-script text for sources outside
//! China.
//!
//! Traditional → simplified conversion is not done: the only crates found were GPL (`zhconv`)
//! or unmaintained with old dependencies (`fast2s`), and a character table alone mis-converts
//! names (乾, 後). Records in traditional characters still meet on pinyin.

use chrono::NaiveDate;
use unicode_normalization::UnicodeNormalization;
use yigong_domain::identity::{DivisionCode, ResidentId, Sex, check_char};

/// The one middle dot kept in names (U+00B7), as in 阿依古丽·买买提.
pub const MIDDLE_DOT: char = '\u{00B7}';

/// Characters that clerks and input methods type for the middle dot of a minority name.
const DOT_LIKE: &[char] = &[
    '\u{00B7}', // · middle dot
    '\u{2022}', // • bullet
    '\u{2027}', // ‧ hyphenation point
    '\u{30FB}', // ・ katakana middle dot (and U+FF65 after NFKC)
    '\u{2219}', // ∙ bullet operator
    '\u{22C5}', // ⋅ dot operator
    '\u{2E31}', // ⸱ word separator middle dot
    '\u{16EB}', // ᛫ runic single punctuation
    '\u{0387}', // · Greek ano teleia (NFKC maps it to U+00B7 already)
    '.',        // full stop, also from U+FF0E and U+2024 after NFKC
    '\u{3002}', // 。 ideographic full stop
];

/// A resident ID as found in a record: a valid GB 11643 number, or the normalised characters of
/// an invalid one, kept because a typo (one digit wrong, two digits swapped) still links.
#[derive(Clone, PartialEq, Eq)]
pub enum IdNumber {
    /// A number that passed [`ResidentId::parse`] (15-digit ones converted to 18 characters).
    Valid(ResidentId),
    /// Digits (and `X`) that failed the check; 15 digits are still widened to 18 characters.
    Invalid(String),
}

impl IdNumber {
    /// The 18-character form (or whatever characters an invalid number had).
    pub fn as_str(&self) -> &str {
        match self {
            Self::Valid(id) => id.as_str(),
            Self::Invalid(s) => s,
        }
    }

    /// The parsed number when it is valid.
    pub fn valid(&self) -> Option<&ResidentId> {
        match self {
            Self::Valid(id) => Some(id),
            Self::Invalid(_) => None,
        }
    }
}

impl std::fmt::Debug for IdNumber {
    /// Masked like [`ResidentId`]: ID numbers are personal data.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Valid(id) => write!(f, "Valid({id:?})"),
            Self::Invalid(s) => write!(f, "Invalid({} chars)", s.chars().count()),
        }
    }
}

fn nfkc(raw: &str) -> String {
    raw.nfkc().collect()
}

/// A person's name: NFKC, no whitespace, every dot-like character as one U+00B7 (never doubled,
/// never at an end), other punctuation dropped; Latin (pinyin-only) names in lower case.
/// `None` when nothing is left.
pub fn name(raw: &str) -> Option<String> {
    let mut out = String::new();
    for c in nfkc(raw).chars() {
        if DOT_LIKE.contains(&c) {
            if !out.is_empty() && !out.ends_with(MIDDLE_DOT) {
                out.push(MIDDLE_DOT);
            }
        } else if c.is_alphanumeric() {
            out.extend(c.to_lowercase());
        }
    }
    while out.ends_with(MIDDLE_DOT) {
        out.pop();
    }
    (!out.is_empty()).then_some(out)
}

/// An 11-digit mainland mobile number (`1[3-9]` and nine digits) with `+86`/`0086`/`86`,
/// spaces, dashes and brackets removed; `None` for anything else (landlines included).
pub fn mobile(raw: &str) -> Option<String> {
    let kept: String = nfkc(raw).chars().filter(|c| !matches!(c, ' ' | '-' | '(' | ')' | '\t')).collect();
    let digits = kept.strip_prefix('+').unwrap_or(&kept);
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let national = match digits.len() {
        15 if digits.starts_with("0086") => &digits[4..],
        13 if digits.starts_with("86") => &digits[2..],
        _ => digits,
    };
    let bytes = national.as_bytes();
    (national.len() == 11 && bytes[0] == b'1' && (b'3'..=b'9').contains(&bytes[1]))
        .then(|| national.to_owned())
}

/// A resident ID: NFKC, spaces and dashes dropped, then [`ResidentId::parse`] (15 → 18).
/// An invalid number is kept as [`IdNumber::Invalid`] so that typos still compare; `None` when
/// no digit is present at all.
pub fn resident_id(raw: &str, today: NaiveDate) -> Option<IdNumber> {
    let cleaned: String = nfkc(raw)
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| c.to_ascii_uppercase())
        .collect();
    if !cleaned.bytes().any(|b| b.is_ascii_digit()) {
        return None;
    }
    match ResidentId::parse(&cleaned, today) {
        Ok(id) => Some(IdNumber::Valid(id)),
        Err(_) if cleaned.len() == 15 && cleaned.bytes().all(|b| b.is_ascii_digit()) => {
            // An old number with an impossible date: widen it anyway so it compares with 18s.
            let body = format!("{}19{}", &cleaned[..6], &cleaned[6..]);
            let check = check_char(&body);
            Some(IdNumber::Invalid(format!("{body}{check}")))
        }
        Err(_) => Some(IdNumber::Invalid(cleaned)),
    }
}

/// A birth date written `2001-02-03`, `2001/2/3`, `2001.02.03`, `20010203` or `2001年2月3日`.
pub fn birth_date(raw: &str) -> Option<NaiveDate> {
    let text = nfkc(raw);
    let text = text.trim();
    if text.len() == 8 && text.bytes().all(|b| b.is_ascii_digit()) {
        return NaiveDate::parse_from_str(text, "%Y%m%d").ok();
    }
    let parts: Vec<&str> =
        text.split(['-', '/', '.', '年', '月', '日']).map(str::trim).filter(|p| !p.is_empty()).collect();
    match parts.as_slice() {
        [y, m, d] if y.len() == 4 => {
            NaiveDate::from_ymd_opt(y.parse().ok()?, m.parse().ok()?, d.parse().ok()?)
        }
        _ => None,
    }
}

/// Sex from the usual spellings: GB/T 2261.1 codes `1`/`2`, 男/女, M/F, male/female.
/// Unknown and unspecified sex is `None`: it says nothing for matching.
pub fn sex(raw: &str) -> Option<Sex> {
    match nfkc(raw).trim().to_lowercase().as_str() {
        "1" | "男" | "m" | "male" => Some(Sex::Male),
        "2" | "女" | "f" | "female" => Some(Sex::Female),
        _ => None,
    }
}

/// A twelve-digit statistical division code (village), NFKC and spaces removed.
pub fn village_code(raw: &str) -> Option<DivisionCode> {
    let digits: String = nfkc(raw).chars().filter(|c| !c.is_whitespace()).collect();
    DivisionCode::parse(&digits).ok()
}

/// Another identifier (e-health card, insurance number, household number): NFKC, upper case,
/// whitespace and dashes removed. `None` when empty.
pub fn identifier(raw: &str) -> Option<String> {
    let out: String =
        nfkc(raw).chars().filter(|c| !c.is_whitespace() && *c != '-').flat_map(char::to_uppercase).collect();
    (!out.is_empty()).then_some(out)
}

/// Free text in Latin script (given and family names, street, locality, postcode, region
/// outside China): NFKC, lower case, runs of whitespace as one space, trimmed. Punctuation is
/// kept (`o'brien`, `lillie-hinrichs`). `None` when empty.
pub fn text(raw: &str) -> Option<String> {
    let lower = nfkc(raw).to_lowercase();
    let out = lower.split_whitespace().collect::<Vec<_>>().join(" ");
    (!out.is_empty()).then_some(out)
}

#[cfg(test)]
mod tests;
