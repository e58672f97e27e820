//! Two-way referral (双向转诊) as a closed loop, DESIGN.md §6.1.
//!
//! A referral has a [`State`]; [`decide`] is the only way to change it: a pure function of the
//! referral's [`Facts`], the [`Transition`] asked for, the [`Party`] asking and `now`. It refuses
//! an illegal transition with a typed [`Refusal`] that names the state and what is allowed from
//! it. Timers (response SLA, expiry, no-show, follow-up due) are pure functions of the same facts
//! and the consortium's [`Settings`]; a job turns what [`due_timer`] returns into transitions
//! performed by [`Party::System`].

use chrono::{DateTime, Duration, NaiveDate, Utc};

mod draft;
pub mod green;
pub mod metrics;
mod vocab;

pub use draft::{
    DownwardDetails, Reason, ReferralDraft, SlipTest, ValidReferral, Validated, is_icd10_code,
    validate_referral,
};
pub use vocab::{
    CancelReason, CertificateClass, Direction, DownReason, Escalation, NoDownReason, Outcome, Party,
    Priority, RejectReason, State, Transition, UpReason,
};

#[cfg(test)]
mod tests;

/// The timers of a consortium (defaults from DESIGN.md §6.1; each consortium may change them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// Response SLA of a routine referral (submitted → accepted/rejected).
    pub respond_routine: Duration,
    /// Response SLA of an urgent referral.
    pub respond_urgent: Duration,
    /// How long a green page may wait for the receiving centre's acknowledgement.
    pub green_ack: Duration,
    /// Accepted → scheduled, routine.
    pub schedule_routine: Duration,
    /// Accepted → scheduled, urgent.
    pub schedule_urgent: Duration,
    /// Accepted and never scheduled nor arrived → expired, routine.
    pub expire_routine: Duration,
    /// The same, urgent and green.
    pub expire_urgent: Duration,
    /// Scheduled slot passed by this much without arrival → no-show, routine.
    pub no_show_routine: Duration,
    /// The same, urgent and green.
    pub no_show_urgent: Duration,
    /// Follow-up after a down-referral is due this many days after discharge.
    pub follow_up_days: i64,
    /// The same for high-risk patients.
    pub follow_up_days_high_risk: i64,
    /// Redirections after which an unanswered referral goes to medical affairs.
    pub max_redirects: u32,
    /// A referral grant lasts until the referral ends plus this long.
    pub grant_after_end: Duration,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            respond_routine: Duration::hours(24),
            respond_urgent: Duration::hours(2),
            green_ack: Duration::minutes(10),
            schedule_routine: Duration::hours(48),
            schedule_urgent: Duration::hours(2),
            expire_routine: Duration::days(14),
            expire_urgent: Duration::hours(24),
            no_show_routine: Duration::hours(24),
            no_show_urgent: Duration::hours(4),
            follow_up_days: 7,
            follow_up_days_high_risk: 3,
            max_redirects: 2,
            grant_after_end: Duration::days(30),
        }
    }
}

impl Settings {
    /// The response SLA for `priority` (green: the page acknowledgement window).
    pub fn respond_within(&self, priority: Priority) -> Duration {
        match priority {
            Priority::Routine => self.respond_routine,
            Priority::Urgent => self.respond_urgent,
            Priority::Green => self.green_ack,
        }
    }

    /// Accepted → scheduled window for `priority`.
    pub fn schedule_within(&self, priority: Priority) -> Duration {
        match priority {
            Priority::Routine => self.schedule_routine,
            Priority::Urgent | Priority::Green => self.schedule_urgent,
        }
    }

    /// Accepted → expired for `priority`.
    pub fn expire_after(&self, priority: Priority) -> Duration {
        match priority {
            Priority::Routine => self.expire_routine,
            Priority::Urgent | Priority::Green => self.expire_urgent,
        }
    }

