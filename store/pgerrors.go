package store

import (
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5/pgconn"

	"carepath/domain"
)

// PostgreSQL's codes of the constraint violations translate knows.
const (
	pgForeignKey = "23503"
	pgUnique     = "23505"
	pgCheck      = "23514"
)

// translate turns constraint violations into domain errors a caller can act on.
func translate(err error, what string) error {
	if err == nil {
		return nil
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case pgForeignKey:
			return domain.Errorf(domain.EUNPROCESSABLE, "%s refers to something that does not exist (%s)", what, pgErr.ConstraintName)
		case pgUnique:
			return domain.Errorf(domain.ECONFLICT, "%s already exists (%s)", what, pgErr.ConstraintName)
		case pgCheck:
			return domain.Errorf(domain.EINVALID, "%s breaks rule %s", what, pgErr.ConstraintName)
		}
	}
	return fmt.Errorf("save %s: %w", what, err)
}
