package jobs

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"

	"carepath"
	"carepath/domain"
)

// delivery is one webhook request handed to the Standard Webhooks reference verifier
// (scripts/webhookverify/verify.js, the standardwebhooks npm package).
type delivery struct {
	Name       string            `json:"name"`
	Secret     string            `json:"secret"`
	Raw        bool              `json:"raw"`
	BodyBase64 string            `json:"body_base64"`
	Headers    map[string]string `json:"headers"`
}

type verdict struct {
	Name     string `json:"name"`
	OK       bool   `json:"ok"`
	Error    string `json:"error"`
	NoticeID string `json:"notice_id"`
}

// referenceVerifier returns a function that verifies deliveries with the standardwebhooks npm
// package under node. Without node or the package (scripts/webhookverify/install.sh, run by
// make test) the test skips locally and fails in CI.
func referenceVerifier(t *testing.T) func([]delivery) map[string]verdict {
	t.Helper()
	dir, err := filepath.Abs(filepath.Join("..", "scripts", "webhookverify"))
	if err != nil {
		t.Fatal(err)
	}
	node, err := exec.LookPath("node")
	if err == nil {
		_, err = os.Stat(filepath.Join(dir, "node_modules", "standardwebhooks", "package.json"))
	}
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("the Standard Webhooks verifier is missing (%v); run scripts/webhookverify/install.sh", err)
		}
		t.Skipf("the Standard Webhooks verifier is missing (%v); run scripts/webhookverify/install.sh", err)
	}
	return func(ds []delivery) map[string]verdict {
		t.Helper()
		in := filepath.Join(t.TempDir(), "deliveries.json")
		b, _ := json.Marshal(ds)
		if err := os.WriteFile(in, b, 0o600); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, node, filepath.Join(dir, "verify.js"), in)
		cmd.Dir = dir
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("node verify.js: %v\n%s", err, out)
		}
		var vs []verdict
		if err := json.Unmarshal(out, &vs); err != nil {
			t.Fatalf("node verify.js said %q: %v", out, err)
		}
		byName := map[string]verdict{}
		for _, v := range vs {
			byName[v.Name] = v
		}
		return byName
	}
}

// asDelivery is what the partner at r's path received, with the secret it holds.
func asDelivery(name, secret string, r received) delivery {
	h := map[string]string{}
	for k := range r.Header {
		h[k] = r.Header.Get(k)
	}
	raw := len(secret) < len(secretPrefix) || secret[:len(secretPrefix)] != secretPrefix
	return delivery{Name: name, Secret: secret, Raw: raw, BodyBase64: base64.StdEncoding.EncodeToString(r.Raw), Headers: h}
}

// TestPartnersVerifyWebhooksWithTheStandardLibrary delivers real notices through the worker to
// an HTTP receiver and has the Standard Webhooks reference library verify every request: with a
// secret in the standard's whsec_ form and with a plain one, on the first attempt and on the
// retry, which carries the same webhook-id. A changed body, a changed id and another secret fail.
func TestPartnersVerifyWebhooksWithTheStandardLibrary(t *testing.T) {
	verify := referenceVerifier(t)
	e := newEnv(t)
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	whsec := secretPrefix + base64.StdEncoding.EncodeToString(key)
	e.exec("UPDATE agencies SET webhook_secret = ? WHERE id = ?", whsec, e.health.id)
	e.sink.mu.Lock()
	e.sink.secrets[e.health.path] = whsec
	e.sink.mu.Unlock()
	secrets := map[string]string{e.health.path: whsec, e.guardianship.path: e.guardianship.secret}

	// Every notice's first attempt is refused, so each is delivered twice.
	var mu sync.Mutex
	refused := map[string]bool{}
	e.sink.setAnswer(func(r received) int {
		mu.Lock()
		defer mu.Unlock()
		if !refused[r.Key] {
			refused[r.Key] = true
			return http.StatusServiceUnavailable
		}
		return http.StatusNoContent
	})
	c := e.register(caseOpts{})
	e.fire(c.ID, domain.EventCommand{Event: domain.RequestDocuments})
	e.startWorker(workerOpts{})
	waitFor(t, 20*time.Second, "every notice delivered", func() bool { return e.undelivered() == 0 })

	got := e.sink.received()
	var ds []delivery
	attempts := map[string][]string{} // idempotency key -> webhook-ids of its attempts
	for i, r := range got {
		if !r.SigOK {
			t.Errorf("notice %s: the receiver's own check of webhook-signature failed", r.Key)
		}
		attempts[r.Key] = append(attempts[r.Key], r.Header.Get("Webhook-Id"))
		ds = append(ds, asDelivery("real"+string(rune('A'+i)), secrets[r.Path], r))
	}
	if want := len(e.outbox()); len(attempts) != want || want < 2 {
		t.Fatalf("%d notices reached the receiver, want all %d of the outbox (at least the guardianship body and the clinic)", len(attempts), want)
	}
	for k, ids := range attempts {
		if len(ids) != 2 || ids[0] != k || ids[1] != k {
			t.Errorf("notice %s: webhook-id per attempt %v, want the idempotency key twice", k, ids)
		}
	}
	// What a forger or a careless proxy would send must fail.
	first := got[0]
	bad := func(name string, change func(d *delivery)) {
		d := asDelivery(name, secrets[first.Path], first)
		change(&d)
		ds = append(ds, d)
	}
	bad("tampered body", func(d *delivery) {
		body := append([]byte(nil), first.Raw...)
		body[len(body)-2] ^= 1
		d.BodyBase64 = base64.StdEncoding.EncodeToString(body)
	})
	bad("other id", func(d *delivery) { d.Headers["Webhook-Id"] = "cpn_someone_else" })
	bad("other secret", func(d *delivery) { d.Secret, d.Raw = "a-secret-of-another-agency", true })
	bad("stale timestamp", func(d *delivery) { d.Headers["Webhook-Timestamp"] = "1500000000" })

	checkAgainstContract(t, got)
	verdicts := verify(ds)
	for _, d := range ds {
		v, ok := verdicts[d.Name]
		wantOK := d.Name[:4] == "real"
		switch {
		case !ok:
			t.Errorf("%s: the verifier said nothing", d.Name)
		case v.OK != wantOK:
			t.Errorf("%s: the standardwebhooks library says ok=%v (%s), want %v", d.Name, v.OK, v.Error, wantOK)
		}
	}
}

