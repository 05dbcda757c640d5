package walletrisk

import (
	"context"
	_ "embed"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

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

//go:embed screen.lua
var screenLua string

//go:embed failed.lua
var failedLua string

var (
	screenScript = redis.NewScript(screenLua)
	failedScript = redis.NewScript(failedLua)
)

// Counters keeps the wallet's sliding windows in Redis the way
// risk.Counters keeps a merchant's: one sorted set per subject, scored by
// time in milliseconds, trimmed to its window and given a TTL of its
// window on every write. The platform is the scope: every key carries the
// hash tag {wallet}, so one script can touch them all.
type Counters struct {
	rdb    redis.Scripter
	prefix string
	th     risk.Thresholds
}

// NewCounters returns Counters on rdb with the checkout's thresholds th;
// prefix separates deployments (and tests) sharing a Redis.
func NewCounters(rdb redis.Scripter, prefix string, th risk.Thresholds) *Counters {
	return &Counters{rdb: rdb, prefix: prefix, th: th}
}

func (c *Counters) key(kind, subject string) string {
	return c.prefix + "risk:{wallet}:" + kind + ":" + subject
}

// Count records attempt a (its id is the member, so a retried request
// counts once) and reads its counters, in one round trip (a Lua script,
// atomic: concurrent attempts each count). An error means Redis could
// not be asked; the caller degrades.
func (c *Counters) Count(ctx context.Context, a *Attempt, now time.Time) (Counts, error) {
	keys := []string{c.key("blk", a.IP), c.key("ublk", a.UserID), c.key("ipf", a.IP), c.key("ipfc", a.IP),
		c.key("uf", a.UserID), c.key("ufc", a.UserID), c.key("ca", a.Fingerprint), c.key("ia", a.IP),
		c.key("uc", a.UserID)}
	th := c.th
	res, err := screenScript.Run(ctx, c.rdb, keys, now.UnixMilli(), a.ID, a.Fingerprint,
		th.TestingWindow.Milliseconds(), th.TestingFailures, th.TestingCards, th.TestingBlock.Milliseconds(),
		th.CardWindow.Milliseconds(), th.IPWindow.Milliseconds(), th.EmailWindow.Milliseconds(),
		strconv.FormatBool(a.IP != "")).Int64Slice()
	if err != nil {
		return Counts{}, fmt.Errorf("wallet risk counters: %w", err)
	}
	if len(res) != 4 {
		return Counts{}, fmt.Errorf("wallet risk counters: %d values, want 4", len(res))
	}
	return Counts{CardTesting: res[0] == 1, CardAttempts: res[1], IPAttempts: res[2], UserCards: res[3]}, nil
}

// Failed records that attempt a failed with a 402: it counts towards
// card testing for its IP and its user. It is a second round trip, made
// only for failed attempts.
func (c *Counters) Failed(ctx context.Context, a *Attempt, now time.Time) error {
	keys := []string{c.key("ipf", a.IP), c.key("ipfc", a.IP), c.key("uf", a.UserID), c.key("ufc", a.UserID)}
	err := failedScript.Run(ctx, c.rdb, keys, now.UnixMilli(), a.ID, a.Fingerprint,
		c.th.TestingWindow.Milliseconds(), strconv.FormatBool(a.IP != "")).Err()
	if err != nil {
		return fmt.Errorf("wallet risk counters: %w", err)
	}
	return nil
}
