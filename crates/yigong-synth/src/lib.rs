//! The synthetic county of DESIGN.md §10.1: Qinglan county (青岚县, 990121) in the fictitious
//! province 99, its consortium, institutions, departments, staff and postings
//! ([`organisation`]) and its residents ([`residents`], generated one village at a time).
//!
//! Everything is drawn from seeded ChaCha8 streams, never from the clock: the same
//! [`SynthConfig`] gives the same output, byte for byte, UUIDs included. Every record passes the
//! domain's validators (`validate_institution`, `validate_staff`, …); the tests check that.
//!
//! Facility registrations for the master patient index ([`registrations`]) add each resident's
//! registration at a facility, about 2% of residents registered again elsewhere with a clerk's
//! mistakes, and the truth kept apart; [`csv_by_source`], [`truth_csv`] and [`mapping_toml`]
//! write them for `yigong mpi import`.
//!
//! One year of clinical activity ([`clinical`]: encounters, diagnoses, observations, reports,
//! prescriptions, allergies and discharge summaries as FHIR R4 JSON) follows the residents and
//! their registrations village by village.
//!
//! One year of two-way referrals ([`referrals`]: about 11 000 for 400 000 residents, 51% upward,
//! green-channel episodes with their time stamps, every terminal state and live ones near
//! `cfg.today`) follows the same residents, each with its whole life of transitions.
//!
//! One year of the reading centres ([`reading`]: about 60 000 exam items for 400 000 residents,
//! ordered at township centres and village clinics and read at the people's hospital, with the
//! catalogue, its QC, reports, critical values, specimen chains and recognition decisions)
//! follows the same residents too.
//!
//! Modules: `geography` (divisions and populations), `institutions` (consortium, institutions,
//! departments), `staff` (staff, titles, employment postings), `dispatch` (dispatch postings and
//! the indicator's boundary cases), `people` (households and health records), `names`
//! (Chinese names), `idnum` (resident ID numbers), `registrations` (facility registrations and
//! their truth), `mistakes` (the errors of duplicate registrations), `export` (CSV and the
//! import mapping), `clinical` (the clinical year), `referrals` (the referral year), `reading` (the
//! reading centres' year), `rng`
//! (streams, UUIDs, weighted choice).

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use yigong_domain::facility::{Consortium, Department, Institution};
use yigong_domain::population::{Division, HealthRecord, Household};
use yigong_domain::staffing::{Posting, Staff, TitleRecord};

mod clinical;
mod dispatch;
mod export;
mod geography;
mod idnum;
mod institutions;
mod mistakes;
mod names;
mod people;
mod reading;
mod referrals;
mod registrations;
mod rng;
mod staff;

pub use clinical::{ClinicalResource, PATIENT_PLACEHOLDER, VillageClinical};
pub use export::{
    REGISTRATION_COLUMNS, TRUTH_COLUMNS, csv_by_source, mapping_toml, push_csv_field, push_registration_row,
    push_truth_row, truth_csv,
};
pub use reading::{
    CATALOGUE, EXPIRED_QC, ReadingYear, SynthCritical, SynthDecision, SynthExam, SynthExamEvent, SynthImages,
    SynthItem, SynthQc, SynthReading, SynthReport, SynthSpecimenStep, reading,
};
pub use referrals::{SynthEvent, SynthFollowUp, SynthReferral, referrals};
pub use registrations::{HardNegative, Registration, RegistrationError, Truth, VillageRegistrations};

#[cfg(test)]
mod tests;

/// What to generate: the seed, the number of residents and the dates everything is relative to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SynthConfig {
    /// Seed of every random stream.
    pub seed: u64,
    /// Residents across all villages (the populations of the divisions add up to this).
    pub residents: u32,
    /// The reference day: ages, hire dates, title histories and the dispatch year count from it.
    pub today: NaiveDate,
    /// `created_at`/`updated_at` of every record, and the base of the UUIDv7 timestamps.
    pub created_at: DateTime<Utc>,
}

