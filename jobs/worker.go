// Package jobs is carepath's background work on asynq: the outbox relay, notice delivery over
// its channels, and the periodic deadline scans. Postgres is the truth; Redis only carries tasks
// and may lose them without carepath losing anything.
package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
)

// Periodic is a task the scheduler enqueues on a cron spec.
type Periodic struct {
	Cron     string
	TaskType string
	Opts     []asynq.Option
	// Tick, when set, replaces the cron spec: the task is enqueued at every multiple of Tick
	// (tickLoop) under the task id "<type>@<tick>", the same in every worker, so several workers
	// enqueue a tick once. The id is kept for a while after the task ends so a late worker still
	// finds it taken.
	Tick time.Duration
}

// TickID is the task id of the tick nearest to t.
func TickID(taskType string, tick time.Duration, t time.Time) string {
	return taskType + "@" + t.Add(tick/2).Truncate(tick).UTC().Format(time.RFC3339)
}

// Worker runs the asynq server with a handler for every task type, the scheduler for the
// periodic ones, and any background loops (the outbox relay) until its context ends.
type Worker struct {
	Redis           redis.UniversalClient
	Logger          *slog.Logger
	Concurrency     int
	ShutdownTimeout time.Duration
	Mux             *asynq.ServeMux
	Periodic        []Periodic
	// Loops run beside the server until the context ends.
	Loops []func(ctx context.Context) error
	// TaskCheckInterval is how often an idle worker polls Redis (asynq's default is 1s).
	TaskCheckInterval time.Duration
	// schedulerRedis is the Redis settings of the scheduler's own pool (newScheduler), copied
	// when the worker is made: go-redis rewrites a live client's options as it connects, so
	// copying them later races with the client's first connections.
	schedulerRedis *redis.Options
}

// NewWorker returns a worker with an empty mux.
func NewWorker(rdb redis.UniversalClient, logger *slog.Logger) *Worker {
	w := &Worker{Redis: rdb, Logger: logger, Concurrency: 20, ShutdownTimeout: 15 * time.Second, Mux: asynq.NewServeMux(),
		TaskCheckInterval: 100 * time.Millisecond}
	if c, ok := rdb.(*redis.Client); ok {
		opts := *c.Options()
		if opts.MaintNotificationsConfig != nil {
			m := *opts.MaintNotificationsConfig
			opts.MaintNotificationsConfig = &m
		}
		w.schedulerRedis = &opts
	}
	return w
}

// Run blocks until ctx ends, then shuts down gracefully: the scheduler stops enqueuing, the
// loops stop, and in-flight tasks get ShutdownTimeout to finish.
func (w *Worker) Run(ctx context.Context) error {
	srv := asynq.NewServerFromRedisClient(w.Redis, asynq.Config{
		Concurrency:     w.Concurrency,
		ShutdownTimeout: w.ShutdownTimeout,
		Logger:          asynqLogger{w.Logger},
		LogLevel:        asynq.WarnLevel,
		Queues:          map[string]int{QueueNotices: 6, QueueScans: 3, "default": 1},
		// An idle worker looks for new tasks this often: it bounds the queue's share of the
		// commit-to-delivery latency.
		TaskCheckInterval: w.TaskCheckInterval,
	})
	if err := srv.Start(w.Mux); err != nil {
		return fmt.Errorf("start asynq server: %w", err)
	}
	// A ticked periodic task is enqueued by tickLoop under the tick's id, the same in every
	// worker, so several workers enqueue a tick once. The others run on asynq's scheduler (its
	// own Redis pool: newScheduler), made only when there are any.
	loops := slices.Clone(w.Loops)
	client := asynq.NewClientFromRedisClient(w.Redis) // shares w.Redis: never closed here
	var sched *asynq.Scheduler
	for _, p := range w.Periodic {
		if p.Tick > 0 {
			loops = append(loops, func(ctx context.Context) error { return w.tickLoop(ctx, client, p) })
			continue
		}
		if sched == nil {
			sched = newScheduler(w.Redis, w.schedulerRedis, &asynq.SchedulerOpts{Logger: asynqLogger{w.Logger}, LogLevel: asynq.WarnLevel,
				Location: time.UTC, PostEnqueueFunc: func(_ *asynq.TaskInfo, err error) {
					if err != nil {
						w.Logger.Error("schedule a periodic task", "err", err)
					}
				}})
		}
		if _, err := sched.Register(p.Cron, asynq.NewTask(p.TaskType, nil), p.Opts...); err != nil {
			srv.Shutdown()
			return fmt.Errorf("schedule %s: %w", p.TaskType, err)
		}
	}
	if sched != nil {
		if err := sched.Start(); err != nil {
			srv.Shutdown()
			return fmt.Errorf("start scheduler: %w", err)
		}
	}
	loopCtx, stopLoops := context.WithCancel(context.Background())
	done := make(chan error, len(loops))
	for _, loop := range loops {
		go func() { done <- loop(loopCtx) }()
	}
	w.Logger.Info("worker started", "concurrency", w.Concurrency, "periodic", len(w.Periodic))
	<-ctx.Done()
	if sched != nil {
		sched.Shutdown()
	}
	stopLoops()
	for range loops {
		if err := <-done; err != nil && ctx.Err() == nil {
			w.Logger.Error("worker loop", "err", err)
		}
	}
	srv.Shutdown()
	w.Logger.Info("worker stopped")
	return nil
}

