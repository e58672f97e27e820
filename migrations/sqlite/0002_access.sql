-- Accounts, sessions, role grants, break-glass and the audit trail.
--
-- user_account and auth_token form the deployment's account directory: a login name is unique
-- across the deployment and looked up before any consortium is known, so these two tables are
-- global (DIRECTORY_TABLES), small, and referenced by tenant rows; they reference no tenant row.

CREATE TABLE user_account (
    user_id             BLOB PRIMARY KEY,
    username            TEXT NOT NULL UNIQUE,
    -- Home consortium (no foreign key: the directory references no tenant table).
    consortium_id       BLOB NOT NULL,
    -- The staff record behind the account; NULL for service accounts.
    staff_id            BLOB,
    display_name        TEXT NOT NULL,
    -- argon2id PHC string; never logged, never returned.
    password_hash       TEXT NOT NULL,
    disabled            INTEGER NOT NULL DEFAULT 0,
    failed_logins       INTEGER NOT NULL DEFAULT 0,
    locked_until        TEXT,
    language            TEXT NOT NULL DEFAULT 'zh-CN',
    password_changed_at TEXT NOT NULL,
    created_at          TEXT NOT NULL,
    updated_at          TEXT NOT NULL
);

-- Bearer tokens (API) and web sessions. Only an SM3 hash (GB/T 32905) of the secret is stored.
CREATE TABLE auth_token (
    token_hash   TEXT PRIMARY KEY,
    user_id      BLOB NOT NULL REFERENCES user_account (user_id),
    kind         TEXT NOT NULL CHECK (kind IN ('api', 'web')),
    -- The role grant the session acts under; switchable for users with several postings.
    user_role_id BLOB,
    -- Web sessions: the CSRF secret that state-changing forms must echo.
    csrf_token   TEXT,
    created_at   TEXT NOT NULL,
    expires_at   TEXT NOT NULL,
    revoked_at   TEXT
);
CREATE INDEX auth_token_user ON auth_token (user_id, created_at);

-- What a user may do where: role, acting institution, scope kind, period.
CREATE TABLE user_role (
    consortium_id  BLOB NOT NULL,
    user_role_id   BLOB NOT NULL,
    user_id        BLOB NOT NULL REFERENCES user_account (user_id),
    role           TEXT NOT NULL,
    institution_id BLOB,
    scope_kind     TEXT NOT NULL,
    valid_from     TEXT NOT NULL,
    valid_to       TEXT,
    created_at     TEXT NOT NULL,
    PRIMARY KEY (consortium_id, user_role_id),
    FOREIGN KEY (consortium_id, institution_id) REFERENCES institution (consortium_id, institution_id),
    CHECK (valid_to IS NULL OR valid_to >= valid_from)
);
CREATE INDEX user_role_user ON user_role (user_id);

-- Emergency access to one patient, with its reason; reviewed by the privacy officer.
CREATE TABLE break_glass (
    consortium_id  BLOB NOT NULL,
    break_glass_id BLOB NOT NULL,
    user_id        BLOB NOT NULL REFERENCES user_account (user_id),
    patient_id     BLOB NOT NULL,
    reason_code    TEXT NOT NULL,
    reason_text    TEXT NOT NULL,
    opened_at      TEXT NOT NULL,
    expires_at     TEXT NOT NULL,
    reviewed_by    BLOB,
    reviewed_at    TEXT,
    PRIMARY KEY (consortium_id, break_glass_id)
);
CREATE INDEX break_glass_user ON break_glass (consortium_id, user_id, expires_at);

-- The audit trail. Rows are inserted with the hash of their own content (row_hash) in the
-- transaction of the change they describe, without contention; the sealer then numbers them
-- gaplessly per consortium (seq) and chains them: chain_hash = SM3(prev chain_hash ||
-- row_hash). Editing a row breaks its row_hash; deleting one leaves a gap in seq. Rows are
-- never updated except by the sealer filling seq and chain_hash once.
CREATE TABLE audit_event (
    consortium_id  BLOB NOT NULL,
    audit_id       BLOB NOT NULL,
    recorded_at    TEXT NOT NULL,
    actor_user_id  BLOB,
    actor_role     TEXT,
    institution_id BLOB,
    action         TEXT NOT NULL,
    resource_type  TEXT NOT NULL,
    resource_id    TEXT,
    patient_id     BLOB,
    basis          TEXT NOT NULL,
    outcome        TEXT NOT NULL CHECK (outcome IN ('allowed', 'denied')),
    request_id     TEXT,
    -- Ids and codes only (reason codes, filter names); never names or ID numbers.
    detail         TEXT,
    row_hash       TEXT NOT NULL,
    seq            BIGINT,
    chain_hash     TEXT,
    PRIMARY KEY (consortium_id, audit_id),
    UNIQUE (consortium_id, seq)
);
CREATE INDEX audit_event_time ON audit_event (consortium_id, recorded_at);
CREATE INDEX audit_event_patient ON audit_event (consortium_id, patient_id, recorded_at);
CREATE INDEX audit_event_actor ON audit_event (consortium_id, actor_user_id, recorded_at);

-- Head of each consortium's chain: the last sealed row.
CREATE TABLE audit_seal (
    consortium_id BLOB PRIMARY KEY,
    last_seq      BIGINT NOT NULL,
    last_hash     TEXT NOT NULL,
    sealed_at     TEXT NOT NULL
);
