package domain_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"carepath/domain"
	"carepath/domain/domaintest"
)

// fixture is a domain service over cases kept in memory (domaintest): the store's own suite
// runs against PostgreSQL.
type fixture struct {
	t     *testing.T
	cases *domaintest.Cases
	svc   *domain.Service
	now   time.Time
	actor domain.Actor
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{t: t, cases: domaintest.New(), now: time.Date(2026, 12, 30, 10, 0, 0, 0, domain.Moscow),
		actor: domain.Actor{ID: "tester", Name: "Тестовый специалист", Kind: "user", Role: "specialist"}}
	f.svc = &domain.Service{Cases: f.cases, Calendar: f.cases, Settings: domain.DefaultSettings(), Now: func() time.Time { return f.now }}
	return f
}

func (f *fixture) today() domain.Date { return domain.DateOf(f.now) }

func (f *fixture) facility(name string, typ domain.FacilityType, capacity int) string {
	return f.cases.AddFacility(name, typ, capacity)
}

func (f *fixture) taken(id string) int {
	return f.cases.Taken(id)
}

func newCase(mutate ...func(*domain.NewCase)) domain.NewCase {
	n := domain.NewCase{
		Channel: domain.ChannelMFC, FacilityType: domain.ElderlyDisabled,
		Applicant: domain.Applicant{FullName: "Иванова Мария Петровна", BirthDate: domain.MustDate("1941-03-15"), Gender: "female",
			SNILS: "112-233-445 95", Address: "Москва, ул. Летчика Бабушкина, д. 1", LegalCapacity: domain.Capable, DisabilityGroup: "none"},
		Contacts: []domain.Contact{{Name: "Иванов Сергей", Relation: "son", Phone: "+7 916 123-45-67", ConsentToNotices: true}},
	}
	for _, m := range mutate {
		m(&n)
	}
	return n
}

func (f *fixture) register(n domain.NewCase) *domain.Case {
	f.t.Helper()
	c, code, err := f.svc.Register(context.Background(), f.actor, n)
	if err != nil {
		f.t.Fatalf("register: %v", err)
	}
	if len(code) < 10 {
		f.t.Fatalf("access code %q is shorter than 10 characters", code)
	}
	return c
}

func (f *fixture) fire(c *domain.Case, cmd domain.EventCommand) (*domain.Case, error) {
	f.t.Helper()
	return f.svc.Fire(context.Background(), f.actor, c.ID, c.Version, cmd)
}

func (f *fixture) mustFire(c *domain.Case, cmd domain.EventCommand) *domain.Case {
	f.t.Helper()
	out, err := f.fire(c, cmd)
	if err != nil {
		f.t.Fatalf("%s from %s: %v", cmd.Event, c.State, err)
	}
	return out
}

// receiveAll records every required document as received, issued ten days ago.
func (f *fixture) receiveAll(c *domain.Case) *domain.Case {
	f.t.Helper()
	issued := f.today().AddDays(-10)
	for _, d := range c.Checklist {
		if !d.Required {
			continue
		}
		var err error
		c, err = f.svc.RecordDocument(context.Background(), f.actor, c.ID, d.Type, c.Version, domain.DocumentUpdate{Status: domain.DocReceived, IssuedOn: &issued})
		if err != nil {
			f.t.Fatalf("record %s: %v", d.Type, err)
		}
	}
	return c
}

// toWaitingList walks a case from intake to the waiting list.
func (f *fixture) toWaitingList(c *domain.Case) *domain.Case {
	f.t.Helper()
	c = f.mustFire(c, domain.EventCommand{Event: domain.RequestDocuments})
	c = f.receiveAll(c)
	c = f.mustFire(c, domain.EventCommand{Event: domain.SubmitForReview})
	d := f.today().AddDays(-1)
	return f.mustFire(c, domain.EventCommand{Event: domain.RecognizeNeed, IPPSUNumber: "77-001", IPPSUDate: &d})
}

