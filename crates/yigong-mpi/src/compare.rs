//! Field comparators with the level sets of DESIGN §3.3. A comparator maps two present values
//! to a level index, 0 being the closest agreement and the last one "other"; a missing value on
//! either side is [`Level::Missing`], which weighs 0.

use chrono::{Datelike, NaiveDate};

use yigong_domain::identity::IdOrigin;

use crate::name::{NameKey, intersects};
use crate::record::{Field, Prepared};

yigong_domain::vocabulary! {
    /// How a field is compared (DESIGN §3.3).
    Comparator {
        /// agree / disagree.
        Exact = "exact",
        /// Jaro–Winkler (p 0.1, prefix ≤ 4): ≥ 0.94 / ≥ 0.88 / lower.
        JaroWinkler = "jaro_winkler",
        /// Edit distance in characters: 0 / 1 / 2 / > 2.
        Levenshtein = "levenshtein",
        /// exact / day↔month swap / ±1 day / same year-month / other.
        Date = "date",
        /// exact (after 15→18) / adjacent transposition / one substitution / other.
        IdNumber = "id_number",
        /// same characters / same pinyin / fuzzy pinyin / same surname, given name within edit 1
        /// / other.
        ChineseName = "chinese_name",
        /// For the Latin-script given and family names: Jaro–Winkler ≥ 0.94 / ≥ 0.88 / the
        /// value is (Jaro–Winkler ≥ 0.94) the other record's *other* name: given and family
        /// names entered in each other's field / lower.
        JaroWinklerSwap = "jaro_winkler_swap",
    }
}

impl Comparator {
    /// The names of the levels, closest first: shown field by field on the steward's page.
    pub fn level_names(self) -> &'static [&'static str] {
        match self {
            Self::Exact => &["agree", "disagree"],
            Self::JaroWinkler => &["at_least_0_94", "at_least_0_88", "lower"],
            Self::Levenshtein => &["distance_0", "distance_1", "distance_2", "distance_over_2"],
            Self::Date => &["exact", "day_month_swap", "one_day_apart", "same_year_month", "other"],
            Self::IdNumber => &["exact", "adjacent_transposition", "one_substitution", "other"],
            Self::ChineseName => {
                &["same_characters", "same_pinyin", "fuzzy_pinyin", "same_surname_given_edit_1", "other"]
            }
            Self::JaroWinklerSwap => &["at_least_0_94", "at_least_0_88", "swapped", "lower"],
        }
    }

    /// How many levels (without [`Level::Missing`]).
    pub fn level_count(self) -> usize {
        self.level_names().len()
    }

    /// Whether this comparator can compare `field`: `date` needs the birth date, `chinese_name`
    /// the name, `id_number` the resident ID and `jaro_winkler_swap` the given or family name;
    /// the string comparators take any field's text.
    pub fn accepts(self, field: Field) -> bool {
        match self {
            Self::Date => field == Field::BirthDate,
            Self::ChineseName => field == Field::Name,
            Self::IdNumber => field == Field::ResidentId,
            Self::JaroWinklerSwap => matches!(field, Field::GivenName | Field::FamilyName),
            Self::Exact | Self::JaroWinkler | Self::Levenshtein => true,
        }
    }
}

/// The outcome of one comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Level {
    /// A value is missing on one side or both: the field weighs 0.
    Missing,
    /// Level index into [`Comparator::level_names`], 0 = closest.
    Observed(u8),
}

impl Level {
    /// The level index, `None` when missing.
    pub fn index(self) -> Option<usize> {
        match self {
            Self::Missing => None,
            Self::Observed(i) => Some(usize::from(i)),
        }
    }

    /// The level's name (`missing` for [`Level::Missing`]).
    pub fn name(self, comparator: Comparator) -> &'static str {
        self.index().map_or("missing", |i| comparator.level_names()[i])
    }
}

/// `exact`: 0 agree, 1 disagree.
pub fn exact(a: &str, b: &str) -> u8 {
    u8::from(a != b)
}

/// `jaro_winkler` with strsim's Winkler boost (p = 0.1, common prefix of at most 4
/// characters, applied above a Jaro similarity of 0.7): 0 for ≥ 0.94, 1 for ≥ 0.88, 2 lower.
pub fn jaro_winkler(a: &str, b: &str) -> u8 {
    let similarity = strsim::jaro_winkler(a, b);
    if similarity >= 0.94 {
        0
    } else if similarity >= 0.88 {
        1
    } else {
        2
    }
}

