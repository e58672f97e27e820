//! The matching model as configuration: which fields are compared and how, the blocking passes,
//! the thresholds of the three bands and the EM settings. Read from TOML with unknown keys and
//! names refused; the default for Chinese demographics ships as `config/default.toml`.

use serde::{Deserialize, Serialize};

use crate::block::BlockingKey;
use crate::compare::Comparator;
use crate::record::Field;

/// The default configuration for Chinese demographics, embedded in the binary.
pub const DEFAULT_TOML: &str = include_str!("../config/default.toml");

/// Why a configuration was refused.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// Not TOML, an unknown key, or an unknown field, comparator or blocking key name (the
    /// message names it and lists the known ones).
    #[error("matching configuration: {0}")]
    Parse(#[from] toml::de::Error),
    /// Well-formed but inconsistent (the message says what).
    #[error("matching configuration: {0}")]
    Invalid(String),
    /// A stored model that is not the JSON [`crate::Model::to_json`] writes.
    #[error("stored matching model: {0}")]
    Model(#[from] serde_json::Error),
}

impl ConfigError {
    /// Stable snake_case code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Parse(_) => "mpi_config_parse",
            Self::Invalid(_) => "mpi_config_invalid",
            Self::Model(_) => "mpi_model_parse",
        }
    }
}

/// A matching model's configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Name and version of the configuration; it prefixes every parameter-set version.
    pub version: String,
    /// Fields compared, in the order they are shown.
    pub fields: Vec<FieldConfig>,
    /// How candidate pairs are found.
    pub blocking: BlockingConfig,
    /// Score thresholds of the bands.
    pub thresholds: Thresholds,
    /// Expectation–maximisation settings.
    #[serde(default)]
    pub em: EmConfig,
}

/// One compared field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldConfig {
    /// The record field.
    pub field: Field,
    /// How it is compared.
    pub comparator: Comparator,
    /// Whether agreement weighs by the frequency of the agreed value (common names less).
    #[serde(default)]
    pub term_frequency: bool,
}

/// Blocking: the union of the passes gives the candidate pairs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BlockingConfig {
    /// A block with more records than this is split by one more key.
    #[serde(default = "default_max_block_size")]
    pub max_block_size: usize,
    /// Each pass is a list of keys that must all agree (`["birth_date", "sex"]`).
    pub passes: Vec<Vec<BlockingKey>>,
}

fn default_max_block_size() -> usize {
    2_000
}

/// Band thresholds on the score (bits: Σ log2(m/u)).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Thresholds {
    /// At or above: automatic link.
    pub upper: f64,
    /// At or above (and below `upper`): review queue; below: no link.
    pub lower: f64,
}

/// Expectation–maximisation settings.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EmConfig {
    /// Starting m of each field's closest level; the rest is spread over the other levels.
    pub start_m: f64,
    /// Iteration cap.
    pub max_iterations: u32,
    /// Stop when the mean log-likelihood per pair grows by less than this.
    pub min_gain: f64,
    /// Fix the class of pairs whose valid resident IDs decide it (same number: match; numbers
    /// not one transposition apart: non-match) instead of estimating it; see [`crate::em`].
    pub anchor_on_resident_id: bool,
    /// How m and u are estimated from the blocked pairs.
    pub training: Training,
}

/// How EM uses the blocked pairs (see [`crate::em`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Training {
    /// DESIGN §3.3: one EM over all blocked pairs, m and u both re-estimated (u from the random
    /// pairs as start and prior). Needed when strangers resemble each other on many fields
    /// (family members share phone, village and household).
    #[default]
    Pooled,
    /// Splink's: u from the random pairs only; m by one EM per blocking pass, leaving out the
    /// fields that pass blocks on, averaged. Suited to blocking on the compared fields
    /// themselves (names, postcode), where a pooled EM learns that agreeing on a name is weak
    /// evidence because every blocked stranger agrees on it.
    PerPass,
}

impl Default for EmConfig {
    fn default() -> Self {
        Self {
            start_m: 0.9,
            max_iterations: 200,
            min_gain: 1e-6,
            anchor_on_resident_id: true,
            training: Training::Pooled,
        }
    }
}

impl Config {
    /// Parses and checks a TOML configuration.
    pub fn from_toml(text: &str) -> Result<Self, ConfigError> {
        let config: Self = toml::from_str(text)?;
        config.check()?;
        Ok(config)
    }

    /// The shipped default for Chinese demographics (`config/default.toml`).
    pub fn default_chinese() -> Self {
        Self::from_toml(DEFAULT_TOML).expect("the shipped default configuration is valid")
    }

    /// Checks what serde cannot: comparators fit their fields, nothing is empty or repeated,
    /// the thresholds and EM settings make sense.
    pub fn check(&self) -> Result<(), ConfigError> {
        let invalid = |msg: String| Err(ConfigError::Invalid(msg));
        if self.fields.is_empty() {
            return invalid("no field is compared".into());
        }
        for (i, f) in self.fields.iter().enumerate() {
            if !f.comparator.accepts(f.field) {
                return invalid(format!(
                    "field `{}`: comparator `{}` cannot compare it",
                    f.field.as_str(),
                    f.comparator.as_str()
                ));
            }
            if self.fields[..i].iter().any(|g| g.field == f.field) {
                return invalid(format!("field `{}` is compared twice", f.field.as_str()));
            }
        }
        if self.blocking.passes.is_empty() || self.blocking.passes.iter().any(Vec::is_empty) {
            return invalid("blocking needs at least one pass, and every pass a key".into());
        }
        if self.blocking.max_block_size < 2 {
            return invalid("blocking.max_block_size must be at least 2".into());
        }
        let Thresholds { upper, lower } = self.thresholds;
        if !(upper.is_finite() && lower.is_finite() && lower <= upper) {
            return invalid(format!("thresholds: lower ({lower}) must not exceed upper ({upper})"));
        }
        let em = &self.em;
        if !(em.start_m > 0.0 && em.start_m < 1.0) || em.max_iterations == 0 || em.min_gain.is_nan() {
            return invalid("em: start_m must lie in (0, 1) and max_iterations be at least 1".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
