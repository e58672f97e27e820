//! The shared health record (DESIGN.md §4) behind the FHIR R4 API: read, version read,
//! create (also conditional), update (also create-as-update), delete, history, search,
//! transaction and batch Bundles, `Patient/$match`; and the patient's 360° timeline.
//!
//! Every resource is stored losslessly (the JSON as received, numbers with their text) with
//! typed columns and the index of the documented search parameters. Patients are records of
//! the master patient index: a Patient sent over FHIR is registered there (and matched), and
//! a patient registered any other way is served as a Patient projected from the index.
//! Organization, Practitioner and PractitionerRole of the consortium's members are
//! projections of the registry and change only through it.
//!
//! Access follows DESIGN §5.1: a clinician reads a patient who has been seen within their
//! scope (a record or a clinical resource at one of its institutions) or whom a relationship
//! grant covers, and then reads that patient's record from every facility of the consortium.
//! Every read, search and write is audited with its basis.

use chrono::{DateTime, TimeZone, Utc};
use serde_json::Value;
use uuid::Uuid;
use yigong_domain::access::{self, Actor, Basis, Permission, Target};
use yigong_domain::ids::{ConsortiumId, InstitutionId, PatientRecordId, PersonId};
use yigong_fhir::resource::{self as res, OutcomeIssue};
use yigong_store::Tx;
use yigong_store::fhir::{self as store, IndexRow, ResourceRow};

use crate::access::authorize;
use crate::audit::{self, Event};
use crate::{AppError, Ctx};

mod bundle;
mod capability;
mod patient;
mod query;
pub mod registry;
mod timeline;

pub use bundle::process_bundle;
pub use capability::capability_statement;
pub use patient::{match_patients, projected_patient};
pub use query::{SearchParams, SearchResult, query_pairs};
pub use timeline::{
    KINDS as TIMELINE_KINDS, MAX_ENTRIES as TIMELINE_MAX_ENTRIES, Timeline, TimelineEntry, TimelineQuery,
    timeline,
};

/// A FHIR interaction that did not succeed, with what the OperationOutcome should say.
#[derive(Debug, thiserror::Error)]
pub enum FhirError {
    /// The body is not a resource the server can read (400).
    #[error("invalid resource")]
    Invalid(Vec<OutcomeIssue>),
    /// The resource is well formed but breaks a rule of the server (422).
    #[error("unprocessable resource")]
    Unprocessable(Vec<OutcomeIssue>),
    /// No such resource (404).
    #[error("{0} not found")]
    NotFound(String),
    /// The resource was deleted (410).
    #[error("{0} deleted")]
    Gone(String),
    /// `If-Match` names another version (412), or a conditional create matched several (412).
    #[error("precondition failed: {0}")]
    PreconditionFailed(String),
    /// Another writer stored a version first (409).
    #[error("version conflict")]
    Conflict(String),
    /// The interaction is not supported on this resource (405).
    #[error("not allowed: {0}")]
    NotAllowed(String),
    /// Refused inside a write transaction: audited once the transaction is gone (see
    /// [`settle`]), then answered as `Forbidden`.
    #[error("refused")]
    Refused(Box<(Permission, Target, &'static str, &'static str, String)>),
    /// Authentication, authorisation or storage.
    #[error(transparent)]
    App(#[from] AppError),
}

impl FhirError {
    /// The HTTP status.
    pub fn status(&self) -> u16 {
        match self {
            Self::Invalid(_) => 400,
            Self::Unprocessable(_) => 422,
            Self::NotFound(_) => 404,
            Self::Gone(_) => 410,
            Self::PreconditionFailed(_) => 412,
            Self::Conflict(_) => 409,
            Self::NotAllowed(_) => 405,
            Self::Refused(_) => 403,
            Self::App(e) => match e {
                AppError::Invalid(_) => 422,
                AppError::NotFound { .. } => 404,
                AppError::Conflict { .. } | AppError::Transition { .. } => 409,
                AppError::Unauthenticated => 401,
                AppError::Forbidden { .. } => 403,
                AppError::TooManyAttempts => 429,
                AppError::Store(_) => 500,
            },
        }
    }

    /// The reason phrase of [`FhirError::status`].
    pub fn reason(&self) -> &'static str {
        match self.status() {
            400 => "Bad Request",
            401 => "Unauthorized",
            403 => "Forbidden",
            404 => "Not Found",
            405 => "Method Not Allowed",
            409 => "Conflict",
            410 => "Gone",
            412 => "Precondition Failed",
            422 => "Unprocessable Entity",
            429 => "Too Many Requests",
            _ => "Internal Server Error",
        }
    }

