//! Unsupervised estimation of the Fellegi–Sunter parameters by expectation–maximisation over
//! the comparison vectors of the blocked pairs (DESIGN §3.3): m = P(level | match) starts at
//! `start_m` for each field's closest level, u = P(level | non-match) starts from a sample of
//! random pairs that the caller draws (deterministically, e.g. with [`sample_pairs`]); the loop
//! stops when the mean log-likelihood per pair gains less than `min_gain`, or at
//! `max_iterations`. Missing levels take no part. Identical comparison vectors are counted
//! once with a weight, so an iteration costs the number of distinct patterns, not pairs.
//!
//! Plain latent-class EM finds the strongest structure among the blocked pairs, and in a
//! county that is the *household*: family members share phone, village, household number and
//! surname, so EM happily calls "same family" the match class (seen on the synthetic test:
//! precision 0.34). The resident ID anchors the classes instead (`anchor_on_resident_id`, on by
//! default): a pair with the same valid ID is a match and one with two valid IDs not a
//! transposition apart is a non-match — DESIGN's own hard rule — so only pairs with a missing,
//! invalid or transposed ID have their class estimated. u is re-estimated with m, as DESIGN
//! says, and that matters: kept at its random-pair value, u makes a shared phone and household
//! near-proof of identity, and family members auto-linked (precision 0.36–0.61 on the same
//! test). Each M-step adds one pair's worth of the starting m and the random-pair u as a prior,
//! which keeps a level never seen in one class (an ID typo among non-matches) from weighing ±∞.
//!
//! That pooled training suits Chinese records. Where blocking groups records by the compared
//! fields themselves (FEBRL: given and family name, postcode), every blocked stranger agrees on
//! those fields, and a pooled EM learns that agreeing on a name is weak evidence (seen on FEBRL:
//! an exact given name +0.8 bits, a near one +14.6). `training = "per_pass"` is Splink's answer:
//! u stays the random-pair estimate, and m is estimated once per blocking pass on the pairs
//! that pass finds, leaving out the fields its keys are made of ([`BlockingKey::fields`]), then
//! averaged over the passes. Keeping u fixed in one pooled EM instead drifts to λ = 1 (every
//! blocked pair a match, stranger-contaminated m).
//!
//! [`BlockingKey::fields`]: crate::BlockingKey::fields

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::block;
use crate::compare::{self, Comparator, Level};
use crate::config::{Config, Training};
use crate::name::intersects;
use crate::record::{Field, Prepared};

/// Smallest probability kept, so that no level weighs ±∞.
const FLOOR: f64 = 1e-9;

/// Weight, in pairs, of the starting m and the random-pair u as a prior on each M-step.
const PRIOR_PAIRS: f64 = 1.0;

/// A versioned parameter set: what every link records as its rule version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Parameters {
    /// `<config version>+em.<fingerprint of the values>`: equal values, equal version.
    pub version: String,
    /// Estimated share of matches among the blocked pairs.
    pub lambda: f64,
    /// One entry per configured field, in configuration order.
    pub fields: Vec<FieldParameters>,
}

/// m and u of one field, one entry per level.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldParameters {
    /// The field.
    pub field: Field,
    /// Its comparator (fixes the number and meaning of the levels).
    pub comparator: Comparator,
    /// P(level | match).
    pub m: Vec<f64>,
    /// P(level | non-match).
    pub u: Vec<f64>,
}

impl FieldParameters {
    /// log2(m/u) of a level; 0 for [`Level::Missing`].
    pub fn weight(&self, level: Level) -> f64 {
        level.index().map_or(0.0, |i| (self.m[i] / self.u[i]).log2())
    }
}

/// What the estimation did, for the log.
#[derive(Debug, Clone, PartialEq)]
pub struct EmReport {
    /// Blocked pairs used.
    pub pairs: usize,
    /// Distinct comparison vectors among them.
    pub patterns: usize,
    /// Random pairs used to start u.
    pub random_pairs: usize,
    /// Iterations run (M-steps).
    pub iterations: u32,
    /// Whether the gain fell below `min_gain` before `max_iterations`.
    pub converged: bool,
    /// Mean log-likelihood per pair (natural log) at the end.
    pub log_likelihood: f64,
}

