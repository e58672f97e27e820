use chrono::NaiveDate;

use super::*;
use crate::normalise;

/// Compares `a` and `b` with `comparator` and expects the named level; names and dates are
/// normalised first, so cases read as a clerk would type them.
fn check(comparator: Comparator, a: &str, b: &str, expect: &str) {
    let level = match comparator {
        Comparator::ChineseName => {
            let key = |s: &str| NameKey::new(&normalise::name(s).unwrap());
            chinese_name(&key(a), &key(b))
        }
        Comparator::Date => {
            let day = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
            date(day(a), day(b))
        }
        Comparator::IdNumber => {
            let today = NaiveDate::from_ymd_opt(2026, 11, 25).unwrap();
            let id = |s: &str| normalise::resident_id(s, today).unwrap().as_str().to_owned();
            id_number(&id(a), &id(b))
        }
        Comparator::Exact => exact(a, b),
        Comparator::JaroWinkler => jaro_winkler(a, b),
        Comparator::Levenshtein => levenshtein(a, b),
        Comparator::JaroWinklerSwap => jaro_winkler_swap(a, b, None, None),
    };
    let got = Level::Observed(level).name(comparator);
    assert_eq!(got, expect, "{}: {a:?} vs {b:?}", comparator.as_str());
}

use Comparator::*;

#[test]
fn exact_agree() {
    check(Exact, "990121101201", "990121101201", "agree")
}
#[test]
fn exact_disagree() {
    check(Exact, "990121101201", "990121101202", "disagree")
}

#[test]
fn jw_identical() {
    check(JaroWinkler, "martha", "martha", "at_least_0_94")
}
#[test]
fn jw_martha_marhta() {
    // 0.961 with the prefix boost (Winkler's example).
    check(JaroWinkler, "martha", "marhta", "at_least_0_94")
}
#[test]
fn jw_dwayne_duane() {
    // 0.84: below both bands.
    check(JaroWinkler, "dwayne", "duane", "lower")
}
#[test]
fn jw_dixon_dicksonx() {
    // 0.813.
    check(JaroWinkler, "dixon", "dicksonx", "lower")
}
#[test]
fn jw_last_letter_differs() {
    // Jaro 0.917, prefix boost to 0.95.
    check(JaroWinkler, "zhangwei", "zhangwen", "at_least_0_94")
}
#[test]
fn jw_middle_band() {
    // Jaro 0.833, prefix of 4 lifts it to 0.900.
    check(JaroWinkler, "abcdefgh", "abcdefxy", "at_least_0_88")
}
#[test]
fn jw_prefix_capped_at_four() {
    // Jaro 0.75; a six-letter common prefix still only counts four: 0.85.
    check(JaroWinkler, "abcdefgh", "abcdxyzh", "lower")
}
#[test]
fn jw_unrelated() {
    check(JaroWinkler, "wangfang", "liqiang", "lower")
}

#[test]
fn lev_zero() {
    check(Levenshtein, "13812345678", "13812345678", "distance_0")
}
#[test]
fn lev_one() {
    check(Levenshtein, "13812345678", "13812345679", "distance_1")
}
#[test]
fn lev_two_swap() {
    check(Levenshtein, "13812345678", "13812345687", "distance_2")
}
#[test]
fn lev_far() {
    check(Levenshtein, "13812345678", "15987654321", "distance_over_2")
}
#[test]
fn lev_counts_characters_not_bytes() {
    check(Levenshtein, "张伟", "张玮", "distance_1")
}

