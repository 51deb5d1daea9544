package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"carepath/domain"
)

// pathParams supplies real values for the path parameters of an operation, keyed by the path
// template; a parameter not given here uses its example from the contract.
func pathParams(h *harness, path string) (map[string]string, map[string]string) {
	params, headers := map[string]string{}, map[string]string{}
	h.token = h.tokens[domain.RoleSupervisor] // the previous operation's may be anyone's
	switch {
	case path == "/api/v1/cases/{id}/placement":
		c := h.waitingCase("female")
		params["id"], headers["If-Match"] = c.ID, fmt.Sprintf(`"%d"`, c.Version)
		return params, headers
	case path == "/api/v1/facilities/{id}":
		var v int
		if err := h.db.Gorm.Raw("SELECT version FROM facilities WHERE id = ?", exampleFacilityID).Scan(&v).Error; err != nil {
			h.t.Fatal(err)
		}
		headers["If-Match"] = fmt.Sprintf(`"%d"`, v)
	case strings.HasPrefix(path, "/api/v1/offers/{id}"):
		c := h.waitingCase("female")
		var id string
		if err := h.db.Gorm.Raw(`INSERT INTO offers (case_id, facility_id, section_code, state, proposed_at, due_at)
			VALUES (?, ?, 'main', 'proposed', now(), now() + interval '3 days') RETURNING id::text`, c.ID, exampleFacilityID).Scan(&id).Error; err != nil {
			h.t.Fatal(err)
		}
		params["id"] = id
	case strings.HasPrefix(path, "/api/v1/cases/{id}"):
		id, etag := h.createCase()
		params["id"], headers["If-Match"] = id, etag
	case strings.HasPrefix(path, "/api/v1/agency/cases/{id}"):
		// a case the health organisation (the agency the example runs as) is party to
		c, _, err := h.svc.Register(context.Background(), domain.System, exampleNewCase(h))
		if err != nil {
			h.t.Fatal(err)
		}
		params["id"] = c.ID
	case path == "/api/v1/status", path == "/api/v1/status/contact-requests":
		// the example's case number and access code
		id, _ := h.createCase()
		// the example's number, taken from an earlier example's case
		if err := h.db.Gorm.Exec("UPDATE cases SET number = 'KC-2025-999999' WHERE number = 'KC-2025-000002'").Error; err != nil {
			h.t.Fatal(err)
		}
		if err := h.db.Gorm.Exec("UPDATE cases SET number = 'KC-2025-000002' WHERE id = ?", id).Error; err != nil {
			h.t.Fatal(err)
		}
		if err := h.cases.SetAccessCodeHash(context.Background(), id, domain.HashAccessCode(id, "CAREPATH2345")); err != nil {
			h.t.Fatal(err)
		}
		if path == "/api/v1/status/contact-requests" {
			h.makeResident(id)
		}
	}
	switch {
	case path == "/api/v1/cases/{id}/contact-requests":
		h.makeResident(params["id"])
	case strings.HasPrefix(path, "/api/v1/leads/{id}"):
		params["id"] = h.lead()
	case strings.HasPrefix(path, "/api/v1/contact-requests/{id}"):
		id, _ := h.createCase()
		h.makeResident(id)
		r, err := h.api.Hotline.RequestContact(context.Background(), domain.System, id,
			domain.NewContactRequest{Name: "Кузнецов Олег", Relation: "сын", Phone: "8 916 123-45-67"})
		if err != nil {
			h.t.Fatal(err)
		}
		params["id"] = r.ID
	}
	if strings.HasPrefix(path, "/api/v1/notices/{id}") {
		id, _ := h.createCase() // its registration notifies the consenting son
		ns, err := h.svc.Notices(context.Background(), id)
		if err != nil || len(ns) == 0 {
			h.t.Fatalf("notices of a new case: %v %v", ns, err)
		}
		params["id"] = ns[0].ID
	}
	return params, headers
}

func exampleNewCase(h *harness) domain.NewCase {
	return domain.NewCase{Channel: domain.ChannelHotline, FacilityType: domain.ElderlyDisabled, HealthOrgID: h.tokens["health_id"],
		Applicant: domain.Applicant{FullName: "Пример Заявитель", BirthDate: domain.NewDate(1940, 2, 3), Gender: "male",
			SNILS: "112-233-445 95", Address: "Москва", LegalCapacity: domain.Capable}, Contacts: []domain.Contact{}}
}

