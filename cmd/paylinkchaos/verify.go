package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"sort"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/paylink/paylink/internal/chaos"
)

// row is one line of the final table.
type row struct {
	check, result, target string
	ok                    bool
}

// verifier checks the cluster's data against the model once the load
// and the faults are over.
type verifier struct {
	k         *campaign
	db        *pgxpool.Pool
	paylink   string // binary, for `paylink ledger verify`
	dbURL     string
	merchants []string
	mail      *mailbox
	rows      []row
}

func (v *verifier) add(check, result, target string, ok bool) {
	v.rows = append(v.rows, row{check, result, target, ok})
}

// drain waits up to d until every payment.succeeded event of the
// campaign's merchants has reached the receiver correctly signed and
// every e-mail has been sent and received.
func (v *verifier) drain(ctx context.Context, d time.Duration) (time.Duration, error) {
	start := time.Now()
	deadline := start.Add(d)
	for {
		events, missing, err := v.undelivered(ctx)
		emails, unsent, err2 := v.unsentEmails(ctx)
		if err == nil && err2 == nil && missing == 0 && unsent == 0 {
			return time.Since(start), nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return time.Since(start), fmt.Errorf("after %s: %d of %d events undelivered, %d of %d e-mails unsent (%v %v)",
				d, missing, events, unsent, emails, err, err2)
		}
		time.Sleep(time.Second)
	}
}

// events reads the campaign merchants' payment.succeeded events: event
// id → payment id.
func (v *verifier) events(ctx context.Context) (map[string]string, error) {
	rows, err := v.db.Query(ctx, `SELECT id, data->>'id' FROM events WHERE type = 'payment.succeeded' AND merchant_id = ANY($1)`, v.merchants)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for rows.Next() {
		var id, pay string
		if err := rows.Scan(&id, &pay); err != nil {
			return nil, err
		}
		out[id] = pay
	}
	return out, rows.Err()
}

func (v *verifier) undelivered(ctx context.Context) (int, int, error) {
	evs, err := v.events(ctx)
	if err != nil {
		return 0, 0, err
	}
	missing := 0
	for id := range evs {
		if v.k.recv.received(id) == 0 {
			missing++
		}
	}
	return len(evs), missing, nil
}

func (v *verifier) unsentEmails(ctx context.Context) (int, int, error) {
	rows, err := v.db.Query(ctx, `SELECT id, sent_at IS NOT NULL FROM emails`)
	if err != nil {
		return 0, 0, err
	}
	n, unsent := 0, 0
	for rows.Next() {
		var id string
		var sent bool
		if err := rows.Scan(&id, &sent); err != nil {
			return 0, 0, err
		}
		n++
		if !sent || !v.mail.got(id) {
			unsent++
		}
	}
	return n, unsent, rows.Err()
}

// run makes every check of the table's data part.
func (v *verifier) run(ctx context.Context) {
	v.ledger(ctx)
	v.money(ctx)
	v.payments(ctx)
	v.transfers(ctx)
	v.refunds(ctx)
	v.webhooks(ctx)
	n, unsent, err := v.unsentEmails(ctx)
	var given int
	if err == nil {
		// E-mails given up on (failed_at) are unsent too; say how many, as
		// they point at a cause (a cap, a refused address) and not a delay.
		err = v.db.QueryRow(ctx, `SELECT count(*) FROM emails WHERE failed_at IS NOT NULL`).Scan(&given)
	}
	v.add("every e-mail sent (PostgreSQL sent_at, and received by the SMTP server)",
		fmt.Sprintf("%d of %d (%d given up)%s", n-unsent, n, given, errNote(err)), "all", err == nil && unsent == 0 && n > 0)
}

func errNote(err error) string {
	if err != nil {
		return " (" + err.Error() + ")"
	}
	return ""
}

func (v *verifier) ledger(ctx context.Context) {
	cmd := exec.CommandContext(ctx, v.paylink, "ledger", "verify")
	cmd.Env = append(os.Environ(), "DATABASE_URL="+v.dbURL)
	out, err := cmd.CombinedOutput()
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	v.add("paylink ledger verify", lines[len(lines)-1], "clean", err == nil)
	var bad []string
	rows, err := v.db.Query(ctx, `SELECT a.currency, sum(b.balance) FROM ledger_balances b JOIN ledger_accounts a ON a.id = b.account_id
		GROUP BY 1 HAVING sum(b.balance) <> 0`)
	if err == nil {
		for rows.Next() {
			var cur string
			var sum int64
			if rows.Scan(&cur, &sum) == nil {
				bad = append(bad, fmt.Sprintf("%s %+d", cur, sum))
			}
		}
		err = rows.Err()
	}
	v.add("every currency's balances sum to zero (cards in/out included)",
		fmt.Sprintf("%d currencies off%s %s", len(bad), errNote(err), strings.Join(bad, " ")), "0", err == nil && len(bad) == 0)
}

