//! The organisation: validation of every record, counts, codes and determinism.

use std::collections::{HashMap, HashSet};

use yigong_domain::facility::{
    ConsortiumDraft, DepartmentDraft, DepartmentKind, InstitutionKind, Ownership, Service, Tier,
    valid_credit_code, validate_consortium, validate_department, validate_institution,
};
use yigong_domain::identity::{IdOrigin, ResidentId};
use yigong_domain::ids::InstitutionId;
use yigong_domain::population::Division;
use yigong_domain::staffing::{PostingSource, StaffCategory, TitleLevel};
use yigong_domain::{PostingDraft, validate_posting, validate_staff};

use super::{institution_draft, small, staff_draft};
use crate::{SynthConfig, organisation};

#[test]
fn consortium_and_every_institution_pass_validation_parents_first() {
    let cfg = small();
    let org = organisation(&cfg);
    let c = &org.consortium;
    let draft = ConsortiumDraft {
        name: c.name.clone(),
        county_code: c.county_code.as_str().into(),
        founded_on: Some(c.founded_on),
    };
    validate_consortium(&draft).expect("consortium is valid");
    assert_eq!(c.name, "青岚县医疗卫生共同体");
    assert_eq!(c.county_code.as_str(), "990121");

    let mut seen = HashMap::new();
    for i in &org.institutions {
        let parent =
            i.parent_id.map(|p| *seen.get(&p).unwrap_or_else(|| panic!("{}: parent listed later", i.code)));
        let new = validate_institution(&institution_draft(i), c, parent)
            .unwrap_or_else(|e| panic!("{} {}: {e}", i.code, i.name));
        assert_eq!(
            (new.code.as_str(), new.name.as_str(), new.kind, new.is_central, &new.division_code),
            (i.code.as_str(), i.name.as_str(), i.kind, i.is_central, &i.division_code)
        );
        assert_eq!(
            (&new.credit_code, new.ownership, &new.services, new.beds),
            (&i.credit_code, i.ownership, &i.services, i.beds)
        );
        assert_eq!((i.consortium_id, i.created_at, i.updated_at), (c.id, cfg.created_at, cfg.created_at));
        seen.insert(i.id, i);
    }
    let lead = seen[&c.lead_institution_id.expect("lead set")];
    assert_eq!(
        (lead.name.as_str(), lead.kind),
        ("青岚县人民医院", InstitutionKind::Member(Tier::CountyGeneral))
    );
    for s in [
        Service::ImagingCentre,
        Service::EcgCentre,
        Service::LabCentre,
        Service::PathologyCentre,
        Service::ReferralCentre,
    ] {
        assert!(lead.services.contains(&s), "lead offers {s:?}");
    }
}

#[test]
fn institution_counts_and_tiers() {
    let org = organisation(&small());
    let count = |tier| org.institutions.iter().filter(|i| i.kind == InstitutionKind::Member(tier)).count();
    let villages = org.divisions.iter().filter(|d| d.urban_rural_class.as_deref() == Some("220")).count();
    assert_eq!([count(Tier::CountyGeneral), count(Tier::CountyTcm), count(Tier::CountyMch)], [1, 1, 1]);
    assert_eq!(count(Tier::TownshipCentre), 18);
    assert_eq!(org.institutions.iter().filter(|i| i.is_central).count(), 3);
    assert_eq!((count(Tier::CommunityCentre), count(Tier::CommunityStation)), (2, 4));
    let points = count(Tier::VillageServicePoint);
    assert_eq!(points + count(Tier::VillageClinic), villages, "one site per village");
    assert!((0.5..0.7).contains(&(points as f64 / villages as f64)), "{points} service points of {villages}");
    assert_eq!(count(Tier::PrivateClinic), 6);
    let agencies: Vec<_> =
        org.institutions.iter().filter(|i| matches!(i.kind, InstitutionKind::Agency(_))).collect();
    assert_eq!(agencies.len(), 3);
    assert!(agencies.iter().all(|a| a.division_code.as_str() == "990121000000"));
    for i in &org.institutions {
        let private = i.kind == InstitutionKind::Member(Tier::PrivateClinic);
        assert_eq!(i.ownership == Ownership::Private, private, "{}", i.name);
        match i.kind.tier() {
            Some(Tier::VillageClinic | Tier::VillageServicePoint | Tier::CommunityStation) => {
                assert_eq!(i.beds, 0)
            }
            Some(Tier::TownshipCentre) => assert!((20..100).contains(&i.beds), "{} beds {}", i.name, i.beds),
            Some(t) if t.is_county_level() => assert!(i.beds >= 100),
            _ => {}
        }
    }
}