// tickLoop enqueues p's task at every multiple of p.Tick until ctx ends, with the task id of
// that tick (TickID): each worker's loop enqueues the same id and asynq keeps the first, and
// the id is retained for a while after the task ends so that a late worker still finds it taken.
// (Rewriting a scheduler entry's task id option before each enqueue raced with the scheduler's
// heartbeat, which reads the options.)
func (w *Worker) tickLoop(ctx context.Context, client *asynq.Client, p Periodic) error {
	base := append([]asynq.Option{asynq.Retention(max(2*p.Tick, time.Minute))}, p.Opts...)
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		next := time.Now().Truncate(p.Tick).Add(p.Tick)
		timer.Reset(time.Until(next))
		select {
		case <-ctx.Done():
			return nil
		case <-timer.C:
		}
		opts := append([]asynq.Option{asynq.TaskID(TickID(p.TaskType, p.Tick, next))}, base...)
		if _, err := client.EnqueueContext(ctx, asynq.NewTask(p.TaskType, nil), opts...); err != nil &&
			!errors.Is(err, asynq.ErrTaskIDConflict) && ctx.Err() == nil {
			w.Logger.Error("schedule a periodic task", "task", p.TaskType, "err", err)
		}
	}
}

// newScheduler gives the scheduler a connection pool of its own, with the worker's Redis
// settings, when it can: asynq's scheduler closes its client when it shuts down, and on a shared
// connection that close fails and is logged as an error at every clean stop (asynq v0.26).
func newScheduler(shared redis.UniversalClient, own *redis.Options, opts *asynq.SchedulerOpts) *asynq.Scheduler {
	if own != nil {
		return asynq.NewScheduler(ownRedis{own}, opts)
	}
	return asynq.NewSchedulerFromRedisClient(shared, opts)
}

// ownRedis is an asynq.RedisConnOpt for a new client with these options.
type ownRedis struct{ opts *redis.Options }

func (o ownRedis) MakeRedisClient() any { return redis.NewClient(o.opts) }

// Queue names.
const (
	QueueNotices = "notices"
	QueueScans   = "scans"
)

// asynqLogger routes asynq's logs into slog.
type asynqLogger struct{ l *slog.Logger }

func (a asynqLogger) Debug(args ...any) { a.l.Debug(fmt.Sprint(args...), "component", "asynq") }
func (a asynqLogger) Info(args ...any)  { a.l.Info(fmt.Sprint(args...), "component", "asynq") }
func (a asynqLogger) Warn(args ...any)  { a.l.Warn(fmt.Sprint(args...), "component", "asynq") }
func (a asynqLogger) Error(args ...any) { a.l.Error(fmt.Sprint(args...), "component", "asynq") }
func (a asynqLogger) Fatal(args ...any) {
	a.l.Error(fmt.Sprint(args...), "component", "asynq", "fatal", true)
}
