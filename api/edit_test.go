package api_test

import (
	"net/http"
	"testing"
)

// TestRegisterWarnsOfASNILSOnAnOpenCase: a second application with the same SNILS is
// registered, with a warning naming the open case.
func TestRegisterWarnsOfASNILSOnAnOpenCase(t *testing.T) {
	h := newHarness(t)
	first := h.do("POST", "/api/v1/cases", newCaseBody)
	if first.status != http.StatusCreated || first.json(t)["warnings"] != nil {
		t.Fatalf("first registration: %d %s", first.status, first.body)
	}
	second := h.do("POST", "/api/v1/cases", newCaseBody)
	if second.status != http.StatusCreated {
		t.Fatalf("second registration: %d %s", second.status, second.body)
	}
	ws, _ := second.json(t)["warnings"].([]any)
	if len(ws) != 1 {
		t.Fatalf("warnings %v", second.json(t)["warnings"])
	}
	w := ws[0].(map[string]any)
	number := first.json(t)["number"].(string)
	if w["code"] != "snils_on_open_case" || w["field"] != "applicant.snils" || !contains(w["message"].(string), number) {
		t.Errorf("warning %v, want one naming %s", w, number)
	}
}

func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}
