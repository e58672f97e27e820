//! The printable referral slip (转诊单, WS 445.16): the stub kept by the sender and the slip the
//! patient carries, on one A4 page with a cut line between. It is the paper the patient carries,
//! so the identity number is shown in full. Always in Chinese: it is the official form.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use uuid::Uuid;
use yigong_app::AppError;
use yigong_app::referral;

use super::super::mpi_labels::sex_label;
use super::super::{Lang, Signed, Tr, error_page, render};
use super::detail::slip_of;
use super::{age, all_institutions, departments, label, names_of, reason_label, staff_name};
use crate::AppState;

#[derive(Template)]
#[template(path = "referral_slip.html")]
struct SlipPage {
    t: Tr,
    lang: &'static str,
    id: String,
    title: String,
    slip_no: String,
    /// (label, value) of the stub.
    stub: Vec<(String, String)>,
    /// (label, value) of the header block of the slip.
    head: Vec<(String, String)>,
    patient: Vec<(String, String)>,
    route: Vec<(String, String)>,
    clinical: Vec<(String, String)>,
    diagnoses: Vec<(String, String)>,
    tests: Vec<(String, String, String)>,
    downward: Vec<(String, String)>,
    printed: String,
}

fn push(out: &mut Vec<(String, String)>, t: Tr, key: &str, value: Option<String>) {
    out.push((t.get(key).to_owned(), value.filter(|v| !v.trim().is_empty()).unwrap_or_default()));
}

