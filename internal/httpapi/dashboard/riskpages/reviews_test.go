package riskpages

import (
	"testing"
	"time"
)

// TestAge: the review queue's ages at the edges of each unit.
func TestAge(t *testing.T) {
	for _, c := range []struct {
		d    time.Duration
		want string
	}{
		{-time.Second, "just now"}, // a clock a little behind the database's
		{0, "just now"},
		{59 * time.Second, "just now"},
		{time.Minute, "1 min"},
		{59*time.Minute + 59*time.Second, "59 min"},
		{time.Hour, "1 h"},
		{47 * time.Hour, "47 h"},
		{48 * time.Hour, "2 days"},
		{100 * 24 * time.Hour, "100 days"},
	} {
		if got := age(c.d); got != c.want {
			t.Errorf("age(%v) = %q, want %q", c.d, got, c.want)
		}
	}
}
