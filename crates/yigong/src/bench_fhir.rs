//! `yigong bench-fhir`: drives any FHIR R4 server over real HTTP with a fixed clinical workload,
//! so that yigong's `/fhir` and a peer server are measured the same way on the same machine.
//!
//! Four phases run one after the other, each for the same time with the same number of
//! concurrent clients: `create` (POST a Patient, then an Observation about it), `read` (GET a
//! created Patient or Observation), `search` (GET `Patient?identifier=` of a created patient,
//! which must match exactly one) and `transaction` (POST a 20-entry transaction Bundle: a
//! Patient, an Encounter and 18 Observations tied together by `urn:uuid:` references). Every
//! request must answer 2xx and pass its phase's check; failures are counted and sampled, never
//! dropped. Operations, throughput and latency percentiles count successful requests only.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use axum::body::Bytes;
use axum::http::{HeaderValue, Method, Request, StatusCode, Uri, header};
use chrono::{Days, NaiveDate};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use serde::Serialize;
use serde_json::{Value, json};

/// The identifier system of the resident ID number (WS/T 500 OID).
const RESIDENT_ID_SYSTEM: &str = "urn:oid:2.16.156.10011.1.3";
const FHIR_JSON: &str = "application/fhir+json";
/// A request that takes longer than this counts as an error.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Observations in each transaction Bundle, besides its Patient and Encounter.
const BUNDLE_OBSERVATIONS: usize = 18;
/// Error messages kept per phase as examples.
const ERROR_SAMPLES: usize = 5;

/// Command-line arguments of `yigong bench-fhir`.
#[derive(Debug, Clone, clap::Args)]
pub struct FhirBenchArgs {
    /// Base URL of the FHIR server, e.g. `http://127.0.0.1:8080/fhir`.
    #[arg(long)]
    pub url: String,
    /// Bearer token sent with every request (none: the server must not ask for one).
    #[arg(long, conflicts_with = "username")]
    pub token: Option<String>,
    /// yigong login name: a token is fetched from `POST {origin}/api/v1/auth/token`.
    #[arg(long, requires = "password_stdin")]
    pub username: Option<String>,
    /// Read the password of `--username` from standard input.
    #[arg(long, requires = "username")]
    pub password_stdin: bool,
    /// Concurrent clients.
    #[arg(long, default_value_t = 8)]
    pub clients: usize,
    /// Seconds per phase.
    #[arg(long, default_value_t = 20)]
    pub seconds: u64,
    /// Seed of the synthetic patients (default: from the clock, so that runs against the same
    /// database create new identifiers).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Also write the report as JSON to this file.
    #[arg(long)]
    pub json: Option<PathBuf>,
}

/// The figures of one run.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// Base URL measured.
    pub url: String,
    /// Concurrent clients.
    pub clients: usize,
    /// Planned seconds per phase.
    pub seconds_per_phase: u64,
    /// Seed of the synthetic data.
    pub seed: u64,
    /// One entry per phase, in the order run.
    pub phases: Vec<PhaseReport>,
}

/// The figures of one phase.
#[derive(Debug, Clone, Serialize)]
pub struct PhaseReport {
    /// `create`, `read`, `search` or `transaction`.
    pub phase: &'static str,
    /// Successful operations (2xx and the phase's check passed).
    pub operations: u64,
    /// Failed operations: other status, failed check, transport error or timeout.
    pub errors: u64,
    /// Seconds from the start of the phase until its last request ended.
    pub elapsed_s: f64,
    /// Successful operations per second.
    pub throughput: f64,
    /// Latency percentiles of the successful operations, in milliseconds.
    pub p50_ms: f64,
    /// 95th percentile.
    pub p95_ms: f64,
    /// 99th percentile.
    pub p99_ms: f64,
    /// The first few error messages, to tell what failed.
    pub error_samples: Vec<String>,
}

