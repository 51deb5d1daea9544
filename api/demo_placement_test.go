package api_test

import (
	"context"
	"testing"

	"carepath/cmd/carepath/demo"
	"carepath/domain"
)

// TestDemoPlacement: the demo data shows every placement page something: homes with sections
// and districts, a waiting list with priorities and preferences, a free bed with an offer
// waiting for an answer, and a stale home.
func TestDemoPlacement(t *testing.T) {
	h := newHarness(t)
	if _, err := demo.SeedDemo(context.Background(), h.db, h.cases, h.svc); err != nil {
		t.Fatal(err)
	}
	count := func(q string) int64 {
		t.Helper()
		var n int64
		if err := h.db.Gorm.Raw(q).Scan(&n).Error; err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		return n
	}
	for q, min := range map[string]int64{
		"SELECT count(*) FROM facilities WHERE district <> '' AND (SELECT count(*) FROM facility_sections s WHERE s.facility_id = facilities.id) > 1":                             2,
		"SELECT count(*) FROM cases WHERE state = 'waiting_list' AND priority_rank < 100":                                                                                         2,
		"SELECT count(*) FROM placements p JOIN cases c ON c.id = p.case_id WHERE c.state = 'waiting_list' AND (cardinality(p.districts) > 0 OR cardinality(p.facility_ids) > 0)": 2,
		"SELECT count(*) FROM offers WHERE state = 'proposed'":                                                                                                                    1,
		"SELECT count(*) FROM facilities WHERE active AND reported_at < now() - interval '8 days'":                                                                                1,
	} {
		if n := count(q); n < min {
			t.Errorf("%s: %d, want at least %d", q, n, min)
		}
	}
	t.Logf("offers: %d proposed, %d in all", count("SELECT count(*) FROM offers WHERE state = 'proposed'"), count("SELECT count(*) FROM offers"))
}

// TestDemoPlacementPages walks the placement pages over the demo data (and takes their
// screenshots with CAREPATH_SCREENSHOTS): every page in Russian, the demo home's agency on /partner.
func TestDemoPlacementPages(t *testing.T) {
	h := newHarness(t)
	if _, err := demo.SeedDemo(context.Background(), h.db, h.cases, h.svc); err != nil {
		t.Fatal(err)
	}
	br := newBrowser(t, h)
	br.login(h.tokens[domain.RoleSupervisor])
	br.open("/console/beds")
	br.wait("board", `document.querySelectorAll('#beds tbody.home').length >= 5 && !!document.querySelector('#beds .stale-mark')`)
	br.shot("demo-beds", true)
	br.open("/console/waiting-list?facility_type=elderly_disabled")
	br.wait("waiting list", `document.querySelectorAll('#waiting-list tbody tr').length > 0`)
	br.shot("demo-waiting-list", true)
	br.open("/console/offers?state=")
	br.wait("offers", `!!document.querySelector('#offers li[data-state="proposed"]') && !!document.querySelector('#offers li[data-state="declined"]')`)
	br.shot("demo-offers", true)
	br.click(`#offers li[data-state="declined"] a.case-link`)
	br.wait("case panel", `!!document.querySelector('#placement-panel #case-offers')`)
	br.shot("demo-case-placement", false)
	br.open("/partner")
	br.wait("key form", `!!document.querySelector('#partner-key')`)
	br.typeIn("#partner-key", "cpk_demo_facility_not_secret")
	br.click("#partner-login button[type=submit]")
	br.wait("the demo home", `!!document.querySelector('section.home .beds-input')`)
	br.shot("demo-partner", true)
}
