package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"carepath/domain"
)

// The waiting list's segments and the wait estimate's figures (domain/wait.go): a segment is
// the type of home and the preferences (districts and homes, kept sorted by the placement's
// check, so equal sets are equal arrays). A case with no placement row has no preferences.

// segmentOf is a waiting case's districts and homes, for alias a's placement row.
func segmentOf(a string) (districts, homes string) {
	return "coalesce(" + a + ".districts, '{}'::text[])", "coalesce(" + a + ".facility_ids, '{}'::uuid[])"
}

// EstimateSince is the start of the period whose admissions the estimate counts.
func EstimateSince(now time.Time) time.Time { return now.AddDate(0, -domain.EstimatePeriodMonths, 0) }

// segmentFiguresSQL counts a waiting case's figures, admissions included (SegmentFiguresOf);
// segmentPlacesSQL only its places, with its type and preferences (SegmentPlacesOf).
var segmentFiguresSQL, segmentPlacesSQL = func() (string, string) {
	wd, wh := segmentOf("wp")
	ad, ah := segmentOf("ap")
	md, mh := segmentOf("p")
	order := func(a string) string { return "(" + WaitingOrder(a) + ")" }
	me := `WITH me AS (SELECT c.id, c.facility_type, c.priority_rank, c.recognized_at, c.seq, ` + md + ` AS d, ` + mh + ` AS h
		FROM cases c LEFT JOIN placements p ON p.case_id = c.id WHERE c.id = $1 AND c.state IN ('waiting_list', 'transfer_pending'))
	SELECT `
	places := `
		(SELECT count(*) FROM cases w WHERE w.state IN ('waiting_list', 'transfer_pending') AND w.facility_type = me.facility_type AND ` + order("w") + ` < ` + order("me") + `) + 1,
		(SELECT count(*) FROM cases w WHERE w.state IN ('waiting_list', 'transfer_pending') AND w.facility_type = me.facility_type),
		(SELECT count(*) FROM cases w LEFT JOIN placements wp ON wp.case_id = w.id WHERE w.state IN ('waiting_list', 'transfer_pending')
			AND w.facility_type = me.facility_type AND ` + wd + ` = me.d AND ` + wh + ` = me.h AND ` + order("w") + ` < ` + order("me") + `) + 1,
		(SELECT count(*) FROM cases w LEFT JOIN placements wp ON wp.case_id = w.id WHERE w.state IN ('waiting_list', 'transfer_pending')
			AND w.facility_type = me.facility_type AND cardinality(` + wd + `) = 0 AND cardinality(` + wh + `) = 0 AND ` + order("w") + ` < ` + order("me") + `) + 1,`
	admissions := `
		(SELECT count(*) FROM case_history a JOIN cases ac ON ac.id = a.case_id LEFT JOIN placements ap ON ap.case_id = ac.id
			WHERE a.event = 'admit' AND a.at > $2 AND ac.facility_type = me.facility_type AND ` + ad + ` = me.d AND ` + ah + ` = me.h),
		(SELECT count(*) FROM case_history a JOIN cases ac ON ac.id = a.case_id LEFT JOIN placements ap ON ap.case_id = ac.id
			WHERE a.event = 'admit' AND a.at > $2 AND ac.facility_type = me.facility_type AND cardinality(` + ad + `) = 0 AND cardinality(` + ah + `) = 0),`
	prefs := `
		cardinality(me.d) + cardinality(me.h) > 0`
	return me + places + admissions + prefs + ` FROM me`,
		me + places + prefs + `, me.facility_type::text, to_json(me.d)::text, to_json(me.h)::text FROM me`
}()

// SegmentPlaces are a waiting case's figures without the admissions (SegmentPlacesOf), and the
// keys of the two segments whose admissions complete them.
type SegmentPlaces struct {
	Own, AnyHome   domain.SegmentFigures
	OwnKey, AnyKey string
}