    /// Slot → no-show for `priority`.
    pub fn no_show_after(&self, priority: Priority) -> Duration {
        match priority {
            Priority::Routine => self.no_show_routine,
            Priority::Urgent | Priority::Green => self.no_show_urgent,
        }
    }

    /// The day a down-referral's follow-up is due.
    pub fn follow_up_due(&self, discharged_on: NaiveDate, high_risk: bool) -> NaiveDate {
        let days = if high_risk { self.follow_up_days_high_risk } else { self.follow_up_days };
        discharged_on + Duration::days(days)
    }
}

/// What [`decide`] and the timers need to know about a referral.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Facts {
    /// Current state.
    pub state: State,
    /// Direction.
    pub direction: Direction,
    /// Priority.
    pub priority: Priority,
    /// When the SLA clock started: submission, or the last redirection.
    pub sla_started_at: Option<DateTime<Utc>>,
    /// How often it was redirected.
    pub redirects: u32,
    /// When it was accepted.
    pub accepted_at: Option<DateTime<Utc>>,
    /// The booked slot.
    pub slot_at: Option<DateTime<Utc>>,
}

impl State {
    /// Live states: at most one live referral per patient and direction.
    pub fn is_live(self) -> bool {
        matches!(self, Self::Submitted | Self::Accepted | Self::Scheduled | Self::Arrived | Self::InCare)
    }

    /// States nothing leaves.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            Self::Closed | Self::Rejected | Self::Cancelled | Self::Expired | Self::NoShow | Self::SentOut
        )
    }

    /// Before the patient has arrived at the receiver (the sender may still cancel).
    pub fn before_arrival(self) -> bool {
        matches!(self, Self::Draft | Self::Submitted | Self::Accepted | Self::Scheduled)
    }
}

/// What a transition needs beyond the referral itself; [`decide`] checks it is there.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Given {
    /// A department or bed assigned (accept).
    pub department: bool,
    /// A slot (schedule, reschedule).
    pub slot: bool,
    /// A reason code (reject, cancel, close by a centre).
    pub reason: bool,
    /// A new target (redirect).
    pub new_target: bool,
    /// An outcome (complete).
    pub outcome: bool,
    /// An external institution and reference (send out).
    pub external: bool,
    /// The loop rule holds (close by the system): a linked down-referral accepted with its follow-up done.
    pub loop_rule: bool,
}

/// A transition allowed: the state it leads to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Step {
    /// The state after the transition.
    pub to: State,
    /// Whether a green submission was accepted by the system at once (approval skipped).
    pub auto_accepted: bool,
}

