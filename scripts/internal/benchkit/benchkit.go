// Package benchkit is the setup the bench tools under scripts/ share: their settings from the
// environment, a bench database of their own, a fixed number of connections sending requests
// for a while, and the percentiles of what those measured.
package benchkit

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"carepath/api"
	"carepath/cmd/carepath/generate"
	"carepath/domain"
	"carepath/store"
	"carepath/store/lookup"
)

// Env is the environment variable, or def when it is empty.
func Env(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// EnvInt is the environment variable as a whole number, or def when it is not one.
func EnvInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil {
		return n
	}
	return def
}

// Database says which bench database to open and how.
type Database struct {
	// Server is a URL of the PostgreSQL server (any database on it); Name the bench's database.
	Server, Name string
	// MaxConns bounds the pool (store.Options.MaxOpenConns).
	MaxConns int
	// Reuse opens the database a kept run left instead of recreating it (and keeps it again);
	// Keep leaves it after the run.
	Reuse, Keep bool
}

// URL is the bench database's URL on the server.
func (d Database) URL() (string, error) {
	u, err := url.Parse(d.Server)
	if err != nil {
		return "", err
	}
	u.Path = "/" + d.Name
	return u.String(), nil
}

// Open drops and recreates the bench database (unless Reuse) and migrates it. The function
// it returns closes it and, unless Keep, drops it.
func (d Database) Open(ctx context.Context) (*store.DB, func(), error) {
	dsn, err := d.URL()
	if err != nil {
		return nil, nil, err
	}
	if !d.Reuse {
		if err := d.drop(ctx); err != nil {
			return nil, nil, err
		}
	}
	db, err := store.Open(ctx, dsn, store.Options{MaxOpenConns: d.MaxConns})
	if err != nil {
		return nil, nil, err
	}
	if _, err := db.Migrate(ctx); err != nil {
		db.Close()
		return nil, nil, err
	}
	return db, func() {
		db.Close()
		if !d.Keep && !d.Reuse {
			_ = d.drop(context.Background())
		}
	}, nil
}

func (d Database) drop(ctx context.Context) error {
	conn, err := pgx.Connect(ctx, d.Server)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{d.Name}.Sanitize()+" WITH (FORCE)")
	return err
}

// Latencies are what a measurement saw: every request's time, sorted, and how many failed.
type Latencies struct {
	Sorted  []time.Duration
	Errors  int
	Elapsed time.Duration
}

// P50, P99 and Max are the median, the 99th percentile and the slowest request.
func (l Latencies) P50() time.Duration { return l.Sorted[len(l.Sorted)/2] }
func (l Latencies) P99() time.Duration { return l.Sorted[len(l.Sorted)*99/100] }
func (l Latencies) Max() time.Duration { return l.Sorted[len(l.Sorted)-1] }

// Rate is the requests a second.
func (l Latencies) Rate() float64 { return float64(len(l.Sorted)) / l.Elapsed.Seconds() }

// Measure sends req from conns goroutines, one request after another each, for d. Each
// goroutine draws from its own random source (stream and its number); the first error of
// each is printed to stderr.
func Measure(conns int, d time.Duration, stream uint64, req func(r *rand.Rand) error) Latencies {
	var mu sync.Mutex
	l := Latencies{Elapsed: d}
	var wg sync.WaitGroup
	end := time.Now().Add(d)
	for i := 0; i < conns; i++ {
		wg.Add(1)
		go func(seed uint64) {
			defer wg.Done()
			r := rand.New(rand.NewPCG(seed, stream))
			var mine []time.Duration
			bad := 0
			for time.Now().Before(end) {
				t := time.Now()
				if err := req(r); err != nil {
					bad++
					if bad == 1 {
						fmt.Fprintf(os.Stderr, "%s: %v\n", filepath.Base(os.Args[0]), err)
					}
				}
				mine = append(mine, time.Since(t))
			}
			mu.Lock()
			l.Sorted, l.Errors = append(l.Sorted, mine...), l.Errors+bad
			mu.Unlock()
		}(uint64(i))
	}
	wg.Wait()
	slices.Sort(l.Sorted)
	if len(l.Sorted) == 0 {
		l.Sorted = []time.Duration{0}
	}
	return l
}

// Report prints a measurement's line: requests, rate, p50, p99 and the slowest, against a
// target for p99. A figure over its target, or any error, is marked, not fatal: figures taken
// on a machine shared with other work say little.
func Report(name string, l Latencies, target time.Duration) {
	verdict := "ok"
	if l.P99() >= target || l.Errors > 0 {
		verdict = "OVER TARGET"
	}
	fmt.Printf("%-32s %6d requests  %7.0f/s  p50 %6.2f ms  p99 %6.2f ms  max %6.2f ms  (target p99 < %v, errors %d): %s\n", name,
		len(l.Sorted), l.Rate(), ms(l.P50()), ms(l.P99()), ms(l.Max()), target, l.Errors, verdict)
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// Services are carepath's domain services over a bench database, wired as the server wires
// them (without the case cache or the job queue), sealing with a fixed key.
type Services struct {
	Sealer  *store.Sealer
	Cases   *store.Cases
	Service *domain.Service
	Access  *domain.Access
}

// Wire wires the services over db; phones, when not nil, indexes the cases' phones.
func Wire(db *store.DB, phones *store.PhoneIndex) *Services {
	sealer, _ := store.NewSealer([][]byte{bytes.Repeat([]byte{7}, 32)})
	cases := store.NewCases(db, sealer)
	cases.Phones = phones
	ids := store.NewIdentities(db)
	return &Services{Sealer: sealer, Cases: cases,
		Service: &domain.Service{Cases: cases, Calendar: store.NewCalendars(db), Settings: domain.DefaultSettings(), Users: ids,
			Board: cases, Beds: cases, Waiting: cases, OfferLog: cases, NoticeLog: store.NewNotices(db).OpensPersonal(sealer)},
		Access: &domain.Access{Identities: ids, Log: store.NewAccessLog(db), Lookups: lookup.New(db), Settings: domain.DefaultAccessSettings()}}
}

// Generate adds n cases of the bulk generator (cmd/carepath/generate), drawn from seed.
func (s *Services) Generate(ctx context.Context, n int, seed uint64) error {
	cal, err := s.Service.Calendar.Calendar(ctx)
	if err != nil {
		return err
	}
	_, err = generate.Run(ctx, s.Cases, generate.Options{Cases: n, Settings: s.Service.Settings, Calendar: cal, Seed: seed})
	return err
}

// Serve serves srv's router over loopback HTTP and adds a user of role to call it as, named
// after the tool and the time so that a reused database takes another; it returns the server's
// address, the user's bearer secret and what stops the server.
func (s *Services) Serve(ctx context.Context, srv *api.Server, role string) (base, secret string, stop func(), err error) {
	if srv.Logger == nil {
		srv.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	h, err := srv.Handler()
	if err != nil {
		return "", "", nil, err
	}
	_, tok, err := s.Access.CreateUser(ctx, domain.NewUser{Name: fmt.Sprintf("%s %s %d", filepath.Base(os.Args[0]), role, time.Now().UnixNano()),
		Role: role})
	if err != nil {
		return "", "", nil, err
	}
	ts := httptest.NewServer(h)
	return ts.URL, tok.Secret, ts.Close, nil
}
