//! The web UI: server-rendered pages (askama), zh-CN first with an English switch remembered
//! per user, no JavaScript needed. Pages call the same use cases as the API; sessions are
//! HttpOnly, SameSite=Strict cookies, and every state-changing form carries the session's
//! CSRF token.

use askama::Template;
use axum::Router;
use axum::extract::{FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use yigong_app::AppError;
use yigong_app::auth::{self, Session};
use yigong_domain::access::{Permission, Role, role_permits};

use crate::AppState;
use crate::auth::{SESSION_COOKIE, cookie, request_id};

pub mod i18n;
mod import;
mod mpi_labels;
mod pages;
mod patients;
mod person;
mod reading;
mod record;
mod referral;
mod review;

pub use i18n::{Lang, Tr};

/// The stylesheet, embedded.
const CSS: &str = include_str!("../../static/app.css");
/// Cookie remembering the language of visitors who are not logged in.
const LANG_COOKIE: &str = "yigong_lang";

/// The page routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/static/app.css", get(stylesheet))
        .route("/login", get(pages::login_form).post(pages::login))
        .route("/logout", post(pages::logout))
        .route("/lang", post(pages::switch_language))
        .route("/session/role", post(pages::switch_role))
        .route("/", get(pages::home))
        .route("/institutions", get(pages::institutions).post(pages::create_institution))
        .route("/institutions/new", get(pages::new_institution))
        .route("/institutions/{id}", get(pages::institution))
        .route("/staff", get(pages::staff_list))
        .route("/staff/{id}", get(pages::staff))
        .route("/patients/register", get(patients::register_form).post(patients::register))
        .route("/patients/{id}", get(person::person))
        .route("/patients/{id}/record", get(record::patient_record))
        .route("/patients/{id}/{action}", post(person::person_action))
        .route("/referrals", get(referral::worklist))
        .route("/referrals/new", get(referral::new_form).post(referral::create))
        .route("/referrals/metrics", get(referral::metrics_page))
        .route("/referrals/metrics/drill", get(referral::drill))
        .route("/referrals/{id}", get(referral::detail))
        .route("/referrals/{id}/slip", get(referral::slip))
        .route("/referrals/{id}/{action}", post(referral::act))
        .route("/exams", get(reading::exams))
        .route("/exams/new", get(reading::new_form).post(reading::create))
        .route("/exams/{id}", get(reading::detail))
        .route("/exams/{id}/{action}", post(reading::act))
        .route("/reading", get(reading::worklist))
        .route("/reading/metrics", get(reading::metrics_page))
        .route("/critical-values", get(reading::criticals))
        .route("/critical-values/{id}/{step}", post(reading::critical_act))
        .route("/follow-ups", get(referral::follow_ups))
        .route("/follow-ups/{id}/complete", post(referral::complete_follow_up))
        .route("/notifications", get(referral::notifications))
        .route("/notifications/read", post(referral::mark_read))
        .route("/mpi/review", get(review::review))
        .route("/mpi/review/decide", post(review::decide))
        .route(
            "/mpi/import",
            get(import::import_form)
                .post(import::import)
                .layer(axum::extract::DefaultBodyLimit::max(import::UPLOAD_LIMIT)),
        )
        .route("/users", get(pages::users).post(pages::create_user))
        .route("/users/new", get(pages::new_user))
        .route("/users/{id}/{action}", get(pages::confirm_user_action).post(pages::user_action))
        .route("/audit", get(pages::audit))
        .route("/account", get(pages::account))
        .route("/account/password", post(pages::change_password))
}

async fn stylesheet() -> Response {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8"), (header::CACHE_CONTROL, "public, max-age=3600")],
        CSS,
    )
        .into_response()
}

/// Session cookies always carry `Secure`: serve over HTTPS. Browsers also accept such cookies
/// from plain-HTTP loopback addresses, which is how the local demo works.
fn cookie_attributes() -> &'static str {
    "Path=/; HttpOnly; SameSite=Strict; Secure"
}

