//! Two-way referral over the API: the closed loop, green channels, the refusals (409 with the
//! allowed transitions, 422 out of network, stale versions), the referral grant, timers and
//! two coordinators accepting at once.

use axum::http::StatusCode;
use chrono::Duration;
use serde_json::{Value, json};

use crate::helpers::TestApp;

struct County {
    hospital: String,
    township: String,
    village: String,
    cardiology: String,
    village_doctor: String,
    township_doctor: String,
    coordinator: String,
    coordinator2: String,
    specialist: String,
    township_coordinator: String,
    manager: String,
}

async fn county(app: &TestApp) -> County {
    let base = app.consortium().await;
    let (hospital, township, village) = app.small_county().await;
    let d = app
        .post(
            &format!("{base}/institutions/{hospital}/departments"),
            json!({"name": "心血管内科", "subject_code": "03", "kind": "clinical"}),
        )
        .await;
    assert_eq!(d.status, StatusCode::CREATED, "{}", d.text);
    County {
        cardiology: d.body["id"].as_str().unwrap().to_owned(),
        village_doctor: app.user("vdoc", "village_doctor", Some(&village)).await,
        township_doctor: app.user("tdoc", "township_doctor", Some(&township)).await,
        coordinator: app.user("coord", "referral_coordinator", Some(&hospital)).await,
        coordinator2: app.user("coord2", "referral_coordinator", Some(&hospital)).await,
        specialist: app.user("spec", "county_specialist", Some(&hospital)).await,
        township_coordinator: app.user("tcoord", "referral_coordinator", Some(&township)).await,
        manager: app.user("manager", "consortium_manager", None).await,
        hospital,
        township,
        village,
    }
}

