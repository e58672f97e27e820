//! Critical values (危急值), DESIGN.md §6.2: `identified` → `notified` → `acknowledged` by a named
//! clinician of the ordering site with read-back → `disposed` → `closed`. The ordering site must
//! be told within [`CriticalSettings::notify_within`], acknowledge within
//! [`CriticalSettings::acknowledge_within`] or the site head is called, and record what it did
//! within [`CriticalSettings::dispose_within`].

use chrono::{DateTime, Duration, Utc};

use super::{CriticalState, Disposition};

/// The limits of a consortium (defaults from DESIGN.md §6.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CriticalSettings {
    /// Identified → notified.
    pub notify_within: Duration,
    /// Notified → acknowledged; past it the site head is called.
    pub acknowledge_within: Duration,
    /// Identified → disposed.
    pub dispose_within: Duration,
}

impl Default for CriticalSettings {
    fn default() -> Self {
        Self {
            notify_within: Duration::minutes(10),
            acknowledge_within: Duration::minutes(15),
            dispose_within: Duration::minutes(60),
        }
    }
}

/// What the rules need of a critical value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CriticalFacts {
    /// State.
    pub state: CriticalState,
    /// Flagged.
    pub identified_at: DateTime<Utc>,
    /// The site was told.
    pub notified_at: Option<DateTime<Utc>>,
    /// Acknowledged.
    pub acknowledged_at: Option<DateTime<Utc>>,
    /// Whether the site head was already called.
    pub escalated: bool,
}

/// A step of a critical value, asked by a person at an institution.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CriticalStep {
    /// The ordering site was told (by the platform at once, or by telephone).
    Notify,
    /// A named clinician of the ordering site acknowledges with read-back.
    Acknowledge {
        /// The read-back (复述) was recorded.
        read_back: bool,
    },
    /// What the site did.
    Dispose(Disposition),
    /// Closed (after disposition).
    Close,
}

/// Why a critical-value step was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CriticalRefusal {
    /// Not from this state.
    #[error("not allowed from {0}")]
    InvalidTransition(CriticalState),
    /// Only the ordering site acknowledges and disposes.
    #[error("only the ordering institution may do this")]
    WrongInstitution,
    /// Acknowledgement needs the read-back.
    #[error("the read-back is required")]
    ReadBackRequired,
}

impl CriticalRefusal {
    /// Stable code for the API.
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidTransition(_) => "invalid_transition",
            Self::WrongInstitution => "wrong_institution",
            Self::ReadBackRequired => "read_back_required",
        }
    }
}

/// Decides a step; `at_ordering_site` says whether the actor acts for the ordering institution.
pub fn decide(
    facts: &CriticalFacts,
    step: CriticalStep,
    at_ordering_site: bool,
) -> Result<CriticalState, CriticalRefusal> {
    use CriticalState as S;
    let (from, to): (&[S], S) = match step {
        CriticalStep::Notify => (&[S::Identified], S::Notified),
        CriticalStep::Acknowledge { .. } => (&[S::Identified, S::Notified], S::Acknowledged),
        CriticalStep::Dispose(_) => (&[S::Acknowledged], S::Disposed),
        CriticalStep::Close => (&[S::Disposed], S::Closed),
    };
    if !from.contains(&facts.state) {
        return Err(CriticalRefusal::InvalidTransition(facts.state));
    }
    if matches!(step, CriticalStep::Acknowledge { .. } | CriticalStep::Dispose(_)) && !at_ordering_site {
        return Err(CriticalRefusal::WrongInstitution);
    }
    if let CriticalStep::Acknowledge { read_back: false } = step {
        return Err(CriticalRefusal::ReadBackRequired);
    }
    Ok(to)
}

/// When the ordering site must have acknowledged.
pub fn acknowledge_due(facts: &CriticalFacts, settings: &CriticalSettings) -> DateTime<Utc> {
    facts.notified_at.unwrap_or(facts.identified_at) + settings.acknowledge_within
}

/// Whether the site head must be called now: unacknowledged past its limit and not yet called.
pub fn escalation_due(facts: &CriticalFacts, settings: &CriticalSettings, now: DateTime<Utc>) -> bool {
    !facts.escalated
        && matches!(facts.state, CriticalState::Identified | CriticalState::Notified)
        && now >= acknowledge_due(facts, settings)
}

/// Still open (counts in 危急值未闭环例数).
pub fn is_open(state: CriticalState) -> bool {
    state != CriticalState::Closed
}

/// Minutes from identification to acknowledgement.
pub fn minutes_to_acknowledge(facts: &CriticalFacts) -> Option<i64> {
    Some((facts.acknowledged_at? - facts.identified_at).num_minutes())
}
