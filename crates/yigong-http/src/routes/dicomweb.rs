//! `/dicomweb`: DICOMweb (PS3.18) for the reading centres — STOW-RS to store, QIDO-RS to search
//! studies, series and instances, WADO-RS to retrieve instances, their metadata and a rendered
//! frame. Bearer tokens as for `/api/v1`; errors in the API's JSON shape.

use axum::body::{Body, Bytes};
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use yigong_app::imaging::{self, IngestError, InstanceRow, Series, Study};
use yigong_dicom::json::Dataset;
use yigong_dicom::render::{Format, RenderError};
use yigong_dicom::scp::status;
use yigong_domain::Invalid;
use yigong_domain::reading::StudyQuery;

use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ErrorBody};

/// The routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(search_studies, stow))
        .routes(routes!(retrieve_study))
        .routes(routes!(study_metadata))
        .routes(routes!(search_series))
        .routes(routes!(search_study_instances))
        .routes(routes!(search_series_instances))
        .routes(routes!(retrieve_instance))
        .routes(routes!(rendered_frame))
}

const DICOM_JSON: &str = "application/dicom+json";

fn dicom_json(value: Value) -> Response {
    let mut r = (StatusCode::OK, value.to_string()).into_response();
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(DICOM_JSON));
    r
}

/// The base URL clients used (`http://host/dicomweb`), for RetrieveURLs.
fn base(headers: &HeaderMap) -> String {
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("localhost");
    let proto = headers.get("x-forwarded-proto").and_then(|h| h.to_str().ok()).unwrap_or("http");
    format!("{proto}://{host}/dicomweb")
}

/// Decodes the query string into (key, value) pairs.
fn pairs(raw: Option<&str>) -> Vec<(String, String)> {
    yigong_app::record::query_pairs(raw.unwrap_or_default())
}

/// QIDO-RS study matching keys: by keyword or tag (`PatientID` or `00100020`).
fn study_query(raw: Option<&str>) -> Result<StudyQuery, ApiError> {
    let mut q = StudyQuery { limit: 100, ..Default::default() };
    let mut invalid = Invalid::default();
    for (k, v) in pairs(raw) {
        match k.as_str() {
            "StudyInstanceUID" | "0020000D" => {
                q.study_uids.extend(v.split([',', '\\']).filter(|u| !u.is_empty()).map(str::to_owned))
            }
            "PatientID" | "00100020" => q.patient_id = Some(v),
            "PatientName" | "00100010" => q.patient_name = Some(v),
            "AccessionNumber" | "00080050" => q.accession_no = Some(v),
            "ModalitiesInStudy" | "00080061" => q.modality = Some(v),
            "StudyDate" | "00080020" => match date_range(&v) {
                Some(r) => q.study_date = Some(r),
                None => invalid.push("StudyDate", "invalid", "YYYYMMDD or a range YYYYMMDD-YYYYMMDD"),
            },
            "limit" => match v.parse::<u32>() {
                Ok(n) if (1..=1000).contains(&n) => q.limit = n,
                _ => invalid.push("limit", "out_of_range", "1 to 1000"),
            },
            "offset" => match v.parse::<u32>() {
                Ok(n) => q.offset = n,
                _ => invalid.push("offset", "invalid", "a whole number"),
            },
            // Return keys and fuzzy matching change nothing here: the usual attributes are returned.
            "includefield" | "fuzzymatching" => {}
            other => invalid.push(
                "query",
                "unsupported",
                format!(
                    "{other} is not a supported key; supported: StudyInstanceUID, PatientID, PatientName, \
                     AccessionNumber, StudyDate, ModalitiesInStudy, limit, offset, includefield"
                ),
            ),
        }
    }
    invalid.into_result(q).map_err(ApiError::Invalid)
}

/// `YYYYMMDD`, `YYYYMMDD-YYYYMMDD`, `-YYYYMMDD`, `YYYYMMDD-`.
fn date_range(v: &str) -> Option<(Option<String>, Option<String>)> {
    let ok = |d: &str| d.len() == 8 && d.bytes().all(|b| b.is_ascii_digit());
    match v.split_once('-') {
        None if ok(v) => Some((Some(v.to_owned()), Some(v.to_owned()))),
        Some((a, b))
            if (a.is_empty() || ok(a)) && (b.is_empty() || ok(b)) && !(a.is_empty() && b.is_empty()) =>
        {
            Some(((!a.is_empty()).then(|| a.to_owned()), (!b.is_empty()).then(|| b.to_owned())))
        }
        _ => None,
    }
}

