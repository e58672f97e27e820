//! The authorisation matrix: every route of the published description has a rule here, and
//! for each, requests without credentials, with a role lacking the permission, and with the
//! right role in another institution's or consortium's scope are refused (401/403 with the
//! JSON error body), and every refusal is audited. A new route without a rule fails this test.

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};
use yigong_app::audit::AuditFilter;
use yigong_domain::ids::ConsortiumId;
use yigong_domain::page::PageRequest;

use crate::helpers::TestApp;

/// Who can be shown refused for a route.
pub struct Rule {
    method: &'static str,
    path: &'static str,
    /// Open without credentials.
    public: bool,
    /// A role that never has the permission (refused with `forbidden`).
    lacking: Option<&'static str>,
    /// Refused for another consortium's administrator (the route names a consortium).
    other_consortium: bool,
    /// Refused for the township centre's institution administrator (the route writes the
    /// county hospital's records).
    other_institution: bool,
    /// A well-formed body, so that refusals come from authorisation, not parsing.
    body: fn(&Ids) -> Value,
}

pub struct Ids {
    consortium: String,
    hospital: String,
    township: String,
    staff: String,
    posting: String,
    department: String,
    user: String,
}

fn none(_: &Ids) -> Value {
    Value::Null
}

const fn rule(method: &'static str, path: &'static str) -> Rule {
    Rule {
        method,
        path,
        public: false,
        lacking: None,
        other_consortium: false,
        other_institution: false,
        body: none,
    }
}

