package store

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"carepath/domain"
)

// BulkLoader copies many new cases into the database in one transaction over one connection:
// the storage half of the bulk generator (`carepath seed --cases N`, cmd/carepath/generate).
// The caller decides what the cases are; the loader reserves their numbers, writes the
// reference rows they point at, encodes them with the store's own row mapping (CaseBatch, built
// in the caller's workers) and copies them with binary COPY.
//
// The tables are locked from BulkLoad to Finish: load a database without traffic. When the load
// is at least as big as the cases already there, the loaded tables' secondary indexes and
// foreign keys are dropped for it and the name search tables filled after it; Finish rebuilds
// (and checks) them inside the same transaction.
type BulkLoader struct {
	cases    *Cases
	conn     *pgx.Conn
	tx       pgx.Tx
	progress func(format string, args ...any)
	// rebuild and names are what the load dropped or deferred (nil when it kept them).
	rebuild *rebuildPlan
	names   *nameLoad
	// resumeStats rebuilds the figures' daily histograms the load does not keep row by row.
	resumeStats func(context.Context) error
}

// BulkLoad begins a load of n cases. progress, when not nil, hears about each phase. Close the
// loader when done with it; Finish commits.
func (s *Cases) BulkLoad(ctx context.Context, n int, progress func(format string, args ...any)) (*BulkLoader, error) {
	if progress == nil {
		progress = func(string, ...any) {}
	}
	conn, err := pgx.Connect(ctx, s.db.URL)
	if err != nil {
		return nil, fmt.Errorf("bulk load: connect: %w", err)
	}
	l := &BulkLoader{cases: s, conn: conn, progress: progress}
	if err := l.begin(ctx, n); err != nil {
		l.Close(ctx)
		return nil, err
	}
	return l, nil
}

func (l *BulkLoader) begin(ctx context.Context, n int) error {
	var err error
	if l.tx, err = l.conn.Begin(ctx); err != nil {
		return err
	}
	if _, err := l.tx.Exec(ctx, "LOCK TABLE cases, case_history, deadlines, facilities, case_numbers, case_names, case_name_keys IN SHARE ROW EXCLUSIVE MODE"); err != nil {
		return fmt.Errorf("bulk load: lock tables: %w", err)
	}
	// the figures' daily histograms: computed once after the load, not row by row
	if l.resumeStats, err = PauseStatsDays(ctx, l.tx); err != nil {
		return err
	}
	var existing int64
	if err := l.tx.QueryRow(ctx, "SELECT count(*) FROM cases").Scan(&existing); err != nil {
		return err
	}
	if int64(n) < existing {
		return nil
	}
	if l.rebuild, err = dropForLoad(ctx, l.tx); err != nil {
		return err
	}
	if l.names, err = deferNames(ctx, l.tx); err != nil {
		return err
	}
	l.progress("dropped %d indexes and %d foreign keys for the load", len(l.rebuild.indexes), len(l.rebuild.fks))
	return nil
}

// Close ends the load: it rolls back what Finish did not commit and closes the connection.
func (l *BulkLoader) Close(ctx context.Context) {
	ctx = context.WithoutCancel(ctx)
	if l.tx != nil {
		_ = l.tx.Rollback(ctx) // after Commit it does nothing
	}
	_ = l.conn.Close(ctx)
}

// RebuildsIndexes reports whether the load dropped the secondary indexes and foreign keys,
// to be rebuilt by Finish.
func (l *BulkLoader) RebuildsIndexes() bool { return l.rebuild != nil }

