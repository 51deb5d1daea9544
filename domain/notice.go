package domain

import "time"

// Happening names something that happened to a case that someone must hear of.
type Happening string

// Notice is one message to one recipient, written to the outbox in the transaction of the
// command that caused it and delivered later by the worker.
type Notice struct {
	ID        string    `json:"id"`
	CaseID    string    `json:"case_id"`
	Happening Happening `json:"happening"`
	// Audience: relative, representative, guardianship, health, facility, specialist, supervisor.
	Audience string `json:"audience"`
	// Channel: sms, email or webhook.
	Channel string `json:"channel"`
	// Recipient is a phone number, an e-mail address, an agency id or a user id, by channel.
	Recipient string `json:"recipient"`
	// Template names the text template (happening.audience.channel).
	Template string         `json:"template"`
	Data     map[string]any `json:"data,omitempty"`
	// IdempotencyKey is the same for every attempt to deliver this notice.
	IdempotencyKey string    `json:"idempotency_key"`
	NotBefore      time.Time `json:"not_before"`
}
