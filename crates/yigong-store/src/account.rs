//! The account directory (`user_account`, `auth_token`) and role grants (`user_role`).

use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;
use yigong_domain::access::{Role, ScopeKind};
use yigong_domain::ids::{ConsortiumId, InstitutionId, StaffId};
use yigong_domain::page::{Page, PageRequest};

use crate::{StoreError, Tx, classify, on_tx};

/// A user account as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    /// Key.
    pub user_id: Uuid,
    /// Login name, unique in the deployment.
    pub username: String,
    /// Home consortium.
    pub consortium_id: ConsortiumId,
    /// Staff record, if any.
    pub staff_id: Option<StaffId>,
    /// Name shown in the UI.
    pub display_name: String,
    /// argon2id PHC string.
    pub password_hash: String,
    /// Disabled accounts cannot log in; their sessions stop working.
    pub disabled: bool,
    /// Consecutive failed logins.
    pub failed_logins: i32,
    /// Locked until this instant after too many failures.
    pub locked_until: Option<DateTime<Utc>>,
    /// UI language, `zh-CN` or `en`.
    pub language: String,
    /// Last password change.
    pub password_changed_at: DateTime<Utc>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
struct AccountRow {
    user_id: Uuid,
    username: String,
    consortium_id: Uuid,
    staff_id: Option<Uuid>,
    display_name: String,
    password_hash: String,
    disabled: bool,
    failed_logins: i32,
    locked_until: Option<DateTime<Utc>>,
    language: String,
    password_changed_at: DateTime<Utc>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl From<AccountRow> for Account {
    fn from(r: AccountRow) -> Self {
        Self {
            user_id: r.user_id,
            username: r.username,
            consortium_id: ConsortiumId::from_uuid(r.consortium_id),
            staff_id: r.staff_id.map(StaffId::from_uuid),
            display_name: r.display_name,
            password_hash: r.password_hash,
            disabled: r.disabled,
            failed_logins: r.failed_logins,
            locked_until: r.locked_until,
            language: r.language,
            password_changed_at: r.password_changed_at,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

const ACCOUNT_COLUMNS: &str = "user_id, username, consortium_id, staff_id, display_name, password_hash, disabled, \
                               failed_logins, locked_until, language, password_changed_at, created_at, updated_at";

/// Inserts an account.
pub async fn insert(tx: &mut Tx, a: &Account) -> Result<(), StoreError> {
    let sql = format!(
        "INSERT INTO user_account ({ACCOUNT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
    );
    on_tx!(tx, conn => sqlx::query(&sql)
        .bind(a.user_id).bind(&a.username).bind(a.consortium_id.as_uuid()).bind(a.staff_id.map(|s| s.as_uuid()))
        .bind(&a.display_name).bind(&a.password_hash).bind(a.disabled).bind(a.failed_logins).bind(a.locked_until)
        .bind(&a.language).bind(a.password_changed_at).bind(a.created_at).bind(a.updated_at)
        .execute(conn).await.map(|r| r.rows_affected()))
    .map_err(|e| classify(e, "username_taken"))?;
    Ok(())
}

/// Saves the mutable fields of an account (password, lock state, language, disabled).
pub async fn update(tx: &mut Tx, a: &Account) -> Result<(), StoreError> {
    const SQL: &str = "UPDATE user_account SET display_name = $2, password_hash = $3, disabled = $4, failed_logins = $5, \
                       locked_until = $6, language = $7, password_changed_at = $8, updated_at = $9 WHERE user_id = $1";
    let done = on_tx!(tx, conn => sqlx::query(SQL)
        .bind(a.user_id).bind(&a.display_name).bind(&a.password_hash).bind(a.disabled).bind(a.failed_logins)
        .bind(a.locked_until).bind(&a.language).bind(a.password_changed_at).bind(a.updated_at)
        .execute(conn).await.map(|r| r.rows_affected()))?;
    if done == 0 { Err(StoreError::NotFound) } else { Ok(()) }
}

/// The account with this login name.
pub async fn find_by_username(tx: &mut Tx, username: &str) -> Result<Option<Account>, StoreError> {
    let sql = format!("SELECT {ACCOUNT_COLUMNS} FROM user_account WHERE username = $1");
    let row: Option<AccountRow> =
        on_tx!(tx, conn => sqlx::query_as(&sql).bind(username).fetch_optional(conn).await)?;
    Ok(row.map(Account::from))
}

/// The account with this id, locked until the transaction ends (PostgreSQL `FOR UPDATE`; a
/// SQLite write transaction already holds the database's write lock), for read-modify-write.
pub async fn find_locked(tx: &mut Tx, user_id: Uuid) -> Result<Option<Account>, StoreError> {
    let lock = match tx.backend() {
        crate::Backend::Postgres => " FOR UPDATE",
        crate::Backend::Sqlite => "",
    };
    let sql = format!("SELECT {ACCOUNT_COLUMNS} FROM user_account WHERE user_id = $1{lock}");
    let row: Option<AccountRow> =
        on_tx!(tx, conn => sqlx::query_as(&sql).bind(user_id).fetch_optional(conn).await)?;
    Ok(row.map(Account::from))
}

/// The account with this id.
pub async fn find(tx: &mut Tx, user_id: Uuid) -> Result<Option<Account>, StoreError> {
    let sql = format!("SELECT {ACCOUNT_COLUMNS} FROM user_account WHERE user_id = $1");
    let row: Option<AccountRow> =
        on_tx!(tx, conn => sqlx::query_as(&sql).bind(user_id).fetch_optional(conn).await)?;
    Ok(row.map(Account::from))
}

/// One page of a consortium's accounts by login name.
pub async fn list(
    tx: &mut Tx,
    consortium: ConsortiumId,
    query: Option<&str>,
    page: &PageRequest,
) -> Result<Page<Account>, StoreError> {
    let sql = format!(
        "SELECT {ACCOUNT_COLUMNS} FROM user_account WHERE consortium_id = $1 AND ($2 IS NULL OR username > $2) \
         AND ($3 IS NULL OR lower(username) LIKE lower($3) ESCAPE '\\' OR lower(display_name) LIKE lower($3) ESCAPE '\\') ORDER BY username LIMIT $4"
    );
    let q = query.map(|q| format!("%{}%", crate::institution::like_escape(q)));
    let rows: Vec<AccountRow> = on_tx!(tx, conn => sqlx::query_as(&sql)
        .bind(consortium.as_uuid()).bind(page.after.as_deref()).bind(q.as_deref()).bind(i64::from(page.size) + 1)
        .fetch_all(conn).await)?;
    Ok(Page::from_overfetch(rows.into_iter().map(Account::from).collect(), page.size, |a| a.username.clone()))
}

/// A role grant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleGrant {
    /// Key.
    pub user_role_id: Uuid,
    /// Tenant.
    pub consortium_id: ConsortiumId,
    /// Account.
    pub user_id: Uuid,
    /// Role.
    pub role: Role,
    /// Acting institution.
    pub institution_id: Option<InstitutionId>,
    /// Scope kind.
    pub scope_kind: ScopeKind,
    /// First day.
    pub valid_from: NaiveDate,
    /// Last day, inclusive.
    pub valid_to: Option<NaiveDate>,
    /// Created.
    pub created_at: DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
struct RoleRow {
    user_role_id: Uuid,
    consortium_id: Uuid,
    user_id: Uuid,
    role: String,
    institution_id: Option<Uuid>,
    scope_kind: String,
    valid_from: NaiveDate,
    valid_to: Option<NaiveDate>,
    created_at: DateTime<Utc>,
}

impl TryFrom<RoleRow> for RoleGrant {
    type Error = StoreError;
    fn try_from(r: RoleRow) -> Result<Self, StoreError> {
        Ok(Self {
            user_role_id: r.user_role_id,
            consortium_id: ConsortiumId::from_uuid(r.consortium_id),
            user_id: r.user_id,
            role: Role::parse(&r.role).ok_or_else(|| StoreError::Corrupt(format!("role {:?}", r.role)))?,
            institution_id: r.institution_id.map(InstitutionId::from_uuid),
            scope_kind: ScopeKind::parse(&r.scope_kind)
                .ok_or_else(|| StoreError::Corrupt(format!("scope {:?}", r.scope_kind)))?,
            valid_from: r.valid_from,
            valid_to: r.valid_to,
            created_at: r.created_at,
        })
    }
}

/// Inserts a role grant.
pub async fn insert_role(tx: &mut Tx, g: &RoleGrant) -> Result<(), StoreError> {
    const SQL: &str = "INSERT INTO user_role (consortium_id, user_role_id, user_id, role, institution_id, scope_kind, \
                       valid_from, valid_to, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)";
    on_tx!(tx, conn => sqlx::query(SQL)
        .bind(g.consortium_id.as_uuid()).bind(g.user_role_id).bind(g.user_id).bind(g.role.as_str())
        .bind(g.institution_id.map(|i| i.as_uuid())).bind(g.scope_kind.as_str()).bind(g.valid_from).bind(g.valid_to)
        .bind(g.created_at).execute(conn).await.map(|r| r.rows_affected()))
    .map_err(|e| classify(e, "role_exists"))?;
    Ok(())
}

/// Every role grant of a user, oldest first.
pub async fn roles_of(tx: &mut Tx, user_id: Uuid) -> Result<Vec<RoleGrant>, StoreError> {
    const SQL: &str = "SELECT user_role_id, consortium_id, user_id, role, institution_id, scope_kind, valid_from, valid_to, \
                       created_at FROM user_role WHERE user_id = $1 ORDER BY created_at, user_role_id";
    let rows: Vec<RoleRow> = on_tx!(tx, conn => sqlx::query_as(SQL).bind(user_id).fetch_all(conn).await)?;
    rows.into_iter().map(RoleGrant::try_from).collect()
}

/// A bearer token or web session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    /// Hash of the secret (hex).
    pub token_hash: String,
    /// Account.
    pub user_id: Uuid,
    /// `api` or `web`.
    pub kind: String,
    /// Active role grant.
    pub user_role_id: Option<Uuid>,
    /// CSRF secret of a web session.
    pub csrf_token: Option<String>,
    /// Issued.
    pub created_at: DateTime<Utc>,
    /// Expires.
    pub expires_at: DateTime<Utc>,
    /// Revoked, if so.
    pub revoked_at: Option<DateTime<Utc>>,
}

#[derive(sqlx::FromRow)]
struct TokenRow {
    token_hash: String,
    user_id: Uuid,
    kind: String,
    user_role_id: Option<Uuid>,
    csrf_token: Option<String>,
    created_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
    revoked_at: Option<DateTime<Utc>>,
}

impl From<TokenRow> for Token {
    fn from(r: TokenRow) -> Self {
        Self {
            token_hash: r.token_hash,
            user_id: r.user_id,
            kind: r.kind,
            user_role_id: r.user_role_id,
            csrf_token: r.csrf_token,
            created_at: r.created_at,
            expires_at: r.expires_at,
            revoked_at: r.revoked_at,
        }
    }
}

/// Stores a token.
pub async fn insert_token(tx: &mut Tx, t: &Token) -> Result<(), StoreError> {
    const SQL: &str = "INSERT INTO auth_token (token_hash, user_id, kind, user_role_id, csrf_token, created_at, expires_at, \
                       revoked_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";
    on_tx!(tx, conn => sqlx::query(SQL)
        .bind(&t.token_hash).bind(t.user_id).bind(&t.kind).bind(t.user_role_id).bind(&t.csrf_token)
        .bind(t.created_at).bind(t.expires_at).bind(t.revoked_at).execute(conn).await.map(|r| r.rows_affected()))
    .map_err(|e| classify(e, "token_exists"))?;
    Ok(())
}

/// The token with this hash.
pub async fn find_token(tx: &mut Tx, token_hash: &str) -> Result<Option<Token>, StoreError> {
    const SQL: &str = "SELECT token_hash, user_id, kind, user_role_id, csrf_token, created_at, expires_at, revoked_at \
                       FROM auth_token WHERE token_hash = $1";
    let row: Option<TokenRow> =
        on_tx!(tx, conn => sqlx::query_as(SQL).bind(token_hash).fetch_optional(conn).await)?;
    Ok(row.map(Token::from))
}

/// Revokes one token; returns whether it existed and was live.
pub async fn revoke_token(tx: &mut Tx, token_hash: &str, at: DateTime<Utc>) -> Result<bool, StoreError> {
    const SQL: &str = "UPDATE auth_token SET revoked_at = $2 WHERE token_hash = $1 AND revoked_at IS NULL";
    let n = on_tx!(tx, conn => sqlx::query(SQL).bind(token_hash).bind(at).execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(n > 0)
}

/// Revokes every live token of a user (password change, disable); returns how many.
pub async fn revoke_all(tx: &mut Tx, user_id: Uuid, at: DateTime<Utc>) -> Result<u64, StoreError> {
    const SQL: &str = "UPDATE auth_token SET revoked_at = $2 WHERE user_id = $1 AND revoked_at IS NULL";
    Ok(
        on_tx!(tx, conn => sqlx::query(SQL).bind(user_id).bind(at).execute(conn).await.map(|r| r.rows_affected()))?,
    )
}

/// Revokes every live token of a user but one (the session changing the password).
pub async fn revoke_all_except(
    tx: &mut Tx,
    user_id: Uuid,
    keep: &str,
    at: DateTime<Utc>,
) -> Result<u64, StoreError> {
    const SQL: &str = "UPDATE auth_token SET revoked_at = $2 WHERE user_id = $1 AND revoked_at IS NULL AND token_hash <> $3";
    Ok(
        on_tx!(tx, conn => sqlx::query(SQL).bind(user_id).bind(at).bind(keep).execute(conn).await.map(|r| r.rows_affected()))?,
    )
}

/// Switches the active role of a session.
pub async fn set_token_role(tx: &mut Tx, token_hash: &str, user_role_id: Uuid) -> Result<(), StoreError> {
    const SQL: &str = "UPDATE auth_token SET user_role_id = $2 WHERE token_hash = $1";
    on_tx!(tx, conn => sqlx::query(SQL).bind(token_hash).bind(user_role_id).execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// An emergency access record.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct BreakGlassRow {
    /// Tenant.
    pub consortium_id: Uuid,
    /// Key.
    pub break_glass_id: Uuid,
    /// Who opened it.
    pub user_id: Uuid,
    /// Whose record.
    pub patient_id: Uuid,
    /// Reason code.
    pub reason_code: String,
    /// Reason as written.
    pub reason_text: String,
    /// Opened.
    pub opened_at: DateTime<Utc>,
    /// Ends.
    pub expires_at: DateTime<Utc>,
}

/// Stores a break-glass record.
pub async fn insert_break_glass(tx: &mut Tx, b: &BreakGlassRow) -> Result<(), StoreError> {
    const SQL: &str = "INSERT INTO break_glass (consortium_id, break_glass_id, user_id, patient_id, reason_code, reason_text, \
                       opened_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";
    on_tx!(tx, conn => sqlx::query(SQL)
        .bind(b.consortium_id).bind(b.break_glass_id).bind(b.user_id).bind(b.patient_id).bind(&b.reason_code)
        .bind(&b.reason_text).bind(b.opened_at).bind(b.expires_at).execute(conn).await.map(|r| r.rows_affected()))
    .map_err(|e| classify(e, "break_glass_exists"))?;
    Ok(())
}

/// A user's break-glass records still open at `now`.
pub async fn active_break_glass(
    tx: &mut Tx,
    consortium: ConsortiumId,
    user_id: Uuid,
    now: DateTime<Utc>,
) -> Result<Vec<BreakGlassRow>, StoreError> {
    const SQL: &str = "SELECT consortium_id, break_glass_id, user_id, patient_id, reason_code, reason_text, opened_at, \
                       expires_at FROM break_glass WHERE consortium_id = $1 AND user_id = $2 AND expires_at > $3";
    Ok(
        on_tx!(tx, conn => sqlx::query_as(SQL).bind(consortium.as_uuid()).bind(user_id).bind(now).fetch_all(conn).await)?,
    )
}
