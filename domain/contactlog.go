package domain

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
)

// The hotline's contact log (../shared/domain.md "The hotline"): every call, visit, letter or
// message is recorded with its topic and answer, with or without a case, so that the next
// operator sees it; a promised call-back is a deadline of the specialist who took the call.

// ContactChannel is how a contact reached the center, or the center reached someone.
type ContactChannel string

// Contact channels.
var ContactChannels = []ContactChannel{"phone", "visit", "letter", "email", "online", "messenger"}

// ContactDirection says who started the contact.
type ContactDirection string

// Contact directions.
var ContactDirections = []ContactDirection{"inbound", "outbound"}

// ContactParty is who was on the other side.
type ContactParty string

// Contact parties.
var ContactParties = []ContactParty{"applicant", "relative", "representative", "agency", "resident", "other"}

// ContactTopic is what the contact was about.
type ContactTopic string

// Contact topics.
var ContactTopics = []ContactTopic{"status", "documents", "waiting_list", "voucher", "move", "residence", "complaint",
	"contact_resident", "other"}

// NewContactRecord is a contact as the operator logs it.
type NewContactRecord struct {
	CaseID      string           `json:"case_id"`
	Channel     ContactChannel   `json:"channel"`
	Direction   ContactDirection `json:"direction"`
	Party       ContactParty     `json:"party"`
	CallerName  string           `json:"caller_name"`
	CallerPhone string           `json:"caller_phone"`
	Topic       ContactTopic     `json:"topic"`
	Question    string           `json:"question"`
	Answer      string           `json:"answer"`
	// FollowUpDue promises a call-back by the end of that day.
	FollowUpDue *Date `json:"follow_up_due"`
	// FollowUpOf names an earlier contact whose promised call-back this contact is: it meets
	// that follow-up.
	FollowUpOf string `json:"follow_up_of"`
}

// ContactRecord is one logged contact.
type ContactRecord struct {
	ID          string           `json:"id"`
	CaseID      string           `json:"case_id,omitempty"`
	CaseNumber  string           `json:"case_number,omitempty"`
	Channel     ContactChannel   `json:"channel"`
	Direction   ContactDirection `json:"direction"`
	Party       ContactParty     `json:"party"`
	CallerName  string           `json:"caller_name"`
	CallerPhone string           `json:"caller_phone,omitempty"`
	Topic       ContactTopic     `json:"topic"`
	TopicLabel  string           `json:"topic_label"`
	Question    string           `json:"question"`
	Answer      string           `json:"answer"`
	FollowUpDue *Date            `json:"follow_up_due,omitempty"`
	// FollowUpDoneAt is when the promised call-back was made; nil while it is owed.
	FollowUpDoneAt *time.Time `json:"follow_up_done_at,omitempty"`
	FollowUpOf     string     `json:"follow_up_of,omitempty"`
	// TakenBy is the specialist who took the contact; the follow-up is theirs.
	TakenBy     string    `json:"taken_by"`
	TakenByName string    `json:"taken_by_name"`
	CreatedAt   time.Time `json:"created_at"`
}

// FollowUpOverdue reports whether the promised call-back is owed and late at now.
func (r ContactRecord) FollowUpOverdue(now time.Time) bool {
	return r.FollowUpDue != nil && r.FollowUpDoneAt == nil && !now.Before(r.FollowUpDue.EndInMoscow())
}

// contactTopicLabels name the topics for people, in the one Russian catalogue of the hotline.
var contactTopicLabels = map[ContactTopic]string{
	"status": "Статус дела", "documents": "Документы", "waiting_list": "Очередь", "voucher": "Путёвка",
	"move": "Переезд", "residence": "Проживание в учреждении", "complaint": "Жалоба",
	"contact_resident": "Связь с проживающим", "other": "Другое",
}

// ContactTopicDef is a topic with its label.
type ContactTopicDef struct {
	Name  ContactTopic `json:"name"`
	Label string       `json:"label"`
}

// ContactTopicDefs lists the topics with their labels, in order (the console's vocabulary).
func ContactTopicDefs() []ContactTopicDef {
	out := make([]ContactTopicDef, len(ContactTopics))
	for i, t := range ContactTopics {
		out[i] = ContactTopicDef{t, contactTopicLabels[t]}
	}
	return out
}