/// `yigong bench-fhir`: resolves the token, runs, and writes the JSON report if asked.
pub async fn command(mut args: FhirBenchArgs) -> anyhow::Result<()> {
    if let Some(username) = args.username.clone() {
        let mut password = String::new();
        std::io::stdin().read_line(&mut password).context("read the password from standard input")?;
        args.token = Some(login(&args.url, &username, password.trim_end_matches(['\n', '\r'])).await?);
    }
    let json = args.json.clone();
    let report = run(args).await?;
    if let Some(path) = json {
        let text = serde_json::to_string_pretty(&report).context("serialise the report")?;
        std::fs::write(&path, text + "\n").with_context(|| format!("write {}", path.display()))?;
    }
    Ok(())
}

/// Runs the four phases against `args.url` and prints a Markdown table row per phase.
pub async fn run(args: FhirBenchArgs) -> anyhow::Result<Report> {
    anyhow::ensure!(args.clients > 0 && args.seconds > 0, "clients and seconds must be at least 1");
    let seed = args.seed.unwrap_or_else(|| {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(1, |d| d.as_nanos() as u64)
    });
    let target = Target::new(&args.url, args.token.as_deref())?;
    let duration = Duration::from_secs(args.seconds);
    let mut report = Report {
        url: target.base.clone(),
        clients: args.clients,
        seconds_per_phase: args.seconds,
        seed,
        phases: Vec::new(),
    };
    println!("| server | phase | ops | errors | ops/s | p50 ms | p95 ms | p99 ms |");
    println!("|---|---|---:|---:|---:|---:|---:|---:|");
    let mut work = Workload {
        target,
        seed,
        ids: IdSource::new(seed),
        patients: Arc::new(Vec::new()),
        observations: Arc::new(Vec::new()),
    };
    for phase in [Phase::Create, Phase::Read, Phase::Search, Phase::Transaction] {
        if phase != Phase::Create && work.patients.is_empty() {
            anyhow::bail!("the create phase stored no patient, so there is nothing to read or search");
        }
        let (result, created) = run_phase(&work, phase, args.clients, duration).await;
        if phase == Phase::Create {
            work.patients = Arc::new(created.patients);
            work.observations = Arc::new(created.observations);
        }
        println!("{}", markdown_row(&report.url, &result));
        for sample in &result.error_samples {
            eprintln!("  {} error: {sample}", result.phase);
        }
        report.phases.push(result);
    }
    Ok(report)
}

/// Fetches a yigong API token for `username`, from the origin of the FHIR base URL.
pub async fn login(url: &str, username: &str, password: &str) -> anyhow::Result<String> {
    let target = Target::new(url, None)?;
    let uri: Uri = url.parse().context("parse the base URL")?;
    let origin = format!(
        "{}://{}",
        uri.scheme_str().unwrap_or("http"),
        uri.authority().context("the base URL names no host")?
    );
    let body = json!({"username": username, "password": password}).to_string();
    let reply = target
        .send(Method::POST, &format!("{origin}/api/v1/auth/token"), Some(body), "application/json")
        .await
        .map_err(|e| anyhow::anyhow!("log in as {username}: {e}"))?;
    anyhow::ensure!(reply.status == StatusCode::OK, "log in as {username}: {}", reply.describe());
    let parsed: Value = serde_json::from_slice(&reply.body).context("read the token response")?;
    parsed["access_token"].as_str().map(str::to_owned).context("the token response has no access_token")
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Create,
    Read,
    Search,
    Transaction,
}

impl Phase {
    fn name(self) -> &'static str {
        match self {
            Self::Create => "create",
            Self::Read => "read",
            Self::Search => "search",
            Self::Transaction => "transaction",
        }
    }
}

/// What the phases share: the server, the identifier source and what `create` stored.
struct Workload {
    target: Target,
    seed: u64,
    ids: IdSource,
    patients: Arc<Vec<CreatedPatient>>,
    observations: Arc<Vec<String>>,
}

#[derive(Debug, Clone)]
struct CreatedPatient {
    id: String,
    resident_id: String,
}

