package store

import (
	"context"
	"encoding/base64"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"gorm.io/gorm"

	"carepath/domain"
)

// ListLimits are the list planner's thresholds (see List).
type ListLimits struct {
	// NameCap is how many matching name keys below the cursor make a name "common": its page
	// is then found newest first in case_names rather than from the keys.
	NameCap int
	// NameWindow is how many of the newest names a common prefix is looked for in, newest
	// first, before the keys below them are read (case_names_newest in migration 00006).
	NameWindow int64
	// DueCap is how many overdue cases a state may have below the page for its overdue list to
	// be read from them (cases_state_due, migration 00009) rather than by the newest-first scan
	// of the state's cases, which finds a page at once where many are overdue but walks the
	// whole state where few are.
	DueCap int
}

// The planner's thresholds, as measured on a million cases (docs/BENCHMARKS.md).
const (
	defaultNameCap    = 5000
	defaultNameWindow = 10000
	defaultDueCap     = 2000
)

// DefaultListLimits are the thresholds a store starts with.
func DefaultListLimits() ListLimits {
	return ListLimits{NameCap: defaultNameCap, NameWindow: defaultNameWindow, DueCap: defaultDueCap}
}

// List implements domain.CaseStore: newest first by the insertion sequence, so a cursor stays
// stable while new cases arrive at the top.
//
// At a million cases the rows are wide (checklist JSON) and a filter the index cannot answer
// costs a page read per row it looks at. So the page's seqs are chosen first, by queries the
// covering indexes of migration 00005 answer on their own, and only the page's rows are read
// then, in the same statement (a materialized CTE of the seqs). The queries are unnamed
// statements, planned with their actual values each time: a cached generic plan cannot tell a
// rare state or name from a common one.
//
// A name search (q that is not a case number) matches the names having a word that starts with
// q, in the narrow tables of migration 00006, filled by triggers when a case is registered.
// No plan suits every name, so the search first counts the keys in q's prefix range of
// case_name_keys (an index-only range scan), up to nameProbe for a name alone and up to NameCap
// with other filters. A name with fewer matches (a full name, a surname with a first name) is
// answered from those keys: the range, sorted. A common one ("иван", "мария") is looked for
// newest first among the newest NameWindow names, where it usually fills the page, and the rest
// of the page comes from the keys below them (a name common among old cases only):
// case_names_newest in migration 00006. The work is bounded by the cap or by NameWindow and the
// prefix's keys, whatever the planner estimates.
func (s *Cases) List(ctx context.Context, f domain.CaseFilter) (domain.CasePage, error) {
	var before int64 // seqs below this one; 0 for the first page
	if f.Cursor != "" {
		seq, err := decodeCursor(f.Cursor)
		if err != nil {
			return domain.CasePage{}, err
		}
		before = seq
	}
	want := f.Limit + 1
	var rows []summaryRow
	var err error
	switch {
	case f.Q != "" && !domain.LooksLikeCaseNumber(f.Q):
		rows, err = s.byName(ctx, f, before, want)
	case f.Overdue && f.State != "" && f.Q == "":
		rows, err = s.overdueInState(ctx, f, before, want)
	default:
		rows, _, err = s.summaries(ctx, s.listSeqs(f, before, want, nameNone, 0))
	}
	if err != nil {
		return domain.CasePage{}, err
	}
	page := domain.CasePage{Items: make([]domain.CaseSummary, 0, len(rows))}
	if len(rows) > f.Limit {
		rows = rows[:f.Limit]
		page.NextCursor = encodeCursor(rows[len(rows)-1].Seq)
	}
	for _, r := range rows {
		page.Items = append(page.Items, domain.CaseSummary{ID: r.ID, Number: r.Number, State: domain.State(r.State), Version: r.Version,
			FacilityType: domain.FacilityType(r.FacilityType), Channel: domain.Channel(r.Channel), ApplicantName: r.ApplicantName,
			AssigneeID: deref(r.AssigneeID), StateEnteredAt: r.StateEnteredAt, CreatedAt: r.CreatedAt, NextDueAt: r.NextDueAt,
			Overdue:     r.NextDueAt != nil && !f.Now.Before(*r.NextDueAt),
			HealthOrgID: deref(r.HealthOrgID), GuardianshipID: deref(r.GuardianshipID), FiledByAgencyID: deref(r.FiledByAgencyID),
			FacilityID: deref(r.FacilityID), VoucherFacilityID: deref(r.VoucherFacilityID)})
	}
	return page, nil
}

