// Package chaos injects faults into a running `paylink cluster`, one at a
// time and only once the cluster has recovered from the one before: it
// kills API and worker processes, the PostgreSQL primary and the Redis
// master (SIGKILL to the process group, as a machine failing), and wipes
// Redis. `make chaos` (cmd/paylinkchaos) drives it.
package chaos

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/paylink/paylink/internal/cluster"
)

// Kinds of fault.
const (
	KindAPI    = "API process killed"
	KindWorker = "worker process killed"
	KindPG     = "PostgreSQL primary killed"
	KindRedis  = "Redis master killed"
	KindFlush  = "Redis FLUSHALL"
)

// Fault is one fault, planned or injected.
type Fault struct {
	Kind   string
	Target string    // the process, e.g. "api-1", "pg-2", "redis-1"
	At     time.Time // when it was injected; zero if it could not be
	// FailedOver: the standby (PostgreSQL) or replica (Redis) took over;
	// for the other kinds, the fault was injected.
	FailedOver bool
	// Settled: the whole cluster was back to normal (every process up, a
	// synchronous standby, a replica) before the next fault.
	Settled bool
	Note    string // what went wrong, if anything
}

// Injector injects faults into the cluster whose folder is Dir.
type Injector struct {
	Dir     string
	Log     io.Writer
	Rand    *rand.Rand
	Faults  []Fault // injected so far
	lastAPI time.Time
}

// apiSpacing is the least time between two API kills: nginx's
// fail_timeout (deploy/nginx.conf) and a margin.
const apiSpacing = 7 * time.Second

// Counts says how many faults of each kind to inject: kills of each API
// and each worker process, PostgreSQL and Redis failovers, FLUSHALLs.
type Counts struct {
	APIKills, WorkerKills, PG, Redis, Flush int
}

// Plan orders the faults at random, with the slow ones (PostgreSQL,
// Redis, FLUSHALL) spread evenly among the process kills.
func (in *Injector) Plan(c Counts) []Fault {
	var kills, big []Fault
	for i := 1; i <= 2; i++ {
		for range c.APIKills {
			kills = append(kills, Fault{Kind: KindAPI, Target: fmt.Sprintf("api-%d", i)})
		}
		for range c.WorkerKills {
			kills = append(kills, Fault{Kind: KindWorker, Target: fmt.Sprintf("worker-%d", i)})
		}
	}
	for range c.PG {
		big = append(big, Fault{Kind: KindPG})
	}
	for range c.Redis {
		big = append(big, Fault{Kind: KindRedis})
	}
	for range c.Flush {
		big = append(big, Fault{Kind: KindFlush})
	}
	in.Rand.Shuffle(len(kills), func(i, j int) { kills[i], kills[j] = kills[j], kills[i] })
	in.Rand.Shuffle(len(big), func(i, j int) { big[i], big[j] = big[j], big[i] })
	out := make([]Fault, 0, len(kills)+len(big))
	k := 0
	for i, b := range big {
		// big[i] comes after its share of the kills.
		for upto := (i + 1) * len(kills) / (len(big) + 1); k < upto; k++ {
			out = append(out, kills[k])
		}
		out = append(out, b)
	}
	out = append(out, kills[k:]...)
	return out
}

// cost is about how long a fault takes to inject and recover from.
func cost(kind string) time.Duration {
	switch kind {
	case KindPG:
		return 30 * time.Second
	case KindRedis:
		return 15 * time.Second
	default:
		return 3 * time.Second
	}
}

// Run injects the planned faults, spread so that the last one comes
// before end, each only once the cluster has settled from the one before.
func (in *Injector) Run(ctx context.Context, plan []Fault, end time.Time) {
	for i, f := range plan {
		settled := in.waitSettled(ctx, 3*time.Minute)
		if i > 0 {
			in.Faults[i-1].Settled = settled
		}
		if ctx.Err() != nil {
			return
		}
		var left time.Duration
		for _, g := range plan[i:] {
			left += cost(g.Kind)
		}
		if spare := time.Until(end) - left; spare > 0 {
			pause := time.Duration(in.Rand.Int64N(int64(2*spare/time.Duration(len(plan)-i)) + 1))
			select {
			case <-ctx.Done():
				return
			case <-time.After(pause):
			}
		}
		if f.Kind == KindAPI {
			// nginx keeps a replica it saw fail out of rotation for its
			// fail_timeout (5 s) even once it is back: killing the other
			// one sooner would be two faults at once.
			if wait := time.Until(in.lastAPI.Add(apiSpacing)); wait > 0 {
				time.Sleep(wait)
			}
			in.lastAPI = time.Now()
		}
		in.inject(ctx, &f)
		in.Faults = append(in.Faults, f)
		fmt.Fprintf(in.Log, "chaos: %s %s: %s %s\n", f.At.Format("15:04:05.000"), f.Kind, f.Target, f.Note)
	}
	if len(in.Faults) > 0 {
		in.Faults[len(in.Faults)-1].Settled = in.waitSettled(ctx, 3*time.Minute)
	}
}

