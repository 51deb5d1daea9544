package api_test

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"carepath/domain"
)

func (h *harness) offers(state string) []map[string]any {
	h.t.Helper()
	r := h.do("GET", "/api/v1/offers?state="+state, nil)
	if r.status != 200 {
		h.t.Fatalf("offers: %d %s", r.status, r.body)
	}
	var out []map[string]any
	for _, it := range r.json(h.t)["items"].([]any) {
		out = append(out, it.(map[string]any))
	}
	return out
}

func TestOffersWhenABedFrees(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	home, _ := h.createHome(map[string]any{"name": "Пансионат «Клён»", "type": "elderly_disabled", "district": "Северный",
		"sections": []any{map[string]any{"code": "w", "title": "Женское", "sex": "female", "capacity": 1}}})
	resident := h.waitingCase("female")
	if r := h.fire(resident.ID, map[string]any{"event": "issue_voucher", "facility_id": home}); r.status != 200 {
		t.Fatalf("voucher: %d %s", r.status, r.body)
	}
	if r := h.fire(resident.ID, map[string]any{"event": "admit"}); r.status != 200 {
		t.Fatalf("admit: %d %s", r.status, r.body)
	}
	a, b, man := h.waitingCase("female"), h.waitingCase("female"), h.waitingCase("male")
	_ = man
	// The home is full: nothing to offer yet. A discharge frees the bed: the first woman waiting
	// is offered it, and told (no specialist assigned: the supervisors).
	if len(h.offers("proposed")) != 0 {
		t.Fatal("an offer with no free bed")
	}
	if r := h.fire(resident.ID, map[string]any{"event": "discharge", "reason": "переезд к дочери"}); r.status != 200 {
		t.Fatalf("discharge: %d %s", r.status, r.body)
	}
	open := h.offers("proposed")
	if len(open) != 1 || open[0]["case_id"] != a.ID || open[0]["section"] != "w" {
		t.Fatalf("after the discharge: %v", open)
	}
	var told int64
	if err := h.db.Gorm.Raw("SELECT count(*) FROM notices WHERE case_id = ? AND happening = 'offer_proposed' AND audience = 'supervisor'", a.ID).Scan(&told).Error; err != nil || told == 0 {
		t.Fatalf("supervisors told of the offer: %d %v", told, err)
	}
	// Declined by the applicant: the bed passes to the next; a second refusal flags a review.
	if r := h.do("POST", "/api/v1/offers/"+open[0]["id"].(string)+"/decline", map[string]any{"reason": "other"}); r.status != http.StatusBadRequest {
		t.Fatalf("other without a note: %d %s", r.status, r.body)
	}
	r := h.do("POST", "/api/v1/offers/"+open[0]["id"].(string)+"/decline", map[string]any{"reason": "applicant_refused"})
	if r.status != 200 || r.json(t)["state"] != "declined" {
		t.Fatalf("decline: %d %s", r.status, r.body)
	}
	if r := h.do("POST", "/api/v1/offers/"+open[0]["id"].(string)+"/decline", map[string]any{"reason": "applicant_refused"}); r.status != http.StatusConflict {
		t.Fatalf("decline twice: %d %s", r.status, r.body)
	}
	open = h.offers("proposed")
	if len(open) != 1 || open[0]["case_id"] != b.ID {
		t.Fatalf("after the decline: %v", open)
	}
	p, err := h.svc.CasePlacement(ctx, a.ID)
	if err != nil || p.Refusals != 1 || p.Review {
		t.Fatalf("placement after one refusal: %+v %v", p, err)
	}
	// Accepted: the voucher, in the offered section.
	r = h.do("POST", "/api/v1/offers/"+open[0]["id"].(string)+"/accept", nil)
	if r.status != 200 || r.json(t)["state"] != "voucher_issued" {
		t.Fatalf("accept: %d %s", r.status, r.body)
	}
	if r := h.do("POST", "/api/v1/offers/"+open[0]["id"].(string)+"/accept", nil); r.status != http.StatusConflict {
		t.Fatalf("accept twice: %d %s", r.status, r.body)
	}
	// A cancelled voucher frees the bed again: it goes back to a, who declined this section
	// before? No: a declined it, so nobody else fits and no offer is made.
	if r := h.fire(b.ID, map[string]any{"event": "cancel_voucher", "reason": "передумали"}); r.status != 200 {
		t.Fatalf("cancel: %d %s", r.status, r.body)
	}
	if open := h.offers("proposed"); len(open) != 0 {
		t.Fatalf("offered to someone who declined the section, or to the case that freed it: %v", open)
	}
	drift, err := h.svc.VerifyBeds(ctx)
	if err != nil || len(drift) != 0 {
		t.Fatalf("beds verify: %v %v", drift, err)
	}
}

