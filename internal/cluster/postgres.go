package cluster

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/paylink/paylink/deploy"
	"github.com/paylink/paylink/internal/devenv"
)

// Database is the application database's name on the data nodes; its
// owner, a superuser, has the same name.
const Database = "paylink"

// tuningMark starts deploy's monitor.conf and node.conf: a data folder
// whose postgresql.auto.conf has it was tuned already.
const tuningMark = "# Paylink: settings of"

// pgaf runs pg_auto_failover: a monitor and two data nodes.
type pgaf struct {
	dir     string // <cluster>/postgres
	bin     string // PostgreSQL's bin directory
	cred    *syscall.Credential
	monitor int    // ports
	nodes   [2]int // node-1, node-2
}

// MonitorURL is the monitor's connection URL.
func (g *pgaf) MonitorURL() string {
	return fmt.Sprintf("postgres://autoctl_node@127.0.0.1:%d/pg_auto_failover?sslmode=disable", g.monitor)
}

// DatabaseURL is the application's multi-host URL: pgx tries both nodes
// and keeps the one that accepts writes.
func (g *pgaf) DatabaseURL() string {
	return fmt.Sprintf("postgres://%s@127.0.0.1:%d,127.0.0.1:%d/%s?target_session_attrs=read-write&sslmode=disable",
		Database, g.nodes[0], g.nodes[1], Database)
}

func (g *pgaf) pgdata(name string) string { return filepath.Join(g.dir, name) }

// command is pg_autoctl with args, as the service user, with its
// configuration, state and runtime files under the cluster folder.
func (g *pgaf) command(args ...string) *exec.Cmd {
	cmd := exec.Command("pg_autoctl", args...)
	home := filepath.Join(g.dir, "home")
	cmd.Env = []string{
		"PATH=" + g.bin + ":/usr/bin:/bin",
		"HOME=" + home,
		"XDG_CONFIG_HOME=" + filepath.Join(home, "config"),
		"XDG_DATA_HOME=" + filepath.Join(home, "data"),
		"XDG_RUNTIME_DIR=" + filepath.Join(home, "run"),
		"TMPDIR=" + filepath.Join(home, "tmp"),
		"PG_CONFIG=" + filepath.Join(g.bin, "pg_config"),
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: g.cred}
	return cmd
}

// prepare creates the folders pg_autoctl needs, owned by the service user.
func (g *pgaf) prepare() error {
	home := filepath.Join(g.dir, "home")
	for _, d := range []string{g.dir, filepath.Join(home, "config"), filepath.Join(home, "data"),
		filepath.Join(home, "run"), filepath.Join(home, "tmp")} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return err
		}
	}
	return devenv.Chown(g.cred, g.dir)
}

func exists(pgdata string) bool {
	_, err := os.Stat(filepath.Join(pgdata, "PG_VERSION"))
	return err == nil
}

