-- +goose Up
-- Deadlines and notices about something that is not a case (issue 18): a call-back promised to
-- a caller who has no case, a lead nobody has triaged. Such a deadline has no case: what it
-- watches is its kind and ref (contact_follow_up: the contact's id; lead_triage: the lead's id),
-- and the reminder scan reminds and escalates it like every other. Its notices name their
-- subject (subject_kind, subject_id) instead of a case. They are written by the same scan, in
-- the same transaction that moves the deadline's reminder stage on, with the same
-- idempotency key scheme, and delivered from the same outbox: nothing else changes.
ALTER TABLE notices ALTER COLUMN case_id DROP NOT NULL,
    ADD COLUMN subject_kind text CHECK (length(subject_kind) BETWEEN 1 AND 40),
    ADD COLUMN subject_id uuid,
    ADD CONSTRAINT notices_subject CHECK ((subject_kind IS NULL) = (subject_id IS NULL)
        AND (case_id IS NOT NULL OR subject_id IS NOT NULL));
CREATE INDEX notices_subject ON notices (subject_kind, subject_id, created_at DESC) WHERE subject_id IS NOT NULL;

ALTER TABLE deadlines ALTER COLUMN case_id DROP NOT NULL,
    ADD CONSTRAINT deadlines_case_or_subject CHECK (case_id IS NOT NULL OR kind::text IN ('contact_follow_up', 'lead_triage'));
-- one open deadline per kind and ref among those without a case (deadlines_one_open keeps the
-- rule for those with one: NULL case ids are distinct there)
CREATE UNIQUE INDEX deadlines_one_open_without_case ON deadlines (kind, ref) WHERE state = 'open' AND case_id IS NULL;

-- A lead still new after LEAD_TRIAGE_DAYS: the supervisors are reminded.
ALTER TYPE deadline_kind ADD VALUE IF NOT EXISTS 'lead_triage';

-- +goose Down
-- An enum value cannot be dropped: lead_triage stays in deadline_kind, unused.
DELETE FROM deadlines WHERE case_id IS NULL;
ALTER TABLE deadlines DROP CONSTRAINT deadlines_case_or_subject;
DROP INDEX deadlines_one_open_without_case;
ALTER TABLE deadlines ALTER COLUMN case_id SET NOT NULL;
DELETE FROM notices WHERE case_id IS NULL;
DROP INDEX notices_subject;
ALTER TABLE notices DROP CONSTRAINT notices_subject, DROP COLUMN subject_kind, DROP COLUMN subject_id;
ALTER TABLE notices ALTER COLUMN case_id SET NOT NULL;
