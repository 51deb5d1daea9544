package api_test

import (
	"context"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"carepath/domain"
)

// TestDocsAndQueueMonitorLoadNothingFromElsewhere: the API reference (Redoc) and the queue
// monitor (asynqmon), opened in a real browser that records every request it makes, ask
// nothing of another host: no fonts, no scripts, no images, no telemetry.
func TestDocsAndQueueMonitorLoadNothingFromElsewhere(t *testing.T) {
	h := newHarness(t)
	b := newBrowser(t, h)
	var mu sync.Mutex
	var requested []string
	err := chromedp.Listen(b.ctx, func(ev any) {
		if e, ok := ev.(*network.EventRequestWillBeSent); ok {
			mu.Lock()
			requested = append(requested, e.Request.URL)
			mu.Unlock()
		}
	})
	if err != nil {
		t.Fatal(err)
	}

	b.open("/docs")
	b.waitRedoc()
	b.wait("redoc rendered", `!!document.querySelector('.api-content') && document.body.innerText.includes('/api/v1/cases')`)
	b.shot("docs", false)
	if _, err := chromedp.Call(b.ctx, network.SetExtraHTTPHeaders,
		network.SetExtraHTTPHeadersParams{Headers: network.Headers{"Authorization": "Bearer " + h.tokens[domain.RoleAdmin]}}); err != nil {
		t.Fatal(err)
	}
	b.open("/ops/queues")
	b.wait("asynqmon rendered", `document.querySelector('#root') && document.querySelector('#root').innerText.length > 20`)
	b.shot("ops-queues", false)

	mu.Lock()
	defer mu.Unlock()
	own, _ := url.Parse(h.srv.URL)
	seen := map[string]bool{}
	for _, r := range requested {
		u, err := url.Parse(r)
		if err != nil || u.Scheme == "data" || u.Scheme == "blob" {
			continue
		}
		seen[u.Path] = true
		if u.Host != own.Host {
			t.Errorf("the page asked another host: %s", r)
		}
	}
	for _, want := range []string{"/docs", "/openapi.yaml", "/ops/queues"} {
		if !seen[want] {
			t.Errorf("no request for %s was recorded (recorded: %s)", want, strings.Join(requested, " "))
		}
	}
}

// waitRedoc waits for Redoc to render the contract on /docs: a large page, which on a busy
// machine takes longer than a step's 20 s.
func (b *browser) waitRedoc() {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 2*time.Minute)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.WaitReady(chromedp.CSS(".api-content"))); err != nil {
		b.t.Fatalf("redoc did not render within 2 minutes: %v", err)
	}
}
