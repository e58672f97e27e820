use std::collections::BTreeMap;

use chrono::{Duration, NaiveDate, TimeZone, Utc};

use super::green::{Centre, Milestone, case_metrics, out_of_order, summarise};
use super::metrics::{Measure, Row, china_month, tally};
use super::*;
use crate::facility::Tier;
use crate::ids::{InstitutionId, PatientRecordId};

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, 1, 0, 0).unwrap()
}

fn facts(state: State, priority: Priority) -> Facts {
    Facts {
        state,
        direction: Direction::Upward,
        priority,
        sla_started_at: Some(t0()),
        redirects: 0,
        accepted_at: Some(t0()),
        slot_at: Some(t0() + Duration::hours(5)),
    }
}

/// Everything each transition needs, so that only state and party decide.
fn everything() -> Given {
    Given {
        department: true,
        slot: true,
        reason: true,
        new_target: true,
        outcome: true,
        external: true,
        loop_rule: true,
    }
}

/// DESIGN.md §6.1 written out: (from, transition, party) → to, for every allowed combination.
fn expected() -> Vec<(State, Transition, Party, State)> {
    use Party::*;
    use State::*;
    use Transition::*;
    let mut rows = vec![
        (Draft, Submit, SendingClinician, Submitted),
        (Draft, Submit, SendingCentre, Submitted),
        (Submitted, Accept, ReceivingCentre, Accepted),
        (Submitted, Accept, ReceivingClinician, Accepted),
        (Submitted, Reject, ReceivingCentre, Rejected),
        (Submitted, Reject, ReceivingClinician, Rejected),
        (Submitted, Redirect, ReceivingCentre, Submitted),
        (Accepted, Schedule, ReceivingCentre, Scheduled),
        (Scheduled, Reschedule, ReceivingCentre, Scheduled),
        (Arrived, StartCare, ReceivingCentre, InCare),
        (Arrived, StartCare, ReceivingClinician, InCare),
        (Arrived, StartCare, System, InCare),
        (InCare, Complete, ReceivingClinician, Completed),
        (InCare, Complete, System, Completed),
        (Completed, Close, System, Closed),
        (Completed, Close, ReceivingCentre, Closed),
        (Completed, Close, SendingCentre, Closed),
        (Accepted, Expire, System, Expired),
        (Scheduled, MarkNoShow, System, NoShow),
        (Draft, SendOut, SendingCentre, SentOut),
        (Submitted, SendOut, SendingCentre, SentOut),
    ];
    for from in [Accepted, Scheduled] {
        for party in [ReceivingCentre, ReceivingClinician, System] {
            rows.push((from, Arrive, party, Arrived));
        }
    }
    for from in [Draft, Submitted, Accepted, Scheduled] {
        for party in [SendingClinician, SendingCentre, System] {
            rows.push((from, Cancel, party, Cancelled));
        }
    }
    rows
}

#[test]
fn every_state_transition_and_party_is_allowed_or_refused_as_designed() {
    let table = expected();
    let late = t0() + Duration::days(30);
    let mut allowed_seen = 0;
    for &state in State::ALL {
        for &transition in Transition::ALL {
            for &party in Party::ALL {
                let got = decide(
                    &facts(state, Priority::Routine),
                    transition,
                    party,
                    everything(),
                    &Settings::default(),
                    late,
                );
                let want = table.iter().find(|(f, t, p, _)| *f == state && *t == transition && *p == party);
                match (want, got) {
                    (Some((.., to)), Ok(step)) => {
                        assert_eq!(step.to, *to, "{state} {transition} by {party}");
                        allowed_seen += 1;
                    }
                    (Some(_), Err(e)) => panic!("{state} {transition} by {party} refused: {e}"),
                    (None, Ok(step)) => panic!("{state} {transition} by {party} allowed → {}", step.to),
                    (None, Err(Refusal::InvalidTransition { state: s, allowed, .. })) => {
                        assert_eq!(s, state);
                        assert!(!table.iter().any(|(f, t, ..)| *f == state && *t == transition));
                        // The allowed list is exactly this party's rows of the table.
                        let mut want: Vec<Transition> = table
                            .iter()
                            .filter(|(f, _, p, _)| *f == state && *p == party)
                            .map(|r| r.1)
                            .collect();
                        want.dedup();
                        let mut allowed = allowed;
                        allowed.sort();
                        want.sort();
                        assert_eq!(allowed, want, "allowed from {state} for {party}");
                    }
                    (None, Err(Refusal::WrongParty { allowed_parties, .. })) => {
                        assert!(table.iter().any(|(f, t, ..)| *f == state && *t == transition));
                        assert!(!allowed_parties.contains(&party));
                    }
                    (None, Err(e)) => panic!("{state} {transition} by {party}: unexpected {e:?}"),
                }
            }
        }
    }
    assert_eq!(allowed_seen, table.len());
}