// TestLegacySignatureHeaders: WEBHOOK_LEGACY_SIGNATURE keeps the old headers beside the
// standard ones for one release; off, only the standard ones go.
func TestLegacySignatureHeaders(t *testing.T) {
	var got http.Header
	var body []byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.Header.Clone()
		body = make([]byte, r.ContentLength)
		_, _ = r.Body.Read(body)
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	for _, legacy := range []bool{true, false} {
		w := NewWebhook(5 * time.Second)
		w.AllowPrivate = true // the receiver listens on 127.0.0.1
		w.Legacy = legacy
		o := Outgoing{NoticeID: "n1", IdempotencyKey: "cpn_1", To: srv.URL, Secret: "a-plain-secret-16", Body: []byte(`{"notice_id":"n1"}`)}
		if err := w.Send(context.Background(), o); err != nil {
			t.Fatal(err)
		}
		if !VerifyStandard(o.Secret, got.Get("Webhook-Id"), got.Get("Webhook-Timestamp"), body, got.Get("Webhook-Signature")) || got.Get("Webhook-Id") != "cpn_1" {
			t.Errorf("legacy=%v: the standard signature does not verify: %v", legacy, got)
		}
		legacyOK := VerifySignature(o.Secret, got.Get("X-Carepath-Timestamp"), body, got.Get("X-Carepath-Signature"))
		if legacyOK != legacy || (got.Get("X-Carepath-Signature") != "") != legacy {
			t.Errorf("legacy=%v: X-Carepath-Signature %q (verifies: %v)", legacy, got.Get("X-Carepath-Signature"), legacyOK)
		}
	}
}

func TestSigningKey(t *testing.T) {
	for _, c := range []struct{ secret, want string }{
		{"whsec_" + base64.StdEncoding.EncodeToString([]byte("the key bytes")), "the key bytes"},
		{"whsec_not base64!", "whsec_not base64!"}, // not the standard's form: used as written
		{"whsec_", "whsec_"},
		{"2b7e151628aed2a6abf71589", "2b7e151628aed2a6abf71589"},
	} {
		if got := string(SigningKey(c.secret)); got != c.want {
			t.Errorf("SigningKey(%q) = %q, want %q", c.secret, got, c.want)
		}
	}
}

// checkAgainstContract holds real deliveries to openapi.yaml's x-webhooks notice: the body
// matches the WebhookNotice schema and every signature header sent is documented.
func checkAgainstContract(t *testing.T, got []received) {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromData(carepath.OpenAPI)
	if err != nil {
		t.Fatal(err)
	}
	schema := doc.Components.Schemas["WebhookNotice"]
	if schema == nil {
		t.Fatal("openapi.yaml has no WebhookNotice schema")
	}
	b, _ := json.Marshal(doc.Extensions["x-webhooks"])
	var hooks map[string]struct {
		Post struct {
			Parameters []struct{ Name, In string }
		}
	}
	if err := json.Unmarshal(b, &hooks); err != nil || len(hooks["notice"].Post.Parameters) == 0 {
		t.Fatalf("openapi.yaml x-webhooks notice: %v", err)
	}
	documented := map[string]bool{}
	for _, p := range hooks["notice"].Post.Parameters {
		documented[http.CanonicalHeaderKey(p.Name)] = p.In == "header"
	}
	for _, r := range got {
		var body any
		if err := json.Unmarshal(r.Raw, &body); err != nil {
			t.Fatal(err)
		}
		if err := schema.Value.VisitJSON(body); err != nil {
			t.Errorf("notice %s: the body does not match WebhookNotice: %v", r.Key, err)
		}
		for h := range r.Header {
			signing := strings.HasPrefix(h, "Webhook-") || strings.HasPrefix(h, "X-Carepath-") || h == "Idempotency-Key"
			if signing && !documented[h] {
				t.Errorf("header %s is sent but not documented in x-webhooks", h)
			}
		}
	}
}
