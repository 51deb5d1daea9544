package store

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"time"

	"golang.org/x/sync/errgroup"

	"carepath/domain"
)

// Stats computes the center's figures (implements domain.StatsStore) from the records carepath
// writes as things happen: the history, the deadlines, the bed holds, the offers, the contacts,
// the leads, the notices and the daily count of status lookups, and from the daily histograms
// the database derives from the history and the cases as it writes them (statsdays.go; a test
// proves them equal to the computation from the history). Each figure is one named query; the
// queries run side by side on the pool.
type Stats struct{ db *DB }

// NewStats returns the figures' store.
func NewStats(db *DB) *Stats { return &Stats{db: db} }

// statsParallel is how many of the figures' queries run at once.
const statsParallel = 4

// statsArgs are the named parameters every figure's query may use.
func statsArgs(q domain.StatsQuery, now time.Time, staleAfter time.Duration) map[string]any {
	start := func(d domain.Date) time.Time {
		t := d.Time()
		return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, domain.Moscow)
	}
	return map[string]any{
		// the period as instants: from the first day's midnight to the midnight after the last
		"from": start(q.From), "to": start(q.To.AddDays(1)),
		"dayfrom": q.From.String(), "dayto": q.To.String(),
		"ft": string(q.FacilityType), "district": q.District,
		"now": now, "stalebefore": now.Add(-staleAfter),
		"legal":     legalKinds(),
		"missedmax": domain.StatsMissedMax,
	}
}

// legalKinds are the legal deadlines' kinds as the query's list.
func legalKinds() []string {
	out := make([]string, len(domain.LegalDeadlines))
	for i, k := range domain.LegalDeadlines {
		out[i] = string(k)
	}
	return out
}

// moscowMonth is a timestamp's month in Moscow ("2025-03"), in SQL.
func moscowMonth(col string) string {
	return "to_char((" + col + ") AT TIME ZONE 'Europe/Moscow', 'YYYY-MM')"
}

// caseCut narrows cases (alias c) to the query's type of home.
const caseCut = `(@ft = '' OR c.facility_type::text = @ft)`

// homeCut narrows homes (alias f) to the query's type and district.
const homeCut = `(@ft = '' OR f.type = @ft) AND (@district = '' OR f.district = @district)`

