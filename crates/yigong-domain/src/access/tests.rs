use std::collections::BTreeSet;

use chrono::{NaiveDate, TimeZone, Utc};
use uuid::Uuid;

use super::*;
use crate::ids::{ConsortiumId, InstitutionId, PostingId, StaffId};
use crate::staffing::{Posting, PostingSource};

struct World {
    consortium: ConsortiumId,
    other_consortium: ConsortiumId,
    township: InstitutionId,
    village: InstitutionId,
    county_hospital: InstitutionId,
}

fn world() -> World {
    World {
        consortium: ConsortiumId::new_v7(),
        other_consortium: ConsortiumId::new_v7(),
        township: InstitutionId::new_v7(),
        village: InstitutionId::new_v7(),
        county_hospital: InstitutionId::new_v7(),
    }
}

fn actor(w: &World, role: Role, scope: Scope) -> Actor {
    Actor {
        user_id: Uuid::nil(),
        staff_id: Some(StaffId::new_v7()),
        consortium_id: w.consortium,
        role,
        institution_id: Some(w.township),
        scope_kind: default_scope(role),
        scope,
        grants: vec![],
        request_id: None,
    }
}

fn now() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 5, 1, 2, 0, 0).unwrap()
}

fn check(a: &Actor, p: Permission, t: Target, expect: Result<&str, &str>) {
    let got = decide(a, p, &t, now()).map(Basis::as_str).map_err(Denial::code);
    assert_eq!(got, expect, "{:?} {:?} on {:?}", a.role, p, t);
}

#[test]
fn township_group_reaches_its_villages_not_the_county() {
    let w = world();
    let a = actor(&w, Role::TownshipDoctor, Scope::Institutions(BTreeSet::from([w.township, w.village])));
    check(&a, Permission::PatientRead, Target::institution(w.consortium, w.village), Ok("own_institution"));
    check(
        &a,
        Permission::PatientRead,
        Target::institution(w.consortium, w.county_hospital),
        Err("out_of_scope"),
    );
    check(
        &a,
        Permission::PatientRead,
        Target::institution(w.other_consortium, w.village),
        Err("out_of_scope"),
    );
}

#[test]
fn roles_without_permission_are_refused_before_scope() {
    let w = world();
    let admin = actor(&w, Role::SystemAdmin, Scope::Consortium);
    check(&admin, Permission::PatientRead, Target::institution(w.consortium, w.village), Err("forbidden"));
    check(&admin, Permission::UserAdmin, Target::consortium(w.consortium), Ok("administration"));
    let pharmacist = actor(&w, Role::Pharmacist, Scope::Consortium);
    check(&pharmacist, Permission::StaffWrite, Target::consortium(w.consortium), Err("forbidden"));
}

#[test]
fn institution_admin_writes_only_its_own_institution() {
    let w = world();
    let a = actor(&w, Role::InstitutionAdmin, Scope::Institutions(BTreeSet::from([w.township])));
    check(&a, Permission::StaffWrite, Target::institution(w.consortium, w.township), Ok("administration"));
    check(&a, Permission::StaffWrite, Target::institution(w.consortium, w.village), Err("out_of_scope"));
    // Consortium-level writes need a consortium scope; reads do not.
    check(&a, Permission::RegistryWrite, Target::consortium(w.consortium), Err("out_of_scope"));
    check(&a, Permission::RegistryRead, Target::consortium(w.consortium), Ok("administration"));
}

#[test]
fn county_scope_spans_the_county_consortia() {
    let w = world();
    let a = actor(&w, Role::HealthBureau, Scope::County(BTreeSet::from([w.consortium, w.other_consortium])));
    check(&a, Permission::AuditRead, Target::consortium(w.other_consortium), Ok("jurisdiction"));
    check(&a, Permission::AuditRead, Target::consortium(ConsortiumId::new_v7()), Err("out_of_scope"));
    check(&a, Permission::PatientRead, Target::institution(w.consortium, w.village), Err("forbidden"));
}

#[test]
fn dispatch_posting_opens_the_host_for_its_days_only() {
    let w = world();
    let mut a = actor(&w, Role::CountySpecialist, Scope::Institutions(BTreeSet::from([w.county_hospital])));
    let posting = Posting {
        id: PostingId::new_v7(),
        consortium_id: w.consortium,
        staff_id: a.staff_id.unwrap(),
        institution_id: w.township,
        department_id: None,
        position: None,
        source: PostingSource::Dispatch,
        valid_from: NaiveDate::from_ymd_opt(2026, 3, 1).unwrap(),
        valid_to: Some(NaiveDate::from_ymd_opt(2026, 4, 30).unwrap()),
        created_at: now(),
    };
    a.grants.push(dispatch_grant(&posting).unwrap());
    let host = Target::institution(w.consortium, w.township);
    // 2026-04-30 23:30 China time is still inside; 2026-05-01 00:30 China time is not.
    let last_evening = Utc.with_ymd_and_hms(2026, 4, 30, 15, 30, 0).unwrap();
    let next_morning = Utc.with_ymd_and_hms(2026, 4, 30, 16, 30, 0).unwrap();
    assert_eq!(decide(&a, Permission::PatientRead, &host, last_evening), Ok(Basis::Dispatch));
    assert_eq!(decide(&a, Permission::PatientRead, &host, next_morning), Err(Denial::OutOfScope));
    // An employment posting grants nothing beyond scope.
    let employment = Posting { source: PostingSource::Employment, ..posting };
    assert!(dispatch_grant(&employment).is_none());
}

#[test]
fn break_glass_opens_one_patient_for_four_hours() {
    let w = world();
    let mut a = actor(&w, Role::VillageDoctor, Scope::Institutions(BTreeSet::from([w.village])));
    let patient = Uuid::now_v7();
    a.grants.push(break_glass(patient, now(), Uuid::now_v7()));
    let target = Target {
        consortium_id: w.consortium,
        institution_id: Some(w.county_hospital),
        patient: Some(patient),
    };
    assert_eq!(decide(&a, Permission::PatientRead, &target, now()), Ok(Basis::BreakGlass));
    let other = Target { patient: Some(Uuid::now_v7()), ..target };
    assert_eq!(decide(&a, Permission::PatientRead, &other, now()), Err(Denial::OutOfScope));
    let later = now() + chrono::Duration::hours(4);
    assert_eq!(decide(&a, Permission::PatientRead, &target, later), Err(Denial::OutOfScope));
}

#[test]
fn every_role_has_a_default_scope_and_reads_the_registry() {
    for role in Role::ALL {
        let _ = default_scope(*role);
        assert!(role_permits(*role, Permission::RegistryRead), "{role:?}");
    }
}
