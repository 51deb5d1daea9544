package store

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"
)

// SetNameCap lets tests move the boundary between the two ways of a name search.
func SetNameCap(n int) (restore func()) {
	old := nameCap
	nameCap = n
	return func() { nameCap = old }
}

// SetDueCap lets tests move the boundary between the two ways of an overdue list in a state.
func SetDueCap(n int) (restore func()) {
	old := dueCap
	dueCap = n
	return func() { dueCap = old }
}

// SetNameWindow lets tests move the boundary between the newest names and the older keys.
func SetNameWindow(n int64) (restore func()) {
	old := nameWindow
	nameWindow = n
	return func() { nameWindow = old }
}

// OwnConnPlanModes runs SHOW plan_cache_mode on a reader's own connection, then breaks that
// connection under it and runs it again (the reader must connect anew).
func OwnConnPlanModes(ctx context.Context, db *DB) (first, again string, err error) {
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

// ChangeSQLs is the change statement of every shape.
func ChangeSQLs() []string {
	out := make([]string, len(changeStatements))
	for i, st := range changeStatements {
		out[i] = st.sql
	}
	return out
}

// Cached reports whether the cases store holds the case at this version in its cache.
func Cached(s *Cases, id string, version int) bool {
	_, _, _, ok := s.db.recent.get(id, version)
	return ok
}

// AccessLinesFromKnownHeads counts the Records of this process that wrote their lines from the
// chain heads it knew, without reading them.
func AccessLinesFromKnownHeads(db *DB) int64 { return db.heads.written.Load() }
