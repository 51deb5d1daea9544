package api_test

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"carepath/domain"
	"carepath/store"
)

func TestCreateCase(t *testing.T) {
	h := newHarness(t)
	r := h.do("POST", "/api/v1/cases", newCaseBody)
	if r.status != http.StatusCreated {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	m := r.json(t)
	if !strings.HasPrefix(m["number"].(string), "KC-") || len(m["access_code"].(string)) < 10 || m["state"] != "intake" || m["version"].(float64) != 1 {
		t.Fatalf("created case: %s", r.body)
	}
	if r.header.Get("ETag") != `"1"` || r.header.Get("Location") != "/api/v1/cases/"+m["id"].(string) {
		t.Fatalf("headers: %v", r.header)
	}
	if ev := m["allowed_events"].([]any); len(ev) != 2 || ev[0] != "request_documents" || ev[1] != "withdraw" {
		t.Fatalf("allowed events %v", ev)
	}
	// The code is shown once: a read does not carry it, and the stored hash is not the code.
	got := h.do("GET", "/api/v1/cases/"+m["id"].(string), nil)
	if strings.Contains(string(got.body), m["access_code"].(string)) || strings.Contains(string(got.body), "access_code") {
		t.Fatalf("access code visible on read")
	}
}

var cyrillic = regexp.MustCompile(`[А-Яа-яЁё]`)

func TestCreateCaseRejectsBadInput(t *testing.T) {
	h := newHarness(t)
	with := func(mutate func(m map[string]any)) map[string]any {
		m := map[string]any{}
		for k, v := range newCaseBody {
			m[k] = v
		}
		a := map[string]any{}
		for k, v := range newCaseBody["applicant"].(map[string]any) {
			a[k] = v
		}
		m["applicant"] = a
		mutate(m)
		return m
	}
	tests := []struct {
		name   string
		body   any
		status int
		field  string
	}{
		{"unknown field", with(func(m map[string]any) { m["favourite_colour"] = "blue" }), 400, ""},
		{"wrong type", with(func(m map[string]any) { m["channel"] = 7 }), 400, "channel"},
		{"bad enum", with(func(m map[string]any) { m["facility_type"] = "hotel" }), 400, "facility_type"},
		{"bad date", with(func(m map[string]any) { m["applicant"].(map[string]any)["birth_date"] = "15.03.1941" }), 400, "applicant.birth_date"},
		{"bad snils checksum", with(func(m map[string]any) { m["applicant"].(map[string]any)["snils"] = "112-233-445 96" }), 400, "applicant.snils"},
		{"missing applicant", with(func(m map[string]any) { delete(m, "applicant") }), 400, ""},
		{"not json", "{channel:", 400, ""},
		{"empty", "", 400, ""},
		{"unknown agency", with(func(m map[string]any) { m["health_org_id"] = "6f1c2f0e-3a7b-4c1d-9e2f-0a1b2c3d4e5f" }), 422, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := h.do("POST", "/api/v1/cases", tc.body)
			if r.status != tc.status {
				t.Fatalf("status %d, want %d: %s", r.status, tc.status, r.body)
			}
			p := r.json(t)
			if tc.field != "" && p["field"] != tc.field {
				t.Fatalf("field %v, want %s: %s", p["field"], tc.field, r.body)
			}
			if p["detail"] == "" {
				t.Fatalf("no detail: %s", r.body)
			}
			// Every refusal has its reasons: a stable code and a Russian sentence.
			reasons, _ := p["reasons"].([]any)
			if len(reasons) == 0 {
				t.Fatalf("no reasons: %s", r.body)
			}
			for _, x := range reasons {
				rr := x.(map[string]any)
				if code, _ := rr["code"].(string); code == "" || code == "unlisted" || !cyrillic.MatchString(fmt.Sprint(rr["message"])) {
					t.Errorf("reason %v", rr)
				}
			}
		})
	}
	// The SNILS's checksum, by its code, in Russian, without the expected digits.
	r := h.do("POST", "/api/v1/cases", with(func(m map[string]any) { m["applicant"].(map[string]any)["snils"] = "112-233-445 96" }))
	reason := r.json(t)["reasons"].([]any)[0].(map[string]any)
	if reason["code"] != "snils_checksum" || reason["field"] != "applicant.snils" || !strings.HasPrefix(reason["message"].(string), "СНИЛС: ") {
		t.Errorf("snils reason: %v", reason)
	}
	var n int
	h.db.Gorm.Raw("SELECT count(*) FROM cases").Scan(&n)
	if n != 0 {
		t.Fatalf("bad input created %d cases", n)
	}
}

