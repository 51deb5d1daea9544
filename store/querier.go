package store

import (
	"context"
	"database/sql"
	"errors"

	"github.com/jackc/pgx/v5"
)

// execQuerier is a database/sql pool or transaction.
type execQuerier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// querier is where a command's statements go: queryRow runs a query and scans its one row
// (sql.ErrNoRows when there is none).
type querier interface {
	queryRow(ctx context.Context, dest []any, query string, args ...any) error
}

// pgxPool sends a command's statements through pgx on a pooled connection: a change statement
// has about forty-five parameters, and database/sql converts each on the way (docs/BENCHMARKS.md).
type pgxPool struct{ db *DB }

func (p pgxPool) queryRow(ctx context.Context, dest []any, query string, args ...any) error {
	return p.db.withConn(ctx, func(conn *pgx.Conn) error {
		err := conn.QueryRow(ctx, query, args...).Scan(dest...)
		if errors.Is(err, pgx.ErrNoRows) {
			return sql.ErrNoRows
		}
		return err
	})
}

// sqlQuerier sends them through database/sql: inside a transaction.
type sqlQuerier struct{ db execQuerier }

func (q sqlQuerier) queryRow(ctx context.Context, dest []any, query string, args ...any) error {
	return q.db.QueryRowContext(ctx, query, args...).Scan(dest...)
}
