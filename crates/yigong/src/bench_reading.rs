//! `yigong bench`, reading section: the reading centres' worklists and a year of reading metrics
//! with ten times a county's yearly volume of remote exam items in the database (≈ 60 000 a year
//! for 400 000 residents, DESIGN.md §6.2; latency budgets of worklists are measured at 10×).

use std::time::{Duration, Instant};

use anyhow::Context;
use axum::http::StatusCode;
use chrono::Utc;
use rand::{Rng, SeedableRng};
use uuid::Uuid;
use yigong_app::Ctx;
use yigong_app::auth::{self, SessionKind, UserDraft};
use yigong_app::reading::{ExamOrder, Loaded};
use yigong_domain::facility::{Institution, InstitutionKind, Tier};
use yigong_domain::ids::{ConsortiumId, PatientRecordId};
use yigong_domain::reading::{ExamKind, ItemState, Urgency, due_at};

/// Exam items in the database while measuring: 10 × ≈ 60 000 a year.
pub const TARGET: usize = 600_000;
/// Of which open now (received, not yet reported): ten times a busy day's queue.
const OPEN: usize = 3_000;

/// The kinds in the proportions of a county's remote reading (ECG and DR lead).
const MIX: &[(ExamKind, u32)] = &[
    (ExamKind::Ecg, 30),
    (ExamKind::Dr, 25),
    (ExamKind::Ultrasound, 20),
    (ExamKind::Lab, 12),
    (ExamKind::Ct, 10),
    (ExamKind::Mr, 2),
    (ExamKind::Pathology, 1),
];

fn pick_kind(rng: &mut impl Rng) -> ExamKind {
    let total: u32 = MIX.iter().map(|m| m.1).sum();
    let mut x = rng.random_range(0..total);
    for (k, w) in MIX {
        if x < *w {
            return *k;
        }
        x -= w;
    }
    ExamKind::Ecg
}

fn pick_urgency(rng: &mut impl Rng) -> Urgency {
    match rng.random_range(0..100) {
        0 => Urgency::Green,
        1..=3 => Urgency::Emergency,
        4..=15 => Urgency::Inpatient,
        16..=25 => Urgency::PhysicalExam,
        _ => Urgency::Outpatient,
    }
}

/// One synthetic item ordered at `origin` for `record`, received `ago` before now; `open`
/// items wait on the worklist (some claimed), the rest are delivered history.
fn item(
    rng: &mut impl Rng,
    k: usize,
    record: PatientRecordId,
    origin: &Institution,
    open: bool,
) -> ExamOrder {
    let now = Utc::now();
    let kind = pick_kind(rng);
    let urgency = pick_urgency(rng);
    let ago = if open {
        chrono::Duration::minutes(rng.random_range(1..600))
    } else {
        chrono::Duration::minutes(rng.random_range(600..525_600))
    };
    let received = now - ago;
    let due = due_at(kind, urgency, false, false, received);
    let took = (due - received).num_minutes().max(2);
    let reported = received + chrono::Duration::minutes(rng.random_range(1..took + took / 5 + 2));
    let claimed = open && rng.random_range(0..5) == 0;
    let id = Uuid::now_v7();
    ExamOrder {
        consortium_id: origin.consortium_id,
        id,
        accession_no: format!("BX{k:09}"),
        patient_record_id: record,
        ordering_institution_id: origin.id,
        ordering_user_id: None,
        centre: kind.centre(),
        kind,
        modality: None,
        body_part: None,
        item_code: None,
        item_name: kind.as_str().to_owned(),
        urgency,
        question: "bench".into(),
        head: false,
        complex: false,
        state: match (open, claimed) {
            (true, true) => ItemState::Claimed,
            (true, false) => ItemState::Queued,
            (false, _) => ItemState::Delivered,
        },
        version: 1,
        reader_user_id: claimed.then(Uuid::now_v7),
        lease_until: claimed.then(|| now + chrono::Duration::minutes(30)),
        reading_institution_id: None,
        received_at: Some(received),
        due_at: Some(due),
        preliminary_at: (!open && urgency.due_at_preliminary()).then_some(reported),
        final_at: (!open).then_some(reported),
        delivered_at: (!open).then_some(reported),
        work_rank: urgency.rank(),
        hr: false,
        report_version: i32::from(!open),
        specimen_step: None,
        cancel_reason: None,
        created_at: received - chrono::Duration::minutes(20),
        updated_at: if open { received } else { reported },
    }
}

