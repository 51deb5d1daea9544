package store_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"carepath/domain"
	"carepath/store"
)

// The reference: the figures computed straight from the history and the cases, as they were
// before the daily histograms (migration 00070). The histograms must give exactly these.
var (
	refStagesSQL = `SELECT stage, count(*) AS stays,
			percentile_disc(0.5) WITHIN GROUP (ORDER BY days) AS median,
			percentile_disc(0.9) WITHIN GROUP (ORDER BY days) AS p90
		FROM (SELECT CASE
				WHEN t.from_state = 'collecting_documents' THEN 'document_collection'
				WHEN t.from_state = 'under_review' THEN 'review'
				WHEN t.from_state = 'waiting_list' THEN 'waiting'
				WHEN t.from_state = 'voucher_issued' THEN 'voucher_to_admission'
			END AS stage, (t.at AT TIME ZONE 'Europe/Moscow')::date - (p.at AT TIME ZONE 'Europe/Moscow')::date AS days
			FROM case_history t JOIN cases c ON c.id = t.case_id
			CROSS JOIN LATERAL (SELECT p.at FROM case_history p
				WHERE p.case_id = t.case_id AND p.version < t.version AND p.from_state <> p.to_state
				ORDER BY p.version DESC LIMIT 1) p
			WHERE t.at >= @from AND t.at < @to AND (@ft = '' OR c.facility_type::text = @ft)
				AND ((t.from_state = 'collecting_documents' AND t.to_state = 'under_review')
					OR (t.from_state = 'under_review' AND t.to_state IN ('waiting_list', 'rejected'))
					OR (t.from_state = 'waiting_list' AND t.to_state = 'voucher_issued')
					OR (t.from_state = 'voucher_issued' AND t.to_state = 'residing'))) s
		GROUP BY stage`

	refWaitSQL = `SELECT count(*) AS vouchers, percentile_disc(0.5) WITHIN GROUP (ORDER BY w.days) AS median
		FROM (SELECT (v.at AT TIME ZONE 'Europe/Moscow')::date - ((SELECT min(r.at) FROM case_history r
				WHERE r.case_id = v.case_id AND r.to_state = 'waiting_list' AND r.from_state <> 'waiting_list' AND r.version < v.version)
				AT TIME ZONE 'Europe/Moscow')::date AS days
			FROM case_history v JOIN cases c ON c.id = v.case_id
			WHERE v.event = 'issue_voucher' AND v.from_state = 'waiting_list' AND v.at >= @from AND v.at < @to
				AND (@ft = '' OR c.facility_type::text = @ft)) w
		WHERE w.days IS NOT NULL`

	refApplicationsSQL = `SELECT to_char(c.created_at AT TIME ZONE 'Europe/Moscow', 'YYYY-MM') AS month, c.channel::text AS channel,
			count(*) AS count
		FROM cases c WHERE c.created_at >= @from AND c.created_at < @to AND (@ft = '' OR c.facility_type::text = @ft)
		GROUP BY 1, 2 ORDER BY 1, 2`
)

// refMissedSQL is the missed deadlines' plain query: every one joined to its case.
var refMissedSQL = `SELECT c.id::text AS case_id, c.number AS case_number, d.kind::text AS kind, d.due_on, d.closed_at
		FROM deadlines d JOIN cases c ON c.id = d.case_id
		WHERE d.kind::text IN @legal AND d.state <> 'cancelled' AND d.due_on BETWEEN CAST(@dayfrom AS date) AND CAST(@dayto AS date)
			AND (@ft = '' OR c.facility_type::text = @ft)
			AND CASE WHEN d.state = 'met' THEN 'met' WHEN d.state = 'missed' OR d.due_at <= @now THEN 'missed' ELSE 'open' END = 'missed'
		ORDER BY d.due_on, c.number, d.kind LIMIT @missedmax`

