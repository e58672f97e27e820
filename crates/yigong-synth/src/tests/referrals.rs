//! The referral year: determinism, volumes and proportions of DESIGN.md §10, every life a legal
//! walk through `decide`, slips the domain's validator accepts, parents, green chains, follow-ups
//! and the live referrals at the end of the year.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, NaiveTime, TimeDelta, TimeZone, Utc};
use uuid::Uuid;
use yigong_domain::facility::Tier;
use yigong_domain::ids::{InstitutionId, PatientRecordId};
use yigong_domain::referral::green::{self, Centre, Milestone};
use yigong_domain::referral::{
    CancelReason, Direction, Facts, Given, NoDownReason, Priority, ReferralDraft, Settings, State,
    Transition, decide, is_icd10_code, validate_referral,
};

use super::{SynthReferral, volume};
use crate::{Organisation, SynthConfig, organisation, referrals, registrations};

/// A county of 4 000 residents: 110 referrals.
fn small() -> SynthConfig {
    SynthConfig { residents: 4_000, ..SynthConfig::demo() }
}

/// The start of `cfg.today`, China time.
fn now(cfg: &SynthConfig) -> DateTime<Utc> {
    Utc.from_utc_datetime(&(cfg.today.and_time(NaiveTime::MIN) - TimeDelta::hours(8)))
}

struct Year {
    cfg: SynthConfig,
    org: Organisation,
    referrals: Vec<SynthReferral>,
    /// The person (health-record number) of each registration.
    person: HashMap<(String, String), String>,
    /// Each person's registrations, the first first.
    registered: HashMap<String, Vec<(String, String)>>,
}

fn year(cfg: SynthConfig) -> Year {
    let org = organisation(&cfg);
    let referrals = referrals(&cfg, &org);
    let mut person = HashMap::new();
    let mut registered: HashMap<String, Vec<(String, String)>> = HashMap::new();
    for v in registrations(&cfg, &org) {
        for (r, t) in v.registrations.into_iter().zip(v.truth) {
            registered.entry(t.person.clone()).or_default().push((r.source.clone(), r.local_id.clone()));
            person.insert((r.source, r.local_id), t.person);
        }
    }
    Year { cfg, org, referrals, person, registered }
}

impl Year {
    fn person(&self, r: &SynthReferral) -> &str {
        &self.person[&(r.patient_source.clone(), r.patient_local_id.clone())]
    }

    fn tier(&self, id: InstitutionId) -> Tier {
        self.org.institutions.iter().find(|i| i.id == id).and_then(|i| i.kind.tier()).expect("a member")
    }
}

/// Replays the events through `decide`, checking each step; returns the final state.
fn replay(r: &SynthReferral, settings: &Settings) -> State {
    let mut facts = Facts {
        state: State::Draft,
        direction: r.direction,
        priority: r.priority,
        sla_started_at: None,
        redirects: 0,
        accepted_at: None,
        slot_at: None,
    };
    let mut last = r.created_at;
    for e in &r.events {
        assert!(e.at >= last, "{}: {} at {} before {}", r.slip_no, e.transition, e.at, last);
        last = e.at;
        let given = Given {
            department: e.department.is_some(),
            slot: e.slot_at.is_some(),
            reason: e.reason.is_some(),
            new_target: e.department.is_some(),
            outcome: e.outcome.is_some(),
            external: r.external_institution.is_some(),
            loop_rule: e.closed_by_rule,
        };
        let step = decide(&facts, e.transition, e.party, given, settings, e.at)
            .unwrap_or_else(|refusal| panic!("{}: {} refused: {refusal:?}\n{r:#?}", r.slip_no, e.transition));
        facts.state = step.to;
        match e.transition {
            Transition::Submit => {
                facts.sla_started_at = Some(e.at);
                if step.auto_accepted {
                    facts.accepted_at = Some(e.at);
                }
            }
            Transition::Redirect => {
                facts.sla_started_at = Some(e.at);
                facts.redirects += 1;
            }
            Transition::Accept => facts.accepted_at = Some(e.at),
            Transition::Schedule | Transition::Reschedule => facts.slot_at = e.slot_at,
            _ => {}
        }
    }
    facts.state
}

#[test]
fn same_config_same_referrals() {
    let cfg = small();
    let org = organisation(&cfg);
    let a = referrals(&cfg, &org);
    let b = referrals(&cfg, &org);
    assert_eq!(a, b);
    let other = referrals(&SynthConfig { seed: 7, ..cfg.clone() }, &org);
    assert_ne!(a, other);
}

