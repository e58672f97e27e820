//! Bulk loading and the matching run: idempotent imports, duplicates across sources linked,
//! a re-run that changes nothing, and matching without creating afterwards.

use yigong_app::mpi::{self, ImportReport, MatchQuery, Progress};
use yigong_testkit::Backend;

use super::synth::{self, Resident, homophone, resident_id};
use super::{Fixture, assert_forbidden, assert_invalid, on_both};

on_both!(imports_are_idempotent, rematch_links_duplicates_once, changed_row_is_found_by_its_new_values);

/// N rows insert N; the same rows again change nothing; a changed row is an update that keeps
/// its link; an import is all or nothing.
async fn imports_are_idempotent(backend: Backend) {
    let Some(f) = Fixture::new(backend).await else { return };
    let people = synth::population(3, 60);
    let mut rows: Vec<_> =
        people.iter().enumerate().map(|(i, r)| r.import_row(i, format!("GW{i}"))).collect();
    rows[5].values.resident_id = Some(synth::with_wrong_check(&people[5].id));

    let first = f.import("GW", rows.clone()).await;
    assert_eq!(first, ImportReport { inserted: 60, updated: 0, unchanged: 0, unverified_ids: 1 });
    assert_eq!(f.records().await, 60);
    let again = f.import("GW", rows.clone()).await;
    assert_eq!(again, ImportReport { inserted: 0, updated: 0, unchanged: 60, unverified_ids: 1 });
    assert_eq!(f.records().await, 60);

    let report = f.rematch().await;
    assert_eq!((report.records, report.unlinked, report.persons_created), (60, 60, 60), "{report:?}");
    let before = f.person_of_local("GW", "GW7").await;

    rows[7].values.phone = Some("13812345678".into());
    let changed = f.import("GW", rows.clone()).await;
    assert_eq!(changed, ImportReport { inserted: 0, updated: 1, unchanged: 59, unverified_ids: 1 });
    assert_eq!(f.records().await, 60);
    assert_eq!(f.person_of_local("GW", "GW7").await, before, "an update keeps the link");
    let report = f.rematch().await;
    assert_eq!((report.unlinked, report.persons_created), (0, 0));
    assert_eq!(f.person_of_local("GW", "GW7").await, before);

    // The same local id twice in one file: refused whole, nothing loaded.
    let extra = synth::population(4, 3);
    let mut bad: Vec<_> = extra.iter().enumerate().map(|(i, r)| r.import_row(i, format!("NEW{i}"))).collect();
    bad[2].local_id = "NEW0".into();
    let refused = mpi::import_rows(&f.ctx, f.consortium, "GW", bad, &Progress::none()).await;
    assert!(refused.is_err(), "{refused:?}");
    assert_eq!(f.records().await, 60, "all or nothing");
}

