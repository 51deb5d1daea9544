package store

import (
	"bytes"
	"cmp"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"carepath/domain"
)

// GenerateOptions tune the bulk generator behind `carepath seed --cases N`.
type GenerateOptions struct {
	// Cases is how many cases to add.
	Cases int
	// Settings and Calendar are the deadline periods and production calendar in force; the
	// generated deadlines are computed with them by the domain's own rules.
	Settings domain.Settings
	Calendar *domain.Calendar
	// Now is the end of the generated timelines (default time.Now); Since their start
	// (default 2019-01-01 in Moscow).
	Now, Since time.Time
	// Seed makes a run reproducible (same seed, same Now: same cases, apart from ids and
	// sealing nonces).
	Seed uint64
	// Progress, when set, hears about each phase.
	Progress func(format string, args ...any)
}

// GenerateResult is what a generator run added.
type GenerateResult struct {
	Cases, History, Deadlines, Facilities int
	States                                map[domain.State]int
	// RebuiltIndexes tells whether secondary indexes and foreign keys were dropped for the load
	// and rebuilt after it (done when the load is at least as big as what is there).
	RebuiltIndexes bool
	Elapsed        time.Duration
}

// GeneratedAccessCode is the relatives' access code of a generated case. Generated data is for
// benchmarks and demos, so its codes are derived from the case number on purpose: a benchmark
// of the relatives' lookup can compute them. Never generate cases into a production database.
func GeneratedAccessCode(number string) string {
	sum := sha256.Sum256([]byte("carepath generated case " + number))
	return domain.AccessCodeFrom(sum[:])
}

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
	// transfers counts completed or pending moves (each needs a second home of the type).
	transfers int
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
	for _, s := range rt.steps {
		if s.transfer && s.event == domain.IssueVoucher {
			rt.transfers++
		}
	}
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

// generator holds one run's reference data and the case plans.
type generator struct {
	opt       GenerateOptions
	cases     *Cases
	weightSum float64
	plans     []casePlan
	// reference data the cases point at
	health, guardianship, mfc []string
	specialists               []actorRef
	facilities                map[domain.FacilityType][]string
	// bed ordinals per type and how many facilities share them
	holders map[domain.FacilityType]int
}

type actorRef struct{ id, name string }

