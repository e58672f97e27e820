//! Images for the reading centres (DESIGN.md §6.2, §8.3): instances received over DIMSE
//! (C-STORE from a registered node) or DICOMweb (STOW-RS by an account) are read whole, stored
//! as Part 10 files under their UIDs, indexed by study / series / instance, matched to their exam
//! order (accession number) and to a patient record, and audited; QIDO-RS searches and WADO-RS
//! reads go through the same access rules as the rest of the record.
//!
//! An instance is acknowledged only after its file is written and its index row committed; a
//! second copy of a SOP Instance UID changes nothing and is answered as stored.

use std::path::PathBuf;

use chrono::Utc;
use uuid::Uuid;
use yigong_dicom::{DicomError, DicomInstance};
use yigong_domain::access::{Actor, Basis, Permission, Role, Scope, Target};
use yigong_domain::identity::ResidentId;
use yigong_domain::ids::{ConsortiumId, InstitutionId, PatientRecordId};
use yigong_domain::reading::{StudyQuery, is_uid};
use yigong_store::fhir::PatientQuery;
use yigong_store::imaging::{self as store, Stored};
pub use yigong_store::imaging::{InstanceRow, Series, Study};
use yigong_store::{Tx, mpi};

use crate::audit::{self, Event};
use crate::{AppError, Ctx};

pub mod load;

/// Where Part 10 files live: `<root>/<study>/<series>/<instance>.dcm` (UIDs are digits and dots
/// only, checked before use).
#[derive(Debug, Clone)]
pub struct Objects {
    root: PathBuf,
}

impl Objects {
    /// An object store under `root` (created on first write).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    fn relative(i: &DicomInstance) -> String {
        format!("{}/{}/{}.dcm", i.study_uid, i.series_uid, i.sop_instance_uid)
    }

    /// Writes a file whole (temporary name, then rename), so a reader or a crash never sees half.
    async fn write(&self, relative: &str, bytes: Vec<u8>) -> std::io::Result<()> {
        let path = self.root.join(relative);
        tokio::task::spawn_blocking(move || {
            let dir = path.parent().expect("object paths have a directory");
            std::fs::create_dir_all(dir)?;
            let tmp = dir.join(format!(".{}.part", Uuid::now_v7().simple()));
            std::fs::write(&tmp, &bytes)?;
            std::fs::rename(&tmp, &path)
        })
        .await
        .map_err(std::io::Error::other)?
    }

    /// Reads a stored file.
    pub async fn read(&self, relative: &str) -> std::io::Result<Vec<u8>> {
        if relative.split('/').any(|p| p == ".." || p.is_empty()) {
            return Err(std::io::Error::new(std::io::ErrorKind::InvalidInput, "bad object path"));
        }
        tokio::fs::read(self.root.join(relative)).await
    }
}

fn objects_failed(e: std::io::Error) -> AppError {
    AppError::Store(yigong_store::StoreError::Config(format!("object store: {e}")))
}

/// (consortium, AE title).
type NodeKey = (ConsortiumId, String);
/// The institution found (if registered) and when it was looked up.
type NodeSeen = (Option<InstitutionId>, std::time::Instant);

/// The registered DICOM nodes, looked up by AE title and remembered for a short while (a node
/// sends many instances in a row; a registration or change is seen within [`Nodes::TTL`]).
#[derive(Debug, Default)]
pub struct Nodes {
    known: std::sync::Mutex<std::collections::HashMap<NodeKey, NodeSeen>>,
}

impl Nodes {
    /// How long a lookup is remembered.
    pub const TTL: std::time::Duration = std::time::Duration::from_secs(30);

    /// The institution a node sends for (`None`: not registered).
    pub async fn institution(
        &self,
        ctx: &Ctx,
        consortium: ConsortiumId,
        ae_title: &str,
    ) -> Result<Option<InstitutionId>, AppError> {
        let key = (consortium, ae_title.to_owned());
        if let Some((found, at)) = self.known.lock().unwrap_or_else(|e| e.into_inner()).get(&key)
            && at.elapsed() < Self::TTL
        {
            return Ok(*found);
        }
        let mut tx = ctx.db.begin().await?;
        let found = store::node_institution(&mut tx, consortium, ae_title).await?;
        drop(tx);
        self.known.lock().unwrap_or_else(|e| e.into_inner()).insert(key, (found, std::time::Instant::now()));
        Ok(found)
    }

