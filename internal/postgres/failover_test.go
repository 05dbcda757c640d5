package postgres_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/paylink/paylink/internal/devenv"
	"github.com/paylink/paylink/internal/postgres"
	"github.com/paylink/paylink/internal/waitfor"
)

// server is a PostgreSQL server a test started from the system's binaries.
type server struct {
	port int
	data string
	cmd  *exec.Cmd
	done chan struct{}
}

// pgTool runs a PostgreSQL program as the account PostgreSQL runs as.
func pgTool(t *testing.T, name string, args ...string) {
	t.Helper()
	bin, err := devenv.PostgresBinDir()
	if err != nil {
		t.Fatal(err)
	}
	cred, err := devenv.ServiceUser()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(filepath.Join(bin, name), args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", name, err, out)
	}
}

// startServer starts PostgreSQL on data (initialized) on a free port.
func startServer(t *testing.T, data string) *server {
	t.Helper()
	bin, _ := devenv.PostgresBinDir()
	cred, _ := devenv.ServiceUser()
	port, err := devenv.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	s := &server{port: port, data: data, done: make(chan struct{})}
	s.cmd = exec.Command(filepath.Join(bin, "postgres"), "-D", data, "-p", strconv.Itoa(port), "-k", data,
		"-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "shared_buffers=16MB", "-c", "max_connections=20")
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred, Pdeathsig: syscall.SIGKILL}
	log, _ := os.Create(data + ".log")
	s.cmd.Stdout, s.cmd.Stderr = log, log
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = s.cmd.Wait(); log.Close(); close(s.done) }()
	t.Cleanup(func() { s.stop() })
	url := s.url("")
	for deadline := time.Now().Add(time.Minute); ; {
		conn, err := pgx.Connect(context.Background(), url)
		if err == nil {
			conn.Close(context.Background())
			return s
		}
		select {
		case <-s.done:
			b, _ := os.ReadFile(data + ".log")
			t.Fatalf("postgres exited: %v\n%s", err, b)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("postgres did not start: %v", err)
		}
	}
}

func (s *server) url(query string) string {
	return fmt.Sprintf("postgres://paylink@127.0.0.1:%d/postgres?sslmode=disable%s", s.port, query)
}

// stop shuts the server down (fast) and waits for it.
func (s *server) stop() {
	_ = s.cmd.Process.Signal(syscall.SIGINT)
	<-s.done
}

// TestMultiHostFailover runs a pool on a DATABASE_URL naming a standby
// and a primary (real servers, streaming replication): it writes to the
// primary only; with the primary stopped every attempt fails with an
// error IsUnavailable recognises; once the standby is promoted the same
// pool writes to it, and what was committed before is there.
func TestMultiHostFailover(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	// The servers run as the postgres account when the tests run as root.
	_ = os.Chmod(filepath.Dir(dir), 0o755)
	cred, err := devenv.ServiceUser()
	if err != nil {
		t.Fatal(err)
	}
	if err := devenv.Chown(cred, dir); err != nil {
		t.Fatal(err)
	}
	primaryData, standbyData := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	pgTool(t, "initdb", "-D", primaryData, "-U", "paylink", "--auth=trust", "--no-sync", "-E", "UTF8", "--locale=C")
	primary := startServer(t, primaryData)
	pgTool(t, "pg_basebackup", "-D", standbyData, "-R", "-X", "stream", "-h", "127.0.0.1", "-p", strconv.Itoa(primary.port), "-U", "paylink")
	standby := startServer(t, standbyData)

	ctx := context.Background()
	url := fmt.Sprintf("postgres://paylink@127.0.0.1:%d,127.0.0.1:%d/postgres?sslmode=disable&target_session_attrs=read-write&connect_timeout=2",
		standby.port, primary.port)
	db, err := postgres.Open(ctx, url, 4)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	write := func(v int) (port int, err error) {
		err = db.WithTx(ctx, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, "INSERT INTO t VALUES ($1)", v); err != nil {
				return err
			}
			return tx.QueryRow(ctx, "SELECT inet_server_port()").Scan(&port)
		})
		return port, err
	}
	if _, err := db.Pool.Exec(ctx, "CREATE TABLE t (v int)"); err != nil {
		t.Fatal(err)
	}
	if port, err := write(1); err != nil || port != primary.port {
		t.Fatalf("first write on port %d (%v); want the primary's %d, the standby listed first being read-only", port, err, primary.port)
	}

	primary.stop()
	// The pool's connections to the old primary are gone, and no new one
	// finds a host accepting writes: each attempt fails (rather than
	// waiting for a primary) with an error that makes a retryable 503.
	for i := range 3 {
		if _, err := write(2); err == nil || !postgres.IsUnavailable(err) {
			t.Fatalf("write %d with the primary stopped and the standby read-only: %v; want an error IsUnavailable recognises", i, err)
		}
	}

	pgTool(t, "pg_ctl", "promote", "-w", "-D", standbyData)
	waitfor.Until(t, time.Minute, "the pool writes to the promoted standby", func(context.Context) error {
		port, err := write(3)
		switch {
		case err != nil && !postgres.IsUnavailable(err):
			t.Fatalf("write after promotion: %v; want success, or an error IsUnavailable recognises meanwhile", err)
		case err == nil && port != standby.port:
			t.Fatalf("write after promotion went to port %d, want the new primary's %d", port, standby.port)
		}
		return err
	})
	var got []int
	rows, _ := db.Pool.Query(ctx, "SELECT v FROM t ORDER BY v")
	if got, err = pgx.CollectRows(rows, pgx.RowTo[int]); err != nil || fmt.Sprint(got) != "[1 3]" {
		t.Fatalf("rows on the new primary = %v (%v); want [1 3]: the write committed before the failover, and the one after", got, err)
	}
}

func TestIsUnavailable(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name string
		err  error
		want bool
	}{
		{"admin shutdown", &pgconn.PgError{Code: "57P01"}, true},
		{"starting up", fmt.Errorf("begin: %w", &pgconn.PgError{Code: "57P03"}), true},
		{"connection failure", &pgconn.PgError{Code: "08006"}, true},
		{"read-only transaction", &pgconn.PgError{Code: "25006"}, true},
		{"connection lost", fmt.Errorf("insert: %w", io.ErrUnexpectedEOF), true},
		{"refused", &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}, true},
		{"unique violation", &pgconn.PgError{Code: "23505"}, false},
		{"serialization failure", &pgconn.PgError{Code: "40001"}, false},
		{"canceled", context.Canceled, false},
		{"no rows", pgx.ErrNoRows, false},
		{"nil", nil, false},
	} {
		if got := postgres.IsUnavailable(c.err); got != c.want {
			t.Errorf("IsUnavailable(%s) = %v, want %v", c.name, got, c.want)
		}
	}
}
