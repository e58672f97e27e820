//! Facility registrations (source patients) as the master patient index receives them from each
//! facility's own system (DESIGN.md §3.3, §10.1): one per resident, mostly at the village site
//! or township centre, some at the county hospitals; about 2% of residents registered again at
//! other facilities with a clerk's mistakes; the truth (whose registration it is, which
//! mistakes, which hard negatives) kept in a parallel vector.
//!
//! Each village's registrations come from their own stream, in resident order, so a resident's
//! registrations do not depend on other villages. Values fixed per person (e-health card,
//! insurance number, local ids) are mixed from the seed and the person's number, not drawn.

use std::collections::HashMap;

use chrono::{Datelike, Days, NaiveDate, NaiveTime};
use rand::Rng;
use yigong_domain::facility::{Institution, InstitutionKind, Tier};
use yigong_domain::identity::{DivisionCode, IdOrigin, Sex};
use yigong_domain::ids::HouseholdId;
use yigong_domain::population::HealthRecord;

use crate::mistakes;
use crate::people::{self, Generated};
use crate::rng::{self, SynthRng, mix, pick_weighted, stream};
use crate::{Organisation, SynthConfig};

/// One patient registration as a facility's system exports it: raw text, with the sex and date
/// formats of that system. Nothing here says whose registration it is: see [`Truth`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registration {
    /// Institution code of the registering facility (`H01`, `T101`, `V101201`…).
    pub source: String,
    /// The facility's own patient number (门诊号), unique within the source.
    pub local_id: String,
    /// Name as entered: characters, or pinyin when the input method failed.
    pub name: String,
    /// `男`/`女` or the GB/T 2261.1 codes `1`/`2`, depending on the source.
    pub sex: String,
    /// `1980-03-05`, `19800305` or `1980/3/5`, depending on the source.
    pub birth_date: String,
    /// The resident ID as entered: 18 characters, or 15 digits for an old number.
    pub resident_id: Option<String>,
    /// Why no resident ID was entered (新生儿未办证, 未带身份证…).
    pub no_id_reason: Option<String>,
    /// Mobile number, sometimes written with dashes.
    pub phone: Option<String>,
    /// Twelve-digit code of the village of residence.
    pub village_code: Option<String>,
    /// Household (户) number from the public-health system: the village code and a five-digit
    /// serial. County hospitals and private clinics have none.
    pub household_id: Option<String>,
    /// E-health card (电子健康卡) index, when the card was shown.
    pub e_health_card: Option<String>,
    /// Medical insurance number, when the card was shown.
    pub insurance_number: Option<String>,
    /// When the patient was registered, China time: `2026-03-05 14:23:11`.
    pub registered_at: String,
}

/// A mistake made in a duplicate registration (DESIGN.md §10.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RegistrationError {
    /// A character replaced by a homophone (同音字): 李明 → 李铭, 张伟 → 章伟.
    Homophone,
    /// A character replaced by a look-alike (形近字): 己/已, 未/末, 王/玉.
    Lookalike,
    /// A polyphonic surname written in another character of its reading: 曾 → 增, 覃 → 谭.
    PolyphonicSurname,
    /// The name in pinyin only: `Zhang Wei`.
    PinyinName,
    /// A pet name (小名) for the given name: 李建明 → 李小明, 李明明.
    Nickname,
    /// Day and month of the birth date swapped.
    DayMonthSwap,
    /// One digit of the resident ID mistyped.
    IdTypo,
    /// Two adjacent digits of the resident ID swapped.
    IdTransposition,
    /// The old 15-digit form of an 18-character resident ID.
    Id15,
    /// No resident ID, with a reason (card forgotten, emergency, newborn).
    MissingId,
    /// Registered from another village: another village code and household, a new phone.
    MovedVillage,
    /// Another mobile number.
    ChangedPhone,
}

impl RegistrationError {
    /// Every kind, in declaration order.
    pub const ALL: [Self; 12] = [
        Self::Homophone,
        Self::Lookalike,
        Self::PolyphonicSurname,
        Self::PinyinName,
        Self::Nickname,
        Self::DayMonthSwap,
        Self::IdTypo,
        Self::IdTransposition,
        Self::Id15,
        Self::MissingId,
        Self::MovedVillage,
        Self::ChangedPhone,
    ];

