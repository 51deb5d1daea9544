package domain

import (
	"sort"
	"strings"
	"unicode/utf8"
)

// DocType names a document of the checklist.
type DocType string

// Document types (../shared/domain.md "Documents").
const (
	DocApplication             DocType = "application"
	DocPassport                DocType = "passport"
	DocSNILS                   DocType = "snils"
	DocMedicalCard             DocType = "medical_card"
	DocNoContraindications     DocType = "no_contraindications"
	DocIncomeCertificate       DocType = "income_certificate"
	DocResidenceProof          DocType = "residence_proof"
	DocRepresentativeAuthority DocType = "representative_authority"
	DocDisabilityCertificate   DocType = "disability_certificate"
	DocRehabilitationProgramme DocType = "rehabilitation_programme"
	DocPsychiatricCommission   DocType = "psychiatric_commission"
	DocIncapacityRuling        DocType = "incapacity_ruling"
	DocGuardianshipDecision    DocType = "guardianship_decision"
)

// DocTypeDef describes a document type.
type DocTypeDef struct {
	Type DocType `json:"type"`
	// Label is the Russian name shown to relatives.
	Label string `json:"label"`
	// Supplier is who issues it: applicant, health, guardianship, court, social_protection.
	Supplier string `json:"supplier"`
	// Medical documents are medical secrecy and expire.
	Medical bool `json:"medical"`
	// Gender is the grammatical gender of Label's head noun (Masculine, Feminine, Neuter), so
	// that the words about it agree: «справка не представлена», «паспорт не представлен».
	Gender Gender `json:"gender"`
}

// DocTypes lists every document type in checklist order.
var DocTypes = []DocTypeDef{
	{DocApplication, "Заявление", "applicant", false, Neuter},
	{DocPassport, "Паспорт", "applicant", false, Masculine},
	{DocSNILS, "СНИЛС", "applicant", false, Masculine},
	{DocMedicalCard, "Медицинская карта с заключением врачебной комиссии", "health", true, Feminine},
	{DocNoContraindications, "Заключение об отсутствии противопоказаний", "health", true, Neuter},
	{DocIncomeCertificate, "Справка о доходах", "social_protection", false, Feminine},
	{DocResidenceProof, "Документ о месте жительства", "applicant", false, Masculine},
	{DocRepresentativeAuthority, "Документ о полномочиях представителя", "applicant", false, Masculine},
	{DocDisabilityCertificate, "Справка МСЭ об инвалидности", "health", true, Feminine},
	{DocRehabilitationProgramme, "Индивидуальная программа реабилитации (ИПРА)", "health", true, Feminine},
	{DocPsychiatricCommission, "Заключение врачебной комиссии с участием психиатра", "health", true, Neuter},
	{DocIncapacityRuling, "Решение суда о признании недееспособным", "court", false, Neuter},
	{DocGuardianshipDecision, "Решение органа опеки", "guardianship", false, Neuter},
}

var docIndex = func() map[DocType]DocTypeDef {
	m := map[DocType]DocTypeDef{}
	for _, d := range DocTypes {
		m[d.Type] = d
	}
	return m
}()

// LookupDocType returns the definition of a document type.
func LookupDocType(t DocType) (DocTypeDef, bool) { d, ok := docIndex[t]; return d, ok }

// DocStatus is where a checklist item stands.
type DocStatus string

// Document statuses. Expired is derived: a received document past its valid-until date.
const (
	DocMissing   DocStatus = "missing"
	DocRequested DocStatus = "requested"
	DocReceived  DocStatus = "received"
	DocRejected  DocStatus = "rejected"
	DocExpired   DocStatus = "expired"
)

// DocStatuses lists every status; DocRecordable the ones a caller may record.
var (
	DocStatuses   = []DocStatus{DocMissing, DocRequested, DocReceived, DocRejected, DocExpired}
	DocRecordable = []DocStatus{DocRequested, DocReceived, DocRejected}
)

// Document is one item of a case's checklist.
type Document struct {
	Type       DocType   `json:"type"`
	Status     DocStatus `json:"status"`
	Required   bool      `json:"required"`
	Supplier   string    `json:"supplier"`
	IssuedOn   *Date     `json:"issued_on"`
	ValidUntil *Date     `json:"valid_until"`
	Note       string    `json:"note,omitempty"`
}

// StatusOn is the document's status on a given day: a received document past its valid-until
// date is expired.
func (d Document) StatusOn(day Date) DocStatus {
	if d.Status == DocReceived && d.ValidUntil != nil && d.ValidUntil.Before(day) {
		return DocExpired
	}
	return d.Status
}

// Checklist is the list of documents a case needs.
type Checklist []Document

// RequiredDocuments derives the mandatory document types from the case's facts.
func RequiredDocuments(c *Case) []DocType {
	out := []DocType{DocApplication, DocPassport, DocSNILS, DocMedicalCard, DocNoContraindications, DocIncomeCertificate, DocResidenceProof}
	if c.Represented() {
		out = append(out, DocRepresentativeAuthority)
	}
	if c.Applicant.DisabilityGroup != "" && c.Applicant.DisabilityGroup != "none" {
		out = append(out, DocDisabilityCertificate, DocRehabilitationProgramme)
	}
	if c.FacilityType == Psychoneurological {
		out = append(out, DocPsychiatricCommission)
	}
	if c.Applicant.LegalCapacity == Incapacitated {
		out = append(out, DocIncapacityRuling, DocGuardianshipDecision)
	}
	return out
}

