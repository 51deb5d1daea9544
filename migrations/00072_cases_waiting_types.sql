-- +goose Up
-- The center's figures count the waiting list by type of home and priority: this small index
-- gives each waiting case's type and id (for its placement) without reading the cases' rows,
-- which are spread over the whole table.
CREATE INDEX cases_waiting_types ON cases (facility_type) INCLUDE (id) WHERE state = 'waiting_list';

-- +goose Down
DROP INDEX cases_waiting_types;
