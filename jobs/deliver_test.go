package jobs

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"carepath/domain"
)

// checkExactlyOnce compares what the webhook sink received with the outbox: every notice came
// exactly once, signed with its agency's secret, at its agency's URL, and nothing else came.
func checkExactlyOnce(t *testing.T, e *testEnv, got []received) {
	t.Helper()
	want := e.outbox()
	paths := map[string]string{}
	for _, a := range []agency{e.guardianship, e.health, e.home1Agency, e.home2Agency} {
		paths[a.id] = a.path
	}
	seen := map[string]int{}
	for _, r := range got {
		seen[r.Key]++
		n, ok := want[r.Key]
		switch {
		case !ok:
			t.Errorf("the sink got a request no notice owes: key %q, happening %s", r.Key, r.Body.Happening)
		case !r.SigOK:
			t.Errorf("notice %s: bad signature", r.Key)
		case r.Path != paths[n.Recipient]:
			t.Errorf("notice %s for agency %s arrived at %s", r.Key, n.Recipient, r.Path)
		case r.Body.NoticeID != n.ID || r.Body.Happening != string(n.Happening) || r.Body.IdempotencyKey != r.Key:
			t.Errorf("notice %s: body %+v does not match", r.Key, r.Body)
		}
	}
	for key, n := range want {
		if n.Channel == domain.NoticeWebhook && seen[key] != 1 {
			t.Errorf("notice %s (%s to %s) was received %d times, want exactly once", key, n.Happening, n.Audience, seen[key])
		}
	}
}

func (e *testEnv) undelivered() int {
	return e.count("SELECT count(*) FROM notices WHERE status <> 'delivered'")
}

func TestEventCommitsOneSignedWebhookPerRecipient(t *testing.T) {
	e := newEnv(t)
	c := e.register(caseOpts{}) // incapacitated: the guardianship body hears; no relatives, nobody assigned
	e.toResiding(c.ID, e.home1)

	// An event whose transaction rolls back writes no notice and rings no bell.
	before := len(e.outbox())
	// The database refuses start_leave's notices (as a full disk would refuse the write), so
	// the event's one statement fails whole; an event that caused no notice would go through.
	e.exec(`CREATE FUNCTION refuse_notice() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN RAISE EXCEPTION 'the disk is on fire'; END; $$`)
	e.exec(`CREATE TRIGGER refuse_leave_notices BEFORE INSERT ON notices FOR EACH ROW
		WHEN (NEW.happening = 'leave_started') EXECUTE FUNCTION refuse_notice()`)
	cur, _ := e.svc.Get(context.Background(), c.ID)
	back := domain.DateOf(e.clock.Now()).AddDays(7)
	if _, err := e.svc.Fire(context.Background(), e.actor, c.ID, cur.Version, domain.EventCommand{Event: domain.StartLeave, ReturnBy: &back}); err == nil {
		t.Fatal("the refused save should fail the event")
	}
	e.exec("DROP TRIGGER refuse_leave_notices ON notices")
	if after := len(e.outbox()); after != before {
		t.Fatalf("a rolled back event left %d notices", after-before)
	}
	e.fire(c.ID, domain.EventCommand{Event: domain.Hospitalize})

	e.startWorker(workerOpts{})
	waitFor(t, 20*time.Second, "every notice delivered", func() bool { return e.undelivered() == 0 })
	got := e.sink.received()
	checkExactlyOnce(t, e, got)
	happenings := map[string]bool{}
	for _, r := range got {
		happenings[r.Body.Happening+"/"+r.Body.Audience] = true
	}
	for _, want := range []string{"case_registered/guardianship", "documents_requested/health", "need_recognized/guardianship",
		"voucher_issued/guardianship", "voucher_issued/facility", "admitted/guardianship", "admitted/health", "admitted/facility",
		"hospitalized/guardianship", "hospitalized/health"} {
		if !happenings[want] {
			t.Errorf("no %s webhook; got %v", want, happenings)
		}
	}
	if happenings["leave_started/guardianship"] {
		t.Errorf("the rolled back leave was announced")
	}
	// The admission's guardianship notice was delivered in time: its deadline is met.
	if n := e.count("SELECT count(*) FROM deadlines WHERE kind = 'guardianship_notice' AND state = 'met'"); n != 1 {
		t.Errorf("%d guardianship notice deadlines met, want 1", n)
	}
}

