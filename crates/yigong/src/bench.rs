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

pub(crate) const BENCH_PASSWORD: &str = "bench-password-2026";

pub(crate) fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

pub(crate) fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

pub(crate) struct Stats {
    pub(crate) p50: Duration,
    pub(crate) p95: Duration,
    pub(crate) p99: Duration,
}

pub(crate) fn stats(mut samples: Vec<Duration>) -> Stats {
    samples.sort();
    Stats { p50: percentile(&samples, 0.5), p95: percentile(&samples, 0.95), p99: percentile(&samples, 0.99) }
}

pub(crate) async fn get(
    app: &axum::Router,
    uri: &str,
    auth: (&str, &str),
) -> anyhow::Result<(StatusCode, Vec<u8>)> {
    let req = Request::get(uri).header(auth.0, auth.1).body(Body::empty()).context("build request")?;
    let resp = app.clone().oneshot(req).await.context("send request")?;
    let status = resp.status();
    let body = resp.into_body().collect().await.context("read body")?.to_bytes().to_vec();
    Ok((status, body))
}

/// Which figures to measure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Only {
    /// Every figure.
    All,
    /// The referral worklist and metrics at 10× volume.
    Referrals,
    /// The reading worklists and metrics at 10× volume.
    Reading,
}

/// Runs every benchmark on `ctx`'s database, generating the county first if it is empty.
pub async fn run(ctx: &Ctx, config: &Config, iterations: usize, only: Only) -> anyhow::Result<()> {
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
    let institutions: Vec<yigong_domain::facility::Institution> = registry::list_institutions(
        ctx,
        &console,
        cid,
        &Default::default(),
        &PageRequest { size: 500, after: None },
    )
    .await?
    .items;
    println!("county: {} institutions; {iterations} iterations per figure", institutions.len());
    match only {
        Only::Referrals => {
            return crate::bench_referral::run(ctx, &app, cid, &institutions, iterations).await;
        }
        Only::Reading => return crate::bench_reading::run(ctx, &app, cid, &institutions, iterations).await,
        Only::All => {}
    }

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

    record_360(ctx, &app, cid, &institutions, iterations).await?;
    mpi(ctx, config, &app, cid, &institutions, iterations).await?;
    crate::bench_referral::run(ctx, &app, cid, &institutions, iterations).await?;
    crate::bench_reading::run(ctx, &app, cid, &institutions, iterations).await
}

/// 6. The 360° view of a patient with 200 entries across facilities (one page of 200 over the
///    JSON API, and the HTML page of 100), as a county specialist of the hospital where the
///    patient is registered, with the county's clinical year in the database.
async fn record_360(
    ctx: &Ctx,
    app: &axum::Router,
    cid: yigong_domain::ids::ConsortiumId,
    institutions: &[yigong_domain::facility::Institution],
    iterations: usize,
) -> anyhow::Result<()> {
    use serde_json::json;
    use yigong_app::record::{BulkResource, load_bulk};

    let hospital = institutions
        .iter()
        .find(|i| i.kind.tier() == Some(yigong_domain::facility::Tier::CountyGeneral))
        .context("a county hospital")?;
    let others: Vec<&yigong_domain::facility::Institution> =
        institutions.iter().filter(|i| i.kind.tier().is_some()).take(12).collect();
    let console = yigong_app::access::console(cid);
    let username = format!("bench360{}", rand::random::<u32>());
    let draft = UserDraft {
        username: username.clone(),
        display_name: "bench".into(),
        password: BENCH_PASSWORD.into(),
        role: "county_specialist".into(),
        institution_id: Some(hospital.id),
        staff_id: None,
    };
    auth::create_user(ctx, &console, cid, draft).await.map_err(crate::accounts::describe)?;
    let secret = auth::login(ctx, &username, BENCH_PASSWORD, SessionKind::Api, None, None).await?.secret;
    let actor = auth::authenticate(ctx, &secret, None).await?.actor;
    let web = auth::login(ctx, &username, BENCH_PASSWORD, SessionKind::Web, None, None).await?.secret;
    let draft = yigong_domain::patient::RegistrationDraft {
        name: "基准患者".into(),
        sex: "female".into(),
        birth_date: "1958-08-08".into(),
        no_id_reason: Some("declined".into()),
        ..Default::default()
    };
    let registered =
        yigong_app::mpi::register(ctx, &actor, &draft, yigong_app::mpi::RegistrarChoice::NewPerson).await?;
    let record = registered.record_id.as_uuid();
    let subject = json!({"reference": format!("Patient/{record}")});
    let start = chrono::Utc::now() - chrono::Duration::days(365);
    let resources: Vec<BulkResource> = (0..200)
        .map(|n| {
            let at = (start + chrono::Duration::hours(43 * n)).to_rfc3339();
            let institution = others[n as usize % others.len()];
            let body = if n % 4 == 0 {
                json!({"resourceType": "Encounter", "status": "finished", "subject": subject, "period": {"start": at},
                    "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB", "display": "门诊"},
                    "serviceProvider": {"reference": format!("Organization/{}", institution.id)}})
            } else {
                json!({"resourceType": "Observation", "status": "final", "subject": subject, "effectiveDateTime": at,
                    "code": {"coding": [{"system": "http://loinc.org", "code": "14771-0", "display": "空腹血糖"}]},
                    "valueQuantity": {"value": 6.1, "unit": "mmol/L"}})
            };
            BulkResource {
                resource_type: if n % 4 == 0 { "Encounter" } else { "Observation" },
                id: uuid::Uuid::now_v7().to_string(),
                institution: Some(institution.id),
                record: Some(record),
                body,
            }
        })
        .collect();
    load_bulk(ctx, cid, resources).await?;
    let person = registered.person_id;
    let bearer = format!("Bearer {secret}");
    let cookie = format!("yigong_session={web}");
    for (label, uri, auth_header) in [
        (
            "record_360_api",
            format!("/api/v1/persons/{person}/record?page_size=200"),
            ("authorization", bearer.as_str()),
        ),
        ("record_360_page", format!("/patients/{person}/record"), ("cookie", cookie.as_str())),
    ] {
        let mut samples = Vec::with_capacity(iterations);
        for _ in 0..iterations {
            let start = Instant::now();
            let (status, body) = get(app, &uri, auth_header).await?;
            samples.push(start.elapsed());
            anyhow::ensure!(status == StatusCode::OK, "{uri}: {status} {}", String::from_utf8_lossy(&body));
        }
        let s = stats(samples);
        println!(
            "{label:<17} p50 {:.2} ms  p95 {:.2} ms  p99 {:.2} ms   target p95 < 100 ms (200 entries) → ratio {:.3}",
            ms(s.p50),
            ms(s.p95),
            ms(s.p99),
            ms(s.p95) / 100.0
        );
    }
    Ok(())
}

