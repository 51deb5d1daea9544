// Command carepath-load drives carepath's HTTP API with concurrent connections for a fixed time
// or number of requests and reports throughput, latency percentiles and errors. It is a black
// box client: it knows the API, not the code. `make bench` runs it (scripts/bench.sh); run it
// only against your own server.
//
//	carepath-load -scenario events -c 16 -d 30s
//	carepath-load -scenario list -c 8 -d 30s -json bench-results/list.json
//
// Scenarios:
//   - events: POST /api/v1/cases/{id}/events with If-Match over many residing cases, with the
//     reversible pairs hospitalize/end_hospitalization and start_leave/end_leave; versions are
//     tracked from the ETag, so 409 and 412 are errors.
//   - list: GET /api/v1/cases with the filters specialists use (state, facility type, overdue,
//     assignee, name fragment, case number, limit 50) and follow-up cursor pages.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "carepath-load:", err)
		os.Exit(1)
	}
}

type config struct {
	base        string
	token       string
	scenario    string
	conns       int
	duration    time.Duration
	requests    int
	warmup      time.Duration
	casesPerCon int
	jsonPath    string
	timeout     time.Duration
	slow        time.Duration
	mix         string
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	fs := flag.NewFlagSet("carepath-load", flag.ContinueOnError)
	var cfg config
	fs.StringVar(&cfg.base, "url", "http://127.0.0.1:8080", "carepath base URL")
	fs.StringVar(&cfg.token, "token", "", "bearer token (default $CAREPATH_TOKEN, then $BOOTSTRAP_ADMIN_TOKEN)")
	fs.StringVar(&cfg.scenario, "scenario", "events", "events or list")
	fs.IntVar(&cfg.conns, "c", 16, "concurrent connections")
	fs.DurationVar(&cfg.duration, "d", 30*time.Second, "measured duration (after the warm-up)")
	fs.IntVar(&cfg.requests, "n", 0, "stop after this many measured requests instead (0: use -d)")
	fs.DurationVar(&cfg.warmup, "warmup", 3*time.Second, "warm-up before measuring; its requests are not counted")
	fs.IntVar(&cfg.casesPerCon, "cases", 100, "events: distinct cases per connection")
	fs.StringVar(&cfg.jsonPath, "json", "", "also write the results as JSON to this file")
	fs.DurationVar(&cfg.timeout, "timeout", 10*time.Second, "per-request timeout")
	fs.StringVar(&cfg.mix, "mix", "all", "list: all, filters (no name search) or names (name search only)")
	fs.DurationVar(&cfg.slow, "slow", 0, "print requests slower than this (up to 20) to find what is slow")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if cfg.token == "" {
		cfg.token = getenv("CAREPATH_TOKEN")
	}
	if cfg.token == "" {
		cfg.token = getenv("BOOTSTRAP_ADMIN_TOKEN")
	}
	if cfg.token == "" {
		return errors.New("no token: pass -token or set CAREPATH_TOKEN")
	}
	if cfg.conns < 1 || cfg.conns > 1024 {
		return fmt.Errorf("-c %d: want 1..1024", cfg.conns)
	}
	cfg.base = strings.TrimRight(cfg.base, "/")
	cl := newClient(cfg)
	var sc scenario
	switch cfg.scenario {
	case "events":
		sc = &eventsScenario{}
	case "list":
		sc = &listScenario{}
	default:
		return fmt.Errorf("-scenario %q: want events or list", cfg.scenario)
	}
	prepStart := time.Now()
	if err := sc.prepare(ctx, cl, cfg); err != nil {
		return fmt.Errorf("prepare %s: %w", cfg.scenario, err)
	}
	fmt.Fprintf(stdout, "%s: prepared in %s; %d connections, warm-up %s, ", cfg.scenario, time.Since(prepStart).Round(time.Millisecond), cfg.conns, cfg.warmup)
	if cfg.requests > 0 {
		fmt.Fprintf(stdout, "%d requests\n", cfg.requests)
	} else {
		fmt.Fprintf(stdout, "%s\n", cfg.duration)
	}
	res := drive(ctx, cl, cfg, sc)
	res.print(stdout)
	if cfg.jsonPath != "" {
		b, _ := json.MarshalIndent(res, "", "  ")
		if err := os.WriteFile(cfg.jsonPath, append(b, '\n'), 0o644); err != nil {
			return err
		}
	}
	if res.Requests == 0 {
		return errors.New("no request completed")
	}
	return nil
}