func TestRedisFlushedBetweenCommitAndDelivery(t *testing.T) {
	e := newEnv(t)
	for range 3 {
		c := e.register(caseOpts{})
		e.fire(c.ID, domain.EventCommand{Event: domain.RequestDocuments})
	}
	total := len(e.outbox())
	if total != 6 {
		t.Fatalf("%d notices, want 6 (guardianship and clinic per case)", total)
	}
	// Only the relay runs: the notices are handed to the queue, where nobody takes them.
	stopRelay := e.startWorker(workerOpts{noServer: true, relayLease: time.Second})
	waitFor(t, 10*time.Second, "the relay to queue every notice", func() bool {
		return e.count("SELECT count(*) FROM notices WHERE enqueued_until IS NOT NULL") == total
	})
	stopRelay()
	info, err := asynq.NewInspectorFromRedisClient(e.rdb).GetQueueInfo(QueueNotices)
	if err != nil || info.Pending != total {
		t.Fatalf("queue: %+v, %v; want %d pending", info, err, total)
	}
	if err := e.rdb.FlushDB(context.Background()).Err(); err != nil {
		t.Fatal(err)
	}
	e.startWorker(workerOpts{relayLease: time.Second})
	waitFor(t, 20*time.Second, "every notice delivered after the flush", func() bool { return e.undelivered() == 0 })
	checkExactlyOnce(t, e, e.sink.received())
}

func TestTwoWorkersDeliverOnceAndRemindOnce(t *testing.T) {
	e := newEnv(t)
	// Cases made eight days ago: their document collection is at its first reminder and their
	// review decision is overdue, so both workers' scans find due deadlines.
	e.clock.Set(time.Now().AddDate(0, 0, -8))
	contacts := []domain.Contact{
		{Name: "Иванов Сергей Николаевич", Relation: "son", Phone: "+7 916 123-45-67", LegalRepresentative: true, ConsentToNotices: true, PreferredChannel: "sms"},
		{Name: "Петрова Анна", Relation: "niece", Email: "anna@example.org", ConsentToNotices: true, PreferredChannel: "email"},
	}
	var collecting, reviewing []string
	for i := range 6 {
		c := e.register(caseOpts{contacts: contacts, assignee: e.specialist})
		e.fire(c.ID, domain.EventCommand{Event: domain.RequestDocuments})
		if i%2 == 0 {
			collecting = append(collecting, c.ID)
			continue
		}
		e.completeDocuments(c.ID)
		e.fire(c.ID, domain.EventCommand{Event: domain.SubmitForReview})
		reviewing = append(reviewing, c.ID)
	}
	e.clock.Set(time.Now())
	e.startWorker(workerOpts{})
	e.startWorker(workerOpts{})
	waitFor(t, 30*time.Second, "the scans to send the due reminders", func() bool {
		return e.count("SELECT count(*) FROM deadlines WHERE state = 'open' AND remind_at <= now()") == 0
	})
	// Let a few more ticks of both schedulers pass: nothing may be sent twice.
	time.Sleep(2500 * time.Millisecond)
	waitFor(t, 30*time.Second, "every notice delivered", func() bool { return e.undelivered() == 0 })

	for _, id := range collecting {
		// one reminder per consenting relative and per clinic (medical documents are missing)
		if n := e.count("SELECT count(*) FROM notices WHERE case_id = ? AND happening = 'documents_missing'", id); n != 3 {
			t.Errorf("case %s: %d documents_missing reminders, want 3 (one stage, three recipients)", id, n)
		}
	}
	for _, id := range reviewing {
		// the decision: at risk and missed both fell due; only the latest stage is sent
		if n := e.count("SELECT count(*) FROM notices WHERE case_id = ? AND happening = 'deadline_missed'", id); n != 3 {
			t.Errorf("case %s: %d deadline_missed notices, want 3 (specialist and two supervisors)", id, n)
		}
		if n := e.count("SELECT count(*) FROM notices WHERE case_id = ? AND happening = 'deadline_at_risk'", id); n != 0 {
			t.Errorf("case %s: %d deadline_at_risk notices for a deadline already missed", id, n)
		}
	}
	checkExactlyOnce(t, e, e.sink.received())
	want := e.outbox()
	sms := map[string]int{}
	for _, m := range e.sms.received() {
		sms[m.ClientRef]++
	}
	mails := map[string]int{}
	for _, m := range e.mail.received() {
		mails[messageID(m.Data)]++
	}
	for key, n := range want {
		switch n.Channel {
		case domain.NoticeSMS:
			if sms[key] != 1 {
				t.Errorf("SMS %s (%s) sent %d times", key, n.Happening, sms[key])
			}
		case domain.NoticeEmail:
			if mails["<"+key+"@carepath>"] != 1 {
				t.Errorf("e-mail %s (%s to %s) sent %d times", key, n.Happening, n.Audience, mails["<"+key+"@carepath>"])
			}
		}
	}
	if len(e.sms.received())+len(e.mail.received())+len(e.sink.received()) != len(want) {
		t.Errorf("%d SMS, %d e-mails and %d webhooks for %d notices", len(e.sms.received()), len(e.mail.received()), len(e.sink.received()), len(want))
	}
}

