-- +goose Up
-- The relatives' status lookups, counted by day and outcome (issue 19): the figures report how
-- many lookups there were, and no line names who looked or which case. The server adds its
-- counts every few seconds (store.LookupTally); a lookup is never logged per person.
CREATE TABLE status_lookup_days (
    day     date NOT NULL,
    outcome text NOT NULL CHECK (outcome IN ('answered', 'refused', 'locked')),
    count   bigint NOT NULL CHECK (count >= 0),
    PRIMARY KEY (day, outcome)
);

-- +goose Down
DROP TABLE status_lookup_days;
