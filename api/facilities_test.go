package api_test

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"carepath/domain"
)

// waitingCase registers a case for a person of this gender and takes it to the waiting list
// through the service.
func (h *harness) waitingCase(gender string) *domain.Case {
	h.t.Helper()
	ctx := context.Background()
	n := exampleNewCase(h)
	n.Applicant.Gender = gender
	c, _, err := h.svc.Register(ctx, domain.System, n)
	if err != nil {
		h.t.Fatal(err)
	}
	today := domain.DateOf(time.Now())
	issued := today.AddDays(-10)
	if c, err = h.svc.Fire(ctx, domain.System, c.ID, c.Version, domain.EventCommand{Event: domain.RequestDocuments}); err != nil {
		h.t.Fatal(err)
	}
	for _, d := range c.Checklist {
		if c, err = h.svc.RecordDocument(ctx, domain.System, c.ID, d.Type, 0, domain.DocumentUpdate{Status: domain.DocReceived, IssuedOn: &issued}); err != nil {
			h.t.Fatalf("record %s: %v", d.Type, err)
		}
	}
	yesterday := today.AddDays(-1)
	for _, cmd := range []domain.EventCommand{{Event: domain.SubmitForReview}, {Event: domain.RecognizeNeed, IPPSUNumber: "ИППСУ-1", IPPSUDate: &yesterday}} {
		if c, err = h.svc.Fire(ctx, domain.System, c.ID, c.Version, cmd); err != nil {
			h.t.Fatalf("%s: %v", cmd.Event, err)
		}
	}
	return c
}

// fire sends one event through the API with the case's current version.
func (h *harness) fire(id string, body map[string]any) response {
	h.t.Helper()
	c, err := h.cases.Get(context.Background(), id)
	if err != nil {
		h.t.Fatal(err)
	}
	return h.do("POST", "/api/v1/cases/"+id+"/events", body, "If-Match", `"`+strconv.Itoa(c.Version)+`"`)
}

func sectionOf(t *testing.T, f map[string]any, code string) map[string]any {
	t.Helper()
	for _, s := range f["sections"].([]any) {
		if m := s.(map[string]any); m["code"] == code {
			return m
		}
	}
	t.Fatalf("no section %s in %v", code, f)
	return nil
}

var homeBody = map[string]any{"name": "Пансионат «Сосны»", "type": "elderly_disabled", "district": "Северный",
	"address": "Москва, ул. Сосновая, д. 1", "phone": "+7 495 000-00-10",
	"sections": []any{
		map[string]any{"code": "w1", "title": "Женское отделение", "sex": "female", "capacity": 1},
		map[string]any{"code": "m1", "title": "Мужское отделение", "sex": "male", "capacity": 1},
		map[string]any{"code": "care", "title": "Милосердие", "sex": "any", "bedridden": true, "capacity": 1},
	}}

func (h *harness) createHome(body map[string]any) (string, map[string]any) {
	h.t.Helper()
	r := h.do("POST", "/api/v1/facilities", body)
	if r.status != http.StatusCreated || r.header.Get("ETag") != `"1"` {
		h.t.Fatalf("create home: %d %s", r.status, r.body)
	}
	m := r.json(h.t)
	return m["id"].(string), m
}

