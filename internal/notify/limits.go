package notify

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/paylink/paylink/internal/postgres"
)

// Limit is at most N e-mails per window of Per (fixed windows, aligned
// to multiples of Per since the Unix epoch). N of 0 means no limit.
type Limit struct {
	N   int
	Per time.Duration
}

// ShopperLimits caps the e-mails Paylink sends to shoppers on merchants'
// behalf. Anyone can sign up as a merchant and pay their own link with a
// test card, typing any address as the customer's, so without caps a
// receipt would be a way to mail anyone a Paylink-branded message.
type ShopperLimits struct {
	PerRecipient Limit // to one address, from all merchants together
	PerMerchant  Limit // from one merchant, to all addresses together
}

// Reset is when every window of lim that counts at now has ended, so an
// e-mail held back at now would be counted afresh: the latest end of
// its limits' current windows (now when it has none).
func (lim ShopperLimits) Reset(now time.Time) time.Time {
	end := now
	for _, l := range []Limit{lim.PerRecipient, lim.PerMerchant} {
		if l.N > 0 && l.Per > 0 {
			if e := now.Truncate(l.Per).Add(l.Per); e.After(end) {
				end = e
			}
		}
	}
	return end
}

// heldBack is the last_error of a shopper e-mail over a limit.
const heldBack = "not sent: shopper e-mail limit reached"

// QueueShopper is QueueOnce for an e-mail to a shopper sent on behalf of
// merchantID (or to the address merchantID chose for its notifications),
// within lim: each first-time e-mail counts against the
// recipient's and the merchant's current windows, and one over either
// limit is stored as failed with the reason instead of being sent. It
// reports whether the e-mail was queued for sending. Every e-mail to a
// shopper (receipts, links sent by e-mail, reminders) must go through it
// or QueueShoppers.
func QueueShopper(ctx context.Context, tx pgx.Tx, key, merchantID string, e Email, lim ShopperLimits, now time.Time) (bool, error) {
	queued, err := QueueShoppers(ctx, tx, []ShopperEmail{{Key: key, MerchantID: merchantID, Email: e, Limits: lim}}, now)
	if err != nil {
		return false, err
	}
	return queued[0], nil
}

// ShopperEmail is one e-mail for QueueShoppers: its dedupe key, the
// merchant it is sent for and the limits it counts against.
type ShopperEmail struct {
	Key        string
	MerchantID string
	Email      Email
	Limits     ShopperLimits
}

// QueueShoppers is QueueShopper for many e-mails, counted in their order
// as if queued one by one, in three statements at most whatever their
// number: one stores them, one counts them against their windows and,
// only when some are over a limit, one holds those back. It reports, in
// the same order, which were queued for sending.
func QueueShoppers(ctx context.Context, tx pgx.Tx, es []ShopperEmail, now time.Time) ([]bool, error) {
	queued := make([]bool, len(es))
	if len(es) == 0 {
		return queued, nil
	}
	first, err := queueKeyed(ctx, tx, es, now)
	if err != nil {
		return nil, err
	}
	// Each new e-mail takes the next count of each of its windows.
	type window struct {
		scope string
		start int64 // Unix microseconds, as PostgreSQL keeps it
	}
	type use struct {
		w    window
		rank int // the e-mail's place among the batch's in w, from 1
		max  int
	}
	counts := map[window]int{}
	uses := make([][]use, len(es))
	for i, e := range es {
		if !first[i] {
			continue // already queued once: counted then
		}
		queued[i] = true
		for _, q := range []struct {
			scope string
			lim   Limit
		}{{"merchant:" + e.MerchantID, e.Limits.PerMerchant}, {"to:" + strings.ToLower(e.Email.To), e.Limits.PerRecipient}} {
			if q.lim.N <= 0 || q.lim.Per <= 0 {
				continue
			}
			w := window{q.scope, now.Truncate(q.lim.Per).UnixMicro()}
			counts[w]++
			uses[i] = append(uses[i], use{w: w, rank: counts[w], max: q.lim.N})
		}
	}
	if len(counts) == 0 {
		return queued, nil
	}
	// Counted in a fixed order, so two workers' batches never wait for
	// each other's rows crosswise.
	windows := slices.SortedFunc(maps.Keys(counts), func(a, b window) int {
		return cmp.Or(strings.Compare(a.scope, b.scope), cmp.Compare(a.start, b.start))
	})
	scopes, starts, ns := make([]string, len(windows)), make([]time.Time, len(windows)), make([]int32, len(windows))
	for i, w := range windows {
		scopes[i], starts[i], ns[i] = w.scope, time.UnixMicro(w.start), int32(counts[w])
	}
	rows, err := tx.Query(ctx, countQuotas, scopes, starts, ns, now)
	if err != nil {
		return nil, fmt.Errorf("count shopper e-mails: %w", err)
	}
	before := map[window]int{} // each window's count before the batch
	var (
		scope string
		start time.Time
		sent  int
	)
	if _, err := pgx.ForEachRow(rows, []any{&scope, &start, &sent}, func() error {
		w := window{scope, start.UnixMicro()}
		before[w] = sent - counts[w]
		return nil
	}); err != nil {
		return nil, fmt.Errorf("count shopper e-mails: %w", err)
	}
	var held []string
	for i, us := range uses {
		for _, u := range us {
			if before[u.w]+u.rank > u.max {
				queued[i] = false
			}
		}
		if first[i] && !queued[i] {
			held = append(held, es[i].Key)
		}
	}
	if len(held) > 0 {
		if _, err := tx.Exec(ctx, holdBack, held, now, heldBack); err != nil {
			return nil, fmt.Errorf("hold back %d e-mails: %w", len(held), err)
		}
	}
	return queued, nil
}

// DeleteQuotasBefore removes shopper e-mail counts of windows that started
// before cutoff, for the periodic clean-up; pass a cutoff at least one
// window back.
func DeleteQuotasBefore(ctx context.Context, db postgres.DBTX, cutoff time.Time) (int64, error) {
	tag, err := db.Exec(ctx, deleteQuotas, cutoff)
	if err != nil {
		return 0, fmt.Errorf("delete shopper e-mail counts: %w", err)
	}
	return tag.RowsAffected(), nil
}