/// Why [`decide`] refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// The transition does not leave the current state.
    #[error("{transition} is not allowed from {state}")]
    InvalidTransition {
        /// Current state.
        state: State,
        /// What was asked.
        transition: Transition,
        /// What the asking party may do from here.
        allowed: Vec<Transition>,
    },
    /// The transition leaves the state, but not by this party's hand.
    #[error("{party} may not {transition}")]
    WrongParty {
        /// Current state.
        state: State,
        /// What was asked.
        transition: Transition,
        /// Who asked.
        party: Party,
        /// Who may.
        allowed_parties: Vec<Party>,
    },
    /// A timer transition asked before its time.
    #[error("{transition} is not due until {due}")]
    NotDue {
        /// What was asked.
        transition: Transition,
        /// When it becomes due.
        due: DateTime<Utc>,
    },
    /// Something the transition records is missing.
    #[error("{transition} needs {missing}")]
    Missing {
        /// What was asked.
        transition: Transition,
        /// What is missing: `department`, `slot`, `reason`, `new_target`, `outcome`, `external`,
        /// `loop_rule_or_reason`.
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

/// The rule of one transition: the states it leaves, the state it leads to (`None`: stays)
/// and who may perform it.
struct Rule {
    transition: Transition,
    from: &'static [State],
    to: Option<State>,
    parties: &'static [Party],
}

use Party as P;
use State as S;
use Transition as T;

const RULES: &[Rule] = &[
    Rule {
        transition: T::Submit,
        from: &[S::Draft],
        to: Some(S::Submitted),
        parties: &[P::SendingClinician, P::SendingCentre],
    },
    Rule {
        transition: T::Accept,
        from: &[S::Submitted],
        to: Some(S::Accepted),
        parties: &[P::ReceivingCentre, P::ReceivingClinician],
    },
    Rule {
        transition: T::Reject,
        from: &[S::Submitted],
        to: Some(S::Rejected),
        parties: &[P::ReceivingCentre, P::ReceivingClinician],
    },
    Rule { transition: T::Redirect, from: &[S::Submitted], to: None, parties: &[P::ReceivingCentre] },
    Rule {
        transition: T::Schedule,
        from: &[S::Accepted],
        to: Some(S::Scheduled),
        parties: &[P::ReceivingCentre],
    },
    Rule { transition: T::Reschedule, from: &[S::Scheduled], to: None, parties: &[P::ReceivingCentre] },
    Rule {
        transition: T::Arrive,
        from: &[S::Accepted, S::Scheduled],
        to: Some(S::Arrived),
        parties: &[P::ReceivingCentre, P::ReceivingClinician, P::System],
    },
    Rule {
        transition: T::StartCare,
        from: &[S::Arrived],
        to: Some(S::InCare),
        parties: &[P::ReceivingCentre, P::ReceivingClinician, P::System],
    },
    Rule {
        transition: T::Complete,
        from: &[S::InCare],
        to: Some(S::Completed),
        parties: &[P::ReceivingClinician, P::System],
    },
    Rule {
        transition: T::Close,
        from: &[S::Completed],
        to: Some(S::Closed),
        parties: &[P::System, P::ReceivingCentre, P::SendingCentre],
    },
    Rule {
        transition: T::Cancel,
        from: &[S::Draft, S::Submitted, S::Accepted, S::Scheduled],
        to: Some(S::Cancelled),
        parties: &[P::SendingClinician, P::SendingCentre, P::System],
    },
    Rule { transition: T::Expire, from: &[S::Accepted], to: Some(S::Expired), parties: &[P::System] },
    Rule { transition: T::MarkNoShow, from: &[S::Scheduled], to: Some(S::NoShow), parties: &[P::System] },
    Rule {
        transition: T::SendOut,
        from: &[S::Draft, S::Submitted],
        to: Some(S::SentOut),
        parties: &[P::SendingCentre],
    },
];

fn rule(transition: Transition) -> &'static Rule {
    RULES.iter().find(|r| r.transition == transition).expect("every transition has a rule")
}

/// The transitions `party` may perform from `state`, in declaration order.
pub fn allowed(state: State, party: Party) -> Vec<Transition> {
    RULES
        .iter()
        .filter(|r| r.from.contains(&state) && r.parties.contains(&party))
        .map(|r| r.transition)
        .collect()
}

/// The transitions anyone may perform from `state`.
pub fn allowed_by_anyone(state: State) -> Vec<Transition> {
    RULES.iter().filter(|r| r.from.contains(&state)).map(|r| r.transition).collect()
}

/// Decides one transition. Pure: the same inputs always give the same answer.
pub fn decide(
    facts: &Facts,
    transition: Transition,
    party: Party,
    given: Given,
    settings: &Settings,
    now: DateTime<Utc>,
) -> Result<Step, Refusal> {
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
        // An up-referral is accepted into a department; a township receives into its team.
        T::Accept if !given.department && facts.direction == Direction::Upward => {
            return missing("department");
        }
        T::Schedule | T::Reschedule if !given.slot => return missing("slot"),
        T::Reject | T::Cancel if !given.reason => return missing("reason"),
        T::Redirect if !given.new_target => return missing("new_target"),
        T::Complete if !given.outcome => return missing("outcome"),
        T::SendOut if !given.external => return missing("external"),
        // The system closes by the loop rule; a centre closes with a reason why nothing comes back.
        T::Close if party == P::System && !given.loop_rule => return missing("loop_rule"),
        T::Close if party != P::System && !given.reason => return missing("reason"),
        T::Expire => {
            let due = expiry_due(facts, settings).expect("accepted referrals have an acceptance time");
            if now < due {
                return Err(Refusal::NotDue { transition, due });
            }
        }
        T::MarkNoShow => match no_show_due(facts, settings) {
            Some(due) if now >= due => {}
            Some(due) => return Err(Refusal::NotDue { transition, due }),
            None => return missing("slot"),
        },
        _ => {}
    }
    // Green skips approval: submitted and accepted in one step.
    if transition == T::Submit && facts.priority == Priority::Green {
        return Ok(Step { to: S::Accepted, auto_accepted: true });
    }
    Ok(Step { to: r.to.unwrap_or(facts.state), auto_accepted: false })
}

