//! The steward's review queue (匹配审核): open pairs, highest score first, each shown side by
//! side field by field with the level reached and its weight, and decided as one person (the
//! two persons are merged) or two.

use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use uuid::Uuid;
use yigong_app::AppError;
use yigong_app::mpi::{self, CandidateView, Decision};
use yigong_domain::ids::PatientRecordId;
use yigong_domain::page::PageRequest;

use super::mpi_labels::{
    agreement_class, band_label, field_label, field_value, level_label, rule_label, sex_label, short_id,
    weight,
};
use super::pages::decode_cursor;
use super::{Chrome, Signed, Tr, chrome, csrf_ok, error_page, render};
use crate::AppState;
use crate::page::encode_cursor;

/// Pairs per page: each is a small table, so a page stays readable on a phone.
const PAGE_SIZE: u32 = 20;

/// One record of a pair: where it comes from and whose it is now.
struct Side {
    source: String,
    local_id: String,
    registered_at: String,
    person_id: Option<(String, String)>,
}

/// One compared field.
struct FieldLine {
    label: String,
    a: String,
    b: String,
    level: String,
    weight: String,
    class: &'static str,
}

struct PairView {
    a_id: String,
    b_id: String,
    a: Side,
    b: Side,
    names: String,
    score: String,
    band: String,
    hard_rules: Vec<String>,
    fields: Vec<FieldLine>,
    /// The accessible names of the two buttons: their text and the pair they decide.
    same_label: String,
    different_label: String,
    reason: String,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "review.html")]
struct ReviewPage {
    chrome: Chrome,
    total: String,
    /// A refused decision whose pair is not on this page (decided meanwhile).
    error: Option<String>,
    pairs: Vec<PairView>,
    next: Option<String>,
    first: bool,
}

#[derive(Deserialize, Default)]
pub struct ReviewQuery {
    cursor: Option<String>,
    #[serde(default)]
    done: String,
}

/// GET /mpi/review.
pub async fn review(State(ctx): State<AppState>, signed: Signed, Query(q): Query<ReviewQuery>) -> Response {
    let flash = (q.done == "different").then_some("review.done_different");
    review_page(&ctx, &signed, decode_cursor(&q.cursor), flash, None).await
}

/// A decision that did not go through: the pair, the reason typed and the message.
struct Refused {
    a: String,
    b: String,
    reason: String,
    message: String,
}

async fn review_page(
    ctx: &yigong_app::Ctx,
    signed: &Signed,
    after: Option<String>,
    flash: Option<&str>,
    refused: Option<Refused>,
) -> Response {
    let s = &signed.session;
    let mut after = after;
    let page = PageRequest { size: PAGE_SIZE, after: after.clone() };
    let found = match mpi::list_candidates(ctx, &s.actor, "open", &page).await {
        // A cursor this list did not give (edited by hand) starts from the first page.
        Err(AppError::Invalid(_)) if after.is_some() => {
            after = None;
            mpi::list_candidates(ctx, &s.actor, "open", &PageRequest { size: PAGE_SIZE, after: None }).await
        }
        other => other,
    };
    let (found, total) = match found {
        Ok(f) => f,
        Err(e) => return error_page(ctx, s, signed.lang, "/mpi/review", e).await,
    };
    let mut chrome = chrome(ctx, Some(s), signed.lang, "/mpi/review", "review").await;
    let t = chrome.t;
    chrome.flash = flash.map(|k| t.get(k).to_owned());
    let pairs: Vec<PairView> = found.items.iter().map(|c| pair_view(t, c, refused.as_ref())).collect();
    let error =
        refused.as_ref().filter(|_| pairs.iter().all(|p| p.error.is_none())).map(|r| r.message.clone());
    let next = found.next_after.map(|a| format!("/mpi/review?cursor={}", encode_cursor(&a)));
    let status = if refused.is_some() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    let total = t.fmt("review.total", &[("n", &t.number(total))]);
    let page = ReviewPage { total, error, pairs, next, first: after.is_none(), chrome };
    render(status, &page)
}

fn side(t: Tr, r: &mpi::RecordView) -> Side {
    Side {
        source: r.source_name.clone(),
        local_id: r.record.local_id.clone(),
        registered_at: t.datetime(r.record.registered_at),
        person_id: r.person_id.map(|p| (p.to_string(), short_id(p))),
    }
}