// refDeadlinesSQL is the legal deadlines' plain query, every one joined to its case.
var refDeadlinesSQL = `SELECT d.kind::text AS kind, CASE WHEN d.state = 'met' THEN 'met'
			WHEN d.state = 'missed' OR d.due_at <= @now THEN 'missed' ELSE 'open' END AS outcome, count(*) AS count
		FROM deadlines d JOIN cases c ON c.id = d.case_id
		WHERE d.kind::text IN @legal AND d.state <> 'cancelled' AND d.due_on BETWEEN CAST(@dayfrom AS date) AND CAST(@dayto AS date)
			AND (@ft = '' OR c.facility_type::text = @ft)
		GROUP BY 1, 2`

// refMissed lists the missed deadlines of a query by the plain query.
func refMissed(t *testing.T, db *store.DB, q domain.StatsQuery, now time.Time) []domain.MissedDeadline {
	t.Helper()
	var rows []struct {
		CaseID, CaseNumber, Kind string
		DueOn                    time.Time
		ClosedAt                 *time.Time
	}
	if err := db.Gorm.Raw(refMissedSQL, store.StatsArgs(q, now, time.Hour)).Scan(&rows).Error; err != nil {
		t.Fatal(err)
	}
	out := []domain.MissedDeadline{}
	for _, r := range rows {
		var closed *time.Time
		if r.ClosedAt != nil {
			closed = ptrTo(r.ClosedAt.UTC())
		}
		out = append(out, domain.MissedDeadline{CaseID: r.CaseID, CaseNumber: r.CaseNumber, Kind: domain.DeadlineKind(r.Kind),
			DueOn: domain.NewDate(r.DueOn.Year(), r.DueOn.Month(), r.DueOn.Day()), ClosedAt: closed})
	}
	return out
}

// refDeadlines counts the legal deadlines of a query by the plain query, a line per kind.
func refDeadlines(t *testing.T, db *store.DB, q domain.StatsQuery, now time.Time) []domain.DeadlineShare {
	t.Helper()
	var rows []struct {
		Kind, Outcome string
		Count         int
	}
	if err := db.Gorm.Raw(refDeadlinesSQL, store.StatsArgs(q, now, time.Hour)).Scan(&rows).Error; err != nil {
		t.Fatal(err)
	}
	var out []domain.DeadlineShare
	for _, k := range domain.LegalDeadlines {
		d := domain.DeadlineShare{Kind: k}
		for _, r := range rows {
			if r.Kind == string(k) {
				*map[string]*int{"met": &d.Met, "missed": &d.Missed, "open": &d.Open}[r.Outcome] += r.Count
				d.Due += r.Count
			}
		}
		if d.Met+d.Missed > 0 {
			d.ShareMet = ptrTo(float64(d.Met) / float64(d.Met+d.Missed))
		}
		out = append(out, d)
	}
	return out
}

// reference computes the stages, the wait and the applications of a query from the history.
func reference(t *testing.T, db *store.DB, q domain.StatsQuery, now time.Time) (stages []domain.StageDays, vouchers int, median *int, apps []domain.ApplicationCount) {
	t.Helper()
	args := store.StatsArgs(q, now, time.Hour)
	var rows []struct {
		Stage       string
		Stays       int
		Median, P90 *int
	}
	var wait struct {
		Vouchers int
		Median   *int
	}
	apps = []domain.ApplicationCount{}
	for sql, dest := range map[string]any{refStagesSQL: &rows, refWaitSQL: &wait, refApplicationsSQL: &apps} {
		if err := db.Gorm.Raw(sql, args).Scan(dest).Error; err != nil {
			t.Fatal(err)
		}
	}
	for _, s := range domain.Stages {
		d := domain.StageDays{Stage: s}
		for _, r := range rows {
			if r.Stage == string(s) {
				d.Stays, d.Median, d.P90 = r.Stays, r.Median, r.P90
			}
		}
		stages = append(stages, d)
	}
	return stages, wait.Vouchers, wait.Median, apps
}

// walker walks cases through the service on chosen instants.
type walker struct {
	t     *testing.T
	f     *statsFixture
	rng   *rand.Rand
	at    time.Time
	homes map[domain.FacilityType]string
}

