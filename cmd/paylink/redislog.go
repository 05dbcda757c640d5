package main

import (
	"context"
	"fmt"
	"log/slog"
)

// redisLog sends go-redis's own messages (failed dials, Sentinel
// look-ups) to the process's structured log as warnings, instead of plain
// lines on stderr that a JSON log pipeline cannot parse.
type redisLog struct{ log *slog.Logger }

// Printf logs one go-redis message.
func (l redisLog) Printf(ctx context.Context, format string, v ...any) {
	l.log.WarnContext(ctx, fmt.Sprintf(format, v...), "component", "redis")
}
