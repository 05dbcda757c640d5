package main

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// merchant is a merchant the campaign made, with its reusable link.
type merchant struct {
	index   string
	id      string
	key     [2]string // API key id and secret
	linkURL string
	amount  int64 // the link's amount, USD cents
}

// user is a wallet user the campaign made, logged in.
type user struct {
	email  string
	cookie string
}

// payment is an acknowledged succeeded payment.
type payment struct {
	id       string
	key      string
	email    string
	merchant *merchant
	amount   int64
}

// model is what the campaign's clients were told, the truth the cluster's
// data must match at the end.
type model struct {
	mu        sync.Mutex
	merchants []*merchant
	users     []*user
	balance   map[string]int64 // merchant id or user e-mail → expected USD balance
	payments  []*payment       // acknowledged succeeded payments
	declined  int              // acknowledged card declines
	refundIDs []string         // acknowledged refunds
	refunded  map[string]int64 // payment id → acknowledged refunds
	transfers map[string]string
	topups    map[string]int // user e-mail → acknowledged top-ups
	nsf       int            // transfers refused for insufficient funds
	// refundable holds payments with something left to refund and no
	// refund running.
	refundable []*payment
}

// stats counts operations and samples successful payments' times.
type stats struct {
	ops, firstTry, undecided atomic.Int64
	mu                       sync.Mutex
	successes                []time.Time // completions of new succeeded payments
	errs                     []string    // the first undecided or unexpected answers
}

func (s *stats) note(a answer, err error) {
	s.ops.Add(1)
	if err == nil && a.firstTry {
		s.firstTry.Add(1)
	}
	if err != nil {
		s.undecided.Add(1)
		s.mu.Lock()
		if len(s.errs) < 20 {
			s.errs = append(s.errs, err.Error())
		}
		s.mu.Unlock()
	}
}

func (s *stats) unexpected(format string, args ...any) {
	s.mu.Lock()
	if len(s.errs) < 20 {
		s.errs = append(s.errs, fmt.Sprintf(format, args...))
	}
	s.mu.Unlock()
}

// campaign is the load side: the clients, the model and the counters.
type campaign struct {
	base   string
	run    string // makes keys and e-mails unique to this run
	c      *client
	m      *model
	st     *stats
	recv   *receiver
	maxOps int64
	seq    atomic.Int64
}

func (k *campaign) next(prefix string) string {
	return fmt.Sprintf("%s-%s-%d", prefix, k.run, k.seq.Add(1))
}

const password = "chaos-campaign-password"

// setup makes the merchants (each with a webhook endpoint to the
// receiver and a reusable link) and the wallet users (logged in, topped
// up).
func (k *campaign) setup(ctx context.Context, merchants, users int) error {
	k.m.balance, k.m.refunded, k.m.transfers, k.m.topups = map[string]int64{}, map[string]int64{}, map[string]string{}, map[string]int{}
	for i := range merchants {
		m := &merchant{index: strconv.Itoa(i), amount: int64(1000 + 250*i)}
		var signup struct {
			Merchant struct{ ID string }         `json:"merchant"`
			APIKey   struct{ ID, Secret string } `json:"api_key"`
		}
		a, err := k.c.do(ctx, request{method: "POST", url: k.base + "/v1/merchants", body: map[string]string{
			"name": "Chaos Shop " + m.index, "email": fmt.Sprintf("shop%d-%s@chaos.test", i, k.run), "password": password}})
		if err == nil {
			err = decodeInto(a, http.StatusCreated, &signup)
		}
		if err != nil {
			return fmt.Errorf("merchant sign-up: %w", err)
		}
		m.id, m.key = signup.Merchant.ID, [2]string{signup.APIKey.ID, signup.APIKey.Secret}
		var ep struct{ Secret string }
		a, err = k.c.do(ctx, request{method: "POST", url: k.base + "/v1/webhook_endpoints", basic: m.key, key: k.next("ep"),
			body: map[string]any{"url": k.recv.url(m.index), "events": []string{"payment.succeeded"}}})
		if err == nil {
			err = decodeInto(a, http.StatusCreated, &ep)
		}
		if err != nil {
			return fmt.Errorf("webhook endpoint: %w", err)
		}
		k.recv.setSecret(m.index, ep.Secret)
		var link struct{ URL string }
		a, err = k.c.do(ctx, request{method: "POST", url: k.base + "/v1/payment_links", basic: m.key, key: k.next("link"),
			body: map[string]any{"amount": m.amount, "currency": "USD", "description": "Chaos mug", "single_use": false,
				"expires_in": 7 * 24 * 3600}})
		if err == nil {
			err = decodeInto(a, http.StatusCreated, &link)
		}
		if err != nil {
			return fmt.Errorf("payment link: %w", err)
		}
		m.linkURL = link.URL
		k.m.merchants = append(k.m.merchants, m)
	}
	for i := range users {
		u := &user{email: fmt.Sprintf("user%d-%s@chaos.test", i, k.run)}
		a, err := k.c.do(ctx, request{method: "POST", url: k.base + "/v1/wallet/signup", body: map[string]string{
			"email": u.email, "password": password, "first_name": "Chaos", "middle_name": "", "last_name": "User" + strconv.Itoa(i),
			"phone": fmt.Sprintf("+1415555%04d", i)}})
		if err == nil {
			err = decodeInto(a, http.StatusCreated, nil)
		}
		if err != nil {
			return fmt.Errorf("wallet sign-up: %w", err)
		}
		if u.cookie, err = k.login(ctx, u.email); err != nil {
			return err
		}
		k.m.users = append(k.m.users, u)
	}
	for _, u := range k.m.users {
		if err := k.topUp(ctx, u); err != nil {
			return err
		}
	}
	return nil
}

