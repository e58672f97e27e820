//! `yigong bench`, referral section: the referral centre's worklist and a year of referral
//! metrics with ten times the county's yearly volume in the database (DESIGN.md §10: latency
//! budgets of worklists and dashboards are measured at 10×).

use std::time::{Duration, Instant};

use anyhow::Context;
use axum::http::StatusCode;
use yigong_app::Ctx;
use yigong_app::auth::{self, SessionKind, UserDraft};
use yigong_app::referral::{Loaded, Referral};
use yigong_domain::facility::{Institution, InstitutionKind, Tier};
use yigong_domain::ids::ConsortiumId;
use yigong_domain::referral::State;

/// Referrals in the database while measuring: 10 × ≈ 11 000 a year.
pub const TARGET: usize = 110_000;

/// Brings the referral count up to [`TARGET`] with copies of the county's own referrals spread
/// over the past year, all ended (`closed` or `rejected`, as history is), then measures.
pub async fn run(
    ctx: &Ctx,
    app: &axum::Router,
    cid: ConsortiumId,
    institutions: &[Institution],
    iterations: usize,
) -> anyhow::Result<()> {
    let now = yigong_app::Clock::now(ctx.clock.as_ref());
    let mut tx = ctx.db.begin().await?;
    let all = yigong_store::referral::for_metrics(
        &mut tx,
        cid,
        // Ten years back: PostgreSQL's timestamps do not reach chrono's minimum.
        now - chrono::Duration::days(3650),
        now + chrono::Duration::days(1),
    )
    .await?;
    drop(tx);
    anyhow::ensure!(!all.is_empty(), "the synthetic county has no referrals");
    let have = all.len();
    if have < TARGET {
        let started = Instant::now();
        let mut batch = Vec::new();
        let mut added = 0usize;
        let mut k = 0u64;
        while have + added + batch.len() < TARGET {
            let original = &all[(k as usize) % all.len()];
            k += 1;
            batch.push(Loaded {
                referral: copy(original, k, now),
                events: vec![],
                follow_up: None,
                stamps: vec![],
            });
            if batch.len() == 5_000 {
                added +=
                    yigong_app::referral::load_without_fhir(ctx, cid, std::mem::take(&mut batch)).await?;
            }
        }
        added += yigong_app::referral::load_without_fhir(ctx, cid, batch).await?;
        println!(
            "referrals: {have} of the county + {added} copies over the past year = {} ({:.1} s)",
            have + added,
            started.elapsed().as_secs_f64()
        );
    }
    let hospital = institutions
        .iter()
        .find(|i| i.kind == InstitutionKind::Member(Tier::CountyGeneral))
        .context("the lead hospital")?;
    let console = yigong_app::access::console(cid);
    let mut tokens = Vec::new();
    for (role, institution) in [("referral_coordinator", Some(hospital.id)), ("consortium_manager", None)] {
        let username = format!("bench{}", rand::random::<u32>());
        let draft = UserDraft {
            username: username.clone(),
            display_name: "bench".into(),
            password: crate::bench::BENCH_PASSWORD.into(),
            role: role.into(),
            institution_id: institution,
            staff_id: None,
        };
        auth::create_user(ctx, &console, cid, draft).await.map_err(crate::accounts::describe)?;
        tokens.push(
            auth::login(ctx, &username, crate::bench::BENCH_PASSWORD, SessionKind::Api, None, None)
                .await?
                .secret,
        );
    }
    let coordinator = format!("Bearer {}", tokens[0]);
    let tabs = ["new", "overdue", "to_schedule", "expected", "in_care", "completed"];
    let mut samples = Vec::with_capacity(iterations);
    let mut shown = 0usize;
    for n in 0..iterations {
        let uri = format!("/api/v1/referrals?tab={}&page_size=50", tabs[n % tabs.len()]);
        let start = Instant::now();
        let (status, body) = crate::bench::get(app, &uri, ("authorization", &coordinator)).await?;
        samples.push(start.elapsed());
        anyhow::ensure!(status == StatusCode::OK, "{uri}: {status}");
        shown += serde_json::from_slice::<serde_json::Value>(&body)?["items"].as_array().map_or(0, Vec::len);
    }
    let s = crate::bench::stats(samples);
    println!(
        "referral_worklist p50 {:.2} ms  p95 {:.2} ms  p99 {:.2} ms   ({} lines per page on average) target p95 < 50 ms → ratio {:.3}",
        crate::bench::ms(s.p50),
        crate::bench::ms(s.p95),
        crate::bench::ms(s.p99),
        shown / iterations.max(1),
        crate::bench::ms(s.p95) / 50.0
    );
    let manager = format!("Bearer {}", tokens[1]);
    let runs = (iterations / 20).clamp(5, 20);
    let mut samples: Vec<Duration> = Vec::with_capacity(runs);
    for _ in 0..runs {
        let start = Instant::now();
        let (status, _) =
            crate::bench::get(app, "/api/v1/referral-metrics?group=month", ("authorization", &manager))
                .await?;
        samples.push(start.elapsed());
        anyhow::ensure!(status == StatusCode::OK, "metrics: {status}");
    }
    let s = crate::bench::stats(samples);
    println!(
        "referral_metrics_year p50 {:.0} ms  p95 {:.0} ms ({runs} runs, by month)   target < 1000 ms → ratio {:.3}",
        crate::bench::ms(s.p50),
        crate::bench::ms(s.p95),
        crate::bench::ms(s.p95) / 1000.0
    );
    Ok(())
}

/// A copy of `r` moved back by up to a year, ended as history is.
fn copy(r: &Referral, k: u64, now: chrono::DateTime<chrono::Utc>) -> Referral {
    let mut c = r.clone();
    c.id = uuid::Uuid::now_v7();
    c.slip_no = format!("BK{k:010}");
    let end = r.updated_at.max(r.submitted_at.unwrap_or(r.created_at));
    // Spread over the year: the copy ends between 1 and 360 days ago.
    let back = chrono::Duration::days(1 + (k * 7919 % 360) as i64)
        + (end - r.created_at).max(chrono::Duration::zero());
    let shift = (now - back) - r.created_at;
    let move_ = |t: Option<chrono::DateTime<chrono::Utc>>| t.map(|t| t + shift);
    c.created_at = r.created_at + shift;
    c.submitted_at = move_(r.submitted_at.or(Some(r.created_at)));
    c.sla_started_at = move_(r.sla_started_at);
    c.accepted_at = move_(r.accepted_at);
    c.rejected_at = move_(r.rejected_at);
    c.slot_at = move_(r.slot_at);
    c.arrived_at = move_(r.arrived_at);
    c.completed_at = move_(r.completed_at);
    c.closed_at = move_(r.closed_at);
    c.updated_at = r.updated_at + shift;
    c.parent_id = None;
    if c.state.is_live() || matches!(c.state, State::Draft | State::Completed) {
        // History has ended: what was still open is closed (or rejected if never accepted).
        c.state = if c.accepted_at.is_some() { State::Closed } else { State::Rejected };
        if c.state == State::Closed {
            c.closed_at = Some(c.updated_at);
            c.closed_loop =
                Some(c.direction == yigong_domain::referral::Direction::Upward && !k.is_multiple_of(3));
        } else {
            c.rejected_at = Some(c.updated_at);
        }
    }
    c
}