func messageID(data []byte) string {
	for _, line := range strings.Split(string(data), "\r\n") {
		if v, ok := strings.CutPrefix(line, "Message-ID: "); ok {
			return v
		}
	}
	return ""
}

func TestQuietHoursHoldSMSUntilMorning(t *testing.T) {
	e := newEnv(t)
	e.svc.Settings.SMSQuietHours = domain.DefaultQuietHours
	msk := func(day, h, m int) time.Time { return time.Date(2030, 3, day, h, m, 0, 0, domain.Moscow) }
	contacts := []domain.Contact{{Name: "Иванов Сергей", Relation: "son", Phone: "+7 916 123-45-67", LegalRepresentative: true, ConsentToNotices: true, PreferredChannel: "sms"}}

	// Planned by day, due at once; tried at 23:00, it waits for 09:00 without spending an attempt.
	e.clock.Set(msk(4, 14, 0))
	day := e.register(caseOpts{capacity: domain.Capable, contacts: contacts, noHealth: true})
	// Planned at night: it is not due before 09:00.
	e.clock.Set(msk(4, 23, 30))
	night := e.register(caseOpts{capacity: domain.Capable, contacts: contacts, noHealth: true})

	smsOf := func(caseID string) domain.Notice {
		ns, err := e.notices.ForCase(context.Background(), caseID)
		if err != nil || len(ns) != 1 || ns[0].Channel != domain.NoticeSMS {
			t.Fatalf("notices of %s: %v %v", caseID, ns, err)
		}
		return ns[0]
	}
	if got := smsOf(night.ID).NotBefore; !got.Equal(msk(5, 9, 0)) {
		t.Errorf("an SMS planned at 23:30 is due at %s, want 09:00", got.In(domain.Moscow))
	}
	d := e.deliverer()
	d.Quiet = domain.DefaultQuietHours
	at := func(tm time.Time, id, want string) {
		t.Helper()
		d.Now = func() time.Time { return tm }
		got, err := d.Deliver(context.Background(), id)
		if err != nil || got != want {
			t.Fatalf("at %s: %s, %v; want %s", tm.In(domain.Moscow).Format("02 15:04"), got, err, want)
		}
	}
	id := smsOf(day.ID).ID
	at(msk(4, 23, 0), id, OutcomeDeferred)
	n := smsOf(day.ID)
	if n.Status != domain.NoticePending || n.Attempts != 0 || !n.NextAttemptAt.Equal(msk(5, 9, 0)) {
		t.Errorf("deferred SMS: %s, %d attempts, next %v; want pending, 0, 09:00", n.Status, n.Attempts, n.NextAttemptAt)
	}
	at(msk(5, 8, 59), id, OutcomeSkipped)
	at(msk(5, 8, 59), smsOf(night.ID).ID, OutcomeSkipped)
	if len(e.sms.received()) != 0 {
		t.Fatalf("SMS sent in quiet hours: %v", e.sms.received())
	}
	at(msk(5, 9, 0), id, OutcomeDelivered)
	at(msk(5, 9, 0), smsOf(night.ID).ID, OutcomeDelivered)
	got := e.sms.received()
	if len(got) != 2 || got[0].To != "+79161234567" || !strings.Contains(got[0].Text, "Мария") || !strings.Contains(got[0].Text, day.Number) {
		t.Errorf("SMS: %+v", got)
	}
}

