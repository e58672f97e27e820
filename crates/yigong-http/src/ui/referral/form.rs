//! The new-referral form: the slip's content (WS 445.16), saved as a draft or submitted.

use std::collections::HashMap;

use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::NaiveDate;
use serde::Deserialize;
use uuid::Uuid;
use yigong_app::AppError;
use yigong_app::referral;
use yigong_domain::Invalid;
use yigong_domain::access::Actor;
use yigong_domain::facility::Institution;
use yigong_domain::ids::{DepartmentId, InstitutionId, PatientRecordId, PersonId};
use yigong_domain::referral::green::Centre;
use yigong_domain::referral::{
    CertificateClass, Direction, DownReason, DownwardDetails, Priority, ReferralDraft, SlipTest, UpReason,
};

use super::super::pages::FormField;
use super::super::{Chrome, Signed, Tr, chrome, csrf_ok, error_page, render};
use super::{all_institutions, departments, error_text, label, level, patient_line};
use crate::AppState;

/// Diagnosis rows on the form.
const DIAGNOSIS_ROWS: usize = 3;
/// Test rows on the form.
const TEST_ROWS: usize = 3;

/// One diagnosis or test row.
struct RowFields {
    fields: Vec<FormField>,
}

#[derive(Template)]
#[template(path = "referral_new.html")]
struct NewPage {
    chrome: Chrome,
    heading: String,
    patient: String,
    error: Option<String>,
    hidden: Vec<(&'static str, String)>,
    main: Vec<FormField>,
    clinical: Vec<FormField>,
    diagnoses: Vec<RowFields>,
    diagnoses_error: Option<String>,
    tests: Vec<RowFields>,
    tests_error: Option<String>,
    more: Vec<FormField>,
    certificate: Vec<FormField>,
    downward: Vec<FormField>,
    network: Vec<FormField>,
    consent: FormField,
    downward_open: bool,
    insurance_open: bool,
    network_open: bool,
    parent: Option<String>,
}

/// Where the form was opened from.
#[derive(Deserialize, Default)]
pub struct NewQuery {
    #[serde(default)]
    record: String,
    #[serde(default)]
    person: String,
    #[serde(default)]
    parent: String,
    /// The record's position on the person page (links from there name the person).
    #[serde(default)]
    pick: String,
}

/// GET /referrals/new?record=…[&parent=…] (or ?person=…&pick=n from the person page).
pub async fn new_form(State(ctx): State<AppState>, signed: Signed, Query(q): Query<NewQuery>) -> Response {
    let s = &signed.session;
    let mut values: HashMap<String, String> = HashMap::new();
    let mut record = Uuid::parse_str(q.record.trim()).ok();
    let mut person_name = None;
    if let Ok(person) = Uuid::parse_str(q.person.trim()) {
        match yigong_app::mpi::get_person(&ctx, &s.actor, PersonId::from_uuid(person)).await {
            Ok(view) => {
                person_name = view.golden.name.as_ref().map(|n| n.value.clone());
                if record.is_none() {
                    let pick: usize = q.pick.parse().unwrap_or(0);
                    record = view.records.get(pick).map(|r| r.record.record_id.as_uuid());
                }
                values.insert("person".into(), person.to_string());
            }
            Err(e) => return error_page(&ctx, s, signed.lang, &signed.path, e).await,
        }
    }
    values.insert("direction".into(), Direction::Upward.as_str().into());
    values.insert("priority".into(), Priority::Routine.as_str().into());
    if let Ok(parent) = Uuid::parse_str(q.parent.trim()) {
        match referral::get(&ctx, &s.actor, parent).await {
            Ok(up) => {
                let r = &up.referral;
                record = Some(r.patient_record_id.as_uuid());
                person_name = person_name.or_else(|| up.patient.as_ref().and_then(|p| p.values.name.clone()));
                values.insert("parent_id".into(), parent.to_string());
                values.insert("direction".into(), Direction::Downward.as_str().into());
                values.insert("to_institution_id".into(), r.from_institution_id.to_string());
                values.insert("reason".into(), DownReason::StableAfterAcute.as_str().into());
                values.insert("discharged_on".into(), ctx.today().to_string());
                let slip = super::detail::slip_of(&up);
                for (i, d) in slip.diagnoses.iter().take(DIAGNOSIS_ROWS).enumerate() {
                    values.insert(format!("dx_code_{i}"), d.code.clone());
                    values.insert(format!("dx_name_{i}"), d.name.clone());
                }
            }
            Err(e) => return error_page(&ctx, s, signed.lang, &signed.path, e).await,
        }
    }
    let Some(record) = record else {
        return error_page(&ctx, s, signed.lang, &signed.path, AppError::not_found("patient_record")).await;
    };
    values.insert("patient_record_id".into(), record.to_string());
    if let Some(n) = person_name {
        values.insert("patient_name".into(), n);
    }
    form_page(&ctx, &signed, &values, None, StatusCode::OK).await
}

/// POST /referrals/new: saves the draft (`action=draft`), submits it (`action=submit`), or
/// shows the form again with the chosen institution's departments (`action=reload`).
pub async fn create(
    State(ctx): State<AppState>,
    signed: Signed,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let s = &signed.session;
    let values: HashMap<String, String> = pairs.into_iter().collect();
    if !csrf_ok(s, v(&values, "_csrf")) {
        return error_page(&ctx, s, signed.lang, &signed.path, AppError::Forbidden { code: "csrf_failed" })
            .await;
    }
    let action = v(&values, "action");
    if action == "reload" {
        return form_page(&ctx, &signed, &values, None, StatusCode::OK).await;
    }
    let submit = action == "submit";
    let t = Tr { lang: signed.lang };
    let result = match draft_of(&values, ctx.today()) {
        Ok(draft) => referral::create(&ctx, &s.actor, draft, submit).await,
        Err(invalid) => Err(invalid.into()),
    };
    match result {
        Ok(view) => {
            let done = if submit { "submitted" } else { "saved" };
            Redirect::to(&format!("/referrals/{}?done={done}", view.referral.id)).into_response()
        }
        Err(AppError::Invalid(invalid)) => {
            form_page(
                &ctx,
                &signed,
                &values,
                Some(Failure::Invalid(invalid)),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(AppError::Transition { code, message, .. }) => {
            let text = error_text(t, code, &message);
            form_page(&ctx, &signed, &values, Some(Failure::Message(text)), StatusCode::CONFLICT).await
        }
        Err(e) => error_page(&ctx, s, signed.lang, &signed.path, e).await,
    }
}

enum Failure {
    Invalid(Invalid),
    Message(String),
}

fn v<'a>(values: &'a HashMap<String, String>, name: &str) -> &'a str {
    values.get(name).map_or("", |x| x.trim())
}

fn opt(values: &HashMap<String, String>, name: &str) -> Option<String> {
    Some(v(values, name).to_owned()).filter(|x| !x.is_empty())
}

fn checked(values: &HashMap<String, String>, name: &str) -> bool {
    v(values, name) == "true"
}

/// The draft the form describes; malformed dates are field errors.
fn draft_of(values: &HashMap<String, String>, today: NaiveDate) -> Result<ReferralDraft, Invalid> {
    let mut bad = Invalid::default();
    let mut date = |name: &'static str| -> Option<NaiveDate> {
        let raw = v(values, name);
        if raw.is_empty() {
            return None;
        }
        let d = NaiveDate::parse_from_str(raw, "%Y-%m-%d").ok();
        if d.is_none() {
            bad.push(name, "date_invalid", "a date as YYYY-MM-DD");
        }
        d
    };
    let uuid = |name: &str| Uuid::parse_str(v(values, name)).ok();
    let downward = v(values, "direction") == Direction::Downward.as_str();
    let discharged_on = date("discharged_on");
    let certificate_issued = date("certificate_issued");
    let mut tests = Vec::new();
    const TEST_DATES: [&str; TEST_ROWS] = ["test_date_0", "test_date_1", "test_date_2"];
    for (i, name) in TEST_DATES.iter().enumerate() {
        let test_date = date(name);
        tests.push(SlipTest {
            name: v(values, &format!("test_name_{i}")).to_owned(),
            result: v(values, &format!("test_result_{i}")).to_owned(),
            date: test_date,
            reference: None,
        });
    }
    let diagnoses = (0..DIAGNOSIS_ROWS)
        .map(|i| {
            (v(values, &format!("dx_code_{i}")).to_uppercase(), v(values, &format!("dx_name_{i}")).to_owned())
        })
        .collect();
    let draft = ReferralDraft {
        direction: v(values, "direction").to_owned(),
        priority: v(values, "priority").to_owned(),
        patient_record_id: uuid("patient_record_id").map(PatientRecordId::from_uuid),
        from_department_id: None,
        to_institution_id: uuid("to_institution_id").map(InstitutionId::from_uuid),
        to_department_id: uuid("to_department_id").map(DepartmentId::from_uuid),
        out_of_network: checked(values, "out_of_network"),
        external_institution: opt(values, "external_institution"),
        reason: v(values, "reason").to_owned(),
        reason_text: opt(values, "reason_text"),
        chief_complaint: opt(values, "chief_complaint"),
        condition: v(values, "condition").to_owned(),
        diagnoses,
        tests,
        treatment: opt(values, "treatment"),
        precautions: opt(values, "precautions"),
        green_centre: opt(values, "green_centre"),
        lateral: checked(values, "lateral"),
        downward: downward.then(|| DownwardDetails {
            treatment_result: v(values, "treatment_result").to_owned(),
            discharge_summary: v(values, "discharge_summary").to_owned(),
            rehabilitation_advice: opt(values, "rehabilitation_advice"),
            medication_plan: opt(values, "medication_plan"),
            discharged_on: discharged_on.unwrap_or(today),
            high_risk: checked(values, "high_risk"),
        }),
        certificate_class: opt(values, "certificate_class"),
        certificate_issued,
        certificate_no: opt(values, "certificate_no"),
        consent: v(values, "consent") == "yes",
        parent_id: uuid("parent_id"),
    };
    bad.into_result(draft)
}