    /// Stable snake_case code, as written in `truth.csv`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Homophone => "homophone",
            Self::Lookalike => "lookalike",
            Self::PolyphonicSurname => "polyphonic_surname",
            Self::PinyinName => "pinyin_name",
            Self::Nickname => "nickname",
            Self::DayMonthSwap => "day_month_swap",
            Self::IdTypo => "id_typo",
            Self::IdTransposition => "id_transposition",
            Self::Id15 => "id_15",
            Self::MissingId => "missing_id",
            Self::MovedVillage => "moved_village",
            Self::ChangedPhone => "changed_phone",
        }
    }

    /// Relative frequency among the mistakes of a duplicate.
    fn weight(self) -> u32 {
        match self {
            Self::Homophone => 16,
            Self::Lookalike => 7,
            Self::PolyphonicSurname => 3,
            Self::PinyinName => 5,
            Self::Nickname => 8,
            Self::DayMonthSwap => 10,
            Self::IdTypo => 12,
            Self::IdTransposition => 8,
            Self::Id15 => 5,
            Self::MissingId => 12,
            Self::MovedVillage => 7,
            Self::ChangedPhone => 12,
        }
    }

    /// Mistakes of one group exclude each other: one name, one ID, one contact mistake at most.
    fn group(self) -> u8 {
        match self {
            Self::Homophone
            | Self::Lookalike
            | Self::PolyphonicSurname
            | Self::PinyinName
            | Self::Nickname => 0,
            Self::DayMonthSwap => 1,
            Self::IdTypo | Self::IdTransposition | Self::Id15 | Self::MissingId => 2,
            Self::MovedVillage | Self::ChangedPhone => 3,
        }
    }
}

/// Why a registration is easily mistaken for another person's: a different person the index
/// must not link it to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HardNegative {
    /// A twin: same household and birth date as `sibling` (a person key), another given name.
    Twin {
        /// The other twin's person key.
        sibling: String,
    },
    /// Same name, sex and birth date as a stranger in another village (张伟, 王芳), planted on
    /// purpose; the stranger carries the same flag (in a county of a few thousand residents a
    /// few lack their stranger: no one in the later villages had the right sex and age).
    SameNameAndBirthDate,
    /// Same household and mobile number as `relative` (a child or an old parent reached on the
    /// family's phone).
    SharedPhone {
        /// The relative's person key.
        relative: String,
    },
}

impl HardNegative {
    /// Stable snake_case code, as written in `truth.csv`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Twin { .. } => "twin",
            Self::SameNameAndBirthDate => "same_name_and_birth_date",
            Self::SharedPhone { .. } => "shared_phone",
        }
    }

    /// The other person's key, when there is one particular other person.
    pub fn other(&self) -> Option<&str> {
        match self {
            Self::Twin { sibling } => Some(sibling),
            Self::SharedPhone { relative } => Some(relative),
            Self::SameNameAndBirthDate => None,
        }
    }
}

/// What is true of one registration, kept apart from it so that registrations can be loaded
/// without it and the index's links evaluated against it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Truth {
    /// The person: the resident's health-record number (健康档案编号), unique in the county.
    pub person: String,
    /// A further registration of a person registered before (at another source).
    pub duplicate: bool,
    /// The mistakes made in this registration, in [`RegistrationError::ALL`] order; empty for
    /// first registrations and for the few duplicates entered without a mistake.
    pub errors: Vec<RegistrationError>,
    /// The person's hard negatives, on each of their registrations.
    pub hard_negatives: Vec<HardNegative>,
}

/// The registrations of one village's residents: each resident's first registration followed
/// by their duplicates, `truth[i]` describing `registrations[i]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VillageRegistrations {
    /// Twelve-digit code of the village.
    pub village_code: String,
    /// The registrations.
    pub registrations: Vec<Registration>,
    /// The truth, parallel to `registrations`.
    pub truth: Vec<Truth>,
}

