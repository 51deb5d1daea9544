-- +goose Up
-- The closed lists of values that every lifecycle event writes (case state, deadline kind and
-- state, notice audience, channel and status, ...) become enum types instead of text columns
-- with CHECK (x IN (...)) constraints. The rule holds as before, but PostgreSQL checks an enum
-- when it reads the value, while a CHECK constraint's expression is read back from its stored
-- text and compiled again for every statement that writes the table: with ten such lists on
-- the tables an event writes, that was about a tenth of the database's work per event
-- (docs/BENCHMARKS.md, "Events"). Values are compared and sorted as before where it matters
-- (nothing orders by them); the application sends and reads them as text.
CREATE TYPE case_state AS ENUM ('intake', 'collecting_documents', 'under_review', 'rejected', 'waiting_list',
    'voucher_issued', 'residing', 'on_leave', 'hospitalized', 'transfer_pending', 'discharged', 'deceased', 'withdrawn');
CREATE TYPE intake_channel AS ENUM ('mfc', 'hotline', 'online', 'post_office', 'outreach');
CREATE TYPE facility_type AS ENUM ('elderly_disabled', 'psychoneurological', 'veterans');
CREATE TYPE legal_capacity AS ENUM ('capable', 'limited', 'incapacitated');
CREATE TYPE deadline_kind AS ENUM ('document_collection', 'review_decision', 'ippsu', 'voucher_admission',
    'leave_return', 'ippsu_review', 'document_expiry', 'guardianship_notice');
CREATE TYPE deadline_state AS ENUM ('open', 'met', 'missed', 'cancelled');
CREATE TYPE notice_audience AS ENUM ('relative', 'representative', 'guardianship', 'health', 'facility', 'specialist', 'supervisor');
CREATE TYPE notice_channel AS ENUM ('sms', 'email', 'webhook');
CREATE TYPE notice_status AS ENUM ('pending', 'sending', 'delivered', 'failed', 'dead');
CREATE TYPE actor_kind AS ENUM ('user', 'agency', 'system');

-- cases: the partial index and the check that name a state are made again for the new type
DROP INDEX cases_waiting_order;
ALTER TABLE cases DROP CONSTRAINT cases_state_check, DROP CONSTRAINT cases_channel_check,
    DROP CONSTRAINT cases_facility_type_check, DROP CONSTRAINT cases_legal_capacity_check,
    DROP CONSTRAINT cases_check1;
ALTER TABLE cases
    ALTER COLUMN state TYPE case_state USING state::case_state,
    ALTER COLUMN channel TYPE intake_channel USING channel::intake_channel,
    ALTER COLUMN facility_type TYPE facility_type USING facility_type::facility_type,
    ALTER COLUMN legal_capacity TYPE legal_capacity USING legal_capacity::legal_capacity;
ALTER TABLE cases ADD CONSTRAINT cases_voucher_facility CHECK (state <> 'voucher_issued' OR voucher_facility_id IS NOT NULL);
CREATE INDEX cases_waiting_order ON cases (facility_type, state_entered_at, seq) WHERE state = 'waiting_list';

DROP INDEX deadlines_open_due;
DROP INDEX deadlines_one_open;
DROP INDEX deadlines_remind;
ALTER TABLE deadlines DROP CONSTRAINT deadlines_kind_check, DROP CONSTRAINT deadlines_state_check,
    DROP CONSTRAINT deadlines_check;
ALTER TABLE deadlines
    ALTER COLUMN kind TYPE deadline_kind USING kind::deadline_kind,
    ALTER COLUMN state TYPE deadline_state USING state::deadline_state;
ALTER TABLE deadlines ADD CONSTRAINT deadlines_closed_when_not_open CHECK ((state = 'open') = (closed_at IS NULL));
CREATE INDEX deadlines_open_due ON deadlines (due_at) WHERE state = 'open';
CREATE UNIQUE INDEX deadlines_one_open ON deadlines (case_id, kind, ref) WHERE state = 'open';
CREATE INDEX deadlines_remind ON deadlines (remind_at) WHERE state = 'open' AND remind_at IS NOT NULL;

DROP INDEX notices_owed;
ALTER TABLE notices DROP CONSTRAINT notices_audience_check, DROP CONSTRAINT notices_channel_check,
    DROP CONSTRAINT notices_status_check, DROP CONSTRAINT notices_check;
ALTER TABLE notices ALTER COLUMN status DROP DEFAULT;
ALTER TABLE notices
    ALTER COLUMN audience TYPE notice_audience USING audience::notice_audience,
    ALTER COLUMN channel TYPE notice_channel USING channel::notice_channel,
    ALTER COLUMN status TYPE notice_status USING status::notice_status;
