package store_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"gorm.io/gorm"

	"carepath/domain"
	"carepath/store"
	"carepath/store/dbtest"
)

var sys = domain.Actor{ID: "test", Name: "test", Kind: domain.ActorSystem, Role: "system"}

func randomKey(t *testing.T) []byte {
	t.Helper()
	k := make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		t.Fatal(err)
	}
	return k
}

type accessFixture struct {
	db      *store.DB
	cases   *store.Cases
	service *domain.Service
	log     *store.AccessLog
}

func newAccessFixture(t *testing.T, keys ...[]byte) *accessFixture {
	t.Helper()
	db := dbtest.Open(t)
	if len(keys) == 0 {
		keys = [][]byte{randomKey(t)}
	}
	sealer, err := store.NewSealer(keys)
	if err != nil {
		t.Fatal(err)
	}
	cases := store.NewCases(db, sealer)
	ids := store.NewIdentities(db)
	return &accessFixture{db: db, cases: cases, log: store.NewAccessLog(db),
		service: &domain.Service{Cases: cases, Calendar: store.NewCalendars(db), Settings: domain.DefaultSettings(), Users: ids, Board: cases, Beds: cases, Waiting: cases, OfferLog: cases}}
}

func (f *accessFixture) register(t *testing.T, name string) *domain.Case {
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

func verify(t *testing.T, db *store.DB) *store.VerifyReport {
	t.Helper()
	rep, err := store.Verify(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func exec(t *testing.T, db *store.DB, sql string, args ...any) {
	t.Helper()
	if err := db.Gorm.Exec(sql, args...).Error; err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

// TestAuditChains: history and access log chains verify clean, and each kind of tampering is
// reported at the line where it happened.
func TestAuditChains(t *testing.T) {
	f := newAccessFixture(t)
	ctx := context.Background()
	a := f.register(t, "Первый Тест")
	b := f.register(t, "Второй Тест")
	a, err := f.service.Fire(ctx, sys, a.ID, a.Version, domain.EventCommand{Event: domain.RequestDocuments, Comment: "ключи {\"x\": 1} <b>"})
	if err != nil {
		t.Fatal(err)
	}
	today := domain.DateOf(time.Now())
	if _, err := f.service.RecordDocument(ctx, sys, a.ID, domain.DocMedicalCard, 0, domain.DocumentUpdate{Status: domain.DocReceived, IssuedOn: &today}); err != nil {
		t.Fatal(err)
	}
	reader := domain.Actor{ID: "u1", Name: "Читатель", Kind: domain.ActorUser, Role: domain.RoleSpecialist}
	for i := 0; i < 3; i++ {
		e := domain.AccessEntry{ActorID: reader.ID, ActorName: reader.Name, ActorKind: reader.Kind, Role: reader.Role, Method: "GET",
			Route: "/api/v1/cases", RequestID: "r", At: time.Now()}
		if err := f.log.Record(ctx, []string{a.ID, strings.ToUpper(b.ID), a.ID}, e); err != nil {
			t.Fatal(err)
		}
	}
	rep := verify(t, f.db)
	if len(rep.Breaks) != 0 || rep.HistoryLines != 4 || rep.AccessLines != 6 || rep.Cases != 2 || rep.Unsealed != 0 {
		t.Fatalf("clean database: %+v", rep)
	}
	digest := rep.Digest

	// A history line changed behind the application's back (the append-only trigger switched
	// off, as a superuser could).
	exec(t, f.db, "ALTER TABLE case_history DISABLE TRIGGER case_history_append_only")
	exec(t, f.db, "UPDATE case_history SET comment = 'подправлено' WHERE case_id = ? AND version = 2", a.ID)
	rep = verify(t, f.db)
	if len(rep.Breaks) != 1 || rep.Breaks[0].Chain != "history" || rep.Breaks[0].CaseID != a.ID || rep.Breaks[0].Seq != 2 {
		t.Fatalf("changed history line: %+v", rep.Breaks)
	}
	if rep.Digest != digest {
		t.Errorf("the digest covers the stored chain heads, which did not change")
	}

	// Recomputing the hash of the changed line is not enough: the next line points at the old one.
	var h string
	if err := f.db.Gorm.Raw("SELECT hash FROM case_history WHERE case_id = ? AND version = 1", a.ID).Scan(&h).Error; err != nil {
		t.Fatal(err)
	}
	exec(t, f.db, "UPDATE case_history SET hash = md5(hash) || md5(hash) WHERE case_id = ? AND version = 2", a.ID)
	rep = verify(t, f.db)
	if len(rep.Breaks) < 2 {
		t.Errorf("re-hashed line: want breaks at lines 2 and 3, got %+v", rep.Breaks)
	}

	// A removed last line: the history no longer reaches the case's version.
	exec(t, f.db, "DELETE FROM case_history WHERE case_id = ? AND version = 1", b.ID)
	rep = verify(t, f.db)
	found := false
	for _, br := range rep.Breaks {
		found = found || (br.CaseID == b.ID && br.Chain == "history")
	}
	if !found {
		t.Errorf("removed history line of %s not reported: %+v", b.ID, rep.Breaks)
	}
	exec(t, f.db, "ALTER TABLE case_history ENABLE TRIGGER case_history_append_only")

	// The access log: each writer's chain. The three Records wrote lines 1-6 of this process's
	// writer; a changed line, a removed line and a line slipped in are each reported.
	var writer int64
	if err := f.db.Gorm.Raw("SELECT max(writer_id) FROM access_log").Scan(&writer).Error; err != nil {
		t.Fatal(err)
	}
	exec(t, f.db, "ALTER TABLE access_log DISABLE TRIGGER access_log_append_only")
	exec(t, f.db, "UPDATE access_log SET actor_id = 'someone-else' WHERE writer_id = ? AND seq = 2", writer)
	exec(t, f.db, "DELETE FROM access_log WHERE writer_id = ? AND seq = 4", writer)
	exec(t, f.db, "ALTER TABLE access_log ENABLE TRIGGER access_log_append_only")
	exec(t, f.db, `INSERT INTO access_log (writer_id, case_id, seq, actor_id, actor_kind, role, method, route, at, prev_hash, hash)
		SELECT writer_id, case_id, 7, 'intruder', actor_kind, role, method, route, at, hash, repeat('1', 64)
		FROM access_log WHERE writer_id = ? AND seq = 6`, writer)
	rep = verify(t, f.db)
	var changed, removed, inserted bool
	for _, br := range rep.Breaks {
		changed = changed || (br.Chain == "access" && br.Writer == writer && br.Seq == 2)
		removed = removed || (br.Chain == "access" && br.Writer == writer && br.Seq == 5)
		inserted = inserted || (br.Chain == "access" && br.Writer == writer && br.Seq == 7)
	}
	if !changed || !removed || !inserted {
		t.Errorf("access log tampering: changed reported %v, removed %v, inserted %v: %+v", changed, removed, inserted, rep.Breaks)
	}

	// A line slipped in for a case that does not exist (the access log has no foreign key).
	exec(t, f.db, `INSERT INTO access_log (case_id, seq, actor_id, actor_kind, role, method, route, at, prev_hash, hash)
		VALUES ('00000000-0000-7000-8000-000000000001', 1, 'x', 'user', 'specialist', 'GET', '/x', now(), '', repeat('0', 64))`)
	rep = verify(t, f.db)
	orphan := false
	for _, br := range rep.Breaks {
		orphan = orphan || (br.Chain == "access" && br.CaseID == "00000000-0000-7000-8000-000000000001")
	}
	if !orphan {
		t.Errorf("a line of a case that does not exist was not reported: %+v", rep.Breaks)
	}

	// With the triggers on, the application's own database user cannot change either log.
	if err := f.db.Gorm.Exec("UPDATE access_log SET role = 'x'").Error; err == nil {
		t.Errorf("the access log accepted an UPDATE")
	}
	if err := f.db.Gorm.Exec("DELETE FROM case_history").Error; err == nil {
		t.Errorf("the history accepted a DELETE")
	}
}

// TestReadersOfOneCaseNeverWait: 32 readers of one case at once are all logged while another
// session holds the case's row and the per-case lock the access log used to take: no reader
// waits on a lock, every line lands in a writer's chain, and the chains verify.
func TestReadersOfOneCaseNeverWait(t *testing.T) {
	f := newAccessFixture(t)
	ctx := context.Background()
	c := f.register(t, "Читаемый Тест")
	holder, err := f.db.SQL.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Rollback() //nolint:errcheck // after the explicit Rollback it does nothing
	if _, err := holder.ExecContext(ctx, "SELECT pg_advisory_xact_lock(7002, hashtext($1::uuid::text))", c.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := holder.ExecContext(ctx, "SELECT 1 FROM cases WHERE id = $1 FOR UPDATE", c.ID); err != nil {
		t.Fatal(err)
	}
	// a reader that waited on either lock would wait for the holder, which waits for all of them
	rctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	var wg sync.WaitGroup
	errs := make(chan error, 32)
	for i := 0; i < 32; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			e := domain.AccessEntry{ActorID: fmt.Sprintf("u%d", i), ActorKind: domain.ActorUser, Role: "specialist", Method: "GET",
				Route: "/api/v1/cases/:id", RequestID: fmt.Sprintf("r%d", i), At: time.Now()}
			errs <- f.log.Record(rctx, []string{c.ID}, e)
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("a reader of a case someone else holds: %v", err)
		}
	}
	var advisory int
	if err := f.db.SQL.QueryRowContext(ctx, `SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid <> $1
		AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
		txPID(t, holder)).Scan(&advisory); err != nil {
		t.Fatal(err)
	}
	if advisory != 0 {
		t.Errorf("%d advisory locks held by others than the holder", advisory)
	}
	if err := holder.Rollback(); err != nil {
		t.Fatal(err)
	}
	rep := verify(t, f.db)
	if len(rep.Breaks) != 0 || rep.AccessLines != 32 || rep.Writers != 1 {
		t.Fatalf("after 32 readers: %d lines in %d writers' chains, breaks %+v", rep.AccessLines, rep.Writers, rep.Breaks)
	}
}

func txPID(t *testing.T, tx interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}) int {
	t.Helper()
	var pid int
	if err := tx.QueryRowContext(context.Background(), "SELECT pg_backend_pid()").Scan(&pid); err != nil {
		t.Fatal(err)
	}
	return pid
}

// TestPerCaseChainsStillVerify: lines written before the writers' chains (chained per case)
// verify beside the new ones, tampering with them is still reported, and new lines of the
// same case go to the writer's chain.
func TestPerCaseChainsStillVerify(t *testing.T) {
	f := newAccessFixture(t)
	ctx := context.Background()
	a, b := f.register(t, "Старый Первый"), f.register(t, "Старый Второй")
	for _, id := range []string{a.ID, b.ID} {
		if err := store.LegacyAccessLines(ctx, f.db, id, 3); err != nil {
			t.Fatal(err)
		}
	}
	e := domain.AccessEntry{ActorID: "u", ActorKind: domain.ActorUser, Role: "specialist", Method: "GET", Route: "/x", At: time.Now()}
	if err := f.log.Record(ctx, []string{a.ID, b.ID}, e); err != nil {
		t.Fatal(err)
	}
	rep := verify(t, f.db)
	if len(rep.Breaks) != 0 || rep.AccessLines != 8 || rep.Writers != 1 {
		t.Fatalf("old and new chains: %d lines, %d writers, breaks %+v", rep.AccessLines, rep.Writers, rep.Breaks)
	}
	exec(t, f.db, "ALTER TABLE access_log DISABLE TRIGGER access_log_append_only")
	exec(t, f.db, "UPDATE access_log SET route = '/y' WHERE case_id = ? AND seq = 2 AND writer_id IS NULL", b.ID)
	exec(t, f.db, "DELETE FROM access_log WHERE case_id = ? AND seq = 2 AND writer_id IS NULL", a.ID)
	exec(t, f.db, "ALTER TABLE access_log ENABLE TRIGGER access_log_append_only")
	rep = verify(t, f.db)
	var changed, removed bool
	for _, br := range rep.Breaks {
		changed = changed || (br.Chain == "access" && br.CaseID == b.ID && br.Writer == 0 && br.Seq == 2)
		removed = removed || (br.Chain == "access" && br.CaseID == a.ID && br.Writer == 0 && br.Seq == 3)
	}
	if !changed || !removed || len(rep.Breaks) != 3 {
		t.Errorf("per-case chain tampering: changed reported %v, removed %v: %+v", changed, removed, rep.Breaks)
	}
}

// TestAuditChainsUnderConcurrency: many readers of the same cases at once and racing commands
// on one case leave every chain whole.
func TestAuditChainsUnderConcurrency(t *testing.T) {
	f := newAccessFixture(t)
	ctx := context.Background()
	a, b, c := f.register(t, "Альфа Тест"), f.register(t, "Бета Тест"), f.register(t, "Гамма Тест")
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for i := 0; i < 24; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ids := [][]string{{a.ID, b.ID}, {b.ID, c.ID}, {c.ID, a.ID, b.ID}}[i%3]
			for j := 0; j < 5; j++ {
				e := domain.AccessEntry{ActorID: "u", ActorKind: domain.ActorUser, Role: "specialist", Method: "GET", Route: "/x", At: time.Now()}
				if err := f.log.Record(ctx, ids, e); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	today := domain.DateOf(time.Now())
	var changed atomic.Int64
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// each change is logged as the API logs it, after the change and before the answer,
			// racing the readers' lines on case a
			t := []domain.DocType{domain.DocPassport, domain.DocSNILS, domain.DocApplication, domain.DocIncomeCertificate}[i%4]
			_, err := f.service.RecordDocument(ctx, sys, a.ID, t, 0, domain.DocumentUpdate{Status: domain.DocRequested, IssuedOn: &today})
			if err == nil {
				e := domain.AccessEntry{ActorID: "u2", ActorKind: domain.ActorUser, Role: "specialist", Method: "PUT", Route: "/x", At: time.Now()}
				err = f.log.Record(ctx, []string{a.ID}, e)
			}
			if err == nil {
				changed.Add(1)
			} else if domain.ErrorCode(err) != domain.ESTALE {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	rep := verify(t, f.db)
	if len(rep.Breaks) != 0 || rep.AccessLines != 24*5*2+8*5+int(changed.Load()) || changed.Load() == 0 {
		t.Fatalf("after concurrent work (%d changes): %d access lines, breaks %+v", changed.Load(), rep.AccessLines, rep.Breaks)
	}
}

// TestSealHistory: lines without a hash (a bulk load) are adopted once; a case with sealed lines
// is never re-chained, so a line slipped in later stays a break.
func TestSealHistory(t *testing.T) {
	f := newAccessFixture(t)
	ctx := context.Background()
	a := f.register(t, "Пакетный Тест")
	b := f.register(t, "Запечатанный Тест")
	exec(t, f.db, "ALTER TABLE case_history DISABLE TRIGGER case_history_append_only")
	exec(t, f.db, "UPDATE case_history SET hash = '', prev_hash = '' WHERE case_id = ?", a.ID)
	exec(t, f.db, "ALTER TABLE case_history ENABLE TRIGGER case_history_append_only")
	exec(t, f.db, "UPDATE cases SET version = 2 WHERE id = ?", b.ID)
	exec(t, f.db, `INSERT INTO case_history (case_id, version, event, to_state, actor_id, at) VALUES (?, 2, 'forged', 'intake', 'x', now())`, b.ID)
	if rep := verify(t, f.db); rep.Unsealed != 2 || len(rep.Breaks) != 1 {
		t.Fatalf("before sealing: %+v", rep)
	}
	n, err := store.SealHistory(ctx, f.db)
	if err != nil || n != 1 {
		t.Fatalf("seal: %d lines, %v", n, err)
	}
	rep := verify(t, f.db)
	if rep.Unsealed != 1 || len(rep.Breaks) != 1 || rep.Breaks[0].CaseID != b.ID {
		t.Fatalf("after sealing: %+v", rep)
	}
	// The trigger lets the sealing fill in hashes, and nothing else.
	err = f.db.Gorm.Transaction(func(tx *gorm.DB) error {
		tx.Exec("SET LOCAL carepath.sealing = 'on'")
		return tx.Exec("UPDATE case_history SET comment = 'x', hash = 'y' WHERE case_id = ? AND version = 2", b.ID).Error
	})
	if err == nil {
		t.Errorf("the sealing exception let a comment change")
	}
}

// TestRekey: after a new key is put first, rekey re-seals every case, and the old key can go.
func TestRekey(t *testing.T) {
	oldKey, newKey := randomKey(t), randomKey(t)
	f := newAccessFixture(t, oldKey)
	ctx := context.Background()
	var ids []string
	for _, n := range []string{"Один Тест", "Два Тест", "Три Тест"} {
		ids = append(ids, f.register(t, n).ID)
	}
	both, err := store.NewSealer([][]byte{newKey, oldKey})
	if err != nil {
		t.Fatal(err)
	}
	// One case changes under the new key before the pass: it is already current.
	casesBoth := store.NewCases(f.db, both)
	svcBoth := &domain.Service{Cases: casesBoth, Calendar: store.NewCalendars(f.db), Settings: domain.DefaultSettings()}
	c, err := casesBoth.Get(ctx, ids[0])
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svcBoth.Fire(ctx, sys, c.ID, c.Version, domain.EventCommand{Event: domain.RequestDocuments}); err != nil {
		t.Fatal(err)
	}
	res, err := store.Rekey(ctx, f.db, both, 2)
	if err != nil || res.Resealed != 2 {
		t.Fatalf("rekey: %+v, %v", res, err)
	}
	if res, err := store.Rekey(ctx, f.db, both, 2); err != nil || res.Resealed != 0 {
		t.Fatalf("second pass should find nothing: %+v, %v", res, err)
	}
	onlyNew, err := store.NewSealer([][]byte{newKey})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		c, err := store.NewCases(f.db, onlyNew).Get(ctx, id)
		if err != nil {
			t.Fatalf("case %s with the new key only: %v", id, err)
		}
		if c.Applicant.SNILS != "112-233-445 95" || c.Applicant.Address == "" {
			t.Errorf("case %s personal data after rekey: %+v", id, c.Applicant)
		}
	}
	// Nothing readable is left in clear.
	var clear int
	if err := f.db.Gorm.Raw("SELECT count(*) FROM cases WHERE position('112-233' in encode(personal, 'escape')) > 0").Scan(&clear).Error; err != nil {
		t.Fatal(err)
	}
	if clear != 0 {
		t.Errorf("%d cases hold the SNILS in clear", clear)
	}
}

// TestChangeLinesChainPerCase: a command that comes through a request writes its access line
// with its change, chained per case at the new version (no lock, no second commit); the lines
// verify, and a changed or removed line is reported.
func TestChangeLinesChainPerCase(t *testing.T) {
	f := newAccessFixture(t)
	ctx := context.Background()
	user := domain.Actor{ID: "u1", Name: "Специалист", Kind: domain.ActorUser, Role: domain.RoleSpecialist,
		Via: &domain.Via{Method: "POST", Route: "/api/v1/cases/:id/events", RequestID: "r1"}}
	c, _, err := f.service.Register(ctx, user, domain.NewCase{Channel: domain.ChannelHotline, FacilityType: domain.ElderlyDisabled,
		Applicant: domain.Applicant{FullName: "Цепочкин Тест", BirthDate: domain.NewDate(1940, 1, 2), Gender: "male",
			SNILS: "112-233-445 95", Address: "Москва", LegalCapacity: domain.Capable}, Contacts: []domain.Contact{}})
	if err != nil {
		t.Fatal(err)
	}
	c, err = f.service.Fire(ctx, sys, c.ID, c.Version, domain.EventCommand{Event: domain.RequestDocuments}) // the system: no line
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range []domain.EventName{domain.Withdraw} {
		if c, err = f.service.Fire(ctx, user, c.ID, c.Version, domain.EventCommand{Event: ev}); err != nil {
			t.Fatal(err)
		}
	}
	var seqs []int
	if err := f.db.Gorm.Raw("SELECT seq FROM access_log WHERE case_id = ? AND writer_id = 0 ORDER BY seq", c.ID).Scan(&seqs).Error; err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(seqs, []int{1, 3}) {
		t.Fatalf("the case's change lines are at versions %v, want [1 3]", seqs)
	}
	if rep := verify(t, f.db); len(rep.Breaks) != 0 || rep.AccessLines != 2 {
		t.Fatalf("change lines: %d lines, breaks %+v", rep.AccessLines, rep.Breaks)
	}
	exec(t, f.db, "ALTER TABLE access_log DISABLE TRIGGER access_log_append_only")
	exec(t, f.db, "UPDATE access_log SET actor_id = 'someone-else' WHERE case_id = ? AND writer_id = 0 AND seq = 3", c.ID)
	rep := verify(t, f.db)
	if len(rep.Breaks) != 1 || rep.Breaks[0].CaseID != c.ID || rep.Breaks[0].Seq != 3 {
		t.Errorf("changed change line: %+v", rep.Breaks)
	}
	exec(t, f.db, "UPDATE access_log SET actor_id = 'u1' WHERE case_id = ? AND writer_id = 0 AND seq = 3", c.ID)
	exec(t, f.db, "DELETE FROM access_log WHERE case_id = ? AND writer_id = 0 AND seq = 1", c.ID)
	exec(t, f.db, "ALTER TABLE access_log ENABLE TRIGGER access_log_append_only")
	rep = verify(t, f.db)
	if len(rep.Breaks) != 1 || rep.Breaks[0].CaseID != c.ID || rep.Breaks[0].Seq != 3 {
		t.Errorf("removed change line: %+v", rep.Breaks)
	}
}
