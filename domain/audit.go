package domain

import (
	"context"
	"fmt"
	"time"
)

// AccessEntry is one line of the access log: someone read or changed a case's personal data.
type AccessEntry struct {
	ID        int64     `json:"id"`
	CaseID    string    `json:"case_id"`
	Seq       int       `json:"seq"`
	ActorID   string    `json:"actor_id"`
	ActorName string    `json:"actor_name"`
	ActorKind string    `json:"actor_kind"`
	Role      string    `json:"role"`
	Method    string    `json:"method"`
	Route     string    `json:"route"`
	RequestID string    `json:"request_id"`
	At        time.Time `json:"at"`
}

// AuditFilter selects access log lines; every field is optional.
type AuditFilter struct {
	CaseID  string
	ActorID string
	From    *time.Time
	To      *time.Time
	Limit   int
	Cursor  string
}

// AuditPage is one page of the access log, newest first.
type AuditPage struct {
	Items      []AccessEntry `json:"items"`
	NextCursor string        `json:"next_cursor"`
}

// AccessLog is the append-only record of who saw which case, its lines chained by hash (the
// lines of reads in chains of their writers, a change's line with the change: Change.Access).
type AccessLog interface {
	// Record appends one line per case for one request, in one transaction: either every case
	// is logged or none is.
	Record(ctx context.Context, caseIDs []string, e AccessEntry) error
	// Query returns a page of lines, newest first; EINVALID for a bad cursor.
	Query(ctx context.Context, f AuditFilter) (AuditPage, error)
}

// RecordAccess logs that an actor read or changed these cases through a route. Only people and
// agencies are logged: the system's own work is in the history.
func (s *Access) RecordAccess(ctx context.Context, a Actor, caseIDs []string, method, route, requestID string) error {
	if len(caseIDs) == 0 || a.Kind == ActorSystem {
		return nil
	}
	e := AccessEntry{ActorID: a.ID, ActorName: a.Name, ActorKind: a.Kind, Role: a.Role, Method: method, Route: route,
		RequestID: requestID, At: s.now()}
	if err := s.Log.Record(ctx, caseIDs, e); err != nil {
		return fmt.Errorf("record access: %w", err)
	}
	return nil
}

// Via is a request as the access log records it.
type Via struct {
	Method    string
	Route     string
	RequestID string
}

// AccessLine is the access-log line of a change the actor makes at an instant, written with the
// change itself (Change.Access): nil for the system's work (its changes are in the history) and
// for an actor that came through no request (its caller logs, or nothing is shown).
func (a Actor) AccessLine(at time.Time) *AccessEntry {
	if a.Via == nil || a.Kind == ActorSystem {
		return nil
	}
	return &AccessEntry{ActorID: a.ID, ActorName: a.Name, ActorKind: a.Kind, Role: a.Role, Method: a.Via.Method,
		Route: a.Via.Route, RequestID: a.Via.RequestID, At: at}
}

// Audit returns a page of the access log.
func (s *Access) Audit(ctx context.Context, f AuditFilter) (AuditPage, error) {
	if f.CaseID != "" && !IsUUID(f.CaseID) {
		return AuditPage{}, Invalid("case", "must be a case id (UUID)")
	}
	if len(f.ActorID) > 200 {
		return AuditPage{}, Invalid("actor", "is too long")
	}
	if f.From != nil && f.To != nil && f.To.Before(*f.From) {
		return AuditPage{}, Invalid("to", "is before from")
	}
	if f.Limit == 0 {
		f.Limit = 100
	}
	if f.Limit < 1 || f.Limit > 1000 {
		return AuditPage{}, Invalid("limit", "must be between 1 and 1000")
	}
	return s.Log.Query(ctx, f)
}
