//! Two-way referral pages (DESIGN.md §6.1, §7.3): the referral centre's worklist, a referral
//! with its trail and one small form per allowed transition, the new-referral form, the
//! follow-up tasks that close the loop, the printable slip, the metrics with their drill-down
//! and the user's notifications. Every page works without JavaScript; every form carries the
//! session's CSRF token and, for transitions, the version the user saw.

use std::collections::HashMap;

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, NaiveDateTime, TimeZone, Utc};
use serde::Deserialize;
use uuid::Uuid;
use yigong_app::AppError;
use yigong_app::referral::{self, Tab};
use yigong_domain::access::{Actor, Permission, role_permits};
use yigong_domain::facility::{Institution, InstitutionKind, Tier};
use yigong_domain::ids::{InstitutionId, StaffId};
use yigong_domain::page::PageRequest;
use yigong_domain::referral::{Escalation, Priority, State as RState};

use super::mpi_labels::sex_label;
use super::pages::decode_cursor;
use super::{Chrome, Signed, Tr, chrome, csrf_ok, error_page, render};
use crate::AppState;
use crate::page::encode_cursor;

mod detail;
mod form;
mod metrics;
mod slip;

pub use detail::{act, detail};
pub use form::{create, new_form};
pub use metrics::{drill, metrics_page};
pub use slip::slip;

// ---- labels ----

/// The label of a code of one of the referral vocabularies (`state`, `priority`, …); the code
/// itself when the catalogue lacks it (a test keeps that from happening).
pub(super) fn label(t: Tr, group: &str, code: &str) -> String {
    let key = format!("referral.{group}.{code}");
    if t.has(&key) { t.get(&key).to_owned() } else { code.to_owned() }
}

/// A reason code of any list (rejection, cancellation, no-down, up, down).
pub(super) fn reason_label(t: Tr, code: &str) -> String {
    for group in ["reject", "cancel", "no_down", "up_reason", "down_reason"] {
        let key = format!("referral.{group}.{code}");
        if t.has(&key) {
            return t.get(&key).to_owned();
        }
    }
    code.to_owned()
}

/// An error code in the user's language: the referral catalogue first, then the shared one.
pub(super) fn error_text(t: Tr, code: &str, fallback: &str) -> String {
    let key = format!("referral.error.{code}");
    if t.has(&key) { t.get(&key).to_owned() } else { t.error(code, fallback) }
}

/// China time.
pub(super) fn china() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).expect("valid offset")
}

/// An instant as `datetime-local` wants it, in China time.
pub(super) fn local_input(at: DateTime<Utc>) -> String {
    at.with_timezone(&china()).format("%Y-%m-%dT%H:%M").to_string()
}

