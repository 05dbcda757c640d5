// Package fraud is paylinkbench fraud: it replays legitimate shoppers
// mixed with three attacks (card testing, stolen cards, a slow attack kept
// under every velocity threshold) through the real hosted checkout of a
// running Paylink, reports what screening blocked or sent to review per
// class, and compares checkout throughput with screening on and off.
package fraud

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// ErrUsage is returned after the usage was printed (exit status 2).
var ErrUsage = errors.New("usage")

// Run is paylinkbench fraud. -url is an API that screens payments (with
// PAYLINK_TRUSTED_PROXIES naming the loopback, so X-Forwarded-For is the
// shopper's address); -url-off, when given, one on the same database
// with PAYLINK_RISK_SCREENING=false, for the throughput comparison.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("fraud", flag.ContinueOnError)
	fs.SetOutput(stderr)
	on := fs.String("url", "http://127.0.0.1:8080", "base URL of an API that screens payments and trusts the loopback as a proxy")
	off := fs.String("url-off", "", "base URL of an API with PAYLINK_RISK_SCREENING=false on the same database (throughput comparison; none when empty)")
	merchants := fs.Int("merchants", 10, "merchants, each with a catalog of reusable links")
	customers := fs.Int("customers", 3000, "legitimate customers (1 to 3 purchases each)")
	testers := fs.Int("testers", 3, "card testers (one IP and one merchant each)")
	testerCards := fs.Int("tester-cards", 150, "cards each card tester tries")
	fraudsters := fs.Int("fraudsters", 80, "stolen-card fraudsters (half one e-mail, half one IP), 3 to 6 cards each")
	slow := fs.Int("slow", 60, "slow attackers (half card testers with 8 cards, half two stolen cards per e-mail)")
	c := fs.Int("c", 16, "concurrent shoppers")
	d := fs.Duration("d", 10*time.Second, "each of the four throughput slices (on, off, off, on)")
	seed := fs.Uint64("seed", 1, "random seed of the plan")
	metrics := fs.String("metrics", "", "URL of the screening API's /metrics, to count its Redis round trips during the replay (none when empty)")
	if err := fs.Parse(args); err != nil || *merchants < 1 || *c < 1 || fs.NArg() > 0 {
		return ErrUsage
	}
	api := newClient(*on, *c)
	start := time.Now()
	ms, err := api.setup(ctx, *merchants)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "fraud: %d merchants with %d links each in %s\n", len(ms), len(catalog), time.Since(start).Round(time.Millisecond))

	p := &planner{rng: mrand.New(mrand.NewPCG(*seed, 22)), merchants: *merchants}
	nat := []string{p.ip(), p.ip(), p.ip(), p.ip(), p.ip(), p.ip(), p.ip(), p.ip()}
	var warm, mixed []*actor
	for i := range *customers {
		if a := p.legit(nat); i < *customers/4 {
			warm = append(warm, a)
		} else {
			mixed = append(mixed, a)
		}
	}
	for range *testers {
		mixed = append(mixed, p.cardTester(*testerCards))
	}
	for i := range *fraudsters {
		mixed = append(mixed, p.stolen(3+p.rng.IntN(4), i%2 == 0))
	}
	for i := range *slow {
		if i%2 == 0 {
			mixed = append(mixed, p.slowTester(8))
		} else {
			mixed = append(mixed, p.slowStolen())
		}
	}
	p.rng.Shuffle(len(mixed), func(i, j int) { mixed[i], mixed[j] = mixed[j], mixed[i] })
	var before, after map[string]float64
	if *metrics != "" {
		if before, err = roundTrips(ctx, *metrics); err != nil {
			return err
		}
	}
	// A quarter of the customers first, so every merchant has the
	// history amount_anomaly needs (20 succeeded payments) before any
	// attack; then everyone else, interleaved.
	start = time.Now()
	var done []outcome
	for _, phase := range [][]*actor{warm, mixed} {
		out, err := replay(ctx, api, ms, phase, *c)
		if err != nil {
			return err
		}
		done = append(done, out...)
	}
	elapsed := time.Since(start)
	if *metrics != "" {
		if after, err = roundTrips(ctx, *metrics); err != nil {
			return err
		}
	}
	risk := map[string]string{}
	for _, m := range ms {
		if err := api.outcomes(ctx, m, risk); err != nil {
			return err
		}
	}
	fmt.Fprintf(stdout, "fraud: %d attempts in %s (%.0f/s, c=%d)\n", len(done), elapsed.Round(time.Millisecond),
		float64(len(done))/elapsed.Seconds(), *c)
	report(stdout, done, risk, ms)
	if *metrics != "" {
		reportRoundTrips(stdout, before, after, len(done))
	}
	if *off == "" {
		return nil
	}
	return throughput(ctx, stdout, api, newClient(*off, *c), ms, p, *c, *d)
}

