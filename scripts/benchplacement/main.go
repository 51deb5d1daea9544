// Command benchplacement measures the waiting list (issue 17, docs/BENCHMARKS.md "Placement"):
// a waiting-list page over BENCH_PLACEMENT_WAITING waiting cases (default 100,000) of one type
// of home, at 4 client connections over the real router (target p99 under 50 ms), and finding
// the next eligible case for a freed bed among them (target under 10 ms). It fills its own
// database (carepath_bench_placement): the generator's cases, of which that many are put on the
// waiting list with priorities, recognition dates and preferences (a third choose districts, a
// tenth a named home). A figure over its target is marked, not fatal: figures taken on a
// machine shared with other work say little (measure on a quiet one).
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"time"

	"carepath/api"
	"carepath/domain"
	"carepath/scripts/internal/benchkit"
	"carepath/store"
)

var (
	pgURL    = flag.String("pg", benchkit.Env("TEST_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"), "PostgreSQL server")
	keep     = flag.Bool("keep", false, "keep the bench database afterwards")
	nWaiting = flag.Int("waiting", benchkit.EnvInt("BENCH_PLACEMENT_WAITING", 100_000), "waiting cases")
	seconds  = flag.Int("seconds", benchkit.EnvInt("BENCH_PLACEMENT_SECONDS", 20), "seconds per measurement")
	reuse    = flag.Bool("reuse", os.Getenv("BENCH_PLACEMENT_REUSE") != "", "measure on the database a -keep run left (migrated again, not filled again)")
)

const dbName = "carepath_bench_placement"

func main() {
	flag.Parse()
	if err := run(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, "benchplacement:", err)
		os.Exit(1)
	}
}

var districts = []string{"Северный", "Южный", "Восточный", "Западный", "Центральный", "Зеленоградский"}

func run(ctx context.Context) error {
	db, drop, err := benchkit.Database{Server: *pgURL, Name: dbName, MaxConns: 16, Reuse: *reuse, Keep: *keep}.Open(ctx)
	if err != nil {
		return err
	}
	defer drop()
	wired := benchkit.Wire(db, nil)
	cases, svc, access := wired.Cases, wired.Service, wired.Access
	t0 := time.Now()
	if !*reuse {
		// the generator's cases, twice as many as will wait, so that every waiting one is taken
		// from a state that holds no bed
		n := *nWaiting * 2
		if err := wired.Generate(ctx, n, 17); err != nil {
			return err
		}
		fmt.Printf("generated %d cases in %.0fs\n", n, time.Since(t0).Seconds())
		if err := fillWaiting(ctx, db); err != nil {
			return err
		}
		if _, err := db.SQL.ExecContext(ctx, "VACUUM ANALYZE"); err != nil {
			return err
		}
	}
	homes, err := homeSections(ctx, db)
	if err != nil {
		return err
	}
	var waiting, placements int
	_ = db.SQL.QueryRowContext(ctx, "SELECT count(*) FROM cases WHERE state = 'waiting_list' AND facility_type = 'elderly_disabled'").Scan(&waiting)
	_ = db.SQL.QueryRowContext(ctx, "SELECT count(*) FROM placements WHERE cardinality(districts) + cardinality(facility_ids) > 0").Scan(&placements)
	fmt.Printf("ready in %.0fs: %d waiting for elderly_disabled, %d with preferences, %d sections of homes of the type\n",
		time.Since(t0).Seconds(), waiting, placements, len(homes))

	srv := &api.Server{Cases: svc, Access: access, Auth: access}
	addr, secret, stop, err := wired.Serve(ctx, srv, domain.RoleSupervisor)
	if err != nil {
		return err
	}
	defer stop()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
	get := func(path string) (map[string]any, error) {
		req, _ := http.NewRequest("GET", addr+path, nil)
		req.Header.Set("Authorization", "Bearer "+secret)
		resp, err := client.Do(req)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			return nil, fmt.Errorf("GET %s: %d %.200s", path, resp.StatusCode, body)
		}
		var out map[string]any
		return out, json.Unmarshal(body, &out)
	}
	// every 50-entry page's cursor, walking the whole list once
	base := "/api/v1/waiting-list?facility_type=elderly_disabled&limit=50"
	cursors := []string{""}
	for {
		page, err := get(base + "&cursor=" + url.QueryEscape(cursors[len(cursors)-1]))
		if err != nil {
			return err
		}
		next, _ := page["next_cursor"].(string)
		if next == "" {
			break
		}
		cursors = append(cursors, next)
	}
	fmt.Printf("walked the list: %d pages of 50\n", len(cursors))

	type scenario struct {
		name   string
		target time.Duration
		req    func(r *rand.Rand) error
	}
	scenarios := []scenario{
		{"page of the type", 50 * time.Millisecond, func(r *rand.Rand) error {
			_, err := get(base + "&cursor=" + url.QueryEscape(cursors[r.IntN(len(cursors))]))
			return err
		}},
		{"first page, home", 50 * time.Millisecond, func(r *rand.Rand) error {
			_, err := get("/api/v1/waiting-list?limit=50&facility_id=" + homes[r.IntN(len(homes))].FacilityID)
			return err
		}},
		{"first page, district", 50 * time.Millisecond, func(r *rand.Rand) error {
			_, err := get(base + "&district=" + url.QueryEscape(districts[r.IntN(len(districts))]))
			return err
		}},
	}
	for _, sc := range scenarios {
		benchkit.Report(sc.name+" (4 conns)", benchkit.Measure(4, time.Duration(*seconds)*time.Second, 17, sc.req), sc.target)
	}
	// the next eligible case for a freed bed, one at a time
	lat := benchkit.Measure(1, time.Duration(*seconds)*time.Second, 17, func(r *rand.Rand) error {
		_, err := cases.NextForBed(ctx, homes[r.IntN(len(homes))])
		return err
	})
	benchkit.Report("next for a freed bed (1 conn)", lat, 10*time.Millisecond)
	return nil
}