#[test]
fn volume_and_direction() {
    for residents in [4_000, 20_000] {
        let y = year(SynthConfig { residents, ..SynthConfig::demo() });
        let n = y.referrals.len();
        let expected = volume(residents);
        assert_eq!(expected, residents as usize * 11_000 / 400_000);
        assert!(n.abs_diff(expected) * 10 <= expected, "{n} referrals for {expected}");
        let up = y.referrals.iter().filter(|r| r.direction == Direction::Upward).count();
        let share = up as f64 / n as f64;
        assert!((0.46..=0.56).contains(&share), "{share} upward");
    }
}

#[test]
fn every_life_is_legal() {
    let y = year(small());
    let settings = Settings::default();
    let now = now(&y.cfg);
    let first = now - TimeDelta::days(365);
    for r in &y.referrals {
        let state = replay(r, &settings);
        assert_eq!(state, r.final_state(), "{}", r.slip_no);
        assert!(!r.events.is_empty(), "{}", r.slip_no);
        assert!(r.created_at >= first && r.created_at < r.events[0].at, "{}", r.slip_no);
        assert!(r.events.last().expect("events").at <= now, "{}", r.slip_no);
        assert!(r.stamps.iter().all(|s| s.1 <= now));
    }
}

#[test]
fn every_terminal_state_appears() {
    let y = year(small());
    let states: HashSet<State> = y.referrals.iter().map(SynthReferral::final_state).collect();
    for s in State::ALL.iter().filter(|s| s.is_terminal()) {
        assert!(states.contains(s), "no referral ends {s}: {states:?}");
    }
    assert!(states.iter().any(|s| s.is_live()), "{states:?}");
    let closes: HashSet<Option<NoDownReason>> = y
        .referrals
        .iter()
        .flat_map(|r| &r.events)
        .filter(|e| e.transition == Transition::Close)
        .map(|e| e.no_down_reason)
        .collect();
    assert!(closes.contains(&None), "closed by the loop rule");
    let superseded = y
        .referrals
        .iter()
        .flat_map(|r| &r.events)
        .filter(|e| e.reason.as_deref() == Some(CancelReason::SupersededByGreen.as_str()))
        .count();
    assert!(superseded > 0);
}

#[test]
fn slips_pass_the_validator() {
    let y = year(small());
    for r in &y.referrals {
        let draft = ReferralDraft {
            direction: r.direction.as_str().to_owned(),
            priority: r.priority.as_str().to_owned(),
            patient_record_id: Some(PatientRecordId::from_uuid(Uuid::nil())),
            from_department_id: r.from_department,
            to_institution_id: r.to_institution,
            to_department_id: r.to_department,
            out_of_network: r.to_institution.is_none(),
            external_institution: r.external_institution.clone(),
            reason: r.reason.clone(),
            reason_text: r.reason_text.clone(),
            chief_complaint: r.chief_complaint.clone(),
            condition: r.condition.clone(),
            diagnoses: r.diagnoses.clone(),
            tests: r.tests.clone(),
            treatment: r.treatment.clone(),
            precautions: r.precautions.clone(),
            green_centre: r.green_centre.map(|c| c.as_str().to_owned()),
            lateral: r.lateral,
            downward: r.downward.clone(),
            certificate_class: r.certificate.as_ref().map(|c| c.0.as_str().to_owned()),
            certificate_issued: r.certificate.as_ref().map(|c| c.1),
            certificate_no: r.certificate.as_ref().map(|c| c.2.clone()),
            consent: true,
            ..ReferralDraft::default()
        };
        let from = y.tier(r.from_institution);
        let to = r.to_institution.map(|t| y.tier(t));
        if let Err(e) = validate_referral(&draft, from, to) {
            panic!("{}: {e:?}\n{r:#?}", r.slip_no);
        }
        assert!(r.diagnoses.iter().all(|(code, _)| is_icd10_code(code)));
        assert_eq!(r.lateral, from.is_county_level() && to.is_some_and(Tier::is_county_level));
        if r.direction == Direction::Upward && r.to_institution.is_some() && !r.lateral {
            assert!(to.is_some_and(Tier::is_county_level), "{}", r.slip_no);
            assert!(!from.is_county_level(), "{}", r.slip_no);
        }
        if r.direction == Direction::Downward {
            assert!(from.is_county_level(), "{}", r.slip_no);
            assert!(r.downward.is_some() && r.priority != Priority::Green);
        }
    }
}

