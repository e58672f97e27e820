//! The database counts referral metrics (`yigong_store::referral::metrics`); the domain defines
//! them (`Measure::time`, `tally`). On a synthetic county's year of referrals, both backends give
//! exactly the domain's numbers — every measure, every grouping, a consortium and an institution
//! reach — and a drill-down lists exactly the referrals a number counted.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use yigong_app::referral::{self as app_metrics, Group, MetricsQuery};
use yigong_app::{Ctx, ManualClock};
use yigong_domain::access::{Actor, Role, Scope, ScopeKind};
use yigong_domain::referral::metrics::{Measure, Row, Tally, china_month, tally};

use crate::cli::{text, yigong};

fn china_day(at: DateTime<Utc>) -> NaiveDate {
    (at + Duration::hours(8)).date_naive()
}

fn china_start(day: NaiveDate) -> DateTime<Utc> {
    day.and_hms_opt(0, 0, 0).unwrap().and_utc() - Duration::hours(8)
}

fn key(group: Group, r: &Row, at: DateTime<Utc>) -> Option<String> {
    match group {
        Group::Month => Some(china_month(at)),
        Group::Receiving => r.to_institution.map(|i| i.to_string()),
        Group::Sending => Some(r.from_institution.to_string()),
    }
}

fn in_reach(actor: &Actor, r: &Row) -> bool {
    match &actor.scope {
        Scope::Institutions(set) => {
            set.contains(&r.from_institution) || r.to_institution.is_some_and(|t| set.contains(&t))
        }
        _ => true,
    }
}

async fn database_counts_what_the_domain_defines(backend: yigong_testkit::Backend) {
    let Some(test_db) = yigong_testkit::db(backend).await else { return };
    let dir = tempfile::tempdir().unwrap();
    let out = yigong(
        &["synth", "--database", &test_db.url, "--residents", "4000", "--without-clinical-year"],
        dir.path(),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));

    let now = Utc::now();
    let mut ctx = Ctx::new(test_db.db.clone());
    ctx.clock = Arc::new(ManualClock::new(now));
    let mut tx = ctx.db.begin().await.unwrap();
    let consortium = yigong_store::consortium::list(&mut tx).await.unwrap().remove(0);
    let cid = consortium.id;
    let township =
        yigong_store::institution::find_by_code(&mut tx, cid, "T101").await.unwrap().expect("T101").id;
    let all = yigong_store::referral::metrics::metric_rows(
        &mut tx,
        cid,
        now - Duration::days(3650),
        now + Duration::days(1),
    )
    .await
    .unwrap();
    drop(tx);
    assert!(all.len() > 60, "the county's year has referrals: {}", all.len());

    let manager = Actor { role: Role::ConsortiumManager, ..yigong_app::access::console(cid) };
    let centre = Actor {
        role: Role::InstitutionAdmin,
        institution_id: Some(township),
        scope_kind: ScopeKind::Institution,
        scope: Scope::Institutions([township].into_iter().collect()),
        ..yigong_app::access::console(cid)
    };
    let today = china_day(now);
    let periods =
        [(today - Duration::days(365), today), (today - Duration::days(40), today - Duration::days(10))];
    let mut compared = 0u64;
    for actor in [&manager, &centre] {
        for (from, to) in periods {
            let (start, end) = (china_start(from), china_start(to + Duration::days(1)));
            let rows: Vec<Row> = yigong_store::referral::metrics::metric_rows(
                &mut ctx.db.begin().await.unwrap(),
                cid,
                start,
                end,
            )
            .await
            .unwrap()
            .into_iter()
            .filter(|r| in_reach(actor, r))
            .collect();
            let counts = |m: Measure, at: DateTime<Utc>| m == Measure::Overdue || (at >= start && at < end);
            for group in [Group::Month, Group::Receiving, Group::Sending] {
                let q = MetricsQuery { from, to, group };
                let report = app_metrics::metrics(&ctx, actor, &q).await.unwrap();
                let expected: BTreeMap<String, Tally> =
                    tally(&rows, now, |r, m, at| counts(m, at).then(|| key(group, r, at)).flatten());
                let got: BTreeMap<String, Tally> =
                    report.groups.iter().map(|(k, _, t)| (k.clone(), t.clone())).collect();
                assert_eq!(got, expected, "{:?} {group:?} {from}..{to}", actor.role);
                let total =
                    tally(&rows, now, |_, m, at| counts(m, at).then_some(())).remove(&()).unwrap_or_default();
                assert_eq!(report.total, total, "{:?} {group:?} {from}..{to}", actor.role);
                compared += total.count(Measure::Submitted, None);

                // Each number's drill-down lists what it counted.
                for &measure in Measure::ALL {
                    let mut keys: Vec<Option<String>> = vec![None];
                    keys.extend(expected.keys().take(2).cloned().map(Some));
                    for k in keys {
                        let listed =
                            app_metrics::drill_down(&ctx, actor, &q, measure, k.as_deref()).await.unwrap();
                        let mut listed: Vec<uuid::Uuid> = listed.into_iter().map(|r| r.id).collect();
                        listed.sort();
                        let mut want: Vec<uuid::Uuid> = rows
                            .iter()
                            .filter(|r| {
                                measure.time(r, now).is_some_and(|at| {
                                    counts(measure, at)
                                        && k.as_ref().is_none_or(|k| key(group, r, at).as_ref() == Some(k))
                                })
                            })
                            .map(|r| r.id)
                            .collect();
                        want.sort();
                        assert_eq!(listed, want, "{:?} {group:?} {measure} {k:?}", actor.role);
                    }
                }
            }
        }
    }
    assert!(compared > 60, "the comparison counted referrals: {compared}");
}

#[tokio::test]
async fn referral_metrics_sqlite() {
    database_counts_what_the_domain_defines(yigong_testkit::Backend::Sqlite).await;
}

#[tokio::test]
async fn referral_metrics_postgres() {
    database_counts_what_the_domain_defines(yigong_testkit::Backend::Postgres).await;
}
