package domain

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
)

// healthRule says when the health organisation hears of a happening.
type healthRule int

const (
	healthNever healthRule = iota
	healthAlways
	// healthWhenIssuer: only when one of the documents concerned is one it issues.
	healthWhenIssuer
)

// tell is one row of "who is told what" (../shared/domain.md): which audiences hear of a
// happening. Relatives are the consenting relatives and representatives, each by the channel
// they chose; the guardianship body hears only when the applicant is incapacitated or limited;
// the facility is every home the happening concerns; the specialist is the assigned one.
type tell struct {
	happening    Happening
	relatives    bool
	guardianship bool
	health       healthRule
	facility     bool
	specialist   bool
	supervisor   bool
	// orSupervisor: with no specialist assigned, the supervisors hear it instead.
	orSupervisor bool
}

// whoIsTold is the table, written once: the planner, the template check and the docs read it.
var whoIsTold = []tell{
	{happening: HappeningRegistered, relatives: true, guardianship: true, specialist: true},
	// Not in domain.md's table: a case handed to another specialist tells the new one.
	{happening: HappeningAssigned, specialist: true},
	{happening: HappeningDocumentsRequested, relatives: true, health: healthWhenIssuer},
	{happening: HappeningDocumentsMissing, relatives: true, health: healthWhenIssuer},
	{happening: HappeningDocumentsExpiring, relatives: true, health: healthWhenIssuer},
	{happening: HappeningNeedRecognized, relatives: true, guardianship: true},
	{happening: HappeningNeedRefused, relatives: true, guardianship: true},
	// Not in domain.md's table: an appeal against a refusal reopens the review; the family and,
	// for a person in its care, the guardianship body hear of it.
	{happening: HappeningAppealFiled, relatives: true, guardianship: true},
	{happening: HappeningVoucherIssued, relatives: true, guardianship: true, facility: true},
	{happening: HappeningVoucherCancelled, relatives: true, guardianship: true, facility: true},
	{happening: HappeningVoucherExpiring, relatives: true, guardianship: true, facility: true},
	{happening: HappeningAdmitted, relatives: true, guardianship: true, health: healthAlways, facility: true},
	{happening: HappeningTransferRequested, relatives: true, guardianship: true, health: healthAlways, facility: true},
	{happening: HappeningDischarged, relatives: true, guardianship: true, health: healthAlways, facility: true},
	{happening: HappeningDied, relatives: true, guardianship: true, health: healthAlways, facility: true},
	{happening: HappeningHospitalized, relatives: true, guardianship: true, health: healthAlways},
	{happening: HappeningHospitalStayEnded, relatives: true, guardianship: true, health: healthAlways},
	{happening: HappeningLeaveStarted, relatives: true, guardianship: true},
	{happening: HappeningLeaveEnded, relatives: true, guardianship: true},
	// Not in domain.md's table: a withdrawal ends the case, and a home whose reserved bed it
	// frees must hear of it as it would of a cancelled voucher.
	{happening: HappeningWithdrawn, relatives: true, guardianship: true, facility: true},
	{happening: HappeningDeadlineAtRisk, specialist: true, orSupervisor: true},
	{happening: HappeningDeadlineMissed, specialist: true, supervisor: true},
	// Not in domain.md's table: reaching a resident (domain/contactrequest.go) tells the home
	// and the relative who asked, who is not a contact of the case; planned there.
	{happening: HappeningContactRequested},
	{happening: HappeningContactRequestDone},
	// Not in domain.md's table: a bed offered to a waiting case (issue 17).
	{happening: HappeningOfferProposed, specialist: true, orSupervisor: true},
	{happening: HappeningOfferExpired, specialist: true, supervisor: true},
	// Not in domain.md's table: a home's stale beds report reminds its agency; planned in
	// stalehome.go (it is about a home, not a case).
	{happening: HappeningBedsReportStale},
}

// eventHappening maps each lifecycle event to what it makes known; "" is an event that tells
// no one (the center's own steps). Every event is listed, so a new one must choose.
var eventHappening = map[EventName]Happening{
	RequestDocuments:   HappeningDocumentsRequested,
	SubmitForReview:    "",
	ReturnForDocuments: HappeningDocumentsRequested,
	RecognizeNeed:      HappeningNeedRecognized,
	Reject:             HappeningNeedRefused,
	IssueVoucher:       HappeningVoucherIssued,
	CancelVoucher:      HappeningVoucherCancelled,
	Admit:              HappeningAdmitted,
	StartLeave:         HappeningLeaveStarted,
	EndLeave:           HappeningLeaveEnded,
	Hospitalize:        HappeningHospitalized,
	EndHospitalization: HappeningHospitalStayEnded,
	RequestTransfer:    HappeningTransferRequested,
	Discharge:          HappeningDischarged,
	RecordDeath:        HappeningDied,
	Withdraw:           HappeningWithdrawn,
	Appeal:             HappeningAppealFiled,
	ReviewIPPSU:        "",
	SignContract:       "",
}