#[test]
fn terminal_states_allow_nothing() {
    for &state in State::ALL.iter().filter(|s| s.is_terminal()) {
        assert!(allowed_by_anyone(state).is_empty(), "{state}");
    }
    assert!(State::ALL.iter().filter(|s| s.is_live()).all(|s| !s.is_terminal()));
}

#[test]
fn green_submission_is_accepted_at_once() {
    let step = decide(
        &facts(State::Draft, Priority::Green),
        Transition::Submit,
        Party::SendingClinician,
        Given::default(),
        &Settings::default(),
        t0(),
    )
    .unwrap();
    assert_eq!(step, Step { to: State::Accepted, auto_accepted: true });
    let routine = decide(
        &facts(State::Draft, Priority::Urgent),
        Transition::Submit,
        Party::SendingClinician,
        Given::default(),
        &Settings::default(),
        t0(),
    )
    .unwrap();
    assert_eq!(routine, Step { to: State::Submitted, auto_accepted: false });
}

#[test]
fn each_transition_refuses_without_what_it_records() {
    let s = Settings::default();
    let cases = [
        (State::Submitted, Transition::Accept, Party::ReceivingCentre, "department"),
        (State::Submitted, Transition::Reject, Party::ReceivingCentre, "reason"),
        (State::Submitted, Transition::Redirect, Party::ReceivingCentre, "new_target"),
        (State::Accepted, Transition::Schedule, Party::ReceivingCentre, "slot"),
        (State::Scheduled, Transition::Reschedule, Party::ReceivingCentre, "slot"),
        (State::InCare, Transition::Complete, Party::ReceivingClinician, "outcome"),
        (State::Completed, Transition::Close, Party::System, "loop_rule"),
        (State::Completed, Transition::Close, Party::ReceivingCentre, "reason"),
        (State::Submitted, Transition::Cancel, Party::SendingClinician, "reason"),
        (State::Draft, Transition::SendOut, Party::SendingCentre, "external"),
    ];
    for (state, transition, party, what) in cases {
        let got = decide(&facts(state, Priority::Routine), transition, party, Given::default(), &s, t0());
        assert_eq!(got, Err(Refusal::Missing { transition, missing: what }), "{state} {transition}");
    }
}

#[test]
fn expiry_and_no_show_wait_for_their_timers() {
    let s = Settings::default();
    // (priority, transition, state, due after t0)
    let cases = [
        (Priority::Routine, Transition::Expire, State::Accepted, Duration::days(14)),
        (Priority::Urgent, Transition::Expire, State::Accepted, Duration::hours(24)),
        (Priority::Green, Transition::Expire, State::Accepted, Duration::hours(24)),
        // The slot is t0 + 5 h.
        (Priority::Routine, Transition::MarkNoShow, State::Scheduled, Duration::hours(5 + 24)),
        (Priority::Urgent, Transition::MarkNoShow, State::Scheduled, Duration::hours(5 + 4)),
    ];
    for (priority, transition, state, after) in cases {
        let f = facts(state, priority);
        let due = t0() + after;
        let early = decide(&f, transition, Party::System, Given::default(), &s, due - Duration::seconds(1));
        assert_eq!(early, Err(Refusal::NotDue { transition, due }), "{priority} {transition}");
        assert_eq!(due_timer(&f, &s, due - Duration::seconds(1)), None);
        let on_time = decide(&f, transition, Party::System, Given::default(), &s, due).unwrap();
        assert!(on_time.to.is_terminal());
        assert_eq!(due_timer(&f, &s, due), Some(transition));
    }
    // No timer runs on other states.
    for &state in State::ALL.iter().filter(|s| !matches!(s, State::Accepted | State::Scheduled)) {
        assert_eq!(
            due_timer(&facts(state, Priority::Urgent), &s, t0() + Duration::days(400)),
            None,
            "{state}"
        );
    }
}

