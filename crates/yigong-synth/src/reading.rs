//! One year of the reading centres (基层检查、上级诊断 and 结果互认, DESIGN.md §6.2–6.3, §10.1):
//! about 60 000 remote reports a year for 400 000 residents, ordered at township centres and
//! village clinics and read by the people's hospital's imaging, ECG, laboratory and pathology
//! centres, with the county's catalogue of orderable items and its producers' quality control.
//!
//! The year is planned first, like the referral year: how many items of each kind (ECG 30%, DR
//! 25%, ultrasound 20%, CT 10%, lab 12%, MR 2%, pathology 1%) and of each fate (reported and
//! delivered, amended, cancelled, returned for quality, live in each open state at the start of
//! `cfg.today`, a critical value still open), so that each fate appears even in a small county.
//! Items are handed to residents village by village (older residents more often) and ordered
//! where they live: ECGs and blood samples often at the village clinic, images at the township
//! centre, CT, MR and biopsies at a central one. Each item's life is drawn from its order on,
//! turnaround around the limit of `yigong_domain::reading::sla` (about 90% on time), then moved
//! by whole days so that it ends before `cfg.today` — or so that it is in its planned state then.
//!
//! A recognisable item ordered for a resident who has a result of the same code with the HR mark
//! within its window gets the doctor's decision (about 70% recognised: no order; otherwise
//! repeated, with a national ground). All times are drawn in China time (UTC+8) and stored in
//! UTC; "now" is the start of `cfg.today`, China time. Keys and accession numbers are given last,
//! in time order. Accounts do not exist yet when the county is generated: readers and ordering
//! doctors are staff, and the loader leaves the account columns empty.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use rand::seq::SliceRandom;
use uuid::Uuid;
use yigong_domain::facility::{InstitutionKind, Tier};
use yigong_domain::identity::{DivisionCode, Sex};
use yigong_domain::ids::{InstitutionId, StaffId};
use yigong_domain::population::HealthRecord;
use yigong_domain::reading::report::ReportDraft;
use yigong_domain::reading::{
    Centre, CriticalState, Disposition, ExamKind, ItemState, ItemTransition, Party, QualityReason,
    RetestGround, SpecimenStep, Urgency,
};
use yigong_domain::staffing::StaffCategory;

use crate::registrations::Registration;
use crate::rng::{SynthRng, apportion};
use crate::{Organisation, SynthConfig};

mod catalogue;
mod life;
mod text;
mod year;

use year::Gen;

pub use catalogue::{CATALOGUE, EXPIRED_QC, SynthItem};

// ---------------------------------------------------------------------------------------------
// Public types
// ---------------------------------------------------------------------------------------------

/// The reading year: the catalogue, the producers' quality control and the items in time order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadingYear {
    /// The orderable items.
    pub catalogue: Vec<SynthItem>,
    /// Quality control of the recognisable items at the county hospitals.
    pub qc: Vec<SynthQc>,
    /// Exam items and recognition decisions, in time order (ordered or decided).
    pub entries: Vec<SynthReading>,
}

/// Quality control of one recognisable item at one producing institution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SynthQc {
    /// Catalogue code.
    pub code: &'static str,
    /// The producing institution (a county hospital).
    pub producer: InstitutionId,
    /// Passed (`false`: failed).
    pub passed: bool,
    /// Valid until that day; one item's has run out (see [`EXPIRED_QC`]).
    pub valid_until: NaiveDate,
}

/// One entry of the year: an exam item, a recognition decision that replaced one (a recognised
/// prior result, no new order), or both (a repeated test and the decision that led to it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SynthReading {
    /// The item ordered.
    pub exam: Option<SynthExam>,
    /// The decision at the recognition prompt.
    pub decision: Option<SynthDecision>,
}

