//! Message catalogues: every visible string of the UI, in zh-CN (first) and English, keyed
//! like the API's error codes. Catalogues are TOML files embedded in the binary; a test checks
//! that both languages have the same keys and that every key the templates use exists.

use std::collections::HashMap;
use std::sync::LazyLock;

use chrono::{DateTime, NaiveDate, Utc};

/// A UI language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    /// 简体中文, the default.
    ZhCn,
    /// English.
    En,
}

impl Lang {
    /// The BCP 47 tag.
    pub fn tag(self) -> &'static str {
        match self {
            Self::ZhCn => "zh-CN",
            Self::En => "en",
        }
    }

    /// Parses a tag; anything but English is Chinese.
    pub fn from_tag(tag: &str) -> Self {
        if tag.eq_ignore_ascii_case("en") || tag.to_ascii_lowercase().starts_with("en-") {
            Self::En
        } else {
            Self::ZhCn
        }
    }
}

/// The zh-CN catalogue source.
pub const ZH_CN: &str = include_str!("../../i18n/zh-CN.toml");
/// The English catalogue source.
pub const EN: &str = include_str!("../../i18n/en.toml");

fn flatten(prefix: &str, table: &toml::Table, out: &mut HashMap<String, String>) {
    for (k, v) in table {
        let key = if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") };
        match v {
            toml::Value::String(s) => {
                out.insert(key, s.clone());
            }
            toml::Value::Table(t) => flatten(&key, t, out),
            other => panic!("catalogue value {key} must be a string, is {other:?}"),
        }
    }
}

/// Parses a catalogue into dotted keys.
pub fn parse(source: &str) -> HashMap<String, String> {
    let table: toml::Table = source.parse().expect("catalogue is valid TOML");
    let mut out = HashMap::new();
    flatten("", &table, &mut out);
    out
}

static CATALOGUES: LazyLock<[HashMap<String, String>; 2]> = LazyLock::new(|| [parse(ZH_CN), parse(EN)]);

/// Lookups in one language, handed to every template as `t`.
#[derive(Debug, Clone, Copy)]
pub struct Tr {
    /// The language.
    pub lang: Lang,
}

impl Tr {
    /// The message for `key`; the key itself if missing (a test keeps that from happening).
    pub fn get<'a>(&self, key: &'a str) -> &'a str {
        let catalogue: &'static HashMap<String, String> =
            &CATALOGUES[if self.lang == Lang::ZhCn { 0 } else { 1 }];
        catalogue.get(key).map_or(key, String::as_str)
    }

    /// The message for `key` with `{name}` placeholders filled.
    pub fn fmt(&self, key: &str, args: &[(&str, &str)]) -> String {
        let mut s = self.get(key).to_owned();
        for (name, value) in args {
            s = s.replace(&format!("{{{name}}}"), value);
        }
        s
    }

    /// Whether a key exists.
    pub fn has(&self, key: &str) -> bool {
        CATALOGUES[if self.lang == Lang::ZhCn { 0 } else { 1 }].contains_key(key)
    }

    /// The message for an API error code, with the English fallback given.
    pub fn error(&self, code: &str, fallback: &str) -> String {
        let key = format!("error.{code}");
        if self.has(&key) { self.get(&key).to_owned() } else { fallback.to_owned() }
    }

    /// A date the local way: 2026年11月25日 or 2026-11-25.
    pub fn date(&self, d: NaiveDate) -> String {
        match self.lang {
            Lang::ZhCn => d.format("%Y年%-m月%-d日").to_string(),
            Lang::En => d.format("%Y-%m-%d").to_string(),
        }
    }

    /// An instant in China time, the local way.
    pub fn datetime(&self, t: DateTime<Utc>) -> String {
        let china = chrono::FixedOffset::east_opt(8 * 3600).expect("valid offset");
        let t = t.with_timezone(&china);
        match self.lang {
            Lang::ZhCn => t.format("%Y年%-m月%-d日 %H:%M:%S").to_string(),
            Lang::En => t.format("%Y-%m-%d %H:%M:%S (UTC+8)").to_string(),
        }
    }

    /// A count with digit grouping: 12,345 in both languages (the Chinese standard for
    /// statistics, GB/T 15835, also groups by three).
    pub fn number(&self, n: i64) -> String {
        let digits = n.unsigned_abs().to_string();
        let mut out = String::new();
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i).is_multiple_of(3) {
                out.push(',');
            }
            out.push(c);
        }
        if n < 0 { format!("-{out}") } else { out }
    }
}

#[cfg(test)]
mod tests;
