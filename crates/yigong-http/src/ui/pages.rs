//! The page handlers: each extracts, calls use cases, and renders one template.

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::http::header::SET_COOKIE;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use uuid::Uuid;
use yigong_app::auth::{self, SessionKind, UserDraft};
use yigong_app::registry::{self, InstitutionFilter, StaffFilter};
use yigong_app::{AppError, audit};
use yigong_domain::access::{Permission, Role, role_permits};
use yigong_domain::facility::{Institution, InstitutionDraft, InstitutionKind, Tier};
use yigong_domain::ids::{InstitutionId, StaffId};
use yigong_domain::page::PageRequest;
use yigong_domain::{Invalid, Staff};

use super::{Chrome, Lang, Signed, Tr, Web, chrome, csrf_ok, error_page, render};
use crate::AppState;
use crate::page::encode_cursor;
use crate::routes::auth::ClientInfo;

/// One form control and its state.
pub struct FormField {
    /// Request field name (also the API field the error code refers to).
    pub name: &'static str,
    /// Element id (`f-<name>` unless several forms on one page share a field name).
    pub id: String,
    /// Label.
    pub label: String,
    /// `text`, `password`, `number`, `date`, `select` or `checkbox`.
    pub kind: &'static str,
    /// Current value (kept on failure).
    pub value: String,
    /// (value, label) of a select.
    pub options: Vec<(String, String)>,
    /// Error beside the field.
    pub error: Option<String>,
    /// Required.
    pub required: bool,
    /// Help below the field.
    pub hint: Option<String>,
    /// The `autocomplete` token, when the browser should not (`off`) or may help.
    pub autocomplete: Option<&'static str>,
}

impl FormField {
    pub(super) fn new(name: &'static str, label: &str, kind: &'static str, value: &str) -> Self {
        Self {
            name,
            id: format!("f-{name}"),
            label: label.to_owned(),
            kind,
            value: value.to_owned(),
            options: vec![],
            error: None,
            required: false,
            hint: None,
            autocomplete: None,
        }
    }
    pub(super) fn required(mut self) -> Self {
        self.required = true;
        self
    }
    pub(super) fn options(mut self, options: Vec<(String, String)>) -> Self {
        self.options = options;
        self
    }
    pub(super) fn hint(mut self, hint: &str) -> Self {
        self.hint = Some(hint.to_owned());
        self
    }
    /// Gives the control the id `<prefix>-<name>`, for pages with several forms.
    pub(super) fn id_prefix(mut self, prefix: &str) -> Self {
        self.id = format!("{prefix}-{}", self.name);
        self
    }
    pub(super) fn autocomplete(mut self, token: &'static str) -> Self {
        self.autocomplete = Some(token);
        self
    }
}

/// Puts each field error of `invalid` beside its field, in the user's language.
pub(super) fn mark(fields: &mut [FormField], invalid: &Invalid, t: Tr) -> Option<String> {
    let mut unplaced = Vec::new();
    for e in &invalid.fields {
        match fields.iter_mut().find(|f| f.name == e.field) {
            Some(f) if f.error.is_none() => f.error = Some(t.error(e.code, &e.message)),
            Some(_) => {}
            None => unplaced.push(t.error(e.code, &e.message)),
        }
    }
    let mut summary = t.get("error.invalid_input").to_owned();
    for u in unplaced {
        summary.push(' ');
        summary.push_str(&u);
    }
    Some(summary)
}

// ---- login, logout, language, role switch ----

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    chrome: Chrome,
    failed: bool,
    username: String,
    next: String,
    login_csrf: String,
}

/// Cookie pairing the login form with the browser that loaded it (double submit): a login
/// posted from another site lacks it, so nobody can log a victim into the attacker's account.
const LOGIN_CSRF_COOKIE: &str = "yigong_login_csrf";

fn login_csrf_cookie(value: &str) -> axum::http::HeaderValue {
    axum::http::HeaderValue::from_str(&format!(
        "{LOGIN_CSRF_COOKIE}={value}; Max-Age=3600; Path=/login; HttpOnly; SameSite=Strict; Secure"
    ))
    .expect("ASCII")
}

/// Renders the login page with a fresh form token.
fn login_page(chrome: Chrome, status: StatusCode, failed: bool, username: String, next: String) -> Response {
    let token = auth::new_secret("");
    let mut resp = render(status, &LoginPage { chrome, failed, username, next, login_csrf: token.clone() });
    resp.headers_mut().append(SET_COOKIE, login_csrf_cookie(&token));
    resp
}

#[derive(Deserialize, Default)]
pub struct NextQuery {
    #[serde(default)]
    next: String,
}

fn safe_next(next: &str) -> String {
    // Only local paths: never redirect a login elsewhere. Browsers drop tabs and newlines
    // inside URLs, so "/\t/evil" would become "//evil": accept visible ASCII only, no
    // backslash, exactly one leading slash.
    let clean = next.bytes().all(|b| (0x21..0x7f).contains(&b) && b != b'\\');
    if clean && next.starts_with('/') && !next.starts_with("//") { next.to_owned() } else { "/".to_owned() }
}

pub async fn login_form(State(ctx): State<AppState>, web: Web, Query(q): Query<NextQuery>) -> Response {
    if web.session.is_some() {
        return Redirect::to(&safe_next(&q.next)).into_response();
    }
    let chrome = chrome(&ctx, None, web.lang, &web.path, "login").await;
    login_page(chrome, StatusCode::OK, false, String::new(), safe_next(&q.next))
}

#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default, rename = "_login_csrf")]
    login_csrf: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    next: String,
}