    fn forget(&self) {
        self.known.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }
}

/// Why an instance was not stored.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    /// The object cannot be read, or lacks what must be there.
    #[error(transparent)]
    Invalid(#[from] DicomError),
    /// A UID that is not a DICOM UID.
    #[error("{0} is not a valid UID")]
    BadUid(&'static str),
    /// The request names one instance and the data set another.
    #[error("the data set's SOP Instance UID differs from the request's")]
    Mismatch,
    /// The calling node is not registered.
    #[error("calling AE title {0:?} is not a registered node")]
    UnknownNode(String),
    /// Anything else (database, disk).
    #[error(transparent)]
    App(#[from] AppError),
}

/// What became of one instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ingested {
    /// Study Instance UID.
    pub study_uid: String,
    /// Series Instance UID.
    pub series_uid: String,
    /// SOP Class UID.
    pub sop_class_uid: String,
    /// SOP Instance UID.
    pub sop_instance_uid: String,
    /// Already stored before: nothing changed.
    pub duplicate: bool,
    /// The exam order its accession number named.
    pub order: Option<Uuid>,
    /// The patient record it was matched to.
    pub patient_record: Option<PatientRecordId>,
}

/// Who sent an instance.
enum Sender<'a> {
    Node { ae_title: &'a str, institution: InstitutionId },
    Account(&'a Actor),
}

/// Stores an instance received over C-STORE from `calling_ae` (a registered node of
/// `consortium`), its data set encoded in `transfer_syntax`.
pub async fn ingest_dimse(
    ctx: &Ctx,
    consortium: ConsortiumId,
    calling_ae: &str,
    transfer_syntax: &str,
    affected_sop_instance: &str,
    dataset: Vec<u8>,
) -> Result<Ingested, IngestError> {
    let Some(institution) = ctx.dicom_nodes.institution(ctx, consortium, calling_ae).await? else {
        return Err(IngestError::UnknownNode(calling_ae.to_owned()));
    };
    let instance = yigong_dicom::parse_dataset(&dataset, transfer_syntax)?;
    if !affected_sop_instance.is_empty() && affected_sop_instance != instance.sop_instance_uid {
        return Err(IngestError::Mismatch);
    }
    check_uids(&instance)?;
    let file = yigong_dicom::part10(&dataset, &instance, calling_ae)?;
    store_instance(ctx, consortium, &instance, file, Sender::Node { ae_title: calling_ae, institution }).await
}

/// Stores a Part 10 object sent over STOW-RS by `actor` (who must be able to write clinical
/// data at their institution).
pub async fn ingest_part10(ctx: &Ctx, actor: &Actor, bytes: Vec<u8>) -> Result<Ingested, IngestError> {
    let parsed = yigong_dicom::parse_part10(&bytes)?;
    check_uids(&parsed.instance)?;
    may_store(ctx, actor).await?;
    // Stored as sent, with our meta information: the sender's file is kept byte for byte
    // from its data set on.
    let file = if bytes.len() >= 132 && &bytes[128..132] == b"DICM" {
        bytes
    } else {
        yigong_dicom::part10(&bytes[parsed.dataset_offset..], &parsed.instance, "")?
    };
    store_instance(ctx, actor.consortium_id, &parsed.instance, file, Sender::Account(actor)).await
}

fn check_uids(i: &DicomInstance) -> Result<(), IngestError> {
    for (uid, name) in [
        (&i.study_uid, "StudyInstanceUID"),
        (&i.series_uid, "SeriesInstanceUID"),
        (&i.sop_instance_uid, "SOPInstanceUID"),
        (&i.sop_class_uid, "SOPClassUID"),
    ] {
        if !is_uid(uid) {
            return Err(IngestError::BadUid(name));
        }
    }
    Ok(())
}

async fn store_instance(
    ctx: &Ctx,
    consortium: ConsortiumId,
    instance: &DicomInstance,
    file: Vec<u8>,
    sender: Sender<'_>,
) -> Result<Ingested, IngestError> {
    let mut out = Ingested {
        study_uid: instance.study_uid.clone(),
        series_uid: instance.series_uid.clone(),
        sop_class_uid: instance.sop_class_uid.clone(),
        sop_instance_uid: instance.sop_instance_uid.clone(),
        duplicate: false,
        order: None,
        patient_record: None,
    };
    let mut tx = ctx.db.begin().await.map_err(AppError::from)?;
    let known = store::known(&mut tx, consortium, &instance.study_uid, &instance.sop_instance_uid)
        .await
        .map_err(AppError::from)?;
    if known.instance {
        out.duplicate = true;
        return Ok(out);
    }
    let (institution, sender_name) = match &sender {
        Sender::Node { ae_title, institution } => (*institution, (*ae_title).to_owned()),
        Sender::Account(actor) => {
            (actor.institution_id.expect("checked by the caller"), format!("user:{}", actor.user_id))
        }
    };
    // A study is matched once, with its first instance; the rest follow it.
    let (order, record) = match known.study {
        Some(matched) => matched,
        None => match_patient(&mut tx, consortium, instance, institution).await.map_err(AppError::from)?,
    };
    drop(tx);
    out.order = order;
    out.patient_record = record;
    let relative = Objects::relative(instance);
    let size = i64::try_from(file.len()).unwrap_or(i64::MAX);
    ctx.objects.write(&relative, file).await.map_err(objects_failed)?;
    let via = match sender {
        Sender::Node { .. } => "dimse",
        Sender::Account(_) => "stow",
    };
    let actor = match sender {
        Sender::Account(a) => a.clone(),
        Sender::Node { .. } => crate::access::system(consortium),
    };
    let job = Job {
        consortium,
        instance: instance.clone(),
        path: relative,
        size,
        via,
        sender: sender_name,
        institution,
        order,
        record,
        actor,
        done: None,
    };
    if !ctx.ingest_writer.write(ctx, job).await? {
        // A concurrent copy of the same instance won; the file written is the same object.
        out.duplicate = true;
    }
    Ok(out)
}

/// One instance waiting to be indexed.
struct Job {
    consortium: ConsortiumId,
    instance: DicomInstance,
    path: String,
    size: i64,
    via: &'static str,
    sender: String,
    institution: InstitutionId,
    order: Option<Uuid>,
    record: Option<PatientRecordId>,
    actor: Actor,
    done: Option<tokio::sync::oneshot::Sender<Result<bool, String>>>,
}

/// Group commit of the index rows of arriving instances: instances waiting while a commit
/// runs are indexed together in the next transaction (at most [`IngestWriter::BATCH`]), each
/// in its own savepoint so that one failure or duplicate touches no other; each sender is
/// answered once its rows (and their audit rows) are committed. With one writer at a time on
/// SQLite, a transaction per instance made the lock the ceiling of ingest.
#[derive(Default)]
pub struct IngestWriter {
    queue: std::sync::Mutex<Option<tokio::sync::mpsc::UnboundedSender<Job>>>,
}

impl std::fmt::Debug for IngestWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("IngestWriter")
    }
}