func TestAuthRequired(t *testing.T) {
	h := newHarness(t)
	for _, tok := range []string{"", "wrong-token-wrong-token"} {
		h.token = tok
		r := h.do("GET", "/api/v1/cases", nil)
		if r.status != http.StatusUnauthorized || r.header.Get("WWW-Authenticate") == "" {
			t.Fatalf("token %q: %d %v", tok, r.status, r.header)
		}
	}
	// The lifecycle reference is public.
	if r := h.do("GET", "/api/v1/lifecycle", nil); r.status != 200 {
		t.Fatalf("lifecycle: %d", r.status)
	}
}

func TestFireEventStatuses(t *testing.T) {
	h := newHarness(t)
	id, etag := h.createCase()
	path := "/api/v1/cases/" + id + "/events"
	tests := []struct {
		name    string
		body    any
		ifMatch string
		status  int
		code    string
	}{
		{"missing If-Match", map[string]any{"event": "request_documents"}, "", 428, "precondition_required"},
		{"bad If-Match", map[string]any{"event": "request_documents"}, "abc", 400, "invalid"},
		{"unknown event", map[string]any{"event": "teleport"}, etag, 400, "invalid"},
		{"unknown field", map[string]any{"event": "request_documents", "color": "red"}, etag, 400, "invalid"},
		{"not allowed here", map[string]any{"event": "admit"}, etag, 409, "conflict"},
		{"stale version", map[string]any{"event": "request_documents"}, `"7"`, 412, "stale"},
		{"ok", map[string]any{"event": "request_documents", "comment": "звонок сыну"}, etag, 200, ""},
		{"guard refused", map[string]any{"event": "submit_for_review"}, `"2"`, 422, "unprocessable"},
		{"old version after change", map[string]any{"event": "withdraw"}, etag, 412, "stale"},
	}
	for _, tc := range tests {
		r := h.do("POST", path, tc.body, "If-Match", tc.ifMatch)
		if r.status != tc.status {
			t.Fatalf("%s: %d, want %d: %s", tc.name, r.status, tc.status, r.body)
		}
		if tc.code != "" && r.json(t)["code"] != tc.code {
			t.Fatalf("%s: code %v", tc.name, r.json(t)["code"])
		}
		if tc.name == "guard refused" {
			reasons := r.json(t)["reasons"].([]any)
			if len(reasons) != 7 {
				t.Fatalf("want each of the 7 missing documents named: %v", reasons)
			}
		}
		if tc.name == "ok" && (r.header.Get("ETag") != `"2"` || r.json(t)["state"] != "collecting_documents") {
			t.Fatalf("ok: %v %s", r.header, r.body)
		}
	}
	if r := h.do("POST", "/api/v1/cases/6f1c2f0e-3a7b-4c1d-9e2f-0a1b2c3d4e5f/events", map[string]any{"event": "withdraw"}, "If-Match", `"1"`); r.status != 404 {
		t.Fatalf("unknown case: %d", r.status)
	}
	if r := h.do("GET", "/api/v1/cases/not-a-uuid", nil); r.status != 400 && r.status != 404 {
		t.Fatalf("malformed id: %d", r.status)
	}
}

