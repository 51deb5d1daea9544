-- +goose Up
-- The access log grows by fifty lines for every list page shown and one for every case read or
-- changed, always at the end: its time index is a BRIN (a summary per range of pages, updated
-- once per range) instead of a btree that took an insertion per line. Audit queries by time
-- are served by it as before; by actor, by (actor_id, at); by case, by (case_id, seq).
DROP INDEX access_log_at;
CREATE INDEX access_log_at ON access_log USING brin (at);

-- +goose Down
DROP INDEX access_log_at;
CREATE INDEX access_log_at ON access_log (at);
