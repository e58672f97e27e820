//! Reading-centre pages (DESIGN.md §6.2–6.3): the ordering site's exam list and order form with
//! the mutual-recognition prompt, an item's page (images in a frame viewer on the rendered
//! endpoint, the structured report form, signed versions, critical values, the specimen chain),
//! a centre's worklist, the open critical values, and the metrics with charts. Every page works
//! without JavaScript; the viewer's keys and window presets are a small script on top.

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap};
use uuid::Uuid;
use yigong_app::AppError;
use yigong_app::reading::{self, Answer, Change, CriticalAction, OrderDraft, OrderView, WorklistFilter};
use yigong_domain::access::{Permission, Role, role_permits};
use yigong_domain::ids::{PatientRecordId, PersonId};
use yigong_domain::page::PageRequest;
use yigong_domain::reading::report::{FieldKind, ReportDraft, template};
use yigong_domain::reading::{
    Centre, Disposition, ExamKind, ItemState, ItemTransition, QualityReason, RetestGround, SpecimenStep,
    Urgency,
};

use super::pages::decode_cursor;
use super::referral::{percent, short_time};
use super::{Chrome, Signed, Tr, chrome, csrf_ok, error_page, render};
use crate::AppState;
use crate::page::encode_cursor;

/// The label of a code of one of the reading vocabularies; the code when the catalogue lacks it.
fn label(t: Tr, group: &str, code: &str) -> String {
    let key = format!("reading.{group}.{code}");
    if t.has(&key) { t.get(&key).to_owned() } else { code.to_owned() }
}

fn error_text(t: Tr, e: &AppError) -> String {
    match e {
        AppError::Invalid(i) => i
            .fields
            .iter()
            .map(|f| {
                let key = format!("reading.error.{}", f.code);
                let text = if t.has(&key) { t.get(&key).to_owned() } else { t.error(f.code, &f.message) };
                match field_label(t, f.field) {
                    Some(name) => {
                        format!("{name}{}{text}", if t.lang == super::Lang::ZhCn { "：" } else { ": " })
                    }
                    None => text,
                }
            })
            .collect::<Vec<_>>()
            .join(" "),
        AppError::Conflict { rule } | AppError::Forbidden { code: rule } => {
            let key = format!("reading.error.{rule}");
            if t.has(&key) { t.get(&key).to_owned() } else { t.error(rule, rule) }
        }
        AppError::Transition { code, message, .. } => {
            let key = format!("reading.error.{code}");
            if t.has(&key) { t.get(&key).to_owned() } else { message.clone() }
        }
        other => other.to_string(),
    }
}

/// The name of a field an error is about: the page's own labels, or a report template's.
fn field_label(t: Tr, field: &str) -> Option<String> {
    let key = format!("reading.field.{}", field.replace('.', "_"));
    if t.has(&key) {
        return Some(t.get(&key).to_owned());
    }
    let report_key = field.strip_prefix("fields.")?;
    ExamKind::ALL
        .iter()
        .flat_map(|k| template(*k).iter())
        .find(|f| f.key == report_key)
        .map(|f| if t.lang == super::Lang::ZhCn { f.zh } else { f.en }.to_owned())
}

/// The template fields of a signed report's canonical content.
fn signed_fields(canonical: &serde_json::Value) -> Option<&serde_json::Map<String, serde_json::Value>> {
    canonical.get("fields")?.as_object()
}

fn yuan(fen: i64) -> String {
    format!("¥{}.{:02}", fen / 100, fen % 100)
}

// ---- the ordering site's list ----

struct Line {
    id: String,
    accession: String,
    item: String,
    urgency: String,
    urgency_code: &'static str,
    patient: String,
    origin: String,
    state: String,
    state_code: &'static str,
    due: String,
    overdue: bool,
    hr: bool,
    mine: bool,
    version: i32,
    can_claim: bool,
}

fn line(t: Tr, w: &yigong_app::reading::WorkItem, today: NaiveDate, me: Uuid) -> Line {
    let o = &w.order;
    Line {
        id: o.id.to_string(),
        accession: o.accession_no.clone(),
        item: o.item_name.clone(),
        urgency: label(t, "urgency", o.urgency.as_str()),
        urgency_code: o.urgency.as_str(),
        patient: super::referral::patient_line(
            t,
            w.patient_name.as_deref(),
            w.patient_sex.as_deref(),
            w.patient_birth.as_deref(),
            today,
        ),
        origin: w.origin_name.clone(),
        state: label(t, "state", o.state.as_str()),
        state_code: o.state.as_str(),
        due: o.due_at.map(|d| short_time(t, d)).unwrap_or_default(),
        overdue: w.overdue,
        hr: o.hr,
        mine: o.reader_user_id == Some(me),
        version: o.version,
        can_claim: o.state == ItemState::Queued,
    }
}

#[derive(Template)]
#[template(path = "exams.html")]
struct ExamsPage {
    chrome: Chrome,
    rows: Vec<Line>,
    next: Option<String>,
}

/// The list's query.
#[derive(Deserialize, Default)]
pub struct ListQuery {
    cursor: Option<String>,
}

