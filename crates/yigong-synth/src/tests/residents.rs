//! Residents: totals, ID numbers, records, households, names, ages and determinism.

use std::collections::{HashMap, HashSet};

use proptest::prelude::*;
use yigong_domain::facility::{InstitutionKind, Tier, validate_institution};
use yigong_domain::identity::{IdOrigin, ResidentId};
use yigong_domain::population::HealthRecord;

use super::{institution_draft, small, surname_of};
use crate::{SynthConfig, VillageResidents, organisation, residents};

fn all_records(villages: &[VillageResidents]) -> impl Iterator<Item = &HealthRecord> {
    villages.iter().flat_map(|v| &v.records)
}

#[test]
fn small_county_residents_are_valid_and_consistent() {
    let cfg = small();
    let org = organisation(&cfg);
    let villages: Vec<VillageResidents> = residents(&cfg, &org).collect();
    let total = all_records(&villages).count();
    assert!(total.abs_diff(2_000) <= 100, "{total} residents");

    let tiers: HashMap<_, _> = org.institutions.iter().map(|i| (i.id, i.kind)).collect();
    let mut record_nos = HashSet::new();
    let mut numbers = HashSet::new();
    for v in &villages {
        let households: HashSet<_> = v.households.iter().map(|h| h.id).collect();
        assert_eq!(households.len(), v.households.len());
        assert!(
            v.households.iter().all(|h| h.village_code.as_str() == v.village_code && !h.address.is_empty())
        );
        let mut heads = HashMap::new();
        for r in &v.records {
            assert!(record_nos.insert(r.record_no.clone()), "record_no {} repeated", r.record_no);
            assert_eq!((r.record_no.len(), &r.record_no[..12]), (17, v.village_code.as_str()));
            assert_eq!(r.village_code.as_str(), v.village_code);
            let household = r.household_id.expect("in a household");
            assert!(households.contains(&household));
            let relation = r.household_relation.as_deref().expect("relation");
            assert!(["02", "10", "20", "30", "38", "41", "42", "51", "52"].contains(&relation), "{relation}");
            // The head comes first in each household.
            let head = heads.entry(household).or_insert(relation == "02");
            assert!(*head, "household starts with its head");
            if let Some(id) = &r.resident_id {
                let parsed = ResidentId::parse(id.as_str(), cfg.today).expect("valid");
                assert_eq!((parsed.birth_date(), parsed.sex()), (r.birth_date, r.sex), "{}", r.record_no);
                assert_eq!(id.birth_date(), r.birth_date);
                assert!(numbers.insert(id.as_str().to_owned()), "ID number repeated");
            }
            if let Some(phone) = &r.phone {
                let b = phone.as_bytes();
                assert!(
                    b.len() == 11
                        && b[0] == b'1'
                        && (b'3'..=b'9').contains(&b[1])
                        && phone.bytes().all(|c| c.is_ascii_digit())
                );
            }
            let expected: &[Tier] = if v.village_code[9..] < *"200" {
                &[Tier::TownshipCentre, Tier::CommunityCentre]
            } else {
                &[Tier::VillageClinic, Tier::VillageServicePoint]
            };
            let InstitutionKind::Member(tier) = tiers[&r.managing_institution_id] else {
                panic!("an agency manages records")
            };
            assert!(expected.contains(&tier), "{} managed by a {tier:?}", r.record_no);
            assert!(!r.name.is_empty() && r.name.chars().count() <= 4);
            assert_eq!(r.created_at, cfg.created_at);
        }
    }
    // Staff and residents never share a number.
    for (s, _) in &org.staff {
        assert!(!numbers.contains(s.resident_id.as_ref().expect("id").as_str()));
    }
}

#[test]
fn same_config_same_residents() {
    let cfg = small();
    let org = organisation(&cfg);
    let a: Vec<_> = residents(&cfg, &org).collect();
    let b: Vec<_> = residents(&cfg, &org).collect();
    assert_eq!(a, b);
    assert_eq!(format!("{a:?}"), format!("{b:?}"), "byte for byte");
    let other = SynthConfig { seed: 7, ..cfg };
    let c: Vec<_> = residents(&other, &organisation(&other)).collect();
    assert_ne!(a[0].records[0].name, c[0].records[0].name);
}

