package store_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"carepath/domain"
	"carepath/store"
)

// TestListMatchesPlainQuery pages through lists over generated cases and compares them with the
// same filter as one plain query, with name searches crossing the boundary between their two
// steps.
func TestListMatchesPlainQuery(t *testing.T) {
	db, cases, _, _, _ := generatedStore(t, 3000)
	defer store.SetNameWindow(700)()
	ctx := context.Background()
	var common, rare, fragment string
	if err := db.SQL.QueryRowContext(ctx, `SELECT split_part(applicant_name, ' ', 1) FROM cases GROUP BY 1 ORDER BY count(*) DESC LIMIT 1`).Scan(&common); err != nil {
		t.Fatal(err)
	}
	if err := db.SQL.QueryRowContext(ctx, `SELECT applicant_name FROM cases ORDER BY seq LIMIT 1`).Scan(&rare); err != nil {
		t.Fatal(err)
	}
	fragment = strings.ToLower(string([]rune(common)[1:4]))
	var number string
	if err := db.SQL.QueryRowContext(ctx, `SELECT number FROM cases ORDER BY seq LIMIT 1 OFFSET 1234`).Scan(&number); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	cases4 := []struct {
		name  string
		f     domain.CaseFilter
		where string
		args  []any
	}{
		{"all", domain.CaseFilter{}, "true", nil},
		{"state", domain.CaseFilter{State: domain.WaitingList}, "state = 'waiting_list'", nil},
		{"state and type", domain.CaseFilter{State: domain.Residing, FacilityType: domain.Veterans}, "state = 'residing' AND facility_type = 'veterans'", nil},
		{"overdue", domain.CaseFilter{Overdue: true}, "next_due_at <= $1", []any{now}},
		{"overdue in state", domain.CaseFilter{Overdue: true, State: domain.WaitingList}, "next_due_at <= $1 AND state = 'waiting_list'", []any{now}},
		{"common surname", domain.CaseFilter{Q: common}, "applicant_name ILIKE $1", []any{"%" + common + "%"}},
		{"rare full name", domain.CaseFilter{Q: rare}, "applicant_name ILIKE $1", []any{"%" + rare + "%"}},
		{"fragment, lower case", domain.CaseFilter{Q: fragment}, "applicant_name ILIKE $1", []any{"%" + fragment + "%"}},
		{"name in a state", domain.CaseFilter{Q: common, State: domain.Residing}, "applicant_name ILIKE $1 AND state = 'residing'", []any{"%" + common + "%"}},
		{"number", domain.CaseFilter{Q: strings.ToLower(number)}, "number = $1", []any{number}},
		{"nothing", domain.CaseFilter{Q: "Несуществующая Фамилия"}, "false", nil},
	}
	for _, tc := range cases4 {
		t.Run(tc.name, func(t *testing.T) {
			var want []string
			rows, err := db.SQL.QueryContext(ctx, "SELECT id FROM cases WHERE "+tc.where+" ORDER BY seq DESC", tc.args...)
			if err != nil {
				t.Fatal(err)
			}
			for rows.Next() {
				var id string
				_ = rows.Scan(&id)
				want = append(want, id)
			}
			rows.Close()
			f := tc.f
			f.Limit, f.Now = 37, now
			var got []string
			for pages := 0; ; pages++ {
				if pages > 200 {
					t.Fatal("too many pages")
				}
				page, err := cases.List(ctx, f)
				if err != nil {
					t.Fatal(err)
				}
				for _, it := range page.Items {
					got = append(got, it.ID)
				}
				if page.NextCursor == "" {
					break
				}
				if len(page.Items) != f.Limit {
					t.Fatalf("page %d has %d items and a next cursor", pages, len(page.Items))
				}
				f.Cursor = page.NextCursor
			}
			if len(got) != len(want) {
				t.Fatalf("paged list has %d cases, the plain query %d", len(got), len(want))
			}
			for i := range want {
				if got[i] != want[i] {
					t.Fatalf("item %d: %s, want %s", i, got[i], want[i])
				}
			}
			if tc.name != "nothing" && len(want) == 0 {
				t.Fatalf("filter %s selects nothing: the test proves little", tc.where)
			}
		})
	}
}
