// Command benchnotices measures notice delivery and the reminder scan on dedicated databases it
// creates and drops (carepath_bench_notices, carepath_bench_scan) and a Redis database it
// reserves the way the tests do. All traffic stays on 127.0.0.1.
//
//	throughput  webhook deliveries per second by one worker (relay + asynq server in this
//	            process) draining a backlog of -notices to a local sink
//	latency     events committed through domain.Service at -rate per second for -duration;
//	            commit-to-receipt latency at the sink (p50, p99, max)
//	scan        one reminder-scan tick over -cases open cases of which -due are due
//
// Every phase checks that each notice reached the sink exactly once per Idempotency-Key (or,
// for the scan, that exactly the due deadlines were reminded once).
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"

	"carepath/domain"
	"carepath/jobs"
	"carepath/scripts/internal/benchkit"
	"carepath/store"
)

var (
	pgURL       = flag.String("pg", "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable", "PostgreSQL server (any database; the bench creates its own)")
	redisBase   = flag.String("redis", "redis://127.0.0.1:6379", "Redis server (the bench reserves one of databases 1..15)")
	phases      = flag.String("phases", "throughput,latency,scan", "which phases to run")
	noticesN    = flag.Int("notices", 30000, "throughput: backlog of webhook notices to drain")
	concurrency = flag.Int("concurrency", 128, "worker concurrency (asynq), as WORKER_CONCURRENCY")
	rate        = flag.Int("rate", 200, "latency: events committed per second")
	duration    = flag.Duration("duration", 60*time.Second, "latency: how long to commit events")
	casesN      = flag.Int("cases", 1000000, "scan: open cases")
	dueN        = flag.Int("due", 1000, "scan: of which due for a reminder")
	ticks       = flag.Int("ticks", 5, "scan: ticks to time")
	keep        = flag.Bool("keep", false, "keep the bench databases")
	async       = flag.Bool("async-log", true, "the delivery log's pool commits asynchronously, as carepath's does")
	cpuprofile  = flag.String("cpuprofile", "", "write a CPU profile of the run to this file")
)

var logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))

func main() {
	flag.Parse()
	ctx := context.Background()
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			fail(err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			fail(err)
		}
		defer pprof.StopCPUProfile()
	}
	redisURL, release, err := reserveRedis(ctx)
	if err != nil {
		fail(err)
	}
	defer release()
	for _, p := range strings.Split(*phases, ",") {
		var err error
		switch strings.TrimSpace(p) {
		case "throughput":
			err = throughput(ctx, redisURL)
		case "latency":
			err = latency(ctx, redisURL)
		case "scan":
			err = scan(ctx)
		default:
			err = fmt.Errorf("unknown phase %q", p)
		}
		if err != nil {
			release()
			fail(err)
		}
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "benchnotices:", err)
	os.Exit(1)
}

// freshDB drops and recreates a bench database and migrates it.
func freshDB(ctx context.Context, name string) (*store.DB, func(), error) {
	return benchkit.Database{Server: *pgURL, Name: name, MaxConns: 40, Keep: *keep}.Open(ctx)
}

// reserveRedis takes one of Redis' databases 1..15 by the tests' reservation keys, so the bench
// and the test suites never share one.
func reserveRedis(ctx context.Context) (string, func(), error) {
	base := strings.TrimRight(*redisBase, "/")
	opt, err := redis.ParseURL(base + "/0")
	if err != nil {
		return "", nil, err
	}
	ctl := redis.NewClient(opt)
	token := randomHex(8)
	end := time.Now().Add(2 * time.Minute)
	for time.Now().Before(end) {
		for n := 1; n <= 15; n++ {
			key := fmt.Sprintf("carepath:test:redisdb:%d", n)
			ok, err := ctl.SetNX(ctx, key, token, 15*time.Minute).Result()
			if err != nil {
				return "", nil, err
			}
			if !ok {
				continue
			}
			u := fmt.Sprintf("%s/%d", base, n)
			o, _ := redis.ParseURL(u)
			c := redis.NewClient(o)
			err = c.FlushDB(ctx).Err()
			c.Close()
			if err != nil {
				return "", nil, err
			}
			var once sync.Once
			return u, func() {
				once.Do(func() {
					c := redis.NewClient(o)
					c.FlushDB(context.Background())
					c.Close()
					if v, _ := ctl.Get(context.Background(), key).Result(); v == token {
						ctl.Del(context.Background(), key)
					}
					ctl.Close()
				})
			}, nil
		}
		time.Sleep(200 * time.Millisecond)
	}
	return "", nil, errors.New("no free Redis database in 2 minutes")
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// sink is the partner's webhook endpoint on 127.0.0.1: it verifies signatures and records each
// Idempotency-Key with the receipt time.
type sink struct {
	url    string
	secret string
	mu     sync.Mutex
	got    map[string]int
	times  []time.Time
	lat    []time.Duration
	badSig int
	srv    *http.Server
}

func newSink(secret string) (*sink, error) {
	s := &sink{secret: secret, got: map[string]int{}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s.url = "http://" + ln.Addr().String() + "/hook"
	s.srv = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		now := time.Now()
		ok := jobs.VerifyStandard(s.secret, r.Header.Get("Webhook-Id"), r.Header.Get("Webhook-Timestamp"), body, r.Header.Get("Webhook-Signature"))
		var b jobs.WebhookBody
		_ = json.Unmarshal(body, &b)
		s.mu.Lock()
		s.got[r.Header.Get("Idempotency-Key")]++
		s.times = append(s.times, now)
		s.lat = append(s.lat, now.Sub(b.CreatedAt))
		if !ok {
			s.badSig++
		}
		s.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = s.srv.Serve(ln) }()
	return s, nil
}

func (s *sink) received() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.times)
}