    /// The issues of the OperationOutcome (storage failures say nothing of their cause).
    pub fn issues(&self) -> Vec<OutcomeIssue> {
        let one = |code, message: String| vec![OutcomeIssue::error(code, None, message)];
        match self {
            Self::Invalid(i) | Self::Unprocessable(i) => i.clone(),
            Self::NotFound(what) => one("not-found", format!("{what} is not known to this server")),
            Self::Gone(what) => one("deleted", format!("{what} has been deleted")),
            Self::PreconditionFailed(m) | Self::Conflict(m) => one("conflict", m.clone()),
            Self::NotAllowed(m) => one("not-supported", m.clone()),
            Self::Refused(_) => one("forbidden", "not allowed (out_of_scope)".into()),
            Self::App(e) => match e {
                AppError::Invalid(invalid) => invalid
                    .fields
                    .iter()
                    .map(|f| OutcomeIssue::error("invalid", Some(f.field.to_owned()), f.message.clone()))
                    .collect(),
                AppError::NotFound { what } => one("not-found", format!("{what} not found")),
                AppError::Conflict { rule } => one("conflict", format!("conflict: {rule}")),
                AppError::Transition { message, .. } => one("business-rule", message.clone()),
                AppError::Unauthenticated => one("login", "a valid bearer token is required".into()),
                AppError::Forbidden { code } => one("forbidden", format!("not allowed ({code})")),
                AppError::TooManyAttempts => one("throttled", "too many attempts; try again later".into()),
                AppError::Store(_) => one("exception", "the server could not complete the request".into()),
            },
        }
    }
}

impl From<yigong_store::StoreError> for FhirError {
    fn from(e: yigong_store::StoreError) -> Self {
        match e {
            yigong_store::StoreError::Conflict { rule: "fhir_version_conflict" } => {
                Self::Conflict("another version was stored at the same time; read it and try again".into())
            }
            yigong_store::StoreError::Conflict { rule: "fhir_resource_exists" } => {
                Self::Conflict("a resource with this id was created at the same time".into())
            }
            other => Self::App(other.into()),
        }
    }
}

/// A stored version.
#[derive(Debug, Clone)]
pub struct Stored {
    /// Resource type.
    pub resource_type: String,
    /// Logical id.
    pub id: String,
    /// Version.
    pub version: i64,
    /// When it was stored.
    pub last_updated: DateTime<Utc>,
    /// The resource as JSON text (none for a deleted version).
    pub body: Option<String>,
}

impl Stored {
    fn from_row(row: &ResourceRow) -> Self {
        Self {
            resource_type: row.resource_type.clone(),
            id: row.resource_id.clone(),
            version: row.version_id,
            last_updated: ms_to_time(row.last_updated_ms),
            body: row.body.clone(),
        }
    }
}

/// What a write did.
#[derive(Debug, Clone)]
pub struct Written {
    /// The new version (or, for a conditional create that matched, the existing one).
    pub stored: Stored,
    /// Whether a new resource was created (201) rather than updated or matched (200).
    pub created: bool,
}

/// The resource types the server keeps, as the CapabilityStatement lists them.
pub fn served_types() -> &'static [&'static str] {
    yigong_fhir::search::served_types()
}

/// The static name of a served type, for audit rows.
fn static_type(ty: &str) -> Option<&'static str> {
    served_types().iter().copied().find(|t| *t == ty)
}

/// Refuses (and audits) a role that may never do `permission` on clinical data of `ty`, before
/// anything is looked up or parsed.
pub(crate) async fn gate(
    ctx: &Ctx,
    actor: &Actor,
    ty: &'static str,
    permission: Permission,
    action: &'static str,
) -> Result<(), AppError> {
    if is_clinical(ty) && !access::role_permits(actor.role, permission) {
        let target = Target::consortium(actor.consortium_id);
        authorize(ctx, actor, permission, &target, Event::of(action, ty)).await?;
    }
    Ok(())
}

/// Audits a refusal met inside a write transaction (which is gone by now, so the denial row
/// does not wait for its lock) and turns it into `Forbidden`.
pub(crate) async fn settle<T>(
    ctx: &Ctx,
    actor: &Actor,
    result: Result<T, FhirError>,
) -> Result<T, FhirError> {
    match result {
        Err(FhirError::Refused(r)) => {
            let (permission, target, action, ty, id) = *r;
            let mut event = Event::on(action, ty, id);
            event.patient_id = target.patient;
            authorize(ctx, actor, permission, &target, event).await?;
            Err(AppError::Forbidden { code: "out_of_scope" }.into())
        }
        other => other,
    }
}

fn check_type(ty: &str) -> Result<&'static str, FhirError> {
    static_type(ty).ok_or_else(|| {
        FhirError::NotFound(format!("resource type {ty:?} is not served here (see /fhir/metadata)"))
    })
}

