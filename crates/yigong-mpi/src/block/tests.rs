use super::*;
use crate::config::Config;
use crate::testing::record;

/// Blocks `records` with `passes` (keys joined by `+`, passes by `,`) and `max` records per
/// block; the expectation lists the pairs as `a-b`.
fn check(records: &[&str], passes: &str, max: usize, expect: &str) {
    let passes =
        passes.split(',').map(|p| p.split('+').map(|k| BlockingKey::parse(k).expect(k)).collect()).collect();
    let prepared: Vec<Prepared> = records.iter().map(|s| record(s)).collect();
    let blocking = candidate_pairs(&BlockingConfig { max_block_size: max, passes }, &prepared);
    let got: Vec<String> = blocking.pairs.iter().map(|(a, b)| format!("{a}-{b}")).collect();
    assert_eq!(got.join(" "), expect);
    assert_eq!(blocking.report.distinct_pairs, blocking.pairs.len());
}

const ZHANG: &str = "name=张伟 sex=男 birth=1980-01-02 phone=13800000001";
const ZHANG_TWIN: &str = "name=张伟 sex=男 birth=1980-01-02 phone=13800000002";
const WANG: &str = "name=王芳 sex=女 birth=1980-01-02 phone=13800000001";
const SHAN: &str = "name=单立新 birth=1970-05-06";
const SHAN_BY_EAR: &str = "name=善立新 birth=1970-07-08";

#[test]
fn birth_date_and_sex() {
    check(&[ZHANG, ZHANG_TWIN, WANG], "birth_date+sex", 2000, "0-1")
}
#[test]
fn mobile() {
    check(&[ZHANG, ZHANG_TWIN, WANG], "mobile", 2000, "0-2")
}
#[test]
fn union_deduplicated() {
    check(&[ZHANG, ZHANG_TWIN, WANG], "birth_date+sex,mobile,name_pinyin+birth_year", 2000, "0-1 0-2")
}
#[test]
fn every_reading_of_polyphonic_surname() {
    check(&[SHAN, SHAN_BY_EAR], "name_pinyin+birth_year", 2000, "0-1")
}
#[test]
fn missing_key_not_blocked() {
    check(&[SHAN, SHAN_BY_EAR], "mobile", 2000, "")
}
#[test]
fn id_encoded_birth_date_blocks_too() {
    check(
        &["name=王芳 birth=1949-12-13 id=11010519491231002X", "name=汪芳 sex=女 birth=1949-12-31"],
        "birth_date+sex",
        2000,
        "0-1",
    )
}
#[test]
fn surname_village_year() {
    check(
        &[
            "name=欧阳明 village=990121101201 birth=1990-01-01",
            "name=欧阳亮 village=990121101201 birth=1990-09-09",
            "name=欧明 village=990121101201 birth=1990-09-09",
        ],
        "village_code+surname_pinyin+birth_year",
        2000,
        "0-1",
    )
}
#[test]
fn oversized_block_split_by_birth_year() {
    check(
        &[
            "village=990121101201 birth=1990-01-01",
            "village=990121101201 birth=1990-02-01",
            "village=990121101201 birth=1991-01-01",
            "village=990121101201 birth=1991-03-01",
            "village=990121101201 birth=1992-01-01",
        ],
        "village_code",
        3,
        "0-1 2-3",
    )
}

#[test]
fn split_reported() {
    let records: Vec<Prepared> = (0..7)
        .map(|i| {
            record(&format!("village=990121101201 sex={} birth=19{}-01-01", 1 + (i / 2) % 2, 80 + i % 2))
        })
        .collect();
    let config = BlockingConfig {
        max_block_size: 3,
        passes: vec![vec![BlockingKey::VillageCode, BlockingKey::BirthYear]],
    };
    let blocking = candidate_pairs(&config, &records);
    let pass = &blocking.report.passes[0];
    assert_eq!((pass.records, pass.blocks, pass.largest_block), (7, 2, 4));
    // The block of four is split by sex (birth year is already a key): two blocks of two.
    let split = &pass.splits[0];
    assert_eq!(split.split_by, Some(BlockingKey::Sex));
    assert_eq!((split.size, split.sub_blocks, split.largest_sub_block, split.skipped_records), (4, 2, 2, 0));
    // 3 pairs from the block of three, 1 + 1 from the split one.
    assert_eq!(pass.pairs, 5);
}

