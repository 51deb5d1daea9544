-- +goose Up
-- The center's specialists. Credentials (tokens) belong to the access issue's migration.
CREATE TABLE users (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    role        text NOT NULL CHECK (role IN ('specialist', 'supervisor', 'admin')),
    email       text NOT NULL DEFAULT '',
    phone       text NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now(),
    disabled_at timestamptz
);
CREATE UNIQUE INDEX users_name ON users (lower(name));
ALTER TABLE cases ADD CONSTRAINT cases_assignee_fk FOREIGN KEY (assignee_id) REFERENCES users (id);

-- +goose Down
ALTER TABLE cases DROP CONSTRAINT cases_assignee_fk;
DROP TABLE users;
