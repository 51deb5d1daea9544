-- +goose Up
-- Reaching a resident (issue 18): a relative's request to get in touch with someone who lives in
-- a home. The home hears of it through the outbox; its answer is watched by a contact_request
-- deadline. The relative's phone is sealed like every phone (store/seal.go).
CREATE TABLE contact_requests (
    id          uuid PRIMARY KEY,
    case_id     uuid NOT NULL REFERENCES cases (id),
    facility_id uuid NOT NULL REFERENCES facilities (id),
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    relation    text NOT NULL CHECK (length(relation) BETWEEN 1 AND 100),
    phone       bytea NOT NULL,
    message     text NOT NULL DEFAULT '',
    state       text NOT NULL CHECK (state IN ('open', 'done')),
    due_on      date NOT NULL,
    outcome     text CHECK (outcome IN ('reached', 'declined', 'unreachable')),
    note        text NOT NULL DEFAULT '',
    created_by  text NOT NULL,
    created_at  timestamptz NOT NULL,
    done_by     text,
    done_at     timestamptz,
    CHECK ((state = 'done') = (done_at IS NOT NULL AND outcome IS NOT NULL))
);
CREATE INDEX contact_requests_case ON contact_requests (case_id, created_at DESC);
CREATE INDEX contact_requests_open ON contact_requests (due_on) WHERE state = 'open';

ALTER TYPE deadline_kind ADD VALUE 'contact_request';

-- +goose Down
DELETE FROM deadlines WHERE kind::text = 'contact_request';
DROP TABLE contact_requests;
