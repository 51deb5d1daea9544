package domain

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"
)

// User is a specialist of the center.
type User struct {
	ID         string     `json:"id"`
	Name       string     `json:"name"`
	Role       string     `json:"role"`
	Email      string     `json:"email,omitempty"`
	Phone      string     `json:"phone,omitempty"`
	CreatedAt  time.Time  `json:"created_at"`
	DisabledAt *time.Time `json:"disabled_at,omitempty"`
}

// NewUser is what an admin supplies to add a specialist.
type NewUser struct {
	Name  string `json:"name"`
	Role  string `json:"role"`
	Email string `json:"email"`
	Phone string `json:"phone"`
	// ExpiresInDays is the life of the first token; the configured default when 0.
	ExpiresInDays int `json:"expires_in_days"`
}

// Webhook is where and what the notices worker delivers to an agency.
type Webhook struct {
	URL string `json:"url"`
	// Secret signs deliveries; write-only: never shown back.
	Secret string `json:"secret,omitempty"`
	// Happenings the agency wants; empty means every happening its kind hears of.
	Happenings []string `json:"happenings"`
}

// Agency is a partner agency.
type Agency struct {
	ID   string     `json:"id"`
	Name string     `json:"name"`
	Kind AgencyKind `json:"kind"`
	// FacilityIDs are the boarding houses a facility agency runs.
	FacilityIDs []string  `json:"facility_ids"`
	WebhookURL  string    `json:"webhook_url"`
	HasSecret   bool      `json:"webhook_secret_set"`
	Happenings  []string  `json:"webhook_happenings"`
	CreatedAt   time.Time `json:"created_at"`
}

// NewAgency is what an admin supplies to add a partner agency.
type NewAgency struct {
	Name        string     `json:"name"`
	Kind        AgencyKind `json:"kind"`
	FacilityIDs []string   `json:"facility_ids"`
	Webhook     *Webhook   `json:"webhook"`
}

// Credential is a secret shown once: a specialist's token or an agency's API key.
type Credential struct {
	Secret    string     `json:"-"`
	Hash      string     `json:"-"`
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
}

// Identities keeps specialists, agencies and their credentials. Only hashes of credentials are
// stored.
type Identities interface {
	// CreateUser saves a user with its first token; ECONFLICT when the name is taken.
	CreateUser(ctx context.Context, u *User, tok Credential) error
	// Users lists the users by name.
	Users(ctx context.Context) ([]User, error)
	// User returns a user; ENOTFOUND.
	User(ctx context.Context, id string) (*User, error)
	// AddToken gives a user one more token; ENOTFOUND.
	AddToken(ctx context.Context, userID string, tok Credential) error
	// RevokeTokens revokes every token of a user and returns how many; ENOTFOUND.
	RevokeTokens(ctx context.Context, userID string, at time.Time) (int, error)
	// HasAdmin reports whether an enabled admin exists.
	HasAdmin(ctx context.Context) (bool, error)
	// CreateAgency saves an agency with its first key, its webhook secret, and links its
	// facilities; ECONFLICT when the name is taken, EUNPROCESSABLE when a facility does not exist
	// or has another agency.
	CreateAgency(ctx context.Context, a *Agency, key Credential, webhookSecret string) error
	// Agencies lists the agencies by kind and name.
	Agencies(ctx context.Context) ([]Agency, error)
	// Agency returns an agency; ENOTFOUND.
	Agency(ctx context.Context, id string) (*Agency, error)
	// RotateAgencyKey adds a key and makes every other valid key of the agency expire at
	// oldUntil (unless it expires earlier); ENOTFOUND.
	RotateAgencyKey(ctx context.Context, agencyID string, key Credential, oldUntil time.Time) error
	// SetWebhook replaces an agency's webhook settings (the secret only when one is given);
	// ENOTFOUND.
	SetWebhook(ctx context.Context, agencyID string, w Webhook) error
	// ActorByCredential returns the actor whose token or key has this hash and is valid at now;
	// ENOTFOUND otherwise.
	ActorByCredential(ctx context.Context, hash string, now time.Time) (Actor, error)
}