// BuildChecklist (re)builds the checklist from the case's facts, keeping what was recorded for
// documents already on it. Documents no longer required stay, marked optional, so nothing
// recorded is lost.
func BuildChecklist(c *Case) Checklist {
	have := map[DocType]Document{}
	for _, d := range c.Checklist {
		have[d.Type] = d
	}
	var out Checklist
	for _, t := range RequiredDocuments(c) {
		d, ok := have[t]
		if !ok {
			d = Document{Type: t, Status: DocMissing, Supplier: docIndex[t].Supplier}
		}
		d.Required = true
		out = append(out, d)
		delete(have, t)
	}
	var rest []Document
	for _, d := range have {
		d.Required = false
		rest = append(rest, d)
	}
	sort.Slice(rest, func(i, j int) bool { return rest[i].Type < rest[j].Type })
	return append(out, rest...)
}

// Get returns the checklist item of a type.
func (cl Checklist) Get(t DocType) (Document, bool) {
	for _, d := range cl {
		if d.Type == t {
			return d, true
		}
	}
	return Document{}, false
}

func (cl *Checklist) put(d Document) {
	for i := range *cl {
		if (*cl)[i].Type == d.Type {
			(*cl)[i] = d
			return
		}
	}
	*cl = append(*cl, d)
}

// Blocking lists, one sentence each, the required documents that are not received and valid on
// the given day; only medical ones when medicalOnly.
func (cl Checklist) Blocking(day Date, medicalOnly bool) []Reason {
	var out []Reason
	for _, d := range cl {
		if !d.Required || (medicalOnly && !docIndex[d.Type].Medical) {
			continue
		}
		switch st := d.StatusOn(day); st {
		case DocReceived:
		case DocExpired:
			out = append(out, documentReason(d.Type, st, d.ValidUntil))
		default:
			out = append(out, documentReason(d.Type, st, nil))
		}
	}
	return out
}

// Missing lists the required documents not yet received and valid on the given day.
func (cl Checklist) Missing(day Date) []DocType {
	var out []DocType
	for _, d := range cl {
		if d.Required && d.StatusOn(day) != DocReceived {
			out = append(out, d.Type)
		}
	}
	return out
}

// DocumentUpdate is what a caller records about one document.
type DocumentUpdate struct {
	Status     DocStatus `json:"status"`
	IssuedOn   *Date     `json:"issued_on"`
	ValidUntil *Date     `json:"valid_until"`
	Note       string    `json:"note"`
}

// Validity says for how many months a document type stays valid after issue; types not listed
// do not expire. The defaults are an assumption (domain.md): 6 months for medical conclusions.
type Validity map[DocType]int

// DefaultValidity is used unless configuration says otherwise.
func DefaultValidity() Validity {
	return Validity{DocMedicalCard: 6, DocNoContraindications: 6, DocPsychiatricCommission: 6}
}

// ParseValidity reads "medical_card=6,no_contraindications=6" (months) over the defaults.
func ParseValidity(s string) (Validity, error) {
	v := DefaultValidity()
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		k, val, ok := strings.Cut(part, "=")
		if !ok {
			return nil, Invalid("DOCUMENT_VALIDITY_MONTHS", "%q is not type=months", part)
		}
		if _, known := docIndex[DocType(k)]; !known {
			return nil, Invalid("DOCUMENT_VALIDITY_MONTHS", "unknown document type %q", k)
		}
		n := 0
		for _, r := range val {
			if r < '0' || r > '9' {
				return nil, Invalid("DOCUMENT_VALIDITY_MONTHS", "%q is not a whole number of months", val)
			}
			// stop before a long run of digits overflows into the allowed range (found by fuzzing)
			if n = n*10 + int(r-'0'); n > 120 {
				break
			}
		}
		if n == 0 || n > 120 {
			return nil, Invalid("DOCUMENT_VALIDITY_MONTHS", "%s: months must be 1..120", k)
		}
		v[DocType(k)] = n
	}
	return v, nil
}

// validate checks a document update against the document type and today's date and fills the
// valid-until date from the validity period when the caller gave only the issue date.
func (u *DocumentUpdate) validate(t DocType, today Date, validity Validity) error {
	if err := oneOf("status", u.Status, DocRecordable); err != nil {
		return err
	}
	if utf8.RuneCountInString(u.Note) > 2000 {
		return Invalid("note", "is longer than 2000 characters")
	}
	if u.IssuedOn != nil && u.IssuedOn.After(today) {
		return Invalid("issued_on", "cannot be in the future")
	}
	if u.IssuedOn != nil && u.ValidUntil != nil && u.ValidUntil.Before(*u.IssuedOn) {
		return Invalid("valid_until", "is before issued_on")
	}
	months, expires := validity[t]
	if u.Status == DocReceived && expires {
		if u.IssuedOn == nil {
			return Invalid("issued_on", "is required for a received %s: it expires %d months after issue", t, months)
		}
		limit := u.IssuedOn.AddMonths(months)
		if u.ValidUntil == nil || u.ValidUntil.After(limit) {
			u.ValidUntil = &limit
		}
	}
	return nil
}
