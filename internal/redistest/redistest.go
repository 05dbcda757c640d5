// Package redistest gives tests a Redis database of their own on the test
// Redis server, flushed before use and released when the test ends.
package redistest

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/paylink/paylink/internal/redishook"
)

// EnvURL names the environment variable holding the test Redis URL; `make
// test` sets it.
const EnvURL = "PAYLINK_TEST_REDIS_URL"

// New returns a client on a Redis database number that no other running
// test holds, emptied, and the URL that selects it. Database 0 only holds
// the pool of free numbers; a test blocks until one is free.
func New(t testing.TB) (*redis.Client, string) {
	t.Helper()
	base := os.Getenv(EnvURL)
	if base == "" {
		t.Fatalf("redistest: %s is not set; run the tests with `make test`", EnvURL)
	}
	opts, err := redis.ParseURL(base)
	if err != nil {
		t.Fatalf("redistest: parse %s: %v", EnvURL, err)
	}
	ctx := context.Background()
	admin := redis.NewClient(opts)
	t.Cleanup(func() { admin.Close() })
	fillPool(ctx, t, admin)
	res, err := admin.BLPop(ctx, 5*time.Minute, freeList).Result()
	if err != nil {
		t.Fatalf("redistest: no free Redis database: %v", err)
	}
	db, _ := strconv.Atoi(res[1])
	o := *opts
	o.DB = db
	c := redis.NewClient(&o)
	if err := c.FlushDB(ctx).Err(); err != nil {
		t.Fatalf("redistest: flush: %v", err)
	}
	t.Cleanup(func() {
		c.FlushDB(ctx)
		c.Close()
		admin.RPush(ctx, freeList, db)
	})
	u := fmt.Sprintf("redis://%s/%d", o.Addr, db)
	if o.Password != "" {
		u = fmt.Sprintf("redis://:%s@%s/%d", o.Password, o.Addr, db)
	}
	return c, u
}

const freeList = "redistest:free"

// fillPool puts database numbers 1..n-1 in the free list, once per server.
func fillPool(ctx context.Context, t testing.TB, c *redis.Client) {
	t.Helper()
	first, err := c.SetNX(ctx, "redistest:init", 1, 0).Result()
	if err != nil {
		t.Fatalf("redistest: %v", err)
	}
	if !first {
		return
	}
	n := databases(ctx, t, c)
	nums := make([]any, 0, n-1)
	for db := 1; db < n; db++ {
		nums = append(nums, db)
	}
	if err := c.RPush(ctx, freeList, nums...).Err(); err != nil {
		t.Fatalf("redistest: %v", err)
	}
}

func databases(ctx context.Context, t testing.TB, c *redis.Client) int {
	res, err := c.ConfigGet(ctx, "databases").Result()
	if err != nil {
		return 16
	}
	var n int
	if _, err := fmt.Sscan(res["databases"], &n); err != nil || n < 2 {
		t.Fatalf("redistest: Redis has %q databases; need at least 2", res["databases"])
	}
	return n
}

// CountRoundTrips makes c count the round trips it makes from now on (a
// command or a pipeline each) and returns the count.
func CountRoundTrips(c *redis.Client) *atomic.Int64 {
	var n atomic.Int64
	c.AddHook(redishook.RoundTrips(func(string) { n.Add(1) }))
	return &n
}
