-- +goose Up
-- Homes and beds by section (issue 17). A home (facilities) gains its district, address, phone,
-- whether it is active, a version for If-Match and the time of its last beds report; its beds
-- live in sections (wards kept apart by sex, beds for bedridden residents). Each bed a case
-- holds is one row of bed_holds (reserved by a voucher, occupied by a resident), written in the
-- case's transaction together with its section's counters; `carepath beds verify` recomputes
-- the counters from bed_holds and bed_holds from the cases. facilities.capacity and .taken stay,
-- as the sums of the sections (kept by a trigger), for the readers that want one number.
ALTER TABLE facilities
    ADD COLUMN district    text NOT NULL DEFAULT '' CHECK (length(district) <= 200),
    ADD COLUMN address     text NOT NULL DEFAULT '' CHECK (length(address) <= 500),
    ADD COLUMN phone       text NOT NULL DEFAULT '' CHECK (length(phone) <= 50),
    ADD COLUMN active      boolean NOT NULL DEFAULT true,
    ADD COLUMN version     integer NOT NULL DEFAULT 1 CHECK (version > 0),
    ADD COLUMN reported_at timestamptz;
CREATE INDEX facilities_type_district ON facilities (type, district);

CREATE TABLE facility_sections (
    facility_id uuid NOT NULL REFERENCES facilities (id),
    code        text NOT NULL CHECK (code ~ '^[a-z0-9_-]{1,32}$'),
    title       text NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    sex         text NOT NULL CHECK (sex IN ('male', 'female', 'any')),
    bedridden   boolean NOT NULL DEFAULT false,
    capacity    integer NOT NULL CHECK (capacity BETWEEN 0 AND 100000),
    occupied    integer NOT NULL DEFAULT 0 CHECK (occupied >= 0),
    reserved    integer NOT NULL DEFAULT 0 CHECK (reserved >= 0),
    reported_at timestamptz,
    PRIMARY KEY (facility_id, code),
    CONSTRAINT facility_sections_beds CHECK (occupied + reserved <= capacity)
);

CREATE TABLE bed_holds (
    case_id      uuid NOT NULL REFERENCES cases (id),
    kind         text NOT NULL CHECK (kind IN ('reserved', 'occupied')),
    facility_id  uuid NOT NULL,
    section_code text NOT NULL,
    since        timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (case_id, kind),
    FOREIGN KEY (facility_id, section_code) REFERENCES facility_sections (facility_id, code)
);
CREATE INDEX bed_holds_section ON bed_holds (facility_id, section_code);

-- The sums of a home's sections, for facilities.capacity and .taken.
-- +goose StatementBegin
CREATE FUNCTION facility_sums() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    fid uuid := coalesce(NEW.facility_id, OLD.facility_id);
BEGIN
    UPDATE facilities f SET capacity = s.capacity, taken = s.taken
    FROM (SELECT coalesce(sum(capacity), 0) AS capacity, coalesce(sum(occupied + reserved), 0) AS taken
          FROM facility_sections WHERE facility_id = fid) s
    WHERE f.id = fid AND (f.capacity, f.taken) IS DISTINCT FROM (s.capacity, s.taken);
    RETURN NULL;
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER facility_sections_sums AFTER INSERT OR UPDATE OR DELETE ON facility_sections
    FOR EACH ROW EXECUTE FUNCTION facility_sums();

-- A home inserted with a capacity and no sections (seeds, the bulk generator, older tests) gets
-- one section for everybody with that capacity.
-- +goose StatementBegin
CREATE FUNCTION facility_main_section() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.capacity > 0 THEN
        INSERT INTO facility_sections (facility_id, code, title, sex, bedridden, capacity)
        VALUES (NEW.id, 'main', 'Общее отделение', 'any', false, NEW.capacity)
        ON CONFLICT DO NOTHING;
    END IF;
    RETURN NULL;
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER facilities_main_section AFTER INSERT ON facilities
    FOR EACH ROW EXECUTE FUNCTION facility_main_section();

-- beds_rebuild gives every bed a case holds without a bed_holds row one (in the home's first
-- section that fits, else its first), and sets every section's counters from bed_holds. For
-- data written before sections and for the bulk generator, which writes cases by COPY.
-- +goose StatementBegin
CREATE FUNCTION beds_rebuild() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO facility_sections (facility_id, code, title, sex, bedridden, capacity)
    SELECT f.id, 'main', 'Общее отделение', 'any', false, f.capacity FROM facilities f
    WHERE NOT EXISTS (SELECT 1 FROM facility_sections s WHERE s.facility_id = f.id);
    INSERT INTO bed_holds (case_id, kind, facility_id, section_code, since)
    SELECT h.id, h.kind, h.fid,
        (SELECT s.code FROM facility_sections s WHERE s.facility_id = h.fid
         ORDER BY (s.sex = coalesce(h.applicant->>'gender', '')) DESC, s.sex = 'any' DESC, s.code LIMIT 1), h.at
    FROM (SELECT c.id, 'reserved' AS kind, c.voucher_facility_id AS fid, c.applicant, c.state_entered_at AS at FROM cases c
          WHERE c.voucher_facility_id IS NOT NULL AND c.state = 'voucher_issued'
          UNION ALL
          SELECT c.id, 'occupied', c.facility_id, c.applicant, c.state_entered_at FROM cases c
          WHERE c.facility_id IS NOT NULL AND c.state IN ('residing', 'on_leave', 'hospitalized', 'transfer_pending', 'voucher_issued')) h
    WHERE NOT EXISTS (SELECT 1 FROM bed_holds b WHERE b.case_id = h.id AND b.kind = h.kind);
    -- counters first to zero, so that the beds check holds while they are set
    UPDATE facility_sections SET occupied = 0, reserved = 0 WHERE occupied <> 0 OR reserved <> 0;
    UPDATE facility_sections s SET occupied = x.occupied, reserved = x.reserved,
        capacity = greatest(s.capacity, x.occupied + x.reserved)
    FROM (SELECT facility_id, section_code, count(*) FILTER (WHERE kind = 'occupied') AS occupied,
                 count(*) FILTER (WHERE kind = 'reserved') AS reserved
          FROM bed_holds GROUP BY facility_id, section_code) x
    WHERE s.facility_id = x.facility_id AND s.code = x.section_code;
END;
$$;
-- +goose StatementEnd
SELECT beds_rebuild();

-- +goose Down
DROP FUNCTION beds_rebuild();
DROP TRIGGER facilities_main_section ON facilities;
DROP FUNCTION facility_main_section();
DROP TABLE bed_holds;
DROP TRIGGER facility_sections_sums ON facility_sections;
DROP TABLE facility_sections;
DROP FUNCTION facility_sums();
DROP INDEX facilities_type_district;
ALTER TABLE facilities DROP COLUMN district, DROP COLUMN address, DROP COLUMN phone, DROP COLUMN active,
    DROP COLUMN version, DROP COLUMN reported_at;