/// Surnames, legacy numbers, babies and ages need a larger sample: the demo county.
#[test]
fn demo_county_names_ages_and_legacy_numbers() {
    let cfg = SynthConfig::demo();
    let org = organisation(&cfg);
    let (mut surnames, mut ages) = (HashMap::<String, usize>::new(), [0usize; 10]);
    let (mut total, mut legacy, mut babies, mut babies_without_id, mut foreign_area) = (0, 0, 0, 0, 0);
    for v in residents(&cfg, &org) {
        for r in &v.records {
            total += 1;
            *surnames.entry(surname_of(&r.name).to_owned()).or_default() += 1;
            let age = cfg.today.years_since(r.birth_date).expect("born");
            ages[(age as usize / 10).min(9)] += 1;
            if age == 0 {
                babies += 1;
                babies_without_id += usize::from(r.resident_id.is_none());
            }
            if let Some(id) = &r.resident_id {
                legacy += usize::from(id.origin() == IdOrigin::DerivedFrom15);
                foreign_area += usize::from(id.area_code() != "990121");
            }
        }
    }
    assert_eq!(total, 20_000);
    let mut ranked: Vec<_> = surnames.into_iter().collect();
    ranked.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let top3: HashSet<&str> = ranked[..3].iter().map(|(s, _)| s.as_str()).collect();
    assert_eq!(top3, HashSet::from(["王", "李", "张"]), "{:?}", &ranked[..6]);
    assert!(ranked.len() >= 100, "{} surnames", ranked.len());

    let share = |from: usize, to: usize| ages[from..to].iter().sum::<usize>() as f64 / total as f64;
    assert!((0.2..0.35).contains(&share(6, 10)), "60+ {:.3}", share(6, 10));
    assert!((0.1..0.25).contains(&share(0, 2)), "under 20 {:.3}", share(0, 2));
    assert!(share(2, 4) < share(4, 6), "fewer people in their 20s–30s than in their 40s–50s: {ages:?}");
    assert!(legacy > 0 && legacy < 200, "{legacy} legacy 15-digit numbers");
    assert!(
        babies > 0 && babies_without_id > 0 && babies_without_id < babies,
        "{babies_without_id}/{babies}"
    );
    assert!((0.01..0.1).contains(&(foreign_area as f64 / total as f64)), "{foreign_area} born elsewhere");
}

#[test]
fn numbers_round_trip_through_the_domain_parser() {
    use chrono::NaiveDate;
    use yigong_domain::identity::{Sex, check_char};

    use crate::idnum::{IdNumbers, RESIDENT_SEQUENCES, STAFF_SEQUENCES};
    use crate::rng::{rng, stream};

    let today = NaiveDate::from_ymd_opt(2026, 11, 1).unwrap();
    let birth = NaiveDate::from_ymd_opt(1949, 12, 31).unwrap();
    let (mut numbers, mut r) = (IdNumbers::new(today), rng(1, stream::GEOGRAPHY));
    let mut seen = HashSet::new();
    for k in 0..400 {
        let (sex, legacy) = (if k % 2 == 0 { Sex::Male } else { Sex::Female }, k % 3 == 0);
        let sequences = if k % 5 == 0 { STAFF_SEQUENCES } else { RESIDENT_SEQUENCES };
        let id = numbers.issue(&mut r, 0, birth, sex, sequences.clone(), legacy);
        let s = id.as_str();
        assert_eq!(s.chars().last(), Some(check_char(&s[..17])));
        assert_eq!((id.birth_date(), id.sex(), id.area_code()), (birth, sex, "990121"));
        let origin = if legacy { IdOrigin::DerivedFrom15 } else { IdOrigin::Entered18 };
        assert_eq!(id.origin(), origin);
        assert!(sequences.contains(&s[14..17].parse::<u16>().unwrap()));
        assert!(seen.insert(s.to_owned()), "unique per area and birth date");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 6, ..ProptestConfig::default() })]

    /// Any seed gives a valid organisation and valid residents.
    #[test]
    fn any_seed_is_valid(seed in any::<u64>()) {
        let cfg = SynthConfig { seed, residents: 300, ..SynthConfig::demo() };
        let org = organisation(&cfg);
        let ids: HashMap<_, _> = org.institutions.iter().map(|i| (i.id, i)).collect();
        for i in &org.institutions {
            let parent = i.parent_id.map(|p| ids[&p]);
            prop_assert!(validate_institution(&institution_draft(i), &org.consortium, parent).is_ok(), "{}", i.code);
        }
        let mut total = 0;
        for v in residents(&cfg, &org) {
            for r in &v.records {
                total += 1;
                if let Some(id) = &r.resident_id {
                    let parsed = ResidentId::parse(id.as_str(), cfg.today).expect("valid");
                    prop_assert_eq!((parsed.birth_date(), parsed.sex()), (r.birth_date, r.sex));
                }
            }
        }
        prop_assert_eq!(total, 300);
    }
}
