package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"carepath/domain"
	"carepath/jobs"
	"carepath/store"
	"carepath/store/dbtest"
)

func TestParseRedis(t *testing.T) {
	for _, c := range []struct {
		url, sentinels, master string
		urlSet                 bool
		want                   string // "" for a plain Redis; the failover option as %+v fields otherwise
		err                    string
	}{
		{url: "redis://127.0.0.1:6379/0"},
		{url: "rediss://:pw@redis.example:6380/2", urlSet: true},
		{url: "redis-sentinel://10.0.0.1:26379,10.0.0.2:26379,10.0.0.3:26379/2?master=carepath", urlSet: true,
			want: "master=carepath sentinels=[10.0.0.1:26379 10.0.0.2:26379 10.0.0.3:26379] db=2 user= password= sentinel_password="},
		{url: "redis-sentinel://app:s3cret@s1:26379?master=mq&sentinel_password=sp", urlSet: true,
			want: "master=mq sentinels=[s1:26379] db=0 user=app password=s3cret sentinel_password=sp"},
		{url: "redis://127.0.0.1:6379/0", sentinels: "s1:26379,s2:26379", master: "mq",
			want: "master=mq sentinels=[s1:26379 s2:26379] db=0 user= password= sentinel_password="},
		{url: "redis://x:6379/0", urlSet: true, sentinels: "s1:26379", master: "mq", err: "not both"},
		{sentinels: "s1:26379", err: "set both"},
		{url: "redis-sentinel://s1:26379/0", urlSet: true, err: "no master name"},
		{url: "redis-sentinel://s1/0?master=m", urlSet: true, err: "not host:port"},
		{url: "redis-sentinel://s1:1/16?master=m", urlSet: true, err: "0 to 15"},
		{url: "redis-sentinel://s1:1/0?master=m&color=red", urlSet: true, err: "unknown parameter"},
		{url: "redis-sentinel://:hunter2@s1/0?master=m", urlSet: true, err: "xxx"}, // the password is not repeated
		{url: "localhost", urlSet: true, err: "want redis://"},
	} {
		r, err := parseRedis(c.url, c.urlSet, c.sentinels, c.master)
		switch {
		case c.err != "":
			if err == nil || !strings.Contains(err.Error(), c.err) || strings.Contains(err.Error(), "hunter2") {
				t.Errorf("%+v: error %v, want one saying %q", c, err, c.err)
			}
		case err != nil:
			t.Errorf("%+v: %v", c, err)
		case c.want == "" && r.failover != nil:
			t.Errorf("%+v: read as Sentinel", c)
		case c.want != "":
			f := r.failover
			got := "nil"
			if f != nil {
				got = fmt.Sprintf("master=%s sentinels=%v db=%d user=%s password=%s sentinel_password=%s", f.MasterName, f.SentinelAddrs, f.DB, f.Username, f.Password, f.SentinelPassword)
			}
			if got != c.want {
				t.Errorf("%+v:\n got %s\nwant %s", c, got, c.want)
			}
		}
	}
}

// sentinelSet is a Redis master, its replica and three Sentinels, run from Debian's
// redis-server and redis-sentinel on free 127.0.0.1 ports in a temporary directory.
type sentinelSet struct {
	master, replica int
	sentinels       []int
}

const sentinelMaster = "carepath"

// startSentinelSet starts the set and waits until the replica is in sync and the Sentinels know
// it. Without the programs it skips locally and fails in CI (scripts/redis-sentinel.sh installs
// them; make test runs it).
func startSentinelSet(t *testing.T) *sentinelSet {
	t.Helper()
	for _, p := range []string{"redis-server", "redis-sentinel"} {
		if _, err := exec.LookPath(p); err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("%s is missing: run scripts/redis-sentinel.sh", p)
			}
			t.Skipf("%s is missing: run scripts/redis-sentinel.sh", p)
		}
	}
	dir := t.TempDir()
	s := &sentinelSet{master: freePort(t), replica: freePort(t)}
	start := func(name string, args ...string) {
		cmd := exec.Command(name, args...)
		log, err := os.Create(filepath.Join(dir, fmt.Sprintf("%s-%s.log", name, args[len(args)-1])))
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stdout, cmd.Stderr = log, log
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait(); log.Close() })
	}
	server := func(port int, extra ...string) {
		args := append([]string{"--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir,
			"--dbfilename", fmt.Sprintf("dump-%d.rdb", port)}, extra...)
		start("redis-server", append(args, "--port", strconv.Itoa(port))...)
	}
	server(s.master)
	server(s.replica, "--replicaof", "127.0.0.1", strconv.Itoa(s.master))
	for range 3 {
		port := freePort(t)
		conf := filepath.Join(dir, fmt.Sprintf("sentinel-%d.conf", port))
		body := fmt.Sprintf("bind 127.0.0.1\nport %d\ndir %s\nsentinel monitor %s 127.0.0.1 %d 2\n"+
			"sentinel down-after-milliseconds %s 2000\nsentinel failover-timeout %s 10000\n",
			port, dir, sentinelMaster, s.master, sentinelMaster, sentinelMaster)
		if err := os.WriteFile(conf, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		start("redis-sentinel", conf, "--port", strconv.Itoa(port))
		s.sentinels = append(s.sentinels, port)
	}
	waitUntil(t, 30*time.Second, "the replica in sync and known to every Sentinel", func() bool {
		if !strings.Contains(s.info(t, s.replica, "replication"), "master_link_status:up") {
			return false
		}
		for _, p := range s.sentinels {
			c := redis.NewSentinelClient(&redis.Options{Addr: addr(p)})
			replicas, err := c.Replicas(context.Background(), sentinelMaster).Result()
			c.Close()
			if err != nil || len(replicas) == 0 {
				return false
			}
		}
		return true
	})
	return s
}

