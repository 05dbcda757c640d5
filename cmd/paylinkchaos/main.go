// Command paylinkchaos is `make chaos`: a bounded campaign against the
// production topology (`paylink cluster`, started here in a folder of its
// own) that pays links, refunds, tops wallets up and transfers between
// them, each request retried with its Idempotency-Key until its answer is
// definitive, while it kills API and worker processes, the PostgreSQL
// primary and the Redis master at random moments and wipes Redis once.
// Then it checks that nothing was lost or done twice and prints a table;
// the exit status is 1 when any check failed. Everything runs on
// loopback.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/paylink/paylink/internal/chaos"
	"github.com/paylink/paylink/internal/cluster"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	var exit exitCode
	if errors.As(err, &exit) {
		os.Exit(int(exit))
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "paylinkchaos:", err)
		os.Exit(1)
	}
}

type exitCode int

func (e exitCode) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

// options are the campaign's flags.
type options struct {
	duration, drain time.Duration
	maxOps          int64
	dir, paylink    string
	port            int
	payers, mixers  int
	merchants       int
	users           int
	seed            uint64
	rate            float64
	faults          chaos.Counts
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var o options
	fs := flag.NewFlagSet("paylinkchaos", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.DurationVar(&o.duration, "duration", 10*time.Minute, "how long the load and the faults last")
	fs.DurationVar(&o.drain, "drain", 5*time.Minute, "how long to wait afterwards for webhooks and e-mails to go out")
	fs.Int64Var(&o.maxOps, "max-ops", 200000, "stop the load after this many operations")
	fs.StringVar(&o.dir, "dir", ".data/chaos", "folder of the campaign's cluster (emptied first)")
	fs.StringVar(&o.paylink, "paylink", "bin/paylink", "the paylink binary")
	fs.IntVar(&o.port, "port", 8190, "the cluster's public port")
	fs.IntVar(&o.payers, "payers", 4, "clients that only pay links")
	fs.IntVar(&o.mixers, "mixers", 2, "clients that refund, transfer and top up")
	fs.IntVar(&o.merchants, "merchants", 6, "merchants")
	fs.IntVar(&o.users, "users", 12, "wallet users")
	fs.Uint64Var(&o.seed, "seed", 0, "random seed (0: random)")
	fs.Float64Var(&o.rate, "rate", 40, "operations started per second at most, all clients together (the machine is shared)")
	fs.IntVar(&o.faults.APIKills, "api-kills", 10, "kill -9 of each of the 2 API processes")
	fs.IntVar(&o.faults.WorkerKills, "worker-kills", 10, "kill -9 of each of the 2 worker processes")
	fs.IntVar(&o.faults.PG, "pg-failovers", 3, "kills of the PostgreSQL primary")
	fs.IntVar(&o.faults.Redis, "redis-failovers", 3, "kills of the Redis master")
	fs.IntVar(&o.faults.Flush, "flushes", 1, "Redis FLUSHALLs")
	if err := fs.Parse(args); err != nil {
		return exitCode(2)
	}
	if o.seed == 0 {
		o.seed = mrand.Uint64()
	}
	paylink, err := filepath.Abs(o.paylink)
	if err != nil {
		return err
	}
	o.paylink = paylink
	started := time.Now()
	fmt.Fprintf(stdout, "paylinkchaos %s\nmachine: %d CPUs (%s), load %s, %s\n", strings.Join(args, " "), runtime.NumCPU(),
		cpuModel(), loadAvg(), started.UTC().Format(time.RFC3339))

	recv, err := startReceiver()
	if err != nil {
		return err
	}
	defer recv.srv.Close()
	mail, err := startMailbox()
	if err != nil {
		return err
	}
	defer mail.sink.Close()

	stopCluster, err := startCluster(ctx, o, mail, stderr)
	if err != nil {
		return err
	}
	defer stopCluster()
	st, err := cluster.ReadState(o.dir)
	if err != nil {
		return err
	}
	db, err := pgxpool.New(ctx, st.DatabaseURL)
	if err != nil {
		return err
	}
	defer db.Close()

	runID := make([]byte, 4)
	_, _ = rand.Read(runID)
	k := &campaign{base: fmt.Sprintf("http://127.0.0.1:%d", o.port), run: hex.EncodeToString(runID), c: newClient(),
		m: &model{}, st: &stats{}, recv: recv, maxOps: o.maxOps}
	if err := k.setup(ctx, o.merchants, o.users); err != nil {
		return fmt.Errorf("setup: %w", err)
	}
	fmt.Fprintf(stderr, "chaos: %d merchants and %d wallet users ready; load and faults for %s\n", o.merchants, o.users, o.duration)

	in := &chaos.Injector{Dir: o.dir, Log: stderr, Rand: mrand.New(mrand.NewPCG(o.seed, 1))}
	plan := in.Plan(o.faults)
	loadStart := time.Now()
	end := loadStart.Add(o.duration)
	stopLoad := make(chan struct{})
	var wg sync.WaitGroup
	for i := range o.payers + o.mixers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			every := time.Duration(float64(time.Second) * float64(o.payers+o.mixers) / o.rate)
			_ = k.worker(ctx, stopLoad, o.seed+uint64(i)+1, i < o.payers, every)
		}()
	}
	faultsDone := make(chan struct{})
	go func() {
		defer close(faultsDone)
		// The last fault comes 30 s before the end, to see its effect.
		in.Run(ctx, plan, end.Add(-30*time.Second))
	}()
	// The load runs its full time, and on until the faults are all in
	// (at most 10 minutes more), or until the budget is spent.
	select {
	case <-time.After(o.duration):
	case <-ctx.Done():
	}
	select {
	case <-faultsDone:
	case <-time.After(10 * time.Minute):
	case <-ctx.Done():
	}
	loadEnd := time.Now()
	close(stopLoad)
	wg.Wait()
	<-faultsDone
	if ctx.Err() != nil {
		return ctx.Err()
	}
	fmt.Fprintf(stderr, "chaos: load over after %s; waiting for webhooks and e-mails\n", loadEnd.Sub(loadStart).Round(time.Second))

	v := &verifier{k: k, db: db, paylink: o.paylink, dbURL: st.DatabaseURL, mail: mail}
	for _, m := range k.m.merchants {
		v.merchants = append(v.merchants, m.id)
	}
	took, derr := v.drain(ctx, o.drain)
	v.add("outboxes drained after the load", took.Round(time.Second).String()+errNote(derr), "within "+o.drain.String(), derr == nil)
	v.run(ctx)
	report(stdout, o, k, in, v, loadStart, loadEnd)
	fmt.Fprintf(stdout, "\nfinished %s (load %s, whole run %s), seed %d, load now %s\n", time.Now().UTC().Format(time.RFC3339),
		loadEnd.Sub(loadStart).Round(time.Second), time.Since(started).Round(time.Second), o.seed, loadAvg())
	for _, r := range v.rows {
		if !r.ok {
			return exitCode(1)
		}
	}
	return nil
}

