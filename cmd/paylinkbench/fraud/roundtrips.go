package fraud

import (
	"bufio"
	"cmp"
	"context"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// roundTrips reads the Redis round trips an API made so far, by command,
// from its /metrics (paylink_redis_round_trips_total).
func roundTrips(ctx context.Context, metricsURL string) (map[string]float64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, metricsURL, nil)
	if err != nil {
		return nil, err
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", metricsURL, err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("read %s: %s", metricsURL, res.Status)
	}
	const prefix = `paylink_redis_round_trips_total{command="`
	trips := map[string]float64{}
	sc := bufio.NewScanner(res.Body)
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), prefix)
		if !ok {
			continue
		}
		name, n, ok := strings.Cut(rest, `"} `)
		if v, err := strconv.ParseFloat(n, 64); ok && err == nil {
			trips[name] = v
		}
	}
	return trips, sc.Err()
}

// reportRoundTrips prints the Redis round trips made between before and
// after, per attempt, busiest command first.
func reportRoundTrips(w io.Writer, before, after map[string]float64, attempts int) {
	var total float64
	delta := map[string]float64{}
	for name, n := range after {
		if d := n - before[name]; d > 0 {
			delta[name] = d
			total += d
		}
	}
	names := slices.SortedFunc(maps.Keys(delta), func(a, b string) int { return cmp.Compare(delta[b], delta[a]) })
	var parts []string
	for _, name := range names {
		parts = append(parts, fmt.Sprintf("%s %.0f = %.3f", name, delta[name], delta[name]/float64(attempts)))
	}
	fmt.Fprintf(w, "redis round trips of the screening API during the replay: %.0f for %d attempts, %.3f an attempt (%s)\n",
		total, attempts, total/float64(attempts), strings.Join(parts, ", "))
}
