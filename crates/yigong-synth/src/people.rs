//! Residents, one village at a time: households of 1–6 people with GB/T 4761 relations, a
//! rural age pyramid, names, resident ID numbers, phones, addresses and health-record numbers.
//!
//! Relations to the household head (GB/T 4761-2008 家庭关系代码) used here: `02` head (户主),
//! `10` spouse (配偶), `20` son (子), `30` daughter (女), `38` daughter-in-law (儿媳), `41`
//! grandson (孙子), `42` granddaughter (孙女), `51` father (父亲), `52` mother (母亲).

use std::collections::HashMap;
use std::fmt::Write;
use std::ops::RangeInclusive;

use chrono::{Datelike, NaiveDate};
use rand::Rng;
use yigong_domain::facility::{InstitutionKind, Tier};
use yigong_domain::identity::{DivisionCode, Sex};
use yigong_domain::ids::{ConsortiumId, HealthRecordId, HouseholdId, InstitutionId};
use yigong_domain::population::{HealthRecord, Household};

use crate::idnum::{HOME, IdNumbers, RESIDENT_SEQUENCES};
use crate::names::{Names, SURNAMES};
use crate::rng::{self, IdGen, SynthRng, birth_date_for_age, pick_weighted, stream};
use crate::{Organisation, SynthConfig, VillageResidents};

/// Household types, their weights tuned so that the ages come out as a rural pyramid (many
/// elderly, few young adults, who have left for work):
/// 0 single elderly, 1 elderly couple, 2 middle-aged couple (perhaps with a grown child),
/// 3 young couple with children, 4 three generations, 5 grandparents with grandchildren
/// (留守儿童), 6 couple with an elderly parent, 7 newly-wed couple.
const HOUSEHOLD_WEIGHTS: [u32; 8] = [11, 15, 14, 17, 18, 11, 10, 3];

/// Mobile prefixes of the three carriers (1[3-9]x).
const MOBILE_PREFIXES: &[u16] = &[
    130, 131, 132, 133, 134, 135, 136, 137, 138, 139, 150, 151, 152, 153, 155, 156, 157, 158, 159, 166, 173,
    175, 176, 177, 178, 180, 181, 182, 183, 184, 185, 186, 187, 188, 189, 191, 198, 199,
];

/// Housing estates for the addresses of residents' committees, after the committee's name:
/// 人民花园, 文昌新村…
const ESTATES: &[&str] = &["花园", "新村", "家园", "小区", "名苑", "佳苑"];

/// One member of a household before the details are drawn.
struct Member {
    relation: &'static str,
    sex: Sex,
    age: u32,
    surname: &'static str,
    /// Married into the household, so more often born elsewhere.
    married_in: bool,
    /// Born on the same day as the member just before (a twin).
    twin: bool,
}

/// One village's plan, read from the organisation.
struct Plan {
    code: DivisionCode,
    population: u32,
    managing: InstitutionId,
    committee: bool,
    /// Housing estate of a residents' committee, e.g. 人民花园.
    estate: String,
    /// The main surname of a clan village (王家湾), if the name says so.
    clan: Option<&'static str>,
}

/// Common names given to the same-name, same-birth-date strangers: surname, given name, sex.
const COMMON_NAMES: &[(&str, &str, Sex)] = &[
    ("张", "伟", Sex::Male),
    ("王", "伟", Sex::Male),
    ("李", "伟", Sex::Male),
    ("刘", "伟", Sex::Male),
    ("李", "强", Sex::Male),
    ("王", "磊", Sex::Male),
    ("张", "勇", Sex::Male),
    ("李", "军", Sex::Male),
    ("王", "芳", Sex::Female),
    ("李", "娜", Sex::Female),
    ("张", "敏", Sex::Female),
    ("李", "静", Sex::Female),
    ("王", "静", Sex::Female),
    ("王", "秀英", Sex::Female),
    ("李", "秀英", Sex::Female),
    ("张", "丽", Sex::Female),
    ("王", "丽", Sex::Female),
    ("刘", "芳", Sex::Female),
    ("张", "秀英", Sex::Female),
    ("李", "霞", Sex::Female),
];

