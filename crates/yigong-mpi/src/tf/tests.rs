use super::*;
use crate::testing::record;

/// A village where 王 is common and 欧阳 rare, plus the two records of `pair`; returns the
/// adjustment of the name field for that pair.
fn adjustment(pair: [&str; 2]) -> f64 {
    let mut specs: Vec<String> =
        (0..40).map(|i| format!("name=王{}", ["伟", "芳", "军", "丽"][i % 4])).collect();
    specs.extend(["name=李娜", "name=赵敏", "name=欧阳春", "name=孙涛"].map(String::from));
    specs.extend(pair.map(|s| format!("name={s}")));
    let records: Vec<Prepared> = specs.iter().map(|s| record(s)).collect();
    let config = Config::default_chinese();
    let frequencies = TermFrequencies::build(&config, &records);
    let (a, b) = (&records[records.len() - 2], &records[records.len() - 1]);
    let level = crate::compare::compare(Comparator::ChineseName, Field::Name, a, b);
    frequencies.adjustment(0, Comparator::ChineseName, level, a, b)
}

/// `common` must weigh strictly less than `rare`.
fn check(common: [&str; 2], rare: [&str; 2]) {
    let (c, r) = (adjustment(common), adjustment(rare));
    assert!(c < r, "{common:?} adjusts by {c:.2} bits, {rare:?} by {r:.2}");
}

#[test]
fn same_surname_wang_weighs_less_than_ouyang() {
    check(["王建国", "王建华"], ["欧阳建国", "欧阳建华"])
}
#[test]
fn same_surname_wang_weighs_less_than_rare_single() {
    check(["王建国", "王建华"], ["甄建国", "甄建华"])
}
#[test]
fn common_full_name_weighs_less() {
    check(["王伟", "王伟"], ["欧阳伟", "欧阳伟"])
}
#[test]
fn common_homophone_weighs_less() {
    check(["王伟", "王玮"], ["上官伟", "上官玮"])
}
#[test]
fn common_surname_adjusts_downwards() {
    assert!(adjustment(["王建国", "王建华"]) < 0.0);
    assert!(adjustment(["欧阳建国", "欧阳建华"]) > 0.0);
}
#[test]
fn disagreement_not_adjusted() {
    assert_eq!(adjustment(["王伟", "李娜"]), 0.0);
}
#[test]
fn field_without_flag_not_adjusted() {
    let records = vec![record("name=王伟 sex=男"), record("name=王伟 sex=男")];
    let config = Config::default_chinese();
    let frequencies = TermFrequencies::build(&config, &records);
    let level = crate::compare::compare(Comparator::Exact, Field::Sex, &records[0], &records[1]);
    assert_eq!(frequencies.adjustment(1, Comparator::Exact, level, &records[0], &records[1]), 0.0);
}
#[test]
fn exact_field_uses_value_frequency() {
    // With the flag on a plain field, agreement weighs log2(u_chance / p_value).
    let mut config = Config::default_chinese();
    config.fields[5].term_frequency = true; // village_code
    let specs = ["990121101201"; 6].iter().chain(&["990121101202"; 2]).map(|v| format!("village={v}"));
    let records: Vec<Prepared> = specs.map(|s| record(&s)).collect();
    let frequencies = TermFrequencies::build(&config, &records);
    let at = |a: usize, b: usize| {
        frequencies.adjustment(5, Comparator::Exact, Level::Observed(0), &records[a], &records[b])
    };
    // p = 6/8 and 2/8, u_chance = (36 + 4) / 64.
    assert!((at(0, 1) - (40.0_f64 / 64.0 / 0.75).log2()).abs() < 1e-12);
    assert!((at(6, 7) - (40.0_f64 / 64.0 / 0.25).log2()).abs() < 1e-12);
}
