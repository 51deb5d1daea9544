package store

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"carepath/domain"
)

// LookupTally counts the relatives' status lookups by day and outcome (implements
// domain.LookupTally) and adds the counts to status_lookup_days every few seconds: a lookup
// costs a map increment, not a write, and no line names a person or a case. Counts not yet
// added when the process dies are lost (at most one interval's).
type LookupTally struct {
	db *DB
	mu sync.Mutex
	n  map[lookupKey]int64
}

type lookupKey struct {
	day     domain.Date
	outcome domain.LookupOutcome
}

// LookupTallyEvery is how often the counts are added to the table.
const LookupTallyEvery = 5 * time.Second

// NewLookupTally returns the tally; with run, a goroutine adds the counts every
// LookupTallyEvery until the database handle is closed.
func NewLookupTally(db *DB, run bool) *LookupTally {
	t := &LookupTally{db: db, n: map[lookupKey]int64{}}
	if run {
		go t.run()
	}
	return t
}

// CountLookup counts one lookup.
func (t *LookupTally) CountLookup(day domain.Date, outcome domain.LookupOutcome) {
	t.mu.Lock()
	t.n[lookupKey{day, outcome}]++
	t.mu.Unlock()
}

func (t *LookupTally) run() {
	tick := time.NewTicker(LookupTallyEvery)
	defer tick.Stop()
	for {
		select {
		case <-t.db.Done():
			return
		case <-tick.C:
			ctx, cancel := context.WithTimeout(context.Background(), LookupTallyEvery)
			if err := t.Flush(ctx); err != nil {
				slog.Warn("status lookup counts not saved; kept for the next try", "err", err)
			}
			cancel()
		}
	}
}

// Flush adds the counts so far to status_lookup_days; on failure they are kept for the next.
func (t *LookupTally) Flush(ctx context.Context) error {
	t.mu.Lock()
	n := t.n
	t.n = map[lookupKey]int64{}
	t.mu.Unlock()
	if len(n) == 0 {
		return nil
	}
	days, outcomes, counts := make([]string, 0, len(n)), make([]string, 0, len(n)), make([]int64, 0, len(n))
	for k, c := range n {
		days, outcomes, counts = append(days, k.day.String()), append(outcomes, string(k.outcome)), append(counts, c)
	}
	_, err := t.db.SQL.ExecContext(ctx, `INSERT INTO status_lookup_days (day, outcome, count)
		SELECT * FROM unnest($1::date[], $2::text[], $3::bigint[])
		ON CONFLICT (day, outcome) DO UPDATE SET count = status_lookup_days.count + excluded.count`,
		days, outcomes, counts)
	if err != nil {
		t.mu.Lock()
		for k, c := range n {
			t.n[k] += c
		}
		t.mu.Unlock()
	}
	return err
}
