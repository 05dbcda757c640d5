package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"testing"

	"github.com/paylink/paylink/internal/pgtest"
	"github.com/paylink/paylink/internal/redistest"
)

// TestDevPrintsAWorkingCurlLine runs `paylink dev` on given services and
// follows its printed instructions, as a newcomer would.
func TestDevPrintsAWorkingCurlLine(t *testing.T) {
	t.Parallel()
	_, dbURL := pgtest.NewWithURL(t)
	_, redisURL := redistest.New(t)
	printed := regexp.MustCompile(`(?s)listening on (\S+)\).*curl -u (key_\w+):(sk_test_\S+) http://\S+/v1/merchant\n`)
	env := map[string]string{
		"DATABASE_URL": dbURL, "REDIS_URL": redisURL, "PAYLINK_ADDR": "127.0.0.1:0",
		"PAYLINK_DEV_DIR": t.TempDir(),
	}
	start := func() (context.CancelFunc, chan error, []string) {
		ctx, stop := context.WithCancel(context.Background())
		done := make(chan error, 1)
		out := &lineWatcher{re: printed, found: make(chan string, 1)}
		go func() { done <- run(ctx, []string{"dev"}, getenvFrom(env), out, io.Discard) }()
		select {
		case <-out.found:
		case err := <-done:
			t.Fatalf("dev exited early: %v\n%s", err, out.String())
		}
		return stop, done, printed.FindStringSubmatch(out.String())
	}

	stop, done, m := start()
	addr, keyID, secret := m[1], m[2], m[3]
	req, _ := http.NewRequest("GET", "http://"+addr+"/v1/merchant", nil)
	req.SetBasicAuth(keyID, secret)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var merchant struct{ Email string }
	json.NewDecoder(res.Body).Decode(&merchant)
	res.Body.Close()
	if res.StatusCode != 200 || merchant.Email != demoEmail {
		t.Fatalf("the printed curl line answered %d %+v; want 200 for %s", res.StatusCode, merchant, demoEmail)
	}
	stop()
	if err := <-done; err != nil {
		t.Fatalf("dev did not stop cleanly: %v", err)
	}

	// A second start prints a new pair and retires the old one.
	stop, done, m = start()
	defer func() { stop(); <-done }()
	if m[2] == keyID {
		t.Fatal("second start printed the same key")
	}
	req, _ = http.NewRequest("GET", "http://"+m[1]+"/v1/merchant", nil)
	req.SetBasicAuth(keyID, secret)
	res, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("the first run's key after a restart: %d, want 401", res.StatusCode)
	}
}
