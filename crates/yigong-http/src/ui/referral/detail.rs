//! One referral: the slip, the trail, one small form per transition the viewer may perform,
//! the follow-up task, and for green referrals the time-stamp chain with the case's metrics.

use std::collections::HashMap;

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use uuid::Uuid;
use yigong_app::AppError;
use yigong_app::referral::{self, Change, ReferralView};
use yigong_domain::Invalid;
use yigong_domain::ids::{DepartmentId, InstitutionId};
use yigong_domain::referral::green::{Bound, Milestone, StampSource};
use yigong_domain::referral::{
    CancelReason, Direction, DownwardDetails, NoDownReason, Outcome, Party, RejectReason, SlipTest,
    State as RState, Transition,
};

use super::super::mpi_labels::{masked_id, masked_phone, sex_label};
use super::super::pages::FormField;
use super::super::{Chrome, Signed, Tr, chrome, csrf_ok, error_page, render};
use super::{
    age, all_institutions, departments, error_text, label, level, local_input, names_of, parse_local,
    reason_label, staff_name,
};
use crate::AppState;

/// The slip's content as stored.
#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct SlipContent {
    pub chief_complaint: Option<String>,
    pub condition: Option<String>,
    pub diagnoses: Vec<Diagnosis>,
    pub tests: Vec<SlipTest>,
    pub treatment: Option<String>,
    pub precautions: Option<String>,
    pub downward: Option<DownwardDetails>,
}

/// One diagnosis of the slip.
#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct Diagnosis {
    pub code: String,
    pub name: String,
}

/// The slip of a referral.
pub(super) fn slip_of(view: &ReferralView) -> SlipContent {
    serde_json::from_value(view.referral.slip.clone()).unwrap_or_default()
}

struct EventLine {
    at: String,
    what: String,
    states: String,
    who: String,
    detail: String,
}

/// One transition's form.
struct ActionForm {
    action: &'static str,
    button: String,
    fields: Vec<FormField>,
    error: Option<String>,
    danger: bool,
}

struct StampLine {
    milestone: String,
    at: String,
    source: String,
}

struct MetricLine {
    label: String,
    value: String,
    target: String,
    /// `ok`, `bad` or `none`.
    verdict: &'static str,
    mark: &'static str,
}

struct GreenPanel {
    centre: String,
    stamps: Vec<StampLine>,
    metrics: Vec<MetricLine>,
    warnings: Vec<String>,
    /// The stamp form when the viewer works on either side.
    fields: Vec<FormField>,
    error: Option<String>,
}

struct FollowUpPanel {
    id: String,
    due: String,
    overdue: bool,
    state: String,
    done: Option<String>,
    note: Option<String>,
    can_complete: bool,
}

#[derive(Template)]
#[template(path = "referral_detail.html")]
struct DetailPage {
    chrome: Chrome,
    id: String,
    slip_no: String,
    heading: String,
    state: String,
    state_code: &'static str,
    priority: String,
    priority_code: &'static str,
    direction: String,
    escalation: Option<String>,
    notice: Option<String>,
    refusal: Option<String>,
    patient: Vec<(String, String)>,
    person: Option<String>,
    route: Vec<(String, String)>,
    clinical: Vec<(String, String)>,
    diagnoses: Vec<(String, String)>,
    tests: Vec<(String, String, String)>,
    downward: Vec<(String, String)>,
    events: Vec<EventLine>,
    forms: Vec<ActionForm>,
    version: i32,
    down_link: Option<String>,
    parent: Option<String>,
    children: Vec<(String, String, String)>,
    follow_up: Option<FollowUpPanel>,
    green: Option<GreenPanel>,
}

/// What the page was sent back with.
#[derive(Deserialize, Default)]
pub struct DetailQuery {
    #[serde(default)]
    done: String,
    #[serde(default)]
    stale: String,
}

/// A form that did not go through, to show beside itself.
struct Attempt {
    action: String,
    values: HashMap<String, String>,
    invalid: Option<Invalid>,
    message: Option<String>,
}

