package store

import (
	"context"
	"fmt"
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
