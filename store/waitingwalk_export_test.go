package store

import (
	"context"
	"strings"

	"carepath/domain"
)

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
