//! Examination at the grassroots, diagnosis at the county (基层检查、上级诊断), DESIGN.md §6.2–6.3.
//!
//! An exam item is ordered at a township or village site, acquired there, read at a county
//! [`Centre`] and reported back. [`decide`] is the only way to change its [`ItemState`]: a pure
//! function of the item's [`Facts`], the [`ItemTransition`] asked for, the [`Party`] asking and
//! `now`, refusing with a typed [`Refusal`] that names what is allowed. Turnaround limits
//! ([`sla`]), the worklist order ([`Urgency::rank`]) and the reader's lease ([`LEASE`]) are pure
//! functions too. Critical values are in [`critical`], mutual recognition in [`recognition`].

use chrono::{DateTime, Duration, Utc};

pub mod critical;
pub mod dicom;
pub mod recognition;
pub mod report;
pub mod specimen;
mod vocab;

pub use dicom::{DicomInstance, StudyQuery, has_wildcard, is_uid, like_pattern};
pub use vocab::{
    Centre, CriticalState, Disposition, ExamKind, ItemState, ItemTransition, Party, QualityReason,
    RecognitionKind, RecognitionScope, RetestGround, SpecimenStep, Urgency,
};

#[cfg(test)]
mod tests;

/// How long a claim holds before the item goes back on the worklist (renewable).
pub const LEASE: Duration = Duration::minutes(30);

impl ExamKind {
    /// The centre that reads this kind.
    pub fn centre(self) -> Centre {
        match self {
            Self::Ecg => Centre::Ecg,
            Self::Dr | Self::Ct | Self::Mr | Self::Ultrasound => Centre::Imaging,
            Self::Lab => Centre::Lab,
            Self::Pathology => Centre::Pathology,
        }
    }

    /// The kind of a DICOM modality code (0008,0060), if the centres read it.
    pub fn of_modality(modality: &str) -> Option<Self> {
        match modality.trim().to_ascii_uppercase().as_str() {
            "CR" | "DX" | "DR" | "RF" | "MG" | "XA" => Some(Self::Dr),
            "CT" => Some(Self::Ct),
            "MR" => Some(Self::Mr),
            "US" => Some(Self::Ultrasound),
            "ECG" | "HD" => Some(Self::Ecg),
            "SM" | "GM" => Some(Self::Pathology),
            _ => None,
        }
    }

    /// Whether images come over DICOM (a lab panel comes by specimen).
    pub fn has_images(self) -> bool {
        !matches!(self, Self::Lab)
    }
}

impl Urgency {
    /// The worklist's first sort key (0 first).
    pub fn rank(self) -> i32 {
        match self {
            Self::Green => 0,
            Self::Emergency => 1,
            Self::Inpatient => 2,
            Self::Outpatient => 3,
            Self::PhysicalExam => 4,
        }
    }

    /// Emergency and green items are due at the preliminary report; the others at the final.
    pub fn due_at_preliminary(self) -> bool {
        matches!(self, Self::Green | Self::Emergency)
    }
}

/// Turnaround limit from `received` to the report the limit counts (DESIGN.md §6.2; working
/// hours and days are counted as clock time here). `head` shortens emergency CT/MR of the head;
/// `complex` is the 24 h (CT/MR) or 10-day (pathology) class.
pub fn sla(kind: ExamKind, urgency: Urgency, head: bool, complex: bool) -> Duration {
    let emergency = urgency.due_at_preliminary();
    match kind {
        ExamKind::Ecg => {
            if emergency {
                Duration::minutes(10)
            } else {
                Duration::minutes(30)
            }
        }
        ExamKind::Dr => {
            if emergency {
                Duration::minutes(30)
            } else {
                Duration::hours(2)
            }
        }
        ExamKind::Ct | ExamKind::Mr => match (emergency, complex) {
            (true, _) if head => Duration::minutes(30),
            (true, _) => Duration::hours(1),
            (false, true) => Duration::hours(24),
            (false, false) if urgency == Urgency::Inpatient => Duration::hours(6),
            (false, false) => Duration::hours(4),
        },
        ExamKind::Ultrasound => {
            if emergency {
                Duration::minutes(30)
            } else {
                Duration::hours(4)
            }
        }
        ExamKind::Lab => match urgency {
            Urgency::Green | Urgency::Emergency => Duration::hours(1),
            Urgency::Inpatient => Duration::hours(4),
            // "Same day": within 12 hours of receipt.
            Urgency::Outpatient | Urgency::PhysicalExam => Duration::hours(12),
        },
        ExamKind::Pathology => match (emergency, complex) {
            (true, _) => Duration::minutes(30),
            (false, true) => Duration::days(10),
            (false, false) => Duration::days(5),
        },
    }
}

