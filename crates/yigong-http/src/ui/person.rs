//! The person page of the master patient index: the golden record with where each value came
//! from, the records linked now (values as received), the link history and the steward
//! operations, with the steward's unlink, merge and undo forms.

use std::collections::HashMap;

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use uuid::Uuid;
use yigong_app::AppError;
use yigong_app::mpi::{self, PersonView};
use yigong_app::registry;
use yigong_domain::Invalid;
use yigong_domain::access::{Permission, role_permits};
use yigong_domain::ids::{MpiOperationId, PatientRecordId, PersonId};
use yigong_domain::patient::{NoIdReason, RegistrationWarning};

use super::mpi_labels::{FIELDS, field_label, field_value, masked_id, method_label, sex_label, short_id};
use super::pages::{FormField, mark};
use super::{Chrome, Signed, Tr, chrome, csrf_ok, error_page, render};
use crate::AppState;

/// A record linked to the person now.
struct RecordCard {
    title: String,
    facts: Vec<(String, String)>,
}

struct LinkLine {
    record: String,
    method: String,
    score: String,
    rule_version: String,
    from: String,
    until: String,
    reason: String,
}

struct OperationLine {
    kind: String,
    at: String,
    reason: String,
    /// The other person concerned: (id, short id).
    other: Option<(String, String)>,
    record: Option<String>,
    undone: bool,
    undoes: bool,
    /// (operation id, reason field, error) when a steward may undo it.
    undo: Option<(String, FormField, Option<String>)>,
}

#[derive(Template)]
#[template(path = "person.html")]
struct PersonPage {
    chrome: Chrome,
    person_id: String,
    person_short: String,
    heading: String,
    active: bool,
    /// (id, short id) of the person this one was merged into.
    merged_into: Option<(String, String)>,
    warnings: Vec<String>,
    /// (label, value, which record it came from).
    golden: Vec<(String, String, String)>,
    records: Vec<RecordCard>,
    links: Vec<LinkLine>,
    operations: Vec<OperationLine>,
    steward: bool,
    unlink_fields: Vec<FormField>,
    unlink_error: Option<String>,
    merge_fields: Vec<FormField>,
    merge_error: Option<String>,
}

/// What the person page was sent back with after a registration or a steward's change.
#[derive(Deserialize, Default)]
pub struct PersonQuery {
    #[serde(default)]
    registered: String,
    #[serde(default)]
    warn: String,
    #[serde(default)]
    done: String,
}

/// A steward's form on the person page.
#[derive(Deserialize, Default)]
pub struct StewardForm {
    #[serde(default, rename = "_csrf")]
    csrf: String,
    #[serde(default)]
    record_id: String,
    #[serde(default)]
    other_person_id: String,
    #[serde(default)]
    operation_id: String,
    #[serde(default)]
    reason: String,
}

/// A steward's change that did not go through, to show beside its form.
struct Attempt<'a> {
    action: &'a str,
    form: &'a StewardForm,
    invalid: Option<Invalid>,
    message: Option<String>,
}

fn parse_person(id: &str) -> Option<PersonId> {
    Uuid::parse_str(id).ok().map(PersonId::from_uuid)
}

/// GET /patients/{id}.
pub async fn person(
    State(ctx): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
    Query(q): Query<PersonQuery>,
) -> Response {
    let Some(person_id) = parse_person(&id) else {
        return error_page(&ctx, &signed.session, signed.lang, &signed.path, AppError::not_found("person"))
            .await;
    };
    person_page(&ctx, &signed, person_id, &q, None).await
}

