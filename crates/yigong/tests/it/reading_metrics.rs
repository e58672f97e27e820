//! The database counts reading turnaround (`yigong_store::reading::turnaround_counts`,
//! `monthly_counts`); `yigong_app::reading::turnaround_of_rows` defines it from the items
//! themselves. On a synthetic county's year of remote reading, both backends give exactly the
//! definition's numbers — received, reported, on time, medians, monthly volumes — over a year
//! and over a shorter window.

use chrono::{Duration, Utc};
use yigong_domain::facility::InstitutionKind;

use crate::cli::{text, yigong};

async fn database_counts_what_the_definition_says(backend: yigong_testkit::Backend) {
    let Some(test_db) = yigong_testkit::db(backend).await else { return };
    let dir = tempfile::tempdir().unwrap();
    let out = yigong(
        &["synth", "--database", &test_db.url, "--residents", "4000", "--without-clinical-year"],
        dir.path(),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let mut tx = test_db.db.begin().await.unwrap();
    let cid = yigong_store::consortium::list(&mut tx).await.unwrap().remove(0).id;
    let mut grassroots = std::collections::BTreeSet::new();
    let mut page = yigong_domain::page::PageRequest { size: 500, after: None };
    loop {
        let found = yigong_store::institution::list(&mut tx, cid, &Default::default(), &page).await.unwrap();
        for i in &found.items {
            if matches!(i.kind, InstitutionKind::Member(t) if t.is_grassroots()) {
                grassroots.insert(i.id);
            }
        }
        match found.next_after {
            Some(a) => page.after = Some(a),
            None => break,
        }
    }
    let county: Vec<&str> = yigong_domain::facility::Tier::ALL
        .iter()
        .filter(|t| t.is_county_level())
        .map(|t| t.as_str())
        .collect();
    let now = Utc::now();
    let mut compared = 0;
    for (from, to) in [
        (now - Duration::days(400), now + Duration::days(1)),
        (now - Duration::days(90), now - Duration::days(30)),
    ] {
        let rows = yigong_store::reading::received_between(&mut tx, cid, from, to).await.unwrap();
        let (want, want_monthly) =
            yigong_app::reading::turnaround_of_rows(&rows, |i| grassroots.contains(&i));
        let counts = yigong_store::reading::turnaround_counts(&mut tx, cid, from, to, &county).await.unwrap();
        let got = yigong_app::reading::turnaround_of_counts(&counts);
        assert_eq!(got.len(), want.len());
        for (key, w) in &want {
            let g = &got[key];
            assert_eq!((g.received, g.reported, g.on_time), (w.received, w.reported, w.on_time), "{key:?}");
            assert_eq!(g.median_minutes, w.median_minutes, "{key:?}");
        }
        let got_monthly: std::collections::BTreeMap<(String, yigong_domain::reading::Centre), u64> =
            yigong_store::reading::monthly_counts(&mut tx, cid, from, to)
                .await
                .unwrap()
                .into_iter()
                .map(|(m, c, n)| ((m, c), n as u64))
                .collect();
        assert_eq!(got_monthly, want_monthly);
        compared += rows.len();
    }
    assert!(compared > 400, "the comparison counted items: {compared}");
}

#[tokio::test]
async fn reading_metrics_sqlite() {
    database_counts_what_the_definition_says(yigong_testkit::Backend::Sqlite).await;
}

#[tokio::test]
async fn reading_metrics_postgres() {
    database_counts_what_the_definition_says(yigong_testkit::Backend::Postgres).await;
}
