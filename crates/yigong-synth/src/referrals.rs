//! One year of two-way referrals (双向转诊, DESIGN.md §6.1, §7.3, §10.1): about 11 000 a year
//! for 400 000 residents (30 a day), 51% upward, 5% of the upward ones through a green channel
//! (about 300 episodes with their time stamps), every terminal state, and live ones near
//! `cfg.today` so that worklists have something in them.
//!
//! The year is planned first: how many referrals of each fate (closed as a loop, closed with a
//! no-down reason, rejected, cancelled, expired, no-show, sent out, live in each state), split so
//! that the counts add up exactly and each fate appears even in a county of a few thousand. Each plan is a
//! *case* of one patient: an upward referral with the downward one that answers it, a green one
//! superseding a routine one, or a stand-alone downward referral. Cases are handed to residents
//! village by village (older residents more often), each life is drawn from its submission on,
//! then moved by whole days so that it ends before `cfg.today` (or, for live cases, so that it
//! is in its planned state at the start of `cfg.today`) and cut there. Slip numbers, keys and
//! certificate numbers are given last, in time order.
//!
//! All times are drawn in China time (UTC+8) and stored in UTC; "now" is the start of
//! `cfg.today`, China time, as the clinical year ends there. Down-referrals go back to township
//! (or community) centres, not village clinics: those have no departments, and accepting a
//! referral assigns one.

use std::collections::HashMap;

use chrono::{
    DateTime, Datelike, NaiveDate, NaiveDateTime, NaiveTime, TimeDelta, TimeZone, Timelike, Utc, Weekday,
};
use rand::Rng;
use rand::seq::SliceRandom;
use uuid::Uuid;
use yigong_domain::facility::{DepartmentKind, InstitutionKind, Tier};
use yigong_domain::identity::{DivisionCode, Sex};
use yigong_domain::ids::{DepartmentId, InstitutionId, StaffId};
use yigong_domain::population::HealthRecord;
use yigong_domain::referral::green::{Centre, Milestone, StampSource};
use yigong_domain::referral::{
    CancelReason, CertificateClass, Direction, DownReason, DownwardDetails, NoDownReason, Outcome, Party,
    Priority, RejectReason, Settings, SlipTest, State, Transition, UpReason,
};
use yigong_domain::staffing::StaffCategory;

use crate::registrations::Registration;
use crate::rng::{self, IdGen, SynthRng, Weighted, apportion, pick_weighted};
use crate::{Organisation, SynthConfig};

// ---------------------------------------------------------------------------------------------
// Public types
// ---------------------------------------------------------------------------------------------

/// One referral of the synthetic year with its whole life: the slip as submitted, every
/// transition from submission on, the green channel's time stamps and the down-referral's
/// follow-up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SynthReferral {
    /// Key (UUIDv7 stamped with `created_at`).
    pub id: Uuid,
    /// Slip number: `ZZ`, the day of submission (China time) and a four-digit sequence of that
    /// day (`ZZ202603140007`); unique.
    pub slip_no: String,
    /// When the draft was started, a few minutes before the first event.
    pub created_at: DateTime<Utc>,
    /// Upward or downward.
    pub direction: Direction,
    /// Routine, urgent or green (downward ones are routine or urgent).
    pub priority: Priority,
    /// County-to-county (upward only).
    pub lateral: bool,
    /// Source code (`mpi` source, the registering facility) of the patient's registration at the
    /// sending institution, or of their first registration when they have none there.
    pub patient_source: String,
    /// That registration's local patient id.
    pub patient_local_id: String,
    /// Sending institution.
    pub from_institution: InstitutionId,
    /// Sending department (`None` at village clinics, which have none).
    pub from_department: Option<DepartmentId>,
    /// The sending clinician, posted at the sending institution that day.
    pub from_staff: Option<StaffId>,
    /// Receiving institution; `None` only out of network.
    pub to_institution: Option<InstitutionId>,
    /// The department named on the slip as submitted (`None`: the sender named the institution
    /// only); a redirection or the acceptance carries the department that took the patient.
    pub to_department: Option<DepartmentId>,
    /// The institution outside the network (`sent_out` referrals).
    pub external_institution: Option<String>,
    /// An [`UpReason`] or [`DownReason`] identifier, by direction.
    pub reason: String,
    /// Free text beside the reason; always present when the reason is `other`.
    pub reason_text: Option<String>,
    /// 主诉
    pub chief_complaint: Option<String>,
    /// 病情描述
    pub condition: String,
    /// Diagnoses (ICD-10 national clinical edition 2.0 code, name), primary first.
    pub diagnoses: Vec<(String, String)>,
    /// Tests done before referral, with results.
    pub tests: Vec<SlipTest>,
    /// 已行治疗
    pub treatment: Option<String>,
    /// 注意事项
    pub precautions: Option<String>,
    /// The green-channel centre (green referrals).
    pub green_centre: Option<Centre>,
    /// What a downward referral carries back (downward referrals).
    pub downward: Option<DownwardDetails>,
    /// Insurance referral certificate: class, day issued, number (most upward admissions).
    pub certificate: Option<(CertificateClass, NaiveDate, String)>,
    /// The upward referral a downward one answers (created at its completion).
    pub parent: Option<Uuid>,
    /// Every transition from `submit` (or `send_out`) on, in time order; the draft before them
    /// is implicit.
    pub events: Vec<SynthEvent>,
    /// The green channel's time stamps, in the order of the centre's chain (some missing).
    pub stamps: Vec<(Milestone, DateTime<Utc>, StampSource)>,
    /// The follow-up task of a downward referral accepted (and not cancelled).
    pub follow_up: Option<SynthFollowUp>,
}

/// One transition of a referral with what it records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SynthEvent {
    /// What happened.
    pub transition: Transition,
    /// Who did it.
    pub party: Party,
    /// When.
    pub at: DateTime<Utc>,
    /// The reason code: a [`RejectReason`] (reject), [`CancelReason`] (cancel) or
    /// [`NoDownReason`] (close by a referral centre).
    pub reason: Option<String>,
    /// Free text.
    pub note: Option<String>,
    /// The department assigned (accept) or the new target (redirect).
    pub department: Option<DepartmentId>,
    /// The slot booked (schedule, reschedule).
    pub slot_at: Option<DateTime<Utc>>,
    /// How care ended (complete).
    pub outcome: Option<Outcome>,
    /// Why nothing comes back down (close by a referral centre).
    pub no_down_reason: Option<NoDownReason>,
    /// Closed by the system under the loop rule (a linked down-referral accepted, its follow-up
    /// done).
    pub closed_by_rule: bool,
}

/// The follow-up of a patient referred down (DESIGN.md §6.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SynthFollowUp {
    /// Due day: discharge plus 7 days, 3 for high-risk patients.
    pub due_on: NaiveDate,
    /// When it was done; `None` while open (overdue once `due_on` has passed).
    pub done_at: Option<DateTime<Utc>>,
    /// What the family doctor wrote.
    pub note: Option<String>,
}

impl SynthReferral {
    /// The state the events lead to from `draft`.
    pub fn final_state(&self) -> State {
        self.events.iter().fold(State::Draft, |s, e| after(s, e.transition, self.priority))
    }
}

/// The state after `transition` from `state` (what [`yigong_domain::referral::decide`] allows).
fn after(state: State, transition: Transition, priority: Priority) -> State {
    use Transition as T;
    match transition {
        T::Submit if priority == Priority::Green => State::Accepted,
        T::Submit => State::Submitted,
        T::Accept => State::Accepted,
        T::Reject => State::Rejected,
        T::Redirect | T::Reschedule => state,
        T::Schedule => State::Scheduled,
        T::Arrive => State::Arrived,
        T::StartCare => State::InCare,
        T::Complete => State::Completed,
        T::Close => State::Closed,
        T::Cancel => State::Cancelled,
        T::Expire => State::Expired,
        T::MarkNoShow => State::NoShow,
        T::SendOut => State::SentOut,
    }
}

/// Generates the referral year of `cfg`'s county, in order of creation.
pub fn referrals(cfg: &SynthConfig, org: &Organisation) -> Vec<SynthReferral> {
    let net = Net::new(org, cfg.today);
    let mut year = Gen::new(cfg, &net);
    let cases = plan(&mut year.rng, volume(cfg.residents));
    let villages: Vec<&str> =
        org.divisions.iter().filter(|d| d.level == "village").map(|d| d.code.as_str()).collect();
    let populations: Vec<u32> = org
        .divisions
        .iter()
        .filter(|d| d.level == "village")
        .map(|d| u32::try_from(d.population.unwrap_or(0).max(0)).unwrap_or(u32::MAX))
        .collect();
    let quotas = apportion(u32::try_from(cases.len()).expect("a year of cases"), &populations);
    let quota: HashMap<&str, u32> = villages.iter().copied().zip(quotas).collect();
    let mut next = 0;
    for (residents, registered) in crate::residents(cfg, org).zip(crate::registrations(cfg, org)) {
        debug_assert_eq!(residents.village_code, registered.village_code);
        let k = quota.get(residents.village_code.as_str()).copied().unwrap_or(0) as usize;
        if k == 0 {
            continue;
        }
        let Some(place) = net.places.get(&residents.village_code) else { continue };
        // Each resident's registrations: the first, then any duplicates.
        let mut spans = Vec::with_capacity(residents.records.len());
        let mut at = 0;
        for record in &residents.records {
            let first = at;
            while at < registered.truth.len() && registered.truth[at].person == record.record_no {
                at += 1;
            }
            spans.push(first..at);
        }
        let picked = year.pick_residents(&residents.records, k);
        for i in picked {
            if next >= cases.len() {
                break;
            }
            let record = &residents.records[i];
            let registrations = &registered.registrations[spans[i].clone()];
            if registrations.is_empty() {
                continue;
            }
            let patient = Patient::new(record, registrations, place, cfg.today);
            year.case(cases[next], &patient);
            next += 1;
        }
    }
    year.finish()
}

/// Referrals a year for `residents` residents: 11 000 for 400 000 (DESIGN.md §10).
fn volume(residents: u32) -> usize {
    ((u64::from(residents) * 11_000 + 200_000) / 400_000) as usize
}

/// The stream of the referral year: `REFERRAL` in ASCII, far from the numbered streams and the
/// per-village ranges of `rng::stream`.
const STREAM: u64 = 0x5245_4645_5252_414C;

// ---------------------------------------------------------------------------------------------
// The plan: fates, priorities, cases
// ---------------------------------------------------------------------------------------------

/// How an upward referral ends (or where it stands at the end of the year).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum UpFate {
    /// Admitted and discharged, referred back down, followed up: both closed by the loop rule.
    Loop,
    /// Referred back down, but the follow-up never happened: closed as lost to follow-up.
    LoopLost,
    /// Completed and closed by a referral centre with this reason.
    NoDown(NoDownReason),
    Rejected,
    Cancelled,
    Expired,
    NoShow,
    SentOut,
    /// Live at the end of the year, in this state.
    Live(State),
    /// Submitted and still unanswered past its response SLA.
    Overdue,
}

/// How a stand-alone downward referral ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DownFate {
    /// Completed, followed up, closed by the rule.
    Loop,
    /// Completed, never followed up: closed by the township as lost to follow-up.
    Lost,
    Rejected,
    Cancelled,
    Expired,
    NoShow,
    Live(State),
    Overdue,
}

/// One patient's story.
#[derive(Debug, Clone, Copy)]
enum Case {
    Up {
        fate: UpFate,
        priority: Priority,
        lateral: bool,
        /// A routine or urgent referral of the same patient, live when the green one is
        /// submitted, is cancelled as `superseded_by_green`.
        supersedes: bool,
    },
    Down {
        fate: DownFate,
        priority: Priority,
    },
}

/// Upward fates per 10 000 upward referrals. The first is the pool the minimums are taken from;
/// the others marked `true` appear at least once when the pool allows.
const UP_FATES: &[(UpFate, u32, bool)] = &[
    (UpFate::Loop, 5_575, false),
    (UpFate::Rejected, 700, true),
    (UpFate::Cancelled, 300, true),
    (UpFate::Expired, 150, true),
    (UpFate::NoShow, 150, true),
    (UpFate::SentOut, 260, true),
    (UpFate::NoDown(NoDownReason::OutpatientOpinionReturned), 1_100, true),
    (UpFate::NoDown(NoDownReason::ContinuingCareAtReceiver), 450, true),
    (UpFate::NoDown(NoDownReason::LostToFollowUp), 300, true),
    (UpFate::NoDown(NoDownReason::TransferredOutOfCounty), 200, true),
    (UpFate::NoDown(NoDownReason::Died), 120, true),
    (UpFate::LoopLost, 200, false),
    (UpFate::Live(State::InCare), 120, true),
    (UpFate::Live(State::Completed), 200, true),
    (UpFate::Overdue, 25, true),
    (UpFate::Live(State::Submitted), 45, true),
    (UpFate::Live(State::Accepted), 40, true),
    (UpFate::Live(State::Scheduled), 50, true),
    (UpFate::Live(State::Arrived), 15, true),
];

/// Stand-alone downward fates per 1 000.
const DOWN_FATES: &[(DownFate, u32, bool)] = &[
    (DownFate::Loop, 695, false),
    (DownFate::Rejected, 100, true),
    (DownFate::Cancelled, 40, true),
    (DownFate::Expired, 30, true),
    (DownFate::NoShow, 30, true),
    (DownFate::Lost, 40, false),
    (DownFate::Live(State::Completed), 20, true),
    (DownFate::Live(State::InCare), 7, false),
    (DownFate::Live(State::Submitted), 10, true),
    (DownFate::Live(State::Accepted), 10, true),
    (DownFate::Live(State::Scheduled), 10, false),
    (DownFate::Live(State::Arrived), 3, false),
    (DownFate::Overdue, 5, false),
];

/// Splits `total` by `table`, then gives each required entry still at zero one from the pool
/// (entry 0) while the pool keeps at least 40% of the total.
fn split<F: Copy>(total: u32, table: &[(F, u32, bool)]) -> Vec<(F, u32)> {
    let weights: Vec<u32> = table.iter().map(|t| t.1).collect();
    let mut parts = apportion(total, &weights);
    for (k, t) in table.iter().enumerate().skip(1) {
        if t.2 && parts[k] == 0 && (parts[0].saturating_sub(1)) * 10 >= total * 4 && parts[0] > 1 {
            parts[k] = 1;
            parts[0] -= 1;
        }
    }
    table.iter().zip(parts).map(|(t, n)| (t.0, n)).collect()
}

/// Plans `n` referrals: fates, priorities, lateral transfers and superseded pairs, shuffled.
fn plan(rng: &mut SynthRng, n: usize) -> Vec<Case> {
    let n = u32::try_from(n).expect("a year of referrals");
    let up = (n * 51 + 50) / 100;
    let down = n - up;
    // Superseded pairs: the routine referral cancelled is one more upward referral.
    let pairs = if up >= 20 { ((up * 6 + 500) / 1_000).max(1) } else { 0 };
    let mut ups: Vec<UpFate> = Vec::new();
    for (fate, count) in split(up - pairs, UP_FATES) {
        ups.extend(std::iter::repeat_n(fate, count as usize));
    }
    ups.shuffle(rng);
    let mut cases: Vec<Case> = ups
        .iter()
        .map(|&fate| Case::Up { fate, priority: Priority::Routine, lateral: false, supersedes: false })
        .collect();

    // Green: 5% of upward referrals, first the pairs, then any case a green channel can end in.
    let greens = if up == 0 { 0 } else { ((up * 5 + 50) / 100).max(1) };
    let green_ok = |f: UpFate| {
        matches!(
            f,
            UpFate::Loop
                | UpFate::LoopLost
                | UpFate::NoDown(_)
                | UpFate::Live(State::InCare)
                | UpFate::Live(State::Completed)
        )
    };
    let mut made = 0;
    let mut paired = 0;
    for c in &mut cases {
        if made >= greens {
            break;
        }
        if let Case::Up { fate, priority, supersedes, .. } = c
            && green_ok(*fate)
        {
            *priority = Priority::Green;
            if paired < pairs {
                *supersedes = true;
                paired += 1;
            }
            made += 1;
        }
    }
    // Urgent: a fifth of upward referrals, the live ones waiting in `arrived` first.
    let urgent = (up * 20 + 50) / 100;
    let mut made = 0;
    for c in &mut cases {
        if let Case::Up { fate: UpFate::Live(State::Arrived), priority, .. } = c {
            *priority = Priority::Urgent;
            made += 1;
        }
    }
    let mut order: Vec<usize> = (0..cases.len()).collect();
    order.shuffle(rng);
    for &k in &order {
        if made >= urgent {
            break;
        }
        if let Case::Up { priority: p @ Priority::Routine, .. } = &mut cases[k] {
            *p = Priority::Urgent;
            made += 1;
        }
    }
    // Lateral: 2% of upward referrals, never sent out.
    let lateral = (up * 2 + 50) / 100;
    let mut made = 0;
    order.shuffle(rng);
    for &k in &order {
        if made >= lateral {
            break;
        }
        if let Case::Up { fate, lateral: l, supersedes: false, .. } = &mut cases[k]
            && *fate != UpFate::SentOut
        {
            *l = true;
            made += 1;
        }
    }

    // Downward: those answering an upward referral, then stand-alone ones to make up the count.
    let children = ups
        .iter()
        .filter(|f| matches!(f, UpFate::Loop | UpFate::LoopLost | UpFate::Live(State::Completed)))
        .count() as u32;
    let alone = down.saturating_sub(children);
    for (fate, count) in split(alone, DOWN_FATES) {
        for _ in 0..count {
            let priority = if rng.random_bool(0.12) { Priority::Urgent } else { Priority::Routine };
            cases.push(Case::Down { fate, priority });
        }
    }
    cases.shuffle(rng);
    cases
}

