package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"

	"carepath/api"
	"carepath/domain"
)

// The contract-driven fuzzer: for every operation of openapi.yaml it sends valid requests (the
// operation's example, fitting parameters and credentials) and mutated ones (wrong types,
// missing and extra fields, huge and odd strings, NUL, invalid UTF-8, bad JSON, absurd limits,
// tampered cursors, odd If-Match, foreign and missing credentials, other methods), and fails on
// any 5xx, any 4xx that is not problem+json, any 2xx that breaks the contract, and any panic or
// ERROR line in the server's log. `make test` runs a short seeded run; `make fuzz` a long one
// (FUZZ_REQUESTS, FUZZ_SEED).

// syncBuffer is the server's log, written by its goroutines and read by the test.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func envInt(t *testing.T, name string, def int) int {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		t.Fatalf("%s=%q: want a positive whole number", name, v)
	}
	return n
}

// fuzzer holds what the requests are built from.
type fuzzer struct {
	h   *harness
	rnd *rand.Rand
	// values of path parameters by the path's prefix
	caseID, noticeID, foreignCaseID string
	cursors                         []string
}

func TestFuzzContract(t *testing.T) {
	requests := envInt(t, "FUZZ_REQUESTS", 3000)
	seed := envInt(t, "FUZZ_SEED", 1)
	log := &syncBuffer{}
	logger := slog.New(slog.NewJSONHandler(log, &slog.HandlerOptions{Level: slog.LevelWarn}))
	defer slog.SetDefault(slog.Default())
	slog.SetDefault(logger) // writeError logs internal errors to the default logger
	h := newHarness(t, func(s *api.Server) { s.Logger = logger })
	f := &fuzzer{h: h, rnd: rand.New(rand.NewPCG(uint64(seed), 14))}
	f.fixtures()

	spec, _ := h.api.Spec()
	type operation struct {
		method, path string
		item         *openapi3.PathItem
		op           *openapi3.Operation
	}
	var ops []operation
	for _, path := range spec.Paths.InMatchingOrder() {
		item := spec.Paths.Value(path)
		for method, op := range item.Operations() {
			ops = append(ops, operation{method, path, item, op})
		}
	}
	sort.Slice(ops, func(i, j int) bool { return ops[i].method+ops[i].path < ops[j].method+ops[j].path })

	client := &http.Client{Timeout: 30 * time.Second}
	sent, byStatus := 0, map[int]int{}
	start := time.Now()
	for i := range requests {
		o := ops[i%len(ops)] // every operation in turn, each request mutated its own way
		valid := i < 2*len(ops) || f.rnd.IntN(4) == 0
		req, what := f.request(o.method, o.path, o.item, o.op, valid)
		reqBody, _ := io.ReadAll(req.Body)
		req.Body = io.NopCloser(bytes.NewReader(reqBody))
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("request %d (%s %s, %s): %v", i, o.method, o.path, what, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		sent++
		byStatus[resp.StatusCode]++
		ct := resp.Header.Get("Content-Type")
		switch {
		case resp.StatusCode >= 500:
			t.Errorf("request %d (%s %.200s, %s) answered %d: %.300s", i, req.Method, req.URL.RequestURI(), what, resp.StatusCode, body)
		case resp.StatusCode >= 400 && req.Method != http.MethodHead && !strings.HasPrefix(ct, api.ProblemContentType):
			t.Errorf("request %d (%s %.200s, %s) answered %d as %q, not problem+json: %.300s", i, req.Method, req.URL.RequestURI(), what, resp.StatusCode, ct, body)
		case resp.StatusCode < 300 && req.Method == o.method:
			// A request the server took must have got the answer the contract promises.
			h.t = t
			failed := t.Failed()
			h.checkContract(req, reqBody, resp, body)
			if !failed && t.Failed() {
				t.Errorf("request %d (%s %.200s, %s) with %.300s: %.600s", i, req.Method, req.URL.RequestURI(), what, reqBody, body)
			}
		}
		if t.Failed() && i > 2*len(ops) {
			break // the first failures say enough
		}
	}
	for _, line := range strings.Split(log.String(), "\n") {
		if strings.Contains(line, `"level":"ERROR"`) || strings.Contains(strings.ToLower(line), "panic") {
			t.Errorf("server log: %.500s", line)
		}
	}
	statuses := make([]int, 0, len(byStatus))
	for s := range byStatus {
		statuses = append(statuses, s)
	}
	slices.Sort(statuses)
	var summary []string
	for _, s := range statuses {
		summary = append(summary, fmt.Sprintf("%d×%d", byStatus[s], s))
	}
	t.Logf("fuzz: %d requests sent over %d operations (seed %d) in %s: %s", sent, len(ops), seed, time.Since(start).Round(time.Millisecond), strings.Join(summary, " "))
	if os.Getenv("FUZZ_REQUESTS") != "" {
		fmt.Printf("fuzz: %d requests sent (seed %d)\n", sent, seed)
	}
}

// fixtures: a case the health organisation and guardianship body are party to (and one they
// are not), a notice, and a few cursors to tamper with.
func (f *fuzzer) fixtures() {
	h := f.h
	ctx := context.Background()
	n := exampleNewCase(h)
	n.GuardianshipID = h.tokens["guardianship_id"]
	c, _, err := h.svc.Register(ctx, domain.System, n)
	if err != nil {
		h.t.Fatal(err)
	}
	f.caseID = c.ID
	f.foreignCaseID, _ = h.createCase()
	h.createCase()
	ns, err := h.svc.Notices(ctx, f.foreignCaseID)
	if err != nil || len(ns) == 0 {
		h.t.Fatalf("notices: %v %v", ns, err)
	}
	f.noticeID = ns[0].ID
	for _, kind := range []domain.AgencyKind{domain.AgencyHealth, domain.AgencyFacility, domain.AgencyMFC, domain.AgencyGuardianship} {
		_, key, err := h.access.CreateAgency(ctx, domain.NewAgency{Name: "Чужое агентство " + string(kind), Kind: kind})
		if err != nil {
			h.t.Fatal(err)
		}
		h.tokens["foreign_"+string(kind)] = key.Secret
	}
	h.token = h.tokens[domain.RoleSupervisor]
	if cur, _ := h.do("GET", "/api/v1/cases?limit=1", nil).json(h.t)["next_cursor"].(string); cur != "" {
		f.cursors = append(f.cursors, cur)
	}
	h.token = h.tokens[domain.RoleAdmin]
	if cur, _ := h.do("GET", "/api/v1/audit?limit=1", nil).json(h.t)["next_cursor"].(string); cur != "" {
		f.cursors = append(f.cursors, cur)
	}
}

func (f *fuzzer) pick(xs ...string) string { return xs[f.rnd.IntN(len(xs))] }

// credential is the token the request goes with: usually one the matrix grants the operation,
// sometimes a foreign agency's, a role's the matrix refuses, a made-up one or none.
func (f *fuzzer) credential(op *openapi3.Operation, valid bool) (string, string) {
	fit := tokenFor(f.h, op)
	if valid || f.rnd.IntN(10) < 6 {
		return fit, "fitting credential"
	}
	who := f.pick("foreign_health", "foreign_facility", "foreign_mfc", "foreign_guardianship", "specialist", "admin", "health",
		"social_protection", "", "garbage", "odd")
	switch who {
	case "garbage":
		return "cpt_" + strings.Repeat("x", f.rnd.IntN(300)), "made-up token"
	case "odd":
		return "cpk_ \t" + f.oddString()[:0] + "Я", "odd token"
	}
	return f.h.tokens[who], "credential of " + who
}

// pathValue is a value for a path parameter: a real one, or (mutated) anything.
func (f *fuzzer) pathValue(path string, p *openapi3.Parameter, valid bool) string {
	if !valid && f.rnd.IntN(3) == 0 {
		return f.pick("00000000-0000-0000-0000-000000000000", "6f1c2f0e-3a7b-4c1d-9e2f-0a1b2c3d4e5f", "not-a-uuid", "%00", "%ff%fe",
			strings.Repeat("9", 5000), "..%2f..%2fetc%2fpasswd", "KC-2025-000001", "' OR 1=1 --", "passport", "unknown_type", "%E2%80%AE")
	}
	switch {
	case p.Name == "type":
		d := domain.DocTypes[f.rnd.IntN(len(domain.DocTypes))]
		return string(d.Type)
	case strings.HasPrefix(path, "/api/v1/cases/"), strings.HasPrefix(path, "/api/v1/agency/cases/"):
		if !valid && f.rnd.IntN(3) == 0 {
			return f.foreignCaseID
		}
		return f.caseID
	case strings.HasPrefix(path, "/api/v1/notices/"):
		return f.noticeID
	case strings.HasPrefix(path, "/api/v1/users/"):
		return exampleUserID
	case strings.HasPrefix(path, "/api/v1/agencies/"):
		return exampleAgencyID
	case strings.HasPrefix(path, "/api/v1/agency/facilities/"):
		return exampleFacilityID
	}
	v, _ := exampleString(p.Example)
	return v
}

// oddStrings are strings a careless server mishandles.
func (f *fuzzer) oddString() string {
	switch f.rnd.IntN(14) {
	case 0:
		return strings.Repeat("Я", 1+f.rnd.IntN(70000))
	case 1:
		return "a\x00b"
	case 2:
		return "\xff\xfe\xc3"
	case 3:
		return "' OR 1=1; DROP TABLE cases; --"
	case 4:
		return "<script>alert(1)</script>"
	case 5:
		return "\u202eгнидаеР 🧓🏻 \u0301\ufeff"
	case 6:
		return ""
	case 7:
		return "   "
	case 8:
		return "99999999999999999999999999"
	case 9:
		return "-1"
	case 10:
		return "%00%ff"
	case 11:
		return "1941-02-30"
	case 12:
		return "\\u0000"
	}
	return strings.Repeat("x", 1+f.rnd.IntN(3000))
}

// oddValue is a value of any JSON type.
func (f *fuzzer) oddValue() any {
	switch f.rnd.IntN(9) {
	case 0:
		return nil
	case 1:
		return f.rnd.IntN(3) == 0
	case 2:
		return []any{f.oddString(), 1}
	case 3:
		return map[string]any{"x": f.oddString()}
	case 4:
		return 1e308
	case 5:
		return -9223372036854775808.0
	case 6:
		return 3.5
	}
	return f.oddString()
}

// queryValue is a value for a query parameter from its schema, or an absurd one.
func (f *fuzzer) queryValue(p *openapi3.Parameter, valid bool) string {
	if !valid && f.rnd.IntN(2) == 0 {
		switch p.Name {
		case "limit":
			return f.pick("0", "-1", "1000000000", "99999999999999999999999", "1e3", "abc", "", "5.5", "0x10")
		case "cursor":
			if len(f.cursors) > 0 && f.rnd.IntN(2) == 0 {
				c := []byte(f.cursors[f.rnd.IntN(len(f.cursors))])
				c[f.rnd.IntN(len(c))] ^= byte(1 + f.rnd.IntN(60))
				return string(c)
			}
			return f.pick("czk5OTk5OTk5OTk5OTk5OTk5OTk5OTk5OQ", "cy0x", "AAAA", "%00", "=", strings.Repeat("A", 10000), "czA")
		case "from", "to":
			return f.pick("2025-13-45", "0000-01-01", "9999-12-31T23:59:59Z", "yesterday", "2025-01-01T00:00:00+99:00", "1e10")
		}
		return f.oddString()
	}
	s := p.Schema.Value
	switch {
	case p.Name == "cursor" && len(f.cursors) > 0:
		return f.cursors[f.rnd.IntN(len(f.cursors))]
	case len(s.Enum) > 0:
		return fmt.Sprint(s.Enum[f.rnd.IntN(len(s.Enum))])
	case s.Type.Is("boolean"):
		return f.pick("true", "false")
	case s.Type.Is("integer"):
		lo, hi := 1, 100
		if s.Min != nil {
			lo = int(*s.Min)
		}
		if s.Max != nil {
			hi = int(*s.Max)
		}
		return strconv.Itoa(lo + f.rnd.IntN(hi-lo+1))
	case s.Format == "uuid":
		return f.pick(f.caseID, exampleUserID, f.h.tokens["health_id"])
	}
	if v, ok := exampleString(p.Example); ok {
		return v
	}
	return f.pick("Иванова", "2025-01-01", "KC-2025-000001")
}

// mutateJSON changes one thing deep inside a decoded JSON value.
func (f *fuzzer) mutateJSON(v any) (any, string) {
	switch x := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		if len(keys) == 0 || f.rnd.IntN(6) == 0 {
			x[f.pick("unknown", "id", "version", "state", "__proto__", "")] = f.oddValue()
			return x, "extra field"
		}
		k := keys[f.rnd.IntN(len(keys))]
		switch f.rnd.IntN(5) {
		case 0:
			delete(x, k)
			return x, "missing " + k
		case 1:
			x[k] = f.oddValue()
			return x, "odd " + k
		}
		var what string
		x[k], what = f.mutateJSON(x[k])
		return x, k + "." + what
	case []any:
		if len(x) == 0 || f.rnd.IntN(4) == 0 {
			return append(x, f.oddValue()), "extra item"
		}
		i := f.rnd.IntN(len(x))
		var what string
		x[i], what = f.mutateJSON(x[i])
		return x, strconv.Itoa(i) + "." + what
	case string:
		return f.oddString(), "odd string"
	}
	return f.oddValue(), "wrong type"
}

