package domain

import (
	"context"
	"strings"
	"time"
	"unicode/utf8"
)

// Offers: when a bed frees, the first eligible waiting case for its section is offered it, and
// its specialist (or, with none assigned, the supervisors) is told. Nobody is silently dropped:
// a decline records its reason, and repeated refusals by the applicant flag the case for review.

// OfferState is where an offer stands.
type OfferState string

// Offer states.
const (
	OfferProposed  OfferState = "proposed"
	OfferAccepted  OfferState = "accepted"
	OfferDeclined  OfferState = "declined"
	OfferExpired   OfferState = "expired"
	OfferWithdrawn OfferState = "withdrawn"
)

// OfferStates lists the offer states.
var OfferStates = []OfferState{OfferProposed, OfferAccepted, OfferDeclined, OfferExpired, OfferWithdrawn}

// Offer is a bed offered to a waiting case.
type Offer struct {
	ID            string     `json:"id"`
	CaseID        string     `json:"case_id"`
	CaseNumber    string     `json:"case_number"`
	ApplicantName string     `json:"applicant_name"`
	AssigneeID    string     `json:"assignee_id,omitempty"`
	FacilityID    string     `json:"facility_id"`
	FacilityName  string     `json:"facility_name"`
	Section       string     `json:"section"`
	State         OfferState `json:"state"`
	ProposedAt    time.Time  `json:"proposed_at"`
	DueAt         time.Time  `json:"due_at"`
	AnsweredAt    *time.Time `json:"answered_at,omitempty"`
	Reason        string     `json:"reason,omitempty"`
	Note          string     `json:"note,omitempty"`
}

// DeclineReason is a reason an offer may be declined for.
type DeclineReason struct {
	Code  string `json:"code"`
	Title string `json:"title"`
	// ApplicantRefused: the applicant's own refusal, counted towards a review.
	ApplicantRefused bool `json:"applicant_refused"`
	NeedsText        bool `json:"needs_text"`
}

// OfferDecline is a decline: a reason's code and, for "other", a text.
type OfferDecline struct {
	Reason string `json:"reason"`
	Note   string `json:"note"`
}

// OfferStore keeps the offers.
type OfferStore interface {
	// Offers lists offers, newest first, in a state ("" for all).
	Offers(ctx context.Context, state OfferState) ([]Offer, error)
	// CaseOffers lists one case's offers, newest first.
	CaseOffers(ctx context.Context, caseID string) ([]Offer, error)
	// Offer returns one offer; ENOTFOUND.
	Offer(ctx context.Context, id string) (*Offer, error)
	// DeclineReasons lists the active decline reasons.
	DeclineReasons(ctx context.Context) ([]DeclineReason, error)
	// DueOffers lists up to limit open offers due before now, soonest first.
	DueOffers(ctx context.Context, now time.Time, limit int) ([]Offer, error)
}

// proposeOffers offers each freed bed to the first eligible waiting cases (not the case that
// freed it) and plans the notices to their specialists.
func (s *Service) proposeOffers(ctx context.Context, tx CaseTx, freed []Bed, exclude string, now time.Time) ([]Notice, []string, error) {
	var notices []Notice
	var ids []string
	due, err := s.offerDue(ctx, now)
	if err != nil {
		return nil, nil, err
	}
	for _, b := range freed {
		offers, err := tx.ProposeOffers(ctx, b, exclude, now, due)
		if err != nil {
			return nil, nil, err
		}
		for _, o := range offers {
			ids = append(ids, o.ID)
			ns, err := s.offerNotices(ctx, tx, o, now)
			if err != nil {
				return nil, nil, err
			}
			notices = append(notices, ns...)
		}
	}
	return notices, ids, nil
}

// offerDue is when an offer made now expires: OfferResponseWD working days.
func (s *Service) offerDue(ctx context.Context, now time.Time) (time.Time, error) {
	cal, err := s.Calendar.Calendar(ctx)
	if err != nil {
		return time.Time{}, err
	}
	return cal.AddWorkingDays(DateOf(now), s.Settings.OfferResponseWD).EndInMoscow(), nil
}

