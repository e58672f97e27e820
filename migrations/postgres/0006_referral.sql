-- Two-way referral (DESIGN.md §6.1): the referral with its slip, the append-only event trail of
-- its transitions, follow-up tasks of down-referrals, green-channel time stamps, and in-app
-- notifications (with their delivery to an outbound channel).

CREATE TABLE referral (
    consortium_id        UUID NOT NULL REFERENCES consortium (consortium_id),
    referral_id          UUID NOT NULL,
    -- 转诊单号, printed on the slip.
    slip_no              TEXT NOT NULL,
    direction            TEXT NOT NULL CHECK (direction IN ('upward', 'downward')),
    priority             TEXT NOT NULL CHECK (priority IN ('routine', 'urgent', 'green')),
    state                TEXT NOT NULL,
    -- Optimistic concurrency: every change increments it; a change names the version it saw.
    version              INTEGER NOT NULL,
    patient_record_id    UUID NOT NULL,
    from_institution_id  UUID NOT NULL,
    from_department_id   UUID,
    from_staff_id        UUID,
    -- The account that created it (the sending doctor hears of every step).
    from_user_id         UUID,
    to_institution_id    UUID,
    to_department_id     UUID,
    external_institution TEXT,
    external_reference   TEXT,
    is_lateral           BOOLEAN NOT NULL DEFAULT FALSE,
    reason               TEXT NOT NULL,
    reason_text          TEXT,
    green_centre         TEXT,
    -- The slip's clinical content (condition, diagnoses, tests, treatment, precautions; downward
    -- details) as JSON: printed and exported, never queried.
    slip                 TEXT NOT NULL,
    certificate_class    TEXT,
    certificate_issued   DATE,
    certificate_no       TEXT,
    consent              BOOLEAN NOT NULL,
    -- The up-referral a down-referral answers.
    parent_id            UUID,
    high_risk            BOOLEAN NOT NULL DEFAULT FALSE,
    discharged_on        DATE,
    created_at           TIMESTAMPTZ NOT NULL,
    submitted_at         TIMESTAMPTZ,
    sla_started_at       TIMESTAMPTZ,
    redirects            INTEGER NOT NULL DEFAULT 0,
    accepted_at          TIMESTAMPTZ,
    rejected_at          TIMESTAMPTZ,
    slot_at              TIMESTAMPTZ,
    slot_text            TEXT,
    arrived_at           TIMESTAMPTZ,
    completed_at         TIMESTAMPTZ,
    closed_at            TIMESTAMPTZ,
    outcome              TEXT,
    no_down_reason       TEXT,
    closed_loop          BOOLEAN,
    -- When the receiver's answer or booking is due (NULL when nothing waits on the receiver).
    sla_due              TIMESTAMPTZ,
    -- The worklist's order: priority rank (0 green, 1 urgent, 2 routine), then when the next
    -- step is due (the answer, the booking, the slot; arrival time once arrived).
    work_rank            INTEGER NOT NULL,
    work_at              TIMESTAMPTZ NOT NULL,
    -- When the next timer (expiry, no-show) fires (NULL: none).
    timer_due            TIMESTAMPTZ,
    updated_at           TIMESTAMPTZ NOT NULL,
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
    consortium_id  UUID NOT NULL,
    referral_id    UUID NOT NULL,
    seq            INTEGER NOT NULL,
    transition     TEXT NOT NULL,
    from_state     TEXT NOT NULL,
    to_state       TEXT NOT NULL,
    party          TEXT NOT NULL,
    user_id        UUID,
    staff_id       UUID,
    role           TEXT,
    institution_id UUID,
    occurred_at    TIMESTAMPTZ NOT NULL,
    reason         TEXT,
    note           TEXT,
    -- What the transition recorded (department, slot, new target, outcome…) as JSON.
    payload        TEXT NOT NULL,
    PRIMARY KEY (consortium_id, referral_id, seq),
    FOREIGN KEY (consortium_id, referral_id) REFERENCES referral (consortium_id, referral_id)
);

-- The follow-up a down-referral creates at the township centre (or family-doctor team).
CREATE TABLE follow_up_task (
    consortium_id     UUID NOT NULL,
    task_id           UUID NOT NULL,
    referral_id       UUID NOT NULL,
    institution_id    UUID NOT NULL,
    patient_record_id UUID NOT NULL,
    due_on            DATE NOT NULL,
    high_risk         BOOLEAN NOT NULL,
    state             TEXT NOT NULL CHECK (state IN ('open', 'done', 'cancelled')),
    done_at           TIMESTAMPTZ,
    done_by           UUID,
    note              TEXT,
    created_at        TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (consortium_id, task_id),
    UNIQUE (consortium_id, referral_id),
    FOREIGN KEY (consortium_id, referral_id) REFERENCES referral (consortium_id, referral_id),
    FOREIGN KEY (consortium_id, institution_id) REFERENCES institution (consortium_id, institution_id)
);
CREATE INDEX follow_up_open ON follow_up_task (consortium_id, institution_id, state, due_on);

-- Green-channel time stamps: the latest stamp of each milestone counts; corrections are events.
CREATE TABLE green_stamp (
    consortium_id  UUID NOT NULL,
    referral_id    UUID NOT NULL,
    milestone      TEXT NOT NULL,
    stamped_at     TIMESTAMPTZ NOT NULL,
    source         TEXT NOT NULL CHECK (source IN ('device', 'manual', 'derived')),
    institution_id UUID,
    recorded_by    UUID,
    recorded_at    TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (consortium_id, referral_id, milestone),
    FOREIGN KEY (consortium_id, referral_id) REFERENCES referral (consortium_id, referral_id)
);

-- In-app notifications: to one account, or to an institution's role (the referral centre).
-- delivered_at: handed to the outbound channel (SMS gateway…); NULL until then.
CREATE TABLE notification (
    consortium_id    UUID NOT NULL,
    notification_id  UUID NOT NULL,
    user_id          UUID,
    institution_id   UUID,
    role             TEXT,
    kind             TEXT NOT NULL,
    referral_id      UUID,
    -- Parameters of the message (slip number, state, priority), never clinical content.
    params           TEXT NOT NULL,
    urgent           BOOLEAN NOT NULL DEFAULT FALSE,
    created_at       TIMESTAMPTZ NOT NULL,
    read_at          TIMESTAMPTZ,
    delivered_at     TIMESTAMPTZ,
    PRIMARY KEY (consortium_id, notification_id),
    FOREIGN KEY (consortium_id, referral_id) REFERENCES referral (consortium_id, referral_id)
);
CREATE INDEX notification_user ON notification (consortium_id, user_id, created_at);
CREATE INDEX notification_institution ON notification (consortium_id, institution_id, role, created_at);
CREATE INDEX notification_undelivered ON notification (consortium_id, created_at) WHERE delivered_at IS NULL;
