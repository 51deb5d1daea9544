-- +goose Up
-- "Overdue in a state" is read by this index when the state has few overdue cases (store
-- Cases.List, dueCap): the newest-first scan of (state, seq) had to walk every case of the state
-- to find them (all 200,000 of a terminal state that has none). It takes the place of
-- cases_next_due, which no query used (pg_stat_user_indexes after the benchmarks: 0 scans), so
-- a case's update still writes as many index entries as before.
DROP INDEX cases_next_due;
CREATE INDEX cases_state_due ON cases (state, next_due_at) INCLUDE (seq) WHERE next_due_at IS NOT NULL;

-- +goose Down
DROP INDEX cases_state_due;
CREATE INDEX cases_next_due ON cases (next_due_at) WHERE next_due_at IS NOT NULL;