// tokenFor picks an identity the matrix grants the operation's action: a supervisor where it
// can, then an admin, then an agency of the kind that can.
func tokenFor(h *harness, op *openapi3.Operation) string {
	act := domain.Action(fmt.Sprint(op.Extensions["x-carepath-action"]))
	for _, who := range []domain.Actor{{Kind: domain.ActorUser, Role: domain.RoleSupervisor}, {Kind: domain.ActorUser, Role: domain.RoleAdmin},
		{Kind: domain.ActorAgency, Role: "health"}, {Kind: domain.ActorAgency, Role: "facility"}, {Kind: domain.ActorAgency, Role: "mfc"}} {
		if who.May(act) {
			return h.tokens[who.Role]
		}
	}
	return ""
}

// TestEveryOperationExampleSucceeds sends each operation's request example, as the docs show
// it, and expects success: the docs and the server cannot drift apart.
func TestEveryOperationExampleSucceeds(t *testing.T) {
	h := newHarness(t)
	spec, _ := h.api.Spec()
	paths := spec.Paths.InMatchingOrder()
	sort.Strings(paths)
	for _, path := range paths {
		item := spec.Paths.Value(path)
		for method, op := range item.Operations() {
			t.Run(method+" "+path, func(t *testing.T) {
				h.t = t
				params, headers := pathParams(h, path)
				target := path
				query := url.Values{}
				hdrs := []string{}
				for _, pref := range append(item.Parameters, op.Parameters...) {
					p := pref.Value
					v, ok := params[p.Name]
					if !ok && p.In == "header" {
						v, ok = headers[p.Name]
					}
					if !ok {
						v, ok = exampleString(p.Example)
					}
					if !ok {
						if p.Required {
							t.Fatalf("required %s parameter %q has no example", p.In, p.Name)
						}
						continue
					}
					switch p.In {
					case "path":
						target = strings.ReplaceAll(target, "{"+p.Name+"}", url.PathEscape(v))
					case "query":
						query.Set(p.Name, v)
					case "header":
						hdrs = append(hdrs, p.Name, v)
					}
				}
				if len(query) > 0 {
					target += "?" + query.Encode()
				}
				var body any
				if op.RequestBody != nil {
					mt := op.RequestBody.Value.Content.Get("application/json")
					if mt == nil || mt.Example == nil {
						t.Fatalf("request body has no example")
					}
					body = mt.Example
				}
				h.token = tokenFor(h, op)
				r := h.do(method, target, body, hdrs...)
				if r.status < 200 || r.status > 299 {
					t.Fatalf("example answered %d: %s", r.status, r.body)
				}
			})
		}
	}
}

func exampleString(ex any) (string, bool) {
	switch v := ex.(type) {
	case nil:
		return "", false
	case string:
		return v, true
	default:
		b, _ := json.Marshal(v)
		return string(b), true
	}
}

func enumOf(t *testing.T, spec *openapi3.T, schema string) []string {
	t.Helper()
	s := spec.Components.Schemas[schema]
	if s == nil {
		t.Fatalf("no schema %s", schema)
	}
	var out []string
	for _, v := range s.Value.Enum {
		out = append(out, fmt.Sprint(v))
	}
	return out
}

func names[T ~string](xs []T) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = string(x)
	}
	return out
}

