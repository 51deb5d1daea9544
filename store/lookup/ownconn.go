package lookup

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"carepath/store"
)

// ownConn is a connection of a background reader's own, outside the pool, that runs its
// prepared statements with PostgreSQL's generic plan (plan_cache_mode = force_generic_plan).
// The status lookups' batch query takes arrays whose length varies from batch to batch: for
// such a statement PostgreSQL's custom plan, costed for the actual arrays, always looks
// cheaper than the generic one, so it planned the statement again on every execution, and
// planning was about a sixth of the lookups' database time (docs/BENCHMARKS.md). Other
// statements keep the default, where a custom plan for the values given is worth its cost.
// Not safe for concurrent use: one goroutine owns it.
type ownConn struct {
	db   *store.DB
	conn *pgx.Conn
}

// with runs f on the connection, connecting first when there is none (or it broke). A
// connection that broke while idle (PostgreSQL restarted or failed over) fails at its first use
// after, however long after: f runs once more on a new connection then. f must be a read that
// may run twice (the lookups' batch query sets the same fields again).
func (o *ownConn) with(ctx context.Context, f func(*pgx.Conn) error) error {
	for attempt := 0; ; attempt++ {
		if o.conn == nil || o.conn.IsClosed() {
			cfg := o.db.ConnConfig()
			cfg.RuntimeParams["plan_cache_mode"] = "force_generic_plan"
			conn, err := pgx.ConnectConfig(ctx, cfg)
			if err != nil {
				return err
			}
			o.conn = conn
		}
		err := f(o.conn)
		if err != nil && attempt == 0 && o.conn.IsClosed() && ctx.Err() == nil {
			continue
		}
		return err
	}
}

func (o *ownConn) close() {
	if o.conn != nil {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = o.conn.Close(ctx)
		o.conn = nil
	}
}
