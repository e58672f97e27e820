//! What the clinical year reads from the organisation, prepared once: the member institutions
//! with their doctors, where each village's residents go, and the catalogue tables indexed.

use std::collections::HashMap;

use chrono::NaiveDate;
use yigong_domain::facility::{InstitutionKind, Tier};
use yigong_domain::identity::DivisionCode;
use yigong_domain::ids::InstitutionId;
use yigong_domain::staffing::StaffCategory;

use super::catalogue::{self, DIAGNOSES, DRUGS, Mix};
use crate::Organisation;
use crate::rng::{SynthRng, Weighted};

/// A doctor posted at an institution, with the days the posting covers.
pub(super) struct Doctor {
    /// `Practitioner/{staff id}`.
    pub reference: String,
    pub from: NaiveDate,
    pub to: Option<NaiveDate>,
}

/// A member institution.
pub(super) struct Member {
    pub id: InstitutionId,
    pub code: String,
    pub tier: Tier,
    pub beds: i64,
    /// `Organization/{institution id}`.
    pub reference: String,
    pub doctors: Vec<Doctor>,
}

impl Member {
    pub fn is_county(&self) -> bool {
        self.tier.is_county_level()
    }

    /// The village tier (clinics, service points, community stations).
    pub fn is_village(&self) -> bool {
        matches!(self.tier, Tier::VillageClinic | Tier::VillageServicePoint | Tier::CommunityStation)
    }
}

/// Where the residents of one village go: their village site, if any, and their township (or
/// community) centre.
pub(super) struct Place {
    pub site: Option<usize>,
    pub centre: usize,
}

/// Diagnoses of one kind of visit for one age band.
pub(super) struct Table {
    weighted: Weighted,
    diagnoses: Vec<u16>,
}

impl Table {
    pub fn draw(&self, rng: &mut SynthRng) -> u16 {
        self.diagnoses[self.weighted.sample(rng)]
    }
}

/// One medicine with its texts written once.
pub(super) struct Medicine {
    pub code: String,
    pub display: String,
    /// `口服，一次1片，一日3次`.
    pub instruction: String,
}

pub(super) struct County {
    pub members: Vec<Member>,
    pub places: Vec<Place>,
    /// 人民医院, 中医院, 妇幼保健院.
    pub hospitals: [usize; 3],
    /// Central township centres, which take patients from neighbouring townships.
    pub central: Vec<usize>,
    pub medicines: Vec<Medicine>,
    /// Per diagnosis, the medicines its doctor picks from.
    pub treatments: Vec<Vec<u16>>,
    pub acute: [Table; 3],
    pub emergency: [Table; 3],
    pub admission: [Table; 3],
    pub comorbidities: Vec<u16>,
    pub hypertension_drugs: Vec<u16>,
    pub diabetes_drugs: Vec<u16>,
    pub ward_drugs: Vec<u16>,
    pub penicillins: Vec<u16>,
    pub penicillin_substitute: u16,
    pub allergens: Weighted,
    pub hypertension: u16,
    pub diabetes: u16,
    pub checkup: u16,
    pub prenatal: u16,
    pub delivery: u16,
    pub caesarean: u16,
}

/// The index of a diagnosis by code; the tables only name codes of [`DIAGNOSES`].
pub(super) fn diagnosis(code: &str) -> u16 {
    let k = DIAGNOSES.iter().position(|d| d.code == code).unwrap_or_else(|| panic!("diagnosis {code}"));
    u16::try_from(k).expect("a short table")
}

/// The index of a medicine by name; the tables only name medicines of [`DRUGS`].
pub(super) fn drug(name: &str) -> u16 {
    let k = DRUGS.iter().position(|d| d.name == name).unwrap_or_else(|| panic!("drug {name}"));
    u16::try_from(k).expect("a short table")
}

fn drugs(names: &[&str]) -> Vec<u16> {
    names.iter().map(|n| drug(n)).collect()
}

fn tables(mix: Mix) -> [Table; 3] {
    std::array::from_fn(|band| Table {
        weighted: Weighted::new(mix.iter().map(|(_, w)| w[band])),
        diagnoses: mix.iter().map(|(code, _)| diagnosis(code)).collect(),
    })
}

