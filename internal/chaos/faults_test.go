package chaos

import (
	"math/rand/v2"
	"testing"
)

// TestPlan checks the campaign's schedule: every fault asked for, once,
// and the slow ones spread among the process kills rather than bunched.
func TestPlan(t *testing.T) {
	for seed := range uint64(20) {
		in := &Injector{Rand: rand.New(rand.NewPCG(seed, 1))}
		plan := in.Plan(Counts{APIKills: 10, WorkerKills: 10, PG: 3, Redis: 3, Flush: 1})
		got := map[string]int{}
		lastBig := -100
		for i, f := range plan {
			got[f.Kind+" "+f.Target]++
			if f.Kind == KindPG || f.Kind == KindRedis || f.Kind == KindFlush {
				if i-lastBig < 4 {
					t.Fatalf("seed %d: slow faults at %d and %d, too close: %v", seed, lastBig, i, plan)
				}
				lastBig = i
			}
		}
		want := map[string]int{KindAPI + " api-1": 10, KindAPI + " api-2": 10, KindWorker + " worker-1": 10,
			KindWorker + " worker-2": 10, KindPG + " ": 3, KindRedis + " ": 3, KindFlush + " ": 1}
		if len(plan) != 47 || len(got) != len(want) {
			t.Fatalf("seed %d: %d faults %v; want 47: %v", seed, len(plan), got, want)
		}
		for k, n := range want {
			if got[k] != n {
				t.Fatalf("seed %d: %q ×%d, want ×%d", seed, k, got[k], n)
			}
		}
	}
}
