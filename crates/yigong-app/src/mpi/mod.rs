//! Master patient index use cases (DESIGN.md §3): registration that searches first, matching
//! without creating, the person view with its golden record, steward operations and the review
//! queue, and the bulk import and matching run used at county rollout.
//!
//! The matching itself is `yigong_mpi` (pure); this module feeds it records from the store,
//! keeps the estimated model per consortium (stored, and cached in memory by version), and
//! turns scored pairs into links, persons and review candidates.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, NaiveDate, Utc};
use sm3::{Digest, Sm3};
use yigong_domain::access::{Actor, Basis, Permission, Target};
use yigong_domain::identity::ResidentIdStatus;
use yigong_domain::ids::{ConsortiumId, InstitutionId, PatientRecordId, PersonId};
use yigong_mpi::{Band, Config, MatchResult, Model, Prepared, RawRecord, Record, SourceRef};
use yigong_store::Tx;
use yigong_store::mpi::{self as store, RecordRow, Values};

use crate::access::authorize;
use crate::audit::{self, Event};
use crate::{AppError, Ctx};

mod bulk;
pub mod file;
mod steward;
mod view;

pub use bulk::{
    FileImport, ImportReport, ImportRow, MatchReport, Progress, import_file, import_rows, rematch,
};
pub use steward::{Decision, decide, link_record, merge, undo, unlink_record};
pub use view::{
    CandidateView, PersonView, RecordView, get_candidate, get_person, list_candidates, open_review_count,
    record_person,
};

/// How many records of one blocking key an online lookup reads at most.
const PER_KEY: u32 = 200;
/// Matches shown to a registrar.
const MAX_MATCHES: usize = 10;

/// Estimated models per consortium, by version: scoring an online request needs no estimation.
#[derive(Debug, Default)]
pub struct Models(Mutex<HashMap<ConsortiumId, Arc<Model>>>);

impl Models {
    fn get(&self, consortium: ConsortiumId, version: &str) -> Option<Arc<Model>> {
        let map = self.0.lock().unwrap_or_else(|p| p.into_inner());
        map.get(&consortium).filter(|m| m.parameters().version == version).cloned()
    }

    fn put(&self, consortium: ConsortiumId, model: Arc<Model>) {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).insert(consortium, model);
    }
}

/// The engine's view of a stored record.
pub(crate) fn raw_record(row: &RecordRow) -> RawRecord {
    let v = &row.values;
    RawRecord {
        source: SourceRef { system: String::new(), local_id: row.local_id.clone() },
        name: v.name.clone(),
        sex: v.sex.clone(),
        birth_date: v.birth_date.clone(),
        resident_id: v.resident_id.clone(),
        phone: v.phone.clone(),
        village_code: v.village_code.clone(),
        household_id: v.household_id.clone(),
        e_health_card: v.e_health_card.clone(),
        insurance_number: v.insurance_number.clone(),
        given_name: v.given_name.clone(),
        family_name: v.family_name.clone(),
        address: v.address.clone(),
        locality: v.locality.clone(),
        postcode: v.postcode.clone(),
        region: v.region.clone(),
    }
}

pub(crate) fn prepare(row: &RecordRow, today: NaiveDate) -> Prepared {
    Prepared::new(&Record::from_raw(&raw_record(row), today))
}

/// `valid`, `derived_from_15` or the warning code of an unverified number.
pub(crate) fn resident_id_status(raw: Option<&str>, today: NaiveDate) -> Option<String> {
    let status = yigong_domain::identity::assess_resident_id(raw?, today)?;
    Some(status.status_code().to_owned())
}