#[test]
fn codes_are_unique_and_credit_codes_well_formed() {
    let org = organisation(&small());
    let codes: HashSet<&str> = org.institutions.iter().map(|i| i.code.as_str()).collect();
    assert_eq!(codes.len(), org.institutions.len());
    let mut credit = HashSet::new();
    for i in &org.institutions {
        let tier = i.kind.tier();
        let own_legal_person =
            !matches!(tier, Some(Tier::VillageClinic | Tier::VillageServicePoint | Tier::CommunityStation));
        assert_eq!(i.credit_code.is_some(), own_legal_person, "{}", i.name);
        let Some(code) = &i.credit_code else { continue };
        assert!(valid_credit_code(code), "{} {code}", i.name);
        assert!(credit.insert(code.clone()), "duplicate {code}");
        assert_eq!(&code[2..8], "990121", "register authority is the county");
        let prefixes: &[&str] = if i.ownership == Ownership::Private { &["52", "91"] } else { &["11", "12"] };
        assert!(prefixes.contains(&&code[..2]), "{} {code}", i.name);
        if let Some(licence) = &i.licence_no {
            assert_eq!(
                (licence.len(), &licence[..9]),
                (22, &code[8..17]),
                "licence starts with the organisation code"
            );
        }
    }
    let staff_codes: HashSet<&str> = org.staff.iter().map(|(s, _)| s.code.as_str()).collect();
    assert_eq!(staff_codes.len(), org.staff.len());
}

#[test]
fn divisions_geography_and_populations() {
    let cfg = small();
    let org = organisation(&cfg);
    let by_level = |level| org.divisions.iter().filter(move |d| d.level == level);
    assert_eq!(
        by_level("province").map(|d| (d.code.as_str(), d.name.as_str())).collect::<Vec<_>>(),
        [("990000", "演示省")]
    );
    assert!(by_level("county").any(|d| d.code == "990121" && d.name == "青岚县"));
    let townships: Vec<_> = by_level("township").collect();
    assert_eq!(townships.len(), 20);
    assert_eq!(townships.iter().filter(|t| t.code[6..9] < *"100").count(), 2, "two sub-districts");
    assert!(townships.iter().all(|t| t.code.len() == 12 && t.parent_code.as_deref() == Some("990121")));
    let villages: Vec<_> = by_level("village").collect();
    let (rural, urban): (Vec<&Division>, Vec<&Division>) =
        villages.iter().partition(|v| v.urban_rural_class.as_deref() == Some("220"));
    assert!((300..=320).contains(&rural.len()), "{} villages", rural.len());
    assert!((18..=22).contains(&urban.len()), "{} committees", urban.len());
    assert!(rural.iter().all(|v| ("200".."400").contains(&&v.code[9..]) && v.name.ends_with("村委会")));
    assert!(urban.iter().all(|v| ("001".."200").contains(&&v.code[9..]) && v.name.ends_with("居委会")));
    assert!(urban.iter().all(|v| matches!(v.urban_rural_class.as_deref(), Some("111" | "121"))));
    let total: i64 = villages.iter().map(|v| v.population.expect("villages carry populations")).sum();
    assert_eq!(total, i64::from(cfg.residents));
    let mut names = HashSet::new();
    for d in &org.divisions {
        assert!(
            names.insert((d.parent_code.clone(), d.name.clone())),
            "{} repeated under its parent",
            d.name
        );
        if let Some(parent) = &d.parent_code {
            assert!(org.divisions.iter().any(|p| &p.code == parent), "{} has no parent row", d.code);
        }
    }
}

