package api

import (
	"math"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"carepath/domain"
)

// addressLimiter allows each client address (an IPv6 /64 counts as one, domain.AddressKey) a
// number of requests per window, counted in this process: it guards a public route that reads
// nothing personal (the documents consultation), where a limit per instance is enough. The
// relatives' lookup, which guards access codes, counts in PostgreSQL instead.
type addressLimiter struct {
	limit  int
	window time.Duration
	mu     sync.Mutex
	seen   map[string]*addressWindow
}

type addressWindow struct {
	start time.Time
	n     int
}

func newAddressLimiter(limit int, window time.Duration) *addressLimiter {
	return &addressLimiter{limit: limit, window: window, seen: map[string]*addressWindow{}}
}

// limiterOr is newAddressLimiter with a configured limit, or fallback when it is not set.
func limiterOr(limit, fallback int, window time.Duration) *addressLimiter {
	if limit <= 0 {
		limit = fallback
	}
	return newAddressLimiter(limit, window)
}

// allow counts a request from addr at now; it returns false with the seconds to wait when the
// address has used its window.
func (l *addressLimiter) allow(addr string, now time.Time) (bool, int) {
	key := domain.AddressKey(addr)
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.seen) > 100_000 { // forget finished windows rather than grow without bound
		for k, w := range l.seen {
			if now.Sub(w.start) >= l.window {
				delete(l.seen, k)
			}
		}
	}
	w, ok := l.seen[key]
	if !ok || now.Sub(w.start) >= l.window {
		l.seen[key] = &addressWindow{start: now, n: 1}
		return true, 0
	}
	if w.n >= l.limit {
		return false, int(math.Ceil(w.start.Add(l.window).Sub(now).Seconds()))
	}
	w.n++
	return true, 0
}

// limited refuses a request over the limit with 429 and Retry-After.
func (l *addressLimiter) limited(c *gin.Context) bool {
	ok, wait := l.allow(c.ClientIP(), time.Now())
	if ok {
		return false
	}
	writeError(c, &domain.Error{Code: domain.ERATELIMIT, Message: "too many requests from this address: try again later",
		RetryAfterSeconds: max(wait, 1)})
	return true
}
