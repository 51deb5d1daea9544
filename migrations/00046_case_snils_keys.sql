-- +goose Up
-- A registration is warned of a SNILS already on an open case. SNILS is sealed with the rest of
-- the personal data, so it is found through a keyed blind index like the phones:
-- HMAC-SHA256(PHONE_INDEX_KEY, "snils:" + the normalised SNILS) -> case, written when a case is
-- registered (store/snils.go). Cases registered before it are not in it.
CREATE TABLE case_snils_keys (
    key     bytea NOT NULL CHECK (length(key) = 32),
    case_id uuid NOT NULL REFERENCES cases (id),
    PRIMARY KEY (key, case_id)
);

-- +goose Down
DROP TABLE case_snils_keys;
