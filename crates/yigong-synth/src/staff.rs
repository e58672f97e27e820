//! The staff registry: about 2,900 people across the consortium (scaled with its institutions,
//! not with the residents), their categories, dated title histories, practice registration and
//! one employment posting each. Dispatch postings are added by `dispatch`.

use chrono::{Datelike, Days, NaiveDate};
use rand::Rng;
use rand::seq::SliceRandom;
use yigong_domain::facility::{Department, DepartmentKind, Institution, InstitutionKind, Tier};
use yigong_domain::identity::{ResidentId, Sex};
use yigong_domain::ids::{PostingId, StaffId};
use yigong_domain::staffing::{PostingSource, PracticeCategory, StaffCategory, TitleLevel};
use yigong_domain::{Posting, Staff, TitleRecord};

use crate::SynthConfig;
use crate::idnum::{AREAS, HOME, IdNumbers, STAFF_SEQUENCES};
use crate::names::Names;
use crate::rng::{IdGen, SynthRng, apportion, birth_date_for_age, pick_weighted, plus_days, plus_years};

use StaffCategory::{
    Admin, AssistantPhysician as Assistant, Nurse, Pharmacist, Physician, PublicHealth, Technician,
    VillageDoctor,
};
use TitleLevel::{AssociateSenior, Intermediate, Junior, Senior};

/// A title ladder: the titles of one series from the first to the highest, with their level.
type Ladder = &'static [(TitleLevel, &'static str)];

const PHYSICIAN: Ladder =
    &[(Junior, "医师"), (Intermediate, "主治医师"), (AssociateSenior, "副主任医师"), (Senior, "主任医师")];
const TCM_PHYSICIAN: Ladder = &[
    (Junior, "中医师"),
    (Intermediate, "主治中医师"),
    (AssociateSenior, "副主任中医师"),
    (Senior, "主任中医师"),
];
const PUBLIC_HEALTH: Ladder =
    &[(Junior, "医师"), (Intermediate, "主管医师"), (AssociateSenior, "副主任医师"), (Senior, "主任医师")];
const ASSISTANT: Ladder = &[(Junior, "医士")];
const NURSE: Ladder = &[
    (Junior, "护士"),
    (Junior, "护师"),
    (Intermediate, "主管护师"),
    (AssociateSenior, "副主任护师"),
    (Senior, "主任护师"),
];
const PHARMACIST: Ladder = &[
    (Junior, "药士"),
    (Junior, "药师"),
    (Intermediate, "主管药师"),
    (AssociateSenior, "副主任药师"),
    (Senior, "主任药师"),
];
const TCM_PHARMACIST: Ladder = &[
    (Junior, "中药士"),
    (Junior, "中药师"),
    (Intermediate, "主管中药师"),
    (AssociateSenior, "副主任中药师"),
    (Senior, "主任中药师"),
];
const TECHNICIAN: Ladder = &[
    (Junior, "技士"),
    (Junior, "技师"),
    (Intermediate, "主管技师"),
    (AssociateSenior, "副主任技师"),
    (Senior, "主任技师"),
];
const ADMIN: Ladder = &[(Junior, "助理经济师"), (Intermediate, "经济师"), (AssociateSenior, "高级经济师")];

/// Order of the category weights below.
const CATEGORIES: [StaffCategory; 7] =
    [Physician, Assistant, Nurse, Pharmacist, Technician, PublicHealth, Admin];

/// Category mix in percent by tier: county hospitals are nurse-heavy, township centres have
/// more assistant physicians and public-health staff (they run the basic public health services).
fn mix(tier: Tier) -> [u32; 7] {
    match tier {
        Tier::CountyGeneral | Tier::CountyOther => [32, 2, 44, 4, 9, 2, 7],
        Tier::CountyTcm => [36, 3, 36, 7, 8, 1, 9],
        Tier::CountyMch => [30, 3, 42, 4, 8, 6, 7],
        Tier::TownshipCentre => [26, 12, 28, 6, 8, 12, 8],
        _ => [30, 8, 30, 6, 6, 14, 6],
    }
}

