package apitest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/ulule/limiter/v3"
	"golang.org/x/crypto/argon2"

	"github.com/paylink/paylink/internal/httpapi"
	"github.com/paylink/paylink/internal/httpapi/edge"
	"github.com/paylink/paylink/internal/money"
	"github.com/paylink/paylink/internal/passkey"
	"github.com/paylink/paylink/internal/passkey/passkeytest"
	"github.com/paylink/paylink/internal/password"
	"github.com/paylink/paylink/internal/postgres"
	"github.com/paylink/paylink/internal/processor"
	"github.com/paylink/paylink/internal/risk"
	"github.com/paylink/paylink/internal/seal"
	"github.com/paylink/paylink/internal/wallet"
	"github.com/paylink/paylink/internal/walletrisk"
	"github.com/paylink/paylink/internal/wire"
)

// Origin is the base URL's origin in HTTP tests, and the passkeys'.
const Origin = "http://paylink.test"

// walletDeps adds the wallet's services to New's Deps.
func walletDeps(t *testing.T, d *httpapi.Deps, db *postgres.DB, rdb *redis.Client, keyring *seal.Keyring) {
	t.Helper()
	pk, err := passkey.New(passkey.Config{RPID: "paylink.test", RPName: "Paylink", Origins: []string{Origin},
		Timeout: 2 * time.Minute}, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	cur, err := money.ParseSet(money.DefaultAccepted)
	if err != nil {
		t.Fatal(err)
	}
	// A loaded test machine must queue hashes, never answer 503. Hashes
	// run Argon2id at its lowest cost: every sign-up and log-in of every
	// test waits for one, and at the production cost (19 MiB, two passes)
	// under the race detector they took walletapp's tests from 59 s to
	// 84 s and the dashboard's from 76 s to 88 s. Package password tests
	// the real parameters.
	d.Passwords = password.NewHasher(password.Config{Wait: 10 * time.Minute, KDF: CheapKDF})
	d.Wallet = wallet.NewService(db, rdb, keyring, wallet.Config{SessionTTL: time.Hour, MaxFailures: 10, Lockout: 15 * time.Minute,
		Passwords: d.Passwords}, time.Now)
	d.Passkeys = pk
	d.Currencies = cur
	secret, _ := keyring.Derive(keyring.Current(), "processor-simulator")
	sim := processor.NewSimulator(secret, processor.NewRedisKeys(rdb), time.Now)
	d.Processor = sim
	d.WalletRisk = walletrisk.New(db, walletrisk.NewCounters(rdb, "", risk.DefaultThresholds, d.Log), risk.DefaultThresholds,
		sim.Fingerprint, d.Log, time.Now)
	d.Limits.Login = limiter.Rate{Period: time.Minute, Limit: 10000}
}

// Keyring is the master keyring of TestKeys.
func Keyring(t *testing.T) *seal.Keyring {
	t.Helper()
	k, err := seal.Parse(TestKeys)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// Shopper is a browser-like wallet client: a cookie jar and JSON bodies.
type Shopper struct {
	Env    *Env
	Client *http.Client
	Email  string // who it logged in as
}

// NewShopper is a browser with an empty cookie jar, talking to e.
func (e *Env) NewShopper() *Shopper {
	jar, err := cookiejar.New(nil)
	if err != nil {
		e.T.Fatal(err)
	}
	return &Shopper{Env: e, Client: &http.Client{Jar: jar}}
}

// On returns the same browser talking to another replica (cookies are per
// host, not port, so the jar carries over).
func (s *Shopper) On(other *Env) *Shopper { c := *s; c.Env = other; return &c }

// Do sends r with Content-Type: application/json on bodies and POSTs.
func (s *Shopper) Do(r Req) Response {
	s.Env.T.Helper()
	var body io.Reader
	switch b := r.Body.(type) {
	case nil:
		if r.Method == http.MethodPost {
			body = strings.NewReader("{}")
		}
	case string:
		body = strings.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			s.Env.T.Fatal(err)
		}
		body = bytes.NewReader(j)
	}
	hr, err := http.NewRequest(r.Method, s.Env.Base+r.Path, body)
	if err != nil {
		s.Env.T.Fatal(err)
	}
	if body != nil {
		hr.Header.Set("Content-Type", "application/json")
	}
	for k, v := range r.Header {
		hr.Header.Set(k, v)
	}
	res, err := s.Client.Do(hr)
	if err != nil {
		s.Env.T.Fatalf("%s %s: %v", r.Method, r.Path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		s.Env.T.Fatal(err)
	}
	return Response{Status: res.StatusCode, Header: res.Header, Body: b}
}

// WalletPassword is every test wallet user's password.
const WalletPassword = "correct horse battery"

// SignUpBody is the wallet sign-up body of a user with email.
func SignUpBody(email string) map[string]string {
	return map[string]string{"email": email, "password": WalletPassword, "first_name": "Ada", "middle_name": "King",
		"last_name": "Lovelace", "phone": "+44 20 7946 0000"}
}

// WalletUser signs up email and returns a Shopper logged in as it.
func (e *Env) WalletUser(email string) *Shopper {
	e.T.Helper()
	s := e.NewShopper()
	if res := s.Do(Req{Method: "POST", Path: "/v1/wallet/signup", Body: SignUpBody(email)}); res.Status != http.StatusCreated {
		e.T.Fatalf("wallet sign-up %s: %d %s", email, res.Status, res.Body)
	}
	s.Login(email)
	return s
}

// Login logs s in as email, with WalletPassword.
func (s *Shopper) Login(email string) {
	s.Env.T.Helper()
	res := s.Do(Req{Method: "POST", Path: "/v1/wallet/login", Body: map[string]string{"email": email, "password": WalletPassword}})
	if res.Status != http.StatusOK {
		s.Env.T.Fatalf("log in %s: %d %s", email, res.Status, res.Body)
	}
	s.Email = email
}

// WantErrorType is WantError for the wallet's 402 insufficient_funds,
// whose type API.md makes invalid_request_error.
func WantErrorType(t *testing.T, res Response, status int, code, typ string) {
	t.Helper()
	var b edge.ErrorBody
	_ = json.Unmarshal(res.Body, &b)
	if res.Status != status || b.Error.Code != code || b.Error.Type != typ {
		t.Fatalf("got %d %s; want %d %s (%s)", res.Status, res.Body, status, code, typ)
	}
	if b.Error.RequestID == "" || b.Error.RequestID != res.Header.Get("X-Request-Id") {
		t.Errorf("request_id %q does not match X-Request-Id", b.Error.RequestID)
	}
}

// Card is a wallet top-up's card with number.
func Card(number string) map[string]any {
	return map[string]any{"number": number, "exp_month": 12, "exp_year": 2035, "cvc": "123"}
}

// TopUp adds amount USD to s's wallet with the Visa test card.
func (s *Shopper) TopUp(amount int64, currency string) wire.WalletTransaction {
	s.Env.T.Helper()
	res := s.Do(Req{Method: "POST", Path: "/v1/wallet/topup",
		Body: map[string]any{"amount": amount, "currency": currency, "card": Card("4242424242424242")}})
	if res.Status != http.StatusCreated {
		s.Env.T.Fatalf("top up: %d %s", res.Status, res.Body)
	}
	var t wire.WalletTransaction
	res.Decode(s.Env.T, &t)
	return t
}

// Balances is s's non-zero balances by currency.
func (s *Shopper) Balances() map[string]int64 {
	s.Env.T.Helper()
	res := s.Do(Req{Method: "GET", Path: "/v1/wallet/account"})
	if res.Status != 200 {
		s.Env.T.Fatalf("account: %d %s", res.Status, res.Body)
	}
	var a struct {
		Balances []wire.Money `json:"balances"`
	}
	res.Decode(s.Env.T, &a)
	out := map[string]int64{}
	for _, b := range a.Balances {
		if b.Amount != 0 {
			out[b.Currency] = b.Amount
		}
	}
	return out
}

// History is s's transactions list with query.
func (s *Shopper) History(query string) wire.List[wire.WalletTransaction] {
	s.Env.T.Helper()
	res := s.Do(Req{Method: "GET", Path: "/v1/wallet/transactions" + query})
	if res.Status != 200 {
		s.Env.T.Fatalf("history: %d %s", res.Status, res.Body)
	}
	var l wire.List[wire.WalletTransaction]
	res.Decode(s.Env.T, &l)
	return l
}

// Notifications is s's notifications list with query.
func (s *Shopper) Notifications(query string) wire.List[wire.Notification] {
	s.Env.T.Helper()
	res := s.Do(Req{Method: "GET", Path: "/v1/wallet/notifications" + query})
	if res.Status != 200 {
		s.Env.T.Fatalf("notifications: %d %s", res.Status, res.Body)
	}
	var l wire.List[wire.Notification]
	res.Decode(s.Env.T, &l)
	return l
}

// Transfer sends amount to the wallet user to, with extra body fields.
func (s *Shopper) Transfer(to string, amount int64, currency string, extra map[string]any) Response {
	body := map[string]any{"receiver_email": to, "amount": amount, "currency": currency, "note": "lunch"}
	for k, v := range extra {
		body[k] = v
	}
	return s.Do(Req{Method: "POST", Path: "/v1/wallet/transfers", Body: body})
}

// MoneyRows counts what a money movement writes, to check a refused one
// wrote nothing.
func MoneyRows(t *testing.T, e *Env) string {
	t.Helper()
	return fmt.Sprintf("txns=%d notifications=%d emails=%d", e.Count("SELECT count(*) FROM wallet_transactions"),
		e.Count("SELECT count(*) FROM wallet_notifications"), e.Count("SELECT count(*) FROM emails"))
}

// RegisterPasskey registers a passkey of auth for the logged-in s.
func RegisterPasskey(t *testing.T, s *Shopper, auth *passkeytest.Authenticator) wire.Passkey {
	t.Helper()
	opts := s.Do(Req{Method: "POST", Path: "/v1/wallet/passkeys/register/begin"})
	if opts.Status != 200 {
		t.Fatalf("register/begin: %d %s", opts.Status, opts.Body)
	}
	cred, err := auth.Create(opts.Body)
	if err != nil {
		t.Fatal(err)
	}
	res := s.Do(Req{Method: "POST", Path: "/v1/wallet/passkeys/register/finish",
		Body: map[string]any{"name": "Laptop", "credential": json.RawMessage(cred)}})
	if res.Status != http.StatusCreated {
		t.Fatalf("register/finish: %d %s", res.Status, res.Body)
	}
	var p wire.Passkey
	res.Decode(t, &p)
	return p
}

// CheapKDF is Argon2id at its lowest cost (one pass over 64 KiB), for
// tests that hash passwords on the way to what they test: the stored
// hashes name the production parameters, and hashing and checking agree.
func CheapKDF(pw, salt []byte, _, _ uint32, threads uint8, keyLen uint32) []byte {
	return argon2.IDKey(pw, salt, 1, 64, threads, keyLen)
}
