//! Reading centres over the API: a township order becomes a county report and comes back (images
//! by STOW-RS, atomic claim, signed report, amendment), fifty readers claiming one item, leases
//! running out, critical values acknowledged only at the ordering site and escalated with a moved
//! clock, the mutual-recognition prompt and its metrics, and the specimen chain of a lab item.

use axum::http::{Method, StatusCode};
use chrono::Duration;
use serde_json::{Value, json};

use crate::helpers::{Reply, TestApp};

struct County {
    hospital: String,
    township: String,
    township_doctor: String,
    other_doctor: String,
    reader: String,
    reader2: String,
    manager: String,
}

async fn county(app: &TestApp) -> County {
    let base = app.consortium().await;
    let (hospital, township, _village) = app.small_county().await;
    let other = app
        .institution(
            &base,
            json!({"code": "T02", "name": "白沙镇卫生院", "tier": "township_centre", "division_code": "990121102000"}),
        )
        .await;
    let c = County {
        township_doctor: app.user("tdoc", "township_doctor", Some(&township)).await,
        other_doctor: app.user("odoc", "township_doctor", Some(&other)).await,
        reader: app.user("reader", "reader", Some(&hospital)).await,
        reader2: app.user("reader2", "reader", Some(&hospital)).await,
        manager: app.user("manager", "consortium_manager", None).await,
        hospital,
        township,
    };
    for (code, name, kind, modality, price, recognition) in [
        ("CT-HEAD", "头颅CT平扫", "ct", Some("CT"), 18_000, true),
        ("ECG-12", "十二导联心电图", "ecg", Some("ECG"), 2_500, false),
        ("LAB-K", "血钾测定", "lab", None, 800, true),
    ] {
        let mut body = json!({"name": name, "kind": kind, "modality": modality, "price_fen": price});
        if recognition {
            body["recognition_kind"] = json!(if kind == "lab" { "lab" } else { "exam" });
            body["validity_days"] = json!(30);
            body["scope"] = json!("consortium");
        }
        let r = app.put_as(&c.manager, &format!("/api/v1/exam-items/{code}"), body).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        if recognition {
            let r = app
                .put_as(
                    &c.manager,
                    &format!("/api/v1/exam-items/{code}/qc/{}", c.hospital),
                    json!({"passed": true, "valid_until": "2099-12-31"}),
                )
                .await;
            assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
        }
    }
    c
}

