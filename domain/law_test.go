package domain_test

import (
	"context"
	"slices"
	"testing"

	"carepath/domain"
)

func hasNotice(ns []domain.Notice, h domain.Happening, audience string) bool {
	return slices.ContainsFunc(ns, func(n domain.Notice) bool { return n.Happening == h && n.Audience == audience })
}

// TestAppealIsARecord: an appeal keeps its grounds and filing day, tells the relatives and the
// guardianship body, and gets its outcome from the review it reopens.
func TestAppealIsARecord(t *testing.T) {
	f := newFixture(t)
	guardianship := "00000000-0000-4000-8000-0000000000a1"
	c := f.register(newCase(func(n *domain.NewCase) {
		n.Applicant.LegalCapacity = domain.Incapacitated
		n.GuardianshipID = guardianship
	}))
	c = f.mustFire(c, domain.EventCommand{Event: domain.RequestDocuments})
	c = f.mustFire(f.receiveAll(c), domain.EventCommand{Event: domain.SubmitForReview})
	c = f.mustFire(c, domain.EventCommand{Event: domain.Reject, Reason: "нет оснований"})
	future := f.today().AddDays(1)
	for _, cmd := range []domain.EventCommand{
		{Event: domain.Appeal, FiledOn: &future, Grounds: "x"},
		{Event: domain.Appeal, Grounds: "x"},
		{Event: domain.Appeal, FiledOn: ptr(f.today())},
	} {
		if _, err := f.fire(c, cmd); domain.ErrorCode(err) != domain.EUNPROCESSABLE {
			t.Errorf("%+v: got %v, want EUNPROCESSABLE", cmd, err)
		}
	}
	c = f.mustFire(c, domain.EventCommand{Event: domain.Appeal, Grounds: "не учтена справка", FiledOn: ptr(f.today())})
	if len(c.Appeals) != 1 || c.Appeals[0].Outcome != domain.AppealPending || c.Appeals[0].Grounds != "не учтена справка" {
		t.Fatalf("appeals %+v", c.Appeals)
	}
	ns := f.cases.Notices(c.ID)
	if !hasNotice(ns, domain.HappeningAppealFiled, domain.AudienceGuardianship) || !hasNotice(ns, domain.HappeningAppealFiled, domain.AudienceRelative) {
		t.Errorf("the appeal told %v", ns)
	}
	c = f.mustFire(c, domain.EventCommand{Event: domain.Reject, Reason: "снова нет оснований"})
	if c.Appeals[0].Outcome != domain.AppealDismissed || c.Appeals[0].DecidedOn == nil {
		t.Fatalf("after a new refusal: %+v", c.Appeals)
	}
	c = f.mustFire(c, domain.EventCommand{Event: domain.Appeal, Grounds: "новые документы", FiledOn: ptr(f.today())})
	c = f.mustFire(c, domain.EventCommand{Event: domain.RecognizeNeed, IPPSUNumber: "1", IPPSUDate: ptr(f.today())})
	if len(c.Appeals) != 2 || c.Appeals[1].Outcome != domain.AppealGranted || c.Appeals[0].Outcome != domain.AppealDismissed {
		t.Fatalf("after recognition: %+v", c.Appeals)
	}
}

func ptr[T any](v T) *T { return &v }

// TestIPPSUReviewMovesTheDeadline: the review records the new programme, meets the open review
// deadline and opens the next one from the new date; the case stays where it is.
func TestIPPSUReviewMovesTheDeadline(t *testing.T) {
	f := newFixture(t)
	c := f.toWaitingList(f.register(newCase()))
	old := c.IPPSU.Date
	var due domain.Date
	for _, d := range c.Deadlines {
		if d.Kind == domain.DeadlineIPPSUReview {
			due = d.DueOn
		}
	}
	if due != old.AddYears(3) {
		t.Fatalf("review due %s, want %s", due, old.AddYears(3))
	}
	f.now = f.now.AddDate(3, 0, 5) // overdue
	if _, err := f.fire(c, domain.EventCommand{Event: domain.ReviewIPPSU, IPPSUNumber: "77-002", IPPSUDate: &old}); domain.ErrorCode(err) != domain.EUNPROCESSABLE {
		t.Fatalf("a programme not newer: %v", err)
	}
	c = f.mustFire(c, domain.EventCommand{Event: domain.ReviewIPPSU, IPPSUNumber: "77-002", IPPSUDate: ptr(f.today())})
	if c.State != domain.WaitingList || c.IPPSU.Number != "77-002" {
		t.Fatalf("after review: %s %+v", c.State, c.IPPSU)
	}
	n := 0
	for _, d := range c.Deadlines {
		if d.Kind == domain.DeadlineIPPSUReview {
			n++
			if d.DueOn != f.today().AddYears(3) {
				t.Errorf("next review due %s", d.DueOn)
			}
		}
	}
	if n != 1 {
		t.Fatalf("open %v", openKinds(c))
	}
	if got := f.cases.ClosedDeadlines(c.ID); !slices.Contains(got, "ippsu_review=missed") {
		t.Errorf("closed %v: the late review should be missed", got)
	}
}

