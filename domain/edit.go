package domain

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"
)

// Editing what changes: the applicant's facts are corrected, relatives and representatives are
// added, changed and removed. Each change is a history line; a change of the facts rebuilds the
// checklist, and a consent withdrawn stops the notices at once.

// ConsentSources are how a consent to notices may be given.
var ConsentSources = []string{"application", "written", "in_person", "phone", "online"}

// FactsPatch corrects the applicant's facts; a nil field is left as it is.
type FactsPatch struct {
	LegalCapacity   *LegalCapacity `json:"legal_capacity"`
	DisabilityGroup *string        `json:"disability_group"`
	FacilityType    *FacilityType  `json:"facility_type"`
	GuardianshipID  *string        `json:"guardianship_id"`
	HealthOrgID     *string        `json:"health_org_id"`
	// DecisionWithIPPSU: the ИППСУ is issued with the decision (the decision may take longer).
	DecisionWithIPPSU *bool  `json:"decision_with_ippsu"`
	Comment           string `json:"comment"`
}

// beforeTheList are the states in which the type of home wanted may still change: once on the
// waiting list, the case's place is on the list of its type.
var beforeTheList = []State{Intake, CollectingDocuments, UnderReview, Rejected}

// EditFacts corrects the applicant's facts at the expected version; the checklist is rebuilt
// from them, and the history line names each change.
func (s *Service) EditFacts(ctx context.Context, actor Actor, id string, version int, p FactsPatch) (*Case, error) {
	if !IsUUID(id) {
		return nil, notVisible(id)
	}
	if p.LegalCapacity != nil {
		if err := oneOf("legal_capacity", *p.LegalCapacity, LegalCapacities); err != nil {
			return nil, err
		}
	}
	if p.DisabilityGroup != nil {
		if err := oneOf("disability_group", *p.DisabilityGroup, DisabilityGroups); err != nil {
			return nil, err
		}
	}
	if p.FacilityType != nil {
		if err := oneOf("facility_type", *p.FacilityType, FacilityTypes); err != nil {
			return nil, err
		}
	}
	for field, v := range map[string]*string{"guardianship_id": p.GuardianshipID, "health_org_id": p.HealthOrgID} {
		if v != nil && *v != "" && !IsUUID(*v) {
			return nil, Invalid(field, "must be a UUID")
		}
	}
	if utf8.RuneCountInString(p.Comment) > 2000 {
		return nil, Invalid("comment", "is longer than 2000 characters")
	}
	cal, err := s.Calendar.Calendar(ctx)
	if err != nil {
		return nil, fmt.Errorf("load calendar: %w", err)
	}
	return s.Cases.Update(ctx, id, version, func(ctx context.Context, tx CaseTx, c *Case) (*Change, error) {
		if st, _ := LookupState(c.State); st.Terminal {
			return nil, Errorf(ECONFLICT, "case %s is %s: its facts can no longer change", c.Number, c.State)
		}
		now := s.now()
		changes := map[string]any{}
		set := func(field string, old, new string, apply func()) {
			if old != new {
				changes[field] = map[string]string{"from": old, "to": new}
				apply()
			}
		}
		if p.LegalCapacity != nil {
			set("legal_capacity", string(c.Applicant.LegalCapacity), string(*p.LegalCapacity), func() { c.Applicant.LegalCapacity = *p.LegalCapacity })
		}
		if p.DisabilityGroup != nil {
			set("disability_group", c.Applicant.DisabilityGroup, *p.DisabilityGroup, func() { c.Applicant.DisabilityGroup = *p.DisabilityGroup })
		}
		if p.FacilityType != nil && *p.FacilityType != c.FacilityType {
			if !slices.Contains(beforeTheList, c.State) {
				return nil, ErrorOn(EUNPROCESSABLE, "facility_type", "the type of home can change only before the waiting list")
			}
			set("facility_type", string(c.FacilityType), string(*p.FacilityType), func() { c.FacilityType = *p.FacilityType })
		}
		if p.GuardianshipID != nil {
			set("guardianship_id", c.GuardianshipID, *p.GuardianshipID, func() { c.GuardianshipID = *p.GuardianshipID })
		}
		if p.HealthOrgID != nil {
			set("health_org_id", c.HealthOrgID, *p.HealthOrgID, func() { c.HealthOrgID = *p.HealthOrgID })
		}
		if c.Applicant.LegalCapacity == Incapacitated && c.GuardianshipID == "" {
			return nil, Invalid("guardianship_id", "is required when the applicant is legally incapacitated")
		}
		ch := &Change{Access: actor.AccessLine(now)}
		if p.DecisionWithIPPSU != nil && *p.DecisionWithIPPSU != c.DecisionWithIPPSU {
			changes["decision_with_ippsu"] = map[string]bool{"from": c.DecisionWithIPPSU, "to": *p.DecisionWithIPPSU}
			c.DecisionWithIPPSU = *p.DecisionWithIPPSU
			// Under review, the decision's deadline moves with the choice, counted from the
			// day it opened.
			var keep []Deadline
			for _, d := range c.Deadlines {
				if d.Kind == DeadlineReviewDecision && d.State == DeadlineOpen {
					closed := d
					closed.State, closed.ClosedAt = DeadlineCancelled, &now
					ch.CloseDeadlines = append(ch.CloseDeadlines, closed)
					due := cal.AddWorkingDays(DateOf(d.OpenedAt), reviewDecisionWD(s.Settings, c))
					moved := newDeadline(DeadlineReviewDecision, d.Ref, due, d.OpenedAt)
					ch.OpenDeadlines = append(ch.OpenDeadlines, moved)
					keep = append(keep, moved)
					continue
				}
				keep = append(keep, d)
			}
			c.Deadlines = keep
		}
		if len(changes) == 0 {
			return nil, nil
		}
		before := c.Checklist.Clone()
		c.Checklist = BuildChecklist(c)
		var added, dropped []string
		for _, d := range c.Checklist {
			if was, ok := before.Get(d.Type); d.Required && (!ok || !was.Required) {
				added = append(added, string(d.Type))
			}
		}
		for _, d := range before {
			if now, ok := c.Checklist.Get(d.Type); d.Required && (!ok || !now.Required) {
				dropped = append(dropped, string(d.Type))
			}
		}
		payload := map[string]any{"changes": changes}
		if len(added) > 0 {
			payload["documents_required"] = added
		}
		if len(dropped) > 0 {
			payload["documents_not_required"] = dropped
		}
		c.Version++
		c.UpdatedAt = now
		ch.History = HistoryEntry{CaseID: c.ID, Version: c.Version, Event: "edit_facts", From: c.State, To: c.State,
			ActorID: actor.ID, ActorName: actor.Name, ActorRole: actor.Role, Comment: strings.TrimSpace(p.Comment), At: now, Payload: payload}
		return ch, nil
	})
}

