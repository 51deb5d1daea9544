package generate

import (
	mrand "math/rand/v2"
	"time"

	"carepath/domain"
)

// The share of cases in each state, roughly as in a center that has worked for some years:
// most people live in a home, fewer are on the way there.
var generatedStateWeights = []struct {
	state  domain.State
	weight float64
}{
	{domain.Intake, 1.0},
	{domain.CollectingDocuments, 3.0},
	{domain.UnderReview, 1.5},
	{domain.Rejected, 3.0},
	{domain.WaitingList, 9.0},
	{domain.VoucherIssued, 1.5},
	{domain.Residing, 40.0},
	{domain.OnLeave, 1.5},
	{domain.Hospitalized, 2.5},
	{domain.TransferPending, 1.0},
	{domain.Discharged, 9.0},
	{domain.Deceased, 20.0},
	{domain.Withdrawn, 7.0},
}

const day = 24 * time.Hour

// step is one event of a generated case's path.
type step struct {
	event domain.EventName
	at    time.Time
	// transfer marks the issue_voucher/admit/cancel_voucher of a move between homes.
	transfer bool
	// system marks a voucher cancelled by the expiry job.
	system bool
}

// route is a generated case's timeline: facility type, path and times. It is drawn twice from
// the same seed (once to sort cases by creation time, once to build them), so it must only
// depend on the random source.
type route struct {
	facilityType domain.FacilityType
	created      time.Time
	steps        []step
	// beds is the number of beds the case holds at the end (residence and/or voucher).
	beds int
}

func (r *route) last() domain.State {
	st := domain.Intake
	for _, s := range r.steps {
		st = dest(st, s)
	}
	return st
}

func dest(from domain.State, s step) domain.State {
	if s.event == domain.CancelVoucher && s.transfer {
		return domain.TransferPending
	}
	def, _ := domain.LookupEvent(s.event)
	if def.Stays {
		return from
	}
	return def.Dest
}

// between draws a duration uniformly in [lo, hi].
func between(r *mrand.Rand, lo, hi time.Duration) time.Duration {
	if hi <= lo {
		return lo
	}
	return lo + time.Duration(r.Int64N(int64(hi-lo)))
}

// pathBuilder lays out a path backwards from now: gaps are drawn first, then the free time
// (residence, time since a terminal event) fills what is left of the generated period.
type pathBuilder struct {
	r      *mrand.Rand
	events []step
	gaps   []time.Duration // gaps[i] precedes events[i]
	flex   []bool          // gaps that take a share of the free time
	tail   time.Duration   // time from the last event to now (bounded part)
	tailFx bool            // the tail also takes a share of the free time
}

func (b *pathBuilder) add(e domain.EventName, lo, hi time.Duration) *step {
	b.events = append(b.events, step{event: e})
	b.gaps = append(b.gaps, between(b.r, lo, hi))
	b.flex = append(b.flex, false)
	return &b.events[len(b.events)-1]
}

func (b *pathBuilder) addFlex(e domain.EventName) *step {
	s := b.add(e, 0, 0)
	b.flex[len(b.flex)-1] = true
	return s
}

// toReview walks intake → collecting documents → review, sometimes with a return for documents.
func (b *pathBuilder) toReview() {
	r := b.r
	b.add(domain.RequestDocuments, 30*time.Minute, 3*day)
	b.add(domain.SubmitForReview, 5*day, 40*day)
	if r.Float64() < 0.08 {
		b.add(domain.ReturnForDocuments, 1*day, 9*day)
		b.add(domain.SubmitForReview, 3*day, 20*day)
	}
}

// toWaiting goes on from review to the waiting list, sometimes through a refusal and appeal.
func (b *pathBuilder) toWaiting() {
	r := b.r
	b.toReview()
	if r.Float64() < 0.04 {
		b.add(domain.Reject, 2*day, 9*day)
		b.add(domain.Appeal, 5*day, 60*day)
	}
	b.add(domain.RecognizeNeed, 1*day, 9*day)
}

