package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"gorm.io/gorm"

	"carepath/domain"
)

// Hash chains. Each history line and each access log line stores the hash of the previous line
// of its case and its own: SHA-256 over the previous hash and a canonical JSON array of the
// line's fields. Changing, removing or inserting a line breaks the chain at that point, which
// `carepath audit verify` reports. (Someone who can write the database could recompute a whole
// chain; the digest verify prints over every chain head lets an operator keep a copy elsewhere
// and notice that too.)

// canonicalJSON re-encodes JSON so that the text Go wrote and the text jsonb gives back hash
// alike (jsonb reorders keys and changes spacing).
func canonicalJSON(raw string) json.RawMessage {
	var v any
	if err := json.Unmarshal([]byte(raw), &v); err != nil {
		return json.RawMessage(strconv.Quote(raw))
	}
	b, _ := json.Marshal(v)
	return b
}

func chainHash(prev string, fields ...any) string {
	b, err := json.Marshal(fields)
	if err != nil {
		panic(fmt.Sprintf("hash fields: %v", err))
	}
	h := sha256.New()
	h.Write([]byte(prev))
	h.Write([]byte{'\n'})
	h.Write(b)
	return hex.EncodeToString(h.Sum(nil))
}

func stamp(t time.Time) string { return t.UTC().Truncate(time.Microsecond).Format(time.RFC3339Nano) }

func historyHash(prev string, h historyRow) string {
	return chainHash(prev, strings.ToLower(h.CaseID), h.Version, h.Event, h.FromState, h.ToState, h.ActorID, h.ActorName,
		h.ActorRole, h.Comment, canonicalJSON(h.Payload), stamp(h.At))
}

type accessRow struct {
	ID        int64 `gorm:"primaryKey;->"`
	CaseID    string
	Seq       int
	ActorID   string
	ActorName string
	ActorKind string
	Role      string
	Method    string
	Route     string
	RequestID string
	At        time.Time
	PrevHash  string
	Hash      string
}

func (accessRow) TableName() string { return "access_log" }

func accessHash(prev string, r accessRow) string {
	return chainHash(prev, strings.ToLower(r.CaseID), r.Seq, r.ActorID, r.ActorName, r.ActorKind, r.Role, r.Method, r.Route,
		r.RequestID, stamp(r.At))
}

// AccessLog implements domain.AccessLog on Postgres.
type AccessLog struct{ db *DB }

// NewAccessLog returns the access log.
func NewAccessLog(db *DB) *AccessLog { return &AccessLog{db: db} }

// accessLockClass namespaces the advisory locks that serialise each case's access chain.
const accessLockClass = 7002

// accessLockKeySQL is the lock key of the case whose id is the SQL expression id: every holder
// of a case's chain lock (Record, a command's statement, a command run again) computes it so.
func accessLockKeySQL(id string) string { return "hashtext(" + id + "::uuid::text)" }

// accessLockOneSQL takes the access chain's lock of the case whose id is the SQL expression id.
func accessLockOneSQL(id string) string {
	return fmt.Sprintf("pg_advisory_xact_lock(%d, %s)", accessLockClass, accessLockKeySQL(id))
}

