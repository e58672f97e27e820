//! `yigong bench`: the performance figures of BENCHMARKS.md, measured on a synthetic county in
//! one run. Each figure is printed with the target it is compared against.

use std::time::{Duration, Instant};

use anyhow::Context;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use tower::ServiceExt;
use yigong_app::Ctx;
use yigong_app::auth::{self, SessionKind, UserDraft};
use yigong_app::registry::{self, StaffFilter};
use yigong_domain::page::PageRequest;

use crate::config::Config;

const BENCH_PASSWORD: &str = "bench-password-2026";

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

struct Stats {
    p50: Duration,
    p95: Duration,
    p99: Duration,
}

fn stats(mut samples: Vec<Duration>) -> Stats {
    samples.sort();
    Stats { p50: percentile(&samples, 0.5), p95: percentile(&samples, 0.95), p99: percentile(&samples, 0.99) }
}

async fn get(app: &axum::Router, uri: &str, auth: (&str, &str)) -> anyhow::Result<(StatusCode, Vec<u8>)> {
    let req = Request::get(uri).header(auth.0, auth.1).body(Body::empty()).context("build request")?;
    let resp = app.clone().oneshot(req).await.context("send request")?;
    let status = resp.status();
    let body = resp.into_body().collect().await.context("read body")?.to_bytes().to_vec();
    Ok((status, body))
}

