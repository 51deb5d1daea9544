package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"carepath/store/dbtest"
)

// pgPair is a PostgreSQL primary and its streaming standby, built locally with initdb and
// pg_basebackup from Debian's binaries (PG_BIN, default /usr/lib/postgresql/15/bin) in a
// directory of their own, on free 127.0.0.1 ports, run as the postgres user when the test
// runs as root. The standby is synchronous: a commit is acknowledged once the standby has it,
// which is what lets a failover lose nothing acknowledged.
type pgPair struct {
	t                *testing.T
	bin, dir         string
	primary, standby int
	cred             *syscall.Credential
}

func startPGPair(t *testing.T) *pgPair {
	t.Helper()
	p := &pgPair{t: t, bin: os.Getenv("PG_BIN"), primary: freePort(t), standby: freePort(t)}
	if p.bin == "" {
		p.bin = "/usr/lib/postgresql/15/bin"
	}
	if _, err := os.Stat(filepath.Join(p.bin, "pg_basebackup")); err != nil {
		t.Fatalf("PostgreSQL's binaries are not in %s (set PG_BIN): %v", p.bin, err)
	}
	dir, err := os.MkdirTemp("", "carepath-standby-")
	if err != nil {
		t.Fatal(err)
	}
	p.dir = dir
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	if os.Geteuid() == 0 { // initdb refuses root
		u, err := user.Lookup("postgres")
		if err != nil {
			t.Fatalf("running as root needs the postgres user: %v", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		p.cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
		if err := os.Chown(dir, uid, gid); err != nil {
			t.Fatal(err)
		}
	}
	primary, standby := filepath.Join(dir, "primary"), filepath.Join(dir, "standby")
	p.pg("initdb", "-D", primary, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync")
	// fsync off: the test kills processes, not the machine; replication is what is under test.
	p.conf(filepath.Join(primary, "postgresql.conf"), fmt.Sprintf("port = %d\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '%s'\n"+
		"wal_level = replica\nmax_wal_senders = 4\nsynchronous_standby_names = 'carepath_standby'\nfsync = off\nmax_connections = 100\n", p.primary, dir))
	p.pg("pg_ctl", "-D", primary, "-l", filepath.Join(dir, "primary.log"), "-w", "start")
	t.Cleanup(func() { p.stop(primary) })
	p.pg("pg_basebackup", "-h", "127.0.0.1", "-p", strconv.Itoa(p.primary), "-U", "postgres", "-D", standby, "-X", "stream", "-R", "--no-sync")
	// Promoted, the standby runs alone: were it to keep the primary's synchronous_standby_names,
	// every commit would wait for a standby that is not there (docs/OPERATIONS.md).
	p.conf(filepath.Join(standby, "postgresql.auto.conf"), fmt.Sprintf("port = %d\nprimary_conninfo = 'host=127.0.0.1 port=%d user=postgres application_name=carepath_standby'\n"+
		"synchronous_standby_names = ''\n", p.standby, p.primary))
	p.pg("pg_ctl", "-D", standby, "-l", filepath.Join(dir, "standby.log"), "-w", "start")
	t.Cleanup(func() { p.stop(standby) })
	waitUntil(t, 30*time.Second, "the standby streaming synchronously", func() bool {
		var state string
		_ = p.query(p.primary, "SELECT sync_state FROM pg_stat_replication WHERE application_name = 'carepath_standby'", &state)
		return state == "sync"
	})
	return p
}

// pg runs one of PostgreSQL's programs as the postgres user.
func (p *pgPair) pg(name string, args ...string) {
	p.t.Helper()
	cmd := exec.Command(filepath.Join(p.bin, name), args...)
	cmd.Dir = p.dir
	if p.cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: p.cred}
	}
	if out, err := cmd.CombinedOutput(); err != nil {
		p.t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
}

func (p *pgPair) conf(file, lines string) {
	p.t.Helper()
	f, err := os.OpenFile(file, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		p.t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString("\n# carepath standby test\n" + lines); err != nil {
		p.t.Fatal(err)
	}
}

func (p *pgPair) stop(dataDir string) {
	cmd := exec.Command(filepath.Join(p.bin, "pg_ctl"), "-D", dataDir, "-m", "immediate", "stop")
	if p.cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: p.cred}
	}
	_ = cmd.Run() // already stopped is fine
}

func (p *pgPair) url(ports ...int) string {
	hosts := make([]string, len(ports))
	for i, port := range ports {
		hosts[i] = fmt.Sprintf("127.0.0.1:%d", port)
	}
	return "postgres://postgres@" + strings.Join(hosts, ",") + "/carepath?sslmode=disable&target_session_attrs=read-write"
}

func (p *pgPair) query(port int, q string, dst ...any) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", port))
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	return conn.QueryRow(ctx, q).Scan(dst...)
}

