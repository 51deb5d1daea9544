// Package domaintest keeps cases in memory behind the domain's ports, so that the domain's own
// tests (the lifecycle, the guards, the deadlines) run without a database. It keeps the
// promises of domain.CaseStore that a command can observe: case numbers sequential per year, a
// version checked at every change (ESTALE), a command's change and what it does to beds,
// placements and offers landing together or not at all, deadlines closed and opened with ids,
// the waiting list's order (priority rank, date the need was recognised, registration). Homes
// have sections; a case holds at most one bed of each kind (reserved, occupied), counted in its
// section. The store keeps its own suite against PostgreSQL; this is not a stand-in for it in
// other tests.
package domaintest

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/google/uuid"

	"carepath/domain"
	"carepath/migrations"
)

// Cases implements domain.CaseStore, domain.CaseTx's beds and domain.CalendarSource in memory.
// One command at a time: Update holds the store for the whole command.
type Cases struct {
	mu          sync.Mutex
	cases       map[string]*stored
	seq         int
	numbers     map[int]int // last case number per year
	deadlineID  int64
	calendar    *domain.Calendar
	supervisors []string
	priorities  map[string]int // priority code: rank
	beds        beds
}

// beds is what a command may change besides its case: kept whole, and put back when the
// command fails.
type beds struct {
	facilities map[string]*domain.Facility
	holds      map[string][]hold // case id: the beds it holds
	placements map[string]domain.Placement
	ranks      map[string]int // case id: its priority's rank
	offers     []domain.Offer
}

type hold struct {
	kind domain.BedKind
	bed  domain.Bed
}

func (b beds) clone() beds {
	out := beds{facilities: map[string]*domain.Facility{}, holds: map[string][]hold{}, placements: map[string]domain.Placement{},
		ranks: maps.Clone(b.ranks), offers: slices.Clone(b.offers)}
	for id, f := range b.facilities {
		c := *f
		c.Sections = slices.Clone(f.Sections)
		out.facilities[id] = &c
	}
	for id, h := range b.holds {
		out.holds[id] = slices.Clone(h)
	}
	for id, p := range b.placements {
		p.Districts, p.FacilityIDs = slices.Clone(p.Districts), slices.Clone(p.FacilityIDs)
		out.placements[id] = p
	}
	return out
}

type stored struct {
	c   *domain.Case
	seq int
	// recognizedAt is when the case first entered the waiting list (zero before).
	recognizedAt time.Time
	deadlines    []domain.Deadline // every deadline, open or closed
	history      []domain.HistoryEntry
	notices      []domain.Notice
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
	return &Cases{cases: map[string]*stored{}, numbers: map[int]int{}, calendar: domain.NewCalendar(days),
		// the shipped priority categories (migration 00021)
		priorities: map[string]int{"out_of_turn": 10, "first_turn": 20, "urgent_social": 30, domain.DefaultPriority: 100},
		beds: beds{facilities: map[string]*domain.Facility{}, holds: map[string][]hold{}, placements: map[string]domain.Placement{},
			ranks: map[string]int{}}}
}

// Calendar implements domain.CalendarSource.
func (s *Cases) Calendar(context.Context) (*domain.Calendar, error) { return s.calendar, nil }

// AddFacility adds an active home with one section for anyone not bedridden ("main") and
// returns its id.
func (s *Cases) AddFacility(name string, typ domain.FacilityType, capacity int) string {
	return s.AddHome(domain.Facility{Name: name, Type: typ},
		domain.Section{Code: "main", Title: "Основное", Sex: domain.SexAny, Capacity: capacity})
}

// AddHome adds an active home with these sections and returns its id.
func (s *Cases) AddHome(f domain.Facility, sections ...domain.Section) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	f.ID, f.Active, f.Version, f.Sections = uuid.NewString(), true, 1, slices.Clone(sections)
	s.beds.facilities[f.ID] = &f
	return f.ID
}

