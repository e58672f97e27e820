//! The reading rules against an independent transcription of DESIGN.md §6.2.

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};

use super::critical::{self, CriticalFacts, CriticalRefusal, CriticalSettings, CriticalStep};
use super::recognition::{self, Decision, DecisionRefusal, Item, NotOffered, Prior, RecognitionTally};
use super::*;

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, 1, 0, 0).unwrap()
}

fn facts(state: ItemState) -> Facts {
    Facts { state, kind: ExamKind::Ct, urgency: Urgency::Outpatient, lease_until: Some(t0() + LEASE) }
}

/// (transition, from, to, parties).
type Row = (ItemTransition, Vec<ItemState>, Option<ItemState>, Vec<Party>);

/// The rules written out by hand from the design's item states.
fn expected() -> Vec<Row> {
    use ItemState::*;
    use ItemTransition as T;
    use Party::*;
    vec![
        (T::Acquire, vec![Ordered], Some(Acquired), vec![OrderingSite, System]),
        (T::Receive, vec![Ordered, Acquired], Some(Received), vec![System, Reader]),
        (T::Queue, vec![Received], Some(Queued), vec![System]),
        (T::Claim, vec![Queued], Some(Claimed), vec![Reader, Supervisor]),
        (T::Renew, vec![Claimed, Preliminary], None, vec![Holder]),
        (T::Release, vec![Claimed], Some(Queued), vec![Holder, Supervisor]),
        (T::Assign, vec![Queued, Claimed], Some(Claimed), vec![Supervisor]),
        (T::ExpireLease, vec![Claimed], Some(Queued), vec![System]),
        (T::ReportPreliminary, vec![Claimed], Some(Preliminary), vec![Holder]),
        (T::Finalise, vec![Claimed, Preliminary], Some(Final), vec![Holder]),
        (T::Deliver, vec![Final, Amended], Some(Delivered), vec![System]),
        (T::Amend, vec![Delivered], Some(Amended), vec![Holder, Supervisor]),
        (T::Cancel, vec![Ordered, Acquired, Received, Queued], Some(Cancelled), vec![OrderingSite]),
        (
            T::RejectQuality,
            vec![Received, Queued, Claimed],
            Some(RejectedQuality),
            vec![Holder, Supervisor, Reader],
        ),
    ]
}

#[test]
fn every_state_transition_and_party_is_decided_as_the_design_says() {
    let table = expected();
    assert_eq!(table.len(), ItemTransition::ALL.len(), "every transition is transcribed");
    let all = Given { reason: true, reader: true, report: true };
    let late = t0() + LEASE + Duration::minutes(1);
    let mut allowed_count = 0;
    for (transition, from, to, parties) in &table {
        for &state in ItemState::ALL {
            for &party in Party::ALL {
                let got = decide(&facts(state), *transition, party, all, late);
                match (from.contains(&state), parties.contains(&party)) {
                    (true, true) => {
                        assert_eq!(got, Ok(to.unwrap_or(state)), "{transition} from {state} by {party}");
                        allowed_count += 1;
                    }
                    (true, false) => assert!(
                        matches!(got, Err(Refusal::WrongParty { .. })),
                        "{transition} from {state} by {party}: {got:?}"
                    ),
                    (false, _) => match got {
                        Err(Refusal::InvalidTransition { state: s, allowed, .. }) => {
                            assert_eq!(s, state);
                            assert!(!allowed.contains(transition));
                            assert_eq!(allowed, super::allowed(state, party));
                        }
                        other => panic!("{transition} from {state} by {party}: {other:?}"),
                    },
                }
            }
        }
    }
    assert!(allowed_count > 30, "{allowed_count}");
    // Terminal states allow nothing.
    for state in [ItemState::Cancelled, ItemState::RejectedQuality] {
        for &party in Party::ALL {
            assert!(super::allowed(state, party).is_empty(), "{state} {party}");
        }
    }
}

#[test]
fn what_a_transition_records_must_be_given() {
    let none = Given::default();
    let f = facts(ItemState::Queued);
    let e = decide(&f, ItemTransition::Cancel, Party::OrderingSite, none, t0()).unwrap_err();
    assert_eq!(e, Refusal::Missing { transition: ItemTransition::Cancel, missing: "reason" });
    let e = decide(&f, ItemTransition::Assign, Party::Supervisor, none, t0()).unwrap_err();
    assert_eq!(e.code(), "missing");
    let f = facts(ItemState::Claimed);
    let e = decide(&f, ItemTransition::Finalise, Party::Holder, none, t0()).unwrap_err();
    assert_eq!(e, Refusal::Missing { transition: ItemTransition::Finalise, missing: "report" });
    assert_eq!(
        decide(&f, ItemTransition::RejectQuality, Party::Holder, none, t0()).unwrap_err().code(),
        "missing"
    );
    let delivered = facts(ItemState::Delivered);
    let e = decide(&delivered, ItemTransition::Amend, Party::Holder, Given { report: true, ..none }, t0());
    assert_eq!(e.unwrap_err(), Refusal::Missing { transition: ItemTransition::Amend, missing: "reason" });
}

