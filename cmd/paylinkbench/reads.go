package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/paylink/paylink/cmd/paylinkbench/seed"
	"github.com/paylink/paylink/internal/id"
)

// readTarget is one read the reads benchmark measures. path builds the
// request path for a client; needs names an OpenAPI path (and, after a
// "?", a query parameter of its GET) that must be served for the target
// to run; rows, when set, makes it a streaming export measured in rows
// per second.
type readTarget struct {
	name, who, needs string
	rows             bool
	target           string // what the figure is compared with
	path             func(rng *mrand.Rand) string
}

// readTargets lists the reads of a merchant with a long history (the
// biggest seeded one unless who says "median"; "dashboard" is the biggest
// one's dashboard session) and of a busy wallet user.
// The filtered list and the CSV export are issue 14's: they run once the
// API serves them (their OpenAPI entries say so) and are skipped before.
// To measure another read, add it here.
func readTargets(history time.Duration, now time.Time) []readTarget {
	old := func(rng *mrand.Rand, prefix string) string {
		return id.Floor(prefix, now.Add(-time.Duration(rng.Int64N(int64(history)))))
	}
	month := now.Add(-30 * 24 * time.Hour).UTC().Format(time.RFC3339)
	day := now.Add(-30 * 24 * time.Hour).UTC().Format("2006-01-02")
	return []readTarget{
		{name: "list, first page", who: "biggest", target: "p99 < 50 ms",
			path: func(*mrand.Rand) string { return "/v1/payments?limit=10" }},
		{name: "list, a page deep in the history", who: "biggest", target: "p99 < 50 ms",
			path: func(rng *mrand.Rand) string { return "/v1/payments?limit=100&starting_after=" + old(rng, "pay") }},
		{name: "list, first page", who: "median", target: "p99 < 50 ms",
			path: func(*mrand.Rand) string { return "/v1/payments?limit=10" }},
		{name: "list filtered by customer e-mail and date", who: "biggest", target: "p99 < 50 ms",
			needs: "/v1/payments?email",
			path: func(rng *mrand.Rand) string {
				return fmt.Sprintf("/v1/payments?limit=10&email=shopper%d@example.test&created_gte=%s", rng.IntN(1000), month)
			}},
		{name: "events, first page", who: "biggest", target: "p99 < 50 ms", path: func(*mrand.Rand) string { return "/v1/events" }},
		{name: "events of one type, a page deep in the history", who: "biggest", target: "p99 < 50 ms", needs: "/v1/events?type",
			path: func(rng *mrand.Rand) string {
				return "/v1/events?type=payment.failed&starting_after=" + old(rng, "evt")
			}},
		{name: "balance", who: "biggest", target: "p99 < 10 ms", path: func(*mrand.Rand) string { return "/v1/balance" }},
		{name: "wallet account", who: "user", target: "p99 < 10 ms",
			path: func(*mrand.Rand) string { return "/v1/wallet/account" }},
		{name: "CSV export of the last 30 days", who: "biggest", rows: true, target: ">= 50,000 rows/s",
			needs: "/v1/reports/payments.csv",
			path:  func(*mrand.Rand) string { return "/v1/reports/payments.csv?created_gte=" + url.QueryEscape(month) }},
		{name: "dashboard home", who: "dashboard", target: "p99 < 100 ms", needs: "/dashboard",
			path: func(*mrand.Rand) string { return "/dashboard" }},
		{name: "dashboard payments, first page", who: "dashboard", target: "p99 < 100 ms", needs: "/dashboard/payments",
			path: func(*mrand.Rand) string { return "/dashboard/payments" }},
		{name: "dashboard payments filtered by e-mail and date", who: "dashboard", target: "p99 < 100 ms",
			needs: "/dashboard/payments",
			path: func(rng *mrand.Rand) string {
				return fmt.Sprintf("/dashboard/payments?email=shopper%d@example.test&from=%s", rng.IntN(1000), day)
			}},
		{name: "dashboard CSV of the last 30 days", who: "dashboard", rows: true, target: ">= 50,000 rows/s",
			needs: "/dashboard/payments.csv",
			path:  func(*mrand.Rand) string { return "/dashboard/payments.csv?from=" + day }},
	}
}