/// Every route and its rule.
pub fn rules() -> Vec<Rule> {
    let institution = |_: &Ids| json!({"code": "H01", "name": "青岚县人民医院", "tier": "county_general", "division_code": "990121000000"});
    let department = |_: &Ids| json!({"name": "急诊医学科", "subject_code": "20", "kind": "clinical"});
    let staff = |ids: &Ids| json!({"code": "S9", "name": "林晓", "sex": "female", "category": "physician", "employer_institution_id": ids.hospital});
    let posting =
        |ids: &Ids| json!({"institution_id": ids.township, "source": "dispatch", "valid_from": "2026-03-01"});
    let match_body = |_: &Ids| json!({"name": "王小明", "birth_date": "1980-03-05"});
    let registration = |_: &Ids| json!({"name": "王小明", "sex": "male", "birth_date": "1980-03-05", "no_id_reason": "not_carried"});
    let merge = |_: &Ids| json!({"absorbed_person_id": uuid::Uuid::nil(), "reason": "same person"});
    let link = |_: &Ids| json!({"person_id": uuid::Uuid::nil(), "reason": "same person"});
    let reason = |_: &Ids| json!({"reason": "checked with the patient"});
    let decision = |_: &Ids| json!({"decision": "different"});
    let import = |_: &Ids| json!({"source": "T101", "mapping": "id_column = \"id\"\n[fields]\nname = \"name\"\n", "content_base64": "aWQsbmFtZQo="});
    let user = |ids: &Ids| json!({"username": "newdoc", "display_name": "新医生", "password": "abcdef123456", "role": "county_specialist", "institution_id": ids.hospital});
    vec![
        Rule { public: true, ..rule("get", "/healthz") },
        Rule { public: true, ..rule("post", "/api/v1/auth/token") },
        rule("delete", "/api/v1/auth/token"),
        rule("get", "/api/v1/auth/me"),
        Rule {
            body: |_| json!({"current_password": "x", "new_password": "y"}),
            ..rule("put", "/api/v1/auth/password")
        },
        Rule {
            lacking: Some("system_admin"),
            body: |_| json!({"patient_id": "00000000-0000-7000-8000-00000000000a", "reason_code": "emergency", "reason_text": "昏迷"}),
            ..rule("post", "/api/v1/break-glass")
        },
        rule("get", "/api/v1/consortia"),
        Rule {
            lacking: Some("consortium_manager"),
            body: |_| json!({"name": "x", "county_code": "990123", "founded_on": "2021-01-01"}),
            ..rule("post", "/api/v1/consortia")
        },
        Rule { other_consortium: true, ..rule("get", "/api/v1/consortia/{consortium_id}") },
        Rule { other_consortium: true, ..rule("get", "/api/v1/consortia/{consortium_id}/institutions") },
        Rule {
            lacking: Some("village_doctor"),
            other_consortium: true,
            other_institution: true,
            body: institution,
            ..rule("post", "/api/v1/consortia/{consortium_id}/institutions")
        },
        Rule {
            other_consortium: true,
            ..rule("get", "/api/v1/consortia/{consortium_id}/institutions/{institution_id}")
        },
        Rule {
            lacking: Some("village_doctor"),
            other_consortium: true,
            other_institution: true,
            body: institution,
            ..rule("put", "/api/v1/consortia/{consortium_id}/institutions/{institution_id}")
        },
        Rule {
            other_consortium: true,
            ..rule("get", "/api/v1/consortia/{consortium_id}/institutions/{institution_id}/departments")
        },
        Rule {
            lacking: Some("village_doctor"),
            other_consortium: true,
            other_institution: true,
            body: department,
            ..rule("post", "/api/v1/consortia/{consortium_id}/institutions/{institution_id}/departments")
        },
        Rule {
            lacking: Some("village_doctor"),
            other_consortium: true,
            other_institution: true,
            body: department,
            ..rule(
                "put",
                "/api/v1/consortia/{consortium_id}/institutions/{institution_id}/departments/{department_id}",
            )
        },
        Rule { other_consortium: true, ..rule("get", "/api/v1/consortia/{consortium_id}/staff") },
        Rule {
            lacking: Some("village_doctor"),
            other_consortium: true,
            other_institution: true,
            body: staff,
            ..rule("post", "/api/v1/consortia/{consortium_id}/staff")
        },
        Rule { other_consortium: true, ..rule("get", "/api/v1/consortia/{consortium_id}/staff/{staff_id}") },
        Rule {
            lacking: Some("village_doctor"),
            other_consortium: true,
            other_institution: true,
            body: staff,
            ..rule("put", "/api/v1/consortia/{consortium_id}/staff/{staff_id}")
        },
        Rule {
            other_consortium: true,
            ..rule("get", "/api/v1/consortia/{consortium_id}/staff/{staff_id}/postings")
        },
        Rule {
            lacking: Some("village_doctor"),
            other_consortium: true,
            other_institution: true,
            body: posting,
            ..rule("post", "/api/v1/consortia/{consortium_id}/staff/{staff_id}/postings")
        },
        Rule {
            lacking: Some("village_doctor"),
            other_consortium: true,
            other_institution: true,
            body: posting,
            ..rule("put", "/api/v1/consortia/{consortium_id}/staff/{staff_id}/postings/{posting_id}")
        },
        Rule {
            lacking: Some("village_doctor"),
            other_consortium: true,
            ..rule("get", "/api/v1/consortia/{consortium_id}/users")
        },
        Rule {
            lacking: Some("village_doctor"),
            other_consortium: true,
            other_institution: true,
            body: user,
            ..rule("post", "/api/v1/consortia/{consortium_id}/users")
        },
        Rule {
            lacking: Some("village_doctor"),
            other_consortium: true,
            other_institution: true,
            ..rule("post", "/api/v1/consortia/{consortium_id}/users/{user_id}/disable")
        },
        Rule {
            lacking: Some("village_doctor"),
            other_consortium: true,
            other_institution: true,
            ..rule("post", "/api/v1/consortia/{consortium_id}/users/{user_id}/enable")
        },
        Rule {
            lacking: Some("village_doctor"),
            other_consortium: true,
            ..rule("get", "/api/v1/consortia/{consortium_id}/audit")
        },
        Rule {
            lacking: Some("village_doctor"),
            other_consortium: true,
            ..rule("get", "/api/v1/consortia/{consortium_id}/audit/export.csv")
        },
        Rule { lacking: Some("system_admin"), body: match_body, ..rule("post", "/api/v1/mpi/match") },
        Rule {
            lacking: Some("system_admin"),
            body: registration,
            ..rule("post", "/api/v1/mpi/registrations")
        },
        Rule { lacking: Some("system_admin"), ..rule("get", "/api/v1/mpi/persons/{person_id}") },
        Rule {
            lacking: Some("village_doctor"),
            body: merge,
            ..rule("post", "/api/v1/mpi/persons/{person_id}/merge")
        },
        Rule {
            lacking: Some("village_doctor"),
            body: link,
            ..rule("post", "/api/v1/mpi/records/{record_id}/link")
        },
        Rule {
            lacking: Some("village_doctor"),
            body: reason,
            ..rule("post", "/api/v1/mpi/records/{record_id}/unlink")
        },
        Rule {
            lacking: Some("village_doctor"),
            body: reason,
            ..rule("post", "/api/v1/mpi/operations/{operation_id}/undo")
        },
        Rule { lacking: Some("village_doctor"), ..rule("get", "/api/v1/mpi/review") },
        Rule { lacking: Some("village_doctor"), body: import, ..rule("post", "/api/v1/mpi/imports") },
        Rule { lacking: Some("system_admin"), ..rule("get", "/api/v1/mpi/review/{record_a}/{record_b}") },
        Rule {
            lacking: Some("village_doctor"),
            body: decision,
            ..rule("post", "/api/v1/mpi/review/{record_a}/{record_b}/decision")
        },
        Rule { lacking: Some("system_admin"), ..rule("get", "/api/v1/persons/{person_id}/record") },
        // Referrals: clinical, never an administrator's; metrics are management's, not a village doctor's.
        Rule { lacking: Some("system_admin"), body: referral_body, ..rule("post", "/api/v1/referrals") },
        Rule { lacking: Some("system_admin"), ..rule("get", "/api/v1/referrals") },
        Rule { lacking: Some("system_admin"), ..rule("get", "/api/v1/referrals/{id}") },
        Rule {
            lacking: Some("system_admin"),
            body: transition_body,
            ..rule("post", "/api/v1/referrals/{id}/transitions")
        },
        Rule {
            lacking: Some("system_admin"),
            body: stamp_body,
            ..rule("post", "/api/v1/referrals/{id}/stamps")
        },
        Rule { lacking: Some("system_admin"), ..rule("get", "/api/v1/follow-ups") },
        Rule {
            lacking: Some("system_admin"),
            body: note_body,
            ..rule("post", "/api/v1/follow-ups/{id}/complete")
        },
        // One's own notifications: every account.
        rule("get", "/api/v1/notifications"),
        Rule { body: read_body, ..rule("post", "/api/v1/notifications/read") },
        Rule { lacking: Some("village_doctor"), ..rule("get", "/api/v1/referral-metrics") },
        Rule { lacking: Some("village_doctor"), ..rule("get", "/api/v1/referral-metrics/drill-down") },
        // FHIR: clinical data is never an administrator's.
        Rule { public: true, ..rule("get", "/fhir/metadata") },
        Rule { lacking: Some("system_admin"), body: fhir_bundle, ..rule("post", "/fhir") },
        Rule { lacking: Some("system_admin"), body: fhir_match, ..rule("post", "/fhir/Patient/$match") },
        Rule { lacking: Some("system_admin"), ..rule("get", "/fhir/{type}") },
        Rule { lacking: Some("system_admin"), body: fhir_observation, ..rule("post", "/fhir/{type}") },
        Rule { lacking: Some("system_admin"), ..rule("post", "/fhir/{type}/_search") },
        Rule { lacking: Some("system_admin"), ..rule("get", "/fhir/{type}/{id}") },
        Rule { lacking: Some("system_admin"), body: fhir_observation, ..rule("put", "/fhir/{type}/{id}") },
        Rule { lacking: Some("system_admin"), ..rule("delete", "/fhir/{type}/{id}") },
        Rule { lacking: Some("system_admin"), ..rule("get", "/fhir/{type}/{id}/_history") },
        Rule { lacking: Some("system_admin"), ..rule("get", "/fhir/{type}/{id}/_history/{vid}") },
        // Reading centres: clinical work is never an administrator's; the catalogue is read by
        // everyone and kept by management; metrics are management's.
        Rule { lacking: Some("system_admin"), ..rule("get", "/api/v1/exams") },
        Rule { lacking: Some("system_admin"), body: exam_body, ..rule("post", "/api/v1/exams") },
        Rule { lacking: Some("system_admin"), ..rule("get", "/api/v1/exams/recognition-prompt") },
        Rule { lacking: Some("system_admin"), ..rule("get", "/api/v1/exams/{id}") },
        Rule {
            lacking: Some("system_admin"),
            body: |_| json!({"transition": "claim", "version": 1}),
            ..rule("post", "/api/v1/exams/{id}/transitions")
        },
        Rule { lacking: Some("system_admin"), ..rule("post", "/api/v1/exams/{id}/complete") },
        Rule {
            lacking: Some("system_admin"),
            body: |_| json!({"step": "collected", "place": "青石镇卫生院"}),
            ..rule("post", "/api/v1/exams/{id}/specimen")
        },
        Rule { lacking: Some("system_admin"), ..rule("get", "/api/v1/reading/worklist") },
        Rule { lacking: Some("system_admin"), ..rule("get", "/api/v1/critical-values") },
        Rule {
            lacking: Some("system_admin"),
            body: |_| json!({"step": "acknowledge", "read_back": "血钾 6.8"}),
            ..rule("post", "/api/v1/critical-values/{id}/steps")
        },
        rule("get", "/api/v1/exam-items"),
        Rule {
            lacking: Some("village_doctor"),
            body: |_| json!({"name": "胸部正位片", "kind": "dr", "price_fen": 5000}),
            ..rule("put", "/api/v1/exam-items/{code}")
        },
        Rule {
            lacking: Some("village_doctor"),
            body: |_| json!({"passed": true, "valid_until": "2027-06-30"}),
            ..rule("put", "/api/v1/exam-items/{code}/qc/{institution_id}")
        },
        rule("get", "/api/v1/reading/templates/{kind}"),
        rule("get", "/api/v1/reading/signing-key"),
        Rule { lacking: Some("village_doctor"), ..rule("get", "/api/v1/reading/metrics") },
        Rule { lacking: Some("system_admin"), ..rule("get", "/dicomweb/studies") },
        Rule { lacking: Some("system_admin"), ..rule("post", "/dicomweb/studies") },
        Rule { lacking: Some("system_admin"), ..rule("get", "/dicomweb/studies/{study}") },
        Rule { lacking: Some("system_admin"), ..rule("get", "/dicomweb/studies/{study}/metadata") },
        Rule { lacking: Some("system_admin"), ..rule("get", "/dicomweb/studies/{study}/series") },
        Rule { lacking: Some("system_admin"), ..rule("get", "/dicomweb/studies/{study}/instances") },
        Rule {
            lacking: Some("system_admin"),
            ..rule("get", "/dicomweb/studies/{study}/series/{series}/instances")
        },
        Rule {
            lacking: Some("system_admin"),
            ..rule("get", "/dicomweb/studies/{study}/series/{series}/instances/{instance}")
        },
        Rule {
            lacking: Some("system_admin"),
            ..rule(
                "get",
                "/dicomweb/studies/{study}/series/{series}/instances/{instance}/frames/{frame}/rendered",
            )
        },
    ]
}