/// Runs every benchmark on `ctx`'s database, generating the county first if it is empty.
pub async fn run(ctx: &Ctx, config: &Config, iterations: usize) -> anyhow::Result<()> {
    if yigong_app::seed::is_empty(ctx).await? {
        println!("generating the synthetic county ({} residents)…", config.synth.residents);
        crate::load::synthetic_county(ctx, config).await?;
    }
    let consortium = registry::list_all_consortia(ctx).await?.into_iter().next().context("a consortium")?;
    let cid = consortium.id;
    let console = yigong_app::access::console(cid);
    let username = format!("bench{}", rand::random::<u32>());
    let draft = UserDraft {
        username: username.clone(),
        display_name: "bench".into(),
        password: BENCH_PASSWORD.into(),
        role: "system_admin".into(),
        institution_id: None,
        staff_id: None,
    };
    auth::create_user(ctx, &console, cid, draft).await.map_err(crate::accounts::describe)?;
    let token = auth::login(ctx, &username, BENCH_PASSWORD, SessionKind::Api, None, None).await?.secret;
    let web = auth::login(ctx, &username, BENCH_PASSWORD, SessionKind::Web, None, None).await?.secret;
    let app = yigong_http::app(ctx.clone());
    let bearer = format!("Bearer {token}");
    let auth_header = ("authorization", bearer.as_str());
    let institutions = registry::list_institutions(
        ctx,
        &console,
        cid,
        &Default::default(),
        &PageRequest { size: 500, after: None },
    )
    .await?
    .items;
    println!("county: {} institutions; {iterations} iterations per figure", institutions.len());

    // 1. Institution list through the whole HTTP stack (auth, routing, query, JSON).
    let base = format!("/api/v1/consortia/{cid}/institutions");
    let mut uris =
        vec![format!("{base}?page_size=50"), format!("{base}?tier=village_service_point&page_size=50")];
    for (k, i) in institutions.iter().enumerate().step_by(37) {
        let q: String = i.name.chars().take(2).collect();
        uris.push(format!("{base}?q={}&page_size=50", crate::bench::urlencode(&q)));
        uris.push(format!("{base}?parent_id={}", i.parent_id.unwrap_or(i.id)));
        if k % 2 == 0 {
            uris.push(format!("{base}?page_size=100&cursor={}", yigong_http::page::encode_cursor(&i.code)));
        }
    }
    let mut samples = Vec::with_capacity(iterations);
    for n in 0..iterations {
        let uri = &uris[n % uris.len()];
        let start = Instant::now();
        let (status, _) = get(&app, uri, auth_header).await?;
        samples.push(start.elapsed());
        anyhow::ensure!(status == StatusCode::OK, "{uri}: {status}");
    }
    let s = stats(samples);
    println!(
        "institution_list  p50 {:.2} ms  p95 {:.2} ms  p99 {:.2} ms   target p95 < 20 ms → ratio {:.3}",
        ms(s.p50),
        ms(s.p95),
        ms(s.p99),
        ms(s.p95) / 20.0
    );

    // 2. The same staff read, bare (no authorisation, no audit) and as the use case does it.
    let staff = registry::list_staff(
        ctx,
        &console,
        cid,
        &StaffFilter::default(),
        &PageRequest { size: 500, after: None },
    )
    .await?
    .items;
    let mut bare = Vec::with_capacity(iterations);
    let mut audited = Vec::with_capacity(iterations);
    let session = auth::authenticate(ctx, &token, None).await?;
    for n in 0..iterations {
        let id = staff[n % staff.len()].id;
        let start = Instant::now();
        {
            let mut tx = ctx.db.begin().await?;
            yigong_store::staff::find(&mut tx, cid, id).await?.context("staff")?;
            yigong_store::staff::titles(&mut tx, cid, id).await?;
        }
        bare.push(start.elapsed());
        let start = Instant::now();
        registry::get_staff(ctx, &session.actor, cid, id).await?;
        audited.push(start.elapsed());
    }
    let (b, a) = (stats(bare), stats(audited));
    println!(
        "staff_read        bare p50 {:.3} ms; authorised+audited p50 {:.3} ms → added {:.3} ms (target ≤ 1 ms → ratio {:.3}); p95 {:.3} vs {:.3} ms",
        ms(b.p50),
        ms(a.p50),
        ms(a.p50) - ms(b.p50),
        (ms(a.p50) - ms(b.p50)) / 1.0,
        ms(b.p95),
        ms(a.p95)
    );

    // 3. Write rate of the API (each write commits with its audit row) against the rate the
    //    audit trail alone sustains.
    let writes = iterations.min(1000);
    let target = institutions
        .iter()
        .find(|i| i.kind.tier().is_some_and(|t| t.is_county_level()))
        .context("a hospital")?;
    let uri = format!("{base}/{}/departments", target.id);
    let start = Instant::now();
    for n in 0..writes {
        let body =
            serde_json::json!({"name": format!("基准科室{}-{n}", rand::random::<u32>()), "kind": "clinical"})
                .to_string();
        let req = Request::post(&uri)
            .header(auth_header.0, auth_header.1)
            .header("content-type", "application/json")
            .body(Body::from(body))
            .context("build request")?;
        let resp = app.clone().oneshot(req).await.context("send")?;
        anyhow::ensure!(resp.status() == StatusCode::CREATED, "write: {}", resp.status());
    }
    let api_rate = writes as f64 / start.elapsed().as_secs_f64();
    let start = Instant::now();
    for _ in 0..writes {
        yigong_app::audit::record_read(
            ctx,
            &session.actor,
            cid,
            yigong_domain::access::Basis::Administration,
            yigong_app::audit::Event::of("bench", "audit_event"),
        )
        .await?;
    }
    let audit_rate = writes as f64 / start.elapsed().as_secs_f64();
    let start = Instant::now();
    let sealed = yigong_app::audit::seal(ctx).await?;
    let seal_rate = sealed as f64 / start.elapsed().as_secs_f64().max(1e-9);
    println!(
        "writes            API {api_rate:.0} writes/s (each with its audit row); audit rows alone {audit_rate:.0}/s → ratio {:.2} (≥ 1 sustains); sealing {seal_rate:.0} rows/s",
        audit_rate / api_rate
    );

    // 4. Page weight of the home page (HTML + stylesheet; no script, no images).
    let cookie = format!("yigong_session={web}");
    let (status, home) = get(&app, "/", ("cookie", &cookie)).await?;
    anyhow::ensure!(status == StatusCode::OK, "home page: {status}");
    let (_, css) = get(&app, "/static/app.css", ("cookie", &cookie)).await?;
    let total = home.len() + css.len();
    println!(
        "home_page_weight  HTML {} B + CSS {} B = {:.1} KB uncompressed   target < 200 KB → ratio {:.3}",
        home.len(),
        css.len(),
        total as f64 / 1024.0,
        total as f64 / (200.0 * 1024.0)
    );
    Ok(())
}

/// Percent-encodes a query value.
pub fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") })
        .collect()
}
