//! The year as a whole: the planned items handed to a village's residents, the results that
//! come back within their window and the doctor's decisions about them, the QC, and the keys
//! and accession numbers given last in time order.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use rand::Rng;
use uuid::Uuid;
use yigong_domain::identity::Sex;
use yigong_domain::ids::InstitutionId;
use yigong_domain::reading::{Centre, ExamKind, ItemState, RetestGround, Urgency};

use super::catalogue::{self, CATALOGUE, EXPIRED_QC, SynthItem};
use super::{
    Case, Fate, Net, Patient, Person, RECOGNISED_SHARE, REPEAT_SHARE, STREAM, SynthDecision, SynthExam,
    SynthQc, SynthReading, centre_index, exam_weight, text,
};
use crate::SynthConfig;
use crate::referrals::{CLINIC_HOURS, china, draw_day, time_on, utc};
use crate::rng::{self, IdGen, SynthRng, Weighted, pick_weighted};

/// What an item is, where, for whom.
#[derive(Debug, Clone, Copy)]
pub(super) struct Spec {
    pub(super) item: &'static SynthItem,
    pub(super) site: usize,
    pub(super) urgency: Urgency,
    pub(super) head: bool,
    pub(super) complex: bool,
    pub(super) fate: Fate,
    pub(super) critical: bool,
    pub(super) images: bool,
}

/// Where a built life goes in time.
#[derive(Debug, Clone, Copy)]
pub(super) enum Placement {
    /// On a day of the year, ended before now.
    Past,
    /// Ordered at this instant (and ended before now).
    At(DateTime<Utc>),
    /// In `Fate::Live`'s state now.
    Live(ItemState),
    /// Its critical value flagged within the last hour.
    CriticalOpen,
}

/// A decision being made, before keys exist.
#[derive(Debug, Clone)]
struct DecisionDraft {
    code: &'static str,
    source: String,
    local_id: String,
    /// The prior result, an index into [`Gen::out`].
    prior: Option<usize>,
    institution: InstitutionId,
    recognised: bool,
    ground: Option<RetestGround>,
    ground_text: Option<String>,
    price_fen: i64,
    decided_at: DateTime<Utc>,
}

struct Entry {
    exam: Option<SynthExam>,
    decision: Option<DecisionDraft>,
    /// A planned decision that found no prior: left out.
    dropped: bool,
}

impl Entry {
    fn at(&self) -> DateTime<Utc> {
        match (&self.exam, &self.decision) {
            (Some(e), _) => e.created_at,
            (None, Some(d)) => d.decided_at,
            (None, None) => DateTime::<Utc>::MIN_UTC,
        }
    }

    fn code(&self) -> &'static str {
        match (&self.exam, &self.decision) {
            (Some(e), _) => e.item_code,
            (None, Some(d)) => d.code,
            (None, None) => "",
        }
    }
}

pub(super) struct Gen<'n> {
    pub(super) rng: SynthRng,
    pub(super) net: &'n Net,
    pub(super) today: NaiveDate,
    pub(super) first: NaiveDate,
    /// The start of `today`, China time.
    pub(super) now: DateTime<Utc>,
    /// The people's hospital's passed QC: code → valid until.
    pub(super) qc_until: HashMap<&'static str, NaiveDate>,
    out: Vec<Entry>,
}

impl<'n> Gen<'n> {
    pub(super) fn new(cfg: &SynthConfig, net: &'n Net) -> Self {
        Self {
            rng: rng::rng(cfg.seed, STREAM),
            net,
            today: cfg.today,
            first: cfg.today - TimeDelta::days(365),
            now: utc(cfg.today.and_time(chrono::NaiveTime::MIN)),
            qc_until: HashMap::new(),
            out: Vec::new(),
        }
    }

    /// QC rows: every recognisable item at the people's hospital, radiographs and the blood
    /// tests at the other two county hospitals, CT at the TCM hospital; all passed and valid
    /// past `today` but one (see [`EXPIRED_QC`]).
    pub(super) fn quality_control(&mut self) -> Vec<SynthQc> {
        let mut out = Vec::new();
        for item in CATALOGUE.iter().filter(|i| i.recognition.is_some()) {
            for (k, &h) in self.net.hospitals.iter().enumerate() {
                let produces = match k {
                    0 => true,
                    1 => {
                        matches!(item.kind, ExamKind::Dr | ExamKind::Lab)
                            || matches!(item.code, "CT-HEAD" | "CT-CHEST")
                    }
                    _ => matches!(item.kind, ExamKind::Dr | ExamKind::Lab),
                };
                if !produces {
                    continue;
                }
                let valid_until = if k == 0 && item.code == EXPIRED_QC {
                    self.today - TimeDelta::days(21)
                } else {
                    self.today + TimeDelta::days(self.rng.random_range(60..=330))
                };
                out.push(SynthQc {
                    code: item.code,
                    producer: self.net.sites[h].id,
                    passed: true,
                    valid_until,
                });
            }
        }
        out
    }