fn exam_body(_: &Ids) -> Value {
    json!({"patient_record_id": "0190a3c0-0000-7000-8000-000000000002", "item_code": "DR-CHEST",
           "urgency": "outpatient", "question": "咳嗽两周"})
}

fn referral_body(ids: &Ids) -> Value {
    json!({"direction": "upward", "priority": "routine", "patient_record_id": "0190a3c0-0000-7000-8000-000000000002",
           "to_institution_id": ids.hospital, "reason": "further_examination", "condition": "胸闷", "consent": true})
}

fn transition_body(_: &Ids) -> Value {
    json!({"transition": "accept", "version": 1})
}

fn stamp_body(_: &Ids) -> Value {
    json!({"milestone": "ecg", "at": "2026-01-01T00:00:00Z"})
}

fn note_body(_: &Ids) -> Value {
    json!({"note": "随访血压 128/80"})
}

fn read_body(_: &Ids) -> Value {
    json!({"ids": []})
}

fn fhir_observation(_: &Ids) -> Value {
    json!({"resourceType": "Observation", "id": "0190a3c0-0000-7000-8000-000000000006", "status": "final",
           "code": {"text": "血糖"}, "subject": {"reference": "Patient/0190a3c0-0000-7000-8000-000000000002"}})
}

fn fhir_bundle(ids: &Ids) -> Value {
    json!({"resourceType": "Bundle", "type": "transaction",
           "entry": [{"resource": fhir_observation(ids), "request": {"method": "POST", "url": "Observation"}}]})
}

