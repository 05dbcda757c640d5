// Package procstat reads what benchmarked processes cost: CPU time from
// /proc and CPU profiles from a process's pprof endpoint.
package procstat

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// Profile saves a CPU profile of the process serving pprofURL (a
// PAYLINK_DEBUG_ADDR), taken over most of d.
func Profile(ctx context.Context, pprofURL string, d time.Duration, path string) error {
	secs := max(int(d.Seconds())-1, 1)
	req, err := http.NewRequestWithContext(ctx, "GET", fmt.Sprintf("%s/debug/pprof/profile?seconds=%d", strings.TrimRight(pprofURL, "/"), secs), nil)
	if err != nil {
		return err
	}
	res, err := (&http.Client{Timeout: d + 30*time.Second}).Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("profile: %s", res.Status)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, res.Body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// Proc is a process whose CPU time the benchmark reports.
type Proc struct {
	Name     string
	PID      int
	Children bool // with its children
}

// Parse reads "api=123,postgres=456+" (+: with its children). The
// benchmark's own process is added as "bench" when any is named.
func Parse(spec string) ([]Proc, error) {
	var out []Proc
	for _, part := range strings.Split(spec, ",") {
		if part = strings.TrimSpace(part); part == "" {
			continue
		}
		name, pid, ok := strings.Cut(part, "=")
		p := Proc{Name: name, Children: strings.HasSuffix(pid, "+")}
		n, err := strconv.Atoi(strings.TrimSuffix(pid, "+"))
		if !ok || err != nil || n <= 0 {
			return nil, fmt.Errorf("-cpu: %q is not name=pid", part)
		}
		p.PID = n
		out = append(out, p)
	}
	if len(out) > 0 {
		out = append(out, Proc{Name: "bench", PID: os.Getpid()})
	}
	return out, nil
}

// Times returns the user+system CPU time so far of each process (and
// its children, for pid+: the live ones, and those that exited, which
// the process reaped), from /proc.
func Times(procs []Proc, clkTck int) map[string]time.Duration {
	out := map[string]time.Duration{}
	if len(procs) == 0 {
		return out
	}
	stats := map[int][3]int64{} // pid → (ppid, ticks, ticks of reaped children)
	dirs, _ := os.ReadDir("/proc")
	for _, d := range dirs {
		pid, err := strconv.Atoi(d.Name())
		if err != nil {
			continue
		}
		raw, err := os.ReadFile("/proc/" + d.Name() + "/stat")
		if err != nil {
			continue
		}
		// Fields after the command (which may hold spaces): state ppid … utime(14) stime(15).
		f := strings.Fields(string(raw[strings.LastIndexByte(string(raw), ')')+1:]))
		if len(f) < 15 {
			continue
		}
		ppid, _ := strconv.ParseInt(f[1], 10, 64)
		ut, _ := strconv.ParseInt(f[11], 10, 64)
		st, _ := strconv.ParseInt(f[12], 10, 64)
		cut, _ := strconv.ParseInt(f[13], 10, 64)
		cst, _ := strconv.ParseInt(f[14], 10, 64)
		stats[pid] = [3]int64{ppid, ut + st, cut + cst}
	}
	for _, p := range procs {
		ticks := stats[p.PID][1]
		if p.Children {
			ticks += stats[p.PID][2]
			for _, s := range stats {
				if s[0] == int64(p.PID) {
					ticks += s[1]
				}
			}
		}
		out[p.Name] = time.Duration(ticks) * time.Second / time.Duration(clkTck)
	}
	return out
}

// Line describes the CPU time each process spent between before and
// after per unit of work (n units), the total, and what the machine's
// cores could therefore do at most per second.
func Line(procs []Proc, before, after map[string]time.Duration, n int, unit, units string) string {
	if len(procs) == 0 || n == 0 {
		return ""
	}
	var parts []string
	var total time.Duration
	for _, p := range procs {
		d := after[p.Name] - before[p.Name]
		total += d
		parts = append(parts, fmt.Sprintf("%s %.3f", p.Name, ms(d)/float64(n)))
	}
	per := ms(total) / float64(n)
	return fmt.Sprintf("  CPU per %s (ms): %s; total %.3f ms, so %d cores could do at most %.0f %s/s\n",
		unit, strings.Join(parts, ", "), per, runtime.NumCPU(), float64(runtime.NumCPU())*1000/per, units)
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
