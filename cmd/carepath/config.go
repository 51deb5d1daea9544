package main

import (
	"crypto/sha256"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"carepath/domain"
	"carepath/store"
)

// Config is everything carepath reads from its environment. Each variable has a default that
// works on a developer's machine; README.md lists them all.
type Config struct {
	DatabaseURL string
	// DatabaseReadURL is a standby for the read-mostly work that tolerates a second of lag
	// (DATABASE_READ_URL); empty: that work reads the primary too.
	DatabaseReadURL string
	RedisURL        string
	HTTPAddr        string
	LogLevel        slog.Level
	BootstrapToken  string
	DataKeys        [][]byte
	DevDataKey      bool
	// PhoneIndexKeys key the blind index of phone numbers (PHONE_INDEX_KEY), first one current.
	PhoneIndexKeys   [][]byte
	LeadTriageDays   int
	DevPhoneIndexKey bool
	DBMaxConns       int
	ShutdownTimeout  time.Duration
	Settings         domain.Settings
	Access           domain.AccessSettings
	TrustedProxies   []string
	Notices          NoticeConfig
	// WorkerMetricsAddr, when set, serves /metrics from `carepath worker`.
	WorkerMetricsAddr string
	// MetricsToken is the bearer token /metrics asks for on the API listener.
	MetricsToken string
	// PprofAddr, when set, serves Go's /debug/pprof profiles there (for measuring; keep private).
	PprofAddr string
	// CaseCacheSize is how many cases the CaseCache keeps (0: none).
	CaseCacheSize int
	// StatsCacheTTL is how long the figures are answered again unchanged when nothing they read
	// has changed (0: computed for every request).
	StatsCacheTTL time.Duration
	// Redis is RedisURL read: one Redis or a master behind Sentinel.
	Redis redisTarget
	// AutoAssign gives each new case nobody holds to the specialist with the least open work.
	AutoAssign bool
}

// NoticeConfig is how the worker delivers notices and scans deadlines.
type NoticeConfig struct {
	Concurrency     int
	MaxAttempts     int
	BackoffBase     time.Duration
	BackoffMax      time.Duration
	Hold            time.Duration
	RelayPoll       time.Duration
	RelayLease      time.Duration
	ScanInterval    time.Duration
	WebhookTimeout  time.Duration
	CenterPhone     string
	SMTPAddr        string
	SMTPUsername    string
	SMTPPassword    string
	SMTPFrom        string
	SMTPTLS         string
	SMSGatewayURL   string
	SMSGatewayToken string

	// WebhookLegacySignature keeps the pre-standard X-Carepath-* signature headers (one release).
	WebhookLegacySignature bool
}

// configVar documents one variable: name, default, meaning. The README table is this list.
type configVar struct{ name, def, help string }

