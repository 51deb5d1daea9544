package store

import (
	"context"
	"time"

	"carepath/domain"
)

// TimelineCodes are the states' letters in the timeline.
func TimelineCodes() map[domain.State]byte { return timelineCodes }

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

// StatsArgs are the named parameters of the figures' queries.
func StatsArgs(q domain.StatsQuery, now time.Time, staleAfter time.Duration) map[string]any {
	return statsArgs(q, now, staleAfter)
}