/// Pairs of strangers planted in the county, whatever its size (fewer are completed in a tiny
/// county, whose villages may hold nobody of the right sex and age).
const DOUBLES: usize = 100;

/// A pair of strangers with the same name and birth date, the hard negatives of patient
/// matching (DESIGN.md §10.1): the first person of the right sex aged 25–65 from village
/// `first` on takes the name; then the first of the same sex and age (±1 year) from village
/// `second` on, in another village, takes the name and the first one's birth date. Only people
/// whose surname is free (married in) or already the right one are renamed, so households keep
/// their family surname.
struct Double {
    surname: &'static str,
    given: &'static str,
    sex: Sex,
    first: usize,
    second: usize,
    /// Village, birth date and age of the first person, once found.
    template: Option<(usize, NaiveDate, u32)>,
    done: bool,
}

impl Double {
    fn eligible(&self, m: &Member) -> bool {
        m.sex == self.sex && !m.twin && (m.married_in || m.surname == self.surname)
    }

    fn name(&self) -> String {
        format!("{}{}", self.surname, self.given)
    }
}

/// The doubles of the county, villages drawn from their own stream.
fn doubles(cfg: &SynthConfig, villages: usize) -> Vec<Double> {
    let mut rng = rng::rng(cfg.seed, stream::DOUBLES);
    (0..if villages < 2 { 0 } else { DOUBLES })
        .map(|_| {
            let (surname, given, sex) = COMMON_NAMES[rng.random_range(0..COMMON_NAMES.len())];
            let a = rng.random_range(0..villages);
            let mut b = rng.random_range(0..villages);
            if b == a {
                b = (a + 1) % villages;
            }
            Double { surname, given, sex, first: a.min(b), second: a.max(b), template: None, done: false }
        })
        .collect()
}

/// One village of residents with what the generator knows beyond the records.
pub(crate) struct Generated {
    /// Index of the village, in division order (the stream of its residents).
    pub index: usize,
    pub residents: VillageResidents,
    /// Indices into `residents.records` of the planted same-name, same-birth-date strangers.
    pub doubles: Vec<usize>,
}

/// The lazy generator behind [`crate::residents`]: holds the plan of every village, the register
/// of ID numbers issued so far and scratch space, never more than one village of residents.
pub(crate) struct Residents<'a> {
    cfg: &'a SynthConfig,
    consortium_id: ConsortiumId,
    plans: std::iter::Enumerate<std::vec::IntoIter<Plan>>,
    ids: IdGen,
    numbers: IdNumbers,
    names: Names,
    members: Vec<Member>,
    doubles: Vec<Double>,
}

impl<'a> Residents<'a> {
    pub fn new(cfg: &'a SynthConfig, org: &'a Organisation) -> Self {
        let mut site = HashMap::new();
        let mut centre = HashMap::new();
        for i in &org.institutions {
            match i.kind {
                InstitutionKind::Member(Tier::VillageClinic | Tier::VillageServicePoint) => {
                    site.insert(i.division_code.as_str(), i.id);
                }
                InstitutionKind::Member(Tier::TownshipCentre | Tier::CommunityCentre) => {
                    centre.entry(i.division_code.township()).or_insert(i.id);
                }
                _ => {}
            }
        }
        let plans: Vec<Plan> = org
            .divisions
            .iter()
            .filter(|d| d.level == "village")
            .map(|d| {
                let code = DivisionCode::parse(&d.code).expect("generated village codes are valid");
                let managing = site
                    .get(d.code.as_str())
                    .or_else(|| centre.get(&code.township()))
                    .copied()
                    .expect("every village has a site or a centre in its township");
                let mut chars = d.name.chars();
                let clan = match (chars.next(), chars.next()) {
                    (Some(s), Some('家')) => SURNAMES.iter().map(|&(n, _)| n).find(|n| n.chars().eq([s])),
                    _ => None,
                };
                let serial: usize = d.code[9..].parse().unwrap_or(0);
                Plan {
                    population: d.population.and_then(|p| u32::try_from(p).ok()).unwrap_or(0),
                    managing,
                    committee: d.urban_rural_class.as_deref() != Some("220"),
                    estate: format!("{}{}", committee_stem(&d.name), ESTATES[serial % ESTATES.len()]),
                    clan,
                    code,
                }
            })
            .collect();
        // Residents' keys follow the organisation's in time: an hour after creation.
        let ids = IdGen::starting_at(cfg.created_at + chrono::Duration::hours(1));
        let doubles = doubles(cfg, plans.len());
        Self {
            cfg,
            consortium_id: org.consortium.id,
            plans: plans.into_iter().enumerate(),
            ids,
            numbers: IdNumbers::new(cfg.today),
            names: Names::new(),
            members: Vec::with_capacity(6),
            doubles,
        }
    }