func TestWholeJourneyThroughTheAPI(t *testing.T) {
	h := newHarness(t)
	fac := h.facility("Пансионат «Ромашка»", domain.ElderlyDisabled, 2)
	id, etag := h.createCase()
	fire := func(body map[string]any) {
		t.Helper()
		r := h.do("POST", "/api/v1/cases/"+id+"/events", body, "If-Match", etag)
		if r.status != 200 {
			t.Fatalf("%v: %d %s", body["event"], r.status, r.body)
		}
		etag = r.header.Get("ETag")
	}
	fire(map[string]any{"event": "request_documents"})
	issued := time.Now().AddDate(0, 0, -7).Format(time.DateOnly)
	for _, doc := range []string{"application", "passport", "snils", "medical_card", "no_contraindications", "income_certificate", "residence_proof", "representative_authority"} {
		r := h.do("PUT", "/api/v1/cases/"+id+"/documents/"+doc, map[string]any{"status": "received", "issued_on": issued, "note": "копия"})
		if r.status != 200 {
			t.Fatalf("document %s: %d %s", doc, r.status, r.body)
		}
		etag = r.header.Get("ETag")
	}
	if r := h.do("PUT", "/api/v1/cases/"+id+"/documents/diploma", map[string]any{"status": "received"}); r.status != 400 {
		t.Fatalf("unknown document type: %d", r.status)
	}
	if r := h.do("PUT", "/api/v1/cases/"+id+"/documents/medical_card", map[string]any{"status": "received"}); r.status != 400 {
		t.Fatalf("medical card without issue date: %d %s", r.status, r.body)
	}
	fire(map[string]any{"event": "submit_for_review"})
	fire(map[string]any{"event": "recognize_need", "ippsu_number": "77-0001", "ippsu_date": issued})
	fire(map[string]any{"event": "issue_voucher", "facility_id": fac})
	fire(map[string]any{"event": "admit", "admitted_on": time.Now().Format(time.DateOnly)})
	r := h.do("GET", "/api/v1/cases/"+id, nil)
	m := r.json(t)
	if m["state"] != "residing" || m["state_label"] != "Проживает в учреждении" || m["facility_id"] != fac {
		t.Fatalf("after admission: %s", r.body)
	}
	hist := h.do("GET", "/api/v1/cases/"+id+"/history", nil).json(t)["items"].([]any)
	if len(hist) != int(m["version"].(float64)) {
		t.Fatalf("%d history entries for version %v", len(hist), m["version"])
	}
	last := hist[len(hist)-1].(map[string]any)
	if last["event"] != "admit" || last["from"] != "voucher_issued" || last["to"] != "residing" || last["actor_id"] == "" {
		t.Fatalf("last history entry %v", last)
	}
	facs := h.do("GET", "/api/v1/facilities", nil).json(t)["items"].([]any)
	if f := facs[0].(map[string]any); f["taken"].(float64) != 1 || f["free_beds"].(float64) != 1 {
		t.Fatalf("facility after admission: %v", f)
	}
}

func TestListCases(t *testing.T) {
	h := newHarness(t)
	for i := 0; i < 5; i++ {
		h.createCase()
	}
	r := h.do("GET", "/api/v1/cases?limit=2&state=intake", nil)
	page := r.json(t)
	if len(page["items"].([]any)) != 2 || page["next_cursor"] == "" {
		t.Fatalf("page 1: %s", r.body)
	}
	r = h.do("GET", "/api/v1/cases?limit=2&state=intake&cursor="+page["next_cursor"].(string), nil)
	if len(r.json(t)["items"].([]any)) != 2 {
		t.Fatalf("page 2: %s", r.body)
	}
	for _, bad := range []string{"limit=0", "limit=500", "state=flying", "overdue=maybe", "cursor=zzz", "assignee=bob"} {
		if r := h.do("GET", "/api/v1/cases?"+bad, nil); r.status != 400 {
			t.Errorf("%s: %d", bad, r.status)
		}
	}
	if r := h.do("GET", "/api/v1/cases?q=Кузнецова&overdue=false", nil); len(r.json(t)["items"].([]any)) != 5 {
		t.Fatalf("q: %s", r.body)
	}
	// A number as typed on a Russian keyboard, without dashes, finds its case.
	number := h.do("GET", "/api/v1/cases?limit=1", nil).json(t)["items"].([]any)[0].(map[string]any)["number"].(string)
	typed := "кс " + number[3:7] + " " + number[8:]
	items := h.do("GET", "/api/v1/cases?q="+url.QueryEscape(typed), nil).json(t)["items"].([]any)
	if len(items) != 1 || items[0].(map[string]any)["number"] != number {
		t.Fatalf("q=%s: %v", typed, items)
	}
}

