-- +goose Up
-- Outreach (issue 18): the postal partner (agency kind post_office) files applications at its
-- offices and, with social protection, submits leads: people its postmen surveyed who may need
-- care. A lead holds a person's data and is kept only with their consent to be contacted
-- (152-FZ): the consent and its date are required. The phone is sealed like every phone.
ALTER TABLE agencies DROP CONSTRAINT agencies_kind_check;
ALTER TABLE agencies ADD CONSTRAINT agencies_kind_check
    CHECK (kind IN ('mfc', 'health', 'guardianship', 'facility', 'social_protection', 'post_office'));

CREATE TABLE leads (
    id             uuid PRIMARY KEY,
    seq            bigint GENERATED ALWAYS AS IDENTITY,
    full_name      text NOT NULL CHECK (length(full_name) BETWEEN 1 AND 200),
    birth_date     date NOT NULL,
    -- address and phone, sealed with AES-GCM (store/seal.go)
    personal       bytea NOT NULL,
    -- the survey's answers (no identifying data)
    answers        jsonb NOT NULL,
    need_score     integer NOT NULL CHECK (need_score >= 0),
    consent_on     date NOT NULL,
    source         text NOT NULL CHECK (length(source) BETWEEN 1 AND 200),
    state          text NOT NULL CHECK (state IN ('new', 'contacted', 'declined', 'converting', 'converted')),
    note           text NOT NULL DEFAULT '',
    submitted_by   text NOT NULL,
    submitter_kind text NOT NULL,
    case_id        uuid REFERENCES cases (id),
    created_at     timestamptz NOT NULL,
    updated_at     timestamptz NOT NULL,
    CHECK ((state = 'converted') = (case_id IS NOT NULL))
);
-- the triage queue: the neediest first, then the oldest
CREATE INDEX leads_queue ON leads (state, need_score DESC, seq);
CREATE INDEX leads_submitter ON leads (submitted_by, seq DESC);

-- +goose Down
DROP TABLE leads;
DELETE FROM agencies WHERE kind = 'post_office';
ALTER TABLE agencies DROP CONSTRAINT agencies_kind_check;
ALTER TABLE agencies ADD CONSTRAINT agencies_kind_check
    CHECK (kind IN ('mfc', 'health', 'guardianship', 'facility', 'social_protection'));
