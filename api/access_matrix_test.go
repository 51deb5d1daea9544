package api_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"carepath/api"
	"carepath/domain"
)

// matrixRequest builds a request for a route as the identity would send it: the identity's own
// case, facility and permitted event or document type, so that a refusal can only come from
// the access rules.
func (e *accessEnv) matrixRequest(route, who string) (method, path string, body any, headers []string) {
	method, tmpl, _ := strings.Cut(route, " ")
	a := e.actors[who]
	docType, event := "passport", "request_documents"
	switch a.Agency() {
	case domain.AgencyHealth:
		docType, event = "medical_card", "hospitalize"
	case domain.AgencyGuardianship:
		docType = "guardianship_decision"
	case domain.AgencyFacility:
		event = "start_leave"
	}
	c := e.load(e.caseID)
	path = tmpl
	switch {
	case strings.HasPrefix(tmpl, "/api/v1/cases/:id"), strings.HasPrefix(tmpl, "/api/v1/agency/cases/:id"):
		path = strings.Replace(path, ":id", e.caseID, 1)
	case strings.HasPrefix(tmpl, "/api/v1/users/:id"):
		path = strings.Replace(path, ":id", e.userIDs["victim"], 1)
	case strings.HasPrefix(tmpl, "/api/v1/agencies/:id"):
		path = strings.Replace(path, ":id", e.agencyID["social_protection"], 1)
	case strings.HasPrefix(tmpl, "/api/v1/agency/facilities/:id"), strings.HasPrefix(tmpl, "/api/v1/facilities/:id"):
		path = strings.Replace(path, ":id", e.facility["own"], 1)
	case strings.HasPrefix(tmpl, "/api/v1/contact-requests/:id"):
		// a request still open, made by the system when the specialists have not made one yet
		var id string
		e.db.Gorm.Raw("SELECT id FROM contact_requests WHERE case_id = ? AND state = 'open' LIMIT 1", e.caseID).Scan(&id)
		if id == "" {
			r, err := e.server.Hotline.RequestContact(context.Background(), system, e.caseID,
				domain.NewContactRequest{Name: "Матрица", Relation: "сын", Phone: "8 916 000-00-00"})
			if err != nil {
				e.t.Fatalf("contact request for the matrix: %v", err)
			}
			id = r.ID
		}
		path = strings.Replace(path, ":id", id, 1)
	case strings.HasPrefix(tmpl, "/api/v1/leads/:id"):
		var id string
		e.db.Gorm.Raw("SELECT id FROM leads WHERE state IN ('new', 'contacted') LIMIT 1").Scan(&id)
		if id == "" {
			r, err := e.server.Hotline.SubmitLead(context.Background(), system, matrixLead())
			if err != nil {
				e.t.Fatalf("lead for the matrix: %v", err)
			}
			id = r.ID
		}
		path = strings.Replace(path, ":id", id, 1)
	case strings.HasPrefix(tmpl, "/api/v1/offers/:id"):
		var id string
		err := e.db.Gorm.Raw(`WITH o AS (INSERT INTO offers (case_id, facility_id, section_code, state, proposed_at, due_at)
			SELECT ?, ?, 'main', 'proposed', now(), now() + interval '3 days'
			WHERE NOT EXISTS (SELECT 1 FROM offers WHERE state = 'proposed') RETURNING id)
			SELECT id::text FROM o UNION ALL SELECT id::text FROM offers WHERE state = 'proposed' LIMIT 1`, e.caseID, e.facility["own"]).Scan(&id).Error
		if err != nil || id == "" {
			e.t.Fatalf("an offer for the matrix: %v", err)
		}
		path = strings.Replace(path, ":id", id, 1)
	case strings.HasPrefix(tmpl, "/api/v1/notices/:id"):
		var id string
		if err := e.db.Gorm.Raw("SELECT id FROM notices WHERE case_id = ? LIMIT 1", e.caseID).Scan(&id).Error; err != nil || id == "" {
			e.t.Fatalf("the matrix case has no notice to retry: %v", err)
		}
		path = strings.Replace(path, ":id", id, 1)
	}
	path = strings.Replace(path, ":type", docType, 1)
	path = strings.Replace(path, ":code", "urgent_social", 1)
	today := domain.DateOf(e.clock.now())
	switch route {
	case "POST /api/v1/status":
		body = map[string]any{"case_number": c.Number, "access_code": e.caseCode}
	case "POST /api/v1/status/contact-requests":
		body = map[string]any{"case_number": c.Number, "access_code": e.caseCode, "name": "Матрица " + who, "relation": "сын",
			"phone": "8 916 000-00-00"}
	case "POST /api/v1/cases":
		n := e.newCase()
		n.Applicant.FullName = "Новая Заявительница " + who
		if a.Agency() == domain.AgencyPostOffice {
			n.Channel = domain.ChannelPostOffice
		}
		body = n
	case "POST /api/v1/cases/:id/events":
		b := map[string]any{"event": event}
		if event == "start_leave" {
			b["return_by"] = today.AddDays(5).String()
		}
		body, headers = b, []string{"If-Match", quoted(c.Version)}
	case "PUT /api/v1/cases/:id/documents/:type":
		issued := today.AddDays(-2).String()
		body = map[string]any{"status": "received", "issued_on": issued}
	case "POST /api/v1/cases/:id/assignee":
		body, headers = map[string]any{"assignee_id": e.userIDs["supervisor"]}, []string{"If-Match", quoted(c.Version)}
	case "PUT /api/v1/agency/facilities/:id/beds":
		body = map[string]any{"capacity": 12}
	case "POST /api/v1/cases/:id/contact-requests":
		body = map[string]any{"name": "Матрица " + who, "relation": "сын", "phone": "+7 916 000-00-00"}
	case "POST /api/v1/contact-requests/:id/done":
		body = map[string]any{"outcome": "reached"}
	case "POST /api/v1/leads":
		body = matrixLead()
	case "POST /api/v1/leads/:id/triage":
		body = map[string]any{"outcome": "contacted"}
	case "POST /api/v1/leads/:id/convert":
		body = map[string]any{"facility_type": "elderly_disabled", "gender": "female", "snils": "112-233-445 95", "legal_capacity": "capable"}
	case "POST /api/v1/checklist-preview":
		body = map[string]any{"facility_type": "psychoneurological", "legal_capacity": "incapacitated", "represented": true}
	case "POST /api/v1/contacts":
		body = map[string]any{"case_id": e.caseID, "channel": "phone", "direction": "inbound", "party": "relative",
			"caller_phone": "8 916 000-00-0" + fmt.Sprint(len(who)%10), "topic": "status", "question": "Матрица " + who}
	case "POST /api/v1/facilities":
		body = map[string]any{"name": "Матрица " + who, "type": "elderly_disabled", "district": "Центральный",
			"sections": []any{map[string]any{"code": "w", "title": "Женское", "sex": "female", "capacity": 5}}}
	case "POST /api/v1/offers/:id/decline":
		body = map[string]any{"reason": "unreachable"}
	case "PUT /api/v1/priorities/:code":
		body = map[string]any{"rank": 15, "title": "Матрица"}
	case "PATCH /api/v1/cases/:id/facts":
		group := map[string]string{"none": "1", "1": "2", "2": "none", "3": "none"}[c.Applicant.DisabilityGroup]
		body, headers = map[string]any{"disability_group": group}, []string{"If-Match", quoted(c.Version)}
	case "POST /api/v1/cases/:id/relatives":
		for len(c.Contacts) > 10 {
			less, err := e.server.Cases.RemoveContact(context.Background(), system, e.caseID, 0, len(c.Contacts)-1)
			if err != nil {
				e.t.Fatalf("trim contacts for the matrix: %v", err)
			}
			c = less
		}
		body = map[string]any{"name": "Матрица " + who, "relation": "сын", "phone": "8 916 000-00-0" + fmt.Sprint(len(who)%10)}
		headers = []string{"If-Match", quoted(c.Version)}
	case "PUT /api/v1/cases/:id/relatives/:index", "DELETE /api/v1/cases/:id/relatives/:index":
		// a contact of its own to change or remove, added by the system (under the limit of 20)
		for len(c.Contacts) > 10 {
			less, err := e.server.Cases.RemoveContact(context.Background(), system, e.caseID, 0, len(c.Contacts)-1)
			if err != nil {
				e.t.Fatalf("trim contacts for the matrix: %v", err)
			}
			c = less
		}
		added, err := e.server.Cases.AddContact(context.Background(), system, e.caseID, 0,
			domain.Contact{Name: "Матрица " + who, Relation: "сын", Phone: "+79160000001"})
		if err != nil {
			e.t.Fatalf("contact for the matrix: %v", err)
		}
		c = added
		path = strings.Replace(path, ":index", fmt.Sprint(len(c.Contacts)-1), 1)
		if method == "PUT" {
			body = map[string]any{"name": "Матрица " + who, "relation": "дочь", "phone": "+79160000001"}
		}
		headers = []string{"If-Match", quoted(c.Version)}
	case "PUT /api/v1/cases/:id/placement":
		body, headers = map[string]any{"priority": "first_turn"}, []string{"If-Match", quoted(c.Version)}
	case "GET /api/v1/waiting-list":
		path += "?facility_type=elderly_disabled"
	case "GET /api/v1/stats/export.csv":
		path += "?report=deadlines"
	case "PATCH /api/v1/facilities/:id":
		var v int
		if err := e.db.Gorm.Raw("SELECT version FROM facilities WHERE id = ?", e.facility["own"]).Scan(&v).Error; err != nil {
			e.t.Fatal(err)
		}
		body, headers = map[string]any{"district": "Северный"}, []string{"If-Match", quoted(v)}
	case "POST /api/v1/users":
		body = map[string]any{"name": "Матрица " + who, "role": "specialist"}
	case "POST /api/v1/users/:id/tokens":
		body = map[string]any{"expires_in_days": 1}
	case "POST /api/v1/agencies":
		body = map[string]any{"name": "Матрица " + who, "kind": "health"}
	case "POST /api/v1/agencies/:id/keys":
		body = map[string]any{"grace_hours": 1}
	case "PUT /api/v1/agencies/:id/webhook":
		body = map[string]any{"url": "https://example.org/hook", "happenings": []string{"admitted"}}
	}
	return method, path, body, headers
}

