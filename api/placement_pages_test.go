package api_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/chromedp"

	"carepath/domain"
)

// TestPlacementPages: the occupancy board marks a stale home; the waiting list shows positions,
// priorities and preferences; the offers inbox declines with a reason and accepts (the voucher);
// the case page's panel changes the priority and preferences; the home form adds a home and
// refuses a capacity below the beds taken, naming the section.
func TestPlacementPages(t *testing.T) {
	h := newHarness(t)
	home, _ := h.createHome(map[string]any{"name": "Пансионат «Клён»", "type": "elderly_disabled", "district": "Северный",
		"sections": []any{map[string]any{"code": "w", "title": "Женское отделение", "sex": "female", "capacity": 1}}})
	resident := h.waitingCase("female")
	if r := h.fire(resident.ID, map[string]any{"event": "issue_voucher", "facility_id": home}); r.status != 200 {
		t.Fatalf("voucher: %d %s", r.status, r.body)
	}
	if r := h.fire(resident.ID, map[string]any{"event": "admit"}); r.status != 200 {
		t.Fatalf("admit: %d %s", r.status, r.body)
	}
	a, b := h.waitingCase("female"), h.waitingCase("female")
	if r := h.fire(resident.ID, map[string]any{"event": "discharge", "reason": "переезд к дочери"}); r.status != 200 {
		t.Fatalf("discharge: %d %s", r.status, r.body)
	}
	// One case's offers (the case panel's): only that case's, and only its access logged.
	var logged int64
	h.db.Gorm.Raw("SELECT count(*) FROM access_log WHERE case_id = ?", b.ID).Scan(&logged)
	for id, want := range map[string]int{a.ID: 1, b.ID: 0} {
		r := h.do("GET", "/api/v1/offers?case_id="+id, nil)
		if items := r.json(t)["items"].([]any); r.status != http.StatusOK || len(items) != want {
			t.Errorf("offers of %s: %d %s, want %d", id, r.status, r.body, want)
		}
	}
	var after int64
	h.db.Gorm.Raw("SELECT count(*) FROM access_log WHERE case_id = ?", b.ID).Scan(&after)
	if after != logged {
		t.Errorf("listing another case's offers logged an access to %s", b.ID)
	}
	if r := h.do("GET", "/api/v1/offers?case_id=00000000-0000-4000-8000-000000000001", nil); r.status != http.StatusNotFound {
		t.Errorf("offers of no case: %d", r.status)
	}
	if err := h.db.Gorm.Exec("UPDATE facilities SET reported_at = now() - interval '9 days' WHERE id = ?", exampleFacilityID).Error; err != nil {
		t.Fatal(err)
	}

	br := newBrowser(t, h)
	br.login(h.tokens[domain.RoleSupervisor])

	// The occupancy board: every home with its sections; the one without a fresh report marked.
	br.click(`#nav a[href="/console/waiting-list"]`)
	br.wait("waiting list", `document.querySelectorAll('#waiting-list tbody tr').length >= 2`)
	rows := evalJS[[]string](br, `[...document.querySelectorAll('#waiting-list tbody tr')].map(tr => tr.dataset.position + ' ' + tr.dataset.caseId)`)
	if len(rows) != 2 || rows[0] != "1 "+a.ID || rows[1] != "2 "+b.ID {
		t.Errorf("waiting list rows %v, want %s then %s", rows, a.ID, b.ID)
	}
	if got := br.text("#waiting-list tbody tr"); !strings.Contains(got, "Общая очередь") || !strings.Contains(got, "любое учреждение") {
		t.Errorf("waiting list row %q", got)
	}
	br.shot("console-waiting-list", true)

	br.click(`.subnav a[href="/console/beds"]`)
	br.wait("occupancy board", `document.querySelectorAll('#beds tbody.home').length >= 2`)
	if !evalJS[bool](br, `!!document.querySelector('#beds tbody[data-facility-id="`+exampleFacilityID+`"][data-stale="true"] .stale-mark')`) {
		t.Errorf("the stale home is not marked: %s", br.text("#beds"))
	}
	if got := br.text(`#beds tbody[data-facility-id="` + home + `"] tr[data-section="w"]`); !strings.Contains(got, "Женское отделение") {
		t.Errorf("the section row: %q", got)
	}
	br.shot("console-beds", true)

	// The offers inbox: the freed bed was offered to the first woman waiting; she refuses it.
	br.click(`.subnav a[href="/console/offers"]`)
	br.wait("offers", `document.querySelectorAll('#offers li[data-state="proposed"]').length === 1`)
	if got := evalJS[string](br, `document.querySelector('#offers li').dataset.caseId`); got != a.ID {
		t.Fatalf("the offer is for %s, want %s", got, a.ID)
	}
	br.click("#offers li .decline-open")
	br.wait("decline form", `!!document.querySelector('#offers form.decline select')`)
	br.shot("console-offers-decline", true)
	br.set("#offers form.decline select", "other")
	br.click("#offers form.decline button[type=submit]")
	br.wait("a note is needed for «other»", `!!document.querySelector('#offers-flash .problem')`)
	br.set("#offers form.decline select", "applicant_refused")
	br.click("#offers form.decline button[type=submit]")
	br.wait("declined", `!!document.querySelector('#offers-flash .flash') && !!document.querySelector('#offers li[data-state="declined"]')`)
	br.open("/console/offers")
	br.wait("the bed passed on", `document.querySelectorAll('#offers li[data-state="proposed"]').length === 1`)
	if got := evalJS[string](br, `document.querySelector('#offers li').dataset.caseId`); got != b.ID {
		t.Fatalf("the next offer is for %s, want %s", got, b.ID)
	}
	br.click("#offers li button.accept")
	br.wait("accepted", `!!document.querySelector('#offers-flash .flash a') && !!document.querySelector('#offers li[data-state="accepted"]')`)
	if c, _ := h.cases.Get(t.Context(), b.ID); c.State != domain.VoucherIssued {
		t.Errorf("after the accept the case is %s", c.State)
	}

	// The case page's panel: position, priority, preferences and the declined offer.
	br.open("/console/cases/" + a.ID)
	br.wait("placement panel", `!!document.querySelector('#placement-panel #placement-priority')`)
	if got := br.text("#placement-panel"); !strings.Contains(got, "Отказы заявителя") || !strings.Contains(got, "отклонено") {
		t.Errorf("the panel shows %q", got)
	}
	br.click("#placement-edit-open")
	br.wait("placement form", `!!document.querySelector('#placement-form')`)
	br.set("#pl-priority", "first_turn")
	br.click(`#placement-form input[name="pl-district"][value="Северный"]`)
	br.click("#placement-form button[type=submit]")
	br.wait("placement saved", `!!document.querySelector('#placement-priority') && document.querySelector('#placement-priority').textContent === 'Первоочередное право'`)
	if got := br.text("#placement-preferences"); !strings.Contains(got, "Северный") {
		t.Errorf("preferences %q", got)
	}
	br.shot("console-case-placement", true)

	// The home form: a new home with two sections.
	br.open("/console/homes/new")
	br.wait("home form", `!!document.querySelector('#home-form')`)
	br.typeIn("#home-name", "Пансионат «Берёзы»")
	br.typeIn("#home-district", "Южный")
	br.click("#section-add")
	br.typeIn("#sec-1-code", "m")
	br.typeIn("#sec-1-title", "Мужское отделение")
	br.set("#sec-1-sex", "male")
	br.set("#sec-0-capacity", "12")
	br.set("#sec-1-capacity", "8")
	br.shot("console-home-form", true)
	br.click("#home-form button[type=submit]")
	br.wait("home added", `!!document.querySelector('#home-result .flash')`)
	r := h.do("GET", "/api/v1/facilities?district=Южный", nil)
	if items := r.json(t)["items"].([]any); len(items) != 1 || items[0].(map[string]any)["capacity"].(float64) != 20 {
		t.Fatalf("the new home: %s", r.body)
	}
	// Fewer beds than the voucher holds: refused, naming the section.
	br.open("/console/homes/" + home)
	br.wait("home form", `!!document.querySelector('#sec-0-capacity')`)
	br.set("#sec-0-capacity", "0")
	br.click("#home-form button[type=submit]")
	br.wait("refused", `!!document.querySelector('#home-result .problem')`)
	if got := br.text("#home-result"); !strings.Contains(got, "Женское отделение") && !strings.Contains(got, "w") {
		t.Errorf("the refusal does not name the section: %q", got)
	}
}