func addr(port int) string { return "127.0.0.1:" + strconv.Itoa(port) }

func (s *sentinelSet) url() string {
	hosts := make([]string, len(s.sentinels))
	for i, p := range s.sentinels {
		hosts[i] = addr(p)
	}
	return "redis-sentinel://" + strings.Join(hosts, ",") + "/0?master=" + sentinelMaster
}

func (s *sentinelSet) info(t *testing.T, port int, section string) string {
	c := redis.NewClient(&redis.Options{Addr: addr(port)})
	defer c.Close()
	out, _ := c.Info(context.Background(), section).Result()
	return out
}

// masterPort is the master's port as the first Sentinel tells it.
func (s *sentinelSet) masterPort(t *testing.T) int {
	c := redis.NewSentinelClient(&redis.Options{Addr: addr(s.sentinels[0])})
	defer c.Close()
	a, err := c.GetMasterAddrByName(context.Background(), sentinelMaster).Result()
	if err != nil || len(a) != 2 {
		return 0
	}
	p, _ := strconv.Atoi(a[1])
	return p
}

// failover asks a Sentinel to fail over now and waits until the replica is the master, as the
// Sentinels tell it and as it says itself.
func (s *sentinelSet) failover(t *testing.T) {
	t.Helper()
	c := redis.NewSentinelClient(&redis.Options{Addr: addr(s.sentinels[0])})
	defer c.Close()
	if err := c.Failover(context.Background(), sentinelMaster).Err(); err != nil {
		t.Fatalf("SENTINEL FAILOVER: %v", err)
	}
	waitUntil(t, 30*time.Second, "the replica promoted", func() bool {
		return s.masterPort(t) == s.replica && strings.Contains(s.info(t, s.replica, "replication"), "role:master")
	})
}