#[test]
fn unanswered_referrals_escalate_at_one_and_two_times_their_sla() {
    let s = Settings::default();
    // (priority, state, SLA)
    let cases = [
        (Priority::Routine, State::Submitted, Duration::hours(24)),
        (Priority::Urgent, State::Submitted, Duration::hours(2)),
        (Priority::Green, State::Submitted, Duration::minutes(10)),
        (Priority::Routine, State::Accepted, Duration::hours(48)),
        (Priority::Urgent, State::Accepted, Duration::hours(2)),
    ];
    for (priority, state, sla) in cases {
        let f = facts(state, priority);
        assert_eq!(sla_due(&f, &s), Some(t0() + sla));
        let at = |d: Duration| escalation(&f, &s, t0() + d);
        assert_eq!(at(sla - Duration::seconds(1)), Escalation::None, "{priority} {state}");
        assert_eq!(at(sla), Escalation::OnDuty, "{priority} {state}");
        assert_eq!(at(sla * 2 - Duration::seconds(1)), Escalation::OnDuty);
        assert_eq!(at(sla * 2), Escalation::MedicalAffairs);
    }
    // A redirection restarts the clock; more than two go to medical affairs at once.
    let mut f = facts(State::Submitted, Priority::Routine);
    f.sla_started_at = Some(t0() + Duration::hours(20));
    f.redirects = 2;
    assert_eq!(escalation(&f, &s, t0() + Duration::hours(30)), Escalation::None);
    f.redirects = 3;
    assert_eq!(escalation(&f, &s, t0() + Duration::hours(21)), Escalation::MedicalAffairs);
    // Nothing waits on the receiver once scheduled.
    assert_eq!(
        escalation(&facts(State::Scheduled, Priority::Urgent), &s, t0() + Duration::days(9)),
        Escalation::None
    );
}

#[test]
fn follow_up_is_due_seven_days_after_discharge_or_three_when_high_risk() {
    let s = Settings::default();
    let day = NaiveDate::from_ymd_opt(2026, 2, 26).unwrap();
    assert_eq!(s.follow_up_due(day, false), NaiveDate::from_ymd_opt(2026, 3, 5).unwrap());
    assert_eq!(s.follow_up_due(day, true), NaiveDate::from_ymd_opt(2026, 3, 1).unwrap());
}

#[test]
fn the_loop_closes_by_rule_or_by_a_counting_reason() {
    assert!(closes_loop(true, None));
    assert!(closes_loop(false, Some(NoDownReason::Died)));
    assert!(closes_loop(false, Some(NoDownReason::OutpatientOpinionReturned)));
    assert!(!closes_loop(false, Some(NoDownReason::LostToFollowUp)));
    assert!(!closes_loop(false, None));
}

#[test]
fn insurance_certificates_last_three_months_or_a_year() {
    let d = |y, m, dd| NaiveDate::from_ymd_opt(y, m, dd).unwrap();
    assert_eq!(certificate_valid_until(d(2026, 1, 15), CertificateClass::SingleAdmission), d(2026, 4, 14));
    assert_eq!(certificate_valid_until(d(2026, 11, 30), CertificateClass::SingleAdmission), d(2027, 2, 27));
    assert_eq!(certificate_valid_until(d(2026, 3, 1), CertificateClass::LongTerm), d(2027, 2, 28));
}

