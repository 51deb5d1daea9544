package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"sort"
	"time"

	"carepath/cmd/carepath/demo"
	"carepath/cmd/carepath/generate"
	"carepath/domain"
	"carepath/store"
)

func runSeed(ctx context.Context, a *app, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("seed", flag.ContinueOnError)
	fs.SetOutput(stdout)
	n := fs.Int("cases", 0, "generate this many more realistic cases in bulk (COPY) instead of the demo set")
	seed := fs.Uint64("seed", 1, "random seed of the generated cases (with --cases)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *n < 0 {
		return fmt.Errorf("seed --cases %d: want a positive number", *n)
	}
	if *n > 0 {
		return generateCases(ctx, a, *n, *seed, stdout)
	}
	codes, ok := a.service.Cases.(store.AccessCodes) // the cache in front of the store, when there is one
	if !ok {
		codes = a.cases
	}
	res, err := demo.SeedDemo(ctx, a.db, codes, a.service)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "demo data: %d cases created, %d already there\n", res.Created, res.Existing)
	fmt.Fprintln(stdout, "demo credentials (public, development only): Authorization: Bearer <secret>")
	for _, c := range res.Credentials {
		fmt.Fprintf(stdout, "  %-22s %-40s %s\n", c.Role, c.Who, c.Secret)
	}
	if res.ShowcaseNum != "" {
		fmt.Fprintf(stdout, "try the relatives' lookup with case number %s and access code %s:\n", res.ShowcaseNum, demo.DemoAccessCode)
		fmt.Fprintf(stdout, "  curl -s -X POST %s/api/v1/status -H 'Content-Type: application/json' -d '{\"case_number\":\"%s\",\"access_code\":\"%s\"}'\n", a.cfg.HTTPAddr, res.ShowcaseNum, demo.DemoAccessCode)
		fmt.Fprintf(stdout, "specialists: GET /api/v1/cases/%s\n", res.ShowcaseID)
	}
	return nil
}

func generateCases(ctx context.Context, a *app, n int, seed uint64, stdout io.Writer) error {
	cal, err := a.service.Calendar.Calendar(ctx)
	if err != nil {
		return err
	}
	res, err := generate.Run(ctx, a.cases, generate.Options{
		Cases: n, Settings: a.service.Settings, Calendar: cal, Seed: seed,
		Progress: func(format string, args ...any) { fmt.Fprintf(stdout, "seed: "+format+"\n", args...) },
	})
	if err != nil {
		return fmt.Errorf("seed --cases %d: %w", n, err)
	}
	fmt.Fprintf(stdout, "generated %d cases, %d history lines, %d open deadlines, %d facilities in %s\n",
		res.Cases, res.History, res.Deadlines, res.Facilities, res.Elapsed.Round(time.Millisecond))
	states := make([]string, 0, len(res.States))
	for st := range res.States {
		states = append(states, string(st))
	}
	sort.Strings(states)
	for _, st := range states {
		fmt.Fprintf(stdout, "  %-22s %d\n", st, res.States[domain.State(st)])
	}
	fmt.Fprintln(stdout, "access codes of generated cases: generate.AccessCode(number) (benchmark data, never production)")
	return nil
}