func TestHomesRegistry(t *testing.T) {
	h := newHarness(t)
	id, home := h.createHome(homeBody)
	if home["capacity"].(float64) != 3 || home["free_beds"].(float64) != 3 || home["stale"] != true || len(home["sections"].([]any)) != 3 {
		t.Fatalf("new home: %v", home)
	}
	if r := h.do("POST", "/api/v1/facilities", homeBody); r.status != http.StatusConflict {
		t.Fatalf("same name again: %d %s", r.status, r.body)
	}
	bad := map[string]any{"name": "Дубли", "type": "elderly_disabled", "sections": []any{
		map[string]any{"code": "a", "title": "А", "sex": "any", "capacity": 1}, map[string]any{"code": "a", "title": "Б", "sex": "any", "capacity": 1}}}
	if r := h.do("POST", "/api/v1/facilities", bad); r.status != http.StatusBadRequest || !strings.Contains(string(r.body), "given twice") {
		t.Fatalf("a section code twice: %d %s", r.status, r.body)
	}
	if r := h.do("GET", "/api/v1/facilities?district=Северный", nil); len(r.json(t)["items"].([]any)) != 1 {
		t.Fatalf("by district: %s", r.body)
	}
	if r := h.do("GET", "/api/v1/facilities?type=veterans&district=Северный", nil); len(r.json(t)["items"].([]any)) != 0 {
		t.Fatalf("by type and district: %s", r.body)
	}
	if r := h.do("GET", "/api/v1/facilities/"+id, nil); r.status != 200 || r.header.Get("ETag") != `"1"` {
		t.Fatalf("get: %d %s", r.status, r.body)
	}
	if r := h.do("PATCH", "/api/v1/facilities/"+id, map[string]any{"district": "Южный"}); r.status != http.StatusPreconditionRequired {
		t.Fatalf("patch without If-Match: %d", r.status)
	}
	r := h.do("PATCH", "/api/v1/facilities/"+id, map[string]any{"district": "Южный"}, "If-Match", `"1"`)
	if r.status != 200 || r.json(t)["district"] != "Южный" || r.header.Get("ETag") != `"2"` {
		t.Fatalf("patch: %d %s", r.status, r.body)
	}
	if r := h.do("PATCH", "/api/v1/facilities/"+id, map[string]any{"district": "Западный"}, "If-Match", `"1"`); r.status != http.StatusPreconditionFailed {
		t.Fatalf("patch on an old version: %d %s", r.status, r.body)
	}

	// A woman's voucher takes the women's section; a second woman finds no bed there.
	first := h.waitingCase("female")
	if r := h.fire(first.ID, map[string]any{"event": "issue_voucher", "facility_id": id}); r.status != 200 {
		t.Fatalf("voucher: %d %s", r.status, r.body)
	}
	second := h.waitingCase("female")
	r = h.fire(second.ID, map[string]any{"event": "issue_voucher", "facility_id": id})
	if r.status != http.StatusUnprocessableEntity || !strings.Contains(string(r.body), "no free bed in a section for a woman, not bedridden") {
		t.Fatalf("second woman: %d %s", r.status, r.body)
	}
	f := h.do("GET", "/api/v1/facilities/"+id, nil).json(t)
	if w := sectionOf(t, f, "w1"); w["reserved"].(float64) != 1 || w["free"].(float64) != 0 {
		t.Fatalf("women's section after the voucher: %v", w)
	}
	// Capacity can never fall below the beds in use: the refusal names the section.
	sections := []any{
		map[string]any{"code": "w1", "title": "Женское отделение", "sex": "female", "capacity": 0},
		map[string]any{"code": "m1", "title": "Мужское отделение", "sex": "male", "capacity": 1},
	}
	r = h.do("PATCH", "/api/v1/facilities/"+id, map[string]any{"sections": sections}, "If-Match", `"2"`)
	if r.status != http.StatusUnprocessableEntity || !strings.Contains(string(r.body), "section w1 (Женское отделение) has 1 beds occupied or reserved") {
		t.Fatalf("capacity below the beds in use: %d %s", r.status, r.body)
	}
	// Admission turns the reservation into a residence; discharge frees it.
	if r := h.fire(first.ID, map[string]any{"event": "admit"}); r.status != 200 {
		t.Fatalf("admit: %d %s", r.status, r.body)
	}
	f = h.do("GET", "/api/v1/facilities/"+id, nil).json(t)
	if w := sectionOf(t, f, "w1"); w["reserved"].(float64) != 0 || w["occupied"].(float64) != 1 {
		t.Fatalf("women's section after admission: %v", w)
	}
	if r := h.fire(first.ID, map[string]any{"event": "discharge", "reason": "по заявлению"}); r.status != 200 {
		t.Fatalf("discharge: %d %s", r.status, r.body)
	}
	if r := h.fire(second.ID, map[string]any{"event": "issue_voucher", "facility_id": id}); r.status != 200 {
		t.Fatalf("voucher after the discharge: %d %s", r.status, r.body)
	}
	// Closed homes issue no vouchers.
	r = h.do("PATCH", "/api/v1/facilities/"+id, map[string]any{"active": false}, "If-Match", `"2"`)
	if r.status != 200 {
		t.Fatalf("close: %d %s", r.status, r.body)
	}
	man := h.waitingCase("male")
	if r := h.fire(man.ID, map[string]any{"event": "issue_voucher", "facility_id": id}); r.status != http.StatusUnprocessableEntity || !strings.Contains(string(r.body), "does not take residents now") {
		t.Fatalf("voucher of a closed home: %d %s", r.status, r.body)
	}
	drift, err := h.svc.VerifyBeds(context.Background())
	if err != nil || len(drift) != 0 {
		t.Fatalf("beds verify: %v %v", drift, err)
	}
	// A counter changed behind the cases' back is drift.
	if err := h.db.Gorm.Exec("UPDATE facility_sections SET reserved = 0 WHERE facility_id = ? AND code = 'w1'", id).Error; err != nil {
		t.Fatal(err)
	}
	drift, err = h.svc.VerifyBeds(context.Background())
	if err != nil || len(drift) == 0 || drift[0].Section != "w1" {
		t.Fatalf("beds verify after tampering: %v %v", drift, err)
	}
}

func TestBedsReportPerSection(t *testing.T) {
	h := newHarness(t)
	h.token = h.tokens["facility"]
	path := "/api/v1/agency/facilities/" + exampleFacilityID + "/beds"
	r := h.do("PUT", path, map[string]any{"sections": []any{map[string]any{"code": "main", "capacity": 80}}})
	f := r.json(t)
	if r.status != 200 || f["capacity"].(float64) != 80 || f["stale"] != false || f["reported_at"] == nil || sectionOf(t, f, "main")["reported_at"] == nil {
		t.Fatalf("report: %d %s", r.status, r.body)
	}
	if r := h.do("PUT", path, map[string]any{"sections": []any{map[string]any{"code": "nope", "capacity": 1}}}); r.status != http.StatusBadRequest || !strings.Contains(string(r.body), `has no section \"nope\"`) {
		t.Fatalf("unknown section: %d %s", r.status, r.body)
	}
	if r := h.do("PUT", path, map[string]any{}); r.status != http.StatusBadRequest {
		t.Fatalf("empty report: %d %s", r.status, r.body)
	}
	// Reported long ago: stale on the board.
	if err := h.db.Gorm.Exec("UPDATE facilities SET reported_at = now() - interval '8 days' WHERE id = ?", exampleFacilityID).Error; err != nil {
		t.Fatal(err)
	}
	h.token = h.tokens[domain.RoleSupervisor]
	if f := h.do("GET", "/api/v1/facilities/"+exampleFacilityID, nil).json(t); f["stale"] != true {
		t.Fatalf("8 days after the report: %v", f)
	}
}
