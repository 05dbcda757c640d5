package cluster

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// MasterName is the name the Sentinels know the Redis master by.
const MasterName = "paylink"

// RedisPorts are the ports of a Redis group: two servers (the first
// starts as master) and three Sentinels.
type RedisPorts struct {
	Servers   [2]int
	Sentinels [3]int
}

// Redis is a running Redis group: a master, its replica and three
// Sentinels that promote the replica when the master is lost.
type Redis struct {
	dir   string
	ports RedisPorts
}

// redisRestartDelay is how long a lost Redis server stays down: longer
// than the Sentinels take to promote its replica, so that a lost master
// comes back as a replica of the new one.
const redisRestartDelay = 5 * time.Second

// sentinelDownAfter is how long a master may not answer before a
// Sentinel calls it down; two of three must agree before a failover.
const sentinelDownAfter = 1000 * time.Millisecond

// StartRedis creates (the first time) and starts a Redis group under dir
// on ports, supervised by sup, and waits until the Sentinels know the
// master and its replica. Servers keep an append-only file (fsync every
// second), so a server that crashes and restarts before any failover
// comes back with its data; the data is still only what Paylink may
// lose (queues, counters, caches).
func StartRedis(ctx context.Context, sup *Supervisor, dir string, ports RedisPorts) (*Redis, error) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		return nil, errors.New("redis-server not found: install the redis-server package")
	}
	r := &Redis{dir: dir, ports: ports}
	for i, port := range ports.Servers {
		name := fmt.Sprintf("redis-%d", i+1)
		d := filepath.Join(dir, name)
		conf := filepath.Join(d, "redis.conf")
		if _, err := os.Stat(conf); errors.Is(err, os.ErrNotExist) {
			c := fmt.Sprintf("port %d\nbind 127.0.0.1\ndir %s\nlogfile %s\nappendonly yes\nappendfsync everysec\nsave \"\"\n",
				port, d, filepath.Join(d, "redis.log"))
			if i > 0 {
				c += fmt.Sprintf("replicaof 127.0.0.1 %d\n", ports.Servers[0])
			}
			if err := writeConf(d, conf, c); err != nil {
				return nil, err
			}
		}
		addr := fmt.Sprintf("127.0.0.1:%d", port)
		if _, err := sup.Start(ctx, Spec{Name: name, Kind: "redis", Port: port, RestartDelay: redisRestartDelay,
			Command: func() *exec.Cmd { return exec.Command(bin, conf) },
			Ready:   func(ctx context.Context) error { return ping(ctx, addr) },
		}); err != nil {
			return nil, err
		}
	}
	for i, port := range ports.Sentinels {
		name := fmt.Sprintf("sentinel-%d", i+1)
		d := filepath.Join(dir, name)
		conf := filepath.Join(d, "sentinel.conf")
		if _, err := os.Stat(conf); errors.Is(err, os.ErrNotExist) {
			// Sentinels rewrite this file as they learn the group, so it
			// is written once and then left to them.
			c := fmt.Sprintf("port %d\nbind 127.0.0.1\ndir %s\nlogfile %s\n", port, d, filepath.Join(d, "sentinel.log")) +
				fmt.Sprintf("sentinel monitor %s 127.0.0.1 %d 2\n", MasterName, ports.Servers[0]) +
				fmt.Sprintf("sentinel down-after-milliseconds %s %d\n", MasterName, sentinelDownAfter.Milliseconds()) +
				fmt.Sprintf("sentinel failover-timeout %s 10000\nsentinel parallel-syncs %s 1\n", MasterName, MasterName)
			if err := writeConf(d, conf, c); err != nil {
				return nil, err
			}
		}
		addr := fmt.Sprintf("127.0.0.1:%d", port)
		if _, err := sup.Start(ctx, Spec{Name: name, Kind: "sentinel", Port: port, RestartDelay: time.Second,
			Command: func() *exec.Cmd { return exec.Command(bin, conf, "--sentinel") },
			Ready:   func(ctx context.Context) error { return ping(ctx, addr) },
		}); err != nil {
			return nil, err
		}
	}
	return r, r.waitSettled(ctx)
}

func writeConf(dir, path, content string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, []byte(content), 0o644)
}

func ping(ctx context.Context, addr string) error {
	c := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1})
	defer c.Close()
	return c.Ping(ctx).Err()
}

// SentinelAddrs are the Sentinels' addresses.
func (r *Redis) SentinelAddrs() []string {
	out := make([]string, len(r.ports.Sentinels))
	for i, p := range r.ports.Sentinels {
		out[i] = fmt.Sprintf("127.0.0.1:%d", p)
	}
	return out
}

// URL is REDIS_URL for the group: its Sentinels, database 0.
func (r *Redis) URL() string {
	return "redis://" + strings.Join(r.SentinelAddrs(), ",") + "/0"
}

// SentinelMaster asks the Sentinels at addrs for MasterName's address.
func SentinelMaster(ctx context.Context, addrs []string) (string, error) {
	var last error
	for _, a := range addrs {
		s := redis.NewSentinelClient(&redis.Options{Addr: a, MaxRetries: -1})
		res, err := s.GetMasterAddrByName(ctx, MasterName).Result()
		s.Close()
		if err == nil && len(res) == 2 {
			return net.JoinHostPort(res[0], res[1]), nil
		}
		last = err
	}
	return "", fmt.Errorf("no Sentinel named the master: %w", last)
}

// RedisSettled returns nil when the Sentinels at sentinels all name the
// same master, which answers and has an online replica: the state in
// which losing the master is survived by a failover.
func RedisSettled(ctx context.Context, sentinels []string) error {
	addr, err := SentinelMaster(ctx, sentinels)
	if err != nil {
		return err
	}
	for _, a := range sentinels {
		s := redis.NewSentinelClient(&redis.Options{Addr: a, MaxRetries: -1})
		res, err := s.GetMasterAddrByName(ctx, MasterName).Result()
		s.Close()
		if err != nil || len(res) != 2 || net.JoinHostPort(res[0], res[1]) != addr {
			return fmt.Errorf("sentinel %s does not name master %s yet", a, addr)
		}
	}
	c := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1})
	defer c.Close()
	info, err := c.Info(ctx, "replication").Result()
	if err != nil {
		return err
	}
	if !strings.Contains(info, "role:master") || !strings.Contains(info, "connected_slaves:1") ||
		!strings.Contains(info, "state=online") {
		return fmt.Errorf("master %s has no online replica yet", addr)
	}
	return nil
}

// waitSettled waits up to a minute for Settled.
func (r *Redis) waitSettled(ctx context.Context) error {
	deadline := time.Now().Add(time.Minute)
	var last error
	for time.Now().Before(deadline) {
		cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		last = RedisSettled(cctx, r.SentinelAddrs())
		cancel()
		if last == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return errStopped
		case <-time.After(200 * time.Millisecond):
		}
	}
	return fmt.Errorf("redis group did not settle: %w", last)
}

// Ports are the group's ports.
func (r *Redis) Ports() RedisPorts { return r.ports }

// ServerName is the process name of the server listening on addr
// ("redis-1" or "redis-2"), or "".
func (r *Redis) ServerName(addr string) string {
	_, p, _ := net.SplitHostPort(addr)
	for i, port := range r.ports.Servers {
		if strconv.Itoa(port) == p {
			return fmt.Sprintf("redis-%d", i+1)
		}
	}
	return ""
}
