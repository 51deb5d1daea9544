package domain

import (
	"context"
	"fmt"
	"time"
)

// The center's figures (issue 19): what the department reads every month. Every figure is
// computed from what carepath records as it happens (the history, the deadlines, the bed holds,
// the offers, the contacts, the leads, the notices and the daily count of status lookups), never
// from a counter kept beside them. openapi.yaml (Stats) defines each one.

// StatsQuery is the period and the cut of the figures. From and To are Moscow calendar days,
// both included. FacilityType narrows cases and homes to one type; District narrows the homes
// (occupancy, offers) to one district.
type StatsQuery struct {
	From         Date
	To           Date
	FacilityType FacilityType
	District     string
}

// StatsMaxDays bounds a period: a little over two years.
const StatsMaxDays = 800

// ParseStatsQuery checks a query's period and cut; a missing To is today, a missing From a year
// before To (the day after the same day a year earlier).
func ParseStatsQuery(from, to, facilityType, district string, now time.Time) (StatsQuery, error) {
	q := StatsQuery{To: DateOf(now), FacilityType: FacilityType(facilityType), District: district}
	if to != "" {
		d, err := ParseDate(to)
		if err != nil {
			return q, Invalid("to", "must be a date (YYYY-MM-DD)")
		}
		q.To = d
	}
	q.From = q.To.AddYears(-1).AddDays(1)
	if from != "" {
		d, err := ParseDate(from)
		if err != nil {
			return q, Invalid("from", "must be a date (YYYY-MM-DD)")
		}
		q.From = d
	}
	if q.FacilityType != "" && !validFacilityType(q.FacilityType) {
		return q, Invalid("facility_type", "must be one of %s, got %q", fmt.Sprint(FacilityTypes), facilityType)
	}
	if len([]rune(district)) > 200 {
		return q, Invalid("district", "is longer than 200 characters")
	}
	for field, d := range map[string]Date{"from": q.From, "to": q.To} {
		if d.Year() < 2000 || d.Year() > 2100 {
			return q, Invalid(field, "must be a day from 2000 to 2100")
		}
	}
	if q.To.Before(q.From) {
		return q, Invalid("to", "must not be before from")
	}
	if q.To.Time().Sub(q.From.Time()) > StatsMaxDays*24*time.Hour {
		return q, Invalid("from", "the period is longer than 800 days")
	}
	return q, nil
}

func validFacilityType(t FacilityType) bool {
	for _, f := range FacilityTypes {
		if f == t {
			return true
		}
	}
	return false
}

// Stats are the figures of a period. Slices are never nil: an empty figure is an empty list.
type Stats struct {
	From         Date         `json:"from"`
	To           Date         `json:"to"`
	FacilityType FacilityType `json:"facility_type,omitempty"`
	District     string       `json:"district,omitempty"`
	// ComputedAt is when the figures were read from the database.
	ComputedAt time.Time `json:"computed_at"`

	Applications []ApplicationCount `json:"applications"`
	CasesByState []StateCount       `json:"cases_by_state"`
	Stages       []StageDays        `json:"stages"`
	Deadlines    []DeadlineShare    `json:"deadlines"`
	Missed       []MissedDeadline   `json:"missed_deadlines"`
	Waiting      WaitingFigures     `json:"waiting"`
	Occupancy    []SectionBeds      `json:"occupancy"`
	Contacts     []ContactCount     `json:"contacts"`
	FollowUps    FollowUpFigures    `json:"follow_ups"`
	Leads        []LeadCount        `json:"leads"`
	Lookups      []LookupCount      `json:"status_lookups"`
	Notices      []NoticeCount      `json:"notices"`
	// NoticeMedianSeconds is the median time from a notice's commit to its delivery, over the
	// notices delivered among those created in the period; null when none was delivered.
	NoticeMedianSeconds *float64 `json:"notice_median_seconds"`
}

// ApplicationCount is the applications registered in a month (Moscow) by one channel.
type ApplicationCount struct {
	Month   string  `json:"month"`
	Channel Channel `json:"channel"`
	Count   int     `json:"count"`
}

// StateCount is the number of cases in a state now.
type StateCount struct {
	State State `json:"state"`
	Count int   `json:"count"`
}

// Stage names a stretch of the path whose length is measured.
type Stage string

// The measured stages.
const (
	StageDocuments = Stage("document_collection")  // collecting_documents until submit_for_review
	StageReview    = Stage("review")               // under_review until recognize_need or reject
	StageWaiting   = Stage("waiting")              // waiting_list until issue_voucher
	StageVoucher   = Stage("voucher_to_admission") // voucher_issued until admit
)

// Stages lists the measured stages in the order of the path.
var Stages = []Stage{StageDocuments, StageReview, StageWaiting, StageVoucher}

// StageDays is how long the stays in a stage that ended in the period lasted, in calendar days
// (Moscow) from the day the case entered the stage to the day it left it forward.
type StageDays struct {
	Stage  Stage `json:"stage"`
	Stays  int   `json:"stays"`
	Median *int  `json:"median_days"`
	P90    *int  `json:"p90_days"`
}

// LegalDeadlines are the kinds whose share met on time the department reads: the decision on
// need, the ИППСУ, the contract with the home and the guardianship notice.
var LegalDeadlines = []DeadlineKind{DeadlineReviewDecision, DeadlineIPPSU, DeadlineContract, DeadlineGuardianshipNotice}

