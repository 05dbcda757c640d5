package risk

import (
	"cmp"
	"context"
	_ "embed"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/paylink/paylink/internal/pending"
)

// Thresholds are the signals' windows and thresholds (API.md Part 3,
// "Signals"); DefaultThresholds are the figures it gives.
type Thresholds struct {
	TestingFailures int           // card_testing: failed card attempts from one IP…
	TestingCards    int           // …over at least this many distinct cards…
	TestingWindow   time.Duration // …within this window
	TestingBlock    time.Duration // how long the IP is then blocked at the merchant
	EmailCards      int           // email_card_velocity: the Nth distinct card of an e-mail…
	EmailWindow     time.Duration // …within this window
	CardAttempts    int           // card_velocity: attempts with one card…
	CardWindow      time.Duration // …within this window
	IPAttempts      int           // ip_velocity: attempts from one IP…
	IPWindow        time.Duration // …within this window
	AmountFactor    int64         // amount_anomaly: more than this times the median…
	AmountHistory   int           // …of the last this many succeeded payments…
	AmountMinimum   int           // …once there are at least this many
}

// DefaultThresholds are API.md's defaults.
var DefaultThresholds = Thresholds{
	TestingFailures: 10, TestingCards: 5, TestingWindow: 10 * time.Minute, TestingBlock: time.Hour,
	EmailCards: 3, EmailWindow: 24 * time.Hour,
	CardAttempts: 5, CardWindow: time.Hour,
	IPAttempts: 30, IPWindow: 10 * time.Minute,
	AmountFactor: 10, AmountHistory: 100, AmountMinimum: 20,
}

// Counts are what Redis says of one attempt, this attempt included.
type Counts struct {
	CardTesting  bool  // the IP is (now) blocked at the merchant for card testing
	CardAttempts int64 // attempts with this card at the merchant in CardWindow
	CardFailures int64 // failed attempts with this card in CardWindow
	IPAttempts   int64 // attempts from this IP in IPWindow
	EmailCards   int64 // distinct cards of this e-mail in EmailWindow
	Degraded     bool  // Redis could not be asked: the counts are unknown (zero)
}

var (
	//go:embed failures.lua
	failuresLua string
	//go:embed screen.lua
	screenLua string
	//go:embed failed.lua
	failedLua string

	screenScript = redis.NewScript(failuresLua + screenLua)
	failedScript = redis.NewScript(failuresLua + failedLua)
)

// Counters keeps the signals' sliding windows in Redis: one sorted set
// per (merchant, subject), scored by time in milliseconds, trimmed to its
// window and given a TTL of its window on every write, so memory stays
// bounded by the traffic of the last window. Every key of a merchant
// shares the hash tag {merchant}, so a merchant's counters live on one
// shard of a Redis Cluster and one script can touch them all. Failed
// attempts wait in memory for the merchant's next screening script
// (package pending), so that a failure costs no round trip of its own.
type Counters struct {
	rdb    redis.Scripter
	prefix string
	th     Thresholds
	failed *pending.Queue[failure]
	log    *slog.Logger
}

// failure is a failed card attempt not yet written to Redis.
type failure struct {
	at          int64 // when, in Unix milliseconds
	id, ip, fpr string
}

// NewCounters returns Counters on rdb; prefix separates deployments (and
// tests) sharing a Redis. log takes the failures that could not be
// written.
func NewCounters(rdb redis.Scripter, prefix string, th Thresholds, log *slog.Logger) *Counters {
	c := &Counters{rdb: rdb, prefix: prefix, th: th, log: log}
	c.failed = pending.New(pending.FlushDelay, c.flush)
	return c
}

func (c *Counters) key(merchantID, kind, subject string) string {
	return c.prefix + "risk:{" + merchantID + "}:" + kind + ":" + subject
}

