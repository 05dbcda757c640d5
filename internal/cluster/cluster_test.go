package cluster

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
	"github.com/ulule/limiter/v3"
	redisstore "github.com/ulule/limiter/v3/drivers/store/redis"

	"github.com/paylink/paylink/internal/config"
	"github.com/paylink/paylink/internal/devenv"
	"github.com/paylink/paylink/internal/waitfor"
)

// syncBuffer collects a supervisor's log for a failing test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestSentinelFailover runs a real Redis group (master, replica, three
// Sentinels) and kills the master: the Sentinels promote the replica, and
// the clients Paylink builds from its configuration (go-redis, Asynq's
// failover client, the rate limiter's store) carry on against the new
// master without being told; the data written before is there; the old
// master, started again by the supervisor, comes back as a replica.
func TestSentinelFailover(t *testing.T) {
	t.Parallel()
	// The folder first: cleanups run last-registered first, so the
	// supervisor stops its servers before the folder is removed (a server
	// it restarted would otherwise still be writing into it).
	dir := t.TempDir()
	var log syncBuffer
	sup := NewSupervisor(&log, nil)
	t.Cleanup(func() {
		sup.Stop()
		if t.Failed() {
			t.Logf("supervisor log:\n%s", log.String())
		}
	})
	var ports RedisPorts
	for i := range ports.Servers {
		ports.Servers[i] = freePort(t)
	}
	for i := range ports.Sentinels {
		ports.Sentinels[i] = freePort(t)
	}
	ctx := context.Background()
	group, err := StartRedis(ctx, sup, dir, ports)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.ParseRedis(group.URL(), MasterName)
	if err != nil {
		t.Fatal(err)
	}
	rdb := cfg.NewClient()
	defer rdb.Close()
	tasks := asynq.NewClient(cfg.Asynq())
	defer tasks.Close()
	store, err := redisstore.NewStoreWithOptions(rdb, limiter.StoreOptions{Prefix: "test:rl"})
	if err != nil {
		t.Fatal(err)
	}
	limit := limiter.New(store, limiter.Rate{Period: time.Minute, Limit: 1000})

	old, err := SentinelMaster(ctx, group.SentinelAddrs())
	if err != nil {
		t.Fatal(err)
	}
	if err := rdb.Set(ctx, "before", "kept", 0).Err(); err != nil {
		t.Fatal(err)
	}
	// WAIT returns once the replica has the write.
	if n, err := rdb.Do(ctx, "WAIT", 1, 5000).Int(); err != nil || n != 1 {
		t.Fatalf("WAIT = %d, %v; want the replica to have the write", n, err)
	}
	if err := sup.Kill(group.ServerName(old)); err != nil {
		t.Fatal(err)
	}

	var now string
	waitfor.Until(t, time.Minute, "the Sentinels promote the replica", func(ctx context.Context) error {
		addr, err := SentinelMaster(ctx, group.SentinelAddrs())
		if err == nil && addr == old {
			return errSame
		}
		now = addr
		return err
	})
	// The same clients, untouched, now work against the new master.
	waitfor.Until(t, 30*time.Second, "go-redis writes after the failover", func(ctx context.Context) error {
		return rdb.Set(ctx, "after", "written", 0).Err()
	})
	direct := redis.NewClient(&redis.Options{Addr: now})
	defer direct.Close()
	for key, want := range map[string]string{"before": "kept", "after": "written"} {
		if got, err := direct.Get(ctx, key).Result(); err != nil || got != want {
			t.Fatalf("new master %s: %s = %q, %v; want %q", now, key, got, err, want)
		}
	}
	info, err := tasks.EnqueueContext(ctx, asynq.NewTask("test:after-failover", nil), asynq.TaskID("t1"))
	if err != nil {
		t.Fatalf("Asynq enqueue after the failover: %v", err)
	}
	if n, err := direct.Exists(ctx, "asynq:{"+info.Queue+"}:t:t1").Result(); err != nil || n != 1 {
		t.Fatalf("the task is not on the new master: %d, %v", n, err)
	}
	if c, err := limit.Get(ctx, "k"); err != nil || c.Remaining != 999 {
		t.Fatalf("rate limiter after the failover: %+v, %v", c, err)
	}

	// The supervisor starts the old master again; the Sentinels make it a
	// replica of the new one.
	waitfor.Until(t, 2*time.Minute, "the old master rejoins as a replica", func(ctx context.Context) error {
		if err := RedisSettled(ctx, group.SentinelAddrs()); err != nil {
			return err
		}
		c := redis.NewClient(&redis.Options{Addr: old, MaxRetries: -1})
		defer c.Close()
		repl, err := c.Info(ctx, "replication").Result()
		if err == nil && !strings.Contains(repl, "role:slave") {
			return errNotReplica
		}
		return err
	})
}

type testErr string

func (e testErr) Error() string { return string(e) }

const (
	errSame       = testErr("the Sentinels still name the killed master")
	errNotReplica = testErr("the old master is not a replica")
)

func freePort(t *testing.T) int {
	t.Helper()
	p, err := devenv.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestNginxConfig checks the cluster's adaptation of deploy/nginx.conf
// with `nginx -t`, and that it balances over exactly the given APIs.
func TestNginxConfig(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cmd, err := nginxCommand(dir, freePort(t), []string{"127.0.0.1:1111", "127.0.0.1:2222"})
	if err != nil {
		t.Fatal(err)
	}
	conf, err := os.ReadFile(filepath.Join(dir, "nginx.conf"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"server 127.0.0.1:1111 max_fails", "server 127.0.0.1:2222 max_fails", "listen 127.0.0.1:"} {
		if !strings.Contains(string(conf), want) {
			t.Errorf("nginx.conf lacks %q:\n%s", want, conf)
		}
	}
	if strings.Contains(string(conf), "api:8080") {
		t.Error("nginx.conf still names the compose service")
	}
	args := append([]string{"-t", "-q"}, cmd().Args[1:]...)
	if out, err := exec.Command(cmd().Path, args...).CombinedOutput(); err != nil {
		t.Fatalf("nginx -t: %v\n%s", err, out)
	}
}