// TestContractDeadline: the voucher opens the contract deadline (1 working day); the contract
// event meets it, admission meets it when there was none.
func TestContractDeadline(t *testing.T) {
	for _, viaContract := range []bool{true, false} {
		f := newFixture(t)
		fac := f.facility("Дом 1", domain.ElderlyDisabled, 5)
		c := f.toWaitingList(f.register(newCase()))
		c = f.mustFire(c, domain.EventCommand{Event: domain.IssueVoucher, FacilityID: fac})
		found := false
		for _, d := range c.Deadlines {
			if d.Kind == domain.DeadlineContract {
				found = true
				cal, _ := f.cases.Calendar(context.Background())
				if d.DueOn != cal.AddWorkingDays(f.today(), 1) {
					t.Errorf("contract due %s", d.DueOn)
				}
			}
		}
		if !found {
			t.Fatalf("no contract deadline: %v", openKinds(c))
		}
		if viaContract {
			c = f.mustFire(c, domain.EventCommand{Event: domain.SignContract, ContractNumber: "Д-17"})
			if c.State != domain.VoucherIssued || c.Contract == nil || c.Contract.Number != "Д-17" {
				t.Fatalf("after contract: %s %+v", c.State, c.Contract)
			}
			if _, err := f.fire(c, domain.EventCommand{Event: domain.SignContract, ContractNumber: "Д-18"}); domain.ErrorCode(err) != domain.EUNPROCESSABLE {
				t.Errorf("a second contract: %v", err)
			}
		} else {
			c = f.mustFire(c, domain.EventCommand{Event: domain.Admit})
		}
		if got := f.cases.ClosedDeadlines(c.ID); !slices.Contains(got, "contract=met") {
			t.Errorf("contract via contract=%v: closed %v", viaContract, got)
		}
	}
}

// TestDecisionPeriodIsAChoice: with the ИППСУ issued with the decision, the decision deadline is
// 10 working days, chosen on submission or changed under review.
func TestDecisionPeriodIsAChoice(t *testing.T) {
	due := func(c *domain.Case) domain.Date {
		for _, d := range c.Deadlines {
			if d.Kind == domain.DeadlineReviewDecision {
				return d.DueOn
			}
		}
		t.Fatalf("no review deadline: %v", openKinds(c))
		return domain.Date{}
	}
	f := newFixture(t)
	cal, _ := f.cases.Calendar(context.Background())
	c := f.mustFire(f.register(newCase()), domain.EventCommand{Event: domain.RequestDocuments})
	c = f.mustFire(f.receiveAll(c), domain.EventCommand{Event: domain.SubmitForReview, DecisionWithIPPSU: ptr(true)})
	if !c.DecisionWithIPPSU || due(c) != cal.AddWorkingDays(f.today(), 10) {
		t.Fatalf("with the ИППСУ: due %s", due(c))
	}
	c, err := f.svc.EditFacts(context.Background(), f.actor, c.ID, c.Version, domain.FactsPatch{DecisionWithIPPSU: ptr(false)})
	if err != nil {
		t.Fatal(err)
	}
	if c.DecisionWithIPPSU || due(c) != cal.AddWorkingDays(f.today(), 5) {
		t.Fatalf("changed back: due %s", due(c))
	}
}

// TestEditFactsRebuildsTheChecklist: each fact, its checklist, its history line.
func TestEditFactsRebuildsTheChecklist(t *testing.T) {
	guardianship := "00000000-0000-4000-8000-0000000000a1"
	incap := domain.Incapacitated
	pni := domain.Psychoneurological
	group := "2"
	for _, tc := range []struct {
		name  string
		patch domain.FactsPatch
		want  []domain.DocType
		code  string
	}{
		{"disability", domain.FactsPatch{DisabilityGroup: &group}, []domain.DocType{domain.DocDisabilityCertificate, domain.DocRehabilitationProgramme}, ""},
		{"home type", domain.FactsPatch{FacilityType: &pni}, []domain.DocType{domain.DocPsychiatricCommission}, ""},
		{"incapacity", domain.FactsPatch{LegalCapacity: &incap, GuardianshipID: &guardianship},
			[]domain.DocType{domain.DocIncapacityRuling, domain.DocGuardianshipDecision, domain.DocRepresentativeAuthority}, ""},
		{"incapacity without a guardianship body", domain.FactsPatch{LegalCapacity: &incap}, nil, domain.EINVALID},
		{"a bad group", domain.FactsPatch{DisabilityGroup: ptr("7")}, nil, domain.EINVALID},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			c := f.register(newCase())
			out, err := f.svc.EditFacts(context.Background(), f.actor, c.ID, c.Version, tc.patch)
			if tc.code != "" {
				if domain.ErrorCode(err) != tc.code {
					t.Fatalf("got %v, want %s", err, tc.code)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for _, d := range tc.want {
				if got, ok := out.Checklist.Get(d); !ok || !got.Required {
					t.Errorf("%s not required after the change", d)
				}
			}
			h, _ := f.svc.History(context.Background(), c.ID)
			if last := h[len(h)-1]; last.Event != "edit_facts" || last.Payload["changes"] == nil {
				t.Errorf("history %+v", last)
			}
			if _, err := f.svc.EditFacts(context.Background(), f.actor, c.ID, c.Version, tc.patch); domain.ErrorCode(err) != domain.ESTALE {
				t.Errorf("a stale version: %v", err)
			}
		})
	}
	// Once on the waiting list, the type of home stays.
	f := newFixture(t)
	c := f.toWaitingList(f.register(newCase()))
	if _, err := f.svc.EditFacts(context.Background(), f.actor, c.ID, c.Version, domain.FactsPatch{FacilityType: &pni}); domain.ErrorCode(err) != domain.EUNPROCESSABLE {
		t.Errorf("type on the list: %v", err)
	}
}