// AccessSettings are the configurable parts of access.
type AccessSettings struct {
	// TokenTTL is the life of a specialist's token (default 90 days).
	TokenTTL time.Duration
	// KeyGrace is how long an agency's old key keeps working after a rotation (default 24 h).
	KeyGrace time.Duration
	// CenterPhone is printed on the relatives' status view.
	CenterPhone string
	// StatusWindow, StatusMaxPerClient, StatusMaxPerAddress and StatusMaxPerNumber limit failed
	// lookups (domain/status.go, "The lockout"): 5 per case and client, then a back-off from
	// StatusWindow doubling, remembered StatusClientMemory; 30 per client address and a ceiling
	// of 500 per case from everywhere, each in StatusWindow (15 minutes).
	StatusWindow        time.Duration
	StatusClientMemory  time.Duration
	StatusMaxPerClient  int
	StatusMaxPerNumber  int
	StatusMaxPerAddress int
	// CredentialCacheTTL is how long an accepted credential is remembered without asking the
	// database again (default 2 s; 0 asks every time). A revocation, rotation or new user in
	// this process forgets them all at once; another instance of carepath notices it within
	// this time.
	CredentialCacheTTL time.Duration
	// WebhookAllowPrivate lets webhook URLs point at loopback, private and link-local
	// addresses (development and tests; WEBHOOK_ALLOW_PRIVATE).
	WebhookAllowPrivate bool
}

// DefaultAccessSettings returns the defaults of the issue.
func DefaultAccessSettings() AccessSettings {
	return AccessSettings{TokenTTL: 90 * 24 * time.Hour, KeyGrace: 24 * time.Hour, CenterPhone: "+7 (495) 000-00-00",
		StatusWindow: 15 * time.Minute, StatusClientMemory: 24 * time.Hour, StatusMaxPerClient: 5, StatusMaxPerNumber: 500,
		StatusMaxPerAddress: 30, CredentialCacheTTL: 2 * time.Second}
}

// Access is who may come in and what was seen: credentials of specialists and agencies, the
// relatives' status lookup and the audit of case access.
type Access struct {
	Identities Identities
	Log        AccessLog
	Lookups    StatusStore
	Settings   AccessSettings
	// Tally counts the lookups by day and outcome for the figures; nil counts nothing.
	Tally LookupTally
	// Now is the clock; time.Now when nil.
	Now func() time.Time

	credentials credentialCache
}

// credentialCache remembers accepted credentials (by hash) for Settings.CredentialCacheTTL:
// every request of every specialist and agency authenticates, and most come from a few
// credentials. Refused credentials are not remembered.
type credentialCache struct {
	mu sync.RWMutex
	m  map[string]cachedActor
}

type cachedActor struct {
	actor Actor
	until time.Time
}

// credentialCacheMax bounds the cache; past it, it starts over.
const credentialCacheMax = 10000

func (c *credentialCache) get(hash string, now time.Time) (Actor, bool) {
	c.mu.RLock()
	e, ok := c.m[hash]
	c.mu.RUnlock()
	if !ok || !now.Before(e.until) {
		return Actor{}, false
	}
	return e.actor, true
}

func (c *credentialCache) put(hash string, a Actor, until time.Time) {
	c.mu.Lock()
	if c.m == nil || len(c.m) >= credentialCacheMax {
		c.m = map[string]cachedActor{}
	}
	c.m[hash] = cachedActor{a, until}
	c.mu.Unlock()
}

// forget drops every remembered credential: after any change to users, tokens or agencies.
func (c *credentialCache) forget() {
	c.mu.Lock()
	c.m = nil
	c.mu.Unlock()
}

func (s *Access) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// Credential prefixes tell a reader what a leaked secret is (and secret scanners can find them).
const (
	UserTokenPrefix = "cpt_"
	AgencyKeyPrefix = "cpk_"
)

var secretEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// NewCredential makes a random secret with 256 bits of entropy and its hash.
func NewCredential(prefix string) Credential {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	secret := prefix + strings.ToLower(secretEncoding.EncodeToString(b))
	return Credential{Secret: secret, Hash: HashCredential(secret)}
}