/// `Set-Cookie` for a session.
pub fn session_cookie(secret: &str, max_age_secs: i64) -> HeaderValue {
    HeaderValue::from_str(&format!(
        "{SESSION_COOKIE}={secret}; Max-Age={max_age_secs}; {}",
        cookie_attributes()
    ))
    .expect("cookie is ASCII")
}

/// `Set-Cookie` ending the session.
pub fn clear_session_cookie() -> HeaderValue {
    HeaderValue::from_str(&format!("{SESSION_COOKIE}=; Max-Age=0; {}", cookie_attributes())).expect("ASCII")
}

/// `Set-Cookie` for the visitor's language.
pub fn lang_cookie(lang: Lang) -> HeaderValue {
    HeaderValue::from_str(&format!("{LANG_COOKIE}={}; Max-Age=31536000; Path=/; SameSite=Lax", lang.tag()))
        .expect("ASCII")
}

/// The visitor's language: the cookie, else the browser's first choice, else Chinese.
pub fn visitor_lang(headers: &HeaderMap) -> Lang {
    if let Some(l) = cookie(headers, LANG_COOKIE) {
        return Lang::from_tag(&l);
    }
    let accept = headers.get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()).unwrap_or("");
    Lang::from_tag(accept.split(',').next().unwrap_or("").trim())
}

/// A page request: the session, if any, and the language to answer in.
pub struct Web {
    /// The logged-in session.
    pub session: Option<Session>,
    /// The language.
    pub lang: Lang,
    /// The path asked for, for redirects back after login.
    pub path: String,
}

impl FromRequestParts<AppState> for Web {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, ctx: &AppState) -> Result<Self, Self::Rejection> {
        let path = parts.uri.path_and_query().map_or("/".to_owned(), |p| p.as_str().to_owned());
        let session = match cookie(&parts.headers, SESSION_COOKIE) {
            Some(secret) if !secret.is_empty() => {
                match auth::authenticate(ctx, &secret, request_id(&parts.headers)).await {
                    Ok(s) => Some(s),
                    Err(AppError::Unauthenticated) => None,
                    Err(e) => return Err(crate::ApiError::from(e).into_response()),
                }
            }
            _ => None,
        };
        let lang =
            session.as_ref().map_or_else(|| visitor_lang(&parts.headers), |s| Lang::from_tag(&s.language));
        Ok(Self { session, lang, path })
    }
}

/// A page that needs a login: anonymous visitors are sent to the login page.
pub struct Signed {
    /// The session.
    pub session: Session,
    /// The language.
    pub lang: Lang,
    /// The path asked for.
    pub path: String,
}

impl FromRequestParts<AppState> for Signed {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, ctx: &AppState) -> Result<Self, Self::Rejection> {
        let web = Web::from_request_parts(parts, ctx).await?;
        match web.session {
            Some(session) => Ok(Self { session, lang: web.lang, path: web.path }),
            None => {
                let next = form_urlencoded_component(&web.path);
                Err(Redirect::to(&format!("/login?next={next}")).into_response())
            }
        }
    }
}