// ---------------------------------------------------------------------------------------------
// The county as the referral year reads it
// ---------------------------------------------------------------------------------------------

struct Dept {
    id: DepartmentId,
    name: String,
    clinical: bool,
}

struct Clinician {
    id: StaffId,
    department: Option<DepartmentId>,
}

struct Member {
    id: InstitutionId,
    code: String,
    tier: Tier,
    departments: Vec<Dept>,
    clinicians: Vec<Clinician>,
}

/// Where a village's residents go: their village site, if any, and their township centre.
struct Place {
    site: Option<usize>,
    centre: usize,
}

/// 人民医院, 中医院, 妇幼保健院, as indices into [`Net::hospitals`].
const H01: usize = 0;
const H02: usize = 1;
const H03: usize = 2;

struct Net {
    members: Vec<Member>,
    places: HashMap<String, Place>,
    hospitals: [usize; 3],
}

impl Net {
    /// The county of `org`, with the clinicians posted throughout the year before `today` (so
    /// that a referral moved by whole days keeps a clinician posted on its day).
    fn new(org: &Organisation, today: NaiveDate) -> Self {
        let first = today - TimeDelta::days(365);
        let clinical_staff: HashMap<StaffId, ()> = org
            .staff
            .iter()
            .filter(|(s, _)| {
                matches!(
                    s.category,
                    StaffCategory::Physician
                        | StaffCategory::AssistantPhysician
                        | StaffCategory::VillageDoctor
                )
            })
            .map(|(s, _)| (s.id, ()))
            .collect();
        let mut members: Vec<Member> = Vec::new();
        let mut index: HashMap<InstitutionId, usize> = HashMap::new();
        let mut divisions: Vec<String> = Vec::new();
        for i in &org.institutions {
            if let InstitutionKind::Member(tier) = i.kind {
                index.insert(i.id, members.len());
                divisions.push(i.division_code.as_str().to_owned());
                members.push(Member {
                    id: i.id,
                    code: i.code.clone(),
                    tier,
                    departments: Vec::new(),
                    clinicians: Vec::new(),
                });
            }
        }
        for d in &org.departments {
            if let Some(&k) = index.get(&d.institution_id) {
                members[k].departments.push(Dept {
                    id: d.id,
                    name: d.name.clone(),
                    clinical: d.kind == DepartmentKind::Clinical,
                });
            }
        }
        for p in &org.postings {
            if let Some(&k) = index.get(&p.institution_id)
                && clinical_staff.contains_key(&p.staff_id)
                && p.active_on(first)
                && p.active_on(today)
            {
                members[k].clinicians.push(Clinician { id: p.staff_id, department: p.department_id });
            }
        }
        let find = |tiers: &[Tier], code: &str| {
            (0..members.len()).find(|&k| tiers.contains(&members[k].tier) && divisions[k] == code)
        };
        let mut places = HashMap::new();
        for d in org.divisions.iter().filter(|d| d.level == "village") {
            let Ok(code) = DivisionCode::parse(&d.code) else { continue };
            let Some(township) = code.township() else { continue };
            let site =
                find(&[Tier::VillageClinic, Tier::VillageServicePoint, Tier::CommunityStation], &d.code);
            let Some(centre) = find(&[Tier::TownshipCentre, Tier::CommunityCentre], &township) else {
                continue;
            };
            places.insert(d.code.clone(), Place { site, centre });
        }
        let tier = |t: Tier| members.iter().position(|m| m.tier == t).expect("the county hospitals exist");
        let hospitals = [tier(Tier::CountyGeneral), tier(Tier::CountyTcm), tier(Tier::CountyMch)];
        Self { members, places, hospitals }
    }

    /// The department of `member` called `name`.
    fn dept(&self, member: usize, name: &str) -> Option<DepartmentId> {
        self.members[member].departments.iter().find(|d| d.name == name).map(|d| d.id)
    }

    /// A clinical department of `member` other than `except`.
    fn other_dept(&self, rng: &mut SynthRng, member: usize, except: DepartmentId) -> Option<DepartmentId> {
        let list: Vec<DepartmentId> = self.members[member]
            .departments
            .iter()
            .filter(|d| d.clinical && d.id != except)
            .map(|d| d.id)
            .collect();
        (!list.is_empty()).then(|| list[rng.random_range(0..list.len())])
    }

    /// A clinician posted at `member`, in `dept` when one is; with their department when it is a
    /// clinical one.
    fn clinician(
        &self,
        rng: &mut SynthRng,
        member: usize,
        dept: Option<DepartmentId>,
    ) -> (Option<StaffId>, Option<DepartmentId>) {
        let m = &self.members[member];
        let clinical =
            |d: Option<DepartmentId>| d.filter(|id| m.departments.iter().any(|x| x.id == *id && x.clinical));
        let mut list: Vec<&Clinician> =
            m.clinicians.iter().filter(|c| dept.is_some() && c.department == dept).collect();
        if list.is_empty() {
            list = m.clinicians.iter().filter(|c| clinical(c.department).is_some()).collect();
        }
        if list.is_empty() {
            list = m.clinicians.iter().collect();
        }
        if list.is_empty() {
            return (None, dept);
        }
        let c = list[rng.random_range(0..list.len())];
        (Some(c.id), dept.or_else(|| clinical(c.department)))
    }

    fn has_clinicians(&self, member: usize) -> bool {
        !self.members[member].clinicians.is_empty()
    }
}

// ---------------------------------------------------------------------------------------------
// Conditions
// ---------------------------------------------------------------------------------------------

/// A condition a patient is referred for, with what both slips say about it.
struct Cond {
    /// Diagnoses, primary first.
    dx: &'static [(&'static str, &'static str)],
    /// Ages (inclusive) and sex of the patients who have it.
    ages: (u32, u32),
    sex: Option<Sex>,
    /// A newborn condition: the referral falls in the first three weeks of life.
    newborn: bool,
    /// Weight as a routine or urgent upward referral.
    up: u32,
    /// Weight as a stand-alone downward referral.
    down: u32,
    acute: bool,
    /// Percent of the patients referred up who are admitted.
    admit: u32,
    /// Days in hospital.
    stay: (i64, i64),
    /// Which county hospital takes it ([`H01`], [`H02`], [`H03`]), which department.
    to: usize,
    dept: &'static str,
    reason: UpReason,
    reason_text: Option<&'static str>,
    complaint: &'static str,
    condition: &'static str,
    tests: &'static [(&'static str, &'static str)],
    treatment: &'static str,
    precautions: &'static str,
    /// What the county did (the discharge summary's course).
    course: &'static str,
    county_tests: &'static [(&'static str, &'static str)],
    down_reason: DownReason,
    result: &'static str,
    rehab: Option<&'static str>,
    meds: Option<&'static str>,
    /// Percent of down-referrals flagged high-risk.
    high_risk: u32,
    /// Certificates for it are long-term ones (cancer).
    long_term: bool,
    centre: Option<Centre>,
    external: Option<&'static str>,
}

impl Cond {
    fn fits(&self, p: &Patient) -> bool {
        let age_ok = p.age >= self.ages.0 && p.age <= self.ages.1;
        let sex_ok = self.sex.is_none_or(|s| s == p.sex);
        let newborn_ok = !self.newborn || p.days_old >= 100;
        age_ok && sex_ok && newborn_ok
    }
}

const BASE: Cond = Cond {
    dx: &[],
    ages: (14, 120),
    sex: None,
    newborn: false,
    up: 0,
    down: 0,
    acute: false,
    admit: 50,
    stay: (5, 10),
    to: H01,
    dept: "急诊医学科",
    reason: UpReason::BeyondRescueCapability,
    reason_text: None,
    complaint: "",
    condition: "",
    tests: &[],
    treatment: "",
    precautions: "途中注意监测生命体征，如有病情变化及时处理。",
    course: "予对症支持治疗",
    county_tests: &[],
    down_reason: DownReason::StableAfterAcute,
    result: "好转",
    rehab: None,
    meds: None,
    high_risk: 15,
    long_term: false,
    centre: None,
    external: None,
};

