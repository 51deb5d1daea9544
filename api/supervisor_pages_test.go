package api_test

import (
	"strings"
	"testing"

	"carepath/domain"
)

// TestConsoleSupervisorBoard: a supervisor sees every specialist's open work and the deadlines
// across them, gives a case to a specialist from the board and another from the case page; a
// specialist does not get the board.
func TestConsoleSupervisorBoard(t *testing.T) {
	h := newHarness(t)
	id, etag := h.createCase()
	id2, _ := h.createCase2()
	// Collecting documents has a deadline: the case is on the board.
	if r := h.do("POST", "/api/v1/cases/"+id+"/events", map[string]any{"event": "request_documents"}, "If-Match", etag); r.status != 200 {
		t.Fatalf("request_documents: %d %s", r.status, r.body)
	}
	var specialist string
	for _, u := range h.do("GET", "/api/v1/workload", nil).json(t)["items"].([]any) {
		if m := u.(map[string]any); m["name"] == harnessUserNames[domain.RoleSpecialist] {
			specialist = m["id"].(string)
		}
	}
	if specialist == "" {
		t.Fatal("the workload does not list the harness's specialist")
	}

	b := newBrowser(t, h)
	b.login(h.tokens[domain.RoleSupervisor])
	b.wait("nav link for supervisors", `!document.querySelector('#nav a[href="/console/supervisor"]').hidden`)
	b.click(`#nav a[href="/console/supervisor"]`)
	b.wait("board", `!!document.querySelector('#workload-unassigned') && document.querySelectorAll('#board tbody tr').length > 0`)
	b.shot("console-supervisor", true)
	row := `#board tbody tr[data-case-id="` + id + `"]`
	b.set(row+" select", specialist)
	b.click(row + " button")
	b.wait("reassigned", `!!document.querySelector('#board-flash .flash')`)
	if got := h.do("GET", "/api/v1/cases/"+id, nil).json(t)["assignee_id"]; got != specialist {
		t.Errorf("after the board's reassignment the case is held by %v, want %s", got, specialist)
	}
	if got := b.text("#workload tr[data-id=\"" + specialist + "\"]"); !strings.Contains(got, harnessUserNames[domain.RoleSpecialist]) || !strings.Contains(got, "1") {
		t.Errorf("the workload row after the reassignment: %q", got)
	}

	// From the case page.
	b.open("/console/cases/" + id2)
	b.wait("reassign form", `!!document.querySelector('#reassign-form select option[value="`+specialist+`"]')`)
	b.set("#assignee-to", specialist)
	b.click("#reassign-form button[type=submit]")
	b.wait("case held", `document.querySelector('#assignee-now') && document.querySelector('#assignee-now').textContent.includes('Тестова Анна')`)
	if got := h.do("GET", "/api/v1/cases/"+id2, nil).json(t)["assignee_id"]; got != specialist {
		t.Errorf("after the case page's reassignment the case is held by %v", got)
	}

	// Only for supervisors.
	s := newBrowser(t, h)
	s.login(h.tokens[domain.RoleSpecialist])
	s.open("/console/supervisor")
	s.wait("refused politely", `!!document.querySelector('main .problem')`)
	if evalJS[bool](s, `!document.querySelector('#nav a[href="/console/supervisor"]').hidden`) {
		t.Error("a specialist sees the supervisors' nav link")
	}
}

// createCase2 registers a second case for another applicant.
func (h *harness) createCase2() (string, string) {
	h.t.Helper()
	body := map[string]any{}
	for k, v := range newCaseBody {
		body[k] = v
	}
	app := map[string]any{}
	for k, v := range newCaseBody["applicant"].(map[string]any) {
		app[k] = v
	}
	app["full_name"], app["snils"] = "Орлова Мария Ивановна", "112-233-445 95"
	body["applicant"] = app
	r := h.do("POST", "/api/v1/cases", body)
	if r.status != 201 {
		h.t.Fatalf("create case: %d %s", r.status, r.body)
	}
	return r.json(h.t)["id"].(string), r.header.Get("ETag")
}

