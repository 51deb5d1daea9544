package api_test

import (
	"context"
	_ "embed"
	"encoding/json"
	"strings"
	"time"

	"github.com/chromedp/chromedp"
)

// axe-core, vendored from npm by scripts/vendor-axe.sh. Only the tests inject it into a page;
// the pages themselves never load it.
//
//go:embed testdata/axe/axe.min.js
var axeSource string

// axeViolation is the part of an axe-core result the tests report.
type axeViolation struct {
	ID     string `json:"id"`
	Impact string `json:"impact"`
	Help   string `json:"help"`
	Nodes  []struct {
		Target []any `json:"target"`
	} `json:"nodes"`
}

// axeCheck runs axe-core on the page as it is now, once per page state (path, title and first
// heading), and fails the test on any serious or critical violation. wait calls it whenever
// its condition holds, so every page a browser test visits is checked.
func (b *browser) axeCheck(step string) {
	b.t.Helper()
	// Redoc's page is large: on a busy machine axe-core takes tens of seconds over it, and the
	// page answers nothing else meanwhile, so it gets its time here rather than in the next step.
	ctx, cancel := context.WithTimeout(b.ctx, 2*time.Minute)
	defer cancel()
	key, err := chromedp.Run(ctx, chromedp.Evaluate[string](
		`location.pathname + '|' + document.title + '|' + ((document.querySelector('main h1, h1') || {}).textContent || '')`))
	if err != nil {
		return // the page is navigating; the next step checks it
	}
	b.mu.Lock()
	if b.axeSeen == nil {
		b.axeSeen = map[string]bool{}
	}
	seen := b.axeSeen[key]
	b.axeSeen[key] = true
	b.mu.Unlock()
	if seen {
		return
	}
	// The queue monitor is asynqmon's own React bundle, not a page of carepath: its navigation
	// nests list items in <div>s (axe: list, listitem), which only asynqmon can change.
	if strings.HasPrefix(key, "/ops/queues") {
		return
	}
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`(() => { if (!window.axe) { (0, eval)(`+jsString(axeSource)+`); } return !!window.axe; })()`)); err != nil {
		b.t.Errorf("%s: inject axe-core: %v", step, err)
		return
	}
	out, err := chromedp.Run(ctx, chromedp.Evaluate[string](`axe.run(document, {resultTypes: ['violations']}).then((r) => JSON.stringify(r.violations))`, chromedp.EvalAwaitPromise))
	if err != nil {
		if strings.Contains(err.Error(), "context") || strings.Contains(err.Error(), "navigat") {
			b.t.Logf("%s: axe-core on %s did not finish: %v", step, key, err)
			return
		}
		b.t.Errorf("%s: axe-core on %s: %v", step, key, err)
		return
	}
	var vs []axeViolation
	if err := json.Unmarshal([]byte(out), &vs); err != nil {
		b.t.Errorf("%s: axe-core result: %v", step, err)
		return
	}
	b.mu.Lock()
	b.axePages++
	b.mu.Unlock()
	for _, v := range vs {
		if v.Impact == "serious" || v.Impact == "critical" {
			targets := make([]any, 0, len(v.Nodes))
			for _, n := range v.Nodes {
				targets = append(targets, n.Target...)
			}
			b.t.Errorf("%s: axe-core on %s: %s (%s): %s; at %v", step, key, v.ID, v.Impact, v.Help, targets)
		}
	}
}