// toVoucher waits for a bed and gets a voucher; sometimes a first voucher lapses.
func (b *pathBuilder) toVoucher(settings domain.Settings) {
	r := b.r
	b.toWaiting()
	if r.Float64() < 0.06 {
		b.add(domain.IssueVoucher, 20*day, 400*day)
		// the expiry job cancels a voucher the day after it lapses
		valid := time.Duration(settings.VoucherValidDays) * day
		b.add(domain.CancelVoucher, valid+2*time.Hour, valid+20*time.Hour).system = true
	}
	b.add(domain.IssueVoucher, 15*day, 600*day)
	// the contract with the home, within a working day of presenting the programme
	b.add(domain.SignContract, 2*time.Hour, 20*time.Hour)
}

// residence admits the person and lays out the years in the home as a flexible gap filled by
// stays in hospital, leaves and, rarely, a move to another home. After residence the path
// ends (residing) or goes on with the final event the caller adds.
func (b *pathBuilder) residence(settings domain.Settings) {
	r := b.r
	b.add(domain.Admit, 2*day, 25*day)
	// Episodes are separated by flexible gaps, so the free time spreads over the residence.
	n := 0
	for r.Float64() < 0.55 && n < 5 {
		n++
		switch x := r.Float64(); {
		case x < 0.55:
			b.addFlex(domain.Hospitalize)
			b.add(domain.EndHospitalization, 3*day, 25*day)
		case x < 0.9:
			b.addFlex(domain.StartLeave)
			b.add(domain.EndLeave, 2*day, time.Duration(settings.MaxLeaveDays)*day)
		case x < 0.95:
			b.addFlex(domain.ReviewIPPSU)
		default:
			b.addFlex(domain.RequestTransfer)
			b.add(domain.IssueVoucher, 10*day, 120*day).transfer = true
			b.add(domain.Admit, 2*day, 25*day).transfer = true
		}
	}
}