/// GET /referrals/{id}.
pub async fn detail(
    State(ctx): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
    Query(q): Query<DetailQuery>,
) -> Response {
    let Ok(id) = Uuid::parse_str(&id) else {
        return error_page(&ctx, &signed.session, signed.lang, &signed.path, AppError::not_found("referral"))
            .await;
    };
    detail_page(&ctx, &signed, id, &q, None).await
}

fn value<'a>(values: &'a HashMap<String, String>, name: &str) -> &'a str {
    values.get(name).map_or("", |v| v.trim())
}

fn opt(values: &HashMap<String, String>, name: &str) -> Option<String> {
    Some(value(values, name).to_owned()).filter(|v| !v.is_empty())
}

/// POST /referrals/{id}/{action}: one transition, or a green time stamp; back to the page.
pub async fn act(
    State(ctx): State<AppState>,
    signed: Signed,
    Path((id, action)): Path<(String, String)>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let s = &signed.session;
    let values: HashMap<String, String> = pairs.into_iter().collect();
    if !csrf_ok(s, value(&values, "_csrf")) {
        return error_page(&ctx, s, signed.lang, &signed.path, AppError::Forbidden { code: "csrf_failed" })
            .await;
    }
    let Ok(id) = Uuid::parse_str(&id) else {
        return error_page(&ctx, s, signed.lang, &signed.path, AppError::not_found("referral")).await;
    };
    let result = if action == "stamp" {
        stamp(&ctx, &s.actor, id, &values).await
    } else {
        match Transition::parse(&action) {
            Some(tr) => match change_of(&values) {
                Ok(change) => referral::transition(&ctx, &s.actor, s.actor.consortium_id, id, tr, change)
                    .await
                    .map(|_| ()),
                Err(invalid) => Err(invalid.into()),
            },
            None => Err(AppError::not_found("page")),
        }
    };
    let t = Tr { lang: signed.lang };
    let attempt = match result {
        Ok(()) => return Redirect::to(&format!("/referrals/{id}?done={action}")).into_response(),
        Err(AppError::Conflict { rule: "referral_stale" }) => {
            return Redirect::to(&format!("/referrals/{id}?stale=1")).into_response();
        }
        Err(AppError::Invalid(invalid)) => Attempt { action, values, invalid: Some(invalid), message: None },
        Err(AppError::Transition { code, message, state, allowed }) => {
            let mut text = error_text(t, code, &message);
            if let Some(st) = state {
                text.push(' ');
                text.push_str(&t.fmt("referral.now_state", &[("state", &label(t, "state", st))]));
            }
            if !allowed.is_empty() {
                let names: Vec<String> = allowed.iter().map(|a| label(t, "transition", a)).collect();
                text.push(' ');
                text.push_str(&t.fmt("referral.allowed_now", &[("list", &names.join("、"))]));
            }
            Attempt { action, values, invalid: None, message: Some(text) }
        }
        Err(e) => return error_page(&ctx, s, signed.lang, &signed.path, e).await,
    };
    detail_page(&ctx, &signed, id, &DetailQuery::default(), Some(attempt)).await
}

/// The change a transition form carries.
fn change_of(values: &HashMap<String, String>) -> Result<Change, Invalid> {
    let mut bad = Invalid::default();
    let uuid = |name: &str| Uuid::parse_str(value(values, name)).ok();
    let slot_at = match opt(values, "slot_at") {
        Some(s) => match parse_local(&s) {
            Some(at) => Some(at),
            None => {
                bad.push("slot_at", "datetime_invalid", "date and time as YYYY-MM-DDTHH:MM");
                None
            }
        },
        None => None,
    };
    let change = Change {
        version: value(values, "version").parse().unwrap_or(0),
        department_id: uuid("department_id").map(DepartmentId::from_uuid),
        slot_at,
        slot_text: opt(values, "slot_text"),
        reason: opt(values, "reason"),
        note: opt(values, "note"),
        institution_id: uuid("institution_id").map(InstitutionId::from_uuid),
        outcome: opt(values, "outcome"),
        external_institution: opt(values, "external_institution"),
        external_reference: opt(values, "external_reference"),
    };
    bad.into_result(change)
}

