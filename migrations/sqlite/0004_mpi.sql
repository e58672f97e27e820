-- Master patient index (DESIGN.md §3): source patients as received, golden persons, the links
-- between them with their history, the review queue, steward operations, the estimated
-- matching model and the blocking-key index used to find candidates without a scan.
-- Clinical rows (later) reference mpi_record, never mpi_person: links change, records do not.

-- A system that sends patient records: a facility's own system (tied to its institution), the
-- public-health system, an insurance import, a CSV load.
CREATE TABLE mpi_source (
    consortium_id  BLOB NOT NULL REFERENCES consortium (consortium_id),
    source_id      BLOB NOT NULL,
    code           TEXT NOT NULL,
    name           TEXT NOT NULL,
    institution_id BLOB,
    created_at     TEXT NOT NULL,
    PRIMARY KEY (consortium_id, source_id),
    UNIQUE (consortium_id, code),
    FOREIGN KEY (consortium_id, institution_id) REFERENCES institution (consortium_id, institution_id)
);

-- A golden person. Its demographics are computed from the linked records at read time
-- (survivorship rules in yigong_domain::mpi); a merged person keeps a forward pointer.
CREATE TABLE mpi_person (
    consortium_id BLOB NOT NULL REFERENCES consortium (consortium_id),
    person_id     BLOB NOT NULL,
    status        TEXT NOT NULL CHECK (status IN ('active', 'merged')),
    merged_into   BLOB,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL,
    PRIMARY KEY (consortium_id, person_id),
    FOREIGN KEY (consortium_id, merged_into) REFERENCES mpi_person (consortium_id, person_id)
);

-- A source patient: one registration at one source, its values kept as received (trimmed).
CREATE TABLE mpi_record (
    consortium_id      BLOB NOT NULL,
    record_id          BLOB NOT NULL,
    source_id          BLOB NOT NULL,
    local_id           TEXT NOT NULL,
    name               TEXT,
    sex                TEXT,
    birth_date         TEXT,
    resident_id        TEXT,
    -- valid, derived_from_15, or the warning code of an unverified number.
    resident_id_status TEXT,
    no_id_reason       TEXT,
    phone              TEXT,
    village_code       TEXT,
    household_id       TEXT,
    e_health_card      TEXT,
    insurance_number   TEXT,
    given_name         TEXT,
    family_name        TEXT,
    address            TEXT,
    locality           TEXT,
    postcode           TEXT,
    region             TEXT,
    -- Identity read from the ID card chip or the e-health card QR code.
    verified           INTEGER NOT NULL DEFAULT 0,
    -- SM3 of the values: a re-import of an unchanged row changes nothing.
    content_hash       TEXT NOT NULL,
    registered_at      TEXT NOT NULL,
    registered_by      BLOB,
    updated_at         TEXT NOT NULL,
    PRIMARY KEY (consortium_id, record_id),
    UNIQUE (consortium_id, source_id, local_id),
    FOREIGN KEY (consortium_id, source_id) REFERENCES mpi_source (consortium_id, source_id)
);
CREATE INDEX mpi_record_resident_id ON mpi_record (consortium_id, resident_id);

-- Record ↔ person links. A link is closed (valid_to), never deleted or rewritten; one open
-- link per record.
CREATE TABLE mpi_link (
    consortium_id BLOB NOT NULL,
    link_id       BLOB NOT NULL,
    record_id     BLOB NOT NULL,
    person_id     BLOB NOT NULL,
    valid_from    TEXT NOT NULL,
    valid_to      TEXT,
    method        TEXT NOT NULL CHECK (method IN ('new', 'auto', 'registrar', 'steward', 'merge', 'unmerge')),
    score         REAL,
    rule_version  TEXT,
    actor_id      BLOB,
    reason        TEXT,
    -- The steward operation that opened the link, if any.
    operation_id  BLOB,
    PRIMARY KEY (consortium_id, link_id),
    FOREIGN KEY (consortium_id, record_id) REFERENCES mpi_record (consortium_id, record_id),
    FOREIGN KEY (consortium_id, person_id) REFERENCES mpi_person (consortium_id, person_id)
);
CREATE UNIQUE INDEX mpi_link_open ON mpi_link (consortium_id, record_id) WHERE valid_to IS NULL;
CREATE INDEX mpi_link_person ON mpi_link (consortium_id, person_id, valid_to);

-- Steward operations: link, unlink, merge, unmerge, with their reason; an operation is undone
-- by a later one that names it.
CREATE TABLE mpi_operation (
    consortium_id   BLOB NOT NULL,
    operation_id    BLOB NOT NULL,
    kind            TEXT NOT NULL CHECK (kind IN ('link', 'unlink', 'merge', 'unmerge', 'decide_different')),
    person_id       BLOB,
    other_person_id BLOB,
    record_id       BLOB,
    actor_id        BLOB NOT NULL,
    reason          TEXT NOT NULL,
    undoes          BLOB,
    undone_by       BLOB,
    at              TEXT NOT NULL,
    PRIMARY KEY (consortium_id, operation_id)
);

-- The review queue (匹配审核): candidate pairs of records in the review band, or in the auto
-- band but held back by a hard rule or by a conflict between persons.
CREATE TABLE mpi_candidate (
    consortium_id BLOB NOT NULL,
    record_a      BLOB NOT NULL,
    record_b      BLOB NOT NULL,
    score         REAL NOT NULL,
    band          TEXT NOT NULL,
    -- JSON: field by field level, weight and term-frequency part; hard rules.
    detail        TEXT NOT NULL,
    rule_version  TEXT NOT NULL,
    status        TEXT NOT NULL CHECK (status IN ('open', 'same', 'different')),
    created_at    TEXT NOT NULL,
    decided_at    TEXT,
    decided_by    BLOB,
    reason        TEXT,
    PRIMARY KEY (consortium_id, record_a, record_b),
    FOREIGN KEY (consortium_id, record_a) REFERENCES mpi_record (consortium_id, record_id),
    FOREIGN KEY (consortium_id, record_b) REFERENCES mpi_record (consortium_id, record_id)
);
CREATE INDEX mpi_candidate_status ON mpi_candidate (consortium_id, status, score);

-- Matching models estimated by a bulk run: configuration, m/u, term frequencies (JSON of
-- yigong_mpi::Model). The newest scores online requests; links record its version.
CREATE TABLE mpi_model (
    consortium_id BLOB NOT NULL,
    model_id      BLOB NOT NULL,
    version       TEXT NOT NULL,
    model         TEXT NOT NULL,
    records       BIGINT NOT NULL,
    created_at    TEXT NOT NULL,
    PRIMARY KEY (consortium_id, model_id)
);

-- Blocking keys (yigong_mpi::block::record_keys) of every record under the current model:
-- records sharing a key are candidates.
CREATE TABLE mpi_block_key (
    consortium_id BLOB NOT NULL,
    block_key     BIGINT NOT NULL,
    record_id     BLOB NOT NULL,
    PRIMARY KEY (consortium_id, block_key, record_id)
) WITHOUT ROWID;
