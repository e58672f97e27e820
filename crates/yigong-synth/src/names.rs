//! Chinese personal names: surnames by their real frequency and given names from sex- and
//! generation-typical characters, so that common names repeat as they do in a real county
//! (many 王伟 and 张丽, the hard negatives of patient matching).

use rand::Rng;
use yigong_domain::identity::Sex;

use crate::rng::Weighted;

/// Surnames with approximate frequency per 10 000 people, after the 2020 household-register
/// ranking (top 100 plus a short tail and four compound surnames). The figures are rounded; only
/// the order and rough shape matter here.
pub(crate) const SURNAMES: &[(&str, u32)] = &[
    ("王", 712),
    ("李", 700),
    ("张", 674),
    ("刘", 510),
    ("陈", 461),
    ("杨", 322),
    ("黄", 245),
    ("赵", 219),
    ("吴", 208),
    ("周", 200),
    ("徐", 145),
    ("孙", 138),
    ("马", 129),
    ("朱", 128),
    ("胡", 116),
    ("郭", 113),
    ("何", 106),
    ("林", 102),
    ("高", 100),
    ("罗", 95),
    ("郑", 83),
    ("梁", 81),
    ("谢", 72),
    ("宋", 66),
    ("唐", 65),
    ("许", 64),
    ("韩", 62),
    ("邓", 61),
    ("冯", 59),
    ("曹", 56),
    ("彭", 55),
    ("曾", 54),
    ("肖", 52),
    ("田", 51),
    ("董", 50),
    ("潘", 47),
    ("袁", 47),
    ("蔡", 45),
    ("蒋", 44),
    ("余", 43),
    ("于", 42),
    ("杜", 41),
    ("叶", 40),
    ("程", 39),
    ("魏", 38),
    ("苏", 37),
    ("吕", 36),
    ("丁", 35),
    ("任", 34),
    ("卢", 33),
    ("姚", 32),
    ("沈", 31),
    ("钟", 30),
    ("姜", 30),
    ("崔", 29),
    ("谭", 28),
    ("陆", 28),
    ("范", 27),
    ("汪", 27),
    ("廖", 26),
    ("石", 26),
    ("金", 25),
    ("韦", 25),
    ("贾", 24),
    ("夏", 24),
    ("付", 23),
    ("方", 23),
    ("邹", 22),
    ("熊", 22),
    ("白", 21),
    ("孟", 21),
    ("秦", 21),
    ("邱", 20),
    ("侯", 20),
    ("江", 20),
    ("尹", 19),
    ("薛", 19),
    ("闫", 18),
    ("段", 18),
    ("雷", 18),
    ("龙", 17),
    ("黎", 17),
    ("史", 17),
    ("陶", 16),
    ("贺", 16),
    ("毛", 16),
    ("郝", 15),
    ("顾", 15),
    ("龚", 15),
    ("邵", 14),
    ("万", 14),
    ("覃", 14),
    ("武", 14),
    ("钱", 13),
    ("戴", 13),
    ("严", 13),
    ("莫", 12),
    ("孔", 12),
    ("向", 12),
    ("常", 12),
    ("汤", 11),
    ("康", 11),
    ("易", 11),
    ("乔", 10),
    ("赖", 10),
    ("文", 10),
    ("施", 10),
    ("洪", 10),
    ("辛", 9),
    ("柴", 8),
    ("牛", 8),
    ("樊", 8),
    ("葛", 8),
    ("兰", 7),
    ("岳", 7),
    ("齐", 7),
    ("欧阳", 4),
    ("上官", 1),
    ("司马", 1),
    ("诸葛", 1),
];