// outcome is one attempt as answered.
type outcome struct {
	actor *actor
	a     attempt
	ans   answer
}

// replay runs actors from c workers, each actor's attempts in order.
func replay(ctx context.Context, api *client, ms []merchantSetup, actors []*actor, c int) ([]outcome, error) {
	queue := make(chan *actor)
	var (
		mu       sync.Mutex
		out      []outcome
		firstErr error
		wg       sync.WaitGroup
	)
	for range c {
		wg.Go(func() {
			for ac := range queue {
				res, err := ac.run(ctx, api, ms)
				mu.Lock()
				out = append(out, res...)
				if firstErr == nil {
					firstErr = err
				}
				mu.Unlock()
			}
		})
	}
	for _, ac := range actors {
		select {
		case queue <- ac:
		case <-ctx.Done():
		}
	}
	close(queue)
	wg.Wait()
	if firstErr == nil {
		firstErr = ctx.Err()
	}
	return out, firstErr
}

// Card testing's default threshold (API.md Part 3): failures from one IP
// over distinct cards, after which every attempt is blocked.
const (
	testingFailures = 10
	testingCards    = 5
)

// run makes ac's attempts one after another. A card tester's attempts
// are marked afterThreshold once its IP has had testingFailures 402s over
// testingCards distinct cards.
func (ac *actor) run(ctx context.Context, api *client, ms []merchantSetup) ([]outcome, error) {
	var (
		out      []outcome
		failures int
		failed   = map[string]bool{}
	)
	for _, a := range ac.attempts {
		a.afterThreshold = ac.tester && failures >= testingFailures && len(failed) >= testingCards
		ans, err := api.pay(ctx, ms[a.merchant].links[a.item], &a)
		if err != nil {
			return out, err
		}
		if ans.status == http.StatusPaymentRequired {
			failures++
			failed[a.card.Number] = true
		}
		out = append(out, outcome{actor: ac, a: a, ans: ans})
	}
	return out, nil
}

// throughput compares checkout payments/s with screening on and off:
// four slices of d (on, off, off, on, so a drift of the shared machine
// weighs on both alike), each after a short unmeasured warm-up, of new
// legitimate shoppers from c clients.
func throughput(ctx context.Context, stdout io.Writer, on, off *client, ms []merchantSetup, p *planner, c int, d time.Duration) error {
	var total = map[bool]int64{}
	for _, screened := range []bool{true, false, false, true} {
		api := off
		if screened {
			api = on
		}
		if _, err := load(ctx, api, ms, p, c, min(d/4, 3*time.Second)); err != nil {
			return err
		}
		n, err := load(ctx, api, ms, p, c, d)
		if err != nil {
			return err
		}
		total[screened] += n
		fmt.Fprintf(stdout, "  slice screening=%v: %.0f payments/s\n", screened, float64(n)/d.Seconds())
	}
	rateOn, rateOff := float64(total[true])/(2*d.Seconds()), float64(total[false])/(2*d.Seconds())
	fmt.Fprintf(stdout, "fraud throughput c=%d, 2 x %s each: screening on %.0f payments/s, off %.0f payments/s: screening costs %.1f%% (target <= 5%%)\n",
		c, d, rateOn, rateOff, 100*(1-rateOn/rateOff))
	return nil
}

// load pays for d from c clients, each payment by a new legitimate
// shopper (own card, address and e-mail, an item by the legitimate
// weights), and returns how many succeeded. Payments in flight at d
// finish, as in the checkout benchmark (cancelled, they stalled the next
// slice).
func load(ctx context.Context, api *client, ms []merchantSetup, p *planner, c int, d time.Duration) (int64, error) {
	stop, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	var (
		mu       sync.Mutex
		ok       atomic.Int64
		wg       sync.WaitGroup
		firstErr error
	)
	next := func() attempt {
		mu.Lock()
		defer mu.Unlock()
		return attempt{merchant: p.rng.IntN(len(ms)), item: p.legitItem(), email: p.email("shopper"), ip: p.ip(), card: p.liveCard()}
	}
	for range c {
		wg.Go(func() {
			for stop.Err() == nil {
				a := next()
				ans, err := api.pay(ctx, ms[a.merchant].links[a.item], &a)
				switch {
				case err != nil && ctx.Err() == nil:
					mu.Lock()
					firstErr = cmp.Or(firstErr, err)
					mu.Unlock()
				case err == nil && ans.status == http.StatusOK:
					ok.Add(1)
				}
			}
		})
	}
	wg.Wait()
	return ok.Load(), firstErr
}
