// Package redishook observes a go-redis client's round trips: the
// /metrics counter of every process and the tests that count round trips
// share it.
package redishook

import (
	"context"

	"github.com/redis/go-redis/v9"
)

// RoundTrips is a go-redis hook that calls itself once a round trip, with
// the command's name ("evalsha" for a script) or "pipeline". Commands a
// script runs inside Redis are not round trips and are not seen.
type RoundTrips func(command string)

// DialHook leaves dialing alone.
func (f RoundTrips) DialHook(next redis.DialHook) redis.DialHook { return next }

// ProcessHook sees one command.
func (f RoundTrips) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		f(cmd.Name())
		return next(ctx, cmd)
	}
}

// ProcessPipelineHook sees one pipeline.
func (f RoundTrips) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		f("pipeline")
		return next(ctx, cmds)
	}
}
