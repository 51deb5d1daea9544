package domain

import "testing"

// TestEstimateWaitByHand: the estimate's arithmetic (wait.go), each row worked by hand.
func TestEstimateWaitByHand(t *testing.T) {
	for _, tc := range []struct {
		k, admissions int
		want          *WaitEstimate
	}{
		{5, 16, &WaitEstimate{3, 5}},   // 60/(16+4) = 3, 60/(16-4) = 5
		{3, 16, &WaitEstimate{1, 3}},   // 36/20 = 1.8 -> 1, 36/12 = 3
		{3, 9, &WaitEstimate{3, 6}},    // 36/(9+3) = 3, 36/(9-3) = 6
		{1, 36, &WaitEstimate{0, 1}},   // 12/42 -> 0, 12/30 = 0.4 -> 1
		{10, 100, &WaitEstimate{1, 2}}, // 120/110 -> 1, 120/90 = 1.33 -> 2
		{0, 16, &WaitEstimate{0, 1}},   // a place below 1 counts as 1: 12/20 -> 0, 12/12 = 1
		{1, 5, nil},
		{40, 0, nil},
	} {
		got, reason := EstimateWait(tc.k, tc.admissions)
		switch {
		case tc.want == nil && (got != nil || reason != EstimateTooFewWording):
			t.Errorf("k=%d A=%d: %+v %q, want no estimate and the reason", tc.k, tc.admissions, got, reason)
		case tc.want != nil && (got == nil || *got != *tc.want || reason != ""):
			t.Errorf("k=%d A=%d: %+v %q, want %+v", tc.k, tc.admissions, got, reason, tc.want)
		}
	}
}

// TestSegmentKeyIgnoresOrder: a segment is a set of districts and homes.
func TestSegmentKeyIgnoresOrder(t *testing.T) {
	a := SegmentKey("elderly", []string{"Юг", "Север"}, []string{"B0000000-0000-4000-8000-000000000000", "a0000000-0000-4000-8000-000000000000"})
	b := SegmentKey("elderly", []string{"Север", "Юг", "Юг"}, []string{"a0000000-0000-4000-8000-000000000000", "b0000000-0000-4000-8000-000000000000"})
	if a != b {
		t.Errorf("%q != %q", a, b)
	}
	if SegmentKey("elderly", nil, nil) == SegmentKey("psycho", nil, nil) || SegmentKey("elderly", []string{"Юг"}, nil) == SegmentKey("elderly", nil, nil) {
		t.Error("different segments share a key")
	}
}