// caseScoped routes act on one case; an agency passes them only for a case it is party to.
func caseScoped(route string) bool {
	return strings.Contains(route, "/cases/:id")
}

// expected says whether the matrix grants the request, from the policy of domain/access.go and
// the case as it is now.
func (e *accessEnv) expected(route string, act domain.Action, who string) bool {
	a, ok := e.actors[who]
	if act == domain.ActPublic {
		return true
	}
	if !ok || !a.May(act) {
		return false
	}
	if a.Kind != domain.ActorAgency {
		return true
	}
	c := e.load(e.caseID)
	switch {
	case route == "POST /api/v1/cases/:id/events":
		ev := map[domain.AgencyKind]domain.EventName{domain.AgencyHealth: domain.Hospitalize, domain.AgencyFacility: domain.StartLeave}[a.Agency()]
		return domain.MayFire(a, c, ev)
	case route == "PUT /api/v1/cases/:id/documents/:type":
		t := map[domain.AgencyKind]domain.DocType{domain.AgencyHealth: domain.DocMedicalCard, domain.AgencyGuardianship: domain.DocGuardianshipDecision}[a.Agency()]
		return domain.MayRecordDocument(a, c, t)
	case route == "POST /api/v1/contact-requests/:id/done":
		return domain.MayCloseContactRequest(a, c)
	case route == "PUT /api/v1/agency/facilities/:id/beds":
		return slices.Contains(a.Facilities, e.facility["own"])
	case caseScoped(route):
		return domain.PartyTo(a, c)
	}
	return true
}