// guardianshipWatched are the moves the guardianship body must hear of within
// Settings.GuardianshipNoticeWD working days; each such notice opens a guardianship_notice
// deadline that its delivery meets.
var guardianshipWatched = []Happening{HappeningAdmitted, HappeningTransferRequested, HappeningDischarged, HappeningDied}

// Happenings lists every happening, in table order.
func Happenings() []Happening {
	out := make([]Happening, len(whoIsTold))
	for i, t := range whoIsTold {
		out[i] = t.happening
	}
	return out
}

// happeningLabels name the happenings for people (the specialists' console).
var happeningLabels = map[Happening]string{
	HappeningRegistered:         "Заявление зарегистрировано",
	HappeningAssigned:           "Дело передано специалисту",
	HappeningDocumentsRequested: "Запрошены документы",
	HappeningDocumentsMissing:   "Не хватает документов",
	HappeningDocumentsExpiring:  "Истекает срок документа",
	HappeningNeedRecognized:     "Признан нуждающимся",
	HappeningNeedRefused:        "Отказ",
	HappeningAppealFiled:        "Подана жалоба на отказ",
	HappeningVoucherIssued:      "Выдана путёвка",
	HappeningVoucherCancelled:   "Путёвка аннулирована",
	HappeningVoucherExpiring:    "Истекает срок путёвки",
	HappeningAdmitted:           "Поступление в учреждение",
	HappeningTransferRequested:  "Начат перевод",
	HappeningDischarged:         "Выбытие",
	HappeningDied:               "Смерть",
	HappeningHospitalized:       "Госпитализация",
	HappeningHospitalStayEnded:  "Окончание госпитализации",
	HappeningLeaveStarted:       "Временное выбытие",
	HappeningLeaveEnded:         "Возвращение из временного выбытия",
	HappeningWithdrawn:          "Заявление отозвано",
	HappeningDeadlineAtRisk:     "Срок под угрозой",
	HappeningDeadlineMissed:     "Срок пропущен",
	HappeningContactRequested:   "Просьба о связи с проживающим",
	HappeningContactRequestDone: "Ответ на просьбу о связи с проживающим",
	HappeningOfferProposed:      "Предложено место",
	HappeningOfferExpired:       "Предложение места истекло без ответа",
	HappeningBedsReportStale:    "Нет свежего отчёта о местах",
}

// HappeningDef is a happening with its label.
type HappeningDef struct {
	Name  Happening `json:"name"`
	Label string    `json:"label"`
}

// HappeningDefs lists every happening with its label, in table order.
func HappeningDefs() []HappeningDef {
	out := make([]HappeningDef, len(whoIsTold))
	for i, t := range whoIsTold {
		out[i] = HappeningDef{t.happening, happeningLabels[t.happening]}
	}
	return out
}

// HappeningNames lists every happening's name, in table order.
func HappeningNames() []string {
	out := make([]string, len(whoIsTold))
	for i, t := range whoIsTold {
		out[i] = string(t.happening)
	}
	return out
}

// Mandatory reports whether the law requires the notice whatever its recipient chose to hear:
// the guardianship body must hear of every move of a person in its care.
func Mandatory(n Notice) bool {
	return n.Audience == AudienceGuardianship && slices.Contains(guardianshipWatched, n.Happening)
}

// NoticeRoute is one template the planner may ask for: happening, audience and channel.
type NoticeRoute struct {
	Happening Happening
	Audience  string
	Channel   string
}

// Template is the template's name, happening.audience.channel.
func (r NoticeRoute) Template() string {
	return string(r.Happening) + "." + r.Audience + "." + r.Channel
}