/// POST /patients/{id}/{unlink|merge|undo}: a steward's change, then back to the page.
pub async fn person_action(
    State(ctx): State<AppState>,
    signed: Signed,
    Path((id, action)): Path<(String, String)>,
    Form(form): Form<StewardForm>,
) -> Response {
    let s = &signed.session;
    if !csrf_ok(s, &form.csrf) {
        return error_page(&ctx, s, signed.lang, &signed.path, AppError::Forbidden { code: "csrf_failed" })
            .await;
    }
    let Some(person_id) = parse_person(&id) else {
        return error_page(&ctx, s, signed.lang, &signed.path, AppError::not_found("person")).await;
    };
    let reason = Some(form.reason.as_str());
    let result = match action.as_str() {
        "unlink" => match Uuid::parse_str(form.record_id.trim()) {
            Ok(r) => mpi::unlink_record(&ctx, &s.actor, PatientRecordId::from_uuid(r), reason)
                .await
                .map(|_| "unlinked"),
            Err(_) => Err(Invalid::one("record_id", "required", "choose the record").into()),
        },
        "merge" => match parse_person(form.other_person_id.trim()) {
            Some(other) => mpi::merge(&ctx, &s.actor, person_id, other, reason).await.map(|_| "merged"),
            None => Err(Invalid::one("other_person_id", "person_id_invalid", "not a person number").into()),
        },
        "undo" => match Uuid::parse_str(form.operation_id.trim()) {
            Ok(op) => {
                mpi::undo(&ctx, &s.actor, MpiOperationId::from_uuid(op), reason).await.map(|_| "undone")
            }
            Err(_) => Err(AppError::not_found("operation")),
        },
        _ => Err(AppError::not_found("page")),
    };
    let t = Tr { lang: signed.lang };
    let attempt = match result {
        Ok(done) => return Redirect::to(&format!("/patients/{person_id}?done={done}")).into_response(),
        Err(AppError::Invalid(invalid)) => {
            Attempt { action: &action, form: &form, invalid: Some(invalid), message: None }
        }
        Err(AppError::Conflict { rule }) => {
            Attempt { action: &action, form: &form, invalid: None, message: Some(t.error(rule, rule)) }
        }
        Err(e) => return error_page(&ctx, s, signed.lang, &signed.path, e).await,
    };
    person_page(&ctx, &signed, person_id, &PersonQuery::default(), Some(attempt)).await
}

async fn person_page(
    ctx: &yigong_app::Ctx,
    signed: &Signed,
    person_id: PersonId,
    q: &PersonQuery,
    attempt: Option<Attempt<'_>>,
) -> Response {
    let s = &signed.session;
    let path = format!("/patients/{person_id}");
    let view = match mpi::get_person(ctx, &s.actor, person_id).await {
        Ok(v) => v,
        Err(e) => return error_page(ctx, s, signed.lang, &path, e).await,
    };
    let mut chrome = chrome(ctx, Some(s), signed.lang, &path, "patients").await;
    let t = chrome.t;
    let today = ctx.today();
    let titles: HashMap<PatientRecordId, String> = view
        .records
        .iter()
        .map(|r| (r.record.record_id, format!("{} · {}", r.source_name, r.record.local_id)))
        .collect();
    let record_title = |id: &PatientRecordId| {
        titles.get(id).cloned().unwrap_or_else(|| t.fmt("person.other_record", &[("id", &short_id(id))]))
    };
    chrome.flash = flash(t, q, &view, &record_title);
    let warnings = q
        .warn
        .split(',')
        .filter_map(RegistrationWarning::parse)
        .map(|w| t.get(&format!("patient.warning.{}", w.as_str())).to_owned())
        .collect();
    let villages = village_names(ctx, &view).await;
    let golden = golden_rows(t, &view, &record_title, &villages, today);
    let heading = view
        .golden
        .name
        .as_ref()
        .map_or_else(|| t.fmt("person.untitled", &[("id", &short_id(person_id))]), |n| n.value.clone());
    let records = view.records.iter().map(|r| record_card(t, &view, r, today)).collect();
    let links = view
        .links
        .iter()
        .map(|l| LinkLine {
            record: record_title(&l.record_id),
            method: method_label(t, &l.method),
            score: l.score.map(|s| format!("{s:.1}")).unwrap_or_default(),
            rule_version: l.rule_version.clone().unwrap_or_default(),
            from: t.datetime(l.valid_from),
            until: l.valid_to.map_or_else(|| t.get("person.open_ended").to_owned(), |u| t.datetime(u)),
            reason: l.reason.clone().unwrap_or_default(),
        })
        .collect();
    let steward = role_permits(s.actor.role, Permission::MpiSteward);
    let active = view.person.status == "active";
    let attempt = attempt.as_ref();
    let operations = operation_lines(t, &view, steward, attempt, &record_title);
    let (mut unlink_fields, mut unlink_error, mut merge_fields, mut merge_error) =
        (vec![], None, vec![], None);
    if steward && active {
        if view.records.len() > 1 {
            let choices =
                view.records.iter().map(|r| r.record.record_id).map(|r| (r.to_string(), record_title(&r)));
            (unlink_fields, unlink_error) = unlink_form(t, choices.collect(), attempt);
        }
        (merge_fields, merge_error) = merge_form(t, attempt);
    }
    let status = match attempt {
        Some(a) if a.invalid.is_some() => StatusCode::UNPROCESSABLE_ENTITY,
        Some(_) => StatusCode::CONFLICT,
        None => StatusCode::OK,
    };
    let page = PersonPage {
        person_id: person_id.to_string(),
        person_short: short_id(person_id),
        heading,
        active,
        merged_into: view.person.merged_into.map(|p| (p.to_string(), short_id(p))),
        warnings,
        golden,
        records,
        links,
        operations,
        steward,
        unlink_fields,
        unlink_error,
        merge_fields,
        merge_error,
        chrome,
    };
    render(status, &page)
}

