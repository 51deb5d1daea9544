package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"carepath/store/dbtest"
)

// syncBuffer collects what run writes from several goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func env(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// waitFor polls until cond holds or the time is up.
func waitFor(t *testing.T, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func status(url string) int {
	resp, err := http.Get(url)
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	return resp.StatusCode
}

// ownRedis starts a private redis-server on a free port so the test can stop and start it.
func ownRedis(t *testing.T, port int) (stop func()) {
	t.Helper()
	cmd := exec.Command("redis-server", "--port", fmt.Sprint(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no")
	if err := cmd.Start(); err != nil {
		t.Skipf("redis-server not available: %v", err)
	}
	waitFor(t, "redis-server", 10*time.Second, func() bool {
		c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err == nil {
			c.Close()
		}
		return err == nil
	})
	stopped := false
	stop = func() {
		if !stopped {
			stopped = true
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	}
	t.Cleanup(stop)
	return stop
}

// TestServeReadinessFollowsRedis runs the real program: /readyz is 503 naming Redis while
// Redis is down, /healthz stays 200, and readiness comes back without a restart. Cancelling the
// context (SIGTERM) shuts down cleanly with a nil error.
func TestServeReadinessFollowsRedis(t *testing.T) {
	redisPort := freePort(t)
	stopRedis := ownRedis(t, redisPort)
	httpPort := freePort(t)
	base := fmt.Sprintf("http://127.0.0.1:%d", httpPort)
	vars := map[string]string{
		"DATABASE_URL": dbtest.URL(t), "REDIS_URL": fmt.Sprintf("redis://127.0.0.1:%d/0", redisPort),
		"HTTP_ADDR": fmt.Sprintf("127.0.0.1:%d", httpPort), "BOOTSTRAP_ADMIN_TOKEN": "test-token-123456", "SHUTDOWN_TIMEOUT": "5s",
	}
	ctx, cancel := context.WithCancel(context.Background())
	var stdout, stderr syncBuffer
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"all"}, env(vars), &stdout, &stderr) }()
	waitFor(t, "/healthz", 20*time.Second, func() bool { return status(base+"/healthz") == 200 })
	if s := status(base + "/readyz"); s != 200 {
		t.Fatalf("readyz with everything up: %d\n%s", s, stderr.String())
	}
	stopRedis()
	resp, err := http.Get(base + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	var p map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&p); err != nil {
		t.Fatalf("readyz body: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != 503 || !strings.Contains(fmt.Sprint(p["detail"]), "redis") || strings.Contains(fmt.Sprint(p["detail"]), "postgres") {
		t.Fatalf("readyz with redis down: %d %v", resp.StatusCode, p)
	}
	if s := status(base + "/healthz"); s != 200 {
		t.Fatalf("healthz with redis down: %d", s)
	}
	ownRedis(t, redisPort)
	waitFor(t, "readyz to recover", 20*time.Second, func() bool { return status(base+"/readyz") == 200 })

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("shutdown returned %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("no graceful shutdown within 20 s")
	}
	if !strings.Contains(stderr.String(), `"msg":"http server stopped"`) || !strings.Contains(stderr.String(), `"msg":"worker stopped"`) {
		t.Fatalf("shutdown not logged:\n%s", stderr.String())
	}
	if strings.Contains(stderr.String(), "Failed to close redis client") {
		t.Fatalf("a clean stop logged an error closing Redis:\n%s", stderr.String())
	}
	if !strings.Contains(stderr.String(), `"route":"/readyz","status":503`) {
		t.Fatalf("the access log lacks the 503 line:\n%s", stderr.String())
	}
}

func TestSeedIsIdempotent(t *testing.T) {
	vars := map[string]string{"DATABASE_URL": dbtest.URL(t), "REDIS_URL": dbtest.RedisURL(t)}
	var out1, out2, errs syncBuffer
	if err := run(context.Background(), []string{"seed"}, env(vars), &out1, &errs); err != nil {
		t.Fatalf("seed: %v\n%s", err, errs.String())
	}
	if !strings.Contains(out1.String(), "access code CAREPATH2345") || !strings.Contains(out1.String(), "cases created, 0 already there") {
		t.Fatalf("first seed: %s", out1.String())
	}
	if err := run(context.Background(), []string{"seed"}, env(vars), &out2, &errs); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out2.String(), "0 cases created") {
		t.Fatalf("second seed changed something: %s", out2.String())
	}
}

func TestBadConfigurationNamesTheVariable(t *testing.T) {
	for name, value := range map[string]string{
		"HTTP_ADDR": "nowhere", "DATABASE_URL": "mysql://x", "DATABASE_READ_URL": "localhost/replica", "REDIS_URL": "localhost", "LOG_LEVEL": "loud",
		"DATA_KEY": "c2hvcnQ=", "DB_MAX_CONNS": "-1", "SHUTDOWN_TIMEOUT": "soon", "DOCUMENT_VALIDITY_MONTHS": "passport=x",
		"WEBHOOK_ALLOW_PRIVATE": "perhaps", "METRICS_TOKEN": "short", "WEBHOOK_LEGACY_SIGNATURE": "maybe",
	} {
		err := run(context.Background(), []string{"serve"}, env(map[string]string{name: value}), &syncBuffer{}, &syncBuffer{})
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s=%q: got %v, want an error naming %s", name, value, err, name)
		}
	}
	if err := run(context.Background(), []string{"fly"}, env(nil), &syncBuffer{}, &syncBuffer{}); err == nil || !strings.Contains(err.Error(), "unknown command") {
		t.Errorf("unknown command: %v", err)
	}
}

