package lookup

import (
	"testing"
	"time"
)

// TestStatusBatchGathering: a lookup that arrives on a quiet server goes to the database
// alone at once; on a busy one (the last batch held more than one) a batch waits for more, up
// to statusBatchFill, and leaves as soon as it has them. The wait is an hour here, so a batch
// that waits when it should not hangs (reported after a minute), whatever the machine's speed.
func TestStatusBatchGathering(t *testing.T) {
	closed := make(chan struct{})
	q := newBatchQueue(&Lookups{done: closed}, time.Hour)
	req := func() *lookupReq { return &lookupReq{done: make(chan error, 1)} }
	b := struct {
		*statusBatcher
		next func([]*lookupReq) ([]*lookupReq, bool)
	}{q, func(batch []*lookupReq) ([]*lookupReq, bool) {
		type result struct {
			batch []*lookupReq
			ok    bool
		}
		done := make(chan result, 1)
		go func() { b, ok := q.next(batch); done <- result{b, ok} }()
		select {
		case r := <-done:
			return r.batch, r.ok
		case <-time.After(time.Minute):
			t.Fatal("the batch waited for more lookups than it should")
			return nil, false
		}
	}}

	b.in <- req()
	batch, ok := b.next(nil)
	if !ok || len(batch) != 1 || b.busy.Load() {
		t.Fatalf("quiet server: batch of %d (ok %v, busy %v), want a batch of 1 at once", len(batch), ok, b.busy.Load())
	}

	// Two already waiting: no waiting for more yet, but now the server counts as busy.
	b.in <- req()
	b.in <- req()
	if batch, _ = b.next(nil); len(batch) != 2 || !b.busy.Load() {
		t.Fatalf("two waiting: batch of %d (busy %v), want 2 and busy", len(batch), b.busy.Load())
	}

	// Busy: the first lookup waits until statusBatchFill have come.
	b.in <- req()
	go func() {
		for range statusBatchFill - 1 {
			b.in <- req()
		}
	}()
	if batch, _ = b.next(nil); len(batch) != statusBatchFill {
		t.Fatalf("busy server: batch of %d, want %d", len(batch), statusBatchFill)
	}

	// More than statusBatchMax waiting: one batch takes statusBatchMax, the rest wait.
	for range statusBatchMax + 3 {
		b.in <- req()
	}
	if batch, _ = b.next(nil); len(batch) != statusBatchMax {
		t.Fatalf("full queue: batch of %d, want %d", len(batch), statusBatchMax)
	}
	// The three left, on a busy server, wait for nine more.
	go func() {
		for range statusBatchFill - 3 {
			b.in <- req()
		}
	}()
	if batch, _ = b.next(nil); len(batch) != statusBatchFill {
		t.Fatalf("the rest: batch of %d, want %d", len(batch), statusBatchFill)
	}
	close(closed)
	if _, ok = b.next(nil); ok {
		t.Fatal("closed database: the batcher should stop")
	}
}
