//! One resident's year: their chronic conditions and usual values, then every visit and
//! admission with its place, time and diagnoses, before anything is written as FHIR.
//!
//! Rates are per resident and year, skewed by age and chronic disease and spread by a personal
//! frailty (a gamma(2) factor of mean 1), calibrated so that the county sees about six visits
//! per resident (DESIGN.md §10: 2.4 M for 400 000), a third at village sites, under a third at
//! township centres and two fifths at the county hospitals, and about 0.2 admissions.

use chrono::{Datelike, Days, NaiveDate, NaiveDateTime, NaiveTime, TimeDelta};
use rand::Rng;
use yigong_domain::identity::Sex;

use super::catalogue::DIAGNOSES;
use super::catalogue::Group;
use super::county::{County, Place};
use crate::rng::{SynthRng, pick_weighted};

/// The class of an encounter (HL7 v3 ActCode).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Class {
    Ambulatory,
    Emergency,
    Home,
    Inpatient,
}

/// Why the resident came.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    /// Public-health follow-up of hypertension or diabetes (慢病随访).
    FollowUp,
    /// A chronic patient's repeat prescription (复诊取药).
    Refill,
    /// An ordinary outpatient visit (普通门诊).
    Acute,
    /// A chronic patient at a county specialist clinic, with laboratory tests (专科门诊).
    Specialist,
    /// The yearly check-up of residents 65 and over (老年人健康体检).
    Checkup,
    /// Antenatal care (产前检查).
    Prenatal,
    /// An emergency visit.
    Emergency,
    /// An admission.
    Admission,
}

/// One visit or admission, China time.
pub(super) struct Event {
    pub kind: Kind,
    pub class: Class,
    pub member: usize,
    pub start: NaiveDateTime,
    pub end: NaiveDateTime,
    pub diagnoses: [Option<u16>; 2],
    /// An emergency visit, or an admission through the emergency department.
    pub urgent: bool,
}

/// A resident as the clinics know them.
pub(super) struct Profile {
    pub age: u32,
    pub sex: Sex,
    pub birth: NaiveDate,
    /// 0 children (under 14), 1 adults, 2 the elderly (60 and over).
    pub band: usize,
    pub hypertension: bool,
    pub diabetes: bool,
    /// Goes to the maternal and child health hospital: children and women of 15–49.
    pub mch: bool,
    /// Usual systolic and diastolic pressure, fasting glucose (mmol/L), HbA1c (%), creatinine
    /// (µmol/L).
    pub systolic: f64,
    pub diastolic: f64,
    pub glucose: f64,
    pub hba1c: f64,
    pub creatinine: f64,
    /// The standing prescription of a chronic patient (at most three medicines).
    pub regimen: Vec<u16>,
    /// Index into the allergens, for the ~4% with a recorded allergy.
    pub allergy: Option<usize>,
    frailty: f64,
}

