//! The matching engine of the master patient index (DESIGN §3.3): normalise → block → compare →
//! score → classify, Fellegi–Sunter with m and u estimated by EM and a term-frequency
//! adjustment for common names. Pure: no I/O, no database, no clock (`today` is a parameter),
//! no random numbers unless the caller gives the seed. Linking, golden records and the review
//! queue live in `app` and `store`; this crate only says which pairs look like one person, with
//! helpers for them: [`record_keys`] for a stored blocking index, [`Model::to_json`] to keep an
//! estimated model, [`cluster`] to turn links into persons.
//!
//! Besides Chinese demographics, records may carry Latin-script fields (given and family name,
//! address, locality, postcode, region) so that a configuration can match other data; FEBRL's
//! public benchmark is matched with `examples/febrl/matching.toml`.
//!
//! ```
//! use yigong_mpi::{Config, Prepared, Record, em};
//!
//! let records: Vec<Prepared> = [Record::default(), Record::default()].iter().map(Prepared::new).collect();
//! let config = Config::default_chinese();
//! let random = em::sample_pairs(records.len(), 100, 7);
//! let run = yigong_mpi::run(&config, &records, &random);
//! assert_eq!(run.blocking.distinct_pairs, 0); // nothing to block on
//! ```
#![warn(missing_docs)]

pub mod block;
pub mod cluster;
pub mod compare;
pub mod config;
pub mod em;
pub mod name;
pub mod normalise;
pub mod pinyin;
pub mod record;
pub mod score;
pub mod tf;

#[cfg(test)]
mod testing;
#[cfg(test)]
mod tests;

pub use block::{BlockReport, BlockingKey, record_keys};
pub use cluster::cluster;
pub use compare::{Comparator, Level};
pub use config::{Config, ConfigError};
pub use em::{EmReport, Parameters};
pub use record::{Field, Prepared, RawRecord, Record, SourceRef};
pub use score::{Band, HardRule, MatchResult, Model};
pub use tf::TermFrequencies;

/// One scored candidate pair: indexes into the records, `a < b`.
#[derive(Debug, Clone, PartialEq)]
pub struct ScoredPair {
    /// First record.
    pub a: u32,
    /// Second record.
    pub b: u32,
    /// Score, band and explanation.
    pub result: MatchResult,
}

/// Everything one matching run produced.
#[derive(Debug, Clone)]
pub struct Run {
    /// What blocking did (safe to log).
    pub blocking: BlockReport,
    /// What EM did (safe to log).
    pub em: EmReport,
    /// The model estimated on these records, to score further pairs with.
    pub model: Model,
    /// Every candidate pair, scored.
    pub scored: Vec<ScoredPair>,
}

/// Blocks `records`, estimates the parameters by EM (u starting from `random_pairs`), builds the
/// term frequencies and scores every candidate pair.
pub fn run(config: &Config, records: &[Prepared], random_pairs: &[(u32, u32)]) -> Run {
    let blocking = block::candidate_pairs(&config.blocking, records);
    let (parameters, em) = em::estimate(config, records, &blocking.pairs, random_pairs);
    let frequencies = TermFrequencies::build(config, records);
    let model =
        Model::new(config.clone(), parameters, frequencies).expect("EM estimates the configured fields");
    let scored = blocking
        .pairs
        .iter()
        .map(|&(a, b)| ScoredPair { a, b, result: model.score(&records[a as usize], &records[b as usize]) })
        .collect();
    Run { blocking: blocking.report, em, model, scored }
}

/// A scored pair without its explanation: what a run over a whole county keeps (the field by
/// field explanation of a pair is [`Model::score`] again, for the few pairs shown).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PairScore {
    /// First record.
    pub a: u32,
    /// Second record.
    pub b: u32,
    /// Score in bits.
    pub score: f64,
    /// Band after the hard rules.
    pub band: Band,
}

/// What [`run_compact`] produced.
#[derive(Debug, Clone)]
pub struct CompactRun {
    /// What blocking did (safe to log).
    pub blocking: BlockReport,
    /// What EM did (zero iterations when parameters were given).
    pub em: EmReport,
    /// The model.
    pub model: Model,
    /// Every candidate pair's score and band.
    pub scored: Vec<PairScore>,
}

/// Like [`run`], keeping only each pair's score and band, so that memory grows by a few bytes
/// per candidate pair. With `parameters` (an index too young to estimate from) EM is skipped;
/// they must describe the configuration's fields.
pub fn run_compact(
    config: &Config,
    records: &[Prepared],
    parameters: Option<Parameters>,
    random_pairs: &[(u32, u32)],
) -> Result<CompactRun, ConfigError> {
    let blocking = block::candidate_pairs(&config.blocking, records);
    let (parameters, em) = match parameters {
        Some(p) => (
            p,
            EmReport {
                pairs: blocking.pairs.len(),
                patterns: 0,
                random_pairs: 0,
                iterations: 0,
                converged: true,
                log_likelihood: 0.0,
            },
        ),
        None => em::estimate(config, records, &blocking.pairs, random_pairs),
    };
    let frequencies = TermFrequencies::build(config, records);
    let model = Model::new(config.clone(), parameters, frequencies)?;
    let scored = blocking
        .pairs
        .iter()
        .map(|&(a, b)| {
            let r = model.score(&records[a as usize], &records[b as usize]);
            PairScore { a, b, score: r.score, band: r.band }
        })
        .collect();
    Ok(CompactRun { blocking: blocking.report, em, model, scored })
}