impl IngestWriter {
    /// Instances per commit at most.
    pub const BATCH: usize = 64;

    /// Indexes one instance; `false` when it was already there.
    async fn write(&self, ctx: &Ctx, mut job: Job) -> Result<bool, AppError> {
        let (done, wait) = tokio::sync::oneshot::channel();
        job.done = Some(done);
        let mut pending = Some(job);
        for _ in 0..2 {
            let sender = {
                let mut queue = self.queue.lock().unwrap_or_else(|e| e.into_inner());
                match queue.as_ref().filter(|s| !s.is_closed()) {
                    Some(s) => s.clone(),
                    None => {
                        let (send, receive) = tokio::sync::mpsc::unbounded_channel();
                        tokio::spawn(Self::writer(ctx.clone(), receive));
                        *queue = Some(send.clone());
                        send
                    }
                }
            };
            match sender.send(pending.take().expect("not yet sent")) {
                Ok(()) => break,
                // The writer's runtime is gone (a new one serves this call): start another.
                Err(tokio::sync::mpsc::error::SendError(back)) => pending = Some(back),
            }
        }
        let failed =
            |e: String| AppError::Store(yigong_store::StoreError::Config(format!("index write failed: {e}")));
        if pending.is_some() {
            return Err(failed("the index writer is not running".into()));
        }
        match wait.await {
            Ok(Ok(inserted)) => Ok(inserted),
            Ok(Err(e)) => Err(failed(e)),
            Err(_) => Err(failed("the index writer stopped".into())),
        }
    }

