// Package lookup is the relatives' status lookup against PostgreSQL (domain.StatusStore): the
// lookups are read in batches by two readers on connections of their own, the waiting list's
// positions come from a snapshot refreshed in the background, and the failure counters of the
// lockout live beside the cases. Its cleverness lives here, apart from the store's.
package lookup

import (
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"carepath/domain"
	"carepath/store"
)

// Lookups implements domain.StatusStore: the relatives' lookup reads the case (with its next
// step's due date) and both failure counters in one round trip, so a lookup costs one query.
type Lookups struct {
	db *store.DB
	// done is closed when the database handle is: the readers stop.
	done <-chan struct{}
	// waiting is a snapshot of every waiting-list position, rebuilt in the background when
	// older than WaitingTTL: counting the cases ahead costs time in proportion to the position
	// (milliseconds at the back of a list of tens of thousands), a map lookup does not. The
	// admissions by segment, for the wait estimate, are a value of their own (segments.go).
	waiting    fresh[waitingSnapshot]
	admissions fresh[admissionsSnapshot]
	query      atomic.Pointer[statusSQL]
	batcher    sync.Once
	batch      *statusBatcher
	// WaitingTTL is how old a position shown to relatives may be (default 30 s).
	WaitingTTL time.Duration
	// Reader, when set, is where the waiting snapshot is read: a standby (DATABASE_READ_URL).
	// A case a lagging standby does not show waiting yet is counted on db instead; the lookups
	// themselves and the lockout counters stay on db, which they write.
	Reader *store.DB
}

type waitingSnapshot struct {
	// entries: each waiting case's places; totals: each type's list length (segments.go)
	entries map[string]waitingEntry
	totals  map[string]int
}

// New returns the status lookup store.
func New(db *store.DB) *Lookups {
	l := &Lookups{db: db, done: db.Done(), WaitingTTL: 30 * time.Second}
	l.waiting.build = l.buildWaiting
	l.admissions.build = l.buildAdmissions
	return l
}

// Warm starts building the waiting snapshot and the admissions, so that the first lookups of a
// freshly started server find them (serve calls it; the first lookups would start them anyway).
func (l *Lookups) Warm() {
	l.waiting.start()
	l.admissions.start()
}

// snapshotWait is how long a lookup waits for the first waiting snapshot (a few hundred
// milliseconds at 100,000 waiting cases) before counting its own position.
const snapshotWait = 2 * time.Second

// snapshot is the waiting snapshot, or nil when none is young enough (fresh.get).
func (l *Lookups) snapshot(ctx context.Context) (*waitingSnapshot, error) {
	return l.waiting.get(ctx, l.WaitingTTL, snapshotWait)
}

// statusSQL is the lookups' query for one plan, for a batch of lookups (statusBatcher). The
// cases and the counters are two branches of a UNION ALL (a row tagged "c" per case found, "f"
// per counter found): about a third of the database time of joining them. The plan's states
// and deadline kinds are constants of the text (built once), so each execution sends two
// parameters: the numbers and the counter keys. The next step's due date is a subquery (an
// index probe of deadlines_one_open) evaluated only for a case in a state that shows one,
// about one lookup in twenty: touching the deadlines for every case would cost every lookup
// about as much as the rest of the query, and a query of its own after the lookup cost those
// lookups a second round trip. The case's columns are all in the number's unique index
// (migration 00011), so the case is found by an index-only scan; the checklist, the only
// column read from the table, is a subquery by id for the states that show it. The stages
// passed are the case's timeline, kept beside it from the history (migration 00065) and also in
// that index: probing the history for them cost each lookup about as much database time as all
// the rest.
type statusSQL struct {
	plan *domain.StatusPlan
	text string
}

