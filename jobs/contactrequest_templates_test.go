package jobs

import (
	"strings"
	"testing"

	"carepath/domain"
)

// TestContactRequestTemplates: both notices of a contact request have their template and render
// from the data the domain gives them; the SMS names nothing but the case and the outcome.
func TestContactRequestTemplates(t *testing.T) {
	tm, err := LoadTemplates("+7 (495) 123-45-67")
	if err != nil {
		t.Fatal(err)
	}
	data := map[domain.Happening]map[string]any{
		domain.HappeningContactRequested: {"case_number": "KC-2030-000001", "full_name": "Иванова Мария", "birth_date": "1940-01-02",
			"requester_name": "Иванов Сергей", "relation": "сын", "requester_phone": "+79161234567", "message": "Позвоните маме",
			"due_on": "2030-03-06", "request_id": "r1"},
		domain.HappeningContactRequestDone: {"case_number": "KC-2030-000001", "first_name": "Мария", "outcome_label": "связь установлена"},
	}
	for _, r := range domain.ContactRequestRoutes() {
		if !tm.Has(r.Template()) {
			t.Fatalf("no template %s", r.Template())
		}
		_, text, err := tm.Render(r.Template(), data[r.Happening])
		if err != nil {
			t.Fatal(err)
		}
		if r.Channel == domain.NoticeSMS && (strings.Contains(text, "Иванов") || !strings.Contains(text, "KC-2030-000001")) {
			t.Errorf("SMS %q", text)
		}
	}
}
