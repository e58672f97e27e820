//! Generates the synthetic county and loads it through the application, with progress shown
//! as a bar on a terminal and as structured log lines otherwise.

use std::io::IsTerminal;
use std::time::Instant;

use indicatif::{ProgressBar, ProgressStyle};
use yigong_app::Ctx;
use yigong_app::seed::{self, OrganisationSeed};
use yigong_synth::SynthConfig;

use crate::config::Config;

/// Reports `done / total` of one phase.
pub struct Progress {
    phase: &'static str,
    bar: Option<ProgressBar>,
    total: u64,
    last_logged_percent: u64,
}

impl Progress {
    /// A bar on a terminal, log lines every 10% otherwise.
    pub fn new(phase: &'static str, total: u64) -> Self {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::new(total);
            bar.set_style(
                ProgressStyle::with_template("{msg:>14} [{bar:40}] {pos}/{len} ({eta})")
                    .expect("valid template")
                    .progress_chars("=> "),
            );
            bar.set_message(phase);
            bar
        });
        Self { phase, bar, total, last_logged_percent: 0 }
    }

    /// Records progress.
    pub fn set(&mut self, done: u64) {
        match &self.bar {
            Some(bar) => bar.set_position(done),
            None => {
                let percent = (done * 100).checked_div(self.total).unwrap_or(100);
                if percent >= self.last_logged_percent + 10 || done == self.total {
                    self.last_logged_percent = percent;
                    tracing::info!(phase = self.phase, done, total = self.total, percent, "progress");
                }
            }
        }
    }

    /// Ends the phase.
    pub fn finish(self) {
        if let Some(bar) = self.bar {
            bar.finish();
        }
    }
}

/// Generates the configured county into `ctx`'s (empty) database.
pub async fn synthetic_county(ctx: &Ctx, config: &Config) -> anyhow::Result<yigong_synth::Organisation> {
    let started = Instant::now();
    let cfg =
        SynthConfig { seed: config.synth.seed, residents: config.synth.residents, ..SynthConfig::demo() };
    let org = yigong_synth::organisation(&cfg);
    let organisation = OrganisationSeed {
        consortium: &org.consortium,
        divisions: &org.divisions,
        institutions: &org.institutions,
        departments: &org.departments,
        staff: &org.staff,
        postings: &org.postings,
    };
    let rows = (org.divisions.len()
        + org.institutions.len()
        + org.departments.len()
        + org.staff.len()
        + org.postings.len()) as u64;
    let mut progress = Progress::new("organisation", rows);
    seed::load_organisation(ctx, organisation, |done, _| progress.set(done)).await?;
    progress.finish();

    let mut progress = Progress::new("residents", u64::from(cfg.residents));
    let mut loaded = 0u64;
    // One transaction per batch of villages keeps each commit large enough to be fast and
    // small enough that progress moves; the demo's done-marker covers an interrupted run.
    let mut households = Vec::new();
    let mut records = Vec::new();
    for village in yigong_synth::residents(&cfg, &org) {
        households.extend(village.households);
        records.extend(village.records);
        if records.len() >= 20_000 {
            seed::load_residents(ctx, &households, &records).await?;
            loaded += records.len() as u64;
            progress.set(loaded.min(u64::from(cfg.residents)));
            households.clear();
            records.clear();
        }
    }
    seed::load_residents(ctx, &households, &records).await?;
    loaded += records.len() as u64;
    progress.set(loaded.min(u64::from(cfg.residents)));
    progress.finish();
    load_registrations(ctx, &cfg, &org).await?;
    if config.synth.clinical_year {
        load_clinical_year(ctx, &cfg, &org).await?;
    }
    load_referrals(ctx, &cfg, &org).await?;
    let imaged = load_reading(ctx, &cfg, &org).await?;
    load_images(ctx, &org, &imaged).await?;
    tracing::info!(
        institutions = org.institutions.len(),
        staff = org.staff.len(),
        residents = loaded,
        seconds = started.elapsed().as_secs_f64(),
        "synthetic county generated"
    );
    Ok(org)
}