/// Routine and urgent conditions, also the stays stand-alone down-referrals come from.
const CONDITIONS: &[Cond] = &[
    Cond {
        dx: &[("I10.x00", "高血压")],
        ages: (35, 120),
        up: 80,
        down: 50,
        admit: 35,
        stay: (5, 8),
        dept: "心血管内科",
        reason: UpReason::FurtherExamination,
        complaint: "头晕伴血压控制不佳2周",
        condition: "高血压病史8年，规律服用氨氯地平，近2周自测血压170～185/100～110mmHg，伴头晕、颈部发紧，无胸痛及肢体无力。",
        tests: &[("血压", "182/106mmHg"), ("心电图", "窦性心律，左心室高电压"), ("尿常规", "尿蛋白(+)")],
        treatment: "加用厄贝沙坦150mg每日1次，血压仍控制不佳",
        precautions: "避免情绪激动，监测血压，如出现剧烈头痛、胸痛、肢体无力立即就诊。",
        course: "完善动态血压、心脏彩超及肾功能检查，调整为氨氯地平联合厄贝沙坦降压",
        county_tests: &[("动态血压", "24小时平均血压148/92mmHg"), ("心脏彩超", "左心室壁增厚，射血分数62%")],
        down_reason: DownReason::ChronicLongTermCare,
        rehab: Some("低盐低脂饮食，适量运动，戒烟限酒，每日监测血压。"),
        meds: Some("氨氯地平片5mg 每日1次；厄贝沙坦片150mg 每日1次"),
        high_risk: 10,
        ..BASE
    },
    Cond {
        dx: &[("E11.900", "2型糖尿病"), ("I10.x00", "高血压")],
        ages: (35, 120),
        up: 60,
        down: 40,
        admit: 45,
        stay: (6, 10),
        to: H02,
        dept: "中西医结合科",
        reason: UpReason::DiagnosisBeyondLocal,
        complaint: "口干多饮、血糖控制不佳1月",
        condition: "糖尿病病史6年，口服二甲双胍，近1月空腹血糖波动于11～14mmol/L，伴口干、多饮、乏力，双足麻木。",
        tests: &[("空腹血糖", "13.6mmol/L"), ("糖化血红蛋白", "9.8%"), ("尿常规", "尿糖(+++)，酮体(-)")],
        treatment: "二甲双胍加量至0.5g每日3次，血糖仍控制不佳",
        precautions: "注意低血糖反应，规律饮食。",
        course: "完善糖尿病并发症筛查，启用基础胰岛素联合口服降糖药，行糖尿病饮食及注射教育",
        county_tests: &[
            ("糖化血红蛋白", "9.6%"),
            ("眼底检查", "糖尿病视网膜病变Ⅰ期"),
            ("尿微量白蛋白", "56mg/L"),
        ],
        down_reason: DownReason::ChronicLongTermCare,
        rehab: Some("糖尿病饮食，餐后适量运动，监测空腹及餐后血糖。"),
        meds: Some("二甲双胍片0.5g 每日3次；甘精胰岛素注射液12单位 睡前皮下注射"),
        high_risk: 10,
        ..BASE
    },
    Cond {
        dx: &[("I20.000", "不稳定型心绞痛"), ("I10.x00", "高血压")],
        ages: (40, 120),
        up: 45,
        down: 25,
        acute: true,
        admit: 90,
        stay: (6, 10),
        dept: "心血管内科",
        complaint: "反复胸闷胸痛1周，加重1天",
        condition: "1周来活动后胸骨后闷痛，每次持续3～5分钟，休息可缓解，今日静息时发作1次，持续约10分钟。",
        tests: &[("心电图", "V4～V6导联ST段压低0.1mV"), ("肌钙蛋白(POCT)", "阴性")],
        treatment: "阿司匹林300mg嚼服，硝酸甘油0.5mg舌下含服后症状缓解",
        precautions: "卧床休息，避免用力，途中心电监护，备硝酸甘油。",
        course: "行冠状动脉造影，前降支近段狭窄85%，植入支架1枚，术后予双联抗血小板、调脂稳定斑块治疗",
        county_tests: &[("冠状动脉造影", "前降支近段狭窄85%"), ("心脏彩超", "射血分数58%")],
        down_reason: DownReason::StableAfterAcute,
        rehab: Some("心脏康复：循序渐进步行锻炼，避免剧烈活动，戒烟。"),
        meds: Some("阿司匹林肠溶片100mg 每日1次；替格瑞洛片90mg 每日2次；阿托伐他汀钙片20mg 每晚1次"),
        high_risk: 35,
        ..BASE
    },
    Cond {
        dx: &[("I50.900", "心力衰竭"), ("I25.100", "动脉粥样硬化性心脏病")],
        ages: (60, 120),
        up: 35,
        down: 30,
        acute: true,
        admit: 95,
        stay: (7, 12),
        dept: "心血管内科",
        complaint: "活动后气促3月，加重伴双下肢水肿5天",
        condition: "近5天气促加重，夜间不能平卧，双下肢凹陷性水肿，双肺底可闻及湿啰音。",
        tests: &[("血氧饱和度", "89%"), ("心电图", "心房颤动，心室率112次/分"), ("胸片", "心影增大，肺淤血")],
        treatment: "呋塞米20mg静脉推注，吸氧",
        precautions: "半卧位，吸氧，控制输液速度。",
        course: "予利尿、扩血管、控制心室率及改善心肌重构治疗",
        county_tests: &[("NT-proBNP", "4860pg/mL"), ("心脏彩超", "全心扩大，射血分数35%")],
        down_reason: DownReason::StableAfterAcute,
        rehab: Some("限盐限水，每日称体重，体重3天增加2kg以上及时就诊。"),
        meds: Some("呋塞米片20mg 每日1次；螺内酯片20mg 每日1次；美托洛尔缓释片23.75mg 每日1次"),
        high_risk: 45,
        ..BASE
    },
    Cond {
        dx: &[("J18.900", "肺炎")],
        ages: (14, 120),
        up: 55,
        down: 35,
        acute: true,
        admit: 75,
        stay: (6, 10),
        dept: "呼吸内科",
        complaint: "发热、咳嗽咳痰4天",
        condition: "4天前受凉后发热，最高39.2℃，咳黄痰，口服头孢呋辛3天无好转，右下肺可闻及湿啰音。",
        tests: &[("血常规", "白细胞14.2×10⁹/L，中性粒细胞86%"), ("胸片", "右下肺斑片状阴影")],
        treatment: "口服头孢呋辛酯片0.25g每日2次3天",
        precautions: "监测体温及血氧饱和度。",
        course: "予头孢曲松联合阿奇霉素抗感染、化痰等治疗，复查胸部CT病灶吸收",
        county_tests: &[("胸部CT", "右下肺炎症，较前吸收"), ("C反应蛋白", "8mg/L")],
        down_reason: DownReason::StableAfterAcute,
        rehab: Some("注意休息，多饮水，1周后复查血常规。"),
        meds: Some("头孢呋辛酯片0.25g 每日2次，续服3天"),
        ..BASE
    },
    Cond {
        dx: &[("J18.000", "支气管肺炎")],
        ages: (0, 13),
        up: 45,
        down: 20,
        acute: true,
        admit: 70,
        stay: (5, 8),
        to: H03,
        dept: "儿科",
        reason: UpReason::EquipmentLimits,
        complaint: "发热咳嗽3天，气促1天",
        condition: "患儿3天前发热咳嗽，今日出现气促，精神差，双肺可闻及中细湿啰音。",
        tests: &[("血常规", "白细胞15.8×10⁹/L"), ("血氧饱和度", "93%")],
        treatment: "布洛芬混悬液退热，雾化吸入1次",
        precautions: "保持呼吸道通畅，途中监测血氧。",
        course: "予抗感染、雾化吸入、退热等治疗",
        county_tests: &[("胸片", "双肺纹理增多，可见斑片影"), ("肺炎支原体抗体", "阴性")],
        down_reason: DownReason::StableAfterAcute,
        rehab: Some("注意保暖，避免去人群密集场所，1周后复诊。"),
        meds: Some("阿莫西林克拉维酸钾干混悬剂 按体重每日2次，续服3天"),
        ..BASE
    },
    Cond {
        dx: &[("J44.100", "慢性阻塞性肺病伴有急性加重")],
        ages: (55, 120),
        up: 40,
        down: 35,
        acute: true,
        admit: 90,
        stay: (7, 12),
        dept: "呼吸内科",
        complaint: "反复咳嗽咳痰20年，气喘加重3天",
        condition: "慢阻肺病史，3天来气喘加重，咳黄脓痰，口唇轻度发绀，双肺可闻及哮鸣音。",
        tests: &[("血氧饱和度", "86%"), ("血常规", "白细胞11.6×10⁹/L")],
        treatment: "低流量吸氧，沙丁胺醇雾化吸入",
        precautions: "低流量吸氧，避免高浓度吸氧。",
        course: "予抗感染、解痉平喘、糖皮质激素及无创通气治疗",
        county_tests: &[("血气分析", "PaO₂ 58mmHg，PaCO₂ 52mmHg"), ("肺功能", "FEV1/FVC 52%")],
        down_reason: DownReason::ChronicLongTermCare,
        rehab: Some("缩唇呼吸及腹式呼吸锻炼，家庭氧疗每日15小时以上。"),
        meds: Some("布地奈德福莫特罗粉吸入剂 每次1吸 每日2次"),
        high_risk: 30,
        ..BASE
    },
    Cond {
        dx: &[("I63.900", "脑梗死"), ("I10.x00", "高血压")],
        ages: (45, 120),
        up: 40,
        down: 45,
        acute: true,
        admit: 95,
        stay: (10, 16),
        dept: "神经内科",
        reason: UpReason::DiagnosisBeyondLocal,
        complaint: "右侧肢体无力2天",
        condition: "2天前晨起发现右侧肢体无力，行走拖步，言语稍含糊，右侧肢体肌力4级。",
        tests: &[("血压", "168/96mmHg"), ("随机血糖", "7.8mmol/L")],
        treatment: "阿司匹林100mg口服",
        precautions: "防跌倒，防误吸，监测血压。",
        course: "头颅MRI示左侧基底节区急性脑梗死，予抗血小板、调脂稳定斑块、改善循环及早期康复治疗",
        county_tests: &[("头颅MRI", "左侧基底节区急性腔隙性脑梗死"), ("颈动脉彩超", "双侧颈动脉斑块形成")],
        down_reason: DownReason::Rehabilitation,
        rehab: Some("肢体功能康复训练，防跌倒，控制血压血脂。"),
        meds: Some("阿司匹林肠溶片100mg 每日1次；阿托伐他汀钙片20mg 每晚1次"),
        high_risk: 30,
        ..BASE
    },
    Cond {
        dx: &[("I69.300", "脑梗死后遗症")],
        ages: (55, 120),
        up: 25,
        down: 20,
        admit: 70,
        stay: (14, 21),
        to: H02,
        dept: "康复医学科",
        reason: UpReason::OutsideLicensedScope,
        complaint: "脑梗死后左侧肢体活动不利3月",
        condition: "3月前脑梗死，遗留左侧肢体活动不利，需系统康复训练，本院无康复治疗资质。",
        tests: &[("血压", "142/86mmHg")],
        treatment: "口服阿司匹林、阿托伐他汀",
        precautions: "防跌倒。",
        course: "予针灸、运动疗法、作业疗法等综合康复治疗，肢体功能改善",
        county_tests: &[("Barthel指数", "入院45分，出院65分")],
        down_reason: DownReason::Rehabilitation,
        rehab: Some("继续家庭康复训练，每周到卫生院康复指导2次。"),
        meds: Some("阿司匹林肠溶片100mg 每日1次"),
        ..BASE
    },
    Cond {
        dx: &[("K35.800", "急性阑尾炎")],
        ages: (5, 90),
        up: 35,
        down: 15,
        acute: true,
        admit: 100,
        stay: (4, 7),
        dept: "普通外科",
        reason: UpReason::OutsideLicensedScope,
        complaint: "转移性右下腹痛12小时",
        condition: "12小时前脐周疼痛，后转移至右下腹，伴恶心，麦氏点压痛、反跳痛阳性。",
        tests: &[("血常规", "白细胞13.5×10⁹/L，中性粒细胞88%"), ("腹部B超", "右下腹阑尾区增粗")],
        treatment: "禁食，补液",
        precautions: "禁食禁水，途中注意腹痛变化。",
        course: "急诊行腹腔镜阑尾切除术，术后予抗感染治疗",
        county_tests: &[("病理", "急性化脓性阑尾炎")],
        down_reason: DownReason::StableAfterAcute,
        rehab: Some("术后1月内避免剧烈运动，伤口换药至拆线。"),
        meds: None,
        high_risk: 5,
        ..BASE
    },
    Cond {
        dx: &[("K81.000", "急性胆囊炎"), ("K80.200", "胆囊结石")],
        ages: (25, 120),
        up: 30,
        down: 15,
        acute: true,
        admit: 90,
        stay: (5, 9),
        dept: "普通外科",
        reason: UpReason::OutsideLicensedScope,
        complaint: "右上腹痛伴发热1天",
        condition: "进食油腻后右上腹持续性疼痛，向右肩背部放射，伴发热38.5℃，墨菲征阳性。",
        tests: &[("腹部B超", "胆囊增大，壁毛糙，内见多发强回声"), ("血常规", "白细胞12.8×10⁹/L")],
        treatment: "禁食，山莨菪碱解痉",
        precautions: "禁食，注意腹痛及体温变化。",
        course: "予抗感染治疗后行腹腔镜胆囊切除术",
        county_tests: &[("腹部CT", "胆囊结石伴胆囊炎")],
        down_reason: DownReason::StableAfterAcute,
        rehab: Some("低脂饮食，伤口护理。"),
        ..BASE
    },
    Cond {
        dx: &[("S72.000", "股骨颈骨折")],
        ages: (60, 120),
        up: 30,
        down: 35,
        acute: true,
        admit: 100,
        stay: (10, 18),
        dept: "骨科",
        reason: UpReason::EquipmentLimits,
        complaint: "跌倒后右髋部疼痛、活动受限4小时",
        condition: "在家中跌倒，右髋部着地，右下肢外旋短缩畸形，不能站立。",
        tests: &[("髋关节X线", "右股骨颈骨折")],
        treatment: "右下肢制动，止痛",
        precautions: "患肢制动，搬运时保持下肢中立位。",
        course: "行右侧人工股骨头置换术，术后予抗凝、预防感染及功能锻炼指导",
        county_tests: &[("术后X线", "假体位置良好")],
        down_reason: DownReason::Rehabilitation,
        rehab: Some("助行器辅助下床活动，髋关节功能锻炼，防跌倒，术后1、3月复查。"),
        meds: Some("利伐沙班片10mg 每日1次，服至术后5周"),
        high_risk: 35,
        ..BASE
    },
    Cond {
        dx: &[("S52.500", "桡骨下端骨折")],
        ages: (5, 120),
        up: 25,
        down: 10,
        acute: true,
        admit: 30,
        stay: (3, 6),
        to: H02,
        dept: "中医骨伤科",
        reason: UpReason::EquipmentLimits,
        complaint: "摔伤后左腕部肿痛2小时",
        condition: "行走时摔倒，左手撑地，左腕部肿胀、餐叉样畸形，活动受限。",
        tests: &[("腕关节X线", "左桡骨远端骨折，断端移位")],
        treatment: "夹板临时固定",
        precautions: "患肢抬高制动。",
        course: "行手法复位、小夹板外固定",
        county_tests: &[("复位后X线", "对位对线良好")],
        down_reason: DownReason::Rehabilitation,
        rehab: Some("手指屈伸锻炼，定期调整夹板松紧，4周后复查。"),
        ..BASE
    },
    Cond {
        dx: &[("M51.202", "腰椎间盘突出")],
        ages: (25, 90),
        up: 35,
        down: 15,
        admit: 50,
        stay: (7, 12),
        to: H02,
        dept: "推拿科",
        reason: UpReason::FurtherExamination,
        complaint: "腰痛伴右下肢放射痛1月",
        condition: "1月来腰痛，向右下肢放射，久坐加重，右直腿抬高试验阳性。",
        tests: &[("腰椎X线", "腰4/5椎间隙变窄")],
        treatment: "口服双氯芬酸钠缓释片，理疗",
        precautions: "卧硬板床，避免弯腰负重。",
        course: "腰椎MRI示L4/5椎间盘突出，予推拿、针灸、牵引及中药治疗",
        county_tests: &[("腰椎MRI", "L4/5椎间盘向右后突出，压迫神经根")],
        down_reason: DownReason::Rehabilitation,
        rehab: Some("腰背肌功能锻炼，避免久坐及弯腰搬重物。"),
        ..BASE
    },
    Cond {
        dx: &[("M17.900", "膝关节病")],
        ages: (45, 120),
        up: 25,
        down: 10,
        admit: 30,
        stay: (7, 12),
        to: H02,
        dept: "针灸科",
        reason: UpReason::Other,
        reason_text: Some("患者要求中医针灸治疗"),
        complaint: "双膝关节疼痛2年，加重1月",
        condition: "双膝关节疼痛，上下楼梯加重，关节骨擦感，无红肿。",
        tests: &[("膝关节X线", "双膝关节间隙变窄，骨质增生")],
        treatment: "口服美洛昔康片",
        precautions: "减少爬楼及下蹲。",
        course: "予针灸、中药熏洗及理疗",
        county_tests: &[("膝关节彩超", "双膝关节少量积液")],
        down_reason: DownReason::ChronicLongTermCare,
        rehab: Some("股四头肌锻炼，控制体重。"),
        ..BASE
    },
    Cond {
        dx: &[("C34.900", "支气管或肺恶性肿瘤")],
        ages: (45, 120),
        up: 20,
        down: 25,
        admit: 85,
        stay: (8, 14),
        dept: "呼吸内科",
        reason: UpReason::DiagnosisBeyondLocal,
        complaint: "咳嗽、痰中带血1月",
        condition: "1月来刺激性咳嗽，痰中带血丝，体重下降4kg，吸烟40年。",
        tests: &[("胸片", "右肺门肿块影")],
        treatment: "对症止咳",
        precautions: "注意咯血情况。",
        course: "胸部CT及支气管镜活检确诊肺腺癌，行第1周期化疗",
        county_tests: &[("胸部增强CT", "右肺上叶中央型肿块"), ("病理", "腺癌")],
        down_reason: DownReason::ChronicLongTermCare,
        rehab: Some("加强营养，预防感染，按期返院化疗。"),
        high_risk: 50,
        long_term: true,
        ..BASE
    },
    Cond {
        dx: &[("C16.900", "胃恶性肿瘤")],
        ages: (45, 120),
        up: 15,
        down: 20,
        admit: 90,
        stay: (12, 20),
        dept: "普通外科",
        reason: UpReason::DiagnosisBeyondLocal,
        complaint: "上腹部隐痛伴消瘦3月",
        condition: "3月来上腹隐痛，食欲减退，体重下降6kg，大便潜血阳性。",
        tests: &[("大便潜血", "阳性"), ("血常规", "血红蛋白92g/L")],
        treatment: "口服奥美拉唑",
        precautions: "注意黑便、呕血。",
        course: "胃镜活检确诊胃癌，行腹腔镜根治性远端胃切除术",
        county_tests: &[("胃镜", "胃窦溃疡型肿物"), ("病理", "中分化腺癌")],
        down_reason: DownReason::Rehabilitation,
        rehab: Some("少量多餐，逐步恢复饮食，按期复查及辅助化疗。"),
        high_risk: 45,
        long_term: true,
        ..BASE
    },
    Cond {
        dx: &[("R07.400", "胸痛")],
        ages: (30, 120),
        up: 30,
        down: 5,
        admit: 25,
        stay: (3, 5),
        dept: "心血管内科",
        reason: UpReason::FurtherExamination,
        complaint: "间断胸痛2周",
        condition: "2周来间断左胸刺痛，与活动无明显关系，持续数秒至数分钟。",
        tests: &[("心电图", "窦性心律，大致正常心电图")],
        treatment: "未予特殊处理",
        precautions: "胸痛持续不缓解立即就诊。",
        course: "完善心电图运动试验及冠脉CTA，排除冠心病",
        county_tests: &[("冠脉CTA", "未见明显狭窄")],
        down_reason: DownReason::DiagnosisClear,
        ..BASE
    },
    Cond {
        dx: &[("K92.200", "胃肠道出血")],
        ages: (25, 120),
        up: 25,
        down: 15,
        acute: true,
        admit: 95,
        stay: (6, 10),
        dept: "消化内科",
        complaint: "黑便2天，头晕乏力",
        condition: "2天来解柏油样便3次，伴头晕、乏力，面色苍白，心率102次/分。",
        tests: &[("血常规", "血红蛋白78g/L"), ("大便潜血", "阳性")],
        treatment: "禁食，建立静脉通道，奥美拉唑40mg静脉滴注",
        precautions: "禁食，平卧，监测血压、心率。",
        course: "急诊胃镜示十二指肠球部溃疡出血，行内镜下止血，予抑酸、补液治疗",
        county_tests: &[("胃镜", "十二指肠球部溃疡(A1期)"), ("幽门螺杆菌", "阳性")],
        down_reason: DownReason::StableAfterAcute,
        rehab: Some("清淡软食，忌酒及刺激性食物。"),
        meds: Some("奥美拉唑肠溶胶囊20mg 每日2次，服8周；根除幽门螺杆菌四联治疗14天"),
        high_risk: 30,
        ..BASE
    },
    Cond {
        dx: &[("O13.x00", "妊娠期高血压")],
        ages: (18, 45),
        sex: Some(Sex::Female),
        up: 30,
        down: 10,
        admit: 80,
        stay: (5, 10),
        to: H03,
        dept: "产科",
        reason: UpReason::OutsideLicensedScope,
        complaint: "孕34周，发现血压升高1周",
        condition: "孕34周，1周来血压145～155/95～100mmHg，轻度水肿，无头痛及视物模糊。",
        tests: &[("血压", "152/98mmHg"), ("尿常规", "尿蛋白(±)")],
        treatment: "左侧卧位休息",
        precautions: "监测血压及胎动，出现头痛、视物模糊立即就诊。",
        course: "予监测血压、拉贝洛尔降压，孕37周行剖宫产娩出一活婴",
        county_tests: &[("胎心监护", "反应型"), ("24小时尿蛋白", "0.22g")],
        down_reason: DownReason::StableAfterAcute,
        rehab: Some("产后42天复查，监测血压，母乳喂养指导。"),
        high_risk: 40,
        ..BASE
    },
    Cond {
        dx: &[("P59.900", "新生儿黄疸")],
        ages: (0, 0),
        newborn: true,
        up: 40,
        down: 10,
        admit: 60,
        stay: (4, 7),
        to: H03,
        dept: "新生儿科",
        reason: UpReason::EquipmentLimits,
        complaint: "皮肤黄染5天，加重2天",
        condition: "生后第3天出现皮肤黄染，逐渐加重至四肢，吃奶可。",
        tests: &[("经皮胆红素", "16.8mg/dL")],
        treatment: "指导勤喂养",
        precautions: "注意保暖，观察黄疸进展。",
        course: "予蓝光照射治疗，胆红素降至正常范围",
        county_tests: &[("血清总胆红素", "出院前8.2mg/dL")],
        down_reason: DownReason::DiagnosisClear,
        rehab: Some("按需喂养，观察皮肤黄染，3天后复查经皮胆红素。"),
        ..BASE
    },
    Cond {
        dx: &[("H25.900", "老年性白内障")],
        ages: (55, 120),
        up: 30,
        down: 10,
        admit: 85,
        stay: (2, 4),
        dept: "眼科",
        reason: UpReason::OutsideLicensedScope,
        complaint: "双眼视物模糊2年",
        condition: "双眼无痛性视力下降，右眼视力0.1，左眼视力0.3。",
        tests: &[("视力", "右眼0.1，左眼0.3")],
        treatment: "未予特殊处理",
        precautions: "无特殊。",
        course: "行右眼白内障超声乳化联合人工晶体植入术",
        county_tests: &[("术后视力", "右眼0.8")],
        down_reason: DownReason::DiagnosisClear,
        rehab: Some("术后1月内避免揉眼、脏水入眼，按时点眼药。"),
        meds: Some("妥布霉素地塞米松滴眼液 每日4次，逐周递减"),
        high_risk: 5,
        ..BASE
    },
    Cond {
        dx: &[("R42.x00", "头晕和眩晕")],
        ages: (30, 120),
        up: 25,
        down: 5,
        admit: 20,
        stay: (4, 7),
        dept: "神经内科",
        reason: UpReason::FurtherExamination,
        complaint: "反复头晕1月",
        condition: "1月来反复头晕，与体位变化有关，无肢体无力及言语不清。",
        tests: &[("血压", "136/84mmHg"), ("心电图", "窦性心律")],
        treatment: "口服倍他司汀",
        precautions: "防跌倒。",
        course: "完善头颅MRI及颈椎检查，诊断为良性阵发性位置性眩晕，行手法复位",
        county_tests: &[("头颅MRI", "未见明显异常")],
        down_reason: DownReason::DiagnosisClear,
        ..BASE
    },
    Cond {
        dx: &[("T65.900", "急性中毒")],
        ages: (2, 120),
        up: 15,
        down: 5,
        acute: true,
        admit: 60,
        stay: (3, 6),
        dept: "急诊医学科",
        complaint: "误服农药后恶心呕吐1小时",
        condition: "1小时前误服农药约50mL，恶心呕吐，瞳孔缩小，大汗。",
        tests: &[("胆碱酯酶", "1800U/L")],
        treatment: "清水洗胃，阿托品1mg静脉推注",
        precautions: "保持呼吸道通畅，途中监测生命体征。",
        course: "予彻底洗胃、阿托品及解磷定解毒、血液灌流治疗",
        county_tests: &[("胆碱酯酶", "出院前6200U/L")],
        down_reason: DownReason::StableAfterAcute,
        rehab: Some("注意心理疏导，农药妥善保管。"),
        ..BASE
    },
    Cond {
        dx: &[("O82.000", "经选择性剖宫产术的单胎分娩")],
        ages: (18, 45),
        sex: Some(Sex::Female),
        down: 30,
        admit: 100,
        stay: (4, 6),
        to: H03,
        dept: "产科",
        complaint: "孕39周待产",
        condition: "孕39周，瘢痕子宫，择期剖宫产。",
        course: "行子宫下段剖宫产术，娩出一活婴，术后恢复良好",
        county_tests: &[("血常规", "血红蛋白108g/L")],
        down_reason: DownReason::StableAfterAcute,
        rehab: Some("产后访视，母乳喂养，产后42天复查。"),
        high_risk: 10,
        ..BASE
    },
    Cond {
        dx: &[("I25.100", "动脉粥样硬化性心脏病"), ("Z95.501", "冠状动脉支架植入后状态")],
        ages: (45, 120),
        down: 30,
        admit: 100,
        stay: (5, 8),
        dept: "心血管内科",
        complaint: "胸闷1周",
        condition: "胸闷1周，冠脉造影示前降支狭窄，已植入支架。",
        course: "行冠状动脉支架植入术，术后予双联抗血小板治疗",
        county_tests: &[("冠状动脉造影", "前降支中段狭窄80%，植入支架1枚")],
        down_reason: DownReason::ChronicLongTermCare,
        rehab: Some("心脏康复，戒烟，控制血压、血脂。"),
        meds: Some("阿司匹林肠溶片100mg 每日1次；氯吡格雷片75mg 每日1次；阿托伐他汀钙片20mg 每晚1次"),
        high_risk: 25,
        ..BASE
    },
];