fn study_json(s: &Study, base: &str) -> Value {
    let modalities: Vec<String> =
        s.modalities.split('\\').filter(|m| !m.is_empty()).map(str::to_owned).collect();
    Dataset::new()
        .text(0x0008_0005, "CS", "ISO_IR 192")
        .text(0x0008_0020, "DA", &s.study_date)
        .text(0x0008_0030, "TM", &s.study_time)
        .text(0x0008_0050, "SH", &s.accession_no)
        .texts(0x0008_0061, "CS", &modalities)
        .person(0x0008_0090, &s.referring_physician)
        .text(0x0008_1030, "LO", &s.description)
        .text(0x0008_1190, "UR", &format!("{base}/studies/{}", s.study_uid))
        .person(0x0010_0010, &s.patient_name)
        .text(0x0010_0020, "LO", &s.patient_id)
        .text(0x0010_0030, "DA", &s.birth_date)
        .text(0x0010_0040, "CS", &s.sex)
        .text(0x0020_000D, "UI", &s.study_uid)
        .text(0x0020_0010, "SH", &s.study_id)
        .int(0x0020_1206, "IS", Some(s.series_count))
        .int(0x0020_1208, "IS", Some(s.instance_count))
        .into_value()
}

fn series_json(s: &Series, base: &str) -> Value {
    Dataset::new()
        .text(0x0008_0060, "CS", &s.modality)
        .text(0x0008_103E, "LO", &s.description)
        .text(0x0008_1190, "UR", &format!("{base}/studies/{}/series/{}", s.study_uid, s.series_uid))
        .text(0x0018_0015, "CS", &s.body_part)
        .text(0x0020_000D, "UI", &s.study_uid)
        .text(0x0020_000E, "UI", &s.series_uid)
        .int(0x0020_0011, "IS", s.series_number.map(i64::from))
        .int(0x0020_1209, "IS", Some(s.instance_count))
        .into_value()
}

fn instance_url(base: &str, i: &InstanceRow) -> String {
    format!("{base}/studies/{}/series/{}/instances/{}", i.study_uid, i.series_uid, i.sop_instance_uid)
}

fn instance_json(i: &InstanceRow, base: &str) -> Value {
    Dataset::new()
        .text(0x0008_0016, "UI", &i.sop_class_uid)
        .text(0x0008_0018, "UI", &i.sop_instance_uid)
        .text(0x0008_1190, "UR", &instance_url(base, i))
        .text(0x0020_000D, "UI", &i.study_uid)
        .text(0x0020_000E, "UI", &i.series_uid)
        .int(0x0020_0013, "IS", i.instance_number.map(i64::from))
        .int(0x0028_0008, "IS", i.frames)
        .int(0x0028_0010, "US", i.rows_count.map(i64::from))
        .int(0x0028_0011, "US", i.columns_count.map(i64::from))
        .into_value()
}

/// QIDO-RS: search for studies.
#[utoipa::path(get, path = "/dicomweb/studies", tag = "dicomweb", security(("bearer" = [])),
    params(("PatientID" = Option<String>, Query, description = "exact or with * and ?"),
           ("PatientName" = Option<String>, Query, description = "any component group, * and ? wildcards"),
           ("AccessionNumber" = Option<String>, Query), ("StudyDate" = Option<String>, Query, description = "YYYYMMDD or a range"),
           ("ModalitiesInStudy" = Option<String>, Query), ("StudyInstanceUID" = Option<String>, Query),
           ("limit" = Option<u32>, Query), ("offset" = Option<u32>, Query)),
    responses((status = 200, description = "Matching studies in the DICOM JSON model (application/dicom+json)"),
              (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn search_studies(
    State(ctx): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let q = study_query(raw.as_deref())?;
    let found = imaging::search_studies(&ctx, caller.actor(), &q).await?;
    let base = base(&headers);
    Ok(dicom_json(Value::Array(found.iter().map(|s| study_json(s, &base)).collect())))
}

/// QIDO-RS: the series of a study.
#[utoipa::path(get, path = "/dicomweb/studies/{study}/series", tag = "dicomweb", security(("bearer" = [])),
    params(("study" = String, Path)),
    responses((status = 200, description = "Series in the DICOM JSON model"), (status = 404, body = ErrorBody)))]
async fn search_series(
    State(ctx): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path(study): Path<String>,
) -> Result<Response, ApiError> {
    let (_, series, _) = imaging::study(&ctx, caller.actor(), &study, Some("")).await?;
    let base = base(&headers);
    Ok(dicom_json(Value::Array(series.iter().map(|s| series_json(s, &base)).collect())))
}

