package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/hibiken/asynq"
	"github.com/hibiken/asynqmon"
	"github.com/redis/go-redis/v9"

	"carepath/api"
	"carepath/domain"
	"carepath/store"
	"carepath/store/dbtest"
	"carepath/store/lookup"
)

// harness is the real router over real Postgres and Redis, served over real HTTP. Every
// response it sees is checked against openapi.yaml.
type harness struct {
	t     testing.TB
	srv   *httptest.Server
	api   *api.Server
	db    *store.DB
	cases *store.Cases
	svc   *domain.Service
	// token is sent with every request: a supervisor's unless a test sets another of tokens
	// (the roles and an agency of each kind).
	token  string
	tokens map[string]string
	access *domain.Access
	// redisURL is the test's own Redis database.
	redisURL string
	sealer   *store.Sealer
}

// newHarness starts the server; each option may change it before its handler is built.
func newHarness(t *testing.T, options ...func(*api.Server)) *harness {
	t.Helper()
	db := dbtest.Open(t)
	sealer, err := store.NewSealer([][]byte{[]byte("0123456789abcdef0123456789abcdef")})
	if err != nil {
		t.Fatal(err)
	}
	redisURL := dbtest.RedisURL(t)
	opt, _ := redis.ParseURL(redisURL)
	rdb := redis.NewClient(opt)
	t.Cleanup(func() { rdb.Close() })
	cases := store.NewCases(db, sealer)
	phones, err := store.NewPhoneIndex([][]byte{[]byte("phone index key for the api tests!")})
	if err != nil {
		t.Fatal(err)
	}
	cases.Phones = phones
	ids := store.NewIdentities(db)
	svc := &domain.Service{Cases: cases, Calendar: store.NewCalendars(db), Settings: domain.DefaultSettings(), Users: ids, Board: cases, Beds: cases, Waiting: cases, OfferLog: cases,
		NoticeLog: store.NewNotices(db).OpensPersonal(sealer)}
	access := &domain.Access{Identities: ids, Log: store.NewAccessLog(db), Lookups: lookup.New(db), Settings: domain.DefaultAccessSettings()}
	s := &api.Server{
		Cases:                  svc,
		Access:                 access,
		PreviewPerMinute:       100,
		ContactRequestsPerHour: 100,
		Hotline: &domain.Hotline{Service: svc, Access: access, Contacts: store.NewContacts(db, sealer, phones), Phones: store.NewPhoneBook(db, phones),
			ContactRequests: store.NewContactRequests(db, sealer), Leads: store.NewLeads(db, sealer)},
		Figures: &domain.Figures{Store: store.NewStats(db), Settings: svc.Settings},
		Auth:    access,
		Logger:  slog.New(slog.NewTextHandler(io.Discard, nil)),
		Checks:  []api.Check{{Name: "postgres", Ping: db.Ping}, {Name: "redis", Ping: func(ctx context.Context) error { return rdb.Ping(ctx).Err() }}},
		Ops:     queueConsole(t, redisURL),
		// the one credential that reads /metrics
		MetricsToken: testMetricsToken,
	}
	for _, o := range options {
		o(s)
	}
	handler, err := s.Handler()
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(handler)
	t.Cleanup(srv.Close)
	h := &harness{t: t, srv: srv, api: s, db: db, cases: cases, svc: svc, access: access, tokens: map[string]string{}, redisURL: redisURL, sealer: sealer}
	h.identities()
	h.token = h.tokens[domain.RoleSupervisor]
	return h
}

// testMetricsToken is the METRICS_TOKEN of the test servers.
const testMetricsToken = "metrics-token-of-the-tests"

// The ids the contract's examples use: a specialist to assign cases to, an agency to manage
// and a boarding house run by the facility agency, created here with exactly those ids.
const (
	exampleUserID     = "0b6f7a1e-2c3d-4e5f-8a9b-0c1d2e3f4a5b"
	exampleAgencyID   = "5a4b3c2d-1e0f-4a9b-8c7d-6e5f4a3b2c1d"
	exampleFacilityID = "3d8e2a10-5b7c-4f1e-9a2b-6c7d8e9f0a1b"
)

// harnessUserNames are the harness's people: Russian names, as the console shows them.
var harnessUserNames = map[string]string{domain.RoleSpecialist: "Тестова Анна (специалист)",
	domain.RoleSupervisor: "Тестов Борис (руководитель)", domain.RoleAdmin: "Тестов Виктор (администратор)"}

