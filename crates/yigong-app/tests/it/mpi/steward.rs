//! Steward operations (DESIGN §3.4): merge and unmerge, unlink and relink, review decisions;
//! reversible, audited, and never deleting a link.

use yigong_app::mpi::{self, Decision, Registered, RegistrarChoice};
use yigong_domain::ids::PersonId;
use yigong_testkit::Backend;

use super::synth::Resident;
use super::{Fixture, assert_conflict, assert_invalid, on_both, pair};

on_both!(
    merge_then_undo,
    merging_different_valid_ids_needs_a_reason,
    unlink_then_undo,
    review_decisions_hold_across_rematch,
);

fn han() -> Resident {
    Resident::new("韩建国", true, (1962, 4, 18), 451, "13900001111")
}

fn lin() -> Resident {
    Resident::new("林秀英", false, (1985, 11, 3), 452, "13700002222")
}

/// A populated index and one person, 韩建国, registered at the township centre and the
/// hospital (one person, two records), plus a third registration at the village that the
/// registrar kept apart (a second person).
struct Han {
    at_township: Registered,
    at_hospital: Registered,
    at_village: Registered,
}

async fn han_three_times(f: &Fixture) -> Han {
    f.populate(21, 300, 20).await;
    let doctor = f.actor("township_doctor", Some(f.township)).await;
    let specialist = f.actor("county_specialist", Some(f.hospital)).await;
    let village_doctor = f.actor("village_doctor", Some(f.village)).await;
    let at_township = f.register(&doctor, &han().draft(None), RegistrarChoice::Automatic).await.unwrap();
    let at_hospital = f.register(&specialist, &han().draft(None), RegistrarChoice::Automatic).await.unwrap();
    assert_eq!(at_hospital.person_id, at_township.person_id, "{:?}", at_hospital.matches);
    let at_village =
        f.register(&village_doctor, &han().draft(None), RegistrarChoice::NewPerson).await.unwrap();
    assert_ne!(at_village.person_id, at_township.person_id);
    Han { at_township, at_hospital, at_village }
}

async fn status(f: &Fixture, person: PersonId) -> (String, Option<PersonId>) {
    let view = mpi::get_person(&f.ctx, &f.steward, person).await.unwrap();
    (view.person.status, view.person.merged_into)
}

/// Merge moves every record of the absorbed person and retires it with a forward pointer;
/// undo brings them back and reactivates it; a second undo is refused; every link stays in
/// the history.
async fn merge_then_undo(backend: Backend) {
    let Some(f) = Fixture::new(backend).await else { return };
    let han = han_three_times(&f).await;
    let (survivor, absorbed) = (han.at_township.person_id, han.at_village.person_id);

    // Same valid ID on both sides: no reason needed.
    f.tick();
    let merge = mpi::merge(&f.ctx, &f.steward, survivor, absorbed, None).await.unwrap();
    let view = mpi::get_person(&f.ctx, &f.steward, survivor).await.unwrap();
    let mut records: Vec<_> = view.records.iter().map(|r| r.record.record_id).collect();
    records.sort();
    let mut all = vec![han.at_township.record_id, han.at_hospital.record_id, han.at_village.record_id];
    all.sort();
    assert_eq!(records, all);
    assert_eq!(status(&f, absorbed).await, ("merged".to_owned(), Some(survivor)));
    let gone = mpi::get_person(&f.ctx, &f.steward, absorbed).await.unwrap();
    assert!(gone.records.is_empty());
    assert_eq!(gone.operations.first().map(|o| o.operation_id), Some(merge));
    assert_conflict(mpi::merge(&f.ctx, &f.steward, survivor, absorbed, None).await, "mpi_person_merged");
    assert_conflict(mpi::merge(&f.ctx, &f.steward, survivor, survivor, None).await, "mpi_merge_same_person");

    assert_invalid(mpi::undo(&f.ctx, &f.steward, merge, None).await, "reason", "required");
    f.tick();
    let undo = mpi::undo(&f.ctx, &f.steward, merge, Some("两人同名同生日, 身份证号抄错")).await.unwrap();
    assert_eq!(status(&f, absorbed).await, ("active".to_owned(), None));
    assert_eq!(f.person_of(han.at_village.record_id).await, Some(absorbed));
    assert_eq!(f.person_of(han.at_hospital.record_id).await, Some(survivor));
    let view = mpi::get_person(&f.ctx, &f.steward, survivor).await.unwrap();
    assert_eq!(view.records.len(), 2);
    let ops: Vec<_> = view.operations.iter().map(|o| (o.kind.as_str(), o.undoes, o.undone_by)).collect();
    assert_eq!(ops, vec![("unmerge", Some(merge), None), ("merge", None, Some(undo))], "newest first");

    assert_conflict(
        mpi::undo(&f.ctx, &f.steward, merge, Some("again")).await,
        "mpi_operation_already_undone",
    );
    assert_eq!(f.person_of(han.at_village.record_id).await, Some(absorbed), "the refused undo moved nothing");

    // History: nothing deleted. The survivor keeps the closed merge link, the absorbed person
    // its closed founding link and the open unmerge link.
    let survivor_links = mpi::get_person(&f.ctx, &f.steward, survivor).await.unwrap().links;
    let summary: Vec<_> = survivor_links.iter().map(|l| (l.method.as_str(), l.valid_to.is_some())).collect();
    assert_eq!(summary, vec![("new", false), ("auto", false), ("merge", true)]);
    assert_eq!(survivor_links[2].operation_id, Some(merge));
    let absorbed_links = mpi::get_person(&f.ctx, &f.steward, absorbed).await.unwrap().links;
    let summary: Vec<_> = absorbed_links.iter().map(|l| (l.method.as_str(), l.valid_to.is_some())).collect();
    assert_eq!(summary, vec![("new", true), ("unmerge", false)]);
    assert!(absorbed_links.iter().all(|l| l.record_id == han.at_village.record_id));

    // A matching run respects the steward: the two persons stay apart.
    let report = f.rematch().await;
    assert_eq!((report.unlinked, report.persons_created), (0, 0));
    assert_eq!(f.person_of(han.at_village.record_id).await, Some(absorbed));
    assert_eq!(f.person_of(han.at_township.record_id).await, Some(survivor));
    assert_eq!(absorbed_links[1].reason.as_deref(), Some("两人同名同生日, 身份证号抄错"));
}