/// Green-channel conditions, by centre.
const GREEN: &[Cond] = &[
    Cond {
        dx: &[("I21.000", "急性前壁心肌梗死")],
        ages: (35, 120),
        up: 40,
        down: 10,
        centre: Some(Centre::ChestPain),
        acute: true,
        admit: 100,
        stay: (5, 9),
        dept: "心血管内科",
        complaint: "突发胸骨后压榨样疼痛2小时",
        condition: "2小时前突发胸骨后压榨样疼痛，向左肩放射，伴大汗，含服硝酸甘油不缓解。",
        tests: &[("心电图", "V1～V4导联ST段抬高0.3～0.5mV"), ("肌钙蛋白(POCT)", "阳性")],
        treatment: "嚼服阿司匹林300mg、替格瑞洛180mg，吸氧，建立静脉通道",
        precautions: "绝对卧床，持续心电监护，备除颤仪，途中与胸痛中心保持联系。",
        course: "急诊行冠状动脉造影，前降支近段闭塞，行经皮冠状动脉介入治疗(PCI)植入支架1枚，术后予双联抗血小板、调脂稳定斑块治疗",
        county_tests: &[("冠状动脉造影", "前降支近段完全闭塞"), ("心脏彩超", "前壁运动减弱，射血分数48%")],
        down_reason: DownReason::StableAfterAcute,
        rehab: Some("心脏康复Ⅱ期训练，戒烟，避免劳累。"),
        meds: Some(
            "阿司匹林肠溶片100mg 每日1次；替格瑞洛片90mg 每日2次；阿托伐他汀钙片40mg 每晚1次；美托洛尔缓释片47.5mg 每日1次",
        ),
        high_risk: 50,
        ..BASE
    },
    Cond {
        dx: &[("I21.100", "急性下壁心肌梗死"), ("I10.x00", "高血压")],
        ages: (35, 120),
        up: 30,
        down: 10,
        centre: Some(Centre::ChestPain),
        acute: true,
        admit: 100,
        stay: (5, 9),
        dept: "心血管内科",
        complaint: "胸痛伴恶心呕吐1小时",
        condition: "1小时前突发胸痛，伴恶心、呕吐、大汗，心率52次/分。",
        tests: &[("心电图", "Ⅱ、Ⅲ、aVF导联ST段抬高0.2mV")],
        treatment: "嚼服阿司匹林300mg、氯吡格雷300mg，阿托品0.5mg静脉推注",
        precautions: "绝对卧床，持续心电监护，警惕心动过缓。",
        course: "急诊行右冠状动脉PCI，植入支架1枚",
        county_tests: &[("冠状动脉造影", "右冠状动脉中段闭塞")],
        down_reason: DownReason::StableAfterAcute,
        rehab: Some("心脏康复，低盐低脂饮食。"),
        meds: Some("阿司匹林肠溶片100mg 每日1次；氯吡格雷片75mg 每日1次；阿托伐他汀钙片20mg 每晚1次"),
        high_risk: 45,
        ..BASE
    },
    Cond {
        dx: &[("I21.400", "急性心内膜下心肌梗死")],
        ages: (40, 120),
        up: 20,
        down: 10,
        centre: Some(Centre::ChestPain),
        acute: true,
        admit: 100,
        stay: (6, 10),
        dept: "心血管内科",
        complaint: "胸闷胸痛3小时",
        condition: "3小时前静息时胸闷胸痛，持续不缓解，既往高血压、糖尿病。",
        tests: &[("心电图", "V3～V6导联ST段压低0.2mV"), ("肌钙蛋白(POCT)", "阳性")],
        treatment: "嚼服阿司匹林300mg，吸氧",
        precautions: "绝对卧床，持续心电监护。",
        course: "予抗血小板、抗凝、调脂治疗，择期行冠状动脉造影及支架植入",
        county_tests: &[("冠状动脉造影", "回旋支狭窄90%")],
        down_reason: DownReason::StableAfterAcute,
        meds: Some("阿司匹林肠溶片100mg 每日1次；替格瑞洛片90mg 每日2次"),
        high_risk: 45,
        ..BASE
    },
    Cond {
        dx: &[("I63.900", "脑梗死"), ("I10.x00", "高血压")],
        ages: (40, 120),
        up: 45,
        down: 15,
        centre: Some(Centre::Stroke),
        acute: true,
        admit: 100,
        stay: (9, 16),
        dept: "神经内科",
        complaint: "突发左侧肢体无力、言语不清1小时",
        condition: "1小时前突发左侧肢体无力，口角歪斜，言语不清，NIHSS评分8分。",
        tests: &[("随机血糖", "7.2mmol/L"), ("血压", "172/98mmHg")],
        treatment: "吸氧，监测血压、血糖",
        precautions: "平卧头偏一侧，防误吸，途中通知卒中中心。",
        course: "急诊头颅CT排除出血后予阿替普酶静脉溶栓，后续抗血小板、调脂及早期康复",
        county_tests: &[("头颅CT", "未见出血"), ("头颅MRI", "右侧大脑中动脉供血区急性梗死")],
        down_reason: DownReason::Rehabilitation,
        rehab: Some("肢体及语言康复训练，防跌倒，控制血压。"),
        meds: Some("阿司匹林肠溶片100mg 每日1次；阿托伐他汀钙片20mg 每晚1次"),
        high_risk: 40,
        ..BASE
    },
    Cond {
        dx: &[("I63.400", "大脑动脉栓塞引起的脑梗死"), ("I48.x00", "心房颤动")],
        ages: (50, 120),
        up: 25,
        down: 10,
        centre: Some(Centre::Stroke),
        acute: true,
        admit: 100,
        stay: (10, 16),
        dept: "神经内科",
        complaint: "突发右侧肢体偏瘫40分钟",
        condition: "40分钟前突发右侧肢体偏瘫、失语，既往心房颤动未规律抗凝。",
        tests: &[("心电图", "心房颤动"), ("随机血糖", "6.4mmol/L")],
        treatment: "吸氧，建立静脉通道",
        precautions: "平卧，防误吸，途中通知卒中中心。",
        course: "静脉溶栓后症状部分改善，予抗凝及康复治疗",
        county_tests: &[("头颅CTA", "左侧大脑中动脉M1段闭塞")],
        down_reason: DownReason::Rehabilitation,
        rehab: Some("康复训练，监测出血情况。"),
        meds: Some("利伐沙班片15mg 每日1次"),
        high_risk: 45,
        ..BASE
    },
    Cond {
        dx: &[("S06.500", "创伤性硬脑膜下出血")],
        ages: (2, 120),
        up: 20,
        down: 5,
        centre: Some(Centre::Trauma),
        acute: true,
        admit: 100,
        stay: (10, 20),
        dept: "急诊医学科",
        complaint: "车祸致头部外伤、意识障碍1小时",
        condition: "骑电动车与汽车相撞，头部着地，呼之可睁眼，GCS评分10分。",
        tests: &[("血压", "150/90mmHg"), ("瞳孔", "左侧3mm，右侧2.5mm")],
        treatment: "颈托固定，吸氧，建立静脉通道",
        precautions: "颈椎保护，保持呼吸道通畅，途中通知创伤中心。",
        course: "急诊头颅CT示左侧硬膜下血肿，行开颅血肿清除术，术后重症监护",
        county_tests: &[("头颅CT", "左额颞硬膜下血肿，中线移位")],
        down_reason: DownReason::Rehabilitation,
        rehab: Some("康复训练，定期复查头颅CT。"),
        high_risk: 50,
        ..BASE
    },
    Cond {
        dx: &[("S27.000", "创伤性气胸"), ("S22.400", "多发性肋骨骨折")],
        ages: (14, 120),
        up: 15,
        down: 5,
        centre: Some(Centre::Trauma),
        acute: true,
        admit: 100,
        stay: (7, 12),
        dept: "普通外科",
        complaint: "高处坠落致胸痛、呼吸困难2小时",
        condition: "从约3米高处坠落，右胸着地，右胸痛、呼吸困难，右肺呼吸音减弱。",
        tests: &[("血氧饱和度", "88%")],
        treatment: "吸氧，胸部固定",
        precautions: "半卧位，吸氧，途中通知创伤中心。",
        course: "行右侧胸腔闭式引流术，肋骨骨折予胸带固定",
        county_tests: &[("胸部CT", "右侧气胸，右侧第4～6肋骨骨折")],
        down_reason: DownReason::StableAfterAcute,
        high_risk: 30,
        ..BASE
    },
    Cond {
        dx: &[("T07.x00", "多处损伤")],
        ages: (2, 120),
        up: 15,
        down: 5,
        centre: Some(Centre::Trauma),
        acute: true,
        admit: 100,
        stay: (10, 20),
        dept: "骨科",
        complaint: "车祸致全身多处疼痛1小时",
        condition: "车祸致全身多处外伤，左大腿畸形，腹部压痛，血压偏低。",
        tests: &[("血压", "92/60mmHg"), ("腹部B超", "肝周少量积液")],
        treatment: "止血包扎，夹板固定，快速补液",
        precautions: "保持脊柱中立位，监测血压，途中通知创伤中心。",
        course: "急诊手术行股骨干骨折内固定，腹部损伤保守治疗",
        county_tests: &[("全身CT", "左股骨干骨折，肝挫裂伤")],
        down_reason: DownReason::Rehabilitation,
        rehab: Some("患肢功能锻炼，定期复查。"),
        high_risk: 40,
        ..BASE
    },
    Cond {
        dx: &[("O72.100", "产后出血")],
        ages: (18, 45),
        sex: Some(Sex::Female),
        up: 30,
        down: 5,
        centre: Some(Centre::Maternal),
        acute: true,
        admit: 100,
        stay: (4, 8),
        to: H03,
        dept: "产科",
        complaint: "顺产后阴道流血量多1小时",
        condition: "于卫生院顺产后1小时阴道流血约800mL，子宫收缩差，心率118次/分。",
        tests: &[("血常规", "血红蛋白72g/L"), ("血压", "86/52mmHg")],
        treatment: "按摩子宫，缩宫素静脉滴注，快速补液",
        precautions: "保暖，持续按摩子宫，途中通知危重孕产妇救治中心。",
        course: "予宫腔球囊填塞、输血及缩宫治疗，出血停止",
        county_tests: &[("凝血功能", "纤维蛋白原1.8g/L"), ("血常规", "出院前血红蛋白96g/L")],
        down_reason: DownReason::StableAfterAcute,
        rehab: Some("加强营养，纠正贫血，产后42天复查。"),
        meds: Some("多糖铁复合物胶囊150mg 每日1次"),
        high_risk: 60,
        ..BASE
    },
    Cond {
        dx: &[("O15.000", "妊娠期子痫")],
        ages: (18, 45),
        sex: Some(Sex::Female),
        up: 15,
        down: 5,
        centre: Some(Centre::Maternal),
        acute: true,
        admit: 100,
        stay: (5, 9),
        to: H03,
        dept: "产科",
        complaint: "孕36周，抽搐1次",
        condition: "孕36周，头痛1天，抽搐1次约1分钟，血压178/112mmHg。",
        tests: &[("血压", "178/112mmHg"), ("尿蛋白", "(++)")],
        treatment: "硫酸镁4g静脉推注，吸氧",
        precautions: "防舌咬伤及坠床，避光，途中通知危重孕产妇救治中心。",
        course: "解痉、降压后急诊行剖宫产术，母婴平安",
        county_tests: &[("24小时尿蛋白", "2.6g")],
        down_reason: DownReason::StableAfterAcute,
        rehab: Some("监测血压，产后42天复查。"),
        meds: Some("拉贝洛尔片100mg 每日2次"),
        high_risk: 60,
        ..BASE
    },
    Cond {
        dx: &[("P22.000", "新生儿呼吸窘迫综合征")],
        ages: (0, 0),
        newborn: true,
        up: 30,
        down: 0,
        centre: Some(Centre::Neonatal),
        acute: true,
        admit: 100,
        stay: (7, 15),
        to: H03,
        dept: "新生儿科",
        complaint: "早产儿生后呻吟、气促2小时",
        condition: "孕33周早产，生后2小时出现呻吟、气促、三凹征，口唇发绀。",
        tests: &[("血氧饱和度", "85%")],
        treatment: "保暖，鼻导管吸氧",
        precautions: "保暖箱转运，途中持续监测血氧，通知新生儿救治中心。",
        course: "予肺表面活性物质及无创呼吸支持治疗",
        county_tests: &[("胸片", "双肺透亮度降低，可见支气管充气征")],
        down_reason: DownReason::StableAfterAcute,
        rehab: Some("早产儿随访，按时预防接种。"),
        high_risk: 60,
        ..BASE
    },
    Cond {
        dx: &[("P21.900", "出生窒息")],
        ages: (0, 0),
        newborn: true,
        up: 20,
        down: 0,
        centre: Some(Centre::Neonatal),
        acute: true,
        admit: 100,
        stay: (7, 14),
        to: H03,
        dept: "新生儿科",
        complaint: "生后窒息复苏后反应差",
        condition: "出生时Apgar评分1分钟4分，经复苏后5分钟7分，反应差，肌张力低。",
        tests: &[("血氧饱和度", "90%")],
        treatment: "新生儿复苏，保暖，吸氧",
        precautions: "保暖箱转运，通知新生儿救治中心。",
        course: "予呼吸支持、亚低温治疗及营养支持",
        county_tests: &[("头颅B超", "未见明显出血")],
        down_reason: DownReason::StableAfterAcute,
        rehab: Some("定期神经发育随访。"),
        high_risk: 60,
        ..BASE
    },
    Cond {
        dx: &[("P36.900", "新生儿细菌性脓毒症")],
        ages: (0, 0),
        newborn: true,
        up: 15,
        down: 0,
        centre: Some(Centre::Neonatal),
        acute: true,
        admit: 100,
        stay: (10, 15),
        to: H03,
        dept: "新生儿科",
        complaint: "发热、拒奶1天",
        condition: "生后第10天，发热38.6℃，拒奶，反应差，皮肤花纹。",
        tests: &[("血常规", "白细胞22.5×10⁹/L"), ("C反应蛋白", "65mg/L")],
        treatment: "物理降温，保暖",
        precautions: "保暖箱转运，通知新生儿救治中心。",
        course: "血培养阳性，予抗感染及支持治疗",
        county_tests: &[("血培养", "无乳链球菌")],
        down_reason: DownReason::DiagnosisClear,
        rehab: Some("按需喂养，观察体温、吃奶情况。"),
        high_risk: 50,
        ..BASE
    },
];

