package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"carepath/store"
)

func runSeed(ctx context.Context, a *app, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("seed", flag.ContinueOnError)
	fs.SetOutput(stdout)
	n := fs.Int("cases", 0, "generate this many more realistic cases in bulk (COPY) instead of the demo set")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *n < 0 {
		return fmt.Errorf("seed --cases %d: want a positive number", *n)
	}
	if *n > 0 {
		return fmt.Errorf("seed --cases is not available yet")
	}
	res, err := store.SeedDemo(ctx, a.db, a.cases, a.service)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "demo data: %d cases created, %d already there\n", res.Created, res.Existing)
	fmt.Fprintln(stdout, "demo credentials (public, development only): Authorization: Bearer <secret>")
	for _, c := range res.Credentials {
		fmt.Fprintf(stdout, "  %-22s %-40s %s\n", c.Role, c.Who, c.Secret)
	}
	if res.ShowcaseNum != "" {
		fmt.Fprintf(stdout, "try the relatives' lookup with case number %s and access code %s:\n", res.ShowcaseNum, store.DemoAccessCode)
		fmt.Fprintf(stdout, "  curl -s -X POST localhost:8080/api/v1/status -H 'Content-Type: application/json' -d '{\"case_number\":\"%s\",\"access_code\":\"%s\"}'\n", res.ShowcaseNum, store.DemoAccessCode)
		fmt.Fprintf(stdout, "specialists: GET /api/v1/cases/%s\n", res.ShowcaseID)
	}
	return nil
}
