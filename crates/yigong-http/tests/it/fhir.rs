//! The FHIR R4 API: official examples stored and read back unchanged (decimals as text),
//! transactions with `urn:uuid:` references that roll back as a whole, search with paging and
//! includes, versioning, the shared record's access rule, and bad input answered with an
//! OperationOutcome that names the element.

use std::collections::BTreeSet;

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{Reply, TestApp};

const FHIR: &str = "application/fhir+json";

impl TestApp {
    async fn fhir(&self, token: &str, method: Method, uri: &str, body: Option<&str>) -> Reply {
        self.send(method, uri, Some(token), body.map(|_| FHIR), body.unwrap_or("")).await
    }
}

/// The body parsed with numbers as written.
fn exact(r: &Reply) -> Value {
    yigong_fhir::json::parse(r.text.as_bytes()).expect("a JSON body")
}

fn without_server_meta(mut v: Value) -> Value {
    if let Some(meta) = v.get_mut("meta").and_then(Value::as_object_mut) {
        meta.remove("versionId");
        meta.remove("lastUpdated");
        if meta.is_empty() {
            v.as_object_mut().unwrap().remove("meta");
        }
    }
    v
}

#[track_caller]
fn assert_outcome(r: &Reply, status: StatusCode, expression: Option<&str>) {
    assert_eq!(r.status, status, "{}", r.text);
    assert_eq!(r.body["resourceType"], "OperationOutcome", "{}", r.text);
    assert!(r.headers["content-type"].to_str().unwrap().starts_with("application/fhir+json"));
    if let Some(e) = expression {
        let found = r.body["issue"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["expression"].as_array().is_some_and(|x| x.iter().any(|p| p.as_str() == Some(e))));
        assert!(found, "no issue at {e}: {}", r.text);
    }
}

/// A doctor at the county hospital and one at the village point, with the hospital's id.
async fn clinicians(app: &TestApp) -> (String, String, String) {
    let (hospital, _township, village) = app.small_county().await;
    let doctor = app.user("doc", "county_specialist", Some(&hospital)).await;
    let village_doctor = app.user("vdoc", "village_doctor", Some(&village)).await;
    (doctor, village_doctor, hospital)
}

fn patient(family: &str, given: &str, id_number: &str) -> Value {
    json!({
        "resourceType": "Patient",
        "identifier": [{"system": "urn:oid:2.16.156.10011.1.3", "value": id_number}],
        "name": [{"family": family, "given": [given]}],
        "gender": "female",
        "birthDate": "1960-03-14"
    })
}

fn observation(subject: &str, code: &str, when: &str, value: &str) -> String {
    format!(
        r#"{{"resourceType":"Observation","status":"final","category":[{{"coding":[{{"system":"http://terminology.hl7.org/CodeSystem/observation-category","code":"laboratory"}}]}}],"code":{{"coding":[{{"system":"http://loinc.org","code":"{code}"}}]}},"subject":{{"reference":"{subject}"}},"effectiveDateTime":"{when}","valueQuantity":{{"value":{value},"unit":"mmol/L","system":"http://unitsofmeasure.org","code":"mmol/L"}}}}"#
    )
}