var (
	statesSQL = `SELECT c.state::text AS state, count(*) AS count FROM cases c WHERE ` + caseCut + ` GROUP BY 1`

	// A deadline due in the period is met when it was done before it fell due, missed when it
	// was done after or is still not done at now, open when it is not due yet.
	deadlineOutcome = `CASE WHEN d.state = 'met' THEN 'met'
			WHEN d.state = 'missed' OR d.due_at <= @now THEN 'missed' ELSE 'open' END`

	// The legal deadlines due in the period (alias d), cancelled ones left out, read by the
	// index deadlines_kind_due (migration 00071): a range of due days per kind; the case's type
	// of home, when the figures are cut by it, from stats_case_types' index (00076).
	legalDue = `d.kind IN @legal AND d.state <> 'cancelled' AND d.due_on BETWEEN CAST(@dayfrom AS date) AND CAST(@dayto AS date)
			AND (@ft = '' OR EXISTS (SELECT 1 FROM stats_case_types t WHERE t.case_id = d.case_id AND t.facility_type::text = @ft))`

	deadlinesSQL = `SELECT d.kind::text AS kind, ` + deadlineOutcome + ` AS outcome, count(*) AS count
		FROM deadlines d WHERE ` + legalDue + ` GROUP BY 1, 2`

	// The first @missedmax missed deadlines by due day, case number and kind all fall due no
	// later than the @missedmax-th by due day alone: only those are joined to their cases.
	missedSQL = `WITH m AS MATERIALIZED (SELECT d.case_id, d.kind, d.due_on, d.closed_at FROM deadlines d
			WHERE ` + legalDue + ` AND ` + deadlineOutcome + ` = 'missed'),
		last AS (SELECT due_on FROM m ORDER BY due_on OFFSET CAST(@missedmax AS integer) - 1 LIMIT 1)
		SELECT c.id::text AS case_id, c.number AS case_number, m.kind::text AS kind, m.due_on, m.closed_at
		FROM m JOIN cases c ON c.id = m.case_id
		WHERE m.due_on <= coalesce((SELECT due_on FROM last), 'infinity'::date)
		ORDER BY m.due_on, c.number, m.kind LIMIT @missedmax`

	followUpsSQL = `SELECT ` + deadlineOutcome + ` AS outcome, count(*) AS count
		FROM deadlines d
		WHERE d.kind = 'contact_follow_up' AND d.state <> 'cancelled' AND d.due_on BETWEEN CAST(@dayfrom AS date) AND CAST(@dayto AS date)
		GROUP BY 1`

	// read from the index cases_waiting_types (migration 00072), not the cases' rows
	waitingSQL = `SELECT c.facility_type::text AS facility_type, coalesce(p.priority, 'general') AS priority, count(*) AS count
		FROM cases c LEFT JOIN placements p ON p.case_id = c.id
		WHERE c.state = 'waiting_list' AND ` + caseCut + ` GROUP BY 1, 2 ORDER BY 1, 2`

	offersSQL = `SELECT o.state, coalesce(o.reason, '') AS reason, count(*) AS count
		FROM offers o JOIN facilities f ON f.id = o.facility_id
		WHERE o.proposed_at >= @from AND o.proposed_at < @to AND ` + homeCut + ` GROUP BY 1, 2`

	occupancySQL = `SELECT f.id::text AS facility_id, f.name AS facility, f.type AS facility_type, f.district, s.code AS section,
			s.title, s.capacity, coalesce(b.occupied, 0) AS occupied, coalesce(b.reserved, 0) AS reserved, f.reported_at,
			(f.reported_at IS NULL OR f.reported_at < @stalebefore) AS stale
		FROM facility_sections s JOIN facilities f ON f.id = s.facility_id
		LEFT JOIN (SELECT facility_id, section_code, count(*) FILTER (WHERE kind = 'occupied') AS occupied,
				count(*) FILTER (WHERE kind = 'reserved') AS reserved
			FROM bed_holds GROUP BY 1, 2) b ON b.facility_id = s.facility_id AND b.section_code = s.code
		WHERE f.active AND ` + homeCut + `
		ORDER BY f.name, s.code`

	contactsSQL = `SELECT ` + moscowMonth("created_at") + ` AS month, topic, count(*) AS count FROM contacts
		WHERE created_at >= @from AND created_at < @to GROUP BY 1, 2 ORDER BY 1, 2`

	leadsSQL = `SELECT source, state, count(*) AS count FROM leads
		WHERE created_at >= @from AND created_at < @to GROUP BY 1, 2 ORDER BY 1, 2`

	lookupsSQL = `SELECT to_char(day, 'YYYY-MM') AS month, outcome, sum(count)::bigint AS count FROM status_lookup_days
		WHERE day BETWEEN CAST(@dayfrom AS date) AND CAST(@dayto AS date) GROUP BY 1, 2 ORDER BY 1, 2`

	noticesSQL = `SELECT channel::text AS channel, audience::text AS audience,
			count(*) FILTER (WHERE status = 'delivered') AS delivered, count(*) FILTER (WHERE status = 'failed') AS failed,
			count(*) FILTER (WHERE status = 'dead') AS dead, count(*) FILTER (WHERE status IN ('pending', 'sending')) AS pending
		FROM notices WHERE created_at >= @from AND created_at < @to GROUP BY 1, 2 ORDER BY 1, 2`

	noticeDelaySQL = `SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM delivered_at - created_at)) AS median
		FROM notices WHERE created_at >= @from AND created_at < @to AND status = 'delivered'`
)

