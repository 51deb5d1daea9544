package store

import (
	"context"
	"fmt"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"carepath/domain"
)

// StatsCache is a decorator over domain.StatsStore: it answers a query again with the figures
// it computed last time when nothing the figures read has changed since (the tables' counts of
// inserted, updated and deleted rows in pg_stat_user_tables are the same) and they are younger
// than the TTL. PostgreSQL publishes those counts up to a few seconds after a commit, and the
// figures that depend on the clock alone (a deadline falling due, a beds report going stale)
// change without a write: the TTL bounds how late either shows. Identical queries that arrive
// together are computed once.
type StatsCache struct {
	next domain.StatsStore
	db   *DB
	ttl  time.Duration

	mu      sync.Mutex
	entries map[string]statsEntry
	flight  singleflight.Group
}

type statsEntry struct {
	stats *domain.Stats
	mark  int64
	at    time.Time
}

// statsCacheMax bounds the cached queries; past it, the cache starts over.
const statsCacheMax = 64

// statsTables are the tables the figures read.
var statsTables = []string{"cases", "case_history", "deadlines", "bed_holds", "facility_sections", "facilities", "offers",
	"placements", "contacts", "leads", "notices", "status_lookup_days", "stats_stays", "stats_applications", "stats_case_types"}

// NewStatsCache returns the cache over next.
func NewStatsCache(next domain.StatsStore, db *DB, ttl time.Duration) *StatsCache {
	return &StatsCache{next: next, db: db, ttl: ttl, entries: map[string]statsEntry{}}
}

// mark is the tables' count of changed rows.
func (c *StatsCache) mark(ctx context.Context) (int64, error) {
	var n int64
	err := c.db.SQL.QueryRowContext(ctx, `SELECT coalesce(sum(n_tup_ins + n_tup_upd + n_tup_del), 0)::bigint
		FROM pg_stat_user_tables WHERE schemaname = current_schema() AND relname = ANY ($1::text[])`, statsTables).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("figures' change mark: %w", err)
	}
	return n, nil
}

// Stats returns the cached figures when they still hold, else computes them.
func (c *StatsCache) Stats(ctx context.Context, q domain.StatsQuery, now time.Time, staleAfter time.Duration) (*domain.Stats, error) {
	mark, err := c.mark(ctx)
	if err != nil {
		return nil, err
	}
	key := fmt.Sprintf("%s|%s|%s|%s|%s", q.From, q.To, q.FacilityType, q.District, staleAfter)
	c.mu.Lock()
	e, ok := c.entries[key]
	c.mu.Unlock()
	if ok && e.mark == mark && now.Sub(e.at) < c.ttl && !now.Before(e.at) {
		return e.stats, nil
	}
	v, err, _ := c.flight.Do(key, func() (any, error) {
		st, err := c.next.Stats(ctx, q, now, staleAfter)
		if err != nil {
			return nil, err
		}
		c.mu.Lock()
		if len(c.entries) >= statsCacheMax {
			c.entries = map[string]statsEntry{}
		}
		c.entries[key] = statsEntry{stats: st, mark: mark, at: now}
		c.mu.Unlock()
		return st, nil
	})
	if err != nil {
		return nil, err
	}
	return v.(*domain.Stats), nil
}