// planRoute draws a case's facility type, final state and timeline.
func planRoute(r *mrand.Rand, settings domain.Settings, target domain.State, since, now time.Time) route {
	ft := domain.ElderlyDisabled
	switch x := r.Float64(); {
	case x < 0.25:
		ft = domain.Psychoneurological
	case x < 0.35:
		ft = domain.Veterans
	}
	b := &pathBuilder{r: r}
	maxLeave := time.Duration(settings.MaxLeaveDays) * day
	voucherValid := time.Duration(settings.VoucherValidDays) * day
	switch target {
	case domain.Intake:
		b.tail = between(r, 0, 3*day)
	case domain.CollectingDocuments:
		b.add(domain.RequestDocuments, 30*time.Minute, 3*day)
		b.tail = between(r, 0, 45*day)
	case domain.UnderReview:
		b.toReview()
		b.tail = between(r, 0, 9*day)
		if r.Float64() < 0.1 { // a decision running late
			b.tail = between(r, 9*day, 20*day)
		}
	case domain.Rejected:
		b.toReview()
		b.add(domain.Reject, 1*day, 9*day)
		b.tailFx = true
	case domain.WaitingList:
		b.toWaiting()
		b.tail = between(r, 0, 700*day)
	case domain.VoucherIssued:
		if r.Float64() < 0.15 { // a move to another home under way
			b.toVoucher(settings)
			b.residence(settings)
			b.addFlex(domain.RequestTransfer)
			b.add(domain.IssueVoucher, 10*day, 120*day).transfer = true
			b.add(domain.SignContract, 2*time.Hour, 20*time.Hour)
		} else {
			b.toVoucher(settings)
		}
		b.tail = between(r, 0, voucherValid-day)
	case domain.Residing:
		b.toVoucher(settings)
		b.residence(settings)
		b.tailFx = true
	case domain.OnLeave:
		b.toVoucher(settings)
		b.residence(settings)
		b.addFlex(domain.StartLeave)
		b.tail = between(r, 0, maxLeave)
	case domain.Hospitalized:
		b.toVoucher(settings)
		b.residence(settings)
		b.addFlex(domain.Hospitalize)
		b.tail = between(r, 0, 40*day)
	case domain.TransferPending:
		b.toVoucher(settings)
		b.residence(settings)
		b.addFlex(domain.RequestTransfer)
		b.tail = between(r, 0, 150*day)
	case domain.Discharged, domain.Deceased:
		b.toVoucher(settings)
		b.residence(settings)
		ev := domain.Discharge
		if target == domain.Deceased {
			ev = domain.RecordDeath
			if r.Float64() < 0.3 {
				b.addFlex(domain.Hospitalize)
				b.add(domain.RecordDeath, 1*day, 30*day)
				b.tailFx = true
				break
			}
		}
		b.addFlex(ev)
		b.tailFx = true
	case domain.Withdrawn:
		switch x := r.Float64(); {
		case x < 0.08:
			b.add(domain.Withdraw, 1*day, 10*day)
		case x < 0.43:
			b.add(domain.RequestDocuments, 30*time.Minute, 3*day)
			b.add(domain.Withdraw, 5*day, 60*day)
		case x < 0.48:
			b.toReview()
			b.add(domain.Withdraw, 1*day, 8*day)
		case x < 0.55:
			b.toReview()
			b.add(domain.Reject, 1*day, 9*day)
			b.add(domain.Withdraw, 10*day, 300*day)
		case x < 0.95:
			b.toWaiting()
			b.add(domain.Withdraw, 10*day, 700*day)
		default:
			b.toVoucher(settings)
			b.add(domain.Withdraw, 1*day, voucherValid-day)
		}
		b.tailFx = true
	}
	// Free time: what the generated period leaves after the drawn gaps, shared by the flexible
	// gaps. Drawing its total uniformly spreads creation times evenly over the period.
	var fixed time.Duration
	nflex := 0
	for i, g := range b.gaps {
		fixed += g
		if b.flex[i] {
			nflex++
		}
	}
	fixed += b.tail
	if b.tailFx {
		nflex++
	}
	room := now.Sub(since) - fixed - day
	if room < 0 {
		room = 0
	}
	if nflex > 0 {
		free := time.Duration(r.Float64() * float64(room))
		// Split the free time with random weights among the flexible gaps.
		w := make([]float64, nflex)
		sum := 0.0
		for i := range w {
			w[i] = 0.2 + r.Float64()
			sum += w[i]
		}
		k := 0
		for i := range b.gaps {
			if b.flex[i] {
				b.gaps[i] += time.Duration(float64(free) * w[k] / sum)
				k++
			}
		}
		if b.tailFx {
			b.tail += time.Duration(float64(free) * w[k] / sum)
		}
	}
	// Lay the path out backwards from now.
	rt := route{facilityType: ft, steps: b.events}
	t := now.Add(-b.tail)
	for i := len(b.events) - 1; i >= 0; i-- {
		rt.steps[i].at = t
		t = t.Add(-b.gaps[i])
	}
	if t.Before(since) { // cannot happen with room >= 0, but never generate before the period
		shift := since.Sub(t)
		for i := range rt.steps {
			rt.steps[i].at = rt.steps[i].at.Add(shift)
		}
		t = since
	}
	rt.created = t
	switch rt.last() {
	case domain.Residing, domain.OnLeave, domain.Hospitalized, domain.TransferPending:
		rt.beds = 1
	case domain.VoucherIssued:
		rt.beds = 1
		if rt.steps[len(rt.steps)-1].transfer {
			rt.beds = 2
		}
	}
	return rt
}

// casePlan is one case between the two passes: sorted by creation time, numbered per year.
type casePlan struct {
	created int64 // unix nanoseconds
	index   uint32
	number  uint32 // per year
	bed     int32  // first bed ordinal within its facility type, -1 without a bed
	state   domain.State
	ft      domain.FacilityType
}

// year is the year of the case's number: the year it was created in, in Moscow.
func (p *casePlan) year() int { return time.Unix(0, p.created).In(domain.Moscow).Year() }

func (g *generator) rng(i uint32) *mrand.Rand {
	return mrand.New(mrand.NewPCG(g.opt.Seed, uint64(i)*0x9E3779B97F4A7C15+1))
}

func (g *generator) targetOf(r *mrand.Rand, i uint32) domain.State {
	// The first cases go round every state, so even a small run has each one.
	if int(i) < len(generatedStateWeights) {
		return generatedStateWeights[i].state
	}
	x := r.Float64() * g.weightSum
	for _, w := range generatedStateWeights {
		if x < w.weight {
			return w.state
		}
		x -= w.weight
	}
	return domain.Residing
}

func (g *generator) route(i uint32) (route, *mrand.Rand) {
	r := g.rng(i)
	target := g.targetOf(r, i)
	return planRoute(r, g.opt.Settings, target, g.opt.Since, g.opt.Now), r
}
