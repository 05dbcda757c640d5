package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/paylink/paylink/internal/config"
	"github.com/paylink/paylink/internal/pgtest"
	"github.com/paylink/paylink/internal/redistest"
)

const testKeys = "1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="

func getenvFrom(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestMigrateFromSeveralReplicasAtOnce(t *testing.T) {
	t.Parallel()
	url := pgtest.NewEmpty(t)
	const replicas = 5
	var (
		wg   sync.WaitGroup
		errs = make([]error, replicas)
		outs = make([]bytes.Buffer, replicas)
	)
	for i := 0; i < replicas; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = run(context.Background(), []string{"migrate"}, getenvFrom(map[string]string{"DATABASE_URL": url}), &outs[i], io.Discard)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("replica %d: %v", i, err)
		}
		if !strings.HasPrefix(outs[i].String(), "database schema at version ") {
			t.Errorf("replica %d printed %q", i, outs[i].String())
		}
	}
	if outs[0].String() != outs[replicas-1].String() {
		t.Errorf("replicas disagree: %q vs %q", outs[0].String(), outs[replicas-1].String())
	}
}

func TestAPIRefusesBadConfiguration(t *testing.T) {
	t.Parallel()
	err := run(context.Background(), []string{"api"}, getenvFrom(map[string]string{"PAYLINK_LOG_LEVEL": "chatty"}), io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "DATABASE_URL: is required") || !strings.Contains(err.Error(), "PAYLINK_LOG_LEVEL") {
		t.Fatalf("run api with bad config: %v; want every problem named", err)
	}
	if err := run(context.Background(), []string{"frobnicate"}, getenvFrom(nil), io.Discard, io.Discard); err != exitCode(2) {
		t.Fatalf("unknown command: %v, want exit status 2", err)
	}
}

// TestRedisClientLogsAreStructured: what go-redis itself says about an
// unreachable Redis goes to the process's JSON log, not to stderr as
// plain lines a log pipeline cannot parse.
func TestRedisClientLogsAreStructured(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	err := run(context.Background(), []string{"api"}, getenvFrom(map[string]string{
		"DATABASE_URL": pgtest.NewEmpty(t), "REDIS_URL": "redis://127.0.0.1:1/0", "PAYLINK_ENCRYPTION_KEYS": testKeys,
	}), io.Discard, &logs)
	if err == nil || !strings.Contains(err.Error(), "connect to redis") {
		t.Fatalf("api with Redis unreachable: %v; want a refusal to start", err)
	}
	var found bool
	for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		if line == "" {
			continue
		}
		var entry map[string]any
		if err := json.Unmarshal([]byte(line), &entry); err != nil {
			t.Fatalf("log line %q is not JSON", line)
		}
		found = found || entry["component"] == "redis"
	}
	if !found {
		t.Fatalf("no go-redis message in the JSON log:\n%s", logs.String())
	}
}

// TestUnknownVariableIsWarnedAbout: a misspelt PAYLINK_ variable in the
// process's environment is named in a warning at start, not silently
// ignored; its value is not logged. (Not parallel: it sets the
// environment.)
func TestUnknownVariableIsWarnedAbout(t *testing.T) {
	t.Setenv("PAYLINK_LOG_LEVLE", "debug-secret-value")
	var logs bytes.Buffer
	_ = run(context.Background(), []string{"api"}, getenvFrom(map[string]string{
		"DATABASE_URL": pgtest.NewEmpty(t), "REDIS_URL": "redis://127.0.0.1:1/0", "PAYLINK_ENCRYPTION_KEYS": testKeys,
	}), io.Discard, &logs)
	if !strings.Contains(logs.String(), `"name":"PAYLINK_LOG_LEVLE"`) || strings.Contains(logs.String(), "debug-secret-value") {
		t.Fatalf("log lacks a warning naming PAYLINK_LOG_LEVLE (without its value):\n%s", logs.String())
	}
	if strings.Contains(logs.String(), "PAYLINK_TEST_DATABASE_URL") {
		t.Fatalf("the tests' own variable was warned about:\n%s", logs.String())
	}
}

// TestArglessCommandsOnlyPrintHelp: -h after a command that takes no
// arguments prints its help and runs nothing (an operator checking what
// `paylink migrate` does must not migrate production); any other argument
// is a usage error.
func TestArglessCommandsOnlyPrintHelp(t *testing.T) {
	t.Parallel()
	url := pgtest.NewEmpty(t)
	env := getenvFrom(map[string]string{"DATABASE_URL": url, "REDIS_URL": "redis://127.0.0.1:1/0",
		"PAYLINK_ENCRYPTION_KEYS": testKeys, "PAYLINK_DEV_DIR": t.TempDir(), "PAYLINK_EXAMPLE_ADDR": "off",
		"PAYLINK_ADDR": "127.0.0.1:0", "PAYLINK_METRICS_ADDR": "127.0.0.1:0"})
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // a command that runs anyway stops at once
	for _, cmd := range []string{"api", "worker", "migrate", "dev"} {
		for _, help := range []string{"-h", "--help"} {
			var out bytes.Buffer
			if err := run(ctx, []string{cmd, help}, env, &out, io.Discard); err != exitCode(0) {
				t.Errorf("paylink %s %s: %v, want exit status 0", cmd, help, err)
			}
			if !strings.HasPrefix(out.String(), "usage: paylink "+cmd+"\n") && !strings.HasPrefix(out.String(), "usage: paylink "+cmd+" [") {
				t.Errorf("paylink %s %s printed %q, want its usage", cmd, help, out.String())
			}
		}
		var errOut bytes.Buffer
		if err := run(ctx, []string{cmd, "now"}, env, io.Discard, &errOut); err != exitCode(2) || !strings.Contains(errOut.String(), `unexpected argument "now"`) {
			t.Errorf("paylink %s now: %v, %q; want exit status 2 naming the argument", cmd, err, errOut.String())
		}
	}
	conn, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var tables int
	if err := conn.QueryRow(context.Background(), `SELECT count(*) FROM pg_tables WHERE schemaname = 'public'`).Scan(&tables); err != nil {
		t.Fatal(err)
	}
	if tables != 0 {
		t.Fatalf("the database has %d tables after only asking for help; want none migrated", tables)
	}
}