/// Conditions sent out of the network, with where they go.
const SENT_OUT: &[Cond] = &[
    Cond {
        dx: &[("C22.000", "肝细胞癌")],
        ages: (35, 120),
        up: 30,
        reason: UpReason::DiagnosisBeyondLocal,
        complaint: "右上腹隐痛2月",
        condition: "乙肝病史20年，右上腹隐痛伴消瘦，CT示肝右叶占位，需行肝切除或介入治疗，本县不能开展。",
        tests: &[("甲胎蛋白", "860ng/mL"), ("腹部CT", "肝右叶占位，约6cm")],
        treatment: "护肝对症治疗",
        precautions: "注意腹痛、黑便。",
        dept: "普通外科",
        external: Some("演示省肿瘤医院"),
        ..BASE
    },
    Cond {
        dx: &[("I35.000", "主动脉瓣狭窄")],
        ages: (45, 120),
        up: 20,
        reason: UpReason::OutsideLicensedScope,
        complaint: "活动后胸闷、晕厥1次",
        condition: "心脏彩超示重度主动脉瓣狭窄，需行瓣膜置换术，本县无心脏外科。",
        tests: &[("心脏彩超", "主动脉瓣口面积0.7cm²")],
        treatment: "限制活动",
        precautions: "避免剧烈活动。",
        dept: "心血管内科",
        external: Some("演示省人民医院"),
        ..BASE
    },
    Cond {
        dx: &[("I61.900", "脑出血")],
        ages: (40, 120),
        up: 25,
        acute: true,
        complaint: "突发头痛、呕吐伴意识障碍3小时",
        condition: "头颅CT示右侧基底节区出血约40mL，破入脑室，需神经外科手术。",
        tests: &[("头颅CT", "右侧基底节区出血，破入脑室")],
        treatment: "甘露醇脱水降颅压，控制血压",
        precautions: "保持呼吸道通畅，途中监测瞳孔及生命体征。",
        dept: "神经内科",
        external: Some("演示市第一人民医院"),
        ..BASE
    },
    Cond {
        dx: &[("Q21.000", "室间隔缺损")],
        ages: (0, 13),
        up: 10,
        reason: UpReason::EquipmentLimits,
        complaint: "体检发现心脏杂音",
        condition: "心脏彩超示室间隔缺损约8mm，需行心脏介入或手术治疗。",
        tests: &[("心脏彩超", "膜周部室间隔缺损8mm")],
        treatment: "未予特殊处理",
        precautions: "预防呼吸道感染。",
        dept: "儿科",
        to: H03,
        external: Some("演示省儿童医院"),
        ..BASE
    },
    Cond {
        dx: &[("C50.900", "乳房恶性肿瘤")],
        ages: (30, 90),
        sex: Some(Sex::Female),
        up: 15,
        reason: UpReason::DiagnosisBeyondLocal,
        complaint: "发现右乳肿块1月",
        condition: "右乳外上象限肿块约3cm，质硬，穿刺病理示浸润性导管癌，需综合治疗。",
        tests: &[("乳腺彩超", "右乳实性肿块，BI-RADS 5类")],
        treatment: "未予特殊处理",
        precautions: "无特殊。",
        dept: "普通外科",
        external: Some("演示省肿瘤医院"),
        ..BASE
    },
];

/// A patient with what the referral year needs of them.
struct Patient<'v> {
    sex: Sex,
    age: u32,
    birth: NaiveDate,
    days_old: i64,
    registrations: &'v [Registration],
    site: Option<usize>,
    centre: usize,
}

impl<'v> Patient<'v> {
    fn new(
        record: &HealthRecord,
        registrations: &'v [Registration],
        place: &Place,
        today: NaiveDate,
    ) -> Self {
        Self {
            sex: record.sex,
            age: today.years_since(record.birth_date).unwrap_or(0),
            birth: record.birth_date,
            days_old: (today - record.birth_date).num_days(),
            registrations,
            site: place.site,
            centre: place.centre,
        }
    }

    /// The registration at `member`, else the first.
    fn registration(&self, net: &Net, member: usize) -> &'v Registration {
        let code = &net.members[member].code;
        self.registrations.iter().find(|r| &r.source == code).unwrap_or(&self.registrations[0])
    }

    fn words(&self) -> String {
        let sex = match self.sex {
            Sex::Male => "男",
            Sex::Female => "女",
            _ => "性别不详",
        };
        match self.age {
            0 => format!("患儿，{sex}，新生儿"),
            1..14 => format!("患儿，{sex}，{}岁", self.age),
            _ => format!("患者，{sex}，{}岁", self.age),
        }
    }
}

/// How likely a resident is to be referred this year (per ten).
fn resident_weight(record: &HealthRecord, today: NaiveDate) -> u32 {
    let days = (today - record.birth_date).num_days();
    if days < 30 {
        return 0;
    }
    let age = today.years_since(record.birth_date).unwrap_or(0);
    match age {
        0 => 40,
        1..5 => 10,
        5..14 => 6,
        14..35 if record.sex == Sex::Female && age >= 20 => 14,
        14..35 => 6,
        35..50 => 12,
        50..60 => 20,
        60..70 => 30,
        _ => 40,
    }
}

// ---------------------------------------------------------------------------------------------
// Time
// ---------------------------------------------------------------------------------------------

/// The UTC instant of a China time.
pub(crate) fn utc(t: NaiveDateTime) -> DateTime<Utc> {
    Utc.from_utc_datetime(&(t - TimeDelta::hours(8)))
}

/// The China time of an instant.
pub(crate) fn china(t: DateTime<Utc>) -> NaiveDateTime {
    t.naive_utc() + TimeDelta::hours(8)
}

fn minutes(rng: &mut SynthRng, lo: i64, hi: i64) -> TimeDelta {
    TimeDelta::minutes(rng.random_range(lo..=hi))
}

/// Submissions of routine referrals: clinic hours.
pub(crate) const CLINIC_HOURS: [u32; 24] =
    [0, 0, 0, 0, 0, 0, 0, 1, 8, 10, 10, 8, 3, 2, 7, 8, 7, 4, 2, 1, 1, 0, 0, 0];
/// Urgent ones: all day, daytime heavier.
pub(crate) const URGENT_HOURS: [u32; 24] =
    [2, 1, 1, 1, 1, 2, 3, 5, 8, 9, 9, 8, 6, 5, 7, 8, 8, 7, 6, 5, 4, 4, 3, 2];
/// First medical contact of green ones: the morning peak of infarcts and strokes.
const GREEN_HOURS: [u32; 24] = [3, 3, 3, 3, 4, 5, 7, 8, 9, 9, 8, 7, 6, 5, 5, 5, 5, 5, 5, 5, 4, 4, 4, 3];
/// Discharges: late morning, some afternoons.
const DISCHARGE_HOURS: [u32; 24] = [0, 0, 0, 0, 0, 0, 0, 0, 4, 10, 10, 6, 1, 1, 4, 5, 3, 1, 0, 0, 0, 0, 0, 0];

/// A time of `day` drawn from hourly weights.
pub(crate) fn time_on(rng: &mut SynthRng, day: NaiveDate, hours: &[u32; 24]) -> NaiveDateTime {
    let hour = pick_weighted(rng, hours) as u32;
    let (minute, second) = (rng.random_range(0..60), rng.random_range(0..60));
    day.and_time(NaiveTime::from_hms_opt(hour, minute, second).expect("valid time"))
}

/// `t` moved into working hours: before 8:00 to 8:00–9:30 that day, after 18:00 to the next
/// morning.
fn daytime(rng: &mut SynthRng, t: NaiveDateTime) -> NaiveDateTime {
    let morning = |d: NaiveDate, rng: &mut SynthRng| {
        d.and_time(NaiveTime::from_hms_opt(8, 0, 0).expect("valid")) + minutes(rng, 0, 90)
    };
    match t.hour() {
        0..8 => morning(t.date(), rng).max(t),
        18.. => morning(t.date() + TimeDelta::days(1), rng),
        _ => t,
    }
}

/// How busy a day is: weekdays more than weekends, winter more than summer (out of 144).
fn day_weight(day: NaiveDate) -> u32 {
    let weekday = match day.weekday() {
        Weekday::Mon => 12,
        Weekday::Tue | Weekday::Wed | Weekday::Thu => 11,
        Weekday::Fri => 10,
        Weekday::Sat => 7,
        Weekday::Sun => 6,
    };
    let season = match day.month() {
        12 | 1 | 2 => 12,
        3 | 11 => 11,
        6..=8 => 9,
        _ => 10,
    };
    weekday * season
}

/// A day of `lo..=hi` drawn by [`day_weight`].
pub(crate) fn draw_day(rng: &mut SynthRng, lo: NaiveDate, hi: NaiveDate) -> NaiveDate {
    let span = (hi - lo).num_days().max(0);
    for _ in 0..64 {
        let d = lo + TimeDelta::days(rng.random_range(0..=span));
        if rng.random_range(0..144) < day_weight(d) {
            return d;
        }
    }
    lo + TimeDelta::days(rng.random_range(0..=span))
}

fn floor_days(t: TimeDelta) -> i64 {
    t.num_seconds().div_euclid(86_400)
}

// ---------------------------------------------------------------------------------------------
// Building lives
// ---------------------------------------------------------------------------------------------

/// The discharge summary, written once the dates are final.
#[derive(Clone)]
struct Summary {
    admitted_on: NaiveDate,
    diagnoses: String,
    course: &'static str,
    advice: String,
}

/// A referral being built: the referral, its parent (an index into the same list) and its
/// discharge summary.
struct Piece {
    r: SynthReferral,
    parent: Option<usize>,
    summary: Option<Summary>,
}

/// What a non-green flow does after submission.
#[derive(Clone, Copy, PartialEq, Eq)]
enum End {
    Reject,
    CancelSubmitted,
    CancelAccepted,
    Expire,
    NoShow,
    Complete,
}

/// How care at the receiver goes.
#[derive(Clone, Copy)]
struct Care {
    outcome: Outcome,
    stay: i64,
    slow_start: bool,
}

/// A non-green flow.
struct Flow {
    /// A down-referral (the receiver is a township centre).
    downward: bool,
    priority: Priority,
    submit: NaiveDateTime,
    redirect: Option<DepartmentId>,
    department: Option<DepartmentId>,
    end: End,
    schedule: bool,
    slow_response: bool,
    care: Care,
}

/// When things happened in a flow.
#[derive(Default, Clone, Copy)]
struct Times {
    accepted: Option<NaiveDateTime>,
    arrived: Option<NaiveDateTime>,
    completed: Option<NaiveDateTime>,
}

fn event(transition: Transition, party: Party, at: NaiveDateTime) -> SynthEvent {
    SynthEvent {
        transition,
        party,
        at: utc(at),
        reason: None,
        note: None,
        department: None,
        slot_at: None,
        outcome: None,
        no_down_reason: None,
        closed_by_rule: false,
    }
}

/// Appends `e`, never before the last event.
fn push(events: &mut Vec<SynthEvent>, mut e: SynthEvent) -> NaiveDateTime {
    if let Some(last) = events.last()
        && e.at < last.at
    {
        e.at = last.at;
    }
    let at = china(e.at);
    events.push(e);
    at
}

fn slip_tests(list: &[(&str, &str)], date: NaiveDate) -> Vec<SlipTest> {
    list.iter()
        .map(|&(name, result)| SlipTest {
            name: name.to_owned(),
            result: result.to_owned(),
            date: Some(date),
            reference: None,
        })
        .collect()
}

fn diagnoses(c: &Cond) -> Vec<(String, String)> {
    c.dx.iter().map(|&(code, name)| (code.to_owned(), name.to_owned())).collect()
}

const FOLLOW_UP_NOTES: &[&str] = &[
    "电话随访：按时服药，一般情况可",
    "入户随访：生命体征平稳，已指导康复训练",
    "门诊随访：复查结果较前好转，继续原方案",
    "电话随访：无不适，已预约下次复诊",
    "入户随访：伤口愈合良好，饮食睡眠可",
];

const REJECT_NOTES: &[(RejectReason, u32, &str)] = &[
    (RejectReason::NoBed, 30, "病区床位已满，建议3日后再转"),
    (RejectReason::NotIndicated, 30, "病情稳定，可在基层继续治疗"),
    (RejectReason::IncompleteInformation, 20, "缺少近期检查结果，请补充后重新提交"),
    (RejectReason::BeyondCapability, 15, "超出本院诊疗能力，建议转上级医院"),
    (RejectReason::Other, 5, "患者信息与登记不符"),
];

const CANCEL_NOTES: &[(CancelReason, u32, &str)] = &[
    (CancelReason::PatientDeclined, 45, "患者及家属拒绝转诊"),
    (CancelReason::ConditionChanged, 30, "病情好转，暂不转诊"),
    (CancelReason::EnteredInError, 15, "转诊单填写有误，已重新开具"),
    (CancelReason::Other, 10, "患者自行前往外地就医"),
];

/// The generator: one stream, the county, and what has been made so far.
struct Gen<'n> {
    rng: SynthRng,
    net: &'n Net,
    settings: Settings,
    today: NaiveDate,
    first: NaiveDate,
    /// The start of `today`, China time.
    now: NaiveDateTime,
    out: Vec<Piece>,
}

impl<'n> Gen<'n> {
    fn new(cfg: &SynthConfig, net: &'n Net) -> Self {
        Self {
            rng: rng::rng(cfg.seed, STREAM),
            net,
            settings: Settings::default(),
            today: cfg.today,
            first: cfg.today - TimeDelta::days(365),
            now: cfg.today.and_time(NaiveTime::MIN),
            out: Vec::new(),
        }
    }

    /// `k` residents of a village, drawn by [`resident_weight`] without replacement.
    fn pick_residents(&mut self, records: &[HealthRecord], k: usize) -> Vec<usize> {
        let weights: Vec<u32> = records.iter().map(|r| resident_weight(r, self.today)).collect();
        let eligible = weights.iter().filter(|&&w| w > 0).count();
        let k = k.min(eligible);
        if k == 0 {
            return Vec::new();
        }
        let table = Weighted::new(weights.iter().copied());
        let mut taken = vec![false; records.len()];
        let mut picked = Vec::with_capacity(k);
        while picked.len() < k {
            let mut i = table.sample(&mut self.rng);
            if taken[i] {
                // Rarely: the first free eligible resident after it.
                let free = (0..records.len())
                    .map(|j| (i + j) % records.len())
                    .find(|&j| !taken[j] && weights[j] > 0);
                match free {
                    Some(j) => i = j,
                    None => break,
                }
            }
            taken[i] = true;
            picked.push(i);
        }
        picked
    }

    fn chance(&mut self, p: f64) -> bool {
        self.rng.random_bool(p)
    }

