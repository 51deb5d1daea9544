package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"carepath/store/dbtest"
)

// TestReadURLOnStandby: `carepath serve` with DATABASE_URL on a primary and DATABASE_READ_URL on
// its streaming standby. Every command goes to the primary (the standby would refuse it), the
// relatives' lookup shows the waiting position from the standby's snapshot, and the standby
// does serve carepath's reads. With the standby stopped, lookups still answer with the true
// position, counted on the primary. `make test-standby` (CAREPATH_STANDBY_TEST=1).
func TestReadURLOnStandby(t *testing.T) {
	if os.Getenv("CAREPATH_STANDBY_TEST") == "" {
		t.Skip("builds a PostgreSQL primary and standby of its own: make test-standby")
	}
	pg := startPGPair(t)
	readURL := fmt.Sprintf("postgres://postgres@127.0.0.1:%d/carepath?sslmode=disable", pg.standby)
	vars := map[string]string{"DATABASE_URL": pg.url(pg.primary), "DATABASE_READ_URL": readURL, "REDIS_URL": dbtest.RedisURL(t),
		"LOG_LEVEL": "warn", "HTTP_ADDR": fmt.Sprintf("127.0.0.1:%d", freePort(t)), "DB_MAX_CONNS": "8", "SHUTDOWN_TIMEOUT": "2s",
		"AUTO_ASSIGN": "false"}
	token := specialistToken(t, vars)
	var errs syncBuffer
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"serve"}, env(vars), &syncBuffer{}, &errs) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v\n%s", err, errs.String())
		}
	}()
	base := "http://" + vars["HTTP_ADDR"]
	waitUntil(t, 30*time.Second, "carepath ready", func() bool {
		r, err := http.Get(base + "/readyz")
		if err == nil {
			r.Body.Close()
		}
		return err == nil && r.StatusCode == 200
	})
	client := &http.Client{Timeout: 30 * time.Second}
	call := func(_, method, path, ifMatch string, body any) (int, int, map[string]any) {
		resp, err := client.Do(apiRequest(base, token, method, path, ifMatch, body))
		if err != nil {
			t.Fatalf("%s %s: %v\n%s", method, path, err, errs.String())
		}
		defer resp.Body.Close()
		var m map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&m)
		v, _ := strconv.Atoi(strings.Trim(strings.TrimPrefix(resp.Header.Get("ETag"), "W/"), `"`))
		return resp.StatusCode, v, m
	}
	p := newChaosPlacement(call, token, "", func(string, int) {})
	type waiting struct{ number, code string }
	var list []waiting
	add := func() {
		t.Helper()
		id, _, number, code := p.registerWaiting(newCaseBody("capable", ""))
		if id == "" {
			t.Fatal("a case did not reach the waiting list: a command refused (sent to the standby?)")
		}
		list = append(list, waiting{number, code})
	}
	for range 3 {
		add()
	}
	lookup := func() []int {
		var pos []int
		for _, w := range list {
			st, _, m := call("", "POST", "/api/v1/status", "", map[string]any{"case_number": w.number, "access_code": w.code})
			if st != http.StatusOK {
				t.Fatalf("status of %s: %d %v", w.number, st, m)
			}
			n, _ := m["waiting_position"].(float64)
			pos = append(pos, int(n))
		}
		return pos
	}
	if got := fmt.Sprint(lookup()); got != "[1 2 3]" {
		t.Fatalf("waiting positions with the snapshot on the standby: %s, want [1 2 3]", got)
	}
	var readers int
	if err := pg.query(pg.standby, "SELECT count(*) FROM pg_stat_activity WHERE datname = 'carepath' AND backend_type = 'client backend'", &readers); err != nil || readers == 0 {
		t.Fatalf("carepath's sessions on the standby: %d (%v), want its read pool there", readers, err)
	}
	// The standby goes away (or lags): a case that joins the list now is not in the snapshot,
	// and its position is counted on the primary. (The primary first stops waiting for it, as
	// an operator would: docs/OPERATIONS.md.)
	conn, err := pgx.Connect(ctx, fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", pg.primary))
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"ALTER SYSTEM SET synchronous_standby_names = ''", "SELECT pg_reload_conf()"} {
		if _, err := conn.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	conn.Close(ctx)
	pg.stop(filepath.Join(pg.dir, "standby"))
	add()
	if got := fmt.Sprint(lookup()); got != "[1 2 3 4]" {
		t.Fatalf("waiting positions with the standby stopped: %s, want [1 2 3 4]", got)
	}
}
