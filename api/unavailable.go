package api

import (
	"database/sql"
	"database/sql/driver"
	"errors"
	"io"
	"net"
	"strings"
	"syscall"
)

// dependencyDown reports whether err says the database could not be reached or dropped the
// connection (it is restarting, failing over, or refusing connections) rather than that
// anything is wrong with the request or the code. Such a request is answered 503 and may be
// sent again; the chaos test (`make chaos-quick`) holds carepath to it. It looks only at the
// standard library's error types and the duck-typed methods the driver's errors carry (the
// SQLSTATE; "failed before anything was sent"), so api stays ignorant of the driver.
func dependencyDown(err error) bool {
	var ne net.Error
	if errors.As(err, &ne) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, driver.ErrBadConn) ||
		errors.Is(err, sql.ErrConnDone) || errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) {
		return true
	}
	var unsent interface{ SafeToRetry() bool }
	if errors.As(err, &unsent) && unsent.SafeToRetry() {
		return true
	}
	var st interface{ SQLState() string }
	if errors.As(err, &st) {
		// 08: connection exception; 57P01-03: the server is shutting down, crashed or starting;
		// 53300: too many connections
		code := st.SQLState()
		return strings.HasPrefix(code, "08") || code == "57P01" || code == "57P02" || code == "57P03" || code == "53300"
	}
	return false
}
