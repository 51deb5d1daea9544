package jobs

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"net/http/httptest"
	"net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
	"github.com/redis/go-redis/v9"

	"carepath/domain"
	"carepath/store"
	"carepath/store/dbtest"
)

// testClock is the service's and the scanner's clock in tests that move through weeks.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *testClock) Set(t time.Time)     { c.mu.Lock(); c.t = t; c.mu.Unlock() }
func (c *testClock) Add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

type agency struct{ id, path, secret string }

// testEnv is a fresh database and Redis database with partner agencies whose webhooks point at
// a local sink, two homes, a specialist and two supervisors, an SMS gateway and an SMTP server.
type testEnv struct {
	t         *testing.T
	db        *store.DB
	cases     *store.Cases
	notices   *store.Notices
	sealer    *store.Sealer
	svc       *domain.Service
	clock     *testClock
	redisURL  string
	rdb       *redis.Client
	sink      *webhookSink
	sms       *smsSink
	mail      *mailSink
	templates *Templates

	guardianship, health, home1Agency, home2Agency agency
	home1, home2                                   string
	specialist, supervisor1, supervisor2           string
	actor                                          domain.Actor
}

var quietLogger = slog.New(slog.NewTextHandler(io.Discard, nil))

func newEnv(t *testing.T) *testEnv {
	t.Helper()
	e := &testEnv{t: t, db: dbtest.Open(t), redisURL: dbtest.RedisURL(t), clock: &testClock{t: time.Now()}}
	e.sink = newWebhookSink(t)
	e.sms = newSMSSink(t)
	e.mail = newMailSink(t)
	opt, err := redis.ParseURL(e.redisURL)
	if err != nil {
		t.Fatal(err)
	}
	e.rdb = redis.NewClient(opt)
	t.Cleanup(func() { e.rdb.Close() })
	sealer, err := store.NewSealer([][]byte{make([]byte, 32)})
	if err != nil {
		t.Fatal(err)
	}
	e.cases, e.sealer = store.NewCases(e.db, sealer), sealer
	e.notices = store.NewNotices(e.db).OpensPersonal(sealer)
	settings := domain.DefaultSettings()
	settings.SMSQuietHours = domain.QuietHours{} // tests run at any hour; the quiet-hours test sets them
	e.svc = &domain.Service{Cases: e.cases, Calendar: store.NewCalendars(e.db), Settings: settings, NoticeLog: e.notices, Now: e.clock.Now,
		Users: store.NewIdentities(e.db), Beds: e.cases, Waiting: e.cases, OfferLog: e.cases}
	e.templates, err = LoadTemplates("+7 (495) 123-45-67")
	if err != nil {
		t.Fatal(err)
	}
	e.guardianship = e.agency("guardianship", "Орган опеки Бабушкинский")
	e.health = e.agency("health", "ГП № 12")
	e.home1Agency = e.agency("facility", "ПНИ № 30 (учётная запись)")
	e.home2Agency = e.agency("facility", "ПНИ № 5 (учётная запись)")
	e.home1 = e.facility("Психоневрологический интернат № 30", e.home1Agency.id)
	e.home2 = e.facility("Психоневрологический интернат № 5", e.home2Agency.id)
	e.specialist = e.user("Смирнова Е. В.", "specialist", "smirnova@center.example")
	e.supervisor1 = e.user("Орлов А. А.", "supervisor", "orlov@center.example")
	e.supervisor2 = e.user("Белова Н. С.", "supervisor", "belova@center.example")
	e.actor = domain.Actor{ID: e.specialist, Name: "Смирнова Е. В.", Kind: "user", Role: "specialist"}
	return e
}

func (e *testEnv) exec(q string, args ...any) {
	e.t.Helper()
	if err := e.db.Gorm.Exec(q, args...).Error; err != nil {
		e.t.Fatalf("%s: %v", q, err)
	}
}

func (e *testEnv) agency(kind, name string) agency {
	e.t.Helper()
	a := agency{path: "/hook/" + kind + "/" + randomSuffix(), secret: "secret-" + randomSuffix()}
	err := e.db.Gorm.Raw("INSERT INTO agencies (name, kind, webhook_url, webhook_secret) VALUES (?, ?, ?, ?) RETURNING id",
		name, kind, e.sink.URL+a.path, a.secret).Scan(&a.id).Error
	if err != nil {
		e.t.Fatal(err)
	}
	e.sink.secrets[a.path] = a.secret
	return a
}