// TestContractEnumsMatchTheDomain: the lifecycle table and the domain's lists are the one
// definition; the contract's enums must say the same.
func TestContractEnumsMatchTheDomain(t *testing.T) {
	h := newHarness(t)
	spec, _ := h.api.Spec()
	var docTypes []string
	for _, d := range domain.DocTypes {
		docTypes = append(docTypes, string(d.Type))
	}
	checks := map[string][]string{
		"State":        domain.StateNames(),
		"Event":        domain.EventNames(),
		"FacilityType": names(domain.FacilityTypes),
		"Channel":      names(domain.Channels),
		"DocType":      docTypes,
		"DocStatus":    names(domain.DocStatuses),
		"DeadlineKind": names(domain.DeadlineKinds),
		"Happening":    names(domain.Happenings()),
		"Audience":     domain.Audiences,
		"NoticeStatus": names(domain.NoticeStatuses),
		// the hotline's desk
		"ContactChannel":   names(domain.ContactChannels),
		"ContactDirection": names(domain.ContactDirections),
		"ContactParty":     names(domain.ContactParties),
		"ContactTopic":     names(domain.ContactTopics),
		"ContactOutcome":   names(domain.ContactOutcomes),
	}
	for schema, want := range checks {
		if got := enumOf(t, spec, schema); !slices.Equal(got, want) {
			t.Errorf("openapi %s enum %v, domain has %v", schema, got, want)
		}
	}
	codes := []string{domain.EINVALID, domain.ENOTFOUND, domain.ECONFLICT, domain.ESTALE, domain.EUNPROCESSABLE,
		domain.EUNAUTHORIZED, domain.EFORBIDDEN, domain.ERATELIMIT, domain.EUNAVAILABLE, domain.EINTERNAL,
		domain.ETOOLARGE, domain.EPRECONDITION}
	if got := spec.Components.Schemas["Problem"].Value.Properties["code"].Value.Enum; len(got) != len(codes) {
		t.Errorf("Problem.code enum has %d values, the domain %d", len(got), len(codes))
	}
}

// TestLifecycleEndpointIsTheTable: GET /lifecycle serves the table and its diagram.
func TestLifecycleEndpointIsTheTable(t *testing.T) {
	h := newHarness(t)
	m := h.do("GET", "/api/v1/lifecycle", nil).json(t)
	if len(m["states"].([]any)) != len(domain.States) || len(m["events"].([]any)) != len(domain.Events) {
		t.Fatalf("lifecycle: %d states, %d events", len(m["states"].([]any)), len(m["events"].([]any)))
	}
	if m["mermaid"] != domain.Mermaid() {
		t.Fatal("mermaid diagram differs from the table's")
	}
}

// TestEveryRouteIsInTheContract: each /api/v1 route the router serves is described in
// openapi.yaml, with the same method.
func TestEveryRouteIsInTheContract(t *testing.T) {
	h := newHarness(t)
	spec, _ := h.api.Spec()
	for _, rt := range h.api.Routes() {
		if !strings.HasPrefix(rt.Path, "/api/") && rt.Path != "/healthz" && rt.Path != "/readyz" {
			continue
		}
		p := ginToOpenAPI(rt.Path)
		item := spec.Paths.Value(p)
		if item == nil || item.GetOperation(rt.Method) == nil {
			t.Errorf("route %s %s is not in openapi.yaml", rt.Method, p)
		}
		// the validator finds the operation by gin's route, not by matching the path again
		if got := h.api.OperationPath(rt.Method, rt.Path); item != nil && got != p {
			t.Errorf("route %s %s: the validator takes operation %q", rt.Method, rt.Path, got)
		}
	}
}

func ginToOpenAPI(p string) string {
	parts := strings.Split(p, "/")
	for i, s := range parts {
		if strings.HasPrefix(s, ":") {
			parts[i] = "{" + s[1:] + "}"
		}
	}
	return strings.Join(parts, "/")
}

// TestContractSaysTheEdgeStatuses: what the edge can answer before a handler is in the
// contract: 413 wherever a body is taken, 428 wherever If-Match is required, 401 wherever a
// credential is.
func TestContractSaysTheEdgeStatuses(t *testing.T) {
	h := newHarness(t)
	spec, _ := h.api.Spec()
	for _, path := range spec.Paths.InMatchingOrder() {
		for method, op := range spec.Paths.Value(path).Operations() {
			has := func(status string) bool { return op.Responses.Value(status) != nil }
			if op.RequestBody != nil && !has("413") {
				t.Errorf("%s %s takes a body but does not say 413", method, path)
			}
			for _, p := range op.Parameters {
				if p.Value.In == "header" && p.Value.Name == "If-Match" && p.Value.Required && !has("428") {
					t.Errorf("%s %s requires If-Match but does not say 428", method, path)
				}
			}
			if authed := op.Security == nil || len(*op.Security) > 0; authed && !has("401") {
				t.Errorf("%s %s needs a credential but does not say 401", method, path)
			}
		}
	}
}