func TestEmailOverSMTP(t *testing.T) {
	e := newEnv(t)
	c := e.register(caseOpts{capacity: domain.Capable, noHealth: true, assignee: e.specialist, contacts: []domain.Contact{
		{Name: "Петрова Анна", Relation: "niece", Email: "anna@example.org", ConsentToNotices: true, PreferredChannel: "email"}}})
	d := e.deliverer()
	ns, _ := e.notices.ForCase(context.Background(), c.ID)
	if len(ns) != 2 {
		t.Fatalf("%d notices, want the niece's and the specialist's", len(ns))
	}
	for _, n := range ns {
		if out, err := d.Deliver(context.Background(), n.ID); err != nil || out != OutcomeDelivered {
			t.Fatalf("deliver %s: %s %v", n.Audience, out, err)
		}
	}
	got := e.mail.received()
	byTo := map[string]mailMessage{}
	for _, m := range got {
		byTo[m.To] = m
		if m.User != "carepath" || m.From != "noreply@center.example" {
			t.Errorf("message from %s as %q", m.From, m.User)
		}
	}
	niece, spec := byTo["anna@example.org"], byTo["smirnova@center.example"]
	if niece.Data == nil || spec.Data == nil {
		t.Fatalf("recipients: %v", slices.Collect(func(yield func(string) bool) {
			for k := range byTo {
				yield(k)
			}
		}))
	}
	subject, body := parseMail(t, niece.Data)
	if !strings.Contains(subject, c.Number) || !strings.Contains(body, "Мария") || strings.Contains(body, "Иванова") {
		t.Errorf("the niece's e-mail: %q\n%s", subject, body)
	}
	subject, body = parseMail(t, spec.Data)
	if !strings.Contains(subject, "Вам назначено дело "+c.Number) || !strings.Contains(body, "Иванова Мария Петровна") {
		t.Errorf("the specialist's e-mail: %q\n%s", subject, body)
	}
}

