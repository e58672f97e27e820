//! Search values as written in a URL, parsed for one parameter. Modifiers (`:exact`,
//! `:contains`, `:missing`, `:Patient`, …) are the caller's; it splits them off the name first.

use unicode_normalization::UnicodeNormalization;

use super::date::{DatePeriod, Prefix, parse_date_period};
use super::extract::{is_id, is_resource_type};
use super::{ParamType, SearchParam};

/// What a token value constrains the system to.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum TokenSystem {
    /// `code`: any system, or none.
    Any,
    /// `|code`: no system.
    Absent,
    /// `system|code` or `system|`.
    Is(String),
}

/// A parsed search value.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum QueryValue {
    /// `code`, `|code`, `system|code`, or `system|` (`code` is `None`: any code of the system).
    Token {
        system: TokenSystem,
        code: Option<String>,
    },
    /// Normalised like the index ([`normalise_string`]); prefix match unless a modifier says
    /// otherwise.
    String(String),
    /// `[prefix]date`: the period the written precision covers (`2023-05` is that month).
    Date {
        prefix: Prefix,
        period: DatePeriod,
    },
    /// `Type/id`, an absolute URL ending in `Type/id`, or a bare `id`; for a bare id
    /// `target_type` is the parameter's [`SearchParam::single_target`], `None` when the
    /// parameter has several (then any type with that id matches).
    Reference {
        target_type: Option<String>,
        id: String,
    },
    /// `[prefix]number|system|code` (`number||code` and `number` alone too); the decimal as
    /// written.
    Quantity {
        prefix: Prefix,
        value: String,
        system: Option<String>,
        code: Option<String>,
    },
    /// `[prefix]number`, as written.
    Number {
        prefix: Prefix,
        value: String,
    },
    Uri(String),
}

/// Why a search value does not fit its parameter. Messages are for the client
/// (OperationOutcome `diagnostics`); `code()` is stable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    /// Nothing to search for.
    #[error("search value is empty")]
    Empty,
    /// Not a FHIR date, dateTime or instant.
    #[error("date '{0}' is not a FHIR date")]
    Date(String),
    /// Not a FHIR decimal.
    #[error("'{0}' is not a FHIR number")]
    Number(String),
    /// A token with neither system nor code (`|`).
    #[error("token '{0}' has neither a system nor a code")]
    Token(String),
    /// Not `Type/id`, a URL ending so, or an id.
    #[error("reference '{0}' is neither Type/id nor an id")]
    Reference(String),
    /// A `Type/id` whose type the parameter does not point to.
    #[error("'{param}' refers to {expected}, not to {found}")]
    ReferenceType { param: String, found: String, expected: String },
}

impl QueryError {
    /// A stable snake_case code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Empty => "search_value_empty",
            Self::Date(_) => "search_date_invalid",
            Self::Number(_) => "search_number_invalid",
            Self::Token(_) => "search_token_invalid",
            Self::Reference(_) => "search_reference_invalid",
            Self::ReferenceType { .. } => "search_reference_type",
        }
    }
}

/// Parses one search value (one of a comma-separated list; see [`split_values`]) for a parameter.
/// Escapes (`\,`, `\|`, `\$`, `\\`) are removed here.
pub fn parse_query_value(param: &SearchParam, raw: &str) -> Result<QueryValue, QueryError> {
    if raw.is_empty() {
        return Err(QueryError::Empty);
    }
    match param.kind {
        ParamType::Token => token(raw),
        ParamType::String => match normalise_string(&unescape(raw)) {
            normalised if normalised.is_empty() => Err(QueryError::Empty),
            normalised => Ok(QueryValue::String(normalised)),
        },
        ParamType::Date => {
            let (prefix, rest) = Prefix::split(raw);
            // An unencoded `+` of a zone arrives as a space.
            let text = rest.replacen(' ', "+", 1);
            let period = parse_date_period(&text).ok_or_else(|| QueryError::Date(raw.to_owned()))?;
            Ok(QueryValue::Date { prefix, period })
        }
        ParamType::Reference => reference(param, &unescape(raw)),
        ParamType::Quantity => {
            let (prefix, rest) = Prefix::split(raw);
            let mut parts = split_unescaped(rest, '|').into_iter();
            let number = parts.next().unwrap_or_default();
            if !is_decimal(number) {
                return Err(QueryError::Number(raw.to_owned()));
            }
            let mut part = || parts.next().map(unescape).filter(|s| !s.is_empty());
            let (system, code) = (part(), part());
            Ok(QueryValue::Quantity { prefix, value: number.to_owned(), system, code })
        }
        ParamType::Number => {
            let (prefix, number) = Prefix::split(raw);
            if !is_decimal(number) {
                return Err(QueryError::Number(raw.to_owned()));
            }
            Ok(QueryValue::Number { prefix, value: number.to_owned() })
        }
        ParamType::Uri => Ok(QueryValue::Uri(unescape(raw))),
    }
}