    async fn writer(ctx: Ctx, mut receive: tokio::sync::mpsc::UnboundedReceiver<Job>) {
        while let Some(first) = receive.recv().await {
            let mut batch = vec![first];
            while batch.len() < Self::BATCH {
                match receive.try_recv() {
                    Ok(j) => batch.push(j),
                    Err(_) => break,
                }
            }
            let mut results: Vec<Result<bool, String>> = Vec::with_capacity(batch.len());
            let committed = async {
                let mut tx = ctx.db.begin_write().await?;
                for job in &batch {
                    tx.savepoint("ingest").await?;
                    match Self::index(&ctx, &mut tx, job).await {
                        Ok(true) => {
                            tx.release("ingest").await?;
                            results.push(Ok(true));
                        }
                        Ok(false) => {
                            tx.rollback_to("ingest").await?;
                            results.push(Ok(false));
                        }
                        Err(e) => {
                            tx.rollback_to("ingest").await?;
                            results.push(Err(e.to_string()));
                        }
                    }
                }
                tx.commit().await.map_err(AppError::from)
            }
            .await;
            for (k, mut job) in batch.into_iter().enumerate() {
                let answer = match &committed {
                    Ok(()) => results.get(k).cloned().unwrap_or_else(|| Err("not indexed".into())),
                    Err(e) => Err(e.to_string()),
                };
                if let Some(done) = job.done.take() {
                    let _ = done.send(answer);
                }
            }
        }
    }

    async fn index(ctx: &Ctx, tx: &mut Tx, job: &Job) -> Result<bool, AppError> {
        let stored = Stored {
            instance: &job.instance,
            path: &job.path,
            size: job.size,
            via: job.via,
            sender: &job.sender,
            source_institution: Some(job.institution),
            order: job.order,
            patient_record: job.record,
            at: ctx.clock.now(),
        };
        if !store::insert_instance(tx, job.consortium, &stored).await? {
            return Ok(false);
        }
        let i = &job.instance;
        let event = Event {
            detail: Some(format!(
                "via={} sender={} study={} instance={}",
                job.via, job.sender, i.study_uid, i.sop_instance_uid
            )),
            ..Event::of("store", "dicom_instance")
        };
        let basis = if job.via == "dimse" { Basis::Administration } else { Basis::OwnInstitution };
        audit::record(ctx, tx, &job.actor, job.consortium, basis, event).await?;
        Ok(true)
    }
}

/// The exam order named by the accession number, and the patient record: the order's, else a
/// record of the sending institution with the Patient ID as its local id, else a record with
/// a valid resident ID number found among the IDs.
async fn match_patient(
    tx: &mut Tx,
    consortium: ConsortiumId,
    i: &DicomInstance,
    institution: InstitutionId,
) -> Result<(Option<Uuid>, Option<PatientRecordId>), yigong_store::StoreError> {
    if !i.accession_number.is_empty()
        && let Some((order, record)) = store::order_by_accession(tx, consortium, &i.accession_number).await?
    {
        return Ok((Some(order), Some(record)));
    }
    let mut found = None;
    if !i.patient_id.is_empty()
        && let Some(source) = mpi::source_of_institution(tx, consortium, institution).await?
    {
        let q = PatientQuery {
            local_id: Some((Some(source.source_id), i.patient_id.clone())),
            limit: 2,
            ..Default::default()
        };
        let ids = yigong_store::fhir::search_patients(tx, consortium, &q).await?;
        if ids.len() == 1 {
            found = Some(PatientRecordId::from_uuid(ids[0]));
        }
    }
    if found.is_none() {
        let today = Utc::now().date_naive();
        for candidate in std::iter::once(&i.patient_id).chain(&i.other_patient_ids) {
            let Ok(id) = ResidentId::parse(candidate, today) else { continue };
            let q =
                PatientQuery { resident_id: Some(id.as_str().to_owned()), limit: 1, ..Default::default() };
            if let Some(r) = yigong_store::fhir::search_patients(tx, consortium, &q).await?.first() {
                found = Some(PatientRecordId::from_uuid(*r));
                break;
            }
        }
    }
    Ok((None, found))
}

