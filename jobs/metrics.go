package jobs

import (
	"carepath/domain"
	"context"
	"log/slog"
	"time"

	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the notices' Prometheus metrics. A nil *Metrics records nothing.
type Metrics struct {
	deliveries *prometheus.CounterVec
	relayedN   prometheus.Counter
	scans      prometheus.Histogram
	reminders  prometheus.Counter
}

// NewMetrics registers the counters and a collector that reads, at each scrape, the outbox
// backlog from Postgres and the queue sizes from Redis.
func NewMetrics(reg prometheus.Registerer, notices domain.Outbox, inspector *asynq.Inspector, logger *slog.Logger) *Metrics {
	m := &Metrics{
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "carepath_notice_deliveries_total", Help: "Notice delivery attempts by channel and result (delivered, failed, dead, deferred).",
		}, []string{"channel", "result"}),
		relayedN: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "carepath_outbox_relayed_total", Help: "Notices the relay handed to the queue.",
		}),
		scans: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "carepath_deadline_scan_duration_seconds", Help: "Duration of one reminder and deadline scan tick.",
			Buckets: []float64{.005, .01, .025, .05, .1, .2, .5, 1, 2.5, 10},
		}),
		reminders: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "carepath_reminders_written_total", Help: "Reminder notices the deadline scan wrote (stale homes' included).",
		}),
	}
	reg.MustRegister(m.deliveries, m.relayedN, m.scans, m.reminders, &backlogCollector{notices: notices, inspector: inspector, logger: logger})
	return m
}

func (m *Metrics) delivery(channel, result string) {
	if m != nil {
		m.deliveries.WithLabelValues(channel, result).Inc()
	}
}

func (m *Metrics) relayed(n int) {
	if m != nil {
		m.relayedN.Add(float64(n))
	}
}

func (m *Metrics) scanned(st ScanStats) {
	if m != nil {
		m.scans.Observe(st.Duration.Seconds())
		m.reminders.Add(float64(st.Notices + st.StaleNotices))
	}
}

var (
	backlogDesc = prometheus.NewDesc("carepath_outbox_backlog", "Notices still owed (pending, failed between attempts, or being sent).", nil, nil)
	oldestDesc  = prometheus.NewDesc("carepath_outbox_oldest_due_age_seconds", "How long the oldest due, undelivered notice has waited.", nil, nil)
	queueDesc   = prometheus.NewDesc("carepath_queue_tasks", "Tasks in the asynq queues by queue and state.", []string{"queue", "state"}, nil)
)

// backlogCollector reads the backlog at scrape time, so it is right whichever process sends.
type backlogCollector struct {
	notices   domain.Outbox
	inspector *asynq.Inspector
	logger    *slog.Logger
}

func (c *backlogCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- backlogDesc
	ch <- oldestDesc
	ch <- queueDesc
}

func (c *backlogCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if owed, oldest, err := c.notices.Backlog(ctx, time.Now()); err != nil {
		c.logger.Warn("metrics: outbox backlog", "err", err)
	} else {
		ch <- prometheus.MustNewConstMetric(backlogDesc, prometheus.GaugeValue, float64(owed))
		ch <- prometheus.MustNewConstMetric(oldestDesc, prometheus.GaugeValue, oldest.Seconds())
	}
	if c.inspector == nil {
		return
	}
	for _, q := range []string{QueueNotices, QueueScans} {
		info, err := c.inspector.GetQueueInfo(q)
		if err != nil {
			continue // a queue that never held a task does not exist yet
		}
		for state, n := range map[string]int{"pending": info.Pending, "active": info.Active, "scheduled": info.Scheduled,
			"retry": info.Retry, "archived": info.Archived, "completed": info.Completed} {
			ch <- prometheus.MustNewConstMetric(queueDesc, prometheus.GaugeValue, float64(n), q, state)
		}
	}
}