#[test]
fn patients_and_clinicians_of_the_sending_institution() {
    let y = year(small());
    let codes: HashMap<InstitutionId, &str> =
        y.org.institutions.iter().map(|i| (i.id, i.code.as_str())).collect();
    for r in &y.referrals {
        // The registration at the sending institution when there is one, else the first.
        let regs = &y.registered[y.person(r)];
        let code = codes[&r.from_institution];
        let expected = regs.iter().find(|(s, _)| s == code).unwrap_or(&regs[0]);
        assert_eq!((&r.patient_source, &r.patient_local_id), (&expected.0, &expected.1), "{}", r.slip_no);
        // A clinician posted there on the day.
        let day = (r.created_at + TimeDelta::hours(8)).date_naive();
        if let Some(staff) = r.from_staff {
            let posted =
                y.org.postings.iter().any(|p| {
                    p.staff_id == staff && p.institution_id == r.from_institution && p.active_on(day)
                });
            assert!(posted, "{}: staff not posted at the sender", r.slip_no);
        }
        if let Some(d) = r.from_department {
            assert!(y.org.departments.iter().any(|x| x.id == d && x.institution_id == r.from_institution));
        }
        if let (Some(d), Some(to)) = (r.to_department, r.to_institution) {
            assert!(y.org.departments.iter().any(|x| x.id == d && x.institution_id == to));
        }
        for e in r.events.iter().filter(|e| e.department.is_some()) {
            let to = r.to_institution.expect("in network");
            assert!(y.org.departments.iter().any(|x| Some(x.id) == e.department && x.institution_id == to));
        }
    }
    let with_staff = y.referrals.iter().filter(|r| r.from_staff.is_some()).count();
    assert!(with_staff * 10 >= y.referrals.len() * 9, "{with_staff} with a clinician");
}

#[test]
fn slip_numbers_are_unique() {
    let y = year(small());
    let mut seen = HashSet::new();
    for r in &y.referrals {
        assert!(seen.insert(&r.slip_no), "{} twice", r.slip_no);
        assert_eq!(r.slip_no.len(), 14);
        assert!(r.slip_no.starts_with("ZZ") && r.slip_no[2..].bytes().all(|b| b.is_ascii_digit()));
    }
    let ids: HashSet<Uuid> = y.referrals.iter().map(|r| r.id).collect();
    assert_eq!(ids.len(), y.referrals.len());
}

#[test]
fn parents_are_earlier_upward_referrals_of_the_same_patient() {
    let y = year(small());
    let by_id: HashMap<Uuid, &SynthReferral> = y.referrals.iter().map(|r| (r.id, r)).collect();
    let mut children = 0;
    let mut downs = 0;
    for r in &y.referrals {
        downs += usize::from(r.direction == Direction::Downward);
        let Some(parent) = r.parent else { continue };
        children += 1;
        assert_eq!(r.direction, Direction::Downward);
        let up = by_id[&parent];
        assert_eq!(up.direction, Direction::Upward);
        assert!(up.created_at < r.created_at);
        assert_eq!(y.person(up), y.person(r), "{} answers {}", r.slip_no, up.slip_no);
        assert_eq!(up.to_institution, Some(r.from_institution));
        let completed = up.events.iter().find(|e| e.transition == Transition::Complete).expect("completed");
        assert!(completed.at <= r.created_at);
        // An upward referral closed by the rule has a down-referral whose follow-up was done.
        if let Some(close) = up.events.iter().find(|e| e.closed_by_rule) {
            let done = r.follow_up.as_ref().and_then(|f| f.done_at).expect("follow-up done");
            assert!(done <= close.at);
        }
    }
    assert!(children * 2 > downs, "{children} of {downs} down-referrals answer an upward one");
    for r in &y.referrals {
        if r.direction == Direction::Upward && r.events.iter().any(|e| e.closed_by_rule) {
            assert!(y.referrals.iter().any(|c| c.parent == Some(r.id)), "{}", r.slip_no);
        }
    }
}

#[test]
fn one_live_referral_per_patient_and_direction() {
    let y = year(small());
    let mut live = HashSet::new();
    for r in y.referrals.iter().filter(|r| r.final_state().is_live()) {
        assert!(live.insert((y.person(r).to_owned(), r.direction)), "{}", r.slip_no);
    }
}

