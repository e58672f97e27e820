//! Accounts and sessions: argon2id passwords, login with lockout and throttling, bearer
//! tokens and web sessions (only a hash of each secret is stored), password change,
//! disable/enable, user administration and break-glass.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{LazyLock, Mutex};

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Duration, Utc};
use rand::RngCore;
use sm3::{Digest, Sm3};
use uuid::Uuid;
use yigong_domain::access::{self, Actor, Grant, Permission, Role, ScopeKind, Target};
use yigong_domain::ids::{ConsortiumId, InstitutionId, StaffId};
use yigong_domain::page::{Page, PageRequest};
use yigong_domain::{Invalid, validation};
use yigong_store::Tx;
pub use yigong_store::account::Account;
pub use yigong_store::account::RoleGrant;
use yigong_store::account::{self as store, BreakGlassRow, Token};

use crate::audit::{self, Event};
use crate::error::conflict_on_field;
use crate::{AppError, Ctx};

/// argon2id with 19 MiB of memory, 2 passes, 1 lane: the OWASP minimum profile, about 20–40 ms
/// per hash on one core of a small server, which keeps a login cheap for the server and a
/// stolen hash expensive to guess. Change only with a migration note: old hashes keep their
/// own parameters in the PHC string and still verify.
fn hasher() -> Argon2<'static> {
    Argon2::new(
        Algorithm::Argon2id,
        Version::V0x13,
        Params::new(19 * 1024, 2, 1, None).expect("valid argon2 params"),
    )
}

/// Hashes a password into a PHC string.
pub fn hash_password(password: &str) -> String {
    let mut salt = [0u8; 16];
    rand::rng().fill_bytes(&mut salt);
    let salt = SaltString::encode_b64(&salt).expect("16-byte salt encodes");
    hasher().hash_password(password.as_bytes(), &salt).expect("argon2 hashes any input").to_string()
}

fn verify_password(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc).is_ok_and(|h| hasher().verify_password(password.as_bytes(), &h).is_ok())
}

/// A hash to verify against when the user does not exist, so that an unknown name costs the
/// same time as a wrong password.
static DUMMY_HASH: LazyLock<String> = LazyLock::new(|| hash_password("no such user, same cost"));

/// Failed logins before an account locks.
pub const MAX_FAILED_LOGINS: i32 = 5;
/// How long a locked account stays locked.
pub const LOCKOUT: Duration = Duration::minutes(15);
/// Lifetime of an API bearer token.
pub const API_TOKEN_TTL: Duration = Duration::hours(8);
/// Lifetime of a web session.
pub const WEB_SESSION_TTL: Duration = Duration::hours(12);
/// Longest accepted username and password; longer input is refused before hashing.
pub const MAX_CREDENTIAL_LEN: usize = 128;

/// Login attempts per client address per minute, against password spraying.
const ATTEMPTS_PER_MINUTE: u32 = 30;

/// In-memory per-client attempt counter.
#[derive(Debug, Default)]
pub struct Throttle {
    windows: Mutex<HashMap<IpAddr, (DateTime<Utc>, u32)>>,
}

impl Throttle {
    fn allow(&self, client: Option<IpAddr>, now: DateTime<Utc>) -> bool {
        let Some(ip) = client else { return true };
        let mut w = self.windows.lock().unwrap_or_else(|p| p.into_inner());
        if w.len() > 100_000 {
            w.retain(|_, (start, _)| now - *start < Duration::minutes(1));
        }
        let entry = w.entry(ip).or_insert((now, 0));
        if now - entry.0 >= Duration::minutes(1) {
            *entry = (now, 0);
        }
        entry.1 += 1;
        entry.1 <= ATTEMPTS_PER_MINUTE
    }
}

/// Which kind of credential a login yields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionKind {
    /// Bearer token for the API and FHIR.
    Api,
    /// Cookie session for the web UI, with a CSRF secret.
    Web,
}

