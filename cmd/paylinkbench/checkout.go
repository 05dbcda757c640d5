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
	"slices"
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
		res := b.run(ctx, targets, *concurrency, *duration)
		if err := <-profiled; err != nil {
			fmt.Fprintf(stderr, "checkout: cpu profile: %v\n", err)
		}
		fmt.Fprintf(stdout, "checkout %-6s c=%d d=%s links=%d: %d payments, %.0f payments/s, p50 %s, p99 %s, max %s, errors %d\n",
			shape, *concurrency, *duration, len(targets), res.ok, float64(res.ok)/duration.Seconds(),
			res.quantile(0.50), res.quantile(0.99), res.quantile(1), res.errors)
		if res.firstErr != "" {
			fmt.Fprintf(stdout, "  first error: %s\n", res.firstErr)
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
