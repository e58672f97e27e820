-- Organisation and staff registry, divisions, households and residents' health records.
-- Every tenant table carries consortium_id as the first column of its primary key and of every
-- unique constraint, and in every foreign key between tenant tables: the schema can be
-- distributed by consortium_id unchanged. Reference tables (division*) are global.
-- Dates are ISO TEXT (YYYY-MM-DD), instants RFC 3339 TEXT in UTC, UUIDs 16-byte BLOBs; counts and money are integers.

-- GB/T 2260 (6-digit) and NBS statistical (12-digit) division codes, versioned by validity.
CREATE TABLE division (
    code              TEXT NOT NULL,
    valid_from        TEXT NOT NULL,
    level             TEXT NOT NULL CHECK (level IN ('province', 'prefecture', 'county', 'township', 'village')),
    name              TEXT NOT NULL,
    parent_code       TEXT,
    valid_to          TEXT,
    successor_code    TEXT,
    -- NBS urban-rural class (城乡分类代码), villages only.
    urban_rural_class TEXT,
    PRIMARY KEY (code, valid_from)
);
CREATE INDEX division_parent ON division (parent_code, code);

CREATE TABLE division_population (
    code       TEXT NOT NULL,
    year       INTEGER NOT NULL,
    population BIGINT NOT NULL CHECK (population >= 0),
    PRIMARY KEY (code, year)
);

CREATE TABLE consortium (
    consortium_id       BLOB PRIMARY KEY,
    name                TEXT NOT NULL,
    county_code         TEXT NOT NULL,
    founded_on          TEXT NOT NULL,
    -- No foreign key: institution rows reference consortium, and the lead is set after the
    -- hospital is registered; the use case checks it.
    lead_institution_id BLOB,
    created_at          TEXT NOT NULL
);
CREATE INDEX consortium_county ON consortium (county_code);

CREATE TABLE institution (
    consortium_id         BLOB NOT NULL REFERENCES consortium (consortium_id),
    institution_id        BLOB NOT NULL,
    code                  TEXT NOT NULL,
    name                  TEXT NOT NULL,
    -- Members have a tier, agencies an agency kind, never both.
    tier                  TEXT,
    agency_kind           TEXT,
    is_central            INTEGER NOT NULL DEFAULT 0,
    division_code         TEXT NOT NULL,
    -- Twelve-digit township code derived from division_code (NULL at county level): the
    -- township group scope and the tree resolve by it without walking parents.
    township_code         TEXT,
    parent_institution_id BLOB,
    credit_code           TEXT,
    licence_no            TEXT,
    ownership             TEXT NOT NULL,
    -- JSON array of service identifiers, sorted.
    services              TEXT NOT NULL DEFAULT '[]',
    beds                  BIGINT NOT NULL DEFAULT 0 CHECK (beds >= 0),
    address               TEXT,
    created_at            TEXT NOT NULL,
    updated_at            TEXT NOT NULL,
    PRIMARY KEY (consortium_id, institution_id),
    UNIQUE (consortium_id, code),
    FOREIGN KEY (consortium_id, parent_institution_id) REFERENCES institution (consortium_id, institution_id),
    CHECK ((tier IS NULL) <> (agency_kind IS NULL))
);
CREATE INDEX institution_parent ON institution (consortium_id, parent_institution_id, code);
CREATE INDEX institution_township ON institution (consortium_id, township_code, code);

-- Membership history: an event counts for the membership valid on its date; rows are closed,
-- never rewritten.
CREATE TABLE institution_membership (
    consortium_id  BLOB NOT NULL,
    institution_id BLOB NOT NULL,
    valid_from     TEXT NOT NULL,
    valid_to       TEXT,
    reason         TEXT NOT NULL,
    PRIMARY KEY (consortium_id, institution_id, valid_from),
    FOREIGN KEY (consortium_id, institution_id) REFERENCES institution (consortium_id, institution_id),
    CHECK (valid_to IS NULL OR valid_to >= valid_from)
);

CREATE TABLE department (
    consortium_id  BLOB NOT NULL,
    department_id  BLOB NOT NULL,
    institution_id BLOB NOT NULL,
    -- National diagnosis-and-treatment subject code (诊疗科目), e.g. 03.01.
    subject_code   TEXT,
    name           TEXT NOT NULL,
    kind           TEXT NOT NULL,
    created_at     TEXT NOT NULL,
    PRIMARY KEY (consortium_id, department_id),
    UNIQUE (consortium_id, institution_id, name),
    FOREIGN KEY (consortium_id, institution_id) REFERENCES institution (consortium_id, institution_id)
);

