-- +goose Up
-- The wait estimate (issue 17) counts the admissions of the last 12 months by list segment: the
-- status lookup's snapshot reads them every few minutes by this index, never the whole history.
CREATE INDEX case_history_admits ON case_history (at) INCLUDE (case_id) WHERE event = 'admit';

-- +goose Down
DROP INDEX case_history_admits;