/// SM3 over the values and the verified flag: equal rows, equal hash.
pub(crate) fn content_hash(values: &Values, verified: bool) -> String {
    let json = serde_json::to_string(&(values, verified)).expect("values serialise");
    let digest = Sm3::digest(json.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Below this many records the index is too young for EM to estimate from: the shipped prior
/// parameters are used (with term frequencies of the records there are).
pub const MIN_RECORDS: i64 = 1_000;

/// The prior for the shipped configuration: m and u estimated by EM on the synthetic county
/// (20,520 registrations, `prior.json`). Only used while an index holds fewer than
/// [`MIN_RECORDS`] records, and only with the configuration it was estimated for.
pub(crate) fn prior() -> yigong_mpi::Parameters {
    serde_json::from_str(include_str!("prior.json")).expect("the shipped prior parses")
}

pub(crate) fn model_error(e: impl std::fmt::Display) -> AppError {
    AppError::Store(yigong_store::StoreError::Config(e.to_string()))
}

/// The configuration of the newest stored model, or the shipped default when none is stored.
pub(crate) async fn stored_config(tx: &mut Tx, consortium: ConsortiumId) -> Result<Config, AppError> {
    Ok(match store::latest_model(tx, consortium).await? {
        Some((_, json)) => Model::from_json(&json).map_err(model_error)?.config().clone(),
        None => default_config(),
    })
}

/// Reads the newest stored model and caches it.
async fn load_latest(ctx: &Ctx, mut tx: Tx, consortium: ConsortiumId) -> Result<Arc<Model>, AppError> {
    let (_, json) = store::latest_model(&mut tx, consortium).await?.ok_or_else(|| model_error("no model"))?;
    tx.commit().await?;
    let model = Arc::new(Model::from_json(&json).map_err(model_error)?);
    ctx.mpi.put(consortium, model.clone());
    Ok(model)
}

/// The consortium's current model: the newest stored one estimated over enough records
/// (cached by version); for a young index, the prior with the records' term frequencies; when
/// the index has outgrown the prior and no estimate exists yet, a matching run estimates one.
pub(crate) async fn current_model(ctx: &Ctx, consortium: ConsortiumId) -> Result<Arc<Model>, AppError> {
    let mut tx = ctx.db.begin().await?;
    let info = store::latest_model_info(&mut tx, consortium).await?;
    if let Some((version, records)) = &info
        && *records >= MIN_RECORDS
    {
        if let Some(model) = ctx.mpi.get(consortium, version) {
            return Ok(model);
        }
        return load_latest(ctx, tx, consortium).await;
    }
    let count = store::count_records(&mut tx, consortium).await?;
    if count < MIN_RECORDS {
        let config = stored_config(&mut tx, consortium).await?;
        let records = store::all_records(&mut tx, consortium).await?;
        tx.commit().await?;
        let today = ctx.clock.now().date_naive();
        let prepared: Vec<Prepared> = records.iter().map(|r| prepare(r, today)).collect();
        let frequencies = yigong_mpi::TermFrequencies::build(&config, &prepared);
        if let Ok(model) = Model::new(config, prior(), frequencies) {
            return Ok(Arc::new(model));
        }
    } else {
        tx.commit().await?;
    }
    // Estimate now (an operator's own configuration, or an index that outgrew the prior).
    bulk::rematch(ctx, consortium, None, &Progress::none()).await?;
    load_latest(ctx, ctx.db.begin().await?, consortium).await
}

/// A person that a candidate record may be, with the best-scoring of their records.
#[derive(Debug, Clone)]
pub struct Match {
    /// The person.
    pub person_id: PersonId,
    /// Their record that scored best.
    pub record: RecordRow,
    /// Source code of that record.
    pub source: String,
    /// Score, band and field-by-field explanation.
    pub result: MatchResult,
}

/// Scores `candidate` against the records that share a blocking key with it, and returns the
/// persons in the auto-link and review bands, best first (at most ten).
pub(crate) async fn find_matches(
    ctx: &Ctx,
    tx: &mut Tx,
    consortium: ConsortiumId,
    model: &Model,
    candidate: &Prepared,
) -> Result<Vec<Match>, AppError> {
    let keys = yigong_mpi::block::record_keys(&model.config().blocking, candidate);
    let ids = store::records_with_keys(tx, consortium, &keys, PER_KEY).await?;
    let rows = store::records_by_ids(tx, consortium, &ids).await?;
    let sources: HashMap<_, _> =
        store::sources(tx, consortium).await?.into_iter().map(|s| (s.source_id, s.code)).collect();
    let today = ctx.clock.now().date_naive();
    let mut best: HashMap<PersonId, Match> = HashMap::new();
    for row in rows {
        let result = model.score(candidate, &prepare(&row, today));
        if result.band == Band::NoLink {
            continue;
        }
        let Some(person_id) = store::person_of(tx, consortium, row.record_id).await? else { continue };
        // The person's best-scoring record; on a tie the earliest (lowest UUIDv7), so the pair
        // queued does not depend on the order the database returned the records in.
        if best.get(&person_id).is_some_and(|m| {
            m.result.score > result.score
                || (m.result.score == result.score && m.record.record_id < row.record_id)
        }) {
            continue;
        }
        let source = sources.get(&row.source_id.as_uuid()).cloned().unwrap_or_default();
        best.insert(person_id, Match { person_id, record: row, source, result });
    }
    let mut matches: Vec<Match> = best.into_values().collect();
    matches.sort_by(|a, b| b.result.score.total_cmp(&a.result.score).then(a.person_id.cmp(&b.person_id)));
    matches.truncate(MAX_MATCHES);
    Ok(matches)
}

/// Demographics to match, as typed: nothing is required but something must be given.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
pub struct MatchQuery {
    /// Name.
    pub name: Option<String>,
    /// Sex.
    pub sex: Option<String>,
    /// Birth date.
    pub birth_date: Option<String>,
    /// Resident ID.
    pub resident_id: Option<String>,
    /// Phone.
    pub phone: Option<String>,
    /// Village code.
    pub village_code: Option<String>,
    /// Household.
    pub household_id: Option<String>,
    /// E-health card.
    pub e_health_card: Option<String>,
    /// Insurance number.
    pub insurance_number: Option<String>,
}

impl MatchQuery {
    fn values(&self) -> Values {
        let clean =
            |v: &Option<String>| v.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned);
        Values {
            name: clean(&self.name),
            sex: clean(&self.sex),
            birth_date: clean(&self.birth_date),
            resident_id: clean(&self.resident_id),
            phone: clean(&self.phone),
            village_code: clean(&self.village_code),
            household_id: clean(&self.household_id),
            e_health_card: clean(&self.e_health_card),
            insurance_number: clean(&self.insurance_number),
            ..Values::default()
        }
    }
}

fn query_row(values: Values) -> RecordRow {
    RecordRow {
        record_id: PatientRecordId::from_uuid(uuid::Uuid::nil()),
        source_id: yigong_domain::ids::SourceId::from_uuid(uuid::Uuid::nil()),
        local_id: String::new(),
        values,
        verified: false,
        content_hash: String::new(),
        registered_at: DateTime::<Utc>::MIN_UTC,
        registered_by: None,
    }
}

/// What a registrar's action touches: their acting institution (the consortium for an actor
/// without one, which then fails the scope check and is audited).
fn acting_target(actor: &Actor) -> Target {
    match actor.institution_id {
        Some(i) => Target::institution(actor.consortium_id, i),
        None => Target::consortium(actor.consortium_id),
    }
}

/// The institution an actor registers and searches for: their acting institution.
async fn acting_institution(ctx: &Ctx, actor: &Actor, event: Event<'_>) -> Result<InstitutionId, AppError> {
    match actor.institution_id {
        Some(i) => Ok(i),
        None => {
            let event = Event { detail: Some("denial=no_acting_institution".into()), ..event };
            audit::record_denied(
                ctx,
                Some(actor),
                Some(actor.consortium_id),
                event,
                actor.request_id.clone(),
            )
            .await?;
            Err(AppError::Forbidden { code: "no_acting_institution" })
        }
    }
}

/// Scores a candidate record against the index without storing anything (OpenCR's "match
/// without create"): for a registrar's search and for systems that ask before they send.
pub async fn match_only(ctx: &Ctx, actor: &Actor, query: &MatchQuery) -> Result<Vec<Match>, AppError> {
    let consortium = actor.consortium_id;
    let target = acting_target(actor);
    let basis =
        authorize(ctx, actor, Permission::PatientRead, &target, Event::of("match", "mpi_person")).await?;
    acting_institution(ctx, actor, Event::of("match", "mpi_person")).await?;
    let values = query.values();
    if values.name.is_none() && values.resident_id.is_none() && values.phone.is_none() {
        return Err(yigong_domain::Invalid::one(
            "name",
            "match_needs_name_or_identifier",
            "give at least a name, a resident ID or a phone number",
        )
        .into());
    }
    let model = current_model(ctx, consortium).await?;
    let today = ctx.clock.now().date_naive();
    let candidate = prepare(&query_row(values), today);
    let mut tx = ctx.db.begin().await?;
    let matches = find_matches(ctx, &mut tx, consortium, &model, &candidate).await?;
    tx.commit().await?;
    let mut event = Event::of("match", "mpi_person");
    // The persons shown, by id (DESIGN §5.2: a search names whom it returned).
    let shown: Vec<String> = matches.iter().map(|m| m.person_id.to_string()).collect();
    event.detail = Some(format!("candidates={} persons={}", matches.len(), shown.join(",")));
    audit::record_read(ctx, actor, consortium, basis, event).await?;
    Ok(matches)
}

/// What the registrar decided after seeing the matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegistrarChoice {
    /// Let the index decide: link to an auto-band match, else a new person (review-band
    /// matches go to the review queue).
    Automatic,
    /// The patient is this person (one of the matches shown).
    Person(PersonId),
    /// The patient is none of the matches: a new person; the matches go to the review queue.
    NewPerson,
}

