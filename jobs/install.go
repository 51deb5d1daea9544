package jobs

import (
	"log/slog"
	"time"

	"github.com/hibiken/asynq"

	"carepath/domain"
)

// NoticeWork is everything the worker needs to deliver notices and scan deadlines.
type NoticeWork struct {
	Notices      domain.Outbox
	Service      *domain.Service
	Channels     map[string]Channel
	Templates    *Templates
	MaxAttempts  int
	Backoff      Backoff
	Hold         time.Duration
	RelayPoll    time.Duration
	RelayLease   time.Duration
	ScanInterval time.Duration
	// ScanCron is the scheduler's spec for the scan; its period must be ScanInterval.
	ScanCron string
	Metrics  *Metrics
	Logger   *slog.Logger
}

// Install adds the delivery handler, the deadline scan (periodic, once per tick across
// workers) and the outbox relay to a worker.
func (n NoticeWork) Install(w *Worker) {
	deliverer := &Deliverer{Notices: n.Notices, Channels: n.Channels, Templates: n.Templates, MaxAttempts: n.MaxAttempts,
		Backoff: n.Backoff, Hold: n.Hold, Quiet: n.Service.Settings.SMSQuietHours, Metrics: n.Metrics, Logger: n.Logger}
	scanner := &Scanner{Notices: n.Notices, Service: n.Service, Settings: n.Service.Settings, Batch: 1000, Metrics: n.Metrics, Logger: n.Logger}
	relay := &Relay{Notices: n.Notices, Client: asynq.NewClientFromRedisClient(w.Redis), Inspector: asynq.NewInspectorFromRedisClient(w.Redis),
		PollInterval: n.RelayPoll, Lease: n.RelayLease, Batch: 500, Logger: n.Logger, Metrics: n.Metrics}
	w.Mux.Handle(TaskDeliverNotice, deliverer)
	w.Mux.Handle(TaskScanDeadlines, scanner)
	w.Periodic = append(w.Periodic, Periodic{Cron: n.ScanCron, TaskType: TaskScanDeadlines, Tick: n.ScanInterval,
		Opts: []asynq.Option{asynq.Queue(QueueScans), asynq.MaxRetry(0), asynq.Timeout(max(n.ScanInterval, 30*time.Second))}})
	w.Loops = append(w.Loops, relay.Run)
	w.Loops = append(w.Loops, deliverer.batch()...)
}