/// GET /exams: the items ordered by the user's institutions.
pub async fn exams(State(ctx): State<AppState>, signed: Signed, Query(q): Query<ListQuery>) -> Response {
    let s = &signed.session;
    let page = PageRequest { size: 50, after: decode_cursor(&q.cursor) };
    let list = match reading::orders(&ctx, &s.actor, &[], &page).await {
        Ok(l) => l,
        Err(e) => return error_page(&ctx, s, signed.lang, &signed.path, e).await,
    };
    let chrome = chrome(&ctx, Some(s), signed.lang, &signed.path, "exams").await;
    let t = chrome.t;
    let today = ctx.today();
    let rows = list.items.iter().map(|w| line(t, w, today, s.actor.user_id)).collect();
    let next = list.next_after.as_ref().map(|a| format!("cursor={}", encode_cursor(a)));
    render(StatusCode::OK, &ExamsPage { chrome, rows, next })
}

// ---- the order form ----

struct OfferLine {
    id: String,
    item: String,
    reported: String,
    producer: String,
    impression: String,
    qc_until: String,
}

#[derive(Template)]
#[template(path = "exam_new.html")]
struct NewPage {
    chrome: Chrome,
    record_id: String,
    patient: String,
    /// (code, label, selected)
    items: Vec<(String, String, bool)>,
    urgencies: Vec<(&'static str, String, bool)>,
    question: String,
    head: bool,
    offers: Vec<OfferLine>,
    grounds: Vec<(&'static str, String)>,
    error: Option<String>,
}

/// The form's query: a record, or a person with the position of one of their records.
#[derive(Deserialize, Default)]
pub struct NewQuery {
    #[serde(default)]
    record: String,
    #[serde(default)]
    person: String,
    #[serde(default)]
    pick: String,
}

/// What the form posts.
#[derive(Deserialize, Default)]
pub struct NewForm {
    #[serde(default, rename = "_csrf")]
    csrf: String,
    #[serde(default)]
    patient_record_id: String,
    #[serde(default)]
    patient: String,
    #[serde(default)]
    item_code: String,
    #[serde(default)]
    urgency: String,
    #[serde(default)]
    question: String,
    #[serde(default)]
    head: String,
    /// `recognised` or `repeated` (the prompt's answer).
    #[serde(default)]
    answer: String,
    #[serde(default)]
    prior_order_id: String,
    #[serde(default)]
    ground: String,
    #[serde(default)]
    ground_text: String,
}

async fn new_page(
    ctx: &yigong_app::Ctx,
    signed: &Signed,
    form: &NewForm,
    offers: Vec<OfferLine>,
    error: Option<String>,
) -> Result<NewPage, AppError> {
    let s = &signed.session;
    let chrome = chrome(ctx, Some(s), signed.lang, &signed.path, "exams").await;
    let t = chrome.t;
    let (catalogue, _) = reading::catalogue(ctx, &s.actor).await?;
    let items = catalogue
        .iter()
        .filter(|i| i.active)
        .map(|i| {
            let mut name =
                format!("{} · {} · {}", i.name, label(t, "kind", i.kind.as_str()), yuan(i.price_fen));
            if i.recognition.is_some() {
                name.push_str(" · HR");
            }
            (i.code.clone(), name, i.code == form.item_code)
        })
        .collect();
    let urgency = if form.urgency.is_empty() { "outpatient" } else { form.urgency.as_str() };
    Ok(NewPage {
        record_id: form.patient_record_id.clone(),
        patient: form.patient.clone(),
        items,
        urgencies: Urgency::ALL
            .iter()
            .map(|u| (u.as_str(), label(t, "urgency", u.as_str()), u.as_str() == urgency))
            .collect(),
        question: form.question.clone(),
        head: form.head == "on",
        offers,
        grounds: RetestGround::ALL.iter().map(|g| (g.as_str(), label(t, "ground", g.as_str()))).collect(),
        error,
        chrome,
    })
}

/// GET /exams/new?person=…&pick=n (from the person page) or ?record=…
pub async fn new_form(State(ctx): State<AppState>, signed: Signed, Query(q): Query<NewQuery>) -> Response {
    let s = &signed.session;
    let mut form = NewForm { patient_record_id: q.record.trim().to_owned(), ..NewForm::default() };
    if let Ok(person) = Uuid::parse_str(q.person.trim()) {
        match yigong_app::mpi::get_person(&ctx, &s.actor, PersonId::from_uuid(person)).await {
            Ok(view) => {
                let pick: usize = q.pick.parse().unwrap_or(0);
                if let Some(r) = view.records.get(pick) {
                    form.patient_record_id = r.record.record_id.as_uuid().to_string();
                    form.patient = r.record.values.name.clone().unwrap_or_default();
                }
            }
            Err(e) => return error_page(&ctx, s, signed.lang, &signed.path, e).await,
        }
    }
    match new_page(&ctx, &signed, &form, vec![], None).await {
        Ok(p) => render(StatusCode::OK, &p),
        Err(e) => error_page(&ctx, s, signed.lang, &signed.path, e).await,
    }
}

/// POST /exams/new: places the order; when a recognisable result exists the form comes back
/// with the prompt, and the doctor recognises it or repeats the test with a ground.
pub async fn create(State(ctx): State<AppState>, signed: Signed, Form(form): Form<NewForm>) -> Response {
    let s = &signed.session;
    if !csrf_ok(s, &form.csrf) {
        return error_page(&ctx, s, signed.lang, &signed.path, AppError::Forbidden { code: "csrf_failed" })
            .await;
    }
    let t = Tr { lang: signed.lang };
    let record = Uuid::parse_str(form.patient_record_id.trim()).ok().map(PatientRecordId::from_uuid);
    let recognition = match form.answer.as_str() {
        "recognised" => Some(Answer {
            prior_order_id: Uuid::parse_str(&form.prior_order_id).ok(),
            recognised: true,
            ..Answer::default()
        }),
        "repeated" => Some(Answer {
            prior_order_id: Uuid::parse_str(&form.prior_order_id).ok(),
            recognised: false,
            ground: RetestGround::parse(&form.ground),
            ground_text: Some(form.ground_text.clone()).filter(|g| !g.trim().is_empty()),
        }),
        _ => None,
    };
    let draft = OrderDraft {
        patient_record_id: record,
        item_code: form.item_code.clone(),
        urgency: Urgency::parse(&form.urgency),
        question: form.question.clone(),
        head: form.head == "on",
        complex: false,
        recognition,
    };
    let result = reading::place(&ctx, &s.actor, draft).await;
    let (offers, error) = match result {
        Ok(placed) => {
            return match placed.order {
                Some(o) => Redirect::to(&format!("/exams/{}?done=ordered", o.id)).into_response(),
                None => {
                    let prior = placed.decision.map(|d| d.prior_order_id).unwrap_or_default();
                    Redirect::to(&format!("/exams/{prior}?done=recognised")).into_response()
                }
            };
        }
        Err(AppError::Conflict { rule: "recognition_decision_required" }) => {
            (offer_lines(&ctx, &signed, record, &form.item_code).await, None)
        }
        Err(e @ (AppError::Invalid(_) | AppError::Conflict { .. })) => {
            let offers = if form.answer.is_empty() {
                vec![]
            } else {
                offer_lines(&ctx, &signed, record, &form.item_code).await
            };
            (offers, Some(error_text(t, &e)))
        }
        Err(e) => return error_page(&ctx, s, signed.lang, &signed.path, e).await,
    };
    match new_page(&ctx, &signed, &form, offers, error).await {
        Ok(p) => render(StatusCode::UNPROCESSABLE_ENTITY, &p),
        Err(e) => error_page(&ctx, s, signed.lang, &signed.path, e).await,
    }
}

async fn offer_lines(
    ctx: &yigong_app::Ctx,
    signed: &Signed,
    record: Option<PatientRecordId>,
    code: &str,
) -> Vec<OfferLine> {
    let t = Tr { lang: signed.lang };
    reading::prompt(ctx, &signed.session.actor, record, Some(code))
        .await
        .unwrap_or_default()
        .into_iter()
        .map(|o| OfferLine {
            id: o.order.id.to_string(),
            item: o.order.item_name.clone(),
            reported: o.order.final_at.map(|f| t.datetime(f)).unwrap_or_default(),
            producer: o.producer_name,
            impression: o.impression.unwrap_or_default(),
            qc_until: t.date(o.qc_valid_until),
        })
        .collect()
}

// ---- an item ----

struct Frame {
    src: String,
    label: String,
}

struct ReportCard {
    version: i32,
    status: String,
    author: String,
    signed: String,
    hash: String,
    hr: bool,
    critical: bool,
    reason: Option<String>,
    fields: Vec<(String, String)>,
}

struct CriticalCard {
    id: String,
    state: String,
    state_code: &'static str,
    finding: String,
    identified: String,
    acknowledged: Option<String>,
    disposition: Option<String>,
    escalated: bool,
    can_ack: bool,
    can_dispose: bool,
    can_close: bool,
}

struct FormField {
    key: &'static str,
    label: String,
    kind: &'static str,
    required: bool,
    value: String,
    unit: String,
    choices: Vec<(&'static str, String, bool)>,
}

struct ReportForm {
    action: &'static str,
    button: String,
    fields: Vec<FormField>,
    needs_reason: bool,
}

#[derive(Template)]
#[template(path = "exam_detail.html")]
struct DetailPage {
    chrome: Chrome,
    /// The list the page belongs to: (href, label).
    back: (String, String),
    id: String,
    version: i32,
    accession: String,
    item: String,
    urgency: String,
    urgency_code: &'static str,
    state: String,
    state_code: &'static str,
    hr: bool,
    question: String,
    person: Option<String>,
    patient: Vec<(String, String)>,
    facts: Vec<(String, String)>,
    frames: Vec<Frame>,
    reports: Vec<ReportCard>,
    signatures_valid: bool,
    criticals: Vec<CriticalCard>,
    dispositions: Vec<(&'static str, String)>,
    specimen: Vec<(String, String, String, String)>,
    specimen_next: Vec<(&'static str, String)>,
    quality_reasons: Vec<(&'static str, String)>,
    events: Vec<(String, String, String, String)>,
    priors: Vec<(String, String)>,
    can_complete: bool,
    buttons: Vec<(&'static str, String, bool)>,
    report_form: Option<ReportForm>,
    can_cancel: bool,
    can_reject: bool,
    refusal: Option<String>,
}

/// The page's query: what was just done, or refused.
#[derive(Deserialize, Default)]
pub struct DetailQuery {
    #[serde(default)]
    done: String,
}

async fn detail_page(
    ctx: &yigong_app::Ctx,
    signed: &Signed,
    v: OrderView,
    refusal: Option<String>,
    draft: Option<&BTreeMap<String, String>>,
    done: &str,
) -> DetailPage {
    let s = &signed.session;
    let mut chrome = chrome(ctx, Some(s), signed.lang, &signed.path, "exams").await;
    let t = chrome.t;
    if !done.is_empty() {
        let key = format!("reading.done.{done}");
        if t.has(&key) {
            chrome.flash = Some(t.get(&key).to_owned());
        }
    }
    let o = &v.order;
    let today = ctx.today();
    let values = v.patient.as_ref().map(|p| &p.values);
    let patient = vec![
        (
            t.get("reading.patient").to_owned(),
            super::referral::patient_line(
                t,
                values.and_then(|v| v.name.as_deref()),
                values.and_then(|v| v.sex.as_deref()),
                values.and_then(|v| v.birth_date.as_deref()),
                today,
            ),
        ),
        (t.get("reading.origin").to_owned(), v.origin_name.clone()),
    ];
    let mut facts = vec![
        (t.get("reading.accession").to_owned(), o.accession_no.clone()),
        (t.get("reading.kind_label").to_owned(), label(t, "kind", o.kind.as_str())),
        (t.get("reading.centre_label").to_owned(), label(t, "centre", o.centre.as_str())),
        (t.get("reading.ordered_at").to_owned(), t.datetime(o.created_at)),
    ];
    if let Some(r) = o.received_at {
        facts.push((t.get("reading.received_at").to_owned(), t.datetime(r)));
    }
    if let Some(d) = o.due_at {
        facts.push((t.get("reading.due").to_owned(), t.datetime(d)));
    }
    if let Some(l) = o.lease_until.filter(|_| matches!(o.state, ItemState::Claimed | ItemState::Preliminary))
    {
        facts.push((t.get("reading.lease_until").to_owned(), t.datetime(l)));
    }
    if o.kind.has_images() {
        facts.push((t.get("reading.images").to_owned(), t.number(v.images)));
    }
    // The frames of every study, in series and instance order.
    let mut frames = Vec::new();
    for study in &v.studies {
        if let Ok((_, _, instances)) = yigong_app::imaging::study(ctx, &s.actor, study, None).await {
            let mut instances = instances;
            instances.sort_by_key(|i| (i.series_uid.clone(), i.instance_number.unwrap_or(0)));
            for (n, i) in instances.iter().enumerate() {
                frames.push(Frame {
                    src: format!(
                        "/dicomweb/studies/{}/series/{}/instances/{}/frames/1/rendered",
                        i.study_uid, i.series_uid, i.sop_instance_uid
                    ),
                    label: format!("{} / {}", n + 1, instances.len()),
                });
            }
        }
    }
    let reports = v
        .reports
        .iter()
        .map(|r| {
            let content = signed_fields(&r.content);
            let fields = template(o.kind)
                .iter()
                .filter_map(|f| {
                    let value = content?.get(f.key)?.as_str()?.to_owned();
                    let value = match &f.kind {
                        FieldKind::Choice(choices) => choices
                            .iter()
                            .find(|c| c.code == value)
                            .map(|c| if t.lang == super::Lang::ZhCn { c.zh } else { c.en }.to_owned())
                            .unwrap_or(value),
                        FieldKind::Number { unit, .. } => format!("{value} {unit}"),
                        _ => value,
                    };
                    Some((if t.lang == super::Lang::ZhCn { f.zh } else { f.en }.to_owned(), value))
                })
                .collect();
            ReportCard {
                version: r.version,
                status: label(t, "report_status", &r.status),
                author: r.author_name.clone(),
                signed: t.datetime(r.signed_at),
                hash: r.content_hash.chars().take(16).collect(),
                hr: r.hr,
                critical: r.critical,
                reason: r.reason.clone(),
                fields,
            }
        })
        .collect();
    let at_site = v.parties.contains(&yigong_domain::reading::Party::OrderingSite);
    let criticals = v
        .criticals
        .iter()
        .map(|c| {
            use yigong_domain::reading::CriticalState as C;
            CriticalCard {
                id: c.id.to_string(),
                state: label(t, "critical_state", c.state.as_str()),
                state_code: c.state.as_str(),
                finding: c.finding.clone(),
                identified: t.datetime(c.identified_at),
                acknowledged: c.acknowledged_at.map(|a| {
                    format!(
                        "{} · {} · {}",
                        t.datetime(a),
                        c.acknowledged_name.clone().unwrap_or_default(),
                        c.read_back.clone().unwrap_or_default()
                    )
                }),
                disposition: c.disposition.map(|d| label(t, "disposition", d.as_str())),
                escalated: c.escalated_at.is_some(),
                can_ack: at_site && matches!(c.state, C::Identified | C::Notified),
                can_dispose: at_site && c.state == C::Acknowledged,
                can_close: at_site && c.state == C::Disposed,
            }
        })
        .collect();
    let allowed = |tr: ItemTransition| v.allowed.contains(&tr);
    let mut buttons = Vec::new();
    for (tr, danger) in
        [(ItemTransition::Claim, false), (ItemTransition::Renew, false), (ItemTransition::Release, true)]
    {
        if allowed(tr) {
            buttons.push((tr.as_str(), label(t, "transition", tr.as_str()), danger));
        }
    }
    let report_form = [ItemTransition::ReportPreliminary, ItemTransition::Finalise, ItemTransition::Amend]
        .into_iter()
        .filter(|tr| allowed(*tr))
        .filter(|tr| *tr != ItemTransition::ReportPreliminary || o.urgency.due_at_preliminary())
        .map(|tr| {
            // An amendment starts from the last signed version.
            let last = v.reports.last().and_then(|r| signed_fields(&r.content));
            ReportForm {
                action: tr.as_str(),
                button: label(t, "transition", tr.as_str()),
                needs_reason: tr == ItemTransition::Amend,
                fields: template(o.kind)
                    .iter()
                    .map(|f| {
                        let value = draft
                            .and_then(|d| d.get(f.key).cloned())
                            .or_else(|| last.and_then(|l| l.get(f.key)?.as_str().map(str::to_owned)))
                            .unwrap_or_default();
                        let (kind, unit, choices) = match &f.kind {
                            FieldKind::Text => ("text", String::new(), vec![]),
                            FieldKind::Line => ("line", String::new(), vec![]),
                            FieldKind::Number { unit, .. } => ("number", (*unit).to_owned(), vec![]),
                            FieldKind::Choice(c) => (
                                "choice",
                                String::new(),
                                c.iter()
                                    .map(|c| {
                                        let l = if t.lang == super::Lang::ZhCn { c.zh } else { c.en };
                                        (c.code, l.to_owned(), c.code == value)
                                    })
                                    .collect(),
                            ),
                        };
                        FormField {
                            key: f.key,
                            label: if t.lang == super::Lang::ZhCn { f.zh } else { f.en }.to_owned(),
                            kind,
                            required: f.required,
                            value,
                            unit,
                            choices,
                        }
                    })
                    .collect(),
            }
        })
        .next_back();
    let specimen = v
        .specimen
        .iter()
        .map(|e| {
            let extra = [e.reason.as_deref().map(|r| label(t, "quality", r)), e.temperature.clone()]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" · ");
            (t.datetime(e.at), label(t, "specimen", e.step.as_str()), e.place.clone(), extra)
        })
        .collect();
    let specimen_next = if o.kind == ExamKind::Lab && !v.parties.is_empty() {
        yigong_domain::reading::specimen::next_steps(o.specimen_step)
            .iter()
            .map(|st| (st.as_str(), label(t, "specimen", st.as_str())))
            .collect()
    } else {
        vec![]
    };
    let events = v
        .events
        .iter()
        .map(|e| {
            (
                t.datetime(e.at),
                e.transition.map_or_else(
                    || t.get("reading.created").to_owned(),
                    |tr| label(t, "transition", tr.as_str()),
                ),
                label(t, "party", e.party.as_str()),
                e.reason.clone().unwrap_or_default(),
            )
        })
        .collect();
    let priors = v
        .priors
        .iter()
        .map(|p| {
            (
                format!("/exams/{}", p.id),
                format!(
                    "{} · {} · {}",
                    t.date(p.created_at.date_naive()),
                    p.item_name,
                    label(t, "state", p.state.as_str())
                ),
            )
        })
        .collect();
    // Readers came from their worklist; the ordering site from its list.
    let back = if at_site {
        ("/exams".to_owned(), t.get("reading.exams_title").to_owned())
    } else {
        (format!("/reading?centre={}", o.centre.as_str()), t.get("reading.worklist_title").to_owned())
    };
    DetailPage {
        back,
        id: o.id.to_string(),
        version: o.version,
        accession: o.accession_no.clone(),
        item: o.item_name.clone(),
        urgency: label(t, "urgency", o.urgency.as_str()),
        urgency_code: o.urgency.as_str(),
        state: label(t, "state", o.state.as_str()),
        state_code: o.state.as_str(),
        hr: o.hr,
        question: o.question.clone(),
        person: v.person_id.map(|p| p.to_string()),
        patient,
        facts,
        frames,
        reports,
        signatures_valid: v.signatures_valid,
        criticals,
        dispositions: Disposition::ALL
            .iter()
            .map(|d| (d.as_str(), label(t, "disposition", d.as_str())))
            .collect(),
        specimen,
        specimen_next,
        quality_reasons: QualityReason::ALL
            .iter()
            .map(|r| (r.as_str(), label(t, "quality", r.as_str())))
            .collect(),
        events,
        priors,
        can_complete: at_site
            && o.kind.has_images()
            && matches!(o.state, ItemState::Ordered | ItemState::Acquired),
        buttons,
        report_form,
        can_cancel: allowed(ItemTransition::Cancel),
        can_reject: allowed(ItemTransition::RejectQuality),
        refusal,
        chrome,
    }
}

/// GET /exams/{id}
pub async fn detail(
    State(ctx): State<AppState>,
    signed: Signed,
    Path(id): Path<Uuid>,
    Query(q): Query<DetailQuery>,
) -> Response {
    let s = &signed.session;
    match reading::get(&ctx, &s.actor, id).await {
        Ok(v) => render(StatusCode::OK, &detail_page(&ctx, &signed, v, None, None, &q.done).await),
        Err(e) => error_page(&ctx, s, signed.lang, &signed.path, e).await,
    }
}

/// What an item's forms post: the CSRF token, the version seen, and the action's fields.
#[derive(Deserialize, Default)]
pub struct ActForm {
    #[serde(default, rename = "_csrf")]
    csrf: String,
    #[serde(default)]
    version: i32,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    critical: String,
    #[serde(default)]
    critical_text: String,
    #[serde(default)]
    step: String,
    #[serde(default)]
    place: String,
    #[serde(default)]
    temperature: String,
    /// Report fields arrive as `f.<key>`.
    #[serde(flatten)]
    rest: HashMap<String, String>,
}

/// POST /exams/{id}/{action}: `complete`, `specimen`, or a transition.
pub async fn act(
    State(ctx): State<AppState>,
    signed: Signed,
    Path((id, action)): Path<(Uuid, String)>,
    Form(form): Form<ActForm>,
) -> Response {
    let s = &signed.session;
    if !csrf_ok(s, &form.csrf) {
        return error_page(&ctx, s, signed.lang, &signed.path, AppError::Forbidden { code: "csrf_failed" })
            .await;
    }
    let t = Tr { lang: signed.lang };
    let fields: BTreeMap<String, String> = form
        .rest
        .iter()
        .filter_map(|(k, v)| Some((k.strip_prefix("f.")?.to_owned(), v.clone())))
        .filter(|(_, v)| !v.trim().is_empty())
        .collect();
    let result = match action.as_str() {
        "complete" => reading::complete(&ctx, &s.actor, id).await,
        "specimen" => {
            let Some(step) = SpecimenStep::parse(&form.step) else {
                return error_page(&ctx, s, signed.lang, &signed.path, AppError::not_found("action")).await;
            };
            let temperature = Some(form.temperature.trim().to_owned()).filter(|x| !x.is_empty());
            reading::specimen_step(
                &ctx,
                &s.actor,
                id,
                step,
                &form.place,
                QualityReason::parse(&form.reason),
                temperature,
            )
            .await
        }
        other => {
            let Some(transition) = ItemTransition::parse(other).filter(|tr| {
                !matches!(
                    tr,
                    ItemTransition::Receive
                        | ItemTransition::Queue
                        | ItemTransition::ExpireLease
                        | ItemTransition::Deliver
                )
            }) else {
                return error_page(&ctx, s, signed.lang, &signed.path, AppError::not_found("action")).await;
            };
            let report = matches!(
                transition,
                ItemTransition::ReportPreliminary | ItemTransition::Finalise | ItemTransition::Amend
            )
            .then(|| ReportDraft {
                fields: fields.clone(),
                critical: form.critical == "on",
                critical_text: Some(form.critical_text.clone()).filter(|c| !c.trim().is_empty()),
            });
            let change = Change {
                version: form.version,
                reason: Some(form.reason.clone()).filter(|r| !r.trim().is_empty()),
                reader_user_id: None,
                report,
            };
            reading::act(&ctx, &s.actor, id, transition, change).await
        }
    };
    match result {
        Ok(_) => Redirect::to(&format!("/exams/{id}?done={action}")).into_response(),
        Err(e @ (AppError::Invalid(_) | AppError::Conflict { .. } | AppError::Transition { .. })) => {
            match reading::get(&ctx, &s.actor, id).await {
                Ok(v) => {
                    let page =
                        detail_page(&ctx, &signed, v, Some(error_text(t, &e)), Some(&fields), "").await;
                    render(StatusCode::UNPROCESSABLE_ENTITY, &page)
                }
                Err(e) => error_page(&ctx, s, signed.lang, &signed.path, e).await,
            }
        }
        Err(e) => error_page(&ctx, s, signed.lang, &signed.path, e).await,
    }
}

// ---- the worklist ----

#[derive(Template)]
#[template(path = "reading_worklist.html")]
struct WorklistPage {
    chrome: Chrome,
    centres: Vec<(&'static str, String, bool)>,
    centre: &'static str,
    kinds: Vec<(&'static str, String, bool)>,
    mine: bool,
    overdue_only: bool,
    queued: String,
    claimed: String,
    overdue: String,
    rows: Vec<Line>,
    next: Option<String>,
}

/// The worklist's query.
#[derive(Deserialize, Default)]
pub struct WorklistQuery {
    #[serde(default)]
    centre: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    mine: String,
    #[serde(default)]
    overdue: String,
    cursor: Option<String>,
}

/// GET /reading: a centre's worklist (readers).
pub async fn worklist(
    State(ctx): State<AppState>,
    signed: Signed,
    Query(q): Query<WorklistQuery>,
) -> Response {
    let s = &signed.session;
    let centre = Centre::parse(&q.centre).unwrap_or(Centre::Imaging);
    let kind = ExamKind::parse(&q.kind).filter(|k| k.centre() == centre);
    let (mine, overdue_only) = (q.mine == "1", q.overdue == "1");
    let filter = WorklistFilter {
        kind,
        reader: mine.then_some(s.actor.user_id),
        due_before: overdue_only.then(|| ctx.clock.now()),
        ..WorklistFilter::default()
    };
    let page = PageRequest { size: 50, after: decode_cursor(&q.cursor) };
    let list = match reading::worklist(&ctx, &s.actor, centre, &filter, &page).await {
        Ok(l) => l,
        Err(e) => return error_page(&ctx, s, signed.lang, &signed.path, e).await,
    };
    let chrome = chrome(&ctx, Some(s), signed.lang, &signed.path, "reading").await;
    let t = chrome.t;
    let today = ctx.today();
    let rows = list.items.items.iter().map(|w| line(t, w, today, s.actor.user_id)).collect();
    let next = list.items.next_after.as_ref().map(|a| {
        format!(
            "centre={}&kind={}&mine={}&overdue={}&cursor={}",
            centre.as_str(),
            kind.map_or("", |k| k.as_str()),
            q.mine,
            q.overdue,
            encode_cursor(a)
        )
    });
    let page = WorklistPage {
        centres: Centre::ALL
            .iter()
            .map(|c| (c.as_str(), label(t, "centre", c.as_str()), *c == centre))
            .collect(),
        centre: centre.as_str(),
        kinds: ExamKind::ALL
            .iter()
            .filter(|k| k.centre() == centre)
            .map(|k| (k.as_str(), label(t, "kind", k.as_str()), Some(*k) == kind))
            .collect(),
        mine,
        overdue_only,
        queued: t.number(list.queued),
        claimed: t.number(list.claimed),
        overdue: t.number(list.overdue),
        rows,
        next,
        chrome,
    };
    render(StatusCode::OK, &page)
}

// ---- critical values ----

struct CriticalLine {
    id: String,
    order_id: String,
    accession: String,
    item: String,
    origin: String,
    finding: String,
    state: String,
    state_code: &'static str,
    identified: String,
    due: String,
    late: bool,
    escalated: bool,
}

#[derive(Template)]
#[template(path = "critical_values.html")]
struct CriticalPage {
    chrome: Chrome,
    rows: Vec<CriticalLine>,
    manager: bool,
}

/// GET /critical-values: the open critical values (危急值未闭环).
pub async fn criticals(State(ctx): State<AppState>, signed: Signed) -> Response {
    let s = &signed.session;
    let list = match reading::open_criticals(&ctx, &s.actor).await {
        Ok(l) => l,
        Err(e) => return error_page(&ctx, s, signed.lang, &signed.path, e).await,
    };
    let chrome = chrome(&ctx, Some(s), signed.lang, &signed.path, "criticals").await;
    let t = chrome.t;
    let manager = role_permits(s.actor.role, Permission::IndicatorRead);
    let rows = list
        .iter()
        .map(|r| CriticalLine {
            id: r.critical.id.to_string(),
            order_id: r.critical.order_id.to_string(),
            accession: r.accession_no.clone(),
            item: r.item_name.clone(),
            origin: r.origin_name.clone(),
            // Managers see counts and places, not findings.
            finding: if manager { String::new() } else { r.critical.finding.clone() },
            state: label(t, "critical_state", r.critical.state.as_str()),
            state_code: r.critical.state.as_str(),
            identified: short_time(t, r.critical.identified_at),
            due: short_time(t, r.acknowledge_due),
            late: r.late,
            escalated: r.critical.escalated_at.is_some(),
        })
        .collect();
    render(StatusCode::OK, &CriticalPage { chrome, rows, manager })
}

/// What a critical value's forms post.
#[derive(Deserialize, Default)]
pub struct CriticalForm {
    #[serde(default, rename = "_csrf")]
    csrf: String,
    #[serde(default)]
    read_back: String,
    #[serde(default)]
    disposition: String,
    #[serde(default)]
    note: String,
    /// The item page to go back to.
    #[serde(default)]
    order: String,
}

/// POST /critical-values/{id}/{step}: acknowledge, dispose or close (ordering site).
pub async fn critical_act(
    State(ctx): State<AppState>,
    signed: Signed,
    Path((id, step)): Path<(Uuid, String)>,
    Form(form): Form<CriticalForm>,
) -> Response {
    let s = &signed.session;
    if !csrf_ok(s, &form.csrf) {
        return error_page(&ctx, s, signed.lang, &signed.path, AppError::Forbidden { code: "csrf_failed" })
            .await;
    }
    let action = match step.as_str() {
        "acknowledge" => CriticalAction::Acknowledge { read_back: form.read_back.clone() },
        "dispose" => match Disposition::parse(&form.disposition) {
            Some(d) => CriticalAction::Dispose { disposition: d, note: Some(form.note.clone()) },
            None => {
                let e = yigong_domain::Invalid::one("disposition", "required", "what was done is required");
                return error_page(&ctx, s, signed.lang, &signed.path, e.into()).await;
            }
        },
        "close" => CriticalAction::Close,
        _ => return error_page(&ctx, s, signed.lang, &signed.path, AppError::not_found("action")).await,
    };
    let back = Uuid::parse_str(&form.order).ok();
    match reading::act_on_critical(&ctx, &s.actor, id, action).await {
        Ok(c) => Redirect::to(&format!("/exams/{}?done=critical_{step}", back.unwrap_or(c.order_id)))
            .into_response(),
        Err(e @ (AppError::Invalid(_) | AppError::Transition { .. })) if back.is_some() => {
            let t = Tr { lang: signed.lang };
            match reading::get(&ctx, &s.actor, back.expect("checked")).await {
                Ok(v) => {
                    let page = detail_page(&ctx, &signed, v, Some(error_text(t, &e)), None, "").await;
                    render(StatusCode::UNPROCESSABLE_ENTITY, &page)
                }
                Err(e) => error_page(&ctx, s, signed.lang, &signed.path, e).await,
            }
        }
        Err(e) => error_page(&ctx, s, signed.lang, &signed.path, e).await,
    }
}

// ---- metrics ----

struct Bar {
    x: i64,
    y: i64,
    w: i64,
    h: i64,
    class: &'static str,
    title: String,
}

struct TurnRow {
    centre: String,
    origin: String,
    received: String,
    reported: String,
    median: String,
    on_time: String,
    low: bool,
}

#[derive(Template)]
#[template(path = "reading_metrics.html")]
struct MetricsPage {
    chrome: Chrome,
    from: String,
    to: String,
    turnaround: Vec<TurnRow>,
    overdue: Vec<(String, String)>,
    bars: Vec<Bar>,
    ticks: Vec<(i64, String)>,
    legend: Vec<(&'static str, String)>,
    max: String,
    critical_count: String,
    critical_open: String,
    critical_median: String,
    critical_on_time: String,
    recognition: Vec<(String, String, String, String, String, String)>,
    recognition_total: (String, String, String, String),
}

/// The metrics' query.
#[derive(Deserialize, Default)]
pub struct MetricsQuery {
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
}

/// GET /reading/metrics
pub async fn metrics_page(
    State(ctx): State<AppState>,
    signed: Signed,
    Query(q): Query<MetricsQuery>,
) -> Response {
    let s = &signed.session;
    let now: DateTime<Utc> = ctx.clock.now();
    let (from, to, start, end) = match crate::routes::exams::period(q.from, q.to, now) {
        Ok(p) => p,
        Err(_) => {
            let e = yigong_domain::Invalid::one("from", "bad_period", "from must be before to");
            return error_page(&ctx, s, signed.lang, &signed.path, e.into()).await;
        }
    };
    let m = match reading::metrics(&ctx, &s.actor, start, end).await {
        Ok(m) => m,
        Err(e) => return error_page(&ctx, s, signed.lang, &signed.path, e).await,
    };
    let chrome = chrome(&ctx, Some(s), signed.lang, &signed.path, "reading").await;
    let t = chrome.t;
    let turnaround = m
        .turnaround
        .iter()
        .map(|((centre, grassroots), r)| TurnRow {
            centre: label(t, "centre", centre.as_str()),
            origin: t
                .get(if *grassroots { "reading.metrics.grassroots" } else { "reading.metrics.county" })
                .to_owned(),
            received: t.number(r.received as i64),
            reported: t.number(r.reported as i64),
            median: super::referral::minutes(r.median_minutes),
            on_time: percent(r.on_time.percent()),
            low: r.on_time.percent().is_some_and(|p| p < 90.0),
        })
        .collect();
    // Items received per month, one bar per centre side by side.
    let months: Vec<&String> = {
        let mut v: Vec<&String> = m.monthly.keys().map(|(month, _)| month).collect();
        v.dedup();
        v
    };
    let max = m.monthly.values().copied().max().unwrap_or(0).max(1);
    let slot = if months.is_empty() { 600 } else { 600 / months.len() as i64 };
    let bar_w = (slot / (Centre::ALL.len() as i64 + 1)).max(2);
    let mut bars = Vec::new();
    let mut ticks = Vec::new();
    for (i, month) in months.iter().enumerate() {
        let x0 = 24 + i as i64 * slot;
        ticks.push((x0, month[5..].to_owned()));
        for (k, centre) in Centre::ALL.iter().enumerate() {
            let n = m.monthly.get(&((*month).clone(), *centre)).copied().unwrap_or(0);
            let h = (n as i64 * 140) / max as i64;
            bars.push(Bar {
                x: x0 + k as i64 * bar_w,
                y: 160 - h,
                w: bar_w - 1,
                h,
                class: centre.as_str(),
                title: format!("{month} {} {n}", label(t, "centre", centre.as_str())),
            });
        }
    }
    let recognition = m
        .recognition
        .iter()
        .map(|r| {
            (
                r.month.clone(),
                r.institution_name.clone(),
                t.number(r.tally.recognised as i64),
                t.number(r.tally.repeated as i64),
                percent(r.tally.rate().percent()),
                yuan(r.tally.avoided_fen),
            )
        })
        .collect();
    let total = &m.recognition_total;
    let page = MetricsPage {
        from: from.to_string(),
        to: to.to_string(),
        turnaround,
        overdue: m.overdue_now.iter().map(|(c, n)| (label(t, "centre", c.as_str()), t.number(*n))).collect(),
        bars,
        ticks,
        legend: Centre::ALL.iter().map(|c| (c.as_str(), label(t, "centre", c.as_str()))).collect(),
        max: t.number(max as i64),
        critical_count: t.number(m.critical_count as i64),
        critical_open: t.number(m.critical_open as i64),
        critical_median: super::referral::minutes(m.critical_median_ack),
        critical_on_time: percent(m.critical_ack_on_time.percent()),
        recognition,
        recognition_total: (
            t.number(total.recognised as i64),
            t.number(total.repeated as i64),
            percent(total.rate().percent()),
            yuan(total.avoided_fen),
        ),
        chrome,
    };
    render(StatusCode::OK, &page)
}

/// Whether the actor orders exams (clinicians acting for an institution).
pub fn orders_exams(role: Role, has_institution: bool) -> bool {
    role_permits(role, Permission::PatientWrite) && has_institution && role != Role::Reader
}

#[cfg(test)]
mod tests {
    use yigong_domain::reading::{
        Centre, CriticalState, Disposition, ExamKind, ItemState, ItemTransition, Party, QualityReason,
        RetestGround, SpecimenStep, Urgency,
    };

    use super::super::{Lang, Tr};

    /// Every value of the reading vocabularies has a label in both languages.
    #[test]
    fn every_reading_vocabulary_value_has_a_label() {
        let mut keys: Vec<String> = Vec::new();
        let mut add =
            |group: &str, codes: Vec<&str>| keys.extend(codes.iter().map(|c| format!("reading.{group}.{c}")));
        add("state", ItemState::ALL.iter().map(|v| v.as_str()).collect());
        add("kind", ExamKind::ALL.iter().map(|v| v.as_str()).collect());
        add("centre", Centre::ALL.iter().map(|v| v.as_str()).collect());
        add("urgency", Urgency::ALL.iter().map(|v| v.as_str()).collect());
        add("transition", ItemTransition::ALL.iter().map(|v| v.as_str()).collect());
        add("party", Party::ALL.iter().map(|v| v.as_str()).collect());
        add("critical_state", CriticalState::ALL.iter().map(|v| v.as_str()).collect());
        add("disposition", Disposition::ALL.iter().map(|v| v.as_str()).collect());
        add("ground", RetestGround::ALL.iter().map(|v| v.as_str()).collect());
        add("specimen", SpecimenStep::ALL.iter().map(|v| v.as_str()).collect());
        add("quality", QualityReason::ALL.iter().map(|v| v.as_str()).collect());
        add("report_status", vec!["preliminary", "final", "amended"]);
        for lang in [Lang::ZhCn, Lang::En] {
            let t = Tr { lang };
            let missing: Vec<_> = keys.iter().filter(|k| !t.has(k)).collect();
            assert!(missing.is_empty(), "{lang:?}: {missing:?}");
        }
    }
}
