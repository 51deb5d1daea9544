package store

import (
	"fmt"
	"strconv"
	"time"

	"carepath/domain"
)

// A case's timeline (cases.timeline: migrations 00065 and 00066) is the stages a relative sees:
// each state the case entered, once, on the Moscow day it last entered it, in the order of those
// entries. It is stored compactly, six characters a stage: the state's letter (timelineCodes,
// case_state_code in SQL) and the day as five digits counted from timelineEpoch. The triggers
// keep it on every write; the bulk loader (CaseBatch) writes it with TimelineOf.

// timelineCodes are the states' letters; TestTimelineCodesAreTheDatabases holds them to the
// database's case_state_code and to the lifecycle's states.
var timelineCodes = map[domain.State]byte{
	domain.Intake: 'a', domain.CollectingDocuments: 'b', domain.UnderReview: 'c', domain.Rejected: 'd',
	domain.WaitingList: 'e', domain.VoucherIssued: 'f', domain.Residing: 'g', domain.OnLeave: 'h',
	domain.Hospitalized: 'i', domain.TransferPending: 'j', domain.Discharged: 'k', domain.Deceased: 'l',
	domain.Withdrawn: 'm',
}


var timelineStates = func() (out [256]domain.State) {
	for st, c := range timelineCodes {
		out[c] = st
	}
	return out
}()

// timelineEpoch is day 0 of the timeline's day numbers.
var timelineEpoch = domain.NewDate(2000, time.January, 1)

const timelineStep = 6

// TimelineOf is a case's timeline computed from its history, for rows written without the
// triggers' help (the bulk loader).
func TimelineOf(history []domain.HistoryEntry) string {
	var b []byte
	for _, h := range history {
		if h.To == h.From {
			continue
		}
		code := timelineCodes[h.To]
		for i := 0; i < len(b); i += timelineStep {
			if b[i] == code {
				b = append(b[:i], b[i+timelineStep:]...)
				break
			}
		}
		b = append(b, code)
		b = fmt.Appendf(b, "%05d", timelineEpoch.DaysUntil(domain.DateOf(h.At)))
	}
	return string(b)
}

// ParseTimeline reads a timeline into the stages it lists, oldest first.
func ParseTimeline(s string) ([]domain.StatusStep, error) {
	if len(s)%timelineStep != 0 {
		return nil, fmt.Errorf("timeline %q: not whole stages", s)
	}
	out := make([]domain.StatusStep, 0, len(s)/timelineStep)
	for i := 0; i < len(s); i += timelineStep {
		st := timelineStates[s[i]]
		days, err := strconv.Atoi(s[i+1 : i+timelineStep])
		if st == "" || err != nil {
			return nil, fmt.Errorf("timeline %q: stage %q", s, s[i:i+timelineStep])
		}
		out = append(out, domain.StatusStep{State: st, On: timelineEpoch.AddDays(days)})
	}
	return out, nil
}