/// Share of residents registered more than once.
const DUPLICATE_SHARE: f64 = 0.02;
/// Reasons given for a missing resident ID (one with a comma and one with quotes, as clerks type
/// them, which CSV must quote).
const NO_ID_REASONS: &[&str] =
    &["未带身份证", "忘记身份证号", "急诊,未带证件", "患者自述\"证件丢失\"", "无证件"];
/// The reason for a newborn.
const NEWBORN: &str = "新生儿未办证";

/// How one facility's system writes its export.
struct Source {
    code: String,
    tier: Tier,
    /// Sex as `1`/`2` rather than `男`/`女`.
    sex_codes: bool,
    /// 0 `1980-03-05`, 1 `19800305`, 2 `1980/3/5`.
    date_format: u8,
    /// Mobiles as `138-1234-5678`.
    phone_dashes: bool,
    /// The ID's check character `X` typed as `x`.
    lower_x: bool,
    /// Prefix of the local ids (`MZ`) before ten digits.
    prefix: &'static str,
    /// The local id is `(multiplier · person + offset) mod 10¹⁰`: unique per source, unrelated
    /// across sources.
    multiplier: u64,
    offset: u64,
}

/// Where the residents of one village register: their village site (clinic, service point or
/// community station), if any, and their township or community centre.
struct Place {
    code: String,
    site: Option<usize>,
    centre: usize,
    township: String,
}

/// The fields of one registration before the source's formats are applied.
#[derive(Clone)]
struct Entry {
    name: String,
    birth: NaiveDate,
    resident_id: Option<String>,
    no_id_reason: Option<String>,
    phone: Option<String>,
    village_code: String,
    household: String,
}

/// A resident with the values fixed for them.
struct Person<'r> {
    record: &'r HealthRecord,
    /// `village index · 10⁶ + serial`: unique in the county, independent of other villages.
    number: u64,
    age: u32,
    e_health_card: Option<String>,
    insurance_number: Option<String>,
}

const TEN_DIGITS: u64 = 10_000_000_000;

/// The lazy generator behind [`crate::registrations`].
pub(crate) struct Registrations<'a> {
    cfg: &'a SynthConfig,
    residents: people::Residents<'a>,
    sources: Vec<Source>,
    places: Vec<Place>,
    /// 人民医院, 中医院, 妇幼保健院.
    hospitals: [usize; 3],
    /// Central township centres and private clinics, where some residents go instead.
    others: Vec<usize>,
}

impl<'a> Registrations<'a> {
    pub fn new(cfg: &'a SynthConfig, org: &'a Organisation) -> Self {
        let members: Vec<(&Institution, Tier)> = org
            .institutions
            .iter()
            .filter_map(|i| match i.kind {
                InstitutionKind::Member(tier) => Some((i, tier)),
                InstitutionKind::Agency(_) => None,
            })
            .collect();
        let mut style = rng::rng(cfg.seed, stream::SOURCES);
        let sources = members
            .iter()
            .map(|&(i, tier)| {
                let county = tier.is_county_level();
                let multiplier = loop {
                    let m = style.random_range(TEN_DIGITS / 10..TEN_DIGITS);
                    if m % 2 == 1 && m % 5 != 0 {
                        break m;
                    }
                };
                Source {
                    code: i.code.clone(),
                    tier,
                    sex_codes: style.random_bool(if county { 0.7 } else { 0.25 }),
                    date_format: pick_weighted(&mut style, &[50, 30, 20]) as u8,
                    phone_dashes: style.random_bool(0.1),
                    lower_x: style.random_bool(0.15),
                    prefix: if county || style.random_bool(0.4) { "MZ" } else { "" },
                    multiplier,
                    offset: style.random_range(0..TEN_DIGITS),
                }
            })
            .collect();
        let find = |tiers: &[Tier], division: &str| {
            members.iter().position(|(i, tier)| tiers.contains(tier) && i.division_code.as_str() == division)
        };
        let places = org
            .divisions
            .iter()
            .filter(|d| d.level == "village")
            .map(|d| {
                let code = DivisionCode::parse(&d.code).expect("generated village codes are valid");
                let township = code.township().expect("a village lies in a township");
                let sites = [Tier::VillageClinic, Tier::VillageServicePoint, Tier::CommunityStation];
                let site = find(&sites, &d.code);
                let centre = find(&[Tier::TownshipCentre, Tier::CommunityCentre], &township)
                    .expect("every township has a centre");
                Place { code: d.code.clone(), site, centre, township }
            })
            .collect();
        let tier =
            |t: Tier| members.iter().position(|&(_, tier)| tier == t).expect("the county hospitals exist");
        let hospitals = [tier(Tier::CountyGeneral), tier(Tier::CountyTcm), tier(Tier::CountyMch)];
        let others = (0..members.len())
            .filter(|&k| match members[k] {
                (_, Tier::PrivateClinic) => true,
                (i, Tier::TownshipCentre) => i.is_central,
                _ => false,
            })
            .collect();
        Self { cfg, residents: people::Residents::new(cfg, org), sources, places, hospitals, others }
    }

