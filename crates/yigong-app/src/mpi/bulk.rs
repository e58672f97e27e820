//! Bulk loading and the matching run: a county's existing patient lists are imported source by
//! source, then matched across everything loaded.
//!
//! The run reads every record, blocks, estimates m and u by EM, scores the candidate pairs and
//! links the records that have no person yet: auto-band pairs join them (strongest first; two
//! existing persons are never merged automatically, the pair is queued instead), review-band
//! pairs of different persons go to the review queue. Existing links and stewards' decisions
//! are kept, so a re-run over unchanged data changes nothing.

use std::collections::{HashMap, HashSet};
use std::time::Instant;

use yigong_domain::ids::{ConsortiumId, PatientRecordId, PersonId, SourceId};
use yigong_mpi::{Band, Config, Model};
use yigong_store::mpi::{self as store, LinkMethod, RecordRow, Values};

use super::{candidate_row, content_hash, prepare, resident_id_status};
use crate::audit::{self, Event};
use crate::{AppError, Ctx};

/// Random pairs that start the u probabilities.
const RANDOM_PAIRS: usize = 50_000;
/// Seed of the random pairs: the same records give the same model.
const SEED: u64 = 0x5949_474f_4e47;

/// Reports progress of a long run: `(phase, done, total)`.
pub struct Progress(Box<ProgressFn>);

type ProgressFn = dyn Fn(&str, u64, u64) + Send + Sync;

impl Progress {
    /// Reports nothing.
    pub fn none() -> Self {
        Self(Box::new(|_, _, _| {}))
    }

    /// Calls `f` with each step.
    pub fn new(f: impl Fn(&str, u64, u64) + Send + Sync + 'static) -> Self {
        Self(Box::new(f))
    }

    fn step(&self, phase: &str, done: u64, total: u64) {
        (self.0)(phase, done, total);
    }
}

/// One row of a source's patient list, already mapped to MPI fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportRow {
    /// Line in the file (for messages).
    pub line: u64,
    /// The source's id of the patient.
    pub local_id: String,
    /// Values as received.
    pub values: Values,
}

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportReport {
    /// New records.
    pub inserted: u64,
    /// Records whose values changed since the last import (values replaced, links kept).
    pub updated: u64,
    /// Rows equal to what was loaded before.
    pub unchanged: u64,
    /// Resident IDs kept as unverified.
    pub unverified_ids: u64,
}

/// Loads `rows` as the records of source `code` (created if new), in one transaction: all of
/// them or none. Idempotent: an unchanged row is skipped, a changed one replaces the values.
pub async fn import_rows(
    ctx: &Ctx,
    consortium: ConsortiumId,
    code: &str,
    rows: Vec<ImportRow>,
    progress: &Progress,
) -> Result<ImportReport, AppError> {
    import_rows_as(ctx, &crate::access::console(consortium), code, rows, progress).await
}

