package api_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"carepath/domain"
	"carepath/store"
	"carepath/store/lookup"
)

// TestAgencyKeyRotation: after a rotation the old and the new key both work for the grace
// period, then only the new one.
func TestAgencyKeyRotation(t *testing.T) {
	e := newAccessEnv(t, false)
	id, old := e.agencyID["health"], e.tokens["health"]
	res := e.do("POST", "/api/v1/agencies/"+id+"/keys", e.tokens["admin"], map[string]any{"grace_hours": 2})
	if res.status != http.StatusCreated {
		t.Fatalf("rotate: %d %s", res.status, res.body)
	}
	fresh := res.json(t)["api_key"].(string)
	if !strings.HasPrefix(fresh, domain.AgencyKeyPrefix) || fresh == old {
		t.Fatalf("new key %q", fresh)
	}
	for name, key := range map[string]string{"old": old, "new": fresh} {
		if res := e.do("GET", "/api/v1/agency/cases", key, nil); res.status != http.StatusOK {
			t.Errorf("%s key during the grace period: %d", name, res.status)
		}
	}
	e.clock.advance(2*time.Hour + time.Minute)
	if res := e.do("GET", "/api/v1/agency/cases", old, nil); res.status != http.StatusUnauthorized {
		t.Errorf("old key after the grace period: want 401, got %d", res.status)
	}
	if res := e.do("GET", "/api/v1/agency/cases", fresh, nil); res.status != http.StatusOK {
		t.Errorf("new key after the grace period: %d", res.status)
	}
	// A leaked key: grace 0 stops the others at once.
	res = e.do("POST", "/api/v1/agencies/"+id+"/keys", e.tokens["admin"], map[string]any{"grace_hours": 0})
	if res.status != http.StatusCreated {
		t.Fatalf("rotate: %d %s", res.status, res.body)
	}
	if res := e.do("GET", "/api/v1/agency/cases", fresh, nil); res.status != http.StatusUnauthorized {
		t.Errorf("key rotated with no grace: want 401, got %d", res.status)
	}
	// Only hashes are stored.
	if n := e.count("SELECT count(*) FROM agency_keys WHERE key_hash = ? OR key_hash = ?", old, fresh); n != 0 {
		t.Errorf("a key is stored in clear")
	}
}

// TestUserTokens: tokens expire, can be revoked, and die with a disabled user; only hashes are
// stored; the bootstrap token seeds the first admin only.
func TestUserTokens(t *testing.T) {
	e := newAccessEnv(t, false)
	ctx := context.Background()
	res := e.do("POST", "/api/v1/users", e.tokens["admin"], map[string]any{"name": "Орлова Нина", "role": "supervisor", "expires_in_days": 1})
	if res.status != http.StatusCreated {
		t.Fatalf("create user: %d %s", res.status, res.body)
	}
	body := res.json(t)
	tok := body["token"].(string)
	uid := body["user"].(map[string]any)["id"].(string)
	if res := e.do("GET", "/api/v1/me", tok, nil); res.status != http.StatusOK || res.json(t)["role"] != "supervisor" {
		t.Fatalf("new token: %d %s", res.status, res.body)
	}
	if n := e.count("SELECT count(*) FROM user_tokens WHERE token_hash = ?", tok); n != 0 {
		t.Errorf("the token is stored in clear")
	}
	if res := e.do("POST", "/api/v1/users", e.tokens["admin"], map[string]any{"name": "орлова нина", "role": "specialist"}); res.status != http.StatusConflict {
		t.Errorf("duplicate name: want 409, got %d", res.status)
	}
	// A second token, then revoke all: both stop.
	res = e.do("POST", "/api/v1/users/"+uid+"/tokens", e.tokens["admin"], nil)
	if res.status != http.StatusCreated {
		t.Fatalf("issue token: %d %s", res.status, res.body)
	}
	second := res.json(t)["token"].(string)
	if res := e.do("DELETE", "/api/v1/users/"+uid+"/tokens", e.tokens["admin"], nil); res.status != http.StatusOK || res.json(t)["revoked"] != float64(2) {
		t.Fatalf("revoke: %d %s", res.status, res.body)
	}
	for _, k := range []string{tok, second} {
		if res := e.do("GET", "/api/v1/me", k, nil); res.status != http.StatusUnauthorized {
			t.Errorf("revoked token: want 401, got %d", res.status)
		}
	}
	// Expiry.
	res = e.do("POST", "/api/v1/users/"+uid+"/tokens", e.tokens["admin"], map[string]any{"expires_in_days": 1})
	third := res.json(t)["token"].(string)
	e.clock.advance(25 * time.Hour)
	if res := e.do("GET", "/api/v1/me", third, nil); res.status != http.StatusUnauthorized {
		t.Errorf("expired token: want 401, got %d", res.status)
	}
	// A disabled user's tokens stop.
	if err := e.db.Gorm.Exec("UPDATE users SET disabled_at = now() WHERE id = ?", e.userIDs["specialist"]).Error; err != nil {
		t.Fatal(err)
	}
	if res := e.do("GET", "/api/v1/me", e.tokens["specialist"], nil); res.status != http.StatusUnauthorized {
		t.Errorf("disabled user: want 401, got %d", res.status)
	}

	// The bootstrap token creates no admin when one exists, and is then no credential.
	if seeded, err := e.access.SeedAdmin(ctx, "bootstrap-token-of-the-test"); err != nil || seeded {
		t.Errorf("seed admin with an admin present: %v %v", seeded, err)
	}
	if res := e.do("GET", "/api/v1/me", "bootstrap-token-of-the-test", nil); res.status != http.StatusUnauthorized {
		t.Errorf("bootstrap token with an admin present: want 401, got %d", res.status)
	}
	if err := e.db.Gorm.Exec("UPDATE users SET disabled_at = now() WHERE role = 'admin'").Error; err != nil {
		t.Fatal(err)
	}
	if seeded, err := e.access.SeedAdmin(ctx, "bootstrap-token-of-the-test"); err != nil || !seeded {
		t.Fatalf("seed admin with none: %v %v", seeded, err)
	}
	if res := e.do("GET", "/api/v1/users", "bootstrap-token-of-the-test", nil); res.status != http.StatusOK {
		t.Errorf("the seeded admin: %d %s", res.status, res.body)
	}
}

