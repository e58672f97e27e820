use super::*;

/// The default configuration with one line replaced; `Ok` carries the field count, `Err` a
/// part of the error message.
fn check(from: &str, to: &str, expect: Result<usize, &str>) {
    assert!(DEFAULT_TOML.contains(from), "the default has no {from:?}");
    let text = DEFAULT_TOML.replacen(from, to, 1);
    let got = Config::from_toml(&text).map(|c| c.fields.len()).map_err(|e| e.to_string());
    match (got, expect) {
        (Ok(n), Ok(m)) => assert_eq!(n, m),
        (Err(e), Err(part)) => assert!(e.contains(part), "{e:?} should mention {part:?}"),
        (got, expect) => panic!("{from:?} → {to:?}: got {got:?}, expected {expect:?}"),
    }
}

#[test]
fn default_parses() {
    check("", "", Ok(9))
}
#[test]
fn unknown_field_named() {
    check(r#"field = "phone""#, r#"field = "telephone""#, Err("telephone"))
}
#[test]
fn unknown_comparator_named() {
    check(r#"comparator = "levenshtein""#, r#"comparator = "soundex""#, Err("soundex"))
}
#[test]
fn unknown_blocking_key_named() {
    check(r#"["mobile"]"#, r#"["mobile_phone"]"#, Err("mobile_phone"))
}
#[test]
fn unknown_key_named() {
    check("term_frequency = true", "term_frequency = true\nweight = 3", Err("weight"))
}
#[test]
fn unknown_section_named() {
    check("[em]", "[em_settings]", Err("em_settings"))
}
#[test]
fn comparator_must_fit_field() {
    check(r#"comparator = "chinese_name""#, r#"comparator = "date""#, Err("comparator `date` cannot compare"))
}
#[test]
fn field_twice() {
    check(r#"field = "phone""#, r#"field = "sex""#, Err("field `sex` is compared twice"))
}
#[test]
fn thresholds_in_order() {
    check("lower = ", "lower = 100.0 #", Err("must not exceed upper"))
}
#[test]
fn start_m_in_range() {
    check("start_m = 0.9", "start_m = 1.5", Err("start_m"))
}
#[test]
fn empty_pass() {
    check(r#"["mobile"]"#, "[]", Err("every pass a key"))
}
#[test]
fn em_section_optional() {
    let text = DEFAULT_TOML.split("[em]").next().unwrap();
    assert_eq!(Config::from_toml(text).unwrap().em, EmConfig::default());
}
#[test]
fn default_em_settings_are_designs() {
    let em = Config::default_chinese().em;
    assert_eq!((em.start_m, em.max_iterations, em.min_gain), (0.9, 200, 1e-6));
}
#[test]
fn default_blocking_passes() {
    let passes = Config::default_chinese().blocking.passes;
    let names: Vec<String> =
        passes.iter().map(|p| p.iter().map(|k| k.as_str()).collect::<Vec<_>>().join("+")).collect();
    assert_eq!(
        names,
        [
            "resident_id",
            "birth_date+sex",
            "name_pinyin+birth_year",
            "mobile",
            "village_code+surname_pinyin+birth_year",
            "e_health_card",
            "insurance_number"
        ]
    );
}
#[test]
fn error_codes() {
    let err = Config::from_toml("version = 1").unwrap_err();
    assert_eq!(err.code(), "mpi_config_parse");
}
#[test]
fn default_training_is_pooled() {
    assert_eq!(Config::default_chinese().em.training, Training::Pooled);
}
#[test]
fn training_per_pass() {
    let text = DEFAULT_TOML.replace("[em]", "[em]\ntraining = \"per_pass\"");
    assert_eq!(Config::from_toml(&text).unwrap().em.training, Training::PerPass);
}
#[test]
fn unknown_training_named() {
    check("[em]", "[em]\ntraining = \"supervised\"", Err("supervised"))
}
#[test]
fn febrl_example_parses() {
    let text = include_str!("../../../../examples/febrl/matching.toml");
    let config = Config::from_toml(text).unwrap();
    assert_eq!(config.em.training, Training::PerPass);
    assert!(!config.em.anchor_on_resident_id);
}
