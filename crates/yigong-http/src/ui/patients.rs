//! Patient registration that searches the master patient index first: the doctor fills in the
//! form, sees the persons it may already be (score, band, field by field) and says which one it
//! is, or that it is none of them. Each step is a plain POST of the same form; the buttons
//! differ only in the `choice` they send.

use std::collections::HashMap;

use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use uuid::Uuid;
use yigong_app::AppError;
use yigong_app::mpi::{self, Match, MatchQuery, Registered, RegistrarChoice};
use yigong_app::registry::{self, InstitutionFilter};
use yigong_domain::Invalid;
use yigong_domain::access::{Actor, Permission, role_permits};
use yigong_domain::ids::PersonId;
use yigong_domain::page::PageRequest;
use yigong_domain::patient::{NoIdReason, RegistrationDraft, validate_registration};

use super::mpi_labels::{
    band_label, field_label, level_label, masked_id, masked_phone, rule_label, sex_label, short_id, weight,
};
use super::pages::{FormField, mark};
use super::{Chrome, Signed, Tr, chrome, csrf_ok, error_page, render};
use crate::AppState;

/// One person the new patient may be.
struct MatchRow {
    person_id: String,
    person_short: String,
    name: String,
    sex: String,
    birth_date: String,
    resident_id: String,
    phone: String,
    source: String,
    score: String,
    /// `auto_link` or `review`, for the style.
    band: &'static str,
    band_label: String,
    /// (field, level, weight) of the fields both records have.
    agreement: Vec<(String, String, String)>,
    hard_rules: Vec<String>,
    /// The accessible name of the "this person" button: its text and whom it means.
    choose_label: String,
}

#[derive(Template)]
#[template(path = "patient_register.html")]
struct RegisterPage {
    chrome: Chrome,
    error: Option<String>,
    fields: Vec<FormField>,
    /// Whether the index was searched (the matches, possibly none, are shown).
    searched: bool,
    matches: Vec<MatchRow>,
    /// Whether the form passes the checks, so that the register buttons are offered.
    can_register: bool,
}

/// The registration form as posted; `choice` is empty or `search` for the search step,
/// `auto`, `new` or a person id to register.
#[derive(Deserialize, Default)]
pub struct RegisterForm {
    #[serde(default, rename = "_csrf")]
    csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    sex: String,
    #[serde(default)]
    birth_date: String,
    #[serde(default)]
    resident_id: String,
    #[serde(default)]
    no_id_reason: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    village_code: String,
    #[serde(default)]
    household_id: String,
    #[serde(default)]
    e_health_card: String,
    #[serde(default)]
    insurance_number: String,
    #[serde(default)]
    local_id: String,
    #[serde(default)]
    choice: String,
}

fn given(s: &str) -> Option<String> {
    Some(s.trim().to_owned()).filter(|s| !s.is_empty())
}

impl RegisterForm {
    fn draft(&self) -> RegistrationDraft {
        RegistrationDraft {
            local_id: given(&self.local_id),
            name: self.name.clone(),
            sex: self.sex.clone(),
            birth_date: self.birth_date.clone(),
            resident_id: given(&self.resident_id),
            no_id_reason: given(&self.no_id_reason),
            phone: given(&self.phone),
            village_code: given(&self.village_code),
            household_id: given(&self.household_id),
            e_health_card: given(&self.e_health_card),
            insurance_number: given(&self.insurance_number),
            verified: false,
        }
    }

    fn query(&self) -> MatchQuery {
        MatchQuery {
            name: given(&self.name),
            sex: given(&self.sex),
            birth_date: given(&self.birth_date),
            resident_id: given(&self.resident_id),
            phone: given(&self.phone),
            village_code: given(&self.village_code),
            household_id: given(&self.household_id),
            e_health_card: given(&self.e_health_card),
            insurance_number: given(&self.insurance_number),
        }
    }

    fn choice(&self) -> Option<RegistrarChoice> {
        match self.choice.trim() {
            "auto" => Some(RegistrarChoice::Automatic),
            "new" => Some(RegistrarChoice::NewPerson),
            other => Uuid::parse_str(other).ok().map(|u| RegistrarChoice::Person(PersonId::from_uuid(u))),
        }
    }
}

