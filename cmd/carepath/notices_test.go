package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"carepath/domain"
	"carepath/jobs"
	"carepath/store"
	"carepath/store/dbtest"
)

// TestWorkerProcess is the worker run in a child process by the tests below (it is skipped in
// a normal run).
func TestWorkerProcess(t *testing.T) {
	if os.Getenv("CAREPATH_CHILD_WORKER") != "1" {
		t.Skip("runs only as a child process")
	}
	// The child stops when its parent goes away (its stdin closes), so a parent that dies
	// cannot leave a worker behind.
	ctx, cancel := context.WithCancel(context.Background())
	go func() { _, _ = io.Copy(io.Discard, os.Stdin); cancel() }()
	if err := run(ctx, []string{"worker"}, os.Getenv, io.Discard, os.Stderr); err != nil {
		t.Fatal(err)
	}
}

// TestWorkerKilledMidDeliveryDeliversOnRestart kills a worker process (SIGKILL) while the
// partner's server holds its webhook request, starts another, and checks that the notice is
// delivered and that the partner saw the repeat with the same Idempotency-Key.
func TestWorkerKilledMidDeliveryDeliversOnRestart(t *testing.T) {
	dbURL, redisURL := dbtest.URL(t), dbtest.RedisURL(t)
	db, err := store.Open(context.Background(), dbURL, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()

	var mu sync.Mutex
	var keys []string
	var sigOK []bool
	held := make(chan struct{})
	release := make(chan struct{})
	defer close(release)
	sink := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		keys = append(keys, r.Header.Get("Idempotency-Key"))
		// the Standard Webhooks signature, its id the idempotency key, and the legacy one (on by default)
		sigOK = append(sigOK, r.Header.Get("Webhook-Id") == r.Header.Get("Idempotency-Key") &&
			jobs.VerifyStandard("s3cret", r.Header.Get("Webhook-Id"), r.Header.Get("Webhook-Timestamp"), body, r.Header.Get("Webhook-Signature")) &&
			jobs.VerifySignature("s3cret", r.Header.Get("X-Carepath-Timestamp"), body, r.Header.Get("X-Carepath-Signature")))
		first := len(keys) == 1
		mu.Unlock()
		if first {
			close(held) // the worker is now mid-delivery
			select {
			case <-release:
			case <-r.Context().Done(): // the worker died: its connection closed
			}
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	defer sink.Close()

	var agency string
	if err := db.Gorm.Raw("INSERT INTO agencies (name, kind, webhook_url, webhook_secret) VALUES ('Опека', 'guardianship', ?, 's3cret') RETURNING id", sink.URL).Scan(&agency).Error; err != nil {
		t.Fatal(err)
	}
	sealer, _ := store.NewSealer([][]byte{devDataKey})
	svc := &domain.Service{Cases: store.NewCases(db, sealer), Calendar: store.NewCalendars(db), Settings: domain.DefaultSettings()}
	c, _, err := svc.Register(context.Background(), domain.System, domain.NewCase{Channel: domain.ChannelMFC, FacilityType: domain.ElderlyDisabled,
		GuardianshipID: agency, Applicant: domain.Applicant{FullName: "Иванова Мария Петровна", BirthDate: domain.MustDate("1941-03-15"),
			Gender: "female", SNILS: "112-233-445 95", Address: "Москва", LegalCapacity: domain.Incapacitated}})
	if err != nil {
		t.Fatal(err)
	}

	child := func() *exec.Cmd {
		cmd := exec.Command(os.Args[0], "-test.run=^TestWorkerProcess$")
		cmd.Env = append(os.Environ(), "CAREPATH_CHILD_WORKER=1", "DATABASE_URL="+dbURL, "REDIS_URL="+redisURL, "LOG_LEVEL=error",
			"NOTICE_HOLD=3s", "WEBHOOK_TIMEOUT=2s", "WEBHOOK_ALLOW_PRIVATE=true", "RELAY_LEASE=1s", "RELAY_POLL_INTERVAL=200ms", "SHUTDOWN_TIMEOUT=1s")
		cmd.Stderr = os.Stderr
		if _, err := cmd.StdinPipe(); err != nil { // held open while this test process lives
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
		return cmd
	}
	first := child()
	select {
	case <-held:
	case <-time.After(30 * time.Second):
		t.Fatal("the first worker never reached the partner")
	}
	if err := first.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = first.Wait()

	child()
	status := func() (string, int) {
		var r struct {
			Status   string
			Attempts int
		}
		db.Gorm.Raw("SELECT status, attempts FROM notices WHERE case_id = ?", c.ID).Scan(&r)
		return r.Status, r.Attempts
	}
	end := time.Now().Add(30 * time.Second)
	for st, _ := status(); st != "delivered"; st, _ = status() {
		if time.Now().After(end) {
			t.Fatalf("the notice is %s 30s after the restart", st)
		}
		time.Sleep(50 * time.Millisecond)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(keys) != 2 || keys[0] != keys[1] || !strings.HasPrefix(keys[0], "cpn_") || !sigOK[0] || !sigOK[1] {
		t.Errorf("the partner saw keys %v (signatures %v); want the same key twice, signed", keys, sigOK)
	}
	if _, attempts := status(); attempts != 2 {
		t.Errorf("%d attempts recorded, want 2 (the killed one and the delivery)", attempts)
	}
}
