package store

import (
	"strings"
	"time"

	"carepath/domain"
)

// timelineOf is a case's timeline (cases.timeline, migration 00065) computed from its history,
// for rows written without the triggers' help (the bulk generator): each state entered, once,
// on the Moscow day it was last entered, in the order of those last entries. The triggers keep
// it for every other write; TestTimelineFollowsTheHistory holds the two to the history.
func timelineOf(history []domain.HistoryEntry) string {
	var entries []string
	for _, h := range history {
		if h.To == h.From {
			continue
		}
		st := string(h.To)
		for i, e := range entries {
			if strings.HasPrefix(e, st+" ") {
				entries = append(entries[:i], entries[i+1:]...)
				break
			}
		}
		entries = append(entries, st+" "+h.At.In(domain.Moscow).Format(time.DateOnly))
	}
	return strings.Join(entries, ",")
}