/// Types whose resources belong to a patient.
fn is_clinical(ty: &str) -> bool {
    ty == "Patient" || res::patient_element(ty).is_some()
}

pub(crate) fn ms_to_time(ms: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(ms).single().unwrap_or(DateTime::<Utc>::MIN_UTC)
}

/// Parses a JSON body, keeping numbers as written.
pub fn parse_body(bytes: &[u8]) -> Result<Value, FhirError> {
    yigong_fhir::json::parse(bytes)
        .map_err(|e| FhirError::Invalid(vec![OutcomeIssue::error("structure", None, e.to_string())]))
}

/// Structural validation against the R4 definitions.
fn validate(resource: &Value, expected: &str) -> Result<(), FhirError> {
    let issues: Vec<OutcomeIssue> = yigong_fhir::validate::validate_as(resource, expected)
        .into_iter()
        .filter(|i| i.severity == yigong_fhir::validate::Severity::Error)
        .map(|i| OutcomeIssue::error(i.code.as_str(), Some(i.expression), i.message))
        .collect();
    if issues.is_empty() { Ok(()) } else { Err(FhirError::Invalid(issues)) }
}

/// The parameter whose index rows answer `code` on `ty`: `patient` is the `subject` that is a
/// Patient wherever a type has both, so its rows are not stored twice.
pub(crate) fn index_alias(ty: &str, code: &str) -> Option<&'static str> {
    (code == "patient" && yigong_fhir::search::param(ty, "subject").is_some()).then_some("subject")
}

/// The index rows of a resource's documented search parameters (`_id` and `_lastUpdated` are
/// columns of the resource row; `patient` is answered by `subject`).
pub(crate) fn index_rows(resource: &Value) -> Vec<IndexRow> {
    use yigong_fhir::search::IndexValue as V;
    let ty = resource.get("resourceType").and_then(Value::as_str).unwrap_or_default();
    yigong_fhir::search::extract(resource)
        .into_iter()
        .filter(|e| !e.param.starts_with('_') && index_alias(ty, e.param).is_none())
        .filter_map(|e| {
            let param = e.param.to_string();
            Some(match e.value {
                V::Token { system, code } => {
                    IndexRow::Token { param, system: system.unwrap_or_default(), code }
                }
                V::String(value) => IndexRow::String { param, value },
                V::Date(period) => IndexRow::Date {
                    param,
                    start_ms: period.start.timestamp_millis(),
                    end_ms: period.end.timestamp_millis(),
                },
                V::Reference { target_type, id } if !target_type.is_empty() => {
                    IndexRow::Reference { param, target_type, target_id: id }
                }
                V::Uri(uri) => IndexRow::Token { param, system: String::new(), code: uri },
                _ => return None,
            })
        })
        .collect()
}

/// When a resource happened, for the timeline: the start of its main date parameter.
fn occurred_ms(resource_type: &str, index: &[IndexRow]) -> Option<i64> {
    let params: &[&str] = match resource_type {
        "Encounter" | "Observation" | "DiagnosticReport" | "DocumentReference" | "AllergyIntolerance" => {
            &["date"]
        }
        "Condition" => &["onset-date", "recorded-date"],
        "MedicationRequest" => &["authoredon"],
        "ServiceRequest" => &["authored"],
        "Task" => &["authored-on"],
        _ => &[],
    };
    params.iter().find_map(|p| {
        index.iter().find_map(|r| match r {
            IndexRow::Date { param, start_ms, .. } if param == p && *start_ms > i64::MIN / 2 => {
                Some(*start_ms)
            }
            _ => None,
        })
    })
}

/// The index rows of the version a write replaces (none for a new or deleted resource).
pub(crate) fn previous_index(existing: Option<&ResourceRow>) -> Vec<IndexRow> {
    existing
        .and_then(|r| r.body.as_deref())
        .and_then(|b| yigong_fhir::json::parse(b.as_bytes()).ok())
        .map(|v| index_rows(&v))
        .unwrap_or_default()
}

/// The patient a resource is about and its owner, worked out before a write.
#[derive(Debug, Clone, Copy, Default)]
struct Owner {
    institution: Option<InstitutionId>,
    record: Option<Uuid>,
    person: Option<PersonId>,
}

/// The record behind a `Patient/{id}` reference: a Patient stored over FHIR under that id,
/// else a record of the index whose id it is.
pub(crate) async fn patient_record(
    tx: &mut Tx,
    consortium: ConsortiumId,
    id: &str,
) -> Result<Option<Uuid>, AppError> {
    if let Some(row) = store::get(tx, consortium, "Patient", id).await?
        && !row.deleted
    {
        return Ok(row.record_id);
    }
    let Ok(uuid) = Uuid::parse_str(id) else { return Ok(None) };
    let rows = yigong_store::mpi::records_by_ids(tx, consortium, &[PatientRecordId::from_uuid(uuid)]).await?;
    Ok(rows.first().map(|r| r.record_id.as_uuid()))
}