// DeadlineLabels names every deadline kind in Russian (the console's vocabulary).
func DeadlineLabels() map[DeadlineKind]string {
	out := make(map[DeadlineKind]string, len(DeadlineKinds))
	for _, k := range DeadlineKinds {
		out[k] = DeadlineLabel(k)
	}
	return out
}

// ContactTopicLabel is a topic's name in Russian.
func ContactTopicLabel(t ContactTopic) string { return contactTopicLabels[t] }

// ContactFilter selects logged contacts; every field is optional.
type ContactFilter struct {
	Topic ContactTopic
	From  *time.Time
	To    *time.Time
	// Q matches the caller's name, the question or the answer, or (when it is a phone number)
	// the caller's phone.
	Q string
	// Phone is Q parsed as a phone number, "" when Q is not one.
	Phone string
	// OpenFollowUps keeps the contacts whose call-back is still owed, soonest due first.
	OpenFollowUps bool
	Limit         int
	Cursor        string
}

// ContactPage is one page of logged contacts, newest first (open follow-ups: soonest due first).
type ContactPage struct {
	Items      []ContactRecord `json:"items"`
	NextCursor string          `json:"next_cursor"`
}

// ContactLog keeps the logged contacts.
type ContactLog interface {
	// Add saves a contact. With followUp it opens that deadline on the contact's case (without a
	// case when the contact has none); with
	// r.FollowUpOf it marks that earlier contact's call-back made and closes its deadline (met,
	// or missed when late). ENOTFOUND when the case or the earlier contact does not exist;
	// ECONFLICT when the earlier contact owes no call-back.
	Add(ctx context.Context, r *ContactRecord, followUp *Deadline, now time.Time) error
	// ForCase lists a case's contacts, newest first.
	ForCase(ctx context.Context, caseID string, limit int) ([]ContactRecord, error)
	// Find returns a page of contacts; EINVALID for a bad cursor.
	Find(ctx context.Context, f ContactFilter) (ContactPage, error)
}

// Hotline is what the center's phone desk does: it logs contacts and finds what a caller needs.
type Hotline struct {
	Service *Service
	// Access checks a relative's case number and access code (RequestContactByCode).
	Access          *Access
	Contacts        ContactLog
	ContactRequests ContactRequestStore
	Leads           LeadStore
	// LeadTriageDays: a lead still new after this many days is flagged (default 5).
	LeadTriageDays int
	Phones         PhoneBook
	Now            func() time.Time
}

func (h *Hotline) now() time.Time {
	if h.Now != nil {
		return h.Now()
	}
	return time.Now()
}

// Validate checks a new contact and normalises it (the caller's phone to E.164).
func (n *NewContactRecord) Validate(today Date) error {
	if n.CaseID != "" && !IsUUID(n.CaseID) {
		return Invalid("case_id", "must be a case id (UUID)")
	}
	if err := oneOf("channel", n.Channel, ContactChannels); err != nil {
		return err
	}
	if err := oneOf("direction", n.Direction, ContactDirections); err != nil {
		return err
	}
	if err := oneOf("party", n.Party, ContactParties); err != nil {
		return err
	}
	if err := oneOf("topic", n.Topic, ContactTopics); err != nil {
		return err
	}
	if utf8.RuneCountInString(n.CallerName) > 200 {
		return Invalid("caller_name", "is longer than 200 characters")
	}
	n.CallerName = strings.TrimSpace(n.CallerName)
	if err := normalisePhone("caller_phone", &n.CallerPhone, false); err != nil {
		return err
	}
	for field, v := range map[string]string{"question": n.Question, "answer": n.Answer} {
		if utf8.RuneCountInString(v) > 4000 {
			return Invalid(field, "is longer than 4000 characters")
		}
	}
	if n.FollowUpDue != nil {
		if n.FollowUpDue.Before(today) {
			return Invalid("follow_up_due", "is in the past")
		}
		if today.AddDays(366).Before(*n.FollowUpDue) {
			return Invalid("follow_up_due", "is more than a year ahead")
		}
	}
	if n.FollowUpOf != "" && !IsUUID(n.FollowUpOf) {
		return Invalid("follow_up_of", "must be a contact id (UUID)")
	}
	return nil
}