/// Promotion odds to intermediate, associate senior and senior: high at county hospitals, rare
/// beyond intermediate at the grassroots.
fn promotion_odds(kind: InstitutionKind) -> [f64; 3] {
    match kind.tier() {
        Some(t) if t.is_county_level() => [0.85, 0.5, 0.35],
        Some(Tier::TownshipCentre | Tier::CommunityCentre) => [0.7, 0.15, 0.04],
        _ => [0.5, 0.1, 0.0],
    }
}

/// How many people an institution employs.
fn headcount(rng: &mut SynthRng, inst: &Institution) -> usize {
    match inst.kind {
        InstitutionKind::Member(tier) => match tier {
            Tier::CountyGeneral => 900,
            Tier::CountyTcm => 430,
            Tier::CountyMch => 290,
            Tier::CountyOther => 100,
            Tier::TownshipCentre if inst.is_central => rng.random_range(60..=70),
            Tier::TownshipCentre => rng.random_range(36..=52),
            Tier::CommunityCentre => rng.random_range(18..=22),
            Tier::CommunityStation => 3,
            Tier::VillageClinic | Tier::VillageServicePoint => 1 + usize::from(rng.random_range(0..100) < 20),
            Tier::PrivateClinic => rng.random_range(2..=3),
        },
        InstitutionKind::Agency(_) => rng.random_range(3..=4),
    }
}

/// The categories of an institution's `n` staff, shuffled.
fn categories(rng: &mut SynthRng, inst: &Institution, n: usize) -> Vec<StaffCategory> {
    use yigong_domain::facility::AgencyKind;
    let mut out: Vec<StaffCategory> = match inst.kind {
        InstitutionKind::Agency(AgencyKind::Cdc) => vec![PublicHealth; n],
        InstitutionKind::Agency(_) => (0..n).map(|k| if k == 1 { PublicHealth } else { Admin }).collect(),
        InstitutionKind::Member(Tier::VillageClinic | Tier::VillageServicePoint) => (0..n)
            .map(|k| {
                // Mostly 乡村医生; a few have passed the (assistant) physician examination.
                let weights: &[u32] = if k == 0 { &[88, 9, 3, 0] } else { &[70, 15, 0, 15] };
                [VillageDoctor, Assistant, Physician, Nurse][pick_weighted(rng, weights)]
            })
            .collect(),
        InstitutionKind::Member(Tier::CommunityStation | Tier::PrivateClinic) => {
            [Physician, Nurse, Assistant].into_iter().cycle().take(n).collect()
        }
        InstitutionKind::Member(tier) => {
            let counts = apportion(u32::try_from(n).expect("small"), &mix(tier));
            CATEGORIES.iter().zip(counts).flat_map(|(&c, k)| std::iter::repeat_n(c, k as usize)).collect()
        }
    };
    out.shuffle(rng);
    out
}

/// Percent of women by category (and, for physicians, by level of care).
fn female_percent(category: StaffCategory, county: bool) -> u32 {
    match category {
        Physician if county => 50,
        Physician => 40,
        Assistant => 45,
        VillageDoctor => 25,
        Nurse => 97,
        Pharmacist => 65,
        Technician | Admin => 50,
        PublicHealth => 55,
    }
}