// TestAgencyAdmin: agencies are created with facilities and webhook settings, the secret is
// write-only.
func TestAgencyAdmin(t *testing.T) {
	e := newAccessEnv(t, false)
	res := e.do("POST", "/api/v1/agencies", e.tokens["admin"], map[string]any{"name": "Пансионат Другой", "kind": "facility",
		"facility_ids": []string{e.facility["other"]},
		"webhook":      map[string]any{"url": "https://other.example.org/hook", "secret": "0123456789abcdef0123", "happenings": []string{"admitted", "discharged"}}})
	if res.status != http.StatusCreated {
		t.Fatalf("create agency: %d %s", res.status, res.body)
	}
	body := res.json(t)
	key := body["api_key"].(string)
	ag := body["agency"].(map[string]any)
	if ag["webhook_secret_set"] != true || strings.Contains(string(res.body), "0123456789abcdef0123") {
		t.Errorf("agency view: %s", res.body)
	}
	if res := e.do("GET", "/api/v1/me", key, nil); res.status != http.StatusOK || !strings.Contains(string(res.body), e.facility["other"]) {
		t.Errorf("the new agency's key: %d %s", res.status, res.body)
	}
	id := ag["id"].(string)
	res = e.do("PUT", "/api/v1/agencies/"+id+"/webhook", e.tokens["admin"], map[string]any{"url": "https://other.example.org/v2", "happenings": []string{"died"}})
	if res.status != http.StatusOK || res.json(t)["webhook_url"] != "https://other.example.org/v2" {
		t.Fatalf("set webhook: %d %s", res.status, res.body)
	}
	var secret string
	if err := e.db.Gorm.Raw("SELECT webhook_secret FROM agencies WHERE id = ?", id).Scan(&secret).Error; err != nil || secret != "0123456789abcdef0123" {
		t.Errorf("leaving the secret out keeps it: %q %v", secret, err)
	}
	// A facility already run by another agency cannot be taken.
	res = e.do("POST", "/api/v1/agencies", e.tokens["admin"], map[string]any{"name": "Захватчик", "kind": "facility", "facility_ids": []string{e.facility["own"]}})
	if res.status != http.StatusUnprocessableEntity {
		t.Errorf("facility of another agency: want 422, got %d %s", res.status, res.body)
	}
	if res := e.do("POST", "/api/v1/agencies", e.tokens["admin"], map[string]any{"name": "x", "kind": "bank"}); res.status != http.StatusBadRequest {
		t.Errorf("unknown kind: want 400, got %d", res.status)
	}
	// The facility reports its beds; fewer than taken is refused.
	if res := e.do("PUT", "/api/v1/agency/facilities/"+e.facility["other"]+"/beds", key, map[string]any{"capacity": 40}); res.status != http.StatusOK ||
		res.json(t)["free_beds"] != float64(40) {
		t.Errorf("report beds: %d %s", res.status, res.body)
	}
	if res := e.do("PUT", "/api/v1/agency/facilities/"+e.facility["own"]+"/beds", e.tokens["facility"], map[string]any{"capacity": 0}); res.status != http.StatusUnprocessableEntity {
		t.Errorf("capacity below the beds taken: want 422, got %d %s", res.status, res.body)
	}
}

