package id

import (
	"testing"
	"time"
)

func TestNewFormatAndOrder(t *testing.T) {
	t0 := time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)
	a := NewAt("pay", t0)
	b := NewAt("pay", t0.Add(time.Millisecond))
	if len(a) != len("pay_")+Len || a[:4] != "pay_" {
		t.Fatalf("NewAt = %q, want pay_ + %d characters", a, Len)
	}
	if !(a < b) {
		t.Errorf("ids do not sort by time: %s !< %s", a, b)
	}
	if !Valid("pay", a) || Valid("re", a) || Valid("pay", a[:len(a)-1]) || Valid("pay", a[:len(a)-1]+"u") {
		t.Error("Valid accepts a wrong id or refuses a right one")
	}
}

func TestNewIsUnpredictable(t *testing.T) {
	t0 := time.Now()
	seen := map[string]bool{}
	for i := 0; i < 10000; i++ {
		id := NewAt("evt", t0) // same millisecond: only the random part differs
		if seen[id] {
			t.Fatalf("duplicate id %s", id)
		}
		seen[id] = true
	}
}

func TestFloorBoundsAMillisecond(t *testing.T) {
	t0 := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	lo, next := Floor("pay", t0), Floor("pay", t0.Add(time.Millisecond))
	if !Valid("pay", lo) {
		t.Fatalf("Floor = %q, not a valid id", lo)
	}
	for i := 0; i < 1000; i++ {
		in := NewAt("pay", t0.Add(999*time.Microsecond))
		if !(lo <= in && in < next) {
			t.Fatalf("id %s made in the millisecond of %s is outside [%s, %s)", in, t0, lo, next)
		}
		if before := NewAt("pay", t0.Add(-time.Microsecond)); before >= lo {
			t.Fatalf("id %s made before %s is not below Floor %s", before, t0, lo)
		}
	}
}

func TestFloorBoundsTheIdsOfAMoment(t *testing.T) {
	t0 := time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)
	floor := Floor("dlv", t0)
	if !Valid("dlv", floor) {
		t.Fatalf("Floor = %q is not a valid id", floor)
	}
	for range 100 {
		before, at, after := NewAt("dlv", t0.Add(-time.Millisecond)), NewAt("dlv", t0), NewAt("dlv", t0.Add(time.Millisecond))
		if !(before < floor && floor <= at && at < after) {
			t.Fatalf("ids around Floor = %s: %s, %s, %s; want before < floor <= at < after", floor, before, at, after)
		}
	}
}
