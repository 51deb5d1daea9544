package jobs

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"
)

// SMSGateway sends SMS through an HTTP gateway: POST {"to", "text", "client_ref"} as JSON with
// "Authorization: Bearer <token>" and the notice's Idempotency-Key; any 2xx is a delivery.
// Quiet hours are not its business: the delivery handler holds SMS back until morning.
type SMSGateway struct {
	URL    string
	Token  string
	Client *http.Client
}

// NewSMSGateway returns the SMS channel.
func NewSMSGateway(url, token string, timeout time.Duration) *SMSGateway {
	return &SMSGateway{URL: url, Token: token, Client: &http.Client{Timeout: timeout}}
}

// SMSRequest is the gateway's request body.
type SMSRequest struct {
	To        string `json:"to"`
	Text      string `json:"text"`
	ClientRef string `json:"client_ref"`
}

// Send implements Channel.
func (g *SMSGateway) Send(ctx context.Context, o Outgoing) error {
	if g.URL == "" {
		return NotConfigured(fmt.Errorf("SMS_GATEWAY_URL is not configured"))
	}
	body, _ := json.Marshal(SMSRequest{To: o.To, Text: o.Text, ClientRef: o.IdempotencyKey})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, g.URL, bytes.NewReader(body))
	if err != nil {
		return Permanent(fmt.Errorf("SMS gateway URL: %w", err))
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	req.Header.Set("Idempotency-Key", o.IdempotencyKey)
	if g.Token != "" {
		req.Header.Set("Authorization", "Bearer "+g.Token)
	}
	resp, err := g.Client.Do(req)
	if err != nil {
		return fmt.Errorf("SMS gateway: %w", err)
	}
	defer resp.Body.Close()
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 300))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("SMS gateway answered %s: %s", resp.Status, bytes.TrimSpace(snippet))
	}
	return nil
}