// client is an HTTP client with one kept-alive connection per worker.
type client struct {
	http  *http.Client
	base  string
	token string
}

func newClient(cfg config) *client {
	tr := &http.Transport{MaxIdleConns: cfg.conns * 2, MaxIdleConnsPerHost: cfg.conns * 2, MaxConnsPerHost: cfg.conns + 4,
		DisableCompression: true, IdleConnTimeout: time.Minute}
	return &client{http: &http.Client{Transport: tr, Timeout: cfg.timeout}, base: cfg.base, token: cfg.token}
}

// response is what a scenario needs back from a request.
type response struct {
	status int
	etag   string
	body   []byte
}

func (c *client) do(ctx context.Context, method, path string, header map[string]string, body any, keepBody bool) (response, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return response{}, err
		}
		rd = strings.NewReader(string(b))
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return response{}, err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return response{}, err
	}
	defer resp.Body.Close()
	r := response{status: resp.StatusCode, etag: resp.Header.Get("ETag")}
	if keepBody || resp.StatusCode >= 300 {
		r.body, err = io.ReadAll(resp.Body)
	} else {
		_, err = io.Copy(io.Discard, resp.Body)
	}
	return r, err
}

func (c *client) getJSON(ctx context.Context, path string, dst any) error {
	r, err := c.do(ctx, http.MethodGet, path, nil, nil, true)
	if err != nil {
		return err
	}
	if r.status != http.StatusOK {
		return fmt.Errorf("GET %s: %d %s", path, r.status, strings.TrimSpace(string(r.body)))
	}
	return json.Unmarshal(r.body, dst)
}

// scenario prepares its data, then gives each worker a function doing one request.
type scenario interface {
	prepare(ctx context.Context, c *client, cfg config) error
	// worker returns the request loop body of worker w: one request, its kind, status and error.
	worker(w int) func(ctx context.Context, c *client) (kind string, status int, err error)
}

// sample is one measured request.
type sample struct {
	kind   string
	d      time.Duration
	status int
	err    bool
}

func drive(ctx context.Context, c *client, cfg config, sc scenario) *result {
	start := time.Now()
	measureFrom := start.Add(cfg.warmup)
	end := measureFrom.Add(cfg.duration)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		mu       sync.Mutex
		samples  = make([]sample, 0, 1<<16)
		measured int
	)
	var wg sync.WaitGroup
	for w := 0; w < cfg.conns; w++ {
		wg.Add(1)
		next := sc.worker(w)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				t := time.Now()
				if cfg.requests == 0 && !t.Before(end) {
					return
				}
				kind, status, err := next(ctx, c)
				d := time.Since(t)
				if ctx.Err() != nil {
					return
				}
				if t.Before(measureFrom) {
					continue
				}
				mu.Lock()
				samples = append(samples, sample{kind: kind, d: d, status: status, err: err != nil || status >= 300})
				measured++
				if cfg.requests > 0 && measured >= cfg.requests {
					cancel()
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(measureFrom)
	if cfg.requests == 0 {
		elapsed = min(elapsed, cfg.duration+cfg.timeout)
	}
	return summarize(cfg, samples, elapsed)
}

// stats are latency figures in milliseconds.
type stats struct {
	Requests int     `json:"requests"`
	Errors   int     `json:"errors"`
	P50      float64 `json:"p50_ms"`
	P95      float64 `json:"p95_ms"`
	P99      float64 `json:"p99_ms"`
	Max      float64 `json:"max_ms"`
	Mean     float64 `json:"mean_ms"`
}

type result struct {
	Scenario       string           `json:"scenario"`
	URL            string           `json:"url"`
	Connections    int              `json:"connections"`
	Seconds        float64          `json:"seconds"`
	Requests       int              `json:"requests"`
	Errors         int              `json:"errors"`
	ErrorsByStatus map[string]int   `json:"errors_by_status"`
	Throughput     float64          `json:"throughput_rps"`
	Latency        stats            `json:"latency"`
	ByKind         map[string]stats `json:"by_kind"`
	Finished       time.Time        `json:"finished_at"`
}

func percentile(sorted []time.Duration, p float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(p/100*float64(len(sorted)))) - 1
	i = max(0, min(i, len(sorted)-1))
	return ms(sorted[i])
}

