//! The reading year: volumes and mixes of DESIGN.md §10, every trail a legal walk through
//! `decide`, due times from `sla`, reports the templates accept with the HR rule, specimen
//! chains, critical values, recognition decisions, live items at the start of `cfg.today`, and
//! determinism.

use std::collections::{BTreeMap, HashMap};
use std::sync::OnceLock;

use chrono::{DateTime, NaiveTime, TimeDelta, TimeZone, Utc};
use yigong_domain::reading::report::validate;
use yigong_domain::reading::{
    CriticalState, ExamKind, Facts, Given, ItemState, ItemTransition, LEASE, Party, SpecimenStep, Urgency,
    decide, sla, specimen,
};

use super::{ReadingYear, SynthExam, catalogue, volume};
use crate::{Organisation, SynthConfig, organisation, reading, registrations};

/// A county of 4 000 residents: 600 items.
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
    year: ReadingYear,
    /// The person (health-record number) of each registration.
    person: HashMap<(String, String), String>,
}

fn year() -> &'static Year {
    static YEAR: OnceLock<Year> = OnceLock::new();
    YEAR.get_or_init(|| {
        let cfg = small();
        let org = organisation(&cfg);
        let year = reading(&cfg, &org);
        let mut person = HashMap::new();
        for v in registrations(&cfg, &org) {
            for (r, t) in v.registrations.into_iter().zip(v.truth) {
                person.insert((r.source, r.local_id), t.person);
            }
        }
        Year { cfg, org, year, person }
    })
}

fn exams(y: &Year) -> impl Iterator<Item = &SynthExam> {
    y.year.entries.iter().filter_map(|e| e.exam.as_ref())
}

#[test]
fn volumes_and_mixes_are_those_of_the_design() {
    let y = year();
    let planned = volume(y.cfg.residents);
    assert_eq!(planned, 600);
    let all: Vec<&SynthExam> = exams(y).collect();
    assert!(all.len() * 100 >= planned * 95 && all.len() * 100 <= planned * 110, "{} items", all.len());
    let share =
        |f: &dyn Fn(&SynthExam) -> bool| all.iter().filter(|x| f(x)).count() as f64 / all.len() as f64;
    for (kind, expect) in [
        (ExamKind::Ecg, 0.30),
        (ExamKind::Dr, 0.25),
        (ExamKind::Ultrasound, 0.20),
        (ExamKind::Ct, 0.10),
        (ExamKind::Lab, 0.12),
        (ExamKind::Mr, 0.02),
        (ExamKind::Pathology, 0.01),
    ] {
        let got = share(&|x| x.kind() == kind);
        assert!((got - expect).abs() < 0.03, "{kind}: {got:.3}");
    }
    let urgent = share(&|x| matches!(x.urgency, Urgency::Emergency | Urgency::Green));
    assert!((0.01..0.08).contains(&urgent), "emergency and green {urgent:.3}");
    assert!(share(&|x| x.urgency == Urgency::Outpatient) > 0.5);
    assert!(share(&|x| x.urgency == Urgency::PhysicalExam) > 0.05);
    assert!(all.iter().any(|x| x.urgency == Urgency::Green));
    let cancelled = share(&|x| x.state == ItemState::Cancelled);
    let rejected = share(&|x| x.state == ItemState::RejectedQuality);
    assert!((0.005..0.02).contains(&cancelled), "cancelled {cancelled:.4}");
    assert!((0.002..0.012).contains(&rejected), "rejected {rejected:.4}");
    assert!(all.iter().any(|x| x.reports.iter().any(|r| r.status == "amended")));
    // Inpatient items only at township and community centres; village clinics order ECGs and
    // blood samples only.
    let tier = |x: &SynthExam| {
        y.org
            .institutions
            .iter()
            .find(|i| i.id == x.ordering_institution)
            .and_then(|i| i.kind.tier())
            .expect("a member")
    };
    use yigong_domain::facility::Tier;
    for x in &all {
        let t = tier(x);
        assert!(
            matches!(
                t,
                Tier::TownshipCentre | Tier::CommunityCentre | Tier::VillageClinic | Tier::CommunityStation
            ),
            "{t:?}"
        );
        if matches!(t, Tier::VillageClinic | Tier::CommunityStation) {
            assert!(matches!(x.kind(), ExamKind::Ecg | ExamKind::Lab), "{} at a village", x.item_code);
            assert_ne!(x.urgency, Urgency::Inpatient);
        }
    }
    assert!(all.iter().any(|x| tier(x) == Tier::VillageClinic));
}

