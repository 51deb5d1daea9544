-- +goose Up
-- The waiting list by priority (issue 17): a priority category per case (from a table admins
-- manage), then the date the need was recognised, then the case number. The list's order is
-- kept on the case row (priority_rank, recognized_at) so that one index serves every read.
-- recognized_at is set when a case first enters the waiting list and never moves afterwards:
-- a cancelled or expired voucher, or a declined offer, brings the person back with their
-- original date.
CREATE TABLE priority_categories (
    code       text PRIMARY KEY CHECK (code ~ '^[a-z0-9_]{1,40}$'),
    rank       integer NOT NULL CHECK (rank BETWEEN 1 AND 1000),
    title      text NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    -- the shipped defaults are assumptions (the law's list is regional): a region confirms them
    assumption boolean NOT NULL DEFAULT false
);
INSERT INTO priority_categories (code, rank, title, assumption) VALUES
    ('out_of_turn', 10, 'Внеочередное право', true),
    ('first_turn', 20, 'Первоочередное право', true),
    ('urgent_social', 30, 'Неотложный социальный случай', true),
    ('general', 100, 'Общая очередь', true);

ALTER TABLE cases
    ADD COLUMN priority_rank integer NOT NULL DEFAULT 100,
    ADD COLUMN recognized_at timestamptz;
UPDATE cases c SET recognized_at = coalesce(
    (SELECT min(h.at) FROM case_history h WHERE h.case_id = c.id AND h.to_state = 'waiting_list'), c.state_entered_at)
WHERE c.state IN ('waiting_list', 'voucher_issued', 'residing', 'on_leave', 'hospitalized', 'transfer_pending', 'discharged', 'deceased')
    OR EXISTS (SELECT 1 FROM case_history h WHERE h.case_id = c.id AND h.to_state = 'waiting_list');

-- +goose StatementBegin
CREATE FUNCTION cases_recognized_at() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.recognized_at := NEW.state_entered_at;
    RETURN NEW;
END;
$$;
-- +goose StatementEnd
-- only when a case enters the list without a date: the WHEN keeps it off every other write
CREATE TRIGGER cases_recognized_at BEFORE INSERT OR UPDATE ON cases
    FOR EACH ROW WHEN (NEW.state = 'waiting_list' AND NEW.recognized_at IS NULL) EXECUTE FUNCTION cases_recognized_at();

DROP INDEX cases_waiting_order;
CREATE INDEX cases_waiting_order ON cases (facility_type, priority_rank, recognized_at, seq) INCLUDE (id) WHERE state = 'waiting_list';

-- A case's placement: its priority, the section traits it needs besides its sex, and its
-- preferences (none: any home of the type).
CREATE TABLE placements (
    case_id      uuid PRIMARY KEY REFERENCES cases (id),
    priority     text NOT NULL REFERENCES priority_categories (code),
    bedridden    boolean NOT NULL DEFAULT false,
    districts    text[] NOT NULL DEFAULT '{}',
    facility_ids uuid[] NOT NULL DEFAULT '{}',
    -- offers the applicant refused, and whether a specialist must review the case (issue 17)
    refusals     integer NOT NULL DEFAULT 0 CHECK (refusals >= 0),
    review       boolean NOT NULL DEFAULT false,
    updated_at   timestamptz NOT NULL DEFAULT now()
);

-- +goose Down
DROP TABLE placements;
DROP INDEX cases_waiting_order;
CREATE INDEX cases_waiting_order ON cases (facility_type, state_entered_at, seq) INCLUDE (id) WHERE state = 'waiting_list';
DROP TRIGGER cases_recognized_at ON cases;
DROP FUNCTION cases_recognized_at();
ALTER TABLE cases DROP COLUMN priority_rank, DROP COLUMN recognized_at;
DROP TABLE priority_categories;