// later moves the clock 0-19 days and a few hours on, now and then across a Moscow midnight.
func (w *walker) later() {
	w.at = w.at.Add(time.Duration(w.rng.IntN(20))*24*time.Hour + time.Duration(w.rng.IntN(5))*time.Hour)
}

func (w *walker) chance(percent int) bool { return w.rng.IntN(100) < percent }

func (w *walker) fire(c *domain.Case, cmd domain.EventCommand) *domain.Case {
	w.t.Helper()
	w.later()
	w.f.clock = w.at
	c, err := w.f.svc.Fire(context.Background(), w.f.actor, c.ID, c.Version, cmd)
	if err != nil {
		w.t.Fatalf("%s on %s: %v", cmd.Event, w.at, err)
	}
	return c
}

// receive records every document of the checklist as received, issued today.
func (w *walker) receive(c *domain.Case) *domain.Case {
	w.t.Helper()
	w.f.clock = w.at
	issued := domain.DateOf(w.at)
	var err error
	for _, d := range c.Checklist {
		if c, err = w.f.svc.RecordDocument(context.Background(), w.f.actor, c.ID, d.Type, 0,
			domain.DocumentUpdate{Status: domain.DocReceived, IssuedOn: &issued}); err != nil {
			w.t.Fatal(err)
		}
	}
	return c
}

func (w *walker) voucherAndAdmit(c *domain.Case) *domain.Case {
	c = w.fire(c, domain.EventCommand{Event: domain.IssueVoucher, FacilityID: w.homes[c.FacilityType], SkipReason: "тест"})
	if w.chance(25) {
		c = w.fire(c, domain.EventCommand{Event: domain.CancelVoucher, Reason: "отказ"})
		c = w.fire(c, domain.EventCommand{Event: domain.IssueVoucher, FacilityID: w.homes[c.FacilityType], SkipReason: "тест"})
	}
	c = w.receive(c)
	admitted := domain.DateOf(w.at)
	return w.fire(c, domain.EventCommand{Event: domain.Admit, AdmittedOn: &admitted})
}

// walk registers a case of a random type on a random day of 2025 and takes it some way along
// the path: returns for documents, a change of the type of home before the list, refusals and
// appeals, cancelled vouchers, transfers to a home of another type.
func (w *walker) walk(i int) {
	types := domain.FacilityTypes
	w.at = time.Date(2025, time.January, 9, 9, 0, 0, 0, domain.Moscow).Add(time.Duration(w.rng.IntN(330)) * 24 * time.Hour)
	w.f.clock = w.at
	c, _, err := w.f.svc.Register(context.Background(), w.f.actor, domain.NewCase{Channel: domain.Channels[w.rng.IntN(len(domain.Channels))],
		FacilityType: types[w.rng.IntN(len(types))],
		Applicant: domain.Applicant{FullName: fmt.Sprintf("Заявитель %d", i), BirthDate: domain.MustDate("1940-01-01"), Gender: "female",
			SNILS: "112-233-445 95", Passport: "45 01 000001", Address: "Москва", LegalCapacity: domain.Capable}})
	if err != nil {
		w.t.Fatal(err)
	}
	if w.chance(8) {
		return
	}
	c = w.fire(c, domain.EventCommand{Event: domain.RequestDocuments})
	if w.chance(30) {
		other := types[(slices.Index(types, c.FacilityType)+1+w.rng.IntN(len(types)-1))%len(types)]
		w.f.clock = w.at
		if c, err = w.f.svc.EditFacts(context.Background(), w.f.actor, c.ID, c.Version, domain.FactsPatch{FacilityType: &other}); err != nil {
			w.t.Fatal(err)
		}
	}
	if w.chance(8) {
		w.fire(c, domain.EventCommand{Event: domain.Withdraw, Reason: "передумала"})
		return
	}
	for round := 0; ; round++ {
		w.later()
		c = w.receive(c)
		c = w.fire(c, domain.EventCommand{Event: domain.SubmitForReview})
		if round > 0 || !w.chance(25) {
			break
		}
		c = w.fire(c, domain.EventCommand{Event: domain.ReturnForDocuments, Reason: "не хватает справки"})
	}
	if w.chance(20) {
		c = w.fire(c, domain.EventCommand{Event: domain.Reject, Reason: "нет оснований"})
		if w.chance(50) {
			return
		}
		filed := domain.DateOf(w.at)
		c = w.fire(c, domain.EventCommand{Event: domain.Appeal, Grounds: "не учтена группа инвалидности", FiledOn: &filed})
	}
	ippsu := domain.DateOf(w.at)
	c = w.fire(c, domain.EventCommand{Event: domain.RecognizeNeed, IPPSUNumber: fmt.Sprint(i), IPPSUDate: &ippsu})
	if w.chance(15) {
		return
	}
	c = w.voucherAndAdmit(c)
	if w.chance(35) {
		other := types[(slices.Index(types, c.FacilityType)+1)%len(types)]
		c = w.fire(c, domain.EventCommand{Event: domain.RequestTransfer, FacilityType: other, Reason: "ближе к семье"})
		w.voucherAndAdmit(c)
	}
}

