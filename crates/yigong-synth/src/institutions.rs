//! The consortium, its member institutions and the county's agencies (DESIGN.md §2, §10.1):
//! codes, GB 32100 credit codes, licence numbers, beds, services, parents, and departments
//! with their national subject codes (诊疗科目).

use chrono::NaiveDate;
use rand::Rng;
use yigong_domain::facility::{
    AgencyKind, Consortium, Department, DepartmentKind, Institution, InstitutionKind, Ownership, Service,
    Tier, credit_code_check_char,
};
use yigong_domain::identity::{CountyCode, DivisionCode};
use yigong_domain::ids::{ConsortiumId, DepartmentId, InstitutionId};

use crate::SynthConfig;
use crate::geography::{COUNTY, Geography, TownshipKind};
use crate::rng::{IdGen, SynthRng};

/// Departments as (name, 诊疗科目 subject code, kind). Codes follow the national catalogue of
/// diagnosis and treatment subjects (医疗机构诊疗科目名录): 01 预防保健科, 02 全科医疗科, 03 内科,
/// 04 外科, 05 妇产科, 07 儿科, 10 眼科, 11 耳鼻咽喉科, 12 口腔科, 20 急诊医学科, 21 康复医学科,
/// 26 麻醉科, 28 重症医学科, 30 医学检验科, 31 病理科, 32 医学影像科, 50 中医科, 52 中西医结合科.
type DeptSpec = (&'static str, Option<&'static str>, DepartmentKind);

use DepartmentKind::{Admin, Clinical, MedicalTechnology as Tech, Pharmacy, ReadingCentre as Reading};

/// The lead hospital: its own laboratory, imaging and pathology are the consortium's reading
/// centres, so they appear once, as reading centres.
const PEOPLES_HOSPITAL: &[DeptSpec] = &[
    ("心血管内科", Some("03.04"), Clinical),
    ("呼吸内科", Some("03.01"), Clinical),
    ("消化内科", Some("03.02"), Clinical),
    ("神经内科", Some("03.03"), Clinical),
    ("普通外科", Some("04.01"), Clinical),
    ("骨科", Some("04.03"), Clinical),
    ("妇产科", Some("05"), Clinical),
    ("儿科", Some("07"), Clinical),
    ("眼科", Some("10"), Clinical),
    ("耳鼻咽喉科", Some("11"), Clinical),
    ("口腔科", Some("12"), Clinical),
    ("急诊医学科", Some("20"), Clinical),
    ("重症医学科", Some("28"), Clinical),
    ("麻醉科", Some("26"), Clinical),
    ("康复医学科", Some("21"), Clinical),
    ("预防保健科", Some("01"), Clinical),
    ("影像诊断中心", Some("32"), Reading),
    ("心电诊断中心", Some("32.06"), Reading),
    ("检验中心", Some("30"), Reading),
    ("病理诊断中心", Some("31"), Reading),
    ("药剂科", None, Pharmacy),
    ("院长办公室", None, Admin),
    ("医务科", None, Admin),
    ("护理部", None, Admin),
    ("医共体管理办公室", None, Admin),
];

const TCM_HOSPITAL: &[DeptSpec] = &[
    ("中医内科", Some("50.01"), Clinical),
    ("中医外科", Some("50.02"), Clinical),
    ("中医妇科", Some("50.03"), Clinical),
    ("中医儿科", Some("50.04"), Clinical),
    ("中医骨伤科", Some("50.10"), Clinical),
    ("针灸科", Some("50.13"), Clinical),
    ("推拿科", Some("50.14"), Clinical),
    ("中西医结合科", Some("52"), Clinical),
    ("急诊医学科", Some("20"), Clinical),
    ("康复医学科", Some("21"), Clinical),
    ("医学检验科", Some("30"), Tech),
    ("医学影像科", Some("32"), Tech),
    ("中药房", None, Pharmacy),
    ("院长办公室", None, Admin),
    ("医务科", None, Admin),
    ("护理部", None, Admin),
];

const MCH_HOSPITAL: &[DeptSpec] = &[
    ("妇科", Some("05.01"), Clinical),
    ("产科", Some("05.02"), Clinical),
    ("计划生育科", Some("05.03"), Clinical),
    ("妇女保健科", Some("06"), Clinical),
    ("儿科", Some("07"), Clinical),
    ("新生儿科", Some("07.01"), Clinical),
    ("儿童保健科", Some("09"), Clinical),
    ("麻醉科", Some("26"), Clinical),
    ("医学检验科", Some("30"), Tech),
    ("医学影像科", Some("32"), Tech),
    ("药剂科", None, Pharmacy),
    ("院长办公室", None, Admin),
    ("医务科", None, Admin),
    ("护理部", None, Admin),
];