/// Brings the exam items up to [`TARGET`] (history over the past year plus [`OPEN`] waiting),
/// then measures the worklists and the metrics.
pub async fn run(
    ctx: &Ctx,
    app: &axum::Router,
    cid: ConsortiumId,
    institutions: &[Institution],
    iterations: usize,
) -> anyhow::Result<()> {
    let mut tx = ctx.db.begin().await?;
    let have = yigong_store::reading::count(&mut tx, cid).await? as usize;
    let records: Vec<PatientRecordId> =
        yigong_store::mpi::all_records(&mut tx, cid).await?.into_iter().map(|r| r.record_id).collect();
    drop(tx);
    anyhow::ensure!(!records.is_empty(), "the synthetic county has no patients");
    let grassroots: Vec<&Institution> = institutions
        .iter()
        .filter(|i| matches!(i.kind, InstitutionKind::Member(t) if t.is_grassroots()))
        .collect();
    anyhow::ensure!(!grassroots.is_empty(), "the county has no grassroots sites");
    if have < TARGET {
        let started = Instant::now();
        let mut rng = rand::rngs::StdRng::seed_from_u64(60_000);
        let mut batch = Vec::new();
        let mut added = 0usize;
        let missing = TARGET - have;
        for k in 0..missing {
            let open = k < OPEN;
            let order = item(&mut rng, k, records[k % records.len()], grassroots[k % grassroots.len()], open);
            batch.push(Loaded {
                order: Some(order),
                events: vec![],
                reports: vec![],
                criticals: vec![],
                specimen: vec![],
                decision: None,
            });
            if batch.len() == 10_000 {
                added += yigong_app::reading::load(ctx, cid, std::mem::take(&mut batch)).await?;
            }
        }
        added += yigong_app::reading::load(ctx, cid, batch).await?;
        println!(
            "exam items: {have} of the county + {added} = {} ({:.1} s)",
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
    for (role, institution) in [("reader", Some(hospital.id)), ("consortium_manager", None)] {
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
    let reader = format!("Bearer {}", tokens[0]);
    let origin = grassroots[0].id;
    let uris = [
        "/api/v1/reading/worklist?centre=imaging&page_size=50".to_owned(),
        "/api/v1/reading/worklist?centre=ecg&page_size=50".to_owned(),
        "/api/v1/reading/worklist?centre=lab&page_size=50".to_owned(),
        "/api/v1/reading/worklist?centre=imaging&kind=ct&page_size=50".to_owned(),
        "/api/v1/reading/worklist?centre=ecg&overdue=true&page_size=50".to_owned(),
        format!("/api/v1/reading/worklist?centre=imaging&origin={origin}&page_size=50"),
    ];
    let mut samples = Vec::with_capacity(iterations);
    let mut shown = 0usize;
    for n in 0..iterations {
        let uri = &uris[n % uris.len()];
        let start = Instant::now();
        let (status, body) = crate::bench::get(app, uri, ("authorization", &reader)).await?;
        samples.push(start.elapsed());
        anyhow::ensure!(status == StatusCode::OK, "{uri}: {status}");
        shown += serde_json::from_slice::<serde_json::Value>(&body)?["items"].as_array().map_or(0, Vec::len);
    }
    let s = crate::bench::stats(samples);
    println!(
        "reading_worklist p50 {:.2} ms  p95 {:.2} ms  p99 {:.2} ms   ({} lines per page on average) target p95 < 50 ms → ratio {:.3}",
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
            crate::bench::get(app, "/api/v1/reading/metrics", ("authorization", &manager)).await?;
        samples.push(start.elapsed());
        anyhow::ensure!(status == StatusCode::OK, "reading metrics: {status}");
    }
    let s = crate::bench::stats(samples);
    println!(
        "reading_metrics_year p50 {:.0} ms  p95 {:.0} ms   ({runs} runs over a year of {TARGET} items; no target set)",
        crate::bench::ms(s.p50),
        crate::bench::ms(s.p95),
    );
    Ok(())
}