var configVars = []configVar{
	{"DATABASE_URL", "postgres://postgres@127.0.0.1:5432/carepath?sslmode=disable", "PostgreSQL, the system of record; the database is created if missing"},
	{"DATABASE_READ_URL", "", "a streaming standby (or a pooler in front of standbys) for the read-mostly work that tolerates a second of lag: the relatives' lookup's waiting-list snapshot and the figures; its sessions are read-only, and nothing that must read its own writes uses it; empty: everything reads DATABASE_URL"},
	{"REDIS_URL", "redis://127.0.0.1:6379/0", "Redis for the job queue (may lose its contents without losing anything)"},
	{"REDIS_SENTINELS", "", "instead of REDIS_URL: the Sentinels (host:port,host:port,…) watching the Redis master REDIS_MASTER; the same as REDIS_URL=redis-sentinel://SENTINELS/0?master=MASTER"},
	{"REDIS_MASTER", "", "the master's name in the Sentinels' configuration (with REDIS_SENTINELS)"},
	{"HTTP_ADDR", "127.0.0.1:8080", "where the HTTP server listens"},
	{"LOG_LEVEL", "info", "debug, info, warn or error"},
	{"BOOTSTRAP_ADMIN_TOKEN", "", "seeds the first admin with this bearer token when no admin exists; ignored once one does (then use `carepath users create`)"},
	{"TOKEN_TTL_DAYS", "90", "life of a specialist's bearer token, days"},
	{"AUTH_CACHE_TTL", "2s", "how long an accepted bearer token or API key is remembered without asking the database; a revocation on another instance takes effect within it (0: ask every time)"},
	{"AGENCY_KEY_GRACE_HOURS", "24", "how long an agency's previous API keys keep working after a rotation, hours"},
	{"CENTER_PHONE", "+7 (495) 000-00-00", "the center's phone number shown on the relatives' status page and in notices (set it: the default is a placeholder)"},
	{"TRUSTED_PROXIES", "", "comma-separated addresses or CIDRs of reverse proxies whose X-Forwarded-For is believed (the lookup lockout counts per client address)"},
	{"DATA_KEY", "", "base64 32-byte AES keys, comma-separated, first one current, that seal SNILS, passport and address; empty uses a development key and warns"},
	{"PHONE_INDEX_KEY", "", "base64 keys of at least 32 bytes, comma-separated, first one current, of the blind index that finds phone numbers without storing them in plain text (HMAC-SHA256); empty uses a development key and warns"},
	{"DB_MAX_CONNS", "32", "the Postgres connection pool size"},
	{"CASE_CACHE_SIZE", "4096", "how many of the cases this process changed last are kept to decide the next command on them without reading them (about 3 KB each; 0: no cache, every command reads its case)"},
	{"STATS_CACHE_TTL", "5m", "how long the center's figures (GET /api/v1/stats and its exports) are answered again when none of the tables they read has changed; also how late a deadline falling due or a stale beds report shows in them (0: computed for every request)"},
	{"SHUTDOWN_TIMEOUT", "15s", "how long a graceful shutdown waits for in-flight work"},
	{"DOCUMENT_COLLECTION_DAYS", "30", "target for document collection, calendar days (assumption)"},
	{"REVIEW_DECISION_WD", "5", "decision on need, working days (442-FZ art. 15)"},
	{"REVIEW_DECISION_WITH_IPPSU_WD", "10", "decision on need when the IPPSU is issued with it (a per-case choice), working days (regional rules)"},
	{"CONTRACT_WD", "1", "contract with the home after the IPPSU is presented there, working days (442-FZ art. 17)"},
	{"IPPSU_WD", "10", "IPPSU, working days (art. 16)"},
	{"VOUCHER_VALID_DAYS", "30", "admission window of a voucher, calendar days (assumption)"},
	{"MAX_LEAVE_DAYS", "30", "longest temporary leave, calendar days"},
	{"IPPSU_REVIEW_YEARS", "3", "IPPSU review period, years"},
	{"GUARDIANSHIP_NOTICE_WD", "1", "guardianship body informed of a move, working days (assumption)"},
	{"LEAD_TRIAGE_DAYS", "5", "an outreach lead still untouched after this many days is flagged in the triage queue (assumption)"},
	{"CONTACT_REQUEST_WD", "2", "a home's answer to a relative's request to reach a resident, working days (assumption)"},
	{"OFFER_RESPONSE_WD", "3", "an offer of a bed not answered within it expires, working days (assumption)"},
	{"OFFER_REFUSALS_BEFORE_REVIEW", "2", "the applicant's refusals of offers after which the case is flagged for a specialist's review (assumption)"},
	{"BED_REPORT_MAX_DAYS", "7", "a home whose last beds report is older is stale on the occupancy board, and its agency is reminded once per stale report, days (assumption)"},
	{"DOCUMENT_VALIDITY_MONTHS", "medical_card=6,no_contraindications=6,psychiatric_commission=6", "validity of expiring documents, months (assumption)"},
	{"WORKER_CONCURRENCY", "128", "notice deliveries and scans one worker runs at once (partners answer slowly; the database work is batched)"},
	{"WORKER_METRICS_ADDR", "", "host:port where `carepath worker` serves /metrics; empty: none (`all` and `serve` serve it with the API)"},
	{"PPROF_ADDR", "", "host:port where Go's /debug/pprof profiles are served, for measuring (docs/BENCHMARKS.md); empty: none. Keep it private"},
	{"NOTICE_MAX_ATTEMPTS", "8", "delivery attempts before a notice is dead"},
	{"NOTICE_BACKOFF_BASE", "30s", "wait after the first failed attempt; doubles after each (with jitter)"},
	{"NOTICE_BACKOFF_MAX", "6h", "longest wait between attempts"},
	{"NOTICE_HOLD", "2m", "how long an attempt holds its notice; a worker that dies lets it lapse and another delivers"},
	{"RELAY_POLL_INTERVAL", "1s", "how often the outbox relay looks for due notices besides LISTEN/NOTIFY"},
	{"RELAY_LEASE", "1m", "a queued notice is queued again after this if not delivered (Redis lost it)"},
	{"SCAN_INTERVAL", "1m", "period of the reminder and deadline scan"},
	{"WEBHOOK_TIMEOUT", "10s", "time limit of one webhook request"},
	{"WEBHOOK_LEGACY_SIGNATURE", "true", "also send the old X-Carepath-Timestamp and X-Carepath-Signature headers beside the Standard Webhooks ones; this release only, set false once every partner verifies webhook-signature"},
	{"SMTP_ADDR", "", "SMTP server host:port for e-mail notices; empty: e-mail notices fail until it is set"},
	{"SMTP_USERNAME", "", "SMTP user (AUTH PLAIN); empty: no authentication"},
	{"SMTP_PASSWORD", "", "SMTP password"},
	{"SMTP_FROM", "noreply@carepath.local", "sender address of e-mail notices"},
	{"SMTP_TLS", "starttls", "starttls, tls (implicit, port 465) or none (a local relay only)"},
	{"SMS_GATEWAY_URL", "", "HTTP SMS gateway endpoint (POST JSON to, text, client_ref); empty: SMS fail until it is set"},
	{"SMS_GATEWAY_TOKEN", "", "bearer token for the SMS gateway"},
	{"WEBHOOK_ALLOW_PRIVATE", "false", "true lets webhook URLs point at loopback, private and link-local addresses (development and tests only)"},
	{"METRICS_TOKEN", "", "bearer token that may read /metrics on the API listener; empty: /metrics is not served there"},
	{"AUTO_ASSIGN", "true", "true gives each new case nobody holds to the enabled specialist with the fewest open cases (before admission); false leaves it for a supervisor"},
	{"SMS_QUIET_HOURS", "21-09", "no SMS in this window, Moscow time; such SMS wait until it ends (\"off\" for none)"},
}

