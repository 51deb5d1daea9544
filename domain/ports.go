package domain

import (
	"context"
	"time"
)

// Actor is whoever asks: a specialist, a partner agency, or the system itself.
type Actor struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	// Kind is "user", "agency" or "system".
	Kind string `json:"kind"`
	// Role is the user's role (specialist, supervisor, admin) or the agency's kind.
	Role string `json:"role"`
	// Facilities are the boarding houses a facility agency runs (its residents are its cases).
	Facilities []string `json:"facilities,omitempty"`
	// Via is the request the actor acts through, when it comes through the API: a command's
	// access-log line names it (AccessLine).
	Via *Via `json:"-"`
}

// System is the actor of scheduled work (voucher expiry, reminders).
var System = Actor{ID: "system", Name: "carepath", Kind: "system", Role: "system"}

// HistoryEntry is one immutable line of a case's history. Versions are gapless per case.
type HistoryEntry struct {
	CaseID    string         `json:"-"`
	Version   int            `json:"version"`
	Event     string         `json:"event"`
	From      State          `json:"from"`
	To        State          `json:"to"`
	ActorID   string         `json:"actor_id"`
	ActorName string         `json:"actor_name"`
	ActorRole string         `json:"actor_role"`
	Comment   string         `json:"comment,omitempty"`
	Payload   map[string]any `json:"payload,omitempty"`
	At        time.Time      `json:"at"`
}

// Facility is a boarding house (a home) with its sections.
type Facility struct {
	ID       string       `json:"id"`
	Name     string       `json:"name"`
	Type     FacilityType `json:"type"`
	District string       `json:"district"`
	Address  string       `json:"address"`
	Phone    string       `json:"phone"`
	// AgencyID is the facility agency that reports for the home.
	AgencyID string `json:"agency_id,omitempty"`
	Active   bool   `json:"active"`
	Version  int    `json:"version"`
	// Capacity and Taken are the sums of the sections: beds in service, and beds occupied by
	// residents or reserved by vouchers.
	Capacity   int        `json:"capacity"`
	Taken      int        `json:"taken"`
	ReportedAt *time.Time `json:"reported_at,omitempty"`
	Sections   []Section  `json:"sections"`
}

// FreeBeds is the number of beds neither occupied nor reserved.
func (f Facility) FreeBeds() int { return f.Capacity - f.Taken }

// Change is what one command does to a case besides its own fields: the history line, the
// deadlines it opens and closes, the notices it causes and the access-log line of whoever made
// it. The store saves it with the case in one transaction.
type Change struct {
	History        HistoryEntry
	OpenDeadlines  []Deadline
	CloseDeadlines []Deadline
	Notices        []Notice
	// Access is the access-log line of the change (Actor.AccessLine); nil when there is none.
	Access *AccessEntry
}

// CaseTx is what a command may touch besides its case, inside the case's transaction.
type CaseTx interface {
	// Facility returns a home with its sections; ENOTFOUND when there is none.
	Facility(ctx context.Context, id string) (*Facility, error)
	// ReserveBed takes one free bed for the case in a section of the home that fits need,
	// atomically, and returns the section's code; EUNPROCESSABLE when none is free.
	ReserveBed(ctx context.Context, caseID, facilityID string, need BedNeed) (string, error)
	// OccupyBed turns the bed the case's voucher reserved into its residence; the bed it held.
	OccupyBed(ctx context.Context, caseID string) (*Bed, error)
	// ReleaseBed gives back the bed the case holds this way; nil when it holds none.
	ReleaseBed(ctx context.Context, caseID string, kind BedKind) (*Bed, error)
	// Placement returns the case's placement; nil when it has none.
	Placement(ctx context.Context, caseID string) (*Placement, error)
	// SavePlacement writes the case's placement and its place in the list's order;
	// EUNPROCESSABLE for a priority that does not exist.
	SavePlacement(ctx context.Context, caseID string, p Placement) error
	// ProposeOffers offers a freed bed's section, while it has beds free beyond its open
	// offers, to the first eligible waiting cases without an open offer (not exclude, nor a
	// case that declined this section before); the offers made.
	ProposeOffers(ctx context.Context, bed Bed, exclude string, now, due time.Time) ([]Offer, error)
	// AnswerOffer closes an open offer; ECONFLICT when it is no longer open.
	AnswerOffer(ctx context.Context, id string, state OfferState, d OfferDecline, now time.Time) error
	// CasesAhead lists the numbers of the waiting cases before this one on the list that the
	// home could take (at most 20).
	CasesAhead(ctx context.Context, caseID, facilityID string) ([]string, error)
	// WithdrawOffers withdraws the case's open offers (it left the waiting list); their beds.
	WithdrawOffers(ctx context.Context, caseID string, now time.Time) ([]Bed, error)
	// Supervisors lists the active supervisors' ids.
	Supervisors(ctx context.Context) ([]string, error)
	// CancelNotices cancels the case's notices to relatives and representatives at these
	// addresses (phones, e-mails) that have not gone yet (pending or failed); how many.
	CancelNotices(ctx context.Context, caseID string, recipients []string, now time.Time) (int, error)
}

