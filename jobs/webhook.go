package jobs

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"syscall"
	"time"

	"carepath/domain"
)

// Webhook posts notices to partner agencies as signed JSON. Every request carries
// X-Carepath-Timestamp (Unix seconds), X-Carepath-Signature ("sha256=" and the hex HMAC-SHA256,
// keyed with the agency's secret, of the timestamp, a dot and the body) and Idempotency-Key (the
// same for every attempt of one notice). Any 2xx answer is a delivery; anything else is retried.
type Webhook struct {
	Client *http.Client
	Now    func() time.Time
	// AllowPrivate lets the client dial loopback, private and link-local addresses
	// (WEBHOOK_ALLOW_PRIVATE: development and tests); otherwise they are refused after DNS
	// resolution, whatever name the URL gave.
	AllowPrivate bool
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

// Sign computes the X-Carepath-Signature value for a timestamp and body.
func Sign(secret, timestamp string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(timestamp))
	m.Write([]byte("."))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// VerifySignature checks a webhook's signature in constant time (what a receiver does).
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
	req.Header.Set("X-Carepath-Timestamp", ts)
	req.Header.Set("X-Carepath-Signature", Sign(o.Secret, ts, o.Body))
	req.Header.Set("Idempotency-Key", o.IdempotencyKey)
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
