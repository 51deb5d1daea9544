package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
)

// waitingColumns are what a waiting-list page shows of a case (c) and its placement (p).
const waitingColumns = `c.id::text, c.seq, c.number, c.applicant_name, c.facility_type::text, c.priority_rank, c.recognized_at,
	coalesce(c.applicant->>'gender', '') AS gender, p.priority, pc.title AS priority_title, p.bedridden,
	to_json(p.districts)::text AS districts, to_json(p.facility_ids)::text AS facility_ids, p.review`

// waitingFrom is a type's waiting list (@ft) with the placements and their categories; c is the
// cases of the list, as the caller's subquery or table gives them.
const waitingFrom = ` c LEFT JOIN placements p ON p.case_id = c.id LEFT JOIN priority_categories pc ON pc.code = p.priority`

// onTheList is the condition of a type's waiting list, the predicate of the index
// cases_waiting_order.
const onTheList = `c.state IN ('waiting_list', 'transfer_pending') AND c.facility_type = @ft::facility_type`

// afterKey and beforeKey are the conditions of the cases after and before a place in the
// list's order.
var (
	afterKey  = "(" + WaitingOrder("c") + ") > (@rank, @at, @seq)"
	beforeKey = "(" + WaitingOrder("c") + ") < (@brank, @bat, @bseq)"
)

// listQuerier runs queries: the pool, or a command's transaction.
type listQuerier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// waitingSpan is the part of a type's list a walk reads: after one place (nil: from the head)
// and before another (nil: to the end).
type waitingSpan struct{ after, before *waitingCursor }

// Windows of waitingWalk: the first is twice the cases wanted (a home's filter keeps about two
// thirds of a list whose cases mostly name no home), each next one four times the last, until
// the windows have read waitingWalkMax cases; then the rest is one query.
const waitingWindowFirst = 2

var waitingWalkMax = 10_000 // a variable for the tests

// waitingWalk returns the first want cases of a type's waiting list in span that pass every one
// of filters, in the list's order. It walks the list's order (the index cases_waiting_order) in
// windows: each window is the next cases of the type's list with their placements, and the
// filters only mark which of them belong; the walk stops once it has want cases or the list
// ends. Asked in one query, the planner, which cannot tell how many cases the filters keep (it
// guessed 2 of 100,000 for one home's list), read and sorted the type's whole list first:
// seconds for a home's first page (docs/BENCHMARKS.md "Placement"). The walk's cost is the
// cases read until the page is full; when the filters keep so few that waitingWalkMax cases
// have not filled it, the rest is asked in that one query, so that the worst case costs what
// every page did before. The answer is the one query's, WaitingPlain in the tests
// (TestWaitingWalkMatchesThePlainQuery).
func waitingWalk(ctx context.Context, q listQuerier, filters []string, args changeArgs, span waitingSpan, want int) ([]waitingRow, error) {
	window, fits := want, "true"
	if len(filters) > 0 {
		window, fits = want*waitingWindowFirst, "coalesce("+strings.Join(filters, " AND ")+", false)"
	}
	base := onTheList
	if b := span.before; b != nil {
		base += " AND " + beforeKey
		args["brank"], args["bat"], args["bseq"] = b.rank, b.at, b.seq
	}
	where := func(after *waitingCursor) string {
		if after == nil {
			return base
		}
		args["rank"], args["at"], args["seq"] = after.rank, after.at, after.seq
		return base + " AND " + afterKey
	}
	var out []waitingRow
	after := span.after
	for read := 0; read < waitingWalkMax; read += window {
		if read > 0 {
			window = min(window*4, waitingWalkMax-read)
		}
		st := named(`SELECT ` + waitingColumns + `, ` + fits + ` AS fits
			FROM (SELECT c.id, c.seq, c.number, c.applicant_name, c.facility_type, c.priority_rank, c.recognized_at, c.applicant
				FROM cases c WHERE ` + where(after) + ` ORDER BY ` + WaitingOrder("c") + ` LIMIT @window)` + waitingFrom + `
			ORDER BY ` + WaitingOrder("c"))
		args["window"] = window
		rows, err := scanWaiting(ctx, q, st.sql, st.args(args))
		if err != nil {
			return nil, err
		}
		for _, r := range rows {
			if r.Fits {
				out = append(out, r)
				if len(out) == want {
					return out, nil
				}
			}
		}
		if len(rows) < window {
			return out, nil // the list ended
		}
		last := rows[len(rows)-1]
		after = &waitingCursor{rank: last.PriorityRank, at: last.RecognizedAt, seq: last.Seq}
	}
	// the filters keep few: the rest of the list in one query
	st := named(`SELECT ` + waitingColumns + `, true FROM cases` + waitingFrom + ` WHERE ` + where(after) + ` AND ` + fits +
		` ORDER BY ` + WaitingOrder("c") + ` LIMIT @need`)
	args["need"] = want - len(out)
	rows, err := scanWaiting(ctx, q, st.sql, st.args(args))
	if err != nil {
		return nil, err
	}
	return append(out, rows...), nil
}

// scanWaiting runs a waiting-list query.
func scanWaiting(ctx context.Context, q listQuerier, query string, args []any) ([]waitingRow, error) {
	rs, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("waiting list: %w", err)
	}
	defer rs.Close()
	var out []waitingRow
	for rs.Next() {
		var r waitingRow
		if err := rs.Scan(&r.ID, &r.Seq, &r.Number, &r.ApplicantName, &r.FacilityType, &r.PriorityRank, &r.RecognizedAt, &r.Gender,
			&r.Priority, &r.PriorityTitle, &r.Bedridden, &r.Districts, &r.FacilityIDs, &r.Review, &r.Fits); err != nil {
			return nil, fmt.Errorf("waiting list: %w", err)
		}
		out = append(out, r)
	}
	if err := rs.Err(); err != nil {
		return nil, fmt.Errorf("waiting list: %w", err)
	}
	return out, nil
}