/// Percent-encodes a query component.
pub fn form_urlencoded_component(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// One entry of the navigation.
pub struct NavItem {
    /// Target.
    pub href: &'static str,
    /// Label.
    pub label: &'static str,
    /// Whether it is the current section.
    pub current: bool,
}

/// One role grant in the institution switch.
pub struct GrantOption {
    /// Grant id.
    pub id: String,
    /// "role @ institution".
    pub label: String,
    /// The one in effect.
    pub selected: bool,
}

/// The logged-in user, as the header shows them.
pub struct UserChrome {
    /// Name.
    pub display_name: String,
    /// Role in effect, translated.
    pub role_label: String,
    /// Acting institution's name, or the scope.
    pub institution_label: String,
    /// Every active grant, for the switch.
    pub grants: Vec<GrantOption>,
}

/// What every page shows around its content.
pub struct Chrome {
    /// Translations.
    pub t: Tr,
    /// `zh-CN` or `en`.
    pub lang: &'static str,
    /// The other language's tag, for the switch.
    pub other_lang: &'static str,
    /// The user, when logged in.
    pub user: Option<UserChrome>,
    /// Navigation by capability.
    pub nav: Vec<NavItem>,
    /// A one-line confirmation of the last action.
    pub flash: Option<String>,
    /// CSRF token of the session (empty when anonymous).
    pub csrf: String,
    /// Current path, for the language switch.
    pub path: String,
}

/// Builds the chrome of a page for `session` (or an anonymous visitor).
pub async fn chrome(
    ctx: &yigong_app::Ctx,
    session: Option<&Session>,
    lang: Lang,
    path: &str,
    section: &str,
) -> Chrome {
    let t = Tr { lang };
    let mut nav = Vec::new();
    let mut user = None;
    if let Some(s) = session {
        let role = s.actor.role;
        let mut add = |href: &'static str, key: &'static str, section_name: &str| {
            nav.push(NavItem { href, label: t.get(key), current: section == section_name });
        };
        add("/", "nav.home", "home");
        add("/institutions", "nav.institutions", "institutions");
        add("/staff", "nav.staff", "staff");
        if role_permits(role, Permission::PatientWrite) && s.actor.institution_id.is_some() {
            add("/patients/register", "nav.register", "patients");
        }
        if reading::orders_exams(role, s.actor.institution_id.is_some()) {
            add("/exams", "nav.exams", "exams");
        }
        if role == Role::Reader {
            add("/reading", "nav.reading", "reading");
        }
        if role_permits(role, Permission::PatientRead) || role_permits(role, Permission::IndicatorRead) {
            add("/critical-values", "nav.criticals", "criticals");
        }
        if role_permits(role, Permission::IndicatorRead) {
            add("/reading/metrics", "nav.reading_metrics", "reading_metrics");
        }
        if role_permits(role, Permission::MpiSteward) {
            add("/mpi/review", "nav.review", "review");
            add("/mpi/import", "nav.import", "import");
        }
        if role_permits(role, Permission::UserRead) {
            add("/users", "nav.users", "users");
        }
        if role_permits(role, Permission::AuditRead) {
            add("/audit", "nav.audit", "audit");
        }
        add("/account", "nav.account", "account");
        add("/api/docs", "nav.api", "api");
        let names = institution_names(ctx, s).await;
        let label_of = |g: &yigong_app::auth::RoleGrant| {
            let place = g
                .institution_id
                .and_then(|i| names.get(&i).cloned())
                .unwrap_or_else(|| t.get(&format!("scope.{}", g.scope_kind.as_str())).to_owned());
            format!("{} @ {}", t.get(&format!("role.{}", g.role.as_str())), place)
        };
        let grants: Vec<GrantOption> = s
            .grants
            .iter()
            .map(|g| GrantOption {
                id: g.user_role_id.to_string(),
                label: label_of(g),
                selected: g.role == role && g.institution_id == s.actor.institution_id,
            })
            .collect();
        let institution_label = s
            .actor
            .institution_id
            .and_then(|i| names.get(&i).cloned())
            .unwrap_or_else(|| t.get(&format!("scope.{}", s.actor.scope_kind.as_str())).to_owned());
        user = Some(UserChrome {
            display_name: s.display_name.clone(),
            role_label: t.get(&format!("role.{}", role.as_str())).to_owned(),
            institution_label,
            grants,
        });
    }
    Chrome {
        t,
        lang: lang.tag(),
        other_lang: if lang == Lang::ZhCn { "en" } else { "zh-CN" },
        user,
        nav,
        flash: None,
        csrf: session.and_then(|s| s.csrf_token.clone()).unwrap_or_default(),
        path: path.to_owned(),
    }
}

async fn institution_names(
    ctx: &yigong_app::Ctx,
    s: &Session,
) -> std::collections::HashMap<yigong_domain::ids::InstitutionId, String> {
    let mut names = std::collections::HashMap::new();
    for g in &s.grants {
        if let Some(i) = g.institution_id
            && let Ok((inst, _)) =
                yigong_app::registry::get_institution(ctx, &s.actor, g.consortium_id, i).await
        {
            names.insert(i, inst.name);
        }
    }
    names
}

/// Renders a template into a response with `status`.
pub fn render(status: StatusCode, page: &impl Template) -> Response {
    match page.render() {
        Ok(html) => (status, [(header::CACHE_CONTROL, "no-store")], Html(html)).into_response(),
        Err(e) => crate::ApiError::Internal(format!("render page: {e}")).into_response(),
    }
}

/// The error page.
#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage {
    /// Chrome.
    pub chrome: Chrome,
    /// Heading.
    pub heading: String,
    /// Explanation.
    pub body: String,
}

