package store

import (
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"carepath/domain"
)

// caseRow is the cases table as gorm sees it.
type caseRow struct {
	ID                string `gorm:"primaryKey"`
	Seq               int64  `gorm:"->"`
	Number            string
	State             string
	Version           int
	Channel           string
	FacilityType      string
	ApplicantName     string
	LegalCapacity     string
	Applicant         string // jsonb
	Personal          []byte
	Contacts          string // jsonb
	HealthOrgID       *string
	GuardianshipID    *string
	FacilityID        *string
	VoucherFacilityID *string
	VoucherValidUntil *time.Time
	LeaveReturnBy     *time.Time
	IPPSUNumber       *string    `gorm:"column:ippsu_number"`
	IPPSUDate         *time.Time `gorm:"column:ippsu_date"`
	AssigneeID        *string
	FiledByAgencyID   *string
	Checklist         string // jsonb
	AccessCodeHash    string
	NextDueAt         *time.Time
	StateEnteredAt    time.Time
	CreatedAt         time.Time
	UpdatedAt         time.Time
	// Law is the appeals, the contract and the decision period's choice (domain.Law), jsonb.
	Law string
}

func (caseRow) TableName() string { return "cases" }

// applicantPublic is the part of the applicant stored in clear.
type applicantPublic struct {
	BirthDate       domain.Date `json:"birth_date"`
	Gender          string      `json:"gender"`
	DisabilityGroup string      `json:"disability_group"`
}

// applicantPersonal is the part sealed at rest.
type applicantPersonal struct {
	SNILS    string `json:"snils"`
	Passport string `json:"passport,omitempty"`
	Address  string `json:"address"`
	// Phone and Contacts: the applicant's phone and how to reach each contact (casephones.go).
	Phone    string          `json:"phone,omitempty"`
	Contacts []contactSecret `json:"contacts,omitempty"`
}

type historyRow struct {
	CaseID    string
	Version   int
	Event     string
	FromState string
	ToState   string
	ActorID   string
	ActorName string
	ActorRole string
	Comment   string
	Payload   string // jsonb
	At        time.Time
	PrevHash  string
	Hash      string
}

func (historyRow) TableName() string { return "case_history" }

// deadlineRow is a deadline as the generator copies it and as a command's statement reads it
// (JSON; the id comes from the table, the case from the statement).
type deadlineRow struct {
	ID       int64      `gorm:"primaryKey;->" json:"-"`
	CaseID   string     `json:"-"`
	Kind     string     `json:"kind"`
	Ref      string     `json:"ref"`
	OpenedAt time.Time  `json:"opened_at"`
	DueOn    time.Time  `json:"due_on"` // midnight UTC of the day: the date column takes the day
	DueAt    time.Time  `json:"due_at"`
	State    string     `json:"state"`
	ClosedAt *time.Time `json:"closed_at"`
	RemindAt *time.Time `json:"remind_at"`
}

func (deadlineRow) TableName() string { return "deadlines" }

func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func dateTime(d *domain.Date) *time.Time {
	if d == nil {
		return nil
	}
	t := d.Time()
	return &t
}

func timeDate(t *time.Time) *domain.Date {
	if t == nil {
		return nil
	}
	d := domain.NewDate(t.Year(), t.Month(), t.Day())
	return &d
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("marshal %T: %v", v, err))
	}
	return string(b)
}

func (s *Cases) toRow(c *domain.Case) caseRow {
	r := narrowRow(c)
	s.wideToRow(c, &r)
	return r
}