/// QIDO-RS: the instances of a study.
#[utoipa::path(get, path = "/dicomweb/studies/{study}/instances", tag = "dicomweb", security(("bearer" = [])),
    params(("study" = String, Path)),
    responses((status = 200, description = "Instances in the DICOM JSON model"), (status = 404, body = ErrorBody)))]
async fn search_study_instances(
    State(ctx): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path(study): Path<String>,
) -> Result<Response, ApiError> {
    let (_, _, instances) = imaging::study(&ctx, caller.actor(), &study, None).await?;
    let base = base(&headers);
    Ok(dicom_json(Value::Array(instances.iter().map(|i| instance_json(i, &base)).collect())))
}

/// QIDO-RS: the instances of a series.
#[utoipa::path(get, path = "/dicomweb/studies/{study}/series/{series}/instances", tag = "dicomweb",
    security(("bearer" = [])), params(("study" = String, Path), ("series" = String, Path)),
    responses((status = 200, description = "Instances in the DICOM JSON model"), (status = 404, body = ErrorBody)))]
async fn search_series_instances(
    State(ctx): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path((study, series)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let (_, _, instances) = imaging::study(&ctx, caller.actor(), &study, Some(&series)).await?;
    let base = base(&headers);
    Ok(dicom_json(Value::Array(instances.iter().map(|i| instance_json(i, &base)).collect())))
}

/// Part 10 files as `multipart/related; type="application/dicom"`.
fn multipart(files: Vec<Vec<u8>>) -> Response {
    let boundary = format!("yigong-{}", uuid::Uuid::now_v7().simple());
    let mut body = Vec::with_capacity(files.iter().map(|f| f.len() + 100).sum());
    for f in files {
        body.extend_from_slice(format!("--{boundary}\r\nContent-Type: application/dicom\r\n\r\n").as_bytes());
        body.extend_from_slice(&f);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    let mut r = (StatusCode::OK, Body::from(body)).into_response();
    let ct = format!("multipart/related; type=\"application/dicom\"; boundary={boundary}");
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_str(&ct).expect("ASCII"));
    r
}

/// WADO-RS: every instance of a study.
#[utoipa::path(get, path = "/dicomweb/studies/{study}", tag = "dicomweb", security(("bearer" = [])),
    params(("study" = String, Path)),
    responses((status = 200, description = "multipart/related; type=\"application/dicom\""), (status = 404, body = ErrorBody)))]
async fn retrieve_study(
    State(ctx): State<AppState>,
    caller: Caller,
    Path(study): Path<String>,
) -> Result<Response, ApiError> {
    let (_, _, instances) = imaging::study(&ctx, caller.actor(), &study, None).await?;
    let mut files = Vec::with_capacity(instances.len());
    for i in &instances {
        files.push(imaging::instance_file(&ctx, i).await?);
    }
    Ok(multipart(files))
}

/// WADO-RS: one instance.
#[utoipa::path(get, path = "/dicomweb/studies/{study}/series/{series}/instances/{instance}", tag = "dicomweb",
    security(("bearer" = [])), params(("study" = String, Path), ("series" = String, Path), ("instance" = String, Path)),
    responses((status = 200, description = "multipart/related; type=\"application/dicom\""), (status = 404, body = ErrorBody)))]
async fn retrieve_instance(
    State(ctx): State<AppState>,
    caller: Caller,
    Path((study, series, instance)): Path<(String, String, String)>,
) -> Result<Response, ApiError> {
    let row = one_instance(&ctx, &caller, &study, &series, &instance).await?;
    Ok(multipart(vec![imaging::instance_file(&ctx, &row).await?]))
}

async fn one_instance(
    ctx: &AppState,
    caller: &Caller,
    study: &str,
    series: &str,
    instance: &str,
) -> Result<InstanceRow, ApiError> {
    let (_, _, instances) = imaging::study(ctx, caller.actor(), study, Some(series)).await?;
    instances.into_iter().find(|i| i.sop_instance_uid == instance).ok_or(ApiError::NotFound("instance"))
}

/// WADO-RS: the metadata of every instance of a study.
#[utoipa::path(get, path = "/dicomweb/studies/{study}/metadata", tag = "dicomweb", security(("bearer" = [])),
    params(("study" = String, Path)),
    responses((status = 200, description = "Instance metadata in the DICOM JSON model; pixel data as BulkDataURI"),
              (status = 404, body = ErrorBody)))]
