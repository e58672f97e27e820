//! One year of clinical activity in the county (DESIGN.md §4, §10.1), as HL7 FHIR R4 resources:
//! visits and admissions (`Encounter`), their diagnoses (`Condition`, ICD-10 national clinical
//! edition 2.0), vital signs and laboratory results (`Observation`, `DiagnosticReport` at the
//! county hospitals), prescriptions (`MedicationRequest`, one per line, lines of a prescription
//! sharing a `groupIdentifier`), recorded allergies and discharge summaries.
//!
//! Generated village by village from the residents and their registrations (each resource is
//! keyed by the patient's registration at the institution where it happened, else their first
//! one), each village from its own stream, so only one village is held at a time. `plan` draws a
//! resident's year, `fhir` writes it, `catalogue` holds the codes, `county` the organisation.

mod catalogue;
mod county;
mod fhir;
mod plan;

use chrono::{DateTime, Days, NaiveDateTime, TimeDelta, Utc};
use rand::Rng;
use serde_json::Value;
use uuid::Uuid;
use yigong_domain::identity::Sex;
use yigong_domain::ids::InstitutionId;

use self::catalogue::{ALLERGENS, DIAGNOSES, DRUGS, Group, PENICILLIN_ALLERGEN};
use self::county::County;
use self::fhir::Context;
use self::plan::{Class, Event, Kind, Profile, Year, normal};
use crate::people::{self, Generated};
use crate::registrations::{self, Registration};
use crate::rng::{self, IdGen, SynthRng, pick_weighted, stream};
use crate::{Organisation, SynthConfig, VillageRegistrations};

/// The patient reference of every resource, `Patient/{PATIENT}`: the loader replaces it with the
/// id of the record of the resource's registration.
pub const PATIENT_PLACEHOLDER: &str = fhir::PATIENT;

/// One resource of the clinical year, as HL7 FHIR R4 JSON.
#[derive(Debug, Clone, PartialEq)]
pub struct ClinicalResource {
    /// `Encounter`, `Condition`, `Observation`, `DiagnosticReport`, `MedicationRequest`,
    /// `AllergyIntolerance` or `DocumentReference`.
    pub resource_type: &'static str,
    /// The resource's id (UUIDv7 from the seed), also `body["id"]`.
    pub id: Uuid,
    /// The member institution where it happened.
    pub institution_id: InstitutionId,
    /// The registering facility's code (`mpi` source) of the patient's registration at that
    /// institution, or of their first registration if they have none there.
    pub patient_source: String,
    /// That registration's local patient id.
    pub patient_local_id: String,
    /// When it happened (the encounter's start, a result's time, a prescription's date).
    pub occurred: DateTime<Utc>,
    /// The resource; its patient reference is the literal [`PATIENT_PLACEHOLDER`].
    pub body: Value,
}

/// The clinical resources of one village's residents, resident by resident in time order.
#[derive(Debug, Clone, PartialEq)]
pub struct VillageClinical {
    /// Twelve-digit code of the village.
    pub village_code: String,
    /// Its resources; every reference between them stays within the village.
    pub resources: Vec<ClinicalResource>,
}

/// Keys of village `i` are stamped from `created_at + 1 day + i · 2²² ms` on (about 70 minutes of
/// milliseconds each), so a village's keys do not depend on the villages before it.
const KEYS_PER_VILLAGE_SHIFT: u32 = 22;

/// The lazy generator behind [`crate::clinical`].
pub(crate) struct Clinical<'a> {
    cfg: &'a SynthConfig,
    residents: people::Residents<'a>,
    registrations: registrations::Registrations<'a>,
    county: County,
    year: Year,
    events: Vec<Event>,
}

impl<'a> Clinical<'a> {
    pub fn new(cfg: &'a SynthConfig, org: &'a Organisation) -> Self {
        Self {
            cfg,
            residents: people::Residents::new(cfg, org),
            registrations: registrations::Registrations::new(cfg, org),
            county: County::new(org),
            year: Year::new(cfg.today),
            events: Vec::new(),
        }
    }

