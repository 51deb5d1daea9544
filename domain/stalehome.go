package domain

import (
	"strconv"
	"time"
)

// Stale beds reports (issue 17): a home that has not reported its beds for
// Settings.BedReportDays, or never has, is stale (Facility.Stale). The occupancy board marks
// it, and the reminder scan tells its agency through the outbox once per staleness episode. An
// episode is the report the home stands on (its last one, or none yet): the store records the
// episode it reminded with the notice, so later ticks and concurrent scanners pass the home by,
// and a new report that goes stale in its turn starts a new episode.

// StaleHome is a stale home the scan has not reminded of its episode yet.
type StaleHome struct {
	ID       string
	Name     string
	AgencyID string
	// ReportedAt is the last beds report; nil when the home never reported.
	ReportedAt *time.Time
}

// StaleBefore is the instant before which a beds report is stale at now.
func StaleBefore(now time.Time, maxDays int) time.Time {
	return now.Add(-time.Duration(maxDays) * 24 * time.Hour)
}

// staleHomeRoute is the one template the reminder uses (a test checks it exists).
var staleHomeRoute = NoticeRoute{HappeningBedsReportStale, AudienceFacility, NoticeWebhook}

// PlanStaleHomeReminder is the reminder to a stale home's agency: a webhook about the home
// (subject_kind facility), keyed by the home and its episode, so planning it again for the same
// episode gives the same notice.
func PlanStaleHomeReminder(maxDays int, h StaleHome, now time.Time) []Notice {
	if h.AgencyID == "" {
		return nil
	}
	episode := "never"
	data := map[string]any{"happening": string(HappeningBedsReportStale), "subject_kind": SubjectFacility, "subject_id": h.ID,
		"facility_id": h.ID, "facility_name": h.Name, "max_days": strconv.Itoa(maxDays), "date": DateOf(now).String()}
	if h.ReportedAt != nil {
		episode = h.ReportedAt.UTC().Format(time.RFC3339Nano)
		data["reported_on"] = DateOf(*h.ReportedAt).String()
	}
	key := noticeKey(SubjectFacility+":"+h.ID, "stale."+episode, staleHomeRoute.Template(), h.AgencyID)
	return []Notice{{ID: noticeID(key), SubjectKind: SubjectFacility, SubjectID: h.ID, Happening: staleHomeRoute.Happening,
		Audience: staleHomeRoute.Audience, Channel: staleHomeRoute.Channel, Recipient: h.AgencyID, Template: staleHomeRoute.Template(),
		Data: data, IdempotencyKey: key, NotBefore: now, Status: NoticePending, CreatedAt: now}}
}
