//! The master patient index over the API: a steward loads a township's patient list, a hospital
//! specialist asks the index, registers a returning patient, reads the person; broken lists are
//! refused with their line.

use axum::http::StatusCode;
use base64::Engine;
use serde_json::json;

use crate::helpers::TestApp;

const MAPPING: &str = "id_column = \"编号\"\n[fields]\nname = \"姓名\"\nsex = \"性别\"\nbirth_date = \"出生日期\"\nresident_id = \"身份证号\"\nphone = \"电话\"\n";

fn id(body17: &str) -> String {
    format!("{body17}{}", yigong_domain::identity::check_char(body17))
}

/// `n` people of the county, as a CSV file.
fn csv(n: usize) -> (String, Vec<(String, String, String)>) {
    const SURNAMES: [&str; 6] = ["王", "李", "张", "刘", "欧阳", "诸葛"];
    const GIVEN: [&str; 8] = ["伟", "芳", "娜", "敏", "静", "强", "磊", "洋"];
    let mut out = String::from("编号,姓名,性别,出生日期,身份证号,电话\n");
    let mut people = Vec::new();
    for i in 0..n {
        let (year, month, day) = (1950 + i % 60, 1 + (i * 5) % 12, 1 + (i * 11) % 28);
        let male = i % 2 == 0;
        let rid = id(&format!("990121{year:04}{month:02}{day:02}{:02}{}", i % 100, if male { 1 } else { 2 }));
        let name = format!("{}{}{}", SURNAMES[i % 6], GIVEN[(i / 6) % 8], GIVEN[(i / 48) % 8]);
        let birth = format!("{year:04}-{month:02}-{day:02}");
        out.push_str(&format!(
            "MZ{i:05},{name},{},{birth},{rid},139{:08}\n",
            if male { "男" } else { "女" },
            i * 7919 % 100_000_000
        ));
        people.push((name, birth, rid));
    }
    (out, people)
}

pub async fn import_match_register_read(app: TestApp) {
    let (_hospital, township, _village) = app.small_county().await;
    let steward = app.user("steward", "consortium_manager", None).await;
    let specialist = app.user("spec", "county_specialist", Some(&_hospital)).await;
    let (file, people) = csv(300);
    let body = |content: &[u8]| {
        json!({
            "source": "T01",
            "mapping": MAPPING,
            "content_base64": base64::engine::general_purpose::STANDARD.encode(content),
        })
    };

    // A clinician may not load lists.
    let r = app.post_as(&specialist, "/api/v1/mpi/imports", body(file.as_bytes())).await;
    r.assert_error(StatusCode::FORBIDDEN, "forbidden", None);

    let r = app.post_as(&steward, "/api/v1/mpi/imports", body(file.as_bytes())).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["inserted"], 300, "{}", r.text);
    assert_eq!(r.body["persons_created"], 300, "{}", r.text);
    // The same list again changes nothing.
    let r = app.post_as(&steward, "/api/v1/mpi/imports", body(file.as_bytes())).await;
    assert_eq!(
        (r.body["inserted"].as_u64(), r.body["unchanged"].as_u64()),
        (Some(0), Some(300)),
        "{}",
        r.text
    );

    // A broken row: refused with its line, nothing loaded.
    let broken = format!("{file}MZ99999,\"王伟,男\n");
    let r = app.post_as(&steward, "/api/v1/mpi/imports", body(broken.as_bytes())).await;
    r.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_input", Some(("file", "file_invalid")));
    assert!(r.text.contains("line 302"), "{}", r.text);
    let r = app
        .post_as(
            &steward,
            "/api/v1/mpi/imports",
            json!({"source": "T01", "mapping": "[fields]\nmobile = \"电话\"\n", "content_base64": "AA=="}),
        )
        .await;
    r.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_input", Some(("mapping", "mapping_invalid")));

    // The specialist asks the index: a homophone and a date written otherwise still find the person.
    let (name, birth, rid) = &people[7]; // an odd row: a woman
    let typo: String = name.replacen('伟', "卫", 1).replacen('芳', "方", 1);
    let r = app
        .post_as(
            &specialist,
            "/api/v1/mpi/match",
            json!({"name": typo, "birth_date": birth.replace('-', ""), "resident_id": rid}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let first = &r.body["matches"][0];
    assert_eq!(first["band"], "auto_link", "{}", r.text);
    assert!(first["resident_id_masked"].as_str().unwrap().contains('*'), "{}", r.text);
    assert_eq!(first["source"], "T01");
    let person = first["person_id"].as_str().unwrap().to_owned();

    // Registering that patient at the hospital links to the same person.
    let r = app
        .post_as(
            &specialist,
            "/api/v1/mpi/registrations",
            json!({"name": typo, "sex": "female", "birth_date": birth, "resident_id": rid, "local_id": "ZY0001"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.body["person_id"], person.as_str(), "{}", r.text);
    assert_eq!(r.body["method"], "auto");
    // The same patient number again at the hospital is refused.
    let r = app
        .post_as(&specialist, "/api/v1/mpi/registrations", json!({"name": "李四", "sex": "male", "birth_date": "1990-01-01", "no_id_reason": "not_carried", "local_id": "ZY0001"}))
        .await;
    r.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_input", Some(("local_id", "local_id_taken")));

    // The person: two records, the golden record from them; the township's doctor reads it too.
    let r = app.get_as(&specialist, &format!("/api/v1/mpi/persons/{person}")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["records"].as_array().unwrap().len(), 2, "{}", r.text);
    assert_eq!(r.body["golden"]["resident_id"]["value"], rid.as_str());
    let township_doctor = app.user("tdoc", "township_doctor", Some(&township)).await;
    let r = app.get_as(&township_doctor, &format!("/api/v1/mpi/persons/{person}")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    // A pharmacist may not.
    let pharmacist = app.user("pharm", "pharmacist", Some(&township)).await;
    let r = app.get_as(&pharmacist, &format!("/api/v1/mpi/persons/{person}")).await;
    r.assert_error(StatusCode::FORBIDDEN, "forbidden", None);
}