pub async fn login(
    State(ctx): State<AppState>,
    web: Web,
    client: ClientInfo,
    headers: axum::http::HeaderMap,
    Form(form): Form<LoginForm>,
) -> Response {
    let paired = crate::auth::cookie(&headers, LOGIN_CSRF_COOKIE)
        .is_some_and(|c| !c.is_empty() && c == form.login_csrf);
    if !paired {
        let chrome = chrome(&ctx, None, web.lang, &web.path, "login").await;
        return login_page(chrome, StatusCode::FORBIDDEN, true, form.username, safe_next(&form.next));
    }
    match auth::login(
        &ctx,
        form.username.trim(),
        &form.password,
        SessionKind::Web,
        client.ip,
        client.request_id,
    )
    .await
    {
        Ok(issued) => {
            let max_age = (issued.expires_at - ctx.clock.now()).num_seconds();
            let mut resp = Redirect::to(&safe_next(&form.next)).into_response();
            resp.headers_mut().append(SET_COOKIE, super::session_cookie(&issued.secret, max_age));
            resp
        }
        Err(AppError::Unauthenticated | AppError::Invalid(_) | AppError::TooManyAttempts) => {
            let chrome = chrome(&ctx, None, web.lang, &web.path, "login").await;
            login_page(chrome, StatusCode::UNAUTHORIZED, true, form.username, safe_next(&form.next))
        }
        Err(e) => crate::ApiError::from(e).into_response(),
    }
}

#[derive(Deserialize)]
pub struct CsrfForm {
    #[serde(default, rename = "_csrf")]
    csrf: String,
}

pub async fn logout(State(ctx): State<AppState>, signed: Signed, Form(form): Form<CsrfForm>) -> Response {
    if !csrf_ok(&signed.session, &form.csrf) {
        return error_page(
            &ctx,
            &signed.session,
            signed.lang,
            &signed.path,
            AppError::Forbidden { code: "csrf_failed" },
        )
        .await;
    }
    if let Err(e) = auth::logout(&ctx, &signed.session).await {
        return crate::ApiError::from(e).into_response();
    }
    let mut resp = Redirect::to("/login").into_response();
    resp.headers_mut().append(SET_COOKIE, super::clear_session_cookie());
    resp
}

#[derive(Deserialize)]
pub struct LangForm {
    #[serde(default, rename = "_csrf")]
    csrf: String,
    #[serde(default)]
    lang: String,
    #[serde(default)]
    next: String,
}

pub async fn switch_language(State(ctx): State<AppState>, web: Web, Form(form): Form<LangForm>) -> Response {
    let lang = Lang::from_tag(&form.lang);
    if let Some(session) = &web.session {
        // Remembered on the account, so it follows the user to any device.
        if !csrf_ok(session, &form.csrf) {
            return error_page(
                &ctx,
                session,
                web.lang,
                &web.path,
                AppError::Forbidden { code: "csrf_failed" },
            )
            .await;
        }
        if let Err(e) = auth::set_language(&ctx, session, lang.tag()).await {
            return crate::ApiError::from(e).into_response();
        }
    }
    let mut resp = Redirect::to(&safe_next(&form.next)).into_response();
    resp.headers_mut().append(SET_COOKIE, super::lang_cookie(lang));
    resp
}

#[derive(Deserialize)]
pub struct RoleForm {
    #[serde(default, rename = "_csrf")]
    csrf: String,
    user_role_id: Uuid,
}

pub async fn switch_role(
    State(ctx): State<AppState>,
    signed: Signed,
    Form(form): Form<RoleForm>,
) -> Response {
    if !csrf_ok(&signed.session, &form.csrf) {
        return error_page(
            &ctx,
            &signed.session,
            signed.lang,
            &signed.path,
            AppError::Forbidden { code: "csrf_failed" },
        )
        .await;
    }
    match auth::switch_role(&ctx, &signed.session, form.user_role_id).await {
        Ok(()) => Redirect::to("/").into_response(),
        Err(e) => error_page(&ctx, &signed.session, signed.lang, &signed.path, e).await,
    }
}

// ---- home ----

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    chrome: Chrome,
    greeting: String,
    today: String,
    first: String,
    institutions: String,
    staff_here: Option<String>,
    /// Open pairs of the review queue, for stewards.
    review_open: Option<String>,
    /// Referral worklist counts and open follow-ups, for clinicians and coordinators.
    referrals: Option<super::referral::HomeReferrals>,
}

pub async fn home(State(ctx): State<AppState>, signed: Signed) -> Response {
    let s = &signed.session;
    let chrome = chrome(&ctx, Some(s), signed.lang, &signed.path, "home").await;
    let t = chrome.t;
    let (institutions, staff_here) =
        match registry::counts(&ctx, &s.actor, s.actor.consortium_id, s.actor.institution_id).await {
            Ok(c) => c,
            Err(e) => return error_page(&ctx, s, signed.lang, &signed.path, e).await,
        };
    let review_open = if role_permits(s.actor.role, Permission::MpiSteward) {
        match yigong_app::mpi::open_review_count(&ctx, &s.actor).await {
            Ok(total) => Some(t.number(total)),
            Err(e) => return error_page(&ctx, s, signed.lang, &signed.path, e).await,
        }
    } else {
        None
    };
    let referrals = super::referral::home_box(&ctx, &s.actor, t).await;
    let page = HomePage {
        review_open,
        referrals,
        greeting: t.fmt("home.greeting", &[("name", &s.display_name)]),
        today: t.fmt("home.today", &[("date", &t.date(ctx.today()))]),
        first: t.get(&format!("home.{}", s.actor.role.as_str())).to_owned(),
        institutions: t.number(institutions),
        staff_here: staff_here.map(|n| t.number(n)),
        chrome,
    };
    render(StatusCode::OK, &page)
}

// ---- institutions ----

struct InstitutionRow {
    id: String,
    code: String,
    name: String,
    tier: String,
    division: String,
    children: i64,
    children_label: String,
}

#[derive(Template)]
#[template(path = "institutions.html")]
struct InstitutionsPage {
    chrome: Chrome,
    q: String,
    county_name: String,
    parent: Option<String>,
    rows: Vec<InstitutionRow>,
    next: Option<String>,
    can_create: bool,
}

#[derive(Deserialize, Default)]
pub struct InstitutionsQuery {
    #[serde(default)]
    q: String,
    parent: Option<Uuid>,
    cursor: Option<String>,
}

fn kind_label(t: Tr, i: &Institution) -> String {
    match i.kind {
        InstitutionKind::Member(Tier::TownshipCentre) if i.is_central => t.get("tier.central").to_owned(),
        InstitutionKind::Member(tier) => t.get(&format!("tier.{}", tier.as_str())).to_owned(),
        InstitutionKind::Agency(a) => t.get(&format!("agency.{}", a.as_str())).to_owned(),
    }
}