/// A department for someone of `category`, weighted by what each department does; `None`
/// where the institution has no departments.
fn department<'d>(
    rng: &mut SynthRng,
    category: StaffCategory,
    depts: &[&'d Department],
) -> Option<&'d Department> {
    let weights: Vec<u32> = depts
        .iter()
        .map(|d| {
            let subject = d.subject_code.as_deref().unwrap_or("");
            let diagnostic = subject.starts_with("31") || subject.starts_with("32");
            match (category, d.kind) {
                (Physician | Assistant, DepartmentKind::Clinical) => 10,
                (Physician, DepartmentKind::ReadingCentre | DepartmentKind::MedicalTechnology)
                    if diagnostic =>
                {
                    4
                }
                (Nurse, DepartmentKind::Clinical) => 10,
                (Nurse, DepartmentKind::Admin) if d.name == "护理部" => 2,
                (Pharmacist, DepartmentKind::Pharmacy) => 1,
                (Technician, DepartmentKind::ReadingCentre | DepartmentKind::MedicalTechnology) => 1,
                (PublicHealth, DepartmentKind::Clinical) if subject == "01" => 1,
                (PublicHealth | Admin, DepartmentKind::Admin) if d.name != "护理部" => 1,
                _ => 0,
            }
        })
        .collect();
    if weights.iter().all(|&w| w == 0) {
        // A small centre has no laboratory or imaging department: its technician works in
        // general practice (the first clinical department).
        return depts.iter().find(|d| d.kind == DepartmentKind::Clinical).copied();
    }
    Some(depts[pick_weighted(rng, &weights)])
}

/// Practice scope (执业范围) for a practice category and department subject code.
fn practice_scope(category: PracticeCategory, subject: &str) -> &'static str {
    match category {
        PracticeCategory::Tcm if subject.starts_with("52") => "中西医结合专业",
        PracticeCategory::Tcm => "中医专业",
        PracticeCategory::Dental => "口腔专业",
        PracticeCategory::PublicHealth => "公共卫生类别专业",
        PracticeCategory::Clinical => match subject.get(..2).unwrap_or("") {
            "01" => "预防保健专业",
            "03" | "28" => "内科专业",
            "04" | "26" => "外科专业",
            "05" | "06" => "妇产科专业",
            "07" | "09" => "儿科专业",
            "10" | "11" => "眼耳鼻咽喉科专业",
            "20" => "急救医学专业",
            "21" => "康复医学专业",
            "30" | "31" => "医学检验、病理专业",
            "32" => "医学影像和放射治疗专业",
            _ => "全科医学专业",
        },
    }
}

/// The dated title history from `hire`: the first title of the ladder on hire, then each step
/// after a few years with the odds of the institution, never after `today`.
fn title_history(
    rng: &mut SynthRng,
    ladder: Ladder,
    hire: NaiveDate,
    today: NaiveDate,
    odds: [f64; 3],
) -> Vec<TitleRecord> {
    let Some(&(level, name)) = ladder.first() else { return Vec::new() };
    let mut since = hire;
    let mut out = vec![TitleRecord { level: Some(level), name: Some(name.to_owned()), since }];
    for &(level, name) in &ladder[1..] {
        let (years, odds) = match level {
            Junior => (rng.random_range(3..=5), 0.95),
            Intermediate => (rng.random_range(5..=7), odds[0]),
            AssociateSenior => (rng.random_range(5..=8), odds[1]),
            Senior => (rng.random_range(5..=8), odds[2]),
        };
        let date = plus_days(plus_years(since, years), rng.random_range(0..200));
        if date > today || !rng.random_bool(odds) {
            break;
        }
        since = date;
        out.push(TitleRecord { level: Some(level), name: Some(name.to_owned()), since });
    }
    out
}

/// Serial counters for certificate numbers, unique per kind.
#[derive(Default)]
struct Serials {
    physician: u32,
    nurse: u32,
    village: u32,
}

/// The personal part of a staff member.
struct Person {
    sex: Sex,
    name: String,
    resident_id: ResidentId,
    hire: NaiveDate,
}