    fn village(&mut self, generated: Generated, registered: VillageRegistrations) -> VillageClinical {
        let Generated { index, residents, .. } = generated;
        debug_assert_eq!(residents.village_code, registered.village_code);
        let start = self.cfg.created_at
            + TimeDelta::days(1)
            + TimeDelta::milliseconds((index as i64) << KEYS_PER_VILLAGE_SHIFT);
        let mut writer = Writer {
            rng: rng::rng(self.cfg.seed, stream::CLINICAL_BASE + index as u64),
            ids: IdGen::starting_at(start),
            county: &self.county,
            year: &self.year,
            out: Vec::with_capacity(residents.records.len() * 28),
        };
        let place = &self.county.places[index];
        let mut events = std::mem::take(&mut self.events);
        let mut next = 0;
        for record in &residents.records {
            // The resident's registrations: the first, then any duplicates.
            let first = next;
            while next < registered.truth.len() && registered.truth[next].person == record.record_no {
                next += 1;
            }
            let registrations = &registered.registrations[first..next];
            assert!(!registrations.is_empty(), "every resident is registered");
            let profile =
                Profile::draw(&mut writer.rng, &self.county, self.cfg.today, record.sex, record.birth_date);
            plan::plan(&mut writer.rng, &self.county, &self.year, place, &profile, &mut events);
            let mut allergy = profile.allergy;
            for event in &events {
                writer.event(&profile, registrations, event, allergy.take());
            }
        }
        self.events = events;
        VillageClinical { village_code: residents.village_code, resources: writer.out }
    }
}

impl Iterator for Clinical<'_> {
    type Item = VillageClinical;

    fn next(&mut self) -> Option<VillageClinical> {
        let generated = self.residents.next()?;
        let registered = self.registrations.next()?;
        Some(self.village(generated, registered))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.residents.size_hint()
    }
}

/// Which measurements an encounter takes.
#[derive(Default)]
struct Measures {
    blood_pressure: bool,
    heart_rate: bool,
    temperature: bool,
    glucose: bool,
    capillary: bool,
    hba1c: bool,
    creatinine: bool,
}

/// Writes the resources of one village.
struct Writer<'c> {
    rng: SynthRng,
    ids: IdGen,
    county: &'c County,
    year: &'c Year,
    out: Vec<ClinicalResource>,
}

/// The parts of a resource shared by every resource of one encounter.
struct Owner<'r> {
    institution_id: InstitutionId,
    registration: &'r Registration,
}

