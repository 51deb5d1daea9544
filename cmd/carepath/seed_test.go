package main

import (
	"context"
	"database/sql"
	"strings"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib"

	"carepath/store/dbtest"
)

func TestSeedGeneratesCases(t *testing.T) {
	url := dbtest.URL(t)
	vars := map[string]string{"DATABASE_URL": url, "REDIS_URL": dbtest.RedisURL(t)}
	var out, errs syncBuffer
	if err := run(context.Background(), []string{"seed", "--cases", "400", "--seed", "3"}, env(vars), &out, &errs); err != nil {
		t.Fatalf("seed --cases: %v\n%s", err, errs.String())
	}
	if !strings.Contains(out.String(), "generated 400 cases") || !strings.Contains(out.String(), "residing") {
		t.Fatalf("seed --cases printed:\n%s", out.String())
	}
	db, err := sql.Open("pgx", url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var cases, states int
	if err := db.QueryRow("SELECT count(*), count(DISTINCT state) FROM cases").Scan(&cases, &states); err != nil {
		t.Fatal(err)
	}
	if cases != 400 || states != 13 {
		t.Errorf("%d cases in %d states after seed --cases 400; want 400 in all 13", cases, states)
	}
	if err := run(context.Background(), []string{"seed", "--cases", "-5"}, env(vars), &out, &errs); err == nil || !strings.Contains(err.Error(), "--cases") {
		t.Errorf("seed --cases -5: %v, want an error naming --cases", err)
	}
}