/// The target institutions a sender may choose, by care level: the county's hospitals, the
/// township and community centres, and the sender's own village sites.
fn targets(t: Tr, actor: &Actor, institutions: &[Institution]) -> Vec<(String, String)> {
    let own = actor.institution_id;
    let mut out = vec![(String::new(), t.get("referral.choose").to_owned())];
    let groups =
        [(2u8, "referral.group_county"), (1, "referral.group_township"), (0, "referral.group_village")];
    for (lvl, key) in groups {
        let members: Vec<&Institution> = institutions
            .iter()
            .filter(|i| Some(i.id) != own && level(i) == Some(lvl) && (lvl > 0 || i.parent_id == own))
            .collect();
        if members.is_empty() {
            continue;
        }
        out.push((format!("#{lvl}"), t.get(key).to_owned()));
        out.extend(members.iter().map(|i| (i.id.to_string(), i.name.clone())));
    }
    out
}

fn vocab<'a>(t: Tr, group: &str, codes: impl Iterator<Item = &'a str>, empty: bool) -> Vec<(String, String)> {
    let mut out = Vec::new();
    if empty {
        out.push((String::new(), t.get("referral.choose").to_owned()));
    }
    out.extend(codes.map(|c| (c.to_owned(), label(t, group, c))));
    out
}

