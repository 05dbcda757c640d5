package main

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/paylink/paylink/cmd/paylinkbench/procstat"
)

// webhookFlags are the options of the webhooks shape.
type webhookFlags struct {
	worker      string
	workerPprof string
	db          string
	drain       time.Duration
	every       time.Duration
}

func (w *webhookFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&w.worker, "worker", "", "webhooks shape: shell command that runs the worker (started for the shape, stopped with SIGTERM after it)")
	fs.StringVar(&w.workerPprof, "worker-pprof", "", "webhooks shape: base URL of the worker's PAYLINK_DEBUG_ADDR, for a CPU profile of it")
	fs.StringVar(&w.db, "db", "", "webhooks shape: database URL to sample the outboxes' depth (pending deliveries, events awaiting their e-mails) from")
	fs.DurationVar(&w.drain, "drain", 2*time.Minute, "webhooks shape: how long to wait after the run for the webhooks still due")
	fs.DurationVar(&w.every, "every", 5*time.Second, "webhooks shape: length of each line of the time series")
}

// benchWebhooks is the webhooks shape: every merchant gets an endpoint on
// a local receiver, the worker runs, and the spread load runs as usual.
// It reports the API's throughput against spread (payments/s of the
// spread shape without the worker, 0 when not run), the deliveries per
// second, the delay from each payment's answer to its webhook's arrival,
// the outbox depth over time, and what each process spent per payment.
func benchWebhooks(ctx context.Context, f *checkoutFlags, s *shop, p *payer, procs []procstat.Proc, spread float64, stdout, stderr io.Writer) error {
	tr := &tracker{pays: map[string]*track{}}
	rcv, err := newReceiver(tr, len(s.merchants))
	if err != nil {
		return err
	}
	defer rcv.close()
	if err := rcv.subscribe(ctx, s, f.concurrency); err != nil {
		return err
	}
	var depth func(context.Context) (int64, int64, error)
	if f.hooks.db != "" {
		conn, err := pgx.Connect(ctx, f.hooks.db)
		if err != nil {
			return fmt.Errorf("-db: %w", err)
		}
		defer conn.Close(context.WithoutCancel(ctx))
		depth = func(ctx context.Context) (int64, int64, error) {
			var deliveries, events int64
			err := conn.QueryRow(ctx, `SELECT (SELECT count(*) FROM webhook_deliveries WHERE status = 'pending'),
				(SELECT count(*) FROM events WHERE notified_at IS NULL)`).Scan(&deliveries, &events)
			return deliveries, events, err
		}
	}
	if f.hooks.worker != "" {
		stop, pid, err := startWorker(f.hooks.worker, filepath.Join(f.profileDir, "checkout-webhooks-worker.log"))
		if err != nil {
			return err
		}
		defer stop()
		procs = append(slices.Clone(procs[:max(len(procs)-1, 0)]), procstat.Proc{Name: "worker", PID: pid})
		procs = append(procs, procstat.Proc{Name: "bench", PID: os.Getpid()})
	}
	targets := s.linkURLs()
	p.paid = tr.answered
	defer func() { p.paid = nil }()
	p.run(ctx, targets, f.concurrency, f.warmup)

	profiles := map[string]string{"api": f.pprofURL, "worker": f.hooks.workerPprof}
	profiled := make(chan error, len(profiles))
	for name, u := range profiles {
		if u == "" {
			profiled <- nil
			continue
		}
		go func() {
			profiled <- procstat.Profile(ctx, u, f.duration, filepath.Join(f.profileDir, "checkout-webhooks-"+name+".pprof"))
		}()
	}
	smp := &sampler{p: p, tr: tr, depth: depth}
	smp.take(ctx)
	sampling, stopSampling := context.WithCancel(ctx)
	sampled := make(chan struct{})
	go func() { defer close(sampled); smp.loop(sampling, time.Second) }()

	before := procstat.Times(procs, f.clkTck)
	tr.measure(true)
	res := p.run(ctx, targets, f.concurrency, f.duration)
	tr.measure(false)
	after := procstat.Times(procs, f.clkTck)
	runEnd := time.Now()
	arrivedAtEnd := tr.arrivals.Load()
	drained := tr.waitAll(ctx, f.hooks.drain)
	afterDrain := procstat.Times(procs, f.clkTck)
	drainedN := int(tr.arrivals.Load() - arrivedAtEnd)
	stopSampling()
	<-sampled
	smp.take(ctx)
	for range profiles {
		if err := <-profiled; err != nil {
			fmt.Fprintf(stderr, "checkout webhooks: cpu profile: %v\n", err)
		}
	}

	rate := float64(res.ok) / f.duration.Seconds()
	vs := ""
	if spread > 0 {
		vs = fmt.Sprintf(" = %.0f%% of the spread run without the worker (%.0f/s; target >= 85%%)", 100*rate/spread, spread)
	}
	fmt.Fprintf(stdout, "checkout webhooks c=%d d=%s links=%d endpoints=%d: %d payments, %.0f payments/s%s, p50 %s, p99 %s, max %s, errors %d\n",
		f.concurrency, f.duration, len(targets), len(s.merchants), res.ok, rate, vs,
		res.quantile(0.50), res.quantile(0.99), res.quantile(1), res.errors)
	if res.firstErr != "" {
		fmt.Fprintf(stdout, "  first error: %s\n", res.firstErr)
	}
	st := tr.stats()
	delivered := smp.arrivedBetween(smp.samples[0].at, runEnd)
	fmt.Fprintf(stdout, "  webhooks: %d arrived during the run = %.0f deliveries/s (payments %.0f/s); delay from the payment's answer to its webhook: p50 %s, p99 %s, max %s (target p99 < 1s)\n",
		delivered, float64(delivered)/f.duration.Seconds(), rate, st.quantile(0.5), st.quantile(0.99), st.quantile(1))
	drain := "the outbox did not drain"
	if drained >= 0 {
		drain = fmt.Sprintf("the last webhook arrived %s after the run", drained.Round(time.Millisecond))
	}
	fmt.Fprintf(stdout, "  %s; payments of the run whose webhook never arrived: %d; duplicates: %d; bad signatures: %d\n",
		drain, st.lost, tr.dups.Load(), tr.badSig.Load())
	fmt.Fprint(stdout, smp.series(f.hooks.every, runEnd, st.byAnswer))
	fmt.Fprint(stdout, procstat.Line(procs, before, after, res.ok, "payment", "payments"))
	if drainedN > 0 {
		fmt.Fprintf(stdout, "  the drain after the run (webhooks only, no payments): %d webhooks\n", drainedN)
		fmt.Fprint(stdout, procstat.Line(procs, after, afterDrain, drainedN, "delivery", "deliveries"))
	}
	return nil
}

