package jobs

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/hibiken/asynq"

	"carepath/domain"
)

// TaskDeliverNotice is the task type of one delivery attempt; its payload is the notice id (the
// task id is the notice id and its attempt count, see Relay).
const TaskDeliverNotice = "notice:deliver"

// Backoff is the wait after failed attempt n (1-based): Base·2^(n-1), at most Max, with up to
// a fifth of jitter so a partner that comes back is not hit by every notice at once.
type Backoff struct {
	Base, Max time.Duration
}

// After returns the wait after failed attempt n.
func (b Backoff) After(n int) time.Duration {
	d := b.Base
	for i := 1; i < n && d < b.Max; i++ {
		d *= 2
	}
	if d > b.Max {
		d = b.Max
	}
	if d > 0 {
		d += time.Duration(rand.Int64N(int64(d)/5 + 1))
	}
	return d
}

// Deliverer delivers notices: it claims a notice in Postgres, renders it, sends it over its
// channel and records the outcome. Postgres decides what is owed; the task only rings.
type Deliverer struct {
	// unconfigured remembers the channels already reported as not configured (logged once).
	unconfigured sync.Map
	Notices      domain.Outbox
	Channels     map[string]Channel
	Templates    *Templates
	// MaxAttempts: after this many failed attempts the notice is dead.
	MaxAttempts int
	Backoff     Backoff
	// Hold is how long an attempt holds its notice; a worker that dies mid-delivery lets it
	// lapse, and the relay hands the notice out again.
	Hold    time.Duration
	Quiet   domain.QuietHours
	Metrics *Metrics
	Logger  *slog.Logger
	Now     func() time.Time

	// claims and marks group the claims and the delivery marks of concurrent attempts into one
	// statement each (nil: one statement per attempt).
	claims *batcher[*domain.Delivery]
	marks  *batcher[struct{}]
}

// batcher runs one statement for the requests of many concurrent attempts: each attempt hands
// its notice id over and waits for the statement that covers it, so it sees the same result as
// without batching. Whatever arrives while a statement runs goes into the next one; nothing
// waits for a batch to fill.
type batcher[T any] struct {
	do      func(ctx context.Context, ids []string) (map[string]T, error)
	reqs    chan batchRequest[T]
	stopped chan struct{}
}

type batchRequest[T any] struct {
	id   string
	done chan batchResult[T]
}

type batchResult[T any] struct {
	v   T
	err error
}

func newBatcher[T any](do func(ctx context.Context, ids []string) (map[string]T, error)) *batcher[T] {
	return &batcher[T]{do: do, reqs: make(chan batchRequest[T]), stopped: make(chan struct{})}
}

// run batches until ctx ends; attempts still finishing then run their own statements.
func (b *batcher[T]) run(ctx context.Context) error {
	defer close(b.stopped)
	for {
		var batch []batchRequest[T]
		select {
		case r := <-b.reqs:
			batch = append(batch, r)
		case <-ctx.Done():
			return nil
		}
	more:
		for len(batch) < 1000 {
			select {
			case r := <-b.reqs:
				batch = append(batch, r)
			default:
				break more
			}
		}
		ids := make([]string, len(batch))
		for i, r := range batch {
			ids[i] = r.id
		}
		wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		got, err := b.do(wctx, ids)
		cancel()
		for _, r := range batch {
			r.done <- batchResult[T]{got[r.id], err}
		}
	}
}

// submit hands an id to the running batcher; ok is false when it is not running.
func (b *batcher[T]) submit(id string) (T, error, bool) {
	if b != nil {
		r := batchRequest[T]{id: id, done: make(chan batchResult[T], 1)}
		select {
		case b.reqs <- r:
			res := <-r.done
			return res.v, res.err, true
		case <-b.stopped:
		}
	}
	var zero T
	return zero, nil, false
}

func (d *Deliverer) claim(ctx context.Context, id string, now time.Time) (*domain.Delivery, error) {
	if n, err, ok := d.claims.submit(id); ok {
		return n, err
	}
	return d.Notices.Claim(ctx, id, now, d.Hold)
}

func (d *Deliverer) delivered(ctx context.Context, n *domain.Delivery, at time.Time) error {
	if n.Audience != domain.AudienceGuardianship {
		if _, err, ok := d.marks.submit(n.ID); ok {
			return err
		}
	}
	return d.Notices.Delivered(ctx, n.ID, n.Audience, at)
}

// batch makes the deliverer group its claims and marks; run the returned loops beside it.
func (d *Deliverer) batch() []func(context.Context) error {
	d.claims = newBatcher(func(ctx context.Context, ids []string) (map[string]*domain.Delivery, error) {
		return d.Notices.ClaimMany(ctx, ids, d.now(), d.Hold)
	})
	d.marks = newBatcher(func(ctx context.Context, ids []string) (map[string]struct{}, error) {
		return nil, d.Notices.DeliveredMany(ctx, ids, d.now())
	})
	return []func(context.Context) error{d.claims.run, d.marks.run}
}

func (d *Deliverer) now() time.Time {
	if d.Now != nil {
		return d.Now()
	}
	return time.Now()
}

