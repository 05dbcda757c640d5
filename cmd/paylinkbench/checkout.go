package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	mrand "math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// benchCheckout drives checkout payments end to end over HTTP against a
// running Paylink API: each client POSTs the hosted checkout's JSON (card
// 4242, a fresh Idempotency-Key each) to a signed reusable link, as fast
// as it can, for the given duration. Shape "spread" pays links of many
// merchants picked at random; "hot" pays one merchant's link.
func benchCheckout(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("checkout", flag.ContinueOnError)
	fs.SetOutput(stderr)
	api := fs.String("url", "http://127.0.0.1:8080", "base URL of the running API")
	concurrency := fs.Int("c", 32, "concurrent clients")
	duration := fs.Duration("d", 30*time.Second, "how long each shape runs")
	warmup := fs.Duration("warmup", 3*time.Second, "unmeasured load before each shape")
	merchants := fs.Int("merchants", 1000, "merchants (one link each) for the spread shape")
	shapes := fs.String("shape", "spread,hot", "comma-separated shapes: spread, hot")
	pprofURL := fs.String("pprof", "", "base URL of the API's PAYLINK_DEBUG_ADDR; when set, a CPU profile of each measured run is saved")
	profileDir := fs.String("profile-dir", ".", "where -pprof profiles go (checkout-<shape>.pprof)")
	cpuSpec := fs.String("cpu", "", "processes whose CPU time per payment to report: name=pid,… (pid+ adds its children; Linux /proc)")
	clkTck := fs.Int("clk-tck", 100, "clock ticks per second of /proc CPU times (getconf CLK_TCK)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	base, err := url.Parse(strings.TrimRight(*api, "/"))
	if err != nil {
		return fmt.Errorf("-url: %w", err)
	}
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
		MaxIdleConns: *concurrency * 2, MaxIdleConnsPerHost: *concurrency * 2, IdleConnTimeout: time.Minute,
	}}
	procs, err := parseProcs(*cpuSpec)
	if err != nil {
		return err
	}
	b := &bench{base: base, client: client}
	fmt.Fprintf(stdout, "checkout: setting up %d merchants with one reusable link each…\n", *merchants)
	start := time.Now()
	linkURLs, err := b.setup(ctx, *merchants, *concurrency)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "checkout: setup took %s\n", time.Since(start).Round(time.Millisecond))
	for _, shape := range strings.Split(*shapes, ",") {
		var targets []string
		switch strings.TrimSpace(shape) {
		case "spread":
			targets = linkURLs
		case "hot":
			targets = linkURLs[:1]
		default:
			return fmt.Errorf("unknown shape %q", shape)
		}
		b.run(ctx, targets, *concurrency, *warmup)
		profiled := make(chan error, 1)
		if *pprofURL != "" {
			go func() {
				profiled <- b.profile(ctx, *pprofURL, *duration, filepath.Join(*profileDir, "checkout-"+strings.TrimSpace(shape)+".pprof"))
			}()
		} else {
			profiled <- nil
		}
		before := cpuTimes(procs, *clkTck)
		res := b.run(ctx, targets, *concurrency, *duration)
		after := cpuTimes(procs, *clkTck)
		if err := <-profiled; err != nil {
			fmt.Fprintf(stderr, "checkout: cpu profile: %v\n", err)
		}
		fmt.Fprintf(stdout, "checkout %-6s c=%d d=%s links=%d: %d payments, %.0f payments/s, p50 %s, p99 %s, max %s, errors %d\n",
			shape, *concurrency, *duration, len(targets), res.ok, float64(res.ok)/duration.Seconds(),
			res.quantile(0.50), res.quantile(0.99), res.quantile(1), res.errors)
		if res.firstErr != "" {
			fmt.Fprintf(stdout, "  first error: %s\n", res.firstErr)
		}
		if len(procs) > 0 && res.ok > 0 {
			var parts []string
			var total time.Duration
			for _, p := range procs {
				d := after[p.name] - before[p.name]
				total += d
				parts = append(parts, fmt.Sprintf("%s %.3f", p.name, ms(d)/float64(res.ok)))
			}
			fmt.Fprintf(stdout, "  CPU per payment (ms): %s; total %.3f ms, so %d cores could do at most %.0f payments/s\n",
				strings.Join(parts, ", "), ms(total)/float64(res.ok), runtime.NumCPU(),
				float64(runtime.NumCPU())*1000/(ms(total)/float64(res.ok)))
		}
	}
	return nil
}