func (l *Lookups) statusQuery(plan *domain.StatusPlan) string {
	if q := l.query.Load(); q != nil && q.plan == plan {
		return q.text
	}
	checklist := "false"
	if len(plan.ChecklistStates) > 0 {
		checklist = "c.state IN (" + sqlLiterals(plan.ChecklistStates) + ")"
	}
	nextDue := "NULL::date"
	if len(plan.NextDueKinds) > 0 {
		states := slices.Sorted(maps.Keys(plan.NextDueKinds))
		var whens strings.Builder
		for _, st := range states {
			fmt.Fprintf(&whens, " WHEN %s THEN %s", sqlLiteral(st), sqlLiteral(plan.NextDueKinds[st]))
		}
		nextDue = `CASE WHEN c.state IN (` + sqlLiterals(states) + `) THEN
		(SELECT min(d.due_on) FROM deadlines d WHERE d.case_id = c.id AND d.state = 'open'
			AND d.kind = (CASE c.state::text` + whens.String() + ` END)::deadline_kind) END`
	}
	sex := "NULL::text"
	if len(plan.SexStates) > 0 {
		// from the index (migration 00066), in the states whose wording needs it
		sex = "CASE WHEN c.state IN (" + sqlLiterals(plan.SexStates) + ") THEN CASE c.applicant_female WHEN true THEN 'female' WHEN false THEN 'male' END END"
	}
	home := "NULL::text"
	if len(plan.VoucherStates) > 0 {
		home = "CASE WHEN c.state IN (" + sqlLiterals(plan.VoucherStates) + `) THEN
		(SELECT f.name FROM cases k JOIN facilities f ON f.id = k.voucher_facility_id WHERE k.id = c.id) END`
	}
	text := `SELECT 'c', c.number, c.id::text, c.state::text, c.state_entered_at, c.access_code_hash,
	CASE WHEN ` + checklist + ` THEN (SELECT k.checklist FROM cases k WHERE k.id = c.id) END, NULL::int, ` + nextDue + `, ` + sex + `,
	` + home + `, c.timeline
FROM cases c WHERE c.number = ANY ($1::text[])
UNION ALL
SELECT 'f', f.key, NULL, NULL, f.window_start, NULL, NULL, f.failures, NULL, NULL, NULL, NULL
FROM status_failures f WHERE f.key = ANY ($2::text[])`
	l.query.Store(&statusSQL{plan, text})
	return text
}

func sqlLiteral(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

func sqlLiterals(ss []string) string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = sqlLiteral(s)
	}
	return strings.Join(out, ", ")
}

// statusRow is one lookup's result.
type statusRow struct {
	rec domain.StatusCase
	// checklist is the case row's checklist as read (nil outside the plan's states), decoded
	// only when the view shows it.
	checklist []byte
	// stepsErr: the case's timeline could not be read (that lookup fails, not its batch)
	stepsErr error
}

func (r *statusRow) decodeChecklist() (domain.Checklist, error) {
	if r.checklist == nil {
		return nil, fmt.Errorf("case %s: the checklist was not read in state %s", r.rec.Number, r.rec.State)
	}
	cl, err := store.DecodeChecklist(r.checklist)
	if err != nil {
		return nil, fmt.Errorf("case %s checklist: %w", r.rec.Number, err)
	}
	return cl, nil
}

// StatusCase implements domain.StatusStore. Lookups that arrive together are read together:
// each waits for a batch, and one query (statusQuery) serves the whole batch (statusBatcher).
func (l *Lookups) StatusCase(ctx context.Context, number string, keys domain.StatusKeys, plan *domain.StatusPlan) (*domain.StatusCase, error) {
	req := &lookupReq{number: number, keys: keys, plan: plan, done: make(chan error, 1)}
	l.batcher.Do(func() { l.batch = newStatusBatcher(l) })
	select {
	case l.batch.in <- req:
	case <-ctx.Done():
		return nil, fmt.Errorf("read case %s for the status lookup: %w", number, ctx.Err())
	}
	select {
	case err := <-req.done:
		if err == nil {
			err = req.row.stepsErr
		}
		if err != nil {
			return nil, fmt.Errorf("read case %s for the status lookup: %w", number, err)
		}
		return &req.row.rec, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("read case %s for the status lookup: %w", number, ctx.Err())
	}
}

// lookupReq is one lookup waiting in a batch.
type lookupReq struct {
	number string
	keys   domain.StatusKeys
	plan   *domain.StatusPlan
	row    statusRow
	done   chan error
}

// statusBatcher reads the lookups of many relatives with one query. Under load a lookup's own
// work in carepath is small next to its round trip to PostgreSQL (system calls on both sides,
// a backend woken, a statement started), so lookups share round trips: while one batch is at
// the database the next one gathers, and under load a batch waits a moment for more
// (statusBatchFill, statusBatchWait). A lone lookup on a quiet server is a batch of one and
// waits for nothing. Every lookup of a batch gets the same treatment whatever its number and
// code, so batching tells nothing about which cases exist.
type statusBatcher struct {
	l  *Lookups
	in chan *lookupReq
	// gather is held by the reader that is gathering the next batch: one batch gathers at a
	// time, so the readers do not split the arrivals between them, while another batch may be
	// at the database.
	gather sync.Mutex
	// busy: the last batch held more than one lookup, so more are coming than one at a time.
	busy  atomic.Bool
	wait  time.Duration // statusBatchWait; longer in tests
	timer *time.Timer
}