// consentFor settles a contact's consent record against what it was (nil for a new contact):
// a consent newly given needs its source and gets its day (today unless given); one withdrawn
// records the day.
func consentFor(field string, ct *Contact, was *Contact, today Date) error {
	if ct.ConsentToNotices {
		if was != nil && was.ConsentToNotices && ct.ConsentSource == "" && ct.ConsentOn == "" {
			ct.ConsentOn, ct.ConsentSource = was.ConsentOn, was.ConsentSource
		}
		if ct.ConsentSource == "" {
			return Invalid(field+".consent_source", "say how the consent to notices was given")
		}
		if err := oneOf(field+".consent_source", ct.ConsentSource, ConsentSources); err != nil {
			return err
		}
		if ct.ConsentOn == "" {
			ct.ConsentOn = today.String()
		}
		d, err := ParseDate(ct.ConsentOn)
		if err != nil || d.After(today) {
			return Invalid(field+".consent_on", "must be a date, today or earlier")
		}
		ct.ConsentOn, ct.ConsentWithdrawnOn = d.String(), ""
		return nil
	}
	ct.ConsentOn, ct.ConsentSource = "", ""
	if was != nil && was.ConsentToNotices {
		ct.ConsentWithdrawnOn = today.String()
	} else if was != nil {
		ct.ConsentWithdrawnOn = was.ConsentWithdrawnOn
	} else {
		ct.ConsentWithdrawnOn = ""
	}
	return nil
}

// noticeAddresses are the addresses notices go to: those of the consenting contacts.
func noticeAddresses(cs []Contact) []string {
	var out []string
	for _, ct := range cs {
		if !ct.ConsentToNotices {
			continue
		}
		if ct.Phone != "" {
			out = append(out, ct.Phone)
		}
		if ct.Email != "" {
			out = append(out, strings.ToLower(ct.Email))
		}
	}
	return out
}

// contactLine is what the history says of a contact: no phone or e-mail (the history is not
// sealed).
func contactLine(i int, ct Contact) map[string]any {
	out := map[string]any{"index": i, "name": ct.Name, "relation": ct.Relation, "legal_representative": ct.LegalRepresentative,
		"consent_to_notices": ct.ConsentToNotices, "preferred_channel": ct.PreferredChannel}
	if ct.ConsentOn != "" {
		out["consent_on"], out["consent_source"] = ct.ConsentOn, ct.ConsentSource
	}
	if ct.ConsentWithdrawnOn != "" {
		out["consent_withdrawn_on"] = ct.ConsentWithdrawnOn
	}
	return out
}

