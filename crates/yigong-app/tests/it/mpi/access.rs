//! Who may register, read and keep the index, and the audit rows of allowed reads and of
//! refusals (DESIGN §5).

use yigong_app::AppError;
use yigong_app::mpi::{self, Decision, RegistrarChoice};
use yigong_domain::access::Basis;
use yigong_domain::ids::{MpiOperationId, PatientRecordId};
use yigong_domain::page::PageRequest;
use yigong_testkit::Backend;

use super::synth::Resident;
use super::{Fixture, assert_forbidden, on_both};

on_both!(
    register_needs_patient_write,
    refusal_without_an_acting_institution_is_audited,
    only_stewards_keep_the_index,
    clinicians_read_persons_within_reach,
    refused_read_names_the_patient,
    record_person_is_authorised,
    registrations_after_an_import_under_the_institution_code_stay_readable,
);

/// Roles without `patient_write` cannot register; each refusal is an audit row and nothing is
/// written.
async fn register_needs_patient_write(backend: Backend) {
    let Some(f) = Fixture::new(backend).await else { return };
    let draft = Resident::new("韩建国", true, (1962, 4, 18), 451, "13900001111").draft(None);
    for (role, institution) in [("pharmacist", f.hospital), ("institution_admin", f.township)] {
        let actor = f.actor(role, Some(institution)).await;
        assert_forbidden(f.register(&actor, &draft, RegistrarChoice::Automatic).await, "forbidden");
        let rows = f.audit_of(actor.user_id).await;
        let denied: Vec<_> = rows.iter().filter(|r| r.outcome == "denied").collect();
        assert_eq!(denied.len(), 1, "{role}: {rows:?}");
        assert_eq!((denied[0].action.as_str(), denied[0].resource_type.as_str()), ("create", "mpi_record"));
        assert_eq!(denied[0].actor_role.as_deref(), Some(role));
        assert_eq!(denied[0].basis, "none");
        assert!(
            denied[0].detail.as_deref().unwrap_or("").contains("patient_write"),
            "{:?}",
            denied[0].detail
        );
    }
    assert_eq!(f.records().await, 0);

    // And the clinician who may: the write commits with its audit row, naming the person.
    let doctor = f.actor("township_doctor", Some(f.township)).await;
    let done = f.register(&doctor, &draft, RegistrarChoice::Automatic).await.unwrap();
    let rows = f.audit_of(doctor.user_id).await;
    let created = rows.iter().find(|r| r.action == "create" && r.resource_type == "mpi_record").unwrap();
    assert_eq!(created.outcome, "allowed");
    assert_eq!(created.resource_id.as_deref(), Some(done.record_id.to_string().as_str()));
    assert_eq!(created.patient_id, Some(done.person_id.as_uuid()));
    assert_eq!(created.basis, "own_institution");
    assert_eq!(created.institution_id, Some(f.township.as_uuid()));
}

/// Regression: refused for want of an acting institution, the refusal should still
/// be audited. A pharmacist without one is (no `patient_write`, so `authorize` refuses and
/// audits); a reader without one is not: `register` and `match_only` authorise against the
/// consortium, which a reader's consortium scope allows, then return
/// `Forbidden(no_acting_institution)` with no audit row.
async fn refusal_without_an_acting_institution_is_audited(backend: Backend) {
    let Some(f) = Fixture::new(backend).await else { return };
    let draft = Resident::new("韩建国", true, (1962, 4, 18), 451, "13900001111").draft(None);
    let query = mpi::MatchQuery { name: Some("韩建国".into()), ..Default::default() };
    for role in ["pharmacist", "reader"] {
        let actor = f.actor(role, None).await;
        let refused = f.register(&actor, &draft, RegistrarChoice::Automatic).await;
        assert!(matches!(refused, Err(AppError::Forbidden { .. })), "{role}: {refused:?}");
        let refused = mpi::match_only(&f.ctx, &actor, &query).await;
        assert!(matches!(refused, Err(AppError::Forbidden { .. })), "{role}: {refused:?}");
        let rows = f.audit_of(actor.user_id).await;
        let denied: Vec<_> =
            rows.iter().filter(|r| r.outcome == "denied").map(|r| r.action.as_str()).collect();
        assert_eq!(denied, ["create", "match"], "{role}: each refusal is audited: {rows:?}");
        assert!(rows.iter().all(|r| r.outcome == "denied"), "{role}: nothing allowed: {rows:?}");
    }
    assert_eq!(f.records().await, 0);
}