fn register_fields(t: Tr, f: &RegisterForm) -> Vec<FormField> {
    let sexes = vec![
        (String::new(), t.get("patient.choose").to_owned()),
        ("male".to_owned(), t.get("sex.male").to_owned()),
        ("female".to_owned(), t.get("sex.female").to_owned()),
    ];
    let mut reasons = vec![(String::new(), t.get("patient.no_id_reason_none").to_owned())];
    reasons.extend(
        NoIdReason::ALL
            .iter()
            .map(|r| (r.as_str().to_owned(), t.get(&format!("no_id_reason.{}", r.as_str())).to_owned())),
    );
    vec![
        FormField::new("name", t.get("patient.name"), "text", &f.name).required().autocomplete("off"),
        FormField::new("sex", t.get("patient.sex"), "select", &f.sex).required().options(sexes),
        FormField::new("birth_date", t.get("patient.birth_date"), "date", &f.birth_date).required(),
        FormField::new("resident_id", t.get("patient.resident_id"), "text", &f.resident_id)
            .hint(t.get("patient.resident_id_hint"))
            .autocomplete("off"),
        FormField::new("no_id_reason", t.get("patient.no_id_reason"), "select", &f.no_id_reason)
            .options(reasons),
        FormField::new("phone", t.get("patient.phone"), "text", &f.phone).autocomplete("off"),
        FormField::new("village_code", t.get("patient.village_code"), "text", &f.village_code)
            .hint(t.get("patient.village_code_hint")),
        FormField::new("household_id", t.get("patient.household_id"), "text", &f.household_id),
        FormField::new("e_health_card", t.get("patient.e_health_card"), "text", &f.e_health_card)
            .autocomplete("off"),
        FormField::new("insurance_number", t.get("patient.insurance_number"), "text", &f.insurance_number)
            .autocomplete("off"),
        FormField::new("local_id", t.get("patient.local_id"), "text", &f.local_id)
            .hint(t.get("patient.local_id_hint")),
    ]
}

/// Why the page refuses this user before they type anything (the use case refuses them too).
fn cannot_register(actor: &Actor) -> Option<&'static str> {
    if !role_permits(actor.role, Permission::PatientWrite) {
        Some("forbidden")
    } else if actor.institution_id.is_none() {
        Some("no_acting_institution")
    } else {
        None
    }
}

/// GET /patients/register: the empty form.
pub async fn register_form(State(ctx): State<AppState>, signed: Signed) -> Response {
    let s = &signed.session;
    if let Some(code) = cannot_register(&s.actor) {
        return error_page(&ctx, s, signed.lang, &signed.path, AppError::Forbidden { code }).await;
    }
    let chrome = chrome(&ctx, Some(s), signed.lang, &signed.path, "patients").await;
    let fields = register_fields(chrome.t, &RegisterForm::default());
    let page =
        RegisterPage { chrome, error: None, fields, searched: false, matches: vec![], can_register: false };
    render(StatusCode::OK, &page)
}

/// POST /patients/register: searches (no `choice`), or registers with the registrar's choice
/// and goes to the person page.
pub async fn register(
    State(ctx): State<AppState>,
    signed: Signed,
    Form(form): Form<RegisterForm>,
) -> Response {
    let s = &signed.session;
    if !csrf_ok(s, &form.csrf) {
        return error_page(&ctx, s, signed.lang, &signed.path, AppError::Forbidden { code: "csrf_failed" })
            .await;
    }
    let Some(choice) = form.choice() else {
        return search_page(&ctx, &signed, &form, None).await;
    };
    match mpi::register(&ctx, &s.actor, &form.draft(), choice).await {
        Ok(done) => Redirect::to(&registered_url(&done)).into_response(),
        Err(AppError::Invalid(invalid)) => search_page(&ctx, &signed, &form, Some(invalid)).await,
        Err(e) => error_page(&ctx, s, signed.lang, &signed.path, e).await,
    }
}