// Record implements domain.AccessLog. Each case's chain is extended under a transaction-scoped
// advisory lock on the case, taken in one fixed order (by lock key) so two requests over
// overlapping lists cannot deadlock; the locks do not touch the case rows, so logging a read
// never waits for a change to the case.
//
// A list page logs fifty lines, so this is the list's hottest write. It goes over the pgx
// connection in two pipelined round trips (BEGIN, the locks and the chain heads; then one
// INSERT of every line from arrays, and COMMIT) instead of five through gorm. The heads are read
// by a statement of their own after the locks: in READ COMMITTED a statement sees what was
// committed before it started, so the lock holder's lines are visible to the next statement,
// not to the one that waited for the lock.
//
// When this process knows the head of every chain (accessHeads: it wrote the last line of each),
// the heads are not read: BEGIN, the locks, the INSERT and COMMIT go in one round trip. A head
// that moved meanwhile (another process logged the case) makes the (case_id, seq) key refuse the
// INSERT, and the lines are written the first way.
func (l *AccessLog) Record(ctx context.Context, caseIDs []string, e domain.AccessEntry) error {
	ids := chainIDs(caseIDs)
	if len(ids) == 0 {
		return nil
	}
	var rows []accessRow
	err := l.db.withConn(ctx, func(pc *pgx.Conn) (err error) {
		defer func() {
			if err != nil && !pc.PgConn().IsClosed() && pc.PgConn().TxStatus() != 'I' {
				// leave no transaction open on a connection that goes back to the pool
				_, _ = pc.Exec(context.WithoutCancel(ctx), "ROLLBACK")
			}
		}()
		if last, prev, ok := l.db.heads.lookup(ids); ok {
			rows = newAccessRows(ids, e, last, prev)
			err = insertAccess(pc.SendBatch(ctx, queueInsertAccess(lockedBatch(ids), ids, rows)), 2)
			if err == nil {
				l.db.heads.written.Add(1)
				return nil
			}
			if !isPgError(err, pgUnique) {
				return err
			}
			// A head moved: forget what this process knew of these chains and read them.
			l.db.heads.drop(ids)
			if _, err = pc.Exec(ctx, "ROLLBACK"); err != nil {
				return err
			}
		}
		rows, err = recordAccess(ctx, pc, ids, e)
		return err
	})
	if err != nil {
		return fmt.Errorf("record access: %w", translate(err, "access log"))
	}
	for _, r := range rows {
		l.db.heads.set(r.CaseID, r.Seq, r.Hash)
	}
	return nil
}

var (
	accessLockSQL = `SELECT pg_advisory_xact_lock($1, k) FROM (
		SELECT DISTINCT ` + accessLockKeySQL("id") + ` AS k FROM unnest($2::text[]) AS id) keys ORDER BY k`
	// The head of each chain by one backward step of the (case_id, seq) index: DISTINCT ON
	// read every earlier line of the cases, so a list got slower with each time it was shown.
	accessHeadsSQL = `SELECT h.case_id::text, h.seq, h.hash FROM unnest($1::text[]::uuid[]) AS k(id)
		CROSS JOIN LATERAL (SELECT case_id, seq, hash FROM access_log a WHERE a.case_id = k.id
			ORDER BY seq DESC LIMIT 1) h`
)