/// One exam item with its whole life so far.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SynthExam {
    /// Key (UUIDv7 stamped with `created_at`).
    pub id: Uuid,
    /// `JC`, the China day of the order and the key's last eight hex digits, as the platform
    /// makes them; unique.
    pub accession_no: String,
    /// Source code of the patient's registration at the ordering site (or their first).
    pub patient_source: String,
    /// That registration's local patient id.
    pub patient_local_id: String,
    /// Where it was ordered.
    pub ordering_institution: InstitutionId,
    /// The ordering clinician, posted there.
    pub ordering_staff: Option<StaffId>,
    /// Catalogue code.
    pub item_code: &'static str,
    /// Clinical setting.
    pub urgency: Urgency,
    /// The clinical question.
    pub question: String,
    /// Head CT/MR.
    pub head: bool,
    /// The complex class.
    pub complex: bool,
    /// State now.
    pub state: ItemState,
    /// Optimistic-concurrency version: one more per transition and per specimen step.
    pub version: i32,
    /// Until when the last claim held.
    pub lease_until: Option<DateTime<Utc>>,
    /// The reading institution (the people's hospital), once claimed.
    pub reading_institution: Option<InstitutionId>,
    /// Complete at the centre.
    pub received_at: Option<DateTime<Utc>>,
    /// `received_at` + the limit of `sla`.
    pub due_at: Option<DateTime<Utc>>,
    /// Preliminary report signed.
    pub preliminary_at: Option<DateTime<Utc>>,
    /// Final report signed.
    pub final_at: Option<DateTime<Utc>>,
    /// Back at the ordering site (the last delivery).
    pub delivered_at: Option<DateTime<Utc>>,
    /// The latest report carries the HR mark.
    pub hr: bool,
    /// Latest specimen step (lab items).
    pub specimen_step: Option<SpecimenStep>,
    /// Why cancelled or rejected.
    pub cancel_reason: Option<String>,
    /// Ordered.
    pub created_at: DateTime<Utc>,
    /// Last transition.
    pub updated_at: DateTime<Utc>,
    /// The trail: creation (no transition), then every transition.
    pub events: Vec<SynthExamEvent>,
    /// Report versions, oldest first.
    pub reports: Vec<SynthReport>,
    /// The critical value flagged on it.
    pub critical: Option<SynthCritical>,
    /// The specimen chain (lab items).
    pub specimen: Vec<SynthSpecimenStep>,
    /// Synthetic CT slices to store for it (a few live CT items).
    pub images: Option<SynthImages>,
}

impl SynthExam {
    /// The catalogue item.
    pub fn item(&self) -> &'static SynthItem {
        catalogue::find(self.item_code)
    }

    /// Its kind.
    pub fn kind(&self) -> ExamKind {
        self.item().kind
    }
}

/// One step of an item's trail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SynthExamEvent {
    /// What happened (`None`: created).
    pub transition: Option<ItemTransition>,
    /// Before.
    pub from: ItemState,
    /// After.
    pub to: ItemState,
    /// Who, seen from the item.
    pub party: Party,
    /// Acting institution (`None`: the platform).
    pub institution: Option<InstitutionId>,
    /// When.
    pub at: DateTime<Utc>,
    /// Reason (cancel, reject, amend).
    pub reason: Option<String>,
    /// The lease a claim gave.
    pub lease_until: Option<DateTime<Utc>>,
    /// The report version a report transition signed.
    pub report_version: Option<i32>,
}

/// One report version as signed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SynthReport {
    /// 1, 2, …
    pub version: i32,
    /// `preliminary`, `final` or `amended`.
    pub status: &'static str,
    /// The content, valid for the item's kind.
    pub draft: ReportDraft,
    /// HR mark: a recognisable item whose producer's QC was valid on the signing day.
    pub hr: bool,
    /// The signer (a reader posted at the centre).
    pub author: StaffId,
    /// The signer's name.
    pub author_name: String,
    /// The signer's institution.
    pub institution: InstitutionId,
    /// Why amended.
    pub reason: Option<String>,
    /// When.
    pub signed_at: DateTime<Utc>,
}

