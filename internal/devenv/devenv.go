// Package devenv starts a private PostgreSQL and Redis from the system's
// binaries under a project-local folder, for `paylink dev` and `make test`.
// It never touches a system-wide instance: each server gets its own data
// directory, a free loopback port and a socket directory of its own.
package devenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"
)

// Options says where the services live and how PostgreSQL is tuned.
type Options struct {
	// Dir is the project-local data folder, e.g. ".data".
	Dir string
	// Fast turns off fsync in PostgreSQL. Only for throwaway test clusters:
	// a crash can corrupt such a cluster.
	Fast bool
	// Log receives progress lines; nil discards them.
	Log io.Writer
}

// Services are running private servers. Stop ends them.
type Services struct {
	DatabaseURL string
	RedisURL    string
	procs       []*proc
	lock        *os.File
}

// proc is a started server; done closes when it has exited.
type proc struct {
	cmd  *exec.Cmd
	done chan struct{}
}

func (s *Services) spawn(cmd *exec.Cmd) (*proc, error) {
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &proc{cmd: cmd, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(p.done) }()
	s.procs = append(s.procs, p)
	return p, nil
}

// Start starts PostgreSQL and Redis under opts.Dir and waits until both
// accept connections. The caller must call Stop.
func Start(ctx context.Context, opts Options) (*Services, error) {
	if opts.Log == nil {
		opts.Log = io.Discard
	}
	dir, err := filepath.Abs(opts.Dir)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create data folder: %w", err)
	}
	lock, err := LockDir(dir)
	if err != nil {
		return nil, err
	}
	s := &Services{lock: lock}
	if err := s.startPostgres(ctx, dir, opts); err != nil {
		s.Stop()
		return nil, err
	}
	if err := s.startRedis(ctx, dir, opts); err != nil {
		s.Stop()
		return nil, err
	}
	return s, nil
}

// Stop shuts the servers down cleanly and waits for them to exit.
func (s *Services) Stop() {
	for i := len(s.procs) - 1; i >= 0; i-- {
		p := s.procs[i]
		// SIGINT is PostgreSQL's "fast" shutdown; Redis treats it as SIGTERM.
		_ = p.cmd.Process.Signal(syscall.SIGINT)
		select {
		case <-p.done:
		case <-time.After(30 * time.Second):
			_ = p.cmd.Process.Kill()
			<-p.done
		}
	}
	s.procs = nil
	if s.lock != nil {
		s.lock.Close() // releases the flock
		s.lock = nil
	}
}

// LockDir takes an exclusive lock on dir for as long as the services run,
// so two commands never start servers on one data folder: the second is
// told to wait or use another folder. The kernel drops the lock when its
// holder dies, so a crashed run never blocks the next one.
func LockDir(dir string) (*os.File, error) {
	f, err := os.OpenFile(filepath.Join(dir, "devenv.lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("another paylink process is running services in %s; stop it, or give this one another folder (paylink devenv -dir, PAYLINK_DEV_DIR)", dir)
		}
		return nil, fmt.Errorf("lock %s: %w", dir, err)
	}
	return f, nil
}