#[test]
fn green_episodes() {
    let y = year(small());
    let greens: Vec<&SynthReferral> = y.referrals.iter().filter(|r| r.priority == Priority::Green).collect();
    assert!(!greens.is_empty());
    for r in &greens {
        let centre = r.green_centre.expect("a centre");
        assert!(r.stamps.len() >= 3, "{}", r.slip_no);
        let chain = centre.chain();
        assert!(r.stamps.iter().all(|s| chain.contains(&s.0)));
        let stamps: BTreeMap<Milestone, DateTime<Utc>> = r.stamps.iter().map(|s| (s.0, s.1)).collect();
        assert_eq!(green::out_of_order(centre, &stamps), vec![], "{}", r.slip_no);
        assert!(!(stamps.contains_key(&Milestone::Balloon) && stamps.contains_key(&Milestone::Lysis)));
        let code = &r.diagnoses[0].0;
        let fits = match centre {
            Centre::ChestPain => code.starts_with("I21"),
            Centre::Stroke => code.starts_with("I63"),
            Centre::Trauma => code.starts_with('S') || code.starts_with('T'),
            Centre::Maternal => code.starts_with('O'),
            Centre::Neonatal => code.starts_with('P'),
        };
        assert!(fits, "{centre}: {code}");
        // Accepted at submission; arrival at the door.
        assert_eq!(r.events[0].transition, Transition::Submit);
        if let (Some(door), Some(arrive)) =
            (stamps.get(&Milestone::Door), r.events.iter().find(|e| e.transition == Transition::Arrive))
        {
            assert_eq!(*door, arrive.at);
        }
    }
    let others = y.referrals.iter().filter(|r| r.priority != Priority::Green);
    assert!(others.clone().all(|r| r.green_centre.is_none() && r.stamps.is_empty()));
}

#[test]
fn timers_are_kept() {
    let y = year(small());
    let s = Settings::default();
    let now = now(&y.cfg);
    for r in &y.referrals {
        let at = |t: Transition| r.events.iter().find(|e| e.transition == t).map(|e| e.at);
        let sla_start = r
            .events
            .iter()
            .rev()
            .find(|e| matches!(e.transition, Transition::Submit | Transition::Redirect))
            .map(|e| e.at);
        if let (Some(start), Some(accepted)) = (sla_start, at(Transition::Accept)) {
            let limit = match r.priority {
                Priority::Routine => TimeDelta::hours(30),
                _ => TimeDelta::hours(3),
            };
            assert!(accepted - start <= limit, "{}: answered after {}", r.slip_no, accepted - start);
        }
        if let Some(arrived) = at(Transition::Arrive) {
            let slot = r.events.iter().rev().find_map(|e| e.slot_at);
            let due = match (slot, at(Transition::Accept).or(at(Transition::Submit))) {
                (Some(slot), _) => slot + s.no_show_after(r.priority),
                (None, Some(accepted)) => accepted + s.expire_after(r.priority),
                (None, None) => panic!("{}: arrived without acceptance", r.slip_no),
            };
            assert!(arrived <= due, "{}: arrived {arrived}, due {due}", r.slip_no);
        }
        // The follow-up of an accepted down-referral.
        let accepted = at(Transition::Accept).is_some();
        let cancelled = r.final_state() == State::Cancelled;
        match (&r.downward, &r.follow_up) {
            (Some(d), Some(f)) => {
                assert!(accepted && !cancelled, "{}", r.slip_no);
                assert_eq!(f.due_on, s.follow_up_due(d.discharged_on, d.high_risk));
                assert!(f.done_at.is_none_or(|t| t <= now));
            }
            (Some(_), None) => assert!(!accepted || cancelled, "{}: no follow-up", r.slip_no),
            (None, f) => assert!(f.is_none()),
        }
    }
}