// profile saves a CPU profile of the API taken over most of d.
func (b *bench) profile(ctx context.Context, pprofURL string, d time.Duration, path string) error {
	secs := max(int(d.Seconds())-1, 1)
	req, err := http.NewRequestWithContext(ctx, "GET", fmt.Sprintf("%s/debug/pprof/profile?seconds=%d", strings.TrimRight(pprofURL, "/"), secs), nil)
	if err != nil {
		return err
	}
	res, err := (&http.Client{Timeout: d + 30*time.Second}).Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("profile: %s", res.Status)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, res.Body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// proc is a process whose CPU time the benchmark reports.
type proc struct {
	name     string
	pid      int
	children bool
}

// parseProcs reads "api=123,postgres=456+" (+: with its children).
func parseProcs(spec string) ([]proc, error) {
	var out []proc
	for _, part := range strings.Split(spec, ",") {
		if part = strings.TrimSpace(part); part == "" {
			continue
		}
		name, pid, ok := strings.Cut(part, "=")
		p := proc{name: name, children: strings.HasSuffix(pid, "+")}
		n, err := strconv.Atoi(strings.TrimSuffix(pid, "+"))
		if !ok || err != nil || n <= 0 {
			return nil, fmt.Errorf("-cpu: %q is not name=pid", part)
		}
		p.pid = n
		out = append(out, p)
	}
	if len(out) > 0 {
		out = append(out, proc{name: "bench", pid: os.Getpid()})
	}
	return out, nil
}

// cpuTimes returns the user+system CPU time so far of each process (and
// its children, for pid+), from /proc.
func cpuTimes(procs []proc, clkTck int) map[string]time.Duration {
	out := map[string]time.Duration{}
	if len(procs) == 0 {
		return out
	}
	stats := map[int][2]int64{} // pid → (ppid, ticks)
	dirs, _ := os.ReadDir("/proc")
	for _, d := range dirs {
		pid, err := strconv.Atoi(d.Name())
		if err != nil {
			continue
		}
		raw, err := os.ReadFile("/proc/" + d.Name() + "/stat")
		if err != nil {
			continue
		}
		// Fields after the command (which may hold spaces): state ppid … utime(14) stime(15).
		f := strings.Fields(string(raw[strings.LastIndexByte(string(raw), ')')+1:]))
		if len(f) < 13 {
			continue
		}
		ppid, _ := strconv.ParseInt(f[1], 10, 64)
		ut, _ := strconv.ParseInt(f[11], 10, 64)
		st, _ := strconv.ParseInt(f[12], 10, 64)
		stats[pid] = [2]int64{ppid, ut + st}
	}
	for _, p := range procs {
		ticks := stats[p.pid][1]
		if p.children {
			for _, s := range stats {
				if s[0] == int64(p.pid) {
					ticks += s[1]
				}
			}
		}
		out[p.name] = time.Duration(ticks) * time.Second / time.Duration(clkTck)
	}
	return out
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

type bench struct {
	base   *url.URL
	client *http.Client
}

// setup signs up n merchants and creates one reusable link each, n at a
// time in parallel, and returns the links' checkout paths.
func (b *bench) setup(ctx context.Context, n, parallel int) ([]string, error) {
	out := make([]string, n)
	errs := make(chan error, n)
	sem := make(chan struct{}, parallel)
	var wg sync.WaitGroup
	run := hex.EncodeToString(randomBytes(4))
	for i := range n {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			var su struct {
				APIKey struct{ ID, Secret string } `json:"api_key"`
			}
			email := fmt.Sprintf("bench-%s-%d@bench.test", run, i)
			if err := b.call(ctx, "POST", "/v1/merchants", "", map[string]string{
				"name": fmt.Sprintf("Bench %d", i), "email": email, "password": "bench-password-" + run}, &su); err != nil {
				errs <- err
				return
			}
			var link struct{ URL string }
			if err := b.call(ctx, "POST", "/v1/payment_links", su.APIKey.ID+":"+su.APIKey.Secret, map[string]any{
				"amount": 1000 + i%100, "currency": "USD", "single_use": false, "expires_in": 7 * 24 * 3600,
				"description": "benchmark"}, &link); err != nil {
				errs <- err
				return
			}
			u, err := url.Parse(link.URL)
			if err != nil {
				errs <- err
				return
			}
			out[i] = b.base.String() + u.Path + "?" + u.RawQuery
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return nil, fmt.Errorf("setup: %w", err)
	}
	return out, nil
}

func (b *bench) call(ctx context.Context, method, path, basic string, body, out any) error {
	raw, _ := json.Marshal(body)
	req, err := http.NewRequestWithContext(ctx, method, b.base.String()+path, bytes.NewReader(raw))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if id, secret, ok := strings.Cut(basic, ":"); ok {
		req.SetBasicAuth(id, secret)
	}
	res, err := b.client.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	if res.StatusCode/100 != 2 {
		return fmt.Errorf("%s %s: %d %s", method, path, res.StatusCode, data)
	}
	return json.Unmarshal(data, out)
}

// result is one measured run.
type result struct {
	ok, errors int
	firstErr   string
	latencies  []time.Duration
}

func (r result) quantile(q float64) time.Duration {
	if len(r.latencies) == 0 {
		return 0
	}
	i := int(math.Ceil(q*float64(len(r.latencies)))) - 1
	return r.latencies[max(i, 0)].Round(10 * time.Microsecond)
}

// payBody is the checkout page's JSON for test card 4242.
var payBody = []byte(`{"email":"bench@shopper.test","name":"Bench Shopper","payment_method":{"type":"card",` +
	`"card":{"number":"4242424242424242","exp_month":12,"exp_year":2040,"cvc":"123"}}}`)

// run pays targets from concurrency clients for d and returns what the
// successful payments took.
func (b *bench) run(ctx context.Context, targets []string, concurrency int, d time.Duration) result {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		all      result
		failures atomic.Int64
	)
	for w := range concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := mrand.New(mrand.NewPCG(uint64(w), uint64(time.Now().UnixNano())))
			lat := make([]time.Duration, 0, 1<<14)
			var firstErr string
			key := make([]byte, 16)
			for ctx.Err() == nil {
				target := targets[rng.IntN(len(targets))]
				_, _ = rand.Read(key)
				req, _ := http.NewRequestWithContext(ctx, "POST", target, bytes.NewReader(payBody))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Idempotency-Key", hex.EncodeToString(key))
				t0 := time.Now()
				res, err := b.client.Do(req)
				if err != nil {
					if ctx.Err() == nil {
						failures.Add(1)
						if firstErr == "" {
							firstErr = err.Error()
						}
					}
					continue
				}
				body, _ := io.ReadAll(res.Body)
				res.Body.Close()
				elapsed := time.Since(t0)
				if res.StatusCode != http.StatusOK || !bytes.Contains(body, []byte(`"status":"succeeded"`)) {
					failures.Add(1)
					if firstErr == "" {
						firstErr = fmt.Sprintf("%d %.300s", res.StatusCode, body)
					}
					continue
				}
				lat = append(lat, elapsed)
			}
			mu.Lock()
			all.latencies = append(all.latencies, lat...)
			if all.firstErr == "" {
				all.firstErr = firstErr
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	slices.Sort(all.latencies)
	all.ok = len(all.latencies)
	all.errors = int(failures.Load())
	return all
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(errors.New("no randomness"))
	}
	return b
}