    /// Whether a report on `code` signed at `at` carries the HR mark (what the platform checks
    /// when it signs: the producer's QC on that UTC day).
    pub(super) fn hr(&self, code: &str, at: DateTime<Utc>) -> bool {
        catalogue::find(code).recognition.is_some()
            && self.qc_until.get(code).is_some_and(|until| at.date_naive() <= *until)
    }

    pub(super) fn reader(&mut self, centre: Centre) -> Person {
        let list = &self.net.readers[centre_index(centre)];
        list[self.rng.random_range(0..list.len())].clone()
    }

    pub(super) fn clinician(&mut self, site: usize) -> Option<Person> {
        let list = &self.net.sites[site].clinicians;
        (!list.is_empty()).then(|| list[self.rng.random_range(0..list.len())].clone())
    }

    /// The items of one village's `cases` for its residents `people`.
    pub(super) fn village(&mut self, cases: &[Case], people: &[Patient]) {
        let weights: Vec<u32> = people.iter().map(exam_weight).collect();
        if weights.iter().all(|&w| w == 0) {
            return;
        }
        let table = Weighted::new(weights.iter().copied());
        let start = self.out.len();
        let mut owner: Vec<usize> = Vec::new();
        for &case in cases {
            let i = table.sample(&mut self.rng);
            let spec = self.spec(case, &people[i]);
            let placement = match case.fate {
                Fate::Live(state) => Placement::Live(state),
                Fate::CriticalOpen => Placement::CriticalOpen,
                _ => Placement::Past,
            };
            if let Some(exam) = self.build(spec, &people[i], placement) {
                self.out.push(Entry { exam: Some(exam), decision: None, dropped: false });
                owner.push(i);
            }
        }
        // Some reported results come back within their window with another order.
        for k in start..self.out.len() {
            let Some(exam) = &self.out[k].exam else { continue };
            let item = exam.item();
            let (Some((_, days, _)), Some(reported)) = (item.recognition, exam.final_at) else { continue };
            if !exam.hr || !self.rng.random_bool(REPEAT_SHARE) {
                continue;
            }
            let lo = reported + TimeDelta::hours(2);
            let hi = (reported + TimeDelta::days(days) * 85 / 100).min(self.now - TimeDelta::days(3));
            if hi <= lo {
                continue;
            }
            let p = &people[owner[k - start]];
            let at = self.clinic_time(lo, hi);
            let site = match item.kind {
                ExamKind::Ct | ExamKind::Mr => p.place.imaging,
                _ => p.place.centre,
            };
            let urgency = match pick_weighted(&mut self.rng, &[85, 8, 7]) {
                0 => Urgency::Outpatient,
                1 => Urgency::Inpatient,
                _ if item.kind == ExamKind::Mr => Urgency::Outpatient,
                _ => Urgency::Emergency,
            };
            let registration = p.registration(self.net, site);
            let mut decision = DecisionDraft {
                code: item.code,
                source: registration.source.clone(),
                local_id: registration.local_id.clone(),
                prior: None,
                institution: self.net.sites[site].id,
                recognised: true,
                ground: None,
                ground_text: None,
                price_fen: item.price_fen,
                decided_at: at,
            };
            if self.rng.random_bool(RECOGNISED_SHARE) {
                self.out.push(Entry { exam: None, decision: Some(decision), dropped: false });
                owner.push(owner[k - start]);
                continue;
            }
            let head = matches!(item.code, "CT-HEAD" | "MR-HEAD");
            let spec = Spec {
                item,
                site,
                urgency,
                head,
                complex: false,
                fate: Fate::Done,
                critical: false,
                images: false,
            };
            if let Some(exam) = self.build(spec, p, Placement::At(at)) {
                let (ground, text) = text::retest_ground(&mut self.rng, urgency == Urgency::Emergency);
                decision.recognised = false;
                decision.ground = Some(ground);
                decision.ground_text = text;
                self.out.push(Entry { exam: Some(exam), decision: Some(decision), dropped: false });
                owner.push(owner[k - start]);
            }
        }
        self.recognise(start, &owner, people);
    }

    /// A time in clinic hours within `lo..=hi` (clamped to it).
    fn clinic_time(&mut self, lo: DateTime<Utc>, hi: DateTime<Utc>) -> DateTime<Utc> {
        let day = draw_day(&mut self.rng, china(lo).date(), china(hi).date());
        utc(time_on(&mut self.rng, day, &CLINIC_HOURS)).clamp(lo, hi)
    }