// money compares every balance the API reports with what the campaign
// was told: succeeded payments minus refunds per merchant; top-ups and
// transfers per wallet.
func (v *verifier) money(ctx context.Context) {
	m := v.k.m
	var off []string
	total := int64(0)
	for _, mer := range m.merchants {
		var b struct {
			Available []struct {
				Currency string `json:"currency"`
				Amount   int64  `json:"amount"`
			} `json:"available"`
		}
		a, err := v.k.c.do(ctx, request{method: "GET", url: v.k.base + "/v1/balance", basic: mer.key})
		if err == nil {
			err = decodeInto(a, http.StatusOK, &b)
		}
		got := int64(0)
		for _, x := range b.Available {
			if x.Currency == "USD" {
				got = x.Amount
			}
		}
		total += got
		if err != nil || got != m.balance[mer.id] {
			off = append(off, fmt.Sprintf("%s: %d, want %d %v", mer.id, got, m.balance[mer.id], err))
		}
	}
	for _, u := range m.users {
		var acct struct {
			Balances []struct {
				Currency string `json:"currency"`
				Amount   int64  `json:"amount"`
			} `json:"balances"`
		}
		a, err := v.k.c.do(ctx, request{method: "GET", url: v.k.base + "/v1/wallet/account", cookie: u.cookie})
		if err == nil {
			err = decodeInto(a, http.StatusOK, &acct)
		}
		got := int64(0)
		for _, x := range acct.Balances {
			if x.Currency == "USD" {
				got = x.Amount
			}
		}
		total += got
		if err != nil || got != m.balance[u.email] {
			off = append(off, fmt.Sprintf("%s: %d, want %d %v", u.email, got, m.balance[u.email], err))
		}
	}
	v.add("money conserved: every merchant and wallet balance = what its clients were acknowledged",
		fmt.Sprintf("%d of %d accounts off, USD %d in all %s", len(off), len(m.merchants)+len(m.users), total, strings.Join(off, "; ")),
		"0 off", len(off) == 0)
}

// payments checks that no idempotency key charged twice and that every
// acknowledged payment is there once, succeeded, and nothing else
// succeeded.
func (v *verifier) payments(ctx context.Context) {
	rows, err := v.db.Query(ctx, `SELECT id, customer_email, amount FROM payments WHERE status = 'succeeded' AND merchant_id = ANY($1)`, v.merchants)
	byEmail := map[string][]string{}
	amounts := map[string]int64{}
	if err == nil {
		for rows.Next() {
			var id, email string
			var amount int64
			if rows.Scan(&id, &email, &amount) == nil {
				byEmail[email] = append(byEmail[email], id)
				amounts[id] = amount
			}
		}
		err = rows.Err()
	}
	dups := 0
	for _, ids := range byEmail {
		if len(ids) > 1 {
			dups++
		}
	}
	v.add("no duplicate charge per idempotency key (succeeded payments per key)",
		fmt.Sprintf("%d keys charged more than once%s", dups, errNote(err)), "0", err == nil && dups == 0)
	m := v.k.m
	missing := 0
	for _, p := range m.payments {
		ids := byEmail[p.email]
		if len(ids) != 1 || ids[0] != p.id || amounts[p.id] != p.amount {
			missing++
		}
	}
	extra := len(amounts) - len(m.payments)
	v.add("every acknowledged payment present exactly once, and no other succeeded",
		fmt.Sprintf("%d acknowledged, %d missing or different, %d succeeded unacknowledged; %d declined as acknowledged",
			len(m.payments), missing, extra, m.declined), "0 missing, 0 extra", err == nil && missing == 0 && extra == 0)
}