/// Draws a person of `category`: age 24–62 (most in mid-career; nurses younger, as many women
/// retire at 55; village doctors older, as few young people take the job), sex, name, ID
/// number and hire date.
fn person(rng: &mut SynthRng, ctx: &mut Ctx<'_>, category: StaffCategory, county: bool) -> Person {
    let today = ctx.cfg.today;
    let (u1, u2): (f64, f64) = (rng.random(), rng.random());
    let age = match category {
        VillageDoctor => 30 + (u1.max(u2) * 33.0) as u32,
        Nurse => 24 + ((u1 + u2) / 2.0 * 32.0) as u32,
        _ => 24 + ((u1 + u2) / 2.0 * 39.0) as u32,
    };
    let female = rng.random_range(0..100) < female_percent(category, county);
    let sex = if female { Sex::Female } else { Sex::Male };
    let birth = birth_date_for_age(rng, today, age);
    let hire_age = match category {
        Physician => rng.random_range(24..=27),
        Assistant | Technician => rng.random_range(21..=24),
        VillageDoctor => rng.random_range(20..=30),
        Nurse => rng.random_range(20..=23),
        Pharmacist | PublicHealth => rng.random_range(22..=25),
        Admin => rng.random_range(22..=27),
    };
    let latest_hire = today - Days::new(rng.random_range(30..300));
    let hire = plus_days(plus_years(birth, hire_age), rng.random_range(0..365)).min(latest_hire);
    // Most were born in the county, some in the neighbouring county or the prefecture's district.
    let area = match rng.random_range(0..10) {
        0 => 1,
        1 => 2,
        _ => HOME,
    };
    let resident_id = ctx.numbers.issue(rng, area, birth, sex, STAFF_SEQUENCES, false);
    let surname = ctx.names.surname(rng);
    let name = ctx.names.full(rng, surname, sex, birth.year());
    Person { sex, name, resident_id, hire }
}

/// Practice registration: physicians by their department's subject, half the public-health
/// staff as public-health physicians; nurses and village doctors hold their own certificates.
/// Returns the practice category and the certificate number.
fn registration(
    rng: &mut SynthRng,
    serials: &mut Serials,
    category: StaffCategory,
    subject: &str,
    tcm: bool,
    issued: i32,
) -> (Option<PracticeCategory>, Option<String>) {
    let practice_category = match category {
        Physician | Assistant if subject.starts_with("12") => Some(PracticeCategory::Dental),
        Physician | Assistant if tcm => Some(PracticeCategory::Tcm),
        Physician | Assistant => Some(PracticeCategory::Clinical),
        PublicHealth if rng.random_bool(0.5) => Some(PracticeCategory::PublicHealth),
        _ => None,
    };
    let certificate = match (category, practice_category) {
        (Physician | Assistant | PublicHealth, Some(pc)) => {
            serials.physician += 1;
            let level = if category == Assistant { 2 } else { 1 };
            let kind = match pc {
                PracticeCategory::Clinical => 1,
                PracticeCategory::Tcm => 2,
                PracticeCategory::Dental => 3,
                PracticeCategory::PublicHealth => 4,
            };
            // Shaped like a 医师执业证书编码: level, category, province, year, serial.
            Some(format!("{level}{kind}99{issued}{:07}", serials.physician))
        }
        (Nurse, _) => {
            serials.nurse += 1;
            Some(format!("{issued}{:08}", serials.nurse))
        }
        (VillageDoctor, _) => {
            serials.village += 1;
            Some(format!("{}{issued}{:04}", AREAS[HOME], serials.village))
        }
        _ => None,
    };
    (practice_category, certificate)
}

/// The title series of someone of `category`; empty for those without a professional title
/// (most village doctors, half the administrators).
fn ladder(rng: &mut SynthRng, category: StaffCategory, tcm: bool) -> Ladder {
    match category {
        Physician if tcm => TCM_PHYSICIAN,
        Physician => PHYSICIAN,
        Assistant => ASSISTANT,
        VillageDoctor if rng.random_range(0..10) == 0 => ASSISTANT,
        VillageDoctor => &[],
        Nurse => NURSE,
        Pharmacist if tcm => TCM_PHARMACIST,
        Pharmacist => PHARMACIST,
        Technician => TECHNICIAN,
        PublicHealth => PUBLIC_HEALTH,
        Admin if rng.random_bool(0.5) => ADMIN,
        Admin => &[],
    }
}

/// What every staff member draws on.
struct Ctx<'a> {
    cfg: &'a SynthConfig,
    names: &'a Names,
    numbers: IdNumbers,
    serials: Serials,
}

