package main

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
	faultAPI    = "API process killed"
	faultWorker = "worker process killed"
	faultPG     = "PostgreSQL primary killed"
	faultRedis  = "Redis master killed"
	faultFlush  = "Redis FLUSHALL"
)

// fault is one fault injected.
type fault struct {
	kind, target string
	at           time.Time
	// failedOver: the standby (PostgreSQL) or replica (Redis) took over.
	failedOver bool
	// settled: the whole cluster was back to normal (every process up, a
	// synchronous standby, a replica) before the next fault.
	settled bool
	note    string
}

// injector kills processes of the cluster whose folder is dir.
type injector struct {
	dir     string
	log     io.Writer
	r       *rand.Rand
	faults  []fault
	lastAPI time.Time
}

// apiSpacing is the least time between two API kills: nginx's
// fail_timeout (deploy/nginx.conf) and a margin.
const apiSpacing = 7 * time.Second

// counts says how many faults of each kind to inject.
type counts struct {
	apiKills, workerKills, pg, redis, flush int
}

// plan orders the faults at random, with the slow ones (PostgreSQL,
// Redis, FLUSHALL) spread evenly among the process kills.
func (in *injector) plan(c counts) []fault {
	var kills, big []fault
	for i := 1; i <= 2; i++ {
		for range c.apiKills {
			kills = append(kills, fault{kind: faultAPI, target: fmt.Sprintf("api-%d", i)})
		}
		for range c.workerKills {
			kills = append(kills, fault{kind: faultWorker, target: fmt.Sprintf("worker-%d", i)})
		}
	}
	for range c.pg {
		big = append(big, fault{kind: faultPG})
	}
	for range c.redis {
		big = append(big, fault{kind: faultRedis})
	}
	for range c.flush {
		big = append(big, fault{kind: faultFlush})
	}
	in.r.Shuffle(len(kills), func(i, j int) { kills[i], kills[j] = kills[j], kills[i] })
	in.r.Shuffle(len(big), func(i, j int) { big[i], big[j] = big[j], big[i] })
	out := make([]fault, 0, len(kills)+len(big))
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
	case faultPG:
		return 30 * time.Second
	case faultRedis:
		return 15 * time.Second
	default:
		return 3 * time.Second
	}
}

// run injects the planned faults, spread so that the last one comes
// before end, each only once the cluster has settled from the one before.
func (in *injector) run(ctx context.Context, plan []fault, end time.Time) {
	for i, f := range plan {
		settled := in.waitSettled(ctx, 3*time.Minute)
		if i > 0 {
			in.faults[i-1].settled = settled
		}
		if ctx.Err() != nil {
			return
		}
		var left time.Duration
		for _, g := range plan[i:] {
			left += cost(g.kind)
		}
		if spare := time.Until(end) - left; spare > 0 {
			pause := time.Duration(in.r.Int64N(int64(2*spare/time.Duration(len(plan)-i)) + 1))
			select {
			case <-ctx.Done():
				return
			case <-time.After(pause):
			}
		}
		if f.kind == faultAPI {
			// nginx keeps a replica it saw fail out of rotation for its
			// fail_timeout (5 s) even once it is back: killing the other
			// one sooner would be two faults at once.
			if wait := time.Until(in.lastAPI.Add(apiSpacing)); wait > 0 {
				time.Sleep(wait)
			}
			in.lastAPI = time.Now()
		}
		in.inject(ctx, &f)
		in.faults = append(in.faults, f)
		fmt.Fprintf(in.log, "chaos: %s %s: %s %s\n", f.at.Format("15:04:05.000"), f.kind, f.target, f.note)
	}
	if len(in.faults) > 0 {
		in.faults[len(in.faults)-1].settled = in.waitSettled(ctx, 3*time.Minute)
	}
}

// inject makes fault f happen and, for a PostgreSQL or Redis master,
// waits up to a minute to see the other node take over.
func (in *injector) inject(ctx context.Context, f *fault) {
	st, err := cluster.ReadState(in.dir)
	if err != nil {
		f.note = err.Error()
		return
	}
	switch f.kind {
	case faultAPI, faultWorker:
		f.at = time.Now()
		f.note = kill(st, f.target)
	case faultPG:
		nodes, err := cluster.Nodes(ctx, st.MonitorURL)
		old := primary(nodes)
		if err != nil || old == "" {
			f.note = fmt.Sprintf("no primary to kill: %v %+v", err, nodes)
			return
		}
		f.target, f.at = old, time.Now()
		f.note = kill(st, old)
		f.failedOver = in.until(ctx, time.Minute, func(ctx context.Context) bool {
			nodes, err := cluster.Nodes(ctx, st.MonitorURL)
			p := primary(nodes)
			return err == nil && p != "" && p != old
		})
	case faultRedis:
		old, err := cluster.SentinelMaster(ctx, st.Sentinels)
		name := processAt(st, old)
		if err != nil || name == "" {
			f.note = fmt.Sprintf("no master to kill: %v", err)
			return
		}
		f.target, f.at = name, time.Now()
		f.note = kill(st, name)
		f.failedOver = in.until(ctx, time.Minute, func(ctx context.Context) bool {
			addr, err := cluster.SentinelMaster(ctx, st.Sentinels)
			return err == nil && addr != old
		})
	case faultFlush:
		addr, err := cluster.SentinelMaster(ctx, st.Sentinels)
		if err != nil {
			f.note = err.Error()
			return
		}
		c := redis.NewClient(&redis.Options{Addr: addr})
		defer c.Close()
		f.target, f.at = processAt(st, addr), time.Now()
		if err := c.FlushAll(ctx).Err(); err != nil {
			f.note = "FLUSHALL: " + err.Error()
		}
	}
	if f.note == "" && f.kind != faultPG && f.kind != faultRedis {
		f.failedOver = true // nothing to take over; counted as done
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
func (in *injector) until(ctx context.Context, d time.Duration, cond func(context.Context) bool) bool {
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
func (in *injector) waitSettled(ctx context.Context, d time.Duration) bool {
	return in.until(ctx, d, func(ctx context.Context) bool {
		st, err := cluster.ReadState(in.dir)
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
