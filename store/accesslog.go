package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"carepath/domain"
)

// AccessLog implements domain.AccessLog on Postgres.
//
// Every read of a case writes a line, so the log must never make one reader wait for another.
// Each writer (this process, from its start: a row of access_writers) appends to a hash chain
// of its own, and one goroutine of the process (accessWriter) commits the lines of every
// request waiting at that moment with one INSERT: a group commit. A request waits for the
// commit of its batch and for nothing else; no lock is taken on a case, so readers of the
// same case, in one process or many, never queue behind each other. `carepath audit verify`
// walks every writer's chain and checks each line against the cases (Verify).
type AccessLog struct{ db *DB }

// NewAccessLog returns the access log.
func NewAccessLog(db *DB) *AccessLog { return &AccessLog{db: db} }

// Record implements domain.AccessLog: it returns once the lines are committed.
func (l *AccessLog) Record(ctx context.Context, caseIDs []string, e domain.AccessEntry) error {
	ids := chainIDs(caseIDs)
	if len(ids) == 0 {
		return nil
	}
	if err := l.db.access.write(ctx, ids, e); err != nil {
		return fmt.Errorf("record access: %w", err)
	}
	return nil
}

// chainIDs lists the cases of one access entry once each, in lower case and sorted.
func chainIDs(caseIDs []string) []string {
	ids := make([]string, 0, len(caseIDs))
	for _, id := range caseIDs {
		ids = append(ids, strings.ToLower(id))
	}
	slices.Sort(ids)
	return slices.Compact(ids)
}

// accessBatchLines bounds the lines of one commit; a list page is at most 200.
const accessBatchLines = 2000

// errLogClosed: the database handle was closed while a line waited.
var errLogClosed = errors.New("the access log is closed")

// accessRequest is one Record waiting for its batch.
type accessRequest struct {
	ids   []string
	entry domain.AccessEntry
	done  chan error
}

// accessWriter is the process's writer: the goroutine that numbers, chains and commits the
// lines, on a connection of its own (it never waits for the pool). Its chain's state is the
// goroutine's alone. After a failed commit it starts a new writer (a new chain) on a new
// connection, so a chain never forks on a commit whose outcome is unknown.
type accessWriter struct {
	db    *DB
	queue chan *accessRequest
	once  sync.Once

	conn *pgx.Conn
	id   int64  // the writer's row in access_writers; 0 before the first commit
	seq  int    // the last line's place in the chain
	head string // the last line's hash
}

func newAccessWriter(db *DB) *accessWriter {
	return &accessWriter{db: db, queue: make(chan *accessRequest, 1024)}
}

// write queues the lines and waits for their commit.
func (w *accessWriter) write(ctx context.Context, ids []string, e domain.AccessEntry) error {
	w.once.Do(func() { go w.loop() })
	r := &accessRequest{ids: ids, entry: e, done: make(chan error, 1)}
	select {
	case w.queue <- r:
	case <-ctx.Done():
		return ctx.Err()
	case <-w.db.closed:
		return errLogClosed
	}
	select {
	case err := <-r.done:
		return err
	case <-ctx.Done():
		return ctx.Err() // the lines may still be committed: nothing is shown, which is safe
	case <-w.db.closed:
		return errLogClosed
	}
}

// loop takes the requests waiting, commits their lines together, and answers each.
func (w *accessWriter) loop() {
	defer w.disconnect()
	for {
		var batch []*accessRequest
		select {
		case <-w.db.closed:
			return
		case r := <-w.queue:
			batch = append(batch, r)
		}
		lines := len(batch[0].ids)
	gather:
		for lines < accessBatchLines {
			select {
			case r := <-w.queue:
				batch = append(batch, r)
				lines += len(r.ids)
			default:
				break gather
			}
		}
		err := w.commit(batch, lines)
		for _, r := range batch {
			r.done <- err
		}
	}
}

// accessInsertSQL appends a batch of a writer's lines, one per element of the arrays.
const accessInsertSQL = `INSERT INTO access_log (writer_id, seq, case_id, actor_id, actor_name, actor_kind, role, method, route,
		request_id, at, prev_hash, hash)
	SELECT $1, x.seq, x.case_id, x.actor_id, x.actor_name, x.actor_kind, x.role, x.method, x.route, x.request_id, x.at, x.prev, x.hash
	FROM unnest($2::int[], $3::uuid[], $4::text[], $5::text[], $6::actor_kind[], $7::text[], $8::text[], $9::text[], $10::text[],
		$11::timestamptz[], $12::text[], $13::text[])
		AS x(seq, case_id, actor_id, actor_name, actor_kind, role, method, route, request_id, at, prev, hash)`

