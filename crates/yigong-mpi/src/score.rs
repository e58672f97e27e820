//! Scoring and classification: the score of a pair is Σ log2(m/u) over the fields (with the
//! term-frequency adjustment where configured), the hard rules of DESIGN §3.3 cap the band, and
//! the result keeps every field's level and weight for the steward's page, with the version of
//! the parameter set that produced it.

use serde::{Deserialize, Serialize};

use crate::compare::{self, Comparator, Level};
use crate::config::{Config, ConfigError, Thresholds};
use crate::em::Parameters;
use crate::record::{Field, Prepared};
use crate::tf::TermFrequencies;

yigong_domain::vocabulary! {
    /// What happens to a scored pair.
    Band {
        /// Linked automatically.
        AutoLink = "auto_link",
        /// Put in the review queue (匹配审核).
        Review = "review",
        /// Not linked: the record becomes (or stays) its own golden person.
        NoLink = "no_link",
    }
}

yigong_domain::vocabulary! {
    /// A rule that forbids an automatic link whatever the score.
    HardRule {
        /// Two different valid resident IDs, not one adjacent transposition apart.
        DifferentValidIds = "different_valid_ids",
        /// Valid resident IDs encoding different sexes.
        DifferentIdSex = "different_id_sex",
        /// Same household and birth date but different given names: probably twins.
        Twins = "twins",
    }
}

/// One field's contribution to a score.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldScore {
    /// The field.
    pub field: Field,
    /// Its comparator.
    pub comparator: Comparator,
    /// The level reached.
    pub level: Level,
    /// The level's name (`missing` when a value is missing).
    pub level_name: &'static str,
    /// The weight added to the score, term-frequency adjustment included (0 when missing).
    pub weight: f64,
    /// The part of `weight` due to the term-frequency adjustment.
    pub term_frequency_adjustment: f64,
}

/// The score, band and explanation of one pair.
#[derive(Debug, Clone, PartialEq)]
pub struct MatchResult {
    /// Σ of the field weights, in bits.
    pub score: f64,
    /// The band after the hard rules.
    pub band: Band,
    /// Field by field, in configuration order.
    pub fields: Vec<FieldScore>,
    /// Hard rules that fired (each caps the band at review).
    pub hard_rules: Vec<HardRule>,
    /// [`Parameters::version`] of the parameters used.
    pub parameters_version: String,
}

/// A configuration with its estimated parameters and term frequencies: everything needed to
/// score pairs.
#[derive(Debug, Clone)]
pub struct Model {
    config: Config,
    parameters: Parameters,
    frequencies: TermFrequencies,
}

impl Model {
    /// Combines the parts; the parameters must describe the configured fields, in order.
    pub fn new(
        config: Config,
        parameters: Parameters,
        frequencies: TermFrequencies,
    ) -> Result<Self, ConfigError> {
        let fits = parameters.fields.len() == config.fields.len()
            && parameters.fields.iter().zip(&config.fields).all(|(p, c)| {
                p.field == c.field
                    && p.comparator == c.comparator
                    && p.m.len() == c.comparator.level_count()
                    && p.u.len() == c.comparator.level_count()
            });
        if !fits {
            return Err(ConfigError::Invalid(format!(
                "parameters {} do not describe the fields of configuration {}",
                parameters.version, config.version
            )));
        }
        Ok(Self { config, parameters, frequencies })
    }

    /// The model as JSON: the configuration, the parameters and the term-frequency tables, so
    /// that an application can store what a bulk run estimated and score later registrations
    /// without estimating again. The tables hold names: store the text as personal data.
    pub fn to_json(&self) -> String {
        let stored = StoredRef {
            format: MODEL_FORMAT,
            config: &self.config,
            parameters: &self.parameters,
            frequencies: &self.frequencies,
        };
        serde_json::to_string(&stored).expect("a model serialises")
    }