func ms(d time.Duration) float64 { return math.Round(float64(d.Microseconds())/10) / 100 }

func statsOf(ss []sample) stats {
	ds := make([]time.Duration, len(ss))
	var sum time.Duration
	st := stats{Requests: len(ss)}
	for i, s := range ss {
		ds[i] = s.d
		sum += s.d
		if s.err {
			st.Errors++
		}
	}
	slices.Sort(ds)
	if len(ds) > 0 {
		st.P50, st.P95, st.P99, st.Max = percentile(ds, 50), percentile(ds, 95), percentile(ds, 99), ms(ds[len(ds)-1])
		st.Mean = ms(sum / time.Duration(len(ds)))
	}
	return st
}

func summarize(cfg config, ss []sample, elapsed time.Duration) *result {
	r := &result{Scenario: cfg.scenario, URL: cfg.base, Connections: cfg.conns, Seconds: math.Round(elapsed.Seconds()*100) / 100,
		Requests: len(ss), ErrorsByStatus: map[string]int{}, ByKind: map[string]stats{}, Finished: time.Now().UTC()}
	byKind := map[string][]sample{}
	for _, s := range ss {
		if s.err {
			r.Errors++
			key := strconv.Itoa(s.status)
			if s.status == 0 {
				key = "transport"
			}
			r.ErrorsByStatus[key]++
		}
		byKind[s.kind] = append(byKind[s.kind], s)
	}
	r.Latency = statsOf(ss)
	for k, v := range byKind {
		r.ByKind[k] = statsOf(v)
	}
	if elapsed > 0 {
		r.Throughput = math.Round(float64(len(ss))/elapsed.Seconds()*10) / 10
	}
	return r
}

