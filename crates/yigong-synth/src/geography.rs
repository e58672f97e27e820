//! The fictitious geography of Qinglan county (青岚县, 990121): province, prefecture, 18
//! townships and 2 sub-districts, about 310 villages and 20 residents' committees, their
//! names, NBS codes and populations (DESIGN.md §10.1).

use chrono::NaiveDate;
use rand::Rng;
use yigong_domain::population::Division;

use crate::SynthConfig;
use crate::names::SURNAMES;
use crate::rng::{self, SynthRng, apportion, stream};

/// The county's GB/T 2260 code.
pub(crate) const COUNTY: &str = "990121";
/// Villages (村委会) in the county.
const VILLAGES: u32 = 310;
/// Residents' committees in the seats of the first towns (one each); the sub-districts have six each.
const TOWN_SEATS_WITH_COMMITTEE: usize = 8;
const COMMITTEES_PER_SUB_DISTRICT: usize = 6;

/// Kind of a township-level division, which fixes its NBS code range and name suffix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TownshipKind {
    /// 街道, codes 001–099.
    SubDistrict,
    /// 镇, codes 100–199.
    Town,
    /// 乡, codes 200–399.
    Township,
}

/// Township-level divisions: 3-digit code, name stem, kind, whether its health centre is a
/// central one (中心卫生院). Fictitious, though such names exist elsewhere in China.
const TOWNSHIPS: &[(&str, &str, TownshipKind, bool)] = &[
    ("001", "青城", TownshipKind::SubDistrict, false),
    ("002", "岚山", TownshipKind::SubDistrict, false),
    ("101", "东关", TownshipKind::Town, true),
    ("102", "白沙", TownshipKind::Town, true),
    ("103", "龙泉", TownshipKind::Town, true),
    ("104", "石桥", TownshipKind::Town, false),
    ("105", "柳河", TownshipKind::Town, false),
    ("106", "青坪", TownshipKind::Town, false),
    ("107", "杨湾", TownshipKind::Town, false),
    ("108", "高岭", TownshipKind::Town, false),
    ("109", "新店", TownshipKind::Town, false),
    ("110", "马坪", TownshipKind::Town, false),
    ("111", "双河", TownshipKind::Town, false),
    ("112", "望岚", TownshipKind::Town, false),
    ("201", "松林", TownshipKind::Township, false),
    ("202", "桃源", TownshipKind::Township, false),
    ("203", "云岭", TownshipKind::Township, false),
    ("204", "金塘", TownshipKind::Township, false),
    ("205", "凤山", TownshipKind::Township, false),
    ("206", "黄岗", TownshipKind::Township, false),
];

/// First and second characters of village names: 上河, 柳湾, 石岭…
const VILLAGE_FIRST: &str = "上下东西南北前后大小新老高中青岚柳杨松桃杏梅竹石金银白黄红龙凤马牛羊鹿双三五七九长安平和兴太永清泉溪林花云桥河山";
const VILLAGE_SECOND: &str = "河山桥坪湾塘岭沟坡庄口溪源峪岗洼寨铺店集坝田冲垭场营堡台屯咀头园湖坊";
/// Names of urban residents' committees (社区).
const URBAN_NAMES: &[&str] = &[
    "人民", "建设", "文昌", "新华", "解放", "幸福", "和平", "东风", "朝阳", "胜利", "光明", "团结", "向阳",
    "花园", "滨河", "翠湖",
];

/// A township-level division.
#[derive(Debug, Clone)]
pub(crate) struct Township {
    /// Twelve-digit code.
    pub code: String,
    /// Name stem, e.g. 东关.
    pub stem: &'static str,
    /// Full name, e.g. 东关镇.
    pub name: String,
    pub kind: TownshipKind,
    pub central: bool,
}

/// A village (村委会) or residents' committee (居委会).
#[derive(Debug, Clone)]
pub(crate) struct Village {
    /// Twelve-digit code.
    pub code: String,
    /// Short name, e.g. 上河 or 人民社区.
    pub short: String,
    /// Index into [`Geography::townships`].
    pub township: usize,
    /// A residents' committee rather than a village.
    pub committee: bool,
    /// NBS urban-rural class: 111 main urban area, 121 town centre, 220 village.
    pub class: &'static str,
    pub population: u32,
}

impl Village {
    /// Division name: 上河村委会, 人民社区居委会.
    pub fn division_name(&self) -> String {
        if self.committee { format!("{}居委会", self.short) } else { format!("{}村委会", self.short) }
    }
}

/// The county below the county level.
#[derive(Debug, Clone)]
pub(crate) struct Geography {
    pub townships: Vec<Township>,
    /// Villages and committees in code order within each township, townships in code order.
    pub villages: Vec<Village>,
}

