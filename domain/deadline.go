package domain

import (
	"slices"
	"time"
)

// DeadlineKind names what a deadline watches.
type DeadlineKind string

// Deadline kinds (../shared/domain.md "Deadlines").
const (
	DeadlineDocumentCollection DeadlineKind = "document_collection"
	DeadlineReviewDecision     DeadlineKind = "review_decision"
	DeadlineIPPSU              DeadlineKind = "ippsu"
	DeadlineVoucherAdmission   DeadlineKind = "voucher_admission"
	DeadlineLeaveReturn        DeadlineKind = "leave_return"
	DeadlineIPPSUReview        DeadlineKind = "ippsu_review"
	DeadlineDocumentExpiry     DeadlineKind = "document_expiry"
	DeadlineGuardianshipNotice DeadlineKind = "guardianship_notice"
	// DeadlineContactFollowUp is a call-back promised on the hotline (ref: the contact's id); it
	// belongs to the specialist who took the call.
	DeadlineContactFollowUp DeadlineKind = "contact_follow_up"
	// DeadlineContract is the contract with the home, within ContractWD working days of
	// presenting the ИППСУ there (442-ФЗ art. 17): counted from the voucher, which sends the
	// person to the home with the programme; the contract event or the admission meets it.
	DeadlineContract DeadlineKind = "contract"
	// DeadlineLeadTriage is an outreach lead's triage (ref: the lead's id): a lead still new
	// after LEAD_TRIAGE_DAYS is flagged and the supervisors are reminded. It has no case.
	DeadlineLeadTriage DeadlineKind = "lead_triage"
)

// DeadlineKinds lists every kind.
var DeadlineKinds = []DeadlineKind{DeadlineDocumentCollection, DeadlineReviewDecision, DeadlineIPPSU,
	DeadlineVoucherAdmission, DeadlineLeaveReturn, DeadlineIPPSUReview, DeadlineDocumentExpiry, DeadlineGuardianshipNotice,
	DeadlineContactFollowUp, DeadlineContactRequest, DeadlineContract, DeadlineLeadTriage}

// DeadlineState is where a deadline stands. Open deadlines past due are shown as overdue.
type DeadlineState string

// Deadline states.
const (
	DeadlineOpen      DeadlineState = "open"
	DeadlineOverdue   DeadlineState = "overdue"
	DeadlineMet       DeadlineState = "met"
	DeadlineMissed    DeadlineState = "missed"
	DeadlineCancelled DeadlineState = "cancelled"
)

// Deadline is a date by which something must happen on a case.
type Deadline struct {
	ID       int64         `json:"id"`
	Kind     DeadlineKind  `json:"kind"`
	Ref      string        `json:"ref,omitempty"`
	OpenedAt time.Time     `json:"opened_at"`
	DueOn    Date          `json:"due_on"`
	DueAt    time.Time     `json:"due_at"`
	State    DeadlineState `json:"state"`
	ClosedAt *time.Time    `json:"closed_at,omitempty"`
	// Owner is the specialist the deadline belongs to when it is not the case's assignee: a
	// call-back is owed by whoever promised it. Reminders go to the owner.
	Owner string `json:"-"`
}

// StateAt is the deadline's state at an instant: open deadlines past due are overdue.
func (d Deadline) StateAt(now time.Time) DeadlineState {
	if d.State == DeadlineOpen && !now.Before(d.DueAt) {
		return DeadlineOverdue
	}
	return d.State
}

// Settings are the configurable periods (the *assumptions* of domain.md).
type Settings struct {
	DocumentCollectionDays int // calendar days, default 30
	ReviewDecisionWD       int // working days, default 5
	// ReviewDecisionWithIPPSUWD: the decision period of a case whose ИППСУ is issued with the
	// decision (regional rules), working days, default 10.
	ReviewDecisionWithIPPSUWD int
	// ContractWD: the contract with the home after the ИППСУ is presented, working days, default 1.
	ContractWD           int
	IPPSUWD              int      // working days, default 10
	VoucherValidDays     int      // calendar days, default 30
	MaxLeaveDays         int      // calendar days, default 30
	IPPSUReviewYears     int      // default 3
	GuardianshipNoticeWD int      // working days, default 1
	ContactRequestWD     int      // a home's answer to a contact request, working days, default 2
	Validity             Validity // months per expiring document type
	// SMSQuietHours: no SMS in this nightly window (Moscow time), default 21:00–09:00.
	SMSQuietHours QuietHours
	// BedReportMaxDays: a home whose last beds report is older is stale, default 7 (assumption).
	BedReportMaxDays int
	// OfferResponseWD: an offer not answered within it expires, working days, default 3.
	OfferResponseWD int
	// OfferRefusalsBeforeReview: the applicant's refusals of offers after which a specialist
	// reviews the case, default 2 (assumption).
	OfferRefusalsBeforeReview int
}

