package jobs

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"syscall"
	"time"

	"carepath/domain"
)

// Webhook posts notices to partner agencies as JSON signed per the Standard Webhooks
// specification (www.standardwebhooks.com), so a partner verifies them with an off-the-shelf
// library. Every request carries:
//   - webhook-id: the notice's idempotency key, the same for every attempt of one notice;
//   - webhook-timestamp: Unix seconds of this attempt;
//   - webhook-signature: "v1," and the base64 HMAC-SHA256 of id, ".", timestamp, "." and body,
//     keyed with the agency's secret (see SigningKey);
//   - Idempotency-Key: the same key as webhook-id, for receivers written before the standard.
//
// While Legacy is set it also sends the old X-Carepath-Timestamp and X-Carepath-Signature
// (see Sign); they go in the next release. Any 2xx answer is a delivery; anything else is retried.
type Webhook struct {
	Client *http.Client
	Now    func() time.Time
	// AllowPrivate lets the client dial loopback, private and link-local addresses
	// (WEBHOOK_ALLOW_PRIVATE: development and tests); otherwise they are refused after DNS
	// resolution, whatever name the URL gave.
	AllowPrivate bool
	// Legacy also sends the old X-Carepath-* signature headers (WEBHOOK_LEGACY_SIGNATURE).
	Legacy bool
}

// NewWebhook returns a webhook channel with a timeout per request. Its client dials only
// public addresses unless AllowPrivate is set, and goes through no proxy: the address checked
// is the one connected to.
func NewWebhook(timeout time.Duration) *Webhook {
	w := &Webhook{}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 64
	tr.Proxy = nil
	dialer := &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second, Control: func(_, address string, _ syscall.RawConn) error {
		return w.checkDial(address)
	}}
	tr.DialContext = dialer.DialContext
	w.Client = &http.Client{Timeout: timeout, Transport: tr}
	return w
}

// errInternalAddress marks a dial refused by checkDial; retrying cannot help.
var errInternalAddress = errors.New("is a loopback, private or link-local address (WEBHOOK_ALLOW_PRIVATE=true allows it)")

// checkDial refuses an internal address as the connection is made, after DNS resolution.
func (w *Webhook) checkDial(address string) error {
	if w.AllowPrivate {
		return nil
	}
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("webhook address %s: %w", address, err)
	}
	if domain.InternalAddress(ap.Addr()) {
		return fmt.Errorf("webhook address %s %w", ap.Addr(), errInternalAddress)
	}
	return nil
}

// secretPrefix marks a secret in the Standard Webhooks form: "whsec_" and base64 key bytes.
const secretPrefix = domain.WebhookSecretPrefix

// SigningKey is the HMAC key of an agency's secret. A secret in the standard's form
// ("whsec_" and base64) stands for the bytes it encodes, as every Standard Webhooks library
// reads it; any other secret is used as it is (a library's "raw" format).
func SigningKey(secret string) []byte {
	if rest, ok := strings.CutPrefix(secret, secretPrefix); ok {
		if key, err := base64.StdEncoding.DecodeString(rest); err == nil && len(key) > 0 {
			return key
		}
	}
	return []byte(secret)
}

// SignStandard computes the webhook-signature value of one message.
func SignStandard(secret, id, timestamp string, body []byte) string {
	m := hmac.New(sha256.New, SigningKey(secret))
	m.Write([]byte(id + "." + timestamp + "."))
	m.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// VerifyStandard checks a webhook-signature header (space-separated "v1,…" signatures, any of
// which may match) in constant time, as a receiver does; it does not judge the timestamp's age.
func VerifyStandard(secret, id, timestamp string, body []byte, header string) bool {
	want := []byte(SignStandard(secret, id, timestamp, body))
	ok := false
	for _, sig := range strings.Fields(header) {
		ok = hmac.Equal(want, []byte(sig)) || ok
	}
	return ok
}

// Sign computes the legacy X-Carepath-Signature value for a timestamp and body: "sha256=" and
// the hex HMAC-SHA256, keyed with the secret as written, of the timestamp, a dot and the body.
func Sign(secret, timestamp string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(timestamp))
	m.Write([]byte("."))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// VerifySignature checks a legacy signature in constant time (what a receiver does).
func VerifySignature(secret, timestamp string, body []byte, signature string) bool {
	return hmac.Equal([]byte(Sign(secret, timestamp, body)), []byte(signature))
}

// Send implements Channel.
func (w *Webhook) Send(ctx context.Context, o Outgoing) error {
	if o.To == "" {
		return Permanent(fmt.Errorf("the agency has no webhook URL"))
	}
	now := time.Now
	if w.Now != nil {
		now = w.Now
	}
	ts := strconv.FormatInt(now().Unix(), 10)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, o.To, bytes.NewReader(o.Body))
	if err != nil {
		return Permanent(fmt.Errorf("webhook URL %q: %w", o.To, err))
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	req.Header.Set("User-Agent", "carepath-notices")
	req.Header.Set("Webhook-Id", o.IdempotencyKey)
	req.Header.Set("Webhook-Timestamp", ts)
	req.Header.Set("Webhook-Signature", SignStandard(o.Secret, o.IdempotencyKey, ts, o.Body))
	req.Header.Set("Idempotency-Key", o.IdempotencyKey)
	if w.Legacy {
		req.Header.Set("X-Carepath-Timestamp", ts)
		req.Header.Set("X-Carepath-Signature", Sign(o.Secret, ts, o.Body))
	}
	resp, err := w.Client.Do(req)
	if errors.Is(err, errInternalAddress) {
		return Permanent(fmt.Errorf("webhook: %w", err))
	}
	if err != nil {
		return fmt.Errorf("webhook: %w", err)
	}
	defer resp.Body.Close()
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 300))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("webhook answered %s: %s", resp.Status, bytes.TrimSpace(snippet))
	}
	return nil
}
