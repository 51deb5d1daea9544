package api_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"carepath/domain"
	"carepath/store"
)

// subjectNotice is a row of the outbox as the reminders without a case write it.
type subjectNotice struct {
	CaseID         *string
	SubjectKind    string
	SubjectID      string
	Happening      string
	Audience       string
	Recipient      string
	IdempotencyKey string
}

func subjectNotices(h *harness, kind, id string) []subjectNotice {
	h.t.Helper()
	var rows []subjectNotice
	err := h.db.Gorm.Raw(`SELECT case_id::text, subject_kind, subject_id::text, happening, audience, recipient, idempotency_key
		FROM notices WHERE subject_kind = ? AND subject_id = ? ORDER BY audience, recipient`, kind, id).Scan(&rows).Error
	if err != nil {
		h.t.Fatal(err)
	}
	return rows
}

// scanAt runs the reminder scan as the worker would at an instant.
func scanAt(h *harness, at time.Time) domain.ScanResult {
	h.t.Helper()
	ctx := context.Background()
	notices := store.NewNotices(h.db).OpensPersonal(h.sealer)
	supervisors, err := notices.Supervisors(ctx)
	if err != nil || len(supervisors) == 0 {
		h.t.Fatalf("supervisors: %v %v", supervisors, err)
	}
	res, err := notices.ScanDue(ctx, at, 100, func(r domain.DueReminder) domain.ReminderOutcome {
		return domain.PlanReminder(domain.DefaultSettings(), r, supervisors, at)
	})
	if err != nil {
		h.t.Fatalf("scan: %v", err)
	}
	return res
}

