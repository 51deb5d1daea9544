-- +goose Up
-- Everything the relatives' lookup shows comes from the number's covering index (migration
-- 00011), without a visit to the table in most states:
--   * the applicant's sex, which the wording of most states follows («проживает в учреждении» is
--     the same, «выбыла», «госпитализирована» are not), is the column applicant_female, derived
--     from the applicant by PostgreSQL itself; reading it from the table had cost two lookups in
--     three a probe of the primary key and a heap page;
--   * the timeline (migration 00065) is written compactly: six characters a stage, the state's
--     letter (case_state_code) and the Moscow day as five digits counted from 2000-01-01, with no
--     separator («a09511b09514»): about 36 bytes a case instead of 149, which keeps the index
--     about as small as it was before the timeline joined it.
-- One ALTER rewrites the table once (the column and the re-encoded timeline together); the
-- index is built once, after it. At a million cases this takes about a minute (docs/OPERATIONS.md).

-- +goose StatementBegin
CREATE FUNCTION case_state_code(s case_state) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
	SELECT CASE s
		WHEN 'intake' THEN 'a' WHEN 'collecting_documents' THEN 'b' WHEN 'under_review' THEN 'c'
		WHEN 'rejected' THEN 'd' WHEN 'waiting_list' THEN 'e' WHEN 'voucher_issued' THEN 'f'
		WHEN 'residing' THEN 'g' WHEN 'on_leave' THEN 'h' WHEN 'hospitalized' THEN 'i'
		WHEN 'transfer_pending' THEN 'j' WHEN 'discharged' THEN 'k' WHEN 'deceased' THEN 'l'
		WHEN 'withdrawn' THEN 'm' END
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION case_timeline_step(state case_state, at timestamptz) RETURNS text LANGUAGE sql STABLE PARALLEL SAFE AS $$
	SELECT case_state_code(state) || lpad(((at AT TIME ZONE 'Europe/Moscow')::date - date '2000-01-01')::text, 5, '0')
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE OR REPLACE FUNCTION case_timeline_add(timeline text, state text, at timestamptz) RETURNS text
LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
DECLARE
	step text := case_timeline_step(state::case_state, at);
	out text := '';
BEGIN
	FOR i IN 0 .. length(timeline) / 6 - 1 LOOP
		IF substr(timeline, 6 * i + 1, 1) <> left(step, 1) THEN
			out := out || substr(timeline, 6 * i + 1, 6);
		END IF;
	END LOOP;
	RETURN out || step;
END
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION pg_temp.timeline_compact(t text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
	SELECT coalesce(string_agg(case_state_code(split_part(e, ' ', 1)::case_state)
		|| lpad((split_part(e, ' ', 2)::date - date '2000-01-01')::text, 5, '0'), '' ORDER BY i), '')
	FROM unnest(string_to_array(nullif(t, ''), ',')) WITH ORDINALITY AS x(e, i)
$$;
-- +goose StatementEnd

-- the insert trigger names the column: it goes while the column is rewritten (as 00065 made it)
DROP TRIGGER cases_timeline_insert ON cases;
ALTER TABLE cases DROP CONSTRAINT cases_number_key;
ALTER TABLE cases ALTER COLUMN timeline TYPE text USING pg_temp.timeline_compact(timeline),
  ADD COLUMN applicant_female boolean GENERATED ALWAYS AS ((applicant->>'gender') = 'female') STORED;
ALTER TABLE cases ADD CONSTRAINT cases_number_key UNIQUE (number)
  INCLUDE (id, state, state_entered_at, access_code_hash, applicant_female, timeline);
CREATE TRIGGER cases_timeline_insert BEFORE INSERT ON cases FOR EACH ROW WHEN (NEW.timeline = '')
	EXECUTE FUNCTION cases_timeline();

-- +goose Down
-- +goose StatementBegin
CREATE FUNCTION pg_temp.timeline_long(t text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
	SELECT coalesce(string_agg((SELECT s FROM unnest(enum_range(NULL::case_state)) s WHERE case_state_code(s) = left(e, 1))::text
		|| ' ' || to_char(date '2000-01-01' + substr(e, 2)::int, 'YYYY-MM-DD'), ',' ORDER BY i), '')
	FROM (SELECT substr(t, 6 * i + 1, 6) AS e, i FROM generate_series(0, length(t) / 6 - 1) AS i) x
$$;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION case_timeline_add(timeline text, state text, at timestamptz) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE AS $$
	SELECT concat_ws(',',
		nullif(array_to_string(array(SELECT e FROM unnest(string_to_array(timeline, ',')) WITH ORDINALITY AS t(e, i)
			WHERE split_part(e, ' ', 1) <> state ORDER BY i), ','), ''),
		state || ' ' || to_char(at AT TIME ZONE 'Europe/Moscow', 'YYYY-MM-DD'))
$$;
-- +goose StatementEnd
DROP TRIGGER cases_timeline_insert ON cases;
ALTER TABLE cases DROP CONSTRAINT cases_number_key;
ALTER TABLE cases DROP COLUMN applicant_female,
  ALTER COLUMN timeline TYPE text USING pg_temp.timeline_long(timeline);
ALTER TABLE cases ADD CONSTRAINT cases_number_key UNIQUE (number)
  INCLUDE (id, state, state_entered_at, access_code_hash, timeline);
CREATE TRIGGER cases_timeline_insert BEFORE INSERT ON cases FOR EACH ROW WHEN (NEW.timeline = '')
	EXECUTE FUNCTION cases_timeline();
DROP FUNCTION case_timeline_step(case_state, timestamptz);
DROP FUNCTION case_state_code(case_state);
