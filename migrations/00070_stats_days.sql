-- +goose Up
-- The center's figures that would otherwise read the whole history on every call (issue 19):
-- the days per stage (median, 90th percentile), the wait from recognition to voucher and the
-- applications by month. They are kept by day, as histograms, by the database itself as the
-- history and the cases are written, so that a period's figures read a few hundred thousand
-- narrow rows instead of every history line (docs/BENCHMARKS.md, "The center's figures").
-- A percentile of whole days taken from a histogram of whole days is exact. The definitions
-- live in one place, the view stats_history_stays, which the triggers, the rebuild and the
-- test (store/statsdays_test.go: the histograms equal the computation from the history) read.

-- stats_stage names the stage a change of state leaves forward; NULL for any other change.
-- +goose StatementBegin
CREATE FUNCTION stats_stage(from_state text, to_state text) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE
        WHEN from_state = 'collecting_documents' AND to_state = 'under_review' THEN 'document_collection'
        WHEN from_state = 'under_review' AND to_state IN ('waiting_list', 'rejected') THEN 'review'
        WHEN from_state = 'waiting_list' AND to_state = 'voucher_issued' THEN 'waiting'
        WHEN from_state = 'voucher_issued' AND to_state = 'residing' THEN 'voucher_to_admission'
    END
$$;
-- +goose StatementEnd