func TestFailedAttemptsBackOffDieAndCanBeRetried(t *testing.T) {
	e := newEnv(t)
	c := e.register(caseOpts{noHealth: true}) // one notice: the guardianship body
	ns, _ := e.notices.ForCase(context.Background(), c.ID)
	if len(ns) != 1 {
		t.Fatalf("%d notices", len(ns))
	}
	id := ns[0].ID
	e.sink.setAnswer(func(received) int { return http.StatusBadGateway })
	d := e.deliverer() // two attempts
	now := time.Now()
	d.Now = func() time.Time { return now }
	if out, err := d.Deliver(context.Background(), id); out != OutcomeFailed || err != nil {
		t.Fatalf("first attempt: %s %v", out, err)
	}
	n, _ := e.notices.Get(context.Background(), id)
	if n.Status != domain.NoticeFailed || n.Attempts != 1 || !strings.Contains(n.LastError, "502") || !n.NextAttemptAt.After(now) {
		t.Errorf("after a 502: %+v", n)
	}
	if out, _ := d.Deliver(context.Background(), id); out != OutcomeSkipped {
		t.Errorf("before its backoff ends the notice is not tried: %s", out)
	}
	d.Now = func() time.Time { return now.Add(time.Second) }
	if out, _ := d.Deliver(context.Background(), id); out != OutcomeDead {
		t.Errorf("the last attempt: %s, want dead", out)
	}
	if n, _ := e.notices.Get(context.Background(), id); n.Status != domain.NoticeDead || n.NextAttemptAt != nil {
		t.Errorf("dead notice: %+v", n)
	}
	// The specialist retries it once the partner is back.
	e.sink.setAnswer(nil)
	n, err := e.svc.RetryNotice(context.Background(), e.actor, id)
	if err != nil || n.Status != domain.NoticePending || n.Attempts != 0 || n.ManualRetries != 1 {
		t.Fatalf("retry: %+v %v", n, err)
	}
	d.Now = time.Now
	if out, _ := d.Deliver(context.Background(), id); out != OutcomeDelivered {
		t.Errorf("after the retry: %s", out)
	}
	keys := map[string]int{}
	for _, r := range e.sink.received() {
		keys[r.Key]++
	}
	if len(keys) != 1 || keys[ns[0].IdempotencyKey] != 3 {
		t.Errorf("three attempts with one idempotency key, got %v", keys)
	}
	if _, err := e.svc.RetryNotice(context.Background(), e.actor, id); domain.ErrorCode(err) != domain.ECONFLICT {
		t.Errorf("retrying a delivered notice: %v, want conflict", err)
	}
	if _, err := e.svc.RetryNotice(context.Background(), e.actor, "0e000000-0000-4000-8000-000000000000"); domain.ErrorCode(err) != domain.ENOTFOUND {
		t.Errorf("retrying no notice: %v, want not found", err)
	}

	// A disabled partner is told nothing more.
	e.exec("UPDATE agencies SET disabled_at = now() WHERE id = ?", e.guardianship.id)
	c3 := e.register(caseOpts{noHealth: true})
	ns, _ = e.notices.ForCase(context.Background(), c3.ID)
	if out, _ := d.Deliver(context.Background(), ns[0].ID); out != OutcomeDead {
		t.Errorf("a disabled agency: %s, want dead", out)
	}
	e.exec("UPDATE agencies SET disabled_at = NULL WHERE id = ?", e.guardianship.id)

	// A partner without a webhook cannot be reached by retrying: the notice is dead at once.
	e.exec("UPDATE agencies SET webhook_url = '' WHERE id = ?", e.guardianship.id)
	c2 := e.register(caseOpts{noHealth: true})
	ns, _ = e.notices.ForCase(context.Background(), c2.ID)
	if out, _ := d.Deliver(context.Background(), ns[0].ID); out != OutcomeDead {
		t.Errorf("no webhook URL: %s, want dead", out)
	}
	if n, _ := e.notices.Get(context.Background(), ns[0].ID); !strings.Contains(n.LastError, "no webhook URL") || n.Attempts != 1 {
		t.Errorf("no webhook URL: %+v", n)
	}
}

// TestAgencyChoosesItsHappenings: an agency that chose happenings for its webhook is told only
// those, except what the law requires the guardianship body to hear.
func TestAgencyChoosesItsHappenings(t *testing.T) {
	e := newEnv(t)
	e.exec("UPDATE agencies SET webhook_happenings = '{admitted}' WHERE id = ?", e.health.id)
	e.exec("UPDATE agencies SET webhook_happenings = '{need_recognized}' WHERE id = ?", e.guardianship.id)
	c := e.register(caseOpts{})
	e.toResiding(c.ID, e.home1)
	got := e.happenings(c.ID)
	want := map[string]int{"need_recognized/guardianship": 1, "admitted/guardianship": 1, "admitted/health": 1,
		"voucher_issued/facility": 1, "admitted/facility": 1}
	for k, n := range want {
		if got[k] != n {
			t.Errorf("%d %s notices, want %d", got[k], k, n)
		}
	}
	for k, n := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("%d %s notices the agency did not choose", n, k)
		}
	}
}