async fn study_metadata(
    State(ctx): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path(study): Path<String>,
) -> Result<Response, ApiError> {
    let (s, _, instances) = imaging::study(&ctx, caller.actor(), &study, None).await?;
    let base = base(&headers);
    let mut out = Vec::with_capacity(instances.len());
    for i in &instances {
        let file = imaging::instance_file(&ctx, i).await?;
        let frames = i.frames.map(|_| format!("{}/frames/1", instance_url(&base, i)));
        let meta = yigong_dicom::json::metadata(&file, frames.as_deref(), &s.patient_name)
            .map_err(|e| ApiError::Internal(format!("stored object unreadable: {e}")))?;
        out.push(meta);
    }
    Ok(dicom_json(Value::Array(out)))
}

/// WADO-RS: one frame rendered as JPEG (default) or PNG; `?window=center,width` sets the window.
#[utoipa::path(get, path = "/dicomweb/studies/{study}/series/{series}/instances/{instance}/frames/{frame}/rendered",
    tag = "dicomweb", security(("bearer" = [])),
    params(("study" = String, Path), ("series" = String, Path), ("instance" = String, Path), ("frame" = u32, Path),
           ("window" = Option<String>, Query, description = "center,width")),
    responses((status = 200, description = "image/jpeg or image/png (Accept)"), (status = 404, body = ErrorBody),
              (status = 406, body = ErrorBody, description = "this encoding cannot be rendered here")))]
async fn rendered_frame(
    State(ctx): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path((study, series, instance, frame)): Path<(String, String, String, u32)>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let mut window = None;
    for (k, v) in pairs(raw.as_deref()) {
        if k == "window" {
            let parts: Vec<f64> = v.split(',').filter_map(|p| p.trim().parse().ok()).collect();
            match parts.as_slice() {
                [c, w, ..] if *w > 0.0 => window = Some((*c, *w)),
                _ => {
                    return Err(ApiError::Invalid(Invalid::one(
                        "window",
                        "invalid",
                        "center,width with width > 0",
                    )));
                }
            }
        }
    }
    let accept = headers.get(header::ACCEPT).and_then(|a| a.to_str().ok()).unwrap_or("image/jpeg");
    let format = if accept.contains("image/png") && !accept.contains("image/jpeg") {
        Format::Png
    } else {
        Format::Jpeg
    };
    let row = one_instance(&ctx, &caller, &study, &series, &instance).await?;
    let file = imaging::instance_file(&ctx, &row).await?;
    let image =
        tokio::task::spawn_blocking(move || yigong_dicom::render::render(&file, frame, window, format))
            .await
            .map_err(|e| ApiError::Internal(e.to_string()))?;
    match image {
        Ok(bytes) => {
            let mut r = (StatusCode::OK, bytes).into_response();
            r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(format.media_type()));
            Ok(r)
        }
        Err(RenderError::NoFrame(..)) => Err(ApiError::NotFound("frame")),
        Err(e @ RenderError::Unrenderable(_)) => Err(ApiError::NotAcceptable(e.to_string())),
    }
}

/// The parts of a `multipart/related` body: (content type, bytes).
fn parts(content_type: &str, body: &[u8]) -> Result<Vec<(String, Vec<u8>)>, String> {
    let boundary = content_type
        .split(';')
        .map(str::trim)
        .find_map(|p| p.strip_prefix("boundary="))
        .map(|b| b.trim_matches('"').to_owned())
        .ok_or("the content type names no boundary")?;
    let delimiter = format!("--{boundary}").into_bytes();
    let find =
        |from: usize| body[from..].windows(delimiter.len()).position(|w| w == delimiter).map(|p| p + from);
    let mut pos = find(0).ok_or("no part found")?;
    let mut out = Vec::new();
    loop {
        let after = pos + delimiter.len();
        if body[after..].starts_with(b"--") {
            return Ok(out);
        }
        let headers_end = body[after..]
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .map(|p| p + after)
            .ok_or("a part has no header end")?;
        let headers = String::from_utf8_lossy(&body[after..headers_end]).to_ascii_lowercase();
        let part_type = headers
            .lines()
            .find_map(|l| l.strip_prefix("content-type:"))
            .map(|v| v.trim().to_owned())
            .unwrap_or_else(|| "application/dicom".into());
        let start = headers_end + 4;
        let next = find(start).ok_or("the body ends inside a part")?;
        let end = if next >= 2 && &body[next - 2..next] == b"\r\n" { next - 2 } else { next };
        out.push((part_type, body[start..end].to_vec()));
        pos = next;
    }
}

