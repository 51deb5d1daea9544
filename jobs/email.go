package jobs

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/base64"
	"fmt"
	"mime"
	"net"
	"net/mail"
	"strings"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Mailer sends notices as plain-text e-mail over SMTP. TLS is "starttls" (the default: the
// connection must be upgraded before credentials are sent), "tls" (implicit TLS, port 465) or
// "none" (a local relay). The Message-ID is derived from the idempotency key, so a repeated
// attempt is recognisable as the same message.
type Mailer struct {
	Addr     string
	Username string
	Password string
	From     string
	TLS      string
	Timeout  time.Duration
	// TLSConfig overrides the TLS settings (tests with their own certificate authority).
	TLSConfig *tls.Config
}

// Send implements Channel.
func (m *Mailer) Send(ctx context.Context, o Outgoing) error {
	if m.Addr == "" {
		return NotConfigured(fmt.Errorf("SMTP_ADDR is not configured"))
	}
	if o.To == "" {
		return Permanent(fmt.Errorf("the recipient has no e-mail address"))
	}
	if _, err := mail.ParseAddress(o.To); err != nil {
		return Permanent(fmt.Errorf("e-mail address %q: %w", o.To, err))
	}
	timeout := m.Timeout
	if timeout == 0 {
		timeout = 20 * time.Second
	}
	host, _, err := net.SplitHostPort(m.Addr)
	if err != nil {
		return Permanent(fmt.Errorf("SMTP_ADDR %q: %w", m.Addr, err))
	}
	tlsConfig := m.TLSConfig
	if tlsConfig == nil {
		tlsConfig = &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}
	}
	d := net.Dialer{Timeout: timeout}
	conn, err := d.DialContext(ctx, "tcp", m.Addr)
	if err != nil {
		return fmt.Errorf("smtp: %w", err)
	}
	_ = conn.SetDeadline(time.Now().Add(timeout))
	var c *smtp.Client
	switch m.TLS {
	case "tls":
		c = smtp.NewClient(tls.Client(conn, tlsConfig))
	case "none":
		c = smtp.NewClient(conn)
	default:
		c, err = smtp.NewClientStartTLS(conn, tlsConfig)
		if err != nil {
			conn.Close()
			return fmt.Errorf("smtp starttls: %w", err)
		}
	}
	defer c.Close()
	if m.Username != "" {
		if err := c.Auth(sasl.NewPlainClient("", m.Username, m.Password)); err != nil {
			return fmt.Errorf("smtp auth: %w", err)
		}
	}
	if err := c.SendMail(m.From, []string{o.To}, bytes.NewReader(m.message(o, time.Now()))); err != nil {
		return fmt.Errorf("smtp: %w", err)
	}
	_ = c.Quit()
	return nil
}

// message writes an RFC 5322 message with a UTF-8 subject and a base64 body.
func (m *Mailer) message(o Outgoing, now time.Time) []byte {
	var b strings.Builder
	header := func(k, v string) { b.WriteString(k + ": " + v + "\r\n") }
	header("From", (&mail.Address{Name: "Координационный центр", Address: m.From}).String())
	header("To", o.To)
	header("Subject", mime.BEncoding.Encode("utf-8", o.Subject))
	header("Date", now.Format(time.RFC1123Z))
	header("Message-ID", "<"+o.IdempotencyKey+"@carepath>")
	header("X-Carepath-Notice", o.NoticeID)
	header("MIME-Version", "1.0")
	header("Content-Type", "text/plain; charset=utf-8")
	header("Content-Transfer-Encoding", "base64")
	b.WriteString("\r\n")
	enc := base64.StdEncoding.EncodeToString([]byte(strings.ReplaceAll(o.Text, "\n", "\r\n")))
	for len(enc) > 76 {
		b.WriteString(enc[:76] + "\r\n")
		enc = enc[76:]
	}
	b.WriteString(enc + "\r\n")
	return []byte(b.String())
}
