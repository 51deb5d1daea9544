package domain

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
)

// TestTransitionEveryPair walks every (state, event) pair: the pairs the table allows land in
// the table's destination, every other pair is refused with ECONFLICT.
func TestTransitionEveryPair(t *testing.T) {
	allowed := 0
	for _, s := range States {
		for _, e := range Events {
			to, err := transition(context.Background(), s.Name, e.Name, nil)
			if slices.Contains(e.Sources, s.Name) {
				allowed++
				if err != nil {
					t.Errorf("%s --%s-->: unexpected error %v", s.Name, e.Name, err)
				} else if want := e.Dest; to != want && (!e.Stays || to != s.Name) {
					t.Errorf("%s --%s--> %s, want %s", s.Name, e.Name, to, want)
				}
				continue
			}
			if ErrorCode(err) != ECONFLICT {
				t.Errorf("%s --%s-->: got %v, want a conflict", s.Name, e.Name, err)
			}
			if to != s.Name {
				t.Errorf("%s --%s-->: a refused event moved the state to %s", s.Name, e.Name, to)
			}
		}
	}
	// domain.md lists 30; review_ippsu (6 states) and sign_contract (1) record without moving
	if allowed != 37 {
		t.Errorf("the table allows %d (state, event) pairs; want 37", allowed)
	}
}

func TestUnknownEventIsInvalid(t *testing.T) {
	_, err := transition(context.Background(), Intake, "teleport", nil)
	if ErrorCode(err) != EINVALID {
		t.Fatalf("unknown event: got %v, want EINVALID", err)
	}
}

func TestGuardRefusalCancelsWithItsError(t *testing.T) {
	refusal := refuse(documentReason(DocPassport, DocMissing, nil))
	to, err := transition(context.Background(), CollectingDocuments, SubmitForReview, func(context.Context, EventName) error { return refusal })
	if to != CollectingDocuments {
		t.Fatalf("refused event moved the state to %s", to)
	}
	var de *Error
	if !errors.As(err, &de) || de.Code != EUNPROCESSABLE || len(de.Reasons) != 1 {
		t.Fatalf("got %#v, want the guard's EUNPROCESSABLE with its reason", err)
	}
	// A guard that lets the event through.
	to, err = transition(context.Background(), CollectingDocuments, SubmitForReview, func(context.Context, EventName) error { return nil })
	if err != nil || to != UnderReview {
		t.Fatalf("guard passed: got %s, %v", to, err)
	}
}

func TestTerminalStatesAllowNothing(t *testing.T) {
	for _, s := range States {
		if got := AllowedEvents(s.Name); s.Terminal != (len(got) == 0) {
			t.Errorf("%s terminal=%v but allows %v", s.Name, s.Terminal, got)
		}
	}
}

func TestAllowedEventsSorted(t *testing.T) {
	got := AllowedEvents(Residing)
	want := []string{"discharge", "hospitalize", "record_death", "request_transfer", "review_ippsu", "start_leave"}
	if !slices.Equal(got, want) {
		t.Fatalf("AllowedEvents(residing) = %v, want %v", got, want)
	}
}

func TestEveryStateReachableAndLabelled(t *testing.T) {
	reached := map[State]bool{Intake: true}
	for changed := true; changed; {
		changed = false
		for _, e := range Events {
			for _, s := range e.Sources {
				for _, d := range []State{e.Dest, e.AltDest} {
					if d != "" && reached[s] && !reached[d] {
						reached[d], changed = true, true
					}
				}
			}
		}
	}
	for _, s := range States {
		if !reached[s.Name] {
			t.Errorf("state %s cannot be reached from intake", s.Name)
		}
		if s.Label == "" {
			t.Errorf("state %s has no label", s.Name)
		}
	}
}

func TestMermaidHasEveryTransition(t *testing.T) {
	m := Mermaid()
	if !strings.HasPrefix(m, "stateDiagram-v2\n") {
		t.Fatalf("not a stateDiagram-v2: %q", m[:30])
	}
	for _, e := range Events {
		for _, s := range e.Sources {
			to := e.Dest
			if e.Stays {
				to = s
			}
			line := string(s) + " --> " + string(to) + ": " + string(e.Name)
			if !strings.Contains(m, line) {
				t.Errorf("diagram lacks %q", line)
			}
		}
	}
}

// TestGuardedRowsHaveTheirGuard: every row of the table that names a guard carries the code of
// it beside it.
func TestGuardedRowsHaveTheirGuard(t *testing.T) {
	for _, e := range Events {
		if e.Guard != "" && e.apply == nil {
			t.Errorf("event %s names the guard %q but has none", e.Name, e.Guard)
		}
	}
}
