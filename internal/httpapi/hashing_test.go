package httpapi_test

import (
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/argon2"

	"github.com/paylink/paylink/internal/httpapi"
	"github.com/paylink/paylink/internal/httpapi/apitest"
	"github.com/paylink/paylink/internal/password"
	"github.com/paylink/paylink/internal/wallet"
)

// kdfGate stands in for Argon2id in tests: it counts the hashes that
// start and, while held, makes each wait for release, so a test sees how
// many run at once and how many a burst of requests got to run at all. It
// hashes with tiny Argon2id parameters (hashes and checks stay consistent
// with each other), so a burst of fifty costs no gigabyte.
type kdfGate struct {
	mu         sync.Mutex
	held       bool
	release    chan struct{}
	entered    chan struct{} // one value per hash started while held
	started    int
	running    int
	maxRunning int
}

func newKDFGate() *kdfGate {
	return &kdfGate{entered: make(chan struct{}, 1000), release: make(chan struct{})}
}

func (g *kdfGate) kdf(pw, salt []byte, t, m uint32, p uint8, n uint32) []byte {
	g.mu.Lock()
	g.started++
	g.running++
	g.maxRunning = max(g.maxRunning, g.running)
	held, release := g.held, g.release
	g.mu.Unlock()
	if held {
		g.entered <- struct{}{}
		<-release
	}
	out := argon2.IDKey(pw, salt, 1, 64, 1, n)
	g.mu.Lock()
	g.running--
	g.mu.Unlock()
	return out
}

// hold makes hashes started from now on wait for open, and resets the
// counts.
func (g *kdfGate) hold() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.held, g.release, g.started, g.maxRunning = true, make(chan struct{}), 0, g.running
}

// open lets every held hash go on.
func (g *kdfGate) open() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.held {
		g.held = false
		close(g.release)
	}
}

// counts returns how many hashes started since hold and the most that ran
// at once.
func (g *kdfGate) counts() (started, maxRunning int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.started, g.maxRunning
}

// heldBurst sends n requests at once while g is held and waits until each
// either runs a hash (held there) or has its answer, then opens g and
// returns every answer, in request order.
func heldBurst(t *testing.T, g *kdfGate, n int, send func(i int) apitest.Response) []apitest.Response {
	t.Helper()
	type answer struct {
		i   int
		res apitest.Response
	}
	answers := make(chan answer, n)
	g.hold()
	defer g.open()
	for i := range n {
		go func() { answers <- answer{i, send(i)} }()
	}
	out := make([]apitest.Response, n)
	got, entered := 0, 0
	deadline := time.After(2 * time.Minute)
	for got+entered < n {
		select {
		case a := <-answers:
			out[a.i] = a.res
			got++
		case <-g.entered:
			entered++
		case <-deadline:
			t.Fatalf("burst: %d answered and %d hashing of %d after 2 minutes", got, entered, n)
		}
	}
	g.open()
	for ; got < n; got++ {
		a := <-answers
		out[a.i] = a.res
	}
	return out
}

// withHasher makes h the password hasher of the server and of its wallet
// (which locks an e-mail after 10 failed log-ins for 15 minutes).
func withHasher(t *testing.T, h *password.Hasher) func(*httpapi.Deps) {
	return func(d *httpapi.Deps) {
		d.Passwords = h
		d.Wallet = wallet.NewService(d.DB, d.Redis, apitest.Keyring(t), wallet.Config{SessionTTL: time.Hour, MaxFailures: 10,
			Lockout: 15 * time.Minute, Passwords: h}, time.Now)
	}
}

// TestPasswordHashingIsBoundedPerProcess (security review, finding 5): a
// burst of merchant sign-ups, wallet sign-ups and wallet log-ins, as from
// many addresses, runs at most the configured number of Argon2id hashes at
// once; a request that cannot get a slot within the wait is a 503
// api_error with Retry-After and creates nothing.
func TestPasswordHashingIsBoundedPerProcess(t *testing.T) {
	t.Parallel()
	gate := newKDFGate()
	e := apitest.New(t, withHasher(t, password.NewHasher(password.Config{Slots: 2, Wait: time.Millisecond, KDF: gate.kdf})))
	e.WalletUser("regular@example.test")
	const n = 15
	res := heldBurst(t, gate, n, func(i int) apitest.Response {
		switch i % 3 {
		case 0:
			return e.Do(apitest.Req{Method: "POST", Path: "/v1/merchants", Body: map[string]string{"name": "Burst " + strconv.Itoa(i),
				"email": fmt.Sprintf("m%d@shop.test", i), "password": "correct horse battery"}})
		case 1:
			return e.NewShopper().Do(apitest.Req{Method: "POST", Path: "/v1/wallet/signup", Body: apitest.SignUpBody(fmt.Sprintf("u%d@example.test", i))})
		}
		return e.NewShopper().Do(apitest.Req{Method: "POST", Path: "/v1/wallet/login",
			Body: map[string]string{"email": "regular@example.test", "password": apitest.WalletPassword}})
	})
	started, most := gate.counts()
	if most > 2 || started > 2 {
		t.Fatalf("%d hashes started, %d at once; the process allows 2 at once and the rest waited too long", started, most)
	}
	done, busy := 0, 0
	for i, r := range res {
		switch r.Status {
		case http.StatusCreated, http.StatusOK:
			done++
		default:
			apitest.WantError(t, r, http.StatusServiceUnavailable, "server_busy")
			if ra, err := strconv.Atoi(r.Header.Get("Retry-After")); err != nil || ra < 1 {
				t.Errorf("request %d: Retry-After = %q", i, r.Header.Get("Retry-After"))
			}
			busy++
		}
	}
	if done != started || busy != n-started {
		t.Errorf("%d done and %d busy of %d; want %d done", done, busy, n, started)
	}
	created := e.Count("SELECT count(*) FROM merchants") + e.Count("SELECT count(*) FROM users") - 1
	if created > done {
		t.Errorf("%d accounts created by %d successful requests", created, done)
	}

	// With a long enough wait, a burst is queued instead: everyone gets in,
	// never more than two hashing at once.
	gate2 := newKDFGate()
	e2 := apitest.New(t, withHasher(t, password.NewHasher(password.Config{Slots: 2, Wait: 5 * time.Minute, KDF: gate2.kdf})))
	var wg sync.WaitGroup
	statuses := make([]int, 6)
	for i := range statuses {
		wg.Add(1)
		go func() {
			defer wg.Done()
			statuses[i] = e2.NewShopper().Do(apitest.Req{Method: "POST", Path: "/v1/wallet/signup",
				Body: apitest.SignUpBody(fmt.Sprintf("q%d@example.test", i))}).Status
		}()
	}
	wg.Wait()
	for i, st := range statuses {
		if st != http.StatusCreated {
			t.Errorf("queued sign-up %d = %d, want 201", i, st)
		}
	}
	if _, most := gate2.counts(); most > 2 {
		t.Errorf("%d hashes ran at once; want at most 2", most)
	}
}
