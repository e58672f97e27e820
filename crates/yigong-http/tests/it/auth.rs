//! Tokens, lockout, expiry, revocation, CSRF, password change, disabling.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use serde_json::json;
use yigong_app::auth::{self, SessionKind};

use crate::helpers::{PASSWORD, TestApp};

async fn token_reply(app: &TestApp, username: &str, password: &str) -> crate::helpers::Reply {
    app.send(
        Method::POST,
        "/api/v1/auth/token",
        None,
        Some("application/json"),
        &json!({"username": username, "password": password}).to_string(),
    )
    .await
}

pub async fn token_issue_and_same_answer_for_unknown_user(app: TestApp) {
    app.user("lin", "consortium_manager", None).await;
    let ok = token_reply(&app, "lin", PASSWORD).await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.text);
    assert_eq!(ok.body["token_type"], "Bearer");
    let expires_in = ok.body["expires_in"].as_i64().unwrap();
    assert!((28_000..=28_800).contains(&expires_in), "{expires_in}");
    let token = ok.body["access_token"].as_str().unwrap();
    let me = app.get_as(token, "/api/v1/auth/me").await;
    assert_eq!(me.body["username"], "lin");
    assert_eq!(me.body["role"], "consortium_manager");

    let wrong = token_reply(&app, "lin", "wrong-password-1").await;
    let unknown = token_reply(&app, "nobody", "wrong-password-1").await;
    wrong.assert_error(StatusCode::UNAUTHORIZED, "unauthenticated", None);
    assert_eq!(wrong.body, unknown.body, "unknown user and wrong password look the same");
    assert_eq!(wrong.headers.get("www-authenticate").unwrap(), "Bearer realm=\"yigong\"");
    // Over-long and malformed credentials are 400, never 500.
    token_reply(&app, &"x".repeat(10_000), "p").await.assert_error(
        StatusCode::BAD_REQUEST,
        "malformed_request",
        None,
    );
    token_reply(&app, "", "").await.assert_error(StatusCode::BAD_REQUEST, "malformed_request", None);
    app.send(Method::POST, "/api/v1/auth/token", None, Some("application/json"), "{\"username\": 1}")
        .await
        .assert_error(StatusCode::BAD_REQUEST, "malformed_json", None);
}

pub async fn lockout_after_repeated_failures(app: TestApp) {
    app.user("wang", "township_doctor", Some(&app.small_county().await.1)).await;
    for _ in 0..auth::MAX_FAILED_LOGINS {
        token_reply(&app, "wang", "wrong-password-1").await.assert_error(
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
            None,
        );
    }
    // Locked: even the right password is refused, with the same answer.
    token_reply(&app, "wang", PASSWORD).await.assert_error(StatusCode::UNAUTHORIZED, "unauthenticated", None);
    // The lock ends by itself.
    app.clock.advance(auth::LOCKOUT + chrono::Duration::seconds(1));
    assert_eq!(token_reply(&app, "wang", PASSWORD).await.status, StatusCode::OK);
    // The lockout was audited.
    let base = app.consortium().await;
    let audit = app.get(&format!("{base}/audit?outcome=denied&page_size=500")).await;
    let details: Vec<_> =
        audit.body["items"].as_array().unwrap().iter().filter_map(|r| r["detail"].as_str()).collect();
    assert!(details.contains(&"reason=locked"), "{details:?}");
}

pub async fn tokens_expire_and_revoke_at_once(app: TestApp) {
    let token = app.user("zhao", "pharmacist", None).await;
    let second = auth::login(&app.ctx, "zhao", PASSWORD, SessionKind::Api, None, None).await.unwrap().secret;
    assert_eq!(app.get_as(&token, "/api/v1/auth/me").await.status, StatusCode::OK);
    let r = app.send(Method::DELETE, "/api/v1/auth/token", Some(&token), None, "").await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    app.get_as(&token, "/api/v1/auth/me").await.assert_error(
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
        None,
    );
    // The other token lives until it expires.
    assert_eq!(app.get_as(&second, "/api/v1/auth/me").await.status, StatusCode::OK);
    app.clock.advance(auth::API_TOKEN_TTL);
    app.get_as(&second, "/api/v1/auth/me").await.assert_error(
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
        None,
    );
}