func openKinds(c *domain.Case) []string {
	var out []string
	for _, d := range c.Deadlines {
		out = append(out, string(d.Kind)+":"+d.Ref)
	}
	slices.Sort(out)
	return out
}

func reasonsOf(t *testing.T, err error, code string) []string {
	t.Helper()
	de, ok := domain.AsError(err)
	if !ok || de.Code != code {
		t.Fatalf("got %v, want a %s error", err, code)
	}
	out := make([]string, len(de.Reasons))
	for i, r := range de.Reasons {
		out[i] = r.String()
	}
	return out
}

func TestChecklistFollowsTheFacts(t *testing.T) {
	f := newFixture(t)
	guardianship := "00000000-0000-4000-8000-0000000000a1" // the guardianship body's agency
	c := f.register(newCase(func(n *domain.NewCase) {
		n.FacilityType = domain.Psychoneurological
		n.Applicant.LegalCapacity = domain.Incapacitated
		n.Applicant.DisabilityGroup = "1"
		n.GuardianshipID = guardianship
	}))
	var types []string
	for _, d := range c.Checklist {
		if d.Required {
			types = append(types, string(d.Type))
		}
		if d.Status != domain.DocMissing {
			t.Errorf("new checklist item %s is %s", d.Type, d.Status)
		}
	}
	want := []string{"application", "passport", "snils", "medical_card", "no_contraindications", "income_certificate", "residence_proof",
		"representative_authority", "disability_certificate", "rehabilitation_programme", "psychiatric_commission", "incapacity_ruling", "guardianship_decision"}
	if !slices.Equal(types, want) {
		t.Fatalf("checklist %v, want %v", types, want)
	}
	plain := f.register(newCase())
	if len(plain.Checklist) != 7 {
		t.Fatalf("a capable applicant without disability needs 7 documents, got %d", len(plain.Checklist))
	}
}

func TestSubmitForReviewNamesEveryMissingDocument(t *testing.T) {
	f := newFixture(t)
	c := f.mustFire(f.register(newCase()), domain.EventCommand{Event: domain.RequestDocuments})
	issued := f.today().AddDays(-5)
	c, err := f.svc.RecordDocument(context.Background(), f.actor, c.ID, domain.DocPassport, c.Version, domain.DocumentUpdate{Status: domain.DocReceived, IssuedOn: &issued})
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.fire(c, domain.EventCommand{Event: domain.SubmitForReview})
	reasons := reasonsOf(t, err, domain.EUNPROCESSABLE)
	if len(reasons) != 6 {
		t.Fatalf("want 6 reasons (every missing document), got %v", reasons)
	}
	for _, r := range reasons {
		if strings.Contains(r, "passport") {
			t.Errorf("the received passport is named as blocking: %q", r)
		}
	}
	after, _ := f.svc.Get(context.Background(), c.ID)
	if after.State != domain.CollectingDocuments || after.Version != c.Version {
		t.Fatalf("a refused event changed the case: %s v%d", after.State, after.Version)
	}
	c = f.receiveAll(c)
	c = f.mustFire(c, domain.EventCommand{Event: domain.SubmitForReview})
	if c.State != domain.UnderReview {
		t.Fatalf("state %s", c.State)
	}
}