/// Loads the facilities' patient registrations (with their ~2% duplicates) into the master
/// patient index source by source, then runs the matching once over all of them.
async fn load_registrations(
    ctx: &Ctx,
    cfg: &SynthConfig,
    org: &yigong_synth::Organisation,
) -> anyhow::Result<()> {
    use std::collections::BTreeMap;

    use yigong_app::mpi::{ImportRow, Progress as Steps};
    use yigong_store::mpi::Values;

    let consortium = org.consortium.id;
    let mut by_source: BTreeMap<String, Vec<ImportRow>> = BTreeMap::new();
    for village in yigong_synth::registrations(cfg, org) {
        for r in village.registrations {
            let values = Values {
                name: Some(r.name).filter(|s| !s.is_empty()),
                sex: Some(r.sex).filter(|s| !s.is_empty()),
                birth_date: Some(r.birth_date).filter(|s| !s.is_empty()),
                resident_id: r.resident_id,
                no_id_reason: r.no_id_reason,
                phone: r.phone,
                village_code: r.village_code,
                household_id: r.household_id,
                e_health_card: r.e_health_card,
                insurance_number: r.insurance_number,
                ..Values::default()
            };
            by_source.entry(r.source).or_default().push(ImportRow { line: 0, local_id: r.local_id, values });
        }
    }
    let total: u64 = by_source.values().map(|v| v.len() as u64).sum();
    let mut progress = Progress::new("registrations", total);
    let mut done = 0u64;
    let started = Instant::now();
    for (source, rows) in by_source {
        done += rows.len() as u64;
        yigong_app::mpi::import_rows(ctx, consortium, &source, rows, &Steps::none()).await?;
        progress.set(done);
    }
    progress.finish();
    let imported = started.elapsed().as_secs_f64();
    let report = yigong_app::mpi::rematch(ctx, consortium, None, &Steps::none()).await?;
    tracing::info!(
        registrations = total,
        import_seconds = imported,
        match_seconds = report.seconds.iter().sum::<f64>(),
        persons = report.persons_created,
        auto_linked = report.auto_linked,
        queued = report.queued,
        "patient index loaded and matched"
    );
    Ok(())
}

/// Loads one year of the county's clinical activity (encounters, diagnoses, observations,
/// reports, prescriptions, allergies, discharge summaries) into the shared record, each
/// resource about the registration of its patient at the facility where it happened. One
/// thread generates and indexes the next batch while the database writes the last.
async fn load_clinical_year(
    ctx: &Ctx,
    cfg: &SynthConfig,
    org: &yigong_synth::Organisation,
) -> anyhow::Result<()> {
    use std::collections::HashMap;

    use yigong_app::record::{BulkResource, PreparedBatch, prepare_bulk, store_bulk};

    const BATCH: usize = 50_000;
    let consortium = org.consortium.id;
    let mut tx = ctx.db.begin().await?;
    let keys: HashMap<(String, String), uuid::Uuid> = yigong_store::mpi::record_keys(&mut tx, consortium)
        .await?
        .into_iter()
        .map(|(source, local, record)| ((source, local), record))
        .collect();
    tx.commit().await?;
    let started = Instant::now();
    let villages = org
        .divisions
        .iter()
        .filter(|d| d.code.as_str().len() == 12 && !d.code.as_str().ends_with("000"))
        .count() as u64;
    let now = yigong_app::Clock::now(ctx.clock.as_ref());
    let (send, mut receive) = tokio::sync::mpsc::channel::<(u64, PreparedBatch)>(1);
    let (cfg, org) = (cfg.clone(), org.clone());
    let producer = std::thread::spawn(move || {
        let mut batch = Vec::with_capacity(BATCH);
        let mut done = 0u64;
        for village in yigong_synth::clinical(&cfg, &org) {
            for r in village.resources {
                let record = keys.get(&(r.patient_source, r.patient_local_id)).copied();
                let mut body = r.body;
                if let (Some(record), Some(element)) =
                    (record, yigong_fhir::resource::patient_element(r.resource_type))
                {
                    body[element]["reference"] = serde_json::Value::String(format!("Patient/{record}"));
                }
                batch.push(BulkResource {
                    resource_type: r.resource_type,
                    id: r.id.to_string(),
                    institution: Some(r.institution_id),
                    record,
                    body,
                });
            }
            done += 1;
            if batch.len() >= BATCH
                && send.blocking_send((done, prepare_bulk(std::mem::take(&mut batch), now))).is_err()
            {
                return;
            }
        }
        let _ = send.blocking_send((done, prepare_bulk(batch, now)));
    });
    let mut progress = Progress::new("clinical year (villages)", villages);
    let mut loaded = 0usize;
    while let Some((done, batch)) = receive.recv().await {
        loaded += store_bulk(ctx, consortium, batch).await?;
        progress.set(done.min(villages));
    }
    producer.join().map_err(|_| anyhow::anyhow!("the clinical year generator failed"))?;
    progress.finish();
    tracing::info!(resources = loaded, seconds = started.elapsed().as_secs_f64(), "clinical year loaded");
    Ok(())
}