/// What a registration did.
#[derive(Debug, Clone)]
pub struct Registered {
    /// The new record.
    pub record_id: PatientRecordId,
    /// The facility patient number (generated when none was given).
    pub local_id: String,
    /// The person it is linked to.
    pub person_id: PersonId,
    /// How it was linked (`new`, `auto`, `registrar`).
    pub method: store::LinkMethod,
    /// The matches considered.
    pub matches: Vec<Match>,
    /// Pairs put in the review queue.
    pub queued: usize,
    /// Accepted-with-warning codes.
    pub warnings: Vec<&'static str>,
}

/// Registers a patient at the actor's institution. The index is searched first; see
/// [`RegistrarChoice`] for what happens to the matches. Record, person, link, review
/// candidates, blocking keys and audit row are one transaction.
pub async fn register(
    ctx: &Ctx,
    actor: &Actor,
    draft: &yigong_domain::patient::RegistrationDraft,
    choice: RegistrarChoice,
) -> Result<Registered, AppError> {
    let consortium = actor.consortium_id;
    let target = acting_target(actor);
    let basis =
        authorize(ctx, actor, Permission::PatientWrite, &target, Event::of("create", "mpi_record")).await?;
    let institution = acting_institution(ctx, actor, Event::of("create", "mpi_record")).await?;
    let now = ctx.clock.now();
    let today = now.date_naive();
    let registration = yigong_domain::patient::validate_registration(draft, today)?;
    let values = registration_values(&registration);
    let model = current_model(ctx, consortium).await?;
    let row_id = PatientRecordId::new_v7();
    let local_id = registration.local_id.clone().unwrap_or_else(|| generated_local_id(row_id));
    let mut tx = ctx.db.begin_write().await?;
    let source = institution_source(&mut tx, consortium, institution, now).await?;
    let row = RecordRow {
        record_id: row_id,
        source_id: source,
        local_id: local_id.clone(),
        content_hash: content_hash(&values, registration.verified),
        values,
        verified: registration.verified,
        registered_at: now,
        registered_by: Some(actor.user_id),
    };
    let linked =
        link_new_record(ctx, &mut tx, consortium, &model, &row, choice, Some(actor.user_id), now).await?;
    let (person_id, method, matches, queued) =
        (linked.person_id, linked.method, linked.matches, linked.queued);
    let mut event = Event::on("create", "mpi_record", row_id);
    event.patient_id = Some(person_id.as_uuid());
    event.detail = Some(format!("method={} matches={} queued={}", method.as_str(), matches.len(), queued));
    audit::record(ctx, &mut tx, actor, consortium, basis, event).await?;
    tx.commit().await?;
    Ok(Registered {
        record_id: row_id,
        local_id,
        person_id,
        method,
        matches,
        queued,
        warnings: registration.warnings.iter().map(|w| w.as_str()).collect(),
    })
}