func TestExpiredMedicalDocumentBlocksReviewAndAdmission(t *testing.T) {
	f := newFixture(t)
	fac := f.facility("Пансионат", domain.ElderlyDisabled, 5)
	c := f.mustFire(f.register(newCase()), domain.EventCommand{Event: domain.RequestDocuments})
	c = f.receiveAll(c)
	// A medical card issued seven months ago has expired (validity six months).
	old := f.today().AddMonths(-7)
	c, err := f.svc.RecordDocument(context.Background(), f.actor, c.ID, domain.DocMedicalCard, 0, domain.DocumentUpdate{Status: domain.DocReceived, IssuedOn: &old})
	if err != nil {
		t.Fatal(err)
	}
	d, _ := c.Checklist.Get(domain.DocMedicalCard)
	if d.ValidUntil == nil || d.ValidUntil.String() != old.AddMonths(6).String() {
		t.Fatalf("valid_until %v, want issue date + 6 months", d.ValidUntil)
	}
	_, err = f.fire(c, domain.EventCommand{Event: domain.SubmitForReview})
	reasons := reasonsOf(t, err, domain.EUNPROCESSABLE)
	if len(reasons) != 1 || !strings.Contains(reasons[0], "medical_card expired") {
		t.Fatalf("reasons %v", reasons)
	}
	// Renewed: the case goes through review and gets a voucher.
	c = f.receiveAll(c)
	c = f.mustFire(c, domain.EventCommand{Event: domain.SubmitForReview})
	ippsu := f.today()
	c = f.mustFire(c, domain.EventCommand{Event: domain.RecognizeNeed, IPPSUNumber: "1", IPPSUDate: &ippsu})
	c = f.mustFire(c, domain.EventCommand{Event: domain.IssueVoucher, FacilityID: fac})
	// Admission must find the clearance valid on the admission date: move the clock past it.
	f.now = f.now.AddDate(0, 0, 200)
	late := f.today()
	c.VoucherValidUntil = nil
	_, err = f.fire(c, domain.EventCommand{Event: domain.Admit, AdmittedOn: &late})
	reasons = reasonsOf(t, err, domain.EUNPROCESSABLE)
	joined := strings.Join(reasons, "; ")
	for _, want := range []string{"voucher expired", "medical_card expired", "no_contraindications expired"} {
		if !strings.Contains(joined, want) {
			t.Errorf("reasons %q lack %q", joined, want)
		}
	}
}

func TestGuardsNeedTheirData(t *testing.T) {
	f := newFixture(t)
	c := f.mustFire(f.register(newCase()), domain.EventCommand{Event: domain.RequestDocuments})
	c = f.mustFire(f.receiveAll(c), domain.EventCommand{Event: domain.SubmitForReview})
	for _, cmd := range []domain.EventCommand{
		{Event: domain.Reject},
		{Event: domain.ReturnForDocuments},
		{Event: domain.RecognizeNeed, IPPSUNumber: "1"},
		{Event: domain.RecognizeNeed},
	} {
		if _, err := f.fire(c, cmd); domain.ErrorCode(err) != domain.EUNPROCESSABLE {
			t.Errorf("%s without its data: got %v, want EUNPROCESSABLE", cmd.Event, err)
		}
	}
	c = f.mustFire(c, domain.EventCommand{Event: domain.Reject, Reason: "не нуждается"})
	if _, err := f.fire(c, domain.EventCommand{Event: domain.Appeal}); domain.ErrorCode(err) != domain.EUNPROCESSABLE {
		t.Errorf("appeal without grounds: got %v, want EUNPROCESSABLE", err)
	}
	filed := f.today()
	c = f.mustFire(c, domain.EventCommand{Event: domain.Appeal, Grounds: "не учтены документы", FiledOn: &filed})
	if c.State != domain.UnderReview {
		t.Fatalf("appeal: %s", c.State)
	}
}