// TestStatsDaysEqualHistory walks cases through events and proves that every figure read from
// the daily histograms (days per stage, the wait from recognition to voucher, the applications
// by month) equals the computation straight from the history, and the legal deadlines cut by
// type of home (stats_case_types) the plain join with the cases, for many periods and every cut
// by type of home; and that the histograms the triggers kept equal the ones rebuilt from scratch.
func TestStatsDaysEqualHistory(t *testing.T) {
	f := newStatsFixture(t)
	db := f.db
	ctx := context.Background()

	w := &walker{t: t, f: f, rng: rand.New(rand.NewPCG(19, 2025)), homes: map[domain.FacilityType]string{}}
	for _, ft := range domain.FacilityTypes {
		var id string
		if err := db.Gorm.Raw(`INSERT INTO facilities (name, type, capacity, district) VALUES (?, ?, 200, 'Центральный') RETURNING id::text`,
			"Дом "+string(ft), string(ft)).Scan(&id).Error; err != nil {
			t.Fatal(err)
		}
		w.homes[ft] = id
	}
	for i := range 90 {
		w.walk(i)
	}

	now := time.Date(2026, time.June, 30, 18, 0, 0, 0, domain.Moscow)
	figures := store.NewStats(db)
	var queries []domain.StatsQuery
	add := func(from, to domain.Date) {
		for _, ft := range append([]domain.FacilityType{""}, domain.FacilityTypes...) {
			queries = append(queries, domain.StatsQuery{From: from, To: to, FacilityType: ft})
		}
	}
	add(domain.MustDate("2025-01-01"), domain.MustDate("2026-06-30"))
	for m := time.January; m <= time.December; m += 3 {
		add(domain.NewDate(2025, m, 1), domain.NewDate(2025, m+3, 1).AddDays(-1))
	}
	for range 8 {
		from := domain.MustDate("2025-01-05").AddDays(w.rng.IntN(380))
		add(from, from.AddDays(w.rng.IntN(60)))
	}
	nonEmpty := map[domain.Stage]bool{}
	for _, q := range queries {
		got, err := figures.Stats(ctx, q, now, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		stages, vouchers, median, apps := reference(t, db, q, now)
		for _, s := range got.Stages {
			if s.Stays > 0 {
				nonEmpty[s.Stage] = true
			}
		}
		type part struct {
			Stages       []domain.StageDays
			Vouchers     int
			Median       *int
			Applications []domain.ApplicationCount
			Deadlines    []domain.DeadlineShare
			Missed       []domain.MissedDeadline
		}
		gj, _ := json.Marshal(part{got.Stages, got.Waiting.Vouchers, got.Waiting.MedianWaitDays, got.Applications, got.Deadlines, got.Missed})
		wj, _ := json.Marshal(part{stages, vouchers, median, apps, refDeadlines(t, db, q, now), refMissed(t, db, q, now)})
		if string(gj) != string(wj) {
			t.Errorf("%s..%s %q: the histograms give\n%s\nthe history gives\n%s", q.From, q.To, q.FacilityType, gj, wj)
		}
	}
	if len(nonEmpty) != len(domain.Stages) {
		t.Errorf("the walks ended stays of only %v", nonEmpty)
	}

	// the histograms kept row by row equal the ones rebuilt from the history and the cases
	histograms := func() string {
		var rows []string
		if err := db.Gorm.Raw(`SELECT concat_ws(' ', 'stays', day, stage, facility_type, days, stays) FROM stats_stays WHERE stays <> 0
			UNION ALL SELECT concat_ws(' ', 'applications', day, facility_type, channel, applications) FROM stats_applications
			WHERE applications <> 0 UNION ALL SELECT concat_ws(' ', 'type', case_id, facility_type) FROM stats_case_types
			ORDER BY 1`).Scan(&rows).Error; err != nil {
			t.Fatal(err)
		}
		return fmt.Sprint(rows)
	}
	kept := histograms()
	if err := db.Gorm.Exec("SELECT stats_days_rebuild()").Error; err != nil {
		t.Fatal(err)
	}
	if rebuilt := histograms(); rebuilt != kept {
		t.Errorf("the histograms kept by the triggers differ from the ones rebuilt:\nkept    %s\nrebuilt %s", kept, rebuilt)
	}
}

// TestMissedDeadlinesFirstByDueDay pins the list of missed deadlines, which joins only the
// first ones by due day to their cases, to the plain query that joins them all, over more
// missed deadlines than the list holds and many on the same day.
func TestMissedDeadlinesFirstByDueDay(t *testing.T) {
	f := newStatsFixture(t)
	db := f.db
	var ids []string
	for i := range 7 {
		ids = append(ids, f.register("2025-04-01 10:00", domain.ChannelMFC, fmt.Sprintf("Заявитель %d", i)).ID)
	}
	// 3,000 legal deadlines over 40 days: missed (done late), met, cancelled and still open
	f.exec(`INSERT INTO deadlines (case_id, kind, ref, opened_at, due_on, due_at, state, closed_at)
		SELECT (CAST(? AS uuid[]))[1 + i % 7], (ARRAY['review_decision', 'ippsu', 'contract', 'guardianship_notice'])[1 + i % 4]::deadline_kind,
			'r' || i, '2025-04-01', d, d + 1, s::deadline_state, CASE WHEN s <> 'open' THEN d + 2 END
		FROM generate_series(1, 3000) i, LATERAL (SELECT DATE '2025-05-01' + (i * 7) % 40 AS d,
			(ARRAY['missed', 'missed', 'met', 'cancelled', 'open'])[1 + i % 5] AS s) x`, "{"+strings.Join(ids, ",")+"}")

	now := time.Date(2025, time.May, 20, 12, 0, 0, 0, domain.Moscow)
	for _, q := range []domain.StatsQuery{
		{From: domain.MustDate("2025-04-01"), To: domain.MustDate("2025-06-30")},
		{From: domain.MustDate("2025-05-10"), To: domain.MustDate("2025-05-12")},
		{From: domain.MustDate("2025-04-01"), To: domain.MustDate("2025-06-30"), FacilityType: domain.ElderlyDisabled},
		{From: domain.MustDate("2025-04-01"), To: domain.MustDate("2025-06-30"), FacilityType: domain.Veterans},
	} {
		got, err := store.NewStats(db).Stats(context.Background(), q, now, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		want := refMissed(t, db, q, now)
		gj, _ := json.Marshal(got.Missed)
		wj, _ := json.Marshal(want)
		if string(gj) != string(wj) {
			t.Errorf("%s..%s %q: %d missed listed, the plain query lists %d:\n%s\n%s", q.From, q.To, q.FacilityType,
				len(got.Missed), len(want), gj, wj)
		}
		if q.FacilityType != domain.Veterans && q.From.String() == "2025-04-01" && len(want) != domain.StatsMissedMax {
			t.Errorf("the fixture should fill the list: %d", len(want))
		}
	}
}
