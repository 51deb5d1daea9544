package store_test

import (
	"context"
	"testing"
	"time"

	"carepath/domain"
	"carepath/store"
)

// TestCachedCaseNeverWritesOverNewer: a command sent with the version this process wrote last
// is decided on the cached case, and is written only if the case is still that: after another
// process's command (a new version) it is refused as stale, after a deadline closed without a
// new version (a delivered notice) it is run again from a fresh read, and what lands is what a
// fresh read would have given; reads between commands do not disturb it.
func TestCachedCaseNeverWritesOverNewer(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	sealer, err := store.NewSealer([][]byte{key1})
	if err != nil {
		t.Fatal(err)
	}
	otherDB, err := store.Open(ctx, e.db.URL, store.Options{}) // another process on the same database
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { otherDB.Close() })
	other := store.NewCases(otherDB, sealer)
	otherSvc := &domain.Service{Cases: other, Calendar: store.NewCalendars(otherDB), Settings: domain.DefaultSettings()}

	c := e.collecting(t, "Кэшев Иван")
	if !store.Cached(e.cases, c.ID, c.Version) {
		t.Fatal("the case just written is not in the cache")
	}

	// 1. Another process moves the case on: the cached version is refused, not written over.
	v := c.Version
	if _, err := otherSvc.Fire(ctx, e.actor, c.ID, v, domain.EventCommand{Event: domain.Withdraw, Comment: "other"}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Fire(ctx, e.actor, c.ID, v, domain.EventCommand{Event: domain.Withdraw, Comment: "stale"}); domain.ErrorCode(err) != domain.ESTALE {
		t.Fatalf("a command on the cached old version: %v, want ESTALE", err)
	}
	if h, err := e.cases.History(ctx, c.ID); err != nil || len(h) != v+1 || h[len(h)-1].Comment != "other" {
		t.Fatalf("history after the refused command: %d lines, %v", len(h), err)
	}

	// 2. A deadline closed without a new version: the cached case still shows it open, so the
	// command (one that leaves deadlines alone) runs again from a fresh read, which no longer
	// has it.
	c = e.collecting(t, "Кэшев Пётр")
	if len(c.Deadlines) == 0 {
		t.Fatal("collecting documents opened no deadline")
	}
	exec(t, e.db, "UPDATE deadlines SET state = 'met', closed_at = now() WHERE case_id = ? AND state = 'open'", c.ID)
	issued := domain.DateOf(time.Now()).AddDays(-3)
	got, err := e.svc.RecordDocument(ctx, e.actor, c.ID, c.Checklist[0].Type, c.Version, domain.DocumentUpdate{Status: domain.DocReceived, IssuedOn: &issued})
	if err != nil {
		t.Fatal(err)
	}
	var open int
	if err := e.db.SQL.QueryRowContext(ctx, "SELECT count(*) FROM deadlines WHERE case_id = $1 AND state = 'open'", c.ID).Scan(&open); err != nil {
		t.Fatal(err)
	}
	for _, d := range got.Deadlines {
		if d.State == domain.DeadlineOpen {
			t.Errorf("deadline %d %s still open in the answer, decided on the cached case", d.ID, d.Kind)
		}
	}
	if open != 0 {
		t.Errorf("%d open deadlines", open)
	}

	// 3. Reads add access lines but leave the case alone: a read by this process or by another
	// between two commands keeps the case cached, both commands land, and the chains verify.
	read := func(db *store.DB, id string) {
		t.Helper()
		if err := store.NewAccessLog(db).Record(ctx, []string{id}, domain.AccessEntry{ActorID: "r", ActorName: "r", ActorKind: "user",
			Role: "specialist", Method: "GET", Route: "/api/v1/cases/:id", RequestID: "r", At: time.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	// change fires the event and logs it as the API does, after the change
	change := func(c *domain.Case, ev domain.EventName) *domain.Case {
		t.Helper()
		c, err := e.svc.Fire(ctx, e.actor, c.ID, c.Version, domain.EventCommand{Event: ev})
		if err != nil {
			t.Fatal(err)
		}
		if err := store.NewAccessLog(e.db).Record(ctx, []string{c.ID}, domain.AccessEntry{ActorID: "w", ActorName: "w", ActorKind: "user",
			Role: "specialist", Method: "POST", Route: "/api/v1/cases/:id/events", RequestID: "w", At: time.Now()}); err != nil {
			t.Fatal(err)
		}
		return c
	}
	c = e.register(t, "Кэшев Олег", domain.ElderlyDisabled)
	c = change(c, domain.RequestDocuments)
	read(e.db, c.ID)
	if !store.Cached(e.cases, c.ID, c.Version) {
		t.Error("a read in this process dropped the case from the cache")
	}
	c = change(c, domain.Withdraw)
	d := e.register(t, "Кэшев Глеб", domain.ElderlyDisabled)
	d = change(d, domain.RequestDocuments)
	read(otherDB, d.ID)
	if !store.Cached(e.cases, d.ID, d.Version) {
		t.Error("a read in another process dropped the case from the cache")
	}
	change(d, domain.Withdraw)
	if rep := verify(t, e.db); len(rep.Breaks) > 0 {
		t.Errorf("chains after commands on cached heads: %+v", rep.Breaks)
	}
	var lines int
	if err := e.db.SQL.QueryRowContext(ctx, "SELECT count(*) FROM access_log WHERE case_id = ANY ($1::uuid[])", []string{c.ID, d.ID}).Scan(&lines); err != nil {
		t.Fatal(err)
	}
	if lines != 6 {
		t.Errorf("%d access lines for two cases with two changes and a read each, want 6", lines)
	}
}

// TestAccessCodeSetBesideTheCache: the demo's known access code is set outside commands; a
// later command of this process that writes the wide columns must not put the old hash back.
func TestAccessCodeSetBesideTheCache(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	c := e.collecting(t, "Кодов Иван")
	want := domain.HashAccessCode(c.ID, "KNOWN-CODE")
	if err := e.cases.SetAccessCodeHash(ctx, c.ID, want); err != nil {
		t.Fatal(err)
	}
	issued := domain.DateOf(time.Now()).AddDays(-3)
	if _, err := e.svc.RecordDocument(ctx, e.actor, c.ID, c.Checklist[0].Type, c.Version, domain.DocumentUpdate{Status: domain.DocReceived, IssuedOn: &issued}); err != nil {
		t.Fatal(err)
	}
	var got string
	if err := e.db.SQL.QueryRowContext(ctx, "SELECT access_code_hash FROM cases WHERE id = $1", c.ID).Scan(&got); err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Error("a command after the access code was set wrote the old hash back")
	}
}