// TestRoleMatrix walks every route of the gin engine with every role, an agency of each kind,
// foreign agencies and no credential, and fails on any access the matrix does not grant, on
// any refusal of what it grants, on a refused request that changed something, and on a granted
// case access that left no line in the access log.
func TestRoleMatrix(t *testing.T) {
	e := newAccessEnv(t, false)
	actions := e.server.RouteActions()
	engineRoutes := e.server.Routes()
	var routes []string
	for _, r := range engineRoutes {
		key := r.Method + " " + r.Path
		if strings.HasPrefix(r.Path, "/ops/") {
			// The job queue console: admins only, a browser signing in with HTTP Basic.
			if r.Method != http.MethodGet {
				continue
			}
			path := strings.Replace(r.Path, "/*path", "/", 1)
			for _, who := range append([]string{"nobody"}, matrixIdentities...) {
				res := e.do(r.Method, path, e.tokens[who], nil)
				want := map[bool]int{true: http.StatusOK, false: http.StatusForbidden}[e.actors[who].May(domain.ActOpsQueues)]
				switch {
				case who == "nobody":
					want = http.StatusUnauthorized
				case e.actors[who].Kind == domain.ActorAgency:
					want = http.StatusNotFound
				}
				if res.status != want {
					t.Errorf("%s as %s: want %d, got %d", key, who, want, res.status)
				}
			}
			continue
		}
		if r.Path == "/metrics" {
			// Only METRICS_TOKEN reads the metrics: no identity of the matrix does.
			for _, who := range append([]string{"nobody"}, matrixIdentities...) {
				if res := e.do(r.Method, r.Path, e.tokens[who], nil); res.status != http.StatusUnauthorized {
					t.Errorf("%s as %s: want 401, got %d", key, who, res.status)
				}
			}
			if res := e.do(r.Method, r.Path, testMetricsToken, nil); res.status != http.StatusOK {
				t.Errorf("%s with METRICS_TOKEN: want 200, got %d", key, res.status)
			}
			continue
		}
		if !strings.HasPrefix(r.Path, "/api/v1/") {
			// Operations and documentation pages are public and show no case.
			path := strings.Replace(r.Path, "/*path", "/redoc.standalone.js", 1)
			for _, who := range append([]string{"nobody"}, matrixIdentities...) {
				if res := e.do(r.Method, path, e.tokens[who], nil); res.status != http.StatusOK {
					t.Errorf("%s as %s: public route answered %d", key, who, res.status)
				}
			}
			continue
		}
		if _, ok := actions[key]; !ok {
			t.Errorf("route %s has no action: register it with routeGroup.handle", key)
		}
		routes = append(routes, key)
	}
	if len(routes) < 20 {
		t.Fatalf("only %d /api/v1 routes found", len(routes))
	}
	slices.Sort(routes)
	// The case must be under way for events and documents; recorded documents keep it there.
	auditedActions := []domain.Action{domain.ActCaseCreate, domain.ActCaseRead, domain.ActCaseEvent, domain.ActCaseDocument,
		domain.ActCaseAccessCode, domain.ActCaseReassign, domain.ActDeadlinesRead, domain.ActAgencyCases, domain.ActNotices,
		domain.ActContacts, domain.ActContactRequestDone}
	for _, route := range routes {
		act := actions[route]
		for _, who := range append([]string{"nobody"}, matrixIdentities...) {
			method, path, body, headers := e.matrixRequest(route, who)
			want := e.expected(route, act, who)
			before := e.load(e.caseID)
			logged := e.count("SELECT count(*) FROM access_log")
			if act != domain.ActPublic && (who == "nobody" || !e.actors[who].May(act)) {
				// A route refused by the matrix is refused before the input is looked at: the
				// same answer with a body the contract refuses and without the If-Match a
				// change needs. (A case the agency is not party to is the domain's to refuse,
				// after validation, which tells nothing about the case.)
				junk := e.do(method, path, e.tokens[who], map[string]any{"junk": []int{1}})
				if wantStatus := deniedStatus(e.actors[who], who, act); junk.status != wantStatus {
					t.Errorf("%s as %s with a junk body: want %d before validation, got %d %s", route, who, wantStatus, junk.status, junk.body)
				}
			}
			res := e.do(method, path, e.tokens[who], body, headers...)
			granted := res.status < 300 || res.status == http.StatusConflict || res.status == http.StatusPreconditionFailed ||
				res.status == http.StatusUnprocessableEntity
			denied := res.status == http.StatusUnauthorized || res.status == http.StatusForbidden || res.status == http.StatusNotFound
			switch {
			case want && !granted:
				t.Errorf("%s as %s: want access, got %d %s", route, who, res.status, res.body)
			case !want && !denied:
				t.Errorf("%s as %s: the matrix does not grant it, got %d %s", route, who, res.status, res.body)
			case !want:
				if who == "nobody" && res.status != http.StatusUnauthorized {
					t.Errorf("%s without a credential: want 401, got %d", route, res.status)
				}
				if a := e.actors[who]; a.Kind == domain.ActorAgency && res.status != http.StatusNotFound {
					t.Errorf("%s as agency %s: a refusal must be 404, got %d", route, who, res.status)
				}
				if after := e.load(e.caseID); after.Version != before.Version {
					t.Errorf("%s as %s: refused, yet the case changed from version %d to %d", route, who, before.Version, after.Version)
				}
			case res.status < 300 && slices.Contains(auditedActions, act):
				// an agency's empty list shows no case, so there is nothing to log
				emptyList := route == "GET /api/v1/agency/cases" && !domain.PartyTo(e.actors[who], before) ||
					(route == "GET /api/v1/contacts" || route == "GET /api/v1/contact-requests") && !strings.Contains(string(res.body), e.caseID) ||
					(route == "GET /api/v1/waiting-list" || route == "GET /api/v1/offers") && strings.Contains(string(res.body), `"items":[]`) ||
					route == "GET /api/v1/agency-directory" // names of agencies, no case
				if e.count("SELECT count(*) FROM access_log") == logged && !emptyList {
					t.Errorf("%s as %s: case data was shown or changed but the access log has no new line", route, who)
				}
			}
			if route == "POST /api/v1/cases/:id/access-code" && res.status == http.StatusOK {
				e.caseCode = res.json(t)["access_code"].(string)
			}
			if route == "GET /api/v1/agency/cases" && res.status == http.StatusOK {
				listed := strings.Contains(string(res.body), e.caseID)
				if party := domain.PartyTo(e.actors[who], e.load(e.caseID)); listed != party {
					t.Errorf("agency %s list: case listed %v, party to it %v", who, listed, party)
				}
			}
		}
	}

	// A few facts the matrix must hold, written out by hand so the test does not only check the
	// table against itself.
	c := e.load(e.caseID)
	for _, tc := range []struct {
		who, method, path string
		status            int
	}{
		{"admin", "GET", "/api/v1/cases/" + c.ID, http.StatusForbidden},
		{"specialist", "GET", "/api/v1/users", http.StatusForbidden},
		{"specialist", "GET", "/api/v1/audit", http.StatusForbidden},
		{"supervisor", "GET", "/api/v1/agencies", http.StatusForbidden},
		{"health", "GET", "/api/v1/cases/" + c.ID, http.StatusNotFound},
		{"health", "GET", "/api/v1/cases", http.StatusNotFound},
		{"health", "GET", "/api/v1/agency/cases/" + c.ID, http.StatusOK},
		{"foreign_health", "GET", "/api/v1/agency/cases/" + c.ID, http.StatusNotFound},
		{"foreign_facility", "GET", "/api/v1/agency/cases/" + c.ID, http.StatusNotFound},
		{"social_protection", "GET", "/api/v1/agency/cases/" + c.ID, http.StatusNotFound},
		{"mfc", "GET", "/api/v1/agency/cases/" + c.ID, http.StatusOK},
		{"specialist", "GET", "/api/v1/agency/cases/" + c.ID, http.StatusForbidden},
		{"health", "GET", "/api/v1/agency/cases/00000000-0000-4000-8000-000000000001", http.StatusNotFound},
		// the figures: supervisors and admins; anyone else does not learn they exist
		{"supervisor", "GET", "/api/v1/stats", http.StatusOK},
		{"admin", "GET", "/api/v1/stats/export.xlsx", http.StatusOK},
		{"supervisor", "GET", "/api/v1/stats/export.csv?report=occupancy", http.StatusOK},
		{"specialist", "GET", "/api/v1/stats", http.StatusNotFound},
		{"specialist", "GET", "/api/v1/stats/export.csv?report=occupancy", http.StatusNotFound},
		{"specialist", "GET", "/api/v1/stats/export.xlsx", http.StatusNotFound},
		{"facility", "GET", "/api/v1/stats", http.StatusNotFound},
		{"foreign_health", "GET", "/api/v1/stats/export.xlsx", http.StatusNotFound},
		{"nobody", "GET", "/api/v1/stats", http.StatusUnauthorized},
	} {
		if res := e.do(tc.method, tc.path, e.tokens[tc.who], nil); res.status != tc.status {
			t.Errorf("%s %s as %s: want %d, got %d %s", tc.method, tc.path, tc.who, tc.status, res.status, res.body)
		}
	}
	// An agency firing an event its kind may not report, or recording a document it does not
	// supply, hears 404 as for a case that does not exist, and nothing changes.
	c = e.load(e.caseID)
	for _, tc := range []struct{ who, method, path string }{
		{"health", "POST", "/api/v1/cases/" + c.ID + "/events"},
		{"guardianship", "PUT", "/api/v1/cases/" + c.ID + "/documents/passport"},
		{"health", "PUT", "/api/v1/cases/" + c.ID + "/documents/passport"},
		{"facility", "PUT", "/api/v1/cases/" + c.ID + "/documents/medical_card"},
	} {
		var body any = map[string]any{"status": "received", "issued_on": domain.DateOf(e.clock.now()).String()}
		headers := []string{}
		if tc.method == "POST" {
			body, headers = map[string]any{"event": "discharge", "reason": "x"}, []string{"If-Match", quoted(c.Version)}
		}
		if res := e.do(tc.method, tc.path, e.tokens[tc.who], body, headers...); res.status != http.StatusNotFound {
			t.Errorf("%s %s as %s: want 404, got %d %s", tc.method, tc.path, tc.who, res.status, res.body)
		}
	}
	if after := e.load(e.caseID); after.Version != c.Version {
		t.Errorf("refused agency requests changed the case")
	}
	// A home's agency lists its own homes only; another home's agency never sees them.
	for who, want := range map[string]bool{"facility": true, "foreign_facility": false} {
		res := e.do("GET", "/api/v1/agency/facilities", e.tokens[who], nil)
		if res.status != http.StatusOK || strings.Contains(string(res.body), e.facility["own"]) != want {
			t.Errorf("GET /api/v1/agency/facilities as %s: %d, lists the own home %v, want %v", who, res.status, !want, want)
		}
	}
	// A foreign agency with a stale If-Match must not learn the case exists.
	res := e.do("POST", "/api/v1/cases/"+c.ID+"/events", e.tokens["foreign_facility"], map[string]any{"event": "end_leave"}, "If-Match", `"1"`)
	if res.status != http.StatusNotFound || strings.Contains(string(res.body), c.Number) {
		t.Errorf("foreign agency with a stale version: want a 404 that names nothing, got %d %s", res.status, res.body)
	}
}

