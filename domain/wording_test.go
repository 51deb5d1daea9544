package domain

import (
	"math"
	"regexp"
	"testing"
	"time"
)

// TestRelativeWordings: every state a relative can see has a title in each gender and a next
// step; the words that depend on the applicant's sex agree with it; nothing is in English and
// nothing is the bare register of the console («Умер»).
func TestRelativeWordings(t *testing.T) {
	latin := regexp.MustCompile(`[A-Za-z]`)
	want := map[State][2]string{ // masculine, feminine
		OnLeave:      {"Временно выбыл из учреждения", "Временно выбыла из учреждения"},
		Hospitalized: {"Госпитализирован", "Госпитализирована"},
		Discharged:   {"Выбыл из учреждения", "Выбыла из учреждения"},
		Deceased:     {"Скончался", "Скончалась"},
		WaitingList:  {"Очередь на путёвку", "Очередь на путёвку"},
	}
	for _, st := range States {
		for i, sex := range []string{"male", "female"} {
			got := RelativeStateLabel(st.Name, GenderOf(sex))
			if got == "" || latin.MatchString(got) {
				t.Errorf("%s, %s: %q", st.Name, sex, got)
			}
			if w, ok := want[st.Name]; ok && got != w[i] {
				t.Errorf("%s, %s: %q, want %q", st.Name, sex, got, w[i])
			}
			if got == "Умер" || got == "Умерла" {
				t.Errorf("%s, %s: a bare %q", st.Name, sex, got)
			}
		}
		ns, ok := nextSteps[st.Name]
		if !ok || ns.text == "" || latin.MatchString(ns.text) {
			t.Errorf("%s: next step %q", st.Name, ns.text)
		}
	}
	// The lookup reads the applicant's sex exactly in the states whose wording needs it.
	sexStates := map[string]bool{}
	for _, s := range statusPlan.SexStates {
		sexStates[s] = true
	}
	for _, st := range States {
		needs := RelativeStateLabel(st.Name, Masculine) != RelativeStateLabel(st.Name, Feminine)
		if needs != sexStates[string(st.Name)] {
			t.Errorf("%s: wording depends on sex %v, read %v", st.Name, needs, sexStates[string(st.Name)])
		}
	}
	if GenderOf("") != Masculine || GenderOf("female") != Feminine {
		t.Error("GenderOf")
	}
}

// TestLockoutArithmetic: the per-case ceiling keeps guessing hopeless (the arithmetic of
// status.go's "The lockout"), and the client's back-off doubles.
func TestLockoutArithmetic(t *testing.T) {
	s := DefaultAccessSettings()
	perYear := float64(s.StatusMaxPerNumber) * float64(365*24*time.Hour/s.StatusWindow)
	codes := math.Pow(float64(len(accessAlphabet)), AccessCodeLength)
	if p := perYear / codes; p > 1e-10 {
		t.Errorf("a year of guessing at the ceiling finds a code with chance %g", p)
	}
	if s.StatusMaxPerNumber < 20*s.StatusMaxPerClient {
		t.Errorf("the ceiling %d is within reach of a few clients", s.StatusMaxPerNumber)
	}
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		failures int
		after    time.Duration
		want     int
	}{
		{4, 0, 0},
		{5, 0, 900},
		{5, 15 * time.Minute, 0},
		{6, 15 * time.Minute, 900},
		{7, 30 * time.Minute, 1800},
		{8, time.Hour, 3600},
		{8, 2 * time.Hour, 0},
	} {
		got := lockedFor(StatusCounter{Failures: tc.failures, WindowStart: start}, s.StatusMaxPerClient, s.StatusWindow, start.Add(tc.after))
		if got != tc.want {
			t.Errorf("%d failures, %s on: locked %d s, want %d", tc.failures, tc.after, got, tc.want)
		}
	}
}

// TestWhereToGetEveryDocument: every document type says where to get it, in Russian.
func TestWhereToGetEveryDocument(t *testing.T) {
	latin := regexp.MustCompile(`[A-Za-z]`)
	for _, d := range DocTypes {
		if w := WhereToGet(d.Type); w == "" || latin.MatchString(w) {
			t.Errorf("%s: %q", d.Type, w)
		}
	}
}