    fn village(&self, generated: Generated) -> VillageRegistrations {
        let Generated { index, residents, doubles } = generated;
        let mut rng = rng::rng(self.cfg.seed, stream::REGISTRATION_BASE + index as u64);
        let place = &self.places[index];
        let records = &residents.records;
        let hard = hard_negatives(records, &doubles);
        // Household numbers as the public-health system gives them: the village code and a
        // serial, so they do not depend on other villages.
        let households: HashMap<Option<HouseholdId>, String> = residents
            .households
            .iter()
            .enumerate()
            .map(|(k, h)| (Some(h.id), format!("{}{:05}", residents.village_code, k + 1)))
            .collect();
        let capacity = records.len() + records.len() / 32 + 1;
        let mut out = VillageRegistrations {
            village_code: residents.village_code.clone(),
            registrations: Vec::with_capacity(capacity),
            truth: Vec::with_capacity(capacity),
        };
        for (serial, (record, hard_negatives)) in records.iter().zip(hard).enumerate() {
            let person = self.person(index, serial, record);
            let base = self.base_source(&mut rng, place, &person);
            let mut used = vec![base];
            let entry = Entry {
                name: record.name.clone(),
                birth: record.birth_date,
                resident_id: record.resident_id.as_ref().map(|id| match id.origin() {
                    IdOrigin::DerivedFrom15 => mistakes::fifteen_digit(id.as_str()).expect("a 1900s number"),
                    IdOrigin::Entered18 => id.as_str().to_owned(),
                }),
                no_id_reason: record.resident_id.is_none().then(|| NEWBORN.to_owned()),
                phone: record.phone.clone(),
                village_code: place.code.clone(),
                household: households.get(&record.household_id).cloned().unwrap_or_default(),
            };
            let truth = |duplicate, errors| Truth {
                person: record.record_no.clone(),
                duplicate,
                errors,
                hard_negatives: hard_negatives.clone(),
            };
            out.registrations.push(self.render(&mut rng, base, &person, &entry, 1.0));
            out.truth.push(truth(false, Vec::new()));
            if rng.random_bool(DUPLICATE_SHARE) {
                // Most are registered once more; a few two or three times.
                for _ in 0..1 + pick_weighted(&mut rng, &[80, 16, 4]) {
                    let (source, duplicate, errors) = self.duplicate(&mut rng, index, &person, &entry, &used);
                    used.push(source);
                    out.registrations.push(self.render(&mut rng, source, &person, &duplicate, 0.9));
                    out.truth.push(truth(true, errors));
                }
            }
        }
        out
    }