/// What [`decide`] needs of an item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Facts {
    /// Current state.
    pub state: ItemState,
    /// Kind.
    pub kind: ExamKind,
    /// Urgency.
    pub urgency: Urgency,
    /// When the current lease ends (claimed items).
    pub lease_until: Option<DateTime<Utc>>,
}

/// What a transition needs beyond the item; [`decide`] checks it is there.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Given {
    /// A reason (cancel, reject for quality, amend).
    pub reason: bool,
    /// A named reader (assign).
    pub reader: bool,
    /// A report with findings and impression (report, finalise, amend).
    pub report: bool,
}

/// Why [`decide`] refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// The transition does not leave the current state.
    #[error("{transition} is not allowed from {state}")]
    InvalidTransition {
        /// Current state.
        state: ItemState,
        /// What was asked.
        transition: ItemTransition,
        /// What the asking party may do from here.
        allowed: Vec<ItemTransition>,
    },
    /// The transition leaves the state, but not by this party's hand.
    #[error("{party} may not {transition}")]
    WrongParty {
        /// Current state.
        state: ItemState,
        /// What was asked.
        transition: ItemTransition,
        /// Who asked.
        party: Party,
        /// Who may.
        allowed_parties: Vec<Party>,
    },
    /// The lease has not run out yet.
    #[error("the lease runs until {due}")]
    NotDue {
        /// When it runs out.
        due: DateTime<Utc>,
    },
    /// Something the transition records is missing.
    #[error("{transition} needs {missing}")]
    Missing {
        /// What was asked.
        transition: ItemTransition,
        /// `reason`, `reader` or `report`.
        missing: &'static str,
    },
}

impl Refusal {
    /// Stable code for the API.
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidTransition { .. } => "invalid_transition",
            Self::WrongParty { .. } => "wrong_party",
            Self::NotDue { .. } => "not_due",
            Self::Missing { .. } => "missing",
        }
    }
}

struct Rule {
    transition: ItemTransition,
    from: &'static [ItemState],
    to: Option<ItemState>,
    parties: &'static [Party],
}

use ItemState as S;
use ItemTransition as T;
use Party as P;

