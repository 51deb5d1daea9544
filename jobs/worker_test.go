package jobs

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"carepath/store/dbtest"
)

// TestSchedulersInTwoWorkersEnqueueEachTickOnce runs two workers whose schedulers fire the
// same periodic task every second: each tick's task id is the same in both, so each tick runs
// once.
func TestSchedulersInTwoWorkersEnqueueEachTickOnce(t *testing.T) {
	url := dbtest.RedisURL(t)
	var mu sync.Mutex
	runs := map[string]int{}
	handler := asynq.HandlerFunc(func(ctx context.Context, task *asynq.Task) error {
		id, _ := asynq.GetTaskID(ctx)
		mu.Lock()
		runs[id]++
		mu.Unlock()
		return nil
	})
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for range 2 {
		opt, _ := redis.ParseURL(url)
		rdb := redis.NewClient(opt)
		defer rdb.Close()
		w := NewWorker(rdb, quietLogger)
		w.Concurrency = 2
		w.TaskCheckInterval = 50 * time.Millisecond
		w.Mux.Handle("test:tick", handler)
		w.Periodic = []Periodic{{Cron: "@every 1s", TaskType: "test:tick", Tick: time.Second, Opts: []asynq.Option{asynq.Queue(QueueScans)}}}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := w.Run(ctx); err != nil {
				t.Error(err)
			}
		}()
	}
	start := time.Now()
	waitFor(t, 15*time.Second, "four ticks", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(runs) >= 4
	})
	elapsed := time.Since(start)
	cancel()
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	total := 0
	for id, n := range runs {
		total += n
		if n != 1 {
			t.Errorf("tick %s ran %d times", id, n)
		}
	}
	if max := int(elapsed/time.Second) + 2; total > max {
		t.Errorf("%d runs in %s from two schedulers: ticks were doubled", total, elapsed)
	}
}

func TestTickID(t *testing.T) {
	base := time.Date(2030, 3, 4, 10, 0, 0, 0, time.UTC)
	a := TickID("scan", time.Minute, base.Add(-300*time.Millisecond)) // one clock a little behind
	b := TickID("scan", time.Minute, base.Add(800*time.Millisecond))  // another a little late
	if a != b || a != "scan@2030-03-04T10:00:00Z" {
		t.Errorf("two workers firing the same tick got %q and %q", a, b)
	}
	if TickID("scan", time.Minute, base.Add(time.Minute)) == a {
		t.Errorf("the next tick got the same id")
	}
}
