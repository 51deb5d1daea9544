-- +goose Up
-- Who may see what: credentials of specialists and partner agencies, the agencies' webhook
-- settings, the hash chains of history and access log, and the relatives' lookup lockout.

-- Bearer tokens of specialists: only a SHA-256 hash is kept, the token is shown once.
CREATE TABLE user_tokens (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id    uuid NOT NULL REFERENCES users (id),
    token_hash text NOT NULL UNIQUE CHECK (length(token_hash) = 64),
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    revoked_at timestamptz
);
CREATE INDEX user_tokens_user ON user_tokens (user_id);

-- API keys of partner agencies. A rotation adds a key and gives the others an expiry (the grace
-- period), so old and new both work until the partner has switched.
CREATE TABLE agency_keys (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    agency_id  uuid NOT NULL REFERENCES agencies (id),
    key_hash   text NOT NULL UNIQUE CHECK (length(key_hash) = 64),
    created_at timestamptz NOT NULL DEFAULT now(),
    -- NULL: valid until the next rotation
    expires_at timestamptz,
    revoked_at timestamptz
);
CREATE INDEX agency_keys_agency ON agency_keys (agency_id);

-- Webhook settings the notices worker delivers to: URL and secret exist since 00001; the
-- happenings the agency wants (empty: every happening its kind hears of, domain.md "Who is told
-- what").
ALTER TABLE agencies ADD COLUMN webhook_happenings text[] NOT NULL DEFAULT '{}';
ALTER TABLE agencies ADD COLUMN disabled_at timestamptz;

-- The service center that filed a case is a party to it.
ALTER TABLE cases ADD COLUMN filed_by_agency_id uuid REFERENCES agencies (id);
-- An agency's list: its cases by each relation, newest first.
CREATE INDEX cases_health_org_seq ON cases (health_org_id, seq DESC) WHERE health_org_id IS NOT NULL;
CREATE INDEX cases_guardianship_seq ON cases (guardianship_id, seq DESC) WHERE guardianship_id IS NOT NULL;
CREATE INDEX cases_facility_seq ON cases (facility_id, seq DESC) WHERE facility_id IS NOT NULL;
CREATE INDEX cases_voucher_facility_seq ON cases (voucher_facility_id, seq DESC) WHERE voucher_facility_id IS NOT NULL;
CREATE INDEX cases_filed_by_seq ON cases (filed_by_agency_id, seq DESC) WHERE filed_by_agency_id IS NOT NULL;
-- The waiting list in its order (entry, then registration): positions are counted index-only.
CREATE INDEX cases_waiting_order ON cases (facility_type, state_entered_at, seq) WHERE state = 'waiting_list';
DROP INDEX cases_waiting;

-- History lines are chained per case: hash = SHA-256(prev_hash, the line's fields), computed by
-- the store in the case's transaction. Empty hash: a line written before this migration or by a
-- bulk load, until `carepath audit seal` adopts it.
ALTER TABLE case_history ADD COLUMN prev_hash text NOT NULL DEFAULT '';
ALTER TABLE case_history ADD COLUMN hash text NOT NULL DEFAULT '';
-- Still append-only, with one exception: the sealing transaction (carepath.sealing = on) may
-- fill in the hash of a line that has none, and change nothing else.
-- +goose StatementBegin
CREATE FUNCTION case_history_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.hash = '' AND current_setting('carepath.sealing', true) = 'on'
       AND (NEW.case_id, NEW.version, NEW.event, NEW.from_state, NEW.to_state, NEW.actor_id, NEW.actor_name,
            NEW.actor_role, NEW.comment, NEW.payload, NEW.at)
           IS NOT DISTINCT FROM (OLD.case_id, OLD.version, OLD.event, OLD.from_state, OLD.to_state, OLD.actor_id,
            OLD.actor_name, OLD.actor_role, OLD.comment, OLD.payload, OLD.at) THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME;
END;
$$;
-- +goose StatementEnd
DROP TRIGGER case_history_append_only ON case_history;
CREATE TRIGGER case_history_append_only BEFORE UPDATE OR DELETE ON case_history
    FOR EACH ROW EXECUTE FUNCTION case_history_guard();

-- Every read or change of a case's personal data by a specialist or an agency. Append-only and
-- chained per case like the history.
CREATE TABLE access_log (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    case_id    uuid NOT NULL REFERENCES cases (id),
    -- position in the case's chain, gapless from 1
    seq        integer NOT NULL CHECK (seq > 0),
    actor_id   text NOT NULL,
    actor_name text NOT NULL DEFAULT '',
    actor_kind text NOT NULL CHECK (actor_kind IN ('user', 'agency', 'system')),
    role       text NOT NULL,
    method     text NOT NULL,
    route      text NOT NULL,
    request_id text NOT NULL DEFAULT '',
    at         timestamptz NOT NULL,
    prev_hash  text NOT NULL,
    hash       text NOT NULL CHECK (length(hash) = 64),
    UNIQUE (case_id, seq)
);
CREATE INDEX access_log_at ON access_log (at);
CREATE INDEX access_log_actor_at ON access_log (actor_id, at);
CREATE TRIGGER access_log_append_only BEFORE UPDATE OR DELETE ON access_log
    FOR EACH ROW EXECUTE FUNCTION forbid_change();

-- Failed relatives' lookups, counted per case number ("n:KC-…") and per client address
-- ("a:203.0.113.7") in a window that starts with the first failure. Kept in Postgres, not Redis:
-- a lost counter would reopen guessing, and the lookup reads it in the same round trip as the case.
CREATE TABLE status_failures (
    key          text PRIMARY KEY,
    failures     integer NOT NULL CHECK (failures > 0),
    window_start timestamptz NOT NULL
);

-- +goose Down
DROP TABLE status_failures;
DROP TABLE access_log;
DROP TRIGGER case_history_append_only ON case_history;
CREATE TRIGGER case_history_append_only BEFORE UPDATE OR DELETE ON case_history
    FOR EACH ROW EXECUTE FUNCTION forbid_change();
DROP FUNCTION case_history_guard();
ALTER TABLE case_history DROP COLUMN hash;
ALTER TABLE case_history DROP COLUMN prev_hash;
CREATE INDEX cases_waiting ON cases (facility_type, state_entered_at) WHERE state = 'waiting_list';
DROP INDEX cases_waiting_order;
DROP INDEX cases_filed_by_seq;
DROP INDEX cases_voucher_facility_seq;
DROP INDEX cases_facility_seq;
DROP INDEX cases_guardianship_seq;
DROP INDEX cases_health_org_seq;
ALTER TABLE cases DROP COLUMN filed_by_agency_id;
ALTER TABLE agencies DROP COLUMN disabled_at;
ALTER TABLE agencies DROP COLUMN webhook_happenings;
DROP TABLE agency_keys;
DROP TABLE user_tokens;
