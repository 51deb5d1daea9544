package domain

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
)

// Reaching a resident (../shared/domain.md "The job": help contacting relatives who live in
// boarding houses). A relative asks, through the hotline, to get in touch with someone who lives
// in a home; the home hears of it through the outbox, has ContactRequestWD working days to
// answer (a contact_request deadline), and reports the outcome; the relative is then told.

// Happenings of a contact request. They are not rows of whoIsTold: the one who asked is not a
// contact of the case, and only the home hears of the request (contactRequestRoutes).
const (
	HappeningContactRequested   Happening = "contact_requested"
	HappeningContactRequestDone Happening = "contact_request_done"
)

// DeadlineContactRequest watches a home's answer to a contact request (ref: the request's id).
const DeadlineContactRequest DeadlineKind = "contact_request"

// ContactOutcome is what came of a contact request.
type ContactOutcome string

// Contact request outcomes.
var ContactOutcomes = []ContactOutcome{"reached", "declined", "unreachable"}

// contactOutcomeLabels say the outcome to the relative, without personal data (it goes by SMS).
var contactOutcomeLabels = map[ContactOutcome]string{
	"reached":     "связь установлена",
	"declined":    "проживающий не захотел связи",
	"unreachable": "связаться не удалось",
}

// ContactOutcomeLabel is an outcome in Russian.
func ContactOutcomeLabel(o ContactOutcome) string { return contactOutcomeLabels[o] }

// NewContactRequest is a relative's request to get in touch with a resident.
type NewContactRequest struct {
	Name     string `json:"name"`
	Relation string `json:"relation"`
	Phone    string `json:"phone"`
	Message  string `json:"message"`
}

// ContactRequest is a request and, once done, its outcome.
type ContactRequest struct {
	ID         string `json:"id"`
	CaseID     string `json:"case_id"`
	CaseNumber string `json:"case_number"`
	FacilityID string `json:"facility_id"`
	Name       string `json:"name"`
	Relation   string `json:"relation"`
	Phone      string `json:"phone"`
	Message    string `json:"message"`
	// State is open or done.
	State        string         `json:"state"`
	DueOn        Date           `json:"due_on"`
	Outcome      ContactOutcome `json:"outcome,omitempty"`
	OutcomeLabel string         `json:"outcome_label,omitempty"`
	Note         string         `json:"note,omitempty"`
	CreatedBy    string         `json:"created_by"`
	CreatedAt    time.Time      `json:"created_at"`
	DoneBy       string         `json:"done_by,omitempty"`
	DoneAt       *time.Time     `json:"done_at,omitempty"`
}

// ContactRequestStore keeps contact requests.
type ContactRequestStore interface {
	// Open saves a new request with its deadline and the home's notices, in one transaction. A
	// request made by StatusPage is refused (ECONFLICT, ErrContactRequestOpen's reasons) while
	// the case has another open request from StatusPage: the check and the insert are atomic.
	Open(ctx context.Context, r *ContactRequest, d Deadline, notices []Notice) error
	// Get returns a request; ENOTFOUND.
	Get(ctx context.Context, id string) (*ContactRequest, error)
	// Close records the outcome, closes the deadline (met, or missed when late) and writes the
	// relative's notices, in one transaction; ECONFLICT when it is already done.
	Close(ctx context.Context, r *ContactRequest, notices []Notice) error
	// List returns requests in a state ("" for all): open ones soonest due first, the others
	// newest first.
	List(ctx context.Context, state string, limit int) ([]ContactRequest, error)
}

// ContactRequestsIn lists the contact requests in a state (open or done; "" for all).
func (h *Hotline) ContactRequestsIn(ctx context.Context, state string, limit int) ([]ContactRequest, error) {
	if state != "" && state != "open" && state != "done" {
		return nil, Invalid("state", "must be open or done")
	}
	if limit == 0 {
		limit = 100
	}
	if limit < 1 || limit > 500 {
		return nil, Invalid("limit", "must be between 1 and 500")
	}
	return h.ContactRequests.List(ctx, state, limit)
}

// residentStates are the states in which the person lives in a home and can be reached there.
var residentStates = []State{Residing, OnLeave, Hospitalized, TransferPending}