// Count records attempt (its id is the member, so a retried request
// counts once) and reads every counter of a, in one round trip (a Lua
// script, atomic: concurrent attempts each count), after writing the
// merchant's failures that wait in memory. An error means Redis could not
// be asked (those failures wait again); the caller degrades.
func (c *Counters) Count(ctx context.Context, a *Attempt, now time.Time) (Counts, error) {
	ms := now.UnixMilli()
	batch := c.failed.Take(a.MerchantID)
	keys := make([]string, 0, 7+3*len(batch))
	keys = append(keys,
		c.key(a.MerchantID, "blk", a.IP),
		c.key(a.MerchantID, "ipf", a.IP),
		c.key(a.MerchantID, "ipfc", a.IP),
		c.key(a.MerchantID, "ca", a.Fingerprint),
		c.key(a.MerchantID, "cf", a.Fingerprint),
		c.key(a.MerchantID, "ia", a.IP),
		c.key(a.MerchantID, "ec", a.Email))
	args := make([]any, 0, 13+4*len(batch))
	args = append(args, ms, a.ID, a.Fingerprint, a.Email,
		c.th.TestingWindow.Milliseconds(), c.th.TestingFailures, c.th.TestingCards, c.th.TestingBlock.Milliseconds(),
		c.th.CardWindow.Milliseconds(), c.th.IPWindow.Milliseconds(), c.th.EmailWindow.Milliseconds(), boolArg(a.IP != ""))
	keys, args = c.failures(a.MerchantID, batch, keys, args)
	res, err := screenScript.Run(ctx, c.rdb, keys, args...).Int64Slice()
	if err != nil {
		// The failures wait again: the script may or may not have run,
		// and writing one twice counts it once (its member is its id).
		c.failed.Add(a.MerchantID, batch...)
		return Counts{}, fmt.Errorf("risk counters: %w", err)
	}
	if len(res) != 5 {
		return Counts{}, fmt.Errorf("risk counters: %d values, want 5", len(res))
	}
	return Counts{CardTesting: res[0] == 1, CardAttempts: res[1], CardFailures: res[2], IPAttempts: res[3],
		EmailCards: res[4]}, nil
}

// Failed records that card attempt a failed at now (any 402): it counts
// toward card_testing for its IP and card_failures_1h for its card. It
// waits in memory for the merchant's next Count, which writes it in its
// own round trip, or for pending.FlushDelay, after which it is written alone.
func (c *Counters) Failed(a *Attempt, now time.Time) {
	c.failed.Add(a.MerchantID, failure{at: now.UnixMilli(), id: a.ID, ip: a.IP, fpr: a.Fingerprint})
}

// Flush writes every failure still waiting in memory, each merchant's in
// one round trip: a process calls it after its last request, before it
// closes its Redis client.
func (c *Counters) Flush() { c.failed.Flush() }

// failures appends batch's keys and arguments, as failures.lua reads
// them, to keys and args.
func (c *Counters) failures(merchantID string, batch []failure, keys []string, args []any) ([]string, []any) {
	args = append(args, len(batch))
	for _, f := range batch {
		keys = append(keys, c.key(merchantID, "ipf", f.ip), c.key(merchantID, "ipfc", f.ip), c.key(merchantID, "cf", f.fpr))
		args = append(args, f.at, f.id, f.fpr, boolArg(f.ip != ""))
	}
	return keys, args
}

// flush writes a merchant's failures that no Count took in time.
func (c *Counters) flush(ctx context.Context, merchantID string, batch []failure) {
	newest := slices.MaxFunc(batch, func(a, b failure) int { return cmp.Compare(a.at, b.at) })
	keys, args := c.failures(merchantID, batch, nil,
		[]any{newest.at, c.th.TestingWindow.Milliseconds(), c.th.CardWindow.Milliseconds()})
	if err := failedScript.Run(ctx, c.rdb, keys, args...).Err(); err != nil {
		c.log.Warn("risk signals unavailable: failed attempts lost", "err", err, "merchant", merchantID,
			"failures", len(batch))
	}
}

func boolArg(b bool) string { return strconv.FormatBool(b) }

// lower is how e-mails and domains are compared.
func lower(s string) string { return strings.ToLower(strings.TrimSpace(s)) }