/// STOW-RS: store instances (`multipart/related; type="application/dicom"`). Answers with the
/// stored instances (ReferencedSOPSequence) and the failed ones with their reason
/// (FailedSOPSequence): 200 all stored, 202 some failed, 409 none stored.
#[utoipa::path(post, path = "/dicomweb/studies", tag = "dicomweb", security(("bearer" = [])),
    request_body(content_type = "multipart/related", description = "Part 10 objects, type=\"application/dicom\""),
    responses((status = 200, description = "every instance stored (application/dicom+json)"),
              (status = 202, description = "some instances failed; FailedSOPSequence says why"),
              (status = 409, description = "no instance stored; FailedSOPSequence says why"),
              (status = 415, body = ErrorBody, description = "not multipart/related of application/dicom")))]
async fn stow(
    State(ctx): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    imaging::may_store(&ctx, caller.actor()).await?;
    let ct = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
    let lower = ct.to_ascii_lowercase();
    if !lower.starts_with("multipart/related") {
        return Err(ApiError::UnsupportedMediaType(format!(
            "content type {ct:?}: send multipart/related; type=\"application/dicom\""
        )));
    }
    if let Some(t) = lower.split(';').map(str::trim).find_map(|p| p.strip_prefix("type="))
        && t.trim_matches('"') != "application/dicom"
    {
        return Err(ApiError::UnsupportedMediaType(format!(
            "multipart type {t}: only application/dicom parts are accepted"
        )));
    }
    let parts =
        parts(ct, &body).map_err(|e| ApiError::Invalid(Invalid::one("body", "malformed_multipart", e)))?;
    let base = base(&headers);
    let mut stored = Vec::new();
    let mut failed = Vec::new();
    // The parts are stored concurrently, so that their index rows share commits.
    let actor = caller.actor();
    let outcomes = futures::future::join_all(parts.into_iter().map(|(part_type, bytes)| {
        let ctx = &ctx;
        async move {
            if part_type.starts_with("application/dicom") {
                Ok(imaging::ingest_part10(ctx, actor, bytes).await)
            } else {
                Err(part_type)
            }
        }
    }))
    .await;
    for outcome in outcomes {
        let result = match outcome {
            Ok(r) => r,
            Err(part_type) => {
                failed.push(failure(
                    "",
                    "",
                    status::SOP_CLASS_NOT_SUPPORTED,
                    &format!("part of type {part_type}"),
                ));
                continue;
            }
        };
        match result {
            Ok(i) => stored.push(
                Dataset::new()
                    .text(0x0008_1150, "UI", &i.sop_class_uid)
                    .text(0x0008_1155, "UI", &i.sop_instance_uid)
                    .text(
                        0x0008_1190,
                        "UR",
                        &format!(
                            "{base}/studies/{}/series/{}/instances/{}",
                            i.study_uid, i.series_uid, i.sop_instance_uid
                        ),
                    )
                    .into_value(),
            ),
            Err(IngestError::App(e)) => return Err(e.into()),
            Err(e) => {
                let code = match &e {
                    IngestError::Invalid(yigong_dicom::DicomError::Missing(_)) => status::DATASET_MISMATCH,
                    _ => status::CANNOT_UNDERSTAND,
                };
                failed.push(failure("", "", code, &e.to_string()));
            }
        }
    }
    let status = match (stored.is_empty(), failed.is_empty()) {
        (_, true) => StatusCode::OK,
        (false, false) => StatusCode::ACCEPTED,
        (true, false) => StatusCode::CONFLICT,
    };
    let mut answer = serde_json::Map::new();
    answer.insert("00081190".into(), json!({"vr": "UR", "Value": [format!("{base}/studies")]}));
    if !failed.is_empty() {
        answer.insert("00081198".into(), json!({"vr": "SQ", "Value": failed}));
    }
    if !stored.is_empty() {
        answer.insert("00081199".into(), json!({"vr": "SQ", "Value": stored}));
    }
    let mut r = dicom_json(Value::Object(answer));
    *r.status_mut() = status;
    Ok(r)
}

fn failure(class: &str, instance: &str, code: u16, reason: &str) -> Value {
    let mut v = Dataset::new()
        .text(0x0008_1150, "UI", class)
        .text(0x0008_1155, "UI", instance)
        .int(0x0008_1197, "US", Some(i64::from(code)))
        .into_value();
    // The reason in words, beside the code (a private-free comment attribute).
    v["00000902"] = json!({"vr": "LO", "Value": [reason.chars().take(64).collect::<String>()]});
    v
}