async fn person_of(
    tx: &mut Tx,
    consortium: ConsortiumId,
    record: Uuid,
) -> Result<Option<PersonId>, AppError> {
    Ok(yigong_store::mpi::person_of(tx, consortium, PatientRecordId::from_uuid(record)).await?)
}

/// Where the patient has been seen: institutions of their records' sources and of the
/// clinical resources about them. A clinician reads the patient if one of them is in scope.
async fn patient_institutions(
    tx: &mut Tx,
    consortium: ConsortiumId,
    person: PersonId,
) -> Result<(Vec<Uuid>, Vec<InstitutionId>), AppError> {
    let ids = yigong_store::mpi::person_record_ids(tx, consortium, person).await?;
    let mut institutions = yigong_store::mpi::institutions_of_records(tx, consortium, &ids).await?;
    let records: Vec<Uuid> = ids.iter().map(|r| r.as_uuid()).collect();
    institutions.extend(store::record_institutions(tx, consortium, &records).await?);
    institutions.sort();
    institutions.dedup();
    Ok((records, institutions.into_iter().map(InstitutionId::from_uuid).collect()))
}

/// Why a projected resource is not written over FHIR, and where it is changed.
fn kept_elsewhere(ty: &str, id: &str, kind: Option<&str>) -> String {
    if kind == Some(crate::referral::fhir::KIND) {
        format!("{ty}/{id} is kept by the referral workflow; change it through /api/v1/referrals")
    } else if kind == Some(crate::reading::fhir::KIND) {
        format!("{ty}/{id} is a signed reading report; amend it through /api/v1/exams")
    } else {
        format!("{ty}/{id} mirrors the consortium's registry; change it there (/api/v1)")
    }
}

/// The basis on which `actor` may `permission` a patient, if any (no audit).
async fn patient_basis(
    ctx: &Ctx,
    tx: &mut Tx,
    actor: &Actor,
    person: PersonId,
    permission: Permission,
) -> Result<Option<Basis>, AppError> {
    let consortium = actor.consortium_id;
    if !access::role_permits(actor.role, permission) {
        return Ok(None);
    }
    let (_, institutions) = patient_institutions(tx, consortium, person).await?;
    let now = ctx.clock.now();
    for institution in institutions {
        let target = Target {
            consortium_id: consortium,
            institution_id: Some(institution),
            patient: Some(person.as_uuid()),
        };
        if let Ok(basis) = access::decide(actor, permission, &target, now) {
            return Ok(Some(basis));
        }
    }
    // A grant on the patient (referral, break-glass) with no institution in reach.
    let target = Target { consortium_id: consortium, institution_id: None, patient: Some(person.as_uuid()) };
    if let Ok(basis) = access::decide(actor, permission, &target, now) {
        return Ok(Some(basis));
    }
    let referral = crate::referral::grants_on(ctx, tx, actor, person).await?;
    if referral.is_empty() {
        return Ok(None);
    }
    let mut with = actor.clone();
    with.grants.extend(referral);
    Ok(access::decide(&with, permission, &target, now).ok())
}

/// Decides a read of one stored resource; refusals are audited.
async fn read_basis(
    ctx: &Ctx,
    tx: &mut Tx,
    actor: &Actor,
    row: &ResourceRow,
) -> Result<(Basis, Option<PersonId>), AppError> {
    let consortium = actor.consortium_id;
    let ty = static_type(&row.resource_type).unwrap_or("fhir");
    let event = || Event::on("read", ty, &row.resource_id);
    match row.record_id {
        Some(record) => {
            let person = person_of(tx, consortium, record).await?;
            let basis = match person {
                Some(p) => patient_basis(ctx, tx, actor, p, Permission::PatientRead).await?,
                None => None,
            };
            match basis {
                Some(b) => Ok((b, person)),
                None => {
                    let target = Target {
                        consortium_id: consortium,
                        institution_id: row.institution_id.map(InstitutionId::from_uuid),
                        patient: person.map(|p| p.as_uuid()),
                    };
                    let mut e = event();
                    e.patient_id = person.map(|p| p.as_uuid());
                    authorize(ctx, actor, Permission::PatientRead, &target, e).await?;
                    Err(AppError::Forbidden { code: "out_of_scope" })
                }
            }
        }
        None => {
            let target = Target::consortium(consortium);
            Ok((authorize(ctx, actor, Permission::RegistryRead, &target, event()).await?, None))
        }
    }
}

