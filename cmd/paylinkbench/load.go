package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"math"
	mrand "math/rand/v2"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/paylink/paylink/cmd/paylinkbench/fraud"
)

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

// shopperCount is how many shoppers the checkout benchmark draws from:
// enough that, at its rates, no shopper's card, e-mail or address reaches
// risk screening's velocity thresholds, as for legitimate traffic.
const shopperCount = 20_000

// shoppers are the checkout benchmark's shoppers, each with an e-mail, a
// card and an address of its own: the checkout page's JSON, ready to
// send, and the address the API is told through X-Forwarded-For (it
// trusts the benchmark's loopback as a proxy, see bench-checkout.sh).
type shoppers struct {
	bodies [][]byte
	ips    []string
}

// newShoppers makes n shoppers, the same ones for the same seed.
func newShoppers(n int, seed uint64) *shoppers {
	rng := mrand.New(mrand.NewPCG(seed, 1))
	s := &shoppers{bodies: make([][]byte, n), ips: make([]string, n)}
	for i := range n {
		s.bodies[i] = fmt.Appendf(nil, `{"email":"shopper%d@bench.test","name":"Bench Shopper","payment_method":{"type":"card",`+
			`"card":{"number":"%s","exp_month":12,"exp_year":2040,"cvc":"123"}}}`, i, fraud.LiveCardNumber(rng))
		s.ips[i] = fmt.Sprintf("%d.%d.%d.%d", 11+i%180, i>>16&255, i>>8&255, 1+i&254)
	}
	return s
}

// payIDMarker precedes the payment's id in a checkout answer.
var payIDMarker = []byte(`"id":"pay_`)

// payer is the shoppers' side of the checkout benchmark.
type payer struct {
	client   *http.Client
	shoppers *shoppers
	// paid, when set, is told each succeeded payment's id and when its
	// answer arrived.
	paid func(payID string, at time.Time)
	// succeeded counts succeeded payments as they happen, for sampling.
	succeeded atomic.Int64
}

// run pays targets from concurrency clients for d and returns what the successful payments
// took; payments in flight at d finish, as cancelling them stalled the next run (BENCHMARKS.md).
func (p *payer) run(ctx context.Context, targets []string, concurrency int, d time.Duration) result {
	stop, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		all      result
		failures atomic.Int64
	)
	for w := range concurrency {
		wg.Go(func() {
			rng := mrand.New(mrand.NewPCG(uint64(w), uint64(time.Now().UnixNano())))
			lat := make([]time.Duration, 0, 1<<14)
			var firstErr string
			key := make([]byte, 16)
			for stop.Err() == nil {
				target := targets[rng.IntN(len(targets))]
				who := rng.IntN(len(p.shoppers.bodies))
				_, _ = rand.Read(key)
				req, _ := http.NewRequestWithContext(ctx, "POST", target, bytes.NewReader(p.shoppers.bodies[who]))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("X-Forwarded-For", p.shoppers.ips[who])
				req.Header.Set("Idempotency-Key", hex.EncodeToString(key))
				t0 := time.Now()
				res, err := p.client.Do(req)
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
				t1 := time.Now()
				if res.StatusCode != http.StatusOK || !bytes.Contains(body, []byte(`"status":"succeeded"`)) {
					failures.Add(1)
					if firstErr == "" {
						firstErr = fmt.Sprintf("%d %.300s", res.StatusCode, body)
					}
					continue
				}
				p.succeeded.Add(1)
				if p.paid != nil {
					if i := bytes.Index(body, payIDMarker); i >= 0 && len(body) >= i+6+30 {
						p.paid(string(body[i+6:i+6+30]), t1)
					}
				}
				lat = append(lat, t1.Sub(t0))
			}
			mu.Lock()
			all.latencies = append(all.latencies, lat...)
			if all.firstErr == "" {
				all.firstErr = firstErr
			}
			mu.Unlock()
		})
	}
	wg.Wait()
	slices.Sort(all.latencies)
	all.ok = len(all.latencies)
	all.errors = int(failures.Load())
	return all
}