/// [`import_rows`] on behalf of `actor` (audited as theirs), into the actor's consortium.
async fn import_rows_as(
    ctx: &Ctx,
    actor: &yigong_domain::access::Actor,
    code: &str,
    rows: Vec<ImportRow>,
    progress: &Progress,
) -> Result<ImportReport, AppError> {
    let consortium = actor.consortium_id;
    let now = ctx.clock.now();
    let today = now.date_naive();
    let mut tx = ctx.db.begin_write().await?;
    let source = match store::source_by_code(&mut tx, consortium, code).await? {
        Some(s) => SourceId::from_uuid(s.source_id),
        None => {
            // A list imported under an institution's code is that institution's system.
            let institution = yigong_store::institution::find_by_code(&mut tx, consortium, code).await?;
            let name = institution.as_ref().map_or(code, |i| i.name.as_str()).to_owned();
            let id = SourceId::new_v7();
            store::insert_source(&mut tx, consortium, id, code, &name, institution.map(|i| i.id), now)
                .await?;
            id
        }
    };
    let existing: HashMap<String, (PatientRecordId, String)> =
        store::source_hashes(&mut tx, consortium, source)
            .await?
            .into_iter()
            .map(|(local, id, hash)| (local, (id, hash)))
            .collect();
    let mut report = ImportReport::default();
    let mut fresh = Vec::new();
    let mut changed = Vec::new();
    let total = rows.len() as u64;
    for (i, row) in rows.into_iter().enumerate() {
        let mut values = row.values;
        values.resident_id_status = resident_id_status(values.resident_id.as_deref(), today);
        if values.resident_id_status.as_deref().is_some_and(|s| s != "valid" && s != "derived_from_15") {
            report.unverified_ids += 1;
        }
        let hash = content_hash(&values, false);
        let record = |record_id| RecordRow {
            record_id,
            source_id: source,
            local_id: row.local_id.clone(),
            values: values.clone(),
            verified: false,
            content_hash: hash.clone(),
            registered_at: now,
            registered_by: None,
        };
        match existing.get(&row.local_id) {
            Some((_, old)) if *old == hash => report.unchanged += 1,
            Some((id, _)) => {
                let row = record(*id);
                store::update_record_values(&mut tx, consortium, &row, now).await?;
                changed.push(row);
                report.updated += 1;
            }
            None => {
                fresh.push(record(PatientRecordId::new_v7()));
                report.inserted += 1;
            }
        }
        if i % 10_000 == 0 {
            progress.step("check", i as u64, total);
        }
    }
    for (i, chunk) in fresh.chunks(10_000).enumerate() {
        store::insert_records(&mut tx, consortium, chunk, now).await?;
        progress.step("load", ((i + 1) * 10_000).min(fresh.len()) as u64, fresh.len() as u64);
    }
    if !changed.is_empty() {
        // Changed values, new blocking keys: the record is found by what it says now.
        let config = super::stored_config(&mut tx, consortium).await?;
        let ids: Vec<PatientRecordId> = changed.iter().map(|r| r.record_id).collect();
        store::delete_block_keys_of(&mut tx, consortium, &ids).await?;
        let keys: Vec<(i64, PatientRecordId)> = changed
            .iter()
            .flat_map(|r| {
                yigong_mpi::block::record_keys(&config.blocking, &prepare(r, today))
                    .into_iter()
                    .map(move |k| (k, r.record_id))
            })
            .collect();
        store::insert_block_keys(&mut tx, consortium, &keys).await?;
    }
    let mut event = Event::of("import", "mpi_record");
    event.resource_id = Some(source.to_string());
    event.detail = Some(format!(
        "inserted={} updated={} unchanged={}",
        report.inserted, report.updated, report.unchanged
    ));
    let basis = if actor.user_id.is_nil() {
        yigong_domain::access::Basis::Administration
    } else {
        yigong_domain::access::Basis::Jurisdiction
    };
    audit::record(ctx, &mut tx, actor, consortium, basis, event).await?;
    tx.commit().await?;
    Ok(report)
}

/// What loading one file did.
#[derive(Debug, Clone)]
pub struct FileImport {
    /// Rows loaded.
    pub import: ImportReport,
    /// Rows left out, with their reasons.
    pub rejected: Vec<super::file::Rejected>,
    /// The matching run that followed.
    pub matching: MatchReport,
}