// TestOneLastBedOneVoucher: fifty accepts of the offer of the last bed at once give one voucher.
func TestOneLastBedOneVoucher(t *testing.T) {
	h := newHarness(t)
	home, _ := h.createHome(map[string]any{"name": "Пансионат «Ель»", "type": "elderly_disabled",
		"sections": []any{map[string]any{"code": "m", "title": "Мужское", "sex": "male", "capacity": 1}}})
	resident := h.waitingCase("male")
	for _, ev := range []map[string]any{{"event": "issue_voucher", "facility_id": home}, {"event": "admit"}} {
		if r := h.fire(resident.ID, ev); r.status != 200 {
			t.Fatalf("%v: %d %s", ev["event"], r.status, r.body)
		}
	}
	waiting := h.waitingCase("male")
	if r := h.fire(resident.ID, map[string]any{"event": "record_death", "date_of_death": domain.DateOf(time.Now()).String()}); r.status != 200 {
		t.Fatalf("death: %d %s", r.status, r.body)
	}
	open := h.offers("proposed")
	if len(open) != 1 || open[0]["case_id"] != waiting.ID {
		t.Fatalf("offers: %v", open)
	}
	id := open[0]["id"].(string)
	var wg sync.WaitGroup
	statuses := make([]int, 50)
	for i := range statuses {
		wg.Add(1)
		go func() {
			defer wg.Done()
			statuses[i] = h.do("POST", "/api/v1/offers/"+id+"/accept", nil).status
		}()
	}
	wg.Wait()
	won := 0
	for _, s := range statuses {
		switch s {
		case 200:
			won++
		case http.StatusConflict, http.StatusPreconditionFailed:
		default:
			t.Errorf("an accept answered %d", s)
		}
	}
	var vouchers int64
	if err := h.db.Gorm.Raw("SELECT count(*) FROM case_history WHERE event = 'issue_voucher' AND case_id = ?", waiting.ID).Scan(&vouchers).Error; err != nil {
		t.Fatal(err)
	}
	if won != 1 || vouchers != 1 {
		t.Fatalf("%d accepts won, %d vouchers: want one", won, vouchers)
	}
}

// TestUnansweredOfferExpires: past its due time an offer expires, the supervisors hear of it
// like a missed deadline, and the bed passes to the next; the first keeps their place.
func TestUnansweredOfferExpires(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	home, _ := h.createHome(map[string]any{"name": "Пансионат «Дуб»", "type": "elderly_disabled",
		"sections": []any{map[string]any{"code": "m", "title": "Мужское", "sex": "male", "capacity": 1}}})
	resident := h.waitingCase("male")
	for _, ev := range []map[string]any{{"event": "issue_voucher", "facility_id": home}, {"event": "cancel_voucher", "reason": "ошибка"}} {
		if r := h.fire(resident.ID, ev); r.status != 200 {
			t.Fatalf("%v: %d %s", ev["event"], r.status, r.body)
		}
	}
	// the bed freed by the cancelled voucher is not offered back to the case that freed it
	if open := h.offers("proposed"); len(open) != 0 {
		t.Fatalf("offered back to the case that gave it up: %v", open)
	}
	first, second := h.waitingCase("male"), h.waitingCase("male")
	_ = first
	if r := h.fire(resident.ID, map[string]any{"event": "issue_voucher", "facility_id": home, "skip_reason": "ошибка исправлена"}); r.status != 200 {
		t.Fatalf("voucher again: %d %s", r.status, r.body)
	}
	if r := h.fire(resident.ID, map[string]any{"event": "withdraw", "reason": "отказ"}); r.status != 200 {
		t.Fatalf("withdraw: %d %s", r.status, r.body)
	}
	open := h.offers("proposed")
	if len(open) != 1 || open[0]["case_id"] != first.ID {
		t.Fatalf("after the withdrawal: %v", open)
	}
	n, err := h.svc.ExpireOffers(ctx, time.Now().AddDate(0, 0, 10))
	if err != nil || n != 1 {
		t.Fatalf("expire: %d %v", n, err)
	}
	if exp := h.offers("expired"); len(exp) != 1 || exp[0]["case_id"] != first.ID {
		t.Fatalf("expired offers: %v", exp)
	}
	if open := h.offers("proposed"); len(open) != 1 || open[0]["case_id"] != second.ID {
		t.Fatalf("the bed after the expiry: %v", open)
	}
	var told int64
	if err := h.db.Gorm.Raw("SELECT count(*) FROM notices WHERE case_id = ? AND happening = 'offer_expired' AND audience = 'supervisor'", first.ID).Scan(&told).Error; err != nil || told == 0 {
		t.Fatalf("supervisors told of the expiry: %d %v", told, err)
	}
	if c, err := h.cases.Get(ctx, first.ID); err != nil || c.State != domain.WaitingList || c.WaitingPosition != 1 {
		t.Fatalf("the first after the expiry: %v %v", c, err)
	}
}

