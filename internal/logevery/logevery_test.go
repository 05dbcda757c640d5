package logevery

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestWarnLogsOnceAnInterval: 200 warnings from 8 goroutines within the
// interval give one line, the first, and every occurrence is counted once
// across the lines.
func TestWarnLogsOnceAnInterval(t *testing.T) {
	var buf bytes.Buffer // the handler writes one record at a time
	log := slog.New(slog.NewJSONHandler(&buf, nil))
	const interval = time.Minute
	w := New(interval)
	start := time.Now()
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 25 {
				w.Warn(context.Background(), log, "redis unavailable", "err", "refused")
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	// One line, plus one for each interval the loop may have spanned on a
	// stalled machine.
	if max := 1 + int(elapsed/interval); len(lines) > max {
		t.Fatalf("%d lines for 200 warnings in %s; want at most %d:\n%s", len(lines), elapsed, max, buf.String())
	}
	var first struct {
		Msg         string `json:"msg"`
		Err         string `json:"err"`
		Occurrences int64  `json:"occurrences"`
	}
	if err := json.Unmarshal([]byte(lines[0]), &first); err != nil {
		t.Fatal(err)
	}
	if first.Msg != "redis unavailable" || first.Err != "refused" || first.Occurrences != 1 {
		t.Fatalf("first line %+v; want the message, its attributes and occurrences 1", first)
	}
	logged := int64(0)
	for _, l := range lines {
		var e struct{ Occurrences int64 }
		if err := json.Unmarshal([]byte(l), &e); err != nil {
			t.Fatal(err)
		}
		logged += e.Occurrences
	}
	if logged+w.count.Load() != 200 {
		t.Fatalf("lines count %d and %d wait for the next line; want 200 in all", logged, w.count.Load())
	}
}