    /// Gives each item ordered while its patient holds a recognisable result of the same code
    /// (HR, within the window) the doctor's decision: a planned one its prior, any other a
    /// repetition with a national ground. Planned decisions that find no prior are dropped.
    fn recognise(&mut self, start: usize, owner: &[usize], people: &[Patient]) {
        let mut order: Vec<usize> = (0..self.out.len() - start).collect();
        order.sort_by_key(|&j| (owner[j], self.out[start + j].at(), j));
        let mut results: Vec<(&'static str, DateTime<Utc>, usize)> = Vec::new();
        let mut person = usize::MAX;
        for j in order {
            if owner[j] != person {
                person = owner[j];
                results.clear();
            }
            let k = start + j;
            let (code, at) = (self.out[k].code(), self.out[k].at());
            if let Some((_, days, _)) = catalogue::find(code).recognition {
                let prior = results
                    .iter()
                    .filter(|r| r.0 == code && r.1 <= at && at - r.1 <= TimeDelta::days(days))
                    .max_by_key(|r| (r.1, r.2))
                    .map(|r| r.2);
                let emergency = self.out[k].exam.as_ref().is_some_and(|e| e.urgency == Urgency::Emergency);
                match (prior, self.out[k].decision.is_some()) {
                    (Some(p), true) => {
                        if let Some(d) = self.out[k].decision.as_mut() {
                            d.prior = Some(p);
                        }
                    }
                    (Some(p), false) => {
                        let (ground, text) = text::retest_ground(&mut self.rng, emergency);
                        let exam = self.out[k].exam.as_ref().expect("an entry without a decision is an exam");
                        let patient = &people[owner[j]];
                        let site = self.net.sites.iter().position(|s| s.id == exam.ordering_institution);
                        let registration =
                            site.map_or(&patient.registrations[0], |s| patient.registration(self.net, s));
                        let d = DecisionDraft {
                            code,
                            source: registration.source.clone(),
                            local_id: registration.local_id.clone(),
                            prior: Some(p),
                            institution: exam.ordering_institution,
                            recognised: false,
                            ground: Some(ground),
                            ground_text: text,
                            price_fen: exam.item().price_fen,
                            decided_at: at,
                        };
                        self.out[k].decision = Some(d);
                    }
                    (None, true) => {
                        if self.out[k].exam.is_some() {
                            self.out[k].decision = None;
                        } else {
                            self.out[k].dropped = true;
                        }
                    }
                    (None, false) => {}
                }
            }
            if let Some(e) = &self.out[k].exam
                && let Some(reported) = e.final_at
                && e.hr
            {
                results.push((code, reported, k));
            }
        }
    }

    /// What a planned case is: site, urgency, item.
    fn spec(&mut self, case: Case, p: &Patient) -> Spec {
        let place = p.place;
        let site = match case.kind {
            ExamKind::Ecg if place.village.is_some() && self.rng.random_bool(0.45) => place.village,
            ExamKind::Lab if place.village.is_some() && self.rng.random_bool(0.35) => place.village,
            ExamKind::Ct | ExamKind::Mr | ExamKind::Pathology => Some(place.imaging),
            _ => None,
        }
        .unwrap_or(place.centre);
        let village = self.net.sites[site].village;
        let mut urgency = if village {
            [Urgency::Outpatient, Urgency::PhysicalExam, Urgency::Emergency]
                [pick_weighted(&mut self.rng, &[785, 180, 30])]
        } else {
            [Urgency::Outpatient, Urgency::PhysicalExam, Urgency::Inpatient, Urgency::Emergency]
                [pick_weighted(&mut self.rng, &[630, 140, 200, 30])]
        };
        if case.green {
            urgency = Urgency::Green;
        }
        if case.fate == Fate::Live(ItemState::Preliminary) {
            urgency = Urgency::Emergency;
        }
        if case.critical {
            urgency = match case.kind {
                ExamKind::Ct if self.rng.random_bool(0.3) => Urgency::Green,
                ExamKind::Ct => Urgency::Emergency,
                ExamKind::Ecg => [Urgency::Emergency, Urgency::Green, Urgency::Outpatient]
                    [pick_weighted(&mut self.rng, &[50, 15, 35])],
                _ if urgency == Urgency::Green => Urgency::Emergency,
                _ => urgency,
            };
        }
        urgency = match (urgency, case.kind) {
            (Urgency::Green, ExamKind::Ecg | ExamKind::Ct) => Urgency::Green,
            (Urgency::Green, ExamKind::Mr | ExamKind::Pathology) => Urgency::Outpatient,
            (Urgency::Green, _) => Urgency::Emergency,
            (Urgency::Emergency, ExamKind::Mr | ExamKind::Pathology) => Urgency::Outpatient,
            (Urgency::PhysicalExam, ExamKind::Ct | ExamKind::Mr | ExamKind::Pathology) => Urgency::Outpatient,
            (u, _) => u,
        };
        let item = self.item(case, urgency, p);
        let head = matches!(item.code, "CT-HEAD" | "MR-HEAD");
        let complex = match case.kind {
            ExamKind::Ct | ExamKind::Mr => !urgency.due_at_preliminary() && self.rng.random_bool(0.05),
            ExamKind::Pathology => self.rng.random_bool(0.15),
            _ => false,
        };
        Spec {
            item,
            site,
            urgency,
            head,
            complex,
            fate: case.fate,
            critical: case.critical,
            images: case.images,
        }
    }

    /// The item of `case`'s kind for this urgency and patient.
    fn item(&mut self, case: Case, urgency: Urgency, p: &Patient) -> &'static SynthItem {
        if case.critical {
            return catalogue::find(match case.kind {
                ExamKind::Ecg => "ECG-12",
                ExamKind::Lab => "LAB-BIOCHEM",
                _ => "CT-HEAD",
            });
        }
        if urgency == Urgency::Green && case.kind == ExamKind::Ct {
            return catalogue::find("CT-HEAD");
        }
        let female = p.record.sex == Sex::Female;
        let weights: Vec<(&str, u32)> = catalogue::weights(case.kind)
            .iter()
            .map(|&(code, w)| {
                let fits_patient = match code {
                    "US-OB" => female && (18..=45).contains(&p.age),
                    "PATH-TCT" => female && (25..=64).contains(&p.age),
                    _ => true,
                };
                let fits_urgency = match urgency {
                    Urgency::PhysicalExam => matches!(
                        code,
                        "ECG-12"
                            | "DR-CHEST"
                            | "US-ABD"
                            | "US-THYROID"
                            | "LAB-CBC"
                            | "LAB-BIOCHEM"
                            | "LAB-URINE"
                            | "LAB-HBA1C"
                    ),
                    Urgency::Emergency | Urgency::Green => !matches!(
                        code,
                        "DR-LSPINE"
                            | "DR-KNEE"
                            | "US-THYROID"
                            | "US-OB"
                            | "CT-LSPINE"
                            | "LAB-HBA1C"
                            | "LAB-URINE"
                    ),
                    _ => true,
                };
                let boost = if urgency == Urgency::Emergency && code == "CT-HEAD" { 3 } else { 1 };
                (code, if fits_patient && fits_urgency { w * boost } else { 0 })
            })
            .collect();
        if weights.iter().all(|w| w.1 == 0) {
            return catalogue::find(match case.kind {
                ExamKind::Ultrasound => "US-ABD",
                ExamKind::Pathology => "PATH-BIOPSY",
                _ => catalogue::weights(case.kind)[0].0,
            });
        }
        let k = pick_weighted(&mut self.rng, &weights.iter().map(|w| w.1).collect::<Vec<_>>());
        catalogue::find(weights[k].0)
    }

