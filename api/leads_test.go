package api_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"carepath/domain"
)

// TestOutreachLeads: consent or no lead; the queue neediest first with untouched leads flagged;
// an agency sees only the state of its own leads; triage; convert carries every field of the
// person over to a case of channel outreach, linked both ways.
func TestOutreachLeads(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	lead := func(name string, answers map[string]any, consent bool) map[string]any {
		b := map[string]any{"full_name": name, "birth_date": "1936-04-12", "address": "Москва, ул. Почтовая, д. 5, кв. 2",
			"phone": "8 916 555-44-33", "answers": answers, "consent": consent, "source": "ОПС 101000"}
		if consent {
			b["consent_on"] = "2026-01-15"
		}
		return b
	}
	var before int64
	h.db.Gorm.Raw("SELECT count(*) FROM leads").Scan(&before)
	h.token = h.tokens["post_office"]
	for _, body := range []map[string]any{lead("Без Согласия", map[string]any{}, false),
		func() map[string]any {
			b := lead("Без Даты", map[string]any{}, true)
			delete(b, "consent_on")
			return b
		}()} {
		if r := h.do("POST", "/api/v1/leads", body); r.status != http.StatusUnprocessableEntity || r.json(t)["field"] != "consent" {
			t.Fatalf("a lead without consent and its date: want 422 on consent, got %d %s", r.status, r.body)
		}
	}
	var after int64
	h.db.Gorm.Raw("SELECT count(*) FROM leads").Scan(&after)
	if after != before {
		t.Fatal("a lead without consent was kept")
	}
	r := h.do("POST", "/api/v1/leads", lead("Смирнова Анна Петровна", map[string]any{"lives_alone": true, "mobility": "housebound",
		"self_care": "needs_help", "memory": "forgetful", "who_helps": "никто", "asks": "место в пансионате"}, true))
	if r.status != http.StatusCreated || strings.Contains(string(r.body), "Смирнова") {
		t.Fatalf("submit: %d %s", r.status, r.body)
	}
	needy := r.json(t)["id"].(string)
	h.token = h.tokens["social_protection"]
	mild := h.do("POST", "/api/v1/leads", lead("Орлов Пётр", map[string]any{"mobility": "with_difficulty", "who_helps": "дочь"}, true)).json(t)["id"].(string)

	// The agencies: only their own, only the state.
	for who, own := range map[string]string{"post_office": needy, "social_protection": mild} {
		h.token = h.tokens[who]
		res := h.do("GET", "/api/v1/leads", nil)
		items := res.json(t)["items"].([]any)
		if len(items) != 1 || items[0].(map[string]any)["id"] != own || strings.Contains(string(res.body), "Почтовая") ||
			strings.Contains(string(res.body), "full_name") {
			t.Errorf("%s reads %s", who, res.body)
		}
	}

	// The queue: the neediest first; a lead untouched for LEAD_TRIAGE_DAYS is flagged.
	h.db.Gorm.Exec("UPDATE leads SET created_at = created_at - interval '6 days' WHERE id = ?", mild)
	h.token = h.tokens[domain.RoleSpecialist]
	items := h.do("GET", "/api/v1/leads?state=new", nil).json(t)["items"].([]any)
	if len(items) != 2 || items[0].(map[string]any)["id"] != needy || items[0].(map[string]any)["need_score"].(float64) != 11 {
		t.Fatalf("queue: %v", items)
	}
	if items[0].(map[string]any)["untouched"] != false || items[1].(map[string]any)["untouched"] != true {
		t.Errorf("untouched flags: %v", items)
	}

	if r := h.do("POST", "/api/v1/leads/"+mild+"/triage", map[string]any{"outcome": "declined", "note": "помогает дочь"}); r.status != http.StatusOK {
		t.Fatalf("triage: %d %s", r.status, r.body)
	}
	if r := h.do("POST", "/api/v1/leads/"+mild+"/convert", map[string]any{"facility_type": "elderly_disabled", "gender": "male",
		"snils": "112-233-445 95", "legal_capacity": "capable"}); r.status != http.StatusConflict {
		t.Fatalf("a declined lead converted: %d %s", r.status, r.body)
	}
	r = h.do("POST", "/api/v1/leads/"+needy+"/convert", map[string]any{"facility_type": "elderly_disabled", "gender": "female",
		"snils": "112-233-445 95", "legal_capacity": "capable", "disability_group": "2"})
	if r.status != http.StatusCreated {
		t.Fatalf("convert: %d %s", r.status, r.body)
	}
	out := r.json(t)
	caseID := out["case_id"].(string)
	if l := out["lead"].(map[string]any); l["state"] != "converted" || l["case_id"] != caseID {
		t.Fatalf("the lead must name its case: %v", l)
	}
	c, err := h.svc.Get(ctx, caseID)
	if err != nil {
		t.Fatal(err)
	}
	a := c.Applicant
	if c.Channel != domain.ChannelOutreach || a.FullName != "Смирнова Анна Петровна" || a.BirthDate.String() != "1936-04-12" ||
		a.Address != "Москва, ул. Почтовая, д. 5, кв. 2" || a.Phone != "+79165554433" || a.DisabilityGroup != "2" {
		t.Fatalf("the case does not carry the lead's person: %s %+v", c.Channel, a)
	}
	hist, err := h.svc.History(ctx, caseID)
	if err != nil || hist[0].Payload["lead_id"] != needy {
		t.Fatalf("the case's first history line must name the lead: %+v %v", hist, err)
	}
	if r := h.do("POST", "/api/v1/leads/"+needy+"/convert", map[string]any{"facility_type": "elderly_disabled", "gender": "female",
		"snils": "112-233-445 95", "legal_capacity": "capable"}); r.status != http.StatusConflict {
		t.Fatalf("converted twice: %d %s", r.status, r.body)
	}
	// The case is found by the phone the postman wrote down.
	found := h.do("GET", "/api/v1/cases?q=%2B7+916+555-44-33", nil)
	if !strings.Contains(string(found.body), caseID) {
		t.Errorf("the converted case is not found by its phone: %s", found.body)
	}
}

// TestPostOfficeFilesCases: the postal partner files applications with channel post_office,
// like a service center, and sees the cases it filed.
func TestPostOfficeFilesCases(t *testing.T) {
	h := newHarness(t)
	h.token = h.tokens["post_office"]
	body := map[string]any{}
	for k, v := range newCaseBody {
		body[k] = v
	}
	body["channel"] = "mfc"
	if r := h.do("POST", "/api/v1/cases", body); r.status != http.StatusBadRequest {
		t.Fatalf("post office filing as mfc: want 400, got %d %s", r.status, r.body)
	}
	body["channel"] = "post_office"
	r := h.do("POST", "/api/v1/cases", body)
	if r.status != http.StatusCreated || r.json(t)["access_code"] == "" {
		t.Fatalf("post office filing: %d %s", r.status, r.body)
	}
	id := r.json(t)["id"].(string)
	if r := h.do("GET", "/api/v1/agency/cases/"+id, nil); r.status != http.StatusOK {
		t.Fatalf("the post office reads the case it filed: %d", r.status)
	}
	if r := h.do("GET", "/api/v1/agency/cases", nil); !strings.Contains(string(r.body), id) {
		t.Fatalf("the post office's list lacks its case: %s", r.body)
	}
}
