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
	"sync"
	"testing"
	"time"

	"carepath/api"
	"carepath/domain"
	"carepath/store"
	"carepath/store/dbtest"
	"carepath/store/lookup"
)

// accessEnv is a real carepath HTTP server on a fresh database, with one identity of every
// kind, and a case walked to residence that the "own" agencies are party to and the "foreign"
// ones are not.
type accessEnv struct {
	t       testing.TB
	db      *store.DB
	srv     *httptest.Server
	server  *api.Server
	service *domain.Service
	access  *domain.Access
	cases   *store.Cases
	clock   *testClock

	tokens   map[string]string // identity name -> bearer
	actors   map[string]domain.Actor
	userIDs  map[string]string
	agencyID map[string]string
	facility map[string]string // "own", "foreign", "other" -> facility id
	caseID   string            // residing at the own facility, filed by the own mfc
	caseCode string
}

type testClock struct {
	mu  sync.Mutex
	off time.Duration
}

func (c *testClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.off)
}

func (c *testClock) advance(d time.Duration) {
	c.mu.Lock()
	c.off += d
	c.mu.Unlock()
}

var system = domain.Actor{ID: "test", Name: "test", Kind: domain.ActorSystem, Role: "system"}

// identities of the matrix: users by role, own agencies by kind, and foreign agencies.
var matrixIdentities = []string{"specialist", "supervisor", "admin",
	"mfc", "health", "guardianship", "facility", "social_protection", "post_office",
	"foreign_mfc", "foreign_health", "foreign_guardianship", "foreign_facility", "foreign_post_office"}

func newAccessEnv(t testing.TB, trustProxy bool) *accessEnv {
	t.Helper()
	ctx := context.Background()
	db := dbtest.Open(t)
	key := make([]byte, 32)
	key[0] = 7
	sealer, err := store.NewSealer([][]byte{key})
	if err != nil {
		t.Fatal(err)
	}
	e := &accessEnv{t: t, db: db, clock: &testClock{}, tokens: map[string]string{}, actors: map[string]domain.Actor{},
		userIDs: map[string]string{}, agencyID: map[string]string{}, facility: map[string]string{}}
	e.cases = store.NewCases(db, sealer)
	phones, err := store.NewPhoneIndex([][]byte{[]byte("phone index key for the access env!")})
	if err != nil {
		t.Fatal(err)
	}
	e.cases.Phones = phones
	ids := store.NewIdentities(db)
	lookups := lookup.New(db)
	e.service = &domain.Service{Cases: e.cases, Calendar: store.NewCalendars(db), Settings: domain.DefaultSettings(),
		Users: ids, Board: e.cases, Beds: e.cases, Waiting: e.cases, OfferLog: e.cases, NoticeLog: store.NewNotices(db), Now: e.clock.now, Lockouts: lookups}
	e.access = &domain.Access{Identities: ids, Log: store.NewAccessLog(db), Lookups: lookups,
		Settings: domain.DefaultAccessSettings(), Now: e.clock.now}
	e.server = &api.Server{Cases: e.service, Access: e.access, Auth: e.access,
		Figures: &domain.Figures{Store: store.NewStats(db), Settings: e.service.Settings, Now: e.clock.now},
		Hotline: &domain.Hotline{Service: e.service, Access: e.access, Contacts: store.NewContacts(db, sealer, phones), Phones: store.NewPhoneBook(db, phones),
			ContactRequests: store.NewContactRequests(db, sealer), Leads: store.NewLeads(db, sealer),
			Now: e.clock.now}, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Ops: queueConsole(t, dbtest.RedisURL(t)), MetricsToken: testMetricsToken,
		// every actor of the matrix asks from one address
		ContactRequestsPerHour: 1000}
	if trustProxy {
		e.server.TrustedProxies = []string{"127.0.0.1"}
	}
	h, err := e.server.Handler()
	if err != nil {
		t.Fatal(err)
	}
	e.srv = httptest.NewServer(h)
	t.Cleanup(e.srv.Close)

	g := db.Gorm
	for _, f := range []struct{ name, typ string }{{"own", "psychoneurological"}, {"foreign", "psychoneurological"}, {"other", "elderly_disabled"}} {
		var id string
		if err := g.Raw("INSERT INTO facilities (name, type, capacity) VALUES (?, ?, 10) RETURNING id", "ПНИ "+f.name, f.typ).Scan(&id).Error; err != nil {
			t.Fatal(err)
		}
		e.facility[f.name] = id
	}
	victim, _, err := e.access.CreateUser(ctx, domain.NewUser{Name: "Test victim", Role: domain.RoleSpecialist})
	if err != nil {
		t.Fatal(err)
	}
	e.userIDs["victim"] = victim.ID
	for _, role := range domain.Roles {
		u, tok, err := e.access.CreateUser(ctx, domain.NewUser{Name: "Test " + role, Role: role})
		if err != nil {
			t.Fatal(err)
		}
		e.tokens[role], e.userIDs[role] = tok.Secret, u.ID
	}
	for _, prefix := range []string{"", "foreign_"} {
		for _, kind := range domain.AgencyKinds {
			if prefix != "" && kind == domain.AgencySocialProtection {
				continue
			}
			n := domain.NewAgency{Name: prefix + string(kind), Kind: kind}
			if kind == domain.AgencyFacility {
				n.FacilityIDs = []string{e.facility[map[string]string{"": "own", "foreign_": "foreign"}[prefix]]}
			}
			a, key, err := e.access.CreateAgency(ctx, n)
			if err != nil {
				t.Fatal(err)
			}
			e.tokens[prefix+string(kind)], e.agencyID[prefix+string(kind)] = key.Secret, a.ID
		}
	}
	for name, tok := range e.tokens {
		a, err := e.access.Authenticate(ctx, tok)
		if err != nil {
			t.Fatalf("authenticate %s: %v", name, err)
		}
		e.actors[name] = a
	}
	e.caseID, e.caseCode = e.residingCase(e.actors["mfc"], e.facility["own"])
	return e
}

