package store

import (
	"context"
	"strings"
	"time"

	"carepath/domain"
)

// ChangeSQLs is the change statement of every shape.
func ChangeSQLs() []string {
	out := make([]string, len(changeStatements))
	for i, st := range changeStatements {
		out[i] = st.sql
	}
	return out
}

// Cached reports whether the cases store holds the case at this version in its cache.
func Cached(s *CaseCache, id string, version int) bool { return s.get(id, version) != nil }

// LegacyAccessLines writes n lines of a case's access chain as they were written before
// migration 00013 (chained per case, no writer), after the case's last such line.
func LegacyAccessLines(ctx context.Context, db *DB, caseID string, n int) error {
	var seq int
	var prev string
	err := db.SQL.QueryRowContext(ctx, `SELECT coalesce(max(seq), 0), coalesce((SELECT hash FROM access_log
		WHERE case_id = $1 AND writer_id IS NULL ORDER BY seq DESC LIMIT 1), '')
		FROM access_log WHERE case_id = $1 AND writer_id IS NULL`, caseID).Scan(&seq, &prev)
	if err != nil {
		return err
	}
	for i := 0; i < n; i++ {
		seq++
		r := accessRow{CaseID: caseID, Seq: seq, ActorID: "old", ActorName: "old", ActorKind: "user", Role: "specialist",
			Method: "GET", Route: "/api/v1/cases/:id", RequestID: "old", At: time.Now().UTC().Truncate(time.Microsecond), PrevHash: prev}
		r.Hash = r.hash()
		if err := db.Gorm.WithContext(ctx).Create(&r).Error; err != nil {
			return err
		}
		prev = r.Hash
	}
	return nil
}

// WaitingPlain is the plain answer a waiting-list page must match: the whole filtered list in
// one query, in the list's order (position i+1 for the i-th id).
func WaitingPlain(ctx context.Context, db *DB, f domain.WaitingFilter) ([]string, error) {
	where := append([]string{onTheList}, waitingFilters(f)...)
	st := named(`SELECT ` + waitingColumns + `, true FROM cases` + waitingFrom + ` WHERE ` + strings.Join(where, " AND ") +
		` ORDER BY ` + WaitingOrder("c"))
	ft := string(f.FacilityType)
	if f.FacilityID != "" {
		if err := db.SQL.QueryRowContext(ctx, "SELECT type FROM facilities WHERE id = $1", f.FacilityID).Scan(&ft); err != nil {
			return nil, err
		}
	}
	rows, err := scanWaiting(ctx, db.SQL, st.sql, st.args(changeArgs{"ft": ft, "home": f.FacilityID, "section": "", "district": f.District}))
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(rows))
	for i, r := range rows {
		ids[i] = r.ID
	}
	return ids, nil
}

// CasesAheadOf is CasesAhead outside a command: the numbers of the first 20 cases before the
// case on its list that the home could take.
func CasesAheadOf(ctx context.Context, db *DB, caseID, facilityID string) ([]string, error) {
	return (&lazyTx{db: db, ctx: ctx}).CasesAhead(ctx, caseID, facilityID)
}

// WalkWaitingAtMost makes the waiting list's walk give up to one query after n cases, until
// the test ends.
func WalkWaitingAtMost(t interface{ Cleanup(func()) }, n int) {
	was := waitingWalkMax
	waitingWalkMax = n
	t.Cleanup(func() { waitingWalkMax = was })
}