// tune appends settings to pgdata's postgresql.auto.conf once; pg_autoctl
// keeps it (it only ALTER SYSTEMs synchronous_standby_names there).
func (g *pgaf) tune(pgdata, settings string) error {
	path := filepath.Join(pgdata, "postgresql.auto.conf")
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if strings.Contains(string(b), tuningMark) {
		return nil
	}
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	_, err = f.WriteString("\n" + settings)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// start creates (the first time) and runs the monitor and both nodes,
// and waits until node-1 or node-2 is primary and the other its
// synchronous standby.
func (g *pgaf) start(ctx context.Context, sup *Supervisor, log func(string, ...any)) error {
	if err := g.prepare(); err != nil {
		return err
	}
	mon := g.pgdata("monitor")
	if !exists(mon) {
		log("creating the pg_auto_failover monitor in %s", mon)
		if err := runOnce(ctx, g.command("create", "monitor", "--pgdata", mon, "--pgport", strconv.Itoa(g.monitor),
			"--pgctl", filepath.Join(g.bin, "pg_ctl"), "--hostname", "127.0.0.1", "--listen", "127.0.0.1",
			"--auth", "trust", "--no-ssl")); err != nil {
			return err
		}
		if err := g.tune(mon, deploy.MonitorConf); err != nil {
			return err
		}
	}
	if _, err := sup.Start(ctx, g.spec("pg-monitor", "pg-monitor", mon, g.monitor, time.Second, g.monitorReady)); err != nil {
		return err
	}
	// A new node registers with the monitor while the ones before it run:
	// the first becomes "single", the second its standby (pg_basebackup).
	// Existing nodes all start at once, and the monitor finds which one is
	// the primary.
	for i, port := range g.nodes {
		name := fmt.Sprintf("pg-%d", i+1)
		pgdata := g.pgdata(name)
		created := false
		if !exists(pgdata) {
			created = true
			log("creating PostgreSQL node %s in %s", name, pgdata)
			if err := g.create(ctx, name, pgdata, port); err != nil {
				return err
			}
		}
		if _, err := sup.Start(ctx, g.spec(name, "pg-node", pgdata, port, nodeRestartDelay, nil)); err != nil {
			return err
		}
		if created {
			if err := g.waitNodes(ctx, i+1); err != nil {
				return err
			}
		}
	}
	return g.waitNodes(ctx, len(g.nodes))
}

// create registers and initializes a data node (without running it).
func (g *pgaf) create(ctx context.Context, name, pgdata string, port int) error {
	if err := runOnce(ctx, g.command("create", "postgres", "--pgdata", pgdata, "--pgport", strconv.Itoa(port),
		"--pgctl", filepath.Join(g.bin, "pg_ctl"), "--hostname", "127.0.0.1", "--listen", "127.0.0.1",
		"--name", name, "--dbname", Database, "--username", Database, "--auth", "trust", "--no-ssl",
		"--monitor", g.MonitorURL(), "--replication-quorum", "true", "--candidate-priority", "50")); err != nil {
		return err
	}
	if err := g.tune(pgdata, deploy.NodeConf); err != nil {
		return err
	}
	return runOnce(ctx, g.command("config", "set", "--pgdata", pgdata, "timeout.network_partition_timeout", "5"))
}

// nodeRestartDelay is how long a lost data node stays down: longer than a
// failover takes, so that losing the primary promotes the standby before
// the old primary comes back (as a standby, rewound).
const nodeRestartDelay = 10 * time.Second

func (g *pgaf) spec(name, kind, pgdata string, port int, delay time.Duration, ready func(context.Context) error) Spec {
	spec := Spec{Name: name, Kind: kind, Port: port, RestartDelay: delay, Ready: ready,
		// SIGINT: pg_autoctl stops PostgreSQL with a fast shutdown.
		StopSignal: syscall.SIGINT,
		Command: func() *exec.Cmd {
			cmd := g.command("run", "--pgdata", pgdata)
			cmd.SysProcAttr.Pdeathsig = syscall.SIGINT
			if f, err := logFile(filepath.Join(g.dir, name+".log")); err == nil {
				cmd.Stdout, cmd.Stderr = f, f
			}
			return cmd
		}}
	if kind == "pg-node" {
		spec.BeforeRestart = func() error { return g.recover(name, pgdata) }
	}
	return spec
}

// recover finishes the crash recovery of a data node that was not a
// standby (a lost primary) in single-user mode, leaving it cleanly shut
// down, before pg_autoctl starts again. pg_autoctl 2.0 would otherwise run
// the recovery with a server it has not stopped yet when it calls
// pg_rewind, which then fails, and fall back to copying the whole
// database again with pg_basebackup.
func (g *pgaf) recover(name, pgdata string) error {
	if _, err := os.Stat(filepath.Join(pgdata, "standby.signal")); err == nil {
		return nil
	}
	out, err := exec.Command(filepath.Join(g.bin, "pg_controldata"), pgdata).Output()
	if err != nil || !strings.Contains(string(out), "in production") {
		return nil // shut down cleanly, or pg_autoctl's to sort out
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(g.bin, "postgres"), "--single", "-F", "-D", pgdata, "template1")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: g.cred}
	if f, err := logFile(filepath.Join(g.dir, name+".log")); err == nil {
		defer f.Close()
		fmt.Fprintf(f, "paylink cluster: finishing crash recovery of %s in single-user mode before restarting it\n", name)
		cmd.Stdout, cmd.Stderr = f, f
	}
	return cmd.Run()
}

func (g *pgaf) monitorReady(ctx context.Context) error {
	conn, err := pgx.Connect(ctx, g.MonitorURL())
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	var n int
	return conn.QueryRow(ctx, "SELECT count(*) FROM pgautofailover.formation").Scan(&n)
}

// NodeState is one data node as the monitor sees it.
type NodeState struct {
	Name     string
	Port     int
	Reported string // the state the node's keeper reported last
	Goal     string // the state the monitor assigned
	Healthy  bool
}

// Nodes asks the monitor for the data nodes' states.
func Nodes(ctx context.Context, monitorURL string) ([]NodeState, error) {
	conn, err := pgx.Connect(ctx, monitorURL)
	if err != nil {
		return nil, err
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, `SELECT nodename, nodeport, reportedstate::text, goalstate::text, health = 1
		FROM pgautofailover.node ORDER BY nodeid`)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (NodeState, error) {
		var n NodeState
		err := r.Scan(&n.Name, &n.Port, &n.Reported, &n.Goal, &n.Healthy)
		return n, err
	})
}

// Settled reports whether nodes are one primary and one synchronous
// standby (secondary), each having reached the state it was assigned:
// the state in which losing either node loses no committed write.
func Settled(nodes []NodeState) bool {
	if len(nodes) != 2 {
		return false
	}
	roles := map[string]int{}
	for _, n := range nodes {
		if n.Reported != n.Goal {
			return false
		}
		roles[n.Reported]++
	}
	return roles["primary"] == 1 && roles["secondary"] == 1
}

// waitNodes waits until the monitor has want data nodes in their final
// states: "single" for the first, primary and secondary for two.
func (g *pgaf) waitNodes(ctx context.Context, want int) error {
	deadline := time.Now().Add(2 * time.Minute)
	var last []NodeState
	for time.Now().Before(deadline) {
		cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		nodes, err := Nodes(cctx, g.MonitorURL())
		cancel()
		if err == nil {
			last = nodes
			if want == 1 && len(nodes) == 1 && nodes[0].Reported == "single" && nodes[0].Goal == "single" ||
				want == 2 && Settled(nodes) {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return errStopped
		case <-time.After(250 * time.Millisecond):
		}
	}
	return fmt.Errorf("pg_auto_failover did not settle with %d nodes within 2 minutes: %+v", want, last)
}