/// What one client saw in one phase.
#[derive(Default)]
struct Tally {
    latencies_us: Vec<u64>,
    errors: u64,
    error_samples: Vec<String>,
    patients: Vec<CreatedPatient>,
    observations: Vec<String>,
}

impl Tally {
    /// Counts one operation; returns its value when it succeeded.
    fn record<T>(&mut self, started: Instant, outcome: Result<T, String>) -> Option<T> {
        match outcome {
            Ok(value) => {
                self.latencies_us.push(started.elapsed().as_micros() as u64);
                Some(value)
            }
            Err(e) => {
                self.errors += 1;
                if self.error_samples.len() < ERROR_SAMPLES {
                    self.error_samples.push(e);
                }
                None
            }
        }
    }

    fn merge(&mut self, other: Tally) {
        self.latencies_us.extend(other.latencies_us);
        self.errors += other.errors;
        let room = ERROR_SAMPLES.saturating_sub(self.error_samples.len());
        self.error_samples.extend(other.error_samples.into_iter().take(room));
        self.patients.extend(other.patients);
        self.observations.extend(other.observations);
    }
}

async fn run_phase(
    work: &Workload,
    phase: Phase,
    clients: usize,
    duration: Duration,
) -> (PhaseReport, Tally) {
    let started = Instant::now();
    let deadline = started + duration;
    let mut tasks = Vec::with_capacity(clients);
    for client in 0..clients {
        let target = work.target.clone();
        let ids = work.ids.clone();
        let patients = Arc::clone(&work.patients);
        let observations = Arc::clone(&work.observations);
        // Each client has its own stream, the same for the same seed, phase and client.
        let rng = StdRng::seed_from_u64(work.seed ^ ((phase as u64 + 1) << 56) ^ client as u64);
        tasks.push(tokio::spawn(async move {
            let mut client = Worker { target, ids, patients, observations, rng, tally: Tally::default() };
            while Instant::now() < deadline {
                client.step(phase).await;
            }
            client.tally
        }));
    }
    let mut all = Tally::default();
    for task in tasks {
        match task.await {
            Ok(tally) => all.merge(tally),
            Err(e) => {
                all.errors += 1;
                all.error_samples.push(format!("client task failed: {e}"));
            }
        }
    }
    let elapsed = started.elapsed();
    let report = summarise(phase.name(), &mut all.latencies_us, all.errors, elapsed, &all.error_samples);
    (report, all)
}

/// One concurrent client.
struct Worker {
    target: Target,
    ids: IdSource,
    patients: Arc<Vec<CreatedPatient>>,
    observations: Arc<Vec<String>>,
    rng: StdRng,
    tally: Tally,
}

impl Worker {
    async fn step(&mut self, phase: Phase) {
        match phase {
            Phase::Create => self.create().await,
            Phase::Read => self.read().await,
            Phase::Search => self.search().await,
            Phase::Transaction => self.transaction().await,
        }
    }

    async fn create(&mut self) {
        let person = self.ids.next_person(&mut self.rng);
        let started = Instant::now();
        let outcome = self.target.post_resource("Patient", patient(&person)).await;
        let Some(id) = self.tally.record(started, outcome) else { return };
        self.tally.patients.push(CreatedPatient { id: id.clone(), resident_id: person.resident_id });
        let observation = observation(&mut self.rng, &format!("Patient/{id}"), None);
        let started = Instant::now();
        let outcome = self.target.post_resource("Observation", observation).await;
        if let Some(id) = self.tally.record(started, outcome) {
            self.tally.observations.push(id);
        }
    }

    async fn read(&mut self) {
        let path = match self.observations.choose(&mut self.rng) {
            Some(obs) if self.rng.random_bool(0.5) => format!("Observation/{obs}"),
            _ => format!("Patient/{}", self.patients.choose(&mut self.rng).expect("patients").id),
        };
        let started = Instant::now();
        let outcome = self.target.get_json(&path).await.and_then(|resource| {
            let want = path.split('/').next().unwrap_or_default();
            match resource["resourceType"].as_str() {
                Some(ty) if ty == want => Ok(()),
                other => Err(format!("GET {path}: resourceType {other:?}")),
            }
        });
        self.tally.record(started, outcome);
    }

