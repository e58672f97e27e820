-- Two-way referral (DESIGN.md §6.1): the referral with its slip, the append-only event trail of
-- its transitions, follow-up tasks of down-referrals, green-channel time stamps, and in-app
-- notifications (with their delivery to an outbound channel).

CREATE TABLE referral (
    consortium_id        BLOB NOT NULL REFERENCES consortium (consortium_id),
    referral_id          BLOB NOT NULL,
    -- 转诊单号, printed on the slip.
    slip_no              TEXT NOT NULL,
    direction            TEXT NOT NULL CHECK (direction IN ('upward', 'downward')),
    priority             TEXT NOT NULL CHECK (priority IN ('routine', 'urgent', 'green')),
    state                TEXT NOT NULL,
    -- Optimistic concurrency: every change increments it; a change names the version it saw.
    version              INTEGER NOT NULL,
    patient_record_id    BLOB NOT NULL,
    from_institution_id  BLOB NOT NULL,
    from_department_id   BLOB,
    from_staff_id        BLOB,
    -- The account that created it (the sending doctor hears of every step).
    from_user_id         BLOB,
    to_institution_id    BLOB,
    to_department_id     BLOB,
    external_institution TEXT,
    external_reference   TEXT,
    is_lateral           INTEGER NOT NULL DEFAULT 0,
    reason               TEXT NOT NULL,
    reason_text          TEXT,
    green_centre         TEXT,
    -- The slip's clinical content (condition, diagnoses, tests, treatment, precautions; downward
    -- details) as JSON: printed and exported, never queried.
    slip                 TEXT NOT NULL,
    certificate_class    TEXT,
    certificate_issued   TEXT,
    certificate_no       TEXT,
    consent              INTEGER NOT NULL,
    -- The up-referral a down-referral answers.
    parent_id            BLOB,
    high_risk            INTEGER NOT NULL DEFAULT 0,
    discharged_on        TEXT,
    created_at           TEXT NOT NULL,
    submitted_at         TEXT,
    sla_started_at       TEXT,
    redirects            INTEGER NOT NULL DEFAULT 0,
    accepted_at          TEXT,
    rejected_at          TEXT,
    slot_at              TEXT,
    slot_text            TEXT,
    arrived_at           TEXT,
    completed_at         TEXT,
    closed_at            TEXT,
    outcome              TEXT,
    no_down_reason       TEXT,
    closed_loop          INTEGER,
    -- When the receiver's answer or booking is due (NULL when nothing waits on the receiver).
    sla_due              TEXT,
    -- The worklist's order: priority rank (0 green, 1 urgent, 2 routine), then when the next
    -- step is due (the answer, the booking, the slot; arrival time once arrived).
    work_rank            INTEGER NOT NULL,
    work_at              TEXT NOT NULL,
    -- When the next timer (expiry, no-show) fires (NULL: none).
    timer_due            TEXT,
    updated_at           TEXT NOT NULL,
    PRIMARY KEY (consortium_id, referral_id),
    UNIQUE (consortium_id, slip_no),
    FOREIGN KEY (consortium_id, patient_record_id) REFERENCES mpi_record (consortium_id, record_id),
    FOREIGN KEY (consortium_id, from_institution_id) REFERENCES institution (consortium_id, institution_id),
    FOREIGN KEY (consortium_id, to_institution_id) REFERENCES institution (consortium_id, institution_id),
    FOREIGN KEY (consortium_id, from_department_id) REFERENCES department (consortium_id, department_id),
    FOREIGN KEY (consortium_id, to_department_id) REFERENCES department (consortium_id, department_id),
    FOREIGN KEY (consortium_id, from_staff_id) REFERENCES staff (consortium_id, staff_id),
    FOREIGN KEY (consortium_id, parent_id) REFERENCES referral (consortium_id, referral_id)
);

-- One live referral per patient record and direction.
CREATE UNIQUE INDEX referral_one_live ON referral (consortium_id, patient_record_id, direction)
    WHERE state IN ('submitted', 'accepted', 'scheduled', 'arrived', 'in_care');