/// A critical value (危急值) and what the ordering site did about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SynthCritical {
    /// Key.
    pub id: Uuid,
    /// State.
    pub state: CriticalState,
    /// Optimistic-concurrency version: one more per step and for the escalation.
    pub version: i32,
    /// What was found.
    pub finding: String,
    /// Flagged with the report (and the site told at once).
    pub identified_at: DateTime<Utc>,
    /// The site was told.
    pub notified_at: Option<DateTime<Utc>>,
    /// Acknowledged with read-back.
    pub acknowledged_at: Option<DateTime<Utc>>,
    /// The clinician who acknowledged (name as recorded).
    pub acknowledged_name: Option<String>,
    /// The read-back as recorded.
    pub read_back: Option<String>,
    /// What was done.
    pub disposition: Option<Disposition>,
    /// Notes on it.
    pub disposition_note: Option<String>,
    /// Disposed.
    pub disposed_at: Option<DateTime<Utc>>,
    /// Closed.
    pub closed_at: Option<DateTime<Utc>>,
    /// The site head was called (unacknowledged past 15 minutes).
    pub escalated_at: Option<DateTime<Utc>>,
}

/// One step of a specimen's chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SynthSpecimenStep {
    /// The step.
    pub step: SpecimenStep,
    /// Where.
    pub place: String,
    /// At which institution (`None`: on the road).
    pub institution: Option<InstitutionId>,
    /// Why rejected.
    pub reason: Option<QualityReason>,
    /// Temperature logged.
    pub temperature: Option<&'static str>,
    /// When.
    pub at: DateTime<Utc>,
}

/// The synthetic images of an item (made by the loader with `yigong_dicom::synthetic`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SynthImages {
    /// Slices in the one series.
    pub slices: u32,
    /// The patient's name (characters).
    pub patient_name: String,
    /// Sex.
    pub sex: Sex,
    /// Birth date.
    pub birth_date: NaiveDate,
    /// Study date (China).
    pub study_date: NaiveDate,
}

/// The doctor's decision at the recognition prompt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SynthDecision {
    /// Key.
    pub id: Uuid,
    /// Catalogue code.
    pub code: &'static str,
    /// The patient's registration at the deciding site (source, local id).
    pub patient_source: String,
    /// Its local id.
    pub patient_local_id: String,
    /// The result offered (an earlier item of the year).
    pub prior_order: Uuid,
    /// Where it was decided.
    pub institution: InstitutionId,
    /// Recognised: no new test.
    pub recognised: bool,
    /// Why repeated (national grounds only).
    pub ground: Option<RetestGround>,
    /// Text of `other`.
    pub ground_text: Option<String>,
    /// The item's price.
    pub price_fen: i64,
    /// The new order (repeated).
    pub new_order: Option<Uuid>,
    /// When.
    pub decided_at: DateTime<Utc>,
}

/// Generates the reading year of `cfg`'s county.
pub fn reading(cfg: &SynthConfig, org: &Organisation) -> ReadingYear {
    let net = Net::new(org, cfg.today);
    let mut year = Gen::new(cfg, &net);
    let qc = year.quality_control();
    year.qc_until = qc
        .iter()
        .filter(|q| q.producer == net.sites[net.hospital].id && q.passed)
        .map(|q| (q.code, q.valid_until))
        .collect();
    let cases = plan(&mut year.rng, volume(cfg.residents));
    let villages: Vec<&str> =
        org.divisions.iter().filter(|d| d.level == "village").map(|d| d.code.as_str()).collect();
    let populations: Vec<u32> = org
        .divisions
        .iter()
        .filter(|d| d.level == "village")
        .map(|d| u32::try_from(d.population.unwrap_or(0).max(0)).unwrap_or(u32::MAX))
        .collect();
    let quotas = apportion(u32::try_from(cases.len()).expect("a year of items"), &populations);
    let quota: HashMap<&str, u32> = villages.iter().copied().zip(quotas).collect();
    let mut next = 0;
    for (residents, registered) in crate::residents(cfg, org).zip(crate::registrations(cfg, org)) {
        debug_assert_eq!(residents.village_code, registered.village_code);
        let k = quota.get(residents.village_code.as_str()).copied().unwrap_or(0) as usize;
        let k = k.min(cases.len() - next);
        if k == 0 {
            continue;
        }
        let Some(place) = net.places.get(&residents.village_code) else { continue };
        let mut spans = Vec::with_capacity(residents.records.len());
        let mut at = 0;
        for record in &residents.records {
            let first = at;
            while at < registered.truth.len() && registered.truth[at].person == record.record_no {
                at += 1;
            }
            spans.push(first..at);
        }
        let people: Vec<Patient> = residents
            .records
            .iter()
            .zip(&spans)
            .map(|(record, span)| Patient {
                record,
                registrations: &registered.registrations[span.clone()],
                place,
                age: cfg.today.years_since(record.birth_date).unwrap_or(0),
            })
            .collect();
        year.village(&cases[next..next + k], &people);
        next += k;
    }
    ReadingYear { catalogue: CATALOGUE.to_vec(), qc, entries: year.finish() }
}