/// Loads the synthetic year of two-way referrals (≈ 30 a day for 400 000 residents) with their
/// events, follow-up tasks and green-channel stamps, replayed into the state each reached.
async fn load_referrals(
    ctx: &Ctx,
    cfg: &SynthConfig,
    org: &yigong_synth::Organisation,
) -> anyhow::Result<usize> {
    use std::collections::HashMap;

    use yigong_app::referral::{Loaded, Referral, ReferralEvent};
    use yigong_domain::ids::PatientRecordId;
    use yigong_domain::referral::{Party, State, Transition};
    use yigong_store::referral::{FollowUp, Stamp};

    let consortium = org.consortium.id;
    let mut tx = ctx.db.begin().await?;
    let keys: HashMap<(String, String), uuid::Uuid> = yigong_store::mpi::record_keys(&mut tx, consortium)
        .await?
        .into_iter()
        .map(|(source, local, record)| ((source, local), record))
        .collect();
    drop(tx);
    let synth = yigong_synth::referrals(cfg, org);
    let mut progress = Progress::new("referrals", synth.len() as u64);
    let mut batch = Vec::new();
    let mut loaded = 0usize;
    for s in synth {
        let Some(record) = keys.get(&(s.patient_source.clone(), s.patient_local_id.clone())).copied() else {
            continue;
        };
        let mut r = Referral {
            consortium_id: consortium,
            id: s.id,
            slip_no: s.slip_no.clone(),
            direction: s.direction,
            priority: s.priority,
            state: State::Draft,
            version: 1,
            patient_record_id: PatientRecordId::from_uuid(record),
            from_institution_id: s.from_institution,
            from_department_id: s.from_department,
            from_staff_id: s.from_staff,
            from_user_id: None,
            to_institution_id: s.to_institution,
            to_department_id: s.to_department,
            external_institution: s.external_institution.clone(),
            external_reference: None,
            lateral: s.lateral,
            reason: s.reason.clone(),
            reason_text: s.reason_text.clone(),
            green_centre: s.green_centre,
            slip: yigong_app::referral::slip(&yigong_app::referral::Slip {
                chief_complaint: &s.chief_complaint,
                condition: &s.condition,
                diagnoses: &s.diagnoses,
                tests: &s.tests,
                treatment: &s.treatment,
                precautions: &s.precautions,
                downward: &s.downward,
            }),
            certificate_class: s.certificate.as_ref().map(|c| c.0),
            certificate_issued: s.certificate.as_ref().map(|c| c.1),
            certificate_no: s.certificate.as_ref().map(|c| c.2.clone()),
            consent: true,
            parent_id: s.parent,
            high_risk: s.downward.as_ref().is_some_and(|d| d.high_risk),
            discharged_on: s.downward.as_ref().map(|d| d.discharged_on),
            created_at: s.created_at,
            submitted_at: None,
            sla_started_at: None,
            redirects: 0,
            accepted_at: None,
            rejected_at: None,
            slot_at: None,
            slot_text: None,
            arrived_at: None,
            completed_at: None,
            closed_at: None,
            outcome: None,
            no_down_reason: None,
            closed_loop: None,
            sla_due: None,
            work_rank: 2,
            work_at: s.created_at,
            timer_due: None,
            updated_at: s.created_at,
        };
        let mut events = vec![ReferralEvent {
            seq: 1,
            transition: None,
            from_state: State::Draft,
            to_state: State::Draft,
            party: Party::SendingClinician,
            user_id: None,
            staff_id: s.from_staff,
            role: None,
            institution_id: Some(s.from_institution),
            at: s.created_at,
            reason: None,
            note: None,
            payload: serde_json::json!({}),
        }];
        for e in &s.events {
            let from = r.state;
            let to = match e.transition {
                Transition::Submit if r.priority == yigong_domain::referral::Priority::Green => {
                    State::Accepted
                }
                Transition::Submit | Transition::Redirect => State::Submitted,
                Transition::Accept => State::Accepted,
                Transition::Reject => State::Rejected,
                Transition::Schedule | Transition::Reschedule => State::Scheduled,
                Transition::Arrive => State::Arrived,
                Transition::StartCare => State::InCare,
                Transition::Complete => State::Completed,
                Transition::Close => State::Closed,
                Transition::Cancel => State::Cancelled,
                Transition::Expire => State::Expired,
                Transition::MarkNoShow => State::NoShow,
                Transition::SendOut => State::SentOut,
            };
            match e.transition {
                Transition::Submit => {
                    r.submitted_at.get_or_insert(e.at);
                    r.sla_started_at = Some(e.at);
                    if to == State::Accepted {
                        r.accepted_at = Some(e.at);
                    }
                }
                Transition::Redirect => {
                    r.redirects += 1;
                    r.sla_started_at = Some(e.at);
                }
                Transition::Accept => {
                    r.accepted_at = Some(e.at);
                    if e.department.is_some() {
                        r.to_department_id = e.department;
                    }
                }
                Transition::Reject => r.rejected_at = Some(e.at),
                Transition::Schedule | Transition::Reschedule => r.slot_at = e.slot_at,
                Transition::Arrive => r.arrived_at = Some(e.at),
                Transition::Complete => {
                    r.completed_at = Some(e.at);
                    r.outcome = e.outcome;
                }
                Transition::Close => {
                    r.closed_at = Some(e.at);
                    r.no_down_reason = e.no_down_reason;
                    r.closed_loop =
                        Some(yigong_domain::referral::closes_loop(e.closed_by_rule, e.no_down_reason));
                }
                Transition::SendOut => r.to_institution_id = None,
                _ => {}
            }
            r.state = to;
            r.version += 1;
            r.updated_at = e.at;
            events.push(ReferralEvent {
                seq: events.len() as i32 + 1,
                transition: Some(e.transition),
                from_state: from,
                to_state: to,
                party: e.party,
                user_id: None,
                staff_id: None,
                role: None,
                institution_id: None,
                at: e.at,
                reason: e.reason.clone(),
                note: e.note.clone(),
                payload: serde_json::json!({}),
            });
        }
        let follow_up = s.follow_up.as_ref().and_then(|f| {
            Some(FollowUp {
                id: uuid::Uuid::from_u128(s.id.as_u128() ^ 0x0f0f),
                referral_id: s.id,
                institution_id: s.to_institution?,
                patient_record_id: r.patient_record_id,
                due_on: f.due_on,
                high_risk: r.high_risk,
                state: if f.done_at.is_some() { "done".into() } else { "open".into() },
                done_at: f.done_at,
                done_by: None,
                note: f.note.clone(),
                created_at: r.accepted_at.unwrap_or(r.created_at),
            })
        });
        let stamps = s
            .stamps
            .iter()
            .map(|(m, at, source)| Stamp {
                milestone: *m,
                at: *at,
                source: *source,
                institution_id: None,
                recorded_by: None,
                recorded_at: *at,
            })
            .collect();
        batch.push(Loaded { referral: r, events, follow_up, stamps });
        if batch.len() >= 2_000 {
            loaded += yigong_app::referral::load(ctx, consortium, std::mem::take(&mut batch)).await?;
            progress.set(loaded as u64);
        }
    }
    loaded += yigong_app::referral::load(ctx, consortium, batch).await?;
    progress.set(loaded as u64);
    progress.finish();
    Ok(loaded)
}