async fn patient(app: &TestApp, token: &str, local: &str) -> String {
    let r = app
        .post_as(
            token,
            "/api/v1/mpi/registrations",
            json!({"name": "欧阳晓岚", "sex": "female", "birth_date": "1962-05-17", "no_id_reason": "not_carried", "local_id": local}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    r.body["record_id"].as_str().unwrap().to_owned()
}

/// The details of the audit trail's refusals.
async fn denied_details(app: &TestApp) -> Vec<String> {
    let filter = yigong_app::audit::AuditFilter { outcome: Some("denied".into()), ..Default::default() };
    let mut tx = app.ctx.db.begin().await.unwrap();
    let page = yigong_domain::page::PageRequest { size: 500, after: None };
    let rows = yigong_store::audit::list(&mut tx, app.consortium_id, &filter, &page).await.unwrap();
    rows.items.into_iter().filter_map(|r| r.detail).collect()
}

#[track_caller]
fn ok(r: &Reply) -> &Value {
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    &r.body
}

async fn order(app: &TestApp, token: &str, record: &str, code: &str, urgency: &str) -> Reply {
    app.post_as(
        token,
        "/api/v1/exams",
        json!({"patient_record_id": record, "item_code": code, "urgency": urgency, "question": "头痛三天，排除颅内出血"}),
    )
    .await
}

async fn act(app: &TestApp, token: &str, id: &str, body: Value) -> Reply {
    app.post_as(token, &format!("/api/v1/exams/{id}/transitions"), body).await
}

async fn exam(app: &TestApp, token: &str, id: &str) -> Value {
    ok(&app.get_as(token, &format!("/api/v1/exams/{id}")).await).clone()
}

/// Stores one synthetic CT slice for an accession number by STOW-RS.
async fn send_image(app: &TestApp, token: &str, accession: &str, seed: u128) {
    use yigong_dicom::synthetic::{Slice, part10, uid};
    let bytes = part10(&Slice {
        study_uid: &uid(seed << 16),
        series_uid: &uid((seed << 16) | 1),
        sop_uid: &uid((seed << 16) | 2),
        patient_id: "T-0001",
        patient_name: "Ouyang^Xiaolan=欧阳^晓岚",
        birth_date: "19620517",
        sex: "F",
        accession,
        study_date: "20261205",
        number: 1,
        size: 32,
    });
    let boundary = "XyigongBoundary0123";
    let mut body = format!("--{boundary}\r\nContent-Type: application/dicom\r\n\r\n").into_bytes();
    body.extend_from_slice(&bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let ct = format!("multipart/related; type=\"application/dicom\"; boundary={boundary}");
    let (status, _, text) = app
        .send_bytes(Method::POST, "/dicomweb/studies", token, &[("content-type", ct.as_str())], body)
        .await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&text));
}

fn ct_report(impression: &str) -> Value {
    json!({"fields": {"findings": "右侧基底节区见类圆形高密度影，周围见低密度水肿带，中线结构居中。",
                      "impression": impression, "body_part": "头颅", "contrast": "none"}})
}

/// An ordered CT item sent for reading: (item id, accession number).
async fn queued_ct(app: &TestApp, c: &County, local: &str, seed: u128) -> (String, String, String) {
    let record = patient(app, &c.township_doctor, local).await;
    let r = order(app, &c.township_doctor, &record, "CT-HEAD", "outpatient").await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let id = r.body["exam"]["id"].as_str().unwrap().to_owned();
    let accession = r.body["exam"]["accession_no"].as_str().unwrap().to_owned();
    send_image(app, &c.township_doctor, &accession, seed).await;
    let r = app.post_as(&c.township_doctor, &format!("/api/v1/exams/{id}/complete"), json!({})).await;
    assert_eq!(ok(&r)["state"], "queued");
    (id, accession, record)
}

pub async fn order_report_and_back(app: TestApp) {
    let c = county(&app).await;
    let record = patient(&app, &c.township_doctor, "T-0001").await;
    // Bad orders: unknown item, missing question, a stranger's patient.
    order(&app, &c.township_doctor, &record, "NOPE", "outpatient").await.assert_error(
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_input",
        Some(("item_code", "unknown_item")),
    );
    let r = app
        .post_as(&c.township_doctor, "/api/v1/exams", json!({"patient_record_id": record, "item_code": "CT-HEAD", "urgency": "outpatient", "question": " "}))
        .await;
    r.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_input", Some(("question", "required")));
    let r = order(&app, &c.township_doctor, &record, "CT-HEAD", "soon").await;
    r.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_input", Some(("urgency", "unknown_code")));

    let r = order(&app, &c.township_doctor, &record, "CT-HEAD", "outpatient").await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert!(r.body["decision"].is_null());
    let id = r.body["exam"]["id"].as_str().unwrap().to_owned();
    let accession = r.body["exam"]["accession_no"].as_str().unwrap().to_owned();
    assert_eq!(r.body["exam"]["state"], "ordered");
    assert_eq!(r.body["exam"]["centre"], "imaging");
    // Sent for reading before any image arrived: refused, nothing changes.
    let r = app.post_as(&c.township_doctor, &format!("/api/v1/exams/{id}/complete"), json!({})).await;
    r.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_input", Some(("images", "no_images")));
    send_image(&app, &c.township_doctor, &accession, 4101).await;
    // Another township's doctor may not send it.
    let r = app.post_as(&c.other_doctor, &format!("/api/v1/exams/{id}/complete"), json!({})).await;
    r.assert_error(StatusCode::FORBIDDEN, "out_of_scope", None);
    let r = app.post_as(&c.township_doctor, &format!("/api/v1/exams/{id}/complete"), json!({})).await;
    let e = ok(&r);
    assert_eq!(e["state"], "queued");
    assert_eq!(e["images"], 1);
    assert_eq!(e["studies"].as_array().unwrap().len(), 1);
    let received: chrono::DateTime<chrono::Utc> = e["received_at"].as_str().unwrap().parse().unwrap();
    let due: chrono::DateTime<chrono::Utc> = e["due_at"].as_str().unwrap().parse().unwrap();
    assert_eq!(due - received, Duration::hours(4), "outpatient CT: 4 h");

    // The county's imaging worklist shows it; the township doctor has no worklist.
    let w = ok(&app.get_as(&c.reader, "/api/v1/reading/worklist?centre=imaging").await).clone();
    assert_eq!(w["queued"], 1);
    assert_eq!(w["items"][0]["id"], id.as_str());
    assert_eq!(w["items"][0]["patient_name"], "欧阳晓岚");
    assert_eq!(w["items"][0]["origin_name"], "东关镇卫生院");
    let r = app.get_as(&c.township_doctor, "/api/v1/reading/worklist?centre=imaging").await;
    r.assert_error(StatusCode::FORBIDDEN, "not_a_reader", None);

    // Claimed by one reader; the other may neither claim nor sign it.
    let v = e["version"].as_i64().unwrap();
    let r = act(&app, &c.reader, &id, json!({"transition": "claim", "version": v})).await;
    assert_eq!(ok(&r)["state"], "claimed");
    let v = r.body["version"].as_i64().unwrap();
    let r = act(&app, &c.reader2, &id, json!({"transition": "claim", "version": 0})).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text);
    let r = act(
        &app,
        &c.reader2,
        &id,
        json!({"transition": "finalise", "version": v, "report": ct_report("右侧基底节区脑出血")}),
    )
    .await;
    r.assert_error(StatusCode::FORBIDDEN, "not_assigned", None);
    let denied = denied_details(&app).await;
    assert!(denied.iter().any(|d| d == "denial=not_assigned"), "the refused signature is audited");
    // A report without its impression is refused with the field named; nothing is signed.
    let bad = json!({"fields": {"findings": "未见异常", "body_part": "头颅"}});
    let r = act(&app, &c.reader, &id, json!({"transition": "finalise", "version": v, "report": bad})).await;
    r.assert_error(
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_input",
        Some(("fields.impression", "required")),
    );
    let r = act(&app, &c.reader, &id, json!({"transition": "finalise", "version": v, "report": ct_report("右侧基底节区脑出血（约 12 ml）")})).await;
    let e = ok(&r).clone();
    assert_eq!(e["state"], "delivered", "a final report goes back at once");
    assert_eq!(e["reports"].as_array().unwrap().len(), 1);
    assert_eq!(e["reports"][0]["status"], "final");
    assert_eq!(e["reports"][0]["hr"], true, "recognisable item, producer with valid QC");
    assert_eq!(e["hr"], true);
    assert_eq!(e["signatures_valid"], true);
    assert_eq!(e["reports"][0]["content"]["fields"]["impression"], "右侧基底节区脑出血（约 12 ml）");
    assert_eq!(e["reports"][0]["content_hash"].as_str().unwrap().len(), 64);
    let key = ok(&app.get_as(&c.reader, "/api/v1/reading/signing-key").await).clone();
    assert_eq!(key["algorithm"], "SM2-SM3");
    assert!(app.ctx.signer.verify(
        e["reports"][0]["content_hash"].as_str().unwrap(),
        e["reports"][0]["signature"].as_str().unwrap()
    ));

    // Back at the township: the item, its report and a notification.
    let e = exam(&app, &c.township_doctor, &id).await;
    assert_eq!(e["basis"], "own_institution");
    assert_eq!(e["reports"][0]["author_name"], "reader");
    let notes = ok(&app.get_as(&c.township_doctor, "/api/v1/notifications").await).clone();
    assert!(
        notes.as_array().unwrap().iter().any(|n| n["kind"] == "report_ready" && n["order_id"] == id.as_str()),
        "{notes}"
    );
    // In the shared record: the DiagnosticReport of the item, kept by the workflow.
    let r = app.get_as(&c.township_doctor, &format!("/fhir/DiagnosticReport/{id}")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["status"], "final");
    assert_eq!(r.body["conclusion"], "右侧基底节区脑出血（约 12 ml）");
    assert_eq!(r.body["subject"]["reference"], format!("Patient/{record}"));
    assert!(
        r.body["extension"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x["url"] == "urn:yigong:fhir:mutual-recognition" && x["valueBoolean"] == true)
    );
    let r = app
        .send(
            Method::PUT,
            &format!("/fhir/DiagnosticReport/{id}"),
            Some(&c.township_doctor),
            Some("application/fhir+json"),
            &json!({"resourceType": "DiagnosticReport", "id": id, "status": "final", "code": {"text": "x"}})
                .to_string(),
        )
        .await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED, "{}", r.text);
    let list = ok(&app.get_as(&c.township_doctor, "/api/v1/exams").await).clone();
    assert_eq!(list["items"][0]["id"], id.as_str());
    let r = app.get_as(&c.other_doctor, &format!("/api/v1/exams/{id}")).await;
    r.assert_error(StatusCode::FORBIDDEN, "out_of_scope", None);

    // An amendment needs a reason and becomes version 2; the first stays.
    let v = e["version"].as_i64().unwrap();
    let r = act(
        &app,
        &c.reader,
        &id,
        json!({"transition": "amend", "version": v, "report": ct_report("右侧基底节区脑出血（约 15 ml）")}),
    )
    .await;
    r.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_input", Some(("reason", "required")));
    let r = act(&app, &c.reader, &id, json!({"transition": "amend", "version": v, "reason": "出血量测量更正", "report": ct_report("右侧基底节区脑出血（约 15 ml）")})).await;
    let e = ok(&r).clone();
    assert_eq!(e["state"], "delivered");
    let reports = e["reports"].as_array().unwrap();
    assert_eq!(reports.len(), 2);
    assert_eq!(reports[0]["content"]["fields"]["impression"], "右侧基底节区脑出血（约 12 ml）");
    assert_eq!(reports[1]["status"], "amended");
    assert_eq!(reports[1]["reason"], "出血量测量更正");
    assert_ne!(reports[0]["content_hash"], reports[1]["content_hash"]);
    let r = app.get_as(&c.township_doctor, &format!("/fhir/DiagnosticReport/{id}")).await;
    assert_eq!(r.body["status"], "amended", "{}", r.text);
    assert_eq!(r.body["meta"]["versionId"], "2");
    let notes = ok(&app.get_as(&c.township_doctor, "/api/v1/notifications").await).clone();
    assert!(notes.as_array().unwrap().iter().any(|n| n["kind"] == "report_amended"), "{notes}");
    // A stale version is refused.
    let r = act(
        &app,
        &c.reader,
        &id,
        json!({"transition": "amend", "version": v, "reason": "x", "report": ct_report("y")}),
    )
    .await;
    r.assert_error(StatusCode::CONFLICT, "exam_stale", None);
    let _ = (&c.township, &record);
}

