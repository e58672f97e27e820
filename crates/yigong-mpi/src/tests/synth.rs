//! A small deterministic population for the end-to-end test: households in villages of the
//! fictitious county 990121, common and rare surnames (polyphonic ones too), valid resident
//! IDs, phones; about 2% duplicate registrations with the errors of DESIGN §10.1; hard
//! negatives (twins, same-name same-birthday strangers). Independent of `yigong-synth` on
//! purpose: the engine's test must not move when the demo county changes.

use chrono::{Datelike, NaiveDate};
use yigong_domain::identity::check_char;

use crate::record::{RawRecord, SourceRef};

/// SplitMix64: small, deterministic, good enough for test data.
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
    pub fn chance(&mut self, p: f64) -> bool {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64 <= p
    }
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// Surnames with weights in ‰, roughly as in the 2020 census, then rare and polyphonic ones.
const SURNAMES: &[(&str, u32)] = &[
    ("王", 75),
    ("李", 74),
    ("张", 70),
    ("刘", 55),
    ("陈", 50),
    ("杨", 32),
    ("黄", 25),
    ("赵", 23),
    ("吴", 21),
    ("周", 21),
    ("徐", 17),
    ("孙", 16),
    ("马", 15),
    ("朱", 14),
    ("胡", 14),
    ("郭", 13),
    ("何", 12),
    ("高", 12),
    ("林", 12),
    ("罗", 11),
    ("郑", 10),
    ("梁", 10),
    ("谢", 9),
    ("宋", 8),
    ("唐", 8),
    ("许", 8),
    ("韩", 7),
    ("冯", 7),
    ("邓", 7),
    ("曹", 7),
    ("彭", 6),
    ("田", 6),
    ("欧阳", 3),
    ("司马", 2),
    ("诸葛", 2),
    ("上官", 2),
    ("甄", 2),
    ("蔺", 2),
    ("单", 8),
    ("曾", 8),
    ("查", 8),
    ("仇", 8),
    ("区", 8),
    ("解", 8),
    ("翟", 8),
];

/// A polyphonic surname and the character a clerk writes on hearing its surname reading.
pub const POLYPHONIC: &[(&str, &str)] =
    &[("单", "善"), ("曾", "增"), ("查", "扎"), ("仇", "邱"), ("区", "欧"), ("解", "谢"), ("翟", "宅")];

const GIVEN_MALE: &[&str] = &[
    "伟", "强", "磊", "军", "洋", "勇", "杰", "涛", "明", "超", "刚", "平", "建国", "建华", "国强", "志明",
    "文博", "子轩", "浩然", "宇航", "俊杰", "海涛", "春生", "永刚", "德明", "立新",
];
const GIVEN_FEMALE: &[&str] = &[
    "芳", "娜", "敏", "静", "丽", "艳", "娟", "霞", "秀英", "桂英", "玉兰", "丽娟", "红梅", "文静", "子涵",
    "欣怡", "雨萱", "晓燕", "春梅", "海燕", "玉梅", "秀兰", "美玲", "丹丹",
];

/// Characters and a homophone a clerk might type instead.
pub const HOMOPHONES: &[(char, char)] = &[
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
    ('建', '健'),
    ('华', '桦'),
    ('志', '智'),
    ('文', '雯'),
    ('博', '搏'),
    ('轩', '萱'),
    ('浩', '皓'),
    ('宇', '禹'),
    ('航', '杭'),
    ('俊', '骏'),
    ('海', '还'),
    ('春', '椿'),
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
    ('秀', '绣'),
    ('英', '瑛'),
    ('桂', '贵'),
    ('玉', '钰'),
    ('兰', '岚'),
    ('红', '虹'),
    ('梅', '玫'),
    ('子', '紫'),
    ('涵', '含'),
    ('怡', '宜'),
    ('雨', '语'),
    ('晓', '小'),
    ('燕', '雁'),
    ('美', '梅'),
    ('玲', '铃'),
    ('丹', '单'),
    ('国', '帼'),
    ('立', '丽'),
    ('永', '勇'),
    ('萱', '宣'),
    ('欣', '新'),
];