// NoticeRoutes lists every (happening, audience, channel) the table can produce, and those of
// contact requests, so a test can check that each has its template.
func NoticeRoutes() []NoticeRoute {
	out := append(ContactRequestRoutes(), staleHomeRoute)
	for _, t := range whoIsTold {
		add := func(aud string, channels ...string) {
			for _, ch := range channels {
				out = append(out, NoticeRoute{t.happening, aud, ch})
			}
		}
		if t.relatives {
			add(AudienceRelative, NoticeSMS, NoticeEmail)
			add(AudienceRepresentative, NoticeSMS, NoticeEmail)
		}
		if t.guardianship {
			add(AudienceGuardianship, NoticeWebhook)
		}
		if t.health != healthNever {
			add(AudienceHealth, NoticeWebhook)
		}
		if t.facility {
			add(AudienceFacility, NoticeWebhook)
		}
		if t.specialist {
			add(AudienceSpecialist, NoticeEmail)
		}
		if t.supervisor || t.orSupervisor {
			add(AudienceSupervisor, NoticeEmail)
		}
	}
	return out
}

func tellFor(h Happening) (tell, bool) {
	for _, t := range whoIsTold {
		if t.happening == h {
			return t, true
		}
	}
	return tell{}, false
}

// noticeFacts is what one happening's notices may draw on.
type noticeFacts struct {
	happening Happening
	c         *Case
	at        time.Time
	// source makes the idempotency keys unique per cause: the case version for a command, the
	// deadline and its stage for a reminder. A retried command or scan makes the same keys.
	source      string
	facilities  []Facility
	supervisors []string
	docs        []DocType
	reason      string
	deadline    *Deadline
	// subject: the notice is about this instead of a case (c is then an empty case that only
	// names the owner as its assignee).
	subject *Subject
	// details are dates and numbers a notice may carry (valid_until, return_by, ...).
	details map[string]string
}

type recipient struct {
	audience, channel, address string
}

// recipients resolves a row of the table against the case.
func (f *noticeFacts) recipients(t tell) []recipient {
	c := f.c
	var out []recipient
	if t.relatives {
		for _, ct := range c.Contacts {
			if !ct.ConsentToNotices {
				continue
			}
			aud := AudienceRelative
			if ct.LegalRepresentative {
				aud = AudienceRepresentative
			}
			switch {
			case ct.PreferredChannel == NoticeSMS && ct.Phone != "":
				out = append(out, recipient{aud, NoticeSMS, ct.Phone})
			case ct.PreferredChannel == NoticeEmail && ct.Email != "":
				out = append(out, recipient{aud, NoticeEmail, strings.ToLower(ct.Email)})
			}
		}
	}
	if t.guardianship && c.GuardianshipID != "" && c.Applicant.LegalCapacity != Capable {
		out = append(out, recipient{AudienceGuardianship, NoticeWebhook, c.GuardianshipID})
	}
	if c.HealthOrgID != "" && (t.health == healthAlways || t.health == healthWhenIssuer && f.healthIssues()) {
		out = append(out, recipient{AudienceHealth, NoticeWebhook, c.HealthOrgID})
	}
	if t.facility {
		for _, fc := range f.facilities {
			if fc.AgencyID != "" {
				out = append(out, recipient{AudienceFacility, NoticeWebhook, fc.AgencyID})
			}
		}
	}
	if t.specialist {
		if c.AssigneeID != "" {
			out = append(out, recipient{AudienceSpecialist, NoticeEmail, c.AssigneeID})
		} else if t.orSupervisor {
			for _, id := range f.supervisors {
				out = append(out, recipient{AudienceSupervisor, NoticeEmail, id})
			}
		}
	}
	if t.supervisor {
		for _, id := range f.supervisors {
			out = append(out, recipient{AudienceSupervisor, NoticeEmail, id})
		}
	}
	return out
}

func (f *noticeFacts) healthIssues() bool {
	for _, d := range f.docs {
		if docIndex[d].Supplier == "health" {
			return true
		}
	}
	return false
}

// planNotices writes the notices of one happening: one per recipient the table names, each with
// only the data its audience and channel may see. Duplicate recipients collapse into one.
func planNotices(s Settings, f noticeFacts) []Notice {
	t, ok := tellFor(f.happening)
	if !ok {
		return nil
	}
	var out []Notice
	seen := map[string]bool{}
	for _, r := range f.recipients(t) {
		route := NoticeRoute{f.happening, r.audience, r.channel}
		about := f.c.ID
		if f.subject != nil {
			about = f.subject.Kind + ":" + f.subject.ID
		}
		key := noticeKey(about, f.source, route.Template(), r.address)
		if seen[key] {
			continue
		}
		seen[key] = true
		notBefore := f.at
		if r.channel == NoticeSMS {
			if until, quiet := s.SMSQuietHours.Until(f.at); quiet {
				notBefore = until
			}
		}
		n := Notice{
			ID: uuid.NewSHA1(noticeNamespace, []byte(key)).String(), CaseID: f.c.ID, Happening: f.happening,
			Audience: r.audience, Channel: r.channel, Recipient: r.address, Template: route.Template(),
			Data: f.data(r), IdempotencyKey: key, NotBefore: notBefore, Status: NoticePending, CreatedAt: f.at,
		}
		if f.subject != nil {
			n.SubjectKind, n.SubjectID = f.subject.Kind, f.subject.ID
		}
		out = append(out, n)
	}
	return out
}