/// A normal draw (Box–Muller).
pub(super) fn normal(rng: &mut SynthRng, mean: f64, sd: f64) -> f64 {
    let u1: f64 = rng.random::<f64>().max(1e-12);
    let u2: f64 = rng.random();
    mean + sd * (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// A Poisson draw (Knuth; the rates here are small).
fn poisson(rng: &mut SynthRng, lambda: f64) -> u32 {
    let limit = (-lambda).exp();
    let mut product: f64 = rng.random();
    let mut k = 0;
    while product > limit {
        product *= rng.random::<f64>();
        k += 1;
    }
    k
}

/// Prevalence of hypertension by age, tuned to about 25% of adults 35 and over.
fn hypertension_rate(age: u32) -> f64 {
    match age {
        0..35 => 0.0,
        35..45 => 0.08,
        45..55 => 0.17,
        55..65 => 0.27,
        65..75 => 0.36,
        _ => 0.42,
    }
}

/// Prevalence of type 2 diabetes by age, tuned to about 9% of adults 35 and over.
fn diabetes_rate(age: u32) -> f64 {
    match age {
        0..35 => 0.0,
        35..45 => 0.03,
        45..55 => 0.065,
        55..65 => 0.095,
        65..75 => 0.115,
        _ => 0.10,
    }
}

/// Ordinary visits a year by age.
fn acute_rate(age: u32) -> f64 {
    match age {
        0 => 8.2,
        1..5 => 6.5,
        5..14 => 3.5,
        14..35 => 2.6,
        35..60 => 3.6,
        60..75 => 5.0,
        _ => 5.4,
    }
}

fn emergency_rate(age: u32) -> f64 {
    match age {
        0..5 => 0.22,
        5..14 => 0.10,
        14..60 => 0.08,
        60..75 => 0.13,
        _ => 0.20,
    }
}

fn admission_rate(age: u32) -> f64 {
    match age {
        0 => 0.32,
        1..5 => 0.18,
        5..14 => 0.07,
        14..45 => 0.08,
        45..60 => 0.17,
        60..75 => 0.31,
        _ => 0.47,
    }
}

fn birth_rate(age: u32) -> f64 {
    match age {
        20..25 => 0.07,
        25..30 => 0.10,
        30..35 => 0.07,
        35..40 => 0.03,
        _ => 0.0,
    }
}

impl Profile {
    pub fn draw(rng: &mut SynthRng, county: &County, today: NaiveDate, sex: Sex, birth: NaiveDate) -> Self {
        let age = today.years_since(birth).unwrap_or(0);
        let band = match age {
            0..14 => 0,
            14..60 => 1,
            _ => 2,
        };
        let hypertension = rng.random_bool(hypertension_rate(age));
        let diabetes_odds = diabetes_rate(age) * if hypertension { 1.5 } else { 0.85 };
        let diabetes = rng.random_bool(diabetes_odds.min(1.0));
        let mut regimen = Vec::new();
        if hypertension {
            let drugs = &county.hypertension_drugs;
            regimen.push(drugs[rng.random_range(0..drugs.len())]);
            if rng.random_bool(0.35) {
                let second = drugs[rng.random_range(0..drugs.len())];
                if !regimen.contains(&second) {
                    regimen.push(second);
                }
            }
        }
        if diabetes {
            let drugs = &county.diabetes_drugs;
            // Metformin first, as the guideline says; a second agent for some.
            regimen.push(drugs[0]);
            if regimen.len() < 3 && rng.random_bool(0.3) {
                regimen.push(drugs[rng.random_range(1..drugs.len())]);
            }
        }
        let (systolic, diastolic) = if hypertension {
            (normal(rng, 146.0, 12.0).clamp(118.0, 190.0), normal(rng, 88.0, 8.0).clamp(65.0, 115.0))
        } else if age >= 14 {
            let base = 112.0 + f64::from(age.min(80)) * 0.25;
            (normal(rng, base, 9.0).clamp(90.0, 138.0), normal(rng, 74.0, 6.0).clamp(55.0, 88.0))
        } else {
            (normal(rng, 100.0, 7.0), normal(rng, 62.0, 5.0))
        };
        let (glucose, hba1c) = if diabetes {
            (normal(rng, 7.9, 1.4).clamp(5.2, 15.0), normal(rng, 7.5, 0.9).clamp(5.8, 12.0))
        } else {
            (normal(rng, 5.1, 0.45).clamp(3.9, 6.6), normal(rng, 5.4, 0.3).clamp(4.2, 6.2))
        };
        let male = sex == Sex::Male;
        let mut creatinine = if male { normal(rng, 82.0, 13.0) } else { normal(rng, 62.0, 10.0) };
        if age >= 65 && (hypertension || diabetes) && rng.random_bool(0.12) {
            creatinine = normal(rng, 150.0, 35.0); // chronic kidney disease
        }
        let frailty = (-(rng.random::<f64>().max(1e-12)).ln() - rng.random::<f64>().max(1e-12).ln()) / 2.0;
        let allergy = rng.random_bool(0.042).then(|| county.allergens.sample(rng));
        Self {
            age,
            sex,
            birth,
            band,
            hypertension,
            diabetes,
            mch: age < 14 || (sex == Sex::Female && (15..50).contains(&age)),
            systolic,
            diastolic,
            glucose,
            hba1c,
            creatinine: creatinine.clamp(30.0, 400.0),
            regimen,
            allergy,
            frailty,
        }
    }

    pub fn chronic(&self) -> bool {
        self.hypertension || self.diabetes
    }

    /// The chronic diagnoses, hypertension first.
    pub fn chronic_diagnoses(&self, county: &County) -> [Option<u16>; 2] {
        match (self.hypertension, self.diabetes) {
            (true, true) => [Some(county.hypertension), Some(county.diabetes)],
            (true, false) => [Some(county.hypertension), None],
            (false, true) => [Some(county.diabetes), None],
            (false, false) => [None, None],
        }
    }
}

/// The year being generated: the 365 days before `today`.
pub(super) struct Year {
    pub first: NaiveDate,
    pub today: NaiveDate,
}

impl Year {
    pub fn new(today: NaiveDate) -> Self {
        Self { first: today - Days::new(365), today }
    }

    /// A day of the year on which `profile` was already born.
    fn day(&self, rng: &mut SynthRng, profile: &Profile) -> NaiveDate {
        let first = self.first.max(profile.birth);
        let span = (self.today - first).num_days().max(1) as u64;
        first + Days::new(rng.random_range(0..span))
    }

    /// A day in the respiratory season's rhythm: winter twice as busy as summer.
    fn seasonal_day(&self, rng: &mut SynthRng, profile: &Profile) -> NaiveDate {
        for _ in 0..4 {
            let day = self.day(rng, profile);
            let weight = match day.month() {
                12 | 1 | 2 => 10,
                3 | 11 => 8,
                6..=8 => 5,
                _ => 6,
            };
            if rng.random_range(0..10) < weight {
                return day;
            }
        }
        self.day(rng, profile)
    }
}

fn at(day: NaiveDate, minutes: u32) -> NaiveDateTime {
    day.and_time(NaiveTime::from_num_seconds_from_midnight_opt(minutes * 60, 0).expect("within a day"))
}

/// A time in opening hours: 8:00–11:30 or 14:00–17:00.
fn clinic_time(rng: &mut SynthRng, day: NaiveDate) -> NaiveDateTime {
    let minutes =
        if rng.random_bool(0.62) { rng.random_range(480..690) } else { rng.random_range(840..1020) };
    at(day, minutes)
}

/// Whether a diagnosis is respiratory (and so seasonal).
fn respiratory(dx: u16) -> bool {
    DIAGNOSES[usize::from(dx)].group == Group::Respiratory
}

/// Plans the year of one resident into `out`, sorted by start; admissions come first when a
/// visit would fall during a stay, which is dropped.
pub(super) fn plan(
    rng: &mut SynthRng,
    county: &County,
    year: &Year,
    place: &Place,
    profile: &Profile,
    out: &mut Vec<Event>,
) {
    out.clear();
    if profile.birth >= year.today {
        return; // born today
    }
    let frailty = profile.frailty;
    let centre = place.centre;
    let site = place.site;
    let chronic = profile.chronic_diagnoses(county);

    // Admissions first, so that no visit falls during a stay.
    let mut admissions = poisson(
        rng,
        admission_rate(profile.age) * frailty.sqrt() * if profile.chronic() { 1.4 } else { 1.0 },
    );
    let mut delivered = None;
    if profile.sex == Sex::Female && rng.random_bool(birth_rate(profile.age)) {
        let delivery = year.day(rng, profile);
        let caesarean = rng.random_bool(0.38);
        let los = if caesarean { rng.random_range(5..=7) } else { rng.random_range(3..=4) };
        let member = if rng.random_bool(0.8) { county.hospitals[2] } else { county.hospitals[0] };
        let start = at(delivery, rng.random_range(0..1440));
        let dx = if caesarean { county.caesarean } else { county.delivery };
        push_stay(rng, year, profile, out, member, start, (los, false), [Some(dx), None]);
        delivered = Some(delivery);
        admissions = admissions.saturating_sub(1);
    }
    for _ in 0..admissions {
        let dx = county.admission[profile.band].draw(rng);
        let los =
            3 + ((rng.random::<f64>() + rng.random::<f64>()) * 4.6) as u64 + u64::from(profile.band == 2);
        let los = los.min(12);
        let start_day = year.day(rng, profile);
        // Some come through the emergency department, at any hour.
        let urgent = rng.random_bool(0.3);
        let start =
            at(start_day, if urgent { rng.random_range(0..1440) } else { rng.random_range(480..1200) });
        let member = if rng.random_bool(0.9) || county.members[centre].beds == 0 {
            hospital(rng, county, profile)
        } else {
            centre
        };
        let second = chronic[0].filter(|_| rng.random_bool(0.7));
        push_stay(rng, year, profile, out, member, start, (los, urgent), [Some(dx), second]);
    }
    let stays = out.len();

    // Antenatal visits in the months before a delivery.
    if let Some(delivery) = delivered {
        for k in 1..=5u64 {
            let day = delivery - Days::new(k * 28 + rng.random_range(0..7));
            if day < year.first {
                break;
            }
            let member = if rng.random_bool(0.6) { county.hospitals[2] } else { centre };
            let diagnoses = [Some(county.prenatal), None];
            let start = clinic_time(rng, day);
            push_visit(rng, out, Kind::Prenatal, Class::Ambulatory, member, start, diagnoses);
        }
    }

    // Public-health follow-ups of the chronic patients, about every three months; their repeat
    // prescriptions between; a specialist visit now and then.
    if profile.chronic() {
        let count = if rng.random_bool(0.75) { 4 } else { rng.random_range(2..=3) };
        let mut day = year.first + Days::new(rng.random_range(0..80));
        for _ in 0..count {
            let jitter = rng.random_range(0..21);
            let when = day + Days::new(jitter);
            if when >= year.today {
                break;
            }
            let (member, class) = match (site, rng.random_range(0..100)) {
                (Some(s), 0..38) => (s, Class::Home),
                (Some(s), 38..72) => (s, Class::Ambulatory),
                (None, 0..20) => (centre, Class::Home),
                _ => (centre, Class::Ambulatory),
            };
            let start = if class == Class::Home {
                at(when, rng.random_range(540..990))
            } else {
                clinic_time(rng, when)
            };
            push_visit(rng, out, Kind::FollowUp, class, member, start, chronic);
            day = day + Days::new(91);
        }
        for _ in 0..poisson(rng, 4.0 * frailty.sqrt()) {
            let when = year.day(rng, profile);
            let member = match (site, rng.random_range(0..100)) {
                (Some(s), 0..60) => s,
                _ => centre,
            };
            let start = clinic_time(rng, when);
            push_visit(rng, out, Kind::Refill, Class::Ambulatory, member, start, chronic);
        }
        for _ in 0..poisson(rng, 1.8) {
            let when = year.day(rng, profile);
            let member = hospital(rng, county, profile);
            let comorbidity = (profile.band == 2 && rng.random_bool(0.4))
                .then(|| county.comorbidities[rng.random_range(0..county.comorbidities.len())]);
            let diagnoses = match chronic {
                [a, None] => [a, comorbidity],
                both => both,
            };
            let start = clinic_time(rng, when);
            push_visit(rng, out, Kind::Specialist, Class::Ambulatory, member, start, diagnoses);
        }
    }

    // The elderly check-up at the township centre.
    if profile.age >= 65 && rng.random_bool(0.68) {
        let when = year.day(rng, profile);
        let second = chronic[0];
        let start = at(when, rng.random_range(450..630));
        push_visit(rng, out, Kind::Checkup, Class::Ambulatory, centre, start, [Some(county.checkup), second]);
    }

    // Ordinary visits.
    for _ in 0..poisson(rng, acute_rate(profile.age) * frailty) {
        let dx = county.acute[profile.band].draw(rng);
        let when = if respiratory(dx) { year.seasonal_day(rng, profile) } else { year.day(rng, profile) };
        let member = acute_member(rng, county, place, profile);
        let second = match chronic[0] {
            Some(c) if rng.random_bool(0.4) => Some(c),
            _ => None,
        };
        let start = clinic_time(rng, when);
        push_visit(rng, out, Kind::Acute, Class::Ambulatory, member, start, [Some(dx), second]);
    }

    // Emergencies, mostly at the county hospitals, at any hour.
    for _ in 0..poisson(rng, emergency_rate(profile.age) * frailty.sqrt()) {
        let dx = county.emergency[profile.band].draw(rng);
        let when = year.day(rng, profile);
        let hour = [0, 1, 1, 2, 2, 3][rng.random_range(0..6)];
        let minutes = (hour * 360 + rng.random_range(0..360)) % 1440;
        let member = if rng.random_bool(0.85) { hospital(rng, county, profile) } else { centre };
        push_visit(rng, out, Kind::Emergency, Class::Emergency, member, at(when, minutes), [Some(dx), None]);
    }

    // No visit during a stay: drop them, then order the year.
    let busy: Vec<(NaiveDate, NaiveDate)> =
        out[..stays].iter().map(|s| (s.start.date(), s.end.date())).collect();
    let mut k = 0;
    out.retain(|e| {
        k += 1;
        k <= busy.len() || !busy.iter().any(|&(a, b)| (a..=b).contains(&e.start.date()))
    });
    out.sort_by_key(|e| e.start);
}

/// The county hospital a resident goes to: women and children often to the maternal and child
/// health hospital, others mostly to the people's hospital, some to the TCM hospital.
fn hospital(rng: &mut SynthRng, county: &County, profile: &Profile) -> usize {
    let weights: &[u32] = if profile.mch { &[48, 12, 40] } else { &[74, 24, 2] };
    county.hospitals[pick_weighted(rng, weights)]
}

/// Where an ordinary visit happens.
fn acute_member(rng: &mut SynthRng, county: &County, place: &Place, profile: &Profile) -> usize {
    let roll = rng.random_range(0..100);
    let (village, township) = if profile.band == 0 { (24, 43) } else { (31, 50) };
    match (place.site, roll) {
        (Some(s), r) if r < village => s,
        (_, r) if r < township => place.centre,
        (_, r) if r < township + 3 && !county.central.is_empty() => {
            county.central[rng.random_range(0..county.central.len())]
        }
        _ => hospital(rng, county, profile),
    }
}

fn push_visit(
    rng: &mut SynthRng,
    out: &mut Vec<Event>,
    kind: Kind,
    class: Class,
    member: usize,
    start: NaiveDateTime,
    diagnoses: [Option<u16>; 2],
) {
    let minutes = match kind {
        Kind::Specialist => rng.random_range(60..200),
        Kind::Checkup => rng.random_range(30..90),
        Kind::Emergency => rng.random_range(40..300),
        _ if class == Class::Home => rng.random_range(20..45),
        _ => rng.random_range(8..40),
    };
    let end = start + TimeDelta::minutes(minutes);
    out.push(Event { kind, class, member, start, end, diagnoses, urgent: kind == Kind::Emergency });
}

/// An admission of `los` days, moved earlier if it would end after the year; none if it cannot
/// fit after birth or overlaps another stay.
#[allow(clippy::too_many_arguments)] // one call per kind of stay, each argument named there
fn push_stay(
    rng: &mut SynthRng,
    year: &Year,
    profile: &Profile,
    out: &mut Vec<Event>,
    member: usize,
    mut start: NaiveDateTime,
    (los, urgent): (u64, bool),
    diagnoses: [Option<u16>; 2],
) {
    let latest = year.today - Days::new(los + 1);
    if start.date() > latest {
        start = latest.and_time(start.time());
    }
    if start.date() < profile.birth.max(year.first) {
        return;
    }
    let end = at(start.date() + Days::new(los), rng.random_range(540..690));
    if out.iter().any(|e| e.start.date() <= end.date() && start.date() <= e.end.date()) {
        return;
    }
    out.push(Event { kind: Kind::Admission, class: Class::Inpatient, member, start, end, diagnoses, urgent });
}
