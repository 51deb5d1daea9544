package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"

	"carepath/domain"
)

// Hash chains. Each history line stores the hash of the previous line of its case and its own:
// SHA-256 over the previous hash and a canonical JSON array of the line's fields. Each access
// log line does the same in its writer's chain (AccessLog), or, for lines written before
// migration 00013, in its case's chain. Changing, removing or inserting a line breaks the chain
// at that point, which `carepath audit verify` reports. (Someone who can write the database
// could recompute a whole chain, or cut its end; the digest verify prints over every chain head
// lets an operator keep a copy elsewhere and notice that too.)

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

// accessRow is a line of the access log. WriterID is nil for a line of the per-case chains
// written before migration 00013; Seq is then its place in its case's chain, otherwise its
// place in its writer's chain.
type accessRow struct {
	ID        int64 `gorm:"primaryKey;->"`
	WriterID  *int64
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

// changeWriter is the writer_id of a change's line: chained per case, seq the case's version.
const changeWriter int64 = 0

// changeLine is the access-log line of a change of a case to version, after prev.
func changeLine(caseID string, version int, e domain.AccessEntry, prev string) accessRow {
	w := changeWriter
	r := accessRow{WriterID: &w, CaseID: strings.ToLower(caseID), Seq: version, ActorID: e.ActorID, ActorName: e.ActorName,
		ActorKind: e.ActorKind, Role: e.Role, Method: e.Method, Route: e.Route, RequestID: e.RequestID,
		At: e.At.UTC().Truncate(time.Microsecond), PrevHash: prev}
	r.Hash = r.hash()
	return r
}

// hash is the line's hash after PrevHash: over its writer and its place in the writer's chain;
// for a change's line, its case and the case's version; for a line of a per-case chain of
// before migration 00013, its place in the case's chain.
func (r accessRow) hash() string {
	if r.WriterID != nil && *r.WriterID == changeWriter {
		return chainHash(r.PrevHash, "change", strings.ToLower(r.CaseID), r.Seq, r.ActorID, r.ActorName, r.ActorKind, r.Role,
			r.Method, r.Route, r.RequestID, stamp(r.At))
	}
	if r.WriterID == nil {
		return chainHash(r.PrevHash, strings.ToLower(r.CaseID), r.Seq, r.ActorID, r.ActorName, r.ActorKind, r.Role, r.Method, r.Route,
			r.RequestID, stamp(r.At))
	}
	return chainHash(r.PrevHash, "writer", *r.WriterID, r.Seq, strings.ToLower(r.CaseID), r.ActorID, r.ActorName, r.ActorKind, r.Role,
		r.Method, r.Route, r.RequestID, stamp(r.At))
}

// ChainBreak is one place where a chain does not hold.
type ChainBreak struct {
	Chain  string `json:"chain"` // history or access
	CaseID string `json:"case_id"`
	// Writer is the writer whose chain holds the line (0: a per-case chain); Seq is the line's
	// place in its chain (a history line's version).
	Writer  int64  `json:"writer,omitempty"`
	Seq     int    `json:"seq"`
	Problem string `json:"problem"`
}

// VerifyReport is what `carepath audit verify` found.
type VerifyReport struct {
	HistoryLines int
	AccessLines  int
	Cases        int
	// Writers counts the writers' chains of the access log.
	Writers int
	// Unsealed counts history lines without a hash (written before chaining or by a bulk load
	// and not yet adopted by SealHistory).
	Unsealed int
	Breaks   []ChainBreak
	// Digest is SHA-256 over every case's chain heads, in case order, then every writer's: keep
	// it elsewhere to notice a chain rewritten as a whole, or cut short.
	Digest string
}

// maxBreaks keeps a report of a badly damaged database readable.
const maxBreaks = 1000

func (r *VerifyReport) brk(b ChainBreak, format string, args ...any) {
	if len(r.Breaks) < maxBreaks {
		b.Problem = fmt.Sprintf(format, args...)
		r.Breaks = append(r.Breaks, b)
	}
}

// chainLine is one line as the chain walker sees it: which chain it is in, its place there, the
// hash it points at, its own and the hash of its contents.
type chainLine struct {
	chain string // the chain's key: a case id, or "writer:<id>"
	seq   int
	prev  string
	hash  string
	// sum is the hash of the line's contents after prev; "" for an unsealed history line
	sum string
	// sparse: the chain's places may skip (a change's line is at its version, and not every
	// version has one), but never go back
	sparse bool
	// at says where a break is reported
	at ChainBreak
}

// chainWalker checks the lines of many chains, given in chain order and in order within each:
// every chain starts at 1 and goes on without a gap, every line points at the hash of the line
// before it and hashes to its own. History and access log are walked by it alike.
type chainWalker struct {
	rep   *VerifyReport
	cur   string
	prev  string
	want  int
	heads map[string]string // each chain's last hash
}

func newChainWalker(rep *VerifyReport) *chainWalker {
	return &chainWalker{rep: rep, heads: map[string]string{}}
}

func (w *chainWalker) step(l chainLine) {
	if l.chain != w.cur {
		w.cur, w.prev, w.want = l.chain, "", 1
	}
	switch {
	case l.sparse && l.seq < w.want:
		w.rep.brk(l.at, "line %d follows line %d: a line was inserted", l.seq, w.want-1)
	case !l.sparse && l.seq != w.want:
		w.rep.brk(l.at, "line %d follows line %d: lines are missing", l.seq, w.want-1)
	}
	w.want = l.seq + 1
	switch {
	case l.hash == "" && l.at.Chain == "history":
		w.rep.Unsealed++
		if w.prev != "" {
			w.rep.brk(l.at, "an unsealed line follows sealed ones")
		}
	case l.prev != w.prev:
		w.rep.brk(l.at, "does not point at the previous line (a line before it was changed, removed or inserted)")
	case l.sum != l.hash:
		w.rep.brk(l.at, "its contents do not match its hash (the line was changed)")
	}
	w.prev = l.hash
	w.heads[l.chain] = l.hash
}

// accessSlack is how far a line's time may lie before its case's registration or its writer's
// start: the clocks of the processes that write them may differ by that much.
const accessSlack = time.Minute

// Verify walks every history chain, every per-case access chain of before migration 00013 and
// every writer's access chain, and reports each break: a line whose hash is not the hash of its
// contents, a line that does not point at the previous line's hash, a gap, a history that does
// not reach the case's current version, and access lines that cannot exist: of a case that does
// not exist, from before the case was registered, of a writer that was never registered or
// from before it started.
func Verify(ctx context.Context, db *DB) (*VerifyReport, error) {
	rep := &VerifyReport{}
	history, access := newChainWalker(rep), newChainWalker(rep)
	if err := verifyHistory(ctx, db, history); err != nil {
		return nil, err
	}
	if err := verifyCaseAccess(ctx, db, access); err != nil {
		return nil, err
	}
	if err := verifyChangeAccess(ctx, db, access); err != nil {
		return nil, err
	}
	writers, err := verifyWriterAccess(ctx, db, access)
	if err != nil {
		return nil, err
	}
	// per-case access chains of cases that do not exist (the access log has no foreign key: see 00006)
	orphans := map[string]bool{}
	for k := range access.heads {
		if !strings.Contains(k, ":") {
			orphans[k] = true
		}
	}
	digest := sha256.New()
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
			rep.brk(ChainBreak{Chain: "history", CaseID: id, Seq: last}, "the history ends at version %d but the case is at version %d", last, version)
		}
		digest.Write([]byte(id + ":" + history.heads[id] + ":" + access.heads[id] + ":" + access.heads["change:"+id] + "\n"))
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for _, id := range slices.Sorted(maps.Keys(orphans)) {
		rep.brk(ChainBreak{Chain: "access", CaseID: id}, "lines of a case that does not exist")
	}
	for _, id := range writers {
		fmt.Fprintf(digest, "writer:%d:%s\n", id, access.heads[fmt.Sprintf("writer:%d", id)])
	}
	rep.Digest = hex.EncodeToString(digest.Sum(nil))
	return rep, nil
}