// DeadlineShare is how the deadlines of a kind that fell due in the period went.
type DeadlineShare struct {
	Kind   DeadlineKind `json:"kind"`
	Due    int          `json:"due"`
	Met    int          `json:"met"`
	Missed int          `json:"missed"`
	// Open: due in the period but not yet (the period reaches into the future).
	Open int `json:"open"`
	// ShareMet is Met / (Met + Missed); null when none was decided.
	ShareMet *float64 `json:"share_met"`
}

// MissedDeadline is one legal deadline of the period that was missed, with its case.
type MissedDeadline struct {
	CaseID     string       `json:"case_id"`
	CaseNumber string       `json:"case_number"`
	Kind       DeadlineKind `json:"kind"`
	DueOn      Date         `json:"due_on"`
	// ClosedAt is when it was done late; null while it is still not done.
	ClosedAt *time.Time `json:"closed_at"`
}

// StatsMissedMax bounds the list of missed deadlines.
const StatsMissedMax = 1000

// WaitingFigures are the waiting list now and the offers of the period.
type WaitingFigures struct {
	Lengths []WaitingLength `json:"lengths"`
	// Vouchers: vouchers issued in the period to cases from the waiting list; MedianWaitDays is
	// their median wait from the day the need was recognised to the day of the voucher.
	Vouchers       int            `json:"vouchers"`
	MedianWaitDays *int           `json:"median_wait_days"`
	Offers         OfferCounts    `json:"offers"`
	Declines       []DeclineCount `json:"declines"`
}

// WaitingLength is the number of cases waiting now by type of home and priority.
type WaitingLength struct {
	FacilityType FacilityType `json:"facility_type"`
	Priority     string       `json:"priority"`
	Count        int          `json:"count"`
}

// OfferCounts are the offers proposed in the period by where they stand now.
type OfferCounts struct {
	Made      int `json:"made"`
	Accepted  int `json:"accepted"`
	Declined  int `json:"declined"`
	Expired   int `json:"expired"`
	Withdrawn int `json:"withdrawn"`
	Open      int `json:"open"`
}

// DeclineCount is the declined offers of the period with one reason.
type DeclineCount struct {
	Reason string `json:"reason"`
	Count  int    `json:"count"`
}

// SectionBeds is a section's beds now, counted from the beds the cases hold.
type SectionBeds struct {
	FacilityID   string       `json:"facility_id"`
	Facility     string       `json:"facility"`
	FacilityType FacilityType `json:"facility_type"`
	District     string       `json:"district"`
	Section      string       `json:"section"`
	Title        string       `json:"title"`
	Capacity     int          `json:"capacity"`
	Occupied     int          `json:"occupied"`
	Reserved     int          `json:"reserved"`
	Free         int          `json:"free"`
	ReportedAt   *time.Time   `json:"reported_at"`
	// Stale: the home has not reported its beds within Settings.BedReportMaxDays.
	Stale bool `json:"stale"`
}

// ContactCount is the hotline's contacts of a month by topic.
type ContactCount struct {
	Month string       `json:"month"`
	Topic ContactTopic `json:"topic"`
	Count int          `json:"count"`
}

// FollowUpFigures are the call-backs promised for a day of the period.
type FollowUpFigures struct {
	Due    int `json:"due"`
	Met    int `json:"met"`
	Missed int `json:"missed"`
	Open   int `json:"open"`
}

// LeadCount is the outreach leads submitted in the period by source and where they stand now.
type LeadCount struct {
	Source string `json:"source"`
	State  string `json:"state"`
	Count  int    `json:"count"`
}

// LookupOutcome is how a relatives' status lookup ended.
type LookupOutcome string

// Lookup outcomes.
const (
	LookupAnswered LookupOutcome = "answered"
	LookupRefused  LookupOutcome = "refused" // wrong number or code
	LookupLocked   LookupOutcome = "locked"  // too many failures
)

// LookupCount is the relatives' status lookups of a month by outcome: counted per day, never
// logged per person.
type LookupCount struct {
	Month   string        `json:"month"`
	Outcome LookupOutcome `json:"outcome"`
	Count   int           `json:"count"`
}

// NoticeCount is the notices created in the period by channel and recipient kind, by status now.
type NoticeCount struct {
	Channel   string `json:"channel"`
	Audience  string `json:"audience"`
	Delivered int    `json:"delivered"`
	Failed    int    `json:"failed"`
	Dead      int    `json:"dead"`
	Pending   int    `json:"pending"`
}

// StatsStore computes the figures.
type StatsStore interface {
	// Stats computes the figures of a period at an instant (open deadlines past due at now are
	// missed; stale bed reports are older than staleAfter at now).
	Stats(ctx context.Context, q StatsQuery, now time.Time, staleAfter time.Duration) (*Stats, error)
}

// LookupTally counts the relatives' status lookups by day and outcome, never by person.
type LookupTally interface {
	CountLookup(day Date, outcome LookupOutcome)
}

// Figures computes the center's figures.
type Figures struct {
	Store    StatsStore
	Settings Settings
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

// Stats returns the figures of a period.
func (f *Figures) Stats(ctx context.Context, q StatsQuery) (*Stats, error) {
	now := f.Clock()
	days := f.Settings.BedReportDays()
	st, err := f.Store.Stats(ctx, q, now, time.Duration(days)*24*time.Hour)
	if err != nil {
		return nil, fmt.Errorf("figures %s..%s: %w", q.From, q.To, err)
	}
	return st, nil
}

// Clock returns the figures' clock.
func (f *Figures) Clock() time.Time {
	if f.Now != nil {
		return f.Now()
	}
	return time.Now()
}
