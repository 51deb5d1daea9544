// Command carepath-status-load measures the relatives' status lookup, POST /api/v1/status, the
// way relatives use it: valid case numbers with their access codes, spread over many different
// real cases, from many keep-alive connections at once. It reports throughput and latency
// percentiles. `make bench-status` runs it (scripts/bench-status.sh).
//
// The access codes of real cases are not stored anywhere, so the loader first gives the cases
// it sampled known codes: it writes their access_code_hash (with -set-codes; a benchmark
// database only, never production).
//
//	carepath-status-load -set-codes -cases 20000 -c 32 -d 30s
package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"

	"carepath/domain"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "carepath-status-load:", err)
		os.Exit(1)
	}
}

type config struct {
	url      string
	db       string
	conns    int
	duration time.Duration
	warmup   time.Duration
	cases    int
	setCodes bool
	wrong    float64
	jsonPath string
	pairsOut string
}

// Result is what one run measured.
type Result struct {
	Connections int     `json:"connections"`
	Cases       int     `json:"cases"`
	Requests    int     `json:"requests"`
	Errors      int     `json:"errors"`
	Seconds     float64 `json:"seconds"`
	TPS         float64 `json:"tps"`
	P50ms       float64 `json:"p50_ms"`
	P95ms       float64 `json:"p95_ms"`
	P99ms       float64 `json:"p99_ms"`
	Maxms       float64 `json:"max_ms"`
}

func run(ctx context.Context, args []string, stdout io.Writer) error {
	var cfg config
	fs := flag.NewFlagSet("carepath-status-load", flag.ContinueOnError)
	fs.StringVar(&cfg.url, "url", "http://127.0.0.1:8080", "carepath's base URL")
	fs.StringVar(&cfg.db, "db", os.Getenv("DATABASE_URL"), "the benchmark database (to sample cases)")
	fs.IntVar(&cfg.conns, "c", 32, "concurrent connections")
	fs.DurationVar(&cfg.duration, "d", 30*time.Second, "how long to measure")
	fs.DurationVar(&cfg.warmup, "warmup", 3*time.Second, "load before measuring (not counted)")
	fs.IntVar(&cfg.cases, "cases", 20000, "how many different cases to look up")
	fs.BoolVar(&cfg.setCodes, "set-codes", false, "give the sampled cases known access codes (writes the benchmark database)")
	fs.Float64Var(&cfg.wrong, "wrong", 0, "share of lookups with a wrong code (404 expected; they count towards the lockout)")
	fs.StringVar(&cfg.jsonPath, "json", "", "also write the result as JSON to this file")
	fs.StringVar(&cfg.pairsOut, "pairs-out", "", "only prepare: write \"number code\" lines to this file for another load tool (wrk) and stop")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if !cfg.setCodes {
		return errors.New("the access codes of real cases are unknown: pass -set-codes to give the sampled cases known ones (benchmark databases only)")
	}
	pairs, err := prepare(ctx, cfg)
	if err != nil {
		return err
	}
	if cfg.pairsOut != "" {
		var b bytes.Buffer
		for _, p := range pairs {
			fmt.Fprintf(&b, "%s %s\n", p.number, p.code)
		}
		return os.WriteFile(cfg.pairsOut, b.Bytes(), 0o600)
	}
	fmt.Fprintf(stdout, "status lookup: %d cases, %d connections, warm-up %s, measuring %s\n", len(pairs), cfg.conns, cfg.warmup, cfg.duration)
	res, err := load(ctx, cfg, pairs)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "requests %d  errors %d  tps %.0f  p50 %.2f ms  p95 %.2f ms  p99 %.2f ms  max %.2f ms\n",
		res.Requests, res.Errors, res.TPS, res.P50ms, res.P95ms, res.P99ms, res.Maxms)
	if cfg.jsonPath != "" {
		b, _ := json.MarshalIndent(res, "", "  ")
		if err := os.WriteFile(cfg.jsonPath, b, 0o644); err != nil {
			return err
		}
	}
	if res.Errors > 0 {
		return fmt.Errorf("%d lookups failed", res.Errors)
	}
	return nil
}

type pair struct{ number, code string }