/// Loads the synthetic year of the reading centres (≈ 60 000 items a year for 400 000
/// residents): the catalogue and its QC, then each item with its trail, report versions (signed
/// on load), critical value and specimen chain, and the recognition decisions, in time order so
/// that a decision's prior result is stored before it. Returns the items that get images.
async fn load_reading(
    ctx: &Ctx,
    cfg: &SynthConfig,
    org: &yigong_synth::Organisation,
) -> anyhow::Result<Vec<yigong_synth::SynthExam>> {
    use std::collections::{HashMap, HashSet};

    use anyhow::Context;
    use yigong_app::reading::{Critical, ExamOrder, Item, Loaded, Report, SpecimenEvent};
    use yigong_domain::ids::PatientRecordId;
    use yigong_domain::reading::ItemState;
    use yigong_domain::reading::report::{canonical, validate};
    use yigong_store::reading::{Decision, Event};

    let consortium = org.consortium.id;
    let mut tx = ctx.db.begin().await?;
    let keys: HashMap<(String, String), uuid::Uuid> = yigong_store::mpi::record_keys(&mut tx, consortium)
        .await?
        .into_iter()
        .map(|(source, local, record)| ((source, local), record))
        .collect();
    drop(tx);
    let started = Instant::now();
    let year = yigong_synth::reading(cfg, org);
    let items: Vec<Item> = year
        .catalogue
        .iter()
        .map(|i| Item {
            code: i.code.into(),
            name: i.name.into(),
            kind: i.kind,
            modality: i.modality.map(Into::into),
            body_part: i.body_part.map(Into::into),
            price_fen: i.price_fen,
            recognition: i.recognition,
            active: true,
        })
        .collect();
    let qc: Vec<_> =
        year.qc.iter().map(|q| (q.code.to_owned(), q.producer, q.passed, q.valid_until)).collect();
    yigong_app::reading::load_catalogue(ctx, consortium, &items, &qc).await?;
    let record = |source: &str, local: &str| {
        keys.get(&(source.to_owned(), local.to_owned())).map(|r| PatientRecordId::from_uuid(*r))
    };
    let mut progress = Progress::new("reading centres", year.entries.len() as u64);
    let mut stored: HashSet<uuid::Uuid> = HashSet::new();
    let mut imaged = Vec::new();
    let mut batch = Vec::new();
    let (mut done, mut loaded) = (0u64, 0usize);
    for entry in year.entries {
        done += 1;
        let mut item = Loaded {
            order: None,
            events: Vec::new(),
            reports: Vec::new(),
            criticals: Vec::new(),
            specimen: Vec::new(),
            decision: None,
        };
        if let Some(x) = entry.exam {
            let Some(patient) = record(&x.patient_source, &x.patient_local_id) else { continue };
            let catalogued = x.item();
            let kind = catalogued.kind;
            for r in &x.reports {
                let valid = validate(kind, &r.draft)
                    .map_err(|e| anyhow::anyhow!("synthetic report on {}: {e}", x.item_code))?;
                let text = canonical(&valid, r.version, &x.accession_no);
                item.reports.push(Report {
                    version: r.version,
                    status: r.status.into(),
                    content: serde_json::from_str(&text).context("canonical report text")?,
                    critical: valid.critical(),
                    hr: r.hr,
                    // No accounts exist yet: the signer is the staff member, by name.
                    author_user_id: uuid::Uuid::nil(),
                    author_staff_id: Some(r.author.as_uuid()),
                    author_name: r.author_name.clone(),
                    institution_id: Some(r.institution),
                    reason: r.reason.clone(),
                    content_hash: yigong_app::reading::sign::content_hash(&text),
                    signature: String::new(),
                    signed_at: r.signed_at,
                });
            }
            item.events = x
                .events
                .iter()
                .map(|e| {
                    let mut payload = serde_json::Map::new();
                    if let Some(l) = e.lease_until {
                        payload.insert("lease_until".into(), serde_json::json!(l));
                    }
                    if let Some(v) = e.report_version {
                        payload.insert("report_version".into(), serde_json::json!(v));
                    }
                    Event {
                        seq: 0,
                        transition: e.transition,
                        from_state: e.from,
                        to_state: e.to,
                        party: e.party,
                        user_id: None,
                        role: None,
                        institution_id: e.institution,
                        at: e.at,
                        reason: e.reason.clone(),
                        payload: serde_json::Value::Object(payload),
                    }
                })
                .collect();
            item.specimen = x
                .specimen
                .iter()
                .map(|s| SpecimenEvent {
                    seq: 0,
                    step: s.step,
                    place: s.place.clone(),
                    user_id: None,
                    institution_id: s.institution,
                    reason: s.reason.map(|r| r.as_str().to_owned()),
                    temperature: s.temperature.map(Into::into),
                    at: s.at,
                })
                .collect();
            item.criticals = x
                .critical
                .iter()
                .map(|c| Critical {
                    consortium_id: consortium,
                    id: c.id,
                    order_id: x.id,
                    ordering_institution_id: x.ordering_institution,
                    state: c.state,
                    version: c.version,
                    finding: c.finding.clone(),
                    identified_by: uuid::Uuid::nil(),
                    identified_at: c.identified_at,
                    notified_at: c.notified_at,
                    acknowledged_at: c.acknowledged_at,
                    acknowledged_by: None,
                    acknowledged_name: c.acknowledged_name.clone(),
                    read_back: c.read_back.clone(),
                    disposition: c.disposition,
                    disposition_note: c.disposition_note.clone(),
                    disposed_at: c.disposed_at,
                    closed_at: c.closed_at,
                    escalated_at: c.escalated_at,
                })
                .collect();
            item.order = Some(ExamOrder {
                consortium_id: consortium,
                id: x.id,
                accession_no: x.accession_no.clone(),
                patient_record_id: patient,
                ordering_institution_id: x.ordering_institution,
                ordering_user_id: None,
                centre: kind.centre(),
                kind,
                modality: catalogued.modality.map(Into::into),
                body_part: catalogued.body_part.map(Into::into),
                item_code: Some(x.item_code.into()),
                item_name: catalogued.name.into(),
                urgency: x.urgency,
                question: x.question.clone(),
                head: x.head,
                complex: x.complex,
                state: x.state,
                version: x.version,
                reader_user_id: None,
                lease_until: x.lease_until,
                reading_institution_id: x.reading_institution,
                received_at: x.received_at,
                due_at: x.due_at,
                preliminary_at: x.preliminary_at,
                final_at: x.final_at,
                delivered_at: x.delivered_at,
                work_rank: x.urgency.rank(),
                hr: x.hr,
                report_version: x.reports.len() as i32,
                specimen_step: x.specimen_step,
                cancel_reason: x.cancel_reason.clone(),
                created_at: x.created_at,
                updated_at: x.updated_at,
            });
            stored.insert(x.id);
            if x.images.is_some() && matches!(x.state, ItemState::Queued | ItemState::Claimed) {
                imaged.push(x);
            }
        } else if entry.decision.is_none() {
            continue;
        }
        if let Some(d) = entry.decision {
            let Some(patient) = record(&d.patient_source, &d.patient_local_id) else { continue };
            if !stored.contains(&d.prior_order) || d.new_order.is_some_and(|n| !stored.contains(&n)) {
                continue;
            }
            item.decision = Some(Decision {
                id: d.id,
                code: d.code.into(),
                patient_record_id: patient,
                prior_order_id: d.prior_order,
                institution_id: d.institution,
                user_id: uuid::Uuid::nil(),
                recognised: d.recognised,
                ground: d.ground,
                ground_text: d.ground_text,
                price_fen: d.price_fen,
                new_order_id: d.new_order,
                decided_at: d.decided_at,
            });
        }
        if item.order.is_none() && item.decision.is_none() {
            continue;
        }
        batch.push(item);
        if batch.len() >= 2_000 {
            loaded += yigong_app::reading::load(ctx, consortium, std::mem::take(&mut batch)).await?;
            progress.set(done);
        }
    }
    loaded += yigong_app::reading::load(ctx, consortium, batch).await?;
    progress.set(done);
    progress.finish();
    tracing::info!(
        entries = loaded,
        seconds = started.elapsed().as_secs_f64(),
        "reading centres' year loaded"
    );
    Ok(imaged)
}