/// A `datetime-local` value read as China time.
pub(super) fn parse_local(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    let naive = NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M")
        .or_else(|_| NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S"))
        .ok()?;
    china().from_local_datetime(&naive).single().map(|d| d.to_utc())
}

/// A short instant: 11月25日 14:05 / 11-25 14:05, in China time.
pub(super) fn short_time(t: Tr, at: DateTime<Utc>) -> String {
    let local = at.with_timezone(&china());
    match t.lang {
        super::Lang::ZhCn => local.format("%-m月%-d日 %H:%M").to_string(),
        super::Lang::En => local.format("%m-%d %H:%M").to_string(),
    }
}

/// Age in whole years on `today` from a birth date as written (`YYYY-MM-DD`).
pub(super) fn age(birth: Option<&str>, today: NaiveDate) -> Option<i32> {
    let b = NaiveDate::parse_from_str(birth?.trim(), "%Y-%m-%d").ok()?;
    let mut years = today.year() - b.year();
    if (today.month(), today.day()) < (b.month(), b.day()) {
        years -= 1;
    }
    (years >= 0).then_some(years)
}

/// "name · sex · age".
pub(super) fn patient_line(
    t: Tr,
    name: Option<&str>,
    sex: Option<&str>,
    birth: Option<&str>,
    today: NaiveDate,
) -> String {
    let mut parts: Vec<String> = Vec::new();
    parts.push(name.map_or_else(|| t.get("referral.unnamed").to_owned(), str::to_owned));
    let sex = sex_label(t, sex);
    if !sex.is_empty() {
        parts.push(sex);
    }
    if let Some(a) = age(birth, today) {
        parts.push(t.fmt("referral.age_years", &[("n", &a.to_string())]));
    }
    parts.join(" · ")
}

/// The label of a ratio: `87.5%`, or `—` without a denominator (never a fake 0%).
pub(super) fn percent(p: Option<f64>) -> String {
    p.map_or_else(|| "—".to_owned(), |v| format!("{v:.1}%"))
}

/// Minutes as shown: `12`, `12.5`, or `—`.
pub(super) fn minutes(m: Option<f64>) -> String {
    match m {
        Some(v) if (v - v.round()).abs() < 0.05 => format!("{v:.0}"),
        Some(v) => format!("{v:.1}"),
        None => "—".to_owned(),
    }
}

/// Whether the actor works with referrals (clinical roles and referral coordinators acting
/// for an institution).
pub(super) fn works_referrals(actor: &Actor) -> bool {
    role_permits(actor.role, Permission::PatientWrite) && actor.institution_id.is_some()
}

// ---- the registry, as the pages need it ----

/// Every institution of the consortium (the registry is read by everyone who works there).
pub(super) async fn all_institutions(
    ctx: &yigong_app::Ctx,
    actor: &Actor,
) -> Result<Vec<Institution>, AppError> {
    let filter = yigong_app::registry::InstitutionFilter::default();
    let mut out = Vec::new();
    let mut page = PageRequest { size: 500, after: None };
    loop {
        let found =
            yigong_app::registry::list_institutions(ctx, actor, actor.consortium_id, &filter, &page).await?;
        out.extend(found.items);
        match found.next_after {
            Some(a) => page.after = Some(a),
            None => return Ok(out),
        }
    }
}

/// Institution names by id.
pub(super) fn names_of(list: &[Institution]) -> HashMap<InstitutionId, String> {
    list.iter().map(|i| (i.id, i.name.clone())).collect()
}

/// The care level of a member institution: village 0, township 1, county 2.
pub(super) fn level(i: &Institution) -> Option<u8> {
    match i.kind {
        InstitutionKind::Member(t) => Some(match t {
            Tier::VillageClinic
            | Tier::VillageServicePoint
            | Tier::PrivateClinic
            | Tier::CommunityStation => 0,
            Tier::TownshipCentre | Tier::CommunityCentre => 1,
            Tier::CountyGeneral | Tier::CountyTcm | Tier::CountyMch | Tier::CountyOther => 2,
        }),
        InstitutionKind::Agency(_) => None,
    }
}

/// Department names of an institution, clinical ones first.
pub(super) async fn departments(
    ctx: &yigong_app::Ctx,
    actor: &Actor,
    institution: InstitutionId,
) -> Result<Vec<(String, String)>, AppError> {
    let page = PageRequest { size: 200, after: None };
    let found =
        yigong_app::registry::list_departments(ctx, actor, actor.consortium_id, institution, None, &page)
            .await?;
    let mut list: Vec<_> = found.items;
    list.sort_by_key(|d| d.kind != yigong_domain::facility::DepartmentKind::Clinical);
    Ok(list.into_iter().map(|d| (d.id.to_string(), d.name)).collect())
}

/// A staff member's name and title, when the registry has them.
pub(super) async fn staff_name(
    ctx: &yigong_app::Ctx,
    actor: &Actor,
    id: Option<StaffId>,
) -> Option<(String, String)> {
    let (staff, _) = yigong_app::registry::get_staff(ctx, actor, actor.consortium_id, id?).await.ok()?;
    Some((staff.name, staff.title_name.unwrap_or_default()))
}

// ---- worklist ----

/// The tabs the worklist counts (the receiving side's live referrals); the others are lists
/// without a count.
const COUNTED: &[Tab] = &[Tab::New, Tab::Overdue, Tab::ToSchedule, Tab::Expected, Tab::InCare];

/// One line of the worklist.
struct Row {
    id: String,
    slip_no: String,
    priority: String,
    priority_code: &'static str,
    direction: String,
    patient: String,
    from: String,
    to: String,
    state: String,
    state_code: &'static str,
    due: String,
    overdue: bool,
    escalation: Option<String>,
    escalation_code: &'static str,
}

/// A tab with its count.
struct TabLink {
    code: &'static str,
    label: String,
    count: String,
    current: bool,
    alert: bool,
}

#[derive(Template)]
#[template(path = "referral_worklist.html")]
struct WorklistPage {
    chrome: Chrome,
    tabs: Vec<TabLink>,
    tab: &'static str,
    tab_label: String,
    /// (code, label, selected)
    priorities: Vec<(&'static str, String, bool)>,
    priority: String,
    rows: Vec<Row>,
    next: Option<String>,
    metrics: bool,
}

/// The worklist's query.
#[derive(Deserialize, Default)]
pub struct WorklistQuery {
    #[serde(default)]
    tab: String,
    #[serde(default)]
    priority: String,
    cursor: Option<String>,
}

/// GET /referrals: the referral centre's worklist.
pub async fn worklist(
    State(ctx): State<AppState>,
    signed: Signed,
    Query(q): Query<WorklistQuery>,
) -> Response {
    let s = &signed.session;
    let tab = Tab::parse(&q.tab).unwrap_or(Tab::New);
    let priority = Priority::parse(&q.priority);
    let page = PageRequest { size: 50, after: decode_cursor(&q.cursor) };
    let mut tab = tab;
    let mut list = match referral::worklist(&ctx, &s.actor, tab, priority, &page).await {
        Ok(l) => l,
        Err(e) => return error_page(&ctx, s, signed.lang, &signed.path, e).await,
    };
    // Without a tab asked for, open the first receiving list that has work in it.
    if q.tab.is_empty() && list.page.items.is_empty() {
        let busy = COUNTED.iter().copied().find(|tb| list.counts.get(tb.as_str()).is_some_and(|n| *n > 0));
        if let Some(busy) = busy {
            match referral::worklist(&ctx, &s.actor, busy, priority, &page).await {
                Ok(l) => (tab, list) = (busy, l),
                Err(e) => return error_page(&ctx, s, signed.lang, &signed.path, e).await,
            }
        }
    }
    let chrome = chrome(&ctx, Some(s), signed.lang, &signed.path, "referrals").await;
    let t = chrome.t;
    let today = ctx.today();
    let now = ctx.clock.now();
    let tabs = Tab::ALL
        .iter()
        .map(|tb| {
            let n = list.counts.get(tb.as_str()).copied().unwrap_or(0);
            TabLink {
                code: tb.as_str(),
                label: label(t, "tab", tb.as_str()),
                count: if COUNTED.contains(tb) { t.number(n) } else { String::new() },
                current: *tb == tab,
                alert: *tb == Tab::Overdue && n > 0,
            }
        })
        .collect();
    let rows = list
        .page
        .items
        .iter()
        .map(|item| {
            let r = &item.referral;
            let (due, overdue) = match (r.sla_due, r.state) {
                (Some(d), _) => (short_time(t, d), d <= now && r.state.is_live()),
                (None, RState::Scheduled) => (r.slot_at.map(|s| short_time(t, s)).unwrap_or_default(), false),
                _ => (String::new(), false),
            };
            Row {
                id: r.id.to_string(),
                slip_no: r.slip_no.clone(),
                priority: label(t, "priority", r.priority.as_str()),
                priority_code: r.priority.as_str(),
                direction: label(t, "direction", r.direction.as_str()),
                patient: patient_line(
                    t,
                    item.patient_name.as_deref(),
                    item.patient_sex.as_deref(),
                    item.patient_birth_date.as_deref(),
                    today,
                ),
                from: item.from_name.clone(),
                to: item.to_name.clone(),
                state: label(t, "state", r.state.as_str()),
                state_code: r.state.as_str(),
                due,
                overdue,
                escalation: (item.escalation != Escalation::None)
                    .then(|| label(t, "escalation", item.escalation.as_str())),
                escalation_code: item.escalation.as_str(),
            }
        })
        .collect();
    let priorities = Priority::ALL
        .iter()
        .map(|p| (p.as_str(), label(t, "priority", p.as_str()), Some(*p) == priority))
        .collect();
    let next = list.page.next_after.as_ref().map(|a| {
        let mut q = format!("tab={}", tab.as_str());
        if let Some(p) = priority {
            q.push_str(&format!("&priority={}", p.as_str()));
        }
        format!("{q}&cursor={}", encode_cursor(a))
    });
    let page = WorklistPage {
        tab: tab.as_str(),
        tab_label: label(t, "tab", tab.as_str()),
        tabs,
        priorities,
        priority: priority.map(|p| p.as_str().to_owned()).unwrap_or_default(),
        rows,
        next,
        metrics: role_permits(s.actor.role, Permission::IndicatorRead),
        chrome,
    };
    render(StatusCode::OK, &page)
}

// ---- follow-ups ----

/// One open follow-up task.
struct TaskLine {
    id: String,
    due: String,
    overdue: bool,
    high_risk: bool,
    patient: String,
    referral_id: String,
    slip_no: String,
    from: String,
    error: Option<String>,
    note: String,
}

#[derive(Template)]
#[template(path = "follow_ups.html")]
struct FollowUpsPage {
    chrome: Chrome,
    tasks: Vec<TaskLine>,
}

/// What the follow-up page was sent back with.
#[derive(Deserialize, Default)]
pub struct DoneQuery {
    #[serde(default)]
    done: String,
}

/// The open tasks with what the page shows of each (the referral is read for the slip number,
/// the patient and the sending hospital).
async fn task_lines(
    ctx: &yigong_app::Ctx,
    actor: &Actor,
    t: Tr,
    limit: i64,
) -> Result<Vec<TaskLine>, AppError> {
    let tasks = referral::follow_ups(ctx, actor, limit).await?;
    let today = ctx.today();
    let mut names: HashMap<InstitutionId, String> = HashMap::new();
    let mut out = Vec::with_capacity(tasks.len());
    for task in tasks {
        let view = referral::get(ctx, actor, task.referral_id).await.ok();
        let (patient, slip_no, from) = match &view {
            Some(v) => {
                let values = v.patient.as_ref().map(|p| &p.values);
                let from_id = v.referral.from_institution_id;
                if let std::collections::hash_map::Entry::Vacant(e) = names.entry(from_id) {
                    let name =
                        yigong_app::registry::get_institution(ctx, actor, actor.consortium_id, from_id)
                            .await
                            .map(|(i, _)| i.name)
                            .unwrap_or_default();
                    e.insert(name);
                }
                (
                    patient_line(
                        t,
                        values.and_then(|v| v.name.as_deref()),
                        values.and_then(|v| v.sex.as_deref()),
                        values.and_then(|v| v.birth_date.as_deref()),
                        today,
                    ),
                    v.referral.slip_no.clone(),
                    names.get(&from_id).cloned().unwrap_or_default(),
                )
            }
            None => (t.get("referral.unnamed").to_owned(), String::new(), String::new()),
        };
        out.push(TaskLine {
            id: task.id.to_string(),
            due: t.date(task.due_on),
            overdue: task.due_on < today,
            high_risk: task.high_risk,
            patient,
            referral_id: task.referral_id.to_string(),
            slip_no,
            from,
            error: None,
            note: String::new(),
        });
    }
    Ok(out)
}

/// GET /follow-ups: open follow-up tasks at the user's institutions.
pub async fn follow_ups(State(ctx): State<AppState>, signed: Signed, Query(q): Query<DoneQuery>) -> Response {
    follow_ups_page(&ctx, &signed, &q, None).await
}

async fn follow_ups_page(
    ctx: &yigong_app::Ctx,
    signed: &Signed,
    q: &DoneQuery,
    failed: Option<(String, String, String)>,
) -> Response {
    let s = &signed.session;
    let mut chrome = chrome(ctx, Some(s), signed.lang, "/follow-ups", "referrals").await;
    let t = chrome.t;
    let mut tasks = match task_lines(ctx, &s.actor, t, 200).await {
        Ok(l) => l,
        Err(e) => return error_page(ctx, s, signed.lang, &signed.path, e).await,
    };
    if q.done == "follow_up" {
        chrome.flash = Some(t.get("referral.done.follow_up").to_owned());
    }
    let mut status = StatusCode::OK;
    if let Some((id, note, error)) = failed {
        status = StatusCode::UNPROCESSABLE_ENTITY;
        if let Some(task) = tasks.iter_mut().find(|x| x.id == id) {
            task.error = Some(error);
            task.note = note;
        }
    }
    render(status, &FollowUpsPage { chrome, tasks })
}

/// The follow-up form.
#[derive(Deserialize, Default)]
pub struct FollowUpForm {
    #[serde(default, rename = "_csrf")]
    csrf: String,
    #[serde(default)]
    note: String,
    #[serde(default)]
    back: String,
}

/// POST /follow-ups/{id}/complete.
pub async fn complete_follow_up(
    State(ctx): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
    Form(form): Form<FollowUpForm>,
) -> Response {
    let s = &signed.session;
    if !csrf_ok(s, &form.csrf) {
        return error_page(&ctx, s, signed.lang, &signed.path, AppError::Forbidden { code: "csrf_failed" })
            .await;
    }
    let Ok(task) = Uuid::parse_str(&id) else {
        return error_page(&ctx, s, signed.lang, &signed.path, AppError::not_found("follow_up")).await;
    };
    let t = Tr { lang: signed.lang };
    match referral::complete_follow_up(&ctx, &s.actor, task, &form.note).await {
        Ok(done) => {
            let back = if form.back.starts_with("/referrals/") && !form.back.contains("//") {
                format!("{}?done=follow_up", form.back)
            } else {
                format!("/follow-ups?done=follow_up&task={}", done.id)
            };
            Redirect::to(&back).into_response()
        }
        Err(AppError::Invalid(invalid)) => {
            let error = invalid
                .fields
                .iter()
                .map(|f| error_text(t, f.code, &f.message))
                .collect::<Vec<_>>()
                .join(" ");
            follow_ups_page(&ctx, &signed, &DoneQuery::default(), Some((id, form.note, error))).await
        }
        Err(AppError::Transition { code, message, .. }) => {
            let error = error_text(t, code, &message);
            follow_ups_page(&ctx, &signed, &DoneQuery::default(), Some((id, form.note, error))).await
        }
        Err(e) => error_page(&ctx, s, signed.lang, &signed.path, e).await,
    }
}

// ---- home ----

/// The referral box of the home page.
pub struct HomeReferrals {
    /// (label, count, href, alert) of the worklist tabs.
    pub counts: Vec<(String, String, String, bool)>,
    /// The first open follow-ups: (due, overdue, patient, referral id).
    pub follow_ups: Vec<(String, bool, String, String)>,
}

/// The worklist counts and the first open follow-ups, for clinicians and coordinators.
pub async fn home_box(ctx: &yigong_app::Ctx, actor: &Actor, t: Tr) -> Option<HomeReferrals> {
    if !works_referrals(actor) {
        return None;
    }
    let page = PageRequest { size: 1, after: None };
    let list = referral::worklist(ctx, actor, Tab::New, None, &page).await.ok()?;
    let counts = COUNTED
        .iter()
        .map(|tb| {
            let n = list.counts.get(tb.as_str()).copied().unwrap_or(0);
            (
                label(t, "tab", tb.as_str()),
                t.number(n),
                format!("/referrals?tab={}", tb.as_str()),
                *tb == Tab::Overdue && n > 0,
            )
        })
        .collect();
    let follow_ups = task_lines(ctx, actor, t, 5)
        .await
        .unwrap_or_default()
        .into_iter()
        .map(|l| (l.due, l.overdue, l.patient, l.referral_id))
        .collect();
    Some(HomeReferrals { counts, follow_ups })
}

// ---- notifications ----

struct NoticeLine {
    kind: String,
    urgent: bool,
    unread: bool,
    slip_no: String,
    at: String,
    href: Option<String>,
}

#[derive(Template)]
#[template(path = "referral_notifications.html")]
struct NotificationsPage {
    chrome: Chrome,
    lines: Vec<NoticeLine>,
    unread: usize,
}

/// GET /notifications.
pub async fn notifications(
    State(ctx): State<AppState>,
    signed: Signed,
    Query(q): Query<DoneQuery>,
) -> Response {
    let s = &signed.session;
    let list = match referral::notifications(&ctx, &s.actor, 100).await {
        Ok(l) => l,
        Err(e) => return error_page(&ctx, s, signed.lang, &signed.path, e).await,
    };
    let mut chrome = chrome(&ctx, Some(s), signed.lang, &signed.path, "referrals").await;
    let t = chrome.t;
    if q.done == "read" {
        chrome.flash = Some(t.get("referral.done.read").to_owned());
    }
    let unread = list.iter().filter(|n| n.read_at.is_none()).count();
    let lines = list
        .iter()
        .map(|n| NoticeLine {
            kind: label(t, "notify", &n.kind),
            urgent: n.urgent,
            unread: n.read_at.is_none(),
            slip_no: n
                .params
                .get("slip_no")
                .or_else(|| n.params.get("accession_no"))
                .and_then(|v| v.as_str())
                .unwrap_or_default()
                .to_owned(),
            at: t.datetime(n.created_at),
            href: n
                .referral_id
                .map(|r| format!("/referrals/{r}"))
                .or_else(|| n.order_id.map(|o| format!("/exams/{o}"))),
        })
        .collect();
    render(StatusCode::OK, &NotificationsPage { chrome, lines, unread })
}

/// A form carrying the CSRF token only.
#[derive(Deserialize, Default)]
pub struct TokenForm {
    #[serde(default, rename = "_csrf")]
    csrf: String,
}

/// POST /notifications/read: marks every notification shown as read.
pub async fn mark_read(State(ctx): State<AppState>, signed: Signed, Form(form): Form<TokenForm>) -> Response {
    let s = &signed.session;
    if !csrf_ok(s, &form.csrf) {
        return error_page(&ctx, s, signed.lang, &signed.path, AppError::Forbidden { code: "csrf_failed" })
            .await;
    }
    let result = async {
        let ids: Vec<Uuid> = referral::notifications(&ctx, &s.actor, 200)
            .await?
            .into_iter()
            .filter(|n| n.read_at.is_none())
            .map(|n| n.id)
            .collect();
        referral::mark_read(&ctx, &s.actor, &ids).await
    }
    .await;
    match result {
        Ok(()) => Redirect::to("/notifications?done=read").into_response(),
        Err(e) => error_page(&ctx, s, signed.lang, &signed.path, e).await,
    }
}

#[cfg(test)]
mod tests;