func TestDeadlinesOpenAndCloseWithTheLifecycle(t *testing.T) {
	f := newFixture(t)
	c := f.mustFire(f.register(newCase()), domain.EventCommand{Event: domain.RequestDocuments})
	if got := openKinds(c); !slices.Equal(got, []string{"document_collection:"}) {
		t.Fatalf("collecting: %v", got)
	}
	if c.Deadlines[0].DueOn.String() != "2027-01-29" {
		t.Errorf("document collection due %s, want 30 calendar days later", c.Deadlines[0].DueOn)
	}
	c = f.receiveAll(c)
	c = f.mustFire(c, domain.EventCommand{Event: domain.SubmitForReview})
	// Entering review on 2026-12-30: decision in 5 working days, IPPSU in 10, over the holidays.
	due := map[string]string{}
	for _, d := range c.Deadlines {
		due[string(d.Kind)] = d.DueOn.String()
	}
	if due["review_decision"] != "2027-01-15" || due["ippsu"] != "2027-01-22" {
		t.Fatalf("review deadlines %v", due)
	}
	if _, ok := due["document_collection"]; ok {
		t.Fatalf("document collection still open after submission")
	}
	for _, k := range []string{"document_expiry"} {
		if _, ok := due[k]; !ok {
			t.Errorf("no %s deadline for the received medical documents: %v", k, due)
		}
	}
	ippsu := f.today()
	c = f.mustFire(c, domain.EventCommand{Event: domain.RecognizeNeed, IPPSUNumber: "1", IPPSUDate: &ippsu})
	got := openKinds(c)
	if slices.Contains(got, "review_decision:") || slices.Contains(got, "ippsu:") || !slices.Contains(got, "ippsu_review:") {
		t.Fatalf("after recognition: %v", got)
	}
	states := f.cases.ClosedDeadlines(c.ID)
	if !slices.Equal(states, []string{"document_collection=met", "ippsu=met", "review_decision=met"}) {
		t.Fatalf("closed deadlines %v", states)
	}
}

func TestVoucherReservesAndReleasesBeds(t *testing.T) {
	f := newFixture(t)
	small := f.facility("Малый пансионат", domain.ElderlyDisabled, 1)
	pni := f.facility("ПНИ", domain.Psychoneurological, 10)
	a := f.toWaitingList(f.register(newCase()))
	b := f.toWaitingList(f.register(newCase(func(n *domain.NewCase) { n.Applicant.FullName = "Петрова Анна" })))
	got, _ := f.svc.Get(context.Background(), b.ID)
	if got.WaitingPosition != 2 {
		t.Errorf("second on the list has position %d", got.WaitingPosition)
	}
	_, err := f.fire(a, domain.EventCommand{Event: domain.IssueVoucher, FacilityID: pni})
	if r := reasonsOf(t, err, domain.EUNPROCESSABLE); !strings.Contains(r[0], "type psychoneurological") {
		t.Fatalf("wrong type: %v", r)
	}
	a = f.mustFire(a, domain.EventCommand{Event: domain.IssueVoucher, FacilityID: small})
	if f.taken(small) != 1 || a.VoucherValidUntil == nil || a.VoucherValidUntil.String() != f.today().AddDays(30).String() {
		t.Fatalf("voucher: taken %d, valid until %v", f.taken(small), a.VoucherValidUntil)
	}
	if _, err := f.fire(b, domain.EventCommand{Event: domain.IssueVoucher, FacilityID: small}); domain.ErrorCode(err) != domain.EUNPROCESSABLE {
		t.Fatalf("no free bed: got %v", err)
	}
	a = f.mustFire(a, domain.EventCommand{Event: domain.CancelVoucher, Comment: "семья передумала"})
	if a.State != domain.WaitingList || f.taken(small) != 0 {
		t.Fatalf("cancel: %s, taken %d", a.State, f.taken(small))
	}
	b = f.mustFire(b, domain.EventCommand{Event: domain.IssueVoucher, FacilityID: small, SkipReason: "a asked to wait"})
	b = f.mustFire(b, domain.EventCommand{Event: domain.Admit})
	if b.State != domain.Residing || b.FacilityID != small || f.taken(small) != 1 {
		t.Fatalf("admit: %s in %s, taken %d", b.State, b.FacilityID, f.taken(small))
	}
	f.mustFire(b, domain.EventCommand{Event: domain.Discharge, Reason: "переезд к семье"})
	if f.taken(small) != 0 {
		t.Fatalf("discharge kept the bed")
	}
}

