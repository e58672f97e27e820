-- Reading centres, continued (DESIGN.md §6.2–6.3): the catalogue of orderable items (with the
-- mutual-recognition columns), producers' quality control, report versions, the specimen chain,
-- critical values, recognition decisions, and notifications about exam orders.

-- What a grassroots site may order, at the county's uniform price. `recognition_kind` set =
-- a recognisable item (结果互认), with its validity window and scope.
CREATE TABLE exam_item (
    consortium_id    UUID NOT NULL REFERENCES consortium (consortium_id),
    code             TEXT NOT NULL,
    name             TEXT NOT NULL,
    kind             TEXT NOT NULL,
    modality         TEXT,
    body_part        TEXT,
    price_fen        BIGINT NOT NULL CHECK (price_fen >= 0),
    recognition_kind TEXT CHECK (recognition_kind IN ('exam', 'lab')),
    validity_days    BIGINT CHECK (validity_days > 0),
    scope            TEXT CHECK (scope IN ('consortium', 'prefecture', 'province')),
    active           BOOLEAN NOT NULL DEFAULT TRUE,
    PRIMARY KEY (consortium_id, code)
);

-- Quality control of a recognisable item per producing institution (lab or imaging centre).
CREATE TABLE recognition_qc (
    consortium_id           UUID NOT NULL,
    code                    TEXT NOT NULL,
    producer_institution_id UUID NOT NULL,
    status                  TEXT NOT NULL CHECK (status IN ('passed', 'failed')),
    valid_until             DATE NOT NULL,
    updated_at              TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (consortium_id, code, producer_institution_id),
    FOREIGN KEY (consortium_id, code) REFERENCES exam_item (consortium_id, code),
    FOREIGN KEY (consortium_id, producer_institution_id) REFERENCES institution (consortium_id, institution_id)
);

ALTER TABLE exam_order ADD COLUMN item_code TEXT;
-- The institution whose centre read the item (the producer, for recognition).
ALTER TABLE exam_order ADD COLUMN reading_institution_id UUID;
-- The current report carries the HR mark.
ALTER TABLE exam_order ADD COLUMN hr BOOLEAN NOT NULL DEFAULT FALSE;
-- Latest report version (0: none yet).
ALTER TABLE exam_order ADD COLUMN report_version INTEGER NOT NULL DEFAULT 0;
-- Latest specimen step (lab orders).
ALTER TABLE exam_order ADD COLUMN specimen_step TEXT;
ALTER TABLE exam_order ADD COLUMN cancel_reason TEXT;
-- A reader's own items.
CREATE INDEX exam_reader ON exam_order (consortium_id, reader_user_id, state) WHERE reader_user_id IS NOT NULL;
-- Prior results of an item for a patient (recognition), and turnaround by month.
CREATE INDEX exam_prior ON exam_order (consortium_id, item_code, patient_record_id, final_at);
-- The reading metrics: one scan of this index counts a period (it holds every column they read).
CREATE INDEX exam_metrics ON exam_order (consortium_id, received_at, centre, urgency, state,
    ordering_institution_id, due_at, preliminary_at, final_at) WHERE received_at IS NOT NULL;

-- Report versions, append-only: preliminary, final, then amendments (each with its reason).
-- The signature is the platform's SM2 signature over the SM3 hash of the canonical content.
CREATE TABLE exam_report (
    consortium_id   UUID NOT NULL,
    order_id        UUID NOT NULL,
    version         INTEGER NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('preliminary', 'final', 'amended')),
    content         TEXT NOT NULL,
    critical        BOOLEAN NOT NULL,
    hr              BOOLEAN NOT NULL,
    author_user_id  UUID NOT NULL,
    author_staff_id UUID,
    author_name     TEXT NOT NULL,
    institution_id  UUID,
    reason          TEXT,
    content_hash    TEXT NOT NULL,
    signature       TEXT NOT NULL,
    signed_at       TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (consortium_id, order_id, version),
    FOREIGN KEY (consortium_id, order_id) REFERENCES exam_order (consortium_id, order_id)
);

-- The specimen's chain, one row per step.
CREATE TABLE specimen_event (
    consortium_id  UUID NOT NULL,
    order_id       UUID NOT NULL,
    seq            INTEGER NOT NULL,
    step           TEXT NOT NULL,
    place          TEXT NOT NULL,
    user_id        UUID,
    institution_id UUID,
    reason         TEXT,
    temperature    TEXT,
    occurred_at    TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (consortium_id, order_id, seq),
    FOREIGN KEY (consortium_id, order_id) REFERENCES exam_order (consortium_id, order_id)
);

-- A critical value (危急值) flagged on an exam item.
CREATE TABLE critical_value (
    consortium_id           UUID NOT NULL,
    critical_id             UUID NOT NULL,
    order_id                UUID NOT NULL,
    ordering_institution_id UUID NOT NULL,
    state                   TEXT NOT NULL,
    version                 INTEGER NOT NULL,
    finding                 TEXT NOT NULL,
    identified_by           UUID NOT NULL,
    identified_at           TIMESTAMPTZ NOT NULL,
    notified_at             TIMESTAMPTZ,
    acknowledged_at         TIMESTAMPTZ,
    acknowledged_by         UUID,
    acknowledged_name       TEXT,
    read_back               TEXT,
    disposition             TEXT,
    disposition_note        TEXT,
    disposed_at             TIMESTAMPTZ,
    closed_at               TIMESTAMPTZ,
    escalated_at            TIMESTAMPTZ,
    PRIMARY KEY (consortium_id, critical_id),
    FOREIGN KEY (consortium_id, order_id) REFERENCES exam_order (consortium_id, order_id),
    FOREIGN KEY (consortium_id, ordering_institution_id) REFERENCES institution (consortium_id, institution_id)
);
CREATE INDEX critical_open ON critical_value (consortium_id, state, identified_at);
CREATE INDEX critical_site ON critical_value (consortium_id, ordering_institution_id, state);
CREATE INDEX critical_order ON critical_value (consortium_id, order_id);

-- The doctor's decision at the recognition prompt.
CREATE TABLE recognition_decision (
    consortium_id     UUID NOT NULL,
    decision_id       UUID NOT NULL,
    code              TEXT NOT NULL,
    patient_record_id UUID NOT NULL,
    prior_order_id    UUID NOT NULL,
    institution_id    UUID NOT NULL,
    user_id           UUID NOT NULL,
    recognised        BOOLEAN NOT NULL,
    ground            TEXT,
    ground_text       TEXT,
    price_fen         BIGINT NOT NULL,
    new_order_id      UUID,
    decided_at        TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (consortium_id, decision_id),
    FOREIGN KEY (consortium_id, code) REFERENCES exam_item (consortium_id, code),
    FOREIGN KEY (consortium_id, prior_order_id) REFERENCES exam_order (consortium_id, order_id),
    FOREIGN KEY (consortium_id, institution_id) REFERENCES institution (consortium_id, institution_id)
);
CREATE INDEX recognition_month ON recognition_decision (consortium_id, decided_at, institution_id);

-- Notifications about an exam order (report back, critical value).
ALTER TABLE notification ADD COLUMN order_id UUID;