/// Proportions at the demo scale (550 referrals).
#[test]
fn demo_county_referral_year() {
    let y = year(SynthConfig::demo());
    let rs = &y.referrals;
    let ups: Vec<&SynthReferral> = rs.iter().filter(|r| r.direction == Direction::Upward).collect();
    let green = ups.iter().filter(|r| r.priority == Priority::Green).count();
    let urgent = ups.iter().filter(|r| r.priority == Priority::Urgent).count();
    assert!((8..=22).contains(&green), "{green} green of {}", ups.len());
    assert!((40..=75).contains(&urgent), "{urgent} urgent of {}", ups.len());
    let rejected = rs.iter().filter(|r| r.final_state() == State::Rejected).count();
    let share = rejected as f64 / rs.len() as f64;
    assert!((0.04..=0.09).contains(&share), "{share} rejected");
    let out = rs.iter().filter(|r| r.external_institution.is_some()).count();
    assert!((3..=15).contains(&out), "{out} sent out");
    let lateral = rs.iter().filter(|r| r.lateral).count();
    assert!(lateral > 0);
    // Every way of closing, and live referrals in every state at the end of the year.
    let closes: HashSet<Option<NoDownReason>> = rs
        .iter()
        .flat_map(|r| &r.events)
        .filter(|e| e.transition == Transition::Close)
        .map(|e| e.no_down_reason)
        .collect();
    for reason in NoDownReason::ALL {
        assert!(closes.contains(&Some(*reason)), "no close with {reason}");
    }
    let states: HashSet<State> = rs.iter().map(SynthReferral::final_state).collect();
    for s in State::ALL.iter().filter(|s| **s != State::Draft) {
        assert!(states.contains(s), "no referral {s} at the end of the year");
    }
    let now = now(&y.cfg);
    let s = Settings::default();
    let overdue = rs
        .iter()
        .filter(|r| r.final_state() == State::Submitted)
        .filter(|r| r.events.last().is_some_and(|e| e.at + s.respond_within(r.priority) <= now))
        .count();
    assert!(overdue > 0);
    // Follow-ups: most done before they are due.
    let follow: Vec<_> = rs.iter().filter_map(|r| r.follow_up.as_ref()).collect();
    let on_time = follow
        .iter()
        .filter(|f| f.done_at.is_some_and(|d| (d + TimeDelta::hours(8)).date_naive() <= f.due_on))
        .count();
    assert!(on_time * 2 > follow.len(), "{on_time} of {} on time", follow.len());
    let high_risk = rs.iter().filter_map(|r| r.downward.as_ref()).filter(|d| d.high_risk).count();
    let downs = rs.iter().filter(|r| r.direction == Direction::Downward).count();
    let share = high_risk as f64 / downs as f64;
    assert!((0.1..=0.35).contains(&share), "{share} high-risk");
    // Certificates on most upward admissions.
    let admitted: Vec<&&SynthReferral> = ups
        .iter()
        .filter(|r| {
            r.events.iter().any(|e| e.outcome == Some(yigong_domain::referral::Outcome::AdmittedDischarged))
        })
        .collect();
    let certified = admitted.iter().filter(|r| r.certificate.is_some()).count();
    assert!(certified * 10 >= admitted.len() * 7, "{certified} of {}", admitted.len());
    // Submissions by day: weekdays busier than weekends, daytime busier than the night.
    let hours: Vec<u32> =
        rs.iter().map(|r| chrono::Timelike::hour(&(r.events[0].at + TimeDelta::hours(8)))).collect();
    let day = hours.iter().filter(|h| (8..18).contains(*h)).count();
    assert!(day * 10 >= hours.len() * 7, "{day} of {} in the daytime", hours.len());
}

/// Chest-pain and stroke metrics at ten times the demo scale (about 300 green episodes).
#[test]
#[ignore = "a county of 400 000: run with --ignored"]
fn county_of_400_000() {
    let cfg = SynthConfig { residents: 400_000, ..SynthConfig::demo() };
    let org = organisation(&cfg);
    let rs = referrals(&cfg, &org);
    assert!(rs.len().abs_diff(11_000) <= 1_100, "{}", rs.len());
    let greens: Vec<&SynthReferral> = rs.iter().filter(|r| r.priority == Priority::Green).collect();
    assert!((240..=360).contains(&greens.len()), "{} green", greens.len());
    let mut fmc_ecg = (0, 0);
    let mut d2b = (0, 0);
    for r in &greens {
        let stamps: BTreeMap<Milestone, DateTime<Utc>> = r.stamps.iter().map(|s| (s.0, s.1)).collect();
        for v in green::case_metrics(r.green_centre.expect("centre"), &stamps) {
            let counter = match v.metric.code {
                "fmc_to_ecg" => &mut fmc_ecg,
                "door_to_balloon" => &mut d2b,
                _ => continue,
            };
            if let Some(ok) = v.compliant {
                counter.0 += usize::from(ok);
                counter.1 += 1;
            }
        }
    }
    for (name, (ok, n)) in [("fmc_to_ecg", fmc_ecg), ("door_to_balloon", d2b)] {
        let share = ok as f64 / n as f64;
        assert!((0.65..=0.9).contains(&share), "{name}: {ok} of {n}");
    }
}