// devDataKey is used when DATA_KEY is unset so that `make run` works out of the box. It is
// derived from a public string: anything sealed with it is not protected.
var devDataKey = func() []byte { s := sha256.Sum256([]byte("carepath development data key - not secret")); return s[:] }()

// devPhoneIndexKey is used when PHONE_INDEX_KEY is unset, like devDataKey: not a secret.
var devPhoneIndexKey = func() []byte {
	s := sha256.Sum256([]byte("carepath development phone index key - not secret"))
	return s[:]
}()

func loadConfig(getenv func(string) string) (Config, error) {
	get := func(name string) string {
		if v := strings.TrimSpace(getenv(name)); v != "" {
			return v
		}
		for _, cv := range configVars {
			if cv.name == name {
				return cv.def
			}
		}
		return ""
	}
	var c Config
	var err error
	c.DatabaseURL = get("DATABASE_URL")
	if u, err := url.Parse(c.DatabaseURL); err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") || strings.Trim(u.Path, "/") == "" {
		return c, fmt.Errorf("DATABASE_URL %q: want postgres://user@host:port/database", c.DatabaseURL)
	}
	if c.DatabaseReadURL = get("DATABASE_READ_URL"); c.DatabaseReadURL != "" {
		if u, err := url.Parse(c.DatabaseReadURL); err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") || strings.Trim(u.Path, "/") == "" {
			return c, fmt.Errorf("DATABASE_READ_URL %q: want postgres://user@host:port/database (a standby of DATABASE_URL)", c.DatabaseReadURL)
		}
	}
	c.RedisURL = get("REDIS_URL")
	if c.Redis, err = parseRedis(c.RedisURL, strings.TrimSpace(getenv("REDIS_URL")) != "", get("REDIS_SENTINELS"), get("REDIS_MASTER")); err != nil {
		return c, err
	}
	c.RedisURL = c.Redis.url
	c.HTTPAddr = get("HTTP_ADDR")
	if _, port, err := net.SplitHostPort(c.HTTPAddr); err != nil || port == "" {
		return c, fmt.Errorf("HTTP_ADDR %q: want host:port", c.HTTPAddr)
	}
	if err := c.LogLevel.UnmarshalText([]byte(get("LOG_LEVEL"))); err != nil {
		return c, fmt.Errorf("LOG_LEVEL %q: want debug, info, warn or error", get("LOG_LEVEL"))
	}
	c.BootstrapToken = get("BOOTSTRAP_ADMIN_TOKEN")
	if c.BootstrapToken != "" && len(c.BootstrapToken) < 12 {
		return c, fmt.Errorf("BOOTSTRAP_ADMIN_TOKEN: use at least 12 characters")
	}
	if k := get("DATA_KEY"); k != "" {
		keys, err := store.ParseKeys(k)
		if err != nil {
			return c, err
		}
		c.DataKeys = keys
	} else {
		c.DataKeys, c.DevDataKey = [][]byte{devDataKey}, true
	}
	if k := get("PHONE_INDEX_KEY"); k != "" {
		keys, err := store.ParsePhoneIndexKeys(k)
		if err != nil {
			return c, err
		}
		c.PhoneIndexKeys = keys
	} else {
		c.PhoneIndexKeys, c.DevPhoneIndexKey = [][]byte{devPhoneIndexKey}, true
	}
	ints := map[string]*int{
		"DB_MAX_CONNS": &c.DBMaxConns, "DOCUMENT_COLLECTION_DAYS": &c.Settings.DocumentCollectionDays,
		"REVIEW_DECISION_WD": &c.Settings.ReviewDecisionWD, "IPPSU_WD": &c.Settings.IPPSUWD,
		"REVIEW_DECISION_WITH_IPPSU_WD": &c.Settings.ReviewDecisionWithIPPSUWD, "CONTRACT_WD": &c.Settings.ContractWD,
		"VOUCHER_VALID_DAYS": &c.Settings.VoucherValidDays, "MAX_LEAVE_DAYS": &c.Settings.MaxLeaveDays,
		"IPPSU_REVIEW_YEARS": &c.Settings.IPPSUReviewYears, "GUARDIANSHIP_NOTICE_WD": &c.Settings.GuardianshipNoticeWD,
		"CONTACT_REQUEST_WD": &c.Settings.ContactRequestWD, "LEAD_TRIAGE_DAYS": &c.LeadTriageDays,
		"BED_REPORT_MAX_DAYS": &c.Settings.BedReportMaxDays, "OFFER_RESPONSE_WD": &c.Settings.OfferResponseWD,
		"OFFER_REFUSALS_BEFORE_REVIEW": &c.Settings.OfferRefusalsBeforeReview,
	}
	for name, dst := range ints {
		n, err := strconv.Atoi(get(name))
		if err != nil || n < 1 || n > 3650 {
			return c, fmt.Errorf("%s %q: want a whole number from 1 to 3650", name, get(name))
		}
		*dst = n
	}
	size, err := strconv.Atoi(get("CASE_CACHE_SIZE"))
	if err != nil || size < 0 || size > 1000000 {
		return c, fmt.Errorf("CASE_CACHE_SIZE %q: want a whole number from 0 to 1000000", get("CASE_CACHE_SIZE"))
	}
	c.CaseCacheSize = size
	if c.StatsCacheTTL, err = time.ParseDuration(get("STATS_CACHE_TTL")); err != nil || c.StatsCacheTTL < 0 {
		return c, fmt.Errorf("STATS_CACHE_TTL %q: want a duration such as 5m, or 0", get("STATS_CACHE_TTL"))
	}
	d, err := time.ParseDuration(get("SHUTDOWN_TIMEOUT"))
	if err != nil || d <= 0 {
		return c, fmt.Errorf("SHUTDOWN_TIMEOUT %q: want a duration such as 15s", get("SHUTDOWN_TIMEOUT"))
	}
	c.ShutdownTimeout = d
	c.Access = domain.DefaultAccessSettings()
	c.Access.CenterPhone = get("CENTER_PHONE")
	for name, dst := range map[string]*time.Duration{"TOKEN_TTL_DAYS": &c.Access.TokenTTL, "AGENCY_KEY_GRACE_HOURS": &c.Access.KeyGrace} {
		n, err := strconv.Atoi(get(name))
		if err != nil || n < 1 || n > 3650 {
			return c, fmt.Errorf("%s %q: want a whole number from 1 to 3650", name, get(name))
		}
		unit := time.Hour
		if name == "TOKEN_TTL_DAYS" {
			unit = 24 * time.Hour
		}
		*dst = time.Duration(n) * unit
	}
	if d, err = time.ParseDuration(get("AUTH_CACHE_TTL")); err != nil || d < 0 || d > time.Minute {
		return c, fmt.Errorf("AUTH_CACHE_TTL %q: want a duration from 0s to 1m, such as 2s", get("AUTH_CACHE_TTL"))
	}
	c.Access.CredentialCacheTTL = d
	if c.Access.WebhookAllowPrivate, err = strconv.ParseBool(get("WEBHOOK_ALLOW_PRIVATE")); err != nil {
		return c, fmt.Errorf("WEBHOOK_ALLOW_PRIVATE %q: want true or false", get("WEBHOOK_ALLOW_PRIVATE"))
	}
	if c.AutoAssign, err = strconv.ParseBool(get("AUTO_ASSIGN")); err != nil {
		return c, fmt.Errorf("AUTO_ASSIGN %q: want true or false", get("AUTO_ASSIGN"))
	}
	c.MetricsToken = get("METRICS_TOKEN")
	if c.MetricsToken != "" && len(c.MetricsToken) < 16 {
		return c, fmt.Errorf("METRICS_TOKEN: use at least 16 characters")
	}
	for _, p := range strings.Split(get("TRUSTED_PROXIES"), ",") {
		if p = strings.TrimSpace(p); p != "" {
			if _, _, err := net.ParseCIDR(p); err != nil && net.ParseIP(p) == nil {
				return c, fmt.Errorf("TRUSTED_PROXIES: %q is not an address or CIDR", p)
			}
			c.TrustedProxies = append(c.TrustedProxies, p)
		}
	}
	v, err := domain.ParseValidity(get("DOCUMENT_VALIDITY_MONTHS"))
	if err != nil {
		return c, fmt.Errorf("DOCUMENT_VALIDITY_MONTHS: %w", err)
	}
	c.Settings.Validity = v
	if c.Settings.SMSQuietHours, err = domain.ParseQuietHours(get("SMS_QUIET_HOURS")); err != nil {
		return c, err
	}
	if c.WorkerMetricsAddr = get("WORKER_METRICS_ADDR"); c.WorkerMetricsAddr != "" {
		if _, _, err := net.SplitHostPort(c.WorkerMetricsAddr); err != nil {
			return c, fmt.Errorf("WORKER_METRICS_ADDR %q: want host:port", c.WorkerMetricsAddr)
		}
	}
	if c.PprofAddr = get("PPROF_ADDR"); c.PprofAddr != "" {
		if _, _, err := net.SplitHostPort(c.PprofAddr); err != nil {
			return c, fmt.Errorf("PPROF_ADDR %q: want host:port", c.PprofAddr)
		}
	}
	return c, loadNoticeConfig(get, &c.Notices)
}