pub async fn disabling_ends_sessions_and_password_change_ends_others(app: TestApp) {
    let (hospital, _, _) = app.small_county().await;
    let token = app.user("sun", "county_specialist", Some(&hospital)).await;
    let other = auth::login(&app.ctx, "sun", PASSWORD, SessionKind::Api, None, None).await.unwrap().secret;
    // Weak password refused with field errors.
    let r = app
        .send(
            Method::PUT,
            "/api/v1/auth/password",
            Some(&token),
            Some("application/json"),
            &json!({"current_password": PASSWORD, "new_password": "short"}).to_string(),
        )
        .await;
    r.assert_error(
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_input",
        Some(("new_password", "password_too_weak")),
    );
    let r = app
        .send(
            Method::PUT,
            "/api/v1/auth/password",
            Some(&token),
            Some("application/json"),
            &json!({"current_password": "not-it-123", "new_password": "a-new-secret-99"}).to_string(),
        )
        .await;
    r.assert_error(
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_input",
        Some(("current_password", "password_wrong")),
    );
    let r = app
        .send(
            Method::PUT,
            "/api/v1/auth/password",
            Some(&token),
            Some("application/json"),
            &json!({"current_password": PASSWORD, "new_password": "a-new-secret-99"}).to_string(),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    assert_eq!(
        app.get_as(&token, "/api/v1/auth/me").await.status,
        StatusCode::OK,
        "the changing session goes on"
    );
    app.get_as(&other, "/api/v1/auth/me").await.assert_error(
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
        None,
    );
    assert_eq!(token_reply(&app, "sun", "a-new-secret-99").await.status, StatusCode::OK);

    let me = app.get_as(&token, "/api/v1/auth/me").await;
    let user_id = me.body["user_id"].as_str().unwrap();
    let base = app.consortium().await;
    let r = app.post(&format!("{base}/users/{user_id}/disable"), json!(null)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["disabled"], true);
    app.get_as(&token, "/api/v1/auth/me").await.assert_error(
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
        None,
    );
    token_reply(&app, "sun", "a-new-secret-99").await.assert_error(
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
        None,
    );
    let r = app.post(&format!("{base}/users/{user_id}/enable"), json!(null)).await;
    assert_eq!(r.body["disabled"], false);
    assert_eq!(token_reply(&app, "sun", "a-new-secret-99").await.status, StatusCode::OK);
}

pub async fn cookie_sessions_need_the_csrf_token(app: TestApp) {
    let (hospital, _, _) = app.small_county().await;
    app.user("qian", "institution_admin", Some(&hospital)).await;
    let web = auth::login(&app.ctx, "qian", PASSWORD, SessionKind::Web, None, None).await.unwrap();
    let csrf = web.csrf_token.clone().unwrap();
    let base = app.consortium().await;
    let uri = format!("{base}/institutions/{hospital}/departments");
    let body = json!({"name": "儿科", "subject_code": "07", "kind": "clinical"}).to_string();
    let send = |csrf: Option<&str>| {
        let mut req = Request::builder()
            .method(Method::POST)
            .uri(&uri)
            .header("content-type", "application/json")
            .header("cookie", format!("yigong_session={}", web.secret));
        if let Some(c) = csrf {
            req = req.header("x-csrf-token", c);
        }
        req.body(Body::from(body.clone())).unwrap()
    };
    app.request(send(None)).await.assert_error(StatusCode::FORBIDDEN, "csrf_failed", None);
    app.request(send(Some("forged"))).await.assert_error(StatusCode::FORBIDDEN, "csrf_failed", None);
    assert_eq!(app.request(send(Some(&csrf))).await.status, StatusCode::CREATED);
    // Reads with the cookie need no token.
    let read = Request::get(&uri)
        .header("cookie", format!("yigong_session={}", web.secret))
        .body(Body::empty())
        .unwrap();
    assert_eq!(app.request(read).await.status, StatusCode::OK);
}

pub async fn dispatch_and_break_glass_grants(app: TestApp) {
    let (hospital, township, _) = app.small_county().await;
    let base = app.consortium().await;
    // A county physician with an account, dispatched to the township centre.
    let s = app
        .post(&format!("{base}/staff"), json!({"code": "S7", "name": "周敏", "sex": "female", "category": "physician", "employer_institution_id": hospital}))
        .await;
    let staff_id = s.body["id"].as_str().unwrap().to_owned();
    let today = chrono::Utc::now().date_naive();
    let r = app
        .post(&format!("{base}/staff/{staff_id}/postings"), json!({"institution_id": township, "source": "dispatch",
            "valid_from": (today - chrono::Duration::days(10)).to_string(), "valid_to": (today + chrono::Duration::days(170)).to_string()}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let console = yigong_app::access::console(app.consortium_id);
    let draft = yigong_app::auth::UserDraft {
        username: "zhou".into(),
        display_name: "周敏".into(),
        password: PASSWORD.into(),
        role: "county_specialist".into(),
        institution_id: Some(yigong_domain::ids::InstitutionId::from_uuid(hospital.parse().unwrap())),
        staff_id: Some(yigong_domain::ids::StaffId::from_uuid(staff_id.parse().unwrap())),
    };
    auth::create_user(&app.ctx, &console, app.consortium_id, draft).await.unwrap();
    let token = auth::login(&app.ctx, "zhou", PASSWORD, SessionKind::Api, None, None).await.unwrap().secret;
    let session = auth::authenticate(&app.ctx, &token, None).await.unwrap();
    let grant = session
        .actor
        .grants
        .iter()
        .find(|g| g.basis == yigong_domain::access::Basis::Dispatch)
        .expect("dispatch grant");
    let township_id = yigong_domain::ids::InstitutionId::from_uuid(township.parse().unwrap());
    assert_eq!(grant.subject, yigong_domain::access::GrantSubject::Institution(township_id));
    // The grant really opens the host's patients to the dispatched physician, and nothing else.
    use yigong_domain::access::{Basis, Permission, Target, decide};
    let host = Target {
        consortium_id: app.consortium_id,
        institution_id: Some(township_id),
        patient: Some(uuid::Uuid::now_v7()),
    };
    let now = app.clock_now();
    assert_eq!(decide(&session.actor, Permission::PatientRead, &host, now), Ok(Basis::Dispatch));
    let elsewhere = Target { institution_id: Some(yigong_domain::ids::InstitutionId::new_v7()), ..host };
    assert!(decide(&session.actor, Permission::PatientRead, &elsewhere, now).is_err());

    // Break-glass needs a reason, then opens the patient and is audited.
    let patient = uuid::Uuid::now_v7();
    app.post_as(
        &token,
        "/api/v1/break-glass",
        json!({"patient_id": patient, "reason_code": "emergency", "reason_text": " "}),
    )
    .await
    .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_input", Some(("reason_text", "required")));
    let r = app.post_as(&token, "/api/v1/break-glass", json!({"patient_id": patient, "reason_code": "emergency", "reason_text": "昏迷送达，无法联系家属"})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let session = auth::authenticate(&app.ctx, &token, None).await.unwrap();
    assert!(
        session
            .actor
            .grants
            .iter()
            .any(|g| g.subject == yigong_domain::access::GrantSubject::Patient(patient))
    );
    let audit = app.get(&format!("{base}/audit?basis=break_glass")).await;
    assert_eq!(audit.body["items"].as_array().unwrap().len(), 1, "{}", audit.text);
    assert_eq!(audit.body["items"][0]["patient_id"], patient.to_string());
    // After four hours the grant is gone.
    app.clock.advance(chrono::Duration::hours(4));
    let later = auth::authenticate(&app.ctx, &token, None).await;
    assert!(
        later.is_err()
            || !later
                .unwrap()
                .actor
                .grants
                .iter()
                .any(|g| g.subject == yigong_domain::access::GrantSubject::Patient(patient))
    );
}

pub async fn audit_viewer_filters_and_exports(app: TestApp) {
    let base = app.consortium().await;
    let (hospital, _, _) = app.small_county().await;
    let r = app.get(&format!("{base}/staff")).await;
    assert_eq!(r.status, StatusCode::OK);
    let all = app.get(&format!("{base}/audit?page_size=2")).await;
    assert_eq!(all.body["items"].as_array().unwrap().len(), 2);
    let next = all.body["next_cursor"].as_str().unwrap();
    let page2 = app.get(&format!("{base}/audit?page_size=2&cursor={next}")).await;
    assert_eq!(page2.status, StatusCode::OK, "{}", page2.text);
    assert_ne!(page2.body["items"][0]["audit_id"], all.body["items"][0]["audit_id"]);
    let created = app.get(&format!("{base}/audit?page_size=500")).await;
    let actions: Vec<_> = created.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["action"].as_str().unwrap().to_owned())
        .collect();
    assert!(actions.iter().any(|a| a == "create"), "{actions:?}");
    let csv = app.get(&format!("{base}/audit/export.csv")).await;
    assert_eq!(csv.status, StatusCode::OK);
    assert!(csv.headers.get("content-type").unwrap().to_str().unwrap().starts_with("text/csv"));
    assert!(
        csv.text.starts_with("consortium_id,seq,audit_id,recorded_at,"),
        "{}",
        &csv.text[..80.min(csv.text.len())]
    );
    assert!(csv.text.contains(&hospital), "institution creation appears in the export");
    app.get(&format!("{base}/audit?outcome=maybe")).await.assert_error(
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_input",
        Some(("outcome", "outcome_unknown")),
    );
    app.get(&format!("{base}/audit?cursor=bm9wZQ")).await.assert_error(
        StatusCode::BAD_REQUEST,
        "malformed_request",
        None,
    );
    // No personal data in the trail: names never appear.
    assert!(!csv.text.contains("青岚县人民医院"));
}

pub async fn staff_with_two_postings_switch_institution(app: TestApp) {
    let (hospital, township, _) = app.small_county().await;
    app.user("multi", "county_specialist", Some(&hospital)).await;
    let console = yigong_app::access::console(app.consortium_id);
    let session = auth::authenticate(
        &app.ctx,
        &auth::login(&app.ctx, "multi", PASSWORD, SessionKind::Api, None, None).await.unwrap().secret,
        None,
    )
    .await
    .unwrap();
    let township_id = yigong_domain::ids::InstitutionId::from_uuid(township.parse().unwrap());
    let grant = auth::add_role(
        &app.ctx,
        &console,
        app.consortium_id,
        session.actor.user_id,
        yigong_domain::access::Role::TownshipDoctor,
        Some(township_id),
    )
    .await
    .unwrap();
    let web = auth::login(&app.ctx, "multi", PASSWORD, SessionKind::Web, None, None).await.unwrap();
    let cookie = format!("yigong_session={}", web.secret);
    let me = |cookie: String| {
        Request::get("/api/v1/auth/me").header("cookie", cookie).body(Body::empty()).unwrap()
    };
    let before = app.request(me(cookie.clone())).await;
    assert_eq!(before.body["role"], "county_specialist");
    assert_eq!(before.body["roles"].as_array().unwrap().len(), 2);
    // The page form switches, with the CSRF token; a forged one is refused.
    let switch = |csrf: &str| {
        Request::post("/session/role")
            .header("cookie", cookie.clone())
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Body::from(format!("_csrf={csrf}&user_role_id={}", grant.user_role_id)))
            .unwrap()
    };
    assert_eq!(app.request(switch("forged")).await.status, StatusCode::FORBIDDEN);
    let r = app.request(switch(web.csrf_token.as_deref().unwrap())).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    let after = app.request(me(cookie.clone())).await;
    assert_eq!(after.body["role"], "township_doctor");
    assert_eq!(after.body["institution_id"], township);
}

pub async fn login_form_needs_its_own_token(app: TestApp) {
    app.user("hezhi", "consortium_manager", None).await;
    let post = |cookie: Option<&str>, token: &str| {
        let mut req = Request::post("/login").header("content-type", "application/x-www-form-urlencoded");
        if let Some(c) = cookie {
            req = req.header("cookie", c);
        }
        req.body(Body::from(format!("_login_csrf={token}&username=hezhi&password={PASSWORD}&next=/")))
            .unwrap()
    };
    // A login posted from elsewhere (no paired cookie) is refused, even with the right password.
    let r = app.request(post(None, "anything")).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(r.headers.get("set-cookie").is_some_and(|c| !c.to_str().unwrap().starts_with("yigong_session=")));
    // The form's own token and cookie log in.
    let page = app.request(Request::get("/login").body(Body::empty()).unwrap()).await;
    let set = page.headers.get("set-cookie").unwrap().to_str().unwrap().to_owned();
    let cookie = set.split(';').next().unwrap().to_owned();
    let token = cookie.split_once('=').unwrap().1.to_owned();
    assert!(page.text.contains(&format!("value=\"{token}\"")), "the form carries the token");
    assert_eq!(app.request(post(Some(&cookie), "forged")).await.status, StatusCode::FORBIDDEN);
    let ok = app.request(post(Some(&cookie), &token)).await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.text);
    let session = ok.headers.get("set-cookie").unwrap().to_str().unwrap();
    assert!(
        session.starts_with("yigong_session=")
            && session.contains("HttpOnly")
            && session.contains("SameSite=Strict")
    );
}

/// An institution administrator cannot widen anyone's reach beyond their own institution:
/// not by minting a consortium-wide role, not by tying an account to another institution's
/// staff member, not by posting their own staff to another institution.
pub async fn no_escalation_through_accounts_or_postings(app: TestApp) {
    let (hospital, township, _) = app.small_county().await;
    let base = app.consortium().await;
    let tadmin = app.user("tadmin", "institution_admin", Some(&township)).await;
    let county_staff = app
        .post(&format!("{base}/staff"), json!({"code": "S50", "name": "陈医生", "sex": "male", "category": "physician", "employer_institution_id": hospital}))
        .await;
    let county_staff = county_staff.body["id"].as_str().unwrap().to_owned();
    let own_staff = app
        .post(&format!("{base}/staff"), json!({"code": "S51", "name": "吴医生", "sex": "female", "category": "physician", "employer_institution_id": township}))
        .await;
    let own_staff = own_staff.body["id"].as_str().unwrap().to_owned();

    let wide = json!({"username": "mgr2", "display_name": "x", "password": "abcdef123456", "role": "consortium_manager", "institution_id": township});
    app.post_as(&tadmin, &format!("{base}/users"), wide).await.assert_error(
        StatusCode::FORBIDDEN,
        "out_of_scope",
        None,
    );
    let bureau = json!({"username": "bur2", "display_name": "x", "password": "abcdef123456", "role": "health_bureau", "institution_id": township});
    app.post_as(&tadmin, &format!("{base}/users"), bureau).await.assert_error(
        StatusCode::FORBIDDEN,
        "out_of_scope",
        None,
    );
    let borrowed = json!({"username": "doc9", "display_name": "x", "password": "abcdef123456", "role": "township_doctor",
        "institution_id": township, "staff_id": county_staff});
    app.post_as(&tadmin, &format!("{base}/users"), borrowed).await.assert_error(
        StatusCode::FORBIDDEN,
        "out_of_scope",
        None,
    );
    let fine = json!({"username": "doc10", "display_name": "x", "password": "abcdef123456", "role": "township_doctor",
        "institution_id": township, "staff_id": own_staff});
    assert_eq!(app.post_as(&tadmin, &format!("{base}/users"), fine).await.status, StatusCode::CREATED);

    let away = json!({"institution_id": hospital, "source": "dispatch", "valid_from": "2026-01-01"});
    app.post_as(&tadmin, &format!("{base}/staff/{own_staff}/postings"), away).await.assert_error(
        StatusCode::FORBIDDEN,
        "out_of_scope",
        None,
    );
    let home = json!({"institution_id": township, "source": "employment", "valid_from": "2026-01-01"});
    assert_eq!(
        app.post_as(&tadmin, &format!("{base}/staff/{own_staff}/postings"), home).await.status,
        StatusCode::CREATED
    );
}
