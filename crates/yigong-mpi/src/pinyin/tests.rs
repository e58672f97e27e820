use super::*;

/// `kind` is `readings` (one character), `name`, `fuzzy_name` or `fuzzy` (one syllable); the
/// expectation is the output joined with spaces.
fn check(kind: &str, input: &str, expect: &str) {
    let got = match kind {
        "readings" => readings(input.chars().next().unwrap()),
        "name" => name_variants(input),
        "fuzzy_name" => fuzzy_variants(input),
        "fuzzy" => vec![fuzzy(input)],
        // `a|b`: whether the two names share a fuzzy variant.
        "fuzzy_meets" => {
            let (a, b) = input.split_once('|').unwrap();
            let (a, b) = (fuzzy_variants(a), fuzzy_variants(b));
            vec![a.iter().any(|v| b.contains(v)).to_string()]
        }
        other => panic!("unknown kind {other}"),
    };
    assert_eq!(got.join(" "), expect, "{kind}: {input:?}");
}

#[test]
fn dan_all_readings() {
    check("readings", "单", "dan chan shan")
}
#[test]
fn zeng_ceng() {
    check("readings", "曾", "ceng zeng")
}
#[test]
fn zha_cha() {
    check("readings", "查", "cha zha chai")
}
#[test]
fn qiu_chou() {
    check("readings", "仇", "chou qiu ju")
}
#[test]
fn ou_qu() {
    check("readings", "区", "qu ou")
}
#[test]
fn lv_as_v() {
    check("readings", "吕", "lv")
}
#[test]
fn single_reading() {
    check("readings", "张", "zhang")
}
#[test]
fn latin_letter_stands_for_itself() {
    check("readings", "A", "a")
}
#[test]
fn name_one_variant() {
    check("name", "张伟", "zhangwei")
}
#[test]
fn name_polyphonic_surname() {
    check("name", "单伟", "chanwei danwei shanwei")
}
#[test]
fn name_two_polyphonic() {
    check("name", "单曾", "chanceng chanzeng danceng danzeng shanceng shanzeng")
}
#[test]
fn name_rare_readings_kept() {
    // pinyin-data lists 王 also as yu (a rare reading); every reading is kept.
    check("name", "王玮", "wangwei yuwei")
}
#[test]
fn name_minority_dot_skipped() {
    assert_eq!(name_variants("古丽·买买提"), name_variants("古丽买买提"));
}
#[test]
fn name_latin() {
    check("name", "zhangwei", "zhangwei")
}
#[test]
fn name_capped() {
    assert_eq!(name_variants("单单单单").len(), MAX_VARIANTS.min(81));
}
#[test]
fn fuzzy_zh() {
    check("fuzzy", "zhang", "zan")
}
#[test]
fn fuzzy_ch() {
    check("fuzzy", "chen", "cen")
}
#[test]
fn fuzzy_sh() {
    check("fuzzy", "shi", "si")
}
#[test]
fn fuzzy_l_to_n() {
    check("fuzzy", "liu", "niu")
}
#[test]
fn fuzzy_h_to_f() {
    check("fuzzy", "hang", "fan")
}
#[test]
fn fuzzy_huang_fang() {
    check("fuzzy", "huang", "fan")
}
#[test]
fn fuzzy_hui_fei() {
    check("fuzzy", "hui", "fei")
}
#[test]
fn fuzzy_hu_fu() {
    check("fuzzy", "hu", "fu")
}
#[test]
fn fuzzy_hun_fen() {
    check("fuzzy", "hun", "fen")
}
#[test]
fn fuzzy_eng() {
    check("fuzzy", "feng", "fen")
}
#[test]
fn fuzzy_ing() {
    check("fuzzy", "ming", "min")
}
#[test]
fn fuzzy_iang() {
    check("fuzzy", "liang", "nian")
}
#[test]
fn fuzzy_ong_kept() {
    check("fuzzy", "hong", "fong")
}
#[test]
fn fuzzy_plain_kept() {
    check("fuzzy", "wei", "wei")
}
#[test]
fn fuzzy_name_liu_niu() {
    check("fuzzy_meets", "刘明|牛敏", "true")
}
#[test]
fn fuzzy_name_chen_cen() {
    check("fuzzy_meets", "陈静|岑京", "true")
}
#[test]
fn fuzzy_name_huang_fang() {
    check("fuzzy_meets", "黄丽|房丽", "true")
}
#[test]
fn fuzzy_name_different() {
    check("fuzzy_meets", "张伟|王芳", "false")
}
#[test]
fn fuzzy_name_cen() {
    check("fuzzy_name", "岑", "cen")
}
