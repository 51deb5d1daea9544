package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"carepath/api"
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

// TestStatusContactRequestOnePerCase: the public route opens at most one request per case until
// the home answers (a second is 409 with a Russian reason, whatever the phone), the specialists
// may still add more, each client address has a limit an hour, and the body is cut at 16 KiB.
func TestStatusContactRequestOnePerCase(t *testing.T) {
	h := newHarness(t, func(s *api.Server) { s.ContactRequestsPerHour = 4 })
	h.token = h.tokens[domain.RoleSpecialist]
	created := h.do("POST", "/api/v1/cases", newCaseBody).json(t)
	id, number, code := created["id"].(string), created["number"].(string), created["access_code"].(string)
	h.makeResident(id)
	ask := func(phone string) response {
		return h.do("POST", "/api/v1/status/contact-requests", map[string]any{"case_number": number, "access_code": code,
			"name": "Кузнецов Олег", "relation": "сын", "phone": phone})
	}
	if r := ask("8 916 123-45-67"); r.status != http.StatusCreated {
		t.Fatalf("first request: %d %s", r.status, r.body)
	}
	r := ask("8 916 765-43-21")
	var p struct{ Reasons []domain.Reason }
	if err := json.Unmarshal(r.body, &p); err != nil || r.status != http.StatusConflict || len(p.Reasons) != 1 ||
		!strings.Contains(p.Reasons[0].Message, "уже передана") {
		t.Fatalf("a second open request from the status page: want 409 with a Russian reason, got %d %s", r.status, r.body)
	}
	if r := h.do("POST", "/api/v1/cases/"+id+"/contact-requests", map[string]any{"name": "Кузнецов Олег", "relation": "сын",
		"phone": "8 916 123-45-67"}); r.status != http.StatusCreated {
		t.Fatalf("the specialists may add a request: %d %s", r.status, r.body)
	}
	var open int64
	h.db.Gorm.Raw("SELECT count(*) FROM contact_requests WHERE case_id = ? AND created_by = 'status-page'", id).Scan(&open)
	if open != 1 {
		t.Fatalf("the status page opened %d requests, want 1", open)
	}
	var first string
	h.db.Gorm.Raw("SELECT id FROM contact_requests WHERE case_id = ? AND created_by = 'status-page'", id).Scan(&first)
	if r := h.do("POST", "/api/v1/contact-requests/"+first+"/done", map[string]any{"outcome": "reached"}); r.status != http.StatusOK {
		t.Fatalf("done: %d %s", r.status, r.body)
	}
	if r := ask("8 916 765-43-21"); r.status != http.StatusCreated {
		t.Fatalf("after the home's answer a new request is taken: %d %s", r.status, r.body)
	}
	big := `{"case_number":"` + number + `",` + strings.Repeat(" ", 20<<10) + `"access_code":"` + code + `"}`
	if r := h.raw(h.request("POST", "/api/v1/status/contact-requests", strings.NewReader(big), int64(len(big)), "")); r.status != http.StatusRequestEntityTooLarge {
		t.Fatalf("a 20 KiB body: want 413, got %d", r.status)
	}
	ask("8 916 765-43-21") // the fourth of the hour
	if r := ask("8 916 765-43-21"); r.status != http.StatusTooManyRequests || r.header.Get("Retry-After") == "" {
		t.Fatalf("the fifth request of the hour from one address: want 429 with Retry-After, got %d %s", r.status, r.body)
	}
}