/// The basis on which `actor` reads images from `institution`: a reader of the consortium's
/// centres reads every study sent for reading; others read within their scope.
fn read_basis(actor: &Actor, basis: Basis) -> Basis {
    if actor.role == Role::Reader { Basis::ReadingCentre } else { basis }
}

/// Authorises a read of images and returns the institutions the reader may see (`None`: all).
async fn reach(
    ctx: &Ctx,
    actor: &Actor,
    what: &'static str,
) -> Result<(Basis, Option<Vec<InstitutionId>>), AppError> {
    let target = match (&actor.scope, actor.institution_id) {
        (Scope::Institutions(_), Some(i)) => Target::institution(actor.consortium_id, i),
        _ => Target { patient: Some(Uuid::nil()), ..Target::consortium(actor.consortium_id) },
    };
    let basis =
        crate::access::authorize(ctx, actor, Permission::PatientRead, &target, Event::of("read", what))
            .await?;
    let set = match &actor.scope {
        Scope::Institutions(set) => Some(set.iter().copied().collect()),
        _ => None,
    };
    Ok((read_basis(actor, basis), set))
}

fn visible(study: &Study, set: &Option<Vec<InstitutionId>>) -> bool {
    match set {
        None => true,
        Some(set) => study.source_institution_id.is_some_and(|i| set.contains(&InstitutionId::from_uuid(i))),
    }
}

/// QIDO-RS study search within the actor's reach; audited with what was returned.
pub async fn search_studies(ctx: &Ctx, actor: &Actor, q: &StudyQuery) -> Result<Vec<Study>, AppError> {
    let (basis, set) = reach(ctx, actor, "dicom_study").await?;
    let mut tx = ctx.db.begin().await?;
    let mut found = store::search_studies(&mut tx, actor.consortium_id, q).await?;
    drop(tx);
    let before = found.len();
    found.retain(|s| visible(s, &set));
    let detail = format!("qido studies={} withheld={}", found.len(), before - found.len());
    audit::record_read(
        ctx,
        actor,
        actor.consortium_id,
        basis,
        Event { detail: Some(detail), ..Event::of("search", "dicom_study") },
    )
    .await?;
    Ok(found)
}

/// One study with its series and instances (optionally of one series), for QIDO-RS and WADO-RS.
pub async fn study(
    ctx: &Ctx,
    actor: &Actor,
    study_uid: &str,
    series_uid: Option<&str>,
) -> Result<(Study, Vec<Series>, Vec<InstanceRow>), AppError> {
    let (basis, set) = reach(ctx, actor, "dicom_study").await?;
    let mut tx = ctx.db.begin().await?;
    let study = store::study(&mut tx, actor.consortium_id, study_uid)
        .await?
        .ok_or(AppError::NotFound { what: "study" })?;
    if !visible(&study, &set) {
        drop(tx);
        audit::record_denied(
            ctx,
            Some(actor),
            Some(actor.consortium_id),
            Event::of("read", "dicom_study"),
            actor.request_id.clone(),
        )
        .await?;
        return Err(AppError::NotFound { what: "study" });
    }
    let series = store::series_of(&mut tx, actor.consortium_id, study_uid).await?;
    let instances = store::instances_of(&mut tx, actor.consortium_id, study_uid, series_uid).await?;
    drop(tx);
    let detail = format!("study={study_uid} instances={}", instances.len());
    audit::record_read(
        ctx,
        actor,
        actor.consortium_id,
        basis,
        Event { detail: Some(detail), ..Event::of("read", "dicom_study") },
    )
    .await?;
    Ok((study, series, instances))
}

