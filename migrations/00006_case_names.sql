-- +goose Up
-- Name search off the cases table (GET /api/v1/cases?q=…, store/cases.go List). Every lifecycle
-- event writes a new version of its cases row and an entry in each of the row's indexes; the
-- trigram index on the name was the costliest of them (its pending list merged into the GIN
-- on some events). A name is written once, when its case is registered, so it is searched in
-- two narrow tables of its own, filled by triggers on cases:
--   case_names      one row per case: the name normalized (lower case, ё as е, single spaces),
--                   read newest first for a name many cases share;
--   case_name_keys  one row per word of the name: the normalized name from that word on
--                   ("иванова мария петровна", "мария петровна", "петровна"), so that a
--                   btree prefix range finds the names having a word that starts with q.
-- A query q matches a name when some word of the name starts with q (q may go on over the next
-- words): "иван", "Иванова Мария", "мария петр" find "Иванова Мария Петровна"; "ванова" does
-- not. Both tables are keyed by the case's seq; cases are never deleted.
SET LOCAL maintenance_work_mem = '256MB';

CREATE FUNCTION case_name_norm(name text) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN btrim(regexp_replace(translate(lower(name), 'ё', 'е'), '\s+', ' ', 'g'));

-- The search keys of a name: the normalized name from each word on.
-- +goose StatementBegin
CREATE FUNCTION case_name_keys(name text) RETURNS SETOF text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT array_to_string(w[i:], ' ')
    FROM (SELECT string_to_array(case_name_norm(name), ' ') AS w) s, generate_subscripts(s.w, 1) AS i
$$;
-- +goose StatementEnd

-- The LIKE pattern of the names (or keys) starting with q.
CREATE FUNCTION case_name_prefix(q text) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN replace(replace(replace(case_name_norm(q), '\', '\\'), '%', '\%'), '_', '\_') || '%';

CREATE TABLE case_names (
    seq  bigint NOT NULL,
    name text COLLATE "C" NOT NULL
);
CREATE TABLE case_name_keys (
    key text COLLATE "C" NOT NULL,
    seq bigint NOT NULL
);
INSERT INTO case_names (seq, name) SELECT seq, case_name_norm(applicant_name) FROM cases;
-- case_name_keys(name) of the names just normalized (three times faster than calling it)
INSERT INTO case_name_keys (key, seq) SELECT array_to_string(s.w[i:], ' '), s.seq
    FROM (SELECT seq, string_to_array(name, ' ') AS w FROM case_names) s, generate_subscripts(s.w, 1) AS i;
ALTER TABLE case_names ADD PRIMARY KEY (seq);
ALTER TABLE case_name_keys ADD PRIMARY KEY (key, seq);

-- The newest n cases below a seq whose name has a word starting with q, for a prefix many names
-- share (List counts the keys first). The newest win names are read newest first by the primary
-- key; if they hold fewer than n, the rest come from the keys below them (an old-fashioned name
-- is common among old cases only). The settings keep the plans the bounds assume: at its
-- default estimate for the pattern the planner chose to read the whole table and sort.
-- +goose StatementBegin
CREATE FUNCTION case_names_newest(q text, below bigint, n integer, win bigint) RETURNS SETOF bigint
    LANGUAGE plpgsql STABLE
    SET enable_seqscan = off SET max_parallel_workers_per_gather = 0 SET plan_cache_mode = force_custom_plan AS $$
DECLARE
    first_word text := case_name_prefix(q);
    later_word text := '% ' || case_name_prefix(q);
    low bigint;
    found bigint;
BEGIN
    SELECT least(below, coalesce(max(seq), 0) + 1) - win INTO low FROM case_names;
    RETURN QUERY SELECT c.seq FROM case_names c
        WHERE c.seq < below AND c.seq >= low AND (c.name LIKE first_word OR c.name LIKE later_word)
        ORDER BY c.seq DESC LIMIT n;
    GET DIAGNOSTICS found = ROW_COUNT;
    IF found < n AND low > 1 THEN
        RETURN QUERY SELECT DISTINCT k.seq FROM case_name_keys k WHERE k.key LIKE first_word AND k.seq < low
            ORDER BY k.seq DESC LIMIT n - found;
    END IF;
END;
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION cases_names_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO case_names (seq, name) SELECT seq, case_name_norm(applicant_name) FROM new_cases;
    INSERT INTO case_name_keys (key, seq) SELECT k, n.seq FROM new_cases n, case_name_keys(n.applicant_name) k;
    RETURN NULL;
END;
$$;
-- +goose StatementEnd
-- once per statement: a COPY of thousands of cases fills the tables in two statements
CREATE TRIGGER cases_names_insert AFTER INSERT ON cases REFERENCING NEW TABLE AS new_cases
    FOR EACH STATEMENT EXECUTE FUNCTION cases_names_insert();

-- +goose StatementBegin
CREATE FUNCTION cases_names_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE case_names SET name = case_name_norm(NEW.applicant_name) WHERE seq = NEW.seq;
    DELETE FROM case_name_keys WHERE seq = NEW.seq;
    INSERT INTO case_name_keys (key, seq) SELECT k, NEW.seq FROM case_name_keys(NEW.applicant_name) k;
    RETURN NULL;
END;
$$;
-- +goose StatementEnd
-- an event rewrites the whole row, name included: the WHEN keeps the trigger from running then
CREATE TRIGGER cases_names_update AFTER UPDATE OF applicant_name ON cases FOR EACH ROW
    WHEN (OLD.applicant_name IS DISTINCT FROM NEW.applicant_name) EXECUTE FUNCTION cases_names_update();

DROP INDEX cases_applicant_name_trgm;
-- the newest-first index no longer carries the name (one entry narrower per event)
DROP INDEX cases_list_seq;
CREATE INDEX cases_list_seq ON cases (seq DESC) INCLUDE (next_due_at);
-- seq is an identity column, unique by construction; lookups by seq use cases_list_seq
ALTER TABLE cases DROP CONSTRAINT cases_seq_key;

-- The access log (issue 5) is written for every case a list shows: fifty lines a page. Its
-- foreign key to cases made each line lock its case row (FOR KEY SHARE), so every read wrote to
-- the wide cases table: a lock on fifty heap pages per page shown, each page's first change
-- after a checkpoint a full-page image in the WAL. The lines are written only for cases just
-- read, and `carepath audit verify` reports lines of a case that does not exist.
ALTER TABLE access_log DROP CONSTRAINT access_log_case_id_fkey;

-- +goose Down
ALTER TABLE access_log ADD CONSTRAINT access_log_case_id_fkey FOREIGN KEY (case_id) REFERENCES cases (id);
ALTER TABLE cases ADD CONSTRAINT cases_seq_key UNIQUE (seq);
DROP INDEX cases_list_seq;
CREATE INDEX cases_list_seq ON cases (seq DESC) INCLUDE (next_due_at, applicant_name);
CREATE INDEX cases_applicant_name_trgm ON cases USING gin (applicant_name gin_trgm_ops);
DROP TRIGGER cases_names_update ON cases;
DROP TRIGGER cases_names_insert ON cases;
DROP FUNCTION cases_names_update();
DROP FUNCTION cases_names_insert();
DROP FUNCTION case_names_newest(text, bigint, integer, bigint);
DROP TABLE case_name_keys;
DROP TABLE case_names;
DROP FUNCTION case_name_prefix(text);
DROP FUNCTION case_name_keys(text);
DROP FUNCTION case_name_norm(text);
