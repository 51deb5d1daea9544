// Command benchhotline measures the hotline's desk (issue 18, README "The hotline's desk"): the
// one search box by phone, name and case number over BENCH_HOTLINE_CASES cases (default
// 1,000,000) and BENCH_HOTLINE_CONTACTS logged contacts (default three per case), at 4 client
// connections, and logging a call. It fills its own database (carepath_bench_hotline), serves the
// real router over loopback HTTP and prints p50/p99 per query with the targets: search p99 under
// 50 ms, logging a call p99 under 25 ms. A figure over its target is marked, not fatal: figures
// taken on a machine shared with other work say little (measure on a quiet one).
package main

import (
	"bytes"
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
	pgURL   = flag.String("pg", benchkit.Env("TEST_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"), "PostgreSQL server")
	keep    = flag.Bool("keep", false, "keep the bench database afterwards")
	reuse   = flag.Bool("reuse", os.Getenv("BENCH_HOTLINE_REUSE") != "", "measure on the database a -keep run left (no generation)")
	nCases  = flag.Int("cases", benchkit.EnvInt("BENCH_HOTLINE_CASES", 1_000_000), "cases to generate")
	nCalls  = flag.Int("contacts", benchkit.EnvInt("BENCH_HOTLINE_CONTACTS", -1), "contacts to log (default: three per case)")
	seconds = flag.Int("seconds", benchkit.EnvInt("BENCH_HOTLINE_SECONDS", 20), "seconds per measurement")
)

const dbName = "carepath_bench_hotline"

func main() {
	flag.Parse()
	if *nCalls < 0 {
		*nCalls = 3 * *nCases
	}
	if err := run(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, "benchhotline:", err)
		os.Exit(1)
	}
}

// benchPhone is the phone the bench gives the case with this seq (the generator's phones are
// random and sealed; the index needs known numbers to search for).
func benchPhone(seq int64) string { return fmt.Sprintf("+7916%07d", seq%10_000_000) }

func run(ctx context.Context) error {
	db, drop, err := benchkit.Database{Server: *pgURL, Name: dbName, MaxConns: 16, Reuse: *reuse, Keep: *keep}.Open(ctx)
	if err != nil {
		return err
	}
	defer drop()
	phones, _ := store.NewPhoneIndex([][]byte{bytes.Repeat([]byte{9}, 32)})
	wired := benchkit.Wire(db, phones)
	sealer, svc, access := wired.Sealer, wired.Service, wired.Access
	t0 := time.Now()
	var numbers, idsBySeq []string
	if *reuse {
		if numbers, idsBySeq, err = caseNumbers(ctx, db); err != nil {
			return err
		}
		var contacts int64
		if err := db.SQL.QueryRowContext(ctx, "SELECT count(*) FROM contacts").Scan(&contacts); err != nil {
			return err
		}
		fmt.Printf("reusing %s: %d cases, %d contacts\n", dbName, len(numbers), contacts)
	} else {
		if err := wired.Generate(ctx, *nCases, 18); err != nil {
			return err
		}
		fmt.Printf("generated %d cases in %.0fs\n", *nCases, time.Since(t0).Seconds())
		if numbers, idsBySeq, err = fillIndexAndContacts(ctx, db, sealer, phones); err != nil {
			return err
		}
		if _, err := db.SQL.ExecContext(ctx, "VACUUM ANALYZE"); err != nil {
			return err
		}
		fmt.Printf("filled in %.0fs\n", time.Since(t0).Seconds())
	}

	srv := &api.Server{Cases: svc, Access: access, Auth: access,
		Hotline: &domain.Hotline{Service: svc, Access: access, Contacts: store.NewContacts(db, sealer, phones),
			Phones: store.NewPhoneBook(db, phones), ContactRequests: store.NewContactRequests(db, sealer), Leads: store.NewLeads(db, sealer)}}
	addr, secret, stop, err := wired.Serve(ctx, srv, domain.RoleSpecialist)
	if err != nil {
		return err
	}
	defer stop()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
	do := func(method, path string, body any) error {
		var rd io.Reader
		if body != nil {
			b, _ := json.Marshal(body)
			rd = bytes.NewReader(b)
		}
		req, _ := http.NewRequest(method, addr+path, rd)
		req.Header.Set("Authorization", "Bearer "+secret)
		if body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		_, _ = io.Copy(io.Discard, resp.Body)
		if resp.StatusCode >= 300 {
			return fmt.Errorf("%s %s: %d", method, path, resp.StatusCode)
		}
		return nil
	}
	formats := []string{"8 %s %s-%s-%s", "+7(%s)%s%s%s", "%s %s %s %s"}
	names := []string{"иван", "смирн", "кузнец", "петрова мар", "соколов", "попова"}
	n := len(numbers)
	scenarios := []struct {
		name   string
		target time.Duration
		req    func(r *rand.Rand) error
	}{
		{"search by phone", 50 * time.Millisecond, func(r *rand.Rand) error {
			p := benchPhone(int64(r.IntN(n)) + 1)[2:]
			q := fmt.Sprintf(formats[r.IntN(len(formats))], p[0:3], p[3:6], p[6:8], p[8:10])
			return do("GET", "/api/v1/cases?q="+url.QueryEscape(q), nil)
		}},
		{"search by name", 50 * time.Millisecond, func(r *rand.Rand) error {
			return do("GET", "/api/v1/cases?q="+url.QueryEscape(names[r.IntN(len(names))]), nil)
		}},
		{"search by number", 50 * time.Millisecond, func(r *rand.Rand) error {
			return do("GET", "/api/v1/cases?q="+numbers[r.IntN(n)], nil)
		}},
		{"log a call", 25 * time.Millisecond, func(r *rand.Rand) error {
			return do("POST", "/api/v1/contacts", map[string]any{"case_id": idsBySeq[r.IntN(n)], "channel": "phone", "direction": "inbound",
				"party": "relative", "caller_name": "Звонящий", "caller_phone": benchPhone(int64(r.IntN(n))), "topic": "status",
				"question": "Где сейчас дело?", "answer": "Идёт сбор документов"})
		}},
	}
	for _, sc := range scenarios {
		benchkit.Report(sc.name, benchkit.Measure(4, time.Duration(*seconds)*time.Second, 18, sc.req), sc.target)
	}
	return nil
}