func (v *verifier) transfers(ctx context.Context) {
	m := v.k.m
	rows, err := v.db.Query(ctx, `SELECT note, id, count(*) OVER (PARTITION BY note) FROM wallet_transactions
		WHERE type = 'transfer_out' AND status = 'succeeded' AND note LIKE 'tr-%'`)
	got := map[string]string{}
	dups := 0
	if err == nil {
		for rows.Next() {
			var note, id string
			var n int
			if rows.Scan(&note, &id, &n) == nil {
				got[note] = id
				if n > 1 {
					dups++
				}
			}
		}
		err = rows.Err()
	}
	missing := 0
	for key, id := range m.transfers {
		if got[key] != id {
			missing++
		}
	}
	extra := len(got) - len(m.transfers)
	v.add("every acknowledged transfer present exactly once, and no other",
		fmt.Sprintf("%d acknowledged (+%d refused for funds), %d missing, %d duplicated, %d unacknowledged%s",
			len(m.transfers), m.nsf, missing, dups, extra, errNote(err)), "0 missing, 0 extra", err == nil && missing == 0 && dups == 0 && extra == 0)
	rows, err = v.db.Query(ctx, `SELECT u.email, count(*) FROM wallet_transactions t JOIN users u ON u.id = t.user_id
		WHERE t.type = 'topup' AND t.status = 'succeeded' GROUP BY 1`)
	off := 0
	if err == nil {
		seen := map[string]int{}
		for rows.Next() {
			var email string
			var n int
			if rows.Scan(&email, &n) == nil {
				seen[email] = n
			}
		}
		err = rows.Err()
		for _, u := range m.users {
			if seen[u.email] != m.topups[u.email] {
				off++
			}
		}
	}
	v.add("every acknowledged top-up present exactly once, and no other",
		fmt.Sprintf("%d users' top-ups off%s", off, errNote(err)), "0", err == nil && off == 0)
}

func (v *verifier) refunds(ctx context.Context) {
	m := v.k.m
	rows, err := v.db.Query(ctx, `SELECT id FROM refunds WHERE merchant_id = ANY($1)`, v.merchants)
	got := map[string]bool{}
	if err == nil {
		ids, cerr := pgx.CollectRows(rows, pgx.RowTo[string])
		for _, id := range ids {
			got[id] = true
		}
		err = cerr
	}
	missing := 0
	for _, id := range m.refundIDs {
		if !got[id] {
			missing++
		}
	}
	extra := len(got) - len(m.refundIDs)
	v.add("every acknowledged refund present exactly once, and no other",
		fmt.Sprintf("%d acknowledged, %d missing, %d unacknowledged%s", len(m.refundIDs), missing, extra, errNote(err)),
		"0 missing, 0 extra", err == nil && missing == 0 && extra == 0)
}

func (v *verifier) webhooks(ctx context.Context) {
	evs, err := v.events(ctx)
	byPayment := map[string]int{}
	missing := 0
	for id, pay := range evs {
		byPayment[pay]++
		if v.k.recv.received(id) == 0 {
			missing++
		}
	}
	noEvent := 0
	for _, p := range v.k.m.payments {
		if byPayment[p.id] != 1 {
			noEvent++
		}
	}
	bad := v.k.recv.badSignatures()
	v.add("every payment.succeeded webhook delivered and correctly signed",
		fmt.Sprintf("%d of %d events received, %d bad signatures, %d acknowledged payments without exactly one event%s",
			len(evs)-missing, len(evs), bad, noEvent, errNote(err)), "all, 0 bad", err == nil && missing == 0 && bad == 0 && noEvent == 0)
}

// windows is, per fault, the longest time without a new successful
// payment from the fault until the next fault (or the end of the load).
func windows(faults []chaos.Fault, successes []time.Time, loadEnd time.Time) []time.Duration {
	sort.Slice(successes, func(i, j int) bool { return successes[i].Before(successes[j]) })
	out := make([]time.Duration, len(faults))
	for i, f := range faults {
		if f.At.IsZero() {
			continue
		}
		end := loadEnd
		if i+1 < len(faults) && !faults[i+1].At.IsZero() && faults[i+1].At.Before(end) {
			end = faults[i+1].At
		}
		prev, longest := f.At, time.Duration(0)
		j := sort.Search(len(successes), func(k int) bool { return successes[k].After(f.At) })
		for ; j < len(successes) && successes[j].Before(end); j++ {
			longest = max(longest, successes[j].Sub(prev))
			prev = successes[j]
		}
		out[i] = max(longest, end.Sub(prev))
	}
	return out
}