pub async fn fifty_readers_claim_one_item(app: TestApp) {
    let c = county(&app).await;
    let (id, _, _) = queued_ct(&app, &c, "T-0050", 4150).await;
    let mut readers = Vec::new();
    for i in 0..50 {
        readers.push(app.user(&format!("r{i:02}"), "reader", Some(&c.hospital)).await);
    }
    let claims = readers.iter().map(|t| act(&app, t, &id, json!({"transition": "claim", "version": 0})));
    let replies = futures::future::join_all(claims).await;
    let won: Vec<&Reply> = replies.iter().filter(|r| r.status == StatusCode::OK).collect();
    assert_eq!(won.len(), 1, "exactly one reader wins");
    for r in replies.iter().filter(|r| r.status != StatusCode::OK) {
        assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text);
        assert!(
            ["already_claimed", "invalid_transition"].contains(&r.body["error"].as_str().unwrap()),
            "{}",
            r.text
        );
    }
    let e = exam(&app, &c.reader, &id).await;
    let claims = e["events"].as_array().unwrap().iter().filter(|e| e["transition"] == "claim").count();
    assert_eq!(claims, 1);
    assert_eq!(e["state"], "claimed");
}

pub async fn leases_run_out_and_release(app: TestApp) {
    let c = county(&app).await;
    let (id, _, _) = queued_ct(&app, &c, "T-0060", 4160).await;
    let r = act(&app, &c.reader, &id, json!({"transition": "claim", "version": 0})).await;
    ok(&r);
    // The holder renews; the lease moves on.
    app.clock.advance(Duration::minutes(20));
    let r = act(&app, &c.reader, &id, json!({"transition": "renew", "version": 0})).await;
    let until: chrono::DateTime<chrono::Utc> = ok(&r)["lease_until"].as_str().unwrap().parse().unwrap();
    assert!((until - (app.clock_now() + Duration::minutes(30))).num_milliseconds().abs() < 1, "{until}");
    // Not yet due: the timer leaves it.
    app.clock.advance(Duration::minutes(29));
    yigong_app::reading::run_timers(&app.ctx, app.consortium_id).await.unwrap();
    assert_eq!(exam(&app, &c.reader, &id).await["state"], "claimed");
    app.clock.advance(Duration::minutes(2));
    let n = yigong_app::reading::run_timers(&app.ctx, app.consortium_id).await.unwrap();
    assert_eq!(n, 1);
    let e = exam(&app, &c.reader, &id).await;
    assert_eq!(e["state"], "queued");
    assert!(e["reader_user_id"].is_null());
    assert!(
        e["events"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["transition"] == "expire_lease" && e["party"] == "system")
    );
    // Claimed by the other reader, released again: back on the list for anyone.
    ok(&act(&app, &c.reader2, &id, json!({"transition": "claim", "version": 0})).await);
    let r = act(&app, &c.reader, &id, json!({"transition": "release", "version": 0})).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "only the holder or a supervisor releases: {}", r.text);
    assert_eq!(
        ok(&act(&app, &c.reader2, &id, json!({"transition": "release", "version": 0})).await)["state"],
        "queued"
    );
}

