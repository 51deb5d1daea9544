package api

import (
	"encoding/json"
	"strconv"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"carepath/domain"
)

// A case is the answer to every command and every read of a case, and encoding/json's
// reflection over its nested structs was a tenth of what a command cost carepath: the view is
// encoded by hand here, to the bytes encoding/json gives for caseView (TestAppendCaseView
// compares them over random cases).

// jsonBuffers hold the hand encoders' output between requests (writeAppended).
var jsonBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

// writeAppended answers with the JSON that appendTo appends to a pooled buffer: the one way
// the hand-encoded views (the case view, the status view) are written.
func writeAppended(c *gin.Context, status int, appendTo func([]byte) []byte) {
	bp := jsonBuffers.Get().(*[]byte)
	b := appendTo((*bp)[:0])
	c.Data(status, "application/json; charset=utf-8", b)
	*bp = b
	jsonBuffers.Put(bp)
}

// writeCaseView answers with the view, encoded by appendCaseView.
func writeCaseView(c *gin.Context, status int, v *caseView) {
	writeAppended(c, status, func(b []byte) []byte { return appendCaseView(b, v) })
}

func appendCaseView(b []byte, v *caseView) []byte {
	c := v.Case
	b = append(b, `{"id":`...)
	b = domain.AppendJSONString(b, c.ID)
	b = append(b, `,"number":`...)
	b = domain.AppendJSONString(b, c.Number)
	b = append(b, `,"state":`...)
	b = domain.AppendJSONString(b, string(c.State))
	b = append(b, `,"version":`...)
	b = strconv.AppendInt(b, int64(c.Version), 10)
	b = append(b, `,"channel":`...)
	b = domain.AppendJSONString(b, string(c.Channel))
	b = append(b, `,"facility_type":`...)
	b = domain.AppendJSONString(b, string(c.FacilityType))
	b = append(b, `,"applicant":`...)
	b = appendApplicant(b, &c.Applicant)
	b = append(b, `,"contacts":`...)
	b = domain.AppendJSONArray(b, c.Contacts, appendContact)
	b = appendOptString(b, `,"health_org_id":`, c.HealthOrgID)
	b = appendOptString(b, `,"guardianship_id":`, c.GuardianshipID)
	b = appendOptString(b, `,"facility_id":`, c.FacilityID)
	b = appendOptString(b, `,"voucher_facility_id":`, c.VoucherFacilityID)
	if c.VoucherValidUntil != nil {
		b = append(b, `,"voucher_valid_until":`...)
		b = c.VoucherValidUntil.AppendJSON(b)
	}
	if c.LeaveReturnBy != nil {
		b = append(b, `,"leave_return_by":`...)
		b = c.LeaveReturnBy.AppendJSON(b)
	}
	if c.IPPSU != nil {
		b = append(b, `,"ippsu":{"number":`...)
		b = domain.AppendJSONString(b, c.IPPSU.Number)
		b = append(b, `,"date":`...)
		b = c.IPPSU.Date.AppendJSON(b)
		b = append(b, '}')
	}
	b = appendOptString(b, `,"assignee_id":`, c.AssigneeID)
	b = appendOptString(b, `,"filed_by_agency_id":`, c.FiledByAgencyID)
	b = append(b, `,"decision_with_ippsu":`...)
	b = strconv.AppendBool(b, c.DecisionWithIPPSU)
	if len(c.Appeals) > 0 {
		b = append(b, `,"appeals":`...)
		b = appendMarshalled(b, c.Appeals)
	}
	if c.Contract != nil {
		b = append(b, `,"contract":`...)
		b = appendMarshalled(b, c.Contract)
	}
	b = append(b, `,"state_entered_at":`...)
	b = appendTime(b, c.StateEnteredAt)
	b = append(b, `,"created_at":`...)
	b = appendTime(b, c.CreatedAt)
	b = append(b, `,"updated_at":`...)
	b = appendTime(b, c.UpdatedAt)
	if c.WaitingPosition != 0 {
		b = append(b, `,"waiting_position":`...)
		b = strconv.AppendInt(b, int64(c.WaitingPosition), 10)
	}
	b = append(b, `,"state_label":`...)
	b = domain.AppendJSONString(b, v.StateLabel)
	b = append(b, `,"allowed_events":`...)
	b = appendStrings(b, v.AllowedEvents)
	b = append(b, `,"checklist":`...)
	b = domain.AppendJSONChecklist(b, v.Checklist)
	b = append(b, `,"deadlines":`...)
	b = domain.AppendJSONArray(b, v.Deadlines, appendDeadline)
	b = appendOptString(b, `,"access_code":`, v.AccessCode)
	if len(v.Warnings) > 0 {
		b = append(b, `,"warnings":`...)
		b = appendMarshalled(b, v.Warnings)
	}
	return append(b, '}')
}