/// Reads the current version of a resource.
pub async fn read(ctx: &Ctx, actor: &Actor, resource_type: &str, id: &str) -> Result<Stored, FhirError> {
    let ty = check_type(resource_type)?;
    gate(ctx, actor, ty, Permission::PatientRead, "read").await?;
    let consortium = actor.consortium_id;
    let mut tx = ctx.db.begin().await?;
    let row = match store::get(&mut tx, consortium, ty, id).await? {
        Some(row) => row,
        None if ty == "Patient" => match patient::projected_row(ctx, &mut tx, consortium, id).await? {
            Some(row) => row,
            None => return Err(FhirError::NotFound(format!("Patient/{id}"))),
        },
        None => return Err(FhirError::NotFound(format!("{ty}/{id}"))),
    };
    let (basis, person) = read_basis(ctx, &mut tx, actor, &row).await?;
    tx.commit().await?;
    audit_read(ctx, actor, basis, person, ty, id, "read").await?;
    if row.deleted {
        return Err(FhirError::Gone(format!("{ty}/{id}")));
    }
    Ok(Stored::from_row(&row))
}

async fn audit_read(
    ctx: &Ctx,
    actor: &Actor,
    basis: Basis,
    person: Option<PersonId>,
    ty: &'static str,
    id: &str,
    action: &'static str,
) -> Result<(), AppError> {
    let mut event = Event::on(action, ty, id);
    event.patient_id = person.map(|p| p.as_uuid());
    audit::record_read(ctx, actor, actor.consortium_id, basis, event).await
}

/// Reads one version.
pub async fn vread(
    ctx: &Ctx,
    actor: &Actor,
    resource_type: &str,
    id: &str,
    version: i64,
) -> Result<Stored, FhirError> {
    let ty = check_type(resource_type)?;
    gate(ctx, actor, ty, Permission::PatientRead, "vread").await?;
    let consortium = actor.consortium_id;
    let mut tx = ctx.db.begin().await?;
    let Some(row) = store::get(&mut tx, consortium, ty, id).await? else {
        return Err(FhirError::NotFound(format!("{ty}/{id}")));
    };
    let (basis, person) = read_basis(ctx, &mut tx, actor, &row).await?;
    let v = store::version(&mut tx, consortium, ty, id, version).await?;
    tx.commit().await?;
    let v = v.ok_or_else(|| FhirError::NotFound(format!("{ty}/{id}/_history/{version}")))?;
    audit_read(ctx, actor, basis, person, ty, id, "vread").await?;
    if v.body.is_none() {
        return Err(FhirError::Gone(format!("{ty}/{id}/_history/{version}")));
    }
    Ok(Stored {
        resource_type: v.resource_type,
        id: v.resource_id,
        version: v.version_id,
        last_updated: ms_to_time(v.last_updated_ms),
        body: v.body,
    })
}

/// The versions of one resource, newest first.
pub async fn history(
    ctx: &Ctx,
    actor: &Actor,
    resource_type: &str,
    id: &str,
    count: i64,
    offset: i64,
) -> Result<Vec<Stored>, FhirError> {
    let ty = check_type(resource_type)?;
    gate(ctx, actor, ty, Permission::PatientRead, "history").await?;
    let consortium = actor.consortium_id;
    let mut tx = ctx.db.begin().await?;
    let Some(row) = store::get(&mut tx, consortium, ty, id).await? else {
        return Err(FhirError::NotFound(format!("{ty}/{id}")));
    };
    let (basis, person) = read_basis(ctx, &mut tx, actor, &row).await?;
    let versions = store::history(&mut tx, consortium, ty, Some(id), None, count, offset).await?;
    tx.commit().await?;
    audit_read(ctx, actor, basis, person, ty, id, "history").await?;
    Ok(versions
        .into_iter()
        .map(|v| Stored {
            resource_type: v.resource_type,
            id: v.resource_id,
            version: v.version_id,
            last_updated: ms_to_time(v.last_updated_ms),
            body: v.body,
        })
        .collect())
}

/// A write as the HTTP layer or a Bundle entry asks for it.
#[derive(Debug, Clone)]
pub struct WriteRequest {
    /// Type named by the URL.
    pub resource_type: String,
    /// Id named by the URL (update), none for a create.
    pub id: Option<String>,
    /// The resource.
    pub resource: Value,
    /// `If-Match` version.
    pub if_match: Option<i64>,
    /// `If-None-Exist` query (conditional create).
    pub if_none_exist: Option<String>,
    /// The id was given by the server to a create (a Bundle's POST entry), not by the client.
    pub server_assigned: bool,
}

