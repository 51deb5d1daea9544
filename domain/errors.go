// Package domain is the language of the coordination center: cases and their lifecycle, the
// document checklist, deadlines on the production calendar, notices, and the ports that storage
// and delivery implement. It knows nothing of HTTP, SQL or queues.
package domain

import (
	"errors"
	"fmt"
)

// Error codes. The API layer maps each to one HTTP status in one table; nothing else in the
// program decides statuses.
const (
	EINVALID       = "invalid"       // malformed or unacceptable input
	ENOTFOUND      = "not_found"     // no such thing, or not visible to the caller
	ECONFLICT      = "conflict"      // the thing's current state does not allow the request
	ESTALE         = "stale"         // the caller's version is not the current one
	EUNPROCESSABLE = "unprocessable" // a lifecycle guard refused the event
	EUNAUTHORIZED  = "unauthorized"  // no or bad credentials
	EFORBIDDEN     = "forbidden"     // authenticated but not allowed
	ERATELIMIT     = "rate_limited"  // too many attempts
	EUNAVAILABLE   = "unavailable"   // a dependency is down
	EINTERNAL      = "internal"      // a bug or an unexpected failure
	// ETOOLARGE and EPRECONDITION are the HTTP edge's own refusals: a body over its route's
	// limit, and a change sent without the version it was made against (If-Match).
	ETOOLARGE     = "too_large"
	EPRECONDITION = "precondition_required"
)

// Error is the one error type the domain returns for things a caller can act on.
type Error struct {
	Code    string
	Message string
	// Field names the input field at fault, when there is one.
	Field string
	// Reasons says why, one reason each (a guard may give several): a code, the field, a
	// Russian sentence. The constructors below fill it from the catalogue (catalogue.go).
	Reasons []Reason
	// RetryAfterSeconds is set on ERATELIMIT.
	RetryAfterSeconds int
}

func (e *Error) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("%s: %s", e.Field, e.Message)
	}
	return e.Message
}

// Errorf returns an *Error with the given code. The format is the English sentence of the
// catalogue that gives the reason's code and Russian text.
func Errorf(code, format string, args ...any) *Error {
	return ErrorOn(code, "", format, args...)
}

// Invalid returns an EINVALID error naming the field at fault.
func Invalid(field, format string, args ...any) *Error {
	return ErrorOn(EINVALID, field, format, args...)
}

// ErrorOn returns an *Error with the given code naming the field at fault.
func ErrorOn(code, field, format string, args ...any) *Error {
	r := because(field, format, args...)
	return &Error{Code: code, Field: field, Message: r.english, Reasons: []Reason{r}}
}

// ErrorCode returns the code of the first *Error in err's chain, EINTERNAL otherwise.
func ErrorCode(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	if err == nil {
		return ""
	}
	return EINTERNAL
}

// AsError returns the first *Error in err's chain.
func AsError(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}