    fn pick_cond(
        &mut self,
        list: &'static [Cond],
        p: &Patient,
        weight: impl Fn(&Cond) -> u32,
    ) -> &'static Cond {
        let weights: Vec<u32> = list.iter().map(|c| if c.fits(p) { weight(c) } else { 0 }).collect();
        if weights.iter().any(|&w| w > 0) {
            return &list[pick_weighted(&mut self.rng, &weights)];
        }
        let weights: Vec<u32> = list.iter().map(|c| weight(c).max(1)).collect();
        &list[pick_weighted(&mut self.rng, &weights)]
    }

    /// A routine or urgent condition; `admit` says whether the fate needs an admission.
    fn up_cond(&mut self, p: &Patient, priority: Priority, admit: Option<bool>) -> &'static Cond {
        self.pick_cond(CONDITIONS, p, |c| {
            let pace = match (priority, c.acute) {
                (Priority::Urgent, true) => 3,
                (Priority::Urgent, false) => 1,
                (_, true) => 1,
                (_, false) => 2,
            };
            let stay = match admit {
                Some(true) => c.admit + 1,
                Some(false) => 101 - c.admit,
                None => 50,
            };
            c.up * pace * stay
        })
    }

    fn green_cond(&mut self, p: &Patient) -> &'static Cond {
        let centres: &[(Centre, u32)] = match (p.age, p.sex) {
            (0, _) => &[(Centre::Neonatal, 90), (Centre::Trauma, 10)],
            (1..14, _) => &[(Centre::Trauma, 100)],
            (18..46, Sex::Female) => {
                &[(Centre::Maternal, 65), (Centre::Trauma, 20), (Centre::ChestPain, 8), (Centre::Stroke, 7)]
            }
            (40.., _) => &[(Centre::ChestPain, 45), (Centre::Stroke, 40), (Centre::Trauma, 15)],
            _ => &[(Centre::Trauma, 70), (Centre::ChestPain, 30)],
        };
        let weights: Vec<u32> = centres.iter().map(|c| c.1).collect();
        let centre = centres[pick_weighted(&mut self.rng, &weights)].0;
        let fits = GREEN.iter().any(|c| c.centre == Some(centre) && c.fits(p));
        self.pick_cond(GREEN, p, |c| if !fits || c.centre == Some(centre) { c.up } else { 0 })
    }

    /// The institution an upward referral leaves from: the village site or the township centre
    /// (a county hospital other than the target when lateral).
    fn sender(&mut self, p: &Patient, cond: &Cond, lateral: bool, village_share: f64) -> usize {
        let net = self.net;
        if lateral {
            return net.hospitals[if cond.to == H01 { H02 } else { H01 }];
        }
        match p.site {
            Some(s) if net.has_clinicians(s) && !cond.newborn && self.chance(village_share) => s,
            _ => p.centre,
        }
    }

    /// The slip of an upward referral, without its life.
    #[allow(clippy::too_many_arguments)] // the parts of one slip, named at each call
    fn up_slip(
        &mut self,
        p: &Patient,
        cond: &Cond,
        priority: Priority,
        from: usize,
        to: Option<usize>,
        to_department: Option<DepartmentId>,
        submit: NaiveDateTime,
        lateral: bool,
    ) -> SynthReferral {
        let net = self.net;
        let registration = p.registration(net, from);
        let dept_hint = match net.members[from].tier {
            Tier::TownshipCentre | Tier::CommunityCentre if cond.centre == Some(Centre::Trauma) => {
                net.dept(from, "外科").or_else(|| net.dept(from, "全科医疗科"))
            }
            Tier::TownshipCentre | Tier::CommunityCentre => net.dept(from, "全科医疗科"),
            _ if lateral => net.members[from]
                .departments
                .iter()
                .find(|d| d.clinical && d.name.contains("急诊"))
                .or_else(|| net.members[from].departments.iter().find(|d| d.clinical))
                .map(|d| d.id),
            _ => None,
        };
        let (staff, from_department) = net.clinician(&mut self.rng, from, dept_hint);
        let from_department = if net.members[from].departments.is_empty() { None } else { from_department };
        let created = submit - minutes(&mut self.rng, 3, 25);
        SynthReferral {
            id: Uuid::nil(),
            slip_no: String::new(),
            created_at: utc(created),
            direction: Direction::Upward,
            priority,
            lateral,
            patient_source: registration.source.clone(),
            patient_local_id: registration.local_id.clone(),
            from_institution: net.members[from].id,
            from_department,
            from_staff: staff,
            to_institution: to.map(|t| net.members[t].id),
            to_department,
            external_institution: cond.external.map(str::to_owned),
            reason: cond.reason.as_str().to_owned(),
            reason_text: cond.reason_text.map(str::to_owned),
            chief_complaint: Some(cond.complaint.to_owned()),
            condition: format!("{}。{}", p.words(), cond.condition),
            diagnoses: diagnoses(cond),
            tests: slip_tests(cond.tests, submit.date()),
            treatment: Some(cond.treatment.to_owned()),
            precautions: Some(cond.precautions.to_owned()),
            green_centre: cond.centre.filter(|_| priority == Priority::Green),
            downward: None,
            certificate: None,
            parent: None,
            events: Vec::new(),
            stamps: Vec::new(),
            follow_up: None,
        }
    }

    /// The response delay of the receiving centre.
    fn response(&mut self, priority: Priority, slow: bool) -> TimeDelta {
        let rng = &mut self.rng;
        match (priority, slow) {
            (Priority::Routine, true) => minutes(rng, 26 * 60, 60 * 60),
            (Priority::Routine, false) => match pick_weighted(rng, &[55, 30, 10, 5]) {
                0 => minutes(rng, 60, 360),
                1 => minutes(rng, 361, 1_200),
                2 => minutes(rng, 1_201, 1_440),
                _ => minutes(rng, 1_441, 1_800),
            },
            (Priority::Urgent, true) => minutes(rng, 130, 600),
            (Priority::Urgent, false) if rng.random_bool(0.92) => minutes(rng, 10, 120),
            (Priority::Urgent, false) => minutes(rng, 121, 180),
            (Priority::Green, _) => TimeDelta::zero(),
        }
    }

    fn receiving_party(&mut self) -> Party {
        if self.chance(0.7) { Party::ReceivingCentre } else { Party::ReceivingClinician }
    }

    fn sending_party(&mut self) -> Party {
        if self.chance(0.85) { Party::SendingClinician } else { Party::SendingCentre }
    }

    /// Runs a non-green flow from submission.
    fn flow(&mut self, ev: &mut Vec<SynthEvent>, f: &Flow) -> Times {
        let mut times = Times::default();
        let submitter = self.sending_party();
        let mut t = push(ev, event(Transition::Submit, submitter, f.submit));
        if let Some(dept) = f.redirect {
            let gap = match f.priority {
                Priority::Routine => minutes(&mut self.rng, 30, 360),
                _ => minutes(&mut self.rng, 10, 60),
            };
            let mut e = event(Transition::Redirect, Party::ReceivingCentre, t + gap);
            e.department = Some(dept);
            e.note = Some("非本科室收治范围，转相应科室".to_owned());
            t = push(ev, e);
        }
        let mut answer = t + self.response(f.priority, f.slow_response);
        if f.priority == Priority::Routine && !f.slow_response {
            let moved = daytime(&mut self.rng, answer);
            if moved - t <= TimeDelta::hours(30) {
                answer = moved;
            }
        }
        match f.end {
            End::Reject => {
                let weights: Vec<u32> = REJECT_NOTES.iter().map(|r| r.1).collect();
                let (reason, _, note) = REJECT_NOTES[pick_weighted(&mut self.rng, &weights)];
                let mut e = event(Transition::Reject, self.receiving_party(), answer);
                e.reason = Some(reason.as_str().to_owned());
                e.note = Some(note.to_owned());
                push(ev, e);
                return times;
            }
            End::CancelSubmitted => {
                let span = ((answer - t).num_minutes() - 1).max(6);
                let at = t + minutes(&mut self.rng, 5, span);
                self.cancel(ev, at);
                return times;
            }
            _ => {}
        }
        let mut e = event(Transition::Accept, self.receiving_party(), answer);
        e.department = f.department;
        let accepted = push(ev, e);
        times.accepted = Some(accepted);
        let urgent = f.priority != Priority::Routine;
        let mut slot = None;
        if f.schedule {
            let at = if urgent {
                accepted + minutes(&mut self.rng, 5, 90)
            } else {
                let t = accepted + minutes(&mut self.rng, 10, 20 * 60);
                daytime(&mut self.rng, t)
            };
            let at = at.min(accepted + self.settings.schedule_within(f.priority) - TimeDelta::minutes(1));
            let s = if urgent {
                at + minutes(&mut self.rng, 30, 240)
            } else {
                let day = accepted.date() + TimeDelta::days(self.rng.random_range(1..=6));
                let s = day.and_time(NaiveTime::from_hms_opt(8, 0, 0).expect("valid"))
                    + minutes(&mut self.rng, 0, 150);
                s.max(at + TimeDelta::hours(2))
            };
            let mut e = event(Transition::Schedule, Party::ReceivingCentre, at);
            e.slot_at = Some(utc(s));
            let note = match (f.downward, f.care.outcome) {
                (false, Outcome::Outpatient) => "已预约专家门诊",
                (true, Outcome::Outpatient) => "已预约家庭医生门诊",
                _ => "已预约床位",
            };
            e.note = Some(note.to_owned());
            let at = push(ev, e);
            slot = Some(s);
            if !urgent && f.end == End::Complete && self.chance(0.06) && s - at > TimeDelta::hours(3) {
                let when = at + minutes(&mut self.rng, 60, (s - at).num_minutes() - 60);
                let when = daytime(&mut self.rng, when).min(s - TimeDelta::minutes(30));
                let moved = s + TimeDelta::days(self.rng.random_range(1..=3));
                let mut e = event(Transition::Reschedule, Party::ReceivingCentre, when);
                e.slot_at = Some(utc(moved));
                e.note = Some("患者要求改期".to_owned());
                push(ev, e);
                slot = Some(moved);
            }
        }
        match f.end {
            End::CancelAccepted => {
                let latest = slot.map_or(accepted + TimeDelta::days(2), |s| s - TimeDelta::hours(1));
                let span = (latest - accepted).num_minutes().max(31);
                let at = accepted + minutes(&mut self.rng, 30, span);
                self.cancel(ev, at);
                return times;
            }
            End::Expire => {
                let due = accepted + self.settings.expire_after(f.priority);
                push(ev, event(Transition::Expire, Party::System, due + minutes(&mut self.rng, 1, 59)));
                return times;
            }
            End::NoShow => {
                let s = slot.expect("a no-show was scheduled");
                let due = s + self.settings.no_show_after(f.priority);
                push(ev, event(Transition::MarkNoShow, Party::System, due + minutes(&mut self.rng, 1, 59)));
                return times;
            }
            _ => {}
        }
        let last = ev.last().map_or(accepted, |e| china(e.at));
        let arrive = match slot {
            Some(s) => (s + minutes(&mut self.rng, -40, 90)).max(last + minutes(&mut self.rng, 5, 15)),
            None if urgent => accepted + minutes(&mut self.rng, 20, 300),
            None => {
                let t = accepted + minutes(&mut self.rng, 120, 4 * 24 * 60);
                let t = daytime(&mut self.rng, t);
                t.min(accepted + TimeDelta::days(13))
            }
        };
        let party = match pick_weighted(&mut self.rng, &[60, 25, 15]) {
            0 => Party::ReceivingCentre,
            1 => Party::System,
            _ => Party::ReceivingClinician,
        };
        let arrived = push(ev, event(Transition::Arrive, party, arrive));
        times.arrived = Some(arrived);
        let start = if f.care.slow_start {
            arrived + minutes(&mut self.rng, 90, 300)
        } else {
            arrived + minutes(&mut self.rng, 3, 40)
        };
        let completed = self.care(ev, start, f.care);
        times.completed = Some(completed);
        times
    }

    /// Start of care to completion.
    fn care(&mut self, ev: &mut Vec<SynthEvent>, start: NaiveDateTime, care: Care) -> NaiveDateTime {
        let party = if self.chance(0.7) { Party::ReceivingClinician } else { Party::System };
        let start = push(ev, event(Transition::StartCare, party, start));
        let (at, party) = match care.outcome {
            Outcome::Outpatient => (start + minutes(&mut self.rng, 20, 150), Party::ReceivingClinician),
            Outcome::AdmittedDischarged => {
                let day = start.date() + TimeDelta::days(care.stay.max(1));
                let at = time_on(&mut self.rng, day, &DISCHARGE_HOURS);
                (at, if self.chance(0.5) { Party::System } else { Party::ReceivingClinician })
            }
            Outcome::Died => (start + minutes(&mut self.rng, 120, 5 * 24 * 60), Party::ReceivingClinician),
            Outcome::TransferredOn => {
                (start + minutes(&mut self.rng, 60, 3 * 24 * 60), Party::ReceivingClinician)
            }
        };
        let mut e = event(Transition::Complete, party, at);
        e.outcome = Some(care.outcome);
        e.note = match care.outcome {
            Outcome::Died => Some("抢救无效死亡".to_owned()),
            Outcome::TransferredOn => Some("病情需要，转上级医院继续治疗".to_owned()),
            _ => None,
        };
        push(ev, e)
    }

    fn cancel(&mut self, ev: &mut Vec<SynthEvent>, at: NaiveDateTime) {
        let weights: Vec<u32> = CANCEL_NOTES.iter().map(|c| c.1).collect();
        let (reason, _, note) = CANCEL_NOTES[pick_weighted(&mut self.rng, &weights)];
        let party = if self.chance(0.7) { Party::SendingClinician } else { Party::SendingCentre };
        let mut e = event(Transition::Cancel, party, at);
        e.reason = Some(reason.as_str().to_owned());
        e.note = Some(note.to_owned());
        push(ev, e);
    }

    /// A close by a referral centre with a no-down reason.
    fn close_with(
        &mut self,
        ev: &mut Vec<SynthEvent>,
        reason: NoDownReason,
        party: Party,
        at: NaiveDateTime,
    ) {
        let mut e = event(Transition::Close, party, at);
        e.reason = Some(reason.as_str().to_owned());
        e.no_down_reason = Some(reason);
        e.note = Some(
            match reason {
                NoDownReason::OutpatientOpinionReturned => "门诊诊疗意见已反馈转出机构",
                NoDownReason::Died => "患者死亡",
                NoDownReason::TransferredOutOfCounty => "已转县外医院",
                NoDownReason::ContinuingCareAtReceiver => "在本院继续门诊治疗",
                NoDownReason::LostToFollowUp => "多次联系未果，失访",
            }
            .to_owned(),
        );
        push(ev, e);
    }

    /// The green channel: the centre's stamps and the life up to completion. Returns the times
    /// of submission and completion.
    fn green_life(
        &mut self,
        r: &mut SynthReferral,
        cond: &Cond,
        fmc: NaiveDateTime,
        from_village: bool,
        care: Care,
    ) -> (NaiveDateTime, NaiveDateTime, NaiveDateTime) {
        use Milestone as M;
        use StampSource as S;
        let centre = cond.centre.expect("a green condition has its centre");
        let mut stamps: Vec<(Milestone, NaiveDateTime, StampSource)> = Vec::new();
        let transport = if from_village { (35, 75) } else { (20, 55) };
        let (submit, door) = match centre {
            Centre::ChestPain => {
                if self.chance(0.9) {
                    stamps.push((M::Onset, fmc - minutes(&mut self.rng, 30, 360), S::Manual));
                }
                stamps.push((M::FirstMedicalContact, fmc, S::Manual));
                let ecg = fmc
                    + if self.chance(0.78) {
                        minutes(&mut self.rng, 2, 9)
                    } else {
                        minutes(&mut self.rng, 10, 25)
                    };
                stamps.push((M::Ecg, ecg, S::Device));
                let mut latest_ecg = ecg;
                if self.chance(0.75) {
                    let sent = ecg + minutes(&mut self.rng, 1, 6);
                    stamps.push((M::EcgTransmitted, sent, S::Device));
                    latest_ecg = sent;
                }
                let diagnosis = ecg
                    + if self.chance(0.8) {
                        minutes(&mut self.rng, 3, 9)
                    } else {
                        minutes(&mut self.rng, 10, 20)
                    };
                stamps.push((M::Diagnosis, diagnosis, S::Manual));
                let submit = diagnosis + minutes(&mut self.rng, 1, 8);
                let departure = submit + minutes(&mut self.rng, 10, 35);
                let door = departure + minutes(&mut self.rng, transport.0, transport.1);
                if self.chance(0.7) {
                    let t =
                        (fmc + minutes(&mut self.rng, 12, 25)).max(latest_ecg + minutes(&mut self.rng, 1, 5));
                    stamps.push((M::Troponin, t.min(door - TimeDelta::minutes(5)), S::Device));
                }
                stamps.push((M::Departure, departure, S::Manual));
                stamps.push((M::Door, door, S::Derived));
                let stemi = cond.dx[0].0 != "I21.400";
                let weights: &[u32] = if stemi { &[78, 15, 7] } else { &[40, 0, 60] };
                match pick_weighted(&mut self.rng, weights) {
                    0 => {
                        let activation = door + minutes(&mut self.rng, 2, 15);
                        let arrival = activation + minutes(&mut self.rng, 8, 35);
                        let d2b = if self.chance(0.76) {
                            minutes(&mut self.rng, 50, 90)
                        } else {
                            minutes(&mut self.rng, 91, 130)
                        };
                        let balloon = (door + d2b).max(arrival + minutes(&mut self.rng, 10, 25));
                        stamps.push((M::CathLabActivation, activation, S::Manual));
                        if self.chance(0.9) {
                            stamps.push((M::CathLabArrival, arrival, S::Manual));
                        }
                        stamps.push((M::Balloon, balloon, S::Device));
                    }
                    1 => stamps.push((M::Lysis, door + minutes(&mut self.rng, 20, 50), S::Manual)),
                    _ => {}
                }
                (submit, door)
            }
            Centre::Stroke => {
                let well = fmc - minutes(&mut self.rng, 30, 240);
                let known = self.chance(0.95);
                if known {
                    stamps.push((M::LastKnownWell, well, S::Manual));
                }
                stamps.push((M::FirstMedicalContact, fmc, S::Manual));
                let submit = fmc + minutes(&mut self.rng, 5, 20);
                let departure = submit + minutes(&mut self.rng, 10, 30);
                let door = departure + minutes(&mut self.rng, transport.0, transport.1);
                stamps.push((M::Departure, departure, S::Manual));
                stamps.push((M::Door, door, S::Derived));
                let ct = door + minutes(&mut self.rng, 8, 25);
                let result = ct + minutes(&mut self.rng, 5, 15);
                let decision = result + minutes(&mut self.rng, 3, 15);
                stamps.push((M::CtStart, ct, S::Device));
                stamps.push((M::CtResult, result, S::Device));
                stamps.push((M::Decision, decision, S::Manual));
                if known && door - well <= TimeDelta::minutes(210) && self.chance(0.75) {
                    let dnt = if self.chance(0.7) {
                        minutes(&mut self.rng, 35, 60)
                    } else {
                        minutes(&mut self.rng, 61, 90)
                    };
                    let needle = (door + dnt).max(decision + minutes(&mut self.rng, 2, 8));
                    stamps.push((M::Needle, needle, S::Manual));
                }
                (submit, door)
            }
            Centre::Trauma | Centre::Maternal | Centre::Neonatal => {
                if self.chance(0.85) {
                    stamps.push((M::Call, fmc - minutes(&mut self.rng, 10, 40), S::Manual));
                }
                stamps.push((M::FirstMedicalContact, fmc, S::Manual));
                let submit = fmc + minutes(&mut self.rng, 5, 25);
                let departure = submit + minutes(&mut self.rng, 10, 30);
                let door = departure + minutes(&mut self.rng, transport.0, transport.1);
                stamps.push((M::Departure, departure, S::Manual));
                stamps.push((M::Door, door, S::Derived));
                if self.chance(0.9) {
                    stamps.push((M::TeamActivation, door + minutes(&mut self.rng, 0, 10), S::Manual));
                }
                let ct = match centre {
                    Centre::Trauma if self.chance(0.85) => Some(door + minutes(&mut self.rng, 10, 30)),
                    Centre::Maternal if self.chance(0.1) => Some(door + minutes(&mut self.rng, 15, 40)),
                    _ => None,
                };
                if let Some(ct) = ct {
                    stamps.push((M::CtStart, ct, S::Device));
                }
                if self.chance(0.9) {
                    let span = match centre {
                        Centre::Trauma => (40, 150),
                        Centre::Maternal => (20, 90),
                        _ => (15, 60),
                    };
                    let mut at = door + minutes(&mut self.rng, span.0, span.1);
                    if let Some(ct) = ct
                        && at <= ct
                    {
                        at = ct + minutes(&mut self.rng, 15, 40);
                    }
                    stamps.push((M::Intervention, at, S::Manual));
                }
                (submit, door)
            }
        };
        let chain = centre.chain();
        stamps.sort_by_key(|s| chain.iter().position(|m| *m == s.0));
        r.stamps = stamps.into_iter().map(|(m, t, s)| (m, utc(t), s)).collect();
        r.created_at = utc(submit - minutes(&mut self.rng, 2, 6));
        let submit = push(&mut r.events, event(Transition::Submit, Party::SendingClinician, submit));
        let party = if self.chance(0.6) { Party::System } else { Party::ReceivingCentre };
        let door = push(&mut r.events, event(Transition::Arrive, party, door));
        let start = door + minutes(&mut self.rng, 0, 3);
        let completed = self.care(&mut r.events, start, care);
        (submit, door, completed)
    }

    /// The care an upward fate needs.
    fn up_care(&mut self, fate: UpFate, cond: &Cond) -> Care {
        let admitted = |g: &mut Self| g.rng.random_range(0..100) < cond.admit;
        let outcome = match fate {
            UpFate::Loop | UpFate::LoopLost | UpFate::Live(State::Completed | State::InCare) => {
                Outcome::AdmittedDischarged
            }
            UpFate::NoDown(NoDownReason::OutpatientOpinionReturned) => Outcome::Outpatient,
            UpFate::NoDown(NoDownReason::Died) => Outcome::Died,
            UpFate::NoDown(NoDownReason::TransferredOutOfCounty) => Outcome::TransferredOn,
            UpFate::NoDown(NoDownReason::ContinuingCareAtReceiver) if cond.admit < 50 => Outcome::Outpatient,
            _ if admitted(self) => Outcome::AdmittedDischarged,
            _ => Outcome::Outpatient,
        };
        let stay = self.rng.random_range(cond.stay.0..=cond.stay.1);
        Care { outcome, stay, slow_start: fate == UpFate::Live(State::Arrived) }
    }

    /// One case: built, placed in the year and cut at the end of it.
    fn case(&mut self, case: Case, p: &Patient) {
        let live = match case {
            Case::Up { fate: UpFate::Live(s), .. } | Case::Down { fate: DownFate::Live(s), .. } => {
                Some((s, false))
            }
            Case::Up { fate: UpFate::Overdue, .. } | Case::Down { fate: DownFate::Overdue, .. } => {
                Some((State::Submitted, true))
            }
            _ => None,
        };
        let earliest = self.first.max(p.birth + TimeDelta::days(1));
        let Some((state, overdue)) = live else {
            let (mut pieces, window) = self.build(case, p);
            let (start, end) = bounds(&pieces);
            let start_day = china(start).date();
            let lo = window.map_or(earliest, |w| w.0.max(self.first));
            let mut hi = start_day + TimeDelta::days(floor_days(utc(self.now) - end));
            if let Some((_, cap)) = window {
                hi = hi.min(cap);
            }
            let day = if lo <= hi { draw_day(&mut self.rng, lo, hi) } else { lo };
            shift(&mut pieces, (day - start_day).num_days());
            self.keep(pieces);
            return;
        };
        let now = utc(self.now);
        let mut last = None;
        for _ in 0..40 {
            let (mut pieces, window) = self.build(case, p);
            let anchor = pieces.iter().position(|x| x.parent.is_none() && !is_superseded(&x.r)).unwrap_or(0);
            let Some((a, b)) = interval(&pieces[anchor].r, state, &self.settings, overdue) else {
                last = Some((pieces, anchor));
                continue;
            };
            let (start, _) = bounds(&pieces);
            let lo_day = window.map_or(earliest, |w| w.0);
            let k_lo = b
                .map_or(i64::MIN, |b| floor_days(now - b) + 1)
                .max((lo_day - china(start).date()).num_days());
            let k_hi = floor_days(now - a);
            if k_lo <= k_hi {
                let k = self.rng.random_range(k_lo..=k_hi);
                shift(&mut pieces, k);
                self.keep(pieces);
                return;
            }
            last = Some((pieces, anchor));
        }
        // No whole-day move puts it in that state: let it enter the state within the last day.
        let (mut pieces, anchor) = last.expect("at least one try");
        let enter = interval(&pieces[anchor].r, state, &self.settings, false)
            .map_or_else(|| bounds(&pieces).0, |i| i.0);
        shift(&mut pieces, floor_days(now - enter));
        self.keep(pieces);
    }

    /// Cuts a placed case at the end of the year and keeps it.
    fn keep(&mut self, pieces: Vec<Piece>) {
        let now = utc(self.now);
        let base = self.out.len();
        let mut kept: Vec<Option<usize>> = Vec::with_capacity(pieces.len());
        for mut piece in pieces {
            if piece.r.created_at > now {
                kept.push(None);
                continue;
            }
            let r = &mut piece.r;
            r.events.retain(|e| e.at <= now);
            r.stamps.retain(|s| s.1 <= now);
            if let Some(f) = &mut r.follow_up
                && f.done_at.is_some_and(|d| d > now)
            {
                f.done_at = None;
                f.note = None;
            }
            let accepted = r.events.iter().any(|e| {
                e.transition == Transition::Accept
                    || (e.transition == Transition::Submit && r.priority == Priority::Green)
            });
            if !accepted {
                r.certificate = None;
                r.follow_up = None;
            }
            let parent = piece.parent.and_then(|k| kept[k]);
            debug_assert!(piece.parent.is_none() || parent.is_some(), "a parent is kept before its child");
            kept.push(Some(base + kept.iter().flatten().count()));
            self.out.push(Piece { parent, ..piece });
        }
    }

    /// Builds a case at a provisional day; returns its pieces and, for newborn conditions, the
    /// window of days its first day must fall in.
    fn build(&mut self, case: Case, p: &Patient) -> (Vec<Piece>, Option<(NaiveDate, NaiveDate)>) {
        let base = self.today - TimeDelta::days(200);
        match case {
            Case::Up { fate: UpFate::SentOut, priority, .. } => {
                (vec![self.sent_out(p, priority, base)], None)
            }
            Case::Up { fate, priority, lateral, supersedes } => {
                self.up_case(p, fate, priority, lateral, supersedes, base)
            }
            Case::Down { fate, priority } => {
                let cond = self.pick_cond(CONDITIONS, p, |c| c.down);
                let window =
                    cond.newborn.then(|| (p.birth + TimeDelta::days(5), p.birth + TimeDelta::days(25)));
                let discharge = time_on(&mut self.rng, base, &DISCHARGE_HOURS);
                let pieces = self.down_case(p, cond, fate, priority, discharge, None);
                (pieces, window)
            }
        }
    }

    fn sent_out(&mut self, p: &Patient, priority: Priority, base: NaiveDate) -> Piece {
        let cond = self.pick_cond(SENT_OUT, p, |c| c.up);
        let hospital = self.net.hospitals[cond.to];
        let from = if self.chance(0.7) { hospital } else { p.centre };
        let hours = if priority == Priority::Routine { &CLINIC_HOURS } else { &URGENT_HOURS };
        let at = time_on(&mut self.rng, base, hours);
        let mut r = self.up_slip(p, cond, priority, from, None, None, at, false);
        if self.net.members[from].tier.is_county_level() {
            let (staff, dept) = self.net.clinician(&mut self.rng, from, self.net.dept(from, cond.dept));
            r.from_staff = staff;
            r.from_department = dept;
            r.lateral = false;
        }
        r.created_at = utc(at - minutes(&mut self.rng, 10, 60));
        let mut e = event(Transition::SendOut, Party::SendingCentre, at);
        e.note = Some(format!("外院接收号：{:08}", self.rng.random_range(10_000_000..100_000_000u32)));
        push(&mut r.events, e);
        Piece { r, parent: None, summary: None }
    }

    /// An upward case: the referral, the down-referral answering it, the routine one it
    /// supersedes.
    fn up_case(
        &mut self,
        p: &Patient,
        fate: UpFate,
        priority: Priority,
        lateral: bool,
        supersedes: bool,
        base: NaiveDate,
    ) -> (Vec<Piece>, Option<(NaiveDate, NaiveDate)>) {
        let net = self.net;
        let green = priority == Priority::Green;
        let admit = match fate {
            UpFate::Loop | UpFate::LoopLost | UpFate::Live(State::Completed | State::InCare) => Some(true),
            UpFate::NoDown(NoDownReason::OutpatientOpinionReturned) => Some(false),
            _ => None,
        };
        let cond = if green { self.green_cond(p) } else { self.up_cond(p, priority, admit) };
        let window = cond.newborn.then(|| (p.birth, p.birth + TimeDelta::days(20)));
        let to = net.hospitals[cond.to];
        let lateral = lateral && !cond.newborn;
        let from = self.sender(p, cond, lateral, if green { 0.35 } else { 0.4 });
        let dept = net.dept(to, cond.dept);
        let care = self.up_care(fate, cond);
        let hours = match priority {
            Priority::Routine => &CLINIC_HOURS,
            Priority::Urgent => &URGENT_HOURS,
            Priority::Green => &GREEN_HOURS,
        };
        let start = time_on(&mut self.rng, base, hours);
        let mut pieces = Vec::new();
        let (submit, arrived, completed, accepted);
        let mut r;
        if green {
            r = self.up_slip(p, cond, priority, from, Some(to), dept, start, lateral);
            let from_village = !net.members[from].tier.is_county_level()
                && !matches!(net.members[from].tier, Tier::TownshipCentre | Tier::CommunityCentre);
            let (s, door, c) = self.green_life(&mut r, cond, start, from_village, care);
            r.tests = slip_tests(cond.tests, s.date());
            (submit, arrived, completed, accepted) = (s, Some(door), Some(c), Some(s));
        } else {
            let wrong = dept.filter(|_| self.chance(0.03)).and_then(|d| net.other_dept(&mut self.rng, to, d));
            let named = match wrong {
                Some(w) => Some(w),
                None if self.chance(0.15) => None,
                None => dept,
            };
            r = self.up_slip(p, cond, priority, from, Some(to), named, start, lateral);
            let end = match fate {
                UpFate::Rejected => End::Reject,
                UpFate::Cancelled if self.chance(0.4) => End::CancelSubmitted,
                UpFate::Cancelled => End::CancelAccepted,
                UpFate::Expired => End::Expire,
                UpFate::NoShow => End::NoShow,
                _ => End::Complete,
            };
            let schedule = match fate {
                UpFate::NoShow | UpFate::Live(State::Scheduled) => true,
                UpFate::Expired | UpFate::Live(State::Arrived) => false,
                _ if priority == Priority::Urgent => self.chance(0.3),
                _ => self.chance(0.75),
            };
            let flow = Flow {
                downward: false,
                priority,
                submit: start,
                redirect: wrong.and(dept),
                department: dept
                    .or_else(|| net.members[to].departments.iter().find(|d| d.clinical).map(|d| d.id)),
                end,
                schedule,
                slow_response: fate == UpFate::Overdue,
                care,
            };
            let mut events = Vec::new();
            let times = self.flow(&mut events, &flow);
            r.events = events;
            (submit, arrived, completed, accepted) = (start, times.arrived, times.completed, times.accepted);
        }
        // Most admissions at a county hospital come with an insurance referral certificate.
        if let Some(acc) = accepted
            && care.outcome == Outcome::AdmittedDischarged
            && self.chance(0.88)
        {
            let class =
                if cond.long_term { CertificateClass::LongTerm } else { CertificateClass::SingleAdmission };
            r.certificate = Some((class, acc.date(), String::new()));
        }
        pieces.push(Piece { r, parent: None, summary: None });
        let up = 0;

        // What follows completion.
        if let Some(done) = completed {
            match fate {
                UpFate::Loop | UpFate::LoopLost | UpFate::Live(State::Completed) => {
                    let lost = fate == UpFate::LoopLost;
                    let child_fate = if lost {
                        DownFate::Lost
                    } else if self.chance(0.03) {
                        DownFate::Expired
                    } else {
                        DownFate::Loop
                    };
                    let admitted_on = arrived.map_or(done.date(), |a| a.date());
                    let priority = if self.chance(0.12) { Priority::Urgent } else { Priority::Routine };
                    let link =
                        Parent { up, hospital: to, dept: r_dept(&pieces[up].r).or(dept), from, admitted_on };
                    let children = self.down_case(p, cond, child_fate, priority, done, Some(link));
                    let follow = children[0].r.follow_up.clone();
                    pieces.extend(children);
                    let done_at = follow.as_ref().and_then(|f| f.done_at).map(china);
                    let mut events = std::mem::take(&mut pieces[up].r.events);
                    match done_at {
                        Some(d) if !lost => {
                            let mut e =
                                event(Transition::Close, Party::System, d + minutes(&mut self.rng, 1, 30));
                            e.closed_by_rule = true;
                            push(&mut events, e);
                        }
                        _ => {
                            let due = follow.map_or(done.date(), |f| f.due_on);
                            let day = due + TimeDelta::days(self.rng.random_range(20..=40));
                            let at = time_on(&mut self.rng, day, &CLINIC_HOURS);
                            self.close_with(
                                &mut events,
                                NoDownReason::LostToFollowUp,
                                Party::SendingCentre,
                                at,
                            );
                        }
                    }
                    pieces[up].r.events = events;
                }
                UpFate::NoDown(reason) => {
                    let (party, lo, hi) = match reason {
                        NoDownReason::OutpatientOpinionReturned => (Party::ReceivingCentre, 10, 2 * 24 * 60),
                        NoDownReason::Died => (Party::ReceivingCentre, 30, 24 * 60),
                        NoDownReason::TransferredOutOfCounty => (Party::SendingCentre, 60, 2 * 24 * 60),
                        NoDownReason::ContinuingCareAtReceiver => {
                            (Party::ReceivingCentre, 24 * 60, 5 * 24 * 60)
                        }
                        NoDownReason::LostToFollowUp => (Party::SendingCentre, 20 * 24 * 60, 40 * 24 * 60),
                    };
                    let at = done + minutes(&mut self.rng, lo, hi);
                    let mut events = std::mem::take(&mut pieces[up].r.events);
                    self.close_with(&mut events, reason, party, at);
                    pieces[up].r.events = events;
                }
                _ => {
                    // Live cases continue with care at the receiver; the end of the year cuts
                    // them before this.
                    let at = done + minutes(&mut self.rng, 24 * 60, 3 * 24 * 60);
                    let mut events = std::mem::take(&mut pieces[up].r.events);
                    self.close_with(
                        &mut events,
                        NoDownReason::ContinuingCareAtReceiver,
                        Party::ReceivingCentre,
                        at,
                    );
                    pieces[up].r.events = events;
                }
            }
        }

        if supersedes && green {
            let earlier = self.superseded(p, from, submit);
            pieces.insert(0, earlier);
            for piece in &mut pieces {
                piece.parent = piece.parent.map(|k| k + 1);
            }
        }
        (pieces, window)
    }

    /// A routine or urgent referral of the same patient, live when the green one is submitted at
    /// `green`, cancelled as superseded.
    fn superseded(&mut self, p: &Patient, from: usize, green: NaiveDateTime) -> Piece {
        let net = self.net;
        let priority = if self.chance(0.8) { Priority::Routine } else { Priority::Urgent };
        let cond = self.up_cond(p, priority, None);
        let to = net.hospitals[cond.to];
        let dept = net.dept(to, cond.dept);
        let from = if net.members[from].tier.is_county_level() { p.centre } else { from };
        let cancel = green - TimeDelta::minutes(1);
        let mut day = green.date() - TimeDelta::days(self.rng.random_range(0..=3));
        let mut submit = time_on(&mut self.rng, day, &CLINIC_HOURS);
        while submit > green - TimeDelta::hours(2) {
            day -= TimeDelta::days(1);
            submit = time_on(&mut self.rng, day, &CLINIC_HOURS);
        }
        let mut r = self.up_slip(p, cond, priority, from, Some(to), dept, submit, false);
        let mut ev = Vec::new();
        push(&mut ev, event(Transition::Submit, self.sending_party(), submit));
        let answer = submit + self.response(priority, false);
        if answer < cancel - TimeDelta::minutes(5) {
            let mut e = event(Transition::Accept, self.receiving_party(), answer);
            e.department =
                dept.or_else(|| net.members[to].departments.iter().find(|d| d.clinical).map(|d| d.id));
            let accepted = push(&mut ev, e);
            let at = accepted + minutes(&mut self.rng, 5, 120);
            if at < cancel - TimeDelta::minutes(5) && self.chance(0.6) {
                let slot = (green + TimeDelta::days(self.rng.random_range(1..=4))).date();
                let slot = slot.and_time(NaiveTime::from_hms_opt(8, 30, 0).expect("valid"));
                let mut e = event(Transition::Schedule, Party::ReceivingCentre, at);
                e.slot_at = Some(utc(slot));
                push(&mut ev, e);
            }
        }
        let mut e = event(Transition::Cancel, Party::System, cancel);
        e.reason = Some(CancelReason::SupersededByGreen.as_str().to_owned());
        e.note = Some("已由绿色通道转诊取代".to_owned());
        push(&mut ev, e);
        r.events = ev;
        Piece { r, parent: None, summary: None }
    }

    /// A downward referral (and nothing else): stand-alone when `parent` is `None`, else
    /// answering the upward referral at index `parent.up`, created at its completion
    /// `discharge`.
    fn down_case(
        &mut self,
        p: &Patient,
        cond: &Cond,
        fate: DownFate,
        priority: Priority,
        discharge: NaiveDateTime,
        parent: Option<Parent>,
    ) -> Vec<Piece> {
        let net = self.net;
        let (from, from_dept, admitted_on) = match &parent {
            Some(link) => (link.hospital, link.dept, link.admitted_on),
            None => {
                let h = net.hospitals[cond.to];
                let stay = self.rng.random_range(cond.stay.0..=cond.stay.1);
                (h, net.dept(h, cond.dept), discharge.date() - TimeDelta::days(stay))
            }
        };
        // Back to the township centre the patient belongs to (or came from).
        let to = match &parent {
            Some(link)
                if matches!(net.members[link.from].tier, Tier::TownshipCentre | Tier::CommunityCentre) =>
            {
                link.from
            }
            _ => p.centre,
        };
        let rehab = cond.down_reason == DownReason::Rehabilitation && self.chance(0.3);
        let to_dept =
            if rehab { net.dept(to, "中医科") } else { None }.or_else(|| net.dept(to, "全科医疗科"));
        let registration = p.registration(net, from);
        let created = discharge + minutes(&mut self.rng, 2, 30);
        let submit = created + minutes(&mut self.rng, 3, 15);
        let (staff, from_department) = net.clinician(&mut self.rng, from, from_dept);
        let high_risk = self.rng.random_range(0..100) < cond.high_risk;
        let (reason, reason_text) = match pick_weighted(&mut self.rng, &[87, 10, 3]) {
            0 => (cond.down_reason, None),
            1 => (DownReason::PatientWish, Some("患者要求回当地继续治疗")),
            _ => (DownReason::Other, Some("病情稳定，县医院床位紧张")),
        };
        let stay_days = (discharge.date() - admitted_on).num_days();
        let names: Vec<&str> = cond.dx.iter().map(|d| d.1).collect();
        let advice = format!(
            "{}按时服药，定期复查，病情变化及时就诊。",
            cond.rehab.map(|r| r.to_owned()).unwrap_or_default()
        );
        let tests_on = discharge.date() - TimeDelta::days(self.rng.random_range(1..=stay_days.max(1)));
        let mut r = SynthReferral {
            id: Uuid::nil(),
            slip_no: String::new(),
            created_at: utc(created),
            direction: Direction::Downward,
            priority,
            lateral: false,
            patient_source: registration.source.clone(),
            patient_local_id: registration.local_id.clone(),
            from_institution: net.members[from].id,
            from_department,
            from_staff: staff,
            to_institution: Some(net.members[to].id),
            to_department: to_dept,
            external_institution: None,
            reason: reason.as_str().to_owned(),
            reason_text: reason_text.map(str::to_owned),
            chief_complaint: None,
            condition: format!(
                "{}。因“{}”住院{}天，{}，病情{}，转回基层继续治疗。",
                p.words(),
                cond.complaint,
                stay_days,
                cond.course,
                cond.result
            ),
            diagnoses: diagnoses(cond),
            tests: slip_tests(cond.county_tests, tests_on),
            treatment: Some(cond.course.to_owned()),
            precautions: Some(cond.rehab.unwrap_or("按时服药，定期复查，病情变化及时上转。").to_owned()),
            green_centre: None,
            downward: Some(DownwardDetails {
                treatment_result: cond.result.to_owned(),
                discharge_summary: String::new(),
                rehabilitation_advice: cond.rehab.map(str::to_owned),
                medication_plan: cond.meds.map(str::to_owned),
                discharged_on: discharge.date(),
                high_risk,
            }),
            certificate: None,
            parent: None,
            events: Vec::new(),
            stamps: Vec::new(),
            follow_up: None,
        };
        let end = match fate {
            DownFate::Rejected => End::Reject,
            DownFate::Cancelled if self.chance(0.5) => End::CancelSubmitted,
            DownFate::Cancelled => End::CancelAccepted,
            DownFate::Expired => End::Expire,
            DownFate::NoShow => End::NoShow,
            _ => End::Complete,
        };
        let township_beds = matches!(net.members[to].tier, Tier::TownshipCentre);
        let ward = fate == DownFate::Live(State::InCare) || self.chance(0.3);
        let outcome = if township_beds && ward { Outcome::AdmittedDischarged } else { Outcome::Outpatient };
        let care = Care {
            outcome,
            stay: self.rng.random_range(5..=14),
            slow_start: fate == DownFate::Live(State::Arrived),
        };
        let schedule = match fate {
            DownFate::NoShow | DownFate::Live(State::Scheduled) => true,
            DownFate::Expired | DownFate::Live(State::Arrived) => false,
            _ => self.chance(0.3),
        };
        let flow = Flow {
            downward: true,
            priority,
            submit,
            redirect: None,
            department: to_dept,
            end,
            schedule,
            slow_response: fate == DownFate::Overdue,
            care,
        };
        let mut events = Vec::new();
        let times = self.flow(&mut events, &flow);
        r.events = events;

        // The follow-up task, from acceptance.
        if let Some(accepted) = times.accepted
            && !matches!(end, End::CancelAccepted)
        {
            let due = self.settings.follow_up_due(discharge.date(), high_risk);
            let done = match fate {
                DownFate::Lost => None,
                DownFate::Expired | DownFate::NoShow if parent.is_none() && !self.chance(0.6) => None,
                _ => {
                    let day = if self.chance(0.72) {
                        due - TimeDelta::days(self.rng.random_range(0..=4))
                    } else {
                        due + TimeDelta::days(self.rng.random_range(1..=10))
                    };
                    let at = day.and_time(NaiveTime::from_hms_opt(9, 0, 0).expect("valid"))
                        + minutes(&mut self.rng, 0, 510);
                    Some(at.max(accepted + minutes(&mut self.rng, 60, 20 * 60)))
                }
            };
            let note = match done {
                Some(_) => Some(FOLLOW_UP_NOTES[self.rng.random_range(0..FOLLOW_UP_NOTES.len())].to_owned()),
                None if fate == DownFate::Lost => Some("多次电话及入户均未联系到患者".to_owned()),
                None => None,
            };
            r.follow_up = Some(SynthFollowUp { due_on: due, done_at: done.map(utc), note });
            if let Some(completed) = times.completed {
                match (fate, done) {
                    (DownFate::Lost, _) => {
                        let day = due + TimeDelta::days(self.rng.random_range(20..=40));
                        let at = time_on(&mut self.rng, day, &CLINIC_HOURS);
                        let mut events = std::mem::take(&mut r.events);
                        self.close_with(
                            &mut events,
                            NoDownReason::LostToFollowUp,
                            Party::ReceivingCentre,
                            at.max(completed),
                        );
                        r.events = events;
                    }
                    (_, Some(done)) => {
                        let at = done.max(completed) + minutes(&mut self.rng, 1, 30);
                        let mut e = event(Transition::Close, Party::System, at);
                        e.closed_by_rule = true;
                        push(&mut r.events, e);
                    }
                    _ => {}
                }
            }
        }
        let summary = Summary { admitted_on, diagnoses: names.join("；"), course: cond.course, advice };
        vec![Piece { r, parent: parent.map(|l| l.up), summary: Some(summary) }]
    }

    /// Orders the year, gives slip numbers, keys, certificate numbers and parents, writes the
    /// discharge summaries.
    fn finish(mut self) -> Vec<SynthReferral> {
        let mut order: Vec<usize> = (0..self.out.len()).collect();
        order.sort_by_key(|&i| (self.out[i].r.created_at, i));
        let mut ids = vec![Uuid::nil(); self.out.len()];
        for &i in &order {
            ids[i] = IdGen::starting_at(self.out[i].r.created_at).next(&mut self.rng);
        }
        // Slip numbers by day of submission (or sending out), in time order.
        let first_at = |p: &Piece| p.r.events.first().map_or(p.r.created_at, |e| e.at);
        let mut by_submission = order.clone();
        by_submission.sort_by_key(|&i| (first_at(&self.out[i]), i));
        let mut day = None;
        let mut seq = 0;
        for &i in &by_submission {
            let d = china(first_at(&self.out[i])).date();
            if day != Some(d) {
                day = Some(d);
                seq = 0;
            }
            seq += 1;
            self.out[i].r.slip_no = format!("ZZ{}{seq:04}", d.format("%Y%m%d"));
        }
        // Certificate numbers by day of issue.
        let mut certified: Vec<usize> =
            order.iter().copied().filter(|&i| self.out[i].r.certificate.is_some()).collect();
        certified.sort_by_key(|&i| (self.out[i].r.certificate.as_ref().map(|c| c.1), i));
        let mut day = None;
        let mut seq = 0;
        for &i in &certified {
            let c = self.out[i].r.certificate.as_mut().expect("certified");
            if day != Some(c.1) {
                day = Some(c.1);
                seq = 0;
            }
            seq += 1;
            c.2 = format!("YB990121{}{seq:04}", c.1.format("%Y%m%d"));
        }
        let mut out = Vec::with_capacity(order.len());
        for &i in &order {
            let parent = self.out[i].parent.map(|k| ids[k]);
            let summary = self.out[i].summary.take();
            let mut r = std::mem::replace(&mut self.out[i].r, placeholder());
            r.id = ids[i];
            r.parent = parent;
            if let (Some(d), Some(s)) = (r.downward.as_mut(), summary) {
                d.discharge_summary = discharge_summary(&s, d.discharged_on);
            }
            out.push(r);
        }
        out
    }
}