fn fhir_match(_: &Ids) -> Value {
    json!({"resourceType": "Parameters", "parameter": [{"name": "resource",
           "resource": {"resourceType": "Patient", "name": [{"text": "王芳"}], "birthDate": "1960-01-01"}}]})
}

/// (method, path) of every rule, sorted.
pub fn rule_routes() -> Vec<(String, String)> {
    let mut v: Vec<_> = rules().iter().map(|r| (r.method.to_owned(), r.path.to_owned())).collect();
    v.sort();
    v
}

fn concrete(path: &str, ids: &Ids) -> String {
    path.replace("{consortium_id}", &ids.consortium)
        .replace("{institution_id}", &ids.hospital)
        .replace("{department_id}", &ids.department)
        .replace("{staff_id}", &ids.staff)
        .replace("{posting_id}", &ids.posting)
        .replace("{user_id}", &ids.user)
        // Index ids need not exist: refusals come before any lookup.
        .replace("{person_id}", "0190a3c0-0000-7000-8000-000000000001")
        .replace("{record_id}", "0190a3c0-0000-7000-8000-000000000002")
        .replace("{record_a}", "0190a3c0-0000-7000-8000-000000000003")
        .replace("{record_b}", "0190a3c0-0000-7000-8000-000000000004")
        .replace("{operation_id}", "0190a3c0-0000-7000-8000-000000000005")
        .replace("{type}", "Observation")
        .replace("{id}", "0190a3c0-0000-7000-8000-000000000006")
        .replace("{vid}", "1")
        .replace("{study}", "1.2.826.0.1.3680043.2.1")
        .replace("{series}", "1.2.826.0.1.3680043.2.2")
        .replace("{instance}", "1.2.826.0.1.3680043.2.3")
        .replace("{frame}", "1")
        .replace("{code}", "DR-CHEST")
        .replace("{kind}", "ct")
}

