use chrono::NaiveDate;

use super::*;

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 25).unwrap()
}

/// Each case names the normaliser, the raw input and the expected output (`None` = rejected).
fn check(kind: &str, input: &str, expect: Option<&str>) {
    let got = match kind {
        "name" => name(input),
        "mobile" => mobile(input),
        "id" => resident_id(input, today()).map(|id| match id {
            IdNumber::Valid(v) => format!("valid {}", v.as_str()),
            IdNumber::Invalid(s) => format!("invalid {s}"),
        }),
        "date" => birth_date(input).map(|d| d.to_string()),
        "sex" => sex(input).map(|s| s.as_str().to_owned()),
        "village" => village_code(input).map(|v| v.as_str().to_owned()),
        "identifier" => identifier(input),
        "text" => text(input),
        other => panic!("unknown normaliser {other}"),
    };
    assert_eq!(got.as_deref(), expect, "{kind}: {input:?}");
}

#[test]
fn name_plain() {
    check("name", "张伟", Some("张伟"))
}
#[test]
fn name_inner_spaces() {
    check("name", " 张  伟 ", Some("张伟"))
}
#[test]
fn name_ideographic_space() {
    check("name", "欧阳\u{3000}娜娜", Some("欧阳娜娜"))
}
#[test]
fn name_minority_dot_kept() {
    check("name", "阿依古丽·买买提", Some("阿依古丽·买买提"))
}
#[test]
fn name_katakana_dot() {
    check("name", "阿依古丽・买买提", Some("阿依古丽·买买提"))
}
#[test]
fn name_halfwidth_katakana_dot() {
    check("name", "阿依古丽･买买提", Some("阿依古丽·买买提"))
}
#[test]
fn name_bullet_dot() {
    check("name", "阿依古丽•买买提", Some("阿依古丽·买买提"))
}
#[test]
fn name_full_stop_dot() {
    check("name", "阿依古丽.买买提", Some("阿依古丽·买买提"))
}
#[test]
fn name_fullwidth_full_stop() {
    check("name", "阿依古丽．买买提", Some("阿依古丽·买买提"))
}
#[test]
fn name_dot_with_spaces() {
    check("name", "阿依古丽 · 买买提", Some("阿依古丽·买买提"))
}
#[test]
fn name_doubled_dot() {
    check("name", "阿依古丽··买买提", Some("阿依古丽·买买提"))
}
#[test]
fn name_trailing_dot() {
    check("name", "·张伟·", Some("张伟"))
}
#[test]
fn name_fullwidth_latin() {
    check("name", "Ｚｈａｎｇ Ｗｅｉ", Some("zhangwei"))
}
#[test]
fn name_latin_lower() {
    check("name", "Zhang Wei", Some("zhangwei"))
}
#[test]
fn name_brackets_dropped() {
    check("name", "王芳（小）", Some("王芳小"))
}
#[test]
fn name_empty() {
    check("name", "  ", None)
}
#[test]
fn name_only_dots() {
    check("name", "··", None)
}

#[test]
fn mobile_plain() {
    check("mobile", "13812345678", Some("13812345678"))
}
#[test]
fn mobile_grouped() {
    check("mobile", "138 1234 5678", Some("13812345678"))
}
#[test]
fn mobile_dashes() {
    check("mobile", "138-1234-5678", Some("13812345678"))
}
#[test]
fn mobile_plus86() {
    check("mobile", "+86 138 1234 5678", Some("13812345678"))
}
#[test]
fn mobile_0086() {
    check("mobile", "0086-13812345678", Some("13812345678"))
}
#[test]
fn mobile_86_no_plus() {
    check("mobile", "8613812345678", Some("13812345678"))
}
#[test]
fn mobile_full_width() {
    check("mobile", "１３８１２３４５６７８", Some("13812345678"))
}
#[test]
fn mobile_brackets() {
    check("mobile", "(+86)13812345678", Some("13812345678"))
}
#[test]
fn mobile_too_short() {
    check("mobile", "1381234567", None)
}
#[test]
fn mobile_bad_prefix() {
    check("mobile", "12812345678", None)
}
#[test]
fn mobile_landline() {
    check("mobile", "0731-84561234", None)
}
#[test]
fn mobile_letters() {
    check("mobile", "1381234567a", None)
}

#[test]
fn id_valid_18() {
    check("id", "11010519491231002X", Some("valid 11010519491231002X"))
}
#[test]
fn id_lower_x_and_spaces() {
    check("id", "110105 19491231 002x", Some("valid 11010519491231002X"))
}
#[test]
fn id_full_width() {
    check("id", "１１０１０５１９４９１２３１００２Ｘ", Some("valid 11010519491231002X"))
}
#[test]
fn id_15_widened() {
    check("id", "110105491231002", Some("valid 11010519491231002X"))
}
#[test]
fn id_bad_check_kept() {
    check("id", "110105194912310021", Some("invalid 110105194912310021"))
}
#[test]
fn id_15_bad_date_widened() {
    check("id", "110105491331002", Some("invalid 110105194913310021"))
}
#[test]
fn id_short_kept() {
    check("id", "1101051949", Some("invalid 1101051949"))
}
#[test]
fn id_no_digits() {
    check("id", "无", None)
}

#[test]
fn date_iso() {
    check("date", "1980-03-07", Some("1980-03-07"))
}
#[test]
fn date_slashes_short() {
    check("date", "1980/3/7", Some("1980-03-07"))
}
#[test]
fn date_dots() {
    check("date", "1980.03.07", Some("1980-03-07"))
}
#[test]
fn date_compact() {
    check("date", "19800307", Some("1980-03-07"))
}
#[test]
fn date_chinese() {
    check("date", "1980年3月7日", Some("1980-03-07"))
}
#[test]
fn date_full_width() {
    check("date", "１９８０-０３-０７", Some("1980-03-07"))
}
#[test]
fn date_impossible() {
    check("date", "1980-02-30", None)
}
#[test]
fn date_day_first() {
    check("date", "07/03/1980", None)
}

#[test]
fn sex_code_1() {
    check("sex", "1", Some("male"))
}
#[test]
fn sex_chinese_female() {
    check("sex", "女", Some("female"))
}
#[test]
fn sex_letter() {
    check("sex", "F", Some("female"))
}
#[test]
fn sex_unknown() {
    check("sex", "9", None)
}

#[test]
fn village_plain() {
    check("village", "990121101201", Some("990121101201"))
}
#[test]
fn village_full_width_spaced() {
    check("village", "９９０１２１ １０１２０１", Some("990121101201"))
}
#[test]
fn village_malformed() {
    check("village", "99012110120", None)
}

#[test]
fn identifier_upper_no_dashes() {
    check("identifier", " ab-12 34 ", Some("AB1234"))
}
#[test]
fn identifier_empty() {
    check("identifier", " - ", None)
}

#[test]
fn text_lower_collapsed() {
    check("text", "  Pridham   STREET\t milton ", Some("pridham street milton"))
}
#[test]
fn text_punctuation_kept() {
    check("text", "Lillie-Hinrichs", Some("lillie-hinrichs"))
}
#[test]
fn text_full_width() {
    check("text", "ＳＴ　ＪＡＭＥＳ", Some("st james"))
}
#[test]
fn text_blank() {
    check("text", " \t ", None)
}
#[test]
fn date_compact_invalid() {
    // FEBRL's typos make impossible dates: they are missing, not guessed.
    check("date", "19551192", None)
}