// badJSON is a body that is not the JSON the operation takes.
func (f *fuzzer) badJSON(valid []byte) ([]byte, string) {
	switch f.rnd.IntN(10) {
	case 0:
		return valid[:f.rnd.IntN(len(valid)+1)], "truncated JSON"
	case 1:
		return append(slices.Clone(valid), []byte(`{"x":1}`)...), "two JSON values"
	case 2:
		return []byte(strings.Repeat("[", 20000) + strings.Repeat("]", 20000)), "deeply nested JSON"
	case 3:
		return []byte(`null`), "null body"
	case 4:
		return []byte(`[]`), "array body"
	case 5:
		return bytes.ReplaceAll(slices.Clone(valid), []byte(`"`), []byte("\x00")), "NUL bytes in JSON"
	case 6:
		return append([]byte{0xef, 0xbb, 0xbf}, valid...), "JSON with a BOM"
	case 7:
		return bytes.Repeat([]byte(" "), 2<<20), "2 MB of spaces"
	case 8:
		return []byte(`{"a":1,"a":2}`), "duplicate keys"
	}
	return []byte("\xff\xfe\x00\x01"), "binary body"
}

// request builds one request for the operation; valid keeps it to what the contract accepts.
func (f *fuzzer) request(method, path string, item *openapi3.PathItem, op *openapi3.Operation, valid bool) (*http.Request, string) {
	var what []string
	target := path
	query := url.Values{}
	headers := http.Header{}
	for _, pref := range append(slices.Clone(item.Parameters), op.Parameters...) {
		p := pref.Value
		switch p.In {
		case "path":
			target = strings.ReplaceAll(target, "{"+p.Name+"}", f.pathValue(path, p, valid))
		case "query":
			if p.Required || f.rnd.IntN(2) == 0 {
				query.Set(p.Name, f.queryValue(p, valid))
			}
		case "header":
			if p.Name == "If-Match" {
				headers.Set("If-Match", f.ifMatch(valid))
			}
		}
	}
	if !valid && f.rnd.IntN(8) == 0 {
		query.Set(f.pick("unknown", "limit", "q", "x"), f.oddString())
		what = append(what, "extra query")
	}
	raw := target
	if len(query) > 0 {
		raw += "?" + query.Encode()
	}
	var body []byte
	contentType := "application/json"
	if op.RequestBody != nil {
		mt := op.RequestBody.Value.Content.Get("application/json")
		body, _ = json.Marshal(mt.Example)
		if f.rnd.IntN(2) == 0 {
			if v := f.variant(op.OperationID); v != nil {
				body, _ = json.Marshal(v)
			}
		}
	}
	if !valid {
		switch r := f.rnd.IntN(10); {
		case body != nil && r < 5:
			var v any
			_ = json.Unmarshal(body, &v)
			var w string
			v, w = f.mutateJSON(v)
			body, _ = json.Marshal(v)
			// json.Marshal makes invalid UTF-8 valid; put raw bytes back now and then
			if f.rnd.IntN(3) == 0 {
				body = bytes.Replace(body, []byte(`\ufffd`), []byte("\xff"), 1)
			}
			what = append(what, "body: "+w)
		case body != nil && r < 7:
			var w string
			body, w = f.badJSON(body)
			what = append(what, w)
		case r == 7:
			contentType = f.pick("text/plain", "", "application/json; charset=latin1", "multipart/form-data; boundary=x", "application/xml")
			what = append(what, "content type "+contentType)
		case r == 8 && body == nil:
			body = []byte(`{"unexpected":true}`)
			what = append(what, "body where none is taken")
		}
	}
	if !valid && f.rnd.IntN(25) == 0 {
		method = f.pick("PATCH", "DELETE", "PUT", "HEAD", "OPTIONS", "PROPFIND", "TRACE")
		what = append(what, "method "+method)
	}
	req, err := http.NewRequest(method, f.h.srv.URL+raw, bytes.NewReader(body))
	if err != nil {
		f.h.t.Fatalf("%s %s: %v", method, raw, err)
	}
	if body == nil {
		req.Body, req.ContentLength = http.NoBody, 0
	}
	if contentType != "" && body != nil {
		req.Header.Set("Content-Type", contentType)
	}
	for k, vs := range headers {
		req.Header[k] = vs
	}
	token, who := f.credential(op, valid)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	what = append(what, who)
	if valid {
		what = append([]string{"valid"}, what...)
	}
	return req, strings.Join(what, ", ")
}