async fn denied_rows(app: &TestApp, consortia: &[ConsortiumId]) -> usize {
    let filter = AuditFilter { outcome: Some("denied".into()), ..Default::default() };
    let mut n = 0;
    for c in consortia {
        let mut tx = app.ctx.db.begin().await.unwrap();
        let mut page = PageRequest { size: 500, after: None };
        loop {
            let p = yigong_store::audit::list(&mut tx, *c, &filter, &page).await.unwrap();
            n += p.items.len();
            match p.next_after {
                Some(a) => page.after = Some(a),
                None => break,
            }
        }
    }
    n
}

pub async fn every_route_refuses_and_audits(app: TestApp) {
    let base = app.consortium().await;
    let (hospital, township, _village) = app.small_county().await;
    let s = app
        .post(&format!("{base}/staff"), json!({"code": "S1", "name": "王芳", "sex": "female", "category": "physician", "employer_institution_id": hospital}))
        .await;
    let staff = s.body["id"].as_str().unwrap().to_owned();
    let p = app
        .post(
            &format!("{base}/staff/{staff}/postings"),
            json!({"institution_id": hospital, "valid_from": "2020-01-01"}),
        )
        .await;
    let d = app
        .post(
            &format!("{base}/institutions/{hospital}/departments"),
            json!({"name": "内科", "subject_code": "03", "kind": "clinical"}),
        )
        .await;
    let u = app
        .post(&format!("{base}/users"), json!({"username": "doc1", "display_name": "医生", "password": "abcdef123456", "role": "county_specialist", "institution_id": hospital}))
        .await;
    assert_eq!(u.status, StatusCode::CREATED, "{}", u.text);
    let ids = Ids {
        consortium: app.consortium_id.to_string(),
        hospital: hospital.clone(),
        township: township.clone(),
        staff,
        posting: p.body["id"].as_str().unwrap().to_owned(),
        department: d.body["id"].as_str().unwrap().to_owned(),
        user: u.body["user_id"].as_str().unwrap().to_owned(),
    };
    // Another consortium with its own administrator.
    let console = yigong_app::access::console(app.consortium_id);
    let other = yigong_app::registry::create_consortium(
        &app.ctx,
        &console,
        yigong_domain::facility::ConsortiumDraft {
            name: "白水县医共体".into(),
            county_code: "990122".into(),
            founded_on: chrono::NaiveDate::from_ymd_opt(2021, 1, 1),
        },
    )
    .await
    .unwrap();
    let other_admin = app.user_in(other.id, "admin2", "system_admin", None).await;
    let township_admin = app.user("tadmin", "institution_admin", Some(&township)).await;
    let mut tokens = std::collections::HashMap::new();
    for role in ["village_doctor", "system_admin", "consortium_manager"] {
        let institution = if role == "village_doctor" { Some(_village.as_str()) } else { None };
        tokens.insert(role, app.user(&format!("lack_{role}"), role, institution).await);
    }
    let consortia = [app.consortium_id, other.id, ConsortiumId::from_uuid(uuid::Uuid::nil())];

    // The published description and this table list the same routes.
    let doc = app.get("/api/openapi.json").await;
    let mut published = Vec::new();
    for (path, item) in doc.body["paths"].as_object().unwrap() {
        for method in ["get", "post", "put", "patch", "delete"] {
            if item.get(method).is_some() {
                published.push((method.to_owned(), path.clone()));
            }
        }
    }
    published.sort();
    assert_eq!(
        published,
        rule_routes(),
        "every published route needs a rule in matrix.rs, and every rule a route"
    );

    for r in rules() {
        let uri = concrete(r.path, &ids);
        let method: Method = r.method.to_uppercase().parse().unwrap();
        let body = (r.body)(&ids);
        let (ct, text) =
            if body.is_null() { (None, String::new()) } else { (Some("application/json"), body.to_string()) };
        let what = format!("{} {}", r.method, r.path);
        let probe = Probe {
            app: &app,
            consortia: &consortia,
            method: method.clone(),
            uri: &uri,
            ct,
            text: &text,
            what: &what,
        };
        if r.public {
            let reply = app.send(method.clone(), &uri, None, ct, &text).await;
            assert_ne!(reply.status, StatusCode::UNAUTHORIZED, "{what} is public");
            continue;
        }
        probe.refused(None, StatusCode::UNAUTHORIZED, "unauthenticated").await;
        probe.refused(Some("not-a-token"), StatusCode::UNAUTHORIZED, "unauthenticated").await;
        if let Some(role) = r.lacking {
            probe.refused(Some(&tokens[role]), StatusCode::FORBIDDEN, "forbidden").await;
        }
        if r.other_consortium {
            probe.refused(Some(&other_admin), StatusCode::FORBIDDEN, "out_of_scope").await;
        }
        if r.other_institution {
            probe.refused(Some(&township_admin), StatusCode::FORBIDDEN, "out_of_scope").await;
        }
    }
}