#[test]
fn date_exact() {
    check(Date, "1980-03-07", "1980-03-07", "exact")
}
#[test]
fn date_day_month_swap() {
    check(Date, "1980-03-07", "1980-07-03", "day_month_swap")
}
#[test]
fn date_swap_needs_same_year() {
    check(Date, "1980-03-07", "1981-07-03", "other")
}
#[test]
fn date_one_day() {
    check(Date, "1980-03-07", "1980-03-08", "one_day_apart")
}
#[test]
fn date_one_day_over_month_end() {
    check(Date, "1980-03-31", "1980-04-01", "one_day_apart")
}
#[test]
fn date_one_day_over_year_end() {
    check(Date, "1980-12-31", "1981-01-01", "one_day_apart")
}
#[test]
fn date_same_year_month() {
    check(Date, "1980-03-07", "1980-03-20", "same_year_month")
}
#[test]
fn date_other() {
    check(Date, "1980-03-07", "1980-04-07", "other")
}

#[test]
fn id_exact() {
    check(IdNumber, "11010519491231002X", "11010519491231002X", "exact")
}
#[test]
fn id_exact_after_15_to_18() {
    check(IdNumber, "110105491231002", "11010519491231002X", "exact")
}
#[test]
fn id_adjacent_transposition() {
    check(IdNumber, "11010519491231002X", "11010519492131002X", "adjacent_transposition")
}
#[test]
fn id_one_substitution() {
    check(IdNumber, "11010519491231002X", "11010519491231012X", "one_substitution")
}
#[test]
fn id_substitution_in_15_digit_number() {
    // The widened number gets a new check character: still one substitution.
    check(IdNumber, "110105491231002", "110105491231003", "one_substitution")
}
#[test]
fn id_transposition_in_15_digit_number() {
    check(IdNumber, "110105491231002", "110105492131002", "adjacent_transposition")
}
#[test]
fn id_check_character_only() {
    check(IdNumber, "11010519491231002X", "110105194912310021", "one_substitution")
}
#[test]
fn id_two_substitutions() {
    check(IdNumber, "11010519491231002X", "11010519491231113X", "other")
}
#[test]
fn id_non_adjacent_swap() {
    check(IdNumber, "11010519491231002X", "11010519431291002X", "other")
}
#[test]
fn id_different_length() {
    check(IdNumber, "11010519491231002X", "1101051949123100", "other")
}

#[test]
fn name_same_characters() {
    check(ChineseName, "张伟", "张 伟", "same_characters")
}
#[test]
fn name_homophone() {
    check(ChineseName, "张伟", "张玮", "same_pinyin")
}
#[test]
fn name_polyphonic_surname_shan() {
    // 单 read Shàn, written by ear as 善.
    check(ChineseName, "单立新", "善立新", "same_pinyin")
}
#[test]
fn name_polyphonic_surname_qiu() {
    check(ChineseName, "仇国华", "邱国华", "same_pinyin")
}
#[test]
fn name_polyphonic_surname_xie() {
    check(ChineseName, "解明", "谢明", "same_pinyin")
}
#[test]
fn name_pinyin_only() {
    check(ChineseName, "张伟", "Zhang Wei", "same_pinyin")
}
#[test]
fn name_fuzzy_l_n() {
    check(ChineseName, "刘芳", "牛芳", "fuzzy_pinyin")
}
#[test]
fn name_fuzzy_in_ing() {
    check(ChineseName, "王敏", "王明", "fuzzy_pinyin")
}
#[test]
fn name_fuzzy_zh_z() {
    check(ChineseName, "张丽", "臧丽", "fuzzy_pinyin")
}
#[test]
fn name_fuzzy_h_f() {
    check(ChineseName, "黄秀英", "房秀英", "fuzzy_pinyin")
}
#[test]
fn name_same_surname_given_edit() {
    check(ChineseName, "王建国", "王建华", "same_surname_given_edit_1")
}
#[test]
fn name_same_surname_given_added() {
    check(ChineseName, "李伟", "李小伟", "same_surname_given_edit_1")
}
#[test]
fn name_compound_surname_given_edit() {
    check(ChineseName, "欧阳建国", "欧阳建华", "same_surname_given_edit_1")
}
#[test]
fn name_same_surname_given_far() {
    check(ChineseName, "王建国", "王秀英", "other")
}
#[test]
fn name_other() {
    check(ChineseName, "张伟", "王芳", "other")
}
#[test]
fn name_minority_same() {
    check(ChineseName, "阿依古丽·买买提", "阿依古丽・买买提", "same_characters")
}