// deniedStatus is how the matrix refuses: 401 without a credential, 404 to an agency and for a
// hidden action (the figures), 403 to a specialist.
func deniedStatus(a domain.Actor, who string, act domain.Action) int {
	switch {
	case who == "nobody":
		return http.StatusUnauthorized
	case a.Kind == domain.ActorAgency, domain.HiddenAction(act):
		return http.StatusNotFound
	}
	return http.StatusForbidden
}

// TestRouteActionsMatchContract checks that each /api/v1 route is in openapi.yaml and that its
// operation names the action the route needs.
func TestRouteActionsMatchContract(t *testing.T) {
	s := &api.Server{}
	if _, err := s.Handler(); err != nil {
		t.Fatal(err)
	}
	spec, _ := s.Spec()
	for route, act := range s.RouteActions() {
		method, path, _ := strings.Cut(route, " ")
		for _, p := range []string{":id", ":type", ":code", ":index"} {
			path = strings.Replace(path, p, "{"+p[1:]+"}", 1)
		}
		item := spec.Paths.Find(path)
		if item == nil || item.GetOperation(method) == nil {
			t.Errorf("route %s is not in openapi.yaml", route)
			continue
		}
		got := fmt.Sprint(item.GetOperation(method).Extensions["x-carepath-action"])
		if got != string(act) {
			t.Errorf("%s: openapi.yaml says x-carepath-action %q, the route needs %q", route, got, act)
		}
	}
}