/// Turns a use-case error into a readable page (refusals, missing records) or the JSON error
/// (internal failures stay opaque).
pub async fn error_page(
    ctx: &yigong_app::Ctx,
    session: &Session,
    lang: Lang,
    path: &str,
    e: AppError,
) -> Response {
    let chrome = chrome(ctx, Some(session), lang, path, "").await;
    let t = chrome.t;
    let (status, heading, body) = match &e {
        AppError::Forbidden { code } => (
            StatusCode::FORBIDDEN,
            t.get("forbidden.title").to_owned(),
            format!("{} {}", t.error(code, code), t.get("forbidden.body")),
        ),
        AppError::NotFound { .. } => {
            (StatusCode::NOT_FOUND, t.get("not_found.title").to_owned(), t.get("not_found.body").to_owned())
        }
        AppError::Invalid(i) => {
            let body = i.fields.iter().map(|f| t.error(f.code, &f.message)).collect::<Vec<_>>().join(" ");
            (StatusCode::UNPROCESSABLE_ENTITY, t.get("error.invalid_input").to_owned(), body)
        }
        AppError::Conflict { rule } => {
            (StatusCode::CONFLICT, t.get("error.invalid_input").to_owned(), t.error(rule, rule))
        }
        AppError::Unauthenticated => return Redirect::to("/login").into_response(),
        _ => return crate::ApiError::from(e).into_response(),
    };
    if let AppError::Forbidden { code: "csrf_failed" } = &e {
        // Page forms refused for a missing token are audited like API refusals.
        let event = yigong_app::audit::Event::of("post", "page")
            .with_detail(format!("path={} reason=csrf_failed", path.split('?').next().unwrap_or("")));
        let actor = &session.actor;
        if let Err(err) = yigong_app::audit::record_denied(
            ctx,
            Some(actor),
            Some(actor.consortium_id),
            event,
            actor.request_id.clone(),
        )
        .await
        {
            return crate::ApiError::from(err).into_response();
        }
    }
    render(status, &ErrorPage { chrome, heading, body })
}

/// Whether the submitted CSRF token is the session's.
pub fn csrf_ok(session: &Session, submitted: &str) -> bool {
    session.csrf_token.as_deref().is_some_and(|t| !submitted.is_empty() && t == submitted)
}

/// Not found, as a page.
pub async fn not_found(web: Web, ctx: &yigong_app::Ctx) -> Response {
    let chrome = chrome(ctx, web.session.as_ref(), web.lang, &web.path, "").await;
    let t = chrome.t;
    let page =
        ErrorPage { heading: t.get("not_found.title").into(), body: t.get("not_found.body").into(), chrome };
    render(StatusCode::NOT_FOUND, &page)
}

/// The fallback: JSON for API paths, a page for everything else.
pub async fn fallback(axum::extract::State(ctx): axum::extract::State<AppState>, req: Request) -> Response {
    let path = req.uri().path();
    if path.starts_with("/api/") || path.starts_with("/fhir") || path == "/healthz" {
        return crate::ApiError::NoRoute.into_response();
    }
    let (mut parts, _) = req.into_parts();
    match Web::from_request_parts(&mut parts, &ctx).await {
        Ok(web) => not_found(web, &ctx).await,
        Err(r) => r,
    }
}

/// Label of a role.
pub fn role_label(t: Tr, role: Role) -> String {
    t.get(&format!("role.{}", role.as_str())).to_owned()
}
