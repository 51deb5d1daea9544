package lookup_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"carepath/domain"
	"carepath/store/lookup"
)

// TestWaitEstimateOnABuiltFixture: the wait estimate's figures on a fixture whose answer is
// worked by hand, from the snapshot and counted alike.
//
// Waiting, in list order: w1 (any home), w2 (district Север), w3 (any home), w4 (Север), w5
// (Север). Admitted: 16 cases of the Север segment in the last 12 months and 2 more 13 months
// ago (not counted); 3 cases of the any-home segment; 4 of the Юг segment.
//   - w5: place 5 of 5, place 3 of its segment, A = 16: from ⌊36/20⌋ = 1, to ⌈36/12⌉ = 3 months.
//   - w1: place 1, A = 3 < 6: no estimate, with the reason.
//   - w5 as if any home: place 3 among the any-home cases (w1, w3 ahead), A = 3: no estimate.
func TestWaitEstimateOnABuiltFixture(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	north := &domain.Placement{Priority: domain.DefaultPriority, Districts: []string{"Север"}}
	var w []*domain.Case
	for _, p := range []*domain.Placement{nil, north, nil, north, north} {
		var pl *domain.Placement
		if p != nil {
			cp := *p
			cp.Districts = append([]string(nil), p.Districts...)
			pl = &cp
		}
		w = append(w, f.waitingCase(t, pl))
	}
	admit := func(districts string, n int, at time.Time) {
		t.Helper()
		for i := 0; i < n; i++ {
			c := f.register(t, "Поступивший Тест")
			if districts != "" {
				if err := f.db.Gorm.Exec(`INSERT INTO placements (case_id, priority, districts) VALUES (?, 'general', ARRAY[?]::text[])`, c.ID, districts).Error; err != nil {
					t.Fatal(err)
				}
			}
			if err := f.db.Gorm.Exec(`INSERT INTO case_history (case_id, version, event, from_state, to_state, actor_id, at)
				VALUES (?, 1000, 'admit', 'voucher_issued', 'residing', 'test', ?)`, c.ID, at).Error; err != nil {
				t.Fatal(err)
			}
		}
	}
	now := time.Now()
	admit("Север", 16, now.AddDate(0, -11, 0))
	admit("Север", 2, now.AddDate(0, -13, 0))
	admit("", 3, now.AddDate(0, -1, 0))
	admit("Юг", 4, now.AddDate(0, -2, 0))

	want5 := domain.SegmentFigures{Position: 5, Total: 5, SegmentPosition: 3, Admissions: 16, Preferences: true}
	want1 := domain.SegmentFigures{Position: 1, Total: 5, SegmentPosition: 1, Admissions: 3}
	wantAny5 := domain.SegmentFigures{Position: 5, Total: 5, SegmentPosition: 3, Admissions: 3}

	own, anyHome, found, err := f.cases.SegmentFigures(ctx, w[4].ID)
	if err != nil || !found || own != want5 || anyHome != wantAny5 {
		t.Fatalf("counted w5: %+v %+v %v %v, want %+v %+v", own, anyHome, found, err, want5, wantAny5)
	}
	if got := own.Status(); got.Estimate == nil || *got.Estimate != (domain.WaitEstimate{FromMonths: 1, ToMonths: 3}) || got.EstimateBasis.Reason != "" {
		t.Errorf("w5 estimate %+v %+v, want 1 to 3 months", got.Estimate, got.EstimateBasis)
	}
	if got := anyHome.Status(); got.Estimate != nil || got.EstimateBasis.Reason == "" {
		t.Errorf("w5 any home: %+v %+v, want none with a reason", got.Estimate, got.EstimateBasis)
	}
	if _, _, found, err := f.cases.SegmentFigures(ctx, "00000000-0000-4000-8000-000000000001"); found || err != nil {
		t.Errorf("a case not waiting: found %v %v", found, err)
	}

	l := lookup.New(f.db)
	for round := 0; round < 2; round++ { // the first counted or waiting for the snapshot, then from it
		for i, want := range map[int]domain.SegmentFigures{4: want5, 0: want1} {
			got, err := l.WaitingFigures(ctx, w[i].ID)
			if err != nil || got != want {
				t.Errorf("round %d, w%d: %+v %v, want %+v", round, i+1, got, err, want)
			}
		}
		deadline := time.Now().Add(10 * time.Second)
		for !l.HasWaitingSnapshot() && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
	}
	if st := want1.Status(); st.Estimate != nil || st.EstimateBasis.Reason != domain.EstimateTooFewWording {
		t.Errorf("w1: %+v", st)
	}

	// The console's figures (Lookups.SegmentFigures) equal the plain count for every case: from
	// the snapshot, and for a case put on the list after it (counted places, admissions at hand).
	same := func(what string, c *domain.Case) {
		t.Helper()
		own, anyHome, found, err := f.cases.SegmentFigures(ctx, c.ID)
		gotOwn, gotAny, gotFound, gotErr := l.SegmentFigures(ctx, c.ID)
		if err != nil || gotErr != nil || found != gotFound || own != gotOwn || anyHome != gotAny {
			t.Errorf("%s: lookups %+v %+v %v %v, counted %+v %+v %v %v", what, gotOwn, gotAny, gotFound, gotErr, own, anyHome, found, err)
		}
	}
	for i, c := range w {
		same(fmt.Sprintf("w%d from the snapshot", i+1), c)
	}
	same("a case not on the list", f.register(t, "Очередь Поздняя"))
	w6 := f.waitingCase(t, &domain.Placement{Priority: domain.DefaultPriority, Districts: []string{"Север"}})
	if _, ok := lookup.SnapshotPosition(l, w6.ID); ok {
		t.Fatal("w6 is in the snapshot already: the test does not reach the counted places")
	}
	same("w6, put on the list after the snapshot", w6)
}