    async fn search(&mut self) {
        let wanted = self.patients.choose(&mut self.rng).expect("patients").clone();
        let path = format!(
            "Patient?identifier={}%7C{}",
            crate::bench::urlencode(RESIDENT_ID_SYSTEM),
            wanted.resident_id
        );
        let started = Instant::now();
        let outcome = self.target.get_json(&path).await.and_then(|bundle| {
            let ids = matched_ids(&bundle);
            if ids.len() == 1 && ids[0] == wanted.id {
                Ok(())
            } else {
                Err(format!("GET {path}: expected exactly Patient/{}, matched {ids:?}", wanted.id))
            }
        });
        self.tally.record(started, outcome);
    }

    async fn transaction(&mut self) {
        let person = self.ids.next_person(&mut self.rng);
        let bundle = transaction_bundle(&mut self.rng, &person);
        let started = Instant::now();
        let outcome = self.target.post_transaction(bundle).await;
        self.tally.record(started, outcome);
    }
}

/// The ids of the Patients a searchset Bundle returns as matches (`search.mode` absent or
/// `match`; included resources are not matches).
fn matched_ids(bundle: &Value) -> Vec<String> {
    let entries = bundle["entry"].as_array().map(Vec::as_slice).unwrap_or_default();
    entries
        .iter()
        .filter(|e| e["search"]["mode"].as_str().is_none_or(|m| m == "match"))
        .filter(|e| e["resource"]["resourceType"] == "Patient")
        .map(|e| e["resource"]["id"].as_str().unwrap_or_default().to_owned())
        .collect()
}

/// The server and how to reach it.
#[derive(Clone)]
struct Target {
    base: String,
    authorization: Option<HeaderValue>,
    client: Client<HttpConnector, Full<Bytes>>,
}

struct Reply {
    status: StatusCode,
    location: Option<String>,
    body: Bytes,
}

impl Reply {
    /// Status and the start of the body, for an error message.
    fn describe(&self) -> String {
        let text = String::from_utf8_lossy(&self.body);
        let snippet: String = text.chars().take(300).collect();
        format!("{} {snippet}", self.status)
    }
}

impl Target {
    fn new(url: &str, token: Option<&str>) -> anyhow::Result<Self> {
        let base = url.trim_end_matches('/').to_owned();
        let uri: Uri = base.parse().with_context(|| format!("parse the base URL {base}"))?;
        anyhow::ensure!(uri.scheme_str() == Some("http"), "only http:// base URLs are supported");
        let authorization = token
            .map(|t| HeaderValue::from_str(&format!("Bearer {t}")))
            .transpose()
            .context("the token is not a valid header value")?;
        let client = Client::builder(TokioExecutor::new()).build_http();
        Ok(Self { base, authorization, client })
    }

    /// The URL of `path` under the base; `""` is the base itself (the system endpoint).
    fn url(&self, path: &str) -> String {
        if path.is_empty() {
            // POST [base] — a base without a path still needs the root.
            let has_path = self.base.splitn(4, '/').nth(3).is_some();
            if has_path { self.base.clone() } else { format!("{}/", self.base) }
        } else {
            format!("{}/{path}", self.base)
        }
    }

