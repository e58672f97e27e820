//! Deterministic synthetic residents of county 990121 for the MPI tests: Chinese names with
//! homophones a clerk might type, valid GB 11643 numbers (built with `check_char`), phones,
//! village codes and households. Same seed, same residents.

use chrono::{Datelike, NaiveDate};
use yigong_app::mpi::ImportRow;
use yigong_domain::identity::check_char;
use yigong_domain::patient::RegistrationDraft;
use yigong_store::mpi::Values;

/// SplitMix64: small and deterministic.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

const SURNAMES: &[&str] = &[
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭", "何",
    "高", "林", "罗", "郑", "梁", "谢", "宋", "唐", "许", "韩", "冯", "邓", "曹", "彭", "田", "欧阳", "司马",
];
const GIVEN_MALE: &[&str] = &[
    "伟", "强", "磊", "军", "洋", "勇", "杰", "涛", "明", "超", "刚", "平", "建国", "建华", "国强", "志明",
    "文博", "子轩", "浩然", "宇航", "俊杰", "海涛", "春生", "永刚", "德明", "立新",
];
const GIVEN_FEMALE: &[&str] = &[
    "芳", "娜", "敏", "静", "丽", "艳", "娟", "霞", "秀英", "桂英", "玉兰", "丽娟", "红梅", "文静", "子涵",
    "欣怡", "雨萱", "晓燕", "春梅", "海燕", "玉梅", "秀兰", "美玲", "丹丹",
];
/// A character and a homophone (same toneless pinyin) a clerk might type instead.
const HOMOPHONES: &[(char, char)] = &[
    ('伟', '玮'),
    ('强', '蔷'),
    ('磊', '垒'),
    ('军', '君'),
    ('洋', '阳'),
    ('勇', '永'),
    ('杰', '洁'),
    ('涛', '韬'),
    ('明', '鸣'),
    ('超', '潮'),
    ('刚', '钢'),
    ('平', '萍'),
    ('国', '帼'),
    ('华', '桦'),
    ('志', '智'),
    ('博', '搏'),
    ('轩', '萱'),
    ('然', '燃'),
    ('航', '杭'),
    ('俊', '骏'),
    ('生', '升'),
    ('德', '得'),
    ('新', '欣'),
    ('芳', '方'),
    ('娜', '那'),
    ('敏', '民'),
    ('静', '敬'),
    ('丽', '莉'),
    ('艳', '燕'),
    ('娟', '鹃'),
    ('霞', '侠'),
    ('英', '瑛'),
    ('兰', '岚'),
    ('梅', '玫'),
    ('涵', '含'),
    ('怡', '宜'),
    ('萱', '宣'),
    ('燕', '雁'),
    ('玲', '铃'),
    ('丹', '单'),
];

/// The name with its last character replaced by a homophone (same pinyin, other character).
pub fn homophone(name: &str) -> String {
    let mut chars: Vec<char> = name.chars().collect();
    let last = chars.last_mut().expect("a name has characters");
    let (_, other) =
        HOMOPHONES.iter().find(|(c, _)| c == last).expect("every given name ends in a listed character");
    *last = *other;
    chars.into_iter().collect()
}

/// A valid 18-character number: county 990121, birth date, three-digit sequence (odd for men,
/// even for women; `serial` picks among them), check character.
pub fn resident_id(birth: NaiveDate, male: bool, serial: u32) -> String {
    let sequence = (serial % 500) * 2 + u32::from(male);
    let body = format!("990121{}{sequence:03}", birth.format("%Y%m%d"));
    format!("{body}{}", check_char(&body))
}

/// The number with its check character changed: well-formed, but fails MOD 11-2.
pub fn with_wrong_check(id: &str) -> String {
    let right = id.chars().last().unwrap();
    let wrong = if right == '1' { '2' } else { '1' };
    format!("{}{wrong}", &id[..17])
}

/// One synthetic resident.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resident {
    pub name: String,
    pub male: bool,
    pub birth: NaiveDate,
    pub id: String,
    pub phone: Option<String>,
    pub village: String,
    pub household: String,
}

impl Resident {
    /// A resident with hand-picked demographics; `serial` ≥ 450 keeps the number apart from
    /// the generated population's (which use 0..450).
    pub fn new(name: &str, male: bool, birth: (i32, u32, u32), serial: u32, phone: &str) -> Self {
        let birth = NaiveDate::from_ymd_opt(birth.0, birth.1, birth.2).unwrap();
        Self {
            name: name.into(),
            male,
            birth,
            id: resident_id(birth, male, serial),
            phone: Some(phone.into()),
            village: "990121101201".into(),
            household: format!("HH{serial:05}"),
        }
    }

