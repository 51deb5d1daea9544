package domain

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Happening names something that happened to a case that someone must hear of.
type Happening string

// The happenings (../shared/domain.md "Who is told what").
const (
	HappeningRegistered         Happening = "case_registered"
	HappeningAssigned           Happening = "case_assigned"
	HappeningDocumentsRequested Happening = "documents_requested"
	HappeningDocumentsMissing   Happening = "documents_missing"
	HappeningDocumentsExpiring  Happening = "documents_expiring"
	HappeningNeedRecognized     Happening = "need_recognized"
	HappeningNeedRefused        Happening = "need_refused"
	HappeningAppealFiled        Happening = "appeal_filed"
	HappeningVoucherIssued      Happening = "voucher_issued"
	HappeningVoucherCancelled   Happening = "voucher_cancelled"
	HappeningVoucherExpiring    Happening = "voucher_expiring"
	HappeningAdmitted           Happening = "admitted"
	HappeningTransferRequested  Happening = "transfer_requested"
	HappeningDischarged         Happening = "discharged"
	HappeningDied               Happening = "died"
	HappeningHospitalized       Happening = "hospitalized"
	HappeningHospitalStayEnded  Happening = "hospital_stay_ended"
	HappeningLeaveStarted       Happening = "leave_started"
	HappeningLeaveEnded         Happening = "leave_ended"
	HappeningWithdrawn          Happening = "withdrawn"
	HappeningDeadlineAtRisk     Happening = "deadline_at_risk"
	HappeningDeadlineMissed     Happening = "deadline_missed"
	// HappeningOfferProposed: a freed bed is offered to a waiting case (issue 17).
	HappeningOfferProposed Happening = "offer_proposed"
	// HappeningOfferExpired: an offer nobody answered in time (escalates like a missed deadline).
	HappeningOfferExpired Happening = "offer_expired"
	// HappeningBedsReportStale: a home has not reported its beds for BED_REPORT_MAX_DAYS; its
	// agency is reminded (stalehome.go).
	HappeningBedsReportStale Happening = "beds_report_stale"
)

// Audiences: who a notice is for.
const (
	AudienceRelative       = "relative"
	AudienceRepresentative = "representative"
	AudienceGuardianship   = "guardianship"
	AudienceHealth         = "health"
	AudienceFacility       = "facility"
	AudienceSpecialist     = "specialist"
	AudienceSupervisor     = "supervisor"
)

// Audiences lists every audience.
var Audiences = []string{AudienceRelative, AudienceRepresentative, AudienceGuardianship, AudienceHealth,
	AudienceFacility, AudienceSpecialist, AudienceSupervisor}

// Notice channels.
const (
	NoticeSMS     = "sms"
	NoticeEmail   = "email"
	NoticeWebhook = "webhook"
)

// NoticeStatus is where a notice's delivery stands.
type NoticeStatus string

// Notice statuses: pending until the first attempt, sending while a worker holds it, failed
// between attempts, delivered, or dead after the last attempt failed.
const (
	NoticePending   NoticeStatus = "pending"
	NoticeSending   NoticeStatus = "sending"
	NoticeDelivered NoticeStatus = "delivered"
	NoticeFailed    NoticeStatus = "failed"
	NoticeDead      NoticeStatus = "dead"
	// NoticeCancelled: never sent, because its recipient withdrew the consent to notices (or
	// was removed from the case) before it went.
	NoticeCancelled NoticeStatus = "cancelled"
)

// NoticeStatuses lists every status.
var NoticeStatuses = []NoticeStatus{NoticePending, NoticeSending, NoticeDelivered, NoticeFailed, NoticeDead, NoticeCancelled}

// Notice is one message to one recipient, written to the outbox in the transaction of the
// command that caused it and delivered later by the worker. The fields after NotBefore are its
// delivery log, kept by the store.
type Notice struct {
	ID string `json:"id"`
	// CaseID is the case the notice is about; "" for a notice about a subject without a case
	// (SubjectKind, SubjectID: a call-back promised to a caller with no case, a lead).
	CaseID      string    `json:"case_id,omitempty"`
	SubjectKind string    `json:"subject_kind,omitempty"`
	SubjectID   string    `json:"subject_id,omitempty"`
	Happening   Happening `json:"happening"`
	// Audience: relative, representative, guardianship, health, facility, specialist, supervisor.
	Audience string `json:"audience"`
	// Channel: sms, email or webhook.
	Channel string `json:"channel"`
	// Recipient is a phone number, an e-mail address, an agency id or a user id, by channel.
	Recipient string `json:"recipient"`
	// Template names the text template (happening.audience.channel).
	Template string         `json:"template"`
	Data     map[string]any `json:"data,omitempty"`
	// IdempotencyKey is the same for every attempt to deliver this notice.
	IdempotencyKey string    `json:"idempotency_key"`
	NotBefore      time.Time `json:"not_before"`

	Status        NoticeStatus `json:"status"`
	Attempts      int          `json:"attempts"`
	ManualRetries int          `json:"manual_retries"`
	LastError     string       `json:"last_error,omitempty"`
	// LastErrorText is LastError in Russian, for the console (DeliveryProblem).
	LastErrorText string     `json:"last_error_text,omitempty"`
	NextAttemptAt *time.Time `json:"next_attempt_at,omitempty"`
	CreatedAt     time.Time  `json:"created_at"`
	DeliveredAt   *time.Time `json:"delivered_at,omitempty"`
}

