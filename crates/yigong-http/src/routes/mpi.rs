//! `/api/v1/mpi`: the master patient index of the caller's consortium — match without create,
//! registration, persons with their golden record, the review queue and steward operations.

use axum::Json;
use axum::extract::DefaultBodyLimit;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;
use yigong_app::mpi::{
    self, CandidateView, Decision, Match, MatchQuery, PersonView, RecordView, RegistrarChoice,
};
use yigong_domain::Invalid;
use yigong_domain::identity::assess_resident_id;
use yigong_domain::ids::{MpiOperationId, PatientRecordId, PersonId};
use yigong_domain::patient::RegistrationDraft;

use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, AppJson, AppPath, AppQuery, ErrorBody};
use crate::page::{PageQuery, encode_cursor};

/// The routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(match_records))
        .routes(routes!(register))
        .routes(routes!(get_person))
        .routes(routes!(merge))
        .routes(routes!(link))
        .routes(routes!(unlink))
        .routes(routes!(undo))
        .routes(routes!(review))
        .routes(routes!(get_pair))
        .routes(routes!(decide))
        .merge(OpenApiRouter::new().routes(routes!(import)).layer(DefaultBodyLimit::max(IMPORT_LIMIT)))
}

/// Largest patient list accepted in one request (base64 included): a township centre's list is
/// a few MB; a county hospital's goes through `yigong mpi import`.
const IMPORT_LIMIT: usize = 64 * 1024 * 1024;

/// Demographics to match; give at least a name, a resident ID or a phone number.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MatchInput {
    /// Name (Chinese characters or pinyin).
    name: Option<String>,
    /// `male`/`female`, `男`/`女` or `1`/`2`.
    sex: Option<String>,
    /// Birth date, `YYYY-MM-DD` (other common forms are read too).
    birth_date: Option<String>,
    /// GB 11643 resident ID, 18 or 15 characters.
    resident_id: Option<String>,
    /// Mobile or landline.
    phone: Option<String>,
    /// Twelve-digit village code.
    village_code: Option<String>,
    /// Household number.
    household_id: Option<String>,
    /// E-health card number.
    e_health_card: Option<String>,
    /// Insurance number.
    insurance_number: Option<String>,
}

/// One field's agreement in a scored pair.
#[derive(Debug, Serialize, ToSchema)]
pub struct FieldAgreement {
    /// Field.
    field: String,
    /// Comparator.
    comparator: String,
    /// Level reached (`missing` when a side has no value).
    level: String,
    /// Weight in bits (log2 m/u), term frequency included.
    weight: f64,
}

/// A person the candidate may be.
#[derive(Debug, Serialize, ToSchema)]
pub struct MatchView {
    /// The person.
    person_id: Uuid,
    /// Score in bits.
    score: f64,
    /// `auto_link` or `review`.
    band: String,
    /// Parameter-set version that scored it.
    rule_version: String,
    /// Their best-scoring record: name as registered.
    name: Option<String>,
    /// Sex as registered.
    sex: Option<String>,
    /// Birth date as registered.
    birth_date: Option<String>,
    /// Resident ID, masked.
    resident_id_masked: Option<String>,
    /// Where that record was registered (source code).
    source: String,
    /// Field by field.
    fields: Vec<FieldAgreement>,
    /// Hard rules that keep it from an automatic link.
    hard_rules: Vec<String>,
}

fn mask_id(raw: Option<&str>) -> Option<String> {
    raw.map(|r| match assess_resident_id(r, chrono::Utc::now().date_naive()) {
        Some(status) => status.masked(),
        None => "****".to_owned(),
    })
}

