package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/paylink/paylink/internal/postgres"
)

const migrateUsage = `usage: paylink migrate [-force VERSION]

Applies the embedded migrations to DATABASE_URL and exits; safe to run
from several replicas at once. A migration PostgreSQL refuses changes
nothing and leaves the schema at the version before it.

-force VERSION runs no migration: it records VERSION as the schema's
version after a process was stopped while it applied a migration (the
"dirty" error names that migration; see RELIABILITY.md).

Configuration variables: paylink help.
`

// migrate applies the migrations to DATABASE_URL, or with -force records a
// version by hand.
func migrate(args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("migrate", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	force := fs.String("force", "", "")
	err := fs.Parse(args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		fmt.Fprint(stdout, migrateUsage)
		return exitCode(0)
	case err != nil:
		fmt.Fprintf(stderr, "paylink migrate: %v\n%s", err, migrateUsage)
		return exitCode(2)
	case fs.NArg() > 0:
		fmt.Fprintf(stderr, "paylink migrate: unexpected argument %q\n%s", fs.Arg(0), migrateUsage)
		return exitCode(2)
	}
	version, err := strconv.ParseUint(*force, 10, 0)
	if *force != "" && err != nil {
		fmt.Fprintf(stderr, "paylink migrate: -force takes a migration number, not %q\n", *force)
		return exitCode(2)
	}
	url := strings.TrimSpace(getenv("DATABASE_URL"))
	if url == "" {
		return errors.New("config: DATABASE_URL: is required")
	}
	if *force != "" {
		if err := postgres.Force(url, uint(version)); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "database schema recorded at version %d; run paylink migrate to apply the rest\n", version)
		return nil
	}
	v, err := postgres.Migrate(url)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "database schema at version %d\n", v)
	return nil
}