/// The attempt at `action`, if that is what failed.
fn tried<'a>(attempt: Option<&'a Attempt<'a>>, action: &str) -> Option<&'a Attempt<'a>> {
    attempt.filter(|a| a.action == action)
}

/// The steward operations, newest first, each with its undo form when a steward may undo it.
fn operation_lines(
    t: Tr,
    view: &PersonView,
    steward: bool,
    attempt: Option<&Attempt<'_>>,
    record_title: &dyn Fn(&PatientRecordId) -> String,
) -> Vec<OperationLine> {
    let person_id = view.person.person_id;
    let mut lines = Vec::with_capacity(view.operations.len());
    for o in &view.operations {
        let id = o.operation_id.to_string();
        let undoable =
            steward && o.undone_by.is_none() && matches!(o.kind.as_str(), "merge" | "link" | "unlink");
        let undo = undoable.then(|| {
            let mine = tried(attempt, "undo").filter(|a| a.form.operation_id.trim() == id);
            let reason = mine.map(|a| a.form.reason.as_str()).unwrap_or_default();
            let mut field = FormField::new("reason", t.get("person.undo_reason"), "text", reason)
                .required()
                .id_prefix(&format!("undo-{id}"));
            let error = mine.and_then(|a| form_error(t, a, std::slice::from_mut(&mut field)));
            (id.clone(), field, error)
        });
        // The other person concerned, whichever side of the operation this person is on.
        let other = o.other_person_id.filter(|p| *p != person_id).or(o.person_id.filter(|p| *p != person_id));
        lines.push(OperationLine {
            kind: t.get(&format!("mpi.operation.{}", o.kind)).to_owned(),
            at: t.datetime(o.at),
            reason: o.reason.clone(),
            other: other.map(|p| (p.to_string(), short_id(p))),
            record: o.record_id.as_ref().map(record_title),
            undone: o.undone_by.is_some(),
            undoes: o.undoes.is_some(),
            undo,
        });
    }
    lines
}

fn unlink_form(
    t: Tr,
    records: Vec<(String, String)>,
    attempt: Option<&Attempt<'_>>,
) -> (Vec<FormField>, Option<String>) {
    let mine = tried(attempt, "unlink");
    let mut choices = vec![(String::new(), t.get("patient.choose").to_owned())];
    choices.extend(records);
    let record = mine.map(|a| a.form.record_id.as_str()).unwrap_or_default();
    let reason = mine.map(|a| a.form.reason.as_str()).unwrap_or_default();
    let mut fields = vec![
        FormField::new("record_id", t.get("person.unlink_record"), "select", record)
            .required()
            .options(choices)
            .id_prefix("unlink"),
        FormField::new("reason", t.get("person.unlink_reason"), "text", reason)
            .required()
            .id_prefix("unlink"),
    ];
    let error = mine.and_then(|a| form_error(t, a, &mut fields));
    (fields, error)
}

fn merge_form(t: Tr, attempt: Option<&Attempt<'_>>) -> (Vec<FormField>, Option<String>) {
    let mine = tried(attempt, "merge");
    let other = mine.map(|a| a.form.other_person_id.as_str()).unwrap_or_default();
    let reason = mine.map(|a| a.form.reason.as_str()).unwrap_or_default();
    let mut fields = vec![
        FormField::new("other_person_id", t.get("person.merge_other"), "text", other)
            .required()
            .hint(t.get("person.merge_other_hint"))
            .autocomplete("off")
            .id_prefix("merge"),
        FormField::new("reason", t.get("person.merge_reason"), "text", reason)
            .hint(t.get("person.merge_reason_hint"))
            .id_prefix("merge"),
    ];
    let error = mine.and_then(|a| form_error(t, a, &mut fields));
    (fields, error)
}

/// Marks the fields of a failed attempt and returns the message above its form.
fn form_error(t: Tr, attempt: &Attempt<'_>, fields: &mut [FormField]) -> Option<String> {
    match (&attempt.invalid, &attempt.message) {
        (Some(invalid), _) => mark(fields, invalid, t),
        (None, Some(message)) => Some(message.clone()),
        (None, None) => None,
    }
}