// startCluster runs `paylink cluster` in o.dir, afresh, with settings
// for the campaign: its mail to mail, no rate limits (every client comes
// from 127.0.0.1), no caps on shopper e-mails, webhook retries and the
// outbox sweep in seconds. It returns once the cluster is up, and a
// function stopping it.
func startCluster(ctx context.Context, o options, mail *mailbox, stderr io.Writer) (func(), error) {
	if err := os.MkdirAll(o.dir, 0o755); err != nil {
		return nil, err
	}
	logPath := filepath.Join(o.dir, "cluster.out")
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(o.paylink, "cluster", "-dir", o.dir, "-port", fmt.Sprint(o.port), "-fresh")
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.Env = append(os.Environ(),
		"PAYLINK_SMTP_HOST=127.0.0.1", fmt.Sprintf("PAYLINK_SMTP_PORT=%d", mail.sink.Addr().Port),
		"PAYLINK_RATE_LIMIT_API=1000000-S", "PAYLINK_RATE_LIMIT_PUBLIC=1000000-S", "PAYLINK_RATE_LIMIT_LOGIN=1000000-S",
		// A few shoppers paying thousands of times would reach the caps on
		// shopper e-mails, which hold receipts back by design; the campaign
		// checks that every e-mail is sent, so it lifts them.
		"PAYLINK_SHOPPER_EMAILS_PER_RECIPIENT=100000000-D", "PAYLINK_SHOPPER_EMAILS_PER_MERCHANT=100000000-D",
		"PAYLINK_WEBHOOK_RETRY_SCHEDULE=1s,2s,3s,5s,5s,10s,10s,10s,10s,10s,10s,10s,10s,10s,10s,10s,10s,10s,10s,10s",
		"PAYLINK_OUTBOX_SWEEP=10s", "PAYLINK_LINK_EXPIRY_INTERVAL=10s")
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGINT}
	fmt.Fprintf(stderr, "chaos: starting the cluster in %s (log: %s)\n", o.dir, logPath)
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, err
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); logf.Close(); close(exited) }()
	stop := func() {
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case <-exited:
		case <-time.After(2 * time.Minute):
			_ = cmd.Process.Kill()
			<-exited
		}
	}
	os.Remove(filepath.Join(o.dir, cluster.StateFile))
	deadline := time.Now().Add(5 * time.Minute)
	for {
		if st, err := cluster.ReadState(o.dir); err == nil && st.Ready {
			return stop, nil
		}
		select {
		case <-exited:
			return nil, fmt.Errorf("paylink cluster exited; see %s", logPath)
		case <-ctx.Done():
			stop()
			return nil, ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			stop()
			return nil, fmt.Errorf("paylink cluster not ready within 5 minutes; see %s", logPath)
		}
	}
}