// verify compares the sink with the outbox: every notice delivered and received once.
func (s *sink) verify(ctx context.Context, db *store.DB) (lost, dup int, err error) {
	var keys []string
	if err := db.Gorm.WithContext(ctx).Raw("SELECT idempotency_key FROM notices").Scan(&keys).Error; err != nil {
		return 0, 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, k := range keys {
		switch n := s.got[k]; {
		case n == 0:
			lost++
		case n > 1:
			dup += n - 1
		}
	}
	if s.badSig > 0 {
		return lost, dup, fmt.Errorf("%d requests with a bad signature", s.badSig)
	}
	if len(s.got) != len(keys) {
		return lost, dup, fmt.Errorf("the sink got %d keys, the outbox holds %d", len(s.got), len(keys))
	}
	return lost, dup, nil
}

// worker starts a worker in this process: relay, asynq server, delivery over webhooks.
func worker(db *store.DB, svc *domain.Service, redisURL string) (stop func(), err error) {
	opt, err := redis.ParseURL(redisURL)
	if err != nil {
		return nil, err
	}
	opt.PoolSize = *concurrency + 20
	rdb := redis.NewClient(opt)
	tm, err := jobs.LoadTemplates("+7 (495) 000-00-00")
	if err != nil {
		return nil, err
	}
	logDB, err := store.Open(context.Background(), db.URL, store.Options{MaxOpenConns: 16, AsyncCommit: *async})
	if err != nil {
		return nil, err
	}
	webhook := jobs.NewWebhook(10 * time.Second)
	webhook.AllowPrivate = true // the receiver listens on 127.0.0.1
	w := jobs.NewWorker(rdb, logger)
	w.Concurrency = *concurrency
	w.ShutdownTimeout = 5 * time.Second
	jobs.NoticeWork{Notices: store.NewNotices(logDB), Service: svc, Templates: tm,
		Channels:    map[string]jobs.Channel{domain.NoticeWebhook: webhook},
		MaxAttempts: 8, Backoff: jobs.Backoff{Base: time.Second, Max: time.Minute}, Hold: time.Minute,
		RelayPoll: time.Second, RelayLease: time.Minute, ScanInterval: time.Hour, ScanCron: "@every 1h", Logger: logger,
	}.Install(w)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := w.Run(ctx); err != nil {
			logger.Error("worker", "err", err)
		}
	}()
	return func() { cancel(); <-done; rdb.Close(); logDB.Close() }, nil
}

func service(db *store.DB) (*domain.Service, error) {
	sealer, err := store.NewSealer([][]byte{make([]byte, 32)})
	if err != nil {
		return nil, err
	}
	return &domain.Service{Cases: store.NewCases(db, sealer), Calendar: store.NewCalendars(db), Settings: domain.DefaultSettings(),
		NoticeLog: store.NewNotices(db).OpensPersonal(sealer)}, nil
}

func agency(ctx context.Context, db *store.DB, kind, hook, secret string) (string, error) {
	var id string
	err := db.Gorm.WithContext(ctx).Raw("INSERT INTO agencies (name, kind, webhook_url, webhook_secret) VALUES (?, ?, ?, ?) RETURNING id",
		"bench "+kind, kind, hook, secret).Scan(&id).Error
	return id, err
}