// track is one payment: when its answer reached the client, and when its
// webhook reached the receiver.
type track struct {
	answered, arrived time.Time
	measured          bool
}

// tracker pairs each payment's answer with its webhook.
type tracker struct {
	mu        sync.Mutex
	pays      map[string]*track
	measuring bool
	arrivals  atomic.Int64 // first arrivals, of known payments or not
	dups      atomic.Int64
	badSig    atomic.Int64
}

func (t *tracker) get(payID string) *track {
	tr := t.pays[payID]
	if tr == nil {
		tr = &track{}
		t.pays[payID] = tr
	}
	return tr
}

// answered records that payment payID's answer arrived at at.
func (t *tracker) answered(payID string, at time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	tr := t.get(payID)
	tr.answered, tr.measured = at, t.measuring
}

// arrived records that payment payID's webhook arrived at at.
func (t *tracker) arrived(payID string, at time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	tr := t.get(payID)
	if !tr.arrived.IsZero() {
		t.dups.Add(1)
		return
	}
	tr.arrived = at
	t.arrivals.Add(1)
}

func (t *tracker) measure(on bool) {
	t.mu.Lock()
	t.measuring = on
	t.mu.Unlock()
}

// waitAll waits up to limit for every answered payment's webhook and
// returns when the last one arrived, or -1 if some did not in time.
func (t *tracker) waitAll(ctx context.Context, limit time.Duration) time.Duration {
	start := time.Now()
	for {
		t.mu.Lock()
		missing := 0
		var last time.Time
		for _, tr := range t.pays {
			if !tr.answered.IsZero() && tr.arrived.IsZero() {
				missing++
			}
			if tr.arrived.After(last) {
				last = tr.arrived
			}
		}
		t.mu.Unlock()
		if missing == 0 {
			return max(last.Sub(start), 0)
		}
		if time.Since(start) > limit || ctx.Err() != nil {
			return -1
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// delayStats are the delays of the measured payments.
type delayStats struct {
	delays   []time.Duration
	lost     int
	byAnswer []timedDelay // by answer time, for the time series
}

type timedDelay struct {
	at    time.Time
	delay time.Duration
}

func (d delayStats) quantile(q float64) time.Duration {
	return result{latencies: d.delays}.quantile(q)
}

// stats computes the delays of the measured payments. A webhook that
// arrived before the client read the payment's answer counts as 0.
func (t *tracker) stats() delayStats {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out delayStats
	for _, tr := range t.pays {
		if !tr.measured || tr.answered.IsZero() {
			continue
		}
		if tr.arrived.IsZero() {
			out.lost++
			continue
		}
		d := max(tr.arrived.Sub(tr.answered), 0)
		out.delays = append(out.delays, d)
		out.byAnswer = append(out.byAnswer, timedDelay{tr.answered, d})
	}
	slices.Sort(out.delays)
	slices.SortFunc(out.byAnswer, func(a, b timedDelay) int { return a.at.Compare(b.at) })
	return out
}

// receiver is the merchants' webhook endpoint: /hook/<merchant index>. It
// checks every signature and tells the tracker which payment arrived.
type receiver struct {
	tr      *tracker
	ln      net.Listener
	srv     *http.Server
	secrets [][]byte // HMAC key per merchant index
}

func newReceiver(tr *tracker, merchants int) (*receiver, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	r := &receiver{tr: tr, ln: ln, secrets: make([][]byte, merchants)}
	r.srv = &http.Server{Handler: r, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = r.srv.Serve(ln) }()
	return r, nil
}

func (r *receiver) close() { r.srv.Close() }

// ServeHTTP receives one webhook.
func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	at := time.Now()
	body, err := io.ReadAll(req.Body)
	i, ierr := strconv.Atoi(strings.TrimPrefix(req.URL.Path, "/hook/"))
	if err != nil || ierr != nil || i < 0 || i >= len(r.secrets) {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	msgID, ts := req.Header.Get("webhook-id"), req.Header.Get("webhook-timestamp")
	mac := hmac.New(sha256.New, r.secrets[i])
	mac.Write([]byte(msgID + "." + ts + "."))
	mac.Write(body)
	want := "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
	if !slices.Contains(strings.Fields(req.Header.Get("webhook-signature")), want) {
		r.tr.badSig.Add(1)
		http.Error(w, "bad signature", http.StatusBadRequest)
		return
	}
	var ev struct {
		Data struct {
			ID string `json:"id"`
		} `json:"data"`
	}
	if json.Unmarshal(body, &ev) != nil || ev.Data.ID == "" {
		http.Error(w, "bad body", http.StatusBadRequest)
		return
	}
	r.tr.arrived(ev.Data.ID, at)
	w.WriteHeader(http.StatusNoContent)
}

// subscribe gives every merchant one endpoint on the receiver for every
// event, deleting the endpoints earlier runs left (their receivers are
// gone).
func (r *receiver) subscribe(ctx context.Context, s *shop, parallel int) error {
	base := "http://" + r.ln.Addr().String()
	errs := make(chan error, len(s.merchants))
	sem := make(chan struct{}, parallel)
	var wg sync.WaitGroup
	for i, m := range s.merchants {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			basic := m.KeyID + ":" + m.KeySecret
			var old struct {
				Data []struct{ ID string } `json:"data"`
			}
			if err := s.call(ctx, "GET", "/v1/webhook_endpoints?limit=100", basic, nil, &old); err != nil {
				errs <- err
				return
			}
			for _, e := range old.Data {
				var gone struct{}
				if err := s.call(ctx, "DELETE", "/v1/webhook_endpoints/"+e.ID, basic, nil, &gone); err != nil {
					errs <- err
					return
				}
			}
			var e struct{ Secret string }
			if err := s.call(ctx, "POST", "/v1/webhook_endpoints", basic, map[string]any{
				"url": fmt.Sprintf("%s/hook/%d", base, i), "events": []string{"*"}}, &e); err != nil {
				errs <- fmt.Errorf("%w (the API must run with PAYLINK_WEBHOOK_ALLOW_PRIVATE=true)", err)
				return
			}
			key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(e.Secret, "whsec_"))
			if err != nil {
				errs <- fmt.Errorf("endpoint secret %q: %w", e.Secret, err)
				return
			}
			r.secrets[i] = key
		})
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return fmt.Errorf("webhook endpoints: %w", err)
	}
	return nil
}

