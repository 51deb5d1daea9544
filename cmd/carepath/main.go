// Command carepath is the coordination center's case-tracking service: one binary with the API
// server, the background worker, migrations and demo data. main only wires the parts.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"
	"time"
	_ "time/tzdata" // Moscow time without relying on the host's zoneinfo

	"github.com/hibiken/asynq"
	"github.com/hibiken/asynqmon"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/redis/go-redis/v9"
	"golang.org/x/sync/errgroup"

	"carepath/api"
	"carepath/domain"
	"carepath/jobs"
	"carepath/migrations"
	"carepath/store"
	"carepath/store/lookup"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// carepath keeps a small live heap (tens of MB) and allocates per request: Go's default
	// GOGC=100 would collect several times a second under load. 400 trades a few tens of MB
	// for that CPU (docs/BENCHMARKS.md); GOGC in the environment still decides.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "carepath:", err)
		os.Exit(1)
	}
}

const usage = `usage: carepath <command>

commands:
  all                       API server and worker in one process (default)
  serve                     API server only
  worker                    background worker only (asynq server and scheduler)
  migrate [up|down|status]  apply, roll back one, or list the database migrations
  seed [--cases N]          load the idempotent demo data, or generate N more cases in bulk
  calendar import FILE      add or correct production calendar days (CSV: date,kind,note)
  users create --name N --role R [--email E] [--phone P] [--expires-days D]
                            add a specialist (specialist, supervisor, admin); prints its token once
  users list                list the specialists
  audit verify              check the hash chains of history and access log; non-zero exit on a break
  audit seal                chain history lines that have no hash yet (bulk loads, older databases)
  beds verify               recompute every section's beds from the cases; non-zero exit on drift
  rekey                     re-seal personal data not sealed with the current DATA_KEY (the first)
  phones reseal             seal and index the phones of cases registered before phones were sealed
  phones reindex            recompute the phone blind index under the current PHONE_INDEX_KEY (the first)
  version                   print the version

configuration comes from environment variables; see README.md`

// run is the whole program; tests call it with their own arguments and environment.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cmd := "all"
	if len(args) > 0 {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "version":
		fmt.Fprintln(stdout, "carepath", version)
		return nil
	case "help", "-h", "--help":
		fmt.Fprintln(stdout, usage)
		return nil
	case "all", "serve", "worker", "migrate", "seed", "calendar", "users", "audit", "rekey", "phones", "beds":
	default:
		return fmt.Errorf("unknown command %q\n%s", cmd, usage)
	}
	cfg, err := loadConfig(getenv)
	if err != nil {
		return err
	}
	logger := slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: cfg.LogLevel}))
	slog.SetDefault(logger)
	if cfg.DevDataKey && cmd != "migrate" {
		logger.Warn("DATA_KEY is not set: personal data is sealed with the public development key; set DATA_KEY in production")
	}
	if cfg.DevPhoneIndexKey && cmd != "migrate" {
		logger.Warn("PHONE_INDEX_KEY is not set: phone numbers are indexed with the public development key; set PHONE_INDEX_KEY in production")
	}
	db, err := store.Open(ctx, cfg.DatabaseURL, store.Options{MaxOpenConns: cfg.DBMaxConns})
	if err != nil {
		return err
	}
	defer db.Close()

	switch cmd {
	case "migrate":
		return runMigrate(ctx, db, args, stdout)
	case "calendar":
		return runCalendar(ctx, db, args, stdout)
	}
	start := time.Now()
	if _, err := db.Migrate(ctx); err != nil {
		return err
	}
	app, err := wire(cfg, db, logger)
	if err != nil {
		return err
	}
	defer app.close()
	logger.Debug("migrations checked", "ms", time.Since(start).Milliseconds())

	if seeded, err := app.access.SeedAdmin(ctx, cfg.BootstrapToken); err != nil {
		return fmt.Errorf("seed the first admin: %w", err)
	} else if seeded {
		logger.Info("first admin created with BOOTSTRAP_ADMIN_TOKEN")
	}

	if cfg.PprofAddr != "" && (cmd == "serve" || cmd == "worker" || cmd == "all") {
		if err := servePprof(cfg.PprofAddr, logger); err != nil {
			return err
		}
	}
	switch cmd {
	case "users":
		return runUsers(ctx, app, args, stdout)
	case "audit":
		return runAudit(ctx, app, args, stdout)
	case "rekey":
		return runRekey(ctx, app, stdout)
	case "phones":
		return runPhones(ctx, app, args, stdout)
	case "beds":
		return runBeds(ctx, app, args, stdout)
	case "seed":
		return runSeed(ctx, app, args, stdout)
	case "serve":
		return app.serve(ctx, cfg, start)
	case "worker":
		if cfg.WorkerMetricsAddr == "" {
			return app.work(ctx)
		}
		g, gctx := errgroup.WithContext(ctx)
		g.Go(func() error { return app.serveMetrics(gctx, cfg.WorkerMetricsAddr) })
		g.Go(func() error { return app.work(gctx) })
		return g.Wait()
	default: // all
		g, gctx := errgroup.WithContext(ctx)
		g.Go(func() error { return app.serve(gctx, cfg, start) })
		g.Go(func() error { return app.work(gctx) })
		return g.Wait()
	}
}