#[test]
fn date_only_compares_birth_date() {
    assert!(Date.accepts(Field::BirthDate));
    assert!(!Date.accepts(Field::Name));
    assert!(!ChineseName.accepts(Field::Phone));
    assert!(Exact.accepts(Field::VillageCode));
}
#[test]
fn missing_is_its_own_level() {
    assert_eq!(Level::Missing.name(Exact), "missing");
    assert_eq!(Level::Missing.index(), None);
}

/// Field-level comparison of prepared records (`key=value` specs), expecting a level name.
fn check_records(field: Field, comparator: Comparator, a: &str, b: &str, expect: &str) {
    let (a, b) = (crate::testing::record(a), crate::testing::record(b));
    assert_eq!(compare(comparator, field, &a, &b).name(comparator), expect);
}

#[test]
fn valid_18s_one_digit_apart_are_other() {
    // Twins' numbers: sequences 013 and 015, both valid. No single typo does that.
    check_records(Field::ResidentId, IdNumber, "id=990121200001010132", "id=990121200001010159", "other")
}
#[test]
fn valid_18_and_typo_is_substitution() {
    check_records(
        Field::ResidentId,
        IdNumber,
        "id=990121200001010132",
        "id=990121200001010172",
        "one_substitution",
    )
}
#[test]
fn widened_old_number_typo_is_substitution() {
    check_records(
        Field::ResidentId,
        IdNumber,
        "id=11010519491231002X",
        "id=110105491231003",
        "one_substitution",
    )
}
#[test]
fn missing_side_is_missing() {
    check_records(Field::Phone, Levenshtein, "phone=13812345678", "name=张伟", "missing")
}
#[test]
fn date_comparator_uses_id_birth_date_when_none_entered() {
    check_records(Field::BirthDate, Date, "id=11010519491231002X", "birth=1949-12-31", "exact")
}

#[test]
fn swap_same_name() {
    check_records(
        Field::GivenName,
        JaroWinklerSwap,
        "given=jack family=ryan",
        "given=jack family=ryan",
        "at_least_0_94",
    )
}
#[test]
fn swap_typo_in_name() {
    check_records(
        Field::FamilyName,
        JaroWinklerSwap,
        "given=jack family=ryan",
        "given=jack family=rayn",
        "at_least_0_88",
    )
}
#[test]
fn swap_both_names_swapped() {
    check_records(
        Field::GivenName,
        JaroWinklerSwap,
        "given=jack family=ryan",
        "given=ryan family=jack",
        "swapped",
    );
    check_records(
        Field::FamilyName,
        JaroWinklerSwap,
        "given=jack family=ryan",
        "given=ryan family=jack",
        "swapped",
    )
}
#[test]
fn swap_with_typo() {
    // FEBRL's rec-988: "madeline mason" entered as "masno madeline".
    check_records(
        Field::FamilyName,
        JaroWinklerSwap,
        "given=madeline family=mason",
        "given=masno family=madeline",
        "swapped",
    )
}
#[test]
fn swap_one_name_missing() {
    // The family name moved into the given name's field, the family field left empty.
    check_records(Field::GivenName, JaroWinklerSwap, "given=isabelle family=mason", "given=mason", "swapped")
}
#[test]
fn swap_different_people() {
    check_records(
        Field::GivenName,
        JaroWinklerSwap,
        "given=jack family=ryan",
        "given=oliver family=ryan",
        "lower",
    )
}
#[test]
fn swap_needs_the_other_name() {
    check_records(Field::GivenName, JaroWinklerSwap, "given=jack", "given=ryan", "lower")
}
#[test]
fn swap_accepts_names_only() {
    assert!(JaroWinklerSwap.accepts(Field::GivenName));
    assert!(JaroWinklerSwap.accepts(Field::FamilyName));
    assert!(!JaroWinklerSwap.accepts(Field::Locality));
}