-- The receiving referral centre's worklist: its open referrals by priority and deadline.
CREATE INDEX referral_inbox ON referral (consortium_id, to_institution_id, state, work_rank, work_at, referral_id);
-- What is overdue now.
CREATE INDEX referral_sla ON referral (consortium_id, to_institution_id, sla_due) WHERE sla_due IS NOT NULL;
-- The sender's list.
CREATE INDEX referral_outbox ON referral (consortium_id, from_institution_id, created_at);
-- Timers and metrics.
CREATE INDEX referral_timer ON referral (consortium_id, timer_due) WHERE timer_due IS NOT NULL;
CREATE INDEX referral_submitted ON referral (consortium_id, submitted_at);
CREATE INDEX referral_patient ON referral (consortium_id, patient_record_id);
CREATE INDEX referral_parent ON referral (consortium_id, parent_id) WHERE parent_id IS NOT NULL;

-- Every transition, append-only: who (user, staff, role, party, institution), when, why.
CREATE TABLE referral_event (
    consortium_id  BLOB NOT NULL,
    referral_id    BLOB NOT NULL,
    seq            INTEGER NOT NULL,
    transition     TEXT NOT NULL,
    from_state     TEXT NOT NULL,
    to_state       TEXT NOT NULL,
    party          TEXT NOT NULL,
    user_id        BLOB,
    staff_id       BLOB,
    role           TEXT,
    institution_id BLOB,
    occurred_at    TEXT NOT NULL,
    reason         TEXT,
    note           TEXT,
    -- What the transition recorded (department, slot, new target, outcome…) as JSON.
    payload        TEXT NOT NULL,
    PRIMARY KEY (consortium_id, referral_id, seq),
    FOREIGN KEY (consortium_id, referral_id) REFERENCES referral (consortium_id, referral_id)
);

-- The follow-up a down-referral creates at the township centre (or family-doctor team).
CREATE TABLE follow_up_task (
    consortium_id     BLOB NOT NULL,
    task_id           BLOB NOT NULL,
    referral_id       BLOB NOT NULL,
    institution_id    BLOB NOT NULL,
    patient_record_id BLOB NOT NULL,
    due_on            TEXT NOT NULL,
    high_risk         INTEGER NOT NULL,
    state             TEXT NOT NULL CHECK (state IN ('open', 'done', 'cancelled')),
    done_at           TEXT,
    done_by           BLOB,
    note              TEXT,
    created_at        TEXT NOT NULL,
    PRIMARY KEY (consortium_id, task_id),
    UNIQUE (consortium_id, referral_id),
    FOREIGN KEY (consortium_id, referral_id) REFERENCES referral (consortium_id, referral_id),
    FOREIGN KEY (consortium_id, institution_id) REFERENCES institution (consortium_id, institution_id)
);
CREATE INDEX follow_up_open ON follow_up_task (consortium_id, institution_id, state, due_on);

-- Green-channel time stamps: the latest stamp of each milestone counts; corrections are events.
CREATE TABLE green_stamp (
    consortium_id  BLOB NOT NULL,
    referral_id    BLOB NOT NULL,
    milestone      TEXT NOT NULL,
    stamped_at     TEXT NOT NULL,
    source         TEXT NOT NULL CHECK (source IN ('device', 'manual', 'derived')),
    institution_id BLOB,
    recorded_by    BLOB,
    recorded_at    TEXT NOT NULL,
    PRIMARY KEY (consortium_id, referral_id, milestone),
    FOREIGN KEY (consortium_id, referral_id) REFERENCES referral (consortium_id, referral_id)
);

-- In-app notifications: to one account, or to an institution's role (the referral centre).
-- delivered_at: handed to the outbound channel (SMS gateway…); NULL until then.
CREATE TABLE notification (
    consortium_id    BLOB NOT NULL,
    notification_id  BLOB NOT NULL,
    user_id          BLOB,
    institution_id   BLOB,
    role             TEXT,
    kind             TEXT NOT NULL,
    referral_id      BLOB,
    -- Parameters of the message (slip number, state, priority), never clinical content.
    params           TEXT NOT NULL,
    urgent           INTEGER NOT NULL DEFAULT 0,
    created_at       TEXT NOT NULL,
    read_at          TEXT,
    delivered_at     TEXT,
    PRIMARY KEY (consortium_id, notification_id),
    FOREIGN KEY (consortium_id, referral_id) REFERENCES referral (consortium_id, referral_id)
);
CREATE INDEX notification_user ON notification (consortium_id, user_id, created_at);
CREATE INDEX notification_institution ON notification (consortium_id, institution_id, role, created_at);
CREATE INDEX notification_undelivered ON notification (consortium_id, created_at) WHERE delivered_at IS NULL;
