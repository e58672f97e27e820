//! Loading a facility's patient list from the browser (stewards): the CSV file, its mapping and
//! the source's name in one multipart form; the result shows what was loaded, every rejected
//! row with its reason, and what the matching run did. A broken file is refused with its line
//! and nothing of it is loaded.

use askama::Template;
use axum::extract::{Multipart, State};
use axum::http::StatusCode;
use axum::response::Response;
use yigong_app::AppError;
use yigong_app::mpi::{self, FileImport};

use super::{Chrome, Signed, chrome, csrf_ok, error_page, render};
use crate::AppState;

/// Largest file accepted from the form.
pub const UPLOAD_LIMIT: usize = 64 * 1024 * 1024;

/// The mapping offered when the form opens: the columns of a typical township export.
const EXAMPLE_MAPPING: &str = "encoding = \"utf-8\"   # 或 \"gb18030\"\nid_column = \"门诊号\"\n\n[fields]\nname = \"姓名\"\nsex = \"性别\"\nbirth_date = \"出生日期\"\nresident_id = \"身份证号\"\nphone = \"联系电话\"\nvillage_code = \"村代码\"\n";

/// A row left out, as shown.
struct RejectedRow {
    line: String,
    local_id: String,
    reason: String,
}

#[derive(Template)]
#[template(path = "import.html")]
struct ImportPage {
    chrome: Chrome,
    source: String,
    mapping: String,
    id_column: String,
    /// Refusals by field: (field, message).
    errors: Vec<(String, String)>,
    /// The outcome, once a file was loaded: one sentence per part, and the rejected rows.
    done: Option<Vec<String>>,
    rejected: Vec<RejectedRow>,
    more_rejected: Option<String>,
}

impl ImportPage {
    fn error_for(&self, field: &str) -> Option<&str> {
        self.errors.iter().find(|(f, _)| f == field).map(|(_, m)| m.as_str())
    }
}

/// GET /mpi/import.
pub async fn import_form(State(ctx): State<AppState>, signed: Signed) -> Response {
    let s = &signed.session;
    // Only stewards load lists: refused (and audited) by the use case's own check.
    if let Err(e) = mpi::open_review_count(&ctx, &s.actor).await {
        return error_page(&ctx, s, signed.lang, &signed.path, e).await;
    }
    let chrome = chrome(&ctx, Some(s), signed.lang, &signed.path, "import").await;
    let page = ImportPage {
        chrome,
        source: String::new(),
        mapping: EXAMPLE_MAPPING.to_owned(),
        id_column: String::new(),
        errors: vec![],
        done: None,
        rejected: vec![],
        more_rejected: None,
    };
    render(StatusCode::OK, &page)
}

/// The form's parts.
#[derive(Default)]
struct Upload {
    csrf: String,
    source: String,
    mapping: String,
    id_column: String,
    file: Vec<u8>,
}

async fn read_upload(mut multipart: Multipart) -> Result<Upload, String> {
    let mut upload = Upload::default();
    while let Some(field) = multipart.next_field().await.map_err(|e| e.body_text())? {
        let name = field.name().unwrap_or_default().to_owned();
        match name.as_str() {
            "file" => upload.file = field.bytes().await.map_err(|e| e.body_text())?.to_vec(),
            "_csrf" | "source" | "mapping" | "id_column" => {
                let text = field.text().await.map_err(|e| e.body_text())?;
                match name.as_str() {
                    "_csrf" => upload.csrf = text,
                    "source" => upload.source = text,
                    "mapping" => upload.mapping = text,
                    _ => upload.id_column = text,
                }
            }
            _ => {}
        }
    }
    Ok(upload)
}

/// POST /mpi/import.
pub async fn import(State(ctx): State<AppState>, signed: Signed, multipart: Multipart) -> Response {
    let s = &signed.session;
    let upload = match read_upload(multipart).await {
        Ok(u) => u,
        Err(message) => {
            let invalid = yigong_domain::Invalid::one("file", "upload_invalid", message);
            return error_page(&ctx, s, signed.lang, &signed.path, AppError::Invalid(invalid)).await;
        }
    };
    if !csrf_ok(s, &upload.csrf) {
        return error_page(&ctx, s, signed.lang, &signed.path, AppError::Forbidden { code: "csrf_failed" })
            .await;
    }
    let chrome = chrome(&ctx, Some(s), signed.lang, &signed.path, "import").await;
    let t = chrome.t;
    let mut page = ImportPage {
        source: upload.source.clone(),
        mapping: upload.mapping.clone(),
        id_column: upload.id_column.clone(),
        errors: vec![],
        done: None,
        rejected: vec![],
        more_rejected: None,
        chrome,
    };
    if upload.file.is_empty() {
        page.errors.push(("file".into(), t.get("import.no_file").to_owned()));
        return render(StatusCode::UNPROCESSABLE_ENTITY, &page);
    }
    let id_column = Some(upload.id_column.as_str()).filter(|c| !c.trim().is_empty());
    match mpi::import_file(&ctx, &s.actor, &upload.source, &upload.mapping, &upload.file, id_column).await {
        Ok(done) => {
            page.done = Some(outcome(t, &done));
            page.rejected = done
                .rejected
                .iter()
                .take(200)
                .map(|r| RejectedRow {
                    line: r.line.to_string(),
                    local_id: r.local_id.clone(),
                    reason: r.reason.clone(),
                })
                .collect();
            if done.rejected.len() > 200 {
                page.more_rejected = Some(
                    t.fmt("import.more_rejected", &[("n", &t.number(done.rejected.len() as i64 - 200))]),
                );
            }
            render(StatusCode::OK, &page)
        }
        Err(AppError::Invalid(invalid)) => {
            // Codes are translated; the line and the cause stay as the reader wrote them.
            page.errors = invalid
                .fields
                .iter()
                .map(|f| (f.field.to_owned(), format!("{} {}", t.error(f.code, f.code), f.message)))
                .collect();
            render(StatusCode::UNPROCESSABLE_ENTITY, &page)
        }
        Err(e) => error_page(&ctx, s, signed.lang, &signed.path, e).await,
    }
}

fn outcome(t: super::Tr, done: &FileImport) -> Vec<String> {
    let n = |v: u64| t.number(v as i64);
    vec![
        t.fmt(
            "import.loaded",
            &[
                ("inserted", &n(done.import.inserted)),
                ("updated", &n(done.import.updated)),
                ("unchanged", &n(done.import.unchanged)),
                ("rejected", &t.number(done.rejected.len() as i64)),
            ],
        ),
        t.fmt("import.unverified", &[("n", &n(done.import.unverified_ids))]),
        t.fmt(
            "import.matched",
            &[
                ("records", &t.number(done.matching.records as i64)),
                ("persons", &t.number(done.matching.persons_created as i64)),
                ("linked", &t.number(done.matching.auto_linked as i64)),
                ("queued", &n(done.matching.queued)),
            ],
        ),
    ]
}