func (n *NewContactRequest) validate() error {
	if err := required("name", n.Name, 200); err != nil {
		return err
	}
	if err := required("relation", n.Relation, 100); err != nil {
		return err
	}
	if err := normalisePhone("phone", &n.Phone, true); err != nil {
		return err
	}
	if utf8.RuneCountInString(n.Message) > 2000 {
		return Invalid("message", "is longer than 2000 characters")
	}
	n.Name, n.Relation = strings.TrimSpace(n.Name), strings.TrimSpace(n.Relation)
	return nil
}

// MayCloseContactRequest reports whether the actor may report the outcome of a contact request
// on this case: a specialist, or the agency of the home the person lives in.
func MayCloseContactRequest(a Actor, c *Case) bool {
	switch a.Kind {
	case ActorSystem:
		return true
	case ActorUser:
		return a.May(ActContactRequestDone)
	}
	return a.May(ActContactRequestDone) && a.Agency() == AgencyFacility && ownFacility(a, c.FacilityID)
}

// RequestContact opens a contact request for a resident: the home is told through the outbox and
// a contact_request deadline opens.
func (h *Hotline) RequestContact(ctx context.Context, actor Actor, caseID string, n NewContactRequest) (*ContactRequest, error) {
	if err := n.validate(); err != nil {
		return nil, err
	}
	c, err := h.Service.Get(ctx, caseID)
	if err != nil {
		return nil, err
	}
	if !slices.Contains(residentStates, c.State) || c.FacilityID == "" {
		return nil, Errorf(ECONFLICT, "case %s: the person does not live in a home (%s)", c.Number, c.State)
	}
	home, err := h.facility(ctx, c.FacilityID)
	if err != nil {
		return nil, err
	}
	cal, err := h.Service.Calendar.Calendar(ctx)
	if err != nil {
		return nil, fmt.Errorf("load calendar: %w", err)
	}
	now := h.now()
	wd := h.Service.Settings.ContactRequestWD
	if wd <= 0 {
		wd = DefaultSettings().ContactRequestWD
	}
	r := &ContactRequest{ID: uuid.NewString(), CaseID: c.ID, CaseNumber: c.Number, FacilityID: c.FacilityID, Name: n.Name,
		Relation: n.Relation, Phone: n.Phone, Message: n.Message, State: "open", DueOn: cal.AddWorkingDays(DateOf(now), wd),
		CreatedBy: actor.ID, CreatedAt: now}
	d := newDeadline(DeadlineContactRequest, r.ID, r.DueOn, now)
	var notices []Notice
	if home.AgencyID != "" {
		route := NoticeRoute{HappeningContactRequested, AudienceFacility, NoticeWebhook}
		key := noticeKey(c.ID, "cr."+r.ID, route.Template(), home.AgencyID)
		notices = append(notices, Notice{ID: noticeID(key), CaseID: c.ID, Happening: route.Happening, Audience: route.Audience,
			Channel: route.Channel, Recipient: home.AgencyID, Template: route.Template(), IdempotencyKey: key, NotBefore: now,
			Status: NoticePending, CreatedAt: now, Data: map[string]any{"case_number": c.Number, "case_id": c.ID,
				"full_name": c.Applicant.FullName, "birth_date": c.Applicant.BirthDate.String(), "facilities": []string{home.Name},
				"facility_ids": []string{home.ID}, "request_id": r.ID, "requester_name": r.Name, "relation": r.Relation,
				"requester_phone": r.Phone, "message": r.Message, "due_on": r.DueOn.String(), "happening": string(route.Happening)}})
	}
	if err := h.ContactRequests.Open(ctx, r, d, notices); err != nil {
		return nil, fmt.Errorf("open contact request: %w", err)
	}
	return r, nil
}