// report prints the final table.
func report(w io.Writer, o options, k *campaign, in *chaos.Injector, v *verifier, loadStart, loadEnd time.Time) {
	ops, first := k.st.ops.Load(), k.st.firstTry.Load()
	share := 0.0
	if ops > 0 {
		share = 100 * float64(first) / float64(ops)
	}
	m := k.m
	v.add("operations with a definitive answer (retried with their Idempotency-Key)",
		fmt.Sprintf("%d of %d (%d payments, %d declines, %d refunds, %d transfers, %d top-ups); %d undecided",
			ops-k.st.undecided.Load(), ops, len(m.payments), m.declined, len(m.refundIDs), len(m.transfers)+m.nsf,
			sumTopUps(m), k.st.undecided.Load()), "all", k.st.undecided.Load() == 0)
	v.add("answers as expected (no unexpected status)", fmt.Sprintf("%d unexpected", len(k.st.errs)), "0", len(k.st.errs) == 0)
	v.add("requests that succeeded on the first try", fmt.Sprintf("%.2f%% (%d of %d)", share, first, ops), "reported", true)

	kinds := []struct {
		kind, target string
		min          int
		limit        time.Duration
	}{
		{chaos.KindPG, "< 15s", o.faults.PG, 15 * time.Second},
		{chaos.KindRedis, "< 10s", o.faults.Redis, 10 * time.Second},
		{chaos.KindAPI, "< 1s", 2 * o.faults.APIKills, time.Second},
		{chaos.KindWorker, "reported", 2 * o.faults.WorkerKills, 0},
		{chaos.KindFlush, "reported", o.faults.Flush, 0},
	}
	win := windows(in.Faults, k.st.successes, loadEnd)
	for _, kd := range kinds {
		n, took, settled := 0, 0, 0
		var longest time.Duration
		targets := map[string]int{}
		for i, f := range in.Faults {
			if f.Kind != kd.kind || f.At.IsZero() {
				continue
			}
			n++
			targets[f.Target]++
			if f.FailedOver {
				took++
			}
			if f.Settled {
				settled++
			}
			longest = max(longest, win[i])
		}
		var names []string
		for t, c := range targets {
			names = append(names, fmt.Sprintf("%s ×%d", t, c))
		}
		v.add(kd.kind, fmt.Sprintf("%d (%s); %d taken over or done, %d recovered fully before the next fault",
			n, strings.Join(names, ", "), took, settled), fmt.Sprintf(">= %d", kd.min), n >= kd.min && took == n && settled == n)
		v.add("  longest time without a successful payment after it", longest.Round(10*time.Millisecond).String(), kd.target,
			kd.limit == 0 || longest < kd.limit)
	}
	fmt.Fprintln(w, "\nfaults (time, kind, process, longest time without a successful payment until the next fault):")
	for i, f := range in.Faults {
		fmt.Fprintf(w, "  %s  %-26s %-11s %8s  %s\n", f.At.Format("15:04:05.000"), f.Kind, f.Target,
			win[i].Round(10*time.Millisecond), f.Note)
	}
	for _, e := range k.st.errs {
		fmt.Fprintln(w, "  note:", e)
	}
	fmt.Fprintf(w, "\nload %s, %d clients (%d paying, %d mixing), %d merchants, %d wallet users\n\n",
		loadEnd.Sub(loadStart).Round(time.Second), o.payers+o.mixers, o.payers, o.mixers, o.merchants, o.users)
	tw := tabwriter.NewWriter(w, 2, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "check\tresult\ttarget\t")
	for _, r := range v.rows {
		verdict := "ok"
		if !r.ok {
			verdict = "FAIL"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.check, r.result, r.target, verdict)
	}
	tw.Flush()
}

func sumTopUps(m *model) int {
	n := 0
	for _, c := range m.topups {
		n += c
	}
	return n
}

func cpuModel() string {
	b, _ := os.ReadFile("/proc/cpuinfo")
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "model name") {
			_, v, _ := strings.Cut(l, ":")
			return strings.TrimSpace(v)
		}
	}
	return "unknown CPU"
}

func loadAvg() string {
	b, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}