func (e *testEnv) facility(name, agencyID string) string {
	e.t.Helper()
	var id string
	if err := e.db.Gorm.Raw("INSERT INTO facilities (name, type, capacity, agency_id) VALUES (?, 'psychoneurological', 10, ?) RETURNING id", name, agencyID).Scan(&id).Error; err != nil {
		e.t.Fatal(err)
	}
	return id
}

func (e *testEnv) user(name, role, email string) string {
	e.t.Helper()
	var id string
	if err := e.db.Gorm.Raw("INSERT INTO users (name, role, email) VALUES (?, ?, ?) RETURNING id", name, role, email).Scan(&id).Error; err != nil {
		e.t.Fatal(err)
	}
	return id
}

var suffixMu sync.Mutex
var suffixN int

func randomSuffix() string {
	suffixMu.Lock()
	defer suffixMu.Unlock()
	suffixN++
	return strings.ReplaceAll(time.Now().Format("150405.000000"), ".", "") + "-" + string(rune('a'+suffixN%26))
}

// caseOpts shape a new case.
type caseOpts struct {
	capacity domain.LegalCapacity
	contacts []domain.Contact
	assignee string
	noHealth bool
	guardian bool
	disabled bool
}

// register files a case for a psychoneurological home.
func (e *testEnv) register(o caseOpts) *domain.Case {
	e.t.Helper()
	if o.capacity == "" {
		o.capacity = domain.Incapacitated
	}
	n := domain.NewCase{Channel: domain.ChannelMFC, FacilityType: domain.Psychoneurological,
		Applicant: domain.Applicant{FullName: "Иванова Мария Петровна", BirthDate: domain.MustDate("1941-03-15"), Gender: "female",
			SNILS: "112-233-445 95", Passport: "45 03 123456", Address: "Москва, ул. Летчика Бабушкина, д. 1, кв. 5",
			LegalCapacity: o.capacity, DisabilityGroup: "none"},
		Contacts: o.contacts, AssigneeID: o.assignee}
	if o.disabled {
		n.Applicant.DisabilityGroup = "1"
	}
	if o.capacity != domain.Capable || o.guardian {
		n.GuardianshipID = e.guardianship.id
	}
	if !o.noHealth {
		n.HealthOrgID = e.health.id
	}
	c, _, err := e.svc.Register(context.Background(), e.actor, n)
	if err != nil {
		e.t.Fatalf("register: %v", err)
	}
	return c
}

// fire applies an event at the case's current version.
func (e *testEnv) fire(id string, cmd domain.EventCommand) *domain.Case {
	e.t.Helper()
	c, err := e.svc.Get(context.Background(), id)
	if err != nil {
		e.t.Fatal(err)
	}
	c, err = e.svc.Fire(context.Background(), e.actor, id, c.Version, cmd)
	if err != nil {
		e.t.Fatalf("%s: %v", cmd.Event, err)
	}
	return c
}

func (e *testEnv) record(id string, t domain.DocType, st domain.DocStatus) {
	e.t.Helper()
	u := domain.DocumentUpdate{Status: st}
	if st == domain.DocReceived {
		issued := domain.DateOf(e.clock.Now()).AddDays(-1)
		u.IssuedOn = &issued
	}
	if _, err := e.svc.RecordDocument(context.Background(), e.actor, id, t, 0, u); err != nil {
		e.t.Fatalf("record %s: %v", t, err)
	}
}

// completeDocuments records every required document as received.
func (e *testEnv) completeDocuments(id string) {
	e.t.Helper()
	c, err := e.svc.Get(context.Background(), id)
	if err != nil {
		e.t.Fatal(err)
	}
	for _, d := range c.Checklist {
		if d.Required && d.Status != domain.DocReceived {
			e.record(id, d.Type, domain.DocReceived)
		}
	}
}

// toWaitingList walks a new case through documents and review.
func (e *testEnv) toWaitingList(id string) {
	e.t.Helper()
	e.fire(id, domain.EventCommand{Event: domain.RequestDocuments})
	e.completeDocuments(id)
	e.fire(id, domain.EventCommand{Event: domain.SubmitForReview})
	today := domain.DateOf(e.clock.Now())
	e.fire(id, domain.EventCommand{Event: domain.RecognizeNeed, IPPSUNumber: "77-0042", IPPSUDate: &today})
}