#[test]
fn live_items_wait_in_every_open_state_at_the_start_of_today() {
    let y = year();
    let now = now(&y.cfg);
    for state in [
        ItemState::Ordered,
        ItemState::Acquired,
        ItemState::Queued,
        ItemState::Claimed,
        ItemState::Preliminary,
    ] {
        let live: Vec<&SynthExam> = exams(y).filter(|x| x.state == state).collect();
        assert!(!live.is_empty(), "no item {state}");
        for x in live {
            // A queued biopsy may wait days; anything else moved within the last day or so.
            let recent =
                if x.kind() == ExamKind::Pathology { TimeDelta::days(8) } else { TimeDelta::days(2) };
            assert!(now - x.updated_at < recent, "{state} item last moved {}", x.updated_at);
        }
    }
    for x in exams(y).filter(|x| x.state == ItemState::Claimed) {
        assert!(x.lease_until.expect("claimed items hold a lease") > now, "{}", x.accession_no);
    }
    assert!(
        exams(y).any(|x| x.state == ItemState::Queued && x.due_at.is_some_and(|d| d <= now)),
        "some queued items are overdue"
    );
    let imaged: Vec<&SynthExam> = exams(y).filter(|x| x.images.is_some()).collect();
    assert_eq!(imaged.len(), 5);
    for x in imaged {
        assert_eq!(x.kind(), ExamKind::Ct);
        assert!(matches!(x.state, ItemState::Queued | ItemState::Claimed), "{}", x.state);
    }
}

/// Replays the trail through `decide`; checks the columns derived from it.
fn replay(x: &SynthExam) {
    let first = &x.events[0];
    assert_eq!((first.transition, first.to, first.party), (None, ItemState::Ordered, Party::OrderingSite));
    let mut facts =
        Facts { state: ItemState::Ordered, kind: x.kind(), urgency: x.urgency, lease_until: None };
    let mut last = first.at;
    let mut version = 1;
    for e in &x.events[1..] {
        let t = e.transition.expect("only the first event has no transition");
        assert!(e.at >= last, "{}: {t} goes back in time", x.accession_no);
        last = e.at;
        assert_eq!(e.from, facts.state, "{}: {t}", x.accession_no);
        let given = Given {
            reason: e.reason.is_some(),
            reader: false,
            report: matches!(
                t,
                ItemTransition::ReportPreliminary | ItemTransition::Finalise | ItemTransition::Amend
            ),
        };
        assert_eq!(
            decide(&facts, t, e.party, given, e.at),
            Ok(e.to),
            "{}: {t} by {}",
            x.accession_no,
            e.party
        );
        facts.state = e.to;
        if t == ItemTransition::Claim {
            assert_eq!(e.lease_until, Some(e.at + LEASE));
            facts.lease_until = e.lease_until;
        }
        if matches!(t, ItemTransition::ReportPreliminary | ItemTransition::Finalise | ItemTransition::Amend) {
            let v = e.report_version.expect("a report transition names its version");
            let r = &x.reports[(v - 1) as usize];
            assert_eq!(r.signed_at, e.at);
        }
        version += 1;
    }
    assert_eq!(x.state, facts.state);
    assert_eq!(x.version, version + x.specimen.len() as i32);
    assert_eq!(x.created_at, first.at);
    assert_eq!(x.updated_at, last);
}

#[test]
fn every_trail_is_a_legal_walk() {
    let y = year();
    let now = now(&y.cfg);
    for x in exams(y) {
        replay(x);
        assert!(x.events.iter().all(|e| e.at <= now), "{} goes past now", x.accession_no);
        assert!(x.created_at >= now - TimeDelta::days(380), "{} before the year", x.accession_no);
    }
}

#[test]
fn due_times_are_receipt_plus_the_limit_and_most_reports_are_on_time() {
    let y = year();
    let (mut reported, mut on_time) = (0, 0);
    for x in exams(y) {
        match x.received_at {
            Some(r) => assert_eq!(
                x.due_at,
                Some(r + sla(x.kind(), x.urgency, x.head, x.complex)),
                "{}",
                x.accession_no
            ),
            None => assert_eq!(x.due_at, None),
        }
        let counted =
            if x.urgency.due_at_preliminary() { x.preliminary_at.or(x.final_at) } else { x.final_at };
        if let (Some(c), Some(due)) = (counted, x.due_at) {
            reported += 1;
            on_time += usize::from(c <= due);
        }
    }
    let share = on_time as f64 / reported as f64;
    assert!((0.85..0.95).contains(&share), "{share:.3} on time");
}

