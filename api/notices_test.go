package api_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"carepath/domain"
)

func TestNotices(t *testing.T) {
	h := newHarness(t)
	c, _, err := h.svc.Register(context.Background(), domain.System, domain.NewCase{Channel: domain.ChannelMFC, FacilityType: domain.ElderlyDisabled,
		GuardianshipID: h.tokens["guardianship_id"],
		Applicant: domain.Applicant{FullName: "Иванова Мария Петровна", BirthDate: domain.MustDate("1941-03-15"), Gender: "female",
			SNILS: "112-233-445 95", Address: "Москва", LegalCapacity: domain.Incapacitated}})
	if err != nil {
		t.Fatal(err)
	}
	h.token = h.tokens[domain.RoleSpecialist]
	r := h.do("GET", "/api/v1/cases/"+c.ID+"/notices", nil)
	items, _ := r.json(t)["items"].([]any)
	if r.status != http.StatusOK || len(items) != 1 {
		t.Fatalf("list: %d %s", r.status, r.body)
	}
	n := items[0].(map[string]any)
	if n["audience"] != domain.AudienceGuardianship || n["status"] != string(domain.NoticePending) || n["recipient"] != h.tokens["guardianship_id"] {
		t.Errorf("the guardianship body's notice: %v", n)
	}
	id := n["id"].(string)
	for _, tt := range []struct {
		name, method, path, token string
		want                      int
	}{
		{"list of no case", "GET", "/api/v1/cases/0e000000-0000-4000-8000-000000000000/notices", domain.RoleSpecialist, 404},
		{"retry a pending notice", "POST", "/api/v1/notices/" + id + "/retry", domain.RoleSpecialist, 202},
		{"retry no notice", "POST", "/api/v1/notices/0e000000-0000-4000-8000-000000000000/retry", domain.RoleSpecialist, 404},
		{"an admin does not read notices", "GET", "/api/v1/cases/" + c.ID + "/notices", domain.RoleAdmin, 403},
		{"an agency does not retry notices", "POST", "/api/v1/notices/" + id + "/retry", "guardianship", 404},
	} {
		h.token = h.tokens[tt.token]
		if r := h.do(tt.method, tt.path, nil); r.status != tt.want {
			t.Errorf("%s: %d %s, want %d", tt.name, r.status, r.body, tt.want)
		}
	}
	h.db.Gorm.Exec("UPDATE notices SET status = 'delivered', delivered_at = now() WHERE id = ?", id)
	h.token = h.tokens[domain.RoleSpecialist]
	if r := h.do("POST", "/api/v1/notices/"+id+"/retry", nil); r.status != http.StatusConflict {
		t.Errorf("retry a delivered notice: %d %s", r.status, r.body)
	}
}

// TestQueueConsole: the asynq monitor is for admins; a browser signs in with HTTP Basic and the
// token as the password.
func TestQueueConsole(t *testing.T) {
	h := newHarness(t)
	get := func(basic, bearer string) *http.Response {
		req, _ := http.NewRequest("GET", h.srv.URL+"/ops/queues", nil)
		if basic != "" {
			req.SetBasicAuth("anyone", basic)
		}
		if bearer != "" {
			req.Header.Set("Authorization", "Bearer "+bearer)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res
	}
	if r := get("", ""); r.StatusCode != 401 || !strings.HasPrefix(r.Header.Get("WWW-Authenticate"), "Basic") {
		t.Errorf("without credentials: %d %q", r.StatusCode, r.Header.Get("WWW-Authenticate"))
	}
	if r := get(h.tokens[domain.RoleSupervisor], ""); r.StatusCode != 403 {
		t.Errorf("a supervisor: %d", r.StatusCode)
	}
	if r := get("wrong-token", ""); r.StatusCode != 401 {
		t.Errorf("a wrong token: %d", r.StatusCode)
	}
	if r := get(h.tokens[domain.RoleAdmin], ""); r.StatusCode != 200 {
		t.Errorf("an admin with Basic: %d", r.StatusCode)
	}
	if r := get("", h.tokens[domain.RoleAdmin]); r.StatusCode != 200 {
		t.Errorf("an admin with a bearer token: %d", r.StatusCode)
	}
}
