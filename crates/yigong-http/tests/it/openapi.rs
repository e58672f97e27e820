//! The published description lists every route the router serves.

use axum::http::StatusCode;

use crate::helpers::TestApp;

#[tokio::test]
async fn description_lists_every_route() {
    let app = TestApp::new(yigong_testkit::Backend::Sqlite).await.unwrap();
    let r = app.get("/api/openapi.json").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body["openapi"].as_str().unwrap().starts_with("3.1"), "{}", r.body["openapi"]);
    let mut published = Vec::new();
    for (path, item) in r.body["paths"].as_object().unwrap() {
        for method in ["get", "post", "put", "patch", "delete"] {
            if item.get(method).is_some() {
                published.push((method.to_owned(), path.clone()));
            }
        }
    }
    published.sort();
    let expected = crate::matrix::rule_routes();
    assert_eq!(published, expected);
    // Every published operation is really served (a 404 `no_route` would mean it is not).
    for (method, path) in &expected {
        let uri = path
            .replace("{consortium_id}", "00000000-0000-7000-8000-000000000000")
            .replace("{institution_id}", "00000000-0000-7000-8000-000000000001")
            .replace("{department_id}", "00000000-0000-7000-8000-000000000002")
            .replace("{staff_id}", "00000000-0000-7000-8000-000000000003")
            .replace("{posting_id}", "00000000-0000-7000-8000-000000000004")
            .replace("{user_id}", "00000000-0000-7000-8000-000000000005");
        let reply =
            app.raw(method.to_uppercase().parse().unwrap(), &uri, Some("application/json"), "{}").await;
        assert_ne!(reply.body["error"], "no_route", "{method} {path}");
    }
    // The error shape is described.
    assert!(r.body["components"]["schemas"]["ErrorBody"].is_object());
}

#[tokio::test]
async fn docs_page_is_browsable() {
    let app = TestApp::new(yigong_testkit::Backend::Sqlite).await.unwrap();
    let resp = tower::ServiceExt::oneshot(
        app.router.clone(),
        axum::http::Request::get("/api/docs").body(axum::body::Body::empty()).unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let bytes = http_body_util::BodyExt::collect(resp.into_body()).await.unwrap().to_bytes();
    let html = String::from_utf8(bytes.to_vec()).unwrap();
    assert!(html.contains("/api/v1/consortia/{consortium_id}/institutions"));
}