impl From<&Match> for MatchView {
    fn from(m: &Match) -> Self {
        let v = &m.record.values;
        Self {
            person_id: m.person_id.as_uuid(),
            score: (m.result.score * 100.0).round() / 100.0,
            band: m.result.band.as_str().to_owned(),
            rule_version: m.result.parameters_version.clone(),
            name: v.name.clone().or_else(|| {
                let parts: Vec<&str> =
                    [&v.given_name, &v.family_name].into_iter().flatten().map(String::as_str).collect();
                (!parts.is_empty()).then(|| parts.join(" "))
            }),
            sex: v.sex.clone(),
            birth_date: v.birth_date.clone(),
            resident_id_masked: mask_id(v.resident_id.as_deref()),
            source: m.source.clone(),
            fields: m
                .result
                .fields
                .iter()
                .map(|f| FieldAgreement {
                    field: f.field.as_str().to_owned(),
                    comparator: f.comparator.as_str().to_owned(),
                    level: f.level_name.to_owned(),
                    weight: (f.weight * 100.0).round() / 100.0,
                })
                .collect(),
            hard_rules: m.result.hard_rules.iter().map(|r| r.as_str().to_owned()).collect(),
        }
    }
}

/// The matches of a candidate record.
#[derive(Debug, Serialize, ToSchema)]
pub struct MatchList {
    /// Persons in the auto-link and review bands, best first (at most ten).
    matches: Vec<MatchView>,
}

/// Scores a candidate record against the index without creating anything.
#[utoipa::path(post, path = "/api/v1/mpi/match", tag = "mpi", security(("bearer" = [])), request_body = MatchInput,
    responses((status = 200, body = MatchList), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
async fn match_records(
    State(ctx): State<AppState>,
    caller: Caller,
    AppJson(body): AppJson<MatchInput>,
) -> Result<Json<MatchList>, ApiError> {
    let query = MatchQuery {
        name: body.name,
        sex: body.sex,
        birth_date: body.birth_date,
        resident_id: body.resident_id,
        phone: body.phone,
        village_code: body.village_code,
        household_id: body.household_id,
        e_health_card: body.e_health_card,
        insurance_number: body.insurance_number,
    };
    let matches = mpi::match_only(&ctx, caller.actor(), &query).await?;
    Ok(Json(MatchList { matches: matches.iter().map(MatchView::from).collect() }))
}

/// A patient registration at the caller's acting institution.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegistrationInput {
    /// The institution's own patient number; generated when absent.
    local_id: Option<String>,
    /// Name.
    name: String,
    /// `male` or `female`.
    sex: String,
    /// `YYYY-MM-DD`.
    birth_date: String,
    /// GB 11643 number; a malformed one is kept as unverified with a warning.
    resident_id: Option<String>,
    /// Required without an ID: newborn, child_without_id, not_carried, foreign_national,
    /// unconscious, declined, other.
    no_id_reason: Option<String>,
    /// Mobile or landline.
    phone: Option<String>,
    /// Twelve-digit village code.
    village_code: Option<String>,
    /// Household number.
    household_id: Option<String>,
    /// E-health card number.
    e_health_card: Option<String>,
    /// Insurance number.
    insurance_number: Option<String>,
    /// Identity read from the ID card chip or e-health card QR code.
    #[serde(default)]
    verified: bool,
    /// `automatic` (default: link to an auto-band match, else a new person), `person` (the
    /// registrar chose `person_id` among the matches), `new_person` (none of the matches).
    #[serde(default)]
    choice: Option<String>,
    /// With `choice = person`.
    person_id: Option<Uuid>,
}

/// What a registration did.
#[derive(Debug, Serialize, ToSchema)]
pub struct RegisteredView {
    /// The new source record.
    record_id: Uuid,
    /// The institution's patient number.
    local_id: String,
    /// The person it is linked to.
    person_id: Uuid,
    /// `new`, `auto` or `registrar`.
    method: String,
    /// The matches that were considered.
    matches: Vec<MatchView>,
    /// Pairs put in the review queue.
    queued: usize,
    /// Accepted with warnings: `resident_id_unverified`, `birth_date_conflicts_with_id`,
    /// `sex_conflicts_with_id`.
    warnings: Vec<String>,
}

