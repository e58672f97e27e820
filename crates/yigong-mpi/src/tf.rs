//! Term-frequency adjustment: agreeing on a common value (王, 张伟, 1 January) is weaker evidence
//! than agreeing on a rare one (欧阳, 上官婉儿).
//!
//! The standard adjustment (Winkler; Splink's `tf_adjustment`) replaces, for an agreement
//! level, the field's average u by the frequency of the agreed value among the records:
//! weight = log2(m / u_value). It is applied as an additive term,
//! log2(u_chance / u_value), where u_chance = Σ p_v² is the chance that two random records agree
//! on the key; for an exact field's agreement level u_chance is that level's average u, so the
//! sum is exactly log2(m / u_value). The value used per level of `chinese_name`: the whole
//! name for same characters, the most frequent shared pinyin (or fuzzy pinyin) variant for the
//! pinyin levels, the surname for "same surname". Other comparators adjust their top level only.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize, Serializer};

use crate::compare::{Comparator, Level};
use crate::config::Config;
use crate::record::{Field, Prepared};

/// Value frequencies of one key over the records.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Table {
    #[serde(serialize_with = "sorted")]
    counts: HashMap<String, u32>,
    /// Records with at least one value.
    total: u32,
    /// Σ p_v²: the chance two random records agree on the key.
    chance: f64,
}

impl Table {
    fn build<'a>(values: impl Iterator<Item = Vec<&'a str>>) -> Self {
        let mut table = Self::default();
        for mut record_values in values {
            record_values.sort_unstable();
            record_values.dedup();
            if record_values.is_empty() {
                continue;
            }
            table.total += 1;
            for v in record_values {
                *table.counts.entry(v.to_owned()).or_default() += 1;
            }
        }
        let total = f64::from(table.total.max(1));
        table.chance = table.counts.values().map(|&c| (f64::from(c) / total).powi(2)).sum();
        table
    }

    /// p_v, at least one record's worth.
    fn frequency(&self, value: &str) -> f64 {
        let count = self.counts.get(value).copied().unwrap_or(0).max(1);
        f64::from(count) / f64::from(self.total.max(1))
    }

    /// log2(u_chance / p_v) for the most frequent of `values`; 0 without values.
    fn adjustment<'a>(&self, values: impl Iterator<Item = &'a str>) -> f64 {
        let frequency = values.map(|v| self.frequency(v)).fold(0.0, f64::max);
        if frequency > 0.0 && self.chance > 0.0 { (self.chance / frequency).log2() } else { 0.0 }
    }
}

/// Writes a map in key order, so that one model always serialises to the same text.
fn sorted<S: Serializer>(map: &HashMap<String, u32>, serializer: S) -> Result<S::Ok, S::Error> {
    map.iter().collect::<BTreeMap<_, _>>().serialize(serializer)
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct FieldTables {
    field: Field,
    whole: Table,
    surname: Table,
    pinyin: Table,
    fuzzy: Table,
}

/// Frequency tables of the fields configured with `term_frequency = true`. Serialisable with
/// the model (see [`crate::Model::to_json`]); the tables hold values (names), so the text is
/// personal data.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TermFrequencies {
    /// One entry per configured field, in configuration order.
    fields: Vec<Option<FieldTables>>,
}

impl TermFrequencies {
    /// Counts values over `records` (the whole population being matched).
    pub fn build(config: &Config, records: &[Prepared]) -> Self {
        let fields = config
            .fields
            .iter()
            .map(|f| f.term_frequency.then(|| tables(f.field, f.comparator, records)))
            .collect();
        Self { fields }
    }

    /// How many configured fields the tables describe (with or without a table).
    pub(crate) fn len(&self) -> usize {
        self.fields.len()
    }

    /// The additive adjustment (bits) for configured field number `index` at `level`.
    pub fn adjustment(
        &self,
        index: usize,
        comparator: Comparator,
        level: Level,
        a: &Prepared,
        b: &Prepared,
    ) -> f64 {
        let Some(Some(tables)) = self.fields.get(index) else { return 0.0 };
        let Some(level) = level.index() else { return 0.0 };
        if comparator == Comparator::ChineseName {
            let (Some(x), Some(y)) = (a.name(), b.name()) else { return 0.0 };
            let shared = |xs: &'_ [String], ys: &[String]| -> Vec<String> {
                xs.iter().filter(|v| ys.contains(v)).cloned().collect()
            };
            return match level {
                0 => tables.whole.adjustment([x.chars.as_str()].into_iter()),
                1 => tables.pinyin.adjustment(shared(&x.pinyin, &y.pinyin).iter().map(String::as_str)),
                2 => tables.fuzzy.adjustment(shared(&x.fuzzy, &y.fuzzy).iter().map(String::as_str)),
                3 => tables.surname.adjustment(x.surname.as_deref().into_iter()),
                _ => 0.0,
            };
        }
        if level != 0 {
            return 0.0;
        }
        let values = [a.text(tables.field), b.text(tables.field)];
        tables.whole.adjustment(values.into_iter().flatten())
    }
}

fn tables(field: Field, comparator: Comparator, records: &[Prepared]) -> FieldTables {
    if comparator == Comparator::ChineseName {
        let names = || records.iter().filter_map(Prepared::name);
        return FieldTables {
            field,
            whole: Table::build(names().map(|n| vec![n.chars.as_str()])),
            surname: Table::build(names().map(|n| n.surname.as_deref().into_iter().collect())),
            pinyin: Table::build(names().map(|n| n.pinyin.iter().map(String::as_str).collect())),
            fuzzy: Table::build(names().map(|n| n.fuzzy.iter().map(String::as_str).collect())),
        };
    }
    FieldTables {
        field,
        whole: Table::build(records.iter().map(|r| r.text(field).into_iter().collect())),
        surname: Table::default(),
        pinyin: Table::default(),
        fuzzy: Table::default(),
    }
}

#[cfg(test)]
mod tests;
