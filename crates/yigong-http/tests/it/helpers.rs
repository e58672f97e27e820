//! `TestApp`: the application router on a fresh database, and one helper per request shape.

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;
use yigong_testkit::{Backend, TestDb};

/// The router over a fresh, migrated database.
pub struct TestApp {
    pub router: Router,
    _db: TestDb,
}

/// A response: status and JSON body (`Value::Null` when empty).
pub struct Reply {
    pub status: StatusCode,
    pub body: Value,
}

impl TestApp {
    pub async fn new(backend: Backend) -> Option<Self> {
        let db = yigong_testkit::db(backend).await?;
        let ctx = yigong_app::Ctx::new(db.db.clone());
        Some(Self { router: yigong_http::app(ctx), _db: db })
    }

    pub async fn raw(&self, method: Method, uri: &str, content_type: Option<&str>, body: &str) -> Reply {
        let mut req = Request::builder().method(method).uri(uri);
        if let Some(ct) = content_type {
            req = req.header("content-type", ct);
        }
        let resp = self.router.clone().oneshot(req.body(Body::from(body.to_owned())).unwrap()).await.unwrap();
        let status = resp.status();
        let bytes = resp.into_body().collect().await.unwrap().to_bytes();
        let body = if bytes.is_empty() { Value::Null } else { serde_json::from_slice(&bytes).expect("JSON body") };
        Reply { status, body }
    }

    pub async fn get(&self, uri: &str) -> Reply {
        self.raw(Method::GET, uri, None, "").await
    }

    pub async fn post(&self, uri: &str, body: Value) -> Reply {
        self.raw(Method::POST, uri, Some("application/json"), &body.to_string()).await
    }

    pub async fn put(&self, uri: &str, body: Value) -> Reply {
        self.raw(Method::PUT, uri, Some("application/json"), &body.to_string()).await
    }

    /// Creates the 青岚县 consortium and returns its institutions URL prefix.
    pub async fn consortium(&self) -> String {
        let r = self.post("/api/v1/consortia", json!({"name": "青岚县医疗卫生共同体", "county_code": "990121", "founded_on": "2020-06-01"})).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        format!("/api/v1/consortia/{}", r.body["id"].as_str().unwrap())
    }

    /// Creates an institution and returns its id.
    pub async fn institution(&self, base: &str, body: Value) -> String {
        let r = self.post(&format!("{base}/institutions"), body).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        r.body["id"].as_str().unwrap().to_owned()
    }
}

impl Reply {
    /// Asserts an error reply: status, code, and (optionally) the code of one field.
    #[track_caller]
    pub fn assert_error(&self, status: StatusCode, code: &str, field: Option<(&str, &str)>) {
        assert_eq!(self.status, status, "{}", self.body);
        assert_eq!(self.body["error"], code, "{}", self.body);
        assert!(self.body["message"].is_string(), "{}", self.body);
        if let Some((name, field_code)) = field {
            assert_eq!(self.body["fields"][name]["code"], field_code, "{}", self.body);
        }
    }
}
