package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"carepath/domain"
)

// A command's change (the case row, its history line, the deadlines it closes and opens, its
// notices and the access-log line of whoever made it) is written by ONE statement (changeSQLs).
// Each command used to cost a dozen round trips inside its transaction, and at a few hundred
// commands a second the round trips, not the work, were most of the cost on both sides
// (docs/BENCHMARKS.md, "Events"). A single statement is atomic on its own, so a command that
// touches nothing else (most of them) needs no BEGIN and COMMIT either: it is a read of the
// case and this statement. A command that also reserves or releases a bed runs both in one
// transaction (lazyTx).
//
// The statement's first part, u, is either the versioned UPDATE of the case row (a command on
// an existing case: stale version, no row, nothing else written) or a SELECT of the id of the
// case just inserted (registration). Everything else hangs off u.
//
// Chains: the history line's previous hash is read with the case; the UPDATE under the loaded
// version guarantees no line was added since. The access-log line's previous hash and seq are
// read with the case too, but reads of a case extend its access chain without touching the
// case row: the statement takes the chain's advisory lock (the one AccessLog.Record takes) first,
// and if a read added a line since the case was read, the (case_id, seq) key refuses the
// insert, the statement fails whole, and Cases.Update runs the command again, then holding the
// lock from before its read (errChainMoved).
//
// The statement holds only the parts a change needs (changeShape): a part left out, say the
// deadlines' UPDATE of a command that closes none, is not even started, and starting the
// executor for every part of every statement was about a sixth of PostgreSQL's time per
// command (docs/BENCHMARKS.md). The parameters keep their numbers in every shape; those of a
// part left out are only given their types, in the final SELECT.
const (
	changeHistorySQL = `h AS (
	INSERT INTO case_history (case_id, version, event, from_state, to_state, actor_id, actor_name, actor_role, comment, payload, at, prev_hash, hash)
	SELECT u.id, $2, $3, $4, $5, $6, $7, $8, $9, $10::jsonb, $11, $12, $13 FROM u
)`
	changeCloseSQL = `cd AS (
	UPDATE deadlines d SET state = x.state, closed_at = x.closed_at
	FROM u, unnest($14::bigint[], $15::deadline_state[], $16::timestamptz[]) AS x(id, state, closed_at)
	WHERE d.id = x.id AND d.case_id = u.id AND d.state = 'open'
	RETURNING d.id
)`
	changeCloseTypes = `$14::bigint[], $15::deadline_state[], $16::timestamptz[]`
	// od runs after cd (its InitPlan reads cd first): a deadline closed and opened again in one
	// command must be closed before the new one takes its place in deadlines_one_open.
	changeOpenSQL = `od AS (
	INSERT INTO deadlines (case_id, kind, ref, opened_at, due_on, due_at, state, closed_at, remind_at)
	SELECT u.id, x.kind, x.ref, x.opened_at, x.due_on, x.due_at, x.state, x.closed_at, x.remind_at
	FROM u, jsonb_to_recordset($17::jsonb) AS x(kind deadline_kind, ref text, opened_at timestamptz, due_on date, due_at timestamptz,
		state deadline_state, closed_at timestamptz, remind_at timestamptz)
	%s
	RETURNING id, kind, ref
)`
	changeOpenTypes  = `$17::jsonb`
	changeNoticesSQL = `n AS (` + noticesInsertSQL + ` AND EXISTS (SELECT 1 FROM u)
	ON CONFLICT (id) DO NOTHING
)`
	changeNoticesTypes = `$18::jsonb`
	changeAccessSQL    = `a AS (
	INSERT INTO access_log (case_id, seq, actor_id, actor_name, actor_kind, role, method, route, request_id, at, prev_hash, hash)
	SELECT u.id, $19, $20, $21, $22, $23, $24, $25, $26, $27, $28, $29 FROM u, lk
)`
	changeAccessTypes = `$19::int, $20::text, $21::text, $22::actor_kind, $23::text, $24::text, $25::text, $26::text, $27::timestamptz, $28::text, $29::text`
)

