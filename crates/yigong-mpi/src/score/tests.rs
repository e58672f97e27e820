use super::*;
use crate::testing::record;

/// The hard rules a pair breaks, as codes joined by spaces.
fn check(a: &str, b: &str, expect: &str) {
    let rules = hard_rules(&record(a), &record(b));
    let got: Vec<&str> = rules.iter().map(|r| r.as_str()).collect();
    assert_eq!(got.join(" "), expect, "{a} / {b}");
}

// 11010519491231002X is female; 110105194912310038 male, same birth date.
const ID_F: &str = "11010519491231002X";
const ID_M: &str = "110105194912310038";
// 15-digit 110105491231002 with its 5th and 6th digits swapped: a valid derived number.
const ID_F_SWAPPED_15: &str = "110150491231002";

#[test]
fn same_valid_id() {
    check(&format!("id={ID_F}"), &format!("id={ID_F}"), "")
}
#[test]
fn different_valid_ids_and_sex() {
    check(&format!("id={ID_F}"), &format!("id={ID_M}"), "different_valid_ids different_id_sex")
}
#[test]
fn old_number_equals_its_18() {
    check(&format!("id={ID_F}"), "id=110105491231002", "")
}
#[test]
fn transposed_old_number_forgiven() {
    check(&format!("id={ID_F}"), &format!("id={ID_F_SWAPPED_15}"), "")
}
#[test]
fn invalid_id_breaks_no_rule() {
    check(&format!("id={ID_F}"), "id=110105194912310021", "")
}
#[test]
fn twins() {
    check("name=张大伟 household=H1 birth=2001-02-03", "name=张小伟 household=H1 birth=2001-02-03", "twins")
}
#[test]
fn a_homophone_with_the_same_valid_id_is_not_a_twin() {
    // Twins never share an ID number: 张大伟 / 张大卫 with one number is a clerk's typo.
    let a = format!("name=张大伟 household=H1 birth=1949-12-31 id={ID_M}");
    let b = format!("name=张大卫 household=H1 birth=1949-12-31 id={ID_M}");
    check(&a, &b, "");
    // Without the shared number the rule still holds the pair back.
    check("name=张大伟 household=H1 birth=1949-12-31", "name=张大卫 household=H1 birth=1949-12-31", "twins");
}
#[test]
fn same_person_same_household() {
    check("name=张大伟 household=H1 birth=2001-02-03", "name=张大伟 household=H1 birth=2001-02-03", "")
}
#[test]
fn siblings_different_birth() {
    check("name=张大伟 household=H1 birth=2001-02-03", "name=张小伟 household=H1 birth=2003-02-03", "")
}
#[test]
fn different_households() {
    check("name=张大伟 household=H1 birth=2001-02-03", "name=张小伟 household=H2 birth=2001-02-03", "")
}

fn thresholds() -> Thresholds {
    Thresholds { upper: 10.0, lower: 2.0 }
}
#[test]
fn bands() {
    assert_eq!(classify(10.0, &[], &thresholds()), Band::AutoLink);
    assert_eq!(classify(9.9, &[], &thresholds()), Band::Review);
    assert_eq!(classify(2.0, &[], &thresholds()), Band::Review);
    assert_eq!(classify(1.9, &[], &thresholds()), Band::NoLink);
}
#[test]
fn hard_rule_caps_at_review() {
    assert_eq!(classify(50.0, &[HardRule::Twins], &thresholds()), Band::Review);
    assert_eq!(classify(-5.0, &[HardRule::DifferentIdSex], &thresholds()), Band::NoLink);
}

fn model(records: &[Prepared]) -> Model {
    let config = Config::default_chinese();
    let random = crate::em::sample_pairs(records.len(), 500, 1);
    let (parameters, _) = crate::em::estimate(&config, records, &[], &random);
    Model::new(config.clone(), parameters, TermFrequencies::build(&config, records)).unwrap()
}

#[test]
fn result_explains_each_field() {
    let records = [
        record(&format!("name=王芳 id={ID_F} phone=13812345678")),
        record(&format!("name=汪芳 id={ID_F} phone=13812345679")),
    ];
    let result = model(&records).score(&records[0], &records[1]);
    let levels: Vec<String> =
        result.fields.iter().map(|f| format!("{}:{}", f.field.as_str(), f.level_name)).collect();
    assert_eq!(
        levels.join(" "),
        "name:same_pinyin sex:agree birth_date:exact resident_id:exact phone:distance_1 village_code:missing \
         household_id:missing e_health_card:missing insurance_number:missing"
    );
    assert!(result.fields.iter().filter(|f| f.level == Level::Missing).all(|f| f.weight == 0.0));
    let sum: f64 = result.fields.iter().map(|f| f.weight).sum();
    assert!((sum - result.score).abs() < 1e-9);
    assert!(result.parameters_version.starts_with("cn-default-1+em."));
}
#[test]
fn parameters_must_fit_config() {
    let records = [record("name=王芳"), record("name=王芳")];
    let built = model(&records);
    let mut config = built.config().clone();
    config.fields.pop();
    let err = Model::new(config, built.parameters().clone(), TermFrequencies::default()).unwrap_err();
    assert_eq!(err.code(), "mpi_config_invalid");
}
#[test]
fn transposed_valid_18s_are_two_people() {
    // Same-name strangers born the same day: sequences 123 and 213, both valid numbers.
    check("id=990121198001011231", "id=990121198001012138", "different_valid_ids")
}

#[test]
fn agreeing_on_wang_scores_lower_than_on_ouyang() {
    // A village of 王s, then two pairs that differ only in the surname they share.
    let mut specs: Vec<String> =
        (0..30).map(|i| format!("name=王{} birth=19{}-01-01", ["伟", "芳", "军"][i % 3], 50 + i)).collect();
    specs.extend(
        ["王建国", "王建华", "欧阳建国", "欧阳建华"].map(|n| format!("name={n} sex=男 birth=1980-05-06")),
    );
    let records: Vec<Prepared> = specs.iter().map(|s| record(s)).collect();
    let model = model(&records);
    let n = records.len();
    let wang = model.score(&records[n - 4], &records[n - 3]);
    let ouyang = model.score(&records[n - 2], &records[n - 1]);
    assert_eq!(wang.fields[0].level_name, "same_surname_given_edit_1");
    assert_eq!(ouyang.fields[0].level_name, "same_surname_given_edit_1");
    assert!(wang.score < ouyang.score, "王 {:.2} vs 欧阳 {:.2}", wang.score, ouyang.score);
    assert!(wang.fields[0].term_frequency_adjustment < 0.0);
}