    /// The name and birth date `m`, born on `birth` in village `index`, takes as one of a pair
    /// of doubles, if any.
    fn plant_double(&mut self, index: usize, m: &Member, birth: NaiveDate) -> Option<(String, NaiveDate)> {
        for d in self.doubles.iter_mut().filter(|d| !d.done && d.first <= index) {
            match d.template {
                None if d.eligible(m) && (25..=65).contains(&m.age) => {
                    d.template = Some((index, birth, m.age));
                    return Some((d.name(), birth));
                }
                Some((village, born, age))
                    if village != index && d.second <= index && d.eligible(m) && m.age.abs_diff(age) <= 1 =>
                {
                    d.done = true;
                    return Some((d.name(), born));
                }
                _ => {}
            }
        }
        None
    }

    fn village(&mut self, index: usize, plan: &Plan) -> Generated {
        let mut rng = rng::rng(self.cfg.seed, stream::VILLAGE_BASE + index as u64);
        let population = plan.population as usize;
        let mut households = Vec::with_capacity(population / 2);
        let mut records = Vec::with_capacity(population);
        // Villager groups (村民小组) of about 180 people, house numbers rising within each.
        let groups = (population / 180).clamp(1, 12);
        let mut house_numbers = vec![0u32; groups];
        let mut flats = 0u32;
        let mut doubles = Vec::new();
        while records.len() < population {
            self.members.clear();
            compose(&mut rng, &self.names, plan.clan, &mut self.members);
            // The last household of a village is cut to fit its population exactly; members
            // are ordered head first, so a cut household stays a household.
            self.members.truncate(population - records.len());

            let address = if plan.committee {
                // Flats in numbered buildings: 4 flats a floor, 6 floors.
                let (building, floor, door) = (flats / 24 + 1, flats % 24 / 4 + 1, flats % 4 + 1);
                flats += 1;
                format!("{}{building}栋{floor}0{door}室", plan.estate)
            } else {
                let g = rng.random_range(0..groups);
                house_numbers[g] += rng.random_range(1..=3);
                format!("{}组{}号", g + 1, house_numbers[g])
            };
            let household_id = HouseholdId::from_uuid(self.ids.next(&mut rng));
            let mut household_phone: Option<String> = None;
            let mut previous: Option<(NaiveDate, String)> = None;
            let members = std::mem::take(&mut self.members);
            for m in &members {
                let mut birth = match &previous {
                    Some((born, _)) if m.twin => *born,
                    _ => birth_date_for_age(&mut rng, self.cfg.today, m.age),
                };
                let mut name = self.names.full(&mut rng, m.surname, m.sex, birth.year());
                // Twins get different given names.
                while m.twin && previous.as_ref().is_some_and(|(_, n)| *n == name) {
                    name = self.names.full(&mut rng, m.surname, m.sex, birth.year());
                }
                if let Some(double) = self.plant_double(index, m, birth) {
                    (name, birth) = double;
                    doubles.push(records.len());
                }
                previous = Some((birth, name.clone()));
                let area = match (m.married_in, rng.random_range(0..100)) {
                    (true, 0..10) | (false, 0..2) => 1,
                    (true, 10..15) | (false, 2..3) => 2,
                    _ => HOME,
                };
                // About 1% of the elderly still have their old 15-digit number on record;
                // about 30% of babies under one have no number yet.
                let legacy = m.age >= 60 && rng.random_range(0..100) == 0;
                let resident_id = if m.age == 0 && rng.random_range(0..10) < 3 {
                    None
                } else {
                    Some(self.numbers.issue(&mut rng, area, birth, m.sex, RESIDENT_SEQUENCES, legacy))
                };
                let own_phone = match m.age {
                    0..14 => false,
                    14..18 => rng.random_bool(0.5),
                    18..75 => rng.random_bool(0.9),
                    _ => rng.random_bool(0.45),
                };
                // Children and the very old are often reached on the household's phone.
                let phone = if own_phone {
                    Some(mobile(&mut rng))
                } else if (m.age < 14 || m.age >= 75) && rng.random_bool(0.6) {
                    household_phone.clone()
                } else {
                    None
                };
                if household_phone.is_none() && own_phone {
                    household_phone.clone_from(&phone);
                }
                records.push(HealthRecord {
                    id: HealthRecordId::from_uuid(self.ids.next(&mut rng)),
                    consortium_id: self.consortium_id,
                    record_no: format!("{}{:05}", plan.code.as_str(), records.len() + 1),
                    household_id: Some(household_id),
                    household_relation: Some(m.relation.to_owned()),
                    name,
                    sex: m.sex,
                    birth_date: birth,
                    resident_id,
                    phone,
                    village_code: plan.code.clone(),
                    address: address.clone(),
                    managing_institution_id: plan.managing,
                    created_at: self.cfg.created_at,
                });
            }
            self.members = members;
            households.push(Household {
                id: household_id,
                consortium_id: self.consortium_id,
                village_code: plan.code.clone(),
                address,
            });
        }
        let residents = VillageResidents { village_code: plan.code.as_str().to_owned(), households, records };
        Generated { index, residents, doubles }
    }
}