/// Creates a resource (`POST /fhir/{type}`), conditionally when `if_none_exist` is given.
pub async fn create(ctx: &Ctx, actor: &Actor, request: WriteRequest) -> Result<Written, FhirError> {
    let ty = check_type(&request.resource_type)?;
    gate(ctx, actor, ty, Permission::PatientWrite, "write").await?;
    // The matching model is read before the write lock is taken: a second connection asked
    // for while holding it would wait on the writers queued behind it.
    let model = patient_model(ctx, actor, ty == "Patient").await?;
    let result = async {
        let mut tx = ctx.db.begin_write().await?;
        let written = write_in(ctx, &mut tx, actor, request, model.as_deref()).await?;
        tx.commit().await?;
        Ok(written)
    }
    .await;
    settle(ctx, actor, result).await
}

/// Updates (or creates with the client's id) a resource (`PUT /fhir/{type}/{id}`).
pub async fn update(ctx: &Ctx, actor: &Actor, request: WriteRequest) -> Result<Written, FhirError> {
    create(ctx, actor, request).await
}

/// The index's current matching model, when Patients are to be written.
pub(crate) async fn patient_model(
    ctx: &Ctx,
    actor: &Actor,
    needed: bool,
) -> Result<Option<std::sync::Arc<yigong_mpi::Model>>, AppError> {
    Ok(if needed { Some(crate::mpi::current_model(ctx, actor.consortium_id).await?) } else { None })
}

/// One create or update inside the caller's transaction, audited in it.
pub(crate) async fn write_in(
    ctx: &Ctx,
    tx: &mut Tx,
    actor: &Actor,
    request: WriteRequest,
    model: Option<&yigong_mpi::Model>,
) -> Result<Written, FhirError> {
    let ty = check_type(&request.resource_type)?;
    let consortium = actor.consortium_id;
    let mut resource = request.resource;
    let body_type = resource.get("resourceType").and_then(Value::as_str).unwrap_or_default();
    if body_type != ty {
        return Err(FhirError::Invalid(vec![OutcomeIssue::error(
            "invalid",
            Some("resourceType".into()),
            format!("the URL is for {ty} but the body is a {body_type:?}"),
        )]));
    }
    if let Some(id) = &request.id {
        if !res::is_valid_id(id) {
            return Err(FhirError::Invalid(vec![OutcomeIssue::error(
                "value",
                Some(format!("{ty}.id")),
                format!("{id:?} is not a FHIR id (1–64 of A-Z a-z 0-9 - .)"),
            )]));
        }
        match resource.get("id").and_then(Value::as_str) {
            Some(body_id) if body_id == id => {}
            other => {
                return Err(FhirError::Invalid(vec![OutcomeIssue::error(
                    "invalid",
                    Some(format!("{ty}.id")),
                    format!("an update must carry the id of its URL ({id:?}) in the body (got {other:?})"),
                )]));
            }
        }
    }
    validate(&resource, ty)?;
    if let Some(query) = &request.if_none_exist
        && request.id.is_none()
    {
        let found = query::conditional_matches(ctx, tx, actor, ty, query).await?;
        match found.len() {
            0 => {}
            1 => {
                return Ok(Written { stored: Stored::from_row(&found[0]), created: false });
            }
            n => {
                return Err(FhirError::PreconditionFailed(format!(
                    "If-None-Exist matched {n} resources; the criteria must select at most one"
                )));
            }
        }
    }
    let now = ctx.clock.now();
    let existing = match &request.id {
        Some(id) => store::get(tx, consortium, ty, id).await?,
        None => None,
    };
    if let Some(row) = &existing
        && row.registry_kind.is_some()
    {
        return Err(FhirError::NotAllowed(kept_elsewhere(
            ty,
            &row.resource_id,
            row.registry_kind.as_deref(),
        )));
    }
    if let Some(expected) = request.if_match {
        let current = existing.as_ref().map(|r| r.version_id).unwrap_or(0);
        if current != expected {
            return Err(FhirError::PreconditionFailed(format!(
                "If-Match names version {expected}, the current version is {current}"
            )));
        }
    }
    let id = request.id.clone().unwrap_or_else(|| Uuid::now_v7().to_string());
    let version = existing.as_ref().map_or(1, |r| r.version_id + 1);
    res::set_id_and_meta(&mut resource, &id, version, now);
    let index = index_rows(&resource);
    let owner = owner_of(tx, actor, ty, &resource, existing.as_ref()).await?;
    let basis = authorize_write(ctx, actor, ty, &id, &owner).await?;
    let owner = if ty == "Patient" {
        patient::register_in(ctx, tx, actor, &id, &resource, existing.as_ref(), owner, model).await?
    } else {
        owner
    };
    let row = ResourceRow {
        resource_type: ty.to_owned(),
        resource_id: id.clone(),
        version_id: version,
        last_updated_ms: now.timestamp_millis(),
        deleted: false,
        institution_id: owner.institution.map(|i| i.as_uuid()),
        record_id: owner.record,
        occurred_ms: occurred_ms(ty, &index),
        registry_kind: None,
        body: Some(serde_json::to_string(&resource).expect("a JSON value serialises")),
    };
    let method =
        if existing.is_some() || (request.id.is_some() && !request.server_assigned) { "PUT" } else { "POST" };
    store::put(
        tx,
        consortium,
        store::Write {
            row: &row,
            method,
            author: Some(actor.user_id),
            index: &index,
            previous_index: &previous_index(existing.as_ref()),
        },
    )
    .await?;
    let mut event = Event::on(if existing.is_some() { "update" } else { "create" }, ty, &id);
    event.patient_id = owner.person.map(|p| p.as_uuid());
    event.detail = Some(format!("version={version}"));
    audit::record(ctx, tx, actor, consortium, basis, event).await?;
    Ok(Written { stored: Stored::from_row(&row), created: existing.is_none() })
}