// Subject kinds: what a deadline or notice without a case is about.
const (
	// SubjectContact is a logged contact (a call-back promised to a caller with no case).
	SubjectContact = "contact"
	// SubjectLead is an outreach lead (one nobody has triaged in time).
	SubjectLead = "lead"
	// SubjectFacility is a home (one whose beds report went stale).
	SubjectFacility = "facility"
)

// Subject is what a deadline without a case watches, as its reminders name it: its kind, its
// id, and a name for people (the caller's or the surveyed person's).
type Subject struct {
	Kind string
	ID   string
	Name string
}

// NoticeStore keeps the notices' delivery log.
type NoticeStore interface {
	// ForCase lists a case's notices, newest first (an empty list for a case with none).
	ForCase(ctx context.Context, caseID string) ([]Notice, error)
	// Retry makes a failed or dead notice due again at now with a fresh round of attempts;
	// ENOTFOUND, ECONFLICT when it is delivered or being delivered.
	Retry(ctx context.Context, id string, now time.Time) (*Notice, error)
}

// Notices lists a case's notices with their delivery log; ENOTFOUND when there is no case.
func (s *Service) Notices(ctx context.Context, caseID string) ([]Notice, error) {
	if _, err := s.Get(ctx, caseID); err != nil {
		return nil, err
	}
	ns, err := s.NoticeLog.ForCase(ctx, caseID)
	for i := range ns {
		ns[i].LastErrorText = DeliveryProblem(ns[i].LastError)
	}
	return ns, err
}

// RetryNotice sends a failed or dead notice again, with its own idempotency key, so a receiver
// that did get an earlier attempt can drop the repeat.
func (s *Service) RetryNotice(ctx context.Context, actor Actor, id string) (*Notice, error) {
	if !IsUUID(id) {
		return nil, Errorf(ENOTFOUND, "notice %s not found", id)
	}
	return s.NoticeLog.Retry(ctx, id, s.now())
}

// QuietHours is the nightly window, in Moscow time, in which no SMS is sent: such SMS wait
// until the window ends. From and To are hours 0..23; the window wraps midnight when From > To;
// From == To means there is none.
type QuietHours struct{ From, To int }

// DefaultQuietHours is 21:00–09:00.
var DefaultQuietHours = QuietHours{From: 21, To: 9}

// ParseQuietHours reads "21-9" or "21:00-09:00"; "" or "off" means none.
func ParseQuietHours(s string) (QuietHours, error) {
	s = strings.TrimSpace(s)
	if s == "" || s == "off" {
		return QuietHours{}, nil
	}
	a, b, ok := strings.Cut(s, "-")
	hour := func(v string) (int, bool) {
		v = strings.TrimSuffix(strings.TrimSpace(v), ":00")
		n, err := strconv.Atoi(v)
		return n, err == nil && n >= 0 && n <= 23
	}
	from, okFrom := hour(a)
	to, okTo := hour(b)
	if !ok || !okFrom || !okTo {
		return QuietHours{}, Invalid("SMS_QUIET_HOURS", "%q: want FROM-TO in whole hours, such as 21-09", s)
	}
	return QuietHours{From: from, To: to}, nil
}

// String writes the window as "21:00-09:00".
func (q QuietHours) String() string {
	if q.From == q.To {
		return "off"
	}
	return fmt.Sprintf("%02d:00-%02d:00", q.From, q.To)
}

// Until returns when the quiet window that holds t ends, and false when t is outside it.
func (q QuietHours) Until(t time.Time) (time.Time, bool) {
	if q.From == q.To {
		return t, false
	}
	m := t.In(Moscow)
	h := m.Hour()
	quiet := (q.From < q.To && h >= q.From && h < q.To) || (q.From > q.To && (h >= q.From || h < q.To))
	if !quiet {
		return t, false
	}
	end := time.Date(m.Year(), m.Month(), m.Day(), q.To, 0, 0, 0, Moscow)
	if !end.After(m) {
		end = end.AddDate(0, 0, 1)
	}
	return end, true
}