#[test]
fn reports_follow_the_templates_and_the_hr_rule() {
    let y = year();
    let expired = catalogue::EXPIRED_QC;
    let hospital =
        y.org.institutions.iter().find(|i| i.name.contains("人民医院")).expect("the people's hospital");
    let until: HashMap<&str, _> = y
        .year
        .qc
        .iter()
        .filter(|q| q.producer == hospital.id && q.passed)
        .map(|q| (q.code, q.valid_until))
        .collect();
    assert!(until[expired] < y.cfg.today, "{expired}'s QC has run out");
    assert!(until.iter().filter(|(c, _)| **c != expired).all(|(_, d)| *d > y.cfg.today));
    let mut marked = 0;
    for x in exams(y) {
        for (k, r) in x.reports.iter().enumerate() {
            assert_eq!(r.version, k as i32 + 1);
            validate(x.kind(), &r.draft).unwrap_or_else(|e| panic!("{} v{}: {e}", x.item_code, r.version));
            let expect = x.item().recognition.is_some()
                && until.get(x.item_code).is_some_and(|u| r.signed_at.date_naive() <= *u);
            assert_eq!(r.hr, expect, "{} signed {}", x.item_code, r.signed_at);
            marked += usize::from(r.hr);
            assert_eq!(r.status == "amended", r.reason.is_some());
        }
        assert_eq!(x.hr, x.reports.last().is_some_and(|r| r.hr));
        if x.kind() == ExamKind::Ecg
            && let Some(r) = x.reports.last()
        {
            assert!(r.draft.fields.contains_key("rhythm") && r.draft.fields.contains_key("heart_rate"));
        }
    }
    assert!(marked > 100, "{marked} HR reports");
    assert!(
        exams(y).any(|x| x.item_code == expired && x.reports.iter().any(|r| !r.hr)),
        "HR stops with the QC"
    );
}

#[test]
fn specimen_chains_follow_the_chain_and_move_the_item() {
    let y = year();
    let mut labs = 0;
    for x in exams(y) {
        if x.kind() != ExamKind::Lab {
            assert!(x.specimen.is_empty());
            continue;
        }
        labs += 1;
        let mut current = None;
        for s in &x.specimen {
            specimen::check(current, s.step, s.reason).unwrap_or_else(|e| panic!("{}: {e}", x.accession_no));
            let at = |t: ItemTransition| x.events.iter().find(|e| e.transition == Some(t)).map(|e| e.at);
            match s.step {
                SpecimenStep::Collected => assert_eq!(at(ItemTransition::Acquire), Some(s.at)),
                SpecimenStep::Received | SpecimenStep::Rejected => {
                    assert_eq!(at(ItemTransition::Receive), Some(s.at))
                }
                SpecimenStep::Released => assert_eq!(x.final_at, Some(s.at)),
                SpecimenStep::InTransit => assert!(s.temperature.is_some()),
                _ => {}
            }
            current = Some(s.step);
        }
        if x.state == ItemState::Delivered {
            assert_eq!(x.specimen_step, Some(SpecimenStep::Released));
        }
    }
    assert!(labs > 40);
}

#[test]
fn critical_values_are_acknowledged_at_the_ordering_site_in_time() {
    let y = year();
    let now = now(&y.cfg);
    let reported = exams(y).filter(|x| x.final_at.is_some()).count();
    let critical: Vec<&SynthExam> = exams(y).filter(|x| x.critical.is_some()).collect();
    let share = critical.len() as f64 / reported as f64;
    assert!((0.004..0.012).contains(&share), "{share:.4} critical");
    let mut open = 0;
    for x in &critical {
        let c = x.critical.as_ref().expect("critical");
        let flagged = x.reports.iter().find(|r| r.draft.critical).expect("a report flags it");
        assert_eq!(c.identified_at, flagged.signed_at);
        assert_eq!(Some(&c.finding), flagged.draft.critical_text.as_ref());
        assert_eq!(c.notified_at, Some(c.identified_at));
        let due = c.identified_at + TimeDelta::minutes(15);
        match c.acknowledged_at {
            Some(a) if a > due => {
                let e = c.escalated_at.expect("late acknowledgement escalates");
                assert!(e >= due && e < due + TimeDelta::minutes(1));
            }
            Some(_) => assert_eq!(c.escalated_at, None),
            None => assert_eq!(c.escalated_at.is_some(), due <= now),
        }
        if c.state == CriticalState::Closed {
            let (a, d, cl) = (c.acknowledged_at.unwrap(), c.disposed_at.unwrap(), c.closed_at.unwrap());
            assert!(c.identified_at < a && a < d && d <= cl && cl <= now);
            assert!(c.read_back.is_some() && c.acknowledged_name.is_some() && c.disposition.is_some());
            assert_eq!(c.version, 4 + i32::from(c.escalated_at.is_some()));
        } else {
            open += 1;
            assert!(now - c.identified_at < TimeDelta::hours(1));
            assert!(matches!(c.state, CriticalState::Notified | CriticalState::Acknowledged));
        }
    }
    assert!(open >= 1, "some critical values are still open");
    let closed: Vec<_> = critical
        .iter()
        .filter_map(|x| x.critical.as_ref())
        .filter(|c| c.state == CriticalState::Closed)
        .collect();
    let on_time = closed
        .iter()
        .filter(|c| c.acknowledged_at.is_some_and(|a| a - c.identified_at <= TimeDelta::minutes(15)));
    if closed.len() >= 10 {
        assert!(on_time.count() * 10 >= closed.len() * 7, "most are acknowledged within 15 minutes");
    }
}