pub async fn critical_values_close_at_the_ordering_site(app: TestApp) {
    let c = county(&app).await;
    let (id, _, _) = queued_ct(&app, &c, "T-0070", 4170).await;
    ok(&act(&app, &c.reader, &id, json!({"transition": "claim", "version": 0})).await);
    let mut report = ct_report("右侧基底节区脑出血，量约 35 ml，破入脑室");
    report["critical"] = json!(true);
    let r =
        act(&app, &c.reader, &id, json!({"transition": "finalise", "version": 0, "report": report.clone()}))
            .await;
    r.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_input", Some(("critical_text", "required")));
    report["critical_text"] = json!("脑出血 35 ml，破入脑室");
    let e =
        ok(&act(&app, &c.reader, &id, json!({"transition": "finalise", "version": 0, "report": report}))
            .await)
        .clone();
    let critical = &e["criticals"][0];
    assert_eq!(critical["state"], "notified");
    let cid = critical["id"].as_str().unwrap().to_owned();
    // The ordering doctor is paged; managers see it open.
    let notes = ok(&app.get_as(&c.township_doctor, "/api/v1/notifications").await).clone();
    assert!(
        notes.as_array().unwrap().iter().any(|n| n["kind"] == "critical_value" && n["urgent"] == true),
        "{notes}"
    );
    let open = ok(&app.get_as(&c.manager, "/api/v1/critical-values").await).clone();
    assert_eq!(open.as_array().unwrap().len(), 1);
    assert_eq!(open[0]["origin_name"], "东关镇卫生院");
    // Acknowledging elsewhere: 403, audited; by the reader: 403 too.
    let step = |token: &str, body: Value| {
        let token = token.to_owned();
        let app = &app;
        let cid = cid.clone();
        async move { app.post_as(&token, &format!("/api/v1/critical-values/{cid}/steps"), body).await }
    };
    step(&c.other_doctor, json!({"step": "acknowledge", "read_back": "脑出血"})).await.assert_error(
        StatusCode::FORBIDDEN,
        "wrong_institution",
        None,
    );
    step(&c.reader, json!({"step": "acknowledge", "read_back": "脑出血"})).await.assert_error(
        StatusCode::FORBIDDEN,
        "wrong_institution",
        None,
    );
    let denied = denied_details(&app).await;
    assert_eq!(denied.iter().filter(|d| *d == "denial=wrong_institution").count(), 2);
    step(&c.township_doctor, json!({"step": "acknowledge", "read_back": "  "})).await.assert_error(
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_input",
        Some(("read_back", "required")),
    );
    step(&c.township_doctor, json!({"step": "close"})).await.assert_error(
        StatusCode::CONFLICT,
        "invalid_transition",
        None,
    );
    let r =
        step(&c.township_doctor, json!({"step": "acknowledge", "read_back": "右侧脑出血 35 ml 破入脑室"}))
            .await;
    assert_eq!(ok(&r)["state"], "acknowledged");
    assert_eq!(r.body["acknowledged_name"], "tdoc");
    let r = step(
        &c.township_doctor,
        json!({"step": "dispose", "disposition": "green_channel", "note": "卒中绿色通道上转"}),
    )
    .await;
    assert_eq!(ok(&r)["state"], "disposed");
    assert_eq!(ok(&step(&c.township_doctor, json!({"step": "close"})).await)["state"], "closed");
    assert!(ok(&app.get_as(&c.manager, "/api/v1/critical-values").await).as_array().unwrap().is_empty());

    // A second one left unacknowledged escalates once, after 15 minutes.
    let (id2, _, _) = queued_ct(&app, &c, "T-0071", 4171).await;
    ok(&act(&app, &c.reader, &id2, json!({"transition": "claim", "version": 0})).await);
    let mut report = ct_report("左侧硬膜下血肿");
    report["critical"] = json!(true);
    report["critical_text"] = json!("硬膜下血肿，中线右移 8 mm");
    ok(&act(&app, &c.reader, &id2, json!({"transition": "finalise", "version": 0, "report": report})).await);
    app.clock.advance(Duration::minutes(14));
    yigong_app::reading::run_timers(&app.ctx, app.consortium_id).await.unwrap();
    let open = ok(&app.get_as(&c.manager, "/api/v1/critical-values").await).clone();
    assert!(open[0]["escalated_at"].is_null());
    assert_eq!(open[0]["late"], false);
    app.clock.advance(Duration::minutes(2));
    assert_eq!(yigong_app::reading::run_timers(&app.ctx, app.consortium_id).await.unwrap(), 1);
    assert_eq!(yigong_app::reading::run_timers(&app.ctx, app.consortium_id).await.unwrap(), 0, "once");
    let open = ok(&app.get_as(&c.manager, "/api/v1/critical-values").await).clone();
    assert!(open[0]["escalated_at"].is_string());
    assert_eq!(open[0]["late"], true);
    let notes = ok(&app.get_as(&c.manager, "/api/v1/notifications").await).clone();
    assert!(notes.as_array().unwrap().iter().any(|n| n["kind"] == "critical_escalated"), "{notes}");
    // Metrics: two critical values, one open, one acknowledged on time.
    let m = ok(&app.get_as(&c.manager, "/api/v1/reading/metrics").await).clone();
    assert_eq!(m["critical_count"], 2);
    assert_eq!(m["critical_open"], 1);
    assert_eq!(m["critical_ack_on_time"]["num"], 1);
    assert_eq!(m["critical_ack_on_time"]["den"], 1);
}