fn draft() -> ReferralDraft {
    ReferralDraft {
        direction: "upward".into(),
        priority: "urgent".into(),
        patient_record_id: Some(PatientRecordId::new_v7()),
        to_institution_id: Some(InstitutionId::new_v7()),
        reason: "further_examination".into(),
        condition: "胸闷气短三天，活动后加重".into(),
        diagnoses: vec![("I20.000".into(), "不稳定型心绞痛".into())],
        consent: true,
        ..ReferralDraft::default()
    }
}

#[test]
fn a_complete_upward_draft_validates() {
    let v = validate_referral(&draft(), Tier::TownshipCentre, Some(Tier::CountyGeneral)).unwrap();
    assert_eq!(v.direction, Direction::Upward);
    assert_eq!(v.reason.as_str(), "further_examination");
    assert_eq!(v.diagnoses.len(), 1);
}

#[test]
fn drafts_report_every_wrong_field() {
    let codes = |d: &ReferralDraft, from, to| -> Vec<(&'static str, &'static str)> {
        validate_referral(d, from, to).unwrap_err().fields.iter().map(|f| (f.field, f.code)).collect()
    };
    let county = Some(Tier::CountyGeneral);
    // Direction against tiers.
    let mut d = draft();
    assert_eq!(
        codes(&d, Tier::CountyGeneral, Some(Tier::TownshipCentre)),
        [("to_institution_id", "direction_mismatch")]
    );
    d.lateral = true;
    assert!(validate_referral(&d, Tier::CountyGeneral, county).is_ok(), "county to county, lateral");
    d.direction = "downward".into();
    d.reason = "rehabilitation".into();
    let c = codes(&d, Tier::CountyGeneral, Some(Tier::TownshipCentre));
    assert!(
        c.contains(&("lateral", "lateral_downward")) && c.contains(&("discharge_summary", "required")),
        "{c:?}"
    );
    // Out of network needs the flag's companion and no in-network target.
    let mut d = draft();
    d.out_of_network = true;
    assert_eq!(
        codes(&d, Tier::TownshipCentre, None),
        [("external_institution", "required"), ("to_institution_id", "out_of_network_target")]
    );
    d.to_institution_id = None;
    d.external_institution = Some("省人民医院".into());
    let v = validate_referral(&d, Tier::TownshipCentre, None).unwrap();
    assert_eq!((v.to_institution_id, v.external_institution.as_deref()), (None, Some("省人民医院")));
    // Codes, green, consent, certificate.
    let mut d = draft();
    d.priority = "green".into();
    d.reason = "downhill".into();
    d.diagnoses = vec![("chest pain".into(), "胸痛".into())];
    d.consent = false;
    d.certificate_class = Some("single_admission".into());
    assert_eq!(
        codes(&d, Tier::VillageClinic, county),
        [
            ("reason", "reason_invalid"),
            ("diagnoses", "icd10_invalid"),
            ("green_centre", "required"),
            ("certificate_issued", "required"),
            ("consent", "consent_required"),
        ]
    );
    d.green_centre = Some("chest_pain".into());
    d.reason = "other".into();
    assert!(codes(&d, Tier::VillageClinic, county).contains(&("reason_text", "required")));
}

#[test]
fn icd10_codes_of_the_clinical_edition_are_recognised() {
    for ok in ["I21", "I21.9", "E11.900", "S72.001", "J18.9", "O80.x00"] {
        assert!(is_icd10_code(ok), "{ok}");
    }
    for bad in ["", "I2", "i21.9", "121.9", "I21.", "I21.12345", "I21-9"] {
        assert!(!is_icd10_code(bad), "{bad}");
    }
}

fn at(minute: i64) -> DateTime<Utc> {
    t0() + Duration::minutes(minute)
}

