-- +goose Up
-- The system of record for cases: every constraint here holds on its own, whatever the code does.
CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE TABLE agencies (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name           text NOT NULL CHECK (length(name) BETWEEN 1 AND 300),
    kind           text NOT NULL CHECK (kind IN ('mfc', 'health', 'guardianship', 'facility', 'social_protection')),
    webhook_url    text NOT NULL DEFAULT '',
    webhook_secret text NOT NULL DEFAULT '',
    created_at     timestamptz NOT NULL DEFAULT now(),
    UNIQUE (kind, name)
);

CREATE TABLE facilities (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name       text NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 300),
    type       text NOT NULL CHECK (type IN ('elderly_disabled', 'psychoneurological', 'veterans')),
    capacity   integer NOT NULL CHECK (capacity >= 0),
    -- beds occupied by residents or reserved by vouchers; never more than there are
    taken      integer NOT NULL DEFAULT 0 CHECK (taken >= 0 AND taken <= capacity),
    agency_id  uuid REFERENCES agencies (id),
    created_at timestamptz NOT NULL DEFAULT now()
);

-- Case numbers are sequential per year and never reused.
CREATE TABLE case_numbers (
    year integer PRIMARY KEY CHECK (year BETWEEN 2000 AND 9999),
    last integer NOT NULL CHECK (last BETWEEN 1 AND 999999)
);

CREATE TABLE cases (
    id                  uuid PRIMARY KEY,
    seq                 bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
    number              text NOT NULL UNIQUE CHECK (number ~ '^KC-[0-9]{4}-[0-9]{6}$'),
    state               text NOT NULL CHECK (state IN ('intake', 'collecting_documents', 'under_review', 'rejected',
                            'waiting_list', 'voucher_issued', 'residing', 'on_leave', 'hospitalized',
                            'transfer_pending', 'discharged', 'deceased', 'withdrawn')),
    version             integer NOT NULL CHECK (version > 0),
    channel             text NOT NULL CHECK (channel IN ('mfc', 'hotline', 'online', 'post_office', 'outreach')),
    facility_type       text NOT NULL CHECK (facility_type IN ('elderly_disabled', 'psychoneurological', 'veterans')),
    applicant_name      text NOT NULL,
    legal_capacity      text NOT NULL CHECK (legal_capacity IN ('capable', 'limited', 'incapacitated')),
    -- birth date, gender, disability group: not secret
    applicant           jsonb NOT NULL,
    -- SNILS, passport and address, sealed with AES-GCM (store/seal.go)
    personal            bytea NOT NULL,
    contacts            jsonb NOT NULL DEFAULT '[]',
    health_org_id       uuid REFERENCES agencies (id),
    guardianship_id     uuid REFERENCES agencies (id),
    facility_id         uuid REFERENCES facilities (id),
    voucher_facility_id uuid REFERENCES facilities (id),
    voucher_valid_until date,
    leave_return_by     date,
    ippsu_number        text,
    ippsu_date          date,
    assignee_id         uuid,
    checklist           jsonb NOT NULL,
    access_code_hash    text NOT NULL,
    -- the earliest due time of the case's open deadlines, kept with them for the overdue filter
    next_due_at         timestamptz,
    state_entered_at    timestamptz NOT NULL,
    created_at          timestamptz NOT NULL,
    updated_at          timestamptz NOT NULL,
    CHECK ((ippsu_number IS NULL) = (ippsu_date IS NULL)),
    CHECK (state <> 'voucher_issued' OR voucher_facility_id IS NOT NULL)
);
CREATE INDEX cases_state_seq ON cases (state, seq DESC);
CREATE INDEX cases_facility_type_seq ON cases (facility_type, seq DESC);
CREATE INDEX cases_assignee_seq ON cases (assignee_id, seq DESC) WHERE assignee_id IS NOT NULL;
CREATE INDEX cases_next_due ON cases (next_due_at) WHERE next_due_at IS NOT NULL;
CREATE INDEX cases_applicant_name_trgm ON cases USING gin (applicant_name gin_trgm_ops);
-- the waiting list: position by facility type in order of entry
CREATE INDEX cases_waiting ON cases (facility_type, state_entered_at) WHERE state = 'waiting_list';

CREATE TABLE case_history (
    case_id    uuid NOT NULL REFERENCES cases (id),
    version    integer NOT NULL CHECK (version > 0),
    event      text NOT NULL,
    from_state text NOT NULL DEFAULT '',
    to_state   text NOT NULL,
    actor_id   text NOT NULL,
    actor_name text NOT NULL DEFAULT '',
    actor_role text NOT NULL DEFAULT '',
    comment    text NOT NULL DEFAULT '',
    payload    jsonb NOT NULL DEFAULT '{}',
    at         timestamptz NOT NULL,
    PRIMARY KEY (case_id, version)
);

-- History is append-only: the database refuses to change or remove a line.
-- +goose StatementBegin
CREATE FUNCTION forbid_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME;
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER case_history_append_only BEFORE UPDATE OR DELETE ON case_history
    FOR EACH ROW EXECUTE FUNCTION forbid_change();

CREATE TABLE deadlines (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    case_id        uuid NOT NULL REFERENCES cases (id),
    kind           text NOT NULL CHECK (kind IN ('document_collection', 'review_decision', 'ippsu', 'voucher_admission',
                       'leave_return', 'ippsu_review', 'document_expiry', 'guardianship_notice')),
    ref            text NOT NULL DEFAULT '',
    opened_at      timestamptz NOT NULL,
    due_on         date NOT NULL,
    due_at         timestamptz NOT NULL,
    state          text NOT NULL CHECK (state IN ('open', 'met', 'missed', 'cancelled')),
    closed_at      timestamptz,
    -- how far the reminders for this deadline have gone (the notices issue)
    reminder_stage integer NOT NULL DEFAULT 0,
    CHECK ((state = 'open') = (closed_at IS NULL))
);
-- scans pick due deadlines by index: cost grows with the due ones, not with all cases
CREATE INDEX deadlines_open_due ON deadlines (due_at) WHERE state = 'open';
CREATE UNIQUE INDEX deadlines_one_open ON deadlines (case_id, kind, ref) WHERE state = 'open';

-- The production calendar's exceptional days; shipped data is loaded by `carepath migrate up`
-- and an operator adds a year with `carepath calendar import FILE`.
CREATE TABLE calendar_days (
    day  date PRIMARY KEY,
    kind text NOT NULL CHECK (kind IN ('holiday', 'workday')),
    note text NOT NULL DEFAULT '',
    CHECK ((kind = 'holiday') = (extract(isodow FROM day) < 6))
);

-- +goose Down
DROP TABLE calendar_days;
DROP TABLE deadlines;
DROP TABLE case_history;
DROP FUNCTION forbid_change();
DROP TABLE cases;
DROP TABLE case_numbers;
DROP TABLE facilities;
DROP TABLE agencies;