// Generate adds opt.Cases realistic cases in bulk with COPY, in one transaction: agencies,
// specialists and enough boarding houses, then cases spread over every state with their history
// (one line per version, the path a case really takes through the lifecycle), checklists and
// open deadlines computed by the domain's rules, case numbers continuing the yearly counters,
// personal data sealed with the store's key. When the load is at least as big as the table,
// secondary indexes and foreign keys are dropped before it and rebuilt (and checked) after it,
// inside the same transaction. The tables are locked meanwhile: run it on a database without
// traffic.
func (s *Cases) Generate(ctx context.Context, opt GenerateOptions) (GenerateResult, error) {
	start := time.Now()
	res := GenerateResult{States: map[domain.State]int{}}
	if opt.Cases <= 0 {
		return res, domain.Invalid("cases", "want a positive number of cases")
	}
	if opt.Calendar == nil {
		return res, errors.New("generate: a production calendar is required")
	}
	if opt.Now.IsZero() {
		opt.Now = time.Now()
	}
	if opt.Since.IsZero() {
		opt.Since = time.Date(2019, time.January, 1, 9, 0, 0, 0, domain.Moscow)
	}
	if !opt.Since.Before(opt.Now.Add(-365 * day)) {
		return res, domain.Invalid("since", "the generated period must span at least a year")
	}
	if opt.Seed == 0 {
		opt.Seed = 1
	}
	if opt.Progress == nil {
		opt.Progress = func(string, ...any) {}
	}
	g := &generator{opt: opt, cases: s, facilities: map[domain.FacilityType][]string{}, holders: map[domain.FacilityType]int{}}
	for _, w := range generatedStateWeights {
		g.weightSum += w.weight
	}
	g.plan()
	opt.Progress("planned %d cases in %s", opt.Cases, time.Since(start).Round(time.Millisecond))

	conn, err := pgx.Connect(ctx, s.db.URL)
	if err != nil {
		return res, fmt.Errorf("generate: connect: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	tx, err := conn.Begin(ctx)
	if err != nil {
		return res, err
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck // after Commit it does nothing
	if _, err := tx.Exec(ctx, "LOCK TABLE cases, case_history, deadlines, facilities, case_numbers, case_names, case_name_keys IN SHARE ROW EXCLUSIVE MODE"); err != nil {
		return res, fmt.Errorf("generate: lock tables: %w", err)
	}
	if err := g.number(ctx, tx); err != nil {
		return res, err
	}
	if err := g.reference(ctx, tx); err != nil {
		return res, err
	}
	res.Facilities = 0
	for _, ids := range g.facilities {
		res.Facilities += len(ids)
	}
	var existing int64
	if err := tx.QueryRow(ctx, "SELECT count(*) FROM cases").Scan(&existing); err != nil {
		return res, err
	}
	var rebuild *rebuildPlan
	var names *nameLoad
	if int64(opt.Cases) >= existing {
		if rebuild, err = dropForLoad(ctx, tx); err != nil {
			return res, err
		}
		if names, err = deferNames(ctx, tx); err != nil {
			return res, err
		}
		res.RebuiltIndexes = true
		opt.Progress("dropped %d indexes and %d foreign keys for the load", len(rebuild.indexes), len(rebuild.fks))
	}
	// the figures' daily histograms: computed once after the load, not row by row
	resumeStats, err := PauseStatsDays(ctx, tx)
	if err != nil {
		return res, err
	}
	// The batches in flight are short-lived garbage; collecting less often saves a good part
	// of the CPU the load shares with Postgres.
	defer debug.SetGCPercent(debug.SetGCPercent(400))
	loadStart := time.Now()
	if err := g.load(ctx, tx, &res); err != nil {
		return res, err
	}
	opt.Progress("copied %d cases, %d history lines, %d deadlines in %s", res.Cases, res.History, res.Deadlines, time.Since(loadStart).Round(time.Millisecond))
	if rebuild != nil {
		t := time.Now()
		if err := rebuild.restore(ctx, tx, opt.Progress); err != nil {
			return res, err
		}
		opt.Progress("rebuilt indexes and checked foreign keys in %s", time.Since(t).Round(time.Millisecond))
	}
	if names != nil {
		t := time.Now()
		if err := names.fill(ctx, tx); err != nil {
			return res, err
		}
		opt.Progress("filled the name search tables in %s", time.Since(t).Round(time.Millisecond))
	}
	if err := resumeStats(ctx); err != nil {
		return res, err
	}
	// the beds the cases just copied hold, in the homes' sections (migration 00020)
	if _, err := tx.Exec(ctx, "SELECT beds_rebuild()"); err != nil {
		return res, fmt.Errorf("generate: beds: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return res, fmt.Errorf("generate: commit: %w", err)
	}
	t := time.Now()
	if _, err := conn.Exec(ctx, "ANALYZE cases, case_history, deadlines, facilities, case_names, case_name_keys"); err != nil {
		return res, fmt.Errorf("generate: analyze: %w", err)
	}
	opt.Progress("analyzed in %s", time.Since(t).Round(time.Millisecond))
	res.Elapsed = time.Since(start)
	return res, nil
}

// plan draws every case's route, sorts the cases by creation time (so that sequence, ids and
// numbers follow it) and hands out bed ordinals.
func (g *generator) plan() {
	n := g.opt.Cases
	g.plans = make([]casePlan, n)
	workers := runtime.GOMAXPROCS(0)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += workers {
				rt, _ := g.route(uint32(i))
				g.plans[i] = casePlan{created: rt.created.UnixNano(), index: uint32(i), bed: -1, state: rt.last(), ft: rt.facilityType}
				if rt.beds > 0 {
					g.plans[i].bed = int32(rt.beds) // count for now; ordinals below
				}
			}
		}()
	}
	wg.Wait()
	slices.SortFunc(g.plans, func(a, b casePlan) int {
		return cmp.Or(cmp.Compare(a.created, b.created), cmp.Compare(a.index, b.index))
	})
	for i := range g.plans {
		p := &g.plans[i]
		if p.bed > 0 {
			beds := p.bed
			p.bed = int32(g.holders[p.ft])
			g.holders[p.ft] += int(beds)
		}
	}
}

// number continues the yearly case number counters after the generated cases.
func (g *generator) number(ctx context.Context, tx pgx.Tx) error {
	last := map[int]int{}
	rows, err := tx.Query(ctx, "SELECT year, last FROM case_numbers")
	if err != nil {
		return fmt.Errorf("generate: read case numbers: %w", err)
	}
	for rows.Next() {
		var y, l int
		if err := rows.Scan(&y, &l); err != nil {
			return err
		}
		last[y] = l
	}
	if err := rows.Err(); err != nil {
		return err
	}
	for i := range g.plans {
		y := time.Unix(0, g.plans[i].created).In(domain.Moscow).Year()
		last[y]++
		if last[y] > 999999 {
			return domain.Invalid("cases", "year %d would get more than 999,999 case numbers", y)
		}
		g.plans[i].number = uint32(last[y])
	}
	for y, l := range last {
		if _, err := tx.Exec(ctx, `INSERT INTO case_numbers (year, last) VALUES ($1, $2)
			ON CONFLICT (year) DO UPDATE SET last = excluded.last`, y, l); err != nil {
			return fmt.Errorf("generate: case numbers of %d: %w", y, err)
		}
	}
	return nil
}

var (
	genDistricts = []string{"Бабушкинский", "Басманный", "Бутово Северное", "Гольяново", "Дорогомилово", "Зюзино", "Измайлово",
		"Коньково", "Кунцево", "Лефортово", "Люблино", "Марьино", "Митино", "Отрадное", "Перово", "Раменки", "Сокольники",
		"Строгино", "Таганский", "Тверской", "Тропарёво-Никулино", "Хамовники", "Чертаново Центральное", "Ясенево"}
	genSpecialists = []string{"Абрамова Ольга Викторовна", "Белова Наталья Игоревна", "Васильев Андрей Петрович", "Гаврилова Елена Сергеевна",
		"Голубева Ирина Анатольевна", "Денисова Светлана Юрьевна", "Егоров Максим Олегович", "Жукова Татьяна Викторовна",
		"Захарова Марина Алексеевна", "Ильина Юлия Андреевна", "Калинина Анна Владимировна", "Комарова Оксана Николаевна",
		"Крылова Дарья Сергеевна", "Лазарева Екатерина Павловна", "Макарова Людмила Ивановна", "Медведева Вера Михайловна",
		"Никитин Павел Сергеевич", "Орлова Галина Фёдоровна", "Осипова Нина Алексеевна", "Полякова Алла Борисовна",
		"Романова Ксения Игоревна", "Сергеева Евгения Викторовна", "Степанова Лариса Олеговна", "Тарасова Инна Юрьевна",
		"Уварова Полина Андреевна", "Фёдорова Алёна Сергеевна", "Фролова Зоя Николаевна", "Чернова Валерия Ильинична",
		"Шарова Ангелина Петровна", "Яковлева Елизавета Денисовна"}
)

// reference makes sure agencies and specialists exist (by unique name, so a second run reuses
// them) and adds the boarding houses this run's residents need, with a few free beds each.
func (g *generator) reference(ctx context.Context, tx pgx.Tx) error {
	upsert := func(kind, name string) (string, error) {
		var id string
		err := tx.QueryRow(ctx, `INSERT INTO agencies (name, kind) VALUES ($1, $2)
			ON CONFLICT (kind, name) DO UPDATE SET name = excluded.name RETURNING id`, name, kind).Scan(&id)
		if err != nil {
			return "", fmt.Errorf("generate: agency %s: %w", name, err)
		}
		return id, nil
	}
	for i, d := range genDistricts {
		id, err := upsert("health", fmt.Sprintf("ГБУЗ «Городская поликлиника № %d» (%s)", 10+i*7, d))
		if err != nil {
			return err
		}
		g.health = append(g.health, id)
		if id, err = upsert("guardianship", "Орган опеки района "+d); err != nil {
			return err
		}
		g.guardianship = append(g.guardianship, id)
		if id, err = upsert("mfc", "МФЦ района "+d); err != nil {
			return err
		}
		g.mfc = append(g.mfc, id)
	}
	for _, name := range genSpecialists {
		var id string
		err := tx.QueryRow(ctx, `INSERT INTO users (name, role) VALUES ($1, 'specialist')
			ON CONFLICT (lower(name)) DO UPDATE SET name = excluded.name RETURNING id`, name).Scan(&id)
		if err != nil {
			return fmt.Errorf("generate: specialist %s: %w", name, err)
		}
		g.specialists = append(g.specialists, actorRef{id, name})
	}
	var existing int
	if err := tx.QueryRow(ctx, "SELECT count(*) FROM facilities").Scan(&existing); err != nil {
		return err
	}
	numberFrom := 100 + existing
	prefix := map[domain.FacilityType]string{
		domain.ElderlyDisabled:    "Пансионат для пожилых и инвалидов № %d",
		domain.Psychoneurological: "Психоневрологический интернат № %d",
		domain.Veterans:           "Пансионат ветеранов труда № %d",
	}
	for _, ft := range domain.FacilityTypes {
		holders := g.holders[ft]
		// About 300 residents a home; at least two homes a type, so that moves have somewhere to go.
		n := max(2, (holders+299)/300)
		for k := 0; k < n; k++ {
			taken := holders / n
			if k < holders%n {
				taken++
			}
			capacity := taken + taken/10 + 5
			var id string
			err := tx.QueryRow(ctx, "INSERT INTO facilities (name, type, capacity, taken) VALUES ($1, $2, $3, $4) RETURNING id",
				fmt.Sprintf(prefix[ft], numberFrom), string(ft), capacity, taken).Scan(&id)
			if err != nil {
				return fmt.Errorf("generate: facility: %w", err)
			}
			numberFrom++
			g.facilities[ft] = append(g.facilities[ft], id)
		}
	}
	return nil
}

// facilityOf is the home of a bed ordinal: ordinal k of a type lies in home k mod n, which is how
// reference counted the beds taken.
func (g *generator) facilityOf(ft domain.FacilityType, ordinal int) string {
	ids := g.facilities[ft]
	return ids[ordinal%len(ids)]
}

// rebuildPlan remembers the indexes and foreign keys dropped for a load.
type rebuildPlan struct {
	indexes []string // CREATE INDEX statements
	fks     []string // ALTER TABLE … ADD CONSTRAINT statements
}

var loadTables = []string{"cases", "case_history", "deadlines"}

// dropForLoad drops the loaded tables' indexes that back no constraint, and their foreign keys,
// remembering how to recreate them. Reading them from the catalog keeps this right when later
// migrations add indexes.
func dropForLoad(ctx context.Context, tx pgx.Tx) (*rebuildPlan, error) {
	p := &rebuildPlan{}
	rows, err := tx.Query(ctx, `SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
		FROM pg_index i
		WHERE i.indrelid = ANY ($1::regclass[])
		  AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
		ORDER BY 1`, loadTables)
	if err != nil {
		return nil, fmt.Errorf("generate: list indexes: %w", err)
	}
	var names []string
	for rows.Next() {
		var name, def string
		if err := rows.Scan(&name, &def); err != nil {
			return nil, err
		}
		names = append(names, name)
		p.indexes = append(p.indexes, def)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows, err = tx.Query(ctx, `SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid)
		FROM pg_constraint WHERE contype = 'f' AND conrelid = ANY ($1::regclass[]) ORDER BY 1, 2`, loadTables)
	if err != nil {
		return nil, fmt.Errorf("generate: list foreign keys: %w", err)
	}
	var drops []string
	for rows.Next() {
		var table, name, def string
		if err := rows.Scan(&table, &name, &def); err != nil {
			return nil, err
		}
		drops = append(drops, fmt.Sprintf("ALTER TABLE %s DROP CONSTRAINT %s", table, pgx.Identifier{name}.Sanitize()))
		p.fks = append(p.fks, fmt.Sprintf("ALTER TABLE %s ADD CONSTRAINT %s %s", table, pgx.Identifier{name}.Sanitize(), def))
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for _, d := range drops {
		if _, err := tx.Exec(ctx, d); err != nil {
			return nil, fmt.Errorf("generate: %s: %w", d, err)
		}
	}
	for _, name := range names {
		if _, err := tx.Exec(ctx, "DROP INDEX "+name); err != nil {
			return nil, fmt.Errorf("generate: drop index %s: %w", name, err)
		}
	}
	return p, nil
}

func (p *rebuildPlan) restore(ctx context.Context, tx pgx.Tx, progress func(string, ...any)) error {
	// Index builds sort in memory when they can.
	if _, err := tx.Exec(ctx, "SET LOCAL maintenance_work_mem = '512MB'"); err != nil {
		return err
	}
	for _, stmt := range append(slices.Clone(p.indexes), p.fks...) {
		t := time.Now()
		if _, err := tx.Exec(ctx, stmt); err != nil {
			return fmt.Errorf("generate: %s: %w", stmt, err)
		}
		progress("  %s (%s)", stmt, time.Since(t).Round(time.Millisecond))
	}
	return nil
}

// nameLoad fills the name search tables (migration 00006) of a big load in two statements after
// it, with their primary keys built afterwards, rather than by the insert trigger per batch.
type nameLoad struct{ after int64 }

func deferNames(ctx context.Context, tx pgx.Tx) (*nameLoad, error) {
	n := &nameLoad{}
	if err := tx.QueryRow(ctx, "SELECT coalesce(max(seq), 0) FROM cases").Scan(&n.after); err != nil {
		return nil, fmt.Errorf("generate: %w", err)
	}
	for _, stmt := range []string{
		"ALTER TABLE cases DISABLE TRIGGER cases_names_insert",
		"ALTER TABLE case_names DROP CONSTRAINT case_names_pkey",
		"ALTER TABLE case_name_keys DROP CONSTRAINT case_name_keys_pkey",
	} {
		if _, err := tx.Exec(ctx, stmt); err != nil {
			return nil, fmt.Errorf("generate: %s: %w", stmt, err)
		}
	}
	return n, nil
}

func (n *nameLoad) fill(ctx context.Context, tx pgx.Tx) error {
	for _, stmt := range []string{
		"INSERT INTO case_names (seq, name) SELECT seq, case_name_norm(applicant_name) FROM cases WHERE seq > $1",
		// case_name_keys(name) from the names just normalized: three times faster than calling it
		`INSERT INTO case_name_keys (key, seq) SELECT array_to_string(s.w[i:], ' '), s.seq
			FROM (SELECT seq, string_to_array(name, ' ') AS w FROM case_names WHERE seq > $1) s, generate_subscripts(s.w, 1) AS i`,
		"SET LOCAL maintenance_work_mem = '512MB'",
		"ALTER TABLE case_names ADD CONSTRAINT case_names_pkey PRIMARY KEY (seq)",
		"ALTER TABLE case_name_keys ADD CONSTRAINT case_name_keys_pkey PRIMARY KEY (key, seq)",
		"ALTER TABLE cases ENABLE TRIGGER cases_names_insert",
	} {
		var args []any
		if strings.Contains(stmt, "$1") {
			args = append(args, n.after)
		}
		if _, err := tx.Exec(ctx, stmt, args...); err != nil {
			return fmt.Errorf("generate: %s: %w", stmt, err)
		}
	}
	return nil
}

var (
	caseColumns = []string{"id", "number", "state", "version", "channel", "facility_type", "applicant_name", "legal_capacity",
		"applicant", "personal", "contacts", "health_org_id", "guardianship_id", "facility_id", "voucher_facility_id",
		"voucher_valid_until", "leave_return_by", "ippsu_number", "ippsu_date", "assignee_id", "filed_by_agency_id", "checklist", "access_code_hash",
		"next_due_at", "state_entered_at", "created_at", "updated_at", "timeline"}
	historyColumns  = []string{"case_id", "version", "event", "from_state", "to_state", "actor_id", "actor_name", "actor_role", "comment", "payload", "at"}
	deadlineColumns = []string{"case_id", "kind", "ref", "opened_at", "due_on", "due_at", "state"}
)

// genBatch is a run of consecutive cases encoded for COPY.
type genBatch struct {
	cases, history, deadlines   []byte
	nCases, nHistory, nDeadline int
	states                      map[domain.State]int
	err                         error
}

const genBatchSize = 5000

func copySQL(table string, columns []string) string {
	return fmt.Sprintf("COPY %s (%s) FROM STDIN (FORMAT binary)", table, strings.Join(columns, ", "))
}

// load builds the cases in parallel batches and copies them in creation order over the one
// connection of the transaction.
func (g *generator) load(ctx context.Context, tx pgx.Tx, res *GenerateResult) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	nb := (len(g.plans) + genBatchSize - 1) / genBatchSize
	workers := runtime.GOMAXPROCS(0)
	// Slots keep the batches in order while workers build them ahead of the copy.
	slots := make(chan chan *genBatch, workers*2)
	go func() {
		defer close(slots)
		sem := make(chan struct{}, workers)
		for b := 0; b < nb; b++ {
			out := make(chan *genBatch, 1)
			select {
			case slots <- out:
			case <-ctx.Done():
				return
			}
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				return
			}
			go func() {
				defer func() { <-sem }()
				lo, hi := b*genBatchSize, min((b+1)*genBatchSize, len(g.plans))
				out <- g.build(g.plans[lo:hi])
			}()
		}
	}()
	pg := tx.Conn().PgConn()
	copyCases, copyHistory, copyDeadlines := copySQL("cases", caseColumns), copySQL("case_history", historyColumns), copySQL("deadlines", deadlineColumns)
	done := 0
	var waited, copying time.Duration
	defer func() {
		g.opt.Progress("  waited %s for batches, copied for %s", waited.Round(time.Millisecond), copying.Round(time.Millisecond))
	}()
	for out := range slots {
		var b *genBatch
		t := time.Now()
		select {
		case b = <-out:
		case <-ctx.Done():
			return ctx.Err()
		}
		waited += time.Since(t)
		if b.err != nil {
			return b.err
		}
		t = time.Now()
		for _, c := range []struct {
			sql  string
			data []byte
			n    int
		}{{copyCases, b.cases, b.nCases}, {copyHistory, b.history, b.nHistory}, {copyDeadlines, b.deadlines, b.nDeadline}} {
			tag, err := pg.CopyFrom(ctx, bytes.NewReader(c.data), c.sql)
			if err != nil {
				return fmt.Errorf("generate: %s: %w", c.sql, err)
			}
			if tag.RowsAffected() != int64(c.n) {
				return fmt.Errorf("generate: %s copied %d rows of %d", c.sql, tag.RowsAffected(), c.n)
			}
		}
		copying += time.Since(t)
		res.Cases += b.nCases
		res.History += b.nHistory
		res.Deadlines += b.nDeadline
		for st, n := range b.states {
			res.States[st] += n
		}
		done++
		if done%40 == 0 {
			g.opt.Progress("  %d cases copied", res.Cases)
		}
	}
	if res.Cases != len(g.plans) {
		return fmt.Errorf("generate: copied %d of %d cases", res.Cases, len(g.plans))
	}
	return nil
}

// build encodes the rows of a run of cases, using the store's own row mapping so that
// generated rows read back exactly like saved ones.
func (g *generator) build(plans []casePlan) *genBatch {
	b := &genBatch{states: map[domain.State]int{}}
	cb, hb, db := newCopyBuffer(len(plans)*2400), newCopyBuffer(len(plans)*2400), newCopyBuffer(len(plans)*100)
	fail := func(err error) *genBatch { b.err = err; return b }
	for i := range plans {
		gc, err := g.generate(&plans[i])
		if err != nil {
			return fail(err)
		}
		c := gc.c
		r := g.cases.toRow(c)
		cb.row(len(caseColumns))
		if err := cb.uuid(r.ID); err != nil {
			return fail(err)
		}
		cb.text(r.Number)
		cb.text(r.State)
		cb.int4(r.Version)
		cb.text(r.Channel)
		cb.text(r.FacilityType)
		cb.text(r.ApplicantName)
		cb.text(r.LegalCapacity)
		cb.jsonb(r.Applicant)
		cb.bytea(r.Personal)
		cb.jsonb(r.Contacts)
		for _, id := range []*string{r.HealthOrgID, r.GuardianshipID, r.FacilityID, r.VoucherFacilityID} {
			if err := cb.nullUUID(id); err != nil {
				return fail(err)
			}
		}
		cb.nullDate(r.VoucherValidUntil)
		cb.nullDate(r.LeaveReturnBy)
		cb.nullText(r.IPPSUNumber)
		cb.nullDate(r.IPPSUDate)
		if err := cb.nullUUID(r.AssigneeID); err != nil {
			return fail(err)
		}
		if err := cb.nullUUID(r.FiledByAgencyID); err != nil {
			return fail(err)
		}
		cb.jsonb(r.Checklist)
		cb.text(r.AccessCodeHash)
		cb.nullTimestamptz(r.NextDueAt)
		cb.timestamptz(r.StateEnteredAt)
		cb.timestamptz(r.CreatedAt)
		cb.timestamptz(r.UpdatedAt)
		cb.text(TimelineOf(gc.history))
		b.nCases++
		for _, h := range gc.history {
			r := historyToRow(c.ID, h)
			hb.row(len(historyColumns))
			if err := hb.uuid(r.CaseID); err != nil {
				return fail(err)
			}
			hb.int4(r.Version)
			hb.text(r.Event)
			hb.text(r.FromState)
			hb.text(r.ToState)
			hb.text(r.ActorID)
			hb.text(r.ActorName)
			hb.text(r.ActorRole)
			hb.text(r.Comment)
			hb.jsonb(r.Payload)
			hb.timestamptz(r.At)
			b.nHistory++
		}
		for _, d := range c.Deadlines {
			r := deadlineToRow(c.ID, d)
			db.row(len(deadlineColumns))
			if err := db.uuid(r.CaseID); err != nil {
				return fail(err)
			}
			db.text(r.Kind)
			db.text(r.Ref)
			db.timestamptz(r.OpenedAt)
			db.date(r.DueOn)
			db.timestamptz(r.DueAt)
			db.text(r.State)
			b.nDeadline++
		}
		b.states[c.State]++
	}
	b.cases, b.history, b.deadlines = cb.finish(), hb.finish(), db.finish()
	return b
}

type generatedCase struct {
	c       *domain.Case
	history []domain.HistoryEntry
}

var (
	genSurnames = []string{"Иванов", "Смирнов", "Кузнецов", "Попов", "Васильев", "Петров", "Соколов", "Михайлов", "Новиков",
		"Фёдоров", "Морозов", "Волков", "Алексеев", "Лебедев", "Семёнов", "Егоров", "Павлов", "Козлов", "Степанов", "Николаев",
		"Орлов", "Андреев", "Макаров", "Никитин", "Захаров", "Зайцев", "Соловьёв", "Борисов", "Яковлев", "Григорьев", "Романов",
		"Воробьёв", "Сергеев", "Кузьмин", "Фролов", "Александров", "Дмитриев", "Королёв", "Гусев", "Киселёв", "Ильин", "Максимов",
		"Поляков", "Сорокин", "Виноградов", "Ковалёв", "Белов", "Медведев", "Антонов", "Тарасов", "Жуков", "Баранов", "Филиппов",
		"Комаров", "Давыдов", "Беляев", "Герасимов", "Богданов", "Осипов", "Сидоров", "Матвеев", "Титов", "Марков", "Миронов",
		"Крылов", "Куликов", "Карпов", "Власов", "Мельников", "Денисов", "Гаврилов", "Тихонов", "Казаков", "Афанасьев", "Данилов",
		"Савельев", "Тимофеев", "Фомин", "Чернов", "Абрамов", "Мартынов", "Ефимов", "Федотов", "Щербаков", "Назаров", "Калинин",
		"Исаев", "Чернышёв", "Быков", "Маслов", "Родионов", "Коновалов", "Лазарев", "Воронин", "Климов", "Филатов", "Пономарёв",
		"Голубев", "Кудрявцев", "Прохоров", "Наумов", "Потапов", "Журавлёв", "Овчинников", "Трофимов", "Леонов", "Соболев",
		"Ермаков", "Колесников", "Гончаров", "Емельянов", "Никифоров", "Грачёв", "Котов", "Гришин", "Ефремов", "Архипов",
		"Громов", "Кириллов", "Малышев", "Панов", "Моисеев", "Румянцев", "Акимов", "Кондратьев", "Бирюков", "Горбунов",
		"Анисимов", "Ерёмин", "Тихомиров", "Галкин", "Лукьянов", "Михеев", "Скворцов", "Юдин", "Белоусов", "Нестеров",
		"Симонов", "Прокофьев", "Харитонов", "Князев", "Цветков", "Левин", "Митрофанов", "Воронов", "Аксёнов", "Софронов",
		"Мальцев", "Логинов", "Горшков", "Савин", "Краснов", "Майоров", "Демидов", "Елисеев", "Рыбаков", "Сафонов"}
	genMaleNames = []string{"Александр", "Алексей", "Анатолий", "Андрей", "Борис", "Валентин", "Валерий", "Василий", "Виктор",
		"Владимир", "Вячеслав", "Геннадий", "Георгий", "Григорий", "Дмитрий", "Евгений", "Иван", "Игорь", "Леонид", "Михаил",
		"Николай", "Олег", "Павел", "Пётр", "Сергей", "Станислав", "Юрий", "Яков"}
	genFemaleNames = []string{"Александра", "Алла", "Анна", "Антонина", "Валентина", "Вера", "Галина", "Евгения", "Екатерина",
		"Елена", "Зинаида", "Зоя", "Клавдия", "Лариса", "Лидия", "Любовь", "Людмила", "Маргарита", "Мария", "Надежда", "Наталья",
		"Нина", "Ольга", "Раиса", "Светлана", "Тамара", "Татьяна", "Эльвира"}
	// father's names: male patronymic, female patronymic
	genPatronymics = [][2]string{{"Александрович", "Александровна"}, {"Алексеевич", "Алексеевна"}, {"Андреевич", "Андреевна"},
		{"Борисович", "Борисовна"}, {"Васильевич", "Васильевна"}, {"Викторович", "Викторовна"}, {"Владимирович", "Владимировна"},
		{"Георгиевич", "Георгиевна"}, {"Григорьевич", "Григорьевна"}, {"Дмитриевич", "Дмитриевна"}, {"Евгеньевич", "Евгеньевна"},
		{"Иванович", "Ивановна"}, {"Ильич", "Ильинична"}, {"Константинович", "Константиновна"}, {"Леонидович", "Леонидовна"},
		{"Михайлович", "Михайловна"}, {"Николаевич", "Николаевна"}, {"Павлович", "Павловна"}, {"Петрович", "Петровна"},
		{"Семёнович", "Семёновна"}, {"Сергеевич", "Сергеевна"}, {"Степанович", "Степановна"}, {"Фёдорович", "Фёдоровна"},
		{"Яковлевич", "Яковлевна"}}
	genStreets = []string{"ул. Менжинского", "Ярославское ш.", "ул. Бориса Галушкина", "Профсоюзная ул.", "ул. Лобачевского",
		"Каширское ш.", "ул. Вавилова", "Ленинский пр-т", "ул. Удальцова", "Щёлковское ш.", "ул. Молодцова", "Рязанский пр-т",
		"ул. Кржижановского", "Волгоградский пр-т", "ул. Народного Ополчения", "Дмитровское ш.", "ул. Фабрициуса", "Алтуфьевское ш."}
	genRelations = []string{"son", "daughter", "niece", "nephew", "grandson", "granddaughter", "sister", "brother", "neighbour"}
	genComments  = []string{"", "", "", "по телефону", "по заявлению родственников", "документы переданы курьером", "согласовано с руководителем"}
)

func pick[T any](r *mrand.Rand, xs []T) T { return xs[r.IntN(len(xs))] }

func femaleSurname(s string) string {
	switch {
	case strings.HasSuffix(s, "ий"):
		return strings.TrimSuffix(s, "ий") + "ая"
	case strings.HasSuffix(s, "ых"), strings.HasSuffix(s, "ко"), strings.HasSuffix(s, "ук"), strings.HasSuffix(s, "ич"):
		return s
	default:
		return s + "а"
	}
}

// Surnames have a long tail: a few are very common, most are rare. The common ones come from
// genSurnames (the first ones most often); the tail is composed from syllables.
var (
	genOnsets = []string{"Б", "В", "Г", "Д", "Ж", "З", "К", "Л", "М", "Н", "П", "Р", "С", "Т", "Ф", "Х", "Ч", "Ш",
		"Бр", "Гр", "Кр", "Пр", "Тр", "Ст", "Сл", "См", "Шм", "Дв"}
	genVowels = []string{"а", "о", "у", "е", "и", "ы", "я"}
	genCodas  = []string{"л", "н", "р", "в", "к", "т", "ш", "д", "с", "м", "ч", "г", "б", "з", "ст", "рт"}
	genEnds   = []string{"ов", "ев", "ин", "ышев", "ков", "ников", "енков", "ский", "цкий", "ых", "енко", "ук", "ович", "анов"}
)

func surname(r *mrand.Rand) string {
	if r.Float64() < 0.4 {
		u := r.Float64()
		return genSurnames[int(u*u*float64(len(genSurnames)))]
	}
	return pick(r, genOnsets) + pick(r, genVowels) + pick(r, genCodas) + pick(r, genEnds)
}

// snilsOf makes a SNILS with a valid checksum from a number above the checksum-free range.
func snilsOf(n uint64) string { return domain.MakeSNILS(int(2000000 + n%997000000)) }

func phone(r *mrand.Rand) string {
	return fmt.Sprintf("+7 9%02d %03d-%02d-%02d", 10+r.IntN(90), r.IntN(1000), r.IntN(100), r.IntN(100))
}

// caseID is a UUIDv7 of the creation time: ids then grow with the sequence, which keeps the
// primary key and history indexes append-mostly during the load.
func caseID(created time.Time) string {
	var u uuid.UUID
	_, _ = rand.Read(u[6:])
	ms := uint64(created.UnixMilli())
	binary.BigEndian.PutUint16(u[4:6], uint16(ms))
	binary.BigEndian.PutUint32(u[0:4], uint32(ms>>16))
	u[6] = 0x70 | (u[6] & 0x0F)
	u[8] = 0x80 | (u[8] & 0x3F)
	return u.String()
}

// generate builds one case from its plan: the facts, then the path step by step with its
// effects, history line and deadlines, then the documents its state implies.
func (g *generator) generate(p *casePlan) (*generatedCase, error) {
	rt, r := g.route(p.index)
	created := rt.created
	settings, cal := g.opt.Settings, g.opt.Calendar
	female := r.Float64() < 0.66
	family := surname(r)
	pat := pick(r, genPatronymics)
	name := family + " " + pick(r, genMaleNames) + " " + pat[0]
	gender := "male"
	if female {
		name = femaleSurname(family) + " " + pick(r, genFemaleNames) + " " + pat[1]
		gender = "female"
	}
	birthFrom, birthSpan := 1925, 40
	if rt.facilityType == domain.Psychoneurological {
		birthFrom, birthSpan = 1945, 55
	}
	capacity := domain.Capable
	switch x := r.Float64(); {
	case rt.facilityType == domain.Psychoneurological && x < 0.55:
		capacity = domain.Incapacitated
	case rt.facilityType == domain.Psychoneurological && x < 0.65, x < 0.03:
		capacity = domain.Limited
	case x < 0.07:
		capacity = domain.Incapacitated
	}
	disability := []string{"none", "none", "none", "1", "1", "2", "2", "2", "3", "3"}[r.IntN(10)]
	channel := domain.ChannelMFC
	switch x := r.Float64(); {
	case x < 0.15:
		channel = domain.ChannelHotline
	case x < 0.35:
		channel = domain.ChannelOnline
	case x < 0.40:
		channel = domain.ChannelPostOffice
	case x < 0.45:
		channel = domain.ChannelOutreach
	}
	district := r.IntN(len(genDistricts))
	c := &domain.Case{
		ID: caseID(created), Number: domain.CaseNumber(created.In(domain.Moscow).Year(), int(p.number)),
		State: domain.Intake, Version: 1, Channel: channel, FacilityType: rt.facilityType,
		Applicant: domain.Applicant{FullName: name,
			BirthDate: domain.NewDate(birthFrom+r.IntN(birthSpan), time.Month(1+r.IntN(12)), 1+r.IntN(28)), Gender: gender,
			SNILS: snilsOf(r.Uint64()), Passport: fmt.Sprintf("45 %02d %06d", r.IntN(100), r.IntN(1000000)),
			Address:       fmt.Sprintf("Москва, %s, д. %d, кв. %d", pick(r, genStreets), 1+r.IntN(120), 1+r.IntN(300)),
			LegalCapacity: capacity, DisabilityGroup: disability},
		HealthOrgID:    g.health[district],
		StateEnteredAt: created, CreatedAt: created, UpdatedAt: created,
	}
	nContacts := 1 + r.IntN(2)
	if r.Float64() < 0.1 {
		nContacts = 0 // lonely people found by outreach
	}
	for k := 0; k < nContacts; k++ {
		rel := pick(r, genRelations)
		ct := domain.Contact{Name: surname(r) + " " + pick(r, genMaleNames), Relation: rel, Phone: phone(r),
			ConsentToNotices: r.Float64() < 0.85, PreferredChannel: "sms"}
		if strings.HasSuffix(rel, "ter") || rel == "niece" || rel == "sister" {
			ct.Name = femaleSurname(surname(r)) + " " + pick(r, genFemaleNames)
		}
		if r.Float64() < 0.4 {
			ct.Email = fmt.Sprintf("relative%d@example.org", r.IntN(10000000))
			if r.Float64() < 0.3 {
				ct.PreferredChannel = "email"
			}
		}
		if k == 0 && capacity != domain.Capable {
			ct.LegalRepresentative = true
			ct.Relation = "guardian"
		}
		c.Contacts = append(c.Contacts, ct)
	}
	if c.Contacts == nil {
		c.Contacts = []domain.Contact{}
	}
	if capacity == domain.Incapacitated {
		c.GuardianshipID = g.guardianship[district]
	}
	specialist := g.specialists[r.IntN(len(g.specialists))]
	if r.Float64() < 0.92 {
		c.AssigneeID = specialist.id
	}
	c.AccessCodeHash = domain.HashAccessCode(c.ID, GeneratedAccessCode(c.Number))
	c.Checklist = domain.BuildChecklist(c)

	registrar := domain.Actor{ID: specialist.id, Name: specialist.name, Kind: "user", Role: "specialist"}
	if channel == domain.ChannelMFC {
		// The service center filed it: it is a party to the case (domain.PartyTo).
		registrar = domain.Actor{ID: g.mfc[district], Name: "МФЦ района " + genDistricts[district], Kind: "agency", Role: "mfc"}
		c.FiledByAgencyID = registrar.ID
	}
	gc := &generatedCase{c: c, history: make([]domain.HistoryEntry, 0, len(rt.steps)+1)}
	gc.history = append(gc.history, domain.HistoryEntry{Version: 1, Event: "register", To: domain.Intake, ActorID: registrar.ID,
		ActorName: registrar.Name, ActorRole: registrar.Role, At: created, Payload: map[string]any{"channel": channel}})

	actor := domain.Actor{ID: specialist.id, Name: specialist.name, Kind: "user", Role: "specialist"}
	// Homes: the beds counted by plan are the ordinals bed (and bed+1 for a move under way);
	// each admission's home is an ordinal next to the following one, so that consecutive homes
	// differ. Cases holding no bed at the end get homes anywhere.
	admits := 0
	for _, s := range rt.steps {
		if s.event == domain.Admit {
			admits++
		}
	}
	last := int(p.bed)
	switch {
	case p.bed < 0:
		last = r.IntN(1 << 20)
	case rt.beds == 2:
		last = int(p.bed) + 1
	}
	admitHome := func(j int) string { return g.facilityOf(c.FacilityType, last+admits-1-j) }
	admitted := 0
	docsRecorded := false
	for k, s := range rt.steps {
		from := c.State
		to := dest(from, s)
		def, _ := domain.LookupEvent(s.event)
		if !slices.Contains(def.Sources, from) {
			return nil, fmt.Errorf("generate: case %s: %s is not allowed from %s", c.Number, s.event, from)
		}
		now := s.at
		today := domain.DateOf(now)
		payload := map[string]any{}
		who := actor
		comment := pick(r, genComments)
		switch s.event {
		case domain.SubmitForReview:
			if !docsRecorded {
				g.receiveAll(r, c, now)
				docsRecorded = true
			}
		case domain.ReturnForDocuments, domain.Reject:
			payload["reason"] = map[domain.EventName]string{
				domain.ReturnForDocuments: "медицинская карта оформлена не полностью",
				domain.Reject:             "нет оснований для признания нуждающимся"}[s.event]
		case domain.RecognizeNeed:
			d := today.AddDays(-r.IntN(3))
			c.IPPSU = &domain.IPPSU{Number: fmt.Sprintf("ИППСУ-%d-%07d", d.Year(), r.IntN(10000000)), Date: d}
			payload["ippsu_number"], payload["ippsu_date"] = c.IPPSU.Number, c.IPPSU.Date.String()
		case domain.IssueVoucher:
			// A voucher needs medical documents that will still be valid on admission.
			valid := today.AddDays(settings.VoucherValidDays)
			g.refreshMedical(r, c, now, valid)
			var f string
			switch {
			case k+1 < len(rt.steps) && rt.steps[k+1].event == domain.CancelVoucher:
				f = g.facilityOf(c.FacilityType, r.IntN(1<<20)) // it will lapse: any home of the type
			case admitted < admits:
				f = admitHome(admitted)
			case p.bed >= 0: // the voucher still pending, holding its bed
				f = g.facilityOf(c.FacilityType, int(p.bed))
			default: // a voucher given back when the case was withdrawn
				f = g.facilityOf(c.FacilityType, r.IntN(1<<20))
			}
			c.VoucherFacilityID, c.VoucherValidUntil = f, &valid
			payload["facility_id"], payload["valid_until"] = f, valid.String()
		case domain.SignContract:
			payload["contract_number"], payload["signed_on"] = fmt.Sprintf("Д-%d-%06d", today.Year(), r.IntN(1000000)), today.String()
			payload["facility_id"] = c.VoucherFacilityID
		case domain.ReviewIPPSU:
			payload["previous_ippsu_number"], payload["previous_ippsu_date"] = c.IPPSU.Number, c.IPPSU.Date.String()
			c.IPPSU = &domain.IPPSU{Number: fmt.Sprintf("ИППСУ-%d-%07d", today.Year(), r.IntN(10000000)), Date: today}
			payload["ippsu_number"], payload["ippsu_date"] = c.IPPSU.Number, c.IPPSU.Date.String()
		case domain.CancelVoucher:
			payload["released_facility_id"] = c.VoucherFacilityID
			c.VoucherFacilityID, c.VoucherValidUntil = "", nil
			if s.system {
				who, comment = domain.System, "путёвка не использована в срок"
			}
		case domain.Admit:
			if c.FacilityID != "" {
				payload["previous_facility_id"] = c.FacilityID
			}
			c.FacilityID, c.VoucherFacilityID, c.VoucherValidUntil = c.VoucherFacilityID, "", nil
			admitted++
			payload["facility_id"], payload["admitted_on"] = c.FacilityID, today.String()
		case domain.StartLeave:
			ret := today.AddDays(3 + r.IntN(settings.MaxLeaveDays-2))
			if k == len(rt.steps)-1 { // still on leave: the planned return is not before now, mostly
				ret = domain.DateOf(g.opt.Now).AddDays(r.IntN(settings.MaxLeaveDays / 2))
				if r.Float64() < 0.1 {
					ret = domain.DateOf(g.opt.Now).AddDays(-1 - r.IntN(5)) // late back
				}
				if ret.After(today.AddDays(settings.MaxLeaveDays)) {
					ret = today.AddDays(settings.MaxLeaveDays)
				}
				if !ret.After(today) {
					ret = today.AddDays(1)
				}
			}
			c.LeaveReturnBy = &ret
			payload["return_by"] = ret.String()
		case domain.EndLeave, domain.Hospitalize:
			c.LeaveReturnBy = nil
		case domain.Discharge:
			payload["reason"] = pick(r, []string{"по личному заявлению", "переезд к родственникам", "перевод в медицинскую организацию"})
			payload["released_facility_id"] = c.FacilityID
		case domain.RecordDeath:
			payload["date_of_death"] = today.String()
			payload["released_facility_id"] = c.FacilityID
		case domain.Withdraw:
			if from == domain.CollectingDocuments {
				g.receiveSome(r, c, c.StateEnteredAt, now)
			}
			if c.VoucherFacilityID != "" {
				payload["released_facility_id"] = c.VoucherFacilityID
				c.VoucherFacilityID, c.VoucherValidUntil = "", nil
			}
			comment = "заявление отозвано заявителем"
		}
		if to != from {
			c.StateEnteredAt = now
		}
		c.State, c.UpdatedAt = to, now
		c.Version++
		keep, opened, _ := domain.DeadlinesAfter(settings, cal, c, s.event, from, to, now)
		c.Deadlines = append(keep, opened...)
		gc.history = append(gc.history, domain.HistoryEntry{Version: c.Version, Event: string(s.event), From: from, To: to,
			ActorID: who.ID, ActorName: who.Name, ActorRole: who.Role, Comment: comment, Payload: payload, At: now})
	}
	if c.State == domain.CollectingDocuments {
		g.receiveSome(r, c, c.StateEnteredAt, g.opt.Now)
	}
	if got := c.State; got != p.state {
		return nil, fmt.Errorf("generate: case %s ended in %s, planned %s", c.Number, got, p.state)
	}
	return gc, nil
}

// receiveAll records every required document as received before a submission for review;
// medical ones issued within the last two months, so valid at submission.
func (g *generator) receiveAll(r *mrand.Rand, c *domain.Case, at time.Time) {
	for i := range c.Checklist {
		d := &c.Checklist[i]
		if !d.Required {
			continue
		}
		issued := domain.DateOf(at.Add(-between(r, day, 60*day)))
		g.receive(c, d, issued, at)
	}
}

// receiveSome records part of the documents while they are being collected, between two times.
func (g *generator) receiveSome(r *mrand.Rand, c *domain.Case, from, until time.Time) {
	for i := range c.Checklist {
		d := &c.Checklist[i]
		switch x := r.Float64(); {
		case x < 0.45:
			at := from.Add(between(r, 0, until.Sub(from)))
			g.receive(c, d, domain.DateOf(at.Add(-between(r, 0, 30*day))), at)
		case x < 0.8:
			d.Status = domain.DocRequested
		}
	}
}

// refreshMedical re-records expiring documents that would lapse before the given day.
func (g *generator) refreshMedical(r *mrand.Rand, c *domain.Case, at time.Time, until domain.Date) {
	for i := range c.Checklist {
		d := &c.Checklist[i]
		if _, expires := g.opt.Settings.Validity[d.Type]; !expires || d.ValidUntil == nil || !d.ValidUntil.Before(until) {
			continue
		}
		issued := domain.DateOf(at.Add(-between(r, day, 20*day)))
		g.receive(c, d, issued, at.Add(-time.Hour))
	}
}

func (g *generator) setReceived(d *domain.Document, issued domain.Date) {
	d.Status, d.IssuedOn, d.ValidUntil = domain.DocReceived, &issued, nil
	if months, ok := g.opt.Settings.Validity[d.Type]; ok {
		v := issued.AddMonths(months)
		d.ValidUntil = &v
	}
}

// receive records a document as RecordDocument does: an expiring one recorded before admission
// (re)opens its expiry deadline.
func (g *generator) receive(c *domain.Case, d *domain.Document, issued domain.Date, at time.Time) {
	g.setReceived(d, issued)
	keep := c.Deadlines[:0:0]
	for _, dl := range c.Deadlines {
		if dl.Kind == domain.DeadlineDocumentExpiry && dl.Ref == string(d.Type) {
			continue
		}
		keep = append(keep, dl)
	}
	c.Deadlines = keep
	if d.ValidUntil != nil && domain.ExpiringInPreAdmission(c.State) {
		c.Deadlines = append(c.Deadlines, domain.DocumentExpiryDeadline(d.Type, *d.ValidUntil, at))
	}
}