#[test]
fn chest_pain_chain_gives_each_interval_against_its_target() {
    let stamps = BTreeMap::from([
        (Milestone::FirstMedicalContact, at(0)),
        (Milestone::Ecg, at(9)),
        (Milestone::Diagnosis, at(19)),
        (Milestone::Door, at(60)),
        (Milestone::Balloon, at(150)),
    ]);
    let v = case_metrics(Centre::ChestPain, &stamps);
    let get = |code| v.iter().find(|x| x.metric.code == code).unwrap();
    assert_eq!((get("fmc_to_ecg").minutes, get("fmc_to_ecg").compliant), (Some(9), Some(true)));
    // < 10 is strict: 10 minutes is late.
    assert_eq!((get("ecg_to_diagnosis").minutes, get("ecg_to_diagnosis").compliant), (Some(10), Some(false)));
    // ≤ 90 is inclusive.
    assert_eq!((get("door_to_balloon").minutes, get("door_to_balloon").compliant), (Some(90), Some(true)));
    assert_eq!(get("fmc_to_balloon").minutes, Some(150));
    assert_eq!(get("fmc_to_balloon").compliant, None, "no target loaded");
    assert_eq!(get("fmc_to_troponin").minutes, None, "no troponin stamp");
}

#[test]
fn stroke_needle_times_and_out_of_order_stamps() {
    let stamps = BTreeMap::from([
        (Milestone::LastKnownWell, at(0)),
        (Milestone::Door, at(200)),
        (Milestone::CtStart, at(190)),
        (Milestone::Needle, at(261)),
    ]);
    let v = case_metrics(Centre::Stroke, &stamps);
    let get = |code| v.iter().find(|x| x.metric.code == code).unwrap();
    assert_eq!((get("onset_to_needle").minutes, get("onset_to_needle").compliant), (Some(261), Some(true)));
    assert_eq!((get("door_to_needle").minutes, get("door_to_needle").compliant), (Some(61), Some(false)));
    assert_eq!(get("door_to_ct").minutes, None, "a negative interval is not a value");
    let wrong = out_of_order(Centre::Stroke, &stamps);
    assert_eq!(wrong, [green::OutOfOrder { earlier: Milestone::Door, later: Milestone::CtStart }]);
}

#[test]
fn a_month_of_chest_pain_cases_meets_the_goal_at_three_quarters() {
    let case = |ecg: i64| {
        case_metrics(
            Centre::ChestPain,
            &BTreeMap::from([(Milestone::FirstMedicalContact, at(0)), (Milestone::Ecg, at(ecg))]),
        )
    };
    let month = summarise(Centre::ChestPain, &[case(5), case(8), case(9), case(14)]);
    let fmc = month.iter().find(|m| m.metric.code == "fmc_to_ecg").unwrap();
    assert_eq!((fmc.cases, fmc.compliant, fmc.meets_goal), (4, 3, Some(true)));
    assert_eq!(fmc.mean_minutes, Some(9.0));
    assert_eq!(fmc.median_minutes, Some(8.5));
    let month = summarise(Centre::ChestPain, &[case(5), case(12), case(9), case(14)]);
    let fmc = month.iter().find(|m| m.metric.code == "fmc_to_ecg").unwrap();
    assert_eq!(fmc.meets_goal, Some(false));
    let d2b = month.iter().find(|m| m.metric.code == "door_to_balloon").unwrap();
    assert_eq!((d2b.cases, d2b.meets_goal, d2b.mean_minutes), (0, None, None));
}

fn row(direction: Direction, priority: Priority) -> Row {
    Row {
        id: uuid::Uuid::now_v7(),
        direction,
        priority,
        green_centre: None,
        state: State::Submitted,
        from_institution: InstitutionId::from_uuid(uuid::Uuid::nil()),
        to_institution: None,
        submitted_at: Some(at(0)),
        accepted_at: None,
        rejected_at: None,
        arrived_at: None,
        completed_at: None,
        closed: None,
        sla_due: None,
    }
}