impl County {
    pub fn new(org: &Organisation) -> Self {
        let prescribers: HashMap<_, _> = org
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
            .map(|(s, _)| (s.id, format!("Practitioner/{}", s.id)))
            .collect();
        let mut doctors: HashMap<InstitutionId, Vec<Doctor>> = HashMap::new();
        for p in &org.postings {
            if let Some(reference) = prescribers.get(&p.staff_id) {
                doctors.entry(p.institution_id).or_default().push(Doctor {
                    reference: reference.clone(),
                    from: p.valid_from,
                    to: p.valid_to,
                });
            }
        }
        let members: Vec<Member> = org
            .institutions
            .iter()
            .filter_map(|i| match i.kind {
                InstitutionKind::Member(tier) => Some(Member {
                    id: i.id,
                    code: i.code.clone(),
                    tier,
                    beds: i.beds,
                    reference: format!("Organization/{}", i.id),
                    doctors: doctors.remove(&i.id).unwrap_or_default(),
                }),
                InstitutionKind::Agency(_) => None,
            })
            .collect();
        let division = |k: usize| {
            org.institutions
                .iter()
                .find(|i| i.id == members[k].id)
                .map(|i| i.division_code.as_str().to_owned())
        };
        let divisions: Vec<Option<String>> = (0..members.len()).map(division).collect();
        let find = |tiers: &[Tier], code: &str| {
            (0..members.len())
                .find(|&k| tiers.contains(&members[k].tier) && divisions[k].as_deref() == Some(code))
        };
        let places = org
            .divisions
            .iter()
            .filter(|d| d.level == "village")
            .map(|d| {
                let code = DivisionCode::parse(&d.code).expect("generated village codes are valid");
                let township = code.township().expect("a village lies in a township");
                let site =
                    find(&[Tier::VillageClinic, Tier::VillageServicePoint, Tier::CommunityStation], &d.code);
                let centre = find(&[Tier::TownshipCentre, Tier::CommunityCentre], &township)
                    .expect("every township has a centre");
                Place { site, centre }
            })
            .collect();
        let tier = |t: Tier| members.iter().position(|m| m.tier == t).expect("the county hospitals exist");
        let hospitals = [tier(Tier::CountyGeneral), tier(Tier::CountyTcm), tier(Tier::CountyMch)];
        let central = org
            .institutions
            .iter()
            .filter(|i| i.is_central && i.kind == InstitutionKind::Member(Tier::TownshipCentre))
            .filter_map(|i| members.iter().position(|m| m.id == i.id))
            .collect();
        let medicines = DRUGS
            .iter()
            .enumerate()
            .map(|(k, d)| {
                let display =
                    if d.spec.is_empty() { d.name.to_owned() } else { format!("{} {}", d.name, d.spec) };
                let dose = if d.dose.is_empty() {
                    "适量".to_owned()
                } else {
                    format!("一次{}{}", d.dose, d.dose_unit)
                };
                let instruction = match d.per_day {
                    0 => format!("必要时{}，{dose}", d.route),
                    n => format!("{}，{dose}，一日{n}次", d.route),
                };
                Medicine { code: format!("D{:04}", k + 1), display, instruction }
            })
            .collect();
        Self {
            members,
            places,
            hospitals,
            central,
            medicines,
            treatments: DIAGNOSES.iter().map(|d| drugs(d.drugs)).collect(),
            acute: tables(catalogue::ACUTE),
            emergency: tables(catalogue::EMERGENCY),
            admission: tables(catalogue::ADMISSION),
            comorbidities: catalogue::COMORBIDITIES.iter().map(|c| diagnosis(c)).collect(),
            hypertension_drugs: drugs(catalogue::HYPERTENSION_DRUGS),
            diabetes_drugs: drugs(catalogue::DIABETES_DRUGS),
            ward_drugs: drugs(catalogue::WARD_DRUGS),
            penicillins: drugs(catalogue::PENICILLINS),
            penicillin_substitute: drug(catalogue::PENICILLIN_SUBSTITUTE),
            allergens: Weighted::new(catalogue::ALLERGENS.iter().map(|a| a.weight)),
            hypertension: diagnosis(catalogue::HYPERTENSION),
            diabetes: diagnosis(catalogue::DIABETES),
            checkup: diagnosis(catalogue::CHECKUP),
            prenatal: diagnosis(catalogue::PRENATAL),
            delivery: diagnosis("O80.000"),
            caesarean: diagnosis("O82.000"),
        }
    }

    /// A doctor of `member` posted on `day`, if it has one.
    pub fn doctor(&self, rng: &mut SynthRng, member: usize, day: NaiveDate) -> Option<&str> {
        use rand::Rng;
        let doctors = &self.members[member].doctors;
        if doctors.is_empty() {
            return None;
        }
        let active = |d: &Doctor| d.from <= day && d.to.is_none_or(|to| day <= to);
        // A random try or two finds one in a staffed hospital; a small clinic is scanned.
        for _ in 0..2 {
            let d = &doctors[rng.random_range(0..doctors.len())];
            if active(d) {
                return Some(&d.reference);
            }
        }
        doctors.iter().find(|d| active(d)).map(|d| d.reference.as_str())
    }
}
