package domain

import (
	"context"
	"fmt"
	"time"
)

// UserDirectory finds specialists (for assignment).
type UserDirectory interface {
	// User returns a user; ENOTFOUND.
	User(ctx context.Context, id string) (*User, error)
}

// Assigner picks who takes a new case.
type Assigner interface {
	// LeastBusySpecialist returns the enabled specialist holding the fewest cases in the given
	// states (the earliest created on a tie), or "" when there is none.
	LeastBusySpecialist(ctx context.Context, open []State) (string, error)
}

// openWork are the states in which a case is a specialist's work: on the way to admission.
var openWork = preAdmission

// DeadlineFilter selects open deadlines for the board.
type DeadlineFilter struct {
	// AtRisk keeps the deadlines due before Now+AtRiskWithin (overdue ones included).
	AtRisk   bool
	Assignee string
	Limit    int
	Now      time.Time
}

// AtRiskWithin is how close a deadline must be to count as at risk: two days leave a working
// day to act even on the shortest (one working day) deadlines.
const AtRiskWithin = 48 * time.Hour

// DeadlineItem is an open deadline with the case it belongs to.
type DeadlineItem struct {
	Deadline
	CaseID        string `json:"case_id"`
	CaseNumber    string `json:"case_number"`
	CaseState     State  `json:"case_state"`
	ApplicantName string `json:"applicant_name"`
	AssigneeID    string `json:"assignee_id,omitempty"`
}

// DeadlineBoard lists open deadlines across cases.
type DeadlineBoard interface {
	// OpenDeadlines returns open deadlines, soonest first.
	OpenDeadlines(ctx context.Context, f DeadlineFilter) ([]DeadlineItem, error)
	// Workload counts, for each enabled specialist and supervisor (by name) and for the cases
	// nobody holds (ID ""), the cases in the open states and their overdue and at-risk deadlines.
	Workload(ctx context.Context, open []State, now time.Time) ([]Load, error)
}

// Load is one person's open work, for the supervisors' board. A Load with an empty ID counts
// the open cases nobody holds.
type Load struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	Role      string `json:"role"`
	OpenCases int    `json:"open_cases"`
	Overdue   int    `json:"overdue"`
	AtRisk    int    `json:"at_risk"`
}

// Workload is each specialist's open work and the open cases nobody holds: the supervisors'
// view for giving out cases (the route admits only those who see everyone's deadlines).
func (s *Service) Workload(ctx context.Context) (people []Load, unassigned Load, err error) {
	all, err := s.Board.Workload(ctx, openWork, s.now())
	if err != nil {
		return nil, Load{}, err
	}
	people = []Load{}
	for _, l := range all {
		if l.ID == "" {
			unassigned = l
		} else {
			people = append(people, l)
		}
	}
	return people, unassigned, nil
}

// visibleTo loads a case for an agency and answers ENOTFOUND, as for a case that does not exist,
// unless the agency is party to it. Specialists see every case (route-level checks decide
// whether they may see cases at all).
func (s *Service) visibleTo(ctx context.Context, actor Actor, id string) (*Case, error) {
	if !IsUUID(id) {
		return nil, notVisible(id)
	}
	c, err := s.Cases.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	if actor.Kind == ActorAgency && !PartyTo(actor, c) {
		return nil, notVisible(id)
	}
	return c, nil
}

// AgencyCase returns a case an agency is party to; ENOTFOUND for any other.
func (s *Service) AgencyCase(ctx context.Context, actor Actor, id string) (*Case, error) {
	if actor.Kind != ActorAgency {
		return nil, notVisible(id)
	}
	return s.visibleTo(ctx, actor, id)
}

// AgencyCases lists the cases an agency is party to, each line cut by AgencyView.
func (s *Service) AgencyCases(ctx context.Context, actor Actor, f CaseFilter) (AgencyCasePage, error) {
	out := AgencyCasePage{Items: []AgencyCaseSummary{}}
	if actor.Kind != ActorAgency {
		return out, nil
	}
	f.Assignee, f.Q, f.Overdue = "", "", false
	f.Party = &actor
	page, err := s.List(ctx, f)
	if err != nil {
		return out, err
	}
	out.NextCursor = page.NextCursor
	now := s.now()
	// The store filters in SQL; the policy stays the judge.
	for _, it := range page.Items {
		if PartyTo(actor, &Case{HealthOrgID: it.HealthOrgID, GuardianshipID: it.GuardianshipID, FiledByAgencyID: it.FiledByAgencyID,
			FacilityID: it.FacilityID, VoucherFacilityID: it.VoucherFacilityID}) {
			out.Items = append(out.Items, AgencySummary(actor, it, now))
		}
	}
	return out, nil
}