// CompleteContactRequest records what came of a request, by a specialist or the home's agency;
// the relative who asked is told by SMS (the outcome and the case number only).
func (h *Hotline) CompleteContactRequest(ctx context.Context, actor Actor, id string, outcome ContactOutcome, note string) (*ContactRequest, error) {
	if !IsUUID(id) {
		return nil, Errorf(ENOTFOUND, "contact request %s not found", id)
	}
	r, err := h.ContactRequests.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	c, err := h.Service.Get(ctx, r.CaseID)
	if err != nil {
		return nil, err
	}
	if !MayCloseContactRequest(actor, c) {
		return nil, Errorf(ENOTFOUND, "contact request %s not found", id)
	}
	if err := oneOf("outcome", outcome, ContactOutcomes); err != nil {
		return nil, err
	}
	if utf8.RuneCountInString(note) > 2000 {
		return nil, Invalid("note", "is longer than 2000 characters")
	}
	if r.State == "done" {
		return nil, Errorf(ECONFLICT, "contact request %s is already done (%s)", id, ContactOutcomeLabel(r.Outcome))
	}
	now := h.now()
	r.State, r.Outcome, r.OutcomeLabel, r.Note, r.DoneBy, r.DoneAt = "done", outcome, ContactOutcomeLabel(outcome), note, actor.ID, &now
	route := NoticeRoute{HappeningContactRequestDone, AudienceRelative, NoticeSMS}
	key := noticeKey(c.ID, "crd."+r.ID, route.Template(), r.Phone)
	notBefore := now
	if until, quiet := h.Service.Settings.SMSQuietHours.Until(now); quiet {
		notBefore = until
	}
	notice := Notice{ID: noticeID(key), CaseID: c.ID, Happening: route.Happening, Audience: route.Audience, Channel: route.Channel,
		Recipient: r.Phone, Template: route.Template(), IdempotencyKey: key, NotBefore: notBefore, Status: NoticePending, CreatedAt: now,
		Data: map[string]any{"case_number": c.Number, "first_name": c.Applicant.FirstName(), "outcome_label": r.OutcomeLabel,
			"happening": string(route.Happening)}}
	if err := h.ContactRequests.Close(ctx, r, []Notice{notice}); err != nil {
		return nil, fmt.Errorf("close contact request: %w", err)
	}
	return r, nil
}

// noticeID derives a notice's id from its key, as planNotices does.
func noticeID(key string) string { return uuid.NewSHA1(noticeNamespace, []byte(key)).String() }

func (h *Hotline) facility(ctx context.Context, id string) (Facility, error) {
	f, err := h.Service.Facility(ctx, id)
	if err != nil {
		return Facility{}, err
	}
	return *f, nil
}

// ContactRequestRoutes are the templates contact requests use (a test checks each exists).
func ContactRequestRoutes() []NoticeRoute {
	return []NoticeRoute{{HappeningContactRequested, AudienceFacility, NoticeWebhook},
		{HappeningContactRequestDone, AudienceRelative, NoticeSMS}}
}

// StatusContactRequest is a relative's contact request from the status page: the case number and
// access code are its credential, checked (and limited) like a status lookup.
type StatusContactRequest struct {
	CaseNumber string `json:"case_number"`
	AccessCode string `json:"access_code"`
	NewContactRequest
}

// StatusContactReceipt is what the status page learns: that the request is taken, and by when the
// home answers.
type StatusContactReceipt struct {
	State string `json:"state"`
	DueOn Date   `json:"due_on"`
}

// StatusPage is who makes the contact requests of the public status page (CreatedBy): a case has
// at most one of them open at a time (ContactRequestStore.Open).
const StatusPage = "status-page"

// ErrContactRequestOpen is the refusal of a second open request from the status page.
func ErrContactRequestOpen(caseNumber string) *Error {
	return Errorf(ECONFLICT, "case %s already has an open contact request from the status page", caseNumber)
}

// RequestContactByCode opens a contact request for the relative who looked the case up: a wrong
// number or code is refused (and counted) exactly as by the status lookup.
func (h *Hotline) RequestContactByCode(ctx context.Context, req StatusContactRequest, clientAddr string) (StatusContactReceipt, error) {
	if err := req.validate(); err != nil {
		return StatusContactReceipt{}, err
	}
	v, err := h.Access.Status(ctx, req.CaseNumber, req.AccessCode, clientAddr)
	if err != nil {
		return StatusContactReceipt{}, err
	}
	page, err := h.Service.Cases.List(ctx, CaseFilter{Q: v.CaseNumber, Limit: 1, Now: h.now()})
	if err != nil || len(page.Items) != 1 {
		return StatusContactReceipt{}, fmt.Errorf("case %s after its lookup: %d found, %w", v.CaseNumber, len(page.Items), err)
	}
	relative := Actor{ID: StatusPage, Name: req.Name, Kind: ActorSystem, Role: "relative"}
	r, err := h.RequestContact(ctx, relative, page.Items[0].ID, req.NewContactRequest)
	if err != nil {
		var de *Error
		if errors.As(err, &de) && de.Code == ECONFLICT && len(de.Reasons) == 0 {
			return StatusContactReceipt{}, Errorf(ECONFLICT, "the person does not live in a home yet")
		}
		return StatusContactReceipt{}, err
	}
	return StatusContactReceipt{State: r.State, DueOn: r.DueOn}, nil
}