/// The queue, merges, links, unlinks, undos and decisions are the steward's (consortium
/// manager's) alone; everybody else is refused and audited, and nothing moves.
async fn only_stewards_keep_the_index(backend: Backend) {
    let Some(f) = Fixture::new(backend).await else { return };
    let doctor = f.actor("township_doctor", Some(f.township)).await;
    let specialist = f.actor("county_specialist", Some(f.hospital)).await;
    let han = Resident::new("韩建国", true, (1962, 4, 18), 451, "13900001111");
    let a = f.register(&doctor, &han.draft(None), RegistrarChoice::Automatic).await.unwrap();
    let b = f.register(&specialist, &han.draft(None), RegistrarChoice::NewPerson).await.unwrap();
    assert_ne!(a.person_id, b.person_id);

    let page = PageRequest { size: 50, after: None };
    let some_op = MpiOperationId::new_v7();
    let reason = Some("同一人");
    let institution_admin = f.actor("institution_admin", Some(f.township)).await;
    let pharmacist = f.actor("pharmacist", Some(f.hospital)).await;
    let system_admin = f.actor("system_admin", None).await;
    for actor in [&doctor, &specialist, &institution_admin, &pharmacist, &system_admin] {
        let ctx = &f.ctx;
        assert_forbidden(mpi::list_candidates(ctx, actor, "open", &page).await, "forbidden");
        assert_forbidden(mpi::get_candidate(ctx, actor, a.record_id, b.record_id).await, "forbidden");
        assert_forbidden(mpi::merge(ctx, actor, a.person_id, b.person_id, reason).await, "forbidden");
        assert_forbidden(mpi::undo(ctx, actor, some_op, reason).await, "forbidden");
        assert_forbidden(mpi::unlink_record(ctx, actor, a.record_id, reason).await, "forbidden");
        assert_forbidden(mpi::link_record(ctx, actor, b.record_id, a.person_id, reason).await, "forbidden");
        assert_forbidden(
            mpi::decide(ctx, actor, a.record_id, b.record_id, Decision::Same, reason).await,
            "forbidden",
        );
        let rows = f.audit_of(actor.user_id).await;
        let denied: Vec<_> =
            rows.iter().filter(|r| r.outcome == "denied").map(|r| r.action.as_str()).collect();
        assert_eq!(
            denied,
            ["search", "read", "merge", "undo", "unlink", "link", "decide"],
            "{:?}",
            actor.role
        );
    }
    assert_ne!(f.person_of(a.record_id).await, f.person_of(b.record_id).await, "nothing moved");

    // The steward may.
    let (queue, _) = mpi::list_candidates(&f.ctx, &f.steward, "open", &page).await.unwrap();
    assert!(!queue.items.is_empty());
    let op = mpi::merge(&f.ctx, &f.steward, a.person_id, b.person_id, reason).await.unwrap();
    assert_eq!(f.person_of(b.record_id).await, Some(a.person_id));
    mpi::undo(&f.ctx, &f.steward, op, reason).await.unwrap();
    assert_eq!(f.person_of(b.record_id).await, Some(b.person_id));
    let rows = f.audit_of(f.steward.user_id).await;
    let actions: Vec<_> = rows.iter().filter(|r| r.outcome == "allowed").map(|r| r.action.as_str()).collect();
    assert_eq!(actions, ["search", "merge", "unmerge"]);
    assert!(rows.iter().all(|r| r.basis == "jurisdiction"), "{rows:?}");
}

/// A village doctor reads a person with a record at their service point (basis
/// own_institution, audited with the person as patient), not one whose records are all at the
/// county hospital (refused out_of_scope, audited). The township doctor's group includes the
/// village; a pharmacist reads no patient.
async fn clinicians_read_persons_within_reach(backend: Backend) {
    let Some(f) = Fixture::new(backend).await else { return };
    let village_doctor = f.actor("village_doctor", Some(f.village)).await;
    let specialist = f.actor("county_specialist", Some(f.hospital)).await;
    let ours = f
        .register(
            &village_doctor,
            &Resident::new("韩建国", true, (1962, 4, 18), 451, "13900001111").draft(None),
            RegistrarChoice::Automatic,
        )
        .await
        .unwrap();
    let theirs = f
        .register(
            &specialist,
            &Resident::new("林秀英", false, (1985, 11, 3), 452, "13700002222").draft(None),
            RegistrarChoice::Automatic,
        )
        .await
        .unwrap();
    assert_ne!(ours.person_id, theirs.person_id);

    let view = mpi::get_person(&f.ctx, &village_doctor, ours.person_id).await.unwrap();
    assert_eq!(view.basis, Basis::OwnInstitution);
    assert_eq!(view.records.len(), 1);
    let rows = f.audit_of(village_doctor.user_id).await;
    let read = rows
        .iter()
        .find(|r| r.action == "read" && r.resource_type == "mpi_person")
        .expect("the read is audited");
    assert_eq!(read.outcome, "allowed");
    assert_eq!(read.patient_id, Some(ours.person_id.as_uuid()));
    assert_eq!(read.resource_id.as_deref(), Some(ours.person_id.to_string().as_str()));
    assert_eq!(read.basis, "own_institution");

    assert_forbidden(mpi::get_person(&f.ctx, &village_doctor, theirs.person_id).await, "out_of_scope");
    let rows = f.audit_of(village_doctor.user_id).await;
    let denied: Vec<_> = rows.iter().filter(|r| r.outcome == "denied").collect();
    assert_eq!(denied.len(), 1, "{rows:?}");
    assert_eq!((denied[0].action.as_str(), denied[0].resource_type.as_str()), ("read", "mpi_person"));
    assert_eq!(denied[0].resource_id.as_deref(), Some(theirs.person_id.to_string().as_str()));

    let township_doctor = f.actor("township_doctor", Some(f.township)).await;
    let view = mpi::get_person(&f.ctx, &township_doctor, ours.person_id).await.unwrap();
    assert_eq!(view.basis, Basis::OwnInstitution);
    assert_forbidden(mpi::get_person(&f.ctx, &township_doctor, theirs.person_id).await, "out_of_scope");
    let pharmacist = f.actor("pharmacist", Some(f.hospital)).await;
    assert_forbidden(mpi::get_person(&f.ctx, &pharmacist, theirs.person_id).await, "forbidden");
    let system_admin = f.actor("system_admin", None).await;
    assert_forbidden(mpi::get_person(&f.ctx, &system_admin, ours.person_id).await, "forbidden");
}

