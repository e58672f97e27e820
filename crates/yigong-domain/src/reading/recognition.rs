//! Mutual recognition of results (结果互认), DESIGN.md §6.3: a catalogue of recognisable items,
//! the prompt when an item is ordered for a patient who has a recognisable result, and the
//! recognition rate and avoided cost.

use chrono::{DateTime, Duration, NaiveDate, Utc};

use super::{RecognitionKind, RecognitionScope, RetestGround};
use crate::referral::metrics::Ratio;

/// One catalogue item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    /// Code (stable).
    pub code: String,
    /// Name.
    pub name: String,
    /// Exam or lab.
    pub kind: RecognitionKind,
    /// How long a result stays recognisable.
    pub validity_days: i64,
    /// How far it is recognised.
    pub scope: RecognitionScope,
    /// County price in fen (the cost a recognition avoids).
    pub price_fen: i64,
}

/// What the prompt needs of an earlier result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prior {
    /// When the result was reported.
    pub reported_at: DateTime<Utc>,
    /// Whether the report carries the HR mark.
    pub hr: bool,
    /// The producer's QC valid-until day (`None`: no valid QC).
    pub qc_valid_until: Option<NaiveDate>,
}

/// Why a prior result is not offered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotOffered {
    /// Older than the item's window.
    OutOfWindow,
    /// The report is not marked HR.
    NotMarked,
    /// The producer had no valid QC when it reported.
    NoQc,
}

/// Whether `prior` may be offered for recognition of `item` at `now`.
pub fn offer(item: &Item, prior: &Prior, now: DateTime<Utc>) -> Result<(), NotOffered> {
    if now - prior.reported_at > Duration::days(item.validity_days) || prior.reported_at > now {
        return Err(NotOffered::OutOfWindow);
    }
    if !prior.hr {
        return Err(NotOffered::NotMarked);
    }
    match prior.qc_valid_until {
        Some(until) if prior.reported_at.date_naive() <= until => Ok(()),
        _ => Err(NotOffered::NoQc),
    }
}

/// The doctor's decision at the prompt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Recognised: no new test.
    Recognised,
    /// Repeated, with a ground (and text for `other`).
    Repeated(RetestGround, Option<String>),
}

/// Why a decision is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum DecisionRefusal {
    /// `other` needs a text.
    #[error("the ground 'other' needs a text")]
    TextRequired,
    /// A provincial ground not enabled here.
    #[error("this ground is not enabled in the province")]
    GroundNotEnabled,
}

/// Checks a decision; `provincial` says whether the province enables its extra grounds.
pub fn validate(decision: &Decision, provincial: bool) -> Result<(), DecisionRefusal> {
    match decision {
        Decision::Recognised => Ok(()),
        Decision::Repeated(g, text) => {
            if !g.is_national() && !provincial {
                return Err(DecisionRefusal::GroundNotEnabled);
            }
            if *g == RetestGround::Other && text.as_deref().is_none_or(|t| t.trim().is_empty()) {
                return Err(DecisionRefusal::TextRequired);
            }
            Ok(())
        }
    }
}

/// Recognised ÷ (recognised + repeated), and the avoided cost in fen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RecognitionTally {
    /// Recognised.
    pub recognised: u64,
    /// Repeated.
    pub repeated: u64,
    /// Σ price of recognised items, fen.
    pub avoided_fen: i64,
}

impl RecognitionTally {
    /// Adds one decision on an item of `price_fen`.
    pub fn add(&mut self, recognised: bool, price_fen: i64) {
        if recognised {
            self.recognised += 1;
            self.avoided_fen += price_fen;
        } else {
            self.repeated += 1;
        }
    }

    /// The recognition rate.
    pub fn rate(&self) -> Ratio {
        Ratio { num: self.recognised, den: self.recognised + self.repeated }
    }
}
