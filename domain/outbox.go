package domain

import (
	"context"
	"time"
)

// Outbox is what the worker needs of the notices written with the cases: it hands due
// notices to the queue, claims one for each delivery attempt and records the attempt's outcome,
// and feeds the reminder scan. Implemented in store; the worker (jobs) knows no more of storage.
type Outbox interface {
	// Relay locks up to limit due notices not handed over recently, lets enqueue hand them to
	// the queue, and marks those enqueue confirms as handed over until now+lease; it returns
	// how many.
	Relay(ctx context.Context, now time.Time, limit int, lease time.Duration, enqueue func(ctx context.Context, due []OwedNotice) ([]string, error)) (int, error)
	// WaitForCommits calls wake whenever a transaction that wrote notices commits, until ctx
	// ends or the connection fails (its error); a caller polls besides.
	WaitForCommits(ctx context.Context, wake func()) error
	// Claim takes a due notice for one attempt and holds it until now+hold; nil when it is not
	// there to claim (delivered, dead, not due, or held by another worker).
	Claim(ctx context.Context, id string, now time.Time, hold time.Duration) (*Delivery, error)
	// ClaimMany claims several notices at once, keyed by id; those not there to claim are absent.
	ClaimMany(ctx context.Context, ids []string, now time.Time, hold time.Duration) (map[string]*Delivery, error)
	// Delivered marks a notice delivered (and closes the deadline a guardianship notice keeps).
	Delivered(ctx context.Context, id, audience string, now time.Time) error
	// DeliveredMany marks several notices delivered.
	DeliveredMany(ctx context.Context, ids []string, now time.Time) error
	// Failed records a failed attempt: due again at next, or dead.
	Failed(ctx context.Context, id string, attempt int, now time.Time, cause string, next time.Time, dead bool) error
	// Defer gives an attempt back without counting it, due again at until (SMS quiet hours).
	Defer(ctx context.Context, id string, attempt int, now, until time.Time) error
	// Backlog counts the notices owed and how long the oldest has been due.
	Backlog(ctx context.Context, now time.Time) (owed int64, oldestDue time.Duration, err error)
	// Supervisors lists the ids of the active supervisors.
	Supervisors(ctx context.Context) ([]string, error)
	// ScanDue takes up to limit open deadlines whose next reminder is due, lets plan decide
	// each, and writes the notices and the reminders' stages in one transaction.
	ScanDue(ctx context.Context, now time.Time, limit int, plan func(r DueReminder) ReminderOutcome) (ScanResult, error)
	// RemindStaleHomes takes up to limit active homes with an agency whose beds report is
	// older than before (or missing) and whose staleness episode has not been reminded yet
	// (stalehome.go), lets plan write each one's notices, and writes them with the episode
	// recorded in one transaction; homes a concurrent scan holds are skipped. It returns how
	// many homes it took and how many notices it wrote.
	RemindStaleHomes(ctx context.Context, before time.Time, limit int, plan func(h StaleHome) []Notice) (homes, notices int, err error)
}

// OwedNotice is a notice the relay hands over, with the attempts made so far.
type OwedNotice struct {
	ID       string
	Attempts int
}

// Delivery is a notice claimed for one attempt, with what its channel needs to reach the
// recipient: the case number, the agency's webhook or the user's e-mail address.
type Delivery struct {
	Notice
	CaseNumber    string
	AgencyName    string
	WebhookURL    string
	WebhookSecret string
	// AgencyDisabled: the agency was switched off; it is no longer told anything.
	AgencyDisabled bool
	UserEmail      string
}

// ScanResult says what one scan did.
type ScanResult struct {
	Due     int
	Notices int
	// Expire lists the cases whose voucher has expired: the caller fires cancel_voucher on them
	// (outside this transaction, through the service, as the system).
	Expire []string
}
