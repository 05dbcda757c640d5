package seed

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	mrand "math/rand/v2"
	"sort"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/paylink/paylink/internal/checkout"
	"github.com/paylink/paylink/internal/id"
	"github.com/paylink/paylink/internal/idempotency"
	"github.com/paylink/paylink/internal/money"
	"github.com/paylink/paylink/internal/notify"
	"github.com/paylink/paylink/internal/postgres"
	"github.com/paylink/paylink/internal/processor"
	"github.com/paylink/paylink/internal/seal"
)

// What the seed generates, all in USD:
//
//   - merchants, each with an API key and one reusable payment link; the
//     three biggest take 20%, 15% and 10% of the payments and the rest
//     share the remainder Zipf-fashion (the n-th gets 1/n), so a few
//     merchants have millions of payments and most a few hundred;
//   - card payments spread evenly over the history, 95% succeeded, each
//     with its ledger transaction (card_in -x, merchant +x on random
//     shards) and its payment.succeeded or payment.failed event, from
//     customers who come back (a fifth as many e-mail addresses as
//     payments, some much more often than others);
//   - a webhook endpoint for the big merchants and a share of the others,
//     with a succeeded delivery and its attempt for every payment of the
//     last webhook-retention days, sent receipts for the last
//     email-retention days and Idempotency-Key records for the last
//     idempotency-retention: what the retention jobs would have kept;
//   - wallet users (Zipf-skewed activity) topping up by card and sending
//     each other money, never below zero, each with its ledger
//     transaction, history rows and in-app notifications;
//   - the balance rows the postings add up to.

// cardIn is the ledger account id of card_in USD; merchants' and users'
// accounts follow.
const cardIn = 1

// Shards per account, as ledger gives them.
const (
	merchantShards = 32
	systemShards   = 64
)

type genMerchant struct {
	id, name, link string
	endpoint       string // "" without one
	account        int64
	payments       int
	balance        [merchantShards]int64
}

type genUser struct {
	id, email string
	account   int64
	balance   int64
	rows      int
}

// idemRecord is an Idempotency-Key record to save once the history is in.
type idemRecord struct {
	req  idempotency.Request
	body []byte
	at   time.Time
}

// generator makes the history (see above) deterministically but for ids.
type generator struct {
	f           seedFlags
	keyring     *seal.Keyring
	pwHash      string
	rng         *mrand.Rand
	start, end  time.Time
	merchants   []genMerchant
	merchantCum []float64
	users       []genUser
	userCum     []float64
	cardIn      [systemShards]int64
	idem        []idemRecord
	paid        int // payments
	walletRows  int
}

func newGenerator(f seedFlags, keyring *seal.Keyring, pwHash string) *generator {
	end := time.Now().UTC().Add(-time.Hour).Truncate(time.Microsecond)
	g := &generator{f: f, keyring: keyring, pwHash: pwHash, rng: mrand.New(mrand.NewPCG(1, 2)),
		start: end.Add(-time.Duration(f.days) * 24 * time.Hour), end: end}
	weights := make([]float64, f.merchants)
	big := []float64{0.20, 0.15, 0.10}
	var rest float64
	for i := len(big); i < f.merchants; i++ {
		rest += 1 / float64(i-len(big)+1)
	}
	for i := range weights {
		if i < len(big) {
			weights[i] = big[i]
		} else {
			weights[i] = 0.55 / rest / float64(i-len(big)+1)
		}
	}
	g.merchantCum = cumulative(weights)
	uw := make([]float64, f.users)
	for i := range uw {
		uw[i] = 1 / float64(i+1)
	}
	g.userCum = cumulative(uw)
	return g
}

func cumulative(w []float64) []float64 {
	out := make([]float64, len(w))
	var sum float64
	for i, x := range w {
		sum += x
		out[i] = sum
	}
	for i := range out {
		out[i] /= sum
	}
	return out
}