// toResiding walks a new case to residence in a home, ahead of any case waiting for it.
func (e *testEnv) toResiding(id, home string) {
	e.t.Helper()
	e.toWaitingList(id)
	e.fire(id, domain.EventCommand{Event: domain.IssueVoucher, FacilityID: home, SkipReason: "test: straight to residence"})
	e.fire(id, domain.EventCommand{Event: domain.Admit})
}

// owed lists the notices in the outbox, by idempotency key.
func (e *testEnv) outbox() map[string]domain.Notice {
	e.t.Helper()
	var ids []string
	if err := e.db.Gorm.Raw("SELECT id FROM notices").Scan(&ids).Error; err != nil {
		e.t.Fatal(err)
	}
	out := map[string]domain.Notice{}
	for _, id := range ids {
		n, err := e.notices.Get(context.Background(), id)
		if err != nil {
			e.t.Fatal(err)
		}
		out[n.IdempotencyKey] = *n
	}
	return out
}

func (e *testEnv) count(q string, args ...any) int {
	e.t.Helper()
	var n int
	if err := e.db.Gorm.Raw(q, args...).Scan(&n).Error; err != nil {
		e.t.Fatalf("%s: %v", q, err)
	}
	return n
}

// workerOpts tune a test worker.
type workerOpts struct {
	maxAttempts int
	hold        time.Duration
	relayLease  time.Duration
	noServer    bool
}

// startWorker runs a worker (asynq server, scheduler with a 1s scan, relay) until the test ends
// or stop is called; stop waits for it to finish.
func (e *testEnv) startWorker(o workerOpts) (stop func()) {
	e.t.Helper()
	if o.maxAttempts == 0 {
		o.maxAttempts = 5
	}
	if o.hold == 0 {
		o.hold = 5 * time.Second
	}
	if o.relayLease == 0 {
		o.relayLease = 2 * time.Second
	}
	opt, _ := redis.ParseURL(e.redisURL)
	rdb := redis.NewClient(opt)
	w := NewWorker(rdb, quietLogger)
	w.Concurrency = 8
	w.ShutdownTimeout = 2 * time.Second
	w.TaskCheckInterval = 50 * time.Millisecond
	e.work(o).Install(w)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if o.noServer {
			// only the relay: the queue fills, nothing is delivered
			for _, l := range w.Loops {
				_ = l(ctx)
			}
			return
		}
		if err := w.Run(ctx); err != nil {
			e.t.Errorf("worker: %v", err)
		}
	}()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			<-done
			rdb.Close()
		})
	}
	e.t.Cleanup(stop)
	return stop
}

func (e *testEnv) work(o workerOpts) NoticeWork {
	webhook := NewWebhook(2 * time.Second)
	webhook.AllowPrivate = true // the sink listens on 127.0.0.1
	return NoticeWork{
		Notices: e.notices, Service: e.svc, Templates: e.templates,
		Channels: map[string]Channel{
			domain.NoticeWebhook: webhook,
			domain.NoticeSMS:     NewSMSGateway(e.sms.URL, "sms-token", 2*time.Second),
			domain.NoticeEmail:   &Mailer{Addr: e.mail.addr, Username: "carepath", Password: "mail-secret", From: "noreply@center.example", TLS: "none", Timeout: 2 * time.Second},
		},
		MaxAttempts: o.maxAttempts, Backoff: Backoff{Base: 20 * time.Millisecond, Max: 100 * time.Millisecond}, Hold: o.hold,
		RelayPoll: 200 * time.Millisecond, RelayLease: o.relayLease, ScanInterval: time.Second, ScanCron: "@every 1s",
		Logger: quietLogger,
	}
}

func (e *testEnv) deliverer() *Deliverer {
	w := e.work(workerOpts{maxAttempts: 2, hold: 5 * time.Second})
	return &Deliverer{Notices: e.notices, Channels: w.Channels, Templates: e.templates, MaxAttempts: w.MaxAttempts,
		Backoff: w.Backoff, Hold: w.Hold, Quiet: e.svc.Settings.SMSQuietHours, Logger: quietLogger}
}

