// Package jobs is carepath's background work on asynq: the outbox relay, notice delivery over
// its channels, and the periodic deadline scans. Postgres is the truth; Redis only carries tasks
// and may lose them without carepath losing anything.
package jobs

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
)

// Periodic is a task the scheduler enqueues on a cron spec.
type Periodic struct {
	Cron     string
	TaskType string
	Opts     []asynq.Option
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
}

// NewWorker returns a worker with an empty mux.
func NewWorker(rdb redis.UniversalClient, logger *slog.Logger) *Worker {
	return &Worker{Redis: rdb, Logger: logger, Concurrency: 20, ShutdownTimeout: 15 * time.Second, Mux: asynq.NewServeMux()}
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
	})
	if err := srv.Start(w.Mux); err != nil {
		return fmt.Errorf("start asynq server: %w", err)
	}
	sched := asynq.NewSchedulerFromRedisClient(w.Redis, &asynq.SchedulerOpts{Logger: asynqLogger{w.Logger}, LogLevel: asynq.WarnLevel, Location: time.UTC})
	for _, p := range w.Periodic {
		if _, err := sched.Register(p.Cron, asynq.NewTask(p.TaskType, nil), p.Opts...); err != nil {
			srv.Shutdown()
			return fmt.Errorf("schedule %s: %w", p.TaskType, err)
		}
	}
	if err := sched.Start(); err != nil {
		srv.Shutdown()
		return fmt.Errorf("start scheduler: %w", err)
	}
	loopCtx, stopLoops := context.WithCancel(context.Background())
	done := make(chan error, len(w.Loops))
	for _, loop := range w.Loops {
		go func() { done <- loop(loopCtx) }()
	}
	w.Logger.Info("worker started", "concurrency", w.Concurrency, "periodic", len(w.Periodic))
	<-ctx.Done()
	sched.Shutdown()
	stopLoops()
	for range w.Loops {
		if err := <-done; err != nil && ctx.Err() == nil {
			w.Logger.Error("worker loop", "err", err)
		}
	}
	srv.Shutdown()
	w.Logger.Info("worker stopped")
	return nil
}

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