// recordAccess writes the lines and returns them once committed.
func recordAccess(ctx context.Context, pc *pgx.Conn, ids []string, e domain.AccessEntry) ([]accessRow, error) {
	b := lockedBatch(ids)
	b.Queue(accessHeadsSQL, ids)
	br := pc.SendBatch(ctx, b)
	last := map[string]int{}
	prev := map[string]string{}
	err := func() error {
		if _, err := br.Exec(); err != nil {
			return err
		}
		if _, err := br.Exec(); err != nil {
			return fmt.Errorf("lock access chains: %w", err)
		}
		rows, err := br.Query()
		if err != nil {
			return fmt.Errorf("access chain heads: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var id, hash string
			var seq int
			if err := rows.Scan(&id, &seq, &hash); err != nil {
				return fmt.Errorf("access chain heads: %w", err)
			}
			last[id], prev[id] = seq, hash
		}
		return rows.Err()
	}()
	if cerr := br.Close(); err == nil && cerr != nil {
		err = cerr
	}
	if err != nil {
		return nil, err
	}
	rows := newAccessRows(ids, e, last, prev)
	if err := insertAccess(pc.SendBatch(ctx, queueInsertAccess(&pgx.Batch{}, ids, rows)), 0); err != nil {
		return nil, err
	}
	return rows, nil
}

// lockedBatch is a batch that begins a transaction and takes the access chains' locks of ids
// (two statements), in the one order every holder uses.
func lockedBatch(ids []string) *pgx.Batch {
	b := &pgx.Batch{}
	b.Queue("BEGIN")
	b.Queue(accessLockSQL, accessLockClass, ids)
	return b
}

// queueInsertAccess adds to b the INSERT of the lines (one per id, in the order of ids) and
// COMMIT.
func queueInsertAccess(b *pgx.Batch, ids []string, rows []accessRow) *pgx.Batch {
	seqs, prevs, hashes := make([]int32, len(rows)), make([]string, len(rows)), make([]string, len(rows))
	for i, r := range rows {
		seqs[i], prevs[i], hashes[i] = int32(r.Seq), r.PrevHash, r.Hash
	}
	r0 := rows[0]
	b.Queue(`INSERT INTO access_log (case_id, seq, actor_id, actor_name, actor_kind, role, method, route, request_id, at, prev_hash, hash)
		SELECT u.id, u.seq, $5, $6, $7, $8, $9, $10, $11, $12, u.prev, u.hash
		FROM unnest($1::text[]::uuid[], $2::int[], $3::text[], $4::text[]) AS u(id, seq, prev, hash)`,
		ids, seqs, prevs, hashes, r0.ActorID, r0.ActorName, r0.ActorKind, r0.Role, r0.Method, r0.Route, r0.RequestID, r0.At)
	b.Queue("COMMIT")
	return b
}

// insertAccess reads the results of a batch that ends with queueInsertAccess's statements,
// after the first skip statements (BEGIN, the locks): nil once the lines are committed; the
// PostgreSQL error as it came otherwise (a refused line is a *pgconn.PgError 23505).
func insertAccess(br pgx.BatchResults, skip int) error {
	err := func() error {
		for i := 0; i < skip; i++ {
			if _, err := br.Exec(); err != nil {
				return err
			}
		}
		if _, err := br.Exec(); err != nil {
			return err
		}
		tag, err := br.Exec()
		if err != nil {
			return fmt.Errorf("commit: %w", err)
		}
		if tag.String() != "COMMIT" {
			return fmt.Errorf("commit answered %s", tag)
		}
		return nil
	}()
	if cerr := br.Close(); err == nil && cerr != nil {
		err = cerr
	}
	return err
}

// accessHeads remembers, for the access chains this process extended last, the head it wrote
// (Record, and a command's own line), so that a later Record of the same cases need not read
// them: a specialist's worklist and its pages are shown again and again. It decides nothing:
// the (case_id, seq) key refuses a line after a head that moved.
type accessHeads struct {
	mu sync.Mutex
	m  map[string]accessHead // by the case id in lower case (cacheKey)
	// written counts the Records written from known heads (for tests).
	written atomic.Int64
}

type accessHead struct {
	seq  int
	hash string
}

// accessHeadsSize bounds accessHeads: about 200 bytes a chain.
const accessHeadsSize = 1 << 16

func newAccessHeads() *accessHeads { return &accessHeads{m: make(map[string]accessHead)} }

// lookup returns the head of every chain of ids (lower case) when it knows them all.
func (h *accessHeads) lookup(ids []string) (map[string]int, map[string]string, bool) {
	last, prev := make(map[string]int, len(ids)), make(map[string]string, len(ids))
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, id := range ids {
		e, ok := h.m[id]
		if !ok {
			return nil, nil, false
		}
		last[id], prev[id] = e.seq, e.hash
	}
	return last, prev, true
}

// set records a line this process committed as its chain's head, unless a later one is known.
func (h *accessHeads) set(id string, seq int, hash string) {
	key := cacheKey(id)
	h.mu.Lock()
	defer h.mu.Unlock()
	if e, ok := h.m[key]; ok && e.seq >= seq {
		return
	}
	putBounded(h.m, key, accessHead{seq, hash}, accessHeadsSize)
}

func (h *accessHeads) drop(ids []string) {
	h.mu.Lock()
	for _, id := range ids {
		delete(h.m, cacheKey(id))
	}
	h.mu.Unlock()
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

// newAccessRows builds the next line of each case's chain from the chains' heads.
func newAccessRows(ids []string, e domain.AccessEntry, last map[string]int, prev map[string]string) []accessRow {
	at := e.At.UTC().Truncate(time.Microsecond)
	rows := make([]accessRow, len(ids))
	for i, id := range ids {
		r := accessRow{CaseID: id, Seq: last[id] + 1, ActorID: e.ActorID, ActorName: e.ActorName, ActorKind: e.ActorKind,
			Role: e.Role, Method: e.Method, Route: e.Route, RequestID: e.RequestID, At: at, PrevHash: prev[id]}
		r.Hash = accessHash(r.PrevHash, r)
		rows[i] = r
	}
	return rows
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

// ChainBreak is one place where a chain does not hold.
type ChainBreak struct {
	Chain   string `json:"chain"` // history or access
	CaseID  string `json:"case_id"`
	Seq     int    `json:"seq"`
	Problem string `json:"problem"`
}

// VerifyReport is what `carepath audit verify` found.
type VerifyReport struct {
	HistoryLines int
	AccessLines  int
	Cases        int
	// Unsealed counts history lines without a hash (written before chaining or by a bulk load
	// and not yet adopted by SealHistory).
	Unsealed int
	Breaks   []ChainBreak
	// Digest is SHA-256 over every case's chain heads, in case order: keep it elsewhere to
	// notice a chain rewritten as a whole.
	Digest string
}

// maxBreaks keeps a report of a badly damaged database readable.
const maxBreaks = 1000

func (r *VerifyReport) brk(chain, caseID string, seq int, format string, args ...any) {
	if len(r.Breaks) < maxBreaks {
		r.Breaks = append(r.Breaks, ChainBreak{Chain: chain, CaseID: caseID, Seq: seq, Problem: fmt.Sprintf(format, args...)})
	}
}

// Verify walks every history and access chain and reports each break: a line whose hash is not
// the hash of its contents, a line that does not point at the previous line's hash, a gap, or a
// history that does not reach the case's current version.
func Verify(ctx context.Context, db *DB) (*VerifyReport, error) {
	rep := &VerifyReport{}
	digest := sha256.New()
	heads := map[string]string{}
	if err := verifyHistory(ctx, db, rep, heads); err != nil {
		return nil, err
	}
	if err := verifyAccess(ctx, db, rep, heads); err != nil {
		return nil, err
	}
	// access chains of cases that do not exist (the access log has no foreign key: see 00006)
	orphans := map[string]bool{}
	for k := range heads {
		if id, ok := strings.CutPrefix(k, "access:"); ok {
			orphans[id] = true
		}
	}
	rows, err := db.SQL.QueryContext(ctx, `SELECT c.id::text, c.version, coalesce(h.v, 0) FROM cases c
		LEFT JOIN (SELECT case_id, max(version) AS v FROM case_history GROUP BY case_id) h ON h.case_id = c.id
		ORDER BY c.id`)
	if err != nil {
		return nil, fmt.Errorf("verify case versions: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var version, last int
		if err := rows.Scan(&id, &version, &last); err != nil {
			return nil, err
		}
		rep.Cases++
		delete(orphans, id)
		if last != version {
			rep.brk("history", id, last, "the history ends at version %d but the case is at version %d", last, version)
		}
		digest.Write([]byte(id + ":" + heads["history:"+id] + ":" + heads["access:"+id] + "\n"))
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for _, id := range slices.Sorted(maps.Keys(orphans)) {
		rep.brk("access", id, 0, "lines of a case that does not exist")
	}
	rep.Digest = hex.EncodeToString(digest.Sum(nil))
	return rep, nil
}

func verifyHistory(ctx context.Context, db *DB, rep *VerifyReport, heads map[string]string) error {
	rows, err := db.SQL.QueryContext(ctx, `SELECT case_id::text, version, event, from_state, to_state, actor_id, actor_name,
		actor_role, comment, payload::text, at, prev_hash, hash FROM case_history ORDER BY case_id, version`)
	if err != nil {
		return fmt.Errorf("verify history: %w", err)
	}
	defer rows.Close()
	cur, prev, want := "", "", 0
	for rows.Next() {
		var h historyRow
		if err := rows.Scan(&h.CaseID, &h.Version, &h.Event, &h.FromState, &h.ToState, &h.ActorID, &h.ActorName, &h.ActorRole,
			&h.Comment, &h.Payload, &h.At, &h.PrevHash, &h.Hash); err != nil {
			return err
		}
		rep.HistoryLines++
		if h.CaseID != cur {
			cur, prev, want = h.CaseID, "", 1
		}
		if h.Version != want {
			rep.brk("history", h.CaseID, h.Version, "version %d follows version %d: lines are missing", h.Version, want-1)
		}
		want = h.Version + 1
		switch {
		case h.Hash == "":
			rep.Unsealed++
			if prev != "" {
				rep.brk("history", h.CaseID, h.Version, "an unsealed line follows sealed ones")
			}
		case h.PrevHash != prev:
			rep.brk("history", h.CaseID, h.Version, "does not point at the previous line (a line before it was changed, removed or inserted)")
		case historyHash(h.PrevHash, h) != h.Hash:
			rep.brk("history", h.CaseID, h.Version, "its contents do not match its hash (the line was changed)")
		}
		prev = h.Hash
		heads["history:"+h.CaseID] = h.Hash
	}
	return rows.Err()
}

func verifyAccess(ctx context.Context, db *DB, rep *VerifyReport, heads map[string]string) error {
	rows, err := db.SQL.QueryContext(ctx, `SELECT case_id::text, seq, actor_id, actor_name, actor_kind, role, method, route,
		request_id, at, prev_hash, hash FROM access_log ORDER BY case_id, seq`)
	if err != nil {
		return fmt.Errorf("verify access log: %w", err)
	}
	defer rows.Close()
	cur, prev, want := "", "", 0
	for rows.Next() {
		var r accessRow
		if err := rows.Scan(&r.CaseID, &r.Seq, &r.ActorID, &r.ActorName, &r.ActorKind, &r.Role, &r.Method, &r.Route,
			&r.RequestID, &r.At, &r.PrevHash, &r.Hash); err != nil {
			return err
		}
		rep.AccessLines++
		if r.CaseID != cur {
			cur, prev, want = r.CaseID, "", 1
		}
		if r.Seq != want {
			rep.brk("access", r.CaseID, r.Seq, "line %d follows line %d: lines are missing", r.Seq, want-1)
		}
		want = r.Seq + 1
		switch {
		case r.PrevHash != prev:
			rep.brk("access", r.CaseID, r.Seq, "does not point at the previous line (a line before it was changed, removed or inserted)")
		case accessHash(r.PrevHash, r) != r.Hash:
			rep.brk("access", r.CaseID, r.Seq, "its contents do not match its hash (the line was changed)")
		}
		prev = r.Hash
		heads["access:"+r.CaseID] = r.Hash
	}
	return rows.Err()
}

// SealHistory chains the history of cases none of whose lines has a hash yet: lines written
// before the chains existed, or by a bulk load. A case with any sealed line is left alone, so
// lines slipped in later cannot be adopted this way.
func SealHistory(ctx context.Context, db *DB) (int, error) {
	var ids []string
	err := db.Gorm.WithContext(ctx).Raw(`SELECT case_id FROM case_history GROUP BY case_id
		HAVING bool_and(hash = '') ORDER BY case_id`).Scan(&ids).Error
	if err != nil {
		return 0, fmt.Errorf("find unsealed history: %w", err)
	}
	sealed := 0
	for len(ids) > 0 {
		batch := ids[:min(len(ids), 500)]
		ids = ids[len(batch):]
		n, err := sealBatch(ctx, db, batch)
		if err != nil {
			return sealed, err
		}
		sealed += n
	}
	return sealed, nil
}

func sealBatch(ctx context.Context, db *DB, ids []string) (int, error) {
	n := 0
	err := db.Gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		// The history is append-only for everyone else; this transaction may fill in the hash
		// columns of lines that have none, and nothing more.
		if err := tx.Exec("SET LOCAL carepath.sealing = 'on'").Error; err != nil {
			return err
		}
		var rows []historyRow
		err := tx.Raw(`SELECT case_id::text AS case_id, version, event, from_state, to_state, actor_id, actor_name, actor_role,
			comment, payload::text AS payload, at, prev_hash, hash FROM case_history WHERE case_id::text IN ? ORDER BY case_id, version`, ids).
			Scan(&rows).Error
		if err != nil {
			return err
		}
		cur, prev := "", ""
		for _, h := range rows {
			if h.CaseID != cur {
				cur, prev = h.CaseID, ""
			}
			h.PrevHash = prev
			h.Hash = historyHash(prev, h)
			res := tx.Exec("UPDATE case_history SET prev_hash = ?, hash = ? WHERE case_id = ? AND version = ? AND hash = ''",
				h.PrevHash, h.Hash, h.CaseID, h.Version)
			if res.Error != nil {
				return fmt.Errorf("seal history of case %s: %w", h.CaseID, res.Error)
			}
			prev = h.Hash
			n++
		}
		return nil
	})
	return n, err
}