    async fn send(
        &self,
        method: Method,
        url: &str,
        body: Option<String>,
        content_type: &str,
    ) -> Result<Reply, String> {
        let mut request =
            Request::builder().method(method.clone()).uri(url).header(header::ACCEPT, content_type);
        if let Some(auth) = &self.authorization {
            request = request.header(header::AUTHORIZATION, auth.clone());
        }
        if body.is_some() {
            request = request.header(header::CONTENT_TYPE, content_type);
        }
        let request = request
            .body(Full::new(Bytes::from(body.unwrap_or_default())))
            .map_err(|e| format!("{method} {url}: build request: {e}"))?;
        let exchange = async {
            let response = self.client.request(request).await.map_err(|e| format!("{method} {url}: {e}"))?;
            let status = response.status();
            let location = response
                .headers()
                .get(header::LOCATION)
                .or_else(|| response.headers().get(header::CONTENT_LOCATION))
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            let body = response
                .into_body()
                .collect()
                .await
                .map_err(|e| format!("{method} {url}: read body: {e}"))?
                .to_bytes();
            Ok(Reply { status, location, body })
        };
        tokio::time::timeout(REQUEST_TIMEOUT, exchange)
            .await
            .unwrap_or_else(|_| Err(format!("{method} {url}: no answer within {REQUEST_TIMEOUT:?}")))
    }

    /// POST `[base]/[type]`; returns the new id (from the body, else from `Location`).
    async fn post_resource(&self, ty: &str, resource: Value) -> Result<String, String> {
        let reply = self.send(Method::POST, &self.url(ty), Some(resource.to_string()), FHIR_JSON).await?;
        if !reply.status.is_success() {
            return Err(format!("POST {ty}: {}", reply.describe()));
        }
        let from_body = serde_json::from_slice::<Value>(&reply.body)
            .ok()
            .and_then(|v| v["id"].as_str().map(str::to_owned));
        from_body
            .or_else(|| reply.location.as_deref().and_then(|l| id_from_location(l, ty)))
            .ok_or_else(|| format!("POST {ty}: {} without an id in the body or Location", reply.status))
    }

    /// GET `[base]/[path]`, which must answer 2xx with a JSON body.
    async fn get_json(&self, path: &str) -> Result<Value, String> {
        let reply = self.send(Method::GET, &self.url(path), None, FHIR_JSON).await?;
        if !reply.status.is_success() {
            return Err(format!("GET {path}: {}", reply.describe()));
        }
        serde_json::from_slice(&reply.body).map_err(|e| format!("GET {path}: body is not JSON: {e}"))
    }

    /// POST `[base]` with a transaction Bundle: 200 and one successful entry per entry sent.
    async fn post_transaction(&self, bundle: Value) -> Result<(), String> {
        let sent = bundle["entry"].as_array().map_or(0, Vec::len);
        let reply = self.send(Method::POST, &self.url(""), Some(bundle.to_string()), FHIR_JSON).await?;
        if reply.status != StatusCode::OK {
            return Err(format!("POST transaction: {}", reply.describe()));
        }
        let response: Value = serde_json::from_slice(&reply.body)
            .map_err(|e| format!("POST transaction: body is not JSON: {e}"))?;
        let entries = response["entry"].as_array().map(Vec::as_slice).unwrap_or_default();
        let failed = entries
            .iter()
            .filter(|e| !e["response"]["status"].as_str().is_some_and(|s| s.starts_with('2')))
            .count();
        if entries.len() != sent || failed > 0 {
            return Err(format!(
                "POST transaction: {} entries answered for {sent} sent, {failed} without a 2xx status",
                entries.len()
            ));
        }
        Ok(())
    }
}

/// The id in `…/Type/id` or `…/Type/id/_history/n`.
fn id_from_location(location: &str, ty: &str) -> Option<String> {
    let mut parts = location.split('/');
    parts.by_ref().find(|p| *p == ty)?;
    parts.next().filter(|id| !id.is_empty()).map(str::to_owned)
}

/// A synthetic person: a fictitious but well-formed resident ID (area code `99….`, the
/// synthetic province) and a Chinese name.
#[derive(Debug, Clone)]
struct Person {
    resident_id: String,
    family: &'static str,
    given: String,
    male: bool,
    birth_date: NaiveDate,
    phone: String,
}