pub async fn recognition_prompt_and_rate(app: TestApp) {
    let c = county(&app).await;
    let (id, _, record) = queued_ct(&app, &c, "T-0080", 4180).await;
    ok(&act(&app, &c.reader, &id, json!({"transition": "claim", "version": 0})).await);
    ok(&act(
        &app,
        &c.reader,
        &id,
        json!({"transition": "finalise", "version": 0, "report": ct_report("未见明显异常")}),
    )
    .await);
    // Ordered again within 30 days: the prompt offers the HR result and an answer is required.
    let offers = ok(&app
        .get_as(
            &c.township_doctor,
            &format!("/api/v1/exams/recognition-prompt?patient_record_id={record}&item_code=CT-HEAD"),
        )
        .await)
    .clone();
    assert_eq!(offers.as_array().unwrap().len(), 1, "{offers}");
    assert_eq!(offers[0]["exam"]["id"], id.as_str());
    assert_eq!(offers[0]["producer_name"], "青岚县人民医院");
    assert_eq!(offers[0]["impression"], "未见明显异常");
    let none = ok(&app
        .get_as(
            &c.township_doctor,
            &format!("/api/v1/exams/recognition-prompt?patient_record_id={record}&item_code=ECG-12"),
        )
        .await)
    .clone();
    assert!(none.as_array().unwrap().is_empty(), "not a recognisable item");
    order(&app, &c.township_doctor, &record, "CT-HEAD", "outpatient").await.assert_error(
        StatusCode::CONFLICT,
        "recognition_decision_required",
        None,
    );
    let with = |answer: Value| json!({"patient_record_id": record, "item_code": "CT-HEAD", "urgency": "outpatient", "question": "复查", "recognition": answer});
    let r = app
        .post_as(&c.township_doctor, "/api/v1/exams", with(json!({"recognised": false, "ground": "other"})))
        .await;
    r.assert_error(
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_input",
        Some(("recognition.ground_text", "required")),
    );
    let r = app.post_as(&c.township_doctor, "/api/v1/exams", with(json!({"recognised": true}))).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert!(r.body["exam"].is_null(), "recognised: no new test");
    assert_eq!(r.body["decision"]["recognised"], true);
    assert_eq!(r.body["decision"]["price_fen"], 18_000);
    let r = app
        .post_as(
            &c.township_doctor,
            "/api/v1/exams",
            with(json!({"recognised": false, "ground": "condition_changed"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.body["decision"]["new_order_id"], r.body["exam"]["id"]);
    // Past the window, or from a producer whose QC lapsed, nothing is offered.
    let r = app
        .put_as(
            &c.manager,
            &format!("/api/v1/exam-items/CT-HEAD/qc/{}", c.hospital),
            json!({"passed": false, "valid_until": "2099-12-31"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let offers = ok(&app
        .get_as(
            &c.township_doctor,
            &format!("/api/v1/exams/recognition-prompt?patient_record_id={record}&item_code=CT-HEAD"),
        )
        .await)
    .clone();
    assert!(offers.as_array().unwrap().is_empty(), "failed QC: {offers}");
    // Rate and avoided cost by institution and month.
    let m = ok(&app.get_as(&c.manager, "/api/v1/reading/metrics").await).clone();
    assert_eq!(m["recognition_total"]["recognised"], 1);
    assert_eq!(m["recognition_total"]["repeated"], 1);
    assert_eq!(m["recognition_total"]["avoided_fen"], 18_000);
    assert_eq!(m["recognition"][0]["institution_name"], "东关镇卫生院");
    let imaging = m["turnaround"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["centre"] == "imaging" && t["grassroots"] == true)
        .unwrap();
    assert_eq!(imaging["received"], 1);
    assert_eq!(imaging["reported"], 1);
    assert_eq!(imaging["on_time"]["num"], 1);
    app.get_as(&c.township_doctor, "/api/v1/reading/metrics").await.assert_error(
        StatusCode::FORBIDDEN,
        "forbidden",
        None,
    );
}

pub async fn specimen_chain_moves_a_lab_item(app: TestApp) {
    let c = county(&app).await;
    let record = patient(&app, &c.township_doctor, "T-0090").await;
    let r = order(&app, &c.township_doctor, &record, "LAB-K", "emergency").await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let id = r.body["exam"]["id"].as_str().unwrap().to_owned();
    assert_eq!(r.body["exam"]["centre"], "lab");
    let step = |token: &str, body: Value| {
        let token = token.to_owned();
        let app = &app;
        let id = id.clone();
        async move { app.post_as(&token, &format!("/api/v1/exams/{id}/specimen"), body).await }
    };
    // Skipping a step is refused with what may come next.
    let r = step(&c.township_doctor, json!({"step": "in_transit", "place": "x"})).await;
    r.assert_error(StatusCode::CONFLICT, "invalid_step", None);
    assert_eq!(
        ok(&step(&c.township_doctor, json!({"step": "labelled", "place": "东关镇卫生院采血室"})).await)["state"],
        "ordered"
    );
    assert_eq!(
        ok(&step(&c.township_doctor, json!({"step": "collected", "place": "东关镇卫生院采血室"})).await)["state"],
        "acquired"
    );
    ok(&step(&c.township_doctor, json!({"step": "packed", "place": "转运箱 07"})).await);
    ok(&step(&c.township_doctor, json!({"step": "in_transit", "place": "转运车", "temperature": "4℃"}))
        .await);
    let e = ok(&step(&c.reader, json!({"step": "received", "place": "县检验中心"})).await).clone();
    assert_eq!(e["state"], "queued");
    let received: chrono::DateTime<chrono::Utc> = e["received_at"].as_str().unwrap().parse().unwrap();
    let due: chrono::DateTime<chrono::Utc> = e["due_at"].as_str().unwrap().parse().unwrap();
    assert_eq!(due - received, Duration::hours(1), "emergency lab: 1 h");
    assert_eq!(e["specimen"].as_array().unwrap().len(), 5);
    assert_eq!(e["specimen"][3]["temperature"], "4℃");
    let w = ok(&app.get_as(&c.reader, "/api/v1/reading/worklist?centre=lab").await).clone();
    assert_eq!(w["items"][0]["id"], id.as_str());
    // A rejection needs a specimen reason.
    let r = step(&c.reader, json!({"step": "rejected", "place": "县检验中心"})).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text);
    let e =
        ok(&step(&c.reader, json!({"step": "rejected", "place": "县检验中心", "reason": "haemolysis"}))
            .await)
        .clone();
    assert_eq!(e["state"], "rejected_quality");
    let notes = ok(&app.get_as(&c.township_doctor, "/api/v1/notifications").await).clone();
    assert!(notes.as_array().unwrap().iter().any(|n| n["kind"] == "exam_rejected"), "{notes}");
}

/// Images that arrive over DIMSE from the township's registered CT need no click: once they
/// stop arriving for two minutes the item is received and queued by the platform.
pub async fn dimse_images_queue_the_item(app: TestApp) {
    use yigong_dicom::synthetic::{Slice, dataset_bytes, uid};
    let c = county(&app).await;
    let record = patient(&app, &c.township_doctor, "T-0100").await;
    let body = json!({"patient_record_id": record, "item_code": "CT-HEAD", "urgency": "emergency", "head": true,
                      "question": "突发言语不清 1 小时"});
    let r = app.post_as(&c.township_doctor, "/api/v1/exams", body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let id = r.body["exam"]["id"].as_str().unwrap().to_owned();
    let accession = r.body["exam"]["accession_no"].as_str().unwrap().to_owned();
    let township = yigong_domain::ids::InstitutionId::from_uuid(c.township.parse().unwrap());
    let console = yigong_app::access::console(app.consortium_id);
    yigong_app::imaging::register_node(&app.ctx, &console, "TOWNSHIP_CT", township, "乡镇卫生院 CT")
        .await
        .unwrap();
    for k in 0..3u128 {
        let sop = uid((4200 << 16) | (2 + k));
        let bytes = dataset_bytes(&Slice {
            study_uid: &uid(4200 << 16),
            series_uid: &uid((4200 << 16) | 1),
            sop_uid: &sop,
            patient_id: "T-0100",
            patient_name: "Ouyang^Xiaolan=欧阳^晓岚",
            birth_date: "19620517",
            sex: "F",
            accession: &accession,
            study_date: "20261205",
            number: k as u32 + 1,
            size: 32,
        });
        yigong_app::imaging::ingest_dimse(
            &app.ctx,
            app.consortium_id,
            "TOWNSHIP_CT",
            "1.2.840.10008.1.2.1",
            &sop,
            bytes,
        )
        .await
        .unwrap();
    }
    let e = exam(&app, &c.township_doctor, &id).await;
    assert_eq!(e["images"], 3);
    assert_eq!(e["state"], "ordered");
    // Still arriving a minute later: nothing moves.
    app.clock.advance(Duration::minutes(1));
    yigong_app::reading::run_timers(&app.ctx, app.consortium_id).await.unwrap();
    assert_eq!(exam(&app, &c.township_doctor, &id).await["state"], "ordered");
    app.clock.advance(Duration::minutes(2));
    assert_eq!(yigong_app::reading::run_timers(&app.ctx, app.consortium_id).await.unwrap(), 1);
    let e = exam(&app, &c.township_doctor, &id).await;
    assert_eq!(e["state"], "queued");
    let received: chrono::DateTime<chrono::Utc> = e["received_at"].as_str().unwrap().parse().unwrap();
    let due: chrono::DateTime<chrono::Utc> = e["due_at"].as_str().unwrap().parse().unwrap();
    assert_eq!(due - received, Duration::minutes(30), "emergency head CT: 30 min to the preliminary report");
    // An emergency item takes a preliminary report, which goes back at once and counts.
    ok(&act(&app, &c.reader, &id, json!({"transition": "claim", "version": 0})).await);
    let e = ok(&act(
        &app,
        &c.reader,
        &id,
        json!({"transition": "report_preliminary", "version": 0, "report": ct_report("未见出血")}),
    )
    .await)
    .clone();
    assert_eq!(e["state"], "preliminary");
    let notes = ok(&app.get_as(&c.township_doctor, "/api/v1/notifications").await).clone();
    assert!(
        notes.as_array().unwrap().iter().any(|n| n["kind"] == "report_preliminary" && n["urgent"] == true),
        "{notes}"
    );
    let e = ok(&act(
        &app,
        &c.reader,
        &id,
        json!({"transition": "finalise", "version": 0, "report": ct_report("未见出血")}),
    )
    .await)
    .clone();
    assert_eq!(e["state"], "delivered");
    assert_eq!(e["reports"].as_array().unwrap().len(), 2);
}

/// A supervisor (a reader with an associate-senior title or higher) assigns an item to a named
/// reader and takes a claim back; an ordinary reader may do neither.
pub async fn supervisor_assigns_and_releases(app: TestApp) {
    let c = county(&app).await;
    let base = app.consortium().await;
    let staff = app
        .post(
            &format!("{base}/staff"),
            json!({"code": "S100", "name": "韩立平", "sex": "male", "category": "physician", "title_level": "associate_senior",
                   "title_name": "副主任医师", "employer_institution_id": c.hospital}),
        )
        .await;
    assert_eq!(staff.status, StatusCode::CREATED, "{}", staff.text);
    let draft = yigong_app::auth::UserDraft {
        username: "chief".into(),
        display_name: "韩立平".into(),
        password: crate::helpers::PASSWORD.into(),
        role: "reader".into(),
        institution_id: Some(yigong_domain::ids::InstitutionId::from_uuid(c.hospital.parse().unwrap())),
        staff_id: Some(yigong_domain::ids::StaffId::from_uuid(
            staff.body["id"].as_str().unwrap().parse().unwrap(),
        )),
    };
    let console = yigong_app::access::console(app.consortium_id);
    yigong_app::auth::create_user(&app.ctx, &console, app.consortium_id, draft).await.unwrap();
    let chief = yigong_app::auth::login(
        &app.ctx,
        "chief",
        crate::helpers::PASSWORD,
        yigong_app::auth::SessionKind::Api,
        None,
        None,
    )
    .await
    .unwrap()
    .secret;
    let me = |token: &str| {
        let app = &app;
        let token = token.to_owned();
        async move { ok(&app.get_as(&token, "/api/v1/auth/me").await)["user_id"].as_str().unwrap().to_owned() }
    };
    let reader2 = me(&c.reader2).await;
    let (id, _, _) = queued_ct(&app, &c, "T-0110", 4210).await;
    // An ordinary reader may not assign.
    let r =
        act(&app, &c.reader, &id, json!({"transition": "assign", "version": 0, "reader_user_id": reader2}))
            .await;
    r.assert_error(StatusCode::CONFLICT, "wrong_party", None);
    // Assigning to someone who is not a reader is refused with the field named.
    let doctor = me(&c.township_doctor).await;
    let r =
        act(&app, &chief, &id, json!({"transition": "assign", "version": 0, "reader_user_id": doctor})).await;
    r.assert_error(
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_input",
        Some(("reader_user_id", "not_a_reader")),
    );
    let e =
        ok(&act(&app, &chief, &id, json!({"transition": "assign", "version": 0, "reader_user_id": reader2}))
            .await)
        .clone();
    assert_eq!(e["state"], "claimed");
    assert_eq!(e["reader_user_id"], reader2.as_str());
    // The assigned reader reports; before that the supervisor can take it back.
    let e = ok(&act(&app, &chief, &id, json!({"transition": "release", "version": 0})).await).clone();
    assert_eq!(e["state"], "queued");
    ok(&act(&app, &chief, &id, json!({"transition": "assign", "version": 0, "reader_user_id": reader2}))
        .await);
    let e = ok(&act(
        &app,
        &c.reader2,
        &id,
        json!({"transition": "finalise", "version": 0, "report": ct_report("未见异常")}),
    )
    .await)
    .clone();
    assert_eq!(e["state"], "delivered");
    assert!(
        e["events"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x["transition"] == "assign" && x["party"] == "supervisor")
    );
}
