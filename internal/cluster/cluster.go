// Package cluster runs Paylink's production topology as real processes on
// one machine, for `make cluster` and `make chaos`: PostgreSQL with
// automatic failover by pg_auto_failover (a monitor and two data nodes
// replicating synchronously), Redis with Sentinel (a master, a replica
// and three Sentinels), two `paylink api` and two `paylink worker`
// processes, and nginx in front of the APIs on one port. A supervisor
// starts every process again when it dies, after a delay that lets the
// failover it triggers finish first. docker-compose.yml describes the
// same topology for Docker.
//
// The system's binaries are used (Debian's postgresql-15-auto-failover,
// redis-server, redis-sentinel, nginx-light); every file lives under one
// project folder, every port is on loopback.
package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/paylink/paylink/internal/devenv"
)

// Options says where the cluster lives and what it runs.
type Options struct {
	// Dir is the project folder, e.g. ".data/cluster".
	Dir string
	// Port is nginx's public port on 127.0.0.1.
	Port int
	// Paylink is the path of the paylink binary.
	Paylink string
	// Env is set for every paylink process on top of what the cluster
	// sets (the database, Redis and listen addresses).
	Env map[string]string
	// Fresh deletes an earlier cluster in Dir first.
	Fresh bool
	// Log receives progress and restart lines; nil discards them.
	Log io.Writer
}

// State is what a running cluster writes to <Dir>/cluster.json, for
// operators and for `make chaos`.
type State struct {
	PublicURL   string   `json:"public_url"`
	DatabaseURL string   `json:"database_url"`
	MonitorURL  string   `json:"monitor_url"`
	RedisURL    string   `json:"redis_url"`
	RedisMaster string   `json:"redis_master"`
	Sentinels   []string `json:"sentinels"`
	APIs        []string `json:"apis"` // each API process's own address
	Processes   []Info   `json:"processes"`
	Ready       bool     `json:"ready"` // everything has started once
}

// StateFile is the name of the state file in the cluster folder.
const StateFile = "cluster.json"

// ReadState reads the state file of the cluster in dir.
func ReadState(dir string) (State, error) {
	var s State
	b, err := os.ReadFile(filepath.Join(dir, StateFile))
	if err != nil {
		return s, err
	}
	return s, json.Unmarshal(b, &s)
}

// Cluster is a running topology; Stop ends it.
type Cluster struct {
	dir   string
	log   io.Writer
	lock  *os.File
	sup   *Supervisor
	pg    *pgaf
	redis *Redis
	mu    sync.Mutex
	state State
}

// ports are the ports a cluster keeps from one start to the next: the
// nodes are registered with them (pg_auto_failover, Sentinel).
type ports struct {
	Monitor int        `json:"monitor"`
	Nodes   [2]int     `json:"nodes"`
	Redis   RedisPorts `json:"redis"`
}

// Start starts the whole topology and returns once nginx answers. The
// first start in a folder creates everything (a minute or so); later
// ones reuse the data, ports and secrets.
func Start(ctx context.Context, opts Options) (*Cluster, error) {
	if opts.Log == nil {
		opts.Log = io.Discard
	}
	dir, err := filepath.Abs(opts.Dir)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	lock, err := devenv.LockDir(dir)
	if err != nil {
		return nil, err
	}
	c := &Cluster{dir: dir, log: opts.Log, lock: lock}
	c.sup = NewSupervisor(opts.Log, c.writeState)
	if err := c.start(ctx, opts); err != nil {
		c.Stop()
		return nil, err
	}
	return c, nil
}

func (c *Cluster) logf(format string, args ...any) {
	fmt.Fprintf(c.log, "cluster: "+format+"\n", args...)
}

