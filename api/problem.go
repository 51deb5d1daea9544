package api

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"carepath/domain"
)

// Problem is an RFC 9457 problem details body.
type Problem struct {
	Type     string `json:"type"`
	Title    string `json:"title"`
	Status   int    `json:"status"`
	Detail   string `json:"detail,omitempty"`
	Instance string `json:"instance,omitempty"`
	// Code is the domain error code.
	Code string `json:"code"`
	// Field names the input at fault.
	Field string `json:"field,omitempty"`
	// Reasons says why, each with a stable code, the field at fault and a Russian sentence
	// (domain's catalogue); every problem has at least one.
	Reasons   []domain.Reason `json:"reasons"`
	RequestID string          `json:"request_id,omitempty"`
}

// statusOf is the one table from domain error codes to HTTP statuses.
var statusOf = map[string]int{
	domain.EINVALID:       http.StatusBadRequest,
	domain.EUNAUTHORIZED:  http.StatusUnauthorized,
	domain.EFORBIDDEN:     http.StatusForbidden,
	domain.ENOTFOUND:      http.StatusNotFound,
	domain.ECONFLICT:      http.StatusConflict,
	domain.ESTALE:         http.StatusPreconditionFailed,
	domain.EUNPROCESSABLE: http.StatusUnprocessableEntity,
	domain.ERATELIMIT:     http.StatusTooManyRequests,
	domain.EUNAVAILABLE:   http.StatusServiceUnavailable,
	domain.EINTERNAL:      http.StatusInternalServerError,
	domain.ETOOLARGE:      http.StatusRequestEntityTooLarge,
	domain.EPRECONDITION:  http.StatusPreconditionRequired,
}

// StatusOf returns the HTTP status for a domain error code.
func StatusOf(code string) int {
	if s, ok := statusOf[code]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// ProblemContentType is the media type of every error body.
const ProblemContentType = "application/problem+json"

// statusClientClosed is what the log and the metrics record for a request whose client went
// away before its answer (nginx's 499): nobody receives it, and nothing failed on our side.
const statusClientClosed = 499

// writeError answers with the problem for err and aborts the request. Internal errors are
// logged with the request id and answered without their details. An error that is only the
// client having gone away (its request's context canceled) is not an internal error: it is
// recorded as statusClientClosed, without a body and without an error in the log.
func writeError(c *gin.Context, err error) {
	if errors.Is(err, context.Canceled) && c.Request.Context().Err() != nil {
		c.AbortWithStatus(statusClientClosed)
		return
	}
	var de *domain.Error
	if !errors.As(err, &de) && dependencyDown(err) {
		slog.WarnContext(c.Request.Context(), "database unavailable", "err", err, "request_id", c.GetString(ctxRequestID))
		de = domain.Errorf(domain.EUNAVAILABLE, "the database is unavailable for a moment; send the request again")
	}
	if de == nil {
		slog.ErrorContext(c.Request.Context(), "internal error", "err", err, "request_id", c.GetString(ctxRequestID),
			"method", c.Request.Method, "route", c.FullPath())
		de = domain.Errorf(domain.EINTERNAL, "something went wrong on our side; the request id identifies it in our logs")
	}
	writeProblem(c, StatusOf(de.Code), de)
}

// writeProblem answers with a problem of the given status; writeError is the usual way in.
func writeProblem(c *gin.Context, status int, de *domain.Error) {
	if de.Code == domain.ERATELIMIT && de.RetryAfterSeconds > 0 {
		c.Header("Retry-After", strconv.Itoa(de.RetryAfterSeconds))
	}
	p := Problem{
		Type: "https://carepath.example/problems/" + de.Code, Title: http.StatusText(status), Status: status,
		Detail: de.Error(), Instance: instanceOf(c.Request.URL.Path), Code: de.Code, Field: de.Field, Reasons: domain.ReasonsOf(de),
		RequestID: c.GetString(ctxRequestID),
	}
	c.Header("Content-Type", ProblemContentType)
	c.AbortWithStatusJSON(status, p)
}