// updateCaseSQL is u for a command on an existing case: every column a command may change,
// under the version the command was decided on (and after lk, when there is one: %[2]s). The
// wide columns (the applicant's details, the sealed personal data, the contacts and the
// checklist: most of the row's bytes; with them the access code's hash) are written only by a
// change of one of them (%[1]s,
// wideSetSQL); most commands (leave, hospital, the queue) change none, and writing them again
// cost the JSON's parsing in PostgreSQL and a new seal in carepath on every command. The
// next due time is taken from the deadlines as they are now, not as the command read them:
// a guardianship notice's delivery closes its deadline without a new version of the case
// (Notices.Delivered), and a command that read the case before must not bring it back. $49 is
// the earliest of the deadlines the change opens. $53, for a command decided on a case from
// the cache (caseCache), is the ids of the open deadlines it saw: the case is written only if
// they are still the open ones; NULL after a read.
const updateCaseSQL = `UPDATE cases SET state = $30, version = $31, facility_type = $32, applicant_name = $33, legal_capacity = $34,
		%[1]shealth_org_id = $38, guardianship_id = $39,
		facility_id = $40, voucher_facility_id = $41, voucher_valid_until = $42, leave_return_by = $43, ippsu_number = $44,
		ippsu_date = $45, assignee_id = $46,
		next_due_at = (SELECT min(m.due_at) FROM (
			SELECT d.due_at FROM deadlines d WHERE d.case_id = $1 AND d.state = 'open' AND d.id <> ALL ($14::bigint[])
			UNION ALL SELECT $49::timestamptz) m),
		state_entered_at = $50, updated_at = $51
	WHERE id = $1 AND version = $52 %[2]s
		AND ($53::bigint[] IS NULL OR $53::bigint[] = (SELECT coalesce(array_agg(d.id ORDER BY d.id), '{}')
			FROM deadlines d WHERE d.case_id = $1 AND d.state = 'open'))
	RETURNING id`

const (
	wideSetSQL   = `applicant = $35::jsonb, personal = $36, contacts = $37::jsonb, checklist = $47::jsonb, access_code_hash = $48, `
	wideSetTypes = `$35::jsonb, $36::bytea, $37::jsonb, $47::jsonb, $48::text`
)

// registerCaseSQL is u for a case just inserted.
const registerCaseSQL = `SELECT $1::uuid AS id WHERE true %s`

// changeShape is which parts a change's statement holds; wide: an update writes the wide
// columns too.
type changeShape struct {
	update, close, open, notices, access, wide bool
}

func (k changeShape) index() int {
	i := 0
	for bit, on := range [6]bool{k.update, k.close, k.open, k.notices, k.access, k.wide} {
		if on {
			i |= 1 << bit
		}
	}
	return i
}

// changeSQLs holds the statement of every shape, by changeShape.index.
var changeSQLs = func() (out [64]string) {
	for i := range out {
		out[i] = buildChangeSQL(changeShape{i&1 != 0, i&2 != 0, i&4 != 0, i&8 != 0, i&16 != 0, i&32 != 0})
	}
	return out
}()

func buildChangeSQL(k changeShape) string {
	var parts, types []string
	afterLock := ""
	if k.access {
		// lk: the access chain's lock before the case row's (u), in the order every other
		// holder of both takes them; only when the change writes an access line
		parts = append(parts, "lk AS (SELECT "+accessLockOneSQL("$1")+")")
		afterLock = "AND EXISTS (SELECT FROM lk)" // lk's one row: the lock is taken first
	}
	if k.update {
		wide := wideSetSQL
		if !k.wide {
			wide = ""
			types = append(types, wideSetTypes)
		}
		parts = append(parts, "u AS ("+fmt.Sprintf(updateCaseSQL, wide, afterLock)+")")
	} else {
		parts = append(parts, "u AS ("+fmt.Sprintf(registerCaseSQL, afterLock)+")") // $1-$29 only
	}
	parts = append(parts, changeHistorySQL)
	if k.close {
		parts = append(parts, changeCloseSQL)
	} else {
		types = append(types, changeCloseTypes)
	}
	opened := "'[]'::json"
	if k.open {
		after := ""
		if k.close {
			after = "WHERE (SELECT count(*) FROM cd) >= 0"
		}
		parts = append(parts, fmt.Sprintf(changeOpenSQL, after))
		opened = "(SELECT coalesce(json_agg(json_build_object('id', id, 'kind', kind, 'ref', ref)), '[]') FROM od)"
	} else {
		types = append(types, changeOpenTypes)
	}
	if k.notices {
		parts = append(parts, changeNoticesSQL)
	} else {
		types = append(types, changeNoticesTypes)
	}
	if k.access {
		parts = append(parts, changeAccessSQL)
	} else {
		types = append(types, changeAccessTypes)
	}
	// EXISTS, not count(*): u has at most one row, and an aggregate costs its start-up on every
	// statement
	q := "WITH " + strings.Join(parts, ",\n") + "\nSELECT EXISTS (SELECT FROM u)::int, " + opened + "::text"
	if len(types) > 0 {
		q += "\nWHERE (" + strings.Join(types, ", ") + ") IS NULL OR true"
	}
	return q
}

