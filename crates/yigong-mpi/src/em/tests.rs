use super::*;
use crate::testing::record;

/// Sixty people with IDs, each registered a second time without ID, with a homophone name and
/// every other time a new phone, plus a stranger with an ID born the same day: EM must find
/// agreement likelier among matches.
fn population() -> Vec<Prepared> {
    let given = ["伟", "芳", "军", "丽", "强", "敏", "静", "磊"];
    let homophone = ["玮", "方", "君", "莉", "蔷", "民", "敬", "垒"];
    let surname = ["王", "李", "张", "刘", "陈"];
    let phone = |i: usize, salt: usize| {
        format!("1{}{:09}", 3 + (i + salt) % 6, (i * 7_919 + salt * 104_729) % 1_000_000_000)
    };
    let mut specs = Vec::new();
    for i in 0..60 {
        let (s, g) = (surname[i % 5], i % 8);
        let birth = format!("19{}-0{}-{}", 30 + i, 1 + i % 9, 10 + i % 18);
        let sex = 1 + i % 2;
        // A valid ID with an odd sequence for men, even for women.
        let id = |seq: usize| {
            let body = format!("990121{}{:03}", birth.replace('-', ""), seq + usize::from(sex == 1));
            format!("{body}{}", yigong_domain::identity::check_char(&body))
        };
        let village = format!("990121101{:03}", 201 + i % 4);
        let original = format!("name={s}{} sex={sex} birth={birth} village={village}", given[g]);
        specs.push(format!("{original} phone={} id={}", phone(i, 0), id(10)));
        let dup_phone = if i % 2 == 0 { phone(i, 0) } else { phone(i, 1) };
        specs.push(format!(
            "name={s}{} sex={sex} birth={birth} phone={dup_phone} village={village}",
            homophone[g]
        ));
        let other = format!("{}{}", surname[(i + 2) % 5], given[(g + 3) % 8]);
        let village = format!("990121101{:03}", 201 + (i + 1) % 4);
        specs.push(format!(
            "name={other} sex={sex} birth={birth} phone={} village={village} id={}",
            phone(i, 2),
            id(40)
        ));
    }
    specs.iter().map(|s| record(s)).collect()
}

fn estimated(anchor: bool) -> (Parameters, EmReport) {
    let records = population();
    let mut config = Config::default_chinese();
    config.em.anchor_on_resident_id = anchor;
    let blocked = crate::block::candidate_pairs(&config.blocking, &records).pairs;
    let random = sample_pairs(records.len(), 2_000, 42);
    estimate(&config, &records, &blocked, &random)
}

#[test]
fn name_agreement_weighs_for_a_match() {
    for anchor in [true, false] {
        let (parameters, report) = estimated(anchor);
        let name = &parameters.fields[0];
        assert_eq!(name.field, Field::Name);
        assert!(name.weight(Level::Observed(1)) > 0.0, "homophone weight {:?}", name);
        assert!(name.weight(Level::Observed(4)) < 0.0, "disagreement weight {:?}", name);
        assert!(report.converged && report.iterations <= 200, "{report:?}");
        assert!(parameters.lambda > 0.2 && parameters.lambda < 0.8, "λ = {}", parameters.lambda);
    }
}
#[test]
fn probabilities_sum_to_one() {
    let (parameters, _) = estimated(true);
    for f in &parameters.fields {
        for p in [&f.m, &f.u] {
            assert!((p.iter().sum::<f64>() - 1.0).abs() < 1e-9, "{f:?}");
            assert!(p.iter().all(|&x| x >= FLOOR * 0.5));
        }
    }
}
#[test]
fn same_input_same_version() {
    let (a, _) = estimated(true);
    let (b, _) = estimated(true);
    assert_eq!(a.version, b.version);
    assert!(a.version.starts_with("cn-default-1+em."), "{}", a.version);
}
#[test]
fn other_data_other_version() {
    let (a, _) = estimated(true);
    let records = population();
    let config = Config::default_chinese();
    let blocked = crate::block::candidate_pairs(&config.blocking, &records).pairs;
    let (b, _) = estimate(&config, &records, &blocked[1..], &sample_pairs(records.len(), 2_000, 42));
    assert_ne!(a.version, b.version);
}
#[test]
fn iteration_cap() {
    let records = population();
    let mut config = Config::default_chinese();
    config.em.max_iterations = 1;
    let blocked = crate::block::candidate_pairs(&config.blocking, &records).pairs;
    let (_, report) = estimate(&config, &records, &blocked, &[]);
    assert_eq!((report.iterations, report.converged), (1, false));
}
#[test]
fn no_pairs_keeps_the_start() {
    let config = Config::default_chinese();
    let (parameters, report) = estimate(&config, &[], &[], &[]);
    assert_eq!(report.iterations, 0);
    assert!((parameters.fields[1].m[0] - 0.9).abs() < 1e-9);
}
#[test]
fn missing_weighs_nothing() {
    let (parameters, _) = estimated(true);
    assert_eq!(parameters.fields[3].weight(Level::Missing), 0.0);
}
#[test]
fn sample_is_deterministic_and_distinct() {
    let a = sample_pairs(50, 200, 9);
    assert_eq!(a, sample_pairs(50, 200, 9));
    assert_ne!(a, sample_pairs(50, 200, 10));
    assert!(a.iter().all(|&(x, y)| x < y && y < 50));
    assert!(sample_pairs(1, 10, 9).is_empty());
}