// TestStandbyFailover drives commands through `carepath serve` (DATABASE_URL naming the
// primary and the standby, target_session_attrs=read-write), kills the primary, promotes the
// standby, and checks that commands resume without restarting carepath, that requests caught
// in the gap are answered 503 (nothing else of 5xx), and that every command answered 2xx is in
// the promoted database, its history gapless and the hash chains whole. It
// builds its own PostgreSQL pair, so `make test-standby` runs it (CAREPATH_STANDBY_TEST=1).
func TestStandbyFailover(t *testing.T) {
	if os.Getenv("CAREPATH_STANDBY_TEST") == "" {
		t.Skip("builds a PostgreSQL primary and standby of its own: make test-standby")
	}
	pg := startPGPair(t)
	dbURL := pg.url(pg.primary, pg.standby)
	vars := map[string]string{"DATABASE_URL": dbURL, "REDIS_URL": dbtest.RedisURL(t), "LOG_LEVEL": "error",
		"HTTP_ADDR": fmt.Sprintf("127.0.0.1:%d", freePort(t)), "DB_MAX_CONNS": "8", "SHUTDOWN_TIMEOUT": "2s"}
	token := specialistToken(t, vars)
	var errs syncBuffer

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"serve"}, env(vars), &syncBuffer{}, &errs) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
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

	// The load: four clients, each registering a case, requesting its documents, looking it up
	// as a relative would and withdrawing it, over and over. acked holds every case's highest
	// version answered 2xx.
	var mu sync.Mutex
	acked := map[string]int{}
	statuses := map[int]int{}
	firstRefusal := ""
	var lastOK atomic.Int64
	client := &http.Client{Timeout: 5 * time.Second}
	call := func(method, path, ifMatch string, body any) (int, http.Header, map[string]any) {
		req := apiRequest(base, token, method, path, ifMatch, body)
		resp, err := client.Do(req)
		if err != nil {
			mu.Lock()
			statuses[0]++
			mu.Unlock()
			return 0, nil, nil
		}
		defer resp.Body.Close()
		var m map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&m)
		mu.Lock()
		statuses[resp.StatusCode]++
		if resp.StatusCode >= 400 && firstRefusal == "" {
			firstRefusal = fmt.Sprintf("%s %s: %d %v", method, path, resp.StatusCode, m)
		}
		mu.Unlock()
		if resp.StatusCode < 300 {
			lastOK.Store(time.Now().UnixNano())
		}
		return resp.StatusCode, resp.Header, m
	}
	ack := func(id string, version int) {
		mu.Lock()
		acked[id] = max(acked[id], version)
		mu.Unlock()
	}
	newCase := newCaseBody("capable", "")
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 3000; i++ { // bounded; stopped long before
				select {
				case <-stop:
					return
				default:
				}
				st, _, c := call("POST", "/api/v1/cases", "", newCase)
				if st != http.StatusCreated {
					time.Sleep(20 * time.Millisecond)
					continue
				}
				id, _ := c["id"].(string)
				number, _ := c["number"].(string)
				code, _ := c["access_code"].(string)
				ack(id, 1)
				if st, _, _ := call("POST", "/api/v1/cases/"+id+"/events", `"1"`, map[string]any{"event": "request_documents"}); st == http.StatusOK {
					ack(id, 2)
				}
				call("POST", "/api/v1/status", "", map[string]any{"case_number": number, "access_code": code})
				if st, _, _ := call("POST", "/api/v1/cases/"+id+"/events", `"2"`, map[string]any{"event": "withdraw", "reason": "семья передумала"}); st == http.StatusOK {
					ack(id, 3)
				}
			}
		}()
	}
	countAcked := func() int { mu.Lock(); defer mu.Unlock(); return len(acked) }
	waitUntil(t, 30*time.Second, "commands under way", func() bool {
		mu.Lock()
		defer mu.Unlock()
		if statuses[http.StatusCreated] == 0 && len(statuses) > 0 && firstRefusal != "" {
			t.Fatalf("carepath refuses the load: %v %s", statuses, firstRefusal)
		}
		return len(acked) >= 50
	})

	// The primary dies; the standby is promoted at once (a real center's failover manager or
	// operator adds its detection time).
	killed := time.Now()
	pg.stop(filepath.Join(pg.dir, "primary"))
	pg.pg("pg_ctl", "-D", filepath.Join(pg.dir, "standby"), "-w", "promote")
	promoted := time.Since(killed)
	waitUntil(t, 30*time.Second, "a command answered after the failover", func() bool { return lastOK.Load() > killed.Add(promoted).UnixNano() })
	resumed := time.Duration(lastOK.Load() - killed.UnixNano())
	before := countAcked()
	waitUntil(t, 30*time.Second, "more commands on the promoted standby", func() bool { return countAcked() >= before+50 })
	close(stop)
	wg.Wait()

	// Everything acknowledged is in the promoted standby, with its history line per version.
	conn, err := pgx.Connect(context.Background(), fmt.Sprintf("postgres://postgres@127.0.0.1:%d/carepath?sslmode=disable", pg.standby))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	mu.Lock()
	defer mu.Unlock()
	for _, lost := range lostCommands(conn, acked) {
		t.Error(lost)
	}
	var verify syncBuffer
	if err := run(context.Background(), []string{"audit", "verify"}, env(map[string]string{"DATABASE_URL": pg.url(pg.standby)}), &verify, &syncBuffer{}); err != nil {
		t.Errorf("audit verify on the promoted standby: %v\n%s", err, verify.String())
	}
	for st, n := range statuses {
		if st >= 500 && st != http.StatusServiceUnavailable {
			t.Errorf("%d answers with status %d: while the database is away carepath answers 503", n, st)
		}
	}
	t.Logf("%d cases, every acknowledged command in the promoted standby; answers %v; standby promoted %s after the primary died, commands answered again after %s",
		len(acked), statuses, promoted.Round(time.Millisecond), resumed.Round(time.Millisecond))
}
