// Package domaintest keeps cases in memory behind the domain's ports, so that the domain's own
// tests (the lifecycle, the guards, the deadlines) run without a database. It keeps the
// promises of domain.CaseStore that a command can observe: case numbers sequential per year, a
// version checked at every change (ESTALE), a command's change and its bed reservations landing
// together or not at all, deadlines closed and opened with ids, the waiting list's order. The
// store keeps its own suite against PostgreSQL; this is not a stand-in for it in other tests.
package domaintest

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"

	"github.com/google/uuid"

	"carepath/domain"
	"carepath/migrations"
)

// Cases implements domain.CaseStore, domain.CaseTx's beds and domain.CalendarSource in memory.
// One command at a time: Update holds the store for the whole command.
type Cases struct {
	mu         sync.Mutex
	cases      map[string]*stored
	seq        int
	numbers    map[int]int // last case number per year
	deadlineID int64
	facilities map[string]*domain.Facility
	calendar   *domain.Calendar
}

type stored struct {
	c         *domain.Case
	seq       int
	deadlines []domain.Deadline // every deadline, open or closed
	history   []domain.HistoryEntry
	notices   []domain.Notice
}

var (
	_ domain.CaseStore      = (*Cases)(nil)
	_ domain.CalendarSource = (*Cases)(nil)
)

// New returns an empty store with the shipped production calendar.
func New() *Cases {
	rows, err := migrations.ShippedCalendar()
	if err != nil {
		panic(fmt.Sprintf("shipped calendar: %v", err))
	}
	days := make([]domain.CalendarDay, len(rows))
	for i, r := range rows {
		days[i] = domain.CalendarDay{Date: domain.MustDate(r.Date), Kind: domain.DayKind(r.Kind), Note: r.Note}
	}
	return &Cases{cases: map[string]*stored{}, numbers: map[int]int{}, facilities: map[string]*domain.Facility{},
		calendar: domain.NewCalendar(days)}
}

// Calendar implements domain.CalendarSource.
func (s *Cases) Calendar(context.Context) (*domain.Calendar, error) { return s.calendar, nil }

// AddFacility adds a boarding house and returns its id.
func (s *Cases) AddFacility(name string, typ domain.FacilityType, capacity int) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := &domain.Facility{ID: uuid.NewString(), Name: name, Type: typ, Capacity: capacity}
	s.facilities[f.ID] = f
	return f.ID
}

// Taken is how many beds of a facility are occupied or reserved.
func (s *Cases) Taken(id string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.facilities[id].Taken
}

// ClosedDeadlines lists a case's closed deadlines as "kind=state", by kind.
func (s *Cases) ClosedDeadlines(id string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, d := range s.cases[id].deadlines {
		if d.State != domain.DeadlineOpen {
			out = append(out, string(d.Kind)+"="+string(d.State))
		}
	}
	slices.Sort(out)
	return out
}

// Count is the number of cases.
func (s *Cases) Count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.cases)
}

// Create implements domain.CaseStore.
func (s *Cases) Create(_ context.Context, c *domain.Case, ch *domain.Change) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	year := c.CreatedAt.In(domain.Moscow).Year()
	s.numbers[year]++
	c.Number = domain.CaseNumber(year, s.numbers[year])
	s.seq++
	st := &stored{seq: s.seq}
	s.cases[c.ID] = st
	s.save(st, c, ch)
	return nil
}

// save keeps the case with its change: the deadlines the change closes and opens (giving the
// new ones their ids, on the case too), its history line and notices.
func (s *Cases) save(st *stored, c *domain.Case, ch *domain.Change) {
	for _, d := range ch.CloseDeadlines {
		for i := range st.deadlines {
			if st.deadlines[i].ID == d.ID && st.deadlines[i].State == domain.DeadlineOpen {
				st.deadlines[i].State, st.deadlines[i].ClosedAt = d.State, d.ClosedAt
			}
		}
	}
	for _, d := range ch.OpenDeadlines {
		s.deadlineID++
		d.ID = s.deadlineID
		st.deadlines = append(st.deadlines, d)
		for i := range c.Deadlines {
			if c.Deadlines[i].ID == 0 && c.Deadlines[i].Kind == d.Kind && c.Deadlines[i].Ref == d.Ref {
				c.Deadlines[i].ID = d.ID
			}
		}
	}
	h := ch.History
	h.CaseID = c.ID
	st.history = append(st.history, h)
	st.notices = append(st.notices, ch.Notices...)
	st.c = c.Clone()
}

// Get implements domain.CaseStore: the case with its open deadlines, soonest first, and its
// place on the waiting list.
func (s *Cases) Get(_ context.Context, id string) (*domain.Case, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.read(id)
}