/// Loads one source's patient list (CSV bytes and a mapping, as an operator uploads them) and
/// matches across everything loaded. Stewards only. A file that cannot be read as a whole is
/// refused with its line, and nothing of it is loaded.
pub async fn import_file(
    ctx: &Ctx,
    actor: &yigong_domain::access::Actor,
    source: &str,
    mapping: &str,
    bytes: &[u8],
    id_column: Option<&str>,
) -> Result<FileImport, AppError> {
    super::authorize_steward(ctx, actor, Event::of("import", "mpi_record")).await?;
    let source = source.trim();
    let mut errors = yigong_domain::Invalid::default();
    if source.is_empty() || source.chars().count() > 40 {
        errors.push("source", "source_invalid", "name the source in 1 to 40 characters");
    }
    let mapping = match super::file::Mapping::parse(mapping) {
        Ok(m) => Some(m),
        Err(e) => {
            errors.push("mapping", "mapping_invalid", e.message);
            None
        }
    };
    let Some(mapping) = mapping.filter(|_| errors.fields.is_empty()) else {
        return Err(errors.into());
    };
    let id_column = id_column.map(str::trim).filter(|c| !c.is_empty());
    let (rows, rejected) = super::file::read_csv(bytes, &mapping, id_column).map_err(|e| {
        yigong_domain::Invalid::one(
            "file",
            "file_invalid",
            format!("line {}: {}; nothing was imported", e.line, e.message),
        )
    })?;
    let import = import_rows_as(ctx, actor, source, rows, &Progress::none()).await?;
    let matching = rematch(ctx, actor.consortium_id, None, &Progress::none()).await?;
    Ok(FileImport { import, rejected, matching })
}

/// What a matching run did (counts only: safe to print and log).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MatchReport {
    /// Records matched over.
    pub records: usize,
    /// Records that had no person before the run.
    pub unlinked: usize,
    /// Candidate pairs from blocking.
    pub candidate_pairs: usize,
    /// Pairs in the auto-link band.
    pub auto_pairs: usize,
    /// Pairs in the review band.
    pub review_pairs: usize,
    /// EM iterations and whether it converged.
    pub em_iterations: u32,
    /// Whether EM converged.
    pub em_converged: bool,
    /// Persons created.
    pub persons_created: usize,
    /// Records the matcher linked to another record's person (founders excluded).
    pub auto_linked: usize,
    /// Pairs newly queued for review.
    pub queued: u64,
    /// The model's version.
    pub model_version: String,
    /// Seconds: reading, matching, writing.
    pub seconds: [f64; 3],
}