// narrowRow is the case's row without its wide columns (see wideSnapshot).
func narrowRow(c *domain.Case) caseRow {
	r := caseRow{
		ID: c.ID, Number: c.Number, State: string(c.State), Version: c.Version, Channel: string(c.Channel),
		FacilityType: string(c.FacilityType), ApplicantName: c.Applicant.FullName, LegalCapacity: string(c.Applicant.LegalCapacity),
		HealthOrgID: nullable(c.HealthOrgID), GuardianshipID: nullable(c.GuardianshipID), FacilityID: nullable(c.FacilityID),
		VoucherFacilityID: nullable(c.VoucherFacilityID), VoucherValidUntil: dateTime(c.VoucherValidUntil),
		LeaveReturnBy: dateTime(c.LeaveReturnBy), AssigneeID: nullable(c.AssigneeID), FiledByAgencyID: nullable(c.FiledByAgencyID),
		AccessCodeHash: c.AccessCodeHash, NextDueAt: domain.NextDue(c.Deadlines),
		StateEnteredAt: c.StateEnteredAt, CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt,
		Law: mustJSON(domain.LawOf(c)),
	}
	if c.IPPSU != nil {
		r.IPPSUNumber = &c.IPPSU.Number
		r.IPPSUDate = dateTime(&c.IPPSU.Date)
	}
	return r
}

// wideToRow fills the row's wide columns: the applicant's public details, the sealed personal
// data, the contacts and the checklist.
func (s *Cases) wideToRow(c *domain.Case, r *caseRow) {
	contacts, secrets := sealContacts(c.Contacts)
	personal, _ := json.Marshal(applicantPersonal{SNILS: c.Applicant.SNILS, Passport: c.Applicant.Passport, Address: c.Applicant.Address,
		Phone: c.Applicant.Phone, Contacts: secrets})
	r.Applicant = mustJSON(applicantPublic{c.Applicant.BirthDate, c.Applicant.Gender, c.Applicant.DisabilityGroup})
	r.Personal = s.sealer.Seal(personal)
	r.Contacts = mustJSON(contacts)
	r.Checklist = string(domain.AppendJSONChecklist(make([]byte, 0, 2048), c.Checklist))
}

// wideSnapshot is what a case's wide columns hold, taken before a command, so that a command
// that changes none of them does not write them again (updateCaseSQL).
type wideSnapshot struct {
	applicant domain.Applicant
	contacts  []domain.Contact
	checklist domain.Checklist
	codeHash  string
}

// snapshotWide copies the wide columns of a case a command is about to change.
func snapshotWide(c *domain.Case) wideSnapshot {
	return wideSnapshot{applicant: c.Applicant, contacts: slices.Clone(c.Contacts), checklist: c.Checklist.Clone(),
		codeHash: c.AccessCodeHash}
}

// wideOf is the wide columns of a case nobody changes (a cached one): shared, not copied.
func wideOf(c *domain.Case) wideSnapshot {
	return wideSnapshot{applicant: c.Applicant, contacts: c.Contacts, checklist: c.Checklist, codeHash: c.AccessCodeHash}
}

// same reports whether the case's wide columns would be written as they were.
func (w *wideSnapshot) same(c *domain.Case) bool {
	if c.Applicant != w.applicant || !slices.Equal(c.Contacts, w.contacts) || len(c.Checklist) != len(w.checklist) ||
		c.AccessCodeHash != w.codeHash {
		return false
	}
	for i, d := range c.Checklist {
		was := w.checklist[i]
		if !sameDate(d.IssuedOn, was.IssuedOn) || !sameDate(d.ValidUntil, was.ValidUntil) {
			return false
		}
		d.IssuedOn, d.ValidUntil, was.IssuedOn, was.ValidUntil = nil, nil, nil, nil
		if d != was {
			return false
		}
	}
	return true
}

func sameDate(a, b *domain.Date) bool {
	return (a == nil) == (b == nil) && (a == nil || *a == *b)
}

