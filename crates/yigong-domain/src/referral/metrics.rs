//! Referral metrics (DESIGN.md §7.3), computed from one summary row per referral.
//!
//! Each [`Measure`] says which referrals it counts and at what time ([`Measure::time`]); the
//! tallies and the drill-down use that one function, so the list behind a number is exactly the
//! referrals it counted. Numerators and denominators stay integers; rounding is for display.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, FixedOffset, Utc};

use super::{Direction, Priority, State};
use crate::ids::InstitutionId;

/// What the metrics need of one referral.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// Referral id.
    pub id: uuid::Uuid,
    /// Direction.
    pub direction: Direction,
    /// Priority.
    pub priority: Priority,
    /// Green-channel centre of a green referral.
    pub green_centre: Option<super::green::Centre>,
    /// Current state.
    pub state: State,
    /// Sending institution.
    pub from_institution: InstitutionId,
    /// Receiving institution (`None`: out of network).
    pub to_institution: Option<InstitutionId>,
    /// Submitted (first).
    pub submitted_at: Option<DateTime<Utc>>,
    /// Accepted.
    pub accepted_at: Option<DateTime<Utc>>,
    /// Rejected.
    pub rejected_at: Option<DateTime<Utc>>,
    /// Arrived.
    pub arrived_at: Option<DateTime<Utc>>,
    /// Completed.
    pub completed_at: Option<DateTime<Utc>>,
    /// Closed, and whether that closed the loop.
    pub closed: Option<(DateTime<Utc>, bool)>,
    /// When the receiver's answer or booking is due, if it is waiting on the receiver.
    pub sla_due: Option<DateTime<Utc>>,
}

vocabulary! {
    /// A counted quantity.
    Measure {
        /// Submitted (shown beside the counts).
        Submitted = "submitted",
        /// Reached `arrived` (the up/down count).
        Arrived = "arrived",
        /// Accepted (by time of acceptance).
        Accepted = "accepted",
        /// Rejected (by time of rejection).
        Rejected = "rejected",
        /// Accepted in the period and arrived since (numerator of the arrival rate).
        AcceptedArrived = "accepted_arrived",
        /// Up-referrals completed in the period (denominator of the closed-loop rate).
        CompletedUp = "completed_up",
        /// Of those, closed as a loop.
        ClosedLoop = "closed_loop",
        /// Waiting on the receiver past its SLA now.
        Overdue = "overdue",
    }
}

impl Measure {
    /// When `row` counts for this measure (`None`: it does not). `now` decides what is overdue.
    pub fn time(self, row: &Row, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        match self {
            Self::Submitted => row.submitted_at,
            Self::Arrived => row.arrived_at,
            Self::Accepted => row.accepted_at,
            Self::Rejected => row.rejected_at,
            Self::AcceptedArrived => row.accepted_at.filter(|_| row.arrived_at.is_some()),
            Self::CompletedUp => row.completed_at.filter(|_| row.direction == Direction::Upward),
            Self::ClosedLoop => row
                .completed_at
                .filter(|_| row.direction == Direction::Upward && row.closed.is_some_and(|(_, l)| l)),
            Self::Overdue => row.sla_due.filter(|due| *due <= now && row.state.is_live()),
        }
    }
}

/// A numerator over a denominator, both integers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Ratio {
    /// Numerator.
    pub num: u64,
    /// Denominator.
    pub den: u64,
}

impl Ratio {
    /// The share in percent, `None` without a denominator (never a fake 0% or 100%).
    pub fn percent(self) -> Option<f64> {
        (self.den > 0).then(|| self.num as f64 * 100.0 / self.den as f64)
    }
}

/// Counts of one group (a month, an institution, both).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Tally {
    /// Per measure and direction.
    pub counts: BTreeMap<(Measure, Direction), u64>,
    /// Accepted and rejected, green apart from the others: (green?) → (accepted, rejected).
    pub decisions: BTreeMap<bool, (u64, u64)>,
    /// Median minutes from submission to acceptance, per priority.
    pub median_accept: BTreeMap<Priority, f64>,
}