// prepare samples cases spread over the whole table and gives each a fresh random code.
func prepare(ctx context.Context, cfg config) ([]pair, error) {
	conn, err := pgx.Connect(ctx, cfg.db)
	if err != nil {
		return nil, fmt.Errorf("connect to the benchmark database: %w", err)
	}
	defer conn.Close(ctx)
	var total int
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM cases").Scan(&total); err != nil {
		return nil, err
	}
	if total == 0 {
		return nil, errors.New("the database has no cases: run `carepath seed` (or `seed --cases N`) first")
	}
	rows, err := conn.Query(ctx, "SELECT id::text, number FROM cases ORDER BY md5(id::text || $1) LIMIT $2", randomString(), cfg.cases)
	if err != nil {
		return nil, err
	}
	var ids []string
	var pairs []pair
	for rows.Next() {
		var id, number string
		if err := rows.Scan(&id, &number); err != nil {
			return nil, err
		}
		ids = append(ids, id)
		pairs = append(pairs, pair{number, domain.NewAccessCode()})
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	batch := &pgx.Batch{}
	for i, id := range ids {
		batch.Queue("UPDATE cases SET access_code_hash = $1 WHERE id = $2", domain.HashAccessCode(id, pairs[i].code), id)
	}
	if err := conn.SendBatch(ctx, batch).Close(); err != nil {
		return nil, fmt.Errorf("set access codes: %w", err)
	}
	// Counters left by earlier runs must not lock anyone out.
	if _, err := conn.Exec(ctx, "DELETE FROM status_failures"); err != nil {
		return nil, err
	}
	return pairs, nil
}

func randomString() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return fmt.Sprintf("%x", b)
}

func load(ctx context.Context, cfg config, pairs []pair) (Result, error) {
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		MaxIdleConns: cfg.conns, MaxIdleConnsPerHost: cfg.conns, MaxConnsPerHost: cfg.conns, IdleConnTimeout: time.Minute}}
	start := time.Now()
	measureFrom := start.Add(cfg.warmup)
	end := measureFrom.Add(cfg.duration)
	var (
		mu        sync.Mutex
		latencies []time.Duration
		errs      int
		firstErr  error
	)
	var wg sync.WaitGroup
	for w := 0; w < cfg.conns; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := mrand.New(mrand.NewPCG(uint64(w), uint64(time.Now().UnixNano())))
			var mine []time.Duration
			var myErrs int
			var myFirst error
			for ctx.Err() == nil {
				p := pairs[rng.IntN(len(pairs))]
				want := http.StatusOK
				code := p.code
				if cfg.wrong > 0 && rng.Float64() < cfg.wrong {
					code, want = "WRONGCODE234", http.StatusNotFound
				}
				body, _ := json.Marshal(map[string]string{"case_number": p.number, "access_code": code})
				t0 := time.Now()
				if t0.After(end) {
					break
				}
				status, err := post(ctx, client, cfg.url+"/api/v1/status", body)
				d := time.Since(t0)
				if err == nil && status != want {
					err = fmt.Errorf("case %s: status %d, want %d", p.number, status, want)
				}
				if t0.Before(measureFrom) {
					continue
				}
				if err != nil {
					myErrs++
					if myFirst == nil {
						myFirst = err
					}
					continue
				}
				mine = append(mine, d)
			}
			mu.Lock()
			latencies = append(latencies, mine...)
			errs += myErrs
			if firstErr == nil {
				firstErr = myFirst
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	if firstErr != nil {
		fmt.Fprintln(os.Stderr, "first error:", firstErr)
	}
	elapsed := time.Since(measureFrom)
	if elapsed > cfg.duration {
		elapsed = cfg.duration
	}
	slices.Sort(latencies)
	pct := func(p float64) float64 {
		if len(latencies) == 0 {
			return 0
		}
		i := int(float64(len(latencies))*p+0.5) - 1
		i = max(0, min(i, len(latencies)-1))
		return float64(latencies[i].Microseconds()) / 1000
	}
	res := Result{Connections: cfg.conns, Cases: len(pairs), Requests: len(latencies), Errors: errs, Seconds: elapsed.Seconds(),
		TPS: float64(len(latencies)) / elapsed.Seconds(), P50ms: pct(0.50), P95ms: pct(0.95), P99ms: pct(0.99), Maxms: pct(1)}
	return res, nil
}

func post(ctx context.Context, client *http.Client, url string, body []byte) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, nil
}