/// Unique resident IDs for the whole run: a counter shared by all clients, offset by the seed
/// so that runs with different seeds against one database do not collide.
#[derive(Clone)]
struct IdSource {
    next: Arc<AtomicU64>,
}

/// Area codes (4 digits after `99`) × birth days (1940-01-01 + 0..29_000) × sequence numbers.
const ID_SPACE: u64 = 10_000 * 29_000 * 1_000;

impl IdSource {
    fn new(seed: u64) -> Self {
        // Leave room for a billion identifiers after the starting point.
        let start = splitmix(seed) % (ID_SPACE - 1_000_000_000);
        Self { next: Arc::new(AtomicU64::new(start)) }
    }

    fn next_person(&self, rng: &mut StdRng) -> Person {
        let n = self.next.fetch_add(1, Ordering::Relaxed) % ID_SPACE;
        let resident_id = resident_id(n);
        let male = resident_id.as_bytes()[16] % 2 == 1;
        let birth_date = NaiveDate::parse_from_str(&resident_id[6..14], "%Y%m%d").expect("generated date");
        let family = SURNAMES.choose(rng).copied().unwrap_or("王");
        let pool = if male { GIVEN_MALE } else { GIVEN_FEMALE };
        let given: String = (0..rng.random_range(1..=2)).filter_map(|_| pool.choose(rng).copied()).collect();
        let phone = format!("139{:08}", rng.random_range(0..100_000_000u32));
        Person { resident_id, family, given, male, birth_date, phone }
    }
}

/// The `n`th resident ID: `99` + area + birth date + sequence + GB 11643 check character.
fn resident_id(n: u64) -> String {
    let area = n % 10_000;
    let sequence = (n / 10_000) % 1_000;
    let day = (n / 10_000_000) % 29_000;
    let born = NaiveDate::from_ymd_opt(1940, 1, 1).expect("date") + Days::new(day);
    let body = format!("99{area:04}{}{sequence:03}", born.format("%Y%m%d"));
    format!("{body}{}", yigong_domain::identity::check_char(&body))
}

