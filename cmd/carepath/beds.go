package main

import (
	"context"
	"errors"
	"fmt"
	"io"
)

// runBeds is `carepath beds verify`: every section's counters recomputed from the beds the
// cases hold; a drift is printed and makes the exit non-zero.
func runBeds(ctx context.Context, a *app, args []string, stdout io.Writer) error {
	if len(args) != 1 || args[0] != "verify" {
		return errors.New("usage: carepath beds verify")
	}
	drift, err := a.service.VerifyBeds(ctx)
	if err != nil {
		return err
	}
	for _, d := range drift {
		fmt.Fprintf(stdout, "DRIFT facility %s section %q: %s\n", d.FacilityID, d.Section, d.Problem)
	}
	if len(drift) > 0 {
		return fmt.Errorf("beds verify: %d drift(s) found", len(drift))
	}
	fmt.Fprintln(stdout, "beds: every section agrees with the cases")
	return nil
}