pub(super) fn decode_cursor(c: &Option<String>) -> Option<String> {
    use base64::Engine;
    let c = c.as_deref().filter(|c| !c.is_empty())?;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(c).ok().and_then(|b| String::from_utf8(b).ok())
}

pub async fn institutions(
    State(ctx): State<AppState>,
    signed: Signed,
    Query(q): Query<InstitutionsQuery>,
) -> Response {
    let s = &signed.session;
    let cid = s.actor.consortium_id;
    let query = q.q.trim().to_owned();
    let filter = InstitutionFilter {
        query: (!query.is_empty()).then(|| query.clone()),
        parent: q.parent.map(InstitutionId::from_uuid),
        top_level: query.is_empty() && q.parent.is_none(),
        ..Default::default()
    };
    let page = PageRequest { size: 50, after: decode_cursor(&q.cursor) };
    let result = async {
        let found = registry::list_institutions(&ctx, &s.actor, cid, &filter, &page).await?;
        let counts = registry::child_counts(&ctx, &s.actor, cid).await?;
        let consortium = registry::get_consortium(&ctx, &s.actor, cid).await?;
        let parent = match q.parent {
            Some(p) => Some(
                registry::get_institution(&ctx, &s.actor, cid, InstitutionId::from_uuid(p)).await?.0.name,
            ),
            None => None,
        };
        let mut codes: Vec<String> = found.items.iter().filter_map(|i| i.division_code.township()).collect();
        codes.extend(found.items.iter().map(|i| i.division_code.as_str().to_owned()));
        codes.push(consortium.county_code.as_str().to_owned());
        let names = registry::division_names(&ctx, &codes).await?;
        Ok::<_, AppError>((found, counts, consortium, parent, names))
    }
    .await;
    let (found, counts, consortium, parent, names) = match result {
        Ok(r) => r,
        Err(e) => return error_page(&ctx, s, signed.lang, &signed.path, e).await,
    };
    let chrome = chrome(&ctx, Some(s), signed.lang, &signed.path, "institutions").await;
    let t = chrome.t;
    let rows = found
        .items
        .iter()
        .map(|i| {
            let children = counts.get(&i.id).copied().unwrap_or(0);
            let place = names
                .get(i.division_code.as_str())
                .or_else(|| i.division_code.township().and_then(|tw| names.get(&tw)));
            InstitutionRow {
                id: i.id.to_string(),
                code: i.code.clone(),
                name: i.name.clone(),
                tier: kind_label(t, i),
                division: place.cloned().unwrap_or_else(|| i.division_code.as_str().to_owned()),
                children,
                children_label: t.fmt("institution.count_children", &[("n", &children.to_string())]),
            }
        })
        .collect();
    let next = found.next_after.map(|a| {
        let mut link = format!("/institutions?cursor={}", encode_cursor(&a));
        if !query.is_empty() {
            link.push_str(&format!("&q={}", super::form_urlencoded_component(&query)));
        }
        if let Some(p) = q.parent {
            link.push_str(&format!("&parent={p}"));
        }
        link
    });
    let county_name =
        names.get(consortium.county_code.as_str()).cloned().unwrap_or_else(|| consortium.name.clone());
    let can_create = role_permits(s.actor.role, Permission::RegistryWrite)
        && matches!(
            s.actor.scope,
            yigong_domain::access::Scope::Consortium | yigong_domain::access::Scope::County(_)
        );
    render(
        StatusCode::OK,
        &InstitutionsPage { chrome, q: query, county_name, parent, rows, next, can_create },
    )
}

#[derive(Template)]
#[template(path = "institution.html")]
struct InstitutionPage {
    chrome: Chrome,
    name: String,
    parent: Option<(String, String)>,
    facts: Vec<(String, String)>,
    children: Vec<(String, String, String)>,
    departments: Vec<(String, String)>,
    staff: Vec<(String, String, String, String, String)>,
    staff_next: Option<String>,
    memberships: Vec<(String, String, String)>,
}

#[derive(Deserialize, Default)]
pub struct CursorQuery {
    cursor: Option<String>,
}