// TestPartnerPage: a home's agency signs in with its key, sees its home's sections and the
// admission expected on a voucher, and reports its beds; a specialist's token is turned away.
func TestPartnerPage(t *testing.T) {
	h := newHarness(t)
	c := h.waitingCase("female")
	if r := h.fire(c.ID, map[string]any{"event": "issue_voucher", "facility_id": exampleFacilityID}); r.status != 200 {
		t.Fatalf("voucher: %d %s", r.status, r.body)
	}
	br := newBrowser(t, h)
	br.open("/partner")
	br.wait("key form", `!!document.querySelector('#partner-key')`)
	br.typeIn("#partner-key", h.tokens[domain.RoleSpecialist])
	br.click("#partner-login button[type=submit]")
	br.wait("not a home's key", `!!document.querySelector('#not-facility')`)
	br.open("/partner")
	br.wait("key form", `!!document.querySelector('#partner-key')`)
	br.typeIn("#partner-key", h.tokens["facility"])
	br.click("#partner-login button[type=submit]")
	br.wait("the home", `!!document.querySelector('section.home .beds-input')`)
	if got := br.text("section.home .expected"); !strings.Contains(got, c.Number) {
		t.Errorf("expected admissions %q, want %s", got, c.Number)
	}
	br.shot("partner", true)
	br.set("section.home .beds-input", "85")
	br.click("section.home form.beds-report button[type=submit]")
	br.wait("report taken", `!!document.querySelector('section.home .report-result .flash')`)
	br.shot("partner-reported", false)
	r := h.do("GET", "/api/v1/facilities/"+exampleFacilityID, nil)
	f := r.json(t)
	if r.status != http.StatusOK || sectionOf(t, f, "main")["capacity"].(float64) != 85 || f["stale"] != false {
		t.Fatalf("after the report: %s", r.body)
	}
	// A capacity below the beds taken is refused on the page, naming the section.
	br.set("section.home .beds-input", "0")
	br.click("section.home form.beds-report button[type=submit]")
	br.wait("refused", `!!document.querySelector('section.home .report-result .problem')`)
}