// errChainMoved: a read of the case extended its access chain while the command was being
// decided; the command is run again from a fresh read.
var errChainMoved = errors.New("the case's access chain moved meanwhile")

// errCacheStale: a command decided on a case from the cache wrote nothing (another command, or
// a delivery that closed a deadline, came first); it is run again from a fresh read.
var errCacheStale = errors.New("the cached case is no longer current")

// chainHeads are the heads of a case's two hash chains as read with the case, and whether its
// personal data is sealed under a key that is no longer the first (a write then seals it again,
// even when the command did not change it).
type chainHeads struct {
	historyHash string
	accessSeq   int
	accessHash  string
	oldSeal     bool
}

// execQuerier is a database/sql pool or transaction.
type execQuerier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// querier is where a command's statements go: queryRow runs a query and scans its one row
// (sql.ErrNoRows when there is none).
type querier interface {
	queryRow(ctx context.Context, dest []any, query string, args ...any) error
}

// pgxPool sends a command's statements through pgx on a pooled connection: a change statement
// has fifty parameters, and database/sql converts each on the way (docs/BENCHMARKS.md).
type pgxPool struct{ db *DB }

func (p pgxPool) queryRow(ctx context.Context, dest []any, query string, args ...any) error {
	return p.db.withConn(ctx, func(conn *pgx.Conn) error {
		err := conn.QueryRow(ctx, query, args...).Scan(dest...)
		if errors.Is(err, pgx.ErrNoRows) {
			return sql.ErrNoRows
		}
		return err
	})
}

// sqlQuerier sends them through database/sql: inside a transaction.
type sqlQuerier struct{ db execQuerier }

func (q sqlQuerier) queryRow(ctx context.Context, dest []any, query string, args ...any) error {
	return q.db.QueryRowContext(ctx, query, args...).Scan(dest...)
}

// noticeJSON is one outbox row as the change statement reads it: domain.Notice's outbox
// columns (not its delivery state, and data never null) plus what the webhook rule joins on.
type noticeJSON struct {
	ID             string         `json:"id"`
	CaseID         string         `json:"case_id"`
	Happening      string         `json:"happening"`
	Audience       string         `json:"audience"`
	Channel        string         `json:"channel"`
	Recipient      string         `json:"recipient"`
	Template       string         `json:"template"`
	Data           map[string]any `json:"data"`
	IdempotencyKey string         `json:"idempotency_key"`
	NotBefore      time.Time      `json:"not_before"`
	CreatedAt      time.Time      `json:"created_at"`
	Mandatory      bool           `json:"mandatory"`
	// Agency is the recipient agency of a webhook notice (its subscriptions are joined by it).
	Agency *string `json:"agency"`
}