// DefaultSettings returns the periods domain.md gives.
func DefaultSettings() Settings {
	return Settings{DocumentCollectionDays: 30, ReviewDecisionWD: 5, ReviewDecisionWithIPPSUWD: 10, ContractWD: 1, IPPSUWD: 10, VoucherValidDays: 30,
		MaxLeaveDays: 30, IPPSUReviewYears: 3, GuardianshipNoticeWD: 1, ContactRequestWD: 2, Validity: DefaultValidity(),
		SMSQuietHours: DefaultQuietHours, BedReportMaxDays: 7,
		OfferResponseWD: 3, OfferRefusalsBeforeReview: 2}
}

// BedReportDays is BedReportMaxDays, or its default where the settings leave it unset (built
// in code rather than read from the configuration, which refuses a zero): the one reading of it.
func (s *Settings) BedReportDays() int {
	if s.BedReportMaxDays > 0 {
		return s.BedReportMaxDays
	}
	return DefaultSettings().BedReportMaxDays
}

// deadlineRule says when a deadline of a kind opens, in which states it stays open, which events
// meet it, and how its due date is computed.
type deadlineRule struct {
	kind DeadlineKind
	// opensOn: entering this state opens the deadline (unless openedBy is set).
	opensOn State
	// openedBy: these events open it instead.
	openedBy []EventName
	// holds: the states in which it stays open; leaving them closes it.
	holds []State
	// metBy: events that close it as met (or missed when late); any other way out cancels it.
	metBy []EventName
	due   func(s Settings, cal *Calendar, c *Case, today Date) (Date, bool)
}

var preAdmission = []State{Intake, CollectingDocuments, UnderReview, Rejected, WaitingList, VoucherIssued}
var placed = []State{WaitingList, VoucherIssued, Residing, OnLeave, Hospitalized, TransferPending}

// deadlineRules is the deadline table. The decision and the IPPSU are counted from the day the
// complete application enters review (the law counts from the application, and the center only
// has an application it can decide on once its documents are complete).
var deadlineRules = []deadlineRule{
	{kind: DeadlineDocumentCollection, opensOn: CollectingDocuments, holds: []State{CollectingDocuments},
		metBy: []EventName{SubmitForReview},
		due: func(s Settings, _ *Calendar, _ *Case, today Date) (Date, bool) {
			return today.AddDays(s.DocumentCollectionDays), true
		}},
	{kind: DeadlineReviewDecision, opensOn: UnderReview, holds: []State{UnderReview},
		metBy: []EventName{RecognizeNeed, Reject, ReturnForDocuments},
		due: func(s Settings, cal *Calendar, c *Case, today Date) (Date, bool) {
			return cal.AddWorkingDays(today, reviewDecisionWD(s, c)), true
		}},
	{kind: DeadlineIPPSU, opensOn: UnderReview, holds: []State{UnderReview},
		metBy: []EventName{RecognizeNeed},
		due: func(s Settings, cal *Calendar, _ *Case, today Date) (Date, bool) {
			return cal.AddWorkingDays(today, s.IPPSUWD), true
		}},
	{kind: DeadlineVoucherAdmission, opensOn: VoucherIssued, holds: []State{VoucherIssued},
		metBy: []EventName{Admit},
		due: func(_ Settings, _ *Calendar, c *Case, _ Date) (Date, bool) {
			if c.VoucherValidUntil == nil {
				return Date{}, false
			}
			return *c.VoucherValidUntil, true
		}},
	{kind: DeadlineLeaveReturn, opensOn: OnLeave, holds: []State{OnLeave},
		metBy: []EventName{EndLeave},
		due: func(_ Settings, _ *Calendar, c *Case, _ Date) (Date, bool) {
			if c.LeaveReturnBy == nil {
				return Date{}, false
			}
			return *c.LeaveReturnBy, true
		}},
	{kind: DeadlineContract, opensOn: VoucherIssued, holds: []State{VoucherIssued},
		metBy: []EventName{SignContract, Admit},
		due: func(s Settings, cal *Calendar, _ *Case, today Date) (Date, bool) {
			return cal.AddWorkingDays(today, s.ContractWD), true
		}},
	// The review of the programme meets the deadline and opens the next from the new date.
	{kind: DeadlineIPPSUReview, openedBy: []EventName{RecognizeNeed, ReviewIPPSU}, holds: placed, metBy: []EventName{ReviewIPPSU},
		due: func(s Settings, _ *Calendar, c *Case, _ Date) (Date, bool) {
			if c.IPPSU == nil {
				return Date{}, false
			}
			return c.IPPSU.Date.AddYears(s.IPPSUReviewYears), true
		}},
	// Document expiry deadlines are opened when a document is recorded (see recordDocument) and
	// guardianship notices when the notice is written; both close through these rules.
	{kind: DeadlineDocumentExpiry, holds: preAdmission, metBy: []EventName{Admit}},
	{kind: DeadlineGuardianshipNotice, holds: nil},
	// A promised call-back is kept whatever happens to the case; the call-back meets it.
	{kind: DeadlineContactFollowUp, holds: nil},
	// A home's answer to a contact request: its outcome meets it.
	{kind: DeadlineContactRequest, holds: nil},
	// A lead's triage: contacting, declining or converting the lead meets it.
	{kind: DeadlineLeadTriage, holds: nil},
}

