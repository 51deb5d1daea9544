package api_test

import (
	"context"
	"math/rand/v2"
	"testing"
	"time"

	"carepath/domain"
)

// TestRandomWalksKeepBedsTrue: random events over many cases (vouchers, admissions, transfers,
// discharges, deaths, withdrawals, cancelled vouchers, offers accepted and declined, beds
// reported), then every section's counters agree with the cases (beds verify finds no drift).
func TestRandomWalksKeepBedsTrue(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	homeA, _ := h.createHome(map[string]any{"name": "Пансионат «А»", "type": "elderly_disabled", "district": "Северный",
		"sections": []any{map[string]any{"code": "w", "title": "Женское", "sex": "female", "capacity": 3},
			map[string]any{"code": "m", "title": "Мужское", "sex": "male", "capacity": 2}}})
	homeB, _ := h.createHome(map[string]any{"name": "Пансионат «Б»", "type": "elderly_disabled", "district": "Южный",
		"sections": []any{map[string]any{"code": "any", "title": "Общее", "sex": "any", "capacity": 3}}})
	homes := []string{homeA, homeB}
	var ids []string
	for i := range 24 {
		ids = append(ids, h.waitingCase([]string{"female", "male"}[i%2]).ID)
	}
	r := rand.New(rand.NewPCG(17, 2026))
	today := domain.DateOf(time.Now())
	fired, refused := 0, 0
	for step := 0; step < 600; step++ {
		if step%50 == 49 { // a home reports fewer or more beds; a refusal is fine
			_, _ = h.svc.ReportBeds(ctx, domain.System, homeB, domain.BedReport{Capacity: ptr(1 + r.IntN(4))})
		}
		if open, _ := h.svc.Offers(ctx, domain.OfferProposed); len(open) > 0 && r.IntN(3) == 0 {
			o := open[r.IntN(len(open))]
			if r.IntN(2) == 0 {
				_, err := h.svc.AcceptOffer(ctx, domain.System, o.ID)
				count(err, &fired, &refused)
			} else {
				_, err := h.svc.DeclineOffer(ctx, domain.System, o.ID, domain.OfferDecline{Reason: "unreachable"})
				count(err, &fired, &refused)
			}
			continue
		}
		id := ids[r.IntN(len(ids))]
		c, err := h.svc.Get(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		allowed := domain.AllowedEvents(c.State)
		if len(allowed) == 0 {
			continue
		}
		cmd := domain.EventCommand{Event: domain.EventName(allowed[r.IntN(len(allowed))])}
		if ends := cmd.Event == domain.Withdraw || cmd.Event == domain.RecordDeath || cmd.Event == domain.Discharge; ends && r.IntN(4) != 0 {
			continue // endings are rarer, so that the walk goes on long enough
		}
		switch cmd.Event {
		case domain.IssueVoucher:
			cmd.FacilityID = homes[r.IntN(len(homes))]
			if r.IntN(3) > 0 {
				cmd.SkipReason = "случайный шаг"
			}
		case domain.Discharge, domain.CancelVoucher, domain.Reject, domain.ReturnForDocuments:
			cmd.Reason = "случайный шаг"
		case domain.RecordDeath:
			cmd.DateOfDeath = &today
		case domain.StartLeave:
			back := today.AddDays(5)
			cmd.ReturnBy = &back
		case domain.RecognizeNeed:
			cmd.IPPSUNumber, cmd.IPPSUDate = "ИППСУ-2", &today
		}
		_, err = h.svc.Fire(ctx, domain.System, id, c.Version, cmd)
		count(err, &fired, &refused)
	}
	drift, err := h.svc.VerifyBeds(ctx)
	if err != nil || len(drift) != 0 {
		t.Fatalf("after %d changes (%d refused): drift %v %v", fired, refused, drift, err)
	}
	var vouchers, offers int64
	h.db.Gorm.Raw("SELECT count(*) FROM case_history WHERE event = 'issue_voucher'").Scan(&vouchers)
	h.db.Gorm.Raw("SELECT count(*) FROM offers WHERE state <> 'proposed'").Scan(&offers)
	t.Logf("%d changes (%d refused), %d vouchers, %d offers answered", fired, refused, vouchers, offers)
	if fired < 80 || vouchers < 10 || offers < 3 {
		t.Fatalf("%d changes, %d vouchers, %d offers answered: the walk tests too little", fired, vouchers, offers)
	}
}

func count(err error, fired, refused *int) {
	if err == nil {
		*fired++
		return
	}
	switch domain.ErrorCode(err) {
	case domain.EUNPROCESSABLE, domain.ECONFLICT, domain.ESTALE, domain.EINVALID:
		*refused++
	default:
		panic(err)
	}
}

func ptr[T any](v T) *T { return &v }
