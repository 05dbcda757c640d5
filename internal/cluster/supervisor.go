package cluster

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"time"
)

// Spec describes one supervised process.
type Spec struct {
	Name string // unique, e.g. "api-1"
	Kind string // "api", "worker", "pg-monitor", "pg-node", "redis", "sentinel", "nginx"
	Port int    // the port it serves, for the state file
	// Command builds the command of one run; it is called again for every
	// restart.
	Command func() *exec.Cmd
	// Ready, when set, is polled after the first start until it succeeds.
	Ready func(ctx context.Context) error
	// Health, when set, is polled every second while the process runs;
	// after healthFailures failures in a row the process is killed and
	// restarted like a crashed one.
	Health func(ctx context.Context) error
	// RestartDelay is how long a process that exited waits before it is
	// started again (a machine coming back, a service manager's backoff).
	RestartDelay time.Duration
	// StopSignal ends the process cleanly (SIGTERM when zero).
	StopSignal syscall.Signal
	// BeforeRestart, when set, runs before every start but the first.
	BeforeRestart func() error
}

// healthFailures is how many failed health checks in a row get a process
// restarted.
const healthFailures = 5

// Proc is a supervised process.
type Proc struct {
	spec Spec
	mu   sync.Mutex
	cmd  *exec.Cmd
	pid  int
	runs int
	done chan struct{} // closed when the current run exits
}

// Info is what the state file says about a process.
type Info struct {
	Name   string `json:"name"`
	Kind   string `json:"kind"`
	Port   int    `json:"port,omitempty"`
	PID    int    `json:"pid"`    // leader of its process group; 0 while down
	Starts int    `json:"starts"` // runs so far, the first included
}

// Supervisor starts processes in their own process groups and starts
// them again when they exit, until Stop. Killing a process group from
// outside (what a crash or `make chaos` does) is the normal way to see
// it come back.
type Supervisor struct {
	log      io.Writer
	onChange func()
	mu       sync.Mutex
	procs    []*Proc
	stopping bool
	wg       sync.WaitGroup
	ctx      context.Context
	cancel   context.CancelFunc
}

// NewSupervisor returns an empty supervisor logging to log; onChange,
// when set, is called after every start and exit.
func NewSupervisor(log io.Writer, onChange func()) *Supervisor {
	if log == nil {
		log = io.Discard
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Supervisor{log: log, onChange: onChange, ctx: ctx, cancel: cancel}
}

// Start starts spec's process, waits until it is ready (at most a
// minute, or until it exits), and keeps restarting it from then on.
func (s *Supervisor) Start(ctx context.Context, spec Spec) (*Proc, error) {
	p := &Proc{spec: spec}
	if err := p.start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", spec.Name, err)
	}
	s.mu.Lock()
	s.procs = append(s.procs, p)
	s.mu.Unlock()
	s.changed()
	if spec.Ready != nil {
		if err := waitReady(ctx, p, spec.Ready); err != nil {
			p.signal(syscall.SIGKILL)
			<-p.done
			return nil, fmt.Errorf("%s did not start: %w", spec.Name, err)
		}
	}
	s.wg.Add(1)
	go s.supervise(p)
	return p, nil
}

func waitReady(ctx context.Context, p *Proc, ready func(context.Context) error) error {
	deadline := time.Now().Add(time.Minute)
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
			return fmt.Errorf("exited: %w", last)
		case <-time.After(200 * time.Millisecond):
		}
	}
	return last
}

