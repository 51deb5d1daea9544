-- +goose Up
-- Finding a case by phone (issue 18): the phones of the applicant, the relatives and the
-- representatives are sealed with the rest of the personal data (cases.personal), and found
-- through this keyed blind index: HMAC-SHA256(PHONE_INDEX_KEY, E.164 number) -> case. Written
-- when a case is registered (store/casephones.go).
CREATE TABLE case_phone_keys (
    key     bytea NOT NULL CHECK (length(key) = 32),
    case_id uuid NOT NULL REFERENCES cases (id),
    PRIMARY KEY (key, case_id)
);

-- +goose Down
DROP TABLE case_phone_keys;
