-- +goose Up
-- The stale-home reminder (issue 17): a home that has not reported its beds for
-- BED_REPORT_MAX_DAYS is stale, and its agency is reminded through the outbox once per staleness
-- episode. An episode is the report the home stands on: its last one (reported_at), or none yet
-- ('-infinity'). The reminder scan locks the stale homes not yet reminded of their episode (FOR
-- NO KEY UPDATE SKIP LOCKED), writes their notices (subject_kind 'facility') and records the
-- episode here in the same transaction, so a second scanner passes them by and a new report that
-- goes stale again is reminded again. NULL: never reminded.
ALTER TABLE facilities ADD COLUMN stale_reminded_for timestamptz;

-- +goose Down
DELETE FROM notices WHERE subject_kind = 'facility';
ALTER TABLE facilities DROP COLUMN stale_reminded_for;