func (s *Cases) fromRow(r caseRow) (*domain.Case, error) {
	c := &domain.Case{
		ID: r.ID, Number: r.Number, State: domain.State(r.State), Version: r.Version, Channel: domain.Channel(r.Channel),
		FacilityType: domain.FacilityType(r.FacilityType), HealthOrgID: deref(r.HealthOrgID), GuardianshipID: deref(r.GuardianshipID),
		FacilityID: deref(r.FacilityID), VoucherFacilityID: deref(r.VoucherFacilityID), VoucherValidUntil: timeDate(r.VoucherValidUntil),
		LeaveReturnBy: timeDate(r.LeaveReturnBy), AssigneeID: deref(r.AssigneeID), FiledByAgencyID: deref(r.FiledByAgencyID),
		AccessCodeHash: r.AccessCodeHash,
		StateEnteredAt: r.StateEnteredAt, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt,
	}
	var pub applicantPublic
	if err := json.Unmarshal([]byte(r.Applicant), &pub); err != nil {
		return nil, fmt.Errorf("case %s applicant: %w", r.ID, err)
	}
	plain, err := s.sealer.Open(r.Personal)
	if err != nil {
		return nil, fmt.Errorf("case %s personal data: %w", r.ID, err)
	}
	var per applicantPersonal
	if err := json.Unmarshal(plain, &per); err != nil {
		return nil, fmt.Errorf("case %s personal data: %w", r.ID, err)
	}
	c.Applicant = domain.Applicant{FullName: r.ApplicantName, BirthDate: pub.BirthDate, Gender: pub.Gender, SNILS: per.SNILS,
		Passport: per.Passport, Address: per.Address, Phone: per.Phone, LegalCapacity: domain.LegalCapacity(r.LegalCapacity), DisabilityGroup: pub.DisabilityGroup}
	if err := json.Unmarshal([]byte(r.Contacts), &c.Contacts); err != nil {
		return nil, fmt.Errorf("case %s contacts: %w", r.ID, err)
	}
	openContacts(c.Contacts, per.Contacts)
	// The checklist is the largest part of the row: DecodeChecklist gives what json.Unmarshal
	// gives at a fraction of its cost.
	cl, err := DecodeChecklist([]byte(r.Checklist))
	if err != nil {
		return nil, fmt.Errorf("case %s checklist: %w", r.ID, err)
	}
	c.Checklist = cl
	if r.IPPSUNumber != nil && r.IPPSUDate != nil {
		c.IPPSU = &domain.IPPSU{Number: *r.IPPSUNumber, Date: *timeDate(r.IPPSUDate)}
	}
	if r.Law != "" && r.Law != "{}" {
		var law domain.Law
		if err := json.Unmarshal([]byte(r.Law), &law); err != nil {
			return nil, fmt.Errorf("case %s law: %w", r.ID, err)
		}
		law.SetOn(c)
	}
	return c, nil
}

func deadlineToRow(caseID string, d domain.Deadline) deadlineRow {
	return deadlineRow{CaseID: caseID, Kind: string(d.Kind), Ref: d.Ref, OpenedAt: d.OpenedAt, DueOn: d.DueOn.Time(),
		DueAt: d.DueAt, State: string(d.State), ClosedAt: d.ClosedAt, RemindAt: domain.FirstReminder(d)}
}

func historyToRow(caseID string, h domain.HistoryEntry) historyRow {
	payload := h.Payload
	if payload == nil {
		payload = map[string]any{}
	}
	// Postgres keeps microseconds: the hash is taken over the time as it will be read back.
	return historyRow{CaseID: caseID, Version: h.Version, Event: h.Event, FromState: string(h.From), ToState: string(h.To),
		ActorID: h.ActorID, ActorName: h.ActorName, ActorRole: h.ActorRole, Comment: h.Comment, Payload: mustJSON(payload),
		At: h.At.UTC().Truncate(time.Microsecond)}
}

type summaryRow struct {
	ID                string
	HealthOrgID       *string
	GuardianshipID    *string
	FiledByAgencyID   *string
	FacilityID        *string
	VoucherFacilityID *string

	Seq            int64
	Number         string
	State          string
	Version        int
	FacilityType   string
	Channel        string
	ApplicantName  string
	AssigneeID     *string
	StateEnteredAt time.Time
	CreatedAt      time.Time
	NextDueAt      *time.Time
}