// app is the wired program.
type app struct {
	db *store.DB
	// readDB is the pool for read-mostly work that tolerates a second of lag: DATABASE_READ_URL's
	// standby (read-only sessions), or db itself when it is not set. Build readers of figures and
	// exports on it; never anything that must read its own writes.
	readDB   *store.DB
	rdb      *redis.Client
	logger   *slog.Logger
	cases    *store.Cases
	sealer   *store.Sealer
	service  *domain.Service
	access   *domain.Access
	server   *api.Server
	lookups  *lookup.Lookups
	worker   *jobs.Worker
	cfg      Config
	closers  []func() error
	registry *prometheus.Registry
}

func wire(cfg Config, db *store.DB, logger *slog.Logger) (*app, error) {
	// The worker's tasks each take a connection to finish.
	rdb, redisOpt, err := cfg.Redis.connect(cfg.Notices.Concurrency + 16)
	if err != nil {
		return nil, err
	}
	sealer, err := store.NewSealer(cfg.DataKeys)
	if err != nil {
		return nil, err
	}
	cases := store.NewCases(db, sealer)
	identities := store.NewIdentities(db)
	phones, err := store.NewPhoneIndex(cfg.PhoneIndexKeys)
	if err != nil {
		return nil, err
	}
	cases.Phones = phones
	// The delivery log is written at every attempt; its own small pool commits asynchronously
	// (a forgotten mark only means a notice is sent again under the same idempotency key).
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	noticeDB, err := store.Open(ctx, cfg.DatabaseURL, store.Options{MaxOpenConns: max(cfg.DBMaxConns/2, 4), AsyncCommit: true})
	if err != nil {
		return nil, err
	}
	notices := store.NewNotices(noticeDB).OpensPersonal(sealer)
	var caseStore domain.CaseStore = cases
	if cfg.CaseCacheSize > 0 {
		caseStore = store.NewCaseCache(cases, cfg.CaseCacheSize)
	}
	readDB := db
	if cfg.DatabaseReadURL != "" {
		if readDB, err = store.Open(ctx, cfg.DatabaseReadURL, store.Options{MaxOpenConns: max(cfg.DBMaxConns/4, 4), ReadOnly: true}); err != nil {
			return nil, fmt.Errorf("DATABASE_READ_URL: %w", err)
		}
		// A standby away is no reason not to start: the lookups' waiting positions are counted on
		// the primary until it answers.
		if err := readDB.Ping(ctx); err != nil {
			logger.Warn("DATABASE_READ_URL does not answer; waiting positions are counted on the primary until it does", "error", err.Error())
		}
	}
	lookups := lookup.New(db)
	lookups.Reader = readDB
	service := &domain.Service{Cases: caseStore, Calendar: store.NewCalendars(db), Settings: cfg.Settings,
		Users: identities, Board: cases, Beds: cases, Waiting: lookups.Register(cases), OfferLog: cases, NoticeLog: notices, Lockouts: lookups}
	if cfg.AutoAssign {
		service.Assigner = identities
	}
	tally := store.NewLookupTally(db, true)
	access := &domain.Access{Identities: identities, Log: store.NewAccessLog(db), Lookups: lookups, Settings: cfg.Access, Tally: tally}
	// the figures tolerate a second of lag: read from DATABASE_READ_URL when set
	var stats domain.StatsStore = store.NewStats(readDB)
	if cfg.StatsCacheTTL > 0 {
		stats = store.NewStatsCache(stats, readDB, cfg.StatsCacheTTL)
	}
	a := &app{db: db, readDB: readDB, rdb: rdb, logger: logger, cases: cases, sealer: sealer, service: service, access: access, lookups: lookups, cfg: cfg}
	a.closers = append(a.closers, noticeDB.Close, func() error {
		// the lookups counted since the last flush
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return tally.Flush(ctx)
	})
	if readDB != db {
		a.closers = append(a.closers, readDB.Close)
	}
	registry := prometheus.NewRegistry()
	a.registry = registry
	inspector := asynq.NewInspectorFromRedisClient(rdb)
	metrics := jobs.NewMetrics(registry, notices, inspector, logger)
	ops := asynqmon.New(asynqmon.Options{RootPath: "/ops/queues", RedisConnOpt: redisOpt})
	a.closers = append(a.closers, ops.Close)
	a.server = &api.Server{
		Cases:  service,
		Access: access,
		Hotline: &domain.Hotline{Service: service, Access: access, Contacts: store.NewContacts(db, sealer, phones),
			ContactRequests: store.NewContactRequests(db, sealer), Leads: store.NewLeads(db, sealer),
			LeadTriageDays: cfg.LeadTriageDays,
			Phones:         store.NewPhoneBook(db, phones)},
		Figures:        &domain.Figures{Store: stats, Settings: cfg.Settings},
		Auth:           access,
		TrustedProxies: cfg.TrustedProxies,
		Logger:         logger,
		Registry:       registry,
		Ops:            ops,
		MetricsToken:   cfg.MetricsToken,
		Checks: []api.Check{
			{Name: "postgres", Ping: db.Ping},
			{Name: "redis", Ping: func(ctx context.Context) error { return rdb.Ping(ctx).Err() }},
		},
	}
	a.worker, err = wireWorker(cfg, db, rdb, notices, service, metrics, logger)
	if err != nil {
		return nil, err
	}
	return a, nil
}