// startWorker runs command under sh, logging to logPath, and returns a
// function that stops it (SIGTERM, then waits) and its pid.
func startWorker(command, logPath string) (func(), int, error) {
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, 0, err
	}
	cmd := exec.Command("sh", "-c", "exec "+command)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, 0, fmt.Errorf("start worker: %w", err)
	}
	stop := func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
		logf.Close()
	}
	return stop, cmd.Process.Pid, nil
}

// sample is the pipeline's state at one moment.
type sample struct {
	at       time.Time
	payments int64 // succeeded so far
	arrivals int64 // webhooks arrived so far
	depth    int64 // pending deliveries in PostgreSQL; -1 unknown
	mail     int64 // events whose e-mails are not derived yet; -1 unknown
}

// sampler records samples once a second.
type sampler struct {
	p       *payer
	tr      *tracker
	depth   func(context.Context) (int64, int64, error)
	samples []sample
}

func (s *sampler) take(ctx context.Context) {
	x := sample{at: time.Now(), payments: s.p.succeeded.Load(), arrivals: s.tr.arrivals.Load(), depth: -1, mail: -1}
	if s.depth != nil {
		if d, m, err := s.depth(ctx); err == nil {
			x.depth, x.mail = d, m
		}
	}
	s.samples = append(s.samples, x)
}

