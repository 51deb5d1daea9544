package jobs

import (
	"context"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

func gauge(t *testing.T, reg *prometheus.Registry, name string, labels map[string]string) (float64, bool) {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	next:
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if v, ok := labels[l.GetName()]; ok && v != l.GetValue() {
					continue next
				}
			}
			return value(m), true
		}
	}
	return 0, false
}

func value(m *dto.Metric) float64 {
	switch {
	case m.GetCounter() != nil:
		return m.GetCounter().GetValue()
	case m.GetGauge() != nil:
		return m.GetGauge().GetValue()
	}
	return 0
}

func TestMetrics(t *testing.T) {
	e := newEnv(t)
	reg := prometheus.NewRegistry()
	m := NewMetrics(reg, e.notices, asynq.NewInspectorFromRedisClient(e.rdb), quietLogger)
	for range 2 {
		e.register(caseOpts{noHealth: true}) // one guardianship webhook each
	}
	if v, ok := gauge(t, reg, "carepath_outbox_backlog", nil); !ok || v != 2 {
		t.Errorf("backlog %v (%v), want 2", v, ok)
	}
	if v, _ := gauge(t, reg, "carepath_outbox_oldest_due_age_seconds", nil); v <= 0 {
		t.Errorf("oldest due age %v, want > 0", v)
	}
	d := e.deliverer()
	d.Metrics = m
	ids := e.outbox()
	for _, n := range ids {
		if _, err := d.Deliver(context.Background(), n.ID); err != nil {
			t.Fatal(err)
		}
		break
	}
	if v, _ := gauge(t, reg, "carepath_notice_deliveries_total", map[string]string{"channel": "webhook", "result": "delivered"}); v != 1 {
		t.Errorf("deliveries %v, want 1", v)
	}
	if v, _ := gauge(t, reg, "carepath_outbox_backlog", nil); v != 1 {
		t.Errorf("backlog %v after one delivery, want 1", v)
	}
	// The relay queues the other: the queue gauge sees it.
	stop := e.startWorker(workerOpts{noServer: true})
	waitFor(t, 10*time.Second, "the relay", func() bool { return e.count("SELECT count(*) FROM notices WHERE enqueued_until IS NOT NULL") == 1 })
	stop()
	if v, ok := gauge(t, reg, "carepath_queue_tasks", map[string]string{"queue": QueueNotices, "state": "pending"}); !ok || v != 1 {
		t.Errorf("queue gauge %v (%v), want 1 pending", v, ok)
	}
}
