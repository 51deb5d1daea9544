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
// new version (a delivered notice) and after a read that extended the access chain it is run
// again from a fresh read, and what lands is what a fresh read would have given.
func TestCachedCaseNeverWritesOverNewer(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	sealer, err := store.NewSealer([][]byte{key1})
	if err != nil {
		t.Fatal(err)
	}
	other := store.NewCases(e.db, sealer) // another process on the same database
	otherSvc := &domain.Service{Cases: other, Calendar: store.NewCalendars(e.db), Settings: domain.DefaultSettings()}

	c := e.register(t, "Кэшев Иван", domain.ElderlyDisabled)
	c, err = e.svc.Fire(ctx, e.actor, c.ID, c.Version, domain.EventCommand{Event: domain.RequestDocuments})
	if err != nil {
		t.Fatal(err)
	}
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
	c = e.register(t, "Кэшев Пётр", domain.ElderlyDisabled)
	if c, err = e.svc.Fire(ctx, e.actor, c.ID, c.Version, domain.EventCommand{Event: domain.RequestDocuments}); err != nil {
		t.Fatal(err)
	}
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

	// 3. A read extends the access chain: the command decided on the cached heads is run again
	// under the chain's lock, and both chains verify.
	c = e.register(t, "Кэшев Олег", domain.ElderlyDisabled)
	if c, err = e.svc.Fire(ctx, e.actor, c.ID, c.Version, domain.EventCommand{Event: domain.RequestDocuments}); err != nil {
		t.Fatal(err)
	}
	if err := store.NewAccessLog(e.db).Record(ctx, []string{c.ID}, domain.AccessEntry{ActorID: "r", ActorName: "r", ActorKind: "user",
		Role: "specialist", Method: "GET", Route: "/api/v1/cases/:id", RequestID: "r", At: time.Now()}); err != nil {
		t.Fatal(err)
	}
	ctx2, pending := (&domain.Access{}).WithPendingAccess(ctx, domain.Actor{ID: "w", Name: "w", Kind: "user", Role: "specialist"},
		"POST", "/api/v1/cases/:id/events", "w")
	if pending == nil {
		t.Fatal("no pending access line")
	}
	if _, err := e.svc.Fire(ctx2, e.actor, c.ID, c.Version, domain.EventCommand{Event: domain.Withdraw}); err != nil {
		t.Fatal(err)
	}
	if !pending.Written {
		t.Error("the command's access line was not written with it")
	}
	if rep := verify(t, e.db); len(rep.Breaks) > 0 {
		t.Errorf("chains after a command on cached heads: %+v", rep.Breaks)
	}
}
