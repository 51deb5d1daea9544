package domain

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
)

// Outreach leads (../shared/domain.md "The hotline"): postmen survey lonely pensioners and the
// answers go to the center, which decides whether the person needs social services. A lead is
// kept only with the person's consent to be contacted (152-FZ). The postal partner and social
// protection submit leads; the center triages them, neediest first, and converts the ones that
// need a place into cases.

// AgencyPostOffice is the postal partner: its offices are public service points that file
// applications (channel post_office), its postmen submit leads.
const AgencyPostOffice AgencyKind = "post_office"

// LeadState is where a lead stands.
type LeadState string

// Lead states: new until a specialist has contacted the person; contacted or declined after
// triage; converted once a case is registered from it (converting while that is under way).
const (
	LeadNew        LeadState = "new"
	LeadContacted  LeadState = "contacted"
	LeadDeclined   LeadState = "declined"
	LeadConverting LeadState = "converting"
	LeadConverted  LeadState = "converted"
)

// LeadStates lists the states a list may ask for.
var LeadStates = []LeadState{LeadNew, LeadContacted, LeadDeclined, LeadConverted}

// Survey answers.
var (
	Mobilities = []string{"independent", "with_difficulty", "housebound", "bedridden"}
	SelfCares  = []string{"independent", "needs_help", "unable"}
	Memories   = []string{"fine", "forgetful", "severe"}
)

// LeadAnswers are the survey's answers.
type LeadAnswers struct {
	LivesAlone bool   `json:"lives_alone"`
	Mobility   string `json:"mobility"`
	SelfCare   string `json:"self_care"`
	Memory     string `json:"memory"`
	// WhoHelps is who helps the person now ("" or "nobody": no one).
	WhoHelps string `json:"who_helps"`
	// Asks is what the person asks for, in their words.
	Asks string `json:"asks"`
}

// NeedScore orders the triage queue: the more the person depends on help nobody gives, the
// higher (0..15). An assumption of the center, not a legal assessment: the decision on need is
// still taken on the case.
func (a LeadAnswers) NeedScore() int {
	score := 0
	if a.LivesAlone {
		score += 3
	}
	score += map[string]int{"with_difficulty": 1, "housebound": 3, "bedridden": 4}[a.Mobility]
	score += map[string]int{"needs_help": 2, "unable": 4}[a.SelfCare]
	score += map[string]int{"forgetful": 1, "severe": 2}[a.Memory]
	if w := strings.ToLower(strings.TrimSpace(a.WhoHelps)); w == "" || w == "nobody" || w == "никто" {
		score += 2
	}
	return score
}

// NewLead is a lead as an agency submits it.
type NewLead struct {
	FullName  string      `json:"full_name"`
	BirthDate Date        `json:"birth_date"`
	Address   string      `json:"address"`
	Phone     string      `json:"phone"`
	Answers   LeadAnswers `json:"answers"`
	// Consent to be contacted, with the date it was given: no consent, no lead.
	Consent   bool   `json:"consent"`
	ConsentOn *Date  `json:"consent_on"`
	Source    string `json:"source"`
}

// Lead is a submitted lead.
type Lead struct {
	ID            string      `json:"id"`
	FullName      string      `json:"full_name"`
	BirthDate     Date        `json:"birth_date"`
	Address       string      `json:"address"`
	Phone         string      `json:"phone,omitempty"`
	Answers       LeadAnswers `json:"answers"`
	NeedScore     int         `json:"need_score"`
	ConsentOn     Date        `json:"consent_on"`
	Source        string      `json:"source"`
	State         LeadState   `json:"state"`
	Note          string      `json:"note,omitempty"`
	SubmittedBy   string      `json:"submitted_by"`
	SubmitterKind string      `json:"submitter_kind"`
	CaseID        string      `json:"case_id,omitempty"`
	CreatedAt     time.Time   `json:"created_at"`
	UpdatedAt     time.Time   `json:"updated_at"`
	// Untouched: still new after LeadTriageDays.
	Untouched bool `json:"untouched"`
}

