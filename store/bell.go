package store

import (
	"context"
	"database/sql"
	"sync"
	"time"
)

// relayBell tells the notices relay that the outbox has new rows: a NOTIFY after the commit,
// never inside a case's transaction (in PostgreSQL a notifying commit holds a database-wide
// lock through its WAL flush, so notifying commits cannot be grouped), and at most one per
// bellInterval however many commands commit. A NOTIFY lost with a crash costs nothing but
// latency: the relay also polls.
type relayBell struct {
	db   *sql.DB
	once sync.Once
	ring chan struct{}
	done chan struct{}
}

const bellInterval = 5 * time.Millisecond

func newRelayBell(db *sql.DB) *relayBell {
	return &relayBell{db: db, ring: make(chan struct{}, 1), done: make(chan struct{})}
}

// Ring asks for a NOTIFY soon; it never blocks.
func (b *relayBell) Ring() {
	b.once.Do(func() { go b.loop() })
	select {
	case b.ring <- struct{}{}:
	default: // one is already due
	}
}

func (b *relayBell) loop() {
	for {
		select {
		case <-b.done:
			return
		case <-b.ring:
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_, _ = b.db.ExecContext(ctx, "SELECT pg_notify($1, '')", NoticeChannel) // the relay polls too
		cancel()
		select {
		case <-b.done:
			return
		case <-time.After(bellInterval):
		}
	}
}

func (b *relayBell) stop() { close(b.done) }
