-- +goose Up
-- The hotline's contact log (issue 18): every call, visit, letter or message, with or without a
-- case. The caller's phone is personal data: it is sealed like SNILS (store/seal.go) and found
-- through a keyed blind index (HMAC-SHA256 of the E.164 number, PHONE_INDEX_KEY), never in plain
-- text.
CREATE TABLE contacts (
    id                uuid PRIMARY KEY,
    seq               bigint GENERATED ALWAYS AS IDENTITY,
    case_id           uuid REFERENCES cases (id),
    channel           text NOT NULL CHECK (channel IN ('phone', 'visit', 'letter', 'email', 'online', 'messenger')),
    direction         text NOT NULL CHECK (direction IN ('inbound', 'outbound')),
    party             text NOT NULL CHECK (party IN ('applicant', 'relative', 'representative', 'agency', 'resident', 'other')),
    topic             text NOT NULL CHECK (topic IN ('status', 'documents', 'waiting_list', 'voucher', 'move', 'residence',
                          'complaint', 'contact_resident', 'other')),
    caller_name       text NOT NULL DEFAULT '' CHECK (length(caller_name) <= 200),
    -- sealed with AES-GCM; NULL when no phone was given
    caller_phone      bytea,
    -- HMAC-SHA256(PHONE_INDEX_KEY, E.164 number), for search
    phone_key         bytea,
    question          text NOT NULL DEFAULT '',
    answer            text NOT NULL DEFAULT '',
    follow_up_due     date,
    follow_up_done_at timestamptz,
    -- the earlier contact whose promised call-back this one is
    follow_up_of      uuid REFERENCES contacts (id),
    taken_by          text NOT NULL,
    taken_by_name     text NOT NULL DEFAULT '',
    created_at        timestamptz NOT NULL,
    CHECK (follow_up_done_at IS NULL OR follow_up_due IS NOT NULL),
    CHECK ((caller_phone IS NULL) = (phone_key IS NULL))
);
-- a case's contacts, newest first; every contact newest first; the open call-backs soonest first
CREATE INDEX contacts_case_seq ON contacts (case_id, seq DESC) WHERE case_id IS NOT NULL;
CREATE INDEX contacts_seq ON contacts (seq DESC);
CREATE INDEX contacts_follow_up_open ON contacts (follow_up_due, seq) WHERE follow_up_due IS NOT NULL AND follow_up_done_at IS NULL;
CREATE INDEX contacts_phone_key ON contacts (phone_key, seq DESC) WHERE phone_key IS NOT NULL;

-- A promised call-back on a case is a deadline like the others (domain/deadline.go).
ALTER TYPE deadline_kind ADD VALUE 'contact_follow_up';

-- +goose Down
-- An enum value cannot be dropped: contact_follow_up stays in deadline_kind, unused.
DELETE FROM deadlines WHERE kind::text = 'contact_follow_up';
DROP TABLE contacts;
