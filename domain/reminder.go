package domain

import (
	"fmt"
	"time"
)

// reminderStage is one reminder of a deadline: when it falls due and what it makes known.
type reminderStage struct {
	at        func(d Deadline) time.Time
	happening Happening
	// expire: instead of notices, the stage fires cancel_voucher on the case (an expired voucher).
	expire bool
}

func afterOpening(days int) func(Deadline) time.Time {
	return func(d Deadline) time.Time { return d.OpenedAt.AddDate(0, 0, days) }
}

func beforeDue(days int) func(Deadline) time.Time {
	return func(d Deadline) time.Time { return d.DueAt.AddDate(0, 0, -days) }
}

func atDue(d Deadline) time.Time { return d.DueAt }

// atShare is the instant a share of the time between opening and due has passed (the decision
// "at 80% of its legal time"). Wall-clock time is used, so weekends count; the stage only warns.
func atShare(percent int) func(Deadline) time.Time {
	return func(d Deadline) time.Time {
		return d.OpenedAt.Add(d.DueAt.Sub(d.OpenedAt) * time.Duration(percent) / 100)
	}
}

// reminderStages is the reminder table (issue "Reminder and deadline scans"): stages in time
// order per deadline kind. Each stage is sent once: the deadline row remembers how many were.
var reminderStages = map[DeadlineKind][]reminderStage{
	DeadlineDocumentCollection: {
		{at: afterOpening(7), happening: HappeningDocumentsMissing},
		{at: afterOpening(14), happening: HappeningDocumentsMissing},
		{at: afterOpening(21), happening: HappeningDocumentsMissing},
		{at: atDue, happening: HappeningDeadlineMissed},
	},
	DeadlineDocumentExpiry: {
		{at: beforeDue(14), happening: HappeningDocumentsExpiring},
	},
	DeadlineReviewDecision: {
		{at: atShare(80), happening: HappeningDeadlineAtRisk},
		{at: atDue, happening: HappeningDeadlineMissed},
	},
	DeadlineIPPSU: {
		{at: atShare(80), happening: HappeningDeadlineAtRisk},
		{at: atDue, happening: HappeningDeadlineMissed},
	},
	DeadlineVoucherAdmission: {
		{at: beforeDue(5), happening: HappeningVoucherExpiring},
		{at: atDue, expire: true},
	},
	DeadlineLeaveReturn: {
		{at: atDue, happening: HappeningDeadlineMissed},
	},
	DeadlineIPPSUReview: {
		{at: beforeDue(30), happening: HappeningDeadlineAtRisk},
		{at: atDue, happening: HappeningDeadlineMissed},
	},
	DeadlineGuardianshipNotice: {
		{at: atDue, happening: HappeningDeadlineMissed},
	},
	// A call-back: the specialist is reminded the day before, the supervisors hear when missed.
	DeadlineContactFollowUp: {
		{at: beforeDue(1), happening: HappeningDeadlineAtRisk},
		{at: atDue, happening: HappeningDeadlineMissed},
	},
	DeadlineContactRequest: {
		{at: atDue, happening: HappeningDeadlineMissed},
	},
	DeadlineContract: {
		{at: atDue, happening: HappeningDeadlineMissed},
	},
	// A lead nobody triaged: it has no specialist, so the supervisors hear.
	DeadlineLeadTriage: {
		{at: atDue, happening: HappeningDeadlineMissed},
	},
}

// deadlineLabels name the deadlines for specialists.
var deadlineLabels = map[DeadlineKind]string{
	DeadlineDocumentCollection: "сбор документов",
	DeadlineReviewDecision:     "решение о признании нуждающимся",
	DeadlineIPPSU:              "составление ИППСУ",
	DeadlineVoucherAdmission:   "заселение по путёвке",
	DeadlineLeaveReturn:        "возвращение из временного выбытия",
	DeadlineIPPSUReview:        "пересмотр ИППСУ",
	DeadlineDocumentExpiry:     "срок действия документа",
	DeadlineGuardianshipNotice: "уведомление органа опеки",
	DeadlineContactFollowUp:    "обратный звонок по обращению",
	DeadlineContactRequest:     "ответ учреждения на просьбу о связи с проживающим",
	DeadlineContract:           "договор с учреждением после предъявления ИППСУ",
	DeadlineLeadTriage:         "разбор выявленного случая",
}

