package main

import (
	"context"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
)

// redisRoundTrips is a go-redis hook that counts the round trips a
// process makes to Redis on /metrics, by command: a script is "evalsha"
// (or "eval" when Redis did not hold it yet), a pipeline "pipeline".
// Commands a script runs inside Redis are not round trips and not
// counted.
type redisRoundTrips struct{ total *prometheus.CounterVec }

// newRedisRoundTrips registers the counter on reg.
func newRedisRoundTrips(reg prometheus.Registerer) redisRoundTrips {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "paylink_redis_round_trips_total",
		Help: "Round trips this process made to Redis through its client, by command (a script is evalsha, a pipeline is pipeline)."},
		[]string{"command"})
	reg.MustRegister(c)
	return redisRoundTrips{c}
}

func (h redisRoundTrips) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h redisRoundTrips) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		h.total.WithLabelValues(cmd.Name()).Inc()
		return next(ctx, cmd)
	}
}

func (h redisRoundTrips) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		h.total.WithLabelValues("pipeline").Inc()
		return next(ctx, cmds)
	}
}