fn pair_view(t: Tr, c: &CandidateView, refused: Option<&Refused>) -> PairView {
    let (a_id, b_id) = (c.a.record.record_id.to_string(), c.b.record.record_id.to_string());
    let shown = |field: &str, value: Option<String>| match field {
        "sex" => sex_label(t, value.as_deref()),
        _ => value.unwrap_or_default(),
    };
    let fields = c
        .fields
        .iter()
        .map(|f| FieldLine {
            label: field_label(t, &f.field),
            a: shown(&f.field, field_value!(c.a.record.values, f.field.as_str())),
            b: shown(&f.field, field_value!(c.b.record.values, f.field.as_str())),
            level: level_label(t, &f.level),
            weight: weight(f.weight),
            class: agreement_class(&f.level, f.weight),
        })
        .collect();
    let name =
        |r: &mpi::RecordView| r.record.values.name.clone().unwrap_or_else(|| r.record.local_id.clone());
    let names = format!("{} / {}", name(&c.a), name(&c.b));
    let mine = refused.filter(|r| r.a == a_id && r.b == b_id);
    PairView {
        a: side(t, &c.a),
        b: side(t, &c.b),
        score: format!("{:.1}", c.candidate.score),
        band: band_label(t, &c.candidate.band),
        hard_rules: c.hard_rules.iter().map(|r| rule_label(t, r)).collect(),
        fields,
        same_label: format!("{}：{names}", t.get("review.same")),
        different_label: format!("{}：{names}", t.get("review.different")),
        reason: mine.map(|r| r.reason.clone()).unwrap_or_default(),
        error: mine.map(|r| r.message.clone()),
        names,
        a_id,
        b_id,
    }
}

#[derive(Deserialize, Default)]
pub struct DecideForm {
    #[serde(default, rename = "_csrf")]
    csrf: String,
    #[serde(default)]
    a: String,
    #[serde(default)]
    b: String,
    #[serde(default)]
    decision: String,
    #[serde(default)]
    reason: String,
}

/// POST /mpi/review/decide: one person (merged; on to the surviving person's page) or two
/// (back to the queue).
pub async fn decide(State(ctx): State<AppState>, signed: Signed, Form(form): Form<DecideForm>) -> Response {
    let s = &signed.session;
    if !csrf_ok(s, &form.csrf) {
        return error_page(&ctx, s, signed.lang, &signed.path, AppError::Forbidden { code: "csrf_failed" })
            .await;
    }
    let record = |id: &str| Uuid::parse_str(id.trim()).ok().map(PatientRecordId::from_uuid);
    let (Some(a), Some(b)) = (record(&form.a), record(&form.b)) else {
        return error_page(&ctx, s, signed.lang, &signed.path, AppError::not_found("candidate")).await;
    };
    let decision = match form.decision.as_str() {
        "same" => Decision::Same,
        "different" => Decision::Different,
        _ => return error_page(&ctx, s, signed.lang, &signed.path, AppError::not_found("candidate")).await,
    };
    let reason = Some(form.reason.as_str()).filter(|r| !r.trim().is_empty());
    let t = Tr { lang: signed.lang };
    let message = match mpi::decide(&ctx, &s.actor, a, b, decision, reason).await {
        Ok(_) if decision == Decision::Different => {
            return Redirect::to("/mpi/review?done=different").into_response();
        }
        Ok(_) => {
            return match mpi::record_person(&ctx, &s.actor, a).await {
                Ok(person) => Redirect::to(&format!("/patients/{person}?done=decided")).into_response(),
                Err(e) => error_page(&ctx, s, signed.lang, &signed.path, e).await,
            };
        }
        Err(AppError::Invalid(i)) => {
            i.fields.iter().map(|f| t.error(f.code, &f.message)).collect::<Vec<_>>().join(" ")
        }
        Err(AppError::Conflict { rule }) => t.error(rule, rule),
        Err(e) => return error_page(&ctx, s, signed.lang, &signed.path, e).await,
    };
    let refused = Refused { a: a.to_string(), b: b.to_string(), reason: form.reason.clone(), message };
    review_page(&ctx, &signed, None, None, Some(refused)).await
}