/// What linking a new record did.
pub(crate) struct Linked {
    pub person_id: PersonId,
    pub method: store::LinkMethod,
    pub matches: Vec<Match>,
    pub queued: usize,
}

/// Stores a new record and links it: searches the index, links by `choice`, queues the other
/// matches for review and indexes its blocking keys, all in the caller's transaction.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn link_new_record(
    ctx: &Ctx,
    tx: &mut Tx,
    consortium: ConsortiumId,
    model: &Model,
    row: &RecordRow,
    choice: RegistrarChoice,
    actor_id: Option<uuid::Uuid>,
    now: DateTime<Utc>,
) -> Result<Linked, AppError> {
    let today = now.date_naive();
    let row_id = row.record_id;
    let prepared = prepare(row, today);
    let matches = find_matches(ctx, tx, consortium, model, &prepared).await?;
    let version = model.parameters().version.clone();
    let (person_id, method, score, new_person) = match choice {
        RegistrarChoice::Person(p) => match matches.iter().find(|m| m.person_id == p) {
            Some(m) => (p, store::LinkMethod::Registrar, Some(m.result.score), false),
            None => {
                return Err(yigong_domain::Invalid::one(
                    "person_id",
                    "person_not_a_match",
                    "the person chosen is not among the matches for these details",
                )
                .into());
            }
        },
        RegistrarChoice::Automatic => match matches.first().filter(|m| m.result.band == Band::AutoLink) {
            Some(m) => (m.person_id, store::LinkMethod::Auto, Some(m.result.score), false),
            None => (PersonId::new_v7(), store::LinkMethod::New, None, true),
        },
        RegistrarChoice::NewPerson => (PersonId::new_v7(), store::LinkMethod::New, None, true),
    };
    store::insert_records(tx, consortium, std::slice::from_ref(row), now).await.map_err(|e| match e {
        yigong_store::StoreError::Conflict { .. } => yigong_domain::Invalid::one(
            "local_id",
            "local_id_taken",
            "this patient number is already registered at the institution",
        )
        .into(),
        other => AppError::from(other),
    })?;
    if new_person {
        store::insert_persons(tx, consortium, &[person_id], now).await?;
    }
    let link = store::NewLink {
        record_id: row_id,
        person_id,
        method,
        score,
        rule_version: score.map(|_| version.clone()),
        actor_id,
        reason: None,
        operation_id: None,
    };
    store::insert_links(tx, consortium, &[link], now).await?;
    // Every match that is now a different person waits for a steward.
    let queued: Vec<store::CandidateRow> = matches
        .iter()
        .filter(|m| m.person_id != person_id)
        .map(|m| candidate_row(row_id, m.record.record_id, &m.result, now))
        .collect();
    store::insert_candidates(tx, consortium, &queued).await?;
    let keys: Vec<(i64, PatientRecordId)> =
        yigong_mpi::block::record_keys(&model.config().blocking, &prepared)
            .into_iter()
            .map(|k| (k, row_id))
            .collect();
    store::insert_block_keys(tx, consortium, &keys).await?;
    Ok(Linked { person_id, method, matches, queued: queued.len() })
}