// ifMatch is the case's current version, or something odd.
func (f *fuzzer) ifMatch(valid bool) string {
	var version int
	if err := f.h.db.Gorm.Raw("SELECT version FROM cases WHERE id = ?", f.caseID).Scan(&version).Error; err != nil {
		f.h.t.Fatal(err)
	}
	if valid || f.rnd.IntN(3) == 0 {
		return strconv.Quote(strconv.Itoa(version))
	}
	return f.pick("", "*", `W/"`+strconv.Itoa(version)+`"`, `"abc"`, `"-1"`, `"0"`, `"99999999999999999999"`, `"1", "2"`,
		strconv.Itoa(version), `"`+strings.Repeat("9", 4000)+`"`, `"`+strconv.Itoa(version-1)+`"`, "\"\t\"")
}

// variant is another valid body for the commands whose example is one case of many: any
// event with some of the fields events take, any document status; nil for other operations.
func (f *fuzzer) variant(operationID string) map[string]any {
	day := func() string { return time.Now().AddDate(0, 0, f.rnd.IntN(60)-30).Format(time.DateOnly) }
	some := func(b map[string]any, fields map[string]func() any) map[string]any {
		keys := make([]string, 0, len(fields))
		for k := range fields {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if f.rnd.IntN(2) == 0 {
				b[k] = fields[k]()
			}
		}
		return b
	}
	switch operationID {
	case "fireEvent":
		events := domain.EventNames()
		return some(map[string]any{"event": events[f.rnd.IntN(len(events))]}, map[string]func() any{
			"comment": func() any { return "Комментарий" }, "reason": func() any { return "Причина" },
			"ippsu_number": func() any { return "ИППСУ-77" }, "ippsu_date": func() any { return day() },
			"facility_id": func() any { return exampleFacilityID }, "valid_until": func() any { return day() },
			"admitted_on": func() any { return day() }, "return_by": func() any { return day() },
			"date_of_death": func() any { return day() },
		})
	case "recordDocument":
		return some(map[string]any{"status": string(domain.DocStatuses[f.rnd.IntN(len(domain.DocStatuses))])}, map[string]func() any{
			"issued_on": func() any { return day() }, "valid_until": func() any { return day() }, "note": func() any { return "Заметка" },
		})
	}
	return nil
}