/// The upward referral a downward one answers.
struct Parent {
    /// Index among the case's pieces.
    up: usize,
    /// The county hospital that received it.
    hospital: usize,
    /// The department that took the patient.
    dept: Option<DepartmentId>,
    /// Where it came from.
    from: usize,
    admitted_on: NaiveDate,
}

/// The department an accepted referral was given (the last accept or redirect).
fn r_dept(r: &SynthReferral) -> Option<DepartmentId> {
    r.events
        .iter()
        .rev()
        .find(|e| matches!(e.transition, Transition::Accept | Transition::Redirect))
        .and_then(|e| e.department)
        .or(r.to_department)
}

fn is_superseded(r: &SynthReferral) -> bool {
    r.events.iter().any(|e| e.reason.as_deref() == Some(CancelReason::SupersededByGreen.as_str()))
}

fn placeholder() -> SynthReferral {
    SynthReferral {
        id: Uuid::nil(),
        slip_no: String::new(),
        created_at: DateTime::<Utc>::MIN_UTC,
        direction: Direction::Upward,
        priority: Priority::Routine,
        lateral: false,
        patient_source: String::new(),
        patient_local_id: String::new(),
        from_institution: InstitutionId::from_uuid(Uuid::nil()),
        from_department: None,
        from_staff: None,
        to_institution: None,
        to_department: None,
        external_institution: None,
        reason: String::new(),
        reason_text: None,
        chief_complaint: None,
        condition: String::new(),
        diagnoses: Vec::new(),
        tests: Vec::new(),
        treatment: None,
        precautions: None,
        green_centre: None,
        downward: None,
        certificate: None,
        parent: None,
        events: Vec::new(),
        stamps: Vec::new(),
        follow_up: None,
    }
}

