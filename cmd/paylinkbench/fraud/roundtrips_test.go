package fraud

import (
	"context"
	"maps"
	"net/http/httptest"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// TestRoundTripsReadsTheCounter: the round trips by command, as an API's
// /metrics serves them, other metrics ignored.
func TestRoundTripsReadsTheCounter(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	trips := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "paylink_redis_round_trips_total", Help: "h"},
		[]string{"command"})
	other := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "paylink_other_total", Help: "h"}, []string{"command"})
	reg.MustRegister(trips, other)
	trips.WithLabelValues("evalsha").Add(3)
	trips.WithLabelValues("set").Add(2)
	other.WithLabelValues("evalsha").Add(7)
	srv := httptest.NewServer(promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	defer srv.Close()
	got, err := roundTrips(context.Background(), srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]float64{"evalsha": 3, "set": 2}; !maps.Equal(got, want) {
		t.Fatalf("round trips %v; want %v", got, want)
	}
}