pub async fn institution(
    State(ctx): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
    Query(q): Query<CursorQuery>,
) -> Response {
    let s = &signed.session;
    let cid = s.actor.consortium_id;
    let Ok(id) = Uuid::parse_str(&id).map(InstitutionId::from_uuid) else {
        return error_page(&ctx, s, signed.lang, &signed.path, AppError::not_found("institution")).await;
    };
    let result = async {
        let (inst, history) = registry::get_institution(&ctx, &s.actor, cid, id).await?;
        let parent = match inst.parent_id {
            Some(p) => Some(registry::get_institution(&ctx, &s.actor, cid, p).await?.0),
            None => None,
        };
        let children = registry::list_institutions(
            &ctx,
            &s.actor,
            cid,
            &InstitutionFilter { parent: Some(id), ..Default::default() },
            &PageRequest { size: 500, after: None },
        )
        .await?;
        let departments = registry::list_departments(
            &ctx,
            &s.actor,
            cid,
            id,
            None,
            &PageRequest { size: 200, after: None },
        )
        .await?;
        let staff = registry::list_staff(
            &ctx,
            &s.actor,
            cid,
            &StaffFilter { institution: Some(id), ..Default::default() },
            &PageRequest { size: 100, after: decode_cursor(&q.cursor) },
        )
        .await?;
        let mut codes = vec![inst.division_code.as_str().to_owned()];
        codes.extend(inst.division_code.township());
        let names = registry::division_names(&ctx, &codes).await?;
        Ok::<_, AppError>((inst, history, parent, children, departments, staff, names))
    }
    .await;
    let (inst, history, parent, children, departments, staff, names) = match result {
        Ok(r) => r,
        Err(e) => return error_page(&ctx, s, signed.lang, &signed.path, e).await,
    };
    let chrome = chrome(&ctx, Some(s), signed.lang, &signed.path, "institutions").await;
    let t = chrome.t;
    let yes_no = |b: bool| t.get(if b { "page.yes" } else { "page.no" }).to_owned();
    let division = {
        let mut parts = Vec::new();
        if let Some(tw) = inst.division_code.township().filter(|tw| tw != inst.division_code.as_str())
            && let Some(n) = names.get(&tw)
        {
            parts.push(n.clone());
        }
        if let Some(n) = names.get(inst.division_code.as_str()) {
            parts.push(n.clone());
        }
        format!("{} ({})", parts.join(" "), inst.division_code.as_str())
    };
    let mut facts = vec![
        (t.get("institution.code").to_owned(), inst.code.clone()),
        (t.get("institution.kind").to_owned(), kind_label(t, &inst)),
        (
            t.get("institution.grassroots").to_owned(),
            yes_no(inst.kind.tier().is_some_and(|tier| tier.is_grassroots())),
        ),
        (t.get("institution.division").to_owned(), division),
        (t.get("institution.beds").to_owned(), t.number(inst.beds)),
    ];
    if let Some(c) = &inst.credit_code {
        facts.push((t.get("institution.credit_code").to_owned(), c.clone()));
    }
    if let Some(a) = &inst.address {
        facts.push((t.get("institution.address").to_owned(), a.clone()));
    }
    let page = InstitutionPage {
        name: inst.name.clone(),
        parent: parent.map(|p| (p.id.to_string(), p.name)),
        facts,
        children: children
            .items
            .iter()
            .map(|c| (c.id.to_string(), c.name.clone(), kind_label(t, c)))
            .collect(),
        departments: departments
            .items
            .iter()
            .map(|d| (d.name.clone(), d.subject_code.clone().unwrap_or_default()))
            .collect(),
        staff: staff.items.iter().map(|m| staff_row(t, m)).collect(),
        staff_next: staff.next_after.map(|a| format!("/institutions/{id}?cursor={}", encode_cursor(&a))),
        memberships: history
            .iter()
            .map(|m| {
                (t.date(m.valid_from), m.valid_to.map(|d| t.date(d)).unwrap_or_default(), m.reason.clone())
            })
            .collect(),
        chrome,
    };
    render(StatusCode::OK, &page)
}

fn staff_row(t: Tr, m: &Staff) -> (String, String, String, String, String) {
    (
        m.code.clone(),
        m.id.to_string(),
        m.name.clone(),
        t.get(&format!("category.{}", m.category.as_str())).to_owned(),
        m.title_name.clone().unwrap_or_else(|| {
            if m.title_level.is_none() { t.get("staff.unknown_title").to_owned() } else { String::new() }
        }),
    )
}

#[derive(Template)]
#[template(path = "form.html")]
struct FormPage {
    chrome: Chrome,
    heading: String,
    action: String,
    submit: String,
    cancel: Option<String>,
    error: Option<String>,
    fields: Vec<FormField>,
}

/// The "new …" form of a section (`institution`, `users`): heading `<section>.new`, submit
/// `<section>.create`, posting to and cancelling back to `path`.
fn new_form(
    chrome: Chrome,
    section: &str,
    path: &str,
    error: Option<String>,
    fields: Vec<FormField>,
    status: StatusCode,
) -> Response {
    let t = chrome.t;
    let page = FormPage {
        heading: t.get(&format!("{section}.new")).into(),
        action: path.into(),
        submit: t.get(&format!("{section}.create")).into(),
        cancel: Some(path.into()),
        error,
        fields,
        chrome,
    };
    render(status, &page)
}

#[derive(Deserialize, Default)]
pub struct InstitutionForm {
    #[serde(default, rename = "_csrf")]
    csrf: String,
    #[serde(default)]
    code: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    tier: String,
    #[serde(default)]
    is_central: Option<String>,
    #[serde(default)]
    division_code: String,
    #[serde(default)]
    parent_id: String,
    #[serde(default)]
    credit_code: String,
    #[serde(default)]
    beds: String,
    #[serde(default)]
    address: String,
}

async fn institution_fields(
    ctx: &yigong_app::Ctx,
    s: &auth::Session,
    t: Tr,
    f: &InstitutionForm,
) -> Vec<FormField> {
    let mut tiers = vec![(String::new(), String::new())];
    tiers.extend(
        Tier::ALL
            .iter()
            .map(|tier| (tier.as_str().to_owned(), t.get(&format!("tier.{}", tier.as_str())).to_owned())),
    );
    let mut parents = vec![(String::new(), t.get("institution.parent_none").to_owned())];
    let filter = InstitutionFilter { tier: Some(Tier::TownshipCentre), ..Default::default() };
    if let Ok(centres) = registry::list_institutions(
        ctx,
        &s.actor,
        s.actor.consortium_id,
        &filter,
        &PageRequest { size: 500, after: None },
    )
    .await
    {
        parents.extend(centres.items.iter().map(|c| (c.id.to_string(), format!("{} ({})", c.name, c.code))));
    }
    vec![
        FormField::new("code", t.get("institution.code"), "text", &f.code).required(),
        FormField::new("name", t.get("institution.name"), "text", &f.name).required(),
        FormField::new("tier", t.get("institution.tier"), "select", &f.tier).required().options(tiers),
        FormField::new(
            "is_central",
            t.get("institution.is_central"),
            "checkbox",
            if f.is_central.is_some() { "true" } else { "" },
        ),
        FormField::new("division_code", t.get("institution.division_code"), "text", &f.division_code)
            .required()
            .hint("990121101201"),
        FormField::new("parent_id", t.get("institution.parent"), "select", &f.parent_id).options(parents),
        FormField::new("credit_code", t.get("institution.credit_code"), "text", &f.credit_code),
        FormField::new("beds", t.get("institution.beds"), "number", &f.beds),
        FormField::new("address", t.get("institution.address"), "text", &f.address),
    ]
}

pub async fn new_institution(State(ctx): State<AppState>, signed: Signed) -> Response {
    let chrome = chrome(&ctx, Some(&signed.session), signed.lang, &signed.path, "institutions").await;
    let t = chrome.t;
    let fields = institution_fields(&ctx, &signed.session, t, &InstitutionForm::default()).await;
    new_form(chrome, "institution", "/institutions", None, fields, StatusCode::OK)
}