/// Items a year for `residents` residents: 60 000 for 400 000 (DESIGN.md §10).
fn volume(residents: u32) -> usize {
    ((u64::from(residents) * 60_000 + 200_000) / 400_000) as usize
}

/// The stream of the reading year: `READINGS` in ASCII.
const STREAM: u64 = 0x5245_4144_494E_4753;

/// The share of reported recognisable results that the patient brings to another order of
/// the same item within its window.
const REPEAT_SHARE: f64 = 0.05;

/// The share of those where the doctor recognises the result.
const RECOGNISED_SHARE: f64 = 0.7;

// ---------------------------------------------------------------------------------------------
// The plan
// ---------------------------------------------------------------------------------------------

/// How an item ends (or where it stands at the start of `cfg.today`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fate {
    /// Reported, delivered.
    Done,
    /// Delivered, then amended and delivered again.
    Amended,
    /// Cancelled by the ordering site.
    Cancelled,
    /// Returned for quality.
    Rejected,
    /// Live, in this state.
    Live(ItemState),
    /// Reported within the hour with a critical value still open.
    CriticalOpen,
}

#[derive(Debug, Clone, Copy)]
struct Case {
    kind: ExamKind,
    fate: Fate,
    critical: bool,
    images: bool,
    /// Through a green channel (a chest-pain ECG, a stroke CT).
    green: bool,
}

/// Kinds per 1 000 items.
const KINDS: &[(ExamKind, u32)] = &[
    (ExamKind::Ecg, 300),
    (ExamKind::Dr, 250),
    (ExamKind::Ultrasound, 200),
    (ExamKind::Ct, 100),
    (ExamKind::Lab, 120),
    (ExamKind::Mr, 20),
    (ExamKind::Pathology, 10),
];

fn imaging(kind: ExamKind) -> bool {
    matches!(kind, ExamKind::Dr | ExamKind::Ct | ExamKind::Mr | ExamKind::Ultrasound)
}