// closeDeadlines closes the open deadlines whose rule does not hold in the new state, and those
// the event meets even where they hold (an event that Stays); it returns
// the deadlines that stay open and the ones it closed.
func closeDeadlines(open []Deadline, event EventName, to State, now time.Time) (keep, closed []Deadline) {
	for _, d := range open {
		r := ruleFor(d.Kind)
		if r == nil || r.holds == nil || (slices.Contains(r.holds, to) && !slices.Contains(r.metBy, event)) {
			keep = append(keep, d)
			continue
		}
		d.State = DeadlineCancelled
		if slices.Contains(r.metBy, event) {
			d.State = DeadlineMet
			if !now.Before(d.DueAt) {
				d.State = DeadlineMissed
			}
		}
		at := now
		d.ClosedAt = &at
		closed = append(closed, d)
	}
	return keep, closed
}

// openDeadlines returns the deadlines the event opens on entering the state.
func openDeadlines(s Settings, cal *Calendar, c *Case, event EventName, from, to State, now time.Time) []Deadline {
	today := DateOf(now)
	var out []Deadline
	for _, r := range deadlineRules {
		if r.due == nil {
			continue
		}
		opens := (r.openedBy == nil && r.opensOn == to && from != to) || slices.Contains(r.openedBy, event)
		if !opens {
			continue
		}
		due, ok := r.due(s, cal, c, today)
		if !ok {
			continue
		}
		out = append(out, newDeadline(r.kind, "", due, now))
	}
	return out
}

func newDeadline(kind DeadlineKind, ref string, due Date, now time.Time) Deadline {
	return Deadline{Kind: kind, Ref: ref, OpenedAt: now, DueOn: due, DueAt: due.EndInMoscow(), State: DeadlineOpen}
}

func ruleFor(k DeadlineKind) *deadlineRule {
	for i := range deadlineRules {
		if deadlineRules[i].kind == k {
			return &deadlineRules[i]
		}
	}
	return nil
}

// DeadlinesAfter applies the deadline table to one transition, as a command does: of the case's
// open deadlines (c.Deadlines) it returns those the new state keeps and those it closes, and the
// ones entering the state opens. The case must already carry the event's effects (voucher,
// leave, IPPSU). The bulk generator (cmd/carepath/generate) walks its cases through it, so generated
// deadlines follow the same rules as real ones.
func DeadlinesAfter(s Settings, cal *Calendar, c *Case, event EventName, from, to State, now time.Time) (keep, opened, closed []Deadline) {
	keep, closed = closeDeadlines(c.Deadlines, event, to, now)
	opened = openDeadlines(s, cal, c, event, from, to, now)
	return keep, opened, closed
}

// DocumentExpiryDeadline is the deadline a received document that expires opens before
// admission (see RecordDocument).
func DocumentExpiryDeadline(t DocType, validUntil Date, now time.Time) Deadline {
	return newDeadline(DeadlineDocumentExpiry, string(t), validUntil, now)
}

// ExpiringInPreAdmission reports whether recording a document in this state opens an expiry
// deadline (documents matter until admission).
func ExpiringInPreAdmission(s State) bool { return slices.Contains(preAdmission, s) }

// NextDue is when the soonest of the open deadlines falls due; nil when none is open.
func NextDue(ds []Deadline) *time.Time {
	var min *time.Time
	for i := range ds {
		if ds[i].State == DeadlineOpen && (min == nil || ds[i].DueAt.Before(*min)) {
			t := ds[i].DueAt
			min = &t
		}
	}
	return min
}

// LeadTriageDeadline is the deadline a submitted lead opens: it falls due at the very instant
// the lead turns untouched (submitted + days), so the flag and the reminder agree.
func LeadTriageDeadline(leadID string, submitted time.Time, days int) Deadline {
	due := submitted.AddDate(0, 0, days)
	return Deadline{Kind: DeadlineLeadTriage, Ref: leadID, OpenedAt: submitted, DueOn: DateOf(due), DueAt: due, State: DeadlineOpen}
}

// ContactFollowUpDeadline is the deadline a promised call-back opens: the end of the promised day.
func ContactFollowUpDeadline(contactID string, due Date, now time.Time) Deadline {
	return newDeadline(DeadlineContactFollowUp, contactID, due, now)
}