// lineWatcher is a log writer that reports the first line matching re.
type lineWatcher struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	re    *regexp.Regexp
	found chan string
	once  sync.Once
}

func (w *lineWatcher) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	if m := w.re.FindStringSubmatch(w.buf.String()); m != nil {
		w.once.Do(func() { w.found <- m[1] })
	}
	return len(p), nil
}

func (w *lineWatcher) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// waitLimit is how long a test waits for something the system under test
// does by itself (start listening, deliver a webhook, send an e-mail,
// stop) before failing: generous, so a loaded machine is not a failure.
const waitLimit = 2 * time.Minute

// within returns the next value of ch, failing the test if none comes
// within waitLimit; what names it in the failure.
func within[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(waitLimit):
		t.Fatalf("no %s within %s", what, waitLimit)
		panic("unreachable")
	}
}

// started waits until the run whose output w watches has printed what w
// looks for (its listen address, say) and returns the first group of that
// match. It fails the test if run returns (done) first, or if nothing
// comes within waitLimit.
func started(t *testing.T, w *lineWatcher, done <-chan error) string {
	t.Helper()
	select {
	case v := <-w.found:
		return v
	case err := <-done:
		t.Fatalf("run exited before it started: %v\n%s", err, w.String())
	case <-time.After(waitLimit):
		t.Fatalf("run did not start within %s:\n%s", waitLimit, w.String())
	}
	panic("unreachable")
}

// TestAPIGracefulShutdown starts `paylink api`, begins a sign-up whose body
// is still being sent, stops the process as SIGTERM would, then finishes
// the body: the in-flight request must complete and commit, and run must
// return cleanly.
func TestAPIGracefulShutdown(t *testing.T) {
	t.Parallel()
	_, dbURL := pgtest.NewWithURL(t)
	_, redisURL := redistest.New(t)
	logs := &lineWatcher{re: regexp.MustCompile(`"msg":"api listening","addr":"([^"]+)"`), found: make(chan string, 1)}
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"api"}, getenvFrom(map[string]string{
			"DATABASE_URL": dbURL, "REDIS_URL": redisURL, "PAYLINK_ENCRYPTION_KEYS": testKeys,
			"PAYLINK_ADDR": "127.0.0.1:0", "PAYLINK_METRICS_ADDR": "127.0.0.1:0",
		}), io.Discard, logs)
	}()
	addr := started(t, logs, done)

	// The request asks "Expect: 100-continue", so the server answers
	// "100 Continue" only once the handler starts reading the body: from
	// then on the request is in flight for sure.
	pr, pw := io.Pipe()
	inHandler := make(chan struct{})
	hr, _ := http.NewRequest("POST", "http://"+addr+"/v1/merchants", pr)
	hr.Header.Set("Expect", "100-continue")
	hr = hr.WithContext(httptrace.WithClientTrace(context.Background(), &httptrace.ClientTrace{
		Got100Continue: func() { close(inHandler) },
	}))
	client := &http.Client{Transport: &http.Transport{ExpectContinueTimeout: time.Minute}}
	type result struct {
		res *http.Response
		err error
	}
	resc := make(chan result, 1)
	go func() {
		r, err := client.Do(hr)
		resc <- result{r, err}
	}()
	within(t, inHandler, "request in the handler")
	stop() // SIGTERM while the handler waits for the body
	const password = "graceful-shutdown-password"
	fmt.Fprintf(pw, `{"name":"Graceful","email":"graceful@shop.test","password":%q}`, password)
	pw.Close()
	r := within(t, resc, "answer to the in-flight request")
	if r.err != nil {
		t.Fatalf("in-flight request failed during shutdown: %v", r.err)
	}
	defer r.res.Body.Close()
	var out struct {
		APIKey struct{ Secret string } `json:"api_key"`
	}
	if err := json.NewDecoder(r.res.Body).Decode(&out); err != nil || r.res.StatusCode != http.StatusCreated {
		t.Fatalf("in-flight sign-up = %d (%v); want 201", r.res.StatusCode, err)
	}
	if err := within(t, done, "return from run after shutdown"); err != nil {
		t.Fatalf("run returned %v after shutdown", err)
	}
	all := logs.String()
	if !strings.Contains(all, `"msg":"stopped"`) {
		t.Error("no clean stop logged")
	}
	for _, secret := range []string{password, out.APIKey.Secret} {
		if strings.Contains(all, secret) {
			t.Errorf("logs contain a secret: %q", secret)
		}
	}
}

// TestREADMEDocumentsEveryVariable keeps the newcomer's page honest.
func TestREADMEDocumentsEveryVariable(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(raw)
	for _, v := range config.Vars() {
		def := v.Default
		if def == "" {
			def = "—"
		}
		if !strings.Contains(readme, fmt.Sprintf("| `%s` | `%s` |", v.Name, def)) && !strings.Contains(readme, fmt.Sprintf("| `%s` | %s |", v.Name, def)) {
			t.Errorf("README's configuration table lacks %s with default %q", v.Name, v.Default)
		}
	}
}