/// When an accepted referral expires.
pub fn expiry_due(facts: &Facts, settings: &Settings) -> Option<DateTime<Utc>> {
    Some(facts.accepted_at? + settings.expire_after(facts.priority))
}

/// When a scheduled referral becomes a no-show.
pub fn no_show_due(facts: &Facts, settings: &Settings) -> Option<DateTime<Utc>> {
    Some(facts.slot_at? + settings.no_show_after(facts.priority))
}

/// When the receiver's answer is due (submitted) or the booking is due (accepted); `None` when
/// nothing is waiting on the receiver.
pub fn sla_due(facts: &Facts, settings: &Settings) -> Option<DateTime<Utc>> {
    match facts.state {
        S::Submitted => Some(facts.sla_started_at? + settings.respond_within(facts.priority)),
        S::Accepted => Some(facts.accepted_at? + settings.schedule_within(facts.priority)),
        _ => None,
    }
}

/// Who must look at the referral now (no state change).
pub fn escalation(facts: &Facts, settings: &Settings, now: DateTime<Utc>) -> Escalation {
    if facts.state == S::Submitted && facts.redirects > settings.max_redirects {
        return Escalation::MedicalAffairs;
    }
    let (Some(due), Some(start)) = (sla_due(facts, settings), sla_start(facts)) else {
        return Escalation::None;
    };
    let window = due - start;
    if now >= due + window {
        Escalation::MedicalAffairs
    } else if now >= due {
        Escalation::OnDuty
    } else {
        Escalation::None
    }
}

/// When the SLA clock of what the receiver owes started (submission or last redirection for an
/// answer, acceptance for a booking); an escalation is announced once per clock.
pub fn sla_start(facts: &Facts) -> Option<DateTime<Utc>> {
    match facts.state {
        S::Submitted => facts.sla_started_at,
        S::Accepted => facts.accepted_at,
        _ => None,
    }
}

/// The timer transition due at `now`, if any, for the system to perform.
pub fn due_timer(facts: &Facts, settings: &Settings, now: DateTime<Utc>) -> Option<Transition> {
    match facts.state {
        S::Accepted if expiry_due(facts, settings).is_some_and(|d| now >= d) => Some(T::Expire),
        S::Scheduled if no_show_due(facts, settings).is_some_and(|d| now >= d) => Some(T::MarkNoShow),
        _ => None,
    }
}

/// Whether a completed up-referral closed as a loop (counts in the closed-loop rate).
pub fn closes_loop(closed_by_rule: bool, no_down_reason: Option<NoDownReason>) -> bool {
    closed_by_rule || no_down_reason.is_some_and(|r| r != NoDownReason::LostToFollowUp)
}

/// The day an insurance referral certificate issued on `issued` stops being valid (last valid
/// day): 3 months for one admission, 1 year for long-term conditions.
pub fn certificate_valid_until(issued: NaiveDate, class: CertificateClass) -> NaiveDate {
    let months = match class {
        CertificateClass::SingleAdmission => 3,
        CertificateClass::LongTerm => 12,
    };
    let end = issued.checked_add_months(chrono::Months::new(months)).unwrap_or(NaiveDate::MAX);
    end.pred_opt().unwrap_or(end)
}