const TOWNSHIP_CENTRE: &[DeptSpec] = &[
    ("全科医疗科", Some("02"), Clinical),
    ("中医科", Some("50"), Clinical),
    ("预防保健科", Some("01"), Clinical),
    ("医学检验科", Some("30"), Tech),
    ("医学影像科", Some("32"), Tech),
    ("药房", None, Pharmacy),
    ("办公室", None, Admin),
];

/// A central township centre adds surgery (and its beds) to a general centre's departments.
const CENTRAL_TOWNSHIP_CENTRE: &[DeptSpec] = &[
    ("全科医疗科", Some("02"), Clinical),
    ("外科", Some("04"), Clinical),
    ("中医科", Some("50"), Clinical),
    ("预防保健科", Some("01"), Clinical),
    ("医学检验科", Some("30"), Tech),
    ("医学影像科", Some("32"), Tech),
    ("药房", None, Pharmacy),
    ("办公室", None, Admin),
];

const COMMUNITY_CENTRE: &[DeptSpec] = &[
    ("全科医疗科", Some("02"), Clinical),
    ("预防保健科", Some("01"), Clinical),
    ("中医科", Some("50"), Clinical),
    ("药房", None, Pharmacy),
    ("办公室", None, Admin),
];

/// Private clinics: name, WS 218 category for the licence (D110 门诊部, D211 诊所, D212 中医诊所,
/// D215 口腔诊所), credit-code prefix (52 private non-enterprise, 91 enterprise), and the stem of
/// the township whose seat they are in.
const PRIVATE_CLINICS: &[(&str, &str, &str, &str)] = &[
    ("青岚仁和诊所", "D211", "52", "青城"),
    ("青岚县康宁口腔诊所", "D215", "91", "青城"),
    ("东关镇杏林中医诊所", "D212", "52", "东关"),
    ("白沙镇德济诊所", "D211", "91", "白沙"),
    ("青岚县安康门诊部", "D110", "91", "岚山"),
    ("岚山惠民诊所", "D211", "52", "岚山"),
];

/// What the generator built.
pub(crate) struct Built {
    pub consortium: Consortium,
    pub institutions: Vec<Institution>,
    pub departments: Vec<Department>,
}

struct Builder<'a> {
    cfg: &'a SynthConfig,
    rng: &'a mut SynthRng,
    ids: &'a mut IdGen,
    consortium_id: ConsortiumId,
    institutions: Vec<Institution>,
    departments: Vec<Department>,
}

/// One institution as the builder takes it; ids, credit code and licence number are derived.
struct Spec<'a> {
    code: String,
    name: String,
    kind: InstitutionKind,
    is_central: bool,
    division: &'a str,
    parent: Option<InstitutionId>,
    /// GB 32100 prefix (registration authority + category), when the institution is a legal
    /// person of its own: 11 government organ, 12 public institution (事业单位), 52 private
    /// non-enterprise, 91 enterprise.
    credit_prefix: Option<&'a str>,
    /// WS 218 institution category for the licence number, when licensed on its own.
    licence_category: Option<&'a str>,
    ownership: Ownership,
    services: Vec<Service>,
    beds: i64,
    address: String,
    departments: &'a [DeptSpec],
}

/// A public institution with its own credit code, no parent, no beds, services or departments:
/// callers override the rest with struct update syntax.
fn spec<'a>(
    code: impl Into<String>,
    name: impl Into<String>,
    kind: InstitutionKind,
    division: &'a str,
) -> Spec<'a> {
    Spec {
        code: code.into(),
        name: name.into(),
        kind,
        is_central: false,
        division,
        parent: None,
        credit_prefix: Some("12"),
        licence_category: None,
        ownership: Ownership::Public,
        services: Vec::new(),
        beds: 0,
        address: String::new(),
        departments: &[],
    }
}