// TestAgencyViews: each agency sees its cut of the case; SNILS masked, no address or passport.
func TestAgencyViews(t *testing.T) {
	e := newAccessEnv(t, false)
	for _, who := range []string{"mfc", "health", "guardianship", "facility"} {
		res := e.do("GET", "/api/v1/agency/cases/"+e.caseID, e.tokens[who], nil)
		if res.status != http.StatusOK {
			t.Fatalf("%s: %d %s", who, res.status, res.body)
		}
		b := string(res.body)
		for _, secret := range []string{"112-233-445", "Менжинского", "45 03 123456"} {
			if strings.Contains(b, secret) {
				t.Errorf("%s sees %q: %s", who, secret, b)
			}
		}
		if !strings.Contains(b, "***-***-*** 95") {
			t.Errorf("%s: SNILS not masked: %s", who, b)
		}
		psych := strings.Contains(b, "psychoneurological")
		if psych != (who != "mfc") {
			t.Errorf("%s: facility type shown %v", who, psych)
		}
		if hasRep := strings.Contains(b, "Кузнецов Павел"); hasRep != (who == "guardianship") {
			t.Errorf("%s: representatives shown %v", who, hasRep)
		}
	}
	// The facility's allowed events are only those it may report.
	res := e.do("GET", "/api/v1/agency/cases/"+e.caseID, e.tokens["facility"], nil)
	events := res.json(t)["allowed_events"].([]any)
	for _, ev := range events {
		if ev == "request_transfer" {
			t.Errorf("the facility may not request a transfer, yet it is listed: %v", events)
		}
	}
	// The specialist's list shows no SNILS at all.
	res = e.do("GET", "/api/v1/cases", e.tokens["specialist"], nil)
	if res.status != http.StatusOK || strings.Contains(string(res.body), "112-233") {
		t.Errorf("list: %d %s", res.status, res.body)
	}
	// The mfc files a case in its own name and gets the access code to hand over.
	n := e.newCase()
	res = e.do("POST", "/api/v1/cases", e.tokens["mfc"], n)
	if res.status != http.StatusCreated || res.json(t)["access_code"] == nil {
		t.Fatalf("mfc files: %d %s", res.status, res.body)
	}
	n.Channel = domain.ChannelHotline
	if res := e.do("POST", "/api/v1/cases", e.tokens["mfc"], n); res.status != http.StatusBadRequest {
		t.Errorf("mfc filing as hotline: want 400, got %d", res.status)
	}
}