// LogContact records a contact taken by a specialist. A promised call-back opens a
// contact_follow_up deadline of that specialist, reminded and escalated like every deadline;
// for a caller with no case, it is a deadline without a case (its ref names the contact).
func (h *Hotline) LogContact(ctx context.Context, actor Actor, n NewContactRecord) (*ContactRecord, error) {
	now := h.now()
	if err := n.Validate(DateOf(now)); err != nil {
		return nil, err
	}
	r := &ContactRecord{ID: uuid.NewString(), CaseID: n.CaseID, Channel: n.Channel, Direction: n.Direction, Party: n.Party,
		CallerName: n.CallerName, CallerPhone: n.CallerPhone, Topic: n.Topic, TopicLabel: ContactTopicLabel(n.Topic),
		Question: n.Question, Answer: n.Answer, FollowUpDue: n.FollowUpDue, FollowUpOf: n.FollowUpOf,
		TakenBy: actor.ID, TakenByName: actor.Name, CreatedAt: now}
	var followUp *Deadline
	if n.FollowUpDue != nil {
		d := ContactFollowUpDeadline(r.ID, *n.FollowUpDue, now)
		followUp = &d
	}
	if err := h.Contacts.Add(ctx, r, followUp, now); err != nil {
		return nil, fmt.Errorf("log contact: %w", err)
	}
	return r, nil
}

// CaseContacts lists a case's contacts, newest first; ENOTFOUND when there is no case.
func (h *Hotline) CaseContacts(ctx context.Context, caseID string, limit int) ([]ContactRecord, error) {
	if !IsUUID(caseID) {
		return nil, Errorf(ENOTFOUND, "case %s not found", caseID)
	}
	if limit == 0 {
		limit = 50
	}
	if limit < 1 || limit > 500 {
		return nil, Invalid("limit", "must be between 1 and 500")
	}
	if _, err := h.Service.Get(ctx, caseID); err != nil {
		return nil, err
	}
	return h.Contacts.ForCase(ctx, caseID, limit)
}

// FindContacts returns a page of logged contacts.
func (h *Hotline) FindContacts(ctx context.Context, f ContactFilter) (ContactPage, error) {
	if f.Topic != "" {
		if err := oneOf("topic", f.Topic, ContactTopics); err != nil {
			return ContactPage{}, err
		}
	}
	if f.From != nil && f.To != nil && f.To.Before(*f.From) {
		return ContactPage{}, Invalid("to", "is before from")
	}
	f.Q = strings.TrimSpace(f.Q)
	if utf8.RuneCountInString(f.Q) > 200 {
		return ContactPage{}, Invalid("q", "is longer than 200 characters")
	}
	f.Phone, _ = ParsePhone(f.Q)
	if f.Limit == 0 {
		f.Limit = 50
	}
	if f.Limit < 1 || f.Limit > 200 {
		return ContactPage{}, Invalid("limit", "must be between 1 and 200")
	}
	return h.Contacts.Find(ctx, f)
}

// PhoneBook finds cases by a phone of the applicant, a relative or a representative, through
// the keyed blind index (never by the number in plain text).
type PhoneBook interface {
	// CasesByPhone returns the ids of the cases with this E.164 number, newest first, at most limit.
	CasesByPhone(ctx context.Context, e164 string, limit int) ([]string, error)
}

// phoneMatchCap bounds the cases one phone may find: a phone is a person's, not a directory.
const phoneMatchCap = 200

// FindCases is the one search of the phone desk: GET /cases?q= with a case number, a part of
// the applicant's name, or a phone number however it is typed. A phone is resolved to its cases
// through the blind index and the list is kept to them; the rest is Service.List.
func (h *Hotline) FindCases(ctx context.Context, f CaseFilter) (CasePage, error) {
	if phone, ok := ParsePhone(f.Q); ok && h.Phones != nil {
		ids, err := h.Phones.CasesByPhone(ctx, phone, phoneMatchCap)
		if err != nil {
			return CasePage{}, fmt.Errorf("find cases by phone: %w", err)
		}
		if len(ids) == 0 {
			return CasePage{Items: []CaseSummary{}}, nil
		}
		f.Q, f.CaseIDs = "", ids
	}
	return h.Service.List(ctx, f)
}
