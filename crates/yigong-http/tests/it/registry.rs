//! The registry endpoints.

use axum::http::{Method, StatusCode};
use serde_json::json;

use crate::helpers::TestApp;

pub async fn institutions_create_validate_list(app: TestApp) {
    let base = app.consortium().await;
    let township = app
        .institution(
            &base,
            json!({"code": "T01", "name": "东关镇中心卫生院", "tier": "township_centre", "is_central": true,
            "division_code": "990121101000", "beds": 60, "services": ["ecg_centre"]}),
        )
        .await;

    // A service point without its township centre.
    let point = json!({"code": "V001", "name": "上河村卫生服务点", "tier": "village_service_point", "division_code": "990121101201"});
    app.post(&format!("{base}/institutions"), point.clone()).await.assert_error(
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_input",
        Some(("parent_id", "parent_required")),
    );
    // Outside the county, unknown tier: both fields reported at once.
    let r = app
        .post(
            &format!("{base}/institutions"),
            json!({"code": "X1", "name": "外县", "tier": "hospital", "division_code": "990122101201"}),
        )
        .await;
    r.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_input", Some(("tier", "tier_unknown")));
    assert_eq!(r.body["fields"]["division_code"]["code"], "division_code_outside_county");
    // Nothing was written by the refusals.
    let all = app.get(&format!("{base}/institutions")).await;
    assert_eq!(all.body["items"].as_array().unwrap().len(), 1);

    let mut ok = point.clone();
    ok["parent_id"] = json!(township);
    let village = app.institution(&base, ok.clone()).await;
    // Same code again: a field error on `code`.
    app.post(&format!("{base}/institutions"), ok).await.assert_error(
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_input",
        Some(("code", "institution_code_taken")),
    );

    let got = app.get(&format!("{base}/institutions/{village}")).await;
    assert_eq!(got.status, StatusCode::OK);
    assert_eq!(got.body["tier"], "village_service_point");
    assert_eq!(got.body["grassroots"], true);
    assert_eq!(got.body["township_code"], "990121101000");
    assert_eq!(got.body["memberships"].as_array().unwrap().len(), 1);

    // Update: rename, and refuse making it its own parent.
    let mut renamed = json!({"code": "V001", "name": "上河村卫生室", "tier": "village_clinic", "division_code": "990121101201", "parent_id": township});
    let r = app.put(&format!("{base}/institutions/{village}"), renamed.clone()).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["name"], "上河村卫生室");
    renamed["parent_id"] = json!(village);
    app.put(&format!("{base}/institutions/{village}"), renamed).await.assert_error(
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_input",
        Some(("parent_id", "parent_tier_invalid")),
    );

    // Paging with cursors, then filters.
    for n in 2..=12 {
        app.institution(
            &base,
            json!({"code": format!("V{n:03}"), "name": format!("村{n}卫生室"), "tier": "village_clinic",
            "division_code": format!("990121101{:03}", 200 + n), "parent_id": township}),
        )
        .await;
    }
    let mut codes = Vec::new();
    let mut uri = format!("{base}/institutions?page_size=5");
    loop {
        let page = app.get(&uri).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        codes.extend(
            page.body["items"].as_array().unwrap().iter().map(|i| i["code"].as_str().unwrap().to_owned()),
        );
        match page.body["next_cursor"].as_str() {
            Some(c) => uri = format!("{base}/institutions?page_size=5&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(codes.len(), 13);
    assert!(codes.windows(2).all(|w| w[0] < w[1]), "{codes:?}");
    let children = app.get(&format!("{base}/institutions?parent_id={township}&page_size=500")).await;
    assert_eq!(children.body["items"].as_array().unwrap().len(), 12);
    let search = app.get(&format!("{base}/institutions?q={}", urlencode("东关"))).await;
    assert_eq!(search.body["items"][0]["code"], "T01");
    app.get(&format!("{base}/institutions?tier=castle")).await.assert_error(
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_input",
        Some(("tier", "tier_unknown")),
    );
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") })
        .collect()
}

pub async fn departments(app: TestApp) {
    let base = app.consortium().await;
    let h = app
        .institution(&base, json!({"code": "H01", "name": "青岚县人民医院", "tier": "county_general", "division_code": "990121000000"}))
        .await;
    let uri = format!("{base}/institutions/{h}/departments");
    let r = app.post(&uri, json!({"subject_code": "03.01", "name": "呼吸内科", "kind": "clinical"})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let dep = r.body["id"].as_str().unwrap().to_owned();
    app.post(&uri, json!({"subject_code": "03.01", "name": "呼吸内科", "kind": "clinical"}))
        .await
        .assert_error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_input",
            Some(("name", "department_name_taken")),
        );
    app.post(&uri, json!({"subject_code": "3", "name": "急诊", "kind": "ward"})).await.assert_error(
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_input",
        Some(("kind", "department_kind_unknown")),
    );
    let r = app
        .put(
            &format!("{uri}/{dep}"),
            json!({"subject_code": "03.01", "name": "呼吸与危重症医学科", "kind": "clinical"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let list = app.get(&uri).await;
    assert_eq!(list.body["items"][0]["name"], "呼吸与危重症医学科");
}

pub async fn staff_and_postings(app: TestApp) {
    let base = app.consortium().await;
    let h = app
        .institution(&base, json!({"code": "H01", "name": "青岚县人民医院", "tier": "county_general", "division_code": "990121000000"}))
        .await;
    let t = app
        .institution(&base, json!({"code": "T01", "name": "东关镇卫生院", "tier": "township_centre", "division_code": "990121101000"}))
        .await;
    let person = json!({"code": "S001", "name": "林晓", "sex": "female", "resident_id": "11010519491231002x",
        "category": "physician", "title_level": "intermediate", "title_name": "主治医师", "employer_institution_id": h});
    let mut bad = person.clone();
    bad["resident_id"] = json!("110105194912310021");
    app.post(&format!("{base}/staff"), bad).await.assert_error(
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_input",
        Some(("resident_id", "resident_id_check_digit")),
    );
    let r = app.post(&format!("{base}/staff"), person.clone()).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.body["resident_id_masked"], "110105********002X");
    assert!(!r.body.to_string().contains("19491231"), "the full number never leaves: {}", r.body);
    let staff = r.body["id"].as_str().unwrap().to_owned();

    // Promotion extends the title history.
    let mut promoted = person.clone();
    promoted["title_level"] = json!("associate_senior");
    promoted["title_name"] = json!("副主任医师");
    promoted["title_since"] = json!("2026-01-01");
    let r = app.put(&format!("{base}/staff/{staff}"), promoted).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let got = app.get(&format!("{base}/staff/{staff}")).await;
    assert_eq!(got.body["titles"].as_array().unwrap().len(), 2);
    assert_eq!(got.body["title_level"], "associate_senior");

    let postings = format!("{base}/staff/{staff}/postings");
    app.post(&postings, json!({"institution_id": t, "source": "dispatch", "valid_from": "2026-03-01", "valid_to": "2026-02-01"}))
        .await
        .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_input", Some(("valid_to", "period_reversed")));
    let r = app.post(&postings, json!({"institution_id": t, "source": "dispatch", "valid_from": "2026-03-01", "valid_to": "2026-09-30"})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let posting = r.body["id"].as_str().unwrap().to_owned();
    // Ended early.
    let r = app.put(&format!("{postings}/{posting}"), json!({"institution_id": t, "source": "dispatch", "valid_from": "2026-03-01", "valid_to": "2026-07-15"})).await;
    assert_eq!(r.body["valid_to"], "2026-07-15");
    let at_township = app.get(&format!("{base}/staff?institution_id={t}&on=2026-05-01")).await;
    assert_eq!(at_township.body["items"].as_array().unwrap().len(), 1);
    let later = app.get(&format!("{base}/staff?institution_id={t}&on=2026-08-01")).await;
    assert!(later.body["items"].as_array().unwrap().is_empty());
    app.post(&format!("{base}/staff"), person).await.assert_error(
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_input",
        Some(("code", "staff_code_taken")),
    );
}

pub async fn error_shape_everywhere(app: TestApp) {
    let base = app.consortium().await;
    // A system administrator registers another consortium; a manager cannot.
    let r = app
        .post(
            "/api/v1/consortia",
            json!({"name": "白水县医共体", "county_code": "990122", "founded_on": "2021-01-01"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let manager = app.user("manager", "consortium_manager", None).await;
    app.post_as(
        &manager,
        "/api/v1/consortia",
        json!({"name": "x", "county_code": "990123", "founded_on": "2021-01-01"}),
    )
    .await
    .assert_error(StatusCode::FORBIDDEN, "forbidden", None);
    app.get("/api/v1/nothing-here").await.assert_error(StatusCode::NOT_FOUND, "no_route", None);
    app.raw(Method::DELETE, &format!("{base}/institutions"), None, "").await.assert_error(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        None,
    );
    app.get("/api/v1/consortia/00000000-0000-7000-8000-000000000000/institutions").await.assert_error(
        StatusCode::FORBIDDEN,
        "out_of_scope",
        None,
    );
    app.get(&format!("{base}/institutions/not-a-uuid")).await.assert_error(
        StatusCode::BAD_REQUEST,
        "malformed_request",
        None,
    );
    app.raw(Method::POST, &format!("{base}/institutions"), Some("application/json"), "{\"code\": ")
        .await
        .assert_error(StatusCode::BAD_REQUEST, "malformed_json", None);
    app.raw(Method::POST, &format!("{base}/institutions"), Some("text/plain"), "{}").await.assert_error(
        StatusCode::BAD_REQUEST,
        "malformed_json",
        None,
    );
    let r = app.post(&format!("{base}/institutions"), json!({"code": "T1", "name": "x", "tier": "township_centre", "division_code": "990121101000", "colour": "red"})).await;
    r.assert_error(StatusCode::BAD_REQUEST, "malformed_json", None);
    assert!(r.body["message"].as_str().unwrap().contains("colour"), "{}", r.body);
    app.post("/api/v1/consortia", json!({"name": "x", "county_code": "990121", "founded_on": "2020-02-30"}))
        .await
        .assert_error(StatusCode::BAD_REQUEST, "malformed_json", None);
    app.post("/api/v1/consortia", json!({"name": "", "county_code": "99012"})).await.assert_error(
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_input",
        Some(("county_code", "division_code_invalid")),
    );
    app.get(&format!("{base}/institutions?page_size=501")).await.assert_error(
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_input",
        Some(("page_size", "page_size_out_of_range")),
    );
    app.get(&format!("{base}/institutions?cursor=%%%")).await.assert_error(
        StatusCode::BAD_REQUEST,
        "malformed_request",
        None,
    );
    app.get(&format!("{base}/institutions?cursor=!!")).await.assert_error(
        StatusCode::BAD_REQUEST,
        "malformed_request",
        None,
    );
}

pub async fn healthz(app: TestApp) {
    let r = app.send(Method::GET, "/healthz", None, None, "").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["status"], "ok");
}