func (r *result) print(w io.Writer) {
	fmt.Fprintf(w, "%s: %d requests in %.1fs = %.1f req/s, %d errors %v\n", r.Scenario, r.Requests, r.Seconds, r.Throughput, r.Errors, r.ErrorsByStatus)
	fmt.Fprintf(w, "  latency ms: p50 %.2f  p95 %.2f  p99 %.2f  max %.2f  mean %.2f\n", r.Latency.P50, r.Latency.P95, r.Latency.P99, r.Latency.Max, r.Latency.Mean)
	kinds := make([]string, 0, len(r.ByKind))
	for k := range r.ByKind {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	for _, k := range kinds {
		s := r.ByKind[k]
		fmt.Fprintf(w, "  %-28s n=%-7d err=%-5d p50 %7.2f  p95 %7.2f  p99 %7.2f  max %7.2f\n", k, s.Requests, s.Errors, s.P50, s.P95, s.P99, s.Max)
	}
}

// caseSummary is the part of a list item the scenarios use.
type caseSummary struct {
	ID            string `json:"id"`
	Number        string `json:"number"`
	State         string `json:"state"`
	Version       int    `json:"version"`
	ApplicantName string `json:"applicant_name"`
	AssigneeID    string `json:"assignee_id"`
}

type casePage struct {
	Items      []caseSummary `json:"items"`
	NextCursor string        `json:"next_cursor"`
}

// collect pages through a list until it has n cases.
func collect(ctx context.Context, c *client, query url.Values, n int) ([]caseSummary, error) {
	var out []caseSummary
	query.Set("limit", "200")
	for len(out) < n {
		var p casePage
		if err := c.getJSON(ctx, "/api/v1/cases?"+query.Encode(), &p); err != nil {
			return nil, err
		}
		out = append(out, p.Items...)
		if p.NextCursor == "" {
			break
		}
		query.Set("cursor", p.NextCursor)
	}
	return out[:min(n, len(out))], nil
}

// eventsScenario moves residing cases in and out of hospital and leave. Each worker owns its
// cases, so no two requests race for one case and every 409 or 412 is a real error.
type eventsScenario struct {
	perWorker [][]*trackedCase
}

type trackedCase struct {
	id      string
	version int
	state   string
	// leave alternates the pair a residing case takes next.
	leave bool
}

func (s *eventsScenario) prepare(ctx context.Context, c *client, cfg config) error {
	want := cfg.conns * cfg.casesPerCon
	cases, err := collect(ctx, c, url.Values{"state": {"residing"}}, want)
	if err != nil {
		return err
	}
	if len(cases) < cfg.conns {
		return fmt.Errorf("found %d residing cases; want at least one per connection (generate data first: carepath seed --cases N)", len(cases))
	}
	s.perWorker = make([][]*trackedCase, cfg.conns)
	for i, cs := range cases {
		s.perWorker[i%cfg.conns] = append(s.perWorker[i%cfg.conns], &trackedCase{id: cs.ID, version: cs.Version, state: cs.State, leave: i%2 == 0})
	}
	return nil
}

func (s *eventsScenario) worker(w int) func(ctx context.Context, c *client) (string, int, error) {
	mine := s.perWorker[w]
	next := 0
	return func(ctx context.Context, c *client) (string, int, error) {
		tc := mine[next%len(mine)]
		next++
		body := map[string]any{}
		dest := "residing"
		switch tc.state {
		case "residing":
			if tc.leave {
				body["event"], body["return_by"] = "start_leave", time.Now().AddDate(0, 0, 7).Format(time.DateOnly)
				dest = "on_leave"
			} else {
				body["event"] = "hospitalize"
				dest = "hospitalized"
			}
			tc.leave = !tc.leave
		case "on_leave":
			body["event"] = "end_leave"
		case "hospitalized":
			body["event"] = "end_hospitalization"
		default:
			return "resync", 0, tc.resync(ctx, c)
		}
		kind := body["event"].(string)
		r, err := c.do(ctx, http.MethodPost, "/api/v1/cases/"+tc.id+"/events", map[string]string{"If-Match": strconv.Quote(strconv.Itoa(tc.version))}, body, false)
		if err != nil {
			return kind, 0, err
		}
		if r.status != http.StatusOK {
			// Out of step (someone else moved the case): read it again, untimed by the next request.
			_ = tc.resync(ctx, c)
			return kind, r.status, nil
		}
		v, err := strconv.Atoi(strings.Trim(strings.TrimPrefix(r.etag, "W/"), `"`))
		if err != nil {
			return kind, r.status, fmt.Errorf("ETag %q: %w", r.etag, err)
		}
		tc.version, tc.state = v, dest
		return kind, r.status, nil
	}
}

func (tc *trackedCase) resync(ctx context.Context, c *client) error {
	var cs caseSummary
	if err := c.getJSON(ctx, "/api/v1/cases/"+tc.id, &cs); err != nil {
		return err
	}
	tc.version, tc.state = cs.Version, cs.State
	return nil
}

// listScenario asks for the lists a specialist opens, drawn from what the data holds.
type listScenario struct {
	mix      string
	slow     time.Duration
	slowSeen atomic.Int32

	states      []string
	surnames    []string // common: "Иванова"
	fragments   []string // part of a surname: "Кузне"
	fullNames   []string // rare: one person
	numbers     []string
	assignees   []string
	facilityTyp []string
}

func (s *listScenario) prepare(ctx context.Context, c *client, cfg config) error {
	s.slow, s.mix = cfg.slow, cfg.mix
	if s.mix != "all" && s.mix != "filters" && s.mix != "names" {
		return fmt.Errorf("-mix %q: want all, filters or names", s.mix)
	}
	sample, err := collect(ctx, c, url.Values{}, 2000)
	if err != nil {
		return err
	}
	if len(sample) < 50 {
		return fmt.Errorf("found %d cases; generate data first (carepath seed --cases N)", len(sample))
	}
	// Older cases too, so that numbers and names are not all from the newest page.
	older, err := collect(ctx, c, url.Values{"state": {"residing"}}, 2000)
	if err != nil {
		return err
	}
	sample = append(sample, older...)
	seen := map[string]bool{}
	for _, cs := range sample {
		parts := strings.Fields(cs.ApplicantName)
		if len(parts) >= 3 {
			if !seen[parts[0]] {
				seen[parts[0]] = true
				s.surnames = append(s.surnames, parts[0])
				if r := []rune(parts[0]); len(r) > 6 {
					s.fragments = append(s.fragments, strings.ToLower(string(r[:5])))
				}
			}
			s.fullNames = append(s.fullNames, cs.ApplicantName)
		}
		s.numbers = append(s.numbers, cs.Number)
		if cs.AssigneeID != "" && !seen[cs.AssigneeID] {
			seen[cs.AssigneeID] = true
			s.assignees = append(s.assignees, cs.AssigneeID)
		}
	}
	s.states = []string{"intake", "collecting_documents", "under_review", "waiting_list", "voucher_issued", "residing",
		"on_leave", "hospitalized", "transfer_pending", "rejected"}
	s.facilityTyp = []string{"elderly_disabled", "psychoneurological", "veterans"}
	return nil
}

// query draws a list a specialist opens, within the chosen mix.
func (s *listScenario) query(r *rand.Rand) (string, url.Values) {
	for {
		kind, q := s.draw(r)
		byName := strings.HasPrefix(kind, "q=") && kind != "q=number"
		if s.mix == "all" || (s.mix == "names") == byName {
			return kind, q
		}
	}
}

// draw is one list a specialist opens: its kind (for the report) and its filters.
func (s *listScenario) draw(r *rand.Rand) (string, url.Values) {
	q := url.Values{"limit": {"50"}}
	pick := func(xs []string) string { return xs[r.IntN(len(xs))] }
	switch x := r.IntN(100); {
	case x < 20:
		q.Set("state", pick(s.states))
		return "state", q
	case x < 30:
		q.Set("state", pick(s.states))
		q.Set("facility_type", pick(s.facilityTyp))
		return "state+facility_type", q
	case x < 35:
		q.Set("facility_type", pick(s.facilityTyp))
		return "facility_type", q
	case x < 45:
		q.Set("overdue", "true")
		return "overdue", q
	case x < 52:
		q.Set("overdue", "true")
		q.Set("state", pick(s.states))
		return "overdue+state", q
	case x < 60 && len(s.assignees) > 0:
		q.Set("assignee", pick(s.assignees))
		if r.IntN(2) == 0 {
			q.Set("overdue", "true")
			return "assignee+overdue", q
		}
		return "assignee", q
	case x < 70:
		q.Set("q", pick(s.surnames))
		return "q=surname", q
	case x < 76:
		q.Set("q", pick(s.fragments))
		return "q=fragment", q
	case x < 84:
		q.Set("q", pick(s.fullNames))
		return "q=full_name", q
	case x < 94:
		q.Set("q", pick(s.numbers))
		return "q=number", q
	default:
		return "all", q
	}
}

func (s *listScenario) worker(w int) func(ctx context.Context, c *client) (string, int, error) {
	r := rand.New(rand.NewPCG(uint64(w), 42))
	var (
		follow     url.Values // the next page to ask for, when following a list
		followKind string
		pages      int
	)
	return func(ctx context.Context, c *client) (string, int, error) {
		var kind string
		var q url.Values
		if follow != nil {
			kind, q, follow = followKind+" page2+", follow, nil
		} else {
			kind, q = s.query(r)
			followKind, pages = kind, 0
		}
		t := time.Now()
		resp, err := c.do(ctx, http.MethodGet, "/api/v1/cases?"+q.Encode(), nil, nil, true)
		if err != nil {
			return kind, 0, err
		}
		if d := time.Since(t); s.slow > 0 && d > s.slow && s.slowSeen.Add(1) <= 20 {
			fmt.Fprintf(os.Stderr, "slow: %s GET /api/v1/cases?%s\n", d.Round(time.Millisecond), q.Encode())
		}
		// A third of the lists are scrolled, up to three more pages.
		if resp.status == http.StatusOK && pages < 3 && r.IntN(3) == 0 {
			var p casePage
			if json.Unmarshal(resp.body, &p) == nil && p.NextCursor != "" {
				next := url.Values{}
				for k, v := range q {
					next[k] = v
				}
				next.Set("cursor", p.NextCursor)
				follow = next
				pages++
			}
		}
		return kind, resp.status, nil
	}
}