// identities gives the harness a user of each role and an agency of each kind.
func (h *harness) identities() {
	h.t.Helper()
	ctx := context.Background()
	for _, role := range domain.Roles {
		_, tok, err := h.access.CreateUser(ctx, domain.NewUser{Name: harnessUserNames[role], Role: role})
		if err != nil {
			h.t.Fatal(err)
		}
		h.tokens[role] = tok.Secret
	}
	g := h.db.Gorm
	for _, q := range []string{
		"INSERT INTO users (id, name, role) VALUES ('" + exampleUserID + "', 'Пример Специалист', 'specialist')",
		"INSERT INTO agencies (id, name, kind) VALUES ('" + exampleAgencyID + "', 'Пример Агентство', 'social_protection')",
		"INSERT INTO facilities (id, name, type, capacity) VALUES ('" + exampleFacilityID + "', 'Пример Пансионат', 'elderly_disabled', 100)",
	} {
		if err := g.Exec(q).Error; err != nil {
			h.t.Fatal(err)
		}
	}
	for i, kind := range domain.AgencyKinds {
		n := domain.NewAgency{Name: fmt.Sprintf("Тестовая организация №%d", i+1), Kind: kind}
		if kind == domain.AgencyFacility {
			n.FacilityIDs = []string{exampleFacilityID}
		}
		a, key, err := h.access.CreateAgency(ctx, n)
		if err != nil {
			h.t.Fatal(err)
		}
		h.tokens[string(kind)], h.tokens[string(kind)+"_id"] = key.Secret, a.ID
	}
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) json(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("response is not a JSON object: %v: %s", err, r.body)
	}
	return m
}

// do sends a request with the harness token and checks the response against the contract.
func (h *harness) do(method, path string, body any, headers ...string) response {
	h.t.Helper()
	var rd io.Reader
	var raw []byte
	switch b := body.(type) {
	case nil:
	case string:
		raw = []byte(b)
	case []byte:
		raw = b
	default:
		raw, _ = json.Marshal(b)
	}
	if raw != nil {
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, h.srv.URL+path, rd)
	if err != nil {
		h.t.Fatal(err)
	}
	if raw != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if h.token != "" {
		req.Header.Set("Authorization", "Bearer "+h.token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		if headers[i+1] == "" {
			req.Header.Del(headers[i])
		} else {
			req.Header.Set(headers[i], headers[i+1])
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	h.checkContract(req, raw, resp, out)
	return response{resp.StatusCode, resp.Header, out}
}

// checkContract validates a response against openapi.yaml: status documented, body matching
// its schema. Errors must be problem+json.
func (h *harness) checkContract(req *http.Request, reqBody []byte, resp *http.Response, body []byte) {
	h.t.Helper()
	if resp.StatusCode >= 400 && !strings.HasPrefix(resp.Header.Get("Content-Type"), api.ProblemContentType) {
		h.t.Errorf("%s %s: error %d is %q, not problem+json: %s", req.Method, req.URL.Path, resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	_, router := h.api.Spec()
	r2 := req.Clone(context.Background())
	r2.Body = io.NopCloser(bytes.NewReader(reqBody))
	route, params, err := router.FindRoute(r2)
	if err != nil {
		return // not in the contract (e.g. 404 for an unknown path): nothing to check
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: r2, PathParams: params, Route: route},
		Status:                 resp.StatusCode,
		Header:                 resp.Header,
		Options:                &openapi3filter.Options{IncludeResponseStatus: true},
	}
	in.SetBodyBytes(body)
	if err := openapi3filter.ValidateResponse(context.Background(), in); err != nil {
		h.t.Errorf("%s %s -> %d breaks the contract: %v\nbody: %.400s", req.Method, req.URL.Path, resp.StatusCode, err, body)
	}
}

func (h *harness) facility(name string, typ domain.FacilityType, capacity int) string {
	h.t.Helper()
	var id string
	if err := h.db.Gorm.Raw("INSERT INTO facilities (name, type, capacity) VALUES (?, ?, ?) RETURNING id", name, string(typ), capacity).Scan(&id).Error; err != nil {
		h.t.Fatal(err)
	}
	return id
}

var newCaseBody = map[string]any{
	"channel":       "hotline",
	"facility_type": "elderly_disabled",
	"applicant": map[string]any{
		"full_name": "Кузнецова Галина Николаевна", "birth_date": "1938-07-01", "gender": "female",
		"snils": "112-233-445 95", "address": "Москва, ул. Снежная, д. 3", "legal_capacity": "capable",
	},
	"contacts": []any{map[string]any{"name": "Кузнецов Олег", "relation": "son", "phone": "+7 903 000-00-01", "consent_to_notices": true}},
}

// createCase registers a case through the API and returns its id and ETag.
func (h *harness) createCase() (string, string) {
	h.t.Helper()
	r := h.do("POST", "/api/v1/cases", newCaseBody)
	if r.status != http.StatusCreated {
		h.t.Fatalf("create case: %d %s", r.status, r.body)
	}
	return r.json(h.t)["id"].(string), r.header.Get("ETag")
}

// queueConsole is the real asynq monitor over the test's Redis database.
func queueConsole(t testing.TB, redisURL string) http.Handler {
	t.Helper()
	opt, err := asynq.ParseRedisURI(redisURL)
	if err != nil {
		t.Fatal(err)
	}
	h := asynqmon.New(asynqmon.Options{RootPath: "/ops/queues", RedisConnOpt: opt})
	t.Cleanup(func() { h.Close() })
	return h
}
