//! The 360° view as a township doctor uses it: find the patient, open the consortium-wide
//! record, see what the county hospital and the village clinic recorded, filter by facility
//! and kind; a village doctor who has never seen the patient is refused.

use chrono::{Duration, Utc};
use serde_json::json;
use yigong_app::auth::{SessionKind, authenticate, login};
use yigong_app::mpi::{RegistrarChoice, register};
use yigong_app::record::{BulkResource, load_bulk};
use yigong_domain::facility::{InstitutionKind, Tier};
use yigong_domain::identity::check_char;
use yigong_domain::patient::RegistrationDraft;
use yigong_testkit::browser::Browser;

use crate::pages::log_in;
use crate::{PASSWORD, TestServer};

const NAME: &str = "欧阳晓岚";

fn resident_id() -> String {
    let first17 = "99019919620517004";
    format!("{first17}{}", check_char(first17))
}

/// Registers the patient at the township centre and loads a few months of their record at
/// the county hospital, the township centre and a village point.
pub async fn seed_record(server: &TestServer) {
    server.seed_patients(1000).await;
    let cfg = yigong_synth::SynthConfig { residents: 0, ..yigong_synth::SynthConfig::demo() };
    let org = yigong_synth::organisation(&cfg);
    let first =
        |tier: Tier| org.institutions.iter().find(|i| i.kind == InstitutionKind::Member(tier)).unwrap();
    let hospital = first(Tier::CountyGeneral);
    let township = first(Tier::TownshipCentre);
    let account_village = first(Tier::VillageServicePoint).id;
    let village = org
        .institutions
        .iter()
        .find(|i| i.parent_id == Some(township.id) && i.id != account_village)
        .expect("a second village under the township");

    let session = login(&server.ctx, "township", PASSWORD, SessionKind::Api, None, None).await.unwrap();
    let actor = authenticate(&server.ctx, &session.secret, None).await.unwrap().actor;
    let draft = RegistrationDraft {
        name: NAME.into(),
        sex: "female".into(),
        birth_date: "1962-05-17".into(),
        resident_id: Some(resident_id()),
        ..Default::default()
    };
    let registered = register(&server.ctx, &actor, &draft, RegistrarChoice::NewPerson).await.unwrap();
    let record = registered.record_id.as_uuid();
    let subject = json!({"reference": format!("Patient/{record}")});
    let at = |days: i64| (Utc::now() - Duration::days(days)).format("%Y-%m-%dT%H:%M:00+00:00").to_string();
    let org_ref =
        |i: &yigong_domain::facility::Institution| json!({"reference": format!("Organization/{}", i.id)});
    let mut resources = Vec::new();
    let mut add =
        |ty: &'static str, institution: &yigong_domain::facility::Institution, body: serde_json::Value| {
            resources.push(BulkResource {
                resource_type: ty,
                id: uuid::Uuid::now_v7().to_string(),
                institution: Some(institution.id),
                record: Some(record),
                body,
            });
        };
    let bp = |sys: u32, dia: u32, flag: &str, when: String| {
        json!({"resourceType": "Observation", "status": "final",
            "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "vital-signs"}]}],
            "code": {"coding": [{"system": "http://loinc.org", "code": "85354-9"}], "text": "血压"},
            "subject": subject, "effectiveDateTime": when,
            "component": [
                {"code": {"coding": [{"system": "http://loinc.org", "code": "8480-6"}]}, "valueQuantity": {"value": sys, "unit": "mmHg"}},
                {"code": {"coding": [{"system": "http://loinc.org", "code": "8462-4"}]}, "valueQuantity": {"value": dia, "unit": "mmHg"}}],
            "interpretation": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation", "code": flag}]}]})
    };
    // County hospital: an admission with its diagnosis, a high blood pressure, the discharge summary.
    add(
        "Encounter",
        hospital,
        json!({"resourceType": "Encounter", "status": "finished",
        "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "IMP", "display": "住院"},
        "type": [{"text": "心内科住院"}], "subject": subject, "period": {"start": at(40), "end": at(33)},
        "serviceProvider": org_ref(hospital)}),
    );
    add(
        "Condition",
        hospital,
        json!({"resourceType": "Condition", "subject": subject, "recordedDate": at(40),
        "code": {"coding": [{"system": "urn:oid:2.16.156.10011.2.3.3.11", "code": "I10.x00x002", "display": "高血压"}]}}),
    );
    add("Observation", hospital, bp(162, 98, "H", at(39)));
    add(
        "DocumentReference",
        hospital,
        json!({"resourceType": "DocumentReference", "status": "current",
        "type": {"coding": [{"system": "http://loinc.org", "code": "18842-5"}], "text": "出院小结"},
        "subject": subject, "date": at(33).replace(":00+00:00", ":00.000+00:00"), "description": "血压控制平稳出院，乡镇随访",
        "content": [{"attachment": {"contentType": "text/plain; charset=utf-8", "data": "5Ye66Zmi5bCP57uT"}}]}),
    );
    // Township centre: a follow-up with a prescription.
    add(
        "Encounter",
        township,
        json!({"resourceType": "Encounter", "status": "finished",
        "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB", "display": "门诊"},
        "type": [{"text": "慢病随访"}], "subject": subject, "period": {"start": at(20)}, "serviceProvider": org_ref(township)}),
    );
    add(
        "MedicationRequest",
        township,
        json!({"resourceType": "MedicationRequest", "status": "active", "intent": "order",
        "medicationCodeableConcept": {"coding": [{"system": "urn:yigong:catalogue:drug", "code": "D0001", "display": "硝苯地平缓释片 10mg"}]},
        "subject": subject, "authoredOn": at(20), "dosageInstruction": [{"text": "每日两次，每次1片"}]}),
    );
    // Village point: a home visit with a near-normal reading.
    add(
        "Encounter",
        village,
        json!({"resourceType": "Encounter", "status": "finished",
        "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "HH", "display": "家庭访视"},
        "type": [{"text": "入户随访"}], "subject": subject, "period": {"start": at(5)}, "serviceProvider": org_ref(village)}),
    );
    add("Observation", village, bp(138, 86, "N", at(5)));
    load_bulk(&server.ctx, org.consortium.id, resources).await.unwrap();
}