impl SynthConfig {
    /// The demo county: seed 2027, 20 000 residents, today 2026-11-01.
    pub fn demo() -> Self {
        Self {
            seed: 2027,
            residents: 20_000,
            today: NaiveDate::from_ymd_opt(2026, 11, 1).expect("valid date"),
            created_at: Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).single().expect("valid instant"),
        }
    }
}

/// The consortium and everything that does not scale with the residents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Organisation {
    /// 青岚县医疗卫生共同体, county 990121, led by the people's hospital.
    pub consortium: Consortium,
    /// Province, prefecture, the county and two neighbours (6-digit codes), then each township
    /// (12-digit) followed by its villages and residents' committees with their populations.
    pub divisions: Vec<Division>,
    /// Members and agencies, a parent always before its children.
    pub institutions: Vec<Institution>,
    /// Departments of the hospitals and centres.
    pub departments: Vec<Department>,
    /// Staff with their title history, oldest first; the staff's current title is the latest.
    pub staff: Vec<(Staff, Vec<TitleRecord>)>,
    /// One employment posting per staff member, then the dispatch postings.
    pub postings: Vec<Posting>,
}

/// Generates the organisation for `cfg`.
pub fn organisation(cfg: &SynthConfig) -> Organisation {
    let geo = geography::geography(cfg);
    let divisions = geography::divisions(&geo);
    let mut ids = rng::IdGen::starting_at(cfg.created_at);
    let mut inst_rng = rng::rng(cfg.seed, rng::stream::INSTITUTIONS);
    let built = institutions::build(cfg, &geo, &mut inst_rng, &mut ids);
    let names = names::Names::new();
    let mut staff_rng = rng::rng(cfg.seed, rng::stream::STAFF);
    let (mut staff, mut postings) =
        staff::build(cfg, &built.institutions, &built.departments, &mut staff_rng, &mut ids, &names);
    let mut dispatch_rng = rng::rng(cfg.seed, rng::stream::DISPATCH);
    dispatch::add(
        cfg,
        &built.institutions,
        &built.departments,
        &mut staff,
        &mut postings,
        &mut dispatch_rng,
        &mut ids,
    );
    Organisation {
        consortium: built.consortium,
        divisions,
        institutions: built.institutions,
        departments: built.departments,
        staff,
        postings,
    }
}

/// The residents of one village (or residents' committee), generated lazily so 400 000
/// residents never sit in memory at once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VillageResidents {
    /// Twelve-digit code of the village.
    pub village_code: String,
    /// Its households.
    pub households: Vec<Household>,
    /// Its residents' health records, household by household, head first.
    pub records: Vec<HealthRecord>,
}

/// The residents of `org`, village by village in division order: as many per village as its
/// division's population. Only one village is held at a time (plus the register of ID numbers
/// issued, a few bytes per resident).
pub fn residents<'a>(
    cfg: &'a SynthConfig,
    org: &'a Organisation,
) -> impl Iterator<Item = VillageResidents> + 'a {
    people::Residents::new(cfg, org).map(|generated| generated.residents)
}

/// The facility registrations of the residents of `org` (as [`residents`] generates them),
/// village by village in the same order, each with its truth. About 2% of residents have
/// further registrations at other facilities, with mistakes; twins, phone-sharing relatives and
/// planted same-name, same-birth-date strangers are flagged as hard negatives. Only one village
/// is held at a time; 400 000 residents give about 408 000 registrations.
pub fn registrations<'a>(
    cfg: &'a SynthConfig,
    org: &'a Organisation,
) -> impl Iterator<Item = VillageRegistrations> + 'a {
    registrations::Registrations::new(cfg, org)
}

/// One year of clinical activity ending at `cfg.today` for the residents of `org` (as
/// [`residents`] generates them), village by village in the same order, as FHIR R4 resources
/// keyed by the patient's registration (see [`registrations`]). About six visits per resident,
/// 0.2 admissions and 28 resources in all: 400 000 residents give about 11 million resources,
/// of which only one village is held at a time (a village of 1 300 residents, about 35 000).
pub fn clinical<'a>(
    cfg: &'a SynthConfig,
    org: &'a Organisation,
) -> impl Iterator<Item = VillageClinical> + 'a {
    clinical::Clinical::new(cfg, org)
}