CREATE TABLE staff (
    consortium_id             BLOB NOT NULL,
    staff_id                  BLOB NOT NULL,
    code                      TEXT NOT NULL,
    name                      TEXT NOT NULL,
    sex                       TEXT NOT NULL,
    resident_id               TEXT,
    category                  TEXT NOT NULL,
    -- Current title; NULL = unknown (listed by indicators, never counted). History in staff_title.
    title_level               TEXT,
    title_name                TEXT,
    practice_certificate_no   TEXT,
    practice_category         TEXT,
    practice_scope            TEXT,
    registered_institution_id BLOB,
    multi_site                INTEGER NOT NULL DEFAULT 0,
    employer_institution_id   BLOB NOT NULL,
    created_at                TEXT NOT NULL,
    updated_at                TEXT NOT NULL,
    PRIMARY KEY (consortium_id, staff_id),
    UNIQUE (consortium_id, code),
    FOREIGN KEY (consortium_id, employer_institution_id) REFERENCES institution (consortium_id, institution_id),
    FOREIGN KEY (consortium_id, registered_institution_id) REFERENCES institution (consortium_id, institution_id)
);
CREATE INDEX staff_employer ON staff (consortium_id, employer_institution_id, code);

CREATE TABLE staff_title (
    consortium_id BLOB NOT NULL,
    staff_id      BLOB NOT NULL,
    since         TEXT NOT NULL,
    level         TEXT,
    name          TEXT,
    PRIMARY KEY (consortium_id, staff_id, since),
    FOREIGN KEY (consortium_id, staff_id) REFERENCES staff (consortium_id, staff_id)
);

-- Where and when a staff member works (DESIGN.md practitioner_role; FHIR PractitionerRole).
CREATE TABLE posting (
    consortium_id  BLOB NOT NULL,
    posting_id     BLOB NOT NULL,
    staff_id       BLOB NOT NULL,
    institution_id BLOB NOT NULL,
    department_id  BLOB,
    position       TEXT,
    source         TEXT NOT NULL,
    valid_from     TEXT NOT NULL,
    valid_to       TEXT,
    created_at     TEXT NOT NULL,
    PRIMARY KEY (consortium_id, posting_id),
    FOREIGN KEY (consortium_id, staff_id) REFERENCES staff (consortium_id, staff_id),
    FOREIGN KEY (consortium_id, institution_id) REFERENCES institution (consortium_id, institution_id),
    FOREIGN KEY (consortium_id, department_id) REFERENCES department (consortium_id, department_id),
    CHECK (valid_to IS NULL OR valid_to >= valid_from)
);
CREATE INDEX posting_staff ON posting (consortium_id, staff_id, valid_from);
CREATE INDEX posting_institution ON posting (consortium_id, institution_id, staff_id);

CREATE TABLE household (
    consortium_id BLOB NOT NULL,
    household_id  BLOB NOT NULL,
    village_code  TEXT NOT NULL,
    address       TEXT NOT NULL,
    PRIMARY KEY (consortium_id, household_id)
);

-- Residents' health records (居民健康档案, WS 365), kept by the managing grassroots site.
CREATE TABLE health_record (
    consortium_id           BLOB NOT NULL,
    health_record_id        BLOB NOT NULL,
    -- 健康档案编号: 12-digit village code + 5-digit serial.
    record_no               TEXT NOT NULL,
    household_id            BLOB,
    -- Relation to the household head, GB/T 4761 code (02 = the head, 10 = spouse, 20 = son...).
    household_relation      TEXT,
    name                    TEXT NOT NULL,
    sex                     TEXT NOT NULL,
    birth_date              TEXT NOT NULL,
    resident_id             TEXT,
    -- Whether resident_id was recorded as a legacy 15-digit number and converted.
    resident_id_from_15     INTEGER NOT NULL DEFAULT 0,
    phone                   TEXT,
    village_code            TEXT NOT NULL,
    address                 TEXT NOT NULL,
    managing_institution_id BLOB NOT NULL,
    created_at              TEXT NOT NULL,
    PRIMARY KEY (consortium_id, health_record_id),
    UNIQUE (consortium_id, record_no),
    FOREIGN KEY (consortium_id, household_id) REFERENCES household (consortium_id, household_id),
    FOREIGN KEY (consortium_id, managing_institution_id) REFERENCES institution (consortium_id, institution_id)
);
CREATE INDEX health_record_institution ON health_record (consortium_id, managing_institution_id, record_no);