/// GET /referrals/{id}/slip.
pub async fn slip(State(ctx): State<AppState>, signed: Signed, Path(id): Path<String>) -> Response {
    let s = &signed.session;
    let Ok(id) = Uuid::parse_str(&id) else {
        return error_page(&ctx, s, signed.lang, &signed.path, AppError::not_found("referral")).await;
    };
    let result = async {
        let view = referral::get(&ctx, &s.actor, id).await?;
        let institutions = all_institutions(&ctx, &s.actor).await?;
        Ok::<_, AppError>((view, institutions))
    }
    .await;
    let (view, institutions) = match result {
        Ok(v) => v,
        Err(e) => return error_page(&ctx, s, signed.lang, &signed.path, e).await,
    };
    let t = Tr { lang: Lang::ZhCn };
    let today = ctx.today();
    let names = names_of(&institutions);
    let r = &view.referral;
    let inst = |i| names.get(&i).cloned();
    let dept = |list: &[(String, String)], d: Option<yigong_domain::ids::DepartmentId>| {
        let d = d?.to_string();
        list.iter().find(|(id, _)| *id == d).map(|(_, n)| n.clone())
    };
    let from_depts = departments(&ctx, &s.actor, r.from_institution_id).await.unwrap_or_default();
    let to_depts = match r.to_institution_id {
        Some(i) => departments(&ctx, &s.actor, i).await.unwrap_or_default(),
        None => vec![],
    };
    let clinician = staff_name(&ctx, &s.actor, r.from_staff_id).await;
    let values = view.patient.as_ref().map(|p| p.values.clone()).unwrap_or_default();
    let slip = slip_of(&view);
    let from_name = inst(r.from_institution_id);
    let to_name = r.to_institution_id.and_then(inst).or_else(|| r.external_institution.clone());
    let time = r.submitted_at.unwrap_or(r.created_at);
    let title = t.fmt("referral.slip.title", &[("direction", &label(t, "direction", r.direction.as_str()))]);

    let mut head = Vec::new();
    push(&mut head, t, "referral.slip.no", Some(r.slip_no.clone()));
    push(&mut head, t, "referral.field.direction", Some(label(t, "direction", r.direction.as_str())));
    push(&mut head, t, "referral.field.priority", Some(label(t, "priority", r.priority.as_str())));
    push(&mut head, t, "referral.slip.time", Some(t.datetime(time)));
    push(&mut head, t, "referral.slip.state", Some(label(t, "state", r.state.as_str())));

    let mut patient = Vec::new();
    push(&mut patient, t, "referral.field.name", values.name.clone());
    push(&mut patient, t, "referral.field.sex", Some(sex_label(t, values.sex.as_deref())));
    push(&mut patient, t, "referral.field.birth_date", values.birth_date.clone());
    push(
        &mut patient,
        t,
        "referral.slip.age",
        age(values.birth_date.as_deref(), today)
            .map(|a| t.fmt("referral.age_years", &[("n", &a.to_string())])),
    );
    let id_type = values.resident_id.as_ref().map(|_| t.get("referral.slip.id_type_resident").to_owned());
    push(&mut patient, t, "referral.slip.id_type", id_type);
    push(&mut patient, t, "referral.slip.id_number", values.resident_id.clone());
    push(&mut patient, t, "referral.field.phone", values.phone.clone());
    let address = match (&values.address, &values.village_code) {
        (Some(a), Some(c)) => Some(format!("{a} ({c})")),
        (Some(a), None) => Some(a.clone()),
        (None, Some(c)) => Some(c.clone()),
        (None, None) => None,
    };
    push(&mut patient, t, "referral.slip.address", address);
    push(&mut patient, t, "referral.slip.insurance_no", values.insurance_number.clone());
    if let Some((class, until)) = referral::certificate_expiry(r) {
        let no = r.certificate_no.clone().unwrap_or_default();
        push(
            &mut patient,
            t,
            "referral.field.certificate",
            Some(format!(
                "{no} {} · {}",
                label(t, "certificate", class.as_str()),
                t.fmt("referral.valid_until", &[("date", &t.date(until))])
            )),
        );
    }
    push(&mut patient, t, "referral.slip.record_no", view.patient.as_ref().map(|p| p.local_id.clone()));

    let mut route = Vec::new();
    push(&mut route, t, "referral.slip.from_institution", from_name.clone());
    push(&mut route, t, "referral.slip.from_department", dept(&from_depts, r.from_department_id));
    push(
        &mut route,
        t,
        "referral.field.clinician",
        clinician.clone().map(|(n, title)| if title.is_empty() { n } else { format!("{n} ({title})") }),
    );
    push(&mut route, t, "referral.slip.to_institution", to_name.clone());
    push(&mut route, t, "referral.slip.to_department", dept(&to_depts, r.to_department_id));

    let mut clinical = Vec::new();
    push(&mut clinical, t, "referral.field.chief_complaint", slip.chief_complaint.clone());
    push(&mut clinical, t, "referral.field.condition", slip.condition.clone());
    push(&mut clinical, t, "referral.field.treatment", slip.treatment.clone());
    let reason = match &r.reason_text {
        Some(x) => format!("{} · {x}", reason_label(t, &r.reason)),
        None => reason_label(t, &r.reason),
    };
    push(&mut clinical, t, "referral.field.reason", Some(reason));
    push(&mut clinical, t, "referral.field.precautions", slip.precautions.clone());
    if let Some(c) = r.green_centre {
        push(&mut clinical, t, "referral.field.green_centre", Some(label(t, "centre", c.as_str())));
    }

    let mut downward = Vec::new();
    if let Some(d) = &slip.downward {
        push(&mut downward, t, "referral.field.treatment_result", Some(d.treatment_result.clone()));
        push(&mut downward, t, "referral.field.discharge_summary", Some(d.discharge_summary.clone()));
        push(&mut downward, t, "referral.field.rehabilitation_advice", d.rehabilitation_advice.clone());
        push(&mut downward, t, "referral.field.medication_plan", d.medication_plan.clone());
        push(&mut downward, t, "referral.field.discharged_on", Some(t.date(d.discharged_on)));
        let follow = view.follow_up.as_ref().map(|f| t.date(f.due_on));
        push(&mut downward, t, "referral.slip.follow_up", follow);
    }

    let mut stub = Vec::new();
    push(&mut stub, t, "referral.slip.no", Some(r.slip_no.clone()));
    push(&mut stub, t, "referral.field.name", values.name.clone());
    push(&mut stub, t, "referral.field.sex", Some(sex_label(t, values.sex.as_deref())));
    push(
        &mut stub,
        t,
        "referral.slip.age",
        age(values.birth_date.as_deref(), today)
            .map(|a| t.fmt("referral.age_years", &[("n", &a.to_string())])),
    );
    push(&mut stub, t, "referral.slip.id_number", values.resident_id.clone());
    push(&mut stub, t, "referral.slip.to_institution", to_name);
    push(
        &mut stub,
        t,
        "referral.slip.diagnosis",
        slip.diagnoses.first().map(|d| format!("{} {}", d.code, d.name)),
    );
    push(&mut stub, t, "referral.field.clinician", clinician.map(|(n, _)| n));
    push(&mut stub, t, "referral.slip.time", Some(t.datetime(time)));

    let page = SlipPage {
        t,
        lang: t.lang.tag(),
        id: r.id.to_string(),
        title,
        slip_no: r.slip_no.clone(),
        stub,
        head,
        patient,
        route,
        clinical,
        diagnoses: slip.diagnoses.iter().map(|d| (d.code.clone(), d.name.clone())).collect(),
        tests: slip
            .tests
            .iter()
            .map(|x| (x.name.clone(), x.result.clone(), x.date.map(|d| d.to_string()).unwrap_or_default()))
            .collect(),
        downward,
        printed: t.datetime(ctx.clock.now()),
    };
    render(StatusCode::OK, &page)
}
