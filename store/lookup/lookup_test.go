package lookup_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"carepath/domain"
	"carepath/store"
	"carepath/store/dbtest"
	"carepath/store/lookup"
)

var sys = domain.Actor{ID: "test", Name: "test", Kind: domain.ActorSystem, Role: "system"}

type fixture struct {
	db      *store.DB
	cases   *store.Cases
	service *domain.Service
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	db := dbtest.Open(t)
	sealer, err := store.NewSealer([][]byte{[]byte("0123456789abcdef0123456789abcdef")})
	if err != nil {
		t.Fatal(err)
	}
	cases := store.NewCases(db, sealer)
	return &fixture{db: db, cases: cases, service: &domain.Service{Cases: cases, Calendar: store.NewCalendars(db), Settings: domain.DefaultSettings()}}
}

func (f *fixture) register(t *testing.T, name string) *domain.Case {
	t.Helper()
	c, _, err := f.service.Register(context.Background(), sys, domain.NewCase{Channel: domain.ChannelHotline, FacilityType: domain.ElderlyDisabled,
		Applicant: domain.Applicant{FullName: name, BirthDate: domain.NewDate(1940, 1, 2), Gender: "male", SNILS: "112-233-445 95",
			Passport: "45 01 000001", Address: "Москва, ул. Тестовая, д. 1", LegalCapacity: domain.Capable},
		Contacts: []domain.Contact{}})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestWaitingPositionSnapshot: the status lookup's positions, from the snapshot or counted,
// are those Cases.Get counts.
func TestWaitingPositionSnapshot(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	var ids []string
	for i := 0; i < 4; i++ {
		c := f.register(t, "Очередь Тест")
		today := domain.DateOf(time.Now()).AddDays(-1)
		for _, d := range c.Checklist {
			var err error
			if c, err = f.service.RecordDocument(ctx, sys, c.ID, d.Type, 0, domain.DocumentUpdate{Status: domain.DocReceived, IssuedOn: &today}); err != nil {
				t.Fatal(err)
			}
		}
		for _, cmd := range []domain.EventCommand{{Event: domain.RequestDocuments}, {Event: domain.SubmitForReview},
			{Event: domain.RecognizeNeed, IPPSUNumber: "1", IPPSUDate: &today}} {
			var err error
			if c, err = f.service.Fire(ctx, sys, c.ID, c.Version, cmd); err != nil {
				t.Fatal(err)
			}
		}
		ids = append(ids, c.ID)
	}
	l := lookup.New(f.db)
	check := func() {
		t.Helper()
		for _, id := range ids {
			c, err := f.cases.Get(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			fig, err := l.WaitingFigures(ctx, id)
			if p := fig.Position; err != nil || p != c.WaitingPosition {
				t.Errorf("case %s: lookup position %d (%v), Get %d", id, p, err, c.WaitingPosition)
			}
		}
	}
	check() // the first lookup waits for the first snapshot
	deadline := time.Now().Add(10 * time.Second)
	for !l.HasWaitingSnapshot() && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if !l.HasWaitingSnapshot() {
		t.Fatal("no snapshot after 10 s")
	}
	check() // from the snapshot
}

// waitingCase registers a case and takes it to the waiting list.
// (with pl, its placement: priority and preferences; nil for none).
func (f *fixture) waitingCase(t *testing.T, pl *domain.Placement) *domain.Case {
	t.Helper()
	ctx := context.Background()
	c := f.register(t, "Очередь Тест")
	today := domain.DateOf(time.Now()).AddDays(-1)
	for _, d := range c.Checklist {
		var err error
		if c, err = f.service.RecordDocument(ctx, sys, c.ID, d.Type, 0, domain.DocumentUpdate{Status: domain.DocReceived, IssuedOn: &today}); err != nil {
			t.Fatal(err)
		}
	}
	for _, cmd := range []domain.EventCommand{{Event: domain.RequestDocuments}, {Event: domain.SubmitForReview},
		{Event: domain.RecognizeNeed, IPPSUNumber: "1", IPPSUDate: &today, Placement: pl}} {
		var err error
		if c, err = f.service.Fire(ctx, sys, c.ID, c.Version, cmd); err != nil {
			t.Fatal(err)
		}
	}
	return c
}

// TestWaitingSnapshotFromTheReader: with a Reader (DATABASE_READ_URL) the snapshot is read there,
// not on the primary, through a read-only pool; a case the reader does not show yet (a lagging
// standby) is counted on the primary, so its relatives still see their true position.
func TestWaitingSnapshotFromTheReader(t *testing.T) {
	primary, standby := newFixture(t), newFixture(t)
	ctx := context.Background()
	// the "standby" lags: it holds an older list (its own cases), the primary a newer one
	onStandby := standby.waitingCase(t, nil)
	onPrimary := []*domain.Case{primary.waitingCase(t, nil), primary.waitingCase(t, nil)}
	reader, err := store.Open(ctx, standby.db.URL, store.Options{ReadOnly: true, MaxOpenConns: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer reader.Close()
	if err := reader.Gorm.Exec("CREATE TABLE written_on_a_reader (x int)").Error; err == nil {
		t.Fatal("a read-only pool wrote")
	}
	l := lookup.New(primary.db)
	l.Reader = reader
	for i, c := range onPrimary {
		if fig, err := l.WaitingFigures(ctx, c.ID); err != nil || fig.Position != i+1 {
			t.Fatalf("case %d on the primary only: position %d (%v), want %d", i, fig.Position, err, i+1)
		}
	}
	if !l.HasWaitingSnapshot() {
		t.Fatal("no snapshot after the first lookup")
	}
	if p, ok := lookup.SnapshotPosition(l, onStandby.ID); !ok || p != 1 {
		t.Fatalf("the snapshot was not read on the reader: position of its case %d %v", p, ok)
	}
	if _, ok := lookup.SnapshotPosition(l, onPrimary[0].ID); ok {
		t.Fatal("the snapshot was read on the primary")
	}
}

// TestStatusLookupsInBatches: lookups that arrive together are read together, and each gets
// its own case and its own counters: forty at once over found and unknown numbers, counters
// of different sizes, and the same number asked twice.
func TestStatusLookupsInBatches(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	var cases []*domain.Case
	for i := 0; i < 5; i++ {
		cases = append(cases, f.register(t, fmt.Sprintf("Партия Тест %d", i)))
	}
	l := lookup.New(f.db)
	now := time.Now()
	for i, c := range cases {
		for j := 0; j < i; j++ { // case i has i failures on its number
			if err := l.RecordFailure(ctx, []string{"n:" + c.Number}, now, time.Hour); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := l.RecordFailure(ctx, []string{"a:10.0.0.7"}, now, time.Hour); err != nil {
		t.Fatal(err)
	}
	pairKey := "p:" + cases[1].Number + "|a:10.0.0.1" // one failure of one (case, client) pair
	if err := l.RecordFailure(ctx, []string{pairKey}, now, time.Hour); err != nil {
		t.Fatal(err)
	}
	plan := &domain.StatusPlan{ChecklistStates: []string{string(domain.Intake)}}
	var wg sync.WaitGroup
	errs := make(chan error, 40)
	for i := 0; i < 40; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			number, want := fmt.Sprintf("KC-2020-%06d", 900000+i), -1 // unknown
			if i%4 != 3 {
				want = i % len(cases)
				number = cases[want].Number
			}
			addr := fmt.Sprintf("a:10.0.0.%d", i%8)
			keys := domain.StatusKeys{Case: "n:" + number, Client: "p:" + number + "|" + addr, Address: addr}
			rec, err := l.StatusCase(ctx, number, keys, plan)
			switch {
			case err != nil:
				errs <- err
			case (want >= 0) != rec.Found:
				errs <- fmt.Errorf("lookup %d of %s: found %v", i, number, rec.Found)
			case want >= 0 && (rec.ID != cases[want].ID || rec.Number != number || rec.ByCase.Failures != want):
				errs <- fmt.Errorf("lookup %d of %s: got case %s %s with %d failures", i, number, rec.ID, rec.Number, rec.ByCase.Failures)
			case want < 0 && rec.ByCase.Failures != 0:
				errs <- fmt.Errorf("unknown number %s: %d failures", number, rec.ByCase.Failures)
			case (keys.Client == pairKey) != (rec.ByClient.Failures == 1):
				errs <- fmt.Errorf("lookup %d of %s from %s: %d failures of the pair", i, number, addr, rec.ByClient.Failures)
			case (addr == "a:10.0.0.7") != (rec.ByAddress.Failures == 1):
				errs <- fmt.Errorf("lookup %d from %s: %d address failures", i, addr, rec.ByAddress.Failures)
			case want >= 0:
				if cl, err := rec.Checklist(); err != nil || len(cl) == 0 {
					errs <- fmt.Errorf("lookup %d: checklist %v %v", i, cl, err)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestLookupReadersPlanOnce: the lookups' batch readers run on connections of their own with
// PostgreSQL's generic plans (their arrays vary in length, and the default planned the query
// anew on every batch), connect again when theirs breaks, and leave the pool's default alone.
func TestLookupReadersPlanOnce(t *testing.T) {
	db := dbtest.Open(t)
	ctx := context.Background()
	first, again, err := lookup.OwnConnPlanModes(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	if first != "force_generic_plan" || again != "force_generic_plan" {
		t.Errorf("reader's plan_cache_mode: %q, after reconnecting %q; want force_generic_plan", first, again)
	}
	var pool string
	if err := db.SQL.QueryRowContext(ctx, "SHOW plan_cache_mode").Scan(&pool); err != nil {
		t.Fatal(err)
	}
	if pool != "auto" {
		t.Errorf("the pool's plan_cache_mode is %q, want the default auto", pool)
	}
}
