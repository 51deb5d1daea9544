package jobs

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"carepath/domain"
	"carepath/store"
)

func TestEveryRouteHasATemplate(t *testing.T) {
	tm, err := LoadTemplates("+7 (495) 123-45-67")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range domain.NoticeRoutes() {
		if !tm.Has(r.Template()) {
			t.Errorf("no template %s", r.Template())
		}
	}
}

// TestRenderedNoticesKeepPrivacy walks cases through every happening, delivers every notice
// through the real channels and reads what the receivers got: each route of the table is
// rendered at least once, and each text keeps domain.md's privacy rules for its audience.
func TestRenderedNoticesKeepPrivacy(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	t0 := time.Date(2030, 3, 4, 10, 0, 0, 0, domain.Moscow)
	e.clock.Set(t0)
	family := []domain.Contact{
		{Name: "Иванов Сергей Николаевич", Relation: "son", Phone: "+7 916 123-45-67", LegalRepresentative: true, ConsentToNotices: true, PreferredChannel: "sms"},
		{Name: "Иванова Ольга Николаевна", Relation: "daughter", Email: "olga@example.org", LegalRepresentative: true, ConsentToNotices: true, PreferredChannel: "email"},
		{Name: "Петров Илья", Relation: "nephew", Phone: "+7 903 222-33-44", ConsentToNotices: true, PreferredChannel: "sms"},
		{Name: "Петрова Анна", Relation: "niece", Email: "anna@example.org", ConsentToNotices: true, PreferredChannel: "email"},
	}
	const secret = "диагноз F20.0"
	full := caseOpts{contacts: family, assignee: e.specialist, disabled: true}

	// The whole path of one life, with a transfer and a death.
	p := e.register(full)
	e.fire(p.ID, domain.EventCommand{Event: domain.RequestDocuments})
	e.record(p.ID, domain.DocMedicalCard, domain.DocRejected)
	e.record(p.ID, domain.DocPsychiatricCommission, domain.DocRequested)
	e.completeDocuments(p.ID)
	e.fire(p.ID, domain.EventCommand{Event: domain.SubmitForReview})
	e.fire(p.ID, domain.EventCommand{Event: domain.ReturnForDocuments, Reason: "нужна справка: " + secret})
	e.fire(p.ID, domain.EventCommand{Event: domain.SubmitForReview})
	today := domain.DateOf(t0)
	e.fire(p.ID, domain.EventCommand{Event: domain.RecognizeNeed, IPPSUNumber: "77-0042", IPPSUDate: &today})
	e.fire(p.ID, domain.EventCommand{Event: domain.IssueVoucher, FacilityID: e.home1})
	e.fire(p.ID, domain.EventCommand{Event: domain.CancelVoucher, Comment: "семья попросила другой дом"})
	e.fire(p.ID, domain.EventCommand{Event: domain.IssueVoucher, FacilityID: e.home1})
	e.fire(p.ID, domain.EventCommand{Event: domain.Admit})
	back := today.AddDays(10)
	e.fire(p.ID, domain.EventCommand{Event: domain.StartLeave, ReturnBy: &back})
	e.fire(p.ID, domain.EventCommand{Event: domain.EndLeave})
	e.fire(p.ID, domain.EventCommand{Event: domain.Hospitalize})
	e.fire(p.ID, domain.EventCommand{Event: domain.EndHospitalization})
	e.fire(p.ID, domain.EventCommand{Event: domain.RequestTransfer})
	e.fire(p.ID, domain.EventCommand{Event: domain.IssueVoucher, FacilityID: e.home2})
	e.fire(p.ID, domain.EventCommand{Event: domain.Admit})
	e.fire(p.ID, domain.EventCommand{Event: domain.RecordDeath, DateOfDeath: &today})
	cur, _ := e.svc.Get(ctx, p.ID)
	if _, err := e.svc.Reassign(ctx, e.actor, p.ID, cur.Version, e.supervisor1); err != nil {
		t.Fatal(err)
	}

	// A refusal with its reasons, an appeal, a voucher and a withdrawal.
	r := e.register(full)
	e.fire(r.ID, domain.EventCommand{Event: domain.RequestDocuments})
	e.completeDocuments(r.ID)
	e.fire(r.ID, domain.EventCommand{Event: domain.SubmitForReview})
	e.fire(r.ID, domain.EventCommand{Event: domain.Reject, Reason: "медицинские противопоказания: " + secret})
	e.fire(r.ID, domain.EventCommand{Event: domain.Appeal, Grounds: "не учтены документы", FiledOn: &today})
	e.fire(r.ID, domain.EventCommand{Event: domain.RecognizeNeed, IPPSUNumber: "77-0043", IPPSUDate: &today})
	validUntil := today.AddDays(10)
	e.fire(r.ID, domain.EventCommand{Event: domain.IssueVoucher, FacilityID: e.home1, ValidUntil: &validUntil})
	d := e.register(full)
	e.toResiding(d.ID, e.home2)
	// Two waiting cases, the first with nobody assigned: the discharge's bed is offered to it
	// (the supervisors hear), its offer expires at the scan of day 7 and passes to the second
	// (its specialist hears), whose offer expires at day 12.
	for _, opts := range []caseOpts{{contacts: family}, full} {
		w := e.register(opts)
		e.fire(w.ID, domain.EventCommand{Event: domain.RequestDocuments})
		e.completeDocuments(w.ID)
		e.fire(w.ID, domain.EventCommand{Event: domain.SubmitForReview})
		e.fire(w.ID, domain.EventCommand{Event: domain.RecognizeNeed, IPPSUNumber: "77-0050", IPPSUDate: &today})
	}
	e.fire(d.ID, domain.EventCommand{Event: domain.Discharge, Reason: "по личному заявлению; " + secret})

	// Reminders: a review nobody is assigned to, a voucher closing, a document expiring.
	u := e.register(caseOpts{contacts: family})
	e.fire(u.ID, domain.EventCommand{Event: domain.RequestDocuments})
	e.completeDocuments(u.ID)
	e.fire(u.ID, domain.EventCommand{Event: domain.SubmitForReview})
	x := e.register(full)
	e.fire(x.ID, domain.EventCommand{Event: domain.RequestDocuments})
	e.completeDocuments(x.ID)
	e.fire(x.ID, domain.EventCommand{Event: domain.SubmitForReview})
	sc := &Scanner{Notices: e.notices, Service: e.svc, Settings: e.svc.Settings, Batch: 100, Logger: quietLogger}
	for _, day := range []int{7, 12} {
		now := t0.AddDate(0, 0, day)
		e.clock.Set(now)
		sc.Now = func() time.Time { return now }
		if _, err := sc.Scan(ctx); err != nil {
			t.Fatal(err)
		}
		if day == 7 {
			// The withdrawal of a case holding a voucher, after the voucher's reminder.
			e.fire(r.ID, domain.EventCommand{Event: domain.Withdraw})
		}
	}
	// Documents expire six months after issue: 14 days before, the family and the clinic hear.
	now := t0.AddDate(0, 6, -12)
	e.clock.Set(now)
	sc.Now = func() time.Time { return now }
	if _, err := sc.Scan(ctx); err != nil {
		t.Fatal(err)
	}

	// Reaching a resident: the home hears of the relative's request, the relative of its outcome.
	hotline := &domain.Hotline{Service: e.svc, ContactRequests: store.NewContactRequests(e.db, e.sealer), Now: e.clock.Now}
	cr := e.register(full)
	e.toResiding(cr.ID, e.home1)
	req, err := hotline.RequestContact(ctx, e.actor, cr.ID, domain.NewContactRequest{Name: "Иванов Сергей", Relation: "сын",
		Phone: "+7 916 123-45-67", Message: "Позвоните, пожалуйста"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := hotline.CompleteContactRequest(ctx, domain.System, req.ID, "reached", ""); err != nil {
		t.Fatal(err)
	}

	dl := e.deliverer()
	dl.Now = func() time.Time { return t0.AddDate(1, 0, 0) }
	all := e.outbox()
	for _, n := range all {
		if out, err := dl.Deliver(ctx, n.ID); out != OutcomeDelivered {
			t.Fatalf("%s: %s %v", n.Template, out, err)
		}
	}
	texts := map[string]string{} // idempotency key → what the receiver read
	for _, m := range e.sms.received() {
		texts[m.ClientRef] = m.Text
	}
	for _, m := range e.mail.received() {
		subject, body := parseMail(t, m.Data)
		key := strings.TrimSuffix(strings.Trim(messageID(m.Data), "<>"), "@carepath")
		texts[key] = subject + "\n" + body
	}
	for _, r := range e.sink.received() {
		b, _ := json.Marshal(r.Body.Data)
		texts[r.Key] = r.Body.Text + "\n" + string(b)
	}

	covered := map[string]bool{}
	medical := []string{}
	for _, dt := range domain.DocTypes {
		if dt.Medical {
			medical = append(medical, dt.Label)
		}
	}
	personal := []string{"112-233-445 95", "45 03 123456", "Летчика Бабушкина"}
	homes := []string{"интернат № 30", "интернат № 5", "ПНИ", "сихоневролог"}
	for key, n := range all {
		text, ok := texts[key]
		if !ok {
			t.Errorf("%s: the receiver got nothing", n.Template)
			continue
		}
		covered[n.Template] = true
		mustNot := func(what string, words ...string) {
			for _, w := range words {
				if strings.Contains(text, w) {
					t.Errorf("%s shows %s (%q):\n%s", n.Template, what, w, text)
				}
			}
		}
		mustNot("sealed personal data", personal...)
		if strings.Contains(text, "%!") || strings.Contains(text, "<no value>") {
			t.Errorf("%s is garbled:\n%s", n.Template, text)
		}
		switch {
		case n.Channel == domain.NoticeSMS:
			if !strings.Contains(text, "Мария") {
				t.Errorf("%s does not name the person by first name: %s", n.Template, text)
			}
			mustNot("more than the first name", "Иванова", "Петровна", "15.03.1941")
			mustNot("the home", homes...)
			mustNot("legal capacity", "недееспособ")
			mustNot("medical contents", append([]string{secret, "психиатр", "МСЭ"}, medical...)...)
			if utf8.RuneCountInString(text) > 3*67 {
				t.Errorf("%s is %d characters, over three SMS parts: %s", n.Template, utf8.RuneCountInString(text), text)
			}
		case n.Audience == domain.AudienceRelative:
			mustNot("more than the first name", "Иванова", "Петровна", "15.03.1941")
			mustNot("the home or its profile", homes...)
			mustNot("medical contents or reasons", append([]string{secret, "психиатр", "МСЭ"}, medical...)...)
			mustNot("legal capacity", "недееспособ", "опеки")
		case n.Audience == domain.AudienceFacility || n.Audience == domain.AudienceHealth:
			mustNot("the specialist's reasons", secret)
		}
	}
	for _, r := range domain.NoticeRoutes() {
		if !covered[r.Template()] {
			t.Errorf("route %s was never rendered by this walk", r.Template())
		}
	}
}
