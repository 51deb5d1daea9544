package store_test

import (
	"context"
	"testing"
	"time"

	"carepath/domain"
	"carepath/store"
	"carepath/store/dbtest"
)

// TestTimelineCodesAreTheDatabases: every state of the lifecycle has its own letter in the
// timeline, the same in Go (store.TimelineCodes) and in SQL (case_state_code, migration 00066),
// and the triggers' case_timeline_add and the generator's TimelineOf write the same timeline for
// the same changes of state, which ParseTimeline reads back.
func TestTimelineCodesAreTheDatabases(t *testing.T) {
	db := dbtest.Open(t)
	ctx := context.Background()
	codes := store.TimelineCodes()
	seen := map[byte]domain.State{}
	for _, name := range domain.StateNames() {
		st := domain.State(name)
		c, ok := codes[st]
		if !ok {
			t.Errorf("state %s has no timeline letter", st)
			continue
		}
		if other, dup := seen[c]; dup {
			t.Errorf("states %s and %s share the letter %c", st, other, c)
		}
		seen[c] = st
		var sqlCode string
		if err := db.SQL.QueryRowContext(ctx, "SELECT case_state_code($1::case_state)", name).Scan(&sqlCode); err != nil {
			t.Fatal(err)
		}
		if sqlCode != string(c) {
			t.Errorf("state %s: letter %q in SQL, %q in Go", st, sqlCode, string(c))
		}
	}
	if len(codes) != len(domain.StateNames()) {
		t.Errorf("%d letters for %d states", len(codes), len(domain.StateNames()))
	}

	// a resident who went to hospital twice: each state once, on its last day, in that order
	msk := domain.Moscow
	day := func(y int, m time.Month, d, h int) time.Time { return time.Date(y, m, d, h, 0, 0, 0, msk) }
	steps := []struct {
		from, to domain.State
		at       time.Time
	}{
		{"", domain.Intake, day(2026, 1, 15, 23)}, // late evening: the Moscow day, not UTC's
		{domain.Intake, domain.CollectingDocuments, day(2026, 1, 16, 0)},
		{domain.CollectingDocuments, domain.CollectingDocuments, day(2026, 1, 20, 9)}, // not a change of state
		{domain.CollectingDocuments, domain.UnderReview, day(2026, 2, 2, 9)},
		{domain.UnderReview, domain.WaitingList, day(2026, 2, 9, 9)},
		{domain.WaitingList, domain.VoucherIssued, day(2027, 3, 1, 9)},
		{domain.VoucherIssued, domain.Residing, day(2027, 3, 10, 9)},
		{domain.Residing, domain.Hospitalized, day(2027, 5, 1, 9)},
		{domain.Hospitalized, domain.Residing, day(2027, 5, 20, 9)},
		{domain.Residing, domain.Hospitalized, day(2028, 2, 29, 9)},
		{domain.Hospitalized, domain.Residing, day(2028, 3, 1, 9)},
	}
	var history []domain.HistoryEntry
	sqlTimeline := ""
	for _, s := range steps {
		history = append(history, domain.HistoryEntry{From: s.from, To: s.to, At: s.at})
		if s.from == s.to {
			continue
		}
		if err := db.SQL.QueryRowContext(ctx, "SELECT case_timeline_add($1, $2, $3)", sqlTimeline, string(s.to), s.at).Scan(&sqlTimeline); err != nil {
			t.Fatal(err)
		}
	}
	goTimeline := store.TimelineOf(history)
	if goTimeline != sqlTimeline {
		t.Fatalf("TimelineOf %q, the trigger's function %q", goTimeline, sqlTimeline)
	}
	got, err := store.ParseTimeline(goTimeline)
	if err != nil {
		t.Fatal(err)
	}
	step := func(st domain.State, on string) domain.StatusStep {
		return domain.StatusStep{State: st, On: domain.MustDate(on)}
	}
	want := []domain.StatusStep{step(domain.Intake, "2026-01-15"), step(domain.CollectingDocuments, "2026-01-16"),
		step(domain.UnderReview, "2026-02-02"), step(domain.WaitingList, "2026-02-09"),
		step(domain.VoucherIssued, "2027-03-01"), step(domain.Hospitalized, "2028-02-29"),
		step(domain.Residing, "2028-03-01")}
	if len(got) != len(want) {
		t.Fatalf("parsed %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("stage %d: %v, want %v", i, got[i], want[i])
		}
	}
	for _, bad := range []string{"a0951", "z09511", "a0951x", "a09511b"} {
		if _, err := store.ParseTimeline(bad); err == nil {
			t.Errorf("ParseTimeline(%q) took it", bad)
		}
	}
}