// AddSupervisor adds an active supervisor's id (told of offers to unassigned cases).
func (s *Cases) AddSupervisor(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.supervisors = append(s.supervisors, id)
}

// Taken is how many beds of a home are occupied or reserved.
func (s *Cases) Taken(id string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, sec := range s.beds.facilities[id].Sections {
		n += sec.Occupied + sec.Reserved
	}
	return n
}

// Offers lists the offers made, oldest first.
func (s *Cases) Offers() []domain.Offer {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.beds.offers)
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
	if c.State == domain.WaitingList && st.recognizedAt.IsZero() {
		st.recognizedAt = c.StateEnteredAt
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
			if o.c.State == domain.WaitingList && o.c.FacilityType == c.FacilityType && s.before(o, st) {
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
	before := s.beds.clone()
	tx := &bedsTx{s: s}
	ch, err := fn(ctx, tx, c)
	if err != nil {
		s.beds = before
		return nil, err
	}
	if ch != nil {
		for _, cancel := range tx.cancels {
			cancel()
		}
		s.save(s.cases[id], c, ch)
	}
	return c, nil
}

// before says whether waiting case a comes before b on their list: the priority's rank, the date
// the need was recognised, registration (store.WaitingOrder).
func (s *Cases) before(a, b *stored) bool {
	return cmp.Or(cmp.Compare(s.rank(a.c.ID), s.rank(b.c.ID)), a.recognizedAt.Compare(b.recognizedAt), cmp.Compare(a.seq, b.seq)) < 0
}

func (s *Cases) rank(caseID string) int {
	if r, ok := s.beds.ranks[caseID]; ok {
		return r
	}
	return s.priorities[domain.DefaultPriority]
}

// eligible says whether waiting case c would take a bed of home f (of section, when not ""):
// its preferences allow the home and a section fits it (store's eligibleFor).
func (s *Cases) eligible(c *domain.Case, f *domain.Facility, section string) bool {
	p := s.beds.placements[c.ID]
	if len(p.FacilityIDs) > 0 && !slices.Contains(p.FacilityIDs, f.ID) ||
		len(p.Districts) > 0 && !slices.Contains(p.Districts, f.District) {
		return false
	}
	need := c.BedNeed()
	need.Bedridden = p.Bedridden
	for _, sec := range f.Sections {
		if (section == "" || sec.Code == section) && sec.Fits(need) {
			return true
		}
	}
	return false
}

// waiting lists the waiting cases of a type in the list's order.
func (s *Cases) waiting(t domain.FacilityType) []*stored {
	var out []*stored
	for _, st := range s.cases {
		if st.c.State == domain.WaitingList && st.c.FacilityType == t {
			out = append(out, st)
		}
	}
	slices.SortFunc(out, func(a, b *stored) int {
		if s.before(a, b) {
			return -1
		}
		return 1
	})
	return out
}

// bedsTx implements domain.CaseTx for one command, over the store's beds; Update puts them back
// when the command fails.
type bedsTx struct {
	s *Cases
	// cancels are the notices' cancellations, done when the change lands.
	cancels []func()
}

// CancelNotices implements domain.CaseTx.
func (t *bedsTx) CancelNotices(_ context.Context, caseID string, recipients []string, _ time.Time) (int, error) {
	st := t.s.cases[caseID]
	n := 0
	var idx []int
	for i, no := range st.notices {
		if (no.Audience == domain.AudienceRelative || no.Audience == domain.AudienceRepresentative) &&
			(no.Status == domain.NoticePending || no.Status == domain.NoticeFailed) && slices.Contains(recipients, no.Recipient) {
			n++
			idx = append(idx, i)
		}
	}
	t.cancels = append(t.cancels, func() {
		for _, i := range idx {
			st.notices[i].Status = domain.NoticeCancelled
		}
	})
	return n, nil
}

// Notices lists a case's notices as written, oldest first.
func (s *Cases) Notices(id string) []domain.Notice {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.cases[id].notices)
}