// insertCases adds n minimal open cases by SQL (their sealed data is a placeholder: neither the
// delivery nor the scan reads it).
func insertCases(ctx context.Context, db *store.DB, n int, state, assignee string) error {
	const chunk = 100000
	for from := 1; from <= n; from += chunk {
		to := min(from+chunk-1, n)
		err := db.Gorm.WithContext(ctx).Exec(`INSERT INTO cases (id, number, state, version, channel, facility_type, applicant_name,
				legal_capacity, applicant, personal, contacts, checklist, access_code_hash, assignee_id, state_entered_at, created_at, updated_at)
			SELECT gen_random_uuid(), 'KC-' || (2030 + g / 900000) || '-' || lpad((1 + g % 900000)::text, 6, '0'), ?, 1, 'mfc',
				'elderly_disabled', 'Иванова Мария ' || g, 'capable',
				'{"birth_date":"1941-03-15","gender":"female","disability_group":"none"}', '\x00', '[]', '[]', 'x', ?, now(), now(), now()
			FROM generate_series(?::int, ?::int) g`, state, nullable(assignee), from, to).Error
		if err != nil {
			return fmt.Errorf("insert cases: %w", err)
		}
	}
	return nil
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// webhookBench is what the throughput and latency phases start from: a fresh database, a
// webhook sink, and a health organisation whose webhook is that sink; done drops them.
func webhookBench(ctx context.Context) (db *store.DB, s *sink, health string, done func(), err error) {
	db, drop, err := freshDB(ctx, "carepath_bench_notices")
	if err != nil {
		return nil, nil, "", nil, err
	}
	if s, err = newSink("bench-secret"); err != nil {
		drop()
		return nil, nil, "", nil, err
	}
	done = func() { s.srv.Close(); drop() }
	if health, err = agency(ctx, db, "health", s.url, "bench-secret"); err != nil {
		done()
		return nil, nil, "", nil, err
	}
	return db, s, health, done, nil
}

func throughput(ctx context.Context, redisURL string) error {
	fmt.Printf("== throughput: %d webhook notices, one worker process, concurrency %d\n", *noticesN, *concurrency)
	db, s, health, done, err := webhookBench(ctx)
	if err != nil {
		return err
	}
	defer done()
	if err := insertCases(ctx, db, 1000, "collecting_documents", ""); err != nil {
		return err
	}
	err = db.Gorm.WithContext(ctx).Exec(`INSERT INTO notices (id, case_id, happening, audience, channel, recipient, template, data,
			idempotency_key, status, not_before, next_attempt_at, created_at, updated_at)
		SELECT gen_random_uuid(), c.id, 'documents_requested', 'health', 'webhook', ?, 'documents_requested.health.webhook',
			'{"full_name":"Иванова Мария Петровна","birth_date":"1941-03-15","documents":["Медицинская карта"],"document_types":["medical_card"]}',
			'bench_' || g, 'pending', now(), now(), now(), now()
		FROM generate_series(1, ?::int) g JOIN (SELECT id, row_number() OVER () AS rn FROM cases) c ON c.rn = 1 + g % 1000`,
		health, *noticesN).Error
	if err != nil {
		return fmt.Errorf("fill the outbox: %w", err)
	}
	svc, err := service(db)
	if err != nil {
		return err
	}
	cpu0, load := cpuTime(), loadAverage()
	start := time.Now()
	stop, err := worker(db, svc, redisURL)
	if err != nil {
		return err
	}
	deadline := start.Add(4 * time.Minute)
	for s.received() < *noticesN && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	elapsed := time.Since(start)
	cpu := cpuTime() - cpu0
	lost, dup, err := settle(ctx, db, s, stop, 30*time.Second)
	if err != nil {
		return err
	}
	s.mu.Lock()
	ts := slices.Clone(s.times)
	s.mu.Unlock()
	slices.SortFunc(ts, func(a, b time.Time) int { return a.Compare(b) })
	lo, hi := ts[len(ts)/10], ts[len(ts)*9/10]
	steady := float64(len(ts)*8/10) / hi.Sub(lo).Seconds()
	fmt.Printf("delivered %d in %.2fs from worker start: %.0f/s overall, %.0f/s steady (10th..90th percentile of receipts)\n",
		len(ts), elapsed.Seconds(), float64(len(ts))/elapsed.Seconds(), steady)
	fmt.Printf("CPU of this process (worker and sink): %.2f ms per delivery; load average before: %s\n",
		float64(cpu.Microseconds())/1000/float64(len(ts)), load)
	fmt.Printf("lost %d, duplicates %d\n", lost, dup)
	if lost+dup > 0 {
		return fmt.Errorf("throughput: %d lost, %d duplicates", lost, dup)
	}
	return nil
}

// settle waits up to d for every notice to be delivered, stops the worker and counts the
// notices the sink lost or received twice.
func settle(ctx context.Context, db *store.DB, s *sink, stop func(), d time.Duration) (lost, dup int, err error) {
	err = waitDelivered(ctx, db, d)
	stop()
	if err != nil {
		return 0, 0, err
	}
	return s.verify(ctx, db)
}

func waitDelivered(ctx context.Context, db *store.DB, d time.Duration) error {
	end := time.Now().Add(d)
	for {
		var owed int
		if err := db.Gorm.WithContext(ctx).Raw("SELECT count(*) FROM notices WHERE status <> 'delivered'").Scan(&owed).Error; err != nil {
			return err
		}
		if owed == 0 {
			return nil
		}
		if time.Now().After(end) {
			return fmt.Errorf("%d notices still owed", owed)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func latency(ctx context.Context, redisURL string) error {
	fmt.Printf("== latency: %d events/s for %s through domain.Service, one webhook each\n", *rate, *duration)
	db, s, health, done, err := webhookBench(ctx)
	if err != nil {
		return err
	}
	defer done()
	svc, err := service(db)
	if err != nil {
		return err
	}
	// Capable applicants with no relatives: registering tells no one; each recorded request for
	// a medical document tells the clinic, by one webhook.
	const nCases = 2000
	ids := make([]string, 0, nCases)
	for i := range nCases {
		c, _, err := svc.Register(ctx, domain.System, domain.NewCase{Channel: domain.ChannelMFC, FacilityType: domain.ElderlyDisabled,
			HealthOrgID: health, Applicant: domain.Applicant{FullName: fmt.Sprintf("Иванова Мария %d", i), BirthDate: domain.MustDate("1941-03-15"),
				Gender: "female", SNILS: "112-233-445 95", Address: "Москва", LegalCapacity: domain.Capable}})
		if err != nil {
			return err
		}
		ids = append(ids, c.ID)
	}
	stop, err := worker(db, svc, redisURL)
	if err != nil {
		return err
	}
	total := int(duration.Seconds() * float64(*rate))
	work := make(chan int, total)
	var wg sync.WaitGroup
	var errMu sync.Mutex
	var firstErr error
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				_, err := svc.RecordDocument(ctx, domain.System, ids[i%nCases], domain.DocMedicalCard, 0, domain.DocumentUpdate{Status: domain.DocRequested})
				if err != nil {
					errMu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					errMu.Unlock()
				}
			}
		}()
	}
	fmt.Printf("load average before: %s\n", loadAverage())
	start := time.Now()
	interval := time.Second / time.Duration(*rate)
	behind := 0
	for i := range total {
		at := start.Add(time.Duration(i) * interval)
		if d := time.Until(at); d > 0 {
			time.Sleep(d)
		} else if d < -100*time.Millisecond {
			behind++
		}
		work <- i
	}
	close(work)
	wg.Wait()
	sent := time.Since(start)
	if firstErr != nil {
		stop()
		return firstErr
	}
	lost, dup, err := settle(ctx, db, s, stop, time.Minute)
	if err != nil {
		return err
	}
	s.mu.Lock()
	lat := slices.Clone(s.lat)
	s.mu.Unlock()
	slices.Sort(lat)
	pct := func(p float64) time.Duration { return lat[min(len(lat)-1, int(float64(len(lat))*p))] }
	fmt.Printf("committed %d events in %.1fs (%.0f/s; %d issued over 100 ms late)\n", total, sent.Seconds(), float64(total)/sent.Seconds(), behind)
	fmt.Printf("commit→receipt: p50 %s, p90 %s, p99 %s, max %s\n", pct(0.5).Round(time.Millisecond), pct(0.9).Round(time.Millisecond),
		pct(0.99).Round(time.Millisecond), lat[len(lat)-1].Round(time.Millisecond))
	fmt.Printf("lost %d, duplicates %d\n", lost, dup)
	if lost+dup > 0 {
		return fmt.Errorf("latency: %d lost, %d duplicates", lost, dup)
	}
	return nil
}

func scan(ctx context.Context) error {
	fmt.Printf("== scan: %d open cases with one open deadline each, %d due; %d ticks\n", *casesN, *dueN, *ticks)
	db, drop, err := freshDB(ctx, "carepath_bench_scan")
	if err != nil {
		return err
	}
	defer drop()
	g := db.Gorm.WithContext(ctx)
	t0 := time.Now()
	// Not read by the scan: the name search tables (filled by a trigger) are left empty here.
	if err := g.Exec("ALTER TABLE cases DISABLE TRIGGER cases_names_insert").Error; err != nil {
		return err
	}
	var users []string
	for i, role := range []string{"specialist", "supervisor", "supervisor"} {
		var id string
		if err := g.Raw("INSERT INTO users (name, role, email) VALUES (?, ?, ?) RETURNING id", fmt.Sprintf("bench %s %d", role, i), role,
			fmt.Sprintf("u%d@center.example", i)).Scan(&id).Error; err != nil {
			return err
		}
		users = append(users, id)
	}
	if err := insertCases(ctx, db, *casesN, "under_review", users[0]); err != nil {
		return err
	}
	// One review decision per case: most due in the weeks ahead with their next reminder still
	// to come; -due of them missed an hour ago, their at-risk stage already sent.
	err = g.Exec(`INSERT INTO deadlines (case_id, kind, ref, opened_at, due_on, due_at, state, reminder_stage, remind_at)
		SELECT id, 'review_decision', '', o, d::date, d, 'open', s, r FROM (
			SELECT id, rn,
				CASE WHEN rn <= ? THEN now() - interval '10 days' ELSE now() - interval '1 day' END AS o,
				CASE WHEN rn <= ? THEN now() - interval '1 hour' ELSE now() + (1 + rn % 60) * interval '1 day' END AS d,
				CASE WHEN rn <= ? THEN 1 ELSE 0 END AS s,
				CASE WHEN rn <= ? THEN now() - interval '1 hour' ELSE now() + (rn % 60) * interval '1 day' + interval '1 hour' END AS r
			FROM (SELECT id, row_number() OVER () AS rn FROM cases) c) x`, *dueN, *dueN, *dueN, *dueN).Error
	if err != nil {
		return fmt.Errorf("insert deadlines: %w", err)
	}
	if err := g.Exec("ANALYZE").Error; err != nil {
		return err
	}
	fmt.Printf("filled in %.0fs; load average: %s\n", time.Since(t0).Seconds(), loadAverage())
	svc, err := service(db)
	if err != nil {
		return err
	}
	sc := &jobs.Scanner{Notices: svc.NoticeLog.(*store.Notices), Service: svc, Settings: svc.Settings, Batch: 1000, Logger: logger}
	var plan []string
	if err := g.Raw(`EXPLAIN (ANALYZE, COSTS OFF) SELECT d.id, d.kind, d.due_at, c.number, c.contacts, c.checklist, c.assignee_id
		FROM deadlines d JOIN cases c ON c.id = d.case_id
		WHERE d.state = 'open' AND d.remind_at <= now() ORDER BY d.remind_at LIMIT 1000`).Scan(&plan).Error; err != nil {
		return err
	}
	fmt.Println("plan of the due select:\n  " + strings.Join(plan, "\n  "))
	var times []time.Duration
	for i := range *ticks {
		st, err := sc.Scan(ctx)
		if err != nil {
			return err
		}
		var notices, stillDue int
		g.Raw("SELECT count(*) FROM notices").Scan(&notices)
		g.Raw("SELECT count(*) FROM deadlines WHERE state = 'open' AND remind_at <= now()").Scan(&stillDue)
		fmt.Printf("tick %d: %d due, %d notices written in %s (outbox %d, still due %d)\n", i+1, st.Due, st.Notices, st.Duration.Round(time.Millisecond), notices, stillDue)
		if st.Due != *dueN || st.Notices != 3**dueN || notices != st.Notices || stillDue != 0 {
			return fmt.Errorf("tick %d: want %d due and %d notices", i+1, *dueN, 3**dueN)
		}
		times = append(times, st.Duration)
		// Set the same deadlines due again for the next tick.
		if err := g.Exec("DELETE FROM notices").Error; err != nil {
			return err
		}
		if err := g.Exec("UPDATE deadlines SET reminder_stage = 1, remind_at = due_at WHERE due_at < now()").Error; err != nil {
			return err
		}
	}
	g.Exec("UPDATE deadlines SET reminder_stage = 2, remind_at = NULL WHERE due_at < now()")
	st, err := sc.Scan(ctx)
	if err != nil {
		return err
	}
	slices.Sort(times)
	fmt.Printf("scan tick with %d due: median %s, max %s; with nothing due: %s\n", *dueN, times[len(times)/2].Round(time.Millisecond),
		times[len(times)-1].Round(time.Millisecond), st.Duration.Round(time.Millisecond))
	return nil
}

// cpuTime is the CPU time this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// loadAverage reports the machine's load (the figures depend on what else runs).
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}
