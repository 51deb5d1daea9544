// Package generate is the bulk data generator behind `carepath seed --cases N`: a tool, not
// storage. It plans realistic cases (which states, which events on which days, drawn from a
// seed), lets the domain's own rules compute their deadlines and checklists, and hands the
// rows to the store's BulkLoader, which encodes and copies them.
package generate

import (
	"cmp"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"runtime"
	"runtime/debug"
	"slices"
	"sync"
	"time"

	"carepath/domain"
	"carepath/store"
)

// Options tune a generator run.
type Options struct {
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

// Result is what a generator run added.
type Result struct {
	Cases, History, Deadlines, Facilities int
	States                                map[domain.State]int
	// RebuiltIndexes tells whether secondary indexes and foreign keys were dropped for the load
	// and rebuilt after it (done when the load is at least as big as what is there).
	RebuiltIndexes bool
	Elapsed        time.Duration
}

// AccessCode is the relatives' access code of a generated case. Generated data is for
// benchmarks and demos, so its codes are derived from the case number on purpose: a benchmark
// of the relatives' lookup can compute them. Never generate cases into a production database.
func AccessCode(number string) string {
	sum := sha256.Sum256([]byte("carepath generated case " + number))
	return domain.AccessCodeFrom(sum[:])
}

// generator holds one run's reference data and the case plans.
type generator struct {
	opt       Options
	load      *store.BulkLoader
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

// Run adds opt.Cases realistic cases in bulk, in one transaction: agencies, specialists and
// enough boarding houses, then cases spread over every state with their history (one line per
// version, the path a case really takes through the lifecycle), checklists and open deadlines
// computed by the domain's rules, case numbers continuing the yearly counters, personal data
// sealed with the store's key. The store's BulkLoader locks the tables meanwhile: run it on a
// database without traffic.
func Run(ctx context.Context, cases *store.Cases, opt Options) (Result, error) {
	start := time.Now()
	res := Result{States: map[domain.State]int{}}
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
	g := &generator{opt: opt, facilities: map[domain.FacilityType][]string{}, holders: map[domain.FacilityType]int{}}
	for _, w := range generatedStateWeights {
		g.weightSum += w.weight
	}
	g.plan()
	opt.Progress("planned %d cases in %s", opt.Cases, time.Since(start).Round(time.Millisecond))

	load, err := cases.BulkLoad(ctx, opt.Cases, opt.Progress)
	if err != nil {
		return res, err
	}
	defer load.Close(ctx)
	g.load = load
	res.RebuiltIndexes = load.RebuildsIndexes()
	if err := g.number(ctx); err != nil {
		return res, err
	}
	if err := g.reference(ctx); err != nil {
		return res, err
	}
	for _, ids := range g.facilities {
		res.Facilities += len(ids)
	}
	// The batches in flight are short-lived garbage; collecting less often saves a good part
	// of the CPU the load shares with Postgres.
	defer debug.SetGCPercent(debug.SetGCPercent(400))
	loadStart := time.Now()
	if err := g.copy(ctx, &res); err != nil {
		return res, err
	}
	opt.Progress("copied %d cases, %d history lines, %d deadlines in %s", res.Cases, res.History, res.Deadlines, time.Since(loadStart).Round(time.Millisecond))
	// The end of the load (BulkLoader.Finish): the indexes rebuilt, the tables derived from the
	// cases brought up to date, the commit.
	if err := load.Finish(ctx); err != nil {
		return res, err
	}
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

// number continues the yearly case number counters with the planned cases, in creation order.
func (g *generator) number(ctx context.Context) error {
	counts := map[int]int{}
	for i := range g.plans {
		counts[g.plans[i].year()]++
	}
	last, err := g.load.ReserveCaseNumbers(ctx, counts)
	if err != nil {
		return err
	}
	for i := range g.plans {
		y := g.plans[i].year()
		last[y]++
		g.plans[i].number = uint32(last[y])
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
func (g *generator) reference(ctx context.Context) error {
	for i, d := range genDistricts {
		id, err := g.load.Agency(ctx, "health", fmt.Sprintf("ГБУЗ «Городская поликлиника № %d» (%s)", 10+i*7, d))
		if err != nil {
			return err
		}
		g.health = append(g.health, id)
		if id, err = g.load.Agency(ctx, "guardianship", "Орган опеки района "+d); err != nil {
			return err
		}
		g.guardianship = append(g.guardianship, id)
		if id, err = g.load.Agency(ctx, "mfc", "МФЦ района "+d); err != nil {
			return err
		}
		g.mfc = append(g.mfc, id)
	}
	for _, name := range genSpecialists {
		id, err := g.load.Specialist(ctx, name)
		if err != nil {
			return err
		}
		g.specialists = append(g.specialists, actorRef{id, name})
	}
	existing, err := g.load.Facilities(ctx)
	if err != nil {
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
			id, err := g.load.AddFacility(ctx, fmt.Sprintf(prefix[ft], numberFrom), ft, taken+taken/10+5, taken)
			if err != nil {
				return err
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

// batch is a run of consecutive cases encoded for the loader, and the states they end in.
type batch struct {
	rows   *store.CaseBatch
	states map[domain.State]int
	err    error
}

const batchSize = 5000

// copy builds the cases in parallel batches and hands them to the loader in creation order.
func (g *generator) copy(ctx context.Context, res *Result) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	nb := (len(g.plans) + batchSize - 1) / batchSize
	workers := runtime.GOMAXPROCS(0)
	// Slots keep the batches in order while workers build them ahead of the copy.
	slots := make(chan chan *batch, workers*2)
	go func() {
		defer close(slots)
		sem := make(chan struct{}, workers)
		for b := 0; b < nb; b++ {
			out := make(chan *batch, 1)
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
				lo, hi := b*batchSize, min((b+1)*batchSize, len(g.plans))
				out <- g.build(g.plans[lo:hi])
			}()
		}
	}()
	done := 0
	var waited, copying time.Duration
	defer func() {
		g.opt.Progress("  waited %s for batches, copied for %s", waited.Round(time.Millisecond), copying.Round(time.Millisecond))
	}()
	for out := range slots {
		var b *batch
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
		if err := g.load.Copy(ctx, b.rows); err != nil {
			return err
		}
		copying += time.Since(t)
		cases, history, deadlines := b.rows.Rows()
		res.Cases += cases
		res.History += history
		res.Deadlines += deadlines
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

// build generates a run of cases and encodes their rows.
func (g *generator) build(plans []casePlan) *batch {
	b := &batch{rows: g.load.NewBatch(len(plans)), states: map[domain.State]int{}}
	for i := range plans {
		gc, err := g.generate(&plans[i])
		if err == nil {
			err = b.rows.Add(gc.c, gc.history)
		}
		if err != nil {
			b.err = err
			return b
		}
		b.states[gc.c.State]++
	}
	return b
}
