package jobs

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestWebhookDialsOnlyPublicAddresses: the worker checks the address it connects to, after DNS
// resolution, so a webhook URL that names (or resolves to) an internal address reaches nothing,
// and retrying will not help; WEBHOOK_ALLOW_PRIVATE lets tests and development reach a local
// receiver.
func TestWebhookDialsOnlyPublicAddresses(t *testing.T) {
	var hits atomic.Int32
	sink := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	t.Cleanup(sink.Close)
	byName := strings.Replace(sink.URL, "127.0.0.1", "localhost", 1)
	o := Outgoing{IdempotencyKey: "k", Secret: "0123456789abcdef", Body: []byte(`{}`)}

	w := NewWebhook(2 * time.Second)
	for _, to := range []string{sink.URL, byName} {
		o.To = to
		err := w.Send(context.Background(), o)
		if err == nil || !IsPermanent(err) || !strings.Contains(err.Error(), "private") {
			t.Errorf("send to %s: want a permanent refusal, got %v", to, err)
		}
	}
	if hits.Load() != 0 {
		t.Fatalf("the internal receiver got %d requests", hits.Load())
	}

	w.AllowPrivate = true
	o.To = byName
	if err := w.Send(context.Background(), o); err != nil || hits.Load() != 1 {
		t.Errorf("with AllowPrivate: %v, %d requests", err, hits.Load())
	}
}