impl Builder<'_> {
    fn add(&mut self, spec: Spec<'_>) -> InstitutionId {
        let id = InstitutionId::from_uuid(self.ids.next(self.rng));
        let org = organisation_code(self.rng);
        let credit_code = spec.credit_prefix.map(|p| credit_code(p, &org));
        let licence_no = spec.licence_category.map(|c| {
            // 医疗机构执业许可证登记号: organisation code, area, economic type (11 state, 12
            // collective, 21 private), WS 218 category, 1 non-profit or 2 for-profit.
            let (economy, profit) = match (spec.ownership, spec.credit_prefix) {
                (Ownership::Private, Some("91")) => ("21", '2'),
                (Ownership::Private, _) => ("21", '1'),
                (Ownership::Public, _) if c == "D600" => ("12", '1'),
                (Ownership::Public, _) => ("11", '1'),
            };
            format!("{org}{COUNTY}{economy}{c}{profit}")
        });
        let mut services = spec.services;
        services.sort();
        self.institutions.push(Institution {
            id,
            consortium_id: self.consortium_id,
            code: spec.code,
            name: spec.name,
            kind: spec.kind,
            is_central: spec.is_central,
            division_code: DivisionCode::parse(spec.division).expect("generated codes are valid"),
            parent_id: spec.parent,
            credit_code,
            licence_no,
            ownership: spec.ownership,
            services,
            beds: spec.beds,
            address: Some(spec.address),
            created_at: self.cfg.created_at,
            updated_at: self.cfg.created_at,
        });
        for &(name, subject, kind) in spec.departments {
            self.departments.push(Department {
                id: DepartmentId::from_uuid(self.ids.next(self.rng)),
                consortium_id: self.consortium_id,
                institution_id: id,
                subject_code: subject.map(str::to_owned),
                name: name.to_owned(),
                kind,
                created_at: self.cfg.created_at,
            });
        }
        id
    }
}

/// A GB 11714 organisation code (组织机构代码): eight digits and a MOD 11 check character,
/// the body of a credit code.
fn organisation_code(rng: &mut SynthRng) -> String {
    const WEIGHTS: [u32; 8] = [3, 7, 9, 10, 5, 8, 4, 2];
    let mut code = String::with_capacity(9);
    // Public institutions' old codes mostly start with 4; the rest does not matter here.
    let digits: Vec<u32> = std::iter::once(4).chain((0..7).map(|_| rng.random_range(0..10))).collect();
    let sum: u32 = digits.iter().zip(WEIGHTS).map(|(d, w)| d * w).sum();
    for d in &digits {
        code.push(char::from_digit(*d, 10).expect("digit"));
    }
    code.push(match 11 - sum % 11 {
        10 => 'X',
        11 => '0',
        c => char::from_digit(c, 10).expect("digit"),
    });
    code
}

/// A GB 32100 credit code: prefix (2), register authority = the county (6), organisation
/// code (9), check character.
fn credit_code(prefix: &str, organisation_code: &str) -> String {
    let mut code = format!("{prefix}{COUNTY}{organisation_code}");
    code.push(credit_code_check_char(&code).expect("alphabet characters only"));
    code
}

