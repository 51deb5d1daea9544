package jobs

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"carepath/domain"
)

// TestStaleHomesAreRemindedOncePerEpisode: the scan reminds the agency of a home whose beds
// report went stale (or that never reported) once per staleness episode, on the real database:
// not again at the next tick, not twice under concurrent scanners, and again only after a new
// report has gone stale in its turn. Inactive homes and homes without an agency are left alone.
func TestStaleHomesAreRemindedOncePerEpisode(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	t0 := time.Date(2030, 3, 4, 10, 0, 0, 0, domain.Moscow)
	days := e.svc.Settings.BedReportMaxDays
	never, fresh := e.home1, e.home2 // home1 never reported
	e.exec("UPDATE facilities SET reported_at = ? WHERE id = ?", t0.Add(-24*time.Hour), fresh)
	closed := e.facility("Дом-интернат № 9 (закрыт)", e.agency("facility", "Дом № 9 (учётная запись)").id)
	e.exec("UPDATE facilities SET active = false WHERE id = ?", closed)
	e.exec("INSERT INTO facilities (name, type, capacity) VALUES ('Дом-интернат № 11', 'psychoneurological', 10)") // no agency

	scan := func(now time.Time) ScanStats {
		t.Helper()
		e.clock.Set(now)
		sc := &Scanner{Notices: e.notices, Service: e.svc, Settings: e.svc.Settings, Batch: 100, Logger: quietLogger,
			Now: func() time.Time { return now }}
		st, err := sc.Scan(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	reminders := func(home string) int {
		t.Helper()
		return e.count(`SELECT count(*) FROM notices WHERE subject_kind = 'facility' AND subject_id = ? AND case_id IS NULL
			AND happening = 'beds_report_stale' AND audience = 'facility' AND channel = 'webhook'`, home)
	}
	want := func(when string, counts map[string]int) {
		t.Helper()
		for home, n := range counts {
			if got := reminders(home); got != n {
				t.Errorf("%s: home %s has %d reminders, want %d", when, home, got, n)
			}
		}
		if all := e.count("SELECT count(*) FROM notices WHERE subject_kind = 'facility'"); all != reminders(never)+reminders(fresh) {
			t.Errorf("%s: %d reminders in all; an inactive home or one without an agency was reminded", when, all)
		}
	}

	if st := scan(t0); st.StaleHomes != 1 || st.StaleNotices != 1 {
		t.Errorf("first tick: %d homes, %d reminders; want the one that never reported", st.StaleHomes, st.StaleNotices)
	}
	want("first tick", map[string]int{never: 1, fresh: 0})
	scan(t0.Add(time.Minute))
	want("next tick", map[string]int{never: 1, fresh: 0})

	// The fresh report goes stale: eight scanners at once remind it once.
	late := t0.Add(time.Duration(days)*24*time.Hour - 23*time.Hour)
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sc := &Scanner{Notices: e.notices, Service: e.svc, Settings: e.svc.Settings, Batch: 100, Logger: quietLogger,
				Now: func() time.Time { return late }}
			if _, err := sc.Scan(ctx); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	want("eight scanners", map[string]int{never: 1, fresh: 1})

	// A report ends the episode; when it goes stale in its turn, a new reminder goes.
	ten := 10
	reported := late.Add(time.Hour)
	e.clock.Set(reported)
	if _, err := e.svc.ReportBeds(ctx, domain.System, never, domain.BedReport{Capacity: &ten}); err != nil {
		t.Fatal(err)
	}
	scan(reported.Add(time.Duration(days)*24*time.Hour - time.Minute))
	want("a report not yet stale", map[string]int{never: 1, fresh: 1})
	scan(reported.Add(time.Duration(days)*24*time.Hour + time.Minute))
	want("the report gone stale", map[string]int{never: 2, fresh: 1})

	// What the agency reads: the home, its last report, what to do; no case.
	dl := e.deliverer()
	dl.Now = func() time.Time { return reported.Add(30 * 24 * time.Hour) }
	texts := map[string]bool{}
	for _, n := range e.outbox() {
		if n.SubjectKind != domain.SubjectFacility {
			continue
		}
		if out, err := dl.Deliver(ctx, n.ID); out != OutcomeDelivered {
			t.Fatalf("%s: %s %v", n.Template, out, err)
		}
	}
	checkAgainstContract(t, e.sink.received())
	for _, r := range e.sink.received() {
		if r.Body.Happening == string(domain.HappeningBedsReportStale) {
			texts[r.Body.Text] = true
			if r.Body.CaseID != "" || r.Body.CaseNumber != "" || r.Body.Data["subject_kind"] != domain.SubjectFacility {
				t.Errorf("a stale home's reminder names a case or no subject: %+v", r.Body)
			}
		}
	}
	if len(texts) != 3 {
		t.Fatalf("the agencies read %d distinct reminders, want 3: %v", len(texts), texts)
	}
	var sawNever, sawDate bool
	for text := range texts {
		if !strings.Contains(text, "/beds") || !strings.Contains(text, "/partner") || strings.Contains(text, "Дело ") {
			t.Errorf("reminder text:\n%s", text)
		}
		sawNever = sawNever || strings.Contains(text, "Психоневрологический интернат № 30: отчёта о местах ещё не было")
		sawDate = sawDate || strings.Contains(text, "последний отчёт о местах — "+reported.In(domain.Moscow).Format("02.01.2006"))
	}
	if !sawNever || !sawDate {
		t.Errorf("the reminders do not say when the home last reported:\n%v", texts)
	}
}

// TestStaleHomeReminderFollowsTheAgencysChoice: an agency that chose its webhook happenings
// without beds_report_stale is not sent the reminder (the rule every webhook notice follows);
// the episode still counts as reminded, so the next tick does not try again.
func TestStaleHomeReminderFollowsTheAgencysChoice(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	now := time.Date(2030, 3, 4, 10, 0, 0, 0, domain.Moscow)
	e.exec("UPDATE facilities SET reported_at = ? WHERE id = ?", now.Add(-time.Hour), e.home2) // only home1 is stale
	e.exec("UPDATE agencies SET webhook_happenings = '{admitted}' WHERE id = ?", e.home1Agency.id)
	e.clock.Set(now)
	for tick := range 2 {
		sc := &Scanner{Notices: e.notices, Service: e.svc, Settings: e.svc.Settings, Batch: 100, Logger: quietLogger,
			Now: func() time.Time { return now.Add(time.Duration(tick) * time.Minute) }}
		st, err := sc.Scan(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if want := 1 - tick; st.StaleHomes != want || st.StaleNotices != 0 {
			t.Errorf("tick %d: %d homes, %d reminders; want %d home and no reminder", tick, st.StaleHomes, st.StaleNotices, want)
		}
	}
	if n := e.count("SELECT count(*) FROM notices WHERE subject_kind = 'facility'"); n != 0 {
		t.Errorf("%d reminders written to an agency that did not choose them", n)
	}
}
