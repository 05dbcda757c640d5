package fraud

import (
	"bufio"
	"cmp"
	"context"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/redis/go-redis/v9"
)

// redisCalls is how many calls of each command Redis has served (INFO
// commandstats), by command name.
func redisCalls(ctx context.Context, rdb *redis.Client) (map[string]int64, error) {
	info, err := rdb.Info(ctx, "commandstats").Result()
	if err != nil {
		return nil, fmt.Errorf("redis commandstats: %w", err)
	}
	calls := map[string]int64{}
	sc := bufio.NewScanner(strings.NewReader(info))
	for sc.Scan() {
		// cmdstat_evalsha:calls=12,usec=34,...
		name, stats, ok := strings.Cut(strings.TrimPrefix(sc.Text(), "cmdstat_"), ":calls=")
		if !ok {
			continue
		}
		n, _, _ := strings.Cut(stats, ",")
		if v, err := strconv.ParseInt(n, 10, 64); err == nil {
			calls[name] = v
		}
	}
	return calls, nil
}

// reportRedis prints the Redis calls made between before and after, per
// attempt, busiest command first.
func reportRedis(w io.Writer, before, after map[string]int64, attempts int) {
	var total int64
	delta := map[string]int64{}
	for name, n := range after {
		if d := n - before[name]; d > 0 && name != "info" {
			delta[name] = d
			total += d
		}
	}
	names := slices.SortedFunc(maps.Keys(delta), func(a, b string) int { return cmp.Compare(delta[b], delta[a]) })
	var parts []string
	for _, name := range names {
		parts = append(parts, fmt.Sprintf("%s %.3f", name, float64(delta[name])/float64(attempts)))
	}
	fmt.Fprintf(w, "redis during the replay: %d calls for %d attempts, %.3f an attempt (%s); each call is a round trip: evalsha is the public rate limit's script and screening's (with the failures it carries), plus the flushes of failures no screening carried\n",
		total, attempts, float64(total)/float64(attempts), strings.Join(parts, ", "))
}