/// 5. The master patient index: accuracy of the links against the synthetic truth, and
///    `POST /api/v1/mpi/match` latency at the county's size.
async fn mpi(
    ctx: &Ctx,
    config: &Config,
    app: &axum::Router,
    cid: yigong_domain::ids::ConsortiumId,
    institutions: &[yigong_domain::facility::Institution],
    iterations: usize,
) -> anyhow::Result<()> {
    use std::collections::{HashMap, HashSet};

    let cfg = yigong_synth::SynthConfig {
        seed: config.synth.seed,
        residents: config.synth.residents,
        ..yigong_synth::SynthConfig::demo()
    };
    let org = yigong_synth::organisation(&cfg);
    let mut person_of: HashMap<(String, String), String> = HashMap::new();
    let mut by_person: HashMap<String, Vec<(String, String)>> = HashMap::new();
    let mut queries = Vec::new();
    let mut duplicates: Vec<((String, String), String, Vec<String>)> = Vec::new();
    for village in yigong_synth::registrations(&cfg, &org) {
        for (r, t) in village.registrations.iter().zip(&village.truth) {
            let key = (r.source.clone(), r.local_id.clone());
            if t.duplicate {
                let kinds = t.errors.iter().map(|e| e.as_str().to_owned()).collect();
                duplicates.push((key.clone(), t.person.clone(), kinds));
            }
            person_of.insert(key.clone(), t.person.clone());
            by_person.entry(t.person.clone()).or_default().push(key);
            if queries.len() < 5_000 && (t.duplicate || person_of.len().is_multiple_of(97)) {
                queries.push(serde_json::json!({
                    "name": r.name, "sex": r.sex, "birth_date": r.birth_date, "resident_id": r.resident_id,
                    "phone": r.phone, "village_code": r.village_code,
                }));
            }
        }
    }
    let truth: HashSet<((String, String), (String, String))> = by_person
        .values()
        .flat_map(|keys| {
            let mut pairs = Vec::new();
            for (i, a) in keys.iter().enumerate() {
                for b in &keys[i + 1..] {
                    pairs.push(if a < b { (a.clone(), b.clone()) } else { (b.clone(), a.clone()) });
                }
            }
            pairs
        })
        .collect();
    let predicted: HashSet<((String, String), (String, String))> =
        yigong_app::mpi::linked_pairs(ctx, cid, &[])
            .await?
            .into_iter()
            .map(|(a, b)| if a < b { (a, b) } else { (b, a) })
            .collect();
    let true_positives = predicted.intersection(&truth).count() as f64;
    let precision = true_positives / (predicted.len() as f64).max(1.0);
    let recall = true_positives / (truth.len() as f64).max(1.0);
    let f1 = 2.0 * precision * recall / (precision + recall).max(1e-12);
    println!(
        "mpi_accuracy      {} registrations, {} true pairs, {} linked pairs: precision {precision:.4} recall {recall:.4} F1 {f1:.4} (auto band only; target F1 ≥ 0.99 → ratio {:.3})",
        person_of.len(),
        truth.len(),
        predicted.len(),
        f1 / 0.99
    );

    // Recall by mistake kind: a duplicate counts as found when it is linked to the first
    // registration of its person (auto band), or queued for review with it.
    let records = {
        let mut tx = ctx.db.begin().await?;
        let sources: HashMap<uuid::Uuid, String> = yigong_store::mpi::sources(&mut tx, cid)
            .await?
            .into_iter()
            .map(|s| (s.source_id, s.code))
            .collect();
        let records = yigong_store::mpi::all_records(&mut tx, cid).await?;
        let mut review = Vec::new();
        let mut after = None;
        loop {
            let page = yigong_store::mpi::list_candidates(&mut tx, cid, "open", after, 500).await?;
            let Some(last) = page.last() else { break };
            after = Some((last.score, last.record_a, last.record_b));
            review.extend(page.into_iter().map(|c| (c.record_a, c.record_b)));
        }
        tx.commit().await?;
        let key: HashMap<_, _> = records
            .into_iter()
            .map(|r| {
                (r.record_id, (sources.get(&r.source_id.as_uuid()).cloned().unwrap_or_default(), r.local_id))
            })
            .collect();
        review
            .into_iter()
            .filter_map(|(a, b)| Some((key.get(&a)?.clone(), key.get(&b)?.clone())))
            .map(|(a, b)| if a < b { (a, b) } else { (b, a) })
            .collect::<HashSet<_>>()
    };
    let in_review = records.intersection(&truth).count();
    println!(
        "mpi_review        {} pairs queued for review, {in_review} of them true: recall over auto + review {:.4} (DESIGN target ≥ 0.98)",
        records.len(),
        (true_positives + in_review as f64) / (truth.len() as f64).max(1.0)
    );
    let mut by_kind: std::collections::BTreeMap<String, (usize, usize, usize)> = Default::default();
    for (key, person, kinds) in &duplicates {
        let first = by_person[person].first().expect("a person has a first registration");
        let pair = if key < first { (key.clone(), first.clone()) } else { (first.clone(), key.clone()) };
        let linked = predicted.contains(&pair);
        let queued = records.contains(&pair);
        let kinds = if kinds.is_empty() { vec!["none".to_owned()] } else { kinds.clone() };
        for k in kinds {
            let e = by_kind.entry(k).or_default();
            e.0 += 1;
            e.1 += usize::from(linked);
            e.2 += usize::from(queued);
        }
    }
    for (kind, (n, linked, queued)) in by_kind {
        println!(
            "  duplicates with {kind:<20} {n:>6}: linked {linked:>6}  queued {queued:>6}  missed {:>6}",
            n - linked - queued
        );
    }

    // A clinician at the lead hospital asks the index, as a registration form does.
    let hospital = institutions.iter().find(|i| i.code == "H01").context("the lead hospital")?;
    let console = yigong_app::access::console(cid);
    let username = format!("benchdoc{}", rand::random::<u32>());
    let draft = UserDraft {
        username: username.clone(),
        display_name: "bench".into(),
        password: BENCH_PASSWORD.into(),
        role: "county_specialist".into(),
        institution_id: Some(hospital.id),
        staff_id: None,
    };
    auth::create_user(ctx, &console, cid, draft).await.map_err(crate::accounts::describe)?;
    let token = auth::login(ctx, &username, BENCH_PASSWORD, SessionKind::Api, None, None).await?.secret;
    let bearer = format!("Bearer {token}");
    let mut samples = Vec::with_capacity(iterations);
    let mut found = 0usize;
    for n in 0..iterations.min(queries.len().max(1) * 4) {
        let body = queries[n % queries.len()].to_string();
        let req = Request::post("/api/v1/mpi/match")
            .header("authorization", &bearer)
            .header("content-type", "application/json")
            .body(Body::from(body))
            .context("build request")?;
        let start = Instant::now();
        let resp = app.clone().oneshot(req).await.context("send")?;
        let status = resp.status();
        let bytes = resp.into_body().collect().await.context("read body")?.to_bytes();
        samples.push(start.elapsed());
        anyhow::ensure!(status == StatusCode::OK, "match: {status} {}", String::from_utf8_lossy(&bytes));
        let v: serde_json::Value = serde_json::from_slice(&bytes).context("match JSON")?;
        found += usize::from(v["matches"].as_array().is_some_and(|m| !m.is_empty()));
    }
    let n = samples.len();
    let s = stats(samples);
    println!(
        "mpi_match         p50 {:.2} ms  p95 {:.2} ms  p99 {:.2} ms over {} records ({found}/{n} queries found a person)   target p95 < 50 ms → ratio {:.3}",
        ms(s.p50),
        ms(s.p95),
        ms(s.p99),
        person_of.len(),
        ms(s.p95) / 50.0
    );
    Ok(())
}

/// Percent-encodes a query value.
pub fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") })
        .collect()
}