impl Iterator for Residents<'_> {
    type Item = Generated;

    fn next(&mut self) -> Option<Generated> {
        let (index, plan) = self.plans.next()?;
        Some(self.village(index, &plan))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.plans.size_hint()
    }
}

/// The committee's name without its suffixes: 人民社区居委会 → 人民, 东关街社区居委会 → 东关.
fn committee_stem(name: &str) -> &str {
    let name = name.trim_end_matches("居委会").trim_end_matches("社区");
    name.trim_end_matches('街')
}

/// An eleven-digit mobile number.
pub(crate) fn mobile(rng: &mut SynthRng) -> String {
    let mut s = String::with_capacity(11);
    let prefix = MOBILE_PREFIXES[rng.random_range(0..MOBILE_PREFIXES.len())];
    write!(s, "{prefix}{:08}", rng.random_range(0..100_000_000u32)).expect("write to string");
    s
}

/// Elderly ages in five-year bands from 60 to 94, weighted like the rural population of the
/// 2020s (the 1950s and early-1960s cohorts are large, few reach 90).
const ELDERLY_BANDS: [u32; 7] = [16, 15, 14, 10, 6, 3, 1];

/// An elderly age, shifted by `shift` years (a couple's head is a little younger than a
/// widow living alone).
fn elderly_age(rng: &mut SynthRng, shift: i32) -> u32 {
    let band = pick_weighted(rng, &ELDERLY_BANDS) as u32;
    let age = 60 + 5 * band + rng.random_range(0..5);
    age.saturating_add_signed(shift).min(98)
}

/// Relative size of the birth cohort now aged `age` (under 31): births in China fell by half
/// between 2016 and 2023.
fn cohort_weight(age: u32) -> u32 {
    match age {
        0..=2 => 5,
        3..=5 => 6,
        6..=9 => 8,
        10..=16 => 9,
        _ => 8,
    }
}

