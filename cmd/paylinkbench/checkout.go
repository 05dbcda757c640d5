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
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/paylink/paylink/cmd/paylinkbench/procstat"
)

// checkoutFlags are paylinkbench checkout's options.
type checkoutFlags struct {
	api, shapes, pprofURL, profileDir, cpuSpec, state string
	concurrency, merchants, clkTck                    int
	duration, warmup                                  time.Duration
	hooks                                             webhookFlags
}

// benchCheckout drives checkout payments end to end over HTTP against a
// running Paylink API: each client POSTs the hosted checkout's JSON (a
// shopper drawn from shopperCount, each with its own card, e-mail and
// X-Forwarded-For address; a fresh Idempotency-Key each) to a signed
// reusable link, as fast as it can, for the given duration. Shape "spread" pays links of many
// merchants picked at random; "hot" pays one merchant's link; "webhooks"
// is spread with a webhook endpoint per merchant on a local receiver and
// the worker running (see webhooks.go).
func benchCheckout(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var f checkoutFlags
	fs := flag.NewFlagSet("checkout", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&f.api, "url", "http://127.0.0.1:8080", "base URL of the running API")
	fs.IntVar(&f.concurrency, "c", 32, "concurrent clients")
	fs.DurationVar(&f.duration, "d", 30*time.Second, "how long each shape runs")
	fs.DurationVar(&f.warmup, "warmup", 3*time.Second, "unmeasured load before each shape")
	fs.IntVar(&f.merchants, "merchants", 1000, "merchants (one link each) for the spread shape")
	fs.StringVar(&f.shapes, "shape", "spread,hot", "comma-separated shapes: spread, hot, webhooks")
	fs.StringVar(&f.pprofURL, "pprof", "", "base URL of the API's PAYLINK_DEBUG_ADDR; when set, a CPU profile of each measured run is saved")
	fs.StringVar(&f.profileDir, "profile-dir", ".", "where -pprof profiles go (checkout-<shape>.pprof)")
	fs.StringVar(&f.cpuSpec, "cpu", "", "processes whose CPU time per payment to report: name=pid,… (pid+ adds its children; Linux /proc)")
	fs.IntVar(&f.clkTck, "clk-tck", 100, "clock ticks per second of /proc CPU times (getconf CLK_TCK)")
	fs.StringVar(&f.state, "state", "", "file keeping the merchants and links made by the setup: reused when it exists, written when not")
	f.hooks.register(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	base, err := url.Parse(strings.TrimRight(f.api, "/"))
	if err != nil {
		return fmt.Errorf("-url: %w", err)
	}
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
		MaxIdleConns: f.concurrency * 2, MaxIdleConnsPerHost: f.concurrency * 2, IdleConnTimeout: time.Minute,
	}}
	procs, err := procstat.Parse(f.cpuSpec)
	if err != nil {
		return err
	}
	s := &shop{base: base, client: client}
	if err := s.load(ctx, f.state, f.merchants, f.concurrency, stdout); err != nil {
		return err
	}
	p := &payer{client: client, shoppers: newShoppers(shopperCount, 1)}
	var spread float64 // payments/s of the spread shape, for the webhooks shape to compare with
	for _, shape := range strings.Split(f.shapes, ",") {
		shape = strings.TrimSpace(shape)
		var targets []string
		switch shape {
		case "spread", "webhooks":
			targets = s.linkURLs()
		case "hot":
			targets = s.linkURLs()[:1]
		default:
			return fmt.Errorf("unknown shape %q", shape)
		}
		if shape == "webhooks" {
			if err := benchWebhooks(ctx, &f, s, p, procs, spread, stdout, stderr); err != nil {
				return err
			}
			continue
		}
		p.run(ctx, targets, f.concurrency, f.warmup)
		profiled := make(chan error, 1)
		if f.pprofURL != "" {
			go func() {
				profiled <- procstat.Profile(ctx, f.pprofURL, f.duration, filepath.Join(f.profileDir, "checkout-"+shape+".pprof"))
			}()
		} else {
			profiled <- nil
		}
		before := procstat.Times(procs, f.clkTck)
		res := p.run(ctx, targets, f.concurrency, f.duration)
		after := procstat.Times(procs, f.clkTck)
		if err := <-profiled; err != nil {
			fmt.Fprintf(stderr, "checkout: cpu profile: %v\n", err)
		}
		rate := float64(res.ok) / f.duration.Seconds()
		if shape == "spread" {
			spread = rate
		}
		fmt.Fprintf(stdout, "checkout %-6s c=%d d=%s links=%d: %d payments, %.0f payments/s, p50 %s, p99 %s, max %s, errors %d\n",
			shape, f.concurrency, f.duration, len(targets), res.ok, rate,
			res.quantile(0.50), res.quantile(0.99), res.quantile(1), res.errors)
		if res.firstErr != "" {
			fmt.Fprintf(stdout, "  first error: %s\n", res.firstErr)
		}
		fmt.Fprint(stdout, procstat.Line(procs, before, after, res.ok, "payment", "payments"))
	}
	return nil
}

