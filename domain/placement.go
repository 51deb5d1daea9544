package domain

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// The waiting list (../shared/domain.md "Placement"): kept by priority, then the date the need
// was recognised, then the case number. A case's placement says its priority, whether it needs
// a bed for the bedridden (its sex comes from the applicant) and which districts or homes it
// prefers (none: any home of its type).

// PriorityCategory is a priority of the waiting list: a lower rank goes first.
type PriorityCategory struct {
	Code  string `json:"code"`
	Rank  int    `json:"rank"`
	Title string `json:"title"`
	// Assumption marks a shipped default no region has confirmed yet.
	Assumption bool `json:"assumption"`
}

// DefaultPriority is the priority of a case recognised without one.
const DefaultPriority = "general"

// Placement is what a waiting case needs and prefers.
type Placement struct {
	Priority    string   `json:"priority"`
	Bedridden   bool     `json:"bedridden"`
	Districts   []string `json:"districts"`
	FacilityIDs []string `json:"facility_ids"`
	// Refusals counts the offers the applicant refused; Review is set when a specialist must
	// look at the case (OFFER_REFUSALS_BEFORE_REVIEW).
	Refusals int  `json:"refusals"`
	Review   bool `json:"review"`
}

// WaitingFilter selects a waiting list: a type of home, or one home (its type, and the cases
// whose preferences and needs it can meet), optionally the cases that would take a district.
type WaitingFilter struct {
	FacilityType FacilityType
	FacilityID   string
	District     string
	Limit        int
	Cursor       string
}

// WaitingEntry is one case on the waiting list.
type WaitingEntry struct {
	Position      int          `json:"position"`
	CaseID        string       `json:"case_id"`
	Number        string       `json:"number"`
	ApplicantName string       `json:"applicant_name"`
	FacilityType  FacilityType `json:"facility_type"`
	Priority      string       `json:"priority"`
	PriorityTitle string       `json:"priority_title"`
	RecognizedAt  time.Time    `json:"recognized_at"`
	Sex           Sex          `json:"sex"`
	Bedridden     bool         `json:"bedridden"`
	Districts     []string     `json:"districts"`
	FacilityIDs   []string     `json:"facility_ids"`
	// HomesPossible is the number of active homes of the type that meet the case's preferences
	// and have a section for it.
	HomesPossible int  `json:"homes_possible"`
	Review        bool `json:"review"`
}

// WaitingPage is one page of a waiting list.
type WaitingPage struct {
	Items      []WaitingEntry `json:"items"`
	NextCursor string         `json:"next_cursor"`
}

// WaitingRegister keeps placements, the priority categories and the list.
type WaitingRegister interface {
	// Priorities lists the priority categories by rank.
	Priorities(ctx context.Context) ([]PriorityCategory, error)
	// SetPriority adds or changes a category; the waiting cases of it move with its rank.
	SetPriority(ctx context.Context, p PriorityCategory) (*PriorityCategory, error)
	// Placement returns a case's placement; nil when it has none.
	Placement(ctx context.Context, caseID string) (*Placement, error)
	// Waiting returns a page of a waiting list in its order; EINVALID for a bad cursor,
	// ENOTFOUND for a home that does not exist.
	Waiting(ctx context.Context, f WaitingFilter) (WaitingPage, error)
	// SegmentFigures returns a waiting case's figures in its own list segment and, as if it
	// had no preferences, in the segment of any home of its type (wait.go); found false when
	// the case is not on the waiting list.
	SegmentFigures(ctx context.Context, caseID string) (own, anyHome SegmentFigures, found bool, err error)
}

var priorityCode = regexp.MustCompile(`^[a-z0-9_]{1,40}$`)

// Priorities lists the priority categories.
func (s *Service) Priorities(ctx context.Context) ([]PriorityCategory, error) {
	return s.Waiting.Priorities(ctx)
}

// SetPriority adds or changes a priority category (admins).
func (s *Service) SetPriority(ctx context.Context, p PriorityCategory) (*PriorityCategory, error) {
	p.Title = strings.TrimSpace(p.Title)
	switch {
	case !priorityCode.MatchString(p.Code):
		return nil, Invalid("code", "must be 1 to 40 of a-z, 0-9 and _")
	case p.Rank < 1 || p.Rank > 1000:
		return nil, Invalid("rank", "must be between 1 and 1000")
	case p.Title == "" || utf8.RuneCountInString(p.Title) > 200:
		return nil, Invalid("title", "must be 1 to 200 characters")
	}
	p.Assumption = false // set by a person: no longer the shipped guess
	return s.Waiting.SetPriority(ctx, p)
}

