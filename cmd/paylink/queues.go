package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/hibiken/asynq"

	"github.com/paylink/paylink/internal/config"
	"github.com/paylink/paylink/internal/notify"
	"github.com/paylink/paylink/internal/webhook/delivery"
)

// queues prints, for operators, Asynq's queues in Redis next to the
// outboxes in PostgreSQL, which hold what Redis may have lost; with
// -dead N, also the last N tasks Asynq gave up on in each queue.
func queues(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("queues", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dead := fs.Int("dead", 0, "also list the last N tasks given up on (archived) per queue")
	if err := fs.Parse(args); err != nil {
		return exitCode(2)
	}
	db, err := openDB(ctx, getenv, 2)
	if err != nil {
		return err
	}
	defer db.Close()
	rc, err := config.LoadRedis(getenv)
	if err != nil {
		return err
	}
	redisOpt := rc.Asynq()
	insp := asynq.NewInspector(redisOpt)
	defer insp.Close()

	names, err := insp.Queues()
	if err != nil {
		return fmt.Errorf("list queues: %w", err)
	}
	sort.Strings(names)
	tw := tabwriter.NewWriter(stdout, 2, 8, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(stdout, "Asynq queues (Redis):")
	fmt.Fprintln(tw, "queue\tpending\tactive\tscheduled\tretry\tarchived\tprocessed today\tfailed today\tlatency\tpaused\t")
	for _, q := range names {
		info, err := insp.GetQueueInfo(q)
		if err != nil {
			return fmt.Errorf("queue %s: %w", q, err)
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%s\t%t\t\n", q, info.Pending, info.Active, info.Scheduled,
			info.Retry, info.Archived, info.Processed, info.Failed, info.Latency.Round(time.Millisecond), info.Paused)
	}
	if len(names) == 0 {
		fmt.Fprintln(tw, "(none yet)\t\t\t\t\t\t\t\t\t\t")
	}
	if err := tw.Flush(); err != nil {
		return err
	}

	wb, err := delivery.ReadBacklog(ctx, db.Pool, time.Now())
	if err != nil {
		return err
	}
	mb, err := notify.ReadBacklog(ctx, db.Pool)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, `
Outboxes (PostgreSQL, the source of truth):
  webhook deliveries pending:      %d  (not yet handed to Asynq: %d; overdue by over a minute: %d; oldest: %s)
  events awaiting their e-mails:   %d
  e-mails unsent:                  %d  (not yet handed to Asynq: %d; oldest: %s)
`, wb.Pending, wb.Unrelayed, wb.Overdue, age(wb.OldestPending), wb.EventsToNotify, mb.Unsent, mb.Unrelayed, age(mb.OldestOpen))

	if *dead <= 0 {
		return nil
	}
	for _, q := range names {
		tasks, err := insp.ListArchivedTasks(q, asynq.PageSize(*dead))
		if err != nil {
			return fmt.Errorf("archived tasks of %s: %w", q, err)
		}
		fmt.Fprintf(stdout, "\nGiven up on in %s (%d shown):\n", q, len(tasks))
		for _, t := range tasks {
			fmt.Fprintf(stdout, "  %s  %s  %s  %s\n", t.LastFailedAt.UTC().Format(time.RFC3339), t.ID, t.Type, oneLine(t.LastErr))
		}
	}
	return nil
}

// age writes how long ago t was, or "-".
func age(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return time.Since(*t).Round(time.Second).String() + " ago"
}

func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 160 {
		s = s[:160] + "…"
	}
	return s
}