// TestDeadlinesAndReassign: a specialist sees the deadlines of their own cases, a supervisor
// everyone's and reassigns.
func TestDeadlinesAndReassign(t *testing.T) {
	e := newAccessEnv(t, false)
	res := e.do("GET", "/api/v1/deadlines", e.tokens["specialist"], nil)
	if res.status != http.StatusOK || !strings.Contains(string(res.body), e.caseID) {
		t.Fatalf("specialist deadlines: %d %s", res.status, res.body)
	}
	if res := e.do("GET", "/api/v1/deadlines?assignee="+e.userIDs["supervisor"], e.tokens["specialist"], nil); res.status != http.StatusForbidden {
		t.Errorf("a specialist asking for another's deadlines: want 403, got %d", res.status)
	}
	// The admission's notice to the guardianship body is delivered (as the worker would), which
	// meets its one-working-day deadline.
	var notices []string
	e.db.Gorm.Raw("SELECT id FROM notices WHERE case_id = ? AND audience = 'guardianship'", e.caseID).Scan(&notices)
	for _, id := range notices {
		if err := store.NewNotices(e.db).Delivered(context.Background(), id, domain.AudienceGuardianship, e.clock.now()); err != nil {
			t.Fatal(err)
		}
	}
	if res := e.do("GET", "/api/v1/deadlines?at_risk=true", e.tokens["supervisor"], nil); res.status != http.StatusOK || strings.Contains(string(res.body), e.caseID) {
		t.Errorf("at risk: the IPPSU review is years away, yet listed: %d %s", res.status, res.body)
	}
	c := e.load(e.caseID)
	res = e.do("POST", "/api/v1/cases/"+c.ID+"/assignee", e.tokens["supervisor"], map[string]any{"assignee_id": e.userIDs["victim"]}, "If-Match", quoted(c.Version))
	if res.status != http.StatusOK || res.json(t)["assignee_id"] != e.userIDs["victim"] {
		t.Fatalf("reassign: %d %s", res.status, res.body)
	}
	if res := e.do("GET", "/api/v1/deadlines", e.tokens["specialist"], nil); strings.Contains(string(res.body), e.caseID) {
		t.Errorf("after reassignment the former specialist still sees the deadline")
	}
	c = e.load(e.caseID)
	res = e.do("POST", "/api/v1/cases/"+c.ID+"/assignee", e.tokens["supervisor"], map[string]any{"assignee_id": e.userIDs["admin"]}, "If-Match", quoted(c.Version))
	if res.status != http.StatusUnprocessableEntity {
		t.Errorf("assigning to an admin: want 422, got %d", res.status)
	}
	// Admin queries the audit of the case: every access above is there.
	res = e.do("GET", "/api/v1/audit?case="+c.ID+"&actor="+e.userIDs["supervisor"], e.tokens["admin"], nil)
	if res.status != http.StatusOK || !strings.Contains(string(res.body), "/api/v1/cases/:id/assignee") {
		t.Errorf("audit: %d %s", res.status, res.body)
	}
	today := domain.DateOf(time.Now()).String()
	res = e.do("GET", "/api/v1/audit?from="+today+"&to="+today+"&limit=1", e.tokens["admin"], nil)
	if res.status != http.StatusOK || res.json(t)["next_cursor"] == "" {
		t.Errorf("audit by day: %d %s", res.status, res.body)
	}
}

// TestCredentialCacheAcrossInstances: an accepted token is remembered for AUTH_CACHE_TTL. The
// instance that revokes it forgets at once; another instance (its own cache, the same
// database) refuses it once the TTL has passed.
func TestCredentialCacheAcrossInstances(t *testing.T) {
	e := newAccessEnv(t, false)
	ctx := context.Background()
	other := &domain.Access{Identities: store.NewIdentities(e.db), Log: store.NewAccessLog(e.db), Lookups: lookup.New(e.db),
		Settings: domain.DefaultAccessSettings(), Now: e.clock.now}
	res := e.do("POST", "/api/v1/users", e.tokens["admin"], map[string]any{"name": "Кэшева Алла", "role": "specialist"})
	if res.status != http.StatusCreated {
		t.Fatalf("create user: %d %s", res.status, res.body)
	}
	body := res.json(t)
	tok, uid := body["token"].(string), body["user"].(map[string]any)["id"].(string)
	if res := e.do("GET", "/api/v1/me", tok, nil); res.status != http.StatusOK {
		t.Fatalf("new token here: %d", res.status)
	}
	if _, err := other.Authenticate(ctx, tok); err != nil {
		t.Fatalf("new token on the other instance: %v", err)
	}
	if res := e.do("DELETE", "/api/v1/users/"+uid+"/tokens", e.tokens["admin"], nil); res.status != http.StatusOK {
		t.Fatalf("revoke: %d %s", res.status, res.body)
	}
	if res := e.do("GET", "/api/v1/me", tok, nil); res.status != http.StatusUnauthorized {
		t.Errorf("revoked token on the instance that revoked it: want 401 at once, got %d", res.status)
	}
	if _, err := other.Authenticate(ctx, tok); err != nil {
		t.Errorf("revoked token on the other instance within the TTL: still remembered, got %v", err)
	}
	e.clock.advance(domain.DefaultAccessSettings().CredentialCacheTTL)
	if _, err := other.Authenticate(ctx, tok); domain.ErrorCode(err) != domain.EUNAUTHORIZED {
		t.Errorf("revoked token on the other instance after the TTL: want unauthorized, got %v", err)
	}
	if _, err := other.Authenticate(ctx, "cpt_never_issued"); domain.ErrorCode(err) != domain.EUNAUTHORIZED {
		t.Errorf("unknown token: %v", err)
	}
}