/// Stores synthetic CT slices (made by code, no real patient) for a few items waiting on the
/// imaging worklist, under their accession numbers and the patients' local ids, into the data
/// folder's object store (`ctx`'s, the one `serve` reads).
async fn load_images(
    ctx: &Ctx,
    org: &yigong_synth::Organisation,
    imaged: &[yigong_synth::SynthExam],
) -> anyhow::Result<()> {
    use yigong_dicom::synthetic::{Slice, part10, uid};
    use yigong_domain::identity::Sex;

    let total: u64 = imaged.iter().filter_map(|x| x.images.as_ref()).map(|i| u64::from(i.slices)).sum();
    let mut progress = Progress::new("images", total);
    let mut done = 0u64;
    for x in imaged {
        let Some(i) = &x.images else { continue };
        let base = x.id.as_u128();
        let (study, series) = (uid(base), uid(base ^ 0x5E21E5));
        let name = patient_name(&i.patient_name);
        let sex = match i.sex {
            Sex::Male => "M",
            Sex::Female => "F",
            _ => "O",
        };
        let (birth, date) =
            (i.birth_date.format("%Y%m%d").to_string(), i.study_date.format("%Y%m%d").to_string());
        for k in 0..i.slices {
            let sop = uid(base ^ (0x1_0000 + u128::from(k)));
            let slice = Slice {
                study_uid: &study,
                series_uid: &series,
                sop_uid: &sop,
                patient_id: &x.patient_local_id,
                patient_name: &name,
                birth_date: &birth,
                sex,
                accession: &x.accession_no,
                study_date: &date,
                number: k + 1,
                size: 256,
            };
            yigong_app::imaging::load::ingest_loaded(
                ctx,
                org.consortium.id,
                x.ordering_institution,
                part10(&slice),
            )
            .await
            .map_err(|e| anyhow::anyhow!("store a synthetic slice: {e}"))?;
            done += 1;
            progress.set(done);
        }
    }
    progress.finish();
    Ok(())
}

/// A person name as DICOM writes it: pinyin, then the characters (`Wang^Fang=王^芳`).
fn patient_name(name: &str) -> String {
    let (surname, given) = yigong_mpi::name::split(name);
    let spell = |s: &str| {
        let mut out: String = s
            .chars()
            .map(|c| yigong_mpi::pinyin::readings(c).into_iter().next().unwrap_or_default())
            .collect();
        if let Some(first) = out.get(..1) {
            out = first.to_uppercase() + &out[1..];
        }
        out
    };
    match surname {
        Some(s) => format!("{}^{}={s}^{given}", spell(s), spell(given)),
        None => name.to_owned(),
    }
}