// merchantSetup is one benchmark merchant: its API key and its reusable
// link's checkout path and query.
type merchantSetup struct {
	KeyID     string `json:"key_id"`
	KeySecret string `json:"key_secret"`
	LinkPath  string `json:"link_path"`
}

// shop is the merchants' side of the benchmark.
type shop struct {
	base      *url.URL
	client    *http.Client
	merchants []merchantSetup
}

// linkURLs returns the merchants' checkout URLs on the API under test.
func (s *shop) linkURLs() []string {
	out := make([]string, len(s.merchants))
	for i, m := range s.merchants {
		out[i] = s.base.String() + m.LinkPath
	}
	return out
}

// load reads the merchants from state when that file exists; otherwise it
// signs up n merchants (parallel at a time), and writes them to state
// when it is named.
func (s *shop) load(ctx context.Context, state string, n, parallel int, stdout io.Writer) error {
	if state != "" {
		raw, err := os.ReadFile(state)
		if err == nil {
			if err := json.Unmarshal(raw, &s.merchants); err != nil || len(s.merchants) == 0 {
				return fmt.Errorf("-state %s: unreadable (%v); delete it to set up again", state, err)
			}
			fmt.Fprintf(stdout, "checkout: %d merchants from %s\n", len(s.merchants), state)
			return nil
		}
		if !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	fmt.Fprintf(stdout, "checkout: setting up %d merchants with one reusable link each…\n", n)
	start := time.Now()
	if err := s.setup(ctx, n, parallel); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "checkout: setup took %s\n", time.Since(start).Round(time.Millisecond))
	if state == "" {
		return nil
	}
	raw, _ := json.Marshal(s.merchants)
	return os.WriteFile(state, raw, 0o600)
}

// setup signs up n merchants and creates one reusable link each, n at a
// time in parallel.
func (s *shop) setup(ctx context.Context, n, parallel int) error {
	s.merchants = make([]merchantSetup, n)
	errs := make(chan error, n)
	sem := make(chan struct{}, parallel)
	var wg sync.WaitGroup
	run := hex.EncodeToString(randomBytes(4))
	for i := range n {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			var su struct {
				APIKey struct{ ID, Secret string } `json:"api_key"`
			}
			email := fmt.Sprintf("bench-%s-%d@bench.test", run, i)
			if err := s.call(ctx, "POST", "/v1/merchants", "", map[string]string{
				"name": fmt.Sprintf("Bench %d", i), "email": email, "password": "bench-password-" + run}, &su); err != nil {
				errs <- err
				return
			}
			var link struct{ URL string }
			basic := su.APIKey.ID + ":" + su.APIKey.Secret
			if err := s.call(ctx, "POST", "/v1/payment_links", basic, map[string]any{
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
			s.merchants[i] = merchantSetup{KeyID: su.APIKey.ID, KeySecret: su.APIKey.Secret, LinkPath: u.Path + "?" + u.RawQuery}
		})
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return fmt.Errorf("setup: %w", err)
	}
	return nil
}

// call makes one merchant API request (basic is "key:secret" or empty)
// and decodes a 2xx answer into out.
func (s *shop) call(ctx context.Context, method, path, basic string, body, out any) error {
	raw, _ := json.Marshal(body)
	req, err := http.NewRequestWithContext(ctx, method, s.base.String()+path, bytes.NewReader(raw))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if id, secret, ok := strings.Cut(basic, ":"); ok {
		req.SetBasicAuth(id, secret)
	}
	res, err := s.client.Do(req)
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

func randomBytes(n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(errors.New("no randomness"))
	}
	return b
}
