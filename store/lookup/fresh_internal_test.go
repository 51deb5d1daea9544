package lookup

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestFreshBuildsOnceForManyReaders: readers that find no value wait for one build, whoever
// asked first; an old value is served while a new one builds; a failed build leaves the readers
// to count for themselves (nil) and the next reader starts another.
func TestFreshBuildsOnceForManyReaders(t *testing.T) {
	var builds atomic.Int32
	var gate atomic.Pointer[chan struct{}] // each build waits for the gate of its time
	newGate := func() chan struct{} {
		ch := make(chan struct{})
		gate.Store(&ch)
		return ch
	}
	release := newGate()
	fail := atomic.Bool{}
	f := fresh[int]{build: func(ctx context.Context) (*int, error) {
		n := int(builds.Add(1))
		<-*gate.Load()
		if fail.Load() {
			return nil, errors.New("the database is away")
		}
		return &n, nil
	}}
	ctx := context.Background()
	var wg sync.WaitGroup
	got := make([]*int, 64)
	for i := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			v, err := f.get(ctx, time.Hour, time.Minute)
			if err != nil {
				t.Error(err)
			}
			got[i] = v
		}()
	}
	time.Sleep(50 * time.Millisecond) // let them all find nothing and wait
	close(release)
	wg.Wait()
	if b := builds.Load(); b != 1 {
		t.Fatalf("%d builds for 64 readers, want 1", b)
	}
	for i, v := range got {
		if v == nil || *v != 1 {
			t.Fatalf("reader %d got %v, want the one build's value", i, v)
		}
	}

	// stale (older than ttl, younger than 2 × ttl): served at once while a build runs
	f.cur.Store(&stamped[int]{at: time.Now().Add(-90 * time.Millisecond), v: got[0]})
	release = newGate()
	if v, err := f.get(ctx, 60*time.Millisecond, time.Minute); err != nil || v == nil || *v != 1 {
		t.Fatalf("stale value: %v %v, want 1 at once", v, err)
	}
	waitBuilds := func(n int32) {
		for deadline := time.Now().Add(5 * time.Second); builds.Load() < n && time.Now().Before(deadline); {
			time.Sleep(time.Millisecond)
		}
	}
	waitBuilds(2)
	if v, _ := f.get(ctx, 60*time.Millisecond, time.Minute); *v != 1 || builds.Load() != 2 {
		t.Fatalf("a second reader of the stale value started build %d", builds.Load())
	}
	fail.Store(true)
	close(release)
	time.Sleep(20 * time.Millisecond)

	// too old and the build fails: nil after it, and the next reader tries again
	f.cur.Store(&stamped[int]{at: time.Now().Add(-time.Hour), v: got[0]})
	release = newGate()
	close(release)
	if v, err := f.get(ctx, time.Millisecond, time.Minute); v != nil || err != nil {
		t.Fatalf("after a failed build: %v %v, want nil", v, err)
	}
	if v, _ := f.get(ctx, time.Millisecond, time.Minute); v != nil {
		t.Fatalf("after a second failed build: %v", v)
	}
	if builds.Load() != 4 {
		t.Fatalf("the next reader did not build again: %d builds", builds.Load())
	}

	// a reader gives up after wait, and with its context
	fail.Store(false)
	release = newGate()
	if v, err := f.get(ctx, time.Millisecond, 10*time.Millisecond); v != nil || err != nil {
		t.Fatalf("after wait: %v %v", v, err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := f.get(cctx, time.Millisecond, time.Minute); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled reader: %v", err)
	}
	close(release)
}