const (
	// statusReaders is how many batches may be at the database at once, each on a connection
	// of its own (ownConn), beyond the pool's DB_MAX_CONNS. Two: a single reader is a single
	// PostgreSQL backend, and when that backend waits for a CPU every lookup waits (on a
	// machine short of CPU, two readers served 1.4 to 1.9 times the lookups of one;
	// docs/BENCHMARKS.md, session 4). Since session 5 only one of them gathers at a time
	// (statusBatcher.gather), so their batches are as large as a single reader's.
	statusReaders = 2
	// statusBatchMax bounds a batch (the query's arrays).
	statusBatchMax = 64
	// statusBatchFill and statusBatchWait: under load, a batch that holds fewer than
	// statusBatchFill lookups waits up to statusBatchWait for more before it goes to the
	// database. At 32 clients the batches were 3 lookups without the wait and 6 to 7 with it,
	// and the server answered 7-38% more lookups a second, p99 no worse (session 5,
	// docs/BENCHMARKS.md); a longer wait or a larger fill lost again. The wait is for a
	// busy server only (statusBatcher.busy): a lookup that arrives alone goes at once.
	statusBatchFill = 12
	statusBatchWait = 500 * time.Microsecond
)

func newStatusBatcher(l *Lookups) *statusBatcher {
	b := newBatchQueue(l, statusBatchWait)
	for range statusReaders {
		go b.run()
	}
	return b
}

// newBatchQueue is the batcher without its readers.
func newBatchQueue(l *Lookups, wait time.Duration) *statusBatcher {
	b := &statusBatcher{l: l, in: make(chan *lookupReq, 4*statusBatchMax), wait: wait, timer: time.NewTimer(time.Hour)}
	b.timer.Stop()
	return b
}

func (b *statusBatcher) run() {
	conn := &ownConn{db: b.l.db}
	defer conn.close()
	batch := make([]*lookupReq, 0, statusBatchMax)
	for {
		var ok bool
		if batch, ok = b.next(batch[:0]); !ok {
			return
		}
		b.read(conn, batch)
	}
}

// next gathers the next batch into batch; false when the database is closed.
func (b *statusBatcher) next(batch []*lookupReq) ([]*lookupReq, bool) {
	b.gather.Lock()
	defer b.gather.Unlock()
	select {
	case <-b.l.done:
		return batch, false
	case r := <-b.in:
		batch = append(batch, r)
	}
	batch = b.drain(batch)
	if len(batch) < statusBatchFill && b.busy.Load() {
		// The timer is this gatherer's alone (b.gather); a stopped or fired Go timer may be
		// reset without draining its channel.
		b.timer.Reset(b.wait)
	wait:
		for len(batch) < statusBatchFill {
			select {
			case r := <-b.in:
				batch = append(batch, r)
			case <-b.timer.C:
				break wait
			}
		}
		b.timer.Stop()
		batch = b.drain(batch)
	}
	b.busy.Store(len(batch) > 1)
	return batch, true
}

// drain adds the lookups already waiting, up to statusBatchMax.
func (b *statusBatcher) drain(batch []*lookupReq) []*lookupReq {
	for len(batch) < statusBatchMax {
		select {
		case r := <-b.in:
			batch = append(batch, r)
		default:
			return batch
		}
	}
	return batch
}

// read answers one batch: one query per plan (there is one plan in practice).
func (b *statusBatcher) read(conn *ownConn, batch []*lookupReq) {
	for len(batch) > 0 {
		plan := batch[0].plan
		same := batch[:0:0]
		rest := batch[:0:0]
		for _, r := range batch {
			if r.plan == plan {
				same = append(same, r)
			} else {
				rest = append(rest, r)
			}
		}
		err := b.query(conn, plan, same)
		for _, r := range same {
			r.done <- err
		}
		batch = rest
	}
}