func loadNoticeConfig(get func(string) string, n *NoticeConfig) error {
	for name, dst := range map[string]*int{"WORKER_CONCURRENCY": &n.Concurrency, "NOTICE_MAX_ATTEMPTS": &n.MaxAttempts} {
		v, err := strconv.Atoi(get(name))
		if err != nil || v < 1 || v > 1000 {
			return fmt.Errorf("%s %q: want a whole number from 1 to 1000", name, get(name))
		}
		*dst = v
	}
	durations := map[string]*time.Duration{
		"NOTICE_BACKOFF_BASE": &n.BackoffBase, "NOTICE_BACKOFF_MAX": &n.BackoffMax, "NOTICE_HOLD": &n.Hold,
		"RELAY_POLL_INTERVAL": &n.RelayPoll, "RELAY_LEASE": &n.RelayLease, "SCAN_INTERVAL": &n.ScanInterval,
		"WEBHOOK_TIMEOUT": &n.WebhookTimeout,
	}
	for name, dst := range durations {
		d, err := time.ParseDuration(get(name))
		if err != nil || d <= 0 {
			return fmt.Errorf("%s %q: want a duration such as 30s", name, get(name))
		}
		*dst = d
	}
	if n.ScanInterval < time.Second || n.ScanInterval >= time.Minute && (n.ScanInterval%time.Minute != 0 || 60%int(n.ScanInterval/time.Minute) != 0) {
		return fmt.Errorf("SCAN_INTERVAL %s: want whole seconds under a minute, or whole minutes that divide an hour", n.ScanInterval)
	}
	if n.Hold <= n.WebhookTimeout {
		return fmt.Errorf("NOTICE_HOLD %s must be longer than WEBHOOK_TIMEOUT %s", n.Hold, n.WebhookTimeout)
	}
	legacy, err := strconv.ParseBool(get("WEBHOOK_LEGACY_SIGNATURE"))
	if err != nil {
		return fmt.Errorf("WEBHOOK_LEGACY_SIGNATURE %q: want true or false", get("WEBHOOK_LEGACY_SIGNATURE"))
	}
	n.WebhookLegacySignature = legacy
	n.CenterPhone, n.SMTPAddr, n.SMTPUsername, n.SMTPPassword = get("CENTER_PHONE"), get("SMTP_ADDR"), get("SMTP_USERNAME"), get("SMTP_PASSWORD")
	n.SMTPFrom, n.SMTPTLS, n.SMSGatewayURL, n.SMSGatewayToken = get("SMTP_FROM"), get("SMTP_TLS"), get("SMS_GATEWAY_URL"), get("SMS_GATEWAY_TOKEN")
	if n.SMTPAddr != "" {
		if _, _, err := net.SplitHostPort(n.SMTPAddr); err != nil {
			return fmt.Errorf("SMTP_ADDR %q: want host:port", n.SMTPAddr)
		}
	}
	if n.SMTPTLS != "starttls" && n.SMTPTLS != "tls" && n.SMTPTLS != "none" {
		return fmt.Errorf("SMTP_TLS %q: want starttls, tls or none", n.SMTPTLS)
	}
	if n.SMSGatewayURL != "" {
		if u, err := url.Parse(n.SMSGatewayURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("SMS_GATEWAY_URL %q: want an http(s) URL", n.SMSGatewayURL)
		}
	}
	return nil
}

// scanCron turns SCAN_INTERVAL into a cron spec aligned to the clock, so the schedulers of
// several workers tick together and their per-tick task ids match.
func scanCron(d time.Duration) string {
	if d >= time.Minute {
		return fmt.Sprintf("*/%d * * * *", int(d/time.Minute))
	}
	return "@every " + d.String()
}