    /// Reads what [`Model::to_json`] wrote, checking the configuration and that the parameters
    /// fit it.
    pub fn from_json(text: &str) -> Result<Self, ConfigError> {
        let stored: Stored = serde_json::from_str(text)?;
        if stored.format != MODEL_FORMAT {
            return Err(ConfigError::Invalid(format!(
                "stored model format {} (this version reads {MODEL_FORMAT})",
                stored.format
            )));
        }
        stored.config.check()?;
        let model = Self::new(stored.config, stored.parameters, stored.frequencies)?;
        // Empty tables (no adjustment at all) or one entry per configured field.
        let tables = model.frequencies.len();
        if tables != 0 && tables != model.config.fields.len() {
            return Err(ConfigError::Invalid(
                "term frequencies do not describe the configured fields".into(),
            ));
        }
        Ok(model)
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The parameters.
    pub fn parameters(&self) -> &Parameters {
        &self.parameters
    }

    /// Scores and classifies a pair.
    pub fn score(&self, a: &Prepared, b: &Prepared) -> MatchResult {
        let fields: Vec<FieldScore> = self
            .config
            .fields
            .iter()
            .zip(&self.parameters.fields)
            .enumerate()
            .map(|(index, (f, p))| {
                let level = compare::compare(f.comparator, f.field, a, b);
                let adjustment = self.frequencies.adjustment(index, f.comparator, level, a, b);
                FieldScore {
                    field: f.field,
                    comparator: f.comparator,
                    level,
                    level_name: level.name(f.comparator),
                    weight: p.weight(level) + adjustment,
                    term_frequency_adjustment: adjustment,
                }
            })
            .collect();
        let score = fields.iter().map(|f| f.weight).sum();
        let hard_rules = hard_rules(a, b);
        MatchResult {
            score,
            band: classify(score, &hard_rules, &self.config.thresholds),
            fields,
            hard_rules,
            parameters_version: self.parameters.version.clone(),
        }
    }
}

/// Version of the JSON layout of a stored model.
const MODEL_FORMAT: u32 = 1;

#[derive(Serialize)]
struct StoredRef<'a> {
    format: u32,
    config: &'a Config,
    parameters: &'a Parameters,
    frequencies: &'a TermFrequencies,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Stored {
    format: u32,
    config: Config,
    parameters: Parameters,
    frequencies: TermFrequencies,
}

/// The hard rules of DESIGN §3.3 that a pair breaks.
pub fn hard_rules(a: &Prepared, b: &Prepared) -> Vec<HardRule> {
    let mut rules = Vec::new();
    let valid = |p: &Prepared| p.resident_id().and_then(|id| id.valid()).cloned();
    if let (Some(x), Some(y)) = (valid(a), valid(b)) {
        // DESIGN forgives one adjacent transposition, which can leave a number valid only in an
        // old 15-digit number, widened (see `compare::ids_cannot_be_one_typo_apart`).
        let transposed =
            compare::compare(Comparator::IdNumber, Field::ResidentId, a, b) == Level::Observed(1);
        // Compare the numbers, not the values: a widened 15-digit number equals its 18.
        if x.as_str() != y.as_str() && !transposed {
            rules.push(HardRule::DifferentValidIds);
        }
        if x.sex() != y.sex() {
            rules.push(HardRule::DifferentIdSex);
        }
    }
    // Twins never share an ID number: with the same valid number a different given name is a
    // clerk's typo (a homophone), not a sibling.
    let same_valid_id = matches!((valid(a), valid(b)), (Some(x), Some(y)) if x.as_str() == y.as_str());
    let same_household = a.household_id().is_some() && a.household_id() == b.household_id();
    let same_birth = a.birth_date().is_some() && a.birth_date() == b.birth_date();
    if !same_valid_id
        && same_household
        && same_birth
        && let (Some(x), Some(y)) = (a.name(), b.name())
        && x.given != y.given
    {
        rules.push(HardRule::Twins);
    }
    rules
}

/// The band of a score: ≥ upper auto-link, ≥ lower review, below no link; any hard rule caps
/// it at review.
pub fn classify(score: f64, hard_rules: &[HardRule], thresholds: &Thresholds) -> Band {
    let band = if score >= thresholds.upper {
        Band::AutoLink
    } else if score >= thresholds.lower {
        Band::Review
    } else {
        Band::NoLink
    };
    if band == Band::AutoLink && !hard_rules.is_empty() { Band::Review } else { band }
}

#[cfg(test)]
mod tests;