pub async fn create_institution(
    State(ctx): State<AppState>,
    signed: Signed,
    Form(form): Form<InstitutionForm>,
) -> Response {
    let s = &signed.session;
    if !csrf_ok(s, &form.csrf) {
        return error_page(&ctx, s, signed.lang, &signed.path, AppError::Forbidden { code: "csrf_failed" })
            .await;
    }
    let mut invalid = Invalid::default();
    let beds = match form.beds.trim() {
        "" => None,
        b => b
            .parse::<i64>()
            .map_err(|_| invalid.push("beds", "beds_out_of_range", "beds is a whole number"))
            .ok(),
    };
    let parent_id = match form.parent_id.trim() {
        "" => None,
        p => Uuid::parse_str(p)
            .map(InstitutionId::from_uuid)
            .map_err(|_| invalid.push("parent_id", "parent_not_found", ""))
            .ok(),
    };
    let draft = InstitutionDraft {
        code: form.code.clone(),
        name: form.name.clone(),
        tier: Some(form.tier.clone()).filter(|t| !t.is_empty()),
        is_central: form.is_central.is_some(),
        division_code: form.division_code.clone(),
        parent_id,
        credit_code: Some(form.credit_code.clone()),
        beds,
        address: Some(form.address.clone()),
        ..Default::default()
    };
    let result = if invalid.fields.is_empty() {
        registry::create_institution(&ctx, &s.actor, s.actor.consortium_id, draft).await
    } else {
        Err(AppError::Invalid(invalid))
    };
    match result {
        Ok(i) => Redirect::to(&format!("/institutions/{}", i.id)).into_response(),
        Err(AppError::Invalid(invalid)) => {
            let chrome = chrome(&ctx, Some(s), signed.lang, &signed.path, "institutions").await;
            let t = chrome.t;
            let mut fields = institution_fields(&ctx, s, t, &form).await;
            let error = mark(&mut fields, &invalid, t);
            new_form(chrome, "institution", "/institutions", error, fields, StatusCode::UNPROCESSABLE_ENTITY)
        }
        Err(e) => error_page(&ctx, s, signed.lang, &signed.path, e).await,
    }
}

// ---- staff ----