/// The Part 10 file of one instance (after [`study`] has authorised and audited the read).
pub async fn instance_file(ctx: &Ctx, row: &InstanceRow) -> Result<Vec<u8>, AppError> {
    ctx.objects.read(&row.path).await.map_err(objects_failed)
}

/// Whether `actor` may store images at their institution (asked before a STOW body is read,
/// so that a refusal does not depend on what was sent); refusals are audited.
pub async fn may_store(ctx: &Ctx, actor: &Actor) -> Result<InstitutionId, AppError> {
    let target = match actor.institution_id {
        Some(i) => Target::institution(actor.consortium_id, i),
        None => Target::consortium(actor.consortium_id),
    };
    crate::access::authorize(
        ctx,
        actor,
        Permission::PatientWrite,
        &target,
        Event::of("store", "dicom_instance"),
    )
    .await?;
    actor.institution_id.ok_or(AppError::Forbidden { code: "no_acting_institution" })
}

/// The DIMSE provider's sink: what a registered node stores over C-STORE is ingested for one
/// consortium, and each outcome becomes its DIMSE status.
pub struct DimseSink {
    /// The platform.
    pub ctx: Ctx,
    /// Whose nodes may send.
    pub consortium: ConsortiumId,
}

impl yigong_dicom::scp::Sink for DimseSink {
    async fn store(&self, r: yigong_dicom::scp::Received) -> yigong_dicom::scp::Outcome {
        use yigong_dicom::scp::{Outcome, status};
        let result = ingest_dimse(
            &self.ctx,
            self.consortium,
            &r.calling_ae,
            &r.transfer_syntax,
            &r.sop_instance_uid,
            r.dataset,
        )
        .await;
        match result {
            Ok(_) => Outcome::success(),
            Err(IngestError::UnknownNode(ae)) => {
                tracing::warn!(peer = %r.peer, ae, "C-STORE from an unregistered node refused");
                Outcome::failure(status::SOP_CLASS_NOT_SUPPORTED, format!("AE {ae} is not registered"))
            }
            Err(IngestError::App(e)) => {
                tracing::error!(error = %e, "C-STORE could not be stored");
                Outcome::failure(status::OUT_OF_RESOURCES, "the instance could not be stored")
            }
            Err(e @ (IngestError::Invalid(DicomError::Missing(_)) | IngestError::Mismatch)) => {
                Outcome::failure(status::DATASET_MISMATCH, e.to_string())
            }
            Err(e) => Outcome::failure(status::CANNOT_UNDERSTAND, e.to_string()),
        }
    }
}

/// Registers a DICOM node (a modality or a site's gateway) allowed to store over DIMSE.
pub async fn register_node(
    ctx: &Ctx,
    actor: &Actor,
    ae_title: &str,
    institution: InstitutionId,
    description: &str,
) -> Result<(), AppError> {
    let ae = ae_title.trim();
    if ae.is_empty()
        || ae.len() > 16
        || !ae.bytes().all(|b| b.is_ascii_graphic() || b == b' ')
        || ae.contains('\\')
    {
        return Err(yigong_domain::Invalid::one(
            "ae_title",
            "invalid",
            "1–16 printable ASCII characters, no backslash",
        )
        .into());
    }
    let basis = crate::access::authorize(
        ctx,
        actor,
        Permission::RegistryWrite,
        &Target::institution(actor.consortium_id, institution),
        Event::of("register", "dicom_node"),
    )
    .await?;
    let mut tx = ctx.db.begin_write().await?;
    store::put_node(&mut tx, actor.consortium_id, ae, institution, description, ctx.clock.now()).await?;
    audit::record(
        ctx,
        &mut tx,
        actor,
        actor.consortium_id,
        basis,
        Event { detail: Some(format!("ae={ae}")), ..Event::of("register", "dicom_node") },
    )
    .await?;
    tx.commit().await?;
    ctx.dicom_nodes.forget();
    Ok(())
}
