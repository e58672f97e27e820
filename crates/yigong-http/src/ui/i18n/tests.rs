use std::collections::BTreeSet;

use yigong_domain::access::{Basis, Role, ScopeKind};
use yigong_domain::facility::{AgencyKind, Tier};
use yigong_domain::identity::{ResidentIdError, Sex};
use yigong_domain::patient::{NoIdReason, RegistrationWarning};
use yigong_domain::staffing::{PostingSource, StaffCategory, TitleLevel};

use super::*;

#[test]
fn both_languages_have_the_same_keys() {
    let zh: BTreeSet<_> = parse(ZH_CN).into_keys().collect();
    let en: BTreeSet<_> = parse(EN).into_keys().collect();
    let only_zh: Vec<_> = zh.difference(&en).collect();
    let only_en: Vec<_> = en.difference(&zh).collect();
    assert!(only_zh.is_empty() && only_en.is_empty(), "zh-CN only: {only_zh:?}; en only: {only_en:?}");
}

/// Every literal key in the templates and page code exists.
#[test]
fn every_key_used_exists() {
    let zh = parse(ZH_CN);
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut sources = Vec::new();
    for dir in ["templates", "src/ui"] {
        for entry in std::fs::read_dir(root.join(dir)).unwrap() {
            let path = entry.unwrap().path();
            if path.is_file() {
                sources.push(std::fs::read_to_string(&path).unwrap());
            }
        }
    }
    let mut missing = BTreeSet::new();
    let mut seen = 0;
    for text in &sources {
        for pattern in ["t.get(\"", "t.fmt(\""] {
            for (i, _) in text.match_indices(pattern) {
                let rest = &text[i + pattern.len()..];
                let key = &rest[..rest.find('"').unwrap()];
                seen += 1;
                if !zh.contains_key(key) {
                    missing.insert(key.to_owned());
                }
            }
        }
    }
    assert!(seen > 50, "the scan found the keys ({seen})");
    assert!(missing.is_empty(), "keys used but not in the catalogue: {missing:?}");
}

/// Keys built from vocabularies (`role.{}` and the like) exist for every value.
#[test]
fn every_vocabulary_value_has_a_label() {
    let tr = Tr { lang: Lang::ZhCn };
    let mut keys: Vec<String> = Vec::new();
    keys.extend(Role::ALL.iter().map(|v| format!("role.{}", v.as_str())));
    keys.extend(ScopeKind::ALL.iter().map(|v| format!("scope.{}", v.as_str())));
    keys.extend(Basis::ALL.iter().map(|v| format!("basis.{}", v.as_str())));
    keys.extend(Tier::ALL.iter().map(|v| format!("tier.{}", v.as_str())));
    keys.extend(AgencyKind::ALL.iter().map(|v| format!("agency.{}", v.as_str())));
    keys.extend(StaffCategory::ALL.iter().map(|v| format!("category.{}", v.as_str())));
    keys.extend(TitleLevel::ALL.iter().map(|v| format!("title_level.{}", v.as_str())));
    keys.extend(PostingSource::ALL.iter().map(|v| format!("posting_source.{}", v.as_str())));
    keys.extend(Role::ALL.iter().map(|v| format!("home.{}", v.as_str())));
    keys.extend(
        [Sex::Male, Sex::Female, Sex::Unknown, Sex::Unspecified]
            .iter()
            .map(|v| format!("sex.{}", v.as_str())),
    );
    let missing: Vec<_> = keys.iter().filter(|k| !tr.has(k)).collect();
    assert!(missing.is_empty(), "{missing:?}");
}

/// The engine's type of `like`, read from its serde name: the matching engine's vocabularies
/// reach this crate only as values of the app's types, never by name.
fn same_type<T: serde::de::DeserializeOwned>(_like: &T, name: &str) -> T {
    serde_json::from_value(serde_json::Value::String(name.to_owned()))
        .unwrap_or_else(|e| panic!("{name:?} is not a value of the engine's vocabulary: {e}"))
}

/// The patient index pages translate every field, level, band, rule, link method, operation,
/// ID status, missing-ID reason and registration warning.
#[test]
fn every_patient_index_value_has_a_label() {
    let mut keys: Vec<String> = Vec::new();
    let config = yigong_app::mpi::default_config();
    let some_field = &config.fields[0];
    for name in super::super::mpi_labels::FIELDS {
        let _ = same_type(&some_field.field, name);
        keys.push(format!("mpi.field.{name}"));
    }
    let comparators =
        ["exact", "jaro_winkler", "levenshtein", "date", "id_number", "chinese_name", "jaro_winkler_swap"];
    for name in comparators {
        let comparator = same_type(&some_field.comparator, name);
        keys.extend(comparator.level_names().iter().map(|l| format!("mpi.level.{l}")));
    }
    for f in &config.fields {
        keys.push(format!("mpi.field.{}", f.field.as_str()));
        keys.extend(f.comparator.level_names().iter().map(|l| format!("mpi.level.{l}")));
    }
    keys.push("mpi.level.missing".into());
    keys.extend(["auto_link", "review", "no_link"].iter().map(|b| format!("mpi.band.{b}")));
    keys.extend(["different_valid_ids", "different_id_sex", "twins"].iter().map(|r| format!("mpi.rule.{r}")));
    keys.extend(yigong_store::mpi::LinkMethod::ALL.iter().map(|m| format!("mpi.method.{}", m.as_str())));
    keys.extend(["merge", "unmerge", "link", "unlink"].iter().map(|o| format!("mpi.operation.{o}")));
    keys.extend(NoIdReason::ALL.iter().map(|r| format!("no_id_reason.{}", r.as_str())));
    keys.extend(RegistrationWarning::ALL.iter().map(|w| format!("patient.warning.{}", w.as_str())));
    let errors = [
        ResidentIdError::Length,
        ResidentIdError::Character,
        ResidentIdError::BirthDate,
        ResidentIdError::FutureBirthDate,
        ResidentIdError::CheckDigit,
    ];
    keys.extend(errors.iter().map(|e| format!("person.id_status.{}", e.warning_code())));
    keys.extend(["valid", "derived_from_15"].iter().map(|s| format!("person.id_status.{s}")));
    keys.extend(["merged", "unlinked", "undone", "decided"].iter().map(|d| format!("person.done.{d}")));
    keys.push("review.done_different".into());
    for lang in [Lang::ZhCn, Lang::En] {
        let tr = Tr { lang };
        let missing: Vec<_> = keys.iter().filter(|k| !tr.has(k)).collect();
        assert!(missing.is_empty(), "{lang:?}: {missing:?}");
    }
}

#[test]
fn dates_and_numbers_the_local_way() {
    let zh = Tr { lang: Lang::ZhCn };
    let en = Tr { lang: Lang::En };
    let d = NaiveDate::from_ymd_opt(2026, 3, 5).unwrap();
    assert_eq!(zh.date(d), "2026年3月5日");
    assert_eq!(en.date(d), "2026-03-05");
    assert_eq!(zh.number(1234567), "1,234,567");
    assert_eq!(zh.number(-999), "-999");
    let t = DateTime::parse_from_rfc3339("2026-03-05T16:30:00Z").unwrap().to_utc();
    assert_eq!(zh.datetime(t), "2026年3月6日 00:30:00");
    assert_eq!(zh.fmt("home.greeting", &[("name", "林晓")]), "您好，林晓");
    assert_eq!(Lang::from_tag("en-US"), Lang::En);
    assert_eq!(Lang::from_tag("zh-TW"), Lang::ZhCn);
}