#[test]
fn a_lease_expires_only_when_it_has_run_out() {
    let f = facts(ItemState::Claimed);
    let due = t0() + LEASE;
    assert_eq!(
        decide(&f, ItemTransition::ExpireLease, Party::System, Given::default(), due - Duration::seconds(1)),
        Err(Refusal::NotDue { due })
    );
    assert_eq!(
        decide(&f, ItemTransition::ExpireLease, Party::System, Given::default(), due),
        Ok(ItemState::Queued)
    );
}

#[test]
fn turnaround_limits_follow_the_design_table() {
    use ExamKind::*;
    use Urgency::*;
    let m = Duration::minutes;
    let h = Duration::hours;
    let cases = [
        (Ecg, Emergency, false, false, m(10)),
        (Ecg, Green, false, false, m(10)),
        (Ecg, Inpatient, false, false, m(30)),
        (Ecg, Outpatient, false, false, m(30)),
        (Dr, Emergency, false, false, m(30)),
        (Dr, Inpatient, false, false, h(2)),
        (Dr, Outpatient, false, false, h(2)),
        (Ct, Emergency, false, false, h(1)),
        (Ct, Emergency, true, false, m(30)),
        (Mr, Green, true, false, m(30)),
        (Ct, Inpatient, false, false, h(6)),
        (Ct, Outpatient, false, false, h(4)),
        (Mr, Outpatient, false, true, h(24)),
        (Ultrasound, Emergency, false, false, m(30)),
        (Ultrasound, Outpatient, false, false, h(4)),
        (Lab, Emergency, false, false, h(1)),
        (Lab, Inpatient, false, false, h(4)),
        (Lab, Outpatient, false, false, h(12)),
        (Pathology, Emergency, false, false, m(30)),
        (Pathology, Inpatient, false, false, Duration::days(5)),
        (Pathology, Outpatient, false, true, Duration::days(10)),
    ];
    for (kind, urgency, head, complex, limit) in cases {
        assert_eq!(
            sla(kind, urgency, head, complex),
            limit,
            "{kind} {urgency} head={head} complex={complex}"
        );
    }
    let received = t0();
    let due = due_at(Ecg, Emergency, false, false, received);
    assert!(on_time(due, received + m(10)));
    assert!(!on_time(due, received + m(10) + Duration::seconds(1)));
}

#[test]
fn worklist_order_and_kinds() {
    let mut urgencies = Urgency::ALL.to_vec();
    urgencies.reverse();
    urgencies.sort_by_key(|u| u.rank());
    assert_eq!(urgencies, Urgency::ALL, "green > emergency > inpatient > outpatient > physical exam");
    assert_eq!(ExamKind::of_modality("ct"), Some(ExamKind::Ct));
    assert_eq!(ExamKind::of_modality("DX"), Some(ExamKind::Dr));
    assert_eq!(ExamKind::of_modality(" US "), Some(ExamKind::Ultrasound));
    assert_eq!(ExamKind::of_modality("ECG"), Some(ExamKind::Ecg));
    assert_eq!(ExamKind::of_modality("SR"), None);
    assert_eq!(ExamKind::Mr.centre(), Centre::Imaging);
    assert_eq!(ExamKind::Lab.centre(), Centre::Lab);
    assert!(!ExamKind::Lab.has_images());
    assert!(ItemState::Preliminary.is_open() && ItemState::Preliminary.has_report());
    assert!(!ItemState::Delivered.is_open());
}

fn critical_facts(state: CriticalState) -> CriticalFacts {
    CriticalFacts {
        state,
        identified_at: t0(),
        notified_at: Some(t0() + Duration::minutes(1)),
        acknowledged_at: None,
        escalated: false,
    }
}