/// Registers a patient at the caller's institution; the index is searched first.
#[utoipa::path(post, path = "/api/v1/mpi/registrations", tag = "mpi", security(("bearer" = [])),
    request_body = RegistrationInput,
    responses((status = 201, body = RegisteredView), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn register(
    State(ctx): State<AppState>,
    caller: Caller,
    AppJson(body): AppJson<RegistrationInput>,
) -> Result<(StatusCode, Json<RegisteredView>), ApiError> {
    let choice = match (body.choice.as_deref().unwrap_or("automatic"), body.person_id) {
        ("automatic", _) => RegistrarChoice::Automatic,
        ("new_person", _) => RegistrarChoice::NewPerson,
        ("person", Some(p)) => RegistrarChoice::Person(PersonId::from_uuid(p)),
        ("person", None) => {
            return Err(Invalid::one("person_id", "required", "choice `person` needs person_id").into());
        }
        _ => {
            return Err(Invalid::one(
                "choice",
                "choice_invalid",
                "choice is automatic, person or new_person",
            )
            .into());
        }
    };
    let draft = RegistrationDraft {
        local_id: body.local_id,
        name: body.name,
        sex: body.sex,
        birth_date: body.birth_date,
        resident_id: body.resident_id,
        no_id_reason: body.no_id_reason,
        phone: body.phone,
        village_code: body.village_code,
        household_id: body.household_id,
        e_health_card: body.e_health_card,
        insurance_number: body.insurance_number,
        verified: body.verified,
    };
    let r = mpi::register(&ctx, caller.actor(), &draft, choice).await?;
    Ok((
        StatusCode::CREATED,
        Json(RegisteredView {
            record_id: r.record_id.as_uuid(),
            local_id: r.local_id,
            person_id: r.person_id.as_uuid(),
            method: r.method.as_str().to_owned(),
            matches: r.matches.iter().map(MatchView::from).collect(),
            queued: r.queued,
            warnings: r.warnings.iter().map(|w| (*w).to_owned()).collect(),
        }),
    ))
}

/// A golden value and the record it came from.
#[derive(Debug, Serialize, ToSchema)]
pub struct GoldenValue {
    /// The value.
    value: String,
    /// The record that supplied it.
    record_id: Uuid,
}

fn golden_value<T>(
    v: &Option<yigong_domain::patient::Sourced<T>>,
    show: impl Fn(&T) -> String,
) -> Option<GoldenValue> {
    v.as_ref().map(|s| GoldenValue { value: show(&s.value), record_id: s.from.as_uuid() })
}

/// The golden record (DESIGN §3.4 survivorship), each value with its source record.
#[derive(Debug, Serialize, ToSchema)]
pub struct GoldenView {
    /// Resident ID.
    resident_id: Option<GoldenValue>,
    /// Name.
    name: Option<GoldenValue>,
    /// Sex.
    sex: Option<GoldenValue>,
    /// Birth date.
    birth_date: Option<GoldenValue>,
    /// Phone.
    phone: Option<GoldenValue>,
    /// Village code.
    village_code: Option<GoldenValue>,
    /// Address.
    address: Option<GoldenValue>,
}

/// A source record, values as received.
#[derive(Debug, Serialize, ToSchema)]
pub struct RecordDto {
    /// Id.
    record_id: Uuid,
    /// Source code.
    source: String,
    /// Source name.
    source_name: String,
    /// Local id at the source.
    local_id: String,
    /// Current person.
    person_id: Option<Uuid>,
    /// Values as received.
    #[schema(value_type = Object)]
    values: serde_json::Value,
    /// Chip- or QR-read identity.
    verified: bool,
    /// Registered or first imported.
    registered_at: DateTime<Utc>,
}

impl From<&RecordView> for RecordDto {
    fn from(r: &RecordView) -> Self {
        let mut values = serde_json::to_value(&r.record.values).unwrap_or_default();
        if let Some(map) = values.as_object_mut() {
            map.retain(|_, v| !v.is_null());
        }
        Self {
            record_id: r.record.record_id.as_uuid(),
            source: r.source_code.clone(),
            source_name: r.source_name.clone(),
            local_id: r.record.local_id.clone(),
            person_id: r.person_id.map(|p| p.as_uuid()),
            values,
            verified: r.record.verified,
            registered_at: r.record.registered_at,
        }
    }
}

/// One link, open or closed.
#[derive(Debug, Serialize, ToSchema)]
pub struct LinkDto {
    /// Record.
    record_id: Uuid,
    /// Opened.
    valid_from: DateTime<Utc>,
    /// Closed.
    valid_to: Option<DateTime<Utc>>,
    /// new, auto, registrar, steward, merge, unmerge.
    method: String,
    /// Score.
    score: Option<f64>,
    /// Parameter-set version.
    rule_version: Option<String>,
    /// Reason.
    reason: Option<String>,
    /// Steward operation.
    operation_id: Option<Uuid>,
}

/// A steward operation.
#[derive(Debug, Serialize, ToSchema)]
pub struct OperationDto {
    /// Id.
    operation_id: Uuid,
    /// link, unlink, merge, unmerge.
    kind: String,
    /// Target or surviving person.
    person_id: Option<Uuid>,
    /// Previous, new or absorbed person.
    other_person_id: Option<Uuid>,
    /// Record concerned.
    record_id: Option<Uuid>,
    /// Reason.
    reason: String,
    /// The operation it reversed.
    undoes: Option<Uuid>,
    /// The operation that reversed it.
    undone_by: Option<Uuid>,
    /// When.
    at: DateTime<Utc>,
}

/// A person of the index.
#[derive(Debug, Serialize, ToSchema)]
pub struct PersonDto {
    /// Id.
    person_id: Uuid,
    /// `active` or `merged`.
    status: String,
    /// The surviving person, for a merged one.
    merged_into: Option<Uuid>,
    /// Golden record.
    golden: GoldenView,
    /// Records linked now.
    records: Vec<RecordDto>,
    /// Link history.
    links: Vec<LinkDto>,
    /// Steward operations, newest first.
    operations: Vec<OperationDto>,
}

impl From<&PersonView> for PersonDto {
    fn from(p: &PersonView) -> Self {
        let g = &p.golden;
        Self {
            person_id: p.person.person_id.as_uuid(),
            status: p.person.status.clone(),
            merged_into: p.person.merged_into.map(|m| m.as_uuid()),
            golden: GoldenView {
                resident_id: golden_value(&g.resident_id, String::clone),
                name: golden_value(&g.name, String::clone),
                sex: golden_value(&g.sex, |s| s.as_str().to_owned()),
                birth_date: golden_value(&g.birth_date, |d| d.to_string()),
                phone: golden_value(&g.phone, String::clone),
                village_code: golden_value(&g.village_code, String::clone),
                address: golden_value(&g.address, String::clone),
            },
            records: p.records.iter().map(RecordDto::from).collect(),
            links: p
                .links
                .iter()
                .map(|l| LinkDto {
                    record_id: l.record_id.as_uuid(),
                    valid_from: l.valid_from,
                    valid_to: l.valid_to,
                    method: l.method.clone(),
                    score: l.score,
                    rule_version: l.rule_version.clone(),
                    reason: l.reason.clone(),
                    operation_id: l.operation_id.map(|o| o.as_uuid()),
                })
                .collect(),
            operations: p
                .operations
                .iter()
                .map(|o| OperationDto {
                    operation_id: o.operation_id.as_uuid(),
                    kind: o.kind.clone(),
                    person_id: o.person_id.map(|x| x.as_uuid()),
                    other_person_id: o.other_person_id.map(|x| x.as_uuid()),
                    record_id: o.record_id.map(|x| x.as_uuid()),
                    reason: o.reason.clone(),
                    undoes: o.undoes.map(|x| x.as_uuid()),
                    undone_by: o.undone_by.map(|x| x.as_uuid()),
                    at: o.at,
                })
                .collect(),
        }
    }
}

/// One person with the golden record, records, link history and steward operations.
#[utoipa::path(get, path = "/api/v1/mpi/persons/{person_id}", tag = "mpi", security(("bearer" = [])),
    params(("person_id" = Uuid, Path, description = "Person id")),
    responses((status = 200, body = PersonDto), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn get_person(
    State(ctx): State<AppState>,
    caller: Caller,
    AppPath(id): AppPath<Uuid>,
) -> Result<Json<PersonDto>, ApiError> {
    let view = mpi::get_person(&ctx, caller.actor(), PersonId::from_uuid(id)).await?;
    Ok(Json(PersonDto::from(&view)))
}

/// A steward's reason.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReasonInput {
    /// Why (required for link, unlink and undo).
    reason: Option<String>,
}

/// Merge request.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MergeInput {
    /// The person to absorb into the one in the path.
    absorbed_person_id: Uuid,
    /// Why; required when the two carry different valid resident IDs.
    reason: Option<String>,
}