func (s *Cases) read(id string) (*domain.Case, error) {
	st, ok := s.cases[id]
	if !ok {
		return nil, domain.Errorf(domain.ENOTFOUND, "case %s not found", id)
	}
	c := st.c.Clone()
	c.Deadlines = nil
	for _, d := range st.deadlines {
		if d.State == domain.DeadlineOpen {
			c.Deadlines = append(c.Deadlines, d)
		}
	}
	slices.SortFunc(c.Deadlines, func(a, b domain.Deadline) int {
		return cmp.Or(a.DueAt.Compare(b.DueAt), cmp.Compare(a.ID, b.ID))
	})
	c.WaitingPosition = 0
	if c.State == domain.WaitingList {
		c.WaitingPosition = 1
		for _, o := range s.cases {
			if o.c.State == domain.WaitingList && o.c.FacilityType == c.FacilityType &&
				cmp.Or(o.c.StateEnteredAt.Compare(c.StateEnteredAt), cmp.Compare(o.seq, st.seq)) < 0 {
				c.WaitingPosition++
			}
		}
	}
	return c, nil
}

// Update implements domain.CaseStore: the command runs alone, and its change and its beds land
// together or not at all.
func (s *Cases) Update(ctx context.Context, id string, version int, fn func(ctx context.Context, tx domain.CaseTx, c *domain.Case) (*domain.Change, error)) (*domain.Case, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, err := s.read(id)
	if err != nil {
		return nil, err
	}
	c.WaitingPosition = 0
	if version != 0 && c.Version != version {
		return nil, domain.Errorf(domain.ESTALE, "case %s is at version %d, not %d: reload it and try again", c.Number, c.Version, version)
	}
	tx := &bedsTx{s: s, taken: map[string]int{}}
	ch, err := fn(ctx, tx, c)
	if err != nil {
		return nil, err
	}
	for fid, n := range tx.taken {
		s.facilities[fid].Taken = n
	}
	if ch != nil {
		s.save(s.cases[id], c, ch)
	}
	return c, nil
}

// bedsTx implements domain.CaseTx for one command: its beds count only once it lands.
type bedsTx struct {
	s     *Cases
	taken map[string]int // facility id: beds taken as the command leaves them
}

func (t *bedsTx) Facility(_ context.Context, id string) (*domain.Facility, error) {
	f, ok := t.s.facilities[id]
	if !ok {
		return nil, domain.Errorf(domain.ENOTFOUND, "facility %s not found", id)
	}
	out := *f
	if n, ok := t.taken[id]; ok {
		out.Taken = n
	}
	return &out, nil
}

func (t *bedsTx) ReserveBed(ctx context.Context, id string) error {
	f, err := t.Facility(ctx, id)
	if err != nil {
		return err
	}
	if f.Taken >= f.Capacity {
		return domain.Refuse("facility_id", "the facility has no free bed")
	}
	t.taken[id] = f.Taken + 1
	return nil
}

func (t *bedsTx) ReleaseBed(ctx context.Context, id string) error {
	f, err := t.Facility(ctx, id)
	if err != nil {
		return err
	}
	t.taken[id] = max(f.Taken-1, 0)
	return nil
}

// List implements domain.CaseStore: newest first, the filter's state, type, assignee and
// overdue; no cursor (one page).
func (s *Cases) List(_ context.Context, f domain.CaseFilter) (domain.CasePage, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	all := slices.SortedFunc(maps.Values(s.cases), func(a, b *stored) int { return cmp.Compare(b.seq, a.seq) })
	page := domain.CasePage{Items: []domain.CaseSummary{}}
	for _, st := range all {
		c, _ := s.read(st.c.ID)
		due := domain.NextDue(c.Deadlines)
		overdue := due != nil && !f.Now.Before(*due)
		if (f.State != "" && c.State != f.State) || (f.FacilityType != "" && c.FacilityType != f.FacilityType) ||
			(f.Assignee != "" && c.AssigneeID != f.Assignee) || (f.Overdue && !overdue) || len(page.Items) == f.Limit {
			continue
		}
		page.Items = append(page.Items, domain.CaseSummary{ID: c.ID, Number: c.Number, State: c.State, Version: c.Version,
			FacilityType: c.FacilityType, Channel: c.Channel, ApplicantName: c.Applicant.FullName, AssigneeID: c.AssigneeID,
			StateEnteredAt: c.StateEnteredAt, CreatedAt: c.CreatedAt, NextDueAt: due, Overdue: overdue})
	}
	return page, nil
}

// History implements domain.CaseStore.
func (s *Cases) History(_ context.Context, id string) ([]domain.HistoryEntry, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, ok := s.cases[id]
	if !ok {
		return nil, domain.Errorf(domain.ENOTFOUND, "case %s not found", id)
	}
	return slices.Clone(st.history), nil
}

// Facilities implements domain.CaseStore.
func (s *Cases) Facilities(context.Context) ([]domain.Facility, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]domain.Facility, 0, len(s.facilities))
	for _, f := range s.facilities {
		out = append(out, *f)
	}
	slices.SortFunc(out, func(a, b domain.Facility) int { return cmp.Compare(a.Name, b.Name) })
	return out, nil
}
