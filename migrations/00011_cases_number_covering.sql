-- +goose Up
-- The relatives' status lookup (store Lookups, statusQuery) finds a case by its number and needs
-- its id, state, the day it entered the state and the access code's hash. With those in the
-- number's unique index the lookup is an index-only scan: the table is read only for the
-- checklist (the states that show missing documents, about one case in six); the next step's
-- date comes from the deadlines as before. Over a million cases the heap rows of the cases
-- relatives ask about are spread one per page across the whole table, and the index is a tenth
-- of its size: fewer buffers per lookup, and a denser working set. A case update is never HOT
-- (its state is indexed), so it wrote an entry into this index before; the entry is now about
-- 90 bytes wider.
ALTER TABLE cases DROP CONSTRAINT cases_number_key,
  ADD CONSTRAINT cases_number_key UNIQUE (number) INCLUDE (id, state, state_entered_at, access_code_hash);

-- +goose Down
ALTER TABLE cases DROP CONSTRAINT cases_number_key, ADD CONSTRAINT cases_number_key UNIQUE (number);