// noticesInsertSQL puts the notices of the JSON array $18 into the outbox. A webhook notice of
// a happening its agency did not choose is dropped, unless the law requires it (mandatory;
// an agency that chose nothing gets everything); the reminder scan, which copies thousands of
// notices at once, applies the same rule in Go (subscribed) before its COPY. A notice whose id
// is already there is the same notice written by a retried command (the id is derived from
// its key) and is skipped. The agency is looked up by a scalar subquery, one index probe per
// webhook notice: as a join, the generic plan hashed the whole agencies table on every command.
const noticesInsertSQL = `INSERT INTO notices (id, case_id, happening, audience, channel, recipient, template, data, idempotency_key,
		status, not_before, next_attempt_at, created_at, updated_at)
	SELECT x.id, x.case_id, x.happening, x.audience, x.channel, x.recipient, x.template, x.data, x.idempotency_key,
		'pending', x.not_before, x.not_before, x.created_at, x.created_at
	FROM jsonb_to_recordset($18::jsonb) AS x(id uuid, case_id uuid, happening text, audience notice_audience, channel notice_channel, recipient text,
		template text, data jsonb, idempotency_key text, not_before timestamptz, created_at timestamptz, mandatory boolean, agency uuid)
	WHERE (x.agency IS NULL OR x.mandatory OR coalesce((SELECT cardinality(ag.webhook_happenings) = 0 OR (x.happening = ANY (ag.webhook_happenings)) IS TRUE
		FROM agencies ag WHERE ag.id = x.agency), true))`

func noticesJSON(ns []domain.Notice) string {
	rows := make([]noticeJSON, len(ns))
	for i, n := range ns {
		data := n.Data
		if data == nil {
			data = map[string]any{}
		}
		var agency *string
		if n.Channel == domain.NoticeWebhook && domain.IsUUID(n.Recipient) {
			agency = &n.Recipient
		}
		rows[i] = noticeJSON{n.ID, n.CaseID, string(n.Happening), n.Audience, n.Channel, n.Recipient, n.Template, data,
			n.IdempotencyKey, n.NotBefore, n.CreatedAt, n.Channel == domain.NoticeWebhook && domain.Mandatory(n), agency}
	}
	return mustJSON(rows)
}