// AddContact adds a relative or representative to the case.
func (s *Service) AddContact(ctx context.Context, actor Actor, id string, version int, ct Contact) (*Case, error) {
	return s.editContacts(ctx, actor, id, version, "add_contact", -1, &ct)
}

// EditContact changes the index-th relative or representative (0-based, as the case lists them).
func (s *Service) EditContact(ctx context.Context, actor Actor, id string, version, index int, ct Contact) (*Case, error) {
	return s.editContacts(ctx, actor, id, version, "edit_contact", index, &ct)
}

// RemoveContact removes the index-th relative or representative.
func (s *Service) RemoveContact(ctx context.Context, actor Actor, id string, version, index int) (*Case, error) {
	return s.editContacts(ctx, actor, id, version, "remove_contact", index, nil)
}

// editContacts adds (index -1), changes or removes (ct nil) a contact. The notices not yet sent
// to an address that no consenting contact has any more are cancelled in the same change.
func (s *Service) editContacts(ctx context.Context, actor Actor, id string, version int, event string, index int, ct *Contact) (*Case, error) {
	if !IsUUID(id) {
		return nil, notVisible(id)
	}
	if ct != nil {
		if err := ct.validate("contact"); err != nil {
			return nil, err
		}
	}
	return s.Cases.Update(ctx, id, version, func(ctx context.Context, tx CaseTx, c *Case) (*Change, error) {
		if st, _ := LookupState(c.State); st.Terminal {
			return nil, Errorf(ECONFLICT, "case %s is %s: its facts can no longer change", c.Number, c.State)
		}
		now := s.now()
		today := DateOf(now)
		if index >= len(c.Contacts) || (index < 0 && ct == nil) {
			return nil, Errorf(ENOTFOUND, "case %s has no contact number %d", c.Number, index)
		}
		before := noticeAddresses(c.Contacts)
		contacts := slices.Clone(c.Contacts)
		var line map[string]any
		switch {
		case index < 0:
			if len(contacts) >= 20 {
				return nil, Invalid("contacts", "at most 20 contacts")
			}
			if err := consentFor("contact", ct, nil, today); err != nil {
				return nil, err
			}
			contacts = append(contacts, *ct)
			line = contactLine(len(contacts)-1, *ct)
		case ct == nil:
			line = contactLine(index, contacts[index])
			contacts = slices.Delete(contacts, index, index+1)
		default:
			was := contacts[index]
			if err := consentFor("contact", ct, &was, today); err != nil {
				return nil, err
			}
			if *ct == was {
				return nil, nil
			}
			contacts[index] = *ct
			line = contactLine(index, *ct)
			if was.ConsentToNotices && !ct.ConsentToNotices {
				line["consent_withdrawn"] = true
			}
		}
		c.Contacts = contacts
		after := noticeAddresses(contacts)
		var gone []string
		for _, a := range before {
			if !slices.Contains(after, a) && !slices.Contains(gone, a) {
				gone = append(gone, a)
			}
		}
		if len(gone) > 0 {
			n, err := tx.CancelNotices(ctx, c.ID, gone, now)
			if err != nil {
				return nil, err
			}
			if n > 0 {
				line["notices_cancelled"] = n
			}
		}
		c.Version++
		c.UpdatedAt = now
		return &Change{History: HistoryEntry{CaseID: c.ID, Version: c.Version, Event: event, From: c.State, To: c.State,
			ActorID: actor.ID, ActorName: actor.Name, ActorRole: actor.Role, At: now, Payload: line},
			Access: actor.AccessLine(now)}, nil
	})
}

// SNILSBook finds the open cases that carry a SNILS (the case store, through a blind index).
type SNILSBook interface {
	// OpenCasesWithSNILS lists the numbers of the open cases other than except with this SNILS.
	OpenCasesWithSNILS(ctx context.Context, snils, except string) ([]string, error)
}

// RegistrationWarnings are what a specialist should know of a case just registered: its SNILS
// is already on another open case. A partner agency is not told of cases it is no party to.
func (s *Service) RegistrationWarnings(ctx context.Context, actor Actor, c *Case) ([]Reason, error) {
	book, ok := s.Cases.(SNILSBook)
	if !ok || actor.Kind != ActorUser {
		return nil, nil
	}
	numbers, err := book.OpenCasesWithSNILS(ctx, c.Applicant.SNILS, c.ID)
	if err != nil || len(numbers) == 0 {
		return nil, err
	}
	return []Reason{because("applicant.snils", "this SNILS is already on an open case: %s", strings.Join(numbers, ", "))}, nil
}
