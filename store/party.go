package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"

	"carepath/domain"
)

// partyWhere keeps the cases an agency is party to. It mirrors domain.PartyTo, which stays the
// judge: the service checks every row it returns.
func partyWhere(q *gorm.DB, a domain.Actor) *gorm.DB {
	switch a.Agency() {
	case domain.AgencyHealth:
		return q.Where("health_org_id = ?", a.ID)
	case domain.AgencyGuardianship:
		return q.Where("guardianship_id = ?", a.ID)
	case domain.AgencyMFC, domain.AgencyPostOffice:
		return q.Where("filed_by_agency_id = ?", a.ID)
	case domain.AgencyFacility:
		if len(a.Facilities) == 0 {
			return q.Where("false")
		}
		return q.Where("(facility_id IN ? OR voucher_facility_id IN ?)", a.Facilities, a.Facilities)
	}
	return q.Where("false")
}

type deadlineItemRow struct {
	ID            int64
	CaseID        string
	Kind          string
	Ref           string
	OpenedAt      time.Time
	DueOn         time.Time
	DueAt         time.Time
	State         string
	Number        string
	CaseState     string
	ApplicantName string
	AssigneeID    *string
}

// OpenDeadlines implements domain.DeadlineBoard: open deadlines by the partial index on due_at,
// soonest first.
func (s *Cases) OpenDeadlines(ctx context.Context, f domain.DeadlineFilter) ([]domain.DeadlineItem, error) {
	q := s.db.Gorm.WithContext(ctx).Table("deadlines d").Joins("JOIN cases c ON c.id = d.case_id").
		Select("d.id, d.case_id, d.kind, d.ref, d.opened_at, d.due_on, d.due_at, d.state, c.number, c.state AS case_state, c.applicant_name, c.assignee_id").
		Where("d.state = 'open'")
	if f.AtRisk {
		q = q.Where("d.due_at <= ?", f.Now.Add(domain.AtRiskWithin))
	}
	if f.Assignee != "" {
		q = q.Where("c.assignee_id = ?", f.Assignee)
	}
	var rows []deadlineItemRow
	if err := q.Order("d.due_at, d.id").Limit(f.Limit).Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("open deadlines: %w", err)
	}
	out := make([]domain.DeadlineItem, len(rows))
	for i, r := range rows {
		out[i] = domain.DeadlineItem{Deadline: domain.Deadline{ID: r.ID, Kind: domain.DeadlineKind(r.Kind), Ref: r.Ref, OpenedAt: r.OpenedAt,
			DueOn: domain.NewDate(r.DueOn.Year(), r.DueOn.Month(), r.DueOn.Day()), DueAt: r.DueAt, State: domain.DeadlineState(r.State)},
			CaseID: r.CaseID, CaseNumber: r.Number, CaseState: domain.State(r.CaseState), ApplicantName: r.ApplicantName, AssigneeID: deref(r.AssigneeID)}
	}
	return out, nil
}

// Workload implements domain.DeadlineBoard: per enabled specialist and supervisor, and for the
// cases nobody holds (id ""), the open cases and their overdue and at-risk open deadlines, in
// one pass over the open cases.
func (s *Cases) Workload(ctx context.Context, open []domain.State, now time.Time) ([]domain.Load, error) {
	states := make([]string, len(open)) // state names: plain identifiers, nothing to quote
	for i, st := range open {
		states[i] = string(st)
	}
	var rows []struct {
		ID        string
		Name      string
		Role      string
		OpenCases int
		Overdue   int
		AtRisk    int
	}
	err := s.db.Gorm.WithContext(ctx).Raw(`WITH work AS (
		SELECT c.assignee_id, count(DISTINCT c.id)::int AS open_cases,
		  (count(d.id) FILTER (WHERE d.due_at < @now))::int AS overdue,
		  (count(d.id) FILTER (WHERE d.due_at >= @now AND d.due_at <= @soon))::int AS at_risk
		FROM cases c LEFT JOIN deadlines d ON d.case_id = c.id AND d.state = 'open'
		WHERE c.state::text = ANY (CAST(@states AS text[])) GROUP BY c.assignee_id)
	SELECT u.id::text AS id, u.name, u.role, coalesce(w.open_cases, 0) AS open_cases, coalesce(w.overdue, 0) AS overdue, coalesce(w.at_risk, 0) AS at_risk
	FROM users u LEFT JOIN work w ON w.assignee_id = u.id
	WHERE u.role IN ('specialist', 'supervisor') AND u.disabled_at IS NULL
	UNION ALL
	SELECT '', '', '', coalesce(sum(w.open_cases), 0)::int, coalesce(sum(w.overdue), 0)::int, coalesce(sum(w.at_risk), 0)::int FROM work w WHERE w.assignee_id IS NULL
	ORDER BY 2, 1`, map[string]any{"now": now, "soon": now.Add(domain.AtRiskWithin), "states": "{" + strings.Join(states, ",") + "}"}).Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("workload: %w", err)
	}
	out := make([]domain.Load, len(rows))
	for i, r := range rows {
		out[i] = domain.Load{ID: r.ID, Name: r.Name, Role: r.Role, OpenCases: r.OpenCases, Overdue: r.Overdue, AtRisk: r.AtRisk}
	}
	return out, nil
}