/// Link request.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LinkInput {
    /// The person the record belongs to.
    person_id: Uuid,
    /// Why.
    reason: Option<String>,
}

/// A steward operation done.
#[derive(Debug, Serialize, ToSchema)]
pub struct OperationDone {
    /// The operation (to undo it).
    operation_id: Uuid,
    /// The person created, for an unlink.
    #[serde(skip_serializing_if = "Option::is_none")]
    person_id: Option<Uuid>,
}

/// Merges another person into this one (stewards).
#[utoipa::path(post, path = "/api/v1/mpi/persons/{person_id}/merge", tag = "mpi", security(("bearer" = [])),
    params(("person_id" = Uuid, Path, description = "Surviving person")), request_body = MergeInput,
    responses((status = 200, body = OperationDone), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn merge(
    State(ctx): State<AppState>,
    caller: Caller,
    AppPath(id): AppPath<Uuid>,
    AppJson(body): AppJson<MergeInput>,
) -> Result<Json<OperationDone>, ApiError> {
    let op = mpi::merge(
        &ctx,
        caller.actor(),
        PersonId::from_uuid(id),
        PersonId::from_uuid(body.absorbed_person_id),
        body.reason.as_deref(),
    )
    .await?;
    Ok(Json(OperationDone { operation_id: op.as_uuid(), person_id: None }))
}

/// Moves a record to another person (stewards).
#[utoipa::path(post, path = "/api/v1/mpi/records/{record_id}/link", tag = "mpi", security(("bearer" = [])),
    params(("record_id" = Uuid, Path, description = "Record id")), request_body = LinkInput,
    responses((status = 200, body = OperationDone), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn link(
    State(ctx): State<AppState>,
    caller: Caller,
    AppPath(id): AppPath<Uuid>,
    AppJson(body): AppJson<LinkInput>,
) -> Result<Json<OperationDone>, ApiError> {
    let op = mpi::link_record(
        &ctx,
        caller.actor(),
        PatientRecordId::from_uuid(id),
        PersonId::from_uuid(body.person_id),
        body.reason.as_deref(),
    )
    .await?;
    Ok(Json(OperationDone { operation_id: op.as_uuid(), person_id: None }))
}

/// Takes a record out of its person into a new one (stewards).
#[utoipa::path(post, path = "/api/v1/mpi/records/{record_id}/unlink", tag = "mpi", security(("bearer" = [])),
    params(("record_id" = Uuid, Path, description = "Record id")), request_body = ReasonInput,
    responses((status = 200, body = OperationDone), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn unlink(
    State(ctx): State<AppState>,
    caller: Caller,
    AppPath(id): AppPath<Uuid>,
    AppJson(body): AppJson<ReasonInput>,
) -> Result<Json<OperationDone>, ApiError> {
    let (op, person) =
        mpi::unlink_record(&ctx, caller.actor(), PatientRecordId::from_uuid(id), body.reason.as_deref())
            .await?;
    Ok(Json(OperationDone { operation_id: op.as_uuid(), person_id: Some(person.as_uuid()) }))
}

/// Reverses a link, unlink or merge (stewards).
#[utoipa::path(post, path = "/api/v1/mpi/operations/{operation_id}/undo", tag = "mpi", security(("bearer" = [])),
    params(("operation_id" = Uuid, Path, description = "Operation id")), request_body = ReasonInput,
    responses((status = 200, body = OperationDone), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn undo(
    State(ctx): State<AppState>,
    caller: Caller,
    AppPath(id): AppPath<Uuid>,
    AppJson(body): AppJson<ReasonInput>,
) -> Result<Json<OperationDone>, ApiError> {
    let op = mpi::undo(&ctx, caller.actor(), MpiOperationId::from_uuid(id), body.reason.as_deref()).await?;
    Ok(Json(OperationDone { operation_id: op.as_uuid(), person_id: None }))
}

/// Review-queue filters.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct ReviewQuery {
    /// `open` (default), `same` or `different`.
    status: Option<String>,
    /// Rows per page, 1 to 500 (default 50).
    page_size: Option<u32>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
}

/// A field of a pair with both values.
#[derive(Debug, Serialize, ToSchema)]
pub struct PairField {
    /// Field.
    field: String,
    /// Level reached.
    level: String,
    /// Weight in bits.
    weight: f64,
}

/// A candidate pair.
#[derive(Debug, Serialize, ToSchema)]
pub struct PairDto {
    /// First record.
    a: RecordDto,
    /// Second record.
    b: RecordDto,
    /// Score in bits.
    score: f64,
    /// `review`, or `auto_link` held back.
    band: String,
    /// Parameter-set version.
    rule_version: String,
    /// open, same, different.
    status: String,
    /// Field by field.
    fields: Vec<PairField>,
    /// Hard rules.
    hard_rules: Vec<String>,
    /// Queued.
    created_at: DateTime<Utc>,
    /// Steward's reason.
    reason: Option<String>,
}

impl From<&CandidateView> for PairDto {
    fn from(c: &CandidateView) -> Self {
        Self {
            a: RecordDto::from(&c.a),
            b: RecordDto::from(&c.b),
            score: (c.candidate.score * 100.0).round() / 100.0,
            band: c.candidate.band.clone(),
            rule_version: c.candidate.rule_version.clone(),
            status: c.candidate.status.clone(),
            fields: c
                .fields
                .iter()
                .map(|f| PairField { field: f.field.clone(), level: f.level.clone(), weight: f.weight })
                .collect(),
            hard_rules: c.hard_rules.clone(),
            created_at: c.candidate.created_at,
            reason: c.candidate.reason.clone(),
        }
    }
}

/// One page of the review queue.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReviewPage {
    /// Pairs, highest score first.
    items: Vec<PairDto>,
    /// Pass as `cursor` for the next page.
    #[serde(skip_serializing_if = "Option::is_none")]
    next_cursor: Option<String>,
    /// Pairs with this status in all.
    total: i64,
}

/// The review queue (stewards).
#[utoipa::path(get, path = "/api/v1/mpi/review", tag = "mpi", security(("bearer" = [])), params(ReviewQuery),
    responses((status = 200, body = ReviewPage), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn review(
    State(ctx): State<AppState>,
    caller: Caller,
    AppQuery(query): AppQuery<ReviewQuery>,
) -> Result<Json<ReviewPage>, ApiError> {
    let page = PageQuery { page_size: query.page_size, cursor: query.cursor }.to_request()?;
    let status = query.status.as_deref().unwrap_or("open");
    let (page, total) = mpi::list_candidates(&ctx, caller.actor(), status, &page).await?;
    Ok(Json(ReviewPage {
        items: page.items.iter().map(PairDto::from).collect(),
        next_cursor: page.next_after.as_deref().map(encode_cursor),
        total,
    }))
}

/// One pair of the review queue (stewards).
#[utoipa::path(get, path = "/api/v1/mpi/review/{record_a}/{record_b}", tag = "mpi", security(("bearer" = [])),
    params(("record_a" = Uuid, Path, description = "First record"), ("record_b" = Uuid, Path, description = "Second record")),
    responses((status = 200, body = PairDto), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn get_pair(
    State(ctx): State<AppState>,
    caller: Caller,
    AppPath((a, b)): AppPath<(Uuid, Uuid)>,
) -> Result<Json<PairDto>, ApiError> {
    let view = mpi::get_candidate(
        &ctx,
        caller.actor(),
        PatientRecordId::from_uuid(a),
        PatientRecordId::from_uuid(b),
    )
    .await?;
    Ok(Json(PairDto::from(&view)))
}

/// A steward's decision.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionInput {
    /// `same` (merge the two persons) or `different` (never propose the pair again).
    decision: String,
    /// Why; required to merge persons with different valid resident IDs.
    reason: Option<String>,
}

/// Decides a pair of the review queue (stewards).
#[utoipa::path(post, path = "/api/v1/mpi/review/{record_a}/{record_b}/decision", tag = "mpi", security(("bearer" = [])),
    params(("record_a" = Uuid, Path, description = "First record"), ("record_b" = Uuid, Path, description = "Second record")),
    request_body = DecisionInput,
    responses((status = 200, body = OperationDone), (status = 204), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn decide(
    State(ctx): State<AppState>,
    caller: Caller,
    AppPath((a, b)): AppPath<(Uuid, Uuid)>,
    AppJson(body): AppJson<DecisionInput>,
) -> Result<axum::response::Response, ApiError> {
    use axum::response::IntoResponse;
    let decision = match body.decision.as_str() {
        "same" => Decision::Same,
        "different" => Decision::Different,
        _ => return Err(Invalid::one("decision", "decision_invalid", "decision is same or different").into()),
    };
    let op = mpi::decide(
        &ctx,
        caller.actor(),
        PatientRecordId::from_uuid(a),
        PatientRecordId::from_uuid(b),
        decision,
        body.reason.as_deref(),
    )
    .await?;
    Ok(match op {
        Some(op) => Json(OperationDone { operation_id: op.as_uuid(), person_id: None }).into_response(),
        None => StatusCode::NO_CONTENT.into_response(),
    })
}

/// A patient list to load.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ImportInput {
    /// The source's name (e.g. the facility's code); a list under an institution's code is that
    /// institution's system.
    source: String,
    /// The mapping (TOML): `encoding`, `id_column`, `[fields]` MPI field = column(s).
    mapping: String,
    /// The CSV file's bytes, base64 (the encoding is the mapping's: UTF-8 or GB18030).
    content_base64: String,
    /// Column with the patient id (overrides the mapping's).
    id_column: Option<String>,
}

/// A row left out.
#[derive(Debug, Serialize, ToSchema)]
pub struct RejectedRow {
    /// Line of the file.
    line: u64,
    /// Local id, if any.
    local_id: String,
    /// Why.
    reason: String,
}

/// What loading the list did.
#[derive(Debug, Serialize, ToSchema)]
pub struct ImportView {
    /// New records.
    inserted: u64,
    /// Records whose values changed since the last load.
    updated: u64,
    /// Rows equal to what was loaded before.
    unchanged: u64,
    /// Resident IDs kept as unverified.
    unverified_ids: u64,
    /// Rows left out, with their reasons.
    rejected: Vec<RejectedRow>,
    /// Records matched over.
    records: usize,
    /// Persons created by the matching run.
    persons_created: usize,
    /// Records linked automatically to another record's person.
    auto_linked: usize,
    /// Pairs newly queued for review.
    queued: u64,
    /// Version of the model that scored them.
    model_version: String,
}

impl From<&mpi::FileImport> for ImportView {
    fn from(f: &mpi::FileImport) -> Self {
        Self {
            inserted: f.import.inserted,
            updated: f.import.updated,
            unchanged: f.import.unchanged,
            unverified_ids: f.import.unverified_ids,
            rejected: f
                .rejected
                .iter()
                .map(|r| RejectedRow { line: r.line, local_id: r.local_id.clone(), reason: r.reason.clone() })
                .collect(),
            records: f.matching.records,
            persons_created: f.matching.persons_created,
            auto_linked: f.matching.auto_linked,
            queued: f.matching.queued,
            model_version: f.matching.model_version.clone(),
        }
    }
}

/// Loads one source's patient list and matches across everything loaded (stewards). The whole
/// file is checked first: a wrong encoding, a missing mapped column or a broken row is refused
/// with its line (422, field `file`) and nothing is loaded; re-sending the same list changes
/// nothing.
#[utoipa::path(post, path = "/api/v1/mpi/imports", tag = "mpi", security(("bearer" = [])), request_body = ImportInput,
    responses((status = 200, body = ImportView), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 413, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn import(
    State(ctx): State<AppState>,
    caller: Caller,
    AppJson(body): AppJson<ImportInput>,
) -> Result<Json<ImportView>, ApiError> {
    use base64::Engine;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(body.content_base64.trim())
        .map_err(|_| Invalid::one("content_base64", "base64_invalid", "content_base64 is not base64"))?;
    let done = mpi::import_file(
        &ctx,
        caller.actor(),
        &body.source,
        &body.mapping,
        &bytes,
        body.id_column.as_deref(),
    )
    .await?;
    Ok(Json(ImportView::from(&done)))
}