fn discharge_summary(s: &Summary, discharged_on: NaiveDate) -> String {
    format!(
        "出院小结\n入院日期：{}\n出院日期：{}\n住院天数：{}天\n入院诊断：{}\n出院诊断：{}\n诊疗经过：{}，病情好转。\n出院情况：一般情况可，生命体征平稳。\n出院医嘱：{}\n",
        s.admitted_on.format("%Y-%m-%d"),
        discharged_on.format("%Y-%m-%d"),
        (discharged_on - s.admitted_on).num_days(),
        s.diagnoses,
        s.diagnoses,
        s.course,
        s.advice,
    )
}

/// The first and last instants of a case (creation, events, stamps, follow-ups done).
fn bounds(pieces: &[Piece]) -> (DateTime<Utc>, DateTime<Utc>) {
    let mut start = DateTime::<Utc>::MAX_UTC;
    let mut end = DateTime::<Utc>::MIN_UTC;
    for p in pieces {
        let r = &p.r;
        let times = std::iter::once(r.created_at)
            .chain(r.events.iter().map(|e| e.at))
            .chain(r.stamps.iter().map(|s| s.1))
            .chain(r.follow_up.iter().filter_map(|f| f.done_at));
        for t in times {
            start = start.min(t);
            end = end.max(t);
        }
    }
    (start, end)
}

/// When `r` enters `state` and when it leaves it (`None`: never); for an overdue submission,
/// from the moment its response SLA has passed.
fn interval(
    r: &SynthReferral,
    state: State,
    settings: &Settings,
    overdue: bool,
) -> Option<(DateTime<Utc>, Option<DateTime<Utc>>)> {
    let mut s = State::Draft;
    let mut enter = None;
    let mut sla = None;
    for e in &r.events {
        let next = after(s, e.transition, r.priority);
        if matches!(e.transition, Transition::Submit | Transition::Redirect) {
            sla = Some(e.at);
        }
        if next == state && s != state {
            enter = Some(e.at);
        } else if s == state && next != state {
            let a = enter?;
            let a = if overdue { a.max(sla? + settings.respond_within(r.priority)) } else { a };
            return (a < e.at).then_some((a, Some(e.at)));
        }
        s = next;
    }
    let a = enter?;
    let a = if overdue { a.max(sla? + settings.respond_within(r.priority)) } else { a };
    Some((a, None))
}

/// Moves a case by whole days.
fn shift(pieces: &mut [Piece], days: i64) {
    let d = TimeDelta::days(days);
    for p in pieces {
        let r = &mut p.r;
        r.created_at += d;
        for e in &mut r.events {
            e.at += d;
            if let Some(s) = &mut e.slot_at {
                *s += d;
            }
        }
        for s in &mut r.stamps {
            s.1 += d;
        }
        for t in &mut r.tests {
            if let Some(date) = &mut t.date {
                *date += d;
            }
        }
        if let Some(f) = &mut r.follow_up {
            f.due_on += d;
            if let Some(t) = &mut f.done_at {
                *t += d;
            }
        }
        if let Some(x) = &mut r.downward {
            x.discharged_on += d;
        }
        if let Some(c) = &mut r.certificate {
            c.1 += d;
        }
        if let Some(s) = &mut p.summary {
            s.admitted_on += d;
        }
    }
}

#[cfg(test)]
#[path = "tests/referrals.rs"]
mod tests;
