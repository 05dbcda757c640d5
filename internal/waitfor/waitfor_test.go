package waitfor

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// recorder is a testing.TB whose Fatalf records the message and stops the
// calling goroutine, as t.Fatalf does.
type recorder struct {
	testing.TB
	msg string
}

func (r *recorder) Helper() {}

func (r *recorder) Fatalf(format string, args ...any) {
	r.msg = fmt.Sprintf(format, args...)
	panic(r)
}

func TestUntilReturnsOnceTheConditionHolds(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	Until(t, time.Minute, "third call", func(context.Context) error {
		if calls.Add(1) < 3 {
			return errors.New("not yet")
		}
		return nil
	})
	if n := calls.Load(); n != 3 {
		t.Fatalf("cond called %d times; want 3 (returns at the first success)", n)
	}
}

func TestUntilFailsWithTheLastError(t *testing.T) {
	t.Parallel()
	r := &recorder{TB: t}
	func() {
		defer func() {
			if p := recover(); p != r {
				t.Fatalf("Until returned (recovered %v); want it to fail the test", p)
			}
		}()
		n := 0
		Until(r, 3*Every, "never", func(context.Context) error {
			n++
			return fmt.Errorf("attempt %d", n)
		})
	}()
	if !strings.HasPrefix(r.msg, "never: not within ") || !strings.Contains(r.msg, "last: attempt ") {
		t.Fatalf("failure message %q; want what was awaited and the last error", r.msg)
	}
}