pub async fn create_read_version_delete(app: TestApp) {
    let (doctor, village_doctor, _) = clinicians(&app).await;
    let r = app
        .fhir(
            &doctor,
            Method::POST,
            "/fhir/Patient",
            Some(&patient("王", "秀英", "99012119600314002X").to_string()),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let pid = r.body["id"].as_str().unwrap().to_owned();
    assert!(r.headers["location"].to_str().unwrap().ends_with(&format!("/fhir/Patient/{pid}/_history/1")));

    // Decimals come back as written, exponent included.
    let obs = observation(&format!("Patient/{pid}"), "2345-7", "2026-03-01T08:00:00+08:00", "1E-22");
    let r = app.fhir(&doctor, Method::POST, "/fhir/Observation", Some(&obs)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let oid = r.body["id"].as_str().unwrap().to_owned();
    let r = app.fhir(&doctor, Method::GET, &format!("/fhir/Observation/{oid}"), None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert!(r.text.contains(r#""value":1E-22"#), "{}", r.text);
    assert_eq!(r.headers["etag"], "W/\"1\"");

    // Update: version 2; a stale If-Match is refused and changes nothing.
    let mut v2 = exact(&r);
    v2["valueQuantity"]["value"] = yigong_fhir::json::parse(b"6.10").unwrap();
    let text = v2.to_string();
    let mut req = axum::http::Request::builder()
        .method(Method::PUT)
        .uri(format!("/fhir/Observation/{oid}"))
        .header("authorization", format!("Bearer {doctor}"))
        .header("content-type", FHIR)
        .header("if-match", "W/\"1\"");
    let r = app.request(req.body(axum::body::Body::from(text.clone())).unwrap()).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["meta"]["versionId"], "2");
    req = axum::http::Request::builder()
        .method(Method::PUT)
        .uri(format!("/fhir/Observation/{oid}"))
        .header("authorization", format!("Bearer {doctor}"))
        .header("content-type", FHIR)
        .header("if-match", "W/\"1\"");
    let r = app.request(req.body(axum::body::Body::from(text)).unwrap()).await;
    assert_outcome(&r, StatusCode::PRECONDITION_FAILED, None);
    let r = app.fhir(&doctor, Method::GET, &format!("/fhir/Observation/{oid}/_history/1"), None).await;
    assert!(r.text.contains("1E-22"), "{}", r.text);
    let r = app.fhir(&doctor, Method::GET, &format!("/fhir/Observation/{oid}"), None).await;
    assert!(r.text.contains(r#""value":6.10"#), "{}", r.text);

    // Create-as-update with the client's id, then delete: 410 after, history keeps all.
    let mut own = yigong_fhir::json::parse(obs.as_bytes()).unwrap();
    own["id"] = json!("lab-0001");
    let r = app.fhir(&doctor, Method::PUT, "/fhir/Observation/lab-0001", Some(&own.to_string())).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let r = app.fhir(&doctor, Method::DELETE, "/fhir/Observation/lab-0001", None).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    let r = app.fhir(&doctor, Method::GET, "/fhir/Observation/lab-0001", None).await;
    assert_outcome(&r, StatusCode::GONE, None);
    let r = app.fhir(&doctor, Method::GET, "/fhir/Observation/lab-0001/_history", None).await;
    assert_eq!(r.body["entry"].as_array().unwrap().len(), 2, "{}", r.text);
    assert_eq!(r.body["entry"][0]["request"]["method"], "DELETE");

    // Conditional create: the same identifier twice gives the first resource back.
    let r = app
        .send(
            Method::POST,
            "/fhir/Patient",
            Some(&doctor),
            Some(FHIR),
            &patient("王", "秀英", "99012119600314002X").to_string(),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "a plain create makes a second record: {}", r.text);
    let req = axum::http::Request::builder()
        .method(Method::POST)
        .uri("/fhir/Observation")
        .header("authorization", format!("Bearer {doctor}"))
        .header("content-type", FHIR)
        .header("if-none-exist", format!("_id={oid}"));
    let r = app.request(req.body(axum::body::Body::from(obs.clone())).unwrap()).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["id"], oid.as_str());

    // The village doctor has never seen this patient: refused, and the refusal audited.
    let r = app.fhir(&village_doctor, Method::GET, &format!("/fhir/Observation/{oid}"), None).await;
    assert_outcome(&r, StatusCode::FORBIDDEN, None);
    let r = app
        .fhir(&village_doctor, Method::GET, &format!("/fhir/Observation?subject=Patient/{pid}"), None)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert!(r.body["entry"].as_array().unwrap().is_empty(), "withheld: {}", r.text);
    // The 360° view over the JSON API: the doctor sees the result; the village doctor not.
    let record = uuid::Uuid::parse_str(&pid).unwrap();
    let mut tx = app.ctx.db.begin().await.unwrap();
    let person = yigong_store::mpi::person_of(
        &mut tx,
        app.consortium_id,
        yigong_domain::ids::PatientRecordId::from_uuid(record),
    )
    .await
    .unwrap()
    .unwrap();
    tx.commit().await.unwrap();
    let r = app.get_as(&doctor, &format!("/api/v1/persons/{person}/record?kind=Observation")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["basis"], "own_institution");
    assert!(r.body["items"].as_array().unwrap().iter().any(|i| i["id"] == oid.as_str()), "{}", r.text);
    assert!(r.body["items"].as_array().unwrap().iter().all(|i| i["resource_type"] == "Observation"));
    let r = app.get_as(&village_doctor, &format!("/api/v1/persons/{person}/record")).await;
    r.assert_error(StatusCode::FORBIDDEN, "out_of_scope", None);
    let r = app.get_as(&doctor, &format!("/api/v1/persons/{person}/record?kind=Widget")).await;
    r.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_input", Some(("kind", "unknown_kind")));
    // Registry mirrors: readable, not writable over FHIR.
    let r = app.fhir(&doctor, Method::GET, "/fhir/Organization?name=青岚", None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let org = r.body["entry"][0]["resource"].clone();
    assert_eq!(org["name"], "青岚县人民医院", "{}", r.text);
    let id = org["id"].as_str().unwrap();
    let r =
        app.fhir(&app.admin, Method::PUT, &format!("/fhir/Organization/{id}"), Some(&org.to_string())).await;
    assert_outcome(&r, StatusCode::METHOD_NOT_ALLOWED, None);
}

pub async fn transaction_rewrites_and_rolls_back(app: TestApp) {
    let (doctor, _, _) = clinicians(&app).await;
    let bundle = |obs_status: &str, id_number: &str| {
        let obs = yigong_fhir::json::parse(
            observation(
                "urn:uuid:0b6e2f5c-1111-4d6c-9a55-5b1f0b1c0001",
                "1558-6",
                "2026-05-02T09:00:00+08:00",
                "6.10",
            )
            .as_bytes(),
        )
        .unwrap();
        let mut obs = obs;
        obs["status"] = json!(obs_status);
        obs["encounter"] = json!({"reference": "urn:uuid:0b6e2f5c-1111-4d6c-9a55-5b1f0b1c0002"});
        json!({
            "resourceType": "Bundle",
            "type": "transaction",
            "entry": [
                {"fullUrl": "urn:uuid:0b6e2f5c-1111-4d6c-9a55-5b1f0b1c0003", "resource": obs, "request": {"method": "POST", "url": "Observation"}},
                {"fullUrl": "urn:uuid:0b6e2f5c-1111-4d6c-9a55-5b1f0b1c0002", "resource": {
                    "resourceType": "Encounter", "status": "finished",
                    "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"},
                    "subject": {"reference": "urn:uuid:0b6e2f5c-1111-4d6c-9a55-5b1f0b1c0001"},
                    "period": {"start": "2026-05-02T08:30:00+08:00"}
                }, "request": {"method": "POST", "url": "Encounter"}},
                {"fullUrl": "urn:uuid:0b6e2f5c-1111-4d6c-9a55-5b1f0b1c0001", "resource": patient("李", "建国", id_number), "request": {"method": "POST", "url": "Patient"}}
            ]
        })
    };
    // One bad entry (an unknown status code): nothing of the three is stored.
    let r = app
        .fhir(&doctor, Method::POST, "/fhir", Some(&bundle("done", "990121195501010011").to_string()))
        .await;
    assert_outcome(&r, StatusCode::BAD_REQUEST, Some("Bundle.entry[0].resource.ofType(Observation).status"));
    let r = app.fhir(&doctor, Method::GET, "/fhir/Patient?identifier=990121195501010011", None).await;
    assert_eq!(r.body["entry"].as_array().unwrap().len(), 0, "rolled back: {}", r.text);
    let r = app.fhir(&doctor, Method::GET, "/fhir/Encounter", None).await;
    assert_eq!(r.body["entry"].as_array().unwrap().len(), 0, "rolled back: {}", r.text);

    let r = app
        .fhir(&doctor, Method::POST, "/fhir", Some(&bundle("final", "990121195501010011").to_string()))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["type"], "transaction-response");
    let entries = r.body["entry"].as_array().unwrap();
    assert!(entries.iter().all(|e| e["response"]["status"] == "201 Created"), "{}", r.text);
    let location = |i: usize| {
        entries[i]["response"]["location"].as_str().unwrap().split("/_history").next().unwrap().to_owned()
    };
    let (obs, enc, pat) = (location(0), location(1), location(2));
    let r = app.fhir(&doctor, Method::GET, &format!("/fhir/{obs}"), None).await;
    assert_eq!(r.body["subject"]["reference"], pat.as_str(), "{}", r.text);
    assert_eq!(r.body["encounter"]["reference"], enc.as_str(), "{}", r.text);
    let r = app.fhir(&doctor, Method::GET, &format!("/fhir/{enc}"), None).await;
    assert_eq!(r.body["subject"]["reference"], pat.as_str(), "{}", r.text);

    // A reference to a urn:uuid no entry defines.
    let dangling = json!({"resourceType": "Bundle", "type": "transaction", "entry": [
        {"resource": yigong_fhir::json::parse(observation("urn:uuid:0b6e2f5c-1111-4d6c-9a55-5b1f0b1c0999", "1558-6", "2026-05-02", "5").as_bytes()).unwrap(),
         "request": {"method": "POST", "url": "Observation"}}]});
    let r = app.fhir(&doctor, Method::POST, "/fhir", Some(&dangling.to_string())).await;
    assert_outcome(&r, StatusCode::UNPROCESSABLE_ENTITY, None);

    // A batch answers each entry: one created, one refused with its outcome.
    let batch = json!({"resourceType": "Bundle", "type": "batch", "entry": [
        {"resource": yigong_fhir::json::parse(observation(&pat, "1558-6", "2026-06-01", "7.2").as_bytes()).unwrap(), "request": {"method": "POST", "url": "Observation"}},
        {"resource": {"resourceType": "Observation", "status": "final"}, "request": {"method": "POST", "url": "Observation"}}]});
    let r = app.fhir(&doctor, Method::POST, "/fhir", Some(&batch.to_string())).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["entry"][0]["response"]["status"], "201 Created", "{}", r.text);
    assert_eq!(r.body["entry"][1]["response"]["status"], "400 Bad Request", "{}", r.text);
    assert_eq!(r.body["entry"][1]["response"]["outcome"]["resourceType"], "OperationOutcome");
}

pub async fn search_pages_filters_and_includes(app: TestApp) {
    let (doctor, _, _) = clinicians(&app).await;
    let r = app
        .fhir(
            &doctor,
            Method::POST,
            "/fhir/Patient",
            Some(&patient("赵", "敏", "990121196003140024").to_string()),
        )
        .await;
    let pid = r.body["id"].as_str().unwrap().to_owned();
    for day in 1..=45 {
        let code = if day % 3 == 0 { "4548-4" } else { "1558-6" };
        let obs = observation(
            &format!("Patient/{pid}"),
            code,
            &format!("2026-01-{:02}T08:00:00+08:00", (day - 1) % 28 + 1),
            "5.5",
        );
        let r = app.fhir(&doctor, Method::POST, "/fhir/Observation", Some(&obs)).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    }
    // Pages of 20 with next links, every resource once.
    let mut seen = BTreeSet::new();
    let mut uri = format!("/fhir/Observation?subject=Patient/{pid}&_count=20");
    let mut pages = 0;
    loop {
        let r = app.fhir(&doctor, Method::GET, &uri, None).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        pages += 1;
        for e in r.body["entry"].as_array().unwrap() {
            assert!(seen.insert(e["resource"]["id"].as_str().unwrap().to_owned()), "no resource twice");
        }
        let next = r.body["link"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["relation"] == "next")
            .map(|l| l["url"].as_str().unwrap().to_owned());
        match next {
            Some(n) => uri = n.split_once("/fhir").map(|(_, rest)| format!("/fhir{rest}")).unwrap(),
            None => break,
        }
    }
    assert_eq!((pages, seen.len()), (3, 45));
    // Token, date prefixes, sort, include.
    let count = |r: &Reply| {
        r.body["entry"].as_array().unwrap().iter().filter(|e| e["search"]["mode"] == "match").count()
    };
    let r = app
        .fhir(
            &doctor,
            Method::GET,
            &format!("/fhir/Observation?patient={pid}&code=http://loinc.org|4548-4&_count=100"),
            None,
        )
        .await;
    assert_eq!(count(&r), 15, "{}", r.text);
    let r = app
        .fhir(
            &doctor,
            Method::GET,
            &format!("/fhir/Observation?patient={pid}&date=ge2026-01-20&date=lt2026-01-22&_count=100"),
            None,
        )
        .await;
    // Days 20 and 21 (each twice: days d and d + 28 fold onto the same date for d ≤ 17 only).
    assert_eq!(count(&r), 2, "{}", r.text);
    let r = app
        .fhir(
            &doctor,
            Method::GET,
            &format!("/fhir/Observation?patient={pid}&_sort=-date&_count=1&_include=Observation:subject"),
            None,
        )
        .await;
    let entries = r.body["entry"].as_array().unwrap();
    assert_eq!(entries.len(), 2, "{}", r.text);
    assert_eq!(entries[0]["resource"]["effectiveDateTime"], "2026-01-28T08:00:00+08:00");
    assert_eq!(entries[1]["search"]["mode"], "include");
    assert_eq!(entries[1]["resource"]["resourceType"], "Patient");
    // Patients by identifier, name, birth date and gender, from the index.
    for q in [
        "identifier=urn:oid:2.16.156.10011.1.3|990121196003140024",
        "name=赵",
        "birthdate=1960-03-14&gender=female",
    ] {
        let r = app.fhir(&doctor, Method::GET, &format!("/fhir/Patient?{q}"), None).await;
        assert!(
            r.body["entry"].as_array().unwrap().iter().any(|e| e["resource"]["id"] == pid.as_str()),
            "{q}: {}",
            r.text
        );
    }
    let r = app.fhir(&doctor, Method::GET, "/fhir/Patient?gender=male", None).await;
    assert!(!r.text.contains(&pid), "{}", r.text);
    // Unknown parameter, bad date, bad sort: 400 naming the parameter.
    let r = app.fhir(&doctor, Method::GET, "/fhir/Observation?colour=red", None).await;
    assert_outcome(&r, StatusCode::BAD_REQUEST, Some("colour"));
    let r = app.fhir(&doctor, Method::GET, "/fhir/Observation?date=2026-13", None).await;
    assert_outcome(&r, StatusCode::BAD_REQUEST, Some("date"));
    let r = app.fhir(&doctor, Method::GET, "/fhir/Observation?_sort=value", None).await;
    assert_outcome(&r, StatusCode::BAD_REQUEST, Some("_sort"));
    let r = app.fhir(&doctor, Method::GET, "/fhir/Widget", None).await;
    assert_outcome(&r, StatusCode::NOT_FOUND, None);
}

pub async fn bad_input_is_refused_and_nothing_stored(app: TestApp) {
    let (doctor, _, _) = clinicians(&app).await;
    let r = app
        .fhir(
            &doctor,
            Method::POST,
            "/fhir/Patient",
            Some(&patient("钱", "进", "990121197001010012").to_string()),
        )
        .await;
    let pid = r.body["id"].as_str().unwrap().to_owned();
    let subject = format!("Patient/{pid}");
    let good =
        yigong_fhir::json::parse(observation(&subject, "1558-6", "2026-05-02", "5").as_bytes()).unwrap();
    let with = |f: &dyn Fn(&mut Value)| {
        let mut v = good.clone();
        f(&mut v);
        v.to_string()
    };
    let cases: Vec<(String, StatusCode, Option<&str>)> = vec![
        ("{\"resourceType\": \"Observation\",".into(), StatusCode::BAD_REQUEST, None),
        (with(&|v| v["resourceType"] = json!("Patient")), StatusCode::BAD_REQUEST, Some("resourceType")),
        (with(&|v| v["colour"] = json!("red")), StatusCode::BAD_REQUEST, Some("Observation.colour")),
        (with(&|v| v["status"] = json!(true)), StatusCode::BAD_REQUEST, Some("Observation.status")),
        (
            with(&|v| v.as_object_mut().unwrap().remove("code").map(drop).unwrap_or(())),
            StatusCode::BAD_REQUEST,
            Some("Observation.code"),
        ),
        (
            with(&|v| v["effectiveDateTime"] = json!("2026-02-30")),
            StatusCode::BAD_REQUEST,
            Some("Observation.effectiveDateTime"),
        ),
        (
            with(&|v| v["subject"] = json!({"reference": "Patient/nobody"})),
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("Observation.subject.reference"),
        ),
    ];
    for (body, status, expression) in cases {
        let r = app.fhir(&doctor, Method::POST, "/fhir/Observation", Some(&body)).await;
        assert_outcome(&r, status, expression);
    }
    // Oversize: over the 4 MiB default.
    let big = with(&|v| v["note"] = json!([{"text": "x".repeat(5 * 1024 * 1024)}]));
    let r = app.fhir(&doctor, Method::POST, "/fhir/Observation", Some(&big)).await;
    assert!(r.status.is_client_error(), "{}", r.status);
    // XML is not spoken.
    let r = app
        .send(
            Method::POST,
            "/fhir/Observation",
            Some(&doctor),
            Some("application/fhir+xml"),
            "<Observation/>",
        )
        .await;
    assert_outcome(&r, StatusCode::BAD_REQUEST, None);
    // Nothing of the above was stored.
    let r = app.fhir(&doctor, Method::GET, &format!("/fhir/Observation?subject={subject}"), None).await;
    assert_eq!(r.body["entry"].as_array().unwrap().len(), 0, "{}", r.text);
    // Without a token: 401 with an OperationOutcome.
    let r = app.send(Method::GET, "/fhir/Observation", None, None, "").await;
    assert_outcome(&r, StatusCode::UNAUTHORIZED, None);
    // metadata is public and lists what is served.
    let r = app.send(Method::GET, "/fhir/metadata", None, None, "").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["fhirVersion"], "4.0.1");
    let types: Vec<&str> = r.body["rest"][0]["resource"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["type"].as_str().unwrap())
        .collect();
    assert_eq!(types.len(), 15, "{types:?}");
    assert!(r.body["rest"][0]["interaction"].as_array().unwrap().iter().any(|i| i["code"] == "transaction"));
}

pub async fn patient_match(app: TestApp) {
    let (doctor, _, _) = clinicians(&app).await;
    let r = app
        .fhir(
            &doctor,
            Method::POST,
            "/fhir/Patient",
            Some(&patient("孙", "丽", "990121198203150025").to_string()),
        )
        .await;
    let pid = r.body["id"].as_str().unwrap().to_owned();
    let params = json!({"resourceType": "Parameters", "parameter": [{"name": "resource", "resource": patient("孙", "丽", "990121198203150025")}]});
    let r = app.fhir(&doctor, Method::POST, "/fhir/Patient/$match", Some(&params.to_string())).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let first = &r.body["entry"][0];
    assert_eq!(first["resource"]["id"], pid.as_str(), "{}", r.text);
    assert_eq!(first["search"]["extension"][0]["valueCode"], "certain");
}

/// Every official example of the served types (package `hl7.fhir.r4.examples`) is stored with
/// its own id and read back semantically equal, decimals compared as text.
pub async fn official_examples_round_trip(app: TestApp) {
    let Some(dir) = yigong_testkit::fhir_package() else { return };
    let (doctor, _, _) = clinicians(&app).await;
    let served = [
        "Patient",
        "Practitioner",
        "PractitionerRole",
        "Organization",
        "Location",
        "Encounter",
        "Condition",
        "Observation",
        "DiagnosticReport",
        "ServiceRequest",
        "Task",
        "Medication",
        "MedicationRequest",
        "AllergyIntolerance",
        "DocumentReference",
    ];
    let mut examples: Vec<(String, Value)> = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let Some(ty) = served.iter().find(|t| name.starts_with(&format!("{t}-"))) else { continue };
        let text = std::fs::read(&path).unwrap();
        let value = yigong_fhir::json::parse(&text).unwrap();
        if value["resourceType"] == *ty {
            examples.push((name, value));
        }
    }
    examples.sort_by(|a, b| a.0.cmp(&b.0));
    // Patients first, so that the others' subjects resolve.
    examples.sort_by_key(|(_, v)| v["resourceType"] != "Patient");
    assert!(examples.len() > 150, "{} examples", examples.len());
    let clinical = |t: &str| {
        !matches!(t, "Practitioner" | "PractitionerRole" | "Organization" | "Location" | "Medication")
    };
    let mut stored = 0;
    for (name, example) in &examples {
        let ty = example["resourceType"].as_str().unwrap();
        let id = example["id"].as_str().unwrap();
        // Patients an example refers to but the package does not define get a stand-in.
        if let Some(reference) = yigong_fhir::resource::patient_reference(example)
            && let Some(("Patient", pid)) = yigong_fhir::resource::parse_reference(reference)
        {
            let r = app.fhir(&doctor, Method::GET, &format!("/fhir/Patient/{pid}"), None).await;
            if r.status == StatusCode::NOT_FOUND {
                let stand_in = json!({"resourceType": "Patient", "id": pid, "name": [{"text": "示例"}]});
                let r = app
                    .fhir(&doctor, Method::PUT, &format!("/fhir/Patient/{pid}"), Some(&stand_in.to_string()))
                    .await;
                assert_eq!(r.status, StatusCode::CREATED, "stand-in for {name}: {}", r.text);
            }
        }
        let token = if clinical(ty) { &doctor } else { &app.admin };
        let r = app.fhir(token, Method::PUT, &format!("/fhir/{ty}/{id}"), Some(&example.to_string())).await;
        assert_eq!(r.status, StatusCode::CREATED, "{name}: {}", r.text);
        let back = app.fhir(token, Method::GET, &format!("/fhir/{ty}/{id}"), None).await;
        assert_eq!(back.status, StatusCode::OK, "{name}: {}", back.text);
        assert_eq!(
            without_server_meta(exact(&back)),
            without_server_meta(example.clone()),
            "{name} changed on the way"
        );
        stored += 1;
    }
    eprintln!("{stored} official examples stored and read back unchanged");
}

/// Sixteen clients creating Patients and transactions at once, more than the pool has
/// connections: every one succeeds (a write never waits, while holding the write lock, for a
/// connection that the writers queued behind it hold).
pub async fn concurrent_writers_all_succeed(app: TestApp) {
    let (doctor, _, _) = clinicians(&app).await;
    let mut tasks = Vec::new();
    for n in 0..16u32 {
        let router = app.router.clone();
        let doctor = doctor.clone();
        tasks.push(tokio::spawn(async move {
            let first17 = format!("99012119700101{n:03}");
            let id = format!("{first17}{}", yigong_domain::identity::check_char(&first17));
            let body = if n % 2 == 0 {
                patient("周", "并发", &id).to_string()
            } else {
                json!({"resourceType": "Bundle", "type": "transaction", "entry": [
                    {"fullUrl": "urn:uuid:5b0e2f5c-2222-4d6c-9a55-5b1f0b1c0001", "resource": patient("吴", "并发", &id),
                     "request": {"method": "POST", "url": "Patient"}},
                    {"resource": yigong_fhir::json::parse(observation("urn:uuid:5b0e2f5c-2222-4d6c-9a55-5b1f0b1c0001", "14771-0", "2026-05-02", "5.1").as_bytes()).unwrap(),
                     "request": {"method": "POST", "url": "Observation"}}]})
                .to_string()
            };
            let uri = if n % 2 == 0 { "/fhir/Patient" } else { "/fhir" };
            let req = axum::http::Request::builder()
                .method(Method::POST)
                .uri(uri)
                .header("authorization", format!("Bearer {doctor}"))
                .header("content-type", FHIR)
                .body(axum::body::Body::from(body))
                .unwrap();
            let resp = tower::ServiceExt::oneshot(router, req).await.unwrap();
            resp.status()
        }));
    }
    for t in tasks {
        let status = t.await.unwrap();
        assert!(status == StatusCode::CREATED || status == StatusCode::OK, "{status}");
    }
}