// HashCredential is how tokens and keys are stored and looked up: a plain SHA-256 is enough for
// secrets of 256 random bits.
func HashCredential(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// Authenticate turns a bearer secret into its actor; EUNAUTHORIZED when it is unknown, expired
// or revoked, or its owner is disabled.
func (s *Access) Authenticate(ctx context.Context, bearer string) (Actor, error) {
	if len(bearer) > 200 {
		return Actor{}, Errorf(EUNAUTHORIZED, "the bearer token is not valid")
	}
	hash, now := HashCredential(bearer), s.now()
	if a, ok := s.credentials.get(hash, now); ok {
		return a, nil
	}
	a, err := s.Identities.ActorByCredential(ctx, hash, now)
	if ErrorCode(err) == ENOTFOUND {
		return Actor{}, Errorf(EUNAUTHORIZED, "the bearer token is not valid")
	}
	if err != nil {
		return Actor{}, fmt.Errorf("authenticate: %w", err)
	}
	if ttl := s.Settings.CredentialCacheTTL; ttl > 0 {
		s.credentials.put(hash, a, now.Add(ttl))
	}
	return a, nil
}

var emailRe = regexp.MustCompile(`^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$`)

func (s *Access) tokenFor(days int) (Credential, error) {
	ttl := s.Settings.TokenTTL
	if days != 0 {
		if days < 1 || days > 3650 {
			return Credential{}, Invalid("expires_in_days", "must be between 1 and 3650")
		}
		ttl = time.Duration(days) * 24 * time.Hour
	}
	tok := NewCredential(UserTokenPrefix)
	exp := s.now().Add(ttl).UTC()
	tok.ExpiresAt = &exp
	return tok, nil
}

// CreateUser adds a specialist and returns it with its first token, shown only here.
func (s *Access) CreateUser(ctx context.Context, n NewUser) (*User, Credential, error) {
	n.Name = strings.TrimSpace(n.Name)
	if err := required("name", n.Name, 200); err != nil {
		return nil, Credential{}, err
	}
	if err := oneOf("role", n.Role, Roles); err != nil {
		return nil, Credential{}, err
	}
	if err := checkEmail("email", n.Email); err != nil {
		return nil, Credential{}, err
	}
	if err := checkPhone("phone", n.Phone); err != nil {
		return nil, Credential{}, err
	}
	tok, err := s.tokenFor(n.ExpiresInDays)
	if err != nil {
		return nil, Credential{}, err
	}
	u := &User{Name: n.Name, Role: n.Role, Email: n.Email, Phone: n.Phone, CreatedAt: s.now().UTC()}
	if err := s.Identities.CreateUser(ctx, u, tok); err != nil {
		return nil, Credential{}, fmt.Errorf("create user %s: %w", n.Name, err)
	}
	return u, tok, nil
}

// SeedAdmin creates the first admin with the given token when no admin exists yet; it reports
// whether it did. BOOTSTRAP_ADMIN_TOKEN comes in here and nowhere else.
func (s *Access) SeedAdmin(ctx context.Context, token string) (bool, error) {
	if token == "" {
		return false, nil
	}
	has, err := s.Identities.HasAdmin(ctx)
	if err != nil || has {
		return false, err
	}
	exp := s.now().Add(s.Settings.TokenTTL).UTC()
	u := &User{Name: "bootstrap admin", Role: RoleAdmin, CreatedAt: s.now().UTC()}
	err = s.Identities.CreateUser(ctx, u, Credential{Hash: HashCredential(token), ExpiresAt: &exp})
	if ErrorCode(err) == ECONFLICT {
		return false, nil // another process seeded it meanwhile
	}
	return err == nil, err
}

// Users lists the specialists.
func (s *Access) Users(ctx context.Context) ([]User, error) { return s.Identities.Users(ctx) }

// IssueToken gives a specialist a new token, shown only here.
func (s *Access) IssueToken(ctx context.Context, userID string, days int) (Credential, error) {
	if !IsUUID(userID) {
		return Credential{}, Errorf(ENOTFOUND, "user %s not found", userID)
	}
	tok, err := s.tokenFor(days)
	if err != nil {
		return Credential{}, err
	}
	if err := s.Identities.AddToken(ctx, userID, tok); err != nil {
		return Credential{}, fmt.Errorf("issue token: %w", err)
	}
	return tok, nil
}

// RevokeTokens revokes every token of a specialist at once.
func (s *Access) RevokeTokens(ctx context.Context, userID string) (int, error) {
	if !IsUUID(userID) {
		return 0, Errorf(ENOTFOUND, "user %s not found", userID)
	}
	defer s.credentials.forget()
	return s.Identities.RevokeTokens(ctx, userID, s.now())
}

func (w *Webhook) validate(allowInternal bool) error {
	w.URL = strings.TrimSpace(w.URL)
	if w.URL != "" {
		if err := checkWebhookURL(w.URL, allowInternal); err != nil {
			return err
		}
	}
	if err := checkWebhookSecret(w.Secret); err != nil {
		return err
	}
	if len(w.Happenings) > 50 {
		return Invalid("webhook.happenings", "at most 50")
	}
	for i, h := range w.Happenings {
		if _, ok := tellFor(Happening(h)); !ok {
			return Invalid(fmt.Sprintf("webhook.happenings[%d]", i), "%q is not a happening; known: %s", h, strings.Join(HappeningNames(), ", "))
		}
	}
	if w.Happenings == nil {
		w.Happenings = []string{}
	}
	slices.Sort(w.Happenings)
	w.Happenings = slices.Compact(w.Happenings)
	return nil
}

// CreateAgency adds a partner agency and returns it with its first API key, shown only here.
func (s *Access) CreateAgency(ctx context.Context, n NewAgency) (*Agency, Credential, error) {
	n.Name = strings.TrimSpace(n.Name)
	if err := required("name", n.Name, 300); err != nil {
		return nil, Credential{}, err
	}
	if err := oneOf("kind", n.Kind, AgencyKinds); err != nil {
		return nil, Credential{}, err
	}
	if len(n.FacilityIDs) > 0 && n.Kind != AgencyFacility {
		return nil, Credential{}, Invalid("facility_ids", "only a facility agency runs boarding houses")
	}
	for i, id := range n.FacilityIDs {
		if !IsUUID(id) {
			return nil, Credential{}, Invalid(fmt.Sprintf("facility_ids[%d]", i), "must be a UUID")
		}
	}
	w := Webhook{Happenings: []string{}}
	if n.Webhook != nil {
		w = *n.Webhook
	}
	if err := w.validate(s.Settings.WebhookAllowPrivate); err != nil {
		return nil, Credential{}, err
	}
	ids := slices.Clone(n.FacilityIDs)
	if ids == nil {
		ids = []string{}
	}
	a := &Agency{Name: n.Name, Kind: n.Kind, FacilityIDs: ids, WebhookURL: w.URL, HasSecret: w.Secret != "",
		Happenings: w.Happenings, CreatedAt: s.now().UTC()}
	key := NewCredential(AgencyKeyPrefix)
	if err := s.Identities.CreateAgency(ctx, a, key, w.Secret); err != nil {
		return nil, Credential{}, fmt.Errorf("create agency %s: %w", n.Name, err)
	}
	return a, key, nil
}

// Agencies lists the partner agencies.
func (s *Access) Agencies(ctx context.Context) ([]Agency, error) { return s.Identities.Agencies(ctx) }

// RotateAgencyKey issues a new API key; the agency's other keys keep working for the grace
// period (the configured one when grace is 0), so a partner switches without downtime.
func (s *Access) RotateAgencyKey(ctx context.Context, agencyID string, grace time.Duration) (Credential, time.Time, error) {
	if !IsUUID(agencyID) {
		return Credential{}, time.Time{}, Errorf(ENOTFOUND, "agency %s not found", agencyID)
	}
	if grace == 0 {
		grace = s.Settings.KeyGrace
	}
	if grace < 0 || grace > 30*24*time.Hour {
		return Credential{}, time.Time{}, Invalid("grace_hours", "must be between 0 and 720")
	}
	key := NewCredential(AgencyKeyPrefix)
	until := s.now().Add(grace).UTC()
	defer s.credentials.forget()
	if err := s.Identities.RotateAgencyKey(ctx, agencyID, key, until); err != nil {
		return Credential{}, time.Time{}, fmt.Errorf("rotate key of agency %s: %w", agencyID, err)
	}
	return key, until, nil
}

// SetWebhook replaces an agency's webhook settings.
func (s *Access) SetWebhook(ctx context.Context, agencyID string, w Webhook) (*Agency, error) {
	if !IsUUID(agencyID) {
		return nil, Errorf(ENOTFOUND, "agency %s not found", agencyID)
	}
	if err := w.validate(s.Settings.WebhookAllowPrivate); err != nil {
		return nil, err
	}
	if err := s.Identities.SetWebhook(ctx, agencyID, w); err != nil {
		return nil, fmt.Errorf("set webhook of agency %s: %w", agencyID, err)
	}
	return s.Identities.Agency(ctx, agencyID)
}

// AgencyEntry is an agency as the staff pick it from a list: no keys, no webhook.
type AgencyEntry struct {
	ID   string     `json:"id"`
	Name string     `json:"name"`
	Kind AgencyKind `json:"kind"`
}

// AgencyDirectory lists the agencies of one kind (all kinds for ""), by name, for the pickers
// of the console (the guardianship body and the health organisation of a case).
func (s *Access) AgencyDirectory(ctx context.Context, kind string) ([]AgencyEntry, error) {
	if kind != "" {
		if err := oneOf("kind", AgencyKind(kind), AgencyKinds); err != nil {
			return nil, err
		}
	}
	all, err := s.Identities.Agencies(ctx)
	if err != nil {
		return nil, err
	}
	out := []AgencyEntry{}
	for _, a := range all {
		if kind == "" || string(a.Kind) == kind {
			out = append(out, AgencyEntry{ID: a.ID, Name: a.Name, Kind: a.Kind})
		}
	}
	return out, nil
}