/// The comparison vector of a pair: one level per configured field.
pub fn comparison_vector(config: &Config, a: &Prepared, b: &Prepared) -> Vec<Level> {
    config.fields.iter().map(|f| compare::compare(f.comparator, f.field, a, b)).collect()
}

/// Level counts per field over some pairs, plus one pseudo-count per level (so no level is
/// impossible), normalised to probabilities.
fn level_frequencies(config: &Config, records: &[Prepared], pairs: &[(u32, u32)]) -> Vec<Vec<f64>> {
    let mut counts: Vec<Vec<f64>> =
        config.fields.iter().map(|f| vec![1.0; f.comparator.level_count()]).collect();
    for &(a, b) in pairs {
        let vector = comparison_vector(config, &records[a as usize], &records[b as usize]);
        for (field, level) in vector.iter().enumerate() {
            if let Some(i) = level.index() {
                counts[field][i] += 1.0;
            }
        }
    }
    counts.into_iter().map(normalised).collect()
}

/// Scales to sum 1, with every entry at least [`FLOOR`].
fn normalised(mut values: Vec<f64>) -> Vec<f64> {
    let sum: f64 = values.iter().sum();
    for v in &mut values {
        *v = (*v / sum).max(FLOOR);
    }
    let sum: f64 = values.iter().sum();
    values.iter_mut().for_each(|v| *v /= sum);
    values
}

/// What the resident IDs alone say about a pair: the same valid number is one person, two
/// valid numbers that are not one transposition apart are two (DESIGN's hard rule); anything
/// else is for EM to weigh.
fn anchor(a: &Prepared, b: &Prepared) -> Option<bool> {
    let valid = |p: &Prepared| p.resident_id().and_then(|id| id.valid()).map(|id| id.as_str().to_owned());
    let (x, y) = (valid(a)?, valid(b)?);
    if x == y {
        Some(true)
    } else {
        let transposed =
            compare::compare(Comparator::IdNumber, Field::ResidentId, a, b) == Level::Observed(1);
        (!transposed).then_some(false)
    }
}

/// A distinct comparison vector (level index per field, `None` when missing or left out),
/// its anchor and how many pairs share both.
type Pattern = (Vec<Option<usize>>, Option<bool>, f64);

/// The patterns of `pairs`, the fields where `left_out` is true counted as missing.
fn patterns(config: &Config, records: &[Prepared], pairs: &[(u32, u32)], left_out: &[bool]) -> Vec<Pattern> {
    let mut counted: HashMap<(Vec<Option<usize>>, Option<bool>), f64> = HashMap::new();
    for &(a, b) in pairs {
        let (a, b) = (&records[a as usize], &records[b as usize]);
        let vector = comparison_vector(config, a, b)
            .iter()
            .zip(left_out)
            .map(|(level, &out)| if out { None } else { level.index() })
            .collect();
        let anchored = if config.em.anchor_on_resident_id { anchor(a, b) } else { None };
        *counted.entry((vector, anchored)).or_default() += 1.0;
    }
    let mut out: Vec<Pattern> = counted.into_iter().map(|((v, a), c)| (v, a, c)).collect();
    // HashMap order is random: sort so that sums run in a fixed order.
    out.sort_by(|x, y| (&x.0, x.1).cmp(&(&y.0, y.1)));
    out
}

/// Adds `PRIOR_PAIRS` pairs distributed as `prior` to the expected counts, then normalises: a
/// maximum a posteriori step that keeps a level never seen in one class from weighing ±∞.
fn smoothed(sums: &[f64], prior: &[f64]) -> Vec<f64> {
    normalised(sums.iter().zip(prior).map(|(s, p)| s + PRIOR_PAIRS * p).collect())
}

/// What one EM loop estimates and what it did.
struct Fit {
    m: Vec<Vec<f64>>,
    u: Vec<Vec<f64>>,
    lambda: f64,
    iterations: u32,
    converged: bool,
    log_likelihood: f64,
}

/// Which parameters an EM loop re-estimates; λ always is.
#[derive(Clone, Copy)]
struct Estimated {
    m: bool,
    u: bool,
}