// fillWaiting puts nWaiting cases of states that hold no bed on the elderly_disabled list, with
// priorities, recognition dates over three years and preferences, and gives the homes of the
// type districts and sections (men, women, bedridden).
func fillWaiting(ctx context.Context, db *store.DB) error {
	steps := []string{
		// the homes: a district each, and besides the generator's "main" section two wards by sex and one for the bedridden
		`UPDATE facilities SET district = (ARRAY['Северный','Южный','Восточный','Западный','Центральный','Зеленоградский'])[1 + abs(hashtext(id::text)) % 6]`,
		`INSERT INTO facility_sections (facility_id, code, title, sex, bedridden, capacity)
			SELECT f.id, x.code, x.title, x.sex, x.bedridden, 20 FROM facilities f,
			(VALUES ('m', 'Мужское', 'male', false), ('w', 'Женское', 'female', false), ('b', 'Для лежачих', 'any', true)) AS x(code, title, sex, bedridden)
			ON CONFLICT DO NOTHING`,
		fmt.Sprintf(`WITH pick AS (SELECT id FROM cases
				WHERE state NOT IN ('voucher_issued', 'residing', 'on_leave', 'hospitalized', 'transfer_pending')
				ORDER BY seq LIMIT %d)
			UPDATE cases c SET state = 'waiting_list', facility_type = 'elderly_disabled', facility_id = NULL,
				recognized_at = now() - (abs(hashtext(c.id::text)) %% 1095) * interval '1 day',
				priority_rank = (ARRAY[10, 20, 30, 100, 100, 100, 100, 100, 100, 100])[1 + abs(hashtext(c.number)) %% 10]
			FROM pick WHERE pick.id = c.id`, *nWaiting),
		`INSERT INTO placements (case_id, priority, bedridden, districts, facility_ids)
			SELECT c.id, (SELECT code FROM priority_categories pc WHERE pc.rank = c.priority_rank LIMIT 1),
				abs(hashtext(c.id::text || 'b')) % 8 = 0,
				CASE WHEN abs(hashtext(c.id::text || 'd')) % 3 = 0
					THEN ARRAY[(ARRAY['Северный','Южный','Восточный','Западный','Центральный','Зеленоградский'])[1 + abs(hashtext(c.id::text)) % 6]]
					ELSE '{}'::text[] END,
				CASE WHEN abs(hashtext(c.id::text || 'h')) % 10 = 0
					THEN ARRAY[(SELECT f.id FROM facilities f WHERE f.type = 'elderly_disabled' ORDER BY f.id OFFSET abs(hashtext(c.id::text)) % 5 LIMIT 1)]
					ELSE '{}'::uuid[] END
			FROM cases c WHERE c.state = 'waiting_list'
			ON CONFLICT (case_id) DO NOTHING`,
	}
	for _, q := range steps {
		if _, err := db.SQL.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("fill: %w", err)
		}
	}
	return nil
}

// homeSections are the sections of the homes of the type the list is for.
func homeSections(ctx context.Context, db *store.DB) ([]domain.Bed, error) {
	rows, err := db.SQL.QueryContext(ctx, `SELECT s.facility_id::text, s.code FROM facility_sections s JOIN facilities f ON f.id = s.facility_id
		WHERE f.type = 'elderly_disabled' ORDER BY 1, 2`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var beds []domain.Bed
	for rows.Next() {
		var b domain.Bed
		if err := rows.Scan(&b.FacilityID, &b.Section); err != nil {
			return nil, err
		}
		beds = append(beds, b)
	}
	if len(beds) == 0 {
		return nil, fmt.Errorf("no homes of type elderly_disabled")
	}
	return beds, rows.Err()
}