/// One item of a person: (ordered at, code, reported at, HR).
type Held<'y> = (DateTime<Utc>, &'y str, Option<DateTime<Utc>>, bool);

#[test]
fn recognition_decisions_follow_the_prompt_rule() {
    let y = year();
    let mut by_id: HashMap<uuid::Uuid, &SynthExam> = HashMap::new();
    // Each person's items in time order: (ordered at, code, reported at with HR).
    let mut lives: BTreeMap<String, Vec<Held>> = BTreeMap::new();
    let (mut recognised, mut repeated) = (0, 0);
    for entry in &y.year.entries {
        if let Some(d) = &entry.decision {
            let prior = by_id.get(&d.prior_order).expect("the prior is an earlier item");
            assert_eq!(prior.item_code, d.code);
            let (_, days, _) = prior.item().recognition.expect("recognisable");
            let reported = prior.final_at.expect("the prior is reported");
            assert!(prior.hr && reported <= d.decided_at && d.decided_at - reported <= TimeDelta::days(days));
            assert_eq!(
                y.person[&(prior.patient_source.clone(), prior.patient_local_id.clone())],
                y.person[&(d.patient_source.clone(), d.patient_local_id.clone())],
                "same person"
            );
            assert_eq!(d.recognised, entry.exam.is_none());
            assert_eq!(d.new_order, entry.exam.as_ref().map(|x| x.id));
            match &entry.exam {
                None => recognised += 1,
                Some(x) => {
                    repeated += 1;
                    assert_eq!(x.item_code, d.code);
                    assert_eq!(x.created_at, d.decided_at);
                    let ground = d.ground.expect("a repeat has a ground");
                    assert!(ground.is_national());
                    assert_eq!(
                        d.ground_text.is_some(),
                        ground == yigong_domain::reading::RetestGround::Other
                    );
                }
            }
        }
        if let Some(x) = &entry.exam {
            by_id.insert(x.id, x);
            let person = y.person[&(x.patient_source.clone(), x.patient_local_id.clone())].clone();
            let window = x.item().recognition.map(|r| TimeDelta::days(r.1));
            if let Some(window) = window {
                let held = lives.get(&person).is_some_and(|l| {
                    l.iter().any(|(_, code, reported, hr)| {
                        *code == x.item_code
                            && *hr
                            && reported.is_some_and(|r| r <= x.created_at && x.created_at - r <= window)
                    })
                });
                assert_eq!(
                    held,
                    entry.decision.is_some(),
                    "{} {} needs a decision",
                    x.item_code,
                    x.accession_no
                );
            }
            lives.entry(person).or_default().push((x.created_at, x.item_code, x.final_at, x.hr));
        }
    }
    assert!(recognised > 0 && repeated > 0, "{recognised} recognised, {repeated} repeated");
    assert!(recognised > repeated, "{recognised} recognised, {repeated} repeated");
}

#[test]
fn entries_are_in_time_order_with_unique_keys_and_accession_numbers() {
    let y = year();
    let at = |e: &super::SynthReading| {
        e.exam.as_ref().map_or_else(|| e.decision.as_ref().unwrap().decided_at, |x| x.created_at)
    };
    assert!(y.year.entries.windows(2).all(|w| at(&w[0]) <= at(&w[1])));
    let mut ids = std::collections::HashSet::new();
    let mut accessions = std::collections::HashSet::new();
    for x in exams(y) {
        assert!(ids.insert(x.id));
        assert!(accessions.insert(x.accession_no.clone()));
        assert_eq!(x.accession_no.len(), 18);
        assert!(x.accession_no.starts_with("JC"));
        assert!(x.accession_no.ends_with(&x.id.simple().to_string()[24..].to_uppercase()));
        assert!(y.person.contains_key(&(x.patient_source.clone(), x.patient_local_id.clone())));
    }
}

#[test]
fn the_same_seed_gives_the_same_year() {
    let cfg = SynthConfig { residents: 1_500, ..SynthConfig::demo() };
    let org = organisation(&cfg);
    let a = reading(&cfg, &org);
    assert_eq!(a, reading(&cfg, &org));
    let other = SynthConfig { seed: 7, ..cfg };
    assert_ne!(a, reading(&other, &organisation(&other)));
}
