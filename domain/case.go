package domain

import (
	"fmt"
	"net/mail"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Channel is how an application reached the center.
type Channel string

// Intake channels.
const (
	ChannelMFC        Channel = "mfc"
	ChannelHotline    Channel = "hotline"
	ChannelOnline     Channel = "online"
	ChannelPostOffice Channel = "post_office"
	ChannelOutreach   Channel = "outreach"
)

// Channels lists the intake channels.
var Channels = []Channel{ChannelMFC, ChannelHotline, ChannelOnline, ChannelPostOffice, ChannelOutreach}

// FacilityType is the kind of boarding house.
type FacilityType string

// Facility types.
const (
	ElderlyDisabled    FacilityType = "elderly_disabled"
	Psychoneurological FacilityType = "psychoneurological"
	Veterans           FacilityType = "veterans"
)

// FacilityTypes lists the facility types.
var FacilityTypes = []FacilityType{ElderlyDisabled, Psychoneurological, Veterans}

// LegalCapacity of the applicant.
type LegalCapacity string

// Legal capacity values.
const (
	Capable       LegalCapacity = "capable"
	Limited       LegalCapacity = "limited"
	Incapacitated LegalCapacity = "incapacitated"
)

// LegalCapacities lists the legal capacity values.
var LegalCapacities = []LegalCapacity{Capable, Limited, Incapacitated}

// DisabilityGroups lists the accepted disability groups ("none" for no disability).
var DisabilityGroups = []string{"none", "1", "2", "3"}

// NoticeChannels a relative may prefer.
var NoticeChannels = []string{"sms", "email", "none"}

// Applicant is the person who needs the place.
type Applicant struct {
	FullName  string `json:"full_name"`
	BirthDate Date   `json:"birth_date"`
	Gender    string `json:"gender"`
	SNILS     string `json:"snils"`
	Passport  string `json:"passport,omitempty"`
	Address   string `json:"address"`
	// Phone is the applicant's own phone, E.164 (ParsePhone); sealed at rest like SNILS.
	Phone           string        `json:"phone,omitempty"`
	LegalCapacity   LegalCapacity `json:"legal_capacity"`
	DisabilityGroup string        `json:"disability_group"`
}

// FirstName is the part of the name a notice by SMS may carry (Russian order: surname first).
func (a Applicant) FirstName() string {
	parts := strings.Fields(a.FullName)
	if len(parts) >= 2 {
		return parts[1]
	}
	if len(parts) == 1 {
		return parts[0]
	}
	return ""
}

// Contact is a relative or representative of the applicant.
type Contact struct {
	Name                string `json:"name"`
	Relation            string `json:"relation"`
	Phone               string `json:"phone,omitempty"`
	Email               string `json:"email,omitempty"`
	LegalRepresentative bool   `json:"legal_representative"`
	ConsentToNotices    bool   `json:"consent_to_notices"`
	// ConsentOn and ConsentSource: when and how the consent to notices was given (152-ФЗ);
	// set whenever ConsentToNotices is.
	ConsentOn     string `json:"consent_on,omitempty"`
	ConsentSource string `json:"consent_source,omitempty"`
	// ConsentWithdrawnOn: the day the consent was withdrawn, when it was.
	ConsentWithdrawnOn string `json:"consent_withdrawn_on,omitempty"`
	PreferredChannel   string `json:"preferred_channel"`
}

// IPPSU is the individual programme of social services.
type IPPSU struct {
	Number string `json:"number"`
	Date   Date   `json:"date"`
}

// Case is one application and, later, one residence.
type Case struct {
	ID           string       `json:"id"`
	Number       string       `json:"number"`
	State        State        `json:"state"`
	Version      int          `json:"version"`
	Channel      Channel      `json:"channel"`
	FacilityType FacilityType `json:"facility_type"`
	Applicant    Applicant    `json:"applicant"`
	Contacts     []Contact    `json:"contacts"`

	HealthOrgID    string `json:"health_org_id,omitempty"`
	GuardianshipID string `json:"guardianship_id,omitempty"`
	// FacilityID is the home the person lives in (set on admission).
	FacilityID string `json:"facility_id,omitempty"`
	// VoucherFacilityID is the home whose bed the current voucher reserves.
	VoucherFacilityID string `json:"voucher_facility_id,omitempty"`
	VoucherValidUntil *Date  `json:"voucher_valid_until,omitempty"`
	LeaveReturnBy     *Date  `json:"leave_return_by,omitempty"`
	IPPSU             *IPPSU `json:"ippsu,omitempty"`
	AssigneeID        string `json:"assignee_id,omitempty"`
	// FiledByAgencyID is the service center that filed the case, when one did.
	FiledByAgencyID string `json:"filed_by_agency_id,omitempty"`
	// DecisionWithIPPSU: the ИППСУ is issued with the decision, which may then take
	// Settings.ReviewDecisionWithIPPSUWD working days (a per-case choice).
	DecisionWithIPPSU bool `json:"decision_with_ippsu"`
	// Appeals against refusals, oldest first; Contract is the contract with the home the
	// current voucher is for (law.go).
	Appeals  []AppealRecord `json:"appeals,omitempty"`
	Contract *Contract      `json:"contract,omitempty"`

	Checklist Checklist  `json:"checklist"`
	Deadlines []Deadline `json:"deadlines"`

	StateEnteredAt time.Time `json:"state_entered_at"`
	CreatedAt      time.Time `json:"created_at"`
	UpdatedAt      time.Time `json:"updated_at"`

	// AccessCodeHash verifies the relatives' access code; the code itself is never stored.
	AccessCodeHash string `json:"-"`
	// WaitingPosition is the case's place on the waiting list for its facility type, when waiting
	// (computed by the store on read).
	WaitingPosition int `json:"waiting_position,omitempty"`
	// Bedridden: the person needs a bed for the bedridden (from the case's placement; read by
	// the command that needs it, not stored on the case row).
	Bedridden bool `json:"-"`
}

// Represented reports whether someone acts for the applicant.
func (c *Case) Represented() bool {
	for _, r := range c.Contacts {
		if r.LegalRepresentative {
			return true
		}
	}
	return c.Applicant.LegalCapacity != Capable
}

// BedNeed is what a section must offer the person: their sex, and whether they are bedridden
// (from the case's placement).
func (c *Case) BedNeed() BedNeed {
	sex := SexMale
	if c.Applicant.Gender == "female" {
		sex = SexFemale
	}
	return BedNeed{Sex: sex, Bedridden: c.Bedridden}
}

// InTransfer reports whether the person lives in one home while a move to another is under way.
func (c *Case) InTransfer() bool {
	return c.FacilityID != "" && (c.State == TransferPending || c.State == VoucherIssued)
}

// NewCase is what an intake operator or a service center supplies to register a case.
type NewCase struct {
	Channel        Channel      `json:"channel"`
	FacilityType   FacilityType `json:"facility_type"`
	Applicant      Applicant    `json:"applicant"`
	Contacts       []Contact    `json:"contacts"`
	HealthOrgID    string       `json:"health_org_id"`
	GuardianshipID string       `json:"guardianship_id"`
	AssigneeID     string       `json:"assignee_id"`
	// LeadID is the outreach lead the case is converted from (Hotline.ConvertLead); its first
	// history line names it.
	LeadID string `json:"-"`
}

var (
	phoneRe = regexp.MustCompile(`^\+?[0-9][0-9 ()-]{6,20}$`)
	uuidRe  = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
)

// IsUUID reports whether s looks like a UUID (ids are UUIDs everywhere).
func IsUUID(s string) bool { return uuidRe.MatchString(s) }

func oneOf[T ~string](field string, v T, allowed []T) error {
	for _, a := range allowed {
		if v == a {
			return nil
		}
	}
	names := make([]string, len(allowed))
	for i, a := range allowed {
		names[i] = string(a)
	}
	return Invalid(field, "must be one of %s, got %q", strings.Join(names, ", "), v)
}

func required(field, v string, max int) error {
	v = strings.TrimSpace(v)
	if v == "" {
		return Invalid(field, "is required")
	}
	if utf8.RuneCountInString(v) > max {
		return Invalid(field, "is longer than %d characters", max)
	}
	return nil
}

// Validate checks a new case and normalises it (SNILS to its canonical form). The first fault
// is returned, naming the field.
func (n *NewCase) Validate(today Date) error {
	if err := oneOf("channel", n.Channel, Channels); err != nil {
		return err
	}
	if err := oneOf("facility_type", n.FacilityType, FacilityTypes); err != nil {
		return err
	}
	a := &n.Applicant
	if err := required("applicant.full_name", a.FullName, 200); err != nil {
		return err
	}
	if a.BirthDate.IsZero() {
		return Invalid("applicant.birth_date", "is required")
	}
	if !a.BirthDate.Before(today) || a.BirthDate.Year() < 1900 {
		return Invalid("applicant.birth_date", "must be a past date after 1900")
	}
	if err := oneOf("applicant.gender", a.Gender, []string{"female", "male"}); err != nil {
		return err
	}
	snils, err := NormalizeSNILS(a.SNILS)
	if err != nil {
		return err
	}
	a.SNILS = snils
	if err := required("applicant.address", a.Address, 500); err != nil {
		return err
	}
	if err := normalisePhone("applicant.phone", &a.Phone, false); err != nil {
		return err
	}
	if utf8.RuneCountInString(a.Passport) > 100 {
		return Invalid("applicant.passport", "is longer than 100 characters")
	}
	if err := oneOf("applicant.legal_capacity", a.LegalCapacity, LegalCapacities); err != nil {
		return err
	}
	if a.DisabilityGroup == "" {
		a.DisabilityGroup = "none"
	}
	if err := oneOf("applicant.disability_group", a.DisabilityGroup, DisabilityGroups); err != nil {
		return err
	}
	if len(n.Contacts) > 20 {
		return Invalid("contacts", "at most 20 contacts")
	}
	for i := range n.Contacts {
		field := fmt.Sprintf("contacts.%d", i)
		ct := &n.Contacts[i]
		if err := ct.validate(field); err != nil {
			return err
		}
		// A consent given with the application is recorded as such, on the day it is filed.
		if ct.ConsentToNotices && ct.ConsentSource == "" {
			ct.ConsentSource = "application"
		}
		if err := consentFor(field, ct, nil, today); err != nil {
			return err
		}
	}
	if a.LegalCapacity == Incapacitated && n.GuardianshipID == "" {
		return Invalid("guardianship_id", "is required when the applicant is legally incapacitated")
	}
	for field, id := range map[string]string{"health_org_id": n.HealthOrgID, "guardianship_id": n.GuardianshipID, "assignee_id": n.AssigneeID} {
		if id != "" && !IsUUID(id) {
			return Invalid(field, "must be a UUID")
		}
	}
	return nil
}

// maxEmail is the longest e-mail address (RFC 5321's path limit less its brackets); maxPhone
// the longest phone as typed.
const (
	maxEmail = 254
	maxPhone = 32
)

// checkEmail refuses, naming the field, an e-mail address that is too long or not one; empty is
// allowed. It is the one e-mail check (contacts, users).
func checkEmail(field, email string) error {
	if email == "" {
		return nil
	}
	if len(email) > maxEmail {
		return Invalid(field, "is longer than %d characters", maxEmail)
	}
	if _, err := mail.ParseAddress(email); err != nil || !emailRe.MatchString(email) {
		return Invalid(field, "is not an e-mail address")
	}
	return nil
}

// checkPhone refuses, naming the field, a phone that is too long or not a phone; empty is
// allowed. It is the free-form phone check of contacts and users (ParsePhone normalises).
func checkPhone(field, phone string) error {
	if phone == "" {
		return nil
	}
	if len(phone) > maxPhone {
		return Invalid(field, "is longer than %d characters", maxPhone)
	}
	if !phoneRe.MatchString(phone) {
		return Invalid(field, "is not a phone number")
	}
	return nil
}

func (r *Contact) validate(field string) error {
	if err := required(field+".name", r.Name, 200); err != nil {
		return err
	}
	if err := required(field+".relation", r.Relation, 100); err != nil {
		return err
	}
	// Phones are kept as E.164 (ParsePhone): notices, the search and the blind index read them so.
	if len(r.Phone) > maxPhone {
		return Invalid(field+".phone", "is longer than %d characters", maxPhone)
	}
	if err := normalisePhone(field+".phone", &r.Phone, false); err != nil {
		return err
	}
	if err := checkEmail(field+".email", r.Email); err != nil {
		return err
	}
	if r.PreferredChannel == "" {
		r.PreferredChannel = "sms"
		if r.Phone == "" {
			r.PreferredChannel = "email"
		}
	}
	if err := oneOf(field+".preferred_channel", r.PreferredChannel, NoticeChannels); err != nil {
		return err
	}
	if r.PreferredChannel == "sms" && r.Phone == "" {
		return Invalid(field+".phone", "is required when the preferred channel is sms")
	}
	if r.PreferredChannel == "email" && r.Email == "" {
		return Invalid(field+".email", "is required when the preferred channel is email")
	}
	return nil
}

var snilsDigits = regexp.MustCompile(`^\d{3}-?\d{3}-?\d{3}[ -]?\d{2}$`)

// NormalizeSNILS validates a SNILS (insurance number) with its checksum and returns it as
// "XXX-XXX-XXX YY".
func NormalizeSNILS(s string) (string, error) {
	s = strings.TrimSpace(s)
	if !snilsDigits.MatchString(s) {
		return "", Invalid("applicant.snils", "must be 11 digits, as XXX-XXX-XXX YY")
	}
	var d []int
	for _, r := range s {
		if r >= '0' && r <= '9' {
			d = append(d, int(r-'0'))
		}
	}
	number := 0
	for i := 0; i < 9; i++ {
		number = number*10 + d[i]
	}
	check := d[9]*10 + d[10]
	// Numbers up to 001-001-998 were issued before checksums existed.
	if want := snilsChecksum(number); number > 1001998 && want != check {
		return "", Invalid("applicant.snils", "checksum does not match (expected %02d)", want)
	}
	return fmt.Sprintf("%d%d%d-%d%d%d-%d%d%d %d%d", d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7], d[8], d[9], d[10]), nil
}