func verifyHistory(ctx context.Context, db *DB, w *chainWalker) error {
	rows, err := db.SQL.QueryContext(ctx, `SELECT case_id::text, version, event, from_state, to_state, actor_id, actor_name,
		actor_role, comment, payload::text, at, prev_hash, hash FROM case_history ORDER BY case_id, version`)
	if err != nil {
		return fmt.Errorf("verify history: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var h historyRow
		if err := rows.Scan(&h.CaseID, &h.Version, &h.Event, &h.FromState, &h.ToState, &h.ActorID, &h.ActorName, &h.ActorRole,
			&h.Comment, &h.Payload, &h.At, &h.PrevHash, &h.Hash); err != nil {
			return err
		}
		w.rep.HistoryLines++
		w.step(chainLine{chain: h.CaseID, seq: h.Version, prev: h.PrevHash, hash: h.Hash, sum: historyHash(h.PrevHash, h),
			at: ChainBreak{Chain: "history", CaseID: h.CaseID, Seq: h.Version}})
	}
	return rows.Err()
}

const accessColumns = `l.case_id::text, l.seq, l.actor_id, l.actor_name, l.actor_kind, l.role, l.method, l.route, l.request_id, l.at,
	l.prev_hash, l.hash`

func scanAccess(rows *sql.Rows, r *accessRow, more ...any) error {
	return rows.Scan(append([]any{&r.CaseID, &r.Seq, &r.ActorID, &r.ActorName, &r.ActorKind, &r.Role, &r.Method, &r.Route,
		&r.RequestID, &r.At, &r.PrevHash, &r.Hash}, more...)...)
}

// verifyCaseAccess walks the per-case chains written before migration 00013.
func verifyCaseAccess(ctx context.Context, db *DB, w *chainWalker) error {
	rows, err := db.SQL.QueryContext(ctx, `SELECT `+accessColumns+` FROM access_log l WHERE l.writer_id IS NULL ORDER BY l.case_id, l.seq`)
	if err != nil {
		return fmt.Errorf("verify access log: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var r accessRow
		if err := scanAccess(rows, &r); err != nil {
			return err
		}
		w.rep.AccessLines++
		w.step(chainLine{chain: r.CaseID, seq: r.Seq, prev: r.PrevHash, hash: r.Hash, sum: r.hash(),
			at: ChainBreak{Chain: "access", CaseID: r.CaseID, Seq: r.Seq}})
	}
	return rows.Err()
}

// verifyChangeAccess walks each case's chain of its changes' lines and checks each line against
// its case: one that exists, at a version it has reached, registered before the line.
func verifyChangeAccess(ctx context.Context, db *DB, w *chainWalker) error {
	rows, err := db.SQL.QueryContext(ctx, `SELECT `+accessColumns+`, c.version, c.created_at
		FROM access_log l LEFT JOIN cases c ON c.id = l.case_id WHERE l.writer_id = 0 ORDER BY l.case_id, l.seq`)
	if err != nil {
		return fmt.Errorf("verify access log: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var r accessRow
		var version sql.NullInt64
		var created sql.NullTime
		if err := scanAccess(rows, &r, &version, &created); err != nil {
			return err
		}
		zero := changeWriter
		r.WriterID = &zero
		w.rep.AccessLines++
		at := ChainBreak{Chain: "access", CaseID: r.CaseID, Seq: r.Seq}
		w.step(chainLine{chain: "change:" + r.CaseID, seq: r.Seq, prev: r.PrevHash, hash: r.Hash, sum: r.hash(), at: at, sparse: true})
		switch {
		case !version.Valid:
			w.rep.brk(at, "the line of a change of a case that does not exist")
		case int64(r.Seq) > version.Int64:
			w.rep.brk(at, "the line of a change to version %d of a case at version %d", r.Seq, version.Int64)
		case r.At.Before(created.Time.Add(-accessSlack)):
			w.rep.brk(at, "a line from before the case was registered")
		}
	}
	return rows.Err()
}

// verifyWriterAccess walks every writer's chain and checks each line against its case and its
// writer; it returns the writers, in order.
func verifyWriterAccess(ctx context.Context, db *DB, w *chainWalker) ([]int64, error) {
	var writers []int64
	if err := db.Gorm.WithContext(ctx).Raw("SELECT id FROM access_writers ORDER BY id").Scan(&writers).Error; err != nil {
		return nil, fmt.Errorf("verify access log writers: %w", err)
	}
	rows, err := db.SQL.QueryContext(ctx, `SELECT `+accessColumns+`, l.writer_id, c.created_at, aw.started_at
		FROM access_log l LEFT JOIN cases c ON c.id = l.case_id LEFT JOIN access_writers aw ON aw.id = l.writer_id
		WHERE l.writer_id > 0 ORDER BY l.writer_id, l.seq`)
	if err != nil {
		return nil, fmt.Errorf("verify access log: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var r accessRow
		var writer int64
		var created, started sql.NullTime
		if err := scanAccess(rows, &r, &writer, &created, &started); err != nil {
			return nil, err
		}
		r.WriterID = &writer
		w.rep.AccessLines++
		at := ChainBreak{Chain: "access", CaseID: r.CaseID, Writer: writer, Seq: r.Seq}
		w.step(chainLine{chain: fmt.Sprintf("writer:%d", writer), seq: r.Seq, prev: r.PrevHash, hash: r.Hash, sum: r.hash(), at: at})
		switch {
		case !created.Valid:
			w.rep.brk(at, "a line of a case that does not exist")
		case r.At.Before(created.Time.Add(-accessSlack)):
			w.rep.brk(at, "a line from before the case was registered")
		case !started.Valid:
			w.rep.brk(at, "a line of writer %d, which was never registered", writer)
		case r.At.Before(started.Time.Add(-accessSlack)):
			w.rep.brk(at, "a line from before its writer started")
		}
	}
	w.rep.Writers = len(writers)
	return writers, rows.Err()
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
