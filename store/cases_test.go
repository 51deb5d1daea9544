package store_test

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"carepath/domain"
	"carepath/migrations"
	"carepath/store"
	"carepath/store/dbtest"
)

var key1 = []byte("0123456789abcdef0123456789abcdef")
var key2 = []byte("fedcba9876543210fedcba9876543210")

type env struct {
	db    *store.DB
	cases *store.CaseCache
	svc   *domain.Service
	actor domain.Actor
}

func newEnv(t *testing.T) *env {
	t.Helper()
	db := dbtest.Open(t)
	sealer, err := store.NewSealer([][]byte{key1})
	if err != nil {
		t.Fatal(err)
	}
	cases := store.NewCaseCache(store.NewCases(db, sealer), 4096)
	return &env{db: db, cases: cases, actor: domain.Actor{ID: "t", Name: "t", Kind: "user", Role: "specialist"},
		svc: &domain.Service{Cases: cases, Calendar: store.NewCalendars(db), Settings: domain.DefaultSettings()}}
}

func (e *env) register(t *testing.T, name string, ft domain.FacilityType) *domain.Case {
	t.Helper()
	c, _, err := e.svc.Register(context.Background(), e.actor, domain.NewCase{
		Channel: domain.ChannelHotline, FacilityType: ft,
		Applicant: domain.Applicant{FullName: name, BirthDate: domain.MustDate("1940-01-01"), Gender: "male",
			SNILS: "112-233-445 95", Passport: "45 01 000001", Address: "Москва", LegalCapacity: domain.Capable},
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// collecting registers a case and requests its documents: a case collecting documents, with
// its document collection deadline open.
func (e *env) collecting(t *testing.T, name string) *domain.Case {
	t.Helper()
	c := e.register(t, name, domain.ElderlyDisabled)
	c, err := e.svc.Fire(context.Background(), e.actor, c.ID, c.Version, domain.EventCommand{Event: domain.RequestDocuments})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (e *env) toWaitingList(t *testing.T, c *domain.Case) *domain.Case {
	t.Helper()
	ctx := context.Background()
	var err error
	if c, err = e.svc.Fire(ctx, e.actor, c.ID, c.Version, domain.EventCommand{Event: domain.RequestDocuments}); err != nil {
		t.Fatal(err)
	}
	issued := domain.DateOf(time.Now()).AddDays(-3)
	for _, d := range c.Checklist {
		if c, err = e.svc.RecordDocument(ctx, e.actor, c.ID, d.Type, 0, domain.DocumentUpdate{Status: domain.DocReceived, IssuedOn: &issued}); err != nil {
			t.Fatal(err)
		}
	}
	if c, err = e.svc.Fire(ctx, e.actor, c.ID, c.Version, domain.EventCommand{Event: domain.SubmitForReview}); err != nil {
		t.Fatal(err)
	}
	if c, err = e.svc.Fire(ctx, e.actor, c.ID, c.Version, domain.EventCommand{Event: domain.RecognizeNeed, IPPSUNumber: "1", IPPSUDate: &issued}); err != nil {
		t.Fatal(err)
	}
	return c
}

// TestConcurrentEventsOneWinner: 50 goroutines fire at one case with the same version; exactly
// one wins, the others are told the version is stale, and history stays gapless.
func TestConcurrentEventsOneWinner(t *testing.T) {
	e := newEnv(t)
	c := e.register(t, "Гонкин Пётр", domain.ElderlyDisabled)
	const n = 50
	var wg sync.WaitGroup
	results := make(chan error, n)
	start := make(chan struct{})
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			<-start
			ev := domain.RequestDocuments
			if i%2 == 1 {
				ev = domain.Withdraw
			}
			_, err := e.svc.Fire(context.Background(), e.actor, c.ID, c.Version, domain.EventCommand{Event: ev, Comment: fmt.Sprint(i)})
			results <- err
		}(i)
	}
	close(start)
	wg.Wait()
	close(results)
	won, stale := 0, 0
	for err := range results {
		switch {
		case err == nil:
			won++
		case domain.ErrorCode(err) == domain.ESTALE:
			stale++
		default:
			t.Errorf("unexpected error: %v", err)
		}
	}
	if won != 1 || stale != n-1 {
		t.Fatalf("%d won, %d stale; want 1 and %d", won, stale, n-1)
	}
	var versions []int
	if err := e.db.Gorm.Raw("SELECT version FROM case_history WHERE case_id = ? ORDER BY version", c.ID).Scan(&versions).Error; err != nil {
		t.Fatal(err)
	}
	if len(versions) != 2 || versions[0] != 1 || versions[1] != 2 {
		t.Fatalf("history versions %v, want [1 2]", versions)
	}
	got, _ := e.cases.Get(context.Background(), c.ID)
	if got.Version != 2 {
		t.Fatalf("case version %d", got.Version)
	}
}

// TestLastBedGoesToOneVoucher: ten cases race for the last bed; one gets it.
func TestLastBedGoesToOneVoucher(t *testing.T) {
	e := newEnv(t)
	var fac string
	if err := e.db.Gorm.Raw("INSERT INTO facilities (name, type, capacity) VALUES ('Последняя койка', 'veterans', 1) RETURNING id").Scan(&fac).Error; err != nil {
		t.Fatal(err)
	}
	var waiting []*domain.Case
	for i := 0; i < 10; i++ {
		waiting = append(waiting, e.toWaitingList(t, e.register(t, fmt.Sprintf("Ветеран %d", i), domain.Veterans)))
	}
	var wg sync.WaitGroup
	errs := make(chan error, len(waiting))
	for _, c := range waiting {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := e.svc.Fire(context.Background(), e.actor, c.ID, c.Version, domain.EventCommand{Event: domain.IssueVoucher, FacilityID: fac, SkipReason: "test"})
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	won := 0
	for err := range errs {
		if err == nil {
			won++
		} else if domain.ErrorCode(err) != domain.EUNPROCESSABLE {
			t.Errorf("unexpected: %v", err)
		}
	}
	var taken int
	e.db.Gorm.Raw("SELECT taken FROM facilities WHERE id = ?", fac).Scan(&taken)
	var holders int
	e.db.Gorm.Raw("SELECT count(*) FROM cases WHERE voucher_facility_id = ?", fac).Scan(&holders)
	if won != 1 || taken != 1 || holders != 1 {
		t.Fatalf("won %d, taken %d, holders %d; want 1 each", won, taken, holders)
	}
}

func TestCaseNumbersSequentialPerYear(t *testing.T) {
	e := newEnv(t)
	a := e.register(t, "Первый", domain.ElderlyDisabled)
	b := e.register(t, "Второй", domain.ElderlyDisabled)
	year := time.Now().In(domain.Moscow).Year()
	if a.Number != fmt.Sprintf("KC-%d-000001", year) || b.Number != fmt.Sprintf("KC-%d-000002", year) {
		t.Fatalf("numbers %s, %s", a.Number, b.Number)
	}
}

func TestListFiltersAndStableCursor(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	for i := 0; i < 7; i++ {
		ft := domain.ElderlyDisabled
		if i%2 == 0 {
			ft = domain.Veterans
		}
		c := e.register(t, fmt.Sprintf("Сидорова %d", i), ft)
		if i < 3 {
			if _, err := e.svc.Fire(ctx, e.actor, c.ID, c.Version, domain.EventCommand{Event: domain.RequestDocuments}); err != nil {
				t.Fatal(err)
			}
		}
	}
	e.register(t, "Другое Имя", domain.ElderlyDisabled)
	page, err := e.svc.List(ctx, domain.CaseFilter{State: domain.CollectingDocuments})
	if err != nil || len(page.Items) != 3 {
		t.Fatalf("state filter: %d items, %v", len(page.Items), err)
	}
	page, _ = e.svc.List(ctx, domain.CaseFilter{FacilityType: domain.Veterans})
	if len(page.Items) != 4 {
		t.Fatalf("facility filter: %d", len(page.Items))
	}
	page, _ = e.svc.List(ctx, domain.CaseFilter{Q: "сидоров"})
	if len(page.Items) != 7 {
		t.Fatalf("name search: %d", len(page.Items))
	}
	page, _ = e.svc.List(ctx, domain.CaseFilter{Q: "100%"})
	if len(page.Items) != 0 {
		t.Fatalf("a %% in q must match literally: %d", len(page.Items))
	}
	all, _ := e.svc.List(ctx, domain.CaseFilter{})
	byNumber, _ := e.svc.List(ctx, domain.CaseFilter{Q: all.Items[3].Number})
	if len(byNumber.Items) != 1 || byNumber.Items[0].ID != all.Items[3].ID {
		t.Fatalf("number search: %+v", byNumber.Items)
	}
	// Walk in pages of 3 while new cases arrive: every case seen once, newest first.
	seen := map[string]bool{}
	var cursor string
	for i := 0; ; i++ {
		p, err := e.svc.List(ctx, domain.CaseFilter{Limit: 3, Cursor: cursor})
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range p.Items {
			if seen[it.ID] {
				t.Fatalf("case %s seen twice", it.Number)
			}
			seen[it.ID] = true
		}
		e.register(t, fmt.Sprintf("Новая %d", i), domain.Veterans)
		if p.NextCursor == "" {
			break
		}
		cursor = p.NextCursor
	}
	if len(seen) != 8 {
		t.Fatalf("walked %d cases, want the 8 that existed when the walk began", len(seen))
	}
	if _, err := e.svc.List(ctx, domain.CaseFilter{Cursor: "bogus"}); domain.ErrorCode(err) != domain.EINVALID {
		t.Fatalf("bad cursor: %v", err)
	}
}

func TestPersonalDataSealedAtRest(t *testing.T) {
	e := newEnv(t)
	c := e.register(t, "Секретова Анна", domain.ElderlyDisabled)
	var raw []byte
	e.db.Gorm.Raw("SELECT personal FROM cases WHERE id = ?", c.ID).Scan(&raw)
	if bytes.Contains(raw, []byte("112-233-445")) || bytes.Contains(raw, []byte("45 01")) {
		t.Fatalf("personal data stored in clear")
	}
	var whole string
	e.db.Gorm.Raw("SELECT row_to_json(cases)::text FROM cases WHERE id = ?", c.ID).Scan(&whole)
	if bytes.Contains([]byte(whole), []byte("445 95")) {
		t.Fatalf("SNILS visible in the row")
	}
	// A rotation: the new key seals, the old one still opens what it sealed.
	rotated, err := store.NewSealer([][]byte{key2, key1})
	if err != nil {
		t.Fatal(err)
	}
	got, err := store.NewCases(e.db, rotated).Get(context.Background(), c.ID)
	if err != nil || got.Applicant.SNILS != "112-233-445 95" {
		t.Fatalf("read with rotated keys: %v %q", err, got.Applicant.SNILS)
	}
	if rotated.Current(raw) {
		t.Fatal("old value reported as sealed with the new key")
	}
	onlyNew, _ := store.NewSealer([][]byte{key2})
	if _, err := store.NewCases(e.db, onlyNew).Get(context.Background(), c.ID); err == nil {
		t.Fatal("a value sealed with a dropped key was opened")
	}
}

func TestHistoryIsAppendOnly(t *testing.T) {
	e := newEnv(t)
	c := e.register(t, "Неизменный", domain.ElderlyDisabled)
	if err := e.db.Gorm.Exec("UPDATE case_history SET comment = 'x' WHERE case_id = ?", c.ID).Error; err == nil {
		t.Fatal("history line was updated")
	}
	if err := e.db.Gorm.Exec("DELETE FROM case_history WHERE case_id = ?", c.ID).Error; err == nil {
		t.Fatal("history line was deleted")
	}
}

func TestCalendarImportOverridesAndValidates(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	cal, err := store.NewCalendars(e.db).Calendar(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !cal.Covers(2026) || cal.IsWorkingDay(domain.MustDate("2026-12-31")) {
		t.Fatal("shipped calendar not loaded by migrate")
	}
	// An operator adds a holiday of next year and corrects a shipped day.
	rows := []migrations.CalendarRow{{Date: "2028-01-03", Kind: "holiday", Note: "New Year"}, {Date: "2027-01-01", Kind: "holiday", Note: "corrected"}}
	if n, err := e.db.ImportCalendar(ctx, rows, true); err != nil || n != 2 {
		t.Fatalf("import: %d, %v", n, err)
	}
	var note string
	e.db.Gorm.Raw("SELECT note FROM calendar_days WHERE day = '2027-01-01'").Scan(&note)
	if note != "corrected" {
		t.Fatalf("operator correction not kept: %q", note)
	}
	// Migrating again never overrides the operator.
	if _, err := e.db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	e.db.Gorm.Raw("SELECT note FROM calendar_days WHERE day = '2027-01-01'").Scan(&note)
	if note != "corrected" {
		t.Fatalf("migrate overrode the operator: %q", note)
	}
	// A Saturday cannot be a holiday: the import is refused whole.
	bad := []migrations.CalendarRow{{Date: "2028-01-04", Kind: "holiday"}, {Date: "2028-01-08", Kind: "holiday"}}
	if _, err := e.db.ImportCalendar(ctx, bad, true); err == nil {
		t.Fatal("a Saturday holiday was accepted")
	}
	var n int
	e.db.Gorm.Raw("SELECT count(*) FROM calendar_days WHERE day = '2028-01-04'").Scan(&n)
	if n != 0 {
		t.Fatal("a refused import changed the calendar")
	}
}

// TestChangeStatementsPrepare: every shape of the change statement (which parts it holds)
// is valid SQL whose parameters all have their types, including shapes no test command makes.
func TestChangeStatementsPrepare(t *testing.T) {
	db := dbtest.Open(t)
	ctx := context.Background()
	conn, err := db.SQL.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for i, q := range store.ChangeSQLs() {
		if _, err := conn.ExecContext(ctx, fmt.Sprintf("PREPARE shape%d AS %s", i, q)); err != nil {
			t.Errorf("shape %06b: %v", i, err)
		}
	}
}

// TestNextDueFollowsDeadlinesClosedMeanwhile: a guardianship notice's delivery closes its
// deadline without a new version of the case; a command that read the case before it must not
// write the closed deadline's due time back as the case's next due time.
func TestNextDueFollowsDeadlinesClosedMeanwhile(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	c := e.collecting(t, "Срочкин Олег")
	if len(c.Deadlines) == 0 {
		t.Fatal("collecting documents opened no deadline")
	}
	_, err := e.cases.Update(ctx, c.ID, c.Version, func(ctx context.Context, _ domain.CaseTx, c *domain.Case) (*domain.Change, error) {
		// Meanwhile, as Notices.Delivered does: every open deadline of the case is met, and
		// its next due time recomputed, with no new version.
		exec(t, e.db, "UPDATE deadlines SET state = 'met', closed_at = now() WHERE case_id = ? AND state = 'open'", c.ID)
		exec(t, e.db, "UPDATE cases SET next_due_at = NULL WHERE id = ?", c.ID)
		c.Version++
		return &domain.Change{History: domain.HistoryEntry{CaseID: c.ID, Version: c.Version, Event: "note", From: c.State, To: c.State,
			ActorID: "t", ActorName: "t", ActorRole: "specialist", Comment: "read before the delivery", At: time.Now()}}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var due *time.Time
	if err := e.db.SQL.QueryRowContext(ctx, "SELECT next_due_at FROM cases WHERE id = $1", c.ID).Scan(&due); err != nil {
		t.Fatal(err)
	}
	if due != nil {
		t.Errorf("next_due_at %v after every deadline was met; want none", due)
	}
}

// TestWideColumnsWrittenOnlyWhenChanged: a command that changes none of the wide columns
// (applicant, personal data, contacts, checklist) leaves them as they were, the sealed personal
// data byte for byte; a change of any of them, even a date changed in place in the checklist,
// writes them all, and the case reads back as the command left it.
func TestWideColumnsWrittenOnlyWhenChanged(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	c := e.register(t, "Широкий Пётр", domain.ElderlyDisabled)
	sealed := func() (personal []byte) {
		t.Helper()
		if err := e.db.SQL.QueryRowContext(ctx, "SELECT personal FROM cases WHERE id = $1", c.ID).Scan(&personal); err != nil {
			t.Fatal(err)
		}
		return personal
	}
	note := func(mutate func(c *domain.Case)) *domain.Case {
		t.Helper()
		out, err := e.cases.Update(ctx, c.ID, c.Version, func(ctx context.Context, _ domain.CaseTx, c *domain.Case) (*domain.Change, error) {
			mutate(c)
			c.Version++
			return &domain.Change{History: domain.HistoryEntry{CaseID: c.ID, Version: c.Version, Event: "note", From: c.State, To: c.State,
				ActorID: "t", ActorName: "t", ActorRole: "specialist", At: time.Now()}}, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	before := sealed()
	c = note(func(c *domain.Case) { c.AssigneeID = "" })
	if after := sealed(); !bytes.Equal(before, after) {
		t.Error("a command that changed no wide column sealed the personal data again")
	}
	day := domain.NewDate(2024, 3, 4)
	c = note(func(c *domain.Case) {
		c.Contacts = append(c.Contacts, domain.Contact{Name: "Широкая Анна", Relation: "дочь", Phone: "+79990000001", PreferredChannel: "sms"})
		c.Checklist[0].IssuedOn = &day
	})
	if after := sealed(); bytes.Equal(before, after) {
		t.Error("a command that changed the contacts did not write the wide columns")
	}
	before = sealed()
	c = note(func(c *domain.Case) { *c.Checklist[0].IssuedOn = domain.NewDate(2024, 5, 6) }) // the same pointer, a new date
	if after := sealed(); bytes.Equal(before, after) {
		t.Error("a date changed in place in the checklist was not written")
	}
	got, err := e.cases.Get(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Contacts) != 1 || got.Contacts[0].Name != "Широкая Анна" || got.Checklist[0].IssuedOn == nil ||
		*got.Checklist[0].IssuedOn != domain.NewDate(2024, 5, 6) || got.Applicant.SNILS != c.Applicant.SNILS {
		t.Errorf("read back: contacts %+v, first document %+v", got.Contacts, got.Checklist[0])
	}
}