// benchReads measures the reads of readTargets against a running API on a
// database seeded by paylinkbench seed -state.
func benchReads(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("reads", flag.ContinueOnError)
	fs.SetOutput(stderr)
	api := fs.String("url", "http://127.0.0.1:8080", "base URL of the running API")
	origin := fs.String("origin", "", "the API's public origin (PAYLINK_BASE_URL), which the dashboard's log-in form must come from (default -url)")
	state := fs.String("state", "", "the state file paylinkbench seed wrote")
	concurrency := fs.Int("c", 8, "concurrent clients per read")
	duration := fs.Duration("d", 10*time.Second, "how long each read runs")
	days := fs.Int("days", 365, "days of history the seed made (for pages deep in it)")
	only := fs.String("only", "", "run only the reads whose name contains this (e.g. \"deep\"), to profile one")
	if err := fs.Parse(args); err != nil || *state == "" {
		fmt.Fprintln(stderr, "paylinkbench reads: need -state")
		return exitCode(2)
	}
	raw, err := os.ReadFile(*state)
	if err != nil {
		return err
	}
	var st seed.State
	if err := json.Unmarshal(raw, &st); err != nil || len(st.Merchants) < 4 || len(st.Users) == 0 {
		return fmt.Errorf("-state %s: want the merchants and users paylinkbench seed writes (%v)", *state, err)
	}
	base := strings.TrimRight(*api, "/")
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Timeout: 5 * time.Minute, Jar: jar, Transport: &http.Transport{MaxIdleConnsPerHost: *concurrency * 2}}
	if err := login(ctx, client, base, st.Users[0]); err != nil {
		return err
	}
	served, err := servedPaths(ctx, client, base)
	if err != nil {
		return err
	}
	// The dashboard's session lives in a client of its own.
	djar, _ := cookiejar.New(nil)
	dashboard := &http.Client{Timeout: client.Timeout, Jar: djar, Transport: client.Transport,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	if *origin == "" {
		*origin = base
	}
	dashboardErr := dashboardLogin(ctx, dashboard, base, strings.TrimRight(*origin, "/"), st.Merchants[0])
	who := map[string]seed.Merchant{"biggest": st.Merchants[0], "median": st.Merchants[3]}
	fmt.Fprintf(stdout, "reads: biggest merchant %d payments, median merchant %d, wallet user %d transactions (of %d payments seeded)\n",
		who["biggest"].Payments, who["median"].Payments, st.Users[0].Transactions, st.Payments)
	targets := readTargets(time.Duration(*days)*24*time.Hour, time.Now())
	for _, t := range slices.DeleteFunc(targets, func(t readTarget) bool { return !strings.Contains(t.name, *only) }) {
		if t.needs != "" && !served[t.needs] {
			fmt.Fprintf(stdout, "reads %-45s skipped: this API does not serve %s yet (issue 14)\n", t.name+" ("+t.who+")", t.needs)
			continue
		}
		m, cl := who[t.who], client
		if t.who == "dashboard" {
			if dashboardErr != nil {
				fmt.Fprintf(stdout, "reads %-45s skipped: %v\n", t.name, dashboardErr)
				continue
			}
			cl = dashboard
		}
		auth := func(r *http.Request) {
			if t.who != "user" && t.who != "dashboard" {
				r.SetBasicAuth(m.KeyID, m.KeySecret)
			}
		}
		c := *concurrency
		if t.rows {
			c = 1
		}
		res, rows, first := readLoad(ctx, cl, base, t, auth, c, *duration)
		if t.rows {
			secs := sumDurations(res.latencies).Seconds()
			fmt.Fprintf(stdout, "reads %-45s %d exports, %d rows, %.0f rows/s (target %s), errors %d\n",
				t.name+" ("+t.who+")", res.ok, rows, float64(rows)/max(secs, 1e-9), t.target, res.errors)
		} else {
			fmt.Fprintf(stdout, "reads %-45s c=%d: %.0f/s, p50 %s, p99 %s, max %s (target %s), errors %d\n",
				t.name+" ("+t.who+")", c, float64(res.ok)/duration.Seconds(), res.quantile(0.5), res.quantile(0.99),
				res.quantile(1), t.target, res.errors)
		}
		if first != "" {
			fmt.Fprintf(stdout, "  first error: %s\n", first)
		}
	}
	return nil
}

