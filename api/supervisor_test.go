package api_test

import (
	"net/http"
	"testing"

	"carepath/domain"
)

// TestWorkloadCountsOpenWork: GET /workload counts each person's open cases and their overdue
// and at-risk deadlines, and the open cases nobody holds; a specialist may not ask.
func TestWorkloadCountsOpenWork(t *testing.T) {
	h := newHarness(t)
	id, etag := h.createCase()
	h.createCase2()
	r := h.do("POST", "/api/v1/cases/"+id+"/events", map[string]any{"event": "request_documents"}, "If-Match", etag)
	if r.status != http.StatusOK {
		t.Fatalf("request_documents: %d %s", r.status, r.body)
	}
	load := func() (map[string]map[string]any, map[string]any) {
		body := h.do("GET", "/api/v1/workload", nil).json(t)
		people := map[string]map[string]any{}
		for _, it := range body["items"].([]any) {
			m := it.(map[string]any)
			people[m["name"].(string)] = m
		}
		return people, body["unassigned"].(map[string]any)
	}
	people, un := load()
	if un["open_cases"] != 2.0 || un["overdue"] != 0.0 {
		t.Errorf("unassigned: %v, want 2 open cases, nothing overdue", un)
	}
	anna := people[harnessUserNames[domain.RoleSpecialist]]
	if anna == nil || anna["open_cases"] != 0.0 || anna["role"] != "specialist" {
		t.Fatalf("the specialist's load: %v", anna)
	}
	if _, admin := people[harnessUserNames[domain.RoleAdmin]]; admin {
		t.Error("the admin is listed as someone who holds cases")
	}

	// Given to the specialist, with its deadline overdue.
	c := h.do("GET", "/api/v1/cases/"+id, nil)
	r = h.do("POST", "/api/v1/cases/"+id+"/assignee", map[string]any{"assignee_id": anna["id"]}, "If-Match", c.header.Get("ETag"))
	if r.status != http.StatusOK {
		t.Fatalf("reassign: %d %s", r.status, r.body)
	}
	if err := h.db.Gorm.Exec("UPDATE deadlines SET due_at = now() - interval '1 day' WHERE case_id = ? AND state = 'open'", id).Error; err != nil {
		t.Fatal(err)
	}
	people, un = load()
	if a := people[harnessUserNames[domain.RoleSpecialist]]; a["open_cases"] != 1.0 || a["overdue"] != 1.0 || a["at_risk"] != 0.0 {
		t.Errorf("after the reassignment the specialist's load is %v, want 1 case, 1 overdue", a)
	}
	if un["open_cases"] != 1.0 {
		t.Errorf("after the reassignment %v cases are unassigned, want 1", un["open_cases"])
	}

	// Only supervisors see everyone's work.
	if r := h.do("GET", "/api/v1/workload", nil, "Authorization", "Bearer "+h.tokens[domain.RoleSpecialist]); r.status != http.StatusForbidden {
		t.Errorf("a specialist asking for the workload: %d", r.status)
	}
}

// TestAgencyDirectoryByKind: the pickers' list holds the agencies of the kind asked for, with
// no keys or webhooks; an unknown kind is a 400.
func TestAgencyDirectoryByKind(t *testing.T) {
	h := newHarness(t)
	items := h.do("GET", "/api/v1/agency-directory?kind=guardianship", nil).json(t)["items"].([]any)
	if len(items) != 1 || items[0].(map[string]any)["id"] != h.tokens["guardianship_id"] {
		t.Fatalf("guardianship bodies: %v", items)
	}
	for k := range items[0].(map[string]any) {
		if k != "id" && k != "name" && k != "kind" {
			t.Errorf("the directory shows %q", k)
		}
	}
	if all := h.do("GET", "/api/v1/agency-directory", nil).json(t)["items"].([]any); len(all) < len(domain.AgencyKinds) {
		t.Errorf("every kind: %d agencies", len(all))
	}
	if r := h.do("GET", "/api/v1/agency-directory?kind=bank", nil); r.status != http.StatusBadRequest {
		t.Errorf("an unknown kind: %d", r.status)
	}
}