/// The EM loop over `patterns`, from `m` and `u` (also the priors of the M-step).
fn fit(
    config: &Config,
    patterns: &[Pattern],
    m_prior: &[Vec<f64>],
    u_prior: &[Vec<f64>],
    estimated: Estimated,
) -> Fit {
    let (mut m, mut u) = (m_prior.to_vec(), u_prior.to_vec());
    // Start λ at the share of pairs the anchors or the starting weights call matches.
    let total: f64 = patterns.iter().map(|p| p.2).sum();
    let start_weight = |vector: &[Option<usize>]| -> f64 {
        vector.iter().enumerate().filter_map(|(f, l)| l.map(|l| (m[f][l] / u[f][l]).ln())).sum()
    };
    let positive: f64 = patterns
        .iter()
        .filter(|(v, anchored, _)| anchored.unwrap_or(start_weight(v) > 0.0))
        .map(|p| p.2)
        .sum();
    let mut lambda = if total > 0.0 { (positive / total).clamp(1e-3, 0.5) } else { 0.01 };
    let mut out = Fit {
        m: Vec::new(),
        u: Vec::new(),
        lambda,
        iterations: 0,
        converged: false,
        log_likelihood: f64::NEG_INFINITY,
    };
    while total > 0.0 && out.iterations < config.em.max_iterations {
        // E-step: posterior match probability of each pattern, and the log-likelihood.
        let mut m_sum: Vec<Vec<f64>> = m.iter().map(|l| vec![0.0; l.len()]).collect();
        let mut u_sum = m_sum.clone();
        let (mut matches, mut log_likelihood) = (0.0, 0.0);
        for (pattern, anchored, count) in patterns {
            let mut log_m = lambda.ln();
            let mut log_u = (1.0 - lambda).ln();
            for (f, level) in pattern.iter().enumerate() {
                if let Some(l) = *level {
                    log_m += m[f][l].ln();
                    log_u += u[f][l].ln();
                }
            }
            let top = log_m.max(log_u);
            let log_sum = top + ((log_m - top).exp() + (log_u - top).exp()).ln();
            let (posterior, log_pair) = match anchored {
                Some(true) => (1.0, log_m),
                Some(false) => (0.0, log_u),
                None => ((log_m - log_sum).exp(), log_sum),
            };
            log_likelihood += count * log_pair;
            matches += count * posterior;
            for (f, level) in pattern.iter().enumerate() {
                if let Some(l) = *level {
                    m_sum[f][l] += count * posterior;
                    u_sum[f][l] += count * (1.0 - posterior);
                }
            }
        }
        let log_likelihood = log_likelihood / total;
        let gain = log_likelihood - out.log_likelihood;
        out.log_likelihood = log_likelihood;
        if gain < config.em.min_gain {
            out.converged = true;
            break;
        }
        // M-step.
        out.iterations += 1;
        lambda = (matches / total).clamp(FLOOR, 1.0 - FLOOR);
        if estimated.m {
            m = m_sum.iter().zip(m_prior).map(|(sums, prior)| smoothed(sums, prior)).collect();
        }
        if estimated.u {
            u = u_sum.iter().zip(u_prior).map(|(sums, prior)| smoothed(sums, prior)).collect();
        }
    }
    Fit { m, u, lambda, ..out }
}

/// Estimates m, u and λ from the blocked pairs, u starting from the random pairs, as
/// `config.em.training` says.
pub fn estimate(
    config: &Config,
    records: &[Prepared],
    blocked: &[(u32, u32)],
    random: &[(u32, u32)],
) -> (Parameters, EmReport) {
    let u_prior = level_frequencies(config, records, random);
    let start = config.em.start_m;
    let m_prior: Vec<Vec<f64>> = config
        .fields
        .iter()
        .map(|f| {
            let n = f.comparator.level_count();
            let rest = (1.0 - start) / (n - 1) as f64;
            (0..n).map(|i| if i == 0 { start } else { rest }).collect()
        })
        .collect();
    let all = patterns(config, records, blocked, &vec![false; config.fields.len()]);
    let fit = match config.em.training {
        Training::Pooled => fit(config, &all, &m_prior, &u_prior, Estimated { m: true, u: true }),
        Training::PerPass => per_pass(config, records, blocked, &all, &m_prior, &u_prior),
    };
    let report = EmReport {
        pairs: blocked.len(),
        patterns: all.len(),
        random_pairs: random.len(),
        iterations: fit.iterations,
        converged: fit.converged,
        log_likelihood: fit.log_likelihood,
    };
    let fields: Vec<FieldParameters> = config
        .fields
        .iter()
        .zip(fit.m.into_iter().zip(fit.u))
        .map(|(f, (m, u))| FieldParameters { field: f.field, comparator: f.comparator, m, u })
        .collect();
    let version = format!("{}+em.{:016x}", config.version, fingerprint(fit.lambda, &fields));
    (Parameters { version, lambda: fit.lambda, fields }, report)
}