// noticeNamespace derives a notice's id from its idempotency key, so the id is as stable as
// the key (the queue's task id is the notice id).
var noticeNamespace = uuid.MustParse("4b8f3c52-6d1e-4f4a-9a57-2c1f0e6b9d10")

// noticeKey is deterministic in the cause and the recipient, and opaque: it is sent to
// receivers and must not carry a phone number or an address.
func noticeKey(parts ...string) string {
	sum := sha256.Sum256([]byte(strings.Join(parts, "\x1f")))
	return "cpn_" + hex.EncodeToString(sum[:20])
}

// data is what a notice may say, cut to its audience and channel (../shared/domain.md
// "Privacy"): an SMS carries only the first name and the case number; a relative who is not the
// legal representative learns stage, dates and missing documents but never medical document
// names, reasons, or which home; agencies and specialists get what their work needs.
func (f *noticeFacts) data(r recipient) map[string]any {
	c := f.c
	// The case number is filled in again at delivery: a new case gets it only when it is saved.
	d := map[string]any{"case_number": c.Number, "happening": string(f.happening)}
	if r.channel == NoticeSMS {
		d["first_name"] = c.Applicant.FirstName()
		return d
	}
	d["date"] = DateOf(f.at).String()
	if st, ok := LookupState(c.State); ok {
		d["state_label"] = st.Label
	}
	// labels names the documents concerned; unless all, only those that say nothing of health
	// or legal capacity.
	labels := func(all bool) []string {
		var out []string
		for _, t := range f.docs {
			if all || !revealing(t) {
				out = append(out, docIndex[t].Label)
			}
		}
		return out
	}
	details := func(allowed ...string) {
		for k, v := range f.details {
			if allowed == nil || slices.Contains(allowed, k) {
				d[k] = v
			}
		}
	}
	switch r.audience {
	case AudienceRelative:
		d["first_name"] = c.Applicant.FirstName()
		if len(f.docs) > 0 {
			d["documents"] = labels(false)
			d["other_documents"] = len(f.docs) - len(labels(false))
		}
		details("valid_until", "return_by", "due_on", "admitted_on")
	case AudienceRepresentative:
		d["full_name"] = c.Applicant.FullName
		if len(f.docs) > 0 {
			d["documents"] = labels(true)
		}
		if f.reason != "" {
			d["reason"] = f.reason
		}
		f.facilityNames(d)
		details()
	case AudienceGuardianship, AudienceHealth, AudienceFacility:
		d["case_id"] = c.ID
		d["full_name"] = c.Applicant.FullName
		d["birth_date"] = c.Applicant.BirthDate.String()
		d["state"] = string(c.State)
		f.facilityNames(d)
		switch r.audience {
		case AudienceGuardianship:
			if f.reason != "" {
				d["reason"] = f.reason
			}
			details()
		case AudienceHealth:
			var types []string
			for _, t := range f.docs {
				if docIndex[t].Supplier == "health" {
					types = append(types, string(t))
				}
			}
			if len(types) > 0 {
				d["document_types"] = types
				var ls []string
				for _, t := range types {
					ls = append(ls, docIndex[DocType(t)].Label)
				}
				d["documents"] = ls
			}
			details("admitted_on", "date_of_death", "valid_until")
		case AudienceFacility:
			details("valid_until", "admitted_on", "date_of_death", "previous_facility_id")
		}
	case AudienceSpecialist, AudienceSupervisor:
		if f.subject != nil {
			delete(d, "case_number")
			d["subject_kind"], d["subject_id"], d["subject_name"] = f.subject.Kind, f.subject.ID, f.subject.Name
		} else {
			d["case_id"] = c.ID
			d["full_name"] = c.Applicant.FullName
		}
		if f.deadline != nil {
			d["deadline_kind"] = string(f.deadline.Kind)
			d["deadline_label"] = DeadlineLabel(f.deadline.Kind)
			d["due_on"] = f.deadline.DueOn.String()
			if f.deadline.Ref != "" {
				d["deadline_ref"] = f.deadline.Ref
			}
		}
		details("facility_name", "due_on")
	}
	return d
}