#[test]
fn referral_metrics_on_a_fixed_fixture() {
    let now = at(60 * 24 * 40);
    let mut rows = Vec::new();
    // Up 1: accepted after 30 min, arrived, completed, closed as a loop.
    let mut r = row(Direction::Upward, Priority::Routine);
    r.accepted_at = Some(at(30));
    r.arrived_at = Some(at(600));
    r.completed_at = Some(at(3000));
    r.closed = Some((at(9000), true));
    r.state = State::Closed;
    rows.push(r);
    // Up 2: accepted after 90 min, arrived, completed, lost to follow-up.
    let mut r = row(Direction::Upward, Priority::Routine);
    r.accepted_at = Some(at(90));
    r.arrived_at = Some(at(700));
    r.completed_at = Some(at(4000));
    r.closed = Some((at(9000), false));
    r.state = State::Closed;
    rows.push(r);
    // Up 3: accepted after 60 min, never arrived (expired).
    let mut r = row(Direction::Upward, Priority::Urgent);
    r.accepted_at = Some(at(60));
    r.state = State::Expired;
    rows.push(r);
    // Up 4: rejected.
    let mut r = row(Direction::Upward, Priority::Routine);
    r.rejected_at = Some(at(100));
    r.state = State::Rejected;
    rows.push(r);
    // Up 5: green, accepted at once, arrived.
    let mut r = row(Direction::Upward, Priority::Green);
    r.accepted_at = Some(at(0));
    r.arrived_at = Some(at(50));
    r.state = State::Arrived;
    rows.push(r);
    // Down 1: submitted, overdue now.
    let mut r = row(Direction::Downward, Priority::Routine);
    r.sla_due = Some(at(60 * 24));
    rows.push(r);
    // Down 2: accepted, arrived.
    let mut r = row(Direction::Downward, Priority::Routine);
    r.accepted_at = Some(at(120));
    r.arrived_at = Some(at(2000));
    r.state = State::Arrived;
    rows.push(r);

    let all = tally(&rows, now, |_, _, _| Some(()));
    let t = &all[&()];
    assert_eq!(t.count(Measure::Submitted, Some(Direction::Upward)), 5);
    assert_eq!(t.count(Measure::Submitted, Some(Direction::Downward)), 2);
    assert_eq!(t.count(Measure::Arrived, Some(Direction::Upward)), 3);
    assert_eq!(t.count(Measure::Arrived, Some(Direction::Downward)), 1);
    // Acceptance: non-green 4 accepted (up 1,2,3, down 2) of 5 decided; green 1 of 1.
    assert_eq!(t.acceptance(false), metrics::Ratio { num: 4, den: 5 });
    assert_eq!(t.acceptance(true), metrics::Ratio { num: 1, den: 1 });
    assert_eq!(t.acceptance(false).percent(), Some(80.0));
    // Arrival: accepted 5, of which arrived 4.
    assert_eq!(t.arrival(), metrics::Ratio { num: 4, den: 5 });
    // Closed loop: completed up 2, loops 1.
    assert_eq!(t.closed_loop(), metrics::Ratio { num: 1, den: 2 });
    assert_eq!(t.count(Measure::Overdue, None), 1);
    // Median minutes to accept: routine 30, 90, (down) 120 → 90; urgent 60.
    assert_eq!(t.median_accept_minutes(Priority::Routine), Some(90.0));
    assert_eq!(t.median_accept_minutes(Priority::Urgent), Some(60.0));
    assert_eq!(metrics::Ratio::default().percent(), None, "no denominator, no value");

    // By month of the event: everything above happened in March 2026 (China time), but for a
    // completion moved to April, which leaves March's closed-loop rate with one case.
    let by_month = tally(&rows, now, |_, _, t| Some(china_month(t)));
    assert_eq!(by_month.keys().map(String::as_str).collect::<Vec<_>>(), ["2026-03"]);
    assert_eq!(&by_month["2026-03"], t);
    rows[1].completed_at = Some(Utc.with_ymd_and_hms(2026, 4, 1, 0, 0, 0).unwrap());
    let by_month = tally(&rows, now, |_, _, t| Some(china_month(t)));
    assert_eq!(by_month["2026-03"].closed_loop(), metrics::Ratio { num: 1, den: 1 });
    assert_eq!(by_month["2026-04"].closed_loop(), metrics::Ratio { num: 0, den: 1 });
}

#[test]
fn china_month_turns_at_china_midnight() {
    assert_eq!(china_month(Utc.with_ymd_and_hms(2026, 3, 31, 15, 59, 0).unwrap()), "2026-03");
    assert_eq!(china_month(Utc.with_ymd_and_hms(2026, 3, 31, 16, 0, 0).unwrap()), "2026-04");
}