impl Writer<'_> {
    fn push(&mut self, owner: &Owner, resource_type: &'static str, id: Uuid, at: NaiveDateTime, body: Value) {
        self.out.push(ClinicalResource {
            resource_type,
            id,
            institution_id: owner.institution_id,
            patient_source: owner.registration.source.clone(),
            patient_local_id: owner.registration.local_id.clone(),
            occurred: fhir::utc(at),
            body,
        });
    }

    fn event(
        &mut self,
        profile: &Profile,
        registrations: &[Registration],
        e: &Event,
        allergy: Option<usize>,
    ) {
        let county = self.county;
        let member = &county.members[e.member];
        let registration =
            registrations.iter().find(|r| r.source == member.code).unwrap_or(&registrations[0]);
        let owner = Owner { institution_id: member.id, registration };
        let doctor = county.doctor(&mut self.rng, e.member, e.start.date());
        let encounter_id = self.ids.next(&mut self.rng);
        let encounter_ref = format!("Encounter/{encounter_id}");
        let ctx = Context { encounter: &encounter_ref, doctor, organization: &member.reference };
        let diagnoses: Vec<u16> = e.diagnoses.iter().flatten().copied().collect();
        let condition_ids: Vec<Uuid> = diagnoses.iter().map(|_| self.ids.next(&mut self.rng)).collect();

        let stay =
            (e.class == Class::Inpatient).then(|| ((e.end.date() - e.start.date()).num_days(), e.urgent));
        let (class, type_text) = match (e.kind, e.class) {
            (_, Class::Inpatient) => ("IMP", "住院"),
            (_, Class::Emergency) => ("EMER", "急诊"),
            (Kind::FollowUp, Class::Home) => ("HH", "家庭医生上门随访"),
            (_, Class::Home) => ("HH", "上门服务"),
            (Kind::FollowUp, _) => ("AMB", "慢性病随访"),
            (Kind::Refill, _) => ("AMB", "复诊取药"),
            (Kind::Specialist, _) => ("AMB", "专科门诊"),
            (Kind::Checkup, _) => ("AMB", "老年人健康体检"),
            (Kind::Prenatal, _) => ("AMB", "产前检查"),
            _ => ("AMB", "普通门诊"),
        };
        let parts = fhir::EncounterParts {
            id: encounter_id,
            class,
            type_text,
            start: e.start,
            end: e.end,
            conditions: &condition_ids,
            stay,
        };
        self.push(&owner, "Encounter", encounter_id, e.start, fhir::encounter(&ctx, &parts));

        let recorded = e.start + TimeDelta::minutes(5).min(e.end - e.start);
        for (&dx, &id) in diagnoses.iter().zip(&condition_ids) {
            let d = &DIAGNOSES[usize::from(dx)];
            let at = if e.class == Class::Inpatient { e.end } else { recorded };
            self.push(&owner, "Condition", id, at, fhir::condition(&ctx, id, d.code, d.name, at));
        }

        self.observations(&owner, &ctx, profile, e, diagnoses.first().copied());
        self.prescription(&owner, &ctx, profile, e, &diagnoses, &encounter_id);

        if let Some((days, _)) = stay {
            let id = self.ids.next(&mut self.rng);
            let text = summary(&diagnoses, e, days);
            let body = fhir::discharge_summary(&ctx, id, &text, (e.start, e.end));
            self.push(&owner, "DocumentReference", id, e.end, body);
        }
        if let Some(a) = allergy {
            let id = self.ids.next(&mut self.rng);
            let body = fhir::allergy(&ctx, id, &ALLERGENS[a], recorded);
            self.push(&owner, "AllergyIntolerance", id, recorded, body);
        }
    }

    fn measures(&mut self, profile: &Profile, e: &Event, primary: Option<u16>) -> Measures {
        let rng = &mut self.rng;
        let member = &self.county.members[e.member];
        let fever = primary.is_some_and(|d| DIAGNOSES[usize::from(d)].fever);
        let adult = profile.age >= 14;
        let mut m = Measures::default();
        match e.kind {
            Kind::FollowUp => {
                m.blood_pressure = profile.hypertension;
                m.heart_rate = profile.hypertension && rng.random_bool(0.7);
                m.glucose = profile.diabetes;
                m.capillary = member.is_village() || e.class == Class::Home;
            }
            Kind::Refill => m.blood_pressure = profile.hypertension && rng.random_bool(0.2),
            Kind::Acute => {
                m.temperature =
                    (fever && rng.random_bool(0.75)) || (profile.band == 0 && rng.random_bool(0.2));
                m.heart_rate = m.temperature && rng.random_bool(0.6);
                let odds = if member.is_village() { 0.08 } else { 0.15 };
                m.blood_pressure = profile.age >= 35 && rng.random_bool(odds);
            }
            Kind::Specialist => {
                m.blood_pressure = true;
                m.glucose = true;
                m.hba1c = profile.diabetes;
                m.creatinine = true;
            }
            Kind::Checkup => {
                (m.blood_pressure, m.heart_rate, m.temperature, m.glucose, m.creatinine) =
                    (true, true, true, true, true);
            }
            Kind::Prenatal => (m.blood_pressure, m.heart_rate) = (true, true),
            Kind::Emergency => {
                (m.temperature, m.heart_rate, m.blood_pressure) = (true, true, adult);
                let labs = member.is_county() && rng.random_bool(0.4);
                (m.glucose, m.creatinine) = (labs, labs);
            }
            Kind::Admission => {
                (m.temperature, m.heart_rate, m.blood_pressure) = (true, true, adult);
                (m.glucose, m.creatinine, m.hba1c) = (true, true, profile.diabetes);
            }
        }
        m
    }

    fn observations(
        &mut self,
        owner: &Owner,
        ctx: &Context,
        profile: &Profile,
        e: &Event,
        primary: Option<u16>,
    ) {
        let m = self.measures(profile, e, primary);
        let fever = primary.is_some_and(|d| DIAGNOSES[usize::from(d)].fever);
        let at = e.start + TimeDelta::minutes(3).min(e.end - e.start);
        if m.temperature {
            let t = if fever {
                normal(&mut self.rng, 38.3, 0.6).clamp(37.3, 40.2)
            } else {
                normal(&mut self.rng, 36.6, 0.25).clamp(35.9, 37.2)
            };
            let flag = (t >= 37.3).then_some("H");
            self.measurement(owner, ctx, &fhir::TEMPERATURE, t, None, flag, at);
        }
        if m.heart_rate {
            let (mean, sd) = match profile.age {
                0..5 => (115.0, 12.0),
                5..14 => (92.0, 10.0),
                _ => (76.0, 9.0),
            };
            let rate =
                (normal(&mut self.rng, mean, sd) + if fever { 10.0 } else { 0.0 }).round().clamp(45.0, 180.0);
            let flag = (profile.age >= 14).then(|| fhir::flag(rate, 60.0, 100.0)).filter(|&f| f != "N");
            self.measurement(owner, ctx, &fhir::HEART_RATE, rate, None, flag, at);
        }
        if m.blood_pressure {
            let systolic = normal(&mut self.rng, profile.systolic, 6.0).round().clamp(70.0, 220.0) as u32;
            let diastolic = normal(&mut self.rng, profile.diastolic, 4.0).round().clamp(40.0, 130.0) as u32;
            let diastolic = diastolic.min(systolic - 20);
            let id = self.ids.next(&mut self.rng);
            let body = fhir::blood_pressure(ctx, id, systolic, diastolic, at);
            self.push(owner, "Observation", id, at, body);
        }
        let mut results = Vec::new();
        let drawn = at + TimeDelta::minutes(2);
        if m.glucose {
            let g = normal(&mut self.rng, profile.glucose, 0.5).max(3.0);
            let test = if m.capillary { &fhir::CAPILLARY_GLUCOSE } else { &fhir::GLUCOSE };
            results.push(self.measurement(owner, ctx, test, g, Some((3.9, 6.1)), None, drawn));
        }
        if m.hba1c {
            let a = normal(&mut self.rng, profile.hba1c, 0.2).max(4.0);
            results.push(self.measurement(owner, ctx, &fhir::HBA1C, a, Some((4.0, 6.0)), None, drawn));
        }
        if m.creatinine {
            let c = normal(&mut self.rng, profile.creatinine, 5.0).max(25.0);
            let range = if profile.sex == Sex::Male { (57.0, 111.0) } else { (41.0, 81.0) };
            results.push(self.measurement(owner, ctx, &fhir::CREATININE, c, Some(range), None, drawn));
        }
        if !results.is_empty() && self.county.members[e.member].is_county() && !m.capillary {
            let id = self.ids.next(&mut self.rng);
            let body = fhir::diagnostic_report(ctx, id, &results, drawn);
            self.push(owner, "DiagnosticReport", id, drawn, body);
        }
    }

    #[allow(clippy::too_many_arguments)] // the parts of one observation, named at each call
    fn measurement(
        &mut self,
        owner: &Owner,
        ctx: &Context,
        test: &fhir::Test,
        value: f64,
        range: Option<(f64, f64)>,
        abnormal: Option<&str>,
        at: NaiveDateTime,
    ) -> Uuid {
        let id = self.ids.next(&mut self.rng);
        // The flag is judged on the value as written.
        let scale = 10f64.powi(test.places as i32);
        let value = (value * scale).round() / scale;
        let body = fhir::measurement(ctx, id, test, value, range, abnormal, at);
        self.push(owner, "Observation", id, at, body);
        id
    }

    /// The medicines of an encounter, if any, and for how many days.
    fn medicines(&mut self, profile: &Profile, e: &Event, diagnoses: &[u16]) -> (Vec<u16>, u32) {
        let county = self.county;
        let rng = &mut self.rng;
        let from_diagnosis = |rng: &mut SynthRng, dx: u16, count: usize, into: &mut Vec<u16>| {
            let candidates = &county.treatments[usize::from(dx)];
            for _ in 0..count {
                if candidates.is_empty() {
                    break;
                }
                let d = candidates[rng.random_range(0..candidates.len())];
                if !into.contains(&d) {
                    into.push(d);
                }
            }
        };
        let mut lines = Vec::new();
        let primary = diagnoses.first().copied();
        let days = match e.kind {
            Kind::FollowUp if rng.random_bool(0.8) => {
                lines.extend(&profile.regimen);
                30
            }
            Kind::Refill => {
                lines.extend(&profile.regimen);
                30
            }
            Kind::Specialist if rng.random_bool(0.9) => {
                lines.extend(&profile.regimen);
                if let Some(&extra) = diagnoses.get(1).filter(|&&d| d != county.diabetes) {
                    from_diagnosis(rng, extra, 1, &mut lines);
                }
                30
            }
            Kind::Acute if rng.random_bool(0.64) => {
                let count = 1 + pick_weighted(rng, &[48, 38, 14]);
                from_diagnosis(rng, primary.expect("a visit has a diagnosis"), count, &mut lines);
                rng.random_range(3..=7)
            }
            Kind::Emergency if rng.random_bool(0.6) => {
                let count = 1 + pick_weighted(rng, &[60, 40]);
                from_diagnosis(rng, primary.expect("a visit has a diagnosis"), count, &mut lines);
                rng.random_range(1..=3)
            }
            Kind::Prenatal if rng.random_bool(0.3) => {
                from_diagnosis(rng, primary.expect("a visit has a diagnosis"), 1, &mut lines);
                30
            }
            Kind::Admission => {
                let ward = &county.ward_drugs;
                lines.push(ward[rng.random_range(0..ward.len())]);
                let count = 1 + pick_weighted(rng, &[60, 40]);
                from_diagnosis(rng, primary.expect("a stay has a diagnosis"), count, &mut lines);
                u32::try_from((e.end.date() - e.start.date()).num_days()).unwrap_or(1)
            }
            _ => 0,
        };
        if profile.allergy.is_some_and(|a| ALLERGENS[a].code == PENICILLIN_ALLERGEN) {
            for l in &mut lines {
                if county.penicillins.contains(l) {
                    *l = county.penicillin_substitute;
                }
            }
        }
        let mut seen = Vec::with_capacity(lines.len());
        lines.retain(|l| {
            let new = !seen.contains(l);
            seen.push(*l);
            new
        });
        lines.truncate(3);
        (lines, days)
    }

    fn prescription(
        &mut self,
        owner: &Owner,
        ctx: &Context,
        profile: &Profile,
        e: &Event,
        diagnoses: &[u16],
        encounter: &Uuid,
    ) {
        let (medicines, days) = self.medicines(profile, e, diagnoses);
        if medicines.is_empty() {
            return;
        }
        let prescription = encounter.to_string();
        let authored = if e.class == Class::Inpatient { e.start + TimeDelta::minutes(40) } else { e.end };
        let active = (authored.date() + Days::new(u64::from(days))) >= self.year.today;
        for m in medicines {
            let drug = &DRUGS[usize::from(m)];
            let medicine = &self.county.medicines[usize::from(m)];
            let (quantity, quantity_unit) = match drug.pack {
                Some((count, unit)) => (count, unit),
                None => {
                    let dose: f64 = drug.dose.parse().unwrap_or(1.0);
                    let per_day = u32::from(drug.per_day.max(1));
                    ((dose * f64::from(per_day * days)).ceil() as u32, drug.dose_unit)
                }
            };
            let line = fhir::Line {
                id: self.ids.next(&mut self.rng),
                prescription: &prescription,
                code: &medicine.code,
                display: &medicine.display,
                instruction: &medicine.instruction,
                route: drug.route,
                dose: drug.dose,
                dose_unit: drug.dose_unit,
                per_day: drug.per_day,
                quantity,
                quantity_unit,
                days,
                inpatient: e.class == Class::Inpatient,
                active: active && e.class != Class::Inpatient,
                authored,
            };
            let body = fhir::medication_request(ctx, &line);
            self.push(owner, "MedicationRequest", line.id, authored, body);
        }
    }
}

