package main

import (
	"context"
	"strings"
	"testing"

	"carepath/store"
	"carepath/store/dbtest"
)

func TestBedsVerify(t *testing.T) {
	vars := map[string]string{"DATABASE_URL": dbtest.URL(t), "REDIS_URL": dbtest.RedisURL(t)}
	ctx := context.Background()
	var out, errs syncBuffer
	if err := run(ctx, []string{"seed"}, env(vars), &out, &errs); err != nil {
		t.Fatalf("seed: %v\n%s", err, errs.String())
	}
	out = syncBuffer{}
	if err := run(ctx, []string{"beds", "verify"}, env(vars), &out, &errs); err != nil || !strings.Contains(out.String(), "every section agrees") {
		t.Fatalf("beds verify on the demo data: %v\n%s", err, out.String())
	}
	db, err := store.Open(ctx, vars["DATABASE_URL"], store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	// The demo shows the placement work: an offer waiting, priorities, a stale home.
	var offers, priorities, stale int64
	db.Gorm.Raw("SELECT count(*) FROM offers WHERE state = 'proposed'").Scan(&offers)
	db.Gorm.Raw("SELECT count(DISTINCT priority) FROM placements").Scan(&priorities)
	db.Gorm.Raw("SELECT count(*) FROM facilities WHERE reported_at < now() - interval '7 days'").Scan(&stale)
	if offers == 0 || priorities < 3 || stale != 1 {
		t.Errorf("demo data: %d offers waiting, %d priorities, %d stale homes", offers, priorities, stale)
	}
	if err := db.Gorm.Exec("UPDATE facility_sections SET occupied = occupied + 1, capacity = capacity + 1 WHERE ctid = (SELECT ctid FROM facility_sections LIMIT 1)").Error; err != nil {
		t.Fatal(err)
	}
	out = syncBuffer{}
	if err := run(ctx, []string{"beds", "verify"}, env(vars), &out, &errs); err == nil || !strings.Contains(out.String(), "DRIFT") {
		t.Fatalf("beds verify after a counter moved: %v\n%s", err, out.String())
	}
}