// WaitingList returns a page of the waiting list for a type of home or one home.
func (s *Service) WaitingList(ctx context.Context, f WaitingFilter) (WaitingPage, error) {
	if f.FacilityID != "" && !IsUUID(f.FacilityID) {
		return WaitingPage{}, Errorf(ENOTFOUND, "facility %s not found", f.FacilityID)
	}
	if f.FacilityID == "" {
		if f.FacilityType == "" {
			return WaitingPage{}, Invalid("facility_type", "give a type of home or a home (facility_id)")
		}
		if err := oneOf("facility_type", f.FacilityType, FacilityTypes); err != nil {
			return WaitingPage{}, err
		}
	}
	if f.Limit == 0 {
		f.Limit = 50
	}
	if f.Limit < 1 || f.Limit > 200 {
		return WaitingPage{}, Invalid("limit", "must be between 1 and 200")
	}
	return s.Waiting.Waiting(ctx, f)
}

// check validates a placement (the priority's existence is the store's to check).
func (p *Placement) check() error {
	if p.Priority == "" {
		p.Priority = DefaultPriority
	}
	if !priorityCode.MatchString(p.Priority) {
		return Invalid("placement.priority", "must be a priority category's code")
	}
	if len(p.Districts) > 20 || len(p.FacilityIDs) > 20 {
		return Invalid("placement", "at most 20 districts and 20 homes")
	}
	for i, d := range p.Districts {
		p.Districts[i] = strings.TrimSpace(d)
		if p.Districts[i] == "" || utf8.RuneCountInString(d) > 200 {
			return Invalid(fmt.Sprintf("placement.districts[%d]", i), "must be 1 to 200 characters")
		}
	}
	for i, id := range p.FacilityIDs {
		if !IsUUID(id) {
			return Invalid(fmt.Sprintf("placement.facility_ids[%d]", i), "must be a home's id")
		}
	}
	if p.Districts == nil {
		p.Districts = []string{}
	}
	if p.FacilityIDs == nil {
		p.FacilityIDs = []string{}
	}
	slices.Sort(p.Districts)
	p.Districts = slices.Compact(p.Districts)
	slices.Sort(p.FacilityIDs)
	p.FacilityIDs = slices.Compact(p.FacilityIDs)
	return nil
}

// placementStates are the states in which a case's placement may change.
var placementStates = []State{UnderReview, WaitingList, VoucherIssued, TransferPending}

// onWaitingList says whether a case in this state is on the waiting list: waiting, or a
// resident waiting for a transfer (who keeps the bed meanwhile).
func onWaitingList(s State) bool { return s == WaitingList || s == TransferPending }

// SetPlacement changes a case's priority, traits and preferences; each change is a history line.
func (s *Service) SetPlacement(ctx context.Context, actor Actor, id string, version int, p Placement) (*Case, error) {
	if !IsUUID(id) {
		return nil, notVisible(id)
	}
	if err := p.check(); err != nil {
		return nil, err
	}
	p.Refusals, p.Review = 0, false // kept from the stored placement below
	return s.Cases.Update(ctx, id, version, func(ctx context.Context, tx CaseTx, c *Case) (*Change, error) {
		if !slices.Contains(placementStates, c.State) {
			return nil, refuse(because("placement", "the placement of a case in state %s cannot change", c.State))
		}
		old, err := tx.Placement(ctx, c.ID)
		if err != nil {
			return nil, err
		}
		if old != nil {
			p.Refusals, p.Review = old.Refusals, old.Review
		}
		if err := tx.SavePlacement(ctx, c.ID, p); err != nil {
			return nil, err
		}
		now := s.now()
		c.Version++
		c.UpdatedAt = now
		return &Change{History: HistoryEntry{CaseID: c.ID, Version: c.Version, Event: "set_placement", From: c.State, To: c.State,
			ActorID: actor.ID, ActorName: actor.Name, ActorRole: actor.Role, At: now, Payload: p.payload()}}, nil
	})
}

func (p Placement) payload() map[string]any {
	return map[string]any{"priority": p.Priority, "bedridden": p.Bedridden, "districts": p.Districts, "facility_ids": p.FacilityIDs}
}

// CasePlacement returns a case's placement (nil when it has none yet).
func (s *Service) CasePlacement(ctx context.Context, id string) (*Placement, error) {
	if !IsUUID(id) {
		return nil, notVisible(id)
	}
	if _, err := s.Cases.Get(ctx, id); err != nil {
		return nil, err
	}
	return s.Waiting.Placement(ctx, id)
}
