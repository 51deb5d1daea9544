package domain

import (
	"fmt"
	"strings"
	"time"
)

// Moscow is the center's time zone: working days, due dates and quiet hours are counted there.
var Moscow = mustLoadLocation("Europe/Moscow")

func mustLoadLocation(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		// Moscow has kept UTC+3 without daylight saving since 2014.
		return time.FixedZone("MSK", 3*60*60)
	}
	return loc
}

// Date is a calendar day without a time, written as "2006-01-02".
type Date struct{ t time.Time }

// NewDate returns the date y-m-d.
func NewDate(y int, m time.Month, d int) Date { return Date{time.Date(y, m, d, 0, 0, 0, 0, time.UTC)} }

// DateOf returns the calendar day of t in Moscow.
func DateOf(t time.Time) Date {
	t = t.In(Moscow)
	return NewDate(t.Year(), t.Month(), t.Day())
}

// ParseDate parses "2006-01-02".
func ParseDate(s string) (Date, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return Date{}, fmt.Errorf("%q is not a date (YYYY-MM-DD)", s)
	}
	if t.IsZero() {
		// 0001-01-01 is a date someone typed, not a missing one: kept a nanosecond off the zero
		// time so that IsZero (missing) stays false and the rules judge the date itself.
		t = t.Add(time.Nanosecond)
	}
	return Date{t}, nil
}

// MustDate parses a date or panics; for tests and tables.
func MustDate(s string) Date {
	d, err := ParseDate(s)
	if err != nil {
		panic(err)
	}
	return d
}

func (d Date) IsZero() bool                 { return d.t.IsZero() }
func (d Date) Year() int                    { return d.t.Year() }
func (d Date) Weekday() time.Weekday        { return d.t.Weekday() }
func (d Date) Before(o Date) bool           { return d.t.Before(o.t) }
func (d Date) After(o Date) bool            { return d.t.After(o.t) }
func (d Date) AddDays(n int) Date           { return Date{d.t.AddDate(0, 0, n)} }
func (d Date) AddMonths(n int) Date         { return Date{d.t.AddDate(0, n, 0)} }
func (d Date) AddYears(n int) Date          { return Date{d.t.AddDate(n, 0, 0)} }
func (d Date) String() string               { return d.t.Format(time.DateOnly) }
func (d Date) Russian() string              { return d.t.Format("02.01.2006") }
func (d Date) Time() time.Time              { return d.t }
func (d Date) DaysUntil(o Date) int         { return int(o.t.Sub(d.t).Hours() / 24) }
func (d Date) MarshalJSON() ([]byte, error) { return d.AppendJSON(make([]byte, 0, 12)), nil }

// EndInMoscow is the instant the day ends in Moscow: a deadline due on d is due then.
func (d Date) EndInMoscow() time.Time {
	return time.Date(d.t.Year(), d.t.Month(), d.t.Day(), 0, 0, 0, 0, Moscow).AddDate(0, 0, 1)
}

func (d *Date) UnmarshalJSON(b []byte) error {
	s := strings.Trim(string(b), `"`)
	if s == "null" || s == "" {
		*d = Date{}
		return nil
	}
	p, err := ParseDate(s)
	if err != nil {
		return err
	}
	*d = p
	return nil
}

// DayKind marks a day that the production calendar treats against the weekday rule.
type DayKind string

const (
	// Holiday is a Monday–Friday that is not worked (public holiday or transferred day off).
	Holiday DayKind = "holiday"
	// Workday is a Saturday or Sunday that is worked by a transfer decree.
	Workday DayKind = "workday"
)

// CalendarDay is one exceptional day of the production calendar.
type CalendarDay struct {
	Date Date
	Kind DayKind
	Note string
}

// Calendar is the Russian production calendar for a five-day week: Saturdays and Sundays off,
// except for the exceptional days it holds. It is data loaded from the database, so an operator
// can add next year without a release.
type Calendar struct {
	days  map[Date]DayKind
	years map[int]bool
}

// NewCalendar builds a calendar from its exceptional days.
func NewCalendar(days []CalendarDay) *Calendar {
	c := &Calendar{days: map[Date]DayKind{}, years: map[int]bool{}}
	for _, d := range days {
		c.days[d.Date] = d.Kind
		c.years[d.Date.Year()] = true
	}
	return c
}

// Covers reports whether the calendar holds data for the year; for other years only weekends
// are known, and counts may be off by the holidays.
func (c *Calendar) Covers(year int) bool { return c.years[year] }

// IsWorkingDay reports whether d is worked.
func (c *Calendar) IsWorkingDay(d Date) bool {
	switch c.days[d] {
	case Holiday:
		return false
	case Workday:
		return true
	}
	wd := d.Weekday()
	return wd != time.Saturday && wd != time.Sunday
}

// AddWorkingDays returns the n-th working day after d (d itself is not counted, as a period
// starts the day after the event that opens it).
func (c *Calendar) AddWorkingDays(d Date, n int) Date {
	for n > 0 {
		d = d.AddDays(1)
		if c.IsWorkingDay(d) {
			n--
		}
	}
	return d
}

// NextWorkingDay returns d when it is worked, the next working day otherwise.
func (c *Calendar) NextWorkingDay(d Date) Date {
	for !c.IsWorkingDay(d) {
		d = d.AddDays(1)
	}
	return d
}

// WorkingDaysIn counts the working days of a year.
func (c *Calendar) WorkingDaysIn(year int) int {
	n := 0
	for d := NewDate(year, time.January, 1); d.Year() == year; d = d.AddDays(1) {
		if c.IsWorkingDay(d) {
			n++
		}
	}
	return n
}
