//! The mistakes, one case a line, and the pinyin table covering every name character.

use chrono::NaiveDate;
use yigong_domain::identity::ResidentId;

use crate::mistakes::{
    fifteen_digit, has_polyphonic_surname, homophone, lookalike, mistype_digit, nickname, pinyin, pinyin_of,
    polyphonic, split_name, swap_day_month, transpose,
};
use crate::names::{POOLS, SURNAMES};
use crate::rng::{SynthRng, rng};

fn r() -> SynthRng {
    rng(1, 99)
}

/// Every outcome of `f` on `name` over many draws.
fn outcomes(name: &str, f: fn(&mut SynthRng, &str) -> Option<String>) -> Vec<String> {
    let mut rng = r();
    let mut out: Vec<String> = (0..200).filter_map(|_| f(&mut rng, name)).collect();
    out.sort();
    out.dedup();
    out
}

#[test]
fn every_name_character_has_pinyin() {
    let surnames = SURNAMES.iter().flat_map(|(s, _)| s.chars());
    let given = POOLS.iter().flat_map(|pool| pool.iter().flat_map(|p| p.chars()));
    for c in surnames.chain(given) {
        let reading = pinyin_of(c).unwrap_or_else(|| panic!("no pinyin for {c}"));
        assert!(!reading.is_empty() && reading.bytes().all(|b| b.is_ascii_lowercase()), "{c} {reading}");
    }
    assert_eq!((pinyin_of('曾'), pinyin_of('覃'), pinyin_of('吕')), (Some("zeng"), Some("qin"), Some("lv")));
}

#[test]
fn names_split_at_compound_surnames() {
    assert_eq!(split_name("欧阳娜娜"), ("欧阳", "娜娜"));
    assert_eq!(split_name("张伟"), ("张", "伟"));
}

#[test]
fn homophones() {
    assert_eq!(outcomes("李明", homophone), ["李名", "李铭", "李鸣"]);
    assert!(outcomes("张伟", homophone).contains(&"章伟".to_owned()));
}

#[test]
fn lookalikes() {
    assert_eq!(outcomes("王永", lookalike), ["玉永", "王水"]);
}

#[test]
fn polyphonic_surnames() {
    assert_eq!(outcomes("曾伟", polyphonic), ["增伟", "层伟"]);
    assert_eq!(outcomes("覃丽", polyphonic), ["秦丽", "谭丽"]);
    assert!(has_polyphonic_surname("谢娜") && !has_polyphonic_surname("张伟"));
    assert!(outcomes("张伟", polyphonic).is_empty());
}

#[test]
fn pinyin_names() {
    assert_eq!(outcomes("张伟明", pinyin), ["ZHANG WEIMING", "Zhang Weiming", "zhangweiming"]);
    assert_eq!(outcomes("欧阳娜", pinyin), ["OUYANG NA", "Ouyang Na", "ouyangna"]);
    assert!(outcomes("张犇", pinyin).is_empty(), "unknown characters are not guessed");
}

#[test]
fn nicknames() {
    assert_eq!(outcomes("李建明", nickname), ["李小明", "李明明", "李阿明"]);
    assert_eq!(outcomes("王婷婷", nickname), ["王小婷", "王阿婷"]);
}

#[test]
fn day_and_month() {
    let d = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
    assert_eq!(swap_day_month(d(1980, 3, 5)), Some(d(1980, 5, 3)));
    assert_eq!(swap_day_month(d(1980, 3, 13)), None);
    assert_eq!(swap_day_month(d(1980, 4, 4)), None);
}

#[test]
fn id_mistakes() {
    let today = NaiveDate::from_ymd_opt(2026, 11, 1).unwrap();
    let id = "11010519491231002X";
    let mut rng = r();
    for _ in 0..200 {
        let typo = mistype_digit(&mut rng, id);
        assert_eq!(typo.len(), 18);
        assert_eq!(typo.bytes().zip(id.bytes()).filter(|(a, b)| a != b).count(), 1, "{typo}");
        assert!(ResidentId::parse(&typo, today).is_err(), "{typo}: one wrong digit always fails the check");
        let swapped = transpose(&mut rng, id).unwrap();
        let changed: Vec<usize> = (0..18).filter(|&i| swapped.as_bytes()[i] != id.as_bytes()[i]).collect();
        assert!(changed.len() == 2 && changed[1] == changed[0] + 1, "{swapped}");
        assert!(ResidentId::parse(&swapped, today).is_err(), "{swapped}");
    }
    assert_eq!(transpose(&mut rng, "111111111111111111"), None);
    let old = fifteen_digit(id).unwrap();
    assert_eq!(old, "110105491231002");
    assert_eq!(ResidentId::parse(&old, today).unwrap().as_str(), id);
    assert_eq!(fifteen_digit("110105200912310021"), None, "born in the 2000s");
}
