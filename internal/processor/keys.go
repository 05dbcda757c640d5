package processor

import (
	"context"
	"errors"
	"time"

	"github.com/redis/go-redis/v9"
)

// ErrKeyReused means an idempotency key came back with a request other
// than the one it was first used for (another amount, currency, card or
// hold). Nothing was done; a caller that sees it has a bug in how it
// derives keys, or a client reused its own key for another request.
var ErrKeyReused = errors.New("processor: idempotency key reused with a different request")

// KeyMemory is where the simulator remembers, per idempotency key, a
// digest of the request first made with it, as a real processor keeps its
// idempotency records.
type KeyMemory interface {
	// Remember stores digest under key unless key holds one already, and
	// returns what key holds now.
	Remember(ctx context.Context, key string, digest []byte) ([]byte, error)
}

// RedisKeys is a KeyMemory in Redis, shared by every API replica and
// worker. Keys are forgotten after a week, longer than any retry of
// Paylink's (a lost or unreachable Redis only forgets them sooner: a
// reused key is then not recognised, and the call is answered as the
// first was).
type RedisKeys struct {
	rdb *redis.Client
}

// NewRedisKeys returns a KeyMemory in rdb.
func NewRedisKeys(rdb *redis.Client) *RedisKeys { return &RedisKeys{rdb: rdb} }

// keyTTL is how long RedisKeys remembers a key.
const keyTTL = 7 * 24 * time.Hour

// Remember implements KeyMemory with one SET NX GET.
func (m *RedisKeys) Remember(ctx context.Context, key string, digest []byte) ([]byte, error) {
	prev, err := m.rdb.SetArgs(ctx, "paylink:simulator:key:"+key, digest, redis.SetArgs{Mode: "NX", Get: true, TTL: keyTTL}).Result()
	switch {
	case errors.Is(err, redis.Nil):
		return digest, nil
	case err != nil:
		return nil, err
	}
	return []byte(prev), nil
}