// overdueInState returns up to n rows of the overdue cases of f.State (and the other filters)
// below before, newest first.
func (s *Cases) overdueInState(ctx context.Context, f domain.CaseFilter, before int64, n int) ([]summaryRow, error) {
	below := before
	if below == 0 {
		below = math.MaxInt64
	}
	var due int
	err := s.db.SQL.QueryRowContext(ctx, `SELECT count(*) FROM (SELECT 1 FROM cases
		WHERE state = $1 AND next_due_at <= $2 AND seq < $3 LIMIT $4) m`, pgx.QueryExecModeExec, string(f.State), f.Now, below, s.limits.DueCap+1).Scan(&due)
	if err != nil {
		return nil, fmt.Errorf("list cases: %w", err)
	}
	q := s.listSeqs(f, before, n, nameNone, 0)
	if due <= s.limits.DueCap {
		q = s.listSeqs(f, before, n, dueFew, 0)
	}
	rows, _, err := s.summaries(ctx, q)
	return rows, err
}

// nameMode is how listSeqs applies a name search.
type nameMode int

const (
	nameNone   nameMode = iota
	nameByKeys          // the cases among the (at most NameCap) keys in q's prefix range
	nameByScan          // a window of the newest cases, joined with case_names
	// dueFew is no name search: the filter's overdue cases of its state are read whole (at
	// most DueCap of them, from cases_state_due), then sorted
	dueFew
)

// nameScanMatch is the name condition of a newest-first scan of case_names n. case_name_prefix
// (migration 00006) normalizes q as the names are and escapes it for LIKE; the second LIKE
// finds q at the start of a later word.
const nameScanMatch = "(n.name LIKE case_name_prefix(?) OR n.name LIKE '% ' || case_name_prefix(?))"

// seqQuery is a query of up to n seqs, newest first; counted ones return a count before the seq.
type seqQuery struct {
	sql     string
	args    []any
	counted bool
}

// byName returns up to n rows of the cases whose name matches f.Q (and the other filters)
// below before, newest first.
func (s *Cases) byName(ctx context.Context, f domain.CaseFilter, before int64, n int) ([]summaryRow, error) {
	below := before
	if below == 0 {
		below = math.MaxInt64
	}
	filtered := f.State != "" || f.FacilityType != "" || f.Assignee != "" || f.Overdue || f.Party != nil
	if filtered {
		var keys int
		err := s.db.SQL.QueryRowContext(ctx, `SELECT count(*) FROM (SELECT 1 FROM case_name_keys
			WHERE key LIKE case_name_prefix($1) AND seq < $2 LIMIT $3) m`, pgx.QueryExecModeExec, f.Q, below, s.limits.NameCap+1).Scan(&keys)
		if err != nil {
			return nil, fmt.Errorf("list cases: %w", err)
		}
		if keys <= s.limits.NameCap {
			rows, _, err := s.summaries(ctx, s.listSeqs(f, before, n, nameByKeys, 0))
			return rows, err
		}
		// A common prefix: the newest NameWindow cases joined with their names (bounded
		// whatever the join), then the filter over the prefix's keys below them.
		low := before
		if low == 0 {
			if err := s.db.SQL.QueryRowContext(ctx, "SELECT coalesce(max(seq), 0) + 1 FROM case_names").Scan(&low); err != nil {
				return nil, fmt.Errorf("list cases: %w", err)
			}
		}
		low -= s.limits.NameWindow
		rows, _, err := s.summaries(ctx, s.listSeqs(f, before, n, nameByScan, low))
		if err != nil || len(rows) >= n || low <= 1 {
			return rows, err
		}
		older, _, err := s.summaries(ctx, s.listSeqs(f, low, n-len(rows), nameByKeys, 0))
		return append(rows, older...), err
	}
	// The name alone: the page from the keys in range and their count, up to nameProbe, in one
	// statement; a name with more keys is read newest first (case_names_newest). A full name or
	// a surname with a first name has a few keys and is answered from them; a common first name
	// or surname fills the page from the newest names at once. Counting up to NameCap here, as
	// the filtered search does, read NameCap+1 keys for every common name only to throw them
	// away: at a million cases most of a name search's time (docs/BENCHMARKS.md).
	probe := min(s.limits.NameCap, nameProbe)
	rows, keys, err := s.summaries(ctx, seqQuery{sql: `WITH m AS MATERIALIZED (
			SELECT seq FROM case_name_keys WHERE key LIKE case_name_prefix($1) AND seq < $2 LIMIT $3)
		SELECT (SELECT count(*) FROM m), seq FROM (SELECT DISTINCT seq FROM m) d ORDER BY seq DESC LIMIT $4`,
		args: []any{f.Q, below, probe + 1, n}, counted: true})
	if err != nil || keys <= probe {
		return rows, err
	}
	rows, _, err = s.summaries(ctx, seqQuery{sql: `SELECT seq FROM case_names_newest($1, $2, $3, $4) AS t(seq)`, args: []any{f.Q, below, n, s.limits.NameWindow}})
	return rows, err
}

// nameProbe is how many matching keys make a name alone "common" (see byName).
const nameProbe = 500