// start runs the process once.
func (p *Proc) start() error {
	cmd := p.spec.Command()
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setpgid = true
	if cmd.SysProcAttr.Pdeathsig == 0 {
		cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	done := make(chan struct{})
	p.mu.Lock()
	p.cmd, p.pid, p.done = cmd, cmd.Process.Pid, done
	p.runs++
	p.mu.Unlock()
	go func() {
		_ = cmd.Wait()
		for _, w := range []any{cmd.Stdout, cmd.Stderr} {
			if f, ok := w.(*os.File); ok && f != os.Stdout && f != os.Stderr {
				f.Close()
			}
		}
		p.mu.Lock()
		p.pid = 0
		p.mu.Unlock()
		close(done)
	}()
	return nil
}

// signal sends sig to the process's whole group.
func (p *Proc) signal(sig syscall.Signal) {
	p.mu.Lock()
	pid := p.pid
	p.mu.Unlock()
	if pid > 0 {
		_ = syscall.Kill(-pid, sig)
	}
}

// supervise restarts p after each exit until the supervisor stops, and
// runs its health checks.
func (s *Supervisor) supervise(p *Proc) {
	defer s.wg.Done()
	for {
		p.mu.Lock()
		done, pgid := p.done, p.pid
		p.mu.Unlock()
		s.watchHealth(p, done)
		if s.ctx.Err() != nil {
			return
		}
		// Whatever the leader left behind in its group (postgres under
		// pg_autoctl) goes with it, as on a machine that failed.
		if pgid > 0 {
			_ = syscall.Kill(-pgid, syscall.SIGKILL)
		}
		p.mu.Lock()
		state := "exited"
		if p.cmd.ProcessState != nil {
			state = p.cmd.ProcessState.String()
		}
		p.mu.Unlock()
		fmt.Fprintf(s.log, "cluster: %s %s; starting it again in %s\n", p.spec.Name, state, p.spec.RestartDelay)
		s.changed()
		select {
		case <-s.ctx.Done():
			return
		case <-time.After(p.spec.RestartDelay):
		}
		for {
			err := error(nil)
			if p.spec.BeforeRestart != nil {
				err = p.spec.BeforeRestart()
			}
			if err == nil {
				err = p.start()
			}
			if err == nil {
				break
			}
			fmt.Fprintf(s.log, "cluster: restart %s: %v\n", p.spec.Name, err)
			select {
			case <-s.ctx.Done():
				return
			case <-time.After(time.Second):
			}
		}
		s.changed()
	}
}

// watchHealth returns when the current run exits or the supervisor
// stops, killing a run that fails its health check too often.
func (s *Supervisor) watchHealth(p *Proc, done chan struct{}) {
	if p.spec.Health == nil {
		select {
		case <-done:
		case <-s.ctx.Done():
		}
		return
	}
	failed := 0
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-done:
			return
		case <-s.ctx.Done():
			return
		case <-tick.C:
		}
		ctx, cancel := context.WithTimeout(s.ctx, time.Second)
		err := p.spec.Health(ctx)
		cancel()
		if err == nil {
			failed = 0
			continue
		}
		if failed++; failed == healthFailures {
			fmt.Fprintf(s.log, "cluster: %s failed %d health checks in a row (%v); killing it\n", p.spec.Name, failed, err)
			p.signal(syscall.SIGKILL)
		}
	}
}

func (s *Supervisor) changed() {
	if s.onChange != nil {
		s.onChange()
	}
}

// Infos describes every process, in start order.
func (s *Supervisor) Infos() []Info {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Info, 0, len(s.procs))
	for _, p := range s.procs {
		p.mu.Lock()
		out = append(out, Info{Name: p.spec.Name, Kind: p.spec.Kind, Port: p.spec.Port, PID: p.pid, Starts: p.runs})
		p.mu.Unlock()
	}
	return out
}

// Kill sends SIGKILL to the named process's group, as a crash would; the
// supervisor starts it again after its restart delay.
func (s *Supervisor) Kill(name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range s.procs {
		if p.spec.Name == name {
			p.signal(syscall.SIGKILL)
			return nil
		}
	}
	return fmt.Errorf("no process %q", name)
}

// Stop stops restarting, then ends the processes in the reverse order of
// their start, each with its stop signal and up to 30 seconds before a
// SIGKILL, and waits for them.
func (s *Supervisor) Stop() {
	s.mu.Lock()
	if s.stopping {
		s.mu.Unlock()
		return
	}
	s.stopping = true
	procs := append([]*Proc(nil), s.procs...)
	s.mu.Unlock()
	s.cancel()
	s.wg.Wait()
	for i := len(procs) - 1; i >= 0; i-- {
		p := procs[i]
		sig := p.spec.StopSignal
		if sig == 0 {
			sig = syscall.SIGTERM
		}
		p.mu.Lock()
		done := p.done
		p.mu.Unlock()
		p.signal(sig)
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			p.signal(syscall.SIGKILL)
			<-done
		}
	}
	s.changed()
}

// errStopped is returned by a readiness wait of a stopping cluster.
var errStopped = errors.New("cluster: stopping")

// runOnce runs a one-shot command (creation steps, migrations) and
// returns its output with any error.
func runOnce(ctx context.Context, cmd *exec.Cmd) error {
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		return errStopped
	}
	if err != nil {
		return fmt.Errorf("%s: %w\n%s", cmd.Args[0], err, tail(out, 30))
	}
	return nil
}

// tail returns the last n lines of b.
func tail(b []byte, n int) []byte {
	lines := 0
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] == '\n' {
			if lines++; lines > n {
				return b[i+1:]
			}
		}
	}
	return b
}

// logFile opens (appending) the log of a process.
func logFile(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
}