async fn form_page(
    ctx: &yigong_app::Ctx,
    signed: &Signed,
    values: &HashMap<String, String>,
    failure: Option<Failure>,
    status: StatusCode,
) -> Response {
    let s = &signed.session;
    let actor = &s.actor;
    let institutions = match all_institutions(ctx, actor).await {
        Ok(l) => l,
        Err(e) => return error_page(ctx, s, signed.lang, "/referrals/new", e).await,
    };
    let chrome = chrome(ctx, Some(s), signed.lang, "/referrals/new", "referrals").await;
    let t = chrome.t;
    let val = |name: &str| v(values, name).to_owned();
    let field = |name: &'static str, key: &str, kind: &'static str| {
        FormField::new(name, t.get(key), kind, &val(name))
    };
    let to_departments = match Uuid::parse_str(v(values, "to_institution_id")) {
        Ok(i) => departments(ctx, actor, InstitutionId::from_uuid(i)).await.unwrap_or_default(),
        Err(_) => vec![],
    };
    let mut dept_options = vec![(String::new(), t.get("referral.department_by_receiver").to_owned())];
    dept_options.extend(to_departments);
    let mut reasons = vec![(String::new(), t.get("referral.choose").to_owned())];
    reasons.push(("#up".into(), t.get("referral.group_up_reasons").to_owned()));
    reasons.extend(UpReason::ALL.iter().map(|r| (r.as_str().to_owned(), label(t, "up_reason", r.as_str()))));
    reasons.push(("#down".into(), t.get("referral.group_down_reasons").to_owned()));
    reasons
        .extend(DownReason::ALL.iter().map(|r| (r.as_str().to_owned(), label(t, "down_reason", r.as_str()))));
    let mut main =
        vec![
            field("direction", "referral.field.direction", "select").required().options(vocab(
                t,
                "direction",
                Direction::ALL.iter().map(|d| d.as_str()),
                false,
            )),
            field("priority", "referral.field.priority", "select").required().options(vocab(
                t,
                "priority",
                Priority::ALL.iter().map(|d| d.as_str()),
                false,
            )),
            field("green_centre", "referral.field.green_centre", "select")
                .hint(t.get("referral.field.green_centre_hint"))
                .options(vocab(t, "centre", Centre::ALL.iter().map(|d| d.as_str()), true)),
            field("to_institution_id", "referral.field.to_institution", "grouped")
                .required()
                .options(targets(t, actor, &institutions)),
            field("to_department_id", "referral.field.to_department", "select")
                .hint(t.get("referral.field.to_department_hint"))
                .options(dept_options),
            field("reason", "referral.field.reason", "grouped").required().options(reasons),
            field("reason_text", "referral.field.reason_text", "text")
                .hint(t.get("referral.field.reason_text_hint")),
        ];
    let mut clinical = vec![
        field("chief_complaint", "referral.field.chief_complaint", "text"),
        field("condition", "referral.field.condition", "textarea").required(),
    ];
    let diagnoses: Vec<RowFields> = (0..DIAGNOSIS_ROWS)
        .map(|i| {
            let code_name: &'static str = ["dx_code_0", "dx_code_1", "dx_code_2"][i];
            let name_name: &'static str = ["dx_name_0", "dx_name_1", "dx_name_2"][i];
            let n = (i + 1).to_string();
            RowFields {
                fields: vec![
                    FormField::new(
                        code_name,
                        &t.fmt("referral.field.dx_code", &[("n", &n)]),
                        "text",
                        &val(code_name),
                    )
                    .autocomplete("off"),
                    FormField::new(
                        name_name,
                        &t.fmt("referral.field.dx_name", &[("n", &n)]),
                        "text",
                        &val(name_name),
                    ),
                ],
            }
        })
        .collect();
    let tests: Vec<RowFields> = (0..TEST_ROWS)
        .map(|i| {
            let names: [&'static str; 3] = [
                ["test_name_0", "test_name_1", "test_name_2"][i],
                ["test_result_0", "test_result_1", "test_result_2"][i],
                ["test_date_0", "test_date_1", "test_date_2"][i],
            ];
            let n = (i + 1).to_string();
            RowFields {
                fields: vec![
                    FormField::new(
                        names[0],
                        &t.fmt("referral.field.test_name", &[("n", &n)]),
                        "text",
                        &val(names[0]),
                    ),
                    FormField::new(
                        names[1],
                        &t.fmt("referral.field.test_result", &[("n", &n)]),
                        "text",
                        &val(names[1]),
                    ),
                    FormField::new(
                        names[2],
                        &t.fmt("referral.field.test_date", &[("n", &n)]),
                        "date",
                        &val(names[2]),
                    ),
                ],
            }
        })
        .collect();
    let mut more = vec![
        field("treatment", "referral.field.treatment", "textarea"),
        field("precautions", "referral.field.precautions", "textarea"),
    ];
    let mut certificate = vec![
        field("certificate_class", "referral.field.certificate_class", "select").options(vocab(
            t,
            "certificate",
            CertificateClass::ALL.iter().map(|d| d.as_str()),
            true,
        )),
        field("certificate_issued", "referral.field.certificate_issued", "date"),
        field("certificate_no", "referral.field.certificate_no", "text"),
    ];
    let mut downward = vec![
        field("treatment_result", "referral.field.treatment_result", "textarea"),
        field("discharge_summary", "referral.field.discharge_summary", "textarea"),
        field("rehabilitation_advice", "referral.field.rehabilitation_advice", "textarea"),
        field("medication_plan", "referral.field.medication_plan", "textarea"),
        field("discharged_on", "referral.field.discharged_on", "date"),
        field("high_risk", "referral.field.high_risk", "checkbox"),
    ];
    let mut network = vec![
        field("lateral", "referral.field.lateral", "checkbox"),
        field("out_of_network", "referral.field.out_of_network", "checkbox"),
        field("external_institution", "referral.field.external_institution", "text"),
    ];
    let mut consent = field("consent", "referral.field.consent", "select").required().options(vec![
        (String::new(), t.get("referral.choose").to_owned()),
        ("yes".into(), t.get("referral.consent_yes").to_owned()),
    ]);
    let mut error = None;
    let mut diagnoses_error = None;
    let mut tests_error = None;
    match failure {
        Some(Failure::Message(m)) => error = Some(m),
        Some(Failure::Invalid(invalid)) => {
            let mut unplaced = Vec::new();
            for e in &invalid.fields {
                let text = error_text(t, e.code, &e.message);
                if e.field == "diagnoses" {
                    diagnoses_error.get_or_insert(text);
                    continue;
                }
                if e.field == "tests" {
                    tests_error.get_or_insert(text);
                    continue;
                }
                let groups: [&mut [FormField]; 6] =
                    [&mut main, &mut clinical, &mut more, &mut certificate, &mut downward, &mut network];
                let mut placed = false;
                for g in groups {
                    if let Some(f) = g.iter_mut().find(|f| f.name == e.field) {
                        f.error.get_or_insert(text.clone());
                        placed = true;
                        break;
                    }
                }
                if !placed && e.field == "consent" {
                    consent.error.get_or_insert(text.clone());
                    placed = true;
                }
                if !placed {
                    unplaced.push(text);
                }
            }
            let mut summary = t.get("error.invalid_input").to_owned();
            for u in unplaced {
                summary.push(' ');
                summary.push_str(&u);
            }
            error = Some(summary);
        }
        None => {}
    }
    let today = ctx.today();
    let patient = match v(values, "patient_name") {
        "" => t.get("referral.unnamed").to_owned(),
        n => patient_line(t, Some(n), None, None, today),
    };
    let parent = opt(values, "parent_id");
    let heading =
        if parent.is_some() { t.get("referral.new_down_heading") } else { t.get("referral.new_heading") };
    let hidden = ["patient_record_id", "parent_id", "patient_name", "person"]
        .into_iter()
        .map(|n| (n, val(n)))
        .filter(|(_, x)| !x.is_empty())
        .collect();
    let filled = |fields: &[FormField]| fields.iter().any(|f| f.error.is_some() || !f.value.is_empty());
    let downward_open = v(values, "direction") == Direction::Downward.as_str() || filled(&downward);
    let insurance_open = filled(&certificate);
    let network_open = filled(&network);
    let page = NewPage {
        heading: heading.to_owned(),
        patient,
        error,
        hidden,
        main,
        clinical,
        diagnoses,
        diagnoses_error,
        tests,
        tests_error,
        more,
        certificate,
        downward_open,
        insurance_open,
        network_open,
        downward,
        network,
        consent,
        parent,
        chrome,
    };
    render(status, &page)
}