/// An age in `min..=max` weighted by cohort size.
fn young_age(rng: &mut SynthRng, min: u32, max: u32) -> u32 {
    loop {
        let age = rng.random_range(min..=max);
        if rng.random_range(0..9) < cohort_weight(age) {
            return age;
        }
    }
}

fn member(relation: &'static str, sex: Sex, age: u32, surname: &'static str, married_in: bool) -> Member {
    Member { relation, sex, age, surname, married_in, twin: false }
}

fn random_sex(rng: &mut SynthRng) -> Sex {
    // The rural sex ratio at birth was high for the cohorts born 1990–2015.
    if rng.random_range(0..100) < 53 { Sex::Male } else { Sex::Female }
}

/// The mother of children about to be drawn.
#[derive(Clone, Copy)]
struct Mother {
    age: u32,
    surname: &'static str,
}

/// How a couple's ages are fixed: by the head's or by the wife's.
enum Age {
    Head(u32),
    Wife(u32),
}

/// Head and spouse; returns the wife. The husband carries `family`, the surname the children
/// take; about one household in eight is headed by the wife.
fn couple(
    rng: &mut SynthRng,
    names: &Names,
    family: &'static str,
    age: Age,
    out: &mut Vec<Member>,
) -> Mother {
    let gap = rng.random_range(0..=5);
    let wife_surname = names.surname(rng);
    let male_head = rng.random_range(0..8) > 0;
    let (husband, wife) = match age {
        Age::Head(head) if male_head => (head, head.saturating_sub(gap).max(20)),
        Age::Head(head) => (head + gap, head),
        Age::Wife(wife) => (wife + gap, wife),
    };
    if male_head {
        out.push(member("02", Sex::Male, husband, family, false));
        out.push(member("10", Sex::Female, wife, wife_surname, true));
    } else {
        out.push(member("02", Sex::Female, wife, wife_surname, false));
        out.push(member("10", Sex::Male, husband, family, true));
    }
    Mother { age: wife, surname: wife_surname }
}

/// Pushes a child (or grandchild) of `mother` aged `age`.
fn push_child(
    rng: &mut SynthRng,
    out: &mut Vec<Member>,
    mother: Mother,
    family: &'static str,
    age: u32,
    grandchild: bool,
) {
    let sex = random_sex(rng);
    // A few children take their mother's surname.
    let surname = if rng.random_range(0..100) < 4 { mother.surname } else { family };
    let relation = match (grandchild, sex) {
        (false, Sex::Male) => "20",
        (false, _) => "30",
        (true, Sex::Male) => "41",
        (true, _) => "42",
    };
    out.push(member(relation, sex, age, surname, false));
}

/// A child of `mother` aged within `ages` (and at least 21 years younger than the mother); none
/// if that is impossible.
fn child(
    rng: &mut SynthRng,
    out: &mut Vec<Member>,
    mother: Mother,
    family: &'static str,
    ages: RangeInclusive<u32>,
) {
    let max = (*ages.end()).min(mother.age.saturating_sub(21));
    if mother.age >= 21 && max >= *ages.start() {
        let age = young_age(rng, *ages.start(), max);
        push_child(rng, out, mother, family, age, false);
    }
}

/// `count` siblings, the eldest aged `eldest`, each younger one one to six years after.
fn siblings(
    rng: &mut SynthRng,
    out: &mut Vec<Member>,
    mother: Mother,
    family: &'static str,
    (eldest, count): (u32, usize),
    grandchild: bool,
) {
    let mut age = eldest;
    for k in 0..count {
        // About one birth in fifty after the first child is a twin of the child before.
        let twin = k > 0 && rng.random_range(0..50) == 0;
        if k > 0 && !twin {
            let gap = rng.random_range(1..=6);
            if age < gap {
                break;
            }
            age -= gap;
        }
        push_child(rng, out, mother, family, age, grandchild);
        if let Some(last) = out.last_mut() {
            last.twin = twin;
        }
    }
}