func appendApplicant(b []byte, a *domain.Applicant) []byte {
	b = append(b, `{"full_name":`...)
	b = domain.AppendJSONString(b, a.FullName)
	b = append(b, `,"birth_date":`...)
	b = a.BirthDate.AppendJSON(b)
	b = append(b, `,"gender":`...)
	b = domain.AppendJSONString(b, a.Gender)
	b = append(b, `,"snils":`...)
	b = domain.AppendJSONString(b, a.SNILS)
	b = appendOptString(b, `,"passport":`, a.Passport)
	b = append(b, `,"address":`...)
	b = domain.AppendJSONString(b, a.Address)
	b = appendOptString(b, `,"phone":`, a.Phone)
	b = append(b, `,"legal_capacity":`...)
	b = domain.AppendJSONString(b, string(a.LegalCapacity))
	b = append(b, `,"disability_group":`...)
	b = domain.AppendJSONString(b, a.DisabilityGroup)
	return append(b, '}')
}

func appendContact(b []byte, c *domain.Contact) []byte {
	b = append(b, `{"name":`...)
	b = domain.AppendJSONString(b, c.Name)
	b = append(b, `,"relation":`...)
	b = domain.AppendJSONString(b, c.Relation)
	b = appendOptString(b, `,"phone":`, c.Phone)
	b = appendOptString(b, `,"email":`, c.Email)
	b = append(b, `,"legal_representative":`...)
	b = strconv.AppendBool(b, c.LegalRepresentative)
	b = append(b, `,"consent_to_notices":`...)
	b = strconv.AppendBool(b, c.ConsentToNotices)
	b = appendOptString(b, `,"consent_on":`, c.ConsentOn)
	b = appendOptString(b, `,"consent_source":`, c.ConsentSource)
	b = appendOptString(b, `,"consent_withdrawn_on":`, c.ConsentWithdrawnOn)
	b = append(b, `,"preferred_channel":`...)
	b = domain.AppendJSONString(b, c.PreferredChannel)
	return append(b, '}')
}

func appendDeadline(b []byte, d *domain.Deadline) []byte {
	b = append(b, `{"id":`...)
	b = strconv.AppendInt(b, d.ID, 10)
	b = append(b, `,"kind":`...)
	b = domain.AppendJSONString(b, string(d.Kind))
	b = appendOptString(b, `,"ref":`, d.Ref)
	b = append(b, `,"opened_at":`...)
	b = appendTime(b, d.OpenedAt)
	b = append(b, `,"due_on":`...)
	b = d.DueOn.AppendJSON(b)
	b = append(b, `,"due_at":`...)
	b = appendTime(b, d.DueAt)
	b = append(b, `,"state":`...)
	b = domain.AppendJSONString(b, string(d.State))
	if d.ClosedAt != nil {
		b = append(b, `,"closed_at":`...)
		b = appendTime(b, *d.ClosedAt)
	}
	return append(b, '}')
}

// appendOptString is a string field with omitempty: nothing for "".
func appendOptString(b []byte, key, s string) []byte {
	if s == "" {
		return b
	}
	b = append(b, key...)
	return domain.AppendJSONString(b, s)
}

func appendStrings(b []byte, ss []string) []byte {
	return domain.AppendJSONArray(b, ss, func(b []byte, s *string) []byte { return domain.AppendJSONString(b, *s) })
}

// appendTime is time.Time's JSON: RFC 3339 with the nanoseconds it has.
func appendTime(b []byte, t time.Time) []byte {
	b = append(b, '"')
	b = t.AppendFormat(b, time.RFC3339Nano)
	return append(b, '"')
}

// appendMarshalled appends v as encoding/json writes it (the rare parts of a case: appeals, the
// contract).
func appendMarshalled(b []byte, v any) []byte {
	out, err := json.Marshal(v)
	if err != nil {
		return append(b, "null"...)
	}
	return append(b, out...)
}
