-- +goose Up
-- Notices: the transactional outbox and each notice's delivery log in one table. The command
-- that causes a notice writes its row in the case's transaction; the worker's relay hands due
-- rows to the queue and the delivery handler records every attempt here. Redis only carries
-- doorbells: whatever it loses, these rows still say what is owed.
CREATE TABLE notices (
    -- derived from the idempotency key (a name-based UUID), so the key is as unique as the id
    id              uuid PRIMARY KEY,
    case_id         uuid NOT NULL REFERENCES cases (id),
    happening       text NOT NULL CHECK (length(happening) BETWEEN 1 AND 100),
    audience        text NOT NULL CHECK (audience IN ('relative', 'representative', 'guardianship', 'health',
                        'facility', 'specialist', 'supervisor')),
    channel         text NOT NULL CHECK (channel IN ('sms', 'email', 'webhook')),
    -- a phone number, an e-mail address, an agency id or a user id, by channel and audience
    recipient       text NOT NULL CHECK (length(recipient) BETWEEN 1 AND 300),
    template        text NOT NULL,
    data            jsonb NOT NULL DEFAULT '{}',
    -- the same for every attempt: receivers drop repeats by it
    idempotency_key text NOT NULL,
    status          text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sending', 'delivered', 'failed', 'dead')),
    attempts        integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    manual_retries  integer NOT NULL DEFAULT 0 CHECK (manual_retries >= 0),
    last_error      text NOT NULL DEFAULT '',
    -- not before this instant (quiet hours for SMS)
    not_before      timestamptz NOT NULL,
    -- when the next attempt is due (not_before, then the backoff after each failure)
    next_attempt_at timestamptz NOT NULL,
    -- the relay handed the notice to the queue and will not hand it again before this instant
    enqueued_until  timestamptz,
    -- a delivery handler holds the notice until this instant; a worker that dies lets it lapse
    locked_until    timestamptz,
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    delivered_at    timestamptz,
    CHECK ((status = 'delivered') = (delivered_at IS NOT NULL))
);
CREATE INDEX notices_case ON notices (case_id, created_at DESC);
-- the relay's and the metrics' queries read only what is still owed
CREATE INDEX notices_owed ON notices (next_attempt_at) WHERE status IN ('pending', 'failed', 'sending');

-- Reminders: each open deadline carries the instant of its next reminder stage, so a scan reads
-- only the deadlines due for one (by this index), never all open cases.
ALTER TABLE deadlines ADD COLUMN remind_at timestamptz;
CREATE INDEX deadlines_remind ON deadlines (remind_at) WHERE state = 'open' AND remind_at IS NOT NULL;

-- +goose Down
DROP INDEX deadlines_remind;
ALTER TABLE deadlines DROP COLUMN remind_at;
DROP TABLE notices;