/// One route's request, sent with different credentials.
struct Probe<'a> {
    app: &'a TestApp,
    consortia: &'a [ConsortiumId],
    method: Method,
    uri: &'a str,
    ct: Option<&'static str>,
    text: &'a str,
    what: &'a str,
}

impl Probe<'_> {
    async fn refused(&self, token: Option<&str>, status: StatusCode, code: &str) {
        let what = self.what;
        let before = denied_rows(self.app, self.consortia).await;
        let reply = self.app.send(self.method.clone(), self.uri, token, self.ct, self.text).await;
        assert_eq!(reply.status, status, "{what} as {token:?}: {}", reply.text);
        if self.uri.starts_with("/fhir") {
            // FHIR answers with an OperationOutcome.
            let issue = if code == "unauthenticated" { "login" } else { "forbidden" };
            assert_eq!(reply.body["resourceType"], "OperationOutcome", "{what}: {}", reply.text);
            assert_eq!(reply.body["issue"][0]["code"], issue, "{what}: {}", reply.text);
        } else {
            assert_eq!(reply.body["error"], code, "{what}: {}", reply.text);
            assert!(reply.body["message"].is_string(), "{what}: JSON error body");
        }
        let after = denied_rows(self.app, self.consortia).await;
        assert_eq!(after, before + 1, "{what}: the refusal is audited once");
    }
}