fn token(raw: &str) -> Result<QueryValue, QueryError> {
    let system = split_unescaped(raw, '|')[0];
    if system.len() == raw.len() {
        return Ok(QueryValue::Token { system: TokenSystem::Any, code: Some(unescape(raw)) });
    }
    // Everything after the first unescaped `|` is the code, even an unescaped `|` in it.
    let code = &raw[system.len() + 1..];
    let (system, code) = match (system.is_empty(), code.is_empty()) {
        (true, true) => return Err(QueryError::Token(raw.to_owned())),
        (true, false) => (TokenSystem::Absent, Some(unescape(code))),
        (false, true) => (TokenSystem::Is(unescape(system)), None),
        (false, false) => (TokenSystem::Is(unescape(system)), Some(unescape(code))),
    };
    Ok(QueryValue::Token { system, code })
}

fn reference(param: &SearchParam, raw: &str) -> Result<QueryValue, QueryError> {
    let mut segments: Vec<&str> = raw.split('/').collect();
    if segments.len() >= 4 && segments[segments.len() - 2] == "_history" {
        segments.truncate(segments.len() - 2);
    }
    let (target_type, id) = match segments.as_slice() {
        [id] if is_id(id) => (param.single_target().map(str::to_owned), *id),
        [.., target_type, id] if is_resource_type(target_type) && is_id(id) => {
            if !param.targets.iter().any(|t| t == target_type) {
                return Err(QueryError::ReferenceType {
                    param: param.code.clone(),
                    found: (*target_type).to_owned(),
                    expected: param.targets.join(", "),
                });
            }
            (Some((*target_type).to_owned()), *id)
        }
        _ => return Err(QueryError::Reference(raw.to_owned())),
    };
    Ok(QueryValue::Reference { target_type, id: id.to_owned() })
}

/// A FHIR decimal: `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`.
fn is_decimal(text: &str) -> bool {
    let text = text.strip_prefix('-').unwrap_or(text);
    let (mantissa, exponent) = match text.find(['e', 'E']) {
        Some(at) => (&text[..at], Some(&text[at + 1..])),
        None => (text, None),
    };
    let (whole, fraction) = match mantissa.split_once('.') {
        Some((whole, fraction)) => (whole, Some(fraction)),
        None => (mantissa, None),
    };
    let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    all_digits(whole)
        && (whole == "0" || !whole.starts_with('0'))
        && fraction.is_none_or(all_digits)
        && exponent.is_none_or(|e| all_digits(e.strip_prefix(['+', '-']).unwrap_or(e)))
}

/// Splits a parameter's value on the commas that are not escaped (`a,b\,c` → `a`, `b\,c`); each
/// part goes to [`parse_query_value`], which unescapes it.
pub fn split_values(raw: &str) -> Vec<&str> {
    split_unescaped(raw, ',')
}

fn split_unescaped(raw: &str, separator: char) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut from = 0;
    let mut escaped = false;
    for (at, c) in raw.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            c if c == separator => {
                parts.push(&raw[from..at]);
                from = at + c.len_utf8();
            }
            _ => {}
        }
    }
    parts.push(&raw[from..]);
    parts
}

fn unescape(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        match (c, chars.clone().next()) {
            ('\\', Some(next @ (',' | '|' | '$' | '\\'))) => {
                out.push(next);
                chars.next();
            }
            (c, _) => out.push(c),
        }
    }
    out
}

/// The form of a string that string search compares: compatibility-decomposed (full-width
/// `Ｚｈａｎｇ` → `Zhang`), without the accents of Latin letters (`Zhāng`, `Müller` → `zhang`,
/// `muller`), recomposed, lowercased, whitespace runs made one space, trimmed. Chinese is
/// unchanged: `张三` stays `张三`.
pub fn normalise_string(raw: &str) -> String {
    let folded: String = raw
        .nfkd()
        // U+0300–U+036F, Combining Diacritical Marks: the accents of decomposed Latin letters.
        .filter(|c| !('\u{0300}'..='\u{036f}').contains(c))
        .nfc()
        .flat_map(char::to_lowercase)
        .collect();
    folded.split_whitespace().collect::<Vec<_>>().join(" ")
}
