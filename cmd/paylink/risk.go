package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/paylink/paylink/internal/postgres"
	"github.com/paylink/paylink/internal/riskmodel"
)

// riskCmd runs `paylink risk train [-force] [-min N]`: it refits the risk
// model from the platform's fraud labels, prints the held-out AUC of the
// new and the active model, stores the new version and activates it only
// when it is better (or with -force).
func riskCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	const use = "usage: paylink risk train [-force] [-min N]\n"
	if len(args) == 0 || args[0] != "train" {
		fmt.Fprint(stderr, use)
		return exitCode(2)
	}
	opts := riskmodel.DefaultOptions
	fs := flag.NewFlagSet("risk train", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.BoolVar(&opts.Force, "force", false, "activate the new version even when its AUC is not higher")
	fs.IntVar(&opts.MinPerClass, "min", opts.MinPerClass, "fewest fraud and not-fraud labels to train on")
	if err := fs.Parse(args[1:]); err != nil || fs.NArg() > 0 {
		fmt.Fprint(stderr, use)
		return exitCode(2)
	}
	url := strings.TrimSpace(getenv("DATABASE_URL"))
	if url == "" {
		return errors.New("config: DATABASE_URL: is required")
	}
	db, err := postgres.Open(ctx, url, 2)
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
