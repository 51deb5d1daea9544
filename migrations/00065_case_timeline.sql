-- +goose Up
-- The stages a case has passed, for the relatives' status page: each state the case has entered,
-- once, on the (Moscow) day it last entered it, in that order: "intake 2026-08-21,
-- collecting_documents 2026-08-24". It is derived from the history (its changes of state) and
-- kept beside the case by the triggers below, so that the status lookup reads it from the
-- number's covering index instead of probing the history for every lookup: that probe cost
-- about as much database time as the rest of the lookup. Each state appears once, so the value
-- stays short (at most one entry per state) however often a resident goes on leave or to hospital.
ALTER TABLE cases ADD COLUMN timeline text NOT NULL DEFAULT '';

-- +goose StatementBegin
CREATE FUNCTION case_timeline_add(timeline text, state text, at timestamptz) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE AS $$
	SELECT concat_ws(',',
		nullif(array_to_string(array(SELECT e FROM unnest(string_to_array(timeline, ',')) WITH ORDINALITY AS t(e, i)
			WHERE split_part(e, ' ', 1) <> state ORDER BY i), ','), ''),
		state || ' ' || to_char(at AT TIME ZONE 'Europe/Moscow', 'YYYY-MM-DD'))
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION cases_timeline() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP = 'INSERT' THEN
		NEW.timeline := case_timeline_add('', NEW.state::text, NEW.state_entered_at);
	ELSE
		NEW.timeline := case_timeline_add(OLD.timeline, NEW.state::text, NEW.state_entered_at);
	END IF;
	RETURN NEW;
END
$$;
-- +goose StatementEnd

-- A row inserted with its timeline (the bulk generator computes it from the history it writes)
-- keeps it; an update calls the function only when the state changes.
CREATE TRIGGER cases_timeline_insert BEFORE INSERT ON cases FOR EACH ROW WHEN (NEW.timeline = '')
	EXECUTE FUNCTION cases_timeline();
CREATE TRIGGER cases_timeline_update BEFORE UPDATE OF state ON cases FOR EACH ROW WHEN (OLD.state IS DISTINCT FROM NEW.state)
	EXECUTE FUNCTION cases_timeline();

UPDATE cases c SET timeline = coalesce((
	SELECT string_agg(s.to_state || ' ' || to_char(s.at AT TIME ZONE 'Europe/Moscow', 'YYYY-MM-DD'), ',' ORDER BY s.version)
	FROM (SELECT DISTINCT ON (h.to_state) h.to_state, h.at, h.version FROM case_history h
		WHERE h.case_id = c.id AND h.to_state <> h.from_state ORDER BY h.to_state, h.version DESC) s), '');

ALTER TABLE cases DROP CONSTRAINT cases_number_key,
  ADD CONSTRAINT cases_number_key UNIQUE (number) INCLUDE (id, state, state_entered_at, access_code_hash, timeline);

-- +goose Down
ALTER TABLE cases DROP CONSTRAINT cases_number_key,
  ADD CONSTRAINT cases_number_key UNIQUE (number) INCLUDE (id, state, state_entered_at, access_code_hash);
DROP TRIGGER cases_timeline_update ON cases;
DROP TRIGGER cases_timeline_insert ON cases;
DROP FUNCTION cases_timeline();
DROP FUNCTION case_timeline_add(text, text, timestamptz);
ALTER TABLE cases DROP COLUMN timeline;