// wireWorker builds the worker: the notice delivery handler with its channels, the outbox
// relay, and the periodic deadline scan.
func wireWorker(cfg Config, db *store.DB, rdb *redis.Client, notices *store.Notices, service *domain.Service, metrics *jobs.Metrics, logger *slog.Logger) (*jobs.Worker, error) {
	n := cfg.Notices
	templates, err := jobs.LoadTemplates(n.CenterPhone)
	if err != nil {
		return nil, err
	}
	webhook := jobs.NewWebhook(n.WebhookTimeout)
	webhook.AllowPrivate = cfg.Access.WebhookAllowPrivate
	webhook.Legacy = n.WebhookLegacySignature
	w := jobs.NewWorker(rdb, logger)
	w.ShutdownTimeout = cfg.ShutdownTimeout
	w.Concurrency = n.Concurrency
	jobs.NoticeWork{
		Notices: notices, Service: service, Templates: templates,
		Channels: map[string]jobs.Channel{
			domain.NoticeWebhook: webhook,
			domain.NoticeSMS:     jobs.NewSMSGateway(n.SMSGatewayURL, n.SMSGatewayToken, n.WebhookTimeout),
			domain.NoticeEmail: &jobs.Mailer{Addr: n.SMTPAddr, Username: n.SMTPUsername, Password: n.SMTPPassword,
				From: n.SMTPFrom, TLS: n.SMTPTLS, Timeout: n.WebhookTimeout},
		},
		MaxAttempts: n.MaxAttempts, Backoff: jobs.Backoff{Base: n.BackoffBase, Max: n.BackoffMax}, Hold: n.Hold,
		RelayPoll: n.RelayPoll, RelayLease: n.RelayLease, ScanInterval: n.ScanInterval, ScanCron: scanCron(n.ScanInterval),
		Metrics: metrics, Logger: logger,
	}.Install(w)
	return w, nil
}