ALTER TABLE notices ALTER COLUMN status SET DEFAULT 'pending';
ALTER TABLE notices ADD CONSTRAINT notices_delivered_at CHECK ((status = 'delivered') = (delivered_at IS NOT NULL));
CREATE INDEX notices_owed ON notices (next_attempt_at) WHERE status IN ('pending', 'failed', 'sending');

ALTER TABLE access_log DROP CONSTRAINT access_log_actor_kind_check;
ALTER TABLE access_log ALTER COLUMN actor_kind TYPE actor_kind USING actor_kind::actor_kind;

-- +goose Down
ALTER TABLE access_log ALTER COLUMN actor_kind TYPE text;
ALTER TABLE access_log ADD CONSTRAINT access_log_actor_kind_check CHECK (actor_kind IN ('user', 'agency', 'system'));

DROP INDEX notices_owed;
ALTER TABLE notices DROP CONSTRAINT notices_delivered_at;
ALTER TABLE notices ALTER COLUMN status DROP DEFAULT;
ALTER TABLE notices ALTER COLUMN audience TYPE text, ALTER COLUMN channel TYPE text, ALTER COLUMN status TYPE text;
ALTER TABLE notices ALTER COLUMN status SET DEFAULT 'pending';
ALTER TABLE notices
    ADD CONSTRAINT notices_audience_check CHECK (audience IN ('relative', 'representative', 'guardianship', 'health', 'facility', 'specialist', 'supervisor')),
    ADD CONSTRAINT notices_channel_check CHECK (channel IN ('sms', 'email', 'webhook')),
    ADD CONSTRAINT notices_status_check CHECK (status IN ('pending', 'sending', 'delivered', 'failed', 'dead')),
    ADD CONSTRAINT notices_check CHECK ((status = 'delivered') = (delivered_at IS NOT NULL));
CREATE INDEX notices_owed ON notices (next_attempt_at) WHERE status IN ('pending', 'failed', 'sending');

DROP INDEX deadlines_open_due;
DROP INDEX deadlines_one_open;
DROP INDEX deadlines_remind;
ALTER TABLE deadlines DROP CONSTRAINT deadlines_closed_when_not_open;
ALTER TABLE deadlines ALTER COLUMN kind TYPE text, ALTER COLUMN state TYPE text;
ALTER TABLE deadlines
    ADD CONSTRAINT deadlines_kind_check CHECK (kind IN ('document_collection', 'review_decision', 'ippsu', 'voucher_admission',
        'leave_return', 'ippsu_review', 'document_expiry', 'guardianship_notice')),
    ADD CONSTRAINT deadlines_state_check CHECK (state IN ('open', 'met', 'missed', 'cancelled')),
    ADD CONSTRAINT deadlines_check CHECK ((state = 'open') = (closed_at IS NULL));
CREATE INDEX deadlines_open_due ON deadlines (due_at) WHERE state = 'open';
CREATE UNIQUE INDEX deadlines_one_open ON deadlines (case_id, kind, ref) WHERE state = 'open';
CREATE INDEX deadlines_remind ON deadlines (remind_at) WHERE state = 'open' AND remind_at IS NOT NULL;

DROP INDEX cases_waiting_order;
ALTER TABLE cases DROP CONSTRAINT cases_voucher_facility;
ALTER TABLE cases ALTER COLUMN state TYPE text, ALTER COLUMN channel TYPE text, ALTER COLUMN facility_type TYPE text,
    ALTER COLUMN legal_capacity TYPE text;
ALTER TABLE cases
    ADD CONSTRAINT cases_state_check CHECK (state IN ('intake', 'collecting_documents', 'under_review', 'rejected', 'waiting_list',
        'voucher_issued', 'residing', 'on_leave', 'hospitalized', 'transfer_pending', 'discharged', 'deceased', 'withdrawn')),
    ADD CONSTRAINT cases_channel_check CHECK (channel IN ('mfc', 'hotline', 'online', 'post_office', 'outreach')),
    ADD CONSTRAINT cases_facility_type_check CHECK (facility_type IN ('elderly_disabled', 'psychoneurological', 'veterans')),
    ADD CONSTRAINT cases_legal_capacity_check CHECK (legal_capacity IN ('capable', 'limited', 'incapacitated')),
    ADD CONSTRAINT cases_check1 CHECK (state <> 'voucher_issued' OR voucher_facility_id IS NOT NULL);
CREATE INDEX cases_waiting_order ON cases (facility_type, state_entered_at, seq) WHERE state = 'waiting_list';

DROP TYPE actor_kind, notice_status, notice_channel, notice_audience, deadline_state, deadline_kind, legal_capacity,
    facility_type, intake_channel, case_state;