func TestTransferKeepsTheOldBedUntilAdmission(t *testing.T) {
	f := newFixture(t)
	oldHome := f.facility("Старый пансионат", domain.ElderlyDisabled, 3)
	newHome := f.facility("Новый пансионат", domain.ElderlyDisabled, 3)
	c := f.toWaitingList(f.register(newCase()))
	c = f.mustFire(c, domain.EventCommand{Event: domain.IssueVoucher, FacilityID: oldHome})
	c = f.mustFire(c, domain.EventCommand{Event: domain.Admit})
	c = f.mustFire(c, domain.EventCommand{Event: domain.RequestTransfer})
	if _, err := f.fire(c, domain.EventCommand{Event: domain.IssueVoucher, FacilityID: oldHome}); domain.ErrorCode(err) != domain.EUNPROCESSABLE {
		t.Fatalf("voucher to the home the person lives in: %v", err)
	}
	c = f.mustFire(c, domain.EventCommand{Event: domain.IssueVoucher, FacilityID: newHome})
	if f.taken(oldHome) != 1 || f.taken(newHome) != 1 {
		t.Fatalf("during transfer: old %d new %d", f.taken(oldHome), f.taken(newHome))
	}
	if _, err := f.fire(c, domain.EventCommand{Event: domain.Withdraw}); domain.ErrorCode(err) != domain.EUNPROCESSABLE {
		t.Fatalf("withdraw during a transfer: %v", err)
	}
	// Cancelling the transfer's voucher goes back to transfer_pending, not the waiting list.
	c = f.mustFire(c, domain.EventCommand{Event: domain.CancelVoucher})
	if c.State != domain.TransferPending || f.taken(newHome) != 0 {
		t.Fatalf("cancel transfer voucher: %s, new home taken %d", c.State, f.taken(newHome))
	}
	c = f.mustFire(c, domain.EventCommand{Event: domain.IssueVoucher, FacilityID: newHome})
	c = f.mustFire(c, domain.EventCommand{Event: domain.Admit})
	if c.State != domain.Residing || c.FacilityID != newHome || f.taken(oldHome) != 0 || f.taken(newHome) != 1 {
		t.Fatalf("after transfer: %s in %s, old %d new %d", c.State, c.FacilityID, f.taken(oldHome), f.taken(newHome))
	}
}

func TestLeaveHospitalAndDeath(t *testing.T) {
	f := newFixture(t)
	home := f.facility("Пансионат", domain.ElderlyDisabled, 2)
	c := f.toWaitingList(f.register(newCase()))
	c = f.mustFire(c, domain.EventCommand{Event: domain.IssueVoucher, FacilityID: home})
	c = f.mustFire(c, domain.EventCommand{Event: domain.Admit})
	tooFar := f.today().AddDays(31)
	if _, err := f.fire(c, domain.EventCommand{Event: domain.StartLeave, ReturnBy: &tooFar}); domain.ErrorCode(err) != domain.EUNPROCESSABLE {
		t.Fatalf("leave of 31 days: %v", err)
	}
	back := f.today().AddDays(14)
	c = f.mustFire(c, domain.EventCommand{Event: domain.StartLeave, ReturnBy: &back})
	if got := openKinds(c); !slices.Contains(got, "leave_return:") {
		t.Fatalf("on leave: %v", got)
	}
	c = f.mustFire(c, domain.EventCommand{Event: domain.Hospitalize})
	if c.LeaveReturnBy != nil || slices.Contains(openKinds(c), "leave_return:") {
		t.Fatalf("hospitalised from leave kept the leave deadline: %v", openKinds(c))
	}
	c = f.mustFire(c, domain.EventCommand{Event: domain.EndHospitalization})
	future := f.today().AddDays(1)
	if _, err := f.fire(c, domain.EventCommand{Event: domain.RecordDeath, DateOfDeath: &future}); domain.ErrorCode(err) != domain.EUNPROCESSABLE {
		t.Fatalf("death in the future: %v", err)
	}
	today := f.today()
	c = f.mustFire(c, domain.EventCommand{Event: domain.RecordDeath, DateOfDeath: &today})
	if c.State != domain.Deceased || f.taken(home) != 0 || len(c.Deadlines) != 0 {
		t.Fatalf("deceased: %s, taken %d, open deadlines %v", c.State, f.taken(home), openKinds(c))
	}
	if _, err := f.svc.RecordDocument(context.Background(), f.actor, c.ID, domain.DocPassport, 0, domain.DocumentUpdate{Status: domain.DocRequested}); domain.ErrorCode(err) != domain.ECONFLICT {
		t.Fatalf("document on a closed case: %v", err)
	}
}

