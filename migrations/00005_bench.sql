-- +goose Up
-- The case list (GET /api/v1/cases) at a million cases. Case rows are wide (checklist JSON), so a
-- filter the index cannot answer costs a heap page per row it looks at. The list therefore picks
-- the page's seqs with an index-only scan over narrow covering indexes, then fetches only those
-- rows (store/cases.go List). See docs/BENCHMARKS.md.
DROP INDEX cases_state_seq;
CREATE INDEX cases_state_seq ON cases (state, seq DESC) INCLUDE (facility_type, assignee_id, next_due_at);
DROP INDEX cases_facility_type_seq;
CREATE INDEX cases_facility_type_seq ON cases (facility_type, seq DESC) INCLUDE (state, assignee_id, next_due_at);
DROP INDEX cases_assignee_seq;
CREATE INDEX cases_assignee_seq ON cases (assignee_id, seq DESC) INCLUDE (state, facility_type, next_due_at)
    WHERE assignee_id IS NOT NULL;
-- newest first with the overdue and name filters checked in the index: a common name or the
-- overdue list stops after a few thousand entries; a rare name goes through the trigram index
CREATE INDEX cases_list_seq ON cases (seq DESC) INCLUDE (next_due_at, applicant_name);

-- +goose Down
DROP INDEX cases_list_seq;
DROP INDEX cases_assignee_seq;
CREATE INDEX cases_assignee_seq ON cases (assignee_id, seq DESC) WHERE assignee_id IS NOT NULL;
DROP INDEX cases_facility_type_seq;
CREATE INDEX cases_facility_type_seq ON cases (facility_type, seq DESC);
DROP INDEX cases_state_seq;
CREATE INDEX cases_state_seq ON cases (state, seq DESC);