async fn stamp(
    ctx: &yigong_app::Ctx,
    actor: &yigong_domain::access::Actor,
    id: Uuid,
    values: &HashMap<String, String>,
) -> Result<(), AppError> {
    let mut bad = Invalid::default();
    let milestone = Milestone::parse(value(values, "milestone"));
    if milestone.is_none() {
        bad.push("milestone", "required", "choose the milestone");
    }
    let at = parse_local(value(values, "at"));
    if at.is_none() {
        bad.push("at", "datetime_invalid", "date and time as YYYY-MM-DDTHH:MM");
    }
    let source = StampSource::parse(value(values, "source")).unwrap_or(StampSource::Manual);
    let (Some(milestone), Some(at)) = (milestone, at) else { return Err(bad.into()) };
    referral::record_stamp(ctx, actor, id, milestone, at, source).await.map(|_| ())
}

fn select(
    name: &'static str,
    label: &str,
    value: &str,
    options: Vec<(String, String)>,
    prefix: &str,
) -> FormField {
    FormField::new(name, label, "select", value).options(options).id_prefix(prefix)
}

fn choose(t: Tr) -> (String, String) {
    (String::new(), t.get("referral.choose").to_owned())
}

/// The forms of the transitions the viewer may perform now.
#[allow(clippy::too_many_arguments)]
async fn action_forms(
    ctx: &yigong_app::Ctx,
    actor: &yigong_domain::access::Actor,
    t: Tr,
    view: &ReferralView,
    institutions: &[yigong_domain::facility::Institution],
    attempt: Option<&Attempt>,
    now: chrono::DateTime<chrono::Utc>,
) -> Vec<ActionForm> {
    let r = &view.referral;
    let mut forms = Vec::new();
    for &tr in &view.allowed {
        let code = tr.as_str();
        let mine = attempt.filter(|a| a.action == code);
        let v = |name: &str, default: &str| -> String {
            mine.map_or_else(|| default.to_owned(), |a| value(&a.values, name).to_owned())
        };
        let prefix = format!("t-{code}");
        let note = || {
            FormField::new("note", t.get("referral.field.note"), "text", &v("note", "")).id_prefix(&prefix)
        };
        let mut fields = Vec::new();
        let mut danger = false;
        match tr {
            Transition::Submit | Transition::Arrive | Transition::StartCare => {}
            Transition::Accept => {
                let mut options = vec![choose(t)];
                if let Some(to) = r.to_institution_id {
                    options.extend(departments(ctx, actor, to).await.unwrap_or_default());
                }
                let current = r.to_department_id.map(|d| d.to_string()).unwrap_or_default();
                fields.push(
                    select(
                        "department_id",
                        t.get("referral.field.accept_department"),
                        &v("department_id", &current),
                        options,
                        &prefix,
                    )
                    .required(),
                );
                fields.push(note());
            }
            Transition::Reject => {
                danger = true;
                let mut options = vec![choose(t)];
                options.extend(
                    RejectReason::ALL.iter().map(|x| (x.as_str().to_owned(), label(t, "reject", x.as_str()))),
                );
                fields.push(
                    select(
                        "reason",
                        t.get("referral.field.reject_reason"),
                        &v("reason", ""),
                        options,
                        &prefix,
                    )
                    .required(),
                );
                fields.push(note());
            }
            Transition::Redirect => {
                let from_level = institutions.iter().find(|i| i.id == r.from_institution_id).and_then(level);
                let mut options = vec![choose(t)];
                options.extend(
                    institutions
                        .iter()
                        .filter(|i| {
                            Some(i.id) != r.to_institution_id
                                && i.id != r.from_institution_id
                                && match (r.direction, level(i)) {
                                    (Direction::Upward, Some(l)) => {
                                        l == 2 || from_level.is_some_and(|f| l > f)
                                    }
                                    (Direction::Downward, Some(l)) => l == 1,
                                    (_, None) => false,
                                }
                        })
                        .map(|i| (i.id.to_string(), i.name.clone())),
                );
                fields.push(
                    select(
                        "institution_id",
                        t.get("referral.field.redirect_to"),
                        &v("institution_id", ""),
                        options,
                        &prefix,
                    )
                    .required(),
                );
                fields.push(note());
            }
            Transition::Schedule | Transition::Reschedule => {
                let tomorrow = (now + chrono::Duration::days(1)).with_timezone(&super::china());
                let nine = tomorrow.date_naive().and_hms_opt(9, 0, 0).expect("valid time");
                let default =
                    r.slot_at.map(local_input).unwrap_or_else(|| nine.format("%Y-%m-%dT%H:%M").to_string());
                fields.push(
                    FormField::new(
                        "slot_at",
                        t.get("referral.field.slot_at"),
                        "datetime-local",
                        &v("slot_at", &default),
                    )
                    .required()
                    .id_prefix(&prefix),
                );
                let slot_text = r.slot_text.clone().unwrap_or_default();
                fields.push(
                    FormField::new(
                        "slot_text",
                        t.get("referral.field.slot_text"),
                        "text",
                        &v("slot_text", &slot_text),
                    )
                    .hint(t.get("referral.field.slot_text_hint"))
                    .id_prefix(&prefix),
                );
            }
            Transition::Complete => {
                let mut options = vec![choose(t)];
                options.extend(
                    Outcome::ALL.iter().map(|x| (x.as_str().to_owned(), label(t, "outcome", x.as_str()))),
                );
                fields.push(
                    select("outcome", t.get("referral.field.outcome"), &v("outcome", ""), options, &prefix)
                        .required(),
                );
                fields.push(note());
            }
            Transition::Close => {
                let mut options = vec![choose(t)];
                options.extend(
                    NoDownReason::ALL
                        .iter()
                        .map(|x| (x.as_str().to_owned(), label(t, "no_down", x.as_str()))),
                );
                fields.push(
                    select(
                        "reason",
                        t.get("referral.field.no_down_reason"),
                        &v("reason", ""),
                        options,
                        &prefix,
                    )
                    .required(),
                );
                fields.push(note());
            }
            Transition::Cancel => {
                danger = true;
                let mut options = vec![choose(t)];
                options.extend(
                    CancelReason::ALL
                        .iter()
                        .filter(|x| **x != CancelReason::SupersededByGreen)
                        .map(|x| (x.as_str().to_owned(), label(t, "cancel", x.as_str()))),
                );
                fields.push(
                    select(
                        "reason",
                        t.get("referral.field.cancel_reason"),
                        &v("reason", ""),
                        options,
                        &prefix,
                    )
                    .required(),
                );
                fields.push(note());
            }
            Transition::SendOut => {
                let ext = r.external_institution.clone().unwrap_or_default();
                fields.push(
                    FormField::new(
                        "external_institution",
                        t.get("referral.field.external_institution"),
                        "text",
                        &v("external_institution", &ext),
                    )
                    .required()
                    .id_prefix(&prefix),
                );
                fields.push(
                    FormField::new(
                        "external_reference",
                        t.get("referral.field.external_reference"),
                        "text",
                        &v("external_reference", ""),
                    )
                    .id_prefix(&prefix),
                );
            }
            Transition::Expire | Transition::MarkNoShow => continue,
        }
        let error = mine.and_then(|a| mark_attempt(t, a, &mut fields));
        forms.push(ActionForm { action: code, button: label(t, "transition", code), fields, error, danger });
    }
    forms
}