/// Generates every institution's staff and their employment postings.
pub(crate) fn build(
    cfg: &SynthConfig,
    institutions: &[Institution],
    departments: &[Department],
    rng: &mut SynthRng,
    ids: &mut IdGen,
    names: &Names,
) -> (Vec<(Staff, Vec<TitleRecord>)>, Vec<Posting>) {
    let mut ctx = Ctx { cfg, names, numbers: IdNumbers::new(cfg.today), serials: Serials::default() };
    let mut staff = Vec::new();
    let mut postings = Vec::new();
    for inst in institutions {
        let depts: Vec<&Department> = departments.iter().filter(|d| d.institution_id == inst.id).collect();
        let county = inst.kind.tier().is_some_and(Tier::is_county_level);
        let n = headcount(rng, inst);
        for category in categories(rng, inst, n) {
            let dept = department(rng, category, &depts);
            let subject = dept.and_then(|d| d.subject_code.as_deref()).unwrap_or("");
            let tcm = subject.starts_with("50")
                || subject.starts_with("52")
                || inst.kind.tier() == Some(Tier::CountyTcm);
            let Person { sex, name, resident_id, hire } = person(rng, &mut ctx, category, county);
            let issued = hire.year().min(cfg.today.year());
            let (practice_category, certificate) =
                registration(rng, &mut ctx.serials, category, subject, tcm, issued);

            let ladder = ladder(rng, category, tcm);
            let mut titles = title_history(rng, ladder, hire, cfg.today, promotion_odds(inst.kind));
            // About 1.5% of titled staff have their title missing from the registry on purpose:
            // indicators must list them rather than count them (DESIGN.md §7.1 row 4).
            if !titles.is_empty()
                && !matches!(category, VillageDoctor | Admin)
                && rng.random_range(0..1000) < 15
            {
                titles = vec![TitleRecord { level: None, name: None, since: hire }];
            }
            let latest = titles.last();
            let multi_site = category == Physician
                && county
                && latest.and_then(|t| t.level).is_some_and(|l| l >= AssociateSenior)
                && rng.random_bool(0.25);

            let staff_id = StaffId::from_uuid(ids.next(rng));
            staff.push((
                Staff {
                    id: staff_id,
                    consortium_id: inst.consortium_id,
                    code: format!("S{:05}", staff.len() + 1),
                    name,
                    sex,
                    resident_id: Some(resident_id),
                    category,
                    title_level: latest.and_then(|t| t.level),
                    title_name: latest.and_then(|t| t.name.clone()),
                    registered_institution_id: certificate.as_ref().map(|_| inst.id),
                    practice_certificate_no: certificate,
                    practice_category,
                    practice_scope: practice_category.map(|pc| practice_scope(pc, subject).to_owned()),
                    multi_site,
                    employer_institution_id: inst.id,
                    created_at: cfg.created_at,
                    updated_at: cfg.created_at,
                },
                titles,
            ));
            // One employment posting (人事关系 and place of work) from the hire date on.
            postings.push(Posting {
                id: PostingId::from_uuid(ids.next(rng)),
                consortium_id: inst.consortium_id,
                staff_id,
                institution_id: inst.id,
                department_id: dept.map(|d| d.id),
                position: Some(position(category, dept).to_owned()),
                source: PostingSource::Employment,
                valid_from: hire,
                valid_to: None,
                created_at: cfg.created_at,
            });
        }
    }
    (staff, postings)
}

/// The position written on an employment posting.
fn position(category: StaffCategory, dept: Option<&Department>) -> &'static str {
    let diagnostic = dept.is_some_and(|d| d.kind != DepartmentKind::Clinical);
    match category {
        Physician if diagnostic => "诊断医师",
        Physician => "临床医师",
        Assistant => "助理医师",
        VillageDoctor => "乡村医生",
        Nurse if diagnostic => "护理管理",
        Nurse => "护士",
        Pharmacist => "药剂人员",
        Technician => "技术人员",
        PublicHealth => "公共卫生人员",
        Admin => "管理人员",
    }
}