func TestHistoryIsGaplessAndComplete(t *testing.T) {
	f := newFixture(t)
	c := f.toWaitingList(f.register(newCase()))
	h, err := f.svc.History(context.Background(), c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(h) != c.Version {
		t.Fatalf("%d history entries for version %d", len(h), c.Version)
	}
	for i, e := range h {
		if e.Version != i+1 {
			t.Fatalf("entry %d has version %d", i, e.Version)
		}
		if e.ActorID != "tester" || e.At.IsZero() {
			t.Fatalf("entry %d: %+v", i, e)
		}
	}
	if h[0].Event != "register" || h[len(h)-1].To != domain.WaitingList {
		t.Fatalf("history from %s to %s", h[0].Event, h[len(h)-1].To)
	}
}

func TestStaleVersionChangesNothing(t *testing.T) {
	f := newFixture(t)
	c := f.register(newCase())
	moved := f.mustFire(c, domain.EventCommand{Event: domain.RequestDocuments})
	_, err := f.fire(c, domain.EventCommand{Event: domain.Withdraw}) // c still has version 1
	if domain.ErrorCode(err) != domain.ESTALE {
		t.Fatalf("stale version: got %v", err)
	}
	now, _ := f.svc.Get(context.Background(), c.ID)
	if now.State != moved.State || now.Version != moved.Version {
		t.Fatalf("stale command changed the case: %s v%d", now.State, now.Version)
	}
}

func TestNewCaseValidation(t *testing.T) {
	f := newFixture(t)
	bad := map[string]func(*domain.NewCase){
		"channel":                    func(n *domain.NewCase) { n.Channel = "fax" },
		"facility_type":              func(n *domain.NewCase) { n.FacilityType = "hotel" },
		"applicant.full_name":        func(n *domain.NewCase) { n.Applicant.FullName = " " },
		"applicant.snils":            func(n *domain.NewCase) { n.Applicant.SNILS = "112-233-445 96" },
		"applicant.birth_date":       func(n *domain.NewCase) { n.Applicant.BirthDate = domain.MustDate("2099-01-01") },
		"applicant.legal_capacity":   func(n *domain.NewCase) { n.Applicant.LegalCapacity = "partial" },
		"contacts.0.phone":           func(n *domain.NewCase) { n.Contacts[0].Phone = "call me" },
		"guardianship_id":            func(n *domain.NewCase) { n.Applicant.LegalCapacity = domain.Incapacitated },
		"contacts.0.email":           func(n *domain.NewCase) { n.Contacts[0].PreferredChannel = "email" },
		"applicant.disability_group": func(n *domain.NewCase) { n.Applicant.DisabilityGroup = "4" },
	}
	for field, mutate := range bad {
		_, _, err := f.svc.Register(context.Background(), f.actor, newCase(mutate))
		de, ok := domain.AsError(err)
		if !ok || de.Code != domain.EINVALID || de.Field != field {
			t.Errorf("%s: got %v", field, err)
		}
	}
	if n := f.cases.Count(); n != 0 {
		t.Fatalf("invalid input created %d cases", n)
	}
}

func TestSNILS(t *testing.T) {
	for in, want := range map[string]string{"11223344595": "112-233-445 95", "112-233-445 95": "112-233-445 95", "001-001-998 00": "001-001-998 00"} {
		got, err := domain.NormalizeSNILS(in)
		if err != nil || got != want {
			t.Errorf("NormalizeSNILS(%q) = %q, %v", in, got, err)
		}
	}
	for n := 1002000; n < 999999999; n += 7654321 {
		if s := domain.MakeSNILS(n); func() error { _, err := domain.NormalizeSNILS(s); return err }() != nil {
			t.Errorf("MakeSNILS(%d) = %q does not validate", n, s)
		}
	}
	if got := domain.MakeSNILS(112233445); got != "112-233-445 95" {
		t.Errorf("MakeSNILS(112233445) = %q", got)
	}
	for _, in := range []string{"112-233-445 94", "1122334459", "abc", ""} {
		if _, err := domain.NormalizeSNILS(in); err == nil {
			t.Errorf("NormalizeSNILS(%q) accepted", in)
		}
	}
}

// TestRequestingAnUnrequiredDocumentIsRefused: the center may not demand a document the case
// does not require (grounds for a complaint); it may record one that was brought.
func TestRequestingAnUnrequiredDocumentIsRefused(t *testing.T) {
	f := newFixture(t)
	c := f.register(newCase())
	var notRequired, required domain.DocType
	for _, d := range domain.DocTypes {
		got, ok := c.Checklist.Get(d.Type)
		switch {
		case (!ok || !got.Required) && notRequired == "":
			notRequired = d.Type
		case ok && got.Required && required == "":
			required = d.Type
		}
	}
	if notRequired == "" || required == "" {
		t.Fatalf("checklist %v", c.Checklist)
	}
	ctx := context.Background()
	_, err := f.svc.RecordDocument(ctx, f.actor, c.ID, notRequired, 0, domain.DocumentUpdate{Status: domain.DocRequested})
	if de, ok := domain.AsError(err); !ok || de.Code != domain.EUNPROCESSABLE || de.Reasons[0].Code != "document_not_required" {
		t.Fatalf("requesting %s: %v", notRequired, err)
	}
	if _, err := f.svc.RecordDocument(ctx, f.actor, c.ID, required, 0, domain.DocumentUpdate{Status: domain.DocRequested}); err != nil {
		t.Fatalf("requesting %s: %v", required, err)
	}
	issued := domain.DateOf(time.Now()).AddDays(-3)
	if _, err := f.svc.RecordDocument(ctx, f.actor, c.ID, notRequired, 0, domain.DocumentUpdate{Status: domain.DocReceived, IssuedOn: &issued}); err != nil {
		t.Fatalf("recording %s brought anyway: %v", notRequired, err)
	}
}

// TestSectionsPriorityAndOffers: a voucher takes a bed in a section that fits the person, a case
// with a higher priority goes ahead (passing it over needs a reason), and a freed bed is offered
// to the first waiting case it fits, not to the case that freed it.
func TestSectionsPriorityAndOffers(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	home := f.cases.AddHome(domain.Facility{Name: "Пансионат с отделениями", Type: domain.ElderlyDisabled},
		domain.Section{Code: "m", Title: "Мужское", Sex: domain.SexMale, Capacity: 1},
		domain.Section{Code: "w", Title: "Женское", Sex: domain.SexFemale, Capacity: 1})
	a := f.toWaitingList(f.register(newCase()))
	c := f.toWaitingList(f.register(newCase(func(n *domain.NewCase) { n.Applicant.FullName = "Петрова Анна" })))
	c, err := f.svc.SetPlacement(ctx, f.actor, c.ID, c.Version, domain.Placement{Priority: "first_turn"})
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := f.svc.Get(ctx, c.ID); got.WaitingPosition != 1 {
		t.Fatalf("first_turn case at position %d", got.WaitingPosition)
	}
	if _, err := f.fire(a, domain.EventCommand{Event: domain.IssueVoucher, FacilityID: home}); !strings.Contains(reasonsOf(t, err, domain.EUNPROCESSABLE)[0], "skip_reason") {
		t.Fatalf("a voucher passing the list over without a reason: %v", err)
	}
	a = f.mustFire(a, domain.EventCommand{Event: domain.IssueVoucher, FacilityID: home, SkipReason: "согласовано"})
	if f.taken(home) != 1 {
		t.Fatalf("taken %d", f.taken(home))
	}
	// the women's section is full; the men's does not fit
	if _, err := f.fire(c, domain.EventCommand{Event: domain.IssueVoucher, FacilityID: home}); domain.ErrorCode(err) != domain.EUNPROCESSABLE {
		t.Fatalf("no bed in a fitting section: %v", err)
	}
	f.mustFire(a, domain.EventCommand{Event: domain.CancelVoucher, Comment: "семья передумала"})
	offers := f.cases.Offers()
	if f.taken(home) != 0 || len(offers) != 1 || offers[0].CaseID != c.ID || offers[0].Section != "w" || offers[0].State != domain.OfferProposed {
		t.Fatalf("after the cancel: taken %d, offers %+v", f.taken(home), offers)
	}
}

// TestContactEmailAndPhoneLength: an e-mail above 254 characters or a phone above 32 is refused
// naming the contact's field, with or without consent to notices (no database CHECK answers).
func TestContactEmailAndPhoneLength(t *testing.T) {
	f := newFixture(t)
	long := strings.Repeat("a", 250) + "@example.org"
	for name, c := range map[string]struct {
		mutate func(*domain.NewCase)
		field  string
	}{
		"long e-mail with consent": {func(n *domain.NewCase) {
			n.Contacts[0].Email, n.Contacts[0].ConsentToNotices, n.Contacts[0].PreferredChannel = long, true, "email"
		}, "contacts.0.email"},
		"300 KB e-mail without consent": {func(n *domain.NewCase) {
			n.Contacts[0].Email, n.Contacts[0].ConsentToNotices = strings.Repeat("b", 300<<10)+"@example.org", false
		}, "contacts.0.email"},
		"long phone": {func(n *domain.NewCase) { n.Contacts[0].Phone = "+7 916 " + strings.Repeat("1", 40) }, "contacts.0.phone"},
	} {
		_, _, err := f.svc.Register(context.Background(), f.actor, newCase(c.mutate))
		de, ok := domain.AsError(err)
		if !ok || de.Code != domain.EINVALID || de.Field != c.field || !strings.Contains(de.Message, "longer than") {
			t.Errorf("%s: want 400 naming %s as too long, got %v", name, c.field, err)
		}
	}
	if n := f.cases.Count(); n != 0 {
		t.Fatalf("invalid input created %d cases", n)
	}
	if _, _, err := f.svc.Register(context.Background(), f.actor, newCase(func(n *domain.NewCase) {
		n.Contacts[0].Email = strings.Repeat("c", 240) + "@example.org"
	})); err != nil {
		t.Fatalf("a 252-character e-mail is an e-mail: %v", err)
	}
}

// TestBirthDateYearOne: 0001-01-01 is a date given, judged by the rule (after 1900), not taken
// as a missing one.
func TestBirthDateYearOne(t *testing.T) {
	f := newFixture(t)
	var n domain.NewCase
	if err := json.Unmarshal([]byte(`{"applicant":{"birth_date":"0001-01-01"}}`), &n); err != nil {
		t.Fatal(err)
	}
	_, _, err := f.svc.Register(context.Background(), f.actor, newCase(func(c *domain.NewCase) { c.Applicant.BirthDate = n.Applicant.BirthDate }))
	de, ok := domain.AsError(err)
	if !ok || de.Field != "applicant.birth_date" || !strings.Contains(de.Message, "after 1900") {
		t.Fatalf("birth date 0001-01-01: want applicant.birth_date must be a past date after 1900, got %v", err)
	}
	if n.Applicant.BirthDate.String() != "0001-01-01" {
		t.Fatalf("0001-01-01 reads back as %s", n.Applicant.BirthDate)
	}
}