    /// Sex as a registration form sends it.
    pub fn sex(&self) -> &'static str {
        if self.male { "male" } else { "female" }
    }

    /// A registration of this resident, with the resident ID.
    pub fn draft(&self, local_id: Option<&str>) -> RegistrationDraft {
        RegistrationDraft {
            local_id: local_id.map(str::to_owned),
            name: self.name.clone(),
            sex: self.sex().into(),
            birth_date: self.birth.format("%Y-%m-%d").to_string(),
            resident_id: Some(self.id.clone()),
            no_id_reason: None,
            phone: self.phone.clone(),
            village_code: Some(self.village.clone()),
            household_id: Some(self.household.clone()),
            e_health_card: None,
            insurance_number: None,
            verified: false,
        }
    }

    /// The values as a source's patient list carries them (sex written 男/女).
    pub fn values(&self) -> Values {
        Values {
            name: Some(self.name.clone()),
            sex: Some(if self.male { "男" } else { "女" }.into()),
            birth_date: Some(self.birth.format("%Y-%m-%d").to_string()),
            resident_id: Some(self.id.clone()),
            phone: self.phone.clone(),
            village_code: Some(self.village.clone()),
            household_id: Some(self.household.clone()),
            ..Values::default()
        }
    }

    /// One row of an import.
    pub fn import_row(&self, line: usize, local_id: String) -> ImportRow {
        ImportRow { line: line as u64 + 1, local_id, values: self.values() }
    }
}

/// `n` distinct residents: unique resident IDs and households, birth years 1940–2015, ten
/// villages of two townships.
pub fn population(seed: u64, n: usize) -> Vec<Resident> {
    let mut rng = Rng::new(seed);
    let mut ids = std::collections::HashSet::new();
    let mut out = Vec::with_capacity(n);
    while out.len() < n {
        let male = rng.below(2) == 0;
        let surname = *rng.pick(SURNAMES);
        let given = *rng.pick(if male { GIVEN_MALE } else { GIVEN_FEMALE });
        let year = 1940 + rng.below(76) as i32;
        let birth = NaiveDate::from_yo_opt(year, 1 + rng.below(365) as u32).unwrap();
        let id = resident_id(birth, male, rng.below(450) as u32);
        if !ids.insert(id.clone()) {
            continue;
        }
        let i = out.len();
        let village = format!("99012110{}2{:02}", 1 + rng.below(2), 1 + rng.below(5));
        let adult = birth.year() <= 2008;
        out.push(Resident {
            name: format!("{surname}{given}"),
            male,
            birth,
            id,
            phone: (adult && rng.below(10) < 8)
                .then(|| format!("13{}{:08}", rng.below(10), rng.next() % 100_000_000)),
            village,
            household: format!("HH{i:05}"),
        });
    }
    out
}

/// A row of the insurance list, which knows no household numbers.
fn insurance_row(r: &Resident, line: usize, local_id: String) -> ImportRow {
    let mut row = r.import_row(line, local_id);
    row.values.household_id = None;
    row
}

/// The county's public-health list (`GW`: `n` residents, local ids `GW<i>`) and an insurance
/// list (`YB`, without household numbers): residents `0..n/4` again (local ids `YB<i>`) with
/// what a second clerk changes —
/// every third name typed with a homophone, every other phone missing, every fifth in a newer
/// village — and `extra` residents `GW` does not have (local ids `YBX<j>`).
pub fn two_sources(seed: u64, n: usize, extra: usize) -> (Vec<Resident>, Vec<ImportRow>) {
    let everyone = population(seed, n + extra);
    let (gw, others) = everyone.split_at(n);
    let mut yb = Vec::new();
    for (i, r) in gw.iter().take(n / 4).enumerate() {
        let mut copy = r.clone();
        if i % 3 == 0 {
            copy.name = homophone(&copy.name);
        }
        if i % 2 == 0 {
            copy.phone = None;
        }
        if i % 5 == 0 {
            copy.village = "990121102205".into();
        }
        yb.push(insurance_row(&copy, yb.len(), format!("YB{i}")));
    }
    for (j, r) in others.iter().enumerate() {
        yb.push(insurance_row(r, yb.len(), format!("YBX{j}")));
    }
    (gw.to_vec(), yb)
}