/// `jaro_winkler_swap`: the levels of [`jaro_winkler`], then 2 when `a` is the other record's
/// other name or `b` this record's (`a_other`, `b_other`: the family name when comparing given
/// names, and the reverse), 3 otherwise.
pub fn jaro_winkler_swap(a: &str, b: &str, a_other: Option<&str>, b_other: Option<&str>) -> u8 {
    let close = |x: &str, y: &str| strsim::jaro_winkler(x, y) >= 0.94;
    match jaro_winkler(a, b) {
        2 if b_other.is_some_and(|o| close(a, o)) || a_other.is_some_and(|o| close(o, b)) => 2,
        2 => 3,
        level => level,
    }
}

/// `levenshtein` in characters (not bytes): 0, 1, 2, or 3 for more than 2.
pub fn levenshtein(a: &str, b: &str) -> u8 {
    strsim::levenshtein(a, b).min(3) as u8
}

/// `date`: 0 exact, 1 day and month swapped (same year), 2 one day apart, 3 same year and month,
/// 4 other.
pub fn date(a: NaiveDate, b: NaiveDate) -> u8 {
    if a == b {
        0
    } else if a.year() == b.year() && a.month() == b.day() && a.day() == b.month() {
        1
    } else if (a - b).num_days().abs() == 1 {
        2
    } else if a.year() == b.year() && a.month() == b.month() {
        3
    } else {
        4
    }
}

/// `id_number` on 18-character forms (15-digit numbers were widened by normalisation): 0 exact,
/// 1 two adjacent characters swapped, 2 one character different, 3 other. For 18 characters
/// only the first 17 are compared beyond exactness, because a typo in a widened 15-digit number
/// also changes the computed check character.
pub fn id_number(a: &str, b: &str) -> u8 {
    if a == b {
        return 0;
    }
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    if a.len() != b.len() {
        return 3;
    }
    let body = if a.len() == 18 { 17 } else { a.len() };
    let diffs: Vec<usize> = (0..body).filter(|&i| a[i] != b[i]).collect();
    match diffs.as_slice() {
        // One body character, or only the check character, differs.
        [] | [_] => 2,
        [i, j] if *j == i + 1 && a[*i] == b[*j] && a[*j] == b[*i] => 1,
        _ => 3,
    }
}

/// `chinese_name`: 0 same characters, 1 a common toneless pinyin (homophones, or one reading of
/// a polyphonic character), 2 a common fuzzy pinyin, 3 same surname with given names within one
/// character edit, 4 other.
pub fn chinese_name(a: &NameKey, b: &NameKey) -> u8 {
    if a.chars == b.chars {
        0
    } else if intersects(&a.pinyin, &b.pinyin) {
        1
    } else if intersects(&a.fuzzy, &b.fuzzy) {
        2
    } else if a.surname.is_some() && a.surname == b.surname && strsim::levenshtein(&a.given, &b.given) <= 1 {
        3
    } else {
        4
    }
}

/// Two valid numbers entered with 18 characters that differ are two people: MOD 11-2 catches
/// every single substitution and adjacent transposition, so no one-key typo leaves a number
/// valid. Only a number widened from 15 digits (no check character of its own) can carry a
/// typo and still be valid.
pub fn ids_cannot_be_one_typo_apart(a: &Prepared, b: &Prepared) -> bool {
    let entered18 = |p: &Prepared| {
        p.resident_id().and_then(|id| id.valid()).filter(|id| id.origin() == IdOrigin::Entered18).is_some()
    };
    entered18(a) && entered18(b)
}

/// Compares one field of two prepared records.
pub fn compare(comparator: Comparator, field: Field, a: &Prepared, b: &Prepared) -> Level {
    let level = match comparator {
        Comparator::ChineseName => a.name().zip(b.name()).map(|(x, y)| chinese_name(x, y)),
        Comparator::Date => a.birth_date().zip(b.birth_date()).map(|(x, y)| date(x, y)),
        Comparator::JaroWinklerSwap => {
            let other = if field == Field::GivenName { Field::FamilyName } else { Field::GivenName };
            a.text(field)
                .zip(b.text(field))
                .map(|(x, y)| jaro_winkler_swap(x, y, a.text(other), b.text(other)))
        }
        Comparator::IdNumber if field == Field::ResidentId && ids_cannot_be_one_typo_apart(a, b) => {
            a.text(field).zip(b.text(field)).map(|(x, y)| if x == y { 0 } else { 3 })
        }
        _ => a.text(field).zip(b.text(field)).map(|(x, y)| match comparator {
            Comparator::Exact => exact(x, y),
            Comparator::JaroWinkler => jaro_winkler(x, y),
            Comparator::Levenshtein => levenshtein(x, y),
            Comparator::IdNumber => id_number(x, y),
            Comparator::Date | Comparator::ChineseName | Comparator::JaroWinklerSwap => {
                unreachable!("handled above")
            }
        }),
    };
    level.map_or(Level::Missing, Level::Observed)
}

#[cfg(test)]
mod tests;
