package generate_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"slices"
	"testing"
	"time"

	"carepath/cmd/carepath/generate"
	"carepath/domain"
	"carepath/store"
	"carepath/store/dbtest"
)

// generatedStore opens a fresh database, generates n cases into it and returns the pieces a
// test needs; the sealer is rebuilt from the key bytes, as a restarted server would.
func generatedStore(t *testing.T, n int) (*store.DB, *store.Cases, *domain.Service, generate.Result, []byte) {
	t.Helper()
	ctx := context.Background()
	db := dbtest.Open(t)
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	sealer, err := store.NewSealer([][]byte{key})
	if err != nil {
		t.Fatal(err)
	}
	cases := store.NewCases(db, sealer)
	cals := store.NewCalendars(db)
	cal, err := cals.Calendar(ctx)
	if err != nil {
		t.Fatal(err)
	}
	svc := &domain.Service{Cases: cases, Calendar: cals, Settings: domain.DefaultSettings()}
	res, err := generate.Run(ctx, cases, generate.Options{Cases: n, Settings: svc.Settings, Calendar: cal, Seed: 7})
	if err != nil {
		t.Fatalf("generate %d cases: %v", n, err)
	}
	return db, cases, svc, res, key
}

func count(t *testing.T, db *store.DB, query string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := db.SQL.QueryRowContext(context.Background(), query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

// ids runs a query of one text column and returns its rows.
func ids(t *testing.T, db *store.DB, query string, args ...any) []string {
	t.Helper()
	rows, err := db.SQL.QueryContext(context.Background(), query, args...)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			t.Fatalf("%s: %v", query, err)
		}
		out = append(out, id)
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return out
}

func TestGenerateInvariants(t *testing.T) {
	const n = 2000
	db, cases, _, res, key := generatedStore(t, n)
	ctx := context.Background()

	if res.Cases != n || count(t, db, "SELECT count(*) FROM cases") != n {
		t.Fatalf("generated %d cases, table holds %d; want %d", res.Cases, count(t, db, "SELECT count(*) FROM cases"), n)
	}
	if !res.RebuiltIndexes {
		t.Error("a load into an empty table should rebuild the indexes")
	}
	for _, st := range domain.States {
		if got := count(t, db, "SELECT count(*) FROM cases WHERE state = $1", string(st.Name)); got == 0 || int(got) != res.States[st.Name] {
			t.Errorf("state %s: %d cases in the table, %d reported; want at least one", st.Name, got, res.States[st.Name])
		}
	}
	if got := count(t, db, "SELECT count(*) FROM case_history"); int(got) != res.History {
		t.Errorf("history: %d lines in the table, %d reported", got, res.History)
	}

	t.Run("history versions are gapless and end at the case's version and state", func(t *testing.T) {
		bad := count(t, db, `SELECT count(*) FROM cases c LEFT JOIN (
				SELECT case_id, count(*) n, min(version) lo, max(version) hi FROM case_history GROUP BY case_id) h ON h.case_id = c.id
			WHERE h.case_id IS NULL OR h.lo <> 1 OR h.hi <> h.n OR h.hi <> c.version`)
		if bad != 0 {
			t.Errorf("%d cases whose history versions are not 1..version", bad)
		}
		// an event that Stays (a contract, a programme's review) leaves state_entered_at as it was
		bad = count(t, db, `SELECT count(*) FROM cases c JOIN case_history h ON h.case_id = c.id AND h.version = c.version
			JOIN LATERAL (SELECT m.at FROM case_history m WHERE m.case_id = c.id AND (m.from_state <> m.to_state OR m.version = 1)
				ORDER BY m.version DESC LIMIT 1) s ON true
			WHERE h.to_state <> c.state::text OR s.at <> c.state_entered_at OR c.updated_at <> h.at`)
		if bad != 0 {
			t.Errorf("%d cases whose last history line does not lead to their state at state_entered_at", bad)
		}
		bad = count(t, db, `SELECT count(*) FROM case_history h JOIN cases c ON c.id = h.case_id
			WHERE h.version = 1 AND (h.event <> 'register' OR h.to_state <> 'intake' OR h.at <> c.created_at)`)
		if bad != 0 {
			t.Errorf("%d histories not starting with register at creation", bad)
		}
		bad = count(t, db, `SELECT count(*) FROM case_history h JOIN case_history p ON p.case_id = h.case_id AND p.version = h.version - 1
			WHERE h.from_state <> p.to_state OR h.at < p.at`)
		if bad != 0 {
			t.Errorf("%d history lines not continuing from the previous one", bad)
		}
	})

	t.Run("the timeline follows the history", func(t *testing.T) { timelineFollowsHistory(t, db) })

	t.Run("the beds the cases hold are counted in their sections", func(t *testing.T) {
		drift, err := cases.VerifyBeds(ctx)
		if err != nil || len(drift) != 0 {
			t.Fatalf("beds verify after generation: %v %v", drift, err)
		}
	})

	t.Run("every transition is in the lifecycle table", func(t *testing.T) {
		rows, err := db.SQL.QueryContext(ctx, "SELECT DISTINCT event, from_state, to_state FROM case_history WHERE version > 1")
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		seen := map[string]bool{}
		for rows.Next() {
			var ev, from, to string
			if err := rows.Scan(&ev, &from, &to); err != nil {
				t.Fatal(err)
			}
			seen[ev] = true
			def, ok := domain.LookupEvent(domain.EventName(ev))
			if !ok || !slices.Contains(def.Sources, domain.State(from)) || (def.Dest != domain.State(to) && def.AltDest != domain.State(to) && (!def.Stays || from != to)) {
				t.Errorf("transition %s: %s → %s is not in the lifecycle table", ev, from, to)
			}
		}
		for _, e := range domain.Events {
			if !seen[string(e.Name)] {
				t.Errorf("no generated case went through %s", e.Name)
			}
		}
	})

	t.Run("facility beds taken match the cases holding them", func(t *testing.T) {
		bad := count(t, db, `SELECT count(*) FROM facilities f LEFT JOIN (
				SELECT fid, count(*) n FROM (
					SELECT facility_id fid FROM cases WHERE facility_id IS NOT NULL
						AND state IN ('residing', 'on_leave', 'hospitalized', 'transfer_pending', 'voucher_issued')
					UNION ALL
					SELECT voucher_facility_id FROM cases WHERE state = 'voucher_issued') b GROUP BY fid) h ON h.fid = f.id
			WHERE f.taken <> coalesce(h.n, 0) OR f.taken > f.capacity`)
		if bad != 0 {
			t.Errorf("%d facilities whose taken count differs from the beds their cases hold", bad)
		}
		if free := count(t, db, "SELECT count(*) FROM facilities WHERE taken < capacity"); free == 0 {
			t.Error("no facility has a free bed: vouchers cannot be issued on generated data")
		}
		bad = count(t, db, `SELECT count(*) FROM cases c JOIN facilities f ON f.id IN (c.facility_id, c.voucher_facility_id)
			WHERE f.type <> c.facility_type::text`)
		if bad != 0 {
			t.Errorf("%d cases placed in a home of another type", bad)
		}
		bad = count(t, db, `SELECT count(*) FROM cases WHERE (channel = 'mfc') <> (filed_by_agency_id IS NOT NULL)
			OR (state = 'voucher_issued') <> (voucher_facility_id IS NOT NULL)
			OR (state = 'voucher_issued') <> (voucher_valid_until IS NOT NULL)
			OR (state = 'on_leave') <> (leave_return_by IS NOT NULL)
			OR state = 'waiting_list' AND recognized_at IS DISTINCT FROM (SELECT min(h.at) FROM case_history h
				WHERE h.case_id = cases.id AND h.to_state = 'waiting_list')
			OR state = 'transfer_pending' AND recognized_at IS DISTINCT FROM (SELECT max(h.at) FROM case_history h
				WHERE h.case_id = cases.id AND h.from_state = 'residing' AND h.to_state = 'transfer_pending')
			OR (state IN ('residing', 'on_leave', 'hospitalized', 'transfer_pending', 'discharged', 'deceased')) AND facility_id IS NULL
			OR (state IN ('waiting_list', 'voucher_issued', 'residing', 'on_leave', 'hospitalized', 'transfer_pending',
				'discharged', 'deceased')) AND ippsu_number IS NULL`)
		if bad != 0 {
			t.Errorf("%d cases whose voucher, leave, home, place on the list or IPPSU fields do not fit their state", bad)
		}
	})

	t.Run("case numbers continue the yearly counters", func(t *testing.T) {
		bad := count(t, db, `SELECT count(*) FROM case_numbers n FULL JOIN (
				SELECT substr(number, 4, 4)::int y, count(*) c, max(substr(number, 9)::int) hi,
					bool_and(substr(number, 4, 4)::int = extract(year FROM created_at AT TIME ZONE 'Europe/Moscow')) years
				FROM cases GROUP BY 1) g ON g.y = n.year
			WHERE n.last IS DISTINCT FROM g.hi OR g.c <> g.hi OR NOT g.years`)
		if bad != 0 {
			t.Errorf("%d years whose numbers are not 1..last of case_numbers in the year of creation", bad)
		}
		if years := count(t, db, "SELECT count(DISTINCT substr(number, 4, 4)) FROM cases"); years < 8 {
			t.Errorf("cases spread over %d years; want 2019..2026", years)
		}
		bad = count(t, db, `SELECT count(*) FROM (SELECT number < lag(number) OVER (ORDER BY seq) back FROM cases) x WHERE back`)
		if bad != 0 {
			t.Errorf("%d numbers out of creation order", bad)
		}
	})

	t.Run("open deadlines fit the state and next_due_at is the earliest", func(t *testing.T) {
		want := map[domain.State][]domain.DeadlineKind{
			domain.CollectingDocuments: {domain.DeadlineDocumentCollection},
			domain.UnderReview:         {domain.DeadlineReviewDecision, domain.DeadlineIPPSU},
			domain.WaitingList:         {domain.DeadlineIPPSUReview},
			domain.VoucherIssued:       {domain.DeadlineVoucherAdmission, domain.DeadlineIPPSUReview},
			domain.Residing:            {domain.DeadlineIPPSUReview},
			domain.OnLeave:             {domain.DeadlineLeaveReturn, domain.DeadlineIPPSUReview},
			domain.Hospitalized:        {domain.DeadlineIPPSUReview},
			domain.TransferPending:     {domain.DeadlineIPPSUReview},
		}
		for _, st := range domain.States {
			for _, k := range want[st.Name] {
				missing := count(t, db, `SELECT count(*) FROM cases c WHERE state = $1 AND NOT EXISTS (
					SELECT 1 FROM deadlines d WHERE d.case_id = c.id AND d.kind = $2 AND d.state = 'open')`, string(st.Name), string(k))
				if missing != 0 {
					t.Errorf("%d cases in %s without an open %s deadline", missing, st.Name, k)
				}
			}
			allowed := []string{string(domain.DeadlineDocumentExpiry)}
			if st.Name == domain.Residing || st.Name == domain.OnLeave || st.Name == domain.Hospitalized || st.Name == domain.TransferPending || st.Terminal {
				allowed = nil // expiry deadlines end with admission (or the case)
			}
			for _, k := range want[st.Name] {
				allowed = append(allowed, string(k))
			}
			extra := count(t, db, `SELECT count(*) FROM deadlines d JOIN cases c ON c.id = d.case_id
				WHERE c.state = $1 AND d.state = 'open' AND NOT d.kind = ANY ($2)`, string(st.Name), allowed)
			if extra != 0 {
				t.Errorf("%d open deadlines in %s of kinds other than %v", extra, st.Name, allowed)
			}
		}
		// an open deadline of a kind that is reminded of waits for its first reminder, as a saved one does
		for _, k := range domain.DeadlineKinds {
			reminded := domain.FirstReminder(domain.Deadline{Kind: k}) != nil
			if n := count(t, db, `SELECT count(*) FROM deadlines WHERE kind = $1 AND state = 'open' AND (remind_at IS NULL) = $2`,
				string(k), reminded); n != 0 {
				t.Errorf("%d open %s deadlines: remind_at set %v, want %v", n, k, !reminded, reminded)
			}
		}
		bad := count(t, db, `SELECT count(*) FROM cases c LEFT JOIN (
				SELECT case_id, min(due_at) due FROM deadlines WHERE state = 'open' GROUP BY case_id) d ON d.case_id = c.id
			WHERE c.next_due_at IS DISTINCT FROM d.due`)
		if bad != 0 {
			t.Errorf("%d cases whose next_due_at is not their earliest open deadline", bad)
		}
	})

	t.Run("cases open through the store with their key", func(t *testing.T) {
		sealer, err := store.NewSealer([][]byte{key})
		if err != nil {
			t.Fatal(err)
		}
		reopened := store.NewCases(db, sealer)
		today := domain.DateOf(time.Now())
		for _, st := range domain.States {
			for _, id := range ids(t, db, "SELECT id FROM cases WHERE state = $1 ORDER BY random() LIMIT 5", string(st.Name)) {
				c, err := reopened.Get(ctx, id)
				if err != nil {
					t.Fatalf("get generated case %s (%s): %v", id, st.Name, err)
				}
				if _, err := domain.NormalizeSNILS(c.Applicant.SNILS); err != nil || c.Applicant.Address == "" {
					t.Errorf("case %s: personal data %q / %q does not read back", c.Number, c.Applicant.SNILS, c.Applicant.Address)
				}
				if !domain.AccessCodeMatches(c.AccessCodeHash, c.ID, generate.AccessCode(c.Number)) {
					t.Errorf("case %s: the generated access code does not open it", c.Number)
				}
				nc := domain.NewCase{Channel: c.Channel, FacilityType: c.FacilityType, Applicant: c.Applicant, Contacts: c.Contacts,
					HealthOrgID: c.HealthOrgID, GuardianshipID: c.GuardianshipID, AssigneeID: c.AssigneeID}
				if err := nc.Validate(today); err != nil {
					t.Errorf("case %s: its facts would not pass registration: %v", c.Number, err)
				}
				required := domain.BuildChecklist(c)
				if len(required) != len(c.Checklist) {
					t.Errorf("case %s: checklist has %d items, its facts call for %d", c.Number, len(c.Checklist), len(required))
				}
				pastReview := st.Stage >= 3 || st.Name == domain.Rejected || st.Name == domain.Discharged || st.Name == domain.Deceased
				for _, d := range c.Checklist {
					if pastReview && d.Required && d.Status != domain.DocReceived {
						t.Errorf("case %s in %s: required %s is %s", c.Number, st.Name, d.Type, d.Status)
					}
					if st.Name == domain.Intake && d.Status != domain.DocMissing {
						t.Errorf("case %s in intake: %s is %s", c.Number, d.Type, d.Status)
					}
				}
				// The guards held when the case passed them: documents complete at submission, and
				// medical ones valid for the admission a pending voucher leads to.
				if c.State == domain.UnderReview {
					if b := c.Checklist.Blocking(domain.DateOf(c.StateEnteredAt), false); len(b) > 0 {
						t.Errorf("case %s under review: documents blocked the submission: %v", c.Number, b)
					}
				}
				if c.State == domain.VoucherIssued {
					if b := c.Checklist.Blocking(*c.VoucherValidUntil, true); len(b) > 0 {
						t.Errorf("case %s with a voucher: medical documents would block admission: %v", c.Number, b)
					}
				}
				if c.State == domain.WaitingList && c.WaitingPosition < 1 {
					t.Errorf("case %s: waiting position %d", c.Number, c.WaitingPosition)
				}
			}
		}
	})
}

// firstIn returns a generated case in a state.
func firstIn(t *testing.T, db *store.DB, svc *domain.Service, st domain.State, where string) *domain.Case {
	t.Helper()
	var id string
	q := "SELECT id FROM cases WHERE state = $1 " + where + " ORDER BY seq DESC LIMIT 1"
	if err := db.SQL.QueryRowContext(context.Background(), q, string(st)).Scan(&id); err != nil {
		t.Fatalf("no generated case in %s: %v", st, err)
	}
	c, err := svc.Get(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestGeneratedCasesTakeEvents(t *testing.T) {
	db, _, svc, _, _ := generatedStore(t, 1000)
	ctx := context.Background()
	actor := domain.Actor{ID: "test", Name: "test", Kind: "user", Role: "specialist"}
	today := domain.DateOf(time.Now())
	fire := func(c *domain.Case, cmd domain.EventCommand, want domain.State) *domain.Case {
		t.Helper()
		got, err := svc.Fire(ctx, actor, c.ID, c.Version, cmd)
		if err != nil {
			t.Fatalf("%s on generated case %s (%s): %v", cmd.Event, c.Number, c.State, err)
		}
		if got.State != want {
			t.Fatalf("%s on %s: state %s, want %s", cmd.Event, c.Number, got.State, want)
		}
		h, err := svc.History(ctx, c.ID)
		if err != nil || h[len(h)-1].Version != got.Version || len(h) != got.Version {
			t.Fatalf("history of %s after %s: %d lines, version %d (%v)", c.Number, cmd.Event, len(h), got.Version, err)
		}
		return got
	}

	c := firstIn(t, db, svc, domain.Residing, "")
	c = fire(c, domain.EventCommand{Event: domain.Hospitalize}, domain.Hospitalized)
	fire(c, domain.EventCommand{Event: domain.EndHospitalization}, domain.Residing)

	ret := today.AddDays(7)
	c = firstIn(t, db, svc, domain.Residing, "")
	c = fire(c, domain.EventCommand{Event: domain.StartLeave, ReturnBy: &ret}, domain.OnLeave)
	fire(c, domain.EventCommand{Event: domain.EndLeave}, domain.Residing)

	// A pending voucher's documents were refreshed for it: the admission goes through.
	vouchers := ids(t, db, "SELECT id FROM cases WHERE state = 'voucher_issued' AND facility_id IS NULL ORDER BY seq LIMIT 8")
	for _, id := range vouchers {
		c, err := svc.Get(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		before := count(t, db, "SELECT taken FROM facilities WHERE id = $1", c.VoucherFacilityID)
		c = fire(c, domain.EventCommand{Event: domain.Admit}, domain.Residing)
		if after := count(t, db, "SELECT taken FROM facilities WHERE id = $1", c.FacilityID); after != before {
			t.Errorf("admission changed the home's taken beds from %d to %d; the voucher had reserved the bed", before, after)
		}
	}

	c = firstIn(t, db, svc, domain.UnderReview, "")
	fire(c, domain.EventCommand{Event: domain.RecognizeNeed, IPPSUNumber: "ИППСУ-тест", IPPSUDate: &today}, domain.WaitingList)

	// A voucher for a waiting case reserves a free bed of its type.
	c = firstIn(t, db, svc, domain.WaitingList, "")
	var fid string
	if err := db.SQL.QueryRowContext(ctx, "SELECT id FROM facilities WHERE type = $1 AND taken < capacity LIMIT 1", string(c.FacilityType)).Scan(&fid); err != nil {
		t.Fatalf("no free bed for %s: %v", c.FacilityType, err)
	}
	fire(c, domain.EventCommand{Event: domain.IssueVoucher, FacilityID: fid, SkipReason: "test"}, domain.VoucherIssued)

	// The deadlines the events opened and closed are in the table as the cases see them.
	bad := count(t, db, `SELECT count(*) FROM cases c LEFT JOIN (
			SELECT case_id, min(due_at) due, count(*) n FROM deadlines WHERE state = 'open' GROUP BY case_id) d ON d.case_id = c.id
		WHERE c.next_due_at IS DISTINCT FROM d.due
		   OR (c.state = 'on_leave') <> EXISTS (SELECT 1 FROM deadlines l WHERE l.case_id = c.id AND l.kind = 'leave_return' AND l.state = 'open')`)
	if bad != 0 {
		t.Errorf("%d cases whose open deadlines in the table differ from what their events left", bad)
	}
	for _, st := range []domain.State{domain.Residing, domain.UnderReview} {
		c := firstIn(t, db, svc, st, "")
		var open int
		if err := db.SQL.QueryRowContext(ctx, "SELECT count(*) FROM deadlines WHERE case_id = $1 AND state = 'open'", c.ID).Scan(&open); err != nil {
			t.Fatal(err)
		}
		if open != len(c.Deadlines) || (open > 0 && c.Deadlines[0].ID == 0) {
			t.Errorf("case %s loads %d open deadlines (first id %v); the table has %d", c.Number, len(c.Deadlines), c.Deadlines, open)
		}
	}

	// The triggers kept the timelines of the cases the events moved (a resident back from
	// hospital twice is "residing" once, at the latest return).
	c = firstIn(t, db, svc, domain.Residing, "")
	c = fire(c, domain.EventCommand{Event: domain.Hospitalize}, domain.Hospitalized)
	c = fire(c, domain.EventCommand{Event: domain.EndHospitalization}, domain.Residing)
	c = fire(c, domain.EventCommand{Event: domain.Hospitalize}, domain.Hospitalized)
	fire(c, domain.EventCommand{Event: domain.EndHospitalization}, domain.Residing)
	timelineFollowsHistory(t, db)

	// Stale versions are refused on generated cases as on any other.
	c = firstIn(t, db, svc, domain.Hospitalized, "")
	if _, err := svc.Fire(ctx, actor, c.ID, c.Version-1, domain.EventCommand{Event: domain.EndHospitalization}); domain.ErrorCode(err) != domain.ESTALE {
		t.Errorf("stale version on a generated case: %v, want ESTALE", err)
	}
}

// timelineFollowsHistory checks every case's timeline (migrations 00065 and 00066: the triggers,
// or the store's TimelineOf for the bulk loader's rows) against the simple definition, computed
// from the history: each state entered, once, on the Moscow day of its last entry, in the order
// of those entries.
func timelineFollowsHistory(t *testing.T, db *store.DB) {
	t.Helper()
	bad := count(t, db, `SELECT count(*) FROM cases c WHERE c.timeline IS DISTINCT FROM coalesce((
		SELECT string_agg(case_timeline_step(s.to_state::case_state, s.at), '' ORDER BY s.version)
		FROM (SELECT DISTINCT ON (h.to_state) h.to_state, h.at, h.version FROM case_history h
			WHERE h.case_id = c.id AND h.to_state <> h.from_state ORDER BY h.to_state, h.version DESC) s), '')`)
	if bad != 0 {
		t.Errorf("%d cases whose timeline differs from their history's changes of state", bad)
	}
	if n := count(t, db, "SELECT count(*) FROM cases WHERE timeline = ''"); n != 0 {
		t.Errorf("%d cases without a timeline", n)
	}
}

func TestGenerateContinuesAfterExistingCases(t *testing.T) {
	db, cases, svc, first, _ := generatedStore(t, 600)
	ctx := context.Background()
	cal, err := svc.Calendar.Calendar(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// A case registered the ordinary way in between takes the next number of its year.
	c, _, err := svc.Register(ctx, domain.Actor{ID: "test", Role: "specialist"}, domain.NewCase{Channel: domain.ChannelHotline,
		FacilityType: domain.Veterans, Applicant: domain.Applicant{FullName: "Проверкина Анна Ивановна", BirthDate: domain.NewDate(1941, 5, 9),
			Gender: "female", SNILS: "112-233-445 95", Address: "Москва", LegalCapacity: domain.Capable}})
	if err != nil {
		t.Fatal(err)
	}
	year := time.Now().In(domain.Moscow).Year()
	if want := fmt.Sprintf("KC-%d-%06d", year, count(t, db, "SELECT count(*) FROM cases WHERE number LIKE $1", fmt.Sprintf("KC-%d-%%", year))); c.Number != want {
		t.Errorf("registered case got %s after generated ones; want %s", c.Number, want)
	}
	second, err := generate.Run(ctx, cases, generate.Options{Cases: 300, Settings: svc.Settings, Calendar: cal, Seed: 8})
	if err != nil {
		t.Fatalf("second run: %v", err)
	}
	if second.RebuiltIndexes {
		t.Error("a load smaller than the table should keep its indexes")
	}
	if got := count(t, db, "SELECT count(*) FROM cases"); got != int64(first.Cases+second.Cases+1) {
		t.Errorf("%d cases after two runs and a registration; want %d", got, first.Cases+second.Cases+1)
	}
	bad := count(t, db, `SELECT count(*) FROM case_numbers n JOIN (
			SELECT substr(number, 4, 4)::int y, count(*) c, max(substr(number, 9)::int) hi FROM cases GROUP BY 1) g ON g.y = n.year
		WHERE n.last <> g.hi OR g.c <> g.hi`)
	if bad != 0 {
		t.Errorf("%d years with gaps or a counter behind the numbers", bad)
	}
	bad = count(t, db, `SELECT count(*) FROM facilities f WHERE taken <> (
		SELECT count(*) FROM cases WHERE facility_id = f.id AND state IN ('residing', 'on_leave', 'hospitalized', 'transfer_pending', 'voucher_issued'))
		+ (SELECT count(*) FROM cases WHERE voucher_facility_id = f.id AND state = 'voucher_issued')`)
	if bad != 0 {
		t.Errorf("%d facilities with a wrong taken count after two runs", bad)
	}
	// The name search tables hold every case: filled after the first load, by the insert
	// trigger for the registered case and the second load.
	if bad := count(t, db, `SELECT count(*) FROM cases c FULL JOIN case_names n ON n.seq = c.seq
		WHERE n.name IS DISTINCT FROM case_name_norm(c.applicant_name)`); bad != 0 {
		t.Errorf("%d cases without their name row (or name rows without a case)", bad)
	}
	if got, want := count(t, db, "SELECT count(*) FROM case_name_keys"),
		count(t, db, "SELECT sum(array_length(string_to_array(name, ' '), 1)) FROM case_names"); got != want {
		t.Errorf("%d name keys; want one per word, %d", got, want)
	}
	if bad := count(t, db, `SELECT count(*) FROM (SELECT k, c.seq FROM cases c, case_name_keys(c.applicant_name) k
		EXCEPT SELECT key, seq FROM case_name_keys) d`); bad != 0 {
		t.Errorf("%d keys of case_name_keys(applicant_name) missing from the table", bad)
	}
	if got := count(t, db, "SELECT count(*) FROM case_name_keys WHERE key = 'проверкина анна ивановна' OR key = 'ивановна'"); got < 2 {
		t.Errorf("the registered case's name keys are missing")
	}
	// The indexes, foreign keys and triggers dropped or switched off for the first load are
	// all back, and checked.
	fresh := dbtest.Open(t)
	for _, q := range []string{
		"SELECT count(*) FROM pg_indexes WHERE tablename IN ('cases', 'case_history', 'deadlines', 'case_names', 'case_name_keys')",
		"SELECT count(*) FROM pg_trigger WHERE tgrelid = 'cases'::regclass AND tgenabled = 'O'",
		"SELECT count(*) FROM pg_constraint WHERE contype = 'f' AND convalidated AND conrelid = ANY ('{cases,case_history,deadlines}'::regclass[])",
	} {
		if got, want := count(t, db, q), count(t, fresh, q); got != want {
			t.Errorf("%s: %d after generating, %d in a fresh database", q, got, want)
		}
	}
}