// listSeqs is the query of up to n seqs of the cases the filter selects below before (when not
// 0), newest first. It is built by gorm, so the filters and the party rule (partyWhere) are
// written once.
func (s *Cases) listSeqs(f domain.CaseFilter, before int64, n int, name nameMode, atLeast int64) seqQuery {
	filters := func() *gorm.DB {
		q := s.db.Gorm.Session(&gorm.Session{DryRun: true, NewDB: true}).Table("cases c")
		if f.State != "" {
			q = q.Where("state = ?", string(f.State))
		}
		if f.FacilityType != "" {
			q = q.Where("facility_type = ?", string(f.FacilityType))
		}
		if f.Assignee != "" {
			q = q.Where("assignee_id = ?", f.Assignee)
		}
		if f.Overdue {
			q = q.Where("next_due_at <= ?", f.Now)
		}
		if f.Party != nil {
			q = partyWhere(q, *f.Party)
		}
		if len(f.CaseIDs) > 0 {
			q = q.Where("c.id = ANY (?::uuid[])", uuidArray(f.CaseIDs))
		}
		if before > 0 {
			q = q.Where("c.seq < ?", before)
		}
		return q
	}
	q := filters().Select("c.seq")
	switch {
	case name == nameByKeys:
		// the prefix's keys below before (at most NameCap of them, or the older part of a
		// common prefix) as a semi-join; not "= ANY (ARRAY(…))", which a scan of the filter's
		// index checks by reading the whole array for every entry
		below := before
		if below == 0 {
			below = math.MaxInt64
		}
		q = q.Where("c.seq IN (SELECT seq FROM case_name_keys WHERE key LIKE case_name_prefix(?) AND seq < ?)", f.Q, below)
	case name == nameByScan:
		// the cases from atLeast on, joined with their names: both sides bounded
		q = q.Joins("JOIN case_names n ON n.seq = c.seq").Where(nameScanMatch, f.Q, f.Q).
			Where("c.seq >= ? AND n.seq >= ?", atLeast, atLeast)
	case f.Q != "":
		q = q.Where("number = ?", strings.ToUpper(f.Q))
	}
	if name == dueFew {
		// OFFSET 0 keeps the order and the limit out of the inner query, so that it is planned
		// as "all of them" (by cases_state_due), not as "the newest first until n".
		stmt := q.Find(&[]int64{}).Statement
		return seqQuery{sql: fmt.Sprintf("SELECT seq FROM (%s OFFSET 0) d ORDER BY seq DESC LIMIT %d", stmt.SQL.String(), n), args: stmt.Vars}
	}
	stmt := q.Order("c.seq DESC").Limit(n).Find(&[]int64{}).Statement
	return seqQuery{sql: stmt.SQL.String(), args: stmt.Vars}
}

// summaries reads the list rows of the seqs the query selects, newest first, in one unnamed
// statement (planned with its values); for a counted query also the count.
func (s *Cases) summaries(ctx context.Context, q seqQuery) ([]summaryRow, int, error) {
	count := "0"
	if q.counted {
		count = "(SELECT max(count) FROM s)"
	}
	rows, err := s.db.SQL.QueryContext(ctx, `WITH s AS MATERIALIZED (`+q.sql+`)
		SELECT `+count+`, id, seq, number, state, version, facility_type, channel, applicant_name,
			assignee_id, state_entered_at, created_at, next_due_at,
			health_org_id, guardianship_id, filed_by_agency_id, facility_id, voucher_facility_id
		FROM cases WHERE seq = ANY (ARRAY(SELECT seq FROM s)) ORDER BY seq DESC`, append([]any{pgx.QueryExecModeExec}, q.args...)...)
	if err != nil {
		return nil, 0, fmt.Errorf("list cases: %w", err)
	}
	defer rows.Close()
	var out []summaryRow
	n := 0
	for rows.Next() {
		var r summaryRow
		if err := rows.Scan(&n, &r.ID, &r.Seq, &r.Number, &r.State, &r.Version, &r.FacilityType, &r.Channel, &r.ApplicantName,
			&r.AssigneeID, &r.StateEnteredAt, &r.CreatedAt, &r.NextDueAt,
			&r.HealthOrgID, &r.GuardianshipID, &r.FiledByAgencyID, &r.FacilityID, &r.VoucherFacilityID); err != nil {
			return nil, 0, fmt.Errorf("list cases: %w", err)
		}
		out = append(out, r)
	}
	return out, n, rows.Err()
}

func encodeCursor(seq int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte("s" + strconv.FormatInt(seq, 10)))
}

func decodeCursor(c string) (int64, error) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err == nil && len(b) > 1 && b[0] == 's' {
		if seq, err := strconv.ParseInt(string(b[1:]), 10, 64); err == nil && seq > 0 {
			return seq, nil
		}
	}
	return 0, domain.Invalid("cursor", "is not a cursor this server gave out")
}