fn splitmix(seed: u64) -> u64 {
    let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

const SURNAMES: &[&str] = &[
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭", "何",
    "高", "林", "罗", "郑", "梁", "谢", "宋", "唐", "许", "韩", "冯", "邓", "曹", "彭", "曾", "萧", "田",
    "董", "潘",
];
const GIVEN_MALE: &[&str] = &[
    "伟", "强", "磊", "军", "洋", "勇", "杰", "涛", "明", "超", "刚", "平", "辉", "鹏", "华", "飞", "建",
    "国",
];
const GIVEN_FEMALE: &[&str] = &[
    "芳", "娜", "敏", "静", "丽", "艳", "娟", "霞", "秀", "英", "玲", "桂", "兰", "燕", "红", "梅", "琳",
    "婷",
];

fn patient(person: &Person) -> Value {
    json!({
        "resourceType": "Patient",
        "identifier": [{"system": RESIDENT_ID_SYSTEM, "value": person.resident_id}],
        "name": [{
            "text": format!("{}{}", person.family, person.given),
            "family": person.family,
            "given": [person.given],
        }],
        "gender": if person.male { "male" } else { "female" },
        "birthDate": person.birth_date.format("%Y-%m-%d").to_string(),
        "telecom": [{"system": "phone", "value": person.phone, "use": "mobile"}],
    })
}

/// Vital signs and a lab value: LOINC code, Chinese text, UCUM unit, plausible range.
const MEASURES: &[(&str, &str, &str, f64, f64)] = &[
    ("8867-4", "心率", "/min", 55.0, 110.0),
    ("8310-5", "体温", "Cel", 36.0, 39.5),
    ("9279-1", "呼吸频率", "/min", 12.0, 24.0),
    ("8480-6", "收缩压", "mm[Hg]", 95.0, 170.0),
    ("8462-4", "舒张压", "mm[Hg]", 55.0, 105.0),
    ("29463-7", "体重", "kg", 40.0, 95.0),
    ("15074-8", "血糖", "mmol/L", 3.9, 13.0),
];

fn observation(rng: &mut StdRng, subject: &str, encounter: Option<&str>) -> Value {
    let (code, text, unit, low, high) = *MEASURES.choose(rng).expect("measures");
    let value = (rng.random_range(low..high) * 10.0).round() / 10.0;
    let mut observation = json!({
        "resourceType": "Observation",
        "status": "final",
        "category": [{"coding": [{
            "system": "http://terminology.hl7.org/CodeSystem/observation-category",
            "code": if code == "15074-8" { "laboratory" } else { "vital-signs" },
        }]}],
        "code": {"coding": [{"system": "http://loinc.org", "code": code}], "text": text},
        "subject": {"reference": subject},
        "effectiveDateTime": format!("2025-{:02}-{:02}T{:02}:{:02}:00+08:00",
            rng.random_range(1..=12), rng.random_range(1..=28), rng.random_range(8..18), rng.random_range(0..60)),
        "valueQuantity": {"value": value, "unit": unit, "system": "http://unitsofmeasure.org", "code": unit},
    });
    if let Some(encounter) = encounter {
        observation["encounter"] = json!({"reference": encounter});
    }
    observation
}

fn urn_uuid(rng: &mut StdRng) -> String {
    format!("urn:uuid:{}", uuid::Builder::from_random_bytes(rng.random()).into_uuid())
}

/// A transaction of one outpatient visit: the Patient, the Encounter and 18 Observations.
fn transaction_bundle(rng: &mut StdRng, person: &Person) -> Value {
    let (patient_url, encounter_url) = (urn_uuid(rng), urn_uuid(rng));
    let mut entries = vec![
        json!({"fullUrl": patient_url, "resource": patient(person),
               "request": {"method": "POST", "url": "Patient"}}),
        json!({"fullUrl": encounter_url, "resource": {
            "resourceType": "Encounter",
            "status": "finished",
            "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB",
                      "display": "ambulatory"},
            "subject": {"reference": patient_url},
            "period": {"start": "2026-05-06T09:00:00+08:00", "end": "2026-05-06T09:40:00+08:00"},
        }, "request": {"method": "POST", "url": "Encounter"}}),
    ];
    for _ in 0..BUNDLE_OBSERVATIONS {
        entries.push(json!({
            "fullUrl": urn_uuid(rng),
            "resource": observation(rng, &patient_url, Some(&encounter_url)),
            "request": {"method": "POST", "url": "Observation"},
        }));
    }
    json!({"resourceType": "Bundle", "type": "transaction", "entry": entries})
}