func (c *Cluster) start(ctx context.Context, opts Options) error {
	if opts.Fresh {
		if err := clearDir(c.dir); err != nil {
			return err
		}
	}
	p, err := loadPorts(c.dir)
	if err != nil {
		return err
	}
	bin, err := devenv.PostgresBinDir()
	if err != nil {
		return err
	}
	if _, err := exec.LookPath("pg_autoctl"); err != nil {
		return errors.New("pg_autoctl not found: install the postgresql-15-auto-failover package")
	}
	cred, err := devenv.ServiceUser()
	if err != nil {
		return err
	}
	c.pg = &pgaf{dir: filepath.Join(c.dir, "postgres"), bin: bin, cred: cred, monitor: p.Monitor, nodes: p.Nodes}
	if err := c.pg.start(ctx, c.sup, c.logf); err != nil {
		return err
	}
	c.logf("PostgreSQL: %s (monitor %s)", c.pg.DatabaseURL(), c.pg.MonitorURL())
	if c.redis, err = StartRedis(ctx, c.sup, filepath.Join(c.dir, "redis"), p.Redis); err != nil {
		return err
	}
	c.logf("Redis: %s, master %q", c.redis.URL(), MasterName)
	c.mu.Lock()
	c.state = State{PublicURL: fmt.Sprintf("http://localhost:%d", opts.Port), DatabaseURL: c.pg.DatabaseURL(),
		MonitorURL: c.pg.MonitorURL(), RedisURL: c.redis.URL(), RedisMaster: MasterName, Sentinels: c.redis.SentinelAddrs()}
	c.mu.Unlock()
	return c.startPaylink(ctx, opts)
}

// startPaylink migrates the database, then starts the APIs, the workers
// and nginx.
func (c *Cluster) startPaylink(ctx context.Context, opts Options) error {
	logs := filepath.Join(c.dir, "logs")
	if err := os.MkdirAll(logs, 0o755); err != nil {
		return err
	}
	env := map[string]string{
		"DATABASE_URL": c.pg.DatabaseURL(), "REDIS_URL": c.redis.URL(), "PAYLINK_REDIS_SENTINEL_MASTER": MasterName,
		"PAYLINK_BASE_URL": c.state.PublicURL, "PAYLINK_TRUSTED_PROXIES": "127.0.0.1/32",
	}
	for k, v := range opts.Env {
		env[k] = v
	}
	command := func(name string, extra map[string]string, args ...string) func() *exec.Cmd {
		return func() *exec.Cmd {
			cmd := exec.Command(opts.Paylink, args...)
			cmd.Env = environ(env, extra)
			if f, err := logFile(filepath.Join(logs, name+".log")); err == nil {
				cmd.Stdout, cmd.Stderr = f, f
			}
			return cmd
		}
	}
	migrate := exec.CommandContext(ctx, opts.Paylink, "migrate")
	migrate.Env = environ(env, nil)
	if err := runOnce(ctx, migrate); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	// Every process gets a metrics address of its own: the default one
	// (127.0.0.1:9090) would be taken by the first.
	metrics := func() (string, error) {
		port, err := devenv.FreePort()
		return fmt.Sprintf("127.0.0.1:%d", port), err
	}
	var apis []string
	for i := 1; i <= 2; i++ {
		port, err := devenv.FreePort()
		if err != nil {
			return err
		}
		m, err := metrics()
		if err != nil {
			return err
		}
		addr := fmt.Sprintf("127.0.0.1:%d", port)
		apis = append(apis, addr)
		name := fmt.Sprintf("api-%d", i)
		if _, err := c.sup.Start(ctx, Spec{Name: name, Kind: "api", Port: port, RestartDelay: time.Second,
			Command: command(name, map[string]string{"PAYLINK_ADDR": addr, "PAYLINK_METRICS_ADDR": m}, "api"),
			Ready:   httpCheck("http://" + addr + "/readyz"),
			Health:  httpCheck("http://" + addr + "/healthz"),
		}); err != nil {
			return err
		}
	}
	for i := 1; i <= 2; i++ {
		name := fmt.Sprintf("worker-%d", i)
		m, err := metrics()
		if err != nil {
			return err
		}
		if _, err := c.sup.Start(ctx, Spec{Name: name, Kind: "worker", RestartDelay: time.Second,
			Command: command(name, map[string]string{"PAYLINK_METRICS_ADDR": m}, "worker")}); err != nil {
			return err
		}
	}
	nginx, err := nginxCommand(filepath.Join(c.dir, "nginx"), opts.Port, apis)
	if err != nil {
		return err
	}
	if _, err := c.sup.Start(ctx, Spec{Name: "nginx", Kind: "nginx", Port: opts.Port, RestartDelay: 500 * time.Millisecond,
		Command: nginx, Ready: httpCheck(fmt.Sprintf("http://127.0.0.1:%d/healthz", opts.Port)),
	}); err != nil {
		return fmt.Errorf("%w (is port %d free? choose another with -port)", err, opts.Port)
	}
	c.mu.Lock()
	c.state.APIs, c.state.Ready = apis, true
	c.mu.Unlock()
	c.writeState()
	return nil
}