// TestConsentWithdrawalCancelsPendingNotices: withdrawing the consent cancels the notices not
// yet sent to that contact, records the day, and no new notice goes to them.
func TestConsentWithdrawalCancelsPendingNotices(t *testing.T) {
	f := newFixture(t)
	c := f.register(newCase(func(n *domain.NewCase) {
		n.Contacts = append(n.Contacts, domain.Contact{Name: "Петрова Анна", Relation: "daughter", Email: "anna@example.org", ConsentToNotices: true})
	}))
	if c.Contacts[0].Phone != "+79161234567" || c.Contacts[0].ConsentSource != "application" || c.Contacts[0].ConsentOn != f.today().String() {
		t.Fatalf("registered contact %+v", c.Contacts[0])
	}
	c = f.mustFire(c, domain.EventCommand{Event: domain.RequestDocuments})
	pending := func(to string) int {
		n := 0
		for _, no := range f.cases.Notices(c.ID) {
			if no.Recipient == to && no.Status == domain.NoticePending {
				n++
			}
		}
		return n
	}
	if pending("+79161234567") == 0 || pending("anna@example.org") == 0 {
		t.Fatalf("no pending notices to the relatives")
	}
	son := c.Contacts[0]
	son.ConsentToNotices = false
	c, err := f.svc.EditContact(context.Background(), f.actor, c.ID, c.Version, 0, son)
	if err != nil {
		t.Fatal(err)
	}
	if pending("+79161234567") != 0 || pending("anna@example.org") == 0 {
		t.Fatalf("after the withdrawal: son %d, daughter %d pending", pending("+79161234567"), pending("anna@example.org"))
	}
	if c.Contacts[0].ConsentWithdrawnOn != f.today().String() || c.Contacts[0].ConsentOn != "" {
		t.Errorf("withdrawn contact %+v", c.Contacts[0])
	}
	c = f.mustFire(f.receiveAll(c), domain.EventCommand{Event: domain.SubmitForReview})
	c = f.mustFire(c, domain.EventCommand{Event: domain.Reject, Reason: "нет"})
	for _, no := range f.cases.Notices(c.ID) {
		if no.Recipient == "+79161234567" && no.Status == domain.NoticePending {
			t.Errorf("a notice after the withdrawal: %s", no.Happening)
		}
	}
	// Given again: the source is required, and it is not pre-ticked.
	son = c.Contacts[0]
	son.ConsentToNotices = true
	if _, err := f.svc.EditContact(context.Background(), f.actor, c.ID, c.Version, 0, son); domain.ErrorCode(err) != domain.EINVALID {
		t.Errorf("consent without its source: %v", err)
	}
	son.ConsentSource = "phone"
	c, err = f.svc.EditContact(context.Background(), f.actor, c.ID, c.Version, 0, son)
	if err != nil || c.Contacts[0].ConsentOn != f.today().String() {
		t.Fatalf("consent again: %v %+v", err, c.Contacts)
	}
	// Removing the daughter cancels what was owed to her.
	c, err = f.svc.RemoveContact(context.Background(), f.actor, c.ID, c.Version, 1)
	if err != nil || len(c.Contacts) != 1 || pending("anna@example.org") != 0 {
		t.Fatalf("remove: %v, %d contacts, %d pending", err, len(c.Contacts), pending("anna@example.org"))
	}
	// Added with a phone in any format: stored as E.164.
	c, err = f.svc.AddContact(context.Background(), f.actor, c.ID, c.Version, domain.Contact{Name: "Сидоров", Relation: "nephew", Phone: "8 (903) 111-22-33"})
	if err != nil || c.Contacts[1].Phone != "+79031112233" || c.Contacts[1].ConsentToNotices {
		t.Fatalf("add: %v %+v", err, c.Contacts)
	}
	if _, err := f.svc.RemoveContact(context.Background(), f.actor, c.ID, c.Version, 5); domain.ErrorCode(err) != domain.ENOTFOUND {
		t.Errorf("remove a contact that is not there: %v", err)
	}
}