// LeadReceipt is all a submitting agency learns of its own leads: that they exist and their state.
type LeadReceipt struct {
	ID        string    `json:"id"`
	State     LeadState `json:"state"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// LeadFilter selects leads.
type LeadFilter struct {
	State LeadState
	// SubmittedBy keeps one agency's leads.
	SubmittedBy string
	Limit       int
}

// LeadStore keeps leads.
type LeadStore interface {
	// Add saves a new lead and opens its triage deadline in the same transaction.
	Add(ctx context.Context, l *Lead, triage Deadline) error
	// Get returns a lead; ENOTFOUND.
	Get(ctx context.Context, id string) (*Lead, error)
	// List returns leads, neediest first, then oldest.
	List(ctx context.Context, f LeadFilter) ([]Lead, error)
	// Move changes a lead's state from one of from to to; ECONFLICT when it is in none of them.
	// Moving to contacted, declined or converted closes the lead's triage deadline (met, or
	// missed when late) in the same transaction.
	Move(ctx context.Context, id string, from []LeadState, to LeadState, note, caseID string, now time.Time) (*Lead, error)
}

// LeadTriageDays is how long a lead may stay new before it is flagged (LEAD_TRIAGE_DAYS).
func (h *Hotline) leadTriageDays() int {
	if h.LeadTriageDays > 0 {
		return h.LeadTriageDays
	}
	return 5
}

func (n *NewLead) validate(today Date) error {
	if !n.Consent || n.ConsentOn == nil {
		return &Error{Code: EUNPROCESSABLE, Field: "consent",
			Message: "the person's consent to be contacted, with its date, is required (152-FZ): no consent, no lead"}
	}
	if today.Before(*n.ConsentOn) {
		return Invalid("consent_on", "is in the future")
	}
	if err := required("full_name", n.FullName, 200); err != nil {
		return err
	}
	if n.BirthDate.IsZero() || !n.BirthDate.Before(today) || n.BirthDate.Year() < 1900 {
		return Invalid("birth_date", "must be a past date after 1900")
	}
	if err := required("address", n.Address, 500); err != nil {
		return err
	}
	if err := normalisePhone("phone", &n.Phone, false); err != nil {
		return err
	}
	a := &n.Answers
	for field, v := range map[string]*string{"answers.mobility": &a.Mobility, "answers.self_care": &a.SelfCare, "answers.memory": &a.Memory} {
		allowed := map[string][]string{"answers.mobility": Mobilities, "answers.self_care": SelfCares, "answers.memory": Memories}[field]
		if *v == "" {
			*v = allowed[0]
		}
		if err := oneOf(field, *v, allowed); err != nil {
			return err
		}
	}
	if utf8.RuneCountInString(a.WhoHelps) > 500 || utf8.RuneCountInString(a.Asks) > 2000 {
		return Invalid("answers", "who_helps is at most 500 characters, asks at most 2000")
	}
	return required("source", n.Source, 200)
}

// SubmitLead records a lead from an agency (or a specialist); it returns the agency's receipt.
func (h *Hotline) SubmitLead(ctx context.Context, actor Actor, n NewLead) (LeadReceipt, error) {
	now := h.now()
	if err := n.validate(DateOf(now)); err != nil {
		return LeadReceipt{}, err
	}
	l := &Lead{ID: uuid.NewString(), FullName: strings.TrimSpace(n.FullName), BirthDate: n.BirthDate, Address: n.Address,
		Phone: n.Phone, Answers: n.Answers, NeedScore: n.Answers.NeedScore(), ConsentOn: *n.ConsentOn, Source: n.Source,
		State: LeadNew, SubmittedBy: actor.ID, SubmitterKind: actor.Role, CreatedAt: now, UpdatedAt: now}
	if err := h.Leads.Add(ctx, l, LeadTriageDeadline(l.ID, now, h.leadTriageDays())); err != nil {
		return LeadReceipt{}, fmt.Errorf("submit lead: %w", err)
	}
	return l.Receipt(), nil
}

// Receipt is the lead as its submitter may see it.
func (l Lead) Receipt() LeadReceipt {
	return LeadReceipt{ID: l.ID, State: l.State, CreatedAt: l.CreatedAt, UpdatedAt: l.UpdatedAt}
}

// ListLeads lists leads: the whole triage queue for the center, only the receipts of its own leads
// for an agency.
func (h *Hotline) ListLeads(ctx context.Context, actor Actor, f LeadFilter) ([]Lead, []LeadReceipt, error) {
	if f.State != "" {
		if err := oneOf("state", f.State, LeadStates); err != nil {
			return nil, nil, err
		}
	}
	if f.Limit == 0 {
		f.Limit = 100
	}
	if f.Limit < 1 || f.Limit > 500 {
		return nil, nil, Invalid("limit", "must be between 1 and 500")
	}
	if actor.Kind == ActorAgency {
		f.SubmittedBy = actor.ID
	}
	ls, err := h.Leads.List(ctx, f)
	if err != nil {
		return nil, nil, err
	}
	if actor.Kind == ActorAgency {
		out := make([]LeadReceipt, len(ls))
		for i, l := range ls {
			out[i] = l.Receipt()
		}
		return nil, out, nil
	}
	untouchedBefore := h.now().AddDate(0, 0, -h.leadTriageDays())
	for i := range ls {
		ls[i].Untouched = ls[i].State == LeadNew && ls[i].CreatedAt.Before(untouchedBefore)
	}
	return ls, nil, nil
}

// TriageLead records that the person was contacted, or declined.
func (h *Hotline) TriageLead(ctx context.Context, id string, outcome LeadState, note string) (*Lead, error) {
	if !IsUUID(id) {
		return nil, Errorf(ENOTFOUND, "lead %s not found", id)
	}
	if outcome != LeadContacted && outcome != LeadDeclined {
		return nil, Invalid("outcome", "must be contacted or declined")
	}
	if utf8.RuneCountInString(note) > 2000 {
		return nil, Invalid("note", "is longer than 2000 characters")
	}
	return h.Leads.Move(ctx, id, []LeadState{LeadNew, LeadContacted}, outcome, note, "", h.now())
}

// LeadConversion is what a case needs beyond what the lead carries.
type LeadConversion struct {
	FacilityType    FacilityType  `json:"facility_type"`
	Gender          string        `json:"gender"`
	SNILS           string        `json:"snils"`
	LegalCapacity   LegalCapacity `json:"legal_capacity"`
	DisabilityGroup string        `json:"disability_group"`
	Contacts        []Contact     `json:"contacts"`
	GuardianshipID  string        `json:"guardianship_id"`
	AssigneeID      string        `json:"assignee_id"`
}

// ConvertLead registers a case (channel outreach) carrying the lead's person over: name, birth
// date, address and phone. The lead names the case, and the case's first history line the lead.
func (h *Hotline) ConvertLead(ctx context.Context, actor Actor, id string, cv LeadConversion) (*Lead, *Case, string, error) {
	if !IsUUID(id) {
		return nil, nil, "", Errorf(ENOTFOUND, "lead %s not found", id)
	}
	l, err := h.Leads.Get(ctx, id)
	if err != nil {
		return nil, nil, "", err
	}
	n := NewCase{Channel: ChannelOutreach, FacilityType: cv.FacilityType, Contacts: cv.Contacts, GuardianshipID: cv.GuardianshipID,
		AssigneeID: cv.AssigneeID, LeadID: l.ID,
		Applicant: Applicant{FullName: l.FullName, BirthDate: l.BirthDate, Gender: cv.Gender, SNILS: cv.SNILS, Address: l.Address,
			Phone: l.Phone, LegalCapacity: cv.LegalCapacity, DisabilityGroup: cv.DisabilityGroup}}
	if err := n.Validate(DateOf(h.now())); err != nil {
		return nil, nil, "", err
	}
	// Taken first, so that a lead is never converted twice; given back if the case is refused.
	from := []LeadState{LeadNew, LeadContacted}
	if _, err := h.Leads.Move(ctx, id, from, LeadConverting, l.Note, "", h.now()); err != nil {
		return nil, nil, "", err
	}
	c, code, err := h.Service.Register(ctx, actor, n)
	if err != nil {
		if _, undo := h.Leads.Move(ctx, id, []LeadState{LeadConverting}, l.State, l.Note, "", h.now()); undo != nil {
			return nil, nil, "", fmt.Errorf("convert lead %s: %w (and giving it back failed: %v)", id, err, undo)
		}
		return nil, nil, "", err
	}
	l, err = h.Leads.Move(ctx, id, []LeadState{LeadConverting}, LeadConverted, l.Note, c.ID, h.now())
	if err != nil {
		return nil, nil, "", fmt.Errorf("link lead %s to case %s: %w", id, c.Number, err)
	}
	return l, c, code, nil
}

// agencyChannel is the channel an agency files applications with.
var agencyChannel = map[AgencyKind]Channel{AgencyMFC: ChannelMFC, AgencyPostOffice: ChannelPostOffice}