// login logs u in and returns its session cookie.
func (k *campaign) login(ctx context.Context, email string) (string, error) {
	for {
		req, _ := http.NewRequestWithContext(ctx, "POST", k.base+"/v1/wallet/login",
			strings.NewReader(fmt.Sprintf(`{"email":%q,"password":%q}`, email, password)))
		req.Header.Set("Content-Type", "application/json")
		res, err := k.c.http.Do(req)
		if err == nil {
			res.Body.Close()
			for _, c := range res.Cookies() {
				if c.Name == "paylink_session" && res.StatusCode == http.StatusOK {
					return c.Name + "=" + c.Value, nil
				}
			}
			if res.StatusCode < 500 {
				return "", fmt.Errorf("wallet log-in: %s", res.Status)
			}
		}
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// card is the request body's card: 4242 mostly, a declining card now
// and then.
func card(r *rand.Rand) map[string]any {
	number := "4242424242424242"
	if r.IntN(10) == 0 {
		number = "4000000000000002"
	}
	return map[string]any{"number": number, "exp_month": 12, "exp_year": 2035, "cvc": "123"}
}

// pay pays a random merchant's link once, retried with its key until
// definitive.
func (k *campaign) pay(ctx context.Context, r *rand.Rand) {
	m := k.m.merchants[r.IntN(len(k.m.merchants))]
	key := k.next("pay")
	email := key + "@chaos.test"
	a, err := k.c.do(ctx, request{method: "POST", url: m.linkURL, key: key, body: map[string]any{
		"email": email, "name": "Chaos Shopper", "payment_method": map[string]any{"type": "card", "card": card(r)}}})
	k.st.note(a, err)
	if err != nil {
		return
	}
	var out struct {
		Payment struct {
			ID     string `json:"id"`
			Status string `json:"status"`
			Amount int64  `json:"amount"`
		} `json:"payment"`
	}
	switch {
	case a.status == http.StatusOK && decodeInto(a, http.StatusOK, &out) == nil && out.Payment.Status == "succeeded":
		p := &payment{id: out.Payment.ID, key: key, email: email, merchant: m, amount: out.Payment.Amount}
		k.m.mu.Lock()
		k.m.payments = append(k.m.payments, p)
		k.m.refundable = append(k.m.refundable, p)
		k.m.balance[m.id] += p.amount
		k.m.mu.Unlock()
		if !a.replayed {
			k.st.mu.Lock()
			k.st.successes = append(k.st.successes, a.at)
			k.st.mu.Unlock()
		}
	case a.status == http.StatusPaymentRequired && a.code == "card_declined":
		k.m.mu.Lock()
		k.m.declined++
		k.m.mu.Unlock()
	default:
		k.st.unexpected("pay: %d %s %.200s", a.status, a.code, a.body)
	}
}

// refund refunds part of an acknowledged payment that has some left.
func (k *campaign) refund(ctx context.Context, r *rand.Rand) bool {
	k.m.mu.Lock()
	if len(k.m.refundable) == 0 {
		k.m.mu.Unlock()
		return false
	}
	i := r.IntN(len(k.m.refundable))
	p := k.m.refundable[i]
	k.m.refundable = append(k.m.refundable[:i], k.m.refundable[i+1:]...)
	left := p.amount - k.m.refunded[p.id]
	k.m.mu.Unlock()
	amount := min(left, 100+r.Int64N(400))
	a, err := k.c.do(ctx, request{method: "POST", url: k.base + "/v1/payments/" + p.id + "/refunds", basic: p.merchant.key,
		key: k.next("re"), body: map[string]any{"amount": amount}})
	k.st.note(a, err)
	var out struct{ ID string }
	k.m.mu.Lock()
	defer k.m.mu.Unlock()
	if err == nil && decodeInto(a, http.StatusCreated, &out) == nil {
		k.m.refundIDs = append(k.m.refundIDs, out.ID)
		k.m.refunded[p.id] += amount
		k.m.balance[p.merchant.id] -= amount
	} else if err == nil {
		k.st.unexpected("refund: %d %s %.200s", a.status, a.code, a.body)
	}
	if err == nil && p.amount-k.m.refunded[p.id] > 0 {
		k.m.refundable = append(k.m.refundable, p)
	}
	return true
}

// transfer sends a small amount between two random wallet users.
func (k *campaign) transfer(ctx context.Context, r *rand.Rand) {
	from := k.m.users[r.IntN(len(k.m.users))]
	to := k.m.users[r.IntN(len(k.m.users))]
	if from == to {
		return
	}
	amount := 50 + r.Int64N(950)
	key := k.next("tr")
	a, err := k.c.do(ctx, request{method: "POST", url: k.base + "/v1/wallet/transfers", cookie: from.cookie, key: key,
		body: map[string]any{"receiver_email": to.email, "amount": amount, "currency": "USD", "note": key}})
	k.st.note(a, err)
	if err != nil {
		return
	}
	var out struct{ ID string }
	k.m.mu.Lock()
	defer k.m.mu.Unlock()
	switch {
	case decodeInto(a, http.StatusCreated, &out) == nil:
		k.m.transfers[key] = out.ID
		k.m.balance[from.email] -= amount
		k.m.balance[to.email] += amount
	case a.status == http.StatusPaymentRequired && a.code == "insufficient_funds":
		k.m.nsf++
	default:
		k.st.unexpected("transfer: %d %s %.200s", a.status, a.code, a.body)
	}
}

// topUp credits u's wallet by card.
func (k *campaign) topUp(ctx context.Context, u *user) error {
	a, err := k.c.do(ctx, request{method: "POST", url: k.base + "/v1/wallet/topup", cookie: u.cookie, key: k.next("top"),
		body: map[string]any{"amount": 20000, "currency": "USD",
			"card": map[string]any{"number": "4242424242424242", "exp_month": 12, "exp_year": 2035, "cvc": "123"}}})
	k.st.note(a, err)
	if err != nil {
		return err
	}
	if err := decodeInto(a, http.StatusCreated, nil); err != nil {
		k.st.unexpected("top-up: %v", err)
		return err
	}
	k.m.mu.Lock()
	k.m.balance[u.email] += 20000
	k.m.topups[u.email]++
	k.m.mu.Unlock()
	return nil
}

// errBudget ends the load when the operation budget is spent.
var errBudget = errors.New("operation budget spent")

// worker runs operations until stop is closed or the budget is spent:
// payers only pay; the others mix refunds, transfers and top-ups. An
// operation under way when stop closes still runs to its definitive
// answer, so that the model knows every outcome.
// Each worker starts at most one operation per every.
func (k *campaign) worker(ctx context.Context, stop <-chan struct{}, seed uint64, payer bool, every time.Duration) error {
	r := rand.New(rand.NewPCG(seed, seed*7+1))
	tick := time.NewTicker(every)
	defer tick.Stop()
	for ctx.Err() == nil {
		select {
		case <-stop:
			return nil
		case <-tick.C:
		}
		if k.st.ops.Load() >= k.maxOps {
			return errBudget
		}
		switch n := r.IntN(10); {
		case payer:
			k.pay(ctx, r)
		case n < 4:
			if !k.refund(ctx, r) {
				k.pay(ctx, r)
			}
		case n < 9:
			k.transfer(ctx, r)
		default:
			_ = k.topUp(ctx, k.m.users[r.IntN(len(k.m.users))])
		}
	}
	return nil
}
