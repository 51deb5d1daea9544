package api_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/hibiken/asynq"

	"carepath/api"
	"carepath/domain"
)

// What a hostile client found (issue 14), one test per defect.

// endlessBody is a request body of n bytes that counts how many were read from it.
type endlessBody struct {
	n, read int64
}

func (b *endlessBody) Read(p []byte) (int, error) {
	if b.read >= b.n {
		return 0, io.EOF
	}
	k := min(int64(len(p)), b.n-b.read)
	for i := range p[:k] {
		p[i] = ' '
	}
	atomic.AddInt64(&b.read, k)
	return int(k), nil
}

// raw sends a request as a client that ignores the contract would and returns the answer,
// checking only that an error is problem+json.
func (h *harness) raw(req *http.Request) response {
	h.t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatalf("%s %.80s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 400 && req.Method != http.MethodHead && !strings.HasPrefix(resp.Header.Get("Content-Type"), api.ProblemContentType) {
		h.t.Errorf("%s %.80s: %d is %q, not problem+json: %.200s", req.Method, req.URL.Path, resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	return response{resp.StatusCode, resp.Header, body}
}

func (h *harness) request(method, path string, body io.Reader, contentLength int64, token string) *http.Request {
	h.t.Helper()
	req, err := http.NewRequest(method, h.srv.URL+path, body)
	if err != nil {
		h.t.Fatal(err)
	}
	req.ContentLength = contentLength
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return req
}

func problemCode(t *testing.T, r response) string {
	t.Helper()
	var p struct{ Code, Field string }
	_ = json.Unmarshal(r.body, &p)
	return p.Code + "/" + p.Field
}

// TestBodiesAreLimitedBeforeAnythingReadsThem: a body over its route's limit is refused 413
// without being read, and a request without a credential hears 401, never a validation answer.
func TestBodiesAreLimitedBeforeAnythingReadsThem(t *testing.T) {
	h := newHarness(t)
	supervisor := h.tokens[domain.RoleSupervisor]

	// No credential and a body the contract refuses: 401, not 400.
	r := h.raw(h.request("POST", "/api/v1/cases", strings.NewReader(`{"channel":42}`), -1, ""))
	if r.status != http.StatusUnauthorized {
		t.Errorf("no credential, invalid body: want 401, got %d %s", r.status, r.body)
	}
	// An agency outside the route's surface hears 404 before its input is looked at.
	r = h.raw(h.request("POST", "/api/v1/users", strings.NewReader(`{"role":7}`), -1, h.tokens["health"]))
	if r.status != http.StatusNotFound {
		t.Errorf("agency on an admin route with an invalid body: want 404, got %d %s", r.status, r.body)
	}

	// 100 MB announced, or streamed without a length, with or without a credential: the server
	// reads at most about its limit.
	for _, tc := range []struct {
		name, path, token string
		announce          bool
		want              int
	}{
		{"announced, no credential", "/api/v1/cases", "", true, http.StatusRequestEntityTooLarge},
		{"announced, credential", "/api/v1/cases", supervisor, true, http.StatusRequestEntityTooLarge},
		{"chunked, no credential", "/api/v1/cases", "", false, http.StatusUnauthorized},
		{"chunked, credential", "/api/v1/cases", supervisor, false, http.StatusRequestEntityTooLarge},
		{"public lookup, announced", "/api/v1/status", "", true, http.StatusRequestEntityTooLarge},
		{"public lookup, chunked", "/api/v1/status", "", false, http.StatusRequestEntityTooLarge},
	} {
		body := &endlessBody{n: 100 << 20}
		length := int64(-1)
		if tc.announce {
			length = body.n
		}
		req := h.request("POST", tc.path, io.NopCloser(body), length, tc.token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.want || !strings.HasPrefix(resp.Header.Get("Content-Type"), api.ProblemContentType) {
			t.Errorf("%s: want %d problem+json, got %d %s", tc.name, tc.want, resp.StatusCode, b)
		}
		if sent := atomic.LoadInt64(&body.read); sent > 8<<20 {
			t.Errorf("%s: the server took %d MB of the body", tc.name, sent>>20)
		}
	}

	// The public lookup takes 16 KiB; a valid lookup padded past it is refused.
	padded := `{"case_number":"KC-2025-000001",` + strings.Repeat(" ", 20<<10) + `"access_code":"CAREPATH2345"}`
	r = h.raw(h.request("POST", "/api/v1/status", strings.NewReader(padded), int64(len(padded)), ""))
	if r.status != http.StatusRequestEntityTooLarge || problemCode(t, r) != "too_large/body" {
		t.Errorf("padded lookup: want 413 too_large/body, got %d %s", r.status, r.body)
	}
	// Below the limit it is an ordinary lookup.
	padded = `{"case_number":"KC-2025-000001",` + strings.Repeat(" ", 8<<10) + `"access_code":"CAREPATH2345"}`
	if r = h.raw(h.request("POST", "/api/v1/status", strings.NewReader(padded), int64(len(padded)), "")); r.status != http.StatusNotFound {
		t.Errorf("lookup under the limit: want 404 (no such case), got %d %s", r.status, r.body)
	}
}

// TestMetricsLabelsComeFromClosedSets: made-up methods and unknown paths add no series, and
// only METRICS_TOKEN reads /metrics.
func TestMetricsLabelsComeFromClosedSets(t *testing.T) {
	h := newHarness(t)
	for i := range 40 {
		h.raw(h.request(fmt.Sprintf("MADEUP%d", i), "/api/v1/cases", nil, 0, h.tokens[domain.RoleSupervisor]))
		h.raw(h.request("GET", fmt.Sprintf("/nowhere/%d", i), nil, 0, ""))
	}
	h.raw(h.request(strings.Repeat("M", 60<<10), "/healthz", nil, 0, ""))
	m := h.raw(h.request("GET", "/metrics", nil, 0, testMetricsToken))
	if m.status != http.StatusOK {
		t.Fatalf("metrics with METRICS_TOKEN: %d", m.status)
	}
	methods := map[string]bool{}
	for _, g := range regexp.MustCompile(`carepath_http_requests_total\{method="([^"]*)",route="([^"]*)"`).FindAllStringSubmatch(string(m.body), -1) {
		methods[g[1]] = true
		if strings.HasPrefix(g[2], "/nowhere") {
			t.Errorf("an unknown path became a route label: %s", g[2])
		}
	}
	for method := range methods {
		if method != "GET" && method != "POST" && method != "other" {
			t.Errorf("method label %.40q is not from the closed set", method)
		}
	}
	if !methods["other"] || len(m.body) > 64<<10 {
		t.Errorf("made-up methods should fold into method=\"other\"; labels %v, %d bytes of metrics", methods, len(m.body))
	}

	for _, token := range []string{"", h.tokens[domain.RoleAdmin], testMetricsToken + "x"} {
		if r := h.raw(h.request("GET", "/metrics", nil, 0, token)); r.status != http.StatusUnauthorized {
			t.Errorf("metrics with token %.12q: want 401, got %d", token, r.status)
		}
	}
	// Without METRICS_TOKEN the API's listener does not serve /metrics at all.
	s := &api.Server{}
	handler, err := s.Handler()
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	handler.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != http.StatusNotFound {
		t.Errorf("metrics without METRICS_TOKEN: want 404, got %d", rec.Code)
	}
}

// TestUnstorableTextIsRefusedAtTheEdge: NUL and invalid UTF-8, wherever they come (body field,
// query, path), are answered 400 naming the field, and nothing changes.
func TestUnstorableTextIsRefusedAtTheEdge(t *testing.T) {
	h := newHarness(t)
	id, etag := h.createCase()
	withName := func(name string) string {
		b, _ := json.Marshal(newCaseBody)
		return strings.Replace(string(b), `"Кузнецова Галина Николаевна"`, name, 1)
	}
	withContact := func(name string) string {
		b, _ := json.Marshal(newCaseBody)
		return strings.Replace(string(b), `"Кузнецов Олег"`, name, 1)
	}
	h.token = h.tokens[domain.RoleAdmin]
	agency := h.do("GET", "/api/v1/agencies", nil).json(t)["items"].([]any)[0].(map[string]any)["id"].(string)
	for _, tc := range []struct {
		name, token, method, path, body, field string
	}{
		{"NUL in a name", "supervisor", "POST", "/api/v1/cases", withName(`"Кузнецова\u0000 Галина"`), "applicant.full_name"},
		{"invalid UTF-8 in a name", "supervisor", "POST", "/api/v1/cases", withName("\"Кузнецова \xff\xfe\""), "applicant.full_name"},
		{"invalid UTF-8 in a contact", "supervisor", "POST", "/api/v1/cases", withContact("\"Олег \xc3\""), "contacts.0.name"},
		{"NUL in a comment", "supervisor", "POST", "/api/v1/cases/" + id + "/events", `{"event":"request_documents","comment":"a\u0000b"}`, "comment"},
		{"NUL in a note", "supervisor", "PUT", "/api/v1/cases/" + id + "/documents/passport", `{"status":"received","note":"\u0000"}`, "note"},
		{"NUL in a key", "supervisor", "PUT", "/api/v1/cases/" + id + "/documents/passport", `{"status":"received","no\u0000te":"x"}`, "body"},
		{"NUL in a webhook secret", "admin", "PUT", "/api/v1/agencies/" + agency + "/webhook", `{"url":"https://example.org/h","secret":"0123456789abcdef\u0000"}`, "secret"},
		{"invalid UTF-8 in a query", "supervisor", "GET", "/api/v1/cases?q=%ff", "", "q"},
		{"NUL in a query", "admin", "GET", "/api/v1/audit?actor=%00", "", "actor"},
		{"invalid UTF-8 in a path", "supervisor", "GET", "/api/v1/cases/%ff%fe", "", "id"},
	} {
		var body io.Reader
		if tc.body != "" {
			body = strings.NewReader(tc.body)
		}
		req := h.request(tc.method, tc.path, body, int64(len(tc.body)), h.tokens[tc.token])
		req.Header.Set("If-Match", etag)
		r := h.raw(req)
		if r.status != http.StatusBadRequest || problemCode(t, r) != "invalid/"+tc.field {
			t.Errorf("%s: want 400 invalid/%s, got %d %s", tc.name, tc.field, r.status, r.body)
		}
	}
	h.token = h.tokens[domain.RoleSupervisor]
	if got := h.do("GET", "/api/v1/cases/"+id, nil).header.Get("ETag"); got != etag {
		t.Errorf("refused requests changed the case: ETag %s, was %s", got, etag)
	}
	var n int
	if err := h.db.Gorm.Raw("SELECT count(*) FROM cases").Scan(&n).Error; err != nil || n != 1 {
		t.Errorf("refused registrations made cases: %d %v", n, err)
	}
}

// TestQueueMonitorRefusesCrossSiteRequests: a cross-origin POST with the admin's Basic
// credentials changes nothing, and the monitor may not be framed.
func TestQueueMonitorRefusesCrossSiteRequests(t *testing.T) {
	h := newHarness(t)
	h.enqueue("default")
	send := func(method, path string, headers ...string) response {
		req := h.request(method, path, nil, 0, "")
		req.SetBasicAuth("admin", h.tokens[domain.RoleAdmin])
		for i := 0; i+1 < len(headers); i += 2 {
			req.Header.Set(headers[i], headers[i+1])
		}
		return h.raw(req)
	}
	page := send("GET", "/ops/queues")
	if page.status != http.StatusOK || !strings.Contains(page.header.Get("Content-Security-Policy"), "frame-ancestors 'none'") ||
		page.header.Get("X-Frame-Options") != "DENY" {
		t.Errorf("monitor page: %d, CSP %q, X-Frame-Options %q", page.status, page.header.Get("Content-Security-Policy"), page.header.Get("X-Frame-Options"))
	}
	paused := func() bool {
		r := send("GET", "/ops/queues/api/queues/default")
		return strings.Contains(string(r.body), `"paused":true`)
	}
	for _, hdr := range [][]string{
		{"Origin", "https://evil.example", "Sec-Fetch-Site", "cross-site"},
		{"Origin", "https://evil.example"},
		{"Sec-Fetch-Site", "same-site"},
	} {
		if r := send("POST", "/ops/queues/api/queues/default:pause", hdr...); r.status != http.StatusForbidden {
			t.Errorf("cross-origin pause %v: want 403, got %d %s", hdr, r.status, r.body)
		}
	}
	if paused() {
		t.Fatal("a cross-origin request paused the queue")
	}
	if r := send("POST", "/ops/queues/api/queues/default:pause", "Origin", h.srv.URL, "Sec-Fetch-Site", "same-origin"); r.status >= 300 {
		t.Errorf("same-origin pause: %d %s", r.status, r.body)
	}
	if !paused() {
		t.Error("the monitor's own page could not pause the queue")
	}
}

// TestWebhookURLsMayNotPointInside: loopback, link-local, private and odd numeric hosts are
// refused when set (the worker checks again when it dials: jobs' TestWebhookDialsOnlyPublicAddresses).
func TestWebhookURLsMayNotPointInside(t *testing.T) {
	h := newHarness(t)
	h.token = h.tokens[domain.RoleAdmin]
	agency := h.tokens["health_id"]
	for _, u := range []string{
		"http://127.0.0.1:6379", "http://169.254.169.254/latest/meta-data", "http://[::1]:5432/", "http://10.1.2.3/hook",
		"https://192.168.0.10/hook", "http://172.16.5.4/", "http://localhost:8080/", "http://api.localhost/", "http://0.0.0.0/",
		"http://[fe80::1]/", "http://[::ffff:127.0.0.1]/", "http://2130706433/", "http://0x7f.1/", "http://100.64.0.1/",
	} {
		r := h.do("PUT", "/api/v1/agencies/"+agency+"/webhook", map[string]any{"url": u})
		if r.status != http.StatusBadRequest || problemCode(t, r) != "invalid/webhook.url" {
			t.Errorf("webhook %s: want 400 invalid/webhook.url, got %d %s", u, r.status, r.body)
		}
	}
	for _, u := range []string{"https://partner.example.org/hook", "https://8.8.8.8/hook", "https://cafe.be/hook"} {
		if r := h.do("PUT", "/api/v1/agencies/"+agency+"/webhook", map[string]any{"url": u}); r.status != http.StatusOK {
			t.Errorf("webhook %s: want 200, got %d %s", u, r.status, r.body)
		}
	}
	// WEBHOOK_ALLOW_PRIVATE lets a development setup point at itself.
	h.access.Settings.WebhookAllowPrivate = true
	if r := h.do("PUT", "/api/v1/agencies/"+agency+"/webhook", map[string]any{"url": "http://127.0.0.1:9000/hook"}); r.status != http.StatusOK {
		t.Errorf("with WEBHOOK_ALLOW_PRIVATE: %d %s", r.status, r.body)
	}
}

// TestHTTPDetails: 428 for a missing If-Match, a weak tag never matches, 405 says Allow, HEAD
// answers, nosniff everywhere, /docs with a CSP, /static without listings and with problem+json
// 404s, and no answer that grows with the URL.
func TestHTTPDetails(t *testing.T) {
	h := newHarness(t)
	id, etag := h.createCase()
	event := map[string]any{"event": "request_documents"}
	if r := h.do("POST", "/api/v1/cases/"+id+"/events", event); r.status != http.StatusPreconditionRequired {
		t.Errorf("no If-Match: want 428, got %d %s", r.status, r.body)
	}
	if r := h.do("POST", "/api/v1/cases/"+id+"/assignee", map[string]any{"assignee_id": exampleUserID}); r.status != http.StatusPreconditionRequired {
		t.Errorf("reassign without If-Match: want 428, got %d %s", r.status, r.body)
	}
	if r := h.do("POST", "/api/v1/cases/"+id+"/events", event, "If-Match", "W/"+etag); r.status != http.StatusPreconditionFailed {
		t.Errorf("weak If-Match: want 412, got %d %s", r.status, r.body)
	}
	if r := h.do("POST", "/api/v1/cases/"+id+"/events", event, "If-Match", etag); r.status != http.StatusOK {
		t.Errorf("strong If-Match: want 200, got %d %s", r.status, r.body)
	}

	for _, tc := range []struct{ method, path, allow string }{
		{"PUT", "/api/v1/cases/" + id, "GET, HEAD"},
		{"DELETE", "/api/v1/cases", "GET, HEAD, POST"},
		{"POST", "/healthz", "GET, HEAD"},
	} {
		r := h.raw(h.request(tc.method, tc.path, nil, 0, h.token))
		if r.status != http.StatusMethodNotAllowed || r.header.Get("Allow") != tc.allow {
			t.Errorf("%s %s: want 405 with Allow %q, got %d with %q", tc.method, tc.path, tc.allow, r.status, r.header.Get("Allow"))
		}
	}

	for _, path := range []string{"/healthz", "/api/v1/cases/" + id, "/docs", "/static/carepath.css"} {
		r := h.raw(h.request("HEAD", path, nil, 0, h.token))
		if r.status != http.StatusOK || len(r.body) != 0 {
			t.Errorf("HEAD %s: want 200 without a body, got %d with %d bytes", path, r.status, len(r.body))
		}
	}

	for _, path := range []string{"/docs", "/openapi.yaml", "/static/redoc.standalone.js", "/api/v1/lifecycle", "/api/v1/cases/" + id, "/nowhere"} {
		if r := h.raw(h.request("GET", path, nil, 0, h.token)); r.header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("GET %s: no X-Content-Type-Options: nosniff", path)
		}
	}
	docs := h.raw(h.request("GET", "/docs", nil, 0, ""))
	if csp := docs.header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Errorf("/docs CSP %q", csp)
	}

	for _, path := range []string{"/static/", "/static/nothing.js", "/static/..%2fweb.go", "/static/redoc.standalone.js.map"} {
		r := h.raw(h.request("GET", path, nil, 0, ""))
		if r.status != http.StatusNotFound || strings.Contains(string(r.body), "carepath.css") {
			t.Errorf("GET %s: want a problem+json 404, got %d %.200s", path, r.status, r.body)
		}
	}

	long := "/" + strings.Repeat("a", 200<<10)
	for _, method := range []string{"GET", "POST"} {
		r := h.raw(h.request(method, long, nil, 0, ""))
		if r.status != http.StatusNotFound || len(r.body) > 2048 {
			t.Errorf("%s of a 200 KB path: want a short 404, got %d with %d bytes", method, r.status, len(r.body))
		}
	}
	r := h.raw(h.request(strings.Repeat("X", 50<<10), "/api/v1/cases", nil, 0, h.token))
	if r.status != http.StatusMethodNotAllowed || len(r.body) > 2048 {
		t.Errorf("a 50 KB method: want a short 405, got %d with %d bytes", r.status, len(r.body))
	}
}

// enqueue puts a task on a queue of the harness's Redis, so that the monitor has a queue to show.
func (h *harness) enqueue(queue string) {
	h.t.Helper()
	opt, err := asynq.ParseRedisURI(h.redisURL)
	if err != nil {
		h.t.Fatal(err)
	}
	client := asynq.NewClient(opt)
	defer client.Close()
	if _, err := client.Enqueue(asynq.NewTask("test:nothing", nil), asynq.Queue(queue)); err != nil {
		h.t.Fatal(err)
	}
}

// TestDocsPageRendersUnderItsCSP: Redoc renders the contract on /docs with the page's
// Content-Security-Policy in force (the browser fails the test on any CSP violation).
func TestDocsPageRendersUnderItsCSP(t *testing.T) {
	h := newHarness(t)
	b := newBrowser(t, h)
	t.Cleanup(func() {
		// Redoc's sidebar asks for its logo from cdn.redoc.ly: the CSP blocking it is the CSP
		// doing its job (nothing from another host), not an error of the page.
		b.mu.Lock()
		defer b.mu.Unlock()
		b.errors = slices.DeleteFunc(b.errors, func(e string) bool {
			return strings.Contains(e, "https://cdn.redoc.ly/") && strings.Contains(e, "img-src")
		})
	})
	b.open("/docs")
	b.waitRedoc()
	b.wait("the reference renders", `document.body.innerText.includes('Register an application')`)
	b.wait("its images have loaded or been refused", `[...document.images].every(i => i.complete)`)
}

// TestEndedCaseAllowsNoEvents: a case in a terminal state lists its allowed events as [],
// which the contract requires, not null (found by the fuzzer).
func TestEndedCaseAllowsNoEvents(t *testing.T) {
	h := newHarness(t)
	id, etag := h.createCase()
	r := h.do("POST", "/api/v1/cases/"+id+"/events", map[string]any{"event": "withdraw", "reason": "передумали"}, "If-Match", etag)
	if r.status != http.StatusOK || !strings.Contains(string(r.body), `"allowed_events":[]`) {
		t.Fatalf("withdrawn case: %d %s", r.status, r.body)
	}
}

// TestAuthorizationScheme: /metrics and the API read the Authorization header the same way: the
// Bearer scheme in any case (RFC 9110), and nothing without it.
func TestAuthorizationScheme(t *testing.T) {
	h := newHarness(t)
	for path, token := range map[string]string{"/metrics": testMetricsToken, "/api/v1/me": h.tokens[domain.RoleSpecialist]} {
		for header, want := range map[string]int{
			"Bearer " + token: http.StatusOK, "bearer " + token: http.StatusOK, "BEARER  " + token: http.StatusOK,
			token: http.StatusUnauthorized, "Basic " + token: http.StatusUnauthorized, "Bearer": http.StatusUnauthorized,
			"Bearer" + token: http.StatusUnauthorized,
		} {
			req := h.request("GET", path, nil, 0, "")
			req.Header.Set("Authorization", header)
			if r := h.raw(req); r.status != want {
				t.Errorf("%s with Authorization %.14q…: want %d, got %d", path, header, want, r.status)
			}
		}
	}
}

// TestWebhookSettingsRefuseBadValues: a port out of range, a URL with a password (which would be
// echoed back), a whsec_ secret that is not base64 or encodes fewer than 16 bytes are refused
// naming the field, and change nothing.
func TestWebhookSettingsRefuseBadValues(t *testing.T) {
	h := newHarness(t)
	h.token = h.tokens[domain.RoleAdmin]
	path := "/api/v1/agencies/" + h.tokens["health_id"] + "/webhook"
	for _, c := range []struct {
		body  map[string]any
		field string
	}{
		{map[string]any{"url": "https://example.org:99999/h"}, "webhook.url"},
		{map[string]any{"url": "https://example.org:0/h"}, "webhook.url"},
		{map[string]any{"url": "https://user:pass@example.org/h"}, "webhook.url"},
		{map[string]any{"url": "https://example.org/h", "secret": "whsec_!!!!!!!!!!!!!!!!!!!!"}, "webhook.secret"},
		{map[string]any{"url": "https://example.org/h", "secret": "whsec_AAAAAAAAAAAA"}, "webhook.secret"},
	} {
		r := h.do("PUT", path, c.body)
		if r.status != http.StatusBadRequest || problemCode(t, r) != "invalid/"+c.field || strings.Contains(string(r.body), "pass@") {
			t.Errorf("webhook %v: want 400 invalid/%s, got %d %s", c.body, c.field, r.status, r.body)
		}
	}
	key := "whsec_" + base64.StdEncoding.EncodeToString([]byte("sixteen byte key"))
	if r := h.do("PUT", path, map[string]any{"url": "https://example.org:8443/h", "secret": key}); r.status != http.StatusOK {
		t.Fatalf("a whsec_ secret of 16 bytes on port 8443: want 200, got %d %s", r.status, r.body)
	}
}
