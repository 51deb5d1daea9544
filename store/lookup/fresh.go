package lookup

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// fresh keeps a value that costs a query to build (the waiting snapshot, the admissions by
// segment). Readers take the value at hand while it is younger than ttl; an older one starts a
// build in the background and is still served up to 2 × ttl. One build runs at a time, whoever
// asks: a reader that finds no value young enough waits for the build under way (up to wait),
// so a freshly started server under load runs the query once, not once per lookup (before, each
// lookup that waited in vain counted its own figures: a storm of multi-second queries that kept
// the first build from ever finishing).
type fresh[T any] struct {
	build func(ctx context.Context) (*T, error)
	cur   atomic.Pointer[stamped[T]]
	mu    sync.Mutex
	run   chan struct{} // closed when the build under way ends; nil when none runs
}

type stamped[T any] struct {
	at time.Time // when its build started: the value is at least this recent
	v  *T
}

// buildTimeout bounds one build.
const buildTimeout = time.Minute

// start begins a build unless one runs, and returns the channel its end closes.
func (f *fresh[T]) start() <-chan struct{} {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.run != nil {
		return f.run
	}
	done := make(chan struct{})
	f.run = done
	go func() {
		defer func() {
			f.mu.Lock()
			f.run = nil
			f.mu.Unlock()
			close(done)
		}()
		ctx, cancel := context.WithTimeout(context.Background(), buildTimeout)
		defer cancel()
		at := time.Now()
		if v, err := f.build(ctx); err == nil {
			f.cur.Store(&stamped[T]{at: at, v: v})
		} // else the next reader starts another; meanwhile the callers count
	}()
	return done
}

// get returns the value when one is young enough (see fresh), waiting up to wait for a build
// when none is; nil when there is none by then.
func (f *fresh[T]) get(ctx context.Context, ttl, wait time.Duration) (*T, error) {
	s := f.cur.Load()
	if s != nil && time.Since(s.at) <= ttl {
		return s.v, nil
	}
	done := f.start()
	if s == nil || time.Since(s.at) > 2*ttl {
		t := time.NewTimer(wait)
		defer t.Stop()
		select {
		case <-done:
		case <-t.C:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		if s = f.cur.Load(); s == nil || time.Since(s.at) > 2*ttl {
			return nil, nil
		}
	}
	return s.v, nil
}

// has reports whether a value was ever built.
func (f *fresh[T]) has() bool { return f.cur.Load() != nil }

// now is the value at hand, however old (nil when none).
func (f *fresh[T]) now() *T {
	if s := f.cur.Load(); s != nil {
		return s.v
	}
	return nil
}