/// Draws the geography for `cfg`; only the populations depend on `cfg.residents`.
pub(crate) fn geography(cfg: &SynthConfig) -> Geography {
    let mut rng = rng::rng(cfg.seed, stream::GEOGRAPHY);
    let townships: Vec<Township> = TOWNSHIPS
        .iter()
        .map(|&(part, stem, kind, central)| {
            let suffix = match kind {
                TownshipKind::SubDistrict => "街道",
                TownshipKind::Town => "镇",
                TownshipKind::Township => "乡",
            };
            Township {
                code: format!("{COUNTY}{part}000"),
                stem,
                name: format!("{stem}{suffix}"),
                kind,
                central,
            }
        })
        .collect();

    let rural: Vec<usize> =
        (0..townships.len()).filter(|&i| townships[i].kind != TownshipKind::SubDistrict).collect();
    let village_weights: Vec<u32> = rural.iter().map(|_| rng.random_range(10..=26)).collect();
    let village_counts = apportion(VILLAGES, &village_weights);

    let mut urban_names = URBAN_NAMES.iter();
    let mut villages = Vec::new();
    let mut population_weights = Vec::new();
    let mut town_seats = 0;
    for (t, township) in townships.iter().enumerate() {
        let mut committees: Vec<String> = Vec::new();
        match township.kind {
            TownshipKind::SubDistrict => {
                for _ in 0..COMMITTEES_PER_SUB_DISTRICT {
                    committees.push(format!("{}社区", urban_names.next().expect("enough urban names")));
                }
            }
            TownshipKind::Town if town_seats < TOWN_SEATS_WITH_COMMITTEE => {
                town_seats += 1;
                committees.push(format!("{}街社区", township.stem));
            }
            _ => {}
        }
        for (k, short) in committees.into_iter().enumerate() {
            let seat = township.kind == TownshipKind::SubDistrict;
            population_weights.push(if seat {
                rng.random_range(3500..7000)
            } else {
                rng.random_range(2500..5000)
            });
            villages.push(Village {
                code: format!("{}{:03}", &township.code[..9], k + 1),
                short,
                township: t,
                committee: true,
                class: if seat { "111" } else { "121" },
                population: 0,
            });
        }
        let count = rural.iter().position(|&r| r == t).map_or(0, |k| village_counts[k]);
        let mut taken: Vec<String> = Vec::new();
        for k in 0..count {
            let short = village_name(&mut rng, &taken, township.stem);
            taken.push(short.clone());
            // Village sizes vary a lot: hamlets of a few hundred to large villages of ~3 000.
            population_weights.push(400 + rng.random_range(0..1600) + rng.random_range(0..900));
            villages.push(Village {
                code: format!("{}{:03}", &township.code[..9], 201 + k),
                short,
                township: t,
                committee: false,
                class: "220",
                population: 0,
            });
        }
    }
    for (v, p) in villages.iter_mut().zip(apportion(cfg.residents, &population_weights)) {
        v.population = p;
    }
    Geography { townships, villages }
}

/// A village name unique in its township and different from the township's own stem. About
/// one in six is a clan village named after its main surname (王家湾), as is common in China;
/// the residents' generator gives such a village more people of that surname.
fn village_name(rng: &mut SynthRng, taken: &[String], township_stem: &str) -> String {
    let first: Vec<char> = VILLAGE_FIRST.chars().collect();
    let second: Vec<char> = VILLAGE_SECOND.chars().collect();
    loop {
        let mut name = String::new();
        if rng.random_range(0..6) == 0 {
            // Single-character surnames from the top 40 only, so that the clan is a real one.
            name.push_str(SURNAMES[rng.random_range(0..40)].0);
            name.push('家');
        } else {
            name.push(first[rng.random_range(0..first.len())]);
        }
        name.push(second[rng.random_range(0..second.len())]);
        let repeated = name.chars().next() == name.chars().nth(1);
        if !repeated && name != township_stem && !taken.contains(&name) {
            return name;
        }
    }
}

/// The division reference rows: province, prefecture, the county and two neighbours (birth
/// places in some resident ID numbers), townships, villages and committees.
pub(crate) fn divisions(geo: &Geography) -> Vec<Division> {
    // GB/T 2260 codes are taken as valid since its first edition; NBS 12-digit codes since
    // their first publication. Both are fictitious here, so only plausibility matters.
    let gb2260 = NaiveDate::from_ymd_opt(1980, 1, 1).expect("valid");
    let nbs = NaiveDate::from_ymd_opt(2009, 1, 1).expect("valid");
    let upper = |code: &str, level, name: &str, parent: Option<&str>| Division {
        code: code.to_owned(),
        level,
        name: name.to_owned(),
        parent_code: parent.map(str::to_owned),
        valid_from: gb2260,
        urban_rural_class: None,
        population: None,
    };
    let mut out = vec![
        upper("990000", "province", "演示省", None),
        upper("990100", "prefecture", "岚州市", Some("990000")),
        upper("990102", "county", "东岚区", Some("990100")),
        upper(COUNTY, "county", "青岚县", Some("990100")),
        upper("990122", "county", "白水县", Some("990100")),
    ];
    for (t, township) in geo.townships.iter().enumerate() {
        out.push(Division {
            code: township.code.clone(),
            level: "township",
            name: township.name.clone(),
            parent_code: Some(COUNTY.to_owned()),
            valid_from: nbs,
            urban_rural_class: None,
            population: None,
        });
        for v in geo.villages.iter().filter(|v| v.township == t) {
            out.push(Division {
                code: v.code.clone(),
                level: "village",
                name: v.division_name(),
                parent_code: Some(township.code.clone()),
                valid_from: nbs,
                urban_rural_class: Some(v.class.to_owned()),
                population: Some(i64::from(v.population)),
            });
        }
    }
    out
}