func (t *bedsTx) home(id string) (*domain.Facility, error) {
	f, ok := t.s.beds.facilities[id]
	if !ok {
		return nil, domain.Errorf(domain.ENOTFOUND, "facility %s not found", id)
	}
	return f, nil
}

func (t *bedsTx) Facility(_ context.Context, id string) (*domain.Facility, error) {
	f, err := t.home(id)
	if err != nil {
		return nil, err
	}
	out := *f
	out.Sections = slices.Clone(f.Sections)
	out.Capacity, out.Taken = 0, 0
	for _, sec := range f.Sections {
		out.Capacity += sec.Capacity
		out.Taken += sec.Occupied + sec.Reserved
	}
	return &out, nil
}

// ReserveBed: a section of the person's sex before a mixed one, then by code.
func (t *bedsTx) ReserveBed(_ context.Context, caseID, facilityID string, need domain.BedNeed) (string, error) {
	f, err := t.home(facilityID)
	if err != nil {
		return "", err
	}
	best := -1
	for i, sec := range f.Sections {
		if !sec.Fits(need) || sec.Free() <= 0 {
			continue
		}
		if best < 0 || cmp.Or(cmp.Compare(boolInt(sec.Sex == domain.SexAny), boolInt(f.Sections[best].Sex == domain.SexAny)),
			cmp.Compare(sec.Code, f.Sections[best].Code)) < 0 {
			best = i
		}
	}
	if best < 0 {
		return "", domain.Errorf(domain.EUNPROCESSABLE, "no free bed")
	}
	f.Sections[best].Reserved++
	bed := domain.Bed{FacilityID: f.ID, Section: f.Sections[best].Code}
	t.s.beds.holds[caseID] = append(t.s.beds.holds[caseID], hold{kind: domain.BedReserved, bed: bed})
	return bed.Section, nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// section returns the section a bed is in.
func (t *bedsTx) section(b domain.Bed) *domain.Section {
	f := t.s.beds.facilities[b.FacilityID]
	for i := range f.Sections {
		if f.Sections[i].Code == b.Section {
			return &f.Sections[i]
		}
	}
	panic("domaintest: a hold in a section that is gone: " + b.FacilityID + "/" + b.Section)
}

func (t *bedsTx) OccupyBed(_ context.Context, caseID string) (*domain.Bed, error) {
	hs := t.s.beds.holds[caseID]
	for i := range hs {
		if hs[i].kind == domain.BedReserved {
			hs[i].kind = domain.BedOccupied
			sec := t.section(hs[i].bed)
			sec.Reserved--
			sec.Occupied++
			b := hs[i].bed
			return &b, nil
		}
	}
	return nil, nil
}

func (t *bedsTx) ReleaseBed(_ context.Context, caseID string, kind domain.BedKind) (*domain.Bed, error) {
	hs := t.s.beds.holds[caseID]
	for i := range hs {
		if hs[i].kind == kind {
			b := hs[i].bed
			sec := t.section(b)
			if kind == domain.BedReserved {
				sec.Reserved--
			} else {
				sec.Occupied--
			}
			t.s.beds.holds[caseID] = slices.Delete(hs, i, i+1)
			return &b, nil
		}
	}
	return nil, nil
}

func (t *bedsTx) Placement(_ context.Context, caseID string) (*domain.Placement, error) {
	p, ok := t.s.beds.placements[caseID]
	if !ok {
		return nil, nil
	}
	p.Districts, p.FacilityIDs = slices.Clone(p.Districts), slices.Clone(p.FacilityIDs)
	return &p, nil
}

func (t *bedsTx) SavePlacement(_ context.Context, caseID string, p domain.Placement) error {
	rank, ok := t.s.priorities[p.Priority]
	if !ok {
		return domain.ErrorOn(domain.EUNPROCESSABLE, "placement.priority", "priority %s does not exist", p.Priority)
	}
	p.Districts, p.FacilityIDs = slices.Clone(p.Districts), slices.Clone(p.FacilityIDs)
	t.s.beds.placements[caseID] = p
	t.s.beds.ranks[caseID] = rank
	return nil
}

// ProposeOffers: while the section has beds free beyond its open offers, the first waiting case
// of the home's type that would take it, not exclude, not flagged for review, without an open
// offer and without a declined or expired offer of this section.
func (t *bedsTx) ProposeOffers(_ context.Context, bed domain.Bed, exclude string, now, due time.Time) ([]domain.Offer, error) {
	f, ok := t.s.beds.facilities[bed.FacilityID]
	if !ok || !f.Active {
		return nil, nil
	}
	var out []domain.Offer
	for {
		sec := t.section(bed)
		free := sec.Free()
		for _, o := range t.s.beds.offers {
			if o.State == domain.OfferProposed && o.FacilityID == bed.FacilityID && o.Section == bed.Section {
				free--
			}
		}
		if free <= 0 {
			return out, nil
		}
		var next *stored
		for _, st := range t.s.waiting(f.Type) {
			if st.c.ID != exclude && !t.s.beds.placements[st.c.ID].Review && t.s.eligible(st.c, f, bed.Section) && !t.offered(st.c.ID, bed) {
				next = st
				break
			}
		}
		if next == nil {
			return out, nil
		}
		o := domain.Offer{ID: uuid.NewString(), CaseID: next.c.ID, CaseNumber: next.c.Number, ApplicantName: next.c.Applicant.FullName,
			AssigneeID: next.c.AssigneeID, FacilityID: f.ID, FacilityName: f.Name, Section: bed.Section, State: domain.OfferProposed,
			ProposedAt: now, DueAt: due}
		t.s.beds.offers = append(t.s.beds.offers, o)
		out = append(out, o)
	}
}

// offered says whether the case has an open offer, or declined or let expire one of this bed's
// section.
func (t *bedsTx) offered(caseID string, bed domain.Bed) bool {
	for _, o := range t.s.beds.offers {
		if o.CaseID == caseID && (o.State == domain.OfferProposed ||
			o.FacilityID == bed.FacilityID && o.Section == bed.Section && (o.State == domain.OfferDeclined || o.State == domain.OfferExpired)) {
			return true
		}
	}
	return false
}

func (t *bedsTx) AnswerOffer(_ context.Context, id string, state domain.OfferState, d domain.OfferDecline, now time.Time) error {
	for i := range t.s.beds.offers {
		o := &t.s.beds.offers[i]
		if o.ID == id && o.State == domain.OfferProposed {
			at := now
			o.State, o.AnsweredAt, o.Reason, o.Note = state, &at, d.Reason, d.Note
			return nil
		}
	}
	return domain.Errorf(domain.ECONFLICT, "offer %s was answered meanwhile", id)
}

func (t *bedsTx) CasesAhead(_ context.Context, caseID, facilityID string) ([]string, error) {
	me, ok := t.s.cases[caseID]
	if !ok {
		return nil, domain.Errorf(domain.ENOTFOUND, "case %s not found", caseID)
	}
	f, err := t.home(facilityID)
	if err != nil {
		return nil, err
	}
	out := []string{}
	for _, st := range t.s.waiting(me.c.FacilityType) {
		if len(out) == 20 || !t.s.before(st, me) {
			break
		}
		if t.s.eligible(st.c, f, "") {
			out = append(out, st.c.Number)
		}
	}
	return out, nil
}

func (t *bedsTx) WithdrawOffers(_ context.Context, caseID string, now time.Time) ([]domain.Bed, error) {
	var out []domain.Bed
	for i := range t.s.beds.offers {
		o := &t.s.beds.offers[i]
		if o.CaseID == caseID && o.State == domain.OfferProposed {
			at := now
			o.State, o.AnsweredAt = domain.OfferWithdrawn, &at
			out = append(out, domain.Bed{FacilityID: o.FacilityID, Section: o.Section})
		}
	}
	return out, nil
}

func (t *bedsTx) Supervisors(context.Context) ([]string, error) {
	return slices.Clone(t.s.supervisors), nil
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