/// Works out whose the resource is: the acting institution owns what its staff write; a
/// clinical resource names a patient that exists.
async fn owner_of(
    tx: &mut Tx,
    actor: &Actor,
    ty: &str,
    resource: &Value,
    existing: Option<&ResourceRow>,
) -> Result<Owner, FhirError> {
    let consortium = actor.consortium_id;
    if !is_clinical(ty) {
        return Ok(Owner::default());
    }
    let institution =
        existing.and_then(|r| r.institution_id).map(InstitutionId::from_uuid).or(actor.institution_id);
    if ty == "Patient" {
        let record = existing.and_then(|r| r.record_id);
        let person = match record {
            Some(r) => person_of(tx, consortium, r).await?,
            None => None,
        };
        return Ok(Owner { institution, record, person });
    }
    let element = res::patient_element(ty).unwrap_or("subject");
    let Some(reference) = resource.get(element).and_then(|e| e.get("reference")).and_then(Value::as_str)
    else {
        // A resource about no patient (an Observation of a device, a Task without `for`).
        return Ok(Owner { institution, record: None, person: None });
    };
    let issue = |message: String| {
        FhirError::Unprocessable(vec![OutcomeIssue::error(
            "not-found",
            Some(format!("{ty}.{element}.reference")),
            message,
        )])
    };
    match res::parse_reference(reference) {
        Some(("Patient", id)) => {
            let Some(record) = patient_record(tx, consortium, id).await? else {
                return Err(issue(format!("{reference} does not exist in this consortium")));
            };
            let person = person_of(tx, consortium, record).await?;
            Ok(Owner { institution, record: Some(record), person })
        }
        Some(_) => Ok(Owner { institution, record: None, person: None }),
        // A contained patient, or one on another server: no patient of the index.
        None if reference.starts_with('#') || reference.starts_with("http") => {
            Ok(Owner { institution, record: None, person: None })
        }
        None => Err(issue(format!(
            "{reference:?} cannot be resolved: use Patient/{{id}} (or a urn:uuid of the same transaction)"
        ))),
    }
}

/// Authorises a write: clinical data by the acting institution's clinicians, on a patient
/// they may write for; consortium-level resources by registry administrators.
async fn authorize_write(
    ctx: &Ctx,
    actor: &Actor,
    ty: &'static str,
    id: &str,
    owner: &Owner,
) -> Result<Basis, FhirError> {
    let consortium = actor.consortium_id;
    let (permission, target) = if !is_clinical(ty) {
        (Permission::RegistryWrite, Target::consortium(consortium))
    } else {
        let target = Target {
            consortium_id: consortium,
            institution_id: owner.institution,
            patient: owner.person.map(|p| p.as_uuid()),
        };
        (Permission::PatientWrite, target)
    };
    if target.institution_id.is_none() && is_clinical(ty) {
        return Err(FhirError::Refused(Box::new((permission, target, "write", ty, id.to_owned()))));
    }
    access::decide(actor, permission, &target, ctx.clock.now())
        .map_err(|_| FhirError::Refused(Box::new((permission, target, "write", ty, id.to_owned()))))
}

/// Deletes a resource (a new version without a body; history kept).
pub async fn delete(
    ctx: &Ctx,
    actor: &Actor,
    resource_type: &str,
    id: &str,
) -> Result<Option<Stored>, FhirError> {
    let ty = check_type(resource_type)?;
    gate(ctx, actor, ty, Permission::PatientWrite, "delete").await?;
    let result = async {
        let mut tx = ctx.db.begin_write().await?;
        let out = delete_in(ctx, &mut tx, actor, resource_type, id).await?;
        tx.commit().await?;
        Ok(out)
    }
    .await;
    settle(ctx, actor, result).await
}

