package store_test

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/google/uuid"

	"carepath/domain"
	"carepath/store"
	"carepath/store/dbtest"
)

// freshCases opens a fresh database and a case store on it.
func freshCases(t *testing.T) (*store.DB, *store.Cases) {
	t.Helper()
	db := dbtest.Open(t)
	sealer, err := store.NewSealer([][]byte{make([]byte, 32)})
	if err != nil {
		t.Fatal(err)
	}
	return db, store.NewCases(db, sealer)
}

// TestBulkLoadReadsBackAsSaved holds the bulk loader (binary COPY of rows encoded apart) to the
// simple way: a case saved command by command, loaded again in bulk under another id and
// number, reads back as the same case with the same history, deadlines and timeline.
func TestBulkLoadReadsBackAsSaved(t *testing.T) {
	ctx := context.Background()
	db, cases := freshCases(t)
	svc := &domain.Service{Cases: cases, Calendar: store.NewCalendars(db), Settings: domain.DefaultSettings()}
	actor := domain.Actor{ID: "u1", Name: "Специалист", Kind: domain.ActorUser, Role: domain.RoleSpecialist}
	saved, _, err := svc.Register(ctx, actor, domain.NewCase{Channel: domain.ChannelHotline, FacilityType: domain.ElderlyDisabled,
		Applicant: domain.Applicant{FullName: "Копиркина Анна Ивановна", BirthDate: domain.NewDate(1938, 3, 8), Gender: "female",
			SNILS: "112-233-445 95", Passport: "45 01 123456", Address: "Москва, ул. Вавилова, д. 1", LegalCapacity: domain.Capable,
			DisabilityGroup: "2"},
		Contacts: []domain.Contact{{Name: "Копиркин Иван", Relation: "son", Phone: "+7 916 123-45-67", ConsentToNotices: true,
			PreferredChannel: "sms"}}})
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range []domain.EventName{domain.RequestDocuments, domain.Withdraw} {
		if saved, err = svc.Fire(ctx, actor, saved.ID, saved.Version, domain.EventCommand{Event: ev}); err != nil {
			t.Fatal(err)
		}
	}
	// a second case to go on with, so that the load keeps the indexes
	other, _, err := svc.Register(ctx, actor, domain.NewCase{Channel: domain.ChannelOnline, FacilityType: domain.Veterans,
		Applicant: domain.Applicant{FullName: "Другой Пётр", BirthDate: domain.NewDate(1941, 5, 9), Gender: "male",
			SNILS: "112-233-445 95", Address: "Москва", LegalCapacity: domain.Capable}, Contacts: []domain.Contact{}})
	if err != nil {
		t.Fatal(err)
	}
	if other, err = svc.Fire(ctx, actor, other.ID, other.Version, domain.EventCommand{Event: domain.RequestDocuments}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []*domain.Case{saved, other} {
		want, err := svc.Get(ctx, want.ID)
		if err != nil {
			t.Fatal(err)
		}
		history, err := svc.History(ctx, want.ID)
		if err != nil {
			t.Fatal(err)
		}
		load, err := cases.BulkLoad(ctx, 1, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer load.Close(ctx)
		if load.RebuildsIndexes() {
			t.Error("a load of one case into a table of two rebuilt the indexes")
		}
		year := time.Now().In(domain.Moscow).Year()
		last, err := load.ReserveCaseNumbers(ctx, map[int]int{year: 1})
		if err != nil {
			t.Fatal(err)
		}
		copied := *want
		copied.ID, copied.Number = uuid.NewString(), domain.CaseNumber(year, last[year]+1)
		b := load.NewBatch(1)
		if err := b.Add(&copied, history); err != nil {
			t.Fatal(err)
		}
		if n, h, d := b.Rows(); n != 1 || h != len(history) || d != len(want.Deadlines) {
			t.Errorf("batch of %d cases, %d history lines, %d deadlines; want 1, %d, %d", n, h, d, len(history), len(want.Deadlines))
		}
		if err := load.Copy(ctx, b); err != nil {
			t.Fatal(err)
		}
		if err := load.Finish(ctx); err != nil {
			t.Fatal(err)
		}
		got, err := svc.Get(ctx, copied.ID)
		if err != nil {
			t.Fatal(err)
		}
		gotHistory, err := svc.History(ctx, copied.ID)
		if err != nil {
			t.Fatal(err)
		}
		// what is the copy's own: its id and number, and its deadlines' ids
		got.ID, got.Number = want.ID, want.Number
		for i := range got.Deadlines {
			if i < len(want.Deadlines) {
				got.Deadlines[i].ID = want.Deadlines[i].ID
			}
		}
		for i := range gotHistory {
			gotHistory[i].CaseID = want.ID
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("the case loaded in bulk reads back as\n%+v\nsaved, it reads\n%+v", got, want)
		}
		if !reflect.DeepEqual(gotHistory, history) {
			t.Errorf("its history reads back as\n%+v\nsaved, it reads\n%+v", gotHistory, history)
		}
		var same bool
		if err := db.SQL.QueryRowContext(ctx, `SELECT a.timeline = b.timeline AND a.timeline <> '' FROM cases a, cases b
			WHERE a.id = $1 AND b.id = $2`, want.ID, copied.ID).Scan(&same); err != nil || !same {
			t.Errorf("the loaded case's timeline differs from the one the triggers kept (%v)", err)
		}
	}
}
