package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	"carepath/domain"
	"carepath/store"
)

func runUsers(ctx context.Context, a *app, args []string, stdout io.Writer) error {
	if len(args) == 0 {
		return errors.New("usage: carepath users create --name NAME --role specialist|supervisor|admin | carepath users list")
	}
	switch args[0] {
	case "list":
		us, err := a.access.Users(ctx)
		if err != nil {
			return err
		}
		for _, u := range us {
			state := "active"
			if u.DisabledAt != nil {
				state = "disabled"
			}
			fmt.Fprintf(stdout, "%s\t%s\t%s\t%s\n", u.ID, u.Role, state, u.Name)
		}
		return nil
	case "create":
		fs := flag.NewFlagSet("users create", flag.ContinueOnError)
		fs.SetOutput(stdout)
		var n domain.NewUser
		fs.StringVar(&n.Name, "name", "", "the specialist's name (unique)")
		fs.StringVar(&n.Role, "role", "", "specialist, supervisor or admin")
		fs.StringVar(&n.Email, "email", "", "e-mail address (optional)")
		fs.StringVar(&n.Phone, "phone", "", "phone number (optional)")
		fs.IntVar(&n.ExpiresInDays, "expires-days", 0, "token life in days (default TOKEN_TTL_DAYS)")
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		u, tok, err := a.access.CreateUser(ctx, n)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "user %s (%s) created: %s\n", u.Name, u.Role, u.ID)
		fmt.Fprintf(stdout, "token (shown once, valid until %s):\n%s\n", tok.ExpiresAt.Format("2006-01-02"), tok.Secret)
		return nil
	}
	return fmt.Errorf("users %q: want create or list", args[0])
}

func runAudit(ctx context.Context, a *app, args []string, stdout io.Writer) error {
	if len(args) != 1 {
		return errors.New("usage: carepath audit verify | carepath audit seal")
	}
	switch args[0] {
	case "verify":
		rep, err := store.Verify(ctx, a.db)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "cases: %d, history lines: %d (unsealed %d), access log lines: %d (writers: %d)\n",
			rep.Cases, rep.HistoryLines, rep.Unsealed, rep.AccessLines, rep.Writers)
		fmt.Fprintf(stdout, "digest of chain heads: %s\n", rep.Digest)
		for _, b := range rep.Breaks {
			if b.Writer != 0 {
				fmt.Fprintf(stdout, "BREAK %s writer %d line %d (case %s): %s\n", b.Chain, b.Writer, b.Seq, b.CaseID, b.Problem)
				continue
			}
			fmt.Fprintf(stdout, "BREAK %s case %s line %d: %s\n", b.Chain, b.CaseID, b.Seq, b.Problem)
		}
		if len(rep.Breaks) > 0 {
			return fmt.Errorf("audit verify: %d break(s) found", len(rep.Breaks))
		}
		if rep.Unsealed > 0 {
			fmt.Fprintln(stdout, "some history lines have no hash yet: run `carepath audit seal`")
		}
		fmt.Fprintln(stdout, "every chain holds")
		return nil
	case "seal":
		n, err := store.SealHistory(ctx, a.db)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "sealed %d history lines\n", n)
		return nil
	}
	return fmt.Errorf("audit %q: want verify or seal", args[0])
}

func runRekey(ctx context.Context, a *app, stdout io.Writer) error {
	res, err := store.Rekey(ctx, a.db, a.sealer, 1000)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "re-sealed %d cases with the current key (%d changed meanwhile and were sealed by that change)\n", res.Resealed, res.Skipped)
	return nil
}

// runPhones runs `carepath phones reseal`: seal and index the phones of cases registered before
// phones were sealed.
func runPhones(ctx context.Context, a *app, args []string, stdout io.Writer) error {
	if len(args) == 1 && args[0] == "reindex" {
		res, err := a.cases.ReindexPhones(ctx, 500)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "reindexed the phones of %d cases (%d entries added, %d removed) and %d contacts (%d changed) under the current PHONE_INDEX_KEY\n",
			res.Cases, res.CaseKeysAdded, res.CaseKeysRemoved, res.Contacts, res.ContactKeysChanged)
		return nil
	}
	if len(args) != 1 || args[0] != "reseal" {
		return fmt.Errorf("usage: carepath phones reseal|reindex")
	}
	n, skipped, err := a.cases.ResealPhones(ctx, 1000)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "sealed and indexed the phones of %d cases (%d changed meanwhile: run it again)\n", n, skipped)
	return nil
}