    /// Orders the entries in time and gives keys, accession numbers and the decisions' links.
    pub(super) fn finish(mut self) -> Vec<SynthReading> {
        let mut order: Vec<usize> = (0..self.out.len()).filter(|&i| !self.out[i].dropped).collect();
        order.sort_by_key(|&i| (self.out[i].at(), i));
        let mut ids = vec![Uuid::nil(); self.out.len()];
        let mut accessions = std::collections::HashSet::new();
        for &i in &order {
            let at = self.out[i].at();
            let rng = &mut self.rng;
            if let Some(x) = self.out[i].exam.as_mut() {
                let mut keys = IdGen::starting_at(at);
                loop {
                    let id = keys.next(rng);
                    let tail = id.simple().to_string();
                    let accession =
                        format!("JC{}{}", china(at).format("%Y%m%d"), tail[tail.len() - 8..].to_uppercase());
                    if accessions.insert(accession.clone()) {
                        x.id = id;
                        x.accession_no = accession;
                        break;
                    }
                }
                ids[i] = x.id;
                if let Some(c) = x.critical.as_mut() {
                    c.id = IdGen::starting_at(c.identified_at).next(rng);
                }
            }
        }
        let mut out = Vec::with_capacity(order.len());
        for &i in &order {
            let entry = &mut self.out[i];
            let exam = entry.exam.take();
            let decision = entry.decision.take().and_then(|d| {
                let prior = ids[d.prior?];
                Some(SynthDecision {
                    id: IdGen::starting_at(d.decided_at).next(&mut self.rng),
                    code: d.code,
                    patient_source: d.source,
                    patient_local_id: d.local_id,
                    prior_order: prior,
                    institution: d.institution,
                    recognised: d.recognised,
                    ground: d.ground,
                    ground_text: d.ground_text,
                    price_fen: d.price_fen,
                    new_order: exam.as_ref().map(|e| e.id),
                    decided_at: d.decided_at,
                })
            });
            if exam.is_none() && decision.is_none() {
                continue;
            }
            out.push(SynthReading { exam, decision });
        }
        out
    }
}
