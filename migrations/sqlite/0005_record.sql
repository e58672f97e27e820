-- Shared health record (DESIGN.md §4) stored as HL7 FHIR R4 resources, losslessly: `body` is the
-- resource as received (numbers with their original text, key order kept) plus the server's
-- `id` and `meta`. Typed columns carry what the platform queries (owner institution, the patient
-- record it is about, when it happened); the documented search parameters have index tables.
-- Times of these tables are epoch milliseconds (BIGINT): identical on both backends and
-- comparable as numbers.

-- The current version of every resource. Patients are kept by the master patient index
-- (`record_id` is the resource's own mpi_record); a Patient sent over FHIR also keeps its body here.
CREATE TABLE fhir_resource (
    consortium_id   BLOB NOT NULL REFERENCES consortium (consortium_id),
    resource_type   TEXT NOT NULL,
    resource_id     TEXT NOT NULL,
    version_id      BIGINT NOT NULL,
    last_updated_ms BIGINT NOT NULL,
    deleted         INTEGER NOT NULL DEFAULT 0,
    -- The member institution the resource belongs to; NULL for consortium-level resources
    -- (the drug catalogue's Medication, an out-of-network Organization).
    institution_id  BLOB,
    -- The patient (source record) the resource is about.
    record_id       BLOB,
    -- When it happened (encounter start, effective time, authored, recorded), for the timeline.
    occurred_ms     BIGINT,
    -- The registry row this resource is a projection of (institution, department, staff,
    -- posting): such resources change only through the registry.
    registry_kind   TEXT,
    body            TEXT,
    PRIMARY KEY (consortium_id, resource_type, resource_id),
    FOREIGN KEY (consortium_id, institution_id) REFERENCES institution (consortium_id, institution_id),
    FOREIGN KEY (consortium_id, record_id) REFERENCES mpi_record (consortium_id, record_id)
);
CREATE INDEX fhir_resource_updated ON fhir_resource (consortium_id, resource_type, last_updated_ms);
CREATE INDEX fhir_resource_timeline ON fhir_resource (consortium_id, record_id, occurred_ms);

-- Every version ever stored (FHIR history, vread). `body` holds superseded versions; the current
-- version's body is the one in fhir_resource (stored once), and a delete has none.
CREATE TABLE fhir_history (
    consortium_id   BLOB NOT NULL,
    resource_type   TEXT NOT NULL,
    resource_id     TEXT NOT NULL,
    version_id      BIGINT NOT NULL,
    last_updated_ms BIGINT NOT NULL,
    method          TEXT NOT NULL CHECK (method IN ('POST', 'PUT', 'DELETE')),
    author_user_id  BLOB,
    institution_id  BLOB,
    body            TEXT,
    PRIMARY KEY (consortium_id, resource_type, resource_id, version_id),
    FOREIGN KEY (consortium_id, resource_type, resource_id)
        REFERENCES fhir_resource (consortium_id, resource_type, resource_id)
);

-- Search index, one table per parameter type; rows of the current version only. A resource's
-- rows are derived from its body, so a new version deletes the old rows by value (no second
-- index per table).
CREATE TABLE fhir_token (
    consortium_id BLOB NOT NULL,
    resource_type TEXT NOT NULL,
    param         TEXT NOT NULL,
    code          TEXT NOT NULL,
    system        TEXT NOT NULL,
    resource_id   TEXT NOT NULL,
    PRIMARY KEY (consortium_id, resource_type, param, code, system, resource_id)
) WITHOUT ROWID;

CREATE TABLE fhir_string (
    consortium_id BLOB NOT NULL,
    resource_type TEXT NOT NULL,
    param         TEXT NOT NULL,
    value         TEXT NOT NULL,
    resource_id   TEXT NOT NULL,
    PRIMARY KEY (consortium_id, resource_type, param, value, resource_id)
) WITHOUT ROWID;

CREATE TABLE fhir_date (
    consortium_id BLOB NOT NULL,
    resource_type TEXT NOT NULL,
    param         TEXT NOT NULL,
    start_ms      BIGINT NOT NULL,
    end_ms        BIGINT NOT NULL,
    resource_id   TEXT NOT NULL,
    PRIMARY KEY (consortium_id, resource_type, param, start_ms, end_ms, resource_id)
) WITHOUT ROWID;

CREATE TABLE fhir_reference (
    consortium_id BLOB NOT NULL,
    resource_type TEXT NOT NULL,
    param         TEXT NOT NULL,
    target_id     TEXT NOT NULL,
    target_type   TEXT NOT NULL,
    resource_id   TEXT NOT NULL,
    PRIMARY KEY (consortium_id, resource_type, param, target_id, target_type, resource_id)
) WITHOUT ROWID;

-- Patient search goes to the index's own columns (identifier → resident_id / local_id).
CREATE INDEX mpi_record_name ON mpi_record (consortium_id, name);
CREATE INDEX mpi_record_birth ON mpi_record (consortium_id, birth_date);
CREATE INDEX mpi_record_local ON mpi_record (consortium_id, local_id);
