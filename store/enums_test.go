package store_test

import (
	"context"
	"slices"
	"testing"

	"carepath/domain"
	"carepath/store/dbtest"
)

func strs[T ~string](vs []T) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = string(v)
	}
	return out
}

// TestSQLEnumsMatchTheDomain: each enum type of the schema (migration 00007 and later) holds the
// values the domain defines, no more and no fewer: the lifecycle table's states, and the other
// closed sets, like the OpenAPI enums (api's TestContractEnumsMatchTheDomain).
func TestSQLEnumsMatchTheDomain(t *testing.T) {
	db := dbtest.Open(t)
	ctx := context.Background()
	checks := map[string][]string{
		"case_state":      domain.StateNames(),
		"intake_channel":  strs(domain.Channels),
		"facility_type":   strs(domain.FacilityTypes),
		"legal_capacity":  strs(domain.LegalCapacities),
		"deadline_kind":   strs(domain.DeadlineKinds),
		"deadline_state":  strs([]domain.DeadlineState{domain.DeadlineOpen, domain.DeadlineMet, domain.DeadlineMissed, domain.DeadlineCancelled}),
		"notice_audience": domain.Audiences,
		"notice_channel":  {domain.NoticeSMS, domain.NoticeEmail, domain.NoticeWebhook},
		"notice_status":   strs(domain.NoticeStatuses),
		"actor_kind":      {domain.ActorUser, domain.ActorAgency, domain.ActorSystem},
	}
	for typ, want := range checks {
		rows, err := db.SQL.QueryContext(ctx, `SELECT e.enumlabel FROM pg_enum e JOIN pg_type t ON t.oid = e.enumtypid
			WHERE t.typname = $1 ORDER BY e.enumlabel`, typ)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for rows.Next() {
			var v string
			if err := rows.Scan(&v); err != nil {
				t.Fatal(err)
			}
			got = append(got, v)
		}
		rows.Close()
		want = slices.Sorted(slices.Values(want))
		if !slices.Equal(got, want) {
			t.Errorf("SQL enum %s has %v, the domain %v", typ, got, want)
		}
	}
}