#[test]
fn still_oversized_sub_block_skipped_and_reported() {
    let records: Vec<Prepared> = (0..5).map(|_| record("village=990121101201 birth=1980-01-01")).collect();
    let config = BlockingConfig { max_block_size: 2, passes: vec![vec![BlockingKey::VillageCode]] };
    let blocking = candidate_pairs(&config, &records);
    assert!(blocking.pairs.is_empty());
    assert_eq!(blocking.report.passes[0].splits[0].skipped_records, 5);
}

#[test]
fn default_passes_never_scan() {
    // Ten strangers with nothing in common produce no pair at all.
    let records: Vec<Prepared> = (0..10)
        .map(|i| {
            record(&format!(
                "name=甲{} birth=19{}-0{}-1{} phone=1380000000{i}",
                ["一", "二", "三", "四", "五", "六", "七", "八", "九", "十"][i],
                50 + i,
                1 + i % 9,
                i
            ))
        })
        .collect();
    let blocking = candidate_pairs(&Config::default_chinese().blocking, &records);
    assert_eq!(blocking.report.distinct_pairs, 0);
}

#[test]
fn either_name_pairs_swapped_names() {
    check(
        &[
            "given=jack family=ryan postcode=3156",
            "given=ryan family=jack postcode=3156",
            "given=ryan postcode=3000",
        ],
        "either_name+postcode",
        2000,
        "0-1",
    )
}
#[test]
fn latin_keys() {
    let records = [
        "given=Jack family=Ryan address=1_Pop_Place locality=Taigum postcode=3156 region=WA",
        "given=jack family=ryan address=1__pop_place locality=taigum postcode=3156 region=wa",
    ];
    for key in ["given_name", "family_name", "address", "locality", "postcode", "region"] {
        check(&records, key, 2000, "0-1")
    }
}

fn keys(spec: &str, passes: &[&[BlockingKey]]) -> Vec<i64> {
    let config = BlockingConfig { max_block_size: 2000, passes: passes.iter().map(|p| p.to_vec()).collect() };
    record_keys(&config, &record(spec))
}

#[test]
fn record_keys_are_stable() {
    // The keys are stored: a change here invalidates every stored index.
    use BlockingKey::*;
    assert_eq!(keys("given=jack family=ryan", &[&[GivenName, FamilyName]]), [KEY_JACK_RYAN]);
    assert_eq!(fnv1a(*b""), 0xcbf2_9ce4_8422_2325);
    assert_eq!(fnv1a(*b"a"), 0xaf63_dc4c_8601_ec8c);
}
/// FNV-1a 64 of pass position 0 (four bytes, little-endian) then `4:jack4:ryan`, computed
/// independently (Python).
const KEY_JACK_RYAN: i64 = 1_262_453_881_220_168_812;
#[test]
fn record_keys_one_per_value_combination() {
    use BlockingKey::*;
    // Two names × one postcode; the same values in another pass give other keys.
    let got =
        keys("given=jack family=ryan postcode=3156", &[&[EitherName, Postcode], &[EitherName, Postcode]]);
    assert_eq!(got.len(), 4);
    assert!(keys("given=jack", &[&[GivenName, Postcode]]).is_empty(), "no postcode, no key");
}
#[test]
fn record_keys_do_not_run_values_together() {
    use BlockingKey::*;
    let a = keys("given=ab family=c", &[&[GivenName, FamilyName]]);
    let b = keys("given=a family=bc", &[&[GivenName, FamilyName]]);
    assert_ne!(a, b);
}
#[test]
fn every_key_names_its_fields() {
    for key in BlockingKey::ALL {
        assert!(!key.fields().is_empty(), "{}", key.as_str());
    }
}