-- Every stay a history line ends, with the Moscow day it ended and its length in days: a stay
-- in a stage runs from the change of state that entered it (the case's previous change of
-- state) to the change that leaves it forward; the wait from recognition
-- (recognition_to_voucher) runs from the first entry to the waiting list before a voucher
-- issued from the list to that voucher. Lines that change no state (documents, placement) are
-- not changes of state. A filter on case_id is pushed below the window (it is the partition).
CREATE VIEW stats_history_stays AS
SELECT x.case_id, x.version, x.day, s.stage, s.days
FROM (SELECT h.case_id, h.version, (h.at AT TIME ZONE 'Europe/Moscow')::date AS day,
        stats_stage(h.from_state, h.to_state) AS stage,
        (h.at AT TIME ZONE 'Europe/Moscow')::date - (lag(h.at) OVER w AT TIME ZONE 'Europe/Moscow')::date AS stage_days,
        CASE WHEN h.event = 'issue_voucher' AND h.from_state = 'waiting_list' THEN
            (h.at AT TIME ZONE 'Europe/Moscow')::date - (min(h.at) FILTER (WHERE h.to_state = 'waiting_list')
                OVER (w ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AT TIME ZONE 'Europe/Moscow')::date
        END AS wait_days
    FROM case_history h
    WHERE h.from_state <> h.to_state
    WINDOW w AS (PARTITION BY h.case_id ORDER BY h.version)) x
CROSS JOIN LATERAL (VALUES (x.stage, x.stage_days), ('recognition_to_voucher', x.wait_days)) AS s (stage, days)
WHERE s.stage IS NOT NULL AND s.days IS NOT NULL;

-- The stays by the day they ended, stage, the case's type of home (now) and length.
CREATE TABLE stats_stays (
    day           date NOT NULL,
    stage         text NOT NULL CHECK (stage IN ('document_collection', 'review', 'waiting', 'voucher_to_admission',
                      'recognition_to_voucher')),
    facility_type facility_type NOT NULL,
    days          integer NOT NULL,
    stays         integer NOT NULL,
    PRIMARY KEY (day, stage, facility_type, days)
);

-- The applications by the (Moscow) day of registration, type of home (now) and channel.
CREATE TABLE stats_applications (
    day           date NOT NULL,
    facility_type facility_type NOT NULL,
    channel       intake_channel NOT NULL,
    applications  integer NOT NULL,
    PRIMARY KEY (day, facility_type, channel)
);

-- stats_stays_add adds (sign 1) or takes away (sign -1) the stays that a case's history lines
-- from_version..to_version end, under a type of home. Rows are locked in key order.
-- +goose StatementBegin
CREATE FUNCTION stats_stays_add(case_id uuid, from_version integer, to_version integer, ft facility_type, sign integer)
RETURNS void LANGUAGE sql AS $$
    INSERT INTO stats_stays AS t (day, stage, facility_type, days, stays)
    SELECT s.day, s.stage, ft, s.days, sign * count(*) FROM stats_history_stays s
    WHERE s.case_id = stats_stays_add.case_id AND s.version BETWEEN from_version AND to_version
    GROUP BY s.day, s.stage, s.days ORDER BY s.day, s.stage, s.days
    ON CONFLICT (day, stage, facility_type, days) DO UPDATE SET stays = t.stays + EXCLUDED.stays
$$;
-- +goose StatementEnd

-- stats_applications_add counts a registration in (sign 1) or out (sign -1).
-- +goose StatementBegin
CREATE FUNCTION stats_applications_add(created_at timestamptz, ft facility_type, channel intake_channel, sign integer)
RETURNS void LANGUAGE sql AS $$
    INSERT INTO stats_applications AS t (day, facility_type, channel, applications)
    VALUES ((created_at AT TIME ZONE 'Europe/Moscow')::date, ft, channel, sign)
    ON CONFLICT (day, facility_type, channel) DO UPDATE SET applications = t.applications + EXCLUDED.applications
$$;
-- +goose StatementEnd

-- A history line that ends a stay counts it under the case's type of home as the statement
-- that wrote the line left it (an AFTER trigger runs once the whole change statement is done).
-- +goose StatementBegin
CREATE FUNCTION stats_history_line() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM stats_stays_add(NEW.case_id, NEW.version, NEW.version,
        (SELECT c.facility_type FROM cases c WHERE c.id = NEW.case_id), 1);
    RETURN NULL;
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER case_history_stats AFTER INSERT ON case_history FOR EACH ROW
    WHEN (NEW.from_state <> NEW.to_state AND (stats_stage(NEW.from_state, NEW.to_state) IS NOT NULL
        OR (NEW.event = 'issue_voucher' AND NEW.from_state = 'waiting_list')))
    EXECUTE FUNCTION stats_history_line();

-- A case counts as an application when it is inserted. When its type of home changes, its
-- application and the stays its earlier lines ended move to the new type; a line the same
-- statement writes (its version is past OLD.version) is counted by the line's own trigger,
-- under the new type, whichever of the two triggers runs first.
-- +goose StatementBegin
CREATE FUNCTION stats_case_row() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        PERFORM stats_applications_add(OLD.created_at, OLD.facility_type, OLD.channel, -1);
        IF OLD.facility_type IS DISTINCT FROM NEW.facility_type THEN
            PERFORM stats_stays_add(OLD.id, 1, OLD.version, OLD.facility_type, -1);
            PERFORM stats_stays_add(OLD.id, 1, OLD.version, NEW.facility_type, 1);
        END IF;
    END IF;
    PERFORM stats_applications_add(NEW.created_at, NEW.facility_type, NEW.channel, 1);
    RETURN NULL;
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER cases_stats_insert AFTER INSERT ON cases FOR EACH ROW EXECUTE FUNCTION stats_case_row();
CREATE TRIGGER cases_stats_update AFTER UPDATE OF facility_type, channel, created_at ON cases FOR EACH ROW
    WHEN ((OLD.facility_type, OLD.channel, OLD.created_at) IS DISTINCT FROM (NEW.facility_type, NEW.channel, NEW.created_at))
    EXECUTE FUNCTION stats_case_row();

-- stats_days_rebuild computes both tables anew from the history and the cases: for data
-- written before this migration and for the bulk generator, which writes by COPY with the
-- triggers off (store.PauseStatsDays). Writers that reach the tables wait for it.
-- +goose StatementBegin
CREATE FUNCTION stats_days_rebuild() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    LOCK TABLE stats_stays, stats_applications IN SHARE ROW EXCLUSIVE MODE;
    PERFORM set_config('work_mem', '256MB', true);
    DELETE FROM stats_stays;
    INSERT INTO stats_stays (day, stage, facility_type, days, stays)
    SELECT s.day, s.stage, c.facility_type, s.days, count(*)
    FROM stats_history_stays s JOIN cases c ON c.id = s.case_id
    GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4;
    DELETE FROM stats_applications;
    INSERT INTO stats_applications (day, facility_type, channel, applications)
    SELECT (created_at AT TIME ZONE 'Europe/Moscow')::date, facility_type, channel, count(*)
    FROM cases GROUP BY 1, 2, 3 ORDER BY 1, 2, 3;
END;
$$;
-- +goose StatementEnd
SELECT stats_days_rebuild();

-- +goose Down
DROP TRIGGER cases_stats_update ON cases;
DROP TRIGGER cases_stats_insert ON cases;
DROP TRIGGER case_history_stats ON case_history;
DROP FUNCTION stats_days_rebuild();
DROP FUNCTION stats_case_row();
DROP FUNCTION stats_history_line();
DROP FUNCTION stats_applications_add(timestamptz, facility_type, intake_channel, integer);
DROP FUNCTION stats_stays_add(uuid, integer, integer, facility_type, integer);
DROP TABLE stats_applications;
DROP TABLE stats_stays;
DROP VIEW stats_history_stays;
DROP FUNCTION stats_stage(text, text);