// readLoad runs t from c clients for d. Reads in flight at d finish and
// count, as in the checkout benchmark (cancelled, they stalled the next
// target); an export is never cut short.
func readLoad(ctx context.Context, client *http.Client, base string, t readTarget, auth func(*http.Request), c int, d time.Duration) (result, int64, string) {
	stop, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	var (
		mu    sync.Mutex
		all   result
		rows  int64
		first string
		wg    sync.WaitGroup
	)
	for w := range c {
		wg.Go(func() {
			rng := mrand.New(mrand.NewPCG(uint64(w), uint64(time.Now().UnixNano())))
			for stop.Err() == nil {
				req, _ := http.NewRequestWithContext(ctx, "GET", base+t.path(rng), nil)
				auth(req)
				t0 := time.Now()
				res, err := client.Do(req)
				var n int64
				if err == nil {
					if t.rows {
						sc := bufio.NewScanner(res.Body)
						sc.Buffer(make([]byte, 64<<10), 1<<20)
						for sc.Scan() {
							n++
						}
						n-- // the header
					} else {
						_, _ = io.Copy(io.Discard, res.Body)
					}
					res.Body.Close()
				}
				elapsed := time.Since(t0)
				mu.Lock()
				switch {
				case err != nil || res.StatusCode != http.StatusOK:
					all.errors++
					if first == "" {
						first = fmt.Sprintf("%v %v", err, statusOf(res))
					}
				default:
					all.latencies = append(all.latencies, elapsed)
					rows += n
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	slices.Sort(all.latencies)
	all.ok = len(all.latencies)
	return all, rows, first
}

func statusOf(r *http.Response) string {
	if r == nil {
		return ""
	}
	return r.Status
}

func sumDurations(ds []time.Duration) time.Duration {
	var s time.Duration
	for _, d := range ds {
		s += d
	}
	return s
}

// login logs u in to the wallet; the session cookie stays in the client.
func login(ctx context.Context, client *http.Client, base string, u seed.User) error {
	body, _ := json.Marshal(map[string]string{"email": u.Email, "password": u.Password})
	req, _ := http.NewRequestWithContext(ctx, "POST", base+"/v1/wallet/login", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	res, err := client.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(res.Body)
		return fmt.Errorf("wallet log-in as %s: %d %s", u.Email, res.StatusCode, b)
	}
	return nil
}

// dashboardLogin signs in to m's dashboard with its e-mail and password,
// as the log-in form on the API's public origin does; the session cookie
// stays in the client.
func dashboardLogin(ctx context.Context, client *http.Client, base, origin string, m seed.Merchant) error {
	if m.Email == "" {
		return errors.New("the seed state has no merchant log-in (seeded before paylinkbench wrote one)")
	}
	form := url.Values{"email": {m.Email}, "password": {m.Password}}
	req, _ := http.NewRequestWithContext(ctx, "POST", base+"/dashboard/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", origin)
	res, err := client.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusSeeOther {
		b, _ := io.ReadAll(res.Body)
		return fmt.Errorf("dashboard log-in as %s: %d %.200s", m.Email, res.StatusCode, b)
	}
	return nil
}

// servedPaths reads the API's OpenAPI document: every path, and every
// "path?parameter" of a GET.
func servedPaths(ctx context.Context, client *http.Client, base string) (map[string]bool, error) {
	req, _ := http.NewRequestWithContext(ctx, "GET", base+"/v1/openapi.json", nil)
	res, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	type parameter struct {
		Name string
		Ref  string `json:"$ref"`
	}
	var doc struct {
		Paths map[string]map[string]struct {
			Parameters []parameter `json:"parameters"`
		} `json:"paths"`
		Components struct {
			Parameters map[string]parameter `json:"parameters"`
		} `json:"components"`
	}
	if err := json.NewDecoder(res.Body).Decode(&doc); err != nil {
		return nil, fmt.Errorf("read the OpenAPI document: %w", err)
	}
	out := map[string]bool{}
	for path, ops := range doc.Paths {
		out[path] = true
		for _, p := range ops["get"].Parameters {
			if name, ok := strings.CutPrefix(p.Ref, "#/components/parameters/"); ok {
				p = doc.Components.Parameters[name]
			}
			out[path+"?"+p.Name] = true
		}
	}
	return out, nil
}