/// Marks the fields of a failed attempt; returns the message above its form.
fn mark_attempt(t: Tr, a: &Attempt, fields: &mut [FormField]) -> Option<String> {
    if let Some(m) = &a.message {
        return Some(m.clone());
    }
    let invalid = a.invalid.as_ref()?;
    let mut unplaced = Vec::new();
    for e in &invalid.fields {
        let text = error_text(t, e.code, &e.message);
        match fields.iter_mut().find(|f| f.name == e.field) {
            Some(f) if f.error.is_none() => f.error = Some(text),
            Some(_) => {}
            None => unplaced.push(text),
        }
    }
    let mut summary = t.get("error.invalid_input").to_owned();
    for u in unplaced {
        summary.push(' ');
        summary.push_str(&u);
    }
    Some(summary)
}

fn opt_fact(out: &mut Vec<(String, String)>, label: &str, value: Option<String>) {
    if let Some(v) = value.filter(|v| !v.trim().is_empty()) {
        out.push((label.to_owned(), v));
    }
}

async fn detail_page(
    ctx: &yigong_app::Ctx,
    signed: &Signed,
    id: Uuid,
    q: &DetailQuery,
    attempt: Option<Attempt>,
) -> Response {
    let s = &signed.session;
    let actor = &s.actor;
    let path = format!("/referrals/{id}");
    let view = match referral::get(ctx, actor, id).await {
        Ok(v) => v,
        Err(e) => return error_page(ctx, s, signed.lang, &path, e).await,
    };
    let institutions = match all_institutions(ctx, actor).await {
        Ok(l) => l,
        Err(e) => return error_page(ctx, s, signed.lang, &path, e).await,
    };
    let names = names_of(&institutions);
    let mut chrome = chrome(ctx, Some(s), signed.lang, &path, "referrals").await;
    let t = chrome.t;
    let today = ctx.today();
    let now = ctx.clock.now();
    let r = &view.referral;
    if !q.done.is_empty() {
        let key = format!("referral.done.{}", q.done);
        if t.has(&key) {
            chrome.flash = Some(t.get(&key).to_owned());
        }
    }
    let notice = (q.stale == "1").then(|| t.get("referral.stale").to_owned());
    let inst_name = |i: Option<InstitutionId>| i.and_then(|i| names.get(&i).cloned());
    let mut dept_names: HashMap<InstitutionId, Vec<(String, String)>> = HashMap::new();
    for i in [Some(r.from_institution_id), r.to_institution_id].into_iter().flatten() {
        if let std::collections::hash_map::Entry::Vacant(e) = dept_names.entry(i) {
            e.insert(departments(ctx, actor, i).await.unwrap_or_default());
        }
    }
    let dept = |i: Option<InstitutionId>, d: Option<DepartmentId>| -> Option<String> {
        let d = d?.to_string();
        dept_names.get(&i?)?.iter().find(|(id, _)| *id == d).map(|(_, n)| n.clone())
    };
    let with_dept = |i: Option<InstitutionId>, d: Option<DepartmentId>| -> Option<String> {
        let name = inst_name(i)?;
        Some(match dept(i, d) {
            Some(d) => format!("{name} · {d}"),
            None => name,
        })
    };
    // The patient.
    let values = view.patient.as_ref().map(|p| &p.values);
    let name = values.and_then(|v| v.name.clone());
    let mut patient = Vec::new();
    opt_fact(&mut patient, t.get("referral.field.name"), name.clone());
    opt_fact(
        &mut patient,
        t.get("referral.field.sex"),
        Some(sex_label(t, values.and_then(|v| v.sex.as_deref()))),
    );
    if let Some(b) = values.and_then(|v| v.birth_date.clone()) {
        let a = age(Some(&b), today).map(|a| t.fmt("referral.age_years", &[("n", &a.to_string())]));
        patient.push((
            t.get("referral.field.birth_date").to_owned(),
            match a {
                Some(a) => format!("{b} ({a})"),
                None => b,
            },
        ));
    }
    opt_fact(
        &mut patient,
        t.get("referral.field.resident_id"),
        Some(masked_id(values.and_then(|v| v.resident_id.as_deref()), today)),
    );
    opt_fact(
        &mut patient,
        t.get("referral.field.phone"),
        Some(masked_phone(values.and_then(|v| v.phone.as_deref()))),
    );
    // Where it goes.
    let mut route = Vec::new();
    opt_fact(
        &mut route,
        t.get("referral.field.from"),
        with_dept(Some(r.from_institution_id), r.from_department_id),
    );
    if let Some((n, title)) = staff_name(ctx, actor, r.from_staff_id).await {
        route.push((
            t.get("referral.field.clinician").to_owned(),
            if title.is_empty() { n } else { format!("{n} ({title})") },
        ));
    }
    let to = with_dept(r.to_institution_id, r.to_department_id).or_else(|| r.external_institution.clone());
    opt_fact(&mut route, t.get("referral.field.to"), to);
    if r.lateral {
        route.push((t.get("referral.field.lateral").to_owned(), t.get("page.yes").to_owned()));
    }
    opt_fact(&mut route, t.get("referral.field.external_reference"), r.external_reference.clone());
    route.push((t.get("referral.field.created_at").to_owned(), t.datetime(r.created_at)));
    opt_fact(&mut route, t.get("referral.field.submitted_at"), r.submitted_at.map(|x| t.datetime(x)));
    opt_fact(&mut route, t.get("referral.field.sla_due"), r.sla_due.map(|x| t.datetime(x)));
    opt_fact(&mut route, t.get("referral.field.accepted_at"), r.accepted_at.map(|x| t.datetime(x)));
    if let Some(slot) = r.slot_at {
        let text = r.slot_text.clone().map(|s| format!(" · {s}")).unwrap_or_default();
        route.push((t.get("referral.field.slot_at").to_owned(), format!("{}{text}", t.datetime(slot))));
    }
    opt_fact(&mut route, t.get("referral.field.arrived_at"), r.arrived_at.map(|x| t.datetime(x)));
    if let Some(c) = r.completed_at {
        let outcome =
            r.outcome.map(|o| format!(" · {}", label(t, "outcome", o.as_str()))).unwrap_or_default();
        route.push((t.get("referral.field.completed_at").to_owned(), format!("{}{outcome}", t.datetime(c))));
    }
    if let Some(c) = r.closed_at {
        let how = match (r.closed_loop, r.no_down_reason) {
            (_, Some(n)) => label(t, "no_down", n.as_str()),
            (Some(true), None) => t.get("referral.closed_by_rule").to_owned(),
            _ => String::new(),
        };
        let shown = if how.is_empty() { t.datetime(c) } else { format!("{} · {how}", t.datetime(c)) };
        route.push((t.get("referral.field.closed_at").to_owned(), shown));
    }
    // The slip.
    let slip = slip_of(&view);
    let mut clinical = Vec::new();
    let reason = match &r.reason_text {
        Some(text) => format!("{} · {text}", reason_label(t, &r.reason)),
        None => reason_label(t, &r.reason),
    };
    clinical.push((t.get("referral.field.reason").to_owned(), reason));
    opt_fact(&mut clinical, t.get("referral.field.chief_complaint"), slip.chief_complaint.clone());
    opt_fact(&mut clinical, t.get("referral.field.condition"), slip.condition.clone());
    opt_fact(&mut clinical, t.get("referral.field.treatment"), slip.treatment.clone());
    opt_fact(&mut clinical, t.get("referral.field.precautions"), slip.precautions.clone());
    if let Some(c) = r.green_centre {
        clinical.push((t.get("referral.field.green_centre").to_owned(), label(t, "centre", c.as_str())));
    }
    if let Some((class, until)) = referral::certificate_expiry(r) {
        let no = r.certificate_no.clone().map(|n| format!("{n} · ")).unwrap_or_default();
        let mut shown = format!(
            "{no}{} · {}",
            label(t, "certificate", class.as_str()),
            t.fmt("referral.valid_until", &[("date", &t.date(until))])
        );
        if today > until {
            shown.push_str(&format!(" · {}", t.get("referral.certificate_expired")));
        }
        clinical.push((t.get("referral.field.certificate").to_owned(), shown));
    }
    clinical.push((
        t.get("referral.field.consent").to_owned(),
        t.get(if r.consent { "page.yes" } else { "page.no" }).to_owned(),
    ));
    let diagnoses = slip.diagnoses.iter().map(|d| (d.code.clone(), d.name.clone())).collect();
    let tests = slip
        .tests
        .iter()
        .map(|x| (x.name.clone(), x.result.clone(), x.date.map(|d| t.date(d)).unwrap_or_default()))
        .collect();
    let mut downward = Vec::new();
    if let Some(d) = &slip.downward {
        opt_fact(&mut downward, t.get("referral.field.treatment_result"), Some(d.treatment_result.clone()));
        opt_fact(&mut downward, t.get("referral.field.discharge_summary"), Some(d.discharge_summary.clone()));
        opt_fact(
            &mut downward,
            t.get("referral.field.rehabilitation_advice"),
            d.rehabilitation_advice.clone(),
        );
        opt_fact(&mut downward, t.get("referral.field.medication_plan"), d.medication_plan.clone());
        downward.push((t.get("referral.field.discharged_on").to_owned(), t.date(d.discharged_on)));
        if d.high_risk {
            downward.push((t.get("referral.field.high_risk").to_owned(), t.get("page.yes").to_owned()));
        }
    }
    // The trail.
    let mut staff: HashMap<yigong_domain::ids::StaffId, String> = HashMap::new();
    let mut events = Vec::with_capacity(view.events.len());
    for e in &view.events {
        let mut who = Vec::new();
        if e.party == Party::System {
            who.push(label(t, "party", "system"));
        } else {
            if let Some(sid) = e.staff_id {
                if let std::collections::hash_map::Entry::Vacant(v) = staff.entry(sid) {
                    v.insert(staff_name(ctx, actor, Some(sid)).await.map(|(n, _)| n).unwrap_or_default());
                }
                who.extend(staff.get(&sid).cloned().filter(|n| !n.is_empty()));
            }
            if let Some(role) = &e.role {
                who.push(t.get(&format!("role.{role}")).to_owned());
            }
            who.extend(inst_name(e.institution_id));
            who.push(label(t, "party", e.party.as_str()));
        }
        let mut detail = Vec::new();
        if let Some(reason) = &e.reason {
            detail.push(reason_label(t, reason));
        }
        if let Some(at) = e.payload.get("slot_at").and_then(|v| v.as_str()).and_then(|s| s.parse().ok()) {
            detail.push(t.datetime(at));
        }
        if let Some(text) = e.payload.get("slot_text").and_then(|v| v.as_str()) {
            detail.push(text.to_owned());
        }
        if let Some(i) = e
            .payload
            .get("institution_id")
            .and_then(|v| v.as_str())
            .and_then(|s| Uuid::parse_str(s).ok())
            .map(InstitutionId::from_uuid)
        {
            detail.extend(inst_name(Some(i)).map(|n| format!("→ {n}")));
        }
        if let Some(ext) = e.payload.get("external_institution").and_then(|v| v.as_str()) {
            detail.push(format!("→ {ext}"));
        }
        if e.payload.get("certificate_expired").is_some() {
            detail.push(t.get("referral.certificate_expired").to_owned());
        }
        if let Some(n) = &e.note {
            detail.push(n.clone());
        }
        events.push(EventLine {
            at: t.datetime(e.at),
            what: e
                .transition
                .map_or_else(|| t.get("referral.created").to_owned(), |x| label(t, "transition", x.as_str())),
            states: if e.from_state == e.to_state {
                label(t, "state", e.to_state.as_str())
            } else {
                format!(
                    "{} → {}",
                    label(t, "state", e.from_state.as_str()),
                    label(t, "state", e.to_state.as_str())
                )
            },
            who: who.join(" · "),
            detail: detail.join(" · "),
        });
    }
    let forms = action_forms(ctx, actor, t, &view, &institutions, attempt.as_ref(), now).await;
    let refusal = attempt.as_ref().filter(|a| !forms.iter().any(|f| f.action == a.action)).and_then(|a| {
        a.message.clone().or_else(|| a.invalid.as_ref().map(|_| t.get("error.invalid_input").to_owned()))
    });
    let receiving =
        view.parties.iter().any(|p| matches!(p, Party::ReceivingClinician | Party::ReceivingCentre));
    let down_link = (r.direction == Direction::Upward
        && matches!(r.state, RState::InCare | RState::Completed)
        && receiving
        && !view.children.iter().any(|c| c.state.is_live()))
    .then(|| format!("/referrals/new?record={}&parent={}", r.patient_record_id, r.id));
    let children = view
        .children
        .iter()
        .map(|c| (c.id.to_string(), c.slip_no.clone(), label(t, "state", c.state.as_str())))
        .collect();
    let follow_up = view.follow_up.as_ref().map(|f| FollowUpPanel {
        id: f.id.to_string(),
        due: t.date(f.due_on),
        overdue: f.state == "open" && f.due_on < today,
        state: label(t, "follow_up_state", &f.state),
        done: f.done_at.map(|d| t.datetime(d)),
        note: f.note.clone(),
        can_complete: f.state == "open" && receiving,
    });
    let green = view.green.as_ref().map(|g| {
        let stamps = g
            .stamps
            .iter()
            .map(|st| StampLine {
                milestone: label(t, "milestone", st.milestone.as_str()),
                at: t.datetime(st.at),
                source: label(t, "source", st.source.as_str()),
            })
            .collect();
        let metrics = g
            .metrics
            .iter()
            .map(|m| {
                let target = m.metric.target.map_or_else(String::new, |(n, bound)| {
                    let key = if bound == Bound::Below {
                        "referral.target_below"
                    } else {
                        "referral.target_at_most"
                    };
                    t.fmt(key, &[("n", &n.to_string())])
                });
                let (verdict, mark) = match m.compliant {
                    Some(true) => ("ok", "✓"),
                    Some(false) => ("bad", "✗"),
                    None => ("none", ""),
                };
                MetricLine {
                    label: label(t, "metric", m.metric.code),
                    value: m.minutes.map_or_else(
                        || "—".to_owned(),
                        |v| t.fmt("referral.minutes", &[("n", &v.to_string())]),
                    ),
                    target,
                    verdict,
                    mark,
                }
            })
            .collect();
        let warnings = g
            .out_of_order
            .iter()
            .map(|o| {
                t.fmt(
                    "referral.out_of_order",
                    &[
                        ("later", &label(t, "milestone", o.later.as_str())),
                        ("earlier", &label(t, "milestone", o.earlier.as_str())),
                    ],
                )
            })
            .collect();
        let mut fields = Vec::new();
        let mut error = None;
        if !view.parties.is_empty() {
            let mine = attempt.as_ref().filter(|a| a.action == "stamp");
            let v = |name: &str, default: &str| -> String {
                mine.map_or_else(|| default.to_owned(), |a| value(&a.values, name).to_owned())
            };
            let mut milestones = vec![choose(t)];
            milestones.extend(
                g.centre.chain().iter().map(|m| (m.as_str().to_owned(), label(t, "milestone", m.as_str()))),
            );
            fields.push(
                select(
                    "milestone",
                    t.get("referral.field.milestone"),
                    &v("milestone", ""),
                    milestones,
                    "stamp",
                )
                .required(),
            );
            fields.push(
                FormField::new(
                    "at",
                    t.get("referral.field.stamp_at"),
                    "datetime-local",
                    &v("at", &local_input(now)),
                )
                .required()
                .id_prefix("stamp"),
            );
            let sources = StampSource::ALL
                .iter()
                .map(|x| (x.as_str().to_owned(), label(t, "source", x.as_str())))
                .collect();
            fields.push(select(
                "source",
                t.get("referral.field.stamp_source"),
                &v("source", "manual"),
                sources,
                "stamp",
            ));
            error = mine.and_then(|a| mark_attempt(t, a, &mut fields));
        }
        GreenPanel { centre: label(t, "centre", g.centre.as_str()), stamps, metrics, warnings, fields, error }
    });
    let status = match &attempt {
        Some(a) if a.invalid.is_some() => StatusCode::UNPROCESSABLE_ENTITY,
        Some(_) => StatusCode::CONFLICT,
        None => StatusCode::OK,
    };
    let heading = t.fmt(
        "referral.detail_heading",
        &[("slip", &r.slip_no), ("name", &name.unwrap_or_else(|| t.get("referral.unnamed").to_owned()))],
    );
    let page = DetailPage {
        id: r.id.to_string(),
        slip_no: r.slip_no.clone(),
        heading,
        state: label(t, "state", r.state.as_str()),
        state_code: r.state.as_str(),
        priority: label(t, "priority", r.priority.as_str()),
        priority_code: r.priority.as_str(),
        direction: label(t, "direction", r.direction.as_str()),
        escalation: (view.escalation != yigong_domain::referral::Escalation::None)
            .then(|| label(t, "escalation", view.escalation.as_str())),
        notice,
        refusal,
        patient,
        person: view.person_id.map(|p| p.to_string()),
        route,
        clinical,
        diagnoses,
        tests,
        downward,
        events,
        forms,
        version: r.version,
        down_link,
        parent: r.parent_id.map(|p| p.to_string()),
        children,
        follow_up,
        green,
        chrome,
    };
    render(status, &page)
}