// inject makes fault f happen and, for a PostgreSQL or Redis master,
// waits up to a minute to see the other node take over.
func (in *Injector) inject(ctx context.Context, f *Fault) {
	st, err := cluster.ReadState(in.Dir)
	if err != nil {
		f.Note = err.Error()
		return
	}
	switch f.Kind {
	case KindAPI, KindWorker:
		f.At = time.Now()
		f.Note = kill(st, f.Target)
	case KindPG:
		nodes, err := cluster.Nodes(ctx, st.MonitorURL)
		old := primary(nodes)
		if err != nil || old == "" {
			f.Note = fmt.Sprintf("no primary to kill: %v %+v", err, nodes)
			return
		}
		f.Target, f.At = old, time.Now()
		f.Note = kill(st, old)
		f.FailedOver = in.until(ctx, time.Minute, func(ctx context.Context) bool {
			nodes, err := cluster.Nodes(ctx, st.MonitorURL)
			p := primary(nodes)
			return err == nil && p != "" && p != old
		})
	case KindRedis:
		old, err := cluster.SentinelMaster(ctx, st.Sentinels)
		name := processAt(st, old)
		if err != nil || name == "" {
			f.Note = fmt.Sprintf("no master to kill: %v", err)
			return
		}
		f.Target, f.At = name, time.Now()
		f.Note = kill(st, name)
		f.FailedOver = in.until(ctx, time.Minute, func(ctx context.Context) bool {
			addr, err := cluster.SentinelMaster(ctx, st.Sentinels)
			return err == nil && addr != old
		})
	case KindFlush:
		addr, err := cluster.SentinelMaster(ctx, st.Sentinels)
		if err != nil {
			f.Note = err.Error()
			return
		}
		c := redis.NewClient(&redis.Options{Addr: addr})
		defer c.Close()
		f.Target, f.At = processAt(st, addr), time.Now()
		if err := c.FlushAll(ctx).Err(); err != nil {
			f.Note = "FLUSHALL: " + err.Error()
		}
	}
	if f.Note == "" && f.Kind != KindPG && f.Kind != KindRedis {
		f.FailedOver = true // nothing to take over; counted as done
	}
}

// primary is the data node reported primary (or wait_primary), or "".
func primary(nodes []cluster.NodeState) string {
	for _, n := range nodes {
		if n.Reported == "primary" || n.Reported == "wait_primary" || n.Reported == "single" {
			return n.Name
		}
	}
	return ""
}

// processAt is the name of the process listening on addr ("host:port").
func processAt(st cluster.State, addr string) string {
	for _, p := range st.Processes {
		if p.Port > 0 && fmt.Sprintf("127.0.0.1:%d", p.Port) == addr {
			return p.Name
		}
	}
	return ""
}

// kill sends SIGKILL to the named process's group, as a crash of its
// machine would; "" when done, else what went wrong.
func kill(st cluster.State, name string) string {
	for _, p := range st.Processes {
		if p.Name == name {
			if p.PID <= 0 {
				return "was down already"
			}
			if err := syscall.Kill(-p.PID, syscall.SIGKILL); err != nil {
				return err.Error()
			}
			return ""
		}
	}
	return "no such process"
}

// until polls cond every 100 ms for up to d.
func (in *Injector) until(ctx context.Context, d time.Duration, cond func(context.Context) bool) bool {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		ok := cond(cctx)
		cancel()
		if ok {
			return true
		}
		select {
		case <-ctx.Done():
		case <-time.After(100 * time.Millisecond):
		}
	}
	return false
}

// waitSettled waits until every process runs and answers, PostgreSQL has
// a primary with a synchronous standby and Redis a master with a replica.
func (in *Injector) waitSettled(ctx context.Context, d time.Duration) bool {
	return in.until(ctx, d, func(ctx context.Context) bool {
		st, err := cluster.ReadState(in.Dir)
		if err != nil {
			return false
		}
		for _, p := range st.Processes {
			if p.PID <= 0 {
				return false
			}
		}
		for _, a := range st.APIs {
			req, _ := http.NewRequestWithContext(ctx, "GET", "http://"+a+"/readyz", nil)
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				return false
			}
			res.Body.Close()
			if res.StatusCode != http.StatusOK {
				return false
			}
		}
		nodes, err := cluster.Nodes(ctx, st.MonitorURL)
		return err == nil && cluster.Settled(nodes) && cluster.RedisSettled(ctx, st.Sentinels) == nil
	})
}
