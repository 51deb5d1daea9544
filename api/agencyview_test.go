package api_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"sort"
	"strings"
	"testing"

	"carepath/domain"
)

// agencyCommon are the keys of the agency views every agency kind sees.
var agencyCommon = []string{
	"id", "number", "state", "state_label", "version", "state_entered_at", "created_at",
	"applicant", "applicant.full_name", "applicant.birth_date", "applicant.gender", "applicant.snils", "applicant_name",
	"documents", "documents[]", "documents[].type", "documents[].label", "documents[].status", "documents[].required",
	"documents[].issued_on", "documents[].valid_until", "allowed_events", "allowed_events[]",
}

// agencyFieldOf says which part of the policy (domain.AgencyFields) each other key belongs to.
// A key in neither list is a leak.
func agencyFieldOf(key string) (domain.CaseField, bool) {
	switch {
	case key == "facility_type":
		return domain.FieldFacilityType, true
	case key == "applicant.legal_capacity":
		return domain.FieldLegalCapacity, true
	case key == "facility_id", key == "voucher_facility_id", key == "voucher_valid_until", key == "leave_return_by":
		return domain.FieldPlacement, true
	case key == "representatives", strings.HasPrefix(key, "representatives[]"):
		return domain.FieldRepresentatives, true
	}
	return "", false
}

// flatKeys lists the keys of a JSON value as dotted paths, arrays as "[]".
func flatKeys(prefix string, v any, out map[string]bool) {
	switch x := v.(type) {
	case map[string]any:
		for k, val := range x {
			p := k
			if prefix != "" {
				p = prefix + "." + k
			}
			out[p] = true
			flatKeys(p, val, out)
		}
	case []any:
		for _, val := range x {
			out[prefix+"[]"] = true
			flatKeys(prefix+"[]", val, out)
		}
	}
}

// TestAgencyViewsFollowThePolicy compares every key of every view an agency gets (its list,
// one case, the answer to its event, document or filing) with the policy table: nothing beyond
// it, and all of it where the case has the data.
func TestAgencyViewsFollowThePolicy(t *testing.T) {
	e := newAccessEnv(t, false)
	c := e.load(e.caseID)
	if c.Channel == "" || c.AssigneeID == "" || c.FacilityID == "" || c.Applicant.LegalCapacity == "" || len(c.Contacts) == 0 {
		t.Fatalf("the case must hold every field the policy gives out: %+v", c)
	}
	type view struct {
		kind domain.AgencyKind
		name string
		body map[string]any
		// whole says the view is a whole case, which shows every field its kind may see
		whole bool
	}
	var views []view
	add := func(who, name string, res response, whole bool, pick func(map[string]any) map[string]any) {
		t.Helper()
		if res.status >= 300 {
			t.Fatalf("%s as %s: %d %s", name, who, res.status, res.body)
		}
		body := pick(res.json(t))
		if body == nil {
			t.Fatalf("%s as %s: the case is not in %s", name, who, res.body)
		}
		views = append(views, view{e.actors[who].Agency(), name, body, whole})
	}
	self := func(m map[string]any) map[string]any { return m }
	listed := func(m map[string]any) map[string]any {
		for _, it := range m["items"].([]any) {
			if it.(map[string]any)["id"] == e.caseID {
				return it.(map[string]any)
			}
		}
		return nil
	}
	today := domain.DateOf(e.clock.now())
	for _, who := range []string{"mfc", "health", "guardianship", "facility"} {
		add(who, "list", e.do("GET", "/api/v1/agency/cases", e.tokens[who], nil), false, listed)
		add(who, "case", e.do("GET", "/api/v1/agency/cases/"+e.caseID, e.tokens[who], nil), true, self)
	}
	add("health", "document", e.do("PUT", "/api/v1/cases/"+e.caseID+"/documents/medical_card", e.tokens["health"],
		map[string]any{"status": "received", "issued_on": today.String()}), true, self)
	add("guardianship", "document", e.do("PUT", "/api/v1/cases/"+e.caseID+"/documents/guardianship_decision", e.tokens["guardianship"],
		map[string]any{"status": "received", "issued_on": today.String()}), true, self)
	add("facility", "event", e.do("POST", "/api/v1/cases/"+e.caseID+"/events", e.tokens["facility"],
		map[string]any{"event": "start_leave", "return_by": today.AddDays(5).String()}, "If-Match", quoted(e.load(e.caseID).Version)), true, self)
	add("mfc", "filing", e.do("POST", "/api/v1/cases", e.tokens["mfc"], e.newCase()), true, self)
	for _, who := range []string{"health", "guardianship", "facility"} { // now on leave: the return date is there
		add(who, "case on leave", e.do("GET", "/api/v1/agency/cases/"+e.caseID, e.tokens[who], nil), true, self)
	}
	if res := e.do("GET", "/api/v1/agency/cases", e.tokens["social_protection"], nil); res.status != http.StatusOK || strings.Contains(string(res.body), e.caseID) {
		t.Errorf("social protection's list: %d %s", res.status, res.body)
	}

	for _, v := range views {
		keys := map[string]bool{}
		flatKeys("", v.body, keys)
		shown := map[domain.CaseField]bool{}
		var sorted []string
		for k := range keys {
			sorted = append(sorted, k)
		}
		sort.Strings(sorted)
		for _, k := range sorted {
			if slices.Contains(agencyCommon, k) || k == "access_code" && v.name == "filing" {
				continue
			}
			f, ok := agencyFieldOf(k)
			switch {
			case !ok:
				t.Errorf("%s's %s view shows %q, which the policy gives no agency", v.kind, v.name, k)
			case !domain.AgencySees(v.kind, f):
				t.Errorf("%s's %s view shows %q (%s), which the policy does not give it", v.kind, v.name, k, f)
			default:
				shown[f] = true
			}
		}
		for _, f := range domain.AgencyFields[v.kind] {
			if (v.whole || f == domain.FieldFacilityType) && !shown[f] {
				t.Errorf("%s's %s view lacks %s, which the policy gives it", v.kind, v.name, f)
			}
		}
		if v.name == "case on leave" && domain.AgencySees(v.kind, domain.FieldPlacement) && !keys["leave_return_by"] {
			t.Errorf("%s's view of a case on leave lacks leave_return_by", v.kind)
		}
	}

	// The facts the issue named, by hand, so the test does not only check the table against itself.
	for kind, fields := range domain.AgencyFields {
		b, _ := json.Marshal(fields)
		if (kind == domain.AgencyMFC || kind == domain.AgencySocialProtection) && len(fields) != 0 {
			t.Errorf("%s is shown %s; a service center and social protection need none of it", kind, b)
		}
	}
	for _, v := range views {
		for _, leak := range []string{"channel", "assignee_id", "contacts", "deadlines", "checklist"} {
			if _, ok := v.body[leak]; ok {
				t.Errorf("%s's %s view shows %s", v.kind, v.name, leak)
			}
		}
		if _, ok := v.body["facility_type"]; ok && v.kind == domain.AgencyMFC {
			t.Errorf("the service center's %s view shows the type of home", v.name)
		}
	}
}