/// The person page, told which record was just registered and with which warnings.
fn registered_url(done: &Registered) -> String {
    let mut url = format!("/patients/{}?registered={}", done.person_id, done.record_id);
    if !done.warnings.is_empty() {
        url.push_str("&warn=");
        url.push_str(&done.warnings.join(","));
    }
    url
}

/// The form again with the matches for what it holds, and the errors of `failed` (a refused
/// registration) or, on a search, of the registration checks, so they are fixed before a
/// choice is made.
async fn search_page(
    ctx: &yigong_app::Ctx,
    signed: &Signed,
    form: &RegisterForm,
    failed: Option<Invalid>,
) -> Response {
    let s = &signed.session;
    let (matches, search_invalid) = match mpi::match_only(ctx, &s.actor, &form.query()).await {
        Ok(m) => (m, None),
        Err(AppError::Invalid(i)) => (vec![], Some(i)),
        Err(e) => return error_page(ctx, s, signed.lang, &signed.path, e).await,
    };
    let checks = validate_registration(&form.draft(), ctx.today()).err();
    let searched = search_invalid.is_none();
    let can_register = checks.is_none() && searched;
    let mut invalid = failed.or(checks).unwrap_or_default();
    invalid.fields.extend(search_invalid.map(|i| i.fields).unwrap_or_default());
    let chrome = chrome(ctx, Some(s), signed.lang, "/patients/register", "patients").await;
    let t = chrome.t;
    let mut fields = register_fields(t, form);
    let error = if invalid.fields.is_empty() { None } else { mark(&mut fields, &invalid, t) };
    let status = if error.is_some() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    let codes: Vec<String> = matches.iter().map(|m| m.source.clone()).collect();
    let names = institution_names_by_code(ctx, &s.actor, &codes).await;
    let today = ctx.today();
    let matches = matches.iter().map(|m| match_row(t, m, &names, today)).collect();
    render(status, &RegisterPage { chrome, error, fields, searched, matches, can_register })
}

fn match_row(t: Tr, m: &Match, names: &HashMap<String, String>, today: chrono::NaiveDate) -> MatchRow {
    let v = &m.record.values;
    let name = v.name.clone().unwrap_or_default();
    let choose = t.get("patient.choose_person");
    MatchRow {
        person_id: m.person_id.to_string(),
        person_short: short_id(m.person_id),
        sex: sex_label(t, v.sex.as_deref()),
        birth_date: v.birth_date.clone().unwrap_or_default(),
        resident_id: masked_id(v.resident_id.as_deref(), today),
        phone: masked_phone(v.phone.as_deref()),
        source: names.get(&m.source).cloned().unwrap_or_else(|| m.source.clone()),
        score: format!("{:.1}", m.result.score),
        band: m.result.band.as_str(),
        band_label: band_label(t, m.result.band.as_str()),
        agreement: m
            .result
            .fields
            .iter()
            .filter(|f| f.level_name != "missing")
            .map(|f| (field_label(t, f.field.as_str()), level_label(t, f.level_name), weight(f.weight)))
            .collect(),
        hard_rules: m.result.hard_rules.iter().map(|r| rule_label(t, r.as_str())).collect(),
        choose_label: format!("{choose}：{name} ({})", short_id(m.person_id)),
        name,
    }
}

/// Names of the institutions whose codes name the sources of `codes` (a registry search by
/// code: the match carries the source's code only). Codes of other sources stay as they are.
async fn institution_names_by_code(
    ctx: &yigong_app::Ctx,
    actor: &Actor,
    codes: &[String],
) -> HashMap<String, String> {
    let mut names = HashMap::new();
    for code in codes {
        if names.contains_key(code) {
            continue;
        }
        let filter = InstitutionFilter { query: Some(code.clone()), ..Default::default() };
        let page = PageRequest { size: 20, after: None };
        if let Ok(found) = registry::list_institutions(ctx, actor, actor.consortium_id, &filter, &page).await
            && let Some(i) = found.items.iter().find(|i| &i.code == code)
        {
            names.insert(code.clone(), i.name.clone());
        }
    }
    names
}
