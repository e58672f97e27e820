//! The specimen chain (标本流转), DESIGN.md §6.2: ordered → `labelled` → `collected` → `packed`
//! (transport box) → `in_transit` (temperature log) → `received` | `rejected` → `testing` →
//! `released` → `retained` → `discarded`; the application records each step with actor, place
//! and time. [`next_steps`] is the one table, [`check`] refuses a step that does not follow it,
//! and [`item_transitions`] says what a step does to the exam item (see [`super::decide`]).
//!
//! Where the design leaves room, the chain is strict:
//! - no step is skipped: a tube labelled at the bedside is recorded `labelled`, then
//!   `collected`, so no specimen is ever on record without its barcode; a tube carried by hand is
//!   still `packed`, because the box carries the temperature log that settles an `overtime` or
//!   haemolysis dispute;
//! - `rejected` follows `in_transit` (refused at reception) or `received` (found on processing,
//!   as haemolysis after centrifugation), never `testing`: what the analyser finds belongs to
//!   the result;
//! - `retained` may go back to `testing` (re-testing is why a specimen is kept), and a rejected
//!   specimen can only be `discarded`.

use super::{ItemTransition, QualityReason, SpecimenStep};

use SpecimenStep as S;

/// The steps that may follow `current` (`None`: ordered, no step yet), in the chain's order.
pub fn next_steps(current: Option<SpecimenStep>) -> &'static [SpecimenStep] {
    match current {
        None => &[S::Labelled],
        Some(S::Labelled) => &[S::Collected],
        Some(S::Collected) => &[S::Packed],
        Some(S::Packed) => &[S::InTransit],
        Some(S::InTransit) => &[S::Received, S::Rejected],
        Some(S::Received) => &[S::Testing, S::Rejected],
        Some(S::Rejected) => &[S::Discarded],
        Some(S::Testing) => &[S::Released],
        Some(S::Released) => &[S::Retained],
        Some(S::Retained) => &[S::Testing, S::Discarded],
        Some(S::Discarded) => &[],
    }
}

impl QualityReason {
    /// Whether a specimen may be rejected for it: haemolysis, volume, tube, label, overtime or
    /// other (image quality and protocol are about images).
    pub fn is_specimen(self) -> bool {
        !matches!(self, Self::ImageQuality | Self::WrongProtocol)
    }
}

/// Why [`check`] refused a step.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SpecimenRefusal {
    /// The step does not follow the current one.
    #[error("{to} may not follow {}", step_name(.from))]
    InvalidStep {
        /// The current step (`None`: ordered).
        from: Option<SpecimenStep>,
        /// The step asked for.
        to: SpecimenStep,
        /// What may follow instead ([`next_steps`]).
        allowed: &'static [SpecimenStep],
    },
    /// A rejection needs a reason.
    #[error("a rejected specimen needs a reason")]
    ReasonRequired,
    /// The reason is not about a specimen, or the step is not a rejection.
    #[error("{reason} is not a reason for {step}")]
    WrongReason {
        /// The step asked for.
        step: SpecimenStep,
        /// The reason given.
        reason: QualityReason,
    },
}

impl SpecimenRefusal {
    /// Stable code for the API.
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidStep { .. } => "invalid_step",
            Self::ReasonRequired => "reason_required",
            Self::WrongReason { .. } => "wrong_reason",
        }
    }
}

fn step_name(step: &Option<SpecimenStep>) -> &'static str {
    step.map_or("ordered", SpecimenStep::as_str)
}

/// Checks that `next` may follow `current` (`None`: ordered). `rejected` needs a specimen
/// reason ([`QualityReason::is_specimen`]); any other step takes none.
pub fn check(
    current: Option<SpecimenStep>,
    next: SpecimenStep,
    reason: Option<QualityReason>,
) -> Result<(), SpecimenRefusal> {
    let allowed = next_steps(current);
    if !allowed.contains(&next) {
        return Err(SpecimenRefusal::InvalidStep { from: current, to: next, allowed });
    }
    match (next, reason) {
        (S::Rejected, None) => Err(SpecimenRefusal::ReasonRequired),
        (S::Rejected, Some(reason)) if reason.is_specimen() => Ok(()),
        (_, None) => Ok(()),
        (step, Some(reason)) => Err(SpecimenRefusal::WrongReason { step, reason }),
    }
}

