package api

import (
	"database/sql/driver"
	"errors"
	"fmt"
	"net"
	"syscall"
	"testing"
)

type sqlStateError string

func (e sqlStateError) Error() string    { return "SQLSTATE " + string(e) }
func (e sqlStateError) SQLState() string { return string(e) }

type unsentError struct{ safe bool }

func (e unsentError) Error() string     { return "conn closed" }
func (e unsentError) SafeToRetry() bool { return e.safe }

func TestDependencyDown(t *testing.T) {
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
	for _, c := range []struct {
		err  error
		down bool
	}{
		{fmt.Errorf("load case: %w", refused), true},
		{fmt.Errorf("load case: %w", sqlStateError("57P01")), true}, // admin shutdown
		{sqlStateError("57P03"), true},                              // starting up
		{sqlStateError("08006"), true},
		{fmt.Errorf("x: %w", driver.ErrBadConn), true},
		{unsentError{true}, true},
		{unsentError{false}, false},
		{sqlStateError("23505"), false}, // a unique violation is a bug or a conflict, not an outage
		{sqlStateError("40001"), false},
		{errors.New("template: no such field"), false},
	} {
		if got := dependencyDown(c.err); got != c.down {
			t.Errorf("dependencyDown(%v) = %v, want %v", c.err, got, c.down)
		}
	}
}