/// The confirmation of what was just done: a registration (from the record itself, so the
/// query cannot make the page claim anything) or a steward's change.
fn flash(
    t: Tr,
    q: &PersonQuery,
    view: &PersonView,
    title: &dyn Fn(&PatientRecordId) -> String,
) -> Option<String> {
    if let Ok(record) = Uuid::parse_str(q.registered.trim()).map(PatientRecordId::from_uuid)
        && let Some(r) = view.records.iter().find(|r| r.record.record_id == record)
    {
        let method = view
            .links
            .iter()
            .find(|l| l.record_id == record && l.valid_to.is_none())
            .map(|l| method_label(t, &l.method))
            .unwrap_or_default();
        return Some(t.fmt(
            "person.registered",
            &[("local_id", &r.record.local_id), ("method", &method), ("record", &title(&record))],
        ));
    }
    matches!(q.done.as_str(), "merged" | "unlinked" | "undone" | "decided")
        .then(|| t.get(&format!("person.done.{}", q.done)).to_owned())
}

async fn village_names(ctx: &yigong_app::Ctx, view: &PersonView) -> HashMap<String, String> {
    let Some(code) = view.golden.village_code.as_ref().map(|v| v.value.clone()) else {
        return HashMap::new();
    };
    let mut codes = vec![code.clone()];
    if code.len() == 12 {
        codes.push(format!("{}000", &code[..9]));
    }
    registry::division_names(ctx, &codes).await.unwrap_or_default()
}

fn golden_rows(
    t: Tr,
    view: &PersonView,
    title: &dyn Fn(&PatientRecordId) -> String,
    villages: &HashMap<String, String>,
    today: chrono::NaiveDate,
) -> Vec<(String, String, String)> {
    let g = &view.golden;
    let from = |r: &PatientRecordId| t.fmt("person.from", &[("record", &title(r))]);
    let mut rows = Vec::new();
    if let Some(v) = &g.name {
        rows.push((field_label(t, "name"), v.value.clone(), from(&v.from)));
    }
    if let Some(v) = &g.sex {
        rows.push((
            field_label(t, "sex"),
            t.get(&format!("sex.{}", v.value.as_str())).to_owned(),
            from(&v.from),
        ));
    }
    if let Some(v) = &g.birth_date {
        rows.push((field_label(t, "birth_date"), t.date(v.value), from(&v.from)));
    }
    if let Some(v) = &g.resident_id {
        rows.push((field_label(t, "resident_id"), masked_id(Some(&v.value), today), from(&v.from)));
    }
    if let Some(v) = &g.phone {
        rows.push((field_label(t, "phone"), v.value.clone(), from(&v.from)));
    }
    if let Some(v) = &g.village_code {
        let township = (v.value.len() == 12).then(|| format!("{}000", &v.value[..9]));
        let mut place: Vec<String> = township.and_then(|c| villages.get(&c).cloned()).into_iter().collect();
        place.extend(villages.get(&v.value).cloned());
        let shown =
            if place.is_empty() { v.value.clone() } else { format!("{} ({})", place.join(" "), v.value) };
        rows.push((field_label(t, "village_code"), shown, from(&v.from)));
    }
    if let Some(v) = &g.address {
        rows.push((field_label(t, "address"), v.value.clone(), from(&v.from)));
    }
    rows
}

fn record_card(t: Tr, view: &PersonView, r: &mpi::RecordView, today: chrono::NaiveDate) -> RecordCard {
    let v = &r.record.values;
    let mut facts = Vec::new();
    for field in FIELDS {
        let Some(value) = field_value!(v, *field).filter(|x| !x.trim().is_empty()) else { continue };
        let shown = match *field {
            "sex" => sex_label(t, Some(&value)),
            "resident_id" => {
                let status = v.resident_id_status.as_deref().map(|s| {
                    let key = format!("person.id_status.{s}");
                    if t.has(&key) { t.get(&key).to_owned() } else { s.to_owned() }
                });
                match status {
                    Some(s) => format!("{} ({s})", masked_id(Some(&value), today)),
                    None => masked_id(Some(&value), today),
                }
            }
            _ => value,
        };
        facts.push((field_label(t, field), shown));
    }
    if let Some(reason) = v.no_id_reason.as_deref().filter(|x| !x.is_empty()) {
        let label = NoIdReason::parse(reason)
            .map_or_else(|| reason.to_owned(), |n| t.get(&format!("no_id_reason.{}", n.as_str())).to_owned());
        facts.push((t.get("patient.no_id_reason").to_owned(), label));
    }
    if r.record.verified {
        facts.push((t.get("person.verified").to_owned(), t.get("page.yes").to_owned()));
    }
    facts.push((t.get("person.registered_at").to_owned(), t.datetime(r.record.registered_at)));
    if let Some(link) = view.links.iter().find(|l| l.record_id == r.record.record_id && l.valid_to.is_none())
    {
        let mut how = method_label(t, &link.method);
        if let Some(score) = link.score {
            how.push_str(&format!(" · {score:.1}"));
        }
        facts.push((t.get("person.linked_how").to_owned(), how));
    }
    RecordCard { title: format!("{} · {}", r.source_name, r.record.local_id), facts }
}