/// A credential just issued. The secret is shown once and never stored.
#[derive(Debug, Clone)]
pub struct Issued {
    /// The bearer token or session cookie value.
    pub secret: String,
    /// CSRF secret of a web session.
    pub csrf_token: Option<String>,
    /// Expiry.
    pub expires_at: DateTime<Utc>,
    /// The account.
    pub user_id: Uuid,
    /// The account's UI language.
    pub language: String,
}

/// A fresh 256-bit random secret, base64url, after `prefix`.
pub fn new_secret(prefix: &str) -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!("{prefix}{}", URL_SAFE_NO_PAD.encode(bytes))
}

/// SM3 of a secret, hex: what the token table stores.
pub fn secret_hash(secret: &str) -> String {
    Sm3::digest(secret.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

/// Checks credentials and issues a token or session. Unknown users, wrong passwords, disabled
/// and locked accounts all answer [`AppError::Unauthenticated`] after the same password work.
pub async fn login(
    ctx: &Ctx,
    username: &str,
    password: &str,
    kind: SessionKind,
    client: Option<IpAddr>,
    request_id: Option<String>,
) -> Result<Issued, AppError> {
    let now = ctx.clock.now();
    if username.is_empty()
        || password.is_empty()
        || username.len() > MAX_CREDENTIAL_LEN
        || password.len() > MAX_CREDENTIAL_LEN
    {
        return Err(Invalid::one(
            "password",
            "credentials_malformed",
            "username and password are 1 to 128 characters",
        )
        .into());
    }
    if !ctx.throttle.allow(client, now) {
        return Err(AppError::TooManyAttempts);
    }
    // The password work (tens of milliseconds) runs off the async threads and before any write
    // lock is taken, so a login never holds up other writers.
    let found = {
        let mut tx = ctx.db.begin().await?;
        store::find_by_username(&mut tx, username).await?
    };
    let hash = found.as_ref().map_or_else(|| DUMMY_HASH.clone(), |a| a.password_hash.clone());
    let attempt = password.to_owned();
    let password_ok = tokio::task::spawn_blocking(move || verify_password(&attempt, &hash))
        .await
        .map_err(|e| AppError::Store(yigong_store::StoreError::Config(format!("password check: {e}"))))?;
    let Some(found) = found else {
        let event = Event::of("login", "user_account").with_detail("reason=invalid_credentials");
        audit::record_denied(ctx, None, None, event, request_id).await?;
        return Err(AppError::Unauthenticated);
    };
    let mut tx = ctx.db.begin_write().await?;
    // Re-read under a row lock: concurrent failures each count, and a password changed in the
    // meantime invalidates this check.
    let mut account = store::find_locked(&mut tx, found.user_id).await?.ok_or(AppError::Unauthenticated)?;
    let password_ok = password_ok && account.password_hash == found.password_hash;
    let locked = account.locked_until.is_some_and(|until| until > now);
    let grants = store::roles_of(&mut tx, account.user_id).await?;
    let grant = crate::access::active_grants(&grants, ctx.today()).first().map(|g| (*g).clone());
    let refusal = if account.disabled {
        Some("disabled")
    } else if locked {
        Some("locked")
    } else if !password_ok {
        Some("invalid_credentials")
    } else if grant.is_none() {
        Some("no_active_role")
    } else {
        None
    };
    if let Some(reason) = refusal {
        if reason == "invalid_credentials" {
            account.failed_logins += 1;
            if account.failed_logins >= MAX_FAILED_LOGINS {
                account.locked_until = Some(now + LOCKOUT);
                account.failed_logins = 0;
            }
            account.updated_at = now;
            store::update(&mut tx, &account).await?;
        }
        tx.commit().await?;
        let event =
            Event::on("login", "user_account", account.user_id).with_detail(format!("reason={reason}"));
        audit::record_denied(ctx, None, Some(account.consortium_id), event, request_id).await?;
        return Err(AppError::Unauthenticated);
    }
    let grant = grant.expect("checked above");
    account.failed_logins = 0;
    account.locked_until = None;
    account.updated_at = now;
    store::update(&mut tx, &account).await?;
    let (prefix, ttl, csrf) = match kind {
        SessionKind::Api => ("yga_", API_TOKEN_TTL, None),
        SessionKind::Web => ("ygw_", WEB_SESSION_TTL, Some(new_secret(""))),
    };
    let secret = new_secret(prefix);
    let token = Token {
        token_hash: secret_hash(&secret),
        user_id: account.user_id,
        kind: if kind == SessionKind::Api { "api" } else { "web" }.into(),
        user_role_id: Some(grant.user_role_id),
        csrf_token: csrf.clone(),
        created_at: now,
        expires_at: now + ttl,
        revoked_at: None,
    };
    store::insert_token(&mut tx, &token).await?;
    let mut actor = crate::access::resolve_actor(ctx, &mut tx, &account, &grant, request_id).await?;
    actor.request_id = actor.request_id.take();
    audit::record(
        ctx,
        &mut tx,
        &actor,
        grant.consortium_id,
        access::Basis::Administration,
        Event::on("login", "user_account", account.user_id),
    )
    .await?;
    tx.commit().await?;
    Ok(Issued {
        secret,
        csrf_token: csrf,
        expires_at: token.expires_at,
        user_id: account.user_id,
        language: account.language,
    })
}

/// An authenticated session: the actor and what the transport needs to know.
#[derive(Debug, Clone)]
pub struct Session {
    /// Who acts.
    pub actor: Actor,
    /// Account name shown in the UI.
    pub display_name: String,
    /// Login name.
    pub username: String,
    /// UI language.
    pub language: String,
    /// CSRF secret (web sessions).
    pub csrf_token: Option<String>,
    /// `api` or `web`.
    pub kind: String,
    /// Hash of the credential, to revoke or switch it.
    pub token_hash: String,
    /// Every active role grant of the account, for the institution switch.
    pub grants: Vec<RoleGrant>,
}

/// Resolves a presented secret into a session. Expired, revoked, unknown secrets and disabled
/// accounts are [`AppError::Unauthenticated`]; the check reads the database on every request,
/// so a revocation takes effect at once.
pub async fn authenticate(ctx: &Ctx, secret: &str, request_id: Option<String>) -> Result<Session, AppError> {
    if secret.len() > 200 {
        return Err(AppError::Unauthenticated);
    }
    let now = ctx.clock.now();
    let hash = secret_hash(secret);
    let mut tx = ctx.db.begin().await?;
    let token = store::find_token(&mut tx, &hash).await?.ok_or(AppError::Unauthenticated)?;
    if token.revoked_at.is_some() || token.expires_at <= now {
        return Err(AppError::Unauthenticated);
    }
    let account = store::find(&mut tx, token.user_id).await?.ok_or(AppError::Unauthenticated)?;
    if account.disabled {
        return Err(AppError::Unauthenticated);
    }
    let all = store::roles_of(&mut tx, account.user_id).await?;
    let active: Vec<RoleGrant> =
        crate::access::active_grants(&all, ctx.today()).into_iter().cloned().collect();
    // A session acts in the role it was opened (or switched) with; if that grant has lapsed the
    // session ends rather than carrying on silently in another role.
    let grant = match token.user_role_id {
        Some(id) => active.iter().find(|g| g.user_role_id == id),
        None => active.first(),
    }
    .ok_or(AppError::Unauthenticated)?
    .clone();
    let actor = crate::access::resolve_actor(ctx, &mut tx, &account, &grant, request_id).await?;
    Ok(Session {
        actor,
        display_name: account.display_name,
        username: account.username,
        language: account.language,
        csrf_token: token.csrf_token,
        kind: token.kind,
        token_hash: hash,
        grants: active,
    })
}

/// Ends a session or revokes a token.
pub async fn logout(ctx: &Ctx, session: &Session) -> Result<(), AppError> {
    let mut tx = ctx.db.begin_write().await?;
    store::revoke_token(&mut tx, &session.token_hash, ctx.clock.now()).await?;
    let a = &session.actor;
    audit::record(
        ctx,
        &mut tx,
        a,
        a.consortium_id,
        access::Basis::Administration,
        Event::on("logout", "user_account", a.user_id),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Switches a session to another of the account's active role grants (another institution).
pub async fn switch_role(ctx: &Ctx, session: &Session, user_role_id: Uuid) -> Result<(), AppError> {
    if !session.grants.iter().any(|g| g.user_role_id == user_role_id) {
        return Err(Invalid::one("user_role_id", "role_not_yours", "not one of your active roles").into());
    }
    let mut tx = ctx.db.begin_write().await?;
    store::set_token_role(&mut tx, &session.token_hash, user_role_id).await?;
    let a = &session.actor;
    let event = Event::on("switch_role", "user_account", a.user_id)
        .with_detail(format!("user_role_id={user_role_id}"));
    audit::record(ctx, &mut tx, a, a.consortium_id, access::Basis::Administration, event).await?;
    tx.commit().await?;
    Ok(())
}

/// Checks the password policy: 10 to 128 characters, with letters and digits.
pub fn check_password_policy(errors: &mut Invalid, field: &'static str, password: &str) {
    let n = password.chars().count();
    let letters = password.chars().any(char::is_alphabetic);
    let digits = password.chars().any(|c| c.is_ascii_digit());
    if !(10..=MAX_CREDENTIAL_LEN).contains(&n) || !letters || !digits {
        errors.push(
            field,
            "password_too_weak",
            "a password has 10 to 128 characters, with letters and digits",
        );
    }
}

/// Changes the caller's own password; every other session of the account ends.
pub async fn change_password(ctx: &Ctx, session: &Session, current: &str, new: &str) -> Result<(), AppError> {
    let mut errors = Invalid::default();
    check_password_policy(&mut errors, "new_password", new);
    if current == new {
        errors.push(
            "new_password",
            "password_unchanged",
            "the new password must differ from the current one",
        );
    }
    let mut tx = ctx.db.begin_write().await?;
    let mut account =
        store::find_locked(&mut tx, session.actor.user_id).await?.ok_or(AppError::Unauthenticated)?;
    if current.len() > MAX_CREDENTIAL_LEN || !verify_password(current, &account.password_hash) {
        errors.push("current_password", "password_wrong", "the current password is not right");
    }
    errors.into_result(())?;
    let now = ctx.clock.now();
    account.password_hash = hash_password(new);
    account.password_changed_at = now;
    account.updated_at = now;
    store::update(&mut tx, &account).await?;
    // Every other session ends; the one that made the change goes on.
    store::revoke_all_except(&mut tx, account.user_id, &session.token_hash, now).await?;
    let a = &session.actor;
    audit::record(
        ctx,
        &mut tx,
        a,
        a.consortium_id,
        access::Basis::Administration,
        Event::on("change_password", "user_account", a.user_id),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// A new account as submitted by an administrator.
#[derive(Debug, Clone, Default)]
pub struct UserDraft {
    /// Login name: 3 to 32 of `a-z 0-9 . _ -`.
    pub username: String,
    /// Name shown in the UI.
    pub display_name: String,
    /// Initial password.
    pub password: String,
    /// A [`Role`] identifier.
    pub role: String,
    /// Acting institution (required except for consortium- and county-scope roles).
    pub institution_id: Option<InstitutionId>,
    /// Staff record behind the account.
    pub staff_id: Option<StaffId>,
}

/// A user account as shown to administrators.
#[derive(Debug, Clone)]
pub struct UserSummary {
    /// The account.
    pub account: Account,
    /// Its role grants.
    pub roles: Vec<RoleGrant>,
}

fn valid_username(u: &str) -> bool {
    (3..=32).contains(&u.len())
        && u.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b))
}

/// Creates an account with one role grant. Needs `user_admin` over the grant's institution (or
/// the consortium for consortium-scope roles).
pub async fn create_user(
    ctx: &Ctx,
    actor: &Actor,
    consortium_id: ConsortiumId,
    draft: UserDraft,
) -> Result<UserSummary, AppError> {
    let role_asked = Role::parse(draft.role.trim());
    let target = grant_target(consortium_id, role_asked, draft.institution_id);
    let basis = crate::access::authorize(
        ctx,
        actor,
        Permission::UserAdmin,
        &target,
        Event::of("create", "user_account"),
    )
    .await?;
    if let Some(staff_id) = draft.staff_id {
        // The account inherits the staff member's relationships (dispatch postings): the
        // administrator must hold authority over that person's employer too.
        let employer = {
            let mut tx = ctx.db.begin().await?;
            yigong_store::staff::find(&mut tx, consortium_id, staff_id)
                .await?
                .map(|s| s.employer_institution_id)
        };
        if let Some(employer) = employer {
            let event = Event::of("create", "user_account");
            crate::access::authorize(
                ctx,
                actor,
                Permission::UserAdmin,
                &Target::institution(consortium_id, employer),
                event,
            )
            .await?;
        }
    }
    let mut errors = Invalid::default();
    let username = draft.username.trim().to_owned();
    if !valid_username(&username) {
        errors.push("username", "username_invalid", "a username has 3 to 32 of a-z, 0-9, '.', '_', '-'");
    }
    let display_name = validation::text(&mut errors, "display_name", &draft.display_name, 50);
    check_password_policy(&mut errors, "password", &draft.password);
    let role = Role::parse(draft.role.trim());
    if role.is_none() {
        errors.push("role", "role_unknown", format!("unknown role {:?}", draft.role));
    }
    let scope_kind = role.map(access::default_scope);
    if matches!(scope_kind, Some(ScopeKind::Institution | ScopeKind::TownshipGroup))
        && draft.institution_id.is_none()
    {
        errors.push("institution_id", "required", "this role acts at an institution");
    }
    // Only a system administrator may create another system administrator.
    if role == Some(Role::SystemAdmin) && actor.role != Role::SystemAdmin {
        errors.push("role", "role_not_grantable", "only a system administrator grants that role");
    }
    let mut tx = ctx.db.begin_write().await?;
    if let Some(i) = draft.institution_id
        && yigong_store::institution::find(&mut tx, consortium_id, i).await?.is_none()
    {
        errors.push("institution_id", "institution_not_found", "the institution does not exist");
    }
    if let Some(s) = draft.staff_id
        && yigong_store::staff::find(&mut tx, consortium_id, s).await?.is_none()
    {
        errors.push("staff_id", "staff_not_found", "the staff member does not exist");
    }
    errors.into_result(())?;
    let now = ctx.clock.now();
    let account = Account {
        user_id: Uuid::now_v7(),
        username,
        consortium_id,
        staff_id: draft.staff_id,
        display_name,
        password_hash: hash_password(&draft.password),
        disabled: false,
        failed_logins: 0,
        locked_until: None,
        language: "zh-CN".into(),
        password_changed_at: now,
        created_at: now,
        updated_at: now,
    };
    store::insert(&mut tx, &account)
        .await
        .map_err(|e| conflict_on_field(e, "username_taken", "username", "this username is taken"))?;
    let grant = RoleGrant {
        user_role_id: Uuid::now_v7(),
        consortium_id,
        user_id: account.user_id,
        role: role.expect("checked"),
        institution_id: draft.institution_id,
        scope_kind: scope_kind.expect("checked"),
        valid_from: ctx.today(),
        valid_to: None,
        created_at: now,
    };
    store::insert_role(&mut tx, &grant).await?;
    let event = Event::on("create", "user_account", account.user_id)
        .with_detail(format!("role={}", grant.role.as_str()));
    audit::record(ctx, &mut tx, actor, consortium_id, basis, event).await?;
    tx.commit().await?;
    Ok(UserSummary { account, roles: vec![grant] })
}

/// What a new role grant reaches, and so what its grantor must hold authority over: the
/// institution for institution-scoped roles, the whole consortium for wider ones (an institution
/// administrator cannot mint a consortium manager or a bureau officer).
fn grant_target(
    consortium_id: ConsortiumId,
    role: Option<Role>,
    institution: Option<InstitutionId>,
) -> Target {
    match (role.map(access::default_scope), institution) {
        (Some(ScopeKind::Institution | ScopeKind::TownshipGroup), Some(i)) => {
            Target::institution(consortium_id, i)
        }
        _ => Target::consortium(consortium_id),
    }
}

/// Adds another role grant to an account (a second posting's institution, say).
pub async fn add_role(
    ctx: &Ctx,
    actor: &Actor,
    consortium_id: ConsortiumId,
    user_id: Uuid,
    role: Role,
    institution_id: Option<InstitutionId>,
) -> Result<RoleGrant, AppError> {
    let target = grant_target(consortium_id, Some(role), institution_id);
    let basis = crate::access::authorize(
        ctx,
        actor,
        Permission::UserAdmin,
        &target,
        Event::on("grant_role", "user_account", user_id),
    )
    .await?;
    let mut tx = ctx.db.begin_write().await?;
    let account = store::find(&mut tx, user_id)
        .await?
        .filter(|a| a.consortium_id == consortium_id)
        .ok_or(AppError::not_found("user"))?;
    let grant = RoleGrant {
        user_role_id: Uuid::now_v7(),
        consortium_id,
        user_id: account.user_id,
        role,
        institution_id,
        scope_kind: access::default_scope(role),
        valid_from: ctx.today(),
        valid_to: None,
        created_at: ctx.clock.now(),
    };
    store::insert_role(&mut tx, &grant).await?;
    let event =
        Event::on("grant_role", "user_account", user_id).with_detail(format!("role={}", role.as_str()));
    audit::record(ctx, &mut tx, actor, consortium_id, basis, event).await?;
    tx.commit().await?;
    Ok(grant)
}

/// What administering an account reaches: its institution when all its grants are
/// institution-scoped there, else the consortium (a manager's account is not an institution
/// administrator's to disable).
fn account_target(consortium_id: ConsortiumId, roles: &[RoleGrant]) -> Target {
    let institutions: Vec<_> = roles
        .iter()
        .map(|g| match g.scope_kind {
            ScopeKind::Institution | ScopeKind::TownshipGroup => g.institution_id,
            ScopeKind::Consortium | ScopeKind::County => None,
        })
        .collect();
    match institutions.first() {
        Some(Some(first)) if institutions.iter().all(|i| *i == Some(*first)) => {
            Target::institution(consortium_id, *first)
        }
        _ => Target::consortium(consortium_id),
    }
}

/// Disables or re-enables an account; disabling ends all its sessions at once.
pub async fn set_disabled(
    ctx: &Ctx,
    actor: &Actor,
    consortium_id: ConsortiumId,
    user_id: Uuid,
    disabled: bool,
) -> Result<UserSummary, AppError> {
    let mut tx = ctx.db.begin().await?;
    let account = store::find(&mut tx, user_id).await?.filter(|a| a.consortium_id == consortium_id);
    let roles = match &account {
        Some(a) => store::roles_of(&mut tx, a.user_id).await?,
        None => vec![],
    };
    drop(tx);
    let action = if disabled { "disable" } else { "enable" };
    let basis = crate::access::authorize(
        ctx,
        actor,
        Permission::UserAdmin,
        &account_target(consortium_id, &roles),
        Event::on(action, "user_account", user_id),
    )
    .await?;
    account.ok_or(AppError::not_found("user"))?;
    if user_id == actor.user_id && disabled {
        return Err(
            Invalid::one("disabled", "cannot_disable_self", "you cannot disable your own account").into()
        );
    }
    let mut tx = ctx.db.begin_write().await?;
    let mut account = store::find_locked(&mut tx, user_id).await?.ok_or(AppError::not_found("user"))?;
    let now = ctx.clock.now();
    account.disabled = disabled;
    account.updated_at = now;
    if !disabled {
        account.failed_logins = 0;
        account.locked_until = None;
    }
    store::update(&mut tx, &account).await?;
    if disabled {
        store::revoke_all(&mut tx, user_id, now).await?;
    }
    audit::record(ctx, &mut tx, actor, consortium_id, basis, Event::on(action, "user_account", user_id))
        .await?;
    tx.commit().await?;
    Ok(UserSummary { account, roles })
}

/// One account of the consortium with its grants (administrators).
pub async fn get_user(
    ctx: &Ctx,
    actor: &Actor,
    consortium_id: ConsortiumId,
    user_id: Uuid,
) -> Result<UserSummary, AppError> {
    let event = Event::on("read", "user_account", user_id);
    let basis = crate::access::authorize(
        ctx,
        actor,
        Permission::UserRead,
        &Target::consortium(consortium_id),
        event.clone(),
    )
    .await?;
    let mut tx = ctx.db.begin().await?;
    let account = store::find(&mut tx, user_id)
        .await?
        .filter(|a| a.consortium_id == consortium_id)
        .ok_or(AppError::not_found("user"))?;
    let roles = store::roles_of(&mut tx, user_id).await?;
    drop(tx);
    audit::record_read(ctx, actor, consortium_id, basis, event).await?;
    Ok(UserSummary { account, roles })
}

/// The account with this login name, for the console (`yigong user grant`).
pub async fn find_account(ctx: &Ctx, username: &str) -> Result<Option<Account>, AppError> {
    let mut tx = ctx.db.begin().await?;
    Ok(store::find_by_username(&mut tx, username).await?)
}

/// A page of the consortium's accounts.
pub async fn list_users(
    ctx: &Ctx,
    actor: &Actor,
    consortium_id: ConsortiumId,
    query: Option<&str>,
    page: &PageRequest,
) -> Result<Page<UserSummary>, AppError> {
    let basis = crate::access::authorize(
        ctx,
        actor,
        Permission::UserRead,
        &Target::consortium(consortium_id),
        Event::of("search", "user_account"),
    )
    .await?;
    let mut tx = ctx.db.begin().await?;
    let accounts = store::list(&mut tx, consortium_id, query, page).await?;
    let mut items = Vec::with_capacity(accounts.items.len());
    for account in accounts.items {
        let roles = store::roles_of(&mut tx, account.user_id).await?;
        // Institution administrators see the accounts of their own institution only.
        if actor.role == Role::InstitutionAdmin
            && !roles.iter().any(|g| g.institution_id.is_some() && g.institution_id == actor.institution_id)
        {
            continue;
        }
        items.push(UserSummary { account, roles });
    }
    drop(tx);
    audit::record_read(
        ctx,
        actor,
        consortium_id,
        basis,
        Event::of("search", "user_account").with_detail(format!("rows={}", items.len())),
    )
    .await?;
    Ok(Page { items, next_after: accounts.next_after })
}

/// Sets the UI language of the caller's account (`zh-CN` or `en`).
pub async fn set_language(ctx: &Ctx, session: &Session, language: &str) -> Result<(), AppError> {
    if !matches!(language, "zh-CN" | "en") {
        return Err(Invalid::one("language", "language_unknown", "language is zh-CN or en").into());
    }
    let mut tx = ctx.db.begin_write().await?;
    let mut account =
        store::find_locked(&mut tx, session.actor.user_id).await?.ok_or(AppError::Unauthenticated)?;
    account.language = language.to_owned();
    account.updated_at = ctx.clock.now();
    store::update(&mut tx, &account).await?;
    tx.commit().await?;
    Ok(())
}

/// Opens emergency access to one patient for four hours, with a reason. Any clinician of the
/// consortium may; every use is audited and reviewed later.
pub async fn open_break_glass(
    ctx: &Ctx,
    actor: &Actor,
    patient_id: Uuid,
    reason_code: &str,
    reason_text: &str,
) -> Result<Grant, AppError> {
    let target = Target {
        consortium_id: actor.consortium_id,
        institution_id: actor.institution_id,
        patient: Some(patient_id),
    };
    crate::access::authorize(
        ctx,
        actor,
        Permission::BreakGlass,
        &target,
        Event::of("break_glass", "patient"),
    )
    .await?;
    let mut errors = Invalid::default();
    let code = validation::text(&mut errors, "reason_code", reason_code, 40);
    let text = validation::text(&mut errors, "reason_text", reason_text, 500);
    errors.into_result(())?;
    let now = ctx.clock.now();
    let id = Uuid::now_v7();
    let grant = access::break_glass(patient_id, now, id);
    let row = BreakGlassRow {
        consortium_id: actor.consortium_id.as_uuid(),
        break_glass_id: id,
        user_id: actor.user_id,
        patient_id,
        reason_code: code.clone(),
        reason_text: text,
        opened_at: now,
        expires_at: grant.valid_until,
    };
    let mut tx = ctx.db.begin_write().await?;
    store::insert_break_glass(&mut tx, &row).await?;
    let event = Event {
        patient_id: Some(patient_id),
        ..Event::on("break_glass", "patient", patient_id).with_detail(format!("reason_code={code}"))
    };
    audit::record(ctx, &mut tx, actor, actor.consortium_id, access::Basis::BreakGlass, event).await?;
    tx.commit().await?;
    Ok(grant)
}

/// The break-glass grants of a user that are open at `now`.
pub async fn break_glass_grants(
    tx: &mut Tx,
    consortium: ConsortiumId,
    user_id: Uuid,
    now: DateTime<Utc>,
) -> Result<Vec<Grant>, AppError> {
    let rows = store::active_break_glass(tx, consortium, user_id, now).await?;
    Ok(rows
        .into_iter()
        .map(|r| Grant {
            valid_from: r.opened_at,
            ..access::break_glass(r.patient_id, r.opened_at, r.break_glass_id)
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};

    use super::*;

    #[test]
    fn throttle_counts_per_client_per_minute() {
        let t = Throttle::default();
        let at = Utc.with_ymd_and_hms(2026, 11, 25, 8, 0, 0).unwrap();
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let b: IpAddr = "10.0.0.2".parse().unwrap();
        for _ in 0..ATTEMPTS_PER_MINUTE {
            assert!(t.allow(Some(a), at));
        }
        assert!(!t.allow(Some(a), at + Duration::seconds(30)), "31st attempt within the minute");
        assert!(t.allow(Some(b), at), "another client is counted apart");
        assert!(t.allow(Some(a), at + Duration::seconds(61)), "a new minute starts afresh");
        assert!(t.allow(None, at), "without an address (in-process callers) nothing is counted");
    }

    #[test]
    fn passwords_hash_with_argon2id_and_verify() {
        let h = hash_password("correct-horse-42");
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert!(verify_password("correct-horse-42", &h));
        assert!(!verify_password("correct-horse-43", &h));
        assert!(!verify_password("x", "not a phc string"));
        assert_ne!(h, hash_password("correct-horse-42"), "salted");
    }

    #[test]
    fn password_policy() {
        for (p, ok) in [
            ("abcdefghi1", true),
            ("abcdefghij", false),
            ("1234567890", false),
            ("abc12", false),
            ("密码密码密码密码密码1", true),
        ] {
            let mut e = Invalid::default();
            check_password_policy(&mut e, "password", p);
            assert_eq!(e.fields.is_empty(), ok, "{p}");
        }
    }
}