pub async fn township_doctor_reads_the_patients_year(page: &Browser) {
    log_in(page, "township").await;
    page.click_link("患者登记").await;
    page.fill_labelled("姓名", NAME).await;
    page.select_labelled("性别", "女").await;
    page.fill_labelled("身份证号", &resident_id()).await;
    crate::patients::fill_birth_date_and_search(page, "1962-05-17").await;
    page.click_link("全景视图").await;
    page.expect_text(&format!("{NAME} · 全景视图")).await;
    page.expect_text("本次查阅依据：本机构（或本乡镇组）曾诊治该患者").await;
    // What the county hospital and the village recorded, beside the township's own entries.
    page.expect_text("青岚县人民医院").await;
    page.expect_text("出院小结").await;
    page.expect_text("高血压").await;
    page.expect_text("162/98 mmHg").await;
    page.expect_text("硝苯地平缓释片 10mg").await;
    page.expect_text("138/86 mmHg").await;
    page.expect_text("家庭访视").await;
    // Only the hospital.
    page.select_labelled("机构", "青岚县人民医院").await;
    page.click_button("筛选").await;
    page.expect_text("162/98 mmHg").await;
    page.expect_no_text("硝苯地平缓释片").await;
    page.expect_no_text("138/86 mmHg").await;
    // Only prescriptions, every facility.
    let path = page.current_path().await;
    let base = path.split('?').next().unwrap().to_owned();
    page.goto(&format!("{base}?kind=MedicationRequest")).await;
    page.expect_text("硝苯地平缓释片 10mg").await;
    page.expect_no_text("162/98 mmHg").await;
    // The last 30 days: the home visit, not the admission.
    page.goto(&base).await;
    page.click_link("近30天").await;
    page.expect_text("138/86 mmHg").await;
    page.expect_no_text("出院小结").await;

    // A village doctor elsewhere has never seen this patient.
    page.click_button("退出登录").await;
    log_in(page, "village").await;
    page.goto(&base).await;
    page.expect_text("无权访问").await;
    page.expect_no_text("出院小结").await;
}
