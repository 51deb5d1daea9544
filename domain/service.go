package domain

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
)

// Service is what the center does with cases. Each command loads a case through the store, lets
// the lifecycle decide, and saves the case with its history, deadlines and notices in one
// transaction.
type Service struct {
	Cases    CaseStore
	Calendar CalendarSource
	Settings Settings
	// Users checks assignees (reassignment); Board lists deadlines; Beds takes the boarding
	// houses' reports.
	Users UserDirectory
	Board DeadlineBoard
	Beds  BedRegister
	// Waiting keeps the placements, the priority categories and the waiting list.
	Waiting WaitingRegister
	// OfferLog reads the offers (they are written with the cases).
	OfferLog OfferStore
	// NoticeLog keeps the notices' delivery log (the notices themselves are written with the case).
	NoticeLog NoticeStore
	// Lockouts forgets a case's failed status lookups when it gets a new access code (the
	// status lookup's store); nil forgets nothing.
	Lockouts CaseLockouts
	// Assigner gives a new case nobody holds to the specialist with the least open work
	// (AUTO_ASSIGN); nil leaves it unassigned for a supervisor to give out.
	Assigner Assigner
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// EventCommand is one lifecycle event with its data; which fields matter depends on the event.
type EventCommand struct {
	Event       EventName `json:"event"`
	Comment     string    `json:"comment"`
	Reason      string    `json:"reason"`
	IPPSUNumber string    `json:"ippsu_number"`
	IPPSUDate   *Date     `json:"ippsu_date"`
	FacilityID  string    `json:"facility_id"`
	ValidUntil  *Date     `json:"valid_until"`
	AdmittedOn  *Date     `json:"admitted_on"`
	ReturnBy    *Date     `json:"return_by"`
	DateOfDeath *Date     `json:"date_of_death"`
	// Placement is recognize_need's priority, traits and preferences (default: the general
	// list, any home of the type).
	Placement *Placement `json:"placement"`
	// SkipReason is issue_voucher's reason to pass over the cases before this one on the
	// list that the home could take; the history line names them.
	SkipReason string `json:"skip_reason"`
	// FacilityType is request_transfer's type of home wanted (default: the case's own).
	FacilityType FacilityType `json:"facility_type"`
	// Grounds and FiledOn are an appeal's; DecisionWithIPPSU is submit_for_review's and
	// appeal's choice of the longer decision period (the ИППСУ issued with the decision).
	Grounds           string `json:"grounds"`
	FiledOn           *Date  `json:"filed_on"`
	DecisionWithIPPSU *bool  `json:"decision_with_ippsu"`
	// ContractNumber and SignedOn are sign_contract's.
	ContractNumber string `json:"contract_number"`
	SignedOn       *Date  `json:"signed_on"`
}

// accessAlphabet is what access codes are made of: no characters that read alike (0/O, 1/I/L).
const accessAlphabet = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"

// AccessCodeLength is the length of a relatives' access code.
const AccessCodeLength = 12

// NewAccessCode returns a random access code.
func NewAccessCode() string {
	b := make([]byte, AccessCodeLength)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return AccessCodeFrom(b)
}

// AccessCodeFrom spells the first AccessCodeLength bytes of b (at least that many) as an access
// code: random bytes make a random code.
func AccessCodeFrom(b []byte) string {
	code := make([]byte, AccessCodeLength)
	for i := range code {
		code[i] = accessAlphabet[int(b[i])%len(accessAlphabet)]
	}
	return string(code)
}

// HashAccessCode hashes an access code bound to its case's id. The code is random with about
// 59 bits of entropy, so a fast hash is enough; guessing online is stopped by rate limits.
func HashAccessCode(caseID, code string) string {
	code = strings.ToUpper(strings.ReplaceAll(strings.TrimSpace(code), "-", ""))
	sum := sha256.Sum256([]byte(caseID + ":" + code))
	return hex.EncodeToString(sum[:])
}

// AccessCodeMatches compares in constant time.
func AccessCodeMatches(hash, caseID, code string) bool {
	return subtle.ConstantTimeCompare([]byte(hash), []byte(HashAccessCode(caseID, code))) == 1
}

// Register validates and saves a new case in intake with its checklist; it returns the case and
// the relatives' access code, which is not stored and cannot be shown again.
func (s *Service) Register(ctx context.Context, actor Actor, n NewCase) (*Case, string, error) {
	now := s.now()
	if err := n.Validate(DateOf(now)); err != nil {
		return nil, "", err
	}
	filedBy := ""
	if actor.Kind == ActorAgency {
		// A service center files in its own name and leaves the assignment to the center.
		if want := agencyChannel[actor.Agency()]; n.Channel != want {
			return nil, "", Invalid("channel", "a %s files applications with channel %s", actor.Agency(), want)
		}
		if n.AssigneeID != "" {
			return nil, "", Invalid("assignee_id", "is set by the center, not by a partner agency")
		}
		filedBy = actor.ID
	}
	c := &Case{
		ID: uuid.NewString(), State: Intake, Version: 1, Channel: n.Channel, FacilityType: n.FacilityType,
		Applicant: n.Applicant, Contacts: n.Contacts, HealthOrgID: n.HealthOrgID,
		GuardianshipID: n.GuardianshipID, AssigneeID: n.AssigneeID, FiledByAgencyID: filedBy,
		StateEnteredAt: now, CreatedAt: now, UpdatedAt: now,
	}
	if c.Contacts == nil {
		c.Contacts = []Contact{}
	}
	if c.AssigneeID == "" && s.Assigner != nil {
		id, err := s.Assigner.LeastBusySpecialist(ctx, openWork)
		if err != nil {
			return nil, "", fmt.Errorf("register case: assign: %w", err)
		}
		c.AssigneeID = id
	}
	c.Checklist = BuildChecklist(c)
	code := NewAccessCode()
	ch := &Change{History: HistoryEntry{Version: 1, Event: "register", To: Intake,
		ActorID: actor.ID, ActorName: actor.Name, ActorRole: actor.Role, At: now,
		Payload: map[string]any{"channel": n.Channel}}}
	if n.LeadID != "" {
		ch.History.Payload["lead_id"] = n.LeadID
	}
	c.AccessCodeHash = HashAccessCode(c.ID, code)
	ch.Notices = s.registrationNotices(c, now)
	ch.Access = actor.AccessLine(now)
	if err := s.Cases.Create(ctx, c, ch); err != nil {
		return nil, "", fmt.Errorf("register case: %w", err)
	}
	return c, code, nil
}

// Get returns a case.
func (s *Service) Get(ctx context.Context, id string) (*Case, error) {
	if !IsUUID(id) {
		return nil, Errorf(ENOTFOUND, "case %s not found", id)
	}
	return s.Cases.Get(ctx, id)
}

// List returns a page of cases.
func (s *Service) List(ctx context.Context, f CaseFilter) (CasePage, error) {
	if f.State != "" {
		if _, ok := stateIndex[f.State]; !ok {
			return CasePage{}, Invalid("state", "unknown state %q", f.State)
		}
	}
	if f.FacilityType != "" {
		if err := oneOf("facility_type", f.FacilityType, FacilityTypes); err != nil {
			return CasePage{}, err
		}
	}
	if f.Assignee != "" && !IsUUID(f.Assignee) {
		return CasePage{}, Invalid("assignee", "must be a UUID")
	}
	if f.Limit == 0 {
		f.Limit = 50
	}
	if f.Limit < 1 || f.Limit > 200 {
		return CasePage{}, Invalid("limit", "must be between 1 and 200")
	}
	if utf8.RuneCountInString(f.Q) > 200 {
		return CasePage{}, Invalid("q", "is longer than 200 characters")
	}
	f.Q = strings.TrimSpace(f.Q)
	if number, ok := ParseCaseNumber(f.Q); ok {
		f.Q = number
	}
	f.Now = s.now()
	return s.Cases.List(ctx, f)
}

// History returns a case's history, oldest first.
func (s *Service) History(ctx context.Context, id string) ([]HistoryEntry, error) {
	if !IsUUID(id) {
		return nil, Errorf(ENOTFOUND, "case %s not found", id)
	}
	return s.Cases.History(ctx, id)
}

// Fire applies a lifecycle event to the case at the expected version.
func (s *Service) Fire(ctx context.Context, actor Actor, id string, version int, cmd EventCommand) (*Case, error) {
	if !IsUUID(id) {
		return nil, Errorf(ENOTFOUND, "case %s not found", id)
	}
	if _, ok := eventIndex[cmd.Event]; !ok {
		return nil, Invalid("event", "unknown event %q; known events: %s", cmd.Event, strings.Join(EventNames(), ", "))
	}
	if utf8.RuneCountInString(cmd.Comment) > 2000 || utf8.RuneCountInString(cmd.Reason) > 2000 {
		return nil, Invalid("comment", "comment and reason are at most 2000 characters")
	}
	if actor.Kind == ActorAgency {
		// Before the version check: a stale version must not reveal another agency's case.
		if !slices.Contains(AgencyEvents[actor.Agency()], cmd.Event) {
			return nil, notVisible(id)
		}
		if _, err := s.visibleTo(ctx, actor, id); err != nil {
			return nil, err
		}
	}
	cal, err := s.Calendar.Calendar(ctx)
	if err != nil {
		return nil, fmt.Errorf("load calendar: %w", err)
	}
	return s.Cases.Update(ctx, id, version, func(ctx context.Context, tx CaseTx, c *Case) (*Change, error) {
		if !MayFire(actor, c, cmd.Event) {
			if actor.Kind == ActorAgency {
				return nil, notVisible(id)
			}
			return nil, Errorf(EFORBIDDEN, "role %s may not fire %s", actor.Role, cmd.Event)
		}
		return s.apply(ctx, tx, cal, actor, c, cmd)
	})
}

// apply runs one event on a loaded case: the FSM with the event's guard, then the event's
// effects, the deadlines it closes and opens, and the history line.
func (s *Service) apply(ctx context.Context, tx CaseTx, cal *Calendar, actor Actor, c *Case, cmd EventCommand) (*Change, error) {
	now := s.now()
	from := c.State
	e := &effects{s: s, tx: tx, c: c, cmd: cmd, now: now, today: DateOf(now), payload: map[string]any{}}
	to, err := transition(ctx, from, cmd.Event, func(ctx context.Context, ev EventName) error {
		if apply := eventIndex[ev].apply; apply != nil {
			return apply(e, ctx)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if to == from && !eventIndex[cmd.Event].Stays {
		// A self-transition of an event that moves the case changes nothing.
		return nil, nil
	}
	e.decideAppeal(cmd.Event)
	if e.altDest != "" {
		to = e.altDest
	}
	if onWaitingList(from) && !onWaitingList(to) {
		// an offer open for a case that leaves the list passes to the next
		beds, err := tx.WithdrawOffers(ctx, c.ID, now)
		if err != nil {
			return nil, err
		}
		e.freed = append(e.freed, beds...)
	}
	if to != from {
		c.StateEnteredAt = now
	}
	c.State = to
	c.UpdatedAt = now
	c.Version++
	keep, closed := closeDeadlines(c.Deadlines, cmd.Event, to, now)
	opened := openDeadlines(s.Settings, cal, c, cmd.Event, from, to, now)
	c.Deadlines = append(keep, opened...)
	ch := &Change{
		History: HistoryEntry{CaseID: c.ID, Version: c.Version, Event: string(cmd.Event), From: from, To: to,
			ActorID: actor.ID, ActorName: actor.Name, ActorRole: actor.Role, Comment: cmd.Comment, Payload: e.payload, At: now},
		OpenDeadlines:  opened,
		CloseDeadlines: closed,
		Access:         actor.AccessLine(now),
	}
	notices, watch, err := s.eventNotices(ctx, tx, cal, c, cmd, e.payload, now)
	if err != nil {
		return nil, err
	}
	ch.Notices = notices
	if len(e.freed) > 0 {
		offered, ids, err := s.proposeOffers(ctx, tx, e.freed, c.ID, now)
		if err != nil {
			return nil, err
		}
		ch.Notices = append(ch.Notices, offered...)
		if len(ids) > 0 {
			e.payload["offers"] = ids
		}
	}
	ch.OpenDeadlines = append(ch.OpenDeadlines, watch...)
	c.Deadlines = append(c.Deadlines, watch...)
	return ch, nil
}

// RecordDocument records a document's status on the case's checklist. version is the expected
// case version; 0 means "whatever is current" (documents arrive from partners who do not track
// versions, and a document update does not race with the lifecycle's guards in a harmful way:
// the guards read the checklist inside the same row-versioned transaction).
func (s *Service) RecordDocument(ctx context.Context, actor Actor, id string, t DocType, version int, u DocumentUpdate) (*Case, error) {
	if !IsUUID(id) {
		return nil, Errorf(ENOTFOUND, "case %s not found", id)
	}
	if _, ok := docIndex[t]; !ok {
		return nil, Invalid("type", "unknown document type %q", t)
	}
	if actor.Kind == ActorAgency {
		if !AgencyDocuments(actor.Agency(), t) {
			return nil, notVisible(id)
		}
		if _, err := s.visibleTo(ctx, actor, id); err != nil {
			return nil, err
		}
	}
	today := DateOf(s.now())
	if err := u.validate(t, today, s.Settings.Validity); err != nil {
		return nil, err
	}
	return s.Cases.Update(ctx, id, version, func(ctx context.Context, tx CaseTx, c *Case) (*Change, error) {
		if !MayRecordDocument(actor, c, t) {
			if actor.Kind == ActorAgency {
				return nil, notVisible(id)
			}
			return nil, Errorf(EFORBIDDEN, "role %s may not record documents", actor.Role)
		}
		if ts, ok := LookupState(c.State); ok && ts.Terminal {
			return nil, Errorf(ECONFLICT, "case %s is %s: its documents can no longer change", c.Number, c.State)
		}
		now := s.now()
		d, ok := c.Checklist.Get(t)
		// Demanding a document the law does not require of this case is grounds for a
		// complaint: the center may not request one (recording one brought anyway is fine).
		if u.Status == DocRequested && (!ok || !d.Required) {
			return nil, ErrorOn(EUNPROCESSABLE, "type", "document %s is not required for this case: it may not be requested", t)
		}
		if !ok {
			d = Document{Type: t, Supplier: docIndex[t].Supplier}
		}
		d.Status, d.IssuedOn, d.ValidUntil, d.Note = u.Status, u.IssuedOn, u.ValidUntil, u.Note
		c.Checklist.put(d)
		c.Version++
		c.UpdatedAt = now
		ch := &Change{History: HistoryEntry{CaseID: c.ID, Version: c.Version, Event: "record_document", From: c.State, To: c.State,
			ActorID: actor.ID, ActorName: actor.Name, ActorRole: actor.Role, Comment: u.Note, At: now,
			Payload: map[string]any{"type": t, "status": u.Status}}, Access: actor.AccessLine(now)}
		// A document that expires gets a deadline before admission; recording it again replaces it.
		var keep []Deadline
		for _, dl := range c.Deadlines {
			if dl.Kind == DeadlineDocumentExpiry && dl.Ref == string(t) {
				dl.State, dl.ClosedAt = DeadlineCancelled, &now
				ch.CloseDeadlines = append(ch.CloseDeadlines, dl)
				continue
			}
			keep = append(keep, dl)
		}
		c.Deadlines = keep
		if u.Status == DocReceived && u.ValidUntil != nil && slices.Contains(preAdmission, c.State) {
			dl := newDeadline(DeadlineDocumentExpiry, string(t), *u.ValidUntil, now)
			ch.OpenDeadlines = append(ch.OpenDeadlines, dl)
			c.Deadlines = append(c.Deadlines, dl)
		}
		ch.Notices = s.documentNotices(c, t, u.Status, now)
		return ch, nil
	})
}