// fillIndexAndContacts gives every case a phone in the blind index and logs the contacts, in
// batches; it returns the case numbers and ids by seq order.
func fillIndexAndContacts(ctx context.Context, db *store.DB, sealer *store.Sealer, phones *store.PhoneIndex) ([]string, []string, error) {
	numbers, ids, err := caseNumbers(ctx, db)
	if err != nil {
		return nil, nil, err
	}
	const batch = 20_000
	for i := 0; i < len(ids); i += batch {
		j := min(i+batch, len(ids))
		keys := make([][]byte, 0, j-i)
		for k := i; k < j; k++ {
			keys = append(keys, phones.Key(benchPhone(int64(k)+1)))
		}
		if _, err := db.SQL.ExecContext(ctx, `INSERT INTO case_phone_keys (key, case_id)
			SELECT * FROM unnest($1::bytea[], $2::uuid[]) ON CONFLICT DO NOTHING`, keys, ids[i:j]); err != nil {
			return nil, nil, fmt.Errorf("phone index: %w", err)
		}
	}
	sealed := sealer.Seal([]byte("+79160000000"))
	topics := []string{"status", "documents", "waiting_list", "voucher", "move", "residence", "complaint", "contact_resident", "other"}
	r := rand.New(rand.NewPCG(3, 18))
	for done := 0; done < *nCalls; done += batch {
		n := min(batch, *nCalls-done)
		cs, tp, ks := make([]string, n), make([]string, n), make([][]byte, n)
		for k := range n {
			c := r.IntN(len(ids))
			cs[k], tp[k], ks[k] = ids[c], topics[r.IntN(len(topics))], phones.Key(benchPhone(int64(c)+1))
		}
		_, err := db.SQL.ExecContext(ctx, `INSERT INTO contacts (id, case_id, channel, direction, party, topic, caller_name, caller_phone,
				phone_key, question, answer, taken_by, taken_by_name, created_at)
			SELECT gen_random_uuid(), c, 'phone', 'inbound', 'relative', t, 'Звонящий', $4, k, 'Где сейчас дело?', 'Идёт сбор документов',
				'bench', 'Bench', now() - random() * interval '700 days'
			FROM unnest($1::uuid[], $2::text[], $3::bytea[]) AS x(c, t, k)`, cs, tp, ks, sealed)
		if err != nil {
			return nil, nil, fmt.Errorf("contacts: %w", err)
		}
	}
	return numbers, ids, nil
}

// caseNumbers returns the case numbers and ids in seq order (the bench's phones follow it).
func caseNumbers(ctx context.Context, db *store.DB) (numbers, ids []string, err error) {
	rows, err := db.SQL.QueryContext(ctx, "SELECT id::text, number FROM cases ORDER BY seq")
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var id, number string
		if err := rows.Scan(&id, &number); err != nil {
			return nil, nil, err
		}
		ids, numbers = append(ids, id), append(numbers, number)
	}
	return numbers, ids, rows.Err()
}
