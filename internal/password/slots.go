package password

import (
	"bufio"
	"math"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
)

// slotMemory is what one hash holds: Argon2id's 19 MiB plus a little.
const slotMemory = 20 << 20

// AutoSlots sizes the hashing bound from the machine: one slot per CPU the
// process may use (a hash keeps one CPU busy, so more at once only queue
// inside the scheduler), and no more than a quarter of the memory the
// process may use can be held by hashes. It is at least 1.
func AutoSlots() int {
	byMemory := int(memoryLimit() / 4 / slotMemory)
	return max(1, min(runtime.GOMAXPROCS(0), byMemory))
}

// memoryLimit is the memory this process may use: GOMEMLIMIT when set,
// else the cgroup's limit (v2, then v1), else the machine's total; 1 GiB
// when none can be read.
func memoryLimit() int64 {
	if l := debug.SetMemoryLimit(-1); l > 0 && l < math.MaxInt64 {
		return l
	}
	for _, f := range []string{"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"} {
		if b, err := os.ReadFile(f); err == nil {
			if n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64); err == nil && n > 0 && n < 1<<50 {
				return n
			}
		}
	}
	if f, err := os.Open("/proc/meminfo"); err == nil {
		defer f.Close()
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if rest, ok := strings.CutPrefix(sc.Text(), "MemTotal:"); ok {
				if kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64); err == nil {
					return kb << 10
				}
			}
		}
	}
	return 1 << 30
}
