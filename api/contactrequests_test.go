package api_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"carepath/domain"
	"carepath/store"
)

// TestContactRequestToDone: a relative's request reaches the home through the outbox with a
// contact_request deadline; the home reports the outcome with its key, which meets the deadline
// and tells the relative by SMS; a request that is not answered in time is escalated.
func TestContactRequestToDone(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	h.token = h.tokens[domain.RoleSpecialist]
	id, _ := h.createCase()

	r := h.do("POST", "/api/v1/cases/"+id+"/contact-requests", map[string]any{"name": "Кузнецов Олег", "relation": "сын",
		"phone": "8 916 123-45-67", "message": "Прошу передать маме, чтобы позвонила"})
	if r.status != http.StatusConflict {
		t.Fatalf("a case whose person lives in no home: want 409, got %d %s", r.status, r.body)
	}
	h.makeResident(id)
	r = h.do("POST", "/api/v1/cases/"+id+"/contact-requests", map[string]any{"name": "Кузнецов Олег", "relation": "сын",
		"phone": "8 916 123-45-67", "message": "Прошу передать маме, чтобы позвонила"})
	if r.status != http.StatusCreated {
		t.Fatalf("request: %d %s", r.status, r.body)
	}
	req := r.json(t)
	reqID := req["id"].(string)
	if req["phone"] != "+79161234567" || req["state"] != "open" {
		t.Fatalf("request: %v", req)
	}
	var told []struct{ Recipient, Template string }
	h.db.Gorm.Raw("SELECT recipient, template FROM notices WHERE case_id = ? AND happening = 'contact_requested'", id).Scan(&told)
	if len(told) != 1 || told[0].Recipient != h.tokens["facility_id"] || told[0].Template != "contact_requested.facility.webhook" {
		t.Fatalf("the home's agency must be told through the outbox: %+v", told)
	}
	var due string
	h.db.Gorm.Raw("SELECT due_on::text FROM deadlines WHERE kind = 'contact_request' AND ref = ? AND state = 'open'", reqID).Scan(&due)
	if due != req["due_on"] {
		t.Fatalf("contact_request deadline due %q, request says %v", due, req["due_on"])
	}
	var sealed int64
	h.db.Gorm.Raw("SELECT count(*) FROM contact_requests WHERE phone::text LIKE '%1234567%'").Scan(&sealed)
	if sealed != 0 {
		t.Fatal("the relative's phone is stored in plain text")
	}

	// The home answers with its own key.
	h.token = h.tokens["facility"]
	r = h.do("POST", "/api/v1/contact-requests/"+reqID+"/done", map[string]any{"outcome": "bored"})
	if r.status != http.StatusBadRequest {
		t.Fatalf("unknown outcome: want 400, got %d %s", r.status, r.body)
	}
	r = h.do("POST", "/api/v1/contact-requests/"+reqID+"/done", map[string]any{"outcome": "reached", "note": "Позвонила сыну"})
	if r.status != http.StatusOK || r.json(t)["state"] != "done" || r.json(t)["outcome_label"] != "связь установлена" {
		t.Fatalf("done: %d %s", r.status, r.body)
	}
	h.db.Gorm.Raw("SELECT state::text FROM deadlines WHERE kind = 'contact_request' AND ref = ?", reqID).Scan(&due)
	if due != "met" {
		t.Fatalf("the answer in time meets the deadline: %q", due)
	}
	told = nil
	h.db.Gorm.Raw("SELECT recipient, template FROM notices WHERE case_id = ? AND happening = 'contact_request_done'", id).Scan(&told)
	if len(told) != 1 || told[0].Recipient != "+79161234567" || told[0].Template != "contact_request_done.relative.sms" {
		t.Fatalf("the relative must be told: %+v", told)
	}
	if r := h.do("POST", "/api/v1/contact-requests/"+reqID+"/done", map[string]any{"outcome": "reached"}); r.status != http.StatusConflict {
		t.Fatalf("done twice: want 409, got %d", r.status)
	}

	// Unanswered: the scan after the due day tells the supervisors the deadline was missed.
	h.token = h.tokens[domain.RoleSpecialist]
	late := h.do("POST", "/api/v1/cases/"+id+"/contact-requests", map[string]any{"name": "Кузнецов Олег", "relation": "сын",
		"phone": "+7 916 123-45-67"}).json(t)["id"].(string)
	notices := store.NewNotices(h.db).OpensPersonal(h.sealer)
	sups, _ := notices.Supervisors(ctx)
	after := time.Now().AddDate(0, 0, 10)
	if _, err := notices.ScanDue(ctx, after, 100, func(r domain.DueReminder) domain.ReminderOutcome {
		return domain.PlanReminder(domain.DefaultSettings(), r, sups, after)
	}); err != nil {
		t.Fatal(err)
	}
	var missed int64
	h.db.Gorm.Raw(`SELECT count(*) FROM notices WHERE case_id = ? AND happening = 'deadline_missed' AND audience = 'supervisor'
		AND data->>'deadline_ref' = ?`, id, late).Scan(&missed)
	if missed == 0 {
		t.Fatal("an unanswered contact request must be escalated when its deadline is missed")
	}
}