// snilsChecksum is the control number of a 9-digit SNILS number.
func snilsChecksum(number int) int {
	sum := 0
	for i := 8; i >= 0; i-- {
		sum += (number % 10) * (9 - i)
		number /= 10
	}
	if sum >= 100 {
		sum %= 101
		if sum == 100 {
			sum = 0
		}
	}
	return sum
}

// MakeSNILS formats a 9-digit number (0..999,999,999) as a SNILS with its control number; for
// demo and generated data.
func MakeSNILS(number int) string {
	d := fmt.Sprintf("%09d", number%1000000000)
	return fmt.Sprintf("%s-%s-%s %02d", d[0:3], d[3:6], d[6:9], snilsChecksum(number%1000000000))
}

// MaskSNILS hides all but the last two digits of the control number, for lists.
func MaskSNILS(s string) string {
	if len(s) < 2 {
		return ""
	}
	return "***-***-*** " + s[len(s)-2:]
}

// A case's number is KC-YYYY-NNNNNN: the year of registration (Moscow) and the case's place in
// that year. This is its one definition; a relative may type it in lower case (the status
// lookup upper-cases it first).
const caseNumberPrefix = "KC-"

// CaseNumber is the number of the seq-th case registered in year.
func CaseNumber(year, seq int) string { return fmt.Sprintf("%s%d-%06d", caseNumberPrefix, year, seq) }

