//! `TestApp`: the application router on a fresh database with one consortium and a system
//! administrator, and one helper per request shape.

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;
use yigong_app::Ctx;
use yigong_app::auth::{self, SessionKind, UserDraft};
use yigong_domain::facility::ConsortiumDraft;
use yigong_domain::ids::{ConsortiumId, InstitutionId};
use yigong_testkit::{Backend, TestDb};

pub const PASSWORD: &str = "correct-horse-42";

/// The router over a fresh, migrated database.
pub struct TestApp {
    pub router: Router,
    pub ctx: Ctx,
    pub consortium_id: ConsortiumId,
    /// The application's clock, moved by tests of expiry and lockout.
    pub clock: std::sync::Arc<yigong_app::ManualClock>,
    /// Bearer token of the consortium's system administrator.
    pub admin: String,
    _db: TestDb,
}

/// A response: status, headers and JSON body (`Value::Null` when empty or not JSON).
pub struct Reply {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub body: Value,
    pub text: String,
}

impl TestApp {
    pub async fn new(backend: Backend) -> Option<Self> {
        let db = yigong_testkit::db(backend).await?;
        let clock = std::sync::Arc::new(yigong_app::ManualClock::new(chrono::Utc::now()));
        let mut ctx = Ctx::new(db.db.clone());
        ctx.clock = clock.clone();
        let console = yigong_app::access::console(ConsortiumId::from_uuid(uuid::Uuid::nil()));
        let draft = ConsortiumDraft {
            name: "青岚县医疗卫生共同体".into(),
            county_code: "990121".into(),
            founded_on: chrono::NaiveDate::from_ymd_opt(2020, 6, 1),
        };
        let c = yigong_app::registry::create_consortium(&ctx, &console, draft).await.unwrap();
        let mut app = Self {
            router: yigong_http::app(ctx.clone()),
            ctx,
            consortium_id: c.id,
            clock,
            admin: String::new(),
            _db: db,
        };
        app.admin = app.user("admin", "system_admin", None).await;
        Some(app)
    }

    /// The application clock's current instant.
    pub fn clock_now(&self) -> chrono::DateTime<chrono::Utc> {
        yigong_app::Clock::now(self.clock.as_ref())
    }

    /// Creates an account (as the console) and returns a bearer token for it.
    pub async fn user(&self, username: &str, role: &str, institution: Option<&str>) -> String {
        self.user_in(self.consortium_id, username, role, institution).await
    }

    /// Creates an account in another consortium and returns a token.
    pub async fn user_in(
        &self,
        consortium: ConsortiumId,
        username: &str,
        role: &str,
        institution: Option<&str>,
    ) -> String {
        let console = yigong_app::access::console(consortium);
        let draft = UserDraft {
            username: username.into(),
            display_name: username.into(),
            password: PASSWORD.into(),
            role: role.into(),
            institution_id: institution.map(|i| InstitutionId::from_uuid(i.parse().unwrap())),
            staff_id: None,
        };
        auth::create_user(&self.ctx, &console, consortium, draft).await.unwrap();
        auth::login(&self.ctx, username, PASSWORD, SessionKind::Api, None, None).await.unwrap().secret
    }

    pub async fn send(
        &self,
        method: Method,
        uri: &str,
        token: Option<&str>,
        content_type: Option<&str>,
        body: &str,
    ) -> Reply {
        let mut req = Request::builder().method(method).uri(uri);
        if let Some(ct) = content_type {
            req = req.header("content-type", ct);
        }
        if let Some(t) = token {
            req = req.header("authorization", format!("Bearer {t}"));
        }
        self.request(req.body(Body::from(body.to_owned())).unwrap()).await
    }

    /// A request with a binary body and extra headers.
    pub async fn send_bytes(
        &self,
        method: Method,
        uri: &str,
        token: &str,
        headers: &[(&str, &str)],
        body: Vec<u8>,
    ) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
        let mut req =
            Request::builder().method(method).uri(uri).header("authorization", format!("Bearer {token}"));
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let resp = self.router.clone().oneshot(req.body(Body::from(body)).unwrap()).await.unwrap();
        let status = resp.status();
        let headers = resp.headers().clone();
        let bytes = resp.into_body().collect().await.unwrap().to_bytes().to_vec();
        (status, headers, bytes)
    }

    pub async fn request(&self, req: Request<Body>) -> Reply {
        let resp = self.router.clone().oneshot(req).await.unwrap();
        let status = resp.status();
        let headers = resp.headers().clone();
        let bytes = resp.into_body().collect().await.unwrap().to_bytes();
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Reply { status, headers, body, text }
    }

    /// A request as the administrator.
    pub async fn raw(&self, method: Method, uri: &str, content_type: Option<&str>, body: &str) -> Reply {
        self.send(method, uri, Some(&self.admin), content_type, body).await
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

    pub async fn put_as(&self, token: &str, uri: &str, body: Value) -> Reply {
        self.send(Method::PUT, uri, Some(token), Some("application/json"), &body.to_string()).await
    }

    pub async fn get_as(&self, token: &str, uri: &str) -> Reply {
        self.send(Method::GET, uri, Some(token), None, "").await
    }

    pub async fn post_as(&self, token: &str, uri: &str, body: Value) -> Reply {
        self.send(Method::POST, uri, Some(token), Some("application/json"), &body.to_string()).await
    }

    /// The consortium's URL prefix.
    pub async fn consortium(&self) -> String {
        format!("/api/v1/consortia/{}", self.consortium_id)
    }

    /// Creates an institution (as the administrator) and returns its id.
    pub async fn institution(&self, base: &str, body: Value) -> String {
        let r = self.post(&format!("{base}/institutions"), body).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        r.body["id"].as_str().unwrap().to_owned()
    }

    /// A county hospital and a township centre with one village service point: (hospital,
    /// township, village) ids.
    pub async fn small_county(&self) -> (String, String, String) {
        let base = self.consortium().await;
        let h = self
            .institution(&base, json!({"code": "H01", "name": "青岚县人民医院", "tier": "county_general", "division_code": "990121000000"}))
            .await;
        let t = self
            .institution(&base, json!({"code": "T01", "name": "东关镇卫生院", "tier": "township_centre", "division_code": "990121101000"}))
            .await;
        let v = self
            .institution(
                &base,
                json!({"code": "V001", "name": "上河村卫生服务点", "tier": "village_service_point",
                "division_code": "990121101201", "parent_id": t}),
            )
            .await;
        (h, t, v)
    }
}

impl Reply {
    /// Asserts an error reply: status, code, and (optionally) the code of one field.
    #[track_caller]
    pub fn assert_error(&self, status: StatusCode, code: &str, field: Option<(&str, &str)>) {
        assert_eq!(self.status, status, "{}", self.text);
        assert_eq!(self.body["error"], code, "{}", self.text);
        assert!(self.body["message"].is_string(), "{}", self.text);
        if let Some((name, field_code)) = field {
            assert_eq!(self.body["fields"][name]["code"], field_code, "{}", self.text);
        }
    }
}
