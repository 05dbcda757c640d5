// Command paylink is the one Paylink binary: the API server, the worker,
// migrations, a development mode running everything in one process, and
// small operator commands.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"text/tabwriter"

	"github.com/paylink/paylink/internal/config"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		var exit exitCode
		if errors.As(err, &exit) {
			os.Exit(int(exit))
		}
		fmt.Fprintln(os.Stderr, "paylink:", err)
		os.Exit(1)
	}
}

// exitCode is an error that only sets the process's exit status (its
// message was already printed).
type exitCode int

func (e exitCode) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

const usage = `usage: paylink <command>

commands:
  api       serve the HTTP API, checkout pages and metrics
  worker    run background tasks (webhooks, e-mail, expiry, clean-up)
  migrate [-force VERSION]
            apply database migrations and exit; -force only records
            VERSION after a process was stopped mid-migration
  dev       api + worker in one process; starts a private PostgreSQL and
            Redis under ./.data when DATABASE_URL / REDIS_URL are unset,
            migrates and seeds a demo merchant
  ledger verify
            rebuild every balance from the ledger's postings and report
            any mismatch or unbalanced transaction (exit status 1)
  cluster [-dir D] [-port P] [-fresh]
            the production topology on this machine: PostgreSQL with
            pg_auto_failover, Redis with Sentinel, 2 api and 2 worker
            processes behind nginx (make cluster)
  devenv -- CMD [ARGS…]
            run CMD with a private PostgreSQL and Redis (for make test/bench)
  queues [-dead N]
            Asynq queues and the PostgreSQL outboxes (webhooks, e-mails);
            with -dead N, the last N tasks given up on per queue
  risk train [-force] [-min N]
            refit the risk model from fraud labels (fraudulent refunds,
            reviews closed as refunded) and activate it only when its
            held-out AUC beats the active model's (or with -force)
  risk payouts
            the wallet withdrawals whose payouts screening holds for a day
  risk release WITHDRAWAL_ID
            end a payout's hold after looking at it: the worker pays it out
  help      this text and the configuration variables
`

// run is the whole program; tests call it with their own args and getenv.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitCode(2)
	}
	if about, ok := argless[args[0]]; ok {
		if err := noArgs(args[0], about, args[1:], stdout, stderr); err != nil {
			return err
		}
	}
	switch args[0] {
	case "api":
		return serve(ctx, getenv, stderr, true, false)
	case "worker":
		return serve(ctx, getenv, stderr, false, true)
	case "migrate":
		return migrate(args[1:], getenv, stdout, stderr)
	case "dev":
		return dev(ctx, getenv, stdout, stderr)
	case "ledger":
		return ledgerCmd(ctx, args[1:], getenv, stdout, stderr)
	case "cluster":
		return clusterCmd(ctx, args[1:], getenv, stdout, stderr)
	case "devenv":
		return devenvExec(ctx, args[1:], getenv, stdout, stderr)
	case "queues":
		return queues(ctx, args[1:], getenv, stdout, stderr)
	case "risk":
		return riskCmd(ctx, args[1:], getenv, stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		fmt.Fprintln(stdout, "\nconfiguration (environment variables):")
		tw := tabwriter.NewWriter(stdout, 2, 8, 2, ' ', 0)
		for _, v := range config.Vars() {
			fmt.Fprintf(tw, "  %s\t%s\t%s\n", v.Name, v.Default, v.Help)
		}
		return tw.Flush()
	default:
		fmt.Fprintf(stderr, "paylink: unknown command %q\n\n%s", args[0], usage)
		return exitCode(2)
	}
}

// argless describes the commands that take no arguments.
var argless = map[string]string{
	"api":    "Serves the HTTP API, checkout pages, dashboard, /healthz and /readyz on PAYLINK_ADDR,\nand /metrics on PAYLINK_METRICS_ADDR, until SIGTERM or Ctrl-C.\n",
	"worker": "Runs the background tasks (webhooks, e-mail, expiry, settlement, clean-up)\nuntil SIGTERM or Ctrl-C; /metrics on PAYLINK_METRICS_ADDR.\n",
	"dev": "Runs api and worker in one process. With DATABASE_URL or REDIS_URL unset it\n" +
		"starts a private PostgreSQL and Redis under PAYLINK_DEV_DIR (default .data),\n" +
		"generates development secrets there once, migrates, seeds a demo merchant and\n" +
		"prints its key pair, a checkout link and where e-mails go. PAYLINK_EXAMPLE_ADDR\n" +
		"(default 127.0.0.1:8081; off for none) serves the example merchant site.\n",
}

// noArgs checks that a command taking no arguments got none: -h or
// --help prints what it does (exit status 0) and anything else is a usage
// error (exit status 2), so that `paylink migrate -h` never migrates.
func noArgs(name, about string, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return nil
	}
	use := fmt.Sprintf("usage: paylink %s\n\n%s\nConfiguration variables: paylink help.\n", name, about)
	if len(args) == 1 && (args[0] == "-h" || args[0] == "-help" || args[0] == "--help") {
		fmt.Fprint(stdout, use)
		return exitCode(0)
	}
	fmt.Fprintf(stderr, "paylink %s: unexpected argument %q\n%s", name, args[0], use)
	return exitCode(2)
}