#[test]
fn departments_validate_and_suit_their_institution() {
    let org = organisation(&small());
    let mut per_institution: HashMap<InstitutionId, Vec<&str>> = HashMap::new();
    for d in &org.departments {
        let draft = DepartmentDraft {
            subject_code: d.subject_code.clone(),
            name: d.name.clone(),
            kind: d.kind.as_str().into(),
        };
        let new = validate_department(&draft).unwrap_or_else(|e| panic!("{}: {e}", d.name));
        assert_eq!(
            (new.subject_code, new.name.as_str(), new.kind),
            (d.subject_code.clone(), d.name.as_str(), d.kind)
        );
        per_institution.entry(d.institution_id).or_default().push(&d.name);
    }
    for i in &org.institutions {
        let names = per_institution.get(&i.id).map_or(&[][..], Vec::as_slice);
        assert_eq!(
            names.iter().collect::<HashSet<_>>().len(),
            names.len(),
            "{}: department names unique",
            i.name
        );
        let expected = match i.kind.tier() {
            Some(t) if t.is_county_level() => 14..=25,
            Some(Tier::TownshipCentre) => 6..=8,
            Some(Tier::CommunityCentre) => 5..=5,
            _ => 0..=1,
        };
        assert!(expected.contains(&names.len()), "{}: {} departments", i.name, names.len());
    }
    let lead = org.consortium.lead_institution_id.expect("lead");
    let reading = org
        .departments
        .iter()
        .filter(|d| d.institution_id == lead && d.kind == DepartmentKind::ReadingCentre);
    assert_eq!(reading.count(), 4);
}

#[test]
fn every_staff_member_passes_validation_with_a_consistent_title_history() {
    let cfg = small();
    let org = organisation(&cfg);
    let institutions: HashSet<InstitutionId> = org.institutions.iter().map(|i| i.id).collect();
    for (s, titles) in &org.staff {
        let registered_exists = s.registered_institution_id.is_some_and(|r| institutions.contains(&r));
        let new = validate_staff(
            &staff_draft(s, titles),
            institutions.contains(&s.employer_institution_id),
            registered_exists,
            cfg.today,
        )
        .unwrap_or_else(|e| panic!("{} {}: {e}", s.code, s.name));
        assert_eq!((new.name.as_str(), new.sex, new.category), (s.name.as_str(), s.sex, s.category));
        assert_eq!((new.title.level, &new.title.name), (s.title_level, &s.title_name));
        assert_eq!(new.resident_id, s.resident_id);

        let id = s.resident_id.as_ref().expect("staff have ID numbers");
        let again = ResidentId::parse(id.as_str(), cfg.today).expect("round trip");
        assert_eq!((again.as_str(), again.origin(), again.sex()), (id.as_str(), IdOrigin::Entered18, s.sex));
        let age = cfg.today.years_since(id.birth_date()).expect("born before today");
        assert!((24..=62).contains(&age), "{}: age {age}", s.code);

        assert!(titles.windows(2).all(|w| w[0].since < w[1].since), "{}: history oldest first", s.code);
        assert!(titles.iter().all(|t| t.since <= cfg.today));
        let latest = titles.last();
        assert_eq!(
            (s.title_level, s.title_name.clone()),
            (latest.and_then(|t| t.level), latest.and_then(|t| t.name.clone()))
        );
        if matches!(s.category, StaffCategory::Physician | StaffCategory::AssistantPhysician) {
            assert!(
                s.practice_category.is_some()
                    && s.practice_scope.is_some()
                    && s.practice_certificate_no.is_some()
            );
        }
    }
}