const RULES: &[Rule] = &[
    Rule {
        transition: T::Acquire,
        from: &[S::Ordered],
        to: Some(S::Acquired),
        parties: &[P::OrderingSite, P::System],
    },
    Rule {
        transition: T::Receive,
        from: &[S::Ordered, S::Acquired],
        to: Some(S::Received),
        parties: &[P::System, P::Reader],
    },
    Rule { transition: T::Queue, from: &[S::Received], to: Some(S::Queued), parties: &[P::System] },
    Rule {
        transition: T::Claim,
        from: &[S::Queued],
        to: Some(S::Claimed),
        parties: &[P::Reader, P::Supervisor],
    },
    Rule { transition: T::Renew, from: &[S::Claimed, S::Preliminary], to: None, parties: &[P::Holder] },
    Rule {
        transition: T::Release,
        from: &[S::Claimed],
        to: Some(S::Queued),
        parties: &[P::Holder, P::Supervisor],
    },
    Rule {
        transition: T::Assign,
        from: &[S::Queued, S::Claimed],
        to: Some(S::Claimed),
        parties: &[P::Supervisor],
    },
    Rule { transition: T::ExpireLease, from: &[S::Claimed], to: Some(S::Queued), parties: &[P::System] },
    Rule {
        transition: T::ReportPreliminary,
        from: &[S::Claimed],
        to: Some(S::Preliminary),
        parties: &[P::Holder],
    },
    Rule {
        transition: T::Finalise,
        from: &[S::Claimed, S::Preliminary],
        to: Some(S::Final),
        parties: &[P::Holder],
    },
    Rule {
        transition: T::Deliver,
        from: &[S::Final, S::Amended],
        to: Some(S::Delivered),
        parties: &[P::System],
    },
    Rule {
        transition: T::Amend,
        from: &[S::Delivered],
        to: Some(S::Amended),
        parties: &[P::Holder, P::Supervisor],
    },
    Rule {
        transition: T::Cancel,
        from: &[S::Ordered, S::Acquired, S::Received, S::Queued],
        to: Some(S::Cancelled),
        parties: &[P::OrderingSite],
    },
    Rule {
        transition: T::RejectQuality,
        from: &[S::Received, S::Queued, S::Claimed],
        to: Some(S::RejectedQuality),
        parties: &[P::Holder, P::Supervisor, P::Reader],
    },
];

fn rule(transition: ItemTransition) -> &'static Rule {
    RULES.iter().find(|r| r.transition == transition).expect("every transition has a rule")
}

/// The transitions `party` may perform from `state`, in declaration order.
pub fn allowed(state: ItemState, party: Party) -> Vec<ItemTransition> {
    RULES
        .iter()
        .filter(|r| r.from.contains(&state) && r.parties.contains(&party))
        .map(|r| r.transition)
        .collect()
}

impl ItemState {
    /// Still to be read (counts on the worklist and for "overdue now").
    pub fn is_open(self) -> bool {
        matches!(self, S::Ordered | S::Acquired | S::Received | S::Queued | S::Claimed | S::Preliminary)
    }

    /// A report exists that the ordering site may read.
    pub fn has_report(self) -> bool {
        matches!(self, S::Preliminary | S::Final | S::Delivered | S::Amended)
    }
}

/// Decides whether `party` may perform `transition` on an item with `facts` at `now`, and the
/// state it leads to.
pub fn decide(
    facts: &Facts,
    transition: ItemTransition,
    party: Party,
    given: Given,
    now: DateTime<Utc>,
) -> Result<ItemState, Refusal> {
    let r = rule(transition);
    if !r.from.contains(&facts.state) {
        return Err(Refusal::InvalidTransition {
            state: facts.state,
            transition,
            allowed: allowed(facts.state, party),
        });
    }
    if !r.parties.contains(&party) {
        return Err(Refusal::WrongParty {
            state: facts.state,
            transition,
            party,
            allowed_parties: r.parties.to_vec(),
        });
    }
    let missing = |missing| Err(Refusal::Missing { transition, missing });
    match transition {
        T::Cancel | T::RejectQuality | T::Amend if !given.reason => return missing("reason"),
        T::Assign if !given.reader => return missing("reader"),
        T::ReportPreliminary | T::Finalise | T::Amend if !given.report => return missing("report"),
        T::ExpireLease => match facts.lease_until {
            Some(due) if now < due => return Err(Refusal::NotDue { due }),
            _ => {}
        },
        _ => {}
    }
    Ok(r.to.unwrap_or(facts.state))
}

/// When the report the limit counts is due, for an item received at `received_at`.
pub fn due_at(
    kind: ExamKind,
    urgency: Urgency,
    head: bool,
    complex: bool,
    received_at: DateTime<Utc>,
) -> DateTime<Utc> {
    received_at + sla(kind, urgency, head, complex)
}

/// Whether a report signed at `reported_at` (preliminary for emergency and green, final for
/// the rest) met its limit.
pub fn on_time(due: DateTime<Utc>, reported_at: DateTime<Utc>) -> bool {
    reported_at <= due
}
