package store_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"carepath/cmd/carepath/generate"
	"carepath/domain"
	"carepath/store"
)

// TestListMatchesPlainQuery pages through lists over generated cases and compares them with the
// same filter as one plain query, with name searches on both sides of the boundary between
// their two ways (a name with more than NameCap matching keys is read newest first, in a window
// of the newest names, then from the older keys).
func TestListMatchesPlainQuery(t *testing.T) {
	db, cases := generatedCases(t, 3000)
	cases = cases.WithListLimits(store.ListLimits{NameCap: 30, NameWindow: 500, DueCap: 25})
	ctx := context.Background()
	var common, rare, fragment string
	if err := db.SQL.QueryRowContext(ctx, `SELECT split_part(applicant_name, ' ', 1) FROM cases GROUP BY 1 ORDER BY count(*) DESC LIMIT 1`).Scan(&common); err != nil {
		t.Fatal(err)
	}
	if err := db.SQL.QueryRowContext(ctx, `SELECT applicant_name FROM cases ORDER BY seq LIMIT 1`).Scan(&rare); err != nil {
		t.Fatal(err)
	}
	fragment = strings.ToLower(string([]rune(common)[0:4]))
	// the first name and patronymic of the rare name: words after the first
	later := strings.ToLower(strings.Join(strings.Fields(rare)[1:], " "))
	// a name matches when a word of it starts with q
	byName := "(applicant_name ILIKE $1 OR applicant_name ILIKE $2)"
	words := func(q string) []any { return []any{q + "%", "% " + q + "%"} }
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
		// on both sides of DueCap: read from the state's overdue cases, or newest first
		{"overdue in a state with few", domain.CaseFilter{Overdue: true, State: domain.VoucherIssued}, "next_due_at <= $1 AND state = 'voucher_issued'", []any{now}},
		{"overdue in a state with many", domain.CaseFilter{Overdue: true, State: domain.Residing}, "next_due_at <= $1 AND state = 'residing'", []any{now}},
		{"overdue in a state and type", domain.CaseFilter{Overdue: true, State: domain.CollectingDocuments, FacilityType: domain.ElderlyDisabled},
			"next_due_at <= $1 AND state = 'collecting_documents' AND facility_type = 'elderly_disabled'", []any{now}},
		{"nothing overdue in a terminal state", domain.CaseFilter{Overdue: true, State: domain.Deceased}, "next_due_at <= $1 AND state = 'deceased'", []any{now}},
		{"common surname", domain.CaseFilter{Q: common}, byName, words(common)},
		{"rare full name", domain.CaseFilter{Q: rare}, byName, words(rare)},
		{"start of a surname, lower case", domain.CaseFilter{Q: fragment}, byName, words(fragment)},
		{"first name and patronymic", domain.CaseFilter{Q: later}, byName, words(later)},
		{"common name in a state", domain.CaseFilter{Q: common, State: domain.Residing}, byName + " AND state = 'residing'", words(common)},
		{"rare name in a state", domain.CaseFilter{Q: rare, State: domain.State(stateOf(t, db, rare))}, byName + " AND state = $3",
			append(words(rare), stateOf(t, db, rare))},
		{"overdue with a common name", domain.CaseFilter{Q: fragment, Overdue: true}, byName + " AND next_due_at <= $3",
			append(words(fragment), now)},
		{"number", domain.CaseFilter{Q: strings.ToLower(number)}, "number = $1", []any{number}},
		{"nothing", domain.CaseFilter{Q: "Несуществующая Фамилия"}, "false", nil},
	}
	// the two overdue cases above must fall on their sides of DueCap
	for state, few := range map[string]bool{"voucher_issued": true, "residing": false} {
		var n int
		if err := db.SQL.QueryRowContext(ctx, "SELECT count(*) FROM cases WHERE state = $1 AND next_due_at <= $2", state, now).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if (n <= 25) != few {
			t.Fatalf("%d overdue cases in %s: not on the side of DueCap (25) the test means", n, state)
		}
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
			if !strings.HasPrefix(tc.name, "nothing") && len(want) == 0 {
				t.Fatalf("filter %s selects nothing: the test proves little", tc.where)
			}
		})
	}
}