// ReserveCaseNumbers takes counts[year] case numbers of each year's counter and returns, for
// each of those years, the last number before the reserved ones: the load's cases of a year
// take the numbers after it. It returns EINVALID when a year would pass 999,999.
func (l *BulkLoader) ReserveCaseNumbers(ctx context.Context, counts map[int]int) (map[int]int, error) {
	last := make(map[int]int, len(counts))
	rows, err := l.tx.Query(ctx, "SELECT year, last FROM case_numbers")
	if err != nil {
		return nil, fmt.Errorf("bulk load: read case numbers: %w", err)
	}
	for rows.Next() {
		var y, n int
		if err := rows.Scan(&y, &n); err != nil {
			return nil, err
		}
		if _, ok := counts[y]; ok {
			last[y] = n
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for y, n := range counts {
		if last[y]+n > 999999 {
			return nil, domain.Invalid("cases", "year %d would get more than 999,999 case numbers", y)
		}
		if _, err := l.tx.Exec(ctx, `INSERT INTO case_numbers (year, last) VALUES ($1, $2)
			ON CONFLICT (year) DO UPDATE SET last = excluded.last`, y, last[y]+n); err != nil {
			return nil, fmt.Errorf("bulk load: case numbers of %d: %w", y, err)
		}
	}
	return last, nil
}

// Agency returns the id of the agency of this kind and name, adding it when there is none.
func (l *BulkLoader) Agency(ctx context.Context, kind, name string) (string, error) {
	var id string
	err := l.tx.QueryRow(ctx, `INSERT INTO agencies (name, kind) VALUES ($1, $2)
		ON CONFLICT (kind, name) DO UPDATE SET name = excluded.name RETURNING id`, name, kind).Scan(&id)
	if err != nil {
		return "", fmt.Errorf("bulk load: agency %s: %w", name, err)
	}
	return id, nil
}

// Specialist returns the id of the user of this name, adding them as a specialist when there
// is none.
func (l *BulkLoader) Specialist(ctx context.Context, name string) (string, error) {
	var id string
	err := l.tx.QueryRow(ctx, `INSERT INTO users (name, role) VALUES ($1, 'specialist')
		ON CONFLICT (lower(name)) DO UPDATE SET name = excluded.name RETURNING id`, name).Scan(&id)
	if err != nil {
		return "", fmt.Errorf("bulk load: specialist %s: %w", name, err)
	}
	return id, nil
}

// Facilities counts the boarding houses there are.
func (l *BulkLoader) Facilities(ctx context.Context) (int, error) {
	var n int
	err := l.tx.QueryRow(ctx, "SELECT count(*) FROM facilities").Scan(&n)
	return n, err
}

// AddFacility adds a boarding house with taken of its capacity beds held by the load's cases.
func (l *BulkLoader) AddFacility(ctx context.Context, name string, ft domain.FacilityType, capacity, taken int) (string, error) {
	var id string
	err := l.tx.QueryRow(ctx, "INSERT INTO facilities (name, type, capacity, taken) VALUES ($1, $2, $3, $4) RETURNING id",
		name, string(ft), capacity, taken).Scan(&id)
	if err != nil {
		return "", fmt.Errorf("bulk load: facility %s: %w", name, err)
	}
	return id, nil
}

var (
	caseColumns = []string{"id", "number", "state", "version", "channel", "facility_type", "applicant_name", "legal_capacity",
		"applicant", "personal", "contacts", "health_org_id", "guardianship_id", "facility_id", "voucher_facility_id",
		"voucher_valid_until", "leave_return_by", "ippsu_number", "ippsu_date", "assignee_id", "filed_by_agency_id", "checklist", "access_code_hash",
		"next_due_at", "state_entered_at", "created_at", "updated_at", "timeline", "recognized_at", "law"}
	historyColumns  = []string{"case_id", "version", "event", "from_state", "to_state", "actor_id", "actor_name", "actor_role", "comment", "payload", "at"}
	deadlineColumns = []string{"case_id", "kind", "ref", "opened_at", "due_on", "due_at", "state", "remind_at"}
)

func copySQL(table string, columns []string) string {
	return fmt.Sprintf("COPY %s (%s) FROM STDIN (FORMAT binary)", table, strings.Join(columns, ", "))
}

// CaseBatch is a run of new cases encoded for COPY: the cases, their history and their open
// deadlines. Batches are built apart, in as many goroutines as the caller likes, and copied in
// order by BulkLoader.Copy.
type CaseBatch struct {
	cases                        *Cases
	rows, history, deadlines     *copyBuffer
	nCases, nHistory, nDeadlines int
}

// NewBatch starts a batch sized for about n cases.
func (l *BulkLoader) NewBatch(n int) *CaseBatch {
	return &CaseBatch{cases: l.cases, rows: newCopyBuffer(n * 2400), history: newCopyBuffer(n * 2400), deadlines: newCopyBuffer(n * 100)}
}

// Rows counts the rows the batch holds.
func (b *CaseBatch) Rows() (cases, history, deadlines int) { return b.nCases, b.nHistory, b.nDeadlines }

// Add encodes a case with its whole history (versions 1 to c.Version) and its open deadlines,
// through the store's own row mapping, so that they read back exactly like saved ones; its
// timeline is computed from the history (TimelineOf), as the triggers would have kept it.
func (b *CaseBatch) Add(c *domain.Case, history []domain.HistoryEntry) error {
	r := b.cases.toRow(c)
	cb := b.rows
	cb.row(len(caseColumns))
	if err := cb.uuid(r.ID); err != nil {
		return err
	}
	cb.text(r.Number)
	cb.text(r.State)
	cb.int4(r.Version)
	cb.text(r.Channel)
	cb.text(r.FacilityType)
	cb.text(r.ApplicantName)
	cb.text(r.LegalCapacity)
	cb.jsonb(r.Applicant)
	cb.bytea(r.Personal)
	cb.jsonb(r.Contacts)
	for _, id := range []*string{r.HealthOrgID, r.GuardianshipID, r.FacilityID, r.VoucherFacilityID} {
		if err := cb.nullUUID(id); err != nil {
			return err
		}
	}
	cb.nullDate(r.VoucherValidUntil)
	cb.nullDate(r.LeaveReturnBy)
	cb.nullText(r.IPPSUNumber)
	cb.nullDate(r.IPPSUDate)
	for _, id := range []*string{r.AssigneeID, r.FiledByAgencyID} {
		if err := cb.nullUUID(id); err != nil {
			return err
		}
	}
	cb.jsonb(r.Checklist)
	cb.text(r.AccessCodeHash)
	cb.nullTimestamptz(r.NextDueAt)
	cb.timestamptz(r.StateEnteredAt)
	cb.timestamptz(r.CreatedAt)
	cb.timestamptz(r.UpdatedAt)
	cb.text(TimelineOf(history))
	cb.nullTimestamptz(recognizedAt(history))
	cb.jsonb(r.Law)
	b.nCases++
	hb := b.history
	for _, h := range history {
		r := historyToRow(c.ID, h)
		hb.row(len(historyColumns))
		if err := hb.uuid(r.CaseID); err != nil {
			return err
		}
		hb.int4(r.Version)
		hb.text(r.Event)
		hb.text(r.FromState)
		hb.text(r.ToState)
		hb.text(r.ActorID)
		hb.text(r.ActorName)
		hb.text(r.ActorRole)
		hb.text(r.Comment)
		hb.jsonb(r.Payload)
		hb.timestamptz(r.At)
		b.nHistory++
	}
	db := b.deadlines
	for _, d := range c.Deadlines {
		r := deadlineToRow(c.ID, d)
		db.row(len(deadlineColumns))
		if err := db.uuid(r.CaseID); err != nil {
			return err
		}
		db.text(r.Kind)
		db.text(r.Ref)
		db.timestamptz(r.OpenedAt)
		db.date(r.DueOn)
		db.timestamptz(r.DueAt)
		db.text(r.State)
		db.nullTimestamptz(r.RemindAt)
		b.nDeadlines++
	}
	return nil
}

// recognizedAt is the case's place on the waiting list as the triggers of migrations 00021
// and 00031 keep it when the case is saved event by event: the first time it entered the list,
// or its latest transfer request from a residence; nil for a case that never did either.
func recognizedAt(history []domain.HistoryEntry) *time.Time {
	var at *time.Time
	for i := range history {
		h := &history[i]
		if h.To == domain.WaitingList && at == nil || h.From == domain.Residing && h.To == domain.TransferPending {
			at = &h.At
		}
	}
	return at
}

// Copy copies a batch; batches are copied in the order of the calls, one at a time.
func (l *BulkLoader) Copy(ctx context.Context, b *CaseBatch) error {
	pg := l.tx.Conn().PgConn()
	for _, part := range []struct {
		table   string
		columns []string
		data    *copyBuffer
		n       int
	}{{"cases", caseColumns, b.rows, b.nCases}, {"case_history", historyColumns, b.history, b.nHistory},
		{"deadlines", deadlineColumns, b.deadlines, b.nDeadlines}} {
		sql := copySQL(part.table, part.columns)
		tag, err := pg.CopyFrom(ctx, bytes.NewReader(part.data.finish()), sql)
		if err != nil {
			return fmt.Errorf("bulk load: %s: %w", sql, err)
		}
		if tag.RowsAffected() != int64(part.n) {
			return fmt.Errorf("bulk load: %s copied %d rows of %d", sql, tag.RowsAffected(), part.n)
		}
	}
	return nil
}

// Finish ends the load: it rebuilds what BulkLoad dropped, brings the tables derived from the
// cases up to date, commits, and analyzes the loaded tables.
func (l *BulkLoader) Finish(ctx context.Context) error {
	tx := l.tx
	if l.rebuild != nil {
		t := time.Now()
		if err := l.rebuild.restore(ctx, tx, l.progress); err != nil {
			return err
		}
		l.progress("rebuilt indexes and checked foreign keys in %s", time.Since(t).Round(time.Millisecond))
	}
	if l.names != nil {
		t := time.Now()
		if err := l.names.fill(ctx, tx); err != nil {
			return err
		}
		l.progress("filled the name search tables in %s", time.Since(t).Round(time.Millisecond))
	}
	// The tables derived from the cases: the figures' daily histograms (migration 00070), and
	// the beds the copied cases hold, in the homes' sections (migration 00020).
	if err := l.resumeStats(ctx); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, "SELECT beds_rebuild()"); err != nil {
		return fmt.Errorf("bulk load: beds: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("bulk load: commit: %w", err)
	}
	t := time.Now()
	if _, err := l.conn.Exec(ctx, "ANALYZE cases, case_history, deadlines, facilities, case_names, case_name_keys"); err != nil {
		return fmt.Errorf("bulk load: analyze: %w", err)
	}
	l.progress("analyzed in %s", time.Since(t).Round(time.Millisecond))
	return nil
}

// rebuildPlan remembers the indexes and foreign keys dropped for a load.
type rebuildPlan struct {
	indexes []string // CREATE INDEX statements
	fks     []string // ALTER TABLE … ADD CONSTRAINT statements
}

var loadTables = []string{"cases", "case_history", "deadlines"}

// dropForLoad drops the loaded tables' indexes that back no constraint, and their foreign keys,
// remembering how to recreate them. Reading them from the catalog keeps this right when later
// migrations add indexes.
func dropForLoad(ctx context.Context, tx pgx.Tx) (*rebuildPlan, error) {
	p := &rebuildPlan{}
	rows, err := tx.Query(ctx, `SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
		FROM pg_index i
		WHERE i.indrelid = ANY ($1::regclass[])
		  AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
		ORDER BY 1`, loadTables)
	if err != nil {
		return nil, fmt.Errorf("bulk load: list indexes: %w", err)
	}
	var names []string
	for rows.Next() {
		var name, def string
		if err := rows.Scan(&name, &def); err != nil {
			return nil, err
		}
		names = append(names, name)
		p.indexes = append(p.indexes, def)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows, err = tx.Query(ctx, `SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid)
		FROM pg_constraint WHERE contype = 'f' AND conrelid = ANY ($1::regclass[]) ORDER BY 1, 2`, loadTables)
	if err != nil {
		return nil, fmt.Errorf("bulk load: list foreign keys: %w", err)
	}
	var drops []string
	for rows.Next() {
		var table, name, def string
		if err := rows.Scan(&table, &name, &def); err != nil {
			return nil, err
		}
		drops = append(drops, fmt.Sprintf("ALTER TABLE %s DROP CONSTRAINT %s", table, pgx.Identifier{name}.Sanitize()))
		p.fks = append(p.fks, fmt.Sprintf("ALTER TABLE %s ADD CONSTRAINT %s %s", table, pgx.Identifier{name}.Sanitize(), def))
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for _, d := range drops {
		if _, err := tx.Exec(ctx, d); err != nil {
			return nil, fmt.Errorf("bulk load: %s: %w", d, err)
		}
	}
	for _, name := range names {
		if _, err := tx.Exec(ctx, "DROP INDEX "+name); err != nil {
			return nil, fmt.Errorf("bulk load: drop index %s: %w", name, err)
		}
	}
	return p, nil
}

func (p *rebuildPlan) restore(ctx context.Context, tx pgx.Tx, progress func(string, ...any)) error {
	// Index builds sort in memory when they can.
	if _, err := tx.Exec(ctx, "SET LOCAL maintenance_work_mem = '512MB'"); err != nil {
		return err
	}
	for _, stmt := range append(slices.Clone(p.indexes), p.fks...) {
		t := time.Now()
		if _, err := tx.Exec(ctx, stmt); err != nil {
			return fmt.Errorf("bulk load: %s: %w", stmt, err)
		}
		progress("  %s (%s)", stmt, time.Since(t).Round(time.Millisecond))
	}
	return nil
}

// nameLoad fills the name search tables (migration 00006) of a big load in two statements after
// it, with their primary keys built afterwards, rather than by the insert trigger per batch.
type nameLoad struct{ after int64 }

func deferNames(ctx context.Context, tx pgx.Tx) (*nameLoad, error) {
	n := &nameLoad{}
	if err := tx.QueryRow(ctx, "SELECT coalesce(max(seq), 0) FROM cases").Scan(&n.after); err != nil {
		return nil, fmt.Errorf("bulk load: %w", err)
	}
	for _, stmt := range []string{
		"ALTER TABLE cases DISABLE TRIGGER cases_names_insert",
		"ALTER TABLE case_names DROP CONSTRAINT case_names_pkey",
		"ALTER TABLE case_name_keys DROP CONSTRAINT case_name_keys_pkey",
	} {
		if _, err := tx.Exec(ctx, stmt); err != nil {
			return nil, fmt.Errorf("bulk load: %s: %w", stmt, err)
		}
	}
	return n, nil
}

func (n *nameLoad) fill(ctx context.Context, tx pgx.Tx) error {
	for _, stmt := range []string{
		"INSERT INTO case_names (seq, name) SELECT seq, case_name_norm(applicant_name) FROM cases WHERE seq > $1",
		// case_name_keys(name) from the names just normalized: three times faster than calling it
		`INSERT INTO case_name_keys (key, seq) SELECT array_to_string(s.w[i:], ' '), s.seq
			FROM (SELECT seq, string_to_array(name, ' ') AS w FROM case_names WHERE seq > $1) s, generate_subscripts(s.w, 1) AS i`,
		"SET LOCAL maintenance_work_mem = '512MB'",
		"ALTER TABLE case_names ADD CONSTRAINT case_names_pkey PRIMARY KEY (seq)",
		"ALTER TABLE case_name_keys ADD CONSTRAINT case_name_keys_pkey PRIMARY KEY (key, seq)",
		"ALTER TABLE cases ENABLE TRIGGER cases_names_insert",
	} {
		var args []any
		if strings.Contains(stmt, "$1") {
			args = append(args, n.after)
		}
		if _, err := tx.Exec(ctx, stmt, args...); err != nil {
			return fmt.Errorf("bulk load: %s: %w", stmt, err)
		}
	}
	return nil
}