fn registration_values(r: &yigong_domain::patient::Registration) -> Values {
    let (resident_id, status) = match &r.resident_id {
        Some(ResidentIdStatus::Valid(id)) => {
            (Some(id.as_str().to_owned()), Some(ResidentIdStatus::Valid(id.clone())))
        }
        Some(s @ ResidentIdStatus::Unverified { normalised, .. }) => {
            (Some(normalised.clone()), Some(s.clone()))
        }
        None => (None, None),
    };
    Values {
        name: Some(r.name.clone()),
        sex: Some(r.sex.as_str().to_owned()),
        birth_date: Some(r.birth_date.format("%Y-%m-%d").to_string()),
        resident_id,
        resident_id_status: status.map(|s| s.status_code().to_owned()),
        no_id_reason: r.no_id_reason.map(|n| n.as_str().to_owned()),
        phone: r.phone.as_ref().map(|p| p.as_str().to_owned()),
        village_code: r.village_code.as_ref().map(|v| v.as_str().to_owned()),
        household_id: r.household_id.clone(),
        e_health_card: r.e_health_card.clone(),
        insurance_number: r.insurance_number.clone(),
        ..Values::default()
    }
}

/// `YG` + 12 hex digits of the record id: unique at the source.
fn generated_local_id(id: PatientRecordId) -> String {
    let hex = id.as_uuid().simple().to_string().to_uppercase();
    format!("YG{}", &hex[hex.len() - 12..])
}

