use std::collections::BTreeSet;

use yigong_app::referral::Tab;
use yigong_domain::referral::green::{Centre, Milestone, StampSource};
use yigong_domain::referral::metrics::Measure;
use yigong_domain::referral::{
    CancelReason, CertificateClass, Direction, DownReason, Escalation, NoDownReason, Outcome, Party,
    Priority, RejectReason, State, Transition, UpReason,
};

use super::super::i18n::{ZH_CN, parse};
use super::super::{Lang, Tr};

/// The literal keys of the files of this module (the shared test reads `src/ui` only, not
/// its subdirectories).
#[test]
fn every_key_used_in_the_referral_pages_exists() {
    let zh = parse(ZH_CN);
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut missing = BTreeSet::new();
    let mut seen = 0;
    for entry in std::fs::read_dir(root.join("src/ui/referral")).unwrap() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        for pattern in ["t.get(\"", "t.fmt(\"", "\"referral."] {
            for (i, _) in text.match_indices(pattern) {
                let rest = &text[i + pattern.len()..];
                let end = rest.find('"').unwrap();
                let key = if pattern.starts_with('"') {
                    format!("referral.{}", &rest[..end])
                } else {
                    rest[..end].to_owned()
                };
                // Keys built from a code (`referral.state.{}`) are checked below.
                if key.ends_with('.') || key.contains('{') {
                    continue;
                }
                seen += 1;
                if !zh.contains_key(&key) {
                    missing.insert(key);
                }
            }
        }
    }
    assert!(seen > 100, "the scan found the keys ({seen})");
    assert!(missing.is_empty(), "keys used but not in the catalogue: {missing:?}");
}

/// Every value of the referral vocabularies has a label in both languages.
#[test]
fn every_referral_vocabulary_value_has_a_label() {
    let mut keys: Vec<String> = Vec::new();
    let mut add =
        |group: &str, codes: Vec<&str>| keys.extend(codes.iter().map(|c| format!("referral.{group}.{c}")));
    add("state", State::ALL.iter().map(|v| v.as_str()).collect());
    add("priority", Priority::ALL.iter().map(|v| v.as_str()).collect());
    add("direction", Direction::ALL.iter().map(|v| v.as_str()).collect());
    add("transition", Transition::ALL.iter().map(|v| v.as_str()).collect());
    add("party", Party::ALL.iter().map(|v| v.as_str()).collect());
    add("up_reason", UpReason::ALL.iter().map(|v| v.as_str()).collect());
    add("down_reason", DownReason::ALL.iter().map(|v| v.as_str()).collect());
    add("outcome", Outcome::ALL.iter().map(|v| v.as_str()).collect());
    add("no_down", NoDownReason::ALL.iter().map(|v| v.as_str()).collect());
    add("cancel", CancelReason::ALL.iter().map(|v| v.as_str()).collect());
    add("reject", RejectReason::ALL.iter().map(|v| v.as_str()).collect());
    add("escalation", Escalation::ALL.iter().map(|v| v.as_str()).collect());
    add("certificate", CertificateClass::ALL.iter().map(|v| v.as_str()).collect());
    add("centre", Centre::ALL.iter().map(|v| v.as_str()).collect());
    add("milestone", Milestone::ALL.iter().map(|v| v.as_str()).collect());
    add("source", StampSource::ALL.iter().map(|v| v.as_str()).collect());
    add("measure", Measure::ALL.iter().map(|v| v.as_str()).collect());
    add("tab", Tab::ALL.iter().map(|v| v.as_str()).collect());
    add("group", vec!["month", "receiving", "sending"]);
    add("follow_up_state", vec!["open", "done"]);
    let metrics: Vec<&str> = Centre::ALL.iter().flat_map(|c| c.metrics().iter().map(|m| m.code)).collect();
    add("metric", metrics);
    let mut notify: Vec<String> =
        Transition::ALL.iter().map(|t| format!("referral_{}", t.as_str())).collect();
    notify.extend(["green_page", "referral_received", "referral_accepted"].map(str::to_owned));
    notify.extend(yigong_app::referral::REMINDER_KINDS.iter().map(|k| (*k).to_owned()));
    add("notify", notify.iter().map(String::as_str).collect());
    add(
        "done",
        Transition::ALL
            .iter()
            .map(|v| v.as_str())
            .chain(["stamp", "saved", "submitted", "follow_up", "read"])
            .collect(),
    );
    let error_codes = [
        "referral_live_exists",
        "invalid_transition",
        "wrong_party",
        "not_due",
        "follow_up_not_open",
        "referral_stale",
        "consent_required",
        "direction_mismatch",
        "icd10_invalid",
        "diagnosis_name_required",
        "test_incomplete",
        "green_downward",
        "green_centre_invalid",
        "reason_invalid",
        "out_of_network",
        "out_of_network_target",
        "lateral_downward",
        "certificate_class_invalid",
        "department_not_of_institution",
        "parent_mismatch",
        "not_a_member",
        "milestone_not_in_chain",
        "in_future",
        "datetime_invalid",
        "date_invalid",
        "outcome_invalid",
        "not_green",
        "month_invalid",
        "before_from",
        "period_too_long",
        "direction_invalid",
        "priority_invalid",
    ];
    keys.extend(error_codes.iter().map(|c| format!("referral.error.{c}")));
    for lang in [Lang::ZhCn, Lang::En] {
        let tr = Tr { lang };
        let missing: Vec<_> = keys.iter().filter(|k| !tr.has(k)).collect();
        assert!(missing.is_empty(), "{lang:?}: {missing:?}");
    }
}

#[test]
fn datetime_local_round_trips_in_china_time() {
    let at = super::parse_local("2026-03-05T08:30").unwrap();
    assert_eq!(at.to_rfc3339(), "2026-03-05T00:30:00+00:00");
    assert_eq!(super::local_input(at), "2026-03-05T08:30");
    assert!(super::parse_local("05/03/2026").is_none());
    let today = chrono::NaiveDate::from_ymd_opt(2026, 3, 5).unwrap();
    assert_eq!(super::age(Some("1962-05-17"), today), Some(63));
    assert_eq!(super::age(Some("1962-03-05"), today), Some(64));
    assert_eq!(super::percent(None), "—");
    assert_eq!(super::percent(Some(87.5)), "87.5%");
}
