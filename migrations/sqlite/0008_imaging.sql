-- Examination at the grassroots, diagnosis at the county (DESIGN.md §6.2): the exam orders of
-- the reading centres with their event trail, the DICOM nodes allowed to send, and the
-- study / series / instance index of the images received (the objects themselves are files).

-- A DICOM node (a modality, a township's gateway) allowed to store over DIMSE, by AE title,
-- and the institution its images come from.
CREATE TABLE dicom_node (
    consortium_id  BLOB NOT NULL REFERENCES consortium (consortium_id),
    ae_title       TEXT NOT NULL,
    institution_id BLOB NOT NULL,
    description    TEXT NOT NULL DEFAULT '',
    created_at     TEXT NOT NULL,
    PRIMARY KEY (consortium_id, ae_title),
    FOREIGN KEY (consortium_id, institution_id) REFERENCES institution (consortium_id, institution_id)
);

-- One exam item ordered at a grassroots site and read at a county centre.
CREATE TABLE exam_order (
    consortium_id           BLOB NOT NULL REFERENCES consortium (consortium_id),
    order_id                BLOB NOT NULL,
    -- Accession number: links the images (0008,0050) and the specimen barcode to the order.
    accession_no            TEXT NOT NULL,
    patient_record_id       BLOB NOT NULL,
    ordering_institution_id BLOB NOT NULL,
    ordering_user_id        BLOB,
    centre                  TEXT NOT NULL CHECK (centre IN ('imaging', 'ecg', 'lab', 'pathology')),
    kind                    TEXT NOT NULL,
    modality                TEXT,
    body_part               TEXT,
    item_name               TEXT NOT NULL,
    urgency                 TEXT NOT NULL,
    question                TEXT NOT NULL,
    is_head                 INTEGER NOT NULL DEFAULT 0,
    is_complex              INTEGER NOT NULL DEFAULT 0,
    state                   TEXT NOT NULL,
    version                 INTEGER NOT NULL,
    -- The reader who holds the claim, and until when.
    reader_user_id          BLOB,
    lease_until             TEXT,
    received_at             TEXT,
    -- When the report the turnaround limit counts is due (set on receipt).
    due_at                  TEXT,
    preliminary_at          TEXT,
    final_at                TEXT,
    delivered_at            TEXT,
    -- Worklist order: urgency rank (0 green … 4 physical exam), then due_at.
    work_rank               INTEGER NOT NULL,
    created_at              TEXT NOT NULL,
    updated_at              TEXT NOT NULL,
    PRIMARY KEY (consortium_id, order_id),
    UNIQUE (consortium_id, accession_no),
    FOREIGN KEY (consortium_id, patient_record_id) REFERENCES mpi_record (consortium_id, record_id),
    FOREIGN KEY (consortium_id, ordering_institution_id) REFERENCES institution (consortium_id, institution_id)
);
-- A centre's worklist: its open items by urgency and deadline.
CREATE INDEX exam_worklist ON exam_order (consortium_id, centre, state, work_rank, due_at, order_id);
-- The ordering site's list.
CREATE INDEX exam_origin ON exam_order (consortium_id, ordering_institution_id, created_at);
CREATE INDEX exam_patient ON exam_order (consortium_id, patient_record_id);

-- Every transition of an exam item, append-only.
CREATE TABLE exam_event (
    consortium_id  BLOB NOT NULL,
    order_id       BLOB NOT NULL,
    seq            INTEGER NOT NULL,
    transition     TEXT NOT NULL,
    from_state     TEXT NOT NULL,
    to_state       TEXT NOT NULL,
    party          TEXT NOT NULL,
    user_id        BLOB,
    role           TEXT,
    institution_id BLOB,
    occurred_at    TEXT NOT NULL,
    reason         TEXT,
    payload        TEXT NOT NULL,
    PRIMARY KEY (consortium_id, order_id, seq),
    FOREIGN KEY (consortium_id, order_id) REFERENCES exam_order (consortium_id, order_id)
);

-- Studies received. Patient attributes are kept as received (names decoded to UTF-8) and the
-- study is matched to its order (accession number) and to the patient index (a record).
CREATE TABLE dicom_study (
    consortium_id       BLOB NOT NULL REFERENCES consortium (consortium_id),
    study_uid           TEXT NOT NULL,
    order_id            BLOB,
    patient_record_id   BLOB,
    source_institution_id BLOB,
    patient_id          TEXT NOT NULL,
    patient_name        TEXT NOT NULL,
    birth_date          TEXT NOT NULL,
    sex                 TEXT NOT NULL,
    accession_no        TEXT NOT NULL,
    study_date          TEXT NOT NULL,
    study_time          TEXT NOT NULL,
    description         TEXT NOT NULL,
    study_id            TEXT NOT NULL,
    referring_physician TEXT NOT NULL,
    -- Modalities in the study, `\`-separated.
    modalities          TEXT NOT NULL,
    series_count        INTEGER NOT NULL,
    instance_count      INTEGER NOT NULL,
    created_at          TEXT NOT NULL,
    updated_at          TEXT NOT NULL,
    PRIMARY KEY (consortium_id, study_uid),
    FOREIGN KEY (consortium_id, order_id) REFERENCES exam_order (consortium_id, order_id),
    FOREIGN KEY (consortium_id, patient_record_id) REFERENCES mpi_record (consortium_id, record_id),
    FOREIGN KEY (consortium_id, source_institution_id) REFERENCES institution (consortium_id, institution_id)
);
CREATE INDEX dicom_study_patient ON dicom_study (consortium_id, patient_id);
CREATE INDEX dicom_study_accession ON dicom_study (consortium_id, accession_no);
CREATE INDEX dicom_study_date ON dicom_study (consortium_id, study_date, study_uid);
CREATE INDEX dicom_study_order ON dicom_study (consortium_id, order_id) WHERE order_id IS NOT NULL;

CREATE TABLE dicom_series (
    consortium_id  BLOB NOT NULL,
    series_uid     TEXT NOT NULL,
    study_uid      TEXT NOT NULL,
    modality       TEXT NOT NULL,
    series_number  INTEGER,
    description    TEXT NOT NULL,
    body_part      TEXT NOT NULL,
    instance_count INTEGER NOT NULL,
    PRIMARY KEY (consortium_id, series_uid),
    FOREIGN KEY (consortium_id, study_uid) REFERENCES dicom_study (consortium_id, study_uid)
);
CREATE INDEX dicom_series_study ON dicom_series (consortium_id, study_uid);

CREATE TABLE dicom_instance (
    consortium_id    BLOB NOT NULL,
    sop_instance_uid TEXT NOT NULL,
    series_uid       TEXT NOT NULL,
    study_uid        TEXT NOT NULL,
    sop_class_uid    TEXT NOT NULL,
    instance_number  INTEGER,
    transfer_syntax  TEXT NOT NULL,
    frames           INTEGER,
    rows_count       INTEGER,
    columns_count    INTEGER,
    character_set    TEXT NOT NULL,
    -- The Part 10 file, relative to the object store's root.
    path             TEXT NOT NULL,
    size_bytes       INTEGER NOT NULL,
    -- `dimse` or `stow`, and the sender (AE title or account).
    received_via     TEXT NOT NULL CHECK (received_via IN ('dimse', 'stow')),
    sender           TEXT NOT NULL,
    received_at      TEXT NOT NULL,
    PRIMARY KEY (consortium_id, sop_instance_uid),
    FOREIGN KEY (consortium_id, series_uid) REFERENCES dicom_series (consortium_id, series_uid)
);
CREATE INDEX dicom_instance_series ON dicom_instance (consortium_id, series_uid, instance_number);
CREATE INDEX dicom_instance_study ON dicom_instance (consortium_id, study_uid);