// DeadlineLabel is a deadline kind's name in Russian.
func DeadlineLabel(k DeadlineKind) string {
	if l, ok := deadlineLabels[k]; ok {
		return l
	}
	return string(k)
}

// ReminderAt returns when stage number stage (0-based) of a deadline falls due; nil when the
// deadline has no such stage.
func ReminderAt(d Deadline, stage int) *time.Time {
	stages := reminderStages[d.Kind]
	if stage < 0 || stage >= len(stages) {
		return nil
	}
	t := stages[stage].at(d)
	return &t
}

// FirstReminder is when a newly opened deadline's first reminder falls due; nil when none.
func FirstReminder(d Deadline) *time.Time { return ReminderAt(d, 0) }

// DueReminder is an open deadline whose next reminder has fallen due, with its case (as far as
// notices need it: no sealed personal data) and the homes the case concerns; or, for a deadline
// without a case, its subject.
type DueReminder struct {
	Deadline Deadline
	// Sent counts the stages already sent.
	Sent       int
	Case       *Case
	Facilities []Facility
	// Subject is what a deadline without a case watches (Case is nil then).
	Subject *Subject
}

// ReminderOutcome is what a scan does with one due deadline: the notices to write, how many
// stages are then sent and when the next falls due (nil: none), or a voucher to expire.
type ReminderOutcome struct {
	DeadlineID int64
	Sent       int
	RemindAt   *time.Time
	Notices    []Notice
	// ExpireVoucher: fire cancel_voucher on the case as the system; the event closes the deadline.
	ExpireVoucher bool
}

// PlanReminder decides one due deadline's reminder. When several stages fell due meanwhile
// (the worker was down), only the latest is sent: a relative needs one reminder, not three.
func PlanReminder(s Settings, r DueReminder, supervisors []string, now time.Time) ReminderOutcome {
	stages := reminderStages[r.Deadline.Kind]
	out := ReminderOutcome{DeadlineID: r.Deadline.ID, Sent: r.Sent}
	due := -1
	for i := r.Sent; i < len(stages); i++ {
		if !stages[i].at(r.Deadline).After(now) {
			due = i
		}
	}
	if due < 0 {
		out.RemindAt = ReminderAt(r.Deadline, r.Sent)
		return out
	}
	st := stages[due]
	if st.expire {
		out.ExpireVoucher = true
		return out
	}
	out.Sent = due + 1
	out.RemindAt = ReminderAt(r.Deadline, out.Sent)
	d := r.Deadline
	c := r.Case
	if c == nil {
		// A deadline without a case: its owner (if any) and the supervisors hear, naming the
		// subject; nothing else is known, so no one else is told.
		if r.Subject == nil {
			return out
		}
		f := noticeFacts{happening: st.happening, c: &Case{AssigneeID: d.Owner}, subject: r.Subject, at: now,
			source: fmt.Sprintf("d%d.s%d", d.ID, due+1), supervisors: supervisors, deadline: &d,
			details: map[string]string{"due_on": d.DueOn.String()}}
		out.Notices = planNotices(s, f)
		return out
	}
	if d.Owner != "" {
		owned := *c
		owned.AssigneeID = d.Owner
		c = &owned
	}
	f := noticeFacts{happening: st.happening, c: c, at: now, source: fmt.Sprintf("d%d.s%d", d.ID, due+1),
		facilities: r.Facilities, supervisors: supervisors, deadline: &d,
		details: map[string]string{"due_on": d.DueOn.String()}}
	switch d.Kind {
	case DeadlineDocumentCollection:
		if st.happening == HappeningDocumentsMissing {
			f.docs = r.Case.Checklist.Missing(DateOf(now))
			if len(f.docs) == 0 {
				return out // nothing is missing: no reminder, the stage is still spent
			}
		}
	case DeadlineDocumentExpiry:
		f.docs = []DocType{DocType(d.Ref)}
		f.details["valid_until"] = d.DueOn.String()
	case DeadlineVoucherAdmission:
		if r.Case.VoucherValidUntil != nil {
			f.details["valid_until"] = r.Case.VoucherValidUntil.String()
		}
	}
	out.Notices = planNotices(s, f)
	return out
}