// CaseFilter selects cases for a list.
type CaseFilter struct {
	State        State
	FacilityType FacilityType
	Assignee     string
	Overdue      bool
	Q            string
	// Party keeps the cases this agency is party to (domain.PartyTo).
	Party *Actor
	// CaseIDs, when not empty, keeps only these cases (a phone resolved by Hotline.FindCases).
	CaseIDs []string
	Limit   int
	Cursor  string
	// Now decides what is overdue.
	Now time.Time
}

// CaseSummary is a case as a list shows it: no personal data beyond the name.
type CaseSummary struct {
	ID             string       `json:"id"`
	Number         string       `json:"number"`
	State          State        `json:"state"`
	Version        int          `json:"version"`
	FacilityType   FacilityType `json:"facility_type"`
	Channel        Channel      `json:"channel"`
	ApplicantName  string       `json:"applicant_name"`
	AssigneeID     string       `json:"assignee_id,omitempty"`
	StateEnteredAt time.Time    `json:"state_entered_at"`
	CreatedAt      time.Time    `json:"created_at"`
	NextDueAt      *time.Time   `json:"next_due_at,omitempty"`
	Overdue        bool         `json:"overdue"`

	// The parties, for the agency policy; not shown.
	HealthOrgID       string `json:"-"`
	GuardianshipID    string `json:"-"`
	FiledByAgencyID   string `json:"-"`
	FacilityID        string `json:"-"`
	VoucherFacilityID string `json:"-"`
}

// CasePage is one page of a list; NextCursor is empty on the last page.
type CasePage struct {
	Items      []CaseSummary `json:"items"`
	NextCursor string        `json:"next_cursor"`
}

// CaseStore keeps cases. Implementations return *Error with ENOTFOUND, ESTALE or ECONFLICT where
// the doc says so; anything else is an internal failure.
type CaseStore interface {
	// Create saves a new case with its first history line, deadlines and notices, assigning its
	// ID and its number (KC-YYYY-NNNNNN, sequential per year).
	Create(ctx context.Context, c *Case, ch *Change) error
	// Get loads a case with its checklist and open deadlines; ENOTFOUND.
	Get(ctx context.Context, id string) (*Case, error)
	// Update loads the case, checks that its version is the expected one (ESTALE otherwise),
	// lets fn change it and saves case and change in one transaction. A concurrent change that
	// commits first makes the save fail with ESTALE and nothing is written.
	Update(ctx context.Context, id string, version int, fn func(ctx context.Context, tx CaseTx, c *Case) (*Change, error)) (*Case, error)
	// List returns a page of cases, newest first, with keyset pagination; EINVALID for a bad cursor.
	List(ctx context.Context, f CaseFilter) (CasePage, error)
	// History returns the case's history, oldest first; ENOTFOUND.
	History(ctx context.Context, id string) ([]HistoryEntry, error)
}

// CalendarSource gives the production calendar in force.
type CalendarSource interface {
	Calendar(ctx context.Context) (*Calendar, error)
}