// ProcessTask implements asynq.Handler. It returns nil even when the attempt failed: the
// failure and the next attempt are recorded in Postgres, which the relay reads; asynq's own
// retries would only hold the task id.
func (d *Deliverer) ProcessTask(ctx context.Context, t *asynq.Task) error {
	id := string(t.Payload())
	if _, err := d.Deliver(ctx, id); err != nil {
		d.Logger.Error("notice delivery", "notice", id, "err", err)
	}
	return nil
}

// Outcome of one call to Deliver.
const (
	OutcomeDelivered = "delivered"
	OutcomeFailed    = "failed"
	OutcomeDead      = "dead"
	OutcomeDeferred  = "deferred"
	OutcomeSkipped   = "skipped" // not there to claim: delivered, not due or held elsewhere
)

// Deliver makes one attempt at a notice and returns its outcome. An error means the outcome
// could not be recorded; the notice's hold lapses and it is tried again.
func (d *Deliverer) Deliver(ctx context.Context, id string) (string, error) {
	now := d.now()
	n, err := d.claim(ctx, id, now)
	if err != nil {
		return "", err
	}
	if n == nil {
		return OutcomeSkipped, nil
	}
	// The bookkeeping below must happen even when the worker is stopping.
	bctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if n.Channel == domain.NoticeSMS {
		if until, quiet := d.Quiet.Until(now); quiet {
			d.Metrics.delivery(n.Channel, OutcomeDeferred)
			return OutcomeDeferred, d.Notices.Defer(bctx, n.ID, n.Attempts, now, until)
		}
	}
	sendErr := d.send(ctx, n)
	if sendErr == nil {
		if err := d.delivered(bctx, n, d.now()); err != nil {
			return "", err
		}
		d.Metrics.delivery(n.Channel, OutcomeDelivered)
		return OutcomeDelivered, nil
	}
	dead := IsPermanent(sendErr) || n.Attempts >= d.MaxAttempts
	outcome := OutcomeFailed
	if dead {
		outcome = OutcomeDead
	}
	next := d.now().Add(d.Backoff.After(n.Attempts))
	if IsNotConfigured(sendErr) {
		// said once per process for each channel and cause (an agency without a webhook URL, say)
		if _, said := d.unconfigured.LoadOrStore(n.Channel+"\x00"+sendErr.Error(), true); !said {
			d.Logger.Warn("a notice channel is not configured: its notices are marked undelivered and can be sent again from the console once it is",
				"channel", n.Channel, "err", sendErr)
		}
	} else {
		d.Logger.Warn("notice attempt failed", "notice", n.ID, "channel", n.Channel, "attempt", n.Attempts, "outcome", outcome, "err", sendErr)
	}
	if err := d.Notices.Failed(bctx, n.ID, n.Attempts, d.now(), sendErr.Error(), next, dead); err != nil {
		return "", err
	}
	d.Metrics.delivery(n.Channel, outcome)
	return outcome, nil
}

// WebhookBody is the JSON a partner agency receives.
type WebhookBody struct {
	NoticeID       string         `json:"notice_id"`
	IdempotencyKey string         `json:"idempotency_key"`
	Happening      string         `json:"happening"`
	Audience       string         `json:"audience"`
	CaseID         string         `json:"case_id"`
	CaseNumber     string         `json:"case_number"`
	CreatedAt      time.Time      `json:"created_at"`
	Text           string         `json:"text"`
	Data           map[string]any `json:"data"`
}

func (d *Deliverer) send(ctx context.Context, n *domain.Delivery) error {
	ch, ok := d.Channels[n.Channel]
	if !ok {
		return Permanent(fmt.Errorf("no %s channel is configured", n.Channel))
	}
	data := n.Data
	if data == nil {
		data = map[string]any{}
	}
	if n.CaseID != "" {
		data["case_number"] = n.CaseNumber
	}
	subject, text, err := d.Templates.Render(n.Template, data)
	if err != nil {
		return Permanent(err)
	}
	o := Outgoing{NoticeID: n.ID, IdempotencyKey: n.IdempotencyKey, Subject: subject, Text: text}
	switch n.Channel {
	case domain.NoticeWebhook:
		o.To, o.Secret = n.WebhookURL, n.WebhookSecret
		if n.AgencyName == "" {
			return Permanent(fmt.Errorf("agency %s does not exist", n.Recipient))
		}
		if n.AgencyDisabled {
			return Permanent(fmt.Errorf("agency %s is disabled", n.AgencyName))
		}
		if o.To == "" {
			return NotConfigured(fmt.Errorf("agency %s has no webhook URL", n.AgencyName))
		}
		o.Body, err = json.Marshal(WebhookBody{NoticeID: n.ID, IdempotencyKey: n.IdempotencyKey, Happening: string(n.Happening),
			Audience: n.Audience, CaseID: n.CaseID, CaseNumber: n.CaseNumber, CreatedAt: n.CreatedAt, Text: text, Data: data})
		if err != nil {
			return Permanent(err)
		}
	case domain.NoticeEmail:
		o.To = n.Recipient
		if n.Audience == domain.AudienceSpecialist || n.Audience == domain.AudienceSupervisor {
			o.To = n.UserEmail
		}
	default:
		o.To = n.Recipient
	}
	return ch.Send(ctx, o)
}
