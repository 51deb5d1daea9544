-- +goose Up
-- The access log without per-case locks (issue 21). Until now each case's lines were chained
-- under a per-case advisory lock, so readers of the same case queued behind each other. From
-- here on each writer (one process, from its start) appends the lines of reads to a chain of
-- its own, in batches that one goroutine of the process commits (store.AccessLog): no request
-- waits for another request's case. A change's line goes with the change, in its statement. The lines written before stay in their per-case chains (writer_id NULL) and
-- are verified as such; `carepath audit verify` walks both kinds.

-- A writer: the process that appends to one chain. Rows are only added.
CREATE TABLE access_writers (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    host       text NOT NULL,
    pid        integer NOT NULL,
    started_at timestamptz NOT NULL
);
CREATE TRIGGER access_writers_append_only BEFORE UPDATE OR DELETE ON access_writers
    FOR EACH ROW EXECUTE FUNCTION forbid_change();

-- NULL: a line of the per-case chains of before. 0: the line of a change, written by the
-- change's own statement and chained per case like the history (seq is the case's version
-- after the change; the case row's version serialises them, so no lock is needed). Otherwise
-- the writer, and seq the line's place in its chain. No foreign key: it would lock the
-- writer's row for every line (verify reports lines of a writer that does not exist).
ALTER TABLE access_log ADD COLUMN writer_id bigint;
ALTER TABLE access_log DROP CONSTRAINT access_log_case_id_seq_key;
CREATE UNIQUE INDEX access_log_case_seq ON access_log (case_id, seq) WHERE writer_id IS NULL;
CREATE UNIQUE INDEX access_log_change_seq ON access_log (case_id, seq) WHERE writer_id = 0;
CREATE UNIQUE INDEX access_log_writer_seq ON access_log (writer_id, seq) WHERE writer_id > 0;
-- the admins' queries by case, newest first, for lines of both kinds
CREATE INDEX access_log_case_id ON access_log (case_id, id);

-- +goose Down
-- +goose StatementBegin
DO $$
BEGIN
    IF EXISTS (SELECT FROM access_log WHERE writer_id IS NOT NULL) THEN
        RAISE EXCEPTION 'the access log holds lines of writers'' chains; they cannot go back into per-case chains';
    END IF;
END;
$$;
-- +goose StatementEnd
DROP INDEX access_log_case_id;
DROP INDEX access_log_writer_seq;
DROP INDEX access_log_change_seq;
DROP INDEX access_log_case_seq;
ALTER TABLE access_log ADD CONSTRAINT access_log_case_id_seq_key UNIQUE (case_id, seq);
ALTER TABLE access_log DROP COLUMN writer_id;
DROP TABLE access_writers;