#[derive(Template)]
#[template(path = "staff_list.html")]
struct StaffListPage {
    chrome: Chrome,
    q: String,
    rows: Vec<(String, String, String, String, String, String)>,
    next: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct SearchQuery {
    #[serde(default)]
    q: String,
    cursor: Option<String>,
}

pub async fn staff_list(
    State(ctx): State<AppState>,
    signed: Signed,
    Query(q): Query<SearchQuery>,
) -> Response {
    let s = &signed.session;
    let query = q.q.trim().to_owned();
    let filter = StaffFilter { query: (!query.is_empty()).then(|| query.clone()), ..Default::default() };
    let page = PageRequest { size: 50, after: decode_cursor(&q.cursor) };
    let found = match registry::list_staff(&ctx, &s.actor, s.actor.consortium_id, &filter, &page).await {
        Ok(f) => f,
        Err(e) => return error_page(&ctx, s, signed.lang, &signed.path, e).await,
    };
    let chrome = chrome(&ctx, Some(s), signed.lang, &signed.path, "staff").await;
    let t = chrome.t;
    let rows = found
        .items
        .iter()
        .map(|m| {
            let (code, id, name, category, title) = staff_row(t, m);
            (code, id, name, t.get(&format!("sex.{}", m.sex.as_str())).to_owned(), category, title)
        })
        .collect();
    let next = found.next_after.map(|a| {
        format!("/staff?cursor={}&q={}", encode_cursor(&a), super::form_urlencoded_component(&query))
    });
    render(StatusCode::OK, &StaffListPage { chrome, q: query, rows, next })
}

#[derive(Template)]
#[template(path = "staff.html")]
struct StaffPage {
    chrome: Chrome,
    name: String,
    facts: Vec<(String, String)>,
    postings: Vec<(String, String, String, String)>,
    titles: Vec<String>,
}

pub async fn staff(State(ctx): State<AppState>, signed: Signed, Path(id): Path<String>) -> Response {
    let s = &signed.session;
    let cid = s.actor.consortium_id;
    let Ok(id) = Uuid::parse_str(&id).map(StaffId::from_uuid) else {
        return error_page(&ctx, s, signed.lang, &signed.path, AppError::not_found("staff")).await;
    };
    let result = async {
        let (m, titles) = registry::get_staff(&ctx, &s.actor, cid, id).await?;
        let postings =
            registry::list_postings(&ctx, &s.actor, cid, id, &PageRequest { size: 200, after: None }).await?;
        let mut names = std::collections::HashMap::new();
        for p in postings.items.iter().map(|p| p.institution_id).chain([m.employer_institution_id]) {
            if let std::collections::hash_map::Entry::Vacant(e) = names.entry(p) {
                e.insert(registry::get_institution(&ctx, &s.actor, cid, p).await?.0.name);
            }
        }
        Ok::<_, AppError>((m, titles, postings, names))
    }
    .await;
    let (m, titles, postings, names) = match result {
        Ok(r) => r,
        Err(e) => return error_page(&ctx, s, signed.lang, &signed.path, e).await,
    };
    let chrome = chrome(&ctx, Some(s), signed.lang, &signed.path, "staff").await;
    let t = chrome.t;
    let facts = vec![
        (t.get("staff.code").to_owned(), m.code.clone()),
        (t.get("staff.sex").to_owned(), t.get(&format!("sex.{}", m.sex.as_str())).to_owned()),
        (t.get("staff.category").to_owned(), t.get(&format!("category.{}", m.category.as_str())).to_owned()),
        (
            t.get("staff.title_level").to_owned(),
            m.title_level.map_or_else(
                || t.get("staff.unknown_title").to_owned(),
                |l| t.get(&format!("title_level.{}", l.as_str())).to_owned(),
            ),
        ),
        (t.get("staff.title_name").to_owned(), m.title_name.clone().unwrap_or_default()),
        (
            t.get("staff.resident_id").to_owned(),
            m.resident_id.as_ref().map(|r| r.masked()).unwrap_or_default(),
        ),
        (
            t.get("staff.employer").to_owned(),
            names.get(&m.employer_institution_id).cloned().unwrap_or_default(),
        ),
    ];
    let postings = postings
        .items
        .iter()
        .map(|p| {
            let until = p.valid_to.map_or_else(|| t.get("staff.open_ended").to_owned(), |d| t.date(d));
            (
                p.institution_id.to_string(),
                names.get(&p.institution_id).cloned().unwrap_or_default(),
                t.get(&format!("posting_source.{}", p.source.as_str())).to_owned(),
                format!("{} – {until}", t.date(p.valid_from)),
            )
        })
        .collect();
    let titles = titles
        .iter()
        .map(|r| {
            let level = r.level.map_or_else(
                || t.get("staff.unknown_title").to_owned(),
                |l| t.get(&format!("title_level.{}", l.as_str())).to_owned(),
            );
            format!("{} · {} {}", t.date(r.since), level, r.name.clone().unwrap_or_default())
        })
        .collect();
    render(StatusCode::OK, &StaffPage { chrome, name: m.name.clone(), facts, postings, titles })
}

// ---- users ----

struct UserRow {
    id: String,
    username: String,
    display_name: String,
    roles: String,
    status: String,
    disabled: bool,
}

#[derive(Template)]
#[template(path = "users.html")]
struct UsersPage {
    chrome: Chrome,
    q: String,
    rows: Vec<UserRow>,
    next: Option<String>,
}

pub async fn users(State(ctx): State<AppState>, signed: Signed, Query(q): Query<SearchQuery>) -> Response {
    let s = &signed.session;
    let query = q.q.trim().to_owned();
    let page = PageRequest { size: 50, after: decode_cursor(&q.cursor) };
    let found = match auth::list_users(
        &ctx,
        &s.actor,
        s.actor.consortium_id,
        (!query.is_empty()).then_some(query.as_str()),
        &page,
    )
    .await
    {
        Ok(f) => f,
        Err(e) => return error_page(&ctx, s, signed.lang, &signed.path, e).await,
    };
    let chrome = chrome(&ctx, Some(s), signed.lang, &signed.path, "users").await;
    let t = chrome.t;
    let now = ctx.clock.now();
    let rows = found
        .items
        .iter()
        .map(|u| UserRow {
            id: u.account.user_id.to_string(),
            username: u.account.username.clone(),
            display_name: u.account.display_name.clone(),
            roles: u.roles.iter().map(|g| super::role_label(t, g.role)).collect::<Vec<_>>().join("、"),
            status: t
                .get(if u.account.disabled {
                    "users.disabled"
                } else if u.account.locked_until.is_some_and(|l| l > now) {
                    "users.locked"
                } else {
                    "users.active"
                })
                .to_owned(),
            disabled: u.account.disabled,
        })
        .collect();
    let next = found.next_after.map(|a| {
        format!("/users?cursor={}&q={}", encode_cursor(&a), super::form_urlencoded_component(&query))
    });
    render(StatusCode::OK, &UsersPage { chrome, q: query, rows, next })
}

#[derive(Deserialize, Default)]
pub struct UserForm {
    #[serde(default, rename = "_csrf")]
    csrf: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    institution_id: String,
}

async fn user_fields(ctx: &yigong_app::Ctx, s: &auth::Session, t: Tr, f: &UserForm) -> Vec<FormField> {
    let mut roles = vec![(String::new(), String::new())];
    roles.extend(Role::ALL.iter().map(|r| (r.as_str().to_owned(), super::role_label(t, *r))));
    let mut places = vec![(String::new(), t.get("institution.parent_none").to_owned())];
    let filter = InstitutionFilter { agency: None, ..Default::default() };
    if let Ok(all) = registry::list_institutions(
        ctx,
        &s.actor,
        s.actor.consortium_id,
        &filter,
        &PageRequest { size: 500, after: None },
    )
    .await
    {
        places.extend(all.items.iter().map(|c| (c.id.to_string(), format!("{} ({})", c.name, c.code))));
    }
    vec![
        FormField::new("username", t.get("users.username"), "text", &f.username).required(),
        FormField::new("display_name", t.get("users.display_name"), "text", &f.display_name).required(),
        FormField::new("password", t.get("users.password"), "password", "")
            .required()
            .hint(t.get("account.new_password_hint")),
        FormField::new("role", t.get("users.role"), "select", &f.role).required().options(roles),
        FormField::new("institution_id", t.get("users.institution"), "select", &f.institution_id)
            .options(places),
    ]
}

pub async fn new_user(State(ctx): State<AppState>, signed: Signed) -> Response {
    let s = &signed.session;
    if !role_permits(s.actor.role, Permission::UserAdmin) {
        return error_page(&ctx, s, signed.lang, &signed.path, AppError::Forbidden { code: "forbidden" })
            .await;
    }
    let chrome = chrome(&ctx, Some(s), signed.lang, &signed.path, "users").await;
    let t = chrome.t;
    let fields = user_fields(&ctx, s, t, &UserForm::default()).await;
    new_form(chrome, "users", "/users", None, fields, StatusCode::OK)
}

pub async fn create_user(
    State(ctx): State<AppState>,
    signed: Signed,
    Form(form): Form<UserForm>,
) -> Response {
    let s = &signed.session;
    if !csrf_ok(s, &form.csrf) {
        return error_page(&ctx, s, signed.lang, &signed.path, AppError::Forbidden { code: "csrf_failed" })
            .await;
    }
    let draft = UserDraft {
        username: form.username.clone(),
        display_name: form.display_name.clone(),
        password: form.password.clone(),
        role: form.role.clone(),
        institution_id: Uuid::parse_str(form.institution_id.trim()).ok().map(InstitutionId::from_uuid),
        staff_id: None,
    };
    match auth::create_user(&ctx, &s.actor, s.actor.consortium_id, draft).await {
        Ok(_) => Redirect::to("/users").into_response(),
        Err(AppError::Invalid(invalid)) => {
            let chrome = chrome(&ctx, Some(s), signed.lang, &signed.path, "users").await;
            let t = chrome.t;
            let mut fields = user_fields(&ctx, s, t, &form).await;
            let error = mark(&mut fields, &invalid, t);
            new_form(chrome, "users", "/users", error, fields, StatusCode::UNPROCESSABLE_ENTITY)
        }
        Err(e) => error_page(&ctx, s, signed.lang, &signed.path, e).await,
    }
}

#[derive(Template)]
#[template(path = "confirm.html")]
struct ConfirmPage {
    chrome: Chrome,
    question: String,
    action: String,
    cancel: String,
    danger: bool,
}

pub async fn confirm_user_action(
    State(ctx): State<AppState>,
    signed: Signed,
    Path((id, action)): Path<(String, String)>,
) -> Response {
    let s = &signed.session;
    let (Ok(user_id), true) = (Uuid::parse_str(&id), matches!(action.as_str(), "disable" | "enable")) else {
        return error_page(&ctx, s, signed.lang, &signed.path, AppError::not_found("user")).await;
    };
    let name = match auth::get_user(&ctx, &s.actor, s.actor.consortium_id, user_id).await {
        Ok(u) => u.account.display_name,
        Err(e) => return error_page(&ctx, s, signed.lang, &signed.path, e).await,
    };
    let chrome = chrome(&ctx, Some(s), signed.lang, &signed.path, "users").await;
    let t = chrome.t;
    let question = t.fmt(
        if action == "disable" { "users.confirm_disable" } else { "users.confirm_enable" },
        &[("name", &name)],
    );
    render(
        StatusCode::OK,
        &ConfirmPage {
            chrome,
            question,
            action: format!("/users/{user_id}/{action}"),
            cancel: "/users".into(),
            danger: action == "disable",
        },
    )
}

pub async fn user_action(
    State(ctx): State<AppState>,
    signed: Signed,
    Path((id, action)): Path<(String, String)>,
    Form(form): Form<CsrfForm>,
) -> Response {
    let s = &signed.session;
    if !csrf_ok(s, &form.csrf) {
        return error_page(&ctx, s, signed.lang, &signed.path, AppError::Forbidden { code: "csrf_failed" })
            .await;
    }
    let (Ok(user_id), true) = (Uuid::parse_str(&id), matches!(action.as_str(), "disable" | "enable")) else {
        return error_page(&ctx, s, signed.lang, &signed.path, AppError::not_found("user")).await;
    };
    match auth::set_disabled(&ctx, &s.actor, s.actor.consortium_id, user_id, action == "disable").await {
        Ok(_) => Redirect::to("/users").into_response(),
        Err(AppError::Invalid(i)) => {
            let t = Tr { lang: signed.lang };
            let msg = i.fields.first().map(|f| t.error(f.code, &f.message)).unwrap_or_default();
            let chrome = chrome(&ctx, Some(s), signed.lang, &signed.path, "users").await;
            render(
                StatusCode::UNPROCESSABLE_ENTITY,
                &super::ErrorPage { heading: t.get("users.title").into(), body: msg, chrome },
            )
        }
        Err(e) => error_page(&ctx, s, signed.lang, &signed.path, e).await,
    }
}

// ---- audit ----

struct AuditRowView {
    time: String,
    actor: String,
    action: String,
    resource: String,
    basis: String,
    outcome: String,
    seq: String,
}

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage {
    chrome: Chrome,
    outcomes: Vec<(String, String)>,
    bases: Vec<(String, String)>,
    outcome: String,
    basis: String,
    patient: String,
    actor: String,
    institution: String,
    institutions: Vec<(String, String)>,
    from: String,
    until: String,
    export: String,
    rows: Vec<AuditRowView>,
    next: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct AuditPageQuery {
    #[serde(default)]
    outcome: String,
    #[serde(default)]
    basis: String,
    #[serde(default)]
    patient_id: String,
    #[serde(default)]
    actor_user_id: String,
    #[serde(default)]
    institution_id: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    until: String,
    cursor: Option<String>,
}

fn china_midnight(d: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    let day = chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").ok()?;
    Some(day.and_hms_opt(0, 0, 0)?.and_utc() - chrono::Duration::hours(8))
}

pub async fn audit(State(ctx): State<AppState>, signed: Signed, Query(q): Query<AuditPageQuery>) -> Response {
    let s = &signed.session;
    let filter = yigong_app::audit::AuditFilter {
        patient_id: Uuid::parse_str(q.patient_id.trim()).ok(),
        actor_user_id: Uuid::parse_str(q.actor_user_id.trim()).ok(),
        institution_id: Uuid::parse_str(q.institution_id.trim()).ok().map(InstitutionId::from_uuid),
        outcome: Some(q.outcome.clone()).filter(|o| o == "allowed" || o == "denied"),
        basis: Some(q.basis.clone()).filter(|b| !b.is_empty()),
        from: china_midnight(&q.from),
        until: china_midnight(&q.until).map(|u| u + chrono::Duration::days(1)),
    };
    // A cursor that is not "<instant>|<id>" (hand-edited) starts from the first page.
    let after = decode_cursor(&q.cursor).filter(|a| {
        a.split_once('|').is_some_and(|(t, id)| {
            chrono::DateTime::parse_from_rfc3339(t).is_ok() && Uuid::parse_str(id).is_ok()
        })
    });
    let page = PageRequest { size: 50, after };
    let found = match audit::list(&ctx, &s.actor, s.actor.consortium_id, &filter, &page).await {
        Ok(f) => f,
        Err(e) => return error_page(&ctx, s, signed.lang, &signed.path, e).await,
    };
    let chrome = chrome(&ctx, Some(s), signed.lang, &signed.path, "audit").await;
    let t = chrome.t;
    let rows = found
        .items
        .iter()
        .map(|r| AuditRowView {
            time: t.datetime(r.recorded_at),
            actor: r.actor_role.as_deref().map_or_else(String::new, |role| {
                let label = Role::parse(role).map_or_else(|| role.to_owned(), |ro| super::role_label(t, ro));
                format!(
                    "{label} {}",
                    r.actor_user_id.map(|u| u.to_string()[..8].to_owned()).unwrap_or_default()
                )
            }),
            action: r.action.clone(),
            resource: format!("{} {}", r.resource_type, r.resource_id.clone().unwrap_or_default()),
            basis: t.get(&format!("basis.{}", r.basis)).to_owned(),
            outcome: t.get(&format!("audit.{}", r.outcome)).to_owned(),
            seq: r.seq.map(|n| n.to_string()).unwrap_or_default(),
        })
        .collect();
    let mut query = String::new();
    let plain = [
        ("outcome", &q.outcome),
        ("basis", &q.basis),
        ("patient_id", &q.patient_id),
        ("actor_user_id", &q.actor_user_id),
        ("institution_id", &q.institution_id),
    ];
    for (k, v) in plain {
        if !v.is_empty() {
            query.push_str(&format!("&{k}={}", super::form_urlencoded_component(v)));
        }
    }
    if let Some(f) = filter.from {
        query.push_str(&format!("&from={}", super::form_urlencoded_component(&f.to_rfc3339())));
    }
    if let Some(u) = filter.until {
        query.push_str(&format!("&until={}", super::form_urlencoded_component(&u.to_rfc3339())));
    }
    let export = format!(
        "/api/v1/consortia/{}/audit/export.csv?{}",
        s.actor.consortium_id,
        query.trim_start_matches('&')
    );
    let mut outcomes = vec![(String::new(), t.get("audit.all").to_owned())];
    outcomes.extend(
        ["allowed", "denied"].iter().map(|o| (o.to_string(), t.get(&format!("audit.{o}")).to_owned())),
    );
    let mut bases = vec![(String::new(), t.get("audit.all").to_owned())];
    bases.extend(
        yigong_domain::access::Basis::ALL
            .iter()
            .map(|b| (b.as_str().to_owned(), t.get(&format!("basis.{}", b.as_str())).to_owned())),
    );
    let next = found.next_after.map(|a| {
        let mut link = format!("/audit?cursor={}", encode_cursor(&a));
        for (k, v) in [
            ("outcome", &q.outcome),
            ("basis", &q.basis),
            ("patient_id", &q.patient_id),
            ("actor_user_id", &q.actor_user_id),
            ("institution_id", &q.institution_id),
            ("from", &q.from),
            ("until", &q.until),
        ] {
            if !v.is_empty() {
                link.push_str(&format!("&{k}={}", super::form_urlencoded_component(v)));
            }
        }
        link
    });
    let mut institutions = vec![(String::new(), t.get("audit.all").to_owned())];
    let all = registry::list_institutions(
        &ctx,
        &s.actor,
        s.actor.consortium_id,
        &Default::default(),
        &PageRequest { size: 500, after: None },
    )
    .await
    .map(|p| p.items)
    .unwrap_or_default();
    institutions.extend(all.iter().map(|i| (i.id.to_string(), format!("{} ({})", i.name, i.code))));
    let page = AuditPage {
        chrome,
        outcomes,
        actor: q.actor_user_id.clone(),
        institution: q.institution_id.clone(),
        institutions,
        bases,
        outcome: q.outcome.clone(),
        basis: q.basis.clone(),
        patient: q.patient_id.clone(),
        from: q.from.clone(),
        until: q.until.clone(),
        export,
        rows,
        next,
    };
    render(StatusCode::OK, &page)
}

// ---- my account ----

#[derive(Template)]
#[template(path = "account.html")]
struct AccountPage {
    chrome: Chrome,
    username: String,
    roles: Vec<String>,
    fields: Vec<FormField>,
}

fn password_fields(t: Tr) -> Vec<FormField> {
    vec![
        FormField::new("current_password", t.get("account.current_password"), "password", "").required(),
        FormField::new("new_password", t.get("account.new_password"), "password", "")
            .required()
            .hint(t.get("account.new_password_hint")),
    ]
}

async fn account_page(
    ctx: &yigong_app::Ctx,
    signed: &Signed,
    flash: Option<String>,
    invalid: Option<&Invalid>,
) -> Response {
    let s = &signed.session;
    let mut chrome = chrome(ctx, Some(s), signed.lang, &signed.path, "account").await;
    chrome.flash = flash;
    let t = chrome.t;
    let mut fields = password_fields(t);
    if let Some(i) = invalid {
        mark(&mut fields, i, t);
    }
    let roles =
        chrome.user.as_ref().map(|u| u.grants.iter().map(|g| g.label.clone()).collect()).unwrap_or_default();
    let status = if invalid.is_some() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    render(status, &AccountPage { chrome, username: s.username.clone(), roles, fields })
}

pub async fn account(State(ctx): State<AppState>, signed: Signed) -> Response {
    account_page(&ctx, &signed, None, None).await
}

#[derive(Deserialize)]
pub struct PasswordForm {
    #[serde(default, rename = "_csrf")]
    csrf: String,
    #[serde(default)]
    current_password: String,
    #[serde(default)]
    new_password: String,
}

pub async fn change_password(
    State(ctx): State<AppState>,
    signed: Signed,
    Form(form): Form<PasswordForm>,
) -> Response {
    let s = &signed.session;
    if !csrf_ok(s, &form.csrf) {
        return error_page(&ctx, s, signed.lang, &signed.path, AppError::Forbidden { code: "csrf_failed" })
            .await;
    }
    match auth::change_password(&ctx, s, &form.current_password, &form.new_password).await {
        Ok(()) => {
            let t = Tr { lang: signed.lang };
            account_page(&ctx, &signed, Some(t.get("account.password_changed").to_owned()), None).await
        }
        Err(AppError::Invalid(i)) => account_page(&ctx, &signed, None, Some(&i)).await,
        Err(e) => error_page(&ctx, s, signed.lang, &signed.path, e).await,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn login_redirects_stay_local() {
        for (next, to) in [
            ("/institutions?q=a", "/institutions?q=a"),
            ("//evil.example", "/"),
            ("/\t/evil.example", "/"),
            ("/\n/evil.example", "/"),
            ("/\\evil.example", "/"),
            ("https://evil.example", "/"),
            ("", "/"),
        ] {
            assert_eq!(super::safe_next(next), to, "{next:?}");
        }
    }
}
