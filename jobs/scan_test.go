package jobs

import (
	"context"
	"testing"
	"time"

	"carepath/domain"
)

// happenings counts a case's notices by happening and audience.
func (e *testEnv) happenings(caseID string) map[string]int {
	e.t.Helper()
	ns, err := e.notices.ForCase(context.Background(), caseID)
	if err != nil {
		e.t.Fatal(err)
	}
	out := map[string]int{}
	for _, n := range ns {
		out[string(n.Happening)+"/"+n.Audience]++
	}
	return out
}

func TestScanSelectsOnlyDueDeadlines(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	t0 := time.Date(2030, 3, 4, 10, 0, 0, 0, domain.Moscow) // a Monday
	niece := []domain.Contact{{Name: "Петрова Анна", Relation: "niece", Email: "anna@example.org", ConsentToNotices: true, PreferredChannel: "email"}}
	at := func(tm time.Time) { e.clock.Set(tm) }

	at(t0)
	early := e.register(caseOpts{assignee: e.specialist, contacts: niece})
	e.fire(early.ID, domain.EventCommand{Event: domain.RequestDocuments}) // collection reminders from day 7
	review := e.register(caseOpts{assignee: e.specialist})
	e.fire(review.ID, domain.EventCommand{Event: domain.RequestDocuments})
	e.completeDocuments(review.ID)
	e.fire(review.ID, domain.EventCommand{Event: domain.SubmitForReview}) // decision due in 5 working days
	orphan := e.register(caseOpts{})
	e.fire(orphan.ID, domain.EventCommand{Event: domain.RequestDocuments})
	e.completeDocuments(orphan.ID)
	e.fire(orphan.ID, domain.EventCommand{Event: domain.SubmitForReview})
	voucher := e.register(caseOpts{contacts: niece})
	e.toWaitingList(voucher.ID)
	validUntil := domain.DateOf(t0).AddDays(10)
	e.fire(voucher.ID, domain.EventCommand{Event: domain.IssueVoucher, FacilityID: e.home1, ValidUntil: &validUntil})
	at(t0.AddDate(0, 0, 5))
	late := e.register(caseOpts{assignee: e.specialist, contacts: niece})
	e.fire(late.ID, domain.EventCommand{Event: domain.RequestDocuments})

	// The home chose to hear of vouchers issued and cancelled only: its reminder is not written.
	e.exec("UPDATE agencies SET webhook_happenings = '{voucher_issued,voucher_cancelled}' WHERE id = ?", e.home1Agency.id)
	sc := &Scanner{Notices: e.notices, Service: e.svc, Settings: e.svc.Settings, Batch: 2, Logger: quietLogger}
	scan := func(tm time.Time) ScanStats {
		t.Helper()
		at(tm)
		sc.Now = func() time.Time { return tm }
		// What the scan must take: exactly the open deadlines whose next reminder is due.
		want := e.count("SELECT count(*) FROM deadlines WHERE state = 'open' AND remind_at <= ?", tm)
		st, err := sc.Scan(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if st.Due != want {
			t.Errorf("at %s the scan took %d deadlines, %d were due", tm.In(domain.Moscow).Format("Jan 2 15:04"), st.Due, want)
		}
		if left := e.count("SELECT count(*) FROM deadlines WHERE state = 'open' AND remind_at <= ?", tm); left != 0 {
			t.Errorf("%d due deadlines left after the scan", left)
		}
		// Every open deadline waits for its next stage, as the reminder table says.
		var rows []struct {
			ID            int64
			Kind          string
			OpenedAt      time.Time
			DueAt         time.Time
			ReminderStage int
			RemindAt      *time.Time
		}
		e.db.Gorm.Raw("SELECT id, kind, opened_at, due_at, reminder_stage, remind_at FROM deadlines WHERE state = 'open'").Scan(&rows)
		for _, r := range rows {
			next := domain.ReminderAt(domain.Deadline{Kind: domain.DeadlineKind(r.Kind), OpenedAt: r.OpenedAt, DueAt: r.DueAt}, r.ReminderStage)
			if r.Kind == string(domain.DeadlineVoucherAdmission) && r.ReminderStage == 1 && r.RemindAt != nil && r.RemindAt.After(*next) {
				continue // an expiry being retried
			}
			if (next == nil) != (r.RemindAt == nil) || next != nil && !next.Equal(*r.RemindAt) {
				t.Errorf("deadline %d (%s, stage %d) reminds at %v, want %v", r.ID, r.Kind, r.ReminderStage, r.RemindAt, next)
			}
		}
		return st
	}

	if st := scan(t0.Add(time.Hour)); st.Notices != 0 {
		t.Errorf("nothing is due an hour in: %+v", st)
	}
	// Day 7: the first collection reminder of the early case; the decisions are at 80% of their
	// time; the voucher closes in 3 days.
	scan(t0.AddDate(0, 0, 7).Add(time.Minute))
	want := map[string]map[string]int{
		early.ID:  {"case_registered/guardianship": 1, "case_registered/relative": 1, "case_registered/specialist": 1, "documents_requested/relative": 1, "documents_requested/health": 1, "documents_missing/relative": 1, "documents_missing/health": 1},
		late.ID:   {"case_registered/guardianship": 1, "case_registered/relative": 1, "case_registered/specialist": 1, "documents_requested/relative": 1, "documents_requested/health": 1},
		review.ID: {"case_registered/guardianship": 1, "case_registered/specialist": 1, "documents_requested/health": 1, "deadline_at_risk/specialist": 1},
		orphan.ID: {"case_registered/guardianship": 1, "documents_requested/health": 1, "deadline_at_risk/supervisor": 2},
		voucher.ID: {"case_registered/guardianship": 1, "case_registered/relative": 1, "documents_requested/relative": 1, "documents_requested/health": 1, "need_recognized/relative": 1, "need_recognized/guardianship": 1, "voucher_issued/relative": 1, "voucher_issued/guardianship": 1, "voucher_issued/facility": 1, "voucher_expiring/relative": 1, "voucher_expiring/guardianship": 1,
			"deadline_missed/supervisor": 2}, // no contract with the home within a working day
	}
	check := func(when string) {
		t.Helper()
		for id, w := range want {
			got := e.happenings(id)
			for k, n := range w {
				if got[k] != n {
					t.Errorf("%s, case %s: %d %s notices, want %d", when, id[:8], got[k], k, n)
				}
			}
			for k, n := range got {
				if _, ok := w[k]; !ok {
					t.Errorf("%s, case %s: unexpected %d %s notices", when, id[:8], n, k)
				}
			}
		}
	}
	check("day 7")
	// The same instant again: every stage is spent, nothing is sent twice.
	if st := scan(t0.AddDate(0, 0, 7).Add(2 * time.Minute)); st.Due != 0 || st.Notices != 0 {
		t.Errorf("a second scan at day 7: %+v", st)
	}
	check("day 7 again")

	// Day 12: the late case's first reminder; the decisions are missed (specialist and
	// supervisors); the IPPSU is at 80%; the voucher has expired and is cancelled.
	scan(t0.AddDate(0, 0, 12).Add(time.Minute))
	want[late.ID]["documents_missing/relative"] = 1
	want[late.ID]["documents_missing/health"] = 1
	want[review.ID]["deadline_missed/specialist"] = 1
	want[review.ID]["deadline_missed/supervisor"] = 2
	want[review.ID]["deadline_at_risk/specialist"] = 2
	want[orphan.ID]["deadline_missed/supervisor"] = 2
	want[orphan.ID]["deadline_at_risk/supervisor"] = 4
	want[voucher.ID]["voucher_cancelled/relative"] = 1
	want[voucher.ID]["voucher_cancelled/guardianship"] = 1
	want[voucher.ID]["voucher_cancelled/facility"] = 1
	check("day 12")
	v, err := e.svc.Get(ctx, voucher.ID)
	if err != nil || v.State != domain.WaitingList || v.VoucherFacilityID != "" {
		t.Errorf("the expired voucher: state %s, facility %q, %v", v.State, v.VoucherFacilityID, err)
	}
	if taken := e.count("SELECT taken FROM facilities WHERE id = ?", e.home1); taken != 0 {
		t.Errorf("the expired voucher's bed is still taken (%d)", taken)
	}
	h, _ := e.svc.History(ctx, voucher.ID)
	if last := h[len(h)-1]; last.Event != string(domain.CancelVoucher) || last.ActorID != domain.System.ID {
		t.Errorf("the expiry's history line: %+v", last)
	}
}
