package lookup

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"

	"carepath/store"
)

// OwnConnPlanModes runs SHOW plan_cache_mode on a reader's own connection, then breaks that
// connection under it and runs it again (the reader must connect anew).
func OwnConnPlanModes(ctx context.Context, db *store.DB) (first, again string, err error) {
	o := &ownConn{db: db}
	defer o.close()
	show := func(dest *string) func(*pgx.Conn) error {
		return func(c *pgx.Conn) error { return c.QueryRow(ctx, "SHOW plan_cache_mode").Scan(dest) }
	}
	if err := o.with(ctx, show(&first)); err != nil {
		return "", "", err
	}
	_ = o.conn.PgConn().Conn().Close() // the server or the network went away
	if err := o.with(ctx, show(&again)); err == nil {
		return first, "", errors.New("a query on the broken connection succeeded")
	}
	err = o.with(ctx, show(&again))
	return first, again, err
}

// SnapshotPosition is the case's position in the waiting snapshot, if it is there.
func SnapshotPosition(l *Lookups, caseID string) (int, bool) {
	snap := l.waiting.Load()
	if snap == nil {
		return 0, false
	}
	p, ok := snap.pos[caseID]
	return p, ok
}