/// Plans `n` items: kinds, fates, critical values, the live CT items that get images.
fn plan(rng: &mut SynthRng, n: usize) -> Vec<Case> {
    let total = u32::try_from(n).expect("a year of items");
    let parts = apportion(total, &KINDS.iter().map(|k| k.1).collect::<Vec<_>>());
    let mut cases: Vec<Case> = KINDS
        .iter()
        .zip(parts)
        .flat_map(|(&(kind, _), count)| {
            std::iter::repeat_n(
                Case { kind, fate: Fate::Done, critical: false, images: false, green: false },
                count as usize,
            )
        })
        .collect();
    cases.shuffle(rng);
    let per = |rate: usize, scale: usize, min: usize| (n * rate / scale).max(min);
    let mut give = |count: usize, fits: &dyn Fn(ExamKind) -> bool, set: &dyn Fn(&mut Case)| {
        let mut given = 0;
        for c in cases.iter_mut() {
            if given == count {
                break;
            }
            if c.fate == Fate::Done && !c.critical && fits(c.kind) {
                set(c);
                given += 1;
            }
        }
    };
    // The live CT items with images first, so that a small county has them too.
    give(3, &|k| k == ExamKind::Ct, &|c| {
        c.fate = Fate::Live(ItemState::Queued);
        c.images = true;
    });
    give(2, &|k| k == ExamKind::Ct, &|c| {
        c.fate = Fate::Live(ItemState::Claimed);
        c.images = true;
    });
    give(per(20, 10_000, 2), &|_| true, &|c| c.fate = Fate::Live(ItemState::Ordered));
    give(per(10, 10_000, 2), &|_| true, &|c| c.fate = Fate::Live(ItemState::Acquired));
    give(per(25, 10_000, 4), &|_| true, &|c| c.fate = Fate::Live(ItemState::Queued));
    give(per(3, 10_000, 3), &|_| true, &|c| c.fate = Fate::Live(ItemState::Claimed));
    give(per(15, 100_000, 2), &|k| matches!(k, ExamKind::Ct | ExamKind::Dr | ExamKind::Ultrasound), &|c| {
        c.fate = Fate::Live(ItemState::Preliminary)
    });
    give(per(1, 100, 1), &|_| true, &|c| c.fate = Fate::Cancelled);
    give(per(5, 1_000, 1), &|_| true, &|c| c.fate = Fate::Rejected);
    give(per(3, 1_000, 1), &imaging, &|c| c.fate = Fate::Amended);
    // Critical values: 0.6% of the items, half on ECGs, the rest on potassium and head CT.
    let critical = per(6, 1_000, 3);
    let open = (critical * 4 / 100).max(1);
    give(open, &|k| matches!(k, ExamKind::Ecg | ExamKind::Lab), &|c| {
        c.fate = Fate::CriticalOpen;
        c.critical = true;
    });
    let rest = critical.saturating_sub(open);
    let ecg = rest / 2;
    let lab = rest * 3 / 10;
    give(ecg, &|k| k == ExamKind::Ecg, &|c| c.critical = true);
    give(lab, &|k| k == ExamKind::Lab, &|c| c.critical = true);
    give(rest - ecg - lab, &|k| k == ExamKind::Ct, &|c| c.critical = true);
    // Green channels: 0.3% of the items, chest-pain ECGs and stroke CTs.
    give(per(3, 1_000, 2), &|k| matches!(k, ExamKind::Ecg | ExamKind::Ct), &|c| c.green = true);
    cases.shuffle(rng);
    cases
}

// ---------------------------------------------------------------------------------------------
// The county as the reading year reads it
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone)]
struct Person {
    staff: StaffId,
    name: String,
}

struct Site {
    id: InstitutionId,
    code: String,
    name: String,
    village: bool,
    clinicians: Vec<Person>,
}

/// Where a village's residents are examined.
struct Place {
    /// Their village clinic (or community station), if it has one.
    village: Option<usize>,
    /// Their township (or community) centre.
    centre: usize,
    /// The central township centre with CT, MR and endoscopy nearest them.
    imaging: usize,
}

struct Net {
    sites: Vec<Site>,
    places: HashMap<String, Place>,
    /// The people's hospital: the reading centres.
    hospital: usize,
    /// The three county hospitals (QC rows).
    hospitals: [usize; 3],
    /// Readers by centre: imaging, ECG, lab, pathology.
    readers: [Vec<Person>; 4],
}

fn centre_index(c: Centre) -> usize {
    match c {
        Centre::Imaging => 0,
        Centre::Ecg => 1,
        Centre::Lab => 2,
        Centre::Pathology => 3,
    }
}