func (a *app) close() {
	for _, c := range a.closers {
		_ = c()
	}
	a.rdb.Close()
}

// serve runs the HTTP server until ctx ends, then stops accepting and lets in-flight requests
// finish within the shutdown timeout.
func (a *app) serve(ctx context.Context, cfg Config, started time.Time) error {
	h, err := a.server.Handler()
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		return fmt.Errorf("HTTP_ADDR %s: %w", cfg.HTTPAddr, err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second, WriteTimeout: 60 * time.Second, IdleTimeout: 120 * time.Second}
	a.logger.Info("carepath listening", "addr", "http://"+ln.Addr().String(), "version", version, "startup_ms", time.Since(started).Milliseconds())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	// the relatives' lookups' waiting figures, built once the server answers (not before: at a
	// million cases they take a second of both cores, which the start would wait for)
	a.lookups.Warm()
	select {
	case err := <-errc:
		return fmt.Errorf("http server: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("http shutdown: %w", err)
	}
	a.logger.Info("http server stopped")
	return nil
}

func (a *app) work(ctx context.Context) error { return a.worker.Run(ctx) }

// servePprof serves Go's profiles on their own private listener for as long as the process runs.
func servePprof(addr string, logger *slog.Logger) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("PPROF_ADDR %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	logger.Warn("pprof listening: keep this address private", "addr", "http://"+ln.Addr().String()+"/debug/pprof/")
	go func() { _ = http.Serve(ln, mux) }() //nolint:gosec // a measuring aid on a private address
	return nil
}

// serveMetrics serves /metrics for a worker that runs without the API server, so its delivery
// counters can be scraped.
func (a *app) serveMetrics(ctx context.Context, addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("WORKER_METRICS_ADDR %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(a.registry, promhttp.HandlerOpts{}))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
	a.logger.Info("worker metrics listening", "addr", "http://"+ln.Addr().String()+"/metrics")
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("worker metrics: %w", err)
	}
	return nil
}

func runMigrate(ctx context.Context, db *store.DB, args []string, stdout io.Writer) error {
	sub := "up"
	if len(args) > 0 {
		sub = args[0]
	}
	switch sub {
	case "up":
		applied, err := db.Migrate(ctx)
		if err != nil {
			return err
		}
		if len(applied) == 0 {
			fmt.Fprintln(stdout, "migrations: nothing to apply")
		}
		for _, a := range applied {
			fmt.Fprintln(stdout, "applied", a)
		}
		return nil
	case "down":
		p, err := db.MigrateDown(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, "rolled back", p)
		return nil
	case "status":
		st, err := db.MigrationStatus(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, strings.Join(st, "\n"))
		return nil
	}
	return fmt.Errorf("migrate %q: want up, down or status", sub)
}

func runCalendar(ctx context.Context, db *store.DB, args []string, stdout io.Writer) error {
	if len(args) != 2 || args[0] != "import" {
		return errors.New("usage: carepath calendar import FILE (CSV with the header date,kind,note)")
	}
	f, err := os.Open(args[1])
	if err != nil {
		return err
	}
	defer f.Close()
	rows, err := migrations.ReadCalendar(f)
	if err != nil {
		return err
	}
	n, err := db.ImportCalendar(ctx, rows, true)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "calendar: %d days imported from %s\n", n, args[1])
	return nil
}