    fn person<'r>(&self, village: usize, serial: usize, record: &'r HealthRecord) -> Person<'r> {
        let number = village as u64 * 1_000_000 + serial as u64 + 1;
        let key = |salt: u64| mix(self.cfg.seed ^ mix(number ^ (salt << 56)));
        // About a third of residents have activated an e-health card; its index is 64 hex digits.
        let e_health_card =
            (key(1) % 100 < 35).then(|| (2..6).map(|salt| format!("{:016X}", key(salt))).collect::<String>());
        // Nearly everyone is insured (城乡居民医保); the number is the county's code and a
        // permutation of the person's number, so no two people share one.
        let insured = key(6) % 100 < 96;
        let insurance_number = insured.then(|| {
            let (a, b) = (7_346_259_183u128, u128::from(mix(self.cfg.seed) % TEN_DIGITS));
            format!("990121{:010}", (a * u128::from(number) + b) % u128::from(TEN_DIGITS))
        });
        let age = self.cfg.today.years_since(record.birth_date).unwrap_or(0);
        Person { record, number, age, e_health_card, insurance_number }
    }

    /// Women of childbearing age and children go to the maternal and child health hospital.
    fn hospital(&self, rng: &mut SynthRng, person: &Person) -> usize {
        let mch = person.age < 14 || (person.record.sex == Sex::Female && (15..50).contains(&person.age));
        let weights: &[u32] = if mch { &[50, 10, 40] } else { &[78, 20, 2] };
        self.hospitals[pick_weighted(rng, weights)]
    }

    /// Where a resident registered first: mostly near home.
    fn base_source(&self, rng: &mut SynthRng, place: &Place, person: &Person) -> usize {
        match (place.site, rng.random_range(0..100)) {
            (Some(site), 0..55) => site,
            (Some(_), 55..85) | (None, 0..75) => place.centre,
            _ => self.hospital(rng, person),
        }
    }

    /// A source other than `used` for a further registration.
    fn other_source(&self, rng: &mut SynthRng, place: &Place, person: &Person, used: &[usize]) -> usize {
        for _ in 0..20 {
            let source = match rng.random_range(0..100) {
                0..55 => self.hospital(rng, person),
                55..80 => place.centre,
                80..90 => place.site.unwrap_or(place.centre),
                _ if !self.others.is_empty() => self.others[rng.random_range(0..self.others.len())],
                _ => place.centre,
            };
            if !used.contains(&source) {
                return source;
            }
        }
        (0..self.sources.len()).find(|s| !used.contains(s)).expect("more sources than registrations")
    }

    /// A further registration of `person` at a source not in `used`, with its mistakes.
    fn duplicate(
        &self,
        rng: &mut SynthRng,
        village: usize,
        person: &Person,
        entry: &Entry,
        used: &[usize],
    ) -> (usize, Entry, Vec<RegistrationError>) {
        let record = person.record;
        let mut e = entry.clone();
        let mut errors = Vec::new();
        let mut source = None;
        for error in draw_errors(rng, record, entry) {
            let done = match error {
                RegistrationError::Homophone => replace(&mut e.name, mistakes::homophone(rng, &record.name)),
                RegistrationError::Lookalike => replace(&mut e.name, mistakes::lookalike(rng, &record.name)),
                RegistrationError::PolyphonicSurname => {
                    replace(&mut e.name, mistakes::polyphonic(rng, &record.name))
                }
                RegistrationError::PinyinName => replace(&mut e.name, mistakes::pinyin(rng, &record.name)),
                RegistrationError::Nickname => replace(&mut e.name, mistakes::nickname(rng, &record.name)),
                RegistrationError::DayMonthSwap => match mistakes::swap_day_month(e.birth) {
                    Some(swapped) => {
                        e.birth = swapped;
                        true
                    }
                    None => false,
                },
                RegistrationError::IdTypo => {
                    let typo = e.resident_id.as_deref().map(|id| mistakes::mistype_digit(rng, id));
                    replace(&mut e.resident_id, typo.map(Some))
                }
                RegistrationError::IdTransposition => {
                    let swapped = e.resident_id.as_deref().and_then(|id| mistakes::transpose(rng, id));
                    replace(&mut e.resident_id, swapped.map(Some))
                }
                RegistrationError::Id15 => {
                    let short = e.resident_id.as_deref().and_then(mistakes::fifteen_digit);
                    replace(&mut e.resident_id, short.map(Some))
                }
                RegistrationError::MissingId => {
                    e.resident_id = None;
                    let reason = if person.age == 0 {
                        NEWBORN
                    } else {
                        NO_ID_REASONS[rng.random_range(0..NO_ID_REASONS.len())]
                    };
                    e.no_id_reason = Some(reason.to_owned());
                    true
                }
                RegistrationError::MovedVillage => {
                    let to = self.moved_to(rng, village);
                    e.village_code = self.places[to].code.clone();
                    // A household number beyond the new village's own.
                    e.household = format!("{}{}", self.places[to].code, rng.random_range(90_000..100_000));
                    e.phone = Some(people::mobile(rng));
                    // Registered near the new home, where possible.
                    let near = self.places[to].site.unwrap_or(self.places[to].centre);
                    source = (!used.contains(&near)).then_some(near);
                    true
                }
                RegistrationError::ChangedPhone => {
                    e.phone = Some(people::mobile(rng));
                    true
                }
            };
            if done {
                errors.push(error);
            }
        }
        errors.sort();
        let source = source.unwrap_or_else(|| self.other_source(rng, &self.places[village], person, used));
        (source, e, errors)
    }

    /// Another village, half the time in the same township.
    fn moved_to(&self, rng: &mut SynthRng, from: usize) -> usize {
        let township = &self.places[from].township;
        let nearby: Vec<usize> =
            (0..self.places.len()).filter(|&i| i != from && self.places[i].township == *township).collect();
        if !nearby.is_empty() && rng.random_bool(0.5) {
            return nearby[rng.random_range(0..nearby.len())];
        }
        let other = rng.random_range(0..self.places.len() - 1);
        if other >= from { other + 1 } else { other }
    }

    /// The registration of `entry` as `source` writes it; `phone_kept` is the chance that a
    /// known phone is entered.
    fn render(
        &self,
        rng: &mut SynthRng,
        source: usize,
        person: &Person,
        entry: &Entry,
        phone_kept: f64,
    ) -> Registration {
        let s = &self.sources[source];
        let (card, insurance, village, household) = match s.tier {
            t if t.is_county_level() => (0.7, 0.85, 0.7, 0.0),
            Tier::TownshipCentre | Tier::CommunityCentre => (0.4, 0.6, 1.0, 0.9),
            Tier::PrivateClinic => (0.1, 0.2, 0.5, 0.0),
            _ => (0.15, 0.3, 1.0, 0.9),
        };
        let local = (u128::from(s.multiplier) * u128::from(person.number) + u128::from(s.offset))
            % u128::from(TEN_DIGITS);
        let sex = match (person.record.sex, s.sex_codes) {
            (Sex::Male, true) => "1",
            (Sex::Female, true) => "2",
            (Sex::Male, false) => "男",
            (Sex::Female, false) => "女",
            (_, true) => "9",
            (_, false) => "未说明",
        };
        let b = entry.birth;
        let birth_date = match s.date_format {
            0 => b.format("%Y-%m-%d").to_string(),
            1 => b.format("%Y%m%d").to_string(),
            _ => format!("{}/{}/{}", b.year(), b.month(), b.day()),
        };
        let phone = entry.phone.as_ref().filter(|_| rng.random_bool(phone_kept)).map(|p| {
            if s.phone_dashes && p.len() == 11 {
                format!("{}-{}-{}", &p[..3], &p[3..7], &p[7..])
            } else {
                p.clone()
            }
        });
        Registration {
            source: s.code.clone(),
            local_id: format!("{}{local:010}", s.prefix),
            name: entry.name.clone(),
            sex: sex.to_owned(),
            birth_date,
            resident_id: entry
                .resident_id
                .as_ref()
                .map(|id| if s.lower_x { id.to_ascii_lowercase() } else { id.clone() }),
            no_id_reason: entry.no_id_reason.clone(),
            phone,
            village_code: rng.random_bool(village).then(|| entry.village_code.clone()),
            household_id: (!entry.household.is_empty() && rng.random_bool(household))
                .then(|| entry.household.clone()),
            e_health_card: person.e_health_card.clone().filter(|_| rng.random_bool(card)),
            insurance_number: person.insurance_number.clone().filter(|_| rng.random_bool(insurance)),
            registered_at: self.registered_at(rng, entry.birth),
        }
    }

    /// A moment in the year before `today`, in opening hours, not before birth.
    fn registered_at(&self, rng: &mut SynthRng, birth: NaiveDate) -> String {
        let end = self.cfg.today;
        let start = (end - Days::new(365)).max(birth);
        let span = (end - start).num_days().max(1) as u64;
        let day = start + Days::new(rng.random_range(0..span));
        let seconds = rng.random_range(7 * 3600 + 1800..18 * 3600);
        let time = NaiveTime::from_num_seconds_from_midnight_opt(seconds, 0).expect("within a day");
        day.and_time(time).format("%Y-%m-%d %H:%M:%S").to_string()
    }
}