impl Net {
    fn new(org: &Organisation, today: NaiveDate) -> Self {
        let first = today - TimeDelta::days(365);
        let staff: HashMap<StaffId, (&str, StaffCategory)> =
            org.staff.iter().map(|(s, _)| (s.id, (s.name.as_str(), s.category))).collect();
        let mut sites: Vec<Site> = Vec::new();
        let mut tiers: Vec<Tier> = Vec::new();
        let mut central: Vec<bool> = Vec::new();
        let mut divisions: Vec<String> = Vec::new();
        let mut index: HashMap<InstitutionId, usize> = HashMap::new();
        for i in &org.institutions {
            if let InstitutionKind::Member(tier) = i.kind {
                index.insert(i.id, sites.len());
                sites.push(Site {
                    id: i.id,
                    code: i.code.clone(),
                    name: i.name.clone(),
                    village: matches!(tier, Tier::VillageClinic | Tier::CommunityStation),
                    clinicians: Vec::new(),
                });
                tiers.push(tier);
                central.push(i.is_central);
                divisions.push(i.division_code.as_str().to_owned());
            }
        }
        let tier = |t: Tier| tiers.iter().position(|&x| x == t).expect("the county hospitals exist");
        let hospital = tier(Tier::CountyGeneral);
        let hospitals = [hospital, tier(Tier::CountyTcm), tier(Tier::CountyMch)];
        let centres = ["影像诊断中心", "心电诊断中心", "检验中心", "病理诊断中心"];
        let mut readers: [Vec<(bool, Person)>; 4] = Default::default();
        let reading_dept: HashMap<_, usize> = org
            .departments
            .iter()
            .filter(|d| d.institution_id == sites[hospital].id)
            .filter_map(|d| centres.iter().position(|&n| n == d.name).map(|k| (d.id, k)))
            .collect();
        for p in &org.postings {
            if !(p.active_on(first) && p.active_on(today)) {
                continue;
            }
            let Some(&(name, category)) = staff.get(&p.staff_id) else { continue };
            let person = Person { staff: p.staff_id, name: name.to_owned() };
            if let Some(&k) = p.department_id.as_ref().and_then(|d| reading_dept.get(d)) {
                readers[k].push((category == StaffCategory::Physician, person));
            } else if let Some(&k) = index.get(&p.institution_id)
                && matches!(
                    category,
                    StaffCategory::Physician
                        | StaffCategory::AssistantPhysician
                        | StaffCategory::VillageDoctor
                )
            {
                sites[k].clinicians.push(person);
            }
        }
        let hospital_physicians: Vec<Person> = sites[hospital].clinicians.clone();
        let readers = readers.map(|list| {
            let physicians: Vec<Person> = list.iter().filter(|(p, _)| *p).map(|(_, x)| x.clone()).collect();
            if !physicians.is_empty() {
                physicians
            } else if !list.is_empty() {
                list.into_iter().map(|(_, x)| x).collect()
            } else {
                hospital_physicians.clone()
            }
        });
        let find = |wanted: &[Tier], code: &str| {
            (0..sites.len()).find(|&k| wanted.contains(&tiers[k]) && divisions[k] == code)
        };
        let centrals: Vec<usize> =
            (0..sites.len()).filter(|&k| tiers[k] == Tier::TownshipCentre && central[k]).collect();
        let mut places = HashMap::new();
        for d in org.divisions.iter().filter(|d| d.level == "village") {
            let Ok(code) = DivisionCode::parse(&d.code) else { continue };
            let Some(township) = code.township() else { continue };
            let village = find(&[Tier::VillageClinic, Tier::CommunityStation], &d.code);
            let Some(centre) = find(&[Tier::TownshipCentre, Tier::CommunityCentre], &township) else {
                continue;
            };
            let imaging = if central[centre] || centrals.is_empty() {
                centre
            } else {
                let h = township.bytes().fold(0usize, |h, b| h.wrapping_mul(31).wrapping_add(usize::from(b)));
                centrals[h % centrals.len()]
            };
            places.insert(d.code.clone(), Place { village, centre, imaging });
        }
        Self { sites, places, hospital, hospitals, readers }
    }
}

/// A resident with what the reading year needs of them.
struct Patient<'v> {
    record: &'v HealthRecord,
    registrations: &'v [Registration],
    place: &'v Place,
    age: u32,
}

impl Patient<'_> {
    /// The registration at `site`, else the first.
    fn registration(&self, net: &Net, site: usize) -> &Registration {
        let code = &net.sites[site].code;
        self.registrations.iter().find(|r| &r.source == code).unwrap_or(&self.registrations[0])
    }

    fn who(&self) -> text::Who {
        text::Who { sex: self.record.sex, age: self.age }
    }
}

/// How often a resident is examined (relative).
fn exam_weight(p: &Patient) -> u32 {
    if p.registrations.is_empty() {
        return 0;
    }
    match p.age {
        0 => 1,
        1..14 => 3,
        14..20 => 4,
        20..35 if p.record.sex == Sex::Female => 9,
        20..35 => 5,
        35..50 => 9,
        50..60 => 14,
        60..70 => 20,
        _ => 24,
    }
}

#[cfg(test)]
#[path = "tests/reading.rs"]
mod tests;