// environ is this process's environment without any Paylink settings,
// then env, then extra.
func environ(env, extra map[string]string) []string {
	var out []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if _, set := env[k]; set || strings.HasPrefix(k, "PAYLINK_") || k == "DATABASE_URL" || k == "REDIS_URL" {
			continue
		}
		out = append(out, kv)
	}
	for _, m := range []map[string]string{env, extra} {
		for k, v := range m {
			out = append(out, k+"="+v)
		}
	}
	return out
}

func httpCheck(url string) func(context.Context) error {
	return func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			return fmt.Errorf("GET %s: %s", url, res.Status)
		}
		return nil
	}
}

// State returns the cluster's state now.
func (c *Cluster) State() State {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.state
	s.Processes = c.sup.Infos()
	return s
}

// writeState writes the state file, replacing it whole.
func (c *Cluster) writeState() {
	s := c.State()
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return
	}
	tmp := filepath.Join(c.dir, StateFile+".tmp")
	if err := os.WriteFile(tmp, b, 0o644); err == nil {
		_ = os.Rename(tmp, filepath.Join(c.dir, StateFile))
	}
}

// Kill crashes the named process (SIGKILL to its process group); it is
// started again after its restart delay.
func (c *Cluster) Kill(name string) error { return c.sup.Kill(name) }

// Stop ends every process, newest first, and removes the state file.
func (c *Cluster) Stop() {
	c.sup.Stop()
	os.Remove(filepath.Join(c.dir, StateFile))
	if c.lock != nil {
		c.lock.Close()
		c.lock = nil
	}
}

// clearDir removes everything in dir but its lock.
func clearDir(dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if e.Name() == "devenv.lock" {
			continue
		}
		if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
			return err
		}
	}
	return nil
}

// loadPorts reads the ports of the cluster in dir, or picks free ones for
// a new cluster and saves them. A saved port that is taken now is an
// error: the nodes are registered with their ports.
func loadPorts(dir string) (ports, error) {
	path := filepath.Join(dir, "ports.json")
	var p ports
	b, err := os.ReadFile(path)
	if err == nil {
		if err := json.Unmarshal(b, &p); err != nil {
			return p, fmt.Errorf("%s: %w", path, err)
		}
		for _, port := range p.all() {
			l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
			if err != nil {
				return p, fmt.Errorf("port %d of the cluster in %s is taken (another copy running, or left over?): "+
					"stop what holds it, or start afresh with -fresh", port, dir)
			}
			l.Close()
		}
		return p, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return p, err
	}
	all := make([]int, 0, 8)
	seen := map[int]bool{}
	for len(all) < 8 {
		port, err := devenv.FreePort()
		if err != nil {
			return p, err
		}
		if !seen[port] {
			seen[port] = true
			all = append(all, port)
		}
	}
	p = ports{Monitor: all[0], Nodes: [2]int{all[1], all[2]},
		Redis: RedisPorts{Servers: [2]int{all[3], all[4]}, Sentinels: [3]int{all[5], all[6], all[7]}}}
	b, _ = json.MarshalIndent(p, "", "  ")
	return p, os.WriteFile(path, b, 0o644)
}

func (p ports) all() []int {
	return []int{p.Monitor, p.Nodes[0], p.Nodes[1], p.Redis.Servers[0], p.Redis.Servers[1],
		p.Redis.Sentinels[0], p.Redis.Sentinels[1], p.Redis.Sentinels[2]}
}