func (s *Services) startPostgres(ctx context.Context, dir string, opts Options) error {
	bin, err := PostgresBinDir()
	if err != nil {
		return err
	}
	data := filepath.Join(dir, "postgres")
	sock := filepath.Join(dir, "run")
	if err := os.MkdirAll(sock, 0o755); err != nil {
		return err
	}
	cred, err := ServiceUser()
	if err != nil {
		return err
	}
	pwFile := filepath.Join(dir, "postgres.password")
	if _, err := os.Stat(filepath.Join(data, "PG_VERSION")); errors.Is(err, os.ErrNotExist) {
		fmt.Fprintf(opts.Log, "devenv: creating PostgreSQL cluster in %s\n", data)
		if err := os.RemoveAll(data); err != nil {
			return err
		}
		if err := os.MkdirAll(data, 0o700); err != nil {
			return err
		}
		pw := make([]byte, 16)
		_, _ = rand.Read(pw)
		if err := os.WriteFile(pwFile, []byte(hex.EncodeToString(pw)), 0o600); err != nil {
			return err
		}
		if err := Chown(cred, data, sock, pwFile); err != nil {
			return err
		}
		initdb := exec.CommandContext(ctx, filepath.Join(bin, "initdb"), "-D", data, "-U", "paylink",
			"--pwfile", pwFile, "--auth=scram-sha-256", "-E", "UTF8", "--locale=C", "--no-sync")
		initdb.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
		if out, err := initdb.CombinedOutput(); err != nil {
			return fmt.Errorf("initdb: %w: %s", err, out)
		}
	} else if err != nil {
		return err
	}
	if err := Chown(cred, sock); err != nil {
		return err
	}
	pw, err := os.ReadFile(pwFile)
	if err != nil {
		return fmt.Errorf("read postgres password: %w", err)
	}
	port, err := FreePort()
	if err != nil {
		return err
	}
	args := []string{"-D", data, "-p", strconv.Itoa(port), "-k", sock,
		"-c", "listen_addresses=127.0.0.1",
		"-c", "max_connections=600",
		"-c", "shared_buffers=256MB",
		"-c", "max_locks_per_transaction=256",
		"-c", "logging_collector=off",
	}
	if opts.Fast {
		args = append(args, "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off")
	}
	logFile, err := os.OpenFile(filepath.Join(dir, "postgres.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer logFile.Close()
	cmd := exec.Command(filepath.Join(bin, "postgres"), args...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred, Pdeathsig: syscall.SIGINT, Setpgid: true}
	stopStale(filepath.Join(data, "postmaster.pid"))
	p, err := s.spawn(cmd)
	if err != nil {
		return fmt.Errorf("start postgres: %w", err)
	}
	url := fmt.Sprintf("postgres://paylink:%s@127.0.0.1:%d/postgres?sslmode=disable", strings.TrimSpace(string(pw)), port)
	if err := waitFor(ctx, p, func(ctx context.Context) error {
		conn, err := pgx.Connect(ctx, url)
		if err != nil {
			return err
		}
		return conn.Close(ctx)
	}); err != nil {
		return fmt.Errorf("postgres did not start (see %s): %w", filepath.Join(dir, "postgres.log"), err)
	}
	fmt.Fprintf(opts.Log, "devenv: PostgreSQL on 127.0.0.1:%d\n", port)
	s.DatabaseURL = url
	return nil
}

func (s *Services) startRedis(ctx context.Context, dir string, opts Options) error {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		return errors.New("redis-server not found: install the redis-server package or set REDIS_URL")
	}
	rdir := filepath.Join(dir, "redis")
	if err := os.MkdirAll(rdir, 0o755); err != nil {
		return err
	}
	port, err := FreePort()
	if err != nil {
		return err
	}
	cmd := exec.Command(bin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1",
		"--dir", rdir, "--save", "", "--appendonly", "no", "--databases", "256",
		"--logfile", filepath.Join(dir, "redis.log"), "--daemonize", "no")
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM, Setpgid: true}
	p, err := s.spawn(cmd)
	if err != nil {
		return fmt.Errorf("start redis: %w", err)
	}
	url := fmt.Sprintf("redis://127.0.0.1:%d/0", port)
	if err := waitFor(ctx, p, func(ctx context.Context) error {
		o, _ := redis.ParseURL(url)
		c := redis.NewClient(o)
		defer c.Close()
		return c.Ping(ctx).Err()
	}); err != nil {
		return fmt.Errorf("redis did not start (see %s): %w", filepath.Join(dir, "redis.log"), err)
	}
	fmt.Fprintf(opts.Log, "devenv: Redis on 127.0.0.1:%d\n", port)
	s.RedisURL = url
	return nil
}

// waitFor polls ready until it succeeds, the process exits or 60 s pass.
func waitFor(ctx context.Context, p *proc, ready func(context.Context) error) error {
	deadline := time.Now().Add(60 * time.Second)
	var last error
	for time.Now().Before(deadline) {
		cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		last = ready(cctx)
		cancel()
		if last == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-p.done:
			return fmt.Errorf("process exited: %w", last)
		case <-time.After(100 * time.Millisecond):
		}
	}
	return last
}

// PostgresBinDir finds the directory holding initdb and postgres: the PATH
// first, then Debian's /usr/lib/postgresql/<version>/bin (newest version).
func PostgresBinDir() (string, error) {
	if p, err := exec.LookPath("initdb"); err == nil {
		if real, err := filepath.EvalSymlinks(p); err == nil {
			return filepath.Dir(real), nil
		}
		return filepath.Dir(p), nil
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool {
		vi, _ := strconv.Atoi(filepath.Base(filepath.Dir(dirs[i])))
		vj, _ := strconv.Atoi(filepath.Base(filepath.Dir(dirs[j])))
		return vi > vj
	})
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d, nil
		}
	}
	return "", errors.New("PostgreSQL server binaries not found: install the postgresql package or set DATABASE_URL")
}

// ServiceUser is the account PostgreSQL runs as. PostgreSQL refuses to run
// as root, so under root it runs as the "postgres" system user.
func ServiceUser() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, errors.New("running as root needs the \"postgres\" system user (from the postgresql package) to run PostgreSQL")
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}

// Chown gives paths, recursively, to cred's user (nil: leaves them).
func Chown(cred *syscall.Credential, paths ...string) error {
	if cred == nil {
		return nil
	}
	for _, p := range paths {
		err := filepath.Walk(p, func(path string, _ os.FileInfo, err error) error {
			if err != nil {
				return err
			}
			return os.Lchown(path, int(cred.Uid), int(cred.Gid))
		})
		if err != nil {
			return fmt.Errorf("chown %s: %w", p, err)
		}
	}
	return nil
}

// stopStale stops a PostgreSQL left running from an earlier run that was
// killed before it could stop its children. It runs under the folder's
// lock, so that PostgreSQL belongs to no live run.
func stopStale(pidFile string) {
	b, err := os.ReadFile(pidFile)
	if err != nil {
		return
	}
	pid, err := strconv.Atoi(strings.SplitN(string(b), "\n", 2)[0])
	if err != nil || pid <= 0 {
		return
	}
	comm, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
	if err != nil || !strings.HasPrefix(string(comm), "postgres") {
		return
	}
	_ = syscall.Kill(pid, syscall.SIGINT)
	for i := 0; i < 300; i++ {
		if syscall.Kill(pid, 0) != nil {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// FreePort returns a loopback TCP port nobody listens on right now.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
