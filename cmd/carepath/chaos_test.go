package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"carepath/jobs"
)

// TestCarepathProcess is not a test: TestChaos starts it as a child process running the
// carepath command line in CAREPATH_CHILD_ARGS, so it can be killed with SIGKILL.
func TestCarepathProcess(t *testing.T) {
	args := os.Getenv("CAREPATH_CHILD_ARGS")
	if args == "" {
		t.Skip("a child process of TestChaos")
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	if err := run(ctx, strings.Fields(args), os.Getenv, io.Discard, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "carepath:", err)
		os.Exit(1)
	}
}

// chaosPlan is one run's schedule; every loop of the run is bounded by it.
type chaosPlan struct {
	load, killEvery, redisDownAt, redisDown, pgRestartAt, conflictAt time.Duration
}

var chaosPlans = map[string]chaosPlan{
	"quick": {load: 75 * time.Second, killEvery: 4 * time.Second, redisDownAt: 10 * time.Second, redisDown: 15 * time.Second,
		pgRestartAt: 40 * time.Second, conflictAt: 60 * time.Second},
	"full": {load: 6 * time.Minute, killEvery: 5 * time.Second, redisDownAt: 30 * time.Second, redisDown: 60 * time.Second,
		pgRestartAt: 150 * time.Second, conflictAt: 240 * time.Second},
}