/// Given-name characters by birth cohort and sex, the most common first: the draw favours the
/// front of each pool. Cohorts: born before 1960, 1960–1984, 1985–2004, 2005 on.
pub(crate) const POOLS: [[&str; 2]; 4] = [
    [
        "国华明德福建军文贵荣海林发生忠成祥山春金宝兴昌志永庆全有才树根义财广廷富云家玉友青长喜水",
        "秀英兰桂珍凤玉芳华淑翠梅琴菊莲花云霞荣素彩娥巧爱香月冬春美英贞芬群银金焕荷",
    ],
    [
        "伟强军勇刚平斌磊涛明辉峰海建东志宏杰健俊波超华亮红林新斌锋利民国永春文学",
        "丽红敏燕霞艳娟静芳玲莉萍娜丹英华秀慧琳雪梅晶春芬琴红霞丽萍燕凤玉莲",
    ],
    [
        "磊伟浩宇鑫超鹏杰帅凯博文涛俊晨阳旭龙飞亮健斌明辉佳强峰成鸿毅坤振",
        "婷静丹倩雪琳悦佳欣怡颖璐晶蕾敏丽媛瑶洁雯慧梦莹蓉月茜薇楠芳娟",
    ],
    [
        "子轩梓浩宇然睿泽铭博一辰诺俊熙瑞晨逸航宸皓锦沐奕安承宁昊煜嘉",
        "欣怡梓涵诗雨萱可馨思语一诺依紫晨若佳雅子沐妍悦溪汐芷彤婉琪",
    ],
];

/// Share of one-character given names per cohort, in percent (they peaked around 1990–2005).
const SINGLE_CHAR_PERCENT: [u32; 4] = [18, 24, 32, 8];

fn cohort(birth_year: i32) -> usize {
    match birth_year {
        ..1960 => 0,
        1960..1985 => 1,
        1985..2005 => 2,
        _ => 3,
    }
}

/// Name generator with the surname table and character pools prepared once.
pub(crate) struct Names {
    surnames: Weighted,
    pools: Vec<[Vec<char>; 2]>,
}

impl Names {
    /// Prepares the tables.
    pub fn new() -> Self {
        let surnames = Weighted::new(SURNAMES.iter().map(|&(_, w)| w));
        let pools = POOLS.iter().map(|[m, f]| [distinct(m), distinct(f)]).collect();
        Self { surnames, pools }
    }

    /// A surname drawn by national frequency.
    pub fn surname(&self, rng: &mut impl Rng) -> &'static str {
        SURNAMES[self.surnames.sample(rng)].0
    }

    /// Appends a given name for someone of `sex` born in `birth_year` to `out`.
    pub fn push_given(&self, rng: &mut impl Rng, out: &mut String, sex: Sex, birth_year: i32) {
        let c = cohort(birth_year);
        let pool = &self.pools[c][usize::from(sex == Sex::Female)];
        let first = skewed(rng, pool);
        out.push(first);
        if rng.random_range(0..100) < SINGLE_CHAR_PERCENT[c] {
            return;
        }
        // Doubled characters (婷婷, 丹丹) are a girls' fashion of the 1980s–2000s.
        if sex == Sex::Female && c >= 1 && rng.random_range(0..100) < 6 {
            out.push(first);
            return;
        }
        let mut second = skewed(rng, pool);
        while second == first {
            second = pool[rng.random_range(0..pool.len())];
        }
        out.push(second);
    }

    /// A full name: surname then given name.
    pub fn full(&self, rng: &mut impl Rng, surname: &str, sex: Sex, birth_year: i32) -> String {
        let mut name = String::with_capacity(12);
        name.push_str(surname);
        self.push_given(rng, &mut name, sex, birth_year);
        name
    }
}

/// The characters of `s` in order, each once.
fn distinct(s: &str) -> Vec<char> {
    let mut out: Vec<char> = Vec::new();
    for c in s.chars() {
        if !out.contains(&c) {
            out.push(c);
        }
    }
    out
}

/// A character from `pool`, favouring the front (index ∝ u², so the first tenth of the pool
/// gets about a third of the draws).
fn skewed(rng: &mut impl Rng, pool: &[char]) -> char {
    let u: f64 = rng.random();
    let i = (u * u * pool.len() as f64) as usize;
    pool[i.min(pool.len() - 1)]
}