// waitFor polls cond until it holds or the time is up.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	end := time.Now().Add(d)
	for !cond() {
		if time.Now().After(end) {
			t.Fatalf("timed out after %s waiting for %s", d, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// received is one request the webhook sink got.
type received struct {
	Path      string
	Key       string
	Timestamp string
	SigOK     bool
	Body      WebhookBody
	Header    http.Header
	Raw       []byte
}

// webhookSink is the partner agencies' side: it verifies each request's Standard Webhooks
// signature with the agency's secret and records it. answer, when set, decides the status (it may block).
type webhookSink struct {
	*httptest.Server
	mu      sync.Mutex
	got     []received
	secrets map[string]string
	answer  func(r received) int
}

func newWebhookSink(t *testing.T) *webhookSink {
	s := &webhookSink{secrets: map[string]string{}}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rec := received{Path: r.URL.Path, Key: r.Header.Get("Idempotency-Key"), Timestamp: r.Header.Get("Webhook-Timestamp"), Header: r.Header.Clone(), Raw: body}
		s.mu.Lock()
		secret, known := s.secrets[r.URL.Path]
		answer := s.answer
		s.mu.Unlock()
		rec.SigOK = known && r.Header.Get("Webhook-Id") == rec.Key &&
			VerifyStandard(secret, rec.Key, rec.Timestamp, body, r.Header.Get("Webhook-Signature"))
		if err := json.Unmarshal(body, &rec.Body); err != nil {
			rec.SigOK = false
		}
		status := http.StatusNoContent
		if answer != nil {
			status = answer(rec)
		}
		s.mu.Lock()
		s.got = append(s.got, rec)
		s.mu.Unlock()
		w.WriteHeader(status)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *webhookSink) received() []received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]received(nil), s.got...)
}

func (s *webhookSink) setAnswer(f func(r received) int) {
	s.mu.Lock()
	s.answer = f
	s.mu.Unlock()
}

// smsSink is the SMS gateway.
type smsSink struct {
	*httptest.Server
	mu  sync.Mutex
	got []SMSRequest
}

func newSMSSink(t *testing.T) *smsSink {
	s := &smsSink{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer sms-token" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		var m SMSRequest
		if err := json.NewDecoder(r.Body).Decode(&m); err != nil || m.ClientRef != r.Header.Get("Idempotency-Key") {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		s.mu.Lock()
		s.got = append(s.got, m)
		s.mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *smsSink) received() []SMSRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]SMSRequest(nil), s.got...)
}

// mailSink is a real SMTP server (go-smtp) on a local port that requires AUTH PLAIN.
type mailSink struct {
	addr string
	mu   sync.Mutex
	got  []mailMessage
}

type mailMessage struct {
	From, To, User string
	Data           []byte
}

func newMailSink(t *testing.T) *mailSink {
	m := &mailSink{}
	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) { return &mailSession{sink: m}, nil }))
	srv.Domain = "localhost"
	srv.AllowInsecureAuth = true
	srv.ReadTimeout, srv.WriteTimeout = 5*time.Second, 5*time.Second
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	m.addr = ln.Addr().String()
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { srv.Close() })
	return m
}

func (m *mailSink) received() []mailMessage {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]mailMessage(nil), m.got...)
}

type mailSession struct {
	sink     *mailSink
	user     string
	from, to string
}

func (s *mailSession) AuthMechanisms() []string { return []string{sasl.Plain} }

func (s *mailSession) Auth(mech string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(identity, username, password string) error {
		if username != "carepath" || password != "mail-secret" {
			return errors.New("invalid credentials")
		}
		s.user = username
		return nil
	}), nil
}

func (s *mailSession) Mail(from string, _ *smtp.MailOptions) error {
	if s.user == "" {
		return smtp.ErrAuthRequired
	}
	s.from = from
	return nil
}

func (s *mailSession) Rcpt(to string, _ *smtp.RcptOptions) error { s.to = to; return nil }

func (s *mailSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.sink.mu.Lock()
	s.sink.got = append(s.sink.got, mailMessage{From: s.from, To: s.to, User: s.user, Data: b})
	s.sink.mu.Unlock()
	return nil
}

func (s *mailSession) Reset()        {}
func (s *mailSession) Logout() error { return nil }

// parseMail returns a message's decoded subject and body.
func parseMail(t *testing.T, data []byte) (subject, body string) {
	t.Helper()
	m, err := mail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("parse e-mail: %v", err)
	}
	subject, err = new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject"))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := io.ReadAll(base64.NewDecoder(base64.StdEncoding, m.Body))
	if err != nil {
		t.Fatalf("e-mail body: %v", err)
	}
	return subject, strings.ReplaceAll(string(raw), "\r\n", "\n")
}