func waitUntil(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	end := time.Now().Add(d)
	for !cond() {
		if time.Now().After(end) {
			t.Fatalf("timed out after %s waiting for %s", d, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestSentinelFailoverUnderLoad runs `carepath worker` on Redis behind Sentinel while cases are
// registered (each owes the guardianship body a webhook), forces a failover in the middle, and
// checks that every notice reached the partner exactly once and that the worker's clients, the
// scheduler's included, carried on at the new master.
func TestSentinelFailoverUnderLoad(t *testing.T) {
	rs := startSentinelSet(t)
	dbURL := dbtest.URL(t)
	db, err := store.Open(context.Background(), dbURL, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()

	var mu sync.Mutex
	got := map[string]int{}
	badSig := 0
	sink := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		got[r.Header.Get("Webhook-Id")]++
		if !jobs.VerifyStandard("sentinel-test-secret", r.Header.Get("Webhook-Id"), r.Header.Get("Webhook-Timestamp"), body, r.Header.Get("Webhook-Signature")) {
			badSig++
		}
		mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	defer sink.Close()
	var agency string
	if err := db.Gorm.Raw("INSERT INTO agencies (name, kind, webhook_url, webhook_secret) VALUES ('Опека', 'guardianship', ?, 'sentinel-test-secret') RETURNING id", sink.URL).Scan(&agency).Error; err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	stderr := &syncBuffer{}
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"worker"}, env(map[string]string{"DATABASE_URL": dbURL, "REDIS_URL": rs.url(), "LOG_LEVEL": "error",
			"RELAY_LEASE": "2s", "RELAY_POLL_INTERVAL": "200ms", "NOTICE_HOLD": "5s", "WEBHOOK_TIMEOUT": "2s", "NOTICE_BACKOFF_BASE": "200ms",
			"NOTICE_BACKOFF_MAX": "1s", "NOTICE_MAX_ATTEMPTS": "50", "SCAN_INTERVAL": "1s", "WORKER_CONCURRENCY": "16", "SHUTDOWN_TIMEOUT": "2s", "WEBHOOK_ALLOW_PRIVATE": "true"}), io.Discard, stderr)
	}()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("worker: %v\n%s", err, stderr.String())
		}
	}()

	// The load: cases registered one after another until a few seconds after the failover.
	sealer, _ := store.NewSealer([][]byte{devDataKey})
	svc := &domain.Service{Cases: store.NewCases(db, sealer), Calendar: store.NewCalendars(db), Settings: domain.DefaultSettings()}
	var registered atomic.Int64
	stopLoad := make(chan struct{})
	loadDone := make(chan error, 1)
	go func() {
		for i := 0; i < 5000; i++ { // bounded; stopped long before
			select {
			case <-stopLoad:
				loadDone <- nil
				return
			default:
			}
			_, _, err := svc.Register(context.Background(), domain.System, domain.NewCase{Channel: domain.ChannelMFC, FacilityType: domain.ElderlyDisabled,
				GuardianshipID: agency, Applicant: domain.Applicant{FullName: "Иванова Мария Петровна", BirthDate: domain.MustDate("1941-03-15"),
					Gender: "female", SNILS: domain.MakeSNILS(100000000 + i), Address: "Москва", LegalCapacity: domain.Incapacitated}})
			if err != nil {
				loadDone <- err
				return
			}
			registered.Add(1)
			time.Sleep(5 * time.Millisecond)
		}
		loadDone <- nil
	}()
	delivered := func() int {
		var n int
		db.Gorm.Raw("SELECT count(*) FROM notices WHERE status = 'delivered'").Scan(&n)
		return n
	}
	waitUntil(t, 30*time.Second, "deliveries under way", func() bool { return delivered() >= 50 })
	before := registered.Load()
	start := time.Now()
	rs.failover(t)
	failoverTook := time.Since(start)
	// The Sentinels turn the old master into a replica of the new one some seconds later; until
	// then it still takes writes, and what is queued there is lost when it resyncs (the relay
	// queues those notices again after RELAY_LEASE). Once it is a replica, go on a while: these
	// notices can only be queued at the new master.
	waitUntil(t, 30*time.Second, "the old master turned replica", func() bool {
		info := rs.info(t, rs.master, "replication")
		return strings.Contains(info, "role:slave") && strings.Contains(info, "master_link_status:up")
	})
	demotedAfter := time.Since(start)
	after := registered.Load()
	waitUntil(t, 30*time.Second, "more cases after the failover", func() bool { return registered.Load() >= after+100 })
	close(stopLoad)
	if err := <-loadDone; err != nil {
		t.Fatal(err)
	}
	total := int(registered.Load())
	var notices int
	db.Gorm.Raw("SELECT count(*) FROM notices").Scan(&notices)
	if notices != total {
		t.Fatalf("%d notices for %d cases, want one each", notices, total)
	}
	waitUntil(t, 60*time.Second, "every notice delivered", func() bool { return delivered() == total })

	mu.Lock()
	defer mu.Unlock()
	var keys []string
	db.Gorm.Raw("SELECT idempotency_key FROM notices").Scan(&keys)
	for _, k := range keys {
		if got[k] != 1 {
			t.Errorf("notice %s reached the partner %d times, want exactly once", k, got[k])
		}
	}
	if len(got) != len(keys) || badSig != 0 {
		t.Errorf("the partner got %d distinct notices (%d badly signed), the outbox holds %d", len(got), badSig, len(keys))
	}
	// The scheduler (a Redis client of its own) enqueued scan ticks at the new master.
	insp := asynq.NewInspector(asynq.RedisClientOpt{Addr: addr(rs.replica)})
	defer insp.Close()
	waitUntil(t, 20*time.Second, "a scan tick enqueued at the new master after the failover", func() bool {
		tasks, _ := insp.ListCompletedTasks(jobs.QueueScans, asynq.PageSize(100))
		for _, task := range tasks {
			if tick, err := time.Parse(time.RFC3339, strings.TrimPrefix(task.ID, jobs.TaskScanDeadlines+"@")); err == nil && tick.After(start.Add(time.Second)) {
				return true
			}
		}
		return false
	})
	t.Logf("%d cases, %d notices each delivered once; %d registered before the failover; SENTINEL FAILOVER to the replica answering as master: %s, the old master a replica: %s",
		total, len(keys), before, failoverTook.Round(time.Millisecond), demotedAfter.Round(time.Millisecond))
}