func (s *sampler) loop(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			s.take(ctx)
		}
	}
}

// at returns the last sample taken at or before t.
func (s *sampler) at(t time.Time) sample {
	out := s.samples[0]
	for _, x := range s.samples {
		if x.at.After(t) {
			break
		}
		out = x
	}
	return out
}

// arrivedBetween counts the webhooks that arrived between two sampled
// moments.
func (s *sampler) arrivedBetween(from, to time.Time) int64 {
	return s.at(to).arrivals - s.at(from).arrivals
}

// series prints one line per window of length every, from the first
// sample to the last: payments/s and deliveries/s in the window, the
// outbox depth and the events awaiting their e-mails at its end, and the
// longest delay of payments answered in it. Windows after runEnd are the
// drain.
func (s *sampler) series(every time.Duration, runEnd time.Time, delays []timedDelay) string {
	var b strings.Builder
	b.WriteString("  time series (t from the start of the run; after the run: drain):\n")
	b.WriteString("       t   payments/s   deliveries/s   outbox depth   e-mail backlog   max delay\n")
	start, last := s.samples[0], s.samples[len(s.samples)-1]
	for from := start.at; from.Before(last.at); from = from.Add(every) {
		a, z := s.at(from), s.at(from.Add(every))
		if z.at.Sub(a.at) <= 0 {
			break
		}
		secs := z.at.Sub(a.at).Seconds()
		var worst time.Duration
		for _, d := range delays {
			if !d.at.Before(a.at) && d.at.Before(z.at) {
				worst = max(worst, d.delay)
			}
		}
		depth, mail := "?", "?"
		if z.depth >= 0 {
			depth, mail = strconv.FormatInt(z.depth, 10), strconv.FormatInt(z.mail, 10)
		}
		mark := ""
		if z.at.After(runEnd) {
			mark = " (drain)"
		}
		fmt.Fprintf(&b, "  %6.0fs %12.0f %14.0f %14s %16s %11s%s\n", z.at.Sub(start.at).Seconds(),
			float64(z.payments-a.payments)/secs, float64(z.arrivals-a.arrivals)/secs, depth, mail,
			worst.Round(time.Millisecond), mark)
	}
	return b.String()
}