/// Matches every record of the consortium and links the unlinked ones (see the module doc).
/// `config` replaces the stored configuration; `None` keeps it (or the shipped default).
pub async fn rematch(
    ctx: &Ctx,
    consortium: ConsortiumId,
    config: Option<Config>,
    progress: &Progress,
) -> Result<MatchReport, AppError> {
    let started = Instant::now();
    let now = ctx.clock.now();
    let today = now.date_naive();
    let mut tx = ctx.db.begin().await?;
    progress.step("read", 0, 1);
    let records = store::all_records(&mut tx, consortium).await?;
    let links = store::open_links(&mut tx, consortium).await?;
    let decided = store::decided_pairs(&mut tx, consortium).await?;
    let stored = store::latest_model(&mut tx, consortium).await?;
    tx.commit().await?;
    let stored_config =
        stored.as_ref().and_then(|(_, json)| Model::from_json(json).ok()).map(|m| m.config().clone());
    let config = config.or_else(|| stored_config.clone()).unwrap_or_else(super::default_config);
    let rekey = stored_config.as_ref() != Some(&config);
    let read_secs = started.elapsed().as_secs_f64();
    progress.step("read", 1, 1);

    // Matching is CPU work: off the async threads.
    let matching = Instant::now();
    let (model, plan, report) = tokio::task::spawn_blocking(move || {
        let prepared: Vec<_> = records.iter().map(|r| prepare(r, today)).collect();
        // A young index is matched with the shipped prior (EM needs more records to go on).
        let young = (prepared.len() as i64) < super::MIN_RECORDS;
        let random =
            if young { Vec::new() } else { yigong_mpi::em::sample_pairs(prepared.len(), RANDOM_PAIRS, SEED) };
        let run = match young.then(|| yigong_mpi::run_compact(&config, &prepared, Some(super::prior()), &[]))
        {
            Some(Ok(run)) => run,
            _ => yigong_mpi::run_compact(&config, &prepared, None, &random)
                .expect("EM estimates the configured fields"),
        };
        let plan = plan(&records, &prepared, &links, &decided, &run, now);
        let keys: Vec<(i64, PatientRecordId)> = records
            .iter()
            .zip(&prepared)
            .filter(|(r, _)| rekey || plan.unlinked.contains(&r.record_id))
            .flat_map(|(r, p)| {
                yigong_mpi::block::record_keys(&config.blocking, p).into_iter().map(move |k| (k, r.record_id))
            })
            .collect();
        let report = MatchReport {
            records: records.len(),
            unlinked: plan.unlinked.len(),
            candidate_pairs: run.blocking.distinct_pairs,
            auto_pairs: run.scored.iter().filter(|p| p.band == Band::AutoLink).count(),
            review_pairs: run.scored.iter().filter(|p| p.band == Band::Review).count(),
            em_iterations: run.em.iterations,
            em_converged: run.em.converged,
            persons_created: plan.persons.len(),
            auto_linked: plan.links.len() - plan.founders,
            queued: 0,
            model_version: run.model.parameters().version.clone(),
            seconds: [0.0; 3],
        };
        (run.model, Plan { keys, ..plan }, report)
    })
    .await
    .map_err(|e| super::model_error(format!("matching run failed: {e}")))?;
    let match_secs = matching.elapsed().as_secs_f64();

    let writing = Instant::now();
    let mut report = report;
    let mut tx = ctx.db.begin_write().await?;
    progress.step("write", 0, 1);
    store::insert_persons(&mut tx, consortium, &plan.persons, now).await?;
    store::insert_links(&mut tx, consortium, &plan.links, now).await?;
    report.queued = store::insert_candidates(&mut tx, consortium, &plan.candidates).await?;
    if stored.as_ref().map(|(v, _)| v.as_str()) != Some(report.model_version.as_str()) {
        store::insert_model(
            &mut tx,
            consortium,
            &report.model_version,
            &model.to_json(),
            report.records as i64,
            now,
        )
        .await?;
    }
    if rekey {
        store::clear_block_keys(&mut tx, consortium).await?;
    }
    store::insert_block_keys(&mut tx, consortium, &plan.keys).await?;
    let mut event = Event::of("match", "mpi_person");
    event.detail = Some(format!(
        "records={} unlinked={} persons_created={} queued={} model={}",
        report.records, report.unlinked, report.persons_created, report.queued, report.model_version
    ));
    let actor = crate::access::console(consortium);
    audit::record(ctx, &mut tx, &actor, consortium, yigong_domain::access::Basis::Administration, event)
        .await?;
    tx.commit().await?;
    progress.step("write", 1, 1);
    report.seconds = [read_secs, match_secs, writing.elapsed().as_secs_f64()];
    Ok(report)
}

/// What a run writes.
#[derive(Default)]
struct Plan {
    unlinked: HashSet<PatientRecordId>,
    persons: Vec<PersonId>,
    links: Vec<store::NewLink>,
    /// Links that founded a new person.
    founders: usize,
    candidates: Vec<store::CandidateRow>,
    keys: Vec<(i64, PatientRecordId)>,
}

