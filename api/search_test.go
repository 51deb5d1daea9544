package api_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestSearchCasesWhileThePhoneRings: one search box finds a case by its number, any word of the
// applicant's name, or a phone of the applicant, a relative or a representative typed any way.
func TestSearchCasesWhileThePhoneRings(t *testing.T) {
	h := newHarness(t)
	body := map[string]any{}
	for k, v := range newCaseBody {
		body[k] = v
	}
	applicant := map[string]any{}
	for k, v := range newCaseBody["applicant"].(map[string]any) {
		applicant[k] = v
	}
	applicant["phone"] = "8 (916) 111-22-33"
	body["applicant"] = applicant
	body["contacts"] = []any{
		map[string]any{"name": "Кузнецов Олег", "relation": "son", "phone": "+7 903 000-00-01", "consent_to_notices": true},
		map[string]any{"name": "Соколова Вера", "relation": "guardian", "phone": "8-925-444-55-66", "email": "vera@example.org",
			"legal_representative": true, "consent_to_notices": true, "preferred_channel": "email"},
	}
	r := h.do("POST", "/api/v1/cases", body)
	if r.status != http.StatusCreated {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	created := r.json(t)
	id, number := created["id"].(string), created["number"].(string)
	if got := created["applicant"].(map[string]any)["phone"]; got != "+79161112233" {
		t.Fatalf("the applicant's phone is kept as E.164: got %v", got)
	}
	other, _ := h.createCase() // the same son's phone: both cases are his
	h.do("POST", "/api/v1/cases", map[string]any{"channel": "hotline", "facility_type": "veterans",
		"applicant": map[string]any{"full_name": "Петров Иван Ильич", "birth_date": "1930-01-01", "gender": "male",
			"snils": "112-233-445 95", "address": "Москва", "legal_capacity": "capable", "phone": "+7 916 999-00-00"}})

	for _, tc := range []struct {
		q    string
		want []string
	}{
		{"+79161112233", []string{id}},
		{"8 916 111 22 33", []string{id}},
		{"+7(916)111-22-33", []string{id}},
		{"9161112233", []string{id}},
		{"8 (903) 000-00-01", []string{other, id}},
		{"+7 925 444 55 66", []string{id}},
		{"89254445567", nil},
		{number, []string{id}},
		{strings.ToLower(number), []string{id}},
		{"кузнец", []string{other, id}},
		{"Галина", []string{other, id}},
		{"кузнецова галина ник", []string{other, id}},
		{"петров", nil}, // another applicant: neither of these two cases
	} {
		res := h.do("GET", "/api/v1/cases?q="+url.QueryEscape(tc.q), nil)
		if res.status != http.StatusOK {
			t.Fatalf("q=%s: %d %s", tc.q, res.status, res.body)
		}
		var got []string
		for _, it := range res.json(t)["items"].([]any) {
			if cid := it.(map[string]any)["id"].(string); cid == id || cid == other {
				got = append(got, cid)
			}
		}
		if strings.Join(got, ",") != strings.Join(tc.want, ",") {
			t.Errorf("q=%q: want %v, got %v", tc.q, tc.want, got)
		}
	}
	// The case reads back with every phone (as E.164) and e-mail.
	c := h.do("GET", "/api/v1/cases/"+id, nil).json(t)
	cts := c["contacts"].([]any)
	if cts[0].(map[string]any)["phone"] != "+79030000001" || cts[1].(map[string]any)["email"] != "vera@example.org" {
		t.Fatalf("contacts read back: %v", cts)
	}
	// Not a phone in plain text anywhere in the case's tables.
	var dump []string
	for _, q := range []string{"SELECT t::text FROM cases t", "SELECT t::text FROM case_phone_keys t", "SELECT t::text FROM case_history t"} {
		var rows []string
		if err := h.db.Gorm.Raw(q).Scan(&rows).Error; err != nil {
			t.Fatal(err)
		}
		dump = append(dump, rows...)
	}
	for _, row := range dump {
		for _, form := range []string{"1112233", "111-22-33", "000-00-01", "9030000001", "444-55-66", "9254445566", "vera@example"} {
			if strings.Contains(row, form) {
				t.Fatalf("a phone or e-mail is stored in plain text (%q): %.300s", form, row)
			}
		}
	}
}

// TestResealPhones: a case registered before phones were sealed (its contacts' phones in the
// clear, no blind index) is sealed and indexed by `carepath phones reseal`, and found by phone.
func TestResealPhones(t *testing.T) {
	h := newHarness(t)
	id, _ := h.createCase()
	err := h.db.Gorm.Exec(`UPDATE cases SET contacts = '[{"name": "Кузнецов Олег", "relation": "son", "phone": "+7 903 000-00-01",
		"legal_representative": false, "consent_to_notices": true, "preferred_channel": "sms"}]' WHERE id = ?`, id).Error
	if err == nil {
		err = h.db.Gorm.Exec("DELETE FROM case_phone_keys WHERE case_id = ?", id).Error
	}
	if err != nil {
		t.Fatal(err)
	}
	if r := h.do("GET", "/api/v1/cases?q=89030000001", nil); strings.Contains(string(r.body), id) {
		t.Fatal("an unindexed case was found by phone")
	}
	n, skipped, err := h.cases.ResealPhones(t.Context(), 10)
	if err != nil || n != 1 || skipped != 0 {
		t.Fatalf("reseal: %d %d %v", n, skipped, err)
	}
	if n, _, _ := h.cases.ResealPhones(t.Context(), 10); n != 0 {
		t.Fatalf("a second pass resealed %d", n)
	}
	var dump string
	h.db.Gorm.Raw("SELECT contacts::text FROM cases WHERE id = ?", id).Scan(&dump)
	if strings.Contains(dump, "000-00-01") {
		t.Fatalf("contacts still in the clear: %s", dump)
	}
	if r := h.do("GET", "/api/v1/cases?q=89030000001", nil); !strings.Contains(string(r.body), id) {
		t.Fatalf("the resealed case is not found by phone: %s", r.body)
	}
	c := h.do("GET", "/api/v1/cases/"+id, nil).json(t)
	if got := c["contacts"].([]any)[0].(map[string]any)["phone"]; got != "+79030000001" {
		t.Fatalf("the phone reads back as %v", got)
	}
}