// writeChange writes c's change with one statement on db (the pool, or the command's
// transaction). update says whether c's row is to be updated under version loaded (false: it
// was just inserted). It reports ESTALE when the version moved, errChainMoved when the access
// chain did.
//
// It returns the heads of the case's chains after the change. cachedOpen is, for a command
// decided on a case from the cache, the ids of the open deadlines it saw (nil otherwise); the
// statement then writes nothing if they changed meanwhile, and writeChange says errCacheStale.
func (s *Cases) writeChange(ctx context.Context, db querier, c *domain.Case, ch *domain.Change, heads chainHeads, update, wide bool, loaded int, cachedOpen []int64) (chainHeads, error) {
	h := historyToRow(c.ID, ch.History)
	h.PrevHash = heads.historyHash
	h.Hash = historyHash(h.PrevHash, h)

	closeIDs := make([]int64, len(ch.CloseDeadlines))
	closeStates := make([]string, len(ch.CloseDeadlines))
	closedAt := make([]*time.Time, len(ch.CloseDeadlines))
	for i, d := range ch.CloseDeadlines {
		closeIDs[i], closeStates[i], closedAt[i] = d.ID, string(d.State), d.ClosedAt
	}
	open := make([]deadlineRow, len(ch.OpenDeadlines))
	for i, d := range ch.OpenDeadlines {
		open[i] = deadlineToRow(c.ID, d)
	}

	var a accessRow
	var actorKind any // an enum: NULL, not '', when there is no line
	pending := domain.PendingAccessFrom(ctx)
	if pending != nil {
		e := pending.Entry
		a = accessRow{CaseID: strings.ToLower(c.ID), Seq: heads.accessSeq + 1, ActorID: e.ActorID, ActorName: e.ActorName,
			ActorKind: e.ActorKind, Role: e.Role, Method: e.Method, Route: e.Route, RequestID: e.RequestID,
			At: e.At.UTC().Truncate(time.Microsecond), PrevHash: heads.accessHash}
		a.Hash = accessHash(a.PrevHash, a)
		actorKind = a.ActorKind
	}
	args := []any{c.ID,
		h.Version, h.Event, h.FromState, h.ToState, h.ActorID, h.ActorName, h.ActorRole, h.Comment, h.Payload, h.At, h.PrevHash, h.Hash,
		closeIDs, closeStates, closedAt, mustJSON(open), noticesJSON(ch.Notices),
		a.Seq, a.ActorID, a.ActorName, actorKind, a.Role, a.Method, a.Route, a.RequestID, a.At, a.PrevHash, a.Hash}
	shape := changeShape{update: update, close: len(closeIDs) > 0, open: len(open) > 0, notices: len(ch.Notices) > 0, access: pending != nil,
		wide: update && wide}
	query := changeSQLs[shape.index()]
	if update {
		r := narrowRow(c)
		var applicant, personal, contacts, checklist, codeHash any // NULL in a statement that leaves them
		if shape.wide {
			s.wideToRow(c, &r)
			applicant, personal, contacts, checklist, codeHash = r.Applicant, r.Personal, r.Contacts, r.Checklist, r.AccessCodeHash
		}
		args = append(args, r.State, r.Version, r.FacilityType, r.ApplicantName, r.LegalCapacity, applicant, personal, contacts,
			r.HealthOrgID, r.GuardianshipID, r.FacilityID, r.VoucherFacilityID, r.VoucherValidUntil, r.LeaveReturnBy, r.IPPSUNumber,
			r.IPPSUDate, r.AssigneeID, checklist, codeHash, nextDue(ch.OpenDeadlines), r.StateEnteredAt, r.UpdatedAt, loaded, cachedOpen)
	}
	var rows int
	var opened string
	if err := db.queryRow(ctx, []any{&rows, &opened}, query, args...); err != nil {
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && pgErr.ConstraintName == "access_log_case_id_seq_key" {
			return heads, errChainMoved
		}
		return heads, translate(err, "case")
	}
	if rows == 0 {
		if cachedOpen != nil {
			return heads, errCacheStale
		}
		return heads, staleVersion(c.Number, loaded, 0)
	}
	// Give the case's new deadlines their ids (an open deadline is one per kind and ref).
	var ids []struct {
		ID   int64  `json:"id"`
		Kind string `json:"kind"`
		Ref  string `json:"ref"`
	}
	if err := json.Unmarshal([]byte(opened), &ids); err != nil {
		return heads, fmt.Errorf("new deadlines of case %s: %w", c.ID, err)
	}
	for i := range c.Deadlines {
		d := &c.Deadlines[i]
		for _, id := range ids {
			if d.ID == 0 && string(d.Kind) == id.Kind && d.Ref == id.Ref {
				d.ID = id.ID
			}
		}
	}
	after := chainHeads{historyHash: h.Hash, accessSeq: heads.accessSeq, accessHash: heads.accessHash}
	if pending != nil {
		pending.Written = true
		after.accessSeq, after.accessHash = a.Seq, a.Hash
	}
	return after, nil
}

// relayBell tells the notices relay that the outbox has new rows: a NOTIFY after the commit,
// never inside a case's transaction (in PostgreSQL a notifying commit holds a database-wide
// lock through its WAL flush, so notifying commits cannot be grouped), and at most one per
// bellInterval however many commands commit. A NOTIFY lost with a crash costs nothing but
// latency: the relay also polls.
type relayBell struct {
	db   *sql.DB
	once sync.Once
	ring chan struct{}
	done chan struct{}
}

const bellInterval = 5 * time.Millisecond

func newRelayBell(db *sql.DB) *relayBell {
	return &relayBell{db: db, ring: make(chan struct{}, 1), done: make(chan struct{})}
}

// Ring asks for a NOTIFY soon; it never blocks.
func (b *relayBell) Ring() {
	b.once.Do(func() { go b.loop() })
	select {
	case b.ring <- struct{}{}:
	default: // one is already due
	}
}

func (b *relayBell) loop() {
	for {
		select {
		case <-b.done:
			return
		case <-b.ring:
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_, _ = b.db.ExecContext(ctx, "SELECT pg_notify($1, '')", NoticeChannel) // the relay polls too
		cancel()
		select {
		case <-b.done:
			return
		case <-time.After(bellInterval):
		}
	}
}

func (b *relayBell) stop() { close(b.done) }
