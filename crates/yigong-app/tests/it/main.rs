//! Use-case tests that need a database: audit retention on both backends.

use std::sync::Arc;

use chrono::{Duration, TimeZone, Utc};
use yigong_app::audit::{self, Event};
use yigong_app::{Ctx, ManualClock};
use yigong_domain::access::Basis;
use yigong_domain::facility::ConsortiumDraft;
use yigong_domain::ids::ConsortiumId;
use yigong_testkit::Backend;

mod mpi;

async fn prune_keeps_the_chain_verifiable(backend: Backend) {
    let Some(db) = yigong_testkit::db(backend).await else { return };
    let clock = Arc::new(ManualClock::new(Utc.with_ymd_and_hms(2025, 1, 10, 2, 0, 0).unwrap()));
    let mut ctx = Ctx::new(db.db.clone());
    ctx.clock = clock.clone();
    let console = yigong_app::access::console(ConsortiumId::from_uuid(uuid::Uuid::nil()));
    let draft = ConsortiumDraft {
        name: "青岚县医共体".into(),
        county_code: "990121".into(),
        founded_on: chrono::NaiveDate::from_ymd_opt(2020, 1, 1),
    };
    let c = yigong_app::registry::create_consortium(&ctx, &console, draft).await.unwrap();
    let actor = yigong_app::access::console(c.id);
    let write = |n: usize| {
        let ctx = &ctx;
        let actor = &actor;
        async move {
            for _ in 0..n {
                audit::record_read(ctx, actor, c.id, Basis::Administration, Event::of("read", "staff"))
                    .await
                    .unwrap();
            }
        }
    };
    write(5).await;
    audit::seal(&ctx).await.unwrap();
    clock.advance(Duration::days(400));
    write(3).await;

    // Below the legal floor: refused.
    let mut sink = Vec::new();
    assert!(audit::prune(&ctx, &actor, 5, &mut sink).await.is_err());
    assert!(sink.is_empty(), "nothing archived by a refused prune");

    let mut archive = Vec::new();
    let pruned = audit::prune(&ctx, &actor, 13, &mut archive).await.unwrap();
    let ours = pruned.iter().find(|p| p.consortium_id == c.id.as_uuid()).expect("the old rows were pruned");
    assert_eq!(ours.rows, 5, "only rows older than 13 months");
    let text = String::from_utf8(archive).unwrap();
    let ours_lines = text.lines().filter(|l| l.starts_with(&format!("\"{}\"", c.id))).count();
    assert_eq!(ours_lines, 5, "{text}");
    // What remains still verifies, including the prune row itself once sealed.
    let reports = audit::verify(&ctx).await.unwrap();
    let report = reports.iter().find(|r| r.consortium_id == c.id.as_uuid()).unwrap();
    assert_eq!(report.broken, None, "{report:?}");
    assert_eq!(report.rows, 4, "3 recent rows and the prune row");
    // A second prune finds nothing new to move.
    let again = audit::prune(&ctx, &actor, 13, &mut Vec::new()).await.unwrap();
    assert!(again.iter().all(|p| p.consortium_id != c.id.as_uuid()));
}

#[tokio::test]
async fn prune_sqlite() {
    prune_keeps_the_chain_verifiable(Backend::Sqlite).await;
}

#[tokio::test]
async fn prune_postgres() {
    prune_keeps_the_chain_verifiable(Backend::Postgres).await;
}