// TestOffersWhenCapacityGrows: more beds in service (a section's capacity raised, a bed report
// with more beds, a home active again) are offered like a freed bed, with the notices written
// in the home's transaction; a change that frees nothing offers nothing.
func TestOffersWhenCapacityGrows(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	home, _ := h.createHome(map[string]any{"name": "Пансионат «Ясень»", "type": "elderly_disabled", "district": "Северный",
		"sections": []any{map[string]any{"code": "w", "title": "Женское", "sex": "female", "capacity": 0}}})
	a, b, c := h.waitingCase("female"), h.waitingCase("female"), h.waitingCase("female")
	section := func(capacity int) map[string]any {
		return map[string]any{"sections": []any{map[string]any{"code": "w", "title": "Женское", "sex": "female", "capacity": capacity}}}
	}
	// the district changes, no bed: no offer
	if r := h.do("PATCH", "/api/v1/facilities/"+home, map[string]any{"phone": "+7 495 000-00-00"}, "If-Match", `"1"`); r.status != 200 {
		t.Fatalf("patch: %d %s", r.status, r.body)
	}
	if open := h.offers("proposed"); len(open) != 0 {
		t.Fatalf("an offer with no bed: %v", open)
	}
	if r := h.do("PATCH", "/api/v1/facilities/"+home, section(1), "If-Match", `"2"`); r.status != 200 {
		t.Fatalf("capacity 1: %d %s", r.status, r.body)
	}
	open := h.offers("proposed")
	if len(open) != 1 || open[0]["case_id"] != a.ID {
		t.Fatalf("after capacity 1: %v", open)
	}
	var told int64
	if err := h.db.Gorm.Raw("SELECT count(*) FROM notices WHERE case_id = ? AND happening = 'offer_proposed'", a.ID).Scan(&told).Error; err != nil || told == 0 {
		t.Fatalf("told of the offer: %d %v", told, err)
	}
	// The home reports 3 beds in service: two more, for b and c.
	three := 3
	if _, err := h.svc.ReportBeds(ctx, domain.System, home, domain.BedReport{Capacity: &three}); err != nil {
		t.Fatal(err)
	}
	open = h.offers("proposed")
	if len(open) != 3 {
		t.Fatalf("after a report of 3 beds: %v", open)
	}
	// The same report again frees nothing new.
	if _, err := h.svc.ReportBeds(ctx, domain.System, home, domain.BedReport{Capacity: &three}); err != nil {
		t.Fatal(err)
	}
	if got := h.offers("proposed"); len(got) != 3 {
		t.Fatalf("a report with no more beds: %v", got)
	}
	seen := map[any]bool{}
	for _, o := range open {
		seen[o["case_id"]] = true
	}
	if !seen[b.ID] || !seen[c.ID] {
		t.Fatalf("offers: %v", open)
	}
	if drift, err := h.svc.VerifyBeds(ctx); err != nil || len(drift) != 0 {
		t.Fatalf("beds verify: %v %v", drift, err)
	}
}