impl Tally {
    /// Adds `n` referrals of `direction` and `priority` to `measure`.
    pub fn add(&mut self, measure: Measure, direction: Direction, priority: Priority, n: u64) {
        *self.counts.entry((measure, direction)).or_default() += n;
        let green = priority == Priority::Green;
        match measure {
            Measure::Accepted => self.decisions.entry(green).or_default().0 += n,
            Measure::Rejected => self.decisions.entry(green).or_default().1 += n,
            _ => {}
        }
    }

    /// One measure, both directions or one.
    pub fn count(&self, measure: Measure, direction: Option<Direction>) -> u64 {
        self.counts
            .iter()
            .filter(|((m, d), _)| *m == measure && direction.is_none_or(|x| x == *d))
            .map(|(_, n)| n)
            .sum()
    }

    /// accepted ÷ (accepted + rejected), green referrals apart (`green = true`) or the others.
    pub fn acceptance(&self, green: bool) -> Ratio {
        let (a, r) = self.decisions.get(&green).copied().unwrap_or_default();
        Ratio { num: a, den: a + r }
    }

    /// arrived ÷ accepted (referrals accepted in the group).
    pub fn arrival(&self) -> Ratio {
        Ratio { num: self.count(Measure::AcceptedArrived, None), den: self.count(Measure::Accepted, None) }
    }

    /// closed loops ÷ completed up-referrals.
    pub fn closed_loop(&self) -> Ratio {
        Ratio { num: self.count(Measure::ClosedLoop, None), den: self.count(Measure::CompletedUp, None) }
    }

    /// Median minutes from submission to acceptance for `priority`.
    pub fn median_accept_minutes(&self, priority: Priority) -> Option<f64> {
        self.median_accept.get(&priority).copied()
    }
}

/// Whole minutes from submission to acceptance (truncated, as the database computes them).
pub fn accept_minutes(submitted: DateTime<Utc>, accepted: DateTime<Utc>) -> i64 {
    (accepted - submitted).num_minutes()
}

/// The median of sorted values.
pub fn median(sorted: &[i64]) -> Option<f64> {
    let n = sorted.len();
    if n == 0 {
        return None;
    }
    Some(if n % 2 == 1 { sorted[n / 2] as f64 } else { (sorted[n / 2 - 1] + sorted[n / 2]) as f64 / 2.0 })
}

/// Tallies `rows` into groups. `group` maps a row and the time it counts at to its group
/// (`None`: outside the period or the viewer's scope). This is the definition the database's
/// aggregation is tested against.
pub fn tally<K: Ord + Clone>(
    rows: &[Row],
    now: DateTime<Utc>,
    mut group: impl FnMut(&Row, Measure, DateTime<Utc>) -> Option<K>,
) -> BTreeMap<K, Tally> {
    let mut out: BTreeMap<K, Tally> = BTreeMap::new();
    let mut minutes: BTreeMap<(K, Priority), Vec<i64>> = BTreeMap::new();
    for row in rows {
        for &measure in Measure::ALL {
            let Some(at) = measure.time(row, now) else { continue };
            let Some(key) = group(row, measure, at) else { continue };
            if measure == Measure::Accepted
                && let Some(sub) = row.submitted_at
            {
                minutes.entry((key.clone(), row.priority)).or_default().push(accept_minutes(sub, at));
            }
            out.entry(key).or_default().add(measure, row.direction, row.priority, 1);
        }
    }
    for ((key, priority), mut v) in minutes {
        v.sort_unstable();
        if let (Some(t), Some(m)) = (out.get_mut(&key), median(&v)) {
            t.median_accept.insert(priority, m);
        }
    }
    out
}

/// The calendar month of `at` in China time, as `YYYY-MM`.
pub fn china_month(at: DateTime<Utc>) -> String {
    let china = FixedOffset::east_opt(8 * 3600).expect("valid offset");
    let local = at.with_timezone(&china);
    format!("{:04}-{:02}", local.year(), local.month())
}