pub(crate) async fn delete_in(
    ctx: &Ctx,
    tx: &mut Tx,
    actor: &Actor,
    resource_type: &str,
    id: &str,
) -> Result<Option<Stored>, FhirError> {
    let ty = check_type(resource_type)?;
    let consortium = actor.consortium_id;
    if ty == "Patient" {
        return Err(FhirError::NotAllowed(
            "patients are kept by the master patient index and are not deleted; a steward unlinks or merges them".into(),
        ));
    }
    let Some(existing) = store::get(tx, consortium, ty, id).await? else {
        // Deleting what is not there succeeds (R4 §3.1.0.7.1).
        return Ok(None);
    };
    if existing.registry_kind.is_some() {
        return Err(FhirError::NotAllowed(kept_elsewhere(ty, id, existing.registry_kind.as_deref())));
    }
    if existing.deleted {
        return Ok(None);
    }
    let person = match existing.record_id {
        Some(r) => person_of(tx, consortium, r).await?,
        None => None,
    };
    let owner = Owner {
        institution: existing.institution_id.map(InstitutionId::from_uuid),
        record: existing.record_id,
        person,
    };
    let basis = authorize_write(ctx, actor, ty, id, &owner).await?;
    let now = ctx.clock.now();
    let previous = previous_index(Some(&existing));
    let row = ResourceRow {
        version_id: existing.version_id + 1,
        last_updated_ms: now.timestamp_millis(),
        deleted: true,
        body: None,
        ..existing
    };
    store::put(
        tx,
        consortium,
        store::Write {
            row: &row,
            method: "DELETE",
            author: Some(actor.user_id),
            index: &[],
            previous_index: &previous,
        },
    )
    .await?;
    let mut event = Event::on("delete", ty, id);
    event.patient_id = person.map(|p| p.as_uuid());
    audit::record(ctx, tx, actor, consortium, basis, event).await?;
    Ok(Some(Stored::from_row(&row)))
}

/// Searches one type (`GET /fhir/{type}?…`).
pub async fn search(
    ctx: &Ctx,
    actor: &Actor,
    resource_type: &str,
    params: &SearchParams,
) -> Result<SearchResult, FhirError> {
    let ty = check_type(resource_type)?;
    query::search(ctx, actor, ty, params).await
}

/// A resource loaded in bulk (the synthetic county, imports): valid, with its owner and patient
/// already known.
#[derive(Debug, Clone)]
pub struct BulkResource {
    /// Resource type.
    pub resource_type: &'static str,
    /// Logical id.
    pub id: String,
    /// Owning institution.
    pub institution: Option<InstitutionId>,
    /// The patient record it is about.
    pub record: Option<Uuid>,
    /// The resource.
    pub body: Value,
}

/// Resources prepared for [`store_bulk`]: stamped, indexed and serialised (CPU work that a
/// loader can do on another thread while the previous batch is written).
pub struct PreparedBatch(Vec<(ResourceRow, Vec<IndexRow>)>);

/// Stamps version 1 at `now`, indexes and serialises `resources`.
pub fn prepare_bulk(resources: Vec<BulkResource>, now: DateTime<Utc>) -> PreparedBatch {
    PreparedBatch(
        resources
            .into_iter()
            .map(|mut r| {
                res::set_id_and_meta(&mut r.body, &r.id, 1, now);
                let index = index_rows(&r.body);
                let row = ResourceRow {
                    resource_type: r.resource_type.to_owned(),
                    resource_id: r.id,
                    version_id: 1,
                    last_updated_ms: now.timestamp_millis(),
                    deleted: false,
                    institution_id: r.institution.map(|i| i.as_uuid()),
                    record_id: r.record,
                    occurred_ms: occurred_ms(r.resource_type, &index),
                    registry_kind: None,
                    body: Some(serde_json::to_string(&r.body).expect("a JSON value serialises")),
                };
                (row, index)
            })
            .collect(),
    )
}

/// Stores a prepared batch of new resources in one transaction. For loaders that run as the
/// console (the synthetic county, imports): no per-resource audit row, the load is one event.
pub async fn store_bulk(
    ctx: &Ctx,
    consortium: ConsortiumId,
    batch: PreparedBatch,
) -> Result<usize, AppError> {
    let mut tx = ctx.db.begin_write().await?;
    store::insert_many(&mut tx, consortium, &batch.0, None).await?;
    tx.commit().await?;
    Ok(batch.0.len())
}

/// [`prepare_bulk`] then [`store_bulk`].
pub async fn load_bulk(
    ctx: &Ctx,
    consortium: ConsortiumId,
    resources: Vec<BulkResource>,
) -> Result<usize, AppError> {
    let now = ctx.clock.now();
    let batch = tokio::task::spawn_blocking(move || prepare_bulk(resources, now)).await.map_err(|e| {
        AppError::Store(yigong_store::StoreError::Config(format!("indexing task failed: {e}")))
    })?;
    store_bulk(ctx, consortium, batch).await
}