/// Registers a patient at the caller's institution: (record id, person id).
async fn patient(app: &TestApp, token: &str, local: &str) -> (String, String) {
    let r = app
        .post_as(
            token,
            "/api/v1/mpi/registrations",
            json!({"name": "欧阳晓岚", "sex": "female", "birth_date": "1962-05-17", "no_id_reason": "not_carried", "local_id": local}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    (r.body["record_id"].as_str().unwrap().to_owned(), r.body["person_id"].as_str().unwrap().to_owned())
}

fn upward(record: &str, to: &str, priority: &str) -> Value {
    json!({
        "direction": "upward", "priority": priority, "patient_record_id": record, "to_institution_id": to,
        "reason": "further_examination", "condition": "胸闷气短三天，活动后加重",
        "diagnoses": [{"code": "I20.000", "name": "不稳定型心绞痛"}],
        "tests": [{"name": "心电图", "result": "ST段压低", "date": "2026-03-01"}],
        "consent": true
    })
}

async fn act(app: &TestApp, token: &str, id: &str, body: Value) -> crate::helpers::Reply {
    app.post_as(token, &format!("/api/v1/referrals/{id}/transitions"), body).await
}

#[track_caller]
fn ok(r: &crate::helpers::Reply) -> &Value {
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    &r.body
}

pub async fn closed_loop(app: TestApp) {
    let c = county(&app).await;
    let (record, person) = patient(&app, &c.village_doctor, "V-0001").await;

    // Before any referral the county specialist may not read the village's patient.
    let r = app.get_as(&c.specialist, &format!("/api/v1/persons/{person}/record")).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);

    let r =
        app.post_as(&c.village_doctor, "/api/v1/referrals", upward(&record, &c.hospital, "routine")).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let up = r.body["id"].as_str().unwrap().to_owned();
    assert_eq!(r.body["state"], "submitted");
    assert_eq!(r.body["version"], 2);
    assert!(r.body["slip_no"].as_str().unwrap().starts_with("ZZ"));

    // One live referral per patient and direction.
    let r = app.post_as(&c.village_doctor, "/api/v1/referrals", upward(&record, &c.hospital, "urgent")).await;
    r.assert_error(StatusCode::CONFLICT, "referral_live_exists", None);

    // The coordinator's worklist: new, with the patient's name.
    let r = app.get_as(&c.coordinator, "/api/v1/referrals?tab=new").await;
    let items = ok(&r)["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{}", r.text);
    assert_eq!(items[0]["patient_name"], "欧阳晓岚");
    assert_eq!(r.body["counts"]["new"], 1);

    // A transition not allowed now: 409 with the state and what is allowed.
    let r = act(&app, &c.coordinator, &up, json!({"transition": "arrive", "version": 2})).await;
    r.assert_error(StatusCode::CONFLICT, "invalid_transition", None);
    assert_eq!(r.body["state"], "submitted");
    let allowed: Vec<&str> =
        r.body["allowed_transitions"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
    assert_eq!(allowed, ["accept", "reject", "redirect"]);
    // The sender may not accept its own referral.
    let r = act(
        &app,
        &c.village_doctor,
        &up,
        json!({"transition": "accept", "version": 2, "department_id": c.cardiology}),
    )
    .await;
    r.assert_error(StatusCode::CONFLICT, "wrong_party", None);
    // Accept without a department names the field.
    let r = act(&app, &c.coordinator, &up, json!({"transition": "accept", "version": 2})).await;
    r.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_input", Some(("department_id", "required")));

    let r = act(
        &app,
        &c.coordinator,
        &up,
        json!({"transition": "accept", "version": 2, "department_id": c.cardiology}),
    )
    .await;
    assert_eq!(ok(&r)["state"], "accepted");
    // A stale version: 409, nothing overwritten.
    let slot = (app.clock_now() + Duration::hours(20)).to_rfc3339();
    let r = act(&app, &c.coordinator, &up, json!({"transition": "schedule", "version": 2, "slot_at": slot}))
        .await;
    r.assert_error(StatusCode::CONFLICT, "referral_stale", None);
    let r = app.get_as(&c.coordinator, &format!("/api/v1/referrals/{up}")).await;
    assert_eq!(ok(&r)["state"], "accepted");
    assert_eq!(r.body["version"], 3);

    // From acceptance, the receiving hospital's clinicians read the record (basis referral).
    let r = app.get_as(&c.specialist, &format!("/api/v1/persons/{person}/record")).await;
    assert_eq!(ok(&r)["basis"], "referral", "{}", r.text);

    let r = act(
        &app,
        &c.coordinator,
        &up,
        json!({"transition": "schedule", "version": 3, "slot_at": slot, "slot_text": "心内科 12 床"}),
    )
    .await;
    assert_eq!(ok(&r)["state"], "scheduled");
    for (t, v) in [("arrive", 4), ("start_care", 5)] {
        let r = act(&app, &c.coordinator, &up, json!({"transition": t, "version": v})).await;
        ok(&r);
    }
    // Discharge with a downward referral back to the township: the up-referral completes.
    let r = app
        .post_as(
            &c.specialist,
            "/api/v1/referrals",
            json!({
                "direction": "downward", "priority": "routine", "patient_record_id": record,
                "to_institution_id": c.township, "reason": "stable_after_acute", "condition": "PCI 术后病情稳定",
                "parent_id": up, "consent": true,
                "downward": {"treatment_result": "好转", "discharge_summary": "冠脉支架植入术后第5天出院",
                             "rehabilitation_advice": "低盐低脂饮食", "medication_plan": "阿司匹林 100mg qd",
                             "discharged_on": app.clock_now().date_naive(), "high_risk": true}
            }),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let down = r.body["id"].as_str().unwrap().to_owned();
    let r = app.get_as(&c.coordinator, &format!("/api/v1/referrals/{up}")).await;
    assert_eq!(ok(&r)["state"], "completed");
    assert_eq!(r.body["outcome"], "admitted_discharged");
    assert_eq!(r.body["children"][0], down.as_str());

    // The township accepts; a follow-up task is due 3 days after discharge (high risk).
    let r = app.get_as(&c.township_coordinator, &format!("/api/v1/referrals/{down}")).await;
    let version = ok(&r)["version"].clone();
    let r =
        act(&app, &c.township_coordinator, &down, json!({"transition": "accept", "version": version})).await;
    let task = ok(&r)["follow_up"].clone();
    assert_eq!(task["state"], "open");
    assert_eq!(task["due_on"], (app.clock_now().date_naive() + Duration::days(3)).to_string());
    let r = app.get_as(&c.township_doctor, "/api/v1/follow-ups").await;
    assert_eq!(ok(&r).as_array().unwrap().len(), 1);
    // A follow-up without what it found is refused.
    let task_id = task["id"].as_str().unwrap();
    let r = app
        .post_as(&c.township_doctor, &format!("/api/v1/follow-ups/{task_id}/complete"), json!({"note": " "}))
        .await;
    r.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_input", Some(("note", "required")));
    let r = app
        .post_as(
            &c.township_doctor,
            &format!("/api/v1/follow-ups/{task_id}/complete"),
            json!({"note": "血压 128/80，服药规律"}),
        )
        .await;
    assert_eq!(ok(&r)["state"], "done");

    // The loop is closed: both referrals closed, the up one counted as a loop.
    let r = app.get_as(&c.coordinator, &format!("/api/v1/referrals/{up}")).await;
    assert_eq!(ok(&r)["state"], "closed", "{}", r.text);
    assert_eq!(r.body["closed_loop"], true);
    let transitions: Vec<&str> =
        r.body["events"].as_array().unwrap().iter().map(|e| e["transition"].as_str().unwrap()).collect();
    assert_eq!(
        transitions,
        ["create", "submit", "accept", "schedule", "arrive", "start_care", "complete", "close"]
    );
    let r = app.get_as(&c.township_coordinator, &format!("/api/v1/referrals/{down}")).await;
    assert_eq!(ok(&r)["state"], "closed");

    // The referral over FHIR: a ServiceRequest and its Task, valid R4, kept by the workflow.
    let r = app.get_as(&c.coordinator, &format!("/fhir/ServiceRequest/{up}")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert!(
        yigong_fhir::validate::validate(&r.body).is_empty(),
        "{:?}",
        yigong_fhir::validate::validate(&r.body)
    );
    assert_eq!(r.body["status"], "completed");
    assert_eq!(r.body["subject"]["reference"], format!("Patient/{record}"));
    assert_eq!(r.body["reasonCode"][1]["coding"][0]["code"], "I20.000");
    let r = app.get_as(&c.coordinator, &format!("/fhir/Task/{up}-task")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert!(
        yigong_fhir::validate::validate(&r.body).is_empty(),
        "{:?}",
        yigong_fhir::validate::validate(&r.body)
    );
    assert_eq!(
        (r.body["status"].as_str(), r.body["businessStatus"]["coding"][0]["code"].as_str()),
        (Some("completed"), Some("closed"))
    );
    assert_eq!(r.body["meta"]["versionId"], "8", "one version per step");
    let r = app
        .send(
            axum::http::Method::PUT,
            &format!("/fhir/Task/{up}-task"),
            Some(&c.coordinator),
            Some("application/fhir+json"),
            &r.text,
        )
        .await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED, "{}", r.text);
    let r = app.get_as(&c.coordinator, &format!("/fhir/ServiceRequest?subject=Patient/{record}")).await;
    assert_eq!(
        r.body["total"].as_u64().or(Some(r.body["entry"].as_array().map_or(0, |e| e.len() as u64))),
        Some(2),
        "{}",
        r.text
    );

    // The sending doctor heard of every step.
    let r = app.get_as(&c.village_doctor, "/api/v1/notifications").await;
    let kinds: Vec<&str> = ok(&r).as_array().unwrap().iter().map(|n| n["kind"].as_str().unwrap()).collect();
    for k in ["referral_accept", "referral_schedule", "referral_arrive", "referral_close"] {
        assert!(kinds.contains(&k), "{k} in {kinds:?}");
    }
    // The receiving centre was told of the new referral.
    let r = app.get_as(&c.coordinator, "/api/v1/notifications").await;
    assert!(ok(&r).as_array().unwrap().iter().any(|n| n["kind"] == "referral_received"));

    // Metrics: one up and one down arrived (the down one at the follow-up), one closed loop of one.
    let r = app.get_as(&c.manager, "/api/v1/referral-metrics").await;
    let total = &ok(&r)["total"];
    assert_eq!(
        (total["arrived_up"].as_u64(), total["arrived_down"].as_u64()),
        (Some(1), Some(1)),
        "{}",
        r.text
    );
    assert_eq!(total["closed_loop"]["num"], 1);
    assert_eq!(total["closed_loop"]["den"], 1);
    assert_eq!(total["acceptance"]["percent"], 100.0);
    let r = app.get_as(&c.manager, "/api/v1/referral-metrics/drill-down?measure=closed_loop").await;
    let list = ok(&r).as_array().unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["id"], up.as_str());
    assert_eq!(list[0]["patient_record_id"], uuid::Uuid::nil().to_string(), "drill-down is de-identified");
    // A village doctor has no metrics.
    let r = app.get_as(&c.village_doctor, "/api/v1/referral-metrics").await;
    r.assert_error(StatusCode::FORBIDDEN, "forbidden", None);
}

pub async fn green_channel_and_refusals(app: TestApp) {
    let c = county(&app).await;
    let (record, _) = patient(&app, &c.township_doctor, "T-0001").await;
    // A routine referral first, then a green one for the same patient supersedes it.
    let r =
        app.post_as(&c.township_doctor, "/api/v1/referrals", upward(&record, &c.hospital, "routine")).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let routine = r.body["id"].as_str().unwrap().to_owned();
    let mut green = upward(&record, &c.hospital, "green");
    // Green needs its centre.
    let r = app.post_as(&c.township_doctor, "/api/v1/referrals", green.clone()).await;
    r.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_input", Some(("green_centre", "required")));
    green["green_centre"] = json!("chest_pain");
    green["to_department_id"] = json!(c.cardiology);
    let r = app.post_as(&c.township_doctor, "/api/v1/referrals", green).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.body["state"], "accepted", "green skips approval");
    let id = r.body["id"].as_str().unwrap().to_owned();
    let r = app.get_as(&c.township_doctor, &format!("/api/v1/referrals/{routine}")).await;
    assert_eq!(ok(&r)["state"], "cancelled");
    assert_eq!(r.body["events"].as_array().unwrap().last().unwrap()["reason"], "superseded_by_green");
    // The receiving centre is paged.
    let r = app.get_as(&c.coordinator, "/api/v1/notifications").await;
    let page =
        ok(&r).as_array().unwrap().iter().find(|n| n["kind"] == "green_page").expect("a green page").clone();
    assert_eq!(page["urgent"], true);

    // The time chain: FMC at the township, ECG 8 minutes later.
    let fmc = app.clock_now() - Duration::minutes(30);
    let r = app
        .post_as(
            &c.township_doctor,
            &format!("/api/v1/referrals/{id}/stamps"),
            json!({"milestone": "first_medical_contact", "at": fmc}),
        )
        .await;
    ok(&r);
    let r = app
        .post_as(
            &c.township_doctor,
            &format!("/api/v1/referrals/{id}/stamps"),
            json!({"milestone": "ecg", "at": fmc + Duration::minutes(8), "source": "device"}),
        )
        .await;
    let metrics = ok(&r)["metrics"].as_array().unwrap();
    let fmc_to_ecg = metrics.iter().find(|m| m["metric"] == "fmc_to_ecg").unwrap();
    assert_eq!(
        fmc_to_ecg,
        &json!({"metric": "fmc_to_ecg", "minutes": 8, "target_minutes": 10, "compliant": true})
    );
    let r = app
        .post_as(
            &c.township_doctor,
            &format!("/api/v1/referrals/{id}/stamps"),
            json!({"milestone": "needle", "at": fmc}),
        )
        .await;
    r.assert_error(
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_input",
        Some(("milestone", "milestone_not_in_chain")),
    );
    let r = app
        .post_as(
            &c.township_doctor,
            &format!("/api/v1/referrals/{id}/stamps"),
            json!({"milestone": "door", "at": app.clock_now() + Duration::hours(2)}),
        )
        .await;
    r.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_input", Some(("at", "in_future")));

    // Out of network without the flag: 422; with it and a name: created, then handed off.
    let mut out = upward(&record, &uuid::Uuid::now_v7().to_string(), "routine");
    out["direction"] = json!("upward");
    let (record2, _) = patient(&app, &c.village_doctor, "V-0002").await;
    out["patient_record_id"] = json!(record2);
    let r = app.post_as(&c.village_doctor, "/api/v1/referrals", out.clone()).await;
    r.assert_error(
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_input",
        Some(("to_institution_id", "out_of_network")),
    );
    out["to_institution_id"] = Value::Null;
    out["out_of_network"] = json!(true);
    out["external_institution"] = json!("演示省人民医院");
    out["submit"] = json!(false);
    let r = app.post_as(&c.village_doctor, "/api/v1/referrals", out).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.body["state"], "draft");
    let draft = r.body["id"].as_str().unwrap().to_owned();
    // Drafts are invisible to the receiver; unknown ids are 404.
    let r = app.get_as(&c.coordinator, &format!("/api/v1/referrals/{}", uuid::Uuid::now_v7())).await;
    r.assert_error(StatusCode::NOT_FOUND, "not_found", None);
    // Only a sending referral centre hands off; a village doctor is the wrong party.
    let r = act(
        &app,
        &c.village_doctor,
        &draft,
        json!({"transition": "send_out", "version": 1, "external_institution": "演示省人民医院"}),
    )
    .await;
    r.assert_error(StatusCode::CONFLICT, "wrong_party", None);
    // Down from a village is refused by the tiers.
    let mut down = upward(&record2, &c.township, "routine");
    down["direction"] = json!("downward");
    down["reason"] = json!("rehabilitation");
    let r = app.post_as(&c.village_doctor, "/api/v1/referrals", down).await;
    r.assert_error(
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_input",
        Some(("to_institution_id", "direction_mismatch")),
    );
    let _ = &c.village;
}

pub async fn timers_expire_and_escalate(app: TestApp) {
    let c = county(&app).await;
    let (record, _) = patient(&app, &c.village_doctor, "V-0003").await;
    let r = app.post_as(&c.village_doctor, "/api/v1/referrals", upward(&record, &c.hospital, "urgent")).await;
    let id = r.body["id"].as_str().unwrap().to_owned();
    // Past the 2 h SLA: overdue, the on-duty coordinator's.
    app.clock.advance(Duration::minutes(150));
    let r = app.get_as(&c.coordinator, "/api/v1/referrals?tab=overdue").await;
    let items = ok(&r)["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{}", r.text);
    assert_eq!(items[0]["escalation"], "on_duty");
    app.clock.advance(Duration::hours(2));
    let r = app.get_as(&c.coordinator, &format!("/api/v1/referrals/{id}")).await;
    assert_eq!(ok(&r)["escalation"], "medical_affairs");
    let r = act(
        &app,
        &c.coordinator,
        &id,
        json!({"transition": "accept", "version": 2, "department_id": c.cardiology}),
    )
    .await;
    ok(&r);
    // Accepted and never arrived: expires after 24 h (urgent), by the timer.
    app.clock.advance(Duration::hours(23));
    assert_eq!(yigong_app::referral::run_timers(&app.ctx, app.consortium_id).await.unwrap(), 0);
    app.clock.advance(Duration::hours(2));
    assert_eq!(yigong_app::referral::run_timers(&app.ctx, app.consortium_id).await.unwrap(), 1);
    // A day has passed: the doctor logs in again.
    let village_doctor = login(&app, "vdoc").await;
    let r = app.get_as(&village_doctor, &format!("/api/v1/referrals/{id}")).await;
    assert_eq!(ok(&r)["state"], "expired");
    assert_eq!(r.body["events"].as_array().unwrap().last().unwrap()["party"], "system");
    // Once ended, the patient may be referred again.
    let r = app.post_as(&village_doctor, "/api/v1/referrals", upward(&record, &c.hospital, "routine")).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
}

/// Kinds of the notifications `token` sees.
async fn kinds(app: &TestApp, token: &str) -> Vec<String> {
    let r = app.get_as(token, "/api/v1/notifications").await;
    ok(&r).as_array().unwrap().iter().map(|n| n["kind"].as_str().unwrap().to_owned()).collect()
}

pub async fn reminders_reach_who_must_act(app: TestApp) {
    let c = county(&app).await;
    let announce = || yigong_app::referral::announce(&app.ctx, app.consortium_id);
    let township_head = app.user("thead", "institution_admin", Some(&c.township)).await;
    // An urgent referral left unanswered: at 1× its 2 h SLA the receiving centre's on-duty
    // coordinator is reminded, once; at 2× the consortium's medical affairs office.
    let (record, _) = patient(&app, &c.village_doctor, "V-0005").await;
    let r = app.post_as(&c.village_doctor, "/api/v1/referrals", upward(&record, &c.hospital, "urgent")).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    app.clock.advance(Duration::minutes(119));
    assert_eq!(announce().await.unwrap(), 0, "within its SLA");
    app.clock.advance(Duration::minutes(2));
    assert_eq!(announce().await.unwrap(), 1);
    assert_eq!(announce().await.unwrap(), 0, "announced once");
    assert!(kinds(&app, &c.coordinator).await.contains(&"referral_escalated_on_duty".to_owned()));
    assert!(!kinds(&app, &c.manager).await.iter().any(|k| k.starts_with("referral_escalated")));
    app.clock.advance(Duration::hours(2));
    assert_eq!(announce().await.unwrap(), 1);
    assert!(kinds(&app, &c.manager).await.contains(&"referral_escalated_medical_affairs".to_owned()));
    assert!(!kinds(&app, &township_head).await.iter().any(|k| k.starts_with("referral_escalated")));
    let village_doctor = login(&app, "vdoc").await;
    assert!(
        !kinds(&app, &village_doctor).await.iter().any(|k| k.starts_with("referral_escalated")),
        "the sender is not paged for the receiver's delay"
    );
    let id = r.body["id"].as_str().unwrap().to_owned();
    let r = app.get_as(&c.coordinator, &format!("/api/v1/referrals/{id}")).await;
    let version = ok(&r)["version"].clone();
    let r = act(
        &app,
        &c.coordinator,
        &id,
        json!({"transition": "reject", "version": version, "reason": "no_bed"}),
    )
    .await;
    ok(&r);

    // A green page read in time is not escalated; one left unread is, to medical affairs.
    let mut green = upward(&record, &c.hospital, "green");
    green["green_centre"] = json!("chest_pain");
    let r = app.post_as(&village_doctor, "/api/v1/referrals", green).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let green_id = r.body["id"].as_str().unwrap().to_owned();
    app.clock.advance(Duration::minutes(9));
    assert_eq!(announce().await.unwrap(), 0);
    app.clock.advance(Duration::minutes(2));
    assert_eq!(announce().await.unwrap(), 1, "the page went unacknowledged");
    let r = app.get_as(&c.manager, "/api/v1/notifications").await;
    let late = ok(&r).as_array().unwrap().iter().find(|n| n["kind"] == "green_page_unacknowledged").unwrap();
    assert_eq!(late["referral_id"], green_id.as_str());
    assert_eq!(late["urgent"], true);
    assert_eq!(announce().await.unwrap(), 0);

    // A down-referral's follow-up left past its day: the township's head hears of it.
    let (record2, _) = patient(&app, &c.specialist, "H-0006").await;
    let r = app
        .post_as(
            &c.specialist,
            "/api/v1/referrals",
            json!({
                "direction": "downward", "priority": "routine", "patient_record_id": record2,
                "to_institution_id": c.township, "reason": "chronic_long_term_care", "condition": "高血压病情稳定",
                "consent": true,
                "downward": {"treatment_result": "好转", "discharge_summary": "血压控制良好出院",
                             "rehabilitation_advice": "低盐饮食", "medication_plan": "氨氯地平 5mg qd",
                             "discharged_on": app.clock_now().date_naive(), "high_risk": false}
            }),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let down = r.body["id"].as_str().unwrap().to_owned();
    let r = app.get_as(&c.township_coordinator, &format!("/api/v1/referrals/{down}")).await;
    let version = ok(&r)["version"].clone();
    let r =
        act(&app, &c.township_coordinator, &down, json!({"transition": "accept", "version": version})).await;
    let due: chrono::NaiveDate = ok(&r)["follow_up"]["due_on"].as_str().unwrap().parse().unwrap();
    let before = announce().await.unwrap();
    assert!(!kinds(&app, &township_head).await.contains(&"follow_up_overdue".to_owned()), "{before}");
    // The day after the due day (China time).
    while (app.clock_now() + Duration::hours(8)).date_naive() <= due {
        app.clock.advance(Duration::hours(12));
    }
    assert!(announce().await.unwrap() >= 1);
    // Days have passed: they log in again.
    let township_head = login(&app, "thead").await;
    let r = app.get_as(&township_head, "/api/v1/notifications").await;
    let overdue: Vec<&Value> =
        ok(&r).as_array().unwrap().iter().filter(|n| n["kind"] == "follow_up_overdue").collect();
    assert_eq!(overdue.len(), 1, "{}", r.text);
    assert_eq!(overdue[0]["referral_id"], down.as_str());
    assert_eq!(announce().await.unwrap(), 0, "announced once");
    let township_doctor = login(&app, "tdoc").await;
    assert!(!kinds(&app, &township_doctor).await.contains(&"follow_up_overdue".to_owned()));
}

async fn login(app: &TestApp, username: &str) -> String {
    use yigong_app::auth::{SessionKind, login};
    login(&app.ctx, username, crate::helpers::PASSWORD, SessionKind::Api, None, None).await.unwrap().secret
}

pub async fn two_coordinators_accept_at_once(app: TestApp) {
    let c = county(&app).await;
    let (record, _) = patient(&app, &c.village_doctor, "V-0004").await;
    for round in 0..5 {
        let (record, _) = if round == 0 {
            (record.clone(), String::new())
        } else {
            patient(&app, &c.village_doctor, &format!("V-1{round}")).await
        };
        let r = app
            .post_as(&c.village_doctor, "/api/v1/referrals", upward(&record, &c.hospital, "routine"))
            .await;
        let id = r.body["id"].as_str().unwrap().to_owned();
        let body = json!({"transition": "accept", "version": 2, "department_id": c.cardiology});
        let (a, b) =
            tokio::join!(act(&app, &c.coordinator, &id, body.clone()), act(&app, &c.coordinator2, &id, body));
        let statuses = [a.status, b.status];
        assert_eq!(statuses.iter().filter(|s| **s == StatusCode::OK).count(), 1, "{} / {}", a.text, b.text);
        let loser = if a.status == StatusCode::OK { &b } else { &a };
        assert_eq!(loser.status, StatusCode::CONFLICT, "{}", loser.text);
        let r = app.get_as(&c.coordinator, &format!("/api/v1/referrals/{id}")).await;
        let accepts =
            ok(&r)["events"].as_array().unwrap().iter().filter(|e| e["transition"] == "accept").count();
        assert_eq!(accepts, 1);
        assert_eq!(r.body["version"], 3);
    }
}