// addToAnswers rewrites, in the browser, the JSON answers of the requests whose URL ends with
// one of the keys, merging that key's fields into the top-level object: a page can be shown
// fields the API adds in a later revision. Call it once per browser.
func (b *browser) addToAnswers(extra map[string]map[string]any) {
	b.t.Helper()
	ctx := b.ctx
	var patterns []*fetch.RequestPattern
	for suffix := range extra {
		patterns = append(patterns, &fetch.RequestPattern{URLPattern: "*" + suffix, RequestStage: fetch.RequestStageResponse})
	}
	paused := chromedp.Events(ctx, fetch.RequestPaused)
	go func() {
		for e, err := range paused {
			if err != nil {
				return
			}
			var add map[string]any
			for suffix, fields := range extra {
				if strings.HasSuffix(e.Request.URL, suffix) {
					add = fields
				}
			}
			res, err := chromedp.Call(ctx, fetch.GetResponseBody, fetch.GetResponseBodyParams{RequestID: e.RequestID})
			var m map[string]any
			if add == nil || err != nil || e.ResponseStatusCode != http.StatusOK || json.Unmarshal(res.Body, &m) != nil {
				_, _ = chromedp.Call(ctx, fetch.ContinueRequest, fetch.ContinueRequestParams{RequestID: e.RequestID})
				continue
			}
			for k, v := range add {
				m[k] = v
			}
			out, _ := json.Marshal(m)
			_, _ = chromedp.Call(ctx, fetch.FulfillRequest, fetch.FulfillRequestParams{RequestID: e.RequestID,
				ResponseCode: e.ResponseStatusCode, ResponseHeaders: e.ResponseHeaders, Body: out})
		}
	}()
	if _, err := chromedp.Call(ctx, fetch.Enable, fetch.EnableParams{Patterns: patterns}); err != nil {
		b.t.Fatalf("intercept answers: %v", err)
	}
}

// TestPagesShowWaitEstimate: when the API gives the wait estimate (its shape from the
// placement API's revision: {estimate: {from_months, to_months} | null, estimate_basis}), the
// case panel shows it with the preferences and for any home, and the status page shows the
// relatives' range or the reason there is none.
func TestPagesShowWaitEstimate(t *testing.T) {
	h := newHarness(t)
	c := h.waitingCase("female")
	code := h.do("POST", "/api/v1/cases/"+c.ID+"/access-code", nil).json(t)["access_code"].(string)
	br := newBrowser(t, h)
	br.addToAnswers(map[string]map[string]any{"/placement": {
		"waiting":          map[string]any{"position": 1, "total": 1, "estimate": map[string]any{"from_months": 3, "to_months": 5}, "estimate_basis": map[string]any{"admissions": 16, "period_months": 12, "segment_position": 5, "preferences": true}},
		"waiting_any_home": map[string]any{"position": 1, "total": 1, "estimate": map[string]any{"from_months": 1, "to_months": 2}, "estimate_basis": map[string]any{"admissions": 40, "period_months": 12, "segment_position": 1, "preferences": false}},
	}, "/api/v1/status": {
		"waiting": map[string]any{"position": 1, "total": 7, "estimate": nil, "estimate_basis": map[string]any{"admissions": 2, "period_months": 12, "preferences": false,
			"reason": "За последний год из этой очереди поступило слишком мало людей, чтобы оценить срок."}},
	}})
	br.login(h.tokens[domain.RoleSupervisor])
	br.open("/console/cases/" + c.ID)
	br.wait("panel with the estimates", `document.querySelectorAll('#placement-panel .estimate').length === 2`)
	if got := br.text("#placement-panel"); !strings.Contains(got, "от 3 до 5 месяцев") || !strings.Contains(got, "Ожидание, если любое учреждение") || !strings.Contains(got, "от 1 до 2 месяцев") {
		t.Errorf("the panel shows %q", got)
	}

	br.open("/status")
	br.wait("status form", `!!document.querySelector('#case_number')`)
	br.typeIn("#case_number", c.Number)
	br.typeIn("#access_code", code)
	br.click("#status-form button[type=submit]")
	br.wait("the estimate's reason", `!!document.querySelector('#status-estimate')`)
	if got := br.text("#status-estimate"); !strings.Contains(got, "слишком мало") {
		t.Errorf("status estimate %q", got)
	}
	br.shot("status-estimate", true)
}