// SegmentPlacesOf counts a waiting case's places like SegmentFiguresOf, leaving the admissions
// (the costly part: every admission of the period) to the caller; found is false when the case
// is not on the waiting list.
func SegmentPlacesOf(ctx context.Context, db interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}, caseID string) (p SegmentPlaces, found bool, err error) {
	var ft, ds, hs string
	err = db.QueryRowContext(ctx, segmentPlacesSQL, caseID).Scan(&p.Own.Position, &p.Own.Total,
		&p.Own.SegmentPosition, &p.AnyHome.SegmentPosition, &p.Own.Preferences, &ft, &ds, &hs)
	if err == sql.ErrNoRows {
		return p, false, nil
	}
	if err != nil {
		return p, false, fmt.Errorf("places of case %s: %w", caseID, err)
	}
	if p.OwnKey, err = SegmentKeyOf(ft, ds, hs); err != nil {
		return p, false, err
	}
	p.AnyKey = domain.SegmentKey(ft, nil, nil)
	p.AnyHome.Position, p.AnyHome.Total = p.Own.Position, p.Own.Total
	return p, true, nil
}

// SegmentFiguresOf reads a waiting case's figures by counting: in its own segment, and in the
// segment of any home of its type (as if it had no preferences). found is false when the case
// is not on the waiting list.
func SegmentFiguresOf(ctx context.Context, db interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}, caseID string, now time.Time) (own, anyHome domain.SegmentFigures, found bool, err error) {
	err = db.QueryRowContext(ctx, segmentFiguresSQL, caseID, EstimateSince(now)).Scan(&own.Position, &own.Total,
		&own.SegmentPosition, &anyHome.SegmentPosition, &own.Admissions, &anyHome.Admissions, &own.Preferences)
	if err == sql.ErrNoRows {
		return own, anyHome, false, nil
	}
	if err != nil {
		return own, anyHome, false, fmt.Errorf("segment figures of case %s: %w", caseID, err)
	}
	anyHome.Position, anyHome.Total = own.Position, own.Total
	return own, anyHome, true, nil
}

// SegmentFigures implements domain.WaitingRegister.
func (s *Cases) SegmentFigures(ctx context.Context, caseID string) (own, anyHome domain.SegmentFigures, found bool, err error) {
	return SegmentFiguresOf(ctx, s.db.SQL, caseID, time.Now())
}

// WaitingSnapshotSQL reads every waiting case in list order, by type, with its segment's
// districts and homes as JSON (for the status lookup's snapshot).
var WaitingSnapshotSQL = func() string {
	d, h := segmentOf("p")
	return `SELECT c.id::text, c.facility_type::text, to_json(` + d + `)::text, to_json(` + h + `)::text
	FROM cases c LEFT JOIN placements p ON p.case_id = c.id WHERE c.state IN ('waiting_list', 'transfer_pending')
	ORDER BY c.facility_type, ` + WaitingOrder("c")
}()

// SegmentAdmissions counts the admissions since since by segment (domain.SegmentKey), by the
// partial index case_history_admits (migration 00030).
func SegmentAdmissions(ctx context.Context, db *DB, since time.Time) (map[string]int, error) {
	d, h := segmentOf("p")
	rows, err := db.SQL.QueryContext(ctx, `SELECT c.facility_type::text, to_json(`+d+`)::text, to_json(`+h+`)::text, count(*)
		FROM case_history a JOIN cases c ON c.id = a.case_id LEFT JOIN placements p ON p.case_id = c.id
		WHERE a.event = 'admit' AND a.at > $1 GROUP BY 1, 2, 3`, since)
	if err != nil {
		return nil, fmt.Errorf("admissions by segment: %w", err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var ft, ds, hs string
		var n int
		if err := rows.Scan(&ft, &ds, &hs, &n); err != nil {
			return nil, fmt.Errorf("admissions by segment: %w", err)
		}
		key, err := SegmentKeyOf(ft, ds, hs)
		if err != nil {
			return nil, err
		}
		out[key] += n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("admissions by segment: %w", err)
	}
	return out, nil
}

// SegmentKeyOf is the segment key of a type and the JSON lists a query gave.
func SegmentKeyOf(ft, districtsJSON, homesJSON string) (string, error) {
	ds, err := jsonList(districtsJSON)
	if err != nil {
		return "", err
	}
	hs, err := jsonList(homesJSON)
	if err != nil {
		return "", err
	}
	return domain.SegmentKey(ft, ds, hs), nil
}
