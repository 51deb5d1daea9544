package api

import (
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"carepath/domain"
)

// query reads a request's typed query parameters. A parameter that is absent leaves its
// destination as it was; the first one that does not parse is kept, and ok answers with its
// problem once all are read:
//
//	q := queryOf(c)
//	q.Int("limit", &f.Limit)
//	f.From = q.Time("from", false)
//	if !q.ok() {
//		return
//	}
//
// The readers of one parameter chain: if !queryOf(c).Int("limit", &limit).ok() { return }.
type query struct {
	c   *gin.Context
	err error
}

func queryOf(c *gin.Context) *query { return &query{c: c} }

// ok reports whether every parameter read so far parsed; when one did not, it writes the
// problem of the first.
func (q *query) ok() bool {
	if q.err != nil {
		writeError(q.c, q.err)
		return false
	}
	return true
}

// read hands the parameter, when given, to parse; the first error of a request is kept.
func (q *query) read(name string, parse func(v string) error) *query {
	if v := q.c.Query(name); v != "" {
		if err := parse(v); err != nil && q.err == nil {
			q.err = err
		}
	}
	return q
}

// set reads the parameter with parse into dst; a value parse refuses is answered with
// refusal's error.
func set[T any](q *query, name string, dst *T, parse func(string) (T, error), refusal func() error) *query {
	return q.read(name, func(v string) error {
		x, err := parse(v)
		if err != nil {
			return refusal()
		}
		*dst = x
		return nil
	})
}

// Int reads an optional whole number into dst.
func (q *query) Int(name string, dst *int) *query {
	return set(q, name, dst, strconv.Atoi, func() error { return domain.Invalid(name, "must be a whole number") })
}

// Bool reads an optional boolean into dst.
func (q *query) Bool(name string, dst *bool) *query {
	return set(q, name, dst, strconv.ParseBool, func() error { return domain.Invalid(name, "must be true or false") })
}

// Open reads a parameter that may only be "open" (the follow-ups still to do) into dst.
func (q *query) Open(name string, dst *bool) *query {
	return q.read(name, func(v string) error {
		if v != "open" {
			return domain.Invalid(name, "must be open")
		}
		*dst = true
		return nil
	})
}

// Time reads a date-time, or a date taken as the start of that day in Moscow (the end of it
// when endOfDay); nil when absent.
func (q *query) Time(name string, endOfDay bool) *time.Time {
	var at *time.Time
	q.read(name, func(v string) error {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			d, derr := domain.ParseDate(v)
			if derr != nil {
				return domain.Invalid(name, "must be a date (2025-01-31) or a date-time (2025-01-31T10:00:00+03:00)")
			}
			if endOfDay {
				d = d.AddDays(1)
			}
			t = time.Date(d.Year(), d.Time().Month(), d.Time().Day(), 0, 0, 0, 0, domain.Moscow)
		}
		at = &t
		return nil
	})
	return at
}