// commit chains the batch's lines after the writer's head and writes them in one statement
// (atomic on its own: no BEGIN, no COMMIT).
func (w *accessWriter) commit(batch []*accessRequest, n int) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := w.connect(ctx); err != nil {
		return err
	}
	var (
		seqs                                     = make([]int32, 0, n)
		cases, actors, names, kinds, roles       = make([]string, 0, n), make([]string, 0, n), make([]string, 0, n), make([]string, 0, n), make([]string, 0, n)
		methods, routes, requests, prevs, hashes = make([]string, 0, n), make([]string, 0, n), make([]string, 0, n), make([]string, 0, n), make([]string, 0, n)
		ats                                      = make([]time.Time, 0, n)
		seq, head                                = w.seq, w.head
	)
	for _, r := range batch {
		e := r.entry
		at := e.At.UTC().Truncate(time.Microsecond)
		for _, id := range r.ids {
			seq++
			line := accessRow{WriterID: &w.id, Seq: seq, CaseID: id, ActorID: e.ActorID, ActorName: e.ActorName, ActorKind: e.ActorKind,
				Role: e.Role, Method: e.Method, Route: e.Route, RequestID: e.RequestID, At: at, PrevHash: head}
			line.Hash = line.hash()
			seqs, cases, actors, names, kinds = append(seqs, int32(seq)), append(cases, id), append(actors, e.ActorID), append(names, e.ActorName), append(kinds, e.ActorKind)
			roles, methods, routes, requests = append(roles, e.Role), append(methods, e.Method), append(routes, e.Route), append(requests, e.RequestID)
			ats, prevs, hashes = append(ats, at), append(prevs, head), append(hashes, line.Hash)
			head = line.Hash
		}
	}
	if _, err := w.conn.Exec(ctx, accessInsertSQL, w.id, seqs, cases, actors, names, kinds, roles, methods, routes, requests, ats, prevs, hashes); err != nil {
		w.disconnect() // the next batch starts a new writer: this chain's head is no longer certain
		return translate(err, "access log")
	}
	w.seq, w.head = seq, head
	return nil
}

// connect opens the writer's connection and registers a new writer when there is none.
func (w *accessWriter) connect(ctx context.Context) error {
	if w.conn != nil && !w.conn.IsClosed() {
		return nil
	}
	cfg := w.db.conf.Copy()
	delete(cfg.RuntimeParams, "synchronous_commit") // the log is durable before a response: the server's setting
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return fmt.Errorf("connect the access log's writer: %w", err)
	}
	host, _ := os.Hostname()
	var id int64
	if err := conn.QueryRow(ctx, "INSERT INTO access_writers (host, pid, started_at) VALUES ($1, $2, now()) RETURNING id",
		host, os.Getpid()).Scan(&id); err != nil {
		_ = conn.Close(ctx)
		return fmt.Errorf("register the access log's writer: %w", err)
	}
	w.conn, w.id, w.seq, w.head = conn, id, 0, ""
	return nil
}

func (w *accessWriter) disconnect() {
	if w.conn != nil {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = w.conn.Close(ctx)
		w.conn = nil
	}
}

// Query implements domain.AccessLog.
func (l *AccessLog) Query(ctx context.Context, f domain.AuditFilter) (domain.AuditPage, error) {
	q := l.db.Gorm.WithContext(ctx).Model(&accessRow{})
	if f.CaseID != "" {
		q = q.Where("case_id = ?", f.CaseID)
	}
	if f.ActorID != "" {
		q = q.Where("actor_id = ?", f.ActorID)
	}
	if f.From != nil {
		q = q.Where("at >= ?", *f.From)
	}
	if f.To != nil {
		q = q.Where("at < ?", *f.To)
	}
	if f.Cursor != "" {
		id, err := decodeCursor(f.Cursor)
		if err != nil {
			return domain.AuditPage{}, err
		}
		q = q.Where("id < ?", id)
	}
	var rows []accessRow
	if err := q.Order("id DESC").Limit(f.Limit + 1).Find(&rows).Error; err != nil {
		return domain.AuditPage{}, fmt.Errorf("query access log: %w", err)
	}
	page := domain.AuditPage{Items: make([]domain.AccessEntry, 0, len(rows))}
	if len(rows) > f.Limit {
		rows = rows[:f.Limit]
		page.NextCursor = encodeCursor(rows[len(rows)-1].ID)
	}
	for _, r := range rows {
		page.Items = append(page.Items, domain.AccessEntry{ID: r.ID, CaseID: r.CaseID, Seq: r.Seq, ActorID: r.ActorID, ActorName: r.ActorName,
			ActorKind: r.ActorKind, Role: r.Role, Method: r.Method, Route: r.Route, RequestID: r.RequestID, At: r.At.UTC()})
	}
	return page, nil
}