// ValidCaseNumber reports whether v is a case number, ^KC-[0-9]{4}-[0-9]{6}$: by hand, on the
// busiest public path.
func ValidCaseNumber(v string) bool {
	if len(v) != 14 || v[:3] != caseNumberPrefix || v[7] != '-' {
		return false
	}
	for i := 3; i < len(v); i++ {
		if c := v[i]; i != 7 && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}

// LooksLikeCaseNumber reports whether a search is for a case number rather than a name: it
// starts like one, in either case.
func LooksLikeCaseNumber(q string) bool {
	return len(q) >= len(caseNumberPrefix) && strings.EqualFold(q[:len(caseNumberPrefix)], caseNumberPrefix)
}

// Clone copies a case deeply: nothing of the copy is shared with the original
// (TestCloneCaseSharesNothing), so a command may decide on the copy of a case kept elsewhere.
func (c *Case) Clone() *Case {
	out := *c
	out.Contacts = slices.Clone(c.Contacts)
	out.VoucherValidUntil = clonePtr(c.VoucherValidUntil)
	out.LeaveReturnBy = clonePtr(c.LeaveReturnBy)
	out.IPPSU = clonePtr(c.IPPSU)
	out.Appeals = cloneAppeals(c.Appeals)
	out.Contract = clonePtr(c.Contract)
	out.Checklist = c.Checklist.Clone()
	out.Deadlines = slices.Clone(c.Deadlines)
	for i := range out.Deadlines {
		out.Deadlines[i].ClosedAt = clonePtr(out.Deadlines[i].ClosedAt)
	}
	return &out
}

// Clone copies a checklist with its documents' dates.
func (cl Checklist) Clone() Checklist {
	out := slices.Clone(cl)
	for i := range out {
		out[i].IssuedOn = clonePtr(out[i].IssuedOn)
		out[i].ValidUntil = clonePtr(out[i].ValidUntil)
	}
	return out
}

func clonePtr[T any](p *T) *T {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}