#[test]
fn staff_counts_categories_and_titles() {
    let org = organisation(&small());
    let total = org.staff.len();
    assert!((2_700..=3_100).contains(&total), "{total} staff");
    let of = |c| org.staff.iter().filter(|(s, _)| s.category == c).count();
    let share = |c| of(c) as f64 / total as f64;
    assert!(
        (0.25..0.4).contains(&share(StaffCategory::Physician)),
        "physicians {}",
        share(StaffCategory::Physician)
    );
    assert!((0.3..0.45).contains(&share(StaffCategory::Nurse)), "nurses {}", share(StaffCategory::Nurse));
    assert!(of(StaffCategory::VillageDoctor) >= 250);
    let titled = org.staff.iter().filter(|(_, t)| !t.is_empty());
    let unknown = titled.clone().filter(|(s, _)| s.title_level.is_none()).count();
    let unknown_share = unknown as f64 / titled.count() as f64;
    assert!((0.005..0.03).contains(&unknown_share), "unknown titles {unknown_share}");
    // Each title name belongs to one level; all four physician levels occur.
    for (s, _) in &org.staff {
        if let (Some(level), Some(name)) = (s.title_level, &s.title_name) {
            let expected = if name.starts_with("主任") {
                TitleLevel::Senior
            } else if name.starts_with("副主任") || name.starts_with("高级") {
                TitleLevel::AssociateSenior
            } else if name.starts_with("主治") || name.starts_with("主管") || name == "经济师" {
                TitleLevel::Intermediate
            } else {
                TitleLevel::Junior
            };
            assert_eq!(level, expected, "{name}");
        }
    }
    for level in TitleLevel::ALL {
        assert!(
            org.staff
                .iter()
                .any(|(s, _)| s.category == StaffCategory::Physician && s.title_level == Some(*level))
        );
    }
    // Village sites have one or two people, mostly village doctors.
    for i in org
        .institutions
        .iter()
        .filter(|i| matches!(i.kind.tier(), Some(Tier::VillageClinic | Tier::VillageServicePoint)))
    {
        let n = org.staff.iter().filter(|(s, _)| s.employer_institution_id == i.id).count();
        assert!((1..=2).contains(&n), "{}: {n} staff", i.name);
    }
}

#[test]
fn every_posting_passes_validation_and_each_staff_member_has_one_employment() {
    let org = organisation(&small());
    let institutions: HashMap<InstitutionId, _> = org.institutions.iter().map(|i| (i.id, i)).collect();
    let departments: HashMap<_, _> = org.departments.iter().map(|d| (d.id, d.institution_id)).collect();
    let mut employment = HashMap::new();
    for p in &org.postings {
        let draft = PostingDraft {
            institution_id: Some(p.institution_id),
            department_id: p.department_id,
            position: p.position.clone(),
            source: Some(p.source.as_str().into()),
            valid_from: Some(p.valid_from),
            valid_to: p.valid_to,
        };
        let dept_owner = p.department_id.and_then(|d| departments.get(&d).copied());
        validate_posting(&draft, institutions.get(&p.institution_id).copied(), dept_owner)
            .unwrap_or_else(|e| panic!("posting of {}: {e}", p.staff_id));
        if p.source == PostingSource::Employment {
            *employment.entry(p.staff_id).or_insert(0) += 1;
        }
    }
    for (s, _) in &org.staff {
        assert_eq!(employment.get(&s.id), Some(&1), "{}", s.code);
        let job = org
            .postings
            .iter()
            .find(|p| p.staff_id == s.id && p.source == PostingSource::Employment)
            .expect("posting");
        assert_eq!(job.institution_id, s.employer_institution_id);
        let has_departments = org.departments.iter().any(|d| d.institution_id == s.employer_institution_id);
        if has_departments {
            assert!(job.department_id.is_some(), "{} works in a department", s.code);
        }
    }
}

#[test]
fn same_config_same_organisation_other_seed_other_one() {
    let cfg = small();
    let a = organisation(&cfg);
    assert_eq!(a, organisation(&cfg));
    assert_eq!(format!("{a:?}"), format!("{:?}", organisation(&cfg)), "byte for byte");
    let b = organisation(&SynthConfig { seed: cfg.seed + 1, ..cfg.clone() });
    assert_ne!(a.consortium.id, b.consortium.id);
    assert_ne!(a.staff[0].0.name, b.staff[0].0.name);
    // The organisation does not depend on the number of residents, apart from populations.
    let c = organisation(&SynthConfig { residents: 400_000, ..cfg });
    assert_eq!((&a.institutions, &a.staff, &a.postings), (&c.institutions, &c.staff, &c.postings));
}