func TestOpsEndpoints(t *testing.T) {
	h := newHarness(t)
	if r := h.do("GET", "/healthz", nil); r.status != 200 {
		t.Fatalf("healthz %d", r.status)
	}
	r := h.do("GET", "/readyz", nil, "X-Request-Id", "trace-me-1")
	if r.status != 200 || r.header.Get("X-Request-Id") != "trace-me-1" {
		t.Fatalf("readyz %d %v", r.status, r.header)
	}
	// without one (or with one that is not sane) each request gets an id of its own
	seen := map[string]bool{}
	for _, hdr := range [][]string{nil, nil, {"X-Request-Id", "bad id\t!"}} {
		id := h.do("GET", "/healthz", nil, hdr...).header.Get("X-Request-Id")
		if id == "" || id == "bad id\t!" || len(id) > 128 || seen[id] || strings.Trim(id, "abcdefghijklmnopqrstuvwxyz0123456789-") != "" {
			t.Fatalf("made request id %q (seen before: %v)", id, seen[id])
		}
		seen[id] = true
	}
	if r := h.do("GET", "/openapi.yaml", nil); r.status != 200 || !strings.Contains(string(r.body), "openapi: 3") {
		t.Fatalf("openapi.yaml %d", r.status)
	}
	if r := h.do("GET", "/docs", nil); r.status != 200 || !strings.Contains(string(r.body), "/static/redoc.standalone.js") || strings.Contains(string(r.body), "cdn") {
		t.Fatalf("docs %d", r.status)
	}
	if r := h.do("GET", "/static/redoc.standalone.js", nil); r.status != 200 || len(r.body) < 100000 {
		t.Fatalf("redoc bundle %d, %d bytes", r.status, len(r.body))
	}
	h.do("GET", "/api/v1/cases", nil)
	m := h.do("GET", "/metrics", nil, "Authorization", "Bearer "+testMetricsToken)
	if !strings.Contains(string(m.body), `carepath_http_requests_total{method="GET",route="/api/v1/cases",status="200"}`) ||
		!strings.Contains(string(m.body), "carepath_http_request_duration_seconds_bucket") {
		t.Fatalf("metrics lack request counts: %.2000s", m.body)
	}
	if r := h.do("DELETE", "/healthz", nil); r.status != 405 {
		t.Fatalf("DELETE /healthz: %d", r.status)
	}
	if r := h.do("GET", "/nowhere", nil); r.status != 404 {
		t.Fatalf("unknown path: %d", r.status)
	}
}

// TestChangeLogsItsAccessOnce: a change writes exactly one access-log line, in the change's own
// transaction, and a refused change writes none.
func TestChangeLogsItsAccessOnce(t *testing.T) {
	h := newHarness(t)
	id, etag := h.createCase()
	count := func() int {
		var n int
		if err := h.db.Gorm.Raw("SELECT count(*) FROM access_log WHERE case_id = ?", id).Scan(&n).Error; err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := count(); n != 1 {
		t.Fatalf("registration logged %d access lines, want 1", n)
	}
	if r := h.do("POST", "/api/v1/cases/"+id+"/events", map[string]any{"event": "request_documents"}, "If-Match", etag); r.status != 200 {
		t.Fatalf("event: %d %s", r.status, r.body)
	}
	if n := count(); n != 2 {
		t.Fatalf("after one event %d access lines, want 2", n)
	}
	if r := h.do("POST", "/api/v1/cases/"+id+"/events", map[string]any{"event": "request_documents"}, "If-Match", etag); r.status != 412 {
		t.Fatalf("stale event: %d", r.status)
	}
	if n := count(); n != 2 {
		t.Fatalf("a refused change was logged: %d lines", n)
	}
}

// TestRegistrationAssignsTheLeastBusySpecialist: with an Assigner, a new case nobody holds goes
// to the enabled specialist with the fewest open cases.
func TestRegistrationAssignsTheLeastBusySpecialist(t *testing.T) {
	h := newHarness(t)
	spec := h.do("GET", "/api/v1/me", nil, "Authorization", "Bearer "+h.tokens[domain.RoleSpecialist]).json(t)["id"].(string)
	// A second specialist who already holds a case.
	busy := h.do("POST", "/api/v1/users", map[string]any{"name": "Занятова Вера", "role": "specialist"}, "Authorization", "Bearer "+h.tokens[domain.RoleAdmin])
	if busy.status != http.StatusCreated {
		t.Fatalf("create user: %d %s", busy.status, busy.body)
	}
	busyID := busy.json(t)["user"].(map[string]any)["id"].(string)
	id, etag := h.createCase()
	if r := h.do("POST", "/api/v1/cases/"+id+"/assignee", map[string]any{"assignee_id": busyID}, "If-Match", etag); r.status != http.StatusOK {
		t.Fatalf("assign: %d %s", r.status, r.body)
	}
	h.svc.Assigner = store.NewIdentities(h.db)
	defer func() { h.svc.Assigner = nil }()
	r := h.do("POST", "/api/v1/cases", newCaseBody)
	if got := r.json(t)["assignee_id"]; got != spec {
		t.Errorf("the new case went to %v, want the idle specialist %s", got, spec)
	}
}
