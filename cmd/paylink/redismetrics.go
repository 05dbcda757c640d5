package main

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/paylink/paylink/internal/redishook"
)

// newRedisRoundTrips is a go-redis hook that counts the round trips a
// process makes to Redis on reg, by command: a script is "evalsha" (or
// "eval" when Redis did not hold it yet), a pipeline "pipeline".
func newRedisRoundTrips(reg prometheus.Registerer) redishook.RoundTrips {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "paylink_redis_round_trips_total",
		Help: "Round trips this process made to Redis through its client, by command (a script is evalsha, a pipeline is pipeline)."},
		[]string{"command"})
	reg.MustRegister(c)
	return func(command string) { c.WithLabelValues(command).Inc() }
}