/// A Latin-script configuration trained per pass, blocking on the names, the birth date and
/// the postcode.
const LATIN: &str = r#"
version = "latin-test"
[[fields]]
field = "given_name"
comparator = "jaro_winkler_swap"
[[fields]]
field = "family_name"
comparator = "jaro_winkler_swap"
[[fields]]
field = "postcode"
comparator = "levenshtein"
[[fields]]
field = "birth_date"
comparator = "date"
[blocking]
passes = [["given_name", "family_name"], ["birth_date"], ["postcode"]]
[thresholds]
upper = 15.0
lower = 5.0
[em]
anchor_on_resident_id = false
training = "per_pass"
"#;

/// Eighty people, each registered again with a typo in one name or the names swapped, and
/// strangers who share a common name but nothing else: the blocked non-matches agree on the
/// name.
fn latin_population() -> Vec<Prepared> {
    let given = ["jack", "olivia", "noah", "charlotte", "william", "amelia", "james", "isla", "lucas", "mia"];
    let family = ["smith", "jones", "williams", "brown", "wilson", "taylor", "nguyen", "johnson"];
    let mut specs = Vec::new();
    for i in 0..80 {
        let (g, f) = (given[i % given.len()], family[(i / 3) % family.len()]);
        let birth = format!("19{}-{:02}-{:02}", 20 + i % 70, 1 + i % 12, 1 + (i * 7) % 28);
        let postcode = 2000 + i * 37;
        specs.push(format!("given={g} family={f} birth={birth} postcode={postcode}"));
        let duplicate = match i % 3 {
            0 => format!("given={g}x family={f} birth={birth} postcode={postcode}"),
            1 => format!("given={f} family={g} birth={birth} postcode={}", postcode + 1),
            _ => format!("given={g} family={f} birth={birth} postcode={postcode}"),
        };
        specs.push(duplicate);
    }
    specs.iter().map(|s| record(s)).collect()
}

fn latin_estimated() -> (Parameters, EmReport) {
    let records = latin_population();
    let config = Config::from_toml(LATIN).unwrap();
    let blocked = crate::block::candidate_pairs(&config.blocking, &records).pairs;
    estimate(&config, &records, &blocked, &sample_pairs(records.len(), 2_000, 42))
}

#[test]
fn per_pass_agreement_weighs_more_than_disagreement() {
    let (parameters, report) = latin_estimated();
    assert!(report.converged, "{report:?}");
    for f in &parameters.fields {
        let last = Level::Observed((f.m.len() - 1) as u8);
        assert!(f.weight(Level::Observed(0)) > 3.0, "{f:?}");
        assert!(f.weight(Level::Observed(0)) > f.weight(last), "{f:?}");
        assert!(f.weight(last) < 0.0, "{f:?}");
    }
    // Names are agreed on by blocked strangers too, yet agreement still weighs more than a typo.
    let given = &parameters.fields[0];
    assert!(given.weight(Level::Observed(0)) > given.weight(Level::Observed(1)), "{given:?}");
    assert!(given.weight(Level::Observed(2)) > 0.0, "swapped names weigh for a match: {given:?}");
    assert!(parameters.lambda > 0.1 && parameters.lambda < 0.99, "λ = {}", parameters.lambda);
}
#[test]
fn per_pass_keeps_u_from_the_random_pairs() {
    let records = latin_population();
    let config = Config::from_toml(LATIN).unwrap();
    let random = sample_pairs(records.len(), 2_000, 42);
    let (parameters, _) = latin_estimated();
    let u = level_frequencies(&config, &records, &random);
    for (f, expected) in parameters.fields.iter().zip(u) {
        assert_eq!(f.u, expected, "{}", f.field.as_str());
    }
}
#[test]
fn per_pass_field_blocked_in_every_pass_keeps_its_start() {
    let records = latin_population();
    let mut config = Config::from_toml(LATIN).unwrap();
    config.blocking.passes = vec![vec![crate::BlockingKey::Postcode]];
    let blocked = crate::block::candidate_pairs(&config.blocking, &records).pairs;
    let (parameters, _) = estimate(&config, &records, &blocked, &sample_pairs(records.len(), 2_000, 42));
    let postcode = &parameters.fields[2];
    assert!((postcode.m[0] - 0.9).abs() < 1e-9, "{postcode:?}");
    assert!(parameters.fields[0].m[0] != 0.9);
}
