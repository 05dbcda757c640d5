package fraud

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strings"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
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
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(res.Body)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", metricsURL, err)
	}
	trips := map[string]float64{}
	for _, m := range families["paylink_redis_round_trips_total"].GetMetric() {
		for _, l := range m.GetLabel() {
			if l.GetName() == "command" {
				trips[l.GetValue()] = m.GetCounter().GetValue()
			}
		}
	}
	return trips, nil
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