// Stats computes the figures of a period.
func (s *Stats) Stats(ctx context.Context, q domain.StatsQuery, now time.Time, staleAfter time.Duration) (*domain.Stats, error) {
	args := statsArgs(q, now, staleAfter)
	st := &domain.Stats{From: q.From, To: q.To, FacilityType: q.FacilityType, District: q.District, ComputedAt: now.UTC(),
		Applications: []domain.ApplicationCount{}, CasesByState: []domain.StateCount{}, Stages: []domain.StageDays{},
		Deadlines: []domain.DeadlineShare{}, Missed: []domain.MissedDeadline{}, Occupancy: []domain.SectionBeds{},
		Contacts: []domain.ContactCount{}, Leads: []domain.LeadCount{}, Lookups: []domain.LookupCount{}, Notices: []domain.NoticeCount{},
		Waiting: domain.WaitingFigures{Lengths: []domain.WaitingLength{}, Declines: []domain.DeclineCount{}}}

	var (
		states    []domain.StateCount
		stays     []stayRow
		deadlines []outcomeRow
		followUps []outcomeRow
		offers    []offerCountRow
		occupancy []occupancyRow
		missed    []missedRow
		delay     struct{ Median *float64 }
	)
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(statsParallel)
	query := func(name, sql string, dest any) {
		g.Go(func() error {
			start := time.Now()
			if err := s.db.Gorm.WithContext(ctx).Raw(sql, args).Scan(dest).Error; err != nil {
				return fmt.Errorf("figure %s: %w", name, err)
			}
			slog.Debug("figure computed", "figure", name, "seconds", time.Since(start).Seconds())
			return nil
		})
	}
	// the slowest first, so that the others fill the time they take
	query("stays", staysSQL, &stays)
	query("applications", applicationsSQL, &st.Applications)
	query("cases by state", statesSQL, &states)
	query("deadlines", deadlinesSQL, &deadlines)
	query("missed deadlines", missedSQL, &missed)
	query("follow-ups", followUpsSQL, &followUps)
	query("waiting list", waitingSQL, &st.Waiting.Lengths)
	query("offers", offersSQL, &offers)
	query("occupancy", occupancySQL, &occupancy)
	query("contacts", contactsSQL, &st.Contacts)
	query("leads", leadsSQL, &st.Leads)
	query("status lookups", lookupsSQL, &st.Lookups)
	query("notices", noticesSQL, &st.Notices)
	query("notice delay", noticeDelaySQL, &delay)
	if err := g.Wait(); err != nil {
		return nil, err
	}

	// states in the lifecycle's order, every state named
	byState := map[domain.State]int{}
	for _, r := range states {
		byState[r.State] = r.Count
	}
	for _, d := range domain.States {
		st.CasesByState = append(st.CasesByState, domain.StateCount{State: d.Name, Count: byState[d.Name]})
	}
	stageFigures(st, stays)
	st.Deadlines = deadlineShares(domain.LegalDeadlines, deadlines)
	for _, f := range followUps {
		switch f.Outcome {
		case "met":
			st.FollowUps.Met += f.Count
		case "missed":
			st.FollowUps.Missed += f.Count
		default:
			st.FollowUps.Open += f.Count
		}
		st.FollowUps.Due += f.Count
	}
	for _, m := range missed {
		st.Missed = append(st.Missed, domain.MissedDeadline{CaseID: m.CaseID, CaseNumber: m.CaseNumber, Kind: domain.DeadlineKind(m.Kind),
			DueOn: domain.NewDate(m.DueOn.Year(), m.DueOn.Month(), m.DueOn.Day()), ClosedAt: utcPtr(m.ClosedAt)})
	}
	declines := map[string]int{}
	for _, o := range offers {
		oc := &st.Waiting.Offers
		oc.Made += o.Count
		switch domain.OfferState(o.State) {
		case "accepted":
			oc.Accepted += o.Count
		case "declined":
			oc.Declined += o.Count
			declines[o.Reason] += o.Count
		case "expired":
			oc.Expired += o.Count
		case "withdrawn":
			oc.Withdrawn += o.Count
		default:
			oc.Open += o.Count
		}
	}
	for _, r := range slices.Sorted(maps.Keys(declines)) {
		st.Waiting.Declines = append(st.Waiting.Declines, domain.DeclineCount{Reason: r, Count: declines[r]})
	}
	for _, o := range occupancy {
		st.Occupancy = append(st.Occupancy, domain.SectionBeds{FacilityID: o.FacilityID, Facility: o.Facility,
			FacilityType: domain.FacilityType(o.FacilityType), District: o.District, Section: o.Section, Title: o.Title,
			Capacity: o.Capacity, Occupied: o.Occupied, Reserved: o.Reserved, Free: max(o.Capacity-o.Occupied-o.Reserved, 0),
			ReportedAt: utcPtr(o.ReportedAt), Stale: o.Stale})
	}
	st.NoticeMedianSeconds = delay.Median
	return st, nil
}

// deadlineShares gives every kind asked for its line, in that order.
func deadlineShares(kinds []domain.DeadlineKind, rows []outcomeRow) []domain.DeadlineShare {
	out := make([]domain.DeadlineShare, 0, len(kinds))
	for _, k := range kinds {
		d := domain.DeadlineShare{Kind: k}
		for _, r := range rows {
			if r.Kind != string(k) {
				continue
			}
			switch r.Outcome {
			case "met":
				d.Met += r.Count
			case "missed":
				d.Missed += r.Count
			default:
				d.Open += r.Count
			}
			d.Due += r.Count
		}
		if decided := d.Met + d.Missed; decided > 0 {
			share := float64(d.Met) / float64(decided)
			d.ShareMet = &share
		}
		out = append(out, d)
	}
	return out
}

type outcomeRow struct {
	Kind    string
	Outcome string
	Count   int
}

type offerCountRow struct {
	State  string
	Reason string
	Count  int
}

type missedRow struct {
	CaseID     string
	CaseNumber string
	Kind       string
	DueOn      time.Time
	ClosedAt   *time.Time
}

type occupancyRow struct {
	FacilityID   string
	Facility     string
	FacilityType string
	District     string
	Section      string
	Title        string
	Capacity     int
	Occupied     int
	Reserved     int
	ReportedAt   *time.Time
	Stale        bool
}