/// The exam item's transitions that a step [`check`] allowed implies, in order: `collected` →
/// `acquire`, `received` → `receive`, `rejected` → `reject_quality`, preceded by `receive`
/// when the specimen is refused at reception (the item is still `acquired` then, and only a
/// received item is rejected). Other steps leave the item alone.
///
/// An item with several tubes moves once: the application applies a transition only while the
/// item is in a state the transition leaves (say, `receive` when the last tube arrives).
pub fn item_transitions(current: Option<SpecimenStep>, next: SpecimenStep) -> &'static [ItemTransition] {
    use ItemTransition as T;
    match (current, next) {
        (_, S::Collected) => &[T::Acquire],
        (_, S::Received) => &[T::Receive],
        (Some(S::InTransit), S::Rejected) => &[T::Receive, T::RejectQuality],
        (_, S::Rejected) => &[T::RejectQuality],
        _ => &[],
    }
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};

    use super::*;
    use crate::reading::{ExamKind, Facts, Given, ItemState, Party, Urgency, decide};

    /// The chain written out by hand from DESIGN.md §6.2 and the choices in the module docs.
    fn expected() -> Vec<(Option<SpecimenStep>, SpecimenStep)> {
        use SpecimenStep::*;
        vec![
            (None, Labelled),
            (Some(Labelled), Collected),
            (Some(Collected), Packed),
            (Some(Packed), InTransit),
            (Some(InTransit), Received),
            (Some(InTransit), Rejected),
            (Some(Received), Testing),
            (Some(Received), Rejected),
            (Some(Rejected), Discarded),
            (Some(Testing), Released),
            (Some(Released), Retained),
            (Some(Retained), Testing),
            (Some(Retained), Discarded),
        ]
    }

    fn froms() -> impl Iterator<Item = Option<SpecimenStep>> {
        std::iter::once(None).chain(SpecimenStep::ALL.iter().copied().map(Some))
    }

    #[test]
    fn every_pair_of_steps_is_allowed_or_refused_as_transcribed() {
        let table = expected();
        let mut allowed = 0;
        for from in froms() {
            for &to in SpecimenStep::ALL {
                let reason = (to == S::Rejected).then_some(QualityReason::Haemolysis);
                let got = check(from, to, reason);
                if table.contains(&(from, to)) {
                    assert_eq!(got, Ok(()), "{from:?} → {to}");
                    allowed += 1;
                } else {
                    match got {
                        Err(SpecimenRefusal::InvalidStep { from: f, to: t, allowed }) => {
                            assert_eq!((f, t), (from, to));
                            assert_eq!(allowed, next_steps(from));
                        }
                        other => panic!("{from:?} → {to}: {other:?}"),
                    }
                }
            }
        }
        assert_eq!(allowed, table.len());
    }

    #[test]
    fn next_steps_lists_exactly_the_transcribed_successors() {
        for from in froms() {
            let expected: Vec<_> =
                expected().into_iter().filter(|(f, _)| *f == from).map(|(_, t)| t).collect();
            assert_eq!(next_steps(from), expected, "{from:?}");
        }
    }

    #[test]
    fn every_step_is_reachable_and_every_chain_ends_discarded() {
        let mut seen = vec![];
        let mut stack = vec![None];
        while let Some(from) = stack.pop() {
            let next = next_steps(from);
            assert!(!next.is_empty() || from == Some(S::Discarded), "dead end at {from:?}");
            for &to in next {
                if !seen.contains(&to) {
                    seen.push(to);
                    stack.push(Some(to));
                }
            }
        }
        seen.sort();
        assert_eq!(seen, SpecimenStep::ALL);
    }

    fn check_reason(step: SpecimenStep, reason: Option<QualityReason>, expect: Result<(), &str>) {
        let from = expected().into_iter().find(|(_, t)| *t == step).map(|(f, _)| f).unwrap();
        assert_eq!(check(from, step, reason).map_err(|e| e.code()), expect, "{step} {reason:?}");
    }

    #[test]
    fn rejection_needs_a_specimen_reason() {
        use QualityReason::*;
        check_reason(S::Rejected, None, Err("reason_required"));
        check_reason(S::Rejected, Some(Haemolysis), Ok(()));
        check_reason(S::Rejected, Some(Volume), Ok(()));
        check_reason(S::Rejected, Some(Tube), Ok(()));
        check_reason(S::Rejected, Some(Label), Ok(()));
        check_reason(S::Rejected, Some(Overtime), Ok(()));
        check_reason(S::Rejected, Some(Other), Ok(()));
        check_reason(S::Rejected, Some(ImageQuality), Err("wrong_reason"));
        check_reason(S::Rejected, Some(WrongProtocol), Err("wrong_reason"));
        check_reason(S::Received, Some(Haemolysis), Err("wrong_reason"));
        check_reason(S::Discarded, Some(Other), Err("wrong_reason"));
        check_reason(S::Received, None, Ok(()));
    }

    #[test]
    fn an_invalid_step_is_refused_before_its_reason_is_looked_at() {
        let got = check(None, S::Rejected, None);
        assert_eq!(got.as_ref().map_err(SpecimenRefusal::code), Err("invalid_step"));
        assert_eq!(got.unwrap_err().to_string(), "rejected may not follow ordered");
    }

    #[test]
    fn item_transitions_per_step() {
        use ItemTransition as T;
        let expect = |from: Option<SpecimenStep>, to: SpecimenStep| -> Vec<ItemTransition> {
            match (from, to) {
                (Some(S::Labelled), S::Collected) => vec![T::Acquire],
                (Some(S::InTransit), S::Received) => vec![T::Receive],
                (Some(S::InTransit), S::Rejected) => vec![T::Receive, T::RejectQuality],
                (Some(S::Received), S::Rejected) => vec![T::RejectQuality],
                _ => vec![],
            }
        };
        for (from, to) in expected() {
            assert_eq!(item_transitions(from, to), expect(from, to), "{from:?} → {to}");
        }
    }

    /// Walks every path of the chain (each step at most twice) and applies the item transitions
    /// each step implies: the exam item's own rules accept every one of them.
    #[test]
    fn the_item_machine_accepts_what_every_path_implies() {
        fn walk(
            from: Option<SpecimenStep>,
            item: ItemState,
            visits: &mut Vec<SpecimenStep>,
            paths: &mut usize,
        ) {
            let next = next_steps(from);
            if next.is_empty() {
                *paths += 1;
            }
            for &to in next {
                if visits.iter().filter(|&&s| s == to).count() >= 2 {
                    continue;
                }
                let mut state = item;
                for &transition in item_transitions(from, to) {
                    let facts =
                        Facts { state, kind: ExamKind::Lab, urgency: Urgency::Outpatient, lease_until: None };
                    let now = Utc.with_ymd_and_hms(2026, 3, 2, 1, 0, 0).unwrap();
                    let given = Given { reason: true, reader: true, report: true };
                    state = Party::ALL
                        .iter()
                        .find_map(|&party| decide(&facts, transition, party, given, now).ok())
                        .unwrap_or_else(|| panic!("{transition} from {state} after {visits:?} → {to}"));
                }
                // The centre puts a received item on its worklist before anything else happens.
                if state == ItemState::Received {
                    state = ItemState::Queued;
                }
                visits.push(to);
                walk(Some(to), state, visits, paths);
                visits.pop();
            }
        }
        let mut paths = 0;
        walk(None, ItemState::Ordered, &mut vec![], &mut paths);
        assert!(paths >= 4, "{paths}");
    }
}
