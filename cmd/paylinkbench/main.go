// Command paylinkbench is Paylink's load generator for `make bench`. Each
// subcommand drives one part of the system against a real database and
// prints throughput and latency; `paylinkbench ledger` posts ledger
// transfers.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/paylink/paylink/cmd/paylinkbench/fraud"
	"github.com/paylink/paylink/cmd/paylinkbench/seed"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		var exit exitCode
		if !errors.As(err, &exit) {
			fmt.Fprintln(os.Stderr, "paylinkbench:", err)
			exit = 1
		}
		os.Exit(int(exit))
	}
}

// exitCode is an error that only sets the exit status (usage was printed).
type exitCode int

func (e exitCode) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

const usage = `usage: paylinkbench <benchmark> [flags]

benchmarks:
  ledger    ledger transfers per second and latency (-h for flags)
  checkout  checkout payments per second over HTTP against a running API (-h for flags)
  seed      fill an empty database with a long, skewed history, fast (COPY) (-h for flags)
  fraud     legitimate shoppers and three attacks through the checkout: what risk screening stops, and what it costs (-h for flags)
  reads     list, balance and wallet reads against a running API on a seeded database (-h for flags)
`

// run dispatches to one benchmark; each lives in its own file.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitCode(2)
	}
	switch args[0] {
	case "ledger":
		return benchLedger(ctx, args[1:], getenv, stdout, stderr)
	case "checkout":
		return benchCheckout(ctx, args[1:], stdout, stderr)
	case "seed":
		return usageExit(seed.Run(ctx, args[1:], getenv, stdout, stderr))
	case "fraud":
		return usageExit(fraud.Run(ctx, args[1:], stdout, stderr))
	case "reads":
		return benchReads(ctx, args[1:], stdout, stderr)
	default:
		fmt.Fprintf(stderr, "paylinkbench: unknown benchmark %q\n\n%s", args[0], usage)
		return exitCode(2)
	}
}

// usageExit turns a subpackage's ErrUsage into exit status 2.
func usageExit(err error) error {
	if errors.Is(err, seed.ErrUsage) || errors.Is(err, fraud.ErrUsage) {
		return exitCode(2)
	}
	return err
}