/// Two persons with different valid ID numbers merge only with a stated reason.
async fn merging_different_valid_ids_needs_a_reason(backend: Backend) {
    let Some(f) = Fixture::new(backend).await else { return };
    let doctor = f.actor("township_doctor", Some(f.township)).await;
    let a = f.register(&doctor, &han().draft(None), RegistrarChoice::Automatic).await.unwrap();
    let b = f.register(&doctor, &lin().draft(None), RegistrarChoice::Automatic).await.unwrap();
    assert_ne!(a.person_id, b.person_id);

    for blank in [None, Some("  ")] {
        assert_invalid(
            mpi::merge(&f.ctx, &f.steward, a.person_id, b.person_id, blank).await,
            "reason",
            "different_valid_ids_need_reason",
        );
    }
    assert_eq!(status(&f, b.person_id).await, ("active".to_owned(), None));
    assert_eq!(f.person_of(b.record_id).await, Some(b.person_id));

    f.tick();
    let op =
        mpi::merge(&f.ctx, &f.steward, a.person_id, b.person_id, Some("户籍迁移后重新办证")).await.unwrap();
    assert_eq!(status(&f, b.person_id).await, ("merged".to_owned(), Some(a.person_id)));
    assert_eq!(f.person_of(b.record_id).await, Some(a.person_id));
    let view = mpi::get_person(&f.ctx, &f.steward, a.person_id).await.unwrap();
    let merge = view.operations.iter().find(|o| o.operation_id == op).unwrap();
    assert_eq!((merge.kind.as_str(), merge.reason.as_str()), ("merge", "户籍迁移后重新办证"));
    assert_eq!((merge.person_id, merge.other_person_id), (Some(a.person_id), Some(b.person_id)));
    assert_eq!(merge.actor_id, f.steward.user_id);
}

