package domain

import (
	"context"
	"math"
	"slices"
	"strings"
)

// The wait estimate (issue 17, "What relatives see"): how long a waiting case may still wait,
// as a range of months, from the admissions of its list segment over the last 12 months.
//
// A list segment is the type of home and the preferences: the districts and the named homes
// (none: any home of the type). The section traits (sex, bedridden) are not part of it.
//
// The method, for a case at place k among the waiting cases of its segment (1 = next), when A
// cases of the segment were admitted in the EstimatePeriodMonths months before now:
//   - A < EstimateMinAdmissions: no estimate (too few admissions to say), with a reason;
//   - else the segment admits λ = A/12 a month, and its uncertainty is that of a count of
//     events (Poisson: A ± √A): from_months = ⌊12·k / (A + √A)⌋ and
//     to_months = ⌈12·k / (A − √A)⌉ (at least from_months + 1).
//
// Example: k = 5, A = 16: √A = 4, from = ⌊60/20⌋ = 3, to = ⌈60/12⌉ = 5 months.

const (
	// EstimatePeriodMonths is the period whose admissions the estimate counts.
	EstimatePeriodMonths = 12
	// EstimateMinAdmissions is the fewest admissions of a segment that give an estimate.
	EstimateMinAdmissions = 6
)

// WaitEstimate is a range of months, from_months to to_months.
type WaitEstimate struct {
	FromMonths int `json:"from_months"`
	ToMonths   int `json:"to_months"`
}

// EstimateBasis says what an estimate was computed from: only counts of the segment, never
// another person's data.
type EstimateBasis struct {
	// Admissions is the segment's admissions in the last PeriodMonths months.
	Admissions   int `json:"admissions"`
	PeriodMonths int `json:"period_months"`
	// SegmentPosition is the case's place among the waiting cases of its segment (1 = next).
	SegmentPosition int `json:"segment_position"`
	// Preferences: the segment is one of chosen districts or homes (false: any home of the type).
	Preferences bool `json:"preferences"`
	// Reason says, in Russian, why there is no estimate (empty when there is one).
	Reason string `json:"reason,omitempty"`
}

// WaitingStatus is the waiting part of the relatives' view: the place on the list of the type
// of home, the list's length, and the estimate (nil, with the basis's reason, when there is none).
type WaitingStatus struct {
	Position      int           `json:"position"`
	Total         int           `json:"total"`
	Estimate      *WaitEstimate `json:"estimate"`
	EstimateBasis EstimateBasis `json:"estimate_basis"`
}

// SegmentFigures are a waiting case's figures: its place on the type's list and that list's
// length, its place in its segment and the segment's admissions in the period.
type SegmentFigures struct {
	Position        int
	Total           int
	SegmentPosition int
	Admissions      int
	Preferences     bool
}

// EstimateWait computes the estimate for a case at place k of a segment that admitted
// admissions cases in the period; nil and the reason (Russian) when there is none.
func EstimateWait(k, admissions int) (*WaitEstimate, string) {
	if admissions < EstimateMinAdmissions {
		return nil, EstimateTooFewWording
	}
	if k < 1 {
		k = 1
	}
	a := float64(admissions)
	root := math.Sqrt(a)
	n := float64(EstimatePeriodMonths * k)
	from := int(math.Floor(n / (a + root)))
	to := int(math.Ceil(n / (a - root)))
	if to <= from {
		to = from + 1
	}
	return &WaitEstimate{FromMonths: from, ToMonths: to}, ""
}

// Status is the waiting part of the relatives' view from a case's figures.
func (f SegmentFigures) Status() *WaitingStatus {
	est, reason := EstimateWait(f.SegmentPosition, f.Admissions)
	return &WaitingStatus{Position: f.Position, Total: f.Total, Estimate: est, EstimateBasis: EstimateBasis{
		Admissions: f.Admissions, PeriodMonths: EstimatePeriodMonths, SegmentPosition: f.SegmentPosition,
		Preferences: f.Preferences, Reason: reason}}
}

// SegmentKey names a list segment: the type of home, the districts and the homes, sorted.
func SegmentKey(ft string, districts, facilityIDs []string) string {
	d := slices.Clone(districts)
	slices.Sort(d)
	h := make([]string, len(facilityIDs))
	for i, id := range facilityIDs {
		h[i] = strings.ToLower(id)
	}
	slices.Sort(h)
	return ft + "\x00" + strings.Join(slices.Compact(d), "\x1f") + "\x00" + strings.Join(slices.Compact(h), "\x1f")
}

// PlacementEstimate is what the console shows of a waiting case's wait: with its preferences,
// and were it to take any home of its type.
type PlacementEstimate struct {
	WithPreferences *WaitingStatus `json:"with_preferences"`
	AnyHome         *WaitingStatus `json:"any_home"`
}

// CaseWaitEstimate is the console's "what the preferences cost" for a case: nil when the case
// is not on the waiting list.
func (s *Service) CaseWaitEstimate(ctx context.Context, caseID string) (*PlacementEstimate, error) {
	if !IsUUID(caseID) {
		return nil, nil
	}
	own, anyHome, found, err := s.Waiting.SegmentFigures(ctx, caseID)
	if err != nil || !found {
		return nil, err
	}
	return &PlacementEstimate{WithPreferences: own.Status(), AnyHome: anyHome.Status()}, nil
}
