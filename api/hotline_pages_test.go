package api_test

import (
	"net/url"
	"strings"
	"testing"
	"time"

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

// TestStatusPageContactRequest: after a successful lookup, a relative asks from the status page to
// be put in touch with the resident; the home is told.
func TestStatusPageContactRequest(t *testing.T) {
	h := newHarness(t)
	r := h.do("POST", "/api/v1/cases", newCaseBody)
	if r.status != 201 {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	c := r.json(t)
	h.makeResident(c["id"].(string))
	b := newBrowser(t, h)
	b.open("/status")
	b.wait("status form", `!!document.querySelector('#case_number')`)
	b.typeIn("#case_number", c["number"].(string))
	b.typeIn("#access_code", c["access_code"].(string))
	b.click("#status-form button[type=submit]")
	b.wait("contact form", `!!document.querySelector('#contact-form')`)
	b.typeIn("#contact-name", "Кузнецов Олег")
	b.typeIn("#contact-relation", "сын")
	b.typeIn("#contact-phone", "8 916 123-45-67")
	b.typeIn("#contact-text", "Мама, позвони мне")
	b.click("#contact-form button[type=submit]")
	b.wait("request taken", `!!document.querySelector('#contact-done')`)
	b.shot("status-contact-request", true)
	var n int64
	h.db.Gorm.Raw(`SELECT count(*) FROM contact_requests r JOIN notices n ON n.case_id = r.case_id AND n.happening = 'contact_requested'
		WHERE r.case_id = ?`, c["id"]).Scan(&n)
	if n != 1 {
		t.Fatalf("the request and the home's notice: %d", n)
	}
}

// TestConsoleContactRequest: from a resident's case page the operator passes a relative's request
// to the home; its deadline shows among the case's deadlines.
func TestConsoleContactRequest(t *testing.T) {
	h := newHarness(t)
	id, _ := h.createCase()
	h.makeResident(id)
	b := newBrowser(t, h)
	b.login(h.tokens[domain.RoleSpecialist])
	b.open("/console/cases/" + id)
	b.wait("case page", `!!document.querySelector('#contact-request-open')`)
	b.click("#contact-request-open")
	b.wait("form", `!!document.querySelector('#contact-request')`)
	b.typeIn("#cr-name", "Кузнецов Олег")
	b.typeIn("#cr-relation", "сын")
	b.typeIn("#cr-phone", "+7 916 123-45-67")
	b.click("#contact-request button[type=submit]")
	b.wait("passed on", `!!document.querySelector('#flash .flash') && !!document.querySelector('#deadlines li[data-kind="contact_request"]')`)

	// The home answered by phone: the operator records it from the list.
	b.click(`#nav a[href="/console/contact-requests"]`)
	b.wait("open request", `!!document.querySelector('#contact-requests li[data-state="open"] form')`)
	b.shot("console-contact-requests", true)
	b.click("#contact-requests li form button")
	b.wait("done", `!!document.querySelector('#contact-requests li[data-state="done"]')`)
	if got := b.text("#contact-requests"); !strings.Contains(got, "связь установлена") {
		t.Errorf("the list shows %q", got)
	}
}

// TestConsoleStatsPage: a supervisor reads the figures as charts and tables, follows a missed
// deadline to its case and downloads the workbook; a specialist neither sees the link nor the
// figures.
func TestConsoleStatsPage(t *testing.T) {
	h := newHarness(t)
	c := h.waitingCase("female")
	h.facility("Дом для показателей", domain.ElderlyDisabled, 3)
	yesterday := domain.DateOf(time.Now()).AddDays(-1)
	if err := h.db.Gorm.Exec(`INSERT INTO deadlines (case_id, kind, ref, opened_at, due_on, due_at, state, closed_at)
		VALUES (?, 'guardianship_notice', 'test', now() - interval '3 days', ?, ?, 'missed', now())`,
		c.ID, yesterday.String(), yesterday.EndInMoscow()).Error; err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t, h)
	b.login(h.tokens[domain.RoleSupervisor])
	b.open("/console/stats")
	b.wait("figures shown", `document.querySelectorAll('#stats-states tbody tr').length === 13 && !!document.querySelector('#stats-missed a.case-link')`)
	b.wait("charts drawn", `!!window.Chart && !!Chart.getChart(document.getElementById('chart-applications')) && !!Chart.getChart(document.getElementById('chart-occupancy'))`)
	b.wait("nav link", `!document.querySelector('#nav a[href="/console/stats"]').hidden`)
	if got := b.text("#stats-occupancy"); !strings.Contains(got, "Дом для показателей") {
		t.Errorf("occupancy table: %q", got)
	}
	b.shot("console-stats", false)
	b.click("#stats-missed a.case-link")
	b.wait("the case of the missed deadline", `location.pathname === '/console/cases/`+c.ID+`'`)

	s := newBrowser(t, h)
	s.login(h.tokens[domain.RoleSpecialist])
	s.open("/console/stats")
	s.wait("refused", `!!document.querySelector('#stats .problem')`)
	s.wait("no link for a specialist", `document.querySelector('#nav a[href="/console/stats"]').hidden`)
}