/// Splink's training: u stays the random pairs' estimate; m is estimated by one EM session per
/// blocking pass, on the blocked pairs that pass finds, leaving out the fields its keys fix
/// (among pairs blocked on the name, strangers agree on the name too, so the name says nothing
/// there about m or u), and each field's m is the mean over the sessions that estimated it (the
/// start when none did). λ is then estimated over all blocked pairs (`all`, their patterns)
/// with m and u held. The report sums the sessions' iterations; `converged` says whether every
/// loop converged.
fn per_pass(
    config: &Config,
    records: &[Prepared],
    blocked: &[(u32, u32)],
    all: &[Pattern],
    m_prior: &[Vec<f64>],
    u_prior: &[Vec<f64>],
) -> Fit {
    let passes = &config.blocking.passes;
    let keys: Vec<Vec<Vec<u64>>> = records.iter().map(|r| block::pass_keys(&config.blocking, r)).collect();
    let mut m_sums: Vec<Vec<f64>> = m_prior.iter().map(|l| vec![0.0; l.len()]).collect();
    let mut sessions = vec![0u32; config.fields.len()];
    let (mut iterations, mut converged) = (0, true);
    for (pass, pass_keys) in passes.iter().enumerate() {
        let left_out: Vec<bool> =
            config.fields.iter().map(|f| pass_keys.iter().any(|k| k.fields().contains(&f.field))).collect();
        let pairs: Vec<(u32, u32)> = blocked
            .iter()
            .copied()
            .filter(|&(a, b)| intersects(&keys[a as usize][pass], &keys[b as usize][pass]))
            .collect();
        if pairs.is_empty() || left_out.iter().all(|&out| out) {
            continue;
        }
        let patterns = patterns(config, records, &pairs, &left_out);
        let session = fit(config, &patterns, m_prior, u_prior, Estimated { m: true, u: false });
        iterations += session.iterations;
        converged &= session.converged;
        for (f, _) in left_out.iter().enumerate().filter(|(_, out)| !**out) {
            m_sums[f].iter_mut().zip(&session.m[f]).for_each(|(sum, m)| *sum += m);
            sessions[f] += 1;
        }
    }
    let m: Vec<Vec<f64>> = m_sums
        .into_iter()
        .zip(&sessions)
        .zip(m_prior)
        .map(|((sums, &n), prior)| if n == 0 { prior.clone() } else { normalised(sums) })
        .collect();
    let last = fit(config, all, &m, u_prior, Estimated { m: false, u: false });
    Fit { iterations: iterations + last.iterations, converged: converged && last.converged, ..last }
}

/// FNV-1a over the bits of every estimated value.
fn fingerprint(lambda: f64, fields: &[FieldParameters]) -> u64 {
    let values = std::iter::once(lambda).chain(fields.iter().flat_map(|f| f.m.iter().chain(&f.u).copied()));
    crate::block::fnv1a(values.flat_map(|v| v.to_bits().to_le_bytes()))
}

/// `count` pairs of distinct indexes below `len`, drawn by SplitMix64 from `seed`: the same
/// seed gives the same pairs. Empty when `len < 2`.
pub fn sample_pairs(len: usize, count: usize, seed: u64) -> Vec<(u32, u32)> {
    if len < 2 {
        return Vec::new();
    }
    let mut state = seed;
    let mut next = move || {
        state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    };
    let mut out = Vec::with_capacity(count);
    while out.len() < count {
        let a = (next() % len as u64) as u32;
        let b = (next() % len as u64) as u32;
        if a != b {
            out.push((a.min(b), a.max(b)));
        }
    }
    out
}

#[cfg(test)]
mod tests;