// TestChaos is `make chaos-quick` (CAREPATH_CHAOS=quick, under 3 minutes) and `make chaos`
// (CAREPATH_CHAOS=full): carepath as separate processes (two `serve`, two `worker`) on a
// PostgreSQL primary with a synchronous standby and a Redis of its own, with a webhook receiver,
// all on 127.0.0.1. Clients register cases, fire events, record documents, log and search the
// hotline's contacts and look cases up; two placement clients take cases to the waiting list,
// issue vouchers for one small home, admit, discharge, and accept or decline the offers the freed
// beds make (chaos_placement_test.go). Meanwhile a random process is killed with SIGKILL and
// restarted every few seconds, Redis is stopped and started empty, PostgreSQL is restarted, and
// 64 conflicting events hit one case. At the end it checks: every 2xx command is in the history,
// each case's history gapless; every 2xx offer answer and contact stored; every case's notice
// exists and reached the receiver, never under two ids; no bed double-booked and `beds verify`
// clean; `audit verify` clean; no 5xx but 503 problem+json, and those only while PostgreSQL was
// down; answers again within 5 s of PostgreSQL's return; exactly one of the conflicting events won.
func TestChaos(t *testing.T) {
	mode := os.Getenv("CAREPATH_CHAOS")
	plan, ok := chaosPlans[mode]
	if !ok {
		t.Skip("make chaos-quick or make chaos (CAREPATH_CHAOS=quick|full)")
	}
	pg := startPGPair(t)
	dir := t.TempDir()
	redisPort := freePort(t)
	var redisCmd *exec.Cmd
	startRedis := func() {
		redisCmd = exec.Command("redis-server", "--bind", "127.0.0.1", "--port", strconv.Itoa(redisPort), "--save", "", "--appendonly", "no", "--dir", dir)
		if err := redisCmd.Start(); err != nil {
			t.Fatal(err)
		}
		waitUntil(t, 10*time.Second, "redis up", func() bool { return pingTCP(redisPort) })
	}
	startRedis()
	t.Cleanup(func() { _ = redisCmd.Process.Kill(); _ = redisCmd.Wait() })

	// the partner agency's receiver: notice id -> the webhook-ids it came under, and how often
	var rmu sync.Mutex
	ids := map[string]map[string]int{}
	badSig := 0
	receiver := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var n jobs.WebhookBody
		_ = json.Unmarshal(body, &n)
		rmu.Lock()
		if ids[n.NoticeID] == nil {
			ids[n.NoticeID] = map[string]int{}
		}
		ids[n.NoticeID][r.Header.Get("Webhook-Id")]++
		if !jobs.VerifyStandard("chaos-secret-0123456789", r.Header.Get("Webhook-Id"), r.Header.Get("Webhook-Timestamp"), body, r.Header.Get("Webhook-Signature")) {
			badSig++
		}
		rmu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}), ReadHeaderTimeout: 5 * time.Second}
	recvLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	receiver.Addr = recvLn.Addr().String()
	go func() { _ = receiver.Serve(recvLn) }()
	t.Cleanup(func() { _ = receiver.Close() })

	dbURL := pg.url(pg.primary)
	base := map[string]string{"DATABASE_URL": dbURL, "REDIS_URL": fmt.Sprintf("redis://127.0.0.1:%d/0", redisPort), "LOG_LEVEL": "error",
		"RELAY_LEASE": "3s", "RELAY_POLL_INTERVAL": "500ms", "NOTICE_HOLD": "4s", "WEBHOOK_TIMEOUT": "2s", "NOTICE_BACKOFF_BASE": "200ms",
		"NOTICE_BACKOFF_MAX": "2s", "NOTICE_MAX_ATTEMPTS": "1000", "SCAN_INTERVAL": "5s", "WORKER_CONCURRENCY": "16", "DB_MAX_CONNS": "8",
		"SHUTDOWN_TIMEOUT": "2s", "AUTH_CACHE_TTL": "0s", "WEBHOOK_ALLOW_PRIVATE": "true",
		// nobody is assigned and there are no supervisors: every notice of the run is a webhook
		// to the receiver (offers would otherwise mail a specialist, and there is no SMTP here)
		"AUTO_ASSIGN": "false"}
	token := specialistToken(t, base)
	adminToken := userToken(t, base, "Администратор хаоса", "admin")
	var agency string
	{
		conn, err := pgx.Connect(context.Background(), dbURL)
		if err != nil {
			t.Fatal(err)
		}
		err = conn.QueryRow(context.Background(), "INSERT INTO agencies (name, kind, webhook_url, webhook_secret) VALUES ('Опека', 'guardianship', $1, 'chaos-secret-0123456789') RETURNING id",
			"http://"+receiver.Addr+"/hook").Scan(&agency)
		conn.Close(context.Background())
		if err != nil {
			t.Fatal(err)
		}
	}

	// the carepath processes, each restartable
	type proc struct {
		args string
		env  []string
		cmd  *exec.Cmd
	}
	serveAddrs := []string{fmt.Sprintf("127.0.0.1:%d", freePort(t)), fmt.Sprintf("127.0.0.1:%d", freePort(t))}
	var procs []*proc
	environ := func(extra map[string]string) []string {
		e := append([]string{}, os.Environ()...)
		for k, v := range base {
			e = append(e, k+"="+v)
		}
		for k, v := range extra {
			e = append(e, k+"="+v)
		}
		return e
	}
	for _, a := range serveAddrs {
		procs = append(procs, &proc{args: "serve", env: environ(map[string]string{"HTTP_ADDR": a, "CAREPATH_CHILD_ARGS": "serve"})})
	}
	for range 2 {
		procs = append(procs, &proc{args: "worker", env: environ(map[string]string{"CAREPATH_CHILD_ARGS": "worker"})})
	}
	logPath := os.Getenv("CAREPATH_CHAOS_LOG") // the processes' logs; by default thrown away with the run
	if logPath == "" {
		logPath = filepath.Join(dir, "carepath.log")
	}
	logf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	start := func(p *proc) {
		p.cmd = exec.Command(os.Args[0], "-test.run=^TestCarepathProcess$")
		p.cmd.Env, p.cmd.Stdout, p.cmd.Stderr = p.env, logf, logf
		if err := p.cmd.Start(); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range procs {
		start(p)
	}
	t.Cleanup(func() {
		for _, p := range procs {
			_ = p.cmd.Process.Kill()
			_ = p.cmd.Wait()
		}
	})
	for _, a := range serveAddrs {
		waitUntil(t, 30*time.Second, "carepath serve at "+a, func() bool { return pingTCP(mustPort(a)) })
	}

	// the clients' view: every answer, by status, and whether PostgreSQL was down at the time
	var (
		mu                sync.Mutex
		acked             = map[string]int{} // case id -> highest version answered 2xx
		byStatus          = map[int]int{}
		breaches          []string
		requests, connErr atomic.Int64
		pgDown            atomic.Bool
		pgBackAt          atomic.Int64
		firstOKAfterPG    atomic.Int64
	)
	breach := func(f string, a ...any) {
		mu.Lock()
		if len(breaches) < 50 {
			breaches = append(breaches, fmt.Sprintf(f, a...))
		}
		mu.Unlock()
	}
	client := &http.Client{Timeout: 10 * time.Second}
	// call sends a request to one serve instance and, as a balancer would, to the other when
	// the first cannot be reached (it was killed); returns the status, the version in its ETag
	// and the body.
	callAs := func(token, method, path, ifMatch string, body any) (int, int, map[string]any) {
		first := rand.IntN(len(serveAddrs))
		for try := range len(serveAddrs) * 3 {
			addr := serveAddrs[(first+try)%len(serveAddrs)]
			req := apiRequest("http://"+addr, token, method, path, ifMatch, body)
			down := pgDown.Load()
			resp, err := client.Do(req)
			if err != nil {
				connErr.Add(1)
				time.Sleep(100 * time.Millisecond)
				continue
			}
			requests.Add(1)
			var m map[string]any
			_ = json.NewDecoder(resp.Body).Decode(&m)
			resp.Body.Close()
			mu.Lock()
			byStatus[resp.StatusCode]++
			mu.Unlock()
			if resp.StatusCode >= 500 {
				problem := strings.HasPrefix(resp.Header.Get("Content-Type"), "application/problem+json")
				back := pgBackAt.Load()
				recovering := back != 0 && time.Since(time.Unix(0, back)) < 5*time.Second
				pgAway := down || pgDown.Load() || recovering
				if resp.StatusCode != http.StatusServiceUnavailable || !problem || !pgAway {
					breach("%s %s answered %d (%s) with PostgreSQL %s: %v", method, path, resp.StatusCode, resp.Header.Get("Content-Type"), map[bool]string{true: "down", false: "up"}[down], m["detail"])
				}
			}
			if resp.StatusCode < 300 && pgBackAt.Load() != 0 {
				firstOKAfterPG.CompareAndSwap(0, time.Now().UnixNano())
			}
			v, _ := strconv.Atoi(strings.Trim(strings.TrimPrefix(resp.Header.Get("ETag"), "W/"), `"`))
			return resp.StatusCode, v, m
		}
		return 0, 0, nil
	}
	call := func(method, path, ifMatch string, body any) (int, int, map[string]any) {
		return callAs(token, method, path, ifMatch, body)
	}
	ack := func(id string, v int) {
		mu.Lock()
		acked[id] = max(acked[id], v)
		mu.Unlock()
	}
	newCase := newCaseBody("incapacitated", agency)
	// the home the placement clients fill, added by the admin before the load starts
	st, _, home := callAs(adminToken, "POST", "/api/v1/facilities", "", chaosHome)
	if st != http.StatusCreated {
		t.Fatalf("the chaos home: %d %v", st, home)
	}
	homeID, _ := home["id"].(string)
	placement := newChaosPlacement(callAs, token, homeID, ack)
	ctx, stopLoad := context.WithTimeout(context.Background(), plan.load)
	defer stopLoad()
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			placement.run(ctx, newCase)
		}()
	}
	for range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 100000 && ctx.Err() == nil; i++ {
				st, v, c := call("POST", "/api/v1/cases", "", newCase)
				if st != http.StatusCreated {
					time.Sleep(50 * time.Millisecond)
					continue
				}
				id, _ := c["id"].(string)
				number, _ := c["number"].(string)
				code, _ := c["access_code"].(string)
				ack(id, v)
				placement.logContact(id)
				if i%4 == 0 {
					placement.logContact("") // a call about no case yet
				}
				steps := []struct {
					method, path string
					body         map[string]any
				}{
					{"POST", "/api/v1/cases/" + id + "/events", map[string]any{"event": "request_documents"}},
					{"PUT", "/api/v1/cases/" + id + "/documents/passport", map[string]any{"status": "received"}},
					{"POST", "/api/v1/status", map[string]any{"case_number": number, "access_code": code}},
					{"POST", "/api/v1/cases/" + id + "/events", map[string]any{"event": "withdraw", "reason": "семья передумала"}},
				}
				for _, s := range steps {
					match := ""
					if s.path != "/api/v1/status" {
						match = strconv.Quote(strconv.Itoa(v))
					}
					if st, nv, _ := call(s.method, s.path, match, s.body); st >= 200 && st < 300 && nv > 0 {
						v = nv
						ack(id, v)
					}
				}
			}
		}()
	}

	// the chaos, on its schedule
	began := time.Now()
	kills := 0
	var pgGone, pgAnswered time.Duration
	conflict := struct{ won, lost, other int }{}
	redisStopped, redisStarted, pgRestarted, conflicted := false, false, false, false
	for ctx.Err() == nil {
		time.Sleep(plan.killEvery)
		el := time.Since(began)
		p := procs[rand.IntN(len(procs))]
		_ = p.cmd.Process.Signal(syscall.SIGKILL)
		_ = p.cmd.Wait()
		start(p)
		kills++
		switch {
		case !redisStopped && el >= plan.redisDownAt:
			_ = redisCmd.Process.Kill()
			_ = redisCmd.Wait()
			redisStopped = true
		case redisStopped && !redisStarted && el >= plan.redisDownAt+plan.redisDown:
			startRedis() // empty: no persistence
			redisStarted = true
		case !pgRestarted && el >= plan.pgRestartAt:
			pgDown.Store(true)
			t0 := time.Now()
			pg.stop(filepath.Join(pg.dir, "primary"))
			pg.pg("pg_ctl", "-D", filepath.Join(pg.dir, "primary"), "-l", filepath.Join(pg.dir, "primary.log"), "-w", "start")
			pgGone = time.Since(t0)
			pgBackAt.Store(time.Now().UnixNano())
			pgDown.Store(false)
			pgRestarted = true
		case !conflicted && el >= plan.conflictAt:
			// 64 withdrawals of one case at the same version: exactly one may win
			st, v, c := call("POST", "/api/v1/cases", "", newCase)
			if st == http.StatusCreated {
				id, _ := c["id"].(string)
				ack(id, v)
				var cwg sync.WaitGroup
				var cmu sync.Mutex
				for range 64 {
					cwg.Add(1)
					go func() {
						defer cwg.Done()
						st, nv, _ := call("POST", "/api/v1/cases/"+id+"/events", strconv.Quote(strconv.Itoa(v)), map[string]any{"event": "withdraw", "reason": "конфликт"})
						cmu.Lock()
						defer cmu.Unlock()
						switch st {
						case http.StatusOK:
							conflict.won++
							ack(id, nv)
						case http.StatusPreconditionFailed, http.StatusConflict:
							conflict.lost++
						default:
							conflict.other++
						}
					}()
				}
				cwg.Wait()
				if conflict.won != 1 {
					breach("64 conflicting withdrawals of case %s: %d won, want exactly 1 (%d lost, %d other)", id, conflict.won, conflict.lost, conflict.other)
				}
			}
			conflicted = true
		}
	}
	wg.Wait()
	if pgBackAt.Load() != 0 {
		waitUntil(t, 30*time.Second, "an answer after PostgreSQL's restart", func() bool { return firstOKAfterPG.Load() != 0 })
		pgAnswered = time.Duration(firstOKAfterPG.Load() - pgBackAt.Load())
		if pgAnswered > 5*time.Second {
			breach("the first answer came %s after PostgreSQL was back, want within 5 s", pgAnswered)
		}
	}

	// the end-of-run checks
	conn, err := pgx.Connect(context.Background(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	count := func(q string, args ...any) int {
		var n int
		if err := conn.QueryRow(context.Background(), q, args...).Scan(&n); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		return n
	}
	for end := time.Now().Add(90 * time.Second); count("SELECT count(*) FROM notices WHERE status <> 'delivered'") != 0; time.Sleep(200 * time.Millisecond) {
		if time.Now().After(end) {
			var summary string
			_ = conn.QueryRow(context.Background(), `SELECT string_agg(format('%s attempts=%s due_in=%ss queued_for=%ss: %s', status, attempts,
				round(extract(epoch FROM next_attempt_at - now())), round(extract(epoch FROM enqueued_until - now())), left(last_error, 120)), E'\n')
				FROM (SELECT * FROM notices WHERE status <> 'delivered' LIMIT 10) n`).Scan(&summary)
			breach("notices not delivered 90 s after the load ended, e.g.:\n%s", summary)
			break
		}
	}
	mu.Lock()
	for _, lost := range lostCommands(conn, acked) {
		breach("%s", lost)
	}
	for id := range acked {
		if count("SELECT count(*) FROM notices WHERE case_id = $1 AND happening = 'case_registered'", id) != 1 {
			breach("case %s has no registration notice for the guardianship body", id)
		}
	}
	cases := len(acked)
	mu.Unlock()
	if n := count("SELECT count(*) FROM cases c WHERE version <> (SELECT count(*) FROM case_history h WHERE h.case_id = c.id)"); n != 0 {
		breach("%d cases whose history is not gapless", n)
	}
	rows, err := conn.Query(context.Background(), "SELECT id::text FROM notices")
	if err != nil {
		t.Fatal(err)
	}
	var noticeIDs []string
	for rows.Next() {
		var id string
		_ = rows.Scan(&id)
		noticeIDs = append(noticeIDs, id)
	}
	rows.Close()
	rmu.Lock()
	deliveries := 0
	for _, id := range noticeIDs {
		switch got := ids[id]; {
		case len(got) == 0:
			breach("notice %s never reached the receiver", id)
		case len(got) > 1:
			breach("notice %s reached the receiver under %d idempotency keys", id, len(got))
		}
		for _, n := range ids[id] {
			deliveries += n
		}
	}
	if badSig > 0 {
		breach("%d deliveries with a bad signature", badSig)
	}
	rmu.Unlock()
	var verify syncBuffer
	if err := run(context.Background(), []string{"audit", "verify"}, env(map[string]string{"DATABASE_URL": dbURL}), &verify, &syncBuffer{}); err != nil {
		breach("audit verify: %v: %s", err, verify.String())
	}
	for _, b := range placement.check(conn) {
		breach("%s", b)
	}
	var beds syncBuffer
	if err := run(context.Background(), []string{"beds", "verify"}, env(map[string]string{"DATABASE_URL": dbURL}), &beds, &syncBuffer{}); err != nil {
		breach("beds verify: %v: %s", err, beds.String())
	}
	t.Logf("chaos %s: %d requests (%d unreachable, retried on the other server) answered %v; %d cases; %d notices, %d deliveries; "+
		"%d processes killed; Redis down %s and back empty; PostgreSQL restarted in %s, answering again %s later; conflicting events: %d won, %d lost, %d other; %s; %d breaches",
		mode, requests.Load(), connErr.Load(), byStatus, cases, len(noticeIDs), deliveries, kills, plan.redisDown, pgGone.Round(time.Millisecond),
		pgAnswered.Round(time.Millisecond), conflict.won, conflict.lost, conflict.other, placement.summary(), len(breaches))
	mu.Lock()
	defer mu.Unlock()
	for _, b := range breaches {
		t.Error("BREACH: " + b)
	}
}

func pingTCP(port int) bool {
	c, err := (&net.Dialer{Timeout: time.Second}).Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err == nil {
		c.Close()
	}
	return err == nil
}

func mustPort(addr string) int {
	_, p, _ := net.SplitHostPort(addr)
	n, _ := strconv.Atoi(p)
	return n
}
