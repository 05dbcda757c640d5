package walletrisk

import (
	"cmp"
	"context"
	_ "embed"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/paylink/paylink/internal/pending"
	"github.com/paylink/paylink/internal/risk"
)

// Counts are what Redis says of one wallet attempt, this attempt
// included.
type Counts struct {
	CardTesting  bool  // the attempt's IP or user is (now) blocked for card testing
	CardAttempts int64 // attempts with this card in the card window
	IPAttempts   int64 // attempts from this IP in the IP window
	UserCards    int64 // distinct cards of this user in the e-mail-card window
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

// Counters keeps the wallet's sliding windows in Redis the way
// risk.Counters keeps a merchant's: one sorted set per subject, scored by
// time in milliseconds, trimmed to its window and given a TTL of its
// window on every write. The platform is the scope: every key carries the
// hash tag {wallet}, so one script can touch them all. Failed attempts
// wait in memory for the next screening script (package pending), so that a
// failure costs no round trip of its own.
type Counters struct {
	rdb    redis.Scripter
	prefix string
	th     risk.Thresholds
	failed *pending.Queue[failure]
	log    *slog.Logger
}

// failure is a failed wallet card attempt not yet written to Redis.
type failure struct {
	at                int64 // when, in Unix milliseconds
	id, ip, user, fpr string
}

// scope is the one pending.Queue scope: the platform.
const scope = "wallet"

// NewCounters returns Counters on rdb with the checkout's thresholds th;
// prefix separates deployments (and tests) sharing a Redis. log takes the
// failures that could not be written.
func NewCounters(rdb redis.Scripter, prefix string, th risk.Thresholds, log *slog.Logger) *Counters {
	c := &Counters{rdb: rdb, prefix: prefix, th: th, log: log}
	c.failed = pending.New(pending.FlushDelay, c.flush)
	return c
}

func (c *Counters) key(kind, subject string) string {
	return c.prefix + "risk:{wallet}:" + kind + ":" + subject
}

// Count records attempt a (its id is the member, so a retried request
// counts once) and reads its counters, in one round trip (a Lua script,
// atomic: concurrent attempts each count), after writing the failures
// that wait in memory. An error means Redis could not be asked (those
// failures wait again); the caller degrades.
func (c *Counters) Count(ctx context.Context, a *Attempt, now time.Time) (Counts, error) {
	batch := c.failed.Take(scope)
	keys := make([]string, 0, 9+4*len(batch))
	keys = append(keys, c.key("blk", a.IP), c.key("ublk", a.UserID), c.key("ipf", a.IP), c.key("ipfc", a.IP),
		c.key("uf", a.UserID), c.key("ufc", a.UserID), c.key("ca", a.Fingerprint), c.key("ia", a.IP),
		c.key("uc", a.UserID))
	th := c.th
	args := make([]any, 0, 12+4*len(batch))
	args = append(args, now.UnixMilli(), a.ID, a.Fingerprint,
		th.TestingWindow.Milliseconds(), th.TestingFailures, th.TestingCards, th.TestingBlock.Milliseconds(),
		th.CardWindow.Milliseconds(), th.IPWindow.Milliseconds(), th.EmailWindow.Milliseconds(),
		strconv.FormatBool(a.IP != ""))
	keys, args = c.failures(batch, keys, args)
	res, err := screenScript.Run(ctx, c.rdb, keys, args...).Int64Slice()
	if err != nil {
		// The failures wait again: the script may or may not have run,
		// and writing one twice counts it once (its member is its id).
		c.failed.Add(scope, batch...)
		return Counts{}, fmt.Errorf("wallet risk counters: %w", err)
	}
	if len(res) != 4 {
		return Counts{}, fmt.Errorf("wallet risk counters: %d values, want 4", len(res))
	}
	return Counts{CardTesting: res[0] == 1, CardAttempts: res[1], IPAttempts: res[2], UserCards: res[3]}, nil
}

// Failed records that attempt a failed at now with a 402: it counts
// towards card testing for its IP and its user. It waits in memory for
// the next Count, which writes it in its own round trip, or for
// pending.FlushDelay, after which it is written alone.
func (c *Counters) Failed(a *Attempt, now time.Time) {
	c.failed.Add(scope, failure{at: now.UnixMilli(), id: a.ID, ip: a.IP, user: a.UserID, fpr: a.Fingerprint})
}

// Flush writes every failure still waiting in memory, in one round trip:
// a process calls it after its last request, before it closes its Redis
// client.
func (c *Counters) Flush() { c.failed.Flush() }

// failures appends batch's keys and arguments, as failures.lua reads
// them, to keys and args.
func (c *Counters) failures(batch []failure, keys []string, args []any) ([]string, []any) {
	args = append(args, len(batch))
	for _, f := range batch {
		keys = append(keys, c.key("ipf", f.ip), c.key("ipfc", f.ip), c.key("uf", f.user), c.key("ufc", f.user))
		args = append(args, f.at, f.id, f.fpr, strconv.FormatBool(f.ip != ""))
	}
	return keys, args
}

// flush writes the failures that no Count took in time.
func (c *Counters) flush(ctx context.Context, _ string, batch []failure) {
	newest := slices.MaxFunc(batch, func(a, b failure) int { return cmp.Compare(a.at, b.at) })
	keys, args := c.failures(batch, nil, []any{newest.at, c.th.TestingWindow.Milliseconds()})
	if err := failedScript.Run(ctx, c.rdb, keys, args...).Err(); err != nil {
		c.log.Warn("wallet risk signals unavailable: failed attempts lost", "err", err, "failures", len(batch))
	}
}