#[test]
fn critical_values_are_acknowledged_at_the_ordering_site_with_read_back() {
    use CriticalState as S;
    let f = critical_facts(S::Notified);
    assert_eq!(
        critical::decide(&f, CriticalStep::Acknowledge { read_back: true }, true),
        Ok(S::Acknowledged)
    );
    assert_eq!(
        critical::decide(&f, CriticalStep::Acknowledge { read_back: true }, false),
        Err(CriticalRefusal::WrongInstitution)
    );
    assert_eq!(
        critical::decide(&f, CriticalStep::Acknowledge { read_back: false }, true),
        Err(CriticalRefusal::ReadBackRequired)
    );
    assert_eq!(
        critical::decide(&f, CriticalStep::Dispose(Disposition::TreatedLocally), true),
        Err(CriticalRefusal::InvalidTransition(S::Notified))
    );
    let f = critical_facts(S::Acknowledged);
    assert_eq!(critical::decide(&f, CriticalStep::Dispose(Disposition::GreenChannel), true), Ok(S::Disposed));
    assert_eq!(
        critical::decide(&f, CriticalStep::Dispose(Disposition::GreenChannel), false),
        Err(CriticalRefusal::WrongInstitution)
    );
    assert_eq!(critical::decide(&critical_facts(S::Disposed), CriticalStep::Close, false), Ok(S::Closed));
    assert_eq!(
        critical::decide(&critical_facts(S::Identified), CriticalStep::Notify, false),
        Ok(S::Notified)
    );
    assert!(critical::decide(&critical_facts(S::Closed), CriticalStep::Close, false).is_err());
    assert!(critical::is_open(S::Disposed) && !critical::is_open(S::Closed));
}

#[test]
fn unacknowledged_critical_values_escalate_once_past_their_limit() {
    let s = CriticalSettings::default();
    let f = critical_facts(CriticalState::Notified);
    let due = t0() + Duration::minutes(16);
    assert_eq!(critical::acknowledge_due(&f, &s), due);
    assert!(!critical::escalation_due(&f, &s, due - Duration::seconds(1)));
    assert!(critical::escalation_due(&f, &s, due));
    assert!(!critical::escalation_due(&CriticalFacts { escalated: true, ..f }, &s, due));
    let acked = CriticalFacts {
        state: CriticalState::Acknowledged,
        acknowledged_at: Some(t0() + Duration::minutes(7)),
        ..f
    };
    assert!(!critical::escalation_due(&acked, &s, due + Duration::hours(1)));
    assert_eq!(critical::minutes_to_acknowledge(&acked), Some(7));
    // Never notified: the limit counts from identification.
    let silent = CriticalFacts { state: CriticalState::Identified, notified_at: None, ..f };
    assert_eq!(critical::acknowledge_due(&silent, &s), t0() + Duration::minutes(15));
}

fn item() -> Item {
    Item {
        code: "CBC".into(),
        name: "血常规".into(),
        kind: RecognitionKind::Lab,
        validity_days: 7,
        scope: RecognitionScope::Consortium,
        price_fen: 2000,
    }
}

#[test]
fn a_prior_result_is_offered_within_its_window_with_hr_and_valid_qc() {
    let good = Prior { reported_at: t0(), hr: true, qc_valid_until: NaiveDate::from_ymd_opt(2026, 12, 31) };
    assert_eq!(recognition::offer(&item(), &good, t0() + Duration::days(7)), Ok(()));
    assert_eq!(
        recognition::offer(&item(), &good, t0() + Duration::days(7) + Duration::seconds(1)),
        Err(NotOffered::OutOfWindow)
    );
    assert_eq!(recognition::offer(&item(), &good, t0() - Duration::hours(1)), Err(NotOffered::OutOfWindow));
    let unmarked = Prior { hr: false, ..good.clone() };
    assert_eq!(recognition::offer(&item(), &unmarked, t0()), Err(NotOffered::NotMarked));
    let lapsed = Prior { qc_valid_until: NaiveDate::from_ymd_opt(2026, 3, 1), ..good.clone() };
    assert_eq!(recognition::offer(&item(), &lapsed, t0()), Err(NotOffered::NoQc));
    let none = Prior { qc_valid_until: None, ..good };
    assert_eq!(recognition::offer(&item(), &none, t0()), Err(NotOffered::NoQc));
}

#[test]
fn decisions_need_a_national_ground_or_an_enabled_provincial_one() {
    assert_eq!(recognition::validate(&Decision::Recognised, false), Ok(()));
    let national = Decision::Repeated(RetestGround::FastChanging, None);
    assert_eq!(recognition::validate(&national, false), Ok(()));
    let other = Decision::Repeated(RetestGround::Other, Some("  ".into()));
    assert_eq!(recognition::validate(&other, true), Err(DecisionRefusal::TextRequired));
    let provincial = Decision::Repeated(RetestGround::TooOld, None);
    assert_eq!(recognition::validate(&provincial, false), Err(DecisionRefusal::GroundNotEnabled));
    assert_eq!(recognition::validate(&provincial, true), Ok(()));
    assert_eq!(RetestGround::ALL.iter().filter(|g| g.is_national()).count(), 6);
}

#[test]
fn recognition_rate_and_avoided_cost() {
    let mut t = RecognitionTally::default();
    assert_eq!(t.rate().percent(), None, "no decision, no rate");
    t.add(true, 2000);
    t.add(true, 15000);
    t.add(false, 2000);
    assert_eq!(t.rate().num, 2);
    assert_eq!(t.rate().den, 3);
    assert_eq!(t.avoided_fen, 17000);
}