/// Two sources with known duplicates: the run links each duplicate to its original's person
/// and founds one person per resident; a second run creates nobody and queues nothing; then
/// matching without creating finds a person from a name typed with a homophone.
async fn rematch_links_duplicates_once(backend: Backend) {
    let Some(f) = Fixture::new(backend).await else { return };
    let (n, extra) = (300, 20);
    let (gw, report) = f.populate(11, n, extra).await;
    let duplicates = n / 4;
    let people = n + extra;
    assert_eq!(report.records, n + duplicates + extra);
    assert_eq!(report.unlinked, report.records);
    assert_eq!(report.persons_created, people, "one person per resident: {report:?}");
    assert_eq!(report.auto_linked, duplicates, "{report:?}");
    assert_eq!(f.linked_persons().await, people);
    // Duplicates with a homophone (0, 3, 33), without phone (0, 2, 6), in another village (0, 5, 10).
    for i in [0, 1, 2, 3, 5, 6, 10, 15, 30, 33, 74] {
        let original = f.person_of_local("GW", &format!("GW{i}")).await;
        assert_eq!(f.person_of_local("YB", &format!("YB{i}")).await, original, "duplicate {i}");
    }
    assert_ne!(f.person_of_local("GW", "GW0").await, f.person_of_local("GW", "GW1").await);
    assert_ne!(f.person_of_local("GW", "GW200").await, f.person_of_local("YB", "YBX0").await);
    let queue = f.open_pairs().await;
    assert_eq!(queue.len() as u64, report.queued);

    let again = f.rematch().await;
    assert_eq!(again.records, report.records);
    assert_eq!(
        (again.unlinked, again.persons_created, again.auto_linked, again.queued),
        (0, 0, 0, 0),
        "{again:?}"
    );
    assert_eq!(again.model_version, report.model_version, "same records, same model");
    assert_eq!(f.open_pairs().await, queue);
    assert_eq!(f.linked_persons().await, people);

    // Match without create: a typo in the name (homophone), nothing stored.
    let doctor = f.actor("township_doctor", Some(f.township)).await;
    let target = &gw[150];
    let records = f.records().await;
    let query = MatchQuery {
        name: Some(homophone(&target.name)),
        sex: Some(target.sex().into()),
        birth_date: Some(target.birth.format("%Y-%m-%d").to_string()),
        ..MatchQuery::default()
    };
    let matches = mpi::match_only(&f.ctx, &doctor, &query).await.unwrap();
    let expected = f.person_of_local("GW", "GW150").await;
    assert_eq!(
        matches.first().map(|m| m.person_id),
        Some(expected),
        "{:?}",
        matches.iter().map(|m| (m.person_id, m.result.score)).collect::<Vec<_>>()
    );
    assert_eq!(f.records().await, records, "matching stores no record");
    assert_eq!(f.linked_persons().await, people);
    let rows = f.audit_of(doctor.user_id).await;
    assert!(rows.iter().any(|r| r.action == "match" && r.outcome == "allowed"), "{rows:?}");

    assert_invalid(
        mpi::match_only(&f.ctx, &doctor, &MatchQuery::default()).await,
        "name",
        "match_needs_name_or_identifier",
    );
    let pharmacist = f.actor("pharmacist", Some(f.hospital)).await;
    assert_forbidden(mpi::match_only(&f.ctx, &pharmacist, &query).await, "forbidden");
}

/// Regression: a re-imported row whose birth date and resident ID were corrected keeps
/// only its old blocking keys (`import_rows` updates the values, `rematch` re-keys only unlinked
/// records), so a search by the corrected number does not find the person.
async fn changed_row_is_found_by_its_new_values(backend: Backend) {
    let Some(f) = Fixture::new(backend).await else { return };
    let (gw, _) = f.populate(12, 300, 20).await;
    let doctor = f.actor("township_doctor", Some(f.township)).await;
    let person = f.person_of_local("GW", "GW200").await;
    let by_old_id = MatchQuery { resident_id: Some(gw[200].id.clone()), ..MatchQuery::default() };
    let matches = mpi::match_only(&f.ctx, &doctor, &by_old_id).await.unwrap();
    assert_eq!(
        matches.first().map(|m| m.person_id),
        Some(person),
        "a search by number alone finds the person"
    );

    // The source corrects a mistyped birth date, and with it the ID number.
    let mut corrected: Resident = gw[200].clone();
    corrected.birth += chrono::Duration::days(40);
    corrected.id = resident_id(corrected.birth, corrected.male, 460);
    let report = f.import("GW", vec![corrected.import_row(200, "GW200".into())]).await;
    assert_eq!((report.updated, report.inserted), (1, 0));
    f.rematch().await;
    assert_eq!(f.person_of_local("GW", "GW200").await, person);

    let by_new_id = MatchQuery { resident_id: Some(corrected.id.clone()), ..MatchQuery::default() };
    let matches = mpi::match_only(&f.ctx, &doctor, &by_new_id).await.unwrap();
    assert_eq!(matches.first().map(|m| m.person_id), Some(person), "found by the corrected number");
}
