package domain_test

import (
	"os"
	"testing"
	"time"

	"carepath/domain"
	"carepath/migrations"
)

func shippedCalendar(t *testing.T) *domain.Calendar {
	t.Helper()
	rows, err := migrations.ShippedCalendar()
	if err != nil {
		t.Fatal(err)
	}
	days := make([]domain.CalendarDay, len(rows))
	for i, r := range rows {
		days[i] = domain.CalendarDay{Date: domain.MustDate(r.Date), Kind: domain.DayKind(r.Kind), Note: r.Note}
	}
	return domain.NewCalendar(days)
}

func TestShippedCalendarWorkingDays(t *testing.T) {
	cal := shippedCalendar(t)
	// Published production calendars: 247 working days in 2025 and in 2026.
	for year, want := range map[int]int{2025: 247, 2026: 247} {
		if got := cal.WorkingDaysIn(year); got != want {
			t.Errorf("%d has %d working days, want %d", year, got, want)
		}
	}
	for _, y := range []int{2025, 2026, 2027} {
		if !cal.Covers(y) {
			t.Errorf("calendar does not cover %d", y)
		}
	}
}

func TestAddWorkingDaysAcrossHolidays(t *testing.T) {
	cal := shippedCalendar(t)
	cases := []struct {
		from string
		n    int
		want string
	}{
		// Entering review on Wed 2026-12-30: Dec 31 is a transferred day off, Jan 1–8 are the
		// New Year holidays and Jan 9–10 a weekend, so the 5 working days are Jan 11–15.
		{"2026-12-30", 5, "2027-01-15"},
		{"2026-12-30", 1, "2027-01-11"},
		// IPPSU: 10 working days from the same day.
		{"2026-12-30", 10, "2027-01-22"},
		// Before May Day 2025: May 1–4 and 8–11 are off.
		{"2025-04-30", 3, "2025-05-07"},
		// The working Saturday of 2025-11-01 counts, Mon Nov 3 and Tue Nov 4 do not.
		{"2025-10-31", 1, "2025-11-01"},
		{"2025-10-31", 2, "2025-11-05"},
		// An ordinary week.
		{"2026-11-20", 5, "2026-11-27"},
	}
	for _, c := range cases {
		if got := cal.AddWorkingDays(domain.MustDate(c.from), c.n); got.String() != c.want {
			t.Errorf("%s + %d wd = %s, want %s", c.from, c.n, got, c.want)
		}
	}
}

func TestDueAtIsEndOfDayInMoscow(t *testing.T) {
	due := domain.MustDate("2027-01-15").EndInMoscow()
	if got := due.UTC().Format(time.RFC3339); got != "2027-01-15T21:00:00Z" {
		t.Fatalf("due at %s, want the end of 2027-01-15 in Moscow (21:00 UTC)", got)
	}
}

func TestCalendarFileIsWellFormed(t *testing.T) {
	f, err := os.Open("../migrations/calendar/ru.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := migrations.ReadCalendar(f)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		d := domain.MustDate(r.Date)
		weekend := d.Weekday() == time.Saturday || d.Weekday() == time.Sunday
		if (r.Kind == "holiday") == weekend {
			t.Errorf("%s is a %s but marked %s", r.Date, d.Weekday(), r.Kind)
		}
	}
}