impl Iterator for Registrations<'_> {
    type Item = VillageRegistrations;

    fn next(&mut self) -> Option<VillageRegistrations> {
        let generated = self.residents.next()?;
        Some(self.village(generated))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.residents.size_hint()
    }
}

/// Puts `value` into `slot` when there is one; whether it did.
fn replace<T>(slot: &mut T, value: Option<T>) -> bool {
    match value {
        Some(v) => {
            *slot = v;
            true
        }
        None => false,
    }
}

/// The mistakes of one duplicate: none for one in ten, else one to three from different groups,
/// only those that can be made on this record (a polyphonic surname is a likely slip when there
/// is one).
fn draw_errors(rng: &mut SynthRng, record: &HealthRecord, entry: &Entry) -> Vec<RegistrationError> {
    let count = pick_weighted(rng, &[10, 55, 27, 8]);
    let id = entry.resident_id.as_deref();
    let mut weights: Vec<u32> = RegistrationError::ALL
        .iter()
        .map(|&e| {
            let applies = match e {
                RegistrationError::PolyphonicSurname => mistakes::has_polyphonic_surname(&record.name),
                RegistrationError::DayMonthSwap => mistakes::swap_day_month(record.birth_date).is_some(),
                RegistrationError::IdTypo
                | RegistrationError::IdTransposition
                | RegistrationError::MissingId => id.is_some(),
                RegistrationError::Id15 => id.and_then(mistakes::fifteen_digit).is_some(),
                _ => true,
            };
            match e {
                _ if !applies => 0,
                RegistrationError::PolyphonicSurname => 40,
                _ => e.weight(),
            }
        })
        .collect();
    let mut errors = Vec::with_capacity(count);
    for _ in 0..count {
        if weights.iter().all(|&w| w == 0) {
            break;
        }
        let chosen = RegistrationError::ALL[pick_weighted(rng, &weights)];
        errors.push(chosen);
        for (w, e) in weights.iter_mut().zip(RegistrationError::ALL) {
            if e.group() == chosen.group() {
                *w = 0;
            }
        }
    }
    errors
}