func (b *statusBatcher) query(own *ownConn, plan *domain.StatusPlan, batch []*lookupReq) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	numbers := make([]string, 0, len(batch))
	keys := make([]string, 0, 3*len(batch))
	byNumber := make(map[string][]*lookupReq, len(batch))
	byKey := make(map[string][]*lookupReq, 3*len(batch))
	for _, r := range batch {
		if _, ok := byNumber[r.number]; !ok {
			numbers = append(numbers, r.number)
		}
		byNumber[r.number] = append(byNumber[r.number], r)
		for _, k := range [3]string{r.keys.Case, r.keys.Client, r.keys.Address} {
			if _, ok := byKey[k]; !ok {
				keys = append(keys, k)
			}
			byKey[k] = append(byKey[k], r)
		}
	}
	return own.with(ctx, func(conn *pgx.Conn) error {
		rows, err := conn.Query(ctx, b.l.statusQuery(plan), numbers, keys)
		if err != nil {
			return err
		}
		defer rows.Close()
		var (
			tag, key, id, state, hash, sex pgtype.Text
			home, steps                    pgtype.Text
			checklist                      []byte
			at                             pgtype.Timestamptz
			failures                       pgtype.Int4
			due                            pgtype.Date
		)
		for rows.Next() {
			checklist = nil
			if err := rows.Scan(&tag, &key, &id, &state, &at, &hash, &checklist, &failures, &due, &sex, &home, &steps); err != nil {
				return err
			}
			if tag.String == "c" {
				var nextDue *domain.Date
				if due.Valid {
					d := domain.NewDate(due.Time.Year(), due.Time.Month(), due.Time.Day())
					nextDue = &d
				}
				for _, r := range byNumber[key.String] {
					rec := &r.row.rec
					rec.Found, rec.ID, rec.Number, rec.State, rec.StateEnteredAt, rec.AccessCodeHash, rec.NextDue =
						true, id.String, r.number, domain.State(state.String), at.Time, hash.String, nextDue
					rec.Sex, rec.VoucherHome = sex.String, home.String
					rec.Steps, r.row.stepsErr = store.ParseTimeline(steps.String)
					r.row.checklist, rec.Checklist = checklist, r.row.decodeChecklist
				}
				continue
			}
			counter := domain.StatusCounter{Failures: int(failures.Int32), WindowStart: at.Time}
			for _, r := range byKey[key.String] {
				switch key.String {
				case r.keys.Case:
					r.row.rec.ByCase = counter
				case r.keys.Client:
					r.row.rec.ByClient = counter
				case r.keys.Address:
					r.row.rec.ByAddress = counter
				}
			}
		}
		return rows.Err()
	})
}

// RecordFailure implements domain.StatusStore: one atomic upsert per key, so concurrent
// failures are all counted. One failure in 256 also clears the counters untouched for a day
// (or the window, when longer), so someone trying many numbers does not grow the table for
// ever; a day is longer than any counter is remembered (StatusClientMemory), and an ended
// window counts as empty anyway.
func (l *Lookups) RecordFailure(ctx context.Context, keys []string, now time.Time, window time.Duration) error {
	if rand.N(256) == 0 {
		if _, err := l.PruneFailures(ctx, now, max(window, 24*time.Hour)); err != nil {
			return err
		}
	}
	for _, k := range keys {
		_, err := l.db.SQL.ExecContext(ctx, `INSERT INTO status_failures (key, failures, window_start) VALUES ($1, 1, $2)
			ON CONFLICT (key) DO UPDATE SET
			  failures = CASE WHEN status_failures.window_start <= $3 THEN 1 ELSE status_failures.failures + 1 END,
			  window_start = CASE WHEN status_failures.window_start <= $3 THEN $2 ELSE status_failures.window_start END`,
			k, now, now.Add(-window))
		if err != nil {
			return fmt.Errorf("count failed lookup: %w", err)
		}
	}
	return nil
}

// ClearFailures implements domain.StatusStore.
func (l *Lookups) ClearFailures(ctx context.Context, key string) error {
	if _, err := l.db.SQL.ExecContext(ctx, "DELETE FROM status_failures WHERE key = $1", key); err != nil {
		return fmt.Errorf("clear failed lookups: %w", err)
	}
	return nil
}

// ClearCase implements domain.StatusStore.
func (l *Lookups) ClearCase(ctx context.Context, number string) error {
	ceiling, clients := domain.CaseLockKeys(number)
	_, err := l.db.SQL.ExecContext(ctx, "DELETE FROM status_failures WHERE key = $1 OR starts_with(key, $2)", ceiling, clients)
	if err != nil {
		return fmt.Errorf("clear the lockout of case %s: %w", number, err)
	}
	return nil
}

// PruneFailures removes counters whose window ended (the worker or an operator may run it; a
// stale row is harmless, since an ended window counts as empty).
func (l *Lookups) PruneFailures(ctx context.Context, now time.Time, window time.Duration) (int64, error) {
	res, err := l.db.SQL.ExecContext(ctx, "DELETE FROM status_failures WHERE window_start <= $1", now.Add(-window))
	if err != nil {
		return 0, fmt.Errorf("prune failed lookups: %w", err)
	}
	return res.RowsAffected()
}

// HasWaitingSnapshot reports whether positions are served from a snapshot.
func (l *Lookups) HasWaitingSnapshot() bool { return l.waiting.has() }
