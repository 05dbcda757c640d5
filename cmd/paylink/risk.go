package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/paylink/paylink/internal/postgres"
	"github.com/paylink/paylink/internal/riskmodel"
	"github.com/paylink/paylink/internal/walletrisk"
)

// riskCmd runs the operators' risk commands: `paylink risk train`
// (riskTrain), `paylink risk payouts` (the withdrawals whose payouts
// screening holds) and `paylink risk release TXN` (pay one out now).
func riskCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	const use = "usage: paylink risk train [-force] [-min N] | payouts | release WITHDRAWAL_ID\n"
	if len(args) == 0 {
		fmt.Fprint(stderr, use)
		return exitCode(2)
	}
	switch {
	case args[0] == "train":
		return riskTrain(ctx, args[1:], getenv, stdout, stderr)
	case args[0] == "payouts" && len(args) == 1:
		return withDB(ctx, getenv, func(db *postgres.DB) error { return printHeldPayouts(ctx, db, stdout) })
	case args[0] == "release" && len(args) == 2 && !strings.HasPrefix(args[1], "-"):
		return withDB(ctx, getenv, func(db *postgres.DB) error {
			if err := walletrisk.ReleasePayout(ctx, db.Pool, args[1], time.Now()); err != nil {
				return err
			}
			fmt.Fprintf(stdout, "released %s: the worker pays it out on its next relay\n", args[1])
			return nil
		})
	}
	fmt.Fprint(stderr, use)
	return exitCode(2)
}

// withDB runs fn with a small pool on DATABASE_URL.
func withDB(ctx context.Context, getenv func(string) string, fn func(*postgres.DB) error) error {
	db, err := openDB(ctx, getenv, 2)
	if err != nil {
		return err
	}
	defer db.Close()
	return fn(db)
}

// printHeldPayouts lists the payouts held now, soonest first.
func printHeldPayouts(ctx context.Context, db *postgres.DB, stdout io.Writer) error {
	held, err := walletrisk.HeldPayouts(ctx, db.Pool, time.Now(), 1000)
	if err != nil {
		return err
	}
	if len(held) == 0 {
		fmt.Fprintln(stdout, "no payout is held")
		return nil
	}
	tw := tabwriter.NewWriter(stdout, 2, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "withdrawal\tuser\tamount\trequested\theld until\tscore\treasons")
	for _, h := range held {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%s\n", h.TransactionID, h.UserEmail, h.Amount,
			h.Requested.UTC().Format(time.RFC3339), h.Until.UTC().Format(time.RFC3339), h.Score, strings.Join(h.Reasons, ", "))
	}
	return tw.Flush()
}

// openDB opens a pool of at most conns connections on DATABASE_URL, for
// an operator's command.
func openDB(ctx context.Context, getenv func(string) string, conns int32) (*postgres.DB, error) {
	url := strings.TrimSpace(getenv("DATABASE_URL"))
	if url == "" {
		return nil, errors.New("config: DATABASE_URL: is required")
	}
	return postgres.Open(ctx, url, conns)
}

// riskTrain runs `paylink risk train [-force] [-min N]`: it refits the
// risk model from the platform's fraud labels, prints the held-out AUC of
// the new and the active model, stores the new version and activates it
// only when it is better (or with -force).
func riskTrain(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	const use = "usage: paylink risk train [-force] [-min N]\n"
	opts := riskmodel.DefaultOptions
	fs := flag.NewFlagSet("risk train", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.BoolVar(&opts.Force, "force", false, "activate the new version even when its AUC is not higher")
	fs.IntVar(&opts.MinPerClass, "min", opts.MinPerClass, "fewest fraud and not-fraud labels to train on")
	if err := fs.Parse(args); err != nil || fs.NArg() > 0 {
		fmt.Fprint(stderr, use)
		return exitCode(2)
	}
	db, err := openDB(ctx, getenv, 2)
	if err != nil {
		return err
	}
	defer db.Close()
	r, err := riskmodel.Train(ctx, db, time.Now(), opts)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "labels: %d fraud, %d not fraud; %d held out\n", r.Fraud, r.Legit, r.HeldOut)
	if r.Stored {
		fmt.Fprintf(stdout, "held-out AUC: new %s %.4f, active %s %.4f\n", r.Version, r.AUC, r.Previous, r.PreviousAUC)
	}
	fmt.Fprintln(stdout, r.Why)
	return nil
}
