package api_test

import (
	"net/url"
	"strings"
	"testing"

	"carepath/domain"
)

// TestConsoleHotlineDesk: the search box on every console page finds a case by a relative's
// phone typed any way; the case page shows the next step and logs a call with a promised
// call-back; the open call-backs list shows it and a call-back made from there closes it.
func TestConsoleHotlineDesk(t *testing.T) {
	h := newHarness(t)
	id, _ := h.createCase() // the son's phone: +7 903 000-00-01
	b := newBrowser(t, h)
	b.login(h.tokens[domain.RoleSpecialist])

	// The search box in the header, on a page other than the list.
	b.open("/console/follow-ups")
	b.wait("header search", `!!document.querySelector('#quick-q')`)
	b.typeIn("#quick-q", "8 (903) 000 00 01\n")
	b.wait("found by phone", `document.querySelectorAll('table.cases tbody tr').length === 1`)
	if got := evalJS[string](b, `document.querySelector('table.cases tbody tr').dataset.caseId`); got != id {
		t.Fatalf("the phone search found %s, want %s", got, id)
	}
	b.click("table.cases tbody tr .case-link")
	b.wait("case page", `!!document.querySelector('#new-call-open')`)
	if next := b.text("#next-step"); !strings.Contains(next, "Открытых сроков нет") && !strings.Contains(next, "Следующий шаг") {
		t.Errorf("next step line: %q", next)
	}
	b.click("#new-call-open")
	b.wait("new call form", `!!document.querySelector('#new-call')`)
	b.set("#call-topic", "voucher")
	b.typeIn("#call-name", "Кузнецов Олег")
	b.typeIn("#call-phone", "+7 903 000-00-01")
	b.typeIn("#call-question", "Когда будет путёвка?")
	b.typeIn("#call-answer", "Уточню и перезвоню")
	b.set("#call-follow-up", domain.DateOf(h.clockNow()).AddDays(2).String())
	b.click("#new-call button[type=submit]")
	b.wait("call logged", `document.querySelectorAll('#contacts-log li').length === 1 && !!document.querySelector('.flash')`)
	b.shot("console-case-call", true)
	if got := b.text("#contacts-log"); !strings.Contains(got, "Путёвка") || !strings.Contains(got, "Перезвонить до") {
		t.Errorf("the call log shows %q", got)
	}

	b.click(`#nav a[href="/console/follow-ups"]`)
	b.wait("open call-backs", `document.querySelectorAll('#follow-ups .contact').length === 1`)
	b.shot("console-follow-ups", false)
	b.click("#follow-ups button")
	b.wait("call-back form", `!!document.querySelector('#new-call')`)
	b.typeIn("#call-answer", "Перезвонили: путёвка в работе")
	b.click("#new-call button[type=submit]")
	b.wait("no call-back owed", `!!document.querySelector('#follow-ups .empty')`)
	r := h.do("GET", "/api/v1/cases/"+id+"/contacts", nil)
	if n := len(r.json(t)["items"].([]any)); n != 2 {
		t.Errorf("the case has %d contacts, want the call and the call-back", n)
	}
}

// TestConsoleLeadsQueue: the outreach leads' queue, neediest first, and a lead converted into a
// case from it.
func TestConsoleLeadsQueue(t *testing.T) {
	h := newHarness(t)
	h.token = h.tokens["post_office"]
	for _, name := range []string{"Орлов Пётр Ильич", "Смирнова Анна Петровна"} {
		lead := matrixLead()
		lead.FullName = name
		if name == "Орлов Пётр Ильич" {
			lead.Answers = domain.LeadAnswers{Mobility: "independent", SelfCare: "independent", Memory: "fine", WhoHelps: "сын"}
		}
		if r := h.do("POST", "/api/v1/leads", lead); r.status != 201 {
			t.Fatalf("lead: %d %s", r.status, r.body)
		}
	}
	h.token = h.tokens[domain.RoleSupervisor]
	b := newBrowser(t, h)
	b.login(h.tokens[domain.RoleSpecialist])
	b.open("/console/leads")
	b.wait("queue", `document.querySelectorAll('#leads .lead').length === 2`)
	b.shot("console-leads", true)
	names := evalJS[[]string](b, `[...document.querySelectorAll('#leads .lead strong')].map(s => s.textContent)`)
	if len(names) != 2 || names[0] != "Смирнова Анна Петровна" {
		t.Fatalf("the neediest lead must come first: %v", names)
	}
	b.click("#leads .lead .buttons button.primary")
	b.wait("convert form", `!!document.querySelector('#cv-snils')`)
	b.typeIn("#cv-snils", "112-233-445 95")
	b.click("form.convert button[type=submit]")
	b.wait("converted", `!!document.querySelector('#converted a')`)
	href := evalJS[string](b, `document.querySelector('#converted a').getAttribute('href')`)
	id := strings.TrimPrefix(href, "/console/cases/")
	r := h.do("GET", "/api/v1/cases/"+url.PathEscape(id), nil)
	if r.status != 200 || r.json(t)["channel"] != "outreach" || r.json(t)["applicant"].(map[string]any)["full_name"] != "Смирнова Анна Петровна" {
		t.Fatalf("converted case: %d %s", r.status, r.body)
	}
}