/// Decides the links of the unlinked records (Kruskal over auto-band pairs, strongest first; a
/// component holds at most one existing person) and the pairs to queue.
fn plan(
    records: &[RecordRow],
    prepared: &[yigong_mpi::Prepared],
    links: &[(PatientRecordId, PersonId, String)],
    decided: &[(PatientRecordId, PatientRecordId, String)],
    run: &yigong_mpi::CompactRun,
    now: chrono::DateTime<chrono::Utc>,
) -> Plan {
    // The explanation of a pair is computed again only for the pairs queued for a steward.
    let queue = |a: u32, b: u32| {
        let result = run.model.score(&prepared[a as usize], &prepared[b as usize]);
        candidate_row(records[a as usize].record_id, records[b as usize].record_id, &result, now)
    };
    let index: HashMap<PatientRecordId, u32> =
        records.iter().enumerate().map(|(i, r)| (r.record_id, i as u32)).collect();
    let mut person: Vec<Option<PersonId>> = vec![None; records.len()];
    for (record, p, _) in links {
        if let Some(&i) = index.get(record) {
            person[i as usize] = Some(*p);
        }
    }
    let different: HashSet<(u32, u32)> = decided
        .iter()
        .filter(|(_, _, status)| status == "different")
        .filter_map(|(a, b, _)| {
            let (x, y) = (*index.get(a)?, *index.get(b)?);
            Some((x.min(y), x.max(y)))
        })
        .collect();
    let unlinked: Vec<bool> = person.iter().map(Option::is_none).collect();
    let version = run.model.parameters().version.clone();

    // Union–find whose roots carry the component's person, if any.
    let mut parent: Vec<u32> = (0..records.len() as u32).collect();
    let mut owner: Vec<Option<PersonId>> = person.clone();
    let mut best: Vec<Option<f64>> = vec![None; records.len()];
    fn find(parent: &mut [u32], mut x: u32) -> u32 {
        while parent[x as usize] != x {
            parent[x as usize] = parent[parent[x as usize] as usize];
            x = parent[x as usize];
        }
        x
    }
    let mut auto: Vec<&yigong_mpi::PairScore> = run
        .scored
        .iter()
        .filter(|p| p.band == Band::AutoLink)
        .filter(|p| unlinked[p.a as usize] || unlinked[p.b as usize])
        .filter(|p| !different.contains(&(p.a, p.b)))
        .collect();
    auto.sort_by(|x, y| y.score.total_cmp(&x.score).then((x.a, x.b).cmp(&(y.a, y.b))));
    let mut candidates = Vec::new();
    for pair in auto {
        let (ra, rb) = (find(&mut parent, pair.a), find(&mut parent, pair.b));
        for i in [pair.a, pair.b] {
            let b = &mut best[i as usize];
            *b = Some(b.map_or(pair.score, |s| s.max(pair.score)));
        }
        if ra == rb {
            continue;
        }
        match (owner[ra as usize], owner[rb as usize]) {
            (Some(x), Some(y)) if x != y => {
                // Two persons already exist: a steward decides.
                candidates.push(queue(pair.a, pair.b));
            }
            (x, y) => {
                let (root, child) = if ra < rb { (ra, rb) } else { (rb, ra) };
                parent[child as usize] = root;
                owner[root as usize] = x.or(y);
            }
        }
    }
    let mut plan = Plan::default();
    for i in 0..records.len() as u32 {
        if !unlinked[i as usize] {
            continue;
        }
        let root = find(&mut parent, i);
        let (person_id, method) = match owner[root as usize] {
            Some(p) => (p, LinkMethod::Auto),
            None => {
                let p = PersonId::new_v7();
                owner[root as usize] = Some(p);
                plan.persons.push(p);
                plan.founders += 1;
                (p, LinkMethod::New)
            }
        };
        person[i as usize] = Some(person_id);
        plan.unlinked.insert(records[i as usize].record_id);
        let score = if method == LinkMethod::Auto { best[i as usize] } else { None };
        plan.links.push(store::NewLink {
            record_id: records[i as usize].record_id,
            person_id,
            method,
            score,
            rule_version: score.map(|_| version.clone()),
            actor_id: None,
            reason: None,
            operation_id: None,
        });
    }
    // Review-band pairs (and auto-band pairs held back by a hard rule) between different
    // persons, not yet decided.
    for pair in &run.scored {
        if pair.band != Band::Review || different.contains(&(pair.a, pair.b)) {
            continue;
        }
        if person[pair.a as usize] != person[pair.b as usize] {
            candidates.push(queue(pair.a, pair.b));
        }
    }
    plan.candidates = candidates;
    plan
}
