package jobs

import (
	"context"
	"errors"
)

// Outgoing is a rendered notice, ready for its channel.
type Outgoing struct {
	NoticeID       string
	IdempotencyKey string
	// To is a phone number, an e-mail address or a webhook URL, by channel.
	To string
	// Secret signs a webhook.
	Secret  string
	Subject string
	Text    string
	// Body is a webhook's JSON body.
	Body []byte
}

// Channel carries notices of one kind (sms, email, webhook) to their recipients. Send returns
// nil only when the receiver accepted the message; an error wrapped by Permanent will not get
// better by retrying.
type Channel interface {
	Send(ctx context.Context, o Outgoing) error
}

type permanentError struct{ err error }

func (p permanentError) Error() string { return p.err.Error() }
func (p permanentError) Unwrap() error { return p.err }

// Permanent marks a failure that retrying cannot cure (no address, no webhook configured): the
// notice goes dead at once and shows on the specialist's case.
func Permanent(err error) error { return permanentError{err} }

// notConfigured is a channel the operator has not set up (no SMTP_ADDR, no SMS_GATEWAY_URL):
// no attempt can succeed until they do, so it is permanent, and the deliverer says so once per
// channel instead of once per notice (a demo or a fresh install has hundreds of notices).
type notConfigured struct{ permanentError }

// NotConfigured marks err as a channel that is not configured; it is also Permanent.
func NotConfigured(err error) error { return notConfigured{permanentError{err}} }

// IsNotConfigured reports whether err was marked NotConfigured.
func IsNotConfigured(err error) bool {
	var n notConfigured
	return errors.As(err, &n)
}

// IsPermanent reports whether err was marked Permanent (NotConfigured included: its
// permanentError is embedded, which errors.As does not look into).
func IsPermanent(err error) bool {
	var p permanentError
	return errors.As(err, &p) || IsNotConfigured(err)
}