/// Unlink takes a record into a new person of its own; undo brings it back and retires the
/// emptied person.
async fn unlink_then_undo(backend: Backend) {
    let Some(f) = Fixture::new(backend).await else { return };
    let han = han_three_times(&f).await;
    let person = han.at_township.person_id;
    let record = han.at_hospital.record_id;

    assert_invalid(mpi::unlink_record(&f.ctx, &f.steward, record, None).await, "reason", "required");
    f.tick();
    let (op, split) = mpi::unlink_record(&f.ctx, &f.steward, record, Some("不同的人")).await.unwrap();
    assert_ne!(split, person);
    assert_eq!(f.person_of(record).await, Some(split));
    assert_eq!(status(&f, split).await, ("active".to_owned(), None));
    let view = mpi::get_person(&f.ctx, &f.steward, person).await.unwrap();
    assert_eq!(
        view.records.iter().map(|r| r.record.record_id).collect::<Vec<_>>(),
        vec![han.at_township.record_id]
    );
    assert_conflict(
        mpi::unlink_record(&f.ctx, &f.steward, han.at_township.record_id, Some("x")).await,
        "mpi_record_is_the_only_one",
    );

    f.tick();
    mpi::undo(&f.ctx, &f.steward, op, Some("误拆")).await.unwrap();
    assert_eq!(f.person_of(record).await, Some(person));
    assert_eq!(status(&f, split).await, ("merged".to_owned(), Some(person)), "the emptied person is retired");
    let links = mpi::get_person(&f.ctx, &f.steward, person).await.unwrap().links;
    let summary: Vec<_> =
        links.iter().map(|l| (l.record_id, l.method.as_str(), l.valid_to.is_some())).collect();
    assert_eq!(
        summary,
        vec![(han.at_township.record_id, "new", false), (record, "auto", true), (record, "unmerge", false)]
    );
    let split_links = mpi::get_person(&f.ctx, &f.steward, split).await.unwrap().links;
    assert_eq!(split_links.len(), 1);
    assert_eq!((split_links[0].method.as_str(), split_links[0].valid_to.is_some()), ("steward", true));
    assert_conflict(mpi::undo(&f.ctx, &f.steward, op, Some("again")).await, "mpi_operation_already_undone");

    // Link: the village record joins the person; its own person, left empty, is retired into
    // it; undo brings the record back and reactivates that person.
    let (village_record, village_person) = (han.at_village.record_id, han.at_village.person_id);
    assert_invalid(
        mpi::link_record(&f.ctx, &f.steward, village_record, person, None).await,
        "reason",
        "required",
    );
    f.tick();
    let link =
        mpi::link_record(&f.ctx, &f.steward, village_record, person, Some("同一身份证号")).await.unwrap();
    assert_eq!(f.person_of(village_record).await, Some(person));
    assert_eq!(status(&f, village_person).await, ("merged".to_owned(), Some(person)));
    assert_conflict(
        mpi::link_record(&f.ctx, &f.steward, village_record, person, Some("again")).await,
        "mpi_record_already_linked_there",
    );
    f.tick();
    mpi::undo(&f.ctx, &f.steward, link, Some("撤销")).await.unwrap();
    assert_eq!(f.person_of(village_record).await, Some(village_person));
    assert_eq!(status(&f, village_person).await, ("active".to_owned(), None));
    assert_eq!(mpi::get_person(&f.ctx, &f.steward, person).await.unwrap().records.len(), 2);
    // Nothing links to a retired person.
    assert_conflict(
        mpi::link_record(&f.ctx, &f.steward, village_record, split, Some("x")).await,
        "mpi_person_merged",
    );
}

/// `Same` merges the pair's persons (the first record's survives); `Different` marks the pair,
/// which a later matching run neither re-links nor re-queues.
async fn review_decisions_hold_across_rematch(backend: Backend) {
    let Some(f) = Fixture::new(backend).await else { return };
    let han = han_three_times(&f).await;
    let doctor = f.actor("township_doctor", Some(f.township)).await;
    let specialist = f.actor("county_specialist", Some(f.hospital)).await;
    let lin_1 = f.register(&doctor, &lin().draft(None), RegistrarChoice::Automatic).await.unwrap();
    let lin_2 = f.register(&specialist, &lin().draft(None), RegistrarChoice::NewPerson).await.unwrap();
    let lin_pair = pair(lin_1.record_id, lin_2.record_id);
    let han_pair = pair(han.at_township.record_id, han.at_village.record_id);
    let open = f.open_pairs().await;
    assert!(open.contains(&lin_pair) && open.contains(&han_pair), "both pairs queued");

    assert_eq!(
        mpi::decide(&f.ctx, &f.steward, lin_2.record_id, lin_1.record_id, Decision::Different, None)
            .await
            .unwrap(),
        None
    );
    assert_conflict(
        mpi::decide(&f.ctx, &f.steward, lin_1.record_id, lin_2.record_id, Decision::Same, None).await,
        "mpi_candidate_decided",
    );
    assert!(f.pairs("different").await.contains(&lin_pair));
    assert!(!f.open_pairs().await.contains(&lin_pair));
    assert_ne!(f.person_of(lin_1.record_id).await, f.person_of(lin_2.record_id).await);

    // Same: given in reverse order; the first record (smaller id)'s person survives.
    let (first, second) = han_pair;
    let (pa, pb) = (f.person_of(first).await.unwrap(), f.person_of(second).await.unwrap());
    f.tick();
    let op = mpi::decide(&f.ctx, &f.steward, second, first, Decision::Same, None).await.unwrap();
    assert!(op.is_some(), "a merge was made");
    assert_eq!(f.person_of(second).await, Some(pa));
    assert_eq!(status(&f, pb).await, ("merged".to_owned(), Some(pa)));
    assert!(f.pairs("same").await.contains(&han_pair));

    let report = f.rematch().await;
    assert_eq!((report.unlinked, report.persons_created, report.queued), (0, 0, 0), "{report:?}");
    assert_ne!(f.person_of(lin_1.record_id).await, f.person_of(lin_2.record_id).await, "still two people");
    assert!(f.pairs("different").await.contains(&lin_pair));
    assert!(!f.open_pairs().await.contains(&lin_pair), "not queued again");
    assert_eq!(f.person_of(second).await, Some(pa));
}