/// Draws one household, head first.
fn compose(rng: &mut SynthRng, names: &Names, clan: Option<&'static str>, out: &mut Vec<Member>) {
    // In a clan village a good share of families carry the clan's surname.
    let family = match clan {
        Some(c) if rng.random_range(0..100) < 35 => c,
        _ => names.surname(rng),
    };
    match pick_weighted(rng, &HOUSEHOLD_WEIGHTS) {
        0 => {
            // Widowed or single; more often a widow.
            let sex = if rng.random_range(0..10) < 6 { Sex::Female } else { Sex::Male };
            let surname = if sex == Sex::Male { family } else { names.surname(rng) };
            let age = elderly_age(rng, 3);
            out.push(member("02", sex, age, surname, sex == Sex::Female));
        }
        1 => {
            let head = elderly_age(rng, -1);
            couple(rng, names, family, Age::Head(head), out);
        }
        2 => {
            let head = rng.random_range(45..=62);
            let mother = couple(rng, names, family, Age::Head(head), out);
            // A grown child still registered at home, often working away.
            if rng.random_range(0..10) < 7 {
                child(rng, out, mother, family, 18..=30);
            }
        }
        3 => {
            // A young family, built from the eldest child up so that the children's ages
            // follow the cohort sizes rather than the parents'.
            let eldest = young_age(rng, 0, 18);
            let wife = eldest + rng.random_range(22..=32);
            let mother = couple(rng, names, family, Age::Wife(wife), out);
            let count = pick_weighted(rng, &[0, 45, 40, 15]);
            siblings(rng, out, mother, family, (eldest, count), false);
        }
        4 => {
            // Three generations: the son's family lives with his parents; built from the
            // eldest grandchild up.
            let eldest = young_age(rng, 0, 16);
            let daughter_in_law = eldest + rng.random_range(22..=32);
            let son = daughter_in_law + rng.random_range(0..=4);
            let grandmother = (son + rng.random_range(21..=32)).min(90);
            couple(rng, names, family, Age::Wife(grandmother), out);
            out.push(member("20", Sex::Male, son, family, false));
            let dil_surname = names.surname(rng);
            out.push(member("38", Sex::Female, daughter_in_law, dil_surname, true));
            let mother = Mother { age: daughter_in_law, surname: dil_surname };
            let count = pick_weighted(rng, &[0, 55, 45]);
            siblings(rng, out, mother, family, (eldest, count), true);
        }
        5 => {
            // Grandparents raising grandchildren whose parents work in the cities.
            let head = rng.random_range(55..=76);
            if rng.random_range(0..10) < 8 {
                couple(rng, names, family, Age::Head(head), out);
            } else {
                let surname = names.surname(rng);
                out.push(member("02", Sex::Female, head, surname, true));
            }
            for _ in 0..pick_weighted(rng, &[0, 60, 40]) {
                let sex = random_sex(rng);
                let relation = if sex == Sex::Male { "41" } else { "42" };
                let age = young_age(rng, 1, 17);
                out.push(member(relation, sex, age, family, false));
            }
        }
        7 => {
            let head = rng.random_range(22..=30);
            couple(rng, names, family, Age::Head(head), out);
        }
        _ => {
            // A couple living with one or both of the head's elderly parents.
            let head = rng.random_range(38..=58);
            let mother = couple(rng, names, family, Age::Head(head), out);
            let head_surname = out[0].surname;
            let parent_age = (head + rng.random_range(22..=35)).min(98);
            match rng.random_range(0..3) {
                0 => out.push(member("51", Sex::Male, parent_age, head_surname, false)),
                1 => out.push(member("52", Sex::Female, parent_age, names.surname(rng), true)),
                _ => {
                    out.push(member("51", Sex::Male, parent_age, head_surname, false));
                    let age = parent_age.saturating_sub(rng.random_range(0..=4));
                    out.push(member("52", Sex::Female, age, names.surname(rng), true));
                }
            }
            if rng.random_range(0..2) == 0 {
                child(rng, out, mother, family, 5..=20);
            }
        }
    }
}