/// One synthetic resident.
#[derive(Clone)]
pub struct Person {
    pub name: String,
    pub surname: String,
    pub male: bool,
    pub birth: NaiveDate,
    pub id: Option<String>,
    pub phone: Option<String>,
    pub village: String,
    pub household: String,
    pub card: Option<String>,
    pub insurance: Option<String>,
}

impl Person {
    /// The person's record in `system`.
    pub fn record(&self, system: &str, local_id: usize) -> RawRecord {
        RawRecord {
            source: SourceRef { system: system.into(), local_id: local_id.to_string() },
            name: Some(self.name.clone()),
            sex: Some(if self.male { "男" } else { "女" }.into()),
            birth_date: Some(self.birth.format("%Y-%m-%d").to_string()),
            resident_id: self.id.clone(),
            phone: self.phone.clone(),
            village_code: Some(self.village.clone()),
            household_id: Some(self.household.clone()),
            e_health_card: self.card.clone(),
            insurance_number: self.insurance.clone(),
            ..RawRecord::default()
        }
    }
}

/// Builds unique IDs, phones and names for the population.
pub struct Factory {
    pub rng: Rng,
    ids: std::collections::HashSet<String>,
    serial: usize,
}

impl Factory {
    pub fn new(seed: u64) -> Self {
        Self { rng: Rng::new(seed), ids: Default::default(), serial: 0 }
    }

    pub fn surname(&mut self) -> String {
        let total: u32 = SURNAMES.iter().map(|(_, w)| w).sum();
        let mut roll = self.rng.below(total as usize) as u32;
        for (s, w) in SURNAMES {
            if roll < *w {
                return (*s).to_owned();
            }
            roll -= w;
        }
        unreachable!()
    }

    pub fn given(&mut self, male: bool) -> String {
        (*self.rng.pick(if male { GIVEN_MALE } else { GIVEN_FEMALE })).to_owned()
    }

    pub fn birth(&mut self, from_year: i32, to_year: i32) -> NaiveDate {
        let year = from_year + self.rng.below((to_year - from_year + 1) as usize) as i32;
        NaiveDate::from_yo_opt(year, 1 + self.rng.below(365) as u32).unwrap()
    }

    /// A unique valid 18-character ID: county 990121, the birth date, a sequence whose parity
    /// gives the sex, the check character. `near` asks for the next free sequence after it
    /// (twins registered one after the other).
    pub fn id(&mut self, birth: NaiveDate, male: bool, near: Option<&str>) -> String {
        let mut seq = match near {
            Some(id) => id[14..17].parse::<usize>().unwrap() + 2,
            None => self.rng.below(500) * 2 + usize::from(male),
        };
        loop {
            let body = format!("990121{}{:03}", birth.format("%Y%m%d"), seq % 1000);
            let id = format!("{body}{}", check_char(&body));
            if self.ids.insert(id.clone()) {
                return id;
            }
            seq += 2;
        }
    }

    pub fn phone(&mut self) -> String {
        format!("1{}{:09}", 3 + self.rng.below(7), self.rng.next() % 1_000_000_000)
    }

    pub fn next_serial(&mut self) -> usize {
        self.serial += 1;
        self.serial
    }

    /// A resident of `household` in `village`.
    pub fn person(
        &mut self,
        surname: &str,
        male: bool,
        birth: NaiveDate,
        village: &str,
        household: &str,
    ) -> Person {
        let adult = birth.year() <= 2008;
        let serial = self.next_serial();
        Person {
            name: format!("{surname}{}", self.given(male)),
            surname: surname.to_owned(),
            male,
            birth,
            id: Some(self.id(birth, male, None)),
            phone: (adult && self.rng.chance(0.85)).then(|| self.phone()),
            village: village.to_owned(),
            household: household.to_owned(),
            card: self.rng.chance(0.4).then(|| format!("EHC{serial:07}")),
            insurance: self.rng.chance(0.8).then(|| format!("INS{:09}", serial * 37)),
        }
    }
}