/// The hard negatives of each record of a village: twins and phone sharers within a household
/// (households are contiguous, head first), and the planted doubles.
fn hard_negatives(records: &[HealthRecord], doubles: &[usize]) -> Vec<Vec<HardNegative>> {
    const CHILDREN: [&str; 4] = ["20", "30", "41", "42"];
    let is_child =
        |r: &HealthRecord| r.household_relation.as_deref().is_some_and(|rel| CHILDREN.contains(&rel));
    let mut out = vec![Vec::new(); records.len()];
    let mut start = 0;
    while start < records.len() {
        let household = records[start].household_id;
        let end = start + records[start..].iter().take_while(|r| r.household_id == household).count();
        for a in start..end {
            let ra = &records[a];
            for (b, rb) in records.iter().enumerate().take(end).skip(start) {
                if a != b && is_child(ra) && is_child(rb) && ra.birth_date == rb.birth_date {
                    out[a].push(HardNegative::Twin { sibling: rb.record_no.clone() });
                }
            }
            let sharer = (start..end).find(|&b| b != a && ra.phone.is_some() && records[b].phone == ra.phone);
            if let Some(b) = sharer {
                out[a].push(HardNegative::SharedPhone { relative: records[b].record_no.clone() });
            }
        }
        start = end;
    }
    for &i in doubles {
        out[i].push(HardNegative::SameNameAndBirthDate);
    }
    out
}