// pick draws an index with the weights cum was made from.
func (g *generator) pick(cum []float64) int {
	return min(sort.SearchFloat64s(cum, g.rng.Float64()), len(cum)-1)
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// prelude creates the merchants with their keys, links and endpoints, the
// users, and every ledger account.
func (g *generator) prelude(ctx context.Context, db *postgres.DB) error {
	at := g.start.Add(-24 * time.Hour)
	var merchants, keys, links, endpoints, users [][]any
	var accIDs []int64
	var accKinds, accOwners []string
	var accShards []int16
	accIDs, accKinds, accOwners, accShards = append(accIDs, cardIn), append(accKinds, "card_in"), append(accOwners, ""), append(accShards, systemShards)
	next := int64(cardIn + 1)
	for i := range g.f.merchants {
		m := genMerchant{id: id.NewAt("mer", at), name: fmt.Sprintf("Seeded shop %d", i), link: id.NewAt("plink", at), account: next}
		next++
		merchants = append(merchants, []any{m.id, m.name, merchantEmail(i), g.pwHash, at})
		keyID, secret := id.NewAt("key", at), "sk_test_"+randomHex(24)
		digest := sha256.Sum256([]byte(secret))
		keys = append(keys, []any{keyID, m.id, digest[:], g.keyring.Seal([]byte(secret), []byte(keyID)), at})
		links = append(links, []any{m.link, m.id, int64(1000 + i%5000), "USD", "Seeded product", false, "active", "{}", g.end.Add(90 * 24 * time.Hour), at})
		if i < 3 || g.rng.Float64() < g.f.endpointShare {
			m.endpoint = id.NewAt("we", at)
			secret := "whsec_" + base64.StdEncoding.EncodeToString([]byte(randomHex(16)))
			endpoints = append(endpoints, []any{m.endpoint, m.id, fmt.Sprintf("https://hooks.shop%d.example/paylink", i),
				[]string{"*"}, g.keyring.Seal([]byte(secret), []byte(m.endpoint)), at})
		}
		accIDs, accKinds, accOwners, accShards = append(accIDs, m.account), append(accKinds, "merchant"), append(accOwners, m.id), append(accShards, merchantShards)
		g.merchants = append(g.merchants, m)
	}
	for i := range g.f.users {
		u := genUser{id: id.NewAt("usr", at), email: fmt.Sprintf("user%d@wallet.test", i), account: next}
		next++
		users = append(users, []any{u.id, u.email, "Seeded", fmt.Sprintf("User %d", i), fmt.Sprintf("+1555%07d", i), g.pwHash, at})
		accIDs, accKinds, accOwners, accShards = append(accIDs, u.account), append(accKinds, "wallet"), append(accOwners, u.id), append(accShards, 1)
		g.users = append(g.users, u)
	}
	return db.WithTx(ctx, func(tx pgx.Tx) error {
		for _, c := range []struct {
			table string
			cols  []string
			rows  [][]any
		}{
			{"merchants", []string{"id", "name", "email", "password_hash", "created_at"}, merchants},
			{"api_keys", []string{"id", "merchant_id", "secret_digest", "secret_sealed", "created_at"}, keys},
			{"payment_links", []string{"id", "merchant_id", "amount", "currency", "description", "single_use", "status", "metadata", "expires_at", "created_at"}, links},
			{"webhook_endpoints", []string{"id", "merchant_id", "url", "events", "secret_sealed", "created_at"}, endpoints},
			{"users", []string{"id", "email", "first_name", "last_name", "phone", "password_hash", "created_at"}, users},
		} {
			if _, err := tx.CopyFrom(ctx, pgx.Identifier{c.table}, c.cols, pgx.CopyFromRows(c.rows)); err != nil {
				return fmt.Errorf("copy into %s: %w", c.table, err)
			}
		}
		if _, err := tx.Exec(ctx, `
INSERT INTO ledger_accounts (id, kind, owner, currency, shards, created_at) OVERRIDING SYSTEM VALUE
SELECT a.id, a.kind, a.owner, 'USD', a.shards, $5 FROM unnest($1::bigint[], $2::text[], $3::text[], $4::smallint[]) AS a(id, kind, owner, shards)`,
			accIDs, accKinds, accOwners, accShards, at); err != nil {
			return fmt.Errorf("create ledger accounts: %w", err)
		}
		_, err := tx.Exec(ctx, `SELECT setval(pg_get_serial_sequence('ledger_accounts', 'id'), (SELECT max(id) FROM ledger_accounts))`)
		return err
	})
}

// history streams the payments and wallet transactions, in time order.
func (g *generator) history(ctx context.Context, s streams) error {
	// Wallet operations make 1.6 rows on average (a top-up 1, a transfer 2).
	walletOps := g.f.walletTx * 10 / 16
	total := g.f.payments + walletOps
	step := g.end.Sub(g.start) / time.Duration(total+1)
	customers := max(g.f.payments/5, 1)
	for n := 0; (g.paid < g.f.payments || g.walletRows < g.f.walletTx) && ctx.Err() == nil; n++ {
		t := g.start.Add(step * time.Duration(n))
		payNext := g.walletRows >= g.f.walletTx ||
			(g.paid < g.f.payments && g.rng.IntN(total) < g.f.payments)
		if payNext {
			if err := g.payment(s, t, customers); err != nil {
				return err
			}
		} else {
			g.walletOp(s, t)
		}
	}
	return ctx.Err()
}

var seedCards = []processor.Details{
	{Brand: "visa", Last4: "4242", ExpMonth: 12, ExpYear: 2030},
	{Brand: "mastercard", Last4: "4444", ExpMonth: 6, ExpYear: 2029},
	{Brand: "amex", Last4: "0005", ExpMonth: 3, ExpYear: 2031},
}

// payment streams one card payment and everything it wrote.
func (g *generator) payment(s streams, t time.Time, customers int) error {
	mi := g.pick(g.merchantCum)
	m := &g.merchants[mi]
	m.payments++
	g.paid++
	c := int(float64(customers) * math.Pow(g.rng.Float64(), 3))
	card := seedCards[g.rng.IntN(len(seedCards))]
	card.Fingerprint = fmt.Sprintf("fp_%x", c%50_000)
	payID := id.NewAt("pay", t)
	p := &checkout.Payment{ID: payID, MerchantID: m.id, LinkID: m.link,
		Amount: money.Amount{Minor: 100 + g.rng.Int64N(50_000), Currency: money.USD}, Status: checkout.Succeeded,
		Customer: checkout.Customer{Email: fmt.Sprintf("shopper%d@example.test", c), Name: fmt.Sprintf("Shopper %d", c)},
		Method:   "card", Card: card, ProcessorRef: "auth_" + strings.TrimPrefix(payID, "pay_"), Metadata: map[string]string{},
		CreatedAt: t, UpdatedAt: t}
	evType := "payment.succeeded"
	if g.rng.IntN(100) < 5 {
		p.Status, p.FailureCode, evType = checkout.Failed, "card_declined", "payment.failed"
	}
	s.put("payments", p.ID, p.MerchantID, p.LinkID, false, p.Amount.Minor, "USD", string(p.Status), orNil(p.FailureCode),
		p.Customer.Email, p.Customer.Name, "card", string(card.Brand), card.Last4, card.ExpMonth, card.ExpYear,
		card.Fingerprint, p.ProcessorRef, t, t)
	data, err := json.Marshal(checkout.ToWire(p))
	if err != nil {
		return err
	}
	evt := id.NewAt("evt", t)
	s.put("events", evt, m.id, evType, data, t, t)
	if p.Status == checkout.Succeeded {
		ltx := id.NewAt("ltx", t)
		s.put("ledger_transactions", ltx, "payment", p.ID, int32(2), t)
		in, out := int16(g.rng.IntN(systemShards)), int16(g.rng.IntN(merchantShards))
		s.put("ledger_entries", ltx, int64(cardIn), in, -p.Amount.Minor)
		s.put("ledger_entries", ltx, m.account, out, p.Amount.Minor)
		g.cardIn[in] -= p.Amount.Minor
		m.balance[out] += p.Amount.Minor
	}
	done := t.Add(40 * time.Millisecond)
	if m.endpoint != "" && g.end.Sub(t) < g.f.webhookDays {
		dlv := id.NewAt("dlv", t)
		s.put("webhook_deliveries", dlv, m.id, evt, m.endpoint, "succeeded", int32(1), t, t, done)
		s.put("webhook_attempts", dlv, int32(1), m.id, done, int32(204), int32(35), "")
	}
	if p.Status == checkout.Succeeded && g.end.Sub(t) < g.f.emailDays {
		e, _ := notify.Receipt(notify.Payment{ID: p.ID, Amount: p.Amount, PaymentLink: m.link, MethodType: "card",
			Brand: string(card.Brand), Last4: card.Last4, CustomerEmail: p.Customer.Email, CustomerName: p.Customer.Name,
			CreatedAt: t}, m.name)
		s.put("emails", id.NewAt("eml", t), e.To, e.Subject, e.Text, e.HTMLData(), t, done.Add(time.Second), "receipt:"+p.ID, t,
			int32(1))
	}
	if g.end.Sub(t) < g.f.idempotent {
		fp := sha256.Sum256([]byte(p.ID))
		body, _ := json.Marshal(map[string]any{"payment": json.RawMessage(data), "redirect_url": nil})
		g.idem = append(g.idem, idemRecord{req: idempotency.Request{Scope: "link:" + m.link, Key: randomHex(16),
			Fingerprint: fp[:]}, body: body, at: t})
	}
	return nil
}

// walletOp streams a top-up, or a transfer when the user has the money.
func (g *generator) walletOp(s streams, t time.Time) {
	ui := g.pick(g.userCum)
	u := &g.users[ui]
	if u.balance < 2_000 || g.rng.IntN(10) < 3 {
		amount := 1_000 + g.rng.Int64N(20_000)
		ref := "seed_" + randomHex(12)
		txn := id.NewAt("txn", t)
		g.ledger(s, "wallet_topup", ref, t, [2]int64{cardIn, u.account}, [2]int16{int16(g.rng.IntN(systemShards)), 0}, amount)
		s.put("wallet_transactions", txn, u.id, "topup", "succeeded", amount, "USD", nil, nil, ref, "visa", "4242", t, t)
		s.put("wallet_notifications", id.NewAt("wnt", t), u.id, "topup", fmt.Sprintf("You added $%d.%02d to your wallet.", amount/100, amount%100), txn, t, t)
		u.balance += amount
		u.rows++
		g.walletRows++
		return
	}
	vi := g.rng.IntN(len(g.users) - 1)
	if vi >= ui {
		vi++
	}
	v := &g.users[vi]
	amount := 100 + g.rng.Int64N(u.balance/2)
	out, in := id.NewAt("txn", t), id.NewAt("txn", t)
	g.ledger(s, "wallet_transfer", out, t, [2]int64{u.account, v.account}, [2]int16{0, 0}, amount)
	s.put("wallet_transactions", out, u.id, "transfer_out", "succeeded", amount, "USD", v.id, v.email, out, nil, nil, t, t)
	s.put("wallet_transactions", in, v.id, "transfer_in", "succeeded", amount, "USD", u.id, u.email, out, nil, nil, t, t)
	s.put("wallet_notifications", id.NewAt("wnt", t), u.id, "transfer_out", fmt.Sprintf("You sent money to %s.", v.email), out, t, nil)
	s.put("wallet_notifications", id.NewAt("wnt", t), v.id, "transfer_in", fmt.Sprintf("You received money from %s.", u.email), in, t, nil)
	u.balance -= amount
	v.balance += amount
	u.rows++
	v.rows++
	g.walletRows += 2
}

// ledger streams a two-entry ledger transaction moving amount from
// accounts[0] (shard[0]) to accounts[1] (shard[1]), and keeps the system
// account's shard balance (wallet balances are kept by the caller).
func (g *generator) ledger(s streams, kind, ref string, t time.Time, accounts [2]int64, shard [2]int16, amount int64) {
	ltx := id.NewAt("ltx", t)
	s.put("ledger_transactions", ltx, kind, ref, int32(2), t)
	s.put("ledger_entries", ltx, accounts[0], shard[0], -amount)
	s.put("ledger_entries", ltx, accounts[1], shard[1], amount)
	if accounts[0] == cardIn {
		g.cardIn[shard[0]] -= amount
	}
}

// finish writes the balance rows and the Idempotency-Key records.
func (g *generator) finish(ctx context.Context, db *postgres.DB, idem *idempotency.Store) error {
	var rows [][]any
	for sh, b := range g.cardIn {
		rows = append(rows, []any{int64(cardIn), int16(sh), "card_in", b})
	}
	for _, m := range g.merchants {
		for sh, b := range m.balance {
			rows = append(rows, []any{m.account, int16(sh), "merchant", b})
		}
	}
	for _, u := range g.users {
		rows = append(rows, []any{u.account, int16(0), "wallet", u.balance})
	}
	err := db.WithTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SET LOCAL session_replication_role = replica"); err != nil {
			return fmt.Errorf("bypass the balance guard for the load (needs a superuser): %w", err)
		}
		_, err := tx.CopyFrom(ctx, pgx.Identifier{"ledger_balances"}, []string{"account_id", "shard", "kind", "balance"}, pgx.CopyFromRows(rows))
		return err
	})
	if err != nil {
		return fmt.Errorf("copy balances: %w", err)
	}
	for len(g.idem) > 0 && ctx.Err() == nil {
		batch := g.idem[:min(1000, len(g.idem))]
		g.idem = g.idem[len(batch):]
		err := db.WithTxLater(ctx, func(_ pgx.Tx, later *postgres.Writes) error {
			for _, r := range batch {
				if err := idem.Save(ctx, later, r.req, idempotency.Response{Status: 200, Body: r.body}, r.at); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return ctx.Err()
}

func orNil(s string) any {
	if s == "" {
		return nil
	}
	return s
}