// TestConsoleLifecycleDiagram: the diagram draws every state and every change of state of
// GET /api/v1/lifecycle, and says every event in a table.
func TestConsoleLifecycleDiagram(t *testing.T) {
	h := newHarness(t)
	b := newBrowser(t, h)
	b.login(h.tokens[domain.RoleSpecialist])
	b.click(`#nav a[href="/console/lifecycle"]`)
	b.wait("diagram", `document.querySelectorAll('#lifecycle-svg g[data-state]').length > 0`)
	b.shot("console-lifecycle", true)
	arrows := 0
	for _, e := range domain.Events {
		if e.Stays { // an event that keeps the state (the ИППСУ's review, the contract) is in the table only
			continue
		}
		arrows += len(e.Sources)
		if e.AltDest != "" {
			arrows += len(e.Sources)
		}
	}
	if n := evalJS[int](b, `document.querySelectorAll('#lifecycle-svg g[data-state]').length`); n != len(domain.States) {
		t.Errorf("the diagram draws %d states, want %d", n, len(domain.States))
	}
	if n := evalJS[int](b, `document.querySelectorAll('#lifecycle-svg path[data-event]').length`); n != arrows {
		t.Errorf("the diagram draws %d arrows, want %d", n, arrows)
	}
	if n := evalJS[int](b, `document.querySelectorAll('#transitions tbody tr').length`); n != len(domain.Events) {
		t.Errorf("the table lists %d events, want %d", n, len(domain.Events))
	}
	// The boxes do not overlap.
	if overlap := evalJS[bool](b, `(() => { const r = [...document.querySelectorAll('#lifecycle-svg g[data-state] rect')].map((e) => e.getBBox());
		return r.some((a, i) => r.some((c, j) => i < j && a.x < c.x + c.width && c.x < a.x + a.width && a.y < c.y + c.height && c.y < a.y + a.height)); })()`); overlap {
		t.Error("two states' boxes overlap")
	}
}

// TestConsoleAgencyPickers: the registration form offers the guardianship bodies and health
// organisations by name, and the case is registered with the ones chosen.
func TestConsoleAgencyPickers(t *testing.T) {
	h := newHarness(t)
	b := newBrowser(t, h)
	b.login(h.tokens[domain.RoleSpecialist])
	b.open("/console/new")
	b.wait("form with the lists", `document.querySelectorAll('#health_org_id option').length > 1 && document.querySelectorAll('#guardianship_id option').length > 1`)
	if n := evalJS[int](b, `document.querySelectorAll('input[placeholder^="00000000"]').length`); n != 0 {
		t.Errorf("the form still asks for %d identifiers typed by hand", n)
	}
	b.typeIn("#full_name", "Зайцева Нина Петровна")
	b.set("#birth_date", "1938-05-06")
	b.typeIn("#snils", "112-233-445 95")
	b.typeIn("#address", "Москва, ул. Ленина, д. 1")
	b.typeIn("#contact-0-name", "Зайцев Олег")
	b.typeIn("#contact-0-relation", "сын")
	b.typeIn("#contact-0-phone", "+7 916 555-44-30")
	b.set("#legal_capacity", "incapacitated")
	evalJS[bool](b, `document.querySelector('#legal_capacity').dispatchEvent(new Event('change'))`)
	b.wait("guardianship list shown", `!document.querySelector('#guardianship_id').closest('.field').hidden`)
	b.set("#guardianship_id", h.tokens["guardianship_id"])
	b.set("#health_org_id", h.tokens["health_id"])
	b.shot("console-new-pickers", false)
	b.click("#new-case-form button[type=submit]")
	b.wait("registered", `!!document.querySelector('#created-code')`)
	items := h.do("GET", "/api/v1/cases?q="+b.text("#created-number"), nil).json(t)["items"].([]any)
	if len(items) != 1 {
		t.Fatalf("found %d cases", len(items))
	}
	c := h.do("GET", "/api/v1/cases/"+items[0].(map[string]any)["id"].(string), nil).json(t)
	if c["guardianship_id"] != h.tokens["guardianship_id"] || c["health_org_id"] != h.tokens["health_id"] {
		t.Errorf("registered with guardianship %v and health organisation %v", c["guardianship_id"], c["health_org_id"])
	}
}
