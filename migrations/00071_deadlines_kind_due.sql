-- +goose Up
-- The center's figures read the deadlines of a period by kind and due day (the legal deadlines'
-- share met, the missed ones, the hotline's call-backs): a range of this index per kind instead
-- of every deadline ever opened, from the index alone.
CREATE INDEX deadlines_kind_due ON deadlines (kind, due_on) INCLUDE (state, due_at, closed_at, case_id);

-- +goose Down
DROP INDEX deadlines_kind_due;