// generatedCases opens a fresh database holding n cases of the bulk generator.
func generatedCases(t *testing.T, n int) (*store.DB, *store.Cases) {
	t.Helper()
	ctx := context.Background()
	db, cases := freshCases(t)
	cal, err := store.NewCalendars(db).Calendar(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := generate.Run(ctx, cases, generate.Options{Cases: n, Settings: domain.DefaultSettings(), Calendar: cal, Seed: 7}); err != nil {
		t.Fatalf("generate %d cases: %v", n, err)
	}
	return db, cases
}

// count runs a query of one number.
func count(t *testing.T, db *store.DB, query string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := db.SQL.QueryRowContext(context.Background(), query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

func stateOf(t *testing.T, db *store.DB, name string) string {
	t.Helper()
	var st string
	if err := db.SQL.QueryRow("SELECT state FROM cases WHERE applicant_name = $1 LIMIT 1", name).Scan(&st); err != nil {
		t.Fatal(err)
	}
	return st
}

// TestNameSearch: q matches the start of any word of the name, case-insensitively and with ё as
// е, over the following words too; names are indexed when a case is registered and again when
// its name changes; pages stay stable while matching cases arrive; both ways of the search
// (the keys and the newest-first scan) answer alike.
func TestNameSearch(t *testing.T) {
	f := newAccessFixture(t)
	ctx := context.Background()
	korolyova := f.register(t, "Королёва  Анна Петровна")
	ivanov := f.register(t, "Иванов_Тест Пётр Ильич")
	percent := f.register(t, "Сто%процентов Ия Ивановна")
	lister := f.cases
	find := func(q string, extra ...func(*domain.CaseFilter)) []string {
		t.Helper()
		cf := domain.CaseFilter{Q: q, Limit: 50, Now: time.Now()}
		for _, e := range extra {
			e(&cf)
		}
		page, err := lister.List(ctx, cf)
		if err != nil {
			t.Fatalf("q %q: %v", q, err)
		}
		var ids []string
		for _, it := range page.Items {
			ids = append(ids, it.ID)
		}
		return ids
	}
	// by the keys; newest first; newest first in a window of one name, then by the older keys
	for _, way := range []struct {
		cap int
		win int64
	}{{5000, 10000}, {0, 10000}, {0, 1}} {
		cap := way.cap
		lister = f.cases.WithListLimits(store.ListLimits{NameCap: way.cap, NameWindow: way.win, DueCap: store.DefaultListLimits().DueCap})
		for q, want := range map[string][]string{
			"королева":            {korolyova.ID},
			"КОРОЛЁВА анна":       {korolyova.ID},
			"анна петр":           {korolyova.ID},
			" королева   анна  ":  {korolyova.ID},
			"петровна":            {korolyova.ID},
			"олева":               nil, // inside a word
			"анна иван":           nil, // words that do not follow each other
			"иванов_":             {ivanov.ID},
			"_":                   nil, // no wildcard
			"%":                   nil,
			"сто%":                {percent.ID},
			"ив":                  {percent.ID, ivanov.ID},
			"пётр ильич":          {ivanov.ID},
			"Несуществующий Иван": nil,
		} {
			if got := find(q); !slices.Equal(got, want) {
				t.Errorf("cap %d, q %q: %v, want %v", cap, q, got, want)
			}
		}
		if got := find("ив", func(cf *domain.CaseFilter) { cf.State = domain.Intake }); !slices.Equal(got, []string{percent.ID, ivanov.ID}) {
			t.Errorf("cap %d: name in a state: %v", cap, got)
		}
		if got := find("ив", func(cf *domain.CaseFilter) { cf.State = domain.Residing }); len(got) != 0 {
			t.Errorf("cap %d: name in another state: %v", cap, got)
		}
		lister = f.cases
	}

	// A changed name is searched by its new words only.
	exec(t, f.db, "UPDATE cases SET applicant_name = 'Смирнова Анна Петровна' WHERE id = ?", korolyova.ID)
	if got := find("королева"); len(got) != 0 {
		t.Errorf("old name still found: %v", got)
	}
	if got := find("смирнова анна"); !slices.Equal(got, []string{korolyova.ID}) {
		t.Errorf("new name: %v", got)
	}

	// Keyset pages stay stable while matching cases are registered.
	for i := 0; i < 5; i++ {
		f.register(t, fmt.Sprintf("Страницева Вера %d", i))
	}
	first, err := f.cases.List(ctx, domain.CaseFilter{Q: "страницева", Limit: 3, Now: time.Now()})
	if err != nil || len(first.Items) != 3 || first.NextCursor == "" {
		t.Fatalf("first page: %+v, %v", first, err)
	}
	f.register(t, "Страницева Вера новая")
	second, err := f.cases.List(ctx, domain.CaseFilter{Q: "страницева", Limit: 3, Cursor: first.NextCursor, Now: time.Now()})
	if err != nil || len(second.Items) != 2 || second.NextCursor != "" {
		t.Fatalf("second page after an insert: %+v, %v", second, err)
	}
	seen := map[string]bool{}
	for _, it := range append(first.Items, second.Items...) {
		if seen[it.ID] || it.ApplicantName == "Страницева Вера новая" {
			t.Errorf("page 2 repeats a case or shows the new one: %s", it.ApplicantName)
		}
		seen[it.ID] = true
	}
}