// Reassign gives a case to another specialist; the history records who moved it from whom.
func (s *Service) Reassign(ctx context.Context, actor Actor, id string, version int, assigneeID string) (*Case, error) {
	if !IsUUID(id) {
		return nil, notVisible(id)
	}
	if !IsUUID(assigneeID) {
		return nil, Invalid("assignee_id", "must be a user id (UUID)")
	}
	u, err := s.Users.User(ctx, assigneeID)
	if ErrorCode(err) == ENOTFOUND {
		return nil, Errorf(EUNPROCESSABLE, "user %s does not exist", assigneeID)
	} else if err != nil {
		return nil, err
	}
	if u.DisabledAt != nil || (u.Role != RoleSpecialist && u.Role != RoleSupervisor) {
		return nil, Errorf(EUNPROCESSABLE, "%s cannot take cases: only enabled specialists and supervisors can", u.Name)
	}
	return s.Cases.Update(ctx, id, version, func(ctx context.Context, tx CaseTx, c *Case) (*Change, error) {
		if c.AssigneeID == assigneeID {
			return nil, nil
		}
		now := s.now()
		from := c.AssigneeID
		c.AssigneeID = assigneeID
		c.Version++
		c.UpdatedAt = now
		return &Change{History: HistoryEntry{CaseID: c.ID, Version: c.Version, Event: "reassign", From: c.State, To: c.State,
			ActorID: actor.ID, ActorName: actor.Name, ActorRole: actor.Role, At: now,
			Payload: map[string]any{"from": from, "to": assigneeID}},
			Notices: planNotices(s.Settings, noticeFacts{happening: HappeningAssigned, c: c, at: now, source: fmt.Sprintf("v%d", c.Version)}),
			Access:  actor.AccessLine(now)}, nil
	})
}

// RotateAccessCode gives a case a new relatives' access code (the old one stops working at
// once) and returns it; it is shown only here and is not in the history.
func (s *Service) RotateAccessCode(ctx context.Context, actor Actor, id string) (*Case, string, error) {
	if !IsUUID(id) {
		return nil, "", notVisible(id)
	}
	code := NewAccessCode()
	c, err := s.Cases.Update(ctx, id, 0, func(ctx context.Context, tx CaseTx, c *Case) (*Change, error) {
		now := s.now()
		c.AccessCodeHash = HashAccessCode(c.ID, code)
		c.Version++
		c.UpdatedAt = now
		return &Change{History: HistoryEntry{CaseID: c.ID, Version: c.Version, Event: "rotate_access_code", From: c.State, To: c.State,
			ActorID: actor.ID, ActorName: actor.Name, ActorRole: actor.Role, At: now}}, nil
	})
	if err != nil {
		return nil, "", fmt.Errorf("rotate access code: %w", err)
	}
	// A new code ends the case's lockout: whoever guessed before guesses a code that is gone.
	// Should this fail, the new code works all the same once the windows end; rotating again
	// clears it.
	if s.Lockouts != nil {
		if err := s.Lockouts.ClearCase(ctx, c.Number); err != nil {
			return nil, "", fmt.Errorf("rotate access code of case %s: %w", c.Number, err)
		}
	}
	return c, code, nil
}

// Deadlines lists open deadlines, soonest first: a specialist sees those of the cases assigned
// to them, a supervisor everyone's (or one specialist's).
func (s *Service) Deadlines(ctx context.Context, actor Actor, f DeadlineFilter) ([]DeadlineItem, error) {
	if f.Assignee != "" && !IsUUID(f.Assignee) {
		return nil, Invalid("assignee", "must be a user id (UUID)")
	}
	if !actor.May(ActDeadlinesAll) {
		if f.Assignee != "" && f.Assignee != actor.ID {
			return nil, Errorf(EFORBIDDEN, "a specialist sees the deadlines of their own cases; a supervisor sees everyone's")
		}
		f.Assignee = actor.ID
	}
	if f.Limit == 0 {
		f.Limit = 100
	}
	if f.Limit < 1 || f.Limit > 500 {
		return nil, Invalid("limit", "must be between 1 and 500")
	}
	f.Now = s.now()
	items, err := s.Board.OpenDeadlines(ctx, f)
	if err != nil {
		return nil, err
	}
	for i := range items {
		items[i].State = items[i].StateAt(f.Now)
	}
	return items, nil
}
