package store

import (
	"context"
	"database/sql"
	"fmt"
)

// The waiting list holds the cases in state waiting_list and the residents in transfer_pending,
// who wait for a home of the type they asked for while they keep their bed (migration 00031):
// every waiting-list query says "state IN ('waiting_list', 'transfer_pending')", the predicate
// of the index cases_waiting_order.

// WaitingOrder is the order of a facility type's waiting list, over the cases of alias: the
// priority's rank, then the date the need was recognised, then who registered first (the index
// cases_waiting_order, migration 00021). The one definition of the order, for Cases.Get, the
// status lookup and its snapshot, and the waiting list.
func WaitingOrder(alias string) string {
	return alias + ".priority_rank, " + alias + ".recognized_at, " + alias + ".seq"
}

// WaitingPosition counts the cases ahead on the waiting list of the case's facility type.
func WaitingPosition(ctx context.Context, db interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}, caseID string) (int, error) {
	var ahead int
	err := db.QueryRowContext(ctx, `SELECT count(*) FROM cases w, cases me WHERE me.id = $1 AND w.state IN ('waiting_list', 'transfer_pending')
		AND w.facility_type = me.facility_type AND (`+WaitingOrder("w")+`) < (`+WaitingOrder("me")+`)`, caseID).Scan(&ahead)
	if err != nil {
		return 0, fmt.Errorf("waiting position of case %s: %w", caseID, err)
	}
	return ahead + 1, nil
}
