-- Referral metrics are counted by the database: one index holds every column a measure reads,
-- in order of submission, so a year's counts read the index and never the referrals' slips.
-- It replaces the plain index on submission time, whose columns it begins with.
DROP INDEX referral_submitted;
CREATE INDEX referral_metrics ON referral (
    consortium_id, submitted_at, updated_at, direction, priority, green_centre, state,
    from_institution_id, to_institution_id, accepted_at, rejected_at, arrived_at, completed_at,
    closed_at, closed_loop, sla_due, referral_id
);

-- The receiving centre's worklist counts read priority and deadline from its index, so that the
-- metrics index above, which covers them too, is never preferred for a worklist.
DROP INDEX referral_inbox;
CREATE INDEX referral_inbox ON referral (
    consortium_id, to_institution_id, state, work_rank, work_at, referral_id, priority, sla_due
);

-- Escalations and overdue follow-ups are announced once: the notifications of a referral are
-- found by it.
CREATE INDEX notification_referral ON notification (consortium_id, referral_id, kind) WHERE referral_id IS NOT NULL;
-- An unread green page is escalated once its acknowledgement time has passed.
CREATE INDEX notification_unread ON notification (consortium_id, kind, created_at) WHERE read_at IS NULL;
-- Overdue follow-ups are found by their due day.
CREATE INDEX follow_up_due ON follow_up_task (consortium_id, due_on) WHERE state = 'open';