/// The source of an institution's own registrations: the one tied to the institution (an
/// import under its code is tied to it), else created on first use under its code (or, if an
/// unrelated source took that code, `CODE/his`).
pub(crate) async fn institution_source(
    tx: &mut Tx,
    consortium: ConsortiumId,
    institution: InstitutionId,
    now: DateTime<Utc>,
) -> Result<yigong_domain::ids::SourceId, AppError> {
    if let Some(s) = store::source_of_institution(tx, consortium, institution).await? {
        return Ok(yigong_domain::ids::SourceId::from_uuid(s.source_id));
    }
    let inst = yigong_store::institution::find(tx, consortium, institution)
        .await?
        .ok_or(AppError::NotFound { what: "institution" })?;
    let code = match store::source_by_code(tx, consortium, &inst.code).await? {
        Some(_) => format!("{}/his", inst.code),
        None => inst.code.clone(),
    };
    let id = yigong_domain::ids::SourceId::new_v7();
    if !store::insert_source_if_absent(tx, consortium, id, &code, &inst.name, Some(institution), now).await? {
        // A concurrent first registration at this institution created it a moment ago.
        if let Some(s) = store::source_of_institution(tx, consortium, institution).await? {
            return Ok(yigong_domain::ids::SourceId::from_uuid(s.source_id));
        }
        return Err(AppError::Conflict { rule: "mpi_source_exists" });
    }
    Ok(id)
}

/// A review-queue row for a scored pair (ordered by record id).
pub(crate) fn candidate_row(
    a: PatientRecordId,
    b: PatientRecordId,
    result: &MatchResult,
    now: DateTime<Utc>,
) -> store::CandidateRow {
    let (record_a, record_b) = if a < b { (a, b) } else { (b, a) };
    store::CandidateRow {
        record_a,
        record_b,
        score: result.score,
        band: result.band.as_str().to_owned(),
        detail: explanation(result),
        rule_version: result.parameters_version.clone(),
        status: "open".into(),
        created_at: now,
        decided_at: None,
        decided_by: None,
        reason: None,
    }
}

/// A scored pair's explanation as stored with the candidate: field, level, weight, hard rules.
pub fn explanation(result: &MatchResult) -> String {
    let fields: Vec<serde_json::Value> = result
        .fields
        .iter()
        .map(|f| {
            serde_json::json!({
                "field": f.field.as_str(),
                "comparator": f.comparator.as_str(),
                "level": f.level_name,
                "weight": (f.weight * 100.0).round() / 100.0,
                "term_frequency_adjustment": (f.term_frequency_adjustment * 100.0).round() / 100.0,
            })
        })
        .collect();
    let rules: Vec<&str> = result.hard_rules.iter().map(|r| r.as_str()).collect();
    serde_json::json!({ "fields": fields, "hard_rules": rules }).to_string()
}

/// A record named by its source's code and its local id there.
pub type SourceLocal = (String, String);

/// Every pair of records linked to one person by the matcher (links made `new` or `auto`;
/// stewards' and registrars' links are left out), limited to `sources` when given: the
/// operator's export after a bulk load (`yigong mpi export-links`).
pub async fn linked_pairs(
    ctx: &Ctx,
    consortium: ConsortiumId,
    sources: &[String],
) -> Result<Vec<(SourceLocal, SourceLocal)>, AppError> {
    let mut tx = ctx.db.begin().await?;
    let rows = store::linked_local_ids(&mut tx, consortium).await?;
    tx.commit().await?;
    let wanted = |s: &str| sources.is_empty() || sources.iter().any(|x| x == s);
    let mut pairs = Vec::new();
    let mut group: Vec<SourceLocal> = Vec::new();
    let mut current = None;
    let flush = |group: &mut Vec<SourceLocal>, pairs: &mut Vec<(SourceLocal, SourceLocal)>| {
        for (i, a) in group.iter().enumerate() {
            for b in &group[i + 1..] {
                pairs.push((a.clone(), b.clone()));
            }
        }
        group.clear();
    };
    for (person, source, local, method) in rows {
        if current != Some(person) {
            flush(&mut group, &mut pairs);
            current = Some(person);
        }
        if matches!(method.as_str(), "new" | "auto") && wanted(&source) {
            group.push((source, local));
        }
    }
    flush(&mut group, &mut pairs);
    let console = crate::access::console(consortium);
    let mut event = Event::of("export", "mpi_link");
    event.detail = Some(format!("pairs={}", pairs.len()));
    audit::record_read(ctx, &console, consortium, Basis::Administration, event).await?;
    Ok(pairs)
}

/// The matching configuration to use when none was stored: the shipped Chinese default.
pub fn default_config() -> Config {
    Config::default_chinese()
}

/// Checks the actor may keep the index (stewards only) and returns the basis.
pub(crate) async fn authorize_steward(ctx: &Ctx, actor: &Actor, event: Event<'_>) -> Result<Basis, AppError> {
    authorize(ctx, actor, Permission::MpiSteward, &Target::consortium(actor.consortium_id), event).await
}