// TestTransferJoinsTheListAndFreesTheOldBed: request_transfer names the type of home wanted,
// preferences and a reason; the resident joins that list and keeps the bed; admitted in the new
// home, the old bed frees and is offered to the next eligible case.
func TestTransferJoinsTheListAndFreesTheOldBed(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	oldHome, _ := h.createHome(map[string]any{"name": "Пансионат «Дуб»", "type": "elderly_disabled", "district": "Северный",
		"sections": []any{map[string]any{"code": "w", "title": "Женское", "sex": "female", "capacity": 1}}})
	newHome, _ := h.createHome(map[string]any{"name": "Интернат «Берёза»", "type": "psychoneurological", "district": "Южный",
		"sections": []any{map[string]any{"code": "w", "title": "Женское", "sex": "female", "capacity": 1}}})
	r := h.waitingCase("female")
	if res := h.fire(r.ID, map[string]any{"event": "issue_voucher", "facility_id": oldHome}); res.status != 200 {
		t.Fatalf("voucher: %d %s", res.status, res.body)
	}
	if res := h.fire(r.ID, map[string]any{"event": "admit"}); res.status != 200 {
		t.Fatalf("admit: %d %s", res.status, res.body)
	}
	next := h.waitingCase("female")
	if res := h.fire(r.ID, map[string]any{"event": "request_transfer", "facility_type": "nonsense"}); res.status != http.StatusBadRequest {
		t.Fatalf("an unknown type: %d %s", res.status, res.body)
	}
	res := h.fire(r.ID, map[string]any{"event": "request_transfer", "facility_type": "psychoneurological", "reason": "нужен уход иного профиля",
		"placement": map[string]any{"priority": "general", "districts": []string{"Южный"}}})
	if res.status != 200 {
		t.Fatalf("request_transfer: %d %s", res.status, res.body)
	}
	c := res.json(t)
	if c["state"] != "transfer_pending" || c["facility_type"] != "psychoneurological" || c["facility_id"] != oldHome {
		t.Fatalf("after the request: %v", c)
	}
	if got, err := h.cases.Get(ctx, r.ID); err != nil || got.WaitingPosition != 1 {
		t.Fatalf("the resident's place on the new list: %v %v", got.WaitingPosition, err)
	}
	// On the new type's list, the old bed still held: nothing offered to the next woman.
	if got := h.numbers(h.do("GET", "/api/v1/waiting-list?facility_id="+newHome, nil)); len(got) != 1 || got[0] != r.Number {
		t.Fatalf("the new home's list: %v", got)
	}
	if len(h.offers("proposed")) != 0 {
		t.Fatalf("an offer while the resident keeps the bed: %v", h.offers("proposed"))
	}
	hist := h.do("GET", "/api/v1/cases/"+r.ID+"/history", nil).json(t)["items"].([]any)
	last := hist[len(hist)-1].(map[string]any)
	if p, _ := last["payload"].(map[string]any); p["facility_type"] != "psychoneurological" || p["previous_facility_type"] != "elderly_disabled" || p["reason"] != "нужен уход иного профиля" {
		t.Fatalf("history line: %v", last)
	}
	// Admitted in the new home: the old bed frees and goes to the next woman waiting.
	if res := h.fire(r.ID, map[string]any{"event": "issue_voucher", "facility_id": newHome}); res.status != 200 {
		t.Fatalf("voucher to the new home: %d %s", res.status, res.body)
	}
	if res := h.fire(r.ID, map[string]any{"event": "admit"}); res.status != 200 {
		t.Fatalf("admit to the new home: %d %s", res.status, res.body)
	}
	open := h.offers("proposed")
	if len(open) != 1 || open[0]["case_id"] != next.ID || open[0]["facility_id"] != oldHome {
		t.Fatalf("the old bed's offer: %v", open)
	}
	if drift, err := h.svc.VerifyBeds(ctx); err != nil || len(drift) != 0 {
		t.Fatalf("beds verify: %v %v", drift, err)
	}
}