/// Nearest-rank percentile (`p` in 0..=100) of sorted samples; 0 for none.
fn percentile(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn summarise(
    phase: &'static str,
    latencies_us: &mut [u64],
    errors: u64,
    elapsed: Duration,
    error_samples: &[String],
) -> PhaseReport {
    latencies_us.sort_unstable();
    let operations = latencies_us.len() as u64;
    let seconds = elapsed.as_secs_f64();
    let ms = |p| percentile(latencies_us, p) as f64 / 1000.0;
    PhaseReport {
        phase,
        operations,
        errors,
        elapsed_s: seconds,
        throughput: if seconds > 0.0 { operations as f64 / seconds } else { 0.0 },
        p50_ms: ms(50.0),
        p95_ms: ms(95.0),
        p99_ms: ms(99.0),
        error_samples: error_samples.to_vec(),
    }
}

fn markdown_row(url: &str, r: &PhaseReport) -> String {
    format!(
        "| {url} | {} | {} | {} | {:.1} | {:.2} | {:.2} | {:.2} |",
        r.phase, r.operations, r.errors, r.throughput, r.p50_ms, r.p95_ms, r.p99_ms
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_nearest_rank() {
        let samples: Vec<u64> = (1..=100).collect();
        assert_eq!(percentile(&samples, 50.0), 50);
        assert_eq!(percentile(&samples, 95.0), 95);
        assert_eq!(percentile(&samples, 99.0), 99);
        assert_eq!(percentile(&samples, 100.0), 100);
        assert_eq!(percentile(&[7], 99.0), 7);
        assert_eq!(percentile(&[], 50.0), 0);
        // Ten samples: the 99th percentile is the largest, the median the fifth.
        let ten: Vec<u64> = (1..=10).map(|n| n * 1000).collect();
        assert_eq!(percentile(&ten, 99.0), 10_000);
        assert_eq!(percentile(&ten, 50.0), 5_000);
    }

    #[test]
    fn report_counts_successes_and_errors_apart() {
        let mut latencies: Vec<u64> = (1..=200).rev().map(|n| n * 100).collect();
        let samples = vec!["POST Patient: 500".to_owned()];
        let r = summarise("create", &mut latencies, 3, Duration::from_secs(4), &samples);
        assert_eq!((r.operations, r.errors), (200, 3));
        assert!((r.throughput - 50.0).abs() < 1e-9);
        assert!((r.p50_ms - 10.0).abs() < 1e-9, "{}", r.p50_ms);
        assert!((r.p95_ms - 19.0).abs() < 1e-9, "{}", r.p95_ms);
        assert!((r.p99_ms - 19.8).abs() < 1e-9, "{}", r.p99_ms);
        assert_eq!(
            markdown_row("http://x/fhir", &r),
            "| http://x/fhir | create | 200 | 3 | 50.0 | 10.00 | 19.00 | 19.80 |"
        );
        let none = summarise("read", &mut [], 5, Duration::ZERO, &[]);
        assert_eq!((none.operations, none.throughput, none.p99_ms), (0, 0.0, 0.0));
    }

    #[test]
    fn resident_ids_are_unique_well_formed_and_fictitious() {
        let today = NaiveDate::from_ymd_opt(2026, 1, 1).expect("date");
        let mut seen = std::collections::HashSet::new();
        for n in (0..ID_SPACE).step_by((ID_SPACE / 5_000) as usize).chain(1..5_000) {
            let id = resident_id(n);
            assert_eq!(id.len(), 18);
            assert!(id.starts_with("99"), "{id}");
            assert!(yigong_domain::identity::ResidentId::parse(&id, today).is_ok(), "{id}");
            assert!(seen.insert(id));
        }
    }

    #[test]
    fn transaction_bundle_has_twenty_linked_entries() {
        let mut rng = StdRng::seed_from_u64(7);
        let person = IdSource::new(7).next_person(&mut rng);
        let bundle = transaction_bundle(&mut rng, &person);
        let entries = bundle["entry"].as_array().expect("entries");
        assert_eq!(entries.len(), 20);
        let patient_url = entries[0]["fullUrl"].as_str().expect("fullUrl");
        assert!(patient_url.starts_with("urn:uuid:"));
        assert_eq!(entries[1]["resource"]["subject"]["reference"], patient_url);
        assert!(entries[2..].iter().all(|e| e["resource"]["subject"]["reference"] == patient_url
            && e["resource"]["encounter"]["reference"] == entries[1]["fullUrl"]));
    }

    #[test]
    fn ids_come_from_the_body_or_the_location() {
        assert_eq!(
            id_from_location("http://h/fhir/Patient/abc/_history/1", "Patient").as_deref(),
            Some("abc")
        );
        assert_eq!(id_from_location("Observation/9", "Observation").as_deref(), Some("9"));
        assert_eq!(id_from_location("http://h/fhir/Patient/", "Patient"), None);
        let bundle = json!({"entry": [
            {"resource": {"resourceType": "Patient", "id": "a"}, "search": {"mode": "match"}},
            {"resource": {"resourceType": "OperationOutcome"}, "search": {"mode": "outcome"}},
        ]});
        assert_eq!(matched_ids(&bundle), vec!["a".to_owned()]);
    }
}