func (s *Service) offerNotices(ctx context.Context, tx CaseTx, o Offer, now time.Time) ([]Notice, error) {
	c := &Case{ID: o.CaseID, Number: o.CaseNumber, State: WaitingList, AssigneeID: o.AssigneeID, Applicant: Applicant{FullName: o.ApplicantName}}
	var sups []string
	if o.AssigneeID == "" {
		var err error
		if sups, err = tx.Supervisors(ctx); err != nil {
			return nil, err
		}
	}
	return planNotices(s.Settings, noticeFacts{happening: HappeningOfferProposed, c: c, at: now, source: "offer-" + o.ID, supervisors: sups,
		details: map[string]string{"facility_name": o.FacilityName, "due_on": DateOf(o.DueAt).String()}}), nil
}

// Offers lists the offers in a state.
func (s *Service) Offers(ctx context.Context, state OfferState) ([]Offer, error) {
	if state != "" {
		if err := oneOf("state", state, OfferStates); err != nil {
			return nil, err
		}
	}
	return s.OfferLog.Offers(ctx, state)
}

// CaseOffers lists one case's offers in a state ("" for all), newest first (the case page's
// placement panel); ENOTFOUND when the case does not exist.
func (s *Service) CaseOffers(ctx context.Context, caseID string, state OfferState) ([]Offer, error) {
	if !IsUUID(caseID) {
		return nil, notVisible(caseID)
	}
	if state != "" {
		if err := oneOf("state", state, OfferStates); err != nil {
			return nil, err
		}
	}
	if _, err := s.Cases.Get(ctx, caseID); err != nil {
		return nil, err
	}
	all, err := s.OfferLog.CaseOffers(ctx, caseID)
	if err != nil {
		return nil, err
	}
	out := []Offer{}
	for _, o := range all {
		if state == "" || o.State == state {
			out = append(out, o)
		}
	}
	return out, nil
}

// DeclineReasons lists the reasons an offer may be declined for.
func (s *Service) DeclineReasons(ctx context.Context) ([]DeclineReason, error) {
	return s.OfferLog.DeclineReasons(ctx)
}

// AcceptOffer issues the voucher for the offered bed: the same guard and atomic reservation as
// issue_voucher, and the offer closed in the same transaction; of two accepts only one wins.
func (s *Service) AcceptOffer(ctx context.Context, actor Actor, id string) (*Case, error) {
	o, err := s.openOffer(ctx, id)
	if err != nil {
		return nil, err
	}
	cal, err := s.Calendar.Calendar(ctx)
	if err != nil {
		return nil, err
	}
	return s.Cases.Update(ctx, o.CaseID, 0, func(ctx context.Context, tx CaseTx, c *Case) (*Change, error) {
		if err := tx.AnswerOffer(ctx, o.ID, OfferAccepted, OfferDecline{}, s.now()); err != nil {
			return nil, err
		}
		ch, err := s.apply(ctx, tx, cal, actor, c, EventCommand{Event: IssueVoucher, FacilityID: o.FacilityID,
			Comment: "предложение принято", SkipReason: "предложение места " + o.ID})
		if err != nil {
			return nil, err
		}
		ch.History.Payload["offer_id"] = o.ID
		return ch, nil
	})
}

