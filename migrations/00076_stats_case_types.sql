-- +goose Up
-- Each case's type of home (now), for the figures cut by type whose rows name only the case
-- (the deadlines): probed from this narrow index instead of the cases' wide, often rewritten
-- rows. It changes only when a case is registered or changes its type, kept by 00070's case
-- trigger and rebuilt with its tables by stats_days_rebuild. (This table was first written into
-- 00070 after that migration had shipped; a database migrated with 00070 as it then was lacks
-- it, one migrated since has it: hence IF NOT EXISTS and ON CONFLICT.)
CREATE TABLE IF NOT EXISTS stats_case_types (
    case_id       uuid NOT NULL,
    facility_type facility_type NOT NULL,
    PRIMARY KEY (case_id) INCLUDE (facility_type)
);
INSERT INTO stats_case_types (case_id, facility_type) SELECT id, facility_type FROM cases ORDER BY id
    ON CONFLICT (case_id) DO NOTHING;

-- +goose StatementBegin
CREATE OR REPLACE FUNCTION stats_case_row() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        PERFORM stats_applications_add(OLD.created_at, OLD.facility_type, OLD.channel, -1);
        IF OLD.facility_type IS DISTINCT FROM NEW.facility_type THEN
            PERFORM stats_stays_add(OLD.id, 1, OLD.version, OLD.facility_type, -1);
            PERFORM stats_stays_add(OLD.id, 1, OLD.version, NEW.facility_type, 1);
            UPDATE stats_case_types SET facility_type = NEW.facility_type WHERE case_id = NEW.id;
        END IF;
    ELSE
        INSERT INTO stats_case_types (case_id, facility_type) VALUES (NEW.id, NEW.facility_type);
    END IF;
    PERFORM stats_applications_add(NEW.created_at, NEW.facility_type, NEW.channel, 1);
    RETURN NULL;
END;
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE OR REPLACE FUNCTION stats_days_rebuild() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    LOCK TABLE stats_stays, stats_applications, stats_case_types IN SHARE ROW EXCLUSIVE MODE;
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
    DELETE FROM stats_case_types;
    INSERT INTO stats_case_types (case_id, facility_type) SELECT id, facility_type FROM cases ORDER BY id;
END;
$$;
-- +goose StatementEnd

-- +goose Down
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION stats_case_row() RETURNS trigger LANGUAGE plpgsql AS $$
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

-- +goose StatementBegin
CREATE OR REPLACE FUNCTION stats_days_rebuild() RETURNS void LANGUAGE plpgsql AS $$
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
DROP TABLE stats_case_types;
