package lookup

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"

	"carepath/store"
)

// OwnConnPlanModes runs SHOW plan_cache_mode on a reader's own connection, then breaks that
// connection under it and runs it again: the reader must connect anew and answer, without
// failing the query that found the connection broken.
func OwnConnPlanModes(ctx context.Context, db *store.DB) (first, again string, err error) {
	o := &ownConn{db: db}
	defer o.close()
	show := func(dest *string) func(*pgx.Conn) error {
		return func(c *pgx.Conn) error { return c.QueryRow(ctx, "SHOW plan_cache_mode").Scan(dest) }
	}
	if err := o.with(ctx, show(&first)); err != nil {
		return "", "", err
	}
	broken := o.conn
	_ = o.conn.PgConn().Conn().Close() // the server or the network went away
	err = o.with(ctx, show(&again))
	if err == nil && o.conn == broken {
		return first, again, errors.New("the query ran on the broken connection")
	}
	return first, again, err
}

// SnapshotPosition is the case's position in the waiting snapshot, if it is there.
func SnapshotPosition(l *Lookups, caseID string) (int, bool) {
	snap := l.waiting.now()
	if snap == nil {
		return 0, false
	}
	e, ok := snap.entries[caseID]
	return int(e.pos), ok
}