// revealing documents tell of the person's health or legal capacity by their very name (a
// psychiatric commission, a disability certificate, a court ruling of incapacity): a relative who
// is not the representative learns only how many of them are missing.
func revealing(t DocType) bool {
	return docIndex[t].Medical || t == DocIncapacityRuling || t == DocGuardianshipDecision
}

func (f *noticeFacts) facilityNames(d map[string]any) {
	if len(f.facilities) == 0 {
		return
	}
	var names []string
	for _, fc := range f.facilities {
		names = append(names, fc.Name)
	}
	d["facility_ids"] = facilityIDs(f.facilities)
	d["facilities"] = names
}

func facilityIDs(fs []Facility) []string {
	out := make([]string, len(fs))
	for i, f := range fs {
		out[i] = f.ID
	}
	return out
}

// registrationNotices are the notices of a newly registered case.
func (s *Service) registrationNotices(c *Case, now time.Time) []Notice {
	return planNotices(s.Settings, noticeFacts{happening: HappeningRegistered, c: c, at: now, source: "v1"})
}

// eventNotices are the notices a lifecycle event causes, planned after the event has changed
// the case, and the guardianship_notice deadlines that watch the moves the guardianship body
// must hear of in time.
func (s *Service) eventNotices(ctx context.Context, tx CaseTx, cal *Calendar, c *Case, cmd EventCommand, payload map[string]any, now time.Time) ([]Notice, []Deadline, error) {
	h := eventHappening[cmd.Event]
	if h == "" {
		return nil, nil, nil
	}
	f := noticeFacts{happening: h, c: c, at: now, source: fmt.Sprintf("v%d", c.Version), details: map[string]string{}}
	var homes []string
	released, _ := payload["released_facility_id"].(string)
	previous, _ := payload["previous_facility_id"].(string)
	switch cmd.Event {
	case RequestDocuments, ReturnForDocuments:
		f.docs = c.Checklist.Missing(DateOf(now))
	case RecognizeNeed:
		f.details["ippsu_number"], f.details["ippsu_date"] = c.IPPSU.Number, c.IPPSU.Date.String()
	case IssueVoucher:
		homes = []string{c.VoucherFacilityID}
		f.details["valid_until"] = c.VoucherValidUntil.String()
	case CancelVoucher, Withdraw:
		homes = []string{released}
	case Admit:
		homes = []string{c.FacilityID, previous}
		f.details["admitted_on"], _ = payload["admitted_on"].(string)
		if previous != "" {
			f.details["previous_facility_id"] = previous
		}
	case RequestTransfer, Discharge:
		homes = []string{c.FacilityID}
	case RecordDeath:
		homes = []string{c.FacilityID}
		f.details["date_of_death"], _ = payload["date_of_death"].(string)
	case StartLeave:
		if c.LeaveReturnBy != nil {
			f.details["return_by"] = c.LeaveReturnBy.String()
		}
	}
	if cmd.Event == Appeal {
		f.details["filed_on"], _ = payload["filed_on"].(string)
		f.reason, _ = payload["grounds"].(string)
	}
	if cmd.Event == Reject || cmd.Event == ReturnForDocuments || cmd.Event == Discharge {
		f.reason = strings.TrimSpace(cmd.Reason)
	}
	for _, id := range homes {
		if id == "" {
			continue
		}
		fc, err := tx.Facility(ctx, id)
		if err != nil {
			return nil, nil, fmt.Errorf("facility %s for notices: %w", id, err)
		}
		f.facilities = append(f.facilities, *fc)
	}
	notices := planNotices(s.Settings, f)
	var opened []Deadline
	if slices.Contains(guardianshipWatched, h) {
		due := cal.AddWorkingDays(DateOf(now), s.Settings.GuardianshipNoticeWD)
		for _, n := range notices {
			if n.Audience == AudienceGuardianship {
				opened = append(opened, newDeadline(DeadlineGuardianshipNotice, n.ID, due, now))
			}
		}
	}
	return notices, opened, nil
}

// documentNotices are the notices of a recorded document: a request goes to whoever must
// supply it, a rejection tells the family it is missing again.
func (s *Service) documentNotices(c *Case, t DocType, st DocStatus, now time.Time) []Notice {
	var h Happening
	switch st {
	case DocRequested:
		h = HappeningDocumentsRequested
	case DocRejected:
		h = HappeningDocumentsMissing
	default:
		return nil
	}
	return planNotices(s.Settings, noticeFacts{happening: h, c: c, at: now, source: fmt.Sprintf("v%d", c.Version), docs: []DocType{t}})
}