/// Builds the consortium, institutions (parents before children) and departments.
pub(crate) fn build(cfg: &SynthConfig, geo: &Geography, rng: &mut SynthRng, ids: &mut IdGen) -> Built {
    use InstitutionKind::{Agency, Member};
    use Service::*;
    let consortium_id = ConsortiumId::from_uuid(ids.next(rng));
    let mut b = Builder { cfg, rng, ids, consortium_id, institutions: Vec::new(), departments: Vec::new() };
    // The county seat: the first sub-district's first residents' committee.
    let seat = geo.villages.iter().find(|v| v.committee).expect("a seat").code.clone();
    let county12 = format!("{COUNTY}000000");

    let lead = b.add(Spec {
        licence_category: Some("A100"),
        services: vec![
            ImagingCentre,
            EcgCentre,
            LabCentre,
            PathologyCentre,
            ChestPainCentre,
            StrokeCentre,
            ReferralCentre,
            Teleconsultation,
            FeverClinic,
            SentinelSite,
        ],
        beds: 650,
        address: "人民路88号".into(),
        departments: PEOPLES_HOSPITAL,
        ..spec("H01", "青岚县人民医院", Member(Tier::CountyGeneral), &seat)
    });
    b.add(Spec {
        licence_category: Some("A210"),
        services: vec![Teleconsultation],
        beds: 320,
        address: "岚山路16号".into(),
        departments: TCM_HOSPITAL,
        ..spec("H02", "青岚县中医院", Member(Tier::CountyTcm), &seat)
    });
    b.add(Spec {
        licence_category: Some("G100"),
        services: vec![MaternalCentre, NeonatalCentre],
        beds: 120,
        address: "建设路27号".into(),
        departments: MCH_HOSPITAL,
        ..spec("H03", "青岚县妇幼保健院", Member(Tier::CountyMch), &seat)
    });
    // Agencies are tied to the county as a whole. The bureaus are government organs (11), the
    // CDC a public institution (12).
    let agencies = [
        ("WJJ", "青岚县卫生健康局", AgencyKind::HealthBureau, "11", "政府路1号"),
        ("CDC", "青岚县疾病预防控制中心", AgencyKind::Cdc, "12", "文昌路9号"),
        ("YBJ", "青岚县医疗保障局", AgencyKind::InsuranceBureau, "11", "政府路3号"),
    ];
    for (code, name, kind, prefix, address) in agencies {
        b.add(Spec {
            credit_prefix: Some(prefix),
            address: address.into(),
            ..spec(code, name, Agency(kind), &county12)
        });
    }

    // Township and community centres, one per township-level division, in code order.
    let mut centres = Vec::new();
    let mut centre_names = Vec::new();
    for t in &geo.townships {
        let part = &t.code[6..9];
        let number = b.rng.random_range(1..120);
        let spec = if t.kind == TownshipKind::SubDistrict {
            Spec {
                licence_category: Some("B100"),
                beds: 20,
                address: format!("{}路{number}号", t.stem),
                departments: COMMUNITY_CENTRE,
                ..spec(
                    format!("C{part}"),
                    format!("{}社区卫生服务中心", t.name),
                    Member(Tier::CommunityCentre),
                    &t.code,
                )
            }
        } else {
            let name =
                if t.central { format!("{}中心卫生院", t.name) } else { format!("{}卫生院", t.name) };
            Spec {
                is_central: t.central,
                licence_category: Some(if t.central { "C210" } else { "C220" }),
                // Central centres run a fever clinic for their neighbouring townships too.
                services: if t.central { vec![FeverClinic] } else { vec![] },
                beds: if t.central { b.rng.random_range(80..100) } else { b.rng.random_range(20..60) },
                address: format!("{}街{number}号", t.stem),
                departments: if t.central { CENTRAL_TOWNSHIP_CENTRE } else { TOWNSHIP_CENTRE },
                ..spec(format!("T{part}"), name, Member(Tier::TownshipCentre), &t.code)
            }
        };
        centre_names.push(spec.name.clone());
        centres.push(b.add(spec));
    }

    // Stations: the first two committees of each sub-district, under its community centre.
    let mut station_no = 0;
    for (t, township) in geo.townships.iter().enumerate() {
        if township.kind != TownshipKind::SubDistrict {
            continue;
        }
        for v in geo.villages.iter().filter(|v| v.township == t).take(2) {
            station_no += 1;
            let number = b.rng.random_range(1..60);
            b.add(Spec {
                parent: Some(centres[t]),
                credit_prefix: None,
                licence_category: Some("B200"),
                address: format!("{}路{number}号", v.short.trim_end_matches("社区")),
                ..spec(
                    format!("CS{station_no:02}"),
                    format!("{}卫生服务站", v.short),
                    Member(Tier::CommunityStation),
                    &v.code,
                )
            });
        }
    }

    // One site per village. About 60% are service points of the township centre (run and
    // licensed by it); the others are integrated village clinics with their own licence.
    for v in geo.villages.iter().filter(|v| !v.committee) {
        let service_point = b.rng.random_range(0..100) < 60;
        let (tier, name, licence) = if service_point {
            (Tier::VillageServicePoint, format!("{}{}村服务点", centre_names[v.township], v.short), None)
        } else {
            (
                Tier::VillageClinic,
                format!("{}{}村卫生室", geo.townships[v.township].name, v.short),
                Some("D600"),
            )
        };
        let address = format!("{}组{}号", b.rng.random_range(1..6), b.rng.random_range(1..40));
        b.add(Spec {
            parent: Some(centres[v.township]),
            credit_prefix: None,
            licence_category: licence,
            address,
            ..spec(format!("V{}", &v.code[6..]), name, Member(tier), &v.code)
        });
    }

    // Private clinics sit in the seats: the residents' committees of their township, one
    // clinic per committee.
    for (k, &(name, category, prefix, stem)) in PRIVATE_CLINICS.iter().enumerate() {
        let t = geo.townships.iter().position(|t| t.stem == stem).expect("known township");
        let earlier = PRIVATE_CLINICS[..k].iter().filter(|c| c.3 == stem).count();
        let committee = geo.villages.iter().filter(|v| v.township == t && v.committee).nth(earlier);
        let division = committee.map_or(geo.townships[t].code.as_str(), |v| v.code.as_str());
        b.add(Spec {
            credit_prefix: Some(prefix),
            licence_category: Some(category),
            ownership: Ownership::Private,
            address: format!("{stem}路{}号", 10 + 7 * k),
            ..spec(format!("P{:02}", k + 1), name, Member(Tier::PrivateClinic), division)
        });
    }

    let consortium = Consortium {
        id: consortium_id,
        name: "青岚县医疗卫生共同体".into(),
        county_code: CountyCode::parse(COUNTY).expect("valid county"),
        founded_on: NaiveDate::from_ymd_opt(2020, 9, 1).expect("valid"),
        lead_institution_id: Some(lead),
        created_at: cfg.created_at,
    };
    Built { consortium, institutions: b.institutions, departments: b.departments }
}