// TestRemindersWithoutACase: a call-back promised to a caller who has no case, and a lead nobody
// triaged, are deadlines without a case. The same scan reminds and escalates them through the
// same outbox (a notice naming its subject instead of a case), once per stage, and a worker
// can claim such a notice; the call-back and the triage close them.
func TestRemindersWithoutACase(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	h.token = h.tokens[domain.RoleSpecialist]
	me := h.do("GET", "/api/v1/me", nil).json(t)["id"].(string)
	today := domain.DateOf(time.Now())

	// A caller with no case is promised a call-back tomorrow.
	promise := h.logContact(map[string]any{"channel": "phone", "direction": "inbound", "party": "other",
		"caller_name": "Орлова Нина", "topic": "documents", "question": "Какие документы нужны?", "answer": "Уточню и перезвоню",
		"follow_up_due": today.AddDays(1).String()})
	contactID := promise["id"].(string)
	var d struct {
		CaseID *string
		State  string
		DueOn  time.Time
	}
	h.db.Gorm.Raw("SELECT case_id::text, state::text, due_on FROM deadlines WHERE kind = 'contact_follow_up' AND ref = ?", contactID).Scan(&d)
	if d.State != "open" || d.CaseID != nil || d.DueOn.Format(time.DateOnly) != today.AddDays(1).String() {
		t.Fatalf("the call-back's deadline: %+v", d)
	}

	// The day before it falls due, its taker is reminded; past due, the taker and the
	// supervisors hear it was missed.
	atRisk := today.AddDays(1).EndInMoscow().Add(-23 * time.Hour)
	if res := scanAt(h, atRisk); res.Due == 0 || res.Notices == 0 {
		t.Fatalf("scan on the eve: %+v", res)
	}
	rows := subjectNotices(h, domain.SubjectContact, contactID)
	if len(rows) != 1 || rows[0].Happening != string(domain.HappeningDeadlineAtRisk) || rows[0].Audience != domain.AudienceSpecialist ||
		rows[0].Recipient != me || rows[0].CaseID != nil {
		t.Fatalf("the eve's reminder goes to the taker %s only: %+v", me, rows)
	}
	late := today.AddDays(1).EndInMoscow().Add(time.Hour)
	scanAt(h, late)
	rows = subjectNotices(h, domain.SubjectContact, contactID)
	var toTaker, toSupervisor bool
	keys := map[string]bool{}
	for _, r := range rows {
		keys[r.IdempotencyKey] = true
		if r.Happening != string(domain.HappeningDeadlineMissed) {
			continue
		}
		toTaker = toTaker || (r.Audience == domain.AudienceSpecialist && r.Recipient == me)
		toSupervisor = toSupervisor || r.Audience == domain.AudienceSupervisor
	}
	if !toTaker || !toSupervisor || len(keys) != len(rows) {
		t.Fatalf("a missed call-back without a case tells its taker and the supervisors, each once: %+v", rows)
	}
	// Each stage is sent once: scanning again writes nothing.
	if res := scanAt(h, late.Add(time.Minute)); res.Notices != 0 {
		t.Fatalf("a second scan wrote %d notices", res.Notices)
	}
	if again := subjectNotices(h, domain.SubjectContact, contactID); len(again) != len(rows) {
		t.Fatalf("notices doubled: %d then %d", len(rows), len(again))
	}

	// A worker claims such a notice like any other: no case number, the subject named.
	var id string
	h.db.Gorm.Raw("SELECT id::text FROM notices WHERE subject_id = ? AND audience = 'supervisor' LIMIT 1", contactID).Scan(&id)
	dl, err := store.NewNotices(h.db).Claim(ctx, id, time.Now().Add(48*time.Hour), time.Minute)
	if err != nil || dl == nil {
		t.Fatalf("claim a notice without a case: %v %v", dl, err)
	}
	if dl.CaseID != "" || dl.CaseNumber != "" || dl.SubjectKind != domain.SubjectContact || dl.SubjectID != contactID ||
		dl.Data["subject_name"] != "Орлова Нина" || dl.Data["deadline_kind"] != string(domain.DeadlineContactFollowUp) {
		t.Fatalf("claimed: %+v", dl)
	}

	// The call-back closes the deadline (made before the promised day ended: met).
	h.logContact(map[string]any{"channel": "phone", "direction": "outbound", "party": "other", "topic": "documents",
		"answer": "Перезвонили: перечень продиктовали", "follow_up_of": contactID})
	h.db.Gorm.Raw("SELECT state::text FROM deadlines WHERE kind = 'contact_follow_up' AND ref = ?", contactID).Scan(&d.State)
	if d.State != "met" {
		t.Fatalf("the call-back: deadline %q, want met", d.State)
	}

	// A lead opens a triage deadline due LEAD_TRIAGE_DAYS (5) after it came in.
	stale, fresh := h.lead(), h.lead()
	var lt struct {
		CaseID   *string
		DueAt    time.Time
		OpenedAt time.Time
	}
	h.db.Gorm.Raw("SELECT case_id::text, due_at, opened_at FROM deadlines WHERE kind = 'lead_triage' AND ref = ? AND state = 'open'", stale).Scan(&lt)
	if lt.CaseID != nil || lt.DueAt.Sub(lt.OpenedAt) < 119*time.Hour || lt.DueAt.Sub(lt.OpenedAt) > 121*time.Hour {
		t.Fatalf("the lead's triage deadline: %+v", lt)
	}
	// The one triaged in time meets it; nobody hears of it.
	if r := h.do("POST", "/api/v1/leads/"+fresh+"/triage", map[string]any{"outcome": "contacted", "note": "созвонились"}); r.status != http.StatusOK {
		t.Fatalf("triage: %d %s", r.status, r.body)
	}
	var state string
	h.db.Gorm.Raw("SELECT state::text FROM deadlines WHERE kind = 'lead_triage' AND ref = ?", fresh).Scan(&state)
	if state != "met" {
		t.Fatalf("a lead triaged in time: deadline %q, want met", state)
	}
	// Six days on (the lead and its deadline moved back), the untouched one is flagged and the
	// supervisors are reminded.
	h.db.Gorm.Exec("UPDATE leads SET created_at = created_at - interval '6 days' WHERE id = ?", stale)
	h.db.Gorm.Exec(`UPDATE deadlines SET opened_at = opened_at - interval '6 days', due_at = due_at - interval '6 days',
		due_on = due_on - 6, remind_at = remind_at - interval '6 days' WHERE kind = 'lead_triage' AND ref = ?`, stale)
	items := h.do("GET", "/api/v1/leads?state=new", nil).json(t)["items"].([]any)
	if len(items) != 1 || items[0].(map[string]any)["untouched"] != true {
		t.Fatalf("the untouched lead is flagged: %v", items)
	}
	scanAt(h, time.Now())
	leadRows := subjectNotices(h, domain.SubjectLead, stale)
	if len(leadRows) == 0 {
		t.Fatal("an untouched lead reminds no one")
	}
	for _, r := range leadRows {
		if r.Audience != domain.AudienceSupervisor || r.Happening != string(domain.HappeningDeadlineMissed) || r.CaseID != nil {
			t.Errorf("an untouched lead's reminder: %+v", r)
		}
	}
	if n := subjectNotices(h, domain.SubjectLead, fresh); len(n) != 0 {
		t.Errorf("a triaged lead reminded: %+v", n)
	}
	// Declining it now closes its deadline as missed.
	if r := h.do("POST", "/api/v1/leads/"+stale+"/triage", map[string]any{"outcome": "declined", "note": "переехала"}); r.status != http.StatusOK {
		t.Fatalf("triage: %d %s", r.status, r.body)
	}
	h.db.Gorm.Raw("SELECT state::text FROM deadlines WHERE kind = 'lead_triage' AND ref = ?", stale).Scan(&state)
	if state != "missed" {
		t.Fatalf("a lead triaged late: deadline %q, want missed", state)
	}
}