/// The text of a discharge summary.
fn summary(diagnoses: &[u16], e: &Event, days: i64) -> String {
    let names: Vec<&str> = diagnoses.iter().map(|&d| DIAGNOSES[usize::from(d)].name).collect();
    let primary = &DIAGNOSES[usize::from(diagnoses[0])];
    let course = match (primary.code, primary.group) {
        ("K35.800", _) => "行腹腔镜阑尾切除术，术后予抗感染治疗",
        ("K80.200" | "K81.000", _) => "行腹腔镜胆囊切除术，术后予抗感染及对症治疗",
        ("S72.000" | "S52.500", _) => "行切开复位内固定术，术后予止痛、预防感染及功能锻炼指导",
        ("O80.000", _) => "经阴道顺利分娩一活婴，产后子宫收缩好，恢复良好",
        ("O82.000", _) => "行子宫下段剖宫产术，娩出一活婴，术后恢复良好",
        (_, Group::Respiratory) => "予抗感染、止咳化痰、雾化吸入等治疗",
        (_, Group::Circulatory) => "予抗血小板聚集、调脂稳定斑块、改善循环等治疗",
        (_, Group::Endocrine) => "予控制血糖、饮食指导及糖尿病健康教育",
        (_, Group::Digestive) => "予禁食、补液、抑酸及对症支持治疗",
        (_, Group::Urinary) => "予抗感染及对症治疗",
        (_, Group::Musculoskeletal) => "予卧床休息、理疗、止痛等治疗",
        (_, Group::Infection) => "予隔离、退热及对症支持治疗",
        _ => "予对症支持治疗",
    };
    let advice = if primary.group == Group::Obstetric {
        "注意产褥期卫生，母乳喂养，产后42天复查。"
    } else {
        "按时服药，注意休息，1周后门诊复诊，不适随诊。"
    };
    format!(
        "出院小结\n入院日期：{}\n出院日期：{}\n住院天数：{days}天\n入院诊断：{}\n出院诊断：{}\n诊疗经过：入院后完善血常规、生化等检查，{course}，病情好转。\n出院情况：一般情况可，生命体征平稳。\n出院医嘱：{advice}\n",
        fhir::date(e.start.date()),
        fhir::date(e.end.date()),
        names[0],
        names.join("；"),
    )
}