// newCase is a valid application of an incapacitated person to a psychoneurological home.
func (e *accessEnv) newCase() domain.NewCase {
	return domain.NewCase{Channel: domain.ChannelMFC, FacilityType: domain.Psychoneurological,
		Applicant: domain.Applicant{FullName: "Кузнецова Анна Ивановна", BirthDate: domain.NewDate(1944, 5, 17), Gender: "female",
			SNILS: "112-233-445 95", Passport: "45 03 123456", Address: "Москва, ул. Менжинского, д. 3", LegalCapacity: domain.Incapacitated,
			DisabilityGroup: "1"},
		Contacts: []domain.Contact{{Name: "Кузнецов Павел", Relation: "son", Phone: "+7 916 000-11-22", LegalRepresentative: true,
			ConsentToNotices: true, PreferredChannel: "sms"}},
		HealthOrgID: e.agencyID["health"], GuardianshipID: e.agencyID["guardianship"], AssigneeID: "",
	}
}

// walk fires events on a case with the system actor, receiving every document first when the
// path goes through review.
func (e *accessEnv) walk(c *domain.Case, facilityID string, events ...domain.EventName) *domain.Case {
	e.t.Helper()
	ctx := context.Background()
	today := domain.DateOf(e.clock.now())
	var err error
	for _, ev := range events {
		if ev == domain.SubmitForReview {
			issued := today.AddDays(-10)
			for _, d := range c.Checklist {
				if c, err = e.service.RecordDocument(ctx, system, c.ID, d.Type, 0, domain.DocumentUpdate{Status: domain.DocReceived, IssuedOn: &issued}); err != nil {
					e.t.Fatalf("record %s: %v", d.Type, err)
				}
			}
		}
		cmd := domain.EventCommand{Event: ev}
		switch ev {
		case domain.RecognizeNeed:
			d := today.AddDays(-1)
			cmd.IPPSUNumber, cmd.IPPSUDate = "ИППСУ-1", &d
		case domain.IssueVoucher:
			cmd.FacilityID = facilityID
		}
		if c, err = e.service.Fire(ctx, system, c.ID, c.Version, cmd); err != nil {
			e.t.Fatalf("fire %s: %v", ev, err)
		}
	}
	return c
}

func (e *accessEnv) residingCase(filer domain.Actor, facilityID string) (string, string) {
	e.t.Helper()
	n := e.newCase()
	c, code, err := e.service.Register(context.Background(), filer, n)
	if err != nil {
		e.t.Fatal(err)
	}
	c, err = e.service.Reassign(context.Background(), system, c.ID, c.Version, e.userIDs["specialist"])
	if err != nil {
		e.t.Fatal(err)
	}
	c = e.walk(c, facilityID, domain.RequestDocuments, domain.SubmitForReview, domain.RecognizeNeed, domain.IssueVoucher, domain.Admit)
	return c.ID, code
}

func (e *accessEnv) do(method, path, token string, body any, headers ...string) response {
	e.t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, e.srv.URL+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	var raw []byte
	if body != nil {
		raw, _ = json.Marshal(body)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	(&harness{t: e.t, api: e.server}).checkContract(req, raw, res, b)
	return response{res.StatusCode, res.Header, b}
}

func (e *accessEnv) count(query string, args ...any) int {
	e.t.Helper()
	var n int
	if err := e.db.Gorm.Raw(query, args...).Scan(&n).Error; err != nil {
		e.t.Fatal(err)
	}
	return n
}

func (e *accessEnv) load(id string) *domain.Case {
	e.t.Helper()
	c, err := e.cases.Get(context.Background(), id)
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

func quoted(v int) string { return fmt.Sprintf(`"%d"`, v) }