// DeclineOffer records why an offer was declined and passes the bed to the next eligible case;
// the applicant's own refusals, counted, flag the case for review at the threshold.
func (s *Service) DeclineOffer(ctx context.Context, actor Actor, id string, d OfferDecline) (*Offer, error) {
	d.Note = strings.TrimSpace(d.Note)
	if utf8.RuneCountInString(d.Note) > 2000 {
		return nil, Invalid("note", "must be at most 2000 characters")
	}
	o, err := s.openOffer(ctx, id)
	if err != nil {
		return nil, err
	}
	reasons, err := s.OfferLog.DeclineReasons(ctx)
	if err != nil {
		return nil, err
	}
	var reason *DeclineReason
	for i := range reasons {
		if reasons[i].Code == d.Reason {
			reason = &reasons[i]
		}
	}
	if reason == nil {
		return nil, Invalid("reason", "must be one of the decline reasons")
	}
	if reason.NeedsText && d.Note == "" {
		return nil, Invalid("note", "say why (the reason is %s)", reason.Title)
	}
	_, err = s.Cases.Update(ctx, o.CaseID, 0, func(ctx context.Context, tx CaseTx, c *Case) (*Change, error) {
		now := s.now()
		if err := tx.AnswerOffer(ctx, o.ID, OfferDeclined, d, now); err != nil {
			return nil, err
		}
		// the reason in words, as every history line gives one; its code beside it
		payload := map[string]any{"offer_id": o.ID, "reason": reason.Title, "reason_code": d.Reason, "facility_id": o.FacilityID, "section": o.Section}
		if d.Note != "" {
			payload["reason"] = reason.Title + ": " + d.Note
		}
		if reason.ApplicantRefused {
			p, err := tx.Placement(ctx, c.ID)
			if err != nil {
				return nil, err
			}
			if p == nil {
				p = &Placement{Priority: DefaultPriority, Districts: []string{}, FacilityIDs: []string{}}
			}
			p.Refusals++
			if p.Refusals >= s.Settings.OfferRefusalsBeforeReview {
				p.Review = true
				payload["review"] = true
			}
			if err := tx.SavePlacement(ctx, c.ID, *p); err != nil {
				return nil, err
			}
		}
		notices, next, err := s.proposeOffers(ctx, tx, []Bed{{FacilityID: o.FacilityID, Section: o.Section}}, c.ID, now)
		if err != nil {
			return nil, err
		}
		if len(next) > 0 {
			payload["next_offers"] = next
		}
		c.Version++
		c.UpdatedAt = now
		return &Change{History: HistoryEntry{CaseID: c.ID, Version: c.Version, Event: "decline_offer", From: c.State, To: c.State,
			ActorID: actor.ID, ActorName: actor.Name, ActorRole: actor.Role, Comment: d.Note, At: now, Payload: payload}, Notices: notices}, nil
	})
	if err != nil {
		return nil, err
	}
	return s.OfferLog.Offer(ctx, id)
}

func (s *Service) openOffer(ctx context.Context, id string) (*Offer, error) {
	if !IsUUID(id) {
		return nil, Errorf(ENOTFOUND, "offer %s not found", id)
	}
	o, err := s.OfferLog.Offer(ctx, id)
	if err != nil {
		return nil, err
	}
	if o.State != OfferProposed {
		return nil, Errorf(ECONFLICT, "offer %s is %s, no longer open", id, o.State)
	}
	return o, nil
}

// ExpireOffers closes the open offers nobody answered in time: each expires like a missed
// deadline (the specialist and the supervisors are told), and the bed passes to the next
// eligible case. It returns how many expired.
func (s *Service) ExpireOffers(ctx context.Context, now time.Time) (int, error) {
	due, err := s.OfferLog.DueOffers(ctx, now, 200)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, o := range due {
		_, err := s.Cases.Update(ctx, o.CaseID, 0, func(ctx context.Context, tx CaseTx, c *Case) (*Change, error) {
			if err := tx.AnswerOffer(ctx, o.ID, OfferExpired, OfferDecline{}, now); err != nil {
				return nil, err
			}
			notices, next, err := s.proposeOffers(ctx, tx, []Bed{{FacilityID: o.FacilityID, Section: o.Section}}, c.ID, now)
			if err != nil {
				return nil, err
			}
			sups, err := tx.Supervisors(ctx)
			if err != nil {
				return nil, err
			}
			notices = append(notices, planNotices(s.Settings, noticeFacts{happening: HappeningOfferExpired, c: c, at: now, source: "offer-expired-" + o.ID,
				supervisors: sups, details: map[string]string{"facility_name": o.FacilityName, "due_on": DateOf(o.DueAt).String()}})...)
			c.Version++
			c.UpdatedAt = now
			payload := map[string]any{"offer_id": o.ID, "facility_id": o.FacilityID, "section": o.Section}
			if len(next) > 0 {
				payload["next_offers"] = next
			}
			return &Change{History: HistoryEntry{CaseID: c.ID, Version: c.Version, Event: "offer_expired", From: c.State, To: c.State,
				ActorID: System.ID, ActorName: System.Name, ActorRole: System.Role, At: now, Payload: payload}, Notices: notices}, nil
		})
		if ErrorCode(err) == ECONFLICT {
			continue // answered meanwhile
		}
		if err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}
