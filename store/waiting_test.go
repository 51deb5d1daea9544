package store_test

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"carepath/domain"
	"carepath/store"
)

// TestWaitingWalkMatchesThePlainQuery holds the waiting list's pages (read by walking the list's
// order in windows, store/waitingwalk.go) to the plain query's answer, the whole filtered list
// at once: the same cases in the same order at the same positions, page after page, for a type,
// each home (one sex only, bedridden only, both, an inactive one), districts and a home with a
// district. The fixture has priorities, recognition dates shared by many cases (the case's
// registration decides), preferences of districts and homes, both sexes, the bedridden, cases
// without a placement, and residents waiting for a transfer.
func TestWaitingWalkMatchesThePlainQuery(t *testing.T) {
	db, cases := generatedCases(t, 1500)
	ctx := context.Background()
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := db.SQL.ExecContext(ctx, q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	homes := map[string]string{}
	for _, h := range []struct {
		name, district string
		active         bool
		sections       string // code:sex:bedridden, ...
	}{
		{"Мужской дом", "Север", true, "m:male:false"},
		{"Дом с лежачими", "Юг", true, "w:female:false,b:any:true"},
		{"Только лежачие", "Север", true, "b:any:true"},
		{"Закрытый дом", "Восток", false, "a:any:false"},
		{"Женщины лежачие", "Запад", true, "wb:female:true"},
		{"Дом без отделений", "Юг", true, ""},
	} {
		var id string
		if err := db.SQL.QueryRowContext(ctx, `INSERT INTO facilities (name, type, capacity, district, active)
			VALUES ($1, 'elderly_disabled', 0, $2, $3) RETURNING id`, h.name, h.district, h.active).Scan(&id); err != nil {
			t.Fatal(err)
		}
		exec(`INSERT INTO facility_sections (facility_id, code, title, sex, bedridden, capacity)
			SELECT $1, split_part(x, ':', 1), 'Отделение', split_part(x, ':', 2), split_part(x, ':', 3)::boolean, 5
			FROM unnest(string_to_array($2, ',')) AS x`, id, h.sections)
		homes[h.name] = id
	}
	// 600 waiting cases in few distinct days, a tenth of them residents waiting for a transfer
	exec(`WITH pick AS (SELECT id FROM cases WHERE state NOT IN ('voucher_issued', 'residing', 'on_leave', 'hospitalized', 'transfer_pending')
			ORDER BY seq LIMIT 600)
		UPDATE cases c SET state = CASE WHEN abs(hashtext(c.id::text || 't')) % 10 = 0 THEN 'transfer_pending' ELSE 'waiting_list' END::case_state,
			facility_type = 'elderly_disabled', facility_id = NULL,
			recognized_at = date_trunc('day', now()) - (abs(hashtext(c.id::text)) % 12) * interval '1 day',
			priority_rank = (ARRAY[10, 20, 100, 100, 100])[1 + abs(hashtext(c.number)) % 5]
		FROM pick WHERE pick.id = c.id`)
	// as the trigger of migration 00031 would have (the generator writes transfer_pending cases as they are)
	exec(`UPDATE cases SET recognized_at = state_entered_at WHERE recognized_at IS NULL AND state = 'transfer_pending'`)
	exec(`DELETE FROM placements WHERE case_id IN (SELECT id FROM cases WHERE facility_type = 'elderly_disabled')`)
	exec(`INSERT INTO placements (case_id, priority, bedridden, districts, facility_ids, review)
		SELECT c.id, (SELECT code FROM priority_categories pc WHERE pc.rank = c.priority_rank LIMIT 1),
			abs(hashtext(c.id::text || 'b')) % 4 = 0,
			CASE abs(hashtext(c.id::text || 'd')) % 6
				WHEN 0 THEN ARRAY['Север'] WHEN 1 THEN ARRAY['Юг'] WHEN 2 THEN ARRAY['Запад', 'Юг'] ELSE '{}'::text[] END,
			CASE abs(hashtext(c.id::text || 'h')) % 8
				WHEN 0 THEN ARRAY[$1::uuid] WHEN 1 THEN ARRAY[$2::uuid, $3::uuid] WHEN 2 THEN ARRAY[$4::uuid] ELSE '{}'::uuid[] END,
			abs(hashtext(c.id::text || 'r')) % 9 = 0
		FROM cases c WHERE c.state IN ('waiting_list', 'transfer_pending') AND c.facility_type = 'elderly_disabled'
			AND abs(hashtext(c.id::text || 'p')) % 7 <> 0`,
		homes["Мужской дом"], homes["Дом с лежачими"], homes["Женщины лежачие"], homes["Закрытый дом"])
	if n := count(t, db, `SELECT count(*) - count(DISTINCT (priority_rank, recognized_at)) FROM cases
		WHERE state IN ('waiting_list', 'transfer_pending') AND facility_type = 'elderly_disabled'`); n < 300 {
		t.Fatalf("%d cases share their priority and date with one before: the ties the test means are missing", n)
	}

	for _, walk := range []int{0, 60} {
		t.Run(fmt.Sprintf("walk at most %d", walk), func(t *testing.T) {
			if walk > 0 {
				store.WalkWaitingAtMost(t, walk) // the rest in one query
			}
			t.Run("cases ahead", func(t *testing.T) { casesAheadMatch(t, db, homes) })
			pagesMatch(t, db, cases, homes)
		})
	}
}

// pagesMatch pages through lists of a type, a district, each home and a home with a district,
// by 7 and by 50, and compares them with the plain query.
func pagesMatch(t *testing.T, db *store.DB, cases *store.Cases, homes map[string]string) {
	ctx := context.Background()
	filters := []domain.WaitingFilter{{FacilityType: domain.ElderlyDisabled}, {FacilityType: domain.ElderlyDisabled, District: "Север"},
		{FacilityType: domain.ElderlyDisabled, District: "Запад"}, {FacilityType: domain.ElderlyDisabled, District: "Нигде"},
		{FacilityID: homes["Дом с лежачими"], District: "Север"}}
	for _, id := range homes {
		filters = append(filters, domain.WaitingFilter{FacilityID: id})
	}
	for _, f := range filters {
		for _, limit := range []int{7, 50} {
			t.Run(fmt.Sprintf("%s %s %s by %d", f.FacilityType, f.FacilityID, f.District, limit), func(t *testing.T) {
				want, err := store.WaitingPlain(ctx, db, f)
				if err != nil {
					t.Fatal(err)
				}
				if len(want) == 0 && f.District != "Нигде" && f.FacilityID != homes["Дом без отделений"] {
					t.Fatalf("the filter keeps no case: the test proves little")
				}
				var got []string
				f := f
				f.Limit = limit
				for pages := 0; ; pages++ {
					if pages > 200 {
						t.Fatal("too many pages")
					}
					page, err := cases.Waiting(ctx, f)
					if err != nil {
						t.Fatal(err)
					}
					for _, e := range page.Items {
						if e.Position != len(got)+1 {
							t.Fatalf("page %d: %s at position %d, want %d", pages, e.Number, e.Position, len(got)+1)
						}
						got = append(got, e.CaseID)
					}
					if page.NextCursor == "" {
						break
					}
					if len(page.Items) != limit {
						t.Fatalf("page %d has %d entries and a next cursor", pages, len(page.Items))
					}
					f.Cursor = page.NextCursor
				}
				if len(got) != len(want) {
					t.Fatalf("the pages hold %d cases, the plain query %d", len(got), len(want))
				}
				for i := range want {
					if got[i] != want[i] {
						t.Fatalf("position %d: %s, the plain query %s", i+1, got[i], want[i])
					}
				}
			})
		}
	}
}

// casesAheadMatch holds CasesAhead (the cases a voucher would pass over, by the same walk) to the
// plain query: the first 20 of a home's list that come before the case on the type's list.
func casesAheadMatch(t *testing.T, db *store.DB, homes map[string]string) {
	ctx := context.Background()
	all, err := store.WaitingPlain(ctx, db, domain.WaitingFilter{FacilityType: domain.ElderlyDisabled})
	if err != nil {
		t.Fatal(err)
	}
	place := map[string]int{}
	number := map[string]string{}
	for i, id := range all {
		place[id] = i
		var n string
		if err := db.SQL.QueryRowContext(ctx, "SELECT number FROM cases WHERE id = $1", id).Scan(&n); err != nil {
			t.Fatal(err)
		}
		number[id] = n
	}
	for name, home := range homes {
		eligible, err := store.WaitingPlain(ctx, db, domain.WaitingFilter{FacilityID: home})
		if err != nil {
			t.Fatal(err)
		}
		mes := []string{all[len(all)-1]}
		for i := 0; i < len(all); i += 41 {
			mes = append(mes, all[i])
		}
		full := 0
		for _, me := range mes {
			want := []string{}
			for _, id := range eligible {
				if place[id] < place[me] && len(want) < 20 {
					want = append(want, number[id])
				}
			}
			got, err := store.CasesAheadOf(ctx, db, me, home)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, want) {
				t.Fatalf("%s, case at %d: ahead %v, the plain query %v", name, place[me]+1, got, want)
			}
			if len(want) == 20 {
				full++
			}
		}
		if full == 0 && name != "Дом без отделений" {
			t.Errorf("%s: no case has 20 ahead: the test proves little", name)
		}
	}
}