func TestMigrateCommands(t *testing.T) {
	vars := map[string]string{"DATABASE_URL": dbtest.URL(t)}
	var out syncBuffer
	if err := run(context.Background(), []string{"migrate", "status"}, env(vars), &out, &syncBuffer{}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "00001_cases.sql\tapplied") {
		t.Fatalf("status: %s", out.String())
	}
	out = syncBuffer{}
	if err := run(context.Background(), []string{"migrate", "up"}, env(vars), &out, &syncBuffer{}); err != nil || !strings.Contains(out.String(), "nothing to apply") {
		t.Fatalf("up on a migrated database: %v %s", err, out.String())
	}
	f, _ := os.CreateTemp(t.TempDir(), "cal*.csv")
	if _, err := f.WriteString("date,kind,note\n2028-01-03,holiday,New Year\n"); err != nil {
		t.Fatal(err)
	}
	f.Close()
	out = syncBuffer{}
	if err := run(context.Background(), []string{"calendar", "import", f.Name()}, env(vars), &out, &syncBuffer{}); err != nil || !strings.Contains(out.String(), "1 days imported") {
		t.Fatalf("calendar import: %v %s", err, out.String())
	}
}

// TestREADMEListsEveryVariable keeps the README's configuration table and configVars as one.
func TestREADMEListsEveryVariable(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range configVars {
		if !strings.Contains(string(b), "| `"+v.name+"` |") {
			t.Errorf("README.md configuration table lacks %s", v.name)
		}
	}
}

// TestRedisDatabaseOutOfRangeFailsAtStart: a Redis database the server does not have, or not a
// number, stops serve at start with a line naming REDIS_URL (not a /readyz that never turns ready).
func TestRedisDatabaseOutOfRangeFailsAtStart(t *testing.T) {
	for _, u := range []string{"redis://127.0.0.1:6379/99", "redis://127.0.0.1:6379/-1", "redis://127.0.0.1:6379/zero"} {
		// a serve that started is stopped after a while, and fails the test by its error
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err := run(ctx, []string{"serve"}, env(map[string]string{"REDIS_URL": u}), &syncBuffer{}, &syncBuffer{})
		cancel()
		if err == nil || !strings.Contains(err.Error(), "REDIS_URL") || !strings.Contains(err.Error(), "0 to 15") {
			t.Errorf("REDIS_URL=%s: got %v, want an error naming REDIS_URL and the databases 0 to 15", u, err)
		}
	}
	if _, err := parseRedis("redis://127.0.0.1:6379/15", true, "", ""); err != nil {
		t.Errorf("database 15: %v", err)
	}
}