/// Regression: a refused read of a person is audited with the person as resource but
/// without `patient_id` (`view::person_basis` builds its event with `Event::on` only), so a
/// search of the trail by patient misses the attempts on that patient that were refused. The
/// allowed read and the registration do carry it.
async fn refused_read_names_the_patient(backend: Backend) {
    let Some(f) = Fixture::new(backend).await else { return };
    let village_doctor = f.actor("village_doctor", Some(f.village)).await;
    let specialist = f.actor("county_specialist", Some(f.hospital)).await;
    let theirs = f
        .register(
            &specialist,
            &Resident::new("林秀英", false, (1985, 11, 3), 452, "13700002222").draft(None),
            RegistrarChoice::Automatic,
        )
        .await
        .unwrap();
    assert_forbidden(mpi::get_person(&f.ctx, &village_doctor, theirs.person_id).await, "out_of_scope");
    let rows = f.audit_of(village_doctor.user_id).await;
    let denied: Vec<_> = rows.iter().filter(|r| r.outcome == "denied").collect();
    assert_eq!(denied.len(), 1, "{rows:?}");
    assert_eq!(
        denied[0].patient_id,
        Some(theirs.person_id.as_uuid()),
        "the refused attempt names its patient"
    );
}

/// Regression: `record_person` answers which person a record belongs to without
/// `authorize` and without an audit row, for any actor, even a pharmacist or one of another
/// institution; every other use case authorises first (ARCHITECTURE.md, yigong-app invariant).
async fn record_person_is_authorised(backend: Backend) {
    let Some(f) = Fixture::new(backend).await else { return };
    let specialist = f.actor("county_specialist", Some(f.hospital)).await;
    let theirs = f
        .register(
            &specialist,
            &Resident::new("林秀英", false, (1985, 11, 3), 452, "13700002222").draft(None),
            RegistrarChoice::Automatic,
        )
        .await
        .unwrap();
    let steward_sees = mpi::record_person(&f.ctx, &f.steward, theirs.record_id).await.unwrap();
    assert_eq!(steward_sees, theirs.person_id);
    assert!(matches!(
        mpi::record_person(&f.ctx, &f.steward, PatientRecordId::new_v7()).await,
        Err(AppError::NotFound { .. })
    ));
    let pharmacist = f.actor("pharmacist", Some(f.hospital)).await;
    let village_doctor = f.actor("village_doctor", Some(f.village)).await;
    for actor in [&pharmacist, &village_doctor] {
        let answer = mpi::record_person(&f.ctx, actor, theirs.record_id).await;
        assert!(matches!(answer, Err(AppError::Forbidden { .. })), "{:?} got {answer:?}", actor.role);
        assert!(
            f.audit_of(actor.user_id).await.iter().any(|r| r.outcome == "denied"),
            "{:?}: the refusal is audited",
            actor.role
        );
    }
}

/// Regression: `institution_source` reuses any source whose code equals the
/// institution's code. If the hospital's patient list was imported first under its code
/// (`import_rows(…, "H01", …)`, which creates the source without an institution), every later
/// registration at the hospital lands in that source with no institution, and the hospital's own
/// clinicians are refused (`out_of_scope`) the patients they have just registered.
async fn registrations_after_an_import_under_the_institution_code_stay_readable(backend: Backend) {
    let Some(f) = Fixture::new(backend).await else { return };
    let listed = Resident::new("郑晓燕", false, (1990, 2, 14), 453, "13600003333");
    f.import("H01", vec![listed.import_row(0, "HIS-000001".into())]).await;
    let specialist = f.actor("county_specialist", Some(f.hospital)).await;
    let registered = f
        .register(
            &specialist,
            &Resident::new("林秀英", false, (1985, 11, 3), 452, "13700002222").draft(None),
            RegistrarChoice::Automatic,
        )
        .await
        .unwrap();
    let view = mpi::get_person(&f.ctx, &f.steward, registered.person_id).await.unwrap();
    assert_eq!(view.records[0].institution_id, Some(f.hospital), "registered at the hospital");
    let read = mpi::get_person(&f.ctx, &specialist, registered.person_id).await;
    assert_eq!(read.map(|v| v.basis).ok(), Some(Basis::OwnInstitution));
}
